//! OpenFlow 1.0 (wire version 0x01) messages.

use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header, HEADER_LEN};
use crate::nx::{ActionList, NxAction, NX_VENDOR_ID};
use crate::types::{FixedStr, MacAddr};
use crate::wire::{len16, Put, Reader};
use std::net::Ipv4Addr;

/// Wire version of OpenFlow 1.0.
pub const VERSION: u8 = 0x01;
/// Buffer id meaning "no buffer".
pub const NO_BUFFER: u32 = 0xffff_ffff;

/// Reserved port numbers (`OFPP_*`, 16-bit in 1.0).
#[allow(missing_docs)]
pub mod port {
    pub const MAX: u16 = 0xff00;
    pub const IN_PORT: u16 = 0xfff8;
    pub const TABLE: u16 = 0xfff9;
    pub const NORMAL: u16 = 0xfffa;
    pub const FLOOD: u16 = 0xfffb;
    pub const ALL: u16 = 0xfffc;
    pub const CONTROLLER: u16 = 0xfffd;
    pub const LOCAL: u16 = 0xfffe;
    pub const NONE: u16 = 0xffff;
}

/// Message type numbers (`OFPT_*`).
#[allow(missing_docs)]
pub mod msg_type {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const VENDOR: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const FEATURES_REPLY: u8 = 6;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
    pub const PACKET_IN: u8 = 10;
    pub const FLOW_REMOVED: u8 = 11;
    pub const PORT_STATUS: u8 = 12;
    pub const PACKET_OUT: u8 = 13;
    pub const FLOW_MOD: u8 = 14;
    pub const PORT_MOD: u8 = 15;
    pub const STATS_REQUEST: u8 = 16;
    pub const STATS_REPLY: u8 = 17;
    pub const BARRIER_REQUEST: u8 = 18;
    pub const BARRIER_REPLY: u8 = 19;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 20;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 21;
}

/// `OFPT_*` name of a 1.0 message type.
pub fn type_name(t: u8) -> &'static str {
    const NAMES: [&str; 22] = [
        "OFPT_HELLO",
        "OFPT_ERROR",
        "OFPT_ECHO_REQUEST",
        "OFPT_ECHO_REPLY",
        "OFPT_VENDOR",
        "OFPT_FEATURES_REQUEST",
        "OFPT_FEATURES_REPLY",
        "OFPT_GET_CONFIG_REQUEST",
        "OFPT_GET_CONFIG_REPLY",
        "OFPT_SET_CONFIG",
        "OFPT_PACKET_IN",
        "OFPT_FLOW_REMOVED",
        "OFPT_PORT_STATUS",
        "OFPT_PACKET_OUT",
        "OFPT_FLOW_MOD",
        "OFPT_PORT_MOD",
        "OFPT_STATS_REQUEST",
        "OFPT_STATS_REPLY",
        "OFPT_BARRIER_REQUEST",
        "OFPT_BARRIER_REPLY",
        "OFPT_QUEUE_GET_CONFIG_REQUEST",
        "OFPT_QUEUE_GET_CONFIG_REPLY",
    ];
    NAMES.get(t as usize).copied().unwrap_or("OFPT_UNKNOWN")
}

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
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.wildcards);
        out.put_u16(self.in_port);
        out.extend_from_slice(&self.dl_src.0);
        out.extend_from_slice(&self.dl_dst.0);
        out.put_u16(self.dl_vlan);
        out.put_u8(self.dl_vlan_pcp);
        out.put_u8(0);
        out.put_u16(self.dl_type);
        out.put_u8(self.nw_tos);
        out.put_u8(self.nw_proto);
        out.put_zeros(2);
        out.extend_from_slice(&self.nw_src.octets());
        out.extend_from_slice(&self.nw_dst.octets());
        out.put_u16(self.tp_src);
        out.put_u16(self.tp_dst);
    }
}

/// Action type numbers (`OFPAT_*`).
#[allow(missing_docs)]
pub mod action_type {
    pub const OUTPUT: u16 = 0;
    pub const SET_VLAN_VID: u16 = 1;
    pub const SET_VLAN_PCP: u16 = 2;
    pub const STRIP_VLAN: u16 = 3;
    pub const SET_DL_SRC: u16 = 4;
    pub const SET_DL_DST: u16 = 5;
    pub const SET_NW_SRC: u16 = 6;
    pub const SET_NW_DST: u16 = 7;
    pub const SET_NW_TOS: u16 = 8;
    pub const SET_TP_SRC: u16 = 9;
    pub const SET_TP_DST: u16 = 10;
    pub const ENQUEUE: u16 = 11;
    pub const VENDOR: u16 = 0xffff;
}

/// An OpenFlow 1.0 action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Output to a port.
    Output {
        /// Port.
        port: u16,
        /// Bytes to send to the controller.
        max_len: u16,
    },
    /// Set the VLAN id.
    SetVlanVid(u16),
    /// Set the VLAN priority.
    SetVlanPcp(u8),
    /// Strip the VLAN tag.
    StripVlan,
    /// Set Ethernet source.
    SetDlSrc(MacAddr),
    /// Set Ethernet destination.
    SetDlDst(MacAddr),
    /// Set IP source.
    SetNwSrc(Ipv4Addr),
    /// Set IP destination.
    SetNwDst(Ipv4Addr),
    /// Set IP ToS.
    SetNwTos(u8),
    /// Set L4 source port.
    SetTpSrc(u16),
    /// Set L4 destination port.
    SetTpDst(u16),
    /// Output to a queue.
    Enqueue {
        /// Port.
        port: u16,
        /// Queue.
        queue_id: u32,
    },
    /// Nicira extension action.
    Nx(NxAction<Action>),
    /// Other vendor action; `data` follows the vendor id. Encoded padded with zeros to a multiple of 8 bytes
    /// (`ofp_action_vendor_header`: "Length is a multiple of 8"); a decoded action keeps that padding in `data`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown action type; body after type/len, padded with zeros to a multiple of 8 bytes when encoded.
    Unknown {
        /// Action type.
        action_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl Action {
    /// Output to `port` sending whole packets to the controller.
    pub fn output(port: u16) -> Action {
        Action::Output { port, max_len: 0xffff }
    }
    /// Wire type.
    pub fn action_type(&self) -> u16 {
        use action_type::*;
        match self {
            Action::Output { .. } => OUTPUT,
            Action::SetVlanVid(_) => SET_VLAN_VID,
            Action::SetVlanPcp(_) => SET_VLAN_PCP,
            Action::StripVlan => STRIP_VLAN,
            Action::SetDlSrc(_) => SET_DL_SRC,
            Action::SetDlDst(_) => SET_DL_DST,
            Action::SetNwSrc(_) => SET_NW_SRC,
            Action::SetNwDst(_) => SET_NW_DST,
            Action::SetNwTos(_) => SET_NW_TOS,
            Action::SetTpSrc(_) => SET_TP_SRC,
            Action::SetTpDst(_) => SET_TP_DST,
            Action::Enqueue { .. } => ENQUEUE,
            Action::Nx(_) | Action::Vendor { .. } => VENDOR,
            Action::Unknown { action_type, .. } => *action_type,
        }
    }

    /// Parses one action.
    pub fn parse(r: &mut Reader<'_>) -> Result<Action, DecodeError> {
        use action_type::*;
        let start = r.offset();
        let raw_all = r.clone().rest();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 8 || !len.is_multiple_of(8) {
            return Err(r.err_at(start + 2, format!("action length {} is not a positive multiple of 8", len)));
        }
        if len > raw_all.len() {
            return Err(r.err_at(start + 2, format!("action length {} exceeds the {} bytes left", len, raw_all.len())));
        }
        let raw = &raw_all[..len];
        let mut b = r.sub(len - 4)?;
        let want = match t {
            OUTPUT | SET_VLAN_VID | SET_VLAN_PCP | STRIP_VLAN | SET_NW_SRC | SET_NW_DST | SET_NW_TOS | SET_TP_SRC
            | SET_TP_DST => Some(8),
            SET_DL_SRC | SET_DL_DST | ENQUEUE => Some(16),
            _ => None,
        };
        if let Some(w) = want {
            if w != len {
                return Err(r.err_at(start + 2, format!("action type {} length {} should be {}", t, len, w)));
            }
        }
        Ok(match t {
            OUTPUT => Action::Output { port: b.u16()?, max_len: b.u16()? },
            SET_VLAN_VID => Action::SetVlanVid(b.u16()?),
            SET_VLAN_PCP => Action::SetVlanPcp(b.u8()?),
            STRIP_VLAN => Action::StripVlan,
            SET_DL_SRC => Action::SetDlSrc(MacAddr(b.array()?)),
            SET_DL_DST => Action::SetDlDst(MacAddr(b.array()?)),
            SET_NW_SRC => Action::SetNwSrc(Ipv4Addr::from(b.array::<4>()?)),
            SET_NW_DST => Action::SetNwDst(Ipv4Addr::from(b.array::<4>()?)),
            SET_NW_TOS => Action::SetNwTos(b.u8()?),
            SET_TP_SRC => Action::SetTpSrc(b.u16()?),
            SET_TP_DST => Action::SetTpDst(b.u16()?),
            ENQUEUE => {
                let port = b.u16()?;
                b.skip(6)?;
                Action::Enqueue { port, queue_id: b.u32()? }
            }
            VENDOR => {
                let vendor = b.u32()?;
                if vendor == NX_VENDOR_ID && len >= 16 {
                    let st = b.u16()?;
                    Action::Nx(NxAction::parse(st, raw, &mut b))
                } else {
                    Action::Vendor { vendor, data: b.rest().to_vec() }
                }
            }
            _ => Action::Unknown { action_type: t, data: b.rest().to_vec() },
        })
    }

    /// Appends the action, padded to a multiple of 8 bytes; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Action::Nx(nx) = self {
            return nx.emit(out);
        }
        let start = out.len();
        out.put_u16(self.action_type());
        out.put_u16(0);
        match self {
            Action::Output { port, max_len } => {
                out.put_u16(*port);
                out.put_u16(*max_len);
            }
            Action::SetVlanVid(v) | Action::SetTpSrc(v) | Action::SetTpDst(v) => {
                out.put_u16(*v);
                out.put_zeros(2);
            }
            Action::SetVlanPcp(v) | Action::SetNwTos(v) => {
                out.put_u8(*v);
                out.put_zeros(3);
            }
            Action::StripVlan => out.put_zeros(4),
            Action::SetDlSrc(m) | Action::SetDlDst(m) => {
                out.extend_from_slice(&m.0);
                out.put_zeros(6);
            }
            Action::SetNwSrc(a) | Action::SetNwDst(a) => out.extend_from_slice(&a.octets()),
            Action::Enqueue { port, queue_id } => {
                out.put_u16(*port);
                out.put_zeros(6);
                out.put_u32(*queue_id);
            }
            Action::Vendor { vendor, data } => {
                out.put_u32(*vendor);
                out.extend_from_slice(data);
            }
            Action::Unknown { data, .. } => out.extend_from_slice(data),
            Action::Nx(_) => {}
        }
        out.pad8_from(start);
        out.set_len16(start + 2, start, "an action")
    }
}

impl ActionList for Action {
    fn parse_list(r: &mut Reader<'_>) -> Result<Vec<Self>, DecodeError> {
        let mut v = Vec::new();
        while !r.is_empty() {
            v.push(Action::parse(r)?);
        }
        Ok(v)
    }
    fn emit_list(list: &[Self], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        list.iter().try_for_each(|a| a.emit(out))
    }
}

/// `ofp_phy_port` (48 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PhyPort {
    /// Port number.
    pub port_no: u16,
    /// MAC address.
    pub hw_addr: MacAddr,
    /// Name.
    pub name: FixedStr<16>,
    /// `OFPPC_*`.
    pub config: u32,
    /// `OFPPS_*`.
    pub state: u32,
    /// Current features.
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Peer features.
    pub peer: u32,
}

impl PhyPort {
    /// Wire size.
    pub const LEN: usize = 48;
    /// Parses a port.
    pub fn parse(r: &mut Reader<'_>) -> Result<PhyPort, DecodeError> {
        Ok(PhyPort {
            port_no: r.u16()?,
            hw_addr: MacAddr(r.array()?),
            name: FixedStr(r.array()?),
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
        })
    }
    /// Appends the port.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.port_no);
        out.extend_from_slice(&self.hw_addr.0);
        out.extend_from_slice(&self.name.0);
        for v in [self.config, self.state, self.curr, self.advertised, self.supported, self.peer] {
            out.put_u32(v);
        }
    }
}

/// `OFPT_FEATURES_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id.
    pub datapath_id: u64,
    /// Buffers.
    pub n_buffers: u32,
    /// Tables.
    pub n_tables: u8,
    /// `OFPC_*`.
    pub capabilities: u32,
    /// Supported action bitmap.
    pub actions: u32,
    /// Ports.
    pub ports: Vec<PhyPort>,
}

/// Switch configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_FRAG_*`.
    pub flags: u16,
    /// Miss send length.
    pub miss_send_len: u16,
}

/// `OFPT_PACKET_IN` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketIn {
    /// Buffer id.
    pub buffer_id: u32,
    /// Frame length.
    pub total_len: u16,
    /// Input port.
    pub in_port: u16,
    /// `OFPR_*`.
    pub reason: u8,
    /// Frame.
    pub data: Vec<u8>,
}

/// `OFPT_FLOW_REMOVED` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowRemoved {
    /// Match.
    pub match_: Match,
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// `OFPRR_*`.
    pub reason: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
}

/// `OFPT_PORT_STATUS` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// `OFPPR_*`.
    pub reason: u8,
    /// Port.
    pub desc: PhyPort,
}

/// `OFPT_PACKET_OUT` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PacketOut {
    /// Buffer id or `NO_BUFFER`.
    pub buffer_id: u32,
    /// Input port.
    pub in_port: u16,
    /// Actions.
    pub actions: Vec<Action>,
    /// Frame.
    pub data: Vec<u8>,
}

impl PacketOut {
    /// Sends `data` with `actions` (unbuffered, in_port = `OFPP_NONE`).
    pub fn new(data: impl Into<Vec<u8>>, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut {
            buffer_id: NO_BUFFER,
            in_port: port::NONE,
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }
    /// Releases a buffered packet.
    pub fn buffered(buffer_id: u32, in_port: u16, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut { buffer_id, in_port, actions: actions.into_iter().collect(), data: Vec::new() }
    }
    /// Sets the input port.
    pub fn in_port(mut self, p: u16) -> Self {
        self.in_port = p;
        self
    }
}

/// `OFPT_FLOW_MOD` body.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMod {
    /// Match.
    pub match_: Match,
    /// Cookie.
    pub cookie: u64,
    /// `OFPFC_*`.
    pub command: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffer id.
    pub buffer_id: u32,
    /// Out port filter.
    pub out_port: u16,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Actions.
    pub actions: Vec<Action>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            match_: Match::new(),
            cookie: 0,
            command: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: 0x8000,
            buffer_id: NO_BUFFER,
            out_port: port::NONE,
            flags: 0,
            actions: Vec::new(),
        }
    }
}

impl FlowMod {
    /// An `OFPFC_ADD`.
    pub fn add(m: Match) -> FlowMod {
        FlowMod { match_: m, ..Default::default() }
    }
    /// An `OFPFC_MODIFY`.
    pub fn modify(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 1, ..Default::default() }
    }
    /// An `OFPFC_DELETE`.
    pub fn delete(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 3, ..Default::default() }
    }
    /// An `OFPFC_DELETE_STRICT`.
    pub fn delete_strict(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 4, ..Default::default() }
    }
    /// Sets `OFPFF_SEND_FLOW_REM`.
    pub fn send_flow_removed(mut self) -> Self {
        self.flags |= 1;
        self
    }
    /// Sets the priority.
    pub fn priority(mut self, p: u16) -> Self {
        self.priority = p;
        self
    }
    /// Sets the idle timeout.
    pub fn idle_timeout(mut self, t: u16) -> Self {
        self.idle_timeout = t;
        self
    }
    /// Sets the hard timeout.
    pub fn hard_timeout(mut self, t: u16) -> Self {
        self.hard_timeout = t;
        self
    }
    /// Sets the cookie.
    pub fn cookie(mut self, c: u64) -> Self {
        self.cookie = c;
        self
    }
    /// Sets the flags.
    pub fn flags(mut self, f: u16) -> Self {
        self.flags = f;
        self
    }
    /// Applies to a buffered packet.
    pub fn buffer_id(mut self, b: u32) -> Self {
        self.buffer_id = b;
        self
    }
    /// Sets the actions.
    pub fn actions(mut self, a: impl IntoIterator<Item = Action>) -> Self {
        self.actions = a.into_iter().collect();
        self
    }
}

/// `OFPT_PORT_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortMod {
    /// Port.
    pub port_no: u16,
    /// MAC.
    pub hw_addr: MacAddr,
    /// Config bits.
    pub config: u32,
    /// Which bits to change.
    pub mask: u32,
    /// Features to advertise.
    pub advertise: u32,
}

/// Flow/aggregate stats request body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowStatsRequest {
    /// Match.
    pub match_: Match,
    /// Table (0xff = all).
    pub table_id: u8,
    /// Out port filter.
    pub out_port: u16,
}

/// `ofp_flow_stats` (1.0).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowStats {
    /// Table.
    pub table_id: u8,
    /// Match.
    pub match_: Match,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Actions.
    pub actions: Vec<Action>,
}

/// `ofp_table_stats` (1.0).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Table.
    pub table_id: u8,
    /// Name.
    pub name: FixedStr<32>,
    /// Supported wildcards.
    pub wildcards: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Active entries.
    pub active_count: u32,
    /// Lookups.
    pub lookup_count: u64,
    /// Hits.
    pub matched_count: u64,
}

/// `ofp_port_stats` (1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortStats {
    /// Port.
    pub port_no: u16,
    /// Counters in spec order: rx_packets, tx_packets, rx_bytes, tx_bytes,
    /// rx_dropped, tx_dropped, rx_errors, tx_errors, rx_frame_err,
    /// rx_over_err, rx_crc_err, collisions.
    pub counters: [u64; 12],
}

/// `ofp_queue_stats` (1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Port.
    pub port_no: u16,
    /// Queue.
    pub queue_id: u32,
    /// Bytes.
    pub tx_bytes: u64,
    /// Packets.
    pub tx_packets: u64,
    /// Errors.
    pub tx_errors: u64,
}

/// `ofp_desc_stats` (same layout as 1.3's `ofp_desc`).
pub type Desc = crate::v1_3::multipart::Desc;

/// Stats request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsRequestBody {
    /// `OFPST_DESC`.
    Desc,
    /// `OFPST_FLOW`.
    Flow(FlowStatsRequest),
    /// `OFPST_AGGREGATE`.
    Aggregate(FlowStatsRequest),
    /// `OFPST_TABLE`.
    Table,
    /// `OFPST_PORT`.
    Port {
        /// Port (`OFPP_NONE` = all).
        port_no: u16,
    },
    /// `OFPST_QUEUE`.
    Queue {
        /// Port.
        port_no: u16,
        /// Queue.
        queue_id: u32,
    },
    /// `OFPST_VENDOR`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown stats type.
    Unknown {
        /// Type.
        stats_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// Stats reply body.
#[derive(Clone, Debug, PartialEq)]
pub enum StatsReplyBody {
    /// `OFPST_DESC`.
    Desc(Box<Desc>),
    /// `OFPST_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPST_AGGREGATE`: (packet_count, byte_count, flow_count).
    Aggregate {
        /// Packets.
        packet_count: u64,
        /// Bytes.
        byte_count: u64,
        /// Flows.
        flow_count: u32,
    },
    /// `OFPST_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPST_PORT`.
    Port(Vec<PortStats>),
    /// `OFPST_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPST_VENDOR`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown stats type.
    Unknown {
        /// Type.
        stats_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// `OFPT_STATS_REQUEST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRequest {
    /// Flags.
    pub flags: u16,
    /// Body.
    pub body: StatsRequestBody,
}

impl StatsRequest {
    /// `OFPST_*` type.
    pub fn stats_type(&self) -> u16 {
        match &self.body {
            StatsRequestBody::Desc => 0,
            StatsRequestBody::Flow(_) => 1,
            StatsRequestBody::Aggregate(_) => 2,
            StatsRequestBody::Table => 3,
            StatsRequestBody::Port { .. } => 4,
            StatsRequestBody::Queue { .. } => 5,
            StatsRequestBody::Vendor { .. } => 0xffff,
            StatsRequestBody::Unknown { stats_type, .. } => *stats_type,
        }
    }
}

impl StatsReply {
    /// `OFPST_*` type.
    pub fn stats_type(&self) -> u16 {
        match &self.body {
            StatsReplyBody::Desc(_) => 0,
            StatsReplyBody::Flow(_) => 1,
            StatsReplyBody::Aggregate { .. } => 2,
            StatsReplyBody::Table(_) => 3,
            StatsReplyBody::Port(_) => 4,
            StatsReplyBody::Queue(_) => 5,
            StatsReplyBody::Vendor { .. } => 0xffff,
            StatsReplyBody::Unknown { stats_type, .. } => *stats_type,
        }
    }
}

/// `OFPT_STATS_REPLY`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsReply {
    /// Flags (`OFPSF_REPLY_MORE`).
    pub flags: u16,
    /// Body.
    pub body: StatsReplyBody,
}

/// A queue and its properties (1.0): min-rate is the only defined property.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketQueue {
    /// Queue id.
    pub queue_id: u32,
    /// Properties as (type, body after the 8-byte property header).
    pub properties: Vec<(u16, Vec<u8>)>,
}

/// Any OpenFlow 1.0 message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `OFPT_HELLO`.
    Hello(Hello),
    /// `OFPT_ERROR`.
    Error(ErrorMsg),
    /// `OFPT_ECHO_REQUEST`.
    EchoRequest(Vec<u8>),
    /// `OFPT_ECHO_REPLY`.
    EchoReply(Vec<u8>),
    /// `OFPT_VENDOR` (kept opaque).
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// `OFPT_FEATURES_REQUEST`.
    FeaturesRequest,
    /// `OFPT_FEATURES_REPLY`.
    FeaturesReply(SwitchFeatures),
    /// `OFPT_GET_CONFIG_REQUEST`.
    GetConfigRequest,
    /// `OFPT_GET_CONFIG_REPLY`.
    GetConfigReply(SwitchConfig),
    /// `OFPT_SET_CONFIG`.
    SetConfig(SwitchConfig),
    /// `OFPT_PACKET_IN`.
    PacketIn(PacketIn),
    /// `OFPT_FLOW_REMOVED`.
    FlowRemoved(FlowRemoved),
    /// `OFPT_PORT_STATUS`.
    PortStatus(PortStatus),
    /// `OFPT_PACKET_OUT`.
    PacketOut(PacketOut),
    /// `OFPT_FLOW_MOD`.
    FlowMod(FlowMod),
    /// `OFPT_PORT_MOD`.
    PortMod(PortMod),
    /// `OFPT_STATS_REQUEST`.
    StatsRequest(StatsRequest),
    /// `OFPT_STATS_REPLY`.
    StatsReply(StatsReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
    /// `OFPT_QUEUE_GET_CONFIG_REQUEST`.
    QueueGetConfigRequest {
        /// Port.
        port: u16,
    },
    /// `OFPT_QUEUE_GET_CONFIG_REPLY`.
    QueueGetConfigReply {
        /// Port.
        port: u16,
        /// Queues.
        queues: Vec<PacketQueue>,
    },
}

fn list<T>(
    r: &mut Reader<'_>,
    mut f: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(f(r)?);
    }
    Ok(v)
}

impl Message {
    /// The `OFPT_*` type number.
    pub fn msg_type(&self) -> u8 {
        use msg_type::*;
        match self {
            Message::Hello(_) => HELLO,
            Message::Error(_) => ERROR,
            Message::EchoRequest(_) => ECHO_REQUEST,
            Message::EchoReply(_) => ECHO_REPLY,
            Message::Vendor { .. } => VENDOR,
            Message::FeaturesRequest => FEATURES_REQUEST,
            Message::FeaturesReply(_) => FEATURES_REPLY,
            Message::GetConfigRequest => GET_CONFIG_REQUEST,
            Message::GetConfigReply(_) => GET_CONFIG_REPLY,
            Message::SetConfig(_) => SET_CONFIG,
            Message::PacketIn(_) => PACKET_IN,
            Message::FlowRemoved(_) => FLOW_REMOVED,
            Message::PortStatus(_) => PORT_STATUS,
            Message::PacketOut(_) => PACKET_OUT,
            Message::FlowMod(_) => FLOW_MOD,
            Message::PortMod(_) => PORT_MOD,
            Message::StatsRequest(_) => STATS_REQUEST,
            Message::StatsReply(_) => STATS_REPLY,
            Message::BarrierRequest => BARRIER_REQUEST,
            Message::BarrierReply => BARRIER_REPLY,
            Message::QueueGetConfigRequest { .. } => QUEUE_GET_CONFIG_REQUEST,
            Message::QueueGetConfigReply { .. } => QUEUE_GET_CONFIG_REPLY,
        }
    }

    /// Decodes one complete 1.0 message.
    pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
        let h = Header::parse(buf)?;
        let name = type_name(h.msg_type);
        if h.version != VERSION {
            return Err(DecodeError::new(name, 0, format!("version 0x{:02x} is not OpenFlow 1.0 (0x01)", h.version)));
        }
        let body = buf.get(HEADER_LEN..h.length as usize).ok_or_else(|| {
            DecodeError::new(
                name,
                buf.len(),
                format!("truncated: header length is {} but only {} bytes present", h.length, buf.len()),
            )
        })?;
        let mut r = Reader::new(body, HEADER_LEN, name);
        let m = Self::parse_body(h.msg_type, &mut r)?;
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after the message body", r.remaining())));
        }
        Ok((h, m))
    }

    fn parse_body(t: u8, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
        use msg_type::*;
        Ok(match t {
            HELLO => Message::Hello(Hello::parse(r)?),
            ERROR => Message::Error(ErrorMsg::parse(r, false)?),
            ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
            ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
            VENDOR => Message::Vendor { vendor: r.u32()?, data: r.rest().to_vec() },
            FEATURES_REQUEST => Message::FeaturesRequest,
            FEATURES_REPLY => {
                let datapath_id = r.u64()?;
                let n_buffers = r.u32()?;
                let n_tables = r.u8()?;
                r.skip(3)?;
                let capabilities = r.u32()?;
                let actions = r.u32()?;
                if !r.remaining().is_multiple_of(PhyPort::LEN) {
                    return Err(r.err(format!("port list of {} bytes is not a multiple of 48", r.remaining())));
                }
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id,
                    n_buffers,
                    n_tables,
                    capabilities,
                    actions,
                    ports: list(r, PhyPort::parse)?,
                })
            }
            GET_CONFIG_REQUEST => Message::GetConfigRequest,
            GET_CONFIG_REPLY | SET_CONFIG => {
                let c = SwitchConfig { flags: r.u16()?, miss_send_len: r.u16()? };
                if t == SET_CONFIG {
                    Message::SetConfig(c)
                } else {
                    Message::GetConfigReply(c)
                }
            }
            PACKET_IN => {
                let buffer_id = r.u32()?;
                let total_len = r.u16()?;
                let in_port = r.u16()?;
                let reason = r.u8()?;
                r.skip(1)?;
                Message::PacketIn(PacketIn { buffer_id, total_len, in_port, reason, data: r.rest().to_vec() })
            }
            FLOW_REMOVED => {
                let match_ = Match::parse(r)?;
                let cookie = r.u64()?;
                let priority = r.u16()?;
                let reason = r.u8()?;
                r.skip(1)?;
                let duration_sec = r.u32()?;
                let duration_nsec = r.u32()?;
                let idle_timeout = r.u16()?;
                r.skip(2)?;
                Message::FlowRemoved(FlowRemoved {
                    match_,
                    cookie,
                    priority,
                    reason,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    packet_count: r.u64()?,
                    byte_count: r.u64()?,
                })
            }
            PORT_STATUS => {
                let reason = r.u8()?;
                r.skip(7)?;
                Message::PortStatus(PortStatus { reason, desc: PhyPort::parse(r)? })
            }
            PACKET_OUT => {
                let buffer_id = r.u32()?;
                let in_port = r.u16()?;
                let at = r.offset();
                let alen = r.u16()? as usize;
                let mut ar =
                    r.sub(alen).map_err(|_| r.err_at(at, format!("actions_len {} exceeds the message", alen)))?;
                let actions = Action::parse_list(&mut ar)?;
                Message::PacketOut(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
            }
            FLOW_MOD => {
                let match_ = Match::parse(r)?;
                Message::FlowMod(FlowMod {
                    match_,
                    cookie: r.u64()?,
                    command: r.u16()?,
                    idle_timeout: r.u16()?,
                    hard_timeout: r.u16()?,
                    priority: r.u16()?,
                    buffer_id: r.u32()?,
                    out_port: r.u16()?,
                    flags: r.u16()?,
                    actions: Action::parse_list(r)?,
                })
            }
            PORT_MOD => {
                let p = PortMod {
                    port_no: r.u16()?,
                    hw_addr: MacAddr(r.array()?),
                    config: r.u32()?,
                    mask: r.u32()?,
                    advertise: r.u32()?,
                };
                r.skip(4)?;
                Message::PortMod(p)
            }
            STATS_REQUEST => {
                let st = r.u16()?;
                let flags = r.u16()?;
                let body = match st {
                    0 => StatsRequestBody::Desc,
                    1 | 2 => {
                        let match_ = Match::parse(r)?;
                        let table_id = r.u8()?;
                        r.skip(1)?;
                        let f = FlowStatsRequest { match_, table_id, out_port: r.u16()? };
                        if st == 1 {
                            StatsRequestBody::Flow(f)
                        } else {
                            StatsRequestBody::Aggregate(f)
                        }
                    }
                    3 => StatsRequestBody::Table,
                    4 => {
                        let port_no = r.u16()?;
                        r.skip(6)?;
                        StatsRequestBody::Port { port_no }
                    }
                    5 => {
                        let port_no = r.u16()?;
                        r.skip(2)?;
                        StatsRequestBody::Queue { port_no, queue_id: r.u32()? }
                    }
                    0xffff => StatsRequestBody::Vendor { vendor: r.u32()?, data: r.rest().to_vec() },
                    _ => StatsRequestBody::Unknown { stats_type: st, data: r.rest().to_vec() },
                };
                Message::StatsRequest(StatsRequest { flags, body })
            }
            STATS_REPLY => {
                let st = r.u16()?;
                let flags = r.u16()?;
                let body = match st {
                    0 => StatsReplyBody::Desc(Box::new(Desc::parse(r)?)),
                    1 => StatsReplyBody::Flow(list(r, |r| {
                        let start = r.offset();
                        let len = r.u16()? as usize;
                        if len < 88 {
                            return Err(r.err_at(start, format!("flow stats length {} is shorter than 88", len)));
                        }
                        let mut b = r.sub(len - 2)?;
                        let table_id = b.u8()?;
                        b.skip(1)?;
                        let match_ = Match::parse(&mut b)?;
                        let duration_sec = b.u32()?;
                        let duration_nsec = b.u32()?;
                        let priority = b.u16()?;
                        let idle_timeout = b.u16()?;
                        let hard_timeout = b.u16()?;
                        b.skip(6)?;
                        Ok(FlowStats {
                            table_id,
                            match_,
                            duration_sec,
                            duration_nsec,
                            priority,
                            idle_timeout,
                            hard_timeout,
                            cookie: b.u64()?,
                            packet_count: b.u64()?,
                            byte_count: b.u64()?,
                            actions: Action::parse_list(&mut b)?,
                        })
                    })?),
                    2 => {
                        let b = StatsReplyBody::Aggregate {
                            packet_count: r.u64()?,
                            byte_count: r.u64()?,
                            flow_count: r.u32()?,
                        };
                        r.skip(4)?;
                        b
                    }
                    3 => StatsReplyBody::Table(list(r, |r| {
                        let table_id = r.u8()?;
                        r.skip(3)?;
                        Ok(TableStats {
                            table_id,
                            name: FixedStr(r.array()?),
                            wildcards: r.u32()?,
                            max_entries: r.u32()?,
                            active_count: r.u32()?,
                            lookup_count: r.u64()?,
                            matched_count: r.u64()?,
                        })
                    })?),
                    4 => StatsReplyBody::Port(list(r, |r| {
                        let port_no = r.u16()?;
                        r.skip(6)?;
                        let mut counters = [0u64; 12];
                        for c in counters.iter_mut() {
                            *c = r.u64()?;
                        }
                        Ok(PortStats { port_no, counters })
                    })?),
                    5 => StatsReplyBody::Queue(list(r, |r| {
                        let port_no = r.u16()?;
                        r.skip(2)?;
                        Ok(QueueStats {
                            port_no,
                            queue_id: r.u32()?,
                            tx_bytes: r.u64()?,
                            tx_packets: r.u64()?,
                            tx_errors: r.u64()?,
                        })
                    })?),
                    0xffff => StatsReplyBody::Vendor { vendor: r.u32()?, data: r.rest().to_vec() },
                    _ => StatsReplyBody::Unknown { stats_type: st, data: r.rest().to_vec() },
                };
                Message::StatsReply(StatsReply { flags, body })
            }
            BARRIER_REQUEST => Message::BarrierRequest,
            BARRIER_REPLY => Message::BarrierReply,
            QUEUE_GET_CONFIG_REQUEST => {
                let port = r.u16()?;
                r.skip(2)?;
                Message::QueueGetConfigRequest { port }
            }
            QUEUE_GET_CONFIG_REPLY => {
                let port = r.u16()?;
                r.skip(6)?;
                let queues = list(r, |r| {
                    let start = r.offset();
                    let queue_id = r.u32()?;
                    let len = r.u16()? as usize;
                    if len < 8 {
                        return Err(r.err_at(start + 4, format!("queue length {} is shorter than 8", len)));
                    }
                    r.skip(2)?;
                    let mut b = r.sub(len - 8)?;
                    let properties = list(&mut b, |b| {
                        let s = b.offset();
                        let t = b.u16()?;
                        let l = b.u16()? as usize;
                        if l < 8 {
                            return Err(b.err_at(s + 2, format!("queue property length {} is shorter than 8", l)));
                        }
                        b.skip(4)?;
                        Ok((t, b.bytes(l - 8)?.to_vec()))
                    })?;
                    Ok(PacketQueue { queue_id, properties })
                })?;
                Message::QueueGetConfigReply { port, queues }
            }
            _ => return Err(r.err_at(1, format!("unknown message type {}", t))),
        })
    }

    /// Appends the whole message with transaction id `xid`. Fails, appending nothing, if the message is longer
    /// than [`crate::MAX_MESSAGE_LEN`] or a length field inside it cannot hold its value.
    pub fn encode(&self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = self.msg_type();
        encode_message(out, (VERSION, t, xid), type_name(t), |out| self.emit_body(out))
    }

    /// Encodes into a new vector.
    pub fn to_vec(&self, xid: u32) -> Result<Vec<u8>, EncodeError> {
        let mut v = Vec::new();
        self.encode(xid, &mut v)?;
        Ok(v)
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Message::Hello(h) => h.emit(out)?,
            Message::Error(e) => e.emit(out),
            Message::EchoRequest(d) | Message::EchoReply(d) => out.extend_from_slice(d),
            Message::Vendor { vendor, data } => {
                out.put_u32(*vendor);
                out.extend_from_slice(data);
            }
            Message::FeaturesRequest | Message::GetConfigRequest | Message::BarrierRequest | Message::BarrierReply => {}
            Message::FeaturesReply(f) => {
                out.put_u64(f.datapath_id);
                out.put_u32(f.n_buffers);
                out.put_u8(f.n_tables);
                out.put_zeros(3);
                out.put_u32(f.capabilities);
                out.put_u32(f.actions);
                for p in &f.ports {
                    p.emit(out);
                }
            }
            Message::GetConfigReply(c) | Message::SetConfig(c) => {
                out.put_u16(c.flags);
                out.put_u16(c.miss_send_len);
            }
            Message::PacketIn(p) => {
                out.put_u32(p.buffer_id);
                out.put_u16(p.total_len);
                out.put_u16(p.in_port);
                out.put_u8(p.reason);
                out.put_u8(0);
                out.extend_from_slice(&p.data);
            }
            Message::FlowRemoved(f) => {
                f.match_.emit(out);
                out.put_u64(f.cookie);
                out.put_u16(f.priority);
                out.put_u8(f.reason);
                out.put_u8(0);
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.idle_timeout);
                out.put_zeros(2);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
            }
            Message::PortStatus(p) => {
                out.put_u8(p.reason);
                out.put_zeros(7);
                p.desc.emit(out);
            }
            Message::PacketOut(p) => {
                out.put_u32(p.buffer_id);
                out.put_u16(p.in_port);
                let at = out.len();
                out.put_u16(0);
                Action::emit_list(&p.actions, out)?;
                out.set_len16(at, at + 2, "the actions of a packet-out")?;
                out.extend_from_slice(&p.data);
            }
            Message::FlowMod(f) => {
                f.match_.emit(out);
                out.put_u64(f.cookie);
                out.put_u16(f.command);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_u16(f.priority);
                out.put_u32(f.buffer_id);
                out.put_u16(f.out_port);
                out.put_u16(f.flags);
                Action::emit_list(&f.actions, out)?;
            }
            Message::PortMod(p) => {
                out.put_u16(p.port_no);
                out.extend_from_slice(&p.hw_addr.0);
                out.put_u32(p.config);
                out.put_u32(p.mask);
                out.put_u32(p.advertise);
                out.put_zeros(4);
            }
            Message::StatsRequest(s) => {
                let st = match &s.body {
                    StatsRequestBody::Desc => 0,
                    StatsRequestBody::Flow(_) => 1,
                    StatsRequestBody::Aggregate(_) => 2,
                    StatsRequestBody::Table => 3,
                    StatsRequestBody::Port { .. } => 4,
                    StatsRequestBody::Queue { .. } => 5,
                    StatsRequestBody::Vendor { .. } => 0xffff,
                    StatsRequestBody::Unknown { stats_type, .. } => *stats_type,
                };
                out.put_u16(st);
                out.put_u16(s.flags);
                match &s.body {
                    StatsRequestBody::Desc | StatsRequestBody::Table => {}
                    StatsRequestBody::Flow(f) | StatsRequestBody::Aggregate(f) => {
                        f.match_.emit(out);
                        out.put_u8(f.table_id);
                        out.put_u8(0);
                        out.put_u16(f.out_port);
                    }
                    StatsRequestBody::Port { port_no } => {
                        out.put_u16(*port_no);
                        out.put_zeros(6);
                    }
                    StatsRequestBody::Queue { port_no, queue_id } => {
                        out.put_u16(*port_no);
                        out.put_zeros(2);
                        out.put_u32(*queue_id);
                    }
                    StatsRequestBody::Vendor { vendor, data } => {
                        out.put_u32(*vendor);
                        out.extend_from_slice(data);
                    }
                    StatsRequestBody::Unknown { data, .. } => out.extend_from_slice(data),
                }
            }
            Message::StatsReply(s) => {
                let st = match &s.body {
                    StatsReplyBody::Desc(_) => 0,
                    StatsReplyBody::Flow(_) => 1,
                    StatsReplyBody::Aggregate { .. } => 2,
                    StatsReplyBody::Table(_) => 3,
                    StatsReplyBody::Port(_) => 4,
                    StatsReplyBody::Queue(_) => 5,
                    StatsReplyBody::Vendor { .. } => 0xffff,
                    StatsReplyBody::Unknown { stats_type, .. } => *stats_type,
                };
                out.put_u16(st);
                out.put_u16(s.flags);
                match &s.body {
                    StatsReplyBody::Desc(d) => d.emit(out),
                    StatsReplyBody::Flow(v) => {
                        for f in v {
                            let s = out.len();
                            out.put_u16(0);
                            out.put_u8(f.table_id);
                            out.put_u8(0);
                            f.match_.emit(out);
                            out.put_u32(f.duration_sec);
                            out.put_u32(f.duration_nsec);
                            out.put_u16(f.priority);
                            out.put_u16(f.idle_timeout);
                            out.put_u16(f.hard_timeout);
                            out.put_zeros(6);
                            out.put_u64(f.cookie);
                            out.put_u64(f.packet_count);
                            out.put_u64(f.byte_count);
                            Action::emit_list(&f.actions, out)?;
                            out.set_len16(s, s, "a flow stats entry")?;
                        }
                    }
                    StatsReplyBody::Aggregate { packet_count, byte_count, flow_count } => {
                        out.put_u64(*packet_count);
                        out.put_u64(*byte_count);
                        out.put_u32(*flow_count);
                        out.put_zeros(4);
                    }
                    StatsReplyBody::Table(v) => {
                        for t in v {
                            out.put_u8(t.table_id);
                            out.put_zeros(3);
                            out.extend_from_slice(&t.name.0);
                            out.put_u32(t.wildcards);
                            out.put_u32(t.max_entries);
                            out.put_u32(t.active_count);
                            out.put_u64(t.lookup_count);
                            out.put_u64(t.matched_count);
                        }
                    }
                    StatsReplyBody::Port(v) => {
                        for p in v {
                            out.put_u16(p.port_no);
                            out.put_zeros(6);
                            for c in p.counters {
                                out.put_u64(c);
                            }
                        }
                    }
                    StatsReplyBody::Queue(v) => {
                        for q in v {
                            out.put_u16(q.port_no);
                            out.put_zeros(2);
                            out.put_u32(q.queue_id);
                            out.put_u64(q.tx_bytes);
                            out.put_u64(q.tx_packets);
                            out.put_u64(q.tx_errors);
                        }
                    }
                    StatsReplyBody::Vendor { vendor, data } => {
                        out.put_u32(*vendor);
                        out.extend_from_slice(data);
                    }
                    StatsReplyBody::Unknown { data, .. } => out.extend_from_slice(data),
                }
            }
            Message::QueueGetConfigRequest { port } => {
                out.put_u16(*port);
                out.put_zeros(2);
            }
            Message::QueueGetConfigReply { port, queues } => {
                out.put_u16(*port);
                out.put_zeros(6);
                for q in queues {
                    let s = out.len();
                    out.put_u32(q.queue_id);
                    out.put_u16(0);
                    out.put_zeros(2);
                    for (t, d) in &q.properties {
                        out.put_u16(*t);
                        out.put_u16(len16("a queue property", 8 + d.len())?);
                        out.put_zeros(4);
                        out.extend_from_slice(d);
                    }
                    out.set_len16(s + 4, s, "a queue description")?;
                }
            }
        }
        Ok(())
    }
}

macro_rules! from_body {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Message {
            fn from(x: $t) -> Message { Message::$v(x) }
        }
        impl From<$t> for crate::Message {
            fn from(x: $t) -> crate::Message { crate::Message::V1_0(Message::$v(x)) }
        }
        impl $t {
            /// Encodes this body as a complete message with transaction id `xid` (see [`Message::encode`]).
            pub fn encode(self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                Message::$v(self).encode(xid, out)
            }
        }
    )*};
}
from_body! {
    FlowMod => FlowMod,
    PacketOut => PacketOut,
    PacketIn => PacketIn,
    PortMod => PortMod,
    StatsRequest => StatsRequest,
    StatsReply => StatsReply,
}

/// Zero-copy view of an OpenFlow 1.0 `OFPT_PACKET_IN`.
#[derive(Clone, Copy, Debug)]
pub struct PacketInView<'a>(&'a [u8]);

impl<'a> PacketInView<'a> {
    /// Validates header and fixed fields.
    pub fn new(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let h = Header::parse(buf)?;
        if h.version != VERSION || h.msg_type != msg_type::PACKET_IN {
            return Err(DecodeError::new(
                "OFPT_PACKET_IN",
                0,
                format!("not an OpenFlow 1.0 packet-in (version {}, type {})", h.version, h.msg_type),
            ));
        }
        let b =
            buf.get(..h.length as usize).ok_or_else(|| DecodeError::new("OFPT_PACKET_IN", buf.len(), "truncated"))?;
        if b.len() < 18 {
            return Err(DecodeError::new("OFPT_PACKET_IN", b.len(), "packet-in shorter than 18 bytes"));
        }
        Ok(PacketInView(b))
    }
    /// Buffer id.
    pub fn buffer_id(&self) -> u32 {
        u32::from_be_bytes([self.0[8], self.0[9], self.0[10], self.0[11]])
    }
    /// Total length.
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.0[12], self.0[13]])
    }
    /// Input port.
    pub fn in_port(&self) -> u16 {
        u16::from_be_bytes([self.0[14], self.0[15]])
    }
    /// Reason.
    pub fn reason(&self) -> u8 {
        self.0[16]
    }
    /// Frame.
    pub fn data(&self) -> &'a [u8] {
        &self.0[18..]
    }
}
