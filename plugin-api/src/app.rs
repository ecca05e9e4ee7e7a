//! The app model: an [`App`] type and its handlers, registered per event in [`Handlers`] (Ryu's `set_ev_cls`).

use std::collections::HashMap;
use std::fmt::Display;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::abi::DatapathChange;
use crate::cluster::RoleChange;
use crate::context::{AppEvent, AppRequest, Context};
use crate::openflow::{Datapath, DatapathInfo, DatapathStates, OfMessage, SwitchMessage};

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
    /// Whether the host starts this app when no `--app` names the apps to start (the default). An app that would
    /// fight others over the same switches, such as the teaching `simple-switch` against `forwarding`, says
    /// `false`: it starts only when named, or when an app that is started requires it.
    const AUTOSTART: bool = true;

    /// The app's configuration, deserialized from its section of the host's config file (missing section: the
    /// type's `Default`).
    type Config: DeserializeOwned + Default;

    /// Creates the app.
    fn new(ctx: &Context, config: Self::Config) -> Result<Self, BoxError>;

    /// Registers the app's handlers; the host delivers only events that have one. Handlers that run on green
    /// threads of their own ([`Handlers::on_http_spawn`]) take what they share with the app from `self`.
    fn register(&self, handlers: &mut Handlers<Self>);

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

/// A handler of messages of type `M`: any `FnMut(&mut A, &Context, &Datapath, M::View<'_>)` returning a
/// [`HandlerOutcome`], such as a method `fn packet_in(&mut self, ctx: &Context, dp: &Datapath, p: PacketIn<'_>)`.
pub trait MessageHandler<A, M: SwitchMessage>: Send + 'static {
    /// Runs the handler.
    fn call(&mut self, app: &mut A, ctx: &Context, datapath: &Datapath, message: M::View<'_>) -> Result<(), String>;
}

impl<A, M, F, R> MessageHandler<A, M> for F
where
    M: SwitchMessage,
    R: HandlerOutcome,
    F: for<'a> FnMut(&mut A, &Context, &Datapath, M::View<'a>) -> R + Send + 'static,
{
    #[inline]
    fn call(&mut self, app: &mut A, ctx: &Context, datapath: &Datapath, message: M::View<'_>) -> Result<(), String> {
        self(app, ctx, datapath, message).into_outcome()
    }
}

pub(crate) type OpenFlowHandler<A> = Box<dyn FnMut(&mut A, &Context, &OfMessage<'_>) -> Result<(), String> + Send>;
pub(crate) type DatapathHandler<A> = Box<dyn FnMut(&mut A, &Context, &DatapathInfo) -> Result<(), String> + Send>;
/// Takes the publishing app's name and the JSON payload.
pub(crate) type AppEventHandler<A> = Box<dyn FnMut(&mut A, &Context, &str, &str) -> Result<(), String> + Send>;
pub(crate) type RequestHandler<A> = Box<dyn FnMut(&mut A, &Context, &str) -> Result<String, String> + Send>;
pub(crate) type RoleHandler<A> = Box<dyn FnMut(&mut A, &Context, &RoleChange) -> Result<(), String> + Send>;
pub(crate) type TimerHandler<A> = Box<dyn FnMut(&mut A, &Context) -> Result<(), String> + Send>;

/// A periodic handler ([`Handlers::on_timer`]).
pub(crate) struct Timer<A> {
    pub(crate) period: Duration,
    pub(crate) handler: TimerHandler<A>,
}
pub(crate) use crate::http::HttpHandler;
use crate::websocket::WebSocketHandler;

/// A handler's place in [`Handlers::openflow_handlers`], and the datapath states it wants messages in.
pub(crate) type OpenFlowRoute = (DatapathStates, usize);

/// The OpenFlow handlers by `(version, type)`, looked up on every message a datapath sends: a table of 256 types
/// per version registered, indexed by the header's two bytes (no hashing).
#[derive(Default)]
pub(crate) struct OpenFlowRoutes {
    by_version: Vec<Option<Box<[Vec<OpenFlowRoute>; 256]>>>,
}

impl OpenFlowRoutes {
    /// Routes messages with `code` (version, type) to handler `index` while the datapath is in `states`.
    fn add(&mut self, (version, msg_type): (u8, u8), states: DatapathStates, index: usize) {
        let version = usize::from(version);
        if self.by_version.len() <= version {
            self.by_version.resize_with(version + 1, || None);
        }
        let types = self.by_version[version].get_or_insert_with(|| Box::new(std::array::from_fn(|_| Vec::new())));
        types[usize::from(msg_type)].push((states, index));
    }

    /// The handlers of messages with `version` and `msg_type`, in registration order.
    #[inline]
    pub(crate) fn get(&self, version: u8, msg_type: u8) -> &[OpenFlowRoute] {
        match self.by_version.get(usize::from(version)) {
            Some(Some(types)) => &types[usize::from(msg_type)],
            _ => &[],
        }
    }

    /// Every `(version, type)` with a handler, and its handlers.
    pub(crate) fn iter(&self) -> impl Iterator<Item = ((u8, u8), &[OpenFlowRoute])> {
        let versions =
            self.by_version.iter().zip(0u8..=255).filter_map(|(types, version)| Some((version, types.as_ref()?)));
        versions.flat_map(|(version, types)| {
            types
                .iter()
                .zip(0u8..=255)
                .filter(|(list, _)| !list.is_empty())
                .map(move |(list, msg_type)| ((version, msg_type), list.as_slice()))
        })
    }
}

/// The handlers of an app, registered in [`App::register`].
pub struct Handlers<A> {
    /// By event name: each handler takes the JSON payload.
    pub(crate) app_events: HashMap<&'static str, Vec<AppEventHandler<A>>>,
    /// By request name: the handler takes the JSON payload and answers JSON.
    pub(crate) requests: HashMap<&'static str, RequestHandler<A>>,
    /// The OpenFlow handlers, once each (a typed handler serves the codes of every version).
    pub(crate) openflow_handlers: Vec<OpenFlowHandler<A>>,
    /// By `(version, type)`: the states each handler wants and its index in `openflow_handlers`.
    pub(crate) openflow: OpenFlowRoutes,
    pub(crate) datapath: HashMap<DatapathChange, Vec<DatapathHandler<A>>>,
    /// By route, `METHOD /path/{param}`.
    pub(crate) http: HashMap<String, HttpHandler<A>>,
    /// Periodic handlers, by index (the index is what a tick carries).
    pub(crate) timers: Vec<Timer<A>>,
    /// By WebSocket path; `None` for a path the app only pushes to.
    pub(crate) websocket: HashMap<String, Option<WebSocketHandler<A>>>,
    /// Role handlers, in registration order.
    pub(crate) roles: Vec<RoleHandler<A>>,
}

impl<A: App> Handlers<A> {
    pub(crate) fn new() -> Self {
        Handlers {
            app_events: HashMap::new(),
            requests: HashMap::new(),
            openflow_handlers: Vec::new(),
            openflow: OpenFlowRoutes::default(),
            datapath: HashMap::new(),
            http: HashMap::new(),
            timers: Vec::new(),
            websocket: HashMap::new(),
            roles: Vec::new(),
        }
    }

    /// Calls `handler` when this host's role for a datapath is decided, and each time it changes (master, slave;
    /// see [`crate::cluster`]). A host without a cluster is master of every datapath: the handler runs once per
    /// datapath, with [`crate::Role::Master`], right after its enter handlers. Apps that do not register one see
    /// nothing of roles, except that a slave's sends that change the switch fail with
    /// [`crate::OfErrorKind::NotMaster`].
    pub fn on_role<R, F>(&mut self, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &RoleChange) -> R + Send + 'static,
    {
        self.roles.push(Box::new(move |app, ctx, change| handler(app, ctx, change).into_outcome()));
        self
    }

    /// Calls `handler` with every message of type `M` a datapath in MAIN sends, whatever its version carries it:
    /// `on_message::<PacketIn>(Self::packet_in)`. A message that does not decode is reported as a handler failure.
    pub fn on_message<M: SwitchMessage>(&mut self, handler: impl MessageHandler<A, M>) -> &mut Self {
        self.on_message_in::<M>(DatapathStates::MAIN, handler)
    }

    /// Like [`Handlers::on_message`], for messages received while the datapath is in one of `states` (Ryu's
    /// dispatchers).
    pub fn on_message_in<M: SwitchMessage>(
        &mut self,
        states: DatapathStates,
        handler: impl MessageHandler<A, M>,
    ) -> &mut Self {
        let mut handler = handler;
        let index = self.add_openflow_handler(Box::new(move |app: &mut A, ctx: &Context, message: &OfMessage<'_>| {
            // Matched, not `map_err`ed: re-wrapping the view in another `Result` copied it through the stack.
            match M::view(message) {
                Ok(view) => handler.call(app, ctx, message.datapath(), view),
                Err(e) => Err(format!("malformed {}: {e}", M::NAME)),
            }
        }));
        for &code in M::CODES {
            self.openflow.add(code, states, index);
        }
        self
    }

    fn add_openflow_handler(&mut self, handler: OpenFlowHandler<A>) -> usize {
        self.openflow_handlers.push(handler);
        self.openflow_handlers.len() - 1
    }

    /// Calls `handler` with every OpenFlow message of `msg_type` in wire `version` that a datapath sends while in
    /// one of `states`, undecoded: for messages no [`SwitchMessage`] type covers (experimenter extensions, say).
    pub fn on_raw_message<R, F>(
        &mut self,
        version: u8,
        msg_type: u8,
        states: DatapathStates,
        mut handler: F,
    ) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &OfMessage<'_>) -> R + Send + 'static,
    {
        let index =
            self.add_openflow_handler(Box::new(move |app, ctx, message| handler(app, ctx, message).into_outcome()));
        self.openflow.add((version, msg_type), states, index);
        self
    }

    /// Calls `handler` when a datapath becomes ready (enters MAIN), with its features and ports.
    pub fn on_datapath_enter<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath(DatapathChange::Enter, handler)
    }

    /// Calls `handler` when a datapath in MAIN disconnects (or is replaced by a new connection); `reason` says why.
    pub fn on_datapath_leave<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath(DatapathChange::Leave, handler)
    }

    /// Calls `handler` on every state change of every switch connection (HANDSHAKE, CONFIG, MAIN, DEAD).
    pub fn on_datapath_state<R, F>(&mut self, handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.on_datapath(DatapathChange::State, handler)
    }

    fn on_datapath<R, F>(&mut self, change: DatapathChange, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &DatapathInfo) -> R + Send + 'static,
    {
        self.datapath
            .entry(change)
            .or_default()
            .push(Box::new(move |app, ctx, info| handler(app, ctx, info).into_outcome()));
        self
    }

    /// Calls `handler` with every app event of type `E` any app publishes (several handlers run in registration
    /// order). A payload that does not decode as `E` is reported as a handler failure.
    pub fn on_event<E, R, F>(&mut self, mut handler: F) -> &mut Self
    where
        E: AppEvent,
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, E) -> R + Send + 'static,
    {
        self.on_event_from(move |app: &mut A, ctx: &Context, _source: &str, event: E| handler(app, ctx, event))
    }

    /// Like [`Handlers::on_event`], with the name of the app that published the event.
    pub fn on_event_from<E, R, F>(&mut self, mut handler: F) -> &mut Self
    where
        E: AppEvent,
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context, &str, E) -> R + Send + 'static,
    {
        self.app_events.entry(E::NAME).or_default().push(Box::new(move |app, ctx, source, payload| {
            let event: E = serde_json::from_str(payload).map_err(|e| format!("payload is not a `{}`: {e}", E::NAME))?;
            handler(app, ctx, source, event).into_outcome()
        }));
        self
    }

    /// Serves requests of type `Q`: the handler's `Ok` value is the reply, its `Err` fails the request. Only one
    /// app serves a request; registering one twice in an app keeps the last handler.
    pub fn on_request<Q, E, F>(&mut self, mut handler: F) -> &mut Self
    where
        Q: AppRequest,
        E: Display,
        F: FnMut(&mut A, &Context, Q) -> Result<Q::Reply, E> + Send + 'static,
    {
        self.requests.insert(
            Q::NAME,
            Box::new(move |app, ctx, payload| {
                let request: Q =
                    serde_json::from_str(payload).map_err(|e| format!("payload is not a `{}`: {e}", Q::NAME))?;
                let reply = handler(app, ctx, request).map_err(|e| e.to_string())?;
                serde_json::to_string(&reply).map_err(|e| format!("reply is not serializable: {e}"))
            }),
        );
        self
    }

    /// Calls `handler` every `period` (the first time one period after [`App::start`]), on the app's event loop
    /// like any other handler: it never runs at the same time as another handler of the app, and sees `&mut self`.
    ///
    /// Ticks come from a green thread the adapter starts for each timer, at multiples of `period` from the start.
    /// A tick waits until its handler has run: a handler (or an event loop) slower than `period` skips the ticks it
    /// missed instead of running them back to back, so the handler can count its calls as rounds. A zero `period`
    /// is taken as 1 ms. In the test kit nothing ticks by itself: `TestKit::advance` and `TestKit::fire_timers`
    /// run timers on the test's thread.
    pub fn on_timer<R, F>(&mut self, period: Duration, mut handler: F) -> &mut Self
    where
        R: HandlerOutcome,
        F: FnMut(&mut A, &Context) -> R + Send + 'static,
    {
        let period = period.max(Duration::from_millis(1));
        self.timers.push(Timer { period, handler: Box::new(move |app, ctx| handler(app, ctx).into_outcome()) });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openflow_routes_find_each_code_s_handlers_in_order_and_list_every_code() {
        let mut routes = OpenFlowRoutes::default();
        routes.add((4, 10), DatapathStates::MAIN, 0);
        routes.add((1, 10), DatapathStates::MAIN, 0);
        routes.add((4, 10), DatapathStates::CONFIG, 1);
        routes.add((0xff, 0xff), DatapathStates::MAIN, 2);
        assert_eq!(routes.get(4, 10), [(DatapathStates::MAIN, 0), (DatapathStates::CONFIG, 1)]);
        assert_eq!(routes.get(1, 10), [(DatapathStates::MAIN, 0)]);
        assert_eq!(routes.get(0xff, 0xff), [(DatapathStates::MAIN, 2)]);
        assert!(routes.get(4, 11).is_empty(), "a type of a registered version with no handler");
        assert!(routes.get(5, 10).is_empty(), "a version within the table with none");
        let codes: Vec<(u8, u8)> = routes.iter().map(|(code, _)| code).collect();
        assert_eq!(codes, [(1, 10), (4, 10), (0xff, 0xff)]);
    }
}
