//! Bundles through a real host, against a scripted OpenFlow 1.4 switch on loopback (no root needed; the real
//! Open vSwitch runs in `ovs_bundles.rs`): the `bundler` fixture's bundle reaches the switch as open, three adds
//! and a close sent together, each add under a fresh xid its carried message shares; the commit comes next, and
//! the errors the switch sends under an added message's xid, then under the commit's, reach the app as that
//! message's error and the commit's.

mod common;

use common::fake_switch::{FakeSwitch, Frame, V1_4};
use common::http::Client;
use common::{install, lib_path, temp_dir, Host};
use tatsu_ofproto::bundle::{bundle_ctrl_type, bundle_failed_code};
use tatsu_ofproto::portable::{BundleControl, Encode};
use tatsu_ofproto::{v1_4, ErrorMsg, Message};

const BUNDLE_CONTROL: u8 = v1_4::msg_type::BUNDLE_CONTROL;
const BUNDLE_ADD: u8 = v1_4::msg_type::BUNDLE_ADD_MESSAGE;

/// Reads the next bundle message, answering echo requests on the way.
fn next_bundle_message(switch: &mut FakeSwitch) -> Frame {
    loop {
        let frame = switch.read().expect("the host keeps the connection");
        match frame.msg_type {
            BUNDLE_CONTROL | BUNDLE_ADD => return frame,
            2 => switch.echo_reply(&frame),
            _ => {}
        }
    }
}

/// The switch's reply to a bundle control request.
fn reply(switch: &mut FakeSwitch, request: &Frame) {
    let control = BundleControl::parse(&request.bytes).expect("a bundle control message");
    let mut bytes = Vec::new();
    BundleControl::new(control.bundle_id, control.ctrl_type + 1, control.flags)
        .encode_for(V1_4, request.xid, &mut bytes)
        .expect("encodes");
    switch.send_raw(&bytes);
}

fn error(switch: &mut FakeSwitch, err_type: u16, code: u16, xid: u32) {
    switch.send(Message::V1_4(v1_4::Message::Error(ErrorMsg::new(err_type, code, vec![]))), xid);
}

#[test]
fn a_bundle_goes_out_together_and_the_switch_s_errors_reach_the_message_they_name() {
    let dir = temp_dir("bundles");
    install(&dir, &[(&lib_path("tatsu_fixture_bundler"), "libtatsu_fixture_bundler.so")]);
    let dir = dir.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir];
    args.extend_from_slice(&common::LOOPBACK_PORTS);
    let host = Host::start(&args, &[]);
    let (of_port, rest_port) = (host.switch_port(), host.rest_port());
    let mut switch = FakeSwitch::connect(of_port);
    switch.handshake(V1_4, 1, 4);
    host.wait_for(&["datapath 0000000000000001", "is ready"]);

    let app = std::thread::spawn(move || Client::connect(rest_port).post("/bundler/0000000000000001/commit", ""));

    // 1. Open, the three adds and the close, in that order; every add's carried message has the add's xid.
    let open = next_bundle_message(&mut switch);
    let control = BundleControl::parse(&open.bytes).expect("open");
    assert_eq!((control.ctrl_type, control.flags), (bundle_ctrl_type::OPEN_REQUEST, 3));
    let mut add_xids = Vec::new();
    for _ in 0..3 {
        let add = next_bundle_message(&mut switch);
        assert_eq!(add.msg_type, BUNDLE_ADD);
        let carried = u32::from_be_bytes([add.bytes[20], add.bytes[21], add.bytes[22], add.bytes[23]]);
        assert_eq!(carried, add.xid, "the carried message has its add's xid");
        add_xids.push(add.xid);
    }
    let close = next_bundle_message(&mut switch);
    assert_eq!(BundleControl::parse(&close.bytes).map(|c| c.ctrl_type), Ok(bundle_ctrl_type::CLOSE_REQUEST));
    let mut all = vec![open.xid, close.xid];
    all.extend(&add_xids);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 5, "five distinct xids: {all:?}");
    reply(&mut switch, &open);
    reply(&mut switch, &close);

    // 2. The commit; the second flow fails in it (as Open vSwitch reports it: under the message's own xid), then
    // the commit does.
    let commit = next_bundle_message(&mut switch);
    assert_eq!(BundleControl::parse(&commit.bytes).map(|c| c.ctrl_type), Ok(bundle_ctrl_type::COMMIT_REQUEST));
    error(&mut switch, 5, 1, add_xids[1]); // OFPET_FLOW_MOD_FAILED / OFPFMFC_TABLE_FULL
    error(&mut switch, 17, bundle_failed_code::MSG_FAILED, commit.xid);

    let answer = app.join().expect("the request thread").json();
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["stage"], "Commit", "{answer}");
    assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(answer["errors"][0]["index"], 1, "{answer}");
    assert_eq!(answer["errors"][0]["xid"], add_xids[1], "{answer}");
    assert_eq!(
        (answer["errors"][0]["error"]["type"].clone(), answer["errors"][0]["error"]["code"].clone()),
        (5.into(), 1.into())
    );
    assert_eq!(answer["control"]["bundle_failure"], u64::from(bundle_failed_code::MSG_FAILED), "{answer}");
    host.stop();
}
