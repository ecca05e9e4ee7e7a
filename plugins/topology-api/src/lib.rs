//! The `topology` app's public face: the network it discovers (switches, ports, links, hosts), the events it
//! publishes when that changes and the requests it answers (Ryu's `ryu.topology.event` and `api`).
//!
//! An app that needs the network requires `topology` (`const REQUIRES: &[&str] = &["topology"]`), subscribes to
//! the events it cares about and asks for the current state once at start:
//!
//! ```no_run
//! use std::time::Duration;
//! use tatsu_plugin_api::Context;
//! use tatsu_topology_api::{GetLinks, LinkAdd};
//!
//! fn links_now(ctx: &Context) -> usize {
//!     ctx.request(&GetLinks { dpid: None }, Duration::from_secs(1)).map(|links| links.len()).unwrap_or(0)
//! }
//! # fn on_link(link: LinkAdd) { println!("{} -> {}", link.link.src, link.link.dst) }
//! ```
//!
//! Events are published after the topology app's own tables changed, in the order the changes happened; a
//! subscriber that starts late gets the state so far from the requests, then follows the events.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::{AppEvent, AppRequest, MacAddr};

/// The name of the app that serves these requests and publishes these events (for `REQUIRES`).
pub const APP_NAME: &str = "topology";

/// One end of a link or a host's attachment point: a port of a datapath.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRef {
    /// Datapath id.
    pub dpid: u64,
    /// Port number, in OpenFlow 1.3 numbering (1.0 ports are widened).
    pub port_no: u32,
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}:{}", self.dpid, self.port_no)
    }
}

/// A switch port as the topology knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// Datapath id.
    pub dpid: u64,
    /// Port number, in OpenFlow 1.3 numbering.
    pub port_no: u32,
    /// The port's MAC address.
    #[serde(with = "mac_string")]
    pub hw_addr: MacAddr,
    /// The port's name (`s1-eth1`).
    pub name: String,
    /// Up and forwarding: neither administratively down (`OFPPC_PORT_DOWN`) nor without link (`OFPPS_LINK_DOWN`).
    pub live: bool,
}

impl Port {
    /// Where this port is.
    pub fn at(&self) -> PortRef {
        PortRef { dpid: self.dpid, port_no: self.port_no }
    }
}

/// A switch and its ports (reserved ports such as LOCAL left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switch {
    /// Datapath id.
    pub dpid: u64,
    /// Its ports, by port number.
    pub ports: Vec<Port>,
}

/// A unidirectional link: LLDP sent out of `src` arrived at `dst`. A cable between two switches is two links,
/// one each way, and each is added and deleted on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    /// The port the probe left from.
    pub src: PortRef,
    /// The port it arrived at.
    pub dst: PortRef,
}

impl Link {
    /// The same cable seen from the other side.
    pub fn reversed(&self) -> Link {
        Link { src: self.dst, dst: self.src }
    }
}

/// A host: a MAC address seen as the source of traffic on an edge port (a port with no link to another switch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// The host's MAC address.
    #[serde(with = "mac_string")]
    pub mac: MacAddr,
    /// Where it is attached.
    pub port: PortRef,
    /// IPv4 addresses it used (from ARP and IPv4 sources), oldest first.
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses it used (from neighbour discovery and IPv6 sources), oldest first.
    pub ipv6: Vec<Ipv6Addr>,
}

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident { $field:ident : $ty:ty } = $wire:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            #[allow(missing_docs)]
            pub $field: $ty,
        }
        impl AppEvent for $name {
            const NAME: &'static str = $wire;
        }
    )*};
}

events! {
    /// A switch joined the topology (its datapath entered MAIN), with its ports.
    SwitchEnter { switch: Switch } = "topology.switch_enter";
    /// A switch left: its links and hosts have been deleted (and their events published) before this.
    SwitchLeave { switch: Switch } = "topology.switch_leave";
    /// A port appeared on a known switch.
    PortAdd { port: Port } = "topology.port_add";
    /// A port changed (state, config, name, address); a port that went down has lost its links already.
    PortModify { port: Port } = "topology.port_modify";
    /// A port was removed; its links and hosts have been deleted before this.
    PortDelete { port: Port } = "topology.port_delete";
    /// A link was discovered (or came back).
    LinkAdd { link: Link } = "topology.link_add";
    /// A link went away: a port went down, a switch left, or no probe arrived within the link timeout.
    LinkDelete { link: Link } = "topology.link_delete";
    /// A host was seen for the first time.
    HostAdd { host: Host } = "topology.host_add";
    /// A host was forgotten: its port or switch went away, or it timed out.
    HostDelete { host: Host } = "topology.host_delete";
}

/// A host was seen on another edge port than before (Ryu's `EventHostMove`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMove {
    /// The host, at its new port.
    pub host: Host,
    /// Where it was before.
    pub from: PortRef,
}

impl AppEvent for HostMove {
    const NAME: &'static str = "topology.host_move";
}

macro_rules! requests {
    ($($(#[$doc:meta])* $name:ident -> $reply:ty = $wire:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            /// Only this datapath's (`None`: every datapath's).
            pub dpid: Option<u64>,
        }
        impl AppRequest for $name {
            const NAME: &'static str = $wire;
            type Reply = $reply;
        }
    )*};
}

requests! {
    /// The switches, by datapath id (Ryu's `get_switch`).
    GetSwitches -> Vec<Switch> = "topology.switches";
    /// The links leaving the datapath, or all links, sorted (Ryu's `get_link`).
    GetLinks -> Vec<Link> = "topology.links";
    /// The hosts attached to the datapath, or all hosts, by MAC address (Ryu's `get_host`).
    GetHosts -> Vec<Host> = "topology.hosts";
}

/// MAC addresses as `aa:bb:cc:dd:ee:ff` strings in events and replies.
mod mac_string {
    use serde::{de, Deserialize, Deserializer, Serializer};
    use tatsu_plugin_api::MacAddr;

    pub fn serialize<S: Serializer>(mac: &MacAddr, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(mac)
    }

    /// Owned, not `&str`: a borrowed string fails for input that is not borrowed (`serde_json::from_value`, a
    /// reader, escapes).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<MacAddr, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_with_readable_macs() {
        let host = Host {
            mac: MacAddr::new(0, 0, 0, 0, 0, 1),
            port: PortRef { dpid: 2, port_no: 3 },
            ipv4: vec![Ipv4Addr::new(10, 0, 0, 1)],
            ipv6: vec![],
        };
        let json = serde_json::to_string(&HostAdd { host: host.clone() }).unwrap();
        assert!(json.contains(r#""mac":"00:00:00:00:00:01""#), "{json}");
        let back: HostAdd = serde_json::from_str(&json).unwrap();
        assert_eq!(back.host, host);
        assert!(serde_json::from_str::<HostAdd>(&json.replace("00:00:00:00:00:01", "nope")).is_err());
        let value = serde_json::to_value(&host).unwrap();
        assert_eq!(serde_json::from_value::<Host>(value).unwrap(), host);
    }

    #[test]
    fn a_link_reversed_is_the_other_direction() {
        let link = Link { src: PortRef { dpid: 1, port_no: 2 }, dst: PortRef { dpid: 3, port_no: 4 } };
        assert_eq!(link.reversed().src, link.dst);
        assert_eq!(link.reversed().reversed(), link);
        assert_eq!(link.src.to_string(), "0000000000000001:2");
    }
}
