//! Reading Ryu's loosely typed JSON (numbers or numeric strings, reserved names like `"CONTROLLER"`) with errors
//! that name the field, and writing reserved numbers back the way Ryu shows them.

use serde_json::{Map, Value};
use tatsu_plugin_api::http::HttpResponse;

/// A 400 answer naming what is wrong.
pub type ApiResult<T> = Result<T, HttpResponse>;

/// 400 with `message`.
pub fn bad(message: impl AsRef<str>) -> HttpResponse {
    HttpResponse::error(400, message.as_ref())
}

/// `value` as a JSON object, or a 400 naming `path`.
pub fn object<'a>(value: &'a Value, path: &str) -> ApiResult<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| bad(format!("`{path}` must be a JSON object, not {value}")))
}

/// `value` as a JSON array, or a 400 naming `path`.
pub fn array<'a>(value: &'a Value, path: &str) -> ApiResult<&'a Vec<Value>> {
    value.as_array().ok_or_else(|| bad(format!("`{path}` must be a JSON array, not {value}")))
}

/// Joins a parent path and a key for messages (`match.dl_dst`).
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Ignores keys outside `allowed`, as Ryu's ofctl functions do (they read the keys they know with `dict.get`),
/// and logs each at debug so that a typo can still be found.
pub fn ignore_unknown_fields(map: &Map<String, Value>, allowed: &[&str], parent: &str) {
    for key in map.keys().filter(|key| !allowed.contains(&key.as_str())) {
        log::debug!("ignored unknown field `{}` (known: {})", join(parent, key), allowed.join(", "));
    }
}

/// Parses Python's `int(str(x), 0)`: a number, or a decimal / `0x` hex / `0o` / `0b` string.
pub fn parse_int_text(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, radix) = match text.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => (&text[2..], 16),
        Some("0o") => (&text[2..], 8),
        Some("0b") => (&text[2..], 2),
        _ => (text, 10),
    };
    u64::from_str_radix(&digits.replace('_', ""), radix).ok()
}

/// An unsigned integer: a JSON number or a numeric string.
pub fn int(value: &Value, path: &str) -> ApiResult<u64> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_int_text(s),
        Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    };
    parsed.ok_or_else(|| bad(format!("`{path}` must be a non-negative integer, not {value}")))
}

/// An integer that fits in `T` (400 naming `path` if it does not).
pub fn int_as<T: TryFrom<u64>>(value: &Value, path: &str) -> ApiResult<T> {
    let n = int(value, path)?;
    T::try_from(n).map_err(|_| bad(format!("`{path}` is out of range: {n}")))
}

/// Field `key` of `map` as an integer of type `T`, or `default` if absent.
pub fn get_int<T: TryFrom<u64>>(map: &Map<String, Value>, key: &str, parent: &str, default: T) -> ApiResult<T> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => int_as(value, &join(parent, key)),
    }
}

/// Field `key` of `map` as a string.
pub fn get_str<'a>(map: &'a Map<String, Value>, key: &str, parent: &str) -> ApiResult<Option<&'a str>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(bad(format!("`{}` must be a string, not {other}", join(parent, key)))),
    }
}

/// A table of reserved numbers and their names (without the `OFPP_`-style prefix), for one kind of id.
pub struct Reserved {
    /// The prefix Ryu accepts in front of names (`OFPP_`).
    pub prefix: &'static str,
    /// Name and value.
    pub names: &'static [(&'static str, u64)],
}

/// OpenFlow 1.3 ports.
pub const PORTS_13: Reserved = Reserved {
    prefix: "OFPP_",
    names: &[
        ("MAX", 0xffff_ff00),
        ("IN_PORT", 0xffff_fff8),
        ("TABLE", 0xffff_fff9),
        ("NORMAL", 0xffff_fffa),
        ("FLOOD", 0xffff_fffb),
        ("ALL", 0xffff_fffc),
        ("CONTROLLER", 0xffff_fffd),
        ("LOCAL", 0xffff_fffe),
        ("ANY", 0xffff_ffff),
    ],
};
/// OpenFlow 1.0 ports.
pub const PORTS_10: Reserved = Reserved {
    prefix: "OFPP_",
    names: &[
        ("MAX", 0xff00),
        ("IN_PORT", 0xfff8),
        ("TABLE", 0xfff9),
        ("NORMAL", 0xfffa),
        ("FLOOD", 0xfffb),
        ("ALL", 0xfffc),
        ("CONTROLLER", 0xfffd),
        ("LOCAL", 0xfffe),
        ("NONE", 0xffff),
    ],
};
/// Tables.
pub const TABLES: Reserved = Reserved { prefix: "OFPTT_", names: &[("MAX", 0xfe), ("ALL", 0xff)] };
/// Groups.
pub const GROUPS: Reserved =
    Reserved { prefix: "OFPG_", names: &[("MAX", 0xffff_ff00), ("ALL", 0xffff_fffc), ("ANY", 0xffff_ffff)] };
/// Meters.
pub const METERS: Reserved = Reserved {
    prefix: "OFPM_",
    names: &[("MAX", 0xffff_0000), ("SLOWPATH", 0xffff_fffd), ("CONTROLLER", 0xffff_fffe), ("ALL", 0xffff_ffff)],
};
/// Queues.
pub const QUEUES: Reserved = Reserved { prefix: "OFPQ_", names: &[("ALL", 0xffff_ffff)] };
/// `max_len` of output actions.
pub const CML: Reserved = Reserved { prefix: "OFPCML_", names: &[("MAX", 0xffe5), ("NO_BUFFER", 0xffff)] };
/// Controller roles.
pub const ROLES: Reserved =
    Reserved { prefix: "OFPCR_ROLE_", names: &[("NOCHANGE", 0), ("EQUAL", 1), ("MASTER", 2), ("SLAVE", 3)] };

impl Reserved {
    /// A number or a reserved name (`"CONTROLLER"` or `"OFPP_CONTROLLER"`, any case), as `T`.
    pub fn from_user<T: TryFrom<u64>>(&self, value: &Value, path: &str) -> ApiResult<T> {
        if let Value::String(text) = value {
            if parse_int_text(text).is_none() {
                let upper = text.trim().to_ascii_uppercase();
                let name = upper.strip_prefix(self.prefix).unwrap_or(&upper);
                let Some((_, number)) = self.names.iter().find(|(n, _)| *n == name) else {
                    let known: Vec<&str> = self.names.iter().map(|(n, _)| *n).collect();
                    return Err(bad(format!(
                        "`{path}`: unknown name {text:?} (a number or one of {})",
                        known.join(", ")
                    )));
                };
                return T::try_from(*number).map_err(|_| bad(format!("`{path}` is out of range: {text}")));
            }
        }
        int_as(value, path)
    }

    /// Field `key` of `map` through [`Reserved::from_user`], or `default`.
    pub fn get<T: TryFrom<u64>>(&self, map: &Map<String, Value>, key: &str, parent: &str, default: T) -> ApiResult<T> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => self.from_user(value, &join(parent, key)),
        }
    }

    /// The name of a reserved number, else the number (Ryu's `*_to_user`).
    pub fn to_user(&self, number: u64) -> Value {
        match self.names.iter().find(|(_, n)| *n == number) {
            Some((name, _)) => Value::from(*name),
            None => Value::from(number),
        }
    }

    /// Like [`Reserved::to_user`], as text (`"CONTROLLER"`, `"2"`).
    pub fn to_user_text(&self, number: u64) -> String {
        match self.to_user(number) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` if it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if byte == b'=' {
            break;
        }
        let value = BASE64.iter().position(|&c| c == byte)?;
        acc = (acc << 6) | u32::try_from(value).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_and_reserved_names_like_ryu() {
        assert_eq!(parse_int_text("0x10"), Some(16));
        assert_eq!(parse_int_text(" 42 "), Some(42));
        assert_eq!(parse_int_text("4a"), None);
        assert_eq!(int(&json!("7"), "x").ok(), Some(7));
        let error = int(&json!(-1), "match.in_port").expect_err("negative");
        assert!(error.body_text().contains("match.in_port"), "{error}");
        assert_eq!(PORTS_13.from_user::<u32>(&json!("controller"), "port").ok(), Some(0xffff_fffd));
        assert_eq!(PORTS_13.from_user::<u32>(&json!("OFPP_LOCAL"), "port").ok(), Some(0xffff_fffe));
        assert_eq!(PORTS_10.from_user::<u16>(&json!(3), "port").ok(), Some(3));
        assert!(PORTS_10.from_user::<u16>(&json!(70000), "port").is_err());
        assert!(PORTS_13
            .from_user::<u32>(&json!("NOWHERE"), "port")
            .expect_err("unknown")
            .body_text()
            .contains("NOWHERE"));
        assert_eq!(PORTS_13.to_user(0xffff_fffe), json!("LOCAL"));
        assert_eq!(PORTS_13.to_user(3), json!(3));
    }

    #[test]
    fn base64_round_trips() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"\x00\xff\x10"] {
            assert_eq!(base64_decode(&base64_encode(data)).as_deref(), Some(data));
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("!!"), None);
    }
}
