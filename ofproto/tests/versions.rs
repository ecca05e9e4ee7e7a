//! OpenFlow 1.2, 1.4 and 1.5 through their builders and typed views: encode → decode → JSON → message.

use tatsu_ofproto::props::Prop;
use tatsu_ofproto::v1_3::{self, Action, Match};
use tatsu_ofproto::v1_5::actions::{CopyField, MeterAction, StatTrigger};
use tatsu_ofproto::v1_5::{Oxs, OxsField, Stats};
use tatsu_ofproto::{decode, from_json, to_json, v1_2, v1_4, v1_5, version_name, Message, SUPPORTED_VERSIONS};

/// Encodes, decodes, and reads the JSON back: all three give the same message.
fn round_trip(m: Message) {
    let bytes = m.to_vec(42).expect("encodes");
    let (h, back) = decode(&bytes).expect("decodes");
    assert_eq!((h.version, h.xid), (m.version(), 42));
    assert_eq!(back, m);
    let j = to_json(&m);
    assert_eq!(from_json(m.version(), &j).expect("reads its JSON"), m, "{}", j);
}

#[test]
fn every_version_is_named_and_decoded() {
    assert_eq!(SUPPORTED_VERSIONS, [1, 3, 4, 5, 6]);
    let names: Vec<String> = SUPPORTED_VERSIONS.iter().map(|v| version_name(*v)).collect();
    assert_eq!(names, ["1.0", "1.2", "1.3", "1.4", "1.5"]);
}

#[test]
fn flow_mod_1_4_with_importance_and_port_mod_properties() {
    let fm =
        v1_4::FlowMod::from(v1_3::FlowMod::add(Match::new().in_port(1)).priority(7).apply_actions([Action::output(2)]))
            .importance(9);
    round_trip(v1_4::Message::FlowMod(fm).into());
    let pm = v1_4::PortMod::new(3, "00:11:22:33:44:55".parse().expect("mac"), 1, 1)
        .property(v1_4::PortModProp::Ethernet { advertise: 0x20 });
    round_trip(v1_4::Message::PortMod(pm).into());
    let port = v1_4::Port::ethernet(
        5,
        "00:11:22:33:44:66".parse().expect("mac"),
        "eth5",
        v1_4::PortEthernet { curr_speed: 10_000_000, ..Default::default() },
    );
    assert_eq!(port.ethernet_features().map(|e| e.curr_speed), Some(10_000_000));
    round_trip(v1_4::Message::PortStatus(v1_4::PortStatus { reason: 2, desc: port }).into());
}

#[test]
fn bundles_1_4_carry_a_message() {
    let fm = v1_4::FlowMod::from(v1_3::FlowMod::delete(Match::new()));
    // The JSON has no transaction id for the carried message: 0 comes back.
    let add = v1_4::BundleAdd::new(7, 1, 0, v1_4::Message::FlowMod(fm));
    round_trip(v1_4::Message::BundleAdd(add).into());
    let open = v1_4::BundleCtrl::new(7, v1_4::bundle_ctrl_type::OPEN_REQUEST, 1);
    round_trip(v1_4::Message::BundleControl(open).into());
    // A bundle inside a bundle is refused, not decoded recursively.
    let inner = v1_4::Message::BundleControl(v1_4::BundleCtrl::new(1, 0, 0));
    let nested = v1_4::Message::BundleAdd(v1_4::BundleAdd::new(7, 0, 0, inner));
    let bytes = nested.to_vec(0).expect("encodes");
    assert!(decode(&bytes).is_err());
}

#[test]
fn async_config_1_4_as_properties() {
    let a = v1_4::AsyncConfig::default().reasons(0, 3).reasons(1, 1);
    round_trip(v1_4::Message::SetAsync(a).into());
}

#[test]
fn actions_and_instruction_of_1_5() {
    let copy = CopyField {
        n_bits: 16,
        src_offset: 0,
        dst_offset: 0,
        src: v1_3::OxmField::TcpSrc.header(false),
        dst: v1_3::OxmField::TcpDst.header(false),
    };
    let meter = MeterAction { meter_id: 3 };
    let trigger = StatTrigger { flags: 1, thresholds: Stats::default().with(Oxs::new(OxsField::PacketCount, 1000)) };
    let mut fm = v1_3::FlowMod::add(Match::new().in_port(1)).apply_actions([copy.to_action(), meter.to_action()]);
    fm.instructions.push(trigger.to_instruction().expect("encodes"));
    let m: Message = v1_5::Message::FlowMod(v1_4::FlowMod::from(fm.clone())).into();
    round_trip(m.clone());
    let j = to_json(&m).to_string();
    assert!(
        j.contains("OFPActionCopyField") && j.contains("OFPActionMeter") && j.contains("OFPInstructionStatTrigger")
    );
    let v1_3::Instruction::ApplyActions(a) = &fm.instructions[0] else { panic!("apply actions") };
    assert_eq!(CopyField::from_action(&a[0]), Some(copy));
    assert_eq!(MeterAction::from_action(&a[1]), Some(meter));
    assert_eq!(StatTrigger::from_instruction(&fm.instructions[1]), Some(trigger));
}

#[test]
fn packet_out_1_5_has_a_match_and_flow_removed_oxs() {
    let po = v1_5::PacketOut::new(&b"frame"[..], [Action::output(1)]);
    assert_eq!(po.in_port(), Some(v1_3::port::CONTROLLER));
    round_trip(v1_5::Message::PacketOut(po).into());
    let fr = v1_5::FlowRemoved {
        table_id: 1,
        stats: Stats::default().with(Oxs::time(OxsField::Duration, 5, 6)).with(Oxs::new(OxsField::ByteCount, 77)),
        ..Default::default()
    };
    assert_eq!(fr.stats.get(OxsField::ByteCount), Some(77));
    round_trip(v1_5::Message::FlowRemoved(fr).into());
    let g = v1_5::GroupMod::add(1, 10)
        .bucket(v1_5::Bucket::new(0, [Action::output(2)]).property(v1_5::BucketProp::Weight(5)));
    round_trip(v1_5::Message::GroupMod(g).into());
}

#[test]
fn features_and_stats_of_1_2() {
    let f =
        v1_2::SwitchFeatures { datapath_id: 1, n_tables: 4, ports: vec![v1_3::Port::default()], ..Default::default() };
    round_trip(v1_2::Message::FeaturesReply(f).into());
    let r = v1_2::StatsRequest::new(v1_3::MultipartRequest::port_stats(v1_3::port::ANY).body);
    round_trip(v1_2::Message::StatsRequest(r).into());
    // 1.2 has no meters: a 1.3 meter request cannot be encoded as 1.2.
    let meter = v1_3::multipart::MultipartRequestBody::Meter { meter_id: 1 };
    assert!(Message::V1_2(v1_2::Message::StatsRequest(v1_2::StatsRequest::new(meter))).to_vec(0).is_err());
}

#[test]
fn property_lists_keep_experimenter_and_unknown_properties() {
    let mut p = v1_4::PortMod::new(1, Default::default(), 0, 0);
    p.properties.push(Prop::Unknown { prop_type: 9, data: vec![1, 2, 3] });
    round_trip(v1_4::Message::PortMod(p).into());
}
