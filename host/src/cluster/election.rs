//! Mastership per datapath. A host campaigns for a switch with a transaction that creates
//! `/<cluster>/datapaths/<dpid>/master` (value: the node id) with the host's lease if the key is absent. The
//! winner's generation id is the key's `create_revision`: etcd revisions only grow, so each new master of a switch
//! has a higher one than every earlier master. The others are slaves; when the key goes (the master resigned, or
//! its lease expired), they campaign again.
//!
//! **Mastership affinity.** An app on one host can only program the switches that host masters, so a network whose
//! switches are mastered by different hosts is a network no single forwarding app can serve. The hosts therefore
//! agree on a *preferred master*: `/<cluster>/datapaths/preferred`, created like an election key (absent → this
//! host's node id and lease), by whichever host finds it absent first. The preferred host campaigns for a datapath
//! at once; every other host campaigns only for a datapath that stays without a master for a grace (the lease TTL:
//! a host that has not connected to a switch within a lease time is treated as one that is gone). So one host
//! normally masters the whole network, and as its lease carries both its election keys and the preferred key, a
//! failover moves the whole network at once: the keys go in one revision, one survivor takes the preferred key and
//! campaigns at once for every switch, the others wait. A switch the preferred host is not connected to is still
//! mastered, after the grace, by a host that is (the network is then split, as it has to be). Mastership never
//! moves back by itself: a preferred host that comes back after a failover finds the keys held, and is slave.
//!
//! **One watch per host.** A single watch on the `/<cluster>/datapaths/` prefix keeps this host's [`View`] of every
//! election key and of the preferred key; each datapath's campaign waits on the view (it is woken when its key
//! changes), not on a watch of its own: 1,000 switches cost one watch stream, not 1,000. The view is read whole
//! (at a revision) before the watch starts from the next one, again after the watch ends (etcd lost, or the start
//! revision compacted), and a change is only taken if it is not older than what the view holds.
//!
//! A host that finds the key holding its own node id and its own lease is master already, with the key's
//! generation: that is how a hot restart keeps mastership without an election (the successor inherits the lease,
//! see [`super::node`]), and the preferred key with it.
//!
//! Each role change is sent to the switch ([`Switchboard`]): on OpenFlow 1.3 a ROLE_REQUEST with the generation
//! id, whose refusal as stale (`OFPRRFC_STALE`) makes this host step down and resign. OpenFlow 1.0 has no roles: a
//! slave drops the connection, so that a 1.0 switch is kept by its master only (it connects again, and campaigns
//! again, when it retries).
//!
//! Each datapath's campaign runs on its own green thread (of the cluster's [`ThreadGroup`], so that it can wait for
//! the switch's reply like an app's thread does) while the datapath is connected. While etcd is lost, the view
//! stays as it was, campaigns retry every second and roles stay as they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use tatsu_abi::WaitStatus;

use super::etcd::{Compare, Etcd, KeyValue, Op, WatchEvent};
use super::node::Node;
use super::role::{self, Answer, Role};
use super::Keys;
use crate::green::{self, GreenSlot, ThreadGroup};

/// How long a campaign waits before trying again after etcd failed it.
const RETRY: Duration = Duration::from_secs(1);
/// How often a waiting campaign looks whether its datapath is still connected and its lease the same (a change of
/// its key wakes it at once), and how long the watch waits for changes before the preferred key is looked at again.
const CHECK: Duration = Duration::from_millis(500);
/// How long a switch has to answer a ROLE_REQUEST.
const ROLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits [`RETRY`] before a campaign tries again; `false` if the campaign must end instead (the host is stopping).
fn pause() -> bool {
    matches!(green::sleep(RETRY), WaitStatus::Woken | WaitStatus::TimedOut)
}

/// Parks until woken or `timeout`; `false` if the thread must end (the host is stopping).
fn wait(timeout: Duration) -> bool {
    !matches!(green::park(Some(timeout)), WaitStatus::Stopping)
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
    /// The campaign's green thread, woken when the datapath's key changes.
    campaign: Option<Arc<GreenSlot>>,
}

/// This host's view of the election keys, kept by its one prefix watch.
#[derive(Default)]
struct View {
    /// Whether the keys were read at least once: before that, no campaign decides anything.
    synced: bool,
    /// The newest revision the view reflects.
    revision: i64,
    /// Each datapath's election key, for the datapaths that have a master.
    masters: HashMap<u64, KeyValue>,
    /// The preferred master's key, if there is one.
    preferred: Option<KeyValue>,
}

/// What a batch of watch events changed in the view.
#[derive(Default)]
struct Changed {
    datapaths: Vec<u64>,
    preferred: bool,
}

impl View {
    /// Replaces everything with a fresh read at `revision`.
    fn replace(&mut self, keys: &Keys, kvs: Vec<KeyValue>, revision: i64) {
        let preferred = keys.preferred();
        self.masters.clear();
        self.preferred = None;
        for kv in kvs {
            if kv.key == preferred {
                self.preferred = Some(kv);
            } else if let Some(dpid) = keys.dpid_of(&kv.key) {
                self.masters.insert(dpid, kv);
            }
        }
        self.revision = revision;
        self.synced = true;
    }

    /// Takes one change the watch reported (in revision order): the view now reflects every change up to it.
    fn watched(&mut self, keys: &Keys, kv: KeyValue, deleted: bool, changed: &mut Changed) {
        self.revision = self.revision.max(kv.mod_revision);
        self.take(keys, kv, deleted, changed);
    }

    /// Takes one change (a put, or a delete with only `key` and `mod_revision`), unless the view already holds a
    /// newer state of that key (a transaction's answer can reach the view before the watch's older events). Only
    /// the watch moves `revision`: a transaction's answer says nothing of the other keys.
    fn take(&mut self, keys: &Keys, kv: KeyValue, deleted: bool, changed: &mut Changed) {
        let slot = if kv.key == keys.preferred() {
            changed.preferred = true;
            &mut self.preferred
        } else if let Some(dpid) = keys.dpid_of(&kv.key) {
            changed.datapaths.push(dpid);
            let newer = self.masters.get(&dpid).is_none_or(|held| held.mod_revision <= kv.mod_revision);
            if newer {
                if deleted {
                    self.masters.remove(&dpid);
                } else {
                    self.masters.insert(dpid, kv);
                }
            }
            return;
        } else {
            return;
        };
        if slot.as_ref().is_none_or(|held| held.mod_revision <= kv.mod_revision) {
            *slot = (!deleted).then_some(kv);
        }
    }

    /// Whether `holder`, the key a campaign acted on, has been replaced or deleted since.
    fn replaced(&self, dpid: u64, holder: &KeyValue) -> bool {
        match self.masters.get(&dpid) {
            Some(kv) => kv.create_revision != holder.create_revision,
            None => self.revision >= holder.mod_revision,
        }
    }

    /// Whether this host (`node_id` with `lease`) is the preferred master.
    fn is_preferred(&self, node_id: &[u8], lease: i64) -> bool {
        self.preferred.as_ref().is_some_and(|kv| kv.lease == lease && kv.value == node_id)
    }
}

/// The mastership handle the switch side asks and notifies.
pub struct Mastership {
    etcd: Arc<Etcd>,
    keys: Keys,
    node: Arc<Node>,
    datapaths: Mutex<HashMap<u64, Entry>>,
    view: Mutex<View>,
    /// How long a host that is not the preferred master waits before it campaigns for a datapath without a master.
    grace: Duration,
    switchboard: OnceLock<Weak<dyn Switchboard>>,
    threads: Arc<ThreadGroup>,
}

impl Mastership {
    /// Mastership for this `node`; campaigns and the watch run in `threads`. A host that is not the preferred master
    /// campaigns for a datapath only after it has had no master for `grace`. Start the watch with
    /// [`Mastership::start`].
    pub fn new(
        etcd: Arc<Etcd>,
        keys: Keys,
        node: Arc<Node>,
        threads: Arc<ThreadGroup>,
        grace: Duration,
    ) -> Arc<Mastership> {
        Arc::new(Mastership {
            etcd,
            keys,
            node,
            datapaths: Mutex::new(HashMap::new()),
            view: Mutex::new(View::default()),
            grace,
            switchboard: OnceLock::new(),
            threads,
        })
    }

    /// Starts this host's one watch of the election keys.
    pub fn start(self: &Arc<Self>) -> std::io::Result<()> {
        let mastership = Arc::clone(self);
        self.threads.spawn("cluster-watch", move || mastership.watch_keys()).map(drop)
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
        if !role::changes_switch(version, message) || self.role_for(dpid) != Some(Role::Slave) {
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
            datapaths.insert(dpid, Entry { connection, role: None, generation, campaign: None });
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

    fn view(&self) -> MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the view of the election keys: reads them all, then watches the prefix from the next revision, and
    /// again after the watch ends. Runs on its own green thread until the host stops.
    fn watch_keys(&self) {
        let prefix = self.keys.datapaths();
        loop {
            match self.etcd.list_prefix(&prefix, false) {
                Ok((kvs, revision)) => {
                    self.view().replace(&self.keys, kvs, revision);
                    self.take_preferred_if_vacant();
                    self.wake_all();
                    match self.etcd.watch_prefix(&prefix, revision + 1) {
                        Ok(watch) => {
                            if !self.follow(watch) {
                                return;
                            }
                        }
                        Err(e) => log::debug!(target: "tatsu::cluster", "cannot watch the election keys: {e}"),
                    }
                }
                Err(e) => log::debug!(target: "tatsu::cluster", "cannot read the election keys: {e}"),
            }
            if !pause() {
                return;
            }
        }
    }

    /// Takes the changes `watch` reports into the view and wakes the campaigns they concern, until the watch ends;
    /// `false` if the host is stopping.
    fn follow(&self, mut watch: super::etcd::Watch) -> bool {
        loop {
            match watch.next(Instant::now() + CHECK) {
                Ok(None) => {
                    if self.take_preferred_if_vacant() {
                        self.wake_all();
                    }
                }
                Ok(Some(events)) => {
                    let mut changed = Changed::default();
                    {
                        let mut view = self.view();
                        for event in events {
                            match event {
                                WatchEvent::Put(kv) => view.watched(&self.keys, kv, false, &mut changed),
                                WatchEvent::Delete(kv) => view.watched(&self.keys, kv, true, &mut changed),
                            }
                        }
                    }
                    // A preferred master that went took its election keys with it (one lease, one revision): the
                    // survivor that takes its place must know before the campaigns look, so that it campaigns at once.
                    let took = changed.preferred && self.take_preferred_if_vacant();
                    if changed.preferred || took {
                        self.wake_all();
                    } else {
                        self.wake(&changed.datapaths);
                    }
                }
                Err(e) => {
                    log::debug!(target: "tatsu::cluster", "the watch of the election keys ended: {e}");
                    return green::current().is_none_or(|slot| !slot.must_stop());
                }
            }
        }
    }

    /// Creates the preferred-master key for this host if there is none; whether this host became preferred.
    fn take_preferred_if_vacant(&self) -> bool {
        let Some(lease) = self.node.lease() else { return false };
        if self.view().preferred.is_some() {
            return false;
        }
        let key = self.keys.preferred();
        let node_id = self.keys.node_id.as_bytes().to_vec();
        let put = Op::Put { key: key.clone(), value: node_id.clone(), lease };
        let txn =
            self.etcd.txn(&[Compare::CreateRevision(key.clone(), 0)], &[put, Op::Get(key.clone())], &[Op::Get(key)]);
        let holder = match txn {
            Ok(result) => result.got.into_iter().flatten().last(),
            Err(e) => {
                log::debug!(target: "tatsu::cluster", "cannot take the preferred-master key: {e}");
                return false;
            }
        };
        let Some(holder) = holder else { return false };
        let mine = holder.lease == lease && holder.value == node_id;
        if mine {
            log::info!(
                target: "tatsu::cluster",
                "this host is the preferred master: it campaigns for every datapath at once, the others after {:?}",
                self.grace
            );
        } else {
            log::debug!(
                target: "tatsu::cluster",
                "the preferred master is `{}`",
                String::from_utf8_lossy(&holder.value)
            );
        }
        let mut view = self.view();
        view.take(&self.keys, holder, false, &mut Changed::default());
        mine && view.is_preferred(&node_id, lease)
    }

    /// Wakes the campaigns of `dpids`.
    fn wake(&self, dpids: &[u64]) {
        let campaigns: Vec<Arc<GreenSlot>> = {
            let datapaths = self.datapaths();
            dpids.iter().filter_map(|dpid| datapaths.get(dpid).and_then(|entry| entry.campaign.clone())).collect()
        };
        for campaign in campaigns {
            campaign.unpark();
        }
    }

    /// Wakes every campaign.
    fn wake_all(&self) {
        let campaigns: Vec<Arc<GreenSlot>> = self.datapaths().values().filter_map(|e| e.campaign.clone()).collect();
        for campaign in campaigns {
            campaign.unpark();
        }
    }

    /// The campaign for `dpid` while `connection` is its connection: decides this host's role from the view, and
    /// creates the election key when there is none (at once on the preferred master, after the grace elsewhere).
    fn campaign(&self, dpid: u64, connection: u64) {
        if let Some(entry) = self.datapaths().get_mut(&dpid).filter(|entry| entry.connection == connection) {
            entry.campaign = green::current();
        }
        let key = self.keys.master(dpid);
        let node_id = self.keys.node_id.as_bytes().to_vec();
        let mut vacant_since: Option<Instant> = None;
        while self.is_current(dpid, connection) {
            let Some(lease) = self.node.lease() else {
                if !pause() {
                    return;
                }
                continue;
            };
            let (synced, known, preferred) = {
                let view = self.view();
                (view.synced, view.masters.get(&dpid).cloned(), view.is_preferred(&node_id, lease))
            };
            if !synced {
                if !wait(CHECK) {
                    return;
                }
                continue;
            }
            let holder = match known {
                Some(holder) => holder,
                None => {
                    if !preferred {
                        let since = *vacant_since.get_or_insert_with(Instant::now);
                        let left = self.grace.saturating_sub(since.elapsed());
                        if !left.is_zero() {
                            if !wait(left.min(CHECK)) {
                                return;
                            }
                            continue;
                        }
                    }
                    let put = Op::Put { key: key.clone(), value: node_id.clone(), lease };
                    let txn = self.etcd.txn(
                        &[Compare::CreateRevision(key.clone(), 0)],
                        &[put, Op::Get(key.clone())],
                        &[Op::Get(key.clone())],
                    );
                    match txn.map(|result| result.got.into_iter().flatten().last()) {
                        Ok(Some(holder)) => holder,
                        Ok(None) => continue, // gone again in between: campaign once more
                        Err(e) => {
                            log::debug!(target: "tatsu::cluster", "datapath {dpid:016x}: campaign: {e}");
                            if !pause() {
                                return;
                            }
                            continue;
                        }
                    }
                }
            };
            vacant_since = None;
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
            // Until the key changes, the lease changes or the datapath leaves.
            while self.is_current(dpid, connection)
                && self.node.lease() == Some(lease)
                && !self.view().replaced(dpid, &holder)
            {
                if !wait(CHECK) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys { cluster: "c".to_owned(), node_id: "n1".to_owned() }
    }

    fn kv(key: Vec<u8>, value: &str, create_revision: i64, mod_revision: i64, lease: i64) -> KeyValue {
        KeyValue { key, value: value.as_bytes().to_vec(), create_revision, mod_revision, lease }
    }

    #[test]
    fn election_keys_are_told_apart_from_the_preferred_key() {
        let keys = keys();
        assert_eq!(keys.dpid_of(&keys.master(0xab)), Some(0xab));
        assert_eq!(keys.dpid_of(&keys.preferred()), None);
        assert_eq!(keys.dpid_of(b"/c/datapaths/12/master"), None);
        assert_eq!(keys.dpid_of(b"/other/datapaths/00000000000000ab/master"), None);
    }

    #[test]
    fn the_view_takes_only_changes_newer_than_what_it_holds() {
        let keys = keys();
        let mut view = View::default();
        view.replace(&keys, vec![kv(keys.master(1), "n2", 5, 5, 20), kv(keys.preferred(), "n2", 4, 4, 20)], 6);
        assert!(view.synced && !view.is_preferred(b"n1", 10) && view.is_preferred(b"n2", 20));
        let held = view.masters[&1].clone();
        assert!(!view.replaced(1, &held));

        // n2's lease expires: its keys go in one revision; n1 takes the preferred key and the datapath, and a
        // transaction's answer reaches the view before the watch's older delete of the preferred key.
        let mut changed = Changed::default();
        view.take(&keys, kv(keys.preferred(), "n1", 9, 9, 10), false, &mut changed);
        view.watched(&keys, kv(keys.preferred(), "", 0, 8, 0), true, &mut changed);
        assert!(view.is_preferred(b"n1", 10), "an older delete must not undo a newer put");
        view.watched(&keys, kv(keys.master(1), "", 0, 8, 0), true, &mut changed);
        assert!(view.replaced(1, &held), "deleted");
        // A campaign's own transaction created the key at revision 10; the watch has reached 9 only.
        let mine = kv(keys.master(1), "n1", 10, 10, 10);
        view.watched(&keys, kv(keys.preferred(), "n1", 9, 9, 10), false, &mut changed);
        assert!(!view.replaced(1, &mine), "not seen yet is not replaced");
        view.watched(&keys, mine.clone(), false, &mut changed);
        assert!(!view.replaced(1, &mine));
        assert_eq!(changed.datapaths, vec![1, 1]);
        assert!(changed.preferred);
        view.watched(&keys, kv(keys.master(1), "n3", 12, 12, 30), false, &mut changed);
        assert!(view.replaced(1, &mine));
    }
}
