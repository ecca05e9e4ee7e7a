//! LLDP (IEEE 802.1AB), which etherparse does not cover, in etherparse's style:
//! a zero-copy [`LldpSlice`] checked once by `from_slice` and then read through
//! accessors and a TLV iterator, and an owned [`Lldpdu`] with `from_slice`,
//! `write` and `to_bytes`.
//!
//! An LLDPDU is a sequence of TLVs, each a 16-bit header (7-bit type, 9-bit
//! length) and a value. It starts with Chassis ID, Port ID and Time To Live,
//! in that order, and ends with an End TLV (type 0, length 0). Parsing is lax
//! about the end: a PDU that runs to the end of the slice without an End TLV
//! is accepted, and bytes after End (Ethernet padding) are ignored. TLVs of
//! types this module does not model are kept byte for byte
//! ([`LldpTlv::Other`]), so parse → emit reproduces them.
//!
//! ```
//! use tatsu_packet::lldp::{ChassisId, Lldpdu, LldpSlice, PortId};
//! let pdu = Lldpdu::new(ChassisId::local("dpid:0000000000000001"), PortId::port_component(3), 120)
//!     .with_system_name("sw1");
//! let bytes = pdu.to_bytes().unwrap();
//! let view = LldpSlice::from_slice(&bytes).unwrap();
//! assert_eq!(view.ttl(), 120);
//! assert_eq!(view.system_name(), Some(&b"sw1"[..]));
//! assert_eq!(view.to_lldpdu(), pdu);
//! ```

use core::fmt;

use crate::MacAddr;

/// The LLDP EtherType, `0x88cc`.
pub const ETHERTYPE_LLDP: u16 = 0x88cc;

/// TLV type numbers (7 bits).
pub mod tlv_type {
    /// End of LLDPDU.
    pub const END: u8 = 0;
    /// Chassis ID (mandatory, first).
    pub const CHASSIS_ID: u8 = 1;
    /// Port ID (mandatory, second).
    pub const PORT_ID: u8 = 2;
    /// Time To Live (mandatory, third).
    pub const TTL: u8 = 3;
    /// Port Description.
    pub const PORT_DESCRIPTION: u8 = 4;
    /// System Name.
    pub const SYSTEM_NAME: u8 = 5;
    /// System Description.
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    /// System Capabilities.
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    /// Management Address.
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    /// Organizationally Specific.
    pub const ORGANIZATION_SPECIFIC: u8 = 127;
}

/// Chassis ID subtypes (IEEE 802.1AB-2016 table 8-2).
pub mod chassis_id_subtype {
    /// Chassis component (entPhysicalAlias).
    pub const CHASSIS_COMPONENT: u8 = 1;
    /// Interface alias (ifAlias).
    pub const INTERFACE_ALIAS: u8 = 2;
    /// Port component (entPhysicalAlias).
    pub const PORT_COMPONENT: u8 = 3;
    /// MAC address.
    pub const MAC_ADDRESS: u8 = 4;
    /// Network address (IANA address family + address).
    pub const NETWORK_ADDRESS: u8 = 5;
    /// Interface name (ifName).
    pub const INTERFACE_NAME: u8 = 6;
    /// Locally assigned.
    pub const LOCALLY_ASSIGNED: u8 = 7;
}

/// Port ID subtypes (IEEE 802.1AB-2016 table 8-3).
pub mod port_id_subtype {
    /// Interface alias (ifAlias).
    pub const INTERFACE_ALIAS: u8 = 1;
    /// Port component (entPhysicalAlias).
    pub const PORT_COMPONENT: u8 = 2;
    /// MAC address.
    pub const MAC_ADDRESS: u8 = 3;
    /// Network address (IANA address family + address).
    pub const NETWORK_ADDRESS: u8 = 4;
    /// Interface name (ifName).
    pub const INTERFACE_NAME: u8 = 5;
    /// Agent circuit ID.
    pub const AGENT_CIRCUIT_ID: u8 = 6;
    /// Locally assigned.
    pub const LOCALLY_ASSIGNED: u8 = 7;
}

/// Largest TLV value length (9-bit length field).
pub const MAX_TLV_VALUE_LEN: usize = 511;

/// Why an LLDPDU could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LldpError {
    /// A TLV header or value runs past the end of the slice. `offset` is where
    /// the TLV starts, relative to the start of the LLDPDU.
    Truncated {
        /// Start of the TLV within the LLDPDU.
        offset: usize,
        /// Bytes the TLV needs from `offset`.
        needed: usize,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// A mandatory TLV is missing or out of order: `expected` was due at
    /// `offset` but type `found` (or nothing, `None`) was there.
    MissingTlv {
        /// Type number that was expected.
        expected: u8,
        /// Type number found instead (`None` at end of data or an End TLV).
        found: Option<u8>,
        /// Start of the offending TLV within the LLDPDU.
        offset: usize,
    },
    /// A TLV has a length its type does not allow (for example a TTL shorter
    /// than 2 bytes, or a Chassis ID with no ID after the subtype).
    BadLength {
        /// TLV type number.
        tlv_type: u8,
        /// The length found (or, when writing, asked for).
        len: usize,
    },
}

impl fmt::Display for LldpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LldpError::Truncated { offset, needed, available } => {
                write!(f, "LLDP TLV at offset {offset} needs {needed} bytes, only {available} left")
            }
            LldpError::MissingTlv { expected, found: Some(t), offset } => {
                write!(f, "LLDP mandatory TLV type {expected} missing at offset {offset} (found type {t})")
            }
            LldpError::MissingTlv { expected, found: None, offset } => {
                write!(f, "LLDP mandatory TLV type {expected} missing at offset {offset} (PDU ended)")
            }
            LldpError::BadLength { tlv_type, len } => {
                write!(f, "LLDP TLV type {tlv_type} has invalid length {len}")
            }
        }
    }
}

impl std::error::Error for LldpError {}

/// Zero-copy view of one TLV.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LldpTlvSlice<'a> {
    slice: &'a [u8],
}

impl<'a> LldpTlvSlice<'a> {
    /// Reads the TLV at the start of `slice`.
    pub fn from_slice(slice: &'a [u8]) -> Result<LldpTlvSlice<'a>, LldpError> {
        if slice.len() < 2 {
            return Err(LldpError::Truncated { offset: 0, needed: 2, available: slice.len() });
        }
        let len = usize::from(u16::from_be_bytes([slice[0], slice[1]]) & 0x01ff);
        if slice.len() < 2 + len {
            return Err(LldpError::Truncated { offset: 0, needed: 2 + len, available: slice.len() });
        }
        Ok(LldpTlvSlice { slice: &slice[..2 + len] })
    }

    /// TLV type (7 bits), see [`tlv_type`].
    pub fn tlv_type(&self) -> u8 {
        self.slice[0] >> 1
    }

    /// The value, without the 2-byte header.
    pub fn value(&self) -> &'a [u8] {
        &self.slice[2..]
    }

    /// The whole TLV, header included.
    pub fn slice(&self) -> &'a [u8] {
        self.slice
    }

    /// Converts to the owned, typed form.
    pub fn to_tlv(&self) -> Result<LldpTlv, LldpError> {
        LldpTlv::from_type_value(self.tlv_type(), self.value())
    }
}

/// Iterator over the TLVs of an [`LldpSlice`], End excluded.
#[derive(Clone, Debug)]
pub struct LldpTlvIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LldpTlvIter<'a> {
    type Item = LldpTlvSlice<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let tlv = LldpTlvSlice::from_slice(self.rest).ok()?;
        if tlv.tlv_type() == tlv_type::END {
            self.rest = &[];
            return None;
        }
        self.rest = &self.rest[tlv.slice.len()..];
        Some(tlv)
    }
}

/// Zero-copy view of an LLDPDU (the Ethernet payload of an `0x88cc` frame).
///
/// [`LldpSlice::from_slice`] checks every TLV header against the slice and
/// the three mandatory TLVs, so the accessors cannot fail afterwards.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LldpSlice<'a> {
    /// From the first TLV up to and including End (or the end of data).
    slice: &'a [u8],
    chassis: LldpTlvSlice<'a>,
    port: LldpTlvSlice<'a>,
    ttl: u16,
}

impl<'a> LldpSlice<'a> {
    /// Checks `slice` as an LLDPDU and returns a view of it.
    pub fn from_slice(slice: &'a [u8]) -> Result<LldpSlice<'a>, LldpError> {
        // Walk every TLV to bound-check it and find End.
        let mut off = 0;
        let mut mandatory: [Option<LldpTlvSlice<'a>>; 3] = [None; 3];
        let mut index = 0usize;
        while off < slice.len() {
            let tlv = LldpTlvSlice::from_slice(&slice[off..]).map_err(|e| match e {
                LldpError::Truncated { needed, available, .. } => {
                    LldpError::Truncated { offset: off, needed, available }
                }
                other => other,
            })?;
            let t = tlv.tlv_type();
            if index < 3 {
                let expected = [tlv_type::CHASSIS_ID, tlv_type::PORT_ID, tlv_type::TTL][index];
                if t != expected {
                    let found = (t != tlv_type::END).then_some(t);
                    return Err(LldpError::MissingTlv { expected, found, offset: off });
                }
                mandatory[index] = Some(tlv);
            }
            index += 1;
            off += tlv.slice.len();
            if t == tlv_type::END {
                break;
            }
        }
        let [Some(chassis), Some(port), Some(ttl)] = mandatory else {
            let expected = [tlv_type::CHASSIS_ID, tlv_type::PORT_ID, tlv_type::TTL][index.min(2)];
            return Err(LldpError::MissingTlv { expected, found: None, offset: off });
        };
        for t in [chassis, port] {
            if t.value().len() < 2 {
                return Err(LldpError::BadLength { tlv_type: t.tlv_type(), len: t.value().len() });
            }
        }
        let v = ttl.value();
        if v.len() < 2 {
            return Err(LldpError::BadLength { tlv_type: tlv_type::TTL, len: v.len() });
        }
        Ok(LldpSlice { slice: &slice[..off], chassis, port, ttl: u16::from_be_bytes([v[0], v[1]]) })
    }

    /// The LLDPDU bytes, End TLV included when present (padding excluded).
    pub fn slice(&self) -> &'a [u8] {
        self.slice
    }

    /// Chassis ID subtype (see [`chassis_id_subtype`]).
    pub fn chassis_id_subtype(&self) -> u8 {
        self.chassis.value()[0]
    }

    /// Chassis ID, without the subtype byte.
    pub fn chassis_id(&self) -> &'a [u8] {
        &self.chassis.value()[1..]
    }

    /// Port ID subtype (see [`port_id_subtype`]).
    pub fn port_id_subtype(&self) -> u8 {
        self.port.value()[0]
    }

    /// Port ID, without the subtype byte.
    pub fn port_id(&self) -> &'a [u8] {
        &self.port.value()[1..]
    }

    /// Time To Live in seconds (0 means "forget this neighbour").
    pub fn ttl(&self) -> u16 {
        self.ttl
    }

    /// All TLVs in order, mandatory ones included, End excluded.
    pub fn tlvs(&self) -> LldpTlvIter<'a> {
        LldpTlvIter { rest: self.slice }
    }

    /// Value of the first TLV of type `t`, if any.
    pub fn find(&self, t: u8) -> Option<&'a [u8]> {
        self.tlvs().find(|x| x.tlv_type() == t).map(|x| x.value())
    }

    /// Port Description value, if present (usually ASCII text).
    pub fn port_description(&self) -> Option<&'a [u8]> {
        self.find(tlv_type::PORT_DESCRIPTION)
    }

    /// System Name value, if present (usually ASCII text).
    pub fn system_name(&self) -> Option<&'a [u8]> {
        self.find(tlv_type::SYSTEM_NAME)
    }

    /// System Description value, if present (usually ASCII text).
    pub fn system_description(&self) -> Option<&'a [u8]> {
        self.find(tlv_type::SYSTEM_DESCRIPTION)
    }

    /// Converts to the owned form. TLVs after the mandatory three that fail
    /// typed decoding (say a 3-byte System Capabilities) are kept as
    /// [`LldpTlv::Other`], so nothing is lost.
    pub fn to_lldpdu(&self) -> Lldpdu {
        let cv = self.chassis.value();
        let pv = self.port.value();
        Lldpdu {
            chassis_id: ChassisId { subtype: cv[0], id: cv[1..].to_vec() },
            port_id: PortId { subtype: pv[0], id: pv[1..].to_vec() },
            ttl: self.ttl,
            tlvs: self
                .tlvs()
                .skip(3)
                .map(|t| {
                    t.to_tlv().unwrap_or_else(|_| LldpTlv::Other { tlv_type: t.tlv_type(), value: t.value().to_vec() })
                })
                .collect(),
        }
    }
}

/// Chassis ID TLV contents.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChassisId {
    /// Subtype, see [`chassis_id_subtype`].
    pub subtype: u8,
    /// The ID (1 to 255 bytes).
    pub id: Vec<u8>,
}

impl ChassisId {
    /// Subtype 4, a MAC address.
    pub fn mac(mac: MacAddr) -> ChassisId {
        ChassisId { subtype: chassis_id_subtype::MAC_ADDRESS, id: mac.0.to_vec() }
    }

    /// Subtype 7, a locally assigned string (Ryu uses `dpid:%016x`).
    pub fn local(id: &str) -> ChassisId {
        ChassisId { subtype: chassis_id_subtype::LOCALLY_ASSIGNED, id: id.as_bytes().to_vec() }
    }
}

/// Port ID TLV contents.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortId {
    /// Subtype, see [`port_id_subtype`].
    pub subtype: u8,
    /// The ID (1 to 255 bytes).
    pub id: Vec<u8>,
}

impl PortId {
    /// Subtype 2, an OpenFlow port number as 4 big-endian bytes (Ryu's form).
    pub fn port_component(port_no: u32) -> PortId {
        PortId { subtype: port_id_subtype::PORT_COMPONENT, id: port_no.to_be_bytes().to_vec() }
    }

    /// Subtype 5, an interface name such as `eth0`.
    pub fn interface_name(name: &str) -> PortId {
        PortId { subtype: port_id_subtype::INTERFACE_NAME, id: name.as_bytes().to_vec() }
    }

    /// Subtype 7, a locally assigned string.
    pub fn local(id: &str) -> PortId {
        PortId { subtype: port_id_subtype::LOCALLY_ASSIGNED, id: id.as_bytes().to_vec() }
    }

    /// Subtype 3, a MAC address.
    pub fn mac(mac: MacAddr) -> PortId {
        PortId { subtype: port_id_subtype::MAC_ADDRESS, id: mac.0.to_vec() }
    }
}

/// An optional (non-mandatory, non-End) TLV, owned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LldpTlv {
    /// Type 4.
    PortDescription(Vec<u8>),
    /// Type 5.
    SystemName(Vec<u8>),
    /// Type 6.
    SystemDescription(Vec<u8>),
    /// Type 7: capability bitmaps (bit 2 bridge, bit 4 router, ...).
    SystemCapabilities {
        /// Capabilities the system has.
        capabilities: u16,
        /// Capabilities enabled.
        enabled: u16,
    },
    /// Type 8, raw value (address length, subtype, address, interface
    /// numbering, OID).
    ManagementAddress(Vec<u8>),
    /// Type 127.
    OrganizationSpecific {
        /// Organizationally unique identifier.
        oui: [u8; 3],
        /// Organizationally defined subtype.
        subtype: u8,
        /// Information string.
        info: Vec<u8>,
    },
    /// Any other type (reserved ones, or a repeated mandatory TLV), kept
    /// byte for byte.
    Other {
        /// TLV type number (0..=127; 0 is not allowed when writing).
        tlv_type: u8,
        /// Raw value.
        value: Vec<u8>,
    },
}

impl LldpTlv {
    /// Decodes a TLV from its type number and value.
    pub fn from_type_value(t: u8, v: &[u8]) -> Result<LldpTlv, LldpError> {
        let bad = || LldpError::BadLength { tlv_type: t, len: v.len() };
        Ok(match t {
            tlv_type::PORT_DESCRIPTION => LldpTlv::PortDescription(v.to_vec()),
            tlv_type::SYSTEM_NAME => LldpTlv::SystemName(v.to_vec()),
            tlv_type::SYSTEM_DESCRIPTION => LldpTlv::SystemDescription(v.to_vec()),
            tlv_type::SYSTEM_CAPABILITIES => {
                if v.len() != 4 {
                    return Err(bad());
                }
                LldpTlv::SystemCapabilities {
                    capabilities: u16::from_be_bytes([v[0], v[1]]),
                    enabled: u16::from_be_bytes([v[2], v[3]]),
                }
            }
            tlv_type::MANAGEMENT_ADDRESS => LldpTlv::ManagementAddress(v.to_vec()),
            tlv_type::ORGANIZATION_SPECIFIC => {
                if v.len() < 4 {
                    return Err(bad());
                }
                LldpTlv::OrganizationSpecific { oui: [v[0], v[1], v[2]], subtype: v[3], info: v[4..].to_vec() }
            }
            _ => LldpTlv::Other { tlv_type: t, value: v.to_vec() },
        })
    }

    /// TLV type number.
    pub fn tlv_type(&self) -> u8 {
        match self {
            LldpTlv::PortDescription(_) => tlv_type::PORT_DESCRIPTION,
            LldpTlv::SystemName(_) => tlv_type::SYSTEM_NAME,
            LldpTlv::SystemDescription(_) => tlv_type::SYSTEM_DESCRIPTION,
            LldpTlv::SystemCapabilities { .. } => tlv_type::SYSTEM_CAPABILITIES,
            LldpTlv::ManagementAddress(_) => tlv_type::MANAGEMENT_ADDRESS,
            LldpTlv::OrganizationSpecific { .. } => tlv_type::ORGANIZATION_SPECIFIC,
            LldpTlv::Other { tlv_type, .. } => *tlv_type,
        }
    }

    /// Length of the value in bytes.
    pub fn value_len(&self) -> usize {
        match self {
            LldpTlv::PortDescription(v)
            | LldpTlv::SystemName(v)
            | LldpTlv::SystemDescription(v)
            | LldpTlv::ManagementAddress(v)
            | LldpTlv::Other { value: v, .. } => v.len(),
            LldpTlv::SystemCapabilities { .. } => 4,
            LldpTlv::OrganizationSpecific { info, .. } => 4 + info.len(),
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), LldpError> {
        let t = self.tlv_type();
        if t == tlv_type::END || t > 127 {
            return Err(LldpError::BadLength { tlv_type: t, len: self.value_len() });
        }
        write_header(out, t, self.value_len())?;
        match self {
            LldpTlv::PortDescription(v)
            | LldpTlv::SystemName(v)
            | LldpTlv::SystemDescription(v)
            | LldpTlv::ManagementAddress(v)
            | LldpTlv::Other { value: v, .. } => out.extend_from_slice(v),
            LldpTlv::SystemCapabilities { capabilities, enabled } => {
                out.extend_from_slice(&capabilities.to_be_bytes());
                out.extend_from_slice(&enabled.to_be_bytes());
            }
            LldpTlv::OrganizationSpecific { oui, subtype, info } => {
                out.extend_from_slice(oui);
                out.push(*subtype);
                out.extend_from_slice(info);
            }
        }
        Ok(())
    }
}

fn write_header(out: &mut Vec<u8>, t: u8, len: usize) -> Result<(), LldpError> {
    if len > MAX_TLV_VALUE_LEN {
        return Err(LldpError::BadLength { tlv_type: t, len });
    }
    // len <= 511 checked above, so it fits the 9-bit field.
    let h = (u16::from(t) << 9) | (len as u16);
    out.extend_from_slice(&h.to_be_bytes());
    Ok(())
}

/// An owned LLDPDU: the three mandatory TLVs plus optional ones in order.
/// The End TLV is implicit: [`Lldpdu::to_bytes`] appends it, parsing drops it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lldpdu {
    /// Chassis ID TLV.
    pub chassis_id: ChassisId,
    /// Port ID TLV.
    pub port_id: PortId,
    /// Time To Live TLV, seconds.
    pub ttl: u16,
    /// Further TLVs in wire order (unknown types preserved).
    pub tlvs: Vec<LldpTlv>,
}

impl Lldpdu {
    /// A PDU with just the mandatory TLVs.
    pub fn new(chassis_id: ChassisId, port_id: PortId, ttl: u16) -> Lldpdu {
        Lldpdu { chassis_id, port_id, ttl, tlvs: Vec::new() }
    }

    /// Adds a Port Description TLV.
    pub fn with_port_description(mut self, desc: &str) -> Lldpdu {
        self.tlvs.push(LldpTlv::PortDescription(desc.as_bytes().to_vec()));
        self
    }

    /// Adds a System Name TLV.
    pub fn with_system_name(mut self, name: &str) -> Lldpdu {
        self.tlvs.push(LldpTlv::SystemName(name.as_bytes().to_vec()));
        self
    }

    /// Adds any optional TLV.
    pub fn with_tlv(mut self, tlv: LldpTlv) -> Lldpdu {
        self.tlvs.push(tlv);
        self
    }

    /// Parses an LLDPDU (see [`LldpSlice::from_slice`]).
    pub fn from_slice(slice: &[u8]) -> Result<Lldpdu, LldpError> {
        LldpSlice::from_slice(slice).map(|s| s.to_lldpdu())
    }

    /// Encoded length in bytes, End TLV included.
    pub fn len(&self) -> usize {
        (2 + 1 + self.chassis_id.id.len())
            + (2 + 1 + self.port_id.id.len())
            + 4
            + self.tlvs.iter().map(|t| 2 + t.value_len()).sum::<usize>()
            + 2
    }

    /// Always false: an LLDPDU has at least the mandatory TLVs.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the encoded PDU, End TLV included, to `out`. Fails (leaving
    /// `out` partly written) if an ID is empty or over 255 bytes, a value is
    /// over 511 bytes, or an [`LldpTlv::Other`] has type 0 or above 127.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), LldpError> {
        for (t, sub, id) in [
            (tlv_type::CHASSIS_ID, self.chassis_id.subtype, &self.chassis_id.id),
            (tlv_type::PORT_ID, self.port_id.subtype, &self.port_id.id),
        ] {
            if id.is_empty() || id.len() > 255 {
                return Err(LldpError::BadLength { tlv_type: t, len: id.len() + 1 });
            }
            write_header(out, t, 1 + id.len())?;
            out.push(sub);
            out.extend_from_slice(id);
        }
        write_header(out, tlv_type::TTL, 2)?;
        out.extend_from_slice(&self.ttl.to_be_bytes());
        for tlv in &self.tlvs {
            tlv.write_to(out)?;
        }
        write_header(out, tlv_type::END, 0)
    }

    /// The encoded PDU, End TLV included.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LldpError> {
        let mut v = Vec::with_capacity(self.len());
        self.write(&mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lldpdu {
        Lldpdu::new(ChassisId::mac(MacAddr::new(0, 4, 0x96, 0x1f, 0xa7, 0x26)), PortId::interface_name("1/3"), 120)
            .with_port_description("uplink")
            .with_system_name("sw1")
            .with_tlv(LldpTlv::SystemCapabilities { capabilities: 0x14, enabled: 0x04 })
            .with_tlv(LldpTlv::OrganizationSpecific { oui: [0x00, 0x80, 0xc2], subtype: 1, info: vec![0, 1] })
            .with_tlv(LldpTlv::Other { tlv_type: 42, value: vec![9, 9, 9] })
    }

    #[test]
    fn round_trip() {
        let pdu = sample();
        let bytes = pdu.to_bytes().unwrap();
        assert_eq!(bytes.len(), pdu.len());
        // End TLV last.
        assert_eq!(&bytes[bytes.len() - 2..], &[0, 0]);
        let view = LldpSlice::from_slice(&bytes).unwrap();
        assert_eq!(view.chassis_id_subtype(), chassis_id_subtype::MAC_ADDRESS);
        assert_eq!(view.chassis_id(), &[0, 4, 0x96, 0x1f, 0xa7, 0x26]);
        assert_eq!(view.port_id_subtype(), port_id_subtype::INTERFACE_NAME);
        assert_eq!(view.port_id(), b"1/3");
        assert_eq!(view.ttl(), 120);
        assert_eq!(view.port_description(), Some(&b"uplink"[..]));
        assert_eq!(view.system_name(), Some(&b"sw1"[..]));
        assert_eq!(view.system_description(), None);
        assert_eq!(view.tlvs().count(), 8);
        assert_eq!(view.find(42), Some(&[9u8, 9, 9][..]));
        assert_eq!(view.to_lldpdu(), pdu);
        assert_eq!(Lldpdu::from_slice(&bytes).unwrap().to_bytes().unwrap(), bytes);
    }

    #[test]
    fn padding_after_end_is_ignored_and_end_is_optional() {
        let mut bytes = sample().to_bytes().unwrap();
        let len = bytes.len();
        bytes.extend_from_slice(&[0; 10]);
        let v = LldpSlice::from_slice(&bytes).unwrap();
        assert_eq!(v.slice().len(), len);
        // Without End.
        let v = LldpSlice::from_slice(&bytes[..len - 2]).unwrap();
        assert_eq!(v.to_lldpdu(), sample());
    }

    #[test]
    fn every_truncation_errors_without_panic() {
        let bytes = sample().to_bytes().unwrap();
        for n in 0..bytes.len() {
            // Cutting on a TLV boundary after TTL is a valid End-less PDU.
            let _ = LldpSlice::from_slice(&bytes[..n]);
        }
        assert_eq!(
            LldpSlice::from_slice(&bytes[..5]),
            Err(LldpError::Truncated { offset: 0, needed: 9, available: 5 })
        );
        assert_eq!(
            LldpSlice::from_slice(&[]),
            Err(LldpError::MissingTlv { expected: tlv_type::CHASSIS_ID, found: None, offset: 0 })
        );
    }

    #[test]
    fn mandatory_order_and_lengths() {
        // Port ID first.
        let bad = [0x04, 0x02, 0x05, b'x', 0x00, 0x00];
        assert_eq!(
            LldpSlice::from_slice(&bad),
            Err(LldpError::MissingTlv { expected: tlv_type::CHASSIS_ID, found: Some(2), offset: 0 })
        );
        // Chassis, Port, then End: TTL missing.
        let bad = [0x02, 0x02, 0x07, b'c', 0x04, 0x02, 0x07, b'p', 0x00, 0x00];
        assert_eq!(
            LldpSlice::from_slice(&bad),
            Err(LldpError::MissingTlv { expected: tlv_type::TTL, found: None, offset: 8 })
        );
        // TTL of length 1.
        let bad = [0x02, 0x02, 0x07, b'c', 0x04, 0x02, 0x07, b'p', 0x06, 0x01, 0x78];
        assert_eq!(LldpSlice::from_slice(&bad), Err(LldpError::BadLength { tlv_type: 3, len: 1 }));
        // Chassis ID with only a subtype.
        let bad = [0x02, 0x01, 0x07, 0x04, 0x02, 0x07, b'p', 0x06, 0x02, 0x00, 0x78];
        assert_eq!(LldpSlice::from_slice(&bad), Err(LldpError::BadLength { tlv_type: 1, len: 1 }));
    }

    #[test]
    fn malformed_optional_tlv_is_kept_raw() {
        let mut pdu = Lldpdu::new(ChassisId::local("c"), PortId::local("p"), 1);
        pdu.tlvs.push(LldpTlv::Other { tlv_type: tlv_type::SYSTEM_CAPABILITIES, value: vec![1, 2, 3] });
        let bytes = pdu.to_bytes().unwrap();
        let back = Lldpdu::from_slice(&bytes).unwrap();
        assert_eq!(back, pdu);
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn write_rejects_out_of_range() {
        let mut pdu = Lldpdu::new(ChassisId::local(""), PortId::local("p"), 1);
        assert!(pdu.to_bytes().is_err());
        pdu.chassis_id = ChassisId::local(&"x".repeat(256));
        assert!(pdu.to_bytes().is_err());
        pdu.chassis_id = ChassisId::local(&"x".repeat(255));
        assert!(pdu.to_bytes().is_ok());
        let big = pdu.clone().with_tlv(LldpTlv::SystemDescription(vec![0; 512]));
        assert_eq!(big.to_bytes(), Err(LldpError::BadLength { tlv_type: 6, len: 512 }));
        let ok = pdu.clone().with_tlv(LldpTlv::SystemDescription(vec![0; 511]));
        assert!(ok.to_bytes().is_ok());
        let end = pdu.clone().with_tlv(LldpTlv::Other { tlv_type: 0, value: vec![] });
        assert!(end.to_bytes().is_err());
        let wide = pdu.with_tlv(LldpTlv::Other { tlv_type: 128, value: vec![] });
        assert!(wide.to_bytes().is_err());
    }
}
