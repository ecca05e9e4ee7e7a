//! The app model: an [`App`] type, its handlers registered per event in [`Handlers`], and the events they receive.

use std::collections::HashMap;
use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde::Serialize;

use tatsu_ofproto::{OFP_VERSION_1_0, OFP_VERSION_1_3};

use crate::context::Context;
use crate::openflow::{Datapath, DatapathInfo, DatapathStates, OfMessage, PacketIn};

/// `OFPT_PACKET_IN` (1.0 and 1.3).
const PACKET_IN: u8 = 10;

/// The error type app hooks return: anything that is an error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A tatsu app. Implement it, then export the type with [`crate::export_app!`].
///
/// The host creates the app with [`App::new`], collects its handlers with [`App::register`], calls
/// [`App::start`], then runs the handlers for each event the app subscribed to, one event at a time and in order,
/// on the app's own green thread. [`App::stop`] runs at shutdown or restart; after it, every green thread the app
/// spawned is stopped.
pub trait App: Sized + Send + 'static {
    /// The app's unique name: its log target, its config section (`[app.NAME]`), what `--app NAME` selects.
    const NAME: &'static str;
    /// One line saying what the app does.
    const DESCRIPTION: &'static str = "";
    /// Apps that must be started before this one (Ryu's `require_app`).
    const REQUIRES: &'static [&'static str] = &[];

    /// The app's configuration, deserialized from its section of the host's config file (missing section: the
    /// type's `Default`).
    type Config: DeserializeOwned + Default;

    /// Creates the app.
    fn new(ctx: &Context, config: Self::Config) -> Result<Self, BoxError>;

    /// Registers the app's handlers; the host delivers only events that have one.
    fn register(handlers: &mut Handlers<Self>);

    /// Runs once, on the app's green thread, before the first event. An error stops the app from loading.
    fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        Ok(())
    }

    /// Runs once when the app stops (shutdown or restart), before its green threads are stopped.
    fn stop(&mut self, _ctx: &Context) {}

    /// Before a hot restart (just before [`App::stop`]): state to hand to this app's successor, which receives it
    /// in [`App::restore_state`]. `None` (the default) saves nothing.
    fn save_state(&mut self, _ctx: &Context) -> Option<serde_json::Value> {
        None
    }

    /// After a hot restart: the state the predecessor saved, delivered after [`App::start`] like an event.
    fn restore_state(&mut self, _ctx: &Context, _state: serde_json::Value) {}
}

/// An app event: a name and a JSON payload, published by an app with [`Context::publish`].
#[derive(Debug, Clone, Copy)]
pub struct AppEvent<'a> {
    pub(crate) name: &'a str,
    pub(crate) source: &'a str,
    pub(crate) payload: &'a [u8],
}

impl<'a> AppEvent<'a> {
    /// The event's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The name of the app that published it.
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The payload as JSON text.
    pub fn payload_str(&self) -> &'a str {
        std::str::from_utf8(self.payload).unwrap_or("")
    }

    /// The payload deserialized into `T`.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.payload)
    }
}

/// A request from another app (Ryu's `send_request`); the handler's return value is the reply.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub(crate) name: &'a str,
    pub(crate) source: &'a str,
    pub(crate) payload: &'a [u8],
}

impl<'a> Request<'a> {
    /// The request's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The name of the requesting app.
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The payload deserialized into `T`.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.payload)
    }
}

/// What a handler may return: nothing, or a `Result` whose error is reported to the host (logged and counted).
pub trait HandlerOutcome {
    /// `Err(message)` if the handler failed.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

pub(crate) type OpenFlowHandler<A> = Box<dyn FnMut(&mut A, &Context, &OfMessage<'_>) -> Result<(), String> + Send>;
pub(crate) type DatapathHandler<A> = Box<dyn FnMut(&mut A, &Context, &DatapathInfo) -> Result<(), String> + Send>;
pub(crate) type AppEventHandler<A> = Box<dyn FnMut(&mut A, &Context, &AppEvent<'_>) -> Result<(), String> + Send>;
pub(crate) type RequestHandler<A> = Box<dyn FnMut(&mut A, &Context, &Request<'_>) -> Result<String, String> + Send>;
pub(crate) use crate::http::HttpHandler;

/// The handlers of an app, registered in [`App::register`] (Ryu's `set_ev_cls`).
pub struct Handlers<A> {
    pub(crate) app_events: HashMap<String, Vec<AppEventHandler<A>>>,
    pub(crate) requests: HashMap<String, RequestHandler<A>>,
    /// By `version << 8 | type`: the states each handler wants and the handler.
    pub(crate) openflow: HashMap<u32, Vec<(DatapathStates, OpenFlowHandler<A>)>>,
    /// By `enter`, `leave`, `state`.
    pub(crate) datapath: HashMap<&'static str, Vec<DatapathHandler<A>>>,
    /// By route, `METHOD /path/{param}`.
    pub(crate) http: HashMap<String, HttpHandler<A>>,
}

impl<A: App> Handlers<A> {
    pub(crate) fn new() -> Self {
        Handlers {
            app_events: HashMap::new(),
            requests: HashMap::new(),
            openflow: HashMap::new(),
            datapath: HashMap::new(),
            http: HashMap::new(),
        }
    }

    /// Calls `handler` for every OpenFlow message of `msg_type` in wire `version` that a datapath sends while in one
    /// of `states` (Ryu's `set_ev_cls(event, dispatchers)`).
    pub fn on_message<R, F>(&mut self, version: u8, msg_type: u8, states: DatapathStates, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &OfMessage<'_>) -> R + Send + 'static,
    {
        let code = (u32::from(version) << 8) | u32::from(msg_type);
        self.openflow
            .entry(code)
            .or_default()
            .push((states, Box::new(move |app, ctx, message| handler(app, ctx, message).into_outcome())));
        self
    }

    /// Calls `handler` for every packet-in (OpenFlow 1.0 and 1.3) from a datapath in MAIN, with the datapath and
    /// a cheap view of the packet-in. A malformed packet-in is reported as a handler failure.
    pub fn on_packet_in<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &Datapath, &PacketIn<'_>) -> R + Send + 'static,
    {
        let handler = std::sync::Arc::new(std::sync::Mutex::new(handler));
        for version in [OFP_VERSION_1_0, OFP_VERSION_1_3] {
            let handler = std::sync::Arc::clone(&handler);
            self.on_message(
                version,
                PACKET_IN,
                DatapathStates::MAIN,
                move |app: &mut A, ctx: &Context, message: &OfMessage<'_>| {
                    let packet_in = message.packet_in().map_err(|e| format!("malformed packet-in: {e}"))?;
                    let mut handler = handler.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    (*handler)(app, ctx, &message.datapath(), &packet_in).into_outcome()
                },
            );
        }
        self
    }

    /// Calls `handler` when a datapath becomes ready (enters MAIN), with its features and ports.
    pub fn on_datapath_enter<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath("enter", handler)
    }

    /// Calls `handler` when a datapath in MAIN disconnects (or is replaced by a new connection); `reason` says why.
    pub fn on_datapath_leave<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath("leave", handler)
    }

    /// Calls `handler` on every state change of every switch connection (HANDSHAKE, CONFIG, MAIN, DEAD).
    pub fn on_datapath_state<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath("state", handler)
    }

    fn on_datapath<R, F>(&mut self, name: &'static str, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.datapath
            .entry(name)
            .or_default()
            .push(Box::new(move |app, ctx, info| handler(app, ctx, info).into_outcome()));
        self
    }

    /// Calls `handler` for every app event named `name` (several handlers run in registration order).
    pub fn on_app_event<R, F>(&mut self, name: &str, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &AppEvent<'_>) -> R + Send + 'static,
    {
        self.app_events
            .entry(name.to_owned())
            .or_default()
            .push(Box::new(move |app, ctx, event| handler(app, ctx, event).into_outcome()));
        self
    }

    /// Serves requests named `name`: the handler's `Ok` value is the reply, its `Err` fails the request. Only one
    /// app serves a request name; registering a name twice in one app keeps the last handler.
    pub fn on_request<T, E, F>(&mut self, name: &str, mut handler: F) -> &mut Self
    where
        T: Serialize,
        E: Display,
        F: FnMut(&mut A, &Context, &Request<'_>) -> Result<T, E> + Send + 'static,
    {
        self.requests.insert(
            name.to_owned(),
            Box::new(move |app, ctx, request| match handler(app, ctx, request) {
                Ok(value) => serde_json::to_string(&value).map_err(|e| format!("reply is not serializable: {e}")),
                Err(e) => Err(e.to_string()),
            }),
        );
        self
    }
}
