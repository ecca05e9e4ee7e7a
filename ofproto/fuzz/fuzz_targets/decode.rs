#![no_main]
//! Fuzz target: decoding arbitrary bytes must never panic; whatever decodes
//! must re-encode to bytes that decode to the same value.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tatsu_ofproto::frame_len(data);
    let _ = tatsu_ofproto::v1_3::PacketInView::new(data).map(|v| (v.in_port(), v.data().len(), v.oxms().count()));
    let _ = tatsu_ofproto::v1_0::PacketInView::new(data).map(|v| v.data().len());
    let _ = tatsu_ofproto::decode_hello(data);
    if let Ok((h, m)) = tatsu_ofproto::decode(data) {
        let again = m.to_vec(h.xid).expect("a decoded message must re-encode");
        let (_, m2) = tatsu_ofproto::decode(&again).expect("re-encoded message must decode");
        assert_eq!(m, m2, "decode(encode(m)) != m");
        // The JSON form must render, and parsing it back must not panic.
        let j = tatsu_ofproto::to_json(&m2);
        let _ = tatsu_ofproto::from_json(h.version, &j);
    }
});
