//! The controller channel of OpenFlow 1.4 and 1.5: the asynchronous configuration as properties
//! (`OFPT_GET_ASYNC_REPLY`/`OFPT_SET_ASYNC`), `OFPT_ROLE_STATUS`, and the messages that carry another
//! message (`OFPT_REQUESTFORWARD`, `OFPT_BUNDLE_ADD_MESSAGE`) with `OFPT_BUNDLE_CONTROL`.

use crate::error::{DecodeError, EncodeError};
use crate::header::Header;
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

/// A message of one version that another message of that version can carry (request forwards, bundles).
pub trait Embedded: Sized {
    /// Decodes one complete message (header included).
    fn decode_embedded(buf: &[u8]) -> Result<(Header, Self), DecodeError>;
    /// Appends the complete message with transaction id `xid`.
    fn encode_embedded(&self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// The message's JSON.
    #[cfg(feature = "json")]
    fn to_json_embedded(&self) -> serde_json::Value;
    /// The message from its JSON.
    #[cfg(feature = "json")]
    fn from_json_embedded(v: &serde_json::Value) -> crate::json::R<Self>;
}

/// Reads a whole message carried at the reader's position; errors keep offsets in the outer message.
fn parse_embedded<M: Embedded>(r: &mut Reader<'_>) -> Result<(u32, Box<M>), DecodeError> {
    let start = r.offset();
    let len = r.peek_u16(2).ok_or_else(|| r.err("truncated: the embedded message has no header"))? as usize;
    let buf = r
        .bytes(len)
        .map_err(|_| r.err_at(start + 2, format!("embedded message length {} exceeds its container", len)))?;
    let (h, m) = M::decode_embedded(buf).map_err(|mut e| {
        e.offset += start;
        e
    })?;
    Ok((h.xid, Box::new(m)))
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

/// `ofp_time`: a point in time, seconds and nanoseconds since the epoch (OpenFlow 1.5 scheduled bundles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Time {
    /// Seconds.
    pub seconds: u64,
    /// Nanoseconds.
    pub nanoseconds: u32,
}

impl Time {
    /// Parses the 16-byte structure.
    pub fn parse(r: &mut Reader<'_>) -> Result<Time, DecodeError> {
        let t = Time { seconds: r.u64()?, nanoseconds: r.u32()? };
        r.skip(4)?;
        Ok(t)
    }
    /// Appends the 16-byte structure.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u64(self.seconds);
        out.put_u32(self.nanoseconds);
        out.put_zeros(4);
    }
}

/// A bundle property (`OFPBPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleProp {
    /// `OFPBPT_TIME` (1, OpenFlow 1.5): when a scheduled bundle is committed.
    Time(Time),
}

impl PropKind for BundleProp {
    const CLASS: &'static str = "OFPBundleProp";
    const WHAT: &'static str = "a bundle property";
    fn prop_type(&self) -> u16 {
        1
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        if t != 1 {
            return Ok(None);
        }
        r.skip(4)?;
        Ok(Some(BundleProp::Time(Time::parse(r)?)))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let BundleProp::Time(t) = self;
        out.put_zeros(4);
        t.emit(out);
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for BundleProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        let BundleProp::Time(t) = self;
        ("OFPBundlePropTime", serde_json::json!({ "scheduled_time": json::time_json(t) }))
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(match o.name {
            "OFPBundlePropTime" => Some(BundleProp::Time(json::time_from_json(o.v("scheduled_time")?)?)),
            _ => None,
        })
    }
}

/// `OFPT_BUNDLE_CONTROL` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BundleCtrl {
    /// Bundle id.
    pub bundle_id: u32,
    /// `OFPBCT_*`: open/close/commit/discard requests and their replies (0 to 7).
    pub ctrl_type: u16,
    /// `OFPBF_ATOMIC` (1), `OFPBF_ORDERED` (2), `OFPBF_TIME` (4, OpenFlow 1.5).
    pub flags: u16,
    /// Properties (experimenter; a scheduled time in 1.5).
    pub properties: Vec<Prop<BundleProp>>,
}

/// `OFPBCT_*` bundle control types.
#[allow(missing_docs)]
pub mod bundle_ctrl_type {
    pub const OPEN_REQUEST: u16 = 0;
    pub const OPEN_REPLY: u16 = 1;
    pub const CLOSE_REQUEST: u16 = 2;
    pub const CLOSE_REPLY: u16 = 3;
    pub const COMMIT_REQUEST: u16 = 4;
    pub const COMMIT_REPLY: u16 = 5;
    pub const DISCARD_REQUEST: u16 = 6;
    pub const DISCARD_REPLY: u16 = 7;
}

impl BundleCtrl {
    /// A control message of `ctrl_type` for bundle `bundle_id` with `flags`.
    pub fn new(bundle_id: u32, ctrl_type: u16, flags: u16) -> BundleCtrl {
        BundleCtrl { bundle_id, ctrl_type, flags, properties: Vec::new() }
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<BundleCtrl, DecodeError> {
        Ok(BundleCtrl { bundle_id: r.u32()?, ctrl_type: r.u16()?, flags: r.u16()?, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.bundle_id);
        out.put_u16(self.ctrl_type);
        out.put_u16(self.flags);
        emit_list(&self.properties, out)
    }
}

/// `OFPT_BUNDLE_ADD_MESSAGE` body: a message added to an open bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleAdd<M> {
    /// Bundle id.
    pub bundle_id: u32,
    /// `OFPBF_*`, as in the bundle's open request.
    pub flags: u16,
    /// The transaction id in the added message's header (the spec wants the bundle-add's own).
    pub xid: u32,
    /// The message.
    pub message: Box<M>,
    /// Properties (experimenter); when there are any, the message is padded to 8 bytes before them.
    pub properties: Vec<Prop<BundleProp>>,
}

impl<M: Embedded> BundleAdd<M> {
    /// Adds `message` (sent with transaction id `xid`) to bundle `bundle_id`.
    pub fn new(bundle_id: u32, flags: u16, xid: u32, message: M) -> Self {
        BundleAdd { bundle_id, flags, xid, message: Box::new(message), properties: Vec::new() }
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bundle_id = r.u32()?;
        r.skip(2)?;
        let flags = r.u16()?;
        let start = r.offset();
        let (xid, message) = parse_embedded(r)?;
        let properties = if r.is_empty() {
            Vec::new()
        } else {
            let len = r.offset() - start;
            r.skip(crate::wire::pad8(len) - len)?;
            Prop::parse_list(r)?
        };
        Ok(BundleAdd { bundle_id, flags, xid, message, properties })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.bundle_id);
        out.put_zeros(2);
        out.put_u16(self.flags);
        let start = out.len();
        self.message.encode_embedded(self.xid, out)?;
        if !self.properties.is_empty() {
            out.pad8_from(start);
            emit_list(&self.properties, out)?;
        }
        Ok(())
    }
}

/// JSON of the asynchronous configuration, role status, request forwards and bundles.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{AsyncConfig, BundleAdd, BundleCtrl, Embedded, RequestForward, RoleStatus, Time};
    use crate::json::{class, cls, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use serde_json::{json, Value};

    /// `{"OFPTime": {"seconds", "nanoseconds"}}`.
    pub(crate) fn time_json(t: &Time) -> Value {
        cls("OFPTime", json!({"seconds": t.seconds, "nanoseconds": t.nanoseconds}))
    }

    pub(crate) fn time_from_json(v: &Value) -> R<Time> {
        let o = class(v)?;
        Ok(Time { seconds: o.u64("seconds")?, nanoseconds: o.u32("nanoseconds")? })
    }

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

    impl BundleCtrl {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPBundleCtrlMsg",
                json!({"bundle_id": self.bundle_id, "type": self.ctrl_type, "flags": self.flags,
                       "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<BundleCtrl> {
            Ok(BundleCtrl {
                bundle_id: o.u32("bundle_id")?,
                ctrl_type: o.u16("type")?,
                flags: o.u16("flags")?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }

    impl<M: Embedded> BundleAdd<M> {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPBundleAddMsg",
                json!({"bundle_id": self.bundle_id, "flags": self.flags, "message": self.message.to_json_embedded(),
                       "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<Self> {
            Ok(BundleAdd {
                bundle_id: o.u32("bundle_id")?,
                flags: o.u16("flags")?,
                xid: 0,
                message: Box::new(M::from_json_embedded(o.v("message")?)?),
                properties: props_from_json(o, "properties")?,
            })
        }
    }
}
