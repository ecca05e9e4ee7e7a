//! Several real `tatsu` hosts as one controller, against a real etcd (Debian's `etcd-server`, members started here
//! on free loopback ports with their own data directories), with scripted OpenFlow 1.3 switches that connect to
//! every host and keep roles as the specification says (one master, generation ids, OFPRRFC_STALE). Skipped,
//! saying so, where no `etcd` binary is installed.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::etcd::{etcd_installed, free_port, Etcd};
use common::fake_switch::{FakeSwitch, V1_3};
use common::{temp_dir, Host};

/// Starts a cluster host `node` with no apps; returns it and its switch port.
fn cluster_host(test: &str, etcd: &str, node: &str, extra: &[&str]) -> (Host, u16) {
    let dir = temp_dir(&format!("{test}-{node}"));
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
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
            std::thread::spawn(move || serve(switch, index, &roles));
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

/// Serves one connection of a switch: echo replies, and roles as OpenFlow 1.3 §6.3.6 says.
fn serve(mut switch: FakeSwitch, index: usize, roles: &Mutex<Roles>) {
    while let Some(frame) = switch.read() {
        match frame.msg_type {
            2 => switch.echo_reply(&frame),
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
            _ => {}
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
