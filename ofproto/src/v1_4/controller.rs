//! The controller channel of OpenFlow 1.4 and 1.5: the asynchronous configuration as properties
//! (`OFPT_GET_ASYNC_REPLY`/`OFPT_SET_ASYNC`), `OFPT_ROLE_STATUS` and `OFPT_REQUESTFORWARD` (bundles, which also
//! carry a message, are in `crate::bundle`).

use crate::bundle::{parse_embedded, Embedded};
use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, Prop, PropKind, RoleProp};
use crate::wire::{Put, Reader};

/// An asynchronous configuration property (`OFPACPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncConfigProp {
    /// `OFPACPT_PACKET_IN_SLAVE` (0) ... `OFPACPT_TABLE_STATUS_MASTER` (9), `OFPACPT_REQUESTFORWARD_*` (10, 11),
    /// `OFPACPT_CONT_STATUS_*` (12, 13, OpenFlow 1.5).
    pub prop_type: u16,
    /// Bitmap of the reasons enabled.
    pub mask: u32,
}

impl PropKind for AsyncConfigProp {
    const CLASS: &'static str = "OFPAsyncConfigProp";
    const WHAT: &'static str = "an asynchronous configuration property";
    fn is_experimenter(t: u16) -> bool {
        t >= 0xfffe
    }
    fn prop_type(&self) -> u16 {
        self.prop_type
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(if t <= 13 { Some(AsyncConfigProp { prop_type: t, mask: r.u32()? }) } else { None })
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.mask);
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for AsyncConfigProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        ("OFPAsyncConfigPropReasons", serde_json::json!({ "mask": self.mask }))
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(match o.name {
            "OFPAsyncConfigPropReasons" => Some(AsyncConfigProp { prop_type: o.u16("type")?, mask: o.u32("mask")? }),
            _ => None,
        })
    }
}

/// The asynchronous configuration (`OFPT_GET_ASYNC_REPLY`, `OFPT_SET_ASYNC`): a list of properties.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// Properties, one per reason set the message sets or reports.
    pub properties: Vec<Prop<AsyncConfigProp>>,
}

impl AsyncConfig {
    /// Sets the reasons of `prop_type` (`OFPACPT_*`) to `mask`.
    pub fn reasons(mut self, prop_type: u16, mask: u32) -> Self {
        self.properties.push(Prop::Known(AsyncConfigProp { prop_type, mask }));
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<AsyncConfig, DecodeError> {
        Ok(AsyncConfig { properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_list(&self.properties, out)
    }
}

/// `OFPT_ROLE_STATUS` body: the switch tells a controller its role changed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RoleStatus {
    /// `OFPCR_ROLE_*`.
    pub role: u32,
    /// `OFPCRR_*` reason.
    pub reason: u8,
    /// Generation id.
    pub generation_id: u64,
    /// Properties (experimenter).
    pub properties: Vec<Prop<RoleProp>>,
}

impl RoleStatus {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<RoleStatus, DecodeError> {
        let role = r.u32()?;
        let reason = r.u8()?;
        r.skip(3)?;
        Ok(RoleStatus { role, reason, generation_id: r.u64()?, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.role);
        out.put_u8(self.reason);
        out.put_zeros(3);
        out.put_u64(self.generation_id);
        emit_list(&self.properties, out)
    }
}

/// `OFPT_REQUESTFORWARD` body: a request of another controller that changed the switch's state.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestForward<M> {
    /// The transaction id in the forwarded request's header.
    pub xid: u32,
    /// The forwarded request (a group or meter modification).
    pub request: Box<M>,
}

impl<M: Embedded> RequestForward<M> {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (xid, request) = parse_embedded(r)?;
        Ok(RequestForward { xid, request })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.request.encode_embedded(self.xid, out)
    }
}

/// JSON of the asynchronous configuration, role status and request forwards.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{AsyncConfig, RequestForward, RoleStatus};
    use crate::bundle::Embedded;
    use crate::json::{cls, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use serde_json::{json, Value};

    impl AsyncConfig {
        /// The properties, under the class `name` (`OFPGetAsyncReply` or `OFPSetAsync`).
        pub(crate) fn to_json(&self, name: &str) -> Value {
            cls(name, json!({ "properties": props_json(&self.properties) }))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<AsyncConfig> {
            Ok(AsyncConfig { properties: props_from_json(o, "properties")? })
        }
    }

    impl RoleStatus {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPRoleStatus",
                json!({"role": self.role, "reason": self.reason, "generation_id": self.generation_id,
                       "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<RoleStatus> {
            Ok(RoleStatus {
                role: o.u32("role")?,
                reason: o.u8("reason")?,
                generation_id: o.u64("generation_id")?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }

    impl<M: Embedded> RequestForward<M> {
        pub(crate) fn to_json(&self) -> Value {
            cls("OFPRequestForward", json!({ "request": self.request.to_json_embedded() }))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<Self> {
            Ok(RequestForward { xid: 0, request: Box::new(M::from_json_embedded(o.v("request")?)?) })
        }
    }
}
