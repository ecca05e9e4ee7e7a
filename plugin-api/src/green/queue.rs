//! [`Queue`]: a FIFO channel between green threads, bounded or not (eventlet's `queue.Queue`).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::waiters::{deadline_after, lock, wait_in_line, WaitList};

struct State<T> {
    items: VecDeque<T>,
    capacity: Option<usize>,
    getters: WaitList,
    putters: WaitList,
}

impl<T> State<T> {
    /// How many more items fit (`usize::MAX` when unbounded).
    fn space(&self) -> usize {
        self.capacity.map_or(usize::MAX, |capacity| capacity.saturating_sub(self.items.len()))
    }

    /// Puts `item` if the putter at `place` in line may; otherwise hands it back.
    fn try_put_at(&mut self, place: usize, item: T) -> Result<(), T> {
        if place >= self.space() {
            return Err(item);
        }
        self.items.push_back(item);
        // The getter that the new item entitles (the first `len` getters in line each get one).
        self.getters.wake(self.items.len() - 1);
        Ok(())
    }

    /// Takes the next item if the getter at `place` in line may.
    fn try_get_at(&mut self, place: usize) -> Option<T> {
        if place >= self.items.len() {
            return None;
        }
        let item = self.items.pop_front()?;
        // The putter that the freed slot entitles.
        let space = self.space();
        if space != usize::MAX {
            self.putters.wake(space - 1);
        }
        Some(item)
    }
}

fn getters<T>(state: &mut State<T>) -> &mut WaitList {
    &mut state.getters
}

fn putters<T>(state: &mut State<T>) -> &mut WaitList {
    &mut state.putters
}

/// A getter left the line: the one now at the last entitled place may take an item.
fn getter_left<T>(state: &mut State<T>, place: usize) {
    if place < state.items.len() {
        state.getters.wake(state.items.len() - 1);
    }
}

/// A putter left the line: the one now at the last entitled place may put.
fn putter_left<T>(state: &mut State<T>, place: usize) {
    let space = state.space();
    if place < space {
        state.putters.wake(space - 1);
    }
}

/// A FIFO queue between green threads, bounded or not, with any number of producers and consumers.
///
/// [`Queue::put`] waits while a bounded queue is full and [`Queue::get`] while it is empty; both have `_timeout`
/// and `try_` forms. Waiting threads are served first come, first served. The handle is cheap to clone (an `Arc`
/// inside): give a clone to each producer and consumer.
pub struct Queue<T> {
    inner: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue { inner: Arc::clone(&self.inner) }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner);
        f.debug_struct("Queue")
            .field("len", &state.items.len())
            .field("capacity", &state.capacity)
            .field("getting", &state.getters.len())
            .field("putting", &state.putters.len())
            .finish()
    }
}

impl<T> Queue<T> {
    /// A queue that holds at most `capacity` items; `put` waits while it is full. A capacity of 0 is taken as 1.
    pub fn bounded(capacity: usize) -> Self {
        Self::with_capacity(Some(capacity.max(1)))
    }

    /// A queue without a bound; `put` never waits.
    pub fn unbounded() -> Self {
        Self::with_capacity(None)
    }

    fn with_capacity(capacity: Option<usize>) -> Self {
        let state = State { items: VecDeque::new(), capacity, getters: WaitList::new(), putters: WaitList::new() };
        Queue { inner: Arc::new(Mutex::new(state)) }
    }

    /// Appends `item`, waiting while the queue is full.
    pub fn put(&self, item: T) {
        let _ = self.put_until(item, None);
    }

    /// Appends `item`, waiting at most `timeout` for room; hands the item back if there was none in time.
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), T> {
        self.put_until(item, deadline_after(timeout))
    }

    /// Appends `item` if there is room now (and no earlier putter waits); hands it back otherwise.
    pub fn try_put(&self, item: T) -> Result<(), T> {
        let mut state = lock(&self.inner);
        let place = state.putters.len();
        state.try_put_at(place, item)
    }

    fn put_until(&self, item: T, deadline: Option<Instant>) -> Result<(), T> {
        // The item moves into the queue from inside `attempt`, which may run several times: keep it in an Option.
        let mut item = Some(item);
        let put = wait_in_line(
            &self.inner,
            putters,
            deadline,
            |state, place| match item.take().map(|item| state.try_put_at(place, item)) {
                Some(Ok(())) => Some(()),
                Some(Err(back)) => {
                    item = Some(back);
                    None
                }
                None => Some(()),
            },
            putter_left,
        );
        match (put, item) {
            (None, Some(item)) => Err(item),
            _ => Ok(()),
        }
    }

    /// Takes the oldest item, waiting while the queue is empty.
    pub fn get(&self) -> T {
        loop {
            if let Some(item) = self.get_until(None) {
                return item;
            }
        }
    }

    /// Takes the oldest item, waiting at most `timeout` for one; `None` if none came in time.
    pub fn get_timeout(&self, timeout: Duration) -> Option<T> {
        self.get_until(deadline_after(timeout))
    }

    /// Takes the oldest item if there is one now (and no earlier getter waits for it).
    pub fn try_get(&self) -> Option<T> {
        let mut state = lock(&self.inner);
        let place = state.getters.len();
        state.try_get_at(place)
    }

    fn get_until(&self, deadline: Option<Instant>) -> Option<T> {
        wait_in_line(&self.inner, getters, deadline, |state, place| state.try_get_at(place), getter_left)
    }

    /// How many items are queued.
    pub fn len(&self) -> usize {
        lock(&self.inner).items.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        lock(&self.inner).items.is_empty()
    }

    /// The most items the queue holds (`None`: unbounded).
    pub fn capacity(&self) -> Option<usize> {
        lock(&self.inner).capacity
    }

    /// How many green threads wait in [`Queue::get`] for an item (eventlet's `getting()`).
    pub fn getting(&self) -> usize {
        lock(&self.inner).getters.len()
    }

    /// How many green threads wait in [`Queue::put`] for room (eventlet's `putting()`).
    pub fn putting(&self) -> usize {
        lock(&self.inner).putters.len()
    }
}
