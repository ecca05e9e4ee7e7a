//! The controller channel parts OpenFlow 1.5 added or changed: roles with a short id, the controller status
//! (`OFPT_CONTROLLER_STATUS`, `OFPMP_CONTROLLER_STATUS`) and the bundle features (`OFPMP_BUNDLE_FEATURES`).

use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, Prop, PropKind};
use crate::v1_4::Time;
use crate::wire::{Put, Reader};

/// Role request/reply body of OpenFlow 1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Role {
    /// `OFPCR_ROLE_*`.
    pub role: u32,
    /// The controller's short id (`OFPCID_UNDEFINED` = 0).
    pub short_id: u16,
    /// Generation id.
    pub generation_id: u64,
}

impl Role {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Role, DecodeError> {
        let role = r.u32()?;
        let short_id = r.u16()?;
        r.skip(2)?;
        Ok(Role { role, short_id, generation_id: r.u64()? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.role);
        out.put_u16(self.short_id);
        out.put_zeros(2);
        out.put_u64(self.generation_id);
    }
}

/// A controller status property (`OFPCSPT_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControllerStatusProp {
    /// `OFPCSPT_URI` (0): the controller's URI (`tls:192.0.2.1:6653`).
    Uri(Vec<u8>),
}

impl PropKind for ControllerStatusProp {
    const CLASS: &'static str = "OFPControllerStatusProp";
    const WHAT: &'static str = "a controller status property";
    fn prop_type(&self) -> u16 {
        0
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(if t == 0 { Some(ControllerStatusProp::Uri(r.rest().to_vec())) } else { None })
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let ControllerStatusProp::Uri(u) = self;
        out.extend_from_slice(u);
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for ControllerStatusProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        let ControllerStatusProp::Uri(u) = self;
        ("OFPControllerStatusPropUri", serde_json::json!({ "uri": String::from_utf8_lossy(u) }))
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(match o.name {
            "OFPControllerStatusPropUri" => Some(ControllerStatusProp::Uri(o.str("uri")?.as_bytes().to_vec())),
            _ => None,
        })
    }
}

/// `ofp_controller_status`: one controller's channel as the switch sees it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ControllerStatus {
    /// The controller's short id.
    pub short_id: u16,
    /// `OFPCR_ROLE_*`.
    pub role: u32,
    /// `OFPCSR_*` reason for the status message.
    pub reason: u8,
    /// `OFPCT_STATUS_UP` (0) or `OFPCT_STATUS_DOWN` (1).
    pub channel_status: u8,
    /// Properties (URI, experimenter).
    pub properties: Vec<Prop<ControllerStatusProp>>,
}

impl ControllerStatus {
    /// Parses one status.
    pub fn parse(r: &mut Reader<'_>) -> Result<ControllerStatus, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start, format!("controller status length {} is shorter than 16", len)));
        }
        let mut b = r.sub(len - 2)?;
        let short_id = b.u16()?;
        let role = b.u32()?;
        let reason = b.u8()?;
        let channel_status = b.u8()?;
        b.skip(6)?;
        Ok(ControllerStatus { short_id, role, reason, channel_status, properties: Prop::parse_list(&mut b)? })
    }
    /// Appends the status.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(self.short_id);
        out.put_u32(self.role);
        out.put_u8(self.reason);
        out.put_u8(self.channel_status);
        out.put_zeros(6);
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a controller status")
    }
}

/// The scheduling capabilities of `OFPBPT_TIME` bundles (`ofp_bundle_features_prop_time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BundleTimeFeatures {
    /// Scheduling accuracy.
    pub sched_accuracy: Time,
    /// How far in the future a commit may be scheduled.
    pub sched_max_future: Time,
    /// How far in the past a commit may be scheduled.
    pub sched_max_past: Time,
    /// The switch's time.
    pub timestamp: Time,
}

/// A bundle features property (`OFPTMPBF_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleFeaturesProp {
    /// `OFPTMPBF_TIME_CAPABILITY` (1).
    Time(BundleTimeFeatures),
}

impl PropKind for BundleFeaturesProp {
    const CLASS: &'static str = "OFPBundleFeaturesProp";
    const WHAT: &'static str = "a bundle features property";
    fn prop_type(&self) -> u16 {
        1
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        if t != 1 {
            return Ok(None);
        }
        r.skip(4)?;
        Ok(Some(BundleFeaturesProp::Time(BundleTimeFeatures {
            sched_accuracy: Time::parse(r)?,
            sched_max_future: Time::parse(r)?,
            sched_max_past: Time::parse(r)?,
            timestamp: Time::parse(r)?,
        })))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let BundleFeaturesProp::Time(t) = self;
        out.put_zeros(4);
        for x in [t.sched_accuracy, t.sched_max_future, t.sched_max_past, t.timestamp] {
            x.emit(out);
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for BundleFeaturesProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use crate::bundle::json::time_json;
        let BundleFeaturesProp::Time(t) = self;
        (
            "OFPBundleFeaturesPropTime",
            serde_json::json!({"sched_accuracy": time_json(&t.sched_accuracy), "sched_max_future": time_json(&t.sched_max_future),
                               "sched_max_past": time_json(&t.sched_max_past), "timestamp": time_json(&t.timestamp)}),
        )
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        use crate::bundle::json::time_from_json;
        Ok(match o.name {
            "OFPBundleFeaturesPropTime" => Some(BundleFeaturesProp::Time(BundleTimeFeatures {
                sched_accuracy: time_from_json(o.v("sched_accuracy")?)?,
                sched_max_future: time_from_json(o.v("sched_max_future")?)?,
                sched_max_past: time_from_json(o.v("sched_max_past")?)?,
                timestamp: time_from_json(o.v("timestamp")?)?,
            })),
            _ => None,
        })
    }
}

/// `OFPMP_BUNDLE_FEATURES` request body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BundleFeaturesRequest {
    /// `OFPBF_TIMESTAMP` (1), `OFPBF_TIME_SET_SCHED` (2).
    pub feature_request_flags: u32,
    /// Properties.
    pub properties: Vec<Prop<BundleFeaturesProp>>,
}

impl BundleFeaturesRequest {
    /// Parses the body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let feature_request_flags = r.u32()?;
        r.skip(4)?;
        Ok(BundleFeaturesRequest { feature_request_flags, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.feature_request_flags);
        out.put_zeros(4);
        emit_list(&self.properties, out)
    }
}

/// `OFPMP_BUNDLE_FEATURES` reply body (`ofp_bundle_features`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BundleFeatures {
    /// `OFPBF_*` bundle flags supported.
    pub capabilities: u16,
    /// Properties.
    pub properties: Vec<Prop<BundleFeaturesProp>>,
}

impl BundleFeatures {
    /// Parses the body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let capabilities = r.u16()?;
        r.skip(6)?;
        Ok(BundleFeatures { capabilities, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.capabilities);
        out.put_zeros(6);
        emit_list(&self.properties, out)
    }
}

/// JSON of the 1.5 role, controller status and bundle features.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{BundleFeatures, ControllerStatus, Role};
    use crate::json::{class, cls, part_len, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use serde_json::{json, Value};

    impl Role {
        /// The fields, under the class `name` (`OFPRoleRequest` or `OFPRoleReply`).
        pub(crate) fn to_json(self, name: &str) -> Value {
            cls(name, json!({"role": self.role, "short_id": self.short_id, "generation_id": self.generation_id}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<Role> {
            Ok(Role { role: o.u32("role")?, short_id: o.u16("short_id")?, generation_id: o.u64("generation_id")? })
        }
    }

    impl ControllerStatus {
        /// `{"OFPControllerStatusStats": ...}`.
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPControllerStatusStats",
                json!({"length": part_len(|b| self.emit(b)), "short_id": self.short_id, "role": self.role,
                       "reason": self.reason, "channel_status": self.channel_status,
                       "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(v: &Value) -> R<ControllerStatus> {
            let o = class(v)?;
            Ok(ControllerStatus {
                short_id: o.u16("short_id")?,
                role: o.u32("role")?,
                reason: o.u8("reason")?,
                channel_status: o.u8("channel_status")?,
                properties: props_from_json(&o, "properties")?,
            })
        }
    }

    impl BundleFeatures {
        /// `{"OFPBundleFeaturesStats": ...}`.
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPBundleFeaturesStats",
                json!({"capabilities": self.capabilities, "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(v: &Value) -> R<BundleFeatures> {
            let o = class(v)?;
            Ok(BundleFeatures { capabilities: o.u16("capabilities")?, properties: props_from_json(&o, "properties")? })
        }
    }
}
