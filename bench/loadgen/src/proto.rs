//! The few OpenFlow 1.0/1.3 messages an emulated switch and the trivial responder need, built by hand into
//! templates (the hot path only patches a few bytes) and read with bounds-checked accessors.

/// OpenFlow 1.0 wire version.
pub const V1_0: u8 = 0x01;
/// OpenFlow 1.3 wire version.
pub const V1_3: u8 = 0x04;

pub const HELLO: u8 = 0;
pub const ERROR: u8 = 1;
pub const ECHO_REQUEST: u8 = 2;
pub const ECHO_REPLY: u8 = 3;
pub const FEATURES_REQUEST: u8 = 5;
pub const FEATURES_REPLY: u8 = 6;
pub const GET_CONFIG_REQUEST: u8 = 7;
pub const GET_CONFIG_REPLY: u8 = 8;
pub const PACKET_IN: u8 = 10;
pub const PACKET_OUT: u8 = 13;
pub const FLOW_MOD: u8 = 14;

/// STATS_REQUEST (1.0) / MULTIPART_REQUEST (1.3); the reply is the next type.
pub fn stats_request(version: u8) -> u8 {
    if version == V1_0 {
        16
    } else {
        18
    }
}

/// BARRIER_REQUEST; the reply is the next type.
pub fn barrier_request(version: u8) -> u8 {
    if version == V1_0 {
        18
    } else {
        20
    }
}

/// 1.3 ROLE_REQUEST; the reply is the next type and echoes the body.
pub const ROLE_REQUEST_1_3: u8 = 24;
/// 1.3 multipart type PORT_DESC.
const MP_PORT_DESC: u16 = 13;
/// Multipart/stats type DESC.
const MP_DESC: u16 = 0;

/// Buffer id of the packet-in that teaches the controller the destination MAC.
pub const LEARN_BUFFER: u32 = 0xffff_ff00;
/// Data packet-ins use buffer ids below this (they wrap).
pub const BUFFER_SPAN: u32 = 0x00ff_ffff;

/// Length of the Ethernet frame carried in every packet-in.
const FRAME_LEN: usize = 64;

/// Reads a big-endian u16 at `at`, if present.
pub fn be16(buf: &[u8], at: usize) -> Option<u16> {
    buf.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// Reads a big-endian u32 at `at`, if present.
pub fn be32(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The xid of a framed message (0 if short).
pub fn xid(msg: &[u8]) -> u32 {
    be32(msg, 4).unwrap_or(0)
}

/// Starts a message: appends the header with a zero length; returns its offset for [`finish`].
pub fn begin(out: &mut Vec<u8>, version: u8, msg_type: u8, xid: u32) -> usize {
    let start = out.len();
    out.extend_from_slice(&[version, msg_type, 0, 0]);
    out.extend_from_slice(&xid.to_be_bytes());
    start
}

/// Writes the message length into the header begun at `start`.
///
/// Panics on a message over 65,535 bytes rather than write a length that lies: the messages built here are fixed
/// and at most about 1.1 KiB (the DESC reply), so that is a bug in this file.
pub fn finish(out: &mut [u8], start: usize) {
    let len = u16::try_from(out.len() - start).expect("the load generator's messages are fixed and small");
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The HELLO an emulated switch sends: plain for 1.0, with a version bitmap of just 1.3 for 1.3.
pub fn hello(version: u8, out: &mut Vec<u8>) {
    if version == V1_0 {
        let start = begin(out, version, HELLO, 1);
        finish(out, start);
    } else {
        tatsu_ofproto::encode_hello(version, &[version], 1, out).expect("a HELLO with a one-word bitmap is 16 bytes");
    }
}

/// A controller's HELLO announcing 1.0 and 1.3 (for the trivial responder).
pub fn controller_hello(out: &mut Vec<u8>) {
    tatsu_ofproto::encode_hello(V1_3, &[V1_0, V1_3], 1, out).expect("a HELLO with a one-word bitmap is 16 bytes");
}

/// A reply with the request's body: echo, role, barrier (the body is empty there).
pub fn mirror_reply(request: &[u8], reply_type: u8, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(request);
    out[start + 1] = reply_type;
}

/// FEATURES_REPLY of datapath `dpid`; 1.0 lists ports 1 and 2 (1.3 sends them in PORT_DESC).
pub fn features_reply(version: u8, request_xid: u32, dpid: u64, out: &mut Vec<u8>) {
    let start = begin(out, version, FEATURES_REPLY, request_xid);
    out.extend_from_slice(&dpid.to_be_bytes());
    out.extend_from_slice(&256u32.to_be_bytes()); // n_buffers
    out.push(if version == V1_0 { 1 } else { 254 }); // n_tables
    out.extend_from_slice(&[0, 0, 0]); // auxiliary id + pad (1.3) / pad (1.0)
    out.extend_from_slice(&0x47u32.to_be_bytes()); // capabilities: flow, table, port stats, ...
    out.extend_from_slice(&(if version == V1_0 { 0xfffu32 } else { 0 }).to_be_bytes()); // actions / reserved
    if version == V1_0 {
        for port in 1..=2u16 {
            out.extend_from_slice(&port.to_be_bytes());
            out.extend_from_slice(&port_mac(dpid, port));
            out.extend_from_slice(&port_name(port));
            out.extend_from_slice(&[0; 4 * 2]); // config, state
            out.extend_from_slice(&0x0000_00c0u32.to_be_bytes()); // curr: 1 Gb full duplex, copper
            out.extend_from_slice(&[0; 4 * 3]); // advertised, supported, peer
        }
    }
    finish(out, start);
}

fn port_mac(dpid: u64, port: u16) -> [u8; 6] {
    let d = dpid.to_be_bytes();
    [0x0a, d[5], d[6], d[7], 0, u8::try_from(port & 0xff).unwrap_or(0)]
}

fn port_name(port: u16) -> [u8; 16] {
    let mut name = [0u8; 16];
    let text = format!("eth{port}");
    name[..text.len()].copy_from_slice(text.as_bytes());
    name
}

/// The reply to a STATS/MULTIPART request: ports 1 and 2 for 1.3 PORT_DESC, an empty DESC for DESC, otherwise an
/// empty reply of the requested type.
pub fn stats_reply(version: u8, request: &[u8], dpid: u64, out: &mut Vec<u8>) {
    let kind = be16(request, 8).unwrap_or(0xffff);
    let start = begin(out, version, stats_request(version) + 1, xid(request));
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // flags
    if version == V1_3 {
        out.extend_from_slice(&[0; 4]);
    }
    if kind == MP_PORT_DESC && version == V1_3 {
        for port in 1..=2u32 {
            out.extend_from_slice(&port.to_be_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&port_mac(dpid, u16::try_from(port).unwrap_or(0)));
            out.extend_from_slice(&[0; 2]);
            out.extend_from_slice(&port_name(u16::try_from(port).unwrap_or(0)));
            out.extend_from_slice(&[0; 4 * 2]); // config, state
            out.extend_from_slice(&0x0000_0820u32.to_be_bytes()); // curr: 1 Gb full duplex, copper
            out.extend_from_slice(&[0; 4 * 3]); // advertised, supported, peer
            out.extend_from_slice(&1_000_000u32.to_be_bytes()); // curr_speed kb/s
            out.extend_from_slice(&1_000_000u32.to_be_bytes()); // max_speed
        }
    } else if kind == MP_DESC {
        out.resize(out.len() + 256 * 4 + 32, 0);
    }
    finish(out, start);
}

/// GET_CONFIG_REPLY: no fragment handling, miss_send_len 128.
pub fn get_config_reply(version: u8, request_xid: u32, out: &mut Vec<u8>) {
    let start = begin(out, version, GET_CONFIG_REPLY, request_xid);
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&128u16.to_be_bytes());
    finish(out, start);
}

/// A packet-in template: a buffered 64-byte UDP/IPv4 frame; [`PacketIn::emit`] patches xid, buffer id and MACs.
pub struct PacketIn {
    bytes: Vec<u8>,
    frame: usize,
}

impl PacketIn {
    /// A template for `version` with the frame arriving on `in_port`.
    pub fn new(version: u8, in_port: u32) -> PacketIn {
        let mut out = Vec::with_capacity(128);
        let start = begin(&mut out, version, PACKET_IN, 0);
        out.extend_from_slice(&0u32.to_be_bytes()); // buffer id
        out.extend_from_slice(&u16::try_from(FRAME_LEN).unwrap_or(0).to_be_bytes()); // total_len
        if version == V1_0 {
            out.extend_from_slice(&u16::try_from(in_port).unwrap_or(0).to_be_bytes());
            out.extend_from_slice(&[0, 0]); // reason NO_MATCH, pad
        } else {
            out.extend_from_slice(&[0, 0]); // reason NO_MATCH, table 0
            out.extend_from_slice(&[0; 8]); // cookie
                                            // OXM match with in_port: type 1, length 12, then padded to 16; then 2 bytes of pad.
            out.extend_from_slice(&[0, 1, 0, 12, 0x80, 0x00, 0x00, 4]);
            out.extend_from_slice(&in_port.to_be_bytes());
            out.extend_from_slice(&[0; 4 + 2]);
        }
        let frame = out.len();
        out.extend_from_slice(&[0; 12]); // dst, src: patched per packet
        out.extend_from_slice(&[0x08, 0x00]); // IPv4
        out.extend_from_slice(&[0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        out.extend_from_slice(&[0x30, 0x39, 0x00, 0x50, 0, 30, 0, 0]); // UDP 12345 -> 80
        out.resize(frame + FRAME_LEN, 0);
        finish(&mut out, start);
        PacketIn { bytes: out, frame }
    }

    /// Appends one packet-in.
    pub fn emit(&self, out: &mut Vec<u8>, xid: u32, buffer_id: u32, dst: &[u8; 6], src: &[u8; 6]) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        let msg = &mut out[start..];
        msg[4..8].copy_from_slice(&xid.to_be_bytes());
        msg[8..12].copy_from_slice(&buffer_id.to_be_bytes());
        msg[self.frame..self.frame + 6].copy_from_slice(dst);
        msg[self.frame + 6..self.frame + 12].copy_from_slice(src);
    }
}

/// What an emulated switch makes of a message the controller sent it that counts as a response.
#[derive(Debug, PartialEq, Eq)]
pub enum Response {
    /// FLOW_MOD ADD with this buffer id.
    FlowMod(u32),
    /// PACKET_OUT with this buffer id.
    PacketOut(u32),
}

/// Classifies FLOW_MOD (add) and PACKET_OUT messages, as cbench counts them; `None` for anything else or a
/// message too short to hold the fields.
pub fn response(msg: &[u8]) -> Option<Response> {
    let (version, msg_type) = (*msg.first()?, *msg.get(1)?);
    match msg_type {
        PACKET_OUT => be32(msg, 8).map(Response::PacketOut),
        FLOW_MOD if version == V1_0 => {
            (be16(msg, 56)? == 0).then_some(())?;
            be32(msg, 64).map(Response::FlowMod)
        }
        FLOW_MOD => {
            (*msg.get(25)? == 0).then_some(())?;
            be32(msg, 32).map(Response::FlowMod)
        }
        _ => None,
    }
}

/// The trivial responder's answer to a packet-in: a buffered PACKET_OUT flooding it (data attached if the
/// packet-in was not buffered).
pub fn packet_out_for(packet_in: &[u8], out: &mut Vec<u8>) -> bool {
    let (Some(&version), Some(buffer_id)) = (packet_in.first(), be32(packet_in, 8)) else { return false };
    let start = begin(out, version, PACKET_OUT, xid(packet_in));
    out.extend_from_slice(&buffer_id.to_be_bytes());
    let data_at = if version == V1_0 {
        out.extend_from_slice(&be16(packet_in, 14).unwrap_or(0xfff8).to_be_bytes()); // in_port (or TABLE)
        out.extend_from_slice(&8u16.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xfb, 0, 0]); // output FLOOD
        18
    } else {
        out.extend_from_slice(&0xffff_fffdu32.to_be_bytes()); // in_port CONTROLLER: no match parsing
        out.extend_from_slice(&16u16.to_be_bytes());
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&[0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
        // The frame follows the match (padded to 8) and 2 bytes of pad.
        let match_len = usize::from(be16(packet_in, 26).unwrap_or(4));
        24 + match_len.div_ceil(8) * 8 + 2
    };
    if buffer_id == 0xffff_ffff {
        out.extend_from_slice(packet_in.get(data_at..).unwrap_or(&[]));
    }
    finish(out, start);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_ofproto::{decode, v1_0, v1_3, Message};

    #[test]
    fn packet_ins_decode_with_the_codec() {
        for version in [V1_0, V1_3] {
            let template = PacketIn::new(version, 1);
            let mut out = Vec::new();
            template.emit(&mut out, 9, 77, &[0x80, 0, 0, 0, 0, 1], &[2, 0, 1, 0, 0, 5]);
            let (header, message) = decode(&out).expect("packet-in decodes");
            assert_eq!((header.xid, usize::from(header.length)), (9, out.len()));
            match message {
                Message::V1_0(v1_0::Message::PacketIn(pi)) => {
                    assert_eq!((pi.buffer_id, pi.in_port, pi.data.len()), (77, 1, FRAME_LEN));
                    assert_eq!(pi.data[6..12], [2, 0, 1, 0, 0, 5]);
                }
                Message::V1_3(v1_3::Message::PacketIn(pi)) => {
                    assert_eq!((pi.buffer_id, pi.data.len()), (77, FRAME_LEN));
                    assert_eq!(pi.data[..6], [0x80, 0, 0, 0, 0, 1]);
                }
                other => panic!("not a packet-in: {other:?}"),
            }
            let mut reply = Vec::new();
            assert!(packet_out_for(&out, &mut reply));
            assert!(decode(&reply).is_ok(), "packet-out {version}: {:?}", decode(&reply));
            assert_eq!(response(&reply), Some(Response::PacketOut(77)));
        }
    }

    #[test]
    fn handshake_replies_decode_with_the_codec() {
        for version in [V1_0, V1_3] {
            let mut out = Vec::new();
            features_reply(version, 3, 0x42, &mut out);
            let (header, _) = decode(&out).expect("features reply decodes");
            assert_eq!(usize::from(header.length), out.len());
            let mut hello_msg = Vec::new();
            hello(version, &mut hello_msg);
            tatsu_ofproto::decode_hello(&hello_msg).expect("hello decodes");
        }
        let mut request = Vec::new();
        let start = begin(&mut request, V1_3, 18, 5);
        request.extend_from_slice(&[0, 13, 0, 0, 0, 0, 0, 0]);
        finish(&mut request, start);
        let mut out = Vec::new();
        stats_reply(V1_3, &request, 1, &mut out);
        let (_, message) = decode(&out).expect("port desc decodes");
        assert!(matches!(message, Message::V1_3(v1_3::Message::MultipartReply(_))), "{message:?}");
    }

    #[test]
    fn flow_mods_are_classified() {
        let fm = v1_0::FlowMod::add(v1_0::Match::new()).buffer_id(12);
        let mut out = Vec::new();
        v1_0::Message::FlowMod(fm).encode(1, &mut out).expect("encodes");
        assert_eq!(response(&out), Some(Response::FlowMod(12)));
        let fm = v1_3::FlowMod::add(v1_3::Match::new()).buffer_id(13);
        let mut out = Vec::new();
        v1_3::Message::FlowMod(fm).encode(1, &mut out).expect("encodes");
        assert_eq!(response(&out), Some(Response::FlowMod(13)));
        let fm = v1_3::FlowMod::delete(v1_3::Match::new());
        let mut out = Vec::new();
        v1_3::Message::FlowMod(fm).encode(1, &mut out).expect("encodes");
        assert_eq!(response(&out), None);
        assert_eq!(response(&out[..20]), None);
    }
}
