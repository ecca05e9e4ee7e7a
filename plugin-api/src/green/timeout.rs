//! [`Timeout`]: a time limit around a block of work on the calling green thread (eventlet's `Timeout`).
//!
//! How it works: [`Timeout::run`] starts a helper green thread that sleeps for the duration and then interrupts the
//! working thread through the host (`thread_interrupt`). The working thread's current or next blocking call then
//! unwinds with the interrupt payload, which `run` catches — but only its own: each running timeout is recorded,
//! per green thread, in a stack, and an inner timeout lets the unwind pass on when an enclosing one has fired too.
//! When the work finishes first, the helper is stopped, and an interruption that raced with the end of the work is
//! absorbed so that it cannot hit a later, unrelated blocking call.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self as std_panic, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::thread::{self, GreenThread, JoinHandle};
use super::waiters::lock;
use crate::panic::{self, Interrupted};

/// What [`Timeout::run`] returns when the time limit expired before the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut {
    after: Duration,
}

impl TimedOut {
    /// The time limit that expired.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.after)
    }
}

impl std::error::Error for TimedOut {}

/// A time limit around a block of work (eventlet's `Timeout` used as a context manager).
///
/// ```no_run
/// use std::time::Duration;
/// use tatsu_plugin_api::green::{Queue, Timeout};
///
/// let jobs: Queue<u32> = Queue::unbounded();
/// match Timeout::run(Duration::from_secs(2), || jobs.get()) {
///     Ok(job) => log::info!("got job {job}"),
///     Err(e) => log::warn!("no job: {e}"),
/// }
/// ```
///
/// The limit is enforced at blocking calls only: when it expires, the work's current blocking call (a sleep, a
/// queue or event wait, a join, a request...) or its next one unwinds back to [`Timeout::run`], running the
/// destructors on the way. Work that never blocks cannot be interrupted: it runs to its end, and `run` returns its
/// value. Timeouts nest: an inner one never swallows the expiry of an enclosing one. A thread asked to stop (its
/// app is stopping) still stops: that unwind passes through `run`.
#[derive(Debug)]
pub struct Timeout {
    _private: (),
}

/// One running timeout: whether its helper fired, whether its work is over (after which it must not fire).
#[derive(Default)]
struct Shot {
    state: Mutex<ShotState>,
}

#[derive(Default)]
struct ShotState {
    fired: bool,
    done: bool,
}

impl Shot {
    /// Called by the helper when the time is up: interrupts `target` unless the work is over.
    fn fire(&self, target: &GreenThread) {
        let mut state = lock(&self.state);
        if !state.done {
            state.fired = true;
            target.interrupt();
        }
    }

    /// Marks the work over; returns whether the helper fired.
    fn finish(&self) -> bool {
        let mut state = lock(&self.state);
        state.done = true;
        state.fired
    }

    fn fired(&self) -> bool {
        lock(&self.state).fired
    }
}

type Stacks = BTreeMap<usize, Vec<Arc<Shot>>>;

/// The running timeouts of each green thread (keyed by [`GreenThread::key`]), outermost first.
static RUNNING: Mutex<Stacks> = Mutex::new(BTreeMap::new());

/// A timeout's place in its thread's stack and its helper, undone when `run` returns or unwinds.
struct Scope {
    thread: GreenThread,
    shot: Arc<Shot>,
    helper: JoinHandle<()>,
}

impl Scope {
    fn enter(thread: GreenThread, shot: Arc<Shot>, helper: JoinHandle<()>) -> Self {
        lock(&RUNNING).entry(thread.key()).or_default().push(Arc::clone(&shot));
        Scope { thread, shot, helper }
    }

    /// Whether a timeout enclosing this one has fired.
    fn outer_fired(&self) -> bool {
        let running = lock(&RUNNING);
        let Some(stack) = running.get(&self.thread.key()) else { return false };
        stack.iter().take_while(|shot| !Arc::ptr_eq(shot, &self.shot)).any(|shot| shot.fired())
    }

    /// After this timeout fired: takes the thread's pending interruption, if the work has not already unwound with
    /// it, then re-arms it if an enclosing timeout has fired too (interruptions do not queue up: one pending flag
    /// serves all), so that the enclosing one still gets its unwind.
    fn absorb_interruption(&self) {
        let drained = std_panic::catch_unwind(super::yield_now);
        if let Err(payload) = drained {
            if !payload.is::<Interrupted>() {
                // The thread must stop: that unwind goes on.
                std_panic::resume_unwind(payload);
            }
        }
        if self.outer_fired() {
            self.thread.interrupt();
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let _ = self.shot.finish();
        self.helper.stop();
        let mut running = lock(&RUNNING);
        let key = self.thread.key();
        if let Some(stack) = running.get_mut(&key) {
            stack.retain(|shot| !Arc::ptr_eq(shot, &self.shot));
            if stack.is_empty() {
                running.remove(&key);
            }
        }
    }
}

impl Timeout {
    /// Runs `work` on the calling green thread with a time limit of `duration`: its value, or [`TimedOut`] if the
    /// limit expired while (or before) the work was blocked.
    ///
    /// Panics in `work` and stop requests pass through unchanged. Outside a green thread (never the case for app
    /// code run by the host) the work runs without a limit.
    pub fn run<T>(duration: Duration, work: impl FnOnce() -> T) -> Result<T, TimedOut> {
        let me = thread::current();
        if me.key() == 0 {
            return Ok(work());
        }
        let shot = Arc::new(Shot::default());
        let helper = {
            let shot = Arc::clone(&shot);
            let target = me.clone();
            thread::spawn_after(duration, move || shot.fire(&target))
        };
        let scope = Scope::enter(me, Arc::clone(&shot), helper);
        let outcome = std_panic::catch_unwind(AssertUnwindSafe(work));
        let fired = shot.finish();
        if fired {
            // A panic's recorded message lives in the OS thread, and absorbing yields: carry it over.
            let recorded = if outcome.is_err() { panic::take_recorded() } else { None };
            scope.absorb_interruption();
            panic::restore_recorded(recorded);
        }
        match outcome {
            Ok(value) => Ok(value),
            Err(payload) if payload.is::<Interrupted>() && fired && !scope.outer_fired() => {
                Err(TimedOut { after: duration })
            }
            Err(payload) => {
                drop(scope);
                resume(payload)
            }
        }
    }
}

fn resume(payload: Box<dyn Any + Send>) -> ! {
    std_panic::resume_unwind(payload)
}
