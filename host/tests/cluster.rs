//! Several real `tatsu` hosts as one controller, against a real etcd (Debian's `etcd-server`, members started here
//! on free loopback ports with their own data directories), with scripted OpenFlow 1.3 switches that connect to
//! every host and keep roles as the specification says (one master, generation ids, OFPRRFC_STALE). Skipped,
//! saying so, where no `etcd` binary is installed.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::etcd::{etcd_installed, free_port, Etcd};
use common::fake_switch::{FakeSwitch, Frame, V1_3};
use common::{temp_dir, Host};
use tatsu_ofproto::{v1_3, Message};

/// Starts a cluster host `node` with no apps; returns it and its switch port.
fn cluster_host(test: &str, etcd: &str, node: &str, extra: &[&str]) -> (Host, u16) {
    cluster_host_with(test, etcd, node, extra, &[])
}

/// Starts a cluster host `node` with the apps built as `libraries` (crate names), its REST API on a free port.
fn cluster_host_with(test: &str, etcd: &str, node: &str, extra: &[&str], libraries: &[&str]) -> (Host, u16) {
    let dir = temp_dir(&format!("{test}-{node}"));
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let libraries: Vec<(PathBuf, String)> =
        libraries.iter().map(|name| (common::lib_path(name), format!("lib{name}.so"))).collect();
    let listed: Vec<(&std::path::Path, &str)> =
        libraries.iter().map(|(path, name)| (path.as_path(), name.as_str())).collect();
    common::install(&plugins, &listed);
    let rest: &[&str] = if libraries.is_empty() { &[] } else { &["--wsapi-port", "0", "--wsapi-host", "127.0.0.1"] };
    let (plugins, socket) = (plugins.display().to_string(), dir.join("control.sock").display().to_string());
    let mut args = vec![
        "run",
        "--plugins-dir",
        &plugins,
        "--control-socket",
        &socket,
        "--ofp-tcp-listen-port",
        "0",
        "--ofp-listen-host",
        "127.0.0.1",
        "--cluster-etcd",
        etcd,
        "--cluster-name",
        test,
        "--node-id",
        node,
        "--cluster-lease-ttl",
        "2",
    ];
    args.extend_from_slice(rest);
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[("RUST_LOG", "info,tatsu::cluster=debug")]);
    let port = host.switch_port();
    (host, port)
}

/// What one switch's role table says of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Equal,
    Master,
    Slave,
}

/// One OpenFlow 1.3 switch's role state, shared by its connections (one per host).
#[derive(Default)]
struct Roles {
    /// The role of each connection (by index).
    of: Vec<Role>,
    /// The highest generation id accepted.
    generation: Option<u64>,
    /// Every ROLE_REQUEST seen: connection, role code, generation id, accepted.
    log: Vec<(usize, u32, u64, bool)>,
}

/// A scripted switch connected to several hosts, answering ROLE_REQUESTs as a 1.3 switch does.
struct ClusterSwitch {
    roles: Arc<Mutex<Roles>>,
}

impl ClusterSwitch {
    fn connect(dpid: u64, ports: &[u16]) -> ClusterSwitch {
        let roles = Arc::new(Mutex::new(Roles { of: vec![Role::Equal; ports.len()], ..Roles::default() }));
        for (index, port) in ports.iter().enumerate() {
            let mut switch = FakeSwitch::connect(*port);
            switch.handshake(V1_3, dpid, 2);
            let roles = Arc::clone(&roles);
            let writer = Arc::new(Mutex::new(switch.try_clone()));
            std::thread::spawn(move || serve(switch, &writer, index, &roles, |_: &Frame| {}));
        }
        ClusterSwitch { roles }
    }

    fn roles(&self) -> Vec<Role> {
        self.roles.lock().expect("lock").of.clone()
    }

    fn generation(&self) -> Option<u64> {
        self.roles.lock().expect("lock").generation
    }

    fn requests(&self) -> Vec<(usize, u32, u64, bool)> {
        self.roles.lock().expect("lock").log.clone()
    }

    /// Waits for a master among `among` (every other connection counted as gone).
    fn wait_master(&self, among: &[usize], within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let roles = self.roles();
            let masters: Vec<usize> = among.iter().copied().filter(|i| roles[*i] == Role::Master).collect();
            if masters.len() == 1 && among.iter().all(|i| masters[0] == *i || roles[*i] == Role::Slave) {
                return masters[0];
            }
            assert!(Instant::now() < deadline, "no single master among {among:?}: {roles:?}, {:?}", self.requests());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Serves one connection of a switch (read from `reader`, written through `writer`): echo replies, and roles as
/// OpenFlow 1.3 §6.3.6 says; every other message goes to `other`.
fn serve(
    mut reader: FakeSwitch,
    writer: &Mutex<FakeSwitch>,
    index: usize,
    roles: &Mutex<Roles>,
    other: impl Fn(&Frame),
) {
    while let Some(frame) = reader.read() {
        let mut switch = writer.lock().expect("lock");
        match frame.msg_type {
            2 => switch.echo_reply(&frame),
            // A description request (a read, which slaves may make): an empty description.
            18 if frame.bytes.get(8..10) == Some(&[0, 0]) => {
                let length = 16 + 1056;
                let mut reply = vec![V1_3, 19];
                reply.extend_from_slice(&u16::try_from(length).expect("short").to_be_bytes());
                reply.extend_from_slice(&frame.xid.to_be_bytes());
                reply.resize(length, 0);
                switch.send_raw(&reply);
            }
            24 if frame.bytes.len() >= 24 => {
                let role = u32::from_be_bytes(frame.bytes[8..12].try_into().expect("4 bytes"));
                let generation = u64::from_be_bytes(frame.bytes[16..24].try_into().expect("8 bytes"));
                let mut state = roles.lock().expect("lock");
                let stale = matches!(role, 2 | 3)
                    && state.generation.is_some_and(|cached| (generation.wrapping_sub(cached) as i64) < 0);
                state.log.push((index, role, generation, !stale));
                if stale {
                    drop(state);
                    let mut error = vec![V1_3, 1, 0, 12 + 24];
                    error.extend_from_slice(&frame.xid.to_be_bytes());
                    error.extend_from_slice(&[0, 11, 0, 0]); // ROLE_REQUEST_FAILED, STALE
                    error.extend_from_slice(&frame.bytes[..24]);
                    switch.send_raw(&error);
                    continue;
                }
                if matches!(role, 2 | 3) {
                    state.generation = Some(generation);
                }
                match role {
                    2 => {
                        for other in state.of.iter_mut().filter(|r| **r == Role::Master) {
                            *other = Role::Slave;
                        }
                        state.of[index] = Role::Master;
                    }
                    3 => state.of[index] = Role::Slave,
                    _ => {}
                }
                drop(state);
                let mut reply = frame.bytes[..24].to_vec();
                reply[1] = 25;
                switch.send_raw(&reply);
            }
            _ => {
                drop(switch);
                other(&frame);
            }
        }
    }
}

#[test]
fn one_master_per_switch_and_a_new_one_with_a_higher_generation_when_it_is_killed() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("takeover", 3);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1", "h2"].iter().map(|node| cluster_host("takeover", &etcd.endpoints(), node, &[])).collect();
    for (host, _) in &hosts {
        host.wait_for(&["joined cluster `takeover`"]);
    }
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switches: Vec<ClusterSwitch> = (1..=2).map(|dpid| ClusterSwitch::connect(dpid, &ports)).collect();
    let masters: Vec<usize> =
        switches.iter().map(|switch| switch.wait_master(&[0, 1, 2], Duration::from_secs(10))).collect();
    let generation = switches[0].generation().expect("a generation id");
    let first = masters[0];
    assert_eq!(masters[1], first, "mastership affinity: one host masters every switch");
    assert!(hosts[first].0.logged(&["datapath 0000000000000001: master (generation"]));

    // kill -9 of switch 1's master: another host becomes master once the lease (2 s) expires, with a higher
    // generation id, and the switch accepts it.
    let mut hosts: Vec<Option<Host>> = hosts.into_iter().map(|(host, _)| Some(host)).collect();
    let mut master_host = hosts[first].take().expect("the master host");
    master_host.signal(nix::sys::signal::Signal::SIGKILL);
    master_host.wait_exit();
    let killed_at = Instant::now();
    let others: Vec<usize> = (0..3).filter(|i| *i != first).collect();
    let second = switches[0].wait_master(&others, Duration::from_secs(10));
    let took = killed_at.elapsed();
    let newer = switches[0].generation().expect("a generation id");
    assert!(newer > generation, "generation {newer} after {generation}");
    assert!(took < Duration::from_secs(6), "takeover took {took:?}");
    eprintln!(
        "takeover {took:?} after kill -9 (lease 2 s), generation {generation} → {newer}, host {first} → {second}"
    );
    // Switch 2 moves with switch 1: the whole network has one master again.
    assert_eq!(switches[1].wait_master(&others, Duration::from_secs(10)), second, "the network moves whole");
    assert!(switches.iter().all(|s| s.requests().iter().all(|(_, _, _, accepted)| *accepted)));
}

#[test]
fn a_switch_the_preferred_master_does_not_reach_is_mastered_by_another_host_after_the_grace() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("grace", 1);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1"].iter().map(|node| cluster_host("grace", &etcd.endpoints(), node, &[])).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let both = ClusterSwitch::connect(8, &ports);
    let preferred = both.wait_master(&[0, 1], Duration::from_secs(10));
    hosts[preferred].0.wait_for(&["this host is the preferred master"]);
    // A switch connected to the other host only: nobody masters it during the grace (the lease TTL, 2 s), then
    // the host it reaches does.
    let other = 1 - preferred;
    let lonely = ClusterSwitch::connect(9, &[ports[other]]);
    let connected = Instant::now();
    assert_eq!(lonely.wait_master(&[0], Duration::from_secs(10)), 0);
    assert!(connected.elapsed() >= Duration::from_millis(1500), "no grace: {:?}", connected.elapsed());
    assert!(!hosts[other].0.logged(&["this host is the preferred master"]));
}

#[test]
fn a_second_host_with_the_same_node_id_is_refused() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("dup", 1);
    let (first, _) = cluster_host("dup", &etcd.endpoints(), "same", &[]);
    first.wait_for(&["joined cluster `dup` as node `same`"]);
    let dir = temp_dir("dup-second");
    let plugins = dir.display().to_string();
    let mut second = Host::start(
        &["run", "--plugins-dir", &plugins, "--ofp-tcp-listen-port", "0", "--cluster-etcd", &etcd.endpoints()]
            .into_iter()
            .chain(["--cluster-name", "dup", "--node-id", "same"])
            .collect::<Vec<_>>(),
        &[],
    );
    assert!(!second.wait_exit().success(), "a second host with the same node id must not start");
    second.wait_for(&["node id `same` is already in use in cluster `dup`"]);
    first.stop();
}

#[test]
fn etcd_unreachable_at_start_is_said_and_fatal_only_with_strict() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (host, port) = cluster_host("nobody", &dead, "h0", &[]);
    host.wait_for(&["cannot join cluster `nobody`", "127.0.0.1", "running as a single controller"]);
    // It serves switches as a single controller: no role requests.
    let switch = ClusterSwitch::connect(7, &[port]);
    host.wait_for(&["datapath 0000000000000007", "is ready"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(switch.requests().is_empty(), "{:?}", switch.requests());
    host.stop();

    let dir = temp_dir("nobody-strict");
    let plugins = dir.display().to_string();
    let args = ["run", "--plugins-dir", &plugins, "--strict", "--cluster-etcd", &dead, "--node-id", "h0"];
    let mut strict = Host::start(&args, &[]);
    assert!(!strict.wait_exit().success(), "--strict makes an unreachable etcd fatal");
    strict.wait_for(&["cannot join cluster `tatsu` through etcd"]);
}

#[test]
fn etcd_lost_while_running_keeps_the_roles_and_elections_resume_when_it_is_back() {
    if !etcd_installed() {
        return;
    }
    let mut etcd = Etcd::start("lost", 3);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1"].iter().map(|node| cluster_host("lost", &etcd.endpoints(), node, &[])).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switch = ClusterSwitch::connect(3, &ports);
    let master = switch.wait_master(&[0, 1], Duration::from_secs(10));
    let before = switch.requests().len();

    // One member of three gone: the quorum holds, nothing changes.
    etcd.kill(0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(switch.wait_master(&[0, 1], Duration::ZERO), master);
    assert_eq!(switch.requests().len(), before, "{:?}", switch.requests());
    assert!(hosts.iter().all(|(host, _)| !host.logged(&["lost etcd"])));

    // Two gone: no quorum. The roles hold, and it is logged.
    etcd.kill(1);
    for (host, _) in &hosts {
        host.wait_for(&["lost etcd", "keeping the current roles"]);
    }
    // Past the lease TTL (2 s) several times over: nobody steps down, nobody is elected.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(switch.wait_master(&[0, 1], Duration::ZERO), master);
    assert_eq!(switch.requests().len(), before, "{:?}", switch.requests());
    for (host, _) in &hosts {
        assert_eq!(host.log().iter().filter(|line| line.contains("lost etcd")).count(), 1, "logged once");
    }

    etcd.restart(0);
    etcd.restart(1);
    etcd.wait_healthy();
    for (host, _) in &hosts {
        host.wait_for(&["etcd is reachable again"]);
    }
    // Elections work again: the master's planned stop hands the switch to the other host at once.
    let (mut hosts, other) = (hosts, 1 - master);
    let (leaving, _) = hosts.remove(master);
    leaving.stop();
    switch.wait_master(&[other], Duration::from_secs(5));
}

#[test]
fn a_master_paused_past_its_lease_is_fenced_and_steps_down_when_it_wakes() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("paused", 1);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1"].iter().map(|node| cluster_host("paused", &etcd.endpoints(), node, &[])).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switch = ClusterSwitch::connect(4, &ports);
    let master = switch.wait_master(&[0, 1], Duration::from_secs(10));
    let old = switch.generation().expect("a generation");
    let other = 1 - master;

    hosts[master].0.signal(nix::sys::signal::Signal::SIGSTOP);
    // The switch's echo requests to the paused host go unanswered for a while, which is fine for this test.
    assert_eq!(switch.wait_master(&[other], Duration::from_secs(10)), other);
    let newer = switch.generation().expect("a generation");
    assert!(newer > old);
    let seen = switch.requests().len();
    hosts[master].0.signal(nix::sys::signal::Signal::SIGCONT);
    hosts[master].0.wait_for(&["lease", "expired in etcd", "stepping down for every datapath"]);
    hosts[master].0.wait_for(&["datapath 0000000000000004: slave"]);
    std::thread::sleep(Duration::from_millis(500));
    // Whatever the woken host asked for after waking was either refused as stale or made it a slave.
    for (index, role, generation, accepted) in &switch.requests()[seen..] {
        if *index == master {
            assert!(*role == 3 || !*accepted, "the woken host was granted role {role} with generation {generation}");
        }
    }
    assert_eq!(switch.wait_master(&[0, 1], Duration::ZERO), other);
}

#[test]
fn a_hot_restart_of_the_master_keeps_its_mastership() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("restart", 1);
    let pid_files: Vec<PathBuf> = ["h0", "h1"].iter().map(|node| temp_dir(&format!("restart-pid-{node}"))).collect();
    let hosts: Vec<(Host, u16)> = ["h0", "h1"]
        .iter()
        .zip(&pid_files)
        .map(|(node, dir)| {
            let pid_file = dir.join("pid").display().to_string();
            cluster_host("restart", &etcd.endpoints(), node, &["--pid-file", &pid_file])
        })
        .collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switch = ClusterSwitch::connect(5, &ports);
    let master = switch.wait_master(&[0, 1], Duration::from_secs(10));
    let generation = switch.generation().expect("a generation");
    let seen = switch.requests().len();

    hosts[master].0.signal(nix::sys::signal::Signal::SIGHUP);
    hosts[master].0.wait_for(&["restart done"]);
    let successor = Successor(std::fs::read_to_string(pid_files[master].join("pid")).expect("pid file"));
    hosts[master].0.wait_for(&["kept lease", "from the previous host"]);
    // Longer than the lease: the old process is gone, and its lease lives on in the successor.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(switch.wait_master(&[0, 1], Duration::ZERO), master);
    assert_eq!(switch.generation(), Some(generation), "no new election");
    for (index, role, request_generation, _) in &switch.requests()[seen..] {
        assert_eq!((*index, *role, *request_generation), (master, 2, generation), "no role change");
    }
    assert!(!hosts[1 - master].0.logged(&["datapath 0000000000000005: master (generation"]));
    drop(successor);
}

/// The successor of a hot restart, stopped at the end.
struct Successor(String);

impl Drop for Successor {
    fn drop(&mut self) {
        if let Ok(pid) = self.0.trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// The app that logs its roles and serves its key-value store over REST.
const PROBE: &str = "tatsu_fixture_cluster_probe";

#[test]
fn apps_see_their_roles_and_a_slave_cannot_change_a_switch_but_can_read_it() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("approles", 3);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1"].iter().map(|node| cluster_host_with("approles", &etcd.endpoints(), node, &[], &[PROBE])).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switches: Vec<ClusterSwitch> = (1..=2).map(|dpid| ClusterSwitch::connect(dpid, &ports)).collect();
    for (index, switch) in switches.iter().enumerate() {
        let dpid = format!("{:016x}", index + 1);
        let master = switch.wait_master(&[0, 1], Duration::from_secs(10));
        let generation = switch.generation().expect("a generation id");
        // The master's app hears it is master, with the generation the switch accepted, and may change the switch.
        let (master_host, slave_host) = (&hosts[master].0, &hosts[1 - master].0);
        master_host.wait_for(&["cluster-probe", &format!("role {dpid} Master generation {generation}")]);
        master_host.wait_for(&["cluster-probe", &format!("send {dpid}: ok")]);
        master_host.wait_for(&["cluster-probe", &format!("read {dpid}: ok")]);
        // The slave's app hears it is slave; its flow-mod fails with the typed error, its read works.
        slave_host.wait_for(&["cluster-probe", &format!("role {dpid} Slave")]);
        slave_host.wait_for(&["cluster-probe", &format!("send {dpid}: NotMaster",), "is its slave"]);
        slave_host.wait_for(&["cluster-probe", &format!("read {dpid}: ok")]);
        assert!(!slave_host.logged(&[&format!("role {dpid} Master")]), "one master per switch");
    }
}

/// `GET /kv/{key}` on a host's REST API: the value, or the status.
fn kv_get(port: u16, key: &str) -> Result<String, u16> {
    let reply = common::http::Client::connect(port).get(&format!("/kv/{key}"));
    if reply.status == 200 {
        Ok(reply.json()["value"].as_str().unwrap_or_default().to_owned())
    } else {
        Err(reply.status)
    }
}

/// Waits until host `port`'s watch has seen `change` (`[key, value or null]`).
fn wait_seen(port: u16, change: serde_json::Value, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let seen = common::http::Client::connect(port).get("/kv-seen").json();
        if seen.as_array().is_some_and(|all| all.contains(&change)) {
            return;
        }
        assert!(Instant::now() < deadline, "{change} not seen by the watch on port {port}: {seen}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_key_value_store_is_shared_swaps_atomically_and_outlives_a_killed_host_and_a_lost_etcd() {
    if !etcd_installed() {
        return;
    }
    let mut etcd = Etcd::start("appkv", 3);
    let hosts: Vec<(Host, u16)> =
        ["h0", "h1"].iter().map(|node| cluster_host_with("appkv", &etcd.endpoints(), node, &[], &[PROBE])).collect();
    let rest: Vec<u16> = hosts.iter().map(|(host, _)| host.rest_port()).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let switch = ClusterSwitch::connect(9, &ports);
    let master = switch.wait_master(&[0, 1], Duration::from_secs(10));
    let survivor = 1 - master;

    // A put on the master's host is seen by the other host's watch, and read there.
    let put = common::http::Client::connect(rest[master]).request("PUT", "/kv/config", Some("v1"));
    assert_eq!(put.status, 200, "{}", put.text());
    wait_seen(rest[survivor], serde_json::json!(["config", "v1"]), Duration::from_secs(10));
    assert_eq!(kv_get(rest[survivor], "config"), Ok("v1".to_owned()));

    // Compare-and-swap: one of two hosts racing from the same value wins, the other sees the conflict.
    let cas = |port: u16, expected: &str, new: &str| {
        let body = serde_json::json!({ "expected": expected, "new": new }).to_string();
        let reply = common::http::Client::connect(port).request("POST", "/kv-cas/config", Some(&body));
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["swapped"].as_bool().expect("swapped")
    };
    assert!(cas(rest[survivor], "v1", "from-survivor"));
    assert!(!cas(rest[master], "v1", "from-master"), "the master's swap from a stale value must fail");
    assert_eq!(kv_get(rest[master], "config"), Ok("from-survivor".to_owned()));
    assert!(cas(rest[master], "from-survivor", "v2"));

    // kill -9 of the master's host: the values are in etcd, not in it.
    let (mut hosts, mut left): (Vec<Option<Host>>, Vec<u16>) =
        (hosts.into_iter().map(|(h, _)| Some(h)).collect(), rest);
    let mut killed = hosts[master].take().expect("the master");
    killed.signal(nix::sys::signal::Signal::SIGKILL);
    killed.wait_exit();
    switch.wait_master(&[survivor], Duration::from_secs(10));
    assert_eq!(kv_get(left[survivor], "config"), Ok("v2".to_owned()));
    let survivor_host = hosts[survivor].as_ref().expect("the survivor");
    wait_seen(left[survivor], serde_json::json!(["config", "v2"]), Duration::from_secs(10));

    // etcd without a quorum: calls fail with the clear error (503 from the app), the host keeps serving.
    etcd.kill(0);
    etcd.kill(1);
    assert_eq!(kv_get(left[survivor], "config"), Err(503));
    // etcd back: calls work, and the watch resumes where it was.
    etcd.restart(0);
    etcd.restart(1);
    etcd.wait_healthy();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let put = common::http::Client::connect(left[survivor]).request("PUT", "/kv/after", Some("etcd is back"));
        if put.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "etcd did not come back for the app: {}", put.text());
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_seen(left[survivor], serde_json::json!(["after", "etcd is back"]), Duration::from_secs(15));
    assert!(survivor_host.logged(&["cluster-probe"]));
    left.clear();
}

/// Scripted OpenFlow 1.3 switches 1..=n in a line (port 2 of each cabled to port 1 of the next; three ports each),
/// each connected to every host and keeping roles as [`ClusterSwitch`] does. A packet-out through a cabled port
/// comes out at the other end as a packet-in, sent to the connections that are not slaves, as a 1.3 switch sends
/// its packet-ins to its master and equals: the neighbour's LLDP flow, without Open vSwitch.
struct Fabric {
    switches: Vec<ClusterSwitch>,
    /// Each switch's connections (by host), written by the serving threads and by neighbours' packet-outs.
    writers: Arc<Vec<Vec<Arc<Mutex<FakeSwitch>>>>>,
}

impl Fabric {
    fn line(n: usize, ports: &[u16]) -> Fabric {
        let mut wires = std::collections::HashMap::new();
        for i in 0..n.saturating_sub(1) {
            wires.insert((i, 2u32), (i + 1, 1u32));
            wires.insert((i + 1, 1u32), (i, 2u32));
        }
        let roles: Vec<Arc<Mutex<Roles>>> = (0..n)
            .map(|_| Arc::new(Mutex::new(Roles { of: vec![Role::Equal; ports.len()], ..Roles::default() })))
            .collect();
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        for i in 0..n {
            let (mut mine, mut theirs) = (Vec::new(), Vec::new());
            for port in ports {
                let mut switch = FakeSwitch::connect(*port);
                switch.handshake(V1_3, (i + 1) as u64, 3);
                theirs.push(Arc::new(Mutex::new(switch.try_clone())));
                mine.push(switch);
            }
            readers.push(mine);
            writers.push(theirs);
        }
        let (writers, wires) = (Arc::new(writers), Arc::new(wires));
        for (i, connections) in readers.into_iter().enumerate() {
            for (index, reader) in connections.into_iter().enumerate() {
                let (roles, writers, wires) = (roles.clone(), Arc::clone(&writers), Arc::clone(&wires));
                let writer = Arc::clone(&writers[i][index]);
                std::thread::spawn(move || {
                    let cable = |frame: &Frame| {
                        if frame.msg_type != 13 || roles[i].lock().expect("lock").of[index] == Role::Slave {
                            return;
                        }
                        let Ok((_, Message::V1_3(v1_3::Message::PacketOut(out)))) = tatsu_ofproto::decode(&frame.bytes)
                        else {
                            return;
                        };
                        for action in &out.actions {
                            let v1_3::Action::Output { port, .. } = action else { continue };
                            if let Some(&(peer, peer_port)) = wires.get(&(i, *port)) {
                                Fabric::packet_in(&roles[peer], &writers[peer], peer_port, &out.data);
                            }
                        }
                    };
                    serve(reader, &writer, index, &roles[i], cable);
                });
            }
        }
        let switches = roles.into_iter().map(|roles| ClusterSwitch { roles }).collect();
        Fabric { switches, writers }
    }

    /// Switch `roles`' connections that are not slaves get a packet-in of `data` from `port`.
    fn packet_in(roles: &Mutex<Roles>, connections: &[Arc<Mutex<FakeSwitch>>], port: u32, data: &[u8]) {
        let of = roles.lock().expect("lock").of.clone();
        let packet_in = v1_3::PacketIn {
            buffer_id: 0xffff_ffff,
            total_len: u16::try_from(data.len()).unwrap_or(u16::MAX),
            reason: 1,
            table_id: 0,
            cookie: 0,
            match_: v1_3::Match::new().in_port(port),
            data: data.to_vec(),
        };
        let bytes = Message::V1_3(v1_3::Message::PacketIn(packet_in)).to_vec(0).expect("a packet-in encodes");
        for (connection, role) in connections.iter().zip(of) {
            // A connection to a killed host is gone: the packet-in is lost there, as on a real switch.
            if role != Role::Slave {
                connection.lock().expect("lock").try_send_raw(&bytes);
            }
        }
    }

    /// A host with MAC `00:00:00:00:00:NN` sends an ARP request into port `port` of switch `dpid`.
    fn host_speaks(&self, dpid: usize, port: u32, nn: u8) {
        let mac = [0, 0, 0, 0, 0, nn];
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&mac);
        frame.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
        frame.extend_from_slice(&mac);
        frame.extend_from_slice(&[10, 0, 0, nn]);
        frame.extend_from_slice(&[0; 6]);
        frame.extend_from_slice(&[10, 0, 0, 254]);
        Fabric::packet_in(&self.switches[dpid - 1].roles, &self.writers[dpid - 1], port, &frame);
    }
}

/// `GET /v1.0/topology/{what}` on a host, sorted so that two hosts' answers compare.
fn topology(port: u16, what: &str) -> serde_json::Value {
    let reply = common::http::Client::connect(port).get(&format!("/v1.0/topology/{what}"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut all = reply.json().as_array().cloned().unwrap_or_default();
    all.sort_by_key(|item| item.to_string());
    serde_json::Value::Array(all)
}

/// Waits until every host in `rest` shows the same switches, links and hosts, with `switches` switches, `links`
/// links and `hosts` hosts; returns the view.
fn wait_same_view(rest: &[u16], switches: usize, links: usize, hosts: usize, within: Duration) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let views: Vec<serde_json::Value> = rest
            .iter()
            .map(|port| {
                serde_json::json!({
                    "switches": topology(*port, "switches"),
                    "links": topology(*port, "links"),
                    "hosts": topology(*port, "hosts"),
                })
            })
            .collect();
        let sizes = |view: &serde_json::Value, what: &str| view[what].as_array().map_or(0, Vec::len);
        let done = views.iter().all(|view| {
            views[0] == *view
                && sizes(view, "switches") == switches
                && sizes(view, "links") == links
                && sizes(view, "hosts") == hosts
        });
        if done {
            return views[0].clone();
        }
        assert!(Instant::now() < deadline, "the hosts' views did not converge: {views:#?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_topology_is_discovered_by_each_switchs_master_and_the_same_on_every_host_also_after_a_kill() {
    if !etcd_installed() {
        return;
    }
    let etcd = Etcd::start("topo", 3);
    let config = temp_dir("topo-config").join("tatsu.toml");
    std::fs::write(&config, "[app.topology]\nprobe_interval = 0.5\nlink_timeout = 3.0\n").expect("config");
    let config = config.display().to_string();
    let hosts: Vec<(Host, u16)> = ["h0", "h1", "h2"]
        .iter()
        .map(|node| cluster_host_with("topo", &etcd.endpoints(), node, &["--config", &config], &["topology", PROBE]))
        .collect();
    let rest: Vec<u16> = hosts.iter().map(|(host, _)| host.rest_port()).collect();
    let ports: Vec<u16> = hosts.iter().map(|(_, port)| *port).collect();
    let fabric = Fabric::line(3, &ports);
    let masters: Vec<usize> =
        fabric.switches.iter().map(|switch| switch.wait_master(&[0, 1, 2], Duration::from_secs(10))).collect();

    // Three switches, two cables (four links) and, once it speaks, one host: the same on every host.
    wait_same_view(&rest, 3, 4, 0, Duration::from_secs(20));
    fabric.host_speaks(1, 1, 0x0a);
    let view = wait_same_view(&rest, 3, 4, 1, Duration::from_secs(20));
    assert_eq!(view["hosts"][0]["mac"], "00:00:00:00:00:0a", "{view}");
    // And every host's apps got the same topology events (in the order each host merged the parts in).
    let events: Vec<Vec<String>> = rest
        .iter()
        .map(|port| {
            let all = common::http::Client::connect(*port).get("/topology-events").json();
            let mut all: Vec<String> = serde_json::from_value(all).expect("a list of events");
            all.sort();
            all
        })
        .collect();
    assert!(events.iter().all(|mine| *mine == events[0]), "{events:#?}");
    assert_eq!(events[0].iter().filter(|e| e.starts_with("switch-enter")).count(), 3, "{:?}", events[0]);
    assert_eq!(events[0].iter().filter(|e| e.starts_with("link-add")).count(), 4, "{:?}", events[0]);
    assert!(events[0].contains(&"host-add 00:00:00:00:00:0a".to_owned()), "{:?}", events[0]);
    // Each host discovered only the switches it masters: nobody probed a switch it is slave of.
    for (index, (host, _)) in hosts.iter().enumerate() {
        for (switch, master) in masters.iter().enumerate() {
            let joined = format!("datapath {:016x} joined with", switch + 1);
            assert_eq!(host.logged(&["topology", &joined]), *master == index, "host {index}, switch {}", switch + 1);
        }
    }

    // kill -9 of switch 2's master: its parts age out with its lease, the new masters discover what it did.
    let victim = masters[1];
    let mut hosts: Vec<Option<Host>> = hosts.into_iter().map(|(host, _)| Some(host)).collect();
    let mut killed = hosts[victim].take().expect("the master");
    killed.signal(nix::sys::signal::Signal::SIGKILL);
    killed.wait_exit();
    let survivors: Vec<usize> = (0..3).filter(|i| *i != victim).collect();
    for switch in &fabric.switches {
        switch.wait_master(&survivors, Duration::from_secs(10));
    }
    let rest: Vec<u16> = survivors.iter().map(|i| rest[*i]).collect();
    // The host was learned by switch 1's master: gone with it if that was the victim, kept otherwise.
    let hosts_left = usize::from(masters[0] != victim);
    wait_same_view(&rest, 3, 4, hosts_left, Duration::from_secs(20));
    fabric.host_speaks(1, 1, 0x0b);
    let view = wait_same_view(&rest, 3, 4, hosts_left + 1, Duration::from_secs(20));
    eprintln!("after the kill: {view}");
}

#[test]
fn without_a_cluster_the_same_key_value_calls_work_and_the_keys_survive_a_hot_restart() {
    let dir = temp_dir("kv-local");
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    common::install(&plugins, &[(&common::lib_path(PROBE), "libprobe.so")]);
    let (plugins, pid_file) = (plugins.display().to_string(), dir.join("tatsu.pid"));
    let (socket, pid_arg) = (dir.join("control.sock").display().to_string(), pid_file.display().to_string());
    let mut args = vec!["run", "--plugins-dir", &plugins, "--control-socket", &socket, "--pid-file", &pid_arg];
    args.extend_from_slice(&common::LOOPBACK_PORTS);
    args.extend_from_slice(&["--wsapi-host", "127.0.0.1"]);
    let mut host = Host::start(&args, &[]);
    let (rest, port) = (host.rest_port(), host.switch_port());
    // A single host is master of its switch, once.
    let _switch = ClusterSwitch::connect(6, &[port]);
    host.wait_for(&["cluster-probe", "role 0000000000000006 Master generation 0"]);
    host.wait_for(&["cluster-probe", "send 0000000000000006: ok"]);

    let put = common::http::Client::connect(rest).request("PUT", "/kv/kept", Some("across the restart"));
    assert_eq!(put.status, 200, "{}", put.text());
    wait_seen(rest, serde_json::json!(["kept", "across the restart"]), Duration::from_secs(5));
    let cas =
        common::http::Client::connect(rest).request("POST", "/kv-cas/kept", Some(r#"{"expected":"no","new":"x"}"#));
    assert_eq!(cas.json()["swapped"], false);

    host.signal(nix::sys::signal::Signal::SIGHUP);
    assert!(host.wait_exit().success(), "the old host exits after the handover");
    let successor = Successor(std::fs::read_to_string(&pid_file).expect("pid file"));
    // The successor's store holds the key, and its app's watch saw it arrive.
    assert_eq!(kv_get(rest, "kept"), Ok("across the restart".to_owned()));
    wait_seen(rest, serde_json::json!(["kept", "across the restart"]), Duration::from_secs(5));
    let put = common::http::Client::connect(rest).request("PUT", "/kv/after", Some("1"));
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(kv_get(rest, "after"), Ok("1".to_owned()));
    drop(successor);
}
