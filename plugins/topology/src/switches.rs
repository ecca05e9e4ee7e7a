//! The switches and their ports as the topology knows them, each port with the probe frame to send out of it.

use std::collections::BTreeMap;

use tatsu_plugin_api::ofproto::portable::port;
use tatsu_topology_api::{Port, PortRef, Switch};

use crate::discovery;

/// `OFPPC_PORT_DOWN` (the same bit in 1.0 and 1.3).
const OFPPC_PORT_DOWN: u32 = 1;
/// `OFPPS_LINK_DOWN` (the same bit in 1.0 and 1.3).
const OFPPS_LINK_DOWN: u32 = 1;

/// A switch port as OpenFlow describes it, as the topology does: `None` for reserved ports (LOCAL, say) and
/// port 0, which no link or host can use.
pub fn topology_port(dpid: u64, port: &tatsu_plugin_api::Port) -> Option<Port> {
    (port.port_no != 0 && port.port_no < port::MAX).then(|| Port {
        dpid,
        port_no: port.port_no,
        hw_addr: port.hw_addr,
        name: port.name.trim_end_matches('\0').to_owned(),
        live: port.config & OFPPC_PORT_DOWN == 0 && port.state & OFPPS_LINK_DOWN == 0,
    })
}

/// A port and its probe.
#[derive(Debug)]
struct KnownPort {
    port: Port,
    probe: Vec<u8>,
}

impl KnownPort {
    fn new(port: Port) -> Self {
        KnownPort { probe: discovery::probe(port.dpid, port.port_no, port.hw_addr), port }
    }
}

/// A connected switch.
#[derive(Debug)]
struct KnownSwitch {
    /// The OpenFlow version it speaks.
    version: u8,
    /// The host's connection number, to tell a leave of an older connection from this one's.
    connection: u64,
    ports: BTreeMap<u32, KnownPort>,
}

impl KnownSwitch {
    fn describe(&self, dpid: u64) -> Switch {
        Switch { dpid, ports: self.ports.values().map(|known| known.port.clone()).collect() }
    }
}

/// A probe to send: out of `port_no` of datapath `dpid`, which speaks `version`.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    /// The datapath.
    pub dpid: u64,
    /// Its OpenFlow version.
    pub version: u8,
    /// The port.
    pub port_no: u32,
    /// The frame.
    pub frame: &'a [u8],
}

/// The switch a port belongs to is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownSwitch;

/// The switches, by datapath id.
#[derive(Debug, Default)]
pub struct Switches {
    switches: BTreeMap<u64, KnownSwitch>,
}

impl Switches {
    /// Adds datapath `dpid` with `ports` (already converted by [`topology_port`]). A port number listed twice
    /// keeps its last description; the numbers listed twice are returned with the switch.
    pub fn add(&mut self, dpid: u64, version: u8, connection: u64, ports: Vec<Port>) -> (Switch, Vec<u32>) {
        let mut known = BTreeMap::new();
        let mut twice = Vec::new();
        for port in ports {
            if known.insert(port.port_no, KnownPort::new(port.clone())).is_some() {
                twice.push(port.port_no);
            }
        }
        let switch = KnownSwitch { version, connection, ports: known };
        let described = switch.describe(dpid);
        self.switches.insert(dpid, switch);
        (described, twice)
    }

    /// Removes datapath `dpid`, returning it as it was.
    pub fn remove(&mut self, dpid: u64) -> Option<Switch> {
        self.switches.remove(&dpid).map(|switch| switch.describe(dpid))
    }

    /// The connection number datapath `dpid` joined with.
    pub fn connection(&self, dpid: u64) -> Option<u64> {
        self.switches.get(&dpid).map(|switch| switch.connection)
    }

    /// The port at `at`, if its switch and it are known.
    pub fn port(&self, at: PortRef) -> Option<&Port> {
        self.switches.get(&at.dpid)?.ports.get(&at.port_no).map(|known| &known.port)
    }

    /// Adds or replaces a port of a known switch, returning the port as it was.
    pub fn put_port(&mut self, port: Port) -> Result<Option<Port>, UnknownSwitch> {
        let switch = self.switches.get_mut(&port.dpid).ok_or(UnknownSwitch)?;
        Ok(switch.ports.insert(port.port_no, KnownPort::new(port)).map(|known| known.port))
    }

    /// Removes a port, returning it.
    pub fn remove_port(&mut self, at: PortRef) -> Option<Port> {
        self.switches.get_mut(&at.dpid)?.ports.remove(&at.port_no).map(|known| known.port)
    }

    /// The switch `dpid`, or all switches, by datapath id.
    pub fn describe(&self, dpid: Option<u64>) -> Vec<Switch> {
        match dpid {
            Some(dpid) => self.switches.get(&dpid).map(|switch| switch.describe(dpid)).into_iter().collect(),
            None => self.switches.iter().map(|(dpid, switch)| switch.describe(*dpid)).collect(),
        }
    }

    /// The probe to send out of `at`, if it is a live port of a known switch.
    pub fn probe(&self, at: PortRef) -> Option<Probe<'_>> {
        let switch = self.switches.get(&at.dpid)?;
        let known = switch.ports.get(&at.port_no).filter(|known| known.port.live)?;
        Some(Probe { dpid: at.dpid, version: switch.version, port_no: at.port_no, frame: &known.probe })
    }

    /// The probes of every live port of every switch (of switch `dpid` only, if given).
    pub fn probes(&self, dpid: Option<u64>) -> impl Iterator<Item = Probe<'_>> {
        let switches: Box<dyn Iterator<Item = (&u64, &KnownSwitch)>> = match dpid {
            Some(dpid) => Box::new(self.switches.get_key_value(&dpid).into_iter()),
            None => Box::new(self.switches.iter()),
        };
        switches.flat_map(|(&dpid, switch)| {
            switch.ports.values().filter(|known| known.port.live).map(move |known| Probe {
                dpid,
                version: switch.version,
                port_no: known.port.port_no,
                frame: &known.probe,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_plugin_api::MacAddr;

    fn port(dpid: u64, port_no: u32, live: bool) -> Port {
        Port { dpid, port_no, hw_addr: MacAddr::new(2, 0, 0, 0, 0, 1), name: format!("s{dpid}-eth{port_no}"), live }
    }

    #[test]
    fn reserved_ports_are_left_out_and_liveness_is_config_and_state() {
        let of = |port_no: u32, config: u32, state: u32| tatsu_plugin_api::Port {
            port_no,
            config,
            state,
            name: "s1-eth1\0\0".to_owned(),
            ..tatsu_plugin_api::Port::default()
        };
        assert_eq!(topology_port(1, &of(port::LOCAL, 0, 0)), None);
        assert_eq!(topology_port(1, &of(0, 0, 0)), None);
        let up = topology_port(1, &of(1, 0, 4)).unwrap_or_else(|| panic!("left out"));
        assert!(up.live);
        assert_eq!(up.name, "s1-eth1");
        assert_eq!(topology_port(1, &of(1, OFPPC_PORT_DOWN, 0)).map(|p| p.live), Some(false));
        assert_eq!(topology_port(1, &of(1, 0, OFPPS_LINK_DOWN)).map(|p| p.live), Some(false));
    }

    #[test]
    fn a_port_listed_twice_is_kept_once_and_only_live_ports_are_probed() {
        let mut switches = Switches::default();
        let ports = vec![port(1, 1, true), port(1, 2, false), port(1, 1, true)];
        let (switch, twice) = switches.add(1, 4, 7, ports);
        assert_eq!((switch.ports.len(), twice), (2, vec![1]));
        assert_eq!(switches.probes(None).map(|probe| probe.port_no).collect::<Vec<_>>(), [1]);
        assert!(switches.probe(PortRef { dpid: 1, port_no: 2 }).is_none());
        assert_eq!(switches.put_port(port(1, 2, true)).ok().flatten().map(|p| p.live), Some(false));
        assert_eq!(switches.probes(Some(1)).count(), 2);
        assert_eq!(switches.probes(Some(2)).count(), 0);
        assert_eq!(switches.put_port(port(2, 1, true)), Err(UnknownSwitch));
        assert_eq!(switches.connection(1), Some(7));
        assert_eq!(switches.remove_port(PortRef { dpid: 1, port_no: 2 }).map(|p| p.port_no), Some(2));
        assert_eq!(switches.remove(1).map(|s| s.ports.len()), Some(1));
        assert_eq!(switches.describe(None), []);
    }
}
