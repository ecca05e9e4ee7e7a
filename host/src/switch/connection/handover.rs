//! Hot restart: pausing a connection's reader at a message boundary, handing the connection over to a successor
//! host ([`Inherited`]), and adopting one handed over by a predecessor (held until the takeover is committed).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use may::net::TcpStream;
use tatsu_abi::{DatapathChange, DatapathStates};

use super::{lock, Connection, PendingReply};
use crate::switch::description::PortInfo;
use crate::switch::handshake::Handshake;
use crate::switch::shared::Shared;
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
    pub fn adopt(shared: &Arc<Shared<Connection>>, id: u64, stream: TcpStream, state: &Inherited) -> Arc<Connection> {
        let connection = Connection::new(Arc::clone(shared), id, stream, state.peer, DatapathStates::MAIN);
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
                Arc::new(PendingReply::abandoned(now.checked_add(left).or(now.checked_add(INHERITED_REPLY_TIMEOUT)))),
            )
        }));
        lock(&connection.outbox).bytes = hex_decode(&state.unsent);
        let _ = connection.dpid.set(state.dpid);
        connection.count_as_datapath(state.dpid, false);
        connection.add_ports(state.ports.clone());
        let connection = Arc::new(connection);
        if let Some(old) = shared.register_datapath(state.dpid, &connection) {
            old.close(&format!("replaced by the connection inherited from {}", state.peer));
        }
        connection
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
        if let Some((reader, _)) = self.reader.get() {
            reader.unpark();
        }
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
        if let Some((_, waker)) = self.reader.get() {
            waker.wakeup();
        }
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
        if let Some((reader, _)) = self.reader.get() {
            reader.unpark();
        }
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
