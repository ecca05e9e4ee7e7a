//! Message bodies whose layout is the same in every OpenFlow version (hello, error), and version negotiation.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// `OFPHET_VERSIONBITMAP`.
pub const OFPHET_VERSIONBITMAP: u16 = 1;

/// A HELLO message: optional elements (OpenFlow 1.3.1+ sends a version bitmap).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Hello {
    /// Hello elements, in wire order.
    pub elements: Vec<HelloElement>,
}

/// One HELLO element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelloElement {
    /// `OFPHET_VERSIONBITMAP`: bit `n` of the concatenated 32-bit words is set if version `n` is supported.
    VersionBitmap(Vec<u32>),
    /// Any other element, body kept opaque (without padding).
    Unknown {
        /// Element type.
        elem_type: u16,
        /// Element body.
        data: Vec<u8>,
    },
}

impl HelloElement {
    /// A version bitmap announcing the given wire versions.
    pub fn versions(versions: &[u8]) -> HelloElement {
        let max = versions.iter().copied().max().unwrap_or(0) as usize;
        let mut words = vec![0u32; max / 32 + 1];
        for &v in versions {
            if let Some(w) = words.get_mut(v as usize / 32) {
                *w |= 1 << (v % 32);
            }
        }
        HelloElement::VersionBitmap(words)
    }
}

/// Versions set in a bitmap (ascending).
pub fn bitmap_versions(words: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        for b in 0..32 {
            if w & (1 << b) != 0 {
                out.push(i as u32 * 32 + b);
            }
        }
    }
    out
}

impl Hello {
    /// A HELLO carrying a version bitmap for `versions`.
    pub fn with_versions(versions: &[u8]) -> Hello {
        Hello { elements: vec![HelloElement::versions(versions)] }
    }

    /// Versions announced by the bitmap element, if any.
    pub fn bitmap(&self) -> Option<Vec<u32>> {
        self.elements.iter().find_map(|e| match e {
            HelloElement::VersionBitmap(w) => Some(bitmap_versions(w)),
            _ => None,
        })
    }

    /// Parses a HELLO body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Hello, DecodeError> {
        let mut elements = Vec::new();
        while r.remaining() >= 4 {
            let start = r.offset();
            let t = r.u16()?;
            let len = r.u16()? as usize;
            if len < 4 {
                return Err(r.err_at(start + 2, format!("hello element length {} is shorter than 4", len)));
            }
            let mut body = r.sub(len - 4)?;
            let pad = crate::wire::pad8(len) - len;
            if r.remaining() >= pad {
                r.skip(pad)?;
            } else {
                r.rest();
            }
            if t == OFPHET_VERSIONBITMAP {
                if body.remaining() % 4 != 0 {
                    return Err(body.err(format!("version bitmap length {} is not a multiple of 4", len - 4)));
                }
                let mut words = Vec::new();
                while !body.is_empty() {
                    words.push(body.u32()?);
                }
                elements.push(HelloElement::VersionBitmap(words));
            } else {
                elements.push(HelloElement::Unknown { elem_type: t, data: body.rest().to_vec() });
            }
        }
        r.rest();
        Ok(Hello { elements })
    }

    /// Appends the HELLO body: each element's length excludes its padding to 8 bytes (OpenFlow 1.3.5 §7.5.1).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for e in &self.elements {
            let start = out.len();
            match e {
                HelloElement::VersionBitmap(w) => {
                    out.put_u16(OFPHET_VERSIONBITMAP);
                    out.put_u16(0);
                    for x in w {
                        out.put_u32(*x);
                    }
                }
                HelloElement::Unknown { elem_type, data } => {
                    out.put_u16(*elem_type);
                    out.put_u16(0);
                    out.extend_from_slice(data);
                }
            }
            out.set_len16(start + 2, start, "a hello element")?;
            out.pad8_from(start);
        }
        Ok(())
    }
}

/// Highest version both sides support, following OpenFlow 1.3.5 §6.3.1.
///
/// `ours` lists the versions we support; `their_version` is the version in
/// the peer's HELLO header and `their_hello` its body. Returns `None` when
/// there is no common version (send `OFPET_HELLO_FAILED`/`OFPHFC_INCOMPATIBLE`).
pub fn negotiate(ours: &[u8], their_version: u8, their_hello: &Hello) -> Option<u8> {
    if let Some(theirs) = their_hello.bitmap() {
        return ours.iter().copied().filter(|v| theirs.contains(&(*v as u32))).max();
    }
    let ours_max = ours.iter().copied().max()?;
    let v = ours_max.min(their_version);
    ours.contains(&v).then_some(v)
}

/// An ERROR message body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorMsg {
    /// Error type (`OFPET_*`); 0xffff is `OFPET_EXPERIMENTER` in 1.3.
    pub err_type: u16,
    /// Error code, or `exp_type` for experimenter errors.
    pub code: u16,
    /// Experimenter id, present iff `err_type == 0xffff` (1.3 only).
    pub experimenter: Option<u32>,
    /// Data: usually at least 64 bytes of the offending request.
    pub data: Vec<u8>,
}

impl ErrorMsg {
    /// An error of `err_type`/`code` carrying `data`.
    pub fn new(err_type: u16, code: u16, data: impl Into<Vec<u8>>) -> Self {
        ErrorMsg { err_type, code, experimenter: None, data: data.into() }
    }

    /// `OFPET_HELLO_FAILED`/`OFPHFC_INCOMPATIBLE` with an explanation string as data.
    pub fn hello_incompatible(reason: &str) -> Self {
        ErrorMsg::new(0, 0, reason.as_bytes())
    }

    pub(crate) fn parse(r: &mut Reader<'_>, allow_experimenter: bool) -> Result<Self, DecodeError> {
        let err_type = r.u16()?;
        let code = r.u16()?;
        let experimenter = if allow_experimenter && err_type == 0xffff { Some(r.u32()?) } else { None };
        Ok(ErrorMsg { err_type, code, experimenter, data: r.rest().to_vec() })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.err_type);
        out.put_u16(self.code);
        if let Some(e) = self.experimenter {
            out.put_u32(e);
        }
        out.extend_from_slice(&self.data);
    }
}

/// Error type and code constants (OpenFlow 1.3.5 §7.4.4, and the error types 1.4 and 1.5 add; 1.0 uses the
/// first six types).
pub mod error_codes {
    #![allow(missing_docs)]
    pub const OFPET_HELLO_FAILED: u16 = 0;
    pub const OFPET_BAD_REQUEST: u16 = 1;
    pub const OFPET_BAD_ACTION: u16 = 2;
    pub const OFPET_BAD_INSTRUCTION: u16 = 3;
    pub const OFPET_BAD_MATCH: u16 = 4;
    pub const OFPET_FLOW_MOD_FAILED: u16 = 5;
    pub const OFPET_GROUP_MOD_FAILED: u16 = 6;
    pub const OFPET_PORT_MOD_FAILED: u16 = 7;
    pub const OFPET_TABLE_MOD_FAILED: u16 = 8;
    pub const OFPET_QUEUE_OP_FAILED: u16 = 9;
    pub const OFPET_SWITCH_CONFIG_FAILED: u16 = 10;
    pub const OFPET_ROLE_REQUEST_FAILED: u16 = 11;
    pub const OFPET_METER_MOD_FAILED: u16 = 12;
    pub const OFPET_TABLE_FEATURES_FAILED: u16 = 13;
    /// OpenFlow 1.4 and 1.5.
    pub const OFPET_BAD_PROPERTY: u16 = 14;
    /// OpenFlow 1.4 and 1.5.
    pub const OFPET_ASYNC_CONFIG_FAILED: u16 = 15;
    /// OpenFlow 1.4 and 1.5.
    pub const OFPET_FLOW_MONITOR_FAILED: u16 = 16;
    /// OpenFlow 1.4 and 1.5.
    pub const OFPET_BUNDLE_FAILED: u16 = 17;
    pub const OFPET_EXPERIMENTER: u16 = 0xffff;

    pub const OFPHFC_INCOMPATIBLE: u16 = 0;
    pub const OFPHFC_EPERM: u16 = 1;

    pub const OFPBRC_BAD_VERSION: u16 = 0;
    pub const OFPBRC_BAD_TYPE: u16 = 1;
    pub const OFPBRC_BAD_MULTIPART: u16 = 2;
    pub const OFPBRC_BAD_EXPERIMENTER: u16 = 3;
    pub const OFPBRC_BAD_EXP_TYPE: u16 = 4;
    pub const OFPBRC_EPERM: u16 = 5;
    pub const OFPBRC_BAD_LEN: u16 = 6;
    pub const OFPBRC_BUFFER_EMPTY: u16 = 7;
    pub const OFPBRC_BUFFER_UNKNOWN: u16 = 8;
    pub const OFPBRC_BAD_TABLE_ID: u16 = 9;
    pub const OFPBRC_IS_SLAVE: u16 = 10;
    pub const OFPBRC_BAD_PORT: u16 = 11;
    pub const OFPBRC_BAD_PACKET: u16 = 12;
    pub const OFPBRC_MULTIPART_BUFFER_OVERFLOW: u16 = 13;

    pub const OFPBAC_BAD_TYPE: u16 = 0;
    pub const OFPBAC_BAD_LEN: u16 = 1;
    pub const OFPBAC_BAD_EXPERIMENTER: u16 = 2;
    pub const OFPBAC_BAD_EXP_TYPE: u16 = 3;
    pub const OFPBAC_BAD_OUT_PORT: u16 = 4;
    pub const OFPBAC_BAD_ARGUMENT: u16 = 5;
    pub const OFPBAC_EPERM: u16 = 6;
    pub const OFPBAC_TOO_MANY: u16 = 7;
    pub const OFPBAC_BAD_QUEUE: u16 = 8;
    pub const OFPBAC_BAD_OUT_GROUP: u16 = 9;
    pub const OFPBAC_MATCH_INCONSISTENT: u16 = 10;
    pub const OFPBAC_UNSUPPORTED_ORDER: u16 = 11;
    pub const OFPBAC_BAD_TAG: u16 = 12;
    pub const OFPBAC_BAD_SET_TYPE: u16 = 13;
    pub const OFPBAC_BAD_SET_LEN: u16 = 14;
    pub const OFPBAC_BAD_SET_ARGUMENT: u16 = 15;

    pub const OFPBIC_UNKNOWN_INST: u16 = 0;
    pub const OFPBIC_UNSUP_INST: u16 = 1;
    pub const OFPBIC_BAD_TABLE_ID: u16 = 2;
    pub const OFPBIC_UNSUP_METADATA: u16 = 3;
    pub const OFPBIC_UNSUP_METADATA_MASK: u16 = 4;
    pub const OFPBIC_BAD_EXPERIMENTER: u16 = 5;
    pub const OFPBIC_BAD_EXP_TYPE: u16 = 6;
    pub const OFPBIC_BAD_LEN: u16 = 7;
    pub const OFPBIC_EPERM: u16 = 8;

    pub const OFPBMC_BAD_TYPE: u16 = 0;
    pub const OFPBMC_BAD_LEN: u16 = 1;
    pub const OFPBMC_BAD_TAG: u16 = 2;
    pub const OFPBMC_BAD_DL_ADDR_MASK: u16 = 3;
    pub const OFPBMC_BAD_NW_ADDR_MASK: u16 = 4;
    pub const OFPBMC_BAD_WILDCARDS: u16 = 5;
    pub const OFPBMC_BAD_FIELD: u16 = 6;
    pub const OFPBMC_BAD_VALUE: u16 = 7;
    pub const OFPBMC_BAD_MASK: u16 = 8;
    pub const OFPBMC_BAD_PREREQ: u16 = 9;
    pub const OFPBMC_DUP_FIELD: u16 = 10;
    pub const OFPBMC_EPERM: u16 = 11;

    pub const OFPFMFC_UNKNOWN: u16 = 0;
    pub const OFPFMFC_TABLE_FULL: u16 = 1;
    pub const OFPFMFC_BAD_TABLE_ID: u16 = 2;
    pub const OFPFMFC_OVERLAP: u16 = 3;
    pub const OFPFMFC_EPERM: u16 = 4;
    pub const OFPFMFC_BAD_TIMEOUT: u16 = 5;
    pub const OFPFMFC_BAD_COMMAND: u16 = 6;
    pub const OFPFMFC_BAD_FLAGS: u16 = 7;

    pub const OFPGMFC_GROUP_EXISTS: u16 = 0;
    pub const OFPGMFC_INVALID_GROUP: u16 = 1;
    pub const OFPGMFC_WEIGHT_UNSUPPORTED: u16 = 2;
    pub const OFPGMFC_OUT_OF_GROUPS: u16 = 3;
    pub const OFPGMFC_OUT_OF_BUCKETS: u16 = 4;
    pub const OFPGMFC_CHAINING_UNSUPPORTED: u16 = 5;
    pub const OFPGMFC_WATCH_UNSUPPORTED: u16 = 6;
    pub const OFPGMFC_LOOP: u16 = 7;
    pub const OFPGMFC_UNKNOWN_GROUP: u16 = 8;
    pub const OFPGMFC_CHAINED_GROUP: u16 = 9;
    pub const OFPGMFC_BAD_TYPE: u16 = 10;
    pub const OFPGMFC_BAD_COMMAND: u16 = 11;
    pub const OFPGMFC_BAD_BUCKET: u16 = 12;
    pub const OFPGMFC_BAD_WATCH: u16 = 13;
    pub const OFPGMFC_EPERM: u16 = 14;

    pub const OFPPMFC_BAD_PORT: u16 = 0;
    pub const OFPPMFC_BAD_HW_ADDR: u16 = 1;
    pub const OFPPMFC_BAD_CONFIG: u16 = 2;
    pub const OFPPMFC_BAD_ADVERTISE: u16 = 3;
    pub const OFPPMFC_EPERM: u16 = 4;

    pub const OFPTMFC_BAD_TABLE: u16 = 0;
    pub const OFPTMFC_BAD_CONFIG: u16 = 1;
    pub const OFPTMFC_EPERM: u16 = 2;

    pub const OFPQOFC_BAD_PORT: u16 = 0;
    pub const OFPQOFC_BAD_QUEUE: u16 = 1;
    pub const OFPQOFC_EPERM: u16 = 2;

    pub const OFPSCFC_BAD_FLAGS: u16 = 0;
    pub const OFPSCFC_BAD_LEN: u16 = 1;
    pub const OFPSCFC_EPERM: u16 = 2;

    pub const OFPRRFC_STALE: u16 = 0;
    pub const OFPRRFC_UNSUP: u16 = 1;
    pub const OFPRRFC_BAD_ROLE: u16 = 2;

    pub const OFPMMFC_UNKNOWN: u16 = 0;
    pub const OFPMMFC_METER_EXISTS: u16 = 1;
    pub const OFPMMFC_INVALID_METER: u16 = 2;
    pub const OFPMMFC_UNKNOWN_METER: u16 = 3;
    pub const OFPMMFC_BAD_COMMAND: u16 = 4;
    pub const OFPMMFC_BAD_FLAGS: u16 = 5;
    pub const OFPMMFC_BAD_RATE: u16 = 6;
    pub const OFPMMFC_BAD_BURST: u16 = 7;
    pub const OFPMMFC_BAD_BAND: u16 = 8;
    pub const OFPMMFC_BAD_BAND_VALUE: u16 = 9;
    pub const OFPMMFC_OUT_OF_METERS: u16 = 10;
    pub const OFPMMFC_OUT_OF_BANDS: u16 = 11;

    pub const OFPTFFC_BAD_TABLE: u16 = 0;
    pub const OFPTFFC_BAD_METADATA: u16 = 1;
    pub const OFPTFFC_BAD_TYPE: u16 = 2;
    pub const OFPTFFC_BAD_LEN: u16 = 3;
    pub const OFPTFFC_BAD_ARGUMENT: u16 = 4;
    pub const OFPTFFC_EPERM: u16 = 5;
}

/// JSON of the hello and error bodies (the same in every version).
#[cfg(feature = "json")]
mod json {
    use super::{bitmap_versions, ErrorMsg, Hello, HelloElement};
    use crate::json::{bad, base64, class, cls, num, JsonError, Obj, R};
    use serde_json::{json, Value};

    impl Hello {
        /// `{"OFPHello": ...}`.
        pub(crate) fn to_json(&self) -> Value {
            let els: Vec<Value> = self
                .elements
                .iter()
                .map(|e| match e {
                    HelloElement::VersionBitmap(w) => cls(
                        "OFPHelloElemVersionBitmap",
                        json!({"length": 4 + 4 * w.len(), "type": 1, "versions": bitmap_versions(w)}),
                    ),
                    HelloElement::Unknown { elem_type, data } => cls(
                        "OFPHelloElemUnknown",
                        json!({"length": 4 + data.len(), "type": elem_type, "data": base64(data)}),
                    ),
                })
                .collect();
            cls("OFPHello", json!({"elements": els}))
        }

        pub(crate) fn from_json(o: &Obj<'_>) -> R<Hello> {
            let elements = match o.opt("elements") {
                None => Vec::new(),
                Some(_) => o.list("elements", |v| {
                    let e = class(v)?;
                    Ok(match e.name {
                        "OFPHelloElemVersionBitmap" => {
                            let vs = e.list("versions", |x| num(x).ok_or_else(|| JsonError("bad version".into())))?;
                            let max = vs.iter().copied().max().unwrap_or(0) as usize;
                            if max >= 16383 * 32 {
                                return bad(format!("version {} does not fit a hello element", max));
                            }
                            let mut w = vec![0u32; max / 32 + 1];
                            for v in vs {
                                if let Some(x) = w.get_mut(v as usize / 32) {
                                    *x |= 1 << (v % 32);
                                }
                            }
                            // Keep the element's word count when the length says so.
                            if let Some(l) = e.opt("length").and_then(num) {
                                // A wire length is at most 65535 bytes.
                                let words = (l.min(65535) as usize).saturating_sub(4) / 4;
                                w.resize(words.max(w.len()), 0);
                            }
                            HelloElement::VersionBitmap(w)
                        }
                        _ => HelloElement::Unknown { elem_type: e.u16("type")?, data: e.bytes("data")? },
                    })
                })?,
            };
            Ok(Hello { elements })
        }
    }

    impl ErrorMsg {
        /// `{"OFPErrorMsg": ...}`.
        pub(crate) fn to_json(&self) -> Value {
            match self.experimenter {
                Some(x) => cls(
                    "OFPErrorMsg",
                    json!({"type": self.err_type, "code": null, "exp_type": self.code, "experimenter": x, "data": base64(&self.data)}),
                ),
                None => {
                    cls("OFPErrorMsg", json!({"type": self.err_type, "code": self.code, "data": base64(&self.data)}))
                }
            }
        }

        pub(crate) fn from_json(o: &Obj<'_>) -> R<ErrorMsg> {
            let t = o.u16("type")?;
            let data = o.bytes("data")?;
            Ok(match o.opt("experimenter") {
                Some(_) => {
                    ErrorMsg { err_type: t, code: o.u16("exp_type")?, experimenter: Some(o.u32("experimenter")?), data }
                }
                None => ErrorMsg { err_type: t, code: o.u16("code")?, experimenter: None, data },
            })
        }
    }
}
