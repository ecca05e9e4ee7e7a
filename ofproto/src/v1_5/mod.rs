//! OpenFlow 1.5 (wire version 0x06) messages.
//!
//! 1.5 keeps most of 1.4 ([`crate::v1_4::Port`], [`FlowMod`], [`TableMod`], the property-based
//! asynchronous configuration, role and table status, bundles) and of 1.3 (matches, actions, instructions,
//! packet-in, meters); [`Message`] holds those structs, and the ones of this module where 1.5 changed them:
//!
//! | file | holds |
//! |------|-------|
//! | `mod.rs` | [`Message`], decoding by type and encoding, the JSON dispatch |
//! | [`oxs`] | OXS statistics TLVs and [`Stats`] |
//! | [`actions`] | copy-field and meter actions, the stat-trigger instruction |
//! | `flow.rs` | [`FlowRemoved`], [`FlowDesc`], [`FlowStats`] with OXS counters, [`PacketOut`] with a match |
//! | `group.rs` | [`Bucket`] with ids and properties, [`GroupMod`], [`GroupDesc`] |
//! | `controller.rs` | [`Role`] with a short id, [`ControllerStatus`], bundle features |
//! | `table_features.rs` | [`TableFeatures`] |
//! | [`multipart`] | multipart requests and replies |

pub mod actions;
pub(crate) mod controller;
pub(crate) mod flow;
pub(crate) mod group;
pub mod multipart;
pub mod oxs;
pub(crate) mod table_features;

pub use controller::{
    BundleFeatures, BundleFeaturesProp, BundleFeaturesRequest, BundleTimeFeatures, ControllerStatus,
    ControllerStatusProp, Role,
};
pub use flow::{FlowDesc, FlowRemoved, FlowStats, PacketOut};
pub use group::{bucket_id, group_command, Bucket, BucketProp, GroupDesc, GroupMod};
pub use multipart::{MeterFeatures, MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody};
pub use oxs::{Oxs, OxsField, Stats};
pub use table_features::{TableFeatureProp, TableFeatures};

use crate::common::{ErrorMsg, Hello};
use crate::error::{DecodeError, EncodeError};
use crate::header::{encode_message, Header};
use crate::v1_3::{Experimenter, MeterMod, PacketIn, SwitchConfig, SwitchFeatures};
use crate::v1_4::{
    check_embeddable, decode_version, AsyncConfig, BundleAdd, BundleCtrl, Embedded, FlowMod, PortMod, PortStatus,
    RequestForward, RoleStatus, TableMod, TableStatus,
};
use crate::wire::Reader;

/// Wire version of OpenFlow 1.5.
pub const VERSION: u8 = 0x06;

pub use crate::v1_4::msg_type;
pub use crate::v1_4::type_name;

/// Any OpenFlow 1.5 message.
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
    /// `OFPT_FEATURES_REPLY` (as in 1.3).
    FeaturesReply(SwitchFeatures),
    /// `OFPT_GET_CONFIG_REQUEST`.
    GetConfigRequest,
    /// `OFPT_GET_CONFIG_REPLY`.
    GetConfigReply(SwitchConfig),
    /// `OFPT_SET_CONFIG`.
    SetConfig(SwitchConfig),
    /// `OFPT_PACKET_IN` (as in 1.3).
    PacketIn(PacketIn),
    /// `OFPT_FLOW_REMOVED`.
    FlowRemoved(FlowRemoved),
    /// `OFPT_PORT_STATUS` (as in 1.4).
    PortStatus(PortStatus),
    /// `OFPT_PACKET_OUT`.
    PacketOut(PacketOut),
    /// `OFPT_FLOW_MOD` (as in 1.4).
    FlowMod(FlowMod),
    /// `OFPT_GROUP_MOD`.
    GroupMod(GroupMod),
    /// `OFPT_PORT_MOD` (as in 1.4).
    PortMod(PortMod),
    /// `OFPT_TABLE_MOD` (as in 1.4).
    TableMod(TableMod),
    /// `OFPT_MULTIPART_REQUEST`.
    MultipartRequest(MultipartRequest),
    /// `OFPT_MULTIPART_REPLY`.
    MultipartReply(MultipartReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
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
    /// `OFPT_METER_MOD` (as in 1.3).
    MeterMod(MeterMod),
    /// `OFPT_ROLE_STATUS`.
    RoleStatus(RoleStatus),
    /// `OFPT_TABLE_STATUS`.
    TableStatus(TableStatus),
    /// `OFPT_REQUESTFORWARD`.
    RequestForward(RequestForward<Message>),
    /// `OFPT_BUNDLE_CONTROL`.
    BundleControl(BundleCtrl),
    /// `OFPT_BUNDLE_ADD_MESSAGE`.
    BundleAdd(BundleAdd<Message>),
    /// `OFPT_CONTROLLER_STATUS`.
    ControllerStatus(ControllerStatus),
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
            Message::RoleRequest(_) => ROLE_REQUEST,
            Message::RoleReply(_) => ROLE_REPLY,
            Message::GetAsyncRequest => GET_ASYNC_REQUEST,
            Message::GetAsyncReply(_) => GET_ASYNC_REPLY,
            Message::SetAsync(_) => SET_ASYNC,
            Message::MeterMod(_) => METER_MOD,
            Message::RoleStatus(_) => ROLE_STATUS,
            Message::TableStatus(_) => TABLE_STATUS,
            Message::RequestForward(_) => REQUESTFORWARD,
            Message::BundleControl(_) => BUNDLE_CONTROL,
            Message::BundleAdd(_) => BUNDLE_ADD_MESSAGE,
            Message::ControllerStatus(_) => CONTROLLER_STATUS,
        }
    }

    /// Decodes one complete 1.5 message (header included). Bytes beyond the header's length are ignored; fewer
    /// bytes than the length is an error.
    pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
        decode_version(buf, VERSION, "OpenFlow 1.5", type_name, Self::parse_body)
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
            MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::parse(r)?),
            MULTIPART_REPLY => Message::MultipartReply(MultipartReply::parse(r)?),
            BARRIER_REQUEST => Message::BarrierRequest,
            BARRIER_REPLY => Message::BarrierReply,
            ROLE_REQUEST => Message::RoleRequest(Role::parse(r)?),
            ROLE_REPLY => Message::RoleReply(Role::parse(r)?),
            GET_ASYNC_REQUEST => Message::GetAsyncRequest,
            GET_ASYNC_REPLY => Message::GetAsyncReply(AsyncConfig::parse(r)?),
            SET_ASYNC => Message::SetAsync(AsyncConfig::parse(r)?),
            METER_MOD => Message::MeterMod(MeterMod::parse(r)?),
            ROLE_STATUS => Message::RoleStatus(RoleStatus::parse(r)?),
            TABLE_STATUS => Message::TableStatus(TableStatus::parse(r)?),
            REQUESTFORWARD => Message::RequestForward(RequestForward::parse(r)?),
            BUNDLE_CONTROL => Message::BundleControl(BundleCtrl::parse(r)?),
            BUNDLE_ADD_MESSAGE => Message::BundleAdd(BundleAdd::parse(r)?),
            CONTROLLER_STATUS => Message::ControllerStatus(ControllerStatus::parse(r)?),
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
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
            Message::FeaturesReply(f) => f.emit(out),
            Message::GetConfigReply(c) | Message::SetConfig(c) => c.emit(out),
            Message::PacketIn(p) => p.emit(out)?,
            Message::FlowRemoved(f) => f.emit(out)?,
            Message::PortStatus(p) => p.emit(out)?,
            Message::PacketOut(p) => p.emit(out)?,
            Message::FlowMod(f) => f.emit(out)?,
            Message::GroupMod(g) => g.emit(out)?,
            Message::PortMod(p) => p.emit(out)?,
            Message::TableMod(t) => t.emit(out)?,
            Message::MultipartRequest(m) => m.emit(out)?,
            Message::MultipartReply(m) => m.emit(out)?,
            Message::RoleRequest(r) | Message::RoleReply(r) => r.emit(out),
            Message::GetAsyncReply(a) | Message::SetAsync(a) => a.emit(out)?,
            Message::MeterMod(m) => m.emit(out)?,
            Message::RoleStatus(r) => r.emit(out)?,
            Message::TableStatus(t) => t.emit(out)?,
            Message::RequestForward(r) => r.emit(out)?,
            Message::BundleControl(b) => b.emit(out)?,
            Message::BundleAdd(b) => b.emit(out)?,
            Message::ControllerStatus(c) => c.emit(out)?,
        }
        Ok(())
    }
}

impl Embedded for Message {
    fn decode_embedded(buf: &[u8]) -> Result<(Header, Self), DecodeError> {
        check_embeddable(buf)?;
        Message::decode(buf)
    }
    fn encode_embedded(&self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode(xid, out)
    }
    #[cfg(feature = "json")]
    fn to_json_embedded(&self) -> serde_json::Value {
        json::v1_5_to_json(self)
    }
    #[cfg(feature = "json")]
    fn from_json_embedded(v: &serde_json::Value) -> crate::json::R<Self> {
        json::v1_5_from_json(v)
    }
}

macro_rules! from_body {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Message {
            fn from(x: $t) -> Message { Message::$v(x) }
        }
        impl From<$t> for crate::Message {
            fn from(x: $t) -> crate::Message { crate::Message::V1_5(Message::$v(x)) }
        }
    )*};
}
from_body! {
    FlowRemoved => FlowRemoved,
    PacketOut => PacketOut,
    GroupMod => GroupMod,
    MultipartRequest => MultipartRequest,
    MultipartReply => MultipartReply,
    ControllerStatus => ControllerStatus,
}

/// JSON of a whole 1.5 message: the dispatch by variant (to JSON) and by class name (from JSON).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::multipart::json::{mp_reply_from_json, mp_reply_json, mp_request_from_json, mp_request_json};
    use super::*;
    use crate::json::{bad, base64, class, cls, JsonError};
    use crate::v1_4::multipart::json::multipart_class;
    use serde_json::{json, Value};

    /// Renders an OpenFlow 1.5 message.
    pub fn v1_5_to_json(m: &Message) -> Value {
        use Message as M;
        crate::json::with_version(VERSION, || match m {
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
            M::RoleRequest(r) => r.to_json("OFPRoleRequest"),
            M::RoleReply(r) => r.to_json("OFPRoleReply"),
            M::GetAsyncRequest => cls("OFPGetAsyncRequest", json!({})),
            M::GetAsyncReply(a) => a.to_json("OFPGetAsyncReply"),
            M::SetAsync(a) => a.to_json("OFPSetAsync"),
            M::MeterMod(m) => m.to_json(),
            M::RoleStatus(r) => r.to_json(),
            M::TableStatus(t) => t.to_json(),
            M::RequestForward(r) => r.to_json(),
            M::BundleControl(b) => b.to_json("OFPBundleCtrlMsg"),
            M::BundleAdd(b) => b.to_json("OFPBundleAddMsg"),
            M::ControllerStatus(c) => cls("OFPControllerStatus", json!({ "status": c.to_json() })),
        })
    }

    /// Builds an OpenFlow 1.5 message from its JSON form.
    pub fn v1_5_from_json(v: &Value) -> Result<Message, JsonError> {
        use Message as M;
        let o = class(v)?;
        crate::json::with_version(VERSION, || {
            match multipart_class(o.name) {
                Some(true) => return Ok(M::MultipartRequest(mp_request_from_json(&o)?)),
                Some(false) => return Ok(M::MultipartReply(mp_reply_from_json(&o)?)),
                None => {}
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
                "OFPRoleRequest" => M::RoleRequest(Role::from_json(&o)?),
                "OFPRoleReply" => M::RoleReply(Role::from_json(&o)?),
                "OFPGetAsyncRequest" => M::GetAsyncRequest,
                "OFPGetAsyncReply" => M::GetAsyncReply(AsyncConfig::from_json(&o)?),
                "OFPSetAsync" => M::SetAsync(AsyncConfig::from_json(&o)?),
                "OFPMeterMod" => M::MeterMod(MeterMod::from_json(&o)?),
                "OFPRoleStatus" => M::RoleStatus(RoleStatus::from_json(&o)?),
                "OFPTableStatus" => M::TableStatus(TableStatus::from_json(&o)?),
                "OFPRequestForward" => M::RequestForward(RequestForward::from_json(&o)?),
                "OFPBundleCtrlMsg" => M::BundleControl(BundleCtrl::from_json(&o)?),
                "OFPBundleAddMsg" => M::BundleAdd(BundleAdd::from_json(&o)?),
                "OFPControllerStatus" => M::ControllerStatus(ControllerStatus::from_json(o.v("status")?)?),
                n => return bad(format!("unknown OpenFlow 1.5 message class {}", n)),
            })
        })
    }
}
