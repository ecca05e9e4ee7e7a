//! The view through the test kit: what a page receives on connect and for each topology event.

use std::net::Ipv4Addr;

use serde_json::{json, Value};
use tatsu_plugin_api::testing::TestKit;
use tatsu_plugin_api::websocket::{Pushed, WebSocketEvent};
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{
    GetHosts, GetLinks, GetSwitches, Host, HostAdd, HostDelete, HostMove, Link, LinkAdd, LinkDelete, Port, PortAdd,
    PortDelete, PortModify, PortRef, Switch, SwitchEnter, SwitchLeave,
};

use crate::{TopologyView, WS_PATH};

fn port(dpid: u64, port_no: u32, live: bool) -> Port {
    let hw_addr = MacAddr::new(0x0a, 0, 0, dpid as u8, 0, port_no as u8);
    Port { dpid, port_no, hw_addr, name: format!("s{dpid}-eth{port_no}"), live }
}

fn switch(dpid: u64, ports: &[u32]) -> Switch {
    Switch { dpid, ports: ports.iter().map(|&n| port(dpid, n, true)).collect() }
}

fn at(dpid: u64, port_no: u32) -> PortRef {
    PortRef { dpid, port_no }
}

fn link(a: (u64, u32), b: (u64, u32)) -> Link {
    Link { src: at(a.0, a.1), dst: at(b.0, b.1) }
}

fn host(last: u8, dpid: u64, port_no: u32) -> Host {
    Host {
        mac: MacAddr::new(0, 0, 0, 0, 0, last),
        port: at(dpid, port_no),
        ipv4: vec![Ipv4Addr::new(10, 0, 0, last)],
        ipv6: vec![],
    }
}

/// A kit whose topology app answers with two switches joined by a cable (both directions) and one host.
fn kit_with_topology() -> TestKit<TopologyView> {
    let mut kit = TestKit::<TopologyView>::new().expect("the app starts without the topology app's answers");
    kit.serve(|_: GetSwitches| Ok(vec![switch(1, &[1, 2]), switch(2, &[1, 2])]));
    kit.serve(|_: GetLinks| Ok(vec![link((1, 2), (2, 1)), link((2, 1), (1, 2))]));
    kit.serve(|_: GetHosts| Ok(vec![host(1, 1, 1)]));
    kit
}

/// What was pushed, as (broadcast or the client sent to, JSON).
fn pushed(kit: &mut TestKit<TopologyView>) -> Vec<(Option<u64>, Value)> {
    let parse = |data: &[u8]| serde_json::from_slice::<Value>(data).expect("every message is JSON");
    kit.take_websocket_pushed()
        .into_iter()
        .map(|pushed| match pushed {
            Pushed::Broadcast { path, data, binary } => {
                assert_eq!((path.as_str(), binary), (WS_PATH, false));
                (None, parse(&data))
            }
            Pushed::Send { path, client, data, binary } => {
                assert_eq!((path.as_str(), binary), (WS_PATH, false));
                (Some(client), parse(&data))
            }
            Pushed::Close { .. } => panic!("the view closes no client"),
        })
        .collect()
}

fn open(kit: &mut TestKit<TopologyView>, client: u64) -> Value {
    kit.websocket(WS_PATH, WebSocketEvent::Open { client });
    let mut messages = pushed(kit);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (to, snapshot) = messages.remove(0);
    assert_eq!(to, Some(client), "the snapshot goes to the newcomer only");
    snapshot
}

#[test]
fn a_page_that_connects_gets_the_whole_topology_in_the_formats_the_drawing_uses() {
    let mut kit = kit_with_topology();
    let snapshot = open(&mut kit, 7);
    let s1_ports = json!([
        {"port_no": 1, "name": "s1-eth1", "live": true},
        {"port_no": 2, "name": "s1-eth2", "live": true}
    ]);
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["switches"][0], json!({"dpid": "0000000000000001", "ports": s1_ports}));
    assert_eq!(snapshot["switches"][1]["dpid"], "0000000000000002");
    assert_eq!(
        snapshot["links"],
        json!(["0000000000000001:2-0000000000000002:1", "0000000000000002:1-0000000000000001:2"])
    );
    assert_eq!(
        snapshot["hosts"],
        json!([{"mac": "00:00:00:00:00:01", "port": "0000000000000001:1", "ipv4": ["10.0.0.1"], "ipv6": []}])
    );
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}

#[test]
fn every_topology_event_is_pushed_to_the_pages_as_it_comes() {
    let mut kit = kit_with_topology();
    open(&mut kit, 1);
    kit.publish(&SwitchEnter { switch: switch(3, &[1]) });
    kit.publish(&PortAdd { port: port(3, 2, true) });
    kit.publish(&LinkAdd { link: link((2, 2), (3, 1)) });
    kit.publish(&PortModify { port: port(3, 2, false) });
    kit.publish(&HostAdd { host: host(9, 3, 2) });
    kit.publish(&HostMove { host: host(9, 2, 2), from: at(3, 2) });
    kit.publish(&LinkDelete { link: link((2, 2), (3, 1)) });
    kit.publish(&HostDelete { host: host(9, 2, 2) });
    kit.publish(&PortDelete { port: port(3, 2, false) });
    kit.publish(&SwitchLeave { switch: switch(3, &[1]) });
    let messages: Vec<Value> = pushed(&mut kit)
        .into_iter()
        .map(|(to, message)| {
            assert_eq!(to, None, "changes go to every page");
            message
        })
        .collect();
    let host_9 = |port: &str| json!({"mac": "00:00:00:00:00:09", "port": port, "ipv4": ["10.0.0.9"], "ipv6": []});
    assert_eq!(
        messages,
        [
            json!({"type": "switch_add", "switch": {"dpid": "0000000000000003",
                   "ports": [{"port_no": 1, "name": "s3-eth1", "live": true}]}}),
            json!({"type": "port_add", "dpid": "0000000000000003",
                   "port": {"port_no": 2, "name": "s3-eth2", "live": true}}),
            json!({"type": "link_add", "link": "0000000000000002:2-0000000000000003:1"}),
            json!({"type": "port_modify", "dpid": "0000000000000003",
                   "port": {"port_no": 2, "name": "s3-eth2", "live": false}}),
            json!({"type": "host_add", "host": host_9("0000000000000003:2")}),
            json!({"type": "host_move", "host": host_9("0000000000000002:2"), "from": "0000000000000003:2"}),
            json!({"type": "link_delete", "link": "0000000000000002:2-0000000000000003:1"}),
            json!({"type": "host_delete", "mac": "00:00:00:00:00:09"}),
            json!({"type": "port_delete", "dpid": "0000000000000003", "port_no": 2}),
            json!({"type": "switch_delete", "dpid": "0000000000000003"}),
        ]
    );
}

#[test]
fn changes_while_no_page_is_open_show_in_the_next_snapshot() {
    let mut kit = kit_with_topology();
    // The first page makes the view ask the topology app (at start it had no answer); then it leaves.
    open(&mut kit, 1);
    kit.websocket(WS_PATH, WebSocketEvent::Close { client: 1 });
    kit.publish(&LinkDelete { link: link((1, 2), (2, 1)) });
    kit.publish(&SwitchEnter { switch: switch(4, &[1]) });
    kit.publish(&HostMove { host: host(1, 4, 1), from: at(1, 1) });
    // A change that the snapshot already held changes nothing.
    kit.publish(&LinkAdd { link: link((2, 1), (1, 2)) });
    assert_eq!(pushed(&mut kit), [], "nothing is pushed without a page");

    let snapshot = open(&mut kit, 2);
    let dpids: Vec<&str> =
        snapshot["switches"].as_array().unwrap().iter().map(|s| s["dpid"].as_str().unwrap()).collect();
    assert_eq!(dpids, ["0000000000000001", "0000000000000002", "0000000000000004"]);
    assert_eq!(snapshot["links"], json!(["0000000000000002:1-0000000000000001:2"]));
    assert_eq!(snapshot["hosts"][0]["port"], "0000000000000004:1");

    // A switch that leaves takes its links and hosts along, even if their deletions were missed.
    kit.publish(&SwitchLeave { switch: switch(1, &[1, 2]) });
    kit.publish(&SwitchLeave { switch: switch(4, &[1]) });
    pushed(&mut kit);
    let snapshot = open(&mut kit, 3);
    assert_eq!(snapshot["switches"].as_array().map(Vec::len), Some(1));
    assert_eq!((snapshot["links"].clone(), snapshot["hosts"].clone()), (json!([]), json!([])));
}

#[test]
fn without_the_topology_apps_answer_a_page_gets_what_the_events_told() {
    let mut kit = TestKit::<TopologyView>::new().expect("starts");
    kit.publish(&SwitchEnter { switch: switch(5, &[1]) });
    let snapshot = open(&mut kit, 1);
    assert_eq!(snapshot["switches"][0]["dpid"], "0000000000000005");
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}

#[test]
fn the_page_is_served_whole_and_refers_to_nothing_outside_this_host() {
    let mut kit = kit_with_topology();
    let page = kit.http("GET", "/", b"");
    assert_eq!((page.status, page.content_type.as_str()), (200, "text/html; charset=utf-8"));
    let html = page.body_text();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "{html}");
    assert!(html.contains(WS_PATH), "the page follows the view's WebSocket");
    // No script, style sheet, image or font from anywhere: the only URL is SVG's namespace name.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    let namespaces = html.matches("http://www.w3.org/2000/svg").count();
    assert_eq!(urls, namespaces, "the page names no other URL");
    for fetches in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(fetches), "the page loads nothing else ({fetches})");
    }
}
