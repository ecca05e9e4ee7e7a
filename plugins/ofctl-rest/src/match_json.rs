//! Matches in Ryu's JSON (`{"in_port": 1, "dl_dst": "...", "nw_src": "10.0.0.0/24"}`) to codec matches and back,
//! for OpenFlow 1.0 (`ofctl_v1_0.to_match` / `match_to_str`) and 1.3 (`ofctl_v1_3.to_match` / `match_to_str`).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};
use tatsu_plugin_api::ofproto::v1_0;
use tatsu_plugin_api::ofproto::v1_3::oxm::{ValueKind, ALL_FIELDS};
use tatsu_plugin_api::ofproto::v1_3::{Match, Oxm, OxmField};
use tatsu_plugin_api::ofproto::MacAddr;

use crate::util::{bad, int, int_as, join, object, ApiResult, PORTS_10, PORTS_13};

const OFPVID_PRESENT: u64 = 0x1000;
const ETH_TYPE_ARP: u64 = 0x0806;

fn text<'a>(value: &'a Value, path: &str) -> ApiResult<&'a str> {
    value.as_str().ok_or_else(|| bad(format!("`{path}` must be a string, not {value}")))
}

fn mac(text: &str, path: &str) -> ApiResult<MacAddr> {
    text.trim().parse().map_err(|_| bad(format!("`{path}`: {text:?} is not a MAC address")))
}

fn ipv4(text: &str, path: &str) -> ApiResult<Ipv4Addr> {
    text.trim().parse().map_err(|_| bad(format!("`{path}`: {text:?} is not an IPv4 address")))
}

fn ipv6(text: &str, path: &str) -> ApiResult<Ipv6Addr> {
    text.trim().parse().map_err(|_| bad(format!("`{path}`: {text:?} is not an IPv6 address")))
}

/// A Ryu `value[/mask]` string split in two.
fn split_mask(text: &str) -> (&str, Option<&str>) {
    match text.split_once('/') {
        Some((value, mask)) => (value, Some(mask)),
        None => (text, None),
    }
}

/// A prefix length or a dotted mask, as mask bytes of `len` bytes.
fn ip_mask(mask: &str, len: usize, path: &str) -> ApiResult<Vec<u8>> {
    if let Ok(prefix) = mask.trim().parse::<u32>() {
        if prefix as usize > len * 8 {
            return Err(bad(format!("`{path}`: prefix /{prefix} is too long")));
        }
        let bits = len * 8;
        return Ok((0..len)
            .map(|i| {
                let start = i * 8;
                let ones = (prefix as usize).saturating_sub(start).min(8);
                let _ = bits;
                if ones == 0 {
                    0
                } else {
                    0xffu8 << (8 - ones)
                }
            })
            .collect());
    }
    if len == 4 {
        Ok(ipv4(mask, path)?.octets().to_vec())
    } else {
        Ok(ipv6(mask, path)?.octets().to_vec())
    }
}

/// One 1.3 field from its Ryu value.
fn oxm_from_user(field: OxmField, value: &Value, path: &str) -> ApiResult<Oxm> {
    let info = field.info();
    match (field, info.kind) {
        (OxmField::InPort, _) => Ok(Oxm::int(field, u64::from(PORTS_13.from_user::<u32>(value, path)?))),
        (OxmField::VlanVid, _) => match value {
            Value::Number(_) => Ok(Oxm::int(field, int(value, path)? | OFPVID_PRESENT)),
            _ => {
                let text = text(value, path)?;
                let (v, mask) = split_mask(text);
                let parse = |t: &str| {
                    crate::util::parse_int_text(t).ok_or_else(|| bad(format!("`{path}`: bad VLAN id {text:?}")))
                };
                match mask {
                    Some(mask) => Ok(Oxm::int_masked(field, parse(v)?, parse(mask)?)),
                    None if v.trim().bytes().all(|b| b.is_ascii_digit()) => {
                        Ok(Oxm::int(field, parse(v)? | OFPVID_PRESENT))
                    }
                    None => Ok(Oxm::int(field, parse(v)?)),
                }
            }
        },
        (_, ValueKind::Int) => {
            if let Value::String(text) = value {
                if let (v, Some(mask)) = split_mask(text) {
                    if !info.maskable {
                        return Err(bad(format!("`{path}` cannot be masked")));
                    }
                    let parse = |t: &str| {
                        crate::util::parse_int_text(t).ok_or_else(|| bad(format!("`{path}`: bad value {text:?}")))
                    };
                    return Ok(Oxm::int_masked(field, parse(v)?, parse(mask)?));
                }
            }
            let n = int(value, path)?;
            if info.len < 8 && n >> (u32::from(info.len) * 8) != 0 {
                return Err(bad(format!("`{path}` is out of range: {n}")));
            }
            Ok(Oxm::int(field, n))
        }
        (_, ValueKind::Mac) => {
            let (v, mask) = split_mask(text(value, path)?);
            match mask {
                Some(m) => Ok(Oxm::masked(field, &mac(v, path)?.0, &mac(m, path)?.0)),
                None => Ok(Oxm::new(field, &mac(v, path)?.0)),
            }
        }
        (_, ValueKind::Ipv4) => {
            let (v, mask) = split_mask(text(value, path)?);
            match mask {
                Some(m) => Ok(Oxm::masked(field, &ipv4(v, path)?.octets(), &ip_mask(m, 4, path)?)),
                None => Ok(Oxm::new(field, &ipv4(v, path)?.octets())),
            }
        }
        (_, ValueKind::Ipv6) => {
            let (v, mask) = split_mask(text(value, path)?);
            match mask {
                Some(m) => Ok(Oxm::masked(field, &ipv6(v, path)?.octets(), &ip_mask(m, 16, path)?)),
                None => Ok(Oxm::new(field, &ipv6(v, path)?.octets())),
            }
        }
    }
}

/// The OpenFlow 1.3 match for Ryu's match object (old 1.0 names accepted, as Ryu does); an unknown field or a bad
/// value is a 400 naming it.
pub fn to_match_13(value: &Value, parent: &str) -> ApiResult<Match> {
    let attrs = object(value, parent)?;
    let eth_type =
        attrs.get("dl_type").or_else(|| attrs.get("eth_type")).map(|v| int(v, &join(parent, "dl_type"))).transpose()?;
    let ip_proto = attrs
        .get("nw_proto")
        .or_else(|| attrs.get("ip_proto"))
        .map(|v| int(v, &join(parent, "nw_proto")))
        .transpose()?;
    let is_arp = eth_type == Some(ETH_TYPE_ARP);
    let mut oxms: Vec<(usize, Oxm)> = Vec::new();
    for (key, value) in attrs {
        let path = join(parent, key);
        let name = match key.as_str() {
            "dl_dst" => "eth_dst",
            "dl_src" => "eth_src",
            "dl_type" => "eth_type",
            "dl_vlan" => "vlan_vid",
            "nw_src" if is_arp && !attrs.contains_key("arp_spa") => "arp_spa",
            "nw_dst" if is_arp && !attrs.contains_key("arp_tpa") => "arp_tpa",
            "nw_src" => "ipv4_src",
            "nw_dst" => "ipv4_dst",
            "nw_proto" => "ip_proto",
            "tp_src" | "tp_dst" => match (ip_proto, key.as_str()) {
                (Some(6), "tp_src") => "tcp_src",
                (Some(6), _) => "tcp_dst",
                (Some(17), "tp_src") => "udp_src",
                (Some(17), _) => "udp_dst",
                _ => return Err(bad(format!("`{path}` needs `nw_proto` (or `ip_proto`) 6 (TCP) or 17 (UDP)"))),
            },
            other => other,
        };
        let Some(field) = OxmField::from_name(name).filter(|f| f.info().class == 0x8000) else {
            // Ryu logs an unknown match field (at error) and leaves it out of the match; so does this, louder
            // than other unknown keys because the flow then matches more than the client may think.
            log::warn!("ignored unknown match field `{path}`");
            continue;
        };
        let oxm = oxm_from_user(field, value, &path)?;
        let order = ALL_FIELDS.iter().position(|f| *f == field).unwrap_or(usize::MAX);
        if oxms.iter().any(|(o, _)| *o == order) {
            return Err(bad(format!("match field `{path}` is given twice (under two names)")));
        }
        oxms.push((order, oxm));
    }
    oxms.sort_by_key(|(order, _)| *order);
    Ok(Match { fields: oxms.into_iter().map(|(_, oxm)| oxm).collect() })
}

/// A masked or plain value the way Ryu prints it (`str(value) + '/' + str(mask)`).
fn value_text(kind: ValueKind, bytes: &[u8]) -> Value {
    match kind {
        ValueKind::Int => {
            if bytes.len() <= 8 {
                Value::from(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
            } else {
                Value::from(bytes.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b)).to_string())
            }
        }
        ValueKind::Mac => {
            let mut six = [0u8; 6];
            six.copy_from_slice(&bytes[..6.min(bytes.len())]);
            Value::from(MacAddr(six).to_string())
        }
        ValueKind::Ipv4 => {
            let mut four = [0u8; 4];
            four.copy_from_slice(&bytes[..4.min(bytes.len())]);
            Value::from(Ipv4Addr::from(four).to_string())
        }
        ValueKind::Ipv6 => {
            let mut sixteen = [0u8; 16];
            sixteen.copy_from_slice(&bytes[..16.min(bytes.len())]);
            Value::from(Ipv6Addr::from(sixteen).to_string())
        }
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The Ryu name and JSON value of one 1.3 field (`None` for fields Ryu's table does not know).
pub fn oxm_to_user(oxm: &Oxm) -> Option<(&'static str, Value)> {
    let field = oxm.field()?;
    let info = field.info();
    let value = oxm.value();
    let mask = oxm.mask();
    let name = match info.name {
        "eth_src" => "dl_src",
        "eth_dst" => "dl_dst",
        "eth_type" => "dl_type",
        "vlan_vid" => "dl_vlan",
        "ipv4_src" => "nw_src",
        "ipv4_dst" => "nw_dst",
        "ip_proto" => "nw_proto",
        "tcp_src" | "udp_src" => "tp_src",
        "tcp_dst" | "udp_dst" => "tp_dst",
        other => other,
    };
    let shown = if field == OxmField::VlanVid {
        let v = oxm.value_u64();
        Value::from(match mask {
            Some(m) => format!("0x{v:04x}/0x{:04x}", value_u64(m)),
            None if v & OFPVID_PRESENT != 0 => (v & !OFPVID_PRESENT).to_string(),
            None => format!("0x{v:04x}"),
        })
    } else if field == OxmField::InPort {
        PORTS_13.to_user(oxm.value_u64())
    } else {
        let shown = value_text(info.kind, value);
        match mask {
            Some(m) => Value::from(format!("{}/{}", plain(&shown), plain(&value_text(info.kind, m)))),
            None => shown,
        }
    };
    Some((name, shown))
}

fn value_u64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// A 1.3 match as Ryu shows it in flow stats.
pub fn match_to_user_13(m: &Match) -> Value {
    let mut out = Map::new();
    for oxm in &m.fields {
        if let Some((name, value)) = oxm_to_user(oxm) {
            out.entry(name.to_owned()).or_insert(value);
        }
    }
    Value::Object(out)
}

/// The OpenFlow 1.0 match for Ryu's match object.
pub fn to_match_10(value: &Value, parent: &str) -> ApiResult<v1_0::Match> {
    let attrs = object(value, parent)?;
    let mut m = v1_0::Match::new();
    for (key, value) in attrs {
        let path = join(parent, key);
        m =
            match key.as_str() {
                "in_port" => m.in_port(PORTS_10.from_user(value, &path)?),
                "dl_src" => m.dl_src(mac(text(value, &path)?, &path)?),
                "dl_dst" => m.dl_dst(mac(text(value, &path)?, &path)?),
                "dl_vlan" => m.dl_vlan(int_as(value, &path)?),
                "dl_vlan_pcp" => m.dl_vlan_pcp(int_as(value, &path)?),
                "dl_type" => m.dl_type(int_as(value, &path)?),
                "nw_tos" => m.nw_tos(int_as(value, &path)?),
                "nw_proto" => m.nw_proto(int_as(value, &path)?),
                "nw_src" | "nw_dst" => {
                    let (address, prefix) = split_mask(text(value, &path)?);
                    let address = ipv4(address, &path)?;
                    let prefix: u8 =
                        match prefix {
                            Some(p) => p.trim().parse().ok().filter(|p| (1..=32).contains(p)).ok_or_else(|| {
                                bad(format!("`{path}`: prefix must be 1..32 (OpenFlow 1.0), not {p:?}"))
                            })?,
                            None => 32,
                        };
                    if key == "nw_src" {
                        m.nw_src(address, prefix)
                    } else {
                        m.nw_dst(address, prefix)
                    }
                }
                "tp_src" => m.tp_src(int_as(value, &path)?),
                "tp_dst" => m.tp_dst(int_as(value, &path)?),
                _ => {
                    log::warn!("ignored unknown match field `{path}` (OpenFlow 1.0)");
                    m
                }
            };
    }
    Ok(m)
}

/// A 1.0 match as Ryu shows it in flow stats.
pub fn match_to_user_10(m: &v1_0::Match) -> Value {
    use v1_0::wildcards as w;
    let mut out = Map::new();
    let exact = |bit: u32| m.wildcards & bit == 0;
    let mut put = |key: &str, value: Value| {
        out.insert(key.to_owned(), value);
    };
    if exact(w::IN_PORT) {
        put("in_port", PORTS_10.to_user(u64::from(m.in_port)));
    }
    if exact(w::DL_SRC) {
        put("dl_src", Value::from(m.dl_src.to_string()));
    }
    if exact(w::DL_DST) {
        put("dl_dst", Value::from(m.dl_dst.to_string()));
    }
    if exact(w::DL_VLAN) {
        put("dl_vlan", Value::from(m.dl_vlan));
    }
    if exact(w::DL_VLAN_PCP) {
        put("dl_vlan_pcp", Value::from(m.dl_vlan_pcp));
    }
    if exact(w::DL_TYPE) {
        put("dl_type", Value::from(m.dl_type));
    }
    if exact(w::NW_TOS) {
        put("nw_tos", Value::from(m.nw_tos));
    }
    if exact(w::NW_PROTO) {
        put("nw_proto", Value::from(m.nw_proto));
    }
    let prefixed = |address: Ipv4Addr, wild_bits: u32| {
        let prefix = 32u32.saturating_sub(wild_bits);
        if prefix == 32 || prefix == 0 {
            address.to_string()
        } else {
            format!("{address}/{prefix}")
        }
    };
    if m.wildcards & w::NW_SRC_ALL == 0 {
        put("nw_src", Value::from(prefixed(m.nw_src, (m.wildcards & w::NW_SRC_MASK) >> w::NW_SRC_SHIFT)));
    }
    if m.wildcards & w::NW_DST_ALL == 0 {
        put("nw_dst", Value::from(prefixed(m.nw_dst, (m.wildcards & w::NW_DST_MASK) >> w::NW_DST_SHIFT)));
    }
    if exact(w::TP_SRC) {
        put("tp_src", Value::from(m.tp_src));
    }
    if exact(w::TP_DST) {
        put("tp_dst", Value::from(m.tp_dst));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ryu_names_round_trip_on_1_3() {
        // The first flow of the recorded os-ken 1.4.1 session (testdata/osken-1.4.1/of13/flow_1.json).
        let request = json!({"in_port": 1, "dl_dst": "00:00:00:00:00:02", "dl_type": 2048,
                             "nw_src": "10.0.0.0/24", "nw_proto": 6, "tp_dst": 80});
        let m = to_match_13(&request, "match").expect("valid");
        let names: Vec<&str> = m.fields.iter().filter_map(|o| o.field()).map(|f| f.name()).collect();
        assert_eq!(names, ["in_port", "eth_dst", "eth_type", "ip_proto", "ipv4_src", "tcp_dst"]);
        assert_eq!(
            match_to_user_13(&m),
            json!({"in_port": 1, "dl_dst": "00:00:00:00:00:02", "dl_type": 2048,
                   "nw_src": "10.0.0.0/255.255.255.0", "nw_proto": 6, "tp_dst": 80})
        );
    }

    #[test]
    fn vlan_ids_and_masks_follow_ryu() {
        let m = to_match_13(&json!({"dl_vlan": 5, "eth_src": "00:00:00:00:00:01/ff:ff:ff:00:00:00"}), "match")
            .expect("valid");
        assert_eq!(m.get(OxmField::VlanVid).map(Oxm::value_u64), Some(0x1005));
        let shown = match_to_user_13(&m);
        assert_eq!(shown["dl_vlan"], "5");
        assert_eq!(shown["dl_src"], "00:00:00:00:00:01/ff:ff:ff:00:00:00");
        let hex = to_match_13(&json!({"vlan_vid": "0x1000/0x1000"}), "match").expect("valid");
        assert_eq!(match_to_user_13(&hex)["dl_vlan"], "0x1000/0x1000");
        let untagged = to_match_13(&json!({"vlan_vid": "0x0000"}), "match").expect("valid");
        assert_eq!(match_to_user_13(&untagged)["dl_vlan"], "0x0000");
        let arp = to_match_13(&json!({"eth_type": 2054, "nw_dst": "10.0.0.1"}), "match").expect("valid");
        assert!(arp.get(OxmField::ArpTpa).is_some());
        let masked = to_match_13(&json!({"metadata": "0x10/0xf0"}), "match").expect("valid");
        assert_eq!(match_to_user_13(&masked)["metadata"], "16/240");
    }

    #[test]
    fn bad_fields_are_named() {
        // Unknown fields are left out, as Ryu does; wrong values are still errors.
        let m = to_match_13(&json!({"in_prot": 1, "in_port": 2}), "match").expect("unknown field ignored");
        assert_eq!(match_to_user_13(&m), json!({"in_port": 2}));
        let e = to_match_13(&json!({"dl_dst": "zz"}), "match").expect_err("bad mac");
        assert!(e.body_text().contains("match.dl_dst"), "{}", e.body_text());
        let e = to_match_13(&json!({"tp_dst": 80}), "match").expect_err("no proto");
        assert!(e.body_text().contains("nw_proto"), "{}", e.body_text());
        let e = to_match_13(&json!({"ip_proto": 300}), "match").expect_err("range");
        assert!(e.body_text().contains("out of range"), "{}", e.body_text());
        let m = to_match_10(&json!({"eth_dst": "00:00:00:00:00:01"}), "match").expect("1.3 name ignored on 1.0");
        assert_eq!(match_to_user_10(&m), json!({}));
        let e = to_match_10(&json!({"dl_dst": "zz"}), "match").expect_err("bad mac");
        assert!(e.body_text().contains("match.dl_dst"), "{}", e.body_text());
    }

    #[test]
    fn one_zero_matches_like_ryu() {
        // The second flow of testdata/osken-1.4.1/of10/flow_1.json.
        let request = json!({"in_port": 1, "dl_dst": "00:00:00:00:00:02", "dl_type": 2048,
                             "nw_src": "10.0.0.0/24", "nw_proto": 6, "tp_dst": 80});
        let m = to_match_10(&request, "match").expect("valid");
        assert_eq!(match_to_user_10(&m), request);
        assert_eq!(match_to_user_10(&v1_0::Match::new()), json!({}));
        let port = to_match_10(&json!({"in_port": "LOCAL"}), "match").expect("valid");
        assert_eq!(match_to_user_10(&port), json!({"in_port": "LOCAL"}));
    }
}
