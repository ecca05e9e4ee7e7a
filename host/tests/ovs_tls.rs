//! TLS to a real Open vSwitch (userspace datapath), certificates made with `ovs-pki`: hosts ping through
//! simple-switch over `ssl:`; a switch whose certificate another CA signed is refused (one line naming it) while the
//! bridge keeps forwarding; ten hot restarts under a continuous ping keep the very same TLS session (Open vSwitch
//! logs no reconnect); and a host that dials a bridge listening on `pssl:` speaks TLS too. Needs root and Open
//! vSwitch.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::fake_switch::FakeSwitch;
use common::pki::Pki;
use common::{install, lib_path, temp_dir, testbed, Host};

const PORT: &str = "26664";
const DIAL_PORT: &str = "26665";

/// How many times Open vSwitch has logged connecting to `target`.
fn ovs_connects(target: &str) -> usize {
    let dir = std::env::var("TATSU_OVS_DIR").unwrap_or_else(|_| "/tmp/tatsu-ovs".to_owned());
    let log = std::fs::read_to_string(Path::new(&dir).join("ovs-vswitchd.log")).unwrap_or_default();
    log.lines().filter(|line| line.contains(&format!("{target}: connected"))).count()
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

fn start_host(dir: &Path, pki: &Pki, name: &str, network: &[&str]) -> Host {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(&plugins, &[(&lib_path("simple_switch"), "libsimple_switch.so")]);
    let mut args: Vec<String> = [
        "run",
        "--plugins-dir",
        &plugins.display().to_string(),
        "--app",
        "simple-switch",
        "--control-socket",
        &dir.join(format!("{name}.sock")).display().to_string(),
        "--pid-file",
        &dir.join(format!("{name}.pid")).display().to_string(),
        "--ofp-listen-host",
        "127.0.0.1",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    args.extend(network.iter().map(|arg| (*arg).to_owned()));
    args.extend(pki.host_flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Host::start(&args, &[])
}

/// Stops the host whose pid file is `pid_file` (after hot restarts, a successor) and waits for it to exit.
fn stop(pid_file: &Path) {
    let pid: i32 = std::fs::read_to_string(pid_file).expect("pid file").trim().parse().expect("pid");
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("stop the host");
    let deadline = Instant::now() + Duration::from_secs(20);
    while nix::sys::signal::kill(pid, None).is_ok() {
        assert!(Instant::now() < deadline, "the host exits");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pings_get_through() {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !testbed::run(&["ping-all", "--count", "1", "--timeout", "1"]).status.success() {
        assert!(Instant::now() < deadline, "pings never got through");
    }
}

#[test]
fn tls_switches_forward_strangers_are_refused_and_ten_hot_restarts_keep_the_session() {
    testbed::prepare();
    let dir = temp_dir("ovs-tls");
    let pki = Pki::make(&dir.join("certs"));
    let host = start_host(&dir, &pki, "passive", &["--ofp-ssl-listen-port", PORT]);
    host.wait_for(&[&format!("listening for TLS switches on 127.0.0.1:{PORT}")]);
    let _testbed = testbed::Testbed;
    let ssl = format!("{},{},{}", pki.switch_key.display(), pki.switch_cert.display(), pki.controller_ca.display());
    let target = format!("ssl:127.0.0.1:{PORT}");
    testbed::ok(&["up", "--protocols", "OpenFlow13", "--controller", &target, "--ssl", &ssl]);
    let connected = host.wait_for(&["over TLS, certificate subject", "CN=sw id:"]);
    assert!(connected.contains("O=Open vSwitch"), "{connected}");
    host.wait_for(&["datapath 0000000000000001", "is ready"]);
    pings_get_through();

    // A switch whose certificate another CA signed: one line naming it; the bridge keeps forwarding.
    let stranger = pki.switch_config(&pki.stranger_key, &pki.stranger_cert);
    if let Ok(mut refused) = FakeSwitch::connect_tls(PORT.parse().expect("a port"), stranger) {
        assert!(refused.read().is_none(), "the stranger gets nothing");
    }
    let line = host.wait_for(&["refused: TLS handshake failed: its certificate is not signed by the CA in"]);
    assert!(line.contains("switch 127.0.0.1:"), "the line names the peer: {line}");
    let refusals = host.log().iter().filter(|l| l.contains("refused: TLS handshake failed")).count();
    assert_eq!(refusals, 1, "one line for one refused switch");
    testbed::ok(&["ping-all", "--count", "1", "--timeout", "2"]);

    // Ten hot restarts under a continuous ping: the TLS session is handed over, never re-made.
    let connects = ovs_connects(&target);
    assert_eq!(connects, 1, "Open vSwitch connected once");
    let pinger = std::thread::spawn(|| {
        Command::new("ip")
            .args(["netns", "exec", "h1", "ping", "-c", "600", "-i", "0.02", "-W", "1", "10.0.0.4"])
            .output()
            .expect("ping runs")
    });
    std::thread::sleep(Duration::from_millis(500));
    let socket = dir.join("passive.sock");
    for _ in 1..=10 {
        restart(&socket);
        std::thread::sleep(Duration::from_millis(600));
    }
    let ping = pinger.join().expect("pinger");
    let summary = String::from_utf8_lossy(&ping.stdout).to_string();
    let received: u32 = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("a ping summary: {summary}"));
    assert!(received >= 597, "at most 3 of 600 pings lost across ten restarts:\n{summary}");
    eprintln!("pings across ten hot restarts: {}", summary.lines().rev().nth(1).unwrap_or_default());
    assert_eq!(ovs_connects(&target), connects, "Open vSwitch never reconnected");
    let controller = testbed::ok(&["vsctl", "--columns=is_connected,status", "list", "controller"]);
    assert!(controller.contains("true"), "{controller}");
    let log = host.log().join("\n");
    assert_eq!(log.matches("took over 1 datapath(s) from the previous host").count(), 10, "{log}");
    assert!(!log.contains("the switch closed the connection"), "{log}");
    stop(&dir.join("passive.pid"));

    // Active connections: the bridge listens on pssl:, the host dials it, TLS both ways.
    let passive = format!("pssl:{DIAL_PORT}:127.0.0.1");
    testbed::ok(&["set-controller", &passive]);
    let dialler = start_host(
        &dir,
        &pki,
        "active",
        &["--ofp-ssl-listen-port", "0", "--ofp-switch-address-list", &format!("127.0.0.1:{DIAL_PORT}")],
    );
    let connected = dialler.wait_for(&["over TLS, certificate subject", "CN=sw id:"]);
    assert!(connected.contains(&format!("127.0.0.1:{DIAL_PORT}")), "{connected}");
    dialler.wait_for(&["datapath 0000000000000001", "is ready"]);
    pings_get_through();
    let log = dialler.stop();
    assert!(!log.iter().any(|line| line.contains("refused")), "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
