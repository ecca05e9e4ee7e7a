//! Tables with properties: `OFPT_TABLE_MOD`, the table description (`OFPMP_TABLE_DESC`) and
//! `OFPT_TABLE_STATUS` (OpenFlow 1.4 §7.3.3, §7.3.5.15, §7.4.5; unchanged in 1.5).

use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, Prop, PropKind};
use crate::wire::{Put, Reader};

/// A table modification property (`OFPTMPT_*`), also in table descriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableModProp {
    /// `OFPTMPT_EVICTION` (2): `OFPTMPEF_*` flags.
    Eviction {
        /// `OFPTMPEF_*`.
        flags: u32,
    },
    /// `OFPTMPT_VACANCY` (3): vacancy thresholds, in percent.
    Vacancy {
        /// Low threshold.
        vacancy_down: u8,
        /// High threshold.
        vacancy_up: u8,
        /// Current vacancy (replies and status only).
        vacancy: u8,
    },
}

impl PropKind for TableModProp {
    const CLASS: &'static str = "OFPTableModProp";
    const WHAT: &'static str = "a table property";
    fn prop_type(&self) -> u16 {
        match self {
            TableModProp::Eviction { .. } => 2,
            TableModProp::Vacancy { .. } => 3,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match t {
            2 => TableModProp::Eviction { flags: r.u32()? },
            3 => {
                let p = TableModProp::Vacancy { vacancy_down: r.u8()?, vacancy_up: r.u8()?, vacancy: r.u8()? };
                r.skip(1)?;
                p
            }
            _ => return Ok(None),
        }))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            TableModProp::Eviction { flags } => out.put_u32(*flags),
            TableModProp::Vacancy { vacancy_down, vacancy_up, vacancy } => {
                out.extend_from_slice(&[*vacancy_down, *vacancy_up, *vacancy, 0]);
            }
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for TableModProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            TableModProp::Eviction { flags } => ("OFPTableModPropEviction", json!({"flags": flags})),
            TableModProp::Vacancy { vacancy_down, vacancy_up, vacancy } => (
                "OFPTableModPropVacancy",
                json!({"vacancy_down": vacancy_down, "vacancy_up": vacancy_up, "vacancy": vacancy}),
            ),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(Some(match o.name {
            "OFPTableModPropEviction" => TableModProp::Eviction { flags: o.u32("flags")? },
            "OFPTableModPropVacancy" => TableModProp::Vacancy {
                vacancy_down: o.u8("vacancy_down")?,
                vacancy_up: o.u8("vacancy_up")?,
                vacancy: o.u8("vacancy")?,
            },
            _ => return Ok(None),
        }))
    }
}

/// `OFPT_TABLE_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableMod {
    /// Table (`OFPTT_ALL` for all).
    pub table_id: u8,
    /// `OFPTC_*` (eviction, vacancy events).
    pub config: u32,
    /// Properties.
    pub properties: Vec<Prop<TableModProp>>,
}

impl TableMod {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<TableMod, DecodeError> {
        let table_id = r.u8()?;
        r.skip(3)?;
        Ok(TableMod { table_id, config: r.u32()?, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u8(self.table_id);
        out.put_zeros(3);
        out.put_u32(self.config);
        emit_list(&self.properties, out)
    }
}

/// `ofp_table_desc`: a table's configuration and properties.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableDesc {
    /// Table.
    pub table_id: u8,
    /// `OFPTC_*`.
    pub config: u32,
    /// Properties.
    pub properties: Vec<Prop<TableModProp>>,
}

impl TableDesc {
    /// Parses one description (its length field says where it ends).
    pub fn parse(r: &mut Reader<'_>) -> Result<TableDesc, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start, format!("table description length {} is shorter than 8", len)));
        }
        let mut b = r.sub(len - 2)?;
        let table_id = b.u8()?;
        b.skip(1)?;
        Ok(TableDesc { table_id, config: b.u32()?, properties: Prop::parse_list(&mut b)? })
    }
    /// Appends the description; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_u8(0);
        out.put_u32(self.config);
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a table description")
    }
}

/// `OFPT_TABLE_STATUS` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableStatus {
    /// `OFPTR_VACANCY_DOWN` (3) or `OFPTR_VACANCY_UP` (4).
    pub reason: u8,
    /// The table.
    pub table: TableDesc,
}

impl TableStatus {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<TableStatus, DecodeError> {
        let reason = r.u8()?;
        r.skip(7)?;
        Ok(TableStatus { reason, table: TableDesc::parse(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u8(self.reason);
        out.put_zeros(7);
        self.table.emit(out)
    }
}

/// JSON of `OFPTableMod`, `OFPTableDesc` and `OFPTableStatus`.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{TableDesc, TableMod, TableStatus};
    use crate::json::{class, cls, part_len, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use serde_json::{json, Value};

    impl TableMod {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPTableMod",
                json!({"table_id": self.table_id, "config": self.config, "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<TableMod> {
            Ok(TableMod {
                table_id: o.u8("table_id")?,
                config: o.u32("config")?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }

    impl TableDesc {
        /// `{"OFPTableDesc": ...}`.
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPTableDesc",
                json!({"length": part_len(|b| self.emit(b)), "table_id": self.table_id, "config": self.config,
                       "properties": props_json(&self.properties)}),
            )
        }
        /// A description from `{"OFPTableDesc": ...}`.
        pub(crate) fn from_json(v: &Value) -> R<TableDesc> {
            let o = class(v)?;
            Ok(TableDesc {
                table_id: o.u8("table_id")?,
                config: o.u32("config")?,
                properties: props_from_json(&o, "properties")?,
            })
        }
    }

    impl TableStatus {
        pub(crate) fn to_json(&self) -> Value {
            cls("OFPTableStatus", json!({"reason": self.reason, "table": self.table.to_json()}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<TableStatus> {
            Ok(TableStatus { reason: o.u8("reason")?, table: TableDesc::from_json(o.v("table")?)? })
        }
    }
}
