//! Statistics of OpenFlow 1.2 (`OFPT_STATS_REQUEST`/`OFPT_STATS_REPLY`, the same header as 1.3's multipart
//! messages): 1.3's request bodies, 1.3's reply bodies for descriptions, flows, aggregates, groups and
//! experimenters, and 1.2's own table, port, queue and group statistics (no durations; the table statistics
//! carry what 1.3 moved to table features).

use crate::error::{DecodeError, EncodeError};
use crate::types::FixedStr;
use crate::v1_3::multipart::{
    mp_type, GroupStats, MultipartReplyBody as Reply13, MultipartRequestBody as Request13, PortStats, QueueStats,
};
use crate::wire::{len16, list, Put, Reader};

/// The statistics types OpenFlow 1.2 has (`OFPST_*`).
fn in_1_2(t: u16) -> bool {
    t <= mp_type::GROUP_FEATURES || t == mp_type::EXPERIMENTER
}

fn not_in_1_2(what: &str, t: u16) -> EncodeError {
    EncodeError::NotInVersion { what: format!("{} type {}", what, t), version: super::VERSION }
}

/// `OFPT_STATS_REQUEST` body: 1.3's request bodies of the types 1.2 has (description, flow, aggregate, table,
/// port, queue, group, group description and features, experimenter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRequest {
    /// `OFPSF_REQ_MORE`.
    pub flags: u16,
    /// Body.
    pub body: Request13,
}

impl StatsRequest {
    /// A request with no flags.
    pub fn new(body: Request13) -> Self {
        StatsRequest { flags: 0, body }
    }
    /// Parses the body after the OpenFlow header.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        let body = if in_1_2(t) {
            Request13::parse(t, r)?
        } else {
            Request13::Unknown { mp_type: t, data: r.rest().to_vec() }
        };
        Ok(StatsRequest { flags, body })
    }
    /// Appends the body after the OpenFlow header; a request type 1.2 does not have is an error.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = self.body.mp_type();
        if !in_1_2(t) && !matches!(self.body, Request13::Unknown { .. }) {
            return Err(not_in_1_2("statistics request", t));
        }
        out.put_u16(t);
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

/// `ofp_table_stats` of OpenFlow 1.2.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct TableStats {
    pub table_id: u8,
    pub name: FixedStr<32>,
    /// OXM fields the table matches (`1 << OFPXMT_*`).
    pub match_: u64,
    /// OXM fields the table wildcards.
    pub wildcards: u64,
    /// `1 << OFPAT_*` write actions.
    pub write_actions: u32,
    /// `1 << OFPAT_*` apply actions.
    pub apply_actions: u32,
    pub write_setfields: u64,
    pub apply_setfields: u64,
    pub metadata_match: u64,
    pub metadata_write: u64,
    /// `1 << OFPIT_*`.
    pub instructions: u32,
    /// `OFPTC_*`.
    pub config: u32,
    pub max_entries: u32,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

impl TableStats {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<TableStats, DecodeError> {
        let table_id = r.u8()?;
        r.skip(7)?;
        Ok(TableStats {
            table_id,
            name: FixedStr(r.array()?),
            match_: r.u64()?,
            wildcards: r.u64()?,
            write_actions: r.u32()?,
            apply_actions: r.u32()?,
            write_setfields: r.u64()?,
            apply_setfields: r.u64()?,
            metadata_match: r.u64()?,
            metadata_write: r.u64()?,
            instructions: r.u32()?,
            config: r.u32()?,
            max_entries: r.u32()?,
            active_count: r.u32()?,
            lookup_count: r.u64()?,
            matched_count: r.u64()?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.table_id);
        out.put_zeros(7);
        out.extend_from_slice(&self.name.0);
        out.put_u64(self.match_);
        out.put_u64(self.wildcards);
        out.put_u32(self.write_actions);
        out.put_u32(self.apply_actions);
        for v in [self.write_setfields, self.apply_setfields, self.metadata_match, self.metadata_write] {
            out.put_u64(v);
        }
        for v in [self.instructions, self.config, self.max_entries, self.active_count] {
            out.put_u32(v);
        }
        out.put_u64(self.lookup_count);
        out.put_u64(self.matched_count);
    }
}

/// Body of an `OFPT_STATS_REPLY`.
#[derive(Clone, Debug, PartialEq)]
pub enum StatsReplyBody {
    /// A body laid out as in 1.3: description, flow (1.2 has no flags: they are 0), aggregate, group
    /// description and features, experimenter.
    Common(Reply13),
    /// `OFPST_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPST_PORT`: 1.3's entries without durations (they must be 0 to encode).
    PortStats(Vec<PortStats>),
    /// `OFPST_QUEUE`: 1.3's entries without durations (they must be 0 to encode).
    Queue(Vec<QueueStats>),
    /// `OFPST_GROUP`: 1.3's entries without durations (they must be 0 to encode).
    Group(Vec<GroupStats>),
}

fn no_duration(sec: u32, nsec: u32, what: &str) -> Result<(), EncodeError> {
    if sec == 0 && nsec == 0 {
        Ok(())
    } else {
        Err(not_in_1_2(&format!("a duration in {}", what), 0))
    }
}

impl StatsReplyBody {
    /// Statistics type.
    pub fn mp_type(&self) -> u16 {
        match self {
            StatsReplyBody::Common(b) => b.mp_type(),
            StatsReplyBody::Table(_) => mp_type::TABLE,
            StatsReplyBody::PortStats(_) => mp_type::PORT_STATS,
            StatsReplyBody::Queue(_) => mp_type::QUEUE,
            StatsReplyBody::Group(_) => mp_type::GROUP,
        }
    }
    /// Parses the body of statistics type `t`, up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match t {
            mp_type::TABLE => StatsReplyBody::Table(list(r, TableStats::parse)?),
            mp_type::PORT_STATS => StatsReplyBody::PortStats(list(r, |r| {
                let port_no = r.u32()?;
                r.skip(4)?;
                Ok(PortStats {
                    port_no,
                    rx_packets: r.u64()?,
                    tx_packets: r.u64()?,
                    rx_bytes: r.u64()?,
                    tx_bytes: r.u64()?,
                    rx_dropped: r.u64()?,
                    tx_dropped: r.u64()?,
                    rx_errors: r.u64()?,
                    tx_errors: r.u64()?,
                    rx_frame_err: r.u64()?,
                    rx_over_err: r.u64()?,
                    rx_crc_err: r.u64()?,
                    collisions: r.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                })
            })?),
            mp_type::QUEUE => StatsReplyBody::Queue(list(r, |r| {
                Ok(QueueStats {
                    port_no: r.u32()?,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                })
            })?),
            mp_type::GROUP => StatsReplyBody::Group(list(r, |r| {
                let start = r.offset();
                let len = r.u16()? as usize;
                if len < 32 || !(len - 32).is_multiple_of(16) {
                    return Err(r.err_at(start, format!("group stats length {} is not 32 + 16*n", len)));
                }
                let mut b = r.sub(len - 2)?;
                b.skip(2)?;
                let group_id = b.u32()?;
                let ref_count = b.u32()?;
                b.skip(4)?;
                let mut g = GroupStats {
                    group_id,
                    ref_count,
                    packet_count: b.u64()?,
                    byte_count: b.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                    bucket_stats: Vec::new(),
                };
                while !b.is_empty() {
                    g.bucket_stats.push((b.u64()?, b.u64()?));
                }
                Ok(g)
            })?),
            t if in_1_2(t) => match Reply13::parse(t, r)? {
                // 1.2 has padding where 1.3 has the flow's flags.
                Reply13::Flow(mut v) => {
                    v.iter_mut().for_each(|f| f.flags = 0);
                    StatsReplyBody::Common(Reply13::Flow(v))
                }
                b => StatsReplyBody::Common(b),
            },
            _ => StatsReplyBody::Common(Reply13::Unknown { mp_type: t, data: r.rest().to_vec() }),
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            StatsReplyBody::Common(b) => {
                let t = b.mp_type();
                match b {
                    Reply13::Unknown { .. } => {}
                    Reply13::Table(_) | Reply13::PortStats(_) | Reply13::Queue(_) | Reply13::Group(_) => {
                        return Err(not_in_1_2("the 1.3 layout of statistics reply", t))
                    }
                    Reply13::Flow(v) if v.iter().any(|f| f.flags != 0) => {
                        return Err(not_in_1_2("flow flags in statistics reply", t))
                    }
                    _ if !in_1_2(t) => return Err(not_in_1_2("statistics reply", t)),
                    _ => {}
                }
                b.emit(out)?;
            }
            StatsReplyBody::Table(v) => v.iter().for_each(|t| t.emit(out)),
            StatsReplyBody::PortStats(v) => {
                for p in v {
                    no_duration(p.duration_sec, p.duration_nsec, "port statistics")?;
                    out.put_u32(p.port_no);
                    out.put_zeros(4);
                    for x in [
                        p.rx_packets,
                        p.tx_packets,
                        p.rx_bytes,
                        p.tx_bytes,
                        p.rx_dropped,
                        p.tx_dropped,
                        p.rx_errors,
                        p.tx_errors,
                        p.rx_frame_err,
                        p.rx_over_err,
                        p.rx_crc_err,
                        p.collisions,
                    ] {
                        out.put_u64(x);
                    }
                }
            }
            StatsReplyBody::Queue(v) => {
                for q in v {
                    no_duration(q.duration_sec, q.duration_nsec, "queue statistics")?;
                    out.put_u32(q.port_no);
                    out.put_u32(q.queue_id);
                    out.put_u64(q.tx_bytes);
                    out.put_u64(q.tx_packets);
                    out.put_u64(q.tx_errors);
                }
            }
            StatsReplyBody::Group(v) => {
                for g in v {
                    no_duration(g.duration_sec, g.duration_nsec, "group statistics")?;
                    out.put_u16(len16("a group stats entry", 32 + 16 * g.bucket_stats.len())?);
                    out.put_zeros(2);
                    out.put_u32(g.group_id);
                    out.put_u32(g.ref_count);
                    out.put_zeros(4);
                    out.put_u64(g.packet_count);
                    out.put_u64(g.byte_count);
                    for (p, b) in &g.bucket_stats {
                        out.put_u64(*p);
                        out.put_u64(*b);
                    }
                }
            }
        }
        Ok(())
    }
}

/// `OFPT_STATS_REPLY` body.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsReply {
    /// `OFPSF_REPLY_MORE`.
    pub flags: u16,
    /// Body.
    pub body: StatsReplyBody,
}

impl StatsReply {
    /// Statistics type.
    pub fn mp_type(&self) -> u16 {
        self.body.mp_type()
    }
    /// Parses the body after the OpenFlow header.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        Ok(StatsReply { flags, body: StatsReplyBody::parse(t, r)? })
    }
    /// Appends the body after the OpenFlow header.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.mp_type());
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

/// JSON of the 1.2 statistics: requests as Ryu's `OFP...StatsRequest` (without `type`), replies as
/// `OFPStatsReply`.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{class, cls, entries, ext, JsonError, Obj, R};
    use crate::v1_3::multipart::json::{
        reply_body_from_json, reply_body_json, request_body_from_json, request_body_json,
    };
    use serde_json::{json, Value};

    /// `{"OFP...StatsRequest": ...}`.
    pub(crate) fn stats_request_json(m: &StatsRequest) -> Value {
        let (n, f) = request_body_json(&m.body);
        cls(n, ext(json!({ "flags": m.flags }), f))
    }

    /// A request from its class; the type comes from the class name.
    pub(crate) fn stats_request_from_json(o: &Obj<'_>) -> R<StatsRequest> {
        Ok(StatsRequest { flags: o.u16("flags")?, body: request_body_from_json(o)? })
    }

    /// Applies `f` to the fields of every class object in `v` (one, or a list of them).
    fn each_entry(v: &mut Value, f: &dyn Fn(&mut serde_json::Map<String, Value>)) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(|e| each_entry(e, f)),
            Value::Object(o) => o.values_mut().filter_map(Value::as_object_mut).for_each(f),
            _ => {}
        }
    }

    fn table_stats_json(t: &TableStats) -> Value {
        cls(
            "OFPTableStats",
            json!({"table_id": t.table_id, "name": t.name.as_str(), "match": t.match_, "wildcards": t.wildcards,
                   "write_actions": t.write_actions, "apply_actions": t.apply_actions,
                   "write_setfields": t.write_setfields, "apply_setfields": t.apply_setfields,
                   "metadata_match": t.metadata_match, "metadata_write": t.metadata_write,
                   "instructions": t.instructions, "config": t.config, "max_entries": t.max_entries,
                   "active_count": t.active_count, "lookup_count": t.lookup_count, "matched_count": t.matched_count}),
        )
    }

    fn table_stats_from_json(t: &Obj<'_>) -> R<TableStats> {
        Ok(TableStats {
            table_id: t.u8("table_id")?,
            name: t.fixed("name")?,
            match_: t.u64("match")?,
            wildcards: t.u64("wildcards")?,
            write_actions: t.u32("write_actions")?,
            apply_actions: t.u32("apply_actions")?,
            write_setfields: t.u64("write_setfields")?,
            apply_setfields: t.u64("apply_setfields")?,
            metadata_match: t.u64("metadata_match")?,
            metadata_write: t.u64("metadata_write")?,
            instructions: t.u32("instructions")?,
            config: t.u32("config")?,
            max_entries: t.u32("max_entries")?,
            active_count: t.u32("active_count")?,
            lookup_count: t.u64("lookup_count")?,
            matched_count: t.u64("matched_count")?,
        })
    }

    /// `{"OFPStatsReply": ...}`: 1.3's bodies, less what 1.2 does not have (flow flags, durations), with
    /// Ryu 1.2's names (`OFPAggregateStatsReply`, `bucket_counters`) and the group features' length.
    pub(crate) fn stats_reply_json(m: &StatsReply) -> Value {
        let mut body = match &m.body {
            StatsReplyBody::Common(b) => reply_body_json(b).1,
            StatsReplyBody::Table(v) => Value::Array(v.iter().map(table_stats_json).collect()),
            StatsReplyBody::PortStats(v) => reply_body_json(&Reply13::PortStats(v.clone())).1,
            StatsReplyBody::Queue(v) => reply_body_json(&Reply13::Queue(v.clone())).1,
            StatsReplyBody::Group(v) => reply_body_json(&Reply13::Group(v.clone())).1,
        };
        let t = m.mp_type();
        each_entry(&mut body, &|o| {
            if matches!(t, mp_type::PORT_STATS | mp_type::QUEUE | mp_type::GROUP) {
                o.remove("duration_sec");
                o.remove("duration_nsec");
            }
            match t {
                mp_type::FLOW => {
                    o.remove("flags");
                }
                mp_type::GROUP => {
                    if let Some(b) = o.remove("bucket_stats") {
                        o.insert("bucket_counters".into(), b);
                    }
                    let n = o.get("bucket_counters").and_then(Value::as_array).map_or(0, Vec::len);
                    o.insert("length".into(), json!(32 + 16 * n));
                }
                mp_type::GROUP_FEATURES => {
                    o.insert("length".into(), json!(40));
                }
                _ => {}
            }
        });
        if let (mp_type::AGGREGATE, Some(inner)) = (t, body.get("OFPAggregateStats").cloned()) {
            body = cls("OFPAggregateStatsReply", inner);
        }
        cls("OFPStatsReply", json!({"flags": m.flags, "type": t, "body": body}))
    }

    /// A reply from `{"OFPStatsReply": ...}` (the type field says which body).
    pub(crate) fn stats_reply_from_json(o: &Obj<'_>) -> R<StatsReply> {
        let t = o.u16("type")?;
        let mut body = o.v("body")?.clone();
        // Back to 1.3's names and fields, then 1.3's reader.
        each_entry(&mut body, &|e| {
            if let Some(b) = e.remove("bucket_counters") {
                e.insert("bucket_stats".into(), b);
            }
            for k in ["duration_sec", "duration_nsec", "flags"] {
                e.entry(k).or_insert(json!(0));
            }
        });
        if let Some(inner) = body.get("OFPAggregateStatsReply").cloned() {
            body = cls("OFPAggregateStats", inner);
        }
        let b = match t {
            mp_type::TABLE => StatsReplyBody::Table(entries(o, &body, table_stats_from_json)?),
            _ => {
                let name = match t {
                    mp_type::DESC => "OFPDescStatsReply",
                    mp_type::FLOW => "OFPFlowStatsReply",
                    mp_type::AGGREGATE => "OFPAggregateStatsReply",
                    mp_type::PORT_STATS => "OFPPortStatsReply",
                    mp_type::QUEUE => "OFPQueueStatsReply",
                    mp_type::GROUP => "OFPGroupStatsReply",
                    mp_type::GROUP_DESC => "OFPGroupDescStatsReply",
                    mp_type::GROUP_FEATURES => "OFPGroupFeaturesStatsReply",
                    mp_type::EXPERIMENTER => "OFPExperimenterStatsReply",
                    _ => "OFPStatsReplyUnknown",
                };
                let v = cls(name, json!({"flags": o.u16("flags")?, "type": t, "body": body}));
                match reply_body_from_json(&class(&v)?)? {
                    Reply13::PortStats(v) => StatsReplyBody::PortStats(v),
                    Reply13::Queue(v) => StatsReplyBody::Queue(v),
                    Reply13::Group(v) => StatsReplyBody::Group(v),
                    Reply13::Table(_) => return Err(JsonError("1.3 table statistics in a 1.2 reply".into())),
                    b => StatsReplyBody::Common(b),
                }
            }
        };
        Ok(StatsReply { flags: o.u16("flags")?, body: b })
    }
}
