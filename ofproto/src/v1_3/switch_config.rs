//! Switch and table configuration: `OFPT_FEATURES_REPLY`, `OFPT_GET_CONFIG_REPLY`/`OFPT_SET_CONFIG` and
//! `OFPT_TABLE_MOD`.

use crate::error::DecodeError;
use crate::wire::{Put, Reader};

/// `OFPT_FEATURES_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id.
    pub datapath_id: u64,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Number of tables.
    pub n_tables: u8,
    /// Auxiliary connection id.
    pub auxiliary_id: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Reserved word (kept for exact re-encoding).
    pub reserved: u32,
}

impl SwitchFeatures {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<SwitchFeatures, DecodeError> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        let auxiliary_id = r.u8()?;
        r.skip(2)?;
        Ok(SwitchFeatures {
            datapath_id,
            n_buffers,
            n_tables,
            auxiliary_id,
            capabilities: r.u32()?,
            reserved: r.u32()?,
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u64(self.datapath_id);
        out.put_u32(self.n_buffers);
        out.put_u8(self.n_tables);
        out.put_u8(self.auxiliary_id);
        out.put_zeros(2);
        out.put_u32(self.capabilities);
        out.put_u32(self.reserved);
    }
}

/// Switch configuration (`OFPT_GET_CONFIG_REPLY` / `OFPT_SET_CONFIG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_FRAG_*` flags.
    pub flags: u16,
    /// Bytes of a table-miss packet to send to the controller.
    pub miss_send_len: u16,
}

impl SwitchConfig {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<SwitchConfig, DecodeError> {
        Ok(SwitchConfig { flags: r.u16()?, miss_send_len: r.u16()? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.flags);
        out.put_u16(self.miss_send_len);
    }
}

/// `OFPT_TABLE_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableMod {
    /// Table id.
    pub table_id: u8,
    /// Config bits.
    pub config: u32,
}

impl TableMod {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<TableMod, DecodeError> {
        let table_id = r.u8()?;
        r.skip(3)?;
        Ok(TableMod { table_id, config: r.u32()? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.table_id);
        out.put_zeros(3);
        out.put_u32(self.config);
    }
}

/// JSON of the switch and table configuration (`OFPSwitchFeatures`, `OFPGetConfigReply`/`OFPSetConfig`,
/// `OFPTableMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{SwitchConfig, SwitchFeatures, TableMod};
    use crate::json::{cls, Obj, R};
    use serde_json::{json, Value};

    impl SwitchFeatures {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            cls(
                "OFPSwitchFeatures",
                json!({"datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables, "auxiliary_id": f.auxiliary_id, "capabilities": f.capabilities}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<SwitchFeatures> {
            Ok(SwitchFeatures {
                datapath_id: o.u64("datapath_id")?,
                n_buffers: o.u32("n_buffers")?,
                n_tables: o.u8("n_tables")?,
                auxiliary_id: o.u8("auxiliary_id")?,
                capabilities: o.u32("capabilities")?,
                reserved: 0,
            })
        }
    }

    impl SwitchConfig {
        /// The fields, under the class `name` (`OFPGetConfigReply` or `OFPSetConfig`).
        pub(crate) fn to_json(self, name: &str) -> Value {
            cls(name, json!({"flags": self.flags, "miss_send_len": self.miss_send_len}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<SwitchConfig> {
            Ok(SwitchConfig { flags: o.u16("flags")?, miss_send_len: o.u16("miss_send_len")? })
        }
    }

    impl TableMod {
        pub(crate) fn to_json(&self) -> Value {
            cls("OFPTableMod", json!({"table_id": self.table_id, "config": self.config}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<TableMod> {
            Ok(TableMod { table_id: o.u8("table_id")?, config: o.u32("config")? })
        }
    }
}
