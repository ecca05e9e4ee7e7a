//! Table features of OpenFlow 1.5 (`ofp_table_features` with a command and feature bits): 1.3's properties
//! (with 1.4's and 1.5's id lists) and the packet types (`OFPTFPT_PACKET_TYPES`).

use crate::error::{DecodeError, EncodeError};
use crate::types::FixedStr;
use crate::v1_3::table_features::TableFeatureProp as Prop13;
use crate::v1_3::Oxm;
use crate::wire::{Put, Reader};

/// `OFPTFPT_PACKET_TYPES`.
pub const OFPTFPT_PACKET_TYPES: u16 = 22;

/// A table feature property of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableFeatureProp {
    /// A property laid out as in 1.3 (instructions, next tables, actions, OXM ids, experimenter; also
    /// `OFPTFPT_TABLE_SYNC_FROM` as table ids and `OFPTFPT_*_COPYFIELD*` as OXM ids).
    Common(Prop13),
    /// `OFPTFPT_PACKET_TYPES`: the packet types the table matches, as OXM TLVs.
    PacketTypes(Vec<Oxm>),
}

impl TableFeatureProp {
    /// Parses one property with its padding.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.peek_u16(0) != Some(OFPTFPT_PACKET_TYPES) {
            return Ok(TableFeatureProp::Common(Prop13::parse_in(r, true)?));
        }
        let start = r.offset();
        r.skip(2)?;
        let len = r.u16()? as usize;
        if len < 4 {
            return Err(r.err_at(start + 2, format!("table feature property length {} is shorter than 4", len)));
        }
        let mut b = r.sub(len - 4)?;
        let values = crate::wire::list(&mut b, Oxm::parse)?;
        r.skip(crate::wire::pad8(len) - len)?;
        Ok(TableFeatureProp::PacketTypes(values))
    }
    /// Appends the property with its padding.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            TableFeatureProp::Common(p) => p.emit(out),
            TableFeatureProp::PacketTypes(v) => {
                let start = out.len();
                out.put_u16(OFPTFPT_PACKET_TYPES);
                out.put_u16(0);
                for o in v {
                    o.emit(out)?;
                }
                out.set_len16(start + 2, start, "a table feature property")?;
                out.pad8_from(start);
                Ok(())
            }
        }
    }
}

/// `ofp_table_features` of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableFeatures {
    /// Table id.
    pub table_id: u8,
    /// `OFPTFC_*`: replace, modify, enable, disable.
    pub command: u8,
    /// `OFPTFF_*`: ingress/egress table, first egress.
    pub features: u32,
    /// Name.
    pub name: FixedStr<32>,
    /// Metadata bits matchable.
    pub metadata_match: u64,
    /// Metadata bits writable.
    pub metadata_write: u64,
    /// `OFPTC_*` capabilities.
    pub capabilities: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Properties.
    pub properties: Vec<TableFeatureProp>,
}

impl TableFeatures {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<TableFeatures, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 64 {
            return Err(r.err_at(start, format!("table features length {} is shorter than 64", len)));
        }
        let mut b = r
            .sub(len - 2)
            .map_err(|_| r.err_at(start, format!("table features length {} exceeds the message", len)))?;
        Ok(TableFeatures {
            table_id: b.u8()?,
            command: b.u8()?,
            features: b.u32()?,
            name: FixedStr(b.array()?),
            metadata_match: b.u64()?,
            metadata_write: b.u64()?,
            capabilities: b.u32()?,
            max_entries: b.u32()?,
            properties: crate::wire::list(&mut b, TableFeatureProp::parse)?,
        })
    }
    /// Appends the entry.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_u8(self.command);
        out.put_u32(self.features);
        out.extend_from_slice(&self.name.0);
        out.put_u64(self.metadata_match);
        out.put_u64(self.metadata_write);
        out.put_u32(self.capabilities);
        out.put_u32(self.max_entries);
        for p in &self.properties {
            p.emit(out)?;
        }
        out.set_len16(start, start, "a table features entry")
    }
}

/// JSON of `OFPTableFeaturesStats` (1.5 form).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{TableFeatureProp, TableFeatures};
    use crate::json::{class, cls, part_len, R};
    use crate::v1_3::oxm::json::{oxm_from_json, oxm_json};
    use crate::v1_3::table_features::json::{table_feature_prop_from_json, table_feature_prop_json};
    use serde_json::{json, Value};

    fn prop_json(p: &TableFeatureProp) -> Value {
        match p {
            TableFeatureProp::Common(p) => table_feature_prop_json(p),
            TableFeatureProp::PacketTypes(v) => cls(
                "OFPTableFeaturePropOxmValues",
                json!({"type": super::OFPTFPT_PACKET_TYPES, "length": 4 + v.iter().map(|o| o.wire_len()).sum::<usize>(),
                       "oxm_values": v.iter().map(oxm_json).collect::<Vec<_>>()}),
            ),
        }
    }

    fn prop_from_json(v: &Value) -> R<TableFeatureProp> {
        let o = class(v)?;
        if o.name == "OFPTableFeaturePropOxmValues" {
            return Ok(TableFeatureProp::PacketTypes(o.list("oxm_values", oxm_from_json)?));
        }
        Ok(TableFeatureProp::Common(table_feature_prop_from_json(v)?))
    }

    /// `{"OFPTableFeaturesStats": ...}`.
    pub(crate) fn table_features_json(t: &TableFeatures) -> Value {
        cls(
            "OFPTableFeaturesStats",
            json!({"length": part_len(|b| t.emit(b)), "table_id": t.table_id, "command": t.command, "features": t.features,
                   "name": t.name.as_str(), "metadata_match": t.metadata_match, "metadata_write": t.metadata_write,
                   "capabilities": t.capabilities, "max_entries": t.max_entries,
                   "properties": t.properties.iter().map(prop_json).collect::<Vec<_>>()}),
        )
    }

    /// Table features from `{"OFPTableFeaturesStats": ...}`.
    pub(crate) fn table_features_from_json(v: &Value) -> R<TableFeatures> {
        let o = class(v)?;
        Ok(TableFeatures {
            table_id: o.u8("table_id")?,
            command: o.u8("command")?,
            features: o.u32("features")?,
            name: o.fixed("name")?,
            metadata_match: o.u64("metadata_match")?,
            metadata_write: o.u64("metadata_write")?,
            capabilities: o.u32("capabilities")?,
            max_entries: o.u32("max_entries")?,
            properties: o.list("properties", prop_from_json)?,
        })
    }
}
