//! OpenFlow captures against a real host and scripted switches on loopback: Wireshark's dissector (`tshark`, Debian's
//! `tshark`, installed by `scripts/test`) reads every message the test's switch sent and received, per direction,
//! with the right types and xids, in OpenFlow 1.3 and 1.0; `tatsu ofp-print` reads the file too; capture turned
//! on for one datapath at run time, through the REST API and through `tatsu capture`; a hot restart continues
//! the same file; the capture directory removed while running stops the capture with one log line, and the
//! switch is served on.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::fake_switch::{port_desc_reply_in, FakeSwitch, V1_0, V1_3};
use common::http::Client;
use common::{apps, temp_dir, Host, LOOPBACK_PORTS};
use tatsu_ofproto::{v1_0, v1_3, Message};
use tatsu_packet::build::{self, EthHeader};
use tatsu_packet::MacAddr;

/// (message type, xid) of what went one way.
type Seen = Vec<(u8, u32)>;

/// A scripted switch that remembers everything it sent and received.
struct Recorder {
    switch: FakeSwitch,
    sent: Seen,
    received: Seen,
}

impl Recorder {
    fn connect(port: u16) -> Recorder {
        Recorder { switch: FakeSwitch::connect(port), sent: Vec::new(), received: Vec::new() }
    }

    fn send(&mut self, message: impl Into<Message>, xid: u32) {
        let message = message.into();
        let bytes = message.to_vec(xid).expect("the test's message encodes");
        self.sent.push((bytes[1], xid));
        self.switch.send_raw(&bytes);
    }

    /// Reads until a message of `msg_type` arrives.
    fn expect(&mut self, msg_type: u8) -> u32 {
        loop {
            let frame = self.switch.read().unwrap_or_else(|| panic!("closed while waiting for type {msg_type}"));
            self.received.push((frame.msg_type, frame.xid));
            if frame.msg_type == msg_type {
                return frame.xid;
            }
        }
    }

    /// Reads whatever comes until `quiet` passes without a message.
    fn drain(&mut self, quiet: Duration) {
        self.switch.set_read_timeout(quiet);
        while let Some(frame) = self.switch.read() {
            self.received.push((frame.msg_type, frame.xid));
        }
        self.switch.set_read_timeout(Duration::from_secs(10));
    }

    /// The whole handshake in `version` as datapath `dpid` with 3 ports.
    fn handshake(&mut self, version: u8, dpid: u64) {
        let mut hello = Vec::new();
        tatsu_ofproto::encode_hello(version, &[version], 1, &mut hello).expect("a HELLO encodes");
        self.sent.push((0, 1));
        self.switch.send_raw(&hello);
        self.expect(0);
        let request = self.expect(5);
        if version == V1_0 {
            let ports = (1..=3u16).map(|n| v1_0::PhyPort { port_no: n, ..Default::default() }).collect();
            let features = v1_0::SwitchFeatures {
                datapath_id: dpid,
                n_buffers: 0,
                n_tables: 1,
                capabilities: 0,
                actions: 0,
                ports,
            };
            self.send(v1_0::Message::FeaturesReply(features), request);
            self.expect(9);
        } else {
            let features = v1_3::SwitchFeatures {
                datapath_id: dpid,
                n_buffers: 0,
                n_tables: 254,
                auxiliary_id: 0,
                capabilities: 0,
                reserved: 0,
            };
            self.send(v1_3::Message::FeaturesReply(features), request);
            self.expect(9);
            let port_desc = self.expect(18);
            self.send(port_desc_reply_in(version, 1..=3, false), port_desc);
        }
    }

    /// A packet-in of a frame from host `src` to host `dst` arriving on port `src`, under `xid`.
    fn packet_in(&mut self, version: u8, src: u8, dst: u8, xid: u32) {
        let mac = |n: u8| MacAddr([2, 0, 0, 0, 0, n]);
        let frame = build::ethernet(&EthHeader::new(mac(src), mac(dst)), 0x0800, &[0x45; 20]);
        let total_len = u16::try_from(frame.len()).expect("a short frame");
        if version == V1_0 {
            let packet_in =
                v1_0::PacketIn { buffer_id: u32::MAX, total_len, in_port: u16::from(src), reason: 0, data: frame };
            self.send(v1_0::Message::PacketIn(packet_in), xid);
        } else {
            let packet_in = v1_3::PacketIn {
                buffer_id: u32::MAX,
                total_len,
                reason: 0,
                table_id: 0,
                cookie: 0,
                match_: v1_3::Match::new().in_port(u32::from(src)),
                data: frame,
            };
            self.send(v1_3::Message::PacketIn(packet_in), xid);
        }
    }
}

/// Starts a host running simple-switch with `extra` flags (the plugins are the workspace's built apps).
fn host(extra: &[&str]) -> Host {
    let plugins = apps().display().to_string();
    let mut args = vec!["run", "--plugins-dir", &plugins, "--app", "simple-switch", "--echo-request-interval", "600"];
    args.extend_from_slice(&LOOPBACK_PORTS);
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    host.wait_for(&["running 1 app(s)"]);
    host
}

/// The capture files in `dir` whose names start with `prefix`.
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|entries| entries.flatten().map(|entry| entry.path()).collect()).unwrap_or_default();
    files.retain(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(prefix)));
    files.sort();
    files
}

/// Waits (10 s at most) until `dir` holds exactly one file named `prefix...` and it reads as `want` says.
fn wait_for_file(dir: &Path, prefix: &str, mut want: impl FnMut(&Path) -> bool) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let [file] = &files(dir, prefix)[..] {
            if want(file) {
                return file.clone();
            }
        }
        assert!(Instant::now() < deadline, "no capture {prefix}* as wanted in {}: {:?}", dir.display(), files(dir, ""));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tshark_installed() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|output| output.status.success());
    if !found {
        eprintln!("skipped the Wireshark checks: tshark is not installed (scripts/test installs it as root)");
    }
    found
}

/// What Wireshark's OpenFlow dissectors find in `file`: (type, xid) of each message, by TCP source port. The
/// session's messages are in `version`'s dissector (`openflow_v1` or `openflow_v4`); the host's HELLO, whose header
/// names the highest version it speaks, is 1.5's (`openflow_v6`).
fn tshark(file: &Path, version: u8, controller_port: u16) -> BTreeMap<u16, Seen> {
    let (filter, type_field, xid_field) = match version {
        V1_0 => ("openflow_v1", "openflow_1_0.type", "openflow.xid"),
        _ => ("openflow_v4", "openflow_v4.type", "openflow_v4.xid"),
    };
    let output = Command::new("tshark")
        .args(["-r"])
        .arg(file)
        .args(["-d", &format!("tcp.port=={controller_port},openflow")])
        .args(["-Y", &format!("{filter} || openflow_v6"), "-T", "fields", "-e", "tcp.srcport"])
        .args(["-e", type_field, "-e", xid_field, "-e", "openflow_v6.type", "-e", "openflow_v6.xid"])
        .args(["-E", "separator=;"])
        .output()
        .expect("tshark runs");
    assert!(output.status.success(), "tshark: {}", String::from_utf8_lossy(&output.stderr));
    let mut seen: BTreeMap<u16, Seen> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split(';').collect();
        let [port, types, xids, hello_types, hello_xids] = fields[..] else { panic!("tshark line {line:?}") };
        let port: u16 = port.parse().expect("a port");
        let (types, xids) = if types.is_empty() { (hello_types, hello_xids) } else { (types, xids) };
        let types = types.split(',').map(|t| t.parse::<u8>().unwrap_or_else(|_| panic!("a type in {line:?}")));
        let xids = xids.split(',').map(|x| x.parse::<u32>().unwrap_or_else(|_| panic!("an xid in {line:?}")));
        seen.entry(port).or_default().extend(types.zip(xids));
    }
    seen
}

/// The frames Wireshark's TCP analysis finds wrong in `file` (lost or retransmitted segments, segments out of
/// order, acknowledgments of what was never sent): sequence numbers that do not follow the bytes.
fn tcp_problems(file: &Path) -> Vec<String> {
    let filter = "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment || tcp.analysis.retransmission || \
                  tcp.analysis.out_of_order || tcp.analysis.duplicate_ack";
    let output = Command::new("tshark").arg("-r").arg(file).args(["-Y", filter]).output().expect("tshark runs");
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

/// `tatsu ofp-print FILE`: success, and (direction, xid) of each message line.
fn ofp_print(file: &Path) -> (bool, Vec<(bool, u32)>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu")).arg("ofp-print").arg(file).output().expect("ofp-print runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines = text
        .lines()
        .filter(|line| !line.starts_with('#') && line.contains("xid=0x"))
        .map(|line| {
            let from_switch = line.contains(" switch->controller ");
            let xid = line.split("xid=0x").nth(1).and_then(|rest| rest.split(',').next()).unwrap_or("");
            (from_switch, u32::from_str_radix(xid, 16).unwrap_or_else(|_| panic!("an xid in {line}")))
        })
        .collect();
    (output.status.success(), lines, text + &String::from_utf8_lossy(&output.stderr))
}

fn session(version: u8, dpid: u64) {
    let dir = temp_dir(&format!("capture-all-{version}"));
    let captures = dir.join("captures");
    let host = host(&["--capture", &captures.display().to_string()]);
    let port = host.switch_port();
    let mut switch = Recorder::connect(port);
    let switch_port = switch.switch.local_addr().port();
    switch.handshake(version, dpid);
    switch.packet_in(version, 1, 2, 0x100);
    switch.packet_in(version, 2, 1, 0x101);
    switch.packet_in(version, 1, 2, 0x102);
    switch.drain(Duration::from_millis(700));
    let types: Vec<u8> = switch.received.iter().map(|(t, _)| *t).collect();
    // Flooded, then a flow and the packet each time (and the table-miss flow on 1.3).
    assert_eq!(types.iter().filter(|t| **t == 13).count(), 3, "three packet-outs: {types:?}");
    assert_eq!(types.iter().filter(|t| **t == 14).count(), if version == V1_0 { 2 } else { 3 }, "{types:?}");
    drop(switch.switch);
    host.wait_for(&["disconnected"]);

    let prefix = format!("{dpid:016x}_127.0.0.1_{switch_port}_");
    let expected: Vec<(bool, u32)> = {
        // ofp-print lists by time; within a direction the order is the test's.
        let mut from_switch: Vec<(bool, u32)> = switch.sent.iter().map(|(_, xid)| (true, *xid)).collect();
        from_switch.extend(switch.received.iter().map(|(_, xid)| (false, *xid)));
        from_switch
    };
    let file = wait_for_file(&captures, &prefix, |file| ofp_print(file).1.len() == expected.len());
    let (ok, lines, text) = ofp_print(&file);
    assert!(ok, "ofp-print: {text}");
    let direction =
        |from_switch: bool| lines.iter().filter(|(f, _)| *f == from_switch).map(|(_, x)| *x).collect::<Vec<_>>();
    assert_eq!(direction(true), switch.sent.iter().map(|(_, xid)| *xid).collect::<Vec<_>>(), "{text}");
    assert_eq!(direction(false), switch.received.iter().map(|(_, xid)| *xid).collect::<Vec<_>>(), "{text}");
    assert!(
        text.contains(&format!("# connection: switch 127.0.0.1:{switch_port}, controller 127.0.0.1:{port}")),
        "{text}"
    );

    if tshark_installed() {
        let seen = tshark(&file, version, port);
        assert_eq!(seen.get(&switch_port), Some(&switch.sent), "what the switch sent, as Wireshark reads it");
        assert_eq!(seen.get(&port), Some(&switch.received), "what the switch was sent, as Wireshark reads it");
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(tcp_problems(&file), Vec::<String>::new(), "sequence numbers follow the bytes");
    }
    host.stop();
}

#[test]
fn a_capture_holds_every_message_each_way_as_wireshark_and_ofp_print_read_it_1_3() {
    session(V1_3, 0x1234_5678_9abc);
}

#[test]
fn a_capture_holds_every_message_each_way_as_wireshark_and_ofp_print_read_it_1_0() {
    session(V1_0, 7);
}

/// Runs `tatsu capture ...` against the host's control socket.
fn capture_command(socket: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .arg("capture")
        .args(args)
        .arg("--control-socket")
        .arg(socket)
        .env("RUST_LOG", "error")
        .output()
        .expect("tatsu runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Sends a packet-in under `xid` and waits for the host's packet-out.
fn answered(switch: &mut Recorder, xid: u32) {
    switch.packet_in(V1_3, 1, 9, xid);
    switch.expect(13);
}

fn xids(file: &Path) -> Vec<u32> {
    ofp_print(file).1.into_iter().filter(|(from_switch, _)| *from_switch).map(|(_, xid)| xid).collect()
}

#[test]
fn capture_is_turned_on_for_one_datapath_at_run_time_through_rest_and_the_cli() {
    let dir = temp_dir("capture-switch");
    let captures = dir.join("captures");
    let socket = dir.join("control.sock");
    let host =
        host(&["--capture-dir", &captures.display().to_string(), "--control-socket", &socket.display().to_string()]);
    let port = host.switch_port();
    let mut rest = Client::connect(host.rest_port());
    let (mut one, mut two) = (Recorder::connect(port), Recorder::connect(port));
    one.handshake(V1_3, 1);
    two.handshake(V1_3, 2);
    answered(&mut one, 0x10);
    answered(&mut two, 0x20);
    assert!(files(&captures, "").is_empty(), "nothing is captured before it is turned on");

    // Datapath 1 through REST.
    let reply = rest.request("PUT", "/tatsu/capture/0000000000000001", Some(r#"{"enabled": true}"#));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.json()["result"].as_str().is_some_and(|r| r.contains("capturing datapath 0000000000000001")));
    answered(&mut one, 0x11);
    answered(&mut two, 0x21);
    let first = wait_for_file(&captures, "0000000000000001_", |file| xids(file) == [0x11]);
    assert!(files(&captures, "0000000000000002_").is_empty(), "only datapath 1 is captured");
    let status = rest.get("/tatsu/capture").json();
    assert_eq!(status["captures"].as_array().map(Vec::len), Some(1), "{status}");
    assert_eq!(status["captures"][0]["dpid"], "0000000000000001", "{status}");
    let bad = rest.request("PUT", "/tatsu/capture/zz", Some(r#"{"enabled": true}"#));
    assert_eq!(bad.status, 400, "{}", bad.text());

    // Datapath 2 through the CLI (decimal id), datapath 1 off again.
    let (ok, text) = capture_command(&socket, &["on", "2"]);
    assert!(ok && text.contains("capturing datapath 0000000000000002"), "{text}");
    let (ok, text) = capture_command(&socket, &["off", "0x1"]);
    assert!(ok && text.contains("not capturing datapath 0000000000000001"), "{text}");
    answered(&mut one, 0x12);
    answered(&mut two, 0x22);
    // Datapath 2's record came after datapath 1's answer: once it is in its file, 0x12 would be in datapath 1's.
    wait_for_file(&captures, "0000000000000002_", |file| xids(file) == [0x22]);
    assert_eq!(xids(&first), [0x11], "datapath 1 is no longer captured");
    let (ok, text) = capture_command(&socket, &["status"]);
    let status: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(ok && status["captures"][0]["dpid"] == "0000000000000002", "{status}");
    assert_eq!(status["datapaths"]["0000000000000001"], false, "{status}");
    if tshark_installed() {
        let seen = tshark(&first, V1_3, port);
        assert_eq!(seen.get(&one.switch.local_addr().port()), Some(&vec![(10, 0x11)]), "{seen:?}");
    }
    host.stop();
}

#[test]
fn a_hot_restart_continues_the_same_file() {
    let dir = temp_dir("capture-restart");
    let captures = dir.join("captures");
    let (socket, pid_file) = (dir.join("control.sock"), dir.join("tatsu.pid"));
    let host = host(&[
        "--capture",
        &captures.display().to_string(),
        "--control-socket",
        &socket.display().to_string(),
        "--pid-file",
        &pid_file.display().to_string(),
    ]);
    let port = host.switch_port();
    let mut switch = Recorder::connect(port);
    let switch_port = switch.switch.local_addr().port();
    switch.handshake(V1_3, 3);
    answered(&mut switch, 0x30);
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(["restart", "--control-socket"])
        .arg(&socket)
        .output()
        .expect("tatsu restart runs");
    assert!(output.status.success(), "restart: {}", String::from_utf8_lossy(&output.stderr));
    answered(&mut switch, 0x31);
    let prefix = format!("{:016x}_127.0.0.1_{switch_port}_", 3);
    let file = wait_for_file(&captures, &prefix, |file| xids(file).ends_with(&[0x30, 0x31]));
    let (ok, _, text) = ofp_print(&file);
    assert!(ok, "{text}");
    assert!(text.contains("0 bytes not captured") || !text.contains("not captured"), "no gap: {text}");
    if tshark_installed() {
        let seen = tshark(&file, V1_3, port);
        let from_switch = &seen[&switch_port];
        assert!(from_switch.ends_with(&[(10, 0x30), (10, 0x31)]), "{seen:?}");
        assert_eq!(from_switch.len(), switch.sent.len(), "{seen:?}");
        assert_eq!(tcp_problems(&file), Vec::<String>::new(), "the successor continues the sequence numbers");
    }
    let (ok, text) = capture_command(&socket, &["status"]);
    assert!(ok && text.contains(&prefix), "the successor captures the datapath: {text}");
    // The successor is not this test's child: stop it through its pid.
    let pid: i32 = std::fs::read_to_string(&pid_file).ok().and_then(|t| t.trim().parse().ok()).expect("a pid");
    assert_ne!(u32::try_from(pid).ok(), Some(host.pid()), "a successor runs");
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal the successor");
    let deadline = Instant::now() + Duration::from_secs(20);
    while nix::sys::signal::kill(pid, None).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_capture_directory_removed_while_running_stops_the_capture_with_one_line_and_the_switch_is_served() {
    let dir = temp_dir("capture-gone");
    let captures = dir.join("captures");
    let host = host(&["--capture", &captures.display().to_string()]);
    let mut switch = Recorder::connect(host.switch_port());
    switch.handshake(V1_3, 4);
    answered(&mut switch, 0x40);
    wait_for_file(&captures, "0000000000000004_", |file| xids(file).contains(&0x40));
    std::fs::remove_dir_all(&captures).expect("remove the capture directory");
    host.wait_for(&["capture stopped", "is gone"]);
    for xid in 0x41..0x60 {
        answered(&mut switch, xid);
    }
    std::thread::sleep(Duration::from_millis(1500));
    answered(&mut switch, 0x60);
    let log = host.stop();
    let stopped = log.iter().filter(|line| line.contains("tatsu::capture")).collect::<Vec<_>>();
    assert_eq!(stopped.len(), 1, "one line about the capture: {stopped:#?}");
    assert!(!captures.exists(), "nothing made the directory again");
}
