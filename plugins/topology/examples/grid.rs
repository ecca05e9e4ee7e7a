//! Discovery benchmark: N switches wired as a grid, emulated through the test kit (no host, no network), timed from
//! switches connecting to every link known, then one steady probe round.
//!
//! ```sh
//! cargo run --release -p topology --example grid            # 10, 100 and 1,000 switches
//! cargo run --release -p topology --example grid -- 2500    # other sizes
//! ```
//!
//! Switch `i` sits at row `(i - 1) / side`, column `(i - 1) % side` of a square of `side = ceil(sqrt(N))`; port 1
//! is cabled to the right neighbour's port 3 and port 2 to the lower neighbour's port 4, where there is one. Every
//! probe the app sends is delivered at once as a packet-in on the far end, if that switch is connected by then (a
//! probe towards a switch that has not joined is lost, as it would be). Everything runs on one thread that never
//! waits, so the times are its CPU time: the app's work and the kit's (which encodes every packet-in and decodes
//! every message the app sends, work a host does not do twice) together. Figures, not assertions.

use std::collections::HashMap;
use std::time::Instant;

use tatsu_plugin_api::ofproto::OFP_VERSION_1_3;
use tatsu_plugin_api::testing::TestKit;
use tatsu_topology_api::{GetLinks, PortRef};
use topology::Topology;

/// Resident memory of the process, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

struct Grid {
    kit: TestKit<Topology>,
    wires: HashMap<PortRef, PortRef>,
    connected: Vec<bool>,
    /// Probes delivered so far.
    delivered: u64,
}

impl Grid {
    fn new(n: u64) -> Grid {
        let side = (1..).find(|side| side * side >= n).unwrap_or(1);
        let mut wires = HashMap::new();
        let mut cable = |a: PortRef, b: PortRef| {
            wires.insert(a, b);
            wires.insert(b, a);
        };
        for i in 1..=n {
            let (row, column) = ((i - 1) / side, (i - 1) % side);
            if column + 1 < side && i < n {
                cable(PortRef { dpid: i, port_no: 1 }, PortRef { dpid: i + 1, port_no: 3 });
            }
            if (row + 1) * side + column < n {
                cable(PortRef { dpid: i, port_no: 2 }, PortRef { dpid: i + side, port_no: 4 });
            }
        }
        let kit = TestKit::<Topology>::new().unwrap_or_else(|e| panic!("{e}"));
        let slots = usize::try_from(n + 1).unwrap_or(usize::MAX);
        Grid { kit, wires, connected: vec![false; slots], delivered: 0 }
    }

    fn connect(&mut self, dpid: u64) {
        self.kit.connect(dpid, OFP_VERSION_1_3, &[1, 2, 3, 4]);
        if let Some(slot) = usize::try_from(dpid).ok().and_then(|i| self.connected.get_mut(i)) {
            *slot = true;
        }
    }

    /// Delivers every probe sent so far over the wires.
    fn deliver(&mut self) {
        for sent in self.kit.take_sent() {
            let Some((ports, data)) = sent.packet_out() else { continue };
            for port_no in ports {
                let Some(far) = self.wires.get(&PortRef { dpid: sent.dpid, port_no }).copied() else { continue };
                let connected = usize::try_from(far.dpid).ok().and_then(|i| self.connected.get(i)).copied();
                if connected == Some(true) {
                    self.kit.packet_in(far.dpid, far.port_no, data);
                    self.delivered += 1;
                }
            }
        }
    }

    fn links(&mut self) -> usize {
        self.kit.request(&GetLinks { dpid: None }).map(|links| links.len()).unwrap_or(0)
    }
}

fn run(n: u64) {
    let rss_before = rss_kib();
    let mut grid = Grid::new(n);
    let expected = grid.wires.len();

    let start = Instant::now();
    for dpid in 1..=n {
        grid.connect(dpid);
        grid.deliver();
    }
    let joined = start.elapsed();
    let known_at_join = grid.links();

    let start = Instant::now();
    let mut rounds = 0;
    let mut known = known_at_join;
    while known < expected && rounds < 10 {
        grid.kit.fire_timers();
        grid.deliver();
        rounds += 1;
        known = grid.links();
    }
    let to_full = start.elapsed();

    let delivered = grid.delivered;
    let start = Instant::now();
    grid.kit.fire_timers();
    grid.deliver();
    let round = start.elapsed();
    let probes = grid.delivered - delivered;
    let per_probe = round.as_nanos() / u128::from(probes.max(1));

    println!(
        "{n:>6} switches, {expected:>6} links: joined in {:>8.2} ms with {known_at_join} links known; \
         {rounds} round(s) and {:>8.2} ms more to all {known}; steady round {:>7.2} ms ({probes} probes, \
         {per_probe} ns each); RSS +{} KiB",
        joined.as_secs_f64() * 1e3,
        to_full.as_secs_f64() * 1e3,
        round.as_secs_f64() * 1e3,
        rss_kib().saturating_sub(rss_before),
    );
}

fn main() {
    let sizes: Vec<u64> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10, 100, 1_000] } else { sizes };
    for n in sizes {
        run(n);
    }
}
