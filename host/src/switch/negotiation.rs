//! Version negotiation (OpenFlow 1.3.5 §7.1.1 and 1.0's rule of the lower header version) that reads the switch's
//! version bitmap in place: a HELLO may carry almost 64 KiB of bitmap, and expanding it into a list of versions
//! (half a million entries) just to find two bits, or to print them, costs a scheduler thread a noticeable pause.

use std::fmt;

use tatsu_ofproto::{Hello, HelloElement};

/// At most this many offered versions are named in a message; the rest are counted.
const NAMED: usize = 4;

/// The versions a switch's HELLO offers: a version bitmap if it sent one, else every version up to its header's.
#[derive(Clone, Copy, Debug)]
pub struct VersionOffer<'a> {
    header_version: u8,
    bitmap: Option<&'a [u32]>,
}

impl<'a> VersionOffer<'a> {
    /// The offer of a HELLO sent with `header_version` in its header.
    pub fn of(header_version: u8, hello: &'a Hello) -> VersionOffer<'a> {
        let bitmap = hello.elements.iter().find_map(|element| match element {
            HelloElement::VersionBitmap(words) => Some(words.as_slice()),
            HelloElement::Unknown { .. } => None,
        });
        VersionOffer { header_version, bitmap }
    }

    /// Whether the switch offers `version`.
    fn offers(&self, version: u8) -> bool {
        match self.bitmap {
            Some(words) => words.get(usize::from(version / 32)).is_some_and(|word| word & (1 << (version % 32)) != 0),
            None => version <= self.header_version,
        }
    }

    /// The highest of `ours` (lowest first) that both sides speak. Without a bitmap that is the lower of the two
    /// highest versions, if we speak it (OpenFlow 1.0's rule).
    pub fn best_of(&self, ours: &[u8]) -> Option<u8> {
        match self.bitmap {
            Some(_) => ours.iter().rev().copied().find(|version| self.offers(*version)),
            None => {
                let agreed = ours.iter().copied().max()?.min(self.header_version);
                ours.contains(&agreed).then_some(agreed)
            }
        }
    }
}

/// The OpenFlow release a wire version number stands for.
fn release(version: u32) -> Option<&'static str> {
    Some(match version {
        1 => "1.0",
        2 => "1.1",
        3 => "1.2",
        4 => "1.3",
        5 => "1.4",
        6 => "1.5",
        _ => return None,
    })
}

impl fmt::Display for VersionOffer<'_> {
    /// "OpenFlow 1.1 (0x02) and wire version 0x00, which is no OpenFlow version", "only versions up to 0x05
    /// (OpenFlow 1.4)": at most [`NAMED`] versions by name, the rest counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(words) = self.bitmap else {
            let release = release(u32::from(self.header_version)).map_or(String::new(), |r| format!(" (OpenFlow {r})"));
            return write!(f, "only versions up to 0x{:02x}{release} (no version bitmap)", self.header_version);
        };
        let total: u32 = words.iter().map(|word| word.count_ones()).sum();
        if total == 0 {
            return write!(f, "no version at all (an empty version bitmap)");
        }
        let set_bits = words
            .iter()
            .enumerate()
            .flat_map(|(index, word)| (0..32u32).filter(move |bit| word & (1 << bit) != 0).map(move |bit| (index, bit)))
            .map(|(index, bit)| u32::try_from(index).unwrap_or(u32::MAX).saturating_mul(32).saturating_add(bit));
        for (i, version) in set_bits.take(NAMED).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match release(version) {
                Some(release) => write!(f, "OpenFlow {release} (0x{version:02x})")?,
                None => write!(f, "wire version 0x{version:02x} (no OpenFlow version)")?,
            }
        }
        let named = u32::try_from(NAMED).unwrap_or(u32::MAX);
        if total > named {
            write!(f, " and {} more wire versions", total - named)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap(words: Vec<u32>) -> Hello {
        Hello { elements: vec![HelloElement::VersionBitmap(words)] }
    }

    #[test]
    fn a_bitmap_picks_the_highest_common_version() {
        let hello = bitmap(vec![(1 << 1) | (1 << 4) | (1 << 6)]);
        assert_eq!(VersionOffer::of(6, &hello).best_of(&[1, 4]), Some(4));
        let only_1_0 = bitmap(vec![1 << 1]);
        assert_eq!(VersionOffer::of(6, &only_1_0).best_of(&[1, 4]), Some(1));
        let neither = bitmap(vec![(1 << 2) | (1 << 5)]);
        assert_eq!(VersionOffer::of(5, &neither).best_of(&[1, 4]), None);
    }

    #[test]
    fn without_a_bitmap_the_lower_header_version_is_taken_if_spoken() {
        let hello = Hello::default();
        assert_eq!(VersionOffer::of(6, &hello).best_of(&[1, 4]), Some(4));
        assert_eq!(VersionOffer::of(1, &hello).best_of(&[1, 4]), Some(1));
        assert_eq!(VersionOffer::of(3, &hello).best_of(&[1, 4]), None, "1.2 is not spoken");
    }

    #[test]
    fn the_offer_names_versions_by_release() {
        // Bits 0 and 2: wire version 0 (none) and 2 (OpenFlow 1.1).
        let hello = bitmap(vec![5]);
        let text = VersionOffer::of(5, &hello).to_string();
        assert_eq!(text, "wire version 0x00 (no OpenFlow version), OpenFlow 1.1 (0x02)");
        assert_eq!(
            VersionOffer::of(5, &Hello::default()).to_string(),
            "only versions up to 0x05 (OpenFlow 1.4) (no version bitmap)"
        );
    }

    #[test]
    fn a_huge_bitmap_is_summarised_not_listed() {
        // The biggest bitmap a HELLO can carry, every bit set except 1.0's and 1.3's.
        let mut words = vec![u32::MAX; 16_380];
        words[0] &= !((1 << 1) | (1 << 4));
        let hello = bitmap(words);
        let offer = VersionOffer::of(0x7f, &hello);
        assert_eq!(offer.best_of(&[1, 4]), None);
        let text = offer.to_string();
        assert!(text.len() < 400, "{} bytes: {text}", text.len());
        assert!(text.ends_with(&format!(" and {} more wire versions", 16_380 * 32 - 2 - NAMED)), "{text}");
    }
}
