//! OpenFlow 1.4 and 1.5 datapaths the way Ryu's `ofctl_v1_4` and `ofctl_v1_5` serve them.
//!
//! From 1.4 on, Ryu answers with each reply part's `to_jsondict()` (the class name taken off), with a few fields
//! rewritten for people: types as names (`"APPLY_ACTIONS"`, `"ETHERNET"`), reserved numbers as names, matches
//! and OXS statistics as flat objects. The codec's JSON is that same `to_jsondict()` form (checked against Ryu's
//! corpus), so this module renders a reply by taking the codec's JSON of each part and applying Ryu's rewrites;
//! nothing here knows the layout of a part beyond the fields Ryu rewrites.
//!
//! Requests: flow entries carry `instructions` (Ryu's `to_instructions`, not 1.3's `actions` list), 1.5 group
//! buckets carry properties, and 1.4/1.5 port modifications carry properties.

use serde_json::{json, Map, Value};
use tatsu_plugin_api::ofproto::json::to_json;
use tatsu_plugin_api::ofproto::v1_3::{self, Instruction};
use tatsu_plugin_api::ofproto::v1_5::actions::MeterAction;
use tatsu_plugin_api::ofproto::{v1_4, v1_5, Message, OFP_VERSION_1_5};

use crate::actions::{action_13, action_type, required};
use crate::util::{
    array, bad, get_int, get_str, ignore_unknown_fields, int, int_as, join, object, ApiResult, GROUPS, METERS,
    PORTS_13, TABLES,
};

/// A table of constant names by value (Ryu's `OFCtlUtil.*_to_user`, the first name of each value).
type Names = &'static [(u64, &'static str)];

const ACTION_TYPES: Names = &[
    (0, "OUTPUT"),
    (11, "COPY_TTL_OUT"),
    (12, "COPY_TTL_IN"),
    (15, "SET_MPLS_TTL"),
    (16, "DEC_MPLS_TTL"),
    (17, "PUSH_VLAN"),
    (18, "POP_VLAN"),
    (19, "PUSH_MPLS"),
    (20, "POP_MPLS"),
    (21, "SET_QUEUE"),
    (22, "GROUP"),
    (23, "SET_NW_TTL"),
    (24, "DEC_NW_TTL"),
    (25, "SET_FIELD"),
    (26, "PUSH_PBB"),
    (27, "POP_PBB"),
    (28, "COPY_FIELD"),
    (29, "METER"),
    (0xffff, "EXPERIMENTER"),
];
const INSTRUCTION_TYPES_14: Names = &[
    (1, "GOTO_TABLE"),
    (2, "WRITE_METADATA"),
    (3, "WRITE_ACTIONS"),
    (4, "APPLY_ACTIONS"),
    (5, "CLEAR_ACTIONS"),
    (6, "METER"),
    (0xffff, "EXPERIMENTER"),
];
const INSTRUCTION_TYPES_15: Names = &[
    (1, "GOTO_TABLE"),
    (2, "WRITE_METADATA"),
    (3, "WRITE_ACTIONS"),
    (4, "APPLY_ACTIONS"),
    (5, "CLEAR_ACTIONS"),
    (6, "DEPRECATED"),
    (7, "STAT_TRIGGER"),
    (0xffff, "EXPERIMENTER"),
];
const PORT_STATS_PROPS: Names = &[(0, "ETHERNET"), (1, "OPTICAL"), (0xffff, "EXPERIMENTER")];
const PORT_DESC_PROPS_14: Names = &[(0, "ETHERNET"), (1, "OPTICAL"), (0xffff, "EXPERIMENTER")];
const PORT_DESC_PROPS_15: Names = &[
    (0, "ETHERNET"),
    (1, "OPTICAL"),
    (2, "PIPELINE_INPUT"),
    (3, "PIPELINE_OUTPUT"),
    (4, "RECIRCULATE"),
    (0xffff, "EXPERIMENTER"),
];
const QUEUE_STATS_PROPS: Names = &[(0xffff, "EXPERIMENTER")];
const QUEUE_DESC_PROPS: Names = &[(1, "MIN_RATE"), (2, "MAX_RATE"), (0xffff, "EXPERIMENTER")];
const METER_BANDS: Names = &[(1, "DROP"), (2, "DSCP_REMARK"), (0xffff, "EXPERIMENTER")];
const GROUP_TYPES: Names = &[(0, "ALL"), (1, "SELECT"), (2, "INDIRECT"), (3, "FF")];
const BUCKET_PROPS: Names = &[(0, "WEIGHT"), (1, "WATCH_PORT"), (2, "WATCH_GROUP"), (0xffff, "EXPERIMENTER")];
const METER_FLAGS: Names = &[(1, "KBPS"), (2, "PKTPS"), (4, "BURST"), (8, "STATS")];
const TABLE_FEATURE_PROPS: Names = &[
    (0, "INSTRUCTIONS"),
    (1, "INSTRUCTIONS_MISS"),
    (2, "NEXT_TABLES"),
    (3, "NEXT_TABLES_MISS"),
    (4, "WRITE_ACTIONS"),
    (5, "WRITE_ACTIONS_MISS"),
    (6, "APPLY_ACTIONS"),
    (7, "APPLY_ACTIONS_MISS"),
    (8, "MATCH"),
    (10, "WILDCARDS"),
    (12, "WRITE_SETFIELD"),
    (13, "WRITE_SETFIELD_MISS"),
    (14, "APPLY_SETFIELD"),
    (15, "APPLY_SETFIELD_MISS"),
    (16, "TABLE_SYNC_FROM"),
    (18, "WRITE_COPYFIELD"),
    (19, "WRITE_COPYFIELD_MISS"),
    (20, "APPLY_COPYFIELD"),
    (21, "APPLY_COPYFIELD_MISS"),
    (22, "PACKET_TYPES"),
    (0xfffe, "EXPERIMENTER"),
    (0xffff, "EXPERIMENTER_MISS"),
];

/// Ryu's `t if t != value else 'UNKNOWN'`: the name of a type number, or `"UNKNOWN"`.
fn type_name(names: Names, value: &Value) -> Value {
    let found = value.as_u64().and_then(|n| names.iter().find(|(v, _)| *v == n));
    Value::from(found.map_or("UNKNOWN", |(_, name)| *name))
}

/// `{"Class": body}` → `body` (Ryu's `x.to_jsondict()[x.__class__.__name__]`).
pub fn unwrap(value: &Value) -> Map<String, Value> {
    match value {
        Value::Object(outer) if outer.len() == 1 => match outer.values().next() {
            Some(Value::Object(body)) => body.clone(),
            _ => outer.clone(),
        },
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    }
}

/// [`unwrap`], taking the value (no copy).
fn into_body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(outer) if outer.len() == 1 && outer.values().all(Value::is_object) => {
            match outer.into_iter().next() {
                Some((_, Value::Object(body))) => body,
                _ => Map::new(),
            }
        }
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Every part of the multipart replies in `replies`, each as its class body: a list body gives each entry, an
/// object body (description, aggregate, features) gives itself.
pub fn reply_parts(replies: &[Message]) -> Vec<Map<String, Value>> {
    let mut parts = Vec::new();
    for reply in replies {
        if !matches!(
            reply,
            Message::V1_4(v1_4::Message::MultipartReply(_)) | Message::V1_5(v1_5::Message::MultipartReply(_))
        ) {
            continue;
        }
        match into_body(to_json(reply)).remove("body") {
            Some(Value::Array(list)) => parts.extend(list.into_iter().map(into_body)),
            Some(body @ Value::Object(_)) => parts.push(into_body(body)),
            _ => {}
        }
    }
    parts
}

/// Python's `str()` of a JSON scalar (for `value/mask`).
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Ryu's `match_to_str` of 1.4/1.5: OXM names as they are, VLAN ids and ports for people, `value/mask`.
pub fn match_to_user(match_json: &Value, version: u8) -> Value {
    let mut out = Map::new();
    let body = unwrap(match_json);
    for field in body.get("oxm_fields").and_then(Value::as_array).into_iter().flatten() {
        let tlv = field.get("OXMTlv").cloned().unwrap_or_default();
        let Some(key) = tlv.get("field").and_then(Value::as_str) else { continue };
        let value = tlv.get("value").cloned().unwrap_or_default();
        let mask = tlv.get("mask").filter(|m| !m.is_null());
        let shown = match key {
            "vlan_vid" => {
                let v = value.as_u64().unwrap_or(0);
                Value::from(match mask.and_then(Value::as_u64) {
                    Some(m) => format!("0x{v:04x}/0x{m:04x}"),
                    None if v & 0x1000 != 0 => (v & !0x1000).to_string(),
                    None => format!("0x{v:04x}"),
                })
            }
            "in_port" => value.as_u64().map_or(value.clone(), |n| PORTS_13.to_user(n)),
            "packet_type" if version == OFP_VERSION_1_5 => {
                let v = value.as_u64().unwrap_or(0);
                json!([v >> 16, v & 0xffff])
            }
            _ => match mask {
                Some(m) => Value::from(format!("{}/{}", python_str(&value), python_str(m))),
                None => value,
            },
        };
        out.entry(key.to_owned()).or_insert(shown);
    }
    Value::Object(out)
}

/// Ryu's 1.5 `stats_to_str`: OXS statistics as a flat object, durations split in seconds and nanoseconds.
pub fn stats_to_user(stats_json: &Value) -> Value {
    let mut out = Map::new();
    for field in unwrap(stats_json).get("oxs_fields").and_then(Value::as_array).into_iter().flatten() {
        let tlv = field.get("OXSTlv").cloned().unwrap_or_default();
        let Some(key) = tlv.get("field").and_then(Value::as_str) else { continue };
        let value = tlv.get("value").cloned().unwrap_or_default();
        let pair = |sec: &str, nsec: &str| json!({ sec: value.get(0), nsec: value.get(1) });
        let shown = match key {
            "duration" => pair("duration_sec", "duration_nsec"),
            "idle_time" => pair("idle_time_sec", "idle_time_nsec"),
            _ => value.clone(),
        };
        out.entry(key.to_owned()).or_insert(shown);
    }
    Value::Object(out)
}

/// Ryu's 1.4/1.5 `action_to_str`: the action's fields, its type as a name, a set-field's OXM flattened.
pub fn action_to_user(action: &Value, version: u8) -> Value {
    let mut s = unwrap(action);
    let name = type_name(ACTION_TYPES, s.get("type").unwrap_or(&Value::Null));
    // Before 1.5 Ryu's table has no COPY_FIELD or METER: their numbers are UNKNOWN there.
    let name = match name.as_str() {
        Some("COPY_FIELD" | "METER") if version != OFP_VERSION_1_5 => Value::from("UNKNOWN"),
        _ => name,
    };
    let flatten = if version == OFP_VERSION_1_5 { name == "SET_FIELD" } else { s.contains_key("field") };
    s.insert("type".to_owned(), name.clone());
    if flatten {
        let tlv = s.remove("field").and_then(|f| f.get("OXMTlv").cloned()).unwrap_or_default();
        s.insert("field".to_owned(), tlv.get("field").cloned().unwrap_or_default());
        s.insert("mask".to_owned(), tlv.get("mask").cloned().unwrap_or_default());
        s.insert("value".to_owned(), tlv.get("value").cloned().unwrap_or_default());
    } else if version == OFP_VERSION_1_5 && name == "COPY_FIELD" {
        let ids = s.remove("oxm_ids").unwrap_or_default();
        let id = |i: usize| ids.get(i).and_then(|id| id.get("OFPOxmId")).and_then(|id| id.get("type")).cloned();
        s.insert("src_oxm_id".to_owned(), id(0).unwrap_or_default());
        s.insert("dst_oxm_id".to_owned(), id(1).unwrap_or_default());
    }
    Value::Object(s)
}

fn actions_to_user(actions: Option<&Value>, version: u8) -> Value {
    Value::Array(actions.and_then(Value::as_array).into_iter().flatten().map(|a| action_to_user(a, version)).collect())
}

/// Ryu's `instructions_to_str`: each instruction's fields, its type as a name, its actions rendered.
pub fn instructions_to_user(instructions: Option<&Value>, version: u8) -> Value {
    let names = if version == OFP_VERSION_1_5 { INSTRUCTION_TYPES_15 } else { INSTRUCTION_TYPES_14 };
    let mut out = Vec::new();
    for instruction in instructions.and_then(Value::as_array).into_iter().flatten() {
        let is_actions = instruction.get("OFPInstructionActions").is_some();
        let mut v = unwrap(instruction);
        v.insert("type".to_owned(), type_name(names, v.get("type").unwrap_or(&Value::Null)));
        if is_actions {
            let actions = actions_to_user(v.get("actions"), version);
            v.insert("actions".to_owned(), actions);
        }
        out.push(Value::Object(v));
    }
    Value::Array(out)
}

/// Renames the `type` of every property in `part[key]` (unwrapped) with `names`.
fn properties_to_user(part: &mut Map<String, Value>, key: &str, names: Names) {
    let properties: Vec<Value> = part
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let mut p = unwrap(p);
            let name = type_name(names, p.get("type").unwrap_or(&Value::Null));
            p.insert("type".to_owned(), name);
            Value::Object(p)
        })
        .collect();
    part.insert(key.to_owned(), Value::Array(properties));
}

/// A reserved number field (`port_no`, `group_id`...) for people.
fn reserved_to_user(part: &mut Map<String, Value>, key: &str, reserved: &crate::util::Reserved) {
    if let Some(n) = part.get(key).and_then(Value::as_u64) {
        part.insert(key.to_owned(), reserved.to_user(n));
    }
}

/// The list in `part[key]`, each entry unwrapped.
fn unwrap_list(part: &mut Map<String, Value>, key: &str) {
    let list: Vec<Value> =
        part.get(key).and_then(Value::as_array).into_iter().flatten().map(|v| Value::Object(unwrap(v))).collect();
    part.insert(key.to_owned(), Value::Array(list));
}

/// Flow statistics (1.4: instructions; 1.5: OXS statistics) or 1.5 flow descriptions (`with_instructions`).
pub fn flows(parts: Vec<Map<String, Value>>, version: u8, priority: Option<u16>) -> Vec<Value> {
    let mut out = Vec::new();
    for mut s in parts {
        if priority.is_some_and(|p| s.get("priority").and_then(Value::as_u64) != Some(u64::from(p))) {
            continue;
        }
        if s.contains_key("instructions") {
            let instructions = instructions_to_user(s.get("instructions"), version);
            s.insert("instructions".to_owned(), instructions);
        }
        if let Some(stats) = s.get("stats").map(stats_to_user) {
            s.insert("stats".to_owned(), stats);
        }
        let shown = match_to_user(s.get("match").unwrap_or(&Value::Null), version);
        s.insert("match".to_owned(), shown);
        out.push(Value::Object(s));
    }
    out
}

/// Aggregate statistics (1.5: the OXS statistics flattened).
pub fn aggregates(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            if let Some(stats) = s.get("stats").map(stats_to_user) {
                s.insert("stats".to_owned(), stats);
            }
            Value::Object(s)
        })
        .collect()
}

/// Table statistics.
pub fn tables(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            reserved_to_user(&mut s, "table_id", &TABLES);
            Value::Object(s)
        })
        .collect()
}

/// Port statistics with their properties.
pub fn port_stats(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            properties_to_user(&mut s, "properties", PORT_STATS_PROPS);
            reserved_to_user(&mut s, "port_no", &PORTS_13);
            Value::Object(s)
        })
        .collect()
}

/// Port descriptions with their properties.
pub fn port_desc(parts: Vec<Map<String, Value>>, version: u8) -> Vec<Value> {
    let names = if version == OFP_VERSION_1_5 { PORT_DESC_PROPS_15 } else { PORT_DESC_PROPS_14 };
    parts
        .into_iter()
        .map(|mut s| {
            properties_to_user(&mut s, "properties", names);
            reserved_to_user(&mut s, "port_no", &PORTS_13);
            Value::Object(s)
        })
        .collect()
}

/// Queue statistics with their properties (Ryu keeps the port and queue numbers as numbers here).
pub fn queue_stats(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            properties_to_user(&mut s, "properties", QUEUE_STATS_PROPS);
            Value::Object(s)
        })
        .collect()
}

/// Queue descriptions with their properties.
pub fn queue_desc(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            properties_to_user(&mut s, "properties", QUEUE_DESC_PROPS);
            Value::Object(s)
        })
        .collect()
}

/// Meter statistics.
pub fn meter_stats(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            unwrap_list(&mut s, "band_stats");
            reserved_to_user(&mut s, "meter_id", &METERS);
            Value::Object(s)
        })
        .collect()
}

/// Meter configurations (1.4) or descriptions (1.5).
pub fn meter_config(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut c| {
            properties_to_user(&mut c, "bands", METER_BANDS);
            let flags = c.get("flags").and_then(Value::as_u64).unwrap_or(0);
            let names: Vec<&str> = METER_FLAGS.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, n)| *n).collect();
            c.insert("flags".to_owned(), json!(names));
            reserved_to_user(&mut c, "meter_id", &METERS);
            Value::Object(c)
        })
        .collect()
}

/// Meter features (the band types and capabilities as names, as in 1.3).
pub fn meter_features(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|f| {
            let band_types = f.get("band_types").and_then(Value::as_u64).unwrap_or(0);
            let capabilities = f.get("capabilities").and_then(Value::as_u64).unwrap_or(0);
            let bands: Vec<&str> = [(1, "DROP"), (2, "DSCP_REMARK")]
                .iter()
                .filter(|(b, _)| band_types & (1 << b) != 0)
                .map(|(_, n)| *n)
                .collect();
            let caps: Vec<&str> =
                METER_FLAGS.iter().filter(|(bit, _)| capabilities & bit != 0).map(|(_, n)| *n).collect();
            json!({"max_meter": f.get("max_meter"), "band_types": bands, "capabilities": caps,
                   "max_bands": f.get("max_bands"), "max_color": f.get("max_color")})
        })
        .collect()
}

/// Group statistics.
pub fn group_stats(parts: Vec<Map<String, Value>>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut g| {
            unwrap_list(&mut g, "bucket_stats");
            reserved_to_user(&mut g, "group_id", &GROUPS);
            Value::Object(g)
        })
        .collect()
}

/// Group descriptions: buckets with their actions (and 1.5 properties) rendered.
pub fn group_desc(parts: Vec<Map<String, Value>>, version: u8) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut d| {
            let buckets: Vec<Value> = d
                .get("buckets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| {
                    let mut b = unwrap(b);
                    let actions = actions_to_user(b.get("actions"), version);
                    b.insert("actions".to_owned(), actions);
                    if version == OFP_VERSION_1_5 {
                        properties_to_user(&mut b, "properties", BUCKET_PROPS);
                    }
                    Value::Object(b)
                })
                .collect();
            d.insert("buckets".to_owned(), Value::Array(buckets));
            reserved_to_user(&mut d, "group_id", &GROUPS);
            let name = type_name(GROUP_TYPES, d.get("type").unwrap_or(&Value::Null));
            d.insert("type".to_owned(), name);
            Value::Object(d)
        })
        .collect()
}

/// Table features: properties with type names and their ids as Ryu lists them.
pub fn table_features(parts: Vec<Map<String, Value>>, version: u8) -> Vec<Value> {
    parts
        .into_iter()
        .map(|mut s| {
            let properties: Vec<Value> = match s.remove("properties") {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            }
            .into_iter()
            .map(|prop| {
                let body = into_body(prop);
                let mut p = Map::new();
                p.insert("type".to_owned(), type_name(TABLE_FEATURE_PROPS, body.get("type").unwrap_or(&Value::Null)));
                let prop_type = body.get("type").and_then(Value::as_u64).unwrap_or(u64::MAX);
                match prop_type {
                    0 | 1 => {
                        let ids: Vec<Value> = list(&body, "instruction_ids")
                            .map(|i| {
                                let i = unwrap(i);
                                json!({"len": i.get("len"), "type": i.get("type")})
                            })
                            .collect();
                        p.insert("instruction_ids".to_owned(), Value::Array(ids));
                    }
                    2 | 3 | 16 => {
                        p.insert("table_ids".to_owned(), body.get("table_ids").cloned().unwrap_or(json!([])));
                    }
                    4..=7 => {
                        let ids: Vec<Value> = list(&body, "action_ids").map(|i| Value::Object(unwrap(i))).collect();
                        p.insert("action_ids".to_owned(), Value::Array(ids));
                    }
                    8 | 10 | 12..=15 | 18..=21 => {
                        let ids: Vec<Value> =
                            list(&body, "oxm_ids").map(|i| Value::Object(ryu_oxm_id(unwrap(i), version))).collect();
                        p.insert("oxm_ids".to_owned(), Value::Array(ids));
                    }
                    22 => {
                        p.insert("oxm_values".to_owned(), body.get("oxm_values").cloned().unwrap_or(json!([])));
                    }
                    _ => {}
                }
                Value::Object(p)
            })
            .collect();
            s.insert("properties".to_owned(), Value::Array(properties));
            reserved_to_user(&mut s, "table_id", &TABLES);
            Value::Object(s)
        })
        .collect()
}

/// An `OFPOxmId` as Ryu's module for `version` names it: a field the codec has no name for (`field_0x<header>`)
/// gets Ryu's name (a Nicira field), else `field_<header >> 9>`; so does a field that version of Ryu does not know
/// (1.5's `packet_type` on 1.4).
fn ryu_oxm_id(mut id: Map<String, Value>, version: u8) -> Map<String, Value> {
    let Some(name) = id.get("type").and_then(Value::as_str) else { return id };
    let renamed = match name.strip_prefix("field_0x").and_then(|h| u32::from_str_radix(h, 16).ok()) {
        Some(header) => Some(crate::util::ryu_oxm_name(header, version)),
        None => crate::util::ryu_oxm_number(name).and_then(|number| {
            let shown = crate::util::ryu_oxm_name(number << 9, version);
            (shown != name).then_some(shown)
        }),
    };
    if let Some(renamed) = renamed {
        id.insert("type".to_owned(), Value::from(renamed));
    }
    id
}

fn list<'a>(body: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    body.get(key).and_then(Value::as_array).into_iter().flatten()
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/// Ryu's 1.4/1.5 actions list (`_get_actions`): every entry must be an action (a 1.5 `METER` action included).
fn actions(value: &Value, parent: &str, version: u8) -> ApiResult<Vec<v1_3::Action>> {
    let mut out = Vec::new();
    for (i, item) in array(value, parent)?.iter().enumerate() {
        let path = format!("{parent}[{i}]");
        let map = object(item, &path)?;
        let kind = action_type(map, &path)?;
        if kind == "METER" && version == OFP_VERSION_1_5 {
            ignore_unknown_fields(map, &["type", "meter_id"], &path);
            let meter_id = METERS.from_user(required(map, "meter_id", &path)?, &join(&path, "meter_id"))?;
            out.push(MeterAction { meter_id }.to_action());
            continue;
        }
        match action_13(map, kind, &path)? {
            Some(action) => out.push(action),
            None => return Err(bad(format!("`{}`: {kind:?} is not an action here", join(&path, "type")))),
        }
    }
    Ok(out)
}

/// Ryu's `to_instructions`: `[{"type": "APPLY_ACTIONS", "actions": [...]}, {"type": "GOTO_TABLE", ...}]`.
pub fn to_instructions(value: &Value, parent: &str, version: u8) -> ApiResult<Vec<Instruction>> {
    let mut out = Vec::new();
    for (i, item) in array(value, parent)?.iter().enumerate() {
        let path = format!("{parent}[{i}]");
        let map = object(item, &path)?;
        let kind = get_str(map, "type", &path)?.ok_or_else(|| bad(format!("`{}` is required", join(&path, "type"))))?;
        let instruction = match kind {
            "APPLY_ACTIONS" | "WRITE_ACTIONS" => {
                ignore_unknown_fields(map, &["type", "actions"], &path);
                let list = actions(map.get("actions").unwrap_or(&json!([])), &join(&path, "actions"), version)?;
                if list.is_empty() {
                    continue;
                }
                if kind == "APPLY_ACTIONS" {
                    Instruction::ApplyActions(list)
                } else {
                    Instruction::WriteActions(list)
                }
            }
            "CLEAR_ACTIONS" => {
                ignore_unknown_fields(map, &["type"], &path);
                Instruction::ClearActions
            }
            "GOTO_TABLE" => {
                ignore_unknown_fields(map, &["type", "table_id"], &path);
                Instruction::GotoTable(int_as(required(map, "table_id", &path)?, &join(&path, "table_id"))?)
            }
            "WRITE_METADATA" => {
                ignore_unknown_fields(map, &["type", "metadata", "metadata_mask"], &path);
                Instruction::WriteMetadata {
                    metadata: int(required(map, "metadata", &path)?, &join(&path, "metadata"))?,
                    mask: get_int(map, "metadata_mask", &path, u64::MAX)?,
                }
            }
            "METER" if version != OFP_VERSION_1_5 => {
                ignore_unknown_fields(map, &["type", "meter_id"], &path);
                Instruction::Meter(int_as(required(map, "meter_id", &path)?, &join(&path, "meter_id"))?)
            }
            other => {
                return Err(bad(format!("`{}`: unknown instruction type {other:?}", join(&path, "type"))));
            }
        };
        out.push(instruction);
    }
    Ok(out)
}

/// The 1.5 group mod for Ryu's group entry body: buckets with ids, actions and properties.
pub fn group_mod_15(map: &Map<String, Value>, command: u16, group_type: u8) -> ApiResult<v1_5::GroupMod> {
    use tatsu_plugin_api::ofproto::props::Prop;
    ignore_unknown_fields(map, &["dpid", "type", "group_id", "command_bucket_id", "buckets"], "");
    let mut buckets = Vec::new();
    if let Some(list) = map.get("buckets") {
        for (i, item) in array(list, "buckets")?.iter().enumerate() {
            let path = format!("buckets[{i}]");
            let bucket = object(item, &path)?;
            ignore_unknown_fields(bucket, &["bucket_id", "actions", "properties"], &path);
            let mut properties = Vec::new();
            for (j, prop) in bucket
                .get("properties")
                .map(|p| array(p, &join(&path, "properties")))
                .transpose()?
                .into_iter()
                .flatten()
                .enumerate()
            {
                let prop_path = format!("{path}.properties[{j}]");
                let prop = object(prop, &prop_path)?;
                ignore_unknown_fields(prop, &["type", "weight", "watch"], &prop_path);
                let known = match get_str(prop, "type", &prop_path)?.unwrap_or("WEIGHT") {
                    "WEIGHT" => v1_5::BucketProp::Weight(get_int(prop, "weight", &prop_path, 0)?),
                    "WATCH_PORT" => {
                        v1_5::BucketProp::WatchPort(PORTS_13.get(prop, "watch", &prop_path, 0xffff_ffff)?)
                    }
                    "WATCH_GROUP" => {
                        v1_5::BucketProp::WatchGroup(GROUPS.get(prop, "watch", &prop_path, 0xffff_ffff)?)
                    }
                    other => {
                        return Err(bad(format!(
                            "`{prop_path}.type`: unknown bucket property {other:?} (WEIGHT, WATCH_PORT, WATCH_GROUP)"
                        )))
                    }
                };
                properties.push(Prop::Known(known));
            }
            buckets.push(v1_5::Bucket {
                bucket_id: get_int(bucket, "bucket_id", &path, 0)?,
                actions: actions(
                    bucket.get("actions").unwrap_or(&json!([])),
                    &join(&path, "actions"),
                    OFP_VERSION_1_5,
                )?,
                properties,
            });
        }
    }
    Ok(v1_5::GroupMod {
        command,
        group_type,
        group_id: GROUPS.get(map, "group_id", "", 0)?,
        // Ryu's ofctl_v1_5 sends 0 when the body has none, which Open vSwitch refuses for every command but the
        // bucket ones (OFPGMFC_BAD_BUCKET); OFPG_BUCKET_ALL is what the specification means by "none".
        command_bucket_id: get_int(map, "command_bucket_id", "", 0xffff_ffff)?,
        buckets,
        properties: Vec::new(),
    })
}

/// The properties of a 1.4/1.5 port modification (`ETHERNET` with `advertise`, `OPTICAL`).
pub fn port_mod_properties(
    value: Option<&Value>,
) -> ApiResult<Vec<tatsu_plugin_api::ofproto::props::Prop<v1_4::PortModProp>>> {
    use tatsu_plugin_api::ofproto::props::Prop;
    let mut out = Vec::new();
    let Some(value) = value else { return Ok(out) };
    for (i, item) in array(value, "properties")?.iter().enumerate() {
        let path = format!("properties[{i}]");
        let p = object(item, &path)?;
        let kind = match p.get("type") {
            Some(Value::String(s)) => s.trim_start_matches("OFPPMPT_").to_ascii_uppercase(),
            Some(other) => int(other, &join(&path, "type"))?.to_string(),
            None => return Err(bad(format!("`{path}.type` is required"))),
        };
        let known = match kind.as_str() {
            "ETHERNET" | "0" => {
                ignore_unknown_fields(p, &["type", "advertise"], &path);
                v1_4::PortModProp::Ethernet {
                    advertise: int_as(required(p, "advertise", &path)?, &join(&path, "advertise"))?,
                }
            }
            "OPTICAL" | "1" => {
                ignore_unknown_fields(
                    p,
                    &["type", "configure", "freq_lmda", "fl_offset", "grid_span", "tx_pwr"],
                    &path,
                );
                let fl_offset: u32 = get_int(p, "fl_offset", &path, 0)?;
                v1_4::PortModProp::Optical(v1_4::PortModOptical {
                    configure: get_int(p, "configure", &path, 0)?,
                    freq_lmda: get_int(p, "freq_lmda", &path, 0)?,
                    fl_offset: fl_offset as i32,
                    grid_span: get_int(p, "grid_span", &path, 0)?,
                    tx_pwr: get_int(p, "tx_pwr", &path, 0)?,
                })
            }
            other => return Err(bad(format!("`{path}.type`: unknown port property {other:?} (ETHERNET, OPTICAL)"))),
        };
        out.push(Prop::Known(known));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> Message {
        let path = format!("{}/../../ofproto/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        tatsu_plugin_api::ofproto::decode(&bytes).unwrap_or_else(|e| panic!("{path}: {e}")).1
    }

    #[test]
    fn flow_stats_of_1_4_render_as_ryu_does() {
        let reply = corpus("of14/5-12-ofp_flow_stats_reply.packet");
        let flows = flows(reply_parts(&[reply]), 5, None);
        assert!(flows.len() > 2);
        assert_eq!(flows[1]["match"], json!({"eth_type": 2054}));
        assert_eq!(
            flows[1]["instructions"],
            json!([{"actions": [{"len": 16, "max_len": 0, "port": 4294967290u32, "type": "OUTPUT"}],
                    "len": 24, "type": "APPLY_ACTIONS"}])
        );
        assert_eq!(flows[2]["instructions"], json!([{"len": 8, "table_id": 1, "type": "GOTO_TABLE"}]));
        assert_eq!(flows[2]["match"], json!({"in_port": 6, "eth_src": "f2:0b:a4:7d:f8:ea"}));
        assert_eq!(flows[0]["importance"], 0);
    }

    #[test]
    fn oxs_statistics_of_1_5_are_flattened() {
        let reply = corpus("of15/libofproto-OFP15-aggregate_stats_reply.packet");
        assert_eq!(aggregates(reply_parts(&[reply])), vec![json!({"length": 16, "stats": {"flow_count": 1}})]);
        let stats = json!({"OFPStats": {"oxs_fields": [
            {"OXSTlv": {"field": "duration", "value": [3, 500]}},
            {"OXSTlv": {"field": "packet_count", "value": 7}}]}});
        assert_eq!(
            stats_to_user(&stats),
            json!({"duration": {"duration_sec": 3, "duration_nsec": 500}, "packet_count": 7})
        );
    }

    #[test]
    fn port_properties_get_names() {
        let reply = corpus("of14/5-30-ofp_port_stats_reply.packet");
        let ports = port_stats(reply_parts(&[reply]));
        let types: Vec<&Value> = ports[0]["properties"].as_array().unwrap().iter().map(|p| &p["type"]).collect();
        assert_eq!(types[..3], [&json!("ETHERNET"), &json!("OPTICAL"), &json!("EXPERIMENTER")]);
        assert_eq!(ports[0]["port_no"], 7);
        let desc = port_desc(reply_parts(&[corpus("of15/libofproto-OFP15-port_desc_reply.packet")]), 6);
        assert!(desc.iter().all(|d| d["properties"].as_array().is_some()));
    }

    #[test]
    fn set_field_and_vlan_render_like_ryu() {
        let action = json!({"OFPActionSetField": {"field": {"OXMTlv": {"field": "vlan_vid", "mask": null, "value": 4102}},
                                                   "len": 16, "type": 25}});
        assert_eq!(
            action_to_user(&action, 5),
            json!({"field": "vlan_vid", "mask": null, "value": 4102, "len": 16, "type": "SET_FIELD"})
        );
        let m = json!({"OFPMatch": {"oxm_fields": [
            {"OXMTlv": {"field": "vlan_vid", "mask": null, "value": 4101}},
            {"OXMTlv": {"field": "ipv4_src", "mask": "255.255.255.0", "value": "10.0.0.0"}},
            {"OXMTlv": {"field": "in_port", "mask": null, "value": 4294967294u32}}]}});
        assert_eq!(
            match_to_user(&m, 5),
            json!({"vlan_vid": "5", "ipv4_src": "10.0.0.0/255.255.255.0", "in_port": "LOCAL"})
        );
    }

    #[test]
    fn unnamed_oxm_ids_get_ryus_numbers() {
        let id =
            |t: &str, v: u8| ryu_oxm_id(unwrap(&json!({"OFPOxmId": {"hasmask": false, "length": 0, "type": t}})), v);
        // Names Ryu 4.34 gave Open vSwitch 3.1's 1.4 table features (scripts/compare-ryu-ofctl).
        assert_eq!(id("field_0xffff5400", 5)["type"], "field_8388522");
        assert_eq!(id("eth_dst", 5)["type"], "eth_dst");
        assert_eq!(id("packet_type", 5)["type"], "field_4194348");
        assert_eq!(id("packet_type", 6)["type"], "packet_type");
    }

    #[test]
    fn instructions_parse_as_ryu_reads_them() {
        let body = json!([{"type": "APPLY_ACTIONS", "actions": [{"type": "OUTPUT", "port": 2, "len": 16}]},
                          {"type": "GOTO_TABLE", "table_id": 1}, {"type": "WRITE_ACTIONS", "actions": []}]);
        let instructions = to_instructions(&body, "instructions", 5).expect("valid");
        assert_eq!(
            instructions,
            vec![
                Instruction::ApplyActions(vec![v1_3::Action::Output { port: 2, max_len: 0xffe5 }]),
                Instruction::GotoTable(1)
            ]
        );
        let meter =
            to_instructions(&json!([{"type": "APPLY_ACTIONS", "actions": [{"type": "METER", "meter_id": 3}]}]), "i", 6)
                .expect("1.5 meter action");
        assert_eq!(meter, vec![Instruction::ApplyActions(vec![MeterAction { meter_id: 3 }.to_action()])]);
        let e = to_instructions(&json!([{"type": "GOTO"}]), "instructions", 5).expect_err("unknown type");
        assert!(e.body_text().contains("GOTO"), "{}", e.body_text());
        let e = to_instructions(&json!([{"type": "GOTO_TABLE", "table_id": "x"}]), "instructions", 5).expect_err("bad");
        assert!(e.body_text().contains("instructions[0].table_id"), "{}", e.body_text());
    }
}
