//! The flow messages OpenFlow 1.5 changed: `OFPT_FLOW_REMOVED` and the flow entries of multipart replies with
//! their counters as OXS ([`Stats`]), and `OFPT_PACKET_OUT` with a match for the pipeline fields.

use super::oxs::Stats;
use crate::error::{DecodeError, EncodeError};
use crate::v1_3::action::{self, port, Action};
use crate::v1_3::instruction::{self, Instruction};
use crate::v1_3::{Match, OxmField, OFP_NO_BUFFER};
use crate::wire::{Put, Reader};

/// `OFPT_FLOW_REMOVED` body of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowRemoved {
    /// Table id.
    pub table_id: u8,
    /// `OFPRR_*` reason.
    pub reason: u8,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Cookie.
    pub cookie: u64,
    /// Match.
    pub match_: Match,
    /// Counters (duration, packets, bytes...).
    pub stats: Stats,
}

impl FlowRemoved {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowRemoved, DecodeError> {
        Ok(FlowRemoved {
            table_id: r.u8()?,
            reason: r.u8()?,
            priority: r.u16()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            cookie: r.u64()?,
            match_: Match::parse(r)?,
            stats: Stats::parse(r)?,
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u8(self.table_id);
        out.put_u8(self.reason);
        out.put_u16(self.priority);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u64(self.cookie);
        self.match_.emit(out)?;
        self.stats.emit(out)
    }
}

/// `ofp_flow_desc`: an entry of an `OFPMP_FLOW_DESC` reply.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowDesc {
    /// Table id.
    pub table_id: u8,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Eviction precedence.
    pub importance: u16,
    /// Cookie.
    pub cookie: u64,
    /// Match.
    pub match_: Match,
    /// Counters.
    pub stats: Stats,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

/// Reads an entry's 16-bit length and returns a reader over the rest of the entry.
fn entry<'a>(r: &mut Reader<'a>, what: &str, min: usize) -> Result<Reader<'a>, DecodeError> {
    let start = r.offset();
    let len = r.u16()? as usize;
    if len < min {
        return Err(r.err_at(start, format!("{} length {} is shorter than {}", what, len, min)));
    }
    r.sub(len - 2).map_err(|_| r.err_at(start, format!("{} length {} exceeds the message", what, len)))
}

impl FlowDesc {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowDesc, DecodeError> {
        let mut b = entry(r, "flow description", 32)?;
        b.skip(2)?;
        let table_id = b.u8()?;
        b.skip(1)?;
        Ok(FlowDesc {
            table_id,
            priority: b.u16()?,
            idle_timeout: b.u16()?,
            hard_timeout: b.u16()?,
            flags: b.u16()?,
            importance: b.u16()?,
            cookie: b.u64()?,
            match_: Match::parse(&mut b)?,
            stats: Stats::parse(&mut b)?,
            instructions: instruction::parse_instructions(&mut b)?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_zeros(2);
        out.put_u8(self.table_id);
        out.put_u8(0);
        for v in [self.priority, self.idle_timeout, self.hard_timeout, self.flags, self.importance] {
            out.put_u16(v);
        }
        out.put_u64(self.cookie);
        self.match_.emit(out)?;
        self.stats.emit(out)?;
        instruction::emit_instructions(&self.instructions, out)?;
        out.set_len16(start, start, "a flow description")
    }
}

/// `ofp_flow_stats` of OpenFlow 1.5: an entry of an `OFPMP_FLOW_STATS` reply (counters only).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowStats {
    /// Table id.
    pub table_id: u8,
    /// `OFPFSR_*` reason (request, stat trigger).
    pub reason: u8,
    /// Priority.
    pub priority: u16,
    /// Match.
    pub match_: Match,
    /// Counters.
    pub stats: Stats,
}

impl FlowStats {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowStats, DecodeError> {
        let mut b = entry(r, "flow stats", 24)?;
        b.skip(2)?;
        Ok(FlowStats {
            table_id: b.u8()?,
            reason: b.u8()?,
            priority: b.u16()?,
            match_: Match::parse(&mut b)?,
            stats: Stats::parse(&mut b)?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_zeros(2);
        out.put_u8(self.table_id);
        out.put_u8(self.reason);
        out.put_u16(self.priority);
        self.match_.emit(out)?;
        self.stats.emit(out)?;
        out.set_len16(start, start, "a flow stats entry")
    }
}

/// `OFPT_PACKET_OUT` body of OpenFlow 1.5: the ingress port and other pipeline fields are a match.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PacketOut {
    /// Buffer id, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Pipeline fields (`in_port` at least).
    pub match_: Match,
    /// Actions.
    pub actions: Vec<Action>,
    /// Frame data (when not buffered).
    pub data: Vec<u8>,
}

impl PacketOut {
    /// Sends `data` (unbuffered) with the given actions, in port `OFPP_CONTROLLER`.
    pub fn new(data: impl Into<Vec<u8>>, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut {
            buffer_id: OFP_NO_BUFFER,
            match_: Match::new().in_port(port::CONTROLLER),
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }
    /// The `in_port` of the match, if any.
    pub fn in_port(&self) -> Option<u32> {
        self.match_.get(OxmField::InPort).map(|o| o.value_u64() as u32)
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketOut, DecodeError> {
        let buffer_id = r.u32()?;
        let at = r.offset();
        let alen = r.u16()? as usize;
        r.skip(2)?;
        let match_ = Match::parse(r)?;
        let mut ar = r.sub(alen).map_err(|_| r.err_at(at, format!("actions_len {} exceeds the message", alen)))?;
        let actions = action::parse_actions(&mut ar)?;
        Ok(PacketOut { buffer_id, match_, actions, data: r.rest().to_vec() })
    }
    /// Appends the body; fails if the actions are longer than their length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.buffer_id);
        let at = out.len();
        out.put_u16(0);
        out.put_zeros(2);
        self.match_.emit(out)?;
        let s = out.len();
        action::emit_actions(&self.actions, out)?;
        out.set_len16(at, s, "the actions of a packet-out")?;
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// JSON of `OFPFlowRemoved`, `OFPFlowDesc`, `OFPFlowStats` and `OFPPacketOut` (1.5 forms).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::super::oxs::json::{stats_from_json, stats_json};
    use super::{FlowDesc, FlowRemoved, FlowStats, PacketOut};
    use crate::json::{base64, cls, part_len, parts_len, Obj, R};
    use crate::v1_3::action::json::{action13_from_json, actions13};
    use crate::v1_3::instruction::json::{instruction_from_json, instructions};
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use crate::v1_3::Action;
    use serde_json::{json, Value};

    impl FlowRemoved {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowRemoved",
                json!({"table_id": f.table_id, "reason": f.reason, "priority": f.priority, "idle_timeout": f.idle_timeout,
                       "hard_timeout": f.hard_timeout, "cookie": f.cookie, "match": match13_json(&f.match_),
                       "stats": stats_json(&f.stats)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowRemoved> {
            Ok(FlowRemoved {
                table_id: o.u8("table_id")?,
                reason: o.u8("reason")?,
                priority: o.u16("priority")?,
                idle_timeout: o.u16("idle_timeout")?,
                hard_timeout: o.u16("hard_timeout")?,
                cookie: o.u64("cookie")?,
                match_: match13_from_json(o.v("match")?)?,
                stats: stats_from_json(o.v("stats")?)?,
            })
        }
    }

    impl FlowDesc {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowDesc",
                json!({"length": part_len(|b| f.emit(b)), "table_id": f.table_id, "priority": f.priority,
                       "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "flags": f.flags,
                       "importance": f.importance, "cookie": f.cookie, "match": match13_json(&f.match_),
                       "stats": stats_json(&f.stats), "instructions": instructions(&f.instructions)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowDesc> {
            Ok(FlowDesc {
                table_id: o.u8("table_id")?,
                priority: o.u16("priority")?,
                idle_timeout: o.u16("idle_timeout")?,
                hard_timeout: o.u16("hard_timeout")?,
                flags: o.u16("flags")?,
                importance: o.u16("importance")?,
                cookie: o.u64("cookie")?,
                match_: match13_from_json(o.v("match")?)?,
                stats: stats_from_json(o.v("stats")?)?,
                instructions: o.list("instructions", instruction_from_json)?,
            })
        }
    }

    impl FlowStats {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowStats",
                json!({"length": part_len(|b| f.emit(b)), "table_id": f.table_id, "reason": f.reason,
                       "priority": f.priority, "match": match13_json(&f.match_), "stats": stats_json(&f.stats)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowStats> {
            Ok(FlowStats {
                table_id: o.u8("table_id")?,
                reason: o.u8("reason")?,
                priority: o.u16("priority")?,
                match_: match13_from_json(o.v("match")?)?,
                stats: stats_from_json(o.v("stats")?)?,
            })
        }
    }

    impl PacketOut {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            let alen = parts_len(0, &p.actions, Action::emit).filter(|n| u16::try_from(*n).is_ok());
            cls(
                "OFPPacketOut",
                json!({"buffer_id": p.buffer_id, "actions_len": alen, "match": match13_json(&p.match_),
                       "actions": actions13(&p.actions), "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketOut> {
            Ok(PacketOut {
                buffer_id: o.u32("buffer_id")?,
                match_: match13_from_json(o.v("match")?)?,
                actions: o.list("actions", action13_from_json)?,
                data: o.bytes("data")?,
            })
        }
    }
}
