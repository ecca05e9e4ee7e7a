//! End to end through a real Open vSwitch (userspace datapath, hosts in network namespaces, see
//! `scripts/ovs-testbed`): hosts ping each other through tatsu and `simple-switch`, on OpenFlow 1.3 and 1.0, and
//! forwarding recovers when tatsu is killed and started again; and on OpenFlow 1.4 and 1.5. Needs root and Open
//! vSwitch (`scripts/ovs-testbed install`). The tests take turns: there is one testbed.

mod common;

use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{install, lib_path, temp_dir, testbed, Host};

const PORT: &str = "26653";

/// Held by each test for its whole run: the testbed (and `PORT`) are one.
static TESTBED: Mutex<()> = Mutex::new(());

/// Runs ping-all until it passes or `within` elapses; returns the last output.
fn ping_all_within(within: Duration) -> Result<String, String> {
    let deadline = Instant::now() + within;
    loop {
        let output = testbed::run(&["ping-all", "--count", "1", "--timeout", "1"]);
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        if output.status.success() {
            return Ok(text);
        }
        if Instant::now() >= deadline {
            return Err(text);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start_tatsu(plugins: &std::path::Path) -> Host {
    let plugins = plugins.display().to_string();
    let host = Host::start(
        &[
            "run",
            "--plugins-dir",
            &plugins,
            "--app",
            "simple-switch",
            "--ofp-tcp-listen-port",
            PORT,
            "--ofp-listen-host",
            "127.0.0.1",
        ],
        &[],
    );
    host.wait_for(&["listening for switches on 127.0.0.1:26653"]);
    host
}

#[test]
fn hosts_ping_through_tatsu_on_openflow_1_3_and_1_0_and_survive_a_controller_restart() {
    let _turn = TESTBED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    testbed::prepare();
    let plugins = temp_dir("ovs");
    install(&plugins, &[(&lib_path("simple_switch"), "libsimple_switch.so")]);

    let host = start_tatsu(&plugins);
    let _testbed = testbed::Testbed;
    testbed::ok(&["up", "--protocols", "OpenFlow13", "--controller", &format!("tcp:127.0.0.1:{PORT}")]);
    host.wait_for(&["simple-switch]", "datapath 0000000000000001 joined"]);
    let pings = ping_all_within(Duration::from_secs(15)).unwrap_or_else(|out| panic!("1.3 pings failed:\n{out}"));
    assert!(pings.contains("12 ok, 0 failed"), "{pings}");
    let flows = testbed::ok(&["ofctl", "dump-flows", "tatsu0"]);
    assert!(flows.contains("priority=0 actions=CONTROLLER:65535"), "table-miss flow:\n{flows}");
    assert!(
        flows.contains(
            "idle_timeout=30, priority=1,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 actions=output:2"
        ),
        "learned flows:\n{flows}"
    );

    // OpenFlow 1.0: the same switch, re-pointed.
    testbed::ok(&["set-protocols", "OpenFlow10"]);
    testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
    testbed::ok(&["reconnect"]);
    host.wait_for(&["speaks OpenFlow 0x01"]);
    let pings = ping_all_within(Duration::from_secs(15)).unwrap_or_else(|out| panic!("1.0 pings failed:\n{out}"));
    assert!(pings.contains("12 ok, 0 failed"), "{pings}");
    let flows = testbed::ok(&["ofctl", "dump-flows", "tatsu0"]);
    assert!(flows.contains("in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01 actions=output:1"), "{flows}");

    // Kill tatsu outright, with pings running, then start it again: forwarding recovers.
    testbed::ok(&["set-protocols", "OpenFlow13"]);
    testbed::ok(&["reconnect"]);
    host.wait_for(&["speaks OpenFlow 0x04"]);
    let pinger = std::thread::spawn(|| {
        Command::new("ip")
            .args(["netns", "exec", "h1", "ping", "-c", "40", "-i", "0.2", "-W", "1", "10.0.0.4"])
            .output()
            .expect("ping runs")
    });
    std::thread::sleep(Duration::from_secs(1));
    drop(host); // SIGKILL
    testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
    let host = start_tatsu(&plugins);
    testbed::ok(&["reconnect"]);
    host.wait_for(&["datapath 0000000000000001 joined"]);
    let pings = ping_all_within(Duration::from_secs(15)).unwrap_or_else(|out| panic!("pings after restart:\n{out}"));
    assert!(pings.contains("12 ok, 0 failed"), "{pings}");
    let ping = pinger.join().expect("pinger");
    let summary = String::from_utf8_lossy(&ping.stdout).to_string();
    assert!(summary.contains(" received"), "{summary}");
    let received: u32 = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" received").and_then(|n| n.trim().parse().ok()))
        .unwrap_or(0);
    assert!(received > 10, "pings got through before and after the restart:\n{summary}");
    host.stop();
}

#[test]
fn hosts_ping_through_tatsu_on_openflow_1_4_and_1_5() {
    let _turn = TESTBED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    testbed::prepare();
    let plugins = temp_dir("ovs-1-4-1-5");
    install(&plugins, &[(&lib_path("simple_switch"), "libsimple_switch.so")]);
    let host = start_tatsu(&plugins);
    let _testbed = testbed::Testbed;
    testbed::ok(&["up", "--protocols", "OpenFlow14", "--controller", &format!("tcp:127.0.0.1:{PORT}")]);
    for (protocols, version) in [("OpenFlow14", "0x05"), ("OpenFlow15", "0x06")] {
        if protocols != "OpenFlow14" {
            testbed::ok(&["set-protocols", protocols]);
            testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
            testbed::ok(&["reconnect"]);
        }
        host.wait_for(&[&format!("speaks OpenFlow {version}")]);
        let pings = ping_all_within(Duration::from_secs(15)).unwrap_or_else(|out| panic!("{protocols} pings:\n{out}"));
        assert!(pings.contains("12 ok, 0 failed"), "{protocols}: {pings}");
        let flows = testbed::ok(&["ofctl", "dump-flows", "tatsu0"]);
        assert!(flows.contains("priority=0 actions=CONTROLLER:65535"), "{protocols} table-miss flow:\n{flows}");
        assert!(
            flows.contains("priority=1,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 actions=output:2"),
            "{protocols} learned flows:\n{flows}"
        );
    }
    host.stop();
}
