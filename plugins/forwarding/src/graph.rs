//! The network as forwarding sees it: switches with their ports, and directed links between ports; shortest paths
//! and shortest-path trees over the live part of it.
//!
//! Paths are computed backwards, by a breadth-first search from the destination switch over the links that lead
//! into each switch, tried in port order. So every switch's next hop towards a destination is fixed by the
//! topology alone (not by the order events came in), and the path from any switch of a path onwards is the rest
//! of that path: [`Graph::shortest_path`] and [`Graph::tree_to`] always agree.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tatsu_plugin_api::FastMap;
use tatsu_topology_api::{Link, PortRef};

/// Switches, ports and links.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    /// Each switch's ports, with whether the port is live (up, with link).
    switches: FastMap<u64, BTreeMap<u32, bool>>,
    /// The links, ordered by source port.
    links: BTreeSet<Link>,
    /// The same links reversed (ordered by destination port): what is at a port, from either side.
    reversed: BTreeSet<Link>,
    /// The links into each switch, by the port they arrive at: what a search back from a destination follows.
    inward: FastMap<u64, Vec<Link>>,
}

fn ports_of(dpid: u64) -> std::ops::RangeInclusive<PortRef> {
    PortRef { dpid, port_no: 0 }..=PortRef { dpid, port_no: u32::MAX }
}

/// The links (of an ordered set) whose source is on switch `dpid`.
fn leaving_switch(set: &BTreeSet<Link>, dpid: u64) -> impl Iterator<Item = &Link> {
    let ports = ports_of(dpid);
    let (low, high) = (*ports.start(), *ports.end());
    let (min, max) = (PortRef { dpid: 0, port_no: 0 }, PortRef { dpid: u64::MAX, port_no: u32::MAX });
    set.range(Link { src: low, dst: min }..=Link { src: high, dst: max })
}

/// The links (of an ordered set) whose source is `port`.
fn leaving_port(set: &BTreeSet<Link>, port: PortRef) -> impl Iterator<Item = &Link> {
    let (min, max) = (PortRef { dpid: 0, port_no: 0 }, PortRef { dpid: u64::MAX, port_no: u32::MAX });
    set.range(Link { src: port, dst: min }..=Link { src: port, dst: max })
}

impl Graph {
    /// An empty network.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds switch `dpid` with `ports` (number, live), or replaces the ports of a known one.
    pub fn set_switch(&mut self, dpid: u64, ports: impl IntoIterator<Item = (u32, bool)>) {
        self.switches.insert(dpid, ports.into_iter().collect());
    }

    /// Whether switch `dpid` is known.
    pub fn has_switch(&self, dpid: u64) -> bool {
        self.switches.contains_key(&dpid)
    }

    /// The known switches, by datapath id.
    pub fn switches(&self) -> Vec<u64> {
        let mut switches: Vec<u64> = self.switches.keys().copied().collect();
        switches.sort_unstable();
        switches
    }

    /// Removes switch `dpid` and every link to or from it; returns those links.
    pub fn remove_switch(&mut self, dpid: u64) -> Vec<Link> {
        self.switches.remove(&dpid);
        let mut gone: Vec<Link> = leaving_switch(&self.links, dpid).copied().collect();
        gone.extend(leaving_switch(&self.reversed, dpid).map(Link::reversed));
        for link in &gone {
            self.remove_link(link);
        }
        gone
    }

    /// Adds or updates a port (and its switch, if unknown).
    pub fn set_port(&mut self, port: PortRef, live: bool) {
        self.switches.entry(port.dpid).or_default().insert(port.port_no, live);
    }

    /// Removes a port and every link at it; returns those links.
    pub fn remove_port(&mut self, port: PortRef) -> Vec<Link> {
        if let Some(ports) = self.switches.get_mut(&port.dpid) {
            ports.remove(&port.port_no);
        }
        let gone = self.links_at(port);
        for link in &gone {
            self.remove_link(link);
        }
        gone
    }

    /// Whether `port` is up. A port of a known switch that no event described yet counts as live (a link was
    /// seen through it); a port of an unknown switch does not.
    pub fn port_live(&self, port: PortRef) -> bool {
        self.switches.get(&port.dpid).is_some_and(|ports| ports.get(&port.port_no).copied().unwrap_or(true))
    }

    /// Adds a link; false if it was known.
    pub fn add_link(&mut self, link: Link) -> bool {
        if !self.links.insert(link) {
            return false;
        }
        self.reversed.insert(link.reversed());
        let inward = self.inward.entry(link.dst.dpid).or_default();
        let at = inward.partition_point(|known| known.reversed() < link.reversed());
        inward.insert(at, link);
        true
    }

    /// Removes a link; false if it was not known.
    pub fn remove_link(&mut self, link: &Link) -> bool {
        if !self.links.remove(link) {
            return false;
        }
        self.reversed.remove(&link.reversed());
        if let Some(inward) = self.inward.get_mut(&link.dst.dpid) {
            inward.retain(|known| known != link);
            if inward.is_empty() {
                self.inward.remove(&link.dst.dpid);
            }
        }
        true
    }

    /// The links that leave from or arrive at `port`.
    pub fn links_at(&self, port: PortRef) -> Vec<Link> {
        let mut links: Vec<Link> = leaving_port(&self.links, port).copied().collect();
        links.extend(leaving_port(&self.reversed, port).map(Link::reversed));
        links
    }

    /// Whether `port` is an end of a known link (so no host is behind it).
    pub fn is_link_port(&self, port: PortRef) -> bool {
        leaving_port(&self.links, port).next().is_some() || leaving_port(&self.reversed, port).next().is_some()
    }

    /// The live ports of switch `dpid` that are not link ends: where hosts are, in port order.
    pub fn edge_ports(&self, dpid: u64) -> Vec<u32> {
        let Some(ports) = self.switches.get(&dpid) else { return Vec::new() };
        ports
            .iter()
            .filter(|&(&port_no, &live)| live && !self.is_link_port(PortRef { dpid, port_no }))
            .map(|(&port_no, _)| port_no)
            .collect()
    }

    /// Whether a packet can cross `link` now: both switches known and both ports live.
    fn usable(&self, link: &Link) -> bool {
        self.port_live(link.src) && self.port_live(link.dst)
    }

    /// The shortest path from switch `from` to switch `to`: the links to cross, in order (empty if they are the
    /// same switch); `None` if `to` cannot be reached over live links.
    pub fn shortest_path(&self, from: u64, to: u64) -> Option<Vec<Link>> {
        self.search(to, Some(from)).path_from(from)
    }

    /// Every switch's next hop towards switch `to` (the shortest-path tree rooted at `to`).
    pub fn tree_to(&self, to: u64) -> Tree {
        self.search(to, None)
    }

    /// Breadth-first search back from `to`, stopping once `stop_at` is reached.
    fn search(&self, to: u64, stop_at: Option<u64>) -> Tree {
        let mut tree = Tree { root: to, next: FastMap::default() };
        if !self.has_switch(to) {
            return tree;
        }
        let mut queue = VecDeque::from([to]);
        while let Some(here) = queue.pop_front() {
            if stop_at == Some(here) {
                break;
            }
            for &link in self.inward.get(&here).into_iter().flatten() {
                let there = link.src.dpid;
                if there == to || tree.next.contains_key(&there) || !self.usable(&link) {
                    continue;
                }
                tree.next.insert(there, link);
                queue.push_back(there);
            }
        }
        tree
    }
}

/// A shortest-path tree towards one switch: the link each switch that can reach it crosses next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    root: u64,
    next: FastMap<u64, Link>,
}

impl Tree {
    /// The link `from` crosses next towards the root (`None` at the root, or if it cannot reach it).
    pub fn next_hop(&self, from: u64) -> Option<&Link> {
        self.next.get(&from)
    }

    /// How many switches (the root aside) reach the root.
    pub fn len(&self) -> usize {
        self.next.len()
    }

    /// Whether no switch but the root itself reaches it.
    pub fn is_empty(&self) -> bool {
        self.next.is_empty()
    }

    /// The links from `from` to the root, in order (empty at the root); `None` if `from` does not reach it.
    pub fn path_from(&self, from: u64) -> Option<Vec<Link>> {
        let mut path = Vec::new();
        let mut here = from;
        while here != self.root {
            let link = self.next.get(&here)?;
            path.push(*link);
            here = link.dst.dpid;
            if path.len() > self.next.len() {
                return None; // Cannot happen in a search tree; never loop on it.
            }
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dpid: u64, port_no: u32) -> PortRef {
        PortRef { dpid, port_no }
    }

    /// A cable: both directions.
    fn cable(graph: &mut Graph, a: PortRef, b: PortRef) {
        graph.add_link(Link { src: a, dst: b });
        graph.add_link(Link { src: b, dst: a });
    }

    /// Switches `1..=n`, each with ports 1..=ports, all live.
    fn switches(n: u64, ports: u32) -> Graph {
        let mut graph = Graph::new();
        for dpid in 1..=n {
            graph.set_switch(dpid, (1..=ports).map(|port| (port, true)));
        }
        graph
    }

    /// The switches a path visits, `from` first.
    fn visits(from: u64, path: &[Link]) -> Vec<u64> {
        std::iter::once(from).chain(path.iter().map(|link| link.dst.dpid)).collect()
    }

    /// s1 - s2 - ... - sn: port 2 to the right, port 1 to the left, port 3 for a host.
    fn linear(n: u64) -> Graph {
        let mut graph = switches(n, 3);
        for dpid in 1..n {
            cable(&mut graph, at(dpid, 2), at(dpid + 1, 1));
        }
        graph
    }

    /// A ring of `n`: port 2 clockwise, port 1 anticlockwise, port 3 for a host.
    fn ring(n: u64) -> Graph {
        let mut graph = linear(n);
        cable(&mut graph, at(n, 2), at(1, 1));
        graph
    }

    /// A `k` x `k` torus; switch `r * k + c + 1`; ports 1 east, 2 west, 3 south, 4 north, 5 host.
    fn torus(k: u64) -> Graph {
        let id = |r: u64, c: u64| (r % k) * k + (c % k) + 1;
        let mut graph = switches(k * k, 5);
        for r in 0..k {
            for c in 0..k {
                cable(&mut graph, at(id(r, c), 1), at(id(r, c + 1), 2));
                cable(&mut graph, at(id(r, c), 3), at(id(r + 1, c), 4));
            }
        }
        graph
    }

    #[test]
    fn a_linear_network_has_one_path_each_way() {
        let graph = linear(4);
        let path = graph.shortest_path(1, 4).unwrap_or_default();
        assert_eq!(visits(1, &path), [1, 2, 3, 4]);
        assert_eq!(path[0], Link { src: at(1, 2), dst: at(2, 1) });
        assert_eq!(visits(4, &graph.shortest_path(4, 1).unwrap_or_default()), [4, 3, 2, 1]);
        assert_eq!(graph.shortest_path(3, 3), Some(vec![]));
    }

    #[test]
    fn a_ring_goes_the_short_way_and_round_when_a_link_fails() {
        let mut graph = ring(6);
        assert_eq!(visits(1, &graph.shortest_path(1, 3).unwrap_or_default()), [1, 2, 3]);
        assert_eq!(visits(1, &graph.shortest_path(1, 5).unwrap_or_default()), [1, 6, 5]);
        graph.remove_link(&Link { src: at(2, 2), dst: at(3, 1) });
        assert_eq!(visits(1, &graph.shortest_path(1, 3).unwrap_or_default()), [1, 6, 5, 4, 3]);
        // The other direction still has its link.
        assert_eq!(visits(3, &graph.shortest_path(3, 1).unwrap_or_default()), [3, 2, 1]);
    }

    #[test]
    fn ties_on_a_torus_are_broken_the_same_way_whatever_the_order_links_came_in() {
        let graph = torus(3);
        // From s1 (0,0) to s5 (1,1): two paths of two hops, through s2 or s4.
        let path = graph.shortest_path(1, 5).unwrap_or_default();
        assert_eq!(path.len(), 2);
        let mut shuffled = switches(9, 5);
        let mut links: Vec<Link> = graph.links.iter().copied().collect();
        links.reverse();
        links.rotate_left(7);
        for link in links {
            shuffled.add_link(link);
        }
        assert_eq!(shuffled.shortest_path(1, 5), Some(path.clone()));
        // Every pair's path is a shortest one (at most 2 hops on a 3x3 torus) and agrees with the tree.
        for to in 1..=9 {
            let tree = graph.tree_to(to);
            assert_eq!(tree.len(), 8);
            for from in 1..=9 {
                let path = graph.shortest_path(from, to).unwrap_or_default();
                assert!(path.len() <= 2, "{from} -> {to}: {path:?}");
                assert_eq!(tree.path_from(from), Some(path));
            }
        }
    }

    #[test]
    fn the_rest_of_a_path_is_the_path_from_where_it_is() {
        let graph = torus(5);
        let path = graph.shortest_path(1, 13).unwrap_or_default();
        assert_eq!(path.len(), 4);
        for (i, link) in path.iter().enumerate() {
            assert_eq!(graph.shortest_path(link.src.dpid, 13).as_deref(), Some(&path[i..]));
        }
    }

    #[test]
    fn a_tree_reaches_every_leaf_through_its_parents() {
        // s1 root; s2, s3 under it (ports 1, 2); s4, s5 under s2; s6, s7 under s3 (uplink port 3 everywhere).
        let mut graph = switches(7, 3);
        for (parent, port, child) in [(1, 1, 2), (1, 2, 3), (2, 1, 4), (2, 2, 5), (3, 1, 6), (3, 2, 7)] {
            cable(&mut graph, at(parent, port), at(child, 3));
        }
        assert_eq!(visits(4, &graph.shortest_path(4, 7).unwrap_or_default()), [4, 2, 1, 3, 7]);
        assert_eq!(visits(5, &graph.shortest_path(5, 4).unwrap_or_default()), [5, 2, 4]);
        let tree = graph.tree_to(1);
        assert_eq!(tree.len(), 6);
        assert_eq!(tree.next_hop(6), Some(&Link { src: at(6, 3), dst: at(3, 1) }));
        assert_eq!(graph.edge_ports(4), [1, 2]);
        assert_eq!(graph.edge_ports(1), [3]);
    }

    #[test]
    fn no_path_to_a_cut_off_or_unknown_switch() {
        let mut graph = linear(3);
        graph.remove_link(&Link { src: at(2, 2), dst: at(3, 1) });
        assert_eq!(graph.shortest_path(1, 3), None);
        assert_eq!(graph.shortest_path(1, 9), None);
        assert!(graph.tree_to(9).is_empty());
        assert_eq!(graph.shortest_path(3, 1).map(|path| path.len()), Some(2));
    }

    #[test]
    fn dead_ports_and_gone_switches_take_their_links_out_of_paths() {
        let mut graph = ring(4);
        assert_eq!(visits(1, &graph.shortest_path(1, 2).unwrap_or_default()), [1, 2]);
        graph.set_port(at(2, 1), false);
        assert_eq!(visits(1, &graph.shortest_path(1, 2).unwrap_or_default()), [1, 4, 3, 2]);
        assert!(graph.is_link_port(at(2, 1)), "a dead port keeps its links until they are deleted");
        assert!(!graph.edge_ports(2).contains(&1));
        graph.set_port(at(2, 1), true);
        let gone = graph.remove_switch(3);
        assert_eq!(gone.len(), 4);
        assert_eq!(graph.shortest_path(1, 3), None);
        assert_eq!(visits(4, &graph.shortest_path(4, 2).unwrap_or_default()), [4, 1, 2]);
        assert_eq!(graph.remove_port(at(1, 2)).len(), 2);
        assert_eq!(graph.shortest_path(4, 2), None);
        assert_eq!(graph.edge_ports(1), [3]);
    }
}
