//! The event bus: routes app events to their subscribers and requests to the app that serves them, and matches
//! replies to waiting requesters.
//!
//! Ordering: events from one producer (one app's green thread publishing, later one switch connection) reach each
//! subscriber in the order they were produced. There is no order across producers. Each subscriber has its own
//! [`queue::EventQueue`], so one slow app delays only itself; see that module for the overflow policy.

pub mod credit;
mod event;
pub mod queue;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tatsu_abi::{DatapathChange, DatapathDesc, DatapathStates, RequestError, RequestFailure, RoleEventRef};

use crate::green::oneshot::{Oneshot, Waited};
use crate::metrics::AppCounters;
use credit::{Credit, CreditPool};
pub use event::{Event, HttpRequest, MessageRun};
use queue::{Admission, EventQueue};

/// An app as the bus knows it: its name and its event queue. Subscriptions and routes hold these.
pub struct Mailbox {
    /// The app's name.
    pub name: Arc<str>,
    /// Its event queue.
    pub queue: EventQueue,
}

impl Mailbox {
    /// The mailbox of app `name`, holding at most `capacity` bounded events, counted on its own.
    #[cfg(test)]
    pub fn new(name: &str, capacity: usize) -> Arc<Mailbox> {
        Mailbox::counted(name, capacity, Arc::default())
    }

    /// As [`Mailbox::new`], its queue's drops and depth recorded in `counters`.
    pub fn counted(name: &str, capacity: usize, counters: Arc<AppCounters>) -> Arc<Mailbox> {
        Arc::new(Mailbox { name: Arc::from(name), queue: EventQueue::new(name, capacity, counters) })
    }
}

/// An app subscribed to OpenFlow messages, and the datapath states it wants them in.
type OpenFlowRoute = (Arc<Mailbox>, DatapathStates);

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

/// Subscriptions, request servers and requests in flight, and the credit all switch connections share.
pub struct Bus {
    subscribers: RwLock<HashMap<String, Vec<Arc<Mailbox>>>>,
    servers: RwLock<HashMap<String, Arc<Mailbox>>>,
    /// Requests waiting for their reply, by id.
    pending: Mutex<HashMap<u64, Arc<Oneshot<Reply>>>>,
    next_request_id: AtomicU64,
    /// By `version << 8 | type`: each subscriber and the states it wants the messages in.
    openflow_routes: RwLock<HashMap<u32, Vec<OpenFlowRoute>>>,
    datapath_subscribers: RwLock<HashMap<DatapathChange, Vec<Arc<Mailbox>>>>,
    role_subscribers: RwLock<Vec<Arc<Mailbox>>>,
    /// The budget of switch messages apps may hold, split among busy connections (see [`credit`]).
    credit_pool: Arc<CreditPool>,
}

/// A bus for queues of the default capacity ([`queue::DEFAULT_CAPACITY`]), for tests that need one.
#[cfg(test)]
impl Default for Bus {
    fn default() -> Bus {
        Bus::new(queue::DEFAULT_CAPACITY)
    }
}

impl Bus {
    /// A bus whose apps' queues hold `queue_capacity` events each (what the credit budget is made from).
    pub fn new(queue_capacity: usize) -> Bus {
        Bus {
            subscribers: RwLock::default(),
            servers: RwLock::default(),
            pending: Mutex::default(),
            next_request_id: AtomicU64::new(0),
            openflow_routes: RwLock::default(),
            datapath_subscribers: RwLock::default(),
            role_subscribers: RwLock::default(),
            credit_pool: CreditPool::new(queue_capacity),
        }
    }

    /// The credit of a new switch connection, in the pool of this bus.
    pub fn new_credit(&self) -> Arc<Credit> {
        Credit::new(&self.credit_pool)
    }

    /// Subscribes `app` to app events named `name`.
    pub fn subscribe(&self, app: &Arc<Mailbox>, name: &str) {
        let mut subscribers = self.subscribers.write().unwrap_or_else(PoisonError::into_inner);
        subscribers.entry(name.to_owned()).or_default().push(Arc::clone(app));
    }

    /// Makes `app` the server of requests named `name`; fails if another app serves it already.
    pub fn serve(&self, app: &Arc<Mailbox>, name: &str) -> Result<(), String> {
        let mut servers = self.servers.write().unwrap_or_else(PoisonError::into_inner);
        match servers.get(name) {
            Some(other) => Err(format!("request `{name}` is already served by app `{}`", other.name)),
            None => {
                servers.insert(name.to_owned(), Arc::clone(app));
                Ok(())
            }
        }
    }

    /// Subscribes `app` to OpenFlow messages with `code` (version << 8 | type) received in `states`.
    pub fn subscribe_openflow(&self, app: &Arc<Mailbox>, code: u32, states: DatapathStates) {
        let mut routes = self.openflow_routes.write().unwrap_or_else(PoisonError::into_inner);
        let list = routes.entry(code).or_default();
        match list.iter_mut().find(|(subscriber, _)| Arc::ptr_eq(subscriber, app)) {
            Some((_, existing)) => existing.0 |= states.0,
            None => list.push((Arc::clone(app), states)),
        }
    }

    /// Subscribes `app` to datapath events of one kind.
    pub fn subscribe_datapath(&self, app: &Arc<Mailbox>, change: DatapathChange) {
        let mut subscribers = self.datapath_subscribers.write().unwrap_or_else(PoisonError::into_inner);
        subscribers.entry(change).or_default().push(Arc::clone(app));
    }

    /// Delivers OpenFlow messages from one connection (the runs of one read, in order) to every app subscribed to
    /// their version and type in `state`, and empties `runs`. Consecutive runs of the same version and type go
    /// into each subscriber's queue in one operation, with one wake-up and one credit token, as one event per run
    /// (the run's buffer shared, not split per message); a full queue drops what does not fit for that app only
    /// (counted there). The reader's credit keeps queues from filling with switch messages (see [`credit`]); the
    /// drop is for an app that stopped handling them.
    pub fn deliver_openflow(&self, dpid: u64, state: DatapathStates, runs: &mut Vec<MessageRun>, credit: &Arc<Credit>) {
        let delivered: usize = runs.iter().map(MessageRun::count).sum();
        let mut queued = 0;
        let routes = self.openflow_routes.read().unwrap_or_else(PoisonError::into_inner);
        let mut start = 0;
        while start < runs.len() {
            let code = runs[start].code();
            let end = runs[start..].iter().position(|run| run.code() != code).map_or(runs.len(), |n| start + n);
            if let Some(list) = routes.get(&code) {
                let mut wanting = list.iter().filter(|(_, states)| states.0 & state.0 != 0).peekable();
                while let Some((subscriber, _)) = wanting.next() {
                    let group = &mut runs[start..end];
                    let event = |messages: MessageRun| Event::OpenFlow { dpid, state, messages, credit: None };
                    let attach = |last: &mut Event, admitted: usize| {
                        if let Event::OpenFlow { credit: slot, .. } = last {
                            *slot = Some(credit.tokens(admitted));
                        }
                    };
                    queued += if wanting.peek().is_some() {
                        subscriber.queue.push_bounded(group.iter().cloned().map(event), attach)
                    } else {
                        // The last subscriber takes the runs themselves.
                        subscriber.queue.push_bounded(group.iter_mut().map(std::mem::take).map(event), attach)
                    };
                }
            }
            start = end;
        }
        credit.delivered(delivered, queued);
        runs.clear();
    }

    /// Delivers a datapath lifecycle event to its subscribers; these are never dropped.
    pub fn deliver_datapath(&self, change: DatapathChange, datapath: DatapathDesc) {
        let subscribers = self.datapath_subscribers.read().unwrap_or_else(PoisonError::into_inner);
        let Some(list) = subscribers.get(&change) else { return };
        let datapath = Arc::new(datapath);
        for subscriber in list {
            let event = Event::Datapath { change, datapath: Arc::clone(&datapath) };
            let _ = subscriber.queue.push(event, Admission::Always);
        }
    }

    /// Subscribes `app` to role events.
    pub fn subscribe_roles(&self, app: &Arc<Mailbox>) {
        self.role_subscribers.write().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(app));
    }

    /// Delivers a role event to its subscribers; these are never dropped (there is one per datapath and election).
    pub fn deliver_role(&self, role: RoleEventRef) {
        for subscriber in self.role_subscribers.read().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = subscriber.queue.push(Event::Role(role), Admission::Always);
        }
    }

    /// Removes every subscription and request name of `app`.
    pub fn remove(&self, app: &Arc<Mailbox>) {
        let mut subscribers = self.subscribers.write().unwrap_or_else(PoisonError::into_inner);
        for list in subscribers.values_mut() {
            list.retain(|subscriber| !Arc::ptr_eq(subscriber, app));
        }
        subscribers.retain(|_, list| !list.is_empty());
        drop(subscribers);
        let mut servers = self.servers.write().unwrap_or_else(PoisonError::into_inner);
        servers.retain(|_, server| !Arc::ptr_eq(server, app));
        drop(servers);
        let mut routes = self.openflow_routes.write().unwrap_or_else(PoisonError::into_inner);
        for list in routes.values_mut() {
            list.retain(|(subscriber, _)| !Arc::ptr_eq(subscriber, app));
        }
        routes.retain(|_, list| !list.is_empty());
        drop(routes);
        let mut subscribers = self.datapath_subscribers.write().unwrap_or_else(PoisonError::into_inner);
        for list in subscribers.values_mut() {
            list.retain(|subscriber| !Arc::ptr_eq(subscriber, app));
        }
        drop(subscribers);
        self.role_subscribers.write().unwrap_or_else(PoisonError::into_inner).retain(|s| !Arc::ptr_eq(s, app));
    }

    /// Delivers an app event to every subscriber; a full queue drops it for that subscriber only (counted there).
    pub fn publish(&self, source: &Mailbox, name: &str, payload: &str) {
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
        source: &Mailbox,
        name: &str,
        payload: &str,
        timeout: Duration,
    ) -> Result<String, RequestError> {
        let server = {
            let servers = self.servers.read().unwrap_or_else(PoisonError::into_inner);
            servers.get(name).cloned()
        };
        let Some(server) = server else {
            return Err(RequestError {
                failure: RequestFailure::NoServer,
                detail: format!("no app serves request `{name}`").into(),
            });
        };
        let id = self.next_request_id.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = Arc::new(Oneshot::new());
        self.pending().insert(id, Arc::clone(&pending));
        let event =
            Event::Request { id, name: Arc::from(name), source: Arc::clone(&source.name), payload: Arc::from(payload) };
        if server.queue.push(event, Admission::Bounded).is_err() {
            self.pending().remove(&id);
            return Err(RequestError {
                failure: RequestFailure::QueueFull,
                detail: format!("app `{}` cannot take request `{name}`: its queue is full", server.name).into(),
            });
        }
        match self.wait_reply(id, &pending, timeout, || {
            format!("app `{}` did not answer request `{name}` within {timeout:?}", server.name)
        })? {
            Reply::App(result) => {
                result.map_err(|message| RequestError { failure: RequestFailure::Failed, detail: message.into() })
            }
            Reply::Http(reply) => Err(RequestError {
                failure: RequestFailure::Failed,
                detail: format!(
                    "app `{}` answered request `{name}` with an HTTP response ({})",
                    server.name, reply.status
                )
                .into(),
            }),
        }
    }

    /// Sends an HTTP request to the app serving `route` and parks the calling green thread until its response,
    /// `timeout` or a stop.
    pub fn http_request(
        &self,
        server: &Mailbox,
        route: Arc<str>,
        request: HttpRequest,
        timeout: Duration,
    ) -> Result<HttpReply, RequestError> {
        let id = self.next_request_id.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = Arc::new(Oneshot::new());
        self.pending().insert(id, Arc::clone(&pending));
        let event = Event::Http { id, route: Arc::clone(&route), request: Box::new(request) };
        if server.queue.push(event, Admission::Bounded).is_err() {
            self.pending().remove(&id);
            return Err(RequestError {
                failure: RequestFailure::QueueFull,
                detail: format!("app `{}` cannot take `{route}`: its queue is full", server.name).into(),
            });
        }
        match self.wait_reply(id, &pending, timeout, || {
            format!("app `{}` did not answer `{route}` within {timeout:?}", server.name)
        })? {
            Reply::Http(reply) => Ok(reply),
            Reply::App(Ok(json)) => {
                Ok(HttpReply { status: 200, content_type: "application/json".to_owned(), body: json.into_bytes() })
            }
            Reply::App(Err(message)) => Err(RequestError { failure: RequestFailure::Failed, detail: message.into() }),
        }
    }

    /// Parks until request `id` has its reply, `timeout` (`timed_out` says what did not happen) or a stop.
    fn wait_reply(
        &self,
        id: u64,
        pending: &Oneshot<Reply>,
        timeout: Duration,
        timed_out: impl FnOnce() -> String,
    ) -> Result<Reply, RequestError> {
        let failed = match pending.wait(Instant::now().checked_add(timeout)) {
            Waited::Completed(reply) => return Ok(reply),
            Waited::TimedOut => RequestError { failure: RequestFailure::TimedOut, detail: timed_out().into() },
            Waited::Stopping => {
                RequestError { failure: RequestFailure::Stopping, detail: "stopping".to_owned().into() }
            }
            Waited::Interrupted => {
                RequestError { failure: RequestFailure::Interrupted, detail: "interrupted".to_owned().into() }
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
