//! OpenFlow 1.3 (wire version 0x04) messages.
//!
//! [`Message`] is the decoded form of any 1.3 message; each variant holds a
//! plain struct with `parse`/`emit_body` (lengths and padding are computed on
//! emit). [`PacketInView`] is an allocation-free view for the packet-in fast path.

pub mod action;
pub mod consts;
pub mod instruction;
pub mod multipart;
pub mod oxm;
pub mod table_features;

pub use action::{port, Action};
pub use instruction::Instruction;
pub use multipart::{MultipartReply, MultipartRequest};
pub use oxm::{Match, Oxm, OxmField};

use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header, HEADER_LEN};
use crate::types::{FixedStr, MacAddr};
use crate::wire::{Put, Reader};

/// Wire version of OpenFlow 1.3.
pub const VERSION: u8 = 0x04;
/// `OFP_NO_BUFFER`.
pub const OFP_NO_BUFFER: u32 = 0xffff_ffff;
/// `OFP_DEFAULT_PRIORITY`.
pub const OFP_DEFAULT_PRIORITY: u16 = 0x8000;
/// `OFPG_ANY`.
pub const OFPG_ANY: u32 = 0xffff_ffff;
/// `OFPTT_ALL`.
pub const OFPTT_ALL: u8 = 0xff;

/// Message type numbers (`OFPT_*`).
#[allow(missing_docs)]
pub mod msg_type {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
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
    pub const GROUP_MOD: u8 = 15;
    pub const PORT_MOD: u8 = 16;
    pub const TABLE_MOD: u8 = 17;
    pub const MULTIPART_REQUEST: u8 = 18;
    pub const MULTIPART_REPLY: u8 = 19;
    pub const BARRIER_REQUEST: u8 = 20;
    pub const BARRIER_REPLY: u8 = 21;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 23;
    pub const ROLE_REQUEST: u8 = 24;
    pub const ROLE_REPLY: u8 = 25;
    pub const GET_ASYNC_REQUEST: u8 = 26;
    pub const GET_ASYNC_REPLY: u8 = 27;
    pub const SET_ASYNC: u8 = 28;
    pub const METER_MOD: u8 = 29;
}

/// `OFPT_*` name of a 1.3 message type.
pub fn type_name(t: u8) -> &'static str {
    const NAMES: [&str; 30] = [
        "OFPT_HELLO",
        "OFPT_ERROR",
        "OFPT_ECHO_REQUEST",
        "OFPT_ECHO_REPLY",
        "OFPT_EXPERIMENTER",
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
        "OFPT_GROUP_MOD",
        "OFPT_PORT_MOD",
        "OFPT_TABLE_MOD",
        "OFPT_MULTIPART_REQUEST",
        "OFPT_MULTIPART_REPLY",
        "OFPT_BARRIER_REQUEST",
        "OFPT_BARRIER_REPLY",
        "OFPT_QUEUE_GET_CONFIG_REQUEST",
        "OFPT_QUEUE_GET_CONFIG_REPLY",
        "OFPT_ROLE_REQUEST",
        "OFPT_ROLE_REPLY",
        "OFPT_GET_ASYNC_REQUEST",
        "OFPT_GET_ASYNC_REPLY",
        "OFPT_SET_ASYNC",
        "OFPT_METER_MOD",
    ];
    NAMES.get(t as usize).copied().unwrap_or("OFPT_UNKNOWN")
}

/// Any OpenFlow 1.3 message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `OFPT_HELLO`.
    Hello(Hello),
    /// `OFPT_ERROR`.
    Error(ErrorMsg),
    /// `OFPT_ECHO_REQUEST` with its data.
    EchoRequest(Vec<u8>),
    /// `OFPT_ECHO_REPLY` with its data.
    EchoReply(Vec<u8>),
    /// `OFPT_EXPERIMENTER`.
    Experimenter(Experimenter),
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
    /// `OFPT_GROUP_MOD`.
    GroupMod(GroupMod),
    /// `OFPT_PORT_MOD`.
    PortMod(PortMod),
    /// `OFPT_TABLE_MOD`.
    TableMod(TableMod),
    /// `OFPT_MULTIPART_REQUEST`.
    MultipartRequest(MultipartRequest),
    /// `OFPT_MULTIPART_REPLY`.
    MultipartReply(MultipartReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
    /// `OFPT_QUEUE_GET_CONFIG_REQUEST` for a port.
    QueueGetConfigRequest {
        /// Port (`OFPP_ANY` for all).
        port: u32,
    },
    /// `OFPT_QUEUE_GET_CONFIG_REPLY`.
    QueueGetConfigReply(QueueGetConfigReply),
    /// `OFPT_ROLE_REQUEST`.
    RoleRequest(Role),
    /// `OFPT_ROLE_REPLY`.
    RoleReply(Role),
    /// `OFPT_GET_ASYNC_REQUEST`.
    GetAsyncRequest,
    /// `OFPT_GET_ASYNC_REPLY`.
    GetAsyncReply(AsyncConfig),
    /// `OFPT_SET_ASYNC`.
    SetAsync(AsyncConfig),
    /// `OFPT_METER_MOD`.
    MeterMod(MeterMod),
}

/// `OFPT_EXPERIMENTER` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Experimenter {
    /// Experimenter id.
    pub experimenter: u32,
    /// Experimenter-defined type.
    pub exp_type: u32,
    /// Opaque body.
    pub data: Vec<u8>,
}

/// `OFPT_FEATURES_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id.
    pub datapath_id: u64,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Number of tables.
    pub n_tables: u8,
    /// Auxiliary connection id.
    pub auxiliary_id: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Reserved word (kept for exact re-encoding).
    pub reserved: u32,
}

/// Switch configuration (`OFPT_GET_CONFIG_REPLY` / `OFPT_SET_CONFIG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_FRAG_*` flags.
    pub flags: u16,
    /// Bytes of a table-miss packet to send to the controller.
    pub miss_send_len: u16,
}

/// `OFPT_PACKET_IN` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketIn {
    /// Buffer id, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Full length of the frame.
    pub total_len: u16,
    /// `OFPR_*` reason.
    pub reason: u8,
    /// Table that was looked up.
    pub table_id: u8,
    /// Cookie of the flow entry.
    pub cookie: u64,
    /// Pipeline fields (in_port etc.).
    pub match_: Match,
    /// The (possibly truncated) frame.
    pub data: Vec<u8>,
}

/// `OFPT_FLOW_REMOVED` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowRemoved {
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// `OFPRR_*` reason.
    pub reason: u8,
    /// Table id.
    pub table_id: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Match.
    pub match_: Match,
}

/// `ofp_port` (64 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Port {
    /// Port number.
    pub port_no: u32,
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
    /// Current speed, kbps.
    pub curr_speed: u32,
    /// Max speed, kbps.
    pub max_speed: u32,
}

impl Port {
    /// Wire size.
    pub const LEN: usize = 64;
    /// Parses a port.
    pub fn parse(r: &mut Reader<'_>) -> Result<Port, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.skip(2)?;
        Ok(Port {
            port_no,
            hw_addr,
            name: FixedStr(r.array()?),
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
            curr_speed: r.u32()?,
            max_speed: r.u32()?,
        })
    }
    /// Appends the port.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_zeros(2);
        out.extend_from_slice(&self.name.0);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            out.put_u32(v);
        }
    }
}

/// `OFPT_PORT_STATUS` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// `OFPPR_ADD` (0), `OFPPR_DELETE` (1), `OFPPR_MODIFY` (2).
    pub reason: u8,
    /// The port.
    pub desc: Port,
}

/// `OFPT_PACKET_OUT` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PacketOut {
    /// Buffer id or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Ingress port (or `OFPP_CONTROLLER`).
    pub in_port: u32,
    /// Actions.
    pub actions: Vec<Action>,
    /// Frame data (when not buffered).
    pub data: Vec<u8>,
}

impl PacketOut {
    /// Sends `data` (unbuffered) with the given actions, `in_port` = `OFPP_CONTROLLER`.
    pub fn new(data: impl Into<Vec<u8>>, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut {
            buffer_id: OFP_NO_BUFFER,
            in_port: port::CONTROLLER,
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }
    /// Releases a switch buffer with the given actions.
    pub fn buffered(buffer_id: u32, in_port: u32, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut { buffer_id, in_port, actions: actions.into_iter().collect(), data: Vec::new() }
    }
    /// Sets the ingress port.
    pub fn in_port(mut self, p: u32) -> Self {
        self.in_port = p;
        self
    }
}

/// Flow-mod commands (`OFPFC_*`).
#[allow(missing_docs)]
pub mod flow_mod_command {
    pub const ADD: u8 = 0;
    pub const MODIFY: u8 = 1;
    pub const MODIFY_STRICT: u8 = 2;
    pub const DELETE: u8 = 3;
    pub const DELETE_STRICT: u8 = 4;
}

/// Flow-mod flags (`OFPFF_*`).
#[allow(missing_docs)]
pub mod flow_mod_flags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const RESET_COUNTS: u16 = 1 << 2;
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// `OFPT_FLOW_MOD` body.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMod {
    /// Cookie.
    pub cookie: u64,
    /// Cookie mask (modify/delete).
    pub cookie_mask: u64,
    /// Table id.
    pub table_id: u8,
    /// `OFPFC_*`.
    pub command: u8,
    /// Idle timeout (s).
    pub idle_timeout: u16,
    /// Hard timeout (s).
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffer to apply to, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Out port filter (delete).
    pub out_port: u32,
    /// Out group filter (delete).
    pub out_group: u32,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Match.
    pub match_: Match,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id: 0,
            command: flow_mod_command::ADD,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: OFP_DEFAULT_PRIORITY,
            buffer_id: OFP_NO_BUFFER,
            out_port: port::ANY,
            out_group: OFPG_ANY,
            flags: 0,
            match_: Match::default(),
            instructions: Vec::new(),
        }
    }
}

impl FlowMod {
    /// An `OFPFC_ADD` for `m` (priority 0x8000, no buffer, table 0).
    pub fn add(m: Match) -> FlowMod {
        FlowMod { match_: m, ..Default::default() }
    }
    /// An `OFPFC_MODIFY` for `m`.
    pub fn modify(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::MODIFY, ..Default::default() }
    }
    /// An `OFPFC_DELETE` for `m` in all tables.
    pub fn delete(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::DELETE, table_id: OFPTT_ALL, ..Default::default() }
    }
    /// An `OFPFC_DELETE_STRICT` for `m`.
    pub fn delete_strict(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::DELETE_STRICT, ..Default::default() }
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
    /// Sets the table.
    pub fn table(mut self, t: u8) -> Self {
        self.table_id = t;
        self
    }
    /// Sets the flags.
    pub fn flags(mut self, f: u16) -> Self {
        self.flags = f;
        self
    }
    /// Sets `OFPFF_SEND_FLOW_REM`.
    pub fn send_flow_removed(mut self) -> Self {
        self.flags |= flow_mod_flags::SEND_FLOW_REM;
        self
    }
    /// Applies the flow to a buffered packet.
    pub fn buffer_id(mut self, b: u32) -> Self {
        self.buffer_id = b;
        self
    }
    /// Adds an instruction.
    pub fn instruction(mut self, i: Instruction) -> Self {
        self.instructions.push(i);
        self
    }
    /// Adds an apply-actions instruction.
    pub fn apply_actions(self, a: impl IntoIterator<Item = Action>) -> Self {
        self.instruction(Instruction::ApplyActions(a.into_iter().collect()))
    }
    /// Adds a write-actions instruction.
    pub fn write_actions(self, a: impl IntoIterator<Item = Action>) -> Self {
        self.instruction(Instruction::WriteActions(a.into_iter().collect()))
    }
    /// Adds a goto-table instruction.
    pub fn goto_table(self, t: u8) -> Self {
        self.instruction(Instruction::GotoTable(t))
    }
    /// Adds a meter instruction.
    pub fn meter(self, m: u32) -> Self {
        self.instruction(Instruction::Meter(m))
    }
}

/// A group bucket.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Bucket {
    /// Weight (select groups).
    pub weight: u16,
    /// Watched port (fast-failover).
    pub watch_port: u32,
    /// Watched group (fast-failover).
    pub watch_group: u32,
    /// Actions.
    pub actions: Vec<Action>,
}

impl Bucket {
    /// Parses one bucket.
    pub fn parse(r: &mut Reader<'_>) -> Result<Bucket, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start, format!("bucket length {} is shorter than 16", len)));
        }
        let mut b =
            r.sub(len - 2).map_err(|_| r.err_at(start, format!("bucket length {} exceeds the message", len)))?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        Ok(Bucket { weight, watch_port, watch_group, actions: action::parse_actions(&mut b)? })
    }
    /// Appends the bucket; fails if it (or an action in it) is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(self.weight);
        out.put_u32(self.watch_port);
        out.put_u32(self.watch_group);
        out.put_zeros(4);
        action::emit_actions(&self.actions, out)?;
        out.set_len16(start, start, "a bucket")
    }
}

/// `OFPT_GROUP_MOD` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupMod {
    /// `OFPGC_*`.
    pub command: u16,
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

impl Bucket {
    /// A bucket with the given actions (weight 0, no watch port/group).
    pub fn new(actions: impl IntoIterator<Item = Action>) -> Bucket {
        Bucket { weight: 0, watch_port: port::ANY, watch_group: OFPG_ANY, actions: actions.into_iter().collect() }
    }
    /// Sets the weight (select groups).
    pub fn weight(mut self, w: u16) -> Self {
        self.weight = w;
        self
    }
    /// Sets the watched port (fast-failover groups).
    pub fn watch_port(mut self, p: u32) -> Self {
        self.watch_port = p;
        self
    }
    /// Sets the watched group (fast-failover groups).
    pub fn watch_group(mut self, g: u32) -> Self {
        self.watch_group = g;
        self
    }
}

impl GroupMod {
    /// An `OFPGC_ADD` of `group_type` (`consts::group::TYPE_*`) for `group_id`.
    pub fn add(group_type: u8, group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::ADD, group_type, group_id, buckets: Vec::new() }
    }
    /// An `OFPGC_MODIFY`.
    pub fn modify(group_type: u8, group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::MODIFY, group_type, group_id, buckets: Vec::new() }
    }
    /// An `OFPGC_DELETE` (use `consts::group::ALL` to delete all groups).
    pub fn delete(group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::DELETE, group_type: 0, group_id, buckets: Vec::new() }
    }
    /// Adds a bucket.
    pub fn bucket(mut self, b: Bucket) -> Self {
        self.buckets.push(b);
        self
    }
}

impl MeterMod {
    /// An `OFPMC_ADD` for `meter_id` with `flags` (`consts::meter::FLAG_*`).
    pub fn add(meter_id: u32, flags: u16) -> MeterMod {
        MeterMod { command: consts::meter::ADD, flags, meter_id, bands: Vec::new() }
    }
    /// An `OFPMC_DELETE`.
    pub fn delete(meter_id: u32) -> MeterMod {
        MeterMod { command: consts::meter::DELETE, flags: 0, meter_id, bands: Vec::new() }
    }
    /// Adds a drop band.
    pub fn drop_band(mut self, rate: u32, burst_size: u32) -> Self {
        self.bands.push(MeterBand::Drop { rate, burst_size });
        self
    }
    /// Adds a DSCP-remark band.
    pub fn dscp_remark_band(mut self, rate: u32, burst_size: u32, prec_level: u8) -> Self {
        self.bands.push(MeterBand::DscpRemark { rate, burst_size, prec_level });
        self
    }
}

/// `OFPT_PORT_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortMod {
    /// Port.
    pub port_no: u32,
    /// Port MAC (sanity check).
    pub hw_addr: MacAddr,
    /// `OFPPC_*` values.
    pub config: u32,
    /// Which config bits to change.
    pub mask: u32,
    /// Features to advertise (0 = unchanged).
    pub advertise: u32,
}

/// `OFPT_TABLE_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableMod {
    /// Table id.
    pub table_id: u8,
    /// Config bits.
    pub config: u32,
}

/// Queue property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueProp {
    /// `OFPQT_MIN_RATE` in 1/10 %.
    MinRate(u16),
    /// `OFPQT_MAX_RATE` in 1/10 %.
    MaxRate(u16),
    /// `OFPQT_EXPERIMENTER`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Other property types, body after the 8-byte property header.
    Unknown {
        /// Property type.
        prop_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl QueueProp {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<QueueProp, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start + 2, format!("queue property length {} is shorter than 8", len)));
        }
        let mut b = r.sub(len - 4)?;
        b.skip(4)?;
        Ok(match t {
            1 | 2 => {
                let v = b.u16()?;
                b.skip(6)?;
                if t == 1 {
                    QueueProp::MinRate(v)
                } else {
                    QueueProp::MaxRate(v)
                }
            }
            0xffff => {
                let e = b.u32()?;
                b.skip(4)?;
                QueueProp::Experimenter { experimenter: e, data: b.rest().to_vec() }
            }
            _ => QueueProp::Unknown { prop_type: t, data: b.rest().to_vec() },
        })
    }
    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let t = match self {
            QueueProp::MinRate(_) => 1,
            QueueProp::MaxRate(_) => 2,
            QueueProp::Experimenter { .. } => 0xffff,
            QueueProp::Unknown { prop_type, .. } => *prop_type,
        };
        out.put_u16(t);
        out.put_u16(0);
        out.put_zeros(4);
        match self {
            QueueProp::MinRate(v) | QueueProp::MaxRate(v) => {
                out.put_u16(*v);
                out.put_zeros(6);
            }
            QueueProp::Experimenter { experimenter, data } => {
                out.put_u32(*experimenter);
                out.put_zeros(4);
                out.extend_from_slice(data);
            }
            QueueProp::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.set_len16(start + 2, start, "a queue property")
    }
}

/// A queue description (`ofp_packet_queue`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketQueue {
    /// Queue id.
    pub queue_id: u32,
    /// Port.
    pub port: u32,
    /// Properties.
    pub properties: Vec<QueueProp>,
}

/// `OFPT_QUEUE_GET_CONFIG_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueGetConfigReply {
    /// Port.
    pub port: u32,
    /// Queues.
    pub queues: Vec<PacketQueue>,
}

/// Role request/reply body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Role {
    /// `OFPCR_ROLE_*`.
    pub role: u32,
    /// Generation id.
    pub generation_id: u64,
}

/// Asynchronous message configuration (get-async reply / set-async).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// Packet-in reasons for [master/equal, slave].
    pub packet_in_mask: [u32; 2],
    /// Port-status reasons.
    pub port_status_mask: [u32; 2],
    /// Flow-removed reasons.
    pub flow_removed_mask: [u32; 2],
}

/// A meter band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeterBand {
    /// `OFPMBT_DROP`.
    Drop {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
    },
    /// `OFPMBT_DSCP_REMARK`.
    DscpRemark {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Drop precedence increase.
        prec_level: u8,
    },
    /// `OFPMBT_EXPERIMENTER`.
    Experimenter {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Experimenter id.
        experimenter: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown band type (body after rate/burst).
    Unknown {
        /// Band type.
        band_type: u16,
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Body.
        data: Vec<u8>,
    },
}

impl MeterBand {
    /// Parses one band.
    pub fn parse(r: &mut Reader<'_>) -> Result<MeterBand, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start + 2, format!("meter band length {} is shorter than 16", len)));
        }
        let mut b = r.sub(len - 4)?;
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        Ok(match t {
            1 if len == 16 => MeterBand::Drop { rate, burst_size },
            2 if len == 16 => MeterBand::DscpRemark { rate, burst_size, prec_level: b.u8()? },
            0xffff => MeterBand::Experimenter { rate, burst_size, experimenter: b.u32()?, data: b.rest().to_vec() },
            _ => MeterBand::Unknown { band_type: t, rate, burst_size, data: b.rest().to_vec() },
        })
    }
    /// Appends the band; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let (t, rate, burst) = match self {
            MeterBand::Drop { rate, burst_size } => (1, rate, burst_size),
            MeterBand::DscpRemark { rate, burst_size, .. } => (2, rate, burst_size),
            MeterBand::Experimenter { rate, burst_size, .. } => (0xffff, rate, burst_size),
            MeterBand::Unknown { band_type, rate, burst_size, .. } => (*band_type, rate, burst_size),
        };
        out.put_u16(t);
        out.put_u16(0);
        out.put_u32(*rate);
        out.put_u32(*burst);
        match self {
            MeterBand::Drop { .. } => out.put_zeros(4),
            MeterBand::DscpRemark { prec_level, .. } => {
                out.put_u8(*prec_level);
                out.put_zeros(3);
            }
            MeterBand::Experimenter { experimenter, data, .. } => {
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
            }
            MeterBand::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.set_len16(start + 2, start, "a meter band")
    }
}

/// `OFPT_METER_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MeterMod {
    /// `OFPMC_*`.
    pub command: u16,
    /// `OFPMF_*`.
    pub flags: u16,
    /// Meter id.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

pub(crate) fn parse_meter_bands(r: &mut Reader<'_>) -> Result<Vec<MeterBand>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(MeterBand::parse(r)?);
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
            Message::Experimenter(_) => EXPERIMENTER,
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
            Message::GroupMod(_) => GROUP_MOD,
            Message::PortMod(_) => PORT_MOD,
            Message::TableMod(_) => TABLE_MOD,
            Message::MultipartRequest(_) => MULTIPART_REQUEST,
            Message::MultipartReply(_) => MULTIPART_REPLY,
            Message::BarrierRequest => BARRIER_REQUEST,
            Message::BarrierReply => BARRIER_REPLY,
            Message::QueueGetConfigRequest { .. } => QUEUE_GET_CONFIG_REQUEST,
            Message::QueueGetConfigReply(_) => QUEUE_GET_CONFIG_REPLY,
            Message::RoleRequest(_) => ROLE_REQUEST,
            Message::RoleReply(_) => ROLE_REPLY,
            Message::GetAsyncRequest => GET_ASYNC_REQUEST,
            Message::GetAsyncReply(_) => GET_ASYNC_REPLY,
            Message::SetAsync(_) => SET_ASYNC,
            Message::MeterMod(_) => METER_MOD,
        }
    }

    /// Decodes one complete 1.3 message (header included). Bytes beyond the
    /// header's length are ignored; fewer bytes than the length is an error.
    pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
        let h = Header::parse(buf)?;
        let name = type_name(h.msg_type);
        if h.version != VERSION {
            return Err(DecodeError::new(name, 0, format!("version 0x{:02x} is not OpenFlow 1.3 (0x04)", h.version)));
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
            ERROR => Message::Error(ErrorMsg::parse(r, true)?),
            ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
            ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
            EXPERIMENTER => Message::Experimenter(Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            }),
            FEATURES_REQUEST => Message::FeaturesRequest,
            FEATURES_REPLY => {
                let datapath_id = r.u64()?;
                let n_buffers = r.u32()?;
                let n_tables = r.u8()?;
                let auxiliary_id = r.u8()?;
                r.skip(2)?;
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id,
                    n_buffers,
                    n_tables,
                    auxiliary_id,
                    capabilities: r.u32()?,
                    reserved: r.u32()?,
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
                let reason = r.u8()?;
                let table_id = r.u8()?;
                let cookie = r.u64()?;
                let match_ = Match::parse(r)?;
                r.skip(2)?;
                Message::PacketIn(PacketIn {
                    buffer_id,
                    total_len,
                    reason,
                    table_id,
                    cookie,
                    match_,
                    data: r.rest().to_vec(),
                })
            }
            FLOW_REMOVED => Message::FlowRemoved(FlowRemoved {
                cookie: r.u64()?,
                priority: r.u16()?,
                reason: r.u8()?,
                table_id: r.u8()?,
                duration_sec: r.u32()?,
                duration_nsec: r.u32()?,
                idle_timeout: r.u16()?,
                hard_timeout: r.u16()?,
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                match_: Match::parse(r)?,
            }),
            PORT_STATUS => {
                let reason = r.u8()?;
                r.skip(7)?;
                Message::PortStatus(PortStatus { reason, desc: Port::parse(r)? })
            }
            PACKET_OUT => {
                let buffer_id = r.u32()?;
                let in_port = r.u32()?;
                let at = r.offset();
                let alen = r.u16()? as usize;
                r.skip(6)?;
                let mut ar =
                    r.sub(alen).map_err(|_| r.err_at(at, format!("actions_len {} exceeds the message", alen)))?;
                let actions = action::parse_actions(&mut ar)?;
                Message::PacketOut(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
            }
            FLOW_MOD => {
                let cookie = r.u64()?;
                let cookie_mask = r.u64()?;
                let table_id = r.u8()?;
                let command = r.u8()?;
                let idle_timeout = r.u16()?;
                let hard_timeout = r.u16()?;
                let priority = r.u16()?;
                let buffer_id = r.u32()?;
                let out_port = r.u32()?;
                let out_group = r.u32()?;
                let flags = r.u16()?;
                r.skip(2)?;
                let match_ = Match::parse(r)?;
                let instructions = instruction::parse_instructions(r)?;
                Message::FlowMod(FlowMod {
                    cookie,
                    cookie_mask,
                    table_id,
                    command,
                    idle_timeout,
                    hard_timeout,
                    priority,
                    buffer_id,
                    out_port,
                    out_group,
                    flags,
                    match_,
                    instructions,
                })
            }
            GROUP_MOD => {
                let command = r.u16()?;
                let group_type = r.u8()?;
                r.skip(1)?;
                let group_id = r.u32()?;
                let mut buckets = Vec::new();
                while !r.is_empty() {
                    buckets.push(Bucket::parse(r)?);
                }
                Message::GroupMod(GroupMod { command, group_type, group_id, buckets })
            }
            PORT_MOD => {
                let port_no = r.u32()?;
                r.skip(4)?;
                let hw_addr = MacAddr(r.array()?);
                r.skip(2)?;
                let pm = PortMod { port_no, hw_addr, config: r.u32()?, mask: r.u32()?, advertise: r.u32()? };
                r.skip(4)?;
                Message::PortMod(pm)
            }
            TABLE_MOD => {
                let table_id = r.u8()?;
                r.skip(3)?;
                Message::TableMod(TableMod { table_id, config: r.u32()? })
            }
            MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::parse(r)?),
            MULTIPART_REPLY => Message::MultipartReply(MultipartReply::parse(r)?),
            BARRIER_REQUEST => Message::BarrierRequest,
            BARRIER_REPLY => Message::BarrierReply,
            QUEUE_GET_CONFIG_REQUEST => {
                let port = r.u32()?;
                r.skip(4)?;
                Message::QueueGetConfigRequest { port }
            }
            QUEUE_GET_CONFIG_REPLY => {
                let port = r.u32()?;
                r.skip(4)?;
                let mut queues = Vec::new();
                while !r.is_empty() {
                    let start = r.offset();
                    let queue_id = r.u32()?;
                    let qport = r.u32()?;
                    let len = r.u16()? as usize;
                    if len < 16 {
                        return Err(r.err_at(start + 8, format!("queue length {} is shorter than 16", len)));
                    }
                    r.skip(6)?;
                    let mut q = r.sub(len - 16)?;
                    let mut properties = Vec::new();
                    while !q.is_empty() {
                        properties.push(QueueProp::parse(&mut q)?);
                    }
                    queues.push(PacketQueue { queue_id, port: qport, properties });
                }
                Message::QueueGetConfigReply(QueueGetConfigReply { port, queues })
            }
            ROLE_REQUEST | ROLE_REPLY => {
                let role = r.u32()?;
                r.skip(4)?;
                let ro = Role { role, generation_id: r.u64()? };
                if t == ROLE_REQUEST {
                    Message::RoleRequest(ro)
                } else {
                    Message::RoleReply(ro)
                }
            }
            GET_ASYNC_REQUEST => Message::GetAsyncRequest,
            GET_ASYNC_REPLY | SET_ASYNC => {
                let a = AsyncConfig {
                    packet_in_mask: [r.u32()?, r.u32()?],
                    port_status_mask: [r.u32()?, r.u32()?],
                    flow_removed_mask: [r.u32()?, r.u32()?],
                };
                if t == SET_ASYNC {
                    Message::SetAsync(a)
                } else {
                    Message::GetAsyncReply(a)
                }
            }
            METER_MOD => {
                let command = r.u16()?;
                let flags = r.u16()?;
                let meter_id = r.u32()?;
                Message::MeterMod(MeterMod { command, flags, meter_id, bands: parse_meter_bands(r)? })
            }
            _ => return Err(r.err_at(1, format!("unknown message type {}", t))),
        })
    }

    /// Appends the whole message (header included) with transaction id `xid`. Fails, appending nothing, if the
    /// message is longer than [`crate::MAX_MESSAGE_LEN`] or a length field inside it cannot hold its value.
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
            Message::Experimenter(e) => {
                out.put_u32(e.experimenter);
                out.put_u32(e.exp_type);
                out.extend_from_slice(&e.data);
            }
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
            Message::FeaturesReply(f) => {
                out.put_u64(f.datapath_id);
                out.put_u32(f.n_buffers);
                out.put_u8(f.n_tables);
                out.put_u8(f.auxiliary_id);
                out.put_zeros(2);
                out.put_u32(f.capabilities);
                out.put_u32(f.reserved);
            }
            Message::GetConfigReply(c) | Message::SetConfig(c) => {
                out.put_u16(c.flags);
                out.put_u16(c.miss_send_len);
            }
            Message::PacketIn(p) => {
                out.put_u32(p.buffer_id);
                out.put_u16(p.total_len);
                out.put_u8(p.reason);
                out.put_u8(p.table_id);
                out.put_u64(p.cookie);
                p.match_.emit(out)?;
                out.put_zeros(2);
                out.extend_from_slice(&p.data);
            }
            Message::FlowRemoved(f) => {
                out.put_u64(f.cookie);
                out.put_u16(f.priority);
                out.put_u8(f.reason);
                out.put_u8(f.table_id);
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
                f.match_.emit(out)?;
            }
            Message::PortStatus(p) => {
                out.put_u8(p.reason);
                out.put_zeros(7);
                p.desc.emit(out);
            }
            Message::PacketOut(p) => {
                out.put_u32(p.buffer_id);
                out.put_u32(p.in_port);
                let at = out.len();
                out.put_u16(0);
                out.put_zeros(6);
                let s = out.len();
                action::emit_actions(&p.actions, out)?;
                out.set_len16(at, s, "the actions of a packet-out")?;
                out.extend_from_slice(&p.data);
            }
            Message::FlowMod(f) => {
                out.put_u64(f.cookie);
                out.put_u64(f.cookie_mask);
                out.put_u8(f.table_id);
                out.put_u8(f.command);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_u16(f.priority);
                out.put_u32(f.buffer_id);
                out.put_u32(f.out_port);
                out.put_u32(f.out_group);
                out.put_u16(f.flags);
                out.put_zeros(2);
                f.match_.emit(out)?;
                instruction::emit_instructions(&f.instructions, out)?;
            }
            Message::GroupMod(g) => {
                out.put_u16(g.command);
                out.put_u8(g.group_type);
                out.put_u8(0);
                out.put_u32(g.group_id);
                for b in &g.buckets {
                    b.emit(out)?;
                }
            }
            Message::PortMod(p) => {
                out.put_u32(p.port_no);
                out.put_zeros(4);
                out.extend_from_slice(&p.hw_addr.0);
                out.put_zeros(2);
                out.put_u32(p.config);
                out.put_u32(p.mask);
                out.put_u32(p.advertise);
                out.put_zeros(4);
            }
            Message::TableMod(t) => {
                out.put_u8(t.table_id);
                out.put_zeros(3);
                out.put_u32(t.config);
            }
            Message::MultipartRequest(m) => m.emit(out)?,
            Message::MultipartReply(m) => m.emit(out)?,
            Message::QueueGetConfigRequest { port } => {
                out.put_u32(*port);
                out.put_zeros(4);
            }
            Message::QueueGetConfigReply(q) => {
                out.put_u32(q.port);
                out.put_zeros(4);
                for pq in &q.queues {
                    let s = out.len();
                    out.put_u32(pq.queue_id);
                    out.put_u32(pq.port);
                    out.put_u16(0);
                    out.put_zeros(6);
                    for p in &pq.properties {
                        p.emit(out)?;
                    }
                    out.set_len16(s + 8, s, "a queue description")?;
                }
            }
            Message::RoleRequest(r) | Message::RoleReply(r) => {
                out.put_u32(r.role);
                out.put_zeros(4);
                out.put_u64(r.generation_id);
            }
            Message::GetAsyncReply(a) | Message::SetAsync(a) => {
                for v in a.packet_in_mask.iter().chain(&a.port_status_mask).chain(&a.flow_removed_mask) {
                    out.put_u32(*v);
                }
            }
            Message::MeterMod(m) => {
                out.put_u16(m.command);
                out.put_u16(m.flags);
                out.put_u32(m.meter_id);
                for b in &m.bands {
                    b.emit(out)?;
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
            fn from(x: $t) -> crate::Message { crate::Message::V1_3(Message::$v(x)) }
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
    GroupMod => GroupMod,
    PortMod => PortMod,
    TableMod => TableMod,
    MeterMod => MeterMod,
    MultipartRequest => MultipartRequest,
    MultipartReply => MultipartReply,
    FlowRemoved => FlowRemoved,
    PortStatus => PortStatus,
}

/// Zero-copy view of an OpenFlow 1.3 `OFPT_PACKET_IN` (the controller fast path).
///
/// Validates the framing once in [`PacketInView::new`]; accessors then
/// cannot fail. No allocation.
#[derive(Clone, Copy, Debug)]
pub struct PacketInView<'a> {
    buf: &'a [u8],
    match_len: usize,
    data_off: usize,
}

impl<'a> PacketInView<'a> {
    /// Checks header, match framing and OXM TLV framing of a packet-in message.
    pub fn new(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let name = "OFPT_PACKET_IN";
        let h = Header::parse(buf)?;
        if h.version != VERSION || h.msg_type != msg_type::PACKET_IN {
            return Err(DecodeError::new(
                name,
                0,
                format!("not an OpenFlow 1.3 packet-in (version {}, type {})", h.version, h.msg_type),
            ));
        }
        let buf = buf.get(..h.length as usize).ok_or_else(|| {
            DecodeError::new(
                name,
                buf.len(),
                format!("truncated: header length is {} but only {} bytes present", h.length, buf.len()),
            )
        })?;
        let mut r = Reader::new(buf, 0, name);
        r.skip(24)?;
        let mstart = r.offset();
        let mtype = r.u16()?;
        if mtype != oxm::OFPMT_OXM {
            return Err(r.err_at(mstart, format!("match type {} is not OFPMT_OXM", mtype)));
        }
        let match_len = r.u16()? as usize;
        if match_len < 4 {
            return Err(r.err_at(mstart + 2, format!("match length {} is shorter than 4", match_len)));
        }
        let mut m = r.sub(match_len - 4)?;
        while !m.is_empty() {
            let h = m.u32()?;
            m.skip((h & 0xff) as usize)?;
        }
        r.skip(crate::wire::pad8(match_len) - match_len + 2)?;
        Ok(PacketInView { buf, match_len, data_off: r.offset() })
    }
    fn u16_at(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.buf[i], self.buf[i + 1]])
    }
    fn u32_at(&self, i: usize) -> u32 {
        u32::from_be_bytes([self.buf[i], self.buf[i + 1], self.buf[i + 2], self.buf[i + 3]])
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        self.u32_at(4)
    }
    /// Buffer id.
    pub fn buffer_id(&self) -> u32 {
        self.u32_at(8)
    }
    /// Frame total length.
    pub fn total_len(&self) -> u16 {
        self.u16_at(12)
    }
    /// Reason.
    pub fn reason(&self) -> u8 {
        self.buf[14]
    }
    /// Table id.
    pub fn table_id(&self) -> u8 {
        self.buf[15]
    }
    /// Cookie.
    pub fn cookie(&self) -> u64 {
        (self.u32_at(16) as u64) << 32 | self.u32_at(20) as u64
    }
    /// The raw OXM TLVs of the match.
    pub fn oxm_bytes(&self) -> &'a [u8] {
        &self.buf[28..24 + self.match_len]
    }
    /// Iterates `(header, value_and_mask)` over the match TLVs.
    pub fn oxms(&self) -> impl Iterator<Item = (u32, &'a [u8])> {
        let mut rest = self.oxm_bytes();
        std::iter::from_fn(move || {
            let h = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
            let n = (h & 0xff) as usize;
            let v = rest.get(4..4 + n)?;
            rest = &rest[4 + n..];
            Some((h, v))
        })
    }
    /// The value of a basic-class field in the match.
    pub fn field(&self, f: OxmField) -> Option<&'a [u8]> {
        let want = f.header(false) & 0xffff_fe00;
        self.oxms().find(|(h, _)| h & 0xffff_fe00 == want && h & 0x100 == 0).map(|(_, v)| v)
    }
    /// `in_port` from the match.
    pub fn in_port(&self) -> Option<u32> {
        self.field(OxmField::InPort).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes)
    }
    /// The frame.
    pub fn data(&self) -> &'a [u8] {
        &self.buf[self.data_off..]
    }
}
