//! Statistics: `OFPT_STATS_REQUEST` and `OFPT_STATS_REPLY` and their bodies.

use super::action::Action;
use super::flow_match::Match;
use crate::error::{DecodeError, EncodeError};
use crate::nx::ActionList;
use crate::types::FixedStr;
use crate::wire::{list, Put, Reader};

/// Flow/aggregate stats request body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowStatsRequest {
    /// Match.
    pub match_: Match,
    /// Table (0xff = all).
    pub table_id: u8,
    /// Out port filter.
    pub out_port: u16,
}

/// `ofp_flow_stats` (1.0).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowStats {
    /// Table.
    pub table_id: u8,
    /// Match.
    pub match_: Match,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Actions.
    pub actions: Vec<Action>,
}

/// `ofp_table_stats` (1.0).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Table.
    pub table_id: u8,
    /// Name.
    pub name: FixedStr<32>,
    /// Supported wildcards.
    pub wildcards: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Active entries.
    pub active_count: u32,
    /// Lookups.
    pub lookup_count: u64,
    /// Hits.
    pub matched_count: u64,
}

/// `ofp_port_stats` (1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortStats {
    /// Port.
    pub port_no: u16,
    /// Counters in spec order: rx_packets, tx_packets, rx_bytes, tx_bytes,
    /// rx_dropped, tx_dropped, rx_errors, tx_errors, rx_frame_err,
    /// rx_over_err, rx_crc_err, collisions.
    pub counters: [u64; 12],
}

/// `ofp_queue_stats` (1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Port.
    pub port_no: u16,
    /// Queue.
    pub queue_id: u32,
    /// Bytes.
    pub tx_bytes: u64,
    /// Packets.
    pub tx_packets: u64,
    /// Errors.
    pub tx_errors: u64,
}

/// `ofp_desc_stats` (same layout as 1.3's `ofp_desc`).
pub type Desc = crate::v1_3::multipart::Desc;

/// Stats request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsRequestBody {
    /// `OFPST_DESC`.
    Desc,
    /// `OFPST_FLOW`.
    Flow(FlowStatsRequest),
    /// `OFPST_AGGREGATE`.
    Aggregate(FlowStatsRequest),
    /// `OFPST_TABLE`.
    Table,
    /// `OFPST_PORT`.
    Port {
        /// Port (`OFPP_NONE` = all).
        port_no: u16,
    },
    /// `OFPST_QUEUE`.
    Queue {
        /// Port.
        port_no: u16,
        /// Queue.
        queue_id: u32,
    },
    /// `OFPST_VENDOR`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown stats type.
    Unknown {
        /// Type.
        stats_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// Stats reply body.
#[derive(Clone, Debug, PartialEq)]
pub enum StatsReplyBody {
    /// `OFPST_DESC`.
    Desc(Box<Desc>),
    /// `OFPST_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPST_AGGREGATE`: (packet_count, byte_count, flow_count).
    Aggregate {
        /// Packets.
        packet_count: u64,
        /// Bytes.
        byte_count: u64,
        /// Flows.
        flow_count: u32,
    },
    /// `OFPST_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPST_PORT`.
    Port(Vec<PortStats>),
    /// `OFPST_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPST_VENDOR`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown stats type.
    Unknown {
        /// Type.
        stats_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// `OFPT_STATS_REQUEST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRequest {
    /// Flags.
    pub flags: u16,
    /// Body.
    pub body: StatsRequestBody,
}

impl StatsRequest {
    /// `OFPST_*` type.
    pub fn stats_type(&self) -> u16 {
        match &self.body {
            StatsRequestBody::Desc => 0,
            StatsRequestBody::Flow(_) => 1,
            StatsRequestBody::Aggregate(_) => 2,
            StatsRequestBody::Table => 3,
            StatsRequestBody::Port { .. } => 4,
            StatsRequestBody::Queue { .. } => 5,
            StatsRequestBody::Vendor { .. } => 0xffff,
            StatsRequestBody::Unknown { stats_type, .. } => *stats_type,
        }
    }
}

impl StatsReply {
    /// `OFPST_*` type.
    pub fn stats_type(&self) -> u16 {
        match &self.body {
            StatsReplyBody::Desc(_) => 0,
            StatsReplyBody::Flow(_) => 1,
            StatsReplyBody::Aggregate { .. } => 2,
            StatsReplyBody::Table(_) => 3,
            StatsReplyBody::Port(_) => 4,
            StatsReplyBody::Queue(_) => 5,
            StatsReplyBody::Vendor { .. } => 0xffff,
            StatsReplyBody::Unknown { stats_type, .. } => *stats_type,
        }
    }
}

/// `OFPT_STATS_REPLY`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsReply {
    /// Flags (`OFPSF_REPLY_MORE`).
    pub flags: u16,
    /// Body.
    pub body: StatsReplyBody,
}

impl StatsRequest {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<StatsRequest, DecodeError> {
        let st = r.u16()?;
        let flags = r.u16()?;
        let body = match st {
            0 => StatsRequestBody::Desc,
            1 | 2 => {
                let match_ = Match::parse(r)?;
                let table_id = r.u8()?;
                r.skip(1)?;
                let f = FlowStatsRequest { match_, table_id, out_port: r.u16()? };
                if st == 1 {
                    StatsRequestBody::Flow(f)
                } else {
                    StatsRequestBody::Aggregate(f)
                }
            }
            3 => StatsRequestBody::Table,
            4 => {
                let port_no = r.u16()?;
                r.skip(6)?;
                StatsRequestBody::Port { port_no }
            }
            5 => {
                let port_no = r.u16()?;
                r.skip(2)?;
                StatsRequestBody::Queue { port_no, queue_id: r.u32()? }
            }
            0xffff => StatsRequestBody::Vendor { vendor: r.u32()?, data: r.rest().to_vec() },
            _ => StatsRequestBody::Unknown { stats_type: st, data: r.rest().to_vec() },
        };
        Ok(StatsRequest { flags, body })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let s = self;
        let st = s.stats_type();
        out.put_u16(st);
        out.put_u16(s.flags);
        match &s.body {
            StatsRequestBody::Desc | StatsRequestBody::Table => {}
            StatsRequestBody::Flow(f) | StatsRequestBody::Aggregate(f) => {
                f.match_.emit(out);
                out.put_u8(f.table_id);
                out.put_u8(0);
                out.put_u16(f.out_port);
            }
            StatsRequestBody::Port { port_no } => {
                out.put_u16(*port_no);
                out.put_zeros(6);
            }
            StatsRequestBody::Queue { port_no, queue_id } => {
                out.put_u16(*port_no);
                out.put_zeros(2);
                out.put_u32(*queue_id);
            }
            StatsRequestBody::Vendor { vendor, data } => {
                out.put_u32(*vendor);
                out.extend_from_slice(data);
            }
            StatsRequestBody::Unknown { data, .. } => out.extend_from_slice(data),
        }

        Ok(())
    }
}

impl StatsReply {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<StatsReply, DecodeError> {
        let st = r.u16()?;
        let flags = r.u16()?;
        let body = match st {
            0 => StatsReplyBody::Desc(Box::new(Desc::parse(r)?)),
            1 => StatsReplyBody::Flow(list(r, |r| {
                let start = r.offset();
                let len = r.u16()? as usize;
                if len < 88 {
                    return Err(r.err_at(start, format!("flow stats length {} is shorter than 88", len)));
                }
                let mut b = r.sub(len - 2)?;
                let table_id = b.u8()?;
                b.skip(1)?;
                let match_ = Match::parse(&mut b)?;
                let duration_sec = b.u32()?;
                let duration_nsec = b.u32()?;
                let priority = b.u16()?;
                let idle_timeout = b.u16()?;
                let hard_timeout = b.u16()?;
                b.skip(6)?;
                Ok(FlowStats {
                    table_id,
                    match_,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    cookie: b.u64()?,
                    packet_count: b.u64()?,
                    byte_count: b.u64()?,
                    actions: Action::parse_list(&mut b)?,
                })
            })?),
            2 => {
                let b =
                    StatsReplyBody::Aggregate { packet_count: r.u64()?, byte_count: r.u64()?, flow_count: r.u32()? };
                r.skip(4)?;
                b
            }
            3 => StatsReplyBody::Table(list(r, |r| {
                let table_id = r.u8()?;
                r.skip(3)?;
                Ok(TableStats {
                    table_id,
                    name: FixedStr(r.array()?),
                    wildcards: r.u32()?,
                    max_entries: r.u32()?,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                })
            })?),
            4 => StatsReplyBody::Port(list(r, |r| {
                let port_no = r.u16()?;
                r.skip(6)?;
                let mut counters = [0u64; 12];
                for c in counters.iter_mut() {
                    *c = r.u64()?;
                }
                Ok(PortStats { port_no, counters })
            })?),
            5 => StatsReplyBody::Queue(list(r, |r| {
                let port_no = r.u16()?;
                r.skip(2)?;
                Ok(QueueStats {
                    port_no,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                })
            })?),
            0xffff => StatsReplyBody::Vendor { vendor: r.u32()?, data: r.rest().to_vec() },
            _ => StatsReplyBody::Unknown { stats_type: st, data: r.rest().to_vec() },
        };
        Ok(StatsReply { flags, body })
    }
    /// Appends the body; fails if a flow stats entry is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let s = self;
        let st = s.stats_type();
        out.put_u16(st);
        out.put_u16(s.flags);
        match &s.body {
            StatsReplyBody::Desc(d) => d.emit(out),
            StatsReplyBody::Flow(v) => {
                for f in v {
                    let s = out.len();
                    out.put_u16(0);
                    out.put_u8(f.table_id);
                    out.put_u8(0);
                    f.match_.emit(out);
                    out.put_u32(f.duration_sec);
                    out.put_u32(f.duration_nsec);
                    out.put_u16(f.priority);
                    out.put_u16(f.idle_timeout);
                    out.put_u16(f.hard_timeout);
                    out.put_zeros(6);
                    out.put_u64(f.cookie);
                    out.put_u64(f.packet_count);
                    out.put_u64(f.byte_count);
                    Action::emit_list(&f.actions, out)?;
                    out.set_len16(s, s, "a flow stats entry")?;
                }
            }
            StatsReplyBody::Aggregate { packet_count, byte_count, flow_count } => {
                out.put_u64(*packet_count);
                out.put_u64(*byte_count);
                out.put_u32(*flow_count);
                out.put_zeros(4);
            }
            StatsReplyBody::Table(v) => {
                for t in v {
                    out.put_u8(t.table_id);
                    out.put_zeros(3);
                    out.extend_from_slice(&t.name.0);
                    out.put_u32(t.wildcards);
                    out.put_u32(t.max_entries);
                    out.put_u32(t.active_count);
                    out.put_u64(t.lookup_count);
                    out.put_u64(t.matched_count);
                }
            }
            StatsReplyBody::Port(v) => {
                for p in v {
                    out.put_u16(p.port_no);
                    out.put_zeros(6);
                    for c in p.counters {
                        out.put_u64(c);
                    }
                }
            }
            StatsReplyBody::Queue(v) => {
                for q in v {
                    out.put_u16(q.port_no);
                    out.put_zeros(2);
                    out.put_u32(q.queue_id);
                    out.put_u64(q.tx_bytes);
                    out.put_u64(q.tx_packets);
                    out.put_u64(q.tx_errors);
                }
            }
            StatsReplyBody::Vendor { vendor, data } => {
                out.put_u32(*vendor);
                out.extend_from_slice(data);
            }
            StatsReplyBody::Unknown { data, .. } => out.extend_from_slice(data),
        }

        Ok(())
    }
}

/// JSON of the statistics (Ryu's `OFP...StatsRequest`/`OFP...StatsReply` classes).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{bad, base64, bytes_of, class, cls, entries, ext, num, parts_len, JsonError, Obj, R};
    use crate::v1_0::action::json::{action10_from_json, actions10};
    use crate::v1_0::flow_match::json::{match10_from_json, match10_json};
    use crate::v1_3::multipart::json::{desc_from_json, desc_json};
    use serde_json::{json, Value};

    impl StatsRequest {
        pub(crate) fn to_json(&self) -> Value {
            let s = self;
            use StatsRequestBody as B;
            let base = json!({"flags": s.flags, "type": s.stats_type()});
            let fsr = |f: &FlowStatsRequest| json!({"match": match10_json(&f.match_), "table_id": f.table_id, "out_port": f.out_port});
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

        /// A stats request from its JSON form (`o` is the `OFP...StatsRequest` class).
        pub(crate) fn from_json(o: &Obj<'_>) -> R<StatsRequest> {
            use StatsRequestBody as B;
            let fsr = || -> R<FlowStatsRequest> {
                Ok(FlowStatsRequest {
                    match_: match10_from_json(o.v("match")?)?,
                    table_id: o.u8("table_id")?,
                    out_port: o.u16("out_port")?,
                })
            };
            let known = [
                "OFPDescStatsRequest",
                "OFPFlowStatsRequest",
                "OFPAggregateStatsRequest",
                "OFPTableStatsRequest",
                "OFPPortStatsRequest",
                "OFPQueueStatsRequest",
                "OFPVendorStatsRequest",
            ];
            if !known.contains(&o.name) {
                return bad(format!("unknown OpenFlow 1.0 message class {}", o.name));
            }
            let flags = o.u16("flags")?;
            let body = match o.name {
                "OFPDescStatsRequest" => B::Desc,
                "OFPFlowStatsRequest" => B::Flow(fsr()?),
                "OFPAggregateStatsRequest" => B::Aggregate(fsr()?),
                "OFPTableStatsRequest" => B::Table,
                "OFPPortStatsRequest" => B::Port { port_no: o.u16("port_no")? },
                "OFPQueueStatsRequest" => B::Queue { port_no: o.u16("port_no")?, queue_id: o.u32("queue_id")? },
                _ => B::Vendor { vendor: o.u32("vendor")?, data: o.bytes("specific_data")? },
            };
            Ok(StatsRequest { flags, body })
        }
    }

    impl StatsReply {
        pub(crate) fn to_json(&self) -> Value {
            let s = self;
            use StatsReplyBody as B;
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
                            let length = parts_len(88, &f.actions, Action::emit);
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

        /// A stats reply from its JSON form (`o` is the `OFP...StatsReply` class).
        pub(crate) fn from_json(o: &Obj<'_>) -> R<StatsReply> {
            use StatsReplyBody as B;
            let body = o.v("body")?;
            let b = match o.name {
                "OFPDescStatsReply" => B::Desc(Box::new(desc_from_json(body)?)),
                "OFPFlowStatsReply" => B::Flow(entries(o, body, |f| {
                    Ok(FlowStats {
                        table_id: f.u8("table_id")?,
                        match_: match10_from_json(f.v("match")?)?,
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
                    Ok(TableStats {
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
                    Ok(PortStats { port_no: p.u16("port_no")?, counters })
                })?),
                "OFPQueueStatsReply" => B::Queue(entries(o, body, |q| {
                    Ok(QueueStats {
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
                _ => B::Unknown {
                    stats_type: o.u16("type")?,
                    data: body.get("data").and_then(bytes_of).unwrap_or_default(),
                },
            };
            Ok(StatsReply { flags: o.u16("flags")?, body: b })
        }
    }
}
