//! Conformance test over the OpenFlow corpus in `tests/corpus/` (the versions the codec speaks: `of10`, `of13`).
//!
//! For every `.packet`: decode without error, re-encode byte for byte, and
//! render JSON equal (as a JSON value) to the `.packet.json` beside it.
//! For every `X.truncated64` marker: the first 64 bytes of `X.packet` must be
//! rejected with an error.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tatsu_ofproto::{decode, from_json, to_json};

fn corpus_dir() -> PathBuf {
    if let Ok(p) = std::env::var("TATSU_OPENFLOW_CORPUS") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus")
}

fn files(ext: &str) -> Vec<PathBuf> {
    let dir = corpus_dir();
    assert!(dir.is_dir(), "OpenFlow corpus not found at {} (set TATSU_OPENFLOW_CORPUS)", dir.display());
    let mut out = Vec::new();
    // The versions the codec speaks (`TATSU_CORPUS_VERSIONS=of14,of15` narrows the run).
    let versions = std::env::var("TATSU_CORPUS_VERSIONS").unwrap_or_else(|_| "of10,of12,of13,of14,of15".into());
    for version in versions.split(',') {
        let sub = dir.join(version);
        for f in std::fs::read_dir(&sub).expect("read corpus subdir") {
            let f = f.expect("dir entry").path();
            if f.to_string_lossy().ends_with(ext) {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// Captures whose header length is shorter than the file (Ryu's parsers read the whole buffer, so its JSON
/// shows fields past the header's length): their length field is set to the file's size before the checks.
const SHORT_HEADER_LENGTH: &[&str] = &[
    // Header length 32, file 40: the 1.5 meter features end with `features` and padding past byte 32.
    "libofproto-OFP15-meter_features_reply.packet",
];

/// Captures whose JSON holds a list as an object (1.2's features reply shows its ports keyed by number), so
/// that the wire order cannot come back from it.
const UNORDERED_JSON: &[&str] = &["3-6-ofp_features_reply.packet"];

/// A capture's bytes, with the header length of the captures listed in [`SHORT_HEADER_LENGTH`] fixed.
fn read_capture(p: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(p).expect("read packet");
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let header_len = bytes.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
    if SHORT_HEADER_LENGTH.contains(&name.as_str()) {
        assert!(header_len < Some(bytes.len()), "{}: the header length is no longer short", name);
        let n = u16::try_from(bytes.len()).expect("capture fits a header length");
        bytes[2..4].copy_from_slice(&n.to_be_bytes());
    } else {
        assert_eq!(header_len, Some(bytes.len()), "{}: header length and file size differ", name);
    }
    bytes
}

/// Collects differences between two JSON values as human-readable lines.
fn diff(path: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(&format!("{}.{}", path, k), gv, wv, out),
                    None => out.push(format!("{}.{}: missing (want {})", path, k, wv)),
                }
            }
            for k in g.keys() {
                if !w.contains_key(k) {
                    out.push(format!("{}.{}: unexpected {}", path, k, g[k]));
                }
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                out.push(format!("{}: array length {} vs {}", path, g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                diff(&format!("{}[{}]", path, i), gv, wv, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        _ if got == want => {}
        _ => out.push(format!("{}: got {} want {}", path, got, want)),
    }
}

/// Minimal Ethernet/IPv4/ICMP-echo rendering of Ryu's `Packet` JSON (used by
/// the `*_packet_library` corpus files, whose `data` is a parsed packet).
fn ryu_packet_json(d: &[u8]) -> Option<Value> {
    use serde_json::json;
    let mac = |b: &[u8]| b.iter().map(|x| format!("{:02x}", x)).collect::<Vec<_>>().join(":");
    let be16 = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    if d.len() < 14 {
        return None;
    }
    let eth = json!({"ethernet": {"dst": mac(&d[0..6]), "src": mac(&d[6..12]), "ethertype": be16(d, 12)}});
    if be16(d, 12) != 0x0800 {
        return None;
    }
    let ip = &d[14..];
    let ihl = (ip[0] & 0xf) as usize * 4;
    let ipv4 = json!({"ipv4": {"version": ip[0] >> 4, "header_length": ip[0] & 0xf, "tos": ip[1], "total_length": be16(ip, 2),
        "identification": be16(ip, 4), "flags": ip[6] >> 5, "offset": be16(ip, 6) & 0x1fff, "ttl": ip[8], "proto": ip[9],
        "csum": be16(ip, 10), "src": std::net::Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]).to_string(),
        "dst": std::net::Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]).to_string(), "option": null}});
    let ic = &ip[ihl..];
    if ip[9] != 1 || ic.len() < 8 {
        return None;
    }
    let icmp = json!({"icmp": {"type": ic[0], "code": ic[1], "csum": be16(ic, 2),
        "data": {"echo": {"id": be16(ic, 4), "seq": be16(ic, 6), "data": tatsu_ofproto::json::base64(&ic[8..])}}}});
    Some(json!({"Packet": {"protocols": [eth, ipv4, icmp]}}))
}

/// Replaces a base64 `data` by the parsed-packet form when the expected JSON has one.
fn adapt_packet_data(got: &mut Value, want: &Value, raw_data: Option<&[u8]>) {
    let (Some(g), Some(w)) = (got.as_object_mut(), want.as_object()) else { return };
    for (k, gv) in g.iter_mut() {
        let Some(wv) = w.get(k) else { continue };
        if let Some(wo) = wv.get("data") {
            if wo.get("Packet").is_some() {
                if let (Some(raw), Some(o)) = (raw_data, gv.as_object_mut()) {
                    if let Some(p) = ryu_packet_json(raw) {
                        o.insert("data".into(), p);
                    }
                }
            }
        }
    }
}

fn packet_out_data(msg: &tatsu_ofproto::Message) -> Option<Vec<u8>> {
    use tatsu_ofproto::{v1_0, v1_2, v1_3, v1_4, v1_5, Message};
    match msg {
        Message::V1_3(v1_3::Message::PacketOut(p)) => Some(p.data.clone()),
        Message::V1_2(v1_2::Message::PacketOut(p)) => Some(p.data.clone()),
        Message::V1_4(v1_4::Message::PacketOut(p)) => Some(p.data.clone()),
        Message::V1_5(v1_5::Message::PacketOut(p)) => Some(p.data.clone()),
        Message::V1_0(v1_0::Message::PacketOut(p)) => Some(p.data.clone()),
        _ => None,
    }
}

#[test]
fn corpus_roundtrip_and_json() {
    let packets = files(".packet");
    assert!(!packets.is_empty(), "no corpus files found");
    let mut failures = Vec::new();
    for p in &packets {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = read_capture(p);
        let (hdr, msg) = match decode(&bytes) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{}: decode error: {}", name, e));
                continue;
            }
        };
        let enc = match msg.to_vec(hdr.xid) {
            Ok(enc) => enc,
            Err(e) => {
                failures.push(format!("{}: re-encoding failed: {}", name, e));
                continue;
            }
        };
        if enc != bytes {
            let at = enc.iter().zip(&bytes).position(|(a, b)| a != b).unwrap_or(enc.len().min(bytes.len()));
            failures.push(format!(
                "{}: re-encoding differs at byte {} (got {} bytes, want {})",
                name,
                at,
                enc.len(),
                bytes.len()
            ));
        }
        let json_path = PathBuf::from(format!("{}.json", p.display()));
        let want: Value = serde_json::from_slice(&std::fs::read(&json_path).expect("read json")).expect("parse json");
        let mut got = to_json(&msg);
        adapt_packet_data(&mut got, &want, packet_out_data(&msg).as_deref());
        let mut d = Vec::new();
        diff("", &got, &want, &mut d);
        if !d.is_empty() {
            failures.push(format!("{}: JSON differs:\n    {}", name, d.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        packets.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_truncated_rejected() {
    let markers = files(".truncated64");
    assert!(!markers.is_empty(), "no .truncated64 markers found");
    for m in markers {
        let s = m.to_string_lossy();
        let packet = PathBuf::from(format!("{}.packet", s.trim_end_matches(".truncated64")));
        let bytes = std::fs::read(&packet).expect("read packet for truncated marker");
        let cut = &bytes[..64.min(bytes.len())];
        let err = decode(cut).expect_err("truncated message must be rejected");
        assert!(err.to_string().contains("truncated"), "unexpected error text: {}", err);
    }
}

#[test]
fn corpus_every_prefix_is_handled() {
    // Every strict prefix (with the header length patched to the prefix size)
    // must be rejected or decoded without panicking.
    for p in files(".packet") {
        let bytes = std::fs::read(&p).expect("read packet");
        for n in 8..bytes.len() {
            let mut b = bytes[..n].to_vec();
            b[2..4].copy_from_slice(&(n as u16).to_be_bytes());
            let _ = decode(&b);
        }
    }
}

/// Sets every computed length field (`len`, `length`, `actions_len`,
/// `match_len`) to 0, except the OXM header length inside `OFPOxmId`, which is
/// part of the id rather than a computed length.
fn zero_lengths(v: &mut Value, in_oxm_id: bool) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if !in_oxm_id && matches!(k.as_str(), "len" | "length" | "actions_len" | "match_len") && x.is_number() {
                    *x = Value::from(0);
                } else {
                    zero_lengths(x, k == "OFPOxmId");
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| zero_lengths(x, false)),
        _ => {}
    }
}

/// Lengths are computed, not copied: the message rebuilt from its JSON with
/// every length field zeroed encodes to exactly the corpus bytes.
#[test]
fn corpus_encode_from_json_with_zeroed_lengths() {
    let mut failures = Vec::new();
    let packets = files(".packet");
    for p in &packets {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = read_capture(p);
        let json_path = PathBuf::from(format!("{}.json", p.display()));
        let mut want: Value =
            serde_json::from_slice(&std::fs::read(&json_path).expect("read json")).expect("parse json");
        // The `*_packet_library` files show `data` as a parsed packet; use the raw bytes instead.
        if let Ok((_, msg)) = decode(&bytes) {
            if let (Some(d), Some(o)) = (packet_out_data(&msg), want.as_object_mut()) {
                for body in o.values_mut() {
                    if let Some(b) = body.as_object_mut() {
                        if b.get("data").is_some_and(|x| x.is_object()) {
                            b.insert("data".into(), Value::from(tatsu_ofproto::json::base64(&d)));
                        }
                    }
                }
            }
        }
        zero_lengths(&mut want, false);
        let msg = match from_json(bytes[0], &want) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: from_json: {}", name, e));
                continue;
            }
        };
        let xid = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let enc = match msg.to_vec(xid) {
            Ok(enc) => enc,
            Err(e) => {
                failures.push(format!("{}: encoding from zero-length JSON failed: {}", name, e));
                continue;
            }
        };
        if UNORDERED_JSON.contains(&name.as_str()) {
            // The JSON cannot carry the wire order: the bytes must decode to the same message, in some order.
            let same = enc.len() == bytes.len()
                && matches!((decode(&enc), decode(&bytes)), (Ok((_, a)), Ok((_, b))) if to_json(&a) == to_json(&b));
            if !same {
                failures.push(format!("{}: encoding from zero-length JSON is not the same message", name));
            }
        } else if enc != bytes {
            let at = enc.iter().zip(&bytes).position(|(a, b)| a != b).unwrap_or(enc.len().min(bytes.len()));
            failures.push(format!(
                "{}: encoding from zero-length JSON differs at byte {} (got {} bytes, want {})",
                name,
                at,
                enc.len(),
                bytes.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), packets.len(), failures.join("\n"));
}
