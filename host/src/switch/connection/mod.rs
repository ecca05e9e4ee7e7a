//! One switch connection: the [`Connection`] itself, its lifecycle (start, state, keepalive bookkeeping, close) and
//! the parts that do one job each: the reader ([`reader`]: framing, the handshake, dispatch to apps), the writer
//! ([`writer`]: the outbox and batched sends), requests awaiting replies ([`requests`]), the datapath's features and
//! ports ([`datapath`]) and the hot-restart handover ([`handover`]).

mod datapath;
mod handover;
mod reader;
mod requests;
mod roles;
mod socket;
mod writer;

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;
use may::io::{WaitIo, WaitIoWaker};
use may::net::TcpStream;
use tatsu_abi::{DatapathChange, DatapathStates};
use tatsu_ofproto::OFP_VERSION_1_3;

use super::handshake::Handshake;
use super::wire;
use crate::bus::credit::Credit;
use crate::capture::Tap;
use crate::green;
use crate::metrics::{DatapathCounters, LiveSwitch, SwitchCounters};
use crate::switch::shared::{Keyed, Shared};
use crate::switch::tls::{Established, TlsLink};
use crate::timer::coarse_now_ms;
use datapath::Info;
pub use handover::Inherited;
use handover::Pause;
use requests::PendingReply;
use writer::Outbox;
pub use writer::Run;

/// The host's end of a connection (unspecified if the socket cannot say).
fn local_addr(stream: &TcpStream) -> SocketAddr {
    stream.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// A switch silent for this long has its reader's buffer given back ([`Connection::trim_idle_reader`]).
const IDLE_TRIM_AFTER: Duration = Duration::from_secs(1);

/// [`Connection::idle_trim`]: the switch sent something since the last trim.
const TRIM_NONE: u8 = 0;
/// The keepalive asked the reader to give back its buffer.
const TRIM_ASKED: u8 = 1;
/// The reader did (or found nothing to give back); nothing more is asked until the switch sends again.
const TRIM_DONE: u8 = 2;

/// Where a connection's reader is: running (the coroutine to unpark and the socket's waker), or parked with the
/// idle readers (see [`crate::switch::idle`]), or neither for the moment between.
#[derive(Default)]
struct ReaderSlot {
    running: Option<(Coroutine, WaitIoWaker)>,
    parked: bool,
}

/// How to wake a running reader: where it waits.
#[derive(Clone, Copy)]
enum Wake {
    /// Parked in `may::coroutine::park` (held, paused, waiting for credit).
    Unpark,
    /// Waiting on the socket.
    Socket,
}

/// A connected switch.
pub struct Connection {
    /// Host-wide connection number.
    pub id: u64,
    /// The switch's address.
    pub peer: SocketAddr,
    shared: Arc<Shared<Connection>>,
    stream: TcpStream,
    state: AtomicU32,
    version: AtomicU8,
    info: Mutex<Info>,
    dpid: OnceLock<u64>,
    outbox: Mutex<Outbox>,
    /// This connection, for the writers it starts on demand (see [`writer`]).
    this: Weak<Connection>,
    next_xid: AtomicU32,
    pending: Mutex<HashMap<u32, Arc<PendingReply>>>,
    connected_at: Instant,
    /// When the switch last sent anything, on [`coarse_now_ms`]'s clock (a few ns per read where `Instant::now`
    /// costs tens; the keepalive's timescale is seconds).
    last_received_ms: AtomicU64,
    echoes_unanswered: AtomicU32,
    /// Where giving back an idle reader's buffer stands: [`TRIM_NONE`], [`TRIM_ASKED`] or [`TRIM_DONE`].
    idle_trim: AtomicU8,
    closed: OnceLock<String>,
    malformed: AtomicU64,
    sends_refused: AtomicU64,
    /// The reader's coroutine while it runs, or that it is parked with the idle readers.
    reader: Mutex<ReaderSlot>,
    pause: Mutex<Pause>,
    /// `pause.handed_over`, readable without the lock (the writer checks it before every write).
    handed_over: AtomicBool,
    /// An adopted connection whose reader and writer are started but wait, touching nothing, until
    /// [`Connection::release`] (the takeover is committed).
    held: AtomicBool,
    credit: Arc<Credit>,
    /// The TLS record layer, on a TLS connection (boxed: it is large, and most connections are plain TCP).
    tls: Option<Box<TlsLink>>,
    /// The OpenFlow capture of this connection (off unless `--capture` or `tatsu capture on`).
    capture: Arc<Tap>,
    /// This connection's traffic (the reader counts what it reads; what is queued is counted under the outbox lock).
    counters: Arc<SwitchCounters>,
    /// The datapath's counters, once its id is known: they hold `counters` while the connection lives.
    datapath_counters: OnceLock<Arc<DatapathCounters>>,
    /// The last echo request sent: its xid, and when (microseconds since `connected_at`).
    echo_sent: (AtomicU32, AtomicU64),
    /// The round trip of the last echo request answered, in microseconds; `u64::MAX` before any.
    echo_rtt_us: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Keyed for Connection {
    fn id(&self) -> u64 {
        self.id
    }

    fn dpid(&self) -> Option<u64> {
        Connection::dpid(self)
    }
}

impl Connection {
    /// A connection in `state`, not yet served.
    fn new(
        shared: Arc<Shared<Connection>>,
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        state: DatapathStates,
        tls: Option<Box<TlsLink>>,
        capture: Arc<Tap>,
    ) -> Arc<Connection> {
        let credit = shared.bus.new_credit();
        Arc::new_cyclic(|this: &Weak<Connection>| Connection {
            id,
            peer,
            shared,
            stream,
            state: AtomicU32::new(state.0),
            version: AtomicU8::new(0),
            info: Mutex::new(Info::default()),
            dpid: OnceLock::new(),
            outbox: Mutex::new(Outbox {
                bytes: Vec::new(),
                closed: false,
                writer_waiting: false,
                writer: None,
                writer_generation: 0,
                writer_idle_since_ms: 0,
                writer_busy: false,
                sealed: Vec::new(),
            }),
            this: this.clone(),
            next_xid: AtomicU32::new(1),
            pending: Mutex::new(HashMap::new()),
            connected_at: Instant::now(),
            last_received_ms: AtomicU64::new(coarse_now_ms()),
            echoes_unanswered: AtomicU32::new(0),
            idle_trim: AtomicU8::new(TRIM_NONE),
            closed: OnceLock::new(),
            malformed: AtomicU64::new(0),
            sends_refused: AtomicU64::new(0),
            reader: Mutex::new(ReaderSlot::default()),
            pause: Mutex::new(Pause::default()),
            handed_over: AtomicBool::new(false),
            held: AtomicBool::new(false),
            credit,
            tls,
            capture,
            counters: Arc::default(),
            datapath_counters: OnceLock::new(),
            echo_sent: (AtomicU32::new(0), AtomicU64::new(0)),
            echo_rtt_us: AtomicU64::new(u64::MAX),
        })
    }

    /// Starts the connection's writer and its reader, which begins with `unparsed` bytes at `handshake`. If either
    /// cannot start (no memory for its stack, say), the connection is closed.
    fn serve(self: &Arc<Self>, unparsed: Vec<u8>, handshake: Handshake) -> Result<(), String> {
        let for_reader = Arc::clone(self);
        let started = self.start_writer(&mut lock(&self.outbox)).and_then(|()| {
            let mut slot = lock(&self.reader);
            let reader = green::spawn_host("switch-reader", move || for_reader.read_loop(unparsed, handshake, false))?;
            slot.running = Some((reader, self.stream.waker()));
            Ok(())
        });
        match started {
            Ok(()) => Ok(()),
            Err(e) => {
                self.close(&e);
                Err(e)
            }
        }
    }

    /// Starts serving a freshly connected switch (over TLS when `tls` holds its finished handshake; `dialled`: the
    /// host connected to it): sends HELLO and starts its reader and writer.
    pub fn start(
        shared: &Arc<Shared<Connection>>,
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        tls: Option<Established>,
        dialled: bool,
    ) -> Result<Arc<Connection>, String> {
        let (tls, unparsed) =
            tls.map_or((None, Vec::new()), |established| (Some(Box::new(established.link)), established.plaintext));
        match &tls {
            Some(link) => log::info!(
                target: "tatsu::switch",
                "switch connected from {peer} over TLS, certificate subject \"{}\" (connection {id})",
                link.subject
            ),
            None => log::info!(target: "tatsu::switch", "switch connected from {peer} (connection {id})"),
        }
        let capture = shared.captures.tap(id, peer, local_addr(&stream), !dialled);
        let connection = Connection::new(Arc::clone(shared), id, stream, peer, DatapathStates::HANDSHAKE, tls, capture);
        let hello = Handshake::hello(connection.fresh_xid())?;
        connection.enqueue(&hello);
        connection.publish_state(DatapathStates::HANDSHAKE.0, None);
        connection.serve(unparsed, Handshake::new(shared.settings().miss_send_len))?;
        Ok(connection)
    }

    /// The subject of the switch's certificate, on a TLS connection.
    pub fn tls_subject(&self) -> Option<&str> {
        self.tls.as_ref().map(|link| link.subject.as_str())
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
        Duration::from_millis(coarse_now_ms().saturating_sub(self.last_received_ms.load(Ordering::Relaxed)))
    }

    /// Time since the connection was made.
    pub(super) fn age(&self) -> Duration {
        self.connected_at.elapsed()
    }

    fn touch(&self) {
        self.last_received_ms.store(coarse_now_ms(), Ordering::Relaxed);
        self.echoes_unanswered.store(0, Ordering::Relaxed);
        if self.idle_trim.load(Ordering::Relaxed) != TRIM_NONE {
            self.idle_trim.store(TRIM_NONE, Ordering::Relaxed);
        }
    }

    /// Asks the reader of a switch that has sent nothing for [`IDLE_TRIM_AFTER`] to give back its read buffer (once
    /// per quiet spell; called by the keepalive). The reader is woken, finds nothing to read, and frees the buffer
    /// before it waits again; the switch's next message gets a fresh one. A busy switch keeps its buffer.
    pub(super) fn trim_idle_reader(&self) {
        // A held (adopted, not yet released) reader waits for its release, not for the socket.
        if self.idle() < IDLE_TRIM_AFTER
            || self.held.load(Ordering::Acquire)
            || self.idle_trim.compare_exchange(TRIM_NONE, TRIM_ASKED, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        // A parked reader has nothing to give back.
        if let Some((_, waker)) = &lock(&self.reader).running {
            waker.wakeup();
        }
    }

    /// Whether the keepalive asked the reader to give back its buffers ([`Connection::trim_idle_reader`]); the
    /// reader does so at once, before it waits.
    fn trim_requested(&self) -> bool {
        self.idle_trim.load(Ordering::Relaxed) == TRIM_ASKED
            && self.idle_trim.compare_exchange(TRIM_ASKED, TRIM_DONE, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Sends an echo request and counts it as unanswered until anything arrives; returns how many are unanswered.
    pub(super) fn send_echo(&self) -> u32 {
        let version = self.version();
        let version = if version == 0 { OFP_VERSION_1_3 } else { version };
        let xid = self.fresh_xid();
        self.echo_sent.0.store(xid, Ordering::Relaxed);
        self.echo_sent.1.store(self.micros_since_connected(), Ordering::Relaxed);
        self.enqueue(&wire::echo_request(version, xid));
        self.echoes_unanswered.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records the round trip of the last echo request, if `xid` is the reply to it.
    #[cold]
    fn echo_replied(&self, xid: u32) {
        if xid != 0 && self.echo_sent.0.swap(0, Ordering::Relaxed) == xid {
            let rtt = self.micros_since_connected().saturating_sub(self.echo_sent.1.load(Ordering::Relaxed));
            self.echo_rtt_us.store(rtt, Ordering::Relaxed);
        }
    }

    fn micros_since_connected(&self) -> u64 {
        u64::try_from(self.connected_at.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Where this connection's traffic is counted.
    #[inline]
    fn counters(&self) -> &SwitchCounters {
        &self.counters
    }

    /// Counts this connection's traffic (all of it, from its first message) as datapath `dpid`'s; `connected`
    /// counts a new connection of the datapath (not one a predecessor host handed over).
    fn count_as_datapath(&self, dpid: u64, connected: bool) {
        let datapath = self.shared.metrics.datapath(dpid);
        if self.datapath_counters.set(Arc::clone(&datapath)).is_ok() {
            datapath.attach(&self.counters, self.version(), connected);
        }
    }

    /// What a scrape shows of this connection.
    pub fn live(&self) -> LiveSwitch {
        let state = match DatapathStates(self.state()) {
            DatapathStates::HANDSHAKE => "handshake",
            DatapathStates::CONFIG => "config",
            DatapathStates::MAIN => "main",
            _ => "dead",
        };
        let rtt = self.echo_rtt_us.load(Ordering::Relaxed);
        let (send_queue_bytes, writer_running) = {
            let outbox = lock(&self.outbox);
            (outbox.bytes.len() as u64, outbox.writer.is_some())
        };
        LiveSwitch {
            dpid: self.dpid(),
            state,
            send_queue_bytes,
            echo_rtt: (rtt != u64::MAX).then(|| Duration::from_micros(rtt)),
            reader_running: !lock(&self.reader).parked,
            writer_running,
        }
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

    /// Closes the connection (once): the switch becomes DEAD, requests in flight fail, apps are told.
    pub fn close(&self, reason: &str) {
        if self.closed.set(reason.to_owned()).is_err() {
            return;
        }
        let previous = self.state.swap(DatapathStates::DEAD.0, Ordering::AcqRel);
        // Stop reading at once; the writer flushes what is queued (a last error message, say), then shuts the
        // socket down. A switch that does not read gets a second to take it.
        let _ = self.stream.shutdown(Shutdown::Read);
        self.rouse_reader(Wake::Socket);
        lock(&self.outbox).closed = true;
        self.wake_writer();
        self.fail_pending(reason);
        self.shared.forget(self);
        if let Some(datapath) = self.datapath_counters.get() {
            datapath.detach(&self.counters);
        }
        log::info!(
            target: "tatsu::switch",
            "{} disconnected: {reason} ({} malformed messages, {} sends refused)",
            self.describe_short(),
            self.malformed.load(Ordering::Relaxed),
            self.sends_refused.load(Ordering::Relaxed)
        );
        if previous == DatapathStates::MAIN.0 {
            self.shared.bus.deliver_datapath(DatapathChange::Leave, self.describe().to_desc(Some(reason), false));
            self.mastership_left();
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
}
