//! `GET /metrics` of a real host against scripted switches: traffic counted per datapath and type with the bytes
//! the test sent, the echo round trip, apps' events, faults and drops, the bearer token, counters that keep growing
//! across a hot restart, and `promtool check metrics` (Debian's `prometheus`) finding nothing wrong with a scrape.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fake_switch::{FakeSwitch, V1_3};
use common::http::Client;
use common::{install, lib_path, temp_dir, Host, LOOPBACK_PORTS};
use tatsu_ofproto::{v1_3, Message};

const TOKEN: &str = "scrape-secret";

/// A host with `of-probe` (answers each packet-in with a packet-out) and `http-probe` (serves REST, one route
/// panics), behind [`TOKEN`]; `control` adds a control socket for `tatsu restart`.
fn host(name: &str, extra: &[&str], control: Option<&Path>) -> Host {
    let dir = temp_dir(name);
    let (probe, http) = (lib_path("tatsu_fixture_of_probe"), lib_path("tatsu_fixture_http_probe"));
    install(&dir, &[(probe.as_path(), "libof_probe.so"), (http.as_path(), "libhttp_probe.so")]);
    let dir = dir.display().to_string();
    let socket = control.map(|path| path.display().to_string());
    let mut args = vec!["run", "--plugins-dir", &dir, "--wsapi-token", TOKEN];
    args.extend_from_slice(&LOOPBACK_PORTS);
    if let Some(socket) = &socket {
        args.extend_from_slice(&["--control-socket", socket]);
    }
    args.extend_from_slice(extra);
    Host::start(&args, &[])
}

/// A scrape with the bearer token: the status and the body.
fn scrape(port: u16) -> (u16, String) {
    let mut client = Client::connect(port);
    client.extra.push(format!("Authorization: Bearer {TOKEN}"));
    let reply = client.get("/metrics");
    if reply.status == 200 {
        assert_eq!(reply.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    }
    (reply.status, reply.text())
}

/// Every sample of a body: `name{labels}` → value.
fn samples(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {line}"));
            let value = match value {
                "+Inf" => f64::INFINITY,
                value => value.parse().unwrap_or_else(|e| panic!("a value in {line}: {e}")),
            };
            (series.to_owned(), value)
        })
        .collect()
}

/// The value of `series` (`name{labels}` as rendered), 0 if absent.
fn value(body: &str, series: &str) -> f64 {
    samples(body).get(series).copied().unwrap_or(0.0)
}

/// Scrapes until `series` reaches at least `wanted` (at most 10 s); returns the last body.
fn scrape_until(port: u16, series: &str, wanted: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = scrape(port);
        assert_eq!(status, 200, "{body}");
        if value(&body, series) >= wanted {
            return body;
        }
        assert!(Instant::now() < deadline, "{series} stayed below {wanted}:\n{body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Scrapes until `series` is at most `wanted` (at most 10 s); returns the last body.
fn scrape_until_at_most(port: u16, series: &str, wanted: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = scrape(port);
        assert_eq!(status, 200, "{body}");
        if value(&body, series) <= wanted {
            return body;
        }
        assert!(Instant::now() < deadline, "{series} stayed above {wanted}:\n{body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `count` packet-ins of 60-byte frames, in one buffer; and the size of one.
fn packet_ins(count: usize) -> (Vec<u8>, usize) {
    let packet_in = v1_3::PacketIn {
        buffer_id: 0xffff_ffff,
        total_len: 60,
        match_: v1_3::Match::new().in_port(3),
        data: vec![0xab; 60],
        ..Default::default()
    };
    let one = Message::V1_3(v1_3::Message::PacketIn(packet_in)).to_vec(0).expect("a packet-in encodes");
    (one.repeat(count), one.len())
}

/// Answers echo requests on its own thread, until the connection closes.
fn answer_echoes(switch: &FakeSwitch) {
    let mut reader = switch.try_clone();
    std::thread::spawn(move || {
        while let Some(frame) = reader.read() {
            if frame.msg_type == 2 {
                reader.echo_reply(&frame);
            }
        }
    });
}

/// What `promtool check metrics` says of `body`, or `None` (saying so) where promtool is not installed.
fn promtool(body: &str) -> Option<String> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("promtool is not installed (Debian package `prometheus`; scripts/test installs it as root): skipped");
        return None;
    };
    use std::io::Write;
    child.stdin.take().expect("stdin is piped").write_all(body.as_bytes()).expect("promtool reads the body");
    let output = child.wait_with_output().expect("promtool runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "promtool check metrics failed:\n{said}");
    Some(said)
}

#[test]
fn packet_ins_are_counted_with_their_labels_and_bytes_and_promtool_finds_nothing_wrong() {
    let host = host("metrics-counts", &["--echo-request-interval", "0.2"], None);
    let (port, switch_port) = (host.rest_port(), host.switch_port());
    // Without the token (or with a wrong one): 401, as for every path.
    assert_eq!(Client::connect(port).get("/metrics").status, 401);
    let mut wrong = Client::connect(port);
    wrong.extra.push("Authorization: Bearer wrong".to_owned());
    assert_eq!(wrong.get("/metrics").status, 401);

    let mut switch = FakeSwitch::connect(switch_port);
    switch.handshake(V1_3, 0x2a, 2);
    host.wait_for(&["enter 000000000000002a version 4"]);
    const N: usize = 137;
    let (burst, size) = packet_ins(N);
    switch.send_raw(&burst);
    for _ in 0..N {
        switch.expect(13);
    }
    answer_echoes(&switch);

    let received = r#"tatsu_of_messages_received_total{dp_id="0x2a",type="OFPT_PACKET_IN"}"#;
    let body = scrape_until(port, received, N as f64);
    assert_eq!(value(&body, received), N as f64, "{body}");
    let bytes = r#"tatsu_of_bytes_received_total{dp_id="0x2a",type="OFPT_PACKET_IN"}"#;
    assert_eq!(value(&body, bytes), (N * size) as f64, "{body}");
    let sent = r#"tatsu_of_messages_sent_total{dp_id="0x2a",type="OFPT_PACKET_OUT"}"#;
    assert_eq!(value(&body, sent), N as f64, "{body}");
    assert_eq!(value(&body, r#"tatsu_of_messages_received_total{dp_id="0x2a",type="OFPT_HELLO"}"#), 1.0);
    assert_eq!(value(&body, r#"tatsu_of_messages_received_total{dp_id="0x2a",type="OFPT_FEATURES_REPLY"}"#), 1.0);
    assert_eq!(value(&body, r#"tatsu_of_messages_sent_total{dp_id="0x2a",type="OFPT_FEATURES_REQUEST"}"#), 1.0);
    assert_eq!(value(&body, r#"tatsu_of_dp_connections_total{dp_id="0x2a"}"#), 1.0);
    assert_eq!(value(&body, r#"tatsu_dp_status{dp_id="0x2a"}"#), 1.0);
    assert_eq!(value(&body, r#"tatsu_switch_connections{state="main"}"#), 1.0);
    assert!(value(&body, r#"tatsu_app_events_handled_total{app="of-probe"}"#) >= N as f64, "{body}");
    assert!(value(&body, r#"tatsu_app_handler_seconds_count{app="of-probe"}"#) >= 1.0, "{body}");
    assert_eq!(value(&body, r#"tatsu_app_events_dropped_total{app="of-probe"}"#), 0.0, "{body}");
    assert!(body.contains("tatsu_build_info{version=\""), "{body}");
    assert_eq!(value(&body, "tatsu_restarts_total"), 0.0);
    assert!(value(&body, r#"tatsu_green_threads{group="of-probe"}"#) >= 1.0, "{body}");

    // A switch silent for the echo interval is sent an echo request; its answer gives the round trip.
    let rtt = r#"tatsu_of_echo_rtt_seconds{dp_id="0x2a"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (_, body) = scrape(port);
        if samples(&body).contains_key(rtt) {
            break body;
        }
        assert!(Instant::now() < deadline, "no echo round trip:\n{body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let measured = value(&body, rtt);
    assert!(measured > 0.0 && measured < 1.0, "{rtt} {measured}");
    assert!(value(&body, r#"tatsu_of_messages_received_total{dp_id="0x2a",type="OFPT_ECHO_REPLY"}"#) >= 1.0);

    // A panicking route is one fault of its app.
    let mut client = Client::connect(port);
    client.extra.push(format!("Authorization: Bearer {TOKEN}"));
    assert_eq!(client.get("/probe/panic").status, 500);
    let body = scrape_until(port, r#"tatsu_app_faults_total{app="http-probe"}"#, 1.0);
    assert_eq!(value(&body, r#"tatsu_app_faults_total{app="http-probe"}"#), 1.0, "{body}");

    // A message of an unknown type is a decode error of its datapath (answered with an error, the switch stays).
    switch.send_raw(&[V1_3, 200, 0, 8, 0, 0, 0, 9]);
    let body = scrape_until(port, r#"tatsu_of_decode_errors_total{dp_id="0x2a"}"#, 1.0);
    assert_eq!(value(&body, r#"tatsu_of_messages_received_total{dp_id="0x2a",type="OFPT_OTHER"}"#), 1.0, "{body}");
    assert_eq!(value(&body, r#"tatsu_of_messages_sent_total{dp_id="0x2a",type="OFPT_ERROR"}"#), 1.0, "{body}");

    // A header claiming 4 bytes cannot be framed: a second decode error, and the host drops the switch. Gone:
    // status 0, one disconnection, and the counts stay.
    switch.send_raw(&[V1_3, 0, 0, 4, 0, 0, 0, 10]);
    scrape_until(port, r#"tatsu_of_decode_errors_total{dp_id="0x2a"}"#, 2.0);
    let body = scrape_until(port, r#"tatsu_of_dp_disconnections_total{dp_id="0x2a"}"#, 1.0);
    assert_eq!(value(&body, r#"tatsu_dp_status{dp_id="0x2a"}"#), 0.0, "{body}");
    assert_eq!(value(&body, received), N as f64);

    if let Some(said) = promtool(&body) {
        assert!(said.trim().is_empty(), "promtool check metrics complains:\n{said}\n{body}");
    }
    host.stop();
}

#[test]
fn a_switch_that_overruns_a_tiny_queue_is_held_back_not_dropped() {
    // A queue of two events, and an app that logs a line and sends a packet-out for every packet-in. The credit
    // keeps the switch's messages in the queue within its budget (one event here): the switch waits in its TCP
    // window, and the app handles every packet-in; the drop counter stays at 0 (drops are for a stuck app).
    let host = host("metrics-drops", &["--queue-capacity", "2"], None);
    let (port, switch_port) = (host.rest_port(), host.switch_port());
    let mut switch = FakeSwitch::connect(switch_port);
    switch.handshake(V1_3, 7, 1);
    host.wait_for(&["enter 0000000000000007 version 4"]);
    const N: usize = 3000;
    let (burst, _) = packet_ins(N);
    answer_echoes(&switch);
    switch.send_raw(&burst);
    let received = r#"tatsu_of_messages_received_total{dp_id="0x7",type="OFPT_PACKET_IN"}"#;
    let body = scrape_until(port, received, N as f64);
    // Every packet-in is handled (the app's enter and state events count too), and none was dropped.
    let body_after = scrape_until(port, r#"tatsu_app_events_handled_total{app="of-probe"}"#, N as f64);
    let dropped = value(&body_after, r#"tatsu_app_events_dropped_total{app="of-probe"}"#);
    assert_eq!(dropped, 0.0, "a switch's packet-ins were dropped with a queue of 2:\n{body}");
    assert!(value(&body_after, r#"tatsu_app_queue_events{app="of-probe"}"#) <= 2.0);
    if let Some(said) = promtool(&body_after) {
        assert!(said.trim().is_empty(), "promtool check metrics complains:\n{said}");
    }
    host.stop();
}

/// Runs `tatsu restart --control-socket SOCKET`; panics unless it succeeds.
fn restart(socket: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(["restart", "--control-socket"])
        .arg(socket)
        .env("RUST_LOG", "error")
        .output()
        .expect("tatsu restart runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "restart failed: {text}");
}

/// Counters (and histogram parts), which must never go down.
fn counters(body: &str) -> BTreeMap<String, f64> {
    samples(body)
        .into_iter()
        .filter(|(series, _)| {
            let name = series.split('{').next().unwrap_or_default();
            name.ends_with("_total") || name.ends_with("_bucket") || name.ends_with("_count") || name.ends_with("_sum")
        })
        .collect()
}

#[test]
fn a_hot_restart_keeps_every_counter_growing() {
    let dir = temp_dir("metrics-restart-socket");
    let socket = dir.join("control.sock");
    let host = host("metrics-restart", &[], Some(&socket));
    let (port, switch_port) = (host.rest_port(), host.switch_port());
    let mut switch = FakeSwitch::connect(switch_port);
    switch.handshake(V1_3, 0x51, 2);
    host.wait_for(&["enter 0000000000000051 version 4"]);
    let (burst, size) = packet_ins(40);
    switch.send_raw(&burst);
    for _ in 0..40 {
        switch.expect(13);
    }
    let mut client = Client::connect(port);
    client.extra.push(format!("Authorization: Bearer {TOKEN}"));
    assert_eq!(client.get("/probe/panic").status, 500);
    drop(client);
    let received = r#"tatsu_of_messages_received_total{dp_id="0x51",type="OFPT_PACKET_IN"}"#;
    scrape_until(port, r#"tatsu_app_faults_total{app="http-probe"}"#, 1.0);
    let before = scrape_until(port, received, 40.0);

    let mut scrapes = vec![before];
    for round in 1..=2 {
        restart(&socket);
        host.wait_for(&["took over 1 datapath(s)"]);
        // The successor serves the same REST port; wait until it is the one answering.
        let body = scrape_until(port, "tatsu_restarts_total", f64::from(round));
        scrapes.push(body);
        // The switch never noticed: more packet-ins, counted on top.
        switch.send_raw(&burst);
        for _ in 0..40 {
            switch.expect(13);
        }
        let body = scrape_until(port, received, f64::from(40 * (round + 1)));
        scrapes.push(body);
    }
    for pair in scrapes.windows(2) {
        let (earlier, later) = (counters(&pair[0]), counters(&pair[1]));
        for (series, was) in &earlier {
            let now = later.get(series).copied().unwrap_or(0.0);
            assert!(now >= *was, "{series} went down from {was} to {now}");
        }
    }
    let last = scrapes.last().expect("scrapes");
    assert_eq!(value(last, received), 120.0, "{last}");
    let bytes = r#"tatsu_of_bytes_received_total{dp_id="0x51",type="OFPT_PACKET_IN"}"#;
    assert_eq!(value(last, bytes), (120 * size) as f64);
    assert_eq!(value(last, r#"tatsu_app_faults_total{app="http-probe"}"#), 1.0, "{last}");
    assert_eq!(value(last, r#"tatsu_of_dp_connections_total{dp_id="0x51"}"#), 1.0, "adoption is no new connection");
    assert_eq!(value(last, r#"tatsu_dp_status{dp_id="0x51"}"#), 1.0);
    assert_eq!(value(last, "tatsu_restarts_total"), 2.0);
    assert!(value(last, r#"tatsu_app_events_handled_total{app="of-probe"}"#) >= 120.0, "{last}");
    if let Some(said) = promtool(last) {
        assert!(said.trim().is_empty(), "promtool check metrics complains:\n{said}");
    }
    drop(switch);
    // The host running now is the second successor, not our child.
    stop_successor(&socket);
}

/// The host's green threads serving switches: running readers and writers.
const SWITCH_THREADS: &str = r#"tatsu_green_threads{group="switches"}"#;

/// Sends each switch a packet-in and reads the packet-out `of-probe` answers it with.
fn each_answered(switches: &mut [FakeSwitch]) {
    let (one, _) = packet_ins(1);
    for switch in switches.iter_mut() {
        switch.send_raw(&one);
        switch.expect(13);
    }
}

#[test]
fn idle_switches_have_no_reader_running_and_are_served_at_their_next_message_also_after_a_hot_restart() {
    let dir = temp_dir("metrics-idle-socket");
    let socket = dir.join("control.sock");
    // Echo requests after every second of silence; the test leaves them unanswered for a few seconds at times.
    let keepalive = ["--echo-request-interval", "1", "--maximum-unreplied-echo-requests", "20"];
    let host = host("metrics-idle", &keepalive, Some(&socket));
    let (port, switch_port) = (host.rest_port(), host.switch_port());
    let mut switches: Vec<FakeSwitch> = (0..8u64)
        .map(|i| {
            let mut switch = FakeSwitch::connect(switch_port);
            switch.handshake(V1_3, 0x100 + i, 2);
            switch
        })
        .collect();
    host.wait_for(&["enter 0000000000000107 version 4"]);
    // Silent for a second, a switch's reader parks (and its writer ends): no green thread serves the switches.
    scrape_until_at_most(port, SWITCH_THREADS, 0.0);
    each_answered(&mut switches);
    let (_, busy) = scrape(port);
    assert!(value(&busy, SWITCH_THREADS) >= 1.0, "a switch that just sent a packet-in has a reader:\n{busy}");
    scrape_until_at_most(port, SWITCH_THREADS, 0.0);

    // Each echo reply wakes its parked reader, which reads it (it is counted) and parks again at once: the switch
    // is still idle.
    let until = Instant::now() + Duration::from_secs(5);
    let mut echoes = vec![0; switches.len()];
    while Instant::now() < until {
        for (switch, echoes) in switches.iter_mut().zip(&mut echoes) {
            switch.set_read_timeout(Duration::from_millis(20));
            if let Some(frame) = switch.read().filter(|frame| frame.msg_type == 2) {
                switch.echo_reply(&frame);
                *echoes += 1;
            }
        }
    }
    for switch in &mut switches {
        switch.set_read_timeout(Duration::from_secs(10));
    }
    assert!(echoes.iter().all(|n| *n >= 2), "echo requests per switch: {echoes:?}");
    for (i, echoes) in echoes.iter().enumerate() {
        let replies =
            format!(r#"tatsu_of_messages_received_total{{dp_id="0x{:x}",type="OFPT_ECHO_REPLY"}}"#, 0x100 + i);
        scrape_until(port, &replies, f64::from(*echoes));
    }
    let quiet = scrape_until_at_most(port, SWITCH_THREADS, 0.0);
    assert_eq!(value(&quiet, r#"tatsu_dp_status{dp_id="0x107"}"#), 1.0, "{quiet}");
    each_answered(&mut switches);

    // A hot restart of parked connections: the successor serves each at its next message, then parks it too.
    scrape_until_at_most(port, SWITCH_THREADS, 0.0);
    restart(&socket);
    host.wait_for(&["took over 8 datapath(s)"]);
    scrape_until(port, "tatsu_restarts_total", 1.0);
    each_answered(&mut switches);
    scrape_until_at_most(port, SWITCH_THREADS, 0.0);
    // A switch that goes away while parked is noticed.
    drop(switches.pop());
    scrape_until_at_most(port, r#"tatsu_dp_status{dp_id="0x107"}"#, 0.0);
    each_answered(&mut switches);
    stop_successor(&socket);
}

/// Stops the host serving `socket` now (a successor, not the test's child) with SIGTERM.
fn stop_successor(socket: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(["status", "--control-socket"])
        .arg(socket)
        .output()
        .expect("tatsu status runs");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    if let Some(pid) = text.split("pid=").nth(1).and_then(|rest| rest.split_whitespace().next()?.parse::<i32>().ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    }
}

#[test]
fn wsapi_metrics_starts_the_rest_server_for_metrics_alone() {
    // `of-probe` serves no route: without the flag there is no REST server at all.
    let dir = temp_dir("metrics-alone");
    let probe = lib_path("tatsu_fixture_of_probe");
    install(&dir, &[(probe.as_path(), "libof_probe.so")]);
    let dir = dir.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir, "--wsapi-metrics"];
    args.extend_from_slice(&LOOPBACK_PORTS);
    let host = Host::start(&args, &[]);
    let mut client = Client::connect(host.rest_port());
    let reply = client.get("/metrics");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("tatsu_app_events_handled_total{app=\"of-probe\"}"), "{}", reply.text());
    assert_eq!(client.get("/other").status, 404);
    host.stop();
}
