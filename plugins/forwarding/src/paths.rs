//! The paths forwarding installed: for each (source, destination) MAC pair, the flow it put on each switch, indexed
//! by the ports those flows use so that a failed link, port or switch finds its paths at once.

use std::collections::{BTreeMap, BTreeSet};

use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{Link, PortRef};

/// One switch of a path: packets of the pair that come in on `in_port` go out of `out_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hop {
    /// The switch.
    pub dpid: u64,
    /// Where the pair's packets arrive.
    pub in_port: u32,
    /// Where they leave.
    pub out_port: u32,
}

impl Hop {
    /// Whether this hop and `other` are the same flow (same switch, same in port: the flows' matches are equal).
    pub fn same_flow(&self, other: &Hop) -> bool {
        (self.dpid, self.in_port) == (other.dpid, other.in_port)
    }
}

/// The hops of a path entering at `ingress`, crossing `links` (from `ingress`'s switch to `egress`'s, in order)
/// and leaving at `egress`.
pub fn hops(ingress: PortRef, links: &[Link], egress: PortRef) -> Vec<Hop> {
    let mut hops = Vec::with_capacity(links.len() + 1);
    let mut in_port = ingress.port_no;
    let mut dpid = ingress.dpid;
    for link in links {
        hops.push(Hop { dpid, in_port, out_port: link.src.port_no });
        (dpid, in_port) = (link.dst.dpid, link.dst.port_no);
    }
    hops.push(Hop { dpid, in_port, out_port: egress.port_no });
    hops
}

/// Which paths a flow serves: (source MAC, destination MAC).
pub type PathKey = (MacAddr, MacAddr);

/// The installed paths, one per (source, destination) pair.
#[derive(Debug, Default)]
pub struct Paths {
    paths: BTreeMap<PathKey, Vec<Hop>>,
    /// Every port a path's hop comes in or goes out of, with the paths.
    by_port: BTreeMap<PortRef, BTreeSet<PathKey>>,
}

impl Paths {
    /// No paths.
    pub fn new() -> Paths {
        Paths::default()
    }

    /// How many paths there are.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Every path, by pair.
    pub fn iter(&self) -> impl Iterator<Item = (&PathKey, &[Hop])> {
        self.paths.iter().map(|(key, hops)| (key, hops.as_slice()))
    }

    /// The hops of the pair's path, ingress first.
    pub fn get(&self, key: &PathKey) -> Option<&[Hop]> {
        self.paths.get(key).map(Vec::as_slice)
    }

    /// Records the pair's path; returns the one it replaces.
    pub fn insert(&mut self, key: PathKey, hops: Vec<Hop>) -> Option<Vec<Hop>> {
        let old = self.remove(&key);
        for hop in &hops {
            for port_no in [hop.in_port, hop.out_port] {
                self.by_port.entry(PortRef { dpid: hop.dpid, port_no }).or_default().insert(key);
            }
        }
        self.paths.insert(key, hops);
        old
    }

    /// Forgets the pair's path; returns its hops.
    pub fn remove(&mut self, key: &PathKey) -> Option<Vec<Hop>> {
        let hops = self.paths.remove(key)?;
        for hop in &hops {
            for port_no in [hop.in_port, hop.out_port] {
                let port = PortRef { dpid: hop.dpid, port_no };
                if let Some(keys) = self.by_port.get_mut(&port) {
                    keys.remove(key);
                    if keys.is_empty() {
                        self.by_port.remove(&port);
                    }
                }
            }
        }
        Some(hops)
    }

    /// The paths that come in or go out of `port`.
    pub fn using_port(&self, port: PortRef) -> Vec<PathKey> {
        self.by_port.get(&port).map(|keys| keys.iter().copied().collect()).unwrap_or_default()
    }

    /// The paths that cross `link` (leave by its source port towards its destination).
    pub fn using_link(&self, link: &Link) -> Vec<PathKey> {
        let crosses = |hops: &[Hop]| {
            hops.windows(2).any(|pair| {
                (pair[0].dpid, pair[0].out_port, pair[1].dpid, pair[1].in_port)
                    == (link.src.dpid, link.src.port_no, link.dst.dpid, link.dst.port_no)
            })
        };
        self.using_port(link.src).into_iter().filter(|key| self.get(key).is_some_and(crosses)).collect()
    }

    /// The paths with a hop on switch `dpid`.
    pub fn through_switch(&self, dpid: u64) -> Vec<PathKey> {
        let ports = PortRef { dpid, port_no: 0 }..=PortRef { dpid, port_no: u32::MAX };
        let keys: BTreeSet<PathKey> = self.by_port.range(ports).flat_map(|(_, keys)| keys.iter().copied()).collect();
        keys.into_iter().collect()
    }

    /// The paths from or to `mac`.
    pub fn of_host(&self, mac: MacAddr) -> Vec<PathKey> {
        self.paths.keys().filter(|(src, dst)| *src == mac || *dst == mac).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dpid: u64, port_no: u32) -> PortRef {
        PortRef { dpid, port_no }
    }

    fn mac(last: u8) -> MacAddr {
        MacAddr([0, 0, 0, 0, 0, last])
    }

    #[test]
    fn hops_follow_the_links_from_ingress_to_egress() {
        let links = [Link { src: at(1, 2), dst: at(2, 1) }, Link { src: at(2, 3), dst: at(3, 1) }];
        let hops = hops(at(1, 5), &links, at(3, 4));
        let expected = [
            Hop { dpid: 1, in_port: 5, out_port: 2 },
            Hop { dpid: 2, in_port: 1, out_port: 3 },
            Hop { dpid: 3, in_port: 1, out_port: 4 },
        ];
        assert_eq!(hops, expected);
        assert_eq!(super::hops(at(1, 5), &[], at(1, 6)), [Hop { dpid: 1, in_port: 5, out_port: 6 }]);
    }

    #[test]
    fn paths_are_found_by_port_link_switch_and_host_and_forgotten_everywhere() {
        let mut paths = Paths::new();
        let links = [Link { src: at(1, 2), dst: at(2, 1) }];
        let a = (mac(1), mac(2));
        let b = (mac(3), mac(2));
        paths.insert(a, hops(at(1, 5), &links, at(2, 5)));
        paths.insert(b, hops(at(2, 6), &[], at(2, 5)));
        assert_eq!(paths.using_port(at(2, 5)), [a, b]);
        assert_eq!(paths.using_link(&links[0]), [a]);
        assert!(paths.using_link(&links[0].reversed()).is_empty());
        assert_eq!(paths.through_switch(1), [a]);
        assert_eq!(paths.through_switch(2), [a, b]);
        assert_eq!(paths.of_host(mac(3)), [b]);
        assert_eq!(paths.of_host(mac(2)), [a, b]);
        let old = paths.insert(a, hops(at(1, 5), &[], at(1, 6)));
        assert_eq!(old.map(|hops| hops.len()), Some(2));
        assert!(paths.using_link(&links[0]).is_empty());
        assert_eq!(paths.through_switch(2), [b]);
        assert!(paths.remove(&b).is_some());
        assert!(paths.through_switch(2).is_empty());
        assert_eq!(paths.len(), 1);
        assert_eq!(paths.by_port.len(), 2);
    }
}
