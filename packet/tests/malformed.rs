//! Truncated and corrupted input: no panics, and errors name the layer and
//! offset.

mod common;

use common::*;
use tatsu_packet::etherparse::err::tcp::HeaderError as TcpHeaderError;
use tatsu_packet::lldp::{LldpError, LldpSlice, Lldpdu};
use tatsu_packet::{parse, Layer, ParseError, ParseErrorKind};

fn truncated(layer: Layer, offset: usize, needed: usize, available: usize) -> ParseError {
    ParseError { layer, offset, kind: ParseErrorKind::Truncated { needed, available } }
}

/// Exercises every accessor so a lazily failing one would show up.
fn touch(f: &[u8]) {
    let _ = (
        tatsu_packet::eth_dst(f),
        tatsu_packet::eth_src(f),
        tatsu_packet::ethertype(f),
        tatsu_packet::inner_ethertype(f),
    );
    let _ = LldpSlice::from_slice(f).map(|l| (l.to_lldpdu(), l.tlvs().count()));
    let _ = Lldpdu::from_slice(f);
    if let Ok(p) = parse(f) {
        let _ = (p.eth_dst(), p.eth_src(), p.ethertype(), p.vlans().count(), p.payload().len());
        let _ = (p.ip_src(), p.ip_dst(), p.ip_proto(), p.ports(), p.is_truncated());
        let _ = p.error().map(|e| e.to_string());
        if let Some(a) = p.arp() {
            let _ = a.to_packet().try_eth_ipv4();
        }
        if let Some(l) = p.lldp() {
            let pdu = l.to_lldpdu();
            let _ = (l.system_name(), l.port_description(), pdu.to_bytes());
        }
        if let Some(t) = p.tcp() {
            let _ = t.options_iterator().count();
        }
        if let Some(i) = p.icmpv4() {
            let _ = i.icmp_type();
        }
        if let Some(i) = p.icmpv6() {
            let _ = i.icmp_type();
        }
    }
}

#[test]
fn every_prefix_of_every_frame() {
    for (name, f) in all_frames() {
        for n in 0..=f.len() {
            touch(&f[..n]);
            let r = parse(&f[..n]);
            if n < 14 {
                assert_eq!(r, Err(truncated(Layer::Ethernet, 0, 14, n)), "{name} len {n}");
            } else {
                assert!(r.is_ok(), "{name} len {n}");
            }
        }
    }
}

#[test]
fn every_prefix_of_tagged_frames() {
    for (_, f) in all_frames() {
        let t = with_tag(&with_tag(f, 0x8100, 1), 0x88a8, 2);
        for n in 0..=t.len() {
            touch(&t[..n]);
        }
    }
}

#[test]
fn truncation_errors_name_layer_and_offset() {
    // Cut inside the ARP body.
    let p = parse(&ARP_REQUEST[..30]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Arp, 14, 28, 16)));
    assert!(p.arp().is_none());
    assert_eq!(p.payload(), &ARP_REQUEST[14..30]);

    // Cut inside the IPv4 header.
    let p = parse(&TCP_SYN[..20]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Ipv4, 14, 20, 6)));

    // Cut inside the TCP header: IPv4 still there, truncation flagged.
    let p = parse(&TCP_SYN[..40]).unwrap();
    assert!(p.ipv4().is_some() && p.tcp().is_none());
    assert!(p.is_truncated());
    let e = p.error().unwrap();
    assert_eq!((e.layer, e.offset), (Layer::Tcp, 34));
    assert_eq!(p.payload(), &TCP_SYN[34..40]);
    assert_eq!(e.to_string(), "truncated TCP at offset 34: needs 20 bytes, 6 present");

    // Cut inside the TCP options: needs the full data offset (40 bytes).
    let p = parse(&TCP_SYN[..60]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Tcp, 34, 40, 26)));

    // Cut inside the UDP payload (a packet-in with a small max_len): lax.
    let p = parse(&UDP_DATAGRAM[..45]).unwrap();
    assert!(p.error().is_none() && p.is_truncated());
    assert_eq!(p.payload(), b"hel");

    // Cut inside the UDP header.
    let p = parse(&UDP_DATAGRAM[..38]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Udp, 34, 8, 4)));

    // ICMPv4 / ICMPv6 headers.
    let p = parse(&ICMP_ECHO_REQUEST[..38]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Icmpv4, 34, 8, 4)));
    let p = parse(&ICMPV6_ECHO_REQUEST[..58]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Icmpv6, 54, 8, 4)));

    // IPv6 header.
    let p = parse(&ICMPV6_ECHO_REQUEST[..50]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Ipv6, 14, 40, 36)));

    // Inside a VLAN tag.
    let t = with_tag(&ARP_REQUEST, 0x8100, 5);
    let p = parse(&t[..15]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Vlan, 12, 6, 3)));
    assert_eq!(p.vlans().count(), 0);

    // Inside an LLDP TLV: the offset is the TLV's, in the frame.
    let p = parse(&LLDP_LLDPD[..39]).unwrap();
    assert_eq!(p.error(), Some(&truncated(Layer::Lldp, 36, 4, 3)));
}

#[test]
fn content_errors() {
    // IPv4 IHL of 4.
    let mut f = TCP_SYN.to_vec();
    f[14] = 0x44;
    let e = parse(&f).unwrap().error().cloned().unwrap();
    assert_eq!((e.layer, e.offset), (Layer::Ipv4, 14));
    assert!(matches!(e.kind, ParseErrorKind::Ipv4(_)));

    // EtherType IPv4 but version 6.
    let mut f = TCP_SYN.to_vec();
    f[14] = 0x65;
    assert!(matches!(parse(&f).unwrap().error().unwrap().kind, ParseErrorKind::Ipv4(_)));

    // TCP data offset 4.
    let mut f = TCP_SYN.to_vec();
    f[46] = 0x40;
    let p = parse(&f).unwrap();
    assert_eq!(
        p.error(),
        Some(&ParseError {
            layer: Layer::Tcp,
            offset: 34,
            kind: ParseErrorKind::Tcp(TcpHeaderError::DataOffsetTooSmall { data_offset: 4 })
        })
    );

    // LLDP whose first TLV is Port ID.
    let mut f = LLDP_LLDPD_SHUTDOWN.to_vec();
    f[14] = 0x04;
    let p = parse(&f).unwrap();
    assert_eq!(
        p.error(),
        Some(&ParseError {
            layer: Layer::Lldp,
            offset: 14,
            kind: ParseErrorKind::Lldp(LldpError::MissingTlv { expected: 1, found: Some(2), offset: 0 })
        })
    );
    assert!(p.lldp().is_none());
}

#[test]
fn ipv4_total_length_lies() {
    // Claims 1500 bytes: slice length used, flagged as truncated.
    let mut f = UDP_DATAGRAM.to_vec();
    f[16..18].copy_from_slice(&1500u16.to_be_bytes());
    let p = parse(&f).unwrap();
    assert!(p.is_truncated() && p.error().is_none());
    assert_eq!(p.payload(), b"hello tatsu");
    // Claims fewer bytes than the header: treated as an IPv4 length problem.
    f[16..18].copy_from_slice(&10u16.to_be_bytes());
    let p = parse(&f).unwrap();
    assert!(p.ipv4().is_some() || p.error().is_some());
}

#[test]
fn later_fragments_are_not_decoded_as_transport() {
    let mut f = UDP_DATAGRAM.to_vec();
    f[20] = 0x00;
    f[21] = 0x10; // fragment offset 16 * 8 bytes
    let p = parse(&f).unwrap();
    assert!(p.udp().is_none() && p.error().is_none());
    assert_eq!(p.payload(), &UDP_DATAGRAM[34..]);
    // A first fragment (MF set, offset 0) still has its header decoded.
    f[20] = 0x20;
    f[21] = 0x00;
    assert_eq!(parse(&f).unwrap().ports(), Some((54434, 5353)));
}

#[test]
fn random_bit_flips_never_panic() {
    let mut rng = Rng(0x7a75_5eed);
    for (_, f) in all_frames() {
        for _ in 0..2000 {
            let mut g = f.to_vec();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(g.len());
                g[i] ^= 1 << rng.below(8);
            }
            let cut = rng.below(g.len() + 1);
            touch(&g);
            touch(&g[..cut]);
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Rng(0xdead_beef);
    let heads: [&[u8]; 6] = [&[0x08, 0x00], &[0x86, 0xdd], &[0x08, 0x06], &[0x88, 0xcc], &[0x81, 0x00], &[0x88, 0xa8]];
    for _ in 0..20_000 {
        let len = rng.below(200);
        let mut g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 14 {
            g[12..14].copy_from_slice(heads[rng.below(heads.len())]);
        }
        if len >= 15 && rng.below(2) == 0 {
            g[14] = [0x45, 0x60, 0x46][rng.below(3)];
        }
        touch(&g);
    }
}

/// UDP over IPv6 with an 8-byte hop-by-hop header (PadN) in front.
fn udp6_with_hop_by_hop() -> Vec<u8> {
    use tatsu_packet::build::{self, EthHeader};
    let eth = EthHeader::new(tatsu_packet::MacAddr::ZERO, tatsu_packet::MacAddr::BROADCAST);
    let f = build::udp(&eth, "[2001:db8::1]:7".parse().unwrap(), "[2001:db8::2]:9".parse().unwrap(), b"x").unwrap();
    let mut g = f[..54].to_vec();
    g[20] = 0; // next header: hop-by-hop
    let plen = u16::from_be_bytes([g[18], g[19]]) + 8;
    g[18..20].copy_from_slice(&plen.to_be_bytes());
    g.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
    g.extend_from_slice(&f[54..]);
    g
}

#[test]
fn ipv6_extension_headers() {
    let f = udp6_with_hop_by_hop();
    let p = parse(&f).unwrap();
    assert!(p.error().is_none());
    assert_eq!(p.ip_proto(), Some(17));
    assert_eq!(p.ports(), Some((7, 9)));
    assert_eq!(p.payload(), b"x");
    // Cut inside the extension header.
    let p = parse(&f[..58]).unwrap();
    let e = p.error().unwrap();
    assert_eq!(e.layer, Layer::IpExtension);
    assert_eq!(e.offset, 54);
    assert!(p.ipv6().is_some() && p.udp().is_none());
    for n in 0..f.len() {
        touch(&f[..n]);
    }
}
