//! Multipart requests and replies of OpenFlow 1.5: 1.3's bodies where 1.5 keeps them
//! ([`MultipartRequestBody::Common`], [`MultipartReplyBody::Common`]), 1.4's port, queue, table and flow
//! monitor bodies, and 1.5's own: flow descriptions and statistics with OXS counters, aggregate counters, group
//! and meter descriptions, meter features, table features, port descriptions of one port, controller status
//! and bundle features.

use super::controller::{BundleFeatures, BundleFeaturesRequest, ControllerStatus};
use super::flow::{FlowDesc, FlowStats};
use super::group::GroupDesc;
use super::oxs::Stats;
use super::table_features::TableFeatures;
use crate::error::{DecodeError, EncodeError};
use crate::v1_3::multipart::{
    mp_type as mp13, FlowStatsRequest, MeterConfig, MultipartReplyBody as Reply13, MultipartRequestBody as Request13,
};
use crate::v1_4::multipart::{mp_type as mp14, FlowMonitorRequest, FlowUpdate, PortStats, QueueDesc, QueueStats};
use crate::v1_4::{Port, TableDesc};
use crate::wire::{list, Put, Reader};

/// Multipart types of OpenFlow 1.5 that 1.3 and 1.4 do not have, or name differently.
#[allow(missing_docs)]
pub mod mp_type {
    pub const FLOW_DESC: u16 = 1;
    pub const METER_DESC: u16 = 10;
    pub const FLOW_STATS: u16 = 17;
    pub const CONTROLLER_STATUS: u16 = 18;
    pub const BUNDLE_FEATURES: u16 = 19;
}

/// Body of a 1.5 multipart request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultipartRequestBody {
    /// A body laid out and named as in 1.3: description, aggregate, table, port and queue statistics, group
    /// statistics and features, meter statistics and features, experimenter (the others are an error to encode).
    Common(Request13),
    /// `OFPMP_FLOW_DESC`.
    FlowDesc(FlowStatsRequest),
    /// `OFPMP_FLOW_STATS`.
    FlowStats(FlowStatsRequest),
    /// `OFPMP_GROUP_DESC` for one group (`OFPG_ALL` for all).
    GroupDesc {
        /// Group.
        group_id: u32,
    },
    /// `OFPMP_METER_DESC` for one meter (`OFPM_ALL` for all).
    MeterDesc {
        /// Meter.
        meter_id: u32,
    },
    /// `OFPMP_TABLE_FEATURES` (empty list = query).
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC` for one port (`OFPP_ANY` for all).
    PortDesc {
        /// Port.
        port_no: u32,
    },
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
    /// `OFPMP_CONTROLLER_STATUS`.
    ControllerStatus,
    /// `OFPMP_BUNDLE_FEATURES`.
    BundleFeatures(BundleFeaturesRequest),
}

fn not_in_1_5(what: &str, t: u16) -> EncodeError {
    EncodeError::NotInVersion {
        what: format!("the 1.3 layout of multipart {} type {}", what, t),
        version: super::VERSION,
    }
}

impl MultipartRequestBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        use MultipartRequestBody as B;
        match self {
            B::Common(b) => b.mp_type(),
            B::FlowDesc(_) => mp_type::FLOW_DESC,
            B::FlowStats(_) => mp_type::FLOW_STATS,
            B::GroupDesc { .. } => mp13::GROUP_DESC,
            B::MeterDesc { .. } => mp_type::METER_DESC,
            B::TableFeatures(_) => mp13::TABLE_FEATURES,
            B::PortDesc { .. } => mp13::PORT_DESC,
            B::TableDesc => mp14::TABLE_DESC,
            B::QueueDesc { .. } => mp14::QUEUE_DESC,
            B::FlowMonitor(_) => mp14::FLOW_MONITOR,
            B::ControllerStatus => mp_type::CONTROLLER_STATUS,
            B::BundleFeatures(_) => mp_type::BUNDLE_FEATURES,
        }
    }
    /// Parses the body of multipart type `t`, up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use MultipartRequestBody as B;
        let id_and_pad = |r: &mut Reader<'_>| -> Result<u32, DecodeError> {
            let id = r.u32()?;
            r.skip(4)?;
            Ok(id)
        };
        let flow_request = |r: &mut Reader<'_>| -> Result<FlowStatsRequest, DecodeError> {
            match Request13::parse(mp13::FLOW, r)? {
                Request13::Flow(f) => Ok(f),
                _ => Err(r.err("not a flow request")),
            }
        };
        let b = match t {
            mp_type::FLOW_DESC => B::FlowDesc(flow_request(r)?),
            mp_type::FLOW_STATS => B::FlowStats(flow_request(r)?),
            mp13::GROUP_DESC => B::GroupDesc { group_id: id_and_pad(r)? },
            mp_type::METER_DESC => B::MeterDesc { meter_id: id_and_pad(r)? },
            mp13::TABLE_FEATURES => B::TableFeatures(list(r, TableFeatures::parse)?),
            mp13::PORT_DESC => B::PortDesc { port_no: id_and_pad(r)? },
            mp14::TABLE_DESC => B::TableDesc,
            mp14::QUEUE_DESC => B::QueueDesc { port_no: r.u32()?, queue_id: r.u32()? },
            mp14::FLOW_MONITOR => B::FlowMonitor(FlowMonitorRequest::parse(r)?),
            mp_type::CONTROLLER_STATUS => B::ControllerStatus,
            mp_type::BUNDLE_FEATURES => B::BundleFeatures(BundleFeaturesRequest::parse(r)?),
            _ => return Ok(B::Common(Request13::parse(t, r)?)),
        };
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after multipart request type {}", r.remaining(), t)));
        }
        Ok(b)
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use MultipartRequestBody as B;
        match self {
            B::Common(
                b @ (Request13::Flow(_)
                | Request13::GroupDesc
                | Request13::MeterConfig { .. }
                | Request13::TableFeatures(_)
                | Request13::PortDesc),
            ) => return Err(not_in_1_5("request", b.mp_type())),
            B::Common(b) => b.emit(out)?,
            B::FlowDesc(f) | B::FlowStats(f) => Request13::Flow(f.clone()).emit(out)?,
            B::GroupDesc { group_id: id } | B::MeterDesc { meter_id: id } | B::PortDesc { port_no: id } => {
                out.put_u32(*id);
                out.put_zeros(4);
            }
            B::TableFeatures(v) => v.iter().try_for_each(|t| t.emit(out))?,
            B::TableDesc | B::ControllerStatus => {}
            B::QueueDesc { port_no, queue_id } => {
                out.put_u32(*port_no);
                out.put_u32(*queue_id);
            }
            B::FlowMonitor(f) => f.emit(out)?,
            B::BundleFeatures(b) => b.emit(out)?,
        }
        Ok(())
    }
}

/// `OFPT_MULTIPART_REQUEST` of OpenFlow 1.5.
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
    /// `OFPMP_PORT_DESC` request for all ports.
    pub fn port_desc() -> Self {
        Self::new(MultipartRequestBody::PortDesc { port_no: crate::v1_3::port::ANY })
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

/// `ofp_meter_features` of OpenFlow 1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MeterFeatures {
    /// Max meters.
    pub max_meter: u32,
    /// `1 << OFPMBT_*` band types.
    pub band_types: u32,
    /// `OFPMF_*` capabilities.
    pub capabilities: u32,
    /// Max bands per meter.
    pub max_bands: u8,
    /// Max color value.
    pub max_color: u8,
    /// `OFPMFF_*` features (action set, any position).
    pub features: u32,
}

impl MeterFeatures {
    /// Parses the body.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let max_meter = r.u32()?;
        let band_types = r.u32()?;
        let capabilities = r.u32()?;
        let max_bands = r.u8()?;
        let max_color = r.u8()?;
        r.skip(2)?;
        let features = r.u32()?;
        r.skip(4)?;
        Ok(MeterFeatures { max_meter, band_types, capabilities, max_bands, max_color, features })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.max_meter);
        out.put_u32(self.band_types);
        out.put_u32(self.capabilities);
        out.put_u8(self.max_bands);
        out.put_u8(self.max_color);
        out.put_zeros(2);
        out.put_u32(self.features);
        out.put_zeros(4);
    }
}

/// Body of a 1.5 multipart reply.
#[derive(Clone, Debug, PartialEq)]
pub enum MultipartReplyBody {
    /// A body laid out as in 1.3: description, table, group statistics and features, meter statistics,
    /// experimenter (the others are an error to encode).
    Common(Reply13),
    /// `OFPMP_FLOW_DESC`.
    FlowDesc(Vec<FlowDesc>),
    /// `OFPMP_FLOW_STATS`.
    FlowStats(Vec<FlowStats>),
    /// `OFPMP_AGGREGATE_STATS`: the counters.
    Aggregate(Stats),
    /// `OFPMP_PORT_STATS`.
    PortStats(Vec<PortStats>),
    /// `OFPMP_QUEUE_STATS`.
    Queue(Vec<QueueStats>),
    /// `OFPMP_GROUP_DESC`.
    GroupDesc(Vec<GroupDesc>),
    /// `OFPMP_METER_DESC` (1.3's meter configuration).
    MeterDesc(Vec<MeterConfig>),
    /// `OFPMP_METER_FEATURES`.
    MeterFeatures(MeterFeatures),
    /// `OFPMP_TABLE_FEATURES`.
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC`.
    PortDesc(Vec<Port>),
    /// `OFPMP_TABLE_DESC`.
    TableDesc(Vec<TableDesc>),
    /// `OFPMP_QUEUE_DESC`.
    QueueDesc(Vec<QueueDesc>),
    /// `OFPMP_FLOW_MONITOR`.
    FlowMonitor(Vec<FlowUpdate>),
    /// `OFPMP_CONTROLLER_STATUS`.
    ControllerStatus(Vec<ControllerStatus>),
    /// `OFPMP_BUNDLE_FEATURES`.
    BundleFeatures(BundleFeatures),
}

impl MultipartReplyBody {
    /// Multipart type.
    pub fn mp_type(&self) -> u16 {
        use MultipartReplyBody as B;
        match self {
            B::Common(b) => b.mp_type(),
            B::FlowDesc(_) => mp_type::FLOW_DESC,
            B::FlowStats(_) => mp_type::FLOW_STATS,
            B::Aggregate(_) => mp13::AGGREGATE,
            B::PortStats(_) => mp13::PORT_STATS,
            B::Queue(_) => mp13::QUEUE,
            B::GroupDesc(_) => mp13::GROUP_DESC,
            B::MeterDesc(_) => mp_type::METER_DESC,
            B::MeterFeatures(_) => mp13::METER_FEATURES,
            B::TableFeatures(_) => mp13::TABLE_FEATURES,
            B::PortDesc(_) => mp13::PORT_DESC,
            B::TableDesc(_) => mp14::TABLE_DESC,
            B::QueueDesc(_) => mp14::QUEUE_DESC,
            B::FlowMonitor(_) => mp14::FLOW_MONITOR,
            B::ControllerStatus(_) => mp_type::CONTROLLER_STATUS,
            B::BundleFeatures(_) => mp_type::BUNDLE_FEATURES,
        }
    }
    /// Parses the body of multipart type `t`, up to the end of `r`.
    pub fn parse(t: u16, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use MultipartReplyBody as B;
        let b = match t {
            mp_type::FLOW_DESC => B::FlowDesc(list(r, FlowDesc::parse)?),
            mp_type::FLOW_STATS => B::FlowStats(list(r, FlowStats::parse)?),
            mp13::AGGREGATE => B::Aggregate(Stats::parse(r)?),
            mp13::PORT_STATS => B::PortStats(list(r, PortStats::parse)?),
            mp13::QUEUE => B::Queue(list(r, QueueStats::parse)?),
            mp13::GROUP_DESC => B::GroupDesc(list(r, GroupDesc::parse)?),
            mp_type::METER_DESC => B::MeterDesc(list(r, MeterConfig::parse)?),
            mp13::METER_FEATURES => B::MeterFeatures(MeterFeatures::parse(r)?),
            mp13::TABLE_FEATURES => B::TableFeatures(list(r, TableFeatures::parse)?),
            mp13::PORT_DESC => B::PortDesc(list(r, Port::parse)?),
            mp14::TABLE_DESC => B::TableDesc(list(r, TableDesc::parse)?),
            mp14::QUEUE_DESC => B::QueueDesc(list(r, QueueDesc::parse)?),
            mp14::FLOW_MONITOR => B::FlowMonitor(list(r, FlowUpdate::parse)?),
            mp_type::CONTROLLER_STATUS => B::ControllerStatus(list(r, ControllerStatus::parse)?),
            mp_type::BUNDLE_FEATURES => B::BundleFeatures(BundleFeatures::parse(r)?),
            _ => B::Common(Reply13::parse(t, r)?),
        };
        if !r.is_empty() {
            return Err(r.err(format!("{} trailing bytes after multipart reply type {}", r.remaining(), t)));
        }
        Ok(b)
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use MultipartReplyBody as B;
        match self {
            B::Common(
                b @ (Reply13::Flow(_)
                | Reply13::Aggregate(_)
                | Reply13::PortStats(_)
                | Reply13::Queue(_)
                | Reply13::GroupDesc(_)
                | Reply13::MeterConfig(_)
                | Reply13::MeterFeatures(_)
                | Reply13::TableFeatures(_)
                | Reply13::PortDesc(_)),
            ) => Err(not_in_1_5("reply", b.mp_type())),
            B::Common(b) => b.emit(out),
            B::FlowDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::FlowStats(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::Aggregate(s) => s.emit(out),
            B::PortStats(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::Queue(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::GroupDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::MeterDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::MeterFeatures(m) => {
                m.emit(out);
                Ok(())
            }
            B::TableFeatures(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::PortDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::TableDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::QueueDesc(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::FlowMonitor(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::ControllerStatus(v) => v.iter().try_for_each(|x| x.emit(out)),
            B::BundleFeatures(b) => b.emit(out),
        }
    }
}

/// `OFPT_MULTIPART_REPLY` of OpenFlow 1.5.
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

/// JSON of the 1.5 multipart messages.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::super::oxs::json::{stats_from_json, stats_json};
    use super::super::table_features::json::{table_features_from_json, table_features_json};
    use super::*;
    use crate::json::{class, cls, entries, ext, part_len, JsonError, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use crate::v1_3::multipart::json::{
        meter_config_from_json, meter_config_json, reply_body_from_json, reply_body_json, request_body_from_json,
        request_body_json,
    };
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use crate::v1_4::multipart::json::{
        flow_update_from_json, flow_update_json, port_stats_from_json, port_stats_json, queue_desc_from_json,
        queue_desc_json, queue_stats_from_json, queue_stats_json, request_from_json as request14_from_json,
        request_json as request14_json,
    };
    use crate::v1_4::multipart::MultipartRequestBody as Request14;
    use crate::v1_4::ports::json::{port_from_json, port_json};
    use serde_json::{json, Value};

    fn flow_request_json(f: &FlowStatsRequest) -> Value {
        json!({"table_id": f.table_id, "out_port": f.out_port, "out_group": f.out_group, "cookie": f.cookie,
               "cookie_mask": f.cookie_mask, "match": match13_json(&f.match_)})
    }

    fn flow_request_from_json(o: &Obj<'_>) -> R<FlowStatsRequest> {
        Ok(FlowStatsRequest {
            table_id: o.u8("table_id")?,
            out_port: o.u32("out_port")?,
            out_group: o.u32("out_group")?,
            cookie: o.u64("cookie")?,
            cookie_mask: o.u64("cookie_mask")?,
            match_: match13_from_json(o.v("match")?)?,
        })
    }

    /// `{"OFP...StatsRequest": ...}`.
    pub(crate) fn mp_request_json(m: &MultipartRequest) -> Value {
        use MultipartRequestBody as B;
        let (n, f) = match &m.body {
            B::Common(b) => request_body_json(b),
            B::FlowDesc(f) => ("OFPFlowDescStatsRequest", flow_request_json(f)),
            B::FlowStats(f) => ("OFPFlowStatsRequest", flow_request_json(f)),
            B::GroupDesc { group_id } => ("OFPGroupDescStatsRequest", json!({ "group_id": group_id })),
            B::MeterDesc { meter_id } => ("OFPMeterDescStatsRequest", json!({ "meter_id": meter_id })),
            B::TableFeatures(v) => {
                ("OFPTableFeaturesStatsRequest", json!({"body": v.iter().map(table_features_json).collect::<Vec<_>>()}))
            }
            B::PortDesc { port_no } => ("OFPPortDescStatsRequest", json!({ "port_no": port_no })),
            B::TableDesc => request14_json(&Request14::TableDesc),
            B::QueueDesc { port_no, queue_id } => {
                request14_json(&Request14::QueueDesc { port_no: *port_no, queue_id: *queue_id })
            }
            B::FlowMonitor(f) => request14_json(&Request14::FlowMonitor(f.clone())),
            B::ControllerStatus => ("OFPControllerStatusStatsRequest", json!({})),
            B::BundleFeatures(b) => (
                "OFPBundleFeaturesStatsRequest",
                json!({"feature_request_flags": b.feature_request_flags, "properties": props_json(&b.properties)}),
            ),
        };
        cls(n, ext(json!({"flags": m.flags, "type": m.mp_type()}), f))
    }

    /// A multipart request from its class.
    pub(crate) fn mp_request_from_json(o: &Obj<'_>) -> R<MultipartRequest> {
        use MultipartRequestBody as B;
        let body = match o.name {
            "OFPFlowDescStatsRequest" => B::FlowDesc(flow_request_from_json(o)?),
            "OFPFlowStatsRequest" => B::FlowStats(flow_request_from_json(o)?),
            "OFPGroupDescStatsRequest" => B::GroupDesc { group_id: o.u32("group_id")? },
            "OFPMeterDescStatsRequest" => B::MeterDesc { meter_id: o.u32("meter_id")? },
            "OFPTableFeaturesStatsRequest" => B::TableFeatures(o.list("body", table_features_from_json)?),
            "OFPPortDescStatsRequest" => B::PortDesc { port_no: o.u32("port_no")? },
            "OFPControllerStatusStatsRequest" => B::ControllerStatus,
            "OFPBundleFeaturesStatsRequest" => B::BundleFeatures(BundleFeaturesRequest {
                feature_request_flags: o.u32("feature_request_flags")?,
                properties: props_from_json(o, "properties")?,
            }),
            "OFPTableDescStatsRequest" | "OFPQueueDescStatsRequest" | "OFPFlowMonitorRequest" => {
                match request14_from_json(o)? {
                    Request14::TableDesc => B::TableDesc,
                    Request14::QueueDesc { port_no, queue_id } => B::QueueDesc { port_no, queue_id },
                    Request14::FlowMonitor(f) => B::FlowMonitor(f),
                    Request14::Common(b) => B::Common(b),
                }
            }
            _ => B::Common(request_body_from_json(o)?),
        };
        Ok(MultipartRequest { flags: o.u16("flags")?, body })
    }

    /// Renames the key `from` to `to` in the fields of every class object of `v` (a list of them).
    fn rename_in_entries(v: &mut Value, from: &str, to: &str) {
        for e in v.as_array_mut().into_iter().flatten() {
            for fields in e.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                if let Some(o) = fields.as_object_mut() {
                    if let Some(x) = o.remove(from) {
                        o.insert(to.to_string(), x);
                    }
                }
            }
        }
    }

    fn arr<T>(v: &[T], f: impl Fn(&T) -> Value) -> Value {
        Value::Array(v.iter().map(f).collect())
    }

    /// `{"OFP...StatsReply": ...}`.
    pub(crate) fn mp_reply_json(m: &MultipartReply) -> Value {
        use MultipartReplyBody as B;
        let (n, body) = match &m.body {
            B::Common(b @ Reply13::Meter(_)) => {
                // 1.5 calls the meter's flow count its reference count.
                let (n, mut body) = reply_body_json(b);
                rename_in_entries(&mut body, "flow_count", "ref_count");
                (n, body)
            }
            B::Common(b) => reply_body_json(b),
            B::FlowDesc(v) => ("OFPFlowDescStatsReply", arr(v, FlowDesc::to_json)),
            B::FlowStats(v) => ("OFPFlowStatsReply", arr(v, FlowStats::to_json)),
            B::Aggregate(s) => (
                "OFPAggregateStatsReply",
                cls("OFPAggregateStats", json!({"length": part_len(|b| s.emit(b)), "stats": stats_json(s)})),
            ),
            B::PortStats(v) => ("OFPPortStatsReply", arr(v, port_stats_json)),
            B::Queue(v) => ("OFPQueueStatsReply", arr(v, queue_stats_json)),
            B::GroupDesc(v) => ("OFPGroupDescStatsReply", arr(v, GroupDesc::to_json)),
            B::MeterDesc(v) => ("OFPMeterDescStatsReply", arr(v, |m| meter_config_json("OFPMeterDescStats", m))),
            B::MeterFeatures(m) => (
                "OFPMeterFeaturesStatsReply",
                json!([cls(
                    "OFPMeterFeaturesStats",
                    json!({"max_meter": m.max_meter, "band_types": m.band_types, "capabilities": m.capabilities,
                           "max_bands": m.max_bands, "max_color": m.max_color, "features": m.features})
                )]),
            ),
            B::TableFeatures(v) => ("OFPTableFeaturesStatsReply", arr(v, table_features_json)),
            B::PortDesc(v) => ("OFPPortDescStatsReply", arr(v, port_json)),
            B::TableDesc(v) => ("OFPTableDescStatsReply", arr(v, TableDesc::to_json)),
            B::QueueDesc(v) => ("OFPQueueDescStatsReply", arr(v, queue_desc_json)),
            B::FlowMonitor(v) => ("OFPFlowMonitorReply", arr(v, flow_update_json)),
            B::ControllerStatus(v) => ("OFPControllerStatusStatsReply", arr(v, ControllerStatus::to_json)),
            B::BundleFeatures(b) => ("OFPBundleFeaturesStatsReply", b.to_json()),
        };
        cls(n, json!({"flags": m.flags, "type": m.mp_type(), "body": body}))
    }

    /// A multipart reply from its class.
    pub(crate) fn mp_reply_from_json(o: &Obj<'_>) -> R<MultipartReply> {
        use MultipartReplyBody as B;
        let body = o.v("body")?;
        let values = || body.as_array().ok_or_else(|| JsonError(format!("{}.body: not an array", o.name)));
        let b = match o.name {
            "OFPFlowDescStatsReply" => B::FlowDesc(entries(o, body, FlowDesc::from_json)?),
            "OFPFlowStatsReply" => B::FlowStats(entries(o, body, FlowStats::from_json)?),
            "OFPAggregateStatsReply" => B::Aggregate(stats_from_json(class(body)?.v("stats")?)?),
            "OFPPortStatsReply" => B::PortStats(entries(o, body, port_stats_from_json)?),
            "OFPQueueStatsReply" => B::Queue(entries(o, body, queue_stats_from_json)?),
            "OFPGroupDescStatsReply" => B::GroupDesc(entries(o, body, GroupDesc::from_json)?),
            "OFPMeterDescStatsReply" => B::MeterDesc(entries(o, body, meter_config_from_json)?),
            "OFPMeterFeaturesStatsReply" => {
                let first = values()?.first().ok_or_else(|| JsonError("empty meter features".into()))?;
                let m = class(first)?;
                B::MeterFeatures(MeterFeatures {
                    max_meter: m.u32("max_meter")?,
                    band_types: m.u32("band_types")?,
                    capabilities: m.u32("capabilities")?,
                    max_bands: m.u8("max_bands")?,
                    max_color: m.u8("max_color")?,
                    features: m.u32("features")?,
                })
            }
            "OFPTableFeaturesStatsReply" => {
                B::TableFeatures(values()?.iter().map(table_features_from_json).collect::<R<_>>()?)
            }
            "OFPPortDescStatsReply" => B::PortDesc(values()?.iter().map(port_from_json).collect::<R<_>>()?),
            "OFPTableDescStatsReply" => B::TableDesc(values()?.iter().map(TableDesc::from_json).collect::<R<_>>()?),
            "OFPQueueDescStatsReply" => B::QueueDesc(entries(o, body, queue_desc_from_json)?),
            "OFPFlowMonitorReply" => B::FlowMonitor(entries(o, body, flow_update_from_json)?),
            "OFPControllerStatusStatsReply" => {
                B::ControllerStatus(values()?.iter().map(ControllerStatus::from_json).collect::<R<_>>()?)
            }
            "OFPBundleFeaturesStatsReply" => B::BundleFeatures(BundleFeatures::from_json(body)?),
            "OFPMeterStatsReply" => {
                let mut renamed = o.v("body")?.clone();
                rename_in_entries(&mut renamed, "ref_count", "flow_count");
                let v = json!({ "OFPMeterStatsReply": {"flags": o.u16("flags")?, "type": o.u16("type")?, "body": renamed} });
                B::Common(reply_body_from_json(&class(&v)?)?)
            }
            _ => B::Common(reply_body_from_json(o)?),
        };
        Ok(MultipartReply { flags: o.u16("flags")?, body: b })
    }
}
