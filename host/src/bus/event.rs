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
    /// An OpenFlow message from datapath `dpid`, received in `state`. The last message of a batch from one read
    /// holds the batch's credit (for its `Drop`) until the app has handled it; the others hold `None`.
    OpenFlow { dpid: u64, state: DatapathStates, message: Bytes, credit: Option<CreditToken> },
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
    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            Event::App { name, source, .. } => format!("app event `{name}` from `{source}`"),
            Event::Request { name, source, .. } => format!("request `{name}` from `{source}`"),
            Event::OpenFlow { dpid, message, .. } => format!(
                "OpenFlow message type {} from datapath {dpid:016x}",
                message.get(1).copied().unwrap_or_default()
            ),
            Event::Datapath { change, datapath } => format!("datapath {change:?} event for {:016x}", datapath.dpid),
            Event::Restore { .. } => "saved state from the previous host".to_owned(),
            Event::Http { route, .. } => format!("HTTP request `{route}`"),
            Event::WebSocket { path, client, kind, .. } => format!("WebSocket {kind:?} of client {client} on `{path}`"),
            Event::Role(role) => format!("role {:?} for datapath {:016x}", role.role, role.dpid),
        }
    }
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
