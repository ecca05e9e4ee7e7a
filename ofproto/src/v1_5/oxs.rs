//! OXS statistics TLVs and `ofp_stats` (OpenFlow 1.5 §7.2.4): the counters of flow removals, flow and
//! aggregate statistics.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// `OFPXSC_OPENFLOW_BASIC`.
pub const OFPXSC_OPENFLOW_BASIC: u16 = 0x8002;

/// The OpenFlow-basic OXS fields (`OFPXST_OFB_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OxsField {
    /// Time the flow has been alive: seconds and nanoseconds (8 bytes).
    Duration = 0,
    /// Time the flow has been idle: seconds and nanoseconds (8 bytes).
    IdleTime = 1,
    /// Number of flows (4 bytes).
    FlowCount = 3,
    /// Packets (8 bytes).
    PacketCount = 4,
    /// Bytes (8 bytes).
    ByteCount = 5,
}

impl OxsField {
    const ALL: [OxsField; 5] =
        [OxsField::Duration, OxsField::IdleTime, OxsField::FlowCount, OxsField::PacketCount, OxsField::ByteCount];
    /// Ryu's name.
    pub fn name(self) -> &'static str {
        match self {
            OxsField::Duration => "duration",
            OxsField::IdleTime => "idle_time",
            OxsField::FlowCount => "flow_count",
            OxsField::PacketCount => "packet_count",
            OxsField::ByteCount => "byte_count",
        }
    }
    /// Value length in bytes.
    pub fn value_len(self) -> usize {
        if self == OxsField::FlowCount {
            4
        } else {
            8
        }
    }
    /// The field of an OpenFlow-basic field number.
    pub fn from_number(n: u8) -> Option<OxsField> {
        Self::ALL.into_iter().find(|f| *f as u8 == n)
    }
    /// The field Ryu names `name`.
    pub fn from_name(name: &str) -> Option<OxsField> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One OXS TLV; `body` is the value (any class and field, so that every TLV re-encodes exactly).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oxs {
    /// OXS class.
    pub class: u16,
    /// Field number (7 bits).
    pub field: u8,
    /// Value.
    pub body: Vec<u8>,
}

impl Oxs {
    /// An OpenFlow-basic TLV holding `value` (as wide as the field).
    pub fn new(field: OxsField, value: u64) -> Oxs {
        let b = value.to_be_bytes();
        Oxs { class: OFPXSC_OPENFLOW_BASIC, field: field as u8, body: b[8 - field.value_len()..].to_vec() }
    }
    /// A duration or idle time of `sec` seconds and `nsec` nanoseconds.
    pub fn time(field: OxsField, sec: u32, nsec: u32) -> Oxs {
        Oxs::new(field, (sec as u64) << 32 | nsec as u64)
    }
    /// The known field, if the TLV is one with the right length.
    pub fn known(&self) -> Option<OxsField> {
        OxsField::from_number(self.field)
            .filter(|f| self.class == OFPXSC_OPENFLOW_BASIC && f.value_len() == self.body.len())
    }
    /// The value as an unsigned integer (big-endian, the first 8 bytes at most).
    pub fn value_u64(&self) -> u64 {
        crate::v1_3::oxm::be_u64(&self.body)
    }
    /// Parses one TLV.
    pub fn parse(r: &mut Reader<'_>) -> Result<Oxs, DecodeError> {
        let class = r.u16()?;
        let fb = r.u8()?;
        let len = r.u8()? as usize;
        Ok(Oxs { class, field: fb >> 1, body: r.bytes(len)?.to_vec() })
    }
    /// Appends the TLV; fails if the value is longer than 255 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let len = u8::try_from(self.body.len()).map_err(|_| EncodeError::TooLong {
            what: "an OXS TLV body",
            length: self.body.len(),
            limit: 255,
        })?;
        out.put_u16(self.class);
        out.put_u8(self.field << 1);
        out.put_u8(len);
        out.extend_from_slice(&self.body);
        Ok(())
    }
}

/// `ofp_stats`: a list of OXS TLVs, padded to 8 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// The statistics.
    pub fields: Vec<Oxs>,
}

impl Stats {
    /// The value of field `f`, if present.
    pub fn get(&self, f: OxsField) -> Option<u64> {
        self.fields.iter().find(|o| o.known() == Some(f)).map(Oxs::value_u64)
    }
    /// Adds a TLV.
    pub fn with(mut self, o: Oxs) -> Self {
        self.fields.push(o);
        self
    }
    /// Parses the structure and its padding.
    pub fn parse(r: &mut Reader<'_>) -> Result<Stats, DecodeError> {
        let start = r.offset();
        r.skip(2)?;
        let len = r.u16()? as usize;
        if len < 4 {
            return Err(r.err_at(start + 2, format!("stats length {} is shorter than 4", len)));
        }
        let mut b =
            r.sub(len - 4).map_err(|_| r.err_at(start + 2, format!("stats length {} exceeds the message", len)))?;
        let fields = crate::wire::list(&mut b, Oxs::parse)?;
        r.skip(crate::wire::pad8(len) - len)?;
        Ok(Stats { fields })
    }
    /// Appends the structure and its padding.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(0);
        for f in &self.fields {
            f.emit(out)?;
        }
        out.set_len16(start + 2, start, "the statistics (ofp_stats)")?;
        out.pad8_from(start);
        Ok(())
    }
    /// The length field's value (padding excluded).
    pub fn length(&self) -> usize {
        4 + self.fields.iter().map(|f| 4 + f.body.len()).sum::<usize>()
    }
}

/// JSON of `OFPStats` and `OXSTlv`.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Oxs, OxsField, Stats};
    use crate::json::{base64, class, cls, hex_header, num, JsonError, R};
    use serde_json::{json, Value};

    /// `{"OXSTlv": {"field", "value"}}`: durations as `[seconds, nanoseconds]`, counters as numbers, unknown
    /// fields as `field_0x<header>` with the raw value.
    pub(crate) fn oxs_json(o: &Oxs) -> Value {
        let (field, value) = match o.known() {
            Some(f @ (OxsField::Duration | OxsField::IdleTime)) => {
                let v = o.value_u64();
                (f.name().to_string(), json!([v >> 32, v & 0xffff_ffff]))
            }
            Some(f) => (f.name().to_string(), json!(o.value_u64())),
            None => (format!("field_0x{:08x}", (o.class as u32) << 16 | (o.field as u32) << 9), json!(base64(&o.body))),
        };
        cls("OXSTlv", json!({"field": field, "value": value}))
    }

    pub(crate) fn oxs_from_json(v: &Value) -> R<Oxs> {
        let o = class(v)?;
        let name = o.str("field")?;
        if let Some(h) = hex_header(name) {
            return Ok(Oxs { class: (h >> 16) as u16, field: ((h >> 9) & 0x7f) as u8, body: o.bytes("value")? });
        }
        let f = OxsField::from_name(name).ok_or_else(|| JsonError(format!("unknown OXS field {}", name)))?;
        let value = o.v("value")?;
        let bad = || JsonError(format!("bad OXS value {}", value));
        Ok(match f {
            OxsField::Duration | OxsField::IdleTime => {
                let a = value.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
                let part = |i: usize| a.get(i).and_then(num).and_then(|x| u32::try_from(x).ok()).ok_or_else(bad);
                Oxs::time(f, part(0)?, part(1)?)
            }
            _ => {
                let n = num(value).ok_or_else(bad)?;
                if f.value_len() == 4 && n > u32::MAX as u64 {
                    return Err(bad());
                }
                Oxs::new(f, n)
            }
        })
    }

    /// `{"OFPStats": ...}`.
    pub(crate) fn stats_json(s: &Stats) -> Value {
        cls("OFPStats", json!({"length": s.length(), "oxs_fields": s.fields.iter().map(oxs_json).collect::<Vec<_>>()}))
    }

    pub(crate) fn stats_from_json(v: &Value) -> R<Stats> {
        let o = class(v)?;
        Ok(Stats { fields: o.list("oxs_fields", oxs_from_json)? })
    }
}
