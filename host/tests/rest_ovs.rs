//! `ofctl-rest` against a real Open vSwitch (see `scripts/ovs-testbed`): flows, groups and meters added, modified
//! and deleted through the REST API and seen with `ovs-ofctl dump-flows / dump-groups / dump-meters`; flow, port and
//! table statistics compared with what `ovs-ofctl` reports; OpenFlow 1.3 then 1.0. Needs root and Open vSwitch.

mod common;

use std::time::{Duration, Instant};

use common::http::Client;
use common::{install, lib_path, temp_dir, testbed, Host};
use serde_json::{json, Value};

const OF_PORT: &str = "16663";

fn ofctl(args: &[&str]) -> String {
    let mut all = vec!["ofctl"];
    all.extend_from_slice(args);
    testbed::ok(&all)
}

/// Retries `check` until it returns `Ok` or 10 s pass.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => panic!("{what}: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn ok(client: &mut Client, path: &str, body: Value) {
    let reply = client.post(path, &body.to_string());
    assert_eq!(reply.status, 200, "POST {path} {body}: {}", reply.text());
}

/// The number after `key=` in an `ovs-ofctl` line.
fn counter(line: &str, key: &str) -> Option<u64> {
    let start = line.find(key)? + key.len();
    line[start..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn ofctl_rest_drives_and_reads_a_real_open_vswitch() {
    testbed::prepare();
    let plugins = temp_dir("rest-ovs");
    install(&plugins, &[(&lib_path("ofctl_rest"), "libofctl_rest.so")]);
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
    testbed::ok(&[
        "up",
        "--protocols",
        "OpenFlow13",
        "--controller",
        &format!("tcp:127.0.0.1:{OF_PORT}"),
        "--hosts",
        "2",
    ]);
    let mut client = Client::connect(port);
    eventually("the switch joins", || {
        let switches = Client::connect(port).get("/stats/switches").json();
        if switches == json!([1]) {
            Ok(())
        } else {
            Err(switches.to_string())
        }
    });

    // --- Flows, OpenFlow 1.3.
    let flow = json!({"dpid": 1, "priority": 100, "cookie": 7, "match": {"in_port": 1, "dl_dst": "00:00:00:00:00:02"},
                      "actions": [{"type": "OUTPUT", "port": 2}]});
    ok(&mut client, "/stats/flowentry/add", flow.clone());
    let flows = ofctl(&["dump-flows", "tatsu0"]);
    assert!(
        flows.contains("cookie=0x7,")
            && flows.contains("priority=100,in_port=1,dl_dst=00:00:00:00:00:02 actions=output:2"),
        "{flows}"
    );
    let mut modified = flow.clone();
    modified["actions"] = json!([{"type": "OUTPUT", "port": "CONTROLLER", "max_len": 128}]);
    ok(&mut client, "/stats/flowentry/modify_strict", modified);
    let flows = ofctl(&["dump-flows", "tatsu0"]);
    assert!(flows.contains("priority=100,in_port=1,dl_dst=00:00:00:00:00:02 actions=CONTROLLER:128"), "{flows}");
    let listed = client.get("/stats/flow/1").json();
    assert_eq!(listed["1"][0]["actions"], json!(["OUTPUT:CONTROLLER"]), "{listed}");
    assert_eq!(listed["1"][0]["match"], json!({"in_port": 1, "dl_dst": "00:00:00:00:00:02"}), "{listed}");
    ok(
        &mut client,
        "/stats/flowentry/delete_strict",
        json!({"dpid": 1, "priority": 100, "match": {"in_port": 1, "dl_dst": "00:00:00:00:00:02"}}),
    );
    let flows = ofctl(&["dump-flows", "tatsu0"]);
    assert!(!flows.contains("priority=100"), "{flows}");

    // --- Groups.
    let group = json!({"dpid": 1, "type": "ALL", "group_id": 1,
                       "buckets": [{"actions": [{"type": "OUTPUT", "port": 1}]}, {"actions": [{"type": "OUTPUT", "port": 2}]}]});
    ok(&mut client, "/stats/groupentry/add", group.clone());
    let groups = ofctl(&["dump-groups", "tatsu0"]);
    assert!(
        groups.contains("group_id=1,type=all,bucket=")
            && groups.contains("actions=output:1")
            && groups.contains("actions=output:2"),
        "{groups}"
    );
    // Adding it again: the switch's GROUP_MOD_FAILED / GROUP_EXISTS.
    let reply = client.post("/stats/groupentry/add", &group.to_string());
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!((reply.json()["type"].clone(), reply.json()["code"].clone()), (json!(6), json!(0)), "{}", reply.text());
    ok(
        &mut client,
        "/stats/groupentry/modify",
        json!({"dpid": 1, "type": "SELECT", "group_id": 1,
        "buckets": [{"weight": 5, "actions": [{"type": "OUTPUT", "port": 2}]}]}),
    );
    let groups = ofctl(&["dump-groups", "tatsu0"]);
    assert!(
        groups.contains("group_id=1,type=select,") && groups.contains("weight:5") && !groups.contains("output:1"),
        "{groups}"
    );
    let desc = client.get("/stats/groupdesc/1").json();
    assert_eq!(desc["1"][0]["type"], "SELECT", "{desc}");
    assert_eq!(desc["1"][0]["buckets"][0]["actions"], json!(["OUTPUT:2"]), "{desc}");
    ok(&mut client, "/stats/groupentry/delete", json!({"dpid": 1, "group_id": 1}));
    assert!(!ofctl(&["dump-groups", "tatsu0"]).contains("group_id=1"));

    // --- Meters.
    ok(
        &mut client,
        "/stats/meterentry/add",
        json!({"dpid": 1, "flags": "KBPS", "meter_id": 1, "bands": [{"type": "DROP", "rate": 1000}]}),
    );
    let meters = ofctl(&["dump-meters", "tatsu0"]);
    assert!(meters.contains("meter=1 kbps") && meters.contains("type=drop rate=1000"), "{meters}");
    ok(
        &mut client,
        "/stats/meterentry/modify",
        json!({"dpid": 1, "flags": ["KBPS"], "meter_id": 1, "bands": [{"type": "DROP", "rate": 2000}]}),
    );
    assert!(ofctl(&["dump-meters", "tatsu0"]).contains("type=drop rate=2000"));
    let config = client.get("/stats/meterconfig/1/1").json();
    assert_eq!(config["1"][0]["bands"][0]["rate"], 2000, "{config}");
    assert_eq!(config["1"][0]["flags"], json!(["KBPS"]), "{config}");
    ok(&mut client, "/stats/meterentry/delete", json!({"dpid": 1, "meter_id": 1}));
    assert!(!ofctl(&["dump-meters", "tatsu0"]).contains("meter=1"));

    // --- Statistics against ovs-ofctl, with traffic through a NORMAL flow.
    ok(
        &mut client,
        "/stats/flowentry/add",
        json!({"dpid": 1, "priority": 1, "actions": [{"type": "OUTPUT", "port": "NORMAL"}]}),
    );
    let _ = testbed::run(&["ping-all", "--count", "3", "--timeout", "1"]);
    eventually("flow counters agree with ovs-ofctl", || {
        let ours = Client::connect(port).get("/stats/flow/1").json();
        let dump = ofctl(&["dump-flows", "tatsu0"]);
        let line = dump.lines().find(|l| l.contains("priority=1 ")).ok_or(dump.clone())?;
        let entry =
            ours["1"].as_array().and_then(|l| l.iter().find(|f| f["priority"] == 1)).cloned().unwrap_or_default();
        let theirs = (counter(line, "n_packets="), counter(line, "n_bytes="));
        let mine = (entry["packet_count"].as_u64(), entry["byte_count"].as_u64());
        if theirs == mine && mine.0 > Some(0) {
            Ok(())
        } else {
            Err(format!("ovs {theirs:?} vs ours {mine:?}: {line} / {entry}"))
        }
    });
    eventually("port counters agree with ovs-ofctl", || {
        let ours = Client::connect(port).get("/stats/port/1/1").json();
        let dump = ofctl(&["dump-ports", "tatsu0", "1"]);
        let rx = dump.lines().find(|l| l.contains("rx pkts=")).ok_or(dump.clone())?;
        let tx = dump.lines().find(|l| l.contains("tx pkts=")).ok_or(dump.clone())?;
        let theirs = (counter(rx, "pkts="), counter(rx, "bytes="), counter(tx, "pkts="), counter(tx, "bytes="));
        let p = &ours["1"][0];
        let mine = (p["rx_packets"].as_u64(), p["rx_bytes"].as_u64(), p["tx_packets"].as_u64(), p["tx_bytes"].as_u64());
        if theirs == mine {
            Ok(())
        } else {
            Err(format!("ovs {theirs:?} vs ours {mine:?}"))
        }
    });
    eventually("table counters agree with ovs-ofctl", || {
        let ours = Client::connect(port).get("/stats/table/1").json();
        let dump = ofctl(&["dump-tables", "tatsu0"]);
        let line = dump.lines().find(|l| l.trim() == "table 0:").ok_or(dump.clone())?;
        let detail = dump.lines().skip_while(|l| l.trim() != "table 0:").take(2).collect::<Vec<_>>().join(" ");
        let t = &ours["1"][0];
        let theirs = (counter(&detail, "active="), counter(&detail, "lookup="), counter(&detail, "matched="));
        let mine = (t["active_count"].as_u64(), t["lookup_count"].as_u64(), t["matched_count"].as_u64());
        if theirs == mine {
            Ok(())
        } else {
            Err(format!("ovs {theirs:?} vs ours {mine:?}: {line}"))
        }
    });
    let aggregate = client.get("/stats/aggregateflow/1").json();
    assert_eq!(aggregate["1"][0]["flow_count"], 1, "{aggregate}");
    let desc = client.get("/stats/desc/1").json();
    assert_eq!(desc["1"]["hw_desc"], "Open vSwitch", "{desc}");
    let ports = client.get("/stats/portdesc/1").json();
    assert!(ports["1"].as_array().is_some_and(|l| l.iter().any(|p| p["port_no"] == "LOCAL")), "{ports}");
    assert_eq!(client.get("/stats/role/1").json()["1"][0]["role"], "EQUAL");
    assert_eq!(client.get("/stats/meterfeatures/1").status, 200);
    assert_eq!(client.get("/stats/groupfeatures/1").status, 200);
    assert_eq!(client.get("/stats/queue/1").status, 200);
    assert_eq!(client.get("/stats/queueconfig/1/1").status, 200);
    let features = client.get("/stats/tablefeatures/1");
    assert_eq!(features.status, 200);
    assert_eq!(features.json()["1"].as_array().map(Vec::len), Some(254));
    let reply = client.request("DELETE", "/stats/flowentry/clear/1", None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let flows = ofctl(&["dump-flows", "tatsu0"]);
    assert!(!flows.contains("priority=1 "), "{flows}");

    // --- OpenFlow 1.0: the same switch, re-pointed.
    testbed::ok(&["set-protocols", "OpenFlow10"]);
    testbed::ok(&["reconnect"]);
    host.wait_for(&["speaks OpenFlow 0x01"]);
    eventually("the 1.0 switch is back", || {
        let reply = Client::connect(port).get("/stats/desc/1");
        if reply.status == 200 {
            Ok(())
        } else {
            Err(reply.text())
        }
    });
    ok(
        &mut client,
        "/stats/flowentry/add",
        json!({"dpid": 1, "priority": 20, "match": {"in_port": 1, "dl_type": 2048, "nw_src": "10.0.0.0/24"},
        "actions": [{"type": "SET_VLAN_VID", "vlan_vid": 7}, {"type": "OUTPUT", "port": 2}]}),
    );
    let flows = ofctl(&["dump-flows", "tatsu0"]);
    assert!(flows.contains("priority=20,ip,in_port=1,nw_src=10.0.0.0/24 actions=mod_vlan_vid:7,output:2"), "{flows}");
    let listed = client.get("/stats/flow/1").json();
    let entry =
        listed["1"].as_array().and_then(|l| l.iter().find(|f| f["priority"] == 20)).cloned().unwrap_or_default();
    assert_eq!(entry["match"], json!({"in_port": 1, "dl_type": 2048, "nw_src": "10.0.0.0/24"}), "{listed}");
    assert_eq!(entry["actions"], json!(["SET_VLAN_VID:7", "OUTPUT:2"]), "{listed}");
    let table = client.get("/stats/table/1").json();
    assert!(table["1"][0]["wildcards"].is_array(), "{table}");
    assert_eq!(client.get("/stats/group/1").status, 501, "no groups in 1.0");
    ok(&mut client, "/stats/flowentry/delete", json!({"dpid": 1, "match": {"in_port": 1}}));
    assert!(!ofctl(&["dump-flows", "tatsu0"]).contains("priority=20"));
    host.stop();
}
