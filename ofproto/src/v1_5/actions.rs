//! The actions and the instruction OpenFlow 1.5 adds: `OFPAT_COPY_FIELD`, `OFPAT_METER` and
//! `OFPIT_STAT_TRIGGER`.
//!
//! Messages hold 1.3's [`Action`] and [`Instruction`], which keep these as `Unknown` with their exact bytes
//! (1.3 has no such types); [`CopyField`], [`MeterAction`] and [`StatTrigger`] read them from there and build
//! them. The JSON of a 1.5 message shows them as Ryu does (`OFPActionCopyField`, `OFPActionMeter`,
//! `OFPInstructionStatTrigger`).

use super::oxs::Stats;
use crate::error::{DecodeError, EncodeError};
use crate::v1_3::{Action, Instruction};
use crate::wire::{Put, Reader};

/// `OFPAT_COPY_FIELD`.
pub const OFPAT_COPY_FIELD: u16 = 28;
/// `OFPAT_METER`.
pub const OFPAT_METER: u16 = 29;
/// `OFPIT_STAT_TRIGGER`.
pub const OFPIT_STAT_TRIGGER: u16 = 7;

/// `ofp_action_copy_field`: copies `n_bits` from one OXM field to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyField {
    /// Bits to copy.
    pub n_bits: u16,
    /// Offset in the source field.
    pub src_offset: u16,
    /// Offset in the destination field.
    pub dst_offset: u16,
    /// Source OXM header (class, field, mask bit, length).
    pub src: u32,
    /// Destination OXM header.
    pub dst: u32,
}

impl CopyField {
    /// The copy-field in `a`, if `a` is one (with two 32-bit OXM ids).
    pub fn from_action(a: &Action) -> Option<CopyField> {
        match a {
            Action::Unknown { action_type: OFPAT_COPY_FIELD, data } => {
                let mut r = Reader::new(data, 4, "OFPAT_COPY_FIELD");
                let c = CopyField {
                    n_bits: r.u16().ok()?,
                    src_offset: r.u16().ok()?,
                    dst_offset: r.u16().ok()?,
                    src: r.skip(2).and_then(|()| r.u32()).ok()?,
                    dst: r.u32().ok()?,
                };
                r.rest().iter().all(|b| *b == 0).then_some(c)
            }
            _ => None,
        }
    }
    /// The action (24 bytes with its padding).
    pub fn to_action(&self) -> Action {
        let mut data = Vec::with_capacity(20);
        data.put_u16(self.n_bits);
        data.put_u16(self.src_offset);
        data.put_u16(self.dst_offset);
        data.put_zeros(2);
        data.put_u32(self.src);
        data.put_u32(self.dst);
        data.put_zeros(4);
        Action::Unknown { action_type: OFPAT_COPY_FIELD, data }
    }
}

/// `ofp_action_meter`: sends the packet through a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterAction {
    /// Meter id.
    pub meter_id: u32,
}

impl MeterAction {
    /// The meter action in `a`, if `a` is one.
    pub fn from_action(a: &Action) -> Option<MeterAction> {
        match a {
            Action::Unknown { action_type: OFPAT_METER, data } => {
                <[u8; 4]>::try_from(data.as_slice()).ok().map(|b| MeterAction { meter_id: u32::from_be_bytes(b) })
            }
            _ => None,
        }
    }
    /// The action (8 bytes).
    pub fn to_action(&self) -> Action {
        Action::Unknown { action_type: OFPAT_METER, data: self.meter_id.to_be_bytes().to_vec() }
    }
}

/// `ofp_instruction_stat_trigger`: statistics events when counters cross thresholds.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StatTrigger {
    /// `OFPSTF_PERIODIC` (1), `OFPSTF_ONLY_FIRST` (2).
    pub flags: u32,
    /// The thresholds, as OXS.
    pub thresholds: Stats,
}

impl StatTrigger {
    fn parse(data: &[u8]) -> Result<StatTrigger, DecodeError> {
        let mut r = Reader::new(data, 4, "OFPIT_STAT_TRIGGER");
        let t = StatTrigger { flags: r.u32()?, thresholds: Stats::parse(&mut r)? };
        if !r.is_empty() {
            return Err(r.err("trailing bytes after the thresholds"));
        }
        Ok(t)
    }
    /// The stat trigger in `i`, if `i` is one.
    pub fn from_instruction(i: &Instruction) -> Option<StatTrigger> {
        match i {
            Instruction::Unknown { instruction_type: OFPIT_STAT_TRIGGER, data } => Self::parse(data).ok(),
            _ => None,
        }
    }
    /// The instruction; fails if the thresholds do not fit their length field.
    pub fn to_instruction(&self) -> Result<Instruction, EncodeError> {
        let mut data = Vec::new();
        data.put_u32(self.flags);
        self.thresholds.emit(&mut data)?;
        Ok(Instruction::Unknown { instruction_type: OFPIT_STAT_TRIGGER, data })
    }
}

/// JSON of the 1.5 actions and instruction (used by 1.3's action and instruction JSON in 1.5 messages).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::super::oxs::json::{stats_from_json, stats_json};
    use super::{CopyField, MeterAction, StatTrigger};
    use crate::json::{class, cls, ext, hex_header, Obj, R};
    use crate::v1_3::oxm::header_name;
    use crate::v1_3::{Action, Instruction};
    use serde_json::{json, Value};

    fn oxm_id_json(h: u32) -> Value {
        let name = header_name(h).map(str::to_string).unwrap_or_else(|| format!("field_0x{:08x}", h & 0xffff_fe00));
        cls("OFPOxmId", json!({"type": name, "hasmask": (h >> 8) & 1, "length": h & 0xff}))
    }

    fn oxm_id_from_json(v: &Value) -> R<u32> {
        let o = class(v)?;
        let name = o.str("type")?;
        let base = match hex_header(name) {
            Some(h) => h & 0xffff_fe00,
            None => {
                crate::v1_3::oxm::json::field_by_name(name)
                    .ok_or_else(|| crate::json::JsonError(format!("unknown OXM id {}", name)))?
                    .header(false)
                    & 0xffff_fe00
            }
        };
        Ok(base | (o.u32("hasmask")? & 1) << 8 | (o.u32("length")? & 0xff))
    }

    /// Ryu's class and fields of a 1.5 action held as `Unknown`, if `a` is one.
    pub(crate) fn action15_json(a: &Action) -> Option<(&'static str, Value)> {
        if let Some(c) = CopyField::from_action(a) {
            return Some((
                "OFPActionCopyField",
                json!({"n_bits": c.n_bits, "src_offset": c.src_offset, "dst_offset": c.dst_offset,
                       "oxm_ids": [oxm_id_json(c.src), oxm_id_json(c.dst)]}),
            ));
        }
        MeterAction::from_action(a).map(|m| ("OFPActionMeter", json!({ "meter_id": m.meter_id })))
    }

    /// A 1.5 action from its class, if `o` is one.
    pub(crate) fn action15_from_json(o: &Obj<'_>) -> R<Option<Action>> {
        Ok(match o.name {
            "OFPActionCopyField" => {
                let ids = o.list("oxm_ids", oxm_id_from_json)?;
                let (Some(&src), Some(&dst), 2) = (ids.first(), ids.get(1), ids.len()) else {
                    return Err(crate::json::JsonError("OFPActionCopyField.oxm_ids: want two ids".into()));
                };
                let c = CopyField {
                    n_bits: o.u16("n_bits")?,
                    src_offset: o.u16("src_offset")?,
                    dst_offset: o.u16("dst_offset")?,
                    src,
                    dst,
                };
                Some(c.to_action())
            }
            "OFPActionMeter" => Some(MeterAction { meter_id: o.u32("meter_id")? }.to_action()),
            _ => None,
        })
    }

    /// `{"OFPInstructionStatTrigger": ...}` of an instruction held as `Unknown`, if `i` is one; `base` has its
    /// type and length.
    pub(crate) fn instruction15_json(i: &Instruction, base: Value) -> Option<Value> {
        StatTrigger::from_instruction(i).map(|t| {
            cls(
                "OFPInstructionStatTrigger",
                ext(base, json!({"flags": t.flags, "thresholds": stats_json(&t.thresholds)})),
            )
        })
    }

    /// A 1.5 instruction from its class, if `o` is one.
    pub(crate) fn instruction15_from_json(o: &Obj<'_>) -> R<Option<Instruction>> {
        if o.name != "OFPInstructionStatTrigger" {
            return Ok(None);
        }
        let t = StatTrigger { flags: o.u32("flags")?, thresholds: stats_from_json(o.v("thresholds")?)? };
        t.to_instruction().map(Some).map_err(|e| crate::json::JsonError(e.to_string()))
    }
}
