//! Parsing frames captured from real senders (see `common`).

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use tatsu_packet::etherparse::{ArpOperation, IcmpEchoHeader, Icmpv4Type, Icmpv6Type};
use tatsu_packet::lldp::{chassis_id_subtype, port_id_subtype, tlv_type, LldpTlv};
use tatsu_packet::{eth_dst, eth_src, ethertype, inner_ethertype, ip_proto, parse, MacAddr, Net, Transport, VlanTag};

const A: MacAddr = MacAddr::new(2, 0, 0, 0, 0, 0x0a);
const B: MacAddr = MacAddr::new(2, 0, 0, 0, 0, 0x0b);

#[test]
fn raw_accessors_on_captured_frames() {
    assert_eq!(eth_dst(&ARP_REQUEST), Some(MacAddr::BROADCAST));
    assert_eq!(eth_src(&ARP_REQUEST), Some(A));
    assert_eq!(ethertype(&ARP_REQUEST), Some(0x0806));
    assert_eq!(inner_ethertype(&ARP_REQUEST), Some(0x0806));
    assert_eq!(eth_dst(&ICMP_ECHO_REQUEST), Some(B));
    assert_eq!(ethertype(&LLDP_LLDPD), Some(0x88cc));
    let tagged = with_tag(&with_tag(&TCP_SYN, 0x8100, 100), 0x88a8, 7);
    assert_eq!(ethertype(&tagged), Some(0x88a8));
    assert_eq!(inner_ethertype(&tagged), Some(0x0800));
    assert_eq!(eth_src(&tagged), Some(A));
    // Short input.
    assert_eq!(eth_dst(&[1, 2, 3, 4, 5]), None);
    assert_eq!(eth_src(&ARP_REQUEST[..11]), None);
    assert_eq!(ethertype(&ARP_REQUEST[..13]), None);
    assert_eq!(inner_ethertype(&tagged[..17]), None);
    assert_eq!(inner_ethertype(&tagged[..21]), None);
    assert_eq!(inner_ethertype(&tagged[..22]), Some(0x0800));
}

#[test]
fn arp_request_and_reply() {
    let p = parse(&ARP_REQUEST).unwrap();
    assert_eq!((p.eth_dst(), p.eth_src(), p.ethertype()), (MacAddr::BROADCAST, A, 0x0806));
    assert!(p.error().is_none() && p.vlan().is_none() && p.transport().is_none());
    let arp = p.arp().unwrap().to_packet().try_eth_ipv4().unwrap();
    assert_eq!(arp.operation, ArpOperation::REQUEST);
    assert_eq!(MacAddr(arp.sender_mac), A);
    assert_eq!(arp.sender_ipv4_addr(), Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(arp.target_mac, [0; 6]);
    assert_eq!(arp.target_ipv4_addr(), Ipv4Addr::new(192, 0, 2, 2));
    assert!(p.payload().is_empty());

    let p = parse(&ARP_REPLY).unwrap();
    let arp = p.arp().unwrap();
    assert_eq!(arp.operation(), ArpOperation::REPLY);
    assert_eq!(arp.sender_hw_addr(), B.as_bytes());
    assert_eq!(arp.target_hw_addr(), A.as_bytes());
}

#[test]
fn arp_padded_to_ethernet_minimum() {
    let mut f = ARP_REQUEST.to_vec();
    f.resize(60, 0);
    let p = parse(&f).unwrap();
    assert!(p.arp().is_some() && p.error().is_none());
    assert_eq!(p.payload(), &[0u8; 18][..]);
}

#[test]
fn icmpv4_echo_request() {
    let p = parse(&ICMP_ECHO_REQUEST).unwrap();
    assert!(p.error().is_none() && !p.is_truncated());
    let ip = p.ipv4().unwrap().header();
    assert_eq!(ip.ttl(), 64);
    assert!(ip.dont_fragment());
    assert!(ipv4_header_ok(ip.slice()));
    assert_eq!(p.ip_src(), Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
    assert_eq!(p.ip_dst(), Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))));
    assert_eq!(p.ip_proto(), Some(ip_proto::ICMP));
    let icmp = p.icmpv4().unwrap();
    assert_eq!(icmp.icmp_type(), Icmpv4Type::EchoRequest(IcmpEchoHeader { id: 12329, seq: 1 }));
    assert!(icmpv4_ok(icmp.slice()));
    // iputils: 16-byte timestamp, then 0x10, 0x11, ... 0x37.
    assert_eq!(p.payload().len(), 56);
    assert_eq!(&p.payload()[16..], &(0x10u8..0x38).collect::<Vec<_>>()[..]);
    assert_eq!(p.ports(), None);
}

#[test]
fn icmpv6_neighbor_solicitation_and_echo() {
    let p = parse(&ICMPV6_NEIGHBOR_SOLICITATION).unwrap();
    assert_eq!(p.eth_dst(), "33:33:ff:00:00:02".parse().unwrap());
    assert!(p.eth_dst().is_multicast());
    let ip = p.ipv6().unwrap().header();
    assert_eq!(ip.hop_limit(), 255);
    assert_eq!(p.ip_dst(), Some(IpAddr::V6("ff02::1:ff00:2".parse().unwrap())));
    let icmp = p.icmpv6().unwrap();
    assert_eq!(icmp.icmp_type(), Icmpv6Type::NeighborSolicitation);
    assert!(icmp.is_checksum_valid(ip.source(), ip.destination()));
    // Target address then the source link-layer address option.
    assert_eq!(&p.payload()[..16], &"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
    assert_eq!(&p.payload()[16..], &[1, 1, 2, 0, 0, 0, 0, 0x0a]);

    let p = parse(&ICMPV6_ECHO_REQUEST).unwrap();
    let ip = p.ipv6().unwrap().header();
    let icmp = p.icmpv6().unwrap();
    assert!(matches!(icmp.icmp_type(), Icmpv6Type::EchoRequest(IcmpEchoHeader { seq: 1, .. })));
    assert!(icmp.is_checksum_valid(ip.source(), ip.destination()));
    assert_eq!(p.payload().len(), 56);
    assert_eq!(p.ip_proto(), Some(ip_proto::ICMPV6));
}

#[test]
fn tcp_syn_with_options_and_rst() {
    let p = parse(&TCP_SYN).unwrap();
    assert!(p.error().is_none());
    let tcp = p.tcp().unwrap();
    assert_eq!(p.ports(), Some((54538, 80)));
    assert!(tcp.syn() && !tcp.ack());
    assert_eq!(tcp.sequence_number(), 2790502464);
    assert_eq!(tcp.window_size(), 64240);
    assert_eq!(tcp.options().len(), 20);
    assert!(p.payload().is_empty());

    let p = parse(&TCP_RST).unwrap();
    let tcp = p.tcp().unwrap();
    assert!(tcp.rst() && tcp.ack());
    assert_eq!(tcp.acknowledgment_number(), 2790502465);
    // This one left the kernel with a real checksum.
    let ip = p.ipv4().unwrap().header();
    assert!(pseudo_ok(&ip.source(), &ip.destination(), 6, tcp.slice()));
    assert!(matches!(p.transport(), Some(Transport::Tcp(_))));
}

#[test]
fn udp_datagram() {
    let p = parse(&UDP_DATAGRAM).unwrap();
    assert_eq!(p.ports(), Some((54434, 5353)));
    assert_eq!(p.payload(), b"hello tatsu");
    assert_eq!(p.udp().unwrap().length(), 19);
    assert!(!p.is_truncated());
}

#[test]
fn icmp_port_unreachable_carries_the_offending_header() {
    let p = parse(&ICMP_PORT_UNREACHABLE).unwrap();
    let icmp = p.icmpv4().unwrap();
    assert!(matches!(icmp.icmp_type(), Icmpv4Type::DestinationUnreachable(_)));
    assert!(icmpv4_ok(icmp.slice()));
    // The quoted datagram is the UDP one above, from its IP header on.
    assert_eq!(p.payload(), &UDP_DATAGRAM[14..]);
}

#[test]
fn lldp_from_lldpd() {
    let p = parse(&LLDP_LLDPD).unwrap();
    assert_eq!(p.eth_dst(), MacAddr::LLDP_NEAREST_BRIDGE);
    assert_eq!(p.ethertype(), 0x88cc);
    assert!(p.error().is_none());
    let l = p.lldp().unwrap();
    assert_eq!(l.chassis_id_subtype(), chassis_id_subtype::MAC_ADDRESS);
    assert_eq!(l.chassis_id(), A.as_bytes());
    assert_eq!(l.port_id_subtype(), port_id_subtype::MAC_ADDRESS);
    assert_eq!(l.port_id(), A.as_bytes());
    assert_eq!(l.ttl(), 120);
    assert_eq!(l.system_description(), Some(&b"tatsu test host"[..]));
    assert_eq!(l.port_description(), Some(&b"va"[..]));
    assert!(l.system_name().is_some());
    let types: Vec<u8> = l.tlvs().map(|t| t.tlv_type()).collect();
    assert_eq!(types, [1, 2, 3, 5, 6, 7, 8, 8, 4, 127, 127]);
    let pdu = l.to_lldpdu();
    assert!(pdu.tlvs.contains(&LldpTlv::SystemCapabilities { capabilities: 0x9c, enabled: 0x80 }));
    assert!(pdu.tlvs.contains(&LldpTlv::ManagementAddress(vec![5, 1, 192, 0, 2, 1, 2, 0, 0, 0, 2, 0])));
    assert!(pdu.tlvs.contains(&LldpTlv::OrganizationSpecific {
        oui: [0x00, 0x12, 0x0f],
        subtype: 1,
        info: vec![0x00, 0x80, 0x00, 0x00, 0x36],
    }));
    // Parse → owned → emit reproduces the PDU byte for byte.
    assert_eq!(pdu.to_bytes().unwrap(), &LLDP_LLDPD[14..]);
    assert_eq!(l.find(tlv_type::MANAGEMENT_ADDRESS).unwrap().len(), 12);
}

#[test]
fn lldp_shutdown_has_ttl_zero() {
    let p = parse(&LLDP_LLDPD_SHUTDOWN).unwrap();
    let l = p.lldp().unwrap();
    assert_eq!(l.ttl(), 0);
    assert_eq!(l.tlvs().count(), 3);
    assert_eq!(l.to_lldpdu().to_bytes().unwrap(), &LLDP_LLDPD_SHUTDOWN[14..]);
}

#[test]
fn vlan_tagged_and_qinq() {
    // 802.1Q tag, PCP 5, DEI set, VID 100, on the captured SYN.
    let f = with_tag(&TCP_SYN, 0x8100, (5 << 13) | 0x1000 | 100);
    let p = parse(&f).unwrap();
    assert_eq!(p.ethertype(), 0x0800);
    assert_eq!(p.vlan(), Some(VlanTag { tpid: 0x8100, pcp: 5, dei: true, vid: 100 }));
    assert_eq!(p.ports(), Some((54538, 80)));
    assert!(p.error().is_none());

    // 802.1ad outer, 802.1Q inner, around ARP.
    let f = with_tag(&with_tag(&ARP_REQUEST, 0x8100, 10), 0x88a8, 20);
    let p = parse(&f).unwrap();
    let tags: Vec<VlanTag> = p.vlans().collect();
    assert_eq!(tags, [VlanTag { tpid: 0x88a8, ..VlanTag::new(20) }, VlanTag::new(10)]);
    assert_eq!(p.vlans().len(), 2);
    assert!(p.arp().is_some());
    assert_eq!(p.ethertype(), 0x0806);

    // Three tags, legacy 0x9100 outermost.
    let f = with_tag(&with_tag(&with_tag(&LLDP_LLDPD, 0x8100, 1), 0x88a8, 2), 0x9100, 3);
    let p = parse(&f).unwrap();
    assert_eq!(p.vlans().map(|t| t.vid).collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(p.lldp().unwrap().ttl(), 120);
}

#[test]
fn unknown_ethertype_keeps_payload() {
    let mut f = ARP_REQUEST.to_vec();
    f[12] = 0x88;
    f[13] = 0x47; // MPLS
    let p = parse(&f).unwrap();
    assert_eq!(p.ethertype(), 0x8847);
    assert!(p.net().is_none() && p.error().is_none());
    assert_eq!(p.payload(), &ARP_REQUEST[14..]);
}

#[test]
fn unknown_ip_protocol_keeps_ip_payload() {
    let mut f = UDP_DATAGRAM.to_vec();
    f[23] = 132; // SCTP; header checksum now wrong, which parsing ignores
    let p = parse(&f).unwrap();
    assert_eq!(p.ip_proto(), Some(132));
    assert!(p.transport().is_none() && p.error().is_none());
    assert_eq!(p.payload(), &UDP_DATAGRAM[34..]);
    assert!(matches!(p.net(), Some(Net::Ipv4(_))));
}
