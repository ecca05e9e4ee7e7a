//! The REST server on loopback: routes served by apps, the server's own error answers and limits, then
//! `ofctl-rest` against a scripted switch for its error cases.

mod common;

use std::time::{Duration, Instant};

use common::http::Client;
use common::{install, lib_path, temp_dir, Host, LOOPBACK_PORTS};

/// Starts a host with `libraries` on an ephemeral REST port (and an ephemeral switch port); returns it, the REST
/// port and the switch port.
fn host_with(name: &str, libraries: &[(&str, &str)], extra: &[&str]) -> (Host, u16, u16) {
    let dir = temp_dir(name);
    let paths: Vec<(std::path::PathBuf, &str)> =
        libraries.iter().map(|(crate_name, file)| (lib_path(crate_name), *file)).collect();
    let refs: Vec<(&std::path::Path, &str)> = paths.iter().map(|(p, f)| (p.as_path(), *f)).collect();
    install(&dir, &refs);
    let dir = dir.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir];
    args.extend_from_slice(&LOOPBACK_PORTS);
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    let rest_port = host.rest_port();
    let switch_port = host.switch_port();
    (host, rest_port, switch_port)
}

fn probe_host(name: &str, extra: &[&str]) -> (Host, u16) {
    let (host, port, _) = host_with(name, &[("tatsu_fixture_http_probe", "libhttp_probe.so")], extra);
    (host, port)
}

#[test]
fn routes_get_params_query_and_body_and_keep_alive_carries_several_requests() {
    let (host, port) = probe_host("rest-routes", &[]);
    let mut client = Client::connect(port);
    let reply = client.get("/probe/echo/a%20b?q=x%2By&z=1");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let echo = reply.json();
    assert_eq!(echo["route"], "GET /probe/echo/{name}");
    assert_eq!(echo["params"]["name"], "a b");
    assert_eq!(echo["q"], "x+y");
    assert_eq!(echo["query"], "q=x%2By&z=1");
    // Same connection: a POST with a body, then a route with state kept by the app.
    let reply = client.post("/probe/echo/x", r#"{"hello": 1}"#);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["body"], r#"{"hello": 1}"#);
    assert_eq!(reply.json()["content_type"], "application/json");
    assert_eq!(client.get("/probe/count").json()["calls"], 1);
    assert_eq!(client.get("/probe/count").json()["calls"], 2);
    // Pipelined: two requests in one write, two responses in order.
    client.send_raw(b"GET /probe/count HTTP/1.1\r\nHost: x\r\n\r\nGET /probe/echo/p HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.read_reply().expect("first").json()["calls"], 3);
    assert_eq!(client.read_reply().expect("second").json()["params"]["name"], "p");
    // Connection: close is honoured.
    client.send_raw(b"GET /probe/count HTTP/1.1\r\nConnection: close\r\n\r\n");
    let reply = client.read_reply().expect("reply");
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.closed(), "the server closes after Connection: close");
    host.stop();
}

#[test]
fn unknown_paths_methods_garbage_and_limits_get_the_right_status() {
    let (host, port) = probe_host("rest-errors", &[]);
    let mut client = Client::connect(port);
    let reply = client.get("/nope");
    assert_eq!(reply.status, 404);
    assert!(reply.json()["error"].as_str().expect("message").contains("/nope"));
    let reply = client.request("DELETE", "/probe/count", None);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
    // Typed body: serde names the unknown field and the wrong type.
    let reply = client.post("/probe/greet", r#"{"name": "a", "tims": 2}"#);
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("unknown field `tims`"), "{}", reply.text());
    let reply = client.post("/probe/greet", r#"{"name": "a", "#);
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(client.post("/probe/greet", r#"{"name": "tatsu"}"#).text(), "hello tatsu");

    // Garbage: 400 and the connection is closed.
    let mut garbage = Client::connect(port);
    garbage.send_raw(b"\x16\x03\x01\x02\x00 not http\r\n\r\n");
    assert_eq!(garbage.read_reply().expect("a 400").status, 400);
    assert!(garbage.closed());
    // A body over the limit: 413 before it is read.
    let mut big = Client::connect(port);
    big.send_raw(b"POST /probe/echo/x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
    assert_eq!(big.read_reply().expect("a 413").status, 413);
    // Headers over the limit: 431.
    let mut long = Client::connect(port);
    long.send_raw(format!("GET /probe/count HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(20_000)).as_bytes());
    assert_eq!(long.read_reply().expect("a 431").status, 431);
    // Chunked uploads are refused with 501.
    let mut chunked = Client::connect(port);
    chunked.send_raw(b"POST /probe/echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assert_eq!(chunked.read_reply().expect("a 501").status, 501);
    // Expect: 100-continue gets its interim response, then the real one.
    let mut expecting = Client::connect(port);
    expecting.send_raw(b"POST /probe/echo/x HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(expecting.read_reply().expect("100").status, 100);
    expecting.send_raw(b"{}");
    assert_eq!(expecting.read_reply().expect("200").json()["body"], "{}");

    // The first client's connection survived all of this.
    assert_eq!(client.get("/probe/count").status, 200);
    host.stop();
}

#[test]
fn a_panicking_route_answers_500_and_the_app_serves_the_next_request() {
    let (host, port) = probe_host("rest-panic", &[]);
    let mut client = Client::connect(port);
    let reply = client.get("/probe/panic");
    assert_eq!(reply.status, 500);
    assert!(reply.text().contains("the probe route exploded"), "{}", reply.text());
    assert_eq!(client.get("/probe/count").json()["calls"], 1, "the app keeps its state and serves on");
    let reply = client.get("/probe/spawned-panic");
    assert_eq!(reply.status, 500);
    assert!(reply.text().contains("the spawned probe route exploded"), "{}", reply.text());
    host.wait_for(&["app `http-probe`", "panicked", "the probe route exploded"]);
    // Spawned handlers run concurrently: two 300 ms requests on two connections take about 300 ms, not 600.
    let started = Instant::now();
    let other = std::thread::spawn(move || Client::connect(port).get("/probe/sleep/300").status);
    assert_eq!(client.get("/probe/sleep/300").status, 200);
    assert_eq!(other.join().expect("thread"), 200);
    assert!(started.elapsed() < Duration::from_millis(550), "took {:?}", started.elapsed());
    host.stop();
}

#[test]
fn an_app_that_answers_too_late_is_a_504_and_a_token_guards_every_route() {
    let dir = temp_dir("rest-timeout-config");
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[tatsu]\nwsapi_request_timeout = 0.3\nwsapi_token = \"s3cret\"\n").expect("config");
    let config = config.display().to_string();
    let (host, port) = probe_host("rest-timeout", &["--config", &config]);
    let mut client = Client::connect(port);
    let reply = client.get("/probe/count");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"tatsu\""));
    let mut client = Client::connect(port);
    client.extra.push("Authorization: Bearer wrong".to_owned());
    assert_eq!(client.get("/probe/count").status, 401);
    let mut client = Client::connect(port);
    client.extra.push("Authorization: Bearer s3cret".to_owned());
    assert_eq!(client.get("/probe/count").status, 200);
    let reply = client.get("/probe/sleep/1000");
    assert_eq!(reply.status, 504, "{}", reply.text());
    assert!(reply.text().contains("did not answer"), "{}", reply.text());
    assert_eq!(client.get("/probe/count").json()["calls"], 2);
    host.stop();
}

/// Starts a host with `ofctl-rest` (switch requests time out after 500 ms) and a scripted 1.3 switch, dpid 1.
fn ofctl_host(name: &str) -> (Host, u16, common::fake_switch::FakeSwitch) {
    let dir = temp_dir(&format!("{name}-config"));
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[app.ofctl-rest]\nrequest_timeout_ms = 500\n").expect("config");
    let config = config.display().to_string();
    let (host, port, switch_port) = host_with(name, &[("ofctl_rest", "libofctl_rest.so")], &["--config", &config]);
    let mut switch = common::fake_switch::FakeSwitch::connect(switch_port);
    switch.handshake(common::fake_switch::V1_3, 1, 2);
    host.wait_for(&["datapath 0000000000000001"]);
    // Wait until ofctl-rest sees it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Client::connect(port).get("/stats/switches").json() != serde_json::json!([1]) {
        assert!(Instant::now() < deadline, "the datapath never showed up in /stats/switches");
        std::thread::sleep(Duration::from_millis(20));
    }
    (host, port, switch)
}

#[test]
fn ofctl_rest_error_cases_against_a_scripted_switch() {
    use tatsu_ofproto::v1_3;
    let (host, port, mut switch) = ofctl_host("ofctl-errors");
    let mut client = Client::connect(port);
    // Unknown datapath, bad datapath id, malformed JSON, a wrong value, unknown command (unknown fields are
    // ignored, as Ryu does: see the flow entry with a `command` below).
    let reply = client.get("/stats/desc/99");
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(client.get("/stats/desc/abc").status, 400);
    let reply = client.post("/stats/flowentry/add", r#"{"dpid": 1, "match": {"in_port": 1}"#);
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("not valid JSON"), "{}", reply.text());
    let reply = client.post("/stats/flowentry/add", r#"{"dpid": 1, "priority": "high"}"#);
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("`priority` must be a non-negative integer"), "{}", reply.text());
    let reply = client.post("/stats/flowentry/add", r#"{"dpid": 1, "match": {"dl_dst": "not-a-mac"}}"#);
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("match.dl_dst"), "{}", reply.text());
    assert_eq!(client.post("/stats/flowentry/add", r#"{"dpid": 2}"#).status, 404);
    assert_eq!(client.post("/stats/flowentry/fly", r#"{"dpid": 1}"#).status, 404);

    // A switch that does not answer: 504.
    let asker = std::thread::spawn(move || Client::connect(port).get("/stats/flow/1"));
    let request = switch.expect(18);
    assert_eq!(request.version, 4);
    let reply = asker.join().expect("client thread");
    assert_eq!(reply.status, 504, "{}", reply.text());

    // A switch that answers: Ryu's JSON.
    let asker = std::thread::spawn(move || Client::connect(port).get("/stats/flow/1"));
    let request = switch.expect(18);
    let flow = v1_3::multipart::FlowStats {
        priority: 7,
        cookie: 3,
        packet_count: 11,
        match_: v1_3::Match::new().in_port(1),
        instructions: vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::output(2)])],
        ..Default::default()
    };
    let body = v1_3::multipart::MultipartReplyBody::Flow(vec![flow]);
    switch.send(v1_3::Message::MultipartReply(v1_3::MultipartReply { flags: 0, body }), request.xid);
    let reply = asker.join().expect("client thread");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let flows = reply.json();
    assert_eq!(flows["1"][0]["priority"], 7);
    assert_eq!(flows["1"][0]["match"], serde_json::json!({"in_port": 1}));
    assert_eq!(flows["1"][0]["actions"], serde_json::json!(["OUTPUT:2"]));

    // An error from the switch: its type and code in the body.
    let body = r#"{"dpid": 1, "priority": 1, "command": "add", "match": {"in_port": 1},
                   "actions": [{"type": "OUTPUT", "port": 2}]}"#;
    let adder = std::thread::spawn(move || Client::connect(port).post("/stats/flowentry/add", body));
    let flow_mod = switch.expect(14);
    assert!(flow_mod.xid & 0x8000_0000 != 0, "ofctl-rest's own xid");
    let error = tatsu_ofproto::ErrorMsg::new(5, 0, flow_mod.bytes[..64.min(flow_mod.bytes.len())].to_vec());
    switch.send(v1_3::Message::Error(error), flow_mod.xid);
    let barrier = switch.expect(20);
    switch.send(v1_3::Message::BarrierReply, barrier.xid);
    let reply = adder.join().expect("client thread");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["type"], 5);
    assert_eq!(reply.json()["code"], 0);
    assert_eq!(reply.json()["type_name"], "FLOW_MOD_FAILED");

    // And without an error: 200 once the barrier is answered.
    let adder = std::thread::spawn(move || Client::connect(port).post("/stats/flowentry/add", body));
    switch.expect(14);
    let barrier = switch.expect(20);
    switch.send(v1_3::Message::BarrierReply, barrier.xid);
    assert_eq!(adder.join().expect("client thread").status, 200);
    host.stop();
}
