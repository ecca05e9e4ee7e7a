//! The inverse of [`crate::to_json`]: builds a message from its Ryu-style
//! JSON form. Length fields in the JSON (`len`, `length`, `actions_len`,
//! `match_len`) are ignored, since encoding computes them.

use crate::common::{ErrorMsg, Hello, HelloElement};
use crate::nx::{ActionList, Controller2, Ct, Learn, LearnDst, LearnSpec, LearnSrc, Nat, NxAction};
use crate::types::{FixedStr, MacAddr};
use crate::v1_0;
use crate::v1_3::multipart::{self as mp, MultipartReplyBody as RB, MultipartRequestBody as QB};
use crate::v1_3::oxm::{Oxm, OxmBody, OxmField, ValueKind};
use crate::v1_3::table_features::{FeatureId, TableFeatureProp, TableFeatures};
use crate::v1_3::{self, Action, Instruction, Match};
use crate::Message;
use serde_json::{Map, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a JSON value could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

type R<T> = Result<T, JsonError>;

fn bad<T>(s: impl Into<String>) -> R<T> {
    Err(JsonError(s.into()))
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

/// A `{"ClassName": {...}}` object.
struct O<'a> {
    name: &'a str,
    m: &'a Map<String, Value>,
}

fn class(v: &Value) -> R<O<'_>> {
    match v.as_object() {
        Some(o) if o.len() == 1 => match o.iter().next() {
            Some((k, Value::Object(m))) => Ok(O { name: k, m }),
            _ => bad("expected {\"Class\": {...}}"),
        },
        _ => bad(format!("expected a single-key class object, got {}", v)),
    }
}

impl<'a> O<'a> {
    fn v(&self, k: &str) -> R<&'a Value> {
        self.m.get(k).ok_or_else(|| JsonError(format!("{}: missing field {}", self.name, k)))
    }
    fn opt(&self, k: &str) -> Option<&'a Value> {
        self.m.get(k).filter(|v| !v.is_null())
    }
    fn u64(&self, k: &str) -> R<u64> {
        num(self.v(k)?).ok_or_else(|| JsonError(format!("{}.{}: not an unsigned integer", self.name, k)))
    }
    fn u32(&self, k: &str) -> R<u32> {
        u32::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    fn u16(&self, k: &str) -> R<u16> {
        u16::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    fn u8(&self, k: &str) -> R<u8> {
        u8::try_from(self.u64(k)?).map_err(|_| JsonError(format!("{}.{}: out of range", self.name, k)))
    }
    fn str(&self, k: &str) -> R<&'a str> {
        self.v(k)?.as_str().ok_or_else(|| JsonError(format!("{}.{}: not a string", self.name, k)))
    }
    fn arr(&self, k: &str) -> R<&'a Vec<Value>> {
        self.v(k)?.as_array().ok_or_else(|| JsonError(format!("{}.{}: not an array", self.name, k)))
    }
    fn bytes(&self, k: &str) -> R<Vec<u8>> {
        bytes_of(self.v(k)?).ok_or_else(|| JsonError(format!("{}.{}: not base64 or a byte list", self.name, k)))
    }
    fn mac(&self, k: &str) -> R<MacAddr> {
        self.str(k)?.parse().map_err(|e| JsonError(format!("{}.{}: {}", self.name, k, e)))
    }
    fn fixed<const N: usize>(&self, k: &str) -> R<FixedStr<N>> {
        let s = self.str(k)?;
        if s.len() > N {
            return bad(format!("{}.{}: longer than {} bytes", self.name, k, N));
        }
        let mut a = [0u8; N];
        a[..s.len()].copy_from_slice(s.as_bytes());
        Ok(FixedStr(a))
    }
    fn u32s<const N: usize>(&self, k: &str) -> R<[u32; N]> {
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
    fn list<T>(&self, k: &str, f: impl Fn(&Value) -> R<T>) -> R<Vec<T>> {
        self.arr(k)?.iter().map(f).collect()
    }
}

fn num(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => base64_decode(s),
        Value::Array(a) => a.iter().map(|x| x.as_u64().and_then(|x| u8::try_from(x).ok())).collect(),
        _ => None,
    }
}

fn kind_bytes(kind: ValueKind, len: usize, v: &Value) -> R<Vec<u8>> {
    let e = || JsonError(format!("bad OXM value {}", v));
    Ok(match kind {
        ValueKind::Int => {
            let n: u128 = match v {
                Value::Number(n) => n.as_u64().ok_or_else(e)? as u128,
                Value::String(s) => s.parse().map_err(|_| e())?,
                _ => return Err(e()),
            };
            let b = n.to_be_bytes();
            b.get(16usize.saturating_sub(len)..).ok_or_else(e)?.to_vec()
        }
        ValueKind::Mac => v.as_str().and_then(|s| s.parse::<MacAddr>().ok()).ok_or_else(e)?.0.to_vec(),
        ValueKind::Ipv4 => v.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok()).ok_or_else(e)?.octets().to_vec(),
        ValueKind::Ipv6 => v.as_str().and_then(|s| s.parse::<Ipv6Addr>().ok()).ok_or_else(e)?.octets().to_vec(),
    })
}

fn hex_header(s: &str) -> Option<u32> {
    u32::from_str_radix(s.strip_prefix("field_0x")?, 16).ok()
}

/// An OXM TLV from `{"OXMTlv": {...}}`.
pub fn oxm_from_json(v: &Value) -> R<Oxm> {
    let o = class(v)?;
    let name = o.str("field")?;
    if let Some(h) = hex_header(name) {
        let body = o.bytes("value")?;
        return Ok(Oxm {
            class: (h >> 16) as u16,
            field: ((h >> 9) & 0x7f) as u8,
            has_mask: h & 0x100 != 0,
            body: OxmBody::new(&body),
        });
    }
    let f = OxmField::from_name(name).ok_or_else(|| JsonError(format!("unknown OXM field {}", name)))?;
    let i = f.info();
    let value = kind_bytes(i.kind, i.len as usize, o.v("value")?)?;
    Ok(match o.opt("mask") {
        Some(m) => Oxm::masked(f, &value, &kind_bytes(i.kind, i.len as usize, m)?),
        None => Oxm::new(f, &value),
    })
}

fn match13(v: &Value) -> R<Match> {
    let o = class(v)?;
    Ok(Match { fields: o.list("oxm_fields", oxm_from_json)? })
}

fn field_ref(v: &Value) -> R<u32> {
    let s = v.as_str().ok_or_else(|| JsonError(format!("field reference {} is not a string", v)))?;
    if s.is_empty() {
        return Ok(0);
    }
    if let Some(h) = hex_header(s) {
        return Ok(h);
    }
    OxmField::from_name(s).map(|f| f.header(false)).ok_or_else(|| JsonError(format!("unknown field {}", s)))
}

fn learn_ref(v: &Value) -> R<(u32, u16)> {
    match v.as_array().map(|a| a.as_slice()) {
        Some([f, ofs]) => Ok((
            field_ref(f)?,
            num(ofs).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| JsonError("bad offset".into()))?,
        )),
        _ => bad(format!("bad learn field reference {}", v)),
    }
}

fn nx_from_json<A: ActionList>(o: &O<'_>, nested: &dyn Fn(&Value) -> R<A>) -> R<NxAction<A>> {
    let opt_ip4 = |k: &str| -> R<Option<Ipv4Addr>> {
        match o.opt(k).and_then(|v| v.as_str()) {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| JsonError(format!("{}.{}: bad IPv4", o.name, k))),
        }
    };
    let opt_ip6 = |k: &str| -> R<Option<Ipv6Addr>> {
        match o.opt(k).and_then(|v| v.as_str()) {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| JsonError(format!("{}.{}: bad IPv6", o.name, k))),
        }
    };
    let opt16 = |k: &str| -> R<Option<u16>> { o.opt(k).map(|_| o.u16(k)).transpose() };
    Ok(match o.name {
        "NXActionResubmit" => NxAction::Resubmit { in_port: o.u16("in_port")? },
        "NXActionResubmitTable" => NxAction::ResubmitTable { in_port: o.u16("in_port")?, table_id: o.u8("table_id")? },
        "NXActionRegMove" => NxAction::RegMove {
            n_bits: o.u16("n_bits")?,
            src_ofs: o.u16("src_ofs")?,
            dst_ofs: o.u16("dst_ofs")?,
            src: field_ref(o.v("src_field")?)?,
            dst: field_ref(o.v("dst_field")?)?,
        },
        "NXActionRegLoad" => {
            NxAction::RegLoad { ofs_nbits: o.u16("ofs_nbits")?, dst: field_ref(o.v("dst")?)?, value: o.u64("value")? }
        }
        "NXActionNote" => NxAction::Note(o.bytes("note")?),
        "NXActionLearn" => NxAction::Learn(Learn {
            idle_timeout: o.u16("idle_timeout")?,
            hard_timeout: o.u16("hard_timeout")?,
            priority: o.u16("priority")?,
            cookie: o.u64("cookie")?,
            flags: o.u16("flags")?,
            table_id: o.u8("table_id")?,
            fin_idle_timeout: o.u16("fin_idle_timeout")?,
            fin_hard_timeout: o.u16("fin_hard_timeout")?,
            specs: o.list("specs", |v| {
                let s = class(v)?;
                let n_bits = s.u16("n_bits")?;
                let srcv = s.v("src")?;
                let src = if srcv.is_array() {
                    let (field, ofs) = learn_ref(srcv)?;
                    LearnSrc::Field { field, ofs }
                } else {
                    let n = (n_bits as usize).div_ceil(16) * 2;
                    LearnSrc::Immediate(kind_bytes(ValueKind::Int, n, srcv)?)
                };
                let dst = match s.name {
                    "NXFlowSpecMatch" => {
                        let (field, ofs) = learn_ref(s.v("dst")?)?;
                        LearnDst::Match { field, ofs }
                    }
                    "NXFlowSpecLoad" => {
                        let (field, ofs) = learn_ref(s.v("dst")?)?;
                        LearnDst::Load { field, ofs }
                    }
                    "NXFlowSpecOutput" => LearnDst::Output,
                    n => return bad(format!("unknown learn spec {}", n)),
                };
                Ok(LearnSpec { n_bits, src, dst })
            })?,
        }),
        "NXActionDecTtl" => NxAction::DecTtl,
        "NXActionFinTimeout" => NxAction::FinTimeout {
            fin_idle_timeout: o.u16("fin_idle_timeout")?,
            fin_hard_timeout: o.u16("fin_hard_timeout")?,
        },
        "NXActionController" => NxAction::Controller {
            max_len: o.u16("max_len")?,
            controller_id: o.u16("controller_id")?,
            reason: o.u8("reason")?,
        },
        "NXActionDecTtlCntIds" => NxAction::DecTtlCntIds(o.list("cnt_ids", |v| {
            num(v).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| JsonError("bad cnt_id".into()))
        })?),
        "NXActionPushMpls" => NxAction::PushMpls(o.u16("ethertype")?),
        "NXActionPopMpls" => NxAction::PopMpls(o.u16("ethertype")?),
        "NXActionSetMplsTtl" => NxAction::SetMplsTtl(o.u8("ttl")?),
        "NXActionDecMplsTtl" => NxAction::DecMplsTtl,
        "NXActionStackPush" => {
            NxAction::StackPush { start: o.u16("start")?, field: field_ref(o.v("field")?)?, end: o.u16("end")? }
        }
        "NXActionStackPop" => {
            NxAction::StackPop { start: o.u16("start")?, field: field_ref(o.v("field")?)?, end: o.u16("end")? }
        }
        "NXActionSample" => NxAction::Sample {
            probability: o.u16("probability")?,
            collector_set_id: o.u32("collector_set_id")?,
            obs_domain_id: o.u32("obs_domain_id")?,
            obs_point_id: o.u32("obs_point_id")?,
        },
        "NXActionSample2" => NxAction::Sample2 {
            probability: o.u16("probability")?,
            collector_set_id: o.u32("collector_set_id")?,
            obs_domain_id: o.u32("obs_domain_id")?,
            obs_point_id: o.u32("obs_point_id")?,
            sampling_port: o.u16("sampling_port")?,
        },
        "NXActionSetMplsLabel" => NxAction::SetMplsLabel(o.u32("label")?),
        "NXActionSetMplsTc" => NxAction::SetMplsTc(o.u8("tc")?),
        "NXActionConjunction" => {
            NxAction::Conjunction { clause: o.u8("clause")?, n_clauses: o.u8("n_clauses")?, id: o.u32("id")? }
        }
        "NXActionCT" => NxAction::Ct(Ct {
            flags: o.u16("flags")?,
            zone_src: field_ref(o.v("zone_src")?)?,
            zone_ofs_nbits: o.u16("zone_ofs_nbits")?,
            recirc_table: o.u8("recirc_table")?,
            alg: o.u16("alg")?,
            actions: o.list("actions", nested)?,
        }),
        "NXActionNAT" => NxAction::Nat(Nat {
            flags: o.u16("flags")?,
            range_ipv4_min: opt_ip4("range_ipv4_min")?,
            range_ipv4_max: opt_ip4("range_ipv4_max")?,
            range_ipv6_min: opt_ip6("range_ipv6_min")?,
            range_ipv6_max: opt_ip6("range_ipv6_max")?,
            range_proto_min: opt16("range_proto_min")?,
            range_proto_max: opt16("range_proto_max")?,
        }),
        "NXActionController2" => NxAction::Controller2(Controller2 {
            max_len: opt16("max_len")?,
            controller_id: opt16("controller_id")?,
            reason: o.opt("reason").map(|_| o.u8("reason")).transpose()?,
            userdata: o.opt("userdata").map(|_| o.bytes("userdata")).transpose()?,
            pause: o.opt("pause").and_then(|v| v.as_bool()).unwrap_or(false),
            meter_id: o.opt("meter_id").map(|_| o.u32("meter_id")).transpose()?,
        }),
        "NXActionOutputTrunc" => NxAction::OutputTrunc { port: o.u16("port")?, max_len: o.u32("max_len")? },
        "NXActionCTClear" => NxAction::CtClear,
        "NXActionUnknown" => NxAction::Unknown { subtype: o.u16("subtype")?, data: o.bytes("data")? },
        n => return bad(format!("unknown Nicira action {}", n)),
    })
}

/// A 1.3 action from its JSON form.
pub fn action13_from_json(v: &Value) -> R<Action> {
    let o = class(v)?;
    if o.name.starts_with("NXAction") {
        return Ok(Action::Nx(nx_from_json(&o, &action13_from_json)?));
    }
    Ok(match o.name {
        "OFPActionOutput" => Action::Output { port: o.u32("port")?, max_len: o.u16("max_len")? },
        "OFPActionCopyTtlOut" => Action::CopyTtlOut,
        "OFPActionCopyTtlIn" => Action::CopyTtlIn,
        "OFPActionSetMplsTtl" => Action::SetMplsTtl(o.u8("mpls_ttl")?),
        "OFPActionDecMplsTtl" => Action::DecMplsTtl,
        "OFPActionPushVlan" => Action::PushVlan(o.u16("ethertype")?),
        "OFPActionPopVlan" => Action::PopVlan,
        "OFPActionPushMpls" => Action::PushMpls(o.u16("ethertype")?),
        "OFPActionPopMpls" => Action::PopMpls(o.u16("ethertype")?),
        "OFPActionSetQueue" => Action::SetQueue(o.u32("queue_id")?),
        "OFPActionGroup" => Action::Group(o.u32("group_id")?),
        "OFPActionSetNwTtl" => Action::SetNwTtl(o.u8("nw_ttl")?),
        "OFPActionDecNwTtl" => Action::DecNwTtl,
        "OFPActionSetField" => Action::SetField(oxm_from_json(o.v("field")?)?),
        "OFPActionPushPbb" => Action::PushPbb(o.u16("ethertype")?),
        "OFPActionPopPbb" => Action::PopPbb,
        "OFPActionExperimenterUnknown" => {
            Action::Experimenter { experimenter: o.u32("experimenter")?, data: o.bytes("data")? }
        }
        "OFPActionUnknown" => Action::Unknown { action_type: o.u16("type")?, data: o.bytes("data")? },
        n => return bad(format!("unknown 1.3 action {}", n)),
    })
}

fn instruction_from_json(v: &Value) -> R<Instruction> {
    let o = class(v)?;
    Ok(match o.name {
        "OFPInstructionGotoTable" => Instruction::GotoTable(o.u8("table_id")?),
        "OFPInstructionWriteMetadata" => {
            Instruction::WriteMetadata { metadata: o.u64("metadata")?, mask: o.u64("metadata_mask")? }
        }
        "OFPInstructionActions" => {
            let a = o.list("actions", action13_from_json)?;
            match o.u16("type")? {
                3 => Instruction::WriteActions(a),
                4 => Instruction::ApplyActions(a),
                5 => Instruction::ClearActions,
                t => return bad(format!("OFPInstructionActions with type {}", t)),
            }
        }
        "OFPInstructionMeter" => Instruction::Meter(o.u32("meter_id")?),
        "OFPInstructionExperimenter" => {
            Instruction::Experimenter { experimenter: o.u32("experimenter")?, data: o.bytes("data")? }
        }
        "OFPInstructionUnknown" => Instruction::Unknown { instruction_type: o.u16("type")?, data: o.bytes("data")? },
        n => return bad(format!("unknown instruction {}", n)),
    })
}

fn hello(o: &O<'_>) -> R<Hello> {
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

fn error(o: &O<'_>) -> R<ErrorMsg> {
    let t = o.u16("type")?;
    let data = o.bytes("data")?;
    Ok(match o.opt("experimenter") {
        Some(_) => ErrorMsg { err_type: t, code: o.u16("exp_type")?, experimenter: Some(o.u32("experimenter")?), data },
        None => ErrorMsg { err_type: t, code: o.u16("code")?, experimenter: None, data },
    })
}

fn port13(v: &Value) -> R<v1_3::Port> {
    let o = class(v)?;
    Ok(v1_3::Port {
        port_no: o.u32("port_no")?,
        hw_addr: o.mac("hw_addr")?,
        name: o.fixed("name")?,
        config: o.u32("config")?,
        state: o.u32("state")?,
        curr: o.u32("curr")?,
        advertised: o.u32("advertised")?,
        supported: o.u32("supported")?,
        peer: o.u32("peer")?,
        curr_speed: o.u32("curr_speed")?,
        max_speed: o.u32("max_speed")?,
    })
}

fn band(v: &Value) -> R<v1_3::MeterBand> {
    let o = class(v)?;
    let (rate, burst_size) = (o.u32("rate")?, o.u32("burst_size")?);
    Ok(match o.name {
        "OFPMeterBandDrop" => v1_3::MeterBand::Drop { rate, burst_size },
        "OFPMeterBandDscpRemark" => v1_3::MeterBand::DscpRemark { rate, burst_size, prec_level: o.u8("prec_level")? },
        "OFPMeterBandExperimenter" => v1_3::MeterBand::Experimenter {
            rate,
            burst_size,
            experimenter: o.u32("experimenter")?,
            data: o.bytes("data")?,
        },
        _ => v1_3::MeterBand::Unknown { band_type: o.u16("type")?, rate, burst_size, data: o.bytes("data")? },
    })
}

fn bucket(v: &Value) -> R<v1_3::Bucket> {
    let o = class(v)?;
    Ok(v1_3::Bucket {
        weight: o.u16("weight")?,
        watch_port: o.u32("watch_port")?,
        watch_group: o.u32("watch_group")?,
        actions: o.list("actions", action13_from_json)?,
    })
}

fn table_features(v: &Value) -> R<TableFeatures> {
    let o = class(v)?;
    let ids = |v: &Value| -> R<FeatureId> {
        let i = class(v)?;
        let len = i.opt("len").and_then(num).unwrap_or(4).min(65535) as usize;
        Ok(FeatureId { id_type: i.u16("type")?, data: vec![0; len.saturating_sub(4)] })
    };
    Ok(TableFeatures {
        table_id: o.u8("table_id")?,
        name: o.fixed("name")?,
        metadata_match: o.u64("metadata_match")?,
        metadata_write: o.u64("metadata_write")?,
        config: o.u32("config")?,
        max_entries: o.u32("max_entries")?,
        properties: o.list("properties", |v| {
            let p = class(v)?;
            let prop_type = p.u16("type")?;
            Ok(match p.name {
                "OFPTableFeaturePropInstructions" => {
                    TableFeatureProp::Instructions { prop_type, ids: p.list("instruction_ids", ids)? }
                }
                "OFPTableFeaturePropActions" => {
                    TableFeatureProp::Actions { prop_type, ids: p.list("action_ids", ids)? }
                }
                "OFPTableFeaturePropNextTables" => {
                    TableFeatureProp::NextTables { prop_type, table_ids: p.bytes("table_ids")? }
                }
                "OFPTableFeaturePropOxm" => TableFeatureProp::Oxm {
                    prop_type,
                    ids: p.list("oxm_ids", |v| {
                        let i = class(v)?;
                        let name = i.str("type")?;
                        let base = match hex_header(name) {
                            Some(h) => h & 0xffff_fe00,
                            None => {
                                OxmField::from_name(name)
                                    .ok_or_else(|| JsonError(format!("unknown OXM id {}", name)))?
                                    .header(false)
                                    & 0xffff_fe00
                            }
                        };
                        let h = base | (i.u32("hasmask")? & 1) << 8 | (i.u32("length")? & 0xff);
                        Ok(match i.opt("exp_id") {
                            Some(_) => vec![h, i.u32("exp_id")?],
                            None => vec![h],
                        })
                    })?,
                },
                "OFPTableFeaturePropExperimenter" => TableFeatureProp::Experimenter {
                    prop_type,
                    experimenter: p.u32("experimenter")?,
                    exp_type: p.u32("exp_type")?,
                    data: p.list("data", |x| {
                        num(x).and_then(|x| u32::try_from(x).ok()).ok_or_else(|| JsonError("bad data word".into()))
                    })?,
                },
                _ => TableFeatureProp::Unknown { prop_type, data: p.bytes("data")? },
            })
        })?,
    })
}

fn mp_request(o: &O<'_>) -> R<v1_3::MultipartRequest> {
    let fsr = || -> R<mp::FlowStatsRequest> {
        Ok(mp::FlowStatsRequest {
            table_id: o.u8("table_id")?,
            out_port: o.u32("out_port")?,
            out_group: o.u32("out_group")?,
            cookie: o.u64("cookie")?,
            cookie_mask: o.u64("cookie_mask")?,
            match_: match13(o.v("match")?)?,
        })
    };
    let body = match o.name {
        "OFPDescStatsRequest" => QB::Desc,
        "OFPFlowStatsRequest" => QB::Flow(fsr()?),
        "OFPAggregateStatsRequest" => QB::Aggregate(fsr()?),
        "OFPTableStatsRequest" => QB::Table,
        "OFPPortStatsRequest" => QB::PortStats { port_no: o.u32("port_no")? },
        "OFPQueueStatsRequest" => QB::Queue { port_no: o.u32("port_no")?, queue_id: o.u32("queue_id")? },
        "OFPGroupStatsRequest" => QB::Group { group_id: o.u32("group_id")? },
        "OFPGroupDescStatsRequest" => QB::GroupDesc,
        "OFPGroupFeaturesStatsRequest" => QB::GroupFeatures,
        "OFPMeterStatsRequest" => QB::Meter { meter_id: o.u32("meter_id")? },
        "OFPMeterConfigStatsRequest" => QB::MeterConfig { meter_id: o.u32("meter_id")? },
        "OFPMeterFeaturesStatsRequest" => QB::MeterFeatures,
        "OFPTableFeaturesStatsRequest" => QB::TableFeatures(o.list("body", table_features)?),
        "OFPPortDescStatsRequest" => QB::PortDesc,
        "ONFFlowMonitorStatsRequest" => QB::OnfFlowMonitor(o.list("body", |v| {
            let r = class(v)?;
            Ok(mp::OnfFlowMonitorRequest {
                id: r.u32("id")?,
                flags: r.u16("flags")?,
                out_port: r.u32("out_port")?,
                table_id: r.u8("table_id")?,
                fields: match13(r.v("match")?)?.fields,
            })
        })?),
        "OFPExperimenterStatsRequest" => QB::Experimenter {
            experimenter: o.u32("experimenter")?,
            exp_type: o.u32("exp_type")?,
            data: o.bytes("data")?,
        },
        _ => QB::Unknown { mp_type: o.u16("type")?, data: o.bytes("data")? },
    };
    Ok(v1_3::MultipartRequest { flags: o.u16("flags")?, body })
}

/// Each entry of a multipart body's array, read as a Ryu class by `f`.
fn entries<T>(o: &O<'_>, body: &Value, f: impl Fn(&O<'_>) -> R<T>) -> R<Vec<T>> {
    let list = body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)))?;
    list.iter().map(|v| f(&class(v)?)).collect()
}

fn mp_reply(o: &O<'_>) -> R<v1_3::MultipartReply> {
    let body = o.v("body")?;
    let list = || body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)));
    let b = match o.name {
        "OFPDescStatsReply" => {
            let d = class(body)?;
            RB::Desc(Box::new(mp::Desc {
                mfr_desc: d.fixed("mfr_desc")?,
                hw_desc: d.fixed("hw_desc")?,
                sw_desc: d.fixed("sw_desc")?,
                serial_num: d.fixed("serial_num")?,
                dp_desc: d.fixed("dp_desc")?,
            }))
        }
        "OFPFlowStatsReply" => RB::Flow(entries(o, body, |f| {
            Ok(mp::FlowStats {
                table_id: f.u8("table_id")?,
                duration_sec: f.u32("duration_sec")?,
                duration_nsec: f.u32("duration_nsec")?,
                priority: f.u16("priority")?,
                idle_timeout: f.u16("idle_timeout")?,
                hard_timeout: f.u16("hard_timeout")?,
                flags: f.u16("flags")?,
                cookie: f.u64("cookie")?,
                packet_count: f.u64("packet_count")?,
                byte_count: f.u64("byte_count")?,
                match_: match13(f.v("match")?)?,
                instructions: f.list("instructions", instruction_from_json)?,
            })
        })?),
        "OFPAggregateStatsReply" => {
            let a = class(body)?;
            RB::Aggregate(mp::AggregateStats {
                packet_count: a.u64("packet_count")?,
                byte_count: a.u64("byte_count")?,
                flow_count: a.u32("flow_count")?,
            })
        }
        "OFPTableStatsReply" => RB::Table(entries(o, body, |t| {
            Ok(mp::TableStats {
                table_id: t.u8("table_id")?,
                active_count: t.u32("active_count")?,
                lookup_count: t.u64("lookup_count")?,
                matched_count: t.u64("matched_count")?,
            })
        })?),
        "OFPPortStatsReply" => RB::PortStats(entries(o, body, |p| {
            Ok(mp::PortStats {
                port_no: p.u32("port_no")?,
                rx_packets: p.u64("rx_packets")?,
                tx_packets: p.u64("tx_packets")?,
                rx_bytes: p.u64("rx_bytes")?,
                tx_bytes: p.u64("tx_bytes")?,
                rx_dropped: p.u64("rx_dropped")?,
                tx_dropped: p.u64("tx_dropped")?,
                rx_errors: p.u64("rx_errors")?,
                tx_errors: p.u64("tx_errors")?,
                rx_frame_err: p.u64("rx_frame_err")?,
                rx_over_err: p.u64("rx_over_err")?,
                rx_crc_err: p.u64("rx_crc_err")?,
                collisions: p.u64("collisions")?,
                duration_sec: p.u32("duration_sec")?,
                duration_nsec: p.u32("duration_nsec")?,
            })
        })?),
        "OFPQueueStatsReply" => RB::Queue(entries(o, body, |q| {
            Ok(mp::QueueStats {
                port_no: q.u32("port_no")?,
                queue_id: q.u32("queue_id")?,
                tx_bytes: q.u64("tx_bytes")?,
                tx_packets: q.u64("tx_packets")?,
                tx_errors: q.u64("tx_errors")?,
                duration_sec: q.u32("duration_sec")?,
                duration_nsec: q.u32("duration_nsec")?,
            })
        })?),
        "OFPGroupStatsReply" => RB::Group(entries(o, body, |g| {
            Ok(mp::GroupStats {
                group_id: g.u32("group_id")?,
                ref_count: g.u32("ref_count")?,
                packet_count: g.u64("packet_count")?,
                byte_count: g.u64("byte_count")?,
                duration_sec: g.u32("duration_sec")?,
                duration_nsec: g.u32("duration_nsec")?,
                bucket_stats: g.list("bucket_stats", |v| {
                    let c = class(v)?;
                    Ok((c.u64("packet_count")?, c.u64("byte_count")?))
                })?,
            })
        })?),
        "OFPGroupDescStatsReply" => RB::GroupDesc(entries(o, body, |g| {
            Ok(mp::GroupDesc {
                group_type: g.u8("type")?,
                group_id: g.u32("group_id")?,
                buckets: g.list("buckets", bucket)?,
            })
        })?),
        "OFPGroupFeaturesStatsReply" => {
            let g = class(body)?;
            RB::GroupFeatures(mp::GroupFeatures {
                types: g.u32("types")?,
                capabilities: g.u32("capabilities")?,
                max_groups: g.u32s("max_groups")?,
                actions: g.u32s("actions")?,
            })
        }
        "OFPMeterStatsReply" => RB::Meter(entries(o, body, |m| {
            Ok(mp::MeterStats {
                meter_id: m.u32("meter_id")?,
                flow_count: m.u32("flow_count")?,
                packet_in_count: m.u64("packet_in_count")?,
                byte_in_count: m.u64("byte_in_count")?,
                duration_sec: m.u32("duration_sec")?,
                duration_nsec: m.u32("duration_nsec")?,
                band_stats: m.list("band_stats", |v| {
                    let c = class(v)?;
                    Ok((c.u64("packet_band_count")?, c.u64("byte_band_count")?))
                })?,
            })
        })?),
        "OFPMeterConfigStatsReply" => RB::MeterConfig(entries(o, body, |m| {
            Ok(mp::MeterConfig { flags: m.u16("flags")?, meter_id: m.u32("meter_id")?, bands: m.list("bands", band)? })
        })?),
        "OFPMeterFeaturesStatsReply" => {
            let first = list()?.first().ok_or_else(|| JsonError("empty meter features".into()))?;
            let m = class(first)?;
            RB::MeterFeatures(mp::MeterFeatures {
                max_meter: m.u32("max_meter")?,
                band_types: m.u32("band_types")?,
                capabilities: m.u32("capabilities")?,
                max_bands: m.u8("max_bands")?,
                max_color: m.u8("max_color")?,
            })
        }
        "OFPTableFeaturesStatsReply" => RB::TableFeatures(list()?.iter().map(table_features).collect::<R<_>>()?),
        "OFPPortDescStatsReply" => RB::PortDesc(list()?.iter().map(port13).collect::<R<_>>()?),
        "OFPExperimenterStatsReply" => {
            let e = class(body)?;
            RB::Experimenter {
                experimenter: e.u32("experimenter")?,
                exp_type: e.u32("exp_type")?,
                data: e.bytes("data")?,
            }
        }
        _ => RB::Unknown { mp_type: o.u16("type")?, data: bytes_of(body).ok_or_else(|| JsonError("bad body".into()))? },
    };
    Ok(v1_3::MultipartReply { flags: o.u16("flags")?, body: b })
}

fn async_cfg(o: &O<'_>) -> R<v1_3::AsyncConfig> {
    Ok(v1_3::AsyncConfig {
        packet_in_mask: o.u32s("packet_in_mask")?,
        port_status_mask: o.u32s("port_status_mask")?,
        flow_removed_mask: o.u32s("flow_removed_mask")?,
    })
}

/// Builds an OpenFlow 1.3 message from its JSON form.
pub fn v1_3_from_json(v: &Value) -> R<v1_3::Message> {
    use v1_3::Message as M;
    let o = class(v)?;
    if o.name.ends_with("StatsRequest") {
        return Ok(M::MultipartRequest(mp_request(&o)?));
    }
    if o.name.ends_with("StatsReply") {
        return Ok(M::MultipartReply(mp_reply(&o)?));
    }
    let cfg = || -> R<v1_3::SwitchConfig> {
        Ok(v1_3::SwitchConfig { flags: o.u16("flags")?, miss_send_len: o.u16("miss_send_len")? })
    };
    let role = || -> R<v1_3::Role> { Ok(v1_3::Role { role: o.u32("role")?, generation_id: o.u64("generation_id")? }) };
    Ok(match o.name {
        "OFPHello" => M::Hello(hello(&o)?),
        "OFPErrorMsg" => M::Error(error(&o)?),
        "OFPEchoRequest" => M::EchoRequest(o.bytes("data")?),
        "OFPEchoReply" => M::EchoReply(o.bytes("data")?),
        "OFPExperimenter" => M::Experimenter(v1_3::Experimenter {
            experimenter: o.u32("experimenter")?,
            exp_type: o.u32("exp_type")?,
            data: o.bytes("data")?,
        }),
        "OFPFeaturesRequest" => M::FeaturesRequest,
        "OFPSwitchFeatures" => M::FeaturesReply(v1_3::SwitchFeatures {
            datapath_id: o.u64("datapath_id")?,
            n_buffers: o.u32("n_buffers")?,
            n_tables: o.u8("n_tables")?,
            auxiliary_id: o.u8("auxiliary_id")?,
            capabilities: o.u32("capabilities")?,
            reserved: 0,
        }),
        "OFPGetConfigRequest" => M::GetConfigRequest,
        "OFPGetConfigReply" => M::GetConfigReply(cfg()?),
        "OFPSetConfig" => M::SetConfig(cfg()?),
        "OFPPacketIn" => M::PacketIn(v1_3::PacketIn {
            buffer_id: o.u32("buffer_id")?,
            total_len: o.u16("total_len")?,
            reason: o.u8("reason")?,
            table_id: o.u8("table_id")?,
            cookie: o.u64("cookie")?,
            match_: match13(o.v("match")?)?,
            data: o.bytes("data")?,
        }),
        "OFPFlowRemoved" => M::FlowRemoved(v1_3::FlowRemoved {
            cookie: o.u64("cookie")?,
            priority: o.u16("priority")?,
            reason: o.u8("reason")?,
            table_id: o.u8("table_id")?,
            duration_sec: o.u32("duration_sec")?,
            duration_nsec: o.u32("duration_nsec")?,
            idle_timeout: o.u16("idle_timeout")?,
            hard_timeout: o.u16("hard_timeout")?,
            packet_count: o.u64("packet_count")?,
            byte_count: o.u64("byte_count")?,
            match_: match13(o.v("match")?)?,
        }),
        "OFPPortStatus" => M::PortStatus(v1_3::PortStatus { reason: o.u8("reason")?, desc: port13(o.v("desc")?)? }),
        "OFPPacketOut" => M::PacketOut(v1_3::PacketOut {
            buffer_id: o.u32("buffer_id")?,
            in_port: o.u32("in_port")?,
            actions: o.list("actions", action13_from_json)?,
            data: o.bytes("data")?,
        }),
        "OFPFlowMod" => M::FlowMod(v1_3::FlowMod {
            cookie: o.u64("cookie")?,
            cookie_mask: o.u64("cookie_mask")?,
            table_id: o.u8("table_id")?,
            command: o.u8("command")?,
            idle_timeout: o.u16("idle_timeout")?,
            hard_timeout: o.u16("hard_timeout")?,
            priority: o.u16("priority")?,
            buffer_id: o.u32("buffer_id")?,
            out_port: o.u32("out_port")?,
            out_group: o.u32("out_group")?,
            flags: o.u16("flags")?,
            match_: match13(o.v("match")?)?,
            instructions: o.list("instructions", instruction_from_json)?,
        }),
        "OFPGroupMod" => M::GroupMod(v1_3::GroupMod {
            command: o.u16("command")?,
            group_type: o.u8("type")?,
            group_id: o.u32("group_id")?,
            buckets: o.list("buckets", bucket)?,
        }),
        "OFPPortMod" => M::PortMod(v1_3::PortMod {
            port_no: o.u32("port_no")?,
            hw_addr: o.mac("hw_addr")?,
            config: o.u32("config")?,
            mask: o.u32("mask")?,
            advertise: o.u32("advertise")?,
        }),
        "OFPTableMod" => M::TableMod(v1_3::TableMod { table_id: o.u8("table_id")?, config: o.u32("config")? }),
        "OFPBarrierRequest" => M::BarrierRequest,
        "OFPBarrierReply" => M::BarrierReply,
        "OFPQueueGetConfigRequest" => M::QueueGetConfigRequest { port: o.u32("port")? },
        "OFPQueueGetConfigReply" => M::QueueGetConfigReply(v1_3::QueueGetConfigReply {
            port: o.u32("port")?,
            queues: o.list("queues", |v| {
                let q = class(v)?;
                Ok(v1_3::PacketQueue {
                    queue_id: q.u32("queue_id")?,
                    port: q.u32("port")?,
                    properties: q.list("properties", |v| {
                        let p = class(v)?;
                        Ok(match p.name {
                            "OFPQueuePropMinRate" => v1_3::QueueProp::MinRate(p.u16("rate")?),
                            "OFPQueuePropMaxRate" => v1_3::QueueProp::MaxRate(p.u16("rate")?),
                            "OFPQueuePropExperimenter" => v1_3::QueueProp::Experimenter {
                                experimenter: p.u32("experimenter")?,
                                data: p.bytes("data")?,
                            },
                            _ => v1_3::QueueProp::Unknown { prop_type: p.u16("property")?, data: p.bytes("data")? },
                        })
                    })?,
                })
            })?,
        }),
        "OFPRoleRequest" => M::RoleRequest(role()?),
        "OFPRoleReply" => M::RoleReply(role()?),
        "OFPGetAsyncRequest" => M::GetAsyncRequest,
        "OFPGetAsyncReply" => M::GetAsyncReply(async_cfg(&o)?),
        "OFPSetAsync" => M::SetAsync(async_cfg(&o)?),
        "OFPMeterMod" => M::MeterMod(v1_3::MeterMod {
            command: o.u16("command")?,
            flags: o.u16("flags")?,
            meter_id: o.u32("meter_id")?,
            bands: o.list("bands", band)?,
        }),
        n => return bad(format!("unknown OpenFlow 1.3 message class {}", n)),
    })
}

fn match10(v: &Value) -> R<v1_0::Match> {
    let o = class(v)?;
    let ip = |k: &str| -> R<Ipv4Addr> { o.str(k)?.parse().map_err(|_| JsonError(format!("OFPMatch.{}: bad IPv4", k))) };
    Ok(v1_0::Match {
        wildcards: o.u32("wildcards")?,
        in_port: o.u16("in_port")?,
        dl_src: o.mac("dl_src")?,
        dl_dst: o.mac("dl_dst")?,
        dl_vlan: o.u16("dl_vlan")?,
        dl_vlan_pcp: o.u8("dl_vlan_pcp")?,
        dl_type: o.u16("dl_type")?,
        nw_tos: o.u8("nw_tos")?,
        nw_proto: o.u8("nw_proto")?,
        nw_src: ip("nw_src")?,
        nw_dst: ip("nw_dst")?,
        tp_src: o.u16("tp_src")?,
        tp_dst: o.u16("tp_dst")?,
    })
}

/// A 1.0 action from its JSON form.
pub fn action10_from_json(v: &Value) -> R<v1_0::Action> {
    use v1_0::Action as A;
    let o = class(v)?;
    if o.name.starts_with("NXAction") {
        return Ok(A::Nx(nx_from_json(&o, &action10_from_json)?));
    }
    let ip =
        |k: &str| -> R<Ipv4Addr> { o.str(k)?.parse().map_err(|_| JsonError(format!("{}.{}: bad IPv4", o.name, k))) };
    Ok(match o.name {
        "OFPActionOutput" => A::Output { port: o.u16("port")?, max_len: o.u16("max_len")? },
        "OFPActionVlanVid" => A::SetVlanVid(o.u16("vlan_vid")?),
        "OFPActionVlanPcp" => A::SetVlanPcp(o.u8("vlan_pcp")?),
        "OFPActionStripVlan" => A::StripVlan,
        "OFPActionSetDlSrc" => A::SetDlSrc(o.mac("dl_addr")?),
        "OFPActionSetDlDst" => A::SetDlDst(o.mac("dl_addr")?),
        "OFPActionSetNwSrc" => A::SetNwSrc(ip("nw_addr")?),
        "OFPActionSetNwDst" => A::SetNwDst(ip("nw_addr")?),
        "OFPActionSetNwTos" => A::SetNwTos(o.u8("tos")?),
        "OFPActionSetTpSrc" => A::SetTpSrc(o.u16("tp")?),
        "OFPActionSetTpDst" => A::SetTpDst(o.u16("tp")?),
        "OFPActionEnqueue" => A::Enqueue { port: o.u16("port")?, queue_id: o.u32("queue_id")? },
        "OFPActionVendorUnknown" | "OFPActionVendor" => A::Vendor { vendor: o.u32("vendor")?, data: o.bytes("data")? },
        "OFPActionUnknown" => A::Unknown { action_type: o.u16("type")?, data: o.bytes("data")? },
        n => return bad(format!("unknown 1.0 action {}", n)),
    })
}

fn phy_port(v: &Value) -> R<v1_0::PhyPort> {
    let o = class(v)?;
    Ok(v1_0::PhyPort {
        port_no: o.u16("port_no")?,
        hw_addr: o.mac("hw_addr")?,
        name: o.fixed("name")?,
        config: o.u32("config")?,
        state: o.u32("state")?,
        curr: o.u32("curr")?,
        advertised: o.u32("advertised")?,
        supported: o.u32("supported")?,
        peer: o.u32("peer")?,
    })
}

fn stats_reply10(o: &O<'_>) -> R<v1_0::StatsReply> {
    use v1_0::StatsReplyBody as B;
    let body = o.v("body")?;
    let b = match o.name {
        "OFPDescStatsReply" => {
            let d = class(body)?;
            B::Desc(Box::new(mp::Desc {
                mfr_desc: d.fixed("mfr_desc")?,
                hw_desc: d.fixed("hw_desc")?,
                sw_desc: d.fixed("sw_desc")?,
                serial_num: d.fixed("serial_num")?,
                dp_desc: d.fixed("dp_desc")?,
            }))
        }
        "OFPFlowStatsReply" => B::Flow(entries(o, body, |f| {
            Ok(v1_0::FlowStats {
                table_id: f.u8("table_id")?,
                match_: match10(f.v("match")?)?,
                duration_sec: f.u32("duration_sec")?,
                duration_nsec: f.u32("duration_nsec")?,
                priority: f.u16("priority")?,
                idle_timeout: f.u16("idle_timeout")?,
                hard_timeout: f.u16("hard_timeout")?,
                cookie: f.u64("cookie")?,
                packet_count: f.u64("packet_count")?,
                byte_count: f.u64("byte_count")?,
                actions: f.list("actions", action10_from_json)?,
            })
        })?),
        "OFPAggregateStatsReply" => {
            let a = class(body)?;
            B::Aggregate {
                packet_count: a.u64("packet_count")?,
                byte_count: a.u64("byte_count")?,
                flow_count: a.u32("flow_count")?,
            }
        }
        "OFPTableStatsReply" => B::Table(entries(o, body, |t| {
            Ok(v1_0::TableStats {
                table_id: t.u8("table_id")?,
                name: t.fixed("name")?,
                wildcards: t.u32("wildcards")?,
                max_entries: t.u32("max_entries")?,
                active_count: t.u32("active_count")?,
                lookup_count: t.u64("lookup_count")?,
                matched_count: t.u64("matched_count")?,
            })
        })?),
        "OFPPortStatsReply" => B::Port(entries(o, body, |p| {
            let mut counters = [0u64; 12];
            for (c, k) in counters.iter_mut().zip([
                "rx_packets",
                "tx_packets",
                "rx_bytes",
                "tx_bytes",
                "rx_dropped",
                "tx_dropped",
                "rx_errors",
                "tx_errors",
                "rx_frame_err",
                "rx_over_err",
                "rx_crc_err",
                "collisions",
            ]) {
                *c = p.u64(k)?;
            }
            Ok(v1_0::PortStats { port_no: p.u16("port_no")?, counters })
        })?),
        "OFPQueueStatsReply" => B::Queue(entries(o, body, |q| {
            Ok(v1_0::QueueStats {
                port_no: q.u16("port_no")?,
                queue_id: q.u32("queue_id")?,
                tx_bytes: q.u64("tx_bytes")?,
                tx_packets: q.u64("tx_packets")?,
                tx_errors: q.u64("tx_errors")?,
            })
        })?),
        "OFPVendorStatsReply" => B::Vendor {
            vendor: body
                .get("vendor")
                .and_then(num)
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| JsonError("OFPVendorStatsReply: bad vendor".into()))?,
            data: body
                .get("data")
                .and_then(bytes_of)
                .ok_or_else(|| JsonError("OFPVendorStatsReply: bad data".into()))?,
        },
        _ => B::Unknown { stats_type: o.u16("type")?, data: body.get("data").and_then(bytes_of).unwrap_or_default() },
    };
    Ok(v1_0::StatsReply { flags: o.u16("flags")?, body: b })
}

/// Builds an OpenFlow 1.0 message from its JSON form.
pub fn v1_0_from_json(v: &Value) -> R<v1_0::Message> {
    use v1_0::Message as M;
    let o = class(v)?;
    let cfg = || -> R<v1_0::SwitchConfig> {
        Ok(v1_0::SwitchConfig { flags: o.u16("flags")?, miss_send_len: o.u16("miss_send_len")? })
    };
    let fsr = || -> R<v1_0::FlowStatsRequest> {
        Ok(v1_0::FlowStatsRequest {
            match_: match10(o.v("match")?)?,
            table_id: o.u8("table_id")?,
            out_port: o.u16("out_port")?,
        })
    };
    Ok(match o.name {
        "OFPHello" => M::Hello(hello(&o)?),
        "OFPErrorMsg" => M::Error(error(&o)?),
        "OFPEchoRequest" => M::EchoRequest(o.bytes("data")?),
        "OFPEchoReply" => M::EchoReply(o.bytes("data")?),
        "OFPVendor" => M::Vendor { vendor: o.u32("vendor")?, data: o.bytes("data")? },
        "OFPFeaturesRequest" => M::FeaturesRequest,
        "OFPSwitchFeatures" => {
            let mut ports: Vec<v1_0::PhyPort> = match o.v("ports")? {
                Value::Object(m) => m.values().map(phy_port).collect::<R<_>>()?,
                Value::Array(a) => a.iter().map(phy_port).collect::<R<_>>()?,
                _ => return bad("OFPSwitchFeatures.ports: not an object"),
            };
            // The JSON object is keyed by port number; wire order is not recoverable, use descending like the corpus.
            ports.sort_by_key(|p| std::cmp::Reverse(p.port_no));
            M::FeaturesReply(v1_0::SwitchFeatures {
                datapath_id: o.u64("datapath_id")?,
                n_buffers: o.u32("n_buffers")?,
                n_tables: o.u8("n_tables")?,
                capabilities: o.u32("capabilities")?,
                actions: o.u32("actions")?,
                ports,
            })
        }
        "OFPGetConfigRequest" => M::GetConfigRequest,
        "OFPGetConfigReply" => M::GetConfigReply(cfg()?),
        "OFPSetConfig" => M::SetConfig(cfg()?),
        "OFPPacketIn" => M::PacketIn(v1_0::PacketIn {
            buffer_id: o.u32("buffer_id")?,
            total_len: o.u16("total_len")?,
            in_port: o.u16("in_port")?,
            reason: o.u8("reason")?,
            data: o.bytes("data")?,
        }),
        "OFPFlowRemoved" => M::FlowRemoved(v1_0::FlowRemoved {
            match_: match10(o.v("match")?)?,
            cookie: o.u64("cookie")?,
            priority: o.u16("priority")?,
            reason: o.u8("reason")?,
            duration_sec: o.u32("duration_sec")?,
            duration_nsec: o.u32("duration_nsec")?,
            idle_timeout: o.u16("idle_timeout")?,
            packet_count: o.u64("packet_count")?,
            byte_count: o.u64("byte_count")?,
        }),
        "OFPPortStatus" => M::PortStatus(v1_0::PortStatus { reason: o.u8("reason")?, desc: phy_port(o.v("desc")?)? }),
        "OFPPacketOut" => M::PacketOut(v1_0::PacketOut {
            buffer_id: o.u32("buffer_id")?,
            in_port: o.u16("in_port")?,
            actions: o.list("actions", action10_from_json)?,
            data: o.bytes("data")?,
        }),
        "OFPFlowMod" => M::FlowMod(v1_0::FlowMod {
            match_: match10(o.v("match")?)?,
            cookie: o.u64("cookie")?,
            command: o.u16("command")?,
            idle_timeout: o.u16("idle_timeout")?,
            hard_timeout: o.u16("hard_timeout")?,
            priority: o.u16("priority")?,
            buffer_id: o.u32("buffer_id")?,
            out_port: o.u16("out_port")?,
            flags: o.u16("flags")?,
            actions: o.list("actions", action10_from_json)?,
        }),
        "OFPPortMod" => M::PortMod(v1_0::PortMod {
            port_no: o.u16("port_no")?,
            hw_addr: o.mac("hw_addr")?,
            config: o.u32("config")?,
            mask: o.u32("mask")?,
            advertise: o.u32("advertise")?,
        }),
        "OFPDescStatsRequest" => {
            M::StatsRequest(v1_0::StatsRequest { flags: o.u16("flags")?, body: v1_0::StatsRequestBody::Desc })
        }
        "OFPFlowStatsRequest" => {
            M::StatsRequest(v1_0::StatsRequest { flags: o.u16("flags")?, body: v1_0::StatsRequestBody::Flow(fsr()?) })
        }
        "OFPAggregateStatsRequest" => M::StatsRequest(v1_0::StatsRequest {
            flags: o.u16("flags")?,
            body: v1_0::StatsRequestBody::Aggregate(fsr()?),
        }),
        "OFPTableStatsRequest" => {
            M::StatsRequest(v1_0::StatsRequest { flags: o.u16("flags")?, body: v1_0::StatsRequestBody::Table })
        }
        "OFPPortStatsRequest" => M::StatsRequest(v1_0::StatsRequest {
            flags: o.u16("flags")?,
            body: v1_0::StatsRequestBody::Port { port_no: o.u16("port_no")? },
        }),
        "OFPQueueStatsRequest" => M::StatsRequest(v1_0::StatsRequest {
            flags: o.u16("flags")?,
            body: v1_0::StatsRequestBody::Queue { port_no: o.u16("port_no")?, queue_id: o.u32("queue_id")? },
        }),
        "OFPVendorStatsRequest" => M::StatsRequest(v1_0::StatsRequest {
            flags: o.u16("flags")?,
            body: v1_0::StatsRequestBody::Vendor { vendor: o.u32("vendor")?, data: o.bytes("specific_data")? },
        }),
        "OFPBarrierRequest" => M::BarrierRequest,
        "OFPBarrierReply" => M::BarrierReply,
        "OFPQueueGetConfigRequest" => M::QueueGetConfigRequest { port: o.u16("port")? },
        "OFPQueueGetConfigReply" => M::QueueGetConfigReply {
            port: o.u16("port")?,
            queues: o.list("queues", |v| {
                let q = class(v)?;
                Ok(v1_0::PacketQueue {
                    queue_id: q.u32("queue_id")?,
                    properties: q.list("properties", |v| {
                        let p = class(v)?;
                        Ok(match p.name {
                            "OFPQueuePropNone" => (0, Vec::new()),
                            "OFPQueuePropMinRate" => {
                                let mut d = p.u16("rate")?.to_be_bytes().to_vec();
                                d.resize(8, 0);
                                (1, d)
                            }
                            _ => (p.u16("property")?, p.bytes("data")?),
                        })
                    })?,
                })
            })?,
        },
        n if n.ends_with("StatsReply") => M::StatsReply(stats_reply10(&o)?),
        n => return bad(format!("unknown OpenFlow 1.0 message class {}", n)),
    })
}

/// Builds a message of wire `version` (1 or 4) from its Ryu-style JSON form
/// (the inverse of [`crate::to_json`]). Length fields in the JSON are ignored.
pub fn from_json(version: u8, v: &Value) -> Result<Message, JsonError> {
    match version {
        crate::OFP_VERSION_1_0 => v1_0_from_json(v).map(Message::V1_0),
        crate::OFP_VERSION_1_3 => v1_3_from_json(v).map(Message::V1_3),
        _ => bad(format!("unsupported version {}", version)),
    }
}
