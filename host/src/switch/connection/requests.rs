//! Requests awaiting replies: the reply parts gathered per xid (all parts of a multipart reply), a bound on their
//! size, and expiry of requests nobody answers. A transaction is a request of several messages: one entry shared
//! by all their xids, complete when the last message is answered.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tatsu_abi::RequestFailure;

use super::{lock, Connection};
use crate::green::oneshot::{Oneshot, Waited};
use crate::switch::wire;
use tatsu_abi::RequestError;

/// How long parts of a reply nobody waits for any more (the request timed out, or was too large) are still
/// recognised and dropped, instead of reaching apps as unsolicited messages.
const REPLY_GRACE: Duration = Duration::from_secs(5);

/// A request waiting for its reply parts.
pub(super) struct PendingReply {
    /// Where the whole reply (or why there is none) goes; closed once nobody waits for it.
    reply: Oneshot<Result<Vec<u8>, RequestError>>,
    /// The xid whose whole reply completes the request (a transaction's last message).
    last: u32,
    /// Every xid the request gathers replies under (one for a plain request), forgotten together once it completes.
    xids: Vec<u32>,
    pub(super) state: Mutex<PendingState>,
}

/// What a request has gathered so far.
pub(super) struct PendingState {
    /// The reply parts so far, back to back (only while someone waits for them).
    parts: Vec<u8>,
    /// When the entry goes (never if `None`): the requester's deadline, or the end of the grace period of a reply
    /// nobody waits for.
    pub(super) expires: Option<Instant>,
}

impl PendingReply {
    /// A request a green thread waits for until `deadline`: replies under any of `xids` are gathered, the whole
    /// reply to `last` completes it.
    fn waited(last: u32, xids: Vec<u32>, deadline: Option<Instant>) -> Self {
        let state = Mutex::new(PendingState { parts: Vec::new(), expires: deadline });
        PendingReply { reply: Oneshot::new(), last, xids, state }
    }

    /// A request of the predecessor host under `xid`, whose reply is dropped when it comes (or forgotten at
    /// `expires`).
    pub(super) fn abandoned(xid: u32, expires: Option<Instant>) -> Self {
        let state = Mutex::new(PendingState { parts: Vec::new(), expires });
        PendingReply { reply: Oneshot::closed(), last: xid, xids: vec![xid], state }
    }
}

/// Why a transaction's messages cannot be sent (nothing was).
fn malformed(detail: String) -> RequestError {
    RequestError { failure: RequestFailure::Failed, detail: detail.into() }
}

impl Connection {
    /// Sends a request under a fresh xid and parks the calling green thread until the whole reply (all parts of a
    /// multipart reply, back to back, or the switch's error), `timeout` or a stop.
    pub fn request(&self, message: &[u8], timeout: Duration) -> Result<Vec<u8>, RequestError> {
        let xid = self.fresh_xid();
        let mut message = message.to_vec();
        if let Some(field) = message.get_mut(4..8) {
            field.copy_from_slice(&xid.to_be_bytes());
        }
        let deadline = Instant::now().checked_add(timeout);
        let pending = Arc::new(PendingReply::waited(xid, vec![xid], deadline));
        lock(&self.pending).insert(xid, Arc::clone(&pending));
        if let Err(failed) = self.send(&message) {
            lock(&self.pending).remove(&xid);
            return Err(failed);
        }
        self.wait_reply(&pending, deadline, timeout)
    }

    /// Sends `messages` (back to back) in order and together, each under a fresh xid (a bundle add's carried
    /// message keeps its add's), and parks the calling green thread until the last one is answered, `timeout` or
    /// a stop. Returns the xids, in message order, and every message that came under them or under
    /// `also_gather` (xids of an earlier transaction that no request waits under now) until then, back to back in
    /// arrival order.
    pub fn transaction(
        &self,
        messages: &[u8],
        also_gather: &[u32],
        timeout: Duration,
    ) -> Result<(Vec<u32>, Vec<u8>), RequestError> {
        let mut framed = Vec::new();
        let mut rest = messages;
        while !rest.is_empty() {
            match tatsu_ofproto::split_frame(rest) {
                Ok(Some((message, tail))) => {
                    framed.push(message.to_vec());
                    rest = tail;
                }
                Ok(None) | Err(_) => {
                    let offset = messages.len() - rest.len();
                    return Err(malformed(format!("the transaction's messages are not whole at byte {offset}")));
                }
            }
        }
        let xids: Vec<u32> = framed.iter().map(|_| self.fresh_xid()).collect();
        let Some(&last) = xids.last() else {
            return Err(malformed("a transaction needs at least one message".to_owned()));
        };
        for (message, xid) in framed.iter_mut().zip(&xids) {
            let own = message[4..8].to_vec();
            message[4..8].copy_from_slice(&xid.to_be_bytes());
            if let Some(at) = wire::embedded_xid_offset(message).filter(|&at| message[at..at + 4] == own[..]) {
                message[at..at + 4].copy_from_slice(&xid.to_be_bytes());
            }
        }
        let gathered: Vec<u32> = xids.iter().chain(also_gather).copied().collect();
        let deadline = Instant::now().checked_add(timeout);
        let pending = Arc::new(PendingReply::waited(last, gathered.clone(), deadline));
        {
            let mut table = lock(&self.pending);
            for xid in &xids {
                table.insert(*xid, Arc::clone(&pending));
            }
            // An earlier transaction's xids, unless another request waits under one now (never taken from it).
            for xid in also_gather {
                table.entry(*xid).or_insert_with(|| Arc::clone(&pending));
            }
        }
        if let Err(failed) = self.send_all(&framed) {
            self.forget(&pending);
            return Err(failed);
        }
        self.wait_reply(&pending, deadline, timeout).map(|replies| (xids, replies))
    }

    /// Parks until `pending` completes, its deadline or a stop; a request given up keeps dropping its late parts
    /// for a while.
    fn wait_reply(
        &self,
        pending: &PendingReply,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<Vec<u8>, RequestError> {
        let failure = match pending.reply.wait(deadline) {
            Waited::Completed(reply) => return reply,
            Waited::TimedOut => RequestFailure::TimedOut,
            Waited::Stopping => RequestFailure::Stopping,
            Waited::Interrupted => RequestFailure::Interrupted,
        };
        // Parts still on their way are dropped when they come, for a while.
        {
            let mut state = lock(&pending.state);
            state.parts = Vec::new();
            state.expires = Instant::now().checked_add(REPLY_GRACE);
        }
        let xid = pending.last;
        Err(RequestError {
            failure,
            detail: format!("{}: no reply to xid {xid} within {timeout:?}", self.describe_short()).into(),
        })
    }

    /// Removes `pending`'s xids from the table (those a newer request has not taken over since).
    fn forget(&self, pending: &Arc<PendingReply>) {
        let mut table = lock(&self.pending);
        for xid in &pending.xids {
            if table.get(xid).is_some_and(|entry| Arc::ptr_eq(entry, pending)) {
                table.remove(xid);
            }
        }
    }

    /// Adds a reply part to the request waiting under `xid`; `true` if there was one (the message is then taken).
    /// A reply growing past `max_reply_bytes` fails the request at once; its remaining parts are dropped.
    pub(super) fn complete_pending(&self, xid: u32, message: &[u8], version: u8) -> bool {
        let Some(pending) = lock(&self.pending).get(&xid).cloned() else { return false };
        let more = message[1] == wire::multipart_reply_type(version) && wire::reply_has_more(message);
        let limit = self.shared.settings().max_reply_bytes;
        {
            let mut state = lock(&pending.state);
            if pending.reply.is_open() {
                if state.parts.len() + message.len() > limit {
                    let detail = format!(
                        "{}: the reply to xid {xid} exceeds {limit} bytes (max_reply_bytes); the rest is dropped",
                        self.describe_short()
                    );
                    if let Some(suppressed) = self.shared.log_limits.oversized_reply.check() {
                        let note = crate::logging::held_back_note(suppressed);
                        log::warn!(target: "tatsu::switch", "{detail}{note}");
                    }
                    let _ = pending
                        .reply
                        .complete(Err(RequestError { failure: RequestFailure::Failed, detail: detail.into() }));
                    state.parts = Vec::new();
                    state.expires = Instant::now().checked_add(REPLY_GRACE);
                } else {
                    state.parts.extend_from_slice(message);
                    if !more && xid == pending.last {
                        // Refused (and dropped) if the requester gave up just now.
                        let _ = pending.reply.complete(Ok(std::mem::take(&mut state.parts)));
                    }
                }
            }
        }
        if !more && xid == pending.last {
            self.forget(&pending);
        }
        true
    }

    /// Forgets requests past their time: replies nobody waits for any more, and requests inherited from a
    /// predecessor whose reply never came. A requester still waiting is told it timed out.
    pub(in crate::switch) fn expire_pending(&self, now: Instant) {
        let mut expired = Vec::new();
        lock(&self.pending).retain(|xid, pending| {
            let keep = lock(&pending.state).expires.is_none_or(|expires| expires > now);
            if !keep {
                expired.push((*xid, Arc::clone(pending)));
            }
            keep
        });
        for (xid, pending) in expired {
            if pending.reply.is_open() {
                let detail = format!("{}: no reply to xid {xid} in time", self.describe_short());
                let _ = pending
                    .reply
                    .complete(Err(RequestError { failure: RequestFailure::TimedOut, detail: detail.into() }));
            } else {
                log::debug!(target: "tatsu::switch", "{}: gave up waiting for the reply to xid {xid}", self.describe_short());
            }
        }
    }

    /// Fails every request in flight: the connection closed for `reason`.
    pub(super) fn fail_pending(&self, reason: &str) {
        for (_, pending) in lock(&self.pending).drain() {
            let detail = format!("{}: disconnected: {reason}", self.describe_short());
            let _ = pending
                .reply
                .complete(Err(RequestError { failure: RequestFailure::Disconnected, detail: detail.into() }));
        }
    }
}
