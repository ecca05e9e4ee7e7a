//! Requests awaiting replies: the reply parts gathered per xid (all parts of a multipart reply), a bound on their
//! size, and expiry of requests nobody answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tatsu_plugin_api::abi::{RequestFailure, WaitStatus};

use super::{lock, Connection};
use crate::bus::RequestFailed;
use crate::green;
use crate::switch::wire;

/// How long parts of a reply nobody waits for any more (the request timed out, or was too large) are still
/// recognised and dropped, instead of reaching apps as unsolicited messages.
const REPLY_GRACE: Duration = Duration::from_secs(5);

/// A request waiting for its reply parts.
pub(super) struct PendingReply {
    pub(super) waiter: Option<Arc<green::GreenSlot>>,
    pub(super) state: Mutex<PendingState>,
}

pub(super) struct PendingState {
    /// The reply parts so far, back to back (only while someone waits for them).
    pub(super) parts: Vec<u8>,
    pub(super) outcome: Option<Result<(), RequestFailed>>,
    /// Whether a green thread still waits for the reply; if not, its parts are dropped.
    pub(super) waited_for: bool,
    /// When the entry goes: the requester's deadline, or the end of the grace period of a reply nobody waits for.
    pub(super) expires: Instant,
}

impl PendingReply {
    /// A request the calling green thread waits for until `deadline`.
    pub(super) fn waited(deadline: Instant) -> Self {
        PendingReply {
            waiter: green::current(),
            state: Mutex::new(PendingState { parts: Vec::new(), outcome: None, waited_for: true, expires: deadline }),
        }
    }

    /// A request of the predecessor host, whose reply is dropped when it comes (or forgotten at `expires`).
    pub(super) fn abandoned(expires: Instant) -> Self {
        PendingReply {
            waiter: None,
            state: Mutex::new(PendingState { parts: Vec::new(), outcome: None, waited_for: false, expires }),
        }
    }
}

impl Connection {
    /// Sends a request under a fresh xid and parks the calling green thread until the whole reply (all parts of a
    /// multipart reply, back to back, or the switch's error), `timeout` or a stop.
    pub fn request(&self, message: &[u8], timeout: Duration) -> Result<Vec<u8>, RequestFailed> {
        let xid = self.fresh_xid();
        let mut message = message.to_vec();
        if let Some(field) = message.get_mut(4..8) {
            field.copy_from_slice(&xid.to_be_bytes());
        }
        let deadline = Instant::now() + timeout;
        let pending = Arc::new(PendingReply::waited(deadline));
        lock(&self.pending).insert(xid, Arc::clone(&pending));
        if let Err(failed) = self.send(&message) {
            lock(&self.pending).remove(&xid);
            return Err(failed);
        }
        loop {
            {
                let mut state = lock(&pending.state);
                match state.outcome.take() {
                    Some(Ok(())) => return Ok(std::mem::take(&mut state.parts)),
                    Some(Err(failed)) => return Err(failed),
                    None => {}
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let status = if remaining.is_zero() { WaitStatus::TimedOut } else { green::park(Some(remaining)) };
            let failure = match status {
                WaitStatus::Woken => continue,
                WaitStatus::TimedOut if Instant::now() < deadline => continue,
                WaitStatus::TimedOut => RequestFailure::TimedOut,
                WaitStatus::Stopping => RequestFailure::Stopping,
                WaitStatus::Interrupted => RequestFailure::Interrupted,
            };
            // Parts still on their way are dropped when they come, for a while (unless the reply came just now).
            {
                let mut state = lock(&pending.state);
                match state.outcome.take() {
                    Some(Ok(())) => return Ok(std::mem::take(&mut state.parts)),
                    Some(Err(failed)) => return Err(failed),
                    None => {}
                }
                state.waited_for = false;
                state.parts = Vec::new();
                state.expires = Instant::now() + REPLY_GRACE;
            }
            return Err(RequestFailed {
                failure,
                detail: format!("{}: no reply to xid {xid} within {timeout:?}", self.describe_short()),
            });
        }
    }

    /// Adds a reply part to the request waiting under `xid`; `true` if there was one (the message is then taken).
    /// A reply growing past `max_reply_bytes` fails the request at once; its remaining parts are dropped.
    pub(super) fn complete_pending(&self, xid: u32, message: &[u8], version: u8) -> bool {
        let Some(pending) = lock(&self.pending).get(&xid).cloned() else { return false };
        let more = message[1] == wire::multipart_reply_type(version) && wire::reply_has_more(message);
        let limit = self.switches.settings().max_reply_bytes;
        let wake = {
            let mut state = lock(&pending.state);
            let mut wake = false;
            if state.waited_for {
                if state.parts.len() + message.len() > limit {
                    let detail = format!(
                        "{}: the reply to xid {xid} exceeds {limit} bytes (max_reply_bytes); the rest is dropped",
                        self.describe_short()
                    );
                    if let Some(suppressed) = self.switches.log_limits.oversized_reply.check() {
                        let note = crate::logging::held_back_note(suppressed);
                        log::warn!(target: "tatsu::switch", "{detail}{note}");
                    }
                    state.outcome = Some(Err(RequestFailed { failure: RequestFailure::Failed, detail }));
                    state.waited_for = false;
                    state.parts = Vec::new();
                    state.expires = Instant::now() + REPLY_GRACE;
                    wake = true;
                } else {
                    state.parts.extend_from_slice(message);
                    if !more {
                        state.outcome = Some(Ok(()));
                        wake = true;
                    }
                }
            }
            wake
        };
        if !more {
            lock(&self.pending).remove(&xid);
        }
        if wake {
            if let Some(waiter) = &pending.waiter {
                waiter.unpark();
            }
        }
        true
    }

    /// Forgets requests past their time: replies nobody waits for any more, and requests inherited from a
    /// predecessor whose reply never came. A requester still waiting is told it timed out.
    pub(in crate::switch) fn expire_pending(&self, now: Instant) {
        let mut expired = Vec::new();
        lock(&self.pending).retain(|xid, pending| {
            let keep = lock(&pending.state).expires > now;
            if !keep {
                expired.push((*xid, Arc::clone(pending)));
            }
            keep
        });
        for (xid, pending) in expired {
            let mut state = lock(&pending.state);
            if state.waited_for && state.outcome.is_none() {
                let detail = format!("{}: no reply to xid {xid} in time", self.describe_short());
                state.outcome = Some(Err(RequestFailed { failure: RequestFailure::TimedOut, detail }));
                drop(state);
                if let Some(waiter) = &pending.waiter {
                    waiter.unpark();
                }
            } else {
                log::debug!(target: "tatsu::switch", "{}: gave up waiting for the reply to xid {xid}", self.describe_short());
            }
        }
    }
}
