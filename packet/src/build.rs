//! Builders for common frames, returning `Vec<u8>` ready for a packet-out.
//!
//! IP, ICMP, TCP and UDP headers and all checksums come from etherparse's
//! `PacketBuilder`; this module adds the Ethernet/VLAN header (any TPID),
//! ARP framing and LLDP. Frames are not padded to the 60-byte Ethernet
//! minimum (the switch or NIC pads on transmit); IPv4 TTL and IPv6 hop limit
//! are [`DEFAULT_TTL`].

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use etherparse::{ArpEthIpv4Packet, ArpOperation, PacketBuilder, TcpHeader};

use crate::ether_type;
use crate::lldp::{LldpError, Lldpdu};
use crate::parse::VlanTag;
use crate::MacAddr;

/// TTL / hop limit put in built IP packets.
pub const DEFAULT_TTL: u8 = 64;

/// Ethernet header of a frame to build: addresses and an optional VLAN tag.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct EthHeader {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// VLAN tag to insert after the addresses (its `tpid` is used as is).
    pub vlan: Option<VlanTag>,
}

impl EthHeader {
    /// Untagged header. Note the order: source first, as in every builder here.
    pub const fn new(src: MacAddr, dst: MacAddr) -> EthHeader {
        EthHeader { dst, src, vlan: None }
    }

    /// Same header with an 802.1Q tag for `vid` (priority 0).
    pub const fn with_vlan(mut self, vid: u16) -> EthHeader {
        self.vlan = Some(VlanTag::new(vid));
        self
    }

    /// Header length in bytes (14, or 18 with a tag).
    pub const fn len(&self) -> usize {
        if self.vlan.is_some() {
            18
        } else {
            14
        }
    }

    /// Always false.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Appends the header with the given payload EtherType to `out`.
    pub fn write(&self, ethertype: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst.0);
        out.extend_from_slice(&self.src.0);
        if let Some(tag) = self.vlan {
            out.extend_from_slice(&tag.to_bytes());
        }
        out.extend_from_slice(&ethertype.to_be_bytes());
    }
}

/// Why a frame could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// Source and destination are not the same IP version.
    AddressFamilyMismatch,
    /// The payload does not fit the IP/UDP length fields.
    PayloadTooLarge {
        /// Payload length asked for.
        len: usize,
    },
    /// The LLDPDU could not be encoded.
    Lldp(LldpError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::AddressFamilyMismatch => f.write_str("source and destination IP versions differ"),
            BuildError::PayloadTooLarge { len } => {
                write!(f, "payload of {len} bytes too large for the IP packet")
            }
            BuildError::Lldp(e) => write!(f, "cannot encode LLDPDU: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<LldpError> for BuildError {
    fn from(e: LldpError) -> Self {
        BuildError::Lldp(e)
    }
}

/// A frame with `eth` and a raw payload of the given EtherType.
pub fn ethernet(eth: &EthHeader, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(eth.len() + payload.len());
    eth.write(ethertype, &mut out);
    out.extend_from_slice(payload);
    out
}

/// An Ethernet/IPv4 ARP packet in a frame with header `eth`.
pub fn arp(eth: &EthHeader, arp: &ArpEthIpv4Packet) -> Vec<u8> {
    ethernet(eth, ether_type::ARP, &arp.to_bytes())
}

/// A broadcast ARP request: who has `target_ip`? tell `sender_ip`
/// (`sender_mac`). The target hardware address is zero.
pub fn arp_request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    arp(
        &EthHeader::new(sender_mac, MacAddr::BROADCAST),
        &ArpEthIpv4Packet {
            operation: ArpOperation::REQUEST,
            sender_mac: sender_mac.0,
            sender_ipv4: sender_ip.octets(),
            target_mac: [0; 6],
            target_ipv4: target_ip.octets(),
        },
    )
}

/// A unicast ARP reply: `sender_ip` is at `sender_mac`, sent to
/// `target_mac`/`target_ip` (the requester).
pub fn arp_reply(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_mac: MacAddr, target_ip: Ipv4Addr) -> Vec<u8> {
    arp(
        &EthHeader::new(sender_mac, target_mac),
        &ArpEthIpv4Packet {
            operation: ArpOperation::REPLY,
            sender_mac: sender_mac.0,
            sender_ipv4: sender_ip.octets(),
            target_mac: target_mac.0,
            target_ipv4: target_ip.octets(),
        },
    )
}

/// Writes the Ethernet header, then lets etherparse write the IP packet.
fn finish(
    eth: &EthHeader,
    ethertype: u16,
    size: usize,
    payload_len: usize,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), etherparse::err::packet::BuildWriteError>,
) -> Result<Vec<u8>, BuildError> {
    let mut out = Vec::with_capacity(eth.len() + size);
    eth.write(ethertype, &mut out);
    match write(&mut out) {
        Ok(()) => Ok(out),
        // Writing to a Vec cannot fail with I/O errors; length limits are the
        // only failure for the headers built here.
        Err(_) => Err(BuildError::PayloadTooLarge { len: payload_len }),
    }
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    PacketBuilder::ipv4(src.octets(), dst.octets(), DEFAULT_TTL)
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    PacketBuilder::ipv6(src.octets(), dst.octets(), DEFAULT_TTL)
}

/// An ICMPv4 echo request (ping) with a correct IPv4 and ICMP checksum.
pub fn icmpv4_echo_request(
    eth: &EthHeader,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    seq: u16,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let b = ipv4(src, dst).icmpv4_echo_request(id, seq);
    finish(eth, ether_type::IPV4, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
}

/// An ICMPv4 echo reply; `id`, `seq` and `payload` should echo the request's.
pub fn icmpv4_echo_reply(
    eth: &EthHeader,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    seq: u16,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let b = ipv4(src, dst).icmpv4_echo_reply(id, seq);
    finish(eth, ether_type::IPV4, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
}

/// An ICMPv6 echo request with a correct checksum.
pub fn icmpv6_echo_request(
    eth: &EthHeader,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    id: u16,
    seq: u16,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let b = ipv6(src, dst).icmpv6_echo_request(id, seq);
    finish(eth, ether_type::IPV6, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
}

/// An ICMPv6 echo reply with a correct checksum.
pub fn icmpv6_echo_reply(
    eth: &EthHeader,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    id: u16,
    seq: u16,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let b = ipv6(src, dst).icmpv6_echo_reply(id, seq);
    finish(eth, ether_type::IPV6, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
}

/// A UDP datagram over IPv4 or IPv6 (taken from the addresses) with correct
/// checksums.
pub fn udp(eth: &EthHeader, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Result<Vec<u8>, BuildError> {
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let b = ipv4(s, d).udp(src.port(), dst.port());
            finish(eth, ether_type::IPV4, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let b = ipv6(s, d).udp(src.port(), dst.port());
            finish(eth, ether_type::IPV6, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
        }
        _ => Err(BuildError::AddressFamilyMismatch),
    }
}

/// TCP flag bits for [`TcpSegment::flags`].
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
}

/// The TCP fields other than ports for [`tcp`]. No options are written.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpSegment {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent as is; meaningful with [`tcp_flags::ACK`]).
    pub ack: u32,
    /// Flag bits, see [`tcp_flags`].
    pub flags: u8,
    /// Receive window.
    pub window: u16,
}

/// A TCP segment over IPv4 or IPv6 (taken from the addresses) with correct
/// checksums, e.g. a RST to cut a connection.
pub fn tcp(
    eth: &EthHeader,
    src: SocketAddr,
    dst: SocketAddr,
    seg: &TcpSegment,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let mut h = TcpHeader::new(src.port(), dst.port(), seg.seq, seg.window);
    let f = seg.flags;
    h.acknowledgment_number = seg.ack;
    h.fin = f & tcp_flags::FIN != 0;
    h.syn = f & tcp_flags::SYN != 0;
    h.rst = f & tcp_flags::RST != 0;
    h.psh = f & tcp_flags::PSH != 0;
    h.ack = f & tcp_flags::ACK != 0;
    h.urg = f & tcp_flags::URG != 0;
    h.ece = f & tcp_flags::ECE != 0;
    h.cwr = f & tcp_flags::CWR != 0;
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let b = ipv4(s, d).tcp_header(h);
            finish(eth, ether_type::IPV4, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let b = ipv6(s, d).tcp_header(h);
            finish(eth, ether_type::IPV6, b.size(payload.len()), payload.len(), |o| b.write(o, payload))
        }
        _ => Err(BuildError::AddressFamilyMismatch),
    }
}

/// An LLDP frame from `src` to the nearest-bridge group address
/// `01:80:c2:00:00:0e`, carrying `pdu` (End TLV appended).
///
/// ```
/// use tatsu_packet::lldp::{ChassisId, Lldpdu, PortId};
/// let pdu = Lldpdu::new(ChassisId::local("dpid:0000000000000001"), PortId::port_component(1), 120)
///     .with_system_name("s1")
///     .with_port_description("s1-eth1");
/// let frame = tatsu_packet::build::lldp("02:00:00:00:00:01".parse().unwrap(), &pdu).unwrap();
/// let p = tatsu_packet::parse(&frame).unwrap();
/// assert_eq!(p.lldp().unwrap().to_lldpdu(), pdu);
/// ```
pub fn lldp(src: MacAddr, pdu: &Lldpdu) -> Result<Vec<u8>, BuildError> {
    let eth = EthHeader::new(src, MacAddr::LLDP_NEAREST_BRIDGE);
    let mut out = Vec::with_capacity(eth.len() + pdu.len());
    eth.write(ether_type::LLDP, &mut out);
    pdu.write(&mut out)?;
    Ok(out)
}
