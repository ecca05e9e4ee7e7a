//! Sends an app's event loop makes while it handles a batch: queued without waking each switch's writer, then,
//! when the batch ends, written straight to the socket, one `write` per switch the batch sent to
//! ([`Connection::send_deferred`], [`Connection::flush_deferred`]). In latency mode (one packet-in in flight per
//! switch) this saves a wake-up of the writer and a switch to it per response. When more events already wait for
//! the app, the writers are woken instead: they then write what several batches sent in one system call. Sends
//! from the app's other green threads, and from the event loop outside a batch, wake the writer as before.
//!
//! The list is thread-local, like the watchdog's activity record: app code yields its scheduler thread only in host
//! calls that wait, and each of those goes through [`waiting`], which flushes the list and leaves the batch until
//! the call returns (on whichever thread the green thread then runs). So while a batch is active on a thread, only
//! its event loop runs app code there. (may's coroutine-local storage, a map lookup per access, cost cbench
//! throughput 10–23 %: bench/README.md.)

use std::cell::RefCell;
use std::sync::Arc;

use tatsu_abi::RequestError;

use crate::bus::queue::EventQueue;
use crate::switch::connection::Connection;
use crate::switch::Switches;
use crate::watchdog::{Blocking, Watched};

/// The calling green thread's deferred sends.
#[derive(Default)]
struct Deferred {
    /// The thread is inside [`batch`].
    active: bool,
    /// Connections owed a flush, each once.
    owed: Vec<Arc<Connection>>,
}

impl Deferred {
    fn flush(&mut self, write_here: bool) {
        for connection in self.owed.drain(..) {
            connection.flush_deferred(write_here);
        }
    }
}

impl Drop for Deferred {
    /// A thread stopped in the middle of a batch still hands what it queued to the writers.
    fn drop(&mut self) {
        self.flush(false);
    }
}

thread_local! {
    static DEFERRED: RefCell<Deferred> = RefCell::default();
}

/// Ends a batch even if it unwinds.
struct BatchGuard<'a> {
    queue: &'a EventQueue,
}

impl Drop for BatchGuard<'_> {
    fn drop(&mut self) {
        let write_here = self.queue.is_empty();
        DEFERRED.with(|deferred| {
            let mut deferred = deferred.borrow_mut();
            deferred.active = false;
            deferred.flush(write_here);
        });
    }
}

/// Runs `handle` (an app handling one batch it took from `queue`) with the calling green thread's sends deferred,
/// then flushes every connection they went to: written here if `queue` is empty, by the writers otherwise.
pub(super) fn batch<R>(queue: &EventQueue, handle: impl FnOnce() -> R) -> R {
    DEFERRED.with(|deferred| deferred.borrow_mut().active = true);
    let _end = BatchGuard { queue };
    handle()
}

/// Sends `message` to datapath `dpid` for the calling app thread: deferred inside [`batch`], at once otherwise.
/// `None` if no connection has that id.
pub(super) fn send(switches: &Switches, dpid: u64, message: &[u8]) -> Option<Result<(), RequestError>> {
    DEFERRED.with(|deferred| {
        if !deferred.borrow().active {
            return switches.send_to(dpid, message);
        }
        let sent = switches.send_deferred_to(dpid, message)?;
        Some(sent.map(|owed| deferred.borrow_mut().owed.extend(owed)))
    })
}

/// A host call that waits, made by app code (see [`waiting`]).
pub(super) struct Waiting {
    _blocking: Blocking,
    /// The call was made inside a batch, which goes on when it returns.
    in_batch: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.in_batch {
            DEFERRED.with(|deferred| deferred.borrow_mut().active = true);
        }
    }
}

/// Marks the calling app code as waiting in a host call (see [`Watched::blocking`]), after writing what its batch
/// sent so far (nothing it sent waits with it), and leaves the batch until the call returns.
pub(super) fn waiting(watched: &Watched) -> Waiting {
    let in_batch = DEFERRED.with(|deferred| {
        let mut deferred = deferred.borrow_mut();
        deferred.flush(true);
        std::mem::replace(&mut deferred.active, false)
    });
    Waiting { _blocking: watched.blocking(), in_batch }
}
