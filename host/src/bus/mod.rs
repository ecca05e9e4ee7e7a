//! The event bus: routes app events to their subscribers and requests to the app that serves them, and matches
//! replies to waiting requesters.
//!
//! Ordering: events from one producer (one app's green thread publishing, later one switch connection) reach each
//! subscriber in the order they were produced. There is no order across producers. Each subscriber has its own
//! [`queue::EventQueue`], so one slow app delays only itself; see that module for the overflow policy.

pub mod credit;
pub mod queue;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tatsu_plugin_api::abi::{DatapathStates, RequestFailure};

use crate::apps::AppState;
use crate::green::oneshot::{Oneshot, Waited};
use credit::{Credit, CreditToken};
use queue::Admission;

/// An event waiting in an app's queue.
pub enum Event {
    /// An app event published by `source`.
    App { name: Arc<str>, source: Arc<str>, payload: Arc<str> },
    /// A request from `source`, to be answered with [`Bus::reply`] under `id`.
    Request { id: u64, name: Arc<str>, source: Arc<str>, payload: Arc<str> },
    /// An OpenFlow message from datapath `dpid`, received in `state`; `_credit` is held (for its `Drop`) until
    /// the app has handled the message.
    OpenFlow { dpid: u64, state: DatapathStates, message: Bytes, _credit: CreditToken },
    /// A datapath lifecycle event (`enter`, `leave`, `state`) with the datapath described in JSON.
    Datapath { name: &'static str, dpid: u64, info: Arc<str> },
    /// An HTTP request to route `route`, to be answered with [`Bus::http_reply`] under `id`; `meta` describes it in
    /// JSON (method, path, query, params, content type).
    Http { id: u64, route: Arc<str>, meta: String, body: Bytes },
    /// The state the app's predecessor saved before a hot restart (JSON).
    Restore { state: Arc<str> },
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
            Event::Datapath { name, dpid, .. } => format!("datapath `{name}` event for {dpid:016x}"),
            Event::Restore { .. } => "saved state from the previous host".to_owned(),
            Event::Http { route, .. } => format!("HTTP request `{route}`"),
        }
    }
}

/// The reply to a request: an app request's JSON result, or an HTTP response.
pub enum Reply {
    /// The serving app's JSON reply, or its error message.
    App(Result<String, String>),
    /// An HTTP response.
    Http(HttpReply),
}

/// An HTTP response from an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request failed, with a message for the requester.
pub struct RequestFailed {
    /// The kind of failure.
    pub failure: RequestFailure,
    /// What happened.
    pub detail: String,
}

/// Subscriptions, request servers and requests in flight.
#[derive(Default)]
pub struct Bus {
    subscribers: RwLock<HashMap<String, Vec<&'static AppState>>>,
    servers: RwLock<HashMap<String, &'static AppState>>,
    /// Requests waiting for their reply, by id.
    pending: Mutex<HashMap<u64, Arc<Oneshot<Reply>>>>,
    next_request_id: AtomicU64,
    openflow_routes: RwLock<HashMap<u32, Vec<(&'static AppState, DatapathStates)>>>,
    datapath_subscribers: RwLock<HashMap<String, Vec<&'static AppState>>>,
    /// HTTP routes served by apps.
    pub http_routes: crate::web::routes::Routes,
}

impl Bus {
    /// Subscribes `app` to app events named `name`.
    pub fn subscribe(&self, app: &'static AppState, name: &str) {
        let mut subscribers = self.subscribers.write().unwrap_or_else(PoisonError::into_inner);
        subscribers.entry(name.to_owned()).or_default().push(app);
    }

    /// Makes `app` the server of requests named `name`; fails if another app serves it already.
    pub fn serve(&self, app: &'static AppState, name: &str) -> Result<(), String> {
        let mut servers = self.servers.write().unwrap_or_else(PoisonError::into_inner);
        match servers.get(name) {
            Some(other) => Err(format!("request `{name}` is already served by app `{}`", other.name)),
            None => {
                servers.insert(name.to_owned(), app);
                Ok(())
            }
        }
    }

    /// Subscribes `app` to OpenFlow messages with `code` (version << 8 | type) received in `states`.
    pub fn subscribe_openflow(&self, app: &'static AppState, code: u32, states: DatapathStates) {
        let mut routes = self.openflow_routes.write().unwrap_or_else(PoisonError::into_inner);
        let list = routes.entry(code).or_default();
        match list.iter_mut().find(|(subscriber, _)| std::ptr::eq(*subscriber, app)) {
            Some((_, existing)) => existing.0 |= states.0,
            None => list.push((app, states)),
        }
    }

    /// Subscribes `app` to datapath events named `name` (`enter`, `leave`, `state`).
    pub fn subscribe_datapath(&self, app: &'static AppState, name: &str) {
        let mut subscribers = self.datapath_subscribers.write().unwrap_or_else(PoisonError::into_inner);
        subscribers.entry(name.to_owned()).or_default().push(app);
    }

    /// Delivers an OpenFlow message to every app subscribed to its version and type in `state`; a full queue
    /// drops it for that app only (counted there).
    pub fn deliver_openflow(&self, dpid: u64, state: DatapathStates, message: Bytes, credit: &Arc<Credit>) {
        let code = (u32::from(message[0]) << 8) | u32::from(message[1]);
        let routes = self.openflow_routes.read().unwrap_or_else(PoisonError::into_inner);
        let Some(list) = routes.get(&code) else { return };
        for (subscriber, states) in list {
            if states.0 & state.0 != 0 {
                let event = Event::OpenFlow { dpid, state, message: message.clone(), _credit: credit.token() };
                let _ = subscriber.queue.push(event, Admission::Bounded);
            }
        }
    }

    /// Delivers a datapath lifecycle event to its subscribers; these are never dropped.
    pub fn deliver_datapath(&self, name: &'static str, dpid: u64, info: String) {
        let subscribers = self.datapath_subscribers.read().unwrap_or_else(PoisonError::into_inner);
        let Some(list) = subscribers.get(name) else { return };
        let info: Arc<str> = Arc::from(info);
        for subscriber in list {
            let event = Event::Datapath { name, dpid, info: Arc::clone(&info) };
            let _ = subscriber.queue.push(event, Admission::Always);
        }
    }

    /// Removes every subscription and request name of `app`.
    pub fn remove(&self, app: &AppState) {
        let mut subscribers = self.subscribers.write().unwrap_or_else(PoisonError::into_inner);
        for list in subscribers.values_mut() {
            list.retain(|subscriber| !std::ptr::eq(*subscriber, app));
        }
        subscribers.retain(|_, list| !list.is_empty());
        drop(subscribers);
        let mut servers = self.servers.write().unwrap_or_else(PoisonError::into_inner);
        servers.retain(|_, server| !std::ptr::eq(*server, app));
        drop(servers);
        let mut routes = self.openflow_routes.write().unwrap_or_else(PoisonError::into_inner);
        for list in routes.values_mut() {
            list.retain(|(subscriber, _)| !std::ptr::eq(*subscriber, app));
        }
        routes.retain(|_, list| !list.is_empty());
        drop(routes);
        let mut subscribers = self.datapath_subscribers.write().unwrap_or_else(PoisonError::into_inner);
        for list in subscribers.values_mut() {
            list.retain(|subscriber| !std::ptr::eq(*subscriber, app));
        }
        drop(subscribers);
        self.http_routes.remove(app);
    }

    /// Delivers an app event to every subscriber; a full queue drops it for that subscriber only (counted there).
    pub fn publish(&self, source: &AppState, name: &str, payload: &str) {
        let subscribers = self.subscribers.read().unwrap_or_else(PoisonError::into_inner);
        let Some(list) = subscribers.get(name) else {
            return;
        };
        let name: Arc<str> = Arc::from(name);
        let payload: Arc<str> = Arc::from(payload);
        for subscriber in list {
            let event =
                Event::App { name: Arc::clone(&name), source: Arc::clone(&source.name), payload: Arc::clone(&payload) };
            let _ = subscriber.queue.push(event, Admission::Bounded);
        }
    }

    /// Sends a request to the app serving `name` and parks the calling green thread until the reply, `timeout`
    /// or a stop.
    pub fn request(
        &self,
        source: &AppState,
        name: &str,
        payload: &str,
        timeout: Duration,
    ) -> Result<String, RequestFailed> {
        let server = {
            let servers = self.servers.read().unwrap_or_else(PoisonError::into_inner);
            servers.get(name).copied()
        };
        let Some(server) = server else {
            return Err(RequestFailed {
                failure: RequestFailure::NoServer,
                detail: format!("no app serves request `{name}`"),
            });
        };
        let id = self.next_request_id.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = Arc::new(Oneshot::new());
        self.pending().insert(id, Arc::clone(&pending));
        let event =
            Event::Request { id, name: Arc::from(name), source: Arc::clone(&source.name), payload: Arc::from(payload) };
        if server.queue.push(event, Admission::Bounded).is_err() {
            self.pending().remove(&id);
            return Err(RequestFailed {
                failure: RequestFailure::QueueFull,
                detail: format!("app `{}` cannot take request `{name}`: its queue is full", server.name),
            });
        }
        match self.wait_reply(id, &pending, timeout, || {
            format!("app `{}` did not answer request `{name}` within {timeout:?}", server.name)
        })? {
            Reply::App(result) => {
                result.map_err(|message| RequestFailed { failure: RequestFailure::Failed, detail: message })
            }
            Reply::Http(reply) => Err(RequestFailed {
                failure: RequestFailure::Failed,
                detail: format!(
                    "app `{}` answered request `{name}` with an HTTP response ({})",
                    server.name, reply.status
                ),
            }),
        }
    }

    /// Sends an HTTP request to the app serving `route` and parks the calling green thread until its response,
    /// `timeout` or a stop.
    pub fn http_request(
        &self,
        server: &'static AppState,
        route: Arc<str>,
        meta: String,
        body: Bytes,
        timeout: Duration,
    ) -> Result<HttpReply, RequestFailed> {
        let id = self.next_request_id.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = Arc::new(Oneshot::new());
        self.pending().insert(id, Arc::clone(&pending));
        let event = Event::Http { id, route: Arc::clone(&route), meta, body };
        if server.queue.push(event, Admission::Bounded).is_err() {
            self.pending().remove(&id);
            return Err(RequestFailed {
                failure: RequestFailure::QueueFull,
                detail: format!("app `{}` cannot take `{route}`: its queue is full", server.name),
            });
        }
        match self.wait_reply(id, &pending, timeout, || {
            format!("app `{}` did not answer `{route}` within {timeout:?}", server.name)
        })? {
            Reply::Http(reply) => Ok(reply),
            Reply::App(Ok(json)) => {
                Ok(HttpReply { status: 200, content_type: "application/json".to_owned(), body: json.into_bytes() })
            }
            Reply::App(Err(message)) => Err(RequestFailed { failure: RequestFailure::Failed, detail: message }),
        }
    }

    /// Parks until request `id` has its reply, `timeout` (`timed_out` says what did not happen) or a stop.
    fn wait_reply(
        &self,
        id: u64,
        pending: &Oneshot<Reply>,
        timeout: Duration,
        timed_out: impl FnOnce() -> String,
    ) -> Result<Reply, RequestFailed> {
        let failed = match pending.wait(Instant::now().checked_add(timeout)) {
            Waited::Completed(reply) => return Ok(reply),
            Waited::TimedOut => RequestFailed { failure: RequestFailure::TimedOut, detail: timed_out() },
            Waited::Stopping => RequestFailed { failure: RequestFailure::Stopping, detail: "stopping".to_owned() },
            Waited::Interrupted => {
                RequestFailed { failure: RequestFailure::Interrupted, detail: "interrupted".to_owned() }
            }
        };
        self.pending().remove(&id);
        Err(failed)
    }

    /// Delivers the reply to request `id`; a reply that comes after its request timed out is dropped.
    pub fn reply(&self, id: u64, result: Result<String, String>) {
        self.complete(id, Reply::App(result));
    }

    /// Delivers the response to HTTP request `id`; one that comes after its request timed out is dropped.
    pub fn http_reply(&self, id: u64, reply: HttpReply) {
        self.complete(id, Reply::Http(reply));
    }

    fn complete(&self, id: u64, result: Reply) {
        let pending = self.pending().remove(&id);
        if pending.is_none_or(|pending| pending.complete(result).is_err()) {
            log::debug!(target: "tatsu::bus", "reply to request {id} came after it timed out; dropped");
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Oneshot<Reply>>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
