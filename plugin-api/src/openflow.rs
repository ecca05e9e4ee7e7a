//! Switches as apps see them: [`Datapath`] handles to send messages and requests, the datapaths' descriptions,
//! and the OpenFlow messages they send, typed ([`SwitchMessage`]) or raw ([`OfMessage`]).

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use abi_stable::std_types::{RResult, RSlice};
use tatsu_ofproto::portable::{Encode, PacketIn, Port, PortStatus};
use tatsu_ofproto::{v1_0, v1_2, v1_3, v1_4, v1_5, DecodeError, EncodeError, ErrorMsg, MacAddr, Message};

use crate::abi::{DatapathDesc, PortDesc, RequestFailure};
use crate::context::Context;
use crate::green;

pub use crate::abi::DatapathStates;

/// An OpenFlow message a switch sent, borrowed for the handler call.
#[derive(Debug, Clone, Copy)]
pub struct OfMessage<'a> {
    pub(crate) datapath: Datapath,
    pub(crate) state: DatapathStates,
    pub(crate) bytes: &'a [u8],
}

impl<'a> OfMessage<'a> {
    /// The datapath that sent it (its id is 0 before the switch told it, in HANDSHAKE).
    pub fn datapath(&self) -> &Datapath {
        &self.datapath
    }

    /// The datapath's state when the message arrived.
    pub fn state(&self) -> DatapathStates {
        self.state
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
}

/// An OpenFlow message type an app can handle by type ([`crate::Handlers::on_message`]): which wire versions and
/// type codes carry it, and how to read it.
pub trait SwitchMessage {
    /// What the message is called in reports (`packet-in`, `port status`, ...).
    const NAME: &'static str;
    /// What the handler receives.
    type View<'a>;
    /// The `(wire version, message type)` pairs that carry it.
    const CODES: &'static [(u8, u8)];
    /// Reads the message.
    fn view<'a>(message: &OfMessage<'a>) -> Result<Self::View<'a>, DecodeError>;
}

/// A decoded message with the transaction id it came under (errors name the xid of the request they answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming<T> {
    /// The transaction id.
    pub xid: u32,
    /// The message.
    pub message: T,
}

/// Packet-ins of every version, read in place.
impl SwitchMessage for PacketIn<'_> {
    const NAME: &'static str = "packet-in";
    type View<'a> = PacketIn<'a>;
    const CODES: &'static [(u8, u8)] = &[(1, 10), (3, 10), (4, 10), (5, 10), (6, 10)];
    #[inline]
    fn view<'a>(message: &OfMessage<'a>) -> Result<PacketIn<'a>, DecodeError> {
        PacketIn::parse(message.bytes)
    }
}

/// Port status messages of every version.
impl SwitchMessage for PortStatus {
    const NAME: &'static str = "port status";
    type View<'a> = PortStatus;
    const CODES: &'static [(u8, u8)] = &[(1, 12), (3, 12), (4, 12), (5, 12), (6, 12)];
    fn view<'a>(message: &OfMessage<'a>) -> Result<PortStatus, DecodeError> {
        PortStatus::parse(message.bytes)
    }
}

/// Error messages of every version.
impl SwitchMessage for ErrorMsg {
    const NAME: &'static str = "error";
    type View<'a> = Incoming<ErrorMsg>;
    const CODES: &'static [(u8, u8)] = &[(1, 1), (3, 1), (4, 1), (5, 1), (6, 1)];
    fn view<'a>(message: &OfMessage<'a>) -> Result<Incoming<ErrorMsg>, DecodeError> {
        match message.decode()? {
            Message::V1_0(v1_0::Message::Error(e))
            | Message::V1_2(v1_2::Message::Error(e))
            | Message::V1_3(v1_3::Message::Error(e))
            | Message::V1_4(v1_4::Message::Error(e))
            | Message::V1_5(v1_5::Message::Error(e)) => Ok(Incoming { xid: message.xid(), message: e }),
            _ => Err(DecodeError::new("OFPT_ERROR", 1, "not an error message")),
        }
    }
}

/// Version-specific messages, decoded whole: `module::Type = code in V(module) = version, ...` implements
/// [`SwitchMessage`] for the struct `module::Type`, carried as variant `Type` of message type `code` in each listed
/// version whose `Message` holds that struct (1.4 keeps 1.3's flow-removed and packet-in, for example).
macro_rules! switch_messages {
    ($($module:ident :: $variant:ident = $code:literal in $($version_variant:ident($version_module:ident) = $version:literal),+;)*) => {$(
        impl SwitchMessage for $module::$variant {
            const NAME: &'static str = concat!(stringify!($module), " ", stringify!($variant));
            type View<'a> = Incoming<$module::$variant>;
            const CODES: &'static [(u8, u8)] = &[$(($version, $code)),+];
            fn view<'a>(message: &OfMessage<'a>) -> Result<Self::View<'a>, DecodeError> {
                match message.decode()? {
                    $(Message::$version_variant($version_module::Message::$variant(m)))|+ => {
                        Ok(Incoming { xid: message.xid(), message: m })
                    }
                    _ => Err(DecodeError::new(stringify!($variant), 1, "not the expected message type")),
                }
            }
        }
    )*};
}

switch_messages! {
    v1_0::FlowRemoved = 11 in V1_0(v1_0) = 1;
    v1_3::FlowRemoved = 11 in V1_2(v1_2) = 3, V1_3(v1_3) = 4, V1_4(v1_4) = 5;
    v1_5::FlowRemoved = 11 in V1_5(v1_5) = 6;
    v1_0::PortStatus = 12 in V1_0(v1_0) = 1;
    v1_3::PortStatus = 12 in V1_2(v1_2) = 3, V1_3(v1_3) = 4;
    v1_4::PortStatus = 12 in V1_4(v1_4) = 5, V1_5(v1_5) = 6;
    v1_0::PacketIn = 10 in V1_0(v1_0) = 1;
    v1_2::PacketIn = 10 in V1_2(v1_2) = 3;
    v1_3::PacketIn = 10 in V1_3(v1_3) = 4, V1_4(v1_4) = 5, V1_5(v1_5) = 6;
    v1_4::RoleStatus = 30 in V1_4(v1_4) = 5, V1_5(v1_5) = 6;
    v1_4::TableStatus = 31 in V1_4(v1_4) = 5, V1_5(v1_5) = 6;
    v1_5::ControllerStatus = 35 in V1_5(v1_5) = 6;
}

/// A datapath as the host describes it: in datapath events and [`Context::datapaths`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatapathInfo {
    datapath: Datapath,
    /// Datapath id.
    pub dpid: u64,
    /// The switch's address.
    pub address: String,
    /// The host's connection number (changes when the switch reconnects).
    pub connection: u64,
    /// Negotiated wire version (0 before negotiation).
    pub version: u8,
    /// The connection's state.
    pub state: DatapathStates,
    /// Buffers the switch has.
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Ports, by port number.
    pub ports: Vec<Port>,
    /// Why the datapath left or died, if it did.
    pub reason: Option<String>,
    /// In an enter event: the datapath was inherited from the previous host in a hot restart (its connection,
    /// flows and state carried on), rather than newly connected.
    pub resumed: bool,
    /// On a TLS connection, the subject of the switch's certificate, which the host verified against its CA.
    pub tls_subject: Option<String>,
}

impl DatapathInfo {
    pub(crate) fn from_desc(ctx: Context, desc: &DatapathDesc) -> DatapathInfo {
        DatapathInfo {
            datapath: Datapath::new(ctx, desc.dpid, desc.version),
            dpid: desc.dpid,
            address: desc.address.to_string(),
            connection: desc.connection,
            version: desc.version,
            state: desc.state,
            n_buffers: desc.n_buffers,
            n_tables: desc.n_tables,
            capabilities: desc.capabilities,
            ports: desc.ports.iter().map(port_from_desc).collect(),
            reason: desc.reason.as_ref().map(|reason| reason.to_string()).into_option(),
            resumed: desc.resumed,
            tls_subject: desc.tls_subject.as_ref().map(|subject| subject.to_string()).into_option(),
        }
    }

    /// A handle to send to this datapath.
    pub fn datapath(&self) -> &Datapath {
        &self.datapath
    }
}

fn port_from_desc(desc: &PortDesc) -> Port {
    Port {
        port_no: desc.port_no,
        hw_addr: MacAddr(desc.hw_addr),
        name: desc.name.to_string(),
        config: desc.config,
        state: desc.state,
        curr: desc.curr,
        advertised: desc.advertised,
        supported: desc.supported,
        peer: desc.peer,
        curr_speed: desc.curr_speed,
        max_speed: desc.max_speed,
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
    /// This host is the datapath's slave (in a cluster): only its master may send what changes the switch
    /// (flow-mods, packet-outs, group, meter, port and table mods). Reads still work.
    NotMaster,
    /// No answer in time.
    TimedOut,
    /// The reply could not be decoded.
    Decode,
    /// The message could not be encoded: it (or a part of it) is longer than its OpenFlow length field holds, or
    /// the datapath's version cannot express it. Nothing was sent.
    Encode,
    /// Anything else.
    Other,
}

impl OfError {
    pub(crate) fn new(kind: OfErrorKind, message: impl Into<String>) -> OfError {
        OfError { kind, message: message.into() }
    }

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

pub(crate) fn of_error(failure: RequestFailure, detail: String) -> OfError {
    let kind = match failure {
        RequestFailure::UnknownDatapath => OfErrorKind::UnknownDatapath,
        RequestFailure::SendQueueFull => OfErrorKind::SendQueueFull,
        RequestFailure::Disconnected => OfErrorKind::Disconnected,
        RequestFailure::NotMaster => OfErrorKind::NotMaster,
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

/// A handle on one connected datapath: send it messages, ask it questions. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Datapath {
    ctx: Context,
    dpid: u64,
    version: u8,
}

impl PartialEq for Datapath {
    fn eq(&self, other: &Self) -> bool {
        (self.dpid, self.version) == (other.dpid, other.version)
    }
}

impl Eq for Datapath {}

impl Datapath {
    pub(crate) fn new(ctx: Context, dpid: u64, version: u8) -> Self {
        Datapath { ctx, dpid, version }
    }

    /// The app context this handle sends through.
    pub(crate) fn context(&self) -> &Context {
        &self.ctx
    }

    /// The datapath id.
    pub fn dpid(&self) -> u64 {
        self.dpid
    }

    /// The negotiated wire version: what [`Datapath::send`] encodes portable messages for.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Sends a message (the host assigns its xid): a portable one ([`tatsu_ofproto::portable`]) is encoded for
    /// the datapath's version, a version-specific one as it is. Never blocks: a full send queue is an error, and
    /// so is a message that cannot be encoded ([`OfErrorKind::Encode`], nothing sent).
    // Never inlined: it uses a thread-local, and a caller's green thread may have moved threads since it last parked.
    #[inline(never)]
    pub fn send(&self, message: impl Encode) -> Result<(), OfError> {
        SCRATCH.with(|scratch| {
            let mut buffer = scratch.borrow_mut();
            buffer.clear();
            message.encode_for(self.version, 0, &mut buffer).map_err(|e| encode_error(&e))?;
            self.send_bytes(&buffer)
        })
    }

    /// Sends an already encoded message (an xid of 0 is replaced by a fresh one).
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), OfError> {
        let host = self.ctx.host();
        match (host.services.of_send())(host.app, self.dpid, RSlice::from_slice(bytes)) {
            RResult::ROk(()) => Ok(()),
            RResult::RErr(e) => Err(of_error(e.failure, e.detail.into_string())),
        }
    }

    /// Sends a request and waits (parking this green thread) for its reply: every part of a multipart reply, or
    /// the switch's error message, decoded. A message that cannot be encoded is [`OfErrorKind::Encode`].
    pub fn request(&self, message: impl Encode, timeout: Duration) -> Result<Vec<Message>, OfError> {
        let mut bytes = Vec::new();
        message.encode_for(self.version, 0, &mut bytes).map_err(|e| encode_error(&e))?;
        let host = self.ctx.host();
        let call = host.services.of_request();
        let reply = match call(host.app, self.dpid, RSlice::from_slice(&bytes), green::duration_ns(timeout)) {
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
