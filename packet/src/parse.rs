//! Zero-copy parsing of a whole Ethernet frame: [`parse`] → [`Parsed`].

use core::fmt;
use std::net::IpAddr;

use etherparse::err::{self, LenError};
use etherparse::{
    ArpPacketSlice, Icmpv4Slice, Icmpv6Slice, LaxIpPayloadSlice, LaxIpv4Slice, LaxIpv6Slice, TcpSlice, UdpSlice,
};

use crate::ether_type;
use crate::lldp::{LldpError, LldpSlice};
use crate::MacAddr;

/// IP protocol numbers this crate decodes.
pub mod ip_proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
}

/// The protocol layer a [`ParseError`] happened in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Ethernet II header (14 bytes).
    Ethernet,
    /// An 802.1Q / 802.1ad tag.
    Vlan,
    /// ARP.
    Arp,
    /// IPv4 header.
    Ipv4,
    /// IPv6 header.
    Ipv6,
    /// IPv6 extension header, or IPsec AH after IPv4.
    IpExtension,
    /// LLDP.
    Lldp,
    /// ICMPv4.
    Icmpv4,
    /// ICMPv6.
    Icmpv6,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ethernet => "Ethernet",
            Layer::Vlan => "VLAN tag",
            Layer::Arp => "ARP",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::IpExtension => "IP extension header",
            Layer::Lldp => "LLDP",
            Layer::Icmpv4 => "ICMPv4",
            Layer::Icmpv6 => "ICMPv6",
            Layer::Tcp => "TCP",
            Layer::Udp => "UDP",
        })
    }
}

/// What went wrong in a [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The header needs `needed` bytes from the error offset; only
    /// `available` were there.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// Bad IPv4 header (wrong version, IHL below 5, ...).
    Ipv4(err::ipv4::HeaderError),
    /// Bad IPv6 header (wrong version).
    Ipv6(err::ipv6::HeaderError),
    /// Bad IPsec authentication header after IPv4.
    IpAuth(err::ip_auth::HeaderError),
    /// Bad IPv6 extension header.
    Ipv6Extension(err::ipv6_exts::HeaderError),
    /// Bad TCP header (data offset below 5).
    Tcp(err::tcp::HeaderError),
    /// Bad LLDPDU (missing mandatory TLV, bad TLV length).
    Lldp(LldpError),
}

/// Where and why parsing stopped: the layer, the byte offset of that layer's
/// start within the frame, and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Layer being parsed.
    pub layer: Layer,
    /// Offset in the frame where that layer (or the failing part, such as an
    /// LLDP TLV) starts.
    pub offset: usize,
    /// The reason.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (layer, offset) = (self.layer, self.offset);
        match &self.kind {
            ParseErrorKind::Truncated { needed, available } => {
                write!(f, "truncated {layer} at offset {offset}: needs {needed} bytes, {available} present")
            }
            ParseErrorKind::Ipv4(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
            ParseErrorKind::Ipv6(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
            ParseErrorKind::IpAuth(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
            ParseErrorKind::Ipv6Extension(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
            ParseErrorKind::Tcp(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
            ParseErrorKind::Lldp(e) => write!(f, "bad {layer} at offset {offset}: {e}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn truncated(layer: Layer, offset: usize, needed: usize, available: usize) -> ParseError {
        ParseError { layer, offset, kind: ParseErrorKind::Truncated { needed, available } }
    }

    fn from_len(layer: Layer, base: usize, e: &LenError) -> ParseError {
        ParseError::truncated(layer, base + e.layer_start_offset, e.required_len, e.len)
    }
}

/// One VLAN tag (802.1Q `0x8100`, 802.1ad `0x88a8`, or legacy QinQ `0x9100`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Tag protocol identifier, the EtherType announcing this tag.
    pub tpid: u16,
    /// Priority code point, 0..=7.
    pub pcp: u8,
    /// Drop eligible indicator (formerly CFI).
    pub dei: bool,
    /// VLAN id, 0..=4095.
    pub vid: u16,
}

impl VlanTag {
    /// An 802.1Q (`0x8100`) tag with priority 0. `vid` is masked to 12 bits.
    pub const fn new(vid: u16) -> VlanTag {
        VlanTag { tpid: ether_type::VLAN, pcp: 0, dei: false, vid: vid & 0x0fff }
    }

    /// The tag control information field (PCP, DEI, VID) as on the wire.
    pub const fn tci(&self) -> u16 {
        ((self.pcp as u16 & 0x7) << 13) | ((self.dei as u16) << 12) | (self.vid & 0x0fff)
    }

    /// The 4 wire bytes: TPID then TCI.
    pub const fn to_bytes(&self) -> [u8; 4] {
        let t = self.tpid.to_be_bytes();
        let c = self.tci().to_be_bytes();
        [t[0], t[1], c[0], c[1]]
    }

    fn from_bytes(b: &[u8]) -> VlanTag {
        let tci = u16::from_be_bytes([b[2], b[3]]);
        VlanTag {
            tpid: u16::from_be_bytes([b[0], b[1]]),
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }
}

/// Iterator over the VLAN tags of a frame, outermost first.
#[derive(Clone, Debug)]
pub struct VlanTags<'a> {
    rest: &'a [u8],
}

impl Iterator for VlanTags<'_> {
    type Item = VlanTag;

    fn next(&mut self) -> Option<VlanTag> {
        let (tag, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(VlanTag::from_bytes(tag))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len() / 4;
        (n, Some(n))
    }
}

impl ExactSizeIterator for VlanTags<'_> {}

/// The network layer of a parsed frame (etherparse views, plus LLDP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Net<'a> {
    /// ARP (any hardware/protocol type; see `ArpPacketSlice::to_packet` and
    /// `ArpPacket::try_eth_ipv4` for the usual Ethernet/IPv4 form).
    Arp(ArpPacketSlice<'a>),
    /// IPv4 with options and (optional) AH; lax about the total length.
    Ipv4(LaxIpv4Slice<'a>),
    /// IPv6 with extension headers; lax about the payload length.
    Ipv6(LaxIpv6Slice<'a>),
    /// LLDP.
    Lldp(LldpSlice<'a>),
}

/// The transport layer of a parsed frame (etherparse views).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// ICMP for IPv4.
    Icmpv4(Icmpv4Slice<'a>),
    /// ICMP for IPv6 (including neighbour discovery).
    Icmpv6(Icmpv6Slice<'a>),
    /// TCP.
    Tcp(TcpSlice<'a>),
    /// UDP.
    Udp(UdpSlice<'a>),
}

/// A parsed Ethernet frame: zero-copy views borrowing the frame bytes.
///
/// Parsing is layered and lax: it goes as deep as it can and stops at the
/// first layer it cannot read, keeping what it got. [`Parsed::error`] then
/// says which layer failed, at which offset, and why; the layers above are
/// still there, and [`Parsed::payload`] holds the undecoded bytes. Length
/// fields claiming more bytes than captured (a packet-in cut to `max_len`)
/// are not errors: the slice length is used and [`Parsed::is_truncated`] is
/// set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    frame: &'a [u8],
    tags: &'a [u8],
    ethertype: u16,
    net: Option<Net<'a>>,
    transport: Option<Transport<'a>>,
    ip_proto: Option<u8>,
    payload: &'a [u8],
    truncated: bool,
    error: Option<ParseError>,
}

fn is_vlan_tpid(t: u16) -> bool {
    matches!(t, ether_type::VLAN | ether_type::QINQ | ether_type::QINQ_LEGACY)
}

/// Parses an Ethernet II frame (without FCS) as far down as it can.
///
/// Fails only when the 14-byte Ethernet header itself is incomplete; any
/// deeper problem gives `Ok` with [`Parsed::error`] set. Never panics and
/// never allocates.
///
/// ```
/// let frame = tatsu_packet::build::arp_request(
///     "02:00:00:00:00:01".parse().unwrap(),
///     [10, 0, 0, 1].into(),
///     [10, 0, 0, 2].into(),
/// );
/// let p = tatsu_packet::parse(&frame).unwrap();
/// assert!(p.eth_dst().is_broadcast());
/// assert_eq!(p.ethertype(), tatsu_packet::ether_type::ARP);
/// assert!(p.arp().is_some() && p.error().is_none());
/// ```
pub fn parse(frame: &[u8]) -> Result<Parsed<'_>, ParseError> {
    if frame.len() < 14 {
        return Err(ParseError::truncated(Layer::Ethernet, 0, 14, frame.len()));
    }
    let mut p = Parsed {
        frame,
        tags: &[],
        ethertype: u16::from_be_bytes([frame[12], frame[13]]),
        net: None,
        transport: None,
        ip_proto: None,
        payload: &frame[14..],
        truncated: false,
        error: None,
    };
    // VLAN tags: TPID at `pos`, TCI at pos+2, next EtherType at pos+4.
    let mut pos = 12;
    while is_vlan_tpid(p.ethertype) {
        if frame.len() < pos + 6 {
            p.error = Some(ParseError::truncated(Layer::Vlan, pos, 6, frame.len() - pos));
            return Ok(p);
        }
        pos += 4;
        p.ethertype = u16::from_be_bytes([frame[pos], frame[pos + 1]]);
        p.tags = &frame[12..pos];
        p.payload = &frame[pos + 2..];
    }
    let net_off = pos + 2;
    let data = p.payload;
    match p.ethertype {
        ether_type::ARP => match ArpPacketSlice::from_slice(data) {
            Ok(arp) => {
                p.payload = &data[arp.slice().len()..];
                p.net = Some(Net::Arp(arp));
            }
            Err(e) => p.error = Some(ParseError::from_len(Layer::Arp, net_off, &e)),
        },
        ether_type::LLDP => match LldpSlice::from_slice(data) {
            Ok(l) => {
                p.payload = &data[l.slice().len()..];
                p.net = Some(Net::Lldp(l));
            }
            Err(LldpError::Truncated { offset, needed, available }) => {
                p.error = Some(ParseError::truncated(Layer::Lldp, net_off + offset, needed, available))
            }
            Err(e) => {
                let offset = match e {
                    LldpError::MissingTlv { offset, .. } => net_off + offset,
                    _ => net_off,
                };
                p.error = Some(ParseError { layer: Layer::Lldp, offset, kind: ParseErrorKind::Lldp(e) })
            }
        },
        ether_type::IPV4 => match LaxIpv4Slice::from_slice(data) {
            Ok((ip, auth_err)) => {
                let payload = ip.payload().clone();
                let first_fragment = ip.header().fragments_offset().value() == 0;
                let ext_off = net_off + ip.header().slice().len();
                p.net = Some(Net::Ipv4(ip));
                match auth_err {
                    None => p.parse_transport(&payload, first_fragment),
                    Some(e) => {
                        p.payload = payload.payload;
                        p.ip_proto = Some(payload.ip_number.0);
                        p.error = Some(match e {
                            err::ip_auth::HeaderSliceError::Len(l) => {
                                ParseError::from_len(Layer::IpExtension, ext_off, &l)
                            }
                            err::ip_auth::HeaderSliceError::Content(c) => ParseError {
                                layer: Layer::IpExtension,
                                offset: ext_off,
                                kind: ParseErrorKind::IpAuth(c),
                            },
                        });
                    }
                }
            }
            Err(err::ipv4::HeaderSliceError::Len(e)) => p.error = Some(ParseError::from_len(Layer::Ipv4, net_off, &e)),
            Err(err::ipv4::HeaderSliceError::Content(c)) => {
                p.error = Some(ParseError { layer: Layer::Ipv4, offset: net_off, kind: ParseErrorKind::Ipv4(c) })
            }
        },
        ether_type::IPV6 => match LaxIpv6Slice::from_slice(data) {
            Ok((ip, ext_err)) => {
                let payload = ip.payload().clone();
                p.net = Some(Net::Ipv6(ip));
                match ext_err {
                    None => p.parse_transport(&payload, false),
                    Some((e, _)) => {
                        p.payload = payload.payload;
                        p.ip_proto = Some(payload.ip_number.0);
                        p.error = Some(match e {
                            err::ipv6_exts::HeaderSliceError::Len(l) => {
                                ParseError::from_len(Layer::IpExtension, net_off, &l)
                            }
                            err::ipv6_exts::HeaderSliceError::Content(c) => ParseError {
                                layer: Layer::IpExtension,
                                offset: net_off + 40,
                                kind: ParseErrorKind::Ipv6Extension(c),
                            },
                        });
                    }
                }
            }
            Err(err::ipv6::HeaderSliceError::Len(e)) => p.error = Some(ParseError::from_len(Layer::Ipv6, net_off, &e)),
            Err(err::ipv6::HeaderSliceError::Content(c)) => {
                p.error = Some(ParseError { layer: Layer::Ipv6, offset: net_off, kind: ParseErrorKind::Ipv6(c) })
            }
        },
        _ => {}
    }
    Ok(p)
}

impl<'a> Parsed<'a> {
    /// Decodes the IP payload. `first_fragment` allows decoding the transport
    /// header of an IPv4 first fragment (MF set, offset 0).
    fn parse_transport(&mut self, ip: &LaxIpPayloadSlice<'a>, first_fragment: bool) {
        let data = ip.payload;
        self.payload = data;
        self.ip_proto = Some(ip.ip_number.0);
        self.truncated = ip.incomplete;
        if ip.fragmented && !first_fragment {
            return;
        }
        let off = offset_in(self.frame, data);
        let t = match ip.ip_number.0 {
            ip_proto::TCP => TcpSlice::from_slice(data).map(Transport::Tcp).map_err(|e| match e {
                err::tcp::HeaderSliceError::Len(l) => ParseError::from_len(Layer::Tcp, off, &l),
                err::tcp::HeaderSliceError::Content(c) => {
                    ParseError { layer: Layer::Tcp, offset: off, kind: ParseErrorKind::Tcp(c) }
                }
            }),
            ip_proto::UDP => UdpSlice::from_slice_lax(data)
                .map(Transport::Udp)
                .map_err(|l| ParseError::from_len(Layer::Udp, off, &l)),
            ip_proto::ICMP => Icmpv4Slice::from_slice(data)
                .map(Transport::Icmpv4)
                .map_err(|l| ParseError::from_len(Layer::Icmpv4, off, &l)),
            ip_proto::ICMPV6 => Icmpv6Slice::from_slice(data)
                .map(Transport::Icmpv6)
                .map_err(|l| ParseError::from_len(Layer::Icmpv6, off, &l)),
            _ => return,
        };
        match t {
            Ok(t) => {
                self.payload = match &t {
                    Transport::Tcp(s) => s.payload(),
                    Transport::Udp(s) => s.payload(),
                    Transport::Icmpv4(s) => s.payload(),
                    Transport::Icmpv6(s) => s.payload(),
                };
                if let Transport::Udp(u) = &t {
                    self.truncated |= usize::from(u.length()) > u.slice().len();
                }
                self.transport = Some(t);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The whole frame as given to [`parse`].
    pub fn frame(&self) -> &'a [u8] {
        self.frame
    }

    /// Destination MAC.
    pub fn eth_dst(&self) -> MacAddr {
        MacAddr([self.frame[0], self.frame[1], self.frame[2], self.frame[3], self.frame[4], self.frame[5]])
    }

    /// Source MAC.
    pub fn eth_src(&self) -> MacAddr {
        MacAddr([self.frame[6], self.frame[7], self.frame[8], self.frame[9], self.frame[10], self.frame[11]])
    }

    /// EtherType of the payload, after any VLAN tags (the `eth_type`
    /// OpenFlow matches on). Values below `0x0600` are 802.3 lengths.
    pub fn ethertype(&self) -> u16 {
        self.ethertype
    }

    /// VLAN tags, outermost first (empty when untagged).
    pub fn vlans(&self) -> VlanTags<'a> {
        VlanTags { rest: self.tags }
    }

    /// The outermost VLAN tag, if any.
    pub fn vlan(&self) -> Option<VlanTag> {
        self.vlans().next()
    }

    /// The network layer, if the EtherType is known and it parsed.
    pub fn net(&self) -> Option<&Net<'a>> {
        self.net.as_ref()
    }

    /// The transport layer, if the IP protocol is known and it parsed.
    pub fn transport(&self) -> Option<&Transport<'a>> {
        self.transport.as_ref()
    }

    /// ARP view, if this is an ARP frame.
    pub fn arp(&self) -> Option<&ArpPacketSlice<'a>> {
        match &self.net {
            Some(Net::Arp(a)) => Some(a),
            _ => None,
        }
    }

    /// IPv4 view, if this is an IPv4 packet.
    pub fn ipv4(&self) -> Option<&LaxIpv4Slice<'a>> {
        match &self.net {
            Some(Net::Ipv4(a)) => Some(a),
            _ => None,
        }
    }

    /// IPv6 view, if this is an IPv6 packet.
    pub fn ipv6(&self) -> Option<&LaxIpv6Slice<'a>> {
        match &self.net {
            Some(Net::Ipv6(a)) => Some(a),
            _ => None,
        }
    }

    /// LLDP view, if this is an LLDP frame.
    pub fn lldp(&self) -> Option<&LldpSlice<'a>> {
        match &self.net {
            Some(Net::Lldp(a)) => Some(a),
            _ => None,
        }
    }

    /// IP source address (IPv4 or IPv6).
    pub fn ip_src(&self) -> Option<IpAddr> {
        match &self.net {
            Some(Net::Ipv4(ip)) => Some(ip.header().source_addr().into()),
            Some(Net::Ipv6(ip)) => Some(ip.header().source_addr().into()),
            _ => None,
        }
    }

    /// IP destination address (IPv4 or IPv6).
    pub fn ip_dst(&self) -> Option<IpAddr> {
        match &self.net {
            Some(Net::Ipv4(ip)) => Some(ip.header().destination_addr().into()),
            Some(Net::Ipv6(ip)) => Some(ip.header().destination_addr().into()),
            _ => None,
        }
    }

    /// IP protocol / IPv6 next header after extension headers (see
    /// [`ip_proto`]), for IP packets.
    pub fn ip_proto(&self) -> Option<u8> {
        self.ip_proto
    }

    /// TCP view.
    pub fn tcp(&self) -> Option<&TcpSlice<'a>> {
        match &self.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// UDP view.
    pub fn udp(&self) -> Option<&UdpSlice<'a>> {
        match &self.transport {
            Some(Transport::Udp(t)) => Some(t),
            _ => None,
        }
    }

    /// ICMPv4 view.
    pub fn icmpv4(&self) -> Option<&Icmpv4Slice<'a>> {
        match &self.transport {
            Some(Transport::Icmpv4(t)) => Some(t),
            _ => None,
        }
    }

    /// ICMPv6 view.
    pub fn icmpv6(&self) -> Option<&Icmpv6Slice<'a>> {
        match &self.transport {
            Some(Transport::Icmpv6(t)) => Some(t),
            _ => None,
        }
    }

    /// TCP or UDP source and destination ports.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Some(Transport::Tcp(t)) => Some((t.source_port(), t.destination_port())),
            Some(Transport::Udp(t)) => Some((t.source_port(), t.destination_port())),
            _ => None,
        }
    }

    /// Bytes after the innermost decoded header: the TCP/UDP payload, the
    /// ICMP body after its 8-byte header, the IP payload when the protocol
    /// is unknown or its header failed, the Ethernet payload when the
    /// EtherType is unknown or its layer failed, and whatever follows an ARP
    /// packet or an LLDPDU (padding). IP payloads exclude Ethernet padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// True if an IP (or UDP) length field claims more bytes than the frame
    /// holds, as with a packet-in cut short by the switch.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Why parsing stopped early, if it did.
    pub fn error(&self) -> Option<&ParseError> {
        self.error.as_ref()
    }
}

/// Offset of `sub` within `base`; `sub` must be a subslice of `base`.
fn offset_in(base: &[u8], sub: &[u8]) -> usize {
    (sub.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize)
}
