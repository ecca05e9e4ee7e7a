//! A one-shot reply slot: a producer completes it once, one green thread waits for it with a deadline. The bus's
//! requests (app to app, HTTP to app) and a switch connection's OpenFlow requests wait on one.
//!
//! The wait ends with the value, or with why not ([`Waited`]). A waiter that gives up (its deadline passed, its
//! thread is stopping or was interrupted) looks once more, under the slot's lock, so that a value landing at that
//! very moment is still taken; after that the slot is closed, and a late completion is refused (the producer gets
//! the value back, to drop or log).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tatsu_abi::WaitStatus;

use super::GreenSlot;

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<T> {
    /// The producer completed the slot with this value.
    Completed(T),
    /// The deadline passed first.
    TimedOut,
    /// The waiting green thread is being stopped.
    Stopping,
    /// The waiting green thread was interrupted.
    Interrupted,
}

enum State<T> {
    /// Nothing yet; someone may wait.
    Open,
    /// Completed, the value not yet taken.
    Completed(T),
    /// The value was taken, or the waiter gave up (or there never was one): completions are refused.
    Closed,
}

struct Inner<T> {
    state: State<T>,
    /// The green thread waiting, to wake when the value comes.
    waiter: Option<Arc<GreenSlot>>,
}

/// A one-shot reply slot (see the module documentation).
pub struct Oneshot<T> {
    inner: Mutex<Inner<T>>,
}

impl<T> Default for Oneshot<T> {
    fn default() -> Self {
        Oneshot::new()
    }
}

impl<T> Oneshot<T> {
    /// An open slot.
    pub fn new() -> Self {
        Oneshot { inner: Mutex::new(Inner { state: State::Open, waiter: None }) }
    }

    /// A slot nobody waits for: completing it is refused.
    pub fn closed() -> Self {
        Oneshot { inner: Mutex::new(Inner { state: State::Closed, waiter: None }) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a completion would still be taken (not completed yet, and not given up by its waiter).
    pub fn is_open(&self) -> bool {
        matches!(self.lock().state, State::Open)
    }

    /// Completes the slot with `value` and wakes its waiter; `Err(value)` if it was completed already or closed.
    pub fn complete(&self, value: T) -> Result<(), T> {
        let waiter = {
            let mut inner = self.lock();
            if !matches!(inner.state, State::Open) {
                return Err(value);
            }
            inner.state = State::Completed(value);
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.unpark();
        }
        Ok(())
    }

    /// Takes the value if it has come, closing the slot; registers the calling green thread as the waiter if not.
    fn take_or_register(&self, waiter: &Option<Arc<GreenSlot>>) -> Option<T> {
        let mut inner = self.lock();
        match std::mem::replace(&mut inner.state, State::Closed) {
            State::Completed(value) => Some(value),
            State::Open => {
                inner.state = State::Open;
                if inner.waiter.is_none() {
                    inner.waiter.clone_from(waiter);
                }
                None
            }
            State::Closed => None,
        }
    }

    /// Parks the calling green thread until the slot is completed, `deadline` (none: no deadline) or a stop or
    /// interrupt of the thread. Once it gives up, the slot is closed. Waiting on a slot that is already closed
    /// (see [`Oneshot::closed`]) waits for the deadline.
    pub fn wait(&self, deadline: Option<Instant>) -> Waited<T> {
        let me = super::current();
        loop {
            if let Some(value) = self.take_or_register(&me) {
                return Waited::Completed(value);
            }
            let remaining = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            let status =
                if remaining.is_some_and(|r| r.is_zero()) { WaitStatus::TimedOut } else { super::park(remaining) };
            let gave_up = match status {
                WaitStatus::Woken => continue,
                WaitStatus::TimedOut if deadline.is_some_and(|deadline| Instant::now() < deadline) => continue,
                WaitStatus::TimedOut => Waited::TimedOut,
                WaitStatus::Stopping => Waited::Stopping,
                WaitStatus::Interrupted => Waited::Interrupted,
            };
            // The value may have landed as the wait ended: take it rather than drop it.
            let mut inner = self.lock();
            inner.waiter = None;
            return match std::mem::replace(&mut inner.state, State::Closed) {
                State::Completed(value) => Waited::Completed(value),
                State::Open | State::Closed => gave_up,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::green::ThreadGroup;

    /// Runs `body` on a green thread of a fresh group and returns what it returns.
    fn on_green_thread<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        let group = ThreadGroup::new("oneshot-test", &crate::green::Runners::new(0));
        group
            .spawn("test", move || {
                let _ = tx.send(body());
            })
            .expect("a green thread starts");
        rx.recv_timeout(Duration::from_secs(10)).expect("the green thread answers")
    }

    fn soon(ms: u64) -> Option<Instant> {
        Instant::now().checked_add(Duration::from_millis(ms))
    }

    #[test]
    fn a_completion_before_the_wait_is_taken_at_once() {
        let slot = Oneshot::new();
        assert_eq!(slot.complete(7), Ok(()));
        assert!(!slot.is_open());
        assert_eq!(slot.complete(8), Err(8), "completed once only");
        let started = Instant::now();
        assert_eq!(slot.wait(soon(5_000)), Waited::Completed(7));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_completion_during_the_wait_wakes_the_green_thread() {
        let (slot_tx, slot_rx) = mpsc::channel::<Arc<Oneshot<&'static str>>>();
        let producer = std::thread::spawn(move || {
            let slot = slot_rx.recv().expect("the waiter sends its slot");
            std::thread::sleep(Duration::from_millis(50));
            slot.complete("reply")
        });
        let (outcome, waited) = on_green_thread(move || {
            let slot = Arc::new(Oneshot::new());
            let _ = slot_tx.send(Arc::clone(&slot));
            let started = Instant::now();
            (slot.wait(soon(10_000)), started.elapsed())
        });
        assert_eq!(outcome, Waited::Completed("reply"));
        assert!(waited < Duration::from_secs(5), "woken, not timed out: {waited:?}");
        assert_eq!(producer.join().ok(), Some(Ok(())));
    }

    #[test]
    fn a_wait_times_out_and_a_late_completion_is_refused() {
        let slot = Arc::new(Oneshot::<u32>::new());
        let waiter = Arc::clone(&slot);
        let (outcome, waited) = on_green_thread(move || {
            let started = Instant::now();
            (waiter.wait(soon(30)), started.elapsed())
        });
        assert_eq!(outcome, Waited::TimedOut);
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert!(!slot.is_open());
        assert_eq!(slot.complete(1), Err(1), "the waiter gave up: the reply comes back to the producer");
    }

    #[test]
    fn a_reply_landing_as_the_wait_gives_up_is_taken() {
        // The deadline has passed before the wait starts, but the value is there: it wins.
        let slot = Oneshot::new();
        assert_eq!(slot.complete("late"), Ok(()));
        assert_eq!(slot.wait(Some(Instant::now())), Waited::Completed("late"));
    }

    #[test]
    fn an_interrupt_or_a_stop_ends_the_wait() {
        let (slot_tx, slot_rx) = mpsc::channel::<Arc<GreenSlot>>();
        let interrupter = std::thread::spawn(move || {
            let thread = slot_rx.recv().expect("the waiter sends its thread");
            std::thread::sleep(Duration::from_millis(30));
            thread.interrupt();
        });
        let outcome = on_green_thread(move || {
            if let Some(me) = crate::green::current() {
                let _ = slot_tx.send(me);
            }
            Oneshot::<u8>::new().wait(None)
        });
        assert_eq!(outcome, Waited::Interrupted);
        let _ = interrupter.join();

        let (slot_tx, slot_rx) = mpsc::channel::<Arc<GreenSlot>>();
        let stopper = std::thread::spawn(move || {
            let thread = slot_rx.recv().expect("the waiter sends its thread");
            std::thread::sleep(Duration::from_millis(30));
            thread.request_stop();
        });
        let outcome = on_green_thread(move || {
            if let Some(me) = crate::green::current() {
                let _ = slot_tx.send(me);
            }
            Oneshot::<u8>::new().wait(None)
        });
        assert_eq!(outcome, Waited::Stopping);
        let _ = stopper.join();
    }

    #[test]
    fn a_closed_slot_refuses_completions() {
        let slot = Oneshot::closed();
        assert!(!slot.is_open());
        assert_eq!(slot.complete(3), Err(3));
        assert_eq!(slot.wait(Some(Instant::now())), Waited::TimedOut);
    }
}
