//! [`FastMap`]: a `HashMap` with a fast, non-cryptographic hasher, for tables keyed by addresses and ids that
//! apps consult on every packet-in (MAC tables, flow caches). SipHash, std's default, is a measurable cost there,
//! and such tables need no protection against keys chosen to collide.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` hashed with [`FastHasher`]; make one with `FastMap::default()`.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A multiply-and-rotate hasher in the manner of rustc's FxHash: a few cycles per word.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // A product's low bits depend only on the input's low bits, and a table picks buckets by the hash's low
        // bits: a final mix (murmur3's) spreads every input bit over them. Without it, MAC addresses that differ
        // only in their last octets land in few buckets.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_differ_in_any_byte_hash_apart() {
        let hash = |bytes: &[u8]| {
            let mut hasher = FastHasher::default();
            hasher.write(bytes);
            hasher.finish()
        };
        let base = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
        for i in 0..base.len() {
            let mut other = base;
            other[i] ^= 1;
            assert_ne!(hash(&base), hash(&other), "byte {i}");
        }
        let mut table: FastMap<[u8; 6], u32> = FastMap::default();
        table.insert(base, 7);
        assert_eq!(table.get(&base), Some(&7));
        // Addresses that differ only in their last two octets spread over the low bits that pick buckets.
        let buckets: std::collections::HashSet<u64> =
            (0..1024u16).map(|i| hash(&[0, 0, 0, 0, (i >> 8) as u8, i as u8]) & 1023).collect();
        assert!(buckets.len() > 512, "{} distinct buckets of 1024", buckets.len());
    }
}
