//! Timed wake-ups for parked coroutines, on one host thread.
//!
//! may's own timed park resumes the coroutine inline on may's timer thread, and timers registered by a coroutine
//! running there can then fire seconds late (seen: a 20 ms sleep taking 2 s while another coroutine slept 2 s).
//! So every timed wait in the host is a plain `park()` plus an entry here, whose expiry unparks the coroutine
//! through the scheduler's ready queue like any other wake-up. Wake-ups may therefore be spurious: every waiter
//! re-checks its condition and its deadline.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;
use may::io::WaitIoWaker;

/// What a timer wakes.
pub enum Wake {
    /// A parked coroutine.
    Coroutine(Coroutine),
    /// A coroutine waiting for I/O on a socket.
    Io(WaitIoWaker),
}

impl Wake {
    fn wake(self) {
        match self {
            Wake::Coroutine(coroutine) => coroutine.unpark(),
            Wake::Io(waker) => waker.wakeup(),
        }
    }
}

/// Identifies a registered wake-up, to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey(Instant, u64);

struct Timers {
    pending: Mutex<BTreeMap<TimerKey, Wake>>,
    changed: Condvar,
    next_seq: AtomicU64,
    /// Handles of finished coroutines, released here rather than where they finished (see [`release_later`]).
    finished: Mutex<Vec<Coroutine>>,
}

/// How often finished coroutines' handles are released.
const RELEASE_EVERY: Duration = Duration::from_millis(100);

fn timers() -> &'static Timers {
    static TIMERS: OnceLock<&'static Timers> = OnceLock::new();
    TIMERS.get_or_init(|| {
        let timers: &'static Timers = Box::leak(Box::new(Timers {
            pending: Mutex::new(BTreeMap::new()),
            changed: Condvar::new(),
            next_seq: AtomicU64::new(0),
            finished: Mutex::new(Vec::new()),
        }));
        std::thread::Builder::new()
            .name("tatsu-timers".to_owned())
            .spawn(move || timers.run())
            .map(|_| ())
            .unwrap_or_else(
                |e| log::error!(target: "tatsu", "cannot start the timer thread: {e}; timeouts will not fire"),
            );
        timers
    })
}

impl Timers {
    fn run(&self) {
        let mut retiring: Vec<Coroutine> = Vec::new();
        let mut next_release = Instant::now() + RELEASE_EVERY;
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(pending);
                for wake in due {
                    wake.wake();
                }
                pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            if now >= next_release {
                // Handles queued since the last pass wait one more period, so that each is held for at least
                // RELEASE_EVERY after its coroutine queued it: long after the coroutine has finished.
                drop(std::mem::replace(
                    &mut retiring,
                    std::mem::take(&mut *self.finished.lock().unwrap_or_else(PoisonError::into_inner)),
                ));
                next_release = now + RELEASE_EVERY;
            }
            let wait = pending
                .keys()
                .next()
                .map_or(RELEASE_EVERY, |key| key.0.saturating_duration_since(now).min(RELEASE_EVERY));
            pending = self.changed.wait_timeout(pending, wait).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// Milliseconds on the coarse monotonic clock (at least 1). It ticks every few ms and costs a few ns where the precise
/// clock costs tens: for the watchdog's timestamps (twice per blocking host call) and for rate limits.
pub fn coarse_now_ms() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC_COARSE)
        .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    let ms = u64::try_from(now.tv_sec()).unwrap_or(0).saturating_mul(1000)
        + u64::try_from(now.tv_nsec()).unwrap_or(0) / 1_000_000;
    ms.max(1)
}

/// Keeps a handle on the calling, finishing coroutine until the timer thread releases it, at least
/// [`RELEASE_EVERY`] later.
///
/// may 0.3.51 can deadlock a scheduler thread when a coroutine's last handle is dropped as the coroutine finishes
/// inside its own park's fast wake-up (`Park::drop` spins on a flag that a frame further up the same stack holds;
/// seen with several workers). Holding one more handle until the coroutine is long gone keeps that drop off the
/// scheduler's stack. Call it as the last thing a coroutine does.
pub fn release_later(coroutine: Coroutine) {
    timers().finished.lock().unwrap_or_else(PoisonError::into_inner).push(coroutine);
}

/// Unparks `coroutine` at `deadline` (unless cancelled first).
pub fn wake_at(deadline: Instant, coroutine: Coroutine) -> TimerKey {
    schedule(deadline, Wake::Coroutine(coroutine))
}

/// Wakes the coroutine waiting for I/O with `waker` at `deadline` (unless cancelled first).
pub fn wake_io_at(deadline: Instant, waker: WaitIoWaker) -> TimerKey {
    schedule(deadline, Wake::Io(waker))
}

fn schedule(deadline: Instant, wake: Wake) -> TimerKey {
    let timers = timers();
    let key = TimerKey(deadline, timers.next_seq.fetch_add(1, Ordering::Relaxed));
    let mut pending = timers.pending.lock().unwrap_or_else(PoisonError::into_inner);
    let earliest = pending.keys().next().is_none_or(|first| key < *first);
    pending.insert(key, wake);
    drop(pending);
    if earliest {
        timers.changed.notify_one();
    }
    key
}

/// Cancels a wake-up that has not fired yet.
pub fn cancel(key: TimerKey) {
    let timers = timers();
    timers.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
}
