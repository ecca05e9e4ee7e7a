//! Path computation and rerouting on a 32 x 32 torus: 1,024 switches, 4,096 links (`cargo bench -p forwarding`).
//!
//! Prints figures, asserts nothing about time:
//! - one shortest path across the torus (the farthest pair, and pairs spread over the torus);
//! - the shortest-path tree of every switch towards one destination;
//! - a broadcast delivered to every edge port, through the app (the kit recording every packet-out);
//! - a link failure under load, through the app itself (the test kit standing in for the host): every host has a
//!   path to the host of switch 1 and one to another host; the busiest link into switch 1 goes; the time is the
//!   whole event handler (trees, flow-mods encoded, and the kit recording and decoding each one), and the count is
//!   the flow-mods sent.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use forwarding::graph::Graph;
use forwarding::Forwarding;
use tatsu_plugin_api::ofproto::{v1_3, Message, OFP_VERSION_1_3};
use tatsu_plugin_api::packet::build::{self, EthHeader};
use tatsu_plugin_api::testing::TestKit;
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{Host, HostAdd, Link, LinkAdd, LinkDelete, PortRef};

const K: u64 = 32;
const HOST_PORT: u32 = 5;

/// Switch at row `r`, column `c` (wrapping).
fn id(r: u64, c: u64) -> u64 {
    (r % K) * K + (c % K) + 1
}

/// The torus's links: ports 1 east, 2 west, 3 south, 4 north, each cable both ways.
fn links() -> Vec<Link> {
    let at = |dpid, port_no| PortRef { dpid, port_no };
    let mut links = Vec::new();
    for r in 0..K {
        for c in 0..K {
            for (a, b) in [(at(id(r, c), 1), at(id(r, c + 1), 2)), (at(id(r, c), 3), at(id(r + 1, c), 4))] {
                links.push(Link { src: a, dst: b });
                links.push(Link { src: b, dst: a });
            }
        }
    }
    links
}

fn graph() -> Graph {
    let mut graph = Graph::new();
    for dpid in 1..=K * K {
        graph.set_switch(dpid, (1..=HOST_PORT).map(|port| (port, true)));
    }
    links().into_iter().for_each(|link| _ = graph.add_link(link));
    graph
}

/// Runs `f` for about a second; returns the mean time per call.
fn time(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

fn mac(dpid: u64) -> MacAddr {
    MacAddr::from_u64(0x0200_0000_0000 | dpid)
}

/// The kinds of flow-mods sent: (adds, deletes).
fn flow_mods(sent: &[tatsu_plugin_api::testing::Sent]) -> (usize, usize) {
    let commands = sent.iter().filter_map(|sent| match &sent.message {
        Some(Message::V1_3(v1_3::Message::FlowMod(flow))) => Some(flow.command),
        _ => None,
    });
    commands
        .fold((0, 0), |(adds, deletes), command| if command == 0 { (adds + 1, deletes) } else { (adds, deletes + 1) })
}

fn main() {
    let graph = graph();
    let (far, corner) = (id(K / 2, K / 2), id(0, 0));
    let hops = graph.shortest_path(corner, far).map(|path| path.len()).unwrap_or_default();
    let single = time(|| _ = black_box(graph.shortest_path(black_box(corner), black_box(far))));
    println!("torus {K}x{K}: {} switches, {} links", K * K, links().len());
    println!("shortest path, farthest pair ({hops} hops): {:.1} us", single.as_secs_f64() * 1e6);
    let mut pair = 0u64;
    let spread = time(|| {
        pair = pair.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (from, to) = ((pair >> 20) % (K * K) + 1, (pair >> 40) % (K * K) + 1);
        black_box(graph.shortest_path(from, to));
    });
    println!("shortest path, pairs spread over the torus: {:.1} us", spread.as_secs_f64() * 1e6);
    let tree = time(|| _ = black_box(graph.tree_to(black_box(far))));
    println!("tree of all {} switches towards one: {:.1} us", graph.tree_to(far).len(), tree.as_secs_f64() * 1e6);

    // The app, with a host on port 5 of every switch.
    let mut kit = TestKit::<Forwarding>::new().unwrap_or_else(|e| panic!("{e}"));
    for dpid in 1..=K * K {
        kit.connect(dpid, OFP_VERSION_1_3, &[1, 2, 3, 4, HOST_PORT]);
    }
    for link in links() {
        kit.publish(&LinkAdd { link });
    }
    for dpid in 1..=K * K {
        let host = Host { mac: mac(dpid), port: PortRef { dpid, port_no: HOST_PORT }, ipv4: vec![], ipv6: vec![] };
        kit.publish(&HostAdd { host });
    }
    kit.take_sent();
    // A broadcast: one packet-out per switch, to its host port.
    let mut tag = 0u32;
    let broadcast = time(|| {
        tag += 1;
        let payload = tag.to_be_bytes();
        let frame = build::ethernet(&EthHeader::new(mac(7), MacAddr::BROADCAST), 0x0800, &payload);
        kit.packet_in(7, HOST_PORT, &frame);
    });
    let packet_outs = kit.take_sent().len() / tag as usize;
    println!(
        "broadcast from one host: {:.2} ms, {packet_outs} packet-outs (one per switch but the ingress)",
        broadcast.as_secs_f64() * 1e3
    );
    let start = Instant::now();
    for dpid in 2..=K * K {
        let other = (dpid * 389) % (K * K) + 1;
        for dst in [1, other] {
            let frame = build::ethernet(&EthHeader::new(mac(dpid), mac(dst)), 0x0800, &[0x45; 28]);
            kit.packet_in(dpid, HOST_PORT, &frame);
        }
    }
    let setup = start.elapsed();
    let sent = kit.take_sent();
    let paths = kit.app().paths().len();
    println!(
        "{paths} paths set up by packet-ins: {:.1} us each, {} flow-mods in all",
        setup.as_secs_f64() * 1e6 / paths as f64,
        flow_mods(&sent).0
    );
    // The busiest link into switch 1: the one most paths cross.
    let into_1 = links().into_iter().filter(|link| link.dst.dpid == 1);
    let busiest =
        into_1.max_by_key(|link| kit.app().paths().using_link(link).len()).unwrap_or_else(|| panic!("no link"));
    let affected = kit.app().paths().using_link(&busiest).len();
    // The path computation alone: one tree per destination switch, each path read off its tree.
    let jobs: Vec<(u64, u64)> = kit
        .app()
        .paths()
        .using_link(&busiest)
        .iter()
        .filter_map(|key| Some((kit.app().paths().get(key)?.first()?.dpid, kit.app().hosts().locate(key.1)?.dpid)))
        .collect();
    let mut cut = graph.clone();
    cut.remove_link(&busiest);
    let mut trees = 0;
    let compute = time(|| {
        let mut by_destination = BTreeMap::new();
        for &(from, to) in &jobs {
            black_box(by_destination.entry(to).or_insert_with(|| cut.tree_to(to)).path_from(from));
        }
        trees = by_destination.len();
    });
    let start = Instant::now();
    kit.publish(&LinkDelete { link: busiest });
    let reroute = start.elapsed();
    let (adds, deletes) = flow_mods(&kit.take_sent());
    println!(
        "link {} -> {} fails: {affected} paths rerouted in {:.2} ms: {adds} flow-mods add, {deletes} delete",
        busiest.src,
        busiest.dst,
        reroute.as_secs_f64() * 1e3
    );
    println!("  of which path computation: {:.2} ms ({trees} trees)", compute.as_secs_f64() * 1e3);
    assert!(kit.faults().is_empty(), "{:?}", kit.faults());
}
