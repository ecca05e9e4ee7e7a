//! Ports: `ofp_port`, `OFPT_PORT_STATUS` and `OFPT_PORT_MOD` (the reserved port numbers are in [`super::port`]).

use crate::error::DecodeError;
use crate::types::FixedStr;
use crate::wire::{Put, Reader};
use crate::MacAddr;

/// `ofp_port` (64 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Port {
    /// Port number.
    pub port_no: u32,
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
    /// Current speed, kbps.
    pub curr_speed: u32,
    /// Max speed, kbps.
    pub max_speed: u32,
}

impl Port {
    /// Wire size.
    pub const LEN: usize = 64;
    /// Parses a port.
    pub fn parse(r: &mut Reader<'_>) -> Result<Port, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.skip(2)?;
        Ok(Port {
            port_no,
            hw_addr,
            name: FixedStr(r.array()?),
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
            curr_speed: r.u32()?,
            max_speed: r.u32()?,
        })
    }
    /// Appends the port.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_zeros(2);
        out.extend_from_slice(&self.name.0);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            out.put_u32(v);
        }
    }
}

/// `OFPT_PORT_STATUS` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// `OFPPR_ADD` (0), `OFPPR_DELETE` (1), `OFPPR_MODIFY` (2).
    pub reason: u8,
    /// The port.
    pub desc: Port,
}

impl PortStatus {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PortStatus, DecodeError> {
        let reason = r.u8()?;
        r.skip(7)?;
        Ok(PortStatus { reason, desc: Port::parse(r)? })
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
    pub port_no: u32,
    /// Port MAC (sanity check).
    pub hw_addr: MacAddr,
    /// `OFPPC_*` values.
    pub config: u32,
    /// Which config bits to change.
    pub mask: u32,
    /// Features to advertise (0 = unchanged).
    pub advertise: u32,
}

impl PortMod {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PortMod, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.skip(2)?;
        let pm = PortMod { port_no, hw_addr, config: r.u32()?, mask: r.u32()?, advertise: r.u32()? };
        r.skip(4)?;
        Ok(pm)
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_zeros(2);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        out.put_u32(self.advertise);
        out.put_zeros(4);
    }
}

/// JSON of the ports (`OFPPort`, `OFPPortStatus`, `OFPPortMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Port, PortMod, PortStatus};
    use crate::json::{class, cls, Obj, R};
    use serde_json::{json, Value};

    /// `{"OFPPort": ...}`.
    pub(crate) fn port_json(p: &Port) -> Value {
        cls(
            "OFPPort",
            json!({"port_no": p.port_no, "hw_addr": p.hw_addr.to_string(), "name": p.name.as_str(), "config": p.config,
                   "state": p.state, "curr": p.curr, "advertised": p.advertised, "supported": p.supported, "peer": p.peer,
                   "curr_speed": p.curr_speed, "max_speed": p.max_speed}),
        )
    }

    /// A port from `{"OFPPort": ...}`.
    pub(crate) fn port_from_json(v: &Value) -> R<Port> {
        let o = class(v)?;
        Ok(Port {
            port_no: o.u32("port_no")?,
            hw_addr: o.mac("hw_addr")?,
            name: o.fixed("name")?,
            config: o.u32("config")?,
            state: o.u32("state")?,
            curr: o.u32("curr")?,
            advertised: o.u32("advertised")?,
            supported: o.u32("supported")?,
            peer: o.u32("peer")?,
            curr_speed: o.u32("curr_speed")?,
            max_speed: o.u32("max_speed")?,
        })
    }

    impl PortStatus {
        pub(crate) fn to_json(&self) -> Value {
            cls("OFPPortStatus", json!({"reason": self.reason, "desc": port_json(&self.desc)}))
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PortStatus> {
            Ok(PortStatus { reason: o.u8("reason")?, desc: port_from_json(o.v("desc")?)? })
        }
    }

    impl PortMod {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPPortMod",
                json!({"port_no": self.port_no, "hw_addr": self.hw_addr.to_string(), "config": self.config, "mask": self.mask, "advertise": self.advertise}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PortMod> {
            Ok(PortMod {
                port_no: o.u32("port_no")?,
                hw_addr: o.mac("hw_addr")?,
                config: o.u32("config")?,
                mask: o.u32("mask")?,
                advertise: o.u32("advertise")?,
            })
        }
    }
}
