//! The app through the test kit: switches wired by cables that turn the probes the app sends out of a port into
//! packet-ins on the port at the other end, as the neighbour's LLDP flow would.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::{json, Value};
use tatsu_plugin_api::ofproto::{OFP_VERSION_1_0, OFP_VERSION_1_3};
use tatsu_plugin_api::packet::build::{self, EthHeader};
use tatsu_plugin_api::packet::lldp::{ChassisId, Lldpdu, PortId};
use tatsu_plugin_api::testing::{self, Sent, TestKit};
use tatsu_plugin_api::AppEvent;

use super::*;

const OFPPR_ADD: u8 = 0;
const OFPPR_DELETE: u8 = 1;
const OFPPR_MODIFY: u8 = 2;

fn at(dpid: u64, port_no: u32) -> PortRef {
    PortRef { dpid, port_no }
}

fn link(src: (u64, u32), dst: (u64, u32)) -> Link {
    Link { src: at(src.0, src.1), dst: at(dst.0, dst.1) }
}

fn mac(last: u8) -> MacAddr {
    MacAddr::new(0, 0, 0, 0, 0, last)
}

/// An ARP request from host `last` (10.0.0.`last`).
fn arp_from(last: u8) -> Vec<u8> {
    build::arp_request(mac(last), Ipv4Addr::new(10, 0, 0, last), Ipv4Addr::new(10, 0, 0, 254))
}

/// A network of kit switches and the cables between their ports.
struct Net {
    kit: TestKit<Topology>,
    /// Where a frame sent out of a port arrives (both directions of a cable, or one for a one-way cable).
    wires: BTreeMap<PortRef, PortRef>,
    connected: BTreeSet<u64>,
}

impl Net {
    fn new() -> Self {
        Net::with_config(json!({"probe_interval": 1.0, "link_timeout": 3.0}))
    }

    fn with_config(config: Value) -> Self {
        let kit = TestKit::<Topology>::with_config(config).unwrap_or_else(|e| panic!("{e}"));
        Net { kit, wires: BTreeMap::new(), connected: BTreeSet::new() }
    }

    fn switch(&mut self, dpid: u64, version: u8, ports: &[u32]) -> &mut Self {
        self.kit.connect(dpid, version, ports);
        self.connected.insert(dpid);
        self
    }

    fn cable(&mut self, a: (u64, u32), b: (u64, u32)) -> &mut Self {
        self.wires.insert(at(a.0, a.1), at(b.0, b.1));
        self.wires.insert(at(b.0, b.1), at(a.0, a.1));
        self
    }

    /// Sends what the app sent out of switch ports down the wires (as packet-ins at the other end, if that switch
    /// is connected); returns everything else it sent.
    fn deliver(&mut self) -> Vec<Sent> {
        let mut rest = Vec::new();
        for sent in self.kit.take_sent() {
            let Some((ports, data)) = sent.packet_out() else {
                rest.push(sent);
                continue;
            };
            for port_no in ports {
                let far = self.wires.get(&at(sent.dpid, port_no)).copied();
                if let Some(far) = far.filter(|far| self.connected.contains(&far.dpid)) {
                    self.kit.packet_in(far.dpid, far.port_no, data);
                }
            }
        }
        rest
    }

    /// One probe round: the timer fires and the probes travel.
    fn round(&mut self) -> Vec<Sent> {
        self.kit.advance(Duration::from_secs(1));
        self.deliver()
    }

    fn links(&mut self) -> Vec<Link> {
        self.kit.request(&GetLinks { dpid: None }).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hosts(&mut self) -> Vec<Host> {
        self.kit.request(&GetHosts { dpid: None }).unwrap_or_else(|e| panic!("{e}"))
    }

    fn events<E: AppEvent>(&mut self) -> Vec<E> {
        self.kit.take_published::<E>()
    }

    /// The names of the events published since the last call, in order.
    fn event_names(&mut self) -> Vec<String> {
        self.kit.take_all_published().into_iter().map(|(name, _)| name).collect()
    }

    fn get(&mut self, path: &str) -> (u16, Value) {
        let response = self.kit.http("GET", path, b"");
        let body = serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{path}: {e}: {response}"));
        (response.status, body)
    }

    fn assert_no_faults(&self) {
        assert!(self.kit.faults().is_empty(), "{:?}", self.kit.faults());
    }
}

/// `s1:1 - s2:1`, `s2:2 - s3:1`, each with a free port 3 (1.0 for switch 2, 1.3 for the others), all links found.
fn line_of_three() -> Net {
    let mut net = Net::new();
    net.cable((1, 1), (2, 1)).cable((2, 2), (3, 1));
    net.switch(1, OFP_VERSION_1_3, &[1, 3]).switch(2, OFP_VERSION_1_0, &[1, 2, 3]).switch(3, OFP_VERSION_1_3, &[1, 3]);
    net.deliver();
    net.round();
    net.kit.take_all_published();
    net
}

#[test]
fn a_joining_switch_gets_the_lldp_flow_and_a_ryu_probe_on_each_live_port_in_either_version() {
    for version in [OFP_VERSION_1_0, OFP_VERSION_1_3] {
        let mut net = Net::new();
        net.switch(0x1234, version, &[1, 2, tatsu_plugin_api::ofproto::portable::port::LOCAL]);
        let sent = net.kit.take_sent();
        assert_eq!(sent.len(), 3, "{sent:?}");
        let flow = FlowMod::add(Match::new().eth_type(0x88cc).eth_dst(MacAddr::LLDP_NEAREST_BRIDGE))
            .priority(65535)
            .actions([Action::Controller(0xffff)]);
        assert!(sent[0].is(flow), "{version}: {sent:?}");
        for (sent, port_no) in sent[1..].iter().zip([1, 2]) {
            let hw_addr = testing::port(0x1234, port_no).hw_addr;
            let pdu = Lldpdu::new(ChassisId::local("dpid:0000000000001234"), PortId::port_component(port_no), 120);
            let frame = build::lldp(hw_addr, &pdu).unwrap_or_default();
            assert!(sent.is(PacketOut::new(frame, [Action::output(port_no)])), "{version}: {sent:?}");
        }
        let entered = net.events::<SwitchEnter>();
        assert_eq!(entered.len(), 1);
        let ports: Vec<(u32, bool, &str)> =
            entered[0].switch.ports.iter().map(|p| (p.port_no, p.live, p.name.as_str())).collect();
        assert_eq!(ports, [(1, true, "s4660-eth1"), (2, true, "s4660-eth2")]);
        net.assert_no_faults();
    }
}

#[test]
fn two_switches_of_different_versions_discover_both_directions_of_their_cable() {
    let mut net = Net::new();
    net.cable((1, 1), (2, 2));
    net.switch(1, OFP_VERSION_1_3, &[1, 2]);
    // Switch 2 is not connected yet: switch 1's first probe is lost.
    assert!(net.deliver().iter().all(|sent| sent.packet_out().is_none()));
    assert_eq!(net.links(), []);
    net.switch(2, OFP_VERSION_1_0, &[1, 2]);
    net.deliver();
    assert_eq!(net.links(), [link((2, 2), (1, 1))]);
    net.round();
    assert_eq!(net.links(), [link((1, 1), (2, 2)), link((2, 2), (1, 1))]);
    let added: Vec<Link> = net.events::<LinkAdd>().into_iter().map(|e| e.link).collect();
    assert_eq!(added, [link((2, 2), (1, 1)), link((1, 1), (2, 2))]);
    // Further rounds confirm the links without events.
    net.round();
    net.round();
    assert!(net.events::<LinkAdd>().is_empty());
    assert_eq!(net.links().len(), 2);
    net.assert_no_faults();
}

#[test]
fn links_age_out_after_the_timeout_in_rounds_when_probes_stop_coming() {
    let mut net = line_of_three();
    assert_eq!(net.links().len(), 4);
    // The cable between switches 2 and 3 stops carrying anything, with no port status (a broken fibre, a
    // switch in between). The link timeout is 3 rounds: the links were last seen in the round before.
    net.wires.remove(&at(2, 2));
    net.wires.remove(&at(3, 1));
    for _ in 0..3 {
        net.round();
        assert_eq!(net.links().len(), 4);
    }
    net.round();
    assert_eq!(net.links(), [link((1, 1), (2, 1)), link((2, 1), (1, 1))]);
    let deleted: Vec<Link> = net.events::<LinkDelete>().into_iter().map(|e| e.link).collect();
    assert_eq!(deleted, [link((2, 2), (3, 1)), link((3, 1), (2, 2))]);
    // It comes back with the cable.
    net.cable((2, 2), (3, 1));
    net.round();
    assert_eq!(net.links().len(), 4);
    assert_eq!(net.events::<LinkAdd>().len(), 2);
}

#[test]
fn a_port_going_down_removes_its_links_and_hosts_at_once_and_coming_up_probes_it_at_once() {
    let mut net = line_of_three();
    net.kit.packet_in(2, 3, &arp_from(9));
    assert_eq!(net.hosts().len(), 1);
    net.kit.take_all_published();
    let mut down = testing::port(2, 2);
    down.state = 1; // OFPPS_LINK_DOWN
    net.kit.port_status(2, OFPPR_MODIFY, &down);
    assert_eq!(net.links(), [link((1, 1), (2, 1)), link((2, 1), (1, 1))]);
    assert_eq!(net.event_names(), ["topology.link_delete", "topology.link_delete", "topology.port_modify"]);
    assert_eq!(net.hosts().len(), 1, "a host on another port stays");
    // A port down is not probed.
    net.kit.advance(Duration::from_secs(1));
    let probed: Vec<(u64, Vec<u32>)> =
        net.kit.take_sent().iter().filter_map(|s| Some((s.dpid, s.packet_out()?.0))).filter(|p| p.0 == 2).collect();
    assert_eq!(probed, [(2, vec![1]), (2, vec![3])]);

    // Up again: probed at once, not at the next round.
    net.kit.port_status(2, OFPPR_MODIFY, &testing::port(2, 2));
    let sent = net.deliver();
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(net.links(), [link((1, 1), (2, 1)), link((2, 1), (1, 1)), link((2, 2), (3, 1))]);
    let modified = net.events::<PortModify>();
    assert!(modified.len() == 1 && modified[0].port.live, "{modified:?}");
    net.assert_no_faults();
}

#[test]
fn a_deleted_port_loses_its_links_and_hosts_before_its_own_event_and_an_added_one_is_probed() {
    let mut net = line_of_three();
    net.kit.packet_in(1, 3, &arp_from(5));
    net.kit.take_all_published();
    net.kit.port_status(1, OFPPR_DELETE, &testing::port(1, 3));
    net.kit.port_status(1, OFPPR_DELETE, &testing::port(1, 1));
    assert_eq!(
        net.event_names(),
        [
            "topology.host_delete",
            "topology.port_delete",
            "topology.link_delete",
            "topology.link_delete",
            "topology.port_delete"
        ]
    );
    assert_eq!(net.hosts(), []);
    let switches = net.kit.request(&GetSwitches { dpid: Some(1) }).unwrap_or_default();
    assert_eq!(switches.len(), 1);
    assert!(switches[0].ports.is_empty());

    net.kit.port_status(1, OFPPR_ADD, &testing::port(1, 1));
    net.deliver();
    assert_eq!(net.events::<PortAdd>().len(), 1);
    assert_eq!(net.links(), [link((1, 1), (2, 1)), link((2, 2), (3, 1)), link((3, 1), (2, 2))]);
    net.assert_no_faults();
}

#[test]
fn a_leaving_switch_takes_its_links_both_ways_and_its_hosts_before_it_goes() {
    let mut net = line_of_three();
    net.kit.packet_in(2, 3, &arp_from(7));
    net.kit.packet_in(1, 3, &arp_from(8));
    net.kit.take_all_published();
    net.kit.disconnect(2, "test");
    net.connected.remove(&2);
    assert_eq!(
        net.event_names(),
        [
            "topology.link_delete",
            "topology.link_delete",
            "topology.link_delete",
            "topology.link_delete",
            "topology.host_delete",
            "topology.switch_leave"
        ]
    );
    assert_eq!(net.links(), []);
    assert_eq!(net.hosts().iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(8)]);
    let switches = net.kit.request(&GetSwitches { dpid: None }).unwrap_or_default();
    assert_eq!(switches.iter().map(|s| s.dpid).collect::<Vec<_>>(), [1, 3]);
    // Nothing is probed or learned for it any more.
    net.round();
    assert_eq!(net.links(), []);
    net.assert_no_faults();
}

#[test]
fn a_switch_that_joins_again_starts_afresh() {
    let mut net = line_of_three();
    net.switch(2, OFP_VERSION_1_3, &[1, 2]);
    let names = net.event_names();
    assert_eq!(names.iter().filter(|n| *n == "topology.link_delete").count(), 4, "{names:?}");
    assert_eq!(names[4..], ["topology.switch_leave", "topology.switch_enter"]);
    net.deliver();
    net.round();
    assert_eq!(net.links().len(), 4);
}

#[test]
fn hosts_are_learned_on_edge_ports_only_with_their_addresses() {
    let mut net = line_of_three();
    net.kit.packet_in(1, 3, &arp_from(1));
    // Traffic of a host behind switch 1 as switch 2 sees it, on the cable: not a host of switch 2.
    net.kit.packet_in(2, 1, &arp_from(1));
    let eth = EthHeader::new(mac(1), mac(2));
    let v4 = build::udp(
        &eth,
        "10.0.0.11:5000".parse().ok().unwrap_or_else(|| panic!()),
        "10.0.0.2:53".parse().ok().unwrap_or_else(|| panic!()),
        b"",
    )
    .unwrap_or_default();
    net.kit.packet_in(1, 3, &v4);
    let v6 = build::udp(
        &eth,
        "[2001:db8::1]:5000".parse().ok().unwrap_or_else(|| panic!()),
        "[2001:db8::2]:53".parse().ok().unwrap_or_else(|| panic!()),
        b"",
    )
    .unwrap_or_default();
    net.kit.packet_in(1, 3, &v6);
    let hosts = net.hosts();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!(hosts[0].port, at(1, 3));
    assert_eq!(hosts[0].ipv4, [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 11)]);
    assert_eq!(hosts[0].ipv6, ["2001:db8::1".parse().unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)]);
    let added = net.events::<HostAdd>();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].host.ipv4, [Ipv4Addr::new(10, 0, 0, 1)]);
    // Broadcast, multicast and zero sources are no hosts; a port the switch does not have neither.
    for src in [MacAddr::BROADCAST, MacAddr::new(0x33, 0x33, 0, 0, 0, 1), MacAddr::ZERO] {
        net.kit.packet_in(3, 3, &build::ethernet(&EthHeader::new(src, mac(1)), 0x0800, &[0x45; 20]));
    }
    net.kit.packet_in(3, 9, &arp_from(3));
    assert_eq!(net.hosts().len(), 1);
    assert_eq!(net.kit.request(&GetHosts { dpid: Some(3) }), Ok(vec![]));
    net.assert_no_faults();
}

#[test]
fn a_link_found_on_a_port_removes_the_hosts_learned_there() {
    let mut net = Net::new();
    net.switch(1, OFP_VERSION_1_3, &[1, 2]).switch(2, OFP_VERSION_1_3, &[1, 2]);
    net.deliver();
    // Before the link is known, switch 2 sees host 1's traffic on port 1 and takes it for a host there.
    net.kit.packet_in(1, 1, &arp_from(1));
    net.kit.packet_in(2, 1, &arp_from(2));
    assert_eq!(net.hosts().len(), 2);
    net.kit.take_all_published();
    net.cable((1, 2), (2, 1));
    net.round();
    assert_eq!(net.event_names(), ["topology.link_add", "topology.host_delete", "topology.link_add"]);
    assert_eq!(net.hosts().iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(1)]);
    net.kit.packet_in(2, 1, &arp_from(2));
    assert_eq!(net.hosts().len(), 1);
}

#[test]
fn a_host_moves_at_most_once_a_round_so_a_mac_on_two_ports_at_once_does_not_flap() {
    let mut net = line_of_three();
    net.kit.packet_in(1, 3, &arp_from(1));
    net.round();
    net.kit.packet_in(3, 3, &arp_from(1));
    let moves = net.events::<HostMove>();
    assert_eq!(moves.len(), 1);
    assert_eq!((moves[0].from, moves[0].host.port), (at(1, 3), at(3, 3)));
    assert_eq!(moves[0].host.ipv4, [Ipv4Addr::new(10, 0, 0, 1)]);
    // The same MAC keeps talking on both ports: no more moves this round.
    for _ in 0..100 {
        net.kit.packet_in(1, 3, &arp_from(1));
        net.kit.packet_in(3, 3, &arp_from(1));
    }
    assert!(net.events::<HostMove>().is_empty());
    assert_eq!(net.hosts()[0].port, at(3, 3));
    net.round();
    net.kit.packet_in(1, 3, &arp_from(1));
    assert_eq!(net.events::<HostMove>().len(), 1);
    assert!(net.events::<HostAdd>().len() == 1 && net.events::<HostDelete>().is_empty());
    net.assert_no_faults();
}

#[test]
fn lldp_that_is_not_a_probe_of_this_controllers_switches_is_ignored() {
    let mut net = line_of_three();
    let host = mac(0x42);
    let lldp = |chassis: ChassisId, port: PortId| {
        build::lldp(host, &Lldpdu::new(chassis, port, 120)).unwrap_or_else(|e| panic!("{e}"))
    };
    let mut truncated = lldp(ChassisId::local("dpid:0000000000000001"), PortId::port_component(3));
    truncated.truncate(24);
    let frames = [
        // A host's LLDP agent.
        lldp(ChassisId::mac(host), PortId::interface_name("eth0")),
        // Another controller's probe from a switch this one does not have.
        lldp(ChassisId::local("dpid:00000000000000aa"), PortId::port_component(1)),
        // Ours in form, from a port switch 1 does not have.
        lldp(ChassisId::local("dpid:0000000000000001"), PortId::port_component(9)),
        // A probe that came back to the port it left.
        lldp(ChassisId::local("dpid:0000000000000003"), PortId::port_component(3)),
        lldp(ChassisId::local("dpid:0000000000000001"), PortId::interface_name("s1-eth3")),
        truncated,
        build::ethernet(&EthHeader::new(host, MacAddr::LLDP_NEAREST_BRIDGE), 0x88cc, &[0xff; 3]),
    ];
    for _ in 0..3 {
        for frame in &frames {
            net.kit.packet_in(3, 3, frame);
        }
    }
    assert_eq!(net.links().len(), 4);
    assert_eq!(net.hosts(), []);
    assert!(net.kit.take_all_published().is_empty());
    assert!(net.kit.take_sent().is_empty());
    net.assert_no_faults();
}

#[test]
fn a_link_seen_one_way_only_is_kept_and_a_port_listed_twice_counts_once() {
    let mut net = Net::new();
    // Frames from switch 1's port 1 reach switch 2; nothing comes back.
    net.wires.insert(at(1, 1), at(2, 1));
    net.switch(2, OFP_VERSION_1_3, &[1, 1, 2]).switch(1, OFP_VERSION_1_3, &[1]);
    net.deliver();
    for _ in 0..6 {
        net.round();
    }
    assert_eq!(net.links(), [link((1, 1), (2, 1))]);
    let switches = net.kit.request(&GetSwitches { dpid: Some(2) }).unwrap_or_default();
    assert_eq!(switches[0].ports.iter().map(|p| p.port_no).collect::<Vec<_>>(), [1, 2]);
    // Neither end of a one-way link is an edge port.
    net.kit.packet_in(2, 1, &arp_from(1));
    net.kit.packet_in(1, 1, &arp_from(2));
    assert_eq!(net.hosts(), []);
    net.assert_no_faults();
}

#[test]
fn requests_answer_for_one_datapath_or_all() {
    let mut net = line_of_three();
    net.kit.packet_in(1, 3, &arp_from(1));
    net.kit.packet_in(3, 3, &arp_from(3));
    let all = net.kit.request(&GetSwitches { dpid: None }).unwrap_or_default();
    assert_eq!(all.iter().map(|s| (s.dpid, s.ports.len())).collect::<Vec<_>>(), [(1, 2), (2, 3), (3, 2)]);
    assert_eq!(net.kit.request(&GetSwitches { dpid: Some(9) }), Ok(vec![]));
    assert_eq!(net.kit.request(&GetLinks { dpid: Some(2) }), Ok(vec![link((2, 1), (1, 1)), link((2, 2), (3, 1))]));
    assert_eq!(net.kit.request(&GetLinks { dpid: None }).map(|l| l.len()), Ok(4));
    let on_3 = net.kit.request(&GetHosts { dpid: Some(3) }).unwrap_or_default();
    assert_eq!(on_3.iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(3)]);
    assert_eq!(net.kit.request(&GetHosts { dpid: None }).map(|h| h.len()), Ok(2));
}

#[test]
fn the_rest_api_answers_in_ryus_format() {
    let mut net = Net::new();
    net.cable((1, 1), (2, 1));
    net.switch(1, OFP_VERSION_1_3, &[1, 2]).switch(2, OFP_VERSION_1_0, &[1]);
    net.deliver();
    net.round();
    net.kit.packet_in(1, 2, &arp_from(1));
    let port = |dpid: u64, port_no: u32| {
        json!({
            "dpid": format!("{dpid:016x}"),
            "port_no": format!("{port_no:08x}"),
            "hw_addr": format!("02:00:{dpid:02x}:00:00:{port_no:02x}"),
            "name": format!("s{dpid}-eth{port_no}"),
        })
    };
    let s1 = json!({"dpid": "0000000000000001", "ports": [port(1, 1), port(1, 2)]});
    let s2 = json!({"dpid": "0000000000000002", "ports": [port(2, 1)]});
    assert_eq!(net.get("/v1.0/topology/switches"), (200, json!([s1, s2])));
    assert_eq!(net.get("/v1.0/topology/switches/0000000000000002"), (200, json!([s2])));
    assert_eq!(net.get("/v1.0/topology/switches/2"), (200, json!([s2])));
    assert_eq!(net.get("/v1.0/topology/switches/00000000000000ff"), (200, json!([])));
    let l12 = json!({"src": port(1, 1), "dst": port(2, 1)});
    let l21 = json!({"src": port(2, 1), "dst": port(1, 1)});
    assert_eq!(net.get("/v1.0/topology/links"), (200, json!([l12, l21])));
    assert_eq!(net.get("/v1.0/topology/links/0000000000000002"), (200, json!([l21])));
    let host = json!({"mac": "00:00:00:00:00:01", "ipv4": ["10.0.0.1"], "ipv6": [], "port": port(1, 2)});
    assert_eq!(net.get("/v1.0/topology/hosts"), (200, json!([host])));
    assert_eq!(net.get("/v1.0/topology/hosts/0000000000000001"), (200, json!([host])));
    assert_eq!(net.get("/v1.0/topology/hosts/0000000000000002"), (200, json!([])));
    // Field order as Ryu's dicts.
    let body = net.kit.http("GET", "/v1.0/topology/hosts", b"").body_text();
    assert!(body.starts_with(r#"[{"mac":"00:00:00:00:00:01","ipv4":["10.0.0.1"],"ipv6":[],"port":{"dpid":"#), "{body}");
    for bad in ["xyz", "00000000000000001", "-1", "0x1"] {
        let (status, body) = net.get(&format!("/v1.0/topology/links/{bad}"));
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"].as_str().is_some_and(|e| e.contains("invalid datapath id")), "{bad}: {body}");
    }
    net.assert_no_faults();
}

#[test]
fn a_successor_keeps_the_links_and_hosts_whose_ports_its_switches_have() {
    let mut net = line_of_three();
    net.kit.packet_in(1, 3, &arp_from(1));
    net.kit.packet_in(3, 3, &arp_from(3));
    let ctx = net.kit.context();
    let saved = net.kit.app_mut().save_state(&ctx).unwrap_or_else(|| panic!("nothing saved"));

    // The successor: the resumed switches join first, then the state arrives; switch 3 did not come back.
    let mut next = Net::new();
    next.switch(1, OFP_VERSION_1_3, &[1, 3]).switch(2, OFP_VERSION_1_0, &[1, 2, 3]);
    // Before the state arrives, switch 2 passes on host 1's traffic from the cable: it looks like a host there.
    next.kit.packet_in(2, 1, &arp_from(1));
    next.kit.take_all_published();
    let ctx = next.kit.context();
    next.kit.app_mut().restore_state(&ctx, saved);
    assert_eq!(next.links(), [link((1, 1), (2, 1)), link((2, 1), (1, 1))]);
    assert_eq!(next.hosts().iter().map(|h| (h.mac, h.port)).collect::<Vec<_>>(), [(mac(1), at(1, 3))]);
    assert_eq!(
        next.event_names(),
        ["topology.link_add", "topology.link_add", "topology.host_delete", "topology.host_add"]
    );
    // Kept links age like any other: without probes they go after the timeout.
    for _ in 0..4 {
        next.kit.advance(Duration::from_secs(1));
    }
    assert_eq!(next.links(), []);

    let ctx = next.kit.context();
    next.kit.app_mut().restore_state(&ctx, json!({"links": "nope"}));
    next.assert_no_faults();
}

#[test]
fn the_configuration_is_checked() {
    let created = |config: Value| TestKit::<Topology>::with_config(config).err();
    assert!(created(json!({"probe_interval": 0.5, "link_timeout": 2.0})).is_none());
    assert!(created(json!({"probe_interval": 2, "link_timeout": 10, "max_hosts": 10})).is_none());
    assert!(created(json!({"probe_interval": 1, "link_timout": 2})).is_some_and(|e| e.contains("unknown field")));
    assert!(created(json!({"probe_interval": 0.0})).is_some_and(|e| e.contains("probe_interval")));
    assert!(created(json!({"probe_interval": 2.0, "link_timeout": 1.0})).is_some_and(|e| e.contains("link_timeout")));
    let kit = TestKit::<Topology>::with_config(json!({"probe_interval": 0.5, "link_timeout": 1.2}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((kit.app().probe_interval, kit.app().link_timeout), (Duration::from_millis(500), 3));
}

#[test]
fn port_status_that_does_not_match_what_is_known_is_taken_as_what_it_is() {
    let mut net = line_of_three();
    // An add of a port switch 2 has: a change. A change of one it never had: an add.
    net.kit.port_status(2, OFPPR_ADD, &testing::port(2, 3));
    net.kit.port_status(2, OFPPR_MODIFY, &testing::port(2, 7));
    assert_eq!(net.event_names(), ["topology.port_modify", "topology.port_add"]);
    // A delete of a port it never had, a reason no version defines, a reserved port: nothing.
    net.kit.port_status(2, OFPPR_DELETE, &testing::port(2, 9));
    net.kit.port_status(2, 7, &testing::port(2, 1));
    net.kit.port_status(2, OFPPR_MODIFY, &testing::port(2, tatsu_plugin_api::ofproto::portable::port::LOCAL));
    assert!(net.kit.take_all_published().is_empty());
    let ports = net.kit.request(&GetSwitches { dpid: Some(2) }).unwrap_or_default()[0].ports.len();
    assert_eq!(ports, 4);
    assert_eq!(net.links().len(), 4);
    net.assert_no_faults();
}

#[test]
fn hosts_beyond_the_limit_are_not_learned() {
    let mut net = Net::with_config(json!({"max_hosts": 2}));
    net.switch(1, OFP_VERSION_1_3, &[1, 2, 3]);
    for (port_no, host) in [(1, 1), (2, 2), (3, 3)] {
        net.kit.packet_in(1, port_no, &arp_from(host));
    }
    assert_eq!(net.hosts().iter().map(|h| h.mac).collect::<Vec<_>>(), [mac(1), mac(2)]);
    net.assert_no_faults();
}

#[test]
fn a_port_whose_probes_reach_two_ports_has_a_link_to_each_and_nothing_flaps() {
    let mut net = Net::new();
    net.switch(2, OFP_VERSION_1_3, &[1]).switch(3, OFP_VERSION_1_3, &[1]).switch(1, OFP_VERSION_1_3, &[1]);
    net.kit.take_all_published();
    // A hub behind switch 1's port 1: each probe reaches switches 2 and 3.
    for _ in 0..3 {
        for sent in net.kit.take_sent() {
            if let Some((ports, data)) = sent.packet_out().filter(|_| sent.dpid == 1) {
                assert_eq!(ports, [1]);
                net.kit.packet_in(2, 1, data);
                net.kit.packet_in(3, 1, data);
            }
        }
        net.kit.advance(Duration::from_secs(1));
    }
    assert_eq!(net.links(), [link((1, 1), (2, 1)), link((1, 1), (3, 1))]);
    assert_eq!(net.event_names(), ["topology.link_add", "topology.link_add"]);
    net.assert_no_faults();
}

/// In a cluster: only a switch this host masters is discovered; its part goes to the store, the view (REST and
/// events) comes from every host's parts; a slave's part is withdrawn.
#[test]
fn in_a_cluster_the_master_discovers_and_publishes_and_the_view_is_every_hosts_parts() {
    let config = json!({"probe_interval": 1.0, "link_timeout": 3.0});
    let mut kit = TestKit::<Topology>::in_cluster("h0", config).unwrap_or_else(|e| panic!("{e}"));
    kit.connect(1, OFP_VERSION_1_3, &[1, 2]);
    assert!(kit.take_sent().is_empty(), "no probe to a switch this host does not master");
    kit.set_role(1, Role::Master, 5);
    let sent = kit.take_sent();
    assert!(sent.iter().any(|s| s.is(lldp_flow())), "the master installs the LLDP flow: {sent:?}");
    assert_eq!(sent.iter().filter(|s| s.packet_out().is_some()).count(), 2, "and probes both ports");
    let kv = kit.context().kv();
    let own = kv.get_json::<shared::Part>(&shared::part_key(1, "h0")).ok().flatten();
    assert_eq!(own.map(|part| part.switch.dpid), Some(1), "its part is published");
    assert_eq!(kit.take_published::<SwitchEnter>().len(), 1, "the view shows it once it is back from the store");

    // Another host's part of switch 2, with a link from switch 2 to switch 1 that host saw.
    let theirs = shared::Part {
        switch: Switch { dpid: 2, ports: vec![switches::topology_port(2, &testing::port(2, 1)).expect("a port")] },
        links: vec![link((1, 1), (2, 1))],
        hosts: vec![],
    };
    kv.put_json(&shared::part_key(2, "h1"), &theirs, true).unwrap_or_else(|e| panic!("{e}"));
    kit.advance(Duration::from_secs(1));
    let get = |kit: &mut TestKit<Topology>, path: &str| -> Value {
        serde_json::from_str(&kit.http("GET", path, b"").body_text()).unwrap_or(Value::Null)
    };
    let switches = get(&mut kit, "/v1.0/topology/switches");
    assert_eq!(switches.as_array().map(Vec::len), Some(2), "{switches}");
    let links = get(&mut kit, "/v1.0/topology/links");
    assert_eq!(links[0]["dst"]["dpid"], "0000000000000002", "{links}");
    assert_eq!(kit.take_published::<LinkAdd>().len(), 1);
    // A probe from switch 2's port arriving at switch 1 (mastered here) is a link: switch 2 is in the view.
    kit.packet_in(1, 2, &discovery::probe(2, 1, testing::port(2, 1).hw_addr));
    kit.advance(Duration::from_secs(1));
    let own = kv.get_json::<shared::Part>(&shared::part_key(1, "h0")).ok().flatten().expect("own part");
    assert_eq!(own.links, [link((2, 1), (1, 2))]);

    // Slave now: the switch is left to its new master, and this host's part goes.
    kit.set_role(1, Role::Slave, 6);
    assert_eq!(kv.get(&shared::part_key(1, "h0")).ok().flatten(), None);
    let left = kit.take_published::<SwitchLeave>();
    assert_eq!(left.iter().map(|e| e.switch.dpid).collect::<Vec<_>>(), [1]);
    // etcd lost: nothing breaks, and once it is back (after the back-off) the view catches up.
    kit.take_published::<SwitchEnter>();
    kit.set_kv_unavailable(Some("etcd lost"));
    kit.set_role(1, Role::Master, 7);
    kit.advance(Duration::from_secs(3));
    assert_eq!(kv.get(&shared::part_key(1, "h0")).map_err(|e| e.kind()), Err(KvErrorKind::Unavailable));
    kit.set_kv_unavailable(None);
    kit.advance(Duration::from_secs(6));
    assert!(kv.get(&shared::part_key(1, "h0")).ok().flatten().is_some(), "published once etcd is back");
    assert_eq!(kit.take_published::<SwitchEnter>().iter().map(|e| e.switch.dpid).collect::<Vec<_>>(), [1]);
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}
