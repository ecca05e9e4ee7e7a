//! Encoding never clamps a length: what does not fit its length field is an error and no bytes, and variable
//! length actions and instructions are padded to 8 bytes with their length saying so.

use tatsu_ofproto::nx::NxAction;
use tatsu_ofproto::v1_3::oxm::{Oxm, OxmBody, OFPXMC_EXPERIMENTER};
use tatsu_ofproto::v1_3::{self, Action, FlowMod, Instruction, Match};
use tatsu_ofproto::{decode, to_json, v1_0, EncodeError, Message, MAX_MESSAGE_LEN};

/// The attacker's flow entry: 4,090 outputs, then an experimenter action whose bytes end with a whole second
/// message (a FLOW_MOD deleting every flow), sized so that with the old clamped lengths the instruction said
/// 65,535 bytes, the header said 65,535 and the switch read the tail as a message of its own.
fn smuggling_flow_mod(data_len: usize) -> (FlowMod, Vec<u8>) {
    let smuggled =
        v1_3::Message::FlowMod(FlowMod::delete(Match::new())).to_vec(0x5eed).expect("a delete-all flow-mod encodes");
    assert_eq!(smuggled.len(), 56);
    let mut data = vec![0u8; data_len - smuggled.len()];
    data.extend_from_slice(&smuggled);
    let mut actions = vec![Action::output(2); 4090];
    actions.push(Action::Experimenter { experimenter: 0x00c0_ffee, data });
    (FlowMod::add(Match::new()).priority(1).apply_actions(actions), smuggled)
}

#[test]
fn the_attackers_flow_entry_is_an_error_and_no_bytes() {
    // 79 bytes of data: the unpadded encoding was 65,591 bytes with an instruction of exactly 65,535.
    let (fm, smuggled) = smuggling_flow_mod(79);
    let mut out = b"already queued".to_vec();
    let err = Message::V1_3(fm.clone().into()).encode(7, &mut out).expect_err("too long to encode");
    assert_eq!(out, b"already queued", "nothing is appended");
    // Padded to 8, the experimenter action is 88 bytes and the instruction 8 + 4,090 * 16 + 88 = 65,536.
    assert_eq!(err, EncodeError::TooLong { what: "an instruction", length: 65_536, limit: 65_535 });
    assert_eq!(err.to_string(), "an instruction encodes to 65,536 bytes; its length field holds at most 65,535");
    assert!(fm.clone().encode(7, &mut Vec::new()).is_err(), "the builder's encode refuses it too");

    // With 72 bytes of data every nested length fits but the message does not: 56 + 8 + 65,440 + 80.
    let (fm, _) = smuggling_flow_mod(72);
    let err = v1_3::Message::FlowMod(fm).to_vec(7).expect_err("too long to encode");
    assert_eq!(err, EncodeError::MessageTooLong { msg_type: "OFPT_FLOW_MOD", length: 65_584 });
    assert_eq!(
        err.to_string(),
        "the OFPT_FLOW_MOD message encodes to 65,584 bytes; an OpenFlow message holds at most 65,535"
    );
    assert_eq!((err.length(), err.limit()), (65_584, MAX_MESSAGE_LEN));

    // Four outputs fewer and the message fits: it is one whole message, the smuggled bytes only data inside it.
    let (mut fm, _) = smuggling_flow_mod(72);
    let Some(Instruction::ApplyActions(actions)) = fm.instructions.first_mut() else { panic!("apply-actions") };
    actions.drain(..4);
    let bytes = v1_3::Message::FlowMod(fm.clone()).to_vec(7).expect("65,520 bytes fit");
    assert_eq!(bytes.len(), 65_520);
    assert_eq!(usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), bytes.len());
    assert!(bytes.ends_with(&smuggled[..]), "the would-be second message is the tail of this one");
    let (header, decoded) = decode(&bytes).expect("decodes");
    assert_eq!(usize::from(header.length), bytes.len());
    assert_eq!(decoded, Message::V1_3(v1_3::Message::FlowMod(fm)));
}

#[test]
fn experimenter_and_vendor_actions_are_padded_to_8() {
    let a13 = Action::Experimenter { experimenter: 0x0000_1234, data: vec![1, 2, 3] };
    let mut b = Vec::new();
    a13.emit(&mut b).expect("encodes");
    assert_eq!(b, [0xff, 0xff, 0, 16, 0, 0, 0x12, 0x34, 1, 2, 3, 0, 0, 0, 0, 0]);
    assert_eq!(a13.wire_len(), Ok(16));
    let a10 = v1_0::Action::Vendor { vendor: 0x0000_1234, data: vec![1, 2, 3] };
    let mut b10 = Vec::new();
    a10.emit(&mut b10).expect("encodes");
    assert_eq!(b10, b, "OFPAT_VENDOR has the same layout");
    let unknown = Action::Unknown { action_type: 0x77, data: vec![9] };
    let mut bu = Vec::new();
    unknown.emit(&mut bu).expect("encodes");
    assert_eq!(bu, [0, 0x77, 0, 8, 9, 0, 0, 0]);

    // In a message: the padded form decodes (the padding kept as data) and re-encodes byte for byte.
    let fm = FlowMod::add(Match::new()).apply_actions([a13]);
    let bytes = v1_3::Message::FlowMod(fm).to_vec(1).expect("encodes");
    assert_eq!(bytes.len(), 56 + 8 + 16);
    let (_, decoded) = decode(&bytes).expect("the padded form decodes");
    let Message::V1_3(v1_3::Message::FlowMod(back)) = &decoded else { panic!("flow-mod") };
    assert_eq!(
        back.instructions,
        [Instruction::ApplyActions(vec![Action::Experimenter {
            experimenter: 0x1234,
            data: vec![1, 2, 3, 0, 0, 0, 0, 0]
        }])]
    );
    assert_eq!(decoded.to_vec(1).expect("encodes"), bytes);
    let json = to_json(&decoded);
    let action = &json["OFPFlowMod"]["instructions"][0]["OFPInstructionActions"]["actions"][0];
    assert_eq!(action["OFPActionExperimenterUnknown"]["len"], 16);

    let po = v1_0::PacketOut::new(Vec::new(), [a10]);
    let bytes = v1_0::Message::PacketOut(po).to_vec(1).expect("encodes");
    assert_eq!(&bytes[14..16], &16u16.to_be_bytes(), "actions_len counts the padding");
    assert!(decode(&bytes).is_ok());
}

#[test]
fn experimenter_instructions_are_padded_to_8() {
    let i = Instruction::Experimenter { experimenter: 0x0000_1234, data: vec![7; 5] };
    let mut b = Vec::new();
    i.emit(&mut b).expect("encodes");
    assert_eq!(b, [0xff, 0xff, 0, 16, 0, 0, 0x12, 0x34, 7, 7, 7, 7, 7, 0, 0, 0]);
    let mut fm = FlowMod::add(Match::new());
    fm.instructions.push(i);
    let bytes = v1_3::Message::FlowMod(fm).to_vec(1).expect("encodes");
    let (_, decoded) = decode(&bytes).expect("the padded instruction decodes");
    assert_eq!(decoded.to_vec(1).expect("encodes"), bytes);
}

#[test]
fn nested_fields_are_checked_against_their_own_limits() {
    // An OXM TLV's length is 8 bits.
    let oxm = Oxm { class: OFPXMC_EXPERIMENTER, field: 0, has_mask: false, body: OxmBody::new(&[0; 300]) };
    let err = Action::SetField(oxm.clone()).emit(&mut Vec::new()).expect_err("body over 255");
    assert_eq!(err, EncodeError::TooLong { what: "an OXM TLV body", length: 300, limit: 255 });
    assert_eq!(Action::SetField(oxm.clone()).wire_len(), Err(err.clone()), "wire_len agrees with emit");
    let fm = FlowMod::add(Match { fields: vec![oxm] });
    let mut out = Vec::new();
    assert_eq!(v1_3::Message::FlowMod(fm).encode(1, &mut out), Err(err));
    assert!(out.is_empty());
    let fits = Oxm { class: OFPXMC_EXPERIMENTER, field: 0, has_mask: false, body: OxmBody::new(&[0; 255]) };
    assert!(v1_3::Message::FlowMod(FlowMod::add(Match { fields: vec![fits] })).to_vec(1).is_ok());

    // An NX action's 16-bit length, inside a message that would be too long anyway.
    let note = Action::Nx(NxAction::Note(vec![0; 70_000]));
    let err = v1_3::PacketOut::new(Vec::new(), [note]).encode(1, &mut Vec::new()).expect_err("too long");
    assert!(matches!(err, EncodeError::TooLong { what: "an NX action", length: 70_016, limit: 65_535 }), "{err}");

    // The JSON form of what cannot be encoded renders, with null for the lengths that do not fit.
    let big = Action::Experimenter { experimenter: 1, data: vec![0; 70_000] };
    assert!(big.wire_len().is_err());
    let po = v1_3::Message::PacketOut(v1_3::PacketOut::new(Vec::new(), [big]));
    let json = to_json(&Message::V1_3(po));
    assert!(json["OFPPacketOut"]["actions_len"].is_null(), "{}", json["OFPPacketOut"]["actions_len"]);
    assert!(json["OFPPacketOut"]["actions"][0]["OFPActionExperimenterUnknown"]["len"].is_null());
}

#[test]
fn messages_up_to_the_limit_encode_and_one_byte_more_does_not() {
    let fits = v1_3::Message::EchoRequest(vec![0; MAX_MESSAGE_LEN - 8]);
    let bytes = fits.to_vec(1).expect("exactly 65,535 bytes");
    assert_eq!(bytes.len(), MAX_MESSAGE_LEN);
    assert_eq!(&bytes[2..4], &[0xff, 0xff]);
    let over = v1_0::Message::EchoRequest(vec![0; MAX_MESSAGE_LEN - 7]);
    assert_eq!(over.to_vec(1), Err(EncodeError::MessageTooLong { msg_type: "OFPT_ECHO_REQUEST", length: 65_536 }));
}
