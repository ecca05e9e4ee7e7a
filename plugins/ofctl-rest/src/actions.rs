//! Actions in Ryu's JSON (`[{"type": "OUTPUT", "port": 2}]`) to codec actions and instructions, and back to Ryu's
//! strings (`"OUTPUT:2"`), for OpenFlow 1.0 (`ofctl_v1_0.to_actions` / `actions_to_str`) and 1.3
//! (`ofctl_v1_3.to_actions` / `actions_to_str`, where `GOTO_TABLE`, `WRITE_METADATA`, `METER`, `WRITE_ACTIONS` and
//! `CLEAR_ACTIONS` are instructions).

use std::net::Ipv4Addr;

use serde_json::{Map, Value};
use tatsu_plugin_api::ofproto::v1_0;
use tatsu_plugin_api::ofproto::v1_3::oxm::ValueKind;
use tatsu_plugin_api::ofproto::v1_3::{Action, Instruction, Oxm, OxmField};
use tatsu_plugin_api::ofproto::MacAddr;

use crate::match_json::oxm_to_user;
use crate::util::{
    array, bad, base64_decode, base64_encode, get_int, get_str, ignore_unknown_fields, int, join, object, ApiResult,
    CML, GROUPS, METERS, PORTS_10, PORTS_13, QUEUES, TABLES,
};

pub(crate) fn required<'a>(map: &'a Map<String, Value>, key: &str, parent: &str) -> ApiResult<&'a Value> {
    map.get(key).ok_or_else(|| bad(format!("`{}` is required", join(parent, key))))
}

fn set_field_value(field: OxmField, value: &Value, path: &str) -> ApiResult<Oxm> {
    let info = field.info();
    let text = || value.as_str().ok_or_else(|| bad(format!("`{path}` must be a string, not {value}")));
    match info.kind {
        ValueKind::Int => {
            let n = if field == OxmField::InPort {
                u64::from(PORTS_13.from_user::<u32>(value, path)?)
            } else {
                int(value, path)?
            };
            if info.len < 8 && n >> (u32::from(info.len) * 8) != 0 {
                return Err(bad(format!("`{path}` is out of range: {n}")));
            }
            Ok(Oxm::int(field, n))
        }
        ValueKind::Mac => {
            let mac: MacAddr = text()?.parse().map_err(|_| bad(format!("`{path}` is not a MAC address: {value}")))?;
            Ok(Oxm::new(field, &mac.0))
        }
        ValueKind::Ipv4 => {
            let ip: Ipv4Addr = text()?.parse().map_err(|_| bad(format!("`{path}` is not an IPv4 address: {value}")))?;
            Ok(Oxm::new(field, &ip.octets()))
        }
        ValueKind::Ipv6 => {
            let ip: std::net::Ipv6Addr =
                text()?.parse().map_err(|_| bad(format!("`{path}` is not an IPv6 address: {value}")))?;
            Ok(Oxm::new(field, &ip.octets()))
        }
    }
}

fn experimenter_data(map: &Map<String, Value>, parent: &str) -> ApiResult<Vec<u8>> {
    let data_type = get_str(map, "data_type", parent)?.unwrap_or("ascii");
    let data = get_str(map, "data", parent)?.unwrap_or("");
    match data_type {
        "ascii" => Ok(data.as_bytes().to_vec()),
        "base64" => base64_decode(data).ok_or_else(|| bad(format!("`{}` is not base64", join(parent, "data")))),
        other => Err(bad(format!("`{}` must be \"ascii\" or \"base64\", not {other:?}", join(parent, "data_type")))),
    }
}

/// One 1.3 action (`None` for the types that are instructions).
pub(crate) fn action_13(map: &Map<String, Value>, kind: &str, path: &str) -> ApiResult<Option<Action>> {
    let ethertype =
        || -> ApiResult<u16> { crate::util::int_as(required(map, "ethertype", path)?, &join(path, "ethertype")) };
    let fields: &[&str] = match kind {
        "OUTPUT" => &["type", "port", "max_len"],
        "SET_MPLS_TTL" => &["type", "mpls_ttl"],
        "PUSH_VLAN" | "PUSH_MPLS" | "POP_MPLS" | "PUSH_PBB" => &["type", "ethertype"],
        "SET_QUEUE" => &["type", "queue_id"],
        "GROUP" => &["type", "group_id"],
        "SET_NW_TTL" => &["type", "nw_ttl"],
        "SET_FIELD" => &["type", "field", "value"],
        "EXPERIMENTER" => &["type", "experimenter", "data_type", "data"],
        _ => &["type"],
    };
    let action = match kind {
        "OUTPUT" => Action::Output {
            port: PORTS_13.get(map, "port", path, 0xffff_ffff)?,
            max_len: CML.get(map, "max_len", path, 0xffe5)?,
        },
        "COPY_TTL_OUT" => Action::CopyTtlOut,
        "COPY_TTL_IN" => Action::CopyTtlIn,
        "SET_MPLS_TTL" => {
            Action::SetMplsTtl(crate::util::int_as(required(map, "mpls_ttl", path)?, &join(path, "mpls_ttl"))?)
        }
        "DEC_MPLS_TTL" => Action::DecMplsTtl,
        "PUSH_VLAN" => Action::PushVlan(ethertype()?),
        "POP_VLAN" => Action::PopVlan,
        "PUSH_MPLS" => Action::PushMpls(ethertype()?),
        "POP_MPLS" => Action::PopMpls(ethertype()?),
        "SET_QUEUE" => Action::SetQueue(QUEUES.from_user(required(map, "queue_id", path)?, &join(path, "queue_id"))?),
        "GROUP" => Action::Group(GROUPS.from_user(required(map, "group_id", path)?, &join(path, "group_id"))?),
        "SET_NW_TTL" => Action::SetNwTtl(crate::util::int_as(required(map, "nw_ttl", path)?, &join(path, "nw_ttl"))?),
        "DEC_NW_TTL" => Action::DecNwTtl,
        "SET_FIELD" => {
            let name =
                get_str(map, "field", path)?.ok_or_else(|| bad(format!("`{}` is required", join(path, "field"))))?;
            let field = OxmField::from_name(name)
                .ok_or_else(|| bad(format!("`{}`: unknown field {name:?}", join(path, "field"))))?;
            Action::SetField(set_field_value(field, required(map, "value", path)?, &join(path, "value"))?)
        }
        "PUSH_PBB" => Action::PushPbb(ethertype()?),
        "POP_PBB" => Action::PopPbb,
        "EXPERIMENTER" => Action::Experimenter {
            experimenter: crate::util::int_as(required(map, "experimenter", path)?, &join(path, "experimenter"))?,
            data: experimenter_data(map, path)?,
        },
        _ => return Ok(None),
    };
    ignore_unknown_fields(map, fields, path);
    Ok(Some(action))
}

pub(crate) fn action_type<'a>(map: &'a Map<String, Value>, path: &str) -> ApiResult<&'a str> {
    get_str(map, "type", path)?.ok_or_else(|| bad(format!("`{}` is required", join(path, "type"))))
}

/// Ryu's 1.3 `actions` list as instructions: plain actions go in one APPLY_ACTIONS (last, as in Ryu).
pub fn to_instructions_13(value: &Value, parent: &str) -> ApiResult<Vec<Instruction>> {
    let list = array(value, parent)?;
    let mut instructions = Vec::new();
    let mut apply = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("{parent}[{i}]");
        let map = object(item, &path)?;
        let kind = action_type(map, &path)?;
        if let Some(action) = action_13(map, kind, &path)? {
            apply.push(action);
            continue;
        }
        let instruction = match kind {
            "WRITE_ACTIONS" => {
                ignore_unknown_fields(map, &["type", "actions"], &path);
                let nested = array(required(map, "actions", &path)?, &join(&path, "actions"))?;
                let mut actions = Vec::new();
                for (j, item) in nested.iter().enumerate() {
                    let inner = format!("{path}.actions[{j}]");
                    let map = object(item, &inner)?;
                    let kind = action_type(map, &inner)?;
                    match action_13(map, kind, &inner)? {
                        Some(action) => actions.push(action),
                        None => return Err(bad(format!("`{inner}`: {kind:?} is not an action"))),
                    }
                }
                if actions.is_empty() {
                    continue;
                }
                Instruction::WriteActions(actions)
            }
            "CLEAR_ACTIONS" => {
                ignore_unknown_fields(map, &["type"], &path);
                Instruction::ClearActions
            }
            "GOTO_TABLE" => {
                ignore_unknown_fields(map, &["type", "table_id"], &path);
                Instruction::GotoTable(TABLES.from_user(required(map, "table_id", &path)?, &join(&path, "table_id"))?)
            }
            "WRITE_METADATA" => {
                ignore_unknown_fields(map, &["type", "metadata", "metadata_mask"], &path);
                Instruction::WriteMetadata {
                    metadata: int(required(map, "metadata", &path)?, &join(&path, "metadata"))?,
                    mask: get_int(map, "metadata_mask", &path, u64::MAX)?,
                }
            }
            "METER" => {
                ignore_unknown_fields(map, &["type", "meter_id"], &path);
                Instruction::Meter(METERS.from_user(required(map, "meter_id", &path)?, &join(&path, "meter_id"))?)
            }
            other => return Err(bad(format!("`{}`: unknown action type {other:?}", join(&path, "type")))),
        };
        instructions.push(instruction);
    }
    if !apply.is_empty() {
        instructions.push(Instruction::ApplyActions(apply));
    }
    Ok(instructions)
}

/// Ryu's 1.3 action list for group buckets (actions only).
pub fn to_actions_13(value: &Value, parent: &str) -> ApiResult<Vec<Action>> {
    let list = array(value, parent)?;
    let mut actions = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("{parent}[{i}]");
        let map = object(item, &path)?;
        let kind = action_type(map, &path)?;
        match action_13(map, kind, &path)? {
            Some(action) => actions.push(action),
            None => return Err(bad(format!("`{}`: {kind:?} is not an action here", join(&path, "type")))),
        }
    }
    Ok(actions)
}

/// The experimenter id of an experimenter action and its body after the id (for NX actions: as encoded, padding
/// included; `None` for one that cannot be encoded).
fn experimenter_body(action: &Action) -> Option<(u32, Vec<u8>)> {
    if let Action::Experimenter { experimenter, data } = action {
        return Some((*experimenter, data.clone()));
    }
    let mut bytes = Vec::new();
    action.emit(&mut bytes).ok()?;
    let experimenter = bytes.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Some((experimenter, bytes.get(8..).map(<[u8]>::to_vec).unwrap_or_default()))
}

fn python_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A 1.3 action as Ryu prints it.
pub fn action_to_str_13(action: &Action) -> String {
    match action {
        Action::Output { port, .. } => format!("OUTPUT:{}", PORTS_13.to_user_text(u64::from(*port))),
        Action::CopyTtlOut => "COPY_TTL_OUT".to_owned(),
        Action::CopyTtlIn => "COPY_TTL_IN".to_owned(),
        Action::SetMplsTtl(ttl) => format!("SET_MPLS_TTL:{ttl}"),
        Action::DecMplsTtl => "DEC_MPLS_TTL".to_owned(),
        Action::PushVlan(ethertype) => format!("PUSH_VLAN:{ethertype}"),
        Action::PopVlan => "POP_VLAN".to_owned(),
        Action::PushMpls(ethertype) => format!("PUSH_MPLS:{ethertype}"),
        Action::PopMpls(ethertype) => format!("POP_MPLS:{ethertype}"),
        Action::SetQueue(queue) => format!("SET_QUEUE:{}", QUEUES.to_user_text(u64::from(*queue))),
        Action::Group(group) => format!("GROUP:{}", GROUPS.to_user_text(u64::from(*group))),
        Action::SetNwTtl(ttl) => format!("SET_NW_TTL:{ttl}"),
        Action::DecNwTtl => "DEC_NW_TTL".to_owned(),
        Action::SetField(oxm) => match oxm_to_user(oxm) {
            // Ryu prints the OXM's own name and raw value (`{vlan_vid:4102}`), not the match_to_str form.
            Some(_) => {
                let field = oxm.field().map_or("unknown", |f| f.name());
                let value = match oxm.field().map(|f| f.info().kind) {
                    Some(ValueKind::Int) | None => Value::from(oxm.value_u64()),
                    Some(ValueKind::Mac) => Value::from(oxm.value_mac().map(|m| m.to_string()).unwrap_or_default()),
                    Some(ValueKind::Ipv4) => Value::from(oxm.value_ipv4().map(|a| a.to_string()).unwrap_or_default()),
                    Some(ValueKind::Ipv6) => Value::from(oxm.value_ipv6().map(|a| a.to_string()).unwrap_or_default()),
                };
                format!("SET_FIELD: {{{field}:{}}}", python_text(&value))
            }
            None => "UNKNOWN".to_owned(),
        },
        Action::PushPbb(ethertype) => format!("PUSH_PBB:{ethertype}"),
        Action::PopPbb => "POP_PBB".to_owned(),
        Action::Nx(_) => nx_action_to_str(action),
        Action::Experimenter { .. } => match experimenter_body(action) {
            Some((experimenter, data)) => {
                format!("EXPERIMENTER: {{experimenter:{experimenter}, data:{}}}", base64_encode(&data))
            }
            None => "UNKNOWN".to_owned(),
        },
        _ => "UNKNOWN".to_owned(),
    }
}

/// Python's `'%s' % value` of a JSON scalar.
fn py(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A Nicira action as Ryu's `ofctl_nicira_ext.action_to_str` prints it, from the codec's JSON of the action (Ryu's
/// `NXAction*` fields). Ryu 4.34 fails (501 for the whole flow list) on the actions it has a class for but no
/// string, and on resubmit and register load (it reads attributes those classes lack); for those this prints
/// the string Ryu's code means (`NX_RESUBMIT`, `NX_LOAD`) or its fallback, `NX_UNKNOWN` with the body in base64.
fn nx_action_to_str(action: &Action) -> String {
    let json = tatsu_plugin_api::ofproto::json::action13_json(action);
    let Some((class, body)) = json.as_object().and_then(|o| o.iter().next()) else { return "UNKNOWN".to_owned() };
    let get = |key: &str| body.get(key);
    let int = |key: &str| body.get(key).and_then(Value::as_u64).unwrap_or(0);
    match class.as_str() {
        "NXActionResubmit" => format!("NX_RESUBMIT: {{port: {}, table: 255}}", py(get("in_port"))),
        "NXActionResubmitTable" => {
            format!("NX_RESUBMIT: {{port: {}, table: {}}}", py(get("in_port")), py(get("table_id")))
        }
        "NXActionRegMove" => {
            let (src, dst, n) = (int("src_ofs"), int("dst_ofs"), int("n_bits"));
            format!(
                "NX_MOVE: {{{}[{dst}..{}]: {}[{src}..{}]}}",
                py(get("dst_field")),
                dst + n,
                py(get("src_field")),
                src + n
            )
        }
        "NXActionRegLoad" => {
            let ofs_nbits = int("ofs_nbits");
            let (start, nbits) = (ofs_nbits >> 6, (ofs_nbits & 0x3f) + 1);
            format!("NX_LOAD: {{{}[{start}..{}]: {:x}}}", py(get("dst")), start + nbits, int("value"))
        }
        "NXActionConjunction" => format!(
            "NX_CONJUNCTION: {{clause: {}, number_of_clauses: {}, id: {}}}",
            py(get("clause")),
            py(get("n_clauses")),
            py(get("id"))
        ),
        "NXActionCT" => {
            let zone_ofs = int("zone_ofs_nbits");
            let zone = if zone_ofs != 0 {
                format!("{}[{zone_ofs}..{}]", py(get("zone_src")), zone_ofs + 16)
            } else {
                py(get("zone_src"))
            };
            let inner: Vec<String> = match action {
                Action::Nx(tatsu_plugin_api::ofproto::nx::NxAction::Ct(ct)) => {
                    ct.actions.iter().map(|a| format!("'{}'", action_to_str_13(a))).collect()
                }
                _ => Vec::new(),
            };
            format!(
                "NX_CT: {{flags: {}, zone: {zone}, table: {}, alg: {}, actions: [{}]}}",
                py(get("flags")),
                py(get("recirc_table")),
                py(get("alg")),
                inner.join(", ")
            )
        }
        "NXActionNAT" => format!(
            "NX_NAT: {{flags: {}, range_ipv4_min: {}, range_ipv4_max: {}, range_ipv6_min: {}, range_ipv6_max: {}, \
             range_proto_min: {}, range_proto_max: {}}}",
            py(get("flags")),
            py(get("range_ipv4_min")),
            py(get("range_ipv4_max")),
            py(get("range_ipv6_min")),
            py(get("range_ipv6_max")),
            py(get("range_proto_min")),
            py(get("range_proto_max"))
        ),
        _ => {
            let data = experimenter_body(action).map(|(_, body)| body).unwrap_or_default();
            // The body after the experimenter id starts with the 2-byte subtype.
            let subtype = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            format!("NX_UNKNOWN: {{subtype: {subtype}, data: {}}}", base64_encode(data.get(2..).unwrap_or_default()))
        }
    }
}

/// 1.3 instructions as Ryu prints them in flow stats.
pub fn instructions_to_user_13(instructions: &[Instruction]) -> Vec<Value> {
    let mut out = Vec::new();
    for instruction in instructions {
        match instruction {
            Instruction::ApplyActions(actions) => out.extend(actions.iter().map(|a| Value::from(action_to_str_13(a)))),
            Instruction::WriteActions(actions) if !actions.is_empty() => {
                let list: Vec<Value> = actions.iter().map(|a| Value::from(action_to_str_13(a))).collect();
                out.push(serde_json::json!({ "WRITE_ACTIONS": list }));
            }
            Instruction::ClearActions => out.push(Value::from("CLEAR_ACTIONS")),
            Instruction::GotoTable(table) => {
                out.push(Value::from(format!("GOTO_TABLE:{}", TABLES.to_user_text(u64::from(*table)))))
            }
            Instruction::WriteMetadata { metadata, mask } => out.push(Value::from(if *mask != 0 {
                format!("WRITE_METADATA:0x{metadata:x}/0x{mask:x}")
            } else {
                format!("WRITE_METADATA:0x{metadata:x}")
            })),
            Instruction::Meter(meter) => {
                out.push(Value::from(format!("METER:{}", METERS.to_user_text(u64::from(*meter)))))
            }
            _ => {}
        }
    }
    out
}

/// Ryu's 1.0 action list.
pub fn to_actions_10(value: &Value, parent: &str) -> ApiResult<Vec<v1_0::Action>> {
    let list = array(value, parent)?;
    let mut actions = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("{parent}[{i}]");
        let map = object(item, &path)?;
        let kind = action_type(map, &path)?;
        let text = |key: &str| -> ApiResult<&str> {
            get_str(map, key, &path)?.ok_or_else(|| bad(format!("`{}` is required", join(&path, key))))
        };
        let (action, fields): (v1_0::Action, &[&str]) = match kind {
            "OUTPUT" => (
                v1_0::Action::Output {
                    port: PORTS_10.get(map, "port", &path, 0xffff)?,
                    max_len: get_int(map, "max_len", &path, 0xffe5)?,
                },
                &["type", "port", "max_len"],
            ),
            "SET_VLAN_VID" => {
                (v1_0::Action::SetVlanVid(get_int(map, "vlan_vid", &path, 0xffff)?), &["type", "vlan_vid"])
            }
            "SET_VLAN_PCP" => (v1_0::Action::SetVlanPcp(get_int(map, "vlan_pcp", &path, 0)?), &["type", "vlan_pcp"]),
            "STRIP_VLAN" => (v1_0::Action::StripVlan, &["type"]),
            "SET_DL_SRC" | "SET_DL_DST" => {
                let key = if kind == "SET_DL_SRC" { "dl_src" } else { "dl_dst" };
                let mac: MacAddr =
                    text(key)?.parse().map_err(|_| bad(format!("`{}` is not a MAC address", join(&path, key))))?;
                let action =
                    if kind == "SET_DL_SRC" { v1_0::Action::SetDlSrc(mac) } else { v1_0::Action::SetDlDst(mac) };
                (action, if kind == "SET_DL_SRC" { &["type", "dl_src"] } else { &["type", "dl_dst"] })
            }
            "SET_NW_SRC" | "SET_NW_DST" => {
                let key = if kind == "SET_NW_SRC" { "nw_src" } else { "nw_dst" };
                let ip: Ipv4Addr =
                    text(key)?.parse().map_err(|_| bad(format!("`{}` is not an IPv4 address", join(&path, key))))?;
                let action = if kind == "SET_NW_SRC" { v1_0::Action::SetNwSrc(ip) } else { v1_0::Action::SetNwDst(ip) };
                (action, if kind == "SET_NW_SRC" { &["type", "nw_src"] } else { &["type", "nw_dst"] })
            }
            "SET_NW_TOS" => (v1_0::Action::SetNwTos(get_int(map, "nw_tos", &path, 0)?), &["type", "nw_tos"]),
            "SET_TP_SRC" => (v1_0::Action::SetTpSrc(get_int(map, "tp_src", &path, 0)?), &["type", "tp_src"]),
            "SET_TP_DST" => (v1_0::Action::SetTpDst(get_int(map, "tp_dst", &path, 0)?), &["type", "tp_dst"]),
            "ENQUEUE" => (
                v1_0::Action::Enqueue {
                    port: PORTS_10.get(map, "port", &path, 0xffff)?,
                    queue_id: QUEUES.get(map, "queue_id", &path, 0)?,
                },
                &["type", "port", "queue_id"],
            ),
            other => {
                return Err(bad(format!("`{}`: unknown action type {other:?} (OpenFlow 1.0)", join(&path, "type"))))
            }
        };
        ignore_unknown_fields(map, fields, &path);
        actions.push(action);
    }
    Ok(actions)
}

/// A 1.0 action as Ryu prints it.
pub fn action_to_str_10(action: &v1_0::Action) -> String {
    use v1_0::Action as A;
    match action {
        A::Output { port, .. } => format!("OUTPUT:{}", PORTS_10.to_user_text(u64::from(*port))),
        A::SetVlanVid(vid) => format!("SET_VLAN_VID:{vid}"),
        A::SetVlanPcp(pcp) => format!("SET_VLAN_PCP:{pcp}"),
        A::StripVlan => "STRIP_VLAN".to_owned(),
        A::SetDlSrc(mac) => format!("SET_DL_SRC:{mac}"),
        A::SetDlDst(mac) => format!("SET_DL_DST:{mac}"),
        A::SetNwSrc(ip) => format!("SET_NW_SRC:{ip}"),
        A::SetNwDst(ip) => format!("SET_NW_DST:{ip}"),
        A::SetNwTos(tos) => format!("SET_NW_TOS:{tos}"),
        A::SetTpSrc(tp) => format!("SET_TP_SRC:{tp}"),
        A::SetTpDst(tp) => format!("SET_TP_DST:{tp}"),
        A::Enqueue { port, queue_id } => {
            format!("ENQUEUE:{}:{}", PORTS_10.to_user_text(u64::from(*port)), QUEUES.to_user_text(u64::from(*queue_id)))
        }
        A::Nx(_) | A::Vendor { .. } => "VENDOR".to_owned(),
        _ => "UNKNOWN".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_three_actions_and_instructions_like_ryu() {
        // The second flow of testdata/osken-1.4.1/of13/flow_1.json, as sent and as os-ken showed it.
        let request = json!([{"type": "SET_FIELD", "field": "vlan_vid", "value": 4102},
                             {"type": "PUSH_VLAN", "ethertype": 33024},
                             {"type": "OUTPUT", "port": "CONTROLLER", "max_len": 128},
                             {"type": "GOTO_TABLE", "table_id": 1},
                             {"type": "WRITE_METADATA", "metadata": 1, "metadata_mask": 1}]);
        let instructions = to_instructions_13(&request, "actions").expect("valid");
        assert!(matches!(instructions.last(), Some(Instruction::ApplyActions(actions)) if actions.len() == 3));
        // The switch returns them apply, write-metadata, goto; os-ken printed exactly this.
        let reordered = vec![instructions[2].clone(), instructions[1].clone(), instructions[0].clone()];
        assert_eq!(
            json!(instructions_to_user_13(&reordered)),
            json!([
                "SET_FIELD: {vlan_vid:4102}",
                "PUSH_VLAN:33024",
                "OUTPUT:CONTROLLER",
                "WRITE_METADATA:0x1/0x1",
                "GOTO_TABLE:1"
            ])
        );
        let write = to_instructions_13(
            &json!([{"type": "WRITE_ACTIONS", "actions": [{"type": "OUTPUT", "port": 1}]},
                                                {"type": "CLEAR_ACTIONS"}]),
            "actions",
        )
        .expect("valid");
        assert_eq!(
            json!(instructions_to_user_13(&[write[1].clone(), write[0].clone()])),
            json!(["CLEAR_ACTIONS", {"WRITE_ACTIONS": ["OUTPUT:1"]}])
        );
        let meter =
            to_instructions_13(&json!([{"type": "METER", "meter_id": 1}, {"type": "GROUP", "group_id": 1}]), "actions")
                .expect("valid");
        assert_eq!(json!(instructions_to_user_13(&meter)), json!(["METER:1", "GROUP:1"]));
    }

    #[test]
    fn nicira_actions_print_as_ryus_ofctl_nicira_ext() {
        // The first action of each of these OVS captures, as Ryu 4.34's action_to_str prints it (resubmit and
        // load crash Ryu; theirs are the strings its code means).
        for (capture, expected) in [
            ("match_move_nx_register", "NX_MOVE: {reg1[0..6]: reg0[10..16]}"),
            ("action_conjunction", "NX_CONJUNCTION: {clause: 0, number_of_clauses: 2, id: 11259375}"),
            ("action_resubmit", "NX_RESUBMIT: {port: 1234, table: 99}"),
            ("match_load_nx_register", "NX_LOAD: {reg0[4..32]: deadbee}"),
            (
                "action_ct_nat",
                "NX_CT: {flags: 1, zone: , table: 255, alg: 0, actions: ['NX_NAT: {flags: 1, range_ipv4_min: \
                 10.1.12.0, range_ipv4_max: 10.1.13.255, range_ipv6_min: , range_ipv6_max: , range_proto_min: 1, \
                 range_proto_max: 1023}']}",
            ),
        ] {
            let path = format!(
                "{}/../../ofproto/tests/corpus/of13/ovs-ofctl-of13-{capture}.packet",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let message = tatsu_plugin_api::ofproto::decode(&bytes).unwrap_or_else(|e| panic!("{path}: {e}")).1;
            let tatsu_plugin_api::ofproto::Message::V1_3(tatsu_plugin_api::ofproto::v1_3::Message::FlowMod(fm)) =
                message
            else {
                panic!("{capture}: not a flow mod")
            };
            let shown = instructions_to_user_13(&fm.instructions);
            assert!(shown.contains(&Value::from(expected)), "{capture}: {shown:?}");
        }
    }

    #[test]
    fn bad_actions_are_named() {
        // An unknown key is ignored, as Ryu does (`port` then defaults to ANY); a wrong value is an error.
        let ignored = to_instructions_13(&json!([{"type": "OUTPUT", "prot": 1, "len": 16}]), "actions").expect("ok");
        assert_eq!(
            ignored,
            vec![Instruction::ApplyActions(vec![Action::Output { port: 0xffff_ffff, max_len: 0xffe5 }])]
        );
        let e = to_instructions_13(&json!([{"type": "FLY"}]), "actions").expect_err("type");
        assert!(e.body_text().contains("actions[0].type"), "{}", e.body_text());
        let e = to_instructions_13(&json!([{"type": "SET_FIELD", "field": "eth_dst", "value": "nope"}]), "actions")
            .expect_err("value");
        assert!(e.body_text().contains("actions[0].value"), "{}", e.body_text());
        let e = to_actions_10(&json!([{"type": "OUTPUT", "port": 70000}]), "actions").expect_err("range");
        assert!(e.body_text().contains("actions[0].port"), "{}", e.body_text());
    }

    #[test]
    fn one_zero_actions_like_ryu() {
        // The first flow of testdata/osken-1.4.1/of10/flow_1.json.
        let request = json!([{"type": "SET_VLAN_VID", "vlan_vid": 7}, {"type": "SET_DL_SRC", "dl_src": "00:00:00:00:00:09"},
                             {"type": "SET_NW_TOS", "nw_tos": 4}, {"type": "OUTPUT", "port": "CONTROLLER"},
                             {"type": "STRIP_VLAN"}]);
        let actions = to_actions_10(&request, "actions").expect("valid");
        let shown: Vec<String> = actions.iter().map(action_to_str_10).collect();
        assert_eq!(
            shown,
            ["SET_VLAN_VID:7", "SET_DL_SRC:00:00:00:00:00:09", "SET_NW_TOS:4", "OUTPUT:CONTROLLER", "STRIP_VLAN"]
        );
    }

    #[test]
    fn experimenter_actions_carry_base64_data() {
        let actions = to_actions_13(
            &json!([{"type": "EXPERIMENTER", "experimenter": 101, "data_type": "base64", "data": "AAECAwQFBgc="}]),
            "actions",
        )
        .expect("valid");
        assert_eq!(action_to_str_13(&actions[0]), "EXPERIMENTER: {experimenter:101, data:AAECAwQFBgc=}");
    }
}
