//! A flow entry whose OpenFlow encoding would be longer than a message holds (the smuggling attack: ~4,090
//! outputs and an experimenter action of chosen bytes) is a 400 from `ofctl-rest` naming the limit, and the switch
//! receives nothing for it, in OpenFlow 1.3 and 1.0.

mod common;

use std::time::{Duration, Instant};

use common::fake_switch::{FakeSwitch, Frame, V1_0, V1_3};
use common::http::Client;
use common::{install, lib_path, temp_dir, Host, LOOPBACK_PORTS};
use serde_json::json;
use tatsu_ofproto::{decode, v1_0, v1_3, Message};

/// Starts a host with `ofctl-rest` on ephemeral ports; returns it, the REST port and the switch port.
fn ofctl_host() -> (Host, u16, u16) {
    let dir = temp_dir("encode-limits");
    install(&dir, &[(lib_path("ofctl_rest").as_path(), "libofctl_rest.so")]);
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[app.ofctl-rest]\nrequest_timeout_ms = 2000\n").expect("config");
    let (dir, config) = (dir.display().to_string(), config.display().to_string());
    let host = Host::start(&[&["run", "--plugins-dir", &dir, "--config", &config][..], &LOOPBACK_PORTS].concat(), &[]);
    let rest_port = host.rest_port();
    let switch_port = host.switch_port();
    (host, rest_port, switch_port)
}

/// Connects a scripted switch as `dpid` in `version` and waits until `ofctl-rest` lists it.
fn connect_switch(host: &Host, rest_port: u16, switch_port: u16, version: u8, dpid: u64) -> FakeSwitch {
    let mut switch = FakeSwitch::connect(switch_port);
    switch.handshake(version, dpid, 2);
    host.wait_for(&[&format!("datapath {dpid:016x}")]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !Client::connect(rest_port).get("/stats/switches").json().as_array().is_some_and(|d| d.contains(&json!(dpid)))
    {
        assert!(Instant::now() < deadline, "datapath {dpid} never showed up in /stats/switches");
        std::thread::sleep(Duration::from_millis(20));
    }
    switch
}

/// A flow entry body with `outputs` outputs, then an experimenter action carrying `data` (base64).
fn entry(dpid: u64, outputs: usize, experimenter_data: &[u8]) -> String {
    let mut actions = vec![json!({"type": "OUTPUT", "port": 2}); outputs];
    if !experimenter_data.is_empty() {
        actions.push(json!({"type": "EXPERIMENTER", "experimenter": 0x00c0_ffee, "data_type": "base64",
                            "data": base64(experimenter_data)}));
    }
    json!({"dpid": dpid, "priority": 1, "actions": actions}).to_string()
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            text.push(if i <= chunk.len() { char::from(A[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    text
}

/// The attacker's experimenter data: filler, then a whole 1.3 FLOW_MOD deleting every flow (56 bytes), so that
/// a header clamped to 65,535 bytes would have made the switch read it as a message of its own.
fn smuggled_delete(filler: usize) -> Vec<u8> {
    let delete = v1_3::Message::FlowMod(v1_3::FlowMod::delete(v1_3::Match::new()));
    let mut data = vec![0; filler];
    data.extend_from_slice(&delete.to_vec(0x5eed).expect("a delete-all flow-mod encodes"));
    data
}

/// Posts `body` to add a flow entry; the reply must be a 400 whose message contains `says`.
fn refused(rest_port: u16, body: &str, says: &str) {
    let reply = Client::connect(rest_port).post("/stats/flowentry/add", body);
    assert_eq!(reply.status, 400, "{}", reply.text());
    let message = reply.json()["error"].as_str().map(str::to_owned).unwrap_or_default();
    assert!(message.contains(says), "{message:?} should contain {says:?}");
    assert!(message.contains("an OpenFlow message holds at most 65,535"), "{message:?}");
}

/// Adds a small flow entry (answering its barrier) and returns what the switch read up to and including its
/// FLOW_MOD: every message sent before it, so a refused entry that had been sent would be among them.
fn frames_until_small_entry(switch: &mut FakeSwitch, rest_port: u16, dpid: u64) -> Vec<Frame> {
    let body = entry(dpid, 1, &[]);
    let adder = std::thread::spawn(move || Client::connect(rest_port).post("/stats/flowentry/add", &body));
    let mut frames = Vec::new();
    loop {
        let frame = switch.read().expect("the host keeps the connection");
        match frame.msg_type {
            2 => switch.echo_reply(&frame),
            14 => {
                frames.push(frame);
                break;
            }
            _ => frames.push(frame),
        }
    }
    let barrier = switch.expect(if switch.version == V1_3 { 20 } else { 18 });
    let reply: Message =
        if switch.version == V1_3 { v1_3::Message::BarrierReply.into() } else { v1_0::Message::BarrierReply.into() };
    switch.send(reply, barrier.xid);
    let reply = adder.join().expect("client thread");
    assert_eq!(reply.status, 200, "{}", reply.text());
    frames
}

#[test]
fn flow_entries_too_long_to_encode_are_400_and_never_reach_the_switch() {
    let (host, rest_port, switch_port) = ofctl_host();
    let mut switch13 = connect_switch(&host, rest_port, switch_port, V1_3, 1);
    let mut switch10 = connect_switch(&host, rest_port, switch_port, V1_0, 2);

    // OpenFlow 1.3, the attacker's shape: 56 + 8 + 4,090 * 16 + (8 + 72) = 65,584 bytes.
    refused(rest_port, &entry(1, 4090, &smuggled_delete(16)), "the flow entry encodes to 65,584 bytes");
    // The shape that had the instruction say exactly 65,535: its length field overflows first (65,536 padded).
    refused(rest_port, &entry(1, 4090, &smuggled_delete(23)), "encodes to more than 65,535 bytes");
    // Far larger, the kind that used to break the channel's framing: still a 400, not a 504.
    refused(rest_port, &entry(1, 6000, &smuggled_delete(0)), "encodes to more than 65,535 bytes");

    // OpenFlow 1.0 (ofctl-rest has no 1.0 vendor action, as Ryu): 72 + 8,184 * 8 = 65,544 bytes of outputs.
    refused(rest_port, &entry(2, 8184, &[]), "the flow entry encodes to 65,544 bytes");

    // Nothing was sent for them: the first FLOW_MOD either switch reads is the small entry added next.
    for (switch, dpid) in [(&mut switch13, 1), (&mut switch10, 2)] {
        let frames = frames_until_small_entry(switch, rest_port, dpid);
        let (flow_mod, before) = frames.split_last().expect("the small entry's FLOW_MOD");
        assert!(before.iter().all(|f| f.msg_type != 14), "dpid {dpid}: a FLOW_MOD before the small entry");
        let (header, decoded) = decode(&flow_mod.bytes).expect("the FLOW_MOD decodes");
        assert_eq!(usize::from(header.length), flow_mod.bytes.len());
        let command = match decoded {
            Message::V1_3(v1_3::Message::FlowMod(fm)) => u16::from(fm.command),
            Message::V1_0(v1_0::Message::FlowMod(fm)) => fm.command,
            other => panic!("dpid {dpid}: not a flow-mod: {other:?}"),
        };
        assert_eq!(command, 0, "dpid {dpid}: the small entry is an add, not the smuggled delete");
    }
    host.stop();
}
