//! The watchdog: names an app whose code has run on a scheduler thread for longer than a limit without yielding
//! (blocking `std` I/O, `std::thread::sleep`, a contended `std::sync` lock or a busy loop), since that stalls every
//! other green thread on that scheduler thread.
//!
//! Each OS thread has an activity record: set when the host calls into app code ([`run_app`]), cleared while app
//! code waits in a host call ([`Blocking`]), since the green thread is parked then, not running.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::apps::AppState;
use crate::timer::coarse_now_ms as now_ms;

/// What one OS thread is doing.
struct Activity {
    /// The app whose code runs, when `since_ms` is not 0.
    app: AtomicPtr<AppState>,
    /// When it started running (ms on the coarse clock, [`crate::timer::coarse_now_ms`]), or 0 when no app code runs.
    since_ms: AtomicU64,
    /// The `since_ms` already reported, so an episode is reported once.
    reported: AtomicU64,
}

fn registry() -> &'static Mutex<Vec<Arc<Activity>>> {
    static REGISTRY: OnceLock<Mutex<Vec<Arc<Activity>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Vec::new()))
}

thread_local! {
    static ACTIVITY: Arc<Activity> = {
        let activity = Arc::new(Activity {
            app: AtomicPtr::new(std::ptr::null_mut()),
            since_ms: AtomicU64::new(0),
            reported: AtomicU64::new(0),
        });
        registry().lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&activity));
        activity
    };
}

#[inline(never)] // reads a thread-local after the caller may have moved threads (see `green`)
fn enter(app: &'static AppState) {
    ACTIVITY.with(|activity| {
        activity.app.store(std::ptr::from_ref(app).cast_mut(), Ordering::Relaxed);
        activity.since_ms.store(now_ms(), Ordering::Release);
    });
}

#[inline(never)] // as `enter`
fn leave() {
    ACTIVITY.with(|activity| activity.since_ms.store(0, Ordering::Release));
}

/// Runs `f`, which calls into `app`'s code, with the watchdog watching.
pub fn run_app<R>(app: &'static AppState, f: impl FnOnce() -> R) -> R {
    enter(app);
    let result = f();
    leave();
    result
}

/// Marks app code as waiting in a host call (so not running) until dropped; it may resume on another thread.
pub struct Blocking(&'static AppState);

impl Blocking {
    /// App code of `app` enters a blocking host call.
    pub fn new(app: &'static AppState) -> Blocking {
        leave();
        Blocking(app)
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        enter(self.0);
    }
}

/// Starts the watchdog thread; `limit` zero disables it.
pub fn start(limit: Duration) {
    if limit.is_zero() {
        return;
    }
    let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    let tick = (limit / 4).max(Duration::from_millis(5));
    let spawned = std::thread::Builder::new().name("tatsu-watchdog".to_owned()).spawn(move || loop {
        std::thread::sleep(tick);
        let now = now_ms();
        for activity in registry().lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let since = activity.since_ms.load(Ordering::Acquire);
            if since == 0 || now.saturating_sub(since) < limit_ms || activity.reported.load(Ordering::Relaxed) == since
            {
                continue;
            }
            activity.reported.store(since, Ordering::Relaxed);
            let app = activity.app.load(Ordering::Relaxed);
            // SAFETY: app states are leaked at creation and live for the whole process.
            let name = unsafe { app.as_ref() }.map_or("?", |state| &*state.name);
            log::warn!(
                target: "tatsu::watchdog",
                "app `{name}` has run for {} ms without yielding, stalling a scheduler thread: a green thread of it is \
                 blocking (std I/O, std::thread::sleep, a std::sync lock) or spinning; use tatsu_plugin_api::green",
                now - since
            );
        }
    });
    if let Err(e) = spawned {
        log::error!(target: "tatsu::watchdog", "cannot start the watchdog: {e}");
    }
}
