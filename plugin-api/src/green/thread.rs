//! Spawning and joining green threads, and timers.

use std::ffi::c_void;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RResult, RStr};

use crate::abi::{GreenTask, HostContext, HostServicesRef, ThreadHandle};
use crate::link;
use crate::panic::{self, Caught};

/// A handle on one green thread: wake it, ask it to stop, see whether it finished.
pub struct GreenThread {
    handle: ThreadHandle,
    /// The services of the host that made the handle, which release it.
    services: HostServicesRef,
}

impl GreenThread {
    /// Wakes the thread if it is parked (its next park returns at once otherwise, except perhaps for a thread that has
    /// not started running yet): waiters re-check their condition before parking.
    pub(crate) fn unpark(&self) {
        self.services.thread_unpark()(&self.handle);
    }

    /// Asks the thread to stop: its current or next blocking call unwinds it quietly.
    pub fn stop(&self) {
        self.services.thread_stop()(&self.handle);
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.services.thread_finished()(&self.handle)
    }

    /// Interrupts the thread once: its current or next blocking call unwinds with [`panic::Interrupted`] (what a
    /// `Timeout` does when it expires).
    pub(crate) fn interrupt(&self) {
        self.services.thread_interrupt()(&self.handle);
    }

    /// A number identifying the thread while any handle on it lives; 0 when the caller is not a green thread.
    pub(crate) fn key(&self) -> usize {
        self.handle.0 as usize
    }
}

impl Clone for GreenThread {
    fn clone(&self) -> Self {
        GreenThread { handle: self.services.thread_clone()(&self.handle), services: self.services }
    }
}

impl Drop for GreenThread {
    fn drop(&mut self) {
        self.services.thread_release()(&mut self.handle);
    }
}

impl fmt::Debug for GreenThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GreenThread").field(&self.handle.0).finish()
    }
}

/// The calling green thread.
pub fn current() -> GreenThread {
    let (host, app) = link::host();
    GreenThread { handle: host.current_thread()(app), services: host }
}

/// A task's closure with the host link it reports faults through.
struct Task<F> {
    host: HostContext,
    f: F,
}

unsafe extern "C" fn run_boxed<F: FnOnce() + Send + 'static>(data: *mut c_void) {
    // SAFETY: `data` is the `Box<Task<F>>` leaked by `spawn_on`; the host calls `run` or `drop` exactly once.
    let task = unsafe { Box::from_raw(data.cast::<Task<F>>()) };
    let Task { host, f } = *task;
    if let Err(Caught::Panic(message)) = panic::catch(f) {
        (host.services.report_fault())(host.app, RStr::from("green thread"), RStr::from(message.as_str()));
    }
}

unsafe extern "C" fn drop_boxed<F>(data: *mut c_void) {
    // SAFETY: as in `run_boxed`; the host calls this instead of `run`, once.
    drop(unsafe { Box::from_raw(data.cast::<Task<F>>()) });
}

/// Starts `f` on a new green thread of the app `host` links to; `None` if the host refused (the app is
/// stopping). The test kit's host runs `f` at once, on the calling thread.
pub(crate) fn spawn_on<F: FnOnce() + Send + 'static>(host: HostContext, f: F) -> Option<GreenThread> {
    let data = Box::into_raw(Box::new(Task { host, f })).cast::<c_void>();
    let task = GreenTask { data, run: run_boxed::<F>, drop: drop_boxed::<F> };
    match host.services.spawn()(host.app, task) {
        RResult::ROk(handle) => Some(GreenThread { handle, services: host.services }),
        RResult::RErr(_) => None,
    }
}

/// Starts `f` on a new green thread; `None` if the host refused (the app is stopping).
fn spawn_raw<F: FnOnce() + Send + 'static>(f: F) -> Option<GreenThread> {
    spawn_on(link::context(), f)
}

/// Starts `f` on a new green thread and forgets it (eventlet's `spawn_n`). A panic in it is logged and counted
/// against the app.
pub fn spawn_n<F: FnOnce() + Send + 'static>(f: F) {
    let _ = spawn_raw(f);
}

/// Why [`JoinHandle::join`] has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The thread panicked; the message says where.
    Panicked(String),
    /// The thread was stopped before it finished, or never started because the app was stopping.
    Stopped,
    /// [`JoinHandle::join_timeout`] gave up waiting.
    TimedOut,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(message) => write!(f, "green thread panicked: {message}"),
            JoinError::Stopped => f.write_str("green thread was stopped"),
            JoinError::TimedOut => f.write_str("timed out waiting for the green thread"),
        }
    }
}

impl std::error::Error for JoinError {}

struct JoinState<T> {
    result: Option<Result<T, JoinError>>,
    waiters: Vec<GreenThread>,
}

struct JoinSlot<T> {
    state: Mutex<JoinState<T>>,
}

impl<T> JoinSlot<T> {
    fn lock(&self) -> MutexGuard<'_, JoinState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn complete(&self, result: Result<T, JoinError>) {
        let waiters = {
            let mut state = self.lock();
            state.result = Some(result);
            std::mem::take(&mut state.waiters)
        };
        for waiter in waiters {
            waiter.unpark();
        }
    }
}

/// Completes the join slot with `Stopped` if the thread unwinds or is dropped without a result.
struct CompleteOnDrop<T> {
    slot: Arc<JoinSlot<T>>,
    completed: bool,
}

impl<T> CompleteOnDrop<T> {
    fn complete(mut self, result: Result<T, JoinError>) {
        self.completed = true;
        self.slot.complete(result);
    }
}

impl<T> Drop for CompleteOnDrop<T> {
    fn drop(&mut self) {
        if !self.completed {
            self.slot.complete(Err(JoinError::Stopped));
        }
    }
}

/// A handle on a green thread started with [`spawn`]: wait for its result, or stop it.
pub struct JoinHandle<T> {
    thread: Option<GreenThread>,
    slot: Arc<JoinSlot<T>>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread's result.
    pub fn join(self) -> Result<T, JoinError> {
        self.wait(None)
    }

    /// Waits at most `timeout` for the thread's result.
    pub fn join_timeout(self, timeout: Duration) -> Result<T, JoinError> {
        self.wait(Some(Instant::now() + timeout))
    }

    fn wait(self, deadline: Option<Instant>) -> Result<T, JoinError> {
        let mut waiting = false;
        loop {
            {
                let mut state = self.slot.lock();
                if let Some(result) = state.result.take() {
                    return result;
                }
                // Once in line, the caller stays there until `complete` wakes everyone (a wake-up before that is
                // spurious: the loop parks again).
                if !waiting {
                    state.waiters.push(super::thread::current());
                    waiting = true;
                }
            }
            let remaining = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Err(JoinError::TimedOut),
                },
                None => None,
            };
            super::park(remaining);
        }
    }

    /// Asks the thread to stop at its next blocking call.
    pub fn stop(&self) {
        if let Some(thread) = &self.thread {
            thread.stop();
        }
    }

    /// Whether the result is ready.
    pub fn is_finished(&self) -> bool {
        self.slot.lock().result.is_some()
    }

    /// The thread itself.
    pub fn thread(&self) -> Option<&GreenThread> {
        self.thread.as_ref()
    }
}

/// Starts `f` on a new green thread; the handle waits for its result or stops it (eventlet's `spawn`).
pub fn spawn<T, F>(f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(JoinSlot { state: Mutex::new(JoinState { result: None, waiters: Vec::new() }) });
    let guard = CompleteOnDrop { slot: Arc::clone(&slot), completed: false };
    let thread = spawn_raw(move || {
        let guard = guard;
        match panic::catch(f) {
            Ok(value) => guard.complete(Ok(value)),
            Err(Caught::Exit) => guard.complete(Err(JoinError::Stopped)),
            Err(Caught::Panic(message)) => {
                link::report_fault("green thread", &message);
                guard.complete(Err(JoinError::Panicked(message)));
            }
        }
    });
    JoinHandle { thread, slot }
}

/// Starts `f` on a new green thread after `delay` (eventlet's `spawn_after`); stopping the handle before the delay
/// cancels it.
pub fn spawn_after<T, F>(delay: Duration, f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    spawn(move || {
        super::sleep(delay);
        f()
    })
}

/// A repeating timer: runs a closure every `interval` on its own green thread until stopped or dropped.
pub struct Timer {
    handle: JoinHandle<()>,
}

impl Timer {
    /// Calls `tick` every `interval`, the first time after one interval. A panic in `tick` is logged and the
    /// timer goes on.
    pub fn repeat<F>(interval: Duration, mut tick: F) -> Timer
    where
        F: FnMut() + Send + 'static,
    {
        let handle = spawn(move || {
            let mut next = Instant::now() + interval;
            loop {
                super::sleep(next.saturating_duration_since(Instant::now()));
                next += interval;
                match panic::catch(&mut tick) {
                    Ok(()) => {}
                    Err(Caught::Exit) => return,
                    Err(Caught::Panic(message)) => link::report_fault("timer", &message),
                }
            }
        });
        Timer { handle }
    }

    /// Stops the timer.
    pub fn cancel(&self) {
        self.handle.stop();
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.handle.stop();
    }
}
