//! Sends an app's event loop makes while it handles a batch: gathered per switch outside the switch's outbox (no
//! table lookup, lock or wake-up per message: [`Connection::gather`]), then handed over once per switch when the
//! batch ends ([`Connection::flush_run`]): written straight to the socket if no more events wait for the app (in
//! latency mode, one packet-in in flight per switch, this saves a wake-up of the writer and a switch to it per
//! response), queued for the writer otherwise (which then writes what several batches sent in one system call).
//! Sends from the app's other green threads, and from the event loop outside a batch, go to the outbox at once.
//!
//! The state is thread-local, like the watchdog's activity record: app code yields its scheduler thread only in host
//! calls that wait, and each of those goes through [`waiting`], which flushes and leaves the batch until the call
//! returns (on whichever thread the green thread then runs). So while a batch is active on a thread, only its event
//! loop runs app code there. (may's coroutine-local storage, a map lookup per access, cost cbench throughput
//! 10–23 %: bench/README.md.)

use std::cell::RefCell;
use std::sync::Arc;

use tatsu_abi::RequestError;

use crate::bus::queue::EventQueue;
use crate::switch::connection::{Connection, Run};
use crate::switch::Switches;
use crate::watchdog::{Blocking, Watched};

/// Most switches one batch gathers sends for; sends to more go to their outboxes at once.
const MOST_RUNS: usize = 64;

/// Buffers bigger than this are not kept for the next batch.
const KEPT_CAPACITY: usize = 64 * 1024;

/// The calling thread's batch.
#[derive(Default)]
struct Deferred {
    /// The thread is inside [`batch`].
    active: bool,
    /// What the batch sent, per datapath, in the order it first sent to each.
    runs: Vec<(u64, Arc<Connection>, Run)>,
    /// Emptied buffers of earlier batches' runs, for the next ones.
    spare: Vec<Vec<u8>>,
}

impl Deferred {
    fn flush(&mut self, write_here: bool) {
        for (_, connection, run) in self.runs.drain(..) {
            let buffer = connection.flush_run(run, write_here);
            if buffer.capacity() <= KEPT_CAPACITY {
                self.spare.push(buffer);
            }
        }
    }

    /// Gathers `message` for `dpid`; `None` if no connection has that id.
    #[inline]
    fn send(&mut self, switches: &Switches, dpid: u64, message: &[u8]) -> Option<Result<(), RequestError>> {
        // Most batches send to one switch, or to a few in turn: look from the last one back.
        if let Some((_, connection, run)) = self.runs.iter_mut().rev().find(|(id, ..)| *id == dpid) {
            return Some(connection.gather(run, message));
        }
        let connection = switches.datapath(dpid)?;
        if self.runs.len() >= MOST_RUNS {
            return Some(connection.send(message));
        }
        let mut run = match Run::open(&connection, self.spare.pop().unwrap_or_default()) {
            Ok(run) => run,
            Err(e) => return Some(Err(e)),
        };
        let gathered = connection.gather(&mut run, message);
        self.runs.push((dpid, connection, run));
        Some(gathered)
    }
}

impl Drop for Deferred {
    /// A thread stopped in the middle of a batch still hands what it gathered to the writers.
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

/// Runs `handle` (an app handling one batch it took from `queue`) with the calling green thread's sends gathered,
/// then hands them over: written here if `queue` is empty, by the writers otherwise.
pub(super) fn batch<R>(queue: &EventQueue, handle: impl FnOnce() -> R) -> R {
    DEFERRED.with(|deferred| deferred.borrow_mut().active = true);
    let _end = BatchGuard { queue };
    handle()
}

/// Sends `message` to datapath `dpid` for the calling app thread: gathered inside [`batch`], queued at once
/// otherwise. `None` if no connection has that id.
pub(super) fn send(switches: &Switches, dpid: u64, message: &[u8]) -> Option<Result<(), RequestError>> {
    // The thread-local's closure returns a word, and hands a refusal out through `refused`: returned whole from
    // it, the result (40 bytes) was copied through the stack in pieces that defeat store forwarding, at a stall
    // per message.
    let mut refused = None;
    let known = DEFERRED.with(|deferred| {
        let mut deferred = deferred.borrow_mut();
        let sent =
            if deferred.active { deferred.send(switches, dpid, message) } else { switches.send_to(dpid, message) };
        match sent {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                refused = Some(e);
                true
            }
            None => false,
        }
    });
    known.then(|| refused.map_or(Ok(()), Err))
}

/// Hands what the calling thread's batch gathered so far to the switches' outboxes, before a host call whose
/// effect may make another app, or a REST client, send to the same switches (publish, replies): what this app sent
/// first stays first.
pub(super) fn hand_over() {
    DEFERRED.with(|deferred| {
        let mut deferred = deferred.borrow_mut();
        if !deferred.runs.is_empty() {
            deferred.flush(false);
        }
    });
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
