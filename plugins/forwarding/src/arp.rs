//! ARP: the addresses an ARP packet teaches, and proxy replies to requests for known hosts.

use std::net::Ipv4Addr;

use tatsu_plugin_api::packet::{self, build, etherparse::ArpOperation};
use tatsu_plugin_api::MacAddr;

/// An Ethernet/IPv4 ARP packet, untagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// A request (else a reply).
    pub is_request: bool,
    /// Who sends it.
    pub sender_mac: MacAddr,
    /// The sender's address.
    pub sender_ip: Ipv4Addr,
    /// The address asked about (a request) or answered to (a reply).
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// Reads an untagged Ethernet/IPv4 ARP request or reply; `None` for anything else.
    pub fn parse(frame: &[u8]) -> Option<Arp> {
        let parsed = packet::parse(frame).ok()?;
        if parsed.vlan().is_some() {
            return None;
        }
        let arp = parsed.arp()?;
        let is_request = match arp.operation() {
            ArpOperation::REQUEST => true,
            ArpOperation::REPLY => false,
            _ => return None,
        };
        let ipv4 = |bytes: &[u8]| <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from);
        Some(Arp {
            is_request,
            sender_mac: MacAddr::from_slice(arp.sender_hw_addr())?,
            sender_ip: ipv4(arp.sender_protocol_addr())?,
            target_ip: ipv4(arp.target_protocol_addr())?,
        })
    }

    /// Whether this is a request a proxy should answer: not a gratuitous announcement of the sender's own address.
    pub fn asks(&self) -> bool {
        self.is_request && self.sender_ip != self.target_ip && !self.sender_ip.is_unspecified()
    }

    /// The reply to this request from the host `target_mac` that has the address asked about.
    pub fn reply(&self, target_mac: MacAddr) -> Vec<u8> {
        build::arp_reply(target_mac, self.target_ip, self.sender_mac, self.sender_ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_and_answered_and_announcements_are_not() {
        let (asker, owner) = (MacAddr([0, 0, 0, 0, 0, 1]), MacAddr([0, 0, 0, 0, 0, 2]));
        let (asker_ip, owner_ip) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let request = Arp::parse(&build::arp_request(asker, asker_ip, owner_ip));
        let expected = Arp { is_request: true, sender_mac: asker, sender_ip: asker_ip, target_ip: owner_ip };
        assert_eq!(request, Some(expected));
        assert!(expected.asks());
        let reply = expected.reply(owner);
        assert_eq!(reply, build::arp_reply(owner, owner_ip, asker, asker_ip));
        let read = Arp::parse(&reply);
        assert_eq!(read.map(|arp| (arp.is_request, arp.sender_mac, arp.sender_ip)), Some((false, owner, owner_ip)));
        let gratuitous = Arp::parse(&build::arp_request(asker, asker_ip, asker_ip));
        assert_eq!(gratuitous.map(|arp| arp.asks()), Some(false));
        assert_eq!(Arp::parse(&[0xff; 20]), None);
    }
}
