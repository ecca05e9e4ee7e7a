//! The REST server (Ryu's WSGI service): HTTP/1.1 on the host's own `may` scheduler, one green thread per
//! connection, routes served by apps.
//!
//! A request is matched to the route an app registered ([`routes`]), handed to that app as an HTTP event on its
//! queue, and the connection's green thread parks on the reply exactly like an app-to-app request
//! ([`crate::bus::Bus::http_request`]). The server itself answers what needs no app: 400 for a malformed request,
//! 401 without the bearer token (when one is configured), 404/405 for unknown paths and methods, 411/501 for bodies
//! that are not sent with a `Content-Length`, 413/431 past the size limits, 503 when the app's queue is full or it
//! is stopping, 504 when the app does not answer in time.
//!
//! What a client can make the host spend is bounded ([`WebSettings`]): connections open at once (past the cap a new
//! one gets a ready-made 503 and is closed, without a green thread), the time a request head and a body may take
//! to arrive (408 beyond; trickled bytes extend nothing), the time a connection may idle between requests, and the
//! request body bytes all connections hold at once (a body that does not fit gets a 503 before it is read). Each
//! kind of refusal is logged at most once a second, with the count since the last line.
//!
//! `GET /metrics` is the host's own: the Prometheus text from [`crate::metrics::Metrics::render`] (behind the bearer
//! token like everything else; Prometheus sends it as `Authorization: Bearer`), whatever routes apps serve.
//!
//! A `GET` with `Upgrade: websocket` to a path an app serves as a WebSocket is upgraded instead ([`websocket`]): the
//! bearer token is checked the same way first, and the connection keeps its place under the connection cap.
//!
//! A browser can set no header when it opens a page or a WebSocket, so a `GET` may carry the token as the
//! `access_token` query parameter instead (RFC 6750, section 2.3). The parameter is taken out of the request target
//! as the head is parsed: no log line and no app ever sees it.
//!
//! It is hand-written on `may::net` rather than on `may_minihttp` (0.1.11), which has no request size limits (a
//! client can grow its buffer without bound), answers a malformed request or a 17th header by dropping the
//! connection, takes only `&'static str` headers, has no `Expect: 100-continue`, no `Connection: close`, and no way
//! to take over the socket for a WebSocket upgrade, which the topology view will need. Parsing is `httparse`'s.

mod capture;
pub mod limits;
pub mod routes;
pub mod websocket;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tatsu_abi::{RequestFailure, WaitStatus};

use crate::bus::{Bus, HttpReply, HttpRequest};
use crate::capture::Captures;
use crate::green::{GreenSlot, Runners, ThreadGroup};
use crate::logging::LogLimit;
use crate::metrics::{text, Metrics};
use limits::Counter;
use routes::{NoMatch, Routes};
use websocket::{Endpoint, WebSocketSettings, WebSockets};

/// Settings of the REST server.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Address to listen on (default 127.0.0.1: opening it to the network is an explicit choice).
    pub host: String,
    /// Port to listen on (default 8080; 0 picks a free port).
    pub port: u16,
    /// If set, every request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Start for `GET /metrics` even when no app serves a route or a WebSocket path.
    pub metrics_without_routes: bool,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Largest request line plus headers accepted (431 beyond).
    pub max_head_bytes: usize,
    /// How long an app has to answer a request (504 beyond).
    pub request_timeout: Duration,
    /// How long a keep-alive connection may idle between requests (default 60 s).
    pub idle_timeout: Duration,
    /// Most connections open at once (default 1,024, and at most half the open-file limit): past it a new
    /// connection gets a 503 and is closed.
    pub max_connections: usize,
    /// How long a request line and headers may take to arrive whole, from the connection's start or, between
    /// keep-alive requests, from the head's first byte (default 10 s; 408 beyond).
    pub header_timeout: Duration,
    /// How long a request body may take to arrive after its head, and a response to be taken by the client
    /// (default 30 s; 408, or the connection is closed, beyond).
    pub body_timeout: Duration,
    /// Request body bytes all connections together may hold at once (default 64 MiB): a request whose body does
    /// not fit gets a 503 with `Retry-After` before it is read.
    pub body_budget_bytes: usize,
    /// The limits of WebSocket connections.
    pub websocket: WebSocketSettings,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            token: None,
            metrics_without_routes: false,
            max_body_bytes: 1 << 20,
            max_head_bytes: 16 << 10,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            body_budget_bytes: 64 << 20,
            websocket: WebSocketSettings::default(),
        }
    }
}

impl WebSettings {
    /// Rejects limits that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("wsapi_max_connections must be at least 1".to_owned());
        }
        if self.body_budget_bytes < self.max_body_bytes {
            return Err(format!(
                "wsapi_body_budget_bytes ({}) must be at least wsapi_max_body_bytes ({}): a body the budget can never \
                 hold would always be refused",
                self.body_budget_bytes, self.max_body_bytes
            ));
        }
        let websocket = &self.websocket;
        if websocket.max_frame_bytes == 0 || websocket.max_message_bytes == 0 || websocket.queue_bytes == 0 {
            return Err("the wsapi_websocket_* byte limits must be at least 1".to_owned());
        }
        if websocket.ping_interval.is_zero() {
            return Err("wsapi_websocket_ping_interval must be more than 0".to_owned());
        }
        Ok(())
    }
}

/// Most headers a request may have (431 beyond).
const MAX_HEADERS: usize = 64;

/// Bytes read at a time into a connection's buffer, which holds request heads (bodies are read into their own
/// buffer, sized by `Content-Length` and counted against the body budget): an idle connection holds at most
/// `max_head_bytes` plus this much.
const READ_CHUNK: usize = 4096;

/// How long a connection the server ends may still take to read the last response; what the client sends
/// meanwhile is discarded (closing at once, with unread bytes, would reset the connection and lose the response).
const LINGER: Duration = Duration::from_secs(1);

/// The running server: its settings and the limits all its connections share.
struct Server {
    settings: WebSettings,
    bus: Arc<Bus>,
    routes: Arc<Routes>,
    websockets: Arc<WebSockets>,
    /// The host's own capture routes ([`capture`]).
    captures: Arc<Captures>,
    /// The host's metrics ([`Metrics::render`] at `GET /metrics`).
    metrics: Arc<Metrics>,
    group: Arc<ThreadGroup>,
    /// Open connections, against the cap.
    connections: Arc<Counter>,
    /// Request body bytes being received or held, against the budget.
    bodies: Arc<Counter>,
    /// The 503 a connection past the cap gets, ready-made.
    full: Vec<u8>,
    refused_connections: LogLimit,
    slow_heads: LogLimit,
    slow_bodies: LogLimit,
    over_budget: LogLimit,
    accept_failures: LogLimit,
}

impl Server {
    /// A server for `web`'s routes, WebSockets, captures and metrics, with `settings`.
    fn new(settings: WebSettings, max_connections: usize, web: &Web) -> Server {
        let message = format!("too many REST connections (at most {max_connections}); retry later");
        let full = Response::error(503, &message).with_header("Retry-After", "1".to_owned()).encode(false);
        let group = ThreadGroup::new("tatsu-web", &web.runners);
        web.metrics.watch_group(&group);
        Server {
            group,
            metrics: Arc::clone(&web.metrics),
            connections: Arc::new(Counter::new(max_connections)),
            bodies: Arc::new(Counter::new(settings.body_budget_bytes)),
            settings,
            bus: Arc::clone(&web.bus),
            routes: Arc::clone(&web.routes),
            websockets: Arc::clone(&web.websockets),
            captures: Arc::clone(&web.captures),
            full,
            refused_connections: LogLimit::new(1),
            slow_heads: LogLimit::new(1),
            slow_bodies: LogLimit::new(1),
            over_budget: LogLimit::new(1),
            accept_failures: LogLimit::new(1),
        }
    }

    /// Serves a connection just accepted on a green thread of its own, or refuses it if the cap is reached.
    fn admit(self: &Arc<Self>, stream: std::net::TcpStream, peer: SocketAddr) {
        let Some(admitted) = self.connections.take(1) else {
            return self.refuse(&stream, peer);
        };
        // SAFETY: a freshly accepted socket, owned by nothing else.
        let adopted = std::panic::catch_unwind(|| unsafe { may::net::TcpStream::from_raw_fd(stream.into_raw_fd()) });
        let Ok(stream) = adopted else {
            return self.accept_failed(format_args!("cannot register HTTP client {peer}"));
        };
        let server = Arc::clone(self);
        let spawned = self.group.spawn("http connection", move || {
            let _admitted = admitted;
            Connection { stream, peer, server: &server, buffer: Vec::with_capacity(READ_CHUNK) }.serve();
        });
        if let Err(e) = spawned {
            self.accept_failed(format_args!("cannot serve HTTP client {peer}: {e}"));
        }
    }

    /// Logs a failure to accept a connection or to start serving it (out of descriptors or memory, mostly), at most
    /// once a second.
    fn accept_failed(&self, failure: std::fmt::Arguments<'_>) {
        if let Some(held_back) = self.accept_failures.check() {
            log::warn!(target: "tatsu::web", "{failure}{}", crate::logging::held_back_note(held_back));
        }
    }

    /// Answers a connection past the cap with the ready-made 503 and closes it, without a green thread.
    fn refuse(&self, stream: &std::net::TcpStream, peer: SocketAddr) {
        let mut socket = stream;
        let _ = socket.set_nonblocking(true);
        let _ = socket.write(&self.full);
        let _ = socket.shutdown(Shutdown::Write);
        // Reads what the client sent already, so that closing is a FIN after the 503 rather than a reset.
        let mut discard = [0u8; 2048];
        let _ = socket.read(&mut discard);
        if let Some(held_back) = self.refused_connections.check() {
            let count = held_back + 1;
            log::warn!(
                target: "tatsu::web",
                "refused {count} HTTP connection(s) since the last report: {} are open, the limit \
                 (wsapi_max_connections); the last from {peer}",
                self.connections.limit()
            );
        }
    }
}

/// The REST server's listening socket, with what a hot restart needs to hand it over and take it back.
struct Listening {
    server: Arc<Server>,
    listener: Arc<may::net::TcpListener>,
    state: State,
}

enum State {
    /// The accept loop runs.
    Accepting(Arc<GreenSlot>),
    /// Not accepting: handed over (`duplicate` is the descriptor passed to the successor), or the accept loop
    /// could not be restarted.
    Paused { duplicate: Option<OwnedFd> },
}

/// The REST server: the routes apps serve and, once started, its listening socket.
pub struct Web {
    bus: Arc<Bus>,
    runners: Arc<Runners>,
    metrics: Arc<Metrics>,
    routes: Arc<Routes>,
    websockets: Arc<WebSockets>,
    captures: Arc<Captures>,
    /// The listener, for [`Web::hand_over`], [`Web::take_back`] and [`Web::finish_handover`].
    listening: Mutex<Option<Listening>>,
}

impl Web {
    /// A server (not yet listening) that hands requests to apps through `bus`, its connections on green threads
    /// run by `runners`, serves the capture switch of `captures` itself, and `metrics` at `GET /metrics`.
    pub fn new(bus: Arc<Bus>, runners: Arc<Runners>, captures: Arc<Captures>, metrics: Arc<Metrics>) -> Web {
        Web {
            bus,
            runners,
            metrics,
            routes: Arc::new(Routes::default()),
            websockets: Arc::default(),
            captures,
            listening: Mutex::new(None),
        }
    }

    /// The routes apps serve.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// The WebSocket paths apps serve, and their clients.
    pub fn websockets(&self) -> &WebSockets {
        &self.websockets
    }

    fn listening(&self) -> MutexGuard<'_, Option<Listening>> {
        self.listening.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the server if any app serves a route or a WebSocket path, or captures can be switched (a capture
    /// directory is set); returns the address it listens on.
    pub fn start(&self, settings: WebSettings, inherited: Option<RawFd>) -> Result<Option<SocketAddr>, String> {
        if self.routes.is_empty()
            && self.websockets.is_empty()
            && self.captures.dir().is_none()
            && !settings.metrics_without_routes
        {
            if let Some(fd) = inherited {
                // SAFETY: the predecessor handed this socket over; nothing else here owns it. No app serves HTTP now.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            log::debug!(target: "tatsu::web", "no app serves an HTTP route: the REST server is not started");
            return Ok(None);
        }
        let address = if settings.host.contains(':') {
            format!("[{}]:{}", settings.host, settings.port)
        } else {
            format!("{}:{}", settings.host, settings.port)
        };
        // Bound by std rather than by `may::net::TcpListener::bind`, which sets SO_REUSEPORT: a second listener on
        // the port (a stray process, a leaked descriptor) must fail to bind, not take every other connection.
        let fd = match inherited {
            Some(fd) => fd,
            None => std::net::TcpListener::bind(address.as_str())
                .map_err(|e| format!("cannot listen for HTTP on {address} (--wsapi-host/--wsapi-port): {e}"))?
                .into_raw_fd(),
        };
        // SAFETY: a listening socket bound above or handed over by the predecessor; nothing else here owns it.
        let listener = std::panic::catch_unwind(|| unsafe { may::net::TcpListener::from_raw_fd(fd) })
            .map_err(|_| "cannot register the REST server's listening socket".to_owned())?;
        let local = listener.local_addr().map_err(|e| format!("REST server on {address}: {e}"))?;
        log::info!(target: "tatsu::web", "REST API listening on http://{local}");
        if settings.token.is_none() && !local.ip().is_loopback() {
            log::warn!(target: "tatsu::web", "the REST API is open to the network without a token (--wsapi-token)");
        }
        let open_files = limits::open_file_limit();
        let max_connections = limits::connection_cap(settings.max_connections, open_files);
        if max_connections < settings.max_connections {
            log::warn!(
                target: "tatsu::web",
                "at most {max_connections} REST connections, not {} (wsapi_max_connections): that is half the open-file \
                 limit ({}), the rest is kept for switches; raise `ulimit -n` (LimitNOFILE=) for more",
                settings.max_connections,
                open_files.unwrap_or(0)
            );
        }
        log::debug!(
            target: "tatsu::web",
            "REST limits: {max_connections} connections, heads {:?}, bodies {:?}, idle {:?}, {} body bytes held at once",
            settings.header_timeout,
            settings.body_timeout,
            settings.idle_timeout,
            settings.body_budget_bytes
        );
        self.websockets.configure(settings.websocket.clone());
        let server = Arc::new(Server::new(settings, max_connections, self));
        let listener = Arc::new(listener);
        let acceptor = start_accepting(&server, &listener).map_err(|e| format!("cannot start the REST server: {e}"))?;
        *self.listening() = Some(Listening { server, listener, state: State::Accepting(acceptor) });
        Ok(Some(local))
    }

    /// Hot restart, handing over: stops accepting REST connections and returns a duplicate of the listening socket to
    /// pass to the successor. This process keeps its own descriptor, open but not accepting, until [`Web::take_back`] (the
    /// successor failed) or [`Web::finish_handover`] (it took over); the duplicate stays owned by this module: do not close
    /// it. Called again before either, it returns the same duplicate. `None` if no REST server runs, or if the
    /// duplicate cannot be made (the server then keeps accepting).
    pub fn hand_over(&self) -> Option<RawFd> {
        let mut guard = self.listening();
        let listening = guard.as_mut()?;
        if let State::Paused { duplicate: Some(duplicate) } = &listening.state {
            return Some(duplicate.as_raw_fd());
        }
        // Close-on-exec, so that no process this host starts later inherits it.
        // SAFETY: the listener stays open while `listening` holds it, which outlives this borrow.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(listening.listener.as_raw_fd()) };
        let duplicate = match borrowed.try_clone_to_owned() {
            Ok(duplicate) => duplicate,
            Err(e) => {
                log::warn!(target: "tatsu::web", "cannot duplicate the REST listening socket for the successor: {e}");
                return None;
            }
        };
        if let State::Accepting(acceptor) = &listening.state {
            stop_accepting(acceptor);
        }
        let fd = duplicate.as_raw_fd();
        listening.state = State::Paused { duplicate: Some(duplicate) };
        Some(fd)
    }

    /// Hot restart, when the successor failed before it confirmed the takeover (and is gone): closes the duplicate
    /// [`Web::hand_over`] made for it and serves the listening socket again, with the same settings and limits. Does
    /// nothing while this process accepts (called twice, or without a handover) or after [`Web::finish_handover`].
    pub fn take_back(&self) {
        let mut guard = self.listening();
        let Some(listening) = guard.as_mut() else { return };
        if matches!(listening.state, State::Accepting(_)) {
            return;
        }
        // Closes the successor's duplicate.
        listening.state = State::Paused { duplicate: None };
        match start_accepting(&listening.server, &listening.listener) {
            Ok(acceptor) => {
                listening.state = State::Accepting(acceptor);
                let local = listening.listener.local_addr().map_or_else(|e| e.to_string(), |a| a.to_string());
                log::info!(target: "tatsu::web", "the REST API is served by this host again, on http://{local}");
            }
            Err(e) => {
                log::error!(target: "tatsu::web", "cannot serve the REST API again after the failed restart: {e}")
            }
        }
    }

    /// Hot restart, once the successor has confirmed the takeover: closes this process's REST listening descriptors
    /// (its own and the duplicate passed on), so that the successor's is the only one. Connections already accepted
    /// are served to their end. Idempotent; [`Web::hand_over`] and [`Web::take_back`] do nothing afterwards.
    pub fn finish_handover(&self) {
        let taken = self.listening().take();
        if let Some(Listening { state: State::Accepting(acceptor), .. }) = &taken {
            stop_accepting(acceptor);
        }
    }
}

fn start_accepting(server: &Arc<Server>, listener: &Arc<may::net::TcpListener>) -> io::Result<Arc<GreenSlot>> {
    let (server, listener) = (Arc::clone(server), Arc::clone(listener));
    let group = Arc::clone(&server.group);
    group.spawn("http listener", move || accept_loop(&listener, &server))
}

fn accept_loop(listener: &may::net::TcpListener, server: &Arc<Server>) {
    let me = crate::green::current();
    // Checked on every turn: a stream of new connections must not keep a stopped loop accepting.
    while !me.as_deref().is_some_and(GreenSlot::must_stop) {
        match listener.inner().accept() {
            Ok((stream, peer)) => server.admit(stream, peer),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if crate::green::wait_io(listener, None) == WaitStatus::Stopping {
                    return;
                }
            }
            Err(e) => {
                // Out of descriptors, mostly: wait a little rather than spin.
                server.accept_failed(format_args!("accepting an HTTP connection failed: {e}"));
                crate::green::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Stops an accept loop and waits (a second at most) until it has returned, so that it accepts nothing more.
fn stop_accepting(acceptor: &GreenSlot) {
    acceptor.request_stop();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !acceptor.is_finished() && Instant::now() < deadline {
        may::coroutine::sleep(Duration::from_millis(1));
    }
}

/// A response the server writes.
struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    extra_headers: Vec<(&'static str, String)>,
}

impl Response {
    fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json".to_owned(),
            body: value.to_string().into_bytes(),
            extra_headers: Vec::new(),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "application/json".to_owned(),
            body: serde_json::json!({ "error": message }).to_string().into_bytes(),
            extra_headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Response {
        self.extra_headers.push((name, value));
        self
    }

    /// The response as sent; with `Connection: close` unless `keep_alive`.
    fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 160);
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.extra_headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

impl From<HttpReply> for Response {
    fn from(reply: HttpReply) -> Response {
        Response { status: reply.status, content_type: reply.content_type, body: reply.body, extra_headers: Vec::new() }
    }
}

/// The reason phrase of a status code.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// What the server needs from a request's head, owned.
struct Head {
    method: String,
    target: String,
    keep_alive: bool,
    content_length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
    authorization: Option<String>,
    /// The `access_token` query parameter, percent-decoded (taken out of `target`).
    access_token: Option<String>,
    content_type: Option<String>,
    /// What a WebSocket upgrade needs.
    upgrade: websocket::UpgradeHead,
}

enum HeadError {
    /// 400 (malformed) or 431 (too many headers), with a message.
    Reject(u16, String),
}

fn parse_head(bytes: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let consumed = match request.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HeadError::Reject(431, format!("more than {MAX_HEADERS} headers")))
        }
        Err(e) => return Err(HeadError::Reject(400, format!("malformed HTTP request: {e}"))),
    };
    let version = request.version.unwrap_or(1);
    let (target, access_token) = take_access_token(request.path.unwrap_or("/"));
    let mut head = Head {
        method: request.method.unwrap_or("").to_owned(),
        target,
        access_token,
        keep_alive: version == 1,
        content_length: None,
        chunked: false,
        expect_continue: false,
        authorization: None,
        content_type: None,
        upgrade: websocket::UpgradeHead { http11: version == 1, ..Default::default() },
    };
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value).map(str::trim);
        let name = header.name;
        head.upgrade.header(name, value.unwrap_or(""));
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or_else(|| HeadError::Reject(400, "invalid Content-Length".to_owned()))?;
            if head.content_length.is_some_and(|previous| previous != length) {
                return Err(HeadError::Reject(400, "conflicting Content-Length headers".to_owned()));
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.unwrap_or("").to_ascii_lowercase();
            if value.split(',').any(|token| token.trim() == "close") {
                head.keep_alive = false;
            } else if value.split(',').any(|token| token.trim() == "keep-alive") {
                head.keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.is_ok_and(|v| v.eq_ignore_ascii_case("100-continue"));
        } else if name.eq_ignore_ascii_case("authorization") {
            head.authorization = value.ok().map(str::to_owned);
        } else if name.eq_ignore_ascii_case("content-type") {
            head.content_type = value.ok().map(str::to_owned);
        }
    }
    Ok(Some((head, consumed)))
}

/// Splits the `access_token` query parameter (RFC 6750's) off a request target: the target without it, and its
/// percent-decoded value (the last, if it is given more than once).
fn take_access_token(target: &str) -> (String, Option<String>) {
    let Some((path, query)) = target.split_once('?') else { return (target.to_owned(), None) };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("access_token=") {
            Some(value) => {
                token = Some(tatsu_abi::percent_decode(value, true));
                false
            }
            None => *pair != "access_token",
        })
        .collect();
    match kept.is_empty() {
        true => (path.to_owned(), token),
        false => (format!("{path}?{}", kept.join("&")), token),
    }
}

/// Compares without stopping at the first difference.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Runs a non-blocking operation on `stream` until it completes, waiting for readiness until `deadline` (then a
/// `TimedOut` error).
fn before<T>(
    stream: &may::net::TcpStream,
    deadline: Instant,
    mut operation: impl FnMut(&std::net::TcpStream) -> io::Result<T>,
) -> io::Result<T> {
    loop {
        match operation(stream.inner()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            done => return done,
        }
        match crate::green::wait_io(stream, Some(deadline)) {
            WaitStatus::Woken => {}
            WaitStatus::TimedOut => return Err(io::ErrorKind::TimedOut.into()),
            WaitStatus::Stopping | WaitStatus::Interrupted => {
                return Err(io::Error::other("the REST server is stopping"))
            }
        }
    }
}

fn timed_out(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::TimedOut
}

struct Connection<'a> {
    stream: may::net::TcpStream,
    peer: SocketAddr,
    server: &'a Server,
    /// Bytes read and not yet used: (part of) a request head, and what follows it.
    buffer: Vec<u8>,
}

impl Connection<'_> {
    fn serve(mut self) {
        let _ = self.stream.set_nodelay(true);
        // The first request's head must be whole within the header timeout of the connection's start.
        let mut head_deadline = Some(Instant::now() + self.server.settings.header_timeout);
        loop {
            match self.one_request(head_deadline.take()) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    log::debug!(target: "tatsu::web", "HTTP client {}: {e}", self.peer);
                    break;
                }
            }
        }
        self.close();
    }

    /// Ends the connection: sends a FIN, then discards what the client still sends for [`LINGER`] at most, so that
    /// it reads the last response rather than a reset.
    fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + LINGER;
        let mut discard = [0u8; 1024];
        while before(&self.stream, deadline, |mut socket| socket.read(&mut discard)).is_ok_and(|n| n > 0) {}
    }

    /// Reads what has arrived (up to [`READ_CHUNK`] bytes) into the buffer, waiting until `deadline` at most;
    /// `false` at end of stream.
    fn fill(&mut self, deadline: Instant) -> io::Result<bool> {
        let start = self.buffer.len();
        self.buffer.resize(start + READ_CHUNK, 0);
        let read = before(&self.stream, deadline, |mut socket| socket.read(&mut self.buffer[start..]));
        self.buffer.truncate(start + *read.as_ref().unwrap_or(&0));
        read.map(|n| n > 0)
    }

    /// Writes `bytes`; the client has the body timeout to take them.
    fn send(&self, mut bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + self.server.settings.body_timeout;
        while !bytes.is_empty() {
            match before(&self.stream, deadline, |mut socket| socket.write(bytes))? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => bytes = &bytes[n..],
            }
        }
        Ok(())
    }

    fn write(&self, response: &Response, keep_alive: bool) -> io::Result<()> {
        self.send(&response.encode(keep_alive))
    }

    /// Writes a response and ends the connection.
    fn reject(&self, response: Response) -> io::Result<bool> {
        self.write(&response, false)?;
        Ok(false)
    }

    /// The head did not arrive whole in time: 408 (or, if nothing came at all, just the close).
    fn head_too_slow(&self) -> io::Result<bool> {
        let timeout = self.server.settings.header_timeout;
        if let Some(held_back) = self.server.slow_heads.check() {
            let count = held_back + 1;
            log::warn!(
                target: "tatsu::web",
                "closed {count} HTTP connection(s) since the last report whose request head did not arrive whole \
                 within {timeout:?} (wsapi_header_timeout); the last from {}",
                self.peer
            );
        }
        if self.buffer.is_empty() {
            return Ok(false);
        }
        self.reject(Response::error(408, &format!("the request head did not arrive within {timeout:?}")))
    }

    /// The body did not arrive whole in time: 408.
    fn body_too_slow(&self, missing: usize) -> io::Result<bool> {
        let timeout = self.server.settings.body_timeout;
        if let Some(held_back) = self.server.slow_bodies.check() {
            let count = held_back + 1;
            log::warn!(
                target: "tatsu::web",
                "closed {count} HTTP connection(s) since the last report whose request body did not arrive whole \
                 within {timeout:?} (wsapi_body_timeout); the last from {}, {missing} bytes short",
                self.peer
            );
        }
        self.reject(Response::error(408, &format!("the request body did not arrive within {timeout:?}")))
    }

    /// The body does not fit in the budget of bytes held at once: 503 before it is read.
    fn over_budget(&self, length: usize) -> io::Result<bool> {
        let budget = self.server.bodies.limit();
        if let Some(held_back) = self.server.over_budget.check() {
            let count = held_back + 1;
            log::warn!(
                target: "tatsu::web",
                "refused {count} HTTP request(s) since the last report (503): their bodies did not fit in the \
                 {budget} bytes all requests may hold at once (wsapi_body_budget_bytes); the last from {}, {length} \
                 bytes",
                self.peer
            );
        }
        let message = format!("the server holds too many request bodies right now ({length} more bytes do not fit)");
        self.reject(Response::error(503, &message).with_header("Retry-After", "1".to_owned()))
    }

    /// Serves one request; `Ok(false)` when the connection is to be closed. `head_deadline` is when the head must
    /// be whole; without one, the connection may first idle for the idle timeout, and the head then has the
    /// header timeout from its first byte.
    fn one_request(&mut self, head_deadline: Option<Instant>) -> io::Result<bool> {
        let server = self.server;
        let settings = &server.settings;
        let head_deadline = match head_deadline {
            Some(deadline) => deadline,
            None => {
                if self.buffer.is_empty() {
                    match self.fill(Instant::now() + settings.idle_timeout) {
                        Ok(true) => {}
                        Ok(false) => return Ok(false),
                        Err(e) if timed_out(&e) => {
                            log::debug!(target: "tatsu::web", "HTTP client {}: idle for {:?}", self.peer, settings.idle_timeout);
                            return Ok(false);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Instant::now() + settings.header_timeout
            }
        };
        let head_too_large = || {
            let message = format!("request line and headers exceed {} bytes", settings.max_head_bytes);
            Response::error(431, &message)
        };
        let (head, head_len) = loop {
            match parse_head(&self.buffer) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) if self.buffer.len() > settings.max_head_bytes => return self.reject(head_too_large()),
                Ok(None) => {}
                Err(HeadError::Reject(status, message)) => return self.reject(Response::error(status, &message)),
            }
            // Parsed again only once a line is complete: a head trickled in byte by byte costs a parse per line,
            // not per byte.
            loop {
                let before = self.buffer.len();
                match self.fill(head_deadline) {
                    Ok(true) => {}
                    Ok(false) => return Ok(false),
                    Err(e) if timed_out(&e) => return self.head_too_slow(),
                    Err(e) => return Err(e),
                }
                if self.buffer[before..].contains(&b'\n') || self.buffer.len() > settings.max_head_bytes {
                    break;
                }
            }
        };
        if head_len > settings.max_head_bytes {
            return self.reject(head_too_large());
        }
        self.buffer.drain(..head_len);
        let started = Instant::now();

        if head.chunked {
            let message = "chunked request bodies are not supported: send a Content-Length";
            return self.reject(Response::error(if head.content_length.is_some() { 400 } else { 501 }, message));
        }
        let length = head.content_length.unwrap_or(0);
        if length > settings.max_body_bytes {
            let message = format!("the body ({length} bytes) exceeds the limit of {} bytes", settings.max_body_bytes);
            return self.reject(Response::error(413, &message));
        }
        if let Some(token) = &settings.token {
            let header = head.authorization.as_deref().and_then(|value| {
                let (scheme, credentials) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(credentials.trim())
            });
            // Only what a browser opens (pages, WebSockets) may carry it in the URL; changes need the header.
            let query = head.access_token.as_deref().filter(|_| head.method == "GET");
            let given = header.or(query);
            if !given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
                let response = Response::error(401, "missing or wrong bearer token")
                    .with_header("WWW-Authenticate", "Bearer realm=\"tatsu\"".to_owned());
                return self.reject(response);
            }
        }
        if head.upgrade.websocket {
            let path = head.target.split_once('?').map_or(head.target.as_str(), |(path, _)| path);
            if let Some(endpoint) = server.websockets.find(path) {
                return self.upgrade(&head, &endpoint, length);
            }
        }
        // The body counts against the budget from before it is read until the request is answered.
        let Some(_held) = server.bodies.take(length) else {
            return self.over_budget(length);
        };
        let body_deadline = Instant::now() + settings.body_timeout;
        if head.expect_continue && self.buffer.len() < length {
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let buffered = self.buffer.len().min(length);
        let mut body = Vec::with_capacity(length);
        body.extend(self.buffer.drain(..buffered));
        body.resize(length, 0);
        let mut filled = buffered;
        while filled < length {
            match before(&self.stream, body_deadline, |mut socket| socket.read(&mut body[filled..])) {
                Ok(0) => return Ok(false),
                Ok(n) => filled += n,
                Err(e) if timed_out(&e) => return self.body_too_slow(length - filled),
                Err(e) => return Err(e),
            }
        }

        let response = self.dispatch(&head, body);
        log::debug!(
            target: "tatsu::web",
            "{} {} {} {} -> {} ({} bytes, {:?})",
            self.peer,
            head.method,
            head.target,
            length,
            response.status,
            response.body.len(),
            started.elapsed()
        );
        self.write(&response, head.keep_alive)?;
        Ok(head.keep_alive)
    }

    /// Upgrades the connection to a WebSocket served by `endpoint` (after the token was checked) and serves it to
    /// its end; or refuses the upgrade.
    fn upgrade(&mut self, head: &Head, endpoint: &Arc<Endpoint>, length: usize) -> io::Result<bool> {
        if head.method != "GET" || length != 0 {
            return self.reject(Response::error(400, "a WebSocket upgrade is a GET without a body"));
        }
        let accept = match head.upgrade.accept() {
            Ok(accept) => accept,
            Err(refusal) => {
                let mut response = Response::error(refusal.status, refusal.message);
                if let Some((name, value)) = refusal.header {
                    response = response.with_header(name, value.to_owned());
                }
                return self.reject(response);
            }
        };
        self.send(websocket::switching_protocols(&accept).as_bytes())?;
        let server = self.server;
        let buffer = std::mem::take(&mut self.buffer);
        let write_timeout = server.settings.body_timeout;
        websocket::serve(&server.websockets, endpoint, &server.group, &self.stream, self.peer, buffer, write_timeout);
        Ok(false)
    }

    fn dispatch(&self, head: &Head, body: Vec<u8>) -> Response {
        let (path, query) = head.target.split_once('?').unwrap_or((head.target.as_str(), ""));
        if !path.starts_with('/') {
            return Response::error(400, "the request target must be a path");
        }
        if path.starts_with(capture::PREFIX) {
            if let Some(response) = capture::answer(&self.server.captures, &head.method, path, &body) {
                return response;
            }
        }
        if path == "/metrics" && head.method == "GET" {
            let body = self.server.metrics.render().into_bytes();
            return Response {
                status: 200,
                content_type: text::CONTENT_TYPE.to_owned(),
                body,
                extra_headers: Vec::new(),
            };
        }
        let matched = match self.server.routes.find(&head.method, path) {
            Ok(matched) => matched,
            Err(NoMatch::NotFound) if self.server.websockets.find(path).is_some() => {
                let message = format!("{path} serves WebSocket only: send a WebSocket upgrade");
                return Response::error(426, &message).with_header("Upgrade", "websocket".to_owned());
            }
            Err(NoMatch::NotFound) => return Response::error(404, &format!("no route for {path}")),
            Err(NoMatch::MethodNotAllowed(allowed)) => {
                let message = format!("{} is not allowed on {path} (allowed: {})", head.method, allowed.join(", "));
                return Response::error(405, &message).with_header("Allow", allowed.join(", "));
            }
        };
        let request = HttpRequest {
            method: head.method.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            params: matched.params.into_iter().collect(),
            content_type: head.content_type.clone(),
            body: Bytes::from(body),
        };
        let timeout = self.server.settings.request_timeout;
        match self.server.bus.http_request(&matched.app, matched.route, request, timeout) {
            Ok(reply) => reply.into(),
            Err(failed) => {
                let status = match failed.failure {
                    RequestFailure::QueueFull | RequestFailure::Stopping | RequestFailure::Interrupted => 503,
                    RequestFailure::TimedOut => 504,
                    _ => 500,
                };
                Response::error(status, &failed.detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<(Head, usize)>, HeadError> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn heads_are_parsed_with_keep_alive_and_lengths() {
        let (parsed, used) = match head("POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") {
            Ok(Some(parsed)) => parsed,
            _ => panic!("complete head"),
        };
        assert_eq!(used, 52);
        assert_eq!((parsed.method.as_str(), parsed.target.as_str()), ("POST", "/a?b=1"));
        assert_eq!(parsed.content_length, Some(5));
        assert!(parsed.keep_alive);
        let Ok(Some((close, _))) = head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") else { panic!("complete") };
        assert!(!close.keep_alive);
        let Ok(Some((old, _))) = head("GET / HTTP/1.0\r\n\r\n") else { panic!("complete") };
        assert!(!old.keep_alive);
        assert!(matches!(head("GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None)));
        assert!(matches!(head("\x01\x02 garbage\r\n\r\n"), Err(HeadError::Reject(400, _))));
        assert!(matches!(head("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Err(HeadError::Reject(400, _))));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS + 1));
        assert!(matches!(head(&many), Err(HeadError::Reject(431, _))));
    }

    #[test]
    fn limits_that_cannot_work_are_rejected() {
        assert_eq!(WebSettings::default().check(), Ok(()));
        let no_connections = WebSettings { max_connections: 0, ..WebSettings::default() };
        assert!(no_connections.check().is_err_and(|e| e.contains("wsapi_max_connections")));
        let small_budget = WebSettings { body_budget_bytes: 1000, max_body_bytes: 1001, ..WebSettings::default() };
        assert!(small_budget.check().is_err_and(|e| e.contains("wsapi_body_budget_bytes")));
    }

    #[test]
    fn the_refusal_past_the_cap_is_a_whole_503_that_closes() {
        let web = Web::new(Arc::default(), Runners::new(0), Captures::new(None), Arc::default());
        let server = Server::new(WebSettings::default(), 3, &web);
        let text = String::from_utf8(server.full.clone()).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{head}");
        assert!(head.contains("\r\nRetry-After: 1") && head.ends_with("\r\nConnection: close"), "{head}");
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())), "{head}");
        assert!(body.contains("at most 3"), "{body}");
    }

    #[test]
    fn the_access_token_parameter_is_taken_out_of_the_target() {
        let take = |target: &str| take_access_token(target);
        assert_eq!(take("/"), ("/".to_owned(), None));
        assert_eq!(take("/?access_token=se%2Bsa+me"), ("/".to_owned(), Some("se+sa me".to_owned())));
        assert_eq!(take("/a?x=1&access_token=t&y=2"), ("/a?x=1&y=2".to_owned(), Some("t".to_owned())));
        assert_eq!(take("/a?access_token"), ("/a".to_owned(), None));
        assert_eq!(take("/a?my_access_token=t"), ("/a?my_access_token=t".to_owned(), None));
        let Ok(Some((parsed, _))) = head("GET /ws?access_token=abc&v=1 HTTP/1.1\r\n\r\n") else { panic!("complete") };
        assert_eq!((parsed.target.as_str(), parsed.access_token.as_deref()), ("/ws?v=1", Some("abc")));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
