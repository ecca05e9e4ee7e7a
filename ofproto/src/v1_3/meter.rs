//! Meters: bands and `OFPT_METER_MOD`.

use super::consts;
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// A meter band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeterBand {
    /// `OFPMBT_DROP`.
    Drop {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
    },
    /// `OFPMBT_DSCP_REMARK`.
    DscpRemark {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Drop precedence increase.
        prec_level: u8,
    },
    /// `OFPMBT_EXPERIMENTER`.
    Experimenter {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Experimenter id.
        experimenter: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown band type (body after rate/burst).
    Unknown {
        /// Band type.
        band_type: u16,
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Body.
        data: Vec<u8>,
    },
}

impl MeterBand {
    /// Parses one band.
    pub fn parse(r: &mut Reader<'_>) -> Result<MeterBand, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start + 2, format!("meter band length {} is shorter than 16", len)));
        }
        let mut b = r.sub(len - 4)?;
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        Ok(match t {
            1 if len == 16 => MeterBand::Drop { rate, burst_size },
            2 if len == 16 => MeterBand::DscpRemark { rate, burst_size, prec_level: b.u8()? },
            0xffff => MeterBand::Experimenter { rate, burst_size, experimenter: b.u32()?, data: b.rest().to_vec() },
            _ => MeterBand::Unknown { band_type: t, rate, burst_size, data: b.rest().to_vec() },
        })
    }
    /// Appends the band; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let (t, rate, burst) = match self {
            MeterBand::Drop { rate, burst_size } => (1, rate, burst_size),
            MeterBand::DscpRemark { rate, burst_size, .. } => (2, rate, burst_size),
            MeterBand::Experimenter { rate, burst_size, .. } => (0xffff, rate, burst_size),
            MeterBand::Unknown { band_type, rate, burst_size, .. } => (*band_type, rate, burst_size),
        };
        out.put_u16(t);
        out.put_u16(0);
        out.put_u32(*rate);
        out.put_u32(*burst);
        match self {
            MeterBand::Drop { .. } => out.put_zeros(4),
            MeterBand::DscpRemark { prec_level, .. } => {
                out.put_u8(*prec_level);
                out.put_zeros(3);
            }
            MeterBand::Experimenter { experimenter, data, .. } => {
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
            }
            MeterBand::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.set_len16(start + 2, start, "a meter band")
    }
}

/// `OFPT_METER_MOD` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MeterMod {
    /// `OFPMC_*`.
    pub command: u16,
    /// `OFPMF_*`.
    pub flags: u16,
    /// Meter id.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

impl MeterMod {
    /// An `OFPMC_ADD` for `meter_id` with `flags` (`consts::meter::FLAG_*`).
    pub fn add(meter_id: u32, flags: u16) -> MeterMod {
        MeterMod { command: consts::meter::ADD, flags, meter_id, bands: Vec::new() }
    }
    /// An `OFPMC_DELETE`.
    pub fn delete(meter_id: u32) -> MeterMod {
        MeterMod { command: consts::meter::DELETE, flags: 0, meter_id, bands: Vec::new() }
    }
    /// Adds a drop band.
    pub fn drop_band(mut self, rate: u32, burst_size: u32) -> Self {
        self.bands.push(MeterBand::Drop { rate, burst_size });
        self
    }
    /// Adds a DSCP-remark band.
    pub fn dscp_remark_band(mut self, rate: u32, burst_size: u32, prec_level: u8) -> Self {
        self.bands.push(MeterBand::DscpRemark { rate, burst_size, prec_level });
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<MeterMod, DecodeError> {
        let command = r.u16()?;
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        Ok(MeterMod { command, flags, meter_id, bands: parse_meter_bands(r)? })
    }
    /// Appends the body; fails if a band is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.command);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        for b in &self.bands {
            b.emit(out)?;
        }
        Ok(())
    }
}

/// The bands that fill the rest of `r`.
pub(crate) fn parse_meter_bands(r: &mut Reader<'_>) -> Result<Vec<MeterBand>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(MeterBand::parse(r)?);
    }
    Ok(v)
}

/// JSON of the meters (`OFPMeterBand*`, `OFPMeterMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{MeterBand, MeterMod};
    use crate::json::{base64, class, cls, part_len, Obj, R};
    use serde_json::{json, Value};

    /// `{"OFPMeterBand...": ...}`.
    pub(crate) fn band_json(b: &MeterBand) -> Value {
        let len = part_len(|v| b.emit(v));
        match b {
            MeterBand::Drop { rate, burst_size } => {
                cls("OFPMeterBandDrop", json!({"type": 1, "len": len, "rate": rate, "burst_size": burst_size}))
            }
            MeterBand::DscpRemark { rate, burst_size, prec_level } => cls(
                "OFPMeterBandDscpRemark",
                json!({"type": 2, "len": len, "rate": rate, "burst_size": burst_size, "prec_level": prec_level}),
            ),
            MeterBand::Experimenter { rate, burst_size, experimenter, data } => {
                let mut f = json!({"type": 0xffff, "len": len, "rate": rate, "burst_size": burst_size, "experimenter": experimenter});
                // Ryu's class has no data; bytes after the experimenter id are shown only when there are some.
                if !data.is_empty() {
                    f["data"] = json!(base64(data));
                }
                cls("OFPMeterBandExperimenter", f)
            }
            MeterBand::Unknown { band_type, rate, burst_size, data } => cls(
                "OFPMeterBandUnknown",
                json!({"type": band_type, "len": len, "rate": rate, "burst_size": burst_size, "data": base64(data)}),
            ),
        }
    }

    /// A meter band from its JSON form.
    pub(crate) fn band_from_json(v: &Value) -> R<MeterBand> {
        let o = class(v)?;
        let (rate, burst_size) = (o.u32("rate")?, o.u32("burst_size")?);
        Ok(match o.name {
            "OFPMeterBandDrop" => MeterBand::Drop { rate, burst_size },
            "OFPMeterBandDscpRemark" => MeterBand::DscpRemark { rate, burst_size, prec_level: o.u8("prec_level")? },
            "OFPMeterBandExperimenter" => MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter: o.u32("experimenter")?,
                data: match o.opt("data") {
                    Some(_) => o.bytes("data")?,
                    None => Vec::new(),
                },
            },
            _ => MeterBand::Unknown { band_type: o.u16("type")?, rate, burst_size, data: o.bytes("data")? },
        })
    }

    impl MeterMod {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPMeterMod",
                json!({"command": self.command, "flags": self.flags, "meter_id": self.meter_id, "bands": self.bands.iter().map(band_json).collect::<Vec<_>>()}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<MeterMod> {
            Ok(MeterMod {
                command: o.u16("command")?,
                flags: o.u16("flags")?,
                meter_id: o.u32("meter_id")?,
                bands: o.list("bands", band_from_json)?,
            })
        }
    }
}
