//! WebSocket paths served by apps (what Ryu's `gui_topology` and `rest_topology` push topology changes over): an app
//! registers a path with [`Handlers::on_websocket`] (or [`Handlers::serve_websocket`] if it only pushes), the host's
//! web server upgrades the connections that ask for it (RFC 6455, with the REST server's bearer token), and the app
//! pushes to every connected client with [`Context::websocket_broadcast`], or to one with
//! [`Context::websocket_send`].
//!
//! Pushing never blocks: the message is encoded once and queued for each client. A client that does not take its
//! messages (a stalled browser tab, a dead peer) is disconnected once its queue is full, without holding anything
//! up. What clients send reaches the app as [`WebSocketEvent`]s on its event loop, in order with its other events.
//!
//! ```no_run
//! use tatsu_plugin_api::websocket::WebSocketEvent;
//! use tatsu_plugin_api::{Context, Handlers};
//! # struct Board { notes: Vec<String> }
//! # impl tatsu_plugin_api::App for Board {
//! #     const NAME: &'static str = "board";
//! #     type Config = ();
//! #     fn new(_: &Context, _: ()) -> Result<Self, tatsu_plugin_api::BoxError> { Ok(Board { notes: Vec::new() }) }
//! fn register(&self, handlers: &mut Handlers<Self>) {
//!     handlers.on_websocket("/board/ws", |app: &mut Board, ctx: &Context, event: &WebSocketEvent<'_>| {
//!         match event {
//!             // A newcomer gets what was said so far; then everyone hears what anyone says.
//!             WebSocketEvent::Open { client } => {
//!                 for note in &app.notes {
//!                     ctx.websocket_send("/board/ws", *client, note)?;
//!                 }
//!             }
//!             WebSocketEvent::Text { text, .. } => {
//!                 app.notes.push(text.to_string());
//!                 ctx.websocket_broadcast("/board/ws", text)?;
//!             }
//!             _ => {}
//!         }
//!         Ok::<(), tatsu_plugin_api::websocket::WebSocketError>(())
//!     });
//! }
//! # }
//! ```

use std::fmt;

use abi_stable::std_types::{RSlice, RStr};

use crate::abi::{Subscription, WebSocketEventRef, WebSocketKind};
use crate::adapter::report_fault;
use crate::app::{App, HandlerOutcome, Handlers};
use crate::context::Context;
use crate::panic::{self, Caught};

/// What a client of one of the app's WebSocket paths did. `client` is the host's number for the connection, to
/// answer it with [`Context::websocket_send`]; it is not reused while the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSocketEvent<'a> {
    /// A client connected. Every `Open` is followed, some time, by one `Close` for the same client.
    Open {
        /// The client.
        client: u64,
    },
    /// A client sent a text message (UTF-8, checked by the host).
    Text {
        /// The client.
        client: u64,
        /// The message.
        text: &'a str,
    },
    /// A client sent a binary message.
    Binary {
        /// The client.
        client: u64,
        /// The message.
        data: &'a [u8],
    },
    /// A client disconnected or was disconnected: messages for it are refused from now on.
    Close {
        /// The client.
        client: u64,
    },
}

impl WebSocketEvent<'_> {
    /// The client the event is about.
    pub fn client(&self) -> u64 {
        match *self {
            WebSocketEvent::Open { client }
            | WebSocketEvent::Text { client, .. }
            | WebSocketEvent::Binary { client, .. }
            | WebSocketEvent::Close { client } => client,
        }
    }
}

/// A push or close the host refused: the path is not the app's, the client is gone or being disconnected, or the
/// message is larger than a client's send queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketError(pub String);

impl fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebSocketError {}

pub(crate) type WebSocketHandler<A> =
    Box<dyn FnMut(&mut A, &Context, &WebSocketEvent<'_>) -> Result<(), String> + Send>;

impl<A: App> Handlers<A> {
    /// Serves WebSocket `path` (a literal path such as `/v1.0/topology/ws`: no parameters) and hands `handler` what
    /// its clients do, on the app's event loop, in order with the app's other events. A client's messages are
    /// queued like other events: past the app's queue capacity they are dropped (and counted). A path another app
    /// serves makes this app fail to start.
    pub fn on_websocket<R, F>(&mut self, path: &str, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &WebSocketEvent<'_>) -> R + Send + 'static,
    {
        let boxed = Box::new(move |app: &mut A, ctx: &Context, event: &WebSocketEvent<'_>| {
            handler(app, ctx, event).into_outcome()
        });
        self.websocket.insert(path.trim().to_owned(), Some(boxed));
        self
    }

    /// Serves WebSocket `path` for pushing only: what its clients send is discarded, and the app is told of no
    /// opens or closes.
    pub fn serve_websocket(&mut self, path: &str) -> &mut Self {
        self.websocket.insert(path.trim().to_owned(), None);
        self
    }
}

impl Context {
    /// Queues text `message` for every client connected to WebSocket `path` (one this app serves); returns how
    /// many clients it was queued for. Never blocks: the message is encoded once, and a client whose send queue
    /// is full is disconnected (close 1008) instead of waited for.
    pub fn websocket_broadcast(&self, path: &str, message: &str) -> Result<u64, WebSocketError> {
        self.broadcast(path, message.as_bytes(), false)
    }

    /// [`Context::websocket_broadcast`] for a binary message.
    pub fn websocket_broadcast_binary(&self, path: &str, message: &[u8]) -> Result<u64, WebSocketError> {
        self.broadcast(path, message, true)
    }

    fn broadcast(&self, path: &str, message: &[u8], binary: bool) -> Result<u64, WebSocketError> {
        let host = self.host();
        let sent = host.services.websocket_broadcast()(host.app, RStr::from(path), RSlice::from_slice(message), binary);
        sent.into_result().map_err(|e| WebSocketError(e.into_string()))
    }

    /// Queues text `message` for one client of WebSocket `path` (its number from a [`WebSocketEvent`]). Never
    /// blocks.
    pub fn websocket_send(&self, path: &str, client: u64, message: &str) -> Result<(), WebSocketError> {
        self.send_to(path, client, message.as_bytes(), false)
    }

    /// [`Context::websocket_send`] for a binary message.
    pub fn websocket_send_binary(&self, path: &str, client: u64, message: &[u8]) -> Result<(), WebSocketError> {
        self.send_to(path, client, message, true)
    }

    fn send_to(&self, path: &str, client: u64, message: &[u8], binary: bool) -> Result<(), WebSocketError> {
        let host = self.host();
        let services = host.services;
        let sent = services.websocket_send()(host.app, RStr::from(path), client, RSlice::from_slice(message), binary);
        sent.into_result().map_err(|e| WebSocketError(e.into_string()))
    }

    /// Closes one client of WebSocket `path` once what is queued for it is sent, with `code` (1000, or 3000-4999
    /// for the app's own meanings) and `reason` (cut to 123 bytes). Never blocks.
    pub fn websocket_close(&self, path: &str, client: u64, code: u16, reason: &str) -> Result<(), WebSocketError> {
        let host = self.host();
        let closed = host.services.websocket_close()(host.app, RStr::from(path), client, code, RStr::from(reason));
        closed.into_result().map_err(|e| WebSocketError(e.into_string()))
    }
}

/// The subscriptions for the app's WebSocket paths.
pub(crate) fn subscriptions<A>(handlers: &Handlers<A>) -> impl Iterator<Item = Subscription> + '_ {
    handlers
        .websocket
        .iter()
        .map(|(path, handler)| Subscription::WebSocket { path: path.as_str().into(), events: handler.is_some() })
}

/// Runs the handler of a WebSocket event; `false` if the app is stopping.
pub(crate) fn dispatch<A: App>(
    app: &mut A,
    handlers: &mut Handlers<A>,
    ctx: &Context,
    event: &WebSocketEventRef<'_>,
) -> bool {
    let Some(Some(handler)) = handlers.websocket.get_mut(event.path.as_str()) else { return true };
    let client = event.client;
    let data: &[u8] = &event.data;
    let typed = match event.kind {
        WebSocketKind::Open => WebSocketEvent::Open { client },
        WebSocketKind::Close => WebSocketEvent::Close { client },
        WebSocketKind::Binary => WebSocketEvent::Binary { client, data },
        WebSocketKind::Text => match std::str::from_utf8(data) {
            Ok(text) => WebSocketEvent::Text { client, text },
            // The host checks text; a message that is not UTF-8 is passed on as what it is.
            Err(_) => WebSocketEvent::Binary { client, data },
        },
    };
    let describe = || format!("WebSocket {:?} of client {client} on `{}`", event.kind, event.path);
    match panic::catch(|| handler(app, ctx, &typed)) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            report_fault(ctx, &describe(), &format!("handler failed: {e}"));
            true
        }
        Err(Caught::Panic(e)) => {
            report_fault(ctx, &describe(), &format!("panicked: {e}"));
            true
        }
        Err(Caught::Exit) => false,
    }
}

/// What an app pushed, as the test kit records it ([`crate::testing::TestKit::take_websocket_pushed`]).
#[cfg(feature = "test-kit")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// [`Context::websocket_broadcast`] (or `_binary`).
    Broadcast {
        /// The path.
        path: String,
        /// The message.
        data: Vec<u8>,
        /// Sent as a binary message.
        binary: bool,
    },
    /// [`Context::websocket_send`] (or `_binary`).
    Send {
        /// The path.
        path: String,
        /// The client.
        client: u64,
        /// The message.
        data: Vec<u8>,
        /// Sent as a binary message.
        binary: bool,
    },
    /// [`Context::websocket_close`].
    Close {
        /// The path.
        path: String,
        /// The client.
        client: u64,
        /// The close code.
        code: u16,
        /// The reason.
        reason: String,
    },
}

/// The test kit's WebSocket side: the clients its test opened, and what the app pushed.
#[cfg(feature = "test-kit")]
#[derive(Default)]
pub(crate) struct KitRecord {
    clients: std::collections::BTreeSet<(String, u64)>,
    pub(crate) pushed: Vec<Pushed>,
}

#[cfg(feature = "test-kit")]
impl KitRecord {
    pub(crate) fn track(&mut self, path: &str, event: &WebSocketEvent<'_>) {
        match event {
            WebSocketEvent::Open { client } => {
                self.clients.insert((path.to_owned(), *client));
            }
            WebSocketEvent::Close { client } => {
                self.clients.remove(&(path.to_owned(), *client));
            }
            _ => {}
        }
    }

    fn connected(&self, path: &str, client: u64) -> Result<(), String> {
        match self.clients.contains(&(path.to_owned(), client)) {
            true => Ok(()),
            false => Err(format!("no WebSocket client {client} on `{path}`")),
        }
    }

    pub(crate) fn broadcast(&mut self, path: &str, data: &[u8], binary: bool) -> Result<u64, String> {
        self.pushed.push(Pushed::Broadcast { path: path.to_owned(), data: data.to_vec(), binary });
        Ok(self.clients.iter().filter(|(open, _)| open == path).count() as u64)
    }

    pub(crate) fn send(&mut self, path: &str, client: u64, data: &[u8], binary: bool) -> Result<(), String> {
        self.connected(path, client)?;
        self.pushed.push(Pushed::Send { path: path.to_owned(), client, data: data.to_vec(), binary });
        Ok(())
    }

    pub(crate) fn close(&mut self, path: &str, client: u64, code: u16, reason: &str) -> Result<(), String> {
        self.connected(path, client)?;
        self.pushed.push(Pushed::Close { path: path.to_owned(), client, code, reason: reason.to_owned() });
        Ok(())
    }
}

/// The ABI kind and data of an event the test kit delivers.
#[cfg(feature = "test-kit")]
pub(crate) fn kit_event_parts<'a>(event: &WebSocketEvent<'a>) -> (WebSocketKind, &'a [u8]) {
    match *event {
        WebSocketEvent::Open { .. } => (WebSocketKind::Open, &[]),
        WebSocketEvent::Text { text, .. } => (WebSocketKind::Text, text.as_bytes()),
        WebSocketEvent::Binary { data, .. } => (WebSocketKind::Binary, data),
        WebSocketEvent::Close { .. } => (WebSocketKind::Close, &[]),
    }
}
