//! The few facts about OpenFlow messages the host itself needs, by version: message type numbers, which messages
//! answer a request, and building the messages of the handshake and keepalive with the codec.

use tatsu_ofproto::{
    v1_0, v1_2, v1_3, v1_4, v1_5, ErrorMsg, Message, OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_3,
    OFP_VERSION_1_4, OFP_VERSION_1_5,
};

use super::description::PortInfo;

/// The versions the host negotiates, lowest first.
pub const VERSIONS: [u8; 5] = [OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_3, OFP_VERSION_1_4, OFP_VERSION_1_5];

/// The message `$variant` (the same body in 1.2 to 1.5) in `$version`, one of the OXM versions (1.3 for any other).
macro_rules! in_oxm_version {
    ($version:expr, $($variant:tt)+) => {
        match $version {
            OFP_VERSION_1_2 => Message::V1_2(v1_2::Message::$($variant)+),
            OFP_VERSION_1_4 => Message::V1_4(v1_4::Message::$($variant)+),
            OFP_VERSION_1_5 => Message::V1_5(v1_5::Message::$($variant)+),
            _ => Message::V1_3(v1_3::Message::$($variant)+),
        }
    };
}

/// `OFPT_HELLO` (every version).
pub const HELLO: u8 = 0;
/// `OFPT_ERROR` (every version).
pub const ERROR: u8 = 1;
/// `OFPT_ECHO_REQUEST` (every version).
pub const ECHO_REQUEST: u8 = 2;
/// `OFPT_ECHO_REPLY` (every version).
pub const ECHO_REPLY: u8 = 3;
/// `OFPT_FEATURES_REPLY` (every version).
pub const FEATURES_REPLY: u8 = 6;
/// `OFPT_PACKET_IN` (every version).
pub const PACKET_IN: u8 = 10;
/// `OFPT_FLOW_REMOVED` (every version).
pub const FLOW_REMOVED: u8 = 11;
/// `OFPT_PORT_STATUS` (every version).
pub const PORT_STATUS: u8 = 12;

/// The highest message type defined in `version`.
pub fn max_type(version: u8) -> u8 {
    match version {
        OFP_VERSION_1_0 => 21,
        OFP_VERSION_1_2 => 25,
        OFP_VERSION_1_4 => 34,
        OFP_VERSION_1_5 => 35,
        _ => 29,
    }
}

/// The stats (1.0, 1.2) or multipart (1.3 to 1.5) reply type.
pub fn multipart_reply_type(version: u8) -> u8 {
    if version == OFP_VERSION_1_0 {
        17
    } else {
        19
    }
}

/// The transaction id of a message (0 if it is shorter than a header).
pub fn xid_of(message: &[u8]) -> u32 {
    message.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Where the xid of the message a bundle add carries sits in `message` (1.4 and 1.5's `OFPT_BUNDLE_ADD_MESSAGE`,
/// Open vSwitch's 1.3 `ONFT_BUNDLE_ADD_MESSAGE`), if it is one: the carried message must have its add's xid.
pub fn embedded_xid_offset(message: &[u8]) -> Option<usize> {
    use tatsu_ofproto::bundle::{ONF_ET_BUNDLE_ADD_MESSAGE, ONF_EXPERIMENTER_ID};
    let word = |at: usize| message.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let offset = match (message.first().copied()?, message.get(1).copied()?) {
        (OFP_VERSION_1_4 | OFP_VERSION_1_5, v1_4::msg_type::BUNDLE_ADD_MESSAGE) => 16 + 4,
        (OFP_VERSION_1_3, v1_3::msg_type::EXPERIMENTER)
            if word(8) == Some(ONF_EXPERIMENTER_ID) && word(12) == Some(ONF_ET_BUNDLE_ADD_MESSAGE) =>
        {
            24 + 4
        }
        _ => return None,
    };
    word(offset).map(|_| offset)
}

/// Whether a multipart/stats reply says more parts follow (`OFPMPF_REPLY_MORE` / `OFPSF_REPLY_MORE`).
pub fn reply_has_more(message: &[u8]) -> bool {
    message.get(10..12).is_some_and(|flags| u16::from_be_bytes([flags[0], flags[1]]) & 1 != 0)
}

/// `OFPT_ROLE_STATUS`, `OFPT_TABLE_STATUS` and `OFPT_REQUESTFORWARD` (1.4 and 1.5; no earlier version has these
/// type numbers).
const STATUS_1_4: [u8; 3] = [30, 31, 32];
/// `OFPT_CONTROLLER_STATUS` (1.5).
const CONTROLLER_STATUS: u8 = 35;

/// Whether a message the switch sent unprompted may carry an xid that matches one of ours by chance.
pub fn is_asynchronous(msg_type: u8) -> bool {
    matches!(msg_type, PACKET_IN | FLOW_REMOVED | PORT_STATUS | ECHO_REQUEST | HELLO | CONTROLLER_STATUS)
        || STATUS_1_4.contains(&msg_type)
}

/// Encodes one of the host's own messages. These are fixed and small (an error reply is the biggest: 12 bytes
/// and at most 64 of the offending message), so encoding cannot fail; a failure would be a bug here.
fn encode(message: Message, xid: u32) -> Vec<u8> {
    message.to_vec(xid).expect("the host's own handshake, keepalive and error messages are at most 76 bytes")
}

/// An error reply carrying (up to 64 bytes of) the offending message, in `version`.
pub fn error(version: u8, err_type: u16, code: u16, offending: &[u8], xid: u32) -> Vec<u8> {
    let data = offending.get(..offending.len().min(64)).unwrap_or_default();
    let error = ErrorMsg::new(err_type, code, data);
    if version == OFP_VERSION_1_0 {
        encode(v1_0::Message::Error(error).into(), xid)
    } else {
        encode(in_oxm_version!(version, Error(error)), xid)
    }
}

/// `OFPET_BAD_REQUEST`.
pub const BAD_REQUEST: u16 = 1;
/// `OFPBRC_BAD_VERSION`.
pub const BAD_VERSION: u16 = 0;
/// `OFPBRC_BAD_TYPE`.
pub const BAD_TYPE: u16 = 1;

/// The most bytes of reason text [`hello_failed`] carries.
pub const HELLO_FAILED_REASON_MAX: usize = 256;

/// `OFPT_HELLO_FAILED`/`OFPHFC_INCOMPATIBLE` with a reason, sent in the switch's own version (built by hand: that
/// version may be one the codec does not speak). The reason is cut to at most [`HELLO_FAILED_REASON_MAX`] bytes, at a character
/// boundary, so the message always fits its 16-bit length.
pub fn hello_failed(version: u8, reason: &str, xid: u32) -> Vec<u8> {
    let reason = &reason[..reason.floor_char_boundary(HELLO_FAILED_REASON_MAX)];
    let length = u16::try_from(12 + reason.len()).expect("12 + at most 256 bytes fit in 16 bits");
    let mut out = Vec::with_capacity(usize::from(length));
    out.extend_from_slice(&[version, ERROR]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&xid.to_be_bytes());
    out.extend_from_slice(&ErrorMsg::hello_incompatible(reason).err_type.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
    out
}

/// An echo reply with the request's xid and data.
pub fn echo_reply(request: &[u8]) -> Vec<u8> {
    let mut reply = request.to_vec();
    if let Some(msg_type) = reply.get_mut(1) {
        *msg_type = ECHO_REPLY;
    }
    reply
}

/// An echo request.
pub fn echo_request(version: u8, xid: u32) -> Vec<u8> {
    let mut out = vec![version, ECHO_REQUEST, 0, 8];
    out.extend_from_slice(&xid.to_be_bytes());
    out
}

/// A FEATURES_REQUEST.
pub fn features_request(version: u8, xid: u32) -> Vec<u8> {
    if version == OFP_VERSION_1_0 {
        encode(v1_0::Message::FeaturesRequest.into(), xid)
    } else {
        encode(in_oxm_version!(version, FeaturesRequest), xid)
    }
}

/// A SET_CONFIG with normal fragment handling and `miss_send_len`.
pub fn set_config(version: u8, miss_send_len: u16, xid: u32) -> Vec<u8> {
    if version == OFP_VERSION_1_0 {
        encode(v1_0::Message::SetConfig(v1_0::SwitchConfig { flags: 0, miss_send_len }).into(), xid)
    } else {
        encode(in_oxm_version!(version, SetConfig(v1_3::SwitchConfig { flags: 0, miss_send_len })), xid)
    }
}

/// A PORT_DESC multipart request in `version` (1.3, 1.4 or 1.5; 1.0 and 1.2 give the ports in FEATURES_REPLY).
pub fn port_desc_request(version: u8, xid: u32) -> Vec<u8> {
    let request = match version {
        OFP_VERSION_1_4 => v1_4::Message::MultipartRequest(v1_4::MultipartRequest::port_desc()).into(),
        OFP_VERSION_1_5 => v1_5::Message::MultipartRequest(v1_5::MultipartRequest::port_desc()).into(),
        _ => v1_3::Message::MultipartRequest(v1_3::MultipartRequest::port_desc()).into(),
    };
    encode(request, xid)
}

/// What the host keeps of a switch's FEATURES_REPLY.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Datapath id.
    pub datapath_id: u64,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// `OFPC_*` bits.
    pub capabilities: u32,
}

/// Decodes a FEATURES_REPLY: the features and, for 1.0 and 1.2, the ports.
pub fn features(message: &[u8]) -> Result<(Features, Option<Vec<PortInfo>>), String> {
    match tatsu_ofproto::decode(message).map_err(|e| e.to_string())? {
        (_, Message::V1_0(v1_0::Message::FeaturesReply(f))) => Ok((
            Features {
                datapath_id: f.datapath_id,
                n_buffers: f.n_buffers,
                n_tables: f.n_tables,
                capabilities: f.capabilities,
            },
            Some(f.ports.iter().map(PortInfo::from).collect()),
        )),
        (_, Message::V1_2(v1_2::Message::FeaturesReply(f))) => Ok((
            Features {
                datapath_id: f.datapath_id,
                n_buffers: f.n_buffers,
                n_tables: f.n_tables,
                capabilities: f.capabilities,
            },
            Some(f.ports.iter().map(PortInfo::from).collect()),
        )),
        (_, Message::V1_3(v1_3::Message::FeaturesReply(f)))
        | (_, Message::V1_4(v1_4::Message::FeaturesReply(f)))
        | (_, Message::V1_5(v1_5::Message::FeaturesReply(f))) => Ok((
            Features {
                datapath_id: f.datapath_id,
                n_buffers: f.n_buffers,
                n_tables: f.n_tables,
                capabilities: f.capabilities,
            },
            None,
        )),
        (header, _) => Err(format!("expected FEATURES_REPLY, got message type {}", header.msg_type)),
    }
}

/// Decodes the ports of a PORT_DESC reply part (1.3, 1.4 or 1.5).
pub fn port_desc(message: &[u8]) -> Result<Vec<PortInfo>, String> {
    match tatsu_ofproto::decode(message).map_err(|e| e.to_string())? {
        (
            _,
            Message::V1_3(v1_3::Message::MultipartReply(v1_3::MultipartReply {
                body: v1_3::multipart::MultipartReplyBody::PortDesc(ports),
                ..
            })),
        ) => Ok(ports.iter().map(PortInfo::from).collect()),
        (
            _,
            Message::V1_4(v1_4::Message::MultipartReply(v1_4::MultipartReply {
                body: v1_4::MultipartReplyBody::PortDesc(ports),
                ..
            })),
        )
        | (
            _,
            Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply {
                body: v1_5::MultipartReplyBody::PortDesc(ports),
                ..
            })),
        ) => Ok(ports.iter().map(PortInfo::from).collect()),
        (header, _) => Err(format!("expected a PORT_DESC reply, got message type {}", header.msg_type)),
    }
}

/// Decodes a PORT_STATUS: the reason (`OFPPR_ADD`, `_DELETE`, `_MODIFY`) and the port.
pub fn port_status(message: &[u8]) -> Result<(u8, PortInfo), String> {
    match tatsu_ofproto::decode(message).map_err(|e| e.to_string())? {
        (_, Message::V1_0(v1_0::Message::PortStatus(s))) => Ok((s.reason, PortInfo::from(&s.desc))),
        (_, Message::V1_2(v1_2::Message::PortStatus(s))) | (_, Message::V1_3(v1_3::Message::PortStatus(s))) => {
            Ok((s.reason, PortInfo::from(&s.desc)))
        }
        (_, Message::V1_4(v1_4::Message::PortStatus(s))) | (_, Message::V1_5(v1_5::Message::PortStatus(s))) => {
            Ok((s.reason, PortInfo::from(&s.desc)))
        }
        (header, _) => Err(format!("expected PORT_STATUS, got message type {}", header.msg_type)),
    }
}

/// Checks that `message` (what an app sends) is one whole OpenFlow message: a header, and exactly as many bytes as
/// the header says (the switch frames the stream by those lengths, so one wrong length garbles all that follows).
pub fn whole_message(message: &[u8]) -> Result<(), String> {
    let Some(header) = message.get(..8) else {
        return Err(format!("an OpenFlow message is at least 8 bytes, not {}", message.len()));
    };
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if length != message.len() {
        return Err(format!("an OpenFlow message of {} bytes whose header says {length}", message.len()));
    }
    Ok(())
}

/// Up to `max` bytes of `bytes` as hex, for logs.
pub fn hex_excerpt(bytes: &[u8], max: usize) -> String {
    let mut text: String = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_s_message_must_be_one_whole_message() {
        assert_eq!(whole_message(&echo_request(OFP_VERSION_1_3, 1)), Ok(()));
        assert!(whole_message(&[4, 2, 0, 8]).is_err_and(|e| e.contains("at least 8 bytes, not 4")));
        let mut two = echo_request(OFP_VERSION_1_3, 1);
        two.extend(echo_request(OFP_VERSION_1_3, 2));
        assert!(whole_message(&two).is_err_and(|e| e.contains("of 16 bytes whose header says 8")));
        assert!(whole_message(&two[..12]).is_err_and(|e| e.contains("of 12 bytes whose header says 8")));
    }

    #[test]
    fn every_version_s_asynchronous_messages_are_never_replies() {
        for msg_type in [PACKET_IN, FLOW_REMOVED, PORT_STATUS, 30, 31, 32, 35] {
            assert!(is_asynchronous(msg_type), "type {msg_type}");
        }
        assert!(!is_asynchronous(19) && !is_asynchronous(21) && !is_asynchronous(33), "replies");
        assert_eq!([21, 25, 29, 34, 35], VERSIONS.map(max_type));
    }

    #[test]
    fn the_xid_a_bundle_add_carries_is_found_in_each_version() {
        let mut out = Vec::new();
        let add =
            tatsu_ofproto::portable::BundleAdd { bundle_id: 1, flags: 0, message: tatsu_ofproto::portable::Barrier };
        for (version, offset) in [(OFP_VERSION_1_3, 28), (OFP_VERSION_1_4, 20), (OFP_VERSION_1_5, 20)] {
            out.clear();
            tatsu_ofproto::portable::Encode::encode_for(&add, version, 0x0a0b_0c0d, &mut out).expect("encodes");
            assert_eq!(embedded_xid_offset(&out), Some(offset), "version {version}");
            assert_eq!(out[offset..offset + 4], 0x0a0b_0c0du32.to_be_bytes());
            assert_eq!(embedded_xid_offset(&out[..offset + 2]), None, "cut short");
        }
        assert_eq!(embedded_xid_offset(&echo_request(OFP_VERSION_1_4, 3)), None);
        assert_eq!(embedded_xid_offset(&[OFP_VERSION_1_3, 4, 0, 8, 0, 0, 0, 1]), None, "an experimenter of nobody");
    }

    #[test]
    fn hello_failed_carries_a_bounded_reason_and_says_its_length() {
        let short = hello_failed(5, "no common version", 9);
        assert_eq!(&short[..12], &[5, ERROR, 0, 29, 0, 0, 0, 9, 0, 0, 0, 0]);
        assert_eq!(&short[12..], b"no common version");

        // A reason far past the bound (what a 16-bit length could not hold) is cut to 256 bytes.
        let long = "v".repeat(70_000);
        let message = hello_failed(1, &long, 1);
        assert_eq!(message.len(), 12 + HELLO_FAILED_REASON_MAX);
        assert_eq!(usize::from(u16::from_be_bytes([message[2], message[3]])), message.len());
        let (_, decoded) = tatsu_ofproto::decode(&message).expect("a 1.0 error decodes");
        let Message::V1_0(v1_0::Message::Error(error)) = decoded else { panic!("an error message") };
        assert_eq!((error.err_type, error.code, error.data.len()), (0, 0, HELLO_FAILED_REASON_MAX));

        // Cut at a character boundary: 255 ASCII bytes, then a 2-byte character that would straddle byte 256.
        let mixed = format!("{}é and more", "a".repeat(255));
        let message = hello_failed(4, &mixed, 1);
        assert_eq!(message.len(), 12 + 255);
        assert_eq!(usize::from(u16::from_be_bytes([message[2], message[3]])), message.len());
        assert!(std::str::from_utf8(&message[12..]).is_ok());
    }
}
