//! Hosts: MAC addresses seen as the source of packet-ins on edge ports, with the IP addresses they used.
//!
//! Which ports are edge ports is the app's business (it knows the links); this table only learns, moves and
//! forgets. A host changes port at most once per probe round: a MAC address that shows up on two edge ports at
//! once (a duplicate address, a loop through a switch this controller does not manage) would otherwise move on
//! every packet and flood subscribers with moves.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tatsu_plugin_api::packet::Parsed;
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{Host, PortRef};

/// Addresses kept per host and family; past that the oldest goes (a router's MAC carries many sources).
const MAX_ADDRESSES: usize = 8;

/// A known host and the round it last appeared or moved in.
#[derive(Debug)]
struct Known {
    host: Host,
    changed: u64,
}

/// What [`Hosts::learn`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    /// A new host.
    Added(Host),
    /// The host was elsewhere before.
    Moved {
        /// The host, at its new port.
        host: Host,
        /// Its previous port.
        from: PortRef,
    },
    /// Nothing changed but perhaps its addresses.
    Known,
    /// The host already changed port in this round; it stays where it is.
    Flapping {
        /// Where it stays.
        at: PortRef,
    },
    /// The table is full; the host was not learned.
    Full,
}

/// The hosts, by MAC address and by port.
#[derive(Debug)]
pub struct Hosts {
    hosts: BTreeMap<MacAddr, Known>,
    at: BTreeSet<(PortRef, MacAddr)>,
    max: usize,
}

impl Hosts {
    /// An empty table that holds at most `max` hosts.
    pub fn new(max: usize) -> Self {
        Hosts { hosts: BTreeMap::new(), at: BTreeSet::new(), max }
    }

    /// Learns that `mac` sent from `port` (an edge port) in `round`, using source address `ip` if any.
    pub fn learn(&mut self, mac: MacAddr, port: PortRef, ip: Option<IpAddr>, round: u64) -> Learned {
        let full = self.hosts.len() >= self.max;
        let learned = match self.hosts.entry(mac) {
            Entry::Vacant(_) if full => return Learned::Full,
            Entry::Vacant(vacant) => {
                let host = Host { mac, port, ipv4: Vec::new(), ipv6: Vec::new() };
                self.at.insert((port, mac));
                &mut vacant.insert(Known { host, changed: round }).host
            }
            Entry::Occupied(occupied) => {
                let known = occupied.into_mut();
                let from = known.host.port;
                if from != port {
                    if known.changed == round {
                        return Learned::Flapping { at: from };
                    }
                    self.at.remove(&(from, mac));
                    self.at.insert((port, mac));
                    known.host.port = port;
                    known.changed = round;
                    add_address(&mut known.host, ip);
                    return Learned::Moved { host: known.host.clone(), from };
                }
                add_address(&mut known.host, ip);
                return Learned::Known;
            }
        };
        add_address(learned, ip);
        Learned::Added(learned.clone())
    }

    /// Forgets the hosts on port `port_no` of datapath `dpid` (on any of its ports if `None`), and returns them.
    pub fn remove_at(&mut self, dpid: u64, port_no: Option<u32>) -> Vec<Host> {
        let (first, last) = port_no.map_or((0, u32::MAX), |port_no| (port_no, port_no));
        let range =
            (PortRef { dpid, port_no: first }, MacAddr::ZERO)..=(PortRef { dpid, port_no: last }, MacAddr([0xff; 6]));
        let gone: Vec<(PortRef, MacAddr)> = self.at.range(range).copied().collect();
        gone.iter()
            .filter_map(|key| {
                self.at.remove(key);
                self.hosts.remove(&key.1).map(|known| known.host)
            })
            .collect()
    }

    /// Adds `host` as it is (a predecessor's), unless its MAC address is known or the table is full; `true` if
    /// added.
    pub fn restore(&mut self, host: Host, round: u64) -> bool {
        if self.hosts.len() >= self.max || self.hosts.contains_key(&host.mac) {
            return false;
        }
        self.at.insert((host.port, host.mac));
        self.hosts.insert(host.mac, Known { host, changed: round });
        true
    }

    /// The hosts on datapath `dpid`, or all of them, by MAC address.
    pub fn on(&self, dpid: Option<u64>) -> Vec<Host> {
        let hosts = self.hosts.values().map(|known| &known.host);
        hosts.filter(|host| dpid.is_none_or(|dpid| host.port.dpid == dpid)).cloned().collect()
    }

    /// How many hosts are known.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }
}

/// Adds `ip` to the host's addresses of its family, if it is new, dropping the oldest past [`MAX_ADDRESSES`].
fn add_address(host: &mut Host, ip: Option<IpAddr>) {
    fn add<T: PartialEq>(list: &mut Vec<T>, address: T) {
        if !list.contains(&address) {
            if list.len() >= MAX_ADDRESSES {
                list.remove(0);
            }
            list.push(address);
        }
    }
    match ip {
        Some(IpAddr::V4(v4)) => add(&mut host.ipv4, v4),
        Some(IpAddr::V6(v6)) => add(&mut host.ipv6, v6),
        None => {}
    }
}

/// The address the sender of a frame uses: the sender address of an ARP packet, the source of an IPv4 or IPv6
/// packet (neighbour discovery included). Unspecified, broadcast and multicast addresses say nothing of the sender
/// (DHCP, duplicate address detection), and are left out.
pub fn sender_address(parsed: &Parsed<'_>) -> Option<IpAddr> {
    let ip = match parsed.arp() {
        Some(arp) => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(arp.sender_protocol_addr()).ok()?)),
        None => parsed.ip_src()?,
    };
    let useless = match ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast() || v6 == Ipv6Addr::LOCALHOST,
    };
    (!useless).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_plugin_api::packet;
    use tatsu_plugin_api::packet::build::{self, EthHeader};

    fn at(dpid: u64, port_no: u32) -> PortRef {
        PortRef { dpid, port_no }
    }

    fn mac(last: u8) -> MacAddr {
        MacAddr::new(0, 0, 0, 0, 0, last)
    }

    #[test]
    fn hosts_are_learned_move_once_a_round_and_go_with_their_port() {
        let mut hosts = Hosts::new(2);
        let ip = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let Learned::Added(host) = hosts.learn(mac(1), at(1, 1), ip, 0) else { panic!("not added") };
        assert_eq!((host.port, host.ipv4.as_slice()), (at(1, 1), &[Ipv4Addr::new(10, 0, 0, 1)][..]));
        assert_eq!(hosts.learn(mac(1), at(1, 1), ip, 0), Learned::Known);
        assert_eq!(hosts.learn(mac(1), at(2, 1), None, 0), Learned::Flapping { at: at(1, 1) });
        let Learned::Moved { host, from } = hosts.learn(mac(1), at(2, 1), None, 1) else { panic!("not moved") };
        assert_eq!((host.port, from, host.ipv4.len()), (at(2, 1), at(1, 1), 1));
        assert_eq!(hosts.learn(mac(1), at(1, 1), None, 1), Learned::Flapping { at: at(2, 1) });

        assert!(matches!(hosts.learn(mac(2), at(2, 2), None, 1), Learned::Added(_)));
        assert_eq!(hosts.learn(mac(3), at(2, 3), None, 1), Learned::Full);
        assert_eq!(hosts.on(Some(2)).len(), 2);
        assert_eq!(hosts.on(Some(1)), []);
        assert_eq!(hosts.remove_at(2, Some(1)).iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(1)]);
        assert_eq!(hosts.remove_at(2, None).iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(2)]);
        assert_eq!((hosts.len(), hosts.at.len()), (0, 0));
    }

    #[test]
    fn addresses_are_kept_once_each_and_the_oldest_go_first() {
        let mut hosts = Hosts::new(10);
        for i in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 5] {
            hosts.learn(mac(1), at(1, 1), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i))), 0);
        }
        let host = &hosts.on(None)[0];
        let expected: Vec<Ipv4Addr> = [2, 3, 4, 5, 6, 7, 8, 9].map(|i| Ipv4Addr::new(10, 0, 0, i)).into();
        assert_eq!(host.ipv4, expected);
    }

    #[test]
    fn the_sender_address_comes_from_arp_and_ip_but_not_from_unspecified_sources() {
        let eth = EthHeader::new(mac(1), MacAddr::BROADCAST);
        let address = |frame: Vec<u8>| sender_address(&packet::parse(&frame).unwrap_or_else(|e| panic!("{e}")));
        let arp = build::arp_request(mac(1), Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(address(arp), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        let probe = build::arp_request(mac(1), Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(address(probe), None);
        let v6: Ipv6Addr = "fe80::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let udp = build::udp(&eth, (v6, 546).into(), ("ff02::1:2".parse().unwrap_or(v6), 547).into(), b"").ok();
        assert_eq!(udp.map(address), Some(Some(IpAddr::V6(v6))));
        let dhcp = build::udp(&eth, (Ipv4Addr::UNSPECIFIED, 68).into(), (Ipv4Addr::BROADCAST, 67).into(), b"").ok();
        assert_eq!(dhcp.map(address), Some(None));
        assert_eq!(address(build::ethernet(&eth, 0x88b5, b"anything")), None);
    }
}
