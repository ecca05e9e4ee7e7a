//! Ports with properties: `ofp_port`, `OFPT_PORT_STATUS` and `OFPT_PORT_MOD` (OpenFlow 1.4 §7.2.1, §7.3.4.3,
//! §7.4.3; unchanged in 1.5).

use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, Prop, PropKind};
use crate::types::FixedStr;
use crate::wire::{Put, Reader};
use crate::MacAddr;

/// `OFPPDPT_ETHERNET`: the Ethernet features of a port (`ofp_port_desc_prop_ethernet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortEthernet {
    /// Current features (`OFPPF_*`).
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

/// `OFPPDPT_OPTICAL`: the optical features of a port (`ofp_port_desc_prop_optical`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortOptical {
    /// `OFPOPF_*` features.
    pub supported: u32,
    /// Minimum TX frequency or wavelength.
    pub tx_min_freq_lmda: u32,
    /// Maximum TX frequency or wavelength.
    pub tx_max_freq_lmda: u32,
    /// TX grid spacing.
    pub tx_grid_freq_lmda: u32,
    /// Minimum RX frequency or wavelength.
    pub rx_min_freq_lmda: u32,
    /// Maximum RX frequency or wavelength.
    pub rx_max_freq_lmda: u32,
    /// RX grid spacing.
    pub rx_grid_freq_lmda: u32,
    /// Minimum TX power.
    pub tx_pwr_min: u16,
    /// Maximum TX power.
    pub tx_pwr_max: u16,
}

/// A port description property (`OFPPDPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortDescProp {
    /// `OFPPDPT_ETHERNET` (0).
    Ethernet(PortEthernet),
    /// `OFPPDPT_OPTICAL` (1).
    Optical(PortOptical),
}

impl PropKind for PortDescProp {
    const CLASS: &'static str = "OFPPortDescProp";
    const WHAT: &'static str = "a port description property";
    fn prop_type(&self) -> u16 {
        match self {
            PortDescProp::Ethernet(_) => 0,
            PortDescProp::Optical(_) => 1,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match t {
            0 => {
                r.skip(4)?;
                PortDescProp::Ethernet(PortEthernet {
                    curr: r.u32()?,
                    advertised: r.u32()?,
                    supported: r.u32()?,
                    peer: r.u32()?,
                    curr_speed: r.u32()?,
                    max_speed: r.u32()?,
                })
            }
            1 => {
                r.skip(4)?;
                PortDescProp::Optical(PortOptical {
                    supported: r.u32()?,
                    tx_min_freq_lmda: r.u32()?,
                    tx_max_freq_lmda: r.u32()?,
                    tx_grid_freq_lmda: r.u32()?,
                    rx_min_freq_lmda: r.u32()?,
                    rx_max_freq_lmda: r.u32()?,
                    rx_grid_freq_lmda: r.u32()?,
                    tx_pwr_min: r.u16()?,
                    tx_pwr_max: r.u16()?,
                })
            }
            _ => return Ok(None),
        }))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_zeros(4);
        match self {
            PortDescProp::Ethernet(e) => {
                for v in [e.curr, e.advertised, e.supported, e.peer, e.curr_speed, e.max_speed] {
                    out.put_u32(v);
                }
            }
            PortDescProp::Optical(o) => {
                for v in [
                    o.supported,
                    o.tx_min_freq_lmda,
                    o.tx_max_freq_lmda,
                    o.tx_grid_freq_lmda,
                    o.rx_min_freq_lmda,
                    o.rx_max_freq_lmda,
                    o.rx_grid_freq_lmda,
                ] {
                    out.put_u32(v);
                }
                out.put_u16(o.tx_pwr_min);
                out.put_u16(o.tx_pwr_max);
            }
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for PortDescProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            PortDescProp::Ethernet(e) => (
                "OFPPortDescPropEthernet",
                json!({"curr": e.curr, "advertised": e.advertised, "supported": e.supported, "peer": e.peer,
                       "curr_speed": e.curr_speed, "max_speed": e.max_speed}),
            ),
            PortDescProp::Optical(o) => (
                "OFPPortDescPropOptical",
                json!({"supported": o.supported, "tx_min_freq_lmda": o.tx_min_freq_lmda, "tx_max_freq_lmda": o.tx_max_freq_lmda,
                       "tx_grid_freq_lmda": o.tx_grid_freq_lmda, "rx_min_freq_lmda": o.rx_min_freq_lmda,
                       "rx_max_freq_lmda": o.rx_max_freq_lmda, "rx_grid_freq_lmda": o.rx_grid_freq_lmda,
                       "tx_pwr_min": o.tx_pwr_min, "tx_pwr_max": o.tx_pwr_max}),
            ),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(Some(match o.name {
            "OFPPortDescPropEthernet" => PortDescProp::Ethernet(PortEthernet {
                curr: o.u32("curr")?,
                advertised: o.u32("advertised")?,
                supported: o.u32("supported")?,
                peer: o.u32("peer")?,
                curr_speed: o.u32("curr_speed")?,
                max_speed: o.u32("max_speed")?,
            }),
            "OFPPortDescPropOptical" => PortDescProp::Optical(PortOptical {
                supported: o.u32("supported")?,
                tx_min_freq_lmda: o.u32("tx_min_freq_lmda")?,
                tx_max_freq_lmda: o.u32("tx_max_freq_lmda")?,
                tx_grid_freq_lmda: o.u32("tx_grid_freq_lmda")?,
                rx_min_freq_lmda: o.u32("rx_min_freq_lmda")?,
                rx_max_freq_lmda: o.u32("rx_max_freq_lmda")?,
                rx_grid_freq_lmda: o.u32("rx_grid_freq_lmda")?,
                tx_pwr_min: o.u16("tx_pwr_min")?,
                tx_pwr_max: o.u16("tx_pwr_max")?,
            }),
            _ => return Ok(None),
        }))
    }
}

/// `ofp_port` of OpenFlow 1.4 and 1.5: 40 bytes and properties.
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
    /// Properties (Ethernet and optical features, experimenter).
    pub properties: Vec<Prop<PortDescProp>>,
}

impl Port {
    /// A port with Ethernet features `eth`.
    pub fn ethernet(port_no: u32, hw_addr: MacAddr, name: &str, eth: PortEthernet) -> Port {
        Port {
            port_no,
            hw_addr,
            name: FixedStr::from(name),
            properties: vec![Prop::Known(PortDescProp::Ethernet(eth))],
            ..Default::default()
        }
    }

    /// The Ethernet features, if the port has them.
    pub fn ethernet_features(&self) -> Option<&PortEthernet> {
        self.properties.iter().find_map(|p| match p {
            Prop::Known(PortDescProp::Ethernet(e)) => Some(e),
            _ => None,
        })
    }

    /// Parses a port (its length field says where it ends).
    pub fn parse(r: &mut Reader<'_>) -> Result<Port, DecodeError> {
        let start = r.offset();
        let port_no = r.u32()?;
        let len = r.u16()? as usize;
        if len < 40 {
            return Err(r.err_at(start + 4, format!("port length {} is shorter than 40", len)));
        }
        let mut b =
            r.sub(len - 6).map_err(|_| r.err_at(start + 4, format!("port length {} exceeds the message", len)))?;
        b.skip(2)?;
        let hw_addr = MacAddr(b.array()?);
        b.skip(2)?;
        Ok(Port {
            port_no,
            hw_addr,
            name: FixedStr(b.array()?),
            config: b.u32()?,
            state: b.u32()?,
            properties: Prop::parse_list(&mut b)?,
        })
    }

    /// Appends the port; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u32(self.port_no);
        out.put_u16(0);
        out.put_zeros(2);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_zeros(2);
        out.extend_from_slice(&self.name.0);
        out.put_u32(self.config);
        out.put_u32(self.state);
        emit_list(&self.properties, out)?;
        out.set_len16(start + 4, start, "a port description")
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
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u8(self.reason);
        out.put_zeros(7);
        self.desc.emit(out)
    }
}

/// `OFPPMPT_OPTICAL`: optical settings to change (`ofp_port_mod_prop_optical`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortModOptical {
    /// `OFPOPF_*` to configure.
    pub configure: u32,
    /// Frequency or wavelength.
    pub freq_lmda: u32,
    /// Offset from the grid.
    pub fl_offset: i32,
    /// Grid span.
    pub grid_span: u32,
    /// TX power.
    pub tx_pwr: u32,
}

/// A port modification property (`OFPPMPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortModProp {
    /// `OFPPMPT_ETHERNET` (0): features to advertise.
    Ethernet {
        /// `OFPPF_*` to advertise.
        advertise: u32,
    },
    /// `OFPPMPT_OPTICAL` (1).
    Optical(PortModOptical),
}

impl PropKind for PortModProp {
    const CLASS: &'static str = "OFPPortModProp";
    const WHAT: &'static str = "a port modification property";
    fn prop_type(&self) -> u16 {
        match self {
            PortModProp::Ethernet { .. } => 0,
            PortModProp::Optical(_) => 1,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match t {
            0 => PortModProp::Ethernet { advertise: r.u32()? },
            1 => PortModProp::Optical(PortModOptical {
                configure: r.u32()?,
                freq_lmda: r.u32()?,
                fl_offset: r.u32()? as i32,
                grid_span: r.u32()?,
                tx_pwr: r.u32()?,
            }),
            _ => return Ok(None),
        }))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            PortModProp::Ethernet { advertise } => out.put_u32(*advertise),
            PortModProp::Optical(o) => {
                for v in [o.configure, o.freq_lmda, o.fl_offset as u32, o.grid_span, o.tx_pwr] {
                    out.put_u32(v);
                }
            }
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for PortModProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            PortModProp::Ethernet { advertise } => ("OFPPortModPropEthernet", json!({"advertise": advertise})),
            PortModProp::Optical(o) => (
                "OFPPortModPropOptical",
                json!({"configure": o.configure, "freq_lmda": o.freq_lmda, "fl_offset": o.fl_offset,
                       "grid_span": o.grid_span, "tx_pwr": o.tx_pwr}),
            ),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(Some(match o.name {
            "OFPPortModPropEthernet" => PortModProp::Ethernet { advertise: o.u32("advertise")? },
            "OFPPortModPropOptical" => PortModProp::Optical(PortModOptical {
                configure: o.u32("configure")?,
                freq_lmda: o.u32("freq_lmda")?,
                fl_offset: o.i32("fl_offset")?,
                grid_span: o.u32("grid_span")?,
                tx_pwr: o.u32("tx_pwr")?,
            }),
            _ => return Ok(None),
        }))
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
    /// Properties (features to advertise, optical settings, experimenter).
    pub properties: Vec<Prop<PortModProp>>,
}

impl PortMod {
    /// Sets `config` bits under `mask` on `port_no` (whose address is `hw_addr`).
    pub fn new(port_no: u32, hw_addr: MacAddr, config: u32, mask: u32) -> PortMod {
        PortMod { port_no, hw_addr, config, mask, properties: Vec::new() }
    }
    /// Adds a property.
    pub fn property(mut self, p: PortModProp) -> Self {
        self.properties.push(Prop::Known(p));
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PortMod, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = MacAddr(r.array()?);
        r.skip(2)?;
        Ok(PortMod { port_no, hw_addr, config: r.u32()?, mask: r.u32()?, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr.0);
        out.put_zeros(2);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        emit_list(&self.properties, out)
    }
}

/// JSON of the ports (`OFPPort`, `OFPPortStatus`, `OFPPortMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Port, PortMod, PortStatus};
    use crate::json::{class, cls, part_len, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use serde_json::{json, Value};

    /// `{"OFPPort": ...}`.
    pub(crate) fn port_json(p: &Port) -> Value {
        cls(
            "OFPPort",
            json!({"port_no": p.port_no, "length": part_len(|b| p.emit(b)), "hw_addr": p.hw_addr.to_string(),
                   "name": p.name.as_str(), "config": p.config, "state": p.state, "properties": props_json(&p.properties)}),
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
            properties: props_from_json(&o, "properties")?,
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
                json!({"port_no": self.port_no, "hw_addr": self.hw_addr.to_string(), "config": self.config,
                       "mask": self.mask, "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PortMod> {
            Ok(PortMod {
                port_no: o.u32("port_no")?,
                hw_addr: o.mac("hw_addr")?,
                config: o.u32("config")?,
                mask: o.u32("mask")?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }
}
