//! The waiting machinery shared by the green primitives: a FIFO line of parked green threads, and the wait loop.
//!
//! A primitive keeps its state and its line(s) in one `std::sync::Mutex`, held only for short critical sections,
//! never across a park. A caller's place in line decides whether it may take what is available: with `n` items (or
//! permits, or free slots) available, the first `n` threads in line are entitled to one each, and a caller not in
//! line comes after all of them. Whoever makes something available wakes the thread that just became entitled;
//! whoever leaves the line without taking (timeout, stop, interruption) wakes the one that takes its place. Wake-ups
//! may be spurious, so every waiter re-checks under the lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::thread::{current, GreenThread};

/// Locks `mutex`, ignoring poisoning (the state is kept consistent at every point a panic could occur).
pub(crate) fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When a wait with this timeout ends (`None`: never); saturates instead of overflowing.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// A FIFO line of parked green threads, each under an id unique to its wait.
#[derive(Default)]
pub(crate) struct WaitList {
    entries: VecDeque<(u64, GreenThread)>,
}

impl WaitList {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        WaitList { entries: VecDeque::new() }
    }

    /// How many threads are waiting.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The place of wait `id` in line, or the length of the line (the place a newcomer gets) if it is not in it.
    pub(crate) fn position(&self, id: u64) -> usize {
        self.entries.iter().position(|(entry, _)| *entry == id).unwrap_or(self.entries.len())
    }

    fn enroll(&mut self, id: u64, thread: &GreenThread) {
        if !self.entries.iter().any(|(entry, _)| *entry == id) {
            self.entries.push_back((id, thread.clone()));
        }
    }

    /// Removes wait `id`; returns the place it had.
    fn remove(&mut self, id: u64) -> Option<usize> {
        let position = self.entries.iter().position(|(entry, _)| *entry == id)?;
        self.entries.remove(position);
        Some(position)
    }

    /// Wakes the thread at `index` in line, if there is one.
    pub(crate) fn wake(&self, index: usize) {
        if let Some((_, thread)) = self.entries.get(index) {
            thread.unpark();
        }
    }

    /// Wakes the first `count` threads in line.
    pub(crate) fn wake_first(&self, count: usize) {
        for (_, thread) in self.entries.iter().take(count) {
            thread.unpark();
        }
    }

    /// Wakes every thread in line.
    pub(crate) fn wake_all(&self) {
        self.wake_first(self.entries.len());
    }
}

fn next_wait_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Takes the caller out of line if its wait ends without success (timeout, stop or interruption unwinding through
/// the park), and lets the primitive wake whoever takes its place.
struct LeaveGuard<'a, S> {
    mutex: &'a Mutex<S>,
    line: fn(&mut S) -> &mut WaitList,
    on_leave: fn(&mut S, usize),
    id: u64,
    armed: bool,
}

impl<S> Drop for LeaveGuard<'_, S> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = lock(self.mutex);
            if let Some(position) = (self.line)(&mut state).remove(self.id) {
                (self.on_leave)(&mut state, position);
            }
        }
    }
}

/// Parks the calling green thread in the line `line(state)` until `attempt` succeeds or `deadline` passes.
///
/// `attempt(state, place)` runs under the lock with the caller's place in line (see [`WaitList::position`]); it
/// returns `Some` once the caller may proceed, and is then responsible for waking whoever its success entitles.
/// The caller is then out of line. If the wait ends otherwise — the deadline (`None` is returned) or an unwind
/// (stop, interruption) — the caller leaves the line and `on_leave(state, place_it_had)` wakes whoever that
/// entitles. Every wake-up re-runs `attempt`: wake-ups may be spurious.
pub(crate) fn wait_in_line<S, R>(
    mutex: &Mutex<S>,
    line: fn(&mut S) -> &mut WaitList,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(&mut S, usize) -> Option<R>,
    on_leave: fn(&mut S, usize),
) -> Option<R> {
    let mut guard = LeaveGuard { mutex, line, on_leave, id: next_wait_id(), armed: false };
    let mut me: Option<GreenThread> = None;
    loop {
        let mut state = lock(mutex);
        let place = line(&mut state).position(guard.id);
        if let Some(result) = attempt(&mut state, place) {
            let _ = line(&mut state).remove(guard.id);
            guard.armed = false;
            return Some(result);
        }
        let remaining = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(remaining) if !remaining.is_zero() => Some(remaining),
                _ => None,
            },
            None => Some(Duration::MAX),
        };
        let Some(remaining) = remaining else {
            // Timed out: unlock first, then the guard takes the caller out of line (it may be in it already).
            drop(state);
            return None;
        };
        let thread = me.get_or_insert_with(current);
        line(&mut state).enroll(guard.id, thread);
        guard.armed = true;
        drop(state);
        super::park((remaining != Duration::MAX).then_some(remaining));
    }
}

/// An `on_leave` for lines where a departure entitles nobody else (every waiter wakes on the same event).
pub(crate) fn nobody<S>(_state: &mut S, _place: usize) {}
