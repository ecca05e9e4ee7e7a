//! Switches as apps see them: OpenFlow messages from datapaths, datapath lifecycle events, and [`Datapath`]
//! handles to send messages and requests.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use abi_stable::std_types::{RResult, RSlice};
use serde::Deserialize;
use tatsu_ofproto::{v1_0, v1_3, DecodeError, EncodeError, Message, OFP_VERSION_1_0, OFP_VERSION_1_3};

use crate::abi::RequestFailure;
use crate::green;
use crate::runtime;

pub use crate::abi::DatapathStates;

/// An OpenFlow message a switch sent, borrowed for the handler call.
#[derive(Debug, Clone, Copy)]
pub struct OfMessage<'a> {
    pub(crate) dpid: u64,
    pub(crate) state: DatapathStates,
    pub(crate) bytes: &'a [u8],
}

impl<'a> OfMessage<'a> {
    /// The datapath that sent it (0 before the switch told its id, in HANDSHAKE).
    pub fn dpid(&self) -> u64 {
        self.dpid
    }

    /// The datapath's state when the message arrived.
    pub fn state(&self) -> DatapathStates {
        self.state
    }

    /// The wire version (`tatsu_ofproto::OFP_VERSION_1_0` or `_1_3`).
    pub fn version(&self) -> u8 {
        self.bytes[0]
    }

    /// The message type.
    pub fn msg_type(&self) -> u8 {
        self.bytes[1]
    }

    /// The transaction id.
    pub fn xid(&self) -> u32 {
        u32::from_be_bytes([self.bytes[4], self.bytes[5], self.bytes[6], self.bytes[7]])
    }

    /// The message's wire bytes, header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Decodes the whole message.
    pub fn decode(&self) -> Result<Message, DecodeError> {
        tatsu_ofproto::decode(self.bytes).map(|(_, message)| message)
    }

    /// A handle on the datapath, to answer it.
    pub fn datapath(&self) -> Datapath {
        Datapath { dpid: self.dpid, version: self.version() }
    }

    /// A cheap view of a packet-in (no allocation), if this is a well-formed one.
    pub fn packet_in(&self) -> Result<PacketIn<'a>, DecodeError> {
        match self.version() {
            OFP_VERSION_1_0 => {
                let view = v1_0::PacketInView::new(self.bytes)?;
                Ok(PacketIn {
                    in_port: u32::from(view.in_port()),
                    buffer_id: view.buffer_id(),
                    total_len: view.total_len(),
                    reason: view.reason(),
                    table_id: 0,
                    cookie: 0,
                    data: view.data(),
                })
            }
            _ => {
                let view = v1_3::PacketInView::new(self.bytes)?;
                Ok(PacketIn {
                    in_port: view.in_port().unwrap_or(0),
                    buffer_id: view.buffer_id(),
                    total_len: view.total_len(),
                    reason: view.reason(),
                    table_id: view.table_id(),
                    cookie: view.cookie(),
                    data: view.data(),
                })
            }
        }
    }
}

/// A packet-in, the same for OpenFlow 1.0 and 1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketIn<'a> {
    /// The port the packet came in on.
    pub in_port: u32,
    /// The switch's buffer holding the packet, or `NO_BUFFER` (0xffffffff).
    pub buffer_id: u32,
    /// The frame's full length.
    pub total_len: u16,
    /// Why it was sent (`OFPR_*`).
    pub reason: u8,
    /// The table that sent it (1.3; 0 for 1.0).
    pub table_id: u8,
    /// The cookie of the flow that sent it (1.3; 0 for 1.0).
    pub cookie: u64,
    /// The frame (possibly cut to `miss_send_len`).
    pub data: &'a [u8],
}

/// `OFP_NO_BUFFER`: the packet is not buffered in the switch.
pub const NO_BUFFER: u32 = 0xffff_ffff;

/// A switch port as the host knows it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PortInfo {
    /// Port number.
    pub port_no: u32,
    /// MAC address, `aa:bb:cc:dd:ee:ff`.
    pub hw_addr: String,
    /// Name.
    pub name: String,
    /// `OFPPC_*` bits.
    pub config: u32,
    /// `OFPPS_*` bits.
    pub state: u32,
    /// Current features.
    #[serde(default)]
    pub curr: u32,
    /// Current speed in kb/s (1.3).
    #[serde(default)]
    pub curr_speed: u32,
}

/// A datapath as the host describes it in datapath events and [`crate::Context::datapaths`].
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct DatapathInfo {
    /// Datapath id.
    pub dpid: u64,
    /// The switch's address.
    pub address: String,
    /// The host's connection number (changes when the switch reconnects).
    pub connection: u64,
    /// Negotiated wire version (0 before negotiation).
    pub version: u8,
    /// `handshake`, `config`, `main` or `dead`.
    pub state: String,
    /// Buffers the switch has.
    #[serde(default)]
    pub n_buffers: u32,
    /// Flow tables.
    #[serde(default)]
    pub n_tables: u8,
    /// `OFPC_*` capabilities.
    #[serde(default)]
    pub capabilities: u32,
    /// Ports.
    #[serde(default)]
    pub ports: Vec<PortInfo>,
    /// Why the datapath left or died, if it did.
    #[serde(default)]
    pub reason: Option<String>,
    /// In an `enter` event: the datapath was inherited from the previous host in a hot restart (its connection,
    /// flows and state carried on), rather than newly connected.
    #[serde(default)]
    pub resumed: bool,
}

impl DatapathInfo {
    /// A handle to send to this datapath.
    pub fn datapath(&self) -> Datapath {
        Datapath { dpid: self.dpid, version: self.version }
    }
}

/// Why a message could not be sent or a request not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfError {
    kind: OfErrorKind,
    message: String,
}

/// The kinds of [`OfError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfErrorKind {
    /// The datapath is not connected.
    UnknownDatapath,
    /// Its send queue is full (the switch is not reading).
    SendQueueFull,
    /// It disconnected before answering.
    Disconnected,
    /// No answer in time.
    TimedOut,
    /// The reply could not be decoded.
    Decode,
    /// The message could not be encoded: it (or a part of it) is longer than its OpenFlow length field holds,
    /// such as a message over 65,535 bytes. Nothing was sent.
    Encode,
    /// Anything else.
    Other,
}

impl OfError {
    /// The kind of failure.
    pub fn kind(&self) -> OfErrorKind {
        self.kind
    }
}

impl fmt::Display for OfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OfError {}

fn encode_error(e: &EncodeError) -> OfError {
    OfError { kind: OfErrorKind::Encode, message: e.to_string() }
}

fn of_error(failure: RequestFailure, detail: String) -> OfError {
    let kind = match failure {
        RequestFailure::UnknownDatapath => OfErrorKind::UnknownDatapath,
        RequestFailure::SendQueueFull => OfErrorKind::SendQueueFull,
        RequestFailure::Disconnected => OfErrorKind::Disconnected,
        RequestFailure::TimedOut => OfErrorKind::TimedOut,
        RequestFailure::Stopping => green::exit_thread(),
        RequestFailure::Interrupted => green::interrupt_unwind(),
        _ => OfErrorKind::Other,
    };
    OfError { kind, message: detail }
}

thread_local! {
    /// Encoding scratch space; used only between encoding and the host call, with no yield in between.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A handle on one connected datapath: send it messages, ask it questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datapath {
    dpid: u64,
    version: u8,
}

impl Datapath {
    /// A handle on `dpid`, which speaks `version`.
    pub fn new(dpid: u64, version: u8) -> Self {
        Datapath { dpid, version }
    }

    /// The datapath id.
    pub fn dpid(&self) -> u64 {
        self.dpid
    }

    /// The negotiated wire version: build messages of this version.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Whether it speaks OpenFlow 1.3.
    pub fn is_v1_3(&self) -> bool {
        self.version == OFP_VERSION_1_3
    }

    /// Sends a message (the host assigns its xid). Never blocks: a full send queue is an error, and so is a
    /// message that cannot be encoded ([`OfErrorKind::Encode`], nothing sent).
    // Never inlined: it uses a thread-local, and a caller's green thread may have moved threads since it last parked.
    #[inline(never)]
    pub fn send(&self, message: impl Into<Message>) -> Result<(), OfError> {
        let message = message.into();
        SCRATCH.with(|scratch| {
            let mut buffer = scratch.borrow_mut();
            buffer.clear();
            message.encode(0, &mut buffer).map_err(|e| encode_error(&e))?;
            self.send_bytes(&buffer)
        })
    }

    /// Sends an already encoded message (an xid of 0 is replaced by a fresh one).
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), OfError> {
        let (host, app) = runtime::host();
        match host.of_send()(app, self.dpid, RSlice::from_slice(bytes)) {
            RResult::ROk(()) => Ok(()),
            RResult::RErr(e) => Err(of_error(e.failure, e.detail.into_string())),
        }
    }

    /// Sends a request and waits (parking this green thread) for its reply: every part of a multipart reply, or
    /// the switch's error message, decoded. A message that cannot be encoded is [`OfErrorKind::Encode`].
    pub fn request(&self, message: impl Into<Message>, timeout: Duration) -> Result<Vec<Message>, OfError> {
        let bytes = message.into().to_vec(0).map_err(|e| encode_error(&e))?;
        let (host, app) = runtime::host();
        let reply = match host.of_request()(app, self.dpid, RSlice::from_slice(&bytes), green::duration_ns(timeout)) {
            RResult::ROk(reply) => reply,
            RResult::RErr(e) => return Err(of_error(e.failure, e.detail.into_string())),
        };
        let mut messages = Vec::new();
        let mut rest: &[u8] = &reply;
        while let Ok(Some((one, tail))) = tatsu_ofproto::split_frame(rest) {
            let (_, message) = tatsu_ofproto::decode(one)
                .map_err(|e| OfError { kind: OfErrorKind::Decode, message: e.to_string() })?;
            messages.push(message);
            rest = tail;
        }
        Ok(messages)
    }
}
