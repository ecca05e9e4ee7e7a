//! [`Event`]: one value, sent once, that any number of green threads wait for (eventlet's `event.Event`).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::waiters::{deadline_after, lock, nobody, wait_in_line, WaitList};

struct State<T> {
    value: Option<T>,
    waiters: WaitList,
}

fn waiters<T>(state: &mut State<T>) -> &mut WaitList {
    &mut state.waiters
}

/// A value that becomes available once: [`Event::send`] sets it, and every thread in [`Event::wait`] (now or later)
/// gets a clone of it.
///
/// The handle is cheap to clone (an `Arc` inside): give a clone to each thread that sends or waits. Only the first
/// [`Event::send`] counts; later ones hand their value back as an error.
pub struct Event<T> {
    inner: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Event<T> {
    fn clone(&self) -> Self {
        Event { inner: Arc::clone(&self.inner) }
    }
}

impl<T: Clone> Default for Event<T> {
    fn default() -> Self {
        Event::new()
    }
}

impl<T> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner);
        f.debug_struct("Event").field("ready", &state.value.is_some()).field("waiting", &state.waiters.len()).finish()
    }
}

impl<T: Clone> Event<T> {
    /// An event with no value yet.
    pub fn new() -> Self {
        Event { inner: Arc::new(Mutex::new(State { value: None, waiters: WaitList::new() })) }
    }

    /// Sets the value and wakes every waiter. Only the first send counts: if a value was already sent, this one is
    /// handed back as `Err` and the event keeps the first.
    pub fn send(&self, value: T) -> Result<(), T> {
        let mut state = lock(&self.inner);
        if state.value.is_some() {
            return Err(value);
        }
        state.value = Some(value);
        state.waiters.wake_all();
        Ok(())
    }

    /// Whether a value has been sent (eventlet's `ready()`).
    pub fn ready(&self) -> bool {
        lock(&self.inner).value.is_some()
    }

    /// The value if it has been sent, without waiting.
    pub fn try_wait(&self) -> Option<T> {
        lock(&self.inner).value.clone()
    }

    /// Waits for the value and returns a clone of it. Returns at once if it was already sent.
    pub fn wait(&self) -> T {
        loop {
            if let Some(value) = self.wait_until(None) {
                return value;
            }
        }
    }

    /// Waits at most `timeout` for the value; `None` if it was not sent in time.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<T> {
        self.wait_until(deadline_after(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Option<T> {
        wait_in_line(&self.inner, waiters, deadline, |state, _place| state.value.clone(), nobody)
    }
}
