//! The host side of green threads: every coroutine an app runs on belongs to the app's [`ThreadGroup`], and every
//! blocking service call parks through [`park`], so that stopping the group reaches each thread at its next yield
//! point. Coroutines are never cancelled: may's cancel would unwind through the app's `extern "C"` frames.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;
use may::io::{WaitIo, WaitIoWaker};
use tatsu_plugin_api::abi::WaitStatus;

use crate::timer;

// Functions here that read thread- or coroutine-local state are never inlined: a green thread may resume on
// another OS thread after parking, and a caller that inlined them could reuse a thread-local address computed
// before the park (the compiler assumes it cannot change within a function).
may::coroutine_local!(static CURRENT: RefCell<Option<Arc<GreenSlot>>> = RefCell::new(None));

/// One green thread of an app.
pub struct GreenSlot {
    id: u64,
    label: String,
    group: Arc<ThreadGroup>,
    coroutine: OnceLock<Coroutine>,
    stop_requested: AtomicBool,
    interrupted: AtomicBool,
    finished: AtomicBool,
    /// Set while the thread waits for socket I/O, so that a stop or an interrupt reaches it there too.
    io_waker: Mutex<Option<WaitIoWaker>>,
}

impl GreenSlot {
    /// Whether a blocking call on this thread must return [`WaitStatus::Stopping`].
    pub fn must_stop(&self) -> bool {
        self.stop_requested.load(Ordering::Acquire) || self.group.stopping.load(Ordering::Acquire)
    }

    /// Wakes the thread if parked; otherwise its next park returns at once.
    pub fn unpark(&self) {
        if let Some(coroutine) = self.coroutine.get() {
            coroutine.unpark();
        }
    }

    /// Wakes the thread wherever it waits: parked, or waiting for socket I/O.
    fn wake(&self) {
        self.unpark();
        if let Some(waker) = self.io_waker.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            waker.wakeup();
        }
    }

    /// Interrupts the thread once: its current or next blocking call returns [`WaitStatus::Interrupted`].
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Release);
        self.wake();
    }

    /// Takes a pending interruption, if any.
    fn take_interrupt(&self) -> bool {
        self.interrupted.swap(false, Ordering::AcqRel)
    }

    /// Asks this one thread to stop.
    pub fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::Release);
        self.wake();
    }

    /// Whether the thread's body has returned.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

/// All green threads of one app (oslo.service's ThreadGroup).
pub struct ThreadGroup {
    app: String,
    stopping: AtomicBool,
    next_id: AtomicU64,
    threads: Mutex<HashMap<u64, Arc<GreenSlot>>>,
}

impl ThreadGroup {
    /// An empty group for `app`.
    pub fn new(app: &str) -> Arc<Self> {
        Arc::new(ThreadGroup {
            app: app.to_owned(),
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            threads: Mutex::new(HashMap::new()),
        })
    }

    fn threads(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<GreenSlot>>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the group is being stopped.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Starts `body` on a new coroutine in this group. Refused once the group is stopping.
    pub fn spawn<F>(self: &Arc<Self>, label: impl Into<String>, body: F) -> io::Result<Arc<GreenSlot>>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.is_stopping() {
            return Err(io::Error::other(format!("app `{}` is stopping", self.app)));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(GreenSlot {
            id,
            label: label.into(),
            group: Arc::clone(self),
            coroutine: OnceLock::new(),
            stop_requested: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            io_waker: Mutex::new(None),
        });
        self.threads().insert(id, Arc::clone(&slot));
        let inner = Arc::clone(&slot);
        let run = move || {
            let _ = inner.coroutine.get_or_init(may::coroutine::current);
            CURRENT.with(|current| *current.borrow_mut() = Some(Arc::clone(&inner)));
            body();
            CURRENT.with(|current| current.borrow_mut().take());
            inner.finished.store(true, Ordering::Release);
            inner.group.threads().remove(&inner.id);
            timer::release_later(may::coroutine::current());
        };
        // SAFETY: the coroutine body never uses thread-local storage across yields (only may's coroutine-local
        // storage), and it is never cancelled.
        let spawned = unsafe { may::coroutine::Builder::new().spawn(run) };
        match spawned {
            Ok(handle) => {
                let _ = slot.coroutine.get_or_init(|| handle.coroutine().clone());
                Ok(slot)
            }
            Err(e) => {
                self.threads().remove(&id);
                Err(e)
            }
        }
    }

    /// Stops every thread of the group at its next yield point and waits for them until `deadline`; returns the
    /// labels of the threads still running then.
    pub fn stop(&self, deadline: Instant) -> Vec<String> {
        self.stopping.store(true, Ordering::Release);
        let slots: Vec<Arc<GreenSlot>> = self.threads().values().cloned().collect();
        for slot in &slots {
            slot.wake();
        }
        loop {
            let remaining: Vec<String> =
                self.threads().values().map(|slot| format!("{} #{}", slot.label, slot.id)).collect();
            if remaining.is_empty() || Instant::now() >= deadline {
                return remaining;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The green thread the caller runs on, if it is one of an app's.
#[inline(never)]
pub fn current() -> Option<Arc<GreenSlot>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Parks the calling green thread until unparked, `timeout` or a stop; see [`WaitStatus`].
#[inline(never)]
pub fn park(timeout: Option<Duration>) -> WaitStatus {
    let slot = current();
    if let Some(status) = slot.as_deref().and_then(interruption) {
        return status;
    }
    let started = Instant::now();
    match timeout {
        Some(timeout) if may::coroutine::is_coroutine() => {
            let key = timer::wake_at(started + timeout, may::coroutine::current());
            may::coroutine::park();
            timer::cancel(key);
        }
        Some(timeout) => std::thread::park_timeout(timeout),
        None => may::coroutine::park(),
    }
    if let Some(status) = slot.as_deref().and_then(interruption) {
        status
    } else if timeout.is_some_and(|timeout| started.elapsed() >= timeout) {
        WaitStatus::TimedOut
    } else {
        WaitStatus::Woken
    }
}

/// Why a blocking call must return early, if it must.
pub fn interruption(slot: &GreenSlot) -> Option<WaitStatus> {
    if slot.must_stop() {
        Some(WaitStatus::Stopping)
    } else if slot.take_interrupt() {
        Some(WaitStatus::Interrupted)
    } else {
        None
    }
}

/// Waits until `io` may be ready (read or write), `deadline` or a stop/interrupt; the caller retries its
/// non-blocking operation after [`WaitStatus::Woken`].
#[inline(never)]
pub fn wait_io<T: WaitIo>(io: &T, deadline: Option<Instant>) -> WaitStatus {
    let slot = current();
    if let Some(slot) = &slot {
        *slot.io_waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(io.waker());
    }
    // Checked after registering the waker, so a stop that comes in between still wakes the wait below.
    let early = slot.as_deref().and_then(interruption);
    let status = match early {
        Some(status) => status,
        None if deadline.is_some_and(|deadline| Instant::now() >= deadline) => WaitStatus::TimedOut,
        None => {
            let key = deadline.map(|deadline| timer::wake_io_at(deadline, io.waker()));
            io.wait_io();
            if let Some(key) = key {
                timer::cancel(key);
            }
            match slot.as_deref().and_then(interruption) {
                Some(status) => status,
                None if deadline.is_some_and(|deadline| Instant::now() >= deadline) => WaitStatus::TimedOut,
                None => WaitStatus::Woken,
            }
        }
    };
    if let Some(slot) = &slot {
        *slot.io_waker.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
    status
}

/// Sleeps the calling green thread for `duration`, returning early only to stop or when interrupted.
#[inline(never)]
pub fn sleep(duration: Duration) -> WaitStatus {
    let deadline = Instant::now() + duration;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return WaitStatus::Woken;
        }
        match park(Some(remaining)) {
            WaitStatus::Woken | WaitStatus::TimedOut => {}
            early => return early,
        }
    }
}
