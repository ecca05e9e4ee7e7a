//! Mastership per datapath. Every host connected to a switch campaigns for it: a transaction creates
//! `/<cluster>/datapaths/<dpid>/master` (value: the node id) with the host's lease if the key is absent. The
//! winner's generation id is the key's `create_revision`: etcd revisions only grow, so each new master of a switch
//! has a higher one than every earlier master. The others are slaves and watch the key; when it goes (the master
//! resigned, or its lease expired), they campaign again.
//!
//! A host that finds the key holding its own node id and its own lease is master already, with the key's
//! generation: that is how a hot restart keeps mastership without an election (the successor inherits the lease,
//! see [`super::node`]).
//!
//! Each role change is sent to the switch ([`Switchboard`]): on OpenFlow 1.3 a ROLE_REQUEST with the generation
//! id, whose refusal as stale (`OFPRRFC_STALE`) makes this host step down and resign. OpenFlow 1.0 has no roles: a
//! slave drops the connection, so that a 1.0 switch is kept by its master only (it connects again, and campaigns
//! again, when it retries).
//!
//! Each datapath's campaign runs on its own green thread (of the cluster's [`ThreadGroup`], so that it can wait for
//! the switch's reply like an app's thread does) while the datapath is connected. While etcd is lost,
//! campaigns retry every second and roles stay as they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use tatsu_abi::WaitStatus;

use super::etcd::{Compare, Etcd, EtcdError, Op, WatchEvent};
use super::node::Node;
use super::role::{self, Answer, Role};
use super::Keys;
use crate::green::{self, ThreadGroup};

/// How long a campaign waits before trying again after etcd failed it.
const RETRY: Duration = Duration::from_secs(1);
/// How often a watching campaign looks whether its datapath is still connected.
const CHECK: Duration = Duration::from_millis(500);
/// How long a switch has to answer a ROLE_REQUEST.
const ROLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits [`RETRY`] before a campaign tries again; `false` if the campaign must end instead (the host is stopping).
fn pause() -> bool {
    matches!(green::sleep(RETRY), WaitStatus::Woken | WaitStatus::TimedOut)
}

/// What mastership needs of the switch side.
pub trait Switchboard: Send + Sync {
    /// The OpenFlow version of datapath `dpid`'s connection `connection`, if it is still that connection.
    fn version(&self, dpid: u64, connection: u64) -> Option<u8>;
    /// Sends `message` to the datapath as a request and waits for the reply (a ROLE_REPLY or an error).
    fn request(&self, dpid: u64, connection: u64, message: &[u8], timeout: Duration) -> Result<Vec<u8>, String>;
    /// Closes the datapath's connection (a slave's OpenFlow 1.0 switch).
    fn drop_connection(&self, dpid: u64, connection: u64, reason: &str);
    /// This host's role for the datapath's connection is now `role` (`generation`: the newest seen): tells apps.
    fn role_changed(&self, dpid: u64, connection: u64, role: Role, generation: u64);
}

/// One connected datapath.
struct Entry {
    /// The connection campaigning (a newer connection of the same datapath replaces it).
    connection: u64,
    /// The role decided, once there is one.
    role: Option<Role>,
    /// The highest generation id seen for this datapath (what a slave's ROLE_REQUEST carries).
    generation: u64,
}

/// The mastership handle the switch side asks and notifies.
pub struct Mastership {
    etcd: Arc<Etcd>,
    keys: Keys,
    node: Arc<Node>,
    datapaths: Mutex<HashMap<u64, Entry>>,
    switchboard: OnceLock<Weak<dyn Switchboard>>,
    threads: Arc<ThreadGroup>,
}

impl Mastership {
    /// Mastership for this `node`; campaigns run in `threads`.
    pub fn new(etcd: Arc<Etcd>, keys: Keys, node: Arc<Node>, threads: Arc<ThreadGroup>) -> Arc<Mastership> {
        let datapaths = Mutex::new(HashMap::new());
        Arc::new(Mastership { etcd, keys, node, datapaths, switchboard: OnceLock::new(), threads })
    }

    /// Connects the switch side (once).
    pub fn attach(&self, switchboard: Weak<dyn Switchboard>) {
        let _ = self.switchboard.set(switchboard);
    }

    fn datapaths(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.datapaths.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn switchboard(&self) -> Option<Arc<dyn Switchboard>> {
        self.switchboard.get().and_then(Weak::upgrade)
    }

    /// This host's role for `dpid`, once decided.
    pub fn role_for(&self, dpid: u64) -> Option<Role> {
        self.datapaths().get(&dpid).and_then(|entry| entry.role)
    }

    /// Why `message` must not go to `dpid`, if this host is its slave and the message would change the switch
    /// (reads are allowed). Before the election has decided, everything goes (the switch still treats this host
    /// as an equal).
    pub fn refusal(&self, dpid: u64, version: u8, message: &[u8]) -> Option<String> {
        let msg_type = *message.get(1)?;
        if !role::changes_switch(version, msg_type) || self.role_for(dpid) != Some(Role::Slave) {
            return None;
        }
        Some(format!(
            "datapath {dpid:016x}: this host is its slave (node `{}`), the master makes changes; message type \
             {msg_type} refused",
            self.keys.node_id
        ))
    }

    /// Datapath `dpid` reached MAIN on `connection` (or was adopted in a hot restart): campaign for it.
    pub fn datapath_joined(self: &Arc<Self>, dpid: u64, connection: u64) {
        {
            let mut datapaths = self.datapaths();
            let generation = datapaths.get(&dpid).map_or(0, |entry| entry.generation);
            datapaths.insert(dpid, Entry { connection, role: None, generation });
        }
        let mastership = Arc::clone(self);
        let spawned = self.threads.spawn("cluster-campaign", move || mastership.campaign(dpid, connection));
        if let Err(e) = spawned {
            log::error!(target: "tatsu::cluster", "datapath {dpid:016x}: cannot campaign: {e}");
        }
    }

    /// Datapath `dpid`'s `connection` closed: stop campaigning, and resign if this host was its master, so that
    /// another host the switch is still connected to takes over at once.
    pub fn datapath_left(self: &Arc<Self>, dpid: u64, connection: u64) {
        let was_master = {
            let mut datapaths = self.datapaths();
            match datapaths.get(&dpid) {
                Some(entry) if entry.connection == connection => {
                    let was_master = matches!(entry.role, Some(Role::Master { .. }));
                    datapaths.remove(&dpid);
                    was_master
                }
                _ => return,
            }
        };
        if was_master {
            let mastership = Arc::clone(self);
            let spawned = self.threads.spawn("cluster-resign", move || {
                if mastership.role_for(dpid).is_none() {
                    mastership.resign(dpid);
                }
            });
            if let Err(e) = spawned {
                log::warn!(target: "tatsu::cluster", "datapath {dpid:016x}: cannot resign: {e}");
            }
        }
    }

    /// The lease was lost: every datapath's key with it. Steps down everywhere; the campaigns run again once a new
    /// lease is in force.
    pub fn step_down_all(&self) {
        let masters: Vec<(u64, u64)> = self
            .datapaths()
            .iter()
            .filter(|(_, entry)| matches!(entry.role, Some(Role::Master { .. })))
            .map(|(dpid, entry)| (*dpid, entry.connection))
            .collect();
        for (dpid, connection) in masters {
            self.apply(dpid, connection, Role::Slave);
        }
    }

    /// Ends every campaign (a planned stop), waiting at most `within`.
    pub fn stop(&self, within: Duration) {
        let stragglers = self.threads.stop(Instant::now() + within);
        if !stragglers.is_empty() {
            log::warn!(target: "tatsu::cluster", "campaigns still running: {}", stragglers.join(", "));
        }
    }

    fn is_current(&self, dpid: u64, connection: u64) -> bool {
        self.datapaths().get(&dpid).is_some_and(|entry| entry.connection == connection)
    }

    /// Deletes this host's election key for `dpid`, if it still is this host's (same lease).
    fn resign(&self, dpid: u64) {
        let Some(lease) = self.node.lease() else { return };
        let key = self.keys.master(dpid);
        match self.etcd.txn(&[Compare::Lease(key.clone(), lease)], &[Op::Delete(key)], &[]) {
            Ok(result) if result.succeeded => {
                log::info!(target: "tatsu::cluster", "datapath {dpid:016x}: resigned as master")
            }
            Ok(_) => {}
            Err(e) => log::warn!(target: "tatsu::cluster", "datapath {dpid:016x}: cannot resign: {e}"),
        }
    }

    /// The campaign for `dpid` while `connection` is its connection.
    fn campaign(&self, dpid: u64, connection: u64) {
        let key = self.keys.master(dpid);
        let node_id = self.keys.node_id.as_bytes().to_vec();
        while self.is_current(dpid, connection) {
            let Some(lease) = self.node.lease() else {
                if !pause() {
                    return;
                }
                continue;
            };
            let put = Op::Put { key: key.clone(), value: node_id.clone(), lease };
            let txn = self.etcd.txn(
                &[Compare::CreateRevision(key.clone(), 0)],
                &[put, Op::Get(key.clone())],
                &[Op::Get(key.clone())],
            );
            let holder = match txn {
                Ok(result) => result.got.into_iter().flatten().last(),
                Err(e) => {
                    log::debug!(target: "tatsu::cluster", "datapath {dpid:016x}: campaign: {e}");
                    if !pause() {
                        return;
                    }
                    continue;
                }
            };
            let Some(holder) = holder else { continue }; // gone again in between: campaign once more
            let generation = u64::try_from(holder.create_revision).unwrap_or(0);
            let role = if holder.lease == lease && holder.value == node_id {
                Role::Master { generation }
            } else {
                log::debug!(
                    target: "tatsu::cluster",
                    "datapath {dpid:016x}: master is `{}` (generation {generation})",
                    String::from_utf8_lossy(&holder.value)
                );
                Role::Slave
            };
            self.note_generation(dpid, generation);
            if !self.apply(dpid, connection, role) {
                // Refused as stale: give the key up and wait before campaigning again.
                self.resign(dpid);
                if !pause() {
                    return;
                }
                continue;
            }
            if let Err(e) = self.wait_for_change(dpid, connection, &key, holder.mod_revision + 1, lease) {
                log::debug!(target: "tatsu::cluster", "datapath {dpid:016x}: watch: {e}");
                if !pause() {
                    return;
                }
            }
        }
    }

    fn note_generation(&self, dpid: u64, generation: u64) {
        if let Some(entry) = self.datapaths().get_mut(&dpid) {
            entry.generation = entry.generation.max(generation);
        }
    }

    /// Waits until the election key changes (from `revision` on), the lease changes or the datapath leaves.
    fn wait_for_change(
        &self,
        dpid: u64,
        connection: u64,
        key: &[u8],
        revision: i64,
        lease: i64,
    ) -> Result<(), EtcdError> {
        let mut watch = self.etcd.watch(key, revision)?;
        while self.is_current(dpid, connection) && self.node.lease() == Some(lease) {
            match watch.next(Instant::now() + CHECK)? {
                None => {}
                Some(events) if events.iter().any(|e| matches!(e, WatchEvent::Delete(_) | WatchEvent::Put(_))) => {
                    log::debug!(target: "tatsu::cluster", "datapath {dpid:016x}: election key changed: {events:?}");
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Records `role` for `dpid` and tells the switch if it changed; `false` if the switch refused it as stale
    /// (this host is then its slave).
    fn apply(&self, dpid: u64, connection: u64, role: Role) -> bool {
        let generation = {
            let mut datapaths = self.datapaths();
            let Some(entry) = datapaths.get_mut(&dpid).filter(|entry| entry.connection == connection) else {
                return true;
            };
            if entry.role == Some(role) {
                return true;
            }
            entry.role = Some(role);
            entry.generation
        };
        match role {
            Role::Master { generation } => {
                log::info!(target: "tatsu::cluster", "datapath {dpid:016x}: master (generation {generation})")
            }
            Role::Slave => log::info!(target: "tatsu::cluster", "datapath {dpid:016x}: slave"),
        }
        let Some(switchboard) = self.switchboard() else { return true };
        let Some(version) = switchboard.version(dpid, connection) else { return true };
        if version < 4 {
            if role == Role::Slave {
                switchboard.drop_connection(dpid, connection, "another host is master (OpenFlow 1.0 has no roles)");
            } else {
                switchboard.role_changed(dpid, connection, role, generation);
            }
            return true;
        }
        let request = role::request(version, role, generation);
        let answer = match switchboard.request(dpid, connection, &request, ROLE_TIMEOUT) {
            Ok(reply) => role::answer(&reply),
            Err(e) => Answer::Failed(e),
        };
        match answer {
            Answer::Accepted { generation, .. } => {
                self.note_generation(dpid, generation);
                switchboard.role_changed(dpid, connection, role, generation);
                true
            }
            Answer::Stale => {
                log::warn!(
                    target: "tatsu::cluster",
                    "datapath {dpid:016x}: the switch refused {role:?} as stale (a newer master exists): stepping down"
                );
                if let Some(entry) = self.datapaths().get_mut(&dpid).filter(|entry| entry.connection == connection) {
                    entry.role = Some(Role::Slave);
                }
                switchboard.role_changed(dpid, connection, Role::Slave, generation);
                false
            }
            Answer::Failed(why) => {
                log::warn!(target: "tatsu::cluster", "datapath {dpid:016x}: role request {role:?} failed: {why}");
                switchboard.role_changed(dpid, connection, role, generation);
                true
            }
        }
    }
}
