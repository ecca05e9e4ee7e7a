//! [`Context`]: an app's typed access to the host's services.

use std::fmt;
use std::time::Duration;

use abi_stable::std_types::{RResult, RStr};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::abi::RequestFailure;
use crate::green;
use crate::openflow::DatapathInfo;
use crate::runtime;

/// An app's handle on the host: publish events, make requests, and (through [`crate::green`]) run green threads.
///
/// Handed to every hook and handler; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    _private: (),
}

impl Context {
    pub(crate) const fn new() -> Self {
        Context { _private: () }
    }

    /// This app's name.
    pub fn app_name(&self) -> &'static str {
        runtime::app_name()
    }

    /// Publishes an app event to every app that registered a handler for `name`. Never blocks; a subscriber
    /// whose queue is full misses it, and the host counts and logs that against the subscriber.
    pub fn publish<T: Serialize + ?Sized>(&self, name: &str, payload: &T) -> Result<(), serde_json::Error> {
        let json = serde_json::to_string(payload)?;
        let (host, app) = runtime::host();
        host.publish()(app, RStr::from(name), RStr::from(json.as_str()));
        Ok(())
    }

    /// Sends a request to the app that serves `name` and waits (parking only this green thread) for its reply,
    /// at most `timeout`.
    pub fn request<T, R>(&self, name: &str, payload: &T, timeout: Duration) -> Result<R, RequestError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let json =
            serde_json::to_string(payload).map_err(|e| RequestError::new(RequestErrorKind::Encoding, e.to_string()))?;
        let (host, app) = runtime::host();
        let timeout_ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX - 1);
        match host.request()(app, RStr::from(name), RStr::from(json.as_str()), timeout_ns) {
            RResult::ROk(reply) => serde_json::from_str(reply.as_str())
                .map_err(|e| RequestError::new(RequestErrorKind::Encoding, format!("reply to `{name}`: {e}"))),
            RResult::RErr(err) => {
                let kind = match err.failure {
                    RequestFailure::NoServer => RequestErrorKind::NoServer,
                    RequestFailure::QueueFull => RequestErrorKind::QueueFull,
                    RequestFailure::TimedOut => RequestErrorKind::TimedOut,
                    RequestFailure::Failed => RequestErrorKind::Failed,
                    RequestFailure::Stopping => green::exit_thread(),
                    RequestFailure::Interrupted => green::interrupt_unwind(),
                    RequestFailure::UnknownDatapath | RequestFailure::SendQueueFull | RequestFailure::Disconnected => {
                        RequestErrorKind::Failed
                    }
                };
                Err(RequestError::new(kind, err.detail.into_string()))
            }
        }
    }
}

impl Context {
    /// The connected datapaths (in MAIN), by datapath id.
    pub fn datapaths(&self) -> Vec<DatapathInfo> {
        let (host, app) = runtime::host();
        let json = host.datapaths()(app);
        serde_json::from_str(json.as_str()).unwrap_or_default()
    }

    /// The connected datapath `dpid`, if it is in MAIN.
    pub fn datapath(&self, dpid: u64) -> Option<DatapathInfo> {
        self.datapaths().into_iter().find(|info| info.dpid == dpid)
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
