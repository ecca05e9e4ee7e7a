//! Flow table entries: `OFPT_FLOW_MOD` and `OFPT_FLOW_REMOVED`.

use super::action::{port, Action};
use super::instruction::{self, Instruction};
use super::oxm::Match;
use super::{OFPG_ANY, OFPTT_ALL, OFP_DEFAULT_PRIORITY, OFP_NO_BUFFER};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// Flow-mod commands (`OFPFC_*`).
#[allow(missing_docs)]
pub mod flow_mod_command {
    pub const ADD: u8 = 0;
    pub const MODIFY: u8 = 1;
    pub const MODIFY_STRICT: u8 = 2;
    pub const DELETE: u8 = 3;
    pub const DELETE_STRICT: u8 = 4;
}

/// Flow-mod flags (`OFPFF_*`).
#[allow(missing_docs)]
pub mod flow_mod_flags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const RESET_COUNTS: u16 = 1 << 2;
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// `OFPT_FLOW_MOD` body.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMod {
    /// Cookie.
    pub cookie: u64,
    /// Cookie mask (modify/delete).
    pub cookie_mask: u64,
    /// Table id.
    pub table_id: u8,
    /// `OFPFC_*`.
    pub command: u8,
    /// Idle timeout (s).
    pub idle_timeout: u16,
    /// Hard timeout (s).
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffer to apply to, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Out port filter (delete).
    pub out_port: u32,
    /// Out group filter (delete).
    pub out_group: u32,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Match.
    pub match_: Match,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id: 0,
            command: flow_mod_command::ADD,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: OFP_DEFAULT_PRIORITY,
            buffer_id: OFP_NO_BUFFER,
            out_port: port::ANY,
            out_group: OFPG_ANY,
            flags: 0,
            match_: Match::default(),
            instructions: Vec::new(),
        }
    }
}

impl FlowMod {
    /// An `OFPFC_ADD` for `m` (priority 0x8000, no buffer, table 0).
    pub fn add(m: Match) -> FlowMod {
        FlowMod { match_: m, ..Default::default() }
    }
    /// An `OFPFC_MODIFY` for `m`.
    pub fn modify(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::MODIFY, ..Default::default() }
    }
    /// An `OFPFC_DELETE` for `m` in all tables.
    pub fn delete(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::DELETE, table_id: OFPTT_ALL, ..Default::default() }
    }
    /// An `OFPFC_DELETE_STRICT` for `m`.
    pub fn delete_strict(m: Match) -> FlowMod {
        FlowMod { match_: m, command: flow_mod_command::DELETE_STRICT, ..Default::default() }
    }
    /// Sets the priority.
    pub fn priority(mut self, p: u16) -> Self {
        self.priority = p;
        self
    }
    /// Sets the idle timeout.
    pub fn idle_timeout(mut self, t: u16) -> Self {
        self.idle_timeout = t;
        self
    }
    /// Sets the hard timeout.
    pub fn hard_timeout(mut self, t: u16) -> Self {
        self.hard_timeout = t;
        self
    }
    /// Sets the cookie.
    pub fn cookie(mut self, c: u64) -> Self {
        self.cookie = c;
        self
    }
    /// Sets the table.
    pub fn table(mut self, t: u8) -> Self {
        self.table_id = t;
        self
    }
    /// Sets the flags.
    pub fn flags(mut self, f: u16) -> Self {
        self.flags = f;
        self
    }
    /// Sets `OFPFF_SEND_FLOW_REM`.
    pub fn send_flow_removed(mut self) -> Self {
        self.flags |= flow_mod_flags::SEND_FLOW_REM;
        self
    }
    /// Applies the flow to a buffered packet.
    pub fn buffer_id(mut self, b: u32) -> Self {
        self.buffer_id = b;
        self
    }
    /// Adds an instruction.
    pub fn instruction(mut self, i: Instruction) -> Self {
        self.instructions.push(i);
        self
    }
    /// Adds an apply-actions instruction.
    pub fn apply_actions(self, a: impl IntoIterator<Item = Action>) -> Self {
        self.instruction(Instruction::ApplyActions(a.into_iter().collect()))
    }
    /// Adds a write-actions instruction.
    pub fn write_actions(self, a: impl IntoIterator<Item = Action>) -> Self {
        self.instruction(Instruction::WriteActions(a.into_iter().collect()))
    }
    /// Adds a goto-table instruction.
    pub fn goto_table(self, t: u8) -> Self {
        self.instruction(Instruction::GotoTable(t))
    }
    /// Adds a meter instruction.
    pub fn meter(self, m: u32) -> Self {
        self.instruction(Instruction::Meter(m))
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowMod, DecodeError> {
        Self::parse_with_importance(r).map(|(f, _)| f)
    }
    /// Parses the body, returning the 16 bits after `flags` too: padding in 1.3, `importance` from 1.4 on.
    pub(crate) fn parse_with_importance(r: &mut Reader<'_>) -> Result<(FlowMod, u16), DecodeError> {
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let table_id = r.u8()?;
        let command = r.u8()?;
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let priority = r.u16()?;
        let buffer_id = r.u32()?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        let flags = r.u16()?;
        let importance = r.u16()?;
        let match_ = Match::parse(r)?;
        let instructions = instruction::parse_instructions(r)?;
        let f = FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags,
            match_,
            instructions,
        };
        Ok((f, importance))
    }
    /// Appends the body; fails if the match or an instruction is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.emit_with_importance(0, out)
    }
    /// Appends the body with `importance` in the 16 bits after `flags` (padding in 1.3).
    pub(crate) fn emit_with_importance(&self, importance: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u64(self.cookie);
        out.put_u64(self.cookie_mask);
        out.put_u8(self.table_id);
        out.put_u8(self.command);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.priority);
        out.put_u32(self.buffer_id);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_u16(self.flags);
        out.put_u16(importance);
        self.match_.emit(out)?;
        instruction::emit_instructions(&self.instructions, out)
    }
}

/// `OFPT_FLOW_REMOVED` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowRemoved {
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// `OFPRR_*` reason.
    pub reason: u8,
    /// Table id.
    pub table_id: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Match.
    pub match_: Match,
}

impl FlowRemoved {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowRemoved, DecodeError> {
        Ok(FlowRemoved {
            cookie: r.u64()?,
            priority: r.u16()?,
            reason: r.u8()?,
            table_id: r.u8()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            match_: Match::parse(r)?,
        })
    }
    /// Appends the body; fails if the match is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u64(self.cookie);
        out.put_u16(self.priority);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        self.match_.emit(out)
    }
}

/// JSON of the flow messages (`OFPFlowMod`, `OFPFlowRemoved`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{FlowMod, FlowRemoved};
    use crate::json::{cls, Obj, R};
    use crate::v1_3::instruction::json::{instruction_from_json, instructions};
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use serde_json::{json, Value};

    impl FlowMod {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowMod",
                json!({"cookie": f.cookie, "cookie_mask": f.cookie_mask, "table_id": f.table_id, "command": f.command,
                       "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "priority": f.priority,
                       "buffer_id": f.buffer_id, "out_port": f.out_port, "out_group": f.out_group, "flags": f.flags,
                       "match": match13_json(&f.match_), "instructions": instructions(&f.instructions)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowMod> {
            Ok(FlowMod {
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
                match_: match13_from_json(o.v("match")?)?,
                instructions: o.list("instructions", instruction_from_json)?,
            })
        }
    }

    impl FlowRemoved {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowRemoved",
                json!({"cookie": f.cookie, "priority": f.priority, "reason": f.reason, "table_id": f.table_id,
                       "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec, "idle_timeout": f.idle_timeout,
                       "hard_timeout": f.hard_timeout, "packet_count": f.packet_count, "byte_count": f.byte_count,
                       "match": match13_json(&f.match_)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowRemoved> {
            Ok(FlowRemoved {
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
                match_: match13_from_json(o.v("match")?)?,
            })
        }
    }
}
