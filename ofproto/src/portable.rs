//! What most apps send and receive, written once for every version: builders that encode for the datapath's
//! negotiated version (1.0, 1.2, 1.3, 1.4 or 1.5), and views that read any version's messages.
//!
//! 1.2, 1.4 and 1.5 share 1.3's matches (OXM), actions and instructions, so a flow-mod is the same bytes in each
//! but the header's version (1.4 and 1.5 call the padding after the flags `importance`, 0 here); a 1.5 packet-out
//! names its in-port in a match; a 1.2 packet-in has no cookie; 1.4 and 1.5 describe a port's features in an
//! Ethernet property.
//!
//! Ports are numbered as OpenFlow 1.1 and later number them ([`port`]); OpenFlow 1.0's 16-bit reserved ports
//! (`0xff00..`) map to 1.3's (`0xffffff00..`) and back. Anything a version cannot express (a port number above
//! 1.0's range, a table other than 0 on 1.0, a transport port without its IP protocol on the OXM versions) is an
//! [`EncodeError::NotInVersion`], and nothing is written.
//!
//! ```
//! use tatsu_ofproto::portable::{port, Action, Encode, FlowMod, Match};
//! use tatsu_ofproto::{MacAddr, OFP_VERSION_1_0, OFP_VERSION_1_3};
//! let dst: MacAddr = "00:11:22:33:44:55".parse().unwrap();
//! let flow = FlowMod::add(Match::new().in_port(1).eth_dst(dst)).priority(1).actions([Action::output(2)]);
//! let (mut v10, mut v13) = (Vec::new(), Vec::new());
//! flow.encode_for(OFP_VERSION_1_0, 7, &mut v10).unwrap();
//! flow.encode_for(OFP_VERSION_1_3, 7, &mut v13).unwrap();
//! assert_eq!((v10[0], v13[0]), (OFP_VERSION_1_0, OFP_VERSION_1_3));
//! assert!(FlowMod::add(Match::new().in_port(70_000)).encode_for(OFP_VERSION_1_0, 7, &mut Vec::new()).is_err());
//! # let _ = port::FLOOD;
//! ```

use std::borrow::Cow;
use std::net::Ipv4Addr;

use smallvec::SmallVec;

use crate::error::{DecodeError, EncodeError};
use crate::header::encode_message;
use crate::types::MacAddr;
use crate::v1_3::oxm::{Oxm, OxmField};
use crate::wire::Put;
use crate::wire::Reader;
use crate::{
    v1_0, v1_2, v1_3, v1_4, v1_5, Header, Message, OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_3, OFP_VERSION_1_4,
    OFP_VERSION_1_5,
};

/// Reserved port numbers (OpenFlow 1.3's; encoded as 1.0's on a 1.0 datapath).
pub mod port {
    pub use crate::v1_3::action::port::{ALL, ANY, CONTROLLER, FLOOD, IN_PORT, LOCAL, MAX, NORMAL, TABLE};
}

/// `OFP_NO_BUFFER`: the packet is not buffered in the switch.
pub const NO_BUFFER: u32 = 0xffff_ffff;

/// A message that can be encoded for a datapath of any supported version.
pub trait Encode {
    /// Appends the message, for wire `version` under `xid`, to `out`. On error nothing is appended.
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

/// Version-specific messages encode as themselves, whatever the datapath's version.
impl<T: Clone + Into<Message>> Encode for T {
    fn encode_for(&self, _version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.clone().into().encode(xid, out)
    }
}

fn not_in_version(what: impl Into<String>, version: u8) -> EncodeError {
    EncodeError::NotInVersion { what: what.into(), version }
}

fn unsupported_version(version: u8) -> EncodeError {
    not_in_version("a portable message", version)
}

/// A 1.3-numbered port as OpenFlow 1.0 numbers it.
pub fn port_to_1_0(port: u32) -> Result<u16, EncodeError> {
    if port >= port::MAX {
        // Reserved ports keep their low byte: 0xfffffffb (FLOOD) is 0xfffb.
        return Ok(0xff00 | (port & 0xff) as u16);
    }
    match u16::try_from(port) {
        Ok(port) if port < 0xff00 => Ok(port),
        _ => Err(not_in_version(format!("port {port}"), OFP_VERSION_1_0)),
    }
}

/// An OpenFlow 1.0 port as 1.3 numbers it.
pub fn port_from_1_0(port: u16) -> u32 {
    if port >= 0xff00 {
        0xffff_ff00 | u32::from(port & 0xff)
    } else {
        u32::from(port)
    }
}

/// A match on the fields OpenFlow 1.0 and 1.3 share. Fields left out are wildcards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Match {
    in_port: Option<u32>,
    eth_dst: Option<MacAddr>,
    eth_src: Option<MacAddr>,
    eth_type: Option<u16>,
    vlan_vid: Option<u16>,
    vlan_pcp: Option<u8>,
    ip_proto: Option<u8>,
    ipv4_src: Option<(Ipv4Addr, u8)>,
    ipv4_dst: Option<(Ipv4Addr, u8)>,
    tp_src: Option<u16>,
    tp_dst: Option<u16>,
}

impl Match {
    /// Matches everything.
    #[inline]
    pub fn new() -> Match {
        Match::default()
    }

    /// The ingress port.
    #[inline]
    pub fn in_port(mut self, port: u32) -> Self {
        self.in_port = Some(port);
        self
    }

    /// The Ethernet destination.
    #[inline]
    pub fn eth_dst(mut self, mac: MacAddr) -> Self {
        self.eth_dst = Some(mac);
        self
    }

    /// The Ethernet source.
    #[inline]
    pub fn eth_src(mut self, mac: MacAddr) -> Self {
        self.eth_src = Some(mac);
        self
    }

    /// The EtherType.
    #[inline]
    pub fn eth_type(mut self, ethertype: u16) -> Self {
        self.eth_type = Some(ethertype);
        self
    }

    /// Frames tagged with VLAN `vid` (12 bits).
    #[inline]
    pub fn vlan_vid(mut self, vid: u16) -> Self {
        self.vlan_vid = Some(vid & 0x0fff);
        self
    }

    /// The VLAN priority.
    #[inline]
    pub fn vlan_pcp(mut self, pcp: u8) -> Self {
        self.vlan_pcp = Some(pcp);
        self
    }

    /// The IP protocol (needs an IPv4 EtherType).
    #[inline]
    pub fn ip_proto(mut self, proto: u8) -> Self {
        self.ip_proto = Some(proto);
        self
    }

    /// The IPv4 source within a prefix of `prefix` bits (IPv4: ARP's sender address with EtherType 0x0806).
    #[inline]
    pub fn ipv4_src(mut self, address: Ipv4Addr, prefix: u8) -> Self {
        self.ipv4_src = Some((address, prefix.min(32)));
        self
    }

    /// The IPv4 destination within a prefix (ARP's target address with EtherType 0x0806).
    #[inline]
    pub fn ipv4_dst(mut self, address: Ipv4Addr, prefix: u8) -> Self {
        self.ipv4_dst = Some((address, prefix.min(32)));
        self
    }

    /// The TCP, UDP or SCTP source port (needs the IP protocol).
    #[inline]
    pub fn tp_src(mut self, port: u16) -> Self {
        self.tp_src = Some(port);
        self
    }

    /// The TCP, UDP or SCTP destination port (needs the IP protocol).
    #[inline]
    pub fn tp_dst(mut self, port: u16) -> Self {
        self.tp_dst = Some(port);
        self
    }

    /// This match in OpenFlow 1.0.
    #[inline]
    pub fn to_v1_0(&self) -> Result<v1_0::Match, EncodeError> {
        Ok(self.to_v1_0_with(self.in_port.map(port_to_1_0).transpose()?))
    }

    /// This match in OpenFlow 1.0, its in-port (if it has one) already in 1.0's numbering: the part that cannot
    /// fail, returned by value (no `Result` around it to copy it through the stack).
    #[inline(always)]
    fn to_v1_0_with(&self, in_port: Option<u16>) -> v1_0::Match {
        let mut m = v1_0::Match::new();
        if let Some(port) = in_port {
            m = m.in_port(port);
        }
        if let Some(mac) = self.eth_src {
            m = m.dl_src(mac);
        }
        if let Some(mac) = self.eth_dst {
            m = m.dl_dst(mac);
        }
        if let Some(vid) = self.vlan_vid {
            m = m.dl_vlan(vid);
        }
        if let Some(pcp) = self.vlan_pcp {
            m = m.dl_vlan_pcp(pcp);
        }
        if let Some(ethertype) = self.eth_type {
            m = m.dl_type(ethertype);
        }
        if let Some(proto) = self.ip_proto {
            m = m.nw_proto(proto);
        }
        if let Some((address, prefix)) = self.ipv4_src {
            m = m.nw_src(address, prefix);
        }
        if let Some((address, prefix)) = self.ipv4_dst {
            m = m.nw_dst(address, prefix);
        }
        if let Some(port) = self.tp_src {
            m = m.tp_src(port);
        }
        if let Some(port) = self.tp_dst {
            m = m.tp_dst(port);
        }
        m
    }

    /// This match in OpenFlow 1.3: OXM fields in their numbering order, with the prerequisites 1.3 asks for.
    pub fn to_v1_3(&self) -> Result<v1_3::Match, EncodeError> {
        self.to_oxm(OFP_VERSION_1_3)
    }

    /// Appends this match as `to_oxm` builds it (the same bytes), straight to the wire: the encoder's fast path,
    /// with no TLV list in between. On error nothing is appended.
    fn emit_oxm(&self, version: u8, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let arp = self.eth_type == Some(0x0806);
        if (self.ip_proto.is_some() || self.ipv4_src.is_some() || self.ipv4_dst.is_some())
            && !(arp || self.eth_type == Some(0x0800))
        {
            return Err(not_in_version("an IPv4 match without EtherType 0x0800 (or 0x0806 for ARP)", version));
        }
        let transport = if self.tp_src.is_some() || self.tp_dst.is_some() {
            Some(match self.ip_proto {
                Some(6) => (OxmField::TcpSrc, OxmField::TcpDst),
                Some(17) => (OxmField::UdpSrc, OxmField::UdpDst),
                Some(132) => (OxmField::SctpSrc, OxmField::SctpDst),
                _ => return Err(not_in_version("a transport port without IP protocol 6, 17 or 132", version)),
            })
        } else {
            None
        };
        fn tlv(out: &mut Vec<u8>, field: OxmField, value: &[u8], mask: Option<&[u8]>) {
            out.put_u32(field.header(mask.is_some()));
            out.extend_from_slice(value);
            out.extend_from_slice(mask.unwrap_or_default());
        }
        let start = out.len();
        out.put_u16(v1_3::oxm::OFPMT_OXM);
        out.put_u16(0);
        if let Some(port) = self.in_port {
            tlv(out, OxmField::InPort, &port.to_be_bytes(), None);
        }
        if let Some(mac) = self.eth_dst {
            tlv(out, OxmField::EthDst, &mac.0, None);
        }
        if let Some(mac) = self.eth_src {
            tlv(out, OxmField::EthSrc, &mac.0, None);
        }
        if let Some(ethertype) = self.eth_type {
            tlv(out, OxmField::EthType, &ethertype.to_be_bytes(), None);
        }
        if let Some(vid) = self.vlan_vid {
            // OFPVID_PRESENT: a tagged frame with this id.
            tlv(out, OxmField::VlanVid, &(vid | 0x1000).to_be_bytes(), None);
        }
        if let Some(pcp) = self.vlan_pcp {
            tlv(out, OxmField::VlanPcp, &[pcp], None);
        }
        if let Some(proto) = self.ip_proto {
            tlv(out, OxmField::IpProto, &[proto], None);
        }
        for (value, field_ip, field_arp) in
            [(self.ipv4_src, OxmField::Ipv4Src, OxmField::ArpSpa), (self.ipv4_dst, OxmField::Ipv4Dst, OxmField::ArpTpa)]
        {
            let Some((address, prefix)) = value else { continue };
            let field = if arp { field_arp } else { field_ip };
            let mask = (prefix < 32).then(|| u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0).to_be_bytes());
            tlv(out, field, &address.octets(), mask.as_ref().map(|mask| &mask[..]));
        }
        if let Some((src, dst)) = transport {
            if let Some(port) = self.tp_src {
                tlv(out, src, &port.to_be_bytes(), None);
            }
            if let Some(port) = self.tp_dst {
                tlv(out, dst, &port.to_be_bytes(), None);
            }
        }
        // At most 11 short fields: the length fits.
        out.set_u16(start + 2, (out.len() - start) as u16);
        out.pad8_from(start);
        Ok(())
    }

    /// This match as OXM fields, for `version` (1.2 to 1.5 match alike; errors name `version`).
    fn to_oxm(&self, version: u8) -> Result<v1_3::Match, EncodeError> {
        let mut m = v1_3::Match::new();
        if let Some(port) = self.in_port {
            m = m.in_port(port);
        }
        if let Some(mac) = self.eth_dst {
            m = m.eth_dst(mac);
        }
        if let Some(mac) = self.eth_src {
            m = m.eth_src(mac);
        }
        if let Some(ethertype) = self.eth_type {
            m = m.eth_type(ethertype);
        }
        if let Some(vid) = self.vlan_vid {
            // OFPVID_PRESENT: a tagged frame with this id.
            m = m.with(Oxm::int(OxmField::VlanVid, u64::from(vid | 0x1000)));
        }
        if let Some(pcp) = self.vlan_pcp {
            m = m.with(Oxm::int(OxmField::VlanPcp, u64::from(pcp)));
        }
        let arp = self.eth_type == Some(0x0806);
        if (self.ip_proto.is_some() || self.ipv4_src.is_some() || self.ipv4_dst.is_some())
            && !(arp || self.eth_type == Some(0x0800))
        {
            return Err(not_in_version("an IPv4 match without EtherType 0x0800 (or 0x0806 for ARP)", version));
        }
        if let Some(proto) = self.ip_proto {
            m = m.with(Oxm::int(OxmField::IpProto, u64::from(proto)));
        }
        for (value, field_ip, field_arp) in
            [(self.ipv4_src, OxmField::Ipv4Src, OxmField::ArpSpa), (self.ipv4_dst, OxmField::Ipv4Dst, OxmField::ArpTpa)]
        {
            let Some((address, prefix)) = value else { continue };
            let field = if arp { field_arp } else { field_ip };
            m = m.with(if prefix >= 32 {
                Oxm::new(field, &address.octets())
            } else {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                Oxm::masked(field, &address.octets(), &mask.to_be_bytes())
            });
        }
        if self.tp_src.is_some() || self.tp_dst.is_some() {
            let (src, dst) = match self.ip_proto {
                Some(6) => (OxmField::TcpSrc, OxmField::TcpDst),
                Some(17) => (OxmField::UdpSrc, OxmField::UdpDst),
                Some(132) => (OxmField::SctpSrc, OxmField::SctpDst),
                _ => return Err(not_in_version("a transport port without IP protocol 6, 17 or 132", version)),
            };
            if let Some(port) = self.tp_src {
                m = m.with(Oxm::int(src, u64::from(port)));
            }
            if let Some(port) = self.tp_dst {
                m = m.with(Oxm::int(dst, u64::from(port)));
            }
        }
        Ok(m)
    }
}

/// The actions of a flow-mod or packet-out: the few most carry are held inline (no allocation per message).
type Actions = SmallVec<[Action; 4]>;

/// An action both versions have. No actions at all drops the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sends the packet out of a port (or a reserved port: [`port::FLOOD`], [`port::IN_PORT`] ...).
    Output(u32),
    /// Sends the packet to the controller, at most `max_len` bytes of it (0xffff: all).
    Controller(u16),
    /// Sets (or, on an untagged frame, adds, as 1.0 does; on 1.3 the frame must be tagged) the VLAN id.
    SetVlanVid(u16),
    /// Removes the VLAN tag.
    StripVlan,
    /// Rewrites the Ethernet source.
    SetEthSrc(MacAddr),
    /// Rewrites the Ethernet destination.
    SetEthDst(MacAddr),
}

impl Action {
    /// Output to `port`.
    #[inline]
    pub fn output(port: u32) -> Action {
        Action::Output(port)
    }

    /// Output to every port but the one the packet came in on (and ports with flooding off).
    #[inline]
    pub fn flood() -> Action {
        Action::Output(port::FLOOD)
    }

    /// The action in OpenFlow 1.0.
    #[inline]
    pub fn to_v1_0(&self) -> Result<v1_0::Action, EncodeError> {
        Ok(match self {
            Action::Output(port) => v1_0::Action::output(port_to_1_0(*port)?),
            Action::Controller(max_len) => v1_0::Action::Output { port: 0xfffd, max_len: *max_len },
            Action::SetVlanVid(vid) => v1_0::Action::SetVlanVid(*vid & 0x0fff),
            Action::StripVlan => v1_0::Action::StripVlan,
            Action::SetEthSrc(mac) => v1_0::Action::SetDlSrc(*mac),
            Action::SetEthDst(mac) => v1_0::Action::SetDlDst(*mac),
        })
    }

    /// Appends the action in OpenFlow 1.0 (an output, the common case, written directly).
    fn emit_v1_0(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let Action::Output(port) = self else { return self.to_v1_0()?.emit(out) };
        // OFPAT_OUTPUT, length 8, the port, max_len 0xffff (as `v1_0::Action::output` has it).
        let [high, low] = port_to_1_0(*port)?.to_be_bytes();
        out.extend_from_slice(&[0, 0, 0, 8, high, low, 0xff, 0xff]);
        Ok(())
    }

    /// The action in OpenFlow 1.3.
    pub fn to_v1_3(&self) -> v1_3::Action {
        match self {
            Action::Output(port) => v1_3::Action::output(*port),
            Action::Controller(max_len) => v1_3::Action::controller(*max_len),
            Action::SetVlanVid(vid) => {
                v1_3::Action::SetField(Oxm::int(OxmField::VlanVid, u64::from((*vid & 0x0fff) | 0x1000)))
            }
            Action::StripVlan => v1_3::Action::PopVlan,
            Action::SetEthSrc(mac) => v1_3::Action::SetField(Oxm::new(OxmField::EthSrc, &mac.0)),
            Action::SetEthDst(mac) => v1_3::Action::SetField(Oxm::new(OxmField::EthDst, &mac.0)),
        }
    }
}

fn actions_1_0(actions: &[Action]) -> Result<Vec<v1_0::Action>, EncodeError> {
    actions.iter().map(Action::to_v1_0).collect()
}

fn actions_1_3(actions: &[Action]) -> Vec<v1_3::Action> {
    actions.iter().map(Action::to_v1_3).collect()
}

/// What a flow-mod does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowModCommand {
    /// Adds a flow (replacing an identical one).
    Add,
    /// Changes the actions of every matching flow.
    Modify,
    /// Changes the actions of the flow with exactly this match and priority.
    ModifyStrict,
    /// Deletes every matching flow.
    Delete,
    /// Deletes the flow with exactly this match and priority.
    DeleteStrict,
}

impl FlowModCommand {
    fn code(self) -> u8 {
        match self {
            FlowModCommand::Add => 0,
            FlowModCommand::Modify => 1,
            FlowModCommand::ModifyStrict => 2,
            FlowModCommand::Delete => 3,
            FlowModCommand::DeleteStrict => 4,
        }
    }
}

/// A flow-mod: a match, actions (applied at once, 1.3's apply-actions), timeouts and the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMod {
    command: FlowModCommand,
    match_: Match,
    actions: Actions,
    priority: u16,
    idle_timeout: u16,
    hard_timeout: u16,
    cookie: u64,
    buffer_id: u32,
    out_port: u32,
    table_id: u8,
    send_flow_removed: bool,
}

impl FlowMod {
    /// A flow-mod with `command` and `match_`, priority 0x8000, no timeouts, no actions.
    #[inline]
    pub fn new(command: FlowModCommand, match_: Match) -> FlowMod {
        FlowMod {
            command,
            match_,
            actions: Actions::new(),
            priority: 0x8000,
            idle_timeout: 0,
            hard_timeout: 0,
            cookie: 0,
            buffer_id: NO_BUFFER,
            out_port: port::ANY,
            table_id: 0,
            send_flow_removed: false,
        }
    }

    /// Adds a flow.
    #[inline]
    pub fn add(match_: Match) -> FlowMod {
        FlowMod::new(FlowModCommand::Add, match_)
    }

    /// Deletes every flow `match_` covers (all priorities, every output port).
    pub fn delete(match_: Match) -> FlowMod {
        FlowMod::new(FlowModCommand::Delete, match_)
    }

    /// The actions (none: drop).
    #[inline]
    pub fn actions(mut self, actions: impl IntoIterator<Item = Action>) -> Self {
        self.actions = actions.into_iter().collect();
        self
    }

    /// The priority.
    #[inline]
    pub fn priority(mut self, priority: u16) -> Self {
        self.priority = priority;
        self
    }

    /// Seconds without traffic before the flow goes (0: never).
    #[inline]
    pub fn idle_timeout(mut self, seconds: u16) -> Self {
        self.idle_timeout = seconds;
        self
    }

    /// Seconds before the flow goes, traffic or not (0: never).
    #[inline]
    pub fn hard_timeout(mut self, seconds: u16) -> Self {
        self.hard_timeout = seconds;
        self
    }

    /// The cookie.
    #[inline]
    pub fn cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    /// Applies the new flow to the packet the switch buffered under `buffer_id` ([`NO_BUFFER`]: none).
    #[inline]
    pub fn buffer_id(mut self, buffer_id: u32) -> Self {
        self.buffer_id = buffer_id;
        self
    }

    /// For deletes: only flows that output to `port`.
    #[inline]
    pub fn out_port(mut self, port: u32) -> Self {
        self.out_port = port;
        self
    }

    /// The flow table (1.3; 1.0 has only table 0 here).
    #[inline]
    pub fn table(mut self, table_id: u8) -> Self {
        self.table_id = table_id;
        self
    }

    /// Asks the switch for a flow-removed message when the flow goes.
    #[inline]
    pub fn send_flow_removed(mut self) -> Self {
        self.send_flow_removed = true;
        self
    }

    /// The flow-mod in OpenFlow 1.0.
    pub fn to_v1_0(&self) -> Result<v1_0::FlowMod, EncodeError> {
        if self.table_id != 0 {
            return Err(not_in_version(format!("flow table {}", self.table_id), OFP_VERSION_1_0));
        }
        let mut flow = v1_0::FlowMod::add(self.match_.to_v1_0()?)
            .priority(self.priority)
            .idle_timeout(self.idle_timeout)
            .hard_timeout(self.hard_timeout)
            .cookie(self.cookie)
            .buffer_id(self.buffer_id)
            .actions(actions_1_0(&self.actions)?);
        flow.command = u16::from(self.command.code());
        flow.out_port = port_to_1_0(self.out_port)?;
        if self.send_flow_removed {
            flow = flow.send_flow_removed();
        }
        Ok(flow)
    }

    /// The flow-mod in OpenFlow 1.3 (the actions in one apply-actions instruction, none if there are none).
    pub fn to_v1_3(&self) -> Result<v1_3::FlowMod, EncodeError> {
        let mut flow = v1_3::FlowMod::add(self.match_.to_v1_3()?)
            .priority(self.priority)
            .idle_timeout(self.idle_timeout)
            .hard_timeout(self.hard_timeout)
            .cookie(self.cookie)
            .buffer_id(self.buffer_id)
            .table(self.table_id);
        if !self.actions.is_empty() {
            flow = flow.apply_actions(actions_1_3(&self.actions));
        }
        flow.command = self.command.code();
        flow.out_port = self.out_port;
        if self.send_flow_removed {
            flow = flow.send_flow_removed();
        }
        Ok(flow)
    }
}

/// Encodes straight to the wire (the same bytes as [`FlowMod::to_v1_0`] and [`FlowMod::to_v1_3`] encode to; 1.2,
/// 1.4 and 1.5 as 1.3 in their own header), without building the version's own message first: this is what apps
/// send per packet-in.
impl Encode for FlowMod {
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        const NAME: &str = "OFPT_FLOW_MOD";
        let flags = if self.send_flow_removed { v1_3::flow_mod_flags::SEND_FLOW_REM } else { 0 };
        match version {
            OFP_VERSION_1_0 => {
                if self.table_id != 0 {
                    return Err(not_in_version(format!("flow table {}", self.table_id), OFP_VERSION_1_0));
                }
                let in_port = self.match_.in_port.map(port_to_1_0).transpose()?;
                let out_port = port_to_1_0(self.out_port)?;
                encode_message(out, (version, v1_0::msg_type::FLOW_MOD, xid), NAME, |out| {
                    // The match and the fixed fields written where they go, in room made at once: put together on
                    // the stack and copied, their small stores were read back by wide loads that store forwarding
                    // cannot serve; pushed one by one, each paid for a check of the room.
                    const FIXED: usize = v1_0::Match::LEN + 24;
                    let start = out.len();
                    out.resize(start + FIXED, 0);
                    if let Some(fixed) = out.last_chunk_mut::<FIXED>() {
                        let (match_, fields) = fixed.split_at_mut(v1_0::Match::LEN);
                        if let Ok(match_) = <&mut [u8; v1_0::Match::LEN]>::try_from(match_) {
                            self.match_.to_v1_0_with(in_port).write_to(match_);
                        }
                        fields[0..8].copy_from_slice(&self.cookie.to_be_bytes());
                        fields[8..10].copy_from_slice(&u16::from(self.command.code()).to_be_bytes());
                        fields[10..12].copy_from_slice(&self.idle_timeout.to_be_bytes());
                        fields[12..14].copy_from_slice(&self.hard_timeout.to_be_bytes());
                        fields[14..16].copy_from_slice(&self.priority.to_be_bytes());
                        fields[16..20].copy_from_slice(&self.buffer_id.to_be_bytes());
                        fields[20..22].copy_from_slice(&out_port.to_be_bytes());
                        fields[22..24].copy_from_slice(&flags.to_be_bytes());
                    }
                    self.actions.iter().try_for_each(|action| action.emit_v1_0(out))
                })
            }
            OFP_VERSION_1_2 | OFP_VERSION_1_3 | OFP_VERSION_1_4 | OFP_VERSION_1_5 => {
                encode_message(out, (version, v1_3::msg_type::FLOW_MOD, xid), NAME, |out| {
                    // The fixed fields written where they go, as for 1.0; the cookie mask, 0, and the padding (1.4
                    // and 1.5's importance) stay zero.
                    let start = out.len();
                    out.resize(start + 32, 0);
                    if let Some(fields) = out.last_chunk_mut::<32>() {
                        fields[0..8].copy_from_slice(&self.cookie.to_be_bytes());
                        fields[16] = self.table_id;
                        fields[17] = self.command.code();
                        fields[18..20].copy_from_slice(&self.idle_timeout.to_be_bytes());
                        fields[20..22].copy_from_slice(&self.hard_timeout.to_be_bytes());
                        fields[22..24].copy_from_slice(&self.priority.to_be_bytes());
                        fields[24..28].copy_from_slice(&self.buffer_id.to_be_bytes());
                        fields[28..32].copy_from_slice(&self.out_port.to_be_bytes());
                    }
                    out.put_u32(v1_3::OFPG_ANY);
                    out.put_u16(flags);
                    out.put_zeros(2);
                    self.match_.emit_oxm(version, out)?;
                    if self.actions.is_empty() {
                        return Ok(());
                    }
                    // One apply-actions instruction (OFPIT_APPLY_ACTIONS), padded to 8 bytes.
                    let start = out.len();
                    out.put_u16(4);
                    out.put_u16(0);
                    out.put_zeros(4);
                    self.actions.iter().try_for_each(|action| action.to_v1_3().emit(out))?;
                    out.pad8_from(start);
                    out.set_len16(start + 2, start, "an instruction")
                })
            }
            other => Err(unsupported_version(other)),
        }
    }
}

/// A packet-out: a packet (or a buffered one) and what to do with it. It borrows the packet it sends where it can
/// (a packet-in's data), and encodes straight to the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketOut<'a> {
    buffer_id: u32,
    in_port: u32,
    actions: Actions,
    data: Cow<'a, [u8]>,
}

impl<'a> PacketOut<'a> {
    /// Sends `data` through `actions`, as if it came from the controller.
    pub fn new(data: impl Into<Cow<'a, [u8]>>, actions: impl IntoIterator<Item = Action>) -> PacketOut<'a> {
        PacketOut {
            buffer_id: NO_BUFFER,
            in_port: port::CONTROLLER,
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }

    /// Sends the packet the switch buffered under `buffer_id` (it came in on `in_port`) through `actions`.
    pub fn buffered(buffer_id: u32, in_port: u32, actions: impl IntoIterator<Item = Action>) -> PacketOut<'a> {
        PacketOut { buffer_id, in_port, actions: actions.into_iter().collect(), data: Cow::Borrowed(&[]) }
    }

    /// Sends a packet-in's packet on through `actions`: the switch's buffered copy if it kept one, else the data.
    pub fn reply(packet_in: &PacketIn<'a>, actions: impl IntoIterator<Item = Action>) -> PacketOut<'a> {
        if packet_in.buffer_id == NO_BUFFER {
            PacketOut::new(packet_in.data, actions).in_port(packet_in.in_port)
        } else {
            PacketOut::buffered(packet_in.buffer_id, packet_in.in_port, actions)
        }
    }

    /// The port the packet counts as having come in on.
    #[inline]
    pub fn in_port(mut self, port: u32) -> Self {
        self.in_port = port;
        self
    }
}

impl Encode for PacketOut<'_> {
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        const NAME: &str = "OFPT_PACKET_OUT";
        match version {
            OFP_VERSION_1_0 => encode_message(out, (version, v1_0::msg_type::PACKET_OUT, xid), NAME, |out| {
                out.put_u32(self.buffer_id);
                out.put_u16(port_to_1_0(self.in_port)?);
                let at = out.len();
                out.put_u16(0);
                for action in &self.actions {
                    action.emit_v1_0(out)?;
                }
                out.set_len16(at, at + 2, "the actions of a packet-out")?;
                out.extend_from_slice(&self.data);
                Ok(())
            }),
            OFP_VERSION_1_2 | OFP_VERSION_1_3 | OFP_VERSION_1_4 => {
                encode_message(out, (version, v1_3::msg_type::PACKET_OUT, xid), NAME, |out| {
                    out.put_u32(self.buffer_id);
                    out.put_u32(self.in_port);
                    let at = out.len();
                    out.put_u16(0);
                    out.put_zeros(6);
                    let start = out.len();
                    for action in &self.actions {
                        action.to_v1_3().emit(out)?;
                    }
                    out.set_len16(at, start, "the actions of a packet-out")?;
                    out.extend_from_slice(&self.data);
                    Ok(())
                })
            }
            // 1.5: the in-port is a field of a match, after the actions' length.
            OFP_VERSION_1_5 => encode_message(out, (version, v1_3::msg_type::PACKET_OUT, xid), NAME, |out| {
                out.put_u32(self.buffer_id);
                let at = out.len();
                out.put_u16(0);
                out.put_zeros(2);
                v1_3::Match::new().in_port(self.in_port).emit(out)?;
                let start = out.len();
                for action in &self.actions {
                    action.to_v1_3().emit(out)?;
                }
                out.set_len16(at, start, "the actions of a packet-out")?;
                out.extend_from_slice(&self.data);
                Ok(())
            }),
            other => Err(unsupported_version(other)),
        }
    }
}

/// A barrier request: the switch answers once it has finished every message sent before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Barrier;

impl Encode for Barrier {
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match version {
            OFP_VERSION_1_0 => Message::V1_0(v1_0::Message::BarrierRequest).encode(xid, out),
            OFP_VERSION_1_2 => Message::V1_2(v1_2::Message::BarrierRequest).encode(xid, out),
            OFP_VERSION_1_3 => Message::V1_3(v1_3::Message::BarrierRequest).encode(xid, out),
            OFP_VERSION_1_4 => Message::V1_4(v1_4::Message::BarrierRequest).encode(xid, out),
            OFP_VERSION_1_5 => Message::V1_5(v1_5::Message::BarrierRequest).encode(xid, out),
            other => Err(unsupported_version(other)),
        }
    }
}

/// A bundle control message (open, close, commit or discard, and their replies) for every version that has
/// bundles: 1.4 and 1.5's `OFPT_BUNDLE_CONTROL`, and on 1.3 Open vSwitch's extension (`ONFT_BUNDLE_CONTROL`, an ONF
/// experimenter message with the same body). 1.0 and 1.2 have no bundles: [`EncodeError::NotInVersion`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleControl {
    /// The bundle id, chosen by the controller.
    pub bundle_id: u32,
    /// `OFPBCT_*` ([`crate::bundle::bundle_ctrl_type`]).
    pub ctrl_type: u16,
    /// `OFPBF_*` ([`crate::bundle::bundle_flags`]): the same in every message of one bundle.
    pub flags: u16,
}

impl BundleControl {
    /// A control message of `ctrl_type` for bundle `bundle_id`.
    #[inline]
    pub fn new(bundle_id: u32, ctrl_type: u16, flags: u16) -> BundleControl {
        BundleControl { bundle_id, ctrl_type, flags }
    }

    /// Reads a bundle control message of any version (1.3's ONF extension, 1.4, 1.5), or says why it is not one.
    pub fn parse(message: &[u8]) -> Result<BundleControl, DecodeError> {
        let from = |b: &crate::bundle::BundleCtrl| BundleControl::new(b.bundle_id, b.ctrl_type, b.flags);
        match crate::decode(message)? {
            (_, Message::V1_3(v1_3::Message::BundleControl(b)))
            | (_, Message::V1_4(v1_4::Message::BundleControl(b)))
            | (_, Message::V1_5(v1_5::Message::BundleControl(b))) => Ok(from(&b)),
            (_, other) => Err(DecodeError::new(other.type_name(), 1, "not a bundle control message")),
        }
    }
}

/// Whether `version` has bundles (1.3 through Open vSwitch's extension, 1.4 and 1.5).
fn has_bundles(version: u8) -> Result<(), EncodeError> {
    match version {
        OFP_VERSION_1_3 | OFP_VERSION_1_4 | OFP_VERSION_1_5 => Ok(()),
        other => Err(not_in_version("bundles (OpenFlow 1.3 with Open vSwitch's extension, 1.4 or 1.5)", other)),
    }
}

/// The message type and, on 1.3, the ONF experimenter header of a bundle message (`onf_type`:
/// `ONF_ET_BUNDLE_*`; `native_type`: 1.4's `OFPT_BUNDLE_*`).
fn bundle_header(version: u8, onf_type: u32, native_type: u8) -> (u8, Option<[u32; 2]>) {
    if version == OFP_VERSION_1_3 {
        (v1_3::msg_type::EXPERIMENTER, Some([crate::bundle::ONF_EXPERIMENTER_ID, onf_type]))
    } else {
        (native_type, None)
    }
}

impl Encode for BundleControl {
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        has_bundles(version)?;
        let (msg_type, experimenter) =
            bundle_header(version, crate::bundle::ONF_ET_BUNDLE_CONTROL, v1_4::msg_type::BUNDLE_CONTROL);
        encode_message(out, (version, msg_type, xid), "OFPT_BUNDLE_CONTROL", |out| {
            experimenter.iter().flatten().for_each(|word| out.put_u32(*word));
            out.put_u32(self.bundle_id);
            out.put_u16(self.ctrl_type);
            out.put_u16(self.flags);
            Ok(())
        })
    }
}

/// A message added to an open bundle (`OFPT_BUNDLE_ADD_MESSAGE`; `ONFT_BUNDLE_ADD_MESSAGE` on 1.3). The added
/// message is encoded for the same version under the add's own xid, as the specification and Open vSwitch want
/// (the switch names that xid in an error about the message). A message of another version than the bundle's
/// (a version-specific one) is [`EncodeError::NotInVersion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleAdd<M> {
    /// The bundle id.
    pub bundle_id: u32,
    /// The bundle's `OFPBF_*` flags, as in its open request.
    pub flags: u16,
    /// The message: a flow-mod, group-mod, port-mod or packet-out.
    pub message: M,
}

impl<M: Encode> Encode for BundleAdd<M> {
    fn encode_for(&self, version: u8, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        has_bundles(version)?;
        let mut inner = Vec::new();
        self.message.encode_for(version, xid, &mut inner)?;
        if let Some(&other) = inner.first().filter(|&&v| v != version) {
            return Err(not_in_version(
                format!("a message of OpenFlow {} in a bundle", crate::version_name(other)),
                version,
            ));
        }
        let (msg_type, experimenter) =
            bundle_header(version, crate::bundle::ONF_ET_BUNDLE_ADD_MESSAGE, v1_4::msg_type::BUNDLE_ADD_MESSAGE);
        encode_message(out, (version, msg_type, xid), "OFPT_BUNDLE_ADD_MESSAGE", |out| {
            experimenter.iter().flatten().for_each(|word| out.put_u32(*word));
            out.put_u32(self.bundle_id);
            out.put_zeros(2);
            out.put_u16(self.flags);
            out.extend_from_slice(&inner);
            Ok(())
        })
    }
}

/// A packet-in, the same for every version, read in place (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketIn<'a> {
    /// The port the packet came in on (1.3 numbering).
    pub in_port: u32,
    /// The switch's buffer holding the packet, or [`NO_BUFFER`].
    pub buffer_id: u32,
    /// The frame's full length.
    pub total_len: u16,
    /// Why it was sent (`OFPR_*`).
    pub reason: u8,
    /// The table that sent it (0 for 1.0).
    pub table_id: u8,
    /// The cookie of the flow that sent it (0 for 1.0 and 1.2, which do not say).
    pub cookie: u64,
    /// The frame (possibly cut to `miss_send_len`).
    pub data: &'a [u8],
}

impl<'a> PacketIn<'a> {
    /// Reads a packet-in message (header included) of any version.
    #[inline]
    pub fn parse(message: &'a [u8]) -> Result<PacketIn<'a>, DecodeError> {
        match message.first() {
            Some(&OFP_VERSION_1_0) => {
                let view = v1_0::PacketInView::new(message)?;
                Ok(PacketIn {
                    in_port: port_from_1_0(view.in_port()),
                    buffer_id: view.buffer_id(),
                    total_len: view.total_len(),
                    reason: view.reason(),
                    table_id: 0,
                    cookie: 0,
                    data: view.data(),
                })
            }
            Some(&OFP_VERSION_1_3) => {
                let view = v1_3::PacketInView::new(message)?;
                Ok(PacketIn {
                    in_port: view.in_port().unwrap_or(0),
                    buffer_id: view.buffer_id(),
                    total_len: view.total_len(),
                    reason: view.reason(),
                    table_id: view.table_id(),
                    cookie: view.cookie(),
                    data: view.data(),
                })
            }
            Some(&version @ (OFP_VERSION_1_2 | OFP_VERSION_1_4 | OFP_VERSION_1_5)) => {
                PacketIn::parse_oxm(message, version != OFP_VERSION_1_2)
            }
            _ => Err(DecodeError::new("OFPT_PACKET_IN", 0, "not a packet-in of OpenFlow 1.0, 1.2, 1.3, 1.4 or 1.5")),
        }
    }

    /// Reads an OXM version's packet-in (1.2 has no `cookie`; 1.3 to 1.5 do): the fixed fields, the match (whose
    /// TLVs must be well framed; `in_port` is taken from it, 0 without one), two bytes of padding, the frame.
    fn parse_oxm(message: &'a [u8], with_cookie: bool) -> Result<PacketIn<'a>, DecodeError> {
        const NAME: &str = "OFPT_PACKET_IN";
        let header = Header::parse(message)?;
        if header.msg_type != v1_3::msg_type::PACKET_IN {
            return Err(DecodeError::new(NAME, 1, format!("message type {} is not a packet-in", header.msg_type)));
        }
        let message = message.get(..usize::from(header.length)).ok_or_else(|| {
            DecodeError::new(
                NAME,
                message.len(),
                format!("truncated: header length is {} but only {} bytes present", header.length, message.len()),
            )
        })?;
        let mut r = Reader::new(message, 0, NAME);
        r.skip(8)?;
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = r.u8()?;
        let table_id = r.u8()?;
        let cookie = if with_cookie { r.u64()? } else { 0 };
        let match_start = r.offset();
        let match_type = r.u16()?;
        if match_type != v1_3::oxm::OFPMT_OXM {
            return Err(r.err_at(match_start, format!("match type {match_type} is not OFPMT_OXM")));
        }
        let match_len = usize::from(r.u16()?);
        if match_len < 4 {
            return Err(r.err_at(match_start + 2, format!("match length {match_len} is shorter than 4")));
        }
        let mut fields = r.sub(match_len - 4)?;
        let mut in_port = 0;
        while !fields.is_empty() {
            let oxm = fields.u32()?;
            let value = fields.bytes((oxm & 0xff) as usize)?;
            // OFPXMC_OPENFLOW_BASIC, OFPXMT_OFB_IN_PORT, no mask, four bytes.
            if oxm == 0x8000_0004 {
                if let Ok(bytes) = <[u8; 4]>::try_from(value) {
                    in_port = u32::from_be_bytes(bytes);
                }
            }
        }
        r.skip(crate::wire::pad8(match_len) - match_len + 2)?;
        Ok(PacketIn { in_port, buffer_id, total_len, reason, table_id, cookie, data: r.rest() })
    }

    /// Whether the switch kept the packet in a buffer (so a flow-mod or packet-out can name it).
    #[inline]
    pub fn is_buffered(&self) -> bool {
        self.buffer_id != NO_BUFFER
    }
}

/// A switch port, the same for every version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Port {
    /// Port number (1.3 numbering).
    pub port_no: u32,
    /// Ethernet address.
    pub hw_addr: MacAddr,
    /// Name.
    pub name: String,
    /// `OFPPC_*` bits.
    pub config: u32,
    /// `OFPPS_*` bits.
    pub state: u32,
    /// Current features.
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Features the peer advertises.
    pub peer: u32,
    /// Current speed in kb/s (0 for 1.0).
    pub curr_speed: u32,
    /// Maximum speed in kb/s (0 for 1.0).
    pub max_speed: u32,
}

impl From<&v1_0::PhyPort> for Port {
    fn from(p: &v1_0::PhyPort) -> Port {
        Port {
            port_no: port_from_1_0(p.port_no),
            hw_addr: p.hw_addr,
            name: p.name.as_str().into_owned(),
            config: p.config,
            state: p.state,
            curr: p.curr,
            advertised: p.advertised,
            supported: p.supported,
            peer: p.peer,
            curr_speed: 0,
            max_speed: 0,
        }
    }
}

impl From<&v1_3::Port> for Port {
    fn from(p: &v1_3::Port) -> Port {
        Port {
            port_no: p.port_no,
            hw_addr: p.hw_addr,
            name: p.name.as_str().into_owned(),
            config: p.config,
            state: p.state,
            curr: p.curr,
            advertised: p.advertised,
            supported: p.supported,
            peer: p.peer,
            curr_speed: p.curr_speed,
            max_speed: p.max_speed,
        }
    }
}

/// A 1.4/1.5 port: features and speeds from its Ethernet property (0 without one, as for an optical port).
impl From<&v1_4::Port> for Port {
    fn from(p: &v1_4::Port) -> Port {
        let ethernet = p.ethernet_features().copied().unwrap_or_default();
        Port {
            port_no: p.port_no,
            hw_addr: p.hw_addr,
            name: p.name.as_str().into_owned(),
            config: p.config,
            state: p.state,
            curr: ethernet.curr,
            advertised: ethernet.advertised,
            supported: ethernet.supported,
            peer: ethernet.peer,
            curr_speed: ethernet.curr_speed,
            max_speed: ethernet.max_speed,
        }
    }
}

/// Why a port status message was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortReason {
    /// The port was added.
    Add,
    /// The port was removed.
    Delete,
    /// Some attribute (state, config) changed.
    Modify,
    /// A reason code neither version defines.
    Other(u8),
}

impl From<u8> for PortReason {
    fn from(code: u8) -> Self {
        match code {
            0 => PortReason::Add,
            1 => PortReason::Delete,
            2 => PortReason::Modify,
            other => PortReason::Other(other),
        }
    }
}

/// A port status message of any version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortStatus {
    /// What happened.
    pub reason: PortReason,
    /// The port, as it is now.
    pub port: Port,
}

impl PortStatus {
    /// Decodes a port status message (header included) of any version.
    pub fn parse(message: &[u8]) -> Result<PortStatus, DecodeError> {
        let (_, decoded) = crate::decode(message)?;
        match decoded {
            Message::V1_0(v1_0::Message::PortStatus(status)) => {
                Ok(PortStatus { reason: status.reason.into(), port: Port::from(&status.desc) })
            }
            Message::V1_2(v1_2::Message::PortStatus(status)) | Message::V1_3(v1_3::Message::PortStatus(status)) => {
                Ok(PortStatus { reason: status.reason.into(), port: Port::from(&status.desc) })
            }
            Message::V1_4(v1_4::Message::PortStatus(status)) | Message::V1_5(v1_5::Message::PortStatus(status)) => {
                Ok(PortStatus { reason: status.reason.into(), port: Port::from(&status.desc) })
            }
            _ => Err(DecodeError::new("port status", 1, "not a port status message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(text: &str) -> MacAddr {
        text.parse().unwrap_or_default()
    }

    fn encode(message: &impl Encode, version: u8) -> Vec<u8> {
        let mut out = Vec::new();
        message.encode_for(version, 9, &mut out).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    /// The encoder's direct OXM writer gives the bytes of the TLV list `to_oxm` builds, for every field alone and
    /// together, masked and not, and refuses what `to_oxm` refuses with nothing written.
    #[test]
    fn the_direct_oxm_writer_agrees_with_the_tlv_list() {
        let ip = Ipv4Addr::new(10, 1, 2, 3);
        let all = || {
            Match::new()
                .in_port(7)
                .eth_dst(mac("00:00:00:00:00:02"))
                .eth_src(mac("00:00:00:00:00:01"))
                .vlan_vid(42)
                .vlan_pcp(5)
        };
        let matches = [
            Match::new(),
            Match::new().in_port(0xffff_fffd),
            all(),
            all().eth_type(0x0800).ip_proto(6).ipv4_src(ip, 32).ipv4_dst(ip, 24).tp_src(1).tp_dst(80),
            Match::new().eth_type(0x0800).ip_proto(17).tp_dst(53).ipv4_dst(ip, 0),
            Match::new().eth_type(0x0800).ip_proto(132).tp_src(9),
            Match::new().eth_type(0x0806).ipv4_src(ip, 16).ipv4_dst(ip, 32),
            // Refused: IPv4 fields without an IP EtherType, a transport port without its protocol.
            Match::new().ipv4_src(ip, 32),
            Match::new().eth_type(0x0800).tp_dst(80),
            Match::new().eth_type(0x0800).ip_proto(1).tp_dst(80),
        ];
        for m in matches {
            let mut direct = vec![0xaa];
            let written = m.emit_oxm(OFP_VERSION_1_3, &mut direct);
            match m.to_oxm(OFP_VERSION_1_3) {
                Ok(list) => {
                    let mut listed = vec![0xaa];
                    list.emit(&mut listed).unwrap_or_else(|e| panic!("{e}"));
                    assert!(written.is_ok(), "{m:?}: {written:?}");
                    assert_eq!(direct, listed, "{m:?}");
                }
                Err(e) => {
                    assert_eq!(written.map_err(|e| e.to_string()), Err(e.to_string()), "{m:?}");
                    assert_eq!(direct, [0xaa], "{m:?}: nothing written");
                }
            }
        }
    }

    #[test]
    fn a_flow_mod_encodes_as_each_versions_own_builder_does() {
        let (src, dst) = (mac("00:00:00:00:00:01"), mac("00:00:00:00:00:02"));
        let portable = FlowMod::add(Match::new().in_port(1).eth_dst(dst).eth_src(src))
            .priority(1)
            .idle_timeout(30)
            .buffer_id(7)
            .actions([Action::output(2)]);
        let v13 = v1_3::FlowMod::add(v1_3::Match::new().in_port(1).eth_dst(dst).eth_src(src))
            .priority(1)
            .idle_timeout(30)
            .buffer_id(7)
            .apply_actions([v1_3::Action::output(2)]);
        let v10 = v1_0::FlowMod::add(v1_0::Match::new().in_port(1).dl_dst(dst).dl_src(src))
            .priority(1)
            .idle_timeout(30)
            .buffer_id(7)
            .actions([v1_0::Action::output(2)]);
        assert_eq!(encode(&portable, OFP_VERSION_1_3), encode(&v13, OFP_VERSION_1_3));
        assert_eq!(encode(&portable, OFP_VERSION_1_0), encode(&v10, OFP_VERSION_1_0));
    }

    #[test]
    fn every_flow_mod_field_encodes_as_the_versions_own_message() {
        let mac = mac("00:00:00:00:00:09");
        let flows = [
            FlowMod::add(Match::new()).priority(0).actions([Action::Controller(0xffff)]),
            FlowMod::delete(Match::new().eth_dst(mac)).out_port(3).cookie(7),
            FlowMod::new(FlowModCommand::ModifyStrict, Match::new().in_port(2).vlan_vid(10))
                .hard_timeout(5)
                .send_flow_removed()
                .actions([Action::SetEthSrc(mac), Action::StripVlan, Action::output(port::IN_PORT)]),
        ];
        for flow in flows {
            let v10 = flow.to_v1_0().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(encode(&flow, OFP_VERSION_1_0), encode(&v10, OFP_VERSION_1_0), "{flow:?}");
            let v13 = flow.clone().table(2).to_v1_3().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(encode(&flow.clone().table(2), OFP_VERSION_1_3), encode(&v13, OFP_VERSION_1_3), "{flow:?}");
        }
    }

    #[test]
    fn reserved_ports_map_between_versions_and_others_must_fit() {
        assert_eq!(port_to_1_0(port::FLOOD), Ok(0xfffb));
        assert_eq!(port_to_1_0(port::CONTROLLER), Ok(0xfffd));
        assert_eq!(port_from_1_0(0xfffe), port::LOCAL);
        assert_eq!(port_from_1_0(3), 3);
        assert!(port_to_1_0(0xff00).is_err());
        let flood = PacketOut::new(vec![1, 2, 3], [Action::flood()]).in_port(1);
        let v10 = v1_0::PacketOut::new(vec![1, 2, 3], [v1_0::Action::output(0xfffb)]).in_port(1);
        assert_eq!(encode(&flood, OFP_VERSION_1_0), encode(&v10, OFP_VERSION_1_0));
        let v13 = v1_3::PacketOut::new(vec![1, 2, 3], [v1_3::Action::output(port::FLOOD)]).in_port(1);
        assert_eq!(encode(&flood, OFP_VERSION_1_3), encode(&v13, OFP_VERSION_1_3));
        let buffered = PacketOut::buffered(9, 2, [Action::output(3)]);
        let v13 = v1_3::PacketOut::buffered(9, 2, [v1_3::Action::output(3)]);
        assert_eq!(encode(&buffered, OFP_VERSION_1_3), encode(&v13, OFP_VERSION_1_3));
        let v10 = v1_0::PacketOut::buffered(9, 2, [v1_0::Action::output(3)]);
        assert_eq!(encode(&buffered, OFP_VERSION_1_0), encode(&v10, OFP_VERSION_1_0));
    }

    #[test]
    fn what_a_version_cannot_say_is_an_error_and_writes_nothing() {
        let mut out = vec![0xaa];
        let tcp_without_proto = FlowMod::add(Match::new().eth_type(0x0800).tp_dst(80));
        assert!(matches!(
            tcp_without_proto.encode_for(OFP_VERSION_1_3, 1, &mut out),
            Err(EncodeError::NotInVersion { version: OFP_VERSION_1_3, .. })
        ));
        assert!(FlowMod::add(Match::new()).table(3).encode_for(OFP_VERSION_1_0, 1, &mut out).is_err());
        assert!(Barrier.encode_for(0x02, 1, &mut out).is_err(), "1.1 is not spoken");
        assert_eq!(out, [0xaa]);
    }

    #[test]
    fn matches_carry_1_3_prerequisites() {
        let m = Match::new().eth_type(0x0800).ip_proto(6).ipv4_dst(Ipv4Addr::new(10, 0, 0, 0), 8).tp_dst(22);
        let v13 = m.to_v1_3().unwrap_or_default();
        assert_eq!(v13.get(OxmField::TcpDst).map(Oxm::value_u64), Some(22));
        assert_eq!(v13.get(OxmField::Ipv4Dst).and_then(Oxm::mask), Some(&[255, 0, 0, 0][..]));
        let arp = Match::new().eth_type(0x0806).ipv4_src(Ipv4Addr::new(10, 0, 0, 1), 32).to_v1_3().unwrap_or_default();
        assert!(arp.get(OxmField::ArpSpa).is_some());
    }

    #[test]
    fn barrier_and_packet_in_views_for_both_versions() {
        assert_eq!(encode(&Barrier, OFP_VERSION_1_0)[1], 18);
        assert_eq!(encode(&Barrier, OFP_VERSION_1_3)[1], 20);
        let v10 = Message::V1_0(v1_0::Message::PacketIn(v1_0::PacketIn {
            buffer_id: NO_BUFFER,
            total_len: 3,
            in_port: 0xfffe,
            reason: 0,
            data: vec![1, 2, 3],
        }));
        let bytes = v10.to_vec(1).unwrap_or_default();
        let packet_in = PacketIn::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((packet_in.in_port, packet_in.data, packet_in.is_buffered()), (port::LOCAL, &[1, 2, 3][..], false));
        let reply = PacketOut::reply(&packet_in, [Action::flood()]);
        assert_eq!(reply, PacketOut::new(vec![1, 2, 3], [Action::flood()]).in_port(port::LOCAL));
    }

    fn flow() -> FlowMod {
        FlowMod::add(Match::new().in_port(1).eth_dst(mac("00:00:00:00:00:02")).eth_src(mac("00:00:00:00:00:01")))
            .priority(1)
            .idle_timeout(30)
            .buffer_id(7)
            .send_flow_removed()
            .actions([Action::output(2), Action::SetVlanVid(5)])
    }

    #[test]
    fn a_flow_mod_for_1_2_1_4_and_1_5_is_that_version_s_own_with_1_3_s_match_and_instructions() {
        let portable = flow();
        let v13 = portable.to_v1_3().unwrap_or_else(|e| panic!("{e}"));
        let v14 = v1_4::FlowMod { flow: v13.clone(), importance: 0 };
        let expected = [
            (OFP_VERSION_1_2, Message::V1_2(v1_2::Message::FlowMod(v13))),
            (OFP_VERSION_1_4, Message::V1_4(v1_4::Message::FlowMod(v14.clone()))),
            (OFP_VERSION_1_5, Message::V1_5(v1_5::Message::FlowMod(v14))),
        ];
        for (version, message) in expected {
            let bytes = encode(&portable, version);
            assert_eq!(bytes, encode(&message, version), "version {version}");
            let (_, decoded) = crate::decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(decoded, message);
        }
        let mut out = Vec::new();
        let tcp_without_proto = FlowMod::add(Match::new().eth_type(0x0800).tp_dst(80));
        assert!(matches!(
            tcp_without_proto.encode_for(OFP_VERSION_1_5, 1, &mut out),
            Err(EncodeError::NotInVersion { version: OFP_VERSION_1_5, .. })
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn a_1_5_packet_out_names_its_in_port_in_a_match_and_1_2_and_1_4_as_1_3() {
        let flood = PacketOut::new(vec![1, 2, 3], [Action::flood()]).in_port(4);
        let v15 = v1_5::PacketOut {
            buffer_id: NO_BUFFER,
            match_: v1_3::Match::new().in_port(4),
            actions: vec![v1_3::Action::output(port::FLOOD)],
            data: vec![1, 2, 3],
        };
        let bytes = encode(&flood, OFP_VERSION_1_5);
        assert_eq!(bytes, encode(&Message::V1_5(v1_5::Message::PacketOut(v15.clone())), OFP_VERSION_1_5));
        let (_, decoded) = crate::decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded, Message::V1_5(v1_5::Message::PacketOut(v15)));

        let buffered = PacketOut::buffered(9, 2, [Action::output(3)]);
        let v13 = v1_3::PacketOut::buffered(9, 2, [v1_3::Action::output(3)]);
        for (version, message) in [
            (OFP_VERSION_1_2, Message::V1_2(v1_2::Message::PacketOut(v13.clone()))),
            (OFP_VERSION_1_4, Message::V1_4(v1_4::Message::PacketOut(v13))),
        ] {
            assert_eq!(encode(&buffered, version), encode(&message, version), "version {version}");
        }
    }

    #[test]
    fn barriers_of_every_version() {
        for (version, msg_type) in
            [(OFP_VERSION_1_2, 20), (OFP_VERSION_1_3, 20), (OFP_VERSION_1_4, 20), (OFP_VERSION_1_5, 20)]
        {
            let bytes = encode(&Barrier, version);
            assert_eq!((bytes[0], bytes[1], bytes.len()), (version, msg_type, 8));
        }
    }

    #[test]
    fn packet_ins_of_1_2_1_4_and_1_5_are_read_in_place() {
        let match_ = v1_3::Match::new().eth_type(0x0800).in_port(6);
        let v13 = v1_3::PacketIn {
            buffer_id: 33,
            total_len: 60,
            reason: 1,
            table_id: 2,
            cookie: 0xc0ffee,
            match_: match_.clone(),
            data: vec![9; 4],
        };
        let v12 = v1_2::PacketIn { buffer_id: 33, total_len: 60, reason: 1, table_id: 2, match_, data: vec![9; 4] };
        for (message, cookie) in [
            (Message::V1_2(v1_2::Message::PacketIn(v12)), 0),
            (Message::V1_4(v1_4::Message::PacketIn(v13.clone())), 0xc0ffee),
            (Message::V1_5(v1_5::Message::PacketIn(v13)), 0xc0ffee),
        ] {
            let bytes = message.to_vec(1).unwrap_or_default();
            let packet_in = PacketIn::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                packet_in,
                PacketIn { in_port: 6, buffer_id: 33, total_len: 60, reason: 1, table_id: 2, cookie, data: &[9; 4] },
                "{message:?}"
            );
            // Cut anywhere, or with a match claiming more than there is, it is an error, never a panic.
            for len in 8..bytes.len() - 4 {
                let mut cut = bytes[..len].to_vec();
                cut[2..4].copy_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
                assert!(PacketIn::parse(&cut).is_err(), "{len} bytes of {message:?}");
            }
        }
        assert!(PacketIn::parse(&[0x02, 10, 0, 8, 0, 0, 0, 1]).is_err(), "1.1");
    }

    #[test]
    fn ports_of_1_4_and_1_5_take_their_features_from_the_ethernet_property() {
        let ethernet = v1_4::PortEthernet {
            curr: 0x840,
            advertised: 1,
            supported: 2,
            peer: 3,
            curr_speed: 10_000_000,
            max_speed: 100_000_000,
        };
        let mut desc = v1_4::Port::ethernet(3, mac("02:00:00:00:00:03"), "eth3", ethernet);
        desc.state = 1;
        let status = v1_4::PortStatus { reason: 2, desc: desc.clone() };
        let expected = Port {
            port_no: 3,
            hw_addr: mac("02:00:00:00:00:03"),
            name: "eth3".to_owned(),
            config: 0,
            state: 1,
            curr: 0x840,
            advertised: 1,
            supported: 2,
            peer: 3,
            curr_speed: 10_000_000,
            max_speed: 100_000_000,
        };
        for message in
            [Message::V1_4(v1_4::Message::PortStatus(status.clone())), Message::V1_5(v1_5::Message::PortStatus(status))]
        {
            let parsed = PortStatus::parse(&message.to_vec(0).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(parsed, PortStatus { reason: PortReason::Modify, port: expected.clone() });
        }
        desc.properties.clear();
        assert_eq!(Port::from(&desc).curr_speed, 0, "a port without an Ethernet property has no speeds");
        let v12 = v1_3::PortStatus { reason: 0, desc: v1_3::Port { port_no: 3, ..Default::default() } };
        let parsed = PortStatus::parse(&Message::V1_2(v1_2::Message::PortStatus(v12)).to_vec(0).unwrap_or_default());
        assert_eq!(parsed.map(|status| (status.reason, status.port.port_no)).ok(), Some((PortReason::Add, 3)));
    }
}
