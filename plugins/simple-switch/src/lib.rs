//! `simple-switch`: an L2 learning switch for OpenFlow 1.3 and 1.0, in the manner of Ryu's `simple_switch_13`.
//!
//! - When a datapath joins, a table-miss flow sends unmatched packets to the controller (1.3; a 1.0 switch does
//!   that by itself).
//! - Each packet-in teaches it which port the source MAC address lives behind, per datapath.
//! - A packet for a known destination gets a flow (in port + destination + source, with an idle timeout) so the
//!   switch forwards the rest of that traffic itself; unknown and broadcast destinations are flooded.
//! - A packet the switch buffered is released by the flow-mod (or the packet-out) that names its buffer id.
//!
//! ```toml
//! [app.simple-switch]
//! idle_timeout = 30   # seconds a learned flow lives without traffic (0: forever)
//! priority = 1
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Deserialize;
use tatsu_plugin_api::ofproto::{v1_0, v1_3, MacAddr};
use tatsu_plugin_api::openflow::NO_BUFFER;
use tatsu_plugin_api::packet;
use tatsu_plugin_api::{export_app, App, BoxError, Context, Datapath, DatapathInfo, Handlers, PacketIn};

/// Settings from `[app.simple-switch]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Seconds a learned flow lives without traffic; 0 keeps it forever.
    pub idle_timeout: u16,
    /// Priority of learned flows (the table-miss flow has 0).
    pub priority: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config { idle_timeout: 30, priority: 1 }
    }
}

/// A fast hasher for MAC addresses (an FNV-1a fold): SipHash per packet-in is a measurable cost and MAC tables
/// need no protection against chosen keys here.
#[derive(Default)]
struct MacHasher(u64);

impl Hasher for MacHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type MacTable = HashMap<u64, u32, BuildHasherDefault<MacHasher>>;

/// The learning switch.
pub struct SimpleSwitch {
    config: Config,
    /// MAC address (as a u64) → port, per datapath.
    tables: HashMap<u64, MacTable>,
}

impl App for SimpleSwitch {
    const NAME: &'static str = "simple-switch";
    const DESCRIPTION: &'static str = "L2 learning switch for OpenFlow 1.0 and 1.3";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(SimpleSwitch { config, tables: HashMap::new() })
    }

    fn register(handlers: &mut Handlers<Self>) {
        handlers
            .on_datapath_enter(Self::datapath_enter)
            .on_datapath_leave(Self::datapath_leave)
            .on_packet_in(Self::packet_in);
    }
}

impl SimpleSwitch {
    fn datapath_enter(&mut self, _ctx: &Context, info: &DatapathInfo) -> Result<(), BoxError> {
        self.tables.insert(info.dpid, MacTable::default());
        let datapath = info.datapath();
        if datapath.is_v1_3() {
            let table_miss = v1_3::FlowMod::add(v1_3::Match::new())
                .priority(0)
                .apply_actions([v1_3::Action::controller(v1_3::action::OFPCML_NO_BUFFER)]);
            datapath.send(table_miss)?;
        }
        log::info!("datapath {:016x} joined with {} ports", info.dpid, info.ports.len());
        Ok(())
    }

    fn datapath_leave(&mut self, _ctx: &Context, info: &DatapathInfo) {
        self.tables.remove(&info.dpid);
        log::info!("datapath {:016x} left: {}", info.dpid, info.reason.as_deref().unwrap_or("unknown reason"));
    }

    fn packet_in(&mut self, _ctx: &Context, datapath: &Datapath, packet_in: &PacketIn<'_>) -> Result<(), BoxError> {
        let frame = packet_in.data;
        let (Some(dst), Some(src), Some(ethertype)) =
            (packet::eth_dst(frame), packet::eth_src(frame), packet::ethertype(frame))
        else {
            return Err(format!("packet-in of {} bytes is not an Ethernet frame", frame.len()).into());
        };
        if ethertype == packet::ether_type::LLDP {
            return Ok(());
        }
        let table = self.tables.entry(datapath.dpid()).or_default();
        table.insert(src.to_u64(), packet_in.in_port);
        let out_port = table.get(&dst.to_u64()).copied();
        log::debug!(
            "datapath {:016x}: {} -> {} in port {} out {:?}",
            datapath.dpid(),
            src,
            dst,
            packet_in.in_port,
            out_port
        );
        match out_port {
            Some(out_port) => self.forward(datapath, packet_in, src, dst, out_port),
            None => self.flood(datapath, packet_in),
        }
    }

    /// Installs a flow for a known destination; the flow-mod also releases a buffered packet, otherwise a
    /// packet-out sends this one.
    fn forward(
        &self,
        datapath: &Datapath,
        packet_in: &PacketIn<'_>,
        src: MacAddr,
        dst: MacAddr,
        out_port: u32,
    ) -> Result<(), BoxError> {
        let buffered = packet_in.buffer_id != NO_BUFFER;
        if datapath.is_v1_3() {
            let flow = v1_3::FlowMod::add(v1_3::Match::new().in_port(packet_in.in_port).eth_dst(dst).eth_src(src))
                .priority(self.config.priority)
                .idle_timeout(self.config.idle_timeout)
                .buffer_id(packet_in.buffer_id)
                .apply_actions([v1_3::Action::output(out_port)]);
            datapath.send(flow)?;
            if !buffered {
                let out =
                    v1_3::PacketOut::new(packet_in.data, [v1_3::Action::output(out_port)]).in_port(packet_in.in_port);
                datapath.send(out)?;
            }
        } else {
            let in_port = port_1_0(packet_in.in_port)?;
            let out_port = port_1_0(out_port)?;
            let flow = v1_0::FlowMod::add(v1_0::Match::new().in_port(in_port).dl_dst(dst).dl_src(src))
                .priority(self.config.priority)
                .idle_timeout(self.config.idle_timeout)
                .buffer_id(packet_in.buffer_id)
                .actions([v1_0::Action::output(out_port)]);
            datapath.send(flow)?;
            if !buffered {
                let out = v1_0::PacketOut::new(packet_in.data, [v1_0::Action::output(out_port)]).in_port(in_port);
                datapath.send(out)?;
            }
        }
        Ok(())
    }

    /// Floods the packet out of every port but the one it came in on.
    fn flood(&self, datapath: &Datapath, packet_in: &PacketIn<'_>) -> Result<(), BoxError> {
        let buffered = packet_in.buffer_id != NO_BUFFER;
        if datapath.is_v1_3() {
            let actions = [v1_3::Action::output(v1_3::port::FLOOD)];
            let out = if buffered {
                v1_3::PacketOut::buffered(packet_in.buffer_id, packet_in.in_port, actions)
            } else {
                v1_3::PacketOut::new(packet_in.data, actions).in_port(packet_in.in_port)
            };
            datapath.send(out)?;
        } else {
            let in_port = port_1_0(packet_in.in_port)?;
            let actions = [v1_0::Action::output(v1_0::port::FLOOD)];
            let out = if buffered {
                v1_0::PacketOut::buffered(packet_in.buffer_id, in_port, actions)
            } else {
                v1_0::PacketOut::new(packet_in.data, actions).in_port(in_port)
            };
            datapath.send(out)?;
        }
        Ok(())
    }
}

fn port_1_0(port: u32) -> Result<u16, BoxError> {
    u16::try_from(port).map_err(|_| format!("port {port} does not fit OpenFlow 1.0").into())
}

export_app!(SimpleSwitch);
