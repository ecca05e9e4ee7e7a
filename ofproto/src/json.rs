//! JSON rendering in the form of Ryu's `to_jsondict()` (the `.packet.json`
//! files of the conformance corpus): `{"OFPClassName": {field: value, ...}}`,
//! integers as numbers, MAC/IP addresses as strings, byte strings as base64.
//!
//! Length fields show the encoded length of their part; a part that cannot be encoded (a length field inside it
//! would overflow, see [`crate::EncodeError`]) shows `null`.

use crate::common::{bitmap_versions, ErrorMsg, Hello, HelloElement};
use crate::error::EncodeError;
use crate::nx::{LearnDst, LearnSrc, NxAction, NX_VENDOR_ID};
use crate::v1_0;
use crate::v1_3::{self, oxm::ValueKind, Action, Instruction, Match, Oxm};
use crate::wire::pad8;
use crate::Message;
use serde_json::{json, Map, Value};

/// Renders any supported message as Ryu-style JSON.
pub fn to_json(m: &Message) -> Value {
    match m {
        Message::V1_0(m) => v1_0_to_json(m),
        Message::V1_3(m) => v1_3_to_json(m),
    }
}

/// The encoded length of one part, written by `emit` into a scratch buffer; `None` (JSON `null`) if it cannot
/// be encoded.
fn part_len(emit: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>) -> Option<usize> {
    let mut scratch = Vec::new();
    emit(&mut scratch).ok().map(|()| scratch.len())
}

/// `base` plus the encoded lengths of `parts` (`None` if any cannot be encoded).
fn parts_len<T>(base: usize, parts: &[T], emit: impl Fn(&T, &mut Vec<u8>) -> Result<(), EncodeError>) -> Option<usize> {
    parts.iter().try_fold(base, |sum, p| Some(sum + part_len(|b| emit(p, b))?))
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

fn cls(name: &str, body: Value) -> Value {
    let mut m = Map::new();
    m.insert(name.to_string(), body);
    Value::Object(m)
}

fn ext(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn be_value(b: &[u8]) -> Value {
    if b.len() <= 8 {
        json!(v1_3::oxm::be_u64(b))
    } else {
        let n = b.iter().fold(0u128, |a, &x| a << 8 | x as u128);
        match u64::try_from(n) {
            Ok(v) => json!(v),
            Err(_) => json!(n.to_string()),
        }
    }
}

fn typed_value(kind: ValueKind, b: &[u8]) -> Value {
    match kind {
        ValueKind::Int => be_value(b),
        ValueKind::Mac => match <[u8; 6]>::try_from(b) {
            Ok(a) => json!(crate::MacAddr(a).to_string()),
            Err(_) => json!(base64(b)),
        },
        ValueKind::Ipv4 => match <[u8; 4]>::try_from(b) {
            Ok(a) => json!(std::net::Ipv4Addr::from(a).to_string()),
            Err(_) => json!(base64(b)),
        },
        ValueKind::Ipv6 => match <[u8; 16]>::try_from(b) {
            Ok(a) => json!(std::net::Ipv6Addr::from(a).to_string()),
            Err(_) => json!(base64(b)),
        },
    }
}

/// Name of an NXM/OXM header for Nicira action field references ("" for 0).
fn field_name(h: u32) -> Value {
    if h == 0 {
        return json!("");
    }
    let class = (h >> 16) as u16;
    let field = ((h >> 9) & 0x7f) as u8;
    match v1_3::oxm::OxmField::from_class_field(class, field) {
        // Only the canonical header (no mask bit, the field's own length) gets a name, so the JSON is lossless.
        Some(f) if f.header(false) == h => json!(f.name()),
        _ => json!(format!("field_0x{:08x}", h)),
    }
}

/// An OXM TLV as `{"OXMTlv": {"field", "mask", "value"}}`.
pub fn oxm_json(o: &Oxm) -> Value {
    let (name, kind) = match o.field() {
        Some(f) => (f.name().to_string(), f.info().kind),
        None => (format!("field_0x{:08x}", o.header() & 0xffff_ff00), ValueKind::Int),
    };
    if o.field().is_none() {
        // Unknown field: the name carries class/field/has-mask, the value is the raw body.
        return cls("OXMTlv", json!({"field": name, "mask": null, "value": base64(o.body.as_slice())}));
    }
    let mask = o.mask().map(|m| typed_value(kind, m)).unwrap_or(Value::Null);
    cls("OXMTlv", json!({"field": name, "mask": mask, "value": typed_value(kind, o.value())}))
}

/// A 1.3 match as `{"OFPMatch": {...}}`.
pub fn match13_json(m: &Match) -> Value {
    cls(
        "OFPMatch",
        json!({"length": m.length(), "oxm_fields": m.fields.iter().map(oxm_json).collect::<Vec<_>>(), "type": 1}),
    )
}

fn nx_json<A>(a: &NxAction<A>, raw_len: Option<usize>, v13: bool, nested: &dyn Fn(&[A]) -> Value) -> Value
where
    A: crate::nx::ActionList,
{
    let (name, fields) = match a {
        NxAction::Resubmit { in_port } => ("NXActionResubmit", json!({"in_port": in_port})),
        NxAction::ResubmitTable { in_port, table_id } => {
            ("NXActionResubmitTable", json!({"in_port": in_port, "table_id": table_id}))
        }
        NxAction::RegMove { n_bits, src_ofs, dst_ofs, src, dst } => (
            "NXActionRegMove",
            json!({"n_bits": n_bits, "src_ofs": src_ofs, "dst_ofs": dst_ofs, "src_field": field_name(*src), "dst_field": field_name(*dst)}),
        ),
        NxAction::RegLoad { ofs_nbits, dst, value } => {
            ("NXActionRegLoad", json!({"ofs_nbits": ofs_nbits, "dst": field_name(*dst), "value": value}))
        }
        NxAction::Note(n) => ("NXActionNote", json!({"note": n})),
        NxAction::Learn(l) => {
            let specs: Vec<Value> = l
                .specs
                .iter()
                .map(|s| {
                    let src = match &s.src {
                        LearnSrc::Field { field, ofs } => json!([field_name(*field), ofs]),
                        LearnSrc::Immediate(b) => be_value(b),
                    };
                    let (n, dst) = match &s.dst {
                        LearnDst::Match { field, ofs } => ("NXFlowSpecMatch", json!([field_name(*field), ofs])),
                        LearnDst::Load { field, ofs } => ("NXFlowSpecLoad", json!([field_name(*field), ofs])),
                        LearnDst::Output => ("NXFlowSpecOutput", json!("")),
                    };
                    cls(n, json!({"src": src, "dst": dst, "n_bits": s.n_bits}))
                })
                .collect();
            (
                "NXActionLearn",
                json!({"cookie": l.cookie, "fin_hard_timeout": l.fin_hard_timeout, "fin_idle_timeout": l.fin_idle_timeout,
                       "flags": l.flags, "hard_timeout": l.hard_timeout, "idle_timeout": l.idle_timeout,
                       "priority": l.priority, "specs": specs, "table_id": l.table_id}),
            )
        }
        NxAction::DecTtl => ("NXActionDecTtl", json!({})),
        NxAction::FinTimeout { fin_idle_timeout, fin_hard_timeout } => {
            ("NXActionFinTimeout", json!({"fin_idle_timeout": fin_idle_timeout, "fin_hard_timeout": fin_hard_timeout}))
        }
        NxAction::Controller { max_len, controller_id, reason } => {
            ("NXActionController", json!({"max_len": max_len, "controller_id": controller_id, "reason": reason}))
        }
        NxAction::DecTtlCntIds(ids) => ("NXActionDecTtlCntIds", json!({"cnt_ids": ids})),
        NxAction::PushMpls(e) => ("NXActionPushMpls", json!({"ethertype": e})),
        NxAction::PopMpls(e) => ("NXActionPopMpls", json!({"ethertype": e})),
        NxAction::SetMplsTtl(t) => ("NXActionSetMplsTtl", json!({"ttl": t})),
        NxAction::DecMplsTtl => ("NXActionDecMplsTtl", json!({})),
        NxAction::StackPush { start, field, end } => {
            ("NXActionStackPush", json!({"start": start, "field": field_name(*field), "end": end}))
        }
        NxAction::StackPop { start, field, end } => {
            ("NXActionStackPop", json!({"start": start, "field": field_name(*field), "end": end}))
        }
        NxAction::Sample { probability, collector_set_id, obs_domain_id, obs_point_id } => (
            "NXActionSample",
            json!({"probability": probability, "collector_set_id": collector_set_id, "obs_domain_id": obs_domain_id, "obs_point_id": obs_point_id}),
        ),
        NxAction::Sample2 { probability, collector_set_id, obs_domain_id, obs_point_id, sampling_port } => (
            "NXActionSample2",
            json!({"probability": probability, "collector_set_id": collector_set_id, "obs_domain_id": obs_domain_id,
                   "obs_point_id": obs_point_id, "sampling_port": sampling_port}),
        ),
        NxAction::SetMplsLabel(l) => ("NXActionSetMplsLabel", json!({"label": l})),
        NxAction::SetMplsTc(t) => ("NXActionSetMplsTc", json!({"tc": t})),
        NxAction::Conjunction { clause, n_clauses, id } => {
            ("NXActionConjunction", json!({"clause": clause, "n_clauses": n_clauses, "id": id}))
        }
        NxAction::Ct(c) => (
            "NXActionCT",
            json!({"flags": c.flags, "zone_src": field_name(c.zone_src), "zone_ofs_nbits": c.zone_ofs_nbits,
                   "recirc_table": c.recirc_table, "alg": c.alg, "actions": nested(&c.actions)}),
        ),
        NxAction::Nat(n) => {
            let ip4 = |a: Option<std::net::Ipv4Addr>| a.map(|a| json!(a.to_string())).unwrap_or(json!(""));
            let ip6 = |a: Option<std::net::Ipv6Addr>| a.map(|a| json!(a.to_string())).unwrap_or(json!(""));
            (
                "NXActionNAT",
                json!({"flags": n.flags, "range_ipv4_min": ip4(n.range_ipv4_min), "range_ipv4_max": ip4(n.range_ipv4_max),
                       "range_ipv6_min": ip6(n.range_ipv6_min), "range_ipv6_max": ip6(n.range_ipv6_max),
                       "range_proto_min": n.range_proto_min, "range_proto_max": n.range_proto_max}),
            )
        }
        NxAction::Controller2(c) => (
            "NXActionController2",
            json!({"max_len": c.max_len, "controller_id": c.controller_id, "reason": c.reason,
                   "userdata": c.userdata, "pause": c.pause, "meter_id": c.meter_id}),
        ),
        NxAction::OutputTrunc { port, max_len } => ("NXActionOutputTrunc", json!({"port": port, "max_len": max_len})),
        NxAction::CtClear => ("NXActionCTClear", json!({})),
        NxAction::Unknown { data, .. } => ("NXActionUnknown", json!({"data": base64(data)})),
    };
    let mut fields = fields;
    if let (NxAction::Controller2(c), Some(o)) = (a, fields.as_object_mut()) {
        if c.meter_id.is_none() {
            o.remove("meter_id");
        }
    }
    let head = if v13 {
        json!({"experimenter": NX_VENDOR_ID, "len": raw_len, "subtype": a.subtype(), "type": 0xffff})
    } else {
        json!({"vendor": NX_VENDOR_ID, "subtype": a.subtype()})
    };
    cls(name, ext(head, fields))
}

/// A 1.3 action.
pub fn action13_json(a: &Action) -> Value {
    let len = a.wire_len().ok();
    let t = a.action_type();
    let base = json!({"len": len, "type": t});
    let (name, f) = match a {
        Action::Output { port, max_len } => ("OFPActionOutput", json!({"port": port, "max_len": max_len})),
        Action::CopyTtlOut => ("OFPActionCopyTtlOut", json!({})),
        Action::CopyTtlIn => ("OFPActionCopyTtlIn", json!({})),
        Action::SetMplsTtl(v) => ("OFPActionSetMplsTtl", json!({"mpls_ttl": v})),
        Action::DecMplsTtl => ("OFPActionDecMplsTtl", json!({})),
        Action::PushVlan(e) => ("OFPActionPushVlan", json!({"ethertype": e})),
        Action::PopVlan => ("OFPActionPopVlan", json!({})),
        Action::PushMpls(e) => ("OFPActionPushMpls", json!({"ethertype": e})),
        Action::PopMpls(e) => ("OFPActionPopMpls", json!({"ethertype": e})),
        Action::SetQueue(q) => ("OFPActionSetQueue", json!({"queue_id": q})),
        Action::Group(g) => ("OFPActionGroup", json!({"group_id": g})),
        Action::SetNwTtl(v) => ("OFPActionSetNwTtl", json!({"nw_ttl": v})),
        Action::DecNwTtl => ("OFPActionDecNwTtl", json!({})),
        Action::SetField(o) => ("OFPActionSetField", json!({"field": oxm_json(o)})),
        Action::PushPbb(e) => ("OFPActionPushPbb", json!({"ethertype": e})),
        Action::PopPbb => ("OFPActionPopPbb", json!({})),
        Action::Nx(nx) => {
            return nx_json(nx, len, true, &|v: &[Action]| json!(v.iter().map(action13_json).collect::<Vec<_>>()))
        }
        Action::Experimenter { experimenter, data } => {
            ("OFPActionExperimenterUnknown", json!({"experimenter": experimenter, "data": base64(data)}))
        }
        Action::Unknown { data, .. } => ("OFPActionUnknown", json!({"data": base64(data)})),
    };
    cls(name, ext(base, f))
}

fn actions13(v: &[Action]) -> Value {
    json!(v.iter().map(action13_json).collect::<Vec<_>>())
}

/// A 1.3 instruction.
pub fn instruction_json(i: &Instruction) -> Value {
    let base = json!({"len": part_len(|b| i.emit(b)), "type": i.instruction_type()});
    let (name, f) = match i {
        Instruction::GotoTable(t) => ("OFPInstructionGotoTable", json!({"table_id": t})),
        Instruction::WriteMetadata { metadata, mask } => {
            ("OFPInstructionWriteMetadata", json!({"metadata": metadata, "metadata_mask": mask}))
        }
        Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
            ("OFPInstructionActions", json!({"actions": actions13(a)}))
        }
        Instruction::ClearActions => ("OFPInstructionActions", json!({"actions": []})),
        Instruction::Meter(m) => ("OFPInstructionMeter", json!({"meter_id": m})),
        Instruction::Experimenter { experimenter, data } => {
            ("OFPInstructionExperimenter", json!({"experimenter": experimenter, "data": base64(data)}))
        }
        Instruction::Unknown { data, .. } => ("OFPInstructionUnknown", json!({"data": base64(data)})),
    };
    cls(name, ext(base, f))
}

fn instructions(v: &[Instruction]) -> Value {
    json!(v.iter().map(instruction_json).collect::<Vec<_>>())
}

fn hello_json(h: &Hello) -> Value {
    let els: Vec<Value> = h
        .elements
        .iter()
        .map(|e| match e {
            HelloElement::VersionBitmap(w) => cls(
                "OFPHelloElemVersionBitmap",
                json!({"length": 4 + 4 * w.len(), "type": 1, "versions": bitmap_versions(w)}),
            ),
            HelloElement::Unknown { elem_type, data } => {
                cls("OFPHelloElemUnknown", json!({"length": 4 + data.len(), "type": elem_type, "data": base64(data)}))
            }
        })
        .collect();
    cls("OFPHello", json!({"elements": els}))
}

fn error_json(e: &ErrorMsg) -> Value {
    match e.experimenter {
        Some(x) => cls(
            "OFPErrorMsg",
            json!({"type": e.err_type, "code": null, "exp_type": e.code, "experimenter": x, "data": base64(&e.data)}),
        ),
        None => cls("OFPErrorMsg", json!({"type": e.err_type, "code": e.code, "data": base64(&e.data)})),
    }
}

fn port13(p: &v1_3::Port) -> Value {
    cls(
        "OFPPort",
        json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "name": p.name.as_str(), "config": p.config,
               "state": p.state, "curr": p.curr, "advertised": p.advertised, "supported": p.supported, "peer": p.peer,
               "curr_speed": p.curr_speed, "max_speed": p.max_speed}),
    )
}

fn band_json(b: &v1_3::MeterBand) -> Value {
    let len = part_len(|v| b.emit(v));
    match b {
        v1_3::MeterBand::Drop { rate, burst_size } => {
            cls("OFPMeterBandDrop", json!({"type": 1, "len": len, "rate": rate, "burst_size": burst_size}))
        }
        v1_3::MeterBand::DscpRemark { rate, burst_size, prec_level } => cls(
            "OFPMeterBandDscpRemark",
            json!({"type": 2, "len": len, "rate": rate, "burst_size": burst_size, "prec_level": prec_level}),
        ),
        v1_3::MeterBand::Experimenter { rate, burst_size, experimenter, data } => cls(
            "OFPMeterBandExperimenter",
            json!({"type": 0xffff, "len": len, "rate": rate, "burst_size": burst_size, "experimenter": experimenter, "data": base64(data)}),
        ),
        v1_3::MeterBand::Unknown { band_type, rate, burst_size, data } => cls(
            "OFPMeterBandUnknown",
            json!({"type": band_type, "len": len, "rate": rate, "burst_size": burst_size, "data": base64(data)}),
        ),
    }
}

fn bucket_json(b: &v1_3::Bucket) -> Value {
    cls(
        "OFPBucket",
        json!({"len": part_len(|v| b.emit(v)), "weight": b.weight, "watch_port": b.watch_port, "watch_group": b.watch_group, "actions": actions13(&b.actions)}),
    )
}

fn table_features_json(t: &v1_3::table_features::TableFeatures) -> Value {
    use v1_3::table_features::TableFeatureProp as P;
    let props: Vec<Value> = t
        .properties
        .iter()
        .map(|p| {
            let base = json!({"type": p.prop_type(), "length": p.length()});
            let (n, f) = match p {
                P::Instructions { ids, .. } => (
                    "OFPTableFeaturePropInstructions",
                    json!({"instruction_ids": ids.iter().map(|i| cls("OFPInstructionId", json!({"type": i.id_type, "len": 4 + i.data.len()}))).collect::<Vec<_>>()}),
                ),
                P::Actions { ids, .. } => (
                    "OFPTableFeaturePropActions",
                    json!({"action_ids": ids.iter().map(|i| cls("OFPActionId", json!({"type": i.id_type, "len": 4 + i.data.len()}))).collect::<Vec<_>>()}),
                ),
                P::NextTables { table_ids, .. } => ("OFPTableFeaturePropNextTables", json!({"table_ids": table_ids})),
                P::Oxm { ids, .. } => (
                    "OFPTableFeaturePropOxm",
                    json!({"oxm_ids": ids.iter().map(|w| {
                        let h = w.first().copied().unwrap_or(0);
                        let name = match v1_3::oxm::header_name(h) {
                            Some(n) => n.to_string(),
                            None => format!("field_0x{:08x}", h & 0xffff_fe00),
                        };
                        match w.get(1) {
                            Some(e) => cls("OFPExperimenterOxmId", json!({"type": name, "hasmask": (h >> 8) & 1, "length": h & 0xff, "exp_id": e})),
                            None => cls("OFPOxmId", json!({"type": name, "hasmask": (h >> 8) & 1, "length": h & 0xff})),
                        }
                    }).collect::<Vec<_>>()}),
                ),
                P::Experimenter { experimenter, exp_type, data, .. } => {
                    ("OFPTableFeaturePropExperimenter", json!({"experimenter": experimenter, "exp_type": exp_type, "data": data}))
                }
                P::Unknown { data, .. } => ("OFPTableFeaturePropUnknown", json!({"data": base64(data)})),
            };
            cls(n, ext(base, f))
        })
        .collect();
    cls(
        "OFPTableFeaturesStats",
        json!({"length": part_len(|b| t.emit(b)), "table_id": t.table_id, "name": t.name.as_str(), "metadata_match": t.metadata_match,
               "metadata_write": t.metadata_write, "config": t.config, "max_entries": t.max_entries, "properties": props}),
    )
}

fn mp_request_json(m: &v1_3::MultipartRequest) -> Value {
    use v1_3::multipart::MultipartRequestBody as B;
    let base = json!({"flags": m.flags, "type": m.mp_type()});
    let fsr = |f: &v1_3::multipart::FlowStatsRequest| {
        json!({"table_id": f.table_id, "out_port": f.out_port, "out_group": f.out_group, "cookie": f.cookie,
               "cookie_mask": f.cookie_mask, "match": match13_json(&f.match_)})
    };
    let (n, f) = match &m.body {
        B::Desc => ("OFPDescStatsRequest", json!({})),
        B::Flow(f) => ("OFPFlowStatsRequest", fsr(f)),
        B::Aggregate(f) => ("OFPAggregateStatsRequest", fsr(f)),
        B::Table => ("OFPTableStatsRequest", json!({})),
        B::PortStats { port_no } => ("OFPPortStatsRequest", json!({"port_no": port_no})),
        B::Queue { port_no, queue_id } => ("OFPQueueStatsRequest", json!({"port_no": port_no, "queue_id": queue_id})),
        B::Group { group_id } => ("OFPGroupStatsRequest", json!({"group_id": group_id})),
        B::GroupDesc => ("OFPGroupDescStatsRequest", json!({})),
        B::GroupFeatures => ("OFPGroupFeaturesStatsRequest", json!({})),
        B::Meter { meter_id } => ("OFPMeterStatsRequest", json!({"meter_id": meter_id})),
        B::MeterConfig { meter_id } => ("OFPMeterConfigStatsRequest", json!({"meter_id": meter_id})),
        B::MeterFeatures => ("OFPMeterFeaturesStatsRequest", json!({})),
        B::TableFeatures(v) => {
            ("OFPTableFeaturesStatsRequest", json!({"body": v.iter().map(table_features_json).collect::<Vec<_>>()}))
        }
        B::PortDesc => ("OFPPortDescStatsRequest", json!({})),
        B::OnfFlowMonitor(v) => (
            "ONFFlowMonitorStatsRequest",
            json!({"experimenter": v1_3::oxm::ONF_EXPERIMENTER_ID, "exp_type": v1_3::multipart::ONF_ET_FLOW_MONITOR,
                   "body": v.iter().map(|r| {
                       let ml: usize = r.fields.iter().map(Oxm::wire_len).sum();
                       let m = Match { fields: r.fields.clone() };
                       cls("ONFFlowMonitorRequest", json!({"id": r.id, "flags": r.flags, "match_len": ml, "out_port": r.out_port,
                            "table_id": r.table_id, "match": match13_json(&m)}))
                   }).collect::<Vec<_>>()}),
        ),
        B::Experimenter { experimenter, exp_type, data } => (
            "OFPExperimenterStatsRequest",
            json!({"experimenter": experimenter, "exp_type": exp_type, "data": base64(data)}),
        ),
        B::Unknown { data, .. } => ("OFPMultipartRequestUnknown", json!({"data": base64(data)})),
    };
    cls(n, ext(base, f))
}

/// The switch description of a desc stats reply (the same in OpenFlow 1.0 and 1.3).
fn desc_json(d: &v1_3::multipart::Desc) -> Value {
    cls(
        "OFPDescStats",
        json!({"mfr_desc": d.mfr_desc.as_str(), "hw_desc": d.hw_desc.as_str(), "sw_desc": d.sw_desc.as_str(),
               "serial_num": d.serial_num.as_str(), "dp_desc": d.dp_desc.as_str()}),
    )
}

fn mp_reply_json(m: &v1_3::MultipartReply) -> Value {
    use v1_3::multipart::MultipartReplyBody as B;
    let base = json!({"flags": m.flags, "type": m.mp_type()});
    let (n, body) = match &m.body {
        B::Desc(d) => (
            "OFPDescStatsReply",
            desc_json(d),
        ),
        B::Flow(v) => (
            "OFPFlowStatsReply",
            json!(v
                .iter()
                .map(|f| {
                    cls(
                        "OFPFlowStats",
                        json!({"length": part_len(|b| f.emit(b)), "table_id": f.table_id, "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec,
                           "priority": f.priority, "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "flags": f.flags,
                           "cookie": f.cookie, "packet_count": f.packet_count, "byte_count": f.byte_count,
                           "match": match13_json(&f.match_), "instructions": instructions(&f.instructions)}),
                    )
                })
                .collect::<Vec<_>>()),
        ),
        B::Aggregate(a) => (
            "OFPAggregateStatsReply",
            cls("OFPAggregateStats", json!({"packet_count": a.packet_count, "byte_count": a.byte_count, "flow_count": a.flow_count})),
        ),
        B::Table(v) => (
            "OFPTableStatsReply",
            json!(v
                .iter()
                .map(|t| cls("OFPTableStats", json!({"table_id": t.table_id, "active_count": t.active_count, "lookup_count": t.lookup_count, "matched_count": t.matched_count})))
                .collect::<Vec<_>>()),
        ),
        B::PortStats(v) => (
            "OFPPortStatsReply",
            json!(v
                .iter()
                .map(|p| cls(
                    "OFPPortStats",
                    json!({"port_no": p.port_no, "rx_packets": p.rx_packets, "tx_packets": p.tx_packets, "rx_bytes": p.rx_bytes,
                       "tx_bytes": p.tx_bytes, "rx_dropped": p.rx_dropped, "tx_dropped": p.tx_dropped, "rx_errors": p.rx_errors,
                       "tx_errors": p.tx_errors, "rx_frame_err": p.rx_frame_err, "rx_over_err": p.rx_over_err,
                       "rx_crc_err": p.rx_crc_err, "collisions": p.collisions, "duration_sec": p.duration_sec, "duration_nsec": p.duration_nsec})
                ))
                .collect::<Vec<_>>()),
        ),
        B::Queue(v) => (
            "OFPQueueStatsReply",
            json!(v
                .iter()
                .map(|q| cls(
                    "OFPQueueStats",
                    json!({"port_no": q.port_no, "queue_id": q.queue_id, "tx_bytes": q.tx_bytes, "tx_packets": q.tx_packets,
                       "tx_errors": q.tx_errors, "duration_sec": q.duration_sec, "duration_nsec": q.duration_nsec})
                ))
                .collect::<Vec<_>>()),
        ),
        B::Group(v) => (
            "OFPGroupStatsReply",
            json!(v
                .iter()
                .map(|g| cls(
                    "OFPGroupStats",
                    json!({"length": 40 + 16 * g.bucket_stats.len(), "group_id": g.group_id, "ref_count": g.ref_count,
                       "packet_count": g.packet_count, "byte_count": g.byte_count, "duration_sec": g.duration_sec,
                       "duration_nsec": g.duration_nsec,
                       "bucket_stats": g.bucket_stats.iter().map(|(p, b)| cls("OFPBucketCounter", json!({"packet_count": p, "byte_count": b}))).collect::<Vec<_>>()})
                ))
                .collect::<Vec<_>>()),
        ),
        B::GroupDesc(v) => (
            "OFPGroupDescStatsReply",
            json!(v
                .iter()
                .map(|g| {
                    let len = parts_len(8, &g.buckets, v1_3::Bucket::emit);
                    cls("OFPGroupDescStats", json!({"length": len, "type": g.group_type, "group_id": g.group_id, "buckets": g.buckets.iter().map(bucket_json).collect::<Vec<_>>()}))
                })
                .collect::<Vec<_>>()),
        ),
        B::GroupFeatures(g) => (
            "OFPGroupFeaturesStatsReply",
            cls("OFPGroupFeaturesStats", json!({"types": g.types, "capabilities": g.capabilities, "max_groups": g.max_groups, "actions": g.actions})),
        ),
        B::Meter(v) => (
            "OFPMeterStatsReply",
            json!(v
                .iter()
                .map(|m| cls(
                    "OFPMeterStats",
                    json!({"meter_id": m.meter_id, "len": 40 + 16 * m.band_stats.len(), "flow_count": m.flow_count,
                       "packet_in_count": m.packet_in_count, "byte_in_count": m.byte_in_count, "duration_sec": m.duration_sec,
                       "duration_nsec": m.duration_nsec,
                       "band_stats": m.band_stats.iter().map(|(p, b)| cls("OFPMeterBandStats", json!({"packet_band_count": p, "byte_band_count": b}))).collect::<Vec<_>>()})
                ))
                .collect::<Vec<_>>()),
        ),
        B::MeterConfig(v) => (
            "OFPMeterConfigStatsReply",
            json!(v
                .iter()
                .map(|m| {
                    let len = parts_len(8, &m.bands, v1_3::MeterBand::emit);
                    cls("OFPMeterConfigStats", json!({"length": len, "flags": m.flags, "meter_id": m.meter_id, "bands": m.bands.iter().map(band_json).collect::<Vec<_>>()}))
                })
                .collect::<Vec<_>>()),
        ),
        B::MeterFeatures(m) => (
            "OFPMeterFeaturesStatsReply",
            json!([cls(
                "OFPMeterFeaturesStats",
                json!({"max_meter": m.max_meter, "band_types": m.band_types, "capabilities": m.capabilities, "max_bands": m.max_bands, "max_color": m.max_color})
            )]),
        ),
        B::TableFeatures(v) => ("OFPTableFeaturesStatsReply", json!(v.iter().map(table_features_json).collect::<Vec<_>>())),
        B::PortDesc(v) => ("OFPPortDescStatsReply", json!(v.iter().map(port13).collect::<Vec<_>>())),
        B::Experimenter { experimenter, exp_type, data } => (
            "OFPExperimenterStatsReply",
            cls("OFPExperimenterMultipart", json!({"experimenter": experimenter, "exp_type": exp_type, "data": base64(data)})),
        ),
        B::Unknown { data, .. } => ("OFPMultipartReplyUnknown", json!(base64(data))),
    };
    cls(n, ext(base, json!({ "body": body })))
}

/// Renders an OpenFlow 1.3 message.
pub fn v1_3_to_json(m: &v1_3::Message) -> Value {
    use v1_3::Message as M;
    match m {
        M::Hello(h) => hello_json(h),
        M::Error(e) => error_json(e),
        M::EchoRequest(d) => cls("OFPEchoRequest", json!({"data": base64(d)})),
        M::EchoReply(d) => cls("OFPEchoReply", json!({"data": base64(d)})),
        M::Experimenter(e) => cls(
            "OFPExperimenter",
            json!({"experimenter": e.experimenter, "exp_type": e.exp_type, "data": base64(&e.data)}),
        ),
        M::FeaturesRequest => cls("OFPFeaturesRequest", json!({})),
        M::FeaturesReply(f) => cls(
            "OFPSwitchFeatures",
            json!({"datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables, "auxiliary_id": f.auxiliary_id, "capabilities": f.capabilities}),
        ),
        M::GetConfigRequest => cls("OFPGetConfigRequest", json!({})),
        M::GetConfigReply(c) => cls("OFPGetConfigReply", json!({"flags": c.flags, "miss_send_len": c.miss_send_len})),
        M::SetConfig(c) => cls("OFPSetConfig", json!({"flags": c.flags, "miss_send_len": c.miss_send_len})),
        M::PacketIn(p) => cls(
            "OFPPacketIn",
            json!({"buffer_id": p.buffer_id, "total_len": p.total_len, "reason": p.reason, "table_id": p.table_id,
                   "cookie": p.cookie, "match": match13_json(&p.match_), "data": base64(&p.data)}),
        ),
        M::FlowRemoved(f) => cls(
            "OFPFlowRemoved",
            json!({"cookie": f.cookie, "priority": f.priority, "reason": f.reason, "table_id": f.table_id,
                   "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec, "idle_timeout": f.idle_timeout,
                   "hard_timeout": f.hard_timeout, "packet_count": f.packet_count, "byte_count": f.byte_count,
                   "match": match13_json(&f.match_)}),
        ),
        M::PortStatus(p) => cls("OFPPortStatus", json!({"reason": p.reason, "desc": port13(&p.desc)})),
        M::PacketOut(p) => {
            let alen = parts_len(0, &p.actions, Action::emit).filter(|n| u16::try_from(*n).is_ok());
            cls(
                "OFPPacketOut",
                json!({"buffer_id": p.buffer_id, "in_port": p.in_port, "actions_len": alen, "actions": actions13(&p.actions), "data": base64(&p.data)}),
            )
        }
        M::FlowMod(f) => cls(
            "OFPFlowMod",
            json!({"cookie": f.cookie, "cookie_mask": f.cookie_mask, "table_id": f.table_id, "command": f.command,
                   "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "priority": f.priority,
                   "buffer_id": f.buffer_id, "out_port": f.out_port, "out_group": f.out_group, "flags": f.flags,
                   "match": match13_json(&f.match_), "instructions": instructions(&f.instructions)}),
        ),
        M::GroupMod(g) => cls(
            "OFPGroupMod",
            json!({"command": g.command, "type": g.group_type, "group_id": g.group_id, "buckets": g.buckets.iter().map(bucket_json).collect::<Vec<_>>()}),
        ),
        M::PortMod(p) => cls(
            "OFPPortMod",
            json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "config": p.config, "mask": p.mask, "advertise": p.advertise}),
        ),
        M::TableMod(t) => cls("OFPTableMod", json!({"table_id": t.table_id, "config": t.config})),
        M::MultipartRequest(r) => mp_request_json(r),
        M::MultipartReply(r) => mp_reply_json(r),
        M::BarrierRequest => cls("OFPBarrierRequest", json!({})),
        M::BarrierReply => cls("OFPBarrierReply", json!({})),
        M::QueueGetConfigRequest { port } => cls("OFPQueueGetConfigRequest", json!({"port": port})),
        M::QueueGetConfigReply(q) => cls(
            "OFPQueueGetConfigReply",
            json!({"port": q.port, "queues": q.queues.iter().map(|pq| {
                let props: Vec<Value> = pq.properties.iter().map(|p| {
                    let len = part_len(|b| p.emit(b));
                    match p {
                        v1_3::QueueProp::MinRate(r) => cls("OFPQueuePropMinRate", json!({"property": 1, "len": len, "rate": r})),
                        v1_3::QueueProp::MaxRate(r) => cls("OFPQueuePropMaxRate", json!({"property": 2, "len": len, "rate": r})),
                        v1_3::QueueProp::Experimenter { experimenter, data } => cls("OFPQueuePropExperimenter", json!({"property": 0xffff, "len": len, "experimenter": experimenter, "data": base64(data)})),
                        v1_3::QueueProp::Unknown { prop_type, data } => cls("OFPQueuePropUnknown", json!({"property": prop_type, "len": len, "data": base64(data)})),
                    }
                }).collect();
                let len = parts_len(16, &pq.properties, v1_3::QueueProp::emit);
                cls("OFPPacketQueue", json!({"queue_id": pq.queue_id, "port": pq.port, "len": len, "properties": props}))
            }).collect::<Vec<_>>()}),
        ),
        M::RoleRequest(r) => cls("OFPRoleRequest", json!({"role": r.role, "generation_id": r.generation_id})),
        M::RoleReply(r) => cls("OFPRoleReply", json!({"role": r.role, "generation_id": r.generation_id})),
        M::GetAsyncRequest => cls("OFPGetAsyncRequest", json!({})),
        M::GetAsyncReply(a) => cls(
            "OFPGetAsyncReply",
            json!({"packet_in_mask": a.packet_in_mask, "port_status_mask": a.port_status_mask, "flow_removed_mask": a.flow_removed_mask}),
        ),
        M::SetAsync(a) => cls(
            "OFPSetAsync",
            json!({"packet_in_mask": a.packet_in_mask, "port_status_mask": a.port_status_mask, "flow_removed_mask": a.flow_removed_mask}),
        ),
        M::MeterMod(m) => cls(
            "OFPMeterMod",
            json!({"command": m.command, "flags": m.flags, "meter_id": m.meter_id, "bands": m.bands.iter().map(band_json).collect::<Vec<_>>()}),
        ),
    }
}

/// A 1.0 match as `{"OFPMatch": {...}}`.
pub fn match10_json(m: &v1_0::Match) -> Value {
    cls(
        "OFPMatch",
        json!({"wildcards": m.wildcards, "in_port": m.in_port, "dl_src": m.dl_src.to_string(), "dl_dst": m.dl_dst.to_string(),
               "dl_vlan": m.dl_vlan, "dl_vlan_pcp": m.dl_vlan_pcp, "dl_type": m.dl_type, "nw_tos": m.nw_tos,
               "nw_proto": m.nw_proto, "nw_src": m.nw_src.to_string(), "nw_dst": m.nw_dst.to_string(),
               "tp_src": m.tp_src, "tp_dst": m.tp_dst}),
    )
}

/// A 1.0 action.
pub fn action10_json(a: &v1_0::Action) -> Value {
    use v1_0::Action as A;
    let (n, f) = match a {
        A::Output { port, max_len } => ("OFPActionOutput", json!({"port": port, "max_len": max_len})),
        A::SetVlanVid(v) => ("OFPActionVlanVid", json!({"vlan_vid": v})),
        A::SetVlanPcp(v) => ("OFPActionVlanPcp", json!({"vlan_pcp": v})),
        A::StripVlan => ("OFPActionStripVlan", json!({})),
        A::SetDlSrc(m) => ("OFPActionSetDlSrc", json!({"dl_addr": m.to_string()})),
        A::SetDlDst(m) => ("OFPActionSetDlDst", json!({"dl_addr": m.to_string()})),
        A::SetNwSrc(x) => ("OFPActionSetNwSrc", json!({"nw_addr": x.to_string()})),
        A::SetNwDst(x) => ("OFPActionSetNwDst", json!({"nw_addr": x.to_string()})),
        A::SetNwTos(v) => ("OFPActionSetNwTos", json!({"tos": v})),
        A::SetTpSrc(v) => ("OFPActionSetTpSrc", json!({"tp": v})),
        A::SetTpDst(v) => ("OFPActionSetTpDst", json!({"tp": v})),
        A::Enqueue { port, queue_id } => ("OFPActionEnqueue", json!({"port": port, "queue_id": queue_id})),
        A::Nx(nx) => {
            return nx_json(nx, part_len(|b| a.emit(b)), false, &|v: &[v1_0::Action]| {
                json!(v.iter().map(action10_json).collect::<Vec<_>>())
            });
        }
        A::Vendor { vendor, data } => (
            "OFPActionVendorUnknown",
            json!({"vendor": vendor, "data": base64(data), "type": 0xffff, "len": pad8(8 + data.len())}),
        ),
        A::Unknown { action_type, data } => ("OFPActionUnknown", json!({"type": action_type, "data": base64(data)})),
    };
    cls(n, f)
}

fn actions10(v: &[v1_0::Action]) -> Value {
    json!(v.iter().map(action10_json).collect::<Vec<_>>())
}

fn phy_port(p: &v1_0::PhyPort) -> Value {
    cls(
        "OFPPhyPort",
        json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "name": p.name.as_str(), "config": p.config,
               "state": p.state, "curr": p.curr, "advertised": p.advertised, "supported": p.supported, "peer": p.peer}),
    )
}

/// Renders an OpenFlow 1.0 message.
pub fn v1_0_to_json(m: &v1_0::Message) -> Value {
    use v1_0::Message as M;
    match m {
        M::Hello(h) => hello_json(h),
        M::Error(e) => error_json(e),
        M::EchoRequest(d) => cls("OFPEchoRequest", json!({"data": base64(d)})),
        M::EchoReply(d) => cls("OFPEchoReply", json!({"data": base64(d)})),
        M::Vendor { vendor, data } => cls("OFPVendor", json!({"vendor": vendor, "data": base64(data)})),
        M::FeaturesRequest => cls("OFPFeaturesRequest", json!({})),
        M::FeaturesReply(f) => {
            let mut ports = Map::new();
            for p in &f.ports {
                ports.insert(p.port_no.to_string(), phy_port(p));
            }
            cls(
                "OFPSwitchFeatures",
                json!({"datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables,
                       "capabilities": f.capabilities, "actions": f.actions, "ports": ports}),
            )
        }
        M::GetConfigRequest => cls("OFPGetConfigRequest", json!({})),
        M::GetConfigReply(c) => cls("OFPGetConfigReply", json!({"flags": c.flags, "miss_send_len": c.miss_send_len})),
        M::SetConfig(c) => cls("OFPSetConfig", json!({"flags": c.flags, "miss_send_len": c.miss_send_len})),
        M::PacketIn(p) => cls(
            "OFPPacketIn",
            json!({"buffer_id": p.buffer_id, "total_len": p.total_len, "in_port": p.in_port, "reason": p.reason, "data": base64(&p.data)}),
        ),
        M::FlowRemoved(f) => cls(
            "OFPFlowRemoved",
            json!({"match": match10_json(&f.match_), "cookie": f.cookie, "priority": f.priority, "reason": f.reason,
                   "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec, "idle_timeout": f.idle_timeout,
                   "packet_count": f.packet_count, "byte_count": f.byte_count}),
        ),
        M::PortStatus(p) => cls("OFPPortStatus", json!({"reason": p.reason, "desc": phy_port(&p.desc)})),
        M::PacketOut(p) => cls(
            "OFPPacketOut",
            json!({"buffer_id": p.buffer_id, "in_port": p.in_port, "actions": actions10(&p.actions), "data": base64(&p.data)}),
        ),
        M::FlowMod(f) => cls(
            "OFPFlowMod",
            json!({"match": match10_json(&f.match_), "cookie": f.cookie, "command": f.command, "idle_timeout": f.idle_timeout,
                   "hard_timeout": f.hard_timeout, "priority": f.priority, "buffer_id": f.buffer_id, "out_port": f.out_port,
                   "flags": f.flags, "actions": actions10(&f.actions)}),
        ),
        M::PortMod(p) => cls(
            "OFPPortMod",
            json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "config": p.config, "mask": p.mask, "advertise": p.advertise}),
        ),
        M::StatsRequest(s) => {
            use v1_0::StatsRequestBody as B;
            let base = json!({"flags": s.flags, "type": s.stats_type()});
            let fsr = |f: &v1_0::FlowStatsRequest| json!({"match": match10_json(&f.match_), "table_id": f.table_id, "out_port": f.out_port});
            let (n, f) = match &s.body {
                B::Desc => ("OFPDescStatsRequest", json!({})),
                B::Flow(f) => ("OFPFlowStatsRequest", fsr(f)),
                B::Aggregate(f) => ("OFPAggregateStatsRequest", fsr(f)),
                B::Table => ("OFPTableStatsRequest", json!({})),
                B::Port { port_no } => ("OFPPortStatsRequest", json!({"port_no": port_no})),
                B::Queue { port_no, queue_id } => {
                    ("OFPQueueStatsRequest", json!({"port_no": port_no, "queue_id": queue_id}))
                }
                B::Vendor { vendor, data } => {
                    ("OFPVendorStatsRequest", json!({"vendor": vendor, "specific_data": base64(data)}))
                }
                B::Unknown { stats_type, data } => {
                    ("OFPStatsRequestUnknown", json!({"type": stats_type, "data": base64(data)}))
                }
            };
            cls(n, ext(base, f))
        }
        M::StatsReply(s) => {
            use v1_0::StatsReplyBody as B;
            let (n, body) = match &s.body {
                B::Desc(d) => (
                    "OFPDescStatsReply",
                    desc_json(d),
                ),
                B::Flow(v) => (
                    "OFPFlowStatsReply",
                    json!(v
                        .iter()
                        .map(|f| {
                            let length = parts_len(88, &f.actions, v1_0::Action::emit);
                            cls(
                                "OFPFlowStats",
                                json!({"length": length, "table_id": f.table_id, "match": match10_json(&f.match_),
                                   "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec, "priority": f.priority,
                                   "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "cookie": f.cookie,
                                   "packet_count": f.packet_count, "byte_count": f.byte_count, "actions": actions10(&f.actions)}),
                            )
                        })
                        .collect::<Vec<_>>()),
                ),
                B::Aggregate { packet_count, byte_count, flow_count } => (
                    "OFPAggregateStatsReply",
                    cls("OFPAggregateStats", json!({"packet_count": packet_count, "byte_count": byte_count, "flow_count": flow_count})),
                ),
                B::Table(v) => (
                    "OFPTableStatsReply",
                    json!(v
                        .iter()
                        .map(|t| cls(
                            "OFPTableStats",
                            json!({"table_id": t.table_id, "name": t.name.as_str(), "wildcards": t.wildcards, "max_entries": t.max_entries,
                               "active_count": t.active_count, "lookup_count": t.lookup_count, "matched_count": t.matched_count})
                        ))
                        .collect::<Vec<_>>()),
                ),
                B::Port(v) => (
                    "OFPPortStatsReply",
                    json!(v
                        .iter()
                        .map(|p| {
                            let c = p.counters;
                            cls(
                                "OFPPortStats",
                                json!({"port_no": p.port_no, "rx_packets": c[0], "tx_packets": c[1], "rx_bytes": c[2], "tx_bytes": c[3],
                                   "rx_dropped": c[4], "tx_dropped": c[5], "rx_errors": c[6], "tx_errors": c[7], "rx_frame_err": c[8],
                                   "rx_over_err": c[9], "rx_crc_err": c[10], "collisions": c[11]}),
                            )
                        })
                        .collect::<Vec<_>>()),
                ),
                B::Queue(v) => (
                    "OFPQueueStatsReply",
                    json!(v
                        .iter()
                        .map(|q| cls(
                            "OFPQueueStats",
                            json!({"port_no": q.port_no, "queue_id": q.queue_id, "tx_bytes": q.tx_bytes, "tx_packets": q.tx_packets, "tx_errors": q.tx_errors})
                        ))
                        .collect::<Vec<_>>()),
                ),
                B::Vendor { vendor, data } => ("OFPVendorStatsReply", json!({"vendor": vendor, "data": base64(data)})),
                B::Unknown { stats_type, data } => ("OFPStatsReplyUnknown", json!({"type": stats_type, "data": base64(data)})),
            };
            cls(n, json!({"flags": s.flags, "type": s.stats_type(), "body": body}))
        }
        M::BarrierRequest => cls("OFPBarrierRequest", json!({})),
        M::BarrierReply => cls("OFPBarrierReply", json!({})),
        M::QueueGetConfigRequest { port } => cls("OFPQueueGetConfigRequest", json!({"port": port})),
        M::QueueGetConfigReply { port, queues } => cls(
            "OFPQueueGetConfigReply",
            json!({"port": port, "queues": queues.iter().map(|q| cls("OFPPacketQueue", json!({
                "queue_id": q.queue_id,
                "len": 8 + q.properties.iter().map(|(_, d)| 8 + d.len()).sum::<usize>(),
                "properties": q.properties.iter().map(|(t, d)| match (t, d.as_slice()) {
                    (0, []) => cls("OFPQueuePropNone", json!({"property": 0, "len": 8})),
                    (1, [a, b, 0, 0, 0, 0, 0, 0]) => cls("OFPQueuePropMinRate", json!({"property": 1, "len": 16, "rate": u16::from_be_bytes([*a, *b])})),
                    _ => cls("OFPQueuePropUnknown", json!({"property": t, "len": 8 + d.len(), "data": base64(d)})),
                }).collect::<Vec<_>>()
            }))).collect::<Vec<_>>()}),
        ),
    }
}
