//! The view's copy of the topology and the JSON messages the page reads.
//!
//! Every message is one JSON object with a `type`:
//!
//! | `type` | fields |
//! |---|---|
//! | `snapshot` | `switches: [switch]`, `links: [link]`, `hosts: [host]`: the whole topology, sent on connect |
//! | `switch_add` | `switch` |
//! | `switch_delete` | `dpid` |
//! | `port_add`, `port_modify` | `dpid`, `port` |
//! | `port_delete` | `dpid`, `port_no` |
//! | `link_add`, `link_delete` | `link` |
//! | `host_add` | `host` |
//! | `host_move` | `host` (at its new port), `from` (a port reference) |
//! | `host_delete` | `mac` |
//!
//! A switch is `{"dpid": "%016x", "ports": [port]}`, a port `{"port_no": N, "name", "live"}`, a link
//! `"SRC_DPID:SRC_PORT-DST_DPID:DST_PORT"` (one direction; datapath ids in 16 hex digits as the REST topology gives
//! them, port numbers in decimal as ofctl-rest takes them), a port reference `"DPID:PORT"`, a host
//! `{"mac", "port": port reference, "ipv4": [...], "ipv6": [...]}`. Applying a change twice, or a change the
//! snapshot already holds, leaves the same topology, so the page never needs to know which came first.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{Host, Link, Port, PortRef, Switch};

/// One change, as the topology app published it.
#[derive(Debug, Clone)]
pub enum Change {
    /// A switch joined (or joined again) with these ports.
    SwitchAdd(Switch),
    /// A switch left.
    SwitchDelete(u64),
    /// A port appeared.
    PortAdd(Port),
    /// A port changed.
    PortModify(Port),
    /// A port was removed.
    PortDelete(PortRef),
    /// A link (one direction) was discovered.
    LinkAdd(Link),
    /// A link went away.
    LinkDelete(Link),
    /// A host was seen.
    HostAdd(Host),
    /// A host was seen on another port.
    HostMove {
        /// The host at its new port.
        host: Host,
        /// Its port before.
        from: PortRef,
    },
    /// A host was forgotten.
    HostDelete(MacAddr),
}

/// The topology as the view knows it: the topology app's replies at start, kept up to date by its events.
#[derive(Debug, Default)]
pub struct Mirror {
    switches: BTreeMap<u64, BTreeMap<u32, Port>>,
    links: BTreeSet<Link>,
    hosts: BTreeMap<MacAddr, Host>,
}

fn dpid_text(dpid: u64) -> String {
    format!("{dpid:016x}")
}

fn link_text(link: &Link) -> String {
    format!("{}-{}", link.src, link.dst)
}

fn port_json(port: &Port) -> Value {
    json!({ "port_no": port.port_no, "name": port.name, "live": port.live })
}

fn switch_json(dpid: u64, ports: &BTreeMap<u32, Port>) -> Value {
    json!({ "dpid": dpid_text(dpid), "ports": ports.values().map(port_json).collect::<Vec<_>>() })
}

fn host_json(host: &Host) -> Value {
    json!({
        "mac": host.mac.to_string(),
        "port": host.port.to_string(),
        "ipv4": host.ipv4.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "ipv6": host.ipv6.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

impl Mirror {
    /// A mirror holding exactly these switches, links and hosts.
    pub fn new(switches: Vec<Switch>, links: Vec<Link>, hosts: Vec<Host>) -> Self {
        let mut mirror = Mirror::default();
        for switch in switches {
            mirror.apply(Change::SwitchAdd(switch));
        }
        mirror.links.extend(links);
        for host in hosts {
            mirror.hosts.insert(host.mac, host);
        }
        mirror
    }

    /// Switches, links and hosts known.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.switches.len(), self.links.len(), self.hosts.len())
    }

    /// The `snapshot` message.
    pub fn snapshot(&self) -> String {
        json!({
            "type": "snapshot",
            "switches": self.switches.iter().map(|(&dpid, ports)| switch_json(dpid, ports)).collect::<Vec<_>>(),
            "links": self.links.iter().map(link_text).collect::<Vec<_>>(),
            "hosts": self.hosts.values().map(host_json).collect::<Vec<_>>(),
        })
        .to_string()
    }

    /// Applies `change` and returns its message. A switch that leaves takes its links and hosts with it (the
    /// topology app has published their deletions before, so this only matters if one was missed).
    pub fn apply(&mut self, change: Change) -> String {
        let message = match &change {
            Change::SwitchAdd(switch) => {
                let ports = switch.ports.iter().map(|port| (port.port_no, port.clone())).collect();
                self.switches.insert(switch.dpid, ports);
                json!({ "type": "switch_add", "switch": switch_json(switch.dpid, &self.switches[&switch.dpid]) })
            }
            Change::SwitchDelete(dpid) => {
                self.switches.remove(dpid);
                self.links.retain(|link| link.src.dpid != *dpid && link.dst.dpid != *dpid);
                self.hosts.retain(|_, host| host.port.dpid != *dpid);
                json!({ "type": "switch_delete", "dpid": dpid_text(*dpid) })
            }
            Change::PortAdd(port) | Change::PortModify(port) => {
                if let Some(ports) = self.switches.get_mut(&port.dpid) {
                    ports.insert(port.port_no, port.clone());
                }
                let kind = if matches!(change, Change::PortAdd(_)) { "port_add" } else { "port_modify" };
                json!({ "type": kind, "dpid": dpid_text(port.dpid), "port": port_json(port) })
            }
            Change::PortDelete(at) => {
                if let Some(ports) = self.switches.get_mut(&at.dpid) {
                    ports.remove(&at.port_no);
                }
                json!({ "type": "port_delete", "dpid": dpid_text(at.dpid), "port_no": at.port_no })
            }
            Change::LinkAdd(link) => {
                self.links.insert(*link);
                json!({ "type": "link_add", "link": link_text(link) })
            }
            Change::LinkDelete(link) => {
                self.links.remove(link);
                json!({ "type": "link_delete", "link": link_text(link) })
            }
            Change::HostAdd(host) => {
                self.hosts.insert(host.mac, host.clone());
                json!({ "type": "host_add", "host": host_json(host) })
            }
            Change::HostMove { host, from } => {
                self.hosts.insert(host.mac, host.clone());
                json!({ "type": "host_move", "host": host_json(host), "from": from.to_string() })
            }
            Change::HostDelete(mac) => {
                self.hosts.remove(mac);
                json!({ "type": "host_delete", "mac": mac.to_string() })
            }
        };
        message.to_string()
    }
}
