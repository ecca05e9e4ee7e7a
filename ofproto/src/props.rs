//! TLV properties of OpenFlow 1.4 and 1.5 (`ofp_*_prop_header`): a 16-bit type, a 16-bit length that counts
//! the 4-byte header and the body but not the padding to a multiple of 8 that follows.
//!
//! Every property list (port descriptions, port modifications, port and queue statistics, queue descriptions,
//! table modifications, asynchronous configuration, role status, bundles, group buckets, controller status...)
//! is a `Vec<Prop<K>>`: a kind `K` the specification defines ([`PropKind`]), an experimenter property, or an
//! unknown one kept as bytes so that it re-encodes exactly.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// `OFP*_PROP_EXPERIMENTER`, the usual experimenter property type.
pub const PROP_EXPERIMENTER: u16 = 0xffff;

/// An experimenter property (`ofp_*_prop_experimenter`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExperimenterProp {
    /// Property type (0xffff, or 0xfffe for the slave/master pairs of the asynchronous configuration).
    pub prop_type: u16,
    /// Experimenter id.
    pub experimenter: u32,
    /// Experimenter-defined type.
    pub exp_type: u32,
    /// Data, as 32-bit words (Ryu's form).
    pub data: Vec<u32>,
}

/// A property of a list whose known kinds are `K`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prop<K> {
    /// A property the specification defines.
    Known(K),
    /// An experimenter property.
    Experimenter(ExperimenterProp),
    /// A property of an unknown type: its body (after type and length, padding excluded).
    Unknown {
        /// Property type.
        prop_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// The kinds of property one list holds.
pub trait PropKind: Sized {
    /// Ryu's class prefix (`OFPPortDescProp`); experimenter and unknown properties are `<prefix>Experimenter`
    /// and `<prefix>Unknown`.
    const CLASS: &'static str;
    /// What errors call one property, such as `a port description property`.
    const WHAT: &'static str;
    /// Whether `prop_type` is an experimenter type of this list.
    fn is_experimenter(prop_type: u16) -> bool {
        prop_type == PROP_EXPERIMENTER
    }
    /// The property's type.
    fn prop_type(&self) -> u16;
    /// Parses the body of a property of type `t`; `Ok(None)` if `t` is no known kind.
    fn parse(t: u16, body: &mut Reader<'_>) -> Result<Option<Self>, DecodeError>;
    /// Appends the body (after type and length).
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

impl<K: PropKind> Prop<K> {
    /// Property type.
    pub fn prop_type(&self) -> u16 {
        match self {
            Prop::Known(k) => k.prop_type(),
            Prop::Experimenter(e) => e.prop_type,
            Prop::Unknown { prop_type, .. } => *prop_type,
        }
    }

    /// Parses one property and its padding.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 4 {
            return Err(r.err_at(start + 2, format!("{} length {} is shorter than 4", K::WHAT, len)));
        }
        let mut b =
            r.sub(len - 4).map_err(|_| r.err_at(start + 2, format!("{} length {} exceeds its list", K::WHAT, len)))?;
        let p = if K::is_experimenter(t) {
            let experimenter = b.u32()?;
            let exp_type = b.u32()?;
            if !b.remaining().is_multiple_of(4) {
                return Err(b.err(format!("{} data of {} bytes is not whole 32-bit words", K::WHAT, b.remaining())));
            }
            let mut data = Vec::with_capacity(b.remaining() / 4);
            while !b.is_empty() {
                data.push(b.u32()?);
            }
            Prop::Experimenter(ExperimenterProp { prop_type: t, experimenter, exp_type, data })
        } else {
            match K::parse(t, &mut b)? {
                Some(k) => Prop::Known(k),
                None => Prop::Unknown { prop_type: t, data: b.rest().to_vec() },
            }
        };
        if !b.is_empty() {
            return Err(b.err(format!("{} trailing bytes in {} of type {}", b.remaining(), K::WHAT, t)));
        }
        r.skip(crate::wire::pad8(len) - len)?;
        Ok(p)
    }

    /// Parses properties until `r` is empty.
    pub fn parse_list(r: &mut Reader<'_>) -> Result<Vec<Self>, DecodeError> {
        crate::wire::list(r, Self::parse)
    }

    /// Appends the property and its padding; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(self.prop_type());
        out.put_u16(0);
        let written = match self {
            Prop::Known(k) => k.emit(out),
            Prop::Experimenter(e) => {
                out.put_u32(e.experimenter);
                out.put_u32(e.exp_type);
                for w in &e.data {
                    out.put_u32(*w);
                }
                Ok(())
            }
            Prop::Unknown { data, .. } => {
                out.extend_from_slice(data);
                Ok(())
            }
        };
        let written = written.and_then(|()| out.set_len16(start + 2, start, K::WHAT));
        if written.is_err() {
            out.truncate(start);
        }
        written?;
        out.pad8_from(start);
        Ok(())
    }

    /// The length field's value: header and body, padding excluded (`None` if it cannot be encoded).
    pub fn length(&self) -> Option<usize> {
        let mut scratch = Vec::new();
        self.emit(&mut scratch).ok()?;
        Some(u16::from_be_bytes([scratch[2], scratch[3]]) as usize)
    }
}

/// Appends every property of `props`.
pub fn emit_list<K: PropKind>(props: &[Prop<K>], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    props.iter().try_for_each(|p| p.emit(out))
}

/// JSON of the properties: `{"<Class>": {"type", "length", fields...}}`.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{ExperimenterProp, Prop, PropKind};
    use crate::json::{class, cls, ext, num, JsonError, R};
    use serde_json::{json, Value};

    /// The JSON of the kinds of a property list.
    pub(crate) trait PropJson: PropKind {
        /// Ryu's class name and the fields other than `type` and `length`.
        fn to_json(&self) -> (&'static str, Value);
        /// The property from its class name and fields; `Ok(None)` if `o`'s class is no known kind.
        fn from_json(o: &crate::json::Obj<'_>) -> R<Option<Self>>;
    }

    /// `{"<Class>": {...}}`.
    pub(crate) fn prop_json<K: PropJson>(p: &Prop<K>) -> Value {
        let base = json!({"type": p.prop_type(), "length": p.length()});
        match p {
            Prop::Known(k) => {
                let (n, f) = k.to_json();
                cls(n, ext(base, f))
            }
            Prop::Experimenter(e) => cls(
                &format!("{}Experimenter", K::CLASS),
                ext(base, json!({"experimenter": e.experimenter, "exp_type": e.exp_type, "data": e.data})),
            ),
            Prop::Unknown { data, .. } => {
                cls(&format!("{}Unknown", K::CLASS), ext(base, json!({"data": crate::json::base64(data)})))
            }
        }
    }

    /// A property from `{"<Class>": {...}}`.
    pub(crate) fn prop_from_json<K: PropJson>(v: &Value) -> R<Prop<K>> {
        let o = class(v)?;
        let kind = o.name.strip_prefix(K::CLASS).unwrap_or("");
        Ok(match kind {
            "Experimenter" => Prop::Experimenter(ExperimenterProp {
                prop_type: o.u16("type")?,
                experimenter: o.u32("experimenter")?,
                exp_type: o.u32("exp_type")?,
                data: o.list("data", |x| {
                    num(x).and_then(|x| u32::try_from(x).ok()).ok_or_else(|| JsonError("bad data word".into()))
                })?,
            }),
            "Unknown" => Prop::Unknown { prop_type: o.u16("type")?, data: o.bytes("data")? },
            _ => match K::from_json(&o)? {
                Some(k) => Prop::Known(k),
                None => return Err(JsonError(format!("unknown property class {}", o.name))),
            },
        })
    }

    /// A property list's JSON.
    pub(crate) fn props_json<K: PropJson>(props: &[Prop<K>]) -> Value {
        Value::Array(props.iter().map(prop_json).collect())
    }

    /// A property list from the `key` array of `o` (an absent key is an empty list).
    pub(crate) fn props_from_json<K: PropJson>(o: &crate::json::Obj<'_>, key: &str) -> R<Vec<Prop<K>>> {
        match o.opt(key) {
            None => Ok(Vec::new()),
            Some(_) => o.list(key, prop_from_json),
        }
    }
}

/// Uninhabited kinds for the property lists that hold only experimenter properties.
macro_rules! experimenter_only {
    ($($(#[$m:meta])* $name:ident = ($class:literal, $what:literal)),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {}
        impl PropKind for $name {
            const CLASS: &'static str = $class;
            const WHAT: &'static str = $what;
            fn prop_type(&self) -> u16 {
                match *self {}
            }
            fn parse(_: u16, _: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
                Ok(None)
            }
            fn emit(&self, _: &mut Vec<u8>) -> Result<(), EncodeError> {
                match *self {}
            }
        }
        #[cfg(feature = "json")]
        impl json::PropJson for $name {
            fn to_json(&self) -> (&'static str, serde_json::Value) {
                match *self {}
            }
            fn from_json(_: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
                Ok(None)
            }
        }
    )*};
}

experimenter_only! {
    /// Role status properties (`OFPRPT_*`): experimenter only.
    RoleProp = ("OFPRoleProp", "a role property"),
    /// Queue statistics properties (`OFPQSPT_*`): experimenter only.
    QueueStatsProp = ("OFPQueueStatsProp", "a queue statistics property"),
    /// Group properties (`OFPGPT_*`, OpenFlow 1.5): experimenter only.
    GroupProp = ("OFPGroupProp", "a group property"),
}
