//! Multipart requests and replies of OpenFlow 1.4: 1.3's bodies where the layout is unchanged
//! ([`MultipartRequestBody::Common`], [`MultipartReplyBody::Common`]), the new and changed ones here: flow
//! statistics with importance, port and queue statistics with properties, port, table and queue descriptions,
//! flow monitoring.

use super::ports::Port;
use super::table::TableDesc;
use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, Prop, PropKind, QueueStatsProp};
use crate::v1_3::multipart::MultipartRequestBody as Request13;
use crate::v1_3::multipart::{mp_type as mp13, FlowStats as FlowStats13, MultipartReplyBody as Reply13};
use crate::v1_3::{instruction, Instruction, Match};
use crate::wire::{list, Put, Reader};

/// Multipart types added in OpenFlow 1.4 (the others are 1.3's, [`crate::v1_3::multipart::mp_type`]).
#[allow(missing_docs)]
pub mod mp_type {
    pub const TABLE_DESC: u16 = 14;
    pub const QUEUE_DESC: u16 = 15;
    pub const FLOW_MONITOR: u16 = 16;
}

/// `OFPMP_FLOW_MONITOR` request body (`ofp_flow_monitor_request`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowMonitorRequest {
    /// Controller-assigned monitor id.
    pub monitor_id: u32,
    /// Out port filter (`OFPP_ANY` for none).
    pub out_port: u32,
    /// Out group filter (`OFPG_ANY` for none).
    pub out_group: u32,
    /// `OFPFMF_*`.
    pub monitor_flags: u16,
    /// Table (`OFPTT_ALL` for all).
    pub table_id: u8,
    /// `OFPFMC_ADD` (0), `OFPFMC_MODIFY` (1), `OFPFMC_DELETE` (2).
    pub command: u8,
    /// Flows to monitor.
    pub match_: Match,
}

impl FlowMonitorRequest {
    /// Parses the body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FlowMonitorRequest {
            monitor_id: r.u32()?,
            out_port: r.u32()?,
            out_group: r.u32()?,
            monitor_flags: r.u16()?,
            table_id: r.u8()?,
            command: r.u8()?,
            match_: Match::parse(r)?,
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.monitor_id);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_u16(self.monitor_flags);
        out.put_u8(self.table_id);
        out.put_u8(self.command);
        self.match_.emit(out)
    }
}

/// One table features entry with the property types of 1.4.
fn table_features(r: &mut Reader<'_>) -> Result<crate::v1_3::table_features::TableFeatures, DecodeError> {
    crate::v1_3::table_features::TableFeatures::parse_in(r, true)
}

/// Body of a 1.4 multipart request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultipartRequestBody {
    /// A body laid out as in 1.3 (every 1.3 request is unchanged in 1.4).
    Common(Request13),
    /// `OFPMP_TABLE_DESC`.
    TableDesc,
    /// `OFPMP_QUEUE_DESC`.
    QueueDesc {
        /// Port (`OFPP_ANY` for all).
        port_no: u32,
        /// Queue (`OFPQ_ALL` for all).
        queue_id: u32,
    },
    /// `OFPMP_FLOW_MONITOR`.
    FlowMonitor(FlowMonitorRequest),
}

impl MultipartRequestBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        match self {
            MultipartRequestBody::Common(b) => b.mp_type(),
            MultipartRequestBody::TableDesc => mp_type::TABLE_DESC,
            MultipartRequestBody::QueueDesc { .. } => mp_type::QUEUE_DESC,
            MultipartRequestBody::FlowMonitor(_) => mp_type::FLOW_MONITOR,
        }
    }
    /// Parses the body of multipart type `t`, up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let b = match t {
            mp_type::TABLE_DESC => MultipartRequestBody::TableDesc,
            mp_type::QUEUE_DESC => MultipartRequestBody::QueueDesc { port_no: r.u32()?, queue_id: r.u32()? },
            mp_type::FLOW_MONITOR => MultipartRequestBody::FlowMonitor(FlowMonitorRequest::parse(r)?),
            // 1.3's layout, with 1.4's `OFPTFPT_TABLE_SYNC_FROM`.
            mp13::TABLE_FEATURES => MultipartRequestBody::Common(Request13::TableFeatures(list(r, table_features)?)),
            _ => return Ok(MultipartRequestBody::Common(Request13::parse(t, r)?)),
        };
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after multipart request type {}", r.remaining(), t)));
        }
        Ok(b)
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            MultipartRequestBody::Common(b) => b.emit(out),
            MultipartRequestBody::TableDesc => Ok(()),
            MultipartRequestBody::QueueDesc { port_no, queue_id } => {
                out.put_u32(*port_no);
                out.put_u32(*queue_id);
                Ok(())
            }
            MultipartRequestBody::FlowMonitor(f) => f.emit(out),
        }
    }
}

/// `OFPT_MULTIPART_REQUEST` of OpenFlow 1.4.
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
    /// A request for a body laid out as in 1.3 (`v1_3::MultipartRequest::port_desc().body`, ...).
    pub fn common(body: Request13) -> Self {
        Self::new(MultipartRequestBody::Common(body))
    }
    /// `OFPMP_PORT_DESC` request.
    pub fn port_desc() -> Self {
        Self::common(Request13::PortDesc)
    }
    /// `OFPMP_TABLE_DESC` request.
    pub fn table_desc() -> Self {
        Self::new(MultipartRequestBody::TableDesc)
    }
    /// `OFPMP_QUEUE_DESC` request.
    pub fn queue_desc(port_no: u32, queue_id: u32) -> Self {
        Self::new(MultipartRequestBody::QueueDesc { port_no, queue_id })
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
    /// Appends the body after the OpenFlow header.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.mp_type());
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

/// `ofp_flow_stats` of OpenFlow 1.4: 1.3's entry and its importance.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowStats {
    /// Everything but the importance.
    pub stats: FlowStats13,
    /// Eviction precedence.
    pub importance: u16,
}

impl FlowStats {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowStats, DecodeError> {
        let (stats, importance) = FlowStats13::parse_with_importance(r)?;
        Ok(FlowStats { stats, importance })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.stats.emit_with_importance(self.importance, out)
    }
}

/// A port statistics property (`OFPPSPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortStatsProp {
    /// `OFPPSPT_ETHERNET` (0).
    Ethernet {
        /// Frame alignment errors.
        rx_frame_err: u64,
        /// Overruns.
        rx_over_err: u64,
        /// CRC errors.
        rx_crc_err: u64,
        /// Collisions.
        collisions: u64,
    },
    /// `OFPPSPT_OPTICAL` (1).
    Optical(PortStatsOptical),
}

/// `ofp_port_stats_prop_optical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct PortStatsOptical {
    /// `OFPOSF_*`: which fields are valid.
    pub flags: u32,
    pub tx_freq_lmda: u32,
    pub tx_offset: u32,
    pub tx_grid_span: u32,
    pub rx_freq_lmda: u32,
    pub rx_offset: u32,
    pub rx_grid_span: u32,
    pub tx_pwr: u16,
    pub rx_pwr: u16,
    pub bias_current: u16,
    pub temperature: u16,
}

impl PropKind for PortStatsProp {
    const CLASS: &'static str = "OFPPortStatsProp";
    const WHAT: &'static str = "a port statistics property";
    fn prop_type(&self) -> u16 {
        match self {
            PortStatsProp::Ethernet { .. } => 0,
            PortStatsProp::Optical(_) => 1,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match t {
            0 => {
                r.skip(4)?;
                PortStatsProp::Ethernet {
                    rx_frame_err: r.u64()?,
                    rx_over_err: r.u64()?,
                    rx_crc_err: r.u64()?,
                    collisions: r.u64()?,
                }
            }
            1 => {
                r.skip(4)?;
                PortStatsProp::Optical(PortStatsOptical {
                    flags: r.u32()?,
                    tx_freq_lmda: r.u32()?,
                    tx_offset: r.u32()?,
                    tx_grid_span: r.u32()?,
                    rx_freq_lmda: r.u32()?,
                    rx_offset: r.u32()?,
                    rx_grid_span: r.u32()?,
                    tx_pwr: r.u16()?,
                    rx_pwr: r.u16()?,
                    bias_current: r.u16()?,
                    temperature: r.u16()?,
                })
            }
            _ => return Ok(None),
        }))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_zeros(4);
        match self {
            PortStatsProp::Ethernet { rx_frame_err, rx_over_err, rx_crc_err, collisions } => {
                for v in [rx_frame_err, rx_over_err, rx_crc_err, collisions] {
                    out.put_u64(*v);
                }
            }
            PortStatsProp::Optical(o) => {
                for v in
                    [o.flags, o.tx_freq_lmda, o.tx_offset, o.tx_grid_span, o.rx_freq_lmda, o.rx_offset, o.rx_grid_span]
                {
                    out.put_u32(v);
                }
                for v in [o.tx_pwr, o.rx_pwr, o.bias_current, o.temperature] {
                    out.put_u16(v);
                }
            }
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for PortStatsProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            PortStatsProp::Ethernet { rx_frame_err, rx_over_err, rx_crc_err, collisions } => (
                "OFPPortStatsPropEthernet",
                json!({"rx_frame_err": rx_frame_err, "rx_over_err": rx_over_err, "rx_crc_err": rx_crc_err, "collisions": collisions}),
            ),
            PortStatsProp::Optical(o) => (
                "OFPPortStatsPropOptical",
                json!({"flags": o.flags, "tx_freq_lmda": o.tx_freq_lmda, "tx_offset": o.tx_offset, "tx_grid_span": o.tx_grid_span,
                       "rx_freq_lmda": o.rx_freq_lmda, "rx_offset": o.rx_offset, "rx_grid_span": o.rx_grid_span,
                       "tx_pwr": o.tx_pwr, "rx_pwr": o.rx_pwr, "bias_current": o.bias_current, "temperature": o.temperature}),
            ),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(Some(match o.name {
            "OFPPortStatsPropEthernet" => PortStatsProp::Ethernet {
                rx_frame_err: o.u64("rx_frame_err")?,
                rx_over_err: o.u64("rx_over_err")?,
                rx_crc_err: o.u64("rx_crc_err")?,
                collisions: o.u64("collisions")?,
            },
            "OFPPortStatsPropOptical" => PortStatsProp::Optical(PortStatsOptical {
                flags: o.u32("flags")?,
                tx_freq_lmda: o.u32("tx_freq_lmda")?,
                tx_offset: o.u32("tx_offset")?,
                tx_grid_span: o.u32("tx_grid_span")?,
                rx_freq_lmda: o.u32("rx_freq_lmda")?,
                rx_offset: o.u32("rx_offset")?,
                rx_grid_span: o.u32("rx_grid_span")?,
                tx_pwr: o.u16("tx_pwr")?,
                rx_pwr: o.u16("rx_pwr")?,
                bias_current: o.u16("bias_current")?,
                temperature: o.u16("temperature")?,
            }),
            _ => return Ok(None),
        }))
    }
}

/// `ofp_port_stats` of OpenFlow 1.4 and 1.5: counters and properties.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct PortStats {
    /// Port.
    pub port_no: u32,
    /// Seconds the port has been alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    /// Properties (Ethernet and optical counters, experimenter).
    pub properties: Vec<Prop<PortStatsProp>>,
}

impl PortStats {
    fn counters(&self) -> [u64; 8] {
        [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
        ]
    }
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<PortStats, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 80 {
            return Err(r.err_at(start, format!("port stats length {} is shorter than 80", len)));
        }
        let mut b = r.sub(len - 2)?;
        b.skip(2)?;
        Ok(PortStats {
            port_no: b.u32()?,
            duration_sec: b.u32()?,
            duration_nsec: b.u32()?,
            rx_packets: b.u64()?,
            tx_packets: b.u64()?,
            rx_bytes: b.u64()?,
            tx_bytes: b.u64()?,
            rx_dropped: b.u64()?,
            tx_dropped: b.u64()?,
            rx_errors: b.u64()?,
            tx_errors: b.u64()?,
            properties: Prop::parse_list(&mut b)?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_zeros(2);
        out.put_u32(self.port_no);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        for v in self.counters() {
            out.put_u64(v);
        }
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a port stats entry")
    }
}

/// `ofp_queue_stats` of OpenFlow 1.4 and 1.5: counters and properties.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Port.
    pub port_no: u32,
    /// Queue.
    pub queue_id: u32,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Packets dropped for overrun.
    pub tx_errors: u64,
    /// Seconds the queue has been alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Properties (experimenter).
    pub properties: Vec<Prop<QueueStatsProp>>,
}

impl QueueStats {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<QueueStats, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 48 {
            return Err(r.err_at(start, format!("queue stats length {} is shorter than 48", len)));
        }
        let mut b = r.sub(len - 2)?;
        b.skip(6)?;
        Ok(QueueStats {
            port_no: b.u32()?,
            queue_id: b.u32()?,
            tx_bytes: b.u64()?,
            tx_packets: b.u64()?,
            tx_errors: b.u64()?,
            duration_sec: b.u32()?,
            duration_nsec: b.u32()?,
            properties: Prop::parse_list(&mut b)?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_zeros(6);
        out.put_u32(self.port_no);
        out.put_u32(self.queue_id);
        out.put_u64(self.tx_bytes);
        out.put_u64(self.tx_packets);
        out.put_u64(self.tx_errors);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a queue stats entry")
    }
}

/// A queue description property (`OFPQDPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueDescProp {
    /// `OFPQDPT_MIN_RATE` (1), in 1/10 of a percent.
    MinRate(u16),
    /// `OFPQDPT_MAX_RATE` (2), in 1/10 of a percent.
    MaxRate(u16),
}

impl PropKind for QueueDescProp {
    const CLASS: &'static str = "OFPQueueDescProp";
    const WHAT: &'static str = "a queue description property";
    fn prop_type(&self) -> u16 {
        match self {
            QueueDescProp::MinRate(_) => 1,
            QueueDescProp::MaxRate(_) => 2,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        let p = match t {
            1 => QueueDescProp::MinRate(r.u16()?),
            2 => QueueDescProp::MaxRate(r.u16()?),
            _ => return Ok(None),
        };
        r.skip(2)?;
        Ok(Some(p))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (QueueDescProp::MinRate(v) | QueueDescProp::MaxRate(v)) = self;
        out.put_u16(*v);
        out.put_zeros(2);
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for QueueDescProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        match self {
            QueueDescProp::MinRate(v) => ("OFPQueueDescPropMinRate", serde_json::json!({ "rate": v })),
            QueueDescProp::MaxRate(v) => ("OFPQueueDescPropMaxRate", serde_json::json!({ "rate": v })),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(match o.name {
            "OFPQueueDescPropMinRate" => Some(QueueDescProp::MinRate(o.u16("rate")?)),
            "OFPQueueDescPropMaxRate" => Some(QueueDescProp::MaxRate(o.u16("rate")?)),
            _ => None,
        })
    }
}

/// `ofp_queue_desc`: a queue and its properties.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueDesc {
    /// Port.
    pub port_no: u32,
    /// Queue.
    pub queue_id: u32,
    /// Properties (rates, experimenter).
    pub properties: Vec<Prop<QueueDescProp>>,
}

impl QueueDesc {
    /// Parses one description.
    pub fn parse(r: &mut Reader<'_>) -> Result<QueueDesc, DecodeError> {
        let port_no = r.u32()?;
        let queue_id = r.u32()?;
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start, format!("queue description length {} is shorter than 16", len)));
        }
        let mut b = r.sub(len - 10)?;
        b.skip(6)?;
        Ok(QueueDesc { port_no, queue_id, properties: Prop::parse_list(&mut b)? })
    }
    /// Appends the description.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u32(self.port_no);
        out.put_u32(self.queue_id);
        out.put_u16(0);
        out.put_zeros(6);
        emit_list(&self.properties, out)?;
        out.set_len16(start + 8, start, "a queue description")
    }
}

/// A flow monitor update (`ofp_flow_update_*`).
#[derive(Clone, Debug, PartialEq)]
pub enum FlowUpdate {
    /// `OFPFME_INITIAL` (0), `_ADDED` (1), `_REMOVED` (2), `_MODIFIED` (3): the flow entry.
    Full {
        /// `OFPFME_*`.
        event: u16,
        /// Table.
        table_id: u8,
        /// `OFPRR_*` for removals.
        reason: u8,
        /// Idle timeout.
        idle_timeout: u16,
        /// Hard timeout.
        hard_timeout: u16,
        /// Priority.
        priority: u16,
        /// Cookie.
        cookie: u64,
        /// Match.
        match_: Match,
        /// Instructions.
        instructions: Vec<Instruction>,
    },
    /// `OFPFME_ABBREV` (4): the change was made by this controller's request `xid`.
    Abbrev {
        /// The request's transaction id.
        xid: u32,
    },
    /// `OFPFME_PAUSED` (5) or `OFPFME_RESUMED` (6).
    Paused {
        /// `OFPFME_*`.
        event: u16,
    },
}

impl FlowUpdate {
    /// Parses one update.
    pub fn parse(r: &mut Reader<'_>) -> Result<FlowUpdate, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start, format!("flow update length {} is shorter than 8", len)));
        }
        let mut b = r.sub(len - 2)?;
        let event = b.u16()?;
        let u = match event {
            0..=3 => {
                let table_id = b.u8()?;
                let reason = b.u8()?;
                let idle_timeout = b.u16()?;
                let hard_timeout = b.u16()?;
                let priority = b.u16()?;
                b.skip(4)?;
                FlowUpdate::Full {
                    event,
                    table_id,
                    reason,
                    idle_timeout,
                    hard_timeout,
                    priority,
                    cookie: b.u64()?,
                    match_: Match::parse(&mut b)?,
                    instructions: instruction::parse_instructions(&mut b)?,
                }
            }
            4 => FlowUpdate::Abbrev { xid: b.u32()? },
            5 | 6 => {
                b.skip(4)?;
                FlowUpdate::Paused { event }
            }
            _ => return Err(b.err_at(start + 2, format!("unknown flow update event {}", event))),
        };
        if !b.is_empty() {
            return Err(b.err(format!("{} trailing bytes in a flow update", b.remaining())));
        }
        Ok(u)
    }
    /// Appends the update.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        match self {
            FlowUpdate::Full {
                event,
                table_id,
                reason,
                idle_timeout,
                hard_timeout,
                priority,
                cookie,
                match_,
                instructions,
            } => {
                out.put_u16(*event);
                out.put_u8(*table_id);
                out.put_u8(*reason);
                out.put_u16(*idle_timeout);
                out.put_u16(*hard_timeout);
                out.put_u16(*priority);
                out.put_zeros(4);
                out.put_u64(*cookie);
                match_.emit(out)?;
                instruction::emit_instructions(instructions, out)?;
            }
            FlowUpdate::Abbrev { xid } => {
                out.put_u16(4);
                out.put_u32(*xid);
            }
            FlowUpdate::Paused { event } => {
                out.put_u16(*event);
                out.put_zeros(4);
            }
        }
        out.set_len16(start, start, "a flow update")
    }
}

/// Body of a 1.4 multipart reply.
#[derive(Clone, Debug, PartialEq)]
pub enum MultipartReplyBody {
    /// A body laid out as in 1.3: description, aggregate, table, group, meter, table features and experimenter
    /// replies (flow, port and queue statistics and port descriptions changed: encoding those is an error).
    Common(Reply13),
    /// `OFPMP_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPMP_PORT_STATS`.
    PortStats(Vec<PortStats>),
    /// `OFPMP_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPMP_PORT_DESC`.
    PortDesc(Vec<Port>),
    /// `OFPMP_TABLE_DESC`.
    TableDesc(Vec<TableDesc>),
    /// `OFPMP_QUEUE_DESC`.
    QueueDesc(Vec<QueueDesc>),
    /// `OFPMP_FLOW_MONITOR`.
    FlowMonitor(Vec<FlowUpdate>),
}

/// Fails for a 1.3 reply body whose layout OpenFlow 1.4 changed.
fn check_common(b: &Reply13, version: u8) -> Result<(), EncodeError> {
    match b {
        Reply13::Flow(_) | Reply13::PortStats(_) | Reply13::Queue(_) | Reply13::PortDesc(_) => {
            Err(EncodeError::NotInVersion {
                what: format!("the 1.3 layout of multipart type {}", b.mp_type()),
                version,
            })
        }
        _ => Ok(()),
    }
}

impl MultipartReplyBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        match self {
            MultipartReplyBody::Common(b) => b.mp_type(),
            MultipartReplyBody::Flow(_) => mp13::FLOW,
            MultipartReplyBody::PortStats(_) => mp13::PORT_STATS,
            MultipartReplyBody::Queue(_) => mp13::QUEUE,
            MultipartReplyBody::PortDesc(_) => mp13::PORT_DESC,
            MultipartReplyBody::TableDesc(_) => mp_type::TABLE_DESC,
            MultipartReplyBody::QueueDesc(_) => mp_type::QUEUE_DESC,
            MultipartReplyBody::FlowMonitor(_) => mp_type::FLOW_MONITOR,
        }
    }
    /// Parses the body of multipart type `t`, up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match t {
            mp13::FLOW => MultipartReplyBody::Flow(list(r, FlowStats::parse)?),
            mp13::PORT_STATS => MultipartReplyBody::PortStats(list(r, PortStats::parse)?),
            mp13::QUEUE => MultipartReplyBody::Queue(list(r, QueueStats::parse)?),
            mp13::PORT_DESC => MultipartReplyBody::PortDesc(list(r, Port::parse)?),
            mp_type::TABLE_DESC => MultipartReplyBody::TableDesc(list(r, TableDesc::parse)?),
            mp_type::QUEUE_DESC => MultipartReplyBody::QueueDesc(list(r, QueueDesc::parse)?),
            mp_type::FLOW_MONITOR => MultipartReplyBody::FlowMonitor(list(r, FlowUpdate::parse)?),
            mp13::TABLE_FEATURES => MultipartReplyBody::Common(Reply13::TableFeatures(list(r, table_features)?)),
            _ => MultipartReplyBody::Common(Reply13::parse(t, r)?),
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            MultipartReplyBody::Common(b) => {
                check_common(b, super::VERSION)?;
                b.emit(out)
            }
            MultipartReplyBody::Flow(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::PortStats(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::Queue(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::PortDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::TableDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::QueueDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            MultipartReplyBody::FlowMonitor(v) => v.iter().try_for_each(|x| x.emit(out)),
        }
    }
}

/// `OFPT_MULTIPART_REPLY` of OpenFlow 1.4.
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
    /// Appends the body after the OpenFlow header.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.mp_type());
        out.put_u16(self.flags);
        out.put_zeros(4);
        self.body.emit(out)
    }
}

/// JSON of the 1.4 multipart messages (Ryu's `OFP...StatsRequest`/`OFP...StatsReply`, `OFPFlowMonitorRequest`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::*;
    use crate::json::{cls, cls_ext, entries, ext, part_len, JsonError, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use crate::v1_3::instruction::json::{instruction_from_json, instructions};
    use crate::v1_3::multipart::json::{
        flow_stats_from_json, flow_stats_json, reply_body_from_json, reply_body_json, request_body_from_json,
        request_body_json,
    };
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use crate::v1_4::ports::json::{port_from_json, port_json};
    use serde_json::{json, Value};

    /// The class name and fields (without `flags` and `type`) of a request body.
    pub(crate) fn request_json(b: &MultipartRequestBody) -> (&'static str, Value) {
        match b {
            MultipartRequestBody::Common(b) => request_body_json(b),
            MultipartRequestBody::TableDesc => ("OFPTableDescStatsRequest", json!({})),
            MultipartRequestBody::QueueDesc { port_no, queue_id } => {
                ("OFPQueueDescStatsRequest", json!({"port_no": port_no, "queue_id": queue_id}))
            }
            MultipartRequestBody::FlowMonitor(f) => (
                "OFPFlowMonitorRequest",
                json!({"monitor_id": f.monitor_id, "out_port": f.out_port, "out_group": f.out_group,
                       "monitor_flags": f.monitor_flags, "table_id": f.table_id, "command": f.command,
                       "match": match13_json(&f.match_)}),
            ),
        }
    }

    /// `{"OFP...StatsRequest": ...}`.
    pub(crate) fn mp_request_json(m: &MultipartRequest) -> Value {
        let (n, f) = request_json(&m.body);
        cls(n, ext(json!({"flags": m.flags, "type": m.mp_type()}), f))
    }

    /// A request body from its class.
    pub(crate) fn request_from_json(o: &Obj<'_>) -> R<MultipartRequestBody> {
        Ok(match o.name {
            "OFPTableDescStatsRequest" => MultipartRequestBody::TableDesc,
            "OFPQueueDescStatsRequest" => {
                MultipartRequestBody::QueueDesc { port_no: o.u32("port_no")?, queue_id: o.u32("queue_id")? }
            }
            "OFPFlowMonitorRequest" => MultipartRequestBody::FlowMonitor(FlowMonitorRequest {
                monitor_id: o.u32("monitor_id")?,
                out_port: o.u32("out_port")?,
                out_group: o.u32("out_group")?,
                monitor_flags: o.u16("monitor_flags")?,
                table_id: o.u8("table_id")?,
                command: o.u8("command")?,
                match_: match13_from_json(o.v("match")?)?,
            }),
            _ => MultipartRequestBody::Common(request_body_from_json(o)?),
        })
    }

    /// A multipart request from its class.
    pub(crate) fn mp_request_from_json(o: &Obj<'_>) -> R<MultipartRequest> {
        Ok(MultipartRequest { flags: o.u16("flags")?, body: request_from_json(o)? })
    }

    /// `{"OFPFlowStats": ...}` with `importance`.
    pub(crate) fn flow_stats14_json(f: &FlowStats) -> Value {
        cls_ext(flow_stats_json(&f.stats), json!({ "importance": f.importance }))
    }

    /// `{"OFPPortStats": ...}`.
    pub(crate) fn port_stats_json(p: &PortStats) -> Value {
        cls(
            "OFPPortStats",
            json!({"length": part_len(|b| p.emit(b)), "port_no": p.port_no, "duration_sec": p.duration_sec,
                   "duration_nsec": p.duration_nsec, "rx_packets": p.rx_packets, "tx_packets": p.tx_packets,
                   "rx_bytes": p.rx_bytes, "tx_bytes": p.tx_bytes, "rx_dropped": p.rx_dropped, "tx_dropped": p.tx_dropped,
                   "rx_errors": p.rx_errors, "tx_errors": p.tx_errors, "properties": props_json(&p.properties)}),
        )
    }

    pub(crate) fn port_stats_from_json(p: &Obj<'_>) -> R<PortStats> {
        Ok(PortStats {
            port_no: p.u32("port_no")?,
            duration_sec: p.u32("duration_sec")?,
            duration_nsec: p.u32("duration_nsec")?,
            rx_packets: p.u64("rx_packets")?,
            tx_packets: p.u64("tx_packets")?,
            rx_bytes: p.u64("rx_bytes")?,
            tx_bytes: p.u64("tx_bytes")?,
            rx_dropped: p.u64("rx_dropped")?,
            tx_dropped: p.u64("tx_dropped")?,
            rx_errors: p.u64("rx_errors")?,
            tx_errors: p.u64("tx_errors")?,
            properties: props_from_json(p, "properties")?,
        })
    }

    /// `{"OFPQueueStats": ...}`.
    pub(crate) fn queue_stats_json(q: &QueueStats) -> Value {
        cls(
            "OFPQueueStats",
            json!({"length": part_len(|b| q.emit(b)), "port_no": q.port_no, "queue_id": q.queue_id,
                   "tx_bytes": q.tx_bytes, "tx_packets": q.tx_packets, "tx_errors": q.tx_errors,
                   "duration_sec": q.duration_sec, "duration_nsec": q.duration_nsec,
                   "properties": props_json(&q.properties)}),
        )
    }

    pub(crate) fn queue_stats_from_json(q: &Obj<'_>) -> R<QueueStats> {
        Ok(QueueStats {
            port_no: q.u32("port_no")?,
            queue_id: q.u32("queue_id")?,
            tx_bytes: q.u64("tx_bytes")?,
            tx_packets: q.u64("tx_packets")?,
            tx_errors: q.u64("tx_errors")?,
            duration_sec: q.u32("duration_sec")?,
            duration_nsec: q.u32("duration_nsec")?,
            properties: props_from_json(q, "properties")?,
        })
    }

    /// `{"OFPQueueDesc": ...}`.
    pub(crate) fn queue_desc_json(q: &QueueDesc) -> Value {
        cls(
            "OFPQueueDesc",
            json!({"port_no": q.port_no, "queue_id": q.queue_id, "len": part_len(|b| q.emit(b)),
                   "properties": props_json(&q.properties)}),
        )
    }

    pub(crate) fn queue_desc_from_json(q: &Obj<'_>) -> R<QueueDesc> {
        Ok(QueueDesc {
            port_no: q.u32("port_no")?,
            queue_id: q.u32("queue_id")?,
            properties: props_from_json(q, "properties")?,
        })
    }

    /// `{"OFPFlowUpdate...": ...}`.
    pub(crate) fn flow_update_json(u: &FlowUpdate) -> Value {
        let length = part_len(|b| u.emit(b));
        match u {
            FlowUpdate::Full {
                event,
                table_id,
                reason,
                idle_timeout,
                hard_timeout,
                priority,
                cookie,
                match_,
                instructions: i,
            } => cls(
                "OFPFlowUpdateFull",
                json!({"length": length, "event": event, "table_id": table_id, "reason": reason,
                           "idle_timeout": idle_timeout, "hard_timeout": hard_timeout, "priority": priority,
                           "cookie": cookie, "match": match13_json(match_), "instructions": instructions(i)}),
            ),
            FlowUpdate::Abbrev { xid } => cls("OFPFlowUpdateAbbrev", json!({"length": length, "event": 4, "xid": xid})),
            FlowUpdate::Paused { event } => cls("OFPFlowUpdatePaused", json!({"length": length, "event": event})),
        }
    }

    pub(crate) fn flow_update_from_json(o: &Obj<'_>) -> R<FlowUpdate> {
        Ok(match o.name {
            "OFPFlowUpdateFull" => FlowUpdate::Full {
                event: o.u16("event")?,
                table_id: o.u8("table_id")?,
                reason: o.u8("reason")?,
                idle_timeout: o.u16("idle_timeout")?,
                hard_timeout: o.u16("hard_timeout")?,
                priority: o.u16("priority")?,
                cookie: o.u64("cookie")?,
                match_: match13_from_json(o.v("match")?)?,
                instructions: o.list("instructions", instruction_from_json)?,
            },
            "OFPFlowUpdateAbbrev" => FlowUpdate::Abbrev { xid: o.u32("xid")? },
            "OFPFlowUpdatePaused" => FlowUpdate::Paused { event: o.u16("event")? },
            n => return Err(JsonError(format!("unknown flow update class {}", n))),
        })
    }

    fn arr<T>(v: &[T], f: impl Fn(&T) -> Value) -> Value {
        Value::Array(v.iter().map(f).collect())
    }

    /// The class name and the `body` of a reply body.
    pub(crate) fn reply_json(b: &MultipartReplyBody) -> (&'static str, Value) {
        match b {
            MultipartReplyBody::Common(b) => reply_body_json(b),
            MultipartReplyBody::Flow(v) => ("OFPFlowStatsReply", arr(v, flow_stats14_json)),
            MultipartReplyBody::PortStats(v) => ("OFPPortStatsReply", arr(v, port_stats_json)),
            MultipartReplyBody::Queue(v) => ("OFPQueueStatsReply", arr(v, queue_stats_json)),
            MultipartReplyBody::PortDesc(v) => ("OFPPortDescStatsReply", arr(v, port_json)),
            MultipartReplyBody::TableDesc(v) => ("OFPTableDescStatsReply", arr(v, TableDesc::to_json)),
            MultipartReplyBody::QueueDesc(v) => ("OFPQueueDescStatsReply", arr(v, queue_desc_json)),
            MultipartReplyBody::FlowMonitor(v) => ("OFPFlowMonitorReply", arr(v, flow_update_json)),
        }
    }

    /// `{"OFP...StatsReply": ...}`.
    pub(crate) fn mp_reply_json(m: &MultipartReply) -> Value {
        let (n, body) = reply_json(&m.body);
        cls(n, json!({"flags": m.flags, "type": m.mp_type(), "body": body}))
    }

    /// A reply body from its class.
    pub(crate) fn reply_from_json(o: &Obj<'_>) -> R<MultipartReplyBody> {
        let body = o.v("body")?;
        let values = || body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)));
        Ok(match o.name {
            "OFPFlowStatsReply" => MultipartReplyBody::Flow(entries(o, body, |f| {
                Ok(FlowStats { stats: flow_stats_from_json(f)?, importance: f.u16("importance")? })
            })?),
            "OFPPortStatsReply" => MultipartReplyBody::PortStats(entries(o, body, port_stats_from_json)?),
            "OFPQueueStatsReply" => MultipartReplyBody::Queue(entries(o, body, queue_stats_from_json)?),
            "OFPPortDescStatsReply" => {
                MultipartReplyBody::PortDesc(values()?.iter().map(port_from_json).collect::<R<_>>()?)
            }
            "OFPTableDescStatsReply" => {
                MultipartReplyBody::TableDesc(values()?.iter().map(TableDesc::from_json).collect::<R<_>>()?)
            }
            "OFPQueueDescStatsReply" => MultipartReplyBody::QueueDesc(entries(o, body, queue_desc_from_json)?),
            "OFPFlowMonitorReply" => MultipartReplyBody::FlowMonitor(entries(o, body, flow_update_from_json)?),
            _ => MultipartReplyBody::Common(reply_body_from_json(o)?),
        })
    }

    /// A multipart reply from its class.
    pub(crate) fn mp_reply_from_json(o: &Obj<'_>) -> R<MultipartReply> {
        Ok(MultipartReply { flags: o.u16("flags")?, body: reply_from_json(o)? })
    }

    /// Whether class `name` is a multipart request (`Some(true)`), a reply (`Some(false)`) or neither.
    pub(crate) fn multipart_class(name: &str) -> Option<bool> {
        if name.ends_with("StatsRequest") || name == "OFPFlowMonitorRequest" {
            Some(true)
        } else if name.ends_with("StatsReply") || name == "OFPFlowMonitorReply" {
            Some(false)
        } else {
            None
        }
    }
}
