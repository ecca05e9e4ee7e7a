//! Where hosts are: MAC address → edge port, and the IPv4 addresses each host used (for proxy ARP).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use tatsu_plugin_api::{FastMap, MacAddr};
use tatsu_topology_api::PortRef;

/// What learning a host's place changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// The host was not known.
    New,
    /// It was known there already.
    Same,
    /// It was known at another port.
    Moved(PortRef),
}

/// The hosts, by MAC address.
#[derive(Debug, Default)]
pub struct Hosts {
    at: FastMap<MacAddr, PortRef>,
    ipv4: HashMap<Ipv4Addr, MacAddr>,
}

impl Hosts {
    /// No hosts.
    pub fn new() -> Hosts {
        Hosts::default()
    }

    /// Records that `mac` is behind `port`.
    pub fn learn(&mut self, mac: MacAddr, port: PortRef) -> Learned {
        match self.at.insert(mac, port) {
            None => Learned::New,
            Some(old) if old == port => Learned::Same,
            Some(old) => Learned::Moved(old),
        }
    }

    /// Records that `mac` uses `ip` (an address moves to the host that used it last).
    pub fn learn_ipv4(&mut self, ip: Ipv4Addr, mac: MacAddr) {
        if !ip.is_unspecified() && !ip.is_broadcast() {
            self.ipv4.insert(ip, mac);
        }
    }

    /// Every host and where it is.
    pub fn iter(&self) -> impl Iterator<Item = (MacAddr, PortRef)> + '_ {
        self.at.iter().map(|(mac, at)| (*mac, *at))
    }

    /// Every IPv4 address known and the host that uses it.
    pub fn ipv4s(&self) -> impl Iterator<Item = (Ipv4Addr, MacAddr)> + '_ {
        self.ipv4.iter().map(|(ip, mac)| (*ip, *mac))
    }

    /// Where `mac` is.
    pub fn locate(&self, mac: MacAddr) -> Option<PortRef> {
        self.at.get(&mac).copied()
    }

    /// The known host that uses `ip`, and where it is.
    pub fn by_ipv4(&self, ip: Ipv4Addr) -> Option<(MacAddr, PortRef)> {
        let mac = *self.ipv4.get(&ip)?;
        Some((mac, self.locate(mac)?))
    }

    /// Forgets `mac` (and its addresses); returns where it was.
    pub fn forget(&mut self, mac: MacAddr) -> Option<PortRef> {
        let was = self.at.remove(&mac)?;
        self.ipv4.retain(|_, owner| *owner != mac);
        Some(was)
    }

    /// The hosts behind `port`.
    pub fn at_port(&self, port: PortRef) -> Vec<MacAddr> {
        let mut macs: Vec<MacAddr> = self.at.iter().filter(|(_, at)| **at == port).map(|(mac, _)| *mac).collect();
        macs.sort();
        macs
    }

    /// The hosts on switch `dpid`.
    pub fn on_switch(&self, dpid: u64) -> Vec<MacAddr> {
        let mut macs: Vec<MacAddr> = self.at.iter().filter(|(_, at)| at.dpid == dpid).map(|(mac, _)| *mac).collect();
        macs.sort();
        macs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_learned_moved_and_forgotten_with_their_addresses() {
        let (mac, ip) = (MacAddr([0, 0, 0, 0, 0, 1]), Ipv4Addr::new(10, 0, 0, 1));
        let (here, there) = (PortRef { dpid: 1, port_no: 1 }, PortRef { dpid: 2, port_no: 1 });
        let mut hosts = Hosts::new();
        assert_eq!(hosts.learn(mac, here), Learned::New);
        assert_eq!(hosts.learn(mac, here), Learned::Same);
        hosts.learn_ipv4(ip, mac);
        hosts.learn_ipv4(Ipv4Addr::UNSPECIFIED, mac);
        assert_eq!(hosts.by_ipv4(ip), Some((mac, here)));
        assert_eq!(hosts.learn(mac, there), Learned::Moved(here));
        assert_eq!((hosts.at_port(there), hosts.on_switch(2)), (vec![mac], vec![mac]));
        assert!(hosts.at_port(here).is_empty());
        assert_eq!(hosts.forget(mac), Some(there));
        assert_eq!(hosts.by_ipv4(ip), None);
        assert_eq!(hosts.by_ipv4(Ipv4Addr::UNSPECIFIED), None);
    }
}
