//! Per-connection credit: how many of a switch's messages apps hold but have not handled yet.
//!
//! A switch reader whose socket always has data would otherwise never give the scheduler back: it would read
//! and dispatch forever, the app and writer green threads would starve, and may would never poll its I/O
//! selector. So every message handed to an app is counted, with a [`CreditToken`] per batch; when a connection has
//! more than half of [`Credit::LIMIT`] messages in flight its reader parks until apps have handled enough of them
//! (or a short timeout passes, so that one stuck app never stalls a switch: its queue's overflow policy applies
//! then), and it reads no more at a time than its estimate of what fits up to the limit.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use may::coroutine::Coroutine;

/// The credit of one switch connection.
#[derive(Default)]
pub struct Credit {
    in_flight: AtomicUsize,
    reader_waiting: AtomicBool,
    reader: OnceLock<Coroutine>,
}

impl Credit {
    /// Messages in flight above which the reader waits.
    pub const LIMIT: usize = 256;
    /// How many times a reader over its credit yields to the apps before it waits with a timeout.
    const YIELDS: usize = 1;
    /// Longest a reader waits for credit before reading on.
    pub const MAX_WAIT: Duration = Duration::from_millis(20);

    /// Records the calling coroutine as the connection's reader (the one to wake when credit returns).
    pub fn set_reader(&self) {
        let _ = self.reader.set(may::coroutine::current());
    }

    /// A token for `count` messages handed to an app together; dropping it returns their credit. A batch of
    /// messages from one read shares one token, held by its last message, so the credit comes back when the app
    /// has handled the whole batch.
    pub fn tokens(self: &Arc<Self>, count: usize) -> CreditToken {
        self.in_flight.fetch_add(count, Ordering::AcqRel);
        CreditToken { credit: Arc::clone(self), count }
    }

    /// Parks the reader while more than half of [`Credit::LIMIT`] messages are in flight, at most
    /// [`Credit::MAX_WAIT`]; returns how many more messages it may read before the limit (it reads at least a
    /// little even at 0, after a wait that timed out: a stuck app must not stall its switches).
    pub fn wait(&self) -> usize {
        let low = Self::LIMIT / 2;
        let room = || Self::LIMIT.saturating_sub(self.in_flight.load(Ordering::Acquire));
        if self.in_flight.load(Ordering::Acquire) <= low {
            return room();
        }
        // Most often the app that holds the messages is in the run queue already (the reader's push woke it): step
        // behind it before waiting on a timer, whose registration costs the timer thread a wake-up. Only once: a
        // reader that kept yielding would keep the run queue from ever emptying, and may polls its I/O selector
        // only then (readers waiting for data would starve; seen with 8 yields and 16 busy switches).
        for _ in 0..Self::YIELDS {
            may::coroutine::yield_now();
            if self.in_flight.load(Ordering::Acquire) <= low {
                return room();
            }
        }
        self.reader_waiting.store(true, Ordering::Release);
        // Checked again after announcing the wait, so a token dropped in between still wakes us.
        if self.in_flight.load(Ordering::Acquire) > low {
            crate::green::park(Some(Self::MAX_WAIT));
        }
        self.reader_waiting.store(false, Ordering::Release);
        room()
    }
}

/// Some messages' share of their connection's credit.
pub struct CreditToken {
    credit: Arc<Credit>,
    count: usize,
}

impl Drop for CreditToken {
    fn drop(&mut self) {
        let credit = &self.credit;
        let left = credit.in_flight.fetch_sub(self.count, Ordering::AcqRel).saturating_sub(self.count);
        if left <= Credit::LIMIT / 2 && credit.reader_waiting.swap(false, Ordering::AcqRel) {
            if let Some(reader) = credit.reader.get() {
                reader.unpark();
            }
        }
    }
}
