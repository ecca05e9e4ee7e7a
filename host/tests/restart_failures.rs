//! Hot restart against a successor that dies at each point of the takeover (`TATSU_HANDOVER_FAILPOINT`): before it
//! is ready, once ready, holding the descriptors, and right after it confirms. Switches send echo requests
//! throughout and every one is answered exactly once; the REST API is served throughout, by one listening socket.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::fake_switch::{FakeSwitch, V1_3};
use common::http::Client;
use common::{install, lib_path, listening_descriptors, temp_dir, Host};

struct Running {
    host: Host,
    ofp_port: u16,
    http_port: u16,
    socket: PathBuf,
    failpoint: PathBuf,
    pid_file: PathBuf,
}

fn start(name: &str) -> Running {
    let dir = temp_dir(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(
        &plugins,
        &[
            (&lib_path("tatsu_fixture_of_probe"), "libof_probe.so"),
            (&lib_path("tatsu_fixture_http_probe"), "libhttp_probe.so"),
        ],
    );
    let socket = dir.join("control.sock");
    let failpoint = dir.join("failpoint");
    let pid_file = dir.join("tatsu.pid");
    let (plugins_arg, socket_arg, pid_arg) =
        (plugins.display().to_string(), socket.display().to_string(), pid_file.display().to_string());
    let failpoint_env = failpoint.display().to_string();
    let args = [
        "run",
        "--plugins-dir",
        &plugins_arg,
        "--control-socket",
        &socket_arg,
        "--pid-file",
        &pid_arg,
        "--ofp-tcp-listen-port",
        "0",
        "--ofp-listen-host",
        "127.0.0.1",
        "--wsapi-port",
        "0",
    ];
    let host = Host::start(&args, &[("TATSU_HANDOVER_FAILPOINT", &failpoint_env)]);
    let ofp_port = host.switch_port();
    let http_port = host.rest_port();
    host.wait_for(&["running"]);
    Running { host, ofp_port, http_port, socket, failpoint, pid_file }
}

impl Running {
    /// Runs `tatsu restart`; returns whether it succeeded and what it printed.
    fn restart(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
            .args(["restart", "--control-socket"])
            .arg(&self.socket)
            .env("RUST_LOG", "error")
            .output()
            .expect("tatsu restart runs");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    /// Makes the next successors die at `phase` (`None`: let them live).
    fn fail_at(&self, phase: Option<&str>) {
        match phase {
            Some(phase) => std::fs::write(&self.failpoint, phase).expect("failpoint file"),
            None => {
                let _ = std::fs::remove_file(&self.failpoint);
            }
        }
    }

    /// Checks a batch of REST requests are all answered, each on a connection of its own.
    fn rest_answers_all(&self, requests: usize) {
        for i in 0..requests {
            let reply = Client::connect(self.http_port).get(&format!("/probe/echo/{i}"));
            assert_eq!(reply.status, 200, "REST request {i}: {}", reply.text());
        }
    }

    /// The host process that holds the pid file now.
    fn current_pid(&self) -> u32 {
        std::fs::read_to_string(&self.pid_file).ok().and_then(|text| text.trim().parse().ok()).expect("pid file")
    }
}

/// A switch sending numbered echo requests every few ms until told to stop, and the xids of the replies it read.
struct Echoing {
    stop: Arc<AtomicBool>,
    sender: JoinHandle<u32>,
    replies: JoinHandle<Vec<u32>>,
}

fn echoing(running: &Running, dpid: u64) -> Echoing {
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.handshake(V1_3, dpid, 1);
    running.host.wait_for(&[&format!("enter {dpid:016x}")]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut reader = switch.try_clone();
    let done = Arc::clone(&stop);
    let sender = std::thread::spawn(move || {
        let mut xid = 0u32;
        while !done.load(Ordering::Acquire) {
            xid += 1;
            let [a, b, c, d] = xid.to_be_bytes();
            switch.send_raw(&[V1_3, 2, 0, 8, a, b, c, d]);
            std::thread::sleep(Duration::from_millis(3));
        }
        // The last request marks the end.
        switch.send_raw(&[V1_3, 2, 0, 8, 0xff, 0xff, 0xff, 0xff]);
        xid
    });
    let replies = std::thread::spawn(move || {
        let mut xids = Vec::new();
        while let Some(frame) = reader.read() {
            if frame.msg_type == 3 {
                if frame.xid == u32::MAX {
                    break;
                }
                xids.push(frame.xid);
            }
        }
        xids
    });
    Echoing { stop, sender, replies }
}

impl Echoing {
    /// Stops sending; checks every echo request was answered exactly once, in order.
    fn finish(self, dpid: u64) {
        self.stop.store(true, Ordering::Release);
        let sent = self.sender.join().expect("sender");
        let xids = self.replies.join().expect("reader");
        assert!(sent > 100, "the switch kept sending ({sent} requests)");
        assert_eq!(xids, (1..=sent).collect::<Vec<u32>>(), "datapath {dpid}: every echo answered once, in order");
    }
}

#[test]
fn a_successor_dying_before_it_confirms_leaves_everything_with_the_running_host() {
    let mut running = start("dying-successor");
    let switches: Vec<Echoing> = (1..=2).map(|dpid| echoing(&running, dpid)).collect();
    let first_pid = running.host.pid();
    for phase in ["before-ready", "after-ready", "after-descriptors"] {
        running.fail_at(Some(phase));
        std::thread::sleep(Duration::from_millis(200));
        let (ok, text) = running.restart();
        assert!(!ok, "{phase}: the restart must fail: {text}");
        running.host.wait_for(&[&format!("TATSU_HANDOVER_FAILPOINT={phase}")]);
        assert_eq!(running.current_pid(), first_pid, "{phase}: the first host still runs");
        running.rest_answers_all(5);
        assert_eq!(listening_descriptors(first_pid, running.http_port), 1, "{phase}: one REST listening socket");
    }
    // A successor that lives takes over: switches, REST, everything, once.
    running.fail_at(None);
    let (ok, text) = running.restart();
    assert!(ok, "{text}");
    running.host.wait_for(&["took over 2 datapath(s) from the previous host"]);
    let successor = running.current_pid();
    assert_ne!(successor, first_pid);
    let _stop_successor = Terminate(successor);
    assert!(running.host.wait_exit().success(), "the first host exits after the handover");
    running.rest_answers_all(20);
    assert_eq!(listening_descriptors(successor, running.http_port), 1, "the successor holds one REST listening socket");
    let log = running.host.log().join("\n");
    assert!(!log.contains("disconnected"), "no switch connection was dropped:\n{log}");
    for (dpid, switch) in (1..=2).zip(switches) {
        switch.finish(dpid);
    }
}

/// Stops a host this test did not start itself (a successor) when dropped, also when the test fails.
struct Terminate(u32);

impl Drop for Terminate {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.0).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while nix::sys::signal::kill(pid, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

#[test]
fn a_successor_dying_right_after_it_confirms_is_a_crash_of_the_running_host() {
    let mut running = start("dying-after-confirm");
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.handshake(V1_3, 3, 1);
    running.host.wait_for(&["enter 0000000000000003"]);
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 76]);
    assert_eq!(switch.expect(3).xid, 76);
    // It confirmed: it owns everything, the old host hands over and exits, and the successor dies.
    running.fail_at(Some("after-adopted"));
    let (ok, text) = running.restart();
    assert!(ok, "the old host saw the takeover confirmed: {text}");
    running.host.wait_for(&["TATSU_HANDOVER_FAILPOINT=after-adopted"]);
    assert!(running.host.wait_exit().success(), "the old host exits after the handover");
    // Nothing holds the connection or the port any more: the switch sees its connection close, not a hang, and a
    // host started again (as a supervisor would) on the same port gets it back.
    assert!(switch.closed_within(Duration::from_secs(5)), "the connection the successor owned is closed");
    let port = running.ofp_port.to_string();
    let dir = temp_dir("dying-after-confirm-again");
    install(&dir, &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")]);
    let socket = dir.join("control.sock").display().to_string();
    let dir_arg = dir.display().to_string();
    let args = ["run", "--plugins-dir", &dir_arg, "--control-socket", &socket, "--ofp-tcp-listen-port", &port];
    let again = Host::start(&[&args[..], &["--ofp-listen-host", "127.0.0.1"]].concat(), &[]);
    again.wait_for(&["listening for switches on"]);
    let mut switch = FakeSwitch::connect(running.ofp_port);
    switch.handshake(V1_3, 3, 1);
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 77]);
    assert_eq!(switch.expect(3).xid, 77, "the reconnected switch is served");
    again.stop();
}
