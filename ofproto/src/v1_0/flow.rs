//! Flow table entries: `OFPT_FLOW_MOD` and `OFPT_FLOW_REMOVED`.

use super::action::Action;
use super::flow_match::Match;
use super::{port, NO_BUFFER};
use crate::error::{DecodeError, EncodeError};
use crate::nx::ActionList;
use crate::wire::{Put, Reader};

/// `OFPT_FLOW_MOD` body.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMod {
    /// Match.
    pub match_: Match,
    /// Cookie.
    pub cookie: u64,
    /// `OFPFC_*`.
    pub command: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffer id.
    pub buffer_id: u32,
    /// Out port filter.
    pub out_port: u16,
    /// `OFPFF_*`.
    pub flags: u16,
    /// Actions.
    pub actions: Vec<Action>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            match_: Match::new(),
            cookie: 0,
            command: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: 0x8000,
            buffer_id: NO_BUFFER,
            out_port: port::NONE,
            flags: 0,
            actions: Vec::new(),
        }
    }
}

impl FlowMod {
    /// An `OFPFC_ADD`.
    pub fn add(m: Match) -> FlowMod {
        FlowMod { match_: m, ..Default::default() }
    }
    /// An `OFPFC_MODIFY`.
    pub fn modify(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 1, ..Default::default() }
    }
    /// An `OFPFC_DELETE`.
    pub fn delete(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 3, ..Default::default() }
    }
    /// An `OFPFC_DELETE_STRICT`.
    pub fn delete_strict(m: Match) -> FlowMod {
        FlowMod { match_: m, command: 4, ..Default::default() }
    }
    /// Sets `OFPFF_SEND_FLOW_REM`.
    pub fn send_flow_removed(mut self) -> Self {
        self.flags |= 1;
        self
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
    /// Sets the flags.
    pub fn flags(mut self, f: u16) -> Self {
        self.flags = f;
        self
    }
    /// Applies to a buffered packet.
    pub fn buffer_id(mut self, b: u32) -> Self {
        self.buffer_id = b;
        self
    }
    /// Sets the actions.
    pub fn actions(mut self, a: impl IntoIterator<Item = Action>) -> Self {
        self.actions = a.into_iter().collect();
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowMod, DecodeError> {
        let match_ = Match::parse(r)?;
        Ok(FlowMod {
            match_,
            cookie: r.u64()?,
            command: r.u16()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            priority: r.u16()?,
            buffer_id: r.u32()?,
            out_port: r.u16()?,
            flags: r.u16()?,
            actions: Action::parse_list(r)?,
        })
    }
    /// Appends the body; fails if an action is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.match_.emit(out);
        out.put_u64(self.cookie);
        out.put_u16(self.command);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.priority);
        out.put_u32(self.buffer_id);
        out.put_u16(self.out_port);
        out.put_u16(self.flags);
        Action::emit_list(&self.actions, out)
    }
}

/// `OFPT_FLOW_REMOVED` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowRemoved {
    /// Match.
    pub match_: Match,
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// `OFPRR_*`.
    pub reason: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
}

impl FlowRemoved {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowRemoved, DecodeError> {
        let match_ = Match::parse(r)?;
        let cookie = r.u64()?;
        let priority = r.u16()?;
        let reason = r.u8()?;
        r.skip(1)?;
        let duration_sec = r.u32()?;
        let duration_nsec = r.u32()?;
        let idle_timeout = r.u16()?;
        r.skip(2)?;
        Ok(FlowRemoved {
            match_,
            cookie,
            priority,
            reason,
            duration_sec,
            duration_nsec,
            idle_timeout,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        self.match_.emit(out);
        out.put_u64(self.cookie);
        out.put_u16(self.priority);
        out.put_u8(self.reason);
        out.put_u8(0);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.idle_timeout);
        out.put_zeros(2);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
    }
}

/// JSON of the flow messages (`OFPFlowMod`, `OFPFlowRemoved`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{FlowMod, FlowRemoved};
    use crate::json::{cls, Obj, R};
    use crate::v1_0::action::json::{action10_from_json, actions10};
    use crate::v1_0::flow_match::json::{match10_from_json, match10_json};
    use serde_json::{json, Value};

    impl FlowMod {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowMod",
                json!({"match": match10_json(&f.match_), "cookie": f.cookie, "command": f.command, "idle_timeout": f.idle_timeout,
                       "hard_timeout": f.hard_timeout, "priority": f.priority, "buffer_id": f.buffer_id, "out_port": f.out_port,
                       "flags": f.flags, "actions": actions10(&f.actions)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowMod> {
            Ok(FlowMod {
                match_: match10_from_json(o.v("match")?)?,
                cookie: o.u64("cookie")?,
                command: o.u16("command")?,
                idle_timeout: o.u16("idle_timeout")?,
                hard_timeout: o.u16("hard_timeout")?,
                priority: o.u16("priority")?,
                buffer_id: o.u32("buffer_id")?,
                out_port: o.u16("out_port")?,
                flags: o.u16("flags")?,
                actions: o.list("actions", action10_from_json)?,
            })
        }
    }

    impl FlowRemoved {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPFlowRemoved",
                json!({"match": match10_json(&f.match_), "cookie": f.cookie, "priority": f.priority, "reason": f.reason,
                       "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec, "idle_timeout": f.idle_timeout,
                       "packet_count": f.packet_count, "byte_count": f.byte_count}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<FlowRemoved> {
            Ok(FlowRemoved {
                match_: match10_from_json(o.v("match")?)?,
                cookie: o.u64("cookie")?,
                priority: o.u16("priority")?,
                reason: o.u8("reason")?,
                duration_sec: o.u32("duration_sec")?,
                duration_nsec: o.u32("duration_nsec")?,
                idle_timeout: o.u16("idle_timeout")?,
                packet_count: o.u64("packet_count")?,
                byte_count: o.u64("byte_count")?,
            })
        }
    }
}
