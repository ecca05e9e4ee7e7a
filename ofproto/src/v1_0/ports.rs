//! Ports: `ofp_phy_port`, `OFPT_PORT_STATUS` and `OFPT_PORT_MOD` (the reserved port numbers are in
//! [`super::port`]).

use crate::error::DecodeError;
use crate::types::FixedStr;
use crate::wire::{Put, Reader};
use crate::MacAddr;

/// `ofp_phy_port` (48 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PhyPort {
    /// Port number.
    pub port_no: u16,
    /// MAC address.
    pub hw_addr: MacAddr,
    /// Name.
    pub name: FixedStr<16>,
    /// `OFPPC_*`.
    pub config: u32,
    /// `OFPPS_*`.
    pub state: u32,
    /// Current features.
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Peer features.
    pub peer: u32,
}

impl PhyPort {
    /// Wire size.
    pub const LEN: usize = 48;
    /// Parses a port.
    pub fn parse(r: &mut Reader<'_>) -> Result<PhyPort, DecodeError> {
        Ok(PhyPort {
            port_no: r.u16()?,
            hw_addr: MacAddr(r.array()?),
            name: FixedStr(r.array()?),
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
        })
    }
    /// Appends the port.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.port_no);
        out.extend_from_slice(&self.hw_addr.0);
        out.extend_from_slice(&self.name.0);
        for v in [self.config, self.state, self.curr, self.advertised, self.supported, self.peer] {
            out.put_u32(v);
        }
    }
}

/// `OFPT_PORT_STATUS` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// `OFPPR_*`.
    pub reason: u8,
    /// Port.
    pub desc: PhyPort,
}

impl PortStatus {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PortStatus, DecodeError> {
        let reason = r.u8()?;
        r.skip(7)?;
        Ok(PortStatus { reason, desc: PhyPort::parse(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.reason);
        out.put_zeros(7);
        self.desc.emit(out);
    }
}

/// `OFPT_PORT_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortMod {
    /// Port.
    pub port_no: u16,
    /// MAC.
    pub hw_addr: MacAddr,
    /// Config bits.
    pub config: u32,
    /// Which bits to change.
    pub mask: u32,
    /// Features to advertise.
    pub advertise: u32,
}

impl PortMod {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PortMod, DecodeError> {
        let p = PortMod {
            port_no: r.u16()?,
            hw_addr: MacAddr(r.array()?),
            config: r.u32()?,
            mask: r.u32()?,
            advertise: r.u32()?,
        };
        r.skip(4)?;
        Ok(p)
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.port_no);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        out.put_u32(self.advertise);
        out.put_zeros(4);
    }
}

/// JSON of the ports (`OFPPhyPort`, `OFPPortStatus`, `OFPPortMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{PhyPort, PortMod, PortStatus};
    use crate::json::{class, cls, Obj, R};
    use serde_json::{json, Value};

    /// `{"OFPPhyPort": ...}`.
    pub(crate) fn phy_port_json(p: &PhyPort) -> Value {
        cls(
            "OFPPhyPort",
            json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "name": p.name.as_str(), "config": p.config,
               "state": p.state, "curr": p.curr, "advertised": p.advertised, "supported": p.supported, "peer": p.peer}),
        )
    }

    /// A port from `{"OFPPhyPort": ...}`.
    pub(crate) fn phy_port_from_json(v: &Value) -> R<PhyPort> {
        let o = class(v)?;
        Ok(PhyPort {
            port_no: o.u16("port_no")?,
            hw_addr: o.mac("hw_addr")?,
            name: o.fixed("name")?,
            config: o.u32("config")?,
            state: o.u32("state")?,
            curr: o.u32("curr")?,
            advertised: o.u32("advertised")?,
            supported: o.u32("supported")?,
            peer: o.u32("peer")?,
        })
    }

    impl PortStatus {
        pub(crate) fn to_json(&self) -> Value {
            cls("OFPPortStatus", json!({"reason": self.reason, "desc": phy_port_json(&self.desc)}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PortStatus> {
            Ok(PortStatus { reason: o.u8("reason")?, desc: phy_port_from_json(o.v("desc")?)? })
        }
    }

    impl PortMod {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            cls(
                "OFPPortMod",
                json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "config": p.config, "mask": p.mask, "advertise": p.advertise}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PortMod> {
            Ok(PortMod {
                port_no: o.u16("port_no")?,
                hw_addr: o.mac("hw_addr")?,
                config: o.u32("config")?,
                mask: o.u32("mask")?,
                advertise: o.u32("advertise")?,
            })
        }
    }
}
