//! OpenFlow 1.3 (wire version 0x04) messages.
//!
//! [`Message`] is the decoded form of any 1.3 message; each variant holds a plain struct with `parse`/`emit`
//! (lengths and padding are computed on emit) and, with the `json` feature, its JSON both ways, all in one
//! file per group of related messages:
//!
//! | file | holds |
//! |------|-------|
//! | `mod.rs` | [`Message`], decoding by type and encoding, the JSON dispatch |
//! | `switch_config.rs` | [`SwitchFeatures`], [`SwitchConfig`], [`TableMod`] |
//! | `packet.rs` | [`PacketIn`], [`PacketOut`], the zero-copy [`PacketInView`] |
//! | `flow.rs` | [`FlowMod`], [`FlowRemoved`] |
//! | `ports.rs` | [`Port`], [`PortStatus`], [`PortMod`] |
//! | `group.rs` | [`Bucket`], [`GroupMod`] |
//! | `meter.rs` | [`MeterBand`], [`MeterMod`] |
//! | `queue.rs` | [`QueueGetConfigReply`], [`PacketQueue`], [`QueueProp`] |
//! | `controller.rs` | [`Role`], [`AsyncConfig`] |
//! | `experimenter.rs` | [`Experimenter`] |
//! | `crate::bundle` | Open vSwitch's bundle extension ([`BundleCtrl`], [`BundleAdd`]): ONF experimenter messages |
//! | [`multipart`] | multipart (stats) requests and replies |
//! | [`table_features`] | table features |
//! | [`oxm`], [`action`], [`instruction`] | matches and OXM TLVs, actions, instructions |
//! | [`consts`] | constants of the 1.3 specification |

pub mod action;
pub mod consts;
pub(crate) mod controller;
pub(crate) mod experimenter;
pub(crate) mod flow;
pub(crate) mod group;
pub mod instruction;
pub(crate) mod meter;
pub mod multipart;
pub mod oxm;
pub(crate) mod packet;
pub(crate) mod ports;
pub(crate) mod queue;
pub(crate) mod switch_config;
pub mod table_features;

pub use crate::bundle::{bundle_ctrl_type, bundle_flags, BundleAdd, BundleCtrl, Embedded};
pub use action::{port, Action};
pub use controller::{AsyncConfig, Role};
pub use experimenter::Experimenter;
pub use flow::{flow_mod_command, flow_mod_flags, FlowMod, FlowRemoved};
pub use group::{Bucket, GroupMod};
pub use instruction::Instruction;
pub use meter::{MeterBand, MeterMod};
pub use multipart::{MultipartReply, MultipartRequest};
pub use oxm::{Match, Oxm, OxmField};
pub use packet::{PacketIn, PacketInView, PacketOut};
pub use ports::{Port, PortMod, PortStatus};
pub use queue::{PacketQueue, QueueGetConfigReply, QueueProp};
pub use switch_config::{SwitchConfig, SwitchFeatures, TableMod};

use crate::bundle::{ONF_ET_BUNDLE_ADD_MESSAGE, ONF_ET_BUNDLE_CONTROL, ONF_EXPERIMENTER_ID};
use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header, HEADER_LEN};
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
    /// `ONFT_BUNDLE_CONTROL`: Open vSwitch's bundle extension for 1.3, an `OFPT_EXPERIMENTER` message of the ONF
    /// ([`ONF_EXPERIMENTER_ID`], type [`ONF_ET_BUNDLE_CONTROL`]) with 1.4's bundle control body.
    BundleControl(BundleCtrl),
    /// `ONFT_BUNDLE_ADD_MESSAGE`: a message added to an open bundle ([`ONF_ET_BUNDLE_ADD_MESSAGE`]), with 1.4's
    /// bundle add body.
    BundleAdd(BundleAdd<Message>),
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
            Message::BundleControl(_) | Message::BundleAdd(_) => EXPERIMENTER,
        }
    }

    /// The message's name: [`type_name`] of its type, or the extension's for Open vSwitch's bundle messages
    /// (`ONFT_BUNDLE_CONTROL`, `ONFT_BUNDLE_ADD_MESSAGE`), which are experimenter messages on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Message::BundleControl(_) => "ONFT_BUNDLE_CONTROL",
            Message::BundleAdd(_) => "ONFT_BUNDLE_ADD_MESSAGE",
            other => type_name(other.msg_type()),
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
            EXPERIMENTER => Self::parse_experimenter(r)?,
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
            MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::parse(r)?),
            MULTIPART_REPLY => Message::MultipartReply(MultipartReply::parse(r)?),
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
            GET_ASYNC_REQUEST => Message::GetAsyncRequest,
            GET_ASYNC_REPLY => Message::GetAsyncReply(AsyncConfig::parse(r)?),
            SET_ASYNC => Message::SetAsync(AsyncConfig::parse(r)?),
            METER_MOD => Message::MeterMod(MeterMod::parse(r)?),
            _ => return Err(r.err_at(1, format!("unknown message type {}", t))),
        })
    }

    /// An experimenter message: Open vSwitch's bundle messages by their ONF experimenter id and type, any other
    /// as opaque data.
    fn parse_experimenter(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
        let (experimenter, exp_type) = (r.u32()?, r.u32()?);
        Ok(match (experimenter, exp_type) {
            (ONF_EXPERIMENTER_ID, ONF_ET_BUNDLE_CONTROL) => Message::BundleControl(BundleCtrl::parse(r)?),
            (ONF_EXPERIMENTER_ID, ONF_ET_BUNDLE_ADD_MESSAGE) => Message::BundleAdd(BundleAdd::parse(r)?),
            _ => Message::Experimenter(Experimenter { experimenter, exp_type, data: r.rest().to_vec() }),
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
            Message::Experimenter(e) => e.emit(out),
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
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
            Message::MultipartRequest(m) => m.emit(out)?,
            Message::MultipartReply(m) => m.emit(out)?,
            Message::QueueGetConfigRequest { port } => {
                out.put_u32(*port);
                out.put_zeros(4);
            }
            Message::QueueGetConfigReply(q) => q.emit(out)?,
            Message::RoleRequest(r) | Message::RoleReply(r) => r.emit(out),
            Message::GetAsyncReply(a) | Message::SetAsync(a) => a.emit(out),
            Message::MeterMod(m) => m.emit(out)?,
            Message::BundleControl(b) => {
                out.put_u32(ONF_EXPERIMENTER_ID);
                out.put_u32(ONF_ET_BUNDLE_CONTROL);
                b.emit(out)?;
            }
            Message::BundleAdd(b) => {
                out.put_u32(ONF_EXPERIMENTER_ID);
                out.put_u32(ONF_ET_BUNDLE_ADD_MESSAGE);
                b.emit(out)?;
            }
        }
        Ok(())
    }
}

/// Whether a whole 1.3 message is one of Open vSwitch's bundle messages (control or add).
fn is_bundle_message(buf: &[u8]) -> bool {
    let word = |at: usize| buf.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    buf.get(1) == Some(&msg_type::EXPERIMENTER)
        && word(8) == Some(ONF_EXPERIMENTER_ID)
        && matches!(word(12), Some(ONF_ET_BUNDLE_CONTROL | ONF_ET_BUNDLE_ADD_MESSAGE))
}

/// A 1.3 message a bundle add carries: anything but another bundle message (which bounds the nesting).
impl Embedded for Message {
    fn decode_embedded(buf: &[u8]) -> Result<(Header, Self), DecodeError> {
        if is_bundle_message(buf) {
            return Err(DecodeError::new("OFPT_EXPERIMENTER", 8, "a bundle message cannot carry a bundle message"));
        }
        Message::decode(buf)
    }
    fn encode_embedded(&self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode(xid, out)
    }
    #[cfg(feature = "json")]
    fn to_json_embedded(&self) -> serde_json::Value {
        json::v1_3_to_json(self)
    }
    #[cfg(feature = "json")]
    fn from_json_embedded(v: &serde_json::Value) -> crate::json::R<Self> {
        json::v1_3_from_json(v)
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

/// JSON of a whole 1.3 message: the dispatch by variant (to JSON) and by class name (from JSON).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{bad, base64, class, cls, JsonError};
    use crate::v1_3::multipart::json::{mp_reply_from_json, mp_reply_json, mp_request_from_json, mp_request_json};
    use serde_json::{json, Value};

    /// Renders an OpenFlow 1.3 message.
    pub fn v1_3_to_json(m: &Message) -> Value {
        use Message as M;
        match m {
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
            M::PortMod(p) => p.to_json(),
            M::TableMod(t) => t.to_json(),
            M::MultipartRequest(r) => mp_request_json(r),
            M::MultipartReply(r) => mp_reply_json(r),
            M::BarrierRequest => cls("OFPBarrierRequest", json!({})),
            M::BarrierReply => cls("OFPBarrierReply", json!({})),
            M::QueueGetConfigRequest { port } => cls("OFPQueueGetConfigRequest", json!({"port": port})),
            M::QueueGetConfigReply(q) => q.to_json(),
            M::RoleRequest(r) => r.to_json("OFPRoleRequest"),
            M::RoleReply(r) => r.to_json("OFPRoleReply"),
            M::GetAsyncRequest => cls("OFPGetAsyncRequest", json!({})),
            M::GetAsyncReply(a) => a.to_json("OFPGetAsyncReply"),
            M::SetAsync(a) => a.to_json("OFPSetAsync"),
            M::MeterMod(m) => m.to_json(),
            M::BundleControl(b) => b.to_json("ONFBundleCtrlMsg"),
            M::BundleAdd(b) => b.to_json("ONFBundleAddMsg"),
        }
    }

    /// Builds an OpenFlow 1.3 message from its JSON form.
    pub fn v1_3_from_json(v: &Value) -> Result<Message, JsonError> {
        use Message as M;
        let o = class(v)?;
        if o.name.ends_with("StatsRequest") {
            return Ok(M::MultipartRequest(mp_request_from_json(&o)?));
        }
        if o.name.ends_with("StatsReply") {
            return Ok(M::MultipartReply(mp_reply_from_json(&o)?));
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
            "OFPBarrierRequest" => M::BarrierRequest,
            "OFPBarrierReply" => M::BarrierReply,
            "OFPQueueGetConfigRequest" => M::QueueGetConfigRequest { port: o.u32("port")? },
            "OFPQueueGetConfigReply" => M::QueueGetConfigReply(QueueGetConfigReply::from_json(&o)?),
            "OFPRoleRequest" => M::RoleRequest(Role::from_json(&o)?),
            "OFPRoleReply" => M::RoleReply(Role::from_json(&o)?),
            "OFPGetAsyncRequest" => M::GetAsyncRequest,
            "OFPGetAsyncReply" => M::GetAsyncReply(AsyncConfig::from_json(&o)?),
            "OFPSetAsync" => M::SetAsync(AsyncConfig::from_json(&o)?),
            "OFPMeterMod" => M::MeterMod(MeterMod::from_json(&o)?),
            "ONFBundleCtrlMsg" => M::BundleControl(BundleCtrl::from_json(&o)?),
            "ONFBundleAddMsg" => M::BundleAdd(BundleAdd::from_json(&o)?),
            n => return bad(format!("unknown OpenFlow 1.3 message class {}", n)),
        })
    }
}
