//! OpenFlow 1.2 (wire version 0x03) messages.
//!
//! 1.2 has 1.3's matches (OXM), actions, instructions, ports and most messages; [`Message`] holds 1.3's
//! structs for those, and this module's where 1.2 differs:
//!
//! | file | holds |
//! |------|-------|
//! | `mod.rs` | [`Message`], decoding by type and encoding, the JSON dispatch |
//! | `switch.rs` | [`SwitchFeatures`] with the ports, [`PacketIn`] without a cookie |
//! | `stats.rs` | [`StatsRequest`], [`StatsReply`] (1.3's bodies where unchanged, 1.2's table, port, queue and group statistics) |
//!
//! 1.2 has no meters, no asynchronous configuration and no table features.

pub(crate) mod stats;
pub(crate) mod switch;

pub use stats::{StatsReply, StatsReplyBody, StatsRequest, TableStats};
pub use switch::{PacketIn, SwitchFeatures};

use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header};
use crate::v1_3::{
    self, Experimenter, FlowMod, FlowRemoved, GroupMod, PacketOut, PortMod, PortStatus, QueueGetConfigReply, Role,
    SwitchConfig, TableMod,
};
use crate::v1_4::decode_version;
use crate::wire::{Put, Reader};

/// Wire version of OpenFlow 1.2.
pub const VERSION: u8 = 0x03;

/// Message type numbers (`OFPT_*`) of OpenFlow 1.2: 1.3's up to `OFPT_ROLE_REPLY` (25), statistics where 1.3
/// has multipart.
#[allow(missing_docs)]
pub mod msg_type {
    pub use crate::v1_3::msg_type::{
        BARRIER_REPLY, BARRIER_REQUEST, ECHO_REPLY, ECHO_REQUEST, ERROR, EXPERIMENTER, FEATURES_REPLY,
        FEATURES_REQUEST, FLOW_MOD, FLOW_REMOVED, GET_CONFIG_REPLY, GET_CONFIG_REQUEST, GROUP_MOD, HELLO, PACKET_IN,
        PACKET_OUT, PORT_MOD, PORT_STATUS, QUEUE_GET_CONFIG_REPLY, QUEUE_GET_CONFIG_REQUEST, ROLE_REPLY, ROLE_REQUEST,
        SET_CONFIG, TABLE_MOD,
    };
    pub const STATS_REQUEST: u8 = 18;
    pub const STATS_REPLY: u8 = 19;
}

/// `OFPT_*` name of a 1.2 message type.
pub fn type_name(t: u8) -> &'static str {
    match t {
        18 => "OFPT_STATS_REQUEST",
        19 => "OFPT_STATS_REPLY",
        t if t <= 25 => v1_3::type_name(t),
        _ => "OFPT_UNKNOWN",
    }
}

/// Any OpenFlow 1.2 message.
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
    /// `OFPT_EXPERIMENTER` (as in 1.3).
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
    /// `OFPT_FLOW_REMOVED` (as in 1.3).
    FlowRemoved(FlowRemoved),
    /// `OFPT_PORT_STATUS` (as in 1.3).
    PortStatus(PortStatus),
    /// `OFPT_PACKET_OUT` (as in 1.3).
    PacketOut(PacketOut),
    /// `OFPT_FLOW_MOD` (as in 1.3).
    FlowMod(FlowMod),
    /// `OFPT_GROUP_MOD` (as in 1.3).
    GroupMod(GroupMod),
    /// `OFPT_PORT_MOD` (as in 1.3).
    PortMod(PortMod),
    /// `OFPT_TABLE_MOD` (as in 1.3).
    TableMod(TableMod),
    /// `OFPT_STATS_REQUEST`.
    StatsRequest(StatsRequest),
    /// `OFPT_STATS_REPLY`.
    StatsReply(StatsReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
    /// `OFPT_QUEUE_GET_CONFIG_REQUEST` for a port.
    QueueGetConfigRequest {
        /// Port (`OFPP_ANY` for all).
        port: u32,
    },
    /// `OFPT_QUEUE_GET_CONFIG_REPLY` (as in 1.3).
    QueueGetConfigReply(QueueGetConfigReply),
    /// `OFPT_ROLE_REQUEST` (as in 1.3).
    RoleRequest(Role),
    /// `OFPT_ROLE_REPLY` (as in 1.3).
    RoleReply(Role),
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
            Message::StatsRequest(_) => STATS_REQUEST,
            Message::StatsReply(_) => STATS_REPLY,
            Message::BarrierRequest => BARRIER_REQUEST,
            Message::BarrierReply => BARRIER_REPLY,
            Message::QueueGetConfigRequest { .. } => QUEUE_GET_CONFIG_REQUEST,
            Message::QueueGetConfigReply(_) => QUEUE_GET_CONFIG_REPLY,
            Message::RoleRequest(_) => ROLE_REQUEST,
            Message::RoleReply(_) => ROLE_REPLY,
        }
    }

    /// Decodes one complete 1.2 message (header included). Bytes beyond the header's length are ignored; fewer
    /// bytes than the length is an error.
    pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
        decode_version(buf, VERSION, "OpenFlow 1.2", type_name, Self::parse_body)
    }

    fn parse_body(t: u8, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
        use msg_type::*;
        Ok(match t {
            HELLO => Message::Hello(Hello::parse(r)?),
            ERROR => Message::Error(ErrorMsg::parse(r, true)?),
            ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
            ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
            EXPERIMENTER => Message::Experimenter(Experimenter::parse(r)?),
            FEATURES_REQUEST => Message::FeaturesRequest,
            FEATURES_REPLY => Message::FeaturesReply(SwitchFeatures::parse(r)?),
            GET_CONFIG_REQUEST => Message::GetConfigRequest,
            GET_CONFIG_REPLY => Message::GetConfigReply(SwitchConfig::parse(r)?),
            SET_CONFIG => Message::SetConfig(SwitchConfig::parse(r)?),
            PACKET_IN => Message::PacketIn(PacketIn::parse(r)?),
            FLOW_REMOVED => Message::FlowRemoved(FlowRemoved::parse(r)?),
            PORT_STATUS => Message::PortStatus(PortStatus::parse(r)?),
            PACKET_OUT => Message::PacketOut(PacketOut::parse(r)?),
            FLOW_MOD => Message::FlowMod(FlowMod::parse(r)?),
            GROUP_MOD => Message::GroupMod(GroupMod::parse(r)?),
            PORT_MOD => Message::PortMod(PortMod::parse(r)?),
            TABLE_MOD => Message::TableMod(TableMod::parse(r)?),
            STATS_REQUEST => Message::StatsRequest(StatsRequest::parse(r)?),
            STATS_REPLY => Message::StatsReply(StatsReply::parse(r)?),
            BARRIER_REQUEST => Message::BarrierRequest,
            BARRIER_REPLY => Message::BarrierReply,
            QUEUE_GET_CONFIG_REQUEST => {
                let port = r.u32()?;
                r.skip(4)?;
                Message::QueueGetConfigRequest { port }
            }
            QUEUE_GET_CONFIG_REPLY => Message::QueueGetConfigReply(QueueGetConfigReply::parse(r)?),
            ROLE_REQUEST => Message::RoleRequest(Role::parse(r)?),
            ROLE_REPLY => Message::RoleReply(Role::parse(r)?),
            _ => return Err(r.err_at(1, format!("unknown message type {}", t))),
        })
    }

    /// Appends the whole message (header included) with transaction id `xid`; on error nothing is appended.
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
            Message::Experimenter(e) => e.emit(out),
            Message::FeaturesRequest | Message::GetConfigRequest | Message::BarrierRequest | Message::BarrierReply => {}
            Message::FeaturesReply(f) => f.emit(out),
            Message::GetConfigReply(c) | Message::SetConfig(c) => c.emit(out),
            Message::PacketIn(p) => p.emit(out)?,
            Message::FlowRemoved(f) => f.emit(out)?,
            Message::PortStatus(p) => p.emit(out),
            Message::PacketOut(p) => p.emit(out)?,
            Message::FlowMod(f) => f.emit(out)?,
            Message::GroupMod(g) => g.emit(out)?,
            Message::PortMod(p) => p.emit(out),
            Message::TableMod(t) => t.emit(out),
            Message::StatsRequest(m) => m.emit(out)?,
            Message::StatsReply(m) => m.emit(out)?,
            Message::QueueGetConfigRequest { port } => {
                out.put_u32(*port);
                out.put_zeros(4);
            }
            Message::QueueGetConfigReply(q) => q.emit(out)?,
            Message::RoleRequest(r) | Message::RoleReply(r) => r.emit(out),
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
            fn from(x: $t) -> crate::Message { crate::Message::V1_2(Message::$v(x)) }
        }
    )*};
}
from_body! {
    SwitchFeatures => FeaturesReply,
    PacketIn => PacketIn,
    StatsRequest => StatsRequest,
    StatsReply => StatsReply,
}

/// JSON of a whole 1.2 message: the dispatch by variant (to JSON) and by class name (from JSON).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::stats::json::{stats_reply_from_json, stats_reply_json, stats_request_from_json, stats_request_json};
    use super::*;
    use crate::json::{bad, base64, class, cls, cls_ext, JsonError};
    use serde_json::{json, Value};

    /// Renders an OpenFlow 1.2 message.
    pub fn v1_2_to_json(m: &Message) -> Value {
        use Message as M;
        match m {
            // Ryu's 1.2 hello has no elements.
            M::Hello(h) if h.elements.is_empty() => cls("OFPHello", json!({})),
            M::Hello(h) => h.to_json(),
            M::Error(e) => e.to_json(),
            M::EchoRequest(d) => cls("OFPEchoRequest", json!({"data": base64(d)})),
            M::EchoReply(d) => cls("OFPEchoReply", json!({"data": base64(d)})),
            M::Experimenter(e) => e.to_json(),
            M::FeaturesRequest => cls("OFPFeaturesRequest", json!({})),
            M::FeaturesReply(f) => f.to_json(),
            M::GetConfigRequest => cls("OFPGetConfigRequest", json!({})),
            M::GetConfigReply(c) => c.to_json("OFPGetConfigReply"),
            M::SetConfig(c) => c.to_json("OFPSetConfig"),
            M::PacketIn(p) => p.to_json(),
            M::FlowRemoved(f) => f.to_json(),
            M::PortStatus(p) => p.to_json(),
            M::PacketOut(p) => p.to_json(),
            M::FlowMod(f) => f.to_json(),
            M::GroupMod(g) => g.to_json(),
            // Ryu's 1.2 port-mod shows the address with dashes.
            M::PortMod(p) => cls_ext(p.to_json(), json!({ "hw_addr": p.hw_addr.to_string().replace(':', "-") })),
            M::TableMod(t) => t.to_json(),
            M::StatsRequest(r) => stats_request_json(r),
            M::StatsReply(r) => stats_reply_json(r),
            M::BarrierRequest => cls("OFPBarrierRequest", json!({})),
            M::BarrierReply => cls("OFPBarrierReply", json!({})),
            M::QueueGetConfigRequest { port } => cls("OFPQueueGetConfigRequest", json!({ "port": port })),
            M::QueueGetConfigReply(q) => q.to_json(),
            M::RoleRequest(r) => r.to_json("OFPRoleRequest"),
            M::RoleReply(r) => r.to_json("OFPRoleReply"),
        }
    }

    /// Builds an OpenFlow 1.2 message from its JSON form.
    pub fn v1_2_from_json(v: &Value) -> Result<Message, JsonError> {
        use Message as M;
        let o = class(v)?;
        if o.name.ends_with("StatsRequest") {
            return Ok(M::StatsRequest(stats_request_from_json(&o)?));
        }
        Ok(match o.name {
            "OFPHello" => M::Hello(Hello::from_json(&o)?),
            "OFPErrorMsg" => M::Error(ErrorMsg::from_json(&o)?),
            "OFPEchoRequest" => M::EchoRequest(o.bytes("data")?),
            "OFPEchoReply" => M::EchoReply(o.bytes("data")?),
            "OFPExperimenter" => M::Experimenter(Experimenter::from_json(&o)?),
            "OFPFeaturesRequest" => M::FeaturesRequest,
            "OFPSwitchFeatures" => M::FeaturesReply(SwitchFeatures::from_json(&o)?),
            "OFPGetConfigRequest" => M::GetConfigRequest,
            "OFPGetConfigReply" => M::GetConfigReply(SwitchConfig::from_json(&o)?),
            "OFPSetConfig" => M::SetConfig(SwitchConfig::from_json(&o)?),
            "OFPPacketIn" => M::PacketIn(PacketIn::from_json(&o)?),
            "OFPFlowRemoved" => M::FlowRemoved(FlowRemoved::from_json(&o)?),
            "OFPPortStatus" => M::PortStatus(PortStatus::from_json(&o)?),
            "OFPPacketOut" => M::PacketOut(PacketOut::from_json(&o)?),
            "OFPFlowMod" => M::FlowMod(FlowMod::from_json(&o)?),
            "OFPGroupMod" => M::GroupMod(GroupMod::from_json(&o)?),
            "OFPPortMod" => M::PortMod(PortMod::from_json(&o)?),
            "OFPTableMod" => M::TableMod(TableMod::from_json(&o)?),
            "OFPStatsReply" => M::StatsReply(stats_reply_from_json(&o)?),
            "OFPBarrierRequest" => M::BarrierRequest,
            "OFPBarrierReply" => M::BarrierReply,
            "OFPQueueGetConfigRequest" => M::QueueGetConfigRequest { port: o.u32("port")? },
            "OFPQueueGetConfigReply" => M::QueueGetConfigReply(QueueGetConfigReply::from_json(&o)?),
            "OFPRoleRequest" => M::RoleRequest(Role::from_json(&o)?),
            "OFPRoleReply" => M::RoleReply(Role::from_json(&o)?),
            n => return bad(format!("unknown OpenFlow 1.2 message class {}", n)),
        })
    }
}
