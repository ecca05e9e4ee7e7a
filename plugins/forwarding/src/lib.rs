//! `forwarding`: shortest-path forwarding over the topology the `topology` app discovers, loops included, for
//! OpenFlow 1.0 and 1.3 (the portable builders only).
//!
//! - **Network**: a graph of switches, ports and directed links ([`graph`]), filled from the topology app's
//!   current state at start and kept up to date from its events; switches that connect also add themselves with
//!   their ports, so forwarding works from the first packet. On a 1.3 switch a table-miss flow sends unmatched
//!   packets here (1.0 switches do that by themselves); LLDP packet-ins are the topology app's.
//! - **Hosts** ([`hosts`]): a MAC address is learned where it sends from, on edge ports only (ports that are not an
//!   end of a known link), and from the topology's host events. A link found at a port forgets the hosts learned
//!   there. The topology app does not drop echoes (below), so a move it reports to where this app has not just
//!   seen the host itself is ignored, and so is its deletion of a host at a port this app does not know it at.
//! - **Unicast** to a known host: the shortest path from the switch the packet came in at to the host's switch
//!   gets a flow on every switch, the last first, so the packet never overtakes its flows; then the packet goes on
//!   (a packet-out, or the buffer id on the first switch's flow-mod). Flows match in port + Ethernet source +
//!   destination: in port, so that a flow only ever takes packets from the direction its path comes from and
//!   flows of different paths cannot chain into a loop while the topology changes; source, so that each pair's
//!   path can be moved or removed without touching other hosts' traffic to the same destination. Each installed
//!   path is recorded ([`paths`]) with the ports it uses. Ties between equal paths are broken by the topology
//!   alone (port order), the same whatever order events came in. A known host with no path to it yet (links
//!   not discovered, or the network cut in two) gets its packets straight from the controller, out of its port.
//! - **Broadcast, multicast, unknown destinations**: the controller sends the frame out of every live edge port of
//!   every switch (the one it came in at aside), one packet-out per switch: no switch floods, so nothing loops even
//!   before every link is known. A copy that comes back within a short window (a port wrongly taken for an edge
//!   port) is dropped and not learned from ([`flood`]); such frames arriving on a link port are dropped too.
//! - **ARP** ([`arp`]): requests for the address of a known host are answered directly (a proxy reply out of the
//!   port the request came in on); others are delivered as broadcasts.
//! - **Failures**: a link, port or switch that goes takes its paths with it: each path that used it is set up
//!   again at once along the best path left from the same ingress (new flows first, then the old path's leftover
//!   flows deleted), or deleted from every switch of it when no path is left. A host that moves has the paths from
//!   it deleted and the paths to it moved to its new place.
//! - **Hot restart** ([`state`]): the switches keep the paths' flows, so the hosts and paths go to the successor.
//!
//! ```toml
//! [app.forwarding]
//! idle_timeout = 30        # seconds a path's flows live without traffic (0: until the topology changes)
//! hard_timeout = 0         # seconds a path's flows live at most (0: no limit)
//! priority = 10            # of path flows (table-miss: 0; the topology's LLDP flow is above)
//! cookie = 0x6677640000000066  # marks forwarding's flows ("fw d")
//! proxy_arp = true         # answer ARP requests for known hosts
//! echo_window_ms = 500     # how long a frame delivered to every edge port is remembered
//! request_timeout_ms = 2000  # for the start-up requests to the topology app
//! ```

pub mod arp;
pub mod flood;
pub mod graph;
pub mod hosts;
pub mod paths;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tatsu_plugin_api::ofproto::portable::{port, FlowModCommand, NO_BUFFER};
use tatsu_plugin_api::ofproto::{v1_0, OFP_VERSION_1_0};
use tatsu_plugin_api::packet::{self, ether_type};
use tatsu_plugin_api::{export_app, Action, App, BoxError, Context, Datapath, DatapathInfo, FlowMod, Handlers};
use tatsu_plugin_api::{FastMap, MacAddr, Match, OfError, OfErrorKind, PacketIn, PacketOut, Role, RoleChange};
use tatsu_topology_api::{GetHosts, GetLinks, GetSwitches, Host, HostAdd, HostDelete, HostMove, LinkAdd, LinkDelete};
use tatsu_topology_api::{PortAdd, PortDelete, PortModify, PortRef, SwitchEnter, SwitchLeave};

use crate::arp::Arp;
use crate::flood::Echoes;
use crate::graph::{Graph, Tree};
use crate::hosts::{Hosts, Learned};
use crate::paths::{Hop, PathKey, Paths};
use crate::state::Saved;

/// The cookie of forwarding's flows unless configured otherwise.
pub const COOKIE: u64 = 0x6677_6400_0000_0066;

/// `OFPPC_PORT_DOWN` and `OFPPS_LINK_DOWN`: the same bit in OpenFlow 1.0 and 1.3.
const PORT_DOWN: u32 = 1;
const LINK_DOWN: u32 = 1;

/// Settings from `[app.forwarding]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Seconds a path's flows live without traffic; 0 keeps them until the topology changes.
    pub idle_timeout: u16,
    /// Seconds a path's flows live at most; 0: no limit.
    pub hard_timeout: u16,
    /// Priority of path flows (the table-miss flow has 0).
    pub priority: u16,
    /// The cookie on forwarding's flows.
    pub cookie: u64,
    /// Whether to answer ARP requests for known hosts.
    pub proxy_arp: bool,
    /// Milliseconds a frame delivered to every edge port is remembered, to drop copies that come back.
    pub echo_window_ms: u64,
    /// Milliseconds to wait for each of the topology app's answers at start.
    pub request_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: 30,
            hard_timeout: 0,
            priority: 10,
            cookie: COOKIE,
            proxy_arp: true,
            echo_window_ms: 500,
            request_timeout_ms: 2000,
        }
    }
}

/// The forwarding app: the network, the hosts, the installed paths.
pub struct Forwarding {
    config: Config,
    graph: Graph,
    hosts: Hosts,
    paths: Paths,
    echoes: Echoes,
    /// When each host was last learned from a packet-in here (which, unlike the topology app, drops echoes).
    sightings: FastMap<MacAddr, Instant>,
    /// The connected switches, to send to.
    datapaths: BTreeMap<u64, Datapath>,
    /// Connected switches this host is not master of (in a cluster), so not configured by it yet.
    unconfigured: BTreeSet<u64>,
}

impl App for Forwarding {
    const NAME: &'static str = "forwarding";
    const DESCRIPTION: &'static str = "shortest-path forwarding over the discovered topology, loops included";
    const REQUIRES: &'static [&'static str] = &[tatsu_topology_api::APP_NAME];
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        let echoes = Echoes::new(Duration::from_millis(config.echo_window_ms));
        Ok(Forwarding {
            config,
            graph: Graph::new(),
            hosts: Hosts::new(),
            paths: Paths::new(),
            echoes,
            sightings: FastMap::default(),
            datapaths: BTreeMap::new(),
            unconfigured: BTreeSet::new(),
        })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers
            .on_datapath_enter(Self::datapath_enter)
            .on_datapath_leave(Self::datapath_leave)
            .on_role(Self::role)
            .on_message::<PacketIn>(Self::packet_in)
            .on_event(Self::switch_enter)
            .on_event(Self::switch_leave)
            .on_event(|app: &mut Self, _: &Context, event: PortAdd| {
                app.graph.set_port(event.port.at(), event.port.live)
            })
            .on_event(Self::port_modify)
            .on_event(Self::port_delete)
            .on_event(Self::link_add)
            .on_event(Self::link_delete)
            .on_event(|app: &mut Self, ctx: &Context, event: HostAdd| app.host_seen(ctx, &event.host))
            .on_event(|app: &mut Self, ctx: &Context, event: HostMove| app.host_seen(ctx, &event.host))
            .on_event(|app: &mut Self, ctx: &Context, event: HostDelete| app.host_deleted(ctx, &event.host));
    }

    /// Takes in the switches already connected and the topology app's view so far.
    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        for info in ctx.datapaths() {
            self.datapath_enter(ctx, &info)?;
        }
        let timeout = Duration::from_millis(self.config.request_timeout_ms);
        match ctx.request(&GetSwitches::default(), timeout) {
            Ok(switches) => {
                for switch in switches {
                    self.graph.set_switch(switch.dpid, switch.ports.iter().map(|port| (port.port_no, port.live)));
                }
            }
            Err(e) => log::warn!("no switches from the topology app ({e}); following its events"),
        }
        match ctx.request(&GetLinks::default(), timeout) {
            Ok(links) => links.into_iter().for_each(|link| _ = self.graph.add_link(link)),
            Err(e) => log::warn!("no links from the topology app ({e}); following its events"),
        }
        match ctx.request(&GetHosts::default(), timeout) {
            Ok(hosts) => hosts.iter().try_for_each(|host| self.host_seen(ctx, host))?,
            Err(e) => log::warn!("no hosts from the topology app ({e}); following its events"),
        }
        Ok(())
    }

    /// The hosts and paths, for the successor (the switches keep the paths' flows).
    fn save_state(&mut self, _ctx: &Context) -> Option<serde_json::Value> {
        serde_json::to_value(Saved::capture(&self.hosts, &self.paths))
            .inspect_err(|e| log::warn!("the hosts and paths could not be saved: {e}"))
            .ok()
    }

    fn restore_state(&mut self, _ctx: &Context, state: serde_json::Value) {
        match serde_json::from_value::<Saved>(state) {
            Ok(saved) => {
                let skipped = saved.restore(&mut self.hosts, &mut self.paths);
                if skipped > 0 {
                    log::warn!("{skipped} unreadable entries in the saved state were skipped");
                }
                log::info!("restored {} paths", self.paths.len());
            }
            Err(e) => log::warn!("the saved state is unreadable ({e}): starting afresh"),
        }
    }
}

/// Whether a port with these `OFPPC_*` and `OFPPS_*` bits forwards.
fn is_live(config: u32, state: u32) -> bool {
    config & PORT_DOWN == 0 && state & LINK_DOWN == 0
}

impl Forwarding {
    /// The installed paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The known hosts.
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    fn datapath(&self, ctx: &Context, dpid: u64) -> Option<Datapath> {
        self.datapaths.get(&dpid).copied().or_else(|| ctx.datapath(dpid).map(|info| *info.datapath()))
    }

    // Switches.

    fn datapath_enter(&mut self, ctx: &Context, info: &DatapathInfo) -> Result<(), BoxError> {
        self.datapaths.insert(info.dpid, *info.datapath());
        if !self.graph.has_switch(info.dpid) {
            let ports = info.ports.iter().filter(|port| port.port_no < port::MAX);
            self.graph.set_switch(info.dpid, ports.map(|port| (port.port_no, is_live(port.config, port.state))));
        }
        if !ctx.is_master(info.dpid) {
            // In a cluster, another host (or none yet) masters it: configured if this host becomes its master.
            self.unconfigured.insert(info.dpid);
            return Ok(());
        }
        Self::configure(&self.config, info)
    }

    /// This host became master of a datapath it has not configured: configure it now.
    fn role(&mut self, ctx: &Context, change: &RoleChange) -> Result<(), BoxError> {
        if change.role == Role::Master && self.unconfigured.remove(&change.dpid) {
            if let Some(info) = ctx.datapath(change.dpid) {
                return Self::configure(&self.config, &info);
            }
        }
        Ok(())
    }

    /// Whole frames to the controller on 1.0, the table-miss flow on later versions.
    fn configure(config: &Config, info: &DatapathInfo) -> Result<(), BoxError> {
        if info.version == OFP_VERSION_1_0 {
            // A 1.0 switch sends table misses itself, cut to `miss_send_len` bytes (128 by default): ask for whole
            // frames, since a broadcast is delivered at other switches from the packet-in's data.
            let whole_frames = v1_0::SwitchConfig { flags: 0, miss_send_len: u16::MAX };
            info.datapath().send(v1_0::Message::SetConfig(whole_frames))?;
        } else {
            let table_miss = FlowMod::add(Match::new()).priority(0).cookie(config.cookie);
            info.datapath().send(table_miss.actions([Action::Controller(0xffff)]))?;
        }
        Ok(())
    }

    fn datapath_leave(&mut self, ctx: &Context, info: &DatapathInfo) -> Result<(), BoxError> {
        self.datapaths.remove(&info.dpid);
        self.unconfigured.remove(&info.dpid);
        self.switch_gone(ctx, info.dpid)
    }

    fn switch_enter(&mut self, _ctx: &Context, event: SwitchEnter) {
        let ports = event.switch.ports.iter().map(|port| (port.port_no, port.live));
        self.graph.set_switch(event.switch.dpid, ports);
    }

    fn switch_leave(&mut self, ctx: &Context, event: SwitchLeave) -> Result<(), BoxError> {
        self.switch_gone(ctx, event.switch.dpid)
    }

    /// A switch went: its hosts are forgotten, the paths through it set up around it.
    fn switch_gone(&mut self, ctx: &Context, dpid: u64) -> Result<(), BoxError> {
        self.graph.remove_switch(dpid);
        let mut result = Ok(());
        for mac in self.hosts.on_switch(dpid) {
            result = result.and(self.forget_host(ctx, mac));
        }
        let affected = self.paths.through_switch(dpid);
        result.and(self.reroute(ctx, affected))
    }

    // Ports and links.

    fn port_modify(&mut self, ctx: &Context, event: PortModify) -> Result<(), BoxError> {
        let at = event.port.at();
        self.graph.set_port(at, event.port.live);
        if event.port.live {
            return Ok(());
        }
        let affected = self.paths.using_port(at);
        self.reroute(ctx, affected)
    }

    fn port_delete(&mut self, ctx: &Context, event: PortDelete) -> Result<(), BoxError> {
        let at = event.port.at();
        self.graph.remove_port(at);
        let mut result = Ok(());
        for mac in self.hosts.at_port(at) {
            result = result.and(self.forget_host(ctx, mac));
        }
        let affected = self.paths.using_port(at);
        result.and(self.reroute(ctx, affected))
    }

    fn link_add(&mut self, ctx: &Context, event: LinkAdd) -> Result<(), BoxError> {
        let link = event.link;
        if !self.graph.add_link(link) {
            return Ok(());
        }
        // Whatever was learned at either end came over the link before it was known: not hosts.
        let mut result = Ok(());
        let learned: Vec<(PortRef, MacAddr)> = [link.src, link.dst]
            .into_iter()
            .flat_map(|end| self.hosts.at_port(end).into_iter().map(move |mac| (end, mac)))
            .collect();
        for (end, mac) in learned {
            log::info!("{mac} was learned at {end}, an end of link {} -> {}: forgotten", link.src, link.dst);
            result = result.and(self.forget_host(ctx, mac));
        }
        result
    }

    fn link_delete(&mut self, ctx: &Context, event: LinkDelete) -> Result<(), BoxError> {
        self.graph.remove_link(&event.link);
        let affected = self.paths.using_link(&event.link);
        if !affected.is_empty() {
            log::info!("link {} -> {} went: rerouting {} paths", event.link.src, event.link.dst, affected.len());
        }
        self.reroute(ctx, affected)
    }

    // Hosts.

    /// The topology app saw `host` (new or moved). A move to where this app did not see it go, within the echo
    /// window of seeing it itself, is taken for the topology app learning from a copy of one of its frames that
    /// came back over a link not discovered yet, and ignored.
    fn host_seen(&mut self, ctx: &Context, host: &Host) -> Result<(), BoxError> {
        if self.graph.is_link_port(host.port) {
            return Ok(());
        }
        let window = Duration::from_millis(self.config.echo_window_ms);
        let seen_lately = self.sightings.get(&host.mac).is_some_and(|at| at.elapsed() < window);
        if seen_lately && self.hosts.locate(host.mac).is_some_and(|at| at != host.port) {
            log::debug!("{} was just seen elsewhere than {}: the topology's move ignored", host.mac, host.port);
            return Ok(());
        }
        for &ip in &host.ipv4 {
            self.hosts.learn_ipv4(ip, host.mac);
        }
        self.learn(ctx, host.mac, host.port)
    }

    /// `mac` sent from edge port `at`.
    fn learn(&mut self, ctx: &Context, mac: MacAddr, at: PortRef) -> Result<(), BoxError> {
        let Learned::Moved(from) = self.hosts.learn(mac, at) else { return Ok(()) };
        log::info!("{mac} moved from {from} to {at}");
        // Paths from it start where it no longer is; paths to it go to its new place.
        let (from_it, to_it): (Vec<PathKey>, Vec<PathKey>) =
            self.paths.of_host(mac).into_iter().partition(|(src, _)| *src == mac);
        self.remove_paths(ctx, from_it).and(self.reroute(ctx, to_it))
    }

    /// The topology app forgot `host`: so does this app, if it knew it at the same place.
    fn host_deleted(&mut self, ctx: &Context, host: &Host) -> Result<(), BoxError> {
        if self.hosts.locate(host.mac) != Some(host.port) {
            return Ok(());
        }
        self.forget_host(ctx, host.mac)
    }

    fn forget_host(&mut self, ctx: &Context, mac: MacAddr) -> Result<(), BoxError> {
        self.hosts.forget(mac);
        self.sightings.remove(&mac);
        let paths = self.paths.of_host(mac);
        self.remove_paths(ctx, paths)
    }

    // Packets.

    fn packet_in(&mut self, ctx: &Context, dp: &Datapath, packet_in: PacketIn<'_>) -> Result<(), BoxError> {
        let frame = packet_in.data;
        let (Some(dst), Some(src), Some(ethertype)) =
            (packet::eth_dst(frame), packet::eth_src(frame), packet::ethertype(frame))
        else {
            return Err(format!("packet-in of {} bytes is not an Ethernet frame", frame.len()).into());
        };
        // LLDP is the topology app's; no bridge forwards the other link-local groups either (STP, LACP, 802.1X:
        // 01:80:c2:00:00:00 to 0f).
        if ethertype == ether_type::LLDP || (dst.0[..5] == [0x01, 0x80, 0xc2, 0, 0] && dst.0[5] <= 0x0f) {
            return Ok(());
        }
        if src.is_multicast() {
            log::debug!("dropped a frame from a group address ({src} -> {dst}), which no station sends from");
            return Ok(());
        }
        let now = Instant::now();
        let ingress = PortRef { dpid: dp.dpid(), port_no: packet_in.in_port };
        if self.echoes.is_echo(frame, now) {
            log::debug!("{ingress}: dropped a copy of a frame delivered already ({src} -> {dst})");
            return Ok(());
        }
        // A port of the switch's own (not a reserved one such as LOCAL) that no link ends at.
        let on_edge = (1..port::MAX).contains(&ingress.port_no) && !self.graph.is_link_port(ingress);
        let arp = if ethertype == ether_type::ARP { Arp::parse(frame) } else { None };
        if on_edge && !src.is_zero() {
            if let Some(arp) = arp.filter(|arp| arp.sender_mac == src) {
                self.hosts.learn_ipv4(arp.sender_ip, src);
            }
            self.sightings.insert(src, now);
            self.learn(ctx, src, ingress)?;
        }
        if let Some(egress) = self.hosts.locate(dst).filter(|_| dst.is_unicast()) {
            return self.forward(ctx, dp, &packet_in, (src, dst), ingress, egress);
        }
        if !on_edge {
            // Forwarding delivered it to every edge port from where it entered the network already.
            log::debug!("{ingress}: dropped a frame for every edge port that came over a link ({src} -> {dst})");
            return Ok(());
        }
        self.echoes.delivered(frame, now);
        if let Some((request, owner)) = arp
            .filter(|arp| self.config.proxy_arp && arp.asks())
            .and_then(|arp| Some((arp, self.hosts.by_ipv4(arp.target_ip)?.0)))
            .filter(|(_, owner)| *owner != src)
        {
            log::debug!("{ingress}: {} is at {owner}, answered to {src}", request.target_ip);
            return Ok(dp.send(PacketOut::new(request.reply(owner), [Action::output(ingress.port_no)]))?);
        }
        self.deliver_to_edges(ctx, dp, &packet_in, ingress)
    }

    /// Sets up the path of `key` from `ingress` to `egress` and sends the packet along it.
    fn forward(
        &mut self,
        ctx: &Context,
        dp: &Datapath,
        packet_in: &PacketIn<'_>,
        key: PathKey,
        ingress: PortRef,
        egress: PortRef,
    ) -> Result<(), BoxError> {
        if ingress == egress {
            return Ok(()); // The destination is behind the port the packet came from: it has it.
        }
        let path = self.graph.shortest_path(ingress.dpid, egress.dpid).filter(|_| self.graph.port_live(egress));
        let Some(links) = path else {
            // No path known (yet): the controller hands it to the destination's port itself.
            return self.deliver_direct(ctx, dp, packet_in, egress);
        };
        let hops = paths::hops(ingress, &links, egress);
        if hops.iter().any(|hop| hop.in_port == hop.out_port) {
            // It came over a link from where its destination is: something upstream is out of date.
            log::debug!("{ingress}: dropped {} -> {}, whose path would send it back where it came from", key.0, key.1);
            return Ok(());
        }
        // A recorded path that passes here on its way to the same place is kept (its flows from here on went,
        // or the packet raced them); any other is replaced.
        let keep = self.paths.get(&key).is_some_and(|old| {
            old.iter().position(|hop| hop.same_flow(&hops[0])).is_some_and(|at| old[at..] == hops[..])
        });
        let replaced = if keep { None } else { self.paths.insert(key, hops.clone()) };
        self.install(ctx, key, &hops, packet_in.buffer_id)?;
        if !packet_in.is_buffered() && is_whole(packet_in) {
            dp.send(PacketOut::reply(packet_in, [Action::output(hops[0].out_port)]))?;
        }
        match replaced {
            Some(old) => self.delete_stale(ctx, key, &old, &hops),
            None => Ok(()),
        }
    }

    /// Sends the packet straight out of `egress`, the port of its destination.
    fn deliver_direct(
        &mut self,
        ctx: &Context,
        dp: &Datapath,
        packet_in: &PacketIn<'_>,
        egress: PortRef,
    ) -> Result<(), BoxError> {
        let actions = [Action::output(egress.port_no)];
        self.echoes.delivered(packet_in.data, Instant::now());
        if egress.dpid == dp.dpid() {
            return Ok(dp.send(PacketOut::reply(packet_in, actions))?);
        }
        match self.datapath(ctx, egress.dpid) {
            Some(target) if is_whole(packet_in) => {
                Ok(unless_gone(target.send(PacketOut::new(packet_in.data, actions)))?)
            }
            _ => Ok(()),
        }
    }

    /// Sends the packet out of every live edge port of every switch, but the one it came in on.
    fn deliver_to_edges(
        &self,
        ctx: &Context,
        dp: &Datapath,
        packet_in: &PacketIn<'_>,
        ingress: PortRef,
    ) -> Result<(), BoxError> {
        let whole = is_whole(packet_in);
        let mut result = Ok(());
        for dpid in self.graph.switches() {
            let actions: Vec<Action> = self
                .graph
                .edge_ports(dpid)
                .into_iter()
                .filter(|&port_no| PortRef { dpid, port_no } != ingress)
                .map(Action::output)
                .collect();
            if actions.is_empty() {
                continue;
            }
            let sent = if dpid == ingress.dpid {
                dp.send(PacketOut::reply(packet_in, actions))
            } else {
                match self.datapath(ctx, dpid) {
                    Some(target) if whole => target.send(PacketOut::new(packet_in.data, actions)),
                    _ => continue,
                }
            };
            result = result.and(unless_gone(sent));
        }
        if !whole {
            let (got, of) = (packet_in.data.len(), packet_in.total_len);
            log::debug!("{ingress}: a frame cut to {got} of {of} bytes went to this switch's edge ports only");
        }
        Ok(result?)
    }

    // Flows.

    fn path_match(hop: &Hop, (src, dst): PathKey) -> Match {
        Match::new().in_port(hop.in_port).eth_src(src).eth_dst(dst)
    }

    /// Puts the path's flows on its switches, the last first; the first releases `buffer_id`.
    fn install(&self, ctx: &Context, key: PathKey, hops: &[Hop], buffer_id: u32) -> Result<(), BoxError> {
        let datapaths: Option<Vec<Datapath>> = hops.iter().map(|hop| self.datapath(ctx, hop.dpid)).collect();
        let Some(datapaths) = datapaths else {
            // It is leaving: its leave event reroutes or removes the path.
            log::debug!("a switch of the path {} -> {} is not connected: not installed", key.0, key.1);
            return Ok(());
        };
        for (i, (hop, dp)) in hops.iter().zip(datapaths).enumerate().rev() {
            let flow = FlowMod::add(Self::path_match(hop, key))
                .priority(self.config.priority)
                .idle_timeout(self.config.idle_timeout)
                .hard_timeout(self.config.hard_timeout)
                .cookie(self.config.cookie)
                .buffer_id(if i == 0 { buffer_id } else { NO_BUFFER })
                .actions([Action::output(hop.out_port)]);
            unless_gone(dp.send(flow))?;
        }
        Ok(())
    }

    /// Deletes these flows of the pair's path from their switches (those still connected).
    fn delete_flows<'h>(
        &self,
        ctx: &Context,
        key: PathKey,
        hops: impl IntoIterator<Item = &'h Hop>,
    ) -> Result<(), BoxError> {
        let mut result: Result<(), OfError> = Ok(());
        for hop in hops {
            let Some(dp) = self.datapath(ctx, hop.dpid) else { continue };
            let delete = FlowMod::new(FlowModCommand::DeleteStrict, Self::path_match(hop, key))
                .priority(self.config.priority)
                .cookie(self.config.cookie);
            result = result.and(unless_gone(dp.send(delete)));
        }
        Ok(result?)
    }

    /// Deletes the flows of the `old` path that the `new` one did not replace.
    fn delete_stale(&self, ctx: &Context, key: PathKey, old: &[Hop], new: &[Hop]) -> Result<(), BoxError> {
        self.delete_flows(ctx, key, old.iter().filter(|hop| !new.iter().any(|kept| kept.same_flow(hop))))
    }

    /// Forgets these paths and deletes their flows.
    fn remove_paths(&mut self, ctx: &Context, keys: Vec<PathKey>) -> Result<(), BoxError> {
        let mut result = Ok(());
        for key in keys {
            if let Some(hops) = self.paths.remove(&key) {
                result = result.and(self.delete_flows(ctx, key, &hops));
            }
        }
        result
    }

    /// Sets each of these paths up again along the best path left from its ingress to its destination's current
    /// place (new flows first, then the old ones left over deleted), or deletes it when there is none.
    fn reroute(&mut self, ctx: &Context, keys: Vec<PathKey>) -> Result<(), BoxError> {
        let mut trees: BTreeMap<u64, Tree> = BTreeMap::new();
        let mut result = Ok(());
        for key in keys {
            let Some(old) = self.paths.remove(&key) else { continue };
            let ingress = PortRef { dpid: old[0].dpid, port_no: old[0].in_port };
            let egress = self
                .hosts
                .locate(key.1)
                .filter(|&egress| egress != ingress && self.graph.port_live(egress) && self.graph.port_live(ingress));
            let links = egress.and_then(|egress| {
                trees.entry(egress.dpid).or_insert_with(|| self.graph.tree_to(egress.dpid)).path_from(ingress.dpid)
            });
            let new = egress.zip(links).map(|(egress, links)| paths::hops(ingress, &links, egress));
            let Some(new) = new.filter(|new| new.iter().all(|hop| hop.in_port != hop.out_port)) else {
                result = result.and(self.delete_flows(ctx, key, &old));
                continue;
            };
            let installed = self.install(ctx, key, &new, NO_BUFFER);
            result = result.and(installed).and(self.delete_stale(ctx, key, &old, &new));
            self.paths.insert(key, new);
        }
        result
    }
}

/// A send's result, where failing because the switch has just gone is no failure: its leave event is on the way,
/// and it takes the switch's flows and paths with it. Nor is failing because another host of the cluster masters
/// the switch: that host sets up its part of the path when the packet reaches the switch as a table miss there.
fn unless_gone(sent: Result<(), OfError>) -> Result<(), OfError> {
    match sent {
        Err(e)
            if matches!(
                e.kind(),
                OfErrorKind::UnknownDatapath | OfErrorKind::Disconnected | OfErrorKind::NotMaster
            ) =>
        {
            log::debug!("not sent: {e}");
            Ok(())
        }
        other => other,
    }
}

/// Whether the packet-in carries the whole frame (not cut to `miss_send_len`).
fn is_whole(packet_in: &PacketIn<'_>) -> bool {
    packet_in.data.len() >= usize::from(packet_in.total_len)
}

export_app!(Forwarding);

#[cfg(test)]
mod tests;
