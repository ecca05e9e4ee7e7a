//! The default apps (topology, forwarding, ofctl-rest) against a real Open vSwitch (userspace datapath, see
//! `scripts/ovs-testbed`) with the bridge on OpenFlow 1.0, 1.2, 1.3, 1.4 and 1.5 in turn: the handshake, hosts
//! pinging each other through forwarding, a flow added through ofctl-rest (with a key Ryu ignores), dumped through
//! REST and checked against `ovs-ofctl -O OpenFlowXY dump-flows`, deleted; port statistics and descriptions in
//! each version's JSON, checked against `ovs-ofctl dump-ports` / `dump-ports-desc`; a group (1.2 on) and a meter
//! (1.3 on) added, seen by `ovs-ofctl dump-groups` / `dump-meters` and in REST, deleted. Needs root and Open
//! vSwitch.

mod common;

use std::time::{Duration, Instant};

use common::http::Client;
use common::{install, lib_path, temp_dir, testbed, Host};
use serde_json::{json, Value};

const OF_PORT: &str = "16673";

/// The bridge's protocol name and the wire version the host logs for it.
const VERSIONS: [(&str, &str); 5] = [
    ("OpenFlow10", "0x01"),
    ("OpenFlow12", "0x03"),
    ("OpenFlow13", "0x04"),
    ("OpenFlow14", "0x05"),
    ("OpenFlow15", "0x06"),
];

fn ofctl(args: &[&str]) -> String {
    let mut all = vec!["ofctl"];
    all.extend_from_slice(args);
    testbed::ok(&all)
}

/// Retries `check` until it returns `Ok` or 15 s pass.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => panic!("{what}: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// The number after `key=` in an `ovs-ofctl` line.
fn counter(line: &str, key: &str) -> Option<u64> {
    let start = line.find(key)? + key.len();
    line[start..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Runs ping-all until every pair answers or `within` elapses.
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
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The flow entry this test adds, in the form Ryu's module for `protocols` reads, with a `command` key Ryu's
/// ofctl ignores (and, from 1.4 on, a `len` in the action).
fn flow_entry(protocols: &str) -> Value {
    let mut entry = json!({"dpid": 1, "priority": 4321, "cookie": 77, "command": "add", "hello": "ignored",
                           "match": {"in_port": 1, "dl_dst": "00:00:00:00:99:99"}});
    if protocols >= "OpenFlow14" {
        entry["instructions"] =
            json!([{"type": "APPLY_ACTIONS", "actions": [{"type": "OUTPUT", "port": 2, "len": 16}]}]);
    } else {
        entry["actions"] = json!([{"type": "OUTPUT", "port": 2}]);
    }
    entry
}

/// Checks our flow as REST lists it, in the JSON of Ryu's module for `protocols`.
fn check_listed_flow(protocols: &str, flow: &Value) {
    match protocols {
        "OpenFlow10" | "OpenFlow12" | "OpenFlow13" => {
            assert_eq!(flow["match"], json!({"in_port": 1, "dl_dst": "00:00:00:00:99:99"}), "{protocols}: {flow}");
            assert_eq!(flow["actions"], json!(["OUTPUT:2"]), "{protocols}: {flow}");
            assert_eq!(flow["cookie"], 77, "{protocols}: {flow}");
            assert_eq!(flow.get("flags").is_some(), protocols == "OpenFlow13", "1.0 and 1.2 show no flags: {flow}");
        }
        "OpenFlow14" => {
            assert_eq!(flow["match"], json!({"in_port": 1, "eth_dst": "00:00:00:00:99:99"}), "{flow}");
            assert_eq!(flow["cookie"], 77, "{flow}");
            assert_eq!(flow["importance"], 0, "{flow}");
            let instruction = &flow["instructions"][0];
            assert_eq!(instruction["type"], "APPLY_ACTIONS", "{flow}");
            assert_eq!(instruction["actions"][0]["type"], "OUTPUT", "{flow}");
            assert_eq!(instruction["actions"][0]["port"], 2, "{flow}");
        }
        _ => {
            // 1.5 flow descriptions: instructions and the OXS statistics.
            assert_eq!(flow["match"], json!({"in_port": 1, "eth_dst": "00:00:00:00:99:99"}), "{flow}");
            assert_eq!(flow["cookie"], 77, "{flow}");
            assert_eq!(flow["instructions"][0]["actions"][0]["port"], 2, "{flow}");
            assert!(flow["stats"]["duration"]["duration_sec"].is_u64(), "{flow}");
            assert_eq!(flow["stats"]["packet_count"], 0, "{flow}");
        }
    }
}

/// Checks port 1's statistics against `ovs-ofctl dump-ports`, and the version's shape.
fn check_port_stats(protocols: &str, port: u16) {
    eventually(&format!("{protocols}: port counters agree with ovs-ofctl"), || {
        let ours = Client::connect(port).get("/stats/port/1/1").json();
        let dump = ofctl(&["dump-ports", "tatsu0", "1"]);
        let rx = dump.lines().find(|l| l.contains("rx pkts=")).ok_or(dump.clone())?;
        let tx = dump.lines().find(|l| l.contains("tx pkts=")).ok_or(dump.clone())?;
        let theirs = (counter(rx, "pkts="), counter(rx, "bytes="), counter(tx, "pkts="), counter(tx, "bytes="));
        let p = &ours["1"][0];
        let mine = (p["rx_packets"].as_u64(), p["rx_bytes"].as_u64(), p["tx_packets"].as_u64(), p["tx_bytes"].as_u64());
        if theirs == mine && mine.0 > Some(0) {
            Ok(())
        } else {
            Err(format!("ovs {theirs:?} vs ours {mine:?}: {p}"))
        }
    });
    let stats = Client::connect(port).get("/stats/port/1/1").json();
    let entry = &stats["1"][0];
    assert_eq!(entry["port_no"], 1, "{protocols}: {entry}");
    match protocols {
        "OpenFlow10" | "OpenFlow12" => assert!(entry.get("duration_sec").is_none(), "{protocols}: {entry}"),
        "OpenFlow13" => assert!(entry["duration_sec"].is_u64(), "{entry}"),
        _ => {
            assert!(entry["duration_sec"].is_u64(), "{entry}");
            assert_eq!(entry["properties"][0]["type"], "ETHERNET", "{protocols}: {entry}");
            assert!(entry["properties"][0]["rx_crc_err"].is_u64(), "{protocols}: {entry}");
        }
    }
}

/// Checks the port descriptions against `ovs-ofctl dump-ports-desc`, and the version's shape.
fn check_port_desc(protocols: &str, port: u16) {
    let desc = Client::connect(port).get("/stats/portdesc/1").json();
    let ports = desc["1"].as_array().cloned().unwrap_or_default();
    let dump = ofctl(&["dump-ports-desc", "tatsu0"]);
    let theirs = dump.lines().filter(|l| l.starts_with(' ') && l.contains("): addr:")).count();
    assert_eq!(ports.len(), theirs, "{protocols}: {desc}\n{dump}");
    let local = ports.iter().find(|p| p["port_no"] == "LOCAL").unwrap_or_else(|| panic!("{protocols}: {desc}"));
    assert_eq!(local["name"], "tatsu0", "{protocols}: {local}");
    for p in &ports {
        let name = p["name"].as_str().unwrap_or_default();
        let hw_addr = p["hw_addr"].as_str().unwrap_or_default();
        assert!(dump.contains(&format!("({name}): addr:{hw_addr}")), "{protocols}: {p} not in\n{dump}");
        if protocols >= "OpenFlow14" {
            assert_eq!(p["properties"][0]["type"], "ETHERNET", "{protocols}: {p}");
            assert!(p["properties"][0]["curr_speed"].is_u64(), "{protocols}: {p}");
            assert!(p.get("curr").is_none(), "{protocols}: features are in the property: {p}");
        } else {
            assert!(p["curr"].is_u64(), "{protocols}: {p}");
        }
    }
    if protocols == "OpenFlow15" {
        // 1.5 asks for the one port in the path.
        let one = Client::connect(port).get("/stats/portdesc/1/1").json();
        assert_eq!(one["1"].as_array().map(Vec::len), Some(1), "{one}");
        assert_eq!(one["1"][0]["port_no"], 1, "{one}");
    }
}

/// A select group through ofctl-rest (1.5: buckets with ids and a weight property), seen by ovs-ofctl and in
/// `/stats/groupdesc`, then deleted.
fn check_group(protocols: &str, client: &mut Client) {
    let buckets = if protocols == "OpenFlow15" {
        json!([{"bucket_id": 1, "actions": [{"type": "OUTPUT", "port": 2}], "properties": [{"type": "WEIGHT", "weight": 3}]}])
    } else {
        json!([{"weight": 3, "actions": [{"type": "OUTPUT", "port": 2}], "len": 32}])
    };
    let group = json!({"dpid": 1, "type": "SELECT", "group_id": 5, "buckets": buckets});
    let reply = client.post("/stats/groupentry/add", &group.to_string());
    assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
    let dump = ofctl(&["-O", protocols, "dump-groups", "tatsu0"]);
    assert!(
        dump.contains("group_id=5,type=select,") && dump.contains("weight:3") && dump.contains("output:2"),
        "{protocols}: {dump}"
    );
    let desc = client.get("/stats/groupdesc/1").json();
    let entry = desc["1"].as_array().and_then(|l| l.iter().find(|g| g["group_id"] == 5)).cloned().unwrap_or_default();
    assert_eq!(entry["type"], "SELECT", "{protocols}: {desc}");
    match protocols {
        "OpenFlow15" => {
            assert_eq!(entry["buckets"][0]["properties"][0]["type"], "WEIGHT", "{desc}");
            assert_eq!(entry["buckets"][0]["actions"][0]["type"], "OUTPUT", "{desc}");
        }
        "OpenFlow14" => assert_eq!(entry["buckets"][0]["actions"][0]["port"], 2, "{desc}"),
        _ => assert_eq!(entry["buckets"][0]["actions"], json!(["OUTPUT:2"]), "{protocols}: {desc}"),
    }
    let reply = client.post("/stats/groupentry/delete", &json!({"dpid": 1, "group_id": 5}).to_string());
    assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
    assert!(!ofctl(&["-O", protocols, "dump-groups", "tatsu0"]).contains("group_id=5"), "{protocols}");
}

/// A meter through ofctl-rest (with a band `len` Ryu ignores), seen by ovs-ofctl and in the version's meter
/// configuration or description endpoint, then deleted.
fn check_meter(protocols: &str, client: &mut Client) {
    let meter =
        json!({"dpid": 1, "flags": "KBPS", "meter_id": 3, "bands": [{"type": "DROP", "rate": 1000, "len": 16}]});
    let reply = client.post("/stats/meterentry/add", &meter.to_string());
    assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
    let dump = ofctl(&["-O", protocols, "dump-meters", "tatsu0"]);
    assert!(dump.contains("meter=3 kbps") && dump.contains("type=drop rate=1000"), "{protocols}: {dump}");
    let path = if protocols == "OpenFlow15" { "/stats/meterdesc/1/3" } else { "/stats/meterconfig/1/3" };
    let config = client.get(path).json();
    assert_eq!(config["1"][0]["bands"][0]["rate"], 1000, "{protocols}: {config}");
    assert_eq!(config["1"][0]["bands"][0]["type"], "DROP", "{protocols}: {config}");
    assert_eq!(config["1"][0]["flags"], json!(["KBPS"]), "{protocols}: {config}");
    let reply = client.post("/stats/meterentry/delete", &json!({"dpid": 1, "meter_id": 3}).to_string());
    assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
}

#[test]
fn the_default_apps_and_ofctl_rest_on_every_openflow_version_of_a_real_open_vswitch() {
    testbed::prepare();
    let plugins = temp_dir("rest-ovs-versions");
    install(
        &plugins,
        &[
            (&lib_path("topology"), "libtopology.so"),
            (&lib_path("forwarding"), "libforwarding.so"),
            (&lib_path("ofctl_rest"), "libofctl_rest.so"),
        ],
    );
    let plugins = plugins.display().to_string();
    let host = Host::start(
        &[
            "run",
            "--plugins-dir",
            &plugins,
            "--ofp-tcp-listen-port",
            OF_PORT,
            "--ofp-listen-host",
            "127.0.0.1",
            "--wsapi-port",
            "0",
        ],
        &[],
    );
    let port = host.rest_port();
    let _testbed = testbed::Testbed;
    testbed::ok(&["up", "--protocols", "OpenFlow10", "--controller", &format!("tcp:127.0.0.1:{OF_PORT}")]);
    for (protocols, wire) in VERSIONS {
        if protocols != "OpenFlow10" {
            testbed::ok(&["set-protocols", protocols]);
            testbed::ok(&["ofctl", "del-flows", "tatsu0"]);
            testbed::ok(&["reconnect"]);
        }
        // The handshake on this version, and the datapath in ofctl-rest.
        host.wait_for(&[&format!("speaks OpenFlow {wire}")]);
        eventually(&format!("{protocols}: the switch answers /stats/desc"), || {
            let reply = Client::connect(port).get("/stats/desc/1");
            match reply.status {
                200 if reply.json()["1"]["hw_desc"] == "Open vSwitch" => Ok(()),
                _ => Err(reply.text()),
            }
        });

        // Forwarding by the default apps.
        let pings = ping_all_within(Duration::from_secs(30)).unwrap_or_else(|out| panic!("{protocols}: pings:\n{out}"));
        assert!(pings.contains(", 0 failed"), "{protocols}: {pings}");

        // A flow through ofctl-rest, seen by ovs-ofctl.
        let mut client = Client::connect(port);
        let reply = client.post("/stats/flowentry/add", &flow_entry(protocols).to_string());
        assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
        let dump = ofctl(&["-O", protocols, "dump-flows", "tatsu0"]);
        let line = dump
            .lines()
            .find(|l| l.contains("priority=4321,"))
            .unwrap_or_else(|| panic!("{protocols}: no flow of priority 4321:\n{dump}"));
        assert!(line.contains("cookie=0x4d,"), "{protocols}: {line}");
        assert!(
            line.contains("priority=4321,in_port=1,dl_dst=00:00:00:00:99:99 actions=output:2"),
            "{protocols}: {line}"
        );
        // 1.5: Open vSwitch lists flows as flow descriptions and refuses OFPMP_FLOW_STATS (reported as its error).
        let list_path = if protocols == "OpenFlow15" { "/stats/flowdesc/1" } else { "/stats/flow/1" };
        if protocols == "OpenFlow15" {
            let refused = client.get("/stats/flow/1");
            assert_eq!(refused.status, 502, "{}", refused.text());
            assert_eq!(refused.json()["type_name"], "BAD_REQUEST", "{}", refused.text());
        }
        let listed = client.post(list_path, r#"{"priority": 4321}"#).json();
        let entries = listed["1"].as_array().cloned().unwrap_or_default();
        assert_eq!(entries.len(), 1, "{protocols}: {listed}");
        check_listed_flow(protocols, &entries[0]);
        // Every flow, against ovs-ofctl's dump (the forwarding app's flows are there too).
        eventually(&format!("{protocols}: /stats/flow lists what ovs-ofctl dumps"), || {
            let all = Client::connect(port).get(list_path).json();
            let ours = all["1"].as_array().map_or(0, Vec::len);
            let dump = ofctl(&["-O", protocols, "dump-flows", "tatsu0"]);
            let theirs = dump.lines().filter(|l| l.contains("priority=")).count();
            if ours == theirs && ours > 1 {
                Ok(())
            } else {
                Err(format!("{ours} flows listed, {theirs} dumped:\n{all}\n{dump}"))
            }
        });
        let reply = client.post(
            "/stats/flowentry/delete_strict",
            &json!({"dpid": 1, "priority": 4321, "match": {"in_port": 1, "dl_dst": "00:00:00:00:99:99"}}).to_string(),
        );
        assert_eq!(reply.status, 200, "{protocols}: {}", reply.text());
        let dump = ofctl(&["-O", protocols, "dump-flows", "tatsu0"]);
        assert!(!dump.contains("priority=4321"), "{protocols}: deleted:\n{dump}");

        // A wrong value: 400, and nothing reaches the switch.
        let mut bad = flow_entry(protocols);
        bad["priority"] = json!(4322);
        bad["match"]["in_port"] = json!("NOWHERE");
        let reply = client.post("/stats/flowentry/add", &bad.to_string());
        assert_eq!(reply.status, 400, "{protocols}: {}", reply.text());
        assert!(!ofctl(&["-O", protocols, "dump-flows", "tatsu0"]).contains("priority=4322"));

        check_port_stats(protocols, port);
        check_port_desc(protocols, port);
        let aggregate = client.get("/stats/aggregateflow/1").json();
        assert_eq!(aggregate["1"].as_array().map(Vec::len), Some(1), "{protocols}: {aggregate}");
        let table = client.get("/stats/table/1");
        assert_eq!(table.status, 200, "{protocols}: {}", table.text());
        if protocols != "OpenFlow10" {
            assert_eq!(client.get("/stats/role/1").json()["1"][0]["role"], "EQUAL", "{protocols}");
            check_group(protocols, &mut client);
        }
        if protocols >= "OpenFlow13" {
            check_meter(protocols, &mut client);
        }
    }
    host.stop();
}
