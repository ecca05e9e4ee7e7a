#![no_main]
//! Fuzz target: building messages from arbitrary JSON must never panic, and
//! whatever builds must either encode to bytes that say their own length, or fail to encode.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&v, rest)) = data.split_first() else { return };
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    // The selector byte picks the version: 1.0, 1.2, 1.3, 1.4 or 1.5.
    let version = tatsu_ofproto::SUPPORTED_VERSIONS[usize::from(v) % tatsu_ofproto::SUPPORTED_VERSIONS.len()];
    if let Ok(m) = tatsu_ofproto::from_json(version, &j) {
        // Too long to encode is an error, never bytes with a clamped length.
        if let Ok(bytes) = m.to_vec(0) {
            assert_eq!(usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), bytes.len());
            let _ = tatsu_ofproto::decode(&bytes);
        }
    }
});
