//! [`Context`]: an app's handle on the host's services, and the typed app events and requests apps exchange.

use std::fmt;
use std::time::Duration;

use abi_stable::std_types::{ROption, RResult, RStr};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::abi::{HostContext, RequestFailure};
use crate::cluster::{Kv, Role, RoleChange};
use crate::green;
use crate::openflow::{Datapath, DatapathInfo};

/// An app event: a payload type and the name it travels under, declared together so that publisher and
/// subscribers cannot disagree on the name (Ryu's event classes).
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct HostMoved { mac: String, dpid: u64, port: u32 }
/// impl tatsu_plugin_api::AppEvent for HostMoved {
///     const NAME: &'static str = "topology.host_moved";
/// }
/// ```
pub trait AppEvent: Serialize + DeserializeOwned + 'static {
    /// The name the event travels under; apps subscribe to it with [`crate::Handlers::on_event`].
    const NAME: &'static str;
}

/// A request one app serves and others send (Ryu's `send_request`), with the type of its reply.
pub trait AppRequest: Serialize + DeserializeOwned + 'static {
    /// The name it travels under; one app serves it ([`crate::Handlers::on_request`]).
    const NAME: &'static str;
    /// What the serving app answers.
    type Reply: Serialize + DeserializeOwned;
}

/// An app's handle on the host: publish events, make requests, find datapaths. Handed to every hook and handler;
/// cheap to copy. It carries its own link to the host, so the test kit can stand in for one.
#[derive(Clone, Copy)]
pub struct Context {
    host: HostContext,
    app_name: &'static str,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("app_name", &self.app_name).finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(host: HostContext, app_name: &'static str) -> Self {
        Context { host, app_name }
    }

    pub(crate) fn host(&self) -> &HostContext {
        &self.host
    }

    /// This app's name.
    pub fn app_name(&self) -> &'static str {
        self.app_name
    }

    /// Publishes `event` to every app that handles it. Never blocks; a subscriber whose queue is full misses
    /// it, and the host counts and logs that against the subscriber.
    pub fn publish<E: AppEvent>(&self, event: &E) -> Result<(), serde_json::Error> {
        let json = serde_json::to_string(event)?;
        (self.host.services.publish())(self.host.app, RStr::from(E::NAME), RStr::from(json.as_str()));
        Ok(())
    }

    /// Sends `request` to the app that serves it and waits (parking only this green thread) for its reply, at
    /// most `timeout`.
    pub fn request<Q: AppRequest>(&self, request: &Q, timeout: Duration) -> Result<Q::Reply, RequestError> {
        let json =
            serde_json::to_string(request).map_err(|e| RequestError::new(RequestErrorKind::Encoding, e.to_string()))?;
        let reply = self.request_json(Q::NAME, &json, timeout)?;
        serde_json::from_str(&reply)
            .map_err(|e| RequestError::new(RequestErrorKind::Encoding, format!("reply to `{}`: {e}", Q::NAME)))
    }

    /// [`Context::request`] with the name and payload as they travel: the reply's JSON.
    pub(crate) fn request_json(&self, name: &str, json: &str, timeout: Duration) -> Result<String, RequestError> {
        let call = self.host.services.request();
        match call(self.host.app, RStr::from(name), RStr::from(json), green::duration_ns(timeout)) {
            RResult::ROk(reply) => Ok(reply.into_string()),
            RResult::RErr(err) => {
                let kind = match err.failure {
                    RequestFailure::NoServer => RequestErrorKind::NoServer,
                    RequestFailure::QueueFull => RequestErrorKind::QueueFull,
                    RequestFailure::TimedOut => RequestErrorKind::TimedOut,
                    RequestFailure::Stopping => green::exit_thread(),
                    RequestFailure::Interrupted => green::interrupt_unwind(),
                    RequestFailure::Failed
                    | RequestFailure::UnknownDatapath
                    | RequestFailure::SendQueueFull
                    | RequestFailure::Disconnected
                    | RequestFailure::NotMaster => RequestErrorKind::Failed,
                };
                Err(RequestError::new(kind, err.detail.into_string()))
            }
        }
    }

    /// The connected datapaths (in MAIN).
    pub fn datapaths(&self) -> Vec<DatapathInfo> {
        let descs = (self.host.services.datapaths())(self.host.app);
        descs.iter().map(|desc| DatapathInfo::from_desc(*self, desc)).collect()
    }

    /// The connected datapath `dpid`, if it is in MAIN.
    pub fn datapath(&self, dpid: u64) -> Option<DatapathInfo> {
        match (self.host.services.datapath())(self.host.app, dpid) {
            ROption::RSome(desc) => Some(DatapathInfo::from_desc(*self, &desc)),
            ROption::RNone => None,
        }
    }

    /// This host's role for datapath `dpid`, if it is connected (in MAIN). A host without a cluster is master of
    /// every datapath; in a cluster the role is [`Role::Equal`] until the election decided (see [`crate::cluster`]).
    pub fn role(&self, dpid: u64) -> Option<RoleChange> {
        (self.host.services.datapath_role())(self.host.app, dpid).into_option().map(|role| RoleChange::from_abi(&role))
    }

    /// Whether this host is the master of datapath `dpid` (connected, and elected or alone).
    pub fn is_master(&self, dpid: u64) -> bool {
        self.role(dpid).is_some_and(|role| role.role == Role::Master)
    }

    /// This host's node id in a cluster (`--node-id`); `None` for a host on its own.
    pub fn cluster_node(&self) -> Option<String> {
        (self.host.services.cluster_node())(self.host.app).into_option().map(|node| node.into_string())
    }

    /// The app's key-value store: replicated through etcd in a cluster, in the host's process otherwise.
    pub fn kv(&self) -> Kv {
        Kv::new(self.host)
    }

    /// A handle to send to datapath `dpid`, which speaks wire `version` (from a [`DatapathInfo`] or a message).
    pub fn datapath_handle(&self, dpid: u64, version: u8) -> Datapath {
        Datapath::new(*self, dpid, version)
    }
}

/// Why [`Context::request`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestErrorKind {
    /// No app serves this request name.
    NoServer,
    /// The serving app's event queue was full.
    QueueFull,
    /// No reply before the timeout.
    TimedOut,
    /// The serving app's handler returned an error.
    Failed,
    /// The payload or the reply could not be (de)serialized.
    Encoding,
}

/// A failed request: its kind and a message.
#[derive(Debug, Clone)]
pub struct RequestError {
    kind: RequestErrorKind,
    message: String,
}

impl RequestError {
    fn new(kind: RequestErrorKind, message: String) -> Self {
        RequestError { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> RequestErrorKind {
        self.kind
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RequestError {}
