//! Hot restart under real traffic: hosts ping continuously through Open vSwitch and tatsu while tatsu restarts
//! ten times, once with a new build of an app. Open vSwitch must see no reconnect, no ping may be lost, the learned
//! flows must stay, and the new build's behaviour must be live. Needs root and Open vSwitch.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{install, lib_path, temp_dir, testbed, workspace, Host};

const PORT: &str = "26654";

/// How many times Open vSwitch has logged connecting to tatsu.
fn ovs_connects() -> usize {
    let dir = std::env::var("TATSU_OVS_DIR").unwrap_or_else(|_| "/tmp/tatsu-ovs".to_owned());
    let log = std::fs::read_to_string(Path::new(&dir).join("ovs-vswitchd.log")).unwrap_or_default();
    log.lines().filter(|line| line.contains(&format!("tcp:127.0.0.1:{PORT}: connected"))).count()
}

fn restart(socket: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(["restart", "--control-socket"])
        .arg(socket)
        .output()
        .expect("tatsu restart runs");
    assert!(
        output.status.success(),
        "tatsu restart failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Replaces a library file the way an installer must: a new file renamed over the old one, never rewritten in
/// place (the running host has the old one mapped).
fn replace_library(from: &Path, to: &Path) {
    let staging = to.with_extension("so.new");
    std::fs::copy(from, &staging).expect("stage the new build");
    std::fs::rename(&staging, to).expect("swap in the new build");
}

#[test]
fn ten_hot_restarts_under_traffic_lose_nothing_and_pick_up_a_new_build() {
    testbed::prepare();
    let dir = temp_dir("ovs-restart");
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(
        &plugins,
        &[
            (&lib_path("simple_switch"), "libsimple_switch.so"),
            (&lib_path("tatsu_fixture_flow_marker"), "libflow_marker.so"),
        ],
    );
    let socket = dir.join("control.sock").display().to_string();
    let pid_file = dir.join("tatsu.pid");
    let host = Host::start(
        &[
            "run",
            "--plugins-dir",
            &plugins.display().to_string(),
            "--app",
            "simple-switch",
            "--app",
            "flow-marker",
            "--control-socket",
            &socket,
            "--pid-file",
            &pid_file.display().to_string(),
            "--ofp-tcp-listen-port",
            PORT,
            "--ofp-listen-host",
            "127.0.0.1",
        ],
        &[],
    );
    host.wait_for(&["listening for switches on 127.0.0.1:26654"]);
    let _testbed = testbed::Testbed;
    testbed::ok(&["up", "--protocols", "OpenFlow13", "--controller", &format!("tcp:127.0.0.1:{PORT}")]);
    host.wait_for(&["marked datapath 0000000000000001 with build 1"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !testbed::run(&["ping-all", "--count", "1", "--timeout", "1"]).status.success() {
        assert!(Instant::now() < deadline, "pings never got through");
    }
    let connects = ovs_connects();
    assert!(connects >= 1, "Open vSwitch logged its connection");

    // A second build of flow-marker, marking 2.
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "-p", "tatsu-fixture-flow-marker"])
        .env("TATSU_FIXTURE_MARK", "2")
        .current_dir(workspace())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building flow-marker 2");
    let build_2 = dir.join("libflow_marker-2.so");
    std::fs::copy(lib_path("tatsu_fixture_flow_marker"), &build_2).expect("keep build 2");

    // Continuous pings across the restarts: 0.02 s apart, about 12 s.
    let pinger = std::thread::spawn(|| {
        Command::new("ip")
            .args(["netns", "exec", "h1", "ping", "-c", "600", "-i", "0.02", "-W", "1", "10.0.0.4"])
            .output()
            .expect("ping runs")
    });
    std::thread::sleep(Duration::from_millis(500));
    for round in 1..=10 {
        if round == 6 {
            replace_library(&build_2, &plugins.join("libflow_marker.so"));
        }
        restart(Path::new(&socket));
        std::thread::sleep(Duration::from_millis(600));
    }
    let ping = pinger.join().expect("pinger");
    let summary = String::from_utf8_lossy(&ping.stdout).to_string();
    assert!(summary.contains("600 packets transmitted, 600 received, 0% packet loss"), "no ping lost:\n{summary}");
    assert_eq!(ovs_connects(), connects, "Open vSwitch never reconnected");
    let status = testbed::ok(&["vsctl", "--columns=is_connected", "list", "controller"]);
    assert!(status.contains("true"), "{status}");

    let flows = testbed::ok(&["ofctl", "dump-flows", "tatsu0"]);
    assert!(
        flows.contains("dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:04 actions=output:4"),
        "learned flows stay:\n{flows}"
    );
    assert!(
        flows.contains("cookie=0x2") && flows.contains("dl_type=0x88b5"),
        "build 2 of flow-marker is live:\n{flows}"
    );
    assert!(!flows.contains("cookie=0x1,"), "build 1's mark was replaced:\n{flows}");

    // Stop the last successor through its pid file.
    let pid: i32 = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().expect("pid");
    assert_ne!(u32::try_from(pid).ok(), Some(host.pid()), "a successor runs now");
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("stop the host");
    let deadline = Instant::now() + Duration::from_secs(20);
    while nix::sys::signal::kill(pid, None).is_ok() {
        assert!(Instant::now() < deadline, "the host exits");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = host.log().join("\n");
    assert_eq!(log.matches("took over 1 datapath(s) from the previous host").count(), 10, "{log}");
}
