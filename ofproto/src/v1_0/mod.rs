//! OpenFlow 1.0 (wire version 0x01) messages.
//!
//! [`Message`] is the decoded form of any 1.0 message; each variant holds a plain struct with `parse`/`emit`
//! and, with the `json` feature, its JSON both ways, all in one file per group of related messages:
//!
//! | file | holds |
//! |------|-------|
//! | `mod.rs` | [`Message`], decoding by type and encoding, the JSON dispatch |
//! | `flow_match.rs` | [`Match`] and its [`wildcards`] |
//! | `action.rs` | [`Action`] and its [`action_type`]s |
//! | `switch_config.rs` | [`SwitchFeatures`], [`SwitchConfig`] |
//! | `packet.rs` | [`PacketIn`], [`PacketOut`], the zero-copy [`PacketInView`] |
//! | `flow.rs` | [`FlowMod`], [`FlowRemoved`] |
//! | `ports.rs` | [`PhyPort`], [`PortStatus`], [`PortMod`] |
//! | `stats.rs` | [`StatsRequest`], [`StatsReply`] and their bodies |
//! | `queue.rs` | [`PacketQueue`] |

pub(crate) mod action;
pub(crate) mod flow;
pub(crate) mod flow_match;
pub(crate) mod packet;
pub(crate) mod ports;
pub(crate) mod queue;
pub(crate) mod stats;
pub(crate) mod switch_config;

pub use action::{action_type, Action};
pub use flow::{FlowMod, FlowRemoved};
pub use flow_match::{wildcards, Match};
pub use packet::{PacketIn, PacketInView, PacketOut};
pub use ports::{PhyPort, PortMod, PortStatus};
pub use queue::PacketQueue;
pub use stats::{
    Desc, FlowStats, FlowStatsRequest, PortStats, QueueStats, StatsReply, StatsReplyBody, StatsRequest,
    StatsRequestBody, TableStats,
};
pub use switch_config::{SwitchConfig, SwitchFeatures};

use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header, HEADER_LEN};
use crate::wire::{list, Put, Reader};

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
            FEATURES_REPLY => Message::FeaturesReply(SwitchFeatures::parse(r)?),
            GET_CONFIG_REQUEST => Message::GetConfigRequest,
            GET_CONFIG_REPLY => Message::GetConfigReply(SwitchConfig::parse(r)?),
            SET_CONFIG => Message::SetConfig(SwitchConfig::parse(r)?),
            PACKET_IN => Message::PacketIn(PacketIn::parse(r)?),
            FLOW_REMOVED => Message::FlowRemoved(FlowRemoved::parse(r)?),
            PORT_STATUS => Message::PortStatus(PortStatus::parse(r)?),
            PACKET_OUT => Message::PacketOut(PacketOut::parse(r)?),
            FLOW_MOD => Message::FlowMod(FlowMod::parse(r)?),
            PORT_MOD => Message::PortMod(PortMod::parse(r)?),
            STATS_REQUEST => Message::StatsRequest(StatsRequest::parse(r)?),
            STATS_REPLY => Message::StatsReply(StatsReply::parse(r)?),
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
                Message::QueueGetConfigReply { port, queues: list(r, PacketQueue::parse)? }
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
            Message::FeaturesReply(f) => f.emit(out),
            Message::GetConfigReply(c) | Message::SetConfig(c) => c.emit(out),
            Message::PacketIn(p) => p.emit(out),
            Message::FlowRemoved(f) => f.emit(out),
            Message::PortStatus(p) => p.emit(out),
            Message::PacketOut(p) => p.emit(out)?,
            Message::FlowMod(f) => f.emit(out)?,
            Message::PortMod(p) => p.emit(out),
            Message::StatsRequest(s) => s.emit(out)?,
            Message::StatsReply(s) => s.emit(out)?,
            Message::QueueGetConfigRequest { port } => {
                out.put_u16(*port);
                out.put_zeros(2);
            }
            Message::QueueGetConfigReply { port, queues } => {
                out.put_u16(*port);
                out.put_zeros(6);
                for q in queues {
                    q.emit(out)?;
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

/// JSON of a whole 1.0 message: the dispatch by variant (to JSON) and by class name (from JSON).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{bad, base64, class, cls, JsonError};
    use serde_json::{json, Value};

    /// Renders an OpenFlow 1.0 message.
    pub fn v1_0_to_json(m: &Message) -> Value {
        use Message as M;
        match m {
            M::Hello(h) => h.to_json(),
            M::Error(e) => e.to_json(),
            M::EchoRequest(d) => cls("OFPEchoRequest", json!({"data": base64(d)})),
            M::EchoReply(d) => cls("OFPEchoReply", json!({"data": base64(d)})),
            M::Vendor { vendor, data } => cls("OFPVendor", json!({"vendor": vendor, "data": base64(data)})),
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
            M::PortMod(p) => p.to_json(),
            M::StatsRequest(s) => s.to_json(),
            M::StatsReply(s) => s.to_json(),
            M::BarrierRequest => cls("OFPBarrierRequest", json!({})),
            M::BarrierReply => cls("OFPBarrierReply", json!({})),
            M::QueueGetConfigRequest { port } => cls("OFPQueueGetConfigRequest", json!({"port": port})),
            M::QueueGetConfigReply { port, queues } => cls(
                "OFPQueueGetConfigReply",
                json!({"port": port, "queues": queues.iter().map(PacketQueue::to_json).collect::<Vec<_>>()}),
            ),
        }
    }

    /// Builds an OpenFlow 1.0 message from its JSON form.
    pub fn v1_0_from_json(v: &Value) -> Result<Message, JsonError> {
        use Message as M;
        let o = class(v)?;
        Ok(match o.name {
            "OFPHello" => M::Hello(Hello::from_json(&o)?),
            "OFPErrorMsg" => M::Error(ErrorMsg::from_json(&o)?),
            "OFPEchoRequest" => M::EchoRequest(o.bytes("data")?),
            "OFPEchoReply" => M::EchoReply(o.bytes("data")?),
            "OFPVendor" => M::Vendor { vendor: o.u32("vendor")?, data: o.bytes("data")? },
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
            "OFPPortMod" => M::PortMod(PortMod::from_json(&o)?),
            "OFPBarrierRequest" => M::BarrierRequest,
            "OFPBarrierReply" => M::BarrierReply,
            "OFPQueueGetConfigRequest" => M::QueueGetConfigRequest { port: o.u16("port")? },
            "OFPQueueGetConfigReply" => {
                M::QueueGetConfigReply { port: o.u16("port")?, queues: o.list("queues", PacketQueue::from_json)? }
            }
            n if n.ends_with("StatsRequest") => M::StatsRequest(StatsRequest::from_json(&o)?),
            n if n.ends_with("StatsReply") => M::StatsReply(StatsReply::from_json(&o)?),
            n => return bad(format!("unknown OpenFlow 1.0 message class {}", n)),
        })
    }
}
