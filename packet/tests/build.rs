//! Builders: build → parse round trips, with checksums checked by an
//! independent RFC 1071 implementation.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use common::*;
use tatsu_packet::build::{self, tcp_flags, BuildError, EthHeader, TcpSegment};
use tatsu_packet::etherparse::{ArpOperation, IcmpEchoHeader, Icmpv4Type, Icmpv6Type};
use tatsu_packet::lldp::{ChassisId, LldpTlv, Lldpdu, PortId};
use tatsu_packet::{parse, MacAddr, VlanTag};

const H1: MacAddr = MacAddr::new(2, 0, 0, 0, 0, 1);
const H2: MacAddr = MacAddr::new(2, 0, 0, 0, 0, 2);

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn arp_request_matches_captured_layout() {
    // Same parameters as the captured Linux request: identical bytes.
    let f = build::arp_request(MacAddr::new(2, 0, 0, 0, 0, 0x0a), v4("192.0.2.1"), v4("192.0.2.2"));
    assert_eq!(f, ARP_REQUEST);
    let f = build::arp_reply(
        MacAddr::new(2, 0, 0, 0, 0, 0x0b),
        v4("192.0.2.2"),
        MacAddr::new(2, 0, 0, 0, 0, 0x0a),
        v4("192.0.2.1"),
    );
    assert_eq!(f, ARP_REPLY);
}

#[test]
fn arp_with_vlan_round_trip() {
    let eth = EthHeader::new(H1, MacAddr::BROADCAST).with_vlan(42);
    let pkt = tatsu_packet::etherparse::ArpEthIpv4Packet {
        operation: ArpOperation::REQUEST,
        sender_mac: H1.0,
        sender_ipv4: [10, 0, 0, 1],
        target_mac: [0; 6],
        target_ipv4: [10, 0, 0, 1], // gratuitous
    };
    let f = build::arp(&eth, &pkt);
    assert_eq!(f.len(), 18 + 28);
    let p = parse(&f).unwrap();
    assert_eq!(p.vlan(), Some(VlanTag::new(42)));
    assert_eq!(p.arp().unwrap().to_packet().try_eth_ipv4().unwrap(), pkt);
}

#[test]
fn icmpv4_echo_round_trip_and_checksums() {
    let eth = EthHeader::new(H1, H2);
    let f = build::icmpv4_echo_request(&eth, v4("10.0.0.1"), v4("10.0.0.2"), 7, 9, b"ping!").unwrap();
    let p = parse(&f).unwrap();
    assert!(p.error().is_none());
    assert_eq!((p.eth_src(), p.eth_dst(), p.ethertype()), (H1, H2, 0x0800));
    let ip = p.ipv4().unwrap().header();
    assert_eq!(ip.ttl(), build::DEFAULT_TTL);
    assert!(ipv4_header_ok(ip.slice()));
    let icmp = p.icmpv4().unwrap();
    assert_eq!(icmp.icmp_type(), Icmpv4Type::EchoRequest(IcmpEchoHeader { id: 7, seq: 9 }));
    assert!(icmpv4_ok(icmp.slice()));
    assert_eq!(p.payload(), b"ping!");

    let f = build::icmpv4_echo_reply(&eth.with_vlan(5), v4("10.0.0.2"), v4("10.0.0.1"), 7, 9, b"ping!").unwrap();
    let p = parse(&f).unwrap();
    assert_eq!(p.vlan().unwrap().vid, 5);
    let icmp = p.icmpv4().unwrap();
    assert_eq!(icmp.icmp_type(), Icmpv4Type::EchoReply(IcmpEchoHeader { id: 7, seq: 9 }));
    assert!(icmpv4_ok(icmp.slice()));
    assert!(ipv4_header_ok(p.ipv4().unwrap().header().slice()));
}

#[test]
fn icmpv6_echo_round_trip_and_checksums() {
    let eth = EthHeader::new(H1, H2);
    let (s, d) = (v6("2001:db8::1"), v6("2001:db8::2"));
    for (f, reply) in [
        (build::icmpv6_echo_request(&eth, s, d, 1, 2, b"abc").unwrap(), false),
        (build::icmpv6_echo_reply(&eth, s, d, 1, 2, b"abc").unwrap(), true),
    ] {
        let p = parse(&f).unwrap();
        assert!(p.error().is_none());
        let icmp = p.icmpv6().unwrap();
        let echo = IcmpEchoHeader { id: 1, seq: 2 };
        let want = if reply { Icmpv6Type::EchoReply(echo) } else { Icmpv6Type::EchoRequest(echo) };
        assert_eq!(icmp.icmp_type(), want);
        assert!(pseudo_ok(&s.octets(), &d.octets(), 58, icmp.slice()));
        assert_eq!(p.payload(), b"abc");
        assert_eq!(p.ipv6().unwrap().header().hop_limit(), 64);
    }
}

#[test]
fn udp_v4_and_v6_checksums() {
    let eth = EthHeader::new(H1, H2);
    let f = build::udp(&eth, sa("10.0.0.1:68"), sa("255.255.255.255:67"), b"dhcp?").unwrap();
    let p = parse(&f).unwrap();
    assert_eq!(p.ports(), Some((68, 67)));
    assert_eq!(p.payload(), b"dhcp?");
    let ip = p.ipv4().unwrap().header();
    assert!(ipv4_header_ok(ip.slice()));
    assert!(pseudo_ok(&ip.source(), &ip.destination(), 17, p.udp().unwrap().slice()));

    let f = build::udp(&eth, sa("[2001:db8::1]:546"), sa("[ff02::1:2]:547"), &[0u8; 33]).unwrap();
    let p = parse(&f).unwrap();
    let ip = p.ipv6().unwrap().header();
    assert!(pseudo_ok(&ip.source(), &ip.destination(), 17, p.udp().unwrap().slice()));
    assert_eq!(p.payload().len(), 33);
}

#[test]
fn tcp_v4_and_v6_checksums_and_flags() {
    let eth = EthHeader::new(H1, H2);
    let seg = TcpSegment { seq: 1000, ack: 2000, flags: tcp_flags::RST | tcp_flags::ACK, window: 0 };
    let f = build::tcp(&eth, sa("10.0.0.2:80"), sa("10.0.0.1:40000"), &seg, &[]).unwrap();
    let p = parse(&f).unwrap();
    let t = p.tcp().unwrap();
    assert!(t.rst() && t.ack() && !t.syn() && !t.fin());
    assert_eq!((t.sequence_number(), t.acknowledgment_number()), (1000, 2000));
    let ip = p.ipv4().unwrap().header();
    assert!(ipv4_header_ok(ip.slice()));
    assert!(pseudo_ok(&ip.source(), &ip.destination(), 6, t.slice()));

    let seg = TcpSegment { seq: 1, ack: 0, flags: tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR, window: 1024 };
    let f = build::tcp(&eth, sa("[2001:db8::1]:1"), sa("[2001:db8::2]:2"), &seg, b"data").unwrap();
    let p = parse(&f).unwrap();
    let t = p.tcp().unwrap();
    assert!(t.syn() && t.ece() && t.cwr() && !t.ack());
    assert_eq!(t.window_size(), 1024);
    let ip = p.ipv6().unwrap().header();
    assert!(pseudo_ok(&ip.source(), &ip.destination(), 6, t.slice()));
    assert_eq!(p.payload(), b"data");
}

#[test]
fn build_errors() {
    let eth = EthHeader::new(H1, H2);
    assert_eq!(build::udp(&eth, sa("10.0.0.1:1"), sa("[::1]:1"), b""), Err(BuildError::AddressFamilyMismatch));
    assert_eq!(
        build::tcp(&eth, sa("[::1]:1"), sa("10.0.0.1:1"), &TcpSegment::default(), b""),
        Err(BuildError::AddressFamilyMismatch)
    );
    let big = vec![0u8; 70_000];
    assert_eq!(
        build::udp(&eth, sa("10.0.0.1:1"), sa("10.0.0.2:1"), &big),
        Err(BuildError::PayloadTooLarge { len: 70_000 })
    );
    assert!(build::icmpv4_echo_request(&eth, v4("10.0.0.1"), v4("10.0.0.2"), 0, 0, &big).is_err());
    let bad = Lldpdu::new(ChassisId::local(""), PortId::local("p"), 1);
    assert!(matches!(build::lldp(H1, &bad), Err(BuildError::Lldp(_))));
}

#[test]
fn lldp_ryu_style_discovery_frame() {
    // What a topology-discovery app sends: Ryu's layout (locally assigned
    // "dpid:%016x" chassis, port-component 4-byte port number, TTL 120).
    let pdu = Lldpdu::new(ChassisId::local("dpid:0000000000000001"), PortId::port_component(2), 120);
    let f = build::lldp(H1, &pdu).unwrap();
    let mut want = vec![0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 2, 0, 0, 0, 0, 1, 0x88, 0xcc];
    want.extend_from_slice(&[0x02, 0x16, 0x07]);
    want.extend_from_slice(b"dpid:0000000000000001");
    want.extend_from_slice(&[0x04, 0x05, 0x02, 0, 0, 0, 2]);
    want.extend_from_slice(&[0x06, 0x02, 0x00, 0x78]);
    want.extend_from_slice(&[0x00, 0x00]);
    assert_eq!(f, want);
    let p = parse(&f).unwrap();
    let l = p.lldp().unwrap();
    assert_eq!(l.chassis_id(), b"dpid:0000000000000001");
    assert_eq!(l.port_id(), &[0, 0, 0, 2]);
    assert_eq!(l.to_lldpdu(), pdu);
}

#[test]
fn lldp_with_optional_tlvs_round_trip() {
    let pdu = Lldpdu::new(ChassisId::mac(H1), PortId::interface_name("eth1"), 30)
        .with_system_name("leaf-1")
        .with_port_description("to spine-2")
        .with_tlv(LldpTlv::OrganizationSpecific { oui: [0x00, 0x26, 0xe1], subtype: 0, info: b"tatsu".to_vec() })
        .with_tlv(LldpTlv::Other { tlv_type: 99, value: vec![1, 2, 3] });
    let f = build::lldp(H1, &pdu).unwrap();
    let p = parse(&f).unwrap();
    let l = p.lldp().unwrap();
    assert_eq!(l.system_name(), Some(&b"leaf-1"[..]));
    assert_eq!(l.port_description(), Some(&b"to spine-2"[..]));
    assert_eq!(l.to_lldpdu(), pdu);
    // Padded as it arrives from a wire: same result.
    let mut padded = f.clone();
    padded.resize(f.len().max(60) + 4, 0);
    assert_eq!(parse(&padded).unwrap().lldp().unwrap().to_lldpdu(), pdu);
}

#[test]
fn generic_ethernet_frame() {
    let eth = EthHeader { dst: H2, src: H1, vlan: Some(VlanTag { tpid: 0x88a8, pcp: 3, dei: false, vid: 4095 }) };
    let f = build::ethernet(&eth, 0x1234, b"xyz");
    assert_eq!(f.len(), eth.len() + 3);
    let p = parse(&f).unwrap();
    assert_eq!(p.vlan(), eth.vlan);
    assert_eq!(p.ethertype(), 0x1234);
    assert_eq!(p.payload(), b"xyz");
}
