//! Several tatsu hosts as one controller, coordinated by etcd (`--cluster-etcd`): every switch connects to every
//! host, and per datapath one host is master, the others slaves (OpenFlow roles).
//!
//! - [`etcd`]: the etcd v3 client, over etcd's HTTP/JSON gateway on the host's green sockets ([`http`],
//!   `crate::base64`).
//! - [`node`]: this host's lease and its entry in the node registry (a second host with the same node id is
//!   refused), and the keep-alive.
//! - [`election`]: the campaign per datapath, the host's one watch of the election keys, the preferred master
//!   (mastership affinity: one host masters the whole network), and [`Mastership`], the narrow handle the switch
//!   side asks (`refusal`) and notifies (`datapath_joined`, `datapath_left`) through the [`Switchboard`] it
//!   implements.
//! - [`role`]: ROLE_REQUEST and its answers on the wire.
//! - [`kv`]: the key-value service for apps (each app under its own prefix), on etcd or, without a cluster, in
//!   this process.
//!
//! Keys, under `/<cluster-name>/`: `nodes/<node-id>` (value: the node id), `datapaths/<dpid as 16 hex
//! digits>/master` (value: the master's node id) and `datapaths/preferred` (value: the preferred master's node id),
//! all attached to the host's lease; `apps/<app>/...`, each app's own keys (those it puts as ephemeral attached to
//! the lease too).
//!
//! Hot restart: the successor inherits the lease ([`LEASE_ENV`]), so its registry entry and its election keys stay
//! valid and it finds itself master of the same datapaths with the same generation ids: no election. Only a
//! planned stop revokes the lease (the others take over at once); a crash leaves it to expire after the TTL.

pub mod election;
pub mod etcd;
pub mod http;
pub mod kv;
pub mod node;
pub mod role;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

pub use election::{Mastership, Switchboard};
use etcd::Etcd;
pub use node::JoinError;
use node::Node;

use crate::green::{self, Runners, ThreadGroup};

/// The environment variable that hands this host's lease id (hex) to its successor in a hot restart.
pub const LEASE_ENV: &str = "TATSU_CLUSTER_LEASE";

/// The cluster settings (present only with `--cluster-etcd`).
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// etcd's client URLs (`http://host:port`).
    pub etcd: Vec<String>,
    /// The cluster's name: the prefix of every key.
    pub name: String,
    /// This host's node id, unique in the cluster.
    pub node_id: String,
    /// The lease TTL, in seconds: how long a host that vanished stays master.
    pub lease_ttl: u64,
    /// How long one etcd call may take per endpoint.
    pub etcd_timeout: Duration,
}

impl ClusterSettings {
    /// Rejects settings that cannot work.
    pub fn check(&self) -> Result<(), String> {
        let plain = |what: &str, text: &str| {
            if text.is_empty() || text.contains('/') || text.chars().any(char::is_whitespace) {
                Err(format!("{what} {text:?} must be a non-empty word without '/' or spaces"))
            } else {
                Ok(())
            }
        };
        plain("cluster_name", &self.name)?;
        plain("node_id", &self.node_id)?;
        if !(2..=3600).contains(&self.lease_ttl) {
            return Err(format!("cluster_lease_ttl {} must be 2 to 3600 seconds", self.lease_ttl));
        }
        Etcd::new(&self.etcd, self.etcd_timeout).map(drop)
    }
}

/// The keys of one host in one cluster.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The cluster's name.
    pub cluster: String,
    /// This host's node id.
    pub node_id: String,
}

impl Keys {
    /// This host's registry key.
    pub fn node(&self) -> Vec<u8> {
        format!("/{}/nodes/{}", self.cluster, self.node_id).into_bytes()
    }

    /// The prefix of every election key: what each host watches, with one watch.
    pub fn datapaths(&self) -> Vec<u8> {
        format!("/{}/datapaths/", self.cluster).into_bytes()
    }

    /// The election key of `dpid`.
    pub fn master(&self, dpid: u64) -> Vec<u8> {
        format!("/{}/datapaths/{dpid:016x}/master", self.cluster).into_bytes()
    }

    /// The key of the preferred master, the one host that campaigns for a datapath at once (see
    /// [`election`]'s mastership affinity).
    pub fn preferred(&self) -> Vec<u8> {
        format!("/{}/datapaths/preferred", self.cluster).into_bytes()
    }

    /// The datapath whose election key `key` is, if it is one.
    pub fn dpid_of(&self, key: &[u8]) -> Option<u64> {
        let rest = key.strip_prefix(self.datapaths().as_slice())?;
        let hex = rest.strip_suffix(b"/master")?;
        if hex.len() != 16 {
            return None;
        }
        u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
}

/// This host in the cluster: its membership and the mastership of its datapaths.
pub struct Cluster {
    etcd: Arc<Etcd>,
    keys: Keys,
    node: Arc<Node>,
    /// The mastership handle for the switch side.
    pub mastership: Arc<Mastership>,
}

impl Cluster {
    /// Joins the cluster (reusing the predecessor's lease, if this host took over in a hot restart) and starts the
    /// keep-alive; campaigns run on `runners`. Call from a plain thread (it waits on a coroutine).
    pub fn start(settings: &ClusterSettings, runners: &Arc<Runners>) -> Result<Cluster, JoinError> {
        let etcd = Arc::new(
            Etcd::new(&settings.etcd, settings.etcd_timeout)
                .map_err(|e| JoinError::Etcd(etcd::EtcdError::Protocol(e)))?,
        );
        let keys = Keys { cluster: settings.name.clone(), node_id: settings.node_id.clone() };
        let inherited = std::env::var(LEASE_ENV).ok().and_then(|text| i64::from_str_radix(&text, 16).ok());
        std::env::remove_var(LEASE_ENV);
        let ttl = i64::try_from(settings.lease_ttl).unwrap_or(i64::MAX);
        let joining = (Arc::clone(&etcd), keys.clone());
        let node = on_coroutine(move || Node::join(joining.0, joining.1, ttl, inherited))
            .map_err(|e| JoinError::Etcd(etcd::EtcdError::Unavailable(e)))??;
        let node = Arc::new(node);
        // The keep-alive and the campaigns are green threads of one group: they wait for switches' replies (stepping
        // down sends ROLE_REQUESTs), and a planned stop ends them all.
        let threads = ThreadGroup::new("cluster", runners);
        // Mastership affinity (see `election`): a host that is not the preferred master waits one lease time.
        let grace = Duration::from_secs(settings.lease_ttl);
        let mastership =
            Mastership::new(Arc::clone(&etcd), keys.clone(), Arc::clone(&node), Arc::clone(&threads), grace);
        if let Err(e) = mastership.start() {
            return Err(JoinError::Etcd(etcd::EtcdError::Unavailable(e.to_string())));
        }
        let (alive, stepping) = (Arc::clone(&node), Arc::clone(&mastership));
        if let Err(e) = threads.spawn("cluster-keepalive", move || alive.keep_alive(|| stepping.step_down_all())) {
            return Err(JoinError::Etcd(etcd::EtcdError::Unavailable(e.to_string())));
        }
        Ok(Cluster { etcd, keys, node, mastership })
    }

    /// This host's node id.
    pub fn node_id(&self) -> &str {
        &self.keys.node_id
    }

    /// The environment a hot-restart successor needs to keep this host's lease.
    pub fn successor_env(&self) -> Option<(&'static str, String)> {
        self.node.lease().map(|lease| (LEASE_ENV, format!("{lease:x}")))
    }

    /// Leaves the cluster on a planned stop: ends the campaigns and the keep-alive, and revokes the lease so that the
    /// other hosts take over at once. Call from a plain thread.
    pub fn leave(&self) {
        self.mastership.stop(Duration::from_secs(2));
        let node = Arc::clone(&self.node);
        if let Err(e) = on_coroutine(move || node.stop(true)) {
            log::warn!(target: "tatsu::cluster", "cannot leave the cluster: {e}");
        }
    }
}

/// Runs `body` on a host coroutine and waits for its result on this (plain) thread: etcd calls park, and must run
/// on a coroutine.
pub fn on_coroutine<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    green::spawn_host("cluster-call", move || {
        let _ = sender.send(body());
    })?;
    receiver.recv().map_err(|_| "the coroutine ended without an answer".to_owned())
}
