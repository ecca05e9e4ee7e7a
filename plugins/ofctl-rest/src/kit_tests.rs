//! The app run by the SDK's test kit: routes, what goes to the switch, what comes back to the client.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tatsu_plugin_api::http::HttpResponse;
use tatsu_plugin_api::ofproto::v1_3::multipart::{
    FlowStats, FlowStatsRequest, MultipartReplyBody, MultipartRequestBody,
};
use tatsu_plugin_api::ofproto::v1_3::{self, MultipartReply};
use tatsu_plugin_api::ofproto::{v1_0, ErrorMsg, Message, OFP_VERSION_1_0, OFP_VERSION_1_3};
use tatsu_plugin_api::testing::TestKit;

use super::{ErrorQuery, OfctlRest, SwitchError, XID_MARK};

/// The kit with datapath 1 on OpenFlow 1.3, a short switch timeout, and the app's request to itself (which the
/// kit routes to the test, not back to the app) served from the app's own error records.
fn kit() -> TestKit<OfctlRest> {
    let mut kit = without_pauses(TestKit::<OfctlRest>::with_config(json!({"request_timeout_ms": 50})).unwrap());
    let shared = Arc::clone(&kit.app().shared);
    kit.serve::<ErrorQuery>(move |query| Ok(shared.take_error(query.dpid, query.xid)));
    kit.connect(1, OFP_VERSION_1_3, &[1, 2]);
    kit
}

/// The kit has no scheduler to yield to: the app's pauses between long renderings do nothing.
fn without_pauses(kit: TestKit<OfctlRest>) -> TestKit<OfctlRest> {
    kit.app().shared.yields.store(false, std::sync::atomic::Ordering::Relaxed);
    kit
}

/// A switch that answers barriers (of either version) and nothing else.
fn answer_barriers(kit: &mut TestKit<OfctlRest>) {
    kit.answer_switch_requests(|_, request| match request {
        Message::V1_3(v1_3::Message::BarrierRequest) => vec![Message::V1_3(v1_3::Message::BarrierReply)],
        Message::V1_0(v1_0::Message::BarrierRequest) => vec![Message::V1_0(v1_0::Message::BarrierReply)],
        _ => Vec::new(),
    });
}

fn json_of(response: &HttpResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{response}: {e}"))
}

/// Datapath `dpid` sends error `(err_type, code)` under `xid`.
fn switch_error(kit: &mut TestKit<OfctlRest>, dpid: u64, version: u8, xid: u32, err_type: u16, code: u16) {
    let error = ErrorMsg::new(err_type, code, vec![0xab, 0xcd]);
    let message = if version == OFP_VERSION_1_0 {
        Message::V1_0(v1_0::Message::Error(error))
    } else {
        Message::V1_3(v1_3::Message::Error(error))
    };
    kit.receive_bytes(dpid, &message.to_vec(xid).unwrap());
}

const FLOW_ENTRY: &[u8] =
    br#"{"dpid": 1, "priority": 1, "match": {"in_port": 1}, "actions": [{"type": "OUTPUT", "port": 2}]}"#;

#[test]
fn switches_lists_the_connected_datapaths() {
    let mut kit = kit();
    kit.connect(2, OFP_VERSION_1_0, &[1]);
    let response = kit.http("GET", "/stats/switches", b"");
    assert_eq!(response.status, 200, "{response}");
    assert_eq!(json_of(&response), json!([1, 2]));
    kit.disconnect(1, "test");
    assert_eq!(json_of(&kit.http("GET", "/stats/switches", b"")), json!([2]));
    assert!(kit.take_sent().is_empty());
}

#[test]
fn flow_stats_on_1_3_ask_the_switch_and_render_its_reply_as_ryu_does() {
    let mut kit = kit();
    kit.answer_switch_requests(|dpid, request| {
        assert_eq!(dpid, 1);
        assert!(matches!(request, Message::V1_3(v1_3::Message::MultipartRequest(_))), "{request:?}");
        let flow = FlowStats {
            priority: 7,
            cookie: 3,
            packet_count: 11,
            match_: v1_3::Match::new().in_port(1),
            instructions: vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::output(2)])],
            ..Default::default()
        };
        let body = MultipartReplyBody::Flow(vec![flow]);
        vec![Message::V1_3(v1_3::Message::MultipartReply(MultipartReply { flags: 0, body }))]
    });
    let response = kit.http("GET", "/stats/flow/1", b"");
    assert_eq!(response.status, 200, "{response}");
    let flows = json_of(&response);
    let flow = &flows["1"][0];
    assert_eq!(
        (flow["priority"].clone(), flow["cookie"].clone(), flow["packet_count"].clone()),
        (json!(7), json!(3), json!(11))
    );
    assert_eq!(flow["match"], json!({"in_port": 1}));
    assert_eq!(flow["actions"], json!(["OUTPUT:2"]));
    assert_eq!(flow["table_id"], 0);
    assert_eq!(flows["1"].as_array().map(Vec::len), Some(1));

    // What went to the switch: a flow-stats request for every flow of every table.
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let all = FlowStatsRequest {
        table_id: 0xff,
        out_port: 0xffff_ffff,
        out_group: 0xffff_ffff,
        cookie: 0,
        cookie_mask: 0,
        match_: v1_3::Match::new(),
    };
    let expected = v1_3::MultipartRequest::new(MultipartRequestBody::Flow(all));
    assert_eq!(sent[0].message, Some(Message::V1_3(v1_3::Message::MultipartRequest(expected))));
}

#[test]
fn flow_stats_on_1_0_ask_with_a_1_0_stats_request() {
    let mut kit = kit();
    kit.connect(2, OFP_VERSION_1_0, &[1, 2]);
    kit.answer_switch_requests(|dpid, request| {
        assert_eq!(dpid, 2);
        assert!(matches!(request, Message::V1_0(v1_0::Message::StatsRequest(_))), "{request:?}");
        let flow = v1_0::FlowStats {
            priority: 9,
            match_: v1_0::Match::new().in_port(1),
            actions: vec![v1_0::Action::output(2)],
            ..Default::default()
        };
        let body = v1_0::StatsReplyBody::Flow(vec![flow]);
        vec![Message::V1_0(v1_0::Message::StatsReply(v1_0::StatsReply { flags: 0, body }))]
    });
    let response = kit.http("GET", "/stats/flow/2", b"");
    assert_eq!(response.status, 200, "{response}");
    let flow = &json_of(&response)["2"][0];
    assert_eq!(flow["priority"], 9);
    assert_eq!(flow["match"]["in_port"], 1);
    assert_eq!(flow["actions"], json!(["OUTPUT:2"]));
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    match &sent[0].message {
        Some(Message::V1_0(v1_0::Message::StatsRequest(v1_0::StatsRequest {
            body: v1_0::StatsRequestBody::Flow(filter),
            ..
        }))) => assert_eq!((filter.table_id, filter.out_port), (0xff, 0xffff)),
        other => panic!("not a 1.0 flow stats request: {other:?}"),
    }
}

#[test]
fn flow_stats_filters_by_priority_from_the_body() {
    let mut kit = kit();
    kit.answer_switch_requests(|_, _| {
        let flows = [1, 2, 1].map(|priority| FlowStats { priority, ..Default::default() }).to_vec();
        let body = MultipartReplyBody::Flow(flows);
        vec![Message::V1_3(v1_3::Message::MultipartReply(MultipartReply { flags: 0, body }))]
    });
    let response = kit.http("POST", "/stats/flow/1", br#"{"priority": 1}"#);
    assert_eq!(response.status, 200, "{response}");
    let priorities: Vec<Value> =
        json_of(&response)["1"].as_array().unwrap().iter().map(|f| f["priority"].clone()).collect();
    assert_eq!(priorities, [json!(1), json!(1)]);
}

#[test]
fn a_switch_that_does_not_answer_is_504_and_an_error_reply_502() {
    let mut kit = kit();
    let response = kit.http("GET", "/stats/flow/1", b"");
    assert_eq!(response.status, 504, "{response}");
    kit.answer_switch_requests(|_, _| vec![Message::V1_3(v1_3::Message::Error(ErrorMsg::new(1, 2, vec![])))]);
    let response = kit.http("GET", "/stats/desc/1", b"");
    assert_eq!(response.status, 502, "{response}");
    assert_eq!(json_of(&response)["type_name"], "BAD_REQUEST");
}

#[test]
fn adding_a_flow_entry_sends_the_flow_mod_and_a_barrier_and_answers_200() {
    let mut kit = kit();
    answer_barriers(&mut kit);
    let response = kit.http("POST", "/stats/flowentry/add", FLOW_ENTRY);
    assert_eq!(response.status, 200, "{response}");
    assert!(response.body.is_empty(), "{response}");
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let expected = v1_3::FlowMod {
        priority: 1,
        match_: v1_3::Match::new().in_port(1),
        instructions: vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::Output { port: 2, max_len: 0xffe5 }])],
        ..Default::default()
    };
    assert!(sent[0].is(v1_3::Message::FlowMod(expected)), "{sent:?}");
    let xid = u32::from_be_bytes([sent[0].bytes[4], sent[0].bytes[5], sent[0].bytes[6], sent[0].bytes[7]]);
    assert_ne!(xid & XID_MARK, 0, "the app's own xid: {xid:#x}");
    assert_eq!(sent[1].message, Some(Message::V1_3(v1_3::Message::BarrierRequest)));
}

#[test]
fn a_1_0_datapath_gets_a_1_0_flow_mod() {
    let mut kit = kit();
    kit.connect(2, OFP_VERSION_1_0, &[1, 2]);
    answer_barriers(&mut kit);
    let body = br#"{"dpid": 2, "priority": 1, "match": {"in_port": 1}, "actions": [{"type": "OUTPUT", "port": 2}]}"#;
    let response = kit.http("POST", "/stats/flowentry/add", body);
    assert_eq!(response.status, 200, "{response}");
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    match &sent[0].message {
        Some(Message::V1_0(v1_0::Message::FlowMod(flow))) => {
            assert_eq!((flow.priority, flow.match_.in_port), (1, 1));
            assert_eq!(flow.actions, vec![v1_0::Action::Output { port: 2, max_len: 0xffe5 }]);
        }
        other => panic!("not a 1.0 flow mod: {other:?}"),
    }
    assert_eq!(sent[1].message, Some(Message::V1_0(v1_0::Message::BarrierRequest)));
}

#[test]
fn a_bad_body_is_400_and_sends_nothing() {
    let mut kit = kit();
    answer_barriers(&mut kit);
    for (body, says) in [
        (&br#"{"dpid": 1, "match": {"in_port": 1}"#[..], "not valid JSON"),
        (br#"{"dpid": 1, "priority": "high"}"#, "`priority` must be a non-negative integer"),
        (br#"{"dpid": 1, "actions": [{"type": "OUTPUT", "port": "NOWHERE"}]}"#, "actions[0].port"),
        (br#"{"dpid": 1, "match": {"dl_dst": "not-a-mac"}}"#, "match.dl_dst"),
        (br#"[1]"#, "must be a JSON object"),
        (br#"{"priority": 1}"#, "`dpid` is required"),
    ] {
        let response = kit.http("POST", "/stats/flowentry/add", body);
        assert_eq!(response.status, 400, "{response}");
        assert!(response.body_text().contains(says), "{says}: {response}");
    }
    assert_eq!(kit.http("GET", "/stats/desc/abc", b"").status, 400);
    assert!(kit.take_sent().is_empty());
}

#[test]
fn unknown_datapaths_and_commands_are_404() {
    let mut kit = kit();
    answer_barriers(&mut kit);
    let response = kit.http("GET", "/stats/desc/99", b"");
    assert_eq!(response.status, 404, "{response}");
    assert!(response.body_text().contains("no datapath 99"), "{response}");
    assert_eq!(kit.http("POST", "/stats/flowentry/add", br#"{"dpid": 2}"#).status, 404);
    assert_eq!(kit.http("POST", "/stats/flowentry/fly", br#"{"dpid": 1}"#).status, 404);
    assert_eq!(kit.http("DELETE", "/stats/flowentry/clear/7", b"").status, 404);
    assert!(kit.take_sent().is_empty());
}

#[test]
fn an_error_the_switch_sends_for_the_apps_xid_is_reported() {
    let mut kit = kit();
    answer_barriers(&mut kit);
    // The first modification goes under the app's first xid; in the kit the switch's error for it has to arrive
    // before the request (a handler cannot be interrupted by the switch in the middle).
    switch_error(&mut kit, 1, OFP_VERSION_1_3, XID_MARK | 1, 5, 0);
    let response = kit.http("POST", "/stats/flowentry/add", FLOW_ENTRY);
    assert_eq!(response.status, 400, "{response}");
    let body = json_of(&response);
    assert_eq!((body["type"].clone(), body["code"].clone()), (json!(5), json!(0)));
    assert_eq!(body["type_name"], "FLOW_MOD_FAILED");
    assert_eq!(body["data"], "abcd");
    // Reported once: the next modification is fine.
    assert_eq!(kit.http("POST", "/stats/flowentry/add", FLOW_ENTRY).status, 200);
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}

#[test]
fn a_1_0_error_is_named_with_the_1_0_types() {
    let mut kit = kit();
    kit.connect(2, OFP_VERSION_1_0, &[1]);
    answer_barriers(&mut kit);
    // 1.0's type 3 is FLOW_MOD_FAILED (1.3's BAD_INSTRUCTION).
    switch_error(&mut kit, 2, OFP_VERSION_1_0, XID_MARK | 1, 3, 1);
    let response = kit.http("DELETE", "/stats/flowentry/clear/2", b"");
    assert_eq!(response.status, 400, "{response}");
    assert_eq!(json_of(&response)["type_name"], "FLOW_MOD_FAILED");
}

#[test]
fn the_error_handler_records_only_errors_for_the_apps_own_xids() {
    let mut kit = kit();
    switch_error(&mut kit, 1, OFP_VERSION_1_3, 7, 5, 0);
    switch_error(&mut kit, 1, OFP_VERSION_1_3, XID_MARK | 9, 4, 3);
    // Through the app's own request handler, as the REST handlers ask it.
    assert_eq!(kit.request(&ErrorQuery { dpid: 1, xid: 7 }), Ok(None));
    let recorded = kit.request(&ErrorQuery { dpid: 1, xid: XID_MARK | 9 });
    assert_eq!(recorded, Ok(Some(SwitchError { err_type: 4, code: 3, data: "abcd".to_owned() })));
    assert_eq!(kit.request(&ErrorQuery { dpid: 1, xid: XID_MARK | 9 }), Ok(None), "taken out once");
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}

#[test]
fn the_timeout_comes_from_the_config() {
    let kit = TestKit::<OfctlRest>::with_config(json!({"request_timeout_ms": 1234})).unwrap();
    assert_eq!(kit.app().shared.timeout, std::time::Duration::from_millis(1234));
    let e = TestKit::<OfctlRest>::with_config(json!({"request_timeout": 1})).err();
    assert!(e.is_some_and(|e| e.contains("request_timeout")));
}

/// Every route answers: none is left unregistered by the port (a 404 from the kit means no route matched).
#[test]
fn every_route_is_registered() {
    let mut kit = kit();
    let shared = Arc::new(Mutex::new(0));
    let asked = Arc::clone(&shared);
    kit.answer_switch_requests(move |_, _| {
        *asked.lock().unwrap() += 1;
        Vec::new()
    });
    for path in [
        "/stats/desc/1",
        "/stats/flow/1",
        "/stats/aggregateflow/1",
        "/stats/table/1",
        "/stats/tablefeatures/1",
        "/stats/port/1",
        "/stats/port/1/1",
        "/stats/portdesc/1",
        "/stats/portdesc/1/1",
        "/stats/queue/1",
        "/stats/queue/1/1",
        "/stats/queue/1/1/1",
        "/stats/queueconfig/1",
        "/stats/queueconfig/1/1",
        "/stats/group/1",
        "/stats/group/1/1",
        "/stats/groupdesc/1",
        "/stats/groupdesc/1/1",
        "/stats/groupfeatures/1",
        "/stats/meter/1",
        "/stats/meter/1/1",
        "/stats/meterconfig/1",
        "/stats/meterconfig/1/1",
        "/stats/meterfeatures/1",
        "/stats/role/1",
    ] {
        // The kit's switch never answers: every statistics route asks it and times out.
        assert_eq!(kit.http("GET", path, b"").status, 504, "GET {path}");
    }
    assert_eq!(*shared.lock().unwrap(), 25);
}

// ---------------------------------------------------------------------------------------------------------------
// OpenFlow 1.2, 1.4 and 1.5 datapaths

use tatsu_plugin_api::ofproto::v1_5::{Oxs, OxsField, Stats};
use tatsu_plugin_api::ofproto::{v1_2, v1_4, v1_5, OFP_VERSION_1_2, OFP_VERSION_1_4, OFP_VERSION_1_5};

/// A message of Ryu's corpus (`ofproto/tests/corpus/NAME`), as a switch would send it.
fn corpus(name: &str) -> Message {
    let path = format!("{}/../../ofproto/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    tatsu_plugin_api::ofproto::decode(&bytes).unwrap_or_else(|e| panic!("{path}: {e}")).1
}

/// The kit with datapath 1 on `version`, answering barriers of every version.
fn kit_on(version: u8) -> TestKit<OfctlRest> {
    let mut kit = without_pauses(TestKit::<OfctlRest>::with_config(json!({"request_timeout_ms": 50})).unwrap());
    let shared = Arc::clone(&kit.app().shared);
    kit.serve::<ErrorQuery>(move |query| Ok(shared.take_error(query.dpid, query.xid)));
    kit.connect(1, version, &[1, 2]);
    kit
}

fn barrier_reply(request: &Message) -> Option<Message> {
    Some(match request {
        Message::V1_2(v1_2::Message::BarrierRequest) => Message::V1_2(v1_2::Message::BarrierReply),
        Message::V1_4(v1_4::Message::BarrierRequest) => Message::V1_4(v1_4::Message::BarrierReply),
        Message::V1_5(v1_5::Message::BarrierRequest) => Message::V1_5(v1_5::Message::BarrierReply),
        _ => return None,
    })
}

#[test]
fn flow_stats_on_1_4_are_ryus_ofctl_v1_4_json() {
    let mut kit = kit_on(OFP_VERSION_1_4);
    kit.answer_switch_requests(|_, request| match request {
        Message::V1_4(v1_4::Message::MultipartRequest(v1_4::MultipartRequest {
            body: v1_4::MultipartRequestBody::Common(MultipartRequestBody::Flow(filter)),
            ..
        })) => {
            assert_eq!((filter.table_id, filter.out_port), (0xff, 0xffff_ffff));
            vec![corpus("of14/5-12-ofp_flow_stats_reply.packet")]
        }
        other => panic!("not a 1.4 flow stats request: {other:?}"),
    });
    let response = kit.http("GET", "/stats/flow/1", b"");
    assert_eq!(response.status, 200, "{response}");
    let flows = &json_of(&response)["1"];
    // The second entry of the capture: priority 65534, eth_type ARP, output to NORMAL.
    assert_eq!(
        flows[1],
        json!({"byte_count": 0, "cookie": 0, "duration_nsec": 115055000, "duration_sec": 358, "flags": 0,
               "hard_timeout": 0, "idle_timeout": 0, "importance": 0, "length": 88, "packet_count": 0,
               "priority": 65534, "table_id": 0, "match": {"eth_type": 2054},
               "instructions": [{"type": "APPLY_ACTIONS", "len": 24,
                                 "actions": [{"type": "OUTPUT", "len": 16, "max_len": 0, "port": 4294967290u32}]}]})
    );
    // Before 1.5, /stats/flowdesc is /stats/flow, as in Ryu 4.34.
    assert_eq!(json_of(&kit.http("GET", "/stats/flowdesc/1", b""))["1"], *flows);
}

#[test]
fn flow_stats_on_1_5_carry_oxs_statistics() {
    let mut kit = kit_on(OFP_VERSION_1_5);
    kit.answer_switch_requests(|_, request| match request {
        Message::V1_5(v1_5::Message::MultipartRequest(v1_5::MultipartRequest {
            body: v1_5::MultipartRequestBody::FlowStats(_),
            ..
        })) => {
            let entry = v1_5::FlowStats {
                table_id: 0,
                reason: 0,
                priority: 7,
                match_: v1_3::Match::new().in_port(1),
                stats: Stats::default()
                    .with(Oxs::time(OxsField::Duration, 3, 500))
                    .with(Oxs::new(OxsField::PacketCount, 11)),
            };
            let body = v1_5::MultipartReplyBody::FlowStats(vec![entry]);
            vec![Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply { flags: 0, body }))]
        }
        other => panic!("not a 1.5 flow stats request: {other:?}"),
    });
    let response = kit.http("POST", "/stats/flow/1", br#"{"priority": 7, "table_id": "ALL"}"#);
    assert_eq!(response.status, 200, "{response}");
    let flow = &json_of(&response)["1"][0];
    assert_eq!(flow["match"], json!({"in_port": 1}));
    assert_eq!(flow["stats"], json!({"duration": {"duration_sec": 3, "duration_nsec": 500}, "packet_count": 11}));
    assert_eq!(flow["priority"], 7);
}

#[test]
fn a_flow_entry_on_1_4_and_1_5_takes_ryus_instructions_and_ignores_unknown_keys() {
    for version in [OFP_VERSION_1_4, OFP_VERSION_1_5] {
        let mut kit = kit_on(version);
        kit.answer_switch_requests(|_, request| barrier_reply(request).into_iter().collect());
        // `command`, `len` and `hello` are keys Ryu's ofctl does not read.
        let body = br#"{"dpid": 1, "priority": 5, "importance": 3, "command": "add", "hello": 1,
                        "match": {"in_port": 1, "eth_type": 2048},
                        "instructions": [{"type": "APPLY_ACTIONS", "actions": [{"type": "OUTPUT", "port": 2, "len": 16}]}]}"#;
        let response = kit.http("POST", "/stats/flowentry/add", body);
        assert_eq!(response.status, 200, "{response}");
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 2, "{sent:?}");
        let flow = v1_3::FlowMod {
            priority: 5,
            match_: v1_3::Match::new().in_port(1).eth_type(0x0800),
            instructions: vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::Output {
                port: 2,
                max_len: 0xffe5,
            }])],
            ..Default::default()
        };
        let expected: Message = if version == OFP_VERSION_1_4 {
            v1_4::Message::FlowMod(v1_4::FlowMod { flow, importance: 3 }).into()
        } else {
            v1_5::Message::FlowMod(v1_4::FlowMod { flow, importance: 3 }).into()
        };
        assert_eq!(sent[0].message, Some(expected), "version {version}");
        // A wrong value is still a 400, and nothing goes to the switch.
        let bad = br#"{"dpid": 1, "instructions": [{"type": "APPLY_ACTIONS", "actions": [{"type": "OUTPUT", "port": "x"}]}]}"#;
        let response = kit.http("POST", "/stats/flowentry/add", bad);
        assert_eq!(response.status, 400, "{response}");
        assert!(response.body_text().contains("instructions[0].actions[0].port"), "{response}");
        assert!(kit.take_sent().is_empty());
    }
}

#[test]
fn port_stats_and_desc_on_1_4_and_1_5_show_properties_by_name() {
    let mut kit = kit_on(OFP_VERSION_1_4);
    kit.answer_switch_requests(|_, _| vec![corpus("of14/5-30-ofp_port_stats_reply.packet")]);
    let response = kit.http("GET", "/stats/port/1/7", b"");
    assert_eq!(response.status, 200, "{response}");
    let port = &json_of(&response)["1"][0];
    assert_eq!(port["port_no"], 7);
    assert_eq!(port["properties"][0]["type"], "ETHERNET");
    assert_eq!(port["properties"][1]["type"], "OPTICAL");
    assert_eq!(port["properties"][1]["bias_current"], 300);
    match &kit.take_sent()[0].message {
        Some(Message::V1_4(v1_4::Message::MultipartRequest(v1_4::MultipartRequest {
            body: v1_4::MultipartRequestBody::Common(MultipartRequestBody::PortStats { port_no }),
            ..
        }))) => assert_eq!(*port_no, 7),
        other => panic!("not a 1.4 port stats request: {other:?}"),
    }

    let mut kit = kit_on(OFP_VERSION_1_5);
    kit.answer_switch_requests(|_, _| vec![corpus("of15/libofproto-OFP15-port_desc_reply.packet")]);
    let response = kit.http("GET", "/stats/portdesc/1/LOCAL", b"");
    assert_eq!(response.status, 200, "{response}");
    let ports = json_of(&response)["1"].clone();
    assert!(ports[0]["properties"][0]["type"].is_string(), "{ports}");
    assert!(ports[0]["name"].is_string(), "{ports}");
    match &kit.take_sent()[0].message {
        Some(Message::V1_5(v1_5::Message::MultipartRequest(v1_5::MultipartRequest {
            body: v1_5::MultipartRequestBody::PortDesc { port_no },
            ..
        }))) => assert_eq!(*port_no, 0xffff_fffe, "1.5 asks for the one port"),
        other => panic!("not a 1.5 port desc request: {other:?}"),
    }
}

#[test]
fn a_1_2_datapath_gets_1_2_requests_and_ryus_1_2_json() {
    let mut kit = kit_on(OFP_VERSION_1_2);
    kit.answer_switch_requests(|_, request| match request {
        Message::V1_2(v1_2::Message::StatsRequest(v1_2::StatsRequest {
            body: MultipartRequestBody::PortStats { .. },
            ..
        })) => {
            let port = v1_3::multipart::PortStats { port_no: 1, rx_packets: 4, ..Default::default() };
            let body = v1_2::StatsReplyBody::PortStats(vec![port]);
            vec![Message::V1_2(v1_2::Message::StatsReply(v1_2::StatsReply { flags: 0, body }))]
        }
        Message::V1_2(v1_2::Message::StatsRequest(v1_2::StatsRequest {
            body: MultipartRequestBody::Flow(_), ..
        })) => {
            let flow = FlowStats { priority: 3, match_: v1_3::Match::new().in_port(2), ..Default::default() };
            let body = v1_2::StatsReplyBody::Common(MultipartReplyBody::Flow(vec![flow]));
            vec![Message::V1_2(v1_2::Message::StatsReply(v1_2::StatsReply { flags: 0, body }))]
        }
        other => barrier_reply(other).into_iter().collect(),
    });
    let port = &json_of(&kit.http("GET", "/stats/port/1", b""))["1"][0];
    assert_eq!(port["rx_packets"], 4);
    assert!(port.get("duration_sec").is_none(), "1.2 port stats have no durations: {port}");
    let flow = &json_of(&kit.http("GET", "/stats/flow/1", b""))["1"][0];
    assert_eq!(flow["match"], json!({"in_port": 2}));
    assert!(flow.get("flags").is_none(), "1.2 flow stats have no flags: {flow}");
    kit.take_sent();
    let response =
        kit.http("POST", "/stats/flowentry/add", br#"{"dpid": 1, "actions": [{"type": "OUTPUT", "port": 1}]}"#);
    assert_eq!(response.status, 200, "{response}");
    assert!(matches!(kit.take_sent()[0].message, Some(Message::V1_2(v1_2::Message::FlowMod(_)))));
    // 1.2 has no meters, as in Ryu.
    assert_eq!(kit.http("GET", "/stats/meter/1", b"").status, 501);
}

#[test]
fn endpoints_follow_ryus_module_for_each_version() {
    // Ryu's ofctl_v1_5 has meter descriptions and no meter configuration; ofctl_v1_4 the other way round; queue
    // descriptions only from 1.4 on, queue configuration only before.
    let mut kit = kit_on(OFP_VERSION_1_5);
    kit.connect(2, OFP_VERSION_1_4, &[1]);
    kit.connect(3, OFP_VERSION_1_3, &[1]);
    for (path, status) in [
        ("/stats/meterconfig/1", 501),
        ("/stats/meterdesc/1", 504),
        ("/stats/meterconfig/2", 504),
        ("/stats/meterdesc/2", 501),
        ("/stats/queueconfig/2", 501),
        ("/stats/queuedesc/2/ALL/1", 504),
        ("/stats/queuedesc/3", 501),
        ("/stats/queueconfig/3", 504),
    ] {
        assert_eq!(kit.http("GET", path, b"").status, status, "GET {path}");
    }
}

#[test]
fn a_1_5_group_entry_has_buckets_with_properties() {
    let mut kit = kit_on(OFP_VERSION_1_5);
    kit.answer_switch_requests(|_, request| barrier_reply(request).into_iter().collect());
    let body = br#"{"dpid": 1, "type": "SELECT", "group_id": 4, "buckets": [{"bucket_id": 1,
                    "actions": [{"type": "OUTPUT", "port": 2}], "properties": [{"type": "WEIGHT", "weight": 5}]}]}"#;
    let response = kit.http("POST", "/stats/groupentry/add", body);
    assert_eq!(response.status, 200, "{response}");
    match &kit.take_sent()[0].message {
        Some(Message::V1_5(v1_5::Message::GroupMod(group))) => {
            assert_eq!((group.group_type, group.group_id, group.buckets.len()), (1, 4, 1));
            assert_eq!(group.buckets[0].bucket_id, 1);
            assert_eq!(group.command_bucket_id, 0xffff_ffff, "OFPG_BUCKET_ALL when the body has none");
            assert_eq!(
                group.buckets[0].properties,
                vec![tatsu_plugin_api::ofproto::props::Prop::Known(v1_5::BucketProp::Weight(5))]
            );
        }
        other => panic!("not a 1.5 group mod: {other:?}"),
    }
}

#[test]
fn flow_descriptions_on_1_5_have_instructions_and_statistics() {
    let mut kit = kit_on(OFP_VERSION_1_5);
    kit.answer_switch_requests(|_, request| match request {
        Message::V1_5(v1_5::Message::MultipartRequest(v1_5::MultipartRequest {
            body: v1_5::MultipartRequestBody::FlowDesc(filter),
            ..
        })) => {
            assert_eq!(filter.table_id, 0xff);
            let entry = v1_5::FlowDesc {
                table_id: 0,
                priority: 9,
                idle_timeout: 0,
                hard_timeout: 0,
                flags: 0,
                importance: 2,
                cookie: 77,
                match_: v1_3::Match::new().in_port(1),
                stats: Stats::default().with(Oxs::new(OxsField::PacketCount, 5)),
                instructions: vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::output(2)])],
            };
            let body = v1_5::MultipartReplyBody::FlowDesc(vec![entry]);
            vec![Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply { flags: 0, body }))]
        }
        other => panic!("not a 1.5 flow desc request: {other:?}"),
    });
    let response = kit.http("GET", "/stats/flowdesc/1", b"");
    assert_eq!(response.status, 200, "{response}");
    let flow = &json_of(&response)["1"][0];
    assert_eq!((flow["cookie"].clone(), flow["importance"].clone()), (json!(77), json!(2)));
    assert_eq!(flow["stats"], json!({"packet_count": 5}));
    assert_eq!(flow["instructions"][0]["type"], "APPLY_ACTIONS");
    assert_eq!(
        flow["instructions"][0]["actions"][0],
        json!({"type": "OUTPUT", "port": 2, "max_len": 65535, "len": 16})
    );
}
