//! A tatsu cluster on a real network: a 3-member etcd on loopback (Debian's `etcd-server`), three `tatsu` hosts with
//! the default apps (topology, forwarding, ofctl-rest), and a Mininet `linear,4` network (Open vSwitch, userspace
//! datapath, OpenFlow 1.3) whose every switch names all three hosts as controllers (`scripts/mininet-cluster` runs
//! the network and answers the test's questions about it). A continuous ping runs from the first phase to the last:
//!
//! 1. one host masters every switch, as Open vSwitch itself reports (`ovs-vsctl list controller`, `role`), the
//!    others are slaves;
//! 2. a hot restart (`tatsu restart`) of the master: no role changes at the switches, no other host is elected;
//! 3. one etcd member killed: nothing changes; two: the roles hold, every host says it lost etcd; etcd back:
//!    every host says so;
//! 4. `kill -9` of the master: another host masters every switch (elections work again after the outage), the
//!    ping loses at most a few packets, and a host pair that never talked before pings (new flows);
//! 5. the killed host comes back, and is slave everywhere (mastership does not move back);
//! 6. `kill -STOP` of the master past its lease: a third host takes over; `kill -CONT`: the woken host says its
//!    lease expired and is slave everywhere, a flow it was asked to add while asleep is refused, and the switches'
//!    flows are the same before and after it woke.
//!
//! Needs root (`scripts/mininet-prepare` installs Mininet and starts the system Open vSwitch). Run it alone on the
//! network (`flock /work/net.lock` on a shared machine): Mininet's bridges and namespaces are machine-wide. Skipped,
//! saying so, where etcd is not installed.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;
use serde_json::{json, Value};

use common::etcd::{etcd_installed, Etcd};
use common::{install, lib_path, temp_dir, workspace, Host};

/// The lease TTL of the test's hosts, in seconds.
const TTL: u64 = 3;
/// How long the test waits for anything the cluster must do within a lease time or so (a generous bound: it is a
/// deadline for a wait, not a measurement; `scripts/bench-failover` measures).
const SETTLE: Duration = Duration::from_secs(30);

/// One tatsu host of the cluster, with the default apps.
struct Node {
    name: String,
    host: Host,
    dir: PathBuf,
    switch_port: u16,
    rest_port: u16,
}

impl Node {
    /// Starts host `name`, listening for switches on `switch_port` (0: any free port).
    fn start(etcd: &Etcd, name: &str, switch_port: u16) -> Node {
        let dir = temp_dir(&format!("cluster-mininet-{name}"));
        let plugins = dir.join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugins dir");
        install(
            &plugins,
            &[
                (&lib_path("topology"), "libtopology.so"),
                (&lib_path("forwarding"), "libforwarding.so"),
                (&lib_path("ofctl_rest"), "libofctl_rest.so"),
            ],
        );
        let (plugins, socket, pid) = (
            plugins.display().to_string(),
            dir.join("control.sock").display().to_string(),
            dir.join("pid").display().to_string(),
        );
        let (ttl, port, endpoints) = (TTL.to_string(), switch_port.to_string(), etcd.endpoints());
        let mut args = vec!["run", "--strict", "--plugins-dir", &plugins, "--control-socket", &socket];
        args.extend(["--pid-file", &pid, "--cluster-etcd", &endpoints, "--cluster-name", "mininet"]);
        args.extend(["--node-id", name, "--cluster-lease-ttl", &ttl, "--ofp-tcp-listen-port", &port]);
        args.extend(["--ofp-listen-host", "127.0.0.1", "--wsapi-port", "0"]);
        let host = Host::start(&args, &[("RUST_LOG", "info,tatsu::cluster=debug")]);
        host.wait_for(&["running 3 app(s)"]);
        let (switch_port, rest_port) = (host.switch_port(), host.rest_port());
        Node { name: name.to_owned(), host, dir, switch_port, rest_port }
    }

    /// The pid of the process serving now (a hot restart's successor has another one than the one started).
    fn pid(&self) -> nix::unistd::Pid {
        let text = std::fs::read_to_string(self.dir.join("pid")).expect("the pid file");
        nix::unistd::Pid::from_raw(text.trim().parse().expect("a pid"))
    }

    fn signal(&self, signal: Signal) {
        nix::sys::signal::kill(self.pid(), signal).expect("signal delivered");
    }

    /// Waits for a log line with every one of `parts` after the first `skip` lines.
    fn wait_for_after(&self, skip: usize, parts: &[&str]) {
        let deadline = Instant::now() + SETTLE;
        while !self.host.log().iter().skip(skip).any(|line| parts.iter().all(|part| line.contains(part))) {
            assert!(Instant::now() < deadline, "{}: no {parts:?} after line {skip}:\n{}", self.name, self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        self.host.log().join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // The process started first is killed by `Host`; a successor of a hot restart is not its child.
        if let Ok(text) = std::fs::read_to_string(self.dir.join("pid")) {
            if let Ok(pid) = text.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// The Mininet network, run by `scripts/mininet-cluster`.
struct Network {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<String>,
}

impl Network {
    fn start(topo: &str, ports: &[u16]) -> Network {
        let controllers: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let mut child = Command::new(workspace().join("scripts/mininet-cluster"))
            .args(["--topo", topo, "--protocols", "OpenFlow13", "--controllers", &controllers.join(",")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("scripts/mininet-cluster runs");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line.strip_prefix("@@ ") {
                    Some(answer) => {
                        if sender.send(answer.to_owned()).is_err() {
                            return;
                        }
                    }
                    None => println!("mininet: {line}"),
                }
            }
        });
        let mut network = Network { child, stdin, answers };
        let ready = network.next_answer(Duration::from_secs(120));
        assert_eq!(ready["ready"], json!(true), "the switches did not connect: {ready}");
        network
    }

    fn next_answer(&mut self, within: Duration) -> Value {
        let line = self.answers.recv_timeout(within).expect("an answer from scripts/mininet-cluster");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    fn ask(&mut self, command: Value) -> Value {
        writeln!(self.stdin, "{command}").expect("write to scripts/mininet-cluster");
        let answer = self.next_answer(Duration::from_secs(60));
        assert!(answer.get("error").is_none(), "{command}: {answer}");
        answer
    }

    /// Each switch's role of each host (by index in `ports`) that is connected.
    fn roles(&mut self, ports: &[u16]) -> BTreeMap<String, BTreeMap<usize, String>> {
        let answer = self.ask(json!({ "cmd": "roles" }));
        let mut roles = BTreeMap::new();
        for (switch, controllers) in answer.as_object().expect("an object") {
            let of_switch: &mut BTreeMap<usize, String> = roles.entry(switch.clone()).or_default();
            for (target, state) in controllers.as_object().expect("an object") {
                let port: Option<u16> = target.rsplit(':').next().and_then(|port| port.parse().ok());
                let index = ports.iter().position(|p| Some(*p) == port).expect("a controller of the test");
                if state["connected"] == json!(true) {
                    of_switch.insert(index, state["role"].as_str().unwrap_or("none").to_owned());
                }
            }
        }
        roles
    }

    /// Waits until one host among `among` is master of every switch and the others of `among` are its slaves
    /// (each connected); returns the master.
    fn wait_single_master(&mut self, ports: &[u16], among: &[usize]) -> usize {
        let deadline = Instant::now() + SETTLE;
        loop {
            let roles = self.roles(ports);
            if let Some(master) = single_master(&roles, among) {
                return master;
            }
            assert!(Instant::now() < deadline, "no single master among {among:?}: {roles:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn flows(&mut self, switches: &[String]) -> BTreeMap<String, Value> {
        switches
            .iter()
            .map(|switch| (switch.clone(), self.ask(json!({ "cmd": "flows", "switch": switch }))["flows"].clone()))
            .collect()
    }

    /// Pings `dst` from `src` until a round of three gets every reply (new flows take a moment).
    fn pings_until_clean(&mut self, src: &str, dst: &str) {
        let deadline = Instant::now() + SETTLE;
        loop {
            let answer = self.ask(json!({ "cmd": "ping", "src": src, "dst": dst, "count": 3 }));
            if answer["received"] == json!(3) {
                return;
            }
            assert!(Instant::now() < deadline, "{src} cannot reach {dst}: {answer}");
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({ "cmd": "quit" }));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SIGTERM unwinds the script through `net.stop()`.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        std::thread::sleep(Duration::from_secs(10));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one master of every switch among `among`, if there is one and the rest of `among` are slaves everywhere.
fn single_master(roles: &BTreeMap<String, BTreeMap<usize, String>>, among: &[usize]) -> Option<usize> {
    let mut master = None;
    for of_switch in roles.values() {
        let masters: Vec<usize> =
            among.iter().copied().filter(|i| of_switch.get(i).is_some_and(|r| r == "master")).collect();
        let [this] = masters[..] else { return None };
        if master.is_some_and(|m| m != this) {
            return None;
        }
        master = Some(this);
        if !among.iter().all(|i| *i == this || of_switch.get(i).is_some_and(|r| r == "slave")) {
            return None;
        }
    }
    master
}

/// Asks host `rest_port`'s ofctl-rest to add a flow marked with `cookie` to datapath 1; the HTTP status.
fn add_marked_flow(rest_port: u16, cookie: u64) -> u16 {
    let body = json!({
        "dpid": 1, "cookie": cookie, "priority": 7, "match": { "eth_type": 2048, "ipv4_dst": "10.9.9.9" },
        "actions": [],
    });
    common::http::Client::connect(rest_port).post("/stats/flowentry/add", &body.to_string()).status
}

/// Seconds since the Unix epoch (what `ping -D` stamps its lines with).
fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Prints each unanswered echo of a continuous ping with the phase it was lost in, so that a failure says where.
fn report_losses(counts: &Value, phases: &[(&str, f64)]) {
    for lost in counts["lost"].as_array().into_iter().flatten() {
        let (seq, at) = (lost[0].as_u64().unwrap_or(0), lost[1].as_f64().unwrap_or(0.0));
        match phases.iter().rev().find(|(_, start)| *start <= at) {
            Some((phase, start)) => println!("  lost icmp_seq={seq} in phase {phase}, {:.1} s into it", at - start),
            None => println!("  lost icmp_seq={seq} before the phases were marked"),
        }
    }
}

/// Node `i`, which must be running.
fn node(nodes: &[Option<Node>], i: usize) -> &Node {
    nodes[i].as_ref().expect("a running node")
}

fn prepare() {
    let status = Command::new(workspace().join("scripts/mininet-prepare")).status().expect("mininet-prepare runs");
    assert!(status.success(), "scripts/mininet-prepare failed (the Mininet tests need root)");
}

#[test]
fn a_cluster_keeps_a_mininet_network_through_restarts_crashes_pauses_and_etcd_outages() {
    if !etcd_installed() {
        return;
    }
    prepare();
    let mut etcd = Etcd::start("mininet", 3);
    let mut nodes: Vec<Option<Node>> =
        ["n0", "n1", "n2"].iter().map(|name| Some(Node::start(&etcd, name, 0))).collect();
    let ports: Vec<u16> = (0..3).map(|i| node(&nodes, i).switch_port).collect();
    let mut net = Network::start("linear,4", &ports);
    let switches: Vec<String> = (1..=4).map(|i| format!("s{i}")).collect();

    // 1. One master for the whole network, the others slaves, as the switches say.
    let first = net.wait_single_master(&ports, &[0, 1, 2]);
    node(&nodes, first).host.wait_for(&["this host is the preferred master"]);
    net.pings_until_clean("h1", "h3");
    let ping = net.ask(json!({ "cmd": "ping_start", "src": "h1", "dst": "h3", "interval": 0.1 }))["id"].clone();
    let mut phases = vec![("1 pinging", unix_now())];

    phases.push(("2 hot restart", unix_now()));
    // 2. A hot restart of the master: its successor keeps the lease, so nobody is elected and the switches see no
    // role change, for longer than the lease.
    let before = net.roles(&ports);
    let restarted = node(&nodes, first);
    let seen = restarted.host.log().len();
    let socket = restarted.dir.join("control.sock").display().to_string();
    let status = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(["restart", "--control-socket", &socket])
        .status()
        .expect("tatsu restart runs");
    assert!(status.success(), "tatsu restart failed:\n{}", restarted.log());
    restarted.wait_for_after(seen, &["kept lease", "from the previous host"]);
    let until = Instant::now() + Duration::from_secs(2 * TTL);
    while Instant::now() < until {
        assert_eq!(net.roles(&ports), before, "a role changed in a hot restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    for other in (0..3).filter(|i| *i != first) {
        assert!(!node(&nodes, other).host.logged(&[": master (generation"]), "{}", node(&nodes, other).log());
    }

    phases.push(("3 etcd outage", unix_now()));
    // 3. etcd: one member of three lost changes nothing; two lose the quorum: the roles hold (past the lease), and
    // every host says so once; etcd back: every host says so.
    etcd.kill(0);
    std::thread::sleep(Duration::from_secs(TTL));
    assert_eq!(net.roles(&ports), before, "a role changed with one etcd member gone");
    assert!(nodes.iter().flatten().all(|n| !n.host.logged(&["lost etcd"])));
    etcd.kill(1);
    for n in nodes.iter().flatten() {
        n.wait_for_after(0, &["lost etcd", "keeping the current roles"]);
    }
    std::thread::sleep(Duration::from_secs(2 * TTL));
    assert_eq!(net.roles(&ports), before, "a role changed without an etcd quorum");
    etcd.restart(0);
    etcd.restart(1);
    etcd.wait_healthy();
    for n in nodes.iter().flatten() {
        n.wait_for_after(0, &["etcd is reachable again; elections resume"]);
    }

    phases.push(("4 kill -9", unix_now()));
    // 4. kill -9 of the master: once its lease expires, one survivor masters the whole network; flows stay in the
    // switches, so the ping goes on; a new pair of hosts gets its flows from the new master.
    let killed = nodes[first].take().expect("the master");
    killed.signal(Signal::SIGKILL);
    let killed_at = Instant::now();
    let survivors: Vec<usize> = (0..3).filter(|i| *i != first).collect();
    let second = net.wait_single_master(&ports, &survivors);
    println!("kill -9: {} masters the network {:?} after the kill (lease {TTL} s)", second, killed_at.elapsed());
    net.pings_until_clean("h2", "h4");
    let counts = net.ask(json!({ "cmd": "ping_stop", "id": ping }));
    let (sent, received) = (counts["sent"].as_u64().unwrap_or(0), counts["received"].as_u64().unwrap_or(0));
    println!("continuous ping h1 -> h3 through phases 1-4: {received} of {sent} answered");
    report_losses(&counts, &phases);
    assert!(sent > 100 && sent - received <= 5, "the ping lost too much: {counts}");
    let ping = net.ask(json!({ "cmd": "ping_start", "src": "h1", "dst": "h3", "interval": 0.1 }))["id"].clone();

    phases.push(("5 killed host back", unix_now()));
    // 5. The killed host comes back (its node id is free again: its lease expired): slave everywhere.
    drop(killed);
    // It listens on its old port: the switches connect to it again by themselves.
    nodes[first] = Some(Node::start(&etcd, &format!("n{first}"), ports[first]));
    assert_eq!(net.wait_single_master(&ports, &[0, 1, 2]), second, "mastership moved back");

    phases.push(("6 kill -STOP", unix_now()));
    // 6. kill -STOP of the master past its lease: the third host takes the network. A flow asked of the paused host
    // waits in its socket; then kill -CONT.
    let paused = node(&nodes, second);
    let seen = paused.host.log().len();
    paused.signal(Signal::SIGSTOP);
    let others: Vec<usize> = (0..3).filter(|i| *i != second).collect();
    let third = net.wait_single_master(&ports, &others);
    let settled = loop {
        let flows = net.flows(&switches);
        std::thread::sleep(Duration::from_secs(1));
        if net.flows(&switches) == flows {
            break flows;
        }
    };
    let rest_port = paused.rest_port;
    let asked = std::thread::spawn(move || add_marked_flow(rest_port, 0x57a1e));
    std::thread::sleep(Duration::from_millis(300));
    paused.signal(Signal::SIGCONT);
    paused.wait_for_after(seen, &["expired in etcd", "stepping down for every datapath"]);
    assert_eq!(net.wait_single_master(&ports, &[0, 1, 2]), third, "the woken host took a switch back");
    let status = asked.join().expect("the REST request");
    assert_ne!(status, 200, "the woken host's flow was accepted:\n{}", paused.log());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(net.flows(&switches), settled, "the switches' flows changed after the stale master woke");
    assert!(!settled.values().any(|flows| flows.to_string().contains("0x57a1e")));
    // The new master can change the switch (the same request is accepted).
    assert_eq!(add_marked_flow(node(&nodes, third).rest_port, 0x5a1e), 200);

    let counts = net.ask(json!({ "cmd": "ping_stop", "id": ping }));
    let (sent, received) = (counts["sent"].as_u64().unwrap_or(0), counts["received"].as_u64().unwrap_or(0));
    println!("continuous ping h1 -> h3 through phases 5-6: {received} of {sent} answered");
    report_losses(&counts, &phases);
    assert!(sent > 50 && sent - received <= 5, "the ping lost too much: {counts}");
    for n in nodes.iter().flatten() {
        assert!(!n.host.logged(&["panicked"]), "{}", n.log());
    }
}
