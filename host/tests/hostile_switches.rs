//! Hostile and broken switches against a real host on loopback: each case pushes until the bound is provably hit,
//! and checks that the bound holds, that the log says what happened (once, not once per offence), and that a
//! healthy switch and the REST API are served throughout.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::fake_switch::{port_desc_reply, FakeSwitch, V1_3};
use common::http::Client;
use common::{install, lib_path, temp_dir, Host, LOOPBACK_PORTS};

/// A host running the `of-probe` and `http-probe` apps, with `config` as its config file and `extra` flags.
struct Running {
    host: Host,
    ofp_port: u16,
    http_port: u16,
}

fn start(name: &str, config: &str, extra: &[&str]) -> Running {
    let dir = temp_dir(name);
    install(
        &dir,
        &[
            (&lib_path("tatsu_fixture_of_probe"), "libof_probe.so"),
            (&lib_path("tatsu_fixture_http_probe"), "libhttp_probe.so"),
        ],
    );
    let config_path = dir.join("tatsu.toml");
    std::fs::write(&config_path, config).expect("config");
    let (dir_arg, config_arg) = (dir.display().to_string(), config_path.display().to_string());
    let socket = dir.join("control.sock").display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir_arg, "--config", &config_arg, "--control-socket", &socket];
    args.extend_from_slice(&LOOPBACK_PORTS);
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    let ofp_port = host.switch_port();
    let http_port = host.rest_port();
    Running { host, ofp_port, http_port }
}

impl Running {
    /// A switch in MAIN as datapath `dpid`, with the probe's own requests (PORT_DESC, BARRIER) read.
    fn healthy_switch(&self, dpid: u64) -> FakeSwitch {
        let mut switch = FakeSwitch::connect(self.ofp_port);
        switch.handshake(V1_3, dpid, 1);
        self.host.wait_for(&[&format!("enter {dpid:016x}")]);
        switch
    }

    /// Checks the REST API answers.
    fn rest_answers(&self) {
        let reply = Client::connect(self.http_port).get("/probe/echo/alive");
        assert_eq!(reply.status, 200, "the REST API answers: {}", reply.text());
    }

    /// The host's resident memory, in MiB.
    fn resident_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.host.pid())).expect("status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kib / 1024
    }

    /// Log lines containing `part`.
    fn count(&self, part: &str) -> usize {
        self.host.log().iter().filter(|line| line.contains(part)).count()
    }
}

/// Checks a switch still gets its echo requests answered.
fn answers_echo(switch: &mut FakeSwitch, xid: u32) {
    switch.send_raw(&[V1_3, 2, 0, 8, (xid >> 24) as u8, (xid >> 16) as u8, (xid >> 8) as u8, xid as u8]);
    assert_eq!(switch.expect(3).xid, xid, "the healthy switch's echo is answered");
}

/// Whether the host closes `stream` within `within` (anything it sends first is discarded).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    stream.set_read_timeout(Some(Duration::from_millis(20))).expect("timeout");
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn connections_past_the_cap_are_refused_and_the_rest_is_served() {
    let running = start("cap", "", &["--max-switch-connections", "40", "--handshake-timeout", "3"]);
    running.host.wait_for(&["at most 40 switch connections"]);
    let mut healthy = running.healthy_switch(1);
    // 39 silent connections fill the cap; every connection after them is closed at once.
    let silent: Vec<TcpStream> =
        (0..39).map(|_| TcpStream::connect(("127.0.0.1", running.ofp_port)).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let refused_at_once = (0..200)
        .filter(|_| {
            let mut extra = TcpStream::connect(("127.0.0.1", running.ofp_port)).expect("the kernel accepts");
            closed_within(&mut extra, Duration::from_secs(2))
        })
        .count();
    assert_eq!(refused_at_once, 200, "every connection past the cap is closed");
    answers_echo(&mut healthy, 7);
    running.rest_answers();
    let lines = running.count("refused the connection");
    assert!((1..=4).contains(&lines), "refusals are logged, a line a second at most: {lines} lines");
    // The silent ones miss their handshake deadline; then there is room again.
    running.host.wait_for(&["the handshake did not finish within"]);
    std::thread::sleep(Duration::from_millis(500));
    drop(silent);
    let mut late = running.healthy_switch(2);
    answers_echo(&mut late, 8);
    answers_echo(&mut healthy, 9);
    running.host.stop();
}

#[test]
fn a_switch_that_does_not_read_its_echo_replies_is_dropped_with_memory_bounded() {
    let running = start("no-reader", "[tatsu]\nsend_queue_bytes = 262144\n", &[]);
    let mut healthy = running.healthy_switch(1);
    let mut greedy = running.healthy_switch(2);
    let before = running.resident_mib();
    // 64 KB echo requests, never reading the replies, until the host hangs up (or 256 MiB were sent).
    let mut request = vec![V1_3, 2, 0xff, 0xf8, 0, 0, 0, 1];
    request.resize(0xfff8, 0xab);
    let mut writer = greedy.try_clone();
    let flood = std::thread::spawn(move || {
        let mut sent = 0usize;
        while sent < 4096 && writer.try_send_raw(&request) {
            sent += 1;
        }
        sent
    });
    running.host.wait_for(&["datapath 0000000000000002", "does not read what it is sent"]);
    let sent = flood.join().expect("flood thread");
    assert!(sent < 4096, "the host hung up before 256 MiB of echo requests");
    let after = running.resident_mib();
    assert!(after < before + 64, "resident memory grew from {before} MiB to {after} MiB");
    assert!(greedy.closed_within(Duration::from_secs(5)), "the greedy switch is closed");
    answers_echo(&mut healthy, 11);
    running.rest_answers();
    running.host.stop();
}

#[test]
fn a_flood_of_malformed_messages_is_logged_a_few_lines_a_second() {
    let running = start("malformed-flood", "", &[]);
    let mut healthy = running.healthy_switch(1);
    let mut flooder = running.healthy_switch(2);
    // The flooder reads the host's error replies, so it is not dropped for not reading.
    let mut reader = flooder.try_clone();
    let errors = std::thread::spawn(move || {
        let mut errors = 0u32;
        while errors < 20_000 {
            match reader.read() {
                Some(frame) if frame.msg_type == 1 => errors += 1,
                Some(_) => {}
                None => break,
            }
        }
        errors
    });
    let started = Instant::now();
    let unknown_type = [V1_3, 200, 0, 8, 0, 0, 0, 5];
    let burst: Vec<u8> = unknown_type.iter().copied().cycle().take(8 * 1000).collect();
    for _ in 0..20 {
        flooder.send_raw(&burst);
    }
    assert_eq!(errors.join().expect("reader"), 20_000, "every malformed message got its error reply");
    let seconds = started.elapsed().as_secs() + 2;
    answers_echo(&mut healthy, 12);
    running.rest_answers();
    let lines = running.count("unknown message type 200");
    let allowed = usize::try_from(10 * seconds).expect("fits");
    assert!(lines <= allowed, "{lines} lines for 20,000 malformed messages in {seconds} s (at most {allowed})");
    assert!(lines >= 1, "the first one is logged");
    // What was held back is counted: on a later line, and in the disconnect summary.
    std::thread::sleep(Duration::from_millis(1100));
    flooder.send_raw(&unknown_type);
    running.host.wait_for(&["unknown message type 200", "similar lines held back"]);
    drop(flooder);
    running.host.wait_for(&["datapath 0000000000000002", "disconnected", "(20001 malformed messages"]);
    running.host.stop();
}

#[test]
fn a_multipart_reply_past_its_cap_fails_the_request_and_the_rest_is_dropped() {
    let running = start("reply-cap", "[tatsu]\nmax_reply_bytes = 1048576\n", &[]);
    let mut healthy = running.healthy_switch(1);
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.handshake(V1_3, 2, 1);
    // The probe asks for the port descriptions on `enter`: the answer says MORE, 900 ports a part, 3 MiB in all.
    let request = switch.expect(18);
    for part in 0..50u32 {
        switch.send(port_desc_reply(part * 900 + 1..=part * 900 + 900, true), request.xid);
    }
    switch.send(port_desc_reply(1..=1, false), request.xid);
    let failure = running.host.wait_for(&["port-desc request failed", "0000000000000002"]);
    assert!(failure.contains("exceeds 1048576 bytes (max_reply_bytes)"), "{failure}");
    answers_echo(&mut switch, 13);
    answers_echo(&mut healthy, 14);
    running.rest_answers();
    // The parts after the cap and the last part reached nobody.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!running.host.logged(&["port-desc reply: "]), "no reply reached the app");
    running.host.stop();
}

#[test]
fn a_hello_offering_nothing_spoken_gets_a_short_well_framed_hello_failed() {
    let running = start("hello-amplification", "", &[]);
    let mut healthy = running.healthy_switch(1);

    // The largest HELLO there is: 16,379 bitmap words with every bit set but those of the five versions spoken.
    let words = 16_379usize;
    let element_length = 4 + 4 * words;
    let total = 8 + element_length;
    let mut hello = vec![0x7f, 0, (total >> 8) as u8, total as u8, 0, 0, 0, 9];
    hello.extend_from_slice(&[0, 1, (element_length >> 8) as u8, element_length as u8]);
    for word in 0..words {
        let bits = if word == 0 { !((1u32 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6)) } else { u32::MAX };
        hello.extend_from_slice(&bits.to_be_bytes());
    }
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.send_raw(&hello);
    let reply = switch.expect(1);
    assert!(reply.bytes.len() < 1024, "HELLO_FAILED is {} bytes", reply.bytes.len());
    let reason = String::from_utf8_lossy(&reply.bytes[12..]).to_string();
    assert!(reason.contains("more wire versions"), "{reason}");
    assert!(switch.read().is_none(), "nothing follows the HELLO_FAILED: the host closes a well-framed stream");
    let line = running.host.wait_for(&["no common OpenFlow version"]);
    assert!(line.len() < 1024, "the log line is {} bytes", line.len());

    // A small offer is named by release: bits 0 and 2 are wire versions 0 (none) and 2 (OpenFlow 1.1).
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.send_raw(&[5, 0, 0, 16, 0, 0, 0, 3, 0, 1, 0, 8, 0, 0, 0, 5]);
    let reply = switch.expect(1);
    let reason = String::from_utf8_lossy(&reply.bytes[12..]).to_string();
    assert!(reason.contains("wire version 0x00 (no OpenFlow version), OpenFlow 1.1 (0x02)"), "{reason}");
    answers_echo(&mut healthy, 15);
    running.rest_answers();
    running.host.stop();
}
