//! [`GreenPool`]: a bound on how many green threads run a kind of work at once (eventlet's `GreenPool`).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::thread::{self, JoinError, JoinHandle};
use super::waiters::{deadline_after, lock, nobody, wait_in_line, WaitList};

struct State {
    size: usize,
    running: usize,
    /// Threads in `spawn`/`spawn_n`, waiting for a free slot.
    spawners: WaitList,
    /// Threads in `waitall`.
    idle_waiters: WaitList,
}

impl State {
    fn free(&self) -> usize {
        self.size.saturating_sub(self.running)
    }

    /// Takes a slot if the spawner at `place` in line may (the first `free` spawners each may take one).
    fn try_take(&mut self, place: usize) -> bool {
        if place < self.free() {
            self.running += 1;
            true
        } else {
            false
        }
    }
}

fn spawners(state: &mut State) -> &mut WaitList {
    &mut state.spawners
}

fn idle_waiters(state: &mut State) -> &mut WaitList {
    &mut state.idle_waiters
}

/// A spawner left the line: the one now at the last entitled place may take a slot.
fn spawner_left(state: &mut State, place: usize) {
    let free = state.free();
    if place < free {
        state.spawners.wake(free - 1);
    }
}

/// One pool thread's slot, given back when the thread ends (returns, panics, is stopped, or never runs).
struct Slot {
    pool: Arc<Mutex<State>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = lock(&self.pool);
        state.running = state.running.saturating_sub(1);
        let free = state.free();
        if free > 0 {
            state.spawners.wake(free - 1);
        }
        if state.running == 0 {
            state.idle_waiters.wake_all();
        }
    }
}

/// A pool of at most `size` green threads running at once (eventlet's `GreenPool`).
///
/// [`GreenPool::spawn`] and [`GreenPool::spawn_n`] wait while the pool is full, so a loop that spawns into a pool is
/// throttled to its size; waiting spawners get slots first come, first served. A thread that panics is logged and
/// counted against the app like any green thread, and frees its slot. The handle is cheap to clone (an `Arc`
/// inside). Pool threads are ordinary green threads of the app: they are stopped with it.
///
/// Never call [`GreenPool::waitall`] from a thread of the same pool, nor `spawn` into a full pool from one: it
/// would wait for itself.
#[derive(Clone)]
pub struct GreenPool {
    inner: Arc<Mutex<State>>,
}

impl fmt::Debug for GreenPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner);
        f.debug_struct("GreenPool")
            .field("size", &state.size)
            .field("running", &state.running)
            .field("waiting", &state.spawners.len())
            .finish()
    }
}

impl GreenPool {
    /// A pool of at most `size` concurrent green threads (a size of 0 is taken as 1).
    pub fn new(size: usize) -> Self {
        let state = State { size: size.max(1), running: 0, spawners: WaitList::new(), idle_waiters: WaitList::new() };
        GreenPool { inner: Arc::new(Mutex::new(state)) }
    }

    /// Waits for a free slot, then runs `f` on a new green thread of the pool; the handle waits for its result or
    /// stops it.
    pub fn spawn<T, F>(&self, f: F) -> JoinHandle<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = self.take_slot();
        thread::spawn(move || {
            let _slot = slot;
            f()
        })
    }

    /// Waits for a free slot, then runs `f` on a new green thread of the pool and forgets it. A panic in `f` is
    /// logged and counted against the app, and the slot is freed.
    pub fn spawn_n<F>(&self, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        let slot = self.take_slot();
        thread::spawn_n(move || {
            let _slot = slot;
            f();
        });
    }

    fn take_slot(&self) -> Slot {
        loop {
            let taken = wait_in_line(
                &self.inner,
                spawners,
                None,
                |state, place| state.try_take(place).then_some(()),
                spawner_left,
            );
            if taken.is_some() {
                return Slot { pool: Arc::clone(&self.inner) };
            }
        }
    }

    /// Waits until no thread of the pool is running.
    pub fn waitall(&self) {
        while !self.waitall_until(None) {}
    }

    /// Waits at most `timeout` until no thread of the pool is running; `false` if some still were.
    pub fn waitall_timeout(&self, timeout: Duration) -> bool {
        self.waitall_until(deadline_after(timeout))
    }

    fn waitall_until(&self, deadline: Option<Instant>) -> bool {
        wait_in_line(&self.inner, idle_waiters, deadline, |state, _place| (state.running == 0).then_some(()), nobody)
            .is_some()
    }

    /// How many of the pool's threads are running.
    pub fn running(&self) -> usize {
        lock(&self.inner).running
    }

    /// How many more threads could start now without waiting.
    pub fn free(&self) -> usize {
        lock(&self.inner).free()
    }

    /// The most threads the pool runs at once.
    pub fn size(&self) -> usize {
        lock(&self.inner).size
    }

    /// How many green threads wait in `spawn`/`spawn_n` for a free slot.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).spawners.len()
    }

    /// Changes the pool's size (0 is taken as 1). Growing lets waiting spawners go at once; shrinking lets running
    /// threads finish and holds new ones back until the pool is below its new size.
    pub fn resize(&self, size: usize) {
        let mut state = lock(&self.inner);
        state.size = size.max(1);
        let free = state.free();
        state.spawners.wake_first(free);
    }

    /// Runs `f` on each item in the pool's threads and yields the results in the order of the items (eventlet's
    /// `imap`), as `Err` for an item whose thread panicked or was stopped.
    ///
    /// Lazy: the calling thread spawns work as it iterates, keeping up to the pool's size of items in flight ahead
    /// of the result it waits for. Dropping the iterator does not stop the items already started.
    pub fn imap<I, T, F>(&self, f: F, items: I) -> Imap<I::IntoIter, F, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        Imap { pool: self.clone(), f: Arc::new(f), items: items.into_iter(), pending: VecDeque::new() }
    }
}

/// The iterator of [`GreenPool::imap`]: results in the order of the items.
pub struct Imap<It, F, T> {
    pool: GreenPool,
    f: Arc<F>,
    items: It,
    pending: VecDeque<JoinHandle<T>>,
}

impl<It, F, T> Iterator for Imap<It, F, T>
where
    It: Iterator,
    It::Item: Send + 'static,
    T: Send + 'static,
    F: Fn(It::Item) -> T + Send + Sync + 'static,
{
    type Item = Result<T, JoinError>;

    fn next(&mut self) -> Option<Self::Item> {
        let window = self.pool.size();
        while self.pending.len() < window {
            let Some(item) = self.items.next() else { break };
            let f = Arc::clone(&self.f);
            self.pending.push_back(self.pool.spawn(move || f(item)));
        }
        self.pending.pop_front().map(JoinHandle::join)
    }
}

impl<It, F, T> fmt::Debug for Imap<It, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap").field("pool", &self.pool).field("in_flight", &self.pending.len()).finish()
    }
}
