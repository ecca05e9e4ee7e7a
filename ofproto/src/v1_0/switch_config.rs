//! Switch configuration: `OFPT_FEATURES_REPLY` and `OFPT_GET_CONFIG_REPLY`/`OFPT_SET_CONFIG`.

use super::ports::PhyPort;
use crate::error::DecodeError;
use crate::wire::{list, Put, Reader};

/// `OFPT_FEATURES_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id.
    pub datapath_id: u64,
    /// Buffers.
    pub n_buffers: u32,
    /// Tables.
    pub n_tables: u8,
    /// `OFPC_*`.
    pub capabilities: u32,
    /// Supported action bitmap.
    pub actions: u32,
    /// Ports.
    pub ports: Vec<PhyPort>,
}

impl SwitchFeatures {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<SwitchFeatures, DecodeError> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        r.skip(3)?;
        let capabilities = r.u32()?;
        let actions = r.u32()?;
        if !r.remaining().is_multiple_of(PhyPort::LEN) {
            return Err(r.err(format!("port list of {} bytes is not a multiple of 48", r.remaining())));
        }
        Ok(SwitchFeatures { datapath_id, n_buffers, n_tables, capabilities, actions, ports: list(r, PhyPort::parse)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u64(self.datapath_id);
        out.put_u32(self.n_buffers);
        out.put_u8(self.n_tables);
        out.put_zeros(3);
        out.put_u32(self.capabilities);
        out.put_u32(self.actions);
        for p in &self.ports {
            p.emit(out);
        }
    }
}

/// Switch configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_FRAG_*`.
    pub flags: u16,
    /// Miss send length.
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

/// JSON of the switch configuration (`OFPSwitchFeatures`, `OFPGetConfigReply`/`OFPSetConfig`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{PhyPort, SwitchConfig, SwitchFeatures};
    use crate::json::{bad, cls, Obj, R};
    use crate::v1_0::ports::json::{phy_port_from_json, phy_port_json};
    use serde_json::{json, Map, Value};

    impl SwitchFeatures {
        pub(crate) fn to_json(&self) -> Value {
            let f = self;
            let mut ports = Map::new();
            for p in &f.ports {
                ports.insert(p.port_no.to_string(), phy_port_json(p));
            }
            cls(
                "OFPSwitchFeatures",
                json!({"datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables,
                       "capabilities": f.capabilities, "actions": f.actions, "ports": ports}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<SwitchFeatures> {
            let mut ports: Vec<PhyPort> = match o.v("ports")? {
                Value::Object(m) => m.values().map(phy_port_from_json).collect::<R<_>>()?,
                Value::Array(a) => a.iter().map(phy_port_from_json).collect::<R<_>>()?,
                _ => return bad("OFPSwitchFeatures.ports: not an object"),
            };
            // The JSON object is keyed by port number; wire order is not recoverable, use descending like the corpus.
            ports.sort_by_key(|p| std::cmp::Reverse(p.port_no));
            Ok(SwitchFeatures {
                datapath_id: o.u64("datapath_id")?,
                n_buffers: o.u32("n_buffers")?,
                n_tables: o.u8("n_tables")?,
                capabilities: o.u32("capabilities")?,
                actions: o.u32("actions")?,
                ports,
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
}
