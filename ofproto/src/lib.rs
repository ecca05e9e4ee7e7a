//! OpenFlow 1.0, 1.2, 1.3, 1.4 and 1.5 wire codec for tatsu.
//!
//! Modelled on smoltcp's `wire` module: plain structs ("reprs") with
//! `parse`/`emit`, where emitting computes every length and padding field,
//! plus zero-copy views for hot paths ([`v1_3::PacketInView`],
//! [`v1_0::PacketInView`], [`header::HeaderView`]).
//!
//! * [`decode`] decodes any supported message into [`Message`].
//! * [`Message::encode`] writes it back (byte-exact for everything decoded). Encoding never clamps a length:
//!   a message longer than [`MAX_MESSAGE_LEN`] bytes, or an item longer than its length field holds, is an
//!   [`EncodeError`] and nothing is written.
//! * [`header::frame_len`] / [`header::split_frame`] split a TCP stream into messages.
//! * [`common::Hello`] and [`common::negotiate`] implement version negotiation.
//! * [`capture::sessions`] reads the OpenFlow messages of a pcap capture, both directions, with their times.
//! * With the `json` cargo feature (off by default; it brings in `serde_json`), `to_json` renders a message in
//!   the JSON form used by Ryu's test corpus and `from_json` reads it back (see the `json` module).
//!
//! # Code map
//!
//! Each message sits in one file with everything about it: the struct, its `parse`, its `emit` and, in a
//! `#[cfg(feature = "json")] mod json` at the end of the file, its JSON both ways.
//!
//! | file | holds |
//! |------|-------|
//! | `lib.rs` | [`Message`] of any version, [`decode`], hello helpers |
//! | `header.rs` | the 8-byte header, framing, `encode_message` (length checks) |
//! | `wire.rs` | the byte [`wire::Reader`] and the [`wire::Put`] writer, shared by every version |
//! | `common.rs` | bodies the same in every version: hello, error; negotiation |
//! | `types.rs` | [`FixedStr`]; [`MacAddr`] is `tatsu_packet::MacAddr`, re-exported |
//! | `nx.rs` | Nicira extension actions (1.0 and the OXM versions) |
//! | `error.rs` | [`DecodeError`], [`EncodeError`] |
//! | `json.rs` | (`json` feature) `to_json`/`from_json`, the helpers the per-file JSON shares |
//! | `props.rs` | the TLV property lists of 1.4 and 1.5 ([`props::Prop`]) |
//! | `bundle.rs` | bundle control and add messages (1.4, 1.5 and Open vSwitch's 1.3 extension), embedded messages |
//! | `v1_0/mod.rs` ... `v1_5/mod.rs` | each version's `Message` enum and the dispatch by type (codec and JSON) |
//! | `v1_0/*.rs`, `v1_3/*.rs` | the messages, a small group of related ones per file (see [`v1_0`], [`v1_3`]) |
//! | `v1_2/*.rs`, `v1_4/*.rs`, `v1_5/*.rs` | what 1.2, 1.4 and 1.5 change; the rest is 1.3's ([`v1_2`], [`v1_4`], [`v1_5`]) |
//!
//! Decoding never panics on malformed input; errors ([`DecodeError`]) name
//! the message type, the byte offset and what was wrong.
//!
//! ```
//! use tatsu_ofproto::v1_3::{self, Action, FlowMod, Match};
//! use tatsu_ofproto::MacAddr;
//! let mac: MacAddr = "00:11:22:33:44:55".parse().unwrap();
//! let fm = FlowMod::add(Match::new().in_port(1).eth_dst(mac))
//!     .priority(1)
//!     .idle_timeout(30)
//!     .apply_actions([Action::output(2)]);
//! let mut buf = Vec::new();
//! fm.encode(7, &mut buf).unwrap();
//! let (hdr, msg) = tatsu_ofproto::decode(&buf).unwrap();
//! assert_eq!(hdr.xid, 7);
//! assert!(matches!(msg, tatsu_ofproto::Message::V1_3(v1_3::Message::FlowMod(_))));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod capture;
pub mod common;
pub mod error;
pub mod header;
#[cfg(feature = "json")]
pub mod json;
pub mod nx;
pub mod portable;
pub mod props;
pub mod types;
pub mod v1_0;
pub mod v1_2;
pub mod v1_3;
pub mod v1_4;
pub mod v1_5;
pub mod wire;

pub use common::{negotiate, ErrorMsg, Hello, HelloElement};
pub use error::{DecodeError, EncodeError};
pub use header::{frame_len, split_frame, Header, HeaderView, HEADER_LEN, MAX_MESSAGE_LEN};
#[cfg(feature = "json")]
pub use json::{from_json, to_json, JsonError};
pub use tatsu_packet::MacAddr;
pub use types::FixedStr;

/// Wire version byte of OpenFlow 1.0.
pub const OFP_VERSION_1_0: u8 = 0x01;
/// Wire version byte of OpenFlow 1.2.
pub const OFP_VERSION_1_2: u8 = 0x03;
/// Wire version byte of OpenFlow 1.3.
pub const OFP_VERSION_1_3: u8 = 0x04;
/// Wire version byte of OpenFlow 1.4.
pub const OFP_VERSION_1_4: u8 = 0x05;
/// Wire version byte of OpenFlow 1.5.
pub const OFP_VERSION_1_5: u8 = 0x06;
/// "1.0", "1.3", ... for a wire version byte ("0x07" for one OpenFlow never had).
pub fn version_name(version: u8) -> String {
    match version {
        1..=6 => format!("1.{}", version - 1),
        other => format!("{other:#04x}"),
    }
}

/// Versions this crate decodes.
pub const SUPPORTED_VERSIONS: &[u8] =
    &[OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_3, OFP_VERSION_1_4, OFP_VERSION_1_5];

/// A decoded message of any supported version.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// OpenFlow 1.0.
    V1_0(v1_0::Message),
    /// OpenFlow 1.2.
    V1_2(v1_2::Message),
    /// OpenFlow 1.3.
    V1_3(v1_3::Message),
    /// OpenFlow 1.4.
    V1_4(v1_4::Message),
    /// OpenFlow 1.5.
    V1_5(v1_5::Message),
}

impl Message {
    /// Wire version byte.
    pub fn version(&self) -> u8 {
        match self {
            Message::V1_0(_) => OFP_VERSION_1_0,
            Message::V1_2(_) => OFP_VERSION_1_2,
            Message::V1_3(_) => OFP_VERSION_1_3,
            Message::V1_4(_) => OFP_VERSION_1_4,
            Message::V1_5(_) => OFP_VERSION_1_5,
        }
    }
    /// Message type byte.
    pub fn msg_type(&self) -> u8 {
        match self {
            Message::V1_0(m) => m.msg_type(),
            Message::V1_2(m) => m.msg_type(),
            Message::V1_3(m) => m.msg_type(),
            Message::V1_4(m) => m.msg_type(),
            Message::V1_5(m) => m.msg_type(),
        }
    }
    /// `OFPT_*` name of the message type (`ONFT_*` for Open vSwitch's 1.3 bundle messages).
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::V1_0(m) => v1_0::type_name(m.msg_type()),
            Message::V1_2(m) => v1_2::type_name(m.msg_type()),
            Message::V1_3(m) => m.name(),
            Message::V1_4(m) => v1_4::type_name(m.msg_type()),
            Message::V1_5(m) => v1_5::type_name(m.msg_type()),
        }
    }
    /// Appends the encoded message (header included) with transaction id `xid`; on error nothing is appended.
    pub fn encode(&self, xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Message::V1_0(m) => m.encode(xid, out),
            Message::V1_2(m) => m.encode(xid, out),
            Message::V1_3(m) => m.encode(xid, out),
            Message::V1_4(m) => m.encode(xid, out),
            Message::V1_5(m) => m.encode(xid, out),
        }
    }
    /// Encodes into a new vector.
    pub fn to_vec(&self, xid: u32) -> Result<Vec<u8>, EncodeError> {
        let mut v = Vec::new();
        self.encode(xid, &mut v)?;
        Ok(v)
    }
}

impl From<v1_3::Message> for Message {
    fn from(m: v1_3::Message) -> Self {
        Message::V1_3(m)
    }
}

impl From<v1_2::Message> for Message {
    fn from(m: v1_2::Message) -> Self {
        Message::V1_2(m)
    }
}

impl From<v1_4::Message> for Message {
    fn from(m: v1_4::Message) -> Self {
        Message::V1_4(m)
    }
}

impl From<v1_5::Message> for Message {
    fn from(m: v1_5::Message) -> Self {
        Message::V1_5(m)
    }
}

impl From<v1_0::Message> for Message {
    fn from(m: v1_0::Message) -> Self {
        Message::V1_0(m)
    }
}

/// Decodes one complete message (the first `length` bytes of `buf`) of any supported version.
pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
    let h = Header::parse(buf)?;
    match h.version {
        OFP_VERSION_1_0 => v1_0::Message::decode(buf).map(|(h, m)| (h, Message::V1_0(m))),
        OFP_VERSION_1_2 => v1_2::Message::decode(buf).map(|(h, m)| (h, Message::V1_2(m))),
        OFP_VERSION_1_3 => v1_3::Message::decode(buf).map(|(h, m)| (h, Message::V1_3(m))),
        OFP_VERSION_1_4 => v1_4::Message::decode(buf).map(|(h, m)| (h, Message::V1_4(m))),
        OFP_VERSION_1_5 => v1_5::Message::decode(buf).map(|(h, m)| (h, Message::V1_5(m))),
        v => Err(DecodeError::new("OFP_HEADER", 0, format!("unsupported OpenFlow version 0x{:02x}", v))),
    }
}

/// Decodes a HELLO of any version (for negotiation with peers that speak
/// versions this crate does not decode). Returns the header and the hello.
pub fn decode_hello(buf: &[u8]) -> Result<(Header, Hello), DecodeError> {
    let h = Header::parse(buf)?;
    if h.msg_type != 0 {
        return Err(DecodeError::new("OFPT_HELLO", 1, format!("message type {} is not HELLO", h.msg_type)));
    }
    let body = buf.get(HEADER_LEN..h.length as usize).ok_or_else(|| {
        DecodeError::new(
            "OFPT_HELLO",
            buf.len(),
            format!("truncated: header length is {} but only {} bytes present", h.length, buf.len()),
        )
    })?;
    let mut r = wire::Reader::new(body, HEADER_LEN, "OFPT_HELLO");
    Ok((h, Hello::parse(&mut r)?))
}

/// Encodes a HELLO for `version` announcing `versions` in a bitmap element (at most 48 bytes, but the codec
/// checks every length all the same); on error nothing is appended.
pub fn encode_hello(version: u8, versions: &[u8], xid: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    header::encode_message(out, (version, 0, xid), "OFPT_HELLO", |out| Hello::with_versions(versions).emit(out))
}
