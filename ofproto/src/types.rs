//! Small value types shared by both protocol versions.

use std::fmt;

/// The Ethernet MAC address type, defined in `tatsu-packet` (one type for frames and OpenFlow messages).
pub use tatsu_packet::MacAddr;

/// A fixed-size, NUL-padded string field (port names, descriptions).
///
/// The raw bytes are kept so that re-encoding is exact; [`FixedStr::as_str`]
/// gives the text up to the first NUL.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize>(pub [u8; N]);

impl<const N: usize> FixedStr<N> {
    /// The text before the first NUL (invalid UTF-8 is replaced).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(N);
        String::from_utf8_lossy(self.0.get(..end).unwrap_or(&[]))
    }
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        FixedStr([0; N])
    }
}

impl<const N: usize> From<&str> for FixedStr<N> {
    /// Truncates to N-1 bytes so a terminating NUL always fits.
    fn from(s: &str) -> Self {
        let mut a = [0u8; N];
        let n = s.len().min(N.saturating_sub(1));
        a[..n].copy_from_slice(&s.as_bytes()[..n]);
        FixedStr(a)
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}
