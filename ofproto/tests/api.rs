//! Tests of the host-facing API: framing, hello negotiation, errors, builders, views.

use tatsu_ofproto::common::{error_codes, negotiate, ErrorMsg, Hello};
use tatsu_ofproto::v1_3::multipart::{MultipartReplyBody, MultipartRequestBody};
use tatsu_ofproto::v1_3::{self, Action, FlowMod, Match, PacketInView};
use tatsu_ofproto::{decode, decode_hello, encode_hello, frame_len, split_frame, v1_0, MacAddr, Message};

fn corpus(name: &str) -> Vec<u8> {
    let root = std::env::var("TATSU_OPENFLOW_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus"));
    std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("corpus file {} missing: {}", name, e))
}

#[test]
fn framing() {
    assert!(frame_len(&[4, 0, 0]).is_none());
    assert!(frame_len(&[4, 0, 0, 7, 0, 0, 0, 0]).expect("some").is_err());
    assert_eq!(frame_len(&[4, 0, 0, 16, 0, 0, 0, 0]).expect("some").expect("ok"), 16);
    let mut stream = Vec::new();
    v1_3::Message::EchoRequest(b"ab".to_vec()).encode(1, &mut stream).expect("encodes");
    v1_3::Message::BarrierRequest.encode(2, &mut stream).expect("encodes");
    let (m1, rest) = split_frame(&stream).expect("ok").expect("complete");
    assert_eq!(m1.len(), 10);
    let (m2, rest) = split_frame(rest).expect("ok").expect("complete");
    assert_eq!(m2.len(), 8);
    assert!(rest.is_empty());
    assert!(split_frame(&stream[..9]).expect("ok").is_none());
}

#[test]
fn hello_and_negotiation() {
    let mut buf = Vec::new();
    encode_hello(4, &[1, 4], 9, &mut buf).expect("encodes");
    assert_eq!(buf, [4, 0, 0, 16, 0, 0, 0, 9, 0, 1, 0, 8, 0, 0, 0, 0x12]);
    let (h, hello) = decode_hello(&buf).expect("decode hello");
    assert_eq!(h.xid, 9);
    assert_eq!(hello.bitmap(), Some(vec![1, 4]));
    assert_eq!(negotiate(&[1, 4], h.version, &hello), Some(4));
    // Peer without a bitmap: min of the two highest versions.
    assert_eq!(negotiate(&[1, 4], 1, &Hello::default()), Some(1));
    assert_eq!(negotiate(&[1, 4], 6, &Hello::default()), Some(4));
    assert_eq!(negotiate(&[1, 4], 2, &Hello::default()), None);
    assert_eq!(negotiate(&[1, 4], 6, &Hello::with_versions(&[5, 6])), None);
    // A 1.5 hello decodes as a message too.
    let mut b6 = Vec::new();
    encode_hello(6, &[4, 5, 6], 1, &mut b6).expect("encodes");
    assert!(decode(&b6).is_ok());
    let (_, h6) = decode_hello(&b6).expect("1.5 hello");
    assert_eq!(negotiate(&[1, 4], 6, &h6), Some(4));
    // A hello of a version the codec does not speak (0x07) decodes for negotiation only.
    let mut b7 = Vec::new();
    encode_hello(7, &[4, 7], 1, &mut b7).expect("encodes");
    assert!(decode(&b7).is_err());
    let (_, h7) = decode_hello(&b7).expect("0x07 hello");
    assert_eq!(negotiate(&[1, 4], 7, &h7), Some(4));
}

#[test]
fn error_hello_failed() {
    let e = ErrorMsg::new(error_codes::OFPET_HELLO_FAILED, error_codes::OFPHFC_INCOMPATIBLE, &b"no common version"[..]);
    let bytes = v1_3::Message::Error(e.clone()).to_vec(3).expect("encodes");
    let (_, m) = decode(&bytes).expect("decode");
    assert_eq!(m, Message::V1_3(v1_3::Message::Error(e)));
}

#[test]
fn decode_error_names_type_and_offset() {
    // Flow-mod whose single apply-actions holds an action of length 12.
    let mut fm = FlowMod::add(Match::new()).apply_actions([Action::output(1)]);
    fm.priority = 1;
    let mut bytes = Vec::new();
    fm.encode(0, &mut bytes).expect("encodes");
    // header 8 + fixed 40 + match 8 + instruction header 8 => first action at 64; its length at 66.
    bytes[66..68].copy_from_slice(&12u16.to_be_bytes());
    let err = decode(&bytes).expect_err("bad action length");
    assert_eq!(err.msg_type, "OFPT_FLOW_MOD");
    assert_eq!(err.offset, 66);
    assert_eq!(err.to_string(), "OFPT_FLOW_MOD at offset 66: action length 12 is not a positive multiple of 8");
}

#[test]
fn flow_mod_builder_matches_corpus() {
    // of13/4-46: table 1, priority 123, buffer 0xffff, eth_dst match, meter 1, write-actions output:6.
    let mac: MacAddr = "f2:0b:a4:7d:f8:ea".parse().expect("mac");
    let fm = FlowMod::add(Match::new().eth_dst(mac))
        .table(1)
        .priority(123)
        .buffer_id(0xffff)
        .meter(1)
        .write_actions([Action::output(6)]);
    let mut buf = Vec::new();
    fm.encode(0, &mut buf).expect("encodes");
    assert_eq!(buf, corpus("of13/4-46-ofp_flow_mod.packet"));

    // of10/1-2: dl_dst match, priority 123, buffer 0xffff, out_port ALL, output:6.
    let fm = v1_0::FlowMod::add(v1_0::Match::new().dl_dst(mac))
        .priority(123)
        .buffer_id(0xffff)
        .actions([v1_0::Action::output(6)]);
    let fm = v1_0::FlowMod { out_port: v1_0::port::ALL, ..fm };
    let mut buf = Vec::new();
    fm.encode(0, &mut buf).expect("encodes");
    assert_eq!(buf, corpus("of10/1-2-ofp_flow_mod.packet"));
}

#[test]
fn l2_switch_flow_and_packet_out() {
    let src: MacAddr = "00:00:00:00:00:01".parse().expect("mac");
    let dst: MacAddr = "00:00:00:00:00:02".parse().expect("mac");
    let fm = FlowMod::add(Match::new().in_port(1).eth_dst(dst).eth_src(src))
        .priority(1)
        .idle_timeout(30)
        .apply_actions([Action::output(2)]);
    let bytes = Message::V1_3(fm.clone().into()).to_vec(42).expect("encodes");
    let (_, m) = decode(&bytes).expect("decode");
    assert_eq!(m, Message::V1_3(v1_3::Message::FlowMod(fm)));

    let po = v1_3::PacketOut::new(vec![1, 2, 3], [Action::output(v1_3::port::FLOOD)]).in_port(1);
    let bytes = Message::V1_3(po.clone().into()).to_vec(1).expect("encodes");
    assert_eq!(bytes.len(), 8 + 16 + 16 + 3);
    assert_eq!(decode(&bytes).expect("decode").1, Message::V1_3(v1_3::Message::PacketOut(po)));

    let po = v1_0::PacketOut::buffered(7, 1, [v1_0::Action::output(v1_0::port::FLOOD)]);
    let bytes = Message::V1_0(po.clone().into()).to_vec(1).expect("encodes");
    assert_eq!(decode(&bytes).expect("decode").1, Message::V1_0(v1_0::Message::PacketOut(po)));
}

#[test]
fn packet_in_views() {
    let b = corpus("of13/4-4-ofp_packet_in.packet");
    let v = PacketInView::new(&b).expect("view");
    assert_eq!(v.buffer_id(), 2);
    assert_eq!(v.total_len(), 42);
    assert_eq!(v.reason(), 1);
    assert_eq!(v.table_id(), 1);
    assert_eq!(v.in_port(), Some(6));
    assert_eq!(v.data().len(), 42);
    let Ok((_, Message::V1_3(v1_3::Message::PacketIn(p)))) = decode(&b) else { panic!("not a packet-in") };
    assert_eq!(p.data, v.data());
    assert_eq!(p.match_.in_port_value(), Some(6));
    assert!(PacketInView::new(&b[..40]).is_err());

    let b = corpus("of10/1-4-ofp_packet_in.packet");
    let v = v1_0::PacketInView::new(&b).expect("view");
    assert_eq!((v.buffer_id(), v.total_len(), v.in_port(), v.reason()), (2, 42, 99, 1));
    assert_eq!(v.data().len(), 42);
}

#[test]
fn handshake_messages() {
    for (m, len) in [
        (v1_3::Message::FeaturesRequest, 8),
        (v1_3::Message::SetConfig(v1_3::SwitchConfig { flags: 0, miss_send_len: 0xffff }), 12),
        (v1_3::Message::MultipartRequest(v1_3::MultipartRequest::port_desc()), 16),
        (v1_3::Message::BarrierRequest, 8),
        (v1_3::Message::EchoReply(b"xyz".to_vec()), 11),
    ] {
        let b = m.to_vec(5).expect("encodes");
        assert_eq!(b.len(), len);
        assert_eq!(decode(&b).expect("decode").1, Message::V1_3(m));
    }
    let Ok((_, Message::V1_3(v1_3::Message::MultipartReply(r)))) =
        decode(&corpus("of13/4-54-ofp_port_desc_reply.packet"))
    else {
        panic!("port desc reply")
    };
    let MultipartReplyBody::PortDesc(ports) = r.body else { panic!("port desc body") };
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[0].name.as_str(), "Port7");
    let Ok((_, Message::V1_0(v1_0::Message::FeaturesReply(f)))) =
        decode(&corpus("of10/1-6-ofp_switch_features.packet"))
    else {
        panic!("features reply")
    };
    assert_eq!(f.ports.len(), 2);
    let req = v1_3::MultipartRequest::new(MultipartRequestBody::Desc);
    assert_eq!(req.mp_type(), 0);
}

#[test]
fn more_builders() {
    use tatsu_ofproto::nx::NxAction;
    use tatsu_ofproto::v1_3::consts;
    use tatsu_ofproto::v1_3::oxm::OxmField;
    let mm = v1_3::MeterMod::add(100, 14).drop_band(1000, 10).dscp_remark_band(1000, 10, 1);
    let mut buf = Vec::new();
    mm.encode(0, &mut buf).expect("encodes");
    assert_eq!(buf, corpus("of13/libofproto-OFP13-meter_mod.packet"));

    assert_eq!(
        Action::reg_load(OxmField::Reg0, 4, 28, 0xdeadbee),
        Action::Nx(NxAction::RegLoad { ofs_nbits: 283, dst: 0x0001_0004, value: 0xdeadbee })
    );
    let gm = v1_3::GroupMod::add(consts::group::TYPE_SELECT, 7)
        .bucket(v1_3::Bucket::new([Action::output(1)]).weight(10))
        .bucket(v1_3::Bucket::new([Action::set_vlan_vid(5), Action::output(2)]).weight(20));
    let bytes = Message::V1_3(gm.clone().into()).to_vec(1).expect("encodes");
    assert_eq!(bytes.len(), 8 + 8 + (16 + 16) + (16 + 16 + 16));
    assert_eq!(decode(&bytes).expect("decode").1, Message::V1_3(v1_3::Message::GroupMod(gm)));
    let req = v1_3::MultipartRequest::flow_stats(Match::new().in_port(1));
    let bytes = Message::V1_3(req.clone().into()).to_vec(1).expect("encodes");
    assert_eq!(decode(&bytes).expect("decode").1, Message::V1_3(v1_3::Message::MultipartRequest(req)));
}
