//! The topology shared by the hosts of a cluster, through the key-value service.
//!
//! Each host discovers only the switches it masters. It publishes its part of the network, one ephemeral key per
//! switch it masters, `parts/<dpid as 16 hex digits>/<node id>`: the switch with its ports, the links that arrive
//! at it (this host saw their probes come in) and the hosts on its edge ports. Every host watches every part and
//! answers REST and requests, and publishes its events, from the union of all parts (the [`View`]), its own
//! included once they come back through the store: so every host shows the same network.
//!
//! When mastership moves, the old master deletes its parts of that switch and the new one publishes its own. A
//! host that dies takes its parts with it when its lease expires (the keys are ephemeral). While two parts of one
//! switch coexist (a takeover under way), the switch is described by the newer and their links and hosts are
//! merged.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::{KvChange, KvEntry, KvError, MacAddr};
use tatsu_topology_api::{
    Host, HostAdd, HostDelete, HostMove, Link, LinkAdd, LinkDelete, Port, PortAdd, PortDelete, PortModify, PortRef,
    Switch, SwitchEnter, SwitchLeave,
};

/// What one host publishes about one switch it masters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The switch and its ports.
    pub switch: Switch,
    /// The links arriving at its ports.
    pub links: Vec<Link>,
    /// The hosts on its edge ports.
    pub hosts: Vec<Host>,
}

/// A part to put: its datapath, its key and its JSON.
pub type Put = (u64, String, String);
/// A part to delete: its datapath and its key.
pub type Withdrawal = (u64, String);

/// The key prefix of every part.
pub const PARTS: &str = "parts/";

/// The key of this node's part of `dpid`.
pub fn part_key(dpid: u64, node: &str) -> String {
    format!("{PARTS}{dpid:016x}/{node}")
}

/// The datapath id a part's key names.
fn key_dpid(key: &str) -> Option<u64> {
    let rest = key.strip_prefix(PARTS)?;
    let (dpid, _node) = rest.split_once('/')?;
    u64::from_str_radix(dpid, 16).ok()
}

/// The network as every part together describes it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Merged {
    /// By datapath id.
    pub switches: BTreeMap<u64, Switch>,
    /// Every link of every part.
    pub links: BTreeSet<Link>,
    /// By MAC address.
    pub hosts: BTreeMap<MacAddr, Host>,
    /// Every port that is an end of a link (so not an edge port).
    ends: BTreeSet<PortRef>,
}

impl Merged {
    /// The port at `at`.
    pub fn port(&self, at: PortRef) -> Option<&Port> {
        self.switches.get(&at.dpid)?.ports.iter().find(|port| port.port_no == at.port_no)
    }

    /// Whether `at` is an end of any link.
    pub fn touches(&self, at: PortRef) -> bool {
        self.ends.contains(&at)
    }

    /// The switch `dpid`, or all of them.
    pub fn switches(&self, dpid: Option<u64>) -> Vec<Switch> {
        self.switches.values().filter(|switch| dpid.is_none_or(|dpid| switch.dpid == dpid)).cloned().collect()
    }

    /// The links leaving `dpid`, or all of them, in order.
    pub fn links(&self, dpid: Option<u64>) -> Vec<Link> {
        self.links.iter().filter(|link| dpid.is_none_or(|dpid| link.src.dpid == dpid)).copied().collect()
    }

    /// The hosts on `dpid`, or all of them, by MAC address.
    pub fn hosts(&self, dpid: Option<u64>) -> Vec<Host> {
        self.hosts.values().filter(|host| dpid.is_none_or(|dpid| host.port.dpid == dpid)).cloned().collect()
    }
}

/// One event of a change of the merged view, in the order they are published.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A link went.
    LinkDelete(LinkDelete),
    /// A host went.
    HostDelete(HostDelete),
    /// A port went.
    PortDelete(PortDelete),
    /// A switch went.
    SwitchLeave(SwitchLeave),
    /// A switch came.
    SwitchEnter(SwitchEnter),
    /// A port came.
    PortAdd(PortAdd),
    /// A port changed.
    PortModify(PortModify),
    /// A link came.
    LinkAdd(LinkAdd),
    /// A host came.
    HostAdd(HostAdd),
    /// A host moved.
    HostMove(HostMove),
}

/// Every part this host knows, from the store, by key, with the revision of its last change.
#[derive(Debug, Default)]
pub struct View {
    parts: BTreeMap<String, (Part, i64)>,
    merged: Merged,
    /// What this host last published, by datapath (its JSON).
    published: HashMap<u64, String>,
}

impl View {
    /// The merged view.
    pub fn merged(&self) -> &Merged {
        &self.merged
    }

    /// Starts again from a listing of every part; returns the changes from the view before, and with them the
    /// parts that did not decode (left out), if any.
    pub fn load(&mut self, entries: Vec<KvEntry>) -> Result<Vec<Change>, (Vec<Change>, String)> {
        self.parts.clear();
        let mut bad = Vec::new();
        for entry in entries {
            match serde_json::from_slice::<Part>(&entry.value) {
                Ok(part) => {
                    self.parts.insert(entry.key, (part, entry.revision));
                }
                Err(e) => bad.push(format!("{}: {e}", entry.key)),
            }
        }
        let changes = self.remerge();
        if bad.is_empty() {
            Ok(changes)
        } else {
            Err((changes, format!("parts that do not decode, left out: {}", bad.join("; "))))
        }
    }

    /// Applies changes a watch saw; returns the events, and the keys whose values did not decode.
    pub fn apply(&mut self, changes: Vec<KvChange>) -> (Vec<Change>, Vec<String>) {
        let mut bad = Vec::new();
        for change in changes {
            if key_dpid(&change.key).is_none() {
                continue;
            }
            match change.value {
                None => {
                    self.parts.remove(&change.key);
                }
                Some(value) => match serde_json::from_slice::<Part>(&value) {
                    Ok(part) => {
                        self.parts.insert(change.key, (part, change.revision));
                    }
                    Err(e) => bad.push(format!("{}: {e}", change.key)),
                },
            }
        }
        (self.remerge(), bad)
    }

    /// What this host should publish now, given its own `parts` by datapath: the puts and the deletions that
    /// differ from what it last published.
    pub fn to_publish(&self, node: &str, parts: &BTreeMap<u64, Part>) -> (Vec<Put>, Vec<Withdrawal>) {
        let mut puts = Vec::new();
        for (dpid, part) in parts {
            let Ok(json) = serde_json::to_string(part) else { continue };
            if self.published.get(dpid) != Some(&json) {
                puts.push((*dpid, part_key(*dpid, node), json));
            }
        }
        let deletes = self
            .published
            .keys()
            .filter(|dpid| !parts.contains_key(dpid))
            .map(|dpid| (*dpid, part_key(*dpid, node)))
            .collect();
        (puts, deletes)
    }

    /// Records that `json` is published for `dpid` (`None`: its part was deleted).
    pub fn published(&mut self, dpid: u64, json: Option<String>) {
        match json {
            Some(json) => self.published.insert(dpid, json),
            None => self.published.remove(&dpid),
        };
    }

    /// Recomputes the merged view and returns the events that take the old one to it.
    fn remerge(&mut self) -> Vec<Change> {
        let mut merged = Merged::default();
        let mut switch_revision: BTreeMap<u64, i64> = BTreeMap::new();
        let mut host_revision: BTreeMap<MacAddr, i64> = BTreeMap::new();
        for (part, revision) in self.parts.values() {
            let dpid = part.switch.dpid;
            if switch_revision.get(&dpid).is_none_or(|seen| seen < revision) {
                switch_revision.insert(dpid, *revision);
                merged.switches.insert(dpid, part.switch.clone());
            }
            merged.links.extend(part.links.iter().copied());
            for host in &part.hosts {
                if host_revision.get(&host.mac).is_none_or(|seen| seen < revision) {
                    host_revision.insert(host.mac, *revision);
                    merged.hosts.insert(host.mac, host.clone());
                }
            }
        }
        merged.ends = merged.links.iter().flat_map(|link| [link.src, link.dst]).collect();
        let changes = diff(&self.merged, &merged);
        self.merged = merged;
        changes
    }
}

/// The events from `old` to `new`: deletions first (links, hosts, ports, switches), then additions.
pub fn diff(old: &Merged, new: &Merged) -> Vec<Change> {
    let mut changes = Vec::new();
    for link in old.links.difference(&new.links) {
        changes.push(Change::LinkDelete(LinkDelete { link: *link }));
    }
    for (mac, host) in &old.hosts {
        if !new.hosts.contains_key(mac) {
            changes.push(Change::HostDelete(HostDelete { host: host.clone() }));
        }
    }
    for (dpid, switch) in &old.switches {
        match new.switches.get(dpid) {
            None => changes.push(Change::SwitchLeave(SwitchLeave { switch: switch.clone() })),
            Some(now) => {
                for port in &switch.ports {
                    if !now.ports.iter().any(|p| p.port_no == port.port_no) {
                        changes.push(Change::PortDelete(PortDelete { port: port.clone() }));
                    }
                }
            }
        }
    }
    for (dpid, switch) in &new.switches {
        match old.switches.get(dpid) {
            None => changes.push(Change::SwitchEnter(SwitchEnter { switch: switch.clone() })),
            Some(was) => {
                for port in &switch.ports {
                    match was.ports.iter().find(|p| p.port_no == port.port_no) {
                        None => changes.push(Change::PortAdd(PortAdd { port: port.clone() })),
                        Some(before) if before != port => {
                            changes.push(Change::PortModify(PortModify { port: port.clone() }));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    for link in new.links.difference(&old.links) {
        changes.push(Change::LinkAdd(LinkAdd { link: *link }));
    }
    for (mac, host) in &new.hosts {
        match old.hosts.get(mac) {
            None => changes.push(Change::HostAdd(HostAdd { host: host.clone() })),
            Some(was) if was.port != host.port => {
                changes.push(Change::HostMove(HostMove { host: host.clone(), from: was.port }));
            }
            Some(_) => {}
        }
    }
    changes
}

/// Why publishing failed, said once per kind.
pub fn failure_key(e: &KvError) -> String {
    format!("kv {:?}", e.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(dpid: u64, port_no: u32) -> Port {
        Port {
            dpid,
            port_no,
            hw_addr: MacAddr::new(2, 0, 0, 0, dpid as u8, port_no as u8),
            name: String::new(),
            live: true,
        }
    }

    fn part(dpid: u64, links: &[Link]) -> Part {
        Part {
            switch: Switch { dpid, ports: vec![port(dpid, 1), port(dpid, 2)] },
            links: links.to_vec(),
            hosts: vec![],
        }
    }

    fn change(key: &str, value: Option<&Part>, revision: i64) -> KvChange {
        KvChange {
            key: key.to_owned(),
            value: value.map(|part| serde_json::to_vec(part).unwrap_or_default()),
            revision,
        }
    }

    #[test]
    fn parts_merge_into_one_view_and_its_changes_are_events() {
        let mut view = View::default();
        let ab = Link { src: PortRef { dpid: 1, port_no: 1 }, dst: PortRef { dpid: 2, port_no: 1 } };
        let (events, bad) = view.apply(vec![
            change(&part_key(1, "h0"), Some(&part(1, &[])), 5),
            change(&part_key(2, "h1"), Some(&part(2, &[ab])), 6),
            change("elsewhere", None, 7),
        ]);
        assert!(bad.is_empty());
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(matches!(&events[2], Change::LinkAdd(LinkAdd { link }) if *link == ab));
        assert!(view.merged().touches(ab.src) && view.merged().port(ab.dst).is_some());

        // A takeover: the new master's part comes, then the old one's goes; nothing changes but the holder.
        let (events, _) = view.apply(vec![change(&part_key(2, "h0"), Some(&part(2, &[ab])), 8)]);
        assert_eq!(events, []);
        let (events, _) = view.apply(vec![change(&part_key(2, "h1"), None, 9)]);
        assert_eq!(events, []);
        // The switch goes: its link first, then the switch.
        let (events, _) = view.apply(vec![change(&part_key(2, "h0"), None, 10)]);
        assert!(matches!(&events[..], [Change::LinkDelete(_), Change::SwitchLeave(_)]), "{events:?}");

        let mut own = BTreeMap::new();
        own.insert(1, part(1, &[]));
        let (puts, deletes) = view.to_publish("h0", &own);
        assert_eq!((puts.len(), deletes.len()), (1, 0));
        view.published(1, Some(puts[0].2.clone()));
        assert_eq!(view.to_publish("h0", &own), (vec![], vec![]));
        assert_eq!(view.to_publish("h0", &BTreeMap::new()).1, [(1, part_key(1, "h0"))]);
    }
}
