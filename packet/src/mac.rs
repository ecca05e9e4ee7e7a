//! [`MacAddr`], a 48-bit IEEE 802 MAC address.

use core::fmt;
use core::str::FromStr;

/// A 48-bit Ethernet MAC address.
///
/// `Copy`, `Hash` and `Ord`, so it works as a `HashMap`/`BTreeMap` key (the
/// MAC table of a learning switch). Displays as lowercase `aa:bb:cc:dd:ee:ff`
/// and parses from that form, upper or lower case, with `:` or `-` separators
/// (one or two hex digits per octet).
///
/// ```
/// use tatsu_packet::MacAddr;
/// let mac: MacAddr = "00:1B:21:3a:4f:05".parse().unwrap();
/// assert_eq!(mac.to_string(), "00:1b:21:3a:4f:05");
/// assert!(!mac.is_multicast());
/// assert!(MacAddr::BROADCAST.is_broadcast());
/// ```
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Hashes the address as one word (MAC tables are looked up on every packet-in): a hasher's `write_u64` is far
/// cheaper than the byte-slice `write` (with a length prefix) the derived `Hash` would make.
impl std::hash::Hash for MacAddr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.to_u64());
    }
}

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    /// `01:80:c2:00:00:0e`, the LLDP "nearest bridge" group address.
    pub const LLDP_NEAREST_BRIDGE: MacAddr = MacAddr([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);

    /// Builds an address from its six octets.
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> MacAddr {
        MacAddr([a, b, c, d, e, f])
    }

    /// The six octets, in transmission order.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }

    /// The octets as a slice.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Reads an address from the first six bytes of `bytes`; `None` if shorter.
    #[inline]
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        bytes.get(..6).map(|b| {
            let mut a = [0u8; 6];
            a.copy_from_slice(b);
            MacAddr(a)
        })
    }

    /// True for group addresses (least significant bit of the first octet set),
    /// broadcast included.
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for `ff:ff:ff:ff:ff:ff`.
    pub const fn is_broadcast(self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// True for individual (non-group) addresses.
    pub const fn is_unicast(self) -> bool {
        !self.is_multicast()
    }

    /// True for locally administered addresses (second-least significant bit
    /// of the first octet set).
    pub const fn is_local(self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// True for `00:00:00:00:00:00`.
    pub const fn is_zero(self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// The address as the low 48 bits of a `u64` (big-endian order), the way
    /// OpenFlow datapath ids embed a MAC.
    #[inline]
    pub const fn to_u64(self) -> u64 {
        let b = self.0;
        u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// The low 48 bits of `v` as an address; the high 16 bits are ignored.
    pub const fn from_u64(v: u64) -> MacAddr {
        let b = v.to_be_bytes();
        MacAddr([b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> Self {
        MacAddr(b)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(m: MacAddr) -> Self {
        m.0
    }
}

impl AsRef<[u8]> for MacAddr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

/// Error from parsing a [`MacAddr`] from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacParseError;

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid MAC address, expected six hex octets like aa:bb:cc:dd:ee:ff")
    }
}

impl std::error::Error for MacParseError {}

impl FromStr for MacAddr {
    type Err = MacParseError;

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (any case; one
    /// separator style per address; one or two hex digits per octet, so
    /// `0:1b:21:3a:4f:5` is accepted too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split(sep) {
            let slot = out.get_mut(n).ok_or(MacParseError)?;
            let digits = part.as_bytes();
            if digits.is_empty() || digits.len() > 2 {
                return Err(MacParseError);
            }
            *slot = digits.iter().try_fold(0u8, |acc, &c| hex_val(c).map(|v| (acc << 4) | v)).ok_or(MacParseError)?;
            n += 1;
        }
        if n != 6 {
            return Err(MacParseError);
        }
        Ok(MacAddr(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn display_and_parse_round_trip() {
        let m = MacAddr::new(0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0x0f);
        assert_eq!(m.to_string(), "aa:bb:cc:0d:ee:0f");
        assert_eq!(format!("{m:?}"), "MacAddr(aa:bb:cc:0d:ee:0f)");
        assert_eq!("aa:bb:cc:0d:ee:0f".parse::<MacAddr>(), Ok(m));
        assert_eq!("AA-BB-CC-0D-EE-0F".parse::<MacAddr>(), Ok(m));
        assert_eq!("aa:bb:cc:d:ee:f".parse::<MacAddr>(), Ok(m));
    }

    #[test]
    fn parse_rejects_garbage() {
        for s in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa:bb:cc:dd:ee:fg",
            "aa:bb-cc:dd:ee:ff",
            "aabb.ccdd.eeff.",
            "a:bb:cc:dd:ee:fff",
            "aa:bb:cc:dd:ee:f\u{e9}",
            "+a:bb:cc:dd:ee:ff",
            "aa::cc:dd:ee:ff",
            "aa:bb:cc:dd:ee:ff:",
            "aa-bb-cc-dd-ee:ff",
        ] {
            assert_eq!(s.parse::<MacAddr>(), Err(MacParseError), "{s:?}");
        }
    }

    #[test]
    fn flags() {
        assert!(MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr::LLDP_NEAREST_BRIDGE.is_multicast());
        assert!(!MacAddr::LLDP_NEAREST_BRIDGE.is_broadcast());
        let m: MacAddr = "33:33:00:00:00:01".parse().unwrap();
        assert!(m.is_multicast() && !m.is_unicast());
        let u: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        assert!(u.is_unicast() && u.is_local());
        assert!(MacAddr::ZERO.is_zero() && MacAddr::ZERO.is_unicast());
    }

    #[test]
    fn conversions() {
        let m = MacAddr::new(1, 2, 3, 4, 5, 6);
        assert_eq!(m.to_u64(), 0x0102_0304_0506);
        assert_eq!(MacAddr::from_u64(0xffff_0102_0304_0506), m);
        assert_eq!(<[u8; 6]>::from(m), [1, 2, 3, 4, 5, 6]);
        assert_eq!(MacAddr::from([1, 2, 3, 4, 5, 6]), m);
        assert_eq!(MacAddr::from_slice(&[1, 2, 3, 4, 5, 6, 7]), Some(m));
        assert_eq!(MacAddr::from_slice(&[1, 2, 3]), None);
    }

    #[test]
    fn usable_as_map_key() {
        let mut table: HashMap<MacAddr, u32> = HashMap::new();
        table.insert(MacAddr::new(0, 0, 0, 0, 0, 1), 1);
        table.insert(MacAddr::new(0, 0, 0, 0, 0, 2), 2);
        table.insert(MacAddr::new(0, 0, 0, 0, 0, 1), 3);
        assert_eq!(table.len(), 2);
        assert_eq!(table[&MacAddr::new(0, 0, 0, 0, 0, 1)], 3);
    }
}
