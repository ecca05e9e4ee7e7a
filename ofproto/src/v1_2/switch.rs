//! The OpenFlow 1.2 bodies that differ from 1.3's outside statistics: `OFPT_FEATURES_REPLY` with the port list
//! and `OFPT_PACKET_IN` without a cookie.

use crate::error::{DecodeError, EncodeError};
use crate::v1_3::{Match, Port};
use crate::wire::{Put, Reader};

/// `OFPT_FEATURES_REPLY` body of OpenFlow 1.2: the switch and its ports.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id.
    pub datapath_id: u64,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Number of tables.
    pub n_tables: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Reserved word (kept for exact re-encoding).
    pub reserved: u32,
    /// The ports (1.3's `ofp_port`).
    pub ports: Vec<Port>,
}

impl SwitchFeatures {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<SwitchFeatures, DecodeError> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        r.skip(3)?;
        let capabilities = r.u32()?;
        let reserved = r.u32()?;
        if !r.remaining().is_multiple_of(Port::LEN) {
            return Err(r.err(format!("{} bytes of ports are not whole 64-byte ports", r.remaining())));
        }
        Ok(SwitchFeatures {
            datapath_id,
            n_buffers,
            n_tables,
            capabilities,
            reserved,
            ports: crate::wire::list(r, Port::parse)?,
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u64(self.datapath_id);
        out.put_u32(self.n_buffers);
        out.put_u8(self.n_tables);
        out.put_zeros(3);
        out.put_u32(self.capabilities);
        out.put_u32(self.reserved);
        for p in &self.ports {
            p.emit(out);
        }
    }
}

/// `OFPT_PACKET_IN` body of OpenFlow 1.2.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketIn {
    /// Buffer id, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Full length of the frame.
    pub total_len: u16,
    /// `OFPR_*` reason.
    pub reason: u8,
    /// Table that was looked up.
    pub table_id: u8,
    /// Pipeline fields (`in_port` etc.).
    pub match_: Match,
    /// The (possibly truncated) frame.
    pub data: Vec<u8>,
}

impl PacketIn {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketIn, DecodeError> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = r.u8()?;
        let table_id = r.u8()?;
        let match_ = Match::parse(r)?;
        r.skip(2)?;
        Ok(PacketIn { buffer_id, total_len, reason, table_id, match_, data: r.rest().to_vec() })
    }
    /// Appends the body; fails if the match is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.buffer_id);
        out.put_u16(self.total_len);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        self.match_.emit(out)?;
        out.put_zeros(2);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// JSON of `OFPSwitchFeatures` (ports keyed by number, as Ryu shows them) and `OFPPacketIn` (1.2 forms).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{PacketIn, SwitchFeatures};
    use crate::json::{base64, cls, JsonError, Obj, R};
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use crate::v1_3::ports::json::{port_from_json, port_json};
    use serde_json::{json, Map, Value};

    impl SwitchFeatures {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            let ports: Map<String, Value> = f.ports.iter().map(|p| (p.port_no.to_string(), port_json(p))).collect();
            cls(
                "OFPSwitchFeatures",
                json!({"datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables,
                       "capabilities": f.capabilities, "ports": ports}),
            )
        }
        /// Reads the features; the ports come in ascending port number (a JSON object has no order).
        pub(crate) fn from_json(o: &Obj<'_>) -> R<SwitchFeatures> {
            let map =
                o.v("ports")?.as_object().ok_or_else(|| JsonError("OFPSwitchFeatures.ports: not an object".into()))?;
            let mut ports = map.values().map(port_from_json).collect::<R<Vec<_>>>()?;
            ports.sort_by_key(|p| p.port_no);
            Ok(SwitchFeatures {
                datapath_id: o.u64("datapath_id")?,
                n_buffers: o.u32("n_buffers")?,
                n_tables: o.u8("n_tables")?,
                capabilities: o.u32("capabilities")?,
                reserved: 0,
                ports,
            })
        }
    }

    impl PacketIn {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            cls(
                "OFPPacketIn",
                json!({"buffer_id": p.buffer_id, "total_len": p.total_len, "reason": p.reason, "table_id": p.table_id,
                       "match": match13_json(&p.match_), "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketIn> {
            Ok(PacketIn {
                buffer_id: o.u32("buffer_id")?,
                total_len: o.u16("total_len")?,
                reason: o.u8("reason")?,
                table_id: o.u8("table_id")?,
                match_: match13_from_json(o.v("match")?)?,
                data: o.bytes("data")?,
            })
        }
    }
}
