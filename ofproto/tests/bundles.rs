//! Bundles in every version that has them: Open vSwitch's OpenFlow 1.3 extension (ONF experimenter messages,
//! laid out as in Open vSwitch's `lib/ofp-bundle.c` and `ofp-msgs.h`: the 16-byte experimenter header, then 1.4's
//! bundle body), 1.4 and 1.5's own messages, the portable builders that write either, and mutated bundle
//! messages, which must never panic.

use proptest::collection::vec;
use proptest::prelude::*;
use tatsu_ofproto::bundle::{bundle_failed_code, bundle_failure, bundle_flags, ONF_EXPERIMENTER_ID};
use tatsu_ofproto::portable::{self, Action, BundleAdd, BundleControl, Encode, FlowMod, Match};
use tatsu_ofproto::v1_3::bundle_ctrl_type;
use tatsu_ofproto::{decode, from_json, to_json, v1_3, v1_4, v1_5, EncodeError, ErrorMsg, Message};

/// `ONFT_BUNDLE_CONTROL` (OpenFlow 1.3, xid 7): open bundle 0x01020304, atomic and ordered.
const ONF_OPEN: [u8; 24] = [
    0x04, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x07, // header: version 1.3, EXPERIMENTER, 24 bytes, xid 7
    0x4f, 0x4e, 0x46, 0x00, 0x00, 0x00, 0x08, 0xfc, // ONF, ONF_ET_BUNDLE_CONTROL (2300)
    0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x03, // bundle id, OFPBCT_OPEN_REQUEST, atomic | ordered
];

/// `ONFT_BUNDLE_ADD_MESSAGE` (1.3, xid 9) carrying a 1.3 barrier request under the same xid.
const ONF_ADD_BARRIER: [u8; 32] = [
    0x04, 0x04, 0x00, 0x20, 0x00, 0x00, 0x00, 0x09, // header, 32 bytes, xid 9
    0x4f, 0x4e, 0x46, 0x00, 0x00, 0x00, 0x08, 0xfd, // ONF, ONF_ET_BUNDLE_ADD_MESSAGE (2301)
    0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x03, // bundle id, pad, flags
    0x04, 0x14, 0x00, 0x08, 0x00, 0x00, 0x00, 0x09, // the carried barrier request, xid 9
];

fn flow() -> FlowMod {
    FlowMod::add(Match::new().in_port(1)).priority(7).actions([Action::output(2)])
}

#[test]
fn onf_bundle_control_decodes_to_its_typed_view_and_encodes_back_byte_for_byte() {
    let (header, message) = decode(&ONF_OPEN).expect("a 1.3 bundle control decodes");
    assert_eq!(header.xid, 7);
    let Message::V1_3(v1_3::Message::BundleControl(control)) = &message else { panic!("got {message:?}") };
    assert_eq!((control.bundle_id, control.ctrl_type, control.flags), (0x0102_0304, bundle_ctrl_type::OPEN_REQUEST, 3));
    assert!(control.properties.is_empty());
    assert_eq!(message.type_name(), "ONFT_BUNDLE_CONTROL");
    assert_eq!(message.msg_type(), v1_3::msg_type::EXPERIMENTER);
    assert_eq!(message.to_vec(7).expect("encodes"), ONF_OPEN);

    let json = to_json(&message);
    assert_eq!(json["ONFBundleCtrlMsg"]["bundle_id"], 0x0102_0304);
    assert_eq!(json["ONFBundleCtrlMsg"]["type"], 0);
    assert_eq!(from_json(4, &json).expect("reads its JSON back"), message);

    // The portable builder writes the same bytes.
    let mut bytes = Vec::new();
    BundleControl::new(0x0102_0304, bundle_ctrl_type::OPEN_REQUEST, 3).encode_for(4, 7, &mut bytes).expect("1.3");
    assert_eq!(bytes, ONF_OPEN);
    assert_eq!(BundleControl::parse(&ONF_OPEN), Ok(BundleControl::new(0x0102_0304, 0, 3)));
}

#[test]
fn onf_bundle_add_carries_its_message_under_its_own_xid() {
    let (_, message) = decode(&ONF_ADD_BARRIER).expect("a 1.3 bundle add decodes");
    let Message::V1_3(v1_3::Message::BundleAdd(add)) = &message else { panic!("got {message:?}") };
    assert_eq!((add.bundle_id, add.flags, add.xid), (0x0102_0304, 3, 9));
    assert_eq!(*add.message, v1_3::Message::BarrierRequest);
    assert_eq!(message.type_name(), "ONFT_BUNDLE_ADD_MESSAGE");
    assert_eq!(message.to_vec(9).expect("encodes"), ONF_ADD_BARRIER);
    let json = to_json(&message);
    assert!(json["ONFBundleAddMsg"]["message"]["OFPBarrierRequest"].is_object(), "{json}");

    let mut bytes = Vec::new();
    let add = BundleAdd { bundle_id: 0x0102_0304, flags: 3, message: portable::Barrier };
    add.encode_for(4, 9, &mut bytes).expect("1.3");
    assert_eq!(bytes, ONF_ADD_BARRIER);
}

#[test]
fn other_experimenter_messages_stay_opaque() {
    let mut other_type = ONF_OPEN;
    other_type[15] = 0x00; // ONF, experimenter type 2048: not a bundle message
    let (_, message) = decode(&other_type).expect("decodes");
    assert!(
        matches!(message, Message::V1_3(v1_3::Message::Experimenter(ref e)) if e.experimenter == ONF_EXPERIMENTER_ID)
    );
    assert_eq!(message.to_vec(7).expect("encodes"), other_type);
}

#[test]
fn a_bundle_in_a_bundle_and_truncated_bundles_are_errors_not_panics() {
    let inner = ONF_OPEN;
    let mut nested = ONF_ADD_BARRIER[..24].to_vec();
    nested.extend_from_slice(&inner);
    let length = u16::try_from(nested.len()).expect("small");
    nested[2..4].copy_from_slice(&length.to_be_bytes());
    let error = decode(&nested).expect_err("a bundle message cannot carry one");
    assert_eq!(error.offset, 24 + 8, "the offset is in the outer message: {error}");

    for message in [&ONF_OPEN[..], &ONF_ADD_BARRIER[..]] {
        for cut in 8..message.len() {
            let mut short = message[..cut].to_vec();
            short[2..4].copy_from_slice(&u16::try_from(cut).expect("small").to_be_bytes());
            assert!(decode(&short).is_err(), "cut at {cut} must not decode");
        }
    }
    // The carried message claims more bytes than its container has.
    let mut overlong = ONF_ADD_BARRIER;
    overlong[27] = 0x10;
    assert!(decode(&overlong).expect_err("too long").what.contains("exceeds"));
}

#[test]
fn portable_bundles_are_the_native_messages_on_1_4_and_1_5() {
    for version in [5u8, 6] {
        let mut control = Vec::new();
        BundleControl::new(42, bundle_ctrl_type::COMMIT_REQUEST, 3).encode_for(version, 11, &mut control).expect("ok");
        let native: Message = match version {
            5 => v1_4::Message::BundleControl(v1_4::BundleCtrl::new(42, 4, 3)).into(),
            _ => v1_5::Message::BundleControl(v1_4::BundleCtrl::new(42, 4, 3)).into(),
        };
        assert_eq!(control, native.to_vec(11).expect("encodes"), "version {version}");

        let mut add = Vec::new();
        BundleAdd { bundle_id: 42, flags: 3, message: flow() }.encode_for(version, 12, &mut add).expect("ok");
        let (header, decoded) = decode(&add).expect("decodes");
        assert_eq!((header.version, header.msg_type, header.xid), (version, 34, 12));
        let inner_xid = match decoded {
            Message::V1_4(v1_4::Message::BundleAdd(add)) => add.xid,
            Message::V1_5(v1_5::Message::BundleAdd(add)) => add.xid,
            other => panic!("got {other:?}"),
        };
        assert_eq!(inner_xid, 12, "the carried message has the add's xid");
        let mut alone = Vec::new();
        flow().encode_for(version, 12, &mut alone).expect("ok");
        assert_eq!(&add[16..], &alone[..], "the carried flow-mod is the portable one, byte for byte");
    }
}

#[test]
fn versions_without_bundles_and_foreign_messages_are_not_in_version() {
    for version in [1u8, 3] {
        let mut out = Vec::new();
        let control = BundleControl::new(1, bundle_ctrl_type::OPEN_REQUEST, 0).encode_for(version, 1, &mut out);
        assert!(matches!(control, Err(EncodeError::NotInVersion { version: v, .. }) if v == version));
        let add = BundleAdd { bundle_id: 1, flags: 0, message: flow() }.encode_for(version, 1, &mut out);
        assert!(matches!(add, Err(EncodeError::NotInVersion { .. })));
        assert!(out.is_empty(), "nothing is written");
    }
    // A version-specific 1.3 flow-mod cannot go into a 1.4 bundle.
    let v13 = v1_3::FlowMod::add(v1_3::Match::new());
    let mut out = Vec::new();
    let add = BundleAdd { bundle_id: 1, flags: 0, message: v13 }.encode_for(5, 1, &mut out);
    assert!(matches!(add, Err(EncodeError::NotInVersion { ref what, .. }) if what.contains("1.3")), "{add:?}");
    assert!(out.is_empty());
}

#[test]
fn bundle_failures_are_read_in_either_form() {
    let native = ErrorMsg::new(17, bundle_failed_code::MSG_FAILED, vec![]);
    assert_eq!(bundle_failure(&native), Some(13));
    let onf = ErrorMsg { err_type: 0xffff, code: 2313, experimenter: Some(ONF_EXPERIMENTER_ID), data: vec![] };
    assert_eq!(bundle_failure(&onf), Some(bundle_failed_code::MSG_FAILED));
    let flow_mod_failed = ErrorMsg::new(5, 1, vec![]);
    assert_eq!(bundle_failure(&flow_mod_failed), None);
    let other_experimenter = ErrorMsg { err_type: 0xffff, code: 2313, experimenter: Some(0x2320), data: vec![] };
    assert_eq!(bundle_failure(&other_experimenter), None);
    assert_eq!(bundle_flags::ATOMIC | bundle_flags::ORDERED, 3);
}

/// Bundle messages of every version (the 1.3 ones above, and the 1.4/1.5 ones the portable builders write).
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![ONF_OPEN.to_vec(), ONF_ADD_BARRIER.to_vec()];
    for version in [4u8, 5, 6] {
        let mut add = Vec::new();
        BundleAdd { bundle_id: 5, flags: 3, message: flow() }.encode_for(version, 3, &mut add).expect("ok");
        seeds.push(add);
        let mut control = Vec::new();
        BundleControl::new(5, bundle_ctrl_type::CLOSE_REQUEST, 3).encode_for(version, 4, &mut control).expect("ok");
        seeds.push(control);
    }
    seeds
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000),
        ..ProptestConfig::default()
    })]

    /// Bundle messages with bytes overwritten, cut or extended: never a panic, and whatever decodes survives
    /// encode → decode and its JSON.
    #[test]
    fn mutated_bundle_messages_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        extra in vec(any::<u8>(), 0..24),
        fix_length in any::<bool>(),
    ) {
        let seeds = seeds();
        let mut b = seeds[pick.index(seeds.len())].clone();
        for (at, v) in &edits {
            let i = at.index(b.len());
            if i != 0 {
                b[i] = *v;
            }
        }
        b.truncate(8 + cut.index(b.len() - 7));
        b.extend_from_slice(&extra);
        if fix_length {
            if let Ok(n) = u16::try_from(b.len()) {
                b[2..4].copy_from_slice(&n.to_be_bytes());
            }
        }
        if let Ok((h, m)) = decode(&b) {
            let again = m.to_vec(h.xid).map_err(|e| TestCaseError::fail(format!("re-encoding: {e}")))?;
            let (_, m2) = decode(&again).map_err(|e| TestCaseError::fail(format!("decoding the re-encoding: {e}")))?;
            prop_assert_eq!(&m, &m2);
            if let Ok(m3) = from_json(h.version, &to_json(&m2)) {
                let _ = m3.to_vec(h.xid);
            }
        }
    }
}
