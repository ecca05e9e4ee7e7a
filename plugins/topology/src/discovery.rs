//! Link discovery: the LLDP probes this app sends (in Ryu's format, so that mixed deployments recognise each
//! other's), reading them back, and the table of links they revealed, aged in probe rounds.
//!
//! A probe leaves port `src` of a switch as a packet-out; the neighbour's top-priority LLDP flow sends it back as a
//! packet-in from port `dst`: that is the unidirectional link `src -> dst`. Each probe round (one tick of the
//! app's timer) re-probes every live port; a link not seen for more than the configured number of rounds is gone.
//! A port whose probes reach several ports (a hub or an unmanaged switch in between) has a link to each of them,
//! each aged on its own, rather than one link that flaps between them.
//! Counting rounds rather than reading a clock keeps aging honest when the event loop lags: probes and their
//! packet-ins wait in the same queue as the ticks, so a slow loop delays both alike.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

use tatsu_plugin_api::packet::build;
use tatsu_plugin_api::packet::lldp::{chassis_id_subtype, port_id_subtype, ChassisId, Lldpdu, PortId};
use tatsu_plugin_api::packet::LldpSlice;
use tatsu_plugin_api::MacAddr;
use tatsu_topology_api::{Link, PortRef};

/// The chassis id prefix of Ryu's probes: `dpid:` and the datapath id as 16 hex digits.
const CHASSIS_PREFIX: &str = "dpid:";
/// The probes' TTL, in seconds (Ryu's `DEFAULT_TTL`).
const PROBE_TTL: u16 = 120;

/// The probe frame for port `port_no` of datapath `dpid`, sent from the port's own MAC address: chassis id
/// `dpid:%016x` (locally assigned), port id the port number as 4 big-endian bytes (port component), TTL 120.
pub fn probe(dpid: u64, port_no: u32, hw_addr: MacAddr) -> Vec<u8> {
    let pdu = Lldpdu::new(
        ChassisId::local(&format!("{CHASSIS_PREFIX}{dpid:016x}")),
        PortId::port_component(port_no),
        PROBE_TTL,
    );
    // Three short TLVs always fit; an empty frame would only be dropped by the switch.
    build::lldp(hw_addr, &pdu).unwrap_or_default()
}

/// Why an LLDP frame is not one of the probes this app (or a Ryu-compatible controller) sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAProbe {
    /// The LLDPDU does not parse (bad TLV lengths, mandatory TLVs missing or out of order).
    Malformed,
    /// The chassis id is not `dpid:` and 1 to 16 hex digits: a host's or another kind of controller's LLDP.
    ForeignChassis(String),
    /// The chassis id is Ryu's, but the port id is not a 4-byte port component.
    BadPortId,
}

impl fmt::Display for NotAProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAProbe::Malformed => f.write_str("malformed LLDPDU"),
            NotAProbe::ForeignChassis(id) => write!(f, "foreign chassis id {id:?}"),
            NotAProbe::BadPortId => f.write_str("a port id that is not a 4-byte port number"),
        }
    }
}

/// Reads the port a probe left from out of an LLDPDU (`None` for the view: the frame did not parse as LLDP).
pub fn probe_source(lldp: Option<&LldpSlice<'_>>) -> Result<PortRef, NotAProbe> {
    let lldp = lldp.ok_or(NotAProbe::Malformed)?;
    let chassis = lldp.chassis_id();
    let dpid = (lldp.chassis_id_subtype() == chassis_id_subtype::LOCALLY_ASSIGNED)
        .then(|| std::str::from_utf8(chassis).ok()?.strip_prefix(CHASSIS_PREFIX))
        .flatten()
        .filter(|hex| (1..=16).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| NotAProbe::ForeignChassis(String::from_utf8_lossy(chassis).into_owned()))?;
    let port = <[u8; 4]>::try_from(lldp.port_id())
        .ok()
        .filter(|_| lldp.port_id_subtype() == port_id_subtype::PORT_COMPONENT)
        .ok_or(NotAProbe::BadPortId)?;
    Ok(PortRef { dpid, port_no: u32::from_be_bytes(port) })
}

/// When a link was first and last seen, in probe rounds.
#[derive(Debug, Clone, Copy)]
struct Seen {
    first: u64,
    last: u64,
}

/// The links discovered, with the round each was last seen in, indexed by both ends.
#[derive(Debug, Default)]
pub struct Links {
    links: BTreeMap<Link, Seen>,
    /// Every link reversed, so that the links arriving at a port are a range too.
    arriving: BTreeSet<Link>,
}

/// The links whose `src` is a port of datapath `dpid` (only port `port_no`, if given), as a key range.
fn from_ports(dpid: u64, port_no: Option<u32>) -> RangeInclusive<Link> {
    let (first, last) = port_no.map_or((0, u32::MAX), |port_no| (port_no, port_no));
    let any = PortRef { dpid: 0, port_no: 0 };
    let all = PortRef { dpid: u64::MAX, port_no: u32::MAX };
    Link { src: PortRef { dpid, port_no: first }, dst: any }..=Link { src: PortRef { dpid, port_no: last }, dst: all }
}

impl Links {
    /// Records that a probe crossed `link` in `round`; `true` if the link is new.
    pub fn seen(&mut self, link: Link, round: u64) -> bool {
        match self.links.get_mut(&link) {
            Some(seen) => {
                seen.last = round;
                false
            }
            None => {
                self.links.insert(link, Seen { first: round, last: round });
                self.arriving.insert(link.reversed());
                true
            }
        }
    }

    /// Removes the links not seen in the last `timeout` rounds before `round`, and returns them.
    pub fn expire(&mut self, round: u64, timeout: u64) -> Vec<Link> {
        let gone: Vec<Link> =
            self.links.iter().filter(|(_, seen)| round.saturating_sub(seen.last) > timeout).map(|(l, _)| *l).collect();
        self.remove_all(&gone);
        gone
    }

    /// Links seen for more than `timeout` rounds whose reverse is not known: a cable that carries probes one way
    /// only (a filter, a half-broken cable, a switch that drops what the other side sends).
    pub fn one_sided(&self, round: u64, timeout: u64) -> impl Iterator<Item = &Link> {
        self.links
            .iter()
            .filter(move |(link, seen)| {
                round.saturating_sub(seen.first) > timeout && !self.links.contains_key(&link.reversed())
            })
            .map(|(link, _)| link)
    }

    /// Removes every link leaving or arriving at port `port_no` of datapath `dpid` (at any of its ports if
    /// `port_no` is `None`), and returns them in order.
    pub fn remove_at(&mut self, dpid: u64, port_no: Option<u32>) -> Vec<Link> {
        let leaving = self.links.range(from_ports(dpid, port_no)).map(|(link, _)| *link);
        let arriving = self.arriving.range(from_ports(dpid, port_no)).map(Link::reversed);
        // A link between two ports of the datapath is both.
        let gone: Vec<Link> = leaving.chain(arriving).collect::<BTreeSet<Link>>().into_iter().collect();
        self.remove_all(&gone);
        gone
    }

    fn remove_all(&mut self, links: &[Link]) {
        for link in links {
            self.links.remove(link);
            self.arriving.remove(&link.reversed());
        }
    }

    /// Whether `link` is known.
    pub fn knows(&self, link: &Link) -> bool {
        self.links.contains_key(link)
    }

    /// Whether `port` is an end of any link (so it is not an edge port, where hosts live).
    pub fn touches(&self, port: PortRef) -> bool {
        let ends = || from_ports(port.dpid, Some(port.port_no));
        self.links.range(ends()).next().is_some() || self.arriving.range(ends()).next().is_some()
    }

    /// The links arriving at datapath `dpid`, in order of their ends there.
    pub fn arriving_at(&self, dpid: u64) -> Vec<Link> {
        self.arriving.range(from_ports(dpid, None)).map(Link::reversed).collect()
    }

    /// The links leaving datapath `dpid`, or all of them, in order.
    pub fn leaving(&self, dpid: Option<u64>) -> Vec<Link> {
        match dpid {
            Some(dpid) => self.links.range(from_ports(dpid, None)).map(|(link, _)| *link).collect(),
            None => self.links.keys().copied().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_plugin_api::packet;

    fn at(dpid: u64, port_no: u32) -> PortRef {
        PortRef { dpid, port_no }
    }

    fn link(a: (u64, u32), b: (u64, u32)) -> Link {
        Link { src: at(a.0, a.1), dst: at(b.0, b.1) }
    }

    fn source_of(frame: &[u8]) -> Result<PortRef, NotAProbe> {
        let parsed = packet::parse(frame).map_err(|_| NotAProbe::Malformed)?;
        probe_source(parsed.lldp())
    }

    #[test]
    fn a_probe_is_ryus_lldp_and_reads_back_as_its_port() {
        let frame = probe(0x1234_5678_9abc_def0, 7, MacAddr::new(2, 0, 0, 0, 0, 9));
        let parsed = packet::parse(&frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.eth_dst(), MacAddr::LLDP_NEAREST_BRIDGE);
        assert_eq!(parsed.eth_src(), MacAddr::new(2, 0, 0, 0, 0, 9));
        let lldp = parsed.lldp().copied().unwrap_or_else(|| panic!("not LLDP"));
        assert_eq!(lldp.chassis_id(), b"dpid:123456789abcdef0");
        assert_eq!(lldp.chassis_id_subtype(), chassis_id_subtype::LOCALLY_ASSIGNED);
        assert_eq!((lldp.port_id(), lldp.port_id_subtype()), (&[0, 0, 0, 7][..], port_id_subtype::PORT_COMPONENT));
        assert_eq!(lldp.ttl(), 120);
        assert_eq!(source_of(&frame), Ok(at(0x1234_5678_9abc_def0, 7)));
    }

    #[test]
    fn other_lldp_is_not_a_probe() {
        let lldp = |chassis: ChassisId, port: PortId| {
            build::lldp(MacAddr::new(2, 0, 0, 0, 0, 1), &Lldpdu::new(chassis, port, 120)).unwrap_or_default()
        };
        let foreign = lldp(ChassisId::mac(MacAddr::new(2, 0, 0, 0, 0, 1)), PortId::port_component(1));
        assert!(matches!(source_of(&foreign), Err(NotAProbe::ForeignChassis(_))));
        let too_long = lldp(ChassisId::local("dpid:00000000000000001"), PortId::port_component(1));
        assert_eq!(source_of(&too_long), Err(NotAProbe::ForeignChassis("dpid:00000000000000001".into())));
        let not_hex = lldp(ChassisId::local("dpid:xyz"), PortId::port_component(1));
        assert!(matches!(source_of(&not_hex), Err(NotAProbe::ForeignChassis(_))));
        let named_port = lldp(ChassisId::local("dpid:0000000000000001"), PortId::interface_name("eth1"));
        assert_eq!(source_of(&named_port), Err(NotAProbe::BadPortId));
        let mut truncated = probe(1, 1, MacAddr::new(2, 0, 0, 0, 0, 1));
        truncated.truncate(20);
        assert_eq!(source_of(&truncated), Err(NotAProbe::Malformed));
    }

    #[test]
    fn links_age_by_rounds_and_go_with_their_ports_both_ways() {
        let mut links = Links::default();
        let (ab, ba, bc) = (link((1, 1), (2, 1)), link((2, 1), (1, 1)), link((2, 2), (3, 1)));
        assert!(links.seen(ab, 0));
        assert!(!links.seen(ab, 0));
        assert!(links.seen(ba, 0) && links.seen(bc, 0));
        assert!(links.touches(at(3, 1)) && links.touches(at(2, 2)) && !links.touches(at(3, 2)));
        assert_eq!(links.one_sided(3, 2).collect::<Vec<_>>(), [&bc]);
        assert_eq!(links.leaving(Some(2)), [ba, bc]);

        links.seen(ab, 2);
        assert_eq!(links.expire(2, 2), Vec::<Link>::new());
        assert_eq!(links.expire(3, 3), Vec::<Link>::new());
        assert_eq!(links.expire(3, 2), [ba, bc]);
        assert_eq!(links.leaving(None), [ab]);

        links.seen(ba, 4);
        links.seen(bc, 4);
        assert_eq!(links.remove_at(2, Some(1)), [ab, ba]);
        assert!(!links.touches(at(1, 1)));
        links.seen(link((2, 3), (2, 4)), 4);
        assert_eq!(links.remove_at(2, None), [bc, link((2, 3), (2, 4))]);
        assert_eq!(links.leaving(None), []);
    }
}
