//! What sits in an app's queue: [`Event`]s, one per kind of thing an app is told about.

use std::sync::Arc;

use bytes::Bytes;
use tatsu_abi::{DatapathChange, DatapathDesc, DatapathStates, RoleEventRef, WebSocketKind};

use super::credit::CreditToken;

/// An event waiting in an app's queue.
pub enum Event {
    /// An app event published by `source`.
    App { name: Arc<str>, source: Arc<str>, payload: Arc<str> },
    /// A request from `source`, to be answered with [`Bus::reply`] under `id`.
    Request { id: u64, name: Arc<str>, source: Arc<str>, payload: Arc<str> },
    /// OpenFlow messages from datapath `dpid`, received in `state`: one run of messages of one version and type
    /// from one read. The last run a delivery queued for the app holds the credit of the whole delivery (for its
    /// `Drop`) until the app has handled it; the others hold `None`.
    OpenFlow { dpid: u64, state: DatapathStates, messages: MessageRun, credit: Option<CreditToken> },
    /// A datapath lifecycle event.
    Datapath { change: DatapathChange, datapath: Arc<DatapathDesc> },
    /// An HTTP request to route `route`, to be answered with [`Bus::http_reply`] under `id`.
    Http { id: u64, route: Arc<str>, request: Box<HttpRequest> },
    /// The state the app's predecessor saved before a hot restart (JSON).
    Restore { state: Arc<str> },
    /// A client of WebSocket `path` connected, sent a message, or left.
    WebSocket { path: Arc<str>, client: u64, kind: WebSocketKind, data: Bytes },
    /// This host's role for a datapath was decided or changed.
    Role(RoleEventRef),
}

impl Event {
    /// How many of an app's events this is, for its queue's capacity and depth: the messages of a run, or 1.
    pub fn weight(&self) -> usize {
        match self {
            Event::OpenFlow { messages, .. } => messages.count(),
            _ => 1,
        }
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            Event::App { name, source, .. } => format!("app event `{name}` from `{source}`"),
            Event::Request { name, source, .. } => format!("request `{name}` from `{source}`"),
            Event::OpenFlow { dpid, messages, .. } => match messages.count() {
                1 => format!("OpenFlow message type {} from datapath {dpid:016x}", messages.msg_type()),
                n => format!("{n} OpenFlow messages of type {} from datapath {dpid:016x}", messages.msg_type()),
            },
            Event::Datapath { change, datapath } => format!("datapath {change:?} event for {:016x}", datapath.dpid),
            Event::Restore { .. } => "saved state from the previous host".to_owned(),
            Event::Http { route, .. } => format!("HTTP request `{route}`"),
            Event::WebSocket { path, client, kind, .. } => format!("WebSocket {kind:?} of client {client} on `{path}`"),
            Event::Role(role) => format!("role {:?} for datapath {:016x}", role.role, role.dpid),
        }
    }
}

/// Whole OpenFlow messages of one version and type, back to back as one read brought them: what a switch's reader
/// hands the bus, and what an app's queue holds for them (one event and one shared buffer for the run, not one
/// per message).
#[derive(Clone, Default)]
pub struct MessageRun {
    bytes: Bytes,
    count: usize,
}

impl MessageRun {
    /// A run of one message (`message` is one whole message: its header's length is its own).
    pub fn one(message: Bytes) -> Self {
        MessageRun { bytes: message, count: 1 }
    }

    /// A run of the `count` whole messages `bytes` holds back to back, framed by the reader by their headers.
    pub fn framed(bytes: Bytes, count: usize) -> Self {
        debug_assert_eq!(Messages(&bytes).count(), count, "a run holds whole messages only");
        MessageRun { bytes, count }
    }

    /// How many messages the run holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The messages' version and type as one code (`version << 8 | type`), what apps subscribe to.
    pub fn code(&self) -> u32 {
        match self.bytes.get(..2) {
            Some(&[version, msg_type]) => (u32::from(version) << 8) | u32::from(msg_type),
            _ => 0,
        }
    }

    /// The messages' type.
    pub fn msg_type(&self) -> u8 {
        self.bytes.get(1).copied().unwrap_or_default()
    }

    /// The messages, each whole with its header.
    pub fn iter(&self) -> Messages<'_> {
        Messages(&self.bytes)
    }
}

/// The messages of a [`MessageRun`], in order.
pub struct Messages<'a>(&'a [u8]);

impl<'a> Iterator for Messages<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let length = match self.0 {
            [_, _, high, low, _, _, _, _, ..] => usize::from(u16::from_be_bytes([*high, *low])),
            _ => return None,
        };
        // A run holds whole messages, framed by these same lengths; anything else ends it.
        let (message, rest) = self.0.split_at_checked(length).filter(|_| length >= 8)?;
        // Each length is read where the one before ends: a chain of loads that waits on every cache miss. The run's
        // buffer has gone cold by the time its app gets to it (other switches' reads came between), so the lines a
        // few messages ahead are asked for now.
        prefetch(rest.as_ptr().wrapping_add(PREFETCH_AHEAD));
        self.0 = rest;
        Some(message)
    }
}

/// How far ahead of the message being read [`Messages`] asks for the bytes to come: four cache lines, about three
/// packet-ins.
const PREFETCH_AHEAD: usize = 256;

/// Asks the CPU to bring the cache line holding `at` into its caches ahead of a read. A hint only: it never faults,
/// whatever the address, and does nothing where the CPU has no such instruction.
#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and does not fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// An HTTP request to an app, as the web server parsed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-encoded as received, without the query.
    pub path: String,
    /// The raw query string (empty if none).
    pub query: String,
    /// The route's parameters, percent-decoded.
    pub params: Vec<(String, String)>,
    /// The request's `Content-Type`.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gives_back_its_messages_whole_and_in_order() {
        let mut bytes = vec![4, 10, 0, 10, 0, 0, 0, 1, 0xaa, 0xbb];
        bytes.extend_from_slice(&[4, 10, 0, 8, 0, 0, 0, 2]);
        let run = MessageRun::framed(Bytes::from(bytes), 2);
        let messages: Vec<&[u8]> = run.iter().collect();
        assert_eq!(messages, [&[4, 10, 0, 10, 0, 0, 0, 1, 0xaa, 0xbb][..], &[4, 10, 0, 8, 0, 0, 0, 2][..]]);
        assert_eq!((run.count(), run.code(), run.msg_type()), (2, 0x040a, 10));
        // Bytes that are not whole messages end the iteration rather than yield a piece of one.
        assert_eq!(Messages(&[4, 10, 0, 12, 0, 0, 0, 1]).count(), 0);
        assert_eq!(Messages(&[4, 10, 0, 4, 0, 0, 0, 1]).count(), 0, "a length below the header's");
        assert_eq!(Messages(&[4, 10, 0]).count(), 0);
    }
}
