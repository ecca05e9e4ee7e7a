//! JSON in the form of Ryu's `to_jsondict()` (the `.packet.json` files of the conformance corpus), both ways
//! (only with the `json` cargo feature).
//!
//! `{"OFPClassName": {field: value, ...}}`, integers as numbers, MAC/IP addresses as strings, byte strings as
//! base64. Length fields show the encoded length of their part; a part that cannot be encoded (a length field
//! inside it would overflow, see [`crate::EncodeError`]) shows `null`. Reading JSON back ([`from_json`]) ignores
//! the length fields (`len`, `length`, `actions_len`, `match_len`), since encoding computes them.
//!
//! Each message's JSON sits next to its codec, in a `#[cfg(feature = "json")]` sub-module of the file that
//! holds the message (`v1_3/flow.rs`, `v1_0/port.rs`, ...); this module holds the entry points, the helpers
//! those sub-modules share, and re-exports of the public per-part functions.

use crate::Message;
use serde_json::{Map, Value};

pub use crate::v1_0::action::json::{action10_from_json, action10_json};
pub use crate::v1_0::flow_match::json::match10_json;
pub use crate::v1_0::json::{v1_0_from_json, v1_0_to_json};
pub use crate::v1_2::json::{v1_2_from_json, v1_2_to_json};
pub use crate::v1_3::action::json::{action13_from_json, action13_json};
pub use crate::v1_3::instruction::json::instruction_json;
pub use crate::v1_3::json::{v1_3_from_json, v1_3_to_json};
pub use crate::v1_3::oxm::json::{match13_json, oxm_from_json, oxm_json};
pub use crate::v1_4::json::{v1_4_from_json, v1_4_to_json};
pub use crate::v1_5::json::{v1_5_from_json, v1_5_to_json};

/// Renders any supported message as Ryu-style JSON.
pub fn to_json(m: &Message) -> Value {
    match m {
        Message::V1_0(m) => v1_0_to_json(m),
        Message::V1_2(m) => v1_2_to_json(m),
        Message::V1_3(m) => v1_3_to_json(m),
        Message::V1_4(m) => v1_4_to_json(m),
        Message::V1_5(m) => v1_5_to_json(m),
    }
}

/// Builds a message of wire `version` (1, 3, 4, 5 or 6) from its Ryu-style JSON form
/// (the inverse of [`to_json`]). Length fields in the JSON are ignored.
pub fn from_json(version: u8, v: &Value) -> Result<Message, JsonError> {
    match version {
        crate::OFP_VERSION_1_0 => v1_0_from_json(v).map(Message::V1_0),
        crate::OFP_VERSION_1_2 => v1_2_from_json(v).map(Message::V1_2),
        crate::OFP_VERSION_1_3 => v1_3_from_json(v).map(Message::V1_3),
        crate::OFP_VERSION_1_4 => v1_4_from_json(v).map(Message::V1_4),
        crate::OFP_VERSION_1_5 => v1_5_from_json(v).map(Message::V1_5),
        _ => bad(format!("unsupported version {}", version)),
    }
}

thread_local! {
    /// The version of the message being rendered or read (0 outside [`with_version`]).
    static VERSION: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

/// Runs `f`, the JSON of a message of wire `version` both ways, with [`version`] saying so: the parts that
/// several versions share but Ryu names by version (`pbb_uca`, 1.5's actions) look it up.
pub(crate) fn with_version<T>(version: u8, f: impl FnOnce() -> T) -> T {
    let was = VERSION.with(|v| v.replace(version));
    let out = f();
    VERSION.with(|v| v.set(was));
    out
}

/// The version of the message whose JSON is being rendered or read (0 for 1.0 and 1.3, which need none).
pub(crate) fn version() -> u8 {
    VERSION.with(|v| v.get())
}

/// Why a JSON value could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

/// The result of reading a part from JSON.
pub(crate) type R<T> = Result<T, JsonError>;

/// An error with message `s`.
pub(crate) fn bad<T>(s: impl Into<String>) -> R<T> {
    Err(JsonError(s.into()))
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], c.get(1).copied().unwrap_or(0), c.get(2).copied().unwrap_or(0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes standard base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut n = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

/// The encoded length of one part, written by `emit` into a scratch buffer; `None` (JSON `null`) if it cannot
/// be encoded.
pub(crate) fn part_len(emit: impl FnOnce(&mut Vec<u8>) -> Result<(), crate::EncodeError>) -> Option<usize> {
    let mut scratch = Vec::new();
    emit(&mut scratch).ok().map(|()| scratch.len())
}

/// `base` plus the encoded lengths of `parts` (`None` if any cannot be encoded).
pub(crate) fn parts_len<T>(
    base: usize,
    parts: &[T],
    emit: impl Fn(&T, &mut Vec<u8>) -> Result<(), crate::EncodeError>,
) -> Option<usize> {
    parts.iter().try_fold(base, |sum, p| Some(sum + part_len(|b| emit(p, b))?))
}

/// `{name: body}`.
pub(crate) fn cls(name: &str, body: Value) -> Value {
    let mut m = Map::new();
    m.insert(name.to_string(), body);
    Value::Object(m)
}

/// The object `a` with the fields of object `b` added.
pub(crate) fn ext(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The class object `v` (`{"Class": {...}}`) with the fields of object `b` added to its body.
pub(crate) fn cls_ext(mut v: Value, b: Value) -> Value {
    if let Some(body) = v.as_object_mut().and_then(|o| o.values_mut().next()) {
        let inner = std::mem::take(body);
        *body = ext(inner, b);
    }
    v
}

/// The header of a field that JSON names `field_0x<hex>` (a field without a name).
pub(crate) fn hex_header(s: &str) -> Option<u32> {
    u32::from_str_radix(s.strip_prefix("field_0x")?, 16).ok()
}

/// A `{"ClassName": {...}}` object being read.
pub(crate) struct Obj<'a> {
    /// The class name.
    pub(crate) name: &'a str,
    m: &'a Map<String, Value>,
}

/// Reads `v` as a `{"ClassName": {...}}` object.
pub(crate) fn class(v: &Value) -> R<Obj<'_>> {
    match v.as_object() {
        Some(o) if o.len() == 1 => match o.iter().next() {
            Some((k, Value::Object(m))) => Ok(Obj { name: k, m }),
            _ => bad("expected {\"Class\": {...}}"),
        },
        _ => bad(format!("expected a single-key class object, got {}", v)),
    }
}

impl<'a> Obj<'a> {
    pub(crate) fn v(&self, k: &str) -> R<&'a Value> {
        self.m.get(k).ok_or_else(|| JsonError(format!("{}: missing field {}", self.name, k)))
    }
    pub(crate) fn opt(&self, k: &str) -> Option<&'a Value> {
        self.m.get(k).filter(|v| !v.is_null())
    }
    pub(crate) fn u64(&self, k: &str) -> R<u64> {
        num(self.v(k)?).ok_or_else(|| JsonError(format!("{}.{}: not an unsigned integer", self.name, k)))
    }
    pub(crate) fn u32(&self, k: &str) -> R<u32> {
        u32::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    pub(crate) fn u16(&self, k: &str) -> R<u16> {
        u16::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    pub(crate) fn u8(&self, k: &str) -> R<u8> {
        u8::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    pub(crate) fn i32(&self, k: &str) -> R<i32> {
        let v = self.v(k)?;
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .and_then(|x| i32::try_from(x).ok())
            .ok_or_else(|| JsonError(format!("{}.{}: not a 32-bit integer", self.name, k)))
    }
    pub(crate) fn str(&self, k: &str) -> R<&'a str> {
        self.v(k)?.as_str().ok_or_else(|| JsonError(format!("{}.{}: not a string", self.name, k)))
    }
    pub(crate) fn arr(&self, k: &str) -> R<&'a Vec<Value>> {
        self.v(k)?.as_array().ok_or_else(|| JsonError(format!("{}.{}: not an array", self.name, k)))
    }
    pub(crate) fn bytes(&self, k: &str) -> R<Vec<u8>> {
        bytes_of(self.v(k)?).ok_or_else(|| JsonError(format!("{}.{}: not base64 or a byte list", self.name, k)))
    }
    pub(crate) fn mac(&self, k: &str) -> R<crate::MacAddr> {
        self.str(k)?.parse().map_err(|e| JsonError(format!("{}.{}: {}", self.name, k, e)))
    }
    pub(crate) fn ipv4(&self, k: &str) -> R<std::net::Ipv4Addr> {
        self.str(k)?.parse().map_err(|_| JsonError(format!("{}.{}: bad IPv4", self.name, k)))
    }
    pub(crate) fn fixed<const N: usize>(&self, k: &str) -> R<crate::FixedStr<N>> {
        let s = self.str(k)?;
        if s.len() > N {
            return bad(format!("{}.{}: longer than {} bytes", self.name, k, N));
        }
        let mut a = [0u8; N];
        a[..s.len()].copy_from_slice(s.as_bytes());
        Ok(crate::FixedStr(a))
    }
    pub(crate) fn u32s<const N: usize>(&self, k: &str) -> R<[u32; N]> {
        let a = self.arr(k)?;
        let mut out = [0u32; N];
        if a.len() != N {
            return bad(format!("{}.{}: expected {} items", self.name, k, N));
        }
        for (o, v) in out.iter_mut().zip(a) {
            *o = num(v)
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| JsonError(format!("{}.{}: bad item", self.name, k)))?;
        }
        Ok(out)
    }
    pub(crate) fn list<T>(&self, k: &str, f: impl Fn(&Value) -> R<T>) -> R<Vec<T>> {
        self.arr(k)?.iter().map(f).collect()
    }
}

/// An unsigned integer, as a number or a decimal string.
pub(crate) fn num(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Bytes, as base64 or a list of numbers.
pub(crate) fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => base64_decode(s),
        Value::Array(a) => a.iter().map(|x| x.as_u64().and_then(|x| u8::try_from(x).ok())).collect(),
        _ => None,
    }
}

/// Each entry of a multipart body's array, read as a Ryu class by `f`.
pub(crate) fn entries<T>(o: &Obj<'_>, body: &Value, f: impl Fn(&Obj<'_>) -> R<T>) -> R<Vec<T>> {
    let list = body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)))?;
    list.iter().map(|v| f(&class(v)?)).collect()
}
