//! [`Semaphore`]: a counter of permits that green threads wait for (eventlet's `semaphore.Semaphore`).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::waiters::{deadline_after, lock, wait_in_line, WaitList};

struct State {
    permits: usize,
    waiters: WaitList,
}

impl State {
    /// Takes a permit if the waiter at `place` in line may (the first `permits` in line each may take one).
    fn try_take(&mut self, place: usize) -> bool {
        if place < self.permits {
            self.permits -= 1;
            true
        } else {
            false
        }
    }
}

fn waiters(state: &mut State) -> &mut WaitList {
    &mut state.waiters
}

/// A waiter left the line: the one now at the last entitled place may take a permit.
fn waiter_left(state: &mut State, place: usize) {
    if place < state.permits {
        state.waiters.wake(state.permits - 1);
    }
}

/// A counting semaphore for green threads: at most `n` holders at a time.
///
/// [`Semaphore::acquire`] waits for a permit and returns a guard that gives it back when dropped. Waiting threads
/// get permits first come, first served. The handle is cheap to clone (an `Arc` inside) and the guard owns a
/// clone, so a guard can move into another green thread.
#[derive(Clone)]
pub struct Semaphore {
    inner: Arc<Mutex<State>>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner);
        f.debug_struct("Semaphore").field("available", &state.permits).field("waiting", &state.waiters.len()).finish()
    }
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore { inner: Arc::new(Mutex::new(State { permits, waiters: WaitList::new() })) }
    }

    /// Waits for a permit; it is given back when the guard drops.
    pub fn acquire(&self) -> SemaphoreGuard {
        loop {
            if let Some(guard) = self.acquire_until(None) {
                return guard;
            }
        }
    }

    /// Waits at most `timeout` for a permit; `None` if none came in time.
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard> {
        self.acquire_until(deadline_after(timeout))
    }

    /// Takes a permit if one is free now and no earlier thread waits for it.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        let mut state = lock(&self.inner);
        let place = state.waiters.len();
        state.try_take(place).then(|| self.guard())
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> Option<SemaphoreGuard> {
        wait_in_line(&self.inner, waiters, deadline, |state, place| state.try_take(place).then_some(()), waiter_left)
            .map(|()| self.guard())
    }

    fn guard(&self) -> SemaphoreGuard {
        SemaphoreGuard { semaphore: self.clone() }
    }

    /// How many permits are free now (eventlet's `balance`, when positive).
    pub fn available(&self) -> usize {
        lock(&self.inner).permits
    }

    /// How many green threads wait for a permit.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    /// Adds `count` permits for good (raising the bound), waking the waiters they entitle.
    pub fn add_permits(&self, count: usize) {
        let mut state = lock(&self.inner);
        let before = state.permits;
        state.permits = state.permits.saturating_add(count);
        for place in before..state.permits.min(state.waiters.len()) {
            state.waiters.wake(place);
        }
    }

    fn release(&self) {
        let mut state = lock(&self.inner);
        state.permits = state.permits.saturating_add(1);
        // The waiter this permit entitles.
        state.waiters.wake(state.permits - 1);
    }
}

/// A permit from a [`Semaphore`]; dropping it gives the permit back.
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard {
    semaphore: Semaphore,
}

impl SemaphoreGuard {
    /// The semaphore this permit came from.
    pub fn semaphore(&self) -> &Semaphore {
        &self.semaphore
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for SemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}
