//! What forwarding hands to its successor in a hot restart: the hosts and the installed paths. The switches keep
//! their flows across the restart, so the successor must know them to delete or move them when the network
//! changes; the graph it gets afresh from the topology app.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::PortRef;

use crate::hosts::Hosts;
use crate::paths::{Hop, Paths};

/// The saved state, as JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    /// MAC address, and where it is.
    hosts: Vec<(String, PortRef)>,
    /// IPv4 address, and the MAC address using it.
    ipv4: Vec<(Ipv4Addr, String)>,
    paths: Vec<SavedPath>,
}

/// One installed path.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedPath {
    src: String,
    dst: String,
    /// (dpid, in port, out port), ingress first.
    hops: Vec<(u64, u32, u32)>,
}

impl Saved {
    /// Takes the state of `hosts` and `paths`.
    pub fn capture(hosts: &Hosts, paths: &Paths) -> Saved {
        Saved {
            hosts: hosts.iter().map(|(mac, at)| (mac.to_string(), at)).collect(),
            ipv4: hosts.ipv4s().map(|(ip, mac)| (ip, mac.to_string())).collect(),
            paths: paths
                .iter()
                .map(|((src, dst), hops)| {
                    let hops = hops.iter().map(|hop| (hop.dpid, hop.in_port, hop.out_port)).collect();
                    SavedPath { src: src.to_string(), dst: dst.to_string(), hops }
                })
                .collect(),
        }
    }

    /// Puts the state back into `hosts` and `paths`; returns how many entries were unreadable (and skipped).
    pub fn restore(self, hosts: &mut Hosts, paths: &mut Paths) -> usize {
        let mac = |text: &str| text.parse::<MacAddr>().ok();
        let mut skipped = 0;
        for (text, at) in self.hosts {
            match mac(&text) {
                Some(mac) => _ = hosts.learn(mac, at),
                None => skipped += 1,
            }
        }
        for (ip, text) in self.ipv4 {
            match mac(&text) {
                Some(mac) => hosts.learn_ipv4(ip, mac),
                None => skipped += 1,
            }
        }
        for SavedPath { src, dst, hops } in self.paths {
            match (mac(&src), mac(&dst)) {
                (Some(src), Some(dst)) if !hops.is_empty() => {
                    let hops = hops.into_iter().map(|(dpid, in_port, out_port)| Hop { dpid, in_port, out_port });
                    paths.insert((src, dst), hops.collect());
                }
                _ => skipped += 1,
            }
        }
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_paths_survive_the_trip_through_json_and_garbage_is_skipped() {
        let (a, b) = (MacAddr([0, 0, 0, 0, 0, 1]), MacAddr([0, 0, 0, 0, 0, 2]));
        let mut hosts = Hosts::new();
        hosts.learn(a, PortRef { dpid: 1, port_no: 3 });
        hosts.learn_ipv4(Ipv4Addr::new(10, 0, 0, 1), a);
        let mut paths = Paths::new();
        let hops = vec![Hop { dpid: 1, in_port: 3, out_port: 2 }, Hop { dpid: 2, in_port: 1, out_port: 3 }];
        paths.insert((a, b), hops.clone());
        let json = serde_json::to_value(Saved::capture(&hosts, &paths)).unwrap_or_default();
        let (mut hosts, mut paths) = (Hosts::new(), Paths::new());
        let saved: Saved = serde_json::from_value(json).unwrap_or_default();
        assert_eq!(saved.restore(&mut hosts, &mut paths), 0);
        assert_eq!(hosts.by_ipv4(Ipv4Addr::new(10, 0, 0, 1)), Some((a, PortRef { dpid: 1, port_no: 3 })));
        assert_eq!(paths.get(&(a, b)), Some(&hops[..]));
        assert_eq!(paths.using_port(PortRef { dpid: 2, port_no: 3 }), [(a, b)]);
        let garbage = Saved { hosts: vec![("nope".into(), PortRef { dpid: 1, port_no: 1 })], ..Saved::default() };
        assert_eq!(garbage.restore(&mut hosts, &mut paths), 1);
    }
}
