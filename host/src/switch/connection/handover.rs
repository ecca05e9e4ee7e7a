//! Hot restart: pausing a connection's reader at a message boundary, handing the connection over to a successor
//! host ([`Inherited`]), and adopting one handed over by a predecessor (held until the takeover is committed).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use may::net::TcpStream;
use tatsu_abi::{DatapathChange, DatapathStates};

use super::{lock, Connection, PendingReply, Wake};
use crate::switch::description::PortInfo;
use crate::switch::handshake::Handshake;
use crate::switch::shared::Shared;
use crate::switch::tls::record::{Opener, Sealer, Secrets, Suite};
use crate::switch::tls::TlsLink;
use crate::switch::wire::Features;

/// How long a successor waits for the reply to a request its predecessor sent, when the predecessor did not say.
const INHERITED_REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a reader is with a hot-restart handover.
#[derive(Default)]
pub(super) struct Pause {
    /// The handover asked the reader to stop at the next message boundary.
    pub(super) requested: bool,
    /// The reader stopped; these bytes were read but do not make a whole message yet.
    pub(super) paused_with: Option<Vec<u8>>,
    /// The connection now belongs to the successor: the reader and writer end without touching the socket.
    pub(super) handed_over: bool,
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
    pub ports: Vec<PortInfo>,
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
    /// On a TLS connection, the record layer's state (absent from older hosts and on plain connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsHandover>,
    /// The connection's capture, to continue (absent: not captured, or an older host).
    #[serde(default)]
    pub capture: Option<crate::capture::Continued>,
    /// The datapath's capture was turned off by id (`tatsu capture off DPID`).
    #[serde(default)]
    pub capture_off: bool,
}

/// A TLS connection's record layer, handed to the successor: both directions' keys, IVs and next sequence
/// numbers, the received bytes of a record not yet whole, a post-handshake message begun, and records sealed but
/// not yet written. Byte strings are hex.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct TlsHandover {
    /// The cipher suite ([`Suite::name`]).
    pub suite: String,
    /// The subject of the switch's certificate.
    pub subject: String,
    /// Sending: key, IV, next sequence number.
    pub tx_key: String,
    /// The sending IV.
    pub tx_iv: String,
    /// The next sequence number sent.
    pub tx_seq: u64,
    /// Receiving: key.
    pub rx_key: String,
    /// The receiving IV.
    pub rx_iv: String,
    /// The next sequence number expected.
    pub rx_seq: u64,
    /// Received bytes of a record not yet whole.
    pub rx_partial: String,
    /// Bytes of a post-handshake handshake message not yet whole.
    pub rx_handshake: String,
    /// Sealed records not yet written; they go out before anything else.
    pub unsent_records: String,
}

impl std::fmt::Debug for TlsHandover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "TlsHandover({}, tx {}, rx {})", self.suite, self.tx_seq, self.rx_seq)
    }
}

impl TlsHandover {
    /// The state of `link`, whose reader and writer have stopped, with the records `sealed` but not yet written.
    fn of(link: &TlsLink, sealed: &[u8]) -> TlsHandover {
        let sealer = lock(&link.sealer);
        let opener = lock(&link.opener);
        let (tx, (rx, partial, handshake)) = (sealer.secrets(), opener.state());
        TlsHandover {
            suite: tx.suite.name().to_owned(),
            subject: link.subject.clone(),
            tx_key: hex_encode(&tx.key),
            tx_iv: hex_encode(&tx.iv),
            tx_seq: tx.seq,
            rx_key: hex_encode(&rx.key),
            rx_iv: hex_encode(&rx.iv),
            rx_seq: rx.seq,
            rx_partial: hex_encode(partial),
            rx_handshake: hex_encode(handshake),
            unsent_records: hex_encode(sealed),
        }
    }

    /// The record layer again, and the records still to write.
    fn link(&self) -> Result<(TlsLink, Vec<u8>), String> {
        let suite = Suite::from_name(&self.suite).ok_or_else(|| format!("unknown TLS cipher suite {}", self.suite))?;
        let iv = |text: &str| -> Result<[u8; 12], String> {
            hex_decode(text).try_into().map_err(|_| "a TLS IV that is not 12 bytes".to_owned())
        };
        let tx = Secrets { suite, key: hex_decode(&self.tx_key), iv: iv(&self.tx_iv)?, seq: self.tx_seq };
        let rx = Secrets { suite, key: hex_decode(&self.rx_key), iv: iv(&self.rx_iv)?, seq: self.rx_seq };
        let link = TlsLink {
            subject: self.subject.clone(),
            sealer: Mutex::new(Sealer::new(tx)?),
            opener: Mutex::new(Opener::new(rx, hex_decode(&self.rx_partial), hex_decode(&self.rx_handshake))?),
        };
        Ok((link, hex_decode(&self.unsent_records)))
    }
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

impl Connection {
    /// Takes on a connection a predecessor host handed over (or one taken back from a successor that died): already
    /// in MAIN, with its features, ports, next xid, requests in flight and unsent bytes. Nothing touches the socket
    /// until [`Connection::prepare_inherited`] has started its reader and writer and [`Connection::release`] lets
    /// them go; apps are told with [`Connection::announce_resumed`].
    pub fn adopt(
        shared: &Arc<Shared<Connection>>,
        id: u64,
        stream: TcpStream,
        state: &Inherited,
    ) -> Result<Arc<Connection>, String> {
        let (tls, sealed) = match &state.tls {
            Some(handover) => handover.link().map(|(link, sealed)| (Some(link), sealed))?,
            None => (None, Vec::new()),
        };
        let local = super::local_addr(&stream);
        let capture =
            shared.captures.adopted_tap(id, state.dpid, (state.peer, local), state.capture.as_ref(), state.capture_off);
        let tls = tls.map(Box::new);
        let connection =
            Connection::new(Arc::clone(shared), id, stream, state.peer, DatapathStates::MAIN, tls, capture);
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
        lock(&connection.pending).extend(state.pending_xids.iter().zip(remaining).map(|(xid, left)| {
            (
                *xid,
                Arc::new(PendingReply::abandoned(
                    *xid,
                    now.checked_add(left).or(now.checked_add(INHERITED_REPLY_TIMEOUT)),
                )),
            )
        }));
        {
            let mut outbox = lock(&connection.outbox);
            outbox.bytes = hex_decode(&state.unsent);
            outbox.sealed = sealed;
        }
        let _ = connection.dpid.set(state.dpid);
        connection.count_as_datapath(state.dpid, false);
        connection.add_ports(state.ports.clone());
        if let Some(old) = shared.register_datapath(state.dpid, &connection) {
            old.close(&format!("replaced by the connection inherited from {}", state.peer));
        }
        Ok(connection)
    }

    /// Starts the reader and writer of an adopted connection, held until [`Connection::release`]: the reader then
    /// begins with the `unparsed` bytes its previous owner read. Starting them before the takeover is committed
    /// keeps their cost (two stacks to map) out of the switches' blackout.
    pub fn prepare_inherited(self: &Arc<Self>, unparsed: &str) -> Result<(), String> {
        self.serve(hex_decode(unparsed), Handshake::finished())
    }

    /// Lets the held reader and writer of an adopted connection go.
    pub fn release(&self) {
        self.held.store(false, Ordering::Release);
        self.rouse_reader(Wake::Unpark);
        self.wake_writer();
    }

    /// Parks the calling reader or writer while the connection is held (see [`Connection::adopt`]).
    pub(super) fn wait_until_released(&self) {
        while self.held.load(Ordering::Acquire) {
            may::coroutine::park();
        }
    }

    /// Tells apps about a connection taken over from the predecessor: an `enter` event marked `resumed`.
    pub fn announce_resumed(&self) {
        self.shared.bus.deliver_datapath(DatapathChange::Enter, self.describe().to_desc(None, true));
        self.mastership_joined();
    }

    /// Asks the reader to stop at the next message boundary (for a handover).
    pub fn request_pause(&self) {
        lock(&self.pause).requested = true;
        self.rouse_reader(Wake::Socket);
    }

    /// Whether a hot restart is pausing or has taken the connection (the keepalive leaves it alone then).
    pub(in crate::switch) fn in_handover(&self) -> bool {
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
        self.rouse_reader(Wake::Unpark);
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
        self.rouse_reader(Wake::Unpark);
        // The writer stops at the next byte it has not written yet and puts the rest of its batch back: what is left
        // in the outbox then is exactly what the switch has not been sent, and goes to the successor.
        self.wake_writer();
        let deadline = Instant::now() + Duration::from_secs(1);
        let (unsent, sealed) = loop {
            let mut outbox = lock(&self.outbox);
            if !outbox.writer_busy {
                outbox.closed = true;
                break (std::mem::take(&mut outbox.bytes), std::mem::take(&mut outbox.sealed));
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
        // Nothing more is read or written here: the capture's file is closed for the successor to append to.
        let capture = self.capture.hand_over();
        let now = Instant::now();
        let (pending_xids, pending_remaining_ms) = lock(&self.pending)
            .iter()
            .map(|(xid, pending)| {
                let left = lock(&pending.state).expires.map_or(Duration::MAX, |e| e.saturating_duration_since(now));
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
            tls: self.tls.as_ref().map(|link| TlsHandover::of(link, &sealed)),
            capture,
            capture_off: self.capture.turned_off(dpid),
        };
        drop(info);
        let _ = self.closed.set("handed over to the successor host".to_owned());
        Some((state, std::os::fd::AsRawFd::as_raw_fd(&self.stream)))
    }

    /// Whether the connection now belongs to the successor host.
    pub(super) fn handed_over(&self) -> bool {
        self.handed_over.load(Ordering::Acquire)
    }

    /// At a message boundary: parks the reader while a handover pause is requested, keeping `unparsed`.
    /// Returns `false` if the connection was handed over (the reader must end without touching the socket).
    pub(super) fn pause_point(&self, unparsed: &[u8]) -> bool {
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_tls_session_survives_its_handover_record() {
        let secrets = |seq| Secrets { suite: Suite::Chacha20Poly1305, key: vec![7; 32], iv: [3; 12], seq };
        // The predecessor's link: it has sealed two records and opened one, and holds half of the next.
        let predecessor = TlsLink {
            subject: "CN=br0".to_owned(),
            sealer: Mutex::new(Sealer::new(secrets(0)).expect("valid")),
            opener: Mutex::new(Opener::new(secrets(0), Vec::new(), Vec::new()).expect("valid")),
        };
        let mut peer = Sealer::new(secrets(0)).expect("valid");
        let mut from_peer = Vec::new();
        peer.seal(crate::switch::tls::record::APPLICATION_DATA, b"first", &mut from_peer).expect("seals");
        let first_len = from_peer.len();
        peer.seal(crate::switch::tls::record::APPLICATION_DATA, b"second", &mut from_peer).expect("seals");
        let mut plain = Vec::new();
        {
            let mut opener = lock(&predecessor.opener);
            opener.receive_buffer().extend_from_slice(&from_peer[..first_len + 7]);
            opener.open_received(&mut plain).expect("opens");
        }
        assert_eq!(plain, b"first");
        let mut sealed = Vec::new();
        lock(&predecessor.sealer)
            .seal(crate::switch::tls::record::APPLICATION_DATA, b"to the switch", &mut sealed)
            .expect("seals");
        // The hand-over record, as JSON, as it crosses to the successor (with the sealed record still unwritten).
        let record = serde_json::to_string(&TlsHandover::of(&predecessor, &sealed)).expect("writes");
        assert!(!format!("{:?}", TlsHandover::of(&predecessor, &sealed)).contains("0707"), "Debug shows no keys");
        let (successor, unwritten) =
            serde_json::from_str::<TlsHandover>(&record).expect("reads").link().expect("a link");
        assert_eq!((successor.subject.as_str(), unwritten), ("CN=br0", sealed));
        let mut plain = Vec::new();
        {
            let mut opener = lock(&successor.opener);
            opener.receive_buffer().extend_from_slice(&from_peer[first_len + 7..]);
            opener.open_received(&mut plain).expect("the successor opens the rest of the record");
        }
        assert_eq!(plain, b"second");
        assert_eq!(lock(&successor.sealer).secrets().seq, 1, "the next record sent is the second");
    }

    #[test]
    fn a_handover_record_of_an_older_host_reads_and_writes_back_the_same() {
        // What a host that kept ports as JSON values wrote (without the fields later hosts added).
        let older = json!({
            "dpid": 1, "version": 4, "peer": "127.0.0.1:40000", "n_buffers": 256, "n_tables": 254,
            "capabilities": 79, "next_xid": 12, "unparsed": "", "pending_xids": [5],
            "ports": [
                {"advertised": 0, "config": 0, "curr": 2112, "curr_speed": 10000000, "hw_addr": "6a:1f:00:00:00:01",
                 "max_speed": 0, "name": "s1-eth1", "peer": 0, "port_no": 1, "state": 4, "supported": 0},
                {"advertised": 0, "config": 1, "curr": 0, "hw_addr": "6a:1f:00:00:00:02", "name": "br0",
                 "peer": 0, "port_no": 65534, "state": 1, "supported": 0},
            ],
        });
        let inherited: Inherited = serde_json::from_value(older.clone()).expect("an older host's record reads");
        assert_eq!(inherited.ports.len(), 2);
        assert_eq!(inherited.ports[0].hw_addr, [0x6a, 0x1f, 0, 0, 0, 1]);
        assert_eq!((inherited.ports[1].port_no, inherited.ports[1].max_speed), (65534, None));
        assert!(inherited.pending_remaining_ms.is_empty() && inherited.unsent.is_empty());
        let written = serde_json::to_value(&inherited).expect("a record writes");
        assert_eq!(written["ports"], older["ports"], "ports are written as they were read");
    }
}
