//! The OpenFlow 1.0 match (`ofp_match`) and its wildcard bits.

use crate::error::DecodeError;
use crate::wire::Reader;
use crate::MacAddr;
use std::net::Ipv4Addr;

/// Wildcard bits (`OFPFW_*`).
#[allow(missing_docs)]
pub mod wildcards {
    pub const IN_PORT: u32 = 1 << 0;
    pub const DL_VLAN: u32 = 1 << 1;
    pub const DL_SRC: u32 = 1 << 2;
    pub const DL_DST: u32 = 1 << 3;
    pub const DL_TYPE: u32 = 1 << 4;
    pub const NW_PROTO: u32 = 1 << 5;
    pub const TP_SRC: u32 = 1 << 6;
    pub const TP_DST: u32 = 1 << 7;
    pub const NW_SRC_SHIFT: u32 = 8;
    pub const NW_SRC_ALL: u32 = 32 << NW_SRC_SHIFT;
    pub const NW_SRC_MASK: u32 = 0x3f << NW_SRC_SHIFT;
    pub const NW_DST_SHIFT: u32 = 14;
    pub const NW_DST_ALL: u32 = 32 << NW_DST_SHIFT;
    pub const NW_DST_MASK: u32 = 0x3f << NW_DST_SHIFT;
    pub const DL_VLAN_PCP: u32 = 1 << 20;
    pub const NW_TOS: u32 = 1 << 21;
    pub const ALL: u32 = (1 << 22) - 1;
}

/// The OpenFlow 1.0 match (`ofp_match`, 40 bytes, wildcard based).
///
/// [`Match::new`] wildcards everything; the builder methods clear the
/// corresponding wildcard bit as they set a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// `OFPFW_*` wildcard bits.
    pub wildcards: u32,
    /// Input port.
    pub in_port: u16,
    /// Ethernet source.
    pub dl_src: MacAddr,
    /// Ethernet destination.
    pub dl_dst: MacAddr,
    /// VLAN id.
    pub dl_vlan: u16,
    /// VLAN priority.
    pub dl_vlan_pcp: u8,
    /// Ethernet type.
    pub dl_type: u16,
    /// IP ToS.
    pub nw_tos: u8,
    /// IP protocol / ARP opcode.
    pub nw_proto: u8,
    /// IP source.
    pub nw_src: Ipv4Addr,
    /// IP destination.
    pub nw_dst: Ipv4Addr,
    /// L4 source port.
    pub tp_src: u16,
    /// L4 destination port.
    pub tp_dst: u16,
}

impl Default for Match {
    fn default() -> Self {
        Match::new()
    }
}

impl Match {
    /// Wire size.
    pub const LEN: usize = 40;

    /// A match that wildcards every field.
    pub fn new() -> Match {
        Match {
            wildcards: wildcards::ALL,
            in_port: 0,
            dl_src: MacAddr::ZERO,
            dl_dst: MacAddr::ZERO,
            dl_vlan: 0,
            dl_vlan_pcp: 0,
            dl_type: 0,
            nw_tos: 0,
            nw_proto: 0,
            nw_src: Ipv4Addr::UNSPECIFIED,
            nw_dst: Ipv4Addr::UNSPECIFIED,
            tp_src: 0,
            tp_dst: 0,
        }
    }
    /// Matches the input port.
    pub fn in_port(mut self, p: u16) -> Self {
        self.in_port = p;
        self.wildcards &= !wildcards::IN_PORT;
        self
    }
    /// Matches the Ethernet source.
    pub fn dl_src(mut self, m: MacAddr) -> Self {
        self.dl_src = m;
        self.wildcards &= !wildcards::DL_SRC;
        self
    }
    /// Matches the Ethernet destination.
    pub fn dl_dst(mut self, m: MacAddr) -> Self {
        self.dl_dst = m;
        self.wildcards &= !wildcards::DL_DST;
        self
    }
    /// Matches the VLAN id.
    pub fn dl_vlan(mut self, v: u16) -> Self {
        self.dl_vlan = v;
        self.wildcards &= !wildcards::DL_VLAN;
        self
    }
    /// Matches the VLAN priority.
    pub fn dl_vlan_pcp(mut self, v: u8) -> Self {
        self.dl_vlan_pcp = v;
        self.wildcards &= !wildcards::DL_VLAN_PCP;
        self
    }
    /// Matches the Ethernet type.
    pub fn dl_type(mut self, v: u16) -> Self {
        self.dl_type = v;
        self.wildcards &= !wildcards::DL_TYPE;
        self
    }
    /// Matches IP ToS.
    pub fn nw_tos(mut self, v: u8) -> Self {
        self.nw_tos = v;
        self.wildcards &= !wildcards::NW_TOS;
        self
    }
    /// Matches IP protocol.
    pub fn nw_proto(mut self, v: u8) -> Self {
        self.nw_proto = v;
        self.wildcards &= !wildcards::NW_PROTO;
        self
    }
    /// Matches the IP source with a prefix length (0..=32).
    pub fn nw_src(mut self, a: Ipv4Addr, prefix: u8) -> Self {
        self.nw_src = a;
        let w = 32 - prefix.min(32) as u32;
        self.wildcards = (self.wildcards & !wildcards::NW_SRC_MASK) | (w << wildcards::NW_SRC_SHIFT);
        self
    }
    /// Matches the IP destination with a prefix length (0..=32).
    pub fn nw_dst(mut self, a: Ipv4Addr, prefix: u8) -> Self {
        self.nw_dst = a;
        let w = 32 - prefix.min(32) as u32;
        self.wildcards = (self.wildcards & !wildcards::NW_DST_MASK) | (w << wildcards::NW_DST_SHIFT);
        self
    }
    /// Matches the L4 source port.
    pub fn tp_src(mut self, v: u16) -> Self {
        self.tp_src = v;
        self.wildcards &= !wildcards::TP_SRC;
        self
    }
    /// Matches the L4 destination port.
    pub fn tp_dst(mut self, v: u16) -> Self {
        self.tp_dst = v;
        self.wildcards &= !wildcards::TP_DST;
        self
    }

    /// Parses the 40-byte match.
    pub fn parse(r: &mut Reader<'_>) -> Result<Match, DecodeError> {
        let wildcards = r.u32()?;
        let in_port = r.u16()?;
        let dl_src = MacAddr(r.array()?);
        let dl_dst = MacAddr(r.array()?);
        let dl_vlan = r.u16()?;
        let dl_vlan_pcp = r.u8()?;
        r.skip(1)?;
        let dl_type = r.u16()?;
        let nw_tos = r.u8()?;
        let nw_proto = r.u8()?;
        r.skip(2)?;
        Ok(Match {
            wildcards,
            in_port,
            dl_src,
            dl_dst,
            dl_vlan,
            dl_vlan_pcp,
            dl_type,
            nw_tos,
            nw_proto,
            nw_src: Ipv4Addr::from(r.array::<4>()?),
            nw_dst: Ipv4Addr::from(r.array::<4>()?),
            tp_src: r.u16()?,
            tp_dst: r.u16()?,
        })
    }
    /// Appends the 40-byte match.
    #[inline]
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + Self::LEN, 0);
        if let Some(to) = out.last_chunk_mut::<{ Self::LEN }>() {
            self.write_to(to);
        }
    }

    /// Writes the match into `m`, every field where it goes (zeroed padding left as it is). Built on the stack and
    /// copied instead, the fields' small stores were read back by wide loads that store forwarding cannot serve.
    #[inline]
    pub fn write_to(&self, m: &mut [u8; Self::LEN]) {
        m[0..4].copy_from_slice(&self.wildcards.to_be_bytes());
        m[4..6].copy_from_slice(&self.in_port.to_be_bytes());
        m[6..12].copy_from_slice(&self.dl_src.0);
        m[12..18].copy_from_slice(&self.dl_dst.0);
        m[18..20].copy_from_slice(&self.dl_vlan.to_be_bytes());
        m[20] = self.dl_vlan_pcp;
        m[22..24].copy_from_slice(&self.dl_type.to_be_bytes());
        m[24] = self.nw_tos;
        m[25] = self.nw_proto;
        m[28..32].copy_from_slice(&self.nw_src.octets());
        m[32..36].copy_from_slice(&self.nw_dst.octets());
        m[36..38].copy_from_slice(&self.tp_src.to_be_bytes());
        m[38..40].copy_from_slice(&self.tp_dst.to_be_bytes());
    }
}

/// JSON of the 1.0 match (`OFPMatch`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::Match;
    use crate::json::{class, cls, R};
    use serde_json::{json, Value};

    /// A 1.0 match as `{"OFPMatch": {...}}`.
    pub fn match10_json(m: &Match) -> Value {
        cls(
            "OFPMatch",
            json!({"wildcards": m.wildcards, "in_port": m.in_port, "dl_src": m.dl_src.to_string(), "dl_dst": m.dl_dst.to_string(),
               "dl_vlan": m.dl_vlan, "dl_vlan_pcp": m.dl_vlan_pcp, "dl_type": m.dl_type, "nw_tos": m.nw_tos,
               "nw_proto": m.nw_proto, "nw_src": m.nw_src.to_string(), "nw_dst": m.nw_dst.to_string(),
               "tp_src": m.tp_src, "tp_dst": m.tp_dst}),
        )
    }

    /// A 1.0 match from `{"OFPMatch": {...}}`.
    pub(crate) fn match10_from_json(v: &Value) -> R<Match> {
        let o = class(v)?;
        Ok(Match {
            wildcards: o.u32("wildcards")?,
            in_port: o.u16("in_port")?,
            dl_src: o.mac("dl_src")?,
            dl_dst: o.mac("dl_dst")?,
            dl_vlan: o.u16("dl_vlan")?,
            dl_vlan_pcp: o.u8("dl_vlan_pcp")?,
            dl_type: o.u16("dl_type")?,
            nw_tos: o.u8("nw_tos")?,
            nw_proto: o.u8("nw_proto")?,
            nw_src: o.ipv4("nw_src")?,
            nw_dst: o.ipv4("nw_dst")?,
            tp_src: o.u16("tp_src")?,
            tp_dst: o.u16("tp_dst")?,
        })
    }
}
