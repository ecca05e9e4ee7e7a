//! The watchdog: names an app whose code has run on a scheduler thread for longer than a limit without yielding
//! (blocking `std` I/O, `std::thread::sleep`, a contended `std::sync` lock or a busy loop), since that stalls every
//! other green thread on that scheduler thread.
//!
//! Each OS thread has an activity record: set when the host calls into app code ([`run_app`]), cleared while app
//! code waits in a host call ([`Blocking`]), since the green thread is parked then, not running. The record is a
//! thread-local, and the list of records a process-wide static: app code runs on whichever scheduler thread may
//! picks, so only the thread itself can say which app runs on it, and a thread-local's initialiser has no handle to
//! register with. Records name apps by a number; the [`Watchdog`] value maps numbers to names while apps run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::timer::coarse_now_ms as now_ms;

struct Activity {
    /// The running app's number ([`Watched::id`]).
    app: AtomicU64,
    since_ms: AtomicU64,
    reported: AtomicU64,
}

/// Every OS thread's activity record.
static REGISTRY: Mutex<Vec<Arc<Activity>>> = Mutex::new(Vec::new());

thread_local! {
    static ACTIVITY: Arc<Activity> = {
        let activity =
            Arc::new(Activity { app: AtomicU64::new(0), since_ms: AtomicU64::new(0), reported: AtomicU64::new(0) });
        REGISTRY.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&activity));
        activity
    };
}

#[inline(never)] // reads a thread-local after the caller may have moved threads (see `green`)
fn enter(app: u64) {
    ACTIVITY.with(|activity| {
        activity.app.store(app, Ordering::Relaxed);
        activity.since_ms.store(now_ms(), Ordering::Release);
    });
}

#[inline(never)] // as `enter`
fn leave() {
    ACTIVITY.with(|activity| activity.since_ms.store(0, Ordering::Release));
}

/// The watchdog: the names of the apps it watches, and (if enabled) the thread that looks.
#[derive(Default)]
pub struct Watchdog {
    names: Mutex<HashMap<u64, Arc<str>>>,
    next_id: AtomicU64,
}

/// One watched app; it stops being watched when this is dropped.
pub struct Watched {
    id: u64,
    watchdog: Arc<Watchdog>,
}

impl Watchdog {
    /// Starts the watchdog thread; `limit` zero watches nothing.
    pub fn start(limit: Duration) -> Arc<Watchdog> {
        let watchdog = Arc::new(Watchdog::default());
        if limit.is_zero() {
            return watchdog;
        }
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        let tick = (limit / 4).max(Duration::from_millis(5));
        let looking = Arc::downgrade(&watchdog);
        let spawned = std::thread::Builder::new().name("tatsu-watchdog".to_owned()).spawn(move || loop {
            std::thread::sleep(tick);
            let Some(watchdog) = looking.upgrade() else { return };
            watchdog.look(limit_ms);
        });
        if let Err(e) = spawned {
            log::error!(target: "tatsu::watchdog", "cannot start the watchdog: {e}");
        }
        watchdog
    }

    fn look(&self, limit_ms: u64) {
        let now = now_ms();
        for activity in REGISTRY.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let since = activity.since_ms.load(Ordering::Acquire);
            if since == 0 || now.saturating_sub(since) < limit_ms || activity.reported.load(Ordering::Relaxed) == since
            {
                continue;
            }
            activity.reported.store(since, Ordering::Relaxed);
            let id = activity.app.load(Ordering::Relaxed);
            let name = self.names.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
            let Some(name) = name else { continue };
            log::warn!(
                target: "tatsu::watchdog",
                "app `{name}` has run for {} ms without yielding, stalling a scheduler thread: a green thread of it is \
                 blocking (std I/O, std::thread::sleep, a std::sync lock) or spinning; use tatsu_plugin_api::green",
                now - since
            );
        }
    }

    /// Watches app `name` until the returned value is dropped.
    pub fn watch(self: &Arc<Self>, name: &Arc<str>) -> Watched {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.names.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::clone(name));
        Watched { id, watchdog: Arc::clone(self) }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.watchdog.names.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
    }
}

impl Watched {
    /// Runs app code (`f`) under the watchdog.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        enter(self.id);
        let result = f();
        leave();
        result
    }

    /// Marks the calling app code as waiting in a host call until the guard is dropped.
    pub fn blocking(&self) -> Blocking {
        leave();
        Blocking(self.id)
    }
}

/// App code waiting in a host call: not running, so not stalling its thread.
pub struct Blocking(u64);

impl Drop for Blocking {
    fn drop(&mut self) {
        enter(self.0);
    }
}
