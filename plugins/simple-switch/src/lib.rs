//! `simple-switch`: an L2 learning switch for OpenFlow 1.0 and 1.3, in the manner of Ryu's `simple_switch_13`.
//!
//! - When a datapath joins, a table-miss flow sends unmatched packets to the controller (on 1.0 switches do that
//!   by themselves).
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

use serde::Deserialize;
use tatsu_plugin_api::ofproto::OFP_VERSION_1_0;
use tatsu_plugin_api::packet;
use tatsu_plugin_api::{export_app, Action, App, BoxError, Context, Datapath, DatapathInfo, FastMap, FlowMod};
use tatsu_plugin_api::{Handlers, MacAddr, Match, PacketIn, PacketOut};

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

/// The learning switch: which port each MAC address is behind, per datapath.
pub struct SimpleSwitch {
    config: Config,
    tables: FastMap<u64, FastMap<MacAddr, u32>>,
}

impl App for SimpleSwitch {
    const NAME: &'static str = "simple-switch";
    const DESCRIPTION: &'static str = "L2 learning switch for OpenFlow 1.0 and 1.3";
    /// One switch at a time, no loops: started only when named (`--app simple-switch`), never beside `forwarding`.
    const AUTOSTART: bool = false;
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(SimpleSwitch { config, tables: FastMap::default() })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_datapath_enter(Self::enter).on_datapath_leave(Self::leave).on_message::<PacketIn>(Self::packet_in);
    }
}

impl SimpleSwitch {
    fn enter(&mut self, _ctx: &Context, info: &DatapathInfo) -> Result<(), BoxError> {
        self.tables.insert(info.dpid, FastMap::default());
        if info.version != OFP_VERSION_1_0 {
            info.datapath().send(FlowMod::add(Match::new()).priority(0).actions([Action::Controller(0xffff)]))?;
        }
        log::info!("datapath {:016x} joined with {} ports", info.dpid, info.ports.len());
        Ok(())
    }

    fn leave(&mut self, _ctx: &Context, info: &DatapathInfo) {
        self.tables.remove(&info.dpid);
        log::info!("datapath {:016x} left: {}", info.dpid, info.reason.as_deref().unwrap_or("unknown reason"));
    }

    fn packet_in(&mut self, _ctx: &Context, dp: &Datapath, packet_in: PacketIn<'_>) -> Result<(), BoxError> {
        let frame = packet_in.data;
        let (Some(dst), Some(src)) = (packet::eth_dst(frame), packet::eth_src(frame)) else {
            return Err(format!("packet-in of {} bytes is not an Ethernet frame", frame.len()).into());
        };
        if packet::ethertype(frame) == Some(packet::ether_type::LLDP) {
            return Ok(());
        }
        let table = self.tables.entry(dp.dpid()).or_default();
        // The destination is looked up before the source is learned, so that the two lookups' cache misses overlap
        // (the tables of many busy switches go cold between packets). A frame to its own source goes back to its
        // port, as learning first would have said.
        let known = if dst == src { Some(packet_in.in_port) } else { table.get(&dst).copied() };
        table.insert(src, packet_in.in_port);
        let Some(out_port) = known else {
            return Ok(dp.send(PacketOut::reply(&packet_in, [Action::flood()]))?);
        };
        log::debug!("datapath {:016x}: {src} -> {dst} from port {} to {out_port}", dp.dpid(), packet_in.in_port);
        let learned = Match::new().in_port(packet_in.in_port).eth_dst(dst).eth_src(src);
        let (priority, idle) = (self.config.priority, self.config.idle_timeout);
        let flow = FlowMod::add(learned).priority(priority).idle_timeout(idle).buffer_id(packet_in.buffer_id);
        dp.send(flow.actions([Action::output(out_port)]))?;
        if !packet_in.is_buffered() {
            dp.send(PacketOut::reply(&packet_in, [Action::output(out_port)]))?;
        }
        Ok(())
    }
}

export_app!(SimpleSwitch);

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_plugin_api::ofproto::{
        v1_0, v1_3, v1_4, v1_5, Message, OFP_VERSION_1_2, OFP_VERSION_1_3, OFP_VERSION_1_4, OFP_VERSION_1_5,
        SUPPORTED_VERSIONS,
    };
    use tatsu_plugin_api::packet::build::{self, EthHeader};
    use tatsu_plugin_api::testing::TestKit;

    fn mac(last: u8) -> MacAddr {
        MacAddr([0, 0, 0, 0, 0, last])
    }

    /// An Ethernet frame from host `src` to host `dst`.
    fn frame(src: u8, dst: u8) -> Vec<u8> {
        let header = EthHeader::new(mac(src), mac(dst));
        build::ethernet(&header, 0x0800, &[0x45; 20])
    }

    fn switch(version: u8) -> TestKit<SimpleSwitch> {
        let mut kit = TestKit::<SimpleSwitch>::with_config(serde_json::json!({"idle_timeout": 10, "priority": 5}))
            .unwrap_or_else(|e| panic!("{e}"));
        kit.connect(1, version, &[1, 2, 3]);
        kit
    }

    #[test]
    fn a_1_3_datapath_gets_a_table_miss_flow_and_a_1_0_one_nothing() {
        let mut kit = switch(OFP_VERSION_1_3);
        let sent = kit.take_sent();
        let table_miss = v1_3::FlowMod::add(v1_3::Match::new())
            .priority(0)
            .apply_actions([v1_3::Action::controller(v1_3::action::OFPCML_NO_BUFFER)]);
        assert_eq!(sent.len(), 1);
        assert!(sent[0].is(table_miss), "{sent:?}");
        assert!(switch(OFP_VERSION_1_0).take_sent().is_empty());
    }

    #[test]
    fn unknown_destinations_are_flooded_and_known_ones_get_a_flow_and_the_packet() {
        for version in SUPPORTED_VERSIONS.iter().copied() {
            let mut kit = switch(version);
            kit.take_sent();
            kit.packet_in(1, 1, &frame(1, 2));
            let sent = kit.take_sent();
            assert_eq!(sent.len(), 1, "{version}: {sent:?}");
            assert!(sent[0].is(PacketOut::new(frame(1, 2), [Action::flood()]).in_port(1)), "{sent:?}");

            // Host 2 answers from port 2: host 1 is known behind port 1 by now.
            kit.packet_in(1, 2, &frame(2, 1));
            let sent = kit.take_sent();
            let flow = FlowMod::add(Match::new().in_port(2).eth_dst(mac(1)).eth_src(mac(2)))
                .priority(5)
                .idle_timeout(10)
                .actions([Action::output(1)]);
            assert_eq!(sent.len(), 2, "{version}: {sent:?}");
            assert!(sent[0].is(flow), "{version}: {sent:?}");
            assert!(sent[1].is(PacketOut::new(frame(2, 1), [Action::output(1)]).in_port(2)), "{sent:?}");
            assert!(kit.faults().is_empty(), "{:?}", kit.faults());
        }
    }

    #[test]
    fn a_1_4_and_a_1_5_datapath_get_their_own_version_s_messages() {
        for version in [OFP_VERSION_1_2, OFP_VERSION_1_4, OFP_VERSION_1_5] {
            let mut kit = switch(version);
            let sent = kit.take_sent();
            assert_eq!(sent.len(), 1, "{version}: {sent:?}");
            assert_eq!(sent[0].bytes[0], version, "the table-miss flow is in the datapath's version");
            kit.packet_in(1, 1, &frame(1, 2));
            let sent = kit.take_sent();
            assert_eq!(sent[0].packet_out(), Some((vec![v1_3::port::FLOOD], &frame(1, 2)[..])), "{version}");
            kit.packet_in(1, 2, &frame(2, 1));
            let sent = kit.take_sent();
            assert_eq!(sent.len(), 2, "{version}: {sent:?}");
            assert_eq!(sent[1].packet_out(), Some((vec![1], &frame(2, 1)[..])), "{version}");
            assert!(kit.faults().is_empty(), "{:?}", kit.faults());
        }

        // Decoded by the codec as the version's own messages: 1.4's flow-mod with importance, 1.5's packet-out
        // with its in-port in a match.
        let mut kit = switch(OFP_VERSION_1_4);
        kit.packet_in(1, 1, &frame(1, 2));
        kit.packet_in(1, 2, &frame(2, 1));
        let sent = kit.take_sent();
        let Some(Message::V1_4(v1_4::Message::FlowMod(flow))) = &sent[2].message else { panic!("{sent:?}") };
        assert_eq!((flow.flow.priority, flow.flow.idle_timeout, flow.importance), (5, 10, 0));
        assert_eq!(flow.flow.match_, v1_3::Match::new().in_port(2).eth_dst(mac(1)).eth_src(mac(2)));
        let mut kit = switch(OFP_VERSION_1_5);
        kit.packet_in(1, 3, &frame(3, 9));
        let sent = kit.take_sent();
        let Some(Message::V1_5(v1_5::Message::PacketOut(out))) = &sent[1].message else { panic!("{sent:?}") };
        assert_eq!(out.in_port(), Some(3));
    }

    #[test]
    fn the_flow_mod_releases_a_buffered_packet_without_a_packet_out() {
        let mut kit = switch(OFP_VERSION_1_0);
        kit.packet_in(1, 1, &frame(1, 2));
        kit.take_sent();
        let buffered = v1_0::PacketIn { buffer_id: 77, total_len: 34, in_port: 2, reason: 0, data: frame(2, 1) };
        kit.receive(1, v1_0::Message::PacketIn(buffered));
        let sent = kit.take_sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        let flow = v1_0::FlowMod::add(v1_0::Match::new().in_port(2).dl_dst(mac(1)).dl_src(mac(2)))
            .priority(5)
            .idle_timeout(10)
            .buffer_id(77)
            .actions([v1_0::Action::output(1)]);
        assert!(sent[0].is(flow), "{sent:?}");
    }

    #[test]
    fn tables_are_per_datapath_and_go_with_it() {
        let mut kit = switch(OFP_VERSION_1_3);
        kit.connect(2, OFP_VERSION_1_3, &[1, 2]);
        kit.packet_in(1, 1, &frame(1, 2));
        kit.take_sent();
        // Datapath 2 has not learned host 1: it floods.
        kit.packet_in(2, 2, &frame(2, 1));
        assert!(kit.take_sent()[0].is(PacketOut::new(frame(2, 1), [Action::flood()]).in_port(2)));
        kit.disconnect(1, "test");
        assert!(!kit.app().tables.contains_key(&1));
        assert!(kit.app().tables.contains_key(&2));
    }

    /// The xid of a message set to 0, to compare what two runs sent.
    fn without_xid(bytes: &[u8]) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        bytes[4..8].fill(0);
        bytes
    }

    #[test]
    fn a_field_capture_replayed_makes_the_app_send_what_it_sent_in_the_field() {
        // A real Open vSwitch and two pinging hosts against tatsu running this app (see testdata/README.md).
        let capture = include_bytes!("../testdata/ovs-two-hosts-ping.pcap");
        let mut kit = TestKit::<SimpleSwitch>::new().unwrap_or_else(|e| panic!("{e}"));
        let replayed = kit.replay_capture(capture).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(replayed.len(), 1);
        let session = &replayed[0];
        assert_eq!((session.dpid, session.version), (1, OFP_VERSION_1_3));
        // Open vSwitch sent a port status before its features reply: like the host, the kit gives apps only what
        // comes after the handshake.
        assert_eq!(session.fed, 12 + 4, "12 packet-ins and 4 port status messages");
        assert_eq!(kit.app().tables[&1].len(), 2, "both hosts learned");
        // What the app sent in the field (flow-mods and packet-outs; the rest is the host's handshake), message
        // for message, is what it sends now.
        let field: Vec<Vec<u8>> = session
            .controller_sent
            .iter()
            .filter(|bytes| matches!(bytes[1], v1_3::msg_type::FLOW_MOD | v1_3::msg_type::PACKET_OUT))
            .map(|bytes| without_xid(bytes))
            .collect();
        let now: Vec<Vec<u8>> = kit.take_sent().iter().map(|sent| without_xid(&sent.bytes)).collect();
        assert_eq!(field.len(), 9 + 12);
        assert_eq!(now, field);
        assert!(kit.faults().is_empty(), "{:?}", kit.faults());
    }

    #[test]
    fn lldp_is_ignored_and_a_runt_frame_is_a_fault() {
        let mut kit = switch(OFP_VERSION_1_3);
        kit.take_sent();
        let header = EthHeader::new(mac(1), MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]));
        kit.packet_in(1, 1, &build::ethernet(&header, packet::ether_type::LLDP, &[0; 8]));
        kit.packet_in(1, 1, &[1, 2, 3]);
        assert!(kit.take_sent().is_empty());
        let faults = kit.faults();
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert!(faults[0].contains("not an Ethernet frame"), "{faults:?}");
    }
}
