//! The switch side against a real host on loopback: negotiation, handshake, keepalive, reconnects, requests,
//! packet-ins and malformed input, each with a scripted switch.

mod common;

use std::time::Duration;

use common::fake_switch::{port_desc_reply, FakeSwitch, V1_0, V1_3};
use common::{install, lib_path, temp_dir, Host};
use tatsu_ofproto::v1_3;

/// Starts a host with the `of-probe` app listening on an ephemeral port; returns it and the port.
fn host_with_probe(name: &str, extra: &[&str]) -> (Host, u16) {
    let dir = temp_dir(name);
    install(&dir, &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")]);
    let dir = dir.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir, "--ofp-tcp-listen-port", "0", "--ofp-listen-host", "127.0.0.1"];
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    let port = host.switch_port();
    (host, port)
}

/// A 1.3 packet-in of `data` from `in_port`, not buffered by the switch.
fn unbuffered_packet_in(in_port: u32, data: Vec<u8>) -> v1_3::Message {
    let total_len = u16::try_from(data.len()).expect("the test's frames are short");
    let match_ = v1_3::Match::new().in_port(in_port);
    v1_3::Message::PacketIn(v1_3::PacketIn { buffer_id: 0xffff_ffff, total_len, match_, data, ..Default::default() })
}

#[test]
fn negotiates_the_highest_common_version_and_refuses_a_switch_with_none() {
    let (host, port) = host_with_probe("negotiate", &[]);

    let mut switch = FakeSwitch::connect(port);
    let hello = switch.hello(V1_3, Some(&[V1_0, V1_3]));
    assert_eq!(hello.version, 6, "the host's HELLO carries its highest version, 1.5");
    assert_eq!(switch.expect(5).version, V1_3, "1.3 agreed");

    // Open vSwitch's default range, 1.0 to 1.5 (1.1 included): 1.5.
    let mut switch = FakeSwitch::connect(port);
    switch.hello(6, Some(&[1, 2, 3, 4, 5, 6]));
    assert_eq!(switch.expect(5).version, 6, "1.5 agreed");

    let mut switch = FakeSwitch::connect(port);
    switch.hello(V1_0, None);
    assert_eq!(switch.expect(5).version, V1_0, "a 1.0 switch without a bitmap gets 1.0");

    let mut switch = FakeSwitch::connect(port);
    switch.hello(2, Some(&[2]));
    let error = switch.expect(1);
    assert_eq!(&error.bytes[8..12], &[0, 0, 0, 0], "HELLO_FAILED / INCOMPATIBLE");
    let reason = String::from_utf8_lossy(&error.bytes[12..]).to_string();
    assert!(reason.contains("no common OpenFlow version"), "{reason}");
    assert!(switch.closed_within(Duration::from_secs(5)), "the host closes after HELLO_FAILED");
    host.wait_for(&["no common OpenFlow version"]);
    host.stop();
}

#[test]
fn handshake_reaches_main_and_apps_see_enter_requests_and_packet_ins() {
    let (host, port) = host_with_probe("handshake", &[]);
    let mut switch = FakeSwitch::connect(port);
    switch.handshake(V1_3, 0x2a, 3);
    host.wait_for(&["of-probe]", "enter 000000000000002a version 4 ports 3"]);
    for state in ["handshake", "config", "main"] {
        host.wait_for(&["of-probe]", &format!("{state} connection"), "state"]);
    }

    // The app's PORT_DESC request: answered in two parts, which reach the app joined.
    let request = switch.expect(18);
    switch.send(port_desc_reply(1..=1, true), request.xid);
    switch.send(port_desc_reply(2..=3, false), request.xid);
    host.wait_for(&["port-desc reply: 2 parts, 3 ports"]);
    // The app's BARRIER request: never answered, so it times out.
    switch.expect(20);
    host.wait_for(&["barrier: TimedOut"]);

    // A packet-in reaches the app, and its packet-out reaches the switch.
    switch.send(unbuffered_packet_in(3, vec![0xff; 60]), 0);
    host.wait_for(&["packet-in from 000000000000002a in_port 3 len 60"]);
    let packet_out = switch.expect(13);
    assert_eq!(packet_out.version, V1_3);
    host.stop();
}

#[test]
fn packet_outs_and_echo_replies_reach_a_switch_that_reads_late_whole_and_in_order() {
    // The app's packet-outs are written by its event loop at the end of each batch while the writer waits, and by
    // the writer once the socket is full; echo replies go through the same outbox. A switch that sends a burst and
    // reads nothing until it is done fills the socket, so both ways are taken; every message must come out whole,
    // once, and in the order it was made.
    let (host, port) = host_with_probe("late-reader", &[]);
    let mut switch = FakeSwitch::connect(port);
    switch.handshake(V1_3, 0x2b, 3);
    host.wait_for(&["enter 000000000000002b version 4 ports 3"]);
    const PACKETS: u32 = 2000;
    const DATA: usize = 1000;
    let mut sender = switch.try_clone();
    for index in 0..PACKETS {
        let mut data = vec![0xab; DATA];
        data[..4].copy_from_slice(&index.to_be_bytes());
        let packet_in = v1_3::PacketIn {
            buffer_id: 0xffff_ffff,
            total_len: DATA as u16,
            match_: v1_3::Match::new().in_port(1),
            data,
            ..Default::default()
        };
        sender.send(v1_3::Message::PacketIn(packet_in), 0);
        if index % 10 == 0 {
            let xid = 100_000 + index;
            let mut echo = vec![V1_3, 2, 0, 12];
            echo.extend_from_slice(&xid.to_be_bytes());
            echo.extend_from_slice(&[1, 2, 3, 4]);
            sender.send_raw(&echo);
        }
    }
    let (mut outs, mut echoes) = (Vec::new(), Vec::new());
    while outs.len() < PACKETS as usize || echoes.len() < (PACKETS as usize).div_ceil(10) {
        let frame = switch.read().expect("the host keeps the connection");
        assert_eq!(frame.version, V1_3, "a well-framed message: {:?}", &frame.bytes[..8]);
        match frame.msg_type {
            13 => {
                let data = &frame.bytes[frame.bytes.len() - DATA..];
                outs.push(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
            }
            3 => {
                assert_eq!(&frame.bytes[8..], &[1, 2, 3, 4], "the echo reply carries the request's data");
                echoes.push(frame.xid);
            }
            2 => switch.echo_reply(&frame),
            _ => {}
        }
    }
    assert_eq!(outs, (0..PACKETS).collect::<Vec<_>>(), "one packet-out per packet-in, in order");
    let expected: Vec<u32> = (0..PACKETS).step_by(10).map(|index| 100_000 + index).collect();
    assert_eq!(echoes, expected, "every echo answered once, in order");
    let log = host.log().join("\n");
    assert!(!log.contains("send queue full") && !log.contains("disconnected"), "{log}");
    host.stop();
}

#[test]
fn a_1_0_switch_gets_its_ports_from_the_features_reply() {
    let (host, port) = host_with_probe("of10", &[]);
    let mut switch = FakeSwitch::connect(port);
    switch.handshake(V1_0, 7, 4);
    host.wait_for(&["enter 0000000000000007 version 1 ports 4"]);
    host.stop();
}

#[test]
fn keepalive_drops_a_switch_that_stops_answering_and_keeps_one_that_answers() {
    let (host, port) =
        host_with_probe("keepalive", &["--echo-request-interval", "0.2", "--maximum-unreplied-echo-requests", "2"]);
    let mut answering = FakeSwitch::connect(port);
    answering.handshake(V1_3, 1, 1);
    // This switch answers every echo request, on its own thread, for ten of them.
    let answerer = std::thread::spawn(move || {
        let mut answered = 0;
        while answered < 10 {
            match answering.read() {
                Some(frame) if frame.msg_type == 2 => {
                    answering.echo_reply(&frame);
                    answered += 1;
                }
                Some(_) => {}
                None => return (answered, false, answering),
            }
        }
        // The switch is handed back, so that it stays connected until the checks below are done.
        (answered, true, answering)
    });
    let mut silent = FakeSwitch::connect(port);
    silent.handshake(V1_3, 2, 1);
    host.wait_for(&["enter 0000000000000002"]);

    // The silent switch gets echo requests and is dropped after two go unanswered.
    assert_eq!(silent.expect(2).msg_type, 2);
    assert!(silent.closed_within(Duration::from_secs(5)), "a silent switch is dropped");
    host.wait_for(&["datapath 0000000000000002", "no answer to 2 echo requests"]);
    host.wait_for(&["leave 0000000000000002: no answer to 2 echo requests"]);

    let (answered, still_connected, _answering) = answerer.join().expect("answering switch thread");
    assert!(still_connected && answered == 10, "the answering switch stays connected ({answered} echoes)");
    assert!(!host.logged(&["datapath 0000000000000001", "disconnected"]), "{}", host.log().join("\n"));
    host.stop();
}

#[test]
fn a_stalled_handshake_times_out() {
    let (host, port) = host_with_probe("stall", &["--handshake-timeout", "0.3"]);
    let mut switch = FakeSwitch::connect(port);
    switch.hello(V1_3, Some(&[V1_3]));
    switch.expect(5);
    assert!(switch.closed_within(Duration::from_secs(5)), "a switch that never answers FEATURES is dropped");
    host.wait_for(&["the handshake did not finish within 300ms"]);
    host.stop();
}

#[test]
fn a_reconnecting_datapath_replaces_its_old_connection() {
    let (host, port) = host_with_probe("reconnect", &[]);
    let mut first = FakeSwitch::connect(port);
    first.handshake(V1_3, 9, 2);
    host.wait_for(&["enter 0000000000000009"]);
    let mut second = FakeSwitch::connect(port);
    second.handshake(V1_3, 9, 2);
    assert!(first.closed_within(Duration::from_secs(5)), "the old connection is closed");
    host.wait_for(&["leave 0000000000000009: replaced by a new connection from"]);
    let log = host.log();
    let enters = log.iter().filter(|line| line.contains("enter 0000000000000009")).count();
    assert!(enters >= 1);
    host.wait_for(&["state 0000000000000009 dead connection 1"]);
    // The new connection is live: it answers the app's requests.
    second.expect(18);
    host.stop();
}

#[test]
fn malformed_messages_get_error_replies_and_unframeable_streams_are_closed() {
    let (host, port) = host_with_probe("malformed", &[]);
    let mut switch = FakeSwitch::connect(port);
    switch.handshake(V1_3, 5, 1);
    host.wait_for(&["enter 0000000000000005"]);

    // Wrong version for this connection: BAD_REQUEST / BAD_VERSION, echoing our xid.
    switch.send_raw(&[V1_0, 2, 0, 8, 0, 0, 0, 77]);
    let error = switch.expect(1);
    assert_eq!(error.xid, 77);
    assert_eq!(&error.bytes[8..12], &[0, 1, 0, 0]);
    // Unknown message type: BAD_REQUEST / BAD_TYPE.
    switch.send_raw(&[V1_3, 200, 0, 12, 0, 0, 0, 78, 1, 2, 3, 4]);
    let error = switch.expect(1);
    assert_eq!(error.xid, 78);
    assert_eq!(&error.bytes[8..12], &[0, 1, 0, 1]);
    host.wait_for(&["datapath 0000000000000005", "unknown message type 200", "04c8000c0000004e01020304"]);
    // A malformed packet-in is reported against the app, and the connection lives on.
    switch.send_raw(&[V1_3, 10, 0, 12, 0, 0, 0, 79, 0, 0, 0, 0]);
    host.wait_for(&["app `of-probe`", "malformed packet-in"]);
    // Still alive: an echo request is answered.
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 80]);
    assert_eq!(switch.expect(3).xid, 80);
    // A header claiming fewer than 8 bytes cannot be framed: the connection is closed.
    switch.send_raw(&[V1_3, 2, 0, 4, 0, 0, 0, 81]);
    assert!(switch.closed_within(Duration::from_secs(5)));
    host.wait_for(&["cannot be framed"]);
    host.stop();
}

#[test]
fn messages_of_one_read_reach_apps_whole_and_in_order_around_those_the_host_answers() {
    let (host, port) = host_with_probe("one-read", &[]);
    let mut switch = FakeSwitch::connect(port);
    switch.handshake(V1_3, 6, 1);
    host.wait_for(&["enter 0000000000000006"]);
    let packet_in = |in_port: u32, len: usize| {
        let message = unbuffered_packet_in(in_port, vec![in_port as u8; len]);
        message.to_vec(0).expect("the test's packet-in encodes")
    };

    // One write: packet-ins, which the host only hands on (in runs that share the read's buffer), around an echo
    // request and a message in the wrong version, which the host answers itself.
    let mut burst = Vec::new();
    burst.extend(packet_in(1, 60));
    burst.extend(packet_in(2, 61));
    burst.extend([V1_3, 2, 0, 8, 0, 0, 0, 90]);
    burst.extend(packet_in(3, 62));
    burst.extend([V1_0, 10, 0, 8, 0, 0, 0, 91]);
    burst.extend(packet_in(4, 63));
    burst.extend(packet_in(5, 64));
    switch.send_raw(&burst);
    assert_eq!(switch.expect(3).xid, 90, "the echo is answered");
    assert_eq!(switch.expect(1).xid, 91, "the message in the wrong version is refused");
    host.wait_for(&["packet-in from 0000000000000006 in_port 5 len 64"]);
    let seen: Vec<String> = host
        .log()
        .iter()
        .filter_map(|line| line.split_once("packet-in from 0000000000000006 ").map(|(_, what)| what.to_owned()))
        .collect();
    let expected: Vec<String> = (1..=5).map(|n| format!("in_port {n} len {}", 59 + n)).collect();
    assert_eq!(seen, expected);

    // A packet-in just before a header that cannot be framed still reaches the app; then the connection closes.
    let mut last = packet_in(6, 65);
    last.extend([V1_3, 2, 0, 4, 0, 0, 0, 92]);
    switch.send_raw(&last);
    assert!(switch.closed_within(Duration::from_secs(5)));
    host.wait_for(&["packet-in from 0000000000000006 in_port 6 len 65"]);
    host.stop();
}
