//! Table features (`OFPMP_TABLE_FEATURES`) bodies and properties.

use crate::error::{DecodeError, EncodeError};
use crate::types::FixedStr;
use crate::wire::{len16, pad8, Put, Reader};

/// An instruction or action id in a table-features property (type + optional experimenter body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureId {
    /// `OFPIT_*` / `OFPAT_*`.
    pub id_type: u16,
    /// Bytes after type/len (experimenter ids).
    pub data: Vec<u8>,
}

/// A table-features property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableFeatureProp {
    /// `OFPTFPT_INSTRUCTIONS` (0) or `_MISS` (1).
    Instructions {
        /// Property type.
        prop_type: u16,
        /// Instruction ids.
        ids: Vec<FeatureId>,
    },
    /// `OFPTFPT_NEXT_TABLES` (2) or `_MISS` (3).
    NextTables {
        /// Property type.
        prop_type: u16,
        /// Table ids.
        table_ids: Vec<u8>,
    },
    /// `OFPTFPT_WRITE_ACTIONS` (4), `_MISS` (5), `APPLY_ACTIONS` (6), `_MISS` (7).
    Actions {
        /// Property type.
        prop_type: u16,
        /// Action ids.
        ids: Vec<FeatureId>,
    },
    /// `OFPTFPT_MATCH` (8), `WILDCARDS` (10), `WRITE_SETFIELD` (12), `_MISS` (13),
    /// `APPLY_SETFIELD` (14), `_MISS` (15): OXM headers (experimenter ids are two words).
    Oxm {
        /// Property type.
        prop_type: u16,
        /// OXM ids, each one (or two, for experimenter class) 32-bit words.
        ids: Vec<Vec<u32>>,
    },
    /// `OFPTFPT_EXPERIMENTER` (0xfffe) or `_MISS` (0xffff).
    Experimenter {
        /// Property type.
        prop_type: u16,
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter type.
        exp_type: u32,
        /// Data words.
        data: Vec<u32>,
    },
    /// Unknown property; body after type/length (no padding).
    Unknown {
        /// Property type.
        prop_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl TableFeatureProp {
    /// Property type.
    pub fn prop_type(&self) -> u16 {
        match self {
            TableFeatureProp::Instructions { prop_type, .. }
            | TableFeatureProp::NextTables { prop_type, .. }
            | TableFeatureProp::Actions { prop_type, .. }
            | TableFeatureProp::Oxm { prop_type, .. }
            | TableFeatureProp::Experimenter { prop_type, .. }
            | TableFeatureProp::Unknown { prop_type, .. } => *prop_type,
        }
    }

    fn parse_ids(r: &mut Reader<'_>) -> Result<Vec<FeatureId>, DecodeError> {
        let mut v = Vec::new();
        while !r.is_empty() {
            let start = r.offset();
            let t = r.u16()?;
            let len = r.u16()? as usize;
            if len < 4 {
                return Err(r.err_at(start + 2, format!("feature id length {} is shorter than 4", len)));
            }
            v.push(FeatureId { id_type: t, data: r.bytes(len - 4)?.to_vec() });
        }
        Ok(v)
    }

    fn parse_oxm_ids(b: &mut Reader<'_>) -> Result<Vec<Vec<u32>>, DecodeError> {
        let mut ids = Vec::new();
        while !b.is_empty() {
            let h = b.u32()?;
            if h >> 16 == 0xffff {
                ids.push(vec![h, b.u32()?]);
            } else {
                ids.push(vec![h]);
            }
        }
        Ok(ids)
    }

    /// Parses one property with its padding.
    pub fn parse(r: &mut Reader<'_>) -> Result<TableFeatureProp, DecodeError> {
        Self::parse_in(r, false)
    }

    /// Parses one property; with `later`, the types of OpenFlow 1.4 and 1.5 too (`OFPTFPT_TABLE_SYNC_FROM` as
    /// table ids, `OFPTFPT_*_COPYFIELD*` as OXM ids).
    pub(crate) fn parse_in(r: &mut Reader<'_>, later: bool) -> Result<TableFeatureProp, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 4 {
            return Err(r.err_at(start + 2, format!("table feature property length {} is shorter than 4", len)));
        }
        let mut b = r
            .sub(len - 4)
            .map_err(|_| r.err_at(start + 2, format!("table feature property length {} exceeds its container", len)))?;
        let pad = pad8(len) - len;
        r.skip(pad.min(r.remaining()))?;
        Ok(match t {
            0 | 1 => TableFeatureProp::Instructions { prop_type: t, ids: Self::parse_ids(&mut b)? },
            2 | 3 => TableFeatureProp::NextTables { prop_type: t, table_ids: b.rest().to_vec() },
            16 if later => TableFeatureProp::NextTables { prop_type: t, table_ids: b.rest().to_vec() },
            4..=7 => TableFeatureProp::Actions { prop_type: t, ids: Self::parse_ids(&mut b)? },
            8 | 10 | 12 | 13 | 14 | 15 => TableFeatureProp::Oxm { prop_type: t, ids: Self::parse_oxm_ids(&mut b)? },
            18..=21 if later => TableFeatureProp::Oxm { prop_type: t, ids: Self::parse_oxm_ids(&mut b)? },
            0xfffe | 0xffff => {
                let experimenter = b.u32()?;
                let exp_type = b.u32()?;
                if b.remaining() % 4 != 0 {
                    return Err(b.err("experimenter property data is not a multiple of 4 bytes"));
                }
                let mut data = Vec::new();
                while !b.is_empty() {
                    data.push(b.u32()?);
                }
                TableFeatureProp::Experimenter { prop_type: t, experimenter, exp_type, data }
            }
            _ => TableFeatureProp::Unknown { prop_type: t, data: b.rest().to_vec() },
        })
    }

    /// Length field value (without padding).
    pub fn length(&self) -> usize {
        4 + match self {
            TableFeatureProp::Instructions { ids, .. } | TableFeatureProp::Actions { ids, .. } => {
                ids.iter().map(|i| 4 + i.data.len()).sum()
            }
            TableFeatureProp::NextTables { table_ids, .. } => table_ids.len(),
            TableFeatureProp::Oxm { ids, .. } => ids.iter().map(|i| 4 * i.len()).sum(),
            TableFeatureProp::Experimenter { data, .. } => 8 + 4 * data.len(),
            TableFeatureProp::Unknown { data, .. } => data.len(),
        }
    }

    /// Appends the property with its padding (the length field excludes the padding); fails if the property
    /// or an id in it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(self.prop_type());
        out.put_u16(len16("a table feature property", self.length())?);
        match self {
            TableFeatureProp::Instructions { ids, .. } | TableFeatureProp::Actions { ids, .. } => {
                for i in ids {
                    out.put_u16(i.id_type);
                    out.put_u16(len16("an instruction or action id of a table feature property", 4 + i.data.len())?);
                    out.extend_from_slice(&i.data);
                }
            }
            TableFeatureProp::NextTables { table_ids, .. } => out.extend_from_slice(table_ids),
            TableFeatureProp::Oxm { ids, .. } => {
                for w in ids.iter().flatten() {
                    out.put_u32(*w);
                }
            }
            TableFeatureProp::Experimenter { experimenter, exp_type, data, .. } => {
                out.put_u32(*experimenter);
                out.put_u32(*exp_type);
                for w in data {
                    out.put_u32(*w);
                }
            }
            TableFeatureProp::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.pad8_from(start);
        Ok(())
    }
}

/// One table's features (`ofp_table_features`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableFeatures {
    /// Table id.
    pub table_id: u8,
    /// Name.
    pub name: FixedStr<32>,
    /// Metadata bits matchable.
    pub metadata_match: u64,
    /// Metadata bits writable.
    pub metadata_write: u64,
    /// Config bits.
    pub config: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Properties.
    pub properties: Vec<TableFeatureProp>,
}

impl TableFeatures {
    /// Parses one entry.
    pub fn parse(r: &mut Reader<'_>) -> Result<TableFeatures, DecodeError> {
        Self::parse_in(r, false)
    }

    /// Parses one entry; with `later`, the property types of OpenFlow 1.4 too (see
    /// [`TableFeatureProp::parse_in`]).
    pub(crate) fn parse_in(r: &mut Reader<'_>, later: bool) -> Result<TableFeatures, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 64 {
            return Err(r.err_at(start, format!("table features length {} is shorter than 64", len)));
        }
        let mut b = r
            .sub(len - 2)
            .map_err(|_| r.err_at(start, format!("table features length {} exceeds the message", len)))?;
        let table_id = b.u8()?;
        b.skip(5)?;
        let mut t = TableFeatures {
            table_id,
            name: FixedStr(b.array()?),
            metadata_match: b.u64()?,
            metadata_write: b.u64()?,
            config: b.u32()?,
            max_entries: b.u32()?,
            properties: Vec::new(),
        };
        while !b.is_empty() {
            t.properties.push(TableFeatureProp::parse_in(&mut b, later)?);
        }
        Ok(t)
    }
    /// Appends the entry; fails if it (or a property) is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_zeros(5);
        out.extend_from_slice(&self.name.0);
        out.put_u64(self.metadata_match);
        out.put_u64(self.metadata_write);
        out.put_u32(self.config);
        out.put_u32(self.max_entries);
        for p in &self.properties {
            p.emit(out)?;
        }
        out.set_len16(start, start, "a table features entry")
    }
}

/// JSON of the table features (`OFPTableFeaturesStats`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{FeatureId, TableFeatureProp, TableFeatures};
    use crate::json::{base64, class, cls, ext, hex_header, num, part_len, JsonError, R};
    use crate::v1_3::oxm::header_name;
    use serde_json::{json, Value};

    /// `{"OFPTableFeaturesStats": ...}`.
    pub(crate) fn table_features_json(t: &TableFeatures) -> Value {
        let props: Vec<Value> = t.properties.iter().map(table_feature_prop_json).collect();
        cls(
            "OFPTableFeaturesStats",
            json!({"length": part_len(|b| t.emit(b)), "table_id": t.table_id, "name": t.name.as_str(), "metadata_match": t.metadata_match,
               "metadata_write": t.metadata_write, "config": t.config, "max_entries": t.max_entries, "properties": props}),
        )
    }

    /// `{"OFPTableFeatureProp...": ...}`.
    pub(crate) fn table_feature_prop_json(p: &TableFeatureProp) -> Value {
        use TableFeatureProp as P;
        let base = json!({"type": p.prop_type(), "length": p.length()});
        let (n, f) = match p {
            P::Instructions { ids, .. } => (
                "OFPTableFeaturePropInstructions",
                json!({"instruction_ids": ids.iter().map(|i| cls("OFPInstructionId", json!({"type": i.id_type, "len": 4 + i.data.len()}))).collect::<Vec<_>>()}),
            ),
            P::Actions { ids, .. } => (
                "OFPTableFeaturePropActions",
                json!({"action_ids": ids.iter().map(|i| cls("OFPActionId", json!({"type": i.id_type, "len": 4 + i.data.len()}))).collect::<Vec<_>>()}),
            ),
            P::NextTables { table_ids, .. } => ("OFPTableFeaturePropNextTables", json!({"table_ids": table_ids})),
            P::Oxm { ids, .. } => (
                "OFPTableFeaturePropOxm",
                json!({"oxm_ids": ids.iter().map(|w| {
                        let h = w.first().copied().unwrap_or(0);
                        let name = match header_name(h) {
                            Some(n) => n.to_string(),
                            None => format!("field_0x{:08x}", h & 0xffff_fe00),
                        };
                        match w.get(1) {
                            Some(e) => cls("OFPExperimenterOxmId", json!({"type": name, "hasmask": (h >> 8) & 1, "length": h & 0xff, "exp_id": e})),
                            None => cls("OFPOxmId", json!({"type": name, "hasmask": (h >> 8) & 1, "length": h & 0xff})),
                        }
                    }).collect::<Vec<_>>()}),
            ),
            P::Experimenter { experimenter, exp_type, data, .. } => (
                "OFPTableFeaturePropExperimenter",
                json!({"experimenter": experimenter, "exp_type": exp_type, "data": data}),
            ),
            P::Unknown { data, .. } => ("OFPTableFeaturePropUnknown", json!({"data": base64(data)})),
        };
        cls(n, ext(base, f))
    }

    /// Table features from `{"OFPTableFeaturesStats": ...}`.
    pub(crate) fn table_features_from_json(v: &Value) -> R<TableFeatures> {
        let o = class(v)?;
        Ok(TableFeatures {
            table_id: o.u8("table_id")?,
            name: o.fixed("name")?,
            metadata_match: o.u64("metadata_match")?,
            metadata_write: o.u64("metadata_write")?,
            config: o.u32("config")?,
            max_entries: o.u32("max_entries")?,
            properties: o.list("properties", table_feature_prop_from_json)?,
        })
    }

    /// A property from `{"OFPTableFeatureProp...": ...}`.
    pub(crate) fn table_feature_prop_from_json(v: &Value) -> R<TableFeatureProp> {
        let ids = |v: &Value| -> R<FeatureId> {
            let i = class(v)?;
            let len = i.opt("len").and_then(num).unwrap_or(4).min(65535) as usize;
            Ok(FeatureId { id_type: i.u16("type")?, data: vec![0; len.saturating_sub(4)] })
        };
        let p = class(v)?;
        let prop_type = p.u16("type")?;
        Ok(match p.name {
            "OFPTableFeaturePropInstructions" => {
                TableFeatureProp::Instructions { prop_type, ids: p.list("instruction_ids", ids)? }
            }
            "OFPTableFeaturePropActions" => TableFeatureProp::Actions { prop_type, ids: p.list("action_ids", ids)? },
            "OFPTableFeaturePropNextTables" => {
                TableFeatureProp::NextTables { prop_type, table_ids: p.bytes("table_ids")? }
            }
            "OFPTableFeaturePropOxm" => TableFeatureProp::Oxm {
                prop_type,
                ids: p.list("oxm_ids", |v| {
                    let i = class(v)?;
                    let name = i.str("type")?;
                    let base = match hex_header(name) {
                        Some(h) => h & 0xffff_fe00,
                        None => {
                            crate::v1_3::oxm::json::field_by_name(name)
                                .ok_or_else(|| JsonError(format!("unknown OXM id {}", name)))?
                                .header(false)
                                & 0xffff_fe00
                        }
                    };
                    let h = base | (i.u32("hasmask")? & 1) << 8 | (i.u32("length")? & 0xff);
                    Ok(match i.opt("exp_id") {
                        Some(_) => vec![h, i.u32("exp_id")?],
                        None => vec![h],
                    })
                })?,
            },
            "OFPTableFeaturePropExperimenter" => TableFeatureProp::Experimenter {
                prop_type,
                experimenter: p.u32("experimenter")?,
                exp_type: p.u32("exp_type")?,
                data: p.list("data", |x| {
                    num(x).and_then(|x| u32::try_from(x).ok()).ok_or_else(|| JsonError("bad data word".into()))
                })?,
            },
            _ => TableFeatureProp::Unknown { prop_type, data: p.bytes("data")? },
        })
    }
}
