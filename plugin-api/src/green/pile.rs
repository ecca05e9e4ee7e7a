//! [`GreenPile`]: spawn pieces of work, then collect their results in spawn order (eventlet's `GreenPile`).

use std::collections::VecDeque;
use std::fmt;

use super::pool::GreenPool;
use super::thread::{self, JoinError, JoinHandle};

/// Work spawned on green threads whose results are read back in the order it was spawned.
///
/// Iterating waits for each result in turn and yields it, as `Err` for work that panicked or was stopped; the pile
/// can be spawned into again after (or between) reads. With a pool ([`GreenPile::with_pool`]), at most the pool's
/// size of pieces run at once and [`GreenPile::spawn`] waits while the pool is full. Dropping the pile does not stop
/// the work it started.
pub struct GreenPile<T> {
    pool: Option<GreenPool>,
    pending: VecDeque<JoinHandle<T>>,
}

impl<T: Send + 'static> Default for GreenPile<T> {
    fn default() -> Self {
        GreenPile::new()
    }
}

impl<T> fmt::Debug for GreenPile<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenPile").field("pool", &self.pool).field("pending", &self.pending.len()).finish()
    }
}

impl<T: Send + 'static> GreenPile<T> {
    /// A pile whose work each runs on its own green thread, without a bound.
    pub fn new() -> Self {
        GreenPile { pool: None, pending: VecDeque::new() }
    }

    /// A pile whose work runs in `pool` (shared with whoever else uses the pool).
    pub fn with_pool(pool: &GreenPool) -> Self {
        GreenPile { pool: Some(pool.clone()), pending: VecDeque::new() }
    }

    /// Starts `f` (waiting for a free slot if the pile has a pool); its result comes after those spawned before.
    pub fn spawn<F>(&mut self, f: F)
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let handle = match &self.pool {
            Some(pool) => pool.spawn(f),
            None => thread::spawn(f),
        };
        self.pending.push_back(handle);
    }

    /// How many results have not been read yet.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether every result has been read.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

impl<T> Iterator for GreenPile<T> {
    type Item = Result<T, JoinError>;

    /// Waits for the oldest unread result; `None` once every result has been read.
    fn next(&mut self) -> Option<Self::Item> {
        self.pending.pop_front().map(JoinHandle::join)
    }
}
