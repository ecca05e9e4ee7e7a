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

/// Ryu 4.34's names of OXM and NXM fields by number (`class << 7 | field`, the header's top 23 bits), from its
/// `oxm_types` of OpenFlow 1.3 to 1.5 (Nicira's registers, tunnel and connection-tracking fields among them):
/// what Ryu shows for an OXM id in table features.
const RYU_OXM_NAMES: &[(u32, &str)] = &[
    (0, "in_port_nxm"),
    (1, "eth_dst_nxm"),
    (2, "eth_src_nxm"),
    (3, "eth_type_nxm"),
    (4, "vlan_tci"),
    (5, "nw_tos"),
    (6, "ip_proto_nxm"),
    (7, "ipv4_src_nxm"),
    (8, "ipv4_dst_nxm"),
    (9, "tcp_src_nxm"),
    (10, "tcp_dst_nxm"),
    (11, "udp_src_nxm"),
    (12, "udp_dst_nxm"),
    (13, "icmpv4_type_nxm"),
    (14, "icmpv4_code_nxm"),
    (15, "arp_op_nxm"),
    (16, "arp_spa_nxm"),
    (17, "arp_tpa_nxm"),
    (128, "reg0"),
    (129, "reg1"),
    (130, "reg2"),
    (131, "reg3"),
    (132, "reg4"),
    (133, "reg5"),
    (134, "reg6"),
    (135, "reg7"),
    (136, "reg8"),
    (137, "reg9"),
    (138, "reg10"),
    (139, "reg11"),
    (140, "reg12"),
    (141, "reg13"),
    (142, "reg14"),
    (143, "reg15"),
    (144, "tunnel_id_nxm"),
    (145, "arp_sha_nxm"),
    (146, "arp_tha_nxm"),
    (147, "ipv6_src_nxm"),
    (148, "ipv6_dst_nxm"),
    (149, "icmpv6_type_nxm"),
    (150, "icmpv6_code_nxm"),
    (151, "nd_target"),
    (152, "nd_sll"),
    (153, "nd_tll"),
    (154, "ip_frag"),
    (155, "ipv6_label"),
    (156, "ip_ecn_nxm"),
    (157, "nw_ttl"),
    (158, "mpls_ttl"),
    (159, "tun_ipv4_src"),
    (160, "tun_ipv4_dst"),
    (161, "pkt_mark"),
    (162, "tcp_flags_nxm"),
    (164, "_recirc_id"),
    (165, "conj_id"),
    (166, "tun_gbp_id"),
    (167, "tun_gbp_flags"),
    (232, "tun_flags"),
    (233, "ct_state"),
    (234, "ct_zone"),
    (235, "ct_mark"),
    (236, "ct_label"),
    (237, "tun_ipv6_src"),
    (238, "tun_ipv6_dst"),
    (239, "xxreg0"),
    (240, "xxreg1"),
    (241, "xxreg2"),
    (242, "xxreg3"),
    (4194304, "in_port"),
    (4194305, "in_phy_port"),
    (4194306, "metadata"),
    (4194307, "eth_dst"),
    (4194308, "eth_src"),
    (4194309, "eth_type"),
    (4194310, "vlan_vid"),
    (4194311, "vlan_pcp"),
    (4194312, "ip_dscp"),
    (4194313, "ip_ecn"),
    (4194314, "ip_proto"),
    (4194315, "ipv4_src"),
    (4194316, "ipv4_dst"),
    (4194317, "tcp_src"),
    (4194318, "tcp_dst"),
    (4194319, "udp_src"),
    (4194320, "udp_dst"),
    (4194321, "sctp_src"),
    (4194322, "sctp_dst"),
    (4194323, "icmpv4_type"),
    (4194324, "icmpv4_code"),
    (4194325, "arp_op"),
    (4194326, "arp_spa"),
    (4194327, "arp_tpa"),
    (4194328, "arp_sha"),
    (4194329, "arp_tha"),
    (4194330, "ipv6_src"),
    (4194331, "ipv6_dst"),
    (4194332, "ipv6_flabel"),
    (4194333, "icmpv6_type"),
    (4194334, "icmpv6_code"),
    (4194335, "ipv6_nd_target"),
    (4194336, "ipv6_nd_sll"),
    (4194337, "ipv6_nd_tll"),
    (4194338, "mpls_label"),
    (4194339, "mpls_tc"),
    (4194340, "mpls_bos"),
    (4194341, "pbb_isid"),
    (4194342, "tunnel_id"),
    (4194343, "ipv6_exthdr"),
    (4194345, "pbb_uca"),
    (4194346, "tcp_flags"),
    (4194347, "actset_output"),
    (4194348, "packet_type"),
];

/// The fields of [`RYU_OXM_NAMES`] Ryu knows only from a later version: `pbb_uca` from 1.4, `tcp_flags`,
/// `actset_output` and `packet_type` from 1.5 (wire versions).
const RYU_OXM_SINCE: &[(u32, u8)] = &[(4194345, 0x05), (4194346, 0x06), (4194347, 0x06), (4194348, 0x06)];

/// An OXM id's name as Ryu's module for wire `version` gives it in table features: its name in Ryu's table, else
/// `field_<header >> 9>`.
pub fn ryu_oxm_name(header: u32, version: u8) -> String {
    let number = header >> 9;
    let known = RYU_OXM_SINCE.iter().find(|(n, _)| *n == number).is_none_or(|(_, since)| version >= *since);
    match RYU_OXM_NAMES.iter().find(|(n, _)| *n == number) {
        Some((_, name)) if known => (*name).to_owned(),
        _ => format!("field_{number}"),
    }
}

/// The number (`class << 7 | field`) of a field Ryu names `name`.
pub fn ryu_oxm_number(name: &str) -> Option<u32> {
    RYU_OXM_NAMES.iter().find(|(_, n)| *n == name).map(|(number, _)| *number)
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
