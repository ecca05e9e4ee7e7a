//! OXM TLVs and the OpenFlow 1.3 match (`ofp_match`, `OFPMT_OXM`).
//!
//! An [`Oxm`] keeps its class, field number, has-mask bit and raw body, so
//! that every TLV (basic, Nicira NXM, experimenter, unknown) re-encodes
//! exactly. [`OxmField`] names the known fields and gives typed helpers.

use crate::error::{DecodeError, EncodeError};
use crate::types::MacAddr;
use crate::wire::{Put, Reader};
use std::net::{Ipv4Addr, Ipv6Addr};

/// `OFPXMC_NXM_0`.
pub const OFPXMC_NXM_0: u16 = 0x0000;
/// `OFPXMC_NXM_1`.
pub const OFPXMC_NXM_1: u16 = 0x0001;
/// `OFPXMC_OPENFLOW_BASIC`.
pub const OFPXMC_OPENFLOW_BASIC: u16 = 0x8000;
/// `OFPXMC_EXPERIMENTER`.
pub const OFPXMC_EXPERIMENTER: u16 = 0xffff;
/// ONF experimenter id (`ONF\0`).
pub const ONF_EXPERIMENTER_ID: u32 = 0x4f4e_4600;
/// `OFPMT_OXM`.
pub const OFPMT_OXM: u16 = 1;
/// The longest OXM TLV body: what the 8-bit length of its header holds.
pub const MAX_OXM_BODY: usize = u8::MAX as usize;

/// How a field's value is shown and typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Unsigned integer, big-endian.
    Int,
    /// MAC address.
    Mac,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
}

/// Static description of a known field.
#[derive(Clone, Copy, Debug)]
pub struct FieldInfo {
    /// Name as used by Ryu's JSON (`eth_dst`, `tun_ipv4_src`, `reg0`...).
    pub name: &'static str,
    /// OXM class.
    pub class: u16,
    /// Field number.
    pub field: u8,
    /// Value length in bytes (without mask).
    pub len: u8,
    /// Value kind.
    pub kind: ValueKind,
    /// Whether the spec allows a mask.
    pub maskable: bool,
}

macro_rules! fields {
    ($( $(#[$m:meta])* $var:ident = ($name:literal, $class:expr, $field:literal, $len:literal, $kind:ident, $mask:literal) ),* $(,)?) => {
        /// Known OXM/NXM fields (the OpenFlow-basic fields of 1.3 to 1.5, Nicira fields and ONF `pbb_uca`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum OxmField { $( $(#[$m])* $var ),* }
        /// Table of field descriptions, in `OxmField` order.
        pub static FIELDS: &[FieldInfo] = &[ $( FieldInfo { name: $name, class: $class, field: $field, len: $len, kind: ValueKind::$kind, maskable: $mask } ),* ];
        /// All known fields in table order.
        pub static ALL_FIELDS: &[OxmField] = &[ $( OxmField::$var ),* ];
    };
}

fields! {
    /// Switch input port.
    InPort = ("in_port", OFPXMC_OPENFLOW_BASIC, 0, 4, Int, false),
    /// Physical input port.
    InPhyPort = ("in_phy_port", OFPXMC_OPENFLOW_BASIC, 1, 4, Int, false),
    /// Metadata passed between tables.
    Metadata = ("metadata", OFPXMC_OPENFLOW_BASIC, 2, 8, Int, true),
    /// Ethernet destination.
    EthDst = ("eth_dst", OFPXMC_OPENFLOW_BASIC, 3, 6, Mac, true),
    /// Ethernet source.
    EthSrc = ("eth_src", OFPXMC_OPENFLOW_BASIC, 4, 6, Mac, true),
    /// Ethernet type.
    EthType = ("eth_type", OFPXMC_OPENFLOW_BASIC, 5, 2, Int, false),
    /// VLAN id (with `OFPVID_PRESENT` 0x1000).
    VlanVid = ("vlan_vid", OFPXMC_OPENFLOW_BASIC, 6, 2, Int, true),
    /// VLAN priority.
    VlanPcp = ("vlan_pcp", OFPXMC_OPENFLOW_BASIC, 7, 1, Int, false),
    /// IP DSCP.
    IpDscp = ("ip_dscp", OFPXMC_OPENFLOW_BASIC, 8, 1, Int, false),
    /// IP ECN.
    IpEcn = ("ip_ecn", OFPXMC_OPENFLOW_BASIC, 9, 1, Int, false),
    /// IP protocol.
    IpProto = ("ip_proto", OFPXMC_OPENFLOW_BASIC, 10, 1, Int, false),
    /// IPv4 source.
    Ipv4Src = ("ipv4_src", OFPXMC_OPENFLOW_BASIC, 11, 4, Ipv4, true),
    /// IPv4 destination.
    Ipv4Dst = ("ipv4_dst", OFPXMC_OPENFLOW_BASIC, 12, 4, Ipv4, true),
    /// TCP source port.
    TcpSrc = ("tcp_src", OFPXMC_OPENFLOW_BASIC, 13, 2, Int, false),
    /// TCP destination port.
    TcpDst = ("tcp_dst", OFPXMC_OPENFLOW_BASIC, 14, 2, Int, false),
    /// UDP source port.
    UdpSrc = ("udp_src", OFPXMC_OPENFLOW_BASIC, 15, 2, Int, false),
    /// UDP destination port.
    UdpDst = ("udp_dst", OFPXMC_OPENFLOW_BASIC, 16, 2, Int, false),
    /// SCTP source port.
    SctpSrc = ("sctp_src", OFPXMC_OPENFLOW_BASIC, 17, 2, Int, false),
    /// SCTP destination port.
    SctpDst = ("sctp_dst", OFPXMC_OPENFLOW_BASIC, 18, 2, Int, false),
    /// ICMPv4 type.
    Icmpv4Type = ("icmpv4_type", OFPXMC_OPENFLOW_BASIC, 19, 1, Int, false),
    /// ICMPv4 code.
    Icmpv4Code = ("icmpv4_code", OFPXMC_OPENFLOW_BASIC, 20, 1, Int, false),
    /// ARP opcode.
    ArpOp = ("arp_op", OFPXMC_OPENFLOW_BASIC, 21, 2, Int, false),
    /// ARP source IPv4.
    ArpSpa = ("arp_spa", OFPXMC_OPENFLOW_BASIC, 22, 4, Ipv4, true),
    /// ARP target IPv4.
    ArpTpa = ("arp_tpa", OFPXMC_OPENFLOW_BASIC, 23, 4, Ipv4, true),
    /// ARP source hardware address.
    ArpSha = ("arp_sha", OFPXMC_OPENFLOW_BASIC, 24, 6, Mac, true),
    /// ARP target hardware address.
    ArpTha = ("arp_tha", OFPXMC_OPENFLOW_BASIC, 25, 6, Mac, true),
    /// IPv6 source.
    Ipv6Src = ("ipv6_src", OFPXMC_OPENFLOW_BASIC, 26, 16, Ipv6, true),
    /// IPv6 destination.
    Ipv6Dst = ("ipv6_dst", OFPXMC_OPENFLOW_BASIC, 27, 16, Ipv6, true),
    /// IPv6 flow label.
    Ipv6Flabel = ("ipv6_flabel", OFPXMC_OPENFLOW_BASIC, 28, 4, Int, true),
    /// ICMPv6 type.
    Icmpv6Type = ("icmpv6_type", OFPXMC_OPENFLOW_BASIC, 29, 1, Int, false),
    /// ICMPv6 code.
    Icmpv6Code = ("icmpv6_code", OFPXMC_OPENFLOW_BASIC, 30, 1, Int, false),
    /// ND target.
    Ipv6NdTarget = ("ipv6_nd_target", OFPXMC_OPENFLOW_BASIC, 31, 16, Ipv6, false),
    /// ND source link-layer address.
    Ipv6NdSll = ("ipv6_nd_sll", OFPXMC_OPENFLOW_BASIC, 32, 6, Mac, false),
    /// ND target link-layer address.
    Ipv6NdTll = ("ipv6_nd_tll", OFPXMC_OPENFLOW_BASIC, 33, 6, Mac, false),
    /// MPLS label.
    MplsLabel = ("mpls_label", OFPXMC_OPENFLOW_BASIC, 34, 4, Int, false),
    /// MPLS TC.
    MplsTc = ("mpls_tc", OFPXMC_OPENFLOW_BASIC, 35, 1, Int, false),
    /// MPLS bottom-of-stack bit.
    MplsBos = ("mpls_bos", OFPXMC_OPENFLOW_BASIC, 36, 1, Int, false),
    /// PBB I-SID (24 bits).
    PbbIsid = ("pbb_isid", OFPXMC_OPENFLOW_BASIC, 37, 3, Int, true),
    /// Tunnel id / metadata.
    TunnelId = ("tunnel_id", OFPXMC_OPENFLOW_BASIC, 38, 8, Int, true),
    /// IPv6 extension header pseudo-field.
    Ipv6Exthdr = ("ipv6_exthdr", OFPXMC_OPENFLOW_BASIC, 39, 2, Int, true),
    /// Nicira `NXM_OF_ETH_DST`.
    EthDstNxm = ("eth_dst_nxm", OFPXMC_NXM_0, 1, 6, Mac, true),
    /// Nicira `NXM_OF_ETH_SRC`.
    EthSrcNxm = ("eth_src_nxm", OFPXMC_NXM_0, 2, 6, Mac, true),
    /// Nicira `NXM_OF_ETH_TYPE`.
    EthTypeNxm = ("eth_type_nxm", OFPXMC_NXM_0, 3, 2, Int, false),
    /// Nicira `NXM_OF_IP_PROTO`.
    IpProtoNxm = ("ip_proto_nxm", OFPXMC_NXM_0, 6, 1, Int, false),
    /// Nicira `NXM_NX_TUN_ID`.
    TunnelIdNxm = ("tunnel_id_nxm", OFPXMC_NXM_1, 16, 8, Int, true),
    /// Nicira tunnel IPv4 source.
    TunIpv4Src = ("tun_ipv4_src", OFPXMC_NXM_1, 31, 4, Ipv4, true),
    /// Nicira tunnel IPv4 destination.
    TunIpv4Dst = ("tun_ipv4_dst", OFPXMC_NXM_1, 32, 4, Ipv4, true),
    /// Nicira packet mark.
    PktMark = ("pkt_mark", OFPXMC_NXM_1, 33, 4, Int, true),
    /// Nicira TCP flags.
    TcpFlagsNxm = ("tcp_flags_nxm", OFPXMC_NXM_1, 34, 2, Int, true),
    /// Nicira conjunction id.
    ConjId = ("conj_id", OFPXMC_NXM_1, 37, 4, Int, false),
    /// Nicira conntrack state.
    CtState = ("ct_state", OFPXMC_NXM_1, 105, 4, Int, true),
    /// Nicira conntrack zone.
    CtZone = ("ct_zone", OFPXMC_NXM_1, 106, 2, Int, false),
    /// Nicira conntrack mark.
    CtMark = ("ct_mark", OFPXMC_NXM_1, 107, 4, Int, true),
    /// Nicira conntrack label (128 bits).
    CtLabel = ("ct_label", OFPXMC_NXM_1, 108, 16, Int, true),
    /// Nicira tunnel IPv6 source.
    TunIpv6Src = ("tun_ipv6_src", OFPXMC_NXM_1, 109, 16, Ipv6, true),
    /// Nicira tunnel IPv6 destination.
    TunIpv6Dst = ("tun_ipv6_dst", OFPXMC_NXM_1, 110, 16, Ipv6, true),
    /// Nicira register 0.
    Reg0 = ("reg0", OFPXMC_NXM_1, 0, 4, Int, true),
    /// Nicira register 1.
    Reg1 = ("reg1", OFPXMC_NXM_1, 1, 4, Int, true),
    /// Nicira register 2.
    Reg2 = ("reg2", OFPXMC_NXM_1, 2, 4, Int, true),
    /// Nicira register 3.
    Reg3 = ("reg3", OFPXMC_NXM_1, 3, 4, Int, true),
    /// Nicira register 4.
    Reg4 = ("reg4", OFPXMC_NXM_1, 4, 4, Int, true),
    /// Nicira register 5.
    Reg5 = ("reg5", OFPXMC_NXM_1, 5, 4, Int, true),
    /// Nicira register 6.
    Reg6 = ("reg6", OFPXMC_NXM_1, 6, 4, Int, true),
    /// Nicira register 7.
    Reg7 = ("reg7", OFPXMC_NXM_1, 7, 4, Int, true),
    /// ONF `pbb_uca` (experimenter OXM, exp_type 2560), OpenFlow 1.3's form.
    PbbUca = ("pbb_uca", OFPXMC_EXPERIMENTER, 0, 1, Int, false),
    /// PBB UCA header bit, OpenFlow-basic from 1.4 on (`OFPXMT_OFB_PBB_UCA`).
    PbbUcaBasic = ("pbb_uca", OFPXMC_OPENFLOW_BASIC, 41, 1, Int, false),
    /// TCP flags (OpenFlow 1.5).
    TcpFlags = ("tcp_flags", OFPXMC_OPENFLOW_BASIC, 42, 2, Int, true),
    /// Output port of the action set (OpenFlow 1.5).
    ActsetOutput = ("actset_output", OFPXMC_OPENFLOW_BASIC, 43, 4, Int, false),
    /// Packet type (OpenFlow 1.5): namespace and type.
    PacketType = ("packet_type", OFPXMC_OPENFLOW_BASIC, 44, 4, Int, false),
}

/// ONF experimenter type for `pbb_uca`.
const ONF_ET_PBB_UCA: u16 = 2560;

impl OxmField {
    /// Static description.
    pub fn info(self) -> &'static FieldInfo {
        // The table and the enum are generated from the same list.
        &FIELDS[self as usize]
    }
    /// Ryu name.
    pub fn name(self) -> &'static str {
        self.info().name
    }
    /// Looks a field up by class and field number (experimenter fields excluded).
    pub fn from_class_field(class: u16, field: u8) -> Option<OxmField> {
        if class == OFPXMC_EXPERIMENTER {
            return None;
        }
        if class == OFPXMC_OPENFLOW_BASIC {
            // Fields 0 to 39 lead the table in field order.
            if let Some(f) = ALL_FIELDS.get(field as usize).copied().filter(|f| f.info().class == class) {
                return Some(f);
            }
        }
        ALL_FIELDS.iter().copied().find(|f| f.info().class == class && f.info().field == field)
    }
    /// Looks a field up by its Ryu name.
    pub fn from_name(name: &str) -> Option<OxmField> {
        ALL_FIELDS.iter().copied().find(|f| f.name() == name)
    }
    /// The 32-bit OXM header for this field (without mask), as used by NXM
    /// field references in Nicira actions.
    pub fn header(self, has_mask: bool) -> u32 {
        let i = self.info();
        let len = i.len as u32 * if has_mask { 2 } else { 1 };
        (i.class as u32) << 16 | (i.field as u32) << 9 | (has_mask as u32) << 8 | len
    }
}

/// Name of the field referenced by a 32-bit NXM/OXM header (Ryu's naming), if known.
pub fn header_name(header: u32) -> Option<&'static str> {
    let class = (header >> 16) as u16;
    let field = ((header >> 9) & 0x7f) as u8;
    OxmField::from_class_field(class, field).map(|f| f.name())
}

/// Raw OXM body storage, inline for the common small case.
#[derive(Clone, PartialEq, Eq)]
pub enum OxmBody {
    /// Up to 32 bytes held inline.
    Inline(u8, [u8; 32]),
    /// Longer bodies (experimenter fields).
    Heap(Box<[u8]>),
}

impl OxmBody {
    /// Copies `b`.
    pub fn new(b: &[u8]) -> OxmBody {
        if b.len() <= 32 {
            let mut a = [0u8; 32];
            a[..b.len()].copy_from_slice(b);
            OxmBody::Inline(b.len() as u8, a)
        } else {
            OxmBody::Heap(b.into())
        }
    }
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            OxmBody::Inline(n, a) => a.get(..*n as usize).unwrap_or(&[]),
            OxmBody::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for OxmBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02x?}", self.as_slice())
    }
}

/// One OXM TLV.
///
/// For non-experimenter classes `body` is `value` followed by `mask` when
/// `has_mask`; for the experimenter class it is the full payload (experimenter
/// id first).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Oxm {
    /// OXM class.
    pub class: u16,
    /// Field number (7 bits).
    pub field: u8,
    /// The has-mask bit.
    pub has_mask: bool,
    /// Raw body.
    pub body: OxmBody,
}

impl Oxm {
    /// An exact-match TLV for a known field; `value` must have the field's length.
    pub fn new(field: OxmField, value: &[u8]) -> Oxm {
        let i = field.info();
        if i.class == OFPXMC_EXPERIMENTER {
            let mut b = Vec::with_capacity(6 + value.len());
            b.extend_from_slice(&ONF_EXPERIMENTER_ID.to_be_bytes());
            b.extend_from_slice(&ONF_ET_PBB_UCA.to_be_bytes());
            b.extend_from_slice(value);
            return Oxm { class: i.class, field: 0, has_mask: false, body: OxmBody::new(&b) };
        }
        Oxm { class: i.class, field: i.field, has_mask: false, body: OxmBody::new(value) }
    }
    /// A masked TLV for a known field.
    pub fn masked(field: OxmField, value: &[u8], mask: &[u8]) -> Oxm {
        let i = field.info();
        let mut b = [0u8; 32];
        let n = value.len().min(16);
        let m = mask.len().min(16);
        b[..n].copy_from_slice(&value[..n]);
        b[n..n + m].copy_from_slice(&mask[..m]);
        Oxm { class: i.class, field: i.field, has_mask: true, body: OxmBody::Inline((n + m) as u8, b) }
    }
    /// An integer-valued field, truncated to the field's width.
    pub fn int(field: OxmField, v: u64) -> Oxm {
        let n = field.info().len as usize;
        let b = v.to_be_bytes();
        Oxm::new(field, &b[8 - n.min(8)..])
    }
    /// A masked integer-valued field.
    pub fn int_masked(field: OxmField, v: u64, mask: u64) -> Oxm {
        let n = field.info().len as usize;
        let b = v.to_be_bytes();
        let m = mask.to_be_bytes();
        Oxm::masked(field, &b[8 - n.min(8)..], &m[8 - n.min(8)..])
    }

    /// The known field, if any.
    pub fn field(&self) -> Option<OxmField> {
        if self.class == OFPXMC_EXPERIMENTER {
            let b = self.body.as_slice();
            if b.len() == 7
                && b.get(..4) == Some(&ONF_EXPERIMENTER_ID.to_be_bytes()[..])
                && b.get(4..6) == Some(&ONF_ET_PBB_UCA.to_be_bytes()[..])
                && !self.has_mask
            {
                return Some(OxmField::PbbUca);
            }
            return None;
        }
        OxmField::from_class_field(self.class, self.field)
    }

    /// The 32-bit TLV header. Its length byte is the body length; a body over 255 bytes cannot be encoded
    /// ([`Oxm::emit`] refuses it) and shows here only its low 8 bits.
    pub fn header(&self) -> u32 {
        (self.class as u32) << 16
            | ((self.field as u32) & 0x7f) << 9
            | (self.has_mask as u32) << 8
            | (self.body.as_slice().len() as u32 & 0xff)
    }

    /// The value bytes (for experimenter fields: after the experimenter header).
    pub fn value(&self) -> &[u8] {
        let b = self.body.as_slice();
        if self.class == OFPXMC_EXPERIMENTER {
            let skip = if self.field() == Some(OxmField::PbbUca) { 6 } else { 4 };
            return b.get(skip..).unwrap_or(&[]);
        }
        if self.has_mask {
            b.get(..b.len() / 2).unwrap_or(&[])
        } else {
            b
        }
    }
    /// The mask bytes, if present.
    pub fn mask(&self) -> Option<&[u8]> {
        if !self.has_mask || self.class == OFPXMC_EXPERIMENTER {
            return None;
        }
        let b = self.body.as_slice();
        b.get(b.len() / 2..)
    }
    /// The value as a big-endian unsigned integer (last 8 bytes if longer).
    pub fn value_u64(&self) -> u64 {
        be_u64(self.value())
    }
    /// The value as a MAC address, if 6 bytes long.
    pub fn value_mac(&self) -> Option<MacAddr> {
        <[u8; 6]>::try_from(self.value()).ok().map(MacAddr)
    }
    /// The value as an IPv4 address, if 4 bytes long.
    pub fn value_ipv4(&self) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.value()).ok().map(Ipv4Addr::from)
    }
    /// The value as an IPv6 address, if 16 bytes long.
    pub fn value_ipv6(&self) -> Option<Ipv6Addr> {
        <[u8; 16]>::try_from(self.value()).ok().map(Ipv6Addr::from)
    }

    /// Encoded size (header + body).
    pub fn wire_len(&self) -> usize {
        4 + self.body.as_slice().len()
    }

    /// Parses one TLV.
    pub fn parse(r: &mut Reader<'_>) -> Result<Oxm, DecodeError> {
        let start = r.offset();
        let h = r.u32()?;
        let class = (h >> 16) as u16;
        let field = ((h >> 9) & 0x7f) as u8;
        let has_mask = h & 0x100 != 0;
        let len = (h & 0xff) as usize;
        let body = r.bytes(len).map_err(|_| {
            r.err_at(start, format!("OXM TLV 0x{:08x} claims {} bytes, only {} left", h, len, r.remaining()))
        })?;
        if class != OFPXMC_EXPERIMENTER {
            if let Some(f) = OxmField::from_class_field(class, field) {
                let want = f.info().len as usize * if has_mask { 2 } else { 1 };
                if len != want {
                    return Err(r.err_at(
                        start,
                        format!("OXM {} length {} does not match {} (has_mask={})", f.name(), len, want, has_mask),
                    ));
                }
            } else if has_mask && !len.is_multiple_of(2) {
                return Err(r.err_at(start, format!("masked OXM 0x{:08x} has odd length {}", h, len)));
            }
        } else if len < 4 {
            return Err(r.err_at(start, format!("experimenter OXM length {} is shorter than 4", len)));
        }
        Ok(Oxm { class, field, has_mask, body: OxmBody::new(body) })
    }

    /// Appends the TLV; fails if the body is longer than the 8-bit length of the TLV header holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let body = self.body.as_slice();
        if body.len() > MAX_OXM_BODY {
            return Err(EncodeError::TooLong { what: "an OXM TLV body", length: body.len(), limit: MAX_OXM_BODY });
        }
        out.put_u32(self.header());
        out.extend_from_slice(body);
        Ok(())
    }
}

/// Big-endian integer from up to 8 bytes (longer inputs: last 8 bytes).
pub fn be_u64(b: &[u8]) -> u64 {
    let s = if b.len() > 8 { &b[b.len() - 8..] } else { b };
    s.iter().fold(0u64, |a, &x| a << 8 | x as u64)
}

/// An OpenFlow 1.3 match (`OFPMT_OXM`): an ordered list of OXM TLVs.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Match {
    /// The TLVs, in wire order.
    pub fields: Vec<Oxm>,
}

macro_rules! int_builders {
    ($( $fn:ident, $fnm:ident, $var:ident, $t:ty; )*) => {$(
        #[doc = concat!("Adds an exact `", stringify!($fn), "` match.")]
        pub fn $fn(self, v: $t) -> Self { self.with(Oxm::int(OxmField::$var, v as u64)) }
        #[doc = concat!("Adds a masked `", stringify!($fn), "` match.")]
        pub fn $fnm(self, v: $t, mask: $t) -> Self { self.with(Oxm::int_masked(OxmField::$var, v as u64, mask as u64)) }
    )*};
}
macro_rules! int_builders_nomask {
    ($( $fn:ident, $var:ident, $t:ty; )*) => {$(
        #[doc = concat!("Adds an exact `", stringify!($fn), "` match.")]
        pub fn $fn(self, v: $t) -> Self { self.with(Oxm::int(OxmField::$var, v as u64)) }
    )*};
}
macro_rules! mac_builders {
    ($( $fn:ident, $fnm:ident, $var:ident; )*) => {$(
        #[doc = concat!("Adds an exact `", stringify!($fn), "` match.")]
        pub fn $fn(self, v: MacAddr) -> Self { self.with(Oxm::new(OxmField::$var, &v.0)) }
        #[doc = concat!("Adds a masked `", stringify!($fn), "` match.")]
        pub fn $fnm(self, v: MacAddr, mask: MacAddr) -> Self { self.with(Oxm::masked(OxmField::$var, &v.0, &mask.0)) }
    )*};
}
macro_rules! ip_builders {
    ($( $fn:ident, $fnm:ident, $var:ident, $t:ty; )*) => {$(
        #[doc = concat!("Adds an exact `", stringify!($fn), "` match.")]
        pub fn $fn(self, v: $t) -> Self { self.with(Oxm::new(OxmField::$var, &v.octets())) }
        #[doc = concat!("Adds a masked `", stringify!($fn), "` match.")]
        pub fn $fnm(self, v: $t, mask: $t) -> Self { self.with(Oxm::masked(OxmField::$var, &v.octets(), &mask.octets())) }
    )*};
}

impl Match {
    /// An empty match (matches everything).
    pub fn new() -> Match {
        Match { fields: Vec::new() }
    }
    /// Appends a TLV.
    pub fn with(mut self, oxm: Oxm) -> Self {
        self.fields.push(oxm);
        self
    }
    /// The first TLV for `field`.
    pub fn get(&self, field: OxmField) -> Option<&Oxm> {
        self.fields.iter().find(|o| o.field() == Some(field))
    }
    /// The in_port value, if matched.
    pub fn in_port_value(&self) -> Option<u32> {
        self.get(OxmField::InPort).map(|o| o.value_u64() as u32)
    }

    int_builders! {
        metadata, metadata_masked, Metadata, u64;
        vlan_vid, vlan_vid_masked, VlanVid, u16;
        ipv6_flabel, ipv6_flabel_masked, Ipv6Flabel, u32;
        pbb_isid, pbb_isid_masked, PbbIsid, u32;
        tunnel_id, tunnel_id_masked, TunnelId, u64;
        ipv6_exthdr, ipv6_exthdr_masked, Ipv6Exthdr, u16;
        pkt_mark, pkt_mark_masked, PktMark, u32;
        ct_state, ct_state_masked, CtState, u32;
        ct_mark, ct_mark_masked, CtMark, u32;
    }
    int_builders_nomask! {
        in_port, InPort, u32;
        in_phy_port, InPhyPort, u32;
        eth_type, EthType, u16;
        vlan_pcp, VlanPcp, u8;
        ip_dscp, IpDscp, u8;
        ip_ecn, IpEcn, u8;
        ip_proto, IpProto, u8;
        tcp_src, TcpSrc, u16;
        tcp_dst, TcpDst, u16;
        udp_src, UdpSrc, u16;
        udp_dst, UdpDst, u16;
        sctp_src, SctpSrc, u16;
        sctp_dst, SctpDst, u16;
        icmpv4_type, Icmpv4Type, u8;
        icmpv4_code, Icmpv4Code, u8;
        arp_op, ArpOp, u16;
        icmpv6_type, Icmpv6Type, u8;
        icmpv6_code, Icmpv6Code, u8;
        mpls_label, MplsLabel, u32;
        mpls_tc, MplsTc, u8;
        mpls_bos, MplsBos, u8;
        conj_id, ConjId, u32;
        ct_zone, CtZone, u16;
    }
    mac_builders! {
        eth_dst, eth_dst_masked, EthDst;
        eth_src, eth_src_masked, EthSrc;
        arp_sha, arp_sha_masked, ArpSha;
        arp_tha, arp_tha_masked, ArpTha;
    }
    ip_builders! {
        ipv4_src, ipv4_src_masked, Ipv4Src, Ipv4Addr;
        ipv4_dst, ipv4_dst_masked, Ipv4Dst, Ipv4Addr;
        arp_spa, arp_spa_masked, ArpSpa, Ipv4Addr;
        arp_tpa, arp_tpa_masked, ArpTpa, Ipv4Addr;
        ipv6_src, ipv6_src_masked, Ipv6Src, Ipv6Addr;
        ipv6_dst, ipv6_dst_masked, Ipv6Dst, Ipv6Addr;
    }
    /// Adds an exact `ipv6_nd_target` match.
    pub fn ipv6_nd_target(self, v: Ipv6Addr) -> Self {
        self.with(Oxm::new(OxmField::Ipv6NdTarget, &v.octets()))
    }
    /// Adds an exact `ipv6_nd_sll` match.
    pub fn ipv6_nd_sll(self, v: MacAddr) -> Self {
        self.with(Oxm::new(OxmField::Ipv6NdSll, &v.0))
    }
    /// Adds an exact `ipv6_nd_tll` match.
    pub fn ipv6_nd_tll(self, v: MacAddr) -> Self {
        self.with(Oxm::new(OxmField::Ipv6NdTll, &v.0))
    }
    /// Adds a Nicira register match (`reg0`..`reg7`).
    pub fn reg(self, n: u8, v: u32) -> Self {
        let f = [
            OxmField::Reg0,
            OxmField::Reg1,
            OxmField::Reg2,
            OxmField::Reg3,
            OxmField::Reg4,
            OxmField::Reg5,
            OxmField::Reg6,
            OxmField::Reg7,
        ];
        match f.get(n as usize) {
            Some(f) => self.with(Oxm::int(*f, v as u64)),
            None => self,
        }
    }

    /// Length of the TLVs alone.
    pub fn oxm_len(&self) -> usize {
        self.fields.iter().map(Oxm::wire_len).sum()
    }
    /// Value of the `length` field of `ofp_match` (4 + TLVs, without padding).
    pub fn length(&self) -> usize {
        4 + self.oxm_len()
    }

    /// Parses an `ofp_match` including its trailing padding.
    pub fn parse(r: &mut Reader<'_>) -> Result<Match, DecodeError> {
        let start = r.offset();
        let mtype = r.u16()?;
        let len = r.u16()? as usize;
        if mtype != OFPMT_OXM {
            return Err(r.err_at(start, format!("match type {} is not OFPMT_OXM", mtype)));
        }
        if len < 4 {
            return Err(r.err_at(start + 2, format!("match length {} is shorter than 4", len)));
        }
        let mut body =
            r.sub(len - 4).map_err(|_| r.err_at(start + 2, format!("match length {} exceeds the message", len)))?;
        let fields = Self::parse_oxms(&mut body)?;
        let pad = crate::wire::pad8(len) - len;
        r.skip(pad).map_err(|_| r.err(format!("match padding of {} bytes missing", pad)))?;
        Ok(Match { fields })
    }

    /// Parses a bare TLV list (NXM-style, no header) consuming all of `r`.
    pub fn parse_oxms(r: &mut Reader<'_>) -> Result<Vec<Oxm>, DecodeError> {
        // Most TLVs are 6..12 bytes: reserve once instead of growing.
        let mut fields = Vec::with_capacity(r.remaining() / 8 + 1);
        while !r.is_empty() {
            fields.push(Oxm::parse(r)?);
        }
        Ok(fields)
    }

    /// Appends the `ofp_match` with its padding (the length field excludes the padding); fails if a TLV or
    /// the match is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(OFPMT_OXM);
        out.put_u16(0);
        for f in &self.fields {
            f.emit(out)?;
        }
        out.set_len16(start + 2, start, "a match")?;
        out.pad8_from(start);
        Ok(())
    }
}

/// JSON of OXM TLVs (`OXMTlv`) and the 1.3 match (`OFPMatch`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{be_u64, Match, Oxm, OxmBody, OxmField, ValueKind};
    use crate::json::{base64, class, cls, hex_header, JsonError, R};
    use crate::MacAddr;
    use serde_json::{json, Value};
    use std::net::{Ipv4Addr, Ipv6Addr};

    pub(crate) fn be_value(b: &[u8]) -> Value {
        if b.len() <= 8 {
            json!(be_u64(b))
        } else {
            let n = b.iter().fold(0u128, |a, &x| a << 8 | x as u128);
            match u64::try_from(n) {
                Ok(v) => json!(v),
                Err(_) => json!(n.to_string()),
            }
        }
    }

    fn typed_value(kind: ValueKind, b: &[u8]) -> Value {
        match kind {
            ValueKind::Int => be_value(b),
            ValueKind::Mac => match <[u8; 6]>::try_from(b) {
                Ok(a) => json!(MacAddr(a).to_string()),
                Err(_) => json!(base64(b)),
            },
            ValueKind::Ipv4 => match <[u8; 4]>::try_from(b) {
                Ok(a) => json!(std::net::Ipv4Addr::from(a).to_string()),
                Err(_) => json!(base64(b)),
            },
            ValueKind::Ipv6 => match <[u8; 16]>::try_from(b) {
                Ok(a) => json!(std::net::Ipv6Addr::from(a).to_string()),
                Err(_) => json!(base64(b)),
            },
        }
    }

    /// An OXM TLV as `{"OXMTlv": {"field", "mask", "value"}}`.
    pub fn oxm_json(o: &Oxm) -> Value {
        let field =
            o.field().filter(|f| *f != OxmField::PbbUcaBasic || crate::json::version() >= crate::OFP_VERSION_1_4);
        let (name, kind) = match field {
            Some(f) => (f.name().to_string(), f.info().kind),
            None => (format!("field_0x{:08x}", o.header() & 0xffff_ff00), ValueKind::Int),
        };
        if field.is_none() {
            // Unknown field (or 1.4's `pbb_uca` in a 1.3 message): the name carries class/field/has-mask, the value is the raw body.
            return cls("OXMTlv", json!({"field": name, "mask": null, "value": base64(o.body.as_slice())}));
        }
        let mask = o.mask().map(|m| typed_value(kind, m)).unwrap_or(Value::Null);
        cls("OXMTlv", json!({"field": name, "mask": mask, "value": typed_value(kind, o.value())}))
    }

    /// A 1.3 match as `{"OFPMatch": {...}}`.
    pub fn match13_json(m: &Match) -> Value {
        cls(
            "OFPMatch",
            json!({"length": m.length(), "oxm_fields": m.fields.iter().map(oxm_json).collect::<Vec<_>>(), "type": 1}),
        )
    }

    pub(crate) fn kind_bytes(kind: ValueKind, len: usize, v: &Value) -> R<Vec<u8>> {
        let e = || JsonError(format!("bad OXM value {}", v));
        Ok(match kind {
            ValueKind::Int => {
                let n: u128 = match v {
                    Value::Number(n) => n.as_u64().ok_or_else(e)? as u128,
                    Value::String(s) => s.parse().map_err(|_| e())?,
                    _ => return Err(e()),
                };
                let b = n.to_be_bytes();
                b.get(16usize.saturating_sub(len)..).ok_or_else(e)?.to_vec()
            }
            ValueKind::Mac => v.as_str().and_then(|s| s.parse::<MacAddr>().ok()).ok_or_else(e)?.0.to_vec(),
            ValueKind::Ipv4 => v.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok()).ok_or_else(e)?.octets().to_vec(),
            ValueKind::Ipv6 => v.as_str().and_then(|s| s.parse::<Ipv6Addr>().ok()).ok_or_else(e)?.octets().to_vec(),
        })
    }

    /// The field Ryu's JSON names `name`, in the version being read.
    pub(crate) fn field_by_name(name: &str) -> Option<OxmField> {
        match OxmField::from_name(name)? {
            OxmField::PbbUca if crate::json::version() >= crate::OFP_VERSION_1_4 => Some(OxmField::PbbUcaBasic),
            f => Some(f),
        }
    }

    /// An OXM TLV from `{"OXMTlv": {...}}`.
    pub fn oxm_from_json(v: &Value) -> Result<Oxm, JsonError> {
        let o = class(v)?;
        let name = o.str("field")?;
        if let Some(h) = hex_header(name) {
            let body = o.bytes("value")?;
            return Ok(Oxm {
                class: (h >> 16) as u16,
                field: ((h >> 9) & 0x7f) as u8,
                has_mask: h & 0x100 != 0,
                body: OxmBody::new(&body),
            });
        }
        let f = field_by_name(name).ok_or_else(|| JsonError(format!("unknown OXM field {}", name)))?;
        let i = f.info();
        let value = kind_bytes(i.kind, i.len as usize, o.v("value")?)?;
        Ok(match o.opt("mask") {
            Some(m) => Oxm::masked(f, &value, &kind_bytes(i.kind, i.len as usize, m)?),
            None => Oxm::new(f, &value),
        })
    }

    /// A 1.3 match from `{"OFPMatch": {...}}`.
    pub(crate) fn match13_from_json(v: &Value) -> R<Match> {
        let o = class(v)?;
        Ok(Match { fields: o.list("oxm_fields", oxm_from_json)? })
    }
}
