//! The controller's role and asynchronous configuration: `OFPT_ROLE_REQUEST`/`OFPT_ROLE_REPLY` and
//! `OFPT_GET_ASYNC_REPLY`/`OFPT_SET_ASYNC`.

use crate::error::DecodeError;
use crate::wire::{Put, Reader};

/// Role request/reply body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Role {
    /// `OFPCR_ROLE_*`.
    pub role: u32,
    /// Generation id.
    pub generation_id: u64,
}

impl Role {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<Role, DecodeError> {
        let role = r.u32()?;
        r.skip(4)?;
        Ok(Role { role, generation_id: r.u64()? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.role);
        out.put_zeros(4);
        out.put_u64(self.generation_id);
    }
}

/// Asynchronous message configuration (get-async reply / set-async).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// Packet-in reasons for [master/equal, slave].
    pub packet_in_mask: [u32; 2],
    /// Port-status reasons.
    pub port_status_mask: [u32; 2],
    /// Flow-removed reasons.
    pub flow_removed_mask: [u32; 2],
}

impl AsyncConfig {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<AsyncConfig, DecodeError> {
        Ok(AsyncConfig {
            packet_in_mask: [r.u32()?, r.u32()?],
            port_status_mask: [r.u32()?, r.u32()?],
            flow_removed_mask: [r.u32()?, r.u32()?],
        })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        for v in self.packet_in_mask.iter().chain(&self.port_status_mask).chain(&self.flow_removed_mask) {
            out.put_u32(*v);
        }
    }
}

/// JSON of the role and asynchronous configuration (`OFPRoleRequest`/`OFPRoleReply`,
/// `OFPGetAsyncReply`/`OFPSetAsync`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{AsyncConfig, Role};
    use crate::json::{cls, Obj, R};
    use serde_json::{json, Value};

    impl Role {
        /// The fields, under the class `name` (`OFPRoleRequest` or `OFPRoleReply`).
        pub(crate) fn to_json(self, name: &str) -> Value {
            cls(name, json!({"role": self.role, "generation_id": self.generation_id}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<Role> {
            Ok(Role { role: o.u32("role")?, generation_id: o.u64("generation_id")? })
        }
    }

    impl AsyncConfig {
        /// The fields, under the class `name` (`OFPGetAsyncReply` or `OFPSetAsync`).
        pub(crate) fn to_json(self, name: &str) -> Value {
            cls(
                name,
                json!({"packet_in_mask": self.packet_in_mask, "port_status_mask": self.port_status_mask, "flow_removed_mask": self.flow_removed_mask}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<AsyncConfig> {
            Ok(AsyncConfig {
                packet_in_mask: o.u32s("packet_in_mask")?,
                port_status_mask: o.u32s("port_status_mask")?,
                flow_removed_mask: o.u32s("flow_removed_mask")?,
            })
        }
    }
}
