//! OpenFlow 1.2, 1.4 and 1.5 against a real host on loopback, each with a scripted switch: the handshake reaches
//! MAIN with the switch's ports (1.2's in its features reply, 1.4's and 1.5's in a PORT_DESC reply with
//! properties), port status messages are taken, and `simple-switch`, written once with the portable API, forwards
//! on a 1.4 and a 1.5 switch with that version's own messages.

mod common;

use common::fake_switch::{port_1_4, FakeSwitch, V1_2, V1_4, V1_5};
use common::{install, lib_path, temp_dir, Host};
use tatsu_ofproto::{v1_3, v1_4, v1_5, Message};

/// Starts a host with the app library `crate_name` (installed as `file`) on an ephemeral switch port, with
/// `extra` flags.
fn host_with(name: &str, crate_name: &str, file: &str, extra: &[&str]) -> (Host, u16) {
    let dir = temp_dir(name);
    install(&dir, &[(&lib_path(crate_name), file)]);
    let dir = dir.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &dir, "--ofp-tcp-listen-port", "0", "--ofp-listen-host", "127.0.0.1"];
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    let port = host.switch_port();
    (host, port)
}

#[test]
fn a_switch_of_each_new_version_reaches_main_with_its_ports() {
    let (host, port) = host_with("versions-handshake", "tatsu_fixture_of_probe", "libof_probe.so", &[]);
    for (version, dpid) in [(V1_2, 0x12), (V1_4, 0x14), (V1_5, 0x15)] {
        let mut switch = FakeSwitch::connect(port);
        switch.handshake(version, dpid, 3);
        host.wait_for(&["of-probe]", &format!("enter {dpid:016x} version {version} ports 3")]);
        host.wait_for(&["of-probe]", &format!("state {dpid:016x} main connection")]);

        // A port is added: the host takes the port status (1.4 and 1.5 with properties) and goes on.
        let status = match version {
            V1_4 => Message::V1_4(v1_4::Message::PortStatus(v1_4::PortStatus { reason: 0, desc: port_1_4(4) })),
            V1_5 => Message::V1_5(v1_5::Message::PortStatus(v1_4::PortStatus { reason: 0, desc: port_1_4(4) })),
            _ => {
                let desc = v1_3::Port { port_no: 4, name: "p4".into(), ..Default::default() };
                Message::V1_2(tatsu_ofproto::v1_2::Message::PortStatus(v1_3::PortStatus { reason: 0, desc }))
            }
        };
        switch.send(status, 0);
        switch.send_raw(&[version, 2, 0, 8, 0, 0, 0, 42]);
        let reply = switch.expect(3);
        assert_eq!((reply.version, reply.xid), (version, 42), "an echo reply in the agreed version");
        drop(switch);
        host.wait_for(&[&format!("datapath {dpid:016x}"), "disconnected", "(0 malformed messages"]);
    }
    host.stop();
}

/// An Ethernet frame from host `src` to host `dst` (MAC addresses 00:00:00:00:00:src/dst).
fn frame(src: u8, dst: u8) -> Vec<u8> {
    let mut frame = vec![0, 0, 0, 0, 0, dst, 0, 0, 0, 0, 0, src, 0x08, 0x00];
    frame.resize(60, 0x45);
    frame
}

/// A packet-in of `frame` from `in_port` in `version` (1.4 and 1.5 carry 1.3's packet-in).
fn packet_in(version: u8, in_port: u32, frame: Vec<u8>) -> Message {
    let packet_in = v1_3::PacketIn {
        buffer_id: 0xffff_ffff,
        total_len: 60,
        match_: v1_3::Match::new().in_port(in_port),
        data: frame,
        ..Default::default()
    };
    if version == V1_4 {
        Message::V1_4(v1_4::Message::PacketIn(packet_in))
    } else {
        Message::V1_5(v1_5::Message::PacketIn(packet_in))
    }
}

/// The output ports of a packet-out the host sent, decoded in `version`, and its in-port.
fn packet_out(version: u8, bytes: &[u8]) -> (Vec<u32>, Option<u32>) {
    let outputs = |actions: &[v1_3::Action]| -> Vec<u32> {
        actions
            .iter()
            .filter_map(|action| match action {
                v1_3::Action::Output { port, .. } => Some(*port),
                _ => None,
            })
            .collect()
    };
    match tatsu_ofproto::decode(bytes) {
        Ok((_, Message::V1_4(v1_4::Message::PacketOut(out)))) if version == V1_4 => {
            (outputs(&out.actions), Some(out.in_port))
        }
        Ok((_, Message::V1_5(v1_5::Message::PacketOut(out)))) if version == V1_5 => {
            (outputs(&out.actions), out.in_port())
        }
        other => panic!("not a {version} packet-out: {other:?}"),
    }
}

#[test]
fn simple_switch_forwards_on_a_1_4_and_a_1_5_switch() {
    let (host, port) =
        host_with("versions-simple-switch", "simple_switch", "libsimple_switch.so", &["--app", "simple-switch"]);
    for (version, dpid) in [(V1_4, 0x14), (V1_5, 0x15)] {
        let mut switch = FakeSwitch::connect(port);
        switch.handshake(version, dpid, 2);
        host.wait_for(&["simple-switch]", &format!("datapath {dpid:016x} joined with 2 ports")]);

        let table_miss = switch.expect(14);
        assert_eq!(table_miss.version, version, "the table-miss flow in the agreed version");

        // Host 2 is unknown: flooded, from port 1.
        switch.send(packet_in(version, 1, frame(1, 2)), 0);
        let flood = switch.expect(13);
        assert_eq!(packet_out(version, &flood.bytes), (vec![v1_3::port::FLOOD], Some(1)));

        // Host 1 is known behind port 1: a flow, and the packet sent there.
        switch.send(packet_in(version, 2, frame(2, 1)), 0);
        let flow = switch.expect(14);
        match tatsu_ofproto::decode(&flow.bytes) {
            Ok((_, Message::V1_4(v1_4::Message::FlowMod(flow))))
            | Ok((_, Message::V1_5(v1_5::Message::FlowMod(flow)))) => {
                assert_eq!(
                    flow.flow.match_.get(tatsu_ofproto::v1_3::oxm::OxmField::InPort).map(|o| o.value_u64()),
                    Some(2)
                );
            }
            other => panic!("not a flow-mod: {other:?}"),
        }
        assert_eq!(flow.version, version);
        let out = switch.expect(13);
        assert_eq!(packet_out(version, &out.bytes), (vec![1], Some(2)));
    }
    host.stop();
}
