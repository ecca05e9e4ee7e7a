//! This host in the cluster: its lease and its entry in the node registry, `/<cluster>/nodes/<node-id>`, attached
//! to the lease. The registry is what refuses a second host with the same node id: the key is created only if
//! absent, and it lives as long as its host keeps the lease alive.
//!
//! The keep-alive runs on its own coroutine, every third of the TTL. Its answers decide everything about the lease:
//! - a renewal: nothing changes (after an outage, "reachable again" is logged);
//! - NOT_FOUND: the lease expired in etcd (this host was paused or cut off longer than the TTL), and with it every
//!   key it held: this host steps down for every datapath, then takes a new lease and registers again;
//! - no answer from any endpoint: etcd is lost. Roles are kept, logged once: without a quorum nobody can be elected,
//!   and etcd extends every lease when it elects a new leader, so nobody takes over meanwhile. If only this host is
//!   cut off, the others elect a new master once the lease expires in etcd, and the switch itself fences this one
//!   out (the new master's higher generation id; `OFPRRFC_STALE` for this host's old one).
//!
//! No wall-clock time is compared with another host's: the TTL runs in etcd, and locally only intervals count.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tatsu_abi::WaitStatus;

use super::etcd::{Compare, Etcd, EtcdError, Op};
use super::Keys;
use crate::green;

/// Why this host could not join the cluster.
#[derive(Debug)]
pub enum JoinError {
    /// etcd could not be reached (or refused): the host can run as a single controller.
    Etcd(EtcdError),
    /// Another running host holds this node id.
    DuplicateNode(String),
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinError::Etcd(e) => write!(f, "{e}"),
            JoinError::DuplicateNode(why) => f.write_str(why),
        }
    }
}

/// This host's membership: its node id, its lease, and the keep-alive's view of etcd.
pub struct Node {
    etcd: Arc<Etcd>,
    keys: Keys,
    ttl: i64,
    /// The lease in force; `None` while a lost one is being replaced.
    lease: Mutex<Option<i64>>,
    /// The keep-alive last heard from etcd.
    reachable: AtomicBool,
    /// The host is stopping: the keep-alive ends.
    stopping: AtomicBool,
}

impl Node {
    /// Joins the cluster: reuses `inherited` (the lease a predecessor hands over in a hot restart) if it is still
    /// alive and holds this node's registry key, else takes a new lease of `ttl` seconds and registers. Runs on a
    /// coroutine.
    pub fn join(etcd: Arc<Etcd>, keys: Keys, ttl: i64, inherited: Option<i64>) -> Result<Node, JoinError> {
        let node = Node {
            etcd,
            keys,
            ttl,
            lease: Mutex::new(None),
            reachable: AtomicBool::new(true),
            stopping: AtomicBool::new(false),
        };
        if let Some(lease) = inherited {
            match node.holds_registration(lease) {
                Ok(true) => {
                    node.set_lease(Some(lease));
                    log::info!(target: "tatsu::cluster", "kept lease {lease:x} from the previous host");
                    return Ok(node);
                }
                Ok(false) => {
                    log::warn!(target: "tatsu::cluster", "the inherited lease {lease:x} is gone; joining anew")
                }
                Err(e) => return Err(JoinError::Etcd(e)),
            }
        }
        let lease = node.register()?;
        node.set_lease(Some(lease));
        Ok(node)
    }

    /// Whether `lease` is alive and holds this node's registry key.
    fn holds_registration(&self, lease: i64) -> Result<bool, EtcdError> {
        match self.etcd.time_to_live(lease) {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(false),
            Err(e) => return Err(e),
        }
        let registered = self.etcd.get(&self.keys.node())?;
        Ok(registered.is_some_and(|kv| kv.lease == lease && kv.value == self.keys.node_id.as_bytes()))
    }

    /// Takes a new lease and creates the registry key with it, if no other host holds it.
    fn register(&self) -> Result<i64, JoinError> {
        let lease = self.etcd.grant(self.ttl).map_err(JoinError::Etcd)?;
        let key = self.keys.node();
        let put = Op::Put { key: key.clone(), value: self.keys.node_id.as_bytes().to_vec(), lease: lease.id };
        let created = self.etcd.txn(&[Compare::CreateRevision(key.clone(), 0)], &[put], &[Op::Get(key)]);
        let refused = match created {
            Ok(result) if result.succeeded => {
                log::info!(
                    target: "tatsu::cluster",
                    "joined cluster `{}` as node `{}` (lease {:x}, {} s)",
                    self.keys.cluster,
                    self.keys.node_id,
                    lease.id,
                    lease.ttl
                );
                return Ok(lease.id);
            }
            Ok(result) => {
                let holder = result.got.first().and_then(|kvs| kvs.first()).map_or(0, |kv| kv.lease);
                JoinError::DuplicateNode(format!(
                    "node id `{}` is already in use in cluster `{}` by a running host (lease {holder:x}); give this \
                     host another --node-id, or stop the other one (its entry goes within {} s of its end)",
                    self.keys.node_id, self.keys.cluster, self.ttl
                ))
            }
            Err(e) => JoinError::Etcd(e),
        };
        let _ = self.etcd.revoke(lease.id);
        Err(refused)
    }

    fn set_lease(&self, lease: Option<i64>) {
        *self.lease.lock().unwrap_or_else(PoisonError::into_inner) = lease;
    }

    /// The lease in force, if any.
    pub fn lease(&self) -> Option<i64> {
        *self.lease.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the lease alive until [`Node::stop`] or its green thread is stopped; calls `lost` when etcd says the
    /// lease is gone, before a new one is taken. Runs on its own green thread.
    pub fn keep_alive(&self, lost: impl Fn()) {
        let interval = Duration::from_millis(u64::try_from(self.ttl).unwrap_or(1).max(1) * 1000 / 3);
        while !self.stopping.load(Ordering::Acquire) {
            if !matches!(green::sleep(interval), WaitStatus::Woken | WaitStatus::TimedOut) {
                return;
            }
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            let Some(lease) = self.lease() else {
                self.rejoin();
                continue;
            };
            match self.etcd.keep_alive(lease) {
                Ok(_) => self.heard(),
                Err(e) if e.is_not_found() => {
                    self.heard();
                    log::warn!(
                        target: "tatsu::cluster",
                        "lease {lease:x} expired in etcd (this host was paused or cut off for longer than {} s): \
                         stepping down for every datapath",
                        self.ttl
                    );
                    self.set_lease(None);
                    lost();
                    self.rejoin();
                }
                Err(e) => self.unreachable(&e),
            }
        }
    }

    /// Registers again after losing the lease.
    fn rejoin(&self) {
        match self.register() {
            Ok(lease) => self.set_lease(Some(lease)),
            Err(JoinError::Etcd(e)) => self.unreachable(&e),
            Err(JoinError::DuplicateNode(why)) => log::error!(target: "tatsu::cluster", "cannot register again: {why}"),
        }
    }

    fn heard(&self) {
        if !self.reachable.swap(true, Ordering::AcqRel) {
            log::info!(target: "tatsu::cluster", "etcd is reachable again; elections resume");
        }
    }

    fn unreachable(&self, e: &EtcdError) {
        if self.reachable.swap(false, Ordering::AcqRel) {
            log::error!(
                target: "tatsu::cluster",
                "lost etcd: {e}; keeping the current roles, no new elections until it is back"
            );
        }
    }

    /// Ends the keep-alive; with `revoke`, also gives up the lease, so that every key of this host goes at once
    /// (a planned stop: the other hosts take over without waiting for the TTL). Runs on a coroutine.
    pub fn stop(&self, revoke: bool) {
        self.stopping.store(true, Ordering::Release);
        if let (true, Some(lease)) = (revoke, self.lease()) {
            match self.etcd.revoke(lease) {
                Ok(()) => log::info!(target: "tatsu::cluster", "left the cluster (lease {lease:x} revoked)"),
                Err(e) => log::warn!(target: "tatsu::cluster", "cannot revoke lease {lease:x}: {e}"),
            }
        }
    }
}
