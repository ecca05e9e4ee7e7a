//! OpenFlow 1.3 instructions (`ofp_instruction_*`).

use super::action::{emit_actions, parse_actions, Action};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// Instruction type numbers (`OFPIT_*`).
#[allow(missing_docs)]
pub mod instruction_type {
    pub const GOTO_TABLE: u16 = 1;
    pub const WRITE_METADATA: u16 = 2;
    pub const WRITE_ACTIONS: u16 = 3;
    pub const APPLY_ACTIONS: u16 = 4;
    pub const CLEAR_ACTIONS: u16 = 5;
    pub const METER: u16 = 6;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// An OpenFlow 1.3 instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Instruction {
    /// Go to a table.
    GotoTable(u8),
    /// Write metadata under a mask.
    WriteMetadata {
        /// Value.
        metadata: u64,
        /// Mask.
        mask: u64,
    },
    /// Merge actions into the action set.
    WriteActions(Vec<Action>),
    /// Apply actions immediately.
    ApplyActions(Vec<Action>),
    /// Clear the action set.
    ClearActions,
    /// Apply a meter.
    Meter(u32),
    /// Experimenter instruction; `data` follows the experimenter id. Encoded padded with zeros to a multiple
    /// of 8 bytes, as every instruction is (and as switches check); a decoded instruction keeps that padding
    /// in `data`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown instruction type; body after type/len, padded with zeros to a multiple of 8 bytes when encoded.
    Unknown {
        /// Instruction type.
        instruction_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl Instruction {
    /// Wire type.
    pub fn instruction_type(&self) -> u16 {
        use instruction_type::*;
        match self {
            Instruction::GotoTable(_) => GOTO_TABLE,
            Instruction::WriteMetadata { .. } => WRITE_METADATA,
            Instruction::WriteActions(_) => WRITE_ACTIONS,
            Instruction::ApplyActions(_) => APPLY_ACTIONS,
            Instruction::ClearActions => CLEAR_ACTIONS,
            Instruction::Meter(_) => METER,
            Instruction::Experimenter { .. } => EXPERIMENTER,
            Instruction::Unknown { instruction_type, .. } => *instruction_type,
        }
    }

    /// Parses one instruction.
    pub fn parse(r: &mut Reader<'_>) -> Result<Instruction, DecodeError> {
        use instruction_type::*;
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 8 || !len.is_multiple_of(8) {
            return Err(r.err_at(start + 2, format!("instruction length {} is not a positive multiple of 8", len)));
        }
        let mut b = r
            .sub(len - 4)
            .map_err(|_| r.err_at(start + 2, format!("instruction length {} exceeds the message", len)))?;
        let ctx = b.ctx();
        let fixed = |want: usize| -> Result<(), DecodeError> {
            if len != want {
                Err(DecodeError::new(
                    ctx,
                    start + 2,
                    format!("instruction type {} length {} should be {}", t, len, want),
                ))
            } else {
                Ok(())
            }
        };
        Ok(match t {
            GOTO_TABLE => {
                fixed(8)?;
                Instruction::GotoTable(b.u8()?)
            }
            WRITE_METADATA => {
                fixed(24)?;
                b.skip(4)?;
                Instruction::WriteMetadata { metadata: b.u64()?, mask: b.u64()? }
            }
            WRITE_ACTIONS | APPLY_ACTIONS => {
                b.skip(4)?;
                let a = parse_actions(&mut b)?;
                if t == WRITE_ACTIONS {
                    Instruction::WriteActions(a)
                } else {
                    Instruction::ApplyActions(a)
                }
            }
            CLEAR_ACTIONS => {
                fixed(8)?;
                Instruction::ClearActions
            }
            METER => {
                fixed(8)?;
                Instruction::Meter(b.u32()?)
            }
            EXPERIMENTER => Instruction::Experimenter { experimenter: b.u32()?, data: b.rest().to_vec() },
            _ => Instruction::Unknown { instruction_type: t, data: b.rest().to_vec() },
        })
    }

    /// Appends the instruction, padded to a multiple of 8 bytes; fails if it (or an action in it) is longer
    /// than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(self.instruction_type());
        out.put_u16(0);
        match self {
            Instruction::GotoTable(t) => {
                out.put_u8(*t);
                out.put_zeros(3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                out.put_zeros(4);
                out.put_u64(*metadata);
                out.put_u64(*mask);
            }
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                out.put_zeros(4);
                emit_actions(a, out)?;
            }
            Instruction::ClearActions => out.put_zeros(4),
            Instruction::Meter(m) => out.put_u32(*m),
            Instruction::Experimenter { experimenter, data } => {
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
            }
            Instruction::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.pad8_from(start);
        out.set_len16(start + 2, start, "an instruction")
    }
}

/// Parses instructions until `r` is exhausted.
pub fn parse_instructions(r: &mut Reader<'_>) -> Result<Vec<Instruction>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(Instruction::parse(r)?);
    }
    Ok(v)
}

/// Appends instructions; fails if one is longer than its length field holds.
pub fn emit_instructions(list: &[Instruction], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    list.iter().try_for_each(|i| i.emit(out))
}

/// JSON of the instructions (`OFPInstruction*`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::Instruction;
    use crate::json::{bad, base64, class, cls, ext, part_len, R};
    use crate::v1_3::action::json::{action13_from_json, actions13};
    use serde_json::{json, Value};

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
            Instruction::Unknown { data, .. } => {
                if crate::json::version() >= crate::OFP_VERSION_1_5 {
                    if let Some(v) = crate::v1_5::actions::json::instruction15_json(i, base.clone()) {
                        return v;
                    }
                }
                ("OFPInstructionUnknown", json!({"data": base64(data)}))
            }
        };
        cls(name, ext(base, f))
    }

    /// A list of instructions.
    pub(crate) fn instructions(v: &[Instruction]) -> Value {
        json!(v.iter().map(instruction_json).collect::<Vec<_>>())
    }

    /// An instruction from its JSON form.
    pub(crate) fn instruction_from_json(v: &Value) -> R<Instruction> {
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
            "OFPInstructionUnknown" => {
                Instruction::Unknown { instruction_type: o.u16("type")?, data: o.bytes("data")? }
            }
            n => match crate::v1_5::actions::json::instruction15_from_json(&o)? {
                Some(i) if crate::json::version() >= crate::OFP_VERSION_1_5 => i,
                _ => return bad(format!("unknown instruction {}", n)),
            },
        })
    }
}
