//! One switch connection: the reader (framing, handshake, dispatch to apps), the writer (batched sends), requests
//! awaiting replies, and the datapath's features and ports.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use may::coroutine::Coroutine;
use may::io::{WaitIo, WaitIoWaker};
use may::net::TcpStream;
use serde_json::{json, Value};
use tatsu_ofproto::{Hello, OFP_VERSION_1_0, OFP_VERSION_1_3};
use tatsu_abi::{DatapathStates, RequestFailure, WaitStatus};

use super::negotiation::VersionOffer;
use super::wire::{self, Features};
use super::Switches;
use crate::bus::credit::Credit;
use crate::bus::RequestFailed;
use crate::{green, runtime};

/// Most bytes read from the socket at a time (more when a message is larger).
const READ_CHUNK: usize = 16 * 1024;
/// Room the host's own messages (echo replies, errors, keepalive) have beyond the send queue limit apps are held
/// to, so that a full queue of app messages never stops the keepalive. A switch that lets even this fill up does
/// not read what it is sent, and is dropped.
const HOST_HEADROOM: usize = 64 * 1024;
/// How long parts of a reply nobody waits for any more (the request timed out, or was too large) are still
/// recognised and dropped, instead of reaching apps as unsolicited messages.
const REPLY_GRACE: Duration = Duration::from_secs(5);
/// How long a successor waits for the reply to a request its predecessor sent, when the predecessor did not say.
const INHERITED_REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The read buffer of a quiet switch; it grows to [`READ_CHUNK`] while the switch keeps it full.
const FIRST_CHUNK: usize = 2 * 1024;
/// Ports recorded per datapath (what apps are told in `enter` events): a switch announcing ever new port numbers
/// must not grow the table without bound. Open vSwitch bridges have far fewer.
const MAX_PORTS: usize = 4096;

/// Where the handshake is.
enum Handshake {
    /// Waiting for the switch's HELLO.
    AwaitHello,
    /// FEATURES_REQUEST sent under this xid.
    AwaitFeatures(u32),
    /// 1.3 PORT_DESC request sent under this xid.
    AwaitPorts(u32),
    /// In MAIN.
    Done,
}

/// Messages waiting to be written.
struct Outbox {
    bytes: Vec<u8>,
    closed: bool,
    writer_waiting: bool,
    /// The writer holds a batch taken from `bytes` and is writing it.
    writer_busy: bool,
}

/// A request waiting for its reply parts.
struct PendingReply {
    waiter: Option<Arc<green::GreenSlot>>,
    state: Mutex<PendingState>,
}

struct PendingState {
    /// The reply parts so far, back to back (only while someone waits for them).
    parts: Vec<u8>,
    outcome: Option<Result<(), RequestFailed>>,
    /// Whether a green thread still waits for the reply; if not, its parts are dropped.
    waited_for: bool,
    /// When the entry goes: the requester's deadline, or the end of the grace period of a reply nobody waits for.
    expires: Instant,
}

impl PendingReply {
    /// A request the calling green thread waits for until `deadline`.
    fn waited(deadline: Instant) -> Self {
        PendingReply {
            waiter: green::current(),
            state: Mutex::new(PendingState { parts: Vec::new(), outcome: None, waited_for: true, expires: deadline }),
        }
    }

    /// A request of the predecessor host, whose reply is dropped when it comes (or forgotten at `expires`).
    fn abandoned(expires: Instant) -> Self {
        PendingReply {
            waiter: None,
            state: Mutex::new(PendingState { parts: Vec::new(), outcome: None, waited_for: false, expires }),
        }
    }
}

#[derive(Default)]
struct Info {
    features: Option<Features>,
    ports: BTreeMap<u32, Value>,
}

/// A connected switch.
pub struct Connection {
    /// Host-wide connection number.
    pub id: u64,
    /// The switch's address.
    pub peer: SocketAddr,
    switches: &'static Switches,
    stream: TcpStream,
    state: AtomicU32,
    version: AtomicU8,
    info: Mutex<Info>,
    dpid: OnceLock<u64>,
    outbox: Mutex<Outbox>,
    writer: OnceLock<Coroutine>,
    next_xid: AtomicU32,
    pending: Mutex<HashMap<u32, Arc<PendingReply>>>,
    connected_at: Instant,
    last_received_ms: AtomicU64,
    echoes_unanswered: AtomicU32,
    closed: OnceLock<String>,
    malformed: AtomicU64,
    sends_refused: AtomicU64,
    reader: OnceLock<(Coroutine, WaitIoWaker)>,
    pause: Mutex<Pause>,
    /// `pause.handed_over`, readable without the lock (the writer checks it before every write).
    handed_over: AtomicBool,
    /// An adopted connection whose reader and writer are started but wait, touching nothing, until
    /// [`Connection::release`] (the takeover is committed).
    held: AtomicBool,
    credit: Arc<Credit>,
}

/// Where a reader is with a hot-restart handover.
#[derive(Default)]
struct Pause {
    /// The handover asked the reader to stop at the next message boundary.
    requested: bool,
    /// The reader stopped; these bytes were read but do not make a whole message yet.
    paused_with: Option<Vec<u8>>,
    /// The connection now belongs to the successor: the reader and writer end without touching the socket.
    handed_over: bool,
}

/// What a successor host needs to carry on a connection its predecessor served.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Inherited {
    /// Datapath id.
    pub dpid: u64,
    /// Negotiated version.
    pub version: u8,
    /// The switch's address.
    pub peer: SocketAddr,
    /// Buffers, tables, capabilities.
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// `OFPC_*` bits.
    pub capabilities: u32,
    /// Ports, as described to apps.
    pub ports: Vec<Value>,
    /// The next transaction id to use.
    pub next_xid: u32,
    /// Bytes read from the switch but not yet a whole message, hex.
    pub unparsed: String,
    /// Transaction ids of requests still waiting for replies (their replies are dropped quietly).
    pub pending_xids: Vec<u32>,
    /// For each of `pending_xids`, milliseconds left until it times out (absent from older hosts).
    #[serde(default)]
    pub pending_remaining_ms: Vec<u64>,
    /// Bytes apps and the host queued for the switch but not yet written, hex (absent from older hosts).
    #[serde(default)]
    pub unsent: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn xid_of(message: &[u8]) -> u32 {
    message.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn state_name(state: u32) -> &'static str {
    match DatapathStates(state) {
        DatapathStates::HANDSHAKE => "handshake",
        DatapathStates::CONFIG => "config",
        DatapathStates::MAIN => "main",
        _ => "dead",
    }
}

impl Connection {
    /// A connection in `state`, not yet served.
    fn new(
        switches: &'static Switches,
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        state: DatapathStates,
    ) -> Connection {
        Connection {
            id,
            peer,
            switches,
            stream,
            state: AtomicU32::new(state.0),
            version: AtomicU8::new(0),
            info: Mutex::new(Info::default()),
            dpid: OnceLock::new(),
            outbox: Mutex::new(Outbox { bytes: Vec::new(), closed: false, writer_waiting: false, writer_busy: false }),
            writer: OnceLock::new(),
            next_xid: AtomicU32::new(1),
            pending: Mutex::new(HashMap::new()),
            connected_at: Instant::now(),
            last_received_ms: AtomicU64::new(0),
            echoes_unanswered: AtomicU32::new(0),
            closed: OnceLock::new(),
            malformed: AtomicU64::new(0),
            sends_refused: AtomicU64::new(0),
            reader: OnceLock::new(),
            pause: Mutex::new(Pause::default()),
            handed_over: AtomicBool::new(false),
            held: AtomicBool::new(false),
            credit: Arc::default(),
        }
    }

    /// Starts the connection's writer and its reader, which begins with `unparsed` bytes at `handshake`. If either
    /// cannot start (no memory for its stack, say), the connection is closed.
    fn serve(self: &Arc<Self>, unparsed: Vec<u8>, handshake: Handshake) -> Result<(), String> {
        let for_writer = Arc::clone(self);
        let for_reader = Arc::clone(self);
        let started = green::spawn_host("switch-writer", move || for_writer.write_loop())
            .and_then(|()| green::spawn_host("switch-reader", move || for_reader.read_loop(unparsed, handshake)));
        if let Err(e) = &started {
            self.close(e);
        }
        started
    }

    /// Starts serving a freshly connected switch: sends HELLO and starts its reader and writer.
    pub fn start(
        switches: &'static Switches,
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Result<Arc<Connection>, String> {
        let connection = Arc::new(Connection::new(switches, id, stream, peer, DatapathStates::HANDSHAKE));
        log::info!(target: "tatsu::switch", "switch connected from {peer} (connection {id})");
        let mut hello = Vec::new();
        tatsu_ofproto::encode_hello(OFP_VERSION_1_3, &wire::VERSIONS, connection.fresh_xid(), &mut hello)
            .map_err(|e| e.to_string())?;
        connection.enqueue(&hello);
        connection.publish_state(DatapathStates::HANDSHAKE.0, None);
        connection.serve(Vec::new(), Handshake::AwaitHello)?;
        Ok(connection)
    }

    /// Takes on a connection a predecessor host handed over (or one taken back from a successor that died): already
    /// in MAIN, with its features, ports, next xid, requests in flight and unsent bytes. Nothing touches the socket
    /// until [`Connection::prepare_inherited`] has started its reader and writer and [`Connection::release`] lets
    /// them go; apps are told with [`Connection::announce_resumed`].
    pub fn adopt(switches: &'static Switches, id: u64, stream: TcpStream, state: &Inherited) -> Arc<Connection> {
        let connection = Connection::new(switches, id, stream, state.peer, DatapathStates::MAIN);
        connection.held.store(true, Ordering::Release);
        connection.version.store(state.version, Ordering::Release);
        connection.next_xid.store(state.next_xid.max(1), Ordering::Relaxed);
        lock(&connection.info).features = Some(Features {
            datapath_id: state.dpid,
            n_buffers: state.n_buffers,
            n_tables: state.n_tables,
            capabilities: state.capabilities,
        });
        let now = Instant::now();
        let remaining = state.pending_remaining_ms.iter().map(|ms| Duration::from_millis(*ms));
        let remaining = remaining.chain(std::iter::repeat(INHERITED_REPLY_TIMEOUT));
        lock(&connection.pending).extend(
            state
                .pending_xids
                .iter()
                .zip(remaining)
                .map(|(xid, left)| (*xid, Arc::new(PendingReply::abandoned(now + left)))),
        );
        lock(&connection.outbox).bytes = hex_decode(&state.unsent);
        let _ = connection.dpid.set(state.dpid);
        connection.add_ports(state.ports.clone());
        let connection = Arc::new(connection);
        if let Some(old) = switches.register_datapath(state.dpid, &connection) {
            old.close(&format!("replaced by the connection inherited from {}", state.peer));
        }
        connection
    }

    /// Starts the reader and writer of an adopted connection, held until [`Connection::release`]: the reader then
    /// begins with the `unparsed` bytes its previous owner read. Starting them before the takeover is committed
    /// keeps their cost (two stacks to map) out of the switches' blackout.
    pub fn prepare_inherited(self: &Arc<Self>, unparsed: &str) -> Result<(), String> {
        self.serve(hex_decode(unparsed), Handshake::Done)
    }

    /// Lets the held reader and writer of an adopted connection go.
    pub fn release(&self) {
        self.held.store(false, Ordering::Release);
        if let Some((reader, _)) = self.reader.get() {
            reader.unpark();
        }
        self.wake_writer();
    }

    /// Parks the calling reader or writer while the connection is held (see [`Connection::adopt`]).
    fn wait_until_released(&self) {
        while self.held.load(Ordering::Acquire) {
            may::coroutine::park();
        }
    }

    /// Tells apps about a connection taken over from the predecessor: an `enter` event marked `resumed`.
    pub fn announce_resumed(&self) {
        let mut info = self.describe();
        info["resumed"] = json!(true);
        runtime::get().bus.deliver_datapath("enter", self.dpid_or_zero(), info.to_string());
    }

    /// Asks the reader to stop at the next message boundary (for a handover).
    pub fn request_pause(&self) {
        lock(&self.pause).requested = true;
        if let Some((_, waker)) = self.reader.get() {
            waker.wakeup();
        }
    }

    /// Whether a hot restart is pausing or has taken the connection (the keepalive leaves it alone then).
    pub(super) fn in_handover(&self) -> bool {
        let pause = lock(&self.pause);
        pause.requested || pause.handed_over
    }

    /// Whether the reader has stopped at a message boundary.
    pub fn is_paused(&self) -> bool {
        lock(&self.pause).paused_with.is_some() || self.is_closed()
    }

    /// Lets a paused reader go on (the handover was abandoned).
    pub fn resume(&self) {
        {
            let mut pause = lock(&self.pause);
            pause.requested = false;
        }
        if let Some((reader, _)) = self.reader.get() {
            reader.unpark();
        }
    }

    /// Whether everything apps sent has been written to the socket.
    pub fn is_flushed(&self) -> bool {
        let outbox = lock(&self.outbox);
        outbox.bytes.is_empty() && (outbox.writer_waiting || outbox.closed)
    }

    /// Describes the paused connection for the successor and gives up the connection: from now on neither the
    /// reader nor the writer touches the socket. Returns the state and the socket's file descriptor (still owned
    /// by this process until it exits).
    pub fn hand_over(&self) -> Option<(Inherited, std::os::fd::RawFd)> {
        let dpid = self.dpid()?;
        let unparsed = {
            let mut pause = lock(&self.pause);
            let unparsed = pause.paused_with.clone()?;
            pause.handed_over = true;
            self.handed_over.store(true, Ordering::Release);
            unparsed
        };
        if let Some((reader, _)) = self.reader.get() {
            reader.unpark();
        }
        // The writer stops at the next byte it has not written yet and puts the rest of its batch back: what is left
        // in the outbox then is exactly what the switch has not been sent, and goes to the successor.
        self.wake_writer();
        let deadline = Instant::now() + Duration::from_secs(1);
        let unsent = loop {
            let mut outbox = lock(&self.outbox);
            if !outbox.writer_busy {
                outbox.closed = true;
                break std::mem::take(&mut outbox.bytes);
            }
            drop(outbox);
            if Instant::now() >= deadline {
                // The writer is stuck inside a write (its scheduler thread busy elsewhere): what the switch has been
                // sent is not known exactly, so the connection is closed rather than handed over half a message.
                self.close("its writer did not stop within a second for the hot restart");
                return None;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        self.wake_writer();
        let now = Instant::now();
        let (pending_xids, pending_remaining_ms) = lock(&self.pending)
            .iter()
            .map(|(xid, pending)| {
                let left = lock(&pending.state).expires.saturating_duration_since(now);
                (*xid, u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
            })
            .unzip();
        let info = lock(&self.info);
        let features = info.features.clone().unwrap_or_default();
        let state = Inherited {
            dpid,
            version: self.version(),
            peer: self.peer,
            n_buffers: features.n_buffers,
            n_tables: features.n_tables,
            capabilities: features.capabilities,
            ports: info.ports.values().cloned().collect(),
            next_xid: self.next_xid.load(Ordering::Relaxed),
            unparsed: hex_encode(&unparsed),
            pending_xids,
            pending_remaining_ms,
            unsent: hex_encode(&unsent),
        };
        drop(info);
        let _ = self.closed.set("handed over to the successor host".to_owned());
        Some((state, std::os::fd::AsRawFd::as_raw_fd(&self.stream)))
    }

    fn handed_over(&self) -> bool {
        self.handed_over.load(Ordering::Acquire)
    }

    /// At a message boundary: parks the reader while a handover pause is requested, keeping `unparsed`.
    /// Returns `false` if the connection was handed over (the reader must end without touching the socket).
    fn pause_point(&self, unparsed: &[u8]) -> bool {
        loop {
            {
                let mut pause = lock(&self.pause);
                if pause.handed_over {
                    return false;
                }
                if !pause.requested {
                    pause.paused_with = None;
                    return true;
                }
                if pause.paused_with.is_none() {
                    pause.paused_with = Some(unparsed.to_vec());
                }
            }
            may::coroutine::park();
        }
    }

    /// The datapath id, once the switch said it.
    pub fn dpid(&self) -> Option<u64> {
        self.dpid.get().copied()
    }

    fn dpid_or_zero(&self) -> u64 {
        self.dpid().unwrap_or(0)
    }

    /// The negotiated OpenFlow version (0 before negotiation).
    pub fn version(&self) -> u8 {
        self.version.load(Ordering::Acquire)
    }

    fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// Whether the switch is in MAIN.
    pub fn is_main(&self) -> bool {
        self.state() == DatapathStates::MAIN.0
    }

    /// A fresh transaction id.
    pub fn fresh_xid(&self) -> u32 {
        loop {
            let xid = self.next_xid.fetch_add(1, Ordering::Relaxed);
            if xid != 0 {
                return xid;
            }
        }
    }

    /// Time since anything was received.
    pub(super) fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_received_ms.load(Ordering::Relaxed));
        self.connected_at.elapsed().saturating_sub(last)
    }

    /// Time since the connection was made.
    pub(super) fn age(&self) -> Duration {
        self.connected_at.elapsed()
    }

    fn touch(&self) {
        let now = u64::try_from(self.connected_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_received_ms.store(now, Ordering::Relaxed);
        self.echoes_unanswered.store(0, Ordering::Relaxed);
    }

    /// Sends an echo request and counts it as unanswered until anything arrives; returns how many are unanswered.
    pub(super) fn send_echo(&self) -> u32 {
        let version = self.version();
        let version = if version == 0 { OFP_VERSION_1_3 } else { version };
        self.enqueue(&wire::echo_request(version, self.fresh_xid()));
        self.echoes_unanswered.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Echo requests sent since anything arrived.
    pub(super) fn echoes_unanswered(&self) -> u32 {
        self.echoes_unanswered.load(Ordering::Relaxed)
    }

    /// Whether the connection has been closed.
    pub fn is_closed(&self) -> bool {
        self.closed.get().is_some()
    }

    /// Parks the calling green thread until the connection is closed.
    pub(super) fn wait_closed(&self) {
        while !self.is_closed() {
            green::sleep(Duration::from_millis(100));
        }
    }

    /// Appends a host-made message (an echo reply, an error, a keepalive) to the outbox. These may use
    /// [`HOST_HEADROOM`] beyond the limit apps are held to; a switch that lets even that fill up does not read what
    /// it is sent, and is closed.
    fn enqueue(&self, message: &[u8]) {
        let limit = self.switches.settings().send_queue_bytes + HOST_HEADROOM;
        let (wake, unsent) = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return;
            }
            if outbox.bytes.len() + message.len() > limit {
                (false, Some(outbox.bytes.len()))
            } else {
                outbox.bytes.extend_from_slice(message);
                (std::mem::take(&mut outbox.writer_waiting), None)
            }
        };
        if let Some(unsent) = unsent {
            self.close(&format!("the switch does not read what it is sent ({unsent} bytes unsent, limit {limit})"));
        } else if wake {
            self.wake_writer();
        }
    }

    fn wake_writer(&self) {
        if let Some(writer) = self.writer.get() {
            writer.unpark();
        }
    }

    /// Queues a message an app sends; an xid of 0 is replaced by a fresh one. Fails at once if the switch is gone
    /// or its send queue is full.
    pub fn send(&self, message: &[u8]) -> Result<(), RequestFailed> {
        if message.len() < 8 {
            return Err(RequestFailed {
                failure: RequestFailure::Failed,
                detail: format!("an OpenFlow message is at least 8 bytes, not {}", message.len()),
            });
        }
        let limit = self.switches.settings().send_queue_bytes;
        let wake = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return Err(RequestFailed { failure: RequestFailure::Disconnected, detail: self.describe_short() });
            }
            if outbox.bytes.len() + message.len() > limit {
                drop(outbox);
                let refused = self.sends_refused.fetch_add(1, Ordering::Relaxed) + 1;
                if refused == 1 || refused.is_power_of_two() {
                    log::warn!(
                        target: "tatsu::switch",
                        "{}: send queue full ({limit} bytes unsent); {refused} message(s) refused so far",
                        self.describe_short()
                    );
                }
                return Err(RequestFailed {
                    failure: RequestFailure::SendQueueFull,
                    detail: format!("{}: send queue full ({limit} bytes unsent)", self.describe_short()),
                });
            }
            let start = outbox.bytes.len();
            outbox.bytes.extend_from_slice(message);
            if xid_of(message) == 0 {
                let xid = self.fresh_xid().to_be_bytes();
                outbox.bytes[start + 4..start + 8].copy_from_slice(&xid);
            }
            std::mem::take(&mut outbox.writer_waiting)
        };
        if wake {
            self.wake_writer();
        }
        Ok(())
    }

    /// Sends a request under a fresh xid and parks the calling green thread until the whole reply (all parts of a
    /// multipart reply, back to back, or the switch's error), `timeout` or a stop.
    pub fn request(&self, message: &[u8], timeout: Duration) -> Result<Vec<u8>, RequestFailed> {
        let xid = self.fresh_xid();
        let mut message = message.to_vec();
        if let Some(field) = message.get_mut(4..8) {
            field.copy_from_slice(&xid.to_be_bytes());
        }
        let deadline = Instant::now() + timeout;
        let pending = Arc::new(PendingReply::waited(deadline));
        lock(&self.pending).insert(xid, Arc::clone(&pending));
        if let Err(failed) = self.send(&message) {
            lock(&self.pending).remove(&xid);
            return Err(failed);
        }
        loop {
            {
                let mut state = lock(&pending.state);
                match state.outcome.take() {
                    Some(Ok(())) => return Ok(std::mem::take(&mut state.parts)),
                    Some(Err(failed)) => return Err(failed),
                    None => {}
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let status = if remaining.is_zero() { WaitStatus::TimedOut } else { green::park(Some(remaining)) };
            let failure = match status {
                WaitStatus::Woken => continue,
                WaitStatus::TimedOut if Instant::now() < deadline => continue,
                WaitStatus::TimedOut => RequestFailure::TimedOut,
                WaitStatus::Stopping => RequestFailure::Stopping,
                WaitStatus::Interrupted => RequestFailure::Interrupted,
            };
            // Parts still on their way are dropped when they come, for a while (unless the reply came just now).
            {
                let mut state = lock(&pending.state);
                match state.outcome.take() {
                    Some(Ok(())) => return Ok(std::mem::take(&mut state.parts)),
                    Some(Err(failed)) => return Err(failed),
                    None => {}
                }
                state.waited_for = false;
                state.parts = Vec::new();
                state.expires = Instant::now() + REPLY_GRACE;
            }
            return Err(RequestFailed {
                failure,
                detail: format!("{}: no reply to xid {xid} within {timeout:?}", self.describe_short()),
            });
        }
    }

    /// Closes the connection (once): the switch becomes DEAD, requests in flight fail, apps are told.
    pub fn close(&self, reason: &str) {
        if self.closed.set(reason.to_owned()).is_err() {
            return;
        }
        let previous = self.state.swap(DatapathStates::DEAD.0, Ordering::AcqRel);
        // Stop reading at once; the writer flushes what is queued (a last error message, say), then shuts the
        // socket down. A switch that does not read gets a second to take it.
        let _ = self.stream.shutdown(Shutdown::Read);
        lock(&self.outbox).closed = true;
        self.wake_writer();
        for (_, pending) in lock(&self.pending).drain() {
            let detail = format!("{}: disconnected: {reason}", self.describe_short());
            lock(&pending.state).outcome = Some(Err(RequestFailed { failure: RequestFailure::Disconnected, detail }));
            if let Some(waiter) = &pending.waiter {
                waiter.unpark();
            }
        }
        self.switches.forget(self);
        log::info!(
            target: "tatsu::switch",
            "{} disconnected: {reason} ({} malformed messages, {} sends refused)",
            self.describe_short(),
            self.malformed.load(Ordering::Relaxed),
            self.sends_refused.load(Ordering::Relaxed)
        );
        if previous == DatapathStates::MAIN.0 {
            let mut info = self.describe();
            info["reason"] = json!(reason);
            runtime::get().bus.deliver_datapath("leave", self.dpid_or_zero(), info.to_string());
        }
        self.publish_state(DatapathStates::DEAD.0, Some(reason));
    }

    /// "datapath 0000000000000001 (127.0.0.1:5000)" or "switch 127.0.0.1:5000" before the id is known.
    pub fn describe_short(&self) -> String {
        match self.dpid() {
            Some(dpid) => format!("datapath {dpid:016x} ({})", self.peer),
            None => format!("switch {}", self.peer),
        }
    }

    /// The datapath as a JSON object: id, address, version, state, features and ports.
    pub fn describe(&self) -> Value {
        let info = lock(&self.info);
        let features = info.features.clone().unwrap_or_default();
        json!({
            "dpid": self.dpid_or_zero(),
            "dpid_hex": format!("{:016x}", self.dpid_or_zero()),
            "address": self.peer.to_string(),
            "connection": self.id,
            "version": self.version(),
            "state": state_name(self.state()),
            "n_buffers": features.n_buffers,
            "n_tables": features.n_tables,
            "capabilities": features.capabilities,
            "ports": info.ports.values().cloned().collect::<Vec<Value>>(),
        })
    }

    fn publish_state(&self, state: u32, reason: Option<&str>) {
        let mut info = json!({
            "dpid": self.dpid_or_zero(),
            "address": self.peer.to_string(),
            "connection": self.id,
            "version": self.version(),
            "state": state_name(state),
        });
        if let Some(reason) = reason {
            info["reason"] = json!(reason);
        }
        runtime::get().bus.deliver_datapath("state", self.dpid_or_zero(), info.to_string());
    }

    fn set_state(&self, state: DatapathStates) {
        self.state.store(state.0, Ordering::Release);
        self.publish_state(state.0, None);
    }

    /// Writes what apps queue, in as few system calls as possible. The socket is the reader's too, and may lets
    /// only one green thread wait for a socket's readiness, so a writer whose switch is not reading retries every
    /// millisecond (and gives up a second after the connection closed).
    fn write_loop(self: Arc<Self>) {
        let _ = self.writer.set(may::coroutine::current());
        self.wait_until_released();
        let mut batch = Vec::new();
        loop {
            {
                let mut outbox = lock(&self.outbox);
                outbox.writer_busy = false;
                if self.handed_over() {
                    return;
                }
                if outbox.bytes.is_empty() {
                    if outbox.closed {
                        let _ = self.stream.shutdown(Shutdown::Both);
                        return;
                    }
                    outbox.writer_waiting = true;
                    drop(outbox);
                    green::release_unused_stack();
                    may::coroutine::park();
                    continue;
                }
                std::mem::swap(&mut outbox.bytes, &mut batch);
                outbox.writer_busy = true;
            }
            match self.write_all(&batch) {
                Ok(()) => batch.clear(),
                Err(WriteStopped::HandedOver(written)) => {
                    // Put back what the switch has not been sent, ahead of anything queued since.
                    let mut outbox = lock(&self.outbox);
                    batch.drain(..written);
                    batch.append(&mut outbox.bytes);
                    outbox.bytes = std::mem::take(&mut batch);
                    outbox.writer_busy = false;
                    return;
                }
                Err(WriteStopped::Failed(reason)) => {
                    lock(&self.outbox).writer_busy = false;
                    self.close(&reason);
                    let _ = self.stream.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }

    /// Writes `batch`, stopping early if the connection is handed over meanwhile.
    fn write_all(&self, batch: &[u8]) -> Result<(), WriteStopped> {
        let mut closed_at: Option<Instant> = None;
        let mut bytes = batch;
        while !bytes.is_empty() {
            if self.handed_over() {
                return Err(WriteStopped::HandedOver(batch.len() - bytes.len()));
            }
            match self.stream.inner().write(bytes) {
                Ok(0) => return Err(WriteStopped::Failed("the switch stopped taking data".to_owned())),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if self.is_closed() && closed_at.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1)
                    {
                        let reason = "the switch did not take its last messages within a second";
                        return Err(WriteStopped::Failed(reason.to_owned()));
                    }
                    green::park(Some(Duration::from_millis(1)));
                }
                Err(e) => return Err(WriteStopped::Failed(format!("writing to the switch failed: {e}"))),
            }
        }
        Ok(())
    }

    fn read_loop(self: Arc<Self>, unparsed: Vec<u8>, mut handshake: Handshake) {
        let stream = &self.stream;
        let _ = self.reader.set((may::coroutine::current(), stream.waker()));
        self.wait_until_released();
        self.credit.set_reader();
        let mut reads_in_a_row = 0u32;
        let mut buffer = BytesMut::with_capacity(FIRST_CHUNK.max(unparsed.len()));
        let mut chunk = FIRST_CHUNK;
        buffer.extend_from_slice(&unparsed);
        let reason = 'connection: loop {
            // Frame and handle every whole message in the buffer.
            while buffer.len() >= 8 {
                let length = usize::from(u16::from_be_bytes([buffer[2], buffer[3]]));
                if length < 8 {
                    self.malformed.fetch_add(1, Ordering::Relaxed);
                    log::error!(
                        target: "tatsu::switch",
                        "{}: message header claims length {length}, the stream cannot be framed: {}",
                        self.describe_short(),
                        wire::hex_excerpt(&buffer, 32)
                    );
                    break 'connection format!("unframeable message (length {length})");
                }
                if buffer.len() < length {
                    buffer.reserve(length - buffer.len());
                    break;
                }
                let message = buffer.split_to(length).freeze();
                if let Err(reason) = self.handle(message, &mut handshake) {
                    break 'connection reason;
                }
            }
            if !self.pause_point(&buffer) {
                return;
            }
            if self.is_closed() {
                return;
            }
            // Read what the socket has without blocking; wait for more (or a pause request) when it has none.
            if buffer.capacity() - buffer.len() < 512 {
                buffer.reserve(chunk);
            }
            let filled = buffer.len();
            buffer.resize(buffer.capacity(), 0);
            match stream.inner().read(&mut buffer[filled..]) {
                Ok(0) => break "the switch closed the connection".to_owned(),
                Ok(n) => {
                    // A read that fills the buffer means the switch is busy: read more at a time.
                    if filled + n == buffer.len() {
                        chunk = (chunk * 2).min(READ_CHUNK);
                    }
                    buffer.truncate(filled + n);
                    self.touch();
                    // Let apps catch up with what this switch sent (see `bus::credit`). And now and then step out
                    // of the run queue for a moment: may polls its I/O selector only when the run queue is empty,
                    // so readers that always have data would otherwise starve every reader waiting for some.
                    self.credit.wait();
                    reads_in_a_row += 1;
                    if reads_in_a_row.is_multiple_of(8) {
                        green::park(Some(Duration::from_micros(50)));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    buffer.truncate(filled);
                    reads_in_a_row = 0;
                    green::release_unused_stack();
                    stream.wait_io();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buffer.truncate(filled),
                Err(e) => break format!("reading from the switch failed: {e}"),
            }
        };
        if !self.handed_over() {
            self.close(&reason);
        }
    }

    /// Counts a malformed message and logs it (at most a few lines a second host-wide; see
    /// [`super::LogLimits`]). `what` is built only for the lines that are logged.
    #[cold]
    fn malformed(&self, message: &[u8], what: impl FnOnce() -> String) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
        if let Some(suppressed) = self.switches.log_limits.malformed.check() {
            log::warn!(
                target: "tatsu::switch",
                "{}: {}: {}{}",
                self.describe_short(),
                what(),
                wire::hex_excerpt(message, 32),
                crate::logging::held_back_note(suppressed)
            );
        }
    }

    /// Handles one framed message; `Err` closes the connection with that reason.
    #[inline]
    fn handle(self: &Arc<Self>, message: Bytes, handshake: &mut Handshake) -> Result<(), String> {
        let (version, msg_type, xid) = (message[0], message[1], xid_of(&message));
        if matches!(handshake, Handshake::AwaitHello) {
            return self.on_hello(&message, handshake);
        }
        let negotiated = self.version();
        if version != negotiated {
            self.malformed(&message, || format!("message in version 0x{version:02x}, negotiated 0x{negotiated:02x}"));
            self.enqueue(&wire::error(negotiated, wire::BAD_REQUEST, wire::BAD_VERSION, &message, xid));
            return Ok(());
        }
        if msg_type > wire::max_type(version) {
            self.malformed(&message, || format!("unknown message type {msg_type}"));
            self.enqueue(&wire::error(negotiated, wire::BAD_REQUEST, wire::BAD_TYPE, &message, xid));
            return Ok(());
        }
        if msg_type == wire::ECHO_REQUEST {
            self.enqueue(&wire::echo_reply(&message));
        }
        match *handshake {
            Handshake::AwaitFeatures(want) if msg_type == wire::FEATURES_REPLY && xid == want => {
                self.on_features(&message, handshake)?;
            }
            Handshake::AwaitPorts(want) if msg_type == wire::multipart_reply_type(version) && xid == want => {
                match wire::port_desc(&message) {
                    Ok(ports) => self.add_ports(ports),
                    Err(e) => self.malformed(&message, || format!("malformed PORT_DESC reply ({e})")),
                }
                if !wire::reply_has_more(&message) {
                    *handshake = Handshake::Done;
                    self.enter_main();
                }
            }
            _ => {}
        }
        if !wire::is_asynchronous(msg_type) && self.complete_pending(xid, &message, version) {
            return Ok(());
        }
        if msg_type == wire::PORT_STATUS {
            match wire::port_status(&message) {
                Ok((reason, port)) => self.update_port(reason, port),
                Err(e) => self.malformed(&message, || format!("malformed PORT_STATUS ({e})")),
            }
        }
        runtime::get().bus.deliver_openflow(self.dpid_or_zero(), DatapathStates(self.state()), message, &self.credit);
        Ok(())
    }

    #[cold]
    fn on_hello(&self, message: &[u8], handshake: &mut Handshake) -> Result<(), String> {
        let (version, msg_type) = (message[0], message[1]);
        if msg_type == wire::ECHO_REQUEST {
            self.enqueue(&wire::echo_reply(message));
            return Ok(());
        }
        if msg_type != wire::HELLO {
            self.malformed(message, || format!("message type {msg_type} before HELLO"));
            return Err(format!("the switch sent message type {msg_type} before HELLO"));
        }
        let hello = match tatsu_ofproto::decode_hello(message) {
            Ok((_, hello)) => hello,
            Err(e) => {
                self.malformed(message, || format!("malformed HELLO ({e}); negotiating on its header version"));
                Hello::default()
            }
        };
        let offer = VersionOffer::of(version, &hello);
        let Some(agreed) = offer.best_of(&wire::VERSIONS) else {
            let reason = format!("no common OpenFlow version: the switch offers {offer}, tatsu speaks 1.0 and 1.3");
            let reply_version = if wire::VERSIONS.contains(&version) { version } else { OFP_VERSION_1_0.max(version) };
            self.enqueue(&wire::hello_failed(reply_version, &reason, xid_of(message)));
            return Err(reason);
        };
        self.version.store(agreed, Ordering::Release);
        self.set_state(DatapathStates::CONFIG);
        let xid = self.fresh_xid();
        self.enqueue(&wire::features_request(agreed, xid));
        *handshake = Handshake::AwaitFeatures(xid);
        Ok(())
    }

    fn on_features(self: &Arc<Self>, message: &[u8], handshake: &mut Handshake) -> Result<(), String> {
        let (features, ports) = wire::features(message).map_err(|e| {
            self.malformed(message, || format!("malformed FEATURES_REPLY ({e})"));
            format!("malformed FEATURES_REPLY: {e}")
        })?;
        let dpid = features.datapath_id;
        let _ = self.dpid.set(dpid);
        lock(&self.info).features = Some(features);
        if let Some(old) = self.switches.register_datapath(dpid, self) {
            old.close(&format!("replaced by a new connection from {}", self.peer));
        }
        log::info!(target: "tatsu::switch", "{} speaks OpenFlow 0x{:02x}", self.describe_short(), self.version());
        let version = self.version();
        self.enqueue(&wire::set_config(version, self.switches.settings().miss_send_len, self.fresh_xid()));
        match ports {
            Some(ports) => {
                self.add_ports(ports);
                *handshake = Handshake::Done;
                self.enter_main();
            }
            None => {
                let xid = self.fresh_xid();
                self.enqueue(&wire::port_desc_request(xid));
                *handshake = Handshake::AwaitPorts(xid);
            }
        }
        Ok(())
    }

    fn add_ports(&self, ports: Vec<Value>) {
        for port in ports {
            self.update_port(0, port);
        }
    }

    /// Records a port added or changed (`reason` 0 or 2) or deleted (1); at most [`MAX_PORTS`] are kept.
    fn update_port(&self, reason: u8, port: Value) {
        let Some(number) = port["port_no"].as_u64().and_then(|n| u32::try_from(n).ok()) else { return };
        let mut info = lock(&self.info);
        if reason == 1 {
            info.ports.remove(&number);
        } else if info.ports.len() < MAX_PORTS || info.ports.contains_key(&number) {
            info.ports.insert(number, port);
        } else {
            drop(info);
            self.malformed(&[], || format!("more than {MAX_PORTS} ports: port {number} is not recorded"));
        }
    }

    fn enter_main(&self) {
        self.set_state(DatapathStates::MAIN);
        log::info!(target: "tatsu::switch", "{} is ready", self.describe_short());
        runtime::get().bus.deliver_datapath("enter", self.dpid_or_zero(), self.describe().to_string());
    }

    /// Adds a reply part to the request waiting under `xid`; `true` if there was one (the message is then taken).
    /// A reply growing past `max_reply_bytes` fails the request at once; its remaining parts are dropped.
    fn complete_pending(&self, xid: u32, message: &[u8], version: u8) -> bool {
        let Some(pending) = lock(&self.pending).get(&xid).cloned() else { return false };
        let more = message[1] == wire::multipart_reply_type(version) && wire::reply_has_more(message);
        let limit = self.switches.settings().max_reply_bytes;
        let wake = {
            let mut state = lock(&pending.state);
            let mut wake = false;
            if state.waited_for {
                if state.parts.len() + message.len() > limit {
                    let detail = format!(
                        "{}: the reply to xid {xid} exceeds {limit} bytes (max_reply_bytes); the rest is dropped",
                        self.describe_short()
                    );
                    if let Some(suppressed) = self.switches.log_limits.oversized_reply.check() {
                        let note = crate::logging::held_back_note(suppressed);
                        log::warn!(target: "tatsu::switch", "{detail}{note}");
                    }
                    state.outcome = Some(Err(RequestFailed { failure: RequestFailure::Failed, detail }));
                    state.waited_for = false;
                    state.parts = Vec::new();
                    state.expires = Instant::now() + REPLY_GRACE;
                    wake = true;
                } else {
                    state.parts.extend_from_slice(message);
                    if !more {
                        state.outcome = Some(Ok(()));
                        wake = true;
                    }
                }
            }
            wake
        };
        if !more {
            lock(&self.pending).remove(&xid);
        }
        if wake {
            if let Some(waiter) = &pending.waiter {
                waiter.unpark();
            }
        }
        true
    }

    /// Forgets requests past their time: replies nobody waits for any more, and requests inherited from a
    /// predecessor whose reply never came. A requester still waiting is told it timed out.
    pub(super) fn expire_pending(&self, now: Instant) {
        let mut expired = Vec::new();
        lock(&self.pending).retain(|xid, pending| {
            let keep = lock(&pending.state).expires > now;
            if !keep {
                expired.push((*xid, Arc::clone(pending)));
            }
            keep
        });
        for (xid, pending) in expired {
            let mut state = lock(&pending.state);
            if state.waited_for && state.outcome.is_none() {
                let detail = format!("{}: no reply to xid {xid} in time", self.describe_short());
                state.outcome = Some(Err(RequestFailed { failure: RequestFailure::TimedOut, detail }));
                drop(state);
                if let Some(waiter) = &pending.waiter {
                    waiter.unpark();
                }
            } else {
                log::debug!(target: "tatsu::switch", "{}: gave up waiting for the reply to xid {xid}", self.describe_short());
            }
        }
    }
}

/// Why the writer stopped before writing a whole batch.
enum WriteStopped {
    /// The connection was handed over after this many bytes of the batch.
    HandedOver(usize),
    /// The connection is broken, for this reason.
    Failed(String),
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| text.get(2 * i..2 * i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}
