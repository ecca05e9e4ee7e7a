//! Apps on several hosts as one controller: this host's [`Role`] for each datapath, and the replicated key-value
//! store ([`Kv`], from [`Context::kv`]) an app keeps state in that every host sees and that outlives any one of them.
//!
//! **Roles.** With `--cluster-etcd`, each datapath has one master host; the others are its slaves.
//! [`crate::Handlers::on_role`] is told when this host's role for a datapath is decided and each time it changes.
//! On a slave, sends that would change the switch (flow-mods, packet-outs, group, meter, port and table mods) fail
//! with [`crate::OfErrorKind::NotMaster`]; requests that only read (statistics, descriptions, barriers) work.
//! A host without a cluster is master of every datapath: its apps get one role event, [`Role::Master`] with
//! generation 0, after each datapath's enter event, and never another.
//!
//! **Keys.** Every key an app names lives under its own prefix (`/<cluster>/apps/<app>/` in etcd); no app sees
//! another's. Calls park only the calling green thread. Without a cluster the same calls work on a store in the
//! host's process, which a hot restart hands to the successor (before the successor's apps get their saved
//! state), so an app is written once. etcd lost: calls fail with [`KvErrorKind::Unavailable`] once the host's etcd
//! timeout passes; a watch waits, and carries on from where it was when etcd returns.

use std::fmt;
use std::time::Duration;

use abi_stable::std_types::{ROption, RResult, RSlice, RStr};

use crate::abi::{self, DatapathRole, HostContext, KvFailure, KvWatchHandle, RoleEventRef};
use crate::green;

/// This host's role for a datapath.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Not decided yet: the switch treats this host as an equal, and sends go.
    Equal,
    /// This host makes the changes.
    Master,
    /// Another host is master: sends that change the switch fail with [`crate::OfErrorKind::NotMaster`].
    Slave,
}

/// This host's role for one datapath, in a role event or from [`crate::Context::role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    /// The datapath.
    pub dpid: u64,
    /// The role.
    pub role: Role,
    /// The master's generation id (grows with each new master of the datapath; 0 for a single host).
    pub generation: u64,
}

impl RoleChange {
    pub(crate) fn from_abi(event: &RoleEventRef) -> RoleChange {
        let role = match event.role {
            DatapathRole::Equal => Role::Equal,
            DatapathRole::Master => Role::Master,
            DatapathRole::Slave => Role::Slave,
        };
        RoleChange { dpid: event.dpid, role, generation: event.generation }
    }

    /// Whether this host is the datapath's master.
    pub fn is_master(&self) -> bool {
        self.role == Role::Master
    }
}

/// A key and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// The key (without the app's prefix).
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
    /// The revision of its last change.
    pub revision: i64,
}

/// The keys under a prefix, and the revision to watch from so that no change is missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvListing {
    /// The keys, in key order.
    pub entries: Vec<KvEntry>,
    /// The store's revision when they were read.
    pub revision: i64,
}

/// A change a [`KvWatch`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvChange {
    /// The key (without the app's prefix).
    pub key: String,
    /// The new value; `None`: the key was deleted (or the host that put it as ephemeral went).
    pub value: Option<Vec<u8>>,
    /// The revision of the change.
    pub revision: i64,
}

/// The kinds of [`KvError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvErrorKind {
    /// etcd cannot be reached or has no quorum (or, for an ephemeral key, this host has lost its lease).
    Unavailable,
    /// The key is empty, longer than 1,024 bytes or holds a NUL.
    InvalidKey,
    /// A watch's start revision is gone (compacted): list again and watch from the listing's revision.
    Compacted,
    /// Anything else: etcd refused the call, a value is too large (1 MiB at most), a value is not the JSON expected.
    Other,
}

/// A failed key-value call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError {
    kind: KvErrorKind,
    message: String,
}

impl KvError {
    /// What kind of failure this is.
    pub fn kind(&self) -> KvErrorKind {
        self.kind
    }

    fn from_abi(error: abi::KvError) -> KvError {
        let kind = match error.failure {
            KvFailure::Unavailable => KvErrorKind::Unavailable,
            KvFailure::InvalidKey => KvErrorKind::InvalidKey,
            KvFailure::Compacted => KvErrorKind::Compacted,
            KvFailure::Stopping => green::exit_thread(),
            KvFailure::Interrupted => green::interrupt_unwind(),
            KvFailure::Other => KvErrorKind::Other,
        };
        KvError { kind, message: error.detail.into_string() }
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KvError {}

fn result<T, U>(answer: RResult<T, abi::KvError>, convert: impl FnOnce(T) -> U) -> Result<U, KvError> {
    match answer {
        RResult::ROk(value) => Ok(convert(value)),
        RResult::RErr(e) => Err(KvError::from_abi(e)),
    }
}

fn entry(entry: abi::KvEntry) -> KvEntry {
    KvEntry { key: entry.key.into_string(), value: entry.value.into_vec(), revision: entry.revision }
}

fn not_json(key: &str, e: &serde_json::Error) -> KvError {
    KvError { kind: KvErrorKind::Other, message: format!("the value of {key:?} is not the JSON expected: {e}") }
}

/// The app's key-value store ([`crate::Context::kv`]). Cheap to copy; every call parks only the calling green
/// thread.
#[derive(Clone, Copy)]
pub struct Kv {
    host: HostContext,
}

impl fmt::Debug for Kv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kv").finish_non_exhaustive()
    }
}

impl Kv {
    pub(crate) fn new(host: HostContext) -> Kv {
        Kv { host }
    }

    /// The value of `key`, if it exists.
    pub fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        let answer = (self.host.services.kv_get())(self.host.app, RStr::from(key));
        result(answer, |found| found.into_option().map(entry))
    }

    /// The value of `key` as JSON of type `T`, if it exists.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, KvError> {
        match self.get(key)? {
            None => Ok(None),
            Some(found) => serde_json::from_slice(&found.value).map(Some).map_err(|e| not_json(key, &e)),
        }
    }

    /// Every key starting with `prefix` (`""`: all the app's keys), in key order, with the revision to watch from.
    pub fn list(&self, prefix: &str) -> Result<KvListing, KvError> {
        let answer = (self.host.services.kv_list())(self.host.app, RStr::from(prefix));
        result(answer, |listing| KvListing {
            entries: listing.entries.into_iter().map(entry).collect(),
            revision: listing.revision,
        })
    }

    /// Sets `key` to `value`; returns the revision of the change.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<i64, KvError> {
        self.put_with(key, value, false)
    }

    /// Sets `key` to `value` for as long as this host lives: the key goes when the host leaves the cluster or dies
    /// (after its lease's TTL), so what a host publishes about itself ages out with it. Without a cluster it is
    /// an ordinary key.
    pub fn put_ephemeral(&self, key: &str, value: &[u8]) -> Result<i64, KvError> {
        self.put_with(key, value, true)
    }

    /// [`Kv::put`] of `value` as JSON.
    pub fn put_json<T: serde::Serialize>(&self, key: &str, value: &T, ephemeral: bool) -> Result<i64, KvError> {
        let json = serde_json::to_vec(value).map_err(|e| not_json(key, &e))?;
        self.put_with(key, &json, ephemeral)
    }

    fn put_with(&self, key: &str, value: &[u8], ephemeral: bool) -> Result<i64, KvError> {
        let answer =
            (self.host.services.kv_put())(self.host.app, RStr::from(key), RSlice::from_slice(value), ephemeral);
        result(answer, |revision| revision)
    }

    /// Deletes `key`; `true` if it existed.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        result((self.host.services.kv_delete())(self.host.app, RStr::from(key)), |existed| existed)
    }

    /// Sets `key` to `new` only if it holds `expected` now (`None`: only if it does not exist), atomically across
    /// every host; `false` if it did not (another host changed it first: read it again and decide again).
    pub fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, KvError> {
        let expected = expected.map_or(ROption::RNone, |value| ROption::RSome(RSlice::from_slice(value)));
        let call = self.host.services.kv_compare_and_swap();
        result(call(self.host.app, RStr::from(key), expected, RSlice::from_slice(new), false), |swapped| swapped)
    }

    /// Watches every key starting with `prefix` for changes after revision `after` (a [`KvListing`]'s, so that
    /// nothing between the listing and the watch is missed; 0: from now).
    pub fn watch(&self, prefix: &str, after: i64) -> Result<KvWatch, KvError> {
        let answer = (self.host.services.kv_watch())(self.host.app, RStr::from(prefix), after);
        result(answer, |handle| KvWatch { host: self.host, handle })
    }
}

/// A running watch; dropping it ends it.
pub struct KvWatch {
    host: HostContext,
    handle: KvWatchHandle,
}

impl fmt::Debug for KvWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvWatch").finish_non_exhaustive()
    }
}

impl KvWatch {
    /// The next changes, in revision order: waits (parking this green thread) until some come, or `timeout`
    /// passes (an empty list; `Duration::ZERO` only takes what came). While etcd is lost it waits, and resumes
    /// where it was when etcd returns.
    pub fn next(&mut self, timeout: Duration) -> Result<Vec<KvChange>, KvError> {
        let answer = (self.host.services.kv_watch_next())(self.host.app, &self.handle, green::duration_ns(timeout));
        result(answer, |changes| {
            changes
                .into_iter()
                .map(|change| KvChange {
                    key: change.key.into_string(),
                    value: change.value.into_option().map(|value| value.into_vec()),
                    revision: change.revision,
                })
                .collect()
        })
    }
}

impl Drop for KvWatch {
    fn drop(&mut self) {
        (self.host.services.kv_watch_close())(&mut self.handle);
    }
}
