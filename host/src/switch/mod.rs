//! Switches: listening for (and dialling) OpenFlow switches, the handshake, keepalive, and the table of connected
//! datapaths that apps send to.
//!
//! Each connection has one reader and one writer green thread ([`connection`]); the reader runs the handshake, a
//! state machine of its own ([`handshake`]); one keepalive green thread watches them all ([`keepalive`]). Apps get
//! datapaths described by [`description`]. A switch moves through HANDSHAKE → CONFIG → MAIN → DEAD; each change is a `state`
//! datapath event, entering MAIN an `enter` event (with features and ports) and leaving it a `leave` event.
//!
//! Send queue: messages apps send to a switch are appended to that connection's outbox, which its writer drains
//! into the socket in as few writes as possible. The outbox holds at most `send_queue_bytes`; past that, a send
//! fails at once with "send queue full" (counted and logged) instead of growing memory or blocking the app, so one
//! slow switch never stalls an app or the other switches. The host's own messages (echo and error replies) may use
//! a little more; a switch that does not even read those is dropped.
//!
//! Bounds against hostile or broken switches: at most `max_connections` connections at once (more are accepted and
//! closed at once), a reply to a request holds at most `max_reply_bytes`, a connection must reach MAIN within
//! `handshake_timeout`, and malformed input is logged at most a few lines a second per cause (`LogLimits`).

pub mod connection;
pub mod description;
mod handshake;
mod idle;
mod keepalive;
mod negotiation;
mod roles;
mod settings;
mod shared;
pub mod tls;
pub mod wire;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use tatsu_abi::DatapathDesc;

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};

use may::coroutine::Coroutine;
use may::io::{WaitIo, WaitIoWaker};

use crate::bus::Bus;
use crate::capture::Captures;
use crate::green;
use crate::green::turns::Turns;
use crate::logging::held_back_note;
use crate::metrics::{LiveSwitch, Metrics, SwitchesView};
use connection::Connection;
pub use settings::SwitchSettings;
use shared::Shared;
use tls::Side;

/// The connected switches: the listeners and diallers that find them, and what their connections share.
pub struct Switches {
    shared: Arc<Shared<Connection>>,
    listeners: Mutex<Vec<Arc<Listening>>>,
    /// TLS handshakes under way (they count against `max_connections` too).
    tls_handshakes: AtomicUsize,
}

/// A listening socket handed over in a hot restart: its descriptor, and whether TLS switches connect to it.
#[derive(Debug, Clone, Copy)]
pub struct HandedListener {
    /// The descriptor.
    pub fd: RawFd,
    /// Switches connecting to it speak TLS.
    pub tls: bool,
}

/// A listening socket and the controls its accept loop obeys during a handover.
struct Listening {
    fd: RawFd,
    waker: WaitIoWaker,
    accept_loop: OnceLock<Coroutine>,
    pause: Mutex<(bool, bool, bool)>,
    /// Switches connecting here speak TLS.
    tls: bool,
}

impl Listening {
    fn pause_state(&self) -> std::sync::MutexGuard<'_, (bool, bool, bool)> {
        self.pause.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Switches {
    /// No switches yet; their messages will go to `bus`, their captures to `captures`, their counts to `metrics`
    /// (which asks them for their state at each scrape); busy readers step out for the selector by `turns`.
    pub fn new(bus: Arc<Bus>, captures: Arc<Captures>, metrics: &Arc<Metrics>, turns: Arc<Turns>) -> Arc<Switches> {
        let shared = Arc::new(Shared::new(bus, captures, Arc::clone(metrics), turns));
        let switches =
            Arc::new(Switches { shared, listeners: Mutex::new(Vec::new()), tls_handshakes: AtomicUsize::new(0) });
        let view: Weak<dyn SwitchesView> = Arc::downgrade(&switches) as Weak<Switches>;
        metrics.set_switches(view);
        switches
    }

    /// The OpenFlow captures.
    pub fn captures(&self) -> &Arc<Captures> {
        &self.shared.captures
    }

    /// The settings (defaults until [`Switches::start`]).
    pub fn settings(&self) -> &SwitchSettings {
        self.shared.settings()
    }

    /// Starts listening and dialling; fails if no listening socket can be bound.
    pub fn start(self: &Arc<Self>, settings: SwitchSettings) -> Result<(), String> {
        self.shared.set_settings(settings);
        let settings = self.settings();
        for port in &settings.listen_ports {
            let listener = bind(&settings.listen_host, *port)?;
            self.listen(listener, false)?;
        }
        if let Some(tls) = &settings.tls {
            let listener = bind(&settings.listen_host, tls.listen_port)?;
            log::info!(
                target: "tatsu::switch",
                "TLS: the controller's certificate is \"{}\" ({}); switches' certificates must be signed by the CA \
                 in {}",
                tls.subject,
                tls.certificate.display(),
                tls.ca_certificates.display()
            );
            self.listen(listener, true)?;
        }
        self.start_common()
    }

    /// Takes on the listening sockets and connections a predecessor host handed over (hot restart) without
    /// touching them yet: nothing is read, written or accepted until [`Adopted::start`]. Until then, the
    /// predecessor can still take everything back if this host dies.
    pub fn adopt_inherited(
        self: &Arc<Self>,
        settings: SwitchSettings,
        listeners: Vec<HandedListener>,
        connections: Vec<(RawFd, connection::Inherited)>,
    ) -> Adopted {
        self.shared.set_settings(settings);
        self.adopt(listeners, connections)
    }

    /// Takes on handed-over listening sockets and connections (from a predecessor, or taken back after a failed
    /// handover), to serve with [`Adopted::start`].
    pub fn adopt(
        self: &Arc<Self>,
        listeners: Vec<HandedListener>,
        connections: Vec<(RawFd, connection::Inherited)>,
    ) -> Adopted {
        let mut adopted = Adopted { switches: Arc::clone(self), listeners: Vec::new(), connections: Vec::new() };
        for HandedListener { fd, tls } in listeners {
            // SAFETY: the fd was handed over for this purpose and is owned by nothing else here.
            match std::panic::catch_unwind(|| unsafe { may::net::TcpListener::from_raw_fd(fd) }) {
                Ok(listener) => adopted.listeners.push((listener, tls)),
                Err(_) => log::error!(target: "tatsu::switch", "cannot adopt an inherited listening socket (fd {fd})"),
            }
        }
        for (fd, state) in connections {
            let id = self.shared.next_id();
            // SAFETY: as above, for a connected socket.
            let stream = std::panic::catch_unwind(|| unsafe { may::net::TcpStream::from_raw_fd(fd) });
            let Ok(stream) = stream else {
                log::error!(target: "tatsu::switch", "cannot adopt the connection of datapath {:016x}", state.dpid);
                continue;
            };
            let connection = match Connection::adopt(&self.shared, id, stream, &state) {
                Ok(connection) => connection,
                Err(e) => {
                    log::error!(target: "tatsu::switch", "cannot adopt the connection of datapath {:016x}: {e}", state.dpid);
                    continue;
                }
            };
            self.shared.insert(id, &connection);
            match connection.prepare_inherited(&state.unparsed) {
                Ok(()) => adopted.connections.push(connection),
                Err(e) => log::error!(target: "tatsu::switch", "cannot resume an inherited connection: {e}"),
            }
        }
        adopted
    }

    /// Starts the keepalive and the diallers of a host that took over from a predecessor.
    pub fn start_after_takeover(self: &Arc<Self>) -> Result<(), String> {
        self.start_common()
    }

    fn start_common(self: &Arc<Self>) -> Result<(), String> {
        // A dialler runs its switches' TLS handshakes itself.
        let stack = if self.settings().tls.is_some() { tls::HANDSHAKE_STACK_BYTES } else { green::HOST_STACK_BYTES };
        for address in self.settings().switch_addresses.clone() {
            let switches = Arc::clone(self);
            crate::green::spawn_host_with_stack("dialler", stack, move || switches.dial_loop(&address))?;
        }
        let switches = Arc::clone(self);
        crate::green::spawn_host("keepalive", move || keepalive::run(&switches)).map(drop)
    }

    fn listen(self: &Arc<Self>, listener: may::net::TcpListener, tls: bool) -> Result<(), String> {
        let kind = if tls { "TLS switches" } else { "switches" };
        log::info!(target: "tatsu::switch", "listening for {kind} on {}", display_addr(&listener));
        let listening = Arc::new(Listening {
            fd: listener.as_raw_fd(),
            waker: listener.waker(),
            accept_loop: OnceLock::new(),
            pause: Mutex::new((false, false, false)),
            tls,
        });
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&listening));
        let switches = Arc::clone(self);
        crate::green::spawn_host("listener", move || switches.accept_loop(listener, &listening)).map(drop)
    }

    fn accept_loop(self: &Arc<Self>, listener: may::net::TcpListener, listening: &Listening) {
        let max_connections = self.settings().max_connections;
        let _ = listening.accept_loop.set(may::coroutine::current());
        loop {
            loop {
                let mut state = listening.pause_state();
                let (requested, _, handed_over) = *state;
                if handed_over {
                    // The successor has its own descriptor of the socket: closing ours ends nothing.
                    return;
                }
                state.1 = requested;
                if !requested {
                    break;
                }
                drop(state);
                may::coroutine::park();
            }
            match listener.inner().accept() {
                Ok((stream, peer))
                    if self.shared.len() + self.tls_handshakes.load(Ordering::Relaxed) >= max_connections =>
                {
                    drop(stream);
                    if let Some(held_back) = self.shared.log_limits.refused.check() {
                        log::warn!(
                            target: "tatsu::switch",
                            "refused the connection from {peer}: {max_connections} switch connections already \
                             (max_switch_connections){}",
                            held_back_note(held_back)
                        );
                    }
                }
                Ok((stream, peer)) => {
                    // SAFETY: a freshly accepted socket, owned by nothing else.
                    let adopted =
                        std::panic::catch_unwind(|| unsafe { may::net::TcpStream::from_raw_fd(stream.into_raw_fd()) });
                    match adopted {
                        Ok(stream) if listening.tls => self.serve_tls_accepted(stream, peer),
                        Ok(stream) => self.serve_accepted(stream, peer),
                        Err(_) => log::error!(target: "tatsu::switch", "cannot register the connection from {peer}"),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    listener.wait_io();
                }
                Err(e)
                    if matches!(e.raw_os_error(), Some(nix::libc::EBADF | nix::libc::EINVAL | nix::libc::ENOTSOCK)) =>
                {
                    log::error!(target: "tatsu::switch", "the listening socket is unusable ({e}); no longer accepting");
                    return;
                }
                Err(e) => {
                    log::warn!(target: "tatsu::switch", "accepting a switch connection failed: {e}");
                    green::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Stops accepting and pauses every reader of a datapath in MAIN at a message boundary; waits until they
    /// have (at most `within`). Connections still in their handshake are closed: they will reconnect.
    pub fn pause_all(&self, within: Duration) -> Result<(), String> {
        for listening in self.listeners.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            listening.pause_state().0 = true;
            listening.waker.wakeup();
        }
        let connections = self.all();
        for connection in &connections {
            if connection.is_main() {
                connection.request_pause();
            } else {
                connection.close("the host is restarting");
            }
        }
        let deadline = std::time::Instant::now() + within;
        loop {
            let listeners_paused =
                self.listeners.lock().unwrap_or_else(PoisonError::into_inner).iter().all(|l| l.pause_state().1);
            if listeners_paused && connections.iter().all(|c| c.is_paused()) {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!("readers did not pause within {within:?}"));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Undoes [`Switches::pause_all`].
    pub fn resume_all(&self) {
        for listening in self.listeners.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            listening.pause_state().0 = false;
            if let Some(accept_loop) = listening.accept_loop.get() {
                accept_loop.unpark();
            }
        }
        for connection in self.all() {
            connection.resume();
        }
    }

    /// Waits (at most `within`) until everything apps sent has been written.
    pub fn wait_flushed(&self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while !self.all().iter().all(|c| c.is_flushed()) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    /// Gives up every listening socket and paused connection: returns duplicates of their descriptors (owned by
    /// the caller, to pass on) and the connections' state, for the successor.
    pub fn hand_over(&self) -> (Vec<HandedListener>, Vec<(RawFd, connection::Inherited)>) {
        let listeners: Vec<HandedListener> =
            std::mem::take(&mut *self.listeners.lock().unwrap_or_else(PoisonError::into_inner))
                .iter()
                .filter_map(|listening| {
                    listening.pause_state().2 = true;
                    let fd = dup(listening.fd);
                    if let Some(accept_loop) = listening.accept_loop.get() {
                        accept_loop.unpark();
                    }
                    fd.map(|fd| HandedListener { fd, tls: listening.tls })
                })
                .collect();
        let mut handed = Vec::new();
        for connection in self.all() {
            if let Some((state, fd)) = connection.hand_over() {
                self.forget(&connection);
                if let Some(fd) = dup(fd) {
                    handed.push((fd, state));
                }
            }
        }
        (listeners, handed)
    }

    fn dial_loop(self: &Arc<Self>, address: &str) {
        loop {
            let target = address.to_socket_addrs().ok().and_then(|mut addrs| addrs.next());
            match target.map(may::net::TcpStream::connect) {
                Some(Ok(mut stream)) => {
                    let peer = stream.peer_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                    let established = match &self.settings().tls {
                        None => None,
                        Some(tls) => {
                            match tls::handshake(
                                tls,
                                &mut stream,
                                &Side::Dialled(&peer),
                                self.settings().handshake_timeout,
                            ) {
                                Ok(established) => Some(established),
                                Err(e) => {
                                    self.tls_failed(&peer, &e);
                                    green::sleep(self.settings().connect_retry);
                                    continue;
                                }
                            }
                        }
                    };
                    let connection = self.adopt_and_get(stream, peer, established, true);
                    if let Some(connection) = connection {
                        connection.wait_closed();
                    }
                }
                Some(Err(e)) => log::debug!(target: "tatsu::switch", "connecting to switch {address}: {e}"),
                None => log::warn!(target: "tatsu::switch", "switch address {address} does not resolve"),
            }
            green::sleep(self.settings().connect_retry);
        }
    }

    fn serve_accepted(self: &Arc<Self>, stream: may::net::TcpStream, peer: SocketAddr) {
        let _ = self.adopt_and_get(stream, peer, None, false);
    }

    /// Runs the TLS handshake of an accepted switch on a green thread of its own (so that it never holds up the
    /// accept loop or another switch), then serves it; a failed handshake is one log line naming the peer.
    fn serve_tls_accepted(self: &Arc<Self>, mut stream: may::net::TcpStream, peer: SocketAddr) {
        let Some(tls) = self.settings().tls.clone() else { return };
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
        let switches = Arc::clone(self);
        let spawned = green::spawn_host_with_stack("tls-handshake", tls::HANDSHAKE_STACK_BYTES, move || {
            let _ = stream.set_nodelay(true);
            let timeout = switches.settings().handshake_timeout;
            let result = tls::handshake(&tls, &mut stream, &Side::Accepted, timeout);
            switches.tls_handshakes.fetch_sub(1, Ordering::Relaxed);
            match result {
                Ok(established) => {
                    let _ = switches.adopt_and_get(stream, peer, Some(established), false);
                }
                Err(e) => switches.tls_failed(&peer, &e),
            }
        });
        if let Err(e) = spawned {
            self.tls_handshakes.fetch_sub(1, Ordering::Relaxed);
            log::error!(target: "tatsu::switch", "cannot serve switch {peer}: {e}");
        }
    }

    /// Logs a failed TLS handshake (a few lines a second at most).
    fn tls_failed(&self, peer: &SocketAddr, reason: &str) {
        if let Some(held_back) = self.shared.log_limits.tls_failed.check() {
            log::warn!(
                target: "tatsu::switch",
                "switch {peer} refused: TLS handshake failed: {reason}{}",
                held_back_note(held_back)
            );
        }
    }

    fn adopt_and_get(
        self: &Arc<Self>,
        stream: may::net::TcpStream,
        peer: SocketAddr,
        tls: Option<tls::Established>,
        dialled: bool,
    ) -> Option<Arc<Connection>> {
        let id = self.shared.next_id();
        let _ = stream.set_nodelay(true);
        match Connection::start(&self.shared, id, stream, peer, tls, dialled) {
            Ok(connection) => {
                self.shared.insert(id, &connection);
                Some(connection)
            }
            Err(e) => {
                if let Some(held_back) = self.shared.log_limits.refused.check() {
                    log::error!(target: "tatsu::switch", "cannot serve switch {peer}: {e}{}", held_back_note(held_back));
                }
                None
            }
        }
    }

    /// Every connection, in any state.
    pub fn all(&self) -> Vec<Arc<Connection>> {
        self.shared.all()
    }

    /// The connection of datapath `dpid`, in any state after the features reply.
    pub fn datapath(&self, dpid: u64) -> Option<Arc<Connection>> {
        self.shared.datapath(dpid)
    }

    /// Queues `message` for datapath `dpid` (see [`Connection::send`]); `None` if no connection has that id.
    pub fn send_to(&self, dpid: u64, message: &[u8]) -> Option<Result<(), tatsu_abi::RequestError>> {
        self.shared.with_datapath(dpid, |connection| connection.send(message))
    }

    /// Forgets a connection handed over to a successor.
    fn forget(&self, connection: &Connection) {
        self.shared.forget(connection);
    }

    /// The datapaths in MAIN, described for apps, by datapath id.
    pub fn describe(&self) -> Vec<DatapathDesc> {
        let mut connections = self.shared.datapaths();
        connections.sort_by_key(|connection| connection.dpid());
        connections.iter().filter(|c| c.is_main()).map(|c| c.describe().to_desc(None, false)).collect()
    }
}

impl SwitchesView for Switches {
    fn live(&self) -> Vec<LiveSwitch> {
        self.shared.all().iter().map(|connection| connection.live()).collect()
    }
}

fn bind(host: &str, port: u16) -> Result<may::net::TcpListener, String> {
    let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    match may::net::TcpListener::bind(address.as_str()) {
        Ok(listener) => Ok(listener),
        // A host without IPv6 still listens on every IPv4 address.
        Err(_) if host == "::" => may::net::TcpListener::bind(("0.0.0.0", port))
            .map_err(|e| format!("cannot listen for switches on port {port}: {e}")),
        Err(e) => Err(format!("cannot listen for switches on {address}: {e}")),
    }
}

fn display_addr(listener: &may::net::TcpListener) -> String {
    listener.local_addr().map_or_else(|_| "?".to_owned(), |addr| addr.to_string())
}

/// A duplicate of `fd` that stays open when the original is closed.
fn dup(fd: RawFd) -> Option<RawFd> {
    // SAFETY: `fd` is open: its owner (a listener or connection) is alive while this runs.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    match nix::unistd::dup(borrowed) {
        Ok(owned) => Some(owned.into_raw_fd()),
        Err(e) => {
            log::error!(target: "tatsu::switch", "cannot duplicate descriptor {fd} for the handover: {e}");
            None
        }
    }
}

/// Listening sockets and connections taken on by [`Switches::adopt`], not yet served (the connections' readers and
/// writers are started, and held).
#[must_use = "nothing is served until `start`"]
pub struct Adopted {
    switches: Arc<Switches>,
    listeners: Vec<(may::net::TcpListener, bool)>,
    connections: Vec<Arc<Connection>>,
}

impl Adopted {
    /// How many connections were adopted.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    /// Serves everything: accepts on the listeners, reads and writes each connection from where its previous owner
    /// stopped, then tells apps about each datapath (after every reader runs, so that their work does not delay a
    /// switch's messages).
    pub fn start(self) {
        for (listener, tls) in self.listeners {
            if tls && self.switches.settings().tls.is_none() {
                log::error!(
                    target: "tatsu::switch",
                    "the inherited TLS listening socket {} is closed: this host has no TLS settings",
                    display_addr(&listener)
                );
                continue;
            }
            if let Err(e) = self.switches.listen(listener, tls) {
                log::error!(target: "tatsu::switch", "{e}");
            }
        }
        for connection in &self.connections {
            connection.release();
        }
        for connection in &self.connections {
            connection.announce_resumed();
        }
    }
}
