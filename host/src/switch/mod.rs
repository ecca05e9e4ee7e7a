//! Switches: listening for (and dialling) OpenFlow switches, the handshake, keepalive, and the table of connected
//! datapaths that apps send to.
//!
//! Each connection has one reader and one writer green thread ([`connection`]); one keepalive green thread watches
//! them all ([`keepalive`]). A switch moves through HANDSHAKE → CONFIG → MAIN → DEAD; each change is a `state`
//! datapath event, entering MAIN an `enter` event (with features and ports) and leaving it a `leave` event.
//!
//! Send queue: messages apps send to a switch are appended to that connection's outbox, which its writer drains
//! into the socket in as few writes as possible. The outbox holds at most `send_queue_bytes`; past that, a send
//! fails at once with "send queue full" (counted and logged) instead of growing memory or blocking the app, so one
//! slow switch never stalls an app or the other switches.

pub mod connection;
mod keepalive;
pub mod wire;

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use serde_json::Value;

use crate::green;
use connection::Connection;

/// Settings of the switch side.
#[derive(Debug, Clone)]
pub struct SwitchSettings {
    /// Address to listen on (`::` listens on every IPv6 and IPv4 address).
    pub listen_host: String,
    /// Ports to listen on; empty: do not listen.
    pub listen_ports: Vec<u16>,
    /// Switches to connect to actively (`host:port`), retried until they answer.
    pub switch_addresses: Vec<String>,
    /// How often to retry an active connection.
    pub connect_retry: Duration,
    /// Idle time after which the host sends an echo request.
    pub echo_interval: Duration,
    /// Unanswered echo requests after which the switch is dropped.
    pub echo_max_misses: u32,
    /// Time a switch has to reach MAIN.
    pub handshake_timeout: Duration,
    /// Bytes a switch's send queue holds.
    pub send_queue_bytes: usize,
    /// `miss_send_len` in the SET_CONFIG sent to every switch.
    pub miss_send_len: u16,
}

/// The connected switches.
#[derive(Default)]
pub struct Switches {
    settings: OnceLock<SwitchSettings>,
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
    datapaths: RwLock<HashMap<u64, Arc<Connection>>>,
    next_connection_id: AtomicU64,
}

impl Switches {
    /// The settings (defaults until [`Switches::start`]).
    pub fn settings(&self) -> &SwitchSettings {
        self.settings.get_or_init(|| SwitchSettings {
            listen_host: "::".to_owned(),
            listen_ports: Vec::new(),
            switch_addresses: Vec::new(),
            connect_retry: Duration::from_secs(1),
            echo_interval: Duration::from_secs(5),
            echo_max_misses: 3,
            handshake_timeout: Duration::from_secs(10),
            send_queue_bytes: 4 << 20,
            miss_send_len: 128,
        })
    }

    /// Starts listening and dialling; fails if no listening socket can be bound.
    pub fn start(&'static self, settings: SwitchSettings) -> Result<(), String> {
        let _ = self.settings.set(settings);
        let settings = self.settings();
        for port in &settings.listen_ports {
            let listener = bind(&settings.listen_host, *port)?;
            log::info!(target: "tatsu::switch", "listening for switches on {}", display_addr(&listener));
            spawn_host_thread("listener", move || self.accept_loop(listener))?;
        }
        for address in settings.switch_addresses.clone() {
            spawn_host_thread("dialler", move || self.dial_loop(&address))?;
        }
        spawn_host_thread("keepalive", move || keepalive::run(self))?;
        Ok(())
    }

    fn accept_loop(&'static self, listener: may::net::TcpListener) {
        loop {
            match listener.accept() {
                Ok((stream, peer)) => self.adopt(stream, peer),
                Err(e) => {
                    log::warn!(target: "tatsu::switch", "accepting a switch connection failed: {e}");
                    green::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn dial_loop(&'static self, address: &str) {
        loop {
            let target = address.to_socket_addrs().ok().and_then(|mut addrs| addrs.next());
            match target.map(may::net::TcpStream::connect) {
                Some(Ok(stream)) => {
                    let peer = stream.peer_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                    let connection = self.adopt_and_get(stream, peer);
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

    fn adopt(&'static self, stream: may::net::TcpStream, peer: SocketAddr) {
        let _ = self.adopt_and_get(stream, peer);
    }

    fn adopt_and_get(&'static self, stream: may::net::TcpStream, peer: SocketAddr) -> Option<Arc<Connection>> {
        let id = self.next_connection_id.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = stream.set_nodelay(true);
        match Connection::start(self, id, stream, peer) {
            Ok(connection) => {
                self.connections().insert(id, Arc::clone(&connection));
                Some(connection)
            }
            Err(e) => {
                log::error!(target: "tatsu::switch", "cannot serve switch {peer}: {e}");
                None
            }
        }
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.connections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every live connection.
    pub fn all(&self) -> Vec<Arc<Connection>> {
        self.connections().values().cloned().collect()
    }

    /// The connection of datapath `dpid`, if it is connected (past CONFIG).
    pub fn datapath(&self, dpid: u64) -> Option<Arc<Connection>> {
        self.datapaths.read().unwrap_or_else(PoisonError::into_inner).get(&dpid).cloned()
    }

    /// Records `connection` as datapath `dpid`; returns the connection it replaces, if any.
    pub(crate) fn register_datapath(&self, dpid: u64, connection: &Arc<Connection>) -> Option<Arc<Connection>> {
        let mut datapaths = self.datapaths.write().unwrap_or_else(PoisonError::into_inner);
        datapaths.insert(dpid, Arc::clone(connection)).filter(|old| old.id != connection.id)
    }

    /// Forgets a closed connection.
    pub(crate) fn forget(&self, connection: &Connection) {
        self.connections().remove(&connection.id);
        if let Some(dpid) = connection.dpid() {
            let mut datapaths = self.datapaths.write().unwrap_or_else(PoisonError::into_inner);
            if datapaths.get(&dpid).is_some_and(|current| current.id == connection.id) {
                datapaths.remove(&dpid);
            }
        }
    }

    /// The datapaths in MAIN, described as JSON objects, by datapath id.
    pub fn describe(&self) -> Vec<Value> {
        let mut connections: Vec<Arc<Connection>> =
            self.datapaths.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        connections.sort_by_key(|connection| connection.dpid());
        connections.iter().filter(|c| c.is_main()).map(|c| c.describe()).collect()
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

/// Starts a host-owned green thread (not part of any app).
pub(crate) fn spawn_host_thread<F: FnOnce() + Send + 'static>(name: &str, body: F) -> Result<(), String> {
    // SAFETY: host green threads use no thread-local storage across yields and are never cancelled.
    unsafe { may::coroutine::Builder::new().name(format!("tatsu-{name}")).spawn(body) }
        .map(|_| ())
        .map_err(|e| format!("cannot start the {name} green thread: {e}"))
}
