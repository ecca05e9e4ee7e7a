//! OpenFlow 1.3 multipart requests and replies (`OFPT_MULTIPART_*`).

use super::instruction::{emit_instructions, parse_instructions, Instruction};
use super::oxm::{Match, Oxm};
use super::table_features::TableFeatures;
use super::{Bucket, MeterBand, Port};
use crate::error::{DecodeError, EncodeError};
use crate::types::FixedStr;
use crate::wire::{len16, list, Put, Reader};

/// Multipart type numbers (`OFPMP_*`).
#[allow(missing_docs)]
pub mod mp_type {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT_STATS: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const GROUP: u16 = 6;
    pub const GROUP_DESC: u16 = 7;
    pub const GROUP_FEATURES: u16 = 8;
    pub const METER: u16 = 9;
    pub const METER_CONFIG: u16 = 10;
    pub const METER_FEATURES: u16 = 11;
    pub const TABLE_FEATURES: u16 = 12;
    pub const PORT_DESC: u16 = 13;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// `OFPMPF_REQ_MORE` / `OFPMPF_REPLY_MORE`.
pub const OFPMPF_MORE: u16 = 1;

/// ONF experimenter type of the flow-monitor multipart extension.
pub const ONF_ET_FLOW_MONITOR: u32 = 1870;

/// Flow (and aggregate) stats request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStatsRequest {
    /// Table id (`OFPTT_ALL`).
    pub table_id: u8,
    /// Out port filter.
    pub out_port: u32,
    /// Out group filter.
    pub out_group: u32,
    /// Cookie.
    pub cookie: u64,
    /// Cookie mask.
    pub cookie_mask: u64,
    /// Match.
    pub match_: Match,
}

impl Default for FlowStatsRequest {
    fn default() -> Self {
        FlowStatsRequest {
            table_id: 0xff,
            out_port: 0xffff_ffff,
            out_group: 0xffff_ffff,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::new(),
        }
    }
}

/// ONF flow monitor request entry (NX-style match without `ofp_match` header).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OnfFlowMonitorRequest {
    /// Monitor id.
    pub id: u32,
    /// `ONFFMF_*`.
    pub flags: u16,
    /// Out port filter.
    pub out_port: u32,
    /// Table filter.
    pub table_id: u8,
    /// Match fields.
    pub fields: Vec<Oxm>,
}

/// Body of a multipart request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultipartRequestBody {
    /// `OFPMP_DESC`.
    Desc,
    /// `OFPMP_FLOW`.
    Flow(FlowStatsRequest),
    /// `OFPMP_AGGREGATE`.
    Aggregate(FlowStatsRequest),
    /// `OFPMP_TABLE`.
    Table,
    /// `OFPMP_PORT_STATS`.
    PortStats {
        /// Port (`OFPP_ANY` for all).
        port_no: u32,
    },
    /// `OFPMP_QUEUE`.
    Queue {
        /// Port.
        port_no: u32,
        /// Queue (`OFPQ_ALL`).
        queue_id: u32,
    },
    /// `OFPMP_GROUP`.
    Group {
        /// Group (`OFPG_ALL`).
        group_id: u32,
    },
    /// `OFPMP_GROUP_DESC`.
    GroupDesc,
    /// `OFPMP_GROUP_FEATURES`.
    GroupFeatures,
    /// `OFPMP_METER`.
    Meter {
        /// Meter (`OFPM_ALL`).
        meter_id: u32,
    },
    /// `OFPMP_METER_CONFIG`.
    MeterConfig {
        /// Meter.
        meter_id: u32,
    },
    /// `OFPMP_METER_FEATURES`.
    MeterFeatures,
    /// `OFPMP_TABLE_FEATURES` (empty list = query).
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC`.
    PortDesc,
    /// ONF flow monitor (experimenter multipart).
    OnfFlowMonitor(Vec<OnfFlowMonitorRequest>),
    /// `OFPMP_EXPERIMENTER`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter type.
        exp_type: u32,
        /// Data.
        data: Vec<u8>,
    },
    /// Unknown multipart type.
    Unknown {
        /// Type.
        mp_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// `OFPT_MULTIPART_REQUEST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartRequest {
    /// `OFPMPF_REQ_MORE`.
    pub flags: u16,
    /// Body.
    pub body: MultipartRequestBody,
}

impl MultipartRequest {
    /// A request with no flags.
    pub fn new(body: MultipartRequestBody) -> Self {
        MultipartRequest { flags: 0, body }
    }
    /// `OFPMP_PORT_DESC` request.
    pub fn port_desc() -> Self {
        Self::new(MultipartRequestBody::PortDesc)
    }
    /// `OFPMP_DESC` request.
    pub fn desc() -> Self {
        Self::new(MultipartRequestBody::Desc)
    }
    /// `OFPMP_FLOW` request for all tables, filtered by `m`.
    pub fn flow_stats(m: Match) -> Self {
        Self::new(MultipartRequestBody::Flow(FlowStatsRequest { match_: m, ..Default::default() }))
    }
    /// `OFPMP_AGGREGATE` request for all tables, filtered by `m`.
    pub fn aggregate_stats(m: Match) -> Self {
        Self::new(MultipartRequestBody::Aggregate(FlowStatsRequest { match_: m, ..Default::default() }))
    }
    /// `OFPMP_TABLE` request.
    pub fn table_stats() -> Self {
        Self::new(MultipartRequestBody::Table)
    }
    /// `OFPMP_PORT_STATS` request (`port::ANY` for all ports).
    pub fn port_stats(port_no: u32) -> Self {
        Self::new(MultipartRequestBody::PortStats { port_no })
    }
    /// `OFPMP_QUEUE` request.
    pub fn queue_stats(port_no: u32, queue_id: u32) -> Self {
        Self::new(MultipartRequestBody::Queue { port_no, queue_id })
    }
    /// `OFPMP_GROUP_DESC` request.
    pub fn group_desc() -> Self {
        Self::new(MultipartRequestBody::GroupDesc)
    }
    /// `OFPMP_TABLE_FEATURES` query (no body).
    pub fn table_features() -> Self {
        Self::new(MultipartRequestBody::TableFeatures(Vec::new()))
    }
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        self.body.mp_type()
    }

    /// Parses the body after the OpenFlow header.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        Ok(MultipartRequest { flags, body: MultipartRequestBody::parse(t, r)? })
    }

    /// Appends the body after the OpenFlow header; fails if a length field inside it cannot hold its value.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.mp_type());
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

impl MultipartRequestBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        use mp_type::*;
        use MultipartRequestBody as B;
        match self {
            B::Desc => DESC,
            B::Flow(_) => FLOW,
            B::Aggregate(_) => AGGREGATE,
            B::Table => TABLE,
            B::PortStats { .. } => PORT_STATS,
            B::Queue { .. } => QUEUE,
            B::Group { .. } => GROUP,
            B::GroupDesc => GROUP_DESC,
            B::GroupFeatures => GROUP_FEATURES,
            B::Meter { .. } => METER,
            B::MeterConfig { .. } => METER_CONFIG,
            B::MeterFeatures => METER_FEATURES,
            B::TableFeatures(_) => TABLE_FEATURES,
            B::PortDesc => PORT_DESC,
            B::OnfFlowMonitor(_) | B::Experimenter { .. } => EXPERIMENTER,
            B::Unknown { mp_type, .. } => *mp_type,
        }
    }

    /// Parses the body of multipart type `t` (what follows the multipart header), up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use mp_type::*;
        use MultipartRequestBody as B;
        let body = match t {
            DESC => B::Desc,
            FLOW | AGGREGATE => {
                let table_id = r.u8()?;
                r.skip(3)?;
                let out_port = r.u32()?;
                let out_group = r.u32()?;
                r.skip(4)?;
                let f = FlowStatsRequest {
                    table_id,
                    out_port,
                    out_group,
                    cookie: r.u64()?,
                    cookie_mask: r.u64()?,
                    match_: Match::parse(r)?,
                };
                if t == FLOW {
                    B::Flow(f)
                } else {
                    B::Aggregate(f)
                }
            }
            TABLE => B::Table,
            PORT_STATS => {
                let port_no = r.u32()?;
                r.skip(4)?;
                B::PortStats { port_no }
            }
            QUEUE => B::Queue { port_no: r.u32()?, queue_id: r.u32()? },
            GROUP => {
                let group_id = r.u32()?;
                r.skip(4)?;
                B::Group { group_id }
            }
            GROUP_DESC => B::GroupDesc,
            GROUP_FEATURES => B::GroupFeatures,
            METER | METER_CONFIG => {
                let meter_id = r.u32()?;
                r.skip(4)?;
                if t == METER {
                    B::Meter { meter_id }
                } else {
                    B::MeterConfig { meter_id }
                }
            }
            METER_FEATURES => B::MeterFeatures,
            TABLE_FEATURES => {
                let mut v = Vec::new();
                while !r.is_empty() {
                    v.push(TableFeatures::parse(r)?);
                }
                B::TableFeatures(v)
            }
            PORT_DESC => B::PortDesc,
            EXPERIMENTER => {
                let experimenter = r.u32()?;
                let exp_type = r.u32()?;
                if experimenter == super::oxm::ONF_EXPERIMENTER_ID && exp_type == ONF_ET_FLOW_MONITOR {
                    let mut v = Vec::new();
                    while !r.is_empty() {
                        let id = r.u32()?;
                        let flags = r.u16()?;
                        let match_len = r.u16()? as usize;
                        let out_port = r.u32()?;
                        let table_id = r.u8()?;
                        r.skip(3)?;
                        let mut m = r.sub(match_len)?;
                        let fields = Match::parse_oxms(&mut m)?;
                        r.skip(crate::wire::pad8(match_len) - match_len)?;
                        v.push(OnfFlowMonitorRequest { id, flags, out_port, table_id, fields });
                    }
                    B::OnfFlowMonitor(v)
                } else {
                    B::Experimenter { experimenter, exp_type, data: r.rest().to_vec() }
                }
            }
            _ => B::Unknown { mp_type: t, data: r.rest().to_vec() },
        };
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after multipart request type {}", r.remaining(), t)));
        }
        Ok(body)
    }

    /// Appends the body (what follows the multipart header); fails if a length field inside it cannot hold its value.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use MultipartRequestBody as B;
        match self {
            B::Desc | B::Table | B::GroupDesc | B::GroupFeatures | B::MeterFeatures | B::PortDesc => {}
            B::Flow(f) | B::Aggregate(f) => {
                out.put_u8(f.table_id);
                out.put_zeros(3);
                out.put_u32(f.out_port);
                out.put_u32(f.out_group);
                out.put_zeros(4);
                out.put_u64(f.cookie);
                out.put_u64(f.cookie_mask);
                f.match_.emit(out)?;
            }
            B::PortStats { port_no } => {
                out.put_u32(*port_no);
                out.put_zeros(4);
            }
            B::Queue { port_no, queue_id } => {
                out.put_u32(*port_no);
                out.put_u32(*queue_id);
            }
            B::Group { group_id: v } | B::Meter { meter_id: v } | B::MeterConfig { meter_id: v } => {
                out.put_u32(*v);
                out.put_zeros(4);
            }
            B::TableFeatures(v) => {
                for t in v {
                    t.emit(out)?;
                }
            }
            B::OnfFlowMonitor(v) => {
                out.put_u32(super::oxm::ONF_EXPERIMENTER_ID);
                out.put_u32(ONF_ET_FLOW_MONITOR);
                for m in v {
                    out.put_u32(m.id);
                    out.put_u16(m.flags);
                    let ml: usize = m.fields.iter().map(Oxm::wire_len).sum();
                    out.put_u16(len16("the match of a flow monitor request", ml)?);
                    out.put_u32(m.out_port);
                    out.put_u8(m.table_id);
                    out.put_zeros(3);
                    let s = out.len();
                    for f in &m.fields {
                        f.emit(out)?;
                    }
                    out.pad8_from(s);
                }
            }
            B::Experimenter { experimenter, exp_type, data } => {
                out.put_u32(*experimenter);
                out.put_u32(*exp_type);
                out.extend_from_slice(data);
            }
            B::Unknown { data, .. } => out.extend_from_slice(data),
        }
        Ok(())
    }
}

/// `ofp_desc`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Desc {
    /// Manufacturer.
    pub mfr_desc: FixedStr<256>,
    /// Hardware.
    pub hw_desc: FixedStr<256>,
    /// Software.
    pub sw_desc: FixedStr<256>,
    /// Serial number.
    pub serial_num: FixedStr<32>,
    /// Datapath description.
    pub dp_desc: FixedStr<256>,
}

impl Desc {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Desc, DecodeError> {
        Ok(Desc {
            mfr_desc: FixedStr(r.array()?),
            hw_desc: FixedStr(r.array()?),
            sw_desc: FixedStr(r.array()?),
            serial_num: FixedStr(r.array()?),
            dp_desc: FixedStr(r.array()?),
        })
    }
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.mfr_desc.0);
        out.extend_from_slice(&self.hw_desc.0);
        out.extend_from_slice(&self.sw_desc.0);
        out.extend_from_slice(&self.serial_num.0);
        out.extend_from_slice(&self.dp_desc.0);
    }
}

/// `ofp_flow_stats`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowStats {
    /// Table id.
    pub table_id: u8,
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
    /// `OFPFF_*`.
    pub flags: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Match.
    pub match_: Match,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl FlowStats {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowStats, DecodeError> {
        Self::parse_with_importance(r).map(|(f, _)| f)
    }
    /// Parses one entry, returning the 16 bits after `flags` too: padding in 1.3, `importance` from 1.4 on.
    pub(crate) fn parse_with_importance(r: &mut Reader<'_>) -> Result<(FlowStats, u16), DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 56 {
            return Err(r.err_at(start, format!("flow stats length {} is shorter than 56", len)));
        }
        let mut b =
            r.sub(len - 2).map_err(|_| r.err_at(start, format!("flow stats length {} exceeds the message", len)))?;
        let table_id = b.u8()?;
        b.skip(1)?;
        let duration_sec = b.u32()?;
        let duration_nsec = b.u32()?;
        let priority = b.u16()?;
        let idle_timeout = b.u16()?;
        let hard_timeout = b.u16()?;
        let flags = b.u16()?;
        let importance = b.u16()?;
        b.skip(2)?;
        let cookie = b.u64()?;
        let packet_count = b.u64()?;
        let byte_count = b.u64()?;
        let match_ = Match::parse(&mut b)?;
        let instructions = parse_instructions(&mut b)?;
        let f = FlowStats {
            table_id,
            duration_sec,
            duration_nsec,
            priority,
            idle_timeout,
            hard_timeout,
            flags,
            cookie,
            packet_count,
            byte_count,
            match_,
            instructions,
        };
        Ok((f, importance))
    }
    /// Appends the entry; fails if it (or its match or an instruction) is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.emit_with_importance(0, out)
    }
    /// Appends the entry with `importance` in the 16 bits after `flags` (padding in 1.3).
    pub(crate) fn emit_with_importance(&self, importance: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_u8(0);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.priority);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.flags);
        out.put_u16(importance);
        out.put_zeros(2);
        out.put_u64(self.cookie);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        self.match_.emit(out)?;
        emit_instructions(&self.instructions, out)?;
        out.set_len16(start, start, "a flow stats entry")
    }
}

/// `ofp_aggregate_stats_reply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AggregateStats {
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Flows.
    pub flow_count: u32,
}

/// `ofp_table_stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Table id.
    pub table_id: u8,
    /// Active entries.
    pub active_count: u32,
    /// Lookups.
    pub lookup_count: u64,
    /// Hits.
    pub matched_count: u64,
}

/// `ofp_port_stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortStats {
    /// Port.
    pub port_no: u32,
    /// Received packets.
    pub rx_packets: u64,
    /// Transmitted packets.
    pub tx_packets: u64,
    /// Received bytes.
    pub rx_bytes: u64,
    /// Transmitted bytes.
    pub tx_bytes: u64,
    /// Receive drops.
    pub rx_dropped: u64,
    /// Transmit drops.
    pub tx_dropped: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Frame alignment errors.
    pub rx_frame_err: u64,
    /// Overruns.
    pub rx_over_err: u64,
    /// CRC errors.
    pub rx_crc_err: u64,
    /// Collisions.
    pub collisions: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
}

/// `ofp_queue_stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Port.
    pub port_no: u32,
    /// Queue.
    pub queue_id: u32,
    /// Bytes.
    pub tx_bytes: u64,
    /// Packets.
    pub tx_packets: u64,
    /// Errors.
    pub tx_errors: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
}

/// `ofp_group_stats`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// Group.
    pub group_id: u32,
    /// Flows/groups forwarding to it.
    pub ref_count: u32,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Per-bucket (packet_count, byte_count).
    pub bucket_stats: Vec<(u64, u64)>,
}

/// `ofp_group_desc`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupDesc {
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

/// `ofp_group_features`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct GroupFeatures {
    /// Supported group types bitmap.
    pub types: u32,
    /// `OFPGFC_*`.
    pub capabilities: u32,
    /// Max groups per type.
    pub max_groups: [u32; 4],
    /// Supported actions per type.
    pub actions: [u32; 4],
}

/// `ofp_meter_stats`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MeterStats {
    /// Meter.
    pub meter_id: u32,
    /// Flows bound.
    pub flow_count: u32,
    /// Input packets.
    pub packet_in_count: u64,
    /// Input bytes.
    pub byte_in_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond.
    pub duration_nsec: u32,
    /// Per band (packet_band_count, byte_band_count).
    pub band_stats: Vec<(u64, u64)>,
}

/// `ofp_meter_config`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MeterConfig {
    /// `OFPMF_*`.
    pub flags: u16,
    /// Meter.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

/// `ofp_meter_features`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MeterFeatures {
    /// Max meters.
    pub max_meter: u32,
    /// Band types bitmap.
    pub band_types: u32,
    /// `OFPMF_*` capabilities.
    pub capabilities: u32,
    /// Max bands per meter.
    pub max_bands: u8,
    /// Max color value.
    pub max_color: u8,
}

impl MeterConfig {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<MeterConfig, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start, format!("meter config length {} is shorter than 8", len)));
        }
        let mut b = r.sub(len - 2)?;
        let flags = b.u16()?;
        let meter_id = b.u32()?;
        Ok(MeterConfig { flags, meter_id, bands: super::meter::parse_meter_bands(&mut b)? })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let s = out.len();
        out.put_u16(0);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        for b in &self.bands {
            b.emit(out)?;
        }
        out.set_len16(s, s, "a meter configuration")
    }
}

/// Body of a multipart reply.
#[derive(Clone, Debug, PartialEq)]
pub enum MultipartReplyBody {
    /// `OFPMP_DESC`.
    Desc(Box<Desc>),
    /// `OFPMP_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPMP_AGGREGATE`.
    Aggregate(AggregateStats),
    /// `OFPMP_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPMP_PORT_STATS`.
    PortStats(Vec<PortStats>),
    /// `OFPMP_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPMP_GROUP`.
    Group(Vec<GroupStats>),
    /// `OFPMP_GROUP_DESC`.
    GroupDesc(Vec<GroupDesc>),
    /// `OFPMP_GROUP_FEATURES`.
    GroupFeatures(GroupFeatures),
    /// `OFPMP_METER`.
    Meter(Vec<MeterStats>),
    /// `OFPMP_METER_CONFIG`.
    MeterConfig(Vec<MeterConfig>),
    /// `OFPMP_METER_FEATURES`.
    MeterFeatures(MeterFeatures),
    /// `OFPMP_TABLE_FEATURES`.
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC`.
    PortDesc(Vec<Port>),
    /// `OFPMP_EXPERIMENTER`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter type.
        exp_type: u32,
        /// Data.
        data: Vec<u8>,
    },
    /// Unknown multipart type.
    Unknown {
        /// Type.
        mp_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

/// `OFPT_MULTIPART_REPLY`.
#[derive(Clone, Debug, PartialEq)]
pub struct MultipartReply {
    /// `OFPMPF_REPLY_MORE`.
    pub flags: u16,
    /// Body.
    pub body: MultipartReplyBody,
}

impl MultipartReply {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        self.body.mp_type()
    }

    /// Parses the body after the OpenFlow header.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        Ok(MultipartReply { flags, body: MultipartReplyBody::parse(t, r)? })
    }

    /// Appends the body after the OpenFlow header; fails if a length field inside it cannot hold its value.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.mp_type());
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

impl MultipartReplyBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        use mp_type::*;
        use MultipartReplyBody as B;
        match self {
            B::Desc(_) => DESC,
            B::Flow(_) => FLOW,
            B::Aggregate(_) => AGGREGATE,
            B::Table(_) => TABLE,
            B::PortStats(_) => PORT_STATS,
            B::Queue(_) => QUEUE,
            B::Group(_) => GROUP,
            B::GroupDesc(_) => GROUP_DESC,
            B::GroupFeatures(_) => GROUP_FEATURES,
            B::Meter(_) => METER,
            B::MeterConfig(_) => METER_CONFIG,
            B::MeterFeatures(_) => METER_FEATURES,
            B::TableFeatures(_) => TABLE_FEATURES,
            B::PortDesc(_) => PORT_DESC,
            B::Experimenter { .. } => EXPERIMENTER,
            B::Unknown { mp_type, .. } => *mp_type,
        }
    }

    /// Parses the body of multipart type `t` (what follows the multipart header), up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use mp_type::*;
        use MultipartReplyBody as B;
        let body = match t {
            DESC => B::Desc(Box::new(Desc::parse(r)?)),
            FLOW => B::Flow(list(r, FlowStats::parse)?),
            AGGREGATE => {
                let a = AggregateStats { packet_count: r.u64()?, byte_count: r.u64()?, flow_count: r.u32()? };
                r.skip(4)?;
                B::Aggregate(a)
            }
            TABLE => B::Table(list(r, |r| {
                let table_id = r.u8()?;
                r.skip(3)?;
                Ok(TableStats { table_id, active_count: r.u32()?, lookup_count: r.u64()?, matched_count: r.u64()? })
            })?),
            PORT_STATS => B::PortStats(list(r, |r| {
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
                    duration_sec: r.u32()?,
                    duration_nsec: r.u32()?,
                })
            })?),
            QUEUE => B::Queue(list(r, |r| {
                Ok(QueueStats {
                    port_no: r.u32()?,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: r.u32()?,
                    duration_nsec: r.u32()?,
                })
            })?),
            GROUP => B::Group(list(r, |r| {
                let start = r.offset();
                let len = r.u16()? as usize;
                if len < 40 || !(len - 40).is_multiple_of(16) {
                    return Err(r.err_at(start, format!("group stats length {} is not 40 + 16*n", len)));
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
                    duration_sec: b.u32()?,
                    duration_nsec: b.u32()?,
                    bucket_stats: Vec::new(),
                };
                while !b.is_empty() {
                    g.bucket_stats.push((b.u64()?, b.u64()?));
                }
                Ok(g)
            })?),
            GROUP_DESC => B::GroupDesc(list(r, |r| {
                let start = r.offset();
                let len = r.u16()? as usize;
                if len < 8 {
                    return Err(r.err_at(start, format!("group desc length {} is shorter than 8", len)));
                }
                let mut b = r.sub(len - 2)?;
                let group_type = b.u8()?;
                b.skip(1)?;
                let group_id = b.u32()?;
                let buckets = list(&mut b, Bucket::parse)?;
                Ok(GroupDesc { group_type, group_id, buckets })
            })?),
            GROUP_FEATURES => B::GroupFeatures(GroupFeatures {
                types: r.u32()?,
                capabilities: r.u32()?,
                max_groups: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
                actions: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
            }),
            METER => B::Meter(list(r, |r| {
                let meter_id = r.u32()?;
                let start = r.offset();
                let len = r.u16()? as usize;
                if len < 40 || !(len - 40).is_multiple_of(16) {
                    return Err(r.err_at(start, format!("meter stats length {} is not 40 + 16*n", len)));
                }
                let mut b = r.sub(len - 6)?;
                b.skip(6)?;
                let mut m = MeterStats {
                    meter_id,
                    flow_count: b.u32()?,
                    packet_in_count: b.u64()?,
                    byte_in_count: b.u64()?,
                    duration_sec: b.u32()?,
                    duration_nsec: b.u32()?,
                    band_stats: Vec::new(),
                };
                while !b.is_empty() {
                    m.band_stats.push((b.u64()?, b.u64()?));
                }
                Ok(m)
            })?),
            METER_CONFIG => B::MeterConfig(list(r, MeterConfig::parse)?),
            METER_FEATURES => {
                let m = MeterFeatures {
                    max_meter: r.u32()?,
                    band_types: r.u32()?,
                    capabilities: r.u32()?,
                    max_bands: r.u8()?,
                    max_color: r.u8()?,
                };
                r.skip(2)?;
                B::MeterFeatures(m)
            }
            TABLE_FEATURES => B::TableFeatures(list(r, TableFeatures::parse)?),
            PORT_DESC => B::PortDesc(list(r, Port::parse)?),
            EXPERIMENTER => B::Experimenter { experimenter: r.u32()?, exp_type: r.u32()?, data: r.rest().to_vec() },
            _ => B::Unknown { mp_type: t, data: r.rest().to_vec() },
        };
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after multipart reply type {}", r.remaining(), t)));
        }
        Ok(body)
    }

    /// Appends the body (what follows the multipart header); fails if a length field inside it cannot hold its value.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use MultipartReplyBody as B;
        match self {
            B::Desc(d) => d.emit(out),
            B::Flow(v) => {
                for f in v {
                    f.emit(out)?;
                }
            }
            B::Aggregate(a) => {
                out.put_u64(a.packet_count);
                out.put_u64(a.byte_count);
                out.put_u32(a.flow_count);
                out.put_zeros(4);
            }
            B::Table(v) => {
                for t in v {
                    out.put_u8(t.table_id);
                    out.put_zeros(3);
                    out.put_u32(t.active_count);
                    out.put_u64(t.lookup_count);
                    out.put_u64(t.matched_count);
                }
            }
            B::PortStats(v) => {
                for p in v {
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
                    out.put_u32(p.duration_sec);
                    out.put_u32(p.duration_nsec);
                }
            }
            B::Queue(v) => {
                for q in v {
                    out.put_u32(q.port_no);
                    out.put_u32(q.queue_id);
                    out.put_u64(q.tx_bytes);
                    out.put_u64(q.tx_packets);
                    out.put_u64(q.tx_errors);
                    out.put_u32(q.duration_sec);
                    out.put_u32(q.duration_nsec);
                }
            }
            B::Group(v) => {
                for g in v {
                    out.put_u16(len16("a group stats entry", 40 + 16 * g.bucket_stats.len())?);
                    out.put_zeros(2);
                    out.put_u32(g.group_id);
                    out.put_u32(g.ref_count);
                    out.put_zeros(4);
                    out.put_u64(g.packet_count);
                    out.put_u64(g.byte_count);
                    out.put_u32(g.duration_sec);
                    out.put_u32(g.duration_nsec);
                    for (p, b) in &g.bucket_stats {
                        out.put_u64(*p);
                        out.put_u64(*b);
                    }
                }
            }
            B::GroupDesc(v) => {
                for g in v {
                    let s = out.len();
                    out.put_u16(0);
                    out.put_u8(g.group_type);
                    out.put_u8(0);
                    out.put_u32(g.group_id);
                    for b in &g.buckets {
                        b.emit(out)?;
                    }
                    out.set_len16(s, s, "a group description")?;
                }
            }
            B::GroupFeatures(g) => {
                out.put_u32(g.types);
                out.put_u32(g.capabilities);
                for x in g.max_groups.iter().chain(&g.actions) {
                    out.put_u32(*x);
                }
            }
            B::Meter(v) => {
                for m in v {
                    out.put_u32(m.meter_id);
                    out.put_u16(len16("a meter stats entry", 40 + 16 * m.band_stats.len())?);
                    out.put_zeros(6);
                    out.put_u32(m.flow_count);
                    out.put_u64(m.packet_in_count);
                    out.put_u64(m.byte_in_count);
                    out.put_u32(m.duration_sec);
                    out.put_u32(m.duration_nsec);
                    for (p, b) in &m.band_stats {
                        out.put_u64(*p);
                        out.put_u64(*b);
                    }
                }
            }
            B::MeterConfig(v) => {
                for m in v {
                    m.emit(out)?;
                }
            }
            B::MeterFeatures(m) => {
                out.put_u32(m.max_meter);
                out.put_u32(m.band_types);
                out.put_u32(m.capabilities);
                out.put_u8(m.max_bands);
                out.put_u8(m.max_color);
                out.put_zeros(2);
            }
            B::TableFeatures(v) => {
                for t in v {
                    t.emit(out)?;
                }
            }
            B::PortDesc(v) => {
                for p in v {
                    p.emit(out);
                }
            }
            B::Experimenter { experimenter, exp_type, data } => {
                out.put_u32(*experimenter);
                out.put_u32(*exp_type);
                out.extend_from_slice(data);
            }
            B::Unknown { data, .. } => out.extend_from_slice(data),
        }
        Ok(())
    }
}

/// JSON of the multipart requests and replies (Ryu's `OFP...StatsRequest`/`OFP...StatsReply` classes).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{base64, bytes_of, class, cls, entries, ext, part_len, parts_len, JsonError, Obj, R};
    use crate::v1_3::group::json::{bucket_from_json, bucket_json};
    use crate::v1_3::instruction::json::{instruction_from_json, instructions};
    use crate::v1_3::meter::json::{band_from_json, band_json};
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use crate::v1_3::oxm::ONF_EXPERIMENTER_ID;
    use crate::v1_3::ports::json::{port_from_json, port_json};
    use crate::v1_3::table_features::json::{table_features_from_json, table_features_json};
    use serde_json::{json, Value};
    use MultipartReplyBody as RB;
    use MultipartRequestBody as QB;

    /// `{"OFP...StatsRequest": ...}`.
    pub(crate) fn mp_request_json(m: &MultipartRequest) -> Value {
        let (n, f) = request_body_json(&m.body);
        cls(n, ext(json!({"flags": m.flags, "type": m.mp_type()}), f))
    }

    /// The class name and the fields (without `flags` and `type`) of a request body.
    pub(crate) fn request_body_json(b: &MultipartRequestBody) -> (&'static str, Value) {
        use MultipartRequestBody as B;
        let fsr = |f: &FlowStatsRequest| {
            json!({"table_id": f.table_id, "out_port": f.out_port, "out_group": f.out_group, "cookie": f.cookie,
               "cookie_mask": f.cookie_mask, "match": match13_json(&f.match_)})
        };
        match b {
            B::Desc => ("OFPDescStatsRequest", json!({})),
            B::Flow(f) => ("OFPFlowStatsRequest", fsr(f)),
            B::Aggregate(f) => ("OFPAggregateStatsRequest", fsr(f)),
            B::Table => ("OFPTableStatsRequest", json!({})),
            B::PortStats { port_no } => ("OFPPortStatsRequest", json!({"port_no": port_no})),
            B::Queue { port_no, queue_id } => {
                ("OFPQueueStatsRequest", json!({"port_no": port_no, "queue_id": queue_id}))
            }
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
                json!({"experimenter": ONF_EXPERIMENTER_ID, "exp_type": ONF_ET_FLOW_MONITOR,
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
        }
    }

    /// `{"OFPFlowStats": ...}`.
    pub(crate) fn flow_stats_json(f: &FlowStats) -> Value {
        cls(
            "OFPFlowStats",
            json!({"length": part_len(|b| f.emit(b)), "table_id": f.table_id, "duration_sec": f.duration_sec, "duration_nsec": f.duration_nsec,
               "priority": f.priority, "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout, "flags": f.flags,
               "cookie": f.cookie, "packet_count": f.packet_count, "byte_count": f.byte_count,
               "match": match13_json(&f.match_), "instructions": instructions(&f.instructions)}),
        )
    }

    /// A flow stats entry from the fields of its `OFPFlowStats` class.
    pub(crate) fn flow_stats_from_json(f: &Obj<'_>) -> R<FlowStats> {
        Ok(FlowStats {
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
            match_: match13_from_json(f.v("match")?)?,
            instructions: f.list("instructions", instruction_from_json)?,
        })
    }

    /// A meter's configuration under the class `name` (`OFPMeterConfigStats`, 1.5's `OFPMeterDescStats`).
    pub(crate) fn meter_config_json(name: &str, m: &MeterConfig) -> Value {
        let len = parts_len(8, &m.bands, MeterBand::emit);
        cls(
            name,
            json!({"length": len, "flags": m.flags, "meter_id": m.meter_id, "bands": m.bands.iter().map(band_json).collect::<Vec<_>>()}),
        )
    }

    /// A meter's configuration from the fields of its class.
    pub(crate) fn meter_config_from_json(m: &Obj<'_>) -> R<MeterConfig> {
        Ok(MeterConfig {
            flags: m.u16("flags")?,
            meter_id: m.u32("meter_id")?,
            bands: m.list("bands", band_from_json)?,
        })
    }

    /// The switch description of a desc stats reply (the same in OpenFlow 1.0 and 1.3).
    pub(crate) fn desc_json(d: &Desc) -> Value {
        cls(
            "OFPDescStats",
            json!({"mfr_desc": d.mfr_desc.as_str(), "hw_desc": d.hw_desc.as_str(), "sw_desc": d.sw_desc.as_str(),
               "serial_num": d.serial_num.as_str(), "dp_desc": d.dp_desc.as_str()}),
        )
    }

    /// `{"OFP...StatsReply": ...}`.
    pub(crate) fn mp_reply_json(m: &MultipartReply) -> Value {
        let (n, body) = reply_body_json(&m.body);
        cls(n, json!({"flags": m.flags, "type": m.mp_type(), "body": body}))
    }

    /// The class name and the `body` of a reply body.
    pub(crate) fn reply_body_json(b: &MultipartReplyBody) -> (&'static str, Value) {
        use MultipartReplyBody as B;
        match b {
        B::Desc(d) => (
            "OFPDescStatsReply",
            desc_json(d),
        ),
        B::Flow(v) => (
            "OFPFlowStatsReply",
            json!(v.iter().map(flow_stats_json).collect::<Vec<_>>()),
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
                    let len = parts_len(8, &g.buckets, Bucket::emit);
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
            json!(v.iter().map(|m| meter_config_json("OFPMeterConfigStats", m)).collect::<Vec<_>>()),
        ),
        B::MeterFeatures(m) => (
            "OFPMeterFeaturesStatsReply",
            json!([cls(
                "OFPMeterFeaturesStats",
                json!({"max_meter": m.max_meter, "band_types": m.band_types, "capabilities": m.capabilities, "max_bands": m.max_bands, "max_color": m.max_color})
            )]),
        ),
        B::TableFeatures(v) => ("OFPTableFeaturesStatsReply", json!(v.iter().map(table_features_json).collect::<Vec<_>>())),
        B::PortDesc(v) => ("OFPPortDescStatsReply", json!(v.iter().map(port_json).collect::<Vec<_>>())),
        B::Experimenter { experimenter, exp_type, data } => (
            "OFPExperimenterStatsReply",
            cls("OFPExperimenterMultipart", json!({"experimenter": experimenter, "exp_type": exp_type, "data": base64(data)})),
        ),
        B::Unknown { data, .. } => ("OFPMultipartReplyUnknown", json!(base64(data))),
    }
    }

    /// The switch description from `{"OFPDescStats": ...}`.
    pub(crate) fn desc_from_json(body: &Value) -> R<Desc> {
        let d = class(body)?;
        Ok(Desc {
            mfr_desc: d.fixed("mfr_desc")?,
            hw_desc: d.fixed("hw_desc")?,
            sw_desc: d.fixed("sw_desc")?,
            serial_num: d.fixed("serial_num")?,
            dp_desc: d.fixed("dp_desc")?,
        })
    }

    /// A multipart request from its JSON form (`o` is the `OFP...StatsRequest` class).
    pub(crate) fn mp_request_from_json(o: &Obj<'_>) -> R<MultipartRequest> {
        Ok(MultipartRequest { flags: o.u16("flags")?, body: request_body_from_json(o)? })
    }

    /// A request body from its JSON form (`o` is the `OFP...StatsRequest` class).
    pub(crate) fn request_body_from_json(o: &Obj<'_>) -> R<MultipartRequestBody> {
        let fsr = || -> R<FlowStatsRequest> {
            Ok(FlowStatsRequest {
                table_id: o.u8("table_id")?,
                out_port: o.u32("out_port")?,
                out_group: o.u32("out_group")?,
                cookie: o.u64("cookie")?,
                cookie_mask: o.u64("cookie_mask")?,
                match_: match13_from_json(o.v("match")?)?,
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
            "OFPTableFeaturesStatsRequest" => QB::TableFeatures(o.list("body", table_features_from_json)?),
            "OFPPortDescStatsRequest" => QB::PortDesc,
            "ONFFlowMonitorStatsRequest" => QB::OnfFlowMonitor(o.list("body", |v| {
                let r = class(v)?;
                Ok(OnfFlowMonitorRequest {
                    id: r.u32("id")?,
                    flags: r.u16("flags")?,
                    out_port: r.u32("out_port")?,
                    table_id: r.u8("table_id")?,
                    fields: match13_from_json(r.v("match")?)?.fields,
                })
            })?),
            "OFPExperimenterStatsRequest" => QB::Experimenter {
                experimenter: o.u32("experimenter")?,
                exp_type: o.u32("exp_type")?,
                data: o.bytes("data")?,
            },
            _ => QB::Unknown { mp_type: o.u16("type")?, data: o.bytes("data")? },
        };
        Ok(body)
    }

    /// A multipart reply from its JSON form (`o` is the `OFP...StatsReply` class).
    pub(crate) fn mp_reply_from_json(o: &Obj<'_>) -> R<MultipartReply> {
        Ok(MultipartReply { flags: o.u16("flags")?, body: reply_body_from_json(o)? })
    }

    /// A reply body from its JSON form (`o` is the `OFP...StatsReply` class).
    pub(crate) fn reply_body_from_json(o: &Obj<'_>) -> R<MultipartReplyBody> {
        let body = o.v("body")?;
        let list = || body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)));
        let b = match o.name {
            "OFPDescStatsReply" => RB::Desc(Box::new(desc_from_json(body)?)),
            "OFPFlowStatsReply" => RB::Flow(entries(o, body, flow_stats_from_json)?),
            "OFPAggregateStatsReply" => {
                let a = class(body)?;
                RB::Aggregate(AggregateStats {
                    packet_count: a.u64("packet_count")?,
                    byte_count: a.u64("byte_count")?,
                    flow_count: a.u32("flow_count")?,
                })
            }
            "OFPTableStatsReply" => RB::Table(entries(o, body, |t| {
                Ok(TableStats {
                    table_id: t.u8("table_id")?,
                    active_count: t.u32("active_count")?,
                    lookup_count: t.u64("lookup_count")?,
                    matched_count: t.u64("matched_count")?,
                })
            })?),
            "OFPPortStatsReply" => RB::PortStats(entries(o, body, |p| {
                Ok(PortStats {
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
                Ok(QueueStats {
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
                Ok(GroupStats {
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
                Ok(GroupDesc {
                    group_type: g.u8("type")?,
                    group_id: g.u32("group_id")?,
                    buckets: g.list("buckets", bucket_from_json)?,
                })
            })?),
            "OFPGroupFeaturesStatsReply" => {
                let g = class(body)?;
                RB::GroupFeatures(GroupFeatures {
                    types: g.u32("types")?,
                    capabilities: g.u32("capabilities")?,
                    max_groups: g.u32s("max_groups")?,
                    actions: g.u32s("actions")?,
                })
            }
            "OFPMeterStatsReply" => RB::Meter(entries(o, body, |m| {
                Ok(MeterStats {
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
            "OFPMeterConfigStatsReply" => RB::MeterConfig(entries(o, body, meter_config_from_json)?),
            "OFPMeterFeaturesStatsReply" => {
                let first = list()?.first().ok_or_else(|| JsonError("empty meter features".into()))?;
                let m = class(first)?;
                RB::MeterFeatures(MeterFeatures {
                    max_meter: m.u32("max_meter")?,
                    band_types: m.u32("band_types")?,
                    capabilities: m.u32("capabilities")?,
                    max_bands: m.u8("max_bands")?,
                    max_color: m.u8("max_color")?,
                })
            }
            "OFPTableFeaturesStatsReply" => {
                RB::TableFeatures(list()?.iter().map(table_features_from_json).collect::<R<_>>()?)
            }
            "OFPPortDescStatsReply" => RB::PortDesc(list()?.iter().map(port_from_json).collect::<R<_>>()?),
            "OFPExperimenterStatsReply" => {
                let e = class(body)?;
                RB::Experimenter {
                    experimenter: e.u32("experimenter")?,
                    exp_type: e.u32("exp_type")?,
                    data: e.bytes("data")?,
                }
            }
            _ => RB::Unknown {
                mp_type: o.u16("type")?,
                data: bytes_of(body).ok_or_else(|| JsonError("bad body".into()))?,
            },
        };
        Ok(b)
    }
}
