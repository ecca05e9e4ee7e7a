//! Bundles: `OFPT_BUNDLE_CONTROL` and `OFPT_BUNDLE_ADD_MESSAGE` of OpenFlow 1.4 and 1.5, whose bodies Open vSwitch's
//! OpenFlow 1.3 extension (`ONFT_BUNDLE_CONTROL`, `ONFT_BUNDLE_ADD_MESSAGE`: experimenter messages of the ONF,
//! [`ONF_EXPERIMENTER_ID`]) carries unchanged after its experimenter header; and [`Embedded`], a message carried in
//! another, which bundles share with 1.4's request forwards.

use crate::error::{DecodeError, EncodeError};
use crate::header::Header;
use crate::props::{emit_list, Prop, PropKind};
use crate::wire::{Put, Reader};

/// The ONF's experimenter id (`ONF_EXPERIMENTER_ID`, "ONF\0"), which Open vSwitch's 1.3 bundle messages carry.
pub const ONF_EXPERIMENTER_ID: u32 = 0x4f4e_4600;
/// `ONF_ET_BUNDLE_CONTROL`: the experimenter type of a 1.3 bundle control message.
pub const ONF_ET_BUNDLE_CONTROL: u32 = 2300;
/// `ONF_ET_BUNDLE_ADD_MESSAGE`: the experimenter type of a 1.3 bundle add message.
pub const ONF_ET_BUNDLE_ADD_MESSAGE: u32 = 2301;

/// `OFPBF_*` bundle flags.
pub mod bundle_flags {
    /// `OFPBF_ATOMIC`: all the bundle's messages are applied, or none.
    pub const ATOMIC: u16 = 1;
    /// `OFPBF_ORDERED`: the messages are applied in the order they were added.
    pub const ORDERED: u16 = 2;
    /// `OFPBF_TIME` (OpenFlow 1.5): the commit is scheduled (an `OFPBPT_TIME` property says when).
    pub const TIME: u16 = 4;
}

/// `OFPBFC_*`: the codes of `OFPET_BUNDLE_FAILED` (1.4, 1.5); on 1.3, Open vSwitch reports them as ONF experimenter
/// errors of type 2300 + the code (see [`bundle_failure`]).
#[allow(missing_docs)]
pub mod bundle_failed_code {
    pub const UNKNOWN: u16 = 0;
    pub const EPERM: u16 = 1;
    pub const BAD_ID: u16 = 2;
    pub const BUNDLE_EXIST: u16 = 3;
    pub const BUNDLE_CLOSED: u16 = 4;
    pub const OUT_OF_BUNDLES: u16 = 5;
    pub const BAD_TYPE: u16 = 6;
    pub const BAD_FLAGS: u16 = 7;
    pub const MSG_BAD_LEN: u16 = 8;
    pub const MSG_BAD_XID: u16 = 9;
    pub const MSG_UNSUP: u16 = 10;
    pub const MSG_CONFLICT: u16 = 11;
    pub const MSG_TOO_MANY: u16 = 12;
    pub const MSG_FAILED: u16 = 13;
    pub const TIMEOUT: u16 = 14;
    pub const BUNDLE_IN_PROGRESS: u16 = 15;
}

/// The `OFPBFC_*` code of a bundle error in either form: `OFPET_BUNDLE_FAILED` (17) of 1.4 and 1.5, or the ONF
/// experimenter error 2300 + code Open vSwitch sends on 1.3. `None` for any other error.
pub fn bundle_failure(error: &crate::ErrorMsg) -> Option<u16> {
    const OFPET_BUNDLE_FAILED: u16 = crate::common::error_codes::OFPET_BUNDLE_FAILED;
    const ONF_BUNDLE_ERRORS: std::ops::Range<u16> = 2300..2400;
    match (error.err_type, error.experimenter) {
        (OFPET_BUNDLE_FAILED, None) => Some(error.code),
        (0xffff, Some(ONF_EXPERIMENTER_ID)) if ONF_BUNDLE_ERRORS.contains(&error.code) => Some(error.code - 2300),
        _ => None,
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
pub(crate) fn parse_embedded<M: Embedded>(r: &mut Reader<'_>) -> Result<(u32, Box<M>), DecodeError> {
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

/// JSON of bundle messages and of [`Time`].
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{BundleAdd, BundleCtrl, Embedded, Time};
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

    impl BundleCtrl {
        /// The message under the class `name` (`OFPBundleCtrlMsg`; `ONFBundleCtrlMsg` in 1.3).
        pub(crate) fn to_json(&self, name: &str) -> Value {
            cls(
                name,
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
        /// The message under the class `name` (`OFPBundleAddMsg`; `ONFBundleAddMsg` in 1.3).
        pub(crate) fn to_json(&self, name: &str) -> Value {
            cls(
                name,
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
