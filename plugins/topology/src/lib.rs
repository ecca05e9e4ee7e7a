//! `topology`: LLDP topology discovery for OpenFlow 1.0 and 1.3 switches (Ryu's `ryu/topology/switches.py` and
//! `rest_topology.py`). Other apps require it and read the network through `tatsu-topology-api`.
//!
//! - **Switches and ports** come from the datapath's features and its port status messages; a port that goes down
//!   or is deleted loses its links and hosts at once (their deletions are published before the port's event).
//! - **Links** (`discovery.rs`): when a datapath joins, a top-priority flow (65535) sends LLDP to the controller;
//!   every probe round (`probe_interval`) each live port sends a probe in Ryu's format, and a probe that comes back
//!   as a packet-in on another switch's port is a unidirectional link. A link not seen for `link_timeout` is
//!   deleted. New ports, ports coming up and new switches are probed at once, without waiting for the round.
//! - **Hosts** (`hosts.rs`): source MAC addresses of packet-ins on edge ports (ports that are no end of a link), with
//!   the IPv4 and IPv6 addresses they send from; a host seen on another edge port moves, at most once a round.
//! - **Events** (`SwitchEnter`, `LinkAdd`, `HostMove`, ...) are published after this app's tables changed; the
//!   requests `GetSwitches`, `GetLinks` and `GetHosts` answer from them; `rest.rs` serves Ryu's REST API.
//! - **Bad input** (LLDP that is not a probe of this controller's switches, malformed LLDP, a port reported
//!   twice, a link seen one way only, a host on two edge ports at once) is ignored or resolved as described on
//!   each handler, and logged once, not per packet.
//! - **Hot restart**: links and hosts are handed to the successor, which keeps those whose ports its switches
//!   still have (and publishes them as added); probing confirms or ages them like any other.
//!
//! ```toml
//! [app.topology]
//! probe_interval = 1.0   # seconds between probe rounds
//! link_timeout = 5.0     # seconds a link lives without a probe crossing it
//! max_hosts = 65536      # hosts remembered at most
//! ```

mod discovery;
mod hosts;
mod once;
mod rest;
mod shared;
mod switches;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::ofproto::portable::PortReason;
use tatsu_plugin_api::packet::{self, ether_type, Parsed};
use tatsu_plugin_api::{export_app, Action, App, AppEvent, BoxError, Context, Datapath, DatapathInfo, FlowMod};
use tatsu_plugin_api::{
    Handlers, KvErrorKind, KvWatch, MacAddr, Match, OfError, PacketIn, PacketOut, PortStatus, Role, RoleChange,
};
use tatsu_topology_api::{
    GetHosts, GetLinks, GetSwitches, Host, HostAdd, HostDelete, HostMove, Link, LinkAdd, LinkDelete, PortAdd,
    PortDelete, PortModify, PortRef, Switch, SwitchEnter, SwitchLeave,
};

use discovery::{probe_source, Links, NotAProbe};
use hosts::{sender_address, Hosts, Learned};
use once::Once;
use shared::{Change, Part, View, PARTS};
use switches::{topology_port, Probe, Switches};

/// The priority of the flow that sends LLDP to the controller: the highest, as Ryu's.
pub const LLDP_FLOW_PRIORITY: u16 = 0xffff;
/// IEEE 802.1ag CFM, which like LLDP says nothing about hosts.
const ETHERTYPE_CFM: u16 = 0x8902;

/// Settings from `[app.topology]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Seconds between probe rounds (Ryu: about 1).
    pub probe_interval: f64,
    /// Seconds a link lives without a probe crossing it; counted in probe rounds (rounded up).
    pub link_timeout: f64,
    /// Hosts remembered at most (MAC addresses beyond are not learned, and that is logged once).
    pub max_hosts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { probe_interval: 1.0, link_timeout: 5.0, max_hosts: 65_536 }
    }
}

/// The discovered network: switches, links, hosts, and the probe round it is in.
pub struct Topology {
    probe_interval: Duration,
    /// Rounds a link may go without a probe crossing it.
    link_timeout: u64,
    /// Probe rounds since the start.
    round: u64,
    switches: Switches,
    links: Links,
    hosts: Hosts,
    reported: Once,
    /// In a cluster: the parts of the network every host publishes, and this host's watch of them.
    shared: Option<Shared>,
}

/// This host's side of the shared topology ([`shared`]).
struct Shared {
    /// This host's node id.
    node: String,
    view: View,
    /// `None` until it could be opened (etcd lost), and after it failed.
    watch: Option<KvWatch>,
    /// etcd was unreachable: no call before this probe round, so that an outage (each call waits for the host's
    /// etcd timeout) costs the event loop one round in [`ETCD_BACKOFF_ROUNDS`].
    quiet_until: u64,
}

/// Probe rounds without etcd calls after one failed for want of etcd.
const ETCD_BACKOFF_ROUNDS: u64 = 5;

/// What a predecessor hands over in a hot restart.
#[derive(Serialize, Deserialize)]
struct Saved {
    links: Vec<Link>,
    hosts: Vec<Host>,
}

impl App for Topology {
    const NAME: &'static str = tatsu_topology_api::APP_NAME;
    const DESCRIPTION: &'static str = "LLDP topology discovery: switches, links and hosts, with Ryu's REST API";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        let Config { probe_interval, link_timeout, max_hosts } = config;
        if !(0.01..=3600.0).contains(&probe_interval) {
            return Err(format!("probe_interval must be 0.01 to 3600 seconds, not {probe_interval}").into());
        }
        if !(link_timeout.is_finite() && link_timeout >= probe_interval) {
            return Err(
                format!("link_timeout ({link_timeout}) must be at least probe_interval ({probe_interval})").into()
            );
        }
        Ok(Topology {
            probe_interval: Duration::from_secs_f64(probe_interval),
            // `as` saturates: a timeout too long to count never expires.
            link_timeout: (link_timeout / probe_interval).ceil() as u64,
            round: 0,
            switches: Switches::default(),
            links: Links::default(),
            hosts: Hosts::new(max_hosts),
            reported: Once::default(),
            shared: None,
        })
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if let Some(node) = ctx.cluster_node() {
            log::info!("in a cluster as `{node}`: discovering the switches this host masters, sharing the view");
            self.shared = Some(Shared { node, view: View::default(), watch: None, quiet_until: 0 });
            self.sync(ctx);
        }
        Ok(())
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers
            .on_datapath_enter(Self::enter)
            .on_datapath_leave(Self::leave)
            .on_role(Self::role)
            .on_message::<PortStatus>(Self::port_status)
            .on_message::<PacketIn>(Self::packet_in)
            .on_timer(self.probe_interval, Self::probe_round)
            .on_request(|app: &mut Self, _: &Context, q: GetSwitches| Ok::<_, Infallible>(app.all_switches(q.dpid)))
            .on_request(|app: &mut Self, _: &Context, q: GetLinks| Ok::<_, Infallible>(app.all_links(q.dpid)))
            .on_request(|app: &mut Self, _: &Context, q: GetHosts| Ok::<_, Infallible>(app.all_hosts(q.dpid)));
        rest::register(handlers);
    }

    fn save_state(&mut self, _ctx: &Context) -> Option<serde_json::Value> {
        let saved = Saved { links: self.links.leaving(None), hosts: self.hosts.on(None) };
        serde_json::to_value(saved).ok()
    }

    fn restore_state(&mut self, ctx: &Context, state: serde_json::Value) {
        let saved: Saved = match serde_json::from_value(state) {
            Ok(saved) => saved,
            Err(e) => return log::warn!("the predecessor's state is not understood, rediscovering: {e}"),
        };
        let live = |switches: &Switches, at: PortRef| switches.port(at).is_some_and(|port| port.live);
        let links: Vec<Link> = saved
            .links
            .into_iter()
            .filter(|link| link.src != link.dst && live(&self.switches, link.src) && live(&self.switches, link.dst))
            .filter(|link| self.links.seen(*link, self.round))
            .collect();
        // Hosts learned here since the start, on ports that turn out to be link ends, were no hosts.
        let mut not_hosts = Vec::new();
        for end in links.iter().flat_map(|link| [link.src, link.dst]) {
            not_hosts.extend(self.hosts.remove_at(end.dpid, Some(end.port_no)));
        }
        let hosts: Vec<Host> = saved
            .hosts
            .into_iter()
            .filter(|host| self.switches.port(host.port).is_some() && !self.links.touches(host.port))
            .filter(|host| self.hosts.restore(host.clone(), self.round))
            .collect();
        log::info!(
            "from the predecessor: {} links and {} hosts not rediscovered yet (those whose ports are gone are not kept)",
            links.len(),
            hosts.len()
        );
        for link in links {
            self.emit(ctx, &LinkAdd { link });
        }
        self.emit_gone(ctx, "a link ends on their port", Vec::new(), not_hosts);
        for host in hosts {
            self.emit(ctx, &HostAdd { host });
        }
    }
}

/// Publishes `event` (a serialization failure, which these types cannot have, would be logged).
fn publish<E: AppEvent>(ctx: &Context, event: &E) {
    if let Err(e) = ctx.publish(event) {
        log::error!("event `{}` not published: {e}", E::NAME);
    }
}

/// The flow that sends LLDP to the controller, whole.
fn lldp_flow() -> FlowMod {
    let lldp = Match::new().eth_type(ether_type::LLDP).eth_dst(MacAddr::LLDP_NEAREST_BRIDGE);
    FlowMod::add(lldp).priority(LLDP_FLOW_PRIORITY).actions([Action::Controller(0xffff)])
}

impl Topology {
    /// A datapath joined: install the LLDP flow, add it with its ports, publish it, probe its live ports.
    ///
    /// A datapath already known (a new connection replacing an old one whose leave has not come yet) is removed
    /// first, with its links and hosts: what the old connection showed may no longer hold. A port number listed
    /// twice keeps its last description.
    /// In a cluster, only a datapath this host masters is discovered here (its master's part shows it); the others
    /// wait for their role ([`Topology::role`]). A host on its own is master of every datapath.
    fn enter(&mut self, ctx: &Context, info: &DatapathInfo) -> Result<(), OfError> {
        if !ctx.is_master(info.dpid) {
            log::debug!("datapath {:016x} joined; another host masters it (or none yet): not probed here", info.dpid);
            return Ok(());
        }
        let discovered = self.discover(ctx, info);
        self.sync_parts(ctx, Some(info.dpid));
        discovered
    }

    /// Adds datapath `info` to what this host discovers: install the LLDP flow, add it with its ports, publish it,
    /// probe its live ports.
    fn discover(&mut self, ctx: &Context, info: &DatapathInfo) -> Result<(), OfError> {
        let dpid = info.dpid;
        if self.switches.connection(dpid).is_some() {
            self.switch_gone(ctx, dpid);
        }
        let ports = info.ports.iter().filter_map(|port| topology_port(dpid, port)).collect();
        let (switch, twice) = self.switches.add(dpid, info.version, info.connection, ports);
        if !twice.is_empty() && self.reported.first(format!("ports twice {dpid}")) {
            log::warn!("datapath {dpid:016x} listed ports {twice:?} twice; their last descriptions count");
        }
        log::info!("datapath {dpid:016x} joined with {} ports", switch.ports.len());
        self.emit(ctx, &SwitchEnter { switch });
        let flow = info.datapath().send(lldp_flow());
        self.send_probes(ctx, Some(dpid));
        flow
    }

    /// A datapath left: its links and hosts go, then the switch (unless the leave is of an older connection
    /// than the one the switch joined with, already replaced).
    fn leave(&mut self, ctx: &Context, info: &DatapathInfo) {
        if self.switches.connection(info.dpid) == Some(info.connection) {
            log::info!("datapath {:016x} left: {}", info.dpid, info.reason.as_deref().unwrap_or("unknown reason"));
            self.switch_gone(ctx, info.dpid);
            self.sync_parts(ctx, Some(info.dpid));
        }
    }

    /// This host's role for a datapath changed: as its master it discovers it (and publishes its part), as a slave
    /// it leaves it to the master (and withdraws its part).
    fn role(&mut self, ctx: &Context, change: &RoleChange) -> Result<(), OfError> {
        let dpid = change.dpid;
        let known = self.switches.connection(dpid).is_some();
        let result = match change.role {
            Role::Master if !known => match ctx.datapath(dpid) {
                Some(info) => {
                    log::info!("master of datapath {dpid:016x} (generation {}): discovering it", change.generation);
                    self.discover(ctx, &info)
                }
                None => Ok(()),
            },
            Role::Slave | Role::Equal if known => {
                log::info!("no longer master of datapath {dpid:016x}: its master discovers it");
                self.switch_gone(ctx, dpid);
                Ok(())
            }
            _ => Ok(()),
        };
        self.sync_parts(ctx, Some(dpid));
        result
    }

    fn switch_gone(&mut self, ctx: &Context, dpid: u64) {
        let links = self.links.remove_at(dpid, None);
        let hosts = self.hosts.remove_at(dpid, None);
        let switch = self.switches.remove(dpid);
        self.emit_gone(ctx, "their switch left", links, hosts);
        if let Some(switch) = switch {
            self.emit(ctx, &SwitchLeave { switch });
        }
    }

    /// Removes the links and hosts at `at` and publishes their deletion.
    fn port_gone(&mut self, ctx: &Context, at: PortRef) {
        let links = self.links.remove_at(at.dpid, Some(at.port_no));
        let hosts = self.hosts.remove_at(at.dpid, Some(at.port_no));
        self.emit_gone(ctx, "their port is down or deleted", links, hosts);
    }

    /// A port was added, changed or deleted: applied at once. A port that is down or deleted loses its links and
    /// hosts first; one that comes up (or is added up) is probed now. An add of a known port counts as a change
    /// and a change of an unknown port as an add; ports of unknown switches and reserved ports are ignored.
    fn port_status(&mut self, ctx: &Context, dp: &Datapath, status: PortStatus) {
        let dpid = dp.dpid();
        let Some(port) = topology_port(dpid, &status.port) else { return };
        let at = port.at();
        match status.reason {
            PortReason::Add | PortReason::Modify => {
                let Ok(old) = self.switches.put_port(port.clone()) else {
                    if self.reported.first(format!("unknown switch {dpid}")) {
                        log::warn!("port status from datapath {dpid:016x}, which has not joined: ignored");
                    }
                    return;
                };
                if (status.reason == PortReason::Add) == old.is_some()
                    && self.reported.first(format!("port status {at} {:?}", status.reason))
                {
                    let (said, taken) = if old.is_some() { ("added", "changed") } else { ("changed", "added") };
                    log::warn!(
                        "datapath {dpid:016x} {said} port {}, which it {}: taken as {taken}",
                        port.port_no,
                        if old.is_some() { "had" } else { "never had" }
                    );
                }
                if !port.live {
                    self.port_gone(ctx, at);
                }
                let was_live = old.as_ref().is_some_and(|old| old.live);
                let live = port.live;
                match old {
                    None => self.emit(ctx, &PortAdd { port }),
                    Some(_) => self.emit(ctx, &PortModify { port }),
                }
                if live && !was_live {
                    self.probe(ctx, at);
                }
            }
            PortReason::Delete => match self.switches.remove_port(at) {
                Some(_) => {
                    self.port_gone(ctx, at);
                    self.emit(ctx, &PortDelete { port });
                }
                None => {
                    if self.reported.first(format!("delete unknown {at}")) {
                        log::warn!("datapath {dpid:016x} deleted port {}, which it never had: ignored", at.port_no);
                    }
                }
            },
            PortReason::Other(code) => {
                if self.reported.first(format!("port reason {dpid} {code}")) {
                    log::warn!("datapath {dpid:016x} sent a port status with reason {code}: ignored");
                }
            }
        }
    }

    /// A packet-in: LLDP is a probe coming back (or someone else's LLDP, ignored); anything else may teach a host.
    fn packet_in(&mut self, ctx: &Context, dp: &Datapath, packet_in: PacketIn<'_>) {
        let at = PortRef { dpid: dp.dpid(), port_no: packet_in.in_port };
        // A frame too short for Ethernet says nothing; the apps that forward it report it.
        let Ok(parsed) = packet::parse(packet_in.data) else { return };
        match parsed.ethertype() {
            ether_type::LLDP => self.lldp_in(ctx, at, &parsed),
            ETHERTYPE_CFM => {}
            _ => self.learn_host(ctx, at, &parsed),
        }
    }

    /// A probe arrived at `dst`: the link from the port it left is up. LLDP that is not a probe from a port of a
    /// switch of this controller (a host's, another controller's, malformed) is ignored, and so is a probe that
    /// came back to the port it left. A new link removes the hosts learned at its ends.
    fn lldp_in(&mut self, ctx: &Context, dst: PortRef, parsed: &Parsed<'_>) {
        if self.switches.port(dst).is_none() {
            return;
        }
        let src = match probe_source(parsed.lldp()) {
            Ok(src) => src,
            Err(why) => {
                let key = match &why {
                    NotAProbe::ForeignChassis(id) => format!("chassis {id}"),
                    other => format!("{other} at {dst}"),
                };
                if self.reported.first(key) {
                    log::warn!("LLDP at {dst} ignored: {why}");
                }
                return;
            }
        };
        let shared_port = self.shared.as_ref().is_some_and(|shared| shared.view.merged().port(src).is_some());
        if (self.switches.port(src).is_none() && !shared_port) || src == dst {
            if self.reported.first(format!("probe {src} at {dst}")) {
                log::warn!("LLDP at {dst} ignored: it names {src}, which is not another port of a switch here");
            }
            return;
        }
        let link = Link { src, dst };
        if !self.links.seen(link, self.round) {
            return;
        }
        let mut hosts = self.hosts.remove_at(src.dpid, Some(src.port_no));
        hosts.extend(self.hosts.remove_at(dst.dpid, Some(dst.port_no)));
        log::info!("link {src} -> {dst} added");
        self.emit(ctx, &LinkAdd { link });
        self.emit_gone(ctx, "a link ends on their port", Vec::new(), hosts);
        // The other way is probably there too: probe it now rather than at the next round (its last probe was
        // lost if this switch joined after it).
        if !self.links.knows(&link.reversed()) {
            self.probe(ctx, dst);
        }
    }

    /// A frame from a unicast source on an edge port of a known switch teaches (or moves) its host.
    fn learn_host(&mut self, ctx: &Context, at: PortRef, parsed: &Parsed<'_>) {
        let mac = parsed.eth_src();
        let shared_link = self.shared.as_ref().is_some_and(|shared| shared.view.merged().touches(at));
        if !mac.is_unicast()
            || mac.is_zero()
            || self.switches.port(at).is_none()
            || self.links.touches(at)
            || shared_link
        {
            return;
        }
        match self.hosts.learn(mac, at, sender_address(parsed), self.round) {
            Learned::Added(host) => self.emit(ctx, &HostAdd { host }),
            Learned::Moved { host, from } => self.emit(ctx, &HostMove { host, from }),
            Learned::Known => {}
            Learned::Flapping { at: stays } => {
                if self.reported.first(format!("flapping {mac}")) {
                    log::warn!(
                        "host {mac} is on {stays} and {at} at once (a duplicate address or an unmanaged loop?): \
                         it stays on {stays} for this round"
                    );
                }
            }
            Learned::Full => {
                if self.reported.first("hosts full".to_owned()) {
                    log::warn!("{} hosts known: no more are learned", self.hosts.len());
                }
            }
        }
    }

    /// A probe round: links not seen for too long go, then every live port is probed.
    fn probe_round(&mut self, ctx: &Context) {
        self.round += 1;
        let expired = self.links.expire(self.round, self.link_timeout);
        self.emit_gone(ctx, "no probe crossed it in time", expired, Vec::new());
        let one_sided: Vec<Link> = self.links.one_sided(self.round, self.link_timeout).copied().collect();
        for link in one_sided {
            if self.reported.first(format!("one-sided {}", link.src)) {
                log::warn!("link {} -> {} is seen one way only", link.src, link.dst);
            }
        }
        self.send_probes(ctx, None);
        self.sync(ctx);
    }

    /// Probes port `at` now, if it is live.
    fn probe(&mut self, ctx: &Context, at: PortRef) {
        let failed = self.switches.probe(at).and_then(|probe| send_probe(ctx, probe).err());
        self.report_failures(failed.into_iter().collect());
    }

    /// Probes every live port of datapath `dpid`, or of every datapath.
    fn send_probes(&mut self, ctx: &Context, dpid: Option<u64>) {
        let failed = self.switches.probes(dpid).filter_map(|probe| send_probe(ctx, probe).err()).collect();
        self.report_failures(failed);
    }

    fn report_failures(&mut self, failed: Vec<(u64, OfError)>) {
        for (dpid, e) in failed {
            if self.reported.first(format!("probe to {dpid} {:?}", e.kind())) {
                log::warn!("probes to datapath {dpid:016x} fail: {e}");
            }
        }
    }
}

/// Events, and the view REST and requests answer from: this host's own tables alone, or in a cluster every
/// host's parts ([`shared`]).
impl Topology {
    /// Publishes `event` about this host's own tables; in a cluster, events come from the shared view instead.
    fn emit<E: AppEvent>(&self, ctx: &Context, event: &E) {
        if self.shared.is_none() {
            publish(ctx, event);
        }
    }

    /// Publishes the deletion of `links`, then of `hosts`, which went because of `why`.
    fn emit_gone(&self, ctx: &Context, why: &str, links: Vec<Link>, hosts: Vec<Host>) {
        for link in links {
            log::info!("link {} -> {} deleted: {why}", link.src, link.dst);
            self.emit(ctx, &LinkDelete { link });
        }
        for host in hosts {
            self.emit(ctx, &HostDelete { host });
        }
    }

    /// The switches (one, or all).
    fn all_switches(&self, dpid: Option<u64>) -> Vec<Switch> {
        match &self.shared {
            Some(shared) => shared.view.merged().switches(dpid),
            None => self.switches.describe(dpid),
        }
    }

    /// The links leaving one datapath, or all.
    fn all_links(&self, dpid: Option<u64>) -> Vec<Link> {
        match &self.shared {
            Some(shared) => shared.view.merged().links(dpid),
            None => self.links.leaving(dpid),
        }
    }

    /// The hosts on one datapath, or all.
    fn all_hosts(&self, dpid: Option<u64>) -> Vec<Host> {
        match &self.shared {
            Some(shared) => shared.view.merged().hosts(dpid),
            None => self.hosts.on(dpid),
        }
    }

    /// The port at `at`, if a switch the view holds has it.
    fn any_port(&self, at: PortRef) -> Option<&tatsu_topology_api::Port> {
        match &self.shared {
            Some(shared) => shared.view.merged().port(at),
            None => self.switches.port(at),
        }
    }

    /// This host's part of each switch it masters (of switch `dpid` only, if given).
    fn own_parts(&self, dpid: Option<u64>) -> BTreeMap<u64, Part> {
        self.switches
            .describe(dpid)
            .into_iter()
            .map(|switch| {
                let dpid = switch.dpid;
                (dpid, Part { switch, links: self.links.arriving_at(dpid), hosts: self.hosts.on(Some(dpid)) })
            })
            .collect()
    }

    /// In a cluster: publishes what changed in this host's parts, then takes in what the watch saw of every
    /// host's and publishes the events of the view's changes. etcd lost: said once, tried again next time.
    fn sync(&mut self, ctx: &Context) {
        self.sync_parts(ctx, None);
    }

    /// [`Topology::sync`] for the part of switch `dpid` only (or all, for `None`): what one switch's change needs,
    /// without serialising every other part again.
    fn sync_parts(&mut self, ctx: &Context, dpid: Option<u64>) {
        let own = if self.shared.is_some() { self.own_parts(dpid) } else { return };
        let Some(shared) = self.shared.as_mut() else { return };
        if self.round < shared.quiet_until {
            return;
        }
        let kv = ctx.kv();
        let mut failures = Vec::new();
        let (puts, mut deletes) = shared.view.to_publish(&shared.node, &own);
        if let Some(only) = dpid {
            deletes.retain(|(withdrawn, _)| *withdrawn == only);
        }
        for (dpid, key, json) in puts {
            match kv.put_ephemeral(&key, json.as_bytes()) {
                Ok(_) => shared.view.published(dpid, Some(json)),
                Err(e) => failures.push(e),
            }
        }
        for (dpid, key) in deletes {
            match kv.delete(&key) {
                Ok(_) => shared.view.published(dpid, None),
                Err(e) => failures.push(e),
            }
        }
        let mut events = Vec::new();
        if shared.watch.is_none() {
            match kv.list(PARTS).and_then(|listing| Ok((kv.watch(PARTS, listing.revision)?, listing))) {
                Ok((watch, listing)) => {
                    shared.watch = Some(watch);
                    match shared.view.load(listing.entries) {
                        Ok(changes) => events = changes,
                        Err((changes, why)) => {
                            events = changes;
                            log::warn!("{why}");
                        }
                    }
                }
                Err(e) => failures.push(e),
            }
        } else if let Some(watch) = shared.watch.as_mut() {
            match watch.next(Duration::ZERO) {
                Ok(changes) => {
                    let (changes, bad) = shared.view.apply(changes);
                    events = changes;
                    if !bad.is_empty() {
                        log::warn!("parts that do not decode, left out: {}", bad.join("; "));
                    }
                }
                Err(e) => {
                    shared.watch = None;
                    failures.push(e);
                }
            }
        }
        if failures.iter().any(|e| e.kind() == KvErrorKind::Unavailable) {
            shared.quiet_until = self.round + ETCD_BACKOFF_ROUNDS;
        }
        for e in failures {
            if self.reported.first(shared::failure_key(&e)) {
                log::warn!("sharing the topology: {e} (tried again every {ETCD_BACKOFF_ROUNDS} rounds; said once)");
            }
        }
        for event in events {
            match event {
                Change::LinkDelete(e) => publish(ctx, &e),
                Change::HostDelete(e) => publish(ctx, &e),
                Change::PortDelete(e) => publish(ctx, &e),
                Change::SwitchLeave(e) => publish(ctx, &e),
                Change::SwitchEnter(e) => publish(ctx, &e),
                Change::PortAdd(e) => publish(ctx, &e),
                Change::PortModify(e) => publish(ctx, &e),
                Change::LinkAdd(e) => publish(ctx, &e),
                Change::HostAdd(e) => publish(ctx, &e),
                Change::HostMove(e) => publish(ctx, &e),
            }
        }
    }
}

fn send_probe(ctx: &Context, probe: Probe<'_>) -> Result<(), (u64, OfError)> {
    let datapath = ctx.datapath_handle(probe.dpid, probe.version);
    datapath.send(PacketOut::new(probe.frame, [Action::output(probe.port_no)])).map_err(|e| (probe.dpid, e))
}

export_app!(Topology);

#[cfg(test)]
mod kit_tests;
