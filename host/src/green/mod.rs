//! The host side of green threads: every green thread an app runs belongs to the app's [`ThreadGroup`], and every
//! blocking service call parks through [`park`], so that stopping the group reaches each thread at its next yield
//! point. Coroutines are never cancelled: may's cancel would unwind through the app's `extern "C"` frames.
//!
//! Green threads run on reused coroutines ([`runner`]), and a coroutine about to wait for long gives back the stack
//! pages it does not use ([`stack`]). A green thread waiting for a reply waits on a [`oneshot::Oneshot`].

pub mod oneshot;
mod runner;
mod stack;
pub mod turns;

pub use runner::Runners;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;
use may::io::{WaitIo, WaitIoWaker};
use tatsu_abi::WaitStatus;

use crate::timer;
use stack::StackState;

/// A wait at least this long (or with no deadline) is a long one: the waiting coroutine first gives back its unused
/// stack pages (at most once a second, see [`stack`]).
const LONG_WAIT: Duration = Duration::from_secs(1);

/// What the host keeps per coroutine.
struct Local {
    /// The green thread running on this coroutine, if it runs one of an app's (or the host's web server's).
    slot: RefCell<Option<Arc<GreenSlot>>>,
    stack: StackState,
}

// Functions here that read thread- or coroutine-local state are never inlined: a green thread may resume on
// another OS thread after parking, and a caller that inlined them could reuse a thread-local address computed
// before the park (the compiler assumes it cannot change within a function).
may::coroutine_local!(static LOCAL: Local = Local { slot: RefCell::new(None), stack: StackState::new() });

/// Gives back the calling coroutine's unused stack pages, if it is one the host started (at most once a second): call
/// it before a wait that may be long and does not go through [`park`] or [`wait_io`] (which call it themselves).
#[inline(never)]
pub fn release_unused_stack() {
    LOCAL.with(|local| local.stack.release_unused());
}

/// Held by a coroutine the host started, for its whole run (dropped last, also when it unwinds): its stack may be
/// trimmed while it waits and is made whole again at the end, and its handle goes to the timer thread to be released
/// later (see [`timer::release_later`]). It also gives the coroutine its [`Local`] without a lookup.
struct HostCoroutine {
    local: NonNull<Local>,
}

/// The stack size, in bytes, of a coroutine spawned without one of its own (may's configured size).
fn default_stack_bytes() -> usize {
    may::config().get_stack_size().saturating_mul(std::mem::size_of::<usize>())
}

impl HostCoroutine {
    /// Called first thing in a coroutine whose stack is `stack_bytes` long.
    #[inline(never)]
    fn enter(stack_bytes: usize) -> HostCoroutine {
        let local = LOCAL.with(|local| {
            local.stack.enter(stack_bytes);
            NonNull::from(local)
        });
        HostCoroutine { local }
    }

    /// This coroutine's host state.
    fn local(&self) -> &Local {
        // SAFETY: may keeps each coroutine-local value in its own heap allocation from its first use until the
        // coroutine ends, and this guard lives (and is used) only inside that coroutine.
        unsafe { self.local.as_ref() }
    }
}

impl Drop for HostCoroutine {
    #[inline(never)]
    fn drop(&mut self) {
        self.local().stack.restore();
        timer::release_later(may::coroutine::current());
    }
}

/// The stack of the host's own coroutines (switch readers and writers, listeners, the keepalive): may's configured
/// size, so that they come from may's pool of ready stacks (a successor adopting a thousand connections in a hot
/// restart maps none). Measured with may's stack usage report (debug build, debug logging; handshake, packet-ins,
/// malformed and port-status messages): a reader uses 45 KiB at most, a writer 5 KiB. Stacks are address space
/// until touched, and given back while idle ([`stack`]).
pub const HOST_STACK_BYTES: usize = 64 * 1024;

/// Starts a host-owned coroutine, not part of any app (a switch connection's reader or writer, the keepalive...),
/// on a [`HOST_STACK_BYTES`] stack. Fails, instead of panicking, when no stack can be mapped (out of memory or of
/// `vm.max_map_count`). Returns the coroutine's handle (to unpark it with).
pub fn spawn_host(name: &str, body: impl FnOnce() + Send + 'static) -> Result<Coroutine, String> {
    spawn_host_with_stack(name, default_stack_bytes(), body)
}

/// Like [`spawn_host`], on a stack of `stack_bytes` instead (mapped afresh, not from may's pool): for the few host
/// coroutines that need more than [`HOST_STACK_BYTES`], such as a TLS handshake.
pub fn spawn_host_with_stack(
    name: &str,
    stack_bytes: usize,
    body: impl FnOnce() + Send + 'static,
) -> Result<Coroutine, String> {
    let body = move || {
        let _coroutine = HostCoroutine::enter(stack_bytes);
        body();
    };
    let builder = may::coroutine::Builder::new()
        .name(format!("tatsu-{name}"))
        .stack_size(stack_bytes / std::mem::size_of::<usize>());
    // SAFETY: host coroutines use no thread-local storage across yields and are never cancelled.
    let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { builder.spawn(body) }));
    match spawned {
        Ok(Ok(handle)) => Ok(handle.coroutine().clone()),
        Ok(Err(e)) => Err(format!("cannot start the {name} green thread: {e}")),
        // generator panics when it cannot map a stack (out of memory, or of `vm.max_map_count` mappings).
        Err(_) => Err(format!("cannot start the {name} green thread: no memory for its stack")),
    }
}

/// One green thread of an app.
pub struct GreenSlot {
    id: u64,
    label: &'static str,
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

    /// Wakes the thread if parked; otherwise its next park returns at once. One exception: a wake-up that reaches a
    /// new thread before it starts running may be taken by its runner instead. Waiters never rely on a wake-up alone:
    /// they re-check their condition before parking (as after any spurious wake-up), so nothing waits forever.
    pub fn unpark(&self) {
        // A finished thread's coroutine may run another green thread by now.
        if let (Some(coroutine), false) = (self.coroutine.get(), self.is_finished()) {
            coroutine.unpark();
        }
    }

    /// Records the coroutine the thread runs on (it is known to the spawner or to the coroutine, whichever is first).
    fn bind(&self, coroutine: &Coroutine) {
        let _ = self.coroutine.get_or_init(|| coroutine.clone());
    }

    /// Marks the thread finished and takes it out of its group.
    fn finish(&self) {
        self.finished.store(true, Ordering::Release);
        self.group.threads().remove(&self.id);
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

/// A group's threads by id.
type ThreadMap = HashMap<u64, Arc<GreenSlot>, BuildHasherDefault<IdHasher>>;

/// Hashes the sequential thread ids the host hands out: a multiply spreads them over the hash's top bits, which is
/// all the table needs (SipHash's resistance to chosen keys buys nothing here).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// All green threads of one app (oslo.service's ThreadGroup).
pub struct ThreadGroup {
    app: String,
    runners: Arc<Runners>,
    stopping: AtomicBool,
    next_id: AtomicU64,
    threads: Mutex<ThreadMap>,
}

impl ThreadGroup {
    /// An empty group for `app`, whose threads run on `runners`.
    pub fn new(app: &str, runners: &Arc<Runners>) -> Arc<Self> {
        Arc::new(ThreadGroup {
            app: app.to_owned(),
            runners: Arc::clone(runners),
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            threads: Mutex::new(ThreadMap::default()),
        })
    }

    fn threads(&self) -> std::sync::MutexGuard<'_, ThreadMap> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The app (or part of the host) the group belongs to.
    pub fn name(&self) -> &str {
        &self.app
    }

    /// How many of the group's green threads are running.
    pub fn running(&self) -> usize {
        self.threads().len()
    }

    /// Whether the group is being stopped.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Starts `body` as a green thread of this group. Refused once the group is stopping.
    pub fn spawn<F>(self: &Arc<Self>, label: &'static str, body: F) -> io::Result<Arc<GreenSlot>>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.is_stopping() {
            return Err(io::Error::other(format!("app `{}` is stopping", self.app)));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(GreenSlot {
            id,
            label,
            group: Arc::clone(self),
            coroutine: OnceLock::new(),
            stop_requested: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            io_waker: Mutex::new(None),
        });
        self.threads().insert(id, Arc::clone(&slot));
        match runner::start(&self.runners, runner::Job { slot: Arc::clone(&slot), body: Box::new(body) }) {
            Ok(()) => Ok(slot),
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
            if self.threads().is_empty() {
                return Vec::new();
            }
            if Instant::now() >= deadline {
                return self.threads().values().map(|slot| format!("{} #{}", slot.label, slot.id)).collect();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The green thread the caller runs on, if it is one of an app's.
#[inline(never)]
pub fn current() -> Option<Arc<GreenSlot>> {
    LOCAL.with(|local| local.slot.borrow().clone())
}

/// The calling green thread (as [`current`]), after giving back unused stack pages if `long_wait`.
#[inline(never)]
fn current_before_wait(long_wait: bool) -> Option<Arc<GreenSlot>> {
    LOCAL.with(|local| {
        if long_wait {
            local.stack.release_unused();
        }
        local.slot.borrow().clone()
    })
}

/// Parks the calling green thread until unparked, `timeout` or a stop; see [`WaitStatus`].
#[inline(never)]
pub fn park(timeout: Option<Duration>) -> WaitStatus {
    let slot = current_before_wait(timeout.is_none_or(|timeout| timeout >= LONG_WAIT));
    if let Some(status) = slot.as_deref().and_then(interruption) {
        return status;
    }
    let deadline = match timeout {
        Some(timeout) => {
            let deadline = Instant::now().checked_add(timeout);
            match deadline {
                Some(deadline) if may::coroutine::is_coroutine() => {
                    let key = timer::wake_at(deadline, may::coroutine::current());
                    may::coroutine::park();
                    timer::cancel(key);
                }
                Some(_) => std::thread::park_timeout(timeout),
                None => may::coroutine::park(), // beyond the clock's range: no deadline
            }
            deadline
        }
        None => {
            may::coroutine::park();
            None
        }
    };
    if let Some(status) = slot.as_deref().and_then(interruption) {
        status
    } else if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
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
    let slot = current_before_wait(deadline.is_none_or(|deadline| deadline >= Instant::now() + LONG_WAIT));
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
