//! The OpenFlow handshake as a state machine: fed the switch's messages, it says what to do ([`Action`]s: send
//! these bytes, record the version, features and ports, enter MAIN, close), touching no socket. The connection's
//! reader executes the actions.
//!
//! HELLO both ways and version negotiation (a version bitmap, or 1.0's lower header version) over 1.0, 1.2, 1.3,
//! 1.4 and 1.5, FEATURES_REQUEST, SET_CONFIG, and for 1.3, 1.4 and 1.5 a PORT_DESC request whose reply may come in
//! parts (1.4 and 1.5 describe a port's features in properties); a 1.0 or 1.2 FEATURES_REPLY carries the ports
//! itself. Before the switch's HELLO only echo requests are answered; anything else closes the connection.
//! After it, the reader checks each message's version and type first (in every state), and feeds the machine only
//! messages in the negotiated version; those go on to requests and apps as well, whatever the machine made of them.
//! The time a switch has to finish is the keepalive's business (`handshake_timeout`).

use tatsu_ofproto::{version_name, Hello, OFP_VERSION_1_0, OFP_VERSION_1_5};

use super::description::PortInfo;
use super::negotiation::VersionOffer;
use super::wire::{self, xid_of, Features};

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the switch's HELLO.
    AwaitHello,
    /// FEATURES_REQUEST sent under this xid.
    AwaitFeatures(u32),
    /// PORT_DESC request (1.3 to 1.5) sent under this xid.
    AwaitPorts(u32),
    /// Finished: the datapath is in MAIN.
    Done,
}

/// What the connection does, in order, for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Queue these bytes for the switch.
    Send(Vec<u8>),
    /// The version is agreed: record it and enter CONFIG.
    Negotiated(u8),
    /// Record the switch's features (its datapath id is known from now on).
    Features(Features),
    /// Record these ports (added or changed).
    Ports(Vec<PortInfo>),
    /// The message is malformed, as this says: count and log it. The handshake goes on unless a `Close` follows.
    Malformed(String),
    /// Enter MAIN.
    EnterMain,
    /// Close the connection for this reason.
    Close(String),
}

/// The handshake of one connection.
#[derive(Debug, Clone)]
pub struct Handshake {
    phase: Phase,
    /// The negotiated version (0 before).
    version: u8,
    /// `miss_send_len` for the SET_CONFIG.
    miss_send_len: u16,
}

impl Handshake {
    /// The handshake of a fresh connection, which has sent [`Handshake::hello`]; `miss_send_len` goes into the
    /// SET_CONFIG.
    pub fn new(miss_send_len: u16) -> Self {
        Handshake { phase: Phase::AwaitHello, version: 0, miss_send_len }
    }

    /// The finished handshake of a connection taken over in MAIN.
    pub fn finished() -> Self {
        Handshake { phase: Phase::Done, version: 0, miss_send_len: 0 }
    }

    /// The host's HELLO (OpenFlow 1.5, its highest, with a bitmap of the versions it speaks), sent first under
    /// `xid`.
    pub fn hello(xid: u32) -> Result<Vec<u8>, String> {
        let mut hello = Vec::new();
        tatsu_ofproto::encode_hello(OFP_VERSION_1_5, &wire::VERSIONS, xid, &mut hello).map_err(|e| e.to_string())?;
        Ok(hello)
    }

    /// Whether the switch's HELLO is still awaited (the reader then checks nothing itself: every message goes to
    /// [`Handshake::on_message`], and no further).
    pub fn awaits_hello(&self) -> bool {
        self.phase == Phase::AwaitHello
    }

    /// Whether the handshake is over (the datapath entered MAIN).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Takes one framed message of the switch (at least a header); `fresh_xid` gives the transaction ids of the
    /// requests it sends. Returns what to do, in order.
    pub fn on_message(&mut self, message: &[u8], fresh_xid: &mut impl FnMut() -> u32) -> Vec<Action> {
        let (Some(&version), Some(&msg_type)) = (message.first(), message.get(1)) else {
            return vec![Action::Close("a message shorter than its header".to_owned())];
        };
        let xid = xid_of(message);
        match self.phase {
            Phase::AwaitHello => self.on_hello(message, fresh_xid),
            Phase::AwaitFeatures(want) if msg_type == wire::FEATURES_REPLY && xid == want => {
                self.on_features(message, fresh_xid)
            }
            Phase::AwaitPorts(want) if msg_type == wire::multipart_reply_type(version) && xid == want => {
                let mut actions = Vec::with_capacity(2);
                match wire::port_desc(message) {
                    Ok(ports) => actions.push(Action::Ports(ports)),
                    Err(e) => actions.push(Action::Malformed(format!("malformed PORT_DESC reply ({e})"))),
                }
                if !wire::reply_has_more(message) {
                    self.phase = Phase::Done;
                    actions.push(Action::EnterMain);
                }
                actions
            }
            _ => Vec::new(),
        }
    }

    fn on_hello(&mut self, message: &[u8], fresh_xid: &mut impl FnMut() -> u32) -> Vec<Action> {
        let (version, msg_type) = (message[0], message[1]);
        if msg_type == wire::ECHO_REQUEST {
            return vec![Action::Send(wire::echo_reply(message))];
        }
        if msg_type != wire::HELLO {
            return vec![
                Action::Malformed(format!("message type {msg_type} before HELLO")),
                Action::Close(format!("the switch sent message type {msg_type} before HELLO")),
            ];
        }
        let mut actions = Vec::with_capacity(3);
        let hello = match tatsu_ofproto::decode_hello(message) {
            Ok((_, hello)) => hello,
            Err(e) => {
                actions.push(Action::Malformed(format!("malformed HELLO ({e}); negotiating on its header version")));
                Hello::default()
            }
        };
        let offer = VersionOffer::of(version, &hello);
        let Some(agreed) = offer.best_of(&wire::VERSIONS) else {
            let spoken: Vec<String> = wire::VERSIONS.iter().map(|v| version_name(*v)).collect();
            let reason =
                format!("no common OpenFlow version: the switch offers {offer}, tatsu speaks {}", spoken.join(", "));
            let reply_version = if wire::VERSIONS.contains(&version) { version } else { OFP_VERSION_1_0.max(version) };
            actions.push(Action::Send(wire::hello_failed(reply_version, &reason, xid_of(message))));
            actions.push(Action::Close(reason));
            return actions;
        };
        self.version = agreed;
        let xid = fresh_xid();
        self.phase = Phase::AwaitFeatures(xid);
        actions.push(Action::Negotiated(agreed));
        actions.push(Action::Send(wire::features_request(agreed, xid)));
        actions
    }

    fn on_features(&mut self, message: &[u8], fresh_xid: &mut impl FnMut() -> u32) -> Vec<Action> {
        let (features, ports) = match wire::features(message) {
            Ok(decoded) => decoded,
            Err(e) => {
                return vec![
                    Action::Malformed(format!("malformed FEATURES_REPLY ({e})")),
                    Action::Close(format!("malformed FEATURES_REPLY: {e}")),
                ]
            }
        };
        let mut actions = Vec::with_capacity(4);
        actions.push(Action::Features(features));
        actions.push(Action::Send(wire::set_config(self.version, self.miss_send_len, fresh_xid())));
        match ports {
            Some(ports) => {
                self.phase = Phase::Done;
                actions.push(Action::Ports(ports));
                actions.push(Action::EnterMain);
            }
            None => {
                let xid = fresh_xid();
                self.phase = Phase::AwaitPorts(xid);
                actions.push(Action::Send(wire::port_desc_request(self.version, xid)));
            }
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use tatsu_ofproto::v1_3::multipart::MultipartReplyBody;
    use tatsu_ofproto::{
        v1_0, v1_2, v1_3, v1_4, v1_5, ErrorMsg, FixedStr, MacAddr, Message, OFP_VERSION_1_2, OFP_VERSION_1_3,
        OFP_VERSION_1_4,
    };

    use super::*;

    /// Transaction ids as a connection hands them out: 1, 2, 3...
    fn counter() -> impl FnMut() -> u32 {
        let mut next = 0;
        move || {
            next += 1;
            next
        }
    }

    fn encode(message: impl Into<Message>, xid: u32) -> Vec<u8> {
        message.into().to_vec(xid).expect("a test message encodes")
    }

    /// A HELLO in `version` with a bitmap of `versions` (none: no bitmap).
    fn hello(version: u8, versions: Option<&[u8]>, xid: u32) -> Vec<u8> {
        let hello = versions.map_or_else(Hello::default, Hello::with_versions);
        if version == OFP_VERSION_1_0 {
            encode(v1_0::Message::Hello(hello), xid)
        } else {
            // Any version's HELLO has the same layout: encode it as 1.3's and set the header's version.
            let mut bytes = encode(v1_3::Message::Hello(hello), xid);
            bytes[0] = version;
            bytes
        }
    }

    fn port_1_0(port_no: u16, name: &str) -> v1_0::PhyPort {
        v1_0::PhyPort {
            port_no,
            hw_addr: MacAddr([2, 0, 0, 0, 0, port_no.to_be_bytes()[1]]),
            name: FixedStr::from(name),
            ..Default::default()
        }
    }

    fn port_1_3(port_no: u32, name: &str) -> v1_3::Port {
        v1_3::Port {
            port_no,
            hw_addr: MacAddr([2, 0, 0, 0, 1, port_no.to_be_bytes()[3]]),
            name: FixedStr::from(name),
            curr_speed: 10_000_000,
            ..Default::default()
        }
    }

    fn features_1_0(dpid: u64, ports: Vec<v1_0::PhyPort>, xid: u32) -> Vec<u8> {
        let features = v1_0::SwitchFeatures {
            datapath_id: dpid,
            n_buffers: 256,
            n_tables: 1,
            capabilities: 0xc7,
            actions: 0xfff,
            ports,
        };
        encode(v1_0::Message::FeaturesReply(features), xid)
    }

    fn features_1_3(dpid: u64, xid: u32) -> Vec<u8> {
        let features = v1_3::SwitchFeatures {
            datapath_id: dpid,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0x4f,
            reserved: 0,
        };
        encode(v1_3::Message::FeaturesReply(features), xid)
    }

    fn port_desc_part(ports: Vec<v1_3::Port>, more: bool, xid: u32) -> Vec<u8> {
        let reply = v1_3::MultipartReply { flags: u16::from(more), body: MultipartReplyBody::PortDesc(ports) };
        encode(v1_3::Message::MultipartReply(reply), xid)
    }

    fn features(dpid: u64, n_buffers: u32, n_tables: u8, capabilities: u32) -> Features {
        Features { datapath_id: dpid, n_buffers, n_tables, capabilities }
    }

    #[test]
    fn a_1_0_switch_is_asked_for_features_and_its_reply_brings_the_ports() {
        let mut handshake = Handshake::new(128);
        let mut xids = counter();
        assert!(handshake.awaits_hello());
        let actions = handshake.on_message(&hello(OFP_VERSION_1_0, None, 9), &mut xids);
        assert_eq!(
            actions,
            vec![Action::Negotiated(OFP_VERSION_1_0), Action::Send(wire::features_request(OFP_VERSION_1_0, 1))]
        );
        assert!(!handshake.awaits_hello() && !handshake.is_done());

        let ports = vec![port_1_0(1, "eth1"), port_1_0(0xfffe, "br0")];
        let expected_ports: Vec<PortInfo> = ports.iter().map(PortInfo::from).collect();
        let actions = handshake.on_message(&features_1_0(0x1234, ports, 1), &mut xids);
        assert_eq!(
            actions,
            vec![
                Action::Features(features(0x1234, 256, 1, 0xc7)),
                Action::Send(wire::set_config(OFP_VERSION_1_0, 128, 2)),
                Action::Ports(expected_ports.clone()),
                Action::EnterMain,
            ]
        );
        assert!(handshake.is_done());
        assert_eq!(expected_ports[1].name, "br0");
        assert_eq!(expected_ports[1].port_no, 0xfffe);
        assert_eq!(expected_ports[1].curr_speed, None);
    }

    #[test]
    fn a_1_3_switch_is_asked_for_its_ports_which_may_come_in_parts() {
        let mut handshake = Handshake::new(0xffff);
        let mut xids = counter();
        let actions = handshake.on_message(&hello(OFP_VERSION_1_3, Some(&[1, 4]), 1), &mut xids);
        assert_eq!(
            actions,
            vec![Action::Negotiated(OFP_VERSION_1_3), Action::Send(wire::features_request(OFP_VERSION_1_3, 1))]
        );
        let actions = handshake.on_message(&features_1_3(7, 1), &mut xids);
        assert_eq!(
            actions,
            vec![
                Action::Features(features(7, 0, 254, 0x4f)),
                Action::Send(wire::set_config(OFP_VERSION_1_3, 0xffff, 2)),
                Action::Send(wire::port_desc_request(OFP_VERSION_1_3, 3)),
            ]
        );

        // A part under another xid (some other reply) is none of the handshake's business.
        assert_eq!(handshake.on_message(&port_desc_part(vec![port_1_3(9, "x")], false, 99), &mut xids), vec![]);

        let first = vec![port_1_3(1, "s1-eth1"), port_1_3(2, "s1-eth2")];
        let actions = handshake.on_message(&port_desc_part(first.clone(), true, 3), &mut xids);
        assert_eq!(actions, vec![Action::Ports(first.iter().map(PortInfo::from).collect())]);
        assert!(!handshake.is_done(), "more parts follow");

        let last = vec![port_1_3(0xffff_fffe, "s1")];
        let actions = handshake.on_message(&port_desc_part(last.clone(), false, 3), &mut xids);
        assert_eq!(actions, vec![Action::Ports(last.iter().map(PortInfo::from).collect()), Action::EnterMain]);
        assert!(handshake.is_done());
        assert_eq!(handshake.on_message(&port_desc_part(Vec::new(), false, 3), &mut xids), vec![], "done is done");
    }

    #[test]
    fn a_malformed_port_desc_part_is_counted_and_the_handshake_goes_on() {
        let mut handshake = Handshake::new(128);
        let mut xids = counter();
        handshake.on_message(&hello(OFP_VERSION_1_3, None, 1), &mut xids);
        handshake.on_message(&features_1_3(7, 1), &mut xids);
        let mut part = port_desc_part(vec![port_1_3(1, "eth1")], false, 3);
        part.truncate(part.len() - 10);
        let length = u16::try_from(part.len()).expect("short");
        part[2..4].copy_from_slice(&length.to_be_bytes());
        let actions = handshake.on_message(&part, &mut xids);
        assert!(
            matches!(&actions[..], [Action::Malformed(what), Action::EnterMain] if what.starts_with("malformed PORT_DESC reply"))
        );
    }

    #[test]
    fn the_highest_common_version_of_a_bitmap_is_taken() {
        let negotiated = |version, versions: Option<&[u8]>| {
            Handshake::new(128).on_message(&hello(version, versions, 1), &mut counter()).first().cloned()
        };
        // Open vSwitch's default range, 1.0 to 1.5 (and 1.1, which tatsu does not speak), with a 1.5 header: 1.5.
        assert_eq!(negotiated(6, Some(&[1, 2, 3, 4, 5, 6])), Some(Action::Negotiated(OFP_VERSION_1_5)));
        // A bridge limited to 1.0, 1.3 and 1.4: 1.4.
        assert_eq!(negotiated(5, Some(&[1, 4, 5])), Some(Action::Negotiated(OFP_VERSION_1_4)));
        // 1.1 and 1.2: 1.2.
        assert_eq!(negotiated(3, Some(&[2, 3])), Some(Action::Negotiated(OFP_VERSION_1_2)));
        // Only 1.0 in the bitmap, whatever the header says: 1.0.
        assert_eq!(negotiated(OFP_VERSION_1_3, Some(&[1])), Some(Action::Negotiated(OFP_VERSION_1_0)));
        // No bitmap: the lower of the two highest, 1.4 for a 1.4 header, 1.5 for a 1.5 one.
        assert_eq!(negotiated(5, None), Some(Action::Negotiated(OFP_VERSION_1_4)));
        assert_eq!(negotiated(6, None), Some(Action::Negotiated(OFP_VERSION_1_5)));
    }

    #[test]
    fn no_common_version_gets_hello_failed_and_closes() {
        // 1.1 and a version after 1.5 only: the error goes back in the switch's header version, under its HELLO's
        // xid.
        let mut handshake = Handshake::new(128);
        let actions = handshake.on_message(&hello(7, Some(&[2, 7]), 77), &mut counter());
        let [Action::Send(error), Action::Close(reason)] = &actions[..] else { panic!("{actions:?}") };
        assert_eq!(
            reason,
            "no common OpenFlow version: the switch offers OpenFlow 1.1 (0x02), wire version 0x07 (no OpenFlow \
             version), tatsu speaks 1.0, 1.2, 1.3, 1.4, 1.5"
        );
        assert_eq!(error, &wire::hello_failed(7, reason, 77));
        assert_eq!((error[0], error[1], xid_of(error)), (7, wire::ERROR, 77));
        assert_eq!(&error[8..12], &[0, 0, 0, 0], "OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE");

        // A 1.1 header and no bitmap: 1.1 is not spoken.
        let mut handshake = Handshake::new(128);
        let actions = handshake.on_message(&hello(2, None, 5), &mut counter());
        assert!(matches!(&actions[..], [Action::Send(_), Action::Close(_)]), "{actions:?}");
        assert!(handshake.awaits_hello());
    }

    #[test]
    fn a_malformed_hello_is_negotiated_on_its_header_version() {
        let mut message = hello(OFP_VERSION_1_3, Some(&[1, 4]), 1);
        // An element claiming more bytes than the message has.
        message[10..12].copy_from_slice(&200u16.to_be_bytes());
        let actions = Handshake::new(128).on_message(&message, &mut counter());
        assert!(
            matches!(&actions[..], [Action::Malformed(what), Action::Negotiated(4), Action::Send(_)] if what.starts_with("malformed HELLO")),
            "{actions:?}"
        );
    }

    #[test]
    fn before_hello_only_echo_requests_are_answered() {
        let mut handshake = Handshake::new(128);
        let echo = encode(v1_3::Message::EchoRequest(b"ping".to_vec()), 5);
        assert_eq!(handshake.on_message(&echo, &mut counter()), vec![Action::Send(wire::echo_reply(&echo))]);
        assert!(handshake.awaits_hello());

        let error = encode(v1_3::Message::Error(ErrorMsg::new(1, 1, b"")), 6);
        assert_eq!(
            handshake.on_message(&error, &mut counter()),
            vec![
                Action::Malformed("message type 1 before HELLO".to_owned()),
                Action::Close("the switch sent message type 1 before HELLO".to_owned()),
            ]
        );
        let features = features_1_3(1, 1);
        assert!(matches!(
            &handshake.on_message(&features, &mut counter())[..],
            [Action::Malformed(_), Action::Close(_)]
        ));
    }

    #[test]
    fn a_features_reply_under_another_xid_is_left_alone_and_a_malformed_one_closes() {
        let mut handshake = Handshake::new(128);
        let mut xids = counter();
        handshake.on_message(&hello(OFP_VERSION_1_3, None, 1), &mut xids);
        assert_eq!(handshake.on_message(&features_1_3(7, 42), &mut xids), vec![], "not the reply to our request");
        // An echo, an error: the reader answers or delivers them; the handshake waits on.
        let echo = encode(v1_3::Message::EchoRequest(Vec::new()), 2);
        assert_eq!(handshake.on_message(&echo, &mut xids), vec![]);
        let error = encode(v1_3::Message::Error(ErrorMsg::new(1, 1, b"")), 1);
        assert_eq!(handshake.on_message(&error, &mut xids), vec![]);

        let mut truncated = features_1_3(7, 1);
        truncated.truncate(20);
        truncated[2..4].copy_from_slice(&20u16.to_be_bytes());
        let actions = handshake.on_message(&truncated, &mut xids);
        let [Action::Malformed(what), Action::Close(reason)] = &actions[..] else { panic!("{actions:?}") };
        assert!(what.starts_with("malformed FEATURES_REPLY (") && reason.starts_with("malformed FEATURES_REPLY: "));
    }

    #[test]
    fn a_taken_over_connection_has_finished_its_handshake() {
        let mut handshake = Handshake::finished();
        assert!(handshake.is_done() && !handshake.awaits_hello());
        assert_eq!(handshake.on_message(&features_1_3(7, 1), &mut counter()), vec![]);
    }

    #[test]
    fn the_host_says_hello_in_1_5_offering_all_five_versions() {
        let hello = Handshake::hello(1).expect("the host's HELLO encodes");
        let (header, decoded) = tatsu_ofproto::decode_hello(&hello).expect("and decodes");
        assert_eq!((header.version, header.xid), (OFP_VERSION_1_5, 1));
        let offer = VersionOffer::of(header.version, &decoded);
        assert_eq!(offer.best_of(&wire::VERSIONS), Some(OFP_VERSION_1_5));
        for version in wire::VERSIONS {
            assert_eq!(offer.best_of(&[version]), Some(version));
        }
        assert_eq!(offer.best_of(&[2]), None, "1.1 is not offered");
    }

    #[test]
    fn a_1_2_switch_gives_its_ports_in_the_features_reply() {
        let mut handshake = Handshake::new(128);
        let mut xids = counter();
        let actions = handshake.on_message(&hello(OFP_VERSION_1_2, Some(&[1, 3]), 1), &mut xids);
        assert_eq!(
            actions,
            vec![Action::Negotiated(OFP_VERSION_1_2), Action::Send(wire::features_request(OFP_VERSION_1_2, 1))]
        );
        assert_eq!(wire::features_request(OFP_VERSION_1_2, 1)[0], OFP_VERSION_1_2);
        let ports = vec![port_1_3(1, "eth1"), port_1_3(0xffff_fffe, "br0")];
        let reply = v1_2::SwitchFeatures {
            datapath_id: 0x12,
            n_buffers: 256,
            n_tables: 255,
            capabilities: 0x4f,
            reserved: 0,
            ports: ports.clone(),
        };
        let actions = handshake.on_message(&encode(v1_2::Message::FeaturesReply(reply), 1), &mut xids);
        let set_config = wire::set_config(OFP_VERSION_1_2, 128, 2);
        assert_eq!(set_config[0], OFP_VERSION_1_2);
        assert_eq!(
            actions,
            vec![
                Action::Features(features(0x12, 256, 255, 0x4f)),
                Action::Send(set_config),
                Action::Ports(ports.iter().map(PortInfo::from).collect()),
                Action::EnterMain,
            ]
        );
        assert!(handshake.is_done());
    }

    fn port_1_4(port_no: u32, name: &str) -> v1_4::Port {
        let ethernet =
            v1_4::PortEthernet { curr: 0x840, supported: 0x2ff, curr_speed: 10_000_000, ..Default::default() };
        v1_4::Port::ethernet(port_no, MacAddr([2, 0, 0, 0, 4, port_no.to_be_bytes()[3]]), name, ethernet)
    }

    #[test]
    fn a_1_4_or_1_5_switch_describes_its_ports_with_properties_in_parts() {
        for version in [OFP_VERSION_1_4, OFP_VERSION_1_5] {
            let mut handshake = Handshake::new(0xffff);
            let mut xids = counter();
            let actions = handshake.on_message(&hello(version, Some(&[1, 4, version]), 1), &mut xids);
            assert_eq!(actions[0], Action::Negotiated(version));
            let switch = v1_3::SwitchFeatures { datapath_id: 9, n_tables: 254, ..Default::default() };
            let reply = if version == OFP_VERSION_1_4 {
                encode(v1_4::Message::FeaturesReply(switch), 1)
            } else {
                encode(v1_5::Message::FeaturesReply(switch), 1)
            };
            let actions = handshake.on_message(&reply, &mut xids);
            let request = wire::port_desc_request(version, 3);
            assert_eq!(actions.last(), Some(&Action::Send(request.clone())), "version {version}");
            assert_eq!((request[0], request[1]), (version, 18), "a multipart request in the agreed version");

            let part = |ports: Vec<v1_4::Port>, more: bool| {
                let flags = u16::from(more);
                if version == OFP_VERSION_1_4 {
                    let body = v1_4::MultipartReplyBody::PortDesc(ports);
                    encode(v1_4::Message::MultipartReply(v1_4::MultipartReply { flags, body }), 3)
                } else {
                    let body = v1_5::MultipartReplyBody::PortDesc(ports);
                    encode(v1_5::Message::MultipartReply(v1_5::MultipartReply { flags, body }), 3)
                }
            };
            let first = handshake.on_message(&part(vec![port_1_4(1, "s1-eth1")], true), &mut xids);
            let [Action::Ports(ports)] = &first[..] else { panic!("{first:?}") };
            assert_eq!(
                (ports[0].curr, ports[0].supported, ports[0].curr_speed, ports[0].max_speed),
                (0x840, 0x2ff, Some(10_000_000), Some(0)),
                "the features come from the Ethernet property"
            );
            assert_eq!(ports[0].hw_addr, [2, 0, 0, 0, 4, 1]);
            let last = handshake.on_message(&part(vec![port_1_4(0xffff_fffe, "s1")], false), &mut xids);
            assert!(matches!(&last[..], [Action::Ports(p), Action::EnterMain] if p[0].name == "s1"), "{last:?}");
            assert!(handshake.is_done());
        }
    }

    #[test]
    fn port_status_of_every_version_gives_the_port() {
        let status_1_4 = v1_4::PortStatus { reason: 2, desc: port_1_4(3, "eth3") };
        let status_1_3 = v1_3::PortStatus { reason: 0, desc: port_1_3(3, "eth3") };
        for (message, reason) in [
            (encode(v1_4::Message::PortStatus(status_1_4.clone()), 0), 2),
            (encode(v1_5::Message::PortStatus(status_1_4), 0), 2),
            (encode(v1_2::Message::PortStatus(status_1_3.clone()), 0), 0),
            (encode(v1_3::Message::PortStatus(status_1_3), 0), 0),
        ] {
            let (got, port) = wire::port_status(&message).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((got, port.port_no, port.name.as_str()), (reason, 3, "eth3"));
            assert_eq!(port.curr_speed, Some(10_000_000));
        }
    }
}
