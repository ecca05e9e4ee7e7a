//! The app through the test kit: the topology's events are published to it as the topology app would.

use std::net::Ipv4Addr;

use tatsu_plugin_api::ofproto::portable::{Encode, FlowModCommand};
use tatsu_plugin_api::ofproto::{v1_0, OFP_VERSION_1_0, OFP_VERSION_1_3};
use tatsu_plugin_api::packet::build::{self, EthHeader};
use tatsu_plugin_api::testing::{Sent, TestKit};
use tatsu_plugin_api::{Action, App, FlowMod, MacAddr, Match, PacketOut};
use tatsu_topology_api::{GetHosts, GetLinks, GetSwitches, Host, HostAdd, HostMove, Link, LinkAdd, LinkDelete};
use tatsu_topology_api::{Port, PortModify, PortRef, Switch, SwitchLeave};

use super::*;

const VERSIONS: [u8; 2] = [OFP_VERSION_1_0, OFP_VERSION_1_3];

fn at(dpid: u64, port_no: u32) -> PortRef {
    PortRef { dpid, port_no }
}

fn mac(n: u8) -> MacAddr {
    MacAddr([0, 0, 0, 0, 0, n])
}

fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// An IPv4-ish frame from host `src` to host `dst`.
fn frame(src: u8, dst: u8) -> Vec<u8> {
    build::ethernet(&EthHeader::new(mac(src), mac(dst)), 0x0800, &[0x45, src, dst, 0, 0, 0, 0, 0])
}

fn broadcast(src: u8, tag: u8) -> Vec<u8> {
    build::ethernet(&EthHeader::new(mac(src), MacAddr::BROADCAST), 0x0800, &[0x45, src, tag])
}

fn host(n: u8, port: PortRef) -> Host {
    Host { mac: mac(n), port, ipv4: vec![ip(n)], ipv6: vec![] }
}

/// The app with short timeouts, priority 5 and a long echo window; nothing connected.
fn app() -> TestKit<Forwarding> {
    app_with_window(60_000)
}

fn app_with_window(echo_window_ms: u64) -> TestKit<Forwarding> {
    let config = serde_json::json!({"idle_timeout": 10, "priority": 5, "echo_window_ms": echo_window_ms});
    TestKit::<Forwarding>::with_config(config).unwrap_or_else(|e| panic!("{e}"))
}

/// Both directions of a cable.
fn cable(kit: &mut TestKit<Forwarding>, a: PortRef, b: PortRef) {
    kit.publish(&LinkAdd { link: Link { src: a, dst: b } });
    kit.publish(&LinkAdd { link: Link { src: b, dst: a } });
}

/// A ring s1 - s2 - s3 - s4 - s1 speaking `version`: port 2 to the next switch, port 1 to the previous one, host
/// `n` on port 3 of switch `n`, known to the topology. s2 has a fourth port, with no host yet.
fn ring(version: u8) -> TestKit<Forwarding> {
    ring_in(app(), version)
}

fn ring_in(mut kit: TestKit<Forwarding>, version: u8) -> TestKit<Forwarding> {
    for dpid in 1..=4 {
        kit.connect(dpid, version, if dpid == 2 { &[1, 2, 3, 4] } else { &[1, 2, 3] });
    }
    for dpid in 1..=4 {
        cable(&mut kit, at(dpid, 2), at(dpid % 4 + 1, 1));
    }
    for n in 1..=4 {
        kit.publish(&HostAdd { host: host(n, at(u64::from(n), 3)) });
    }
    kit.take_sent();
    kit
}

/// The flow a path puts on a switch for packets from `src` to `dst`.
fn flow(in_port: u32, out_port: u32, src: u8, dst: u8) -> FlowMod {
    FlowMod::add(Match::new().in_port(in_port).eth_src(mac(src)).eth_dst(mac(dst)))
        .priority(5)
        .idle_timeout(10)
        .cookie(COOKIE)
        .actions([Action::output(out_port)])
}

/// The deletion of that flow.
fn delete(in_port: u32, src: u8, dst: u8) -> FlowMod {
    FlowMod::new(FlowModCommand::DeleteStrict, Match::new().in_port(in_port).eth_src(mac(src)).eth_dst(mac(dst)))
        .priority(5)
        .cookie(COOKIE)
}

/// Asserts that `sent` is `message` to switch `dpid`.
#[track_caller]
fn assert_sent(sent: &Sent, dpid: u64, message: impl Encode + Clone + std::fmt::Debug) {
    assert!(sent.dpid == dpid && sent.is(message.clone()), "expected {message:?} to {dpid}, got {sent:?}");
}

#[track_caller]
fn assert_no_faults(kit: &TestKit<Forwarding>) {
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}

#[test]
fn a_1_3_switch_gets_a_table_miss_flow_and_a_1_0_switch_is_asked_for_whole_frames() {
    let mut kit = app();
    kit.connect(1, OFP_VERSION_1_3, &[1, 2]);
    kit.connect(2, OFP_VERSION_1_0, &[1, 2]);
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let table_miss = FlowMod::add(Match::new()).priority(0).cookie(COOKIE).actions([Action::Controller(0xffff)]);
    assert_sent(&sent[0], 1, table_miss);
    let whole_frames = v1_0::SwitchConfig { flags: 0, miss_send_len: u16::MAX };
    assert_sent(&sent[1], 2, v1_0::Message::SetConfig(whole_frames));
}

#[test]
fn a_known_destination_gets_a_flow_on_every_switch_of_the_path_last_first_then_the_packet() {
    for version in VERSIONS {
        let mut kit = ring(version);
        // s1 to s3: two hops either way round; the tie goes to s2 (s3's port 1 comes first).
        kit.packet_in(1, 3, &frame(1, 3));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 4, "{version}: {sent:?}");
        assert_sent(&sent[0], 3, flow(1, 3, 1, 3));
        assert_sent(&sent[1], 2, flow(1, 2, 1, 3));
        assert_sent(&sent[2], 1, flow(3, 2, 1, 3));
        assert_sent(&sent[3], 1, PacketOut::new(frame(1, 3), [Action::output(2)]).in_port(3));
        let hops = kit.app().paths().get(&(mac(1), mac(3))).map(<[Hop]>::to_vec);
        assert_eq!(hops.map(|hops| hops.len()), Some(3));
        // The way back is its own path, and its tie goes through s4 (s1's port 1 comes first).
        kit.packet_in(3, 3, &frame(3, 1));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 4, "{version}: {sent:?}");
        assert_sent(&sent[0], 1, flow(1, 3, 3, 1));
        assert_sent(&sent[1], 4, flow(1, 2, 3, 1));
        assert_sent(&sent[2], 3, flow(3, 2, 3, 1));
        // Hosts on one switch: one flow.
        kit.publish(&HostAdd { host: host(9, at(2, 4)) });
        kit.packet_in(2, 3, &frame(2, 9));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 2, "{version}: {sent:?}");
        assert_sent(&sent[0], 2, flow(3, 4, 2, 9));
        assert_eq!(kit.app().paths().len(), 3);
        assert_no_faults(&kit);
    }
}

#[test]
fn a_buffered_packet_is_released_by_the_first_switchs_flow_mod() {
    let mut kit = ring(OFP_VERSION_1_0);
    let data = frame(1, 2);
    let total_len = u16::try_from(data.len()).unwrap_or_default();
    kit.receive(1, v1_0::Message::PacketIn(v1_0::PacketIn { buffer_id: 77, total_len, in_port: 3, reason: 0, data }));
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_sent(&sent[0], 2, flow(1, 3, 1, 2));
    assert_sent(&sent[1], 1, flow(3, 2, 1, 2).buffer_id(77));
}

#[test]
fn broadcasts_go_once_to_every_edge_port_and_never_to_a_link_port_or_back() {
    for version in VERSIONS {
        let mut kit = ring(version);
        kit.packet_in(1, 3, &broadcast(1, 0));
        let sent = kit.take_sent();
        // s1's only edge port is where it came from; s2 has two.
        assert_eq!(sent.len(), 3, "{version}: {sent:?}");
        assert_sent(&sent[0], 2, PacketOut::new(broadcast(1, 0), [Action::output(3), Action::output(4)]));
        assert_sent(&sent[1], 3, PacketOut::new(broadcast(1, 0), [Action::output(3)]));
        assert_sent(&sent[2], 4, PacketOut::new(broadcast(1, 0), [Action::output(3)]));
        // An unknown unicast destination, from s2: the other edge port of s2 is sent to by the ingress switch.
        kit.packet_in(2, 3, &frame(2, 7));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 4, "{version}: {sent:?}");
        assert_sent(&sent[0], 1, PacketOut::new(frame(2, 7), [Action::output(3)]));
        assert_sent(&sent[1], 2, PacketOut::new(frame(2, 7), [Action::output(4)]).in_port(3));
        assert_no_faults(&kit);
    }
}

#[test]
fn a_copy_that_comes_back_is_dropped_and_not_learned_from() {
    for version in VERSIONS {
        let mut kit = ring(version);
        kit.packet_in(1, 3, &broadcast(5, 1));
        assert_eq!(kit.take_sent().len(), 3);
        assert_eq!(kit.app().hosts().locate(mac(5)), Some(at(1, 3)));
        // s3's port 3 was no edge port after all: the copy comes in at s4.
        kit.packet_in(4, 3, &broadcast(5, 1));
        assert!(kit.take_sent().is_empty());
        assert_eq!(kit.app().hosts().locate(mac(5)), Some(at(1, 3)));
        // And copies of unknown unicast too.
        kit.packet_in(1, 3, &frame(5, 8));
        assert_eq!(kit.take_sent().len(), 3);
        kit.packet_in(2, 4, &frame(5, 8));
        assert!(kit.take_sent().is_empty());
        // Another frame from the same host is delivered.
        kit.packet_in(1, 3, &broadcast(5, 2));
        assert_eq!(kit.take_sent().len(), 3);
        // A broadcast that comes over a link was delivered where it entered the network: dropped, not learned.
        kit.packet_in(2, 1, &broadcast(6, 1));
        assert!(kit.take_sent().is_empty());
        assert_eq!(kit.app().hosts().locate(mac(6)), None);
        assert_no_faults(&kit);
    }
}

#[test]
fn the_window_lets_the_same_frame_through_again_later() {
    let config = serde_json::json!({"echo_window_ms": 0});
    let mut kit = TestKit::<Forwarding>::with_config(config).unwrap_or_else(|e| panic!("{e}"));
    kit.connect(1, OFP_VERSION_1_0, &[1, 2]);
    kit.take_sent();
    kit.packet_in(1, 1, &broadcast(1, 0));
    kit.packet_in(1, 1, &broadcast(1, 0));
    assert_eq!(kit.take_sent().len(), 2);
}

#[test]
fn arp_requests_for_known_hosts_are_answered_by_proxy_and_others_delivered_to_edge_ports() {
    for version in VERSIONS {
        let mut kit = ring(version);
        kit.packet_in(1, 3, &build::arp_request(mac(1), ip(1), ip(3)));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 1, "{version}: {sent:?}");
        assert_sent(&sent[0], 1, PacketOut::new(build::arp_reply(mac(3), ip(3), mac(1), ip(1)), [Action::output(3)]));
        // Nobody known has 10.0.0.99: delivered to every edge port.
        let request = build::arp_request(mac(1), ip(1), ip(99));
        kit.packet_in(1, 3, &request);
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 3, "{version}: {sent:?}");
        assert_sent(&sent[1], 3, PacketOut::new(request, [Action::output(3)]));
        // A new host on s2 asks for h1; its own address is learned from its request, and h1 asking for it is
        // answered.
        kit.packet_in(2, 4, &build::arp_request(mac(9), ip(9), ip(1)));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 1, "{version}: {sent:?}");
        assert_sent(&sent[0], 2, PacketOut::new(build::arp_reply(mac(1), ip(1), mac(9), ip(9)), [Action::output(4)]));
        kit.packet_in(1, 3, &build::arp_request(mac(1), ip(1), ip(9)));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 1, "{version}: {sent:?}");
        assert_sent(&sent[0], 1, PacketOut::new(build::arp_reply(mac(9), ip(9), mac(1), ip(1)), [Action::output(3)]));
        assert_no_faults(&kit);
    }
}

#[test]
fn a_link_delete_moves_its_paths_to_the_other_way_and_deletes_the_flows_left_over() {
    for version in VERSIONS {
        let mut kit = ring(version);
        kit.packet_in(1, 3, &frame(1, 3));
        kit.packet_in(4, 3, &frame(4, 1));
        kit.take_sent();
        kit.publish(&LinkDelete { link: Link { src: at(2, 2), dst: at(3, 1) } });
        let sent = kit.take_sent();
        // New flows last hop first (s1's replaces the old one: same match), then the old path's others deleted.
        assert_eq!(sent.len(), 5, "{version}: {sent:?}");
        assert_sent(&sent[0], 3, flow(2, 3, 1, 3));
        assert_sent(&sent[1], 4, flow(2, 1, 1, 3));
        assert_sent(&sent[2], 1, flow(3, 1, 1, 3));
        assert_sent(&sent[3], 2, delete(1, 1, 3));
        assert_sent(&sent[4], 3, delete(1, 1, 3));
        // The path from s4 to s1 did not use the link: untouched.
        assert_eq!(kit.app().paths().len(), 2);
        // The next packet that reaches the controller (its flows expired, say) takes the new way.
        kit.packet_in(1, 3, &frame(1, 3));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 4, "{version}: {sent:?}");
        assert_sent(&sent[1], 4, flow(2, 1, 1, 3));
        assert_sent(&sent[3], 1, PacketOut::new(frame(1, 3), [Action::output(1)]).in_port(3));
        assert_no_faults(&kit);
    }
}

#[test]
fn a_path_with_no_way_left_is_deleted_from_every_switch_and_forgotten() {
    for version in VERSIONS {
        let mut kit = app();
        for dpid in 1..=3 {
            kit.connect(dpid, version, &[1, 2, 3]);
        }
        cable(&mut kit, at(1, 2), at(2, 1));
        cable(&mut kit, at(2, 2), at(3, 1));
        kit.publish(&HostAdd { host: host(3, at(3, 3)) });
        kit.take_sent();
        kit.packet_in(1, 3, &frame(1, 3));
        assert_eq!(kit.take_sent().len(), 4);
        kit.publish(&LinkDelete { link: Link { src: at(2, 2), dst: at(3, 1) } });
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 3, "{version}: {sent:?}");
        assert_sent(&sent[0], 1, delete(3, 1, 3));
        assert_sent(&sent[1], 2, delete(1, 1, 3));
        assert_sent(&sent[2], 3, delete(1, 1, 3));
        assert!(kit.app().paths().is_empty());
        // With no path, the controller hands packets to the destination's port itself.
        kit.packet_in(1, 3, &frame(1, 3));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 1, "{version}: {sent:?}");
        assert_sent(&sent[0], 3, PacketOut::new(frame(1, 3), [Action::output(3)]));
        assert_no_faults(&kit);
    }
}

#[test]
fn a_port_going_down_or_a_switch_leaving_takes_its_paths_round_the_other_way() {
    for version in VERSIONS {
        let mut kit = ring(version);
        kit.packet_in(1, 3, &frame(1, 3));
        kit.take_sent();
        let port = |live| Port { dpid: 2, port_no: 2, hw_addr: mac(0xee), name: "s2-eth2".into(), live };
        kit.publish(&PortModify { port: port(false) });
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 5, "{version}: {sent:?}");
        assert_sent(&sent[1], 4, flow(2, 1, 1, 3));
        assert_sent(&sent[3], 2, delete(1, 1, 3));
        // Back up, then s4 goes: round by s2 again (s4 is not sent to: it is gone).
        kit.publish(&PortModify { port: port(true) });
        assert!(kit.take_sent().is_empty());
        kit.disconnect(4, "test");
        kit.publish(&SwitchLeave { switch: Switch { dpid: 4, ports: vec![] } });
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 4, "{version}: {sent:?}");
        assert_sent(&sent[0], 3, flow(1, 3, 1, 3));
        assert_sent(&sent[1], 2, flow(1, 2, 1, 3));
        assert_sent(&sent[2], 1, flow(3, 2, 1, 3));
        assert_sent(&sent[3], 3, delete(2, 1, 3));
        assert_eq!(kit.app().hosts().locate(mac(4)), None);
        assert_no_faults(&kit);
    }
}

#[test]
fn a_host_that_moves_has_its_paths_moved_or_removed() {
    // No echo window: the move is not taken for an echo of h3's own packet.
    let mut kit = ring_in(app_with_window(0), OFP_VERSION_1_3);
    kit.packet_in(1, 3, &frame(1, 3));
    kit.packet_in(3, 3, &frame(3, 1));
    kit.take_sent();
    // h3 is now on s2's port 4.
    kit.publish(&HostMove { host: host(3, at(2, 4)), from: at(3, 3) });
    let sent = kit.take_sent();
    // The path from it (s3, s4, s1) is deleted; the path to it now ends at s2 (whose flow is replaced: same
    // match), so only s3's flow of it is deleted.
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert_sent(&sent[0], 3, delete(3, 3, 1));
    assert_sent(&sent[1], 4, delete(1, 3, 1));
    assert_sent(&sent[2], 1, delete(1, 3, 1));
    assert_sent(&sent[3], 2, flow(1, 4, 1, 3));
    assert_sent(&sent[4], 1, flow(3, 2, 1, 3));
    assert_sent(&sent[5], 3, delete(1, 1, 3));
    assert_eq!(kit.app().paths().len(), 1);
    // Learning it from a packet-in does the same; here it comes back to s3 and talks.
    kit.packet_in(3, 3, &frame(3, 1));
    assert_eq!(kit.app().hosts().locate(mac(3)), Some(at(3, 3)));
    assert_no_faults(&kit);
}

#[test]
fn hosts_are_never_learned_on_link_ports_and_a_new_link_forgets_those_learned_at_it() {
    let mut kit = ring(OFP_VERSION_1_3);
    kit.packet_in(2, 1, &frame(7, 1));
    assert_eq!(kit.app().hosts().locate(mac(7)), None);
    kit.publish(&HostAdd { host: host(8, at(2, 1)) });
    assert_eq!(kit.app().hosts().locate(mac(8)), None);
    // s2's port 4 turns out to be linked to s4's port 4: what was learned there was not a host.
    kit.packet_in(2, 4, &frame(9, 1));
    assert_eq!(kit.app().hosts().locate(mac(9)), Some(at(2, 4)));
    kit.packet_in(1, 3, &frame(1, 9));
    assert_eq!(kit.app().paths().len(), 2);
    kit.take_sent();
    cable(&mut kit, at(2, 4), at(4, 4));
    assert_eq!(kit.app().hosts().locate(mac(9)), None);
    assert_eq!(kit.app().paths().len(), 0);
    assert_eq!(kit.take_sent().len(), 4, "the flows of both paths of 9 are deleted");
    assert_no_faults(&kit);
}

#[test]
fn the_state_so_far_comes_from_the_topology_app_at_start_and_its_absence_is_no_fault() {
    let mut kit = app();
    kit.connect(1, OFP_VERSION_1_3, &[1, 2]);
    kit.connect(2, OFP_VERSION_1_3, &[1, 2]);
    kit.take_sent();
    let ports = |dpid| {
        let port = |port_no| Port { dpid, port_no, hw_addr: mac(0xee), name: String::new(), live: true };
        vec![port(1), port(2)]
    };
    kit.serve::<GetSwitches>(move |_| {
        Ok(vec![Switch { dpid: 1, ports: ports(1) }, Switch { dpid: 2, ports: ports(2) }])
    });
    let cable = Link { src: at(1, 2), dst: at(2, 1) };
    kit.serve::<GetLinks>(move |_| Ok(vec![cable, cable.reversed()]));
    kit.serve::<GetHosts>(|_| Ok(vec![host(2, at(2, 2))]));
    let ctx = kit.context();
    kit.app_mut().start(&ctx).unwrap_or_else(|e| panic!("{e}"));
    kit.take_sent();
    kit.packet_in(1, 1, &frame(1, 2));
    let sent = kit.take_sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_sent(&sent[0], 2, flow(1, 2, 1, 2));
    assert_sent(&sent[1], 1, flow(1, 2, 1, 2));
    // The kit started the app with no topology app at all: it followed events, with no fault.
    assert_no_faults(&kit);
}

#[test]
fn lldp_and_other_link_local_frames_are_ignored_and_a_runt_frame_is_a_fault() {
    let mut kit = ring(OFP_VERSION_1_3);
    let lldp = build::ethernet(&EthHeader::new(mac(1), MacAddr::LLDP_NEAREST_BRIDGE), 0x88cc, &[0; 8]);
    kit.packet_in(1, 3, &lldp);
    // Nor is anything else for the link-local groups: here STP's, and LLDP behind a VLAN tag.
    let stp = build::ethernet(&EthHeader::new(mac(1), MacAddr([0x01, 0x80, 0xc2, 0, 0, 0])), 0x0026, &[0x42; 8]);
    kit.packet_in(1, 3, &stp);
    let tagged = EthHeader::new(mac(1), MacAddr::LLDP_NEAREST_BRIDGE).with_vlan(5);
    kit.packet_in(1, 3, &build::ethernet(&tagged, 0x88cc, &[0; 8]));
    // A frame from a group address is no station's.
    kit.packet_in(1, 3, &build::ethernet(&EthHeader::new(MacAddr::BROADCAST, mac(3)), 0x0800, &[0x45; 8]));
    kit.packet_in(1, 3, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert!(kit.take_sent().is_empty());
    let faults = kit.faults();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(faults[0].contains("not an Ethernet frame"), "{faults:?}");
    assert_eq!(kit.app().hosts().locate(mac(1)), Some(at(1, 3)));
}

#[test]
fn unknown_config_keys_are_refused() {
    assert!(TestKit::<Forwarding>::with_config(serde_json::json!({"idle_timeot": 5})).is_err());
}

#[test]
fn a_successor_after_a_hot_restart_knows_the_paths_whose_flows_the_switches_kept() {
    let mut kit = ring(OFP_VERSION_1_3);
    kit.packet_in(1, 3, &frame(1, 3));
    let ctx = kit.context();
    let saved = kit.app_mut().save_state(&ctx).unwrap_or_else(|| panic!("nothing saved"));
    let mut successor = ring(OFP_VERSION_1_3);
    let ctx = successor.context();
    successor.app_mut().restore_state(&ctx, saved);
    assert_eq!(successor.app().paths().len(), 1);
    successor.publish(&LinkDelete { link: Link { src: at(2, 2), dst: at(3, 1) } });
    let sent = successor.take_sent();
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_sent(&sent[3], 2, delete(1, 1, 3));
    successor.app_mut().restore_state(&ctx, serde_json::json!({"paths": 3}));
    assert_eq!(successor.app().paths().len(), 1);
    assert_no_faults(&successor);
}

#[test]
fn nothing_is_learned_from_the_switchs_local_port() {
    let mut kit = ring(OFP_VERSION_1_3);
    kit.packet_in(1, tatsu_plugin_api::ofproto::portable::port::LOCAL, &broadcast(7, 0));
    assert_eq!(kit.app().hosts().locate(mac(7)), None);
    assert!(kit.take_sent().is_empty());
}

#[test]
fn the_topology_learning_a_host_from_a_copy_of_its_frame_is_ignored() {
    let mut kit = ring(OFP_VERSION_1_3);
    kit.packet_in(1, 3, &frame(1, 3));
    kit.take_sent();
    // The topology app saw a copy of h1's frame come in at s2's port 4 (a link it has not found yet).
    kit.publish(&HostMove { host: host(1, at(2, 4)), from: at(1, 3) });
    assert_eq!(kit.app().hosts().locate(mac(1)), Some(at(1, 3)));
    // It finds the link and forgets the host there: h1 is where this app knows it, and stays.
    kit.publish(&tatsu_topology_api::HostDelete { host: host(1, at(2, 4)) });
    assert_eq!(kit.app().hosts().locate(mac(1)), Some(at(1, 3)));
    assert!(kit.take_sent().is_empty());
    assert_eq!(kit.app().paths().len(), 1);
    // Deleted where it is: forgotten, and its path deleted.
    kit.publish(&tatsu_topology_api::HostDelete { host: host(1, at(1, 3)) });
    assert_eq!(kit.app().hosts().locate(mac(1)), None);
    assert_eq!(kit.take_sent().len(), 3);
    assert_no_faults(&kit);
}

#[test]
fn sending_to_a_switch_that_has_just_gone_is_no_fault() {
    for version in VERSIONS {
        let mut kit = ring(version);
        // s1 is gone from the host, but the app has not had its leave event yet: to it, s1 is still there.
        let ctx = kit.context();
        kit.disconnect(1, "test");
        kit.app_mut().datapaths.insert(1, ctx.datapath_handle(1, version));
        let ports =
            (1..=3).map(|port_no| Port { dpid: 1, port_no, hw_addr: mac(0xee), name: String::new(), live: true });
        kit.publish(&tatsu_topology_api::SwitchEnter { switch: Switch { dpid: 1, ports: ports.collect() } });
        cable(&mut kit, at(1, 2), at(2, 1));
        cable(&mut kit, at(4, 2), at(1, 1));
        kit.take_sent();
        // h4 to h2 goes through s1: installing it sends to s1, and so does moving it off s1 when a link goes.
        kit.packet_in(4, 3, &frame(4, 2));
        assert_eq!(kit.take_sent().len(), 3, "s2's and s4's flows, and the packet (to nowhere)");
        kit.publish(&LinkDelete { link: Link { src: at(4, 2), dst: at(1, 1) } });
        let sent = kit.take_sent();
        assert!(sent.iter().all(|sent| sent.dpid != 1), "{sent:?}");
        assert_no_faults(&kit);
    }
}

#[test]
fn in_a_cluster_only_the_master_configures_a_switch_and_paths_over_other_hosts_switches_fail_quietly() {
    let config = serde_json::json!({"idle_timeout": 10, "priority": 5, "echo_window_ms": 60_000});
    let kit = TestKit::<Forwarding>::in_cluster("h0", config).unwrap_or_else(|e| panic!("{e}"));
    let mut kit = ring_in(kit, OFP_VERSION_1_3);
    // No role yet (nor as a slave): no table-miss flow.
    kit.set_role(2, tatsu_plugin_api::Role::Slave, 3);
    assert!(kit.take_sent().is_empty());
    for dpid in [1, 3, 4] {
        kit.set_role(dpid, tatsu_plugin_api::Role::Master, 3);
    }
    let sent = kit.take_sent();
    assert_eq!(sent.iter().map(|s| s.dpid).collect::<Vec<_>>(), [1, 3, 4], "{sent:?}");
    // s1 to s3 through s2, whose master is another host: its flow is that host's business, and no fault.
    kit.packet_in(1, 3, &frame(1, 3));
    let sent = kit.take_sent();
    assert_eq!(sent.iter().map(|s| s.dpid).collect::<Vec<_>>(), [3, 1, 1], "{sent:?}");
    // Mastership of s2 moves here: now it is configured.
    kit.set_role(2, tatsu_plugin_api::Role::Master, 4);
    assert_eq!(kit.take_sent().iter().map(|s| s.dpid).collect::<Vec<_>>(), [2]);
    assert_no_faults(&kit);
}
