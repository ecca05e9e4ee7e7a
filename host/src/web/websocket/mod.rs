//! WebSocket (RFC 6455) in the REST server: paths apps serve ([`WebSockets`]), the upgrade of an HTTP connection,
//! and each client's connection afterwards, on the same `may` scheduler as the rest of the server.
//!
//! A client is two green threads of the server's group: the HTTP connection's own, which goes on as the reader
//! (frames in, checked by [`frame`]: masking, reserved bits, opcodes, fragmentation, UTF-8, the size limits; pings
//! answered; a ping to a client silent for [`WebSocketSettings::ping_interval`], and the client dropped if it stays
//! silent as long again), and a writer, which takes frames from the client's send queue. Apps push with
//! [`WebSockets::broadcast`] and [`WebSockets::send`]: the frame is encoded once and the same bytes are queued for
//! every client, under a short lock each; nothing waits for a socket. A client whose queue would pass
//! [`WebSocketSettings::queue_bytes`] loses what was queued, is counted and logged (a line a second at most), and is
//! sent a close 1008 (policy violation: it did not take its messages) after what its socket already has; if it does
//! not take that either within the write deadline, its socket is shut.
//!
//! Close codes sent: 1000 (echo of a normal close, or the app's own code), 1001 (the serving app stopped), 1002
//! (protocol error: unmasked frame, reserved bits, unknown opcode, bad fragmentation, bad control frame or close
//! code), 1007 (text or close reason not UTF-8), 1008 (send queue overflow), 1009 (frame or message over the limits;
//! a message's frame headers count toward its limit, so endless empty fragments end too).
//!
//! The handshake agrees no subprotocol and no extension (a client that insists on either, as browsers do when a page
//! names protocols, fails the connection itself). The bearer token, when one is set, is checked as for any request:
//! the `Authorization` header, or, since browser scripts cannot set headers on a WebSocket, the `access_token`
//! query parameter of the upgrade's URL; a browser `Origin` must be this host's own (`Host`), since WebSocket
//! connections escape CORS.

pub mod frame;
pub mod handshake;

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tatsu_abi::{WaitStatus, WebSocketKind};

use crate::bus::queue::Admission;
use crate::bus::{Event, Mailbox};
use crate::green::{self, GreenSlot, ThreadGroup};
use crate::logging::LogLimit;
use frame::{Assembler, Received, Violation};

/// Limits of the WebSocket connections the server upgrades.
#[derive(Debug, Clone)]
pub struct WebSocketSettings {
    /// Largest frame payload a client may send (default 64 KiB; close 1009 beyond, before it is read).
    pub max_frame_bytes: usize,
    /// Largest message a client may send, its frames and their headers (default 64 KiB; close 1009 beyond).
    pub max_message_bytes: usize,
    /// Bytes queued for one client at most (default 1 MiB): a client that does not take its messages fast enough
    /// is disconnected (close 1008). Also the largest message an app can push.
    pub queue_bytes: usize,
    /// A client silent this long is sent a ping (default 30 s); silent as long again, it is dropped.
    pub ping_interval: Duration,
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        WebSocketSettings {
            max_frame_bytes: 64 << 10,
            max_message_bytes: 64 << 10,
            queue_bytes: 1 << 20,
            ping_interval: Duration::from_secs(30),
        }
    }
}

/// How long a close handshake may take: after a close frame is sent, for the peer's, before the socket is shut.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes read at a time.
const READ_CHUNK: usize = 4096;

/// The WebSocket paths apps serve, and their clients.
pub struct WebSockets {
    endpoints: RwLock<HashMap<String, Arc<Endpoint>>>,
    next_client: AtomicU64,
    settings: OnceLock<WebSocketSettings>,
    /// Send queue overflows, logged a line a second at most.
    overflows: LogLimit,
}

impl Default for WebSockets {
    fn default() -> Self {
        WebSockets {
            endpoints: RwLock::default(),
            next_client: AtomicU64::new(0),
            settings: OnceLock::new(),
            overflows: LogLimit::new(1),
        }
    }
}

/// One path an app serves.
pub struct Endpoint {
    path: Arc<str>,
    app: Arc<Mailbox>,
    /// Whether the app wants opens, messages and closes.
    events: bool,
    /// The clients; `None` once the app stopped serving the path.
    clients: Mutex<Option<HashMap<u64, Arc<Client>>>>,
    /// Messages not queued for a client because its queue was full or it was closing.
    dropped: AtomicU64,
}

impl Endpoint {
    fn clients(&self) -> MutexGuard<'_, Option<HashMap<u64, Arc<Client>>>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn event(&self, client: u64, kind: WebSocketKind, data: Bytes) -> Event {
        Event::WebSocket { path: Arc::clone(&self.path), client, kind, data }
    }
}

fn lookup_error(app: &Mailbox, path: &str) -> String {
    format!("app `{}` serves no WebSocket path `{path}`", app.name)
}

impl WebSockets {
    /// Sets the limits (once, when the server starts; the defaults apply before).
    pub fn configure(&self, settings: WebSocketSettings) {
        let _ = self.settings.set(settings);
    }

    fn settings(&self) -> WebSocketSettings {
        self.settings.get().cloned().unwrap_or_default()
    }

    fn endpoints(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Endpoint>>> {
        self.endpoints.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `app`'s path (a literal path: `/` and segments, no `{param}`, no query); fails if it is malformed or
    /// another app serves it.
    pub fn add(&self, app: &Arc<Mailbox>, path: &str, events: bool) -> Result<(), String> {
        let path = path.trim();
        if !path.starts_with('/') || path.contains(['{', '}', '?', '#', ' ']) {
            return Err(format!("WebSocket path `{path}`: a literal path starting with `/`, without parameters"));
        }
        let mut endpoints = self.endpoints.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(other) = endpoints.get(path) {
            if Arc::ptr_eq(&other.app, app) {
                return Ok(());
            }
            return Err(format!("WebSocket path `{path}` is already served by app `{}`", other.app.name));
        }
        let endpoint = Endpoint {
            path: Arc::from(path),
            app: Arc::clone(app),
            events,
            clients: Mutex::new(Some(HashMap::new())),
            dropped: AtomicU64::new(0),
        };
        endpoints.insert(path.to_owned(), Arc::new(endpoint));
        Ok(())
    }

    /// Removes every path of `app`; their clients are sent a close 1001 (after what is queued for them).
    pub fn remove(&self, app: &Arc<Mailbox>) {
        let removed: Vec<Arc<Endpoint>> = {
            let mut endpoints = self.endpoints.write().unwrap_or_else(PoisonError::into_inner);
            let paths: Vec<String> =
                endpoints.iter().filter(|(_, e)| Arc::ptr_eq(&e.app, app)).map(|(path, _)| path.clone()).collect();
            paths.iter().filter_map(|path| endpoints.remove(path)).collect()
        };
        for endpoint in removed {
            let clients = endpoint.clients().take().unwrap_or_default();
            for client in clients.values() {
                client.close(frame::GOING_AWAY, "the app serving this path stopped", false);
            }
        }
    }

    /// Whether any app serves a WebSocket path.
    pub fn is_empty(&self) -> bool {
        self.endpoints().is_empty()
    }

    /// The endpoint serving `path`, if any.
    pub fn find(&self, path: &str) -> Option<Arc<Endpoint>> {
        self.endpoints().get(path).cloned()
    }

    /// The endpoint `app` serves at `path`.
    fn owned(&self, app: &Mailbox, path: &str) -> Result<Arc<Endpoint>, String> {
        self.find(path)
            .filter(|endpoint| std::ptr::eq(Arc::as_ptr(&endpoint.app), app))
            .ok_or_else(|| lookup_error(app, path))
    }

    /// Encodes a message from `app` once, checked against the limits.
    fn encode(&self, path: &str, message: &[u8], binary: bool) -> Result<Bytes, String> {
        let limit = self.settings().queue_bytes;
        if message.len() > limit {
            return Err(format!(
                "a WebSocket message of {} bytes for `{path}` is larger than a client's send queue ({limit} bytes, \
                 wsapi_websocket_queue_bytes)",
                message.len()
            ));
        }
        if !binary && std::str::from_utf8(message).is_err() {
            return Err(format!("a WebSocket text message for `{path}` that is not UTF-8"));
        }
        Ok(Bytes::from(frame::encode(if binary { frame::BINARY } else { frame::TEXT }, message)))
    }

    /// Queues a message for every client of `app`'s `path`; how many it was queued for. Never blocks.
    pub fn broadcast(&self, app: &Mailbox, path: &str, message: &[u8], binary: bool) -> Result<u64, String> {
        let endpoint = self.owned(app, path)?;
        let encoded = self.encode(path, message, binary)?;
        let clients: Vec<Arc<Client>> =
            endpoint.clients().as_ref().map(|clients| clients.values().cloned().collect()).unwrap_or_default();
        let queued = clients.iter().filter(|client| self.push(&endpoint, client, &encoded)).count();
        Ok(queued as u64)
    }

    /// Queues a message for one client of `app`'s `path`. Never blocks.
    pub fn send(&self, app: &Mailbox, path: &str, client: u64, message: &[u8], binary: bool) -> Result<(), String> {
        let endpoint = self.owned(app, path)?;
        let encoded = self.encode(path, message, binary)?;
        let found = endpoint.clients().as_ref().and_then(|clients| clients.get(&client).cloned());
        let Some(found) = found else { return Err(format!("no WebSocket client {client} on `{path}`")) };
        if self.push(&endpoint, &found, &encoded) {
            Ok(())
        } else {
            Err(format!("WebSocket client {client} on `{path}` is being disconnected"))
        }
    }

    /// Starts closing one client of `app`'s `path` with `code` (1000 or 3000-4999) and `reason`. Never blocks.
    pub fn close(&self, app: &Mailbox, path: &str, client: u64, code: u16, reason: &str) -> Result<(), String> {
        if code != frame::NORMAL && !(3000..=4999).contains(&code) {
            return Err(format!("close code {code}: apps may use 1000 or 3000-4999"));
        }
        let endpoint = self.owned(app, path)?;
        let found = endpoint.clients().as_ref().and_then(|clients| clients.get(&client).cloned());
        let Some(found) = found else { return Err(format!("no WebSocket client {client} on `{path}`")) };
        found.close(code, reason, false);
        Ok(())
    }

    /// Queues `encoded` for `client`; `false` (counted, and the client disconnected) if its queue is full.
    fn push(&self, endpoint: &Endpoint, client: &Client, encoded: &Bytes) -> bool {
        match client.push(encoded) {
            Pushed::Queued => true,
            Pushed::Closing => {
                endpoint.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Pushed::Overflow(queued) => {
                let dropped = endpoint.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(held_back) = self.overflows.check() {
                    log::warn!(
                        target: "tatsu::web",
                        "WebSocket client {} on `{}` does not take its messages: {queued} bytes queued, the limit \
                         (wsapi_websocket_queue_bytes); disconnecting it (1008); {dropped} message(s) dropped on this \
                         path so far{}",
                        client.peer,
                        endpoint.path,
                        crate::logging::held_back_note(held_back)
                    );
                }
                false
            }
        }
    }
}

/// What became of a message queued for a client.
enum Pushed {
    Queued,
    /// Refused: the queue would pass its limit (this many bytes were queued); the client is now closing.
    Overflow(usize),
    /// Refused: the client is closing.
    Closing,
}

/// What is waiting to be written to one client.
#[derive(Default)]
struct Outbound {
    frames: VecDeque<Bytes>,
    bytes: usize,
    /// The next pong (or the server's ping), written before queued messages.
    control: Option<Bytes>,
    /// The close frame to write after the queued messages, once one is decided.
    close: Option<Bytes>,
    /// When the writer gives up on a client that overflowed its queue (it has this long to take its close frame).
    cut_at: Option<Instant>,
    /// The reader has stopped: once the close frame (if any) is written, the writer ends too.
    reader_done: bool,
    /// The writer has ended.
    writer_done: bool,
    writer_waiting: bool,
}

/// One connected client, shared by its reader, its writer and the apps pushing to it.
pub struct Client {
    id: u64,
    peer: SocketAddr,
    queue_limit: usize,
    outbound: Mutex<Outbound>,
    writer: OnceLock<Arc<GreenSlot>>,
    reader: Option<Arc<GreenSlot>>,
}

impl Client {
    fn outbound(&self) -> MutexGuard<'_, Outbound> {
        self.outbound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the writer if it waits (called with the lock released).
    fn wake_writer(&self, waiting: bool) {
        if waiting {
            if let Some(writer) = self.writer.get() {
                writer.unpark();
            }
        }
    }

    fn push(&self, encoded: &Bytes) -> Pushed {
        let mut outbound = self.outbound();
        if outbound.close.is_some() || outbound.writer_done {
            return Pushed::Closing;
        }
        if outbound.bytes + encoded.len() > self.queue_limit {
            let queued = outbound.bytes;
            outbound.cut_at = Some(Instant::now() + CLOSE_TIMEOUT);
            let busy = !outbound.writer_waiting;
            drop(outbound);
            self.close(frame::POLICY_VIOLATION, "the client did not take its messages fast enough", true);
            if let (true, Some(writer)) = (busy, self.writer.get()) {
                // Out of its wait for the socket, to take the earlier deadline.
                writer.interrupt();
            }
            return Pushed::Overflow(queued);
        }
        outbound.bytes += encoded.len();
        outbound.frames.push_back(encoded.clone());
        let waiting = std::mem::take(&mut outbound.writer_waiting);
        drop(outbound);
        self.wake_writer(waiting);
        Pushed::Queued
    }

    /// Decides the close frame (the first decision stands); `discard` drops what is queued, so that it goes next.
    fn close(&self, code: u16, reason: &str, discard: bool) {
        self.close_with(Bytes::from(frame::encode_close(code, reason)), discard);
    }

    fn close_with(&self, encoded: Bytes, discard: bool) {
        let mut outbound = self.outbound();
        if outbound.close.is_some() {
            return;
        }
        outbound.close = Some(encoded);
        if discard {
            outbound.frames.clear();
            outbound.bytes = 0;
        }
        let waiting = std::mem::take(&mut outbound.writer_waiting);
        drop(outbound);
        self.wake_writer(waiting);
    }

    /// Queues a control frame ahead of the messages (a later one replaces one not yet written).
    fn control(&self, opcode: u8, payload: &[u8]) {
        let mut outbound = self.outbound();
        outbound.control = Some(Bytes::from(frame::encode(opcode, payload)));
        let waiting = std::mem::take(&mut outbound.writer_waiting);
        drop(outbound);
        self.wake_writer(waiting);
    }
}

/// Why an upgrade is refused: the status, the message, and a header to add.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// What was wrong.
    pub message: &'static str,
    /// A header the response carries (426's `Sec-WebSocket-Version`).
    pub header: Option<(&'static str, &'static str)>,
}

fn refuse(status: u16, message: &'static str) -> Refusal {
    Refusal { status, message, header: None }
}

/// The parts of a request head an upgrade needs.
#[derive(Debug, Default)]
pub struct UpgradeHead {
    /// The request is HTTP/1.1.
    pub http11: bool,
    /// `Upgrade: websocket` was sent.
    pub websocket: bool,
    /// `Connection` has the `Upgrade` token.
    pub connection_upgrade: bool,
    /// `Sec-WebSocket-Key`.
    pub key: Option<String>,
    /// `Sec-WebSocket-Version`.
    pub version: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `Host`.
    pub host: Option<String>,
}

fn has_token(value: &str, token: &str) -> bool {
    value.split(',').any(|part| part.trim().eq_ignore_ascii_case(token))
}

impl UpgradeHead {
    /// Takes in one header, if it is one of those an upgrade needs.
    pub fn header(&mut self, name: &str, value: &str) {
        if name.eq_ignore_ascii_case("upgrade") {
            self.websocket |= has_token(value, "websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            self.connection_upgrade |= has_token(value, "upgrade");
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            self.key = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            self.version = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("origin") {
            self.origin = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("host") {
            self.host = Some(value.to_owned());
        }
    }

    /// Checks the opening handshake (section 4.2.1) of a `GET` that asked for the upgrade: the 101's
    /// `Sec-WebSocket-Accept`, or the status, message and extra header of the refusal.
    pub fn accept(&self) -> Result<String, Refusal> {
        if !self.http11 {
            return Err(refuse(400, "a WebSocket upgrade needs HTTP/1.1"));
        }
        if !self.connection_upgrade {
            return Err(refuse(400, "a WebSocket upgrade needs `Connection: Upgrade`"));
        }
        if self.version.as_deref().map(str::trim) != Some("13") {
            let header = Some(("Sec-WebSocket-Version", "13"));
            return Err(Refusal { status: 426, message: "only WebSocket version 13 is spoken", header });
        }
        let Some(key) = self.key.as_deref().map(str::trim).filter(|key| handshake::valid_key(key)) else {
            return Err(refuse(400, "`Sec-WebSocket-Key` must be the base64 of 16 bytes"));
        };
        let Some(host) = self.host.as_deref() else {
            return Err(refuse(400, "a WebSocket upgrade needs a `Host` header"));
        };
        // Browsers send the page's origin: only pages served from this host and port may connect, so that no other
        // site's page can read what apps push (WebSocket connections are not subject to CORS).
        if let Some(origin) = &self.origin {
            let authority = origin.split_once("://").map_or("", |(_, rest)| rest.trim_end_matches('/'));
            if !authority.eq_ignore_ascii_case(host.trim()) {
                return Err(refuse(403, "WebSocket connections from pages of another origin are refused"));
            }
        }
        Ok(handshake::accept_key(key))
    }
}

/// The `101 Switching Protocols` response.
pub fn switching_protocols(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \
         {accept}\r\n\r\n"
    )
}

/// Why the reader stopped.
enum End {
    /// The close handshake: `Some` close frame to send (an echo, or a violation's), `None` if one is decided.
    Close(Option<Bytes>),
    /// The connection is gone or dead: no close handshake.
    Gone(Cow<'static, str>),
}

/// Serves an upgraded connection until it closes: this green thread reads, a new one writes. `buffer` holds what
/// the client sent after its handshake; `write_timeout` bounds how long the client may take to take a batch of
/// messages (the server's body timeout).
pub fn serve(
    websockets: &WebSockets,
    endpoint: &Arc<Endpoint>,
    group: &Arc<ThreadGroup>,
    stream: &may::net::TcpStream,
    peer: SocketAddr,
    buffer: Vec<u8>,
    write_timeout: Duration,
) {
    let settings = websockets.settings();
    let writer_stream = match stream.try_clone() {
        Ok(clone) => clone,
        Err(e) => {
            log::warn!(target: "tatsu::web", "WebSocket client {peer}: cannot serve it: {e}");
            return;
        }
    };
    let client = Arc::new(Client {
        id: websockets.next_client.fetch_add(1, Ordering::Relaxed) + 1,
        peer,
        queue_limit: settings.queue_bytes,
        outbound: Mutex::new(Outbound::default()),
        writer: OnceLock::new(),
        reader: green::current(),
    });
    let for_writer = Arc::clone(&client);
    match group.spawn("websocket writer", move || write_loop(&for_writer, &writer_stream, write_timeout)) {
        Ok(slot) => {
            let _ = client.writer.set(slot);
        }
        Err(e) => {
            log::warn!(target: "tatsu::web", "WebSocket client {peer}: cannot start its writer: {e}");
            return;
        }
    }
    let registered = match endpoint.clients().as_mut() {
        Some(clients) => {
            clients.insert(client.id, Arc::clone(&client));
            true
        }
        None => false,
    };
    let opened = registered
        && endpoint.events
        && endpoint
            .app
            .queue
            .push(endpoint.event(client.id, WebSocketKind::Open, Bytes::new()), Admission::Bounded)
            .is_ok();
    log::debug!(target: "tatsu::web", "WebSocket client {peer} connected to `{}` (client {})", endpoint.path, client.id);

    let end = if registered {
        Reader { endpoint, client: &client, stream, settings: &settings, buffer }.run()
    } else {
        End::Close(Some(Bytes::from(frame::encode_close(frame::GOING_AWAY, "the app serving this path stopped"))))
    };
    if let Some(clients) = endpoint.clients().as_mut() {
        clients.remove(&client.id);
    }
    if opened {
        // Paired with the open the app was told of, whatever its queue holds.
        let _ =
            endpoint.app.queue.push(endpoint.event(client.id, WebSocketKind::Close, Bytes::new()), Admission::Always);
    }
    finish(&client, stream, end);
}

/// Ends a client: has the writer send the close frame (if any) and waits for it, a little, then shuts the socket.
fn finish(client: &Client, stream: &may::net::TcpStream, end: End) {
    let reason = match end {
        // The socket is left open for the server's usual end (a FIN, then what the client still sends is read and
        // discarded for a while), so that the close frame is not lost to a reset.
        End::Close(frame) => {
            if let Some(frame) = frame {
                client.close_with(frame, true);
            }
            "closed".into()
        }
        End::Gone(reason) => {
            let _ = stream.shutdown(Shutdown::Both);
            reason
        }
    };
    let waiting = {
        let mut outbound = client.outbound();
        outbound.reader_done = true;
        std::mem::take(&mut outbound.writer_waiting)
    };
    client.wake_writer(waiting);
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    while !client.outbound().writer_done && Instant::now() < deadline {
        if green::park(Some(Duration::from_millis(20))) == WaitStatus::Stopping {
            break;
        }
    }
    log::debug!(target: "tatsu::web", "WebSocket client {} (client {}): {reason}", client.peer, client.id);
}

/// The reading half of a client's connection.
struct Reader<'a> {
    endpoint: &'a Endpoint,
    client: &'a Client,
    stream: &'a may::net::TcpStream,
    settings: &'a WebSocketSettings,
    /// Bytes read and not yet used.
    buffer: Vec<u8>,
}

impl Reader<'_> {
    fn run(&mut self) -> End {
        let mut assembler = Assembler::new(self.settings.max_message_bytes);
        let mut last_heard = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        let mut reads_in_a_row = 0u32;
        loop {
            match self.frames(&mut assembler) {
                Ok(None) => {}
                Ok(Some(end)) => return end,
                Err(violation) => {
                    log::debug!(
                        target: "tatsu::web",
                        "WebSocket client {}: {} (closing with {})",
                        self.client.peer,
                        violation.reason,
                        violation.code
                    );
                    return End::Close(Some(Bytes::from(frame::encode_close(violation.code, &violation.reason))));
                }
            }
            let deadline = ping_sent.unwrap_or(last_heard) + self.settings.ping_interval;
            let start = self.buffer.len();
            self.buffer.resize(start + READ_CHUNK, 0);
            let read = super::before(self.stream, deadline, |mut socket| socket.read(&mut self.buffer[start..]));
            self.buffer.truncate(start + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return End::Gone("the client closed the connection without a close frame".into()),
                Ok(_) => {
                    last_heard = Instant::now();
                    ping_sent = None;
                    reads_in_a_row += 1;
                    // may polls its I/O selector only when the run queue is empty: a client that always has data
                    // must not starve the others.
                    if reads_in_a_row.is_multiple_of(8) {
                        green::park(Some(Duration::from_micros(50)));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    reads_in_a_row = 0;
                    if ping_sent.is_some() {
                        let silent = last_heard.elapsed();
                        return End::Gone(format!("silent for {silent:?}, a ping unanswered: dropped").into());
                    }
                    self.client.control(frame::PING, b"tatsu");
                    ping_sent = Some(Instant::now());
                }
                Err(e) => return End::Gone(format!("reading failed: {e}").into()),
            }
        }
    }

    /// Handles the whole frames in the buffer; `Some` when the connection is to end.
    fn frames(&mut self, assembler: &mut Assembler) -> Result<Option<End>, Violation> {
        let mut used = 0;
        let outcome = loop {
            let Some(header) = frame::parse_header(&self.buffer[used..], self.settings.max_frame_bytes)? else {
                break None;
            };
            let available = self.buffer.len() - used;
            if available < header.frame_len() {
                self.buffer.reserve(header.frame_len() - available);
                break None;
            }
            let payload = self.buffer[used + header.header_len..used + header.frame_len()].to_vec();
            used += header.frame_len();
            match assembler.frame(&header, payload)? {
                Received::Partial => {}
                Received::Message(opcode, data) => self.deliver(opcode, data),
                Received::Control(frame::PING, payload) => self.client.control(frame::PONG, &payload),
                Received::Control(frame::CLOSE, payload) => {
                    // Echo the code (an empty close if none came); if the server closed first, this was the answer.
                    let echo = match frame::parse_close(&payload)? {
                        Some((code, _)) => frame::encode_close(code, ""),
                        None => frame::encode(frame::CLOSE, &[]),
                    };
                    break Some(End::Close(Some(Bytes::from(echo))));
                }
                Received::Control(..) => {} // a pong: that the client is alive is all it says
            }
        };
        self.buffer.drain(..used);
        Ok(outcome)
    }

    fn deliver(&self, opcode: u8, data: Vec<u8>) {
        if !self.endpoint.events {
            return;
        }
        let kind = if opcode == frame::TEXT { WebSocketKind::Text } else { WebSocketKind::Binary };
        // A full queue refuses the message, counts it and logs it (see `bus::queue`).
        let _ = self
            .endpoint
            .app
            .queue
            .push(self.endpoint.event(self.client.id, kind, Bytes::from(data)), Admission::Bounded);
    }
}

/// The writing half: control frames first, then queued messages in order, then the close frame; ends when the
/// reader has stopped and everything decided is written, or when a write fails or passes its deadline.
fn write_loop(client: &Client, stream: &may::net::TcpStream, write_timeout: Duration) {
    let mut batch: Vec<Bytes> = Vec::new();
    let mut close_written = false;
    loop {
        {
            let mut outbound = client.outbound();
            if let Some(control) = outbound.control.take() {
                batch.push(control);
            } else if !outbound.frames.is_empty() {
                batch.extend(outbound.frames.drain(..));
                outbound.bytes = 0;
            } else if let (Some(close), false) = (&outbound.close, close_written) {
                batch.push(close.clone());
                close_written = true;
            } else if outbound.reader_done || close_written {
                if close_written && !outbound.reader_done {
                    // The server closed first: wait (a little) for the client's close frame, which ends the reader.
                    drop(outbound);
                    wait_for_reader(client);
                    let _ = stream.shutdown(Shutdown::Both);
                }
                break;
            } else {
                outbound.writer_waiting = true;
                drop(outbound);
                if green::park(None) == WaitStatus::Stopping {
                    break;
                }
                continue;
            }
        }
        let mut deadline = Instant::now() + write_timeout;
        if let Some(cut) = client.outbound().cut_at {
            deadline = deadline.min(cut);
        }
        let written = batch.iter().try_for_each(|bytes| write_all(client, stream, bytes, deadline));
        batch.clear();
        if let Err(e) = written {
            log::debug!(target: "tatsu::web", "WebSocket client {}: writing failed: {e}", client.peer);
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
    }
    client.outbound().writer_done = true;
    if let Some(reader) = &client.reader {
        reader.unpark();
    }
}

/// Waits until the reader has stopped, [`CLOSE_TIMEOUT`] at most.
fn wait_for_reader(client: &Client) {
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    while !client.outbound().reader_done && Instant::now() < deadline {
        if green::park(Some(Duration::from_millis(20))) == WaitStatus::Stopping {
            return;
        }
    }
}

/// Writes `bytes` before `deadline`, or before the client's cut if it overflowed meanwhile.
fn write_all(client: &Client, stream: &may::net::TcpStream, mut bytes: &[u8], mut deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        match stream.inner().write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = &bytes[n..];
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if let Some(cut) = client.outbound().cut_at {
            deadline = deadline.min(cut);
        }
        match green::wait_io(stream, Some(deadline)) {
            WaitStatus::Woken | WaitStatus::Interrupted => {}
            WaitStatus::TimedOut => return Err(io::Error::new(io::ErrorKind::TimedOut, "the client took nothing")),
            WaitStatus::Stopping => return Err(io::Error::other("the server is stopping")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: &[(&str, &str)]) -> UpgradeHead {
        let mut head = UpgradeHead { http11: true, ..UpgradeHead::default() };
        for (name, value) in lines {
            head.header(name, value);
        }
        head
    }

    const GOOD: [(&str, &str); 5] = [
        ("Host", "127.0.0.1:8080"),
        ("Upgrade", "websocket"),
        ("Connection", "keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];

    #[test]
    fn the_opening_handshake_is_checked() {
        let good = head(&GOOD);
        assert!(good.websocket);
        assert_eq!(good.accept(), Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_owned()));
        let with = |extra: (&str, &str)| {
            let mut lines = GOOD.to_vec();
            lines.retain(|(name, _)| !name.eq_ignore_ascii_case(extra.0));
            lines.push(extra);
            head(&lines).accept().map_err(|refusal| refusal.status)
        };
        assert_eq!(with(("Sec-WebSocket-Version", "8")), Err(426));
        assert_eq!(with(("Sec-WebSocket-Key", "short")), Err(400));
        assert_eq!(with(("Connection", "keep-alive")), Err(400));
        assert_eq!(with(("Origin", "http://127.0.0.1:8080")), Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_owned()));
        assert_eq!(with(("Origin", "https://evil.example")), Err(403));
        assert_eq!(with(("Origin", "null")), Err(403));
        let response = switching_protocols("abc");
        assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n") && response.ends_with("\r\n\r\n"));
    }

    #[test]
    fn paths_are_literal_and_served_by_one_app() {
        let websockets = WebSockets::default();
        let (one, two) = (Mailbox::new("one", 8), Mailbox::new("two", 8));
        websockets.add(&one, "/v1.0/topology/ws", true).expect("valid");
        websockets.add(&one, "/v1.0/topology/ws", true).expect("again, same app");
        assert!(websockets.add(&two, "/v1.0/topology/ws", true).is_err_and(|e| e.contains("app `one`")));
        assert!(websockets.add(&two, "/ws/{id}", true).is_err());
        assert!(websockets.add(&two, "ws", true).is_err());
        assert_eq!(websockets.broadcast(&one, "/v1.0/topology/ws", b"hi", false), Ok(0));
        assert!(websockets.broadcast(&two, "/v1.0/topology/ws", b"hi", false).is_err(), "not two's path");
        assert!(websockets.broadcast(&one, "/v1.0/topology/ws", &[0xFF], false).is_err(), "not UTF-8");
        assert!(websockets.broadcast(&one, "/v1.0/topology/ws", &vec![0; 2 << 20], true).is_err(), "too large");
        assert!(websockets.close(&one, "/v1.0/topology/ws", 1, 1001, "").is_err(), "a code apps may not use");
        websockets.remove(&one);
        assert!(websockets.is_empty());
    }

    #[test]
    fn a_full_queue_closes_the_client_and_drops_what_it_held() {
        let client = Client {
            id: 1,
            peer: "127.0.0.1:1".parse().expect("address"),
            queue_limit: 10,
            outbound: Mutex::new(Outbound::default()),
            writer: OnceLock::new(),
            reader: None,
        };
        let message = Bytes::from_static(b"12345");
        assert!(matches!(client.push(&message), Pushed::Queued));
        assert!(matches!(client.push(&message), Pushed::Queued));
        assert!(matches!(client.push(&message), Pushed::Overflow(10)));
        assert!(matches!(client.push(&message), Pushed::Closing));
        let outbound = client.outbound();
        assert!(outbound.frames.is_empty() && outbound.bytes == 0);
        let close = outbound.close.as_ref().expect("a close frame");
        assert_eq!(close[..4], [0x88, close.len() as u8 - 2, 0x03, 0xF0], "1008");
    }
}
