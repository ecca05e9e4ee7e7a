//! The key-value service for apps (`HostServices::kv_*`): each app keeps state under its own prefix with get, list,
//! put, delete, compare-and-swap and prefix watches, and the same calls work whether the host runs in a cluster or
//! alone, so that apps are written once.
//!
//! - **In a cluster** ([`KvService::cluster`]) the keys live in etcd under `/<cluster>/apps/<app>/`, so they survive
//!   the loss of any host. Ephemeral keys are attached to this host's lease: they go when the host leaves or dies
//!   (after the lease TTL), which is how an app publishes what only holds while it runs. etcd lost: calls fail with
//!   [`KvFailure::Unavailable`] after the client's timeout; a watch waits and resumes from the last revision it
//!   delivered when etcd returns.
//! - **Alone** ([`KvService::local`]) the keys live in this process ([`LocalStore`], revisions counted as etcd
//!   does), and a hot restart hands them to the successor ([`KvService::dump`], [`KvService::restore`]); ephemeral
//!   keys are ordinary keys there, since the host that wrote them is the only one.
//!
//! Every call parks only the calling green thread.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{ROption, RString, RVec};
use serde_json::{json, Value};
use tatsu_abi::{KvChange, KvEntry, KvError, KvFailure, KvListing, WaitStatus};

use super::etcd::{Compare, Etcd, EtcdError, Op, Watch, WatchEvent};
use super::node::Node;
use super::Cluster;
use crate::base64;
use crate::green::{self, GreenSlot};

/// The longest key an app may use, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// The largest value, in bytes (etcd's default request limit is 1.5 MiB).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Changes the local store remembers for watches that fall behind.
const LOCAL_HISTORY: usize = 10_000;
/// How long a watch waits before connecting to etcd again after it was lost.
const RECONNECT: Duration = Duration::from_millis(500);

fn failure(failure: KvFailure, detail: impl Into<String>) -> KvError {
    KvError { failure, detail: RString::from(detail.into()) }
}

fn etcd_failure(e: &EtcdError) -> KvError {
    match e {
        EtcdError::Unavailable(_) => failure(KvFailure::Unavailable, e.to_string()),
        EtcdError::Refused { code: 11, .. } => failure(KvFailure::Compacted, e.to_string()),
        _ => failure(KvFailure::Other, e.to_string()),
    }
}

fn check_key(key: &str, allow_empty: bool) -> Result<(), KvError> {
    if (key.is_empty() && !allow_empty) || key.len() > MAX_KEY_BYTES || key.contains('\0') {
        return Err(failure(
            KvFailure::InvalidKey,
            format!("key {key:?}: a key is 1 to {MAX_KEY_BYTES} bytes without NUL"),
        ));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(failure(
            KvFailure::Other,
            format!("a value is at most {MAX_VALUE_BYTES} bytes, not {}", value.len()),
        ));
    }
    Ok(())
}

/// Where the keys live.
enum Backend {
    /// etcd, with this host's lease for ephemeral keys.
    Etcd { etcd: Arc<Etcd>, node: Arc<Node>, root: String },
    /// This process.
    Local(Arc<LocalStore>),
}

/// The service: hands each app its [`AppStore`].
pub struct KvService {
    backend: Arc<Backend>,
}

impl KvService {
    /// Keys in this process only (a host without a cluster).
    pub fn local() -> Arc<KvService> {
        Arc::new(KvService { backend: Arc::new(Backend::Local(Arc::new(LocalStore::default()))) })
    }

    /// Keys in the cluster's etcd.
    pub fn cluster(cluster: &Cluster) -> Arc<KvService> {
        let backend = Backend::Etcd {
            etcd: Arc::clone(&cluster.etcd),
            node: Arc::clone(&cluster.node),
            root: format!("/{}/apps/", cluster.keys.cluster),
        };
        Arc::new(KvService { backend: Arc::new(backend) })
    }

    /// The store of app `app`.
    pub fn store(&self, app: &str) -> AppStore {
        let prefix = match &*self.backend {
            Backend::Etcd { root, .. } => format!("{root}{app}/"),
            Backend::Local(_) => format!("{app}/"),
        };
        AppStore { backend: Arc::clone(&self.backend), prefix }
    }

    /// The local store's keys, for a hot-restart successor (none in a cluster: etcd keeps them).
    pub fn dump(&self) -> Option<Value> {
        match &*self.backend {
            Backend::Local(store) => Some(store.dump()),
            Backend::Etcd { .. } => None,
        }
    }

    /// Takes over the predecessor's local keys ([`KvService::dump`]), as changes watches see.
    pub fn restore(&self, dump: &Value) {
        if let Backend::Local(store) = &*self.backend {
            match store.restore(dump) {
                Ok(count) => log::info!(target: "tatsu::apps", "{count} app key(s) from the previous host"),
                Err(e) => log::warn!(target: "tatsu::apps", "the previous host's app keys are not understood: {e}"),
            }
        }
    }
}

/// One app's keys: every key it names is under its own prefix.
pub struct AppStore {
    backend: Arc<Backend>,
    prefix: String,
}

impl AppStore {
    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn strip<'a>(&self, full: &'a str) -> &'a str {
        full.strip_prefix(&self.prefix).unwrap_or(full)
    }

    fn entry(&self, kv: super::etcd::KeyValue) -> KvEntry {
        let key = String::from_utf8_lossy(&kv.key);
        KvEntry { key: self.strip(&key).into(), value: kv.value.into(), revision: kv.mod_revision }
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        check_key(key, false)?;
        match &*self.backend {
            Backend::Etcd { etcd, .. } => {
                let found = etcd.get(self.full(key).as_bytes()).map_err(|e| etcd_failure(&e))?;
                Ok(found.map(|kv| self.entry(kv)))
            }
            Backend::Local(store) => Ok(store.get(&self.full(key)).map(|(value, revision)| KvEntry {
                key: key.into(),
                value: value.into(),
                revision,
            })),
        }
    }

    /// Every key starting with `prefix` (empty: all of the app's), and the revision they were read at.
    pub fn list(&self, prefix: &str) -> Result<KvListing, KvError> {
        check_key(prefix, true)?;
        let full = self.full(prefix);
        match &*self.backend {
            Backend::Etcd { etcd, .. } => {
                let (found, revision) = etcd.list_prefix(full.as_bytes(), false).map_err(|e| etcd_failure(&e))?;
                Ok(KvListing { entries: found.into_iter().map(|kv| self.entry(kv)).collect(), revision })
            }
            Backend::Local(store) => {
                let (found, revision) = store.list(&full);
                let entries = found
                    .into_iter()
                    .map(|(key, value, revision)| KvEntry {
                        key: self.strip(&key).into(),
                        value: value.into(),
                        revision,
                    })
                    .collect();
                Ok(KvListing { entries, revision })
            }
        }
    }

    fn lease(node: &Node, ephemeral: bool) -> Result<i64, KvError> {
        if !ephemeral {
            return Ok(0);
        }
        node.lease().ok_or_else(|| {
            failure(KvFailure::Unavailable, "this host has no lease in etcd now (it was lost): ephemeral keys wait")
        })
    }

    /// Sets `key` (attached to this host's lease if `ephemeral`); the revision of the change.
    pub fn put(&self, key: &str, value: &[u8], ephemeral: bool) -> Result<i64, KvError> {
        check_key(key, false)?;
        check_value(value)?;
        match &*self.backend {
            Backend::Etcd { etcd, node, .. } => {
                let lease = Self::lease(node, ephemeral)?;
                etcd.put(self.full(key).as_bytes(), value, lease).map_err(|e| etcd_failure(&e))
            }
            Backend::Local(store) => Ok(store.put(&self.full(key), value)),
        }
    }

    /// Deletes `key`; `true` if it existed.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        check_key(key, false)?;
        match &*self.backend {
            Backend::Etcd { etcd, .. } => Ok(etcd.delete(self.full(key).as_bytes()).map_err(|e| etcd_failure(&e))? > 0),
            Backend::Local(store) => Ok(store.delete(&self.full(key))),
        }
    }

    /// Sets `key` to `new` only if it holds `expected` now (`None`: only if it does not exist); `true` if it did.
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ephemeral: bool,
    ) -> Result<bool, KvError> {
        check_key(key, false)?;
        check_value(new)?;
        match &*self.backend {
            Backend::Etcd { etcd, node, .. } => {
                let lease = Self::lease(node, ephemeral)?;
                let key = self.full(key).into_bytes();
                let compare = match expected {
                    Some(value) => Compare::Value(key.clone(), value.to_vec()),
                    None => Compare::CreateRevision(key.clone(), 0),
                };
                let put = Op::Put { key, value: new.to_vec(), lease };
                Ok(etcd.txn(&[compare], &[put], &[]).map_err(|e| etcd_failure(&e))?.succeeded)
            }
            Backend::Local(store) => Ok(store.compare_and_swap(&self.full(key), expected, new)),
        }
    }

    /// Watches the keys starting with `prefix` for changes after revision `after` (0: from now).
    pub fn watch(&self, prefix: &str, after: i64) -> Result<AppWatch, KvError> {
        check_key(prefix, true)?;
        let full = self.full(prefix);
        let strip = self.prefix.len();
        match &*self.backend {
            Backend::Etcd { etcd, .. } => {
                let after = if after > 0 {
                    after
                } else {
                    etcd.list_prefix(full.as_bytes(), true).map_err(|e| etcd_failure(&e))?.1
                };
                let stream = etcd.watch_prefix(full.as_bytes(), after + 1).map_err(|e| etcd_failure(&e))?;
                let etcd = Arc::clone(etcd);
                Ok(AppWatch::Etcd { etcd, prefix: full, strip, after, stream: Some(stream) })
            }
            Backend::Local(store) => {
                let after = if after > 0 { after } else { store.revision() };
                Ok(AppWatch::Local { store: Arc::clone(store), prefix: full, strip, after })
            }
        }
    }
}

/// A running watch of one app's keys.
pub enum AppWatch {
    /// On etcd: the stream, opened again from `after + 1` when it breaks.
    Etcd { etcd: Arc<Etcd>, prefix: String, strip: usize, after: i64, stream: Option<Watch> },
    /// On the local store.
    Local { store: Arc<LocalStore>, prefix: String, strip: usize, after: i64 },
}

impl AppWatch {
    /// The next changes, waiting until `timeout` passes (an empty list) or a stop.
    pub fn next(&mut self, timeout: Duration) -> Result<Vec<KvChange>, KvError> {
        let deadline =
            Instant::now().checked_add(timeout).unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        match self {
            AppWatch::Etcd { etcd, prefix, strip, after, stream } => loop {
                if stream.is_none() {
                    match etcd.watch_prefix(prefix.as_bytes(), *after + 1) {
                        Ok(opened) => {
                            log::debug!(target: "tatsu::apps", "watch of {prefix} resumed after revision {after}");
                            *stream = Some(opened);
                        }
                        Err(e @ EtcdError::Refused { .. }) => return Err(etcd_failure(&e)),
                        Err(_) => {
                            let left = deadline.saturating_duration_since(Instant::now());
                            if left.is_zero() {
                                return Ok(Vec::new());
                            }
                            wait(green::sleep(left.min(RECONNECT)))?;
                            continue;
                        }
                    }
                }
                let Some(open) = stream.as_mut() else { continue };
                match open.next(deadline) {
                    Ok(None) => {
                        interrupted()?;
                        return Ok(Vec::new());
                    }
                    Ok(Some(events)) => {
                        let changes: Vec<KvChange> =
                            events.into_iter().map(|event| etcd_change(event, *strip)).collect();
                        *after = changes.iter().map(|change| change.revision).max().unwrap_or(*after).max(*after);
                        return Ok(changes);
                    }
                    Err(e @ EtcdError::Refused { .. }) => return Err(etcd_failure(&e)),
                    Err(_) => {
                        interrupted()?;
                        *stream = None;
                    }
                }
            },
            AppWatch::Local { store, prefix, strip, after } => loop {
                let me = green::current();
                let changes = store.changes_after(prefix, *strip, *after, me.as_ref())?;
                if let Some(last) = changes.last() {
                    *after = last.revision;
                    return Ok(changes);
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Vec::new());
                }
                // Without a green thread to wake (never for an app's calls), look again now and then.
                let wait_for = if me.is_some() { left } else { left.min(Duration::from_millis(50)) };
                wait(green::park(Some(wait_for)))?;
            },
        }
    }
}

/// A stop or an interrupt while waiting, as the error the app sees.
fn wait(status: WaitStatus) -> Result<(), KvError> {
    match status {
        WaitStatus::Stopping => Err(failure(KvFailure::Stopping, "the green thread is stopping")),
        WaitStatus::Interrupted => Err(failure(KvFailure::Interrupted, "interrupted")),
        WaitStatus::Woken | WaitStatus::TimedOut => Ok(()),
    }
}

/// A stop or interrupt that ended a wait for socket I/O.
fn interrupted() -> Result<(), KvError> {
    match green::current() {
        Some(slot) => match green::interruption(&slot) {
            Some(status) => wait(status),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

fn etcd_change(event: WatchEvent, strip: usize) -> KvChange {
    let (kv, value) = match event {
        WatchEvent::Put(kv) => {
            let value = ROption::RSome(RVec::from(kv.value.clone()));
            (kv, value)
        }
        WatchEvent::Delete(kv) => (kv, ROption::RNone),
    };
    let key = String::from_utf8_lossy(kv.key.get(strip..).unwrap_or_default()).into_owned();
    KvChange { key: key.into(), value, revision: kv.mod_revision }
}

/// The keys of a host without a cluster, revisions counted as etcd counts them (one per change).
#[derive(Default)]
pub struct LocalStore {
    inner: Mutex<Local>,
}

#[derive(Default)]
struct Local {
    revision: i64,
    /// Full key → value and the revision of its last change.
    keys: BTreeMap<String, (Vec<u8>, i64)>,
    /// The last [`LOCAL_HISTORY`] changes: revision, full key, new value (`None`: deleted).
    history: VecDeque<(i64, String, Option<Vec<u8>>)>,
    /// The revision of the newest change dropped from `history` (0: none was).
    forgotten: i64,
    /// Watchers parked for the next change.
    waiting: Vec<Arc<GreenSlot>>,
}

impl Local {
    fn change(&mut self, key: &str, value: Option<&[u8]>) -> i64 {
        self.revision += 1;
        let revision = self.revision;
        match value {
            Some(value) => {
                self.keys.insert(key.to_owned(), (value.to_vec(), revision));
            }
            None => {
                self.keys.remove(key);
            }
        }
        self.history.push_back((revision, key.to_owned(), value.map(<[u8]>::to_vec)));
        if self.history.len() > LOCAL_HISTORY {
            if let Some((dropped, _, _)) = self.history.pop_front() {
                self.forgotten = dropped;
            }
        }
        for waiter in self.waiting.drain(..) {
            waiter.unpark();
        }
        revision
    }
}

impl LocalStore {
    fn lock(&self) -> MutexGuard<'_, Local> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn revision(&self) -> i64 {
        self.lock().revision
    }

    fn get(&self, key: &str) -> Option<(Vec<u8>, i64)> {
        self.lock().keys.get(key).cloned()
    }

    fn list(&self, prefix: &str) -> (Vec<(String, Vec<u8>, i64)>, i64) {
        let local = self.lock();
        let found = local
            .keys
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, (value, revision))| (key.clone(), value.clone(), *revision))
            .collect();
        (found, local.revision)
    }

    fn put(&self, key: &str, value: &[u8]) -> i64 {
        self.lock().change(key, Some(value))
    }

    fn delete(&self, key: &str) -> bool {
        let mut local = self.lock();
        let existed = local.keys.contains_key(key);
        if existed {
            local.change(key, None);
        }
        existed
    }

    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> bool {
        let mut local = self.lock();
        let holds = local.keys.get(key).map(|(value, _)| value.as_slice()) == expected;
        if holds {
            local.change(key, Some(new));
        }
        holds
    }

    /// The changes under `prefix` after revision `after` (keys stripped of `strip` bytes); none: `me` is woken by
    /// the next change.
    fn changes_after(
        &self,
        prefix: &str,
        strip: usize,
        after: i64,
        me: Option<&Arc<GreenSlot>>,
    ) -> Result<Vec<KvChange>, KvError> {
        let mut local = self.lock();
        if after < local.forgotten {
            return Err(failure(
                KvFailure::Compacted,
                format!("revision {after} is older than the {LOCAL_HISTORY} changes kept: list again"),
            ));
        }
        let changes: Vec<KvChange> = local
            .history
            .iter()
            .filter(|(revision, key, _)| *revision > after && key.starts_with(prefix))
            .map(|(revision, key, value)| KvChange {
                key: key.get(strip..).unwrap_or_default().into(),
                value: value.clone().map(RVec::from).into(),
                revision: *revision,
            })
            .collect();
        if let (true, Some(me)) = (changes.is_empty(), me) {
            // Once per thread: a watcher that times out again and again must not pile up.
            if !local.waiting.iter().any(|waiting| Arc::ptr_eq(waiting, me)) {
                local.waiting.push(Arc::clone(me));
            }
        }
        Ok(changes)
    }

    /// Every key, for a successor: `{"revision": N, "keys": [[key, base64 value, revision], ...]}`.
    fn dump(&self) -> Value {
        let local = self.lock();
        let keys: Vec<Value> =
            local.keys.iter().map(|(key, (value, revision))| json!([key, base64::encode(value), revision])).collect();
        json!({ "revision": local.revision, "keys": keys })
    }

    /// Takes a predecessor's keys: each a change after this store's own (apps may have written some already).
    fn restore(&self, dump: &Value) -> Result<usize, String> {
        let keys = dump["keys"].as_array().ok_or("no key list")?;
        let mut parsed = Vec::with_capacity(keys.len());
        for entry in keys {
            let key = entry[0].as_str().ok_or("a key that is not a string")?;
            let value = entry[1].as_str().and_then(base64::decode).ok_or("a value that is not base64")?;
            parsed.push((key.to_owned(), value));
        }
        let mut local = self.lock();
        let theirs = dump["revision"].as_i64().unwrap_or(0);
        local.revision = local.revision.max(theirs);
        for (key, value) in &parsed {
            if !local.keys.contains_key(key) {
                local.change(key, Some(value));
            }
        }
        Ok(parsed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_store_keeps_each_app_under_its_prefix_with_revisions_swaps_and_watches() {
        let service = KvService::local();
        let (a, b) = (service.store("a"), service.store("b"));
        let first = a.put("x", b"1", false).expect("put");
        assert_eq!(b.get("x").expect("get"), None, "another app's key is not seen");
        assert_eq!(a.get("x").expect("get").map(|e| (e.value.to_vec(), e.revision)), Some((b"1".to_vec(), first)));
        let mut watch = a.watch("", 0).expect("watch");
        assert!(!a.compare_and_swap("x", Some(b"0"), b"2", false).expect("cas"), "a stale expectation fails");
        assert!(!a.compare_and_swap("x", None, b"2", false).expect("cas"), "the key exists");
        assert!(a.compare_and_swap("x", Some(b"1"), b"2", false).expect("cas"));
        b.put("y", b"other app", false).expect("put");
        assert!(a.delete("x").expect("delete"));
        assert!(!a.delete("x").expect("delete"));
        let changes = watch.next(Duration::ZERO).expect("next");
        let seen: Vec<(String, Option<Vec<u8>>)> =
            changes.iter().map(|c| (c.key.to_string(), c.value.clone().into_option().map(|v| v.to_vec()))).collect();
        assert_eq!(seen, [("x".to_owned(), Some(b"2".to_vec())), ("x".to_owned(), None)]);
        assert_eq!(watch.next(Duration::ZERO).expect("next"), Vec::new());
        assert!(a.get("").is_err() && a.put(&"k".repeat(MAX_KEY_BYTES + 1), b"", false).is_err());

        a.put("dir/1", b"one", true).expect("put");
        a.put("dir/2", b"two", false).expect("put");
        a.put("dirt", b"not in dir/", false).expect("put");
        let listing = a.list("dir/").expect("list");
        let keys: Vec<&str> = listing.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["dir/1", "dir/2"]);

        // A successor takes the keys over, and its watchers see them as changes.
        let dump = service.dump().expect("a local dump");
        let successor = KvService::local();
        let mut watch = successor.store("a").watch("", 0).expect("watch");
        successor.restore(&dump);
        assert_eq!(successor.store("a").get("dir/2").expect("get").map(|e| e.value.to_vec()), Some(b"two".to_vec()));
        assert_eq!(watch.next(Duration::ZERO).expect("next").len(), 3);
        assert!(successor.store("a").list("").expect("list").revision >= listing.revision);
    }
}
