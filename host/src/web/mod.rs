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
//! It is hand-written on `may::net` rather than on `may_minihttp` (0.1.11), which has no request size limits (a
//! client can grow its buffer without bound), answers a malformed request or a 17th header by dropping the
//! connection, takes only `&'static str` headers, has no `Expect: 100-continue`, no `Connection: close`, and no way
//! to take over the socket for a WebSocket upgrade, which the topology view will need. Parsing is `httparse`'s.

pub mod routes;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tatsu_plugin_api::abi::{RequestFailure, WaitStatus};

use crate::bus::HttpReply;
use crate::green::{GreenSlot, ThreadGroup};
use crate::runtime;
use routes::NoMatch;

/// Settings of the REST server.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Address to listen on (default 127.0.0.1: opening it to the network is an explicit choice).
    pub host: String,
    /// Port to listen on (default 8080; 0 picks a free port).
    pub port: u16,
    /// If set, every request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Largest request line plus headers accepted (431 beyond).
    pub max_head_bytes: usize,
    /// How long an app has to answer a request (504 beyond).
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    pub idle_timeout: Duration,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            token: None,
            max_body_bytes: 1 << 20,
            max_head_bytes: 16 << 10,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Most headers a request may have (431 beyond).
const MAX_HEADERS: usize = 64;

/// Starts the server if any app serves a route; returns the address it listens on.
pub fn start(settings: WebSettings, inherited: Option<RawFd>) -> Result<Option<SocketAddr>, String> {
    if runtime::get().bus.http_routes.is_empty() {
        if let Some(fd) = inherited {
            // SAFETY: the predecessor handed this socket over; nothing else here owns it. No app serves HTTP now.
            drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
        }
        log::debug!(target: "tatsu::web", "no app serves an HTTP route: the REST server is not started");
        return Ok(None);
    }
    let address = if settings.host.contains(':') {
        format!("[{}]:{}", settings.host, settings.port)
    } else {
        format!("{}:{}", settings.host, settings.port)
    };
    let listener = match inherited {
        // SAFETY: as above, a listening socket handed over by the predecessor.
        Some(fd) => std::panic::catch_unwind(|| unsafe { may::net::TcpListener::from_raw_fd(fd) })
            .map_err(|_| "cannot adopt the REST server's inherited listening socket".to_owned())?,
        None => may::net::TcpListener::bind(address.as_str())
            .map_err(|e| format!("cannot listen for HTTP on {address} (--wsapi-host/--wsapi-port): {e}"))?,
    };
    let local = listener.local_addr().map_err(|e| format!("REST server on {address}: {e}"))?;
    log::info!(target: "tatsu::web", "REST API listening on http://{local}");
    if settings.token.is_none() && !listener.local_addr().is_ok_and(|a| a.ip().is_loopback()) {
        log::warn!(target: "tatsu::web", "the REST API is open to the network without a token (--wsapi-token)");
    }
    let group = ThreadGroup::new("tatsu-web");
    let settings = Arc::new(settings);
    let acceptor = Arc::clone(&group);
    let fd = listener.as_raw_fd();
    let slot = group
        .spawn("http listener", move || accept_loop(&listener, &acceptor, &settings))
        .map_err(|e| format!("cannot start the REST server: {e}"))?;
    *LISTENING.lock().unwrap_or_else(PoisonError::into_inner) = Some((fd, slot));
    Ok(Some(local))
}

/// The REST server's listening socket and its accept loop, for a hot restart.
static LISTENING: Mutex<Option<(RawFd, Arc<GreenSlot>)>> = Mutex::new(None);

fn accept_loop(listener: &may::net::TcpListener, group: &Arc<ThreadGroup>, settings: &Arc<WebSettings>) {
    loop {
        match listener.inner().accept() {
            Ok((stream, peer)) => {
                // SAFETY: a freshly accepted socket, owned by nothing else.
                let adopted =
                    std::panic::catch_unwind(|| unsafe { may::net::TcpStream::from_raw_fd(stream.into_raw_fd()) });
                let Ok(stream) = adopted else {
                    log::warn!(target: "tatsu::web", "cannot register HTTP client {peer}");
                    continue;
                };
                let settings = Arc::clone(settings);
                let spawned = group.spawn("http connection", move || {
                    Connection { stream, peer, settings: &settings, buffer: Vec::with_capacity(4096) }.serve();
                });
                if let Err(e) = spawned {
                    log::warn!(target: "tatsu::web", "cannot serve HTTP client {peer}: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if crate::green::wait_io(listener, None) == WaitStatus::Stopping {
                    return;
                }
            }
            Err(e) => {
                log::warn!(target: "tatsu::web", "accepting an HTTP connection failed: {e}");
                crate::green::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Stops accepting HTTP connections and returns a duplicate of the listening socket for the successor host.
pub fn hand_over() -> Option<RawFd> {
    let (fd, acceptor) = LISTENING.lock().unwrap_or_else(PoisonError::into_inner).take()?;
    // SAFETY: the listener is open while its accept loop holds it; the duplicate is ours to pass on.
    let duplicate = nix::unistd::dup(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }).ok()?;
    acceptor.request_stop();
    Some(duplicate.into_raw_fd())
}

/// A response the server writes.
struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    extra_headers: Vec<(&'static str, String)>,
}

impl Response {
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
    content_type: Option<String>,
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
    let mut head = Head {
        method: request.method.unwrap_or("").to_owned(),
        target: request.path.unwrap_or("/").to_owned(),
        keep_alive: version == 1,
        content_length: None,
        chunked: false,
        expect_continue: false,
        authorization: None,
        content_type: None,
    };
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value).map(str::trim);
        let name = header.name;
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

/// Compares without stopping at the first difference.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

struct Connection<'a> {
    stream: may::net::TcpStream,
    peer: SocketAddr,
    settings: &'a WebSettings,
    buffer: Vec<u8>,
}

impl Connection<'_> {
    fn serve(mut self) {
        let _ = self.stream.set_nodelay(true);
        let _ = self.stream.set_read_timeout(Some(self.settings.idle_timeout));
        loop {
            match self.one_request() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    log::debug!(target: "tatsu::web", "HTTP client {}: {e}", self.peer);
                    break;
                }
            }
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Reads more bytes into the buffer; `false` at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        let start = self.buffer.len();
        self.buffer.resize(start + 16 * 1024, 0);
        let read = self.stream.read(&mut self.buffer[start..]);
        let n = *read.as_ref().unwrap_or(&0);
        self.buffer.truncate(start + n);
        read.map(|n| n > 0)
    }

    fn write(&mut self, response: &Response, keep_alive: bool) -> io::Result<()> {
        let mut out = Vec::with_capacity(response.body.len() + 160);
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len()
        );
        for (name, value) in &response.extra_headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&response.body);
        self.stream.write_all(&out)
    }

    /// Writes a response and ends the connection.
    fn reject(&mut self, response: Response) -> io::Result<bool> {
        self.write(&response, false)?;
        Ok(false)
    }

    /// Serves one request; `Ok(false)` when the connection is to be closed.
    fn one_request(&mut self) -> io::Result<bool> {
        let settings = self.settings;
        let (head, head_len) = loop {
            match parse_head(&self.buffer) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) if self.buffer.len() > settings.max_head_bytes => {
                    let message = format!("request line and headers exceed {} bytes", settings.max_head_bytes);
                    return self.reject(Response::error(431, &message));
                }
                Ok(None) => {
                    if !self.fill()? {
                        return Ok(false);
                    }
                }
                Err(HeadError::Reject(status, message)) => return self.reject(Response::error(status, &message)),
            }
        };
        if head_len > settings.max_head_bytes {
            let message = format!("request line and headers exceed {} bytes", settings.max_head_bytes);
            return self.reject(Response::error(431, &message));
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
            let given = head.authorization.as_deref().and_then(|value| {
                let (scheme, credentials) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(credentials.trim())
            });
            if !given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
                let response = Response::error(401, "missing or wrong bearer token")
                    .with_header("WWW-Authenticate", "Bearer realm=\"tatsu\"".to_owned());
                return self.reject(response);
            }
        }
        if head.expect_continue && self.buffer.len() < length {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        while self.buffer.len() < length {
            if !self.fill()? {
                return Ok(false);
            }
        }
        let body: Vec<u8> = self.buffer.drain(..length).collect();

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

    fn dispatch(&self, head: &Head, body: Vec<u8>) -> Response {
        let (path, query) = head.target.split_once('?').unwrap_or((head.target.as_str(), ""));
        if !path.starts_with('/') {
            return Response::error(400, "the request target must be a path");
        }
        let bus = &runtime::get().bus;
        let matched = match bus.http_routes.find(&head.method, path) {
            Ok(matched) => matched,
            Err(NoMatch::NotFound) => return Response::error(404, &format!("no route for {path}")),
            Err(NoMatch::MethodNotAllowed(allowed)) => {
                let message = format!("{} is not allowed on {path} (allowed: {})", head.method, allowed.join(", "));
                return Response::error(405, &message).with_header("Allow", allowed.join(", "));
            }
        };
        let meta = serde_json::json!({
            "method": head.method,
            "path": path,
            "query": query,
            "params": matched.params,
            "content_type": head.content_type,
        })
        .to_string();
        let timeout = self.settings.request_timeout;
        match bus.http_request(matched.app, matched.route, meta, Bytes::from(body), timeout) {
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
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
