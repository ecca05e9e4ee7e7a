//! The cluster against a real etcd (Debian's `etcd-server`): members started here on free loopback ports, each
//! with its own data directory, stopped at the end. Skipped, saying so, where no `etcd` binary is installed.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::election::{Mastership, Switchboard};
use super::etcd::{Compare, Etcd, Op, WatchEvent};
use super::kv::KvService;
use super::node::{JoinError, Node};
use super::role::Role;
use super::{on_coroutine, Cluster, ClusterSettings, Keys};

/// A running etcd cluster of one or more members.
pub struct TestEtcd {
    members: Vec<Option<Child>>,
    /// The client URLs.
    pub urls: Vec<String>,
    dirs: Vec<PathBuf>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn etcd_installed() -> bool {
    let found = Command::new("etcd").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !found {
        eprintln!("etcd is not installed (apt-get install etcd-server): skipping");
    }
    found
}

impl TestEtcd {
    /// Starts `n` members and waits until the cluster answers.
    pub fn start(n: usize) -> TestEtcd {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let token = format!("tatsu-test-{}-{}", std::process::id(), ports[0].0);
        let mut etcd = TestEtcd { members: Vec::new(), urls: Vec::new(), dirs: Vec::new() };
        for (i, (client, peer)) in ports.iter().enumerate() {
            let dir = std::env::temp_dir().join(format!("{token}-m{i}"));
            let _ = std::fs::remove_dir_all(&dir);
            let url = format!("http://127.0.0.1:{client}");
            let child = Command::new("etcd")
                .args(["--name", &format!("m{i}"), "--data-dir"])
                .arg(&dir)
                .args(["--listen-client-urls", &url, "--advertise-client-urls", &url])
                .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
                .args(["--initial-advertise-peer-urls", &format!("http://127.0.0.1:{peer}")])
                .args(["--initial-cluster", &initial, "--initial-cluster-token", &token])
                .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("etcd starts");
            etcd.members.push(Some(child));
            etcd.urls.push(url);
            etcd.dirs.push(dir);
        }
        let client = etcd.client();
        let ready = on_coroutine(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if client.put(b"/ready", b"", 0).is_ok() {
                    return true;
                }
                crate::green::sleep(Duration::from_millis(100));
            }
            false
        });
        assert_eq!(ready, Ok(true), "etcd did not come up at {:?}", etcd.urls);
        etcd
    }

    /// A client of every member.
    pub fn client(&self) -> Arc<Etcd> {
        Arc::new(Etcd::new(&self.urls, Duration::from_secs(2)).expect("valid endpoints"))
    }

    /// Kills member `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn run<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    on_coroutine(body).expect("the coroutine answers")
}

#[test]
fn keys_transactions_and_watches() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(1);
    let client = etcd.client();
    run(move || {
        assert_eq!(client.get(b"/t/a").expect("get"), None);
        let revision = client.put(b"/t/a", b"one", 0).expect("put");
        let kv = client.get(b"/t/a").expect("get").expect("present");
        assert_eq!((kv.value.as_slice(), kv.create_revision, kv.mod_revision), (&b"one"[..], revision, revision));
        client.put(b"/t/b", &[0, 255, 10], 0).expect("binary value");
        let (all, _) = client.list_prefix(b"/t/", false).expect("prefix");
        assert_eq!(all.iter().map(|kv| kv.key.as_slice()).collect::<Vec<_>>(), [&b"/t/a"[..], b"/t/b"]);
        assert_eq!(all[1].value, [0, 255, 10]);

        let create = |value: &[u8]| {
            let put = Op::Put { key: b"/t/c".to_vec(), value: value.to_vec(), lease: 0 };
            client.txn(&[Compare::CreateRevision(b"/t/c".to_vec(), 0)], &[put], &[Op::Get(b"/t/c".to_vec())])
        };
        let first = create(b"first").expect("txn");
        assert!(first.succeeded);
        let second = create(b"second").expect("txn");
        assert!(!second.succeeded);
        assert_eq!(second.got[0][0].value, b"first");
        assert_eq!(second.got[0][0].create_revision, first.revision);

        let mut watch = client.watch_prefix(b"/t/a", 0).expect("watch");
        assert_eq!(watch.next(Instant::now() + Duration::from_millis(200)), Ok(None));
        client.put(b"/t/a", b"two", 0).expect("put");
        let events = watch.next(Instant::now() + Duration::from_secs(5)).expect("watch").expect("an event");
        assert!(matches!(&events[0], WatchEvent::Put(kv) if kv.value == b"two"), "{events:?}");
        assert_eq!(client.delete(b"/t/a").expect("delete"), 1);
        let events = watch.next(Instant::now() + Duration::from_secs(5)).expect("watch").expect("an event");
        assert!(matches!(&events[0], WatchEvent::Delete(kv) if kv.key == b"/t/a"), "{events:?}");
        assert_eq!(client.delete(b"/t/a").expect("delete"), 0);
    });
}

#[test]
fn leases_keys_go_with_them() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(1);
    let client = etcd.client();
    run(move || {
        let lease = client.grant(5).expect("grant");
        assert_eq!(lease.ttl, 5);
        client.put(b"/l/k", b"v", lease.id).expect("put with lease");
        assert_eq!(client.get(b"/l/k").expect("get").map(|kv| kv.lease), Some(lease.id));
        assert_eq!(client.keep_alive(lease.id), Ok(5));
        assert!(client.time_to_live(lease.id).expect("ttl") > 0);
        client.revoke(lease.id).expect("revoke");
        assert_eq!(client.get(b"/l/k").expect("get"), None);
        assert!(client.keep_alive(lease.id).expect_err("gone").is_not_found());
        assert!(client.time_to_live(lease.id).expect_err("gone").is_not_found());
        assert!(client.revoke(lease.id).expect_err("gone").is_not_found());
    });
}

#[test]
fn endpoints_fail_over_and_unreachable_is_said() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(1);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let urls = vec![dead.clone(), etcd.urls[0].clone()];
    run(move || {
        let client = Etcd::new(&urls, Duration::from_secs(2)).expect("valid");
        client.put(b"/f", b"x", 0).expect("the second endpoint answers");
        let nobody = Etcd::new(&[dead], Duration::from_secs(1)).expect("valid");
        let error = nobody.get(b"/f").expect_err("nobody answers");
        assert!(matches!(error, super::etcd::EtcdError::Unavailable(_)), "{error}");
        assert!(error.to_string().contains("127.0.0.1"), "{error}");
    });
}

#[test]
fn the_app_store_keeps_each_app_under_its_prefix() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(1);
    let cluster = Cluster::start(&settings(&etcd, "kv", "n1"), &runners()).map_err(|e| e.to_string()).expect("joins");
    let service = KvService::cluster(&cluster);
    let (one, two) = (service.store("one"), service.store("two"));
    run(move || {
        assert!(one.compare_and_swap("k", None, b"a", false).expect("cas"));
        assert!(!one.compare_and_swap("k", None, b"b", false).expect("cas"));
        assert!(!one.compare_and_swap("k", Some(b"x"), b"b", false).expect("cas"));
        assert!(one.compare_and_swap("k", Some(b"a"), b"b", false).expect("cas"));
        assert_eq!(one.get("k").expect("get").map(|v| v.value.to_vec()), Some(b"b".to_vec()));
        assert_eq!(two.get("k").expect("get"), None);
        two.put("k", b"other", false).expect("put");
        let listed = one.list("").expect("list");
        assert_eq!(listed.entries.len(), 1);
        assert_eq!((listed.entries[0].key.as_str(), listed.entries[0].value.as_slice()), ("k", &b"b"[..]));
        let mut watch = one.watch("", listed.revision).expect("watch");
        one.put("k", b"c", false).expect("put");
        two.put("k", b"not one's", false).expect("put");
        one.put("eph", b"goes with the lease", true).expect("put");
        assert!(one.delete("k").expect("delete"));
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let changes = watch.next(Duration::from_secs(5)).expect("watch");
            assert!(!changes.is_empty(), "no change within 5 s: {seen:?}");
            seen.extend(changes.into_iter().map(|c| (c.key.to_string(), c.value.into_option().map(|v| v.to_vec()))));
        }
        let expected = [("k", Some(&b"c"[..])), ("eph", Some(&b"goes with the lease"[..])), ("k", None)];
        let expected: Vec<(String, Option<Vec<u8>>)> =
            expected.iter().map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec))).collect();
        assert_eq!(seen, expected);
    });
    // A planned stop revokes the lease: the ephemeral key goes with it.
    cluster.leave();
    let second = Cluster::start(&settings(&etcd, "kv", "n2"), &runners()).map_err(|e| e.to_string()).expect("joins");
    let after = KvService::cluster(&second);
    let store = after.store("one");
    run(move || assert_eq!(store.get("eph").expect("get"), None));
}

fn runners() -> Arc<crate::green::Runners> {
    crate::green::Runners::new(128 * 1024)
}

fn settings(etcd: &TestEtcd, name: &str, node: &str) -> ClusterSettings {
    ClusterSettings {
        etcd: etcd.urls.clone(),
        name: name.to_owned(),
        node_id: node.to_owned(),
        lease_ttl: 2,
        etcd_timeout: Duration::from_secs(2),
    }
}

#[test]
fn a_second_host_with_the_same_node_id_is_refused() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(1);
    let (client, keys) = (etcd.client(), Keys { cluster: "dup".to_owned(), node_id: "n1".to_owned() });
    run(move || {
        let first = Node::join(Arc::clone(&client), keys.clone(), 5, None).map_err(|e| e.to_string()).expect("joins");
        let second = Node::join(Arc::clone(&client), keys.clone(), 5, None);
        assert!(matches!(&second, Err(JoinError::DuplicateNode(why)) if why.contains("n1")), "{:?}", second.err());
        // The successor of a hot restart keeps the lease, and is not refused.
        let successor = Node::join(Arc::clone(&client), keys.clone(), 5, first.lease()).map_err(|e| e.to_string());
        assert_eq!(successor.expect("keeps the lease").lease(), first.lease());
        first.stop(true);
        Node::join(client, keys, 5, None).map_err(|e| e.to_string()).expect("the id is free again");
    });
}

/// A switch side that answers every ROLE_REQUEST and records the roles it was asked for.
#[derive(Default)]
struct FakeSwitches {
    asked: Mutex<Vec<(u64, Vec<u8>)>>,
}

impl Switchboard for FakeSwitches {
    fn version(&self, _dpid: u64, _connection: u64) -> Option<u8> {
        Some(4)
    }

    fn request(&self, dpid: u64, _connection: u64, message: &[u8], _timeout: Duration) -> Result<Vec<u8>, String> {
        self.asked.lock().expect("lock").push((dpid, message.to_vec()));
        let mut reply = message.to_vec();
        reply[1] = 25;
        Ok(reply)
    }

    fn drop_connection(&self, _dpid: u64, _connection: u64, _reason: &str) {}

    fn role_changed(&self, _dpid: u64, _connection: u64, _role: Role, _generation: u64) {}
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_master_per_datapath_and_a_takeover_with_a_higher_generation() {
    if !etcd_installed() {
        return;
    }
    let etcd = TestEtcd::start(3);
    let hosts: Vec<(Cluster, Arc<FakeSwitches>)> = ["a", "b", "c"]
        .iter()
        .map(|node| {
            let cluster =
                Cluster::start(&settings(&etcd, "elect", node), &runners()).map_err(|e| e.to_string()).expect("joins");
            let switches = Arc::new(FakeSwitches::default());
            let board: Arc<dyn Switchboard> = Arc::clone(&switches) as Arc<dyn Switchboard>;
            cluster.mastership.attach(Arc::downgrade(&board));
            (cluster, switches)
        })
        .collect();
    let masterships: Vec<Arc<Mastership>> = hosts.iter().map(|(c, _)| Arc::clone(&c.mastership)).collect();
    for (i, mastership) in masterships.iter().enumerate() {
        mastership.datapath_joined(1, 10 + i as u64);
        mastership.datapath_joined(2, 10 + i as u64);
    }
    // The one master of `dpid` among the hosts but `except`, once every one of them has a role.
    let master_of = |dpid: u64, except: Option<usize>| {
        let roles: Vec<(usize, Option<Role>)> = masterships
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != except)
            .map(|(i, m)| (i, m.role_for(dpid)))
            .collect();
        let masters: Vec<(usize, u64)> = roles
            .iter()
            .filter_map(|(i, role)| match role {
                Some(Role::Master { generation }) => Some((*i, *generation)),
                _ => None,
            })
            .collect();
        (roles.iter().all(|(_, role)| role.is_some()) && masters.len() == 1).then(|| masters[0])
    };
    wait_for("one master of each datapath", || master_of(1, None).is_some() && master_of(2, None).is_some());
    let (first, generation) = master_of(1, None).expect("a master");
    // Mastership affinity: the preferred master has both datapaths.
    assert_eq!(master_of(2, None).map(|(host, _)| host), Some(first), "one host masters the whole network");
    // A slave refuses what would change the switch (a flow-mod), not reads (a multipart request); the master
    // refuses nothing.
    let flow_mod = [4, 14, 0, 8, 0, 0, 0, 0];
    let slave = (first + 1) % 3;
    let refused = masterships[slave].refusal(1, 4, &flow_mod).expect("refused on a slave");
    assert!(refused.contains("slave"), "{refused}");
    assert_eq!(masterships[slave].refusal(1, 4, &[4, 18, 0, 8, 0, 0, 0, 0]), None);
    assert_eq!(masterships[first].refusal(1, 4, &flow_mod), None);

    // The master vanishes (its keep-alive ends without revoking the lease, as in a crash): another host takes over
    // once the lease expires in etcd, with a higher generation id, and sends it to the switch.
    hosts[first].0.node.stop(false);
    let started = Instant::now();
    wait_for("a new master", || master_of(1, Some(first)).is_some());
    let (second, newer) = master_of(1, Some(first)).expect("a master");
    assert!(newer > generation, "generation {newer} after {generation}");
    wait_for("a new master of datapath 2", || master_of(2, Some(first)).is_some());
    assert_eq!(master_of(2, Some(first)).map(|(host, _)| host), Some(second), "the network moves whole");
    eprintln!("takeover {:?} after the keep-alive stopped (TTL 2 s)", started.elapsed());
    let expected = super::role::request(4, Role::Master { generation: newer }, 0);
    let asked = hosts[second].1.asked.lock().expect("lock").clone();
    assert!(asked.contains(&(1, expected)), "{asked:?}");

    // A planned stop revokes the lease: the next takeover is at once.
    let third = (0..3).find(|i| *i != first && *i != second).expect("a third host");
    hosts[second].0.leave();
    let started = Instant::now();
    wait_for("the third host as master", || masterships[third].role_for(1).is_some_and(|r| r != Role::Slave));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}
