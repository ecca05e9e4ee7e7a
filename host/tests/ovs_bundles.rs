//! Bundles against a real Open vSwitch (userspace datapath, `scripts/ovs-testbed`) on OpenFlow 1.3 (Open vSwitch's
//! ONF extension), 1.4 and 1.5, through the `bundler` fixture app: a bundle of three flows committed is all in the
//! switch's table; a bundle with one bad message (an output to a port no switch has, refused as it is added; a
//! modification of a group that does not exist, which fails in the commit) fails, names exactly that message, and
//! leaves none of its flows; a discarded bundle leaves nothing; on 1.0 the app gets a clear error. Open vSwitch's
//! own parser (`ovs-ofctl ofp-print`) reads the 1.3 bundle messages tatsu writes. Needs root and Open vSwitch.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::http::Client;
use common::{install, lib_path, temp_dir, testbed, Host};
use serde_json::Value;
use tatsu_ofproto::bundle::{bundle_ctrl_type, bundle_failed_code, bundle_flags};
use tatsu_ofproto::portable::{Action, BundleAdd, BundleControl, Encode, FlowMod, Match};

/// `OFPET_BAD_ACTION`/`OFPBAC_BAD_OUT_PORT`.
const BAD_OUT_PORT: (u64, u64) = (2, 4);
/// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_UNKNOWN_GROUP`.
const UNKNOWN_GROUP: (u64, u64) = (6, 8);

/// The bundler's flows (cookies 0xb1, 0xb2, 0xb3) in the switch's table.
fn bundler_flows() -> Vec<String> {
    let flows = testbed::ok(&["ofctl", "dump-flows", "tatsu0"]);
    flows.lines().filter(|line| line.contains("cookie=0xb")).map(str::to_owned).collect()
}

/// Asks the bundler for `scenario` on datapath 1.
fn bundle(client: &mut Client, scenario: &str) -> Value {
    let reply = client.post(&format!("/bundler/0000000000000001/{scenario}"), "");
    assert_eq!(reply.status, 200, "{scenario}: {}", reply.text());
    reply.json()
}

fn error_of(value: &Value) -> (u64, u64) {
    (value["type"].as_u64().unwrap_or(u64::MAX), value["code"].as_u64().unwrap_or(u64::MAX))
}

/// Waits until datapath 1 is in MAIN at wire `version` (the bundler says).
fn wait_joined(rest_port: u16, version: u8) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = Client::connect(rest_port).get("/bundler/0000000000000001");
        if reply.status == 200 && reply.json()["version"] == u64::from(version) {
            return;
        }
        assert!(Instant::now() < deadline, "datapath 1 did not join at version {version}: {}", reply.text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every scenario on the bridge's current version.
fn scenarios(client: &mut Client, protocols: &str) {
    testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
    testbed::ok(&["ofctl", "del-groups", "tatsu0"]);

    let committed = bundle(client, "commit");
    assert_eq!(committed["ok"], true, "{protocols}: {committed}");
    assert_eq!(committed["messages"], 3);
    assert_eq!(committed["reply_type"], u64::from(bundle_ctrl_type::COMMIT_REPLY));
    let flows = bundler_flows();
    assert_eq!(flows.len(), 3, "{protocols}: {flows:?}");
    for (position, out) in [(1, 2), (2, 3), (3, 4)] {
        let expected = format!("priority={},in_port={position} actions=output:{out}", 100 + position);
        assert!(flows.iter().any(|line| line.contains(&expected)), "{protocols}: no {expected} in {flows:?}");
    }

    testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
    let refused = bundle(client, "bad-port");
    assert_eq!(refused["ok"], false, "{protocols}: {refused}");
    assert_eq!(refused["stage"], "Add", "{protocols}: refused as it was added: {refused}");
    let errors = refused["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{protocols}: exactly the bad message: {refused}");
    assert_eq!(errors[0]["index"], 1, "{protocols}: the second message: {refused}");
    assert_eq!(error_of(&errors[0]["error"]), BAD_OUT_PORT, "{protocols}: {refused}");
    assert!(bundler_flows().is_empty(), "{protocols}: nothing of a refused bundle: {:?}", bundler_flows());

    let failed = bundle(client, "bad-group");
    assert_eq!(failed["ok"], false, "{protocols}: {failed}");
    assert_eq!(failed["stage"], "Commit", "{protocols}: failed in the commit: {failed}");
    let errors = failed["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{protocols}: {failed}");
    assert_eq!(errors[0]["index"], 1, "{protocols}: {failed}");
    assert_eq!(error_of(&errors[0]["error"]), UNKNOWN_GROUP, "{protocols}: {failed}");
    assert_eq!(failed["control"]["bundle_failure"], u64::from(bundle_failed_code::MSG_FAILED), "{failed}");
    assert!(bundler_flows().is_empty(), "{protocols}: the first flow was rolled back: {:?}", bundler_flows());

    let discarded = bundle(client, "discard");
    assert_eq!(discarded["ok"], true, "{protocols}: {discarded}");
    assert_eq!(discarded["reply_type"], u64::from(bundle_ctrl_type::DISCARD_REPLY));
    assert!(bundler_flows().is_empty(), "{protocols}: nothing of a discarded bundle: {:?}", bundler_flows());
}

#[test]
fn bundles_commit_all_or_nothing_on_a_real_open_vswitch_on_1_3_1_4_and_1_5() {
    testbed::prepare();
    let plugins = temp_dir("ovs-bundles");
    install(&plugins, &[(&lib_path("tatsu_fixture_bundler"), "libtatsu_fixture_bundler.so")]);
    let plugins = plugins.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &plugins];
    args.extend_from_slice(&common::LOOPBACK_PORTS);
    let host = Host::start(&args, &[]);
    let (of_port, rest_port) = (host.switch_port(), host.rest_port());
    let _testbed = testbed::Testbed;
    let controller = format!("tcp:127.0.0.1:{of_port}");
    testbed::ok(&["up", "--protocols", "OpenFlow13", "--controller", &controller, "--hosts", "4"]);
    for (protocols, version) in [("OpenFlow13", 4), ("OpenFlow14", 5), ("OpenFlow15", 6)] {
        if protocols != "OpenFlow13" {
            testbed::ok(&["set-protocols", protocols]);
            testbed::ok(&["reconnect"]);
        }
        wait_joined(rest_port, version);
        scenarios(&mut Client::connect(rest_port), protocols);
    }

    // OpenFlow 1.0 has no bundles: the app is told so, and nothing reaches the switch.
    testbed::ok(&["set-protocols", "OpenFlow10"]);
    testbed::ok(&["reconnect"]);
    wait_joined(rest_port, 1);
    let answer = bundle(&mut Client::connect(rest_port), "commit");
    assert_eq!((answer["ok"].clone(), answer["not_in_version"].clone()), (false.into(), true.into()), "{answer}");
    assert!(answer["failed"].as_str().is_some_and(|text| text.contains("bundles")), "{answer}");
    assert!(bundler_flows().is_empty());
    host.stop();
}

/// Open vSwitch's `ovs-ofctl ofp-print` reads tatsu's 1.3 bundle messages (the ONF extension) as its own.
#[test]
fn open_vswitch_reads_the_1_3_bundle_messages_tatsu_writes() {
    if Command::new("ovs-ofctl").arg("--version").output().is_err() {
        testbed::prepare();
    }
    let flags = bundle_flags::ATOMIC | bundle_flags::ORDERED;
    let mut open = Vec::new();
    BundleControl::new(0xab, bundle_ctrl_type::OPEN_REQUEST, flags).encode_for(4, 7, &mut open).expect("encodes");
    let mut add = Vec::new();
    let flow = FlowMod::add(Match::new().in_port(1)).priority(5).actions([Action::output(2)]);
    BundleAdd { bundle_id: 0xab, flags, message: flow }.encode_for(4, 8, &mut add).expect("encodes");
    let print = |bytes: &[u8]| {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let output = Command::new("ovs-ofctl").args(["ofp-print", &hex]).output().expect("ovs-ofctl runs");
        String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)
    };
    let text = print(&open);
    assert!(text.contains("ONFT_BUNDLE_CONTROL") && text.contains("xid=0x7"), "{text}");
    assert!(text.contains("bundle_id=0xab type=OPEN_REQUEST flags=atomic ordered"), "{text}");
    let text = print(&add);
    assert!(text.contains("ONFT_BUNDLE_ADD_MESSAGE") && text.contains("xid=0x8"), "{text}");
    assert!(text.contains("bundle_id=0xab flags=atomic ordered"), "{text}");
    assert!(text.contains("OFPT_FLOW_MOD") && text.contains("priority=5,in_port=1 actions=output:2"), "{text}");
}
