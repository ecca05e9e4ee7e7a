//! WebSocket against a real host serving the `ws-probe` fixture: the handshake, messages both ways, broadcast to
//! several clients, ping/pong, the close handshake, the close codes for broken input (RFC 6455: 1002, 1007, 1009),
//! a client that never reads (dropped while everyone else is served), the bearer token, and an independent client
//! (Python's websocket-client, Debian's `python3-websocket`) and headless Chromium.
//!
//! The test's own client is written here, frame by frame, so that it can send what a correct client never would.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::browser::{chromium, python_websocket_client, PYTHON};
use common::http::Client;
use common::{install, lib_path, temp_dir, workspace, Host, LOOPBACK_PORTS};

/// The sample key of RFC 6455 section 1.3 and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Starts a host serving the `ws-probe` fixture with `config` (TOML) and `extra` flags; returns it and its REST port.
fn probe_host(name: &str, config: &str, extra: &[&str]) -> (Host, u16) {
    let dir = temp_dir(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(&plugins, &[(&lib_path("tatsu_fixture_ws_probe"), "libws_probe.so")]);
    let config_file = dir.join("tatsu.toml");
    std::fs::write(&config_file, config).expect("config file");
    let (plugins, socket) = (plugins.display().to_string(), dir.join("control.sock").display().to_string());
    let config_file = config_file.display().to_string();
    let mut args = vec!["run", "--plugins-dir", &plugins, "--control-socket", &socket, "--config", &config_file];
    args.extend_from_slice(&LOOPBACK_PORTS);
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[("RUST_LOG", "info,tatsu::web=debug")]);
    let port = host.rest_port();
    host.wait_for(&["running 1 app(s)"]);
    (host, port)
}

/// A frame as the test's client reads it.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl Frame {
    /// The close code of a close frame.
    fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// The test's WebSocket client.
struct Ws {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// The upgrade request for `path`, with `extra` header lines.
fn upgrade_request(port: u16, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

impl Ws {
    /// Sends `request` and reads the response head: the connected client, or the refusal's status and head.
    fn handshake(port: u16, request: &str) -> Result<(Ws, String), (u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        stream.write_all(request.as_bytes()).expect("send the handshake");
        let mut ws = Ws { stream, buffer: Vec::new() };
        let end = loop {
            if let Some(end) = ws.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            assert!(ws.fill(), "the server closed before its response head");
        };
        let head = String::from_utf8_lossy(&ws.buffer[..end]).into_owned();
        ws.buffer.drain(..end + 4);
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
        if status == 101 {
            Ok((ws, head))
        } else {
            Err((status, head))
        }
    }

    /// Connects to `path` and checks the 101 and its `Sec-WebSocket-Accept`.
    fn connect(port: u16, path: &str) -> Ws {
        let (ws, head) = Ws::handshake(port, &upgrade_request(port, path, "")).expect("101");
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("\r\nupgrade: websocket") && lower.contains("\r\nconnection: upgrade"), "{head}");
        assert!(head.contains(&format!("\r\nSec-WebSocket-Accept: {ACCEPT}")), "{head}");
        ws
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Writes raw bytes (false if the server is gone).
    fn raw(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// A frame as a client sends it: masked (unless `masked` is false) with a fixed key.
    fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let mut out = vec![first];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => out.push(mask_bit | n as u8),
            n @ 126..=0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let key = [0x11, 0x22, 0x33, 0x44];
        if masked {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        out
    }

    fn send(&mut self, first: u8, payload: &[u8]) -> bool {
        let frame = Ws::frame(first, payload, true);
        self.raw(&frame)
    }

    fn text(&mut self, text: &str) {
        assert!(self.send(0x81, text.as_bytes()), "send a text message");
    }

    /// Reads one frame; `None` once the server has closed the connection.
    fn read(&mut self) -> Option<Frame> {
        loop {
            if self.buffer.len() >= 2 {
                assert_eq!(self.buffer[1] & 0x80, 0, "server frames are not masked");
                let (length, header) = match self.buffer[1] & 0x7F {
                    126 if self.buffer.len() >= 4 => (u16::from_be_bytes([self.buffer[2], self.buffer[3]]) as usize, 4),
                    127 if self.buffer.len() >= 10 => {
                        let mut be = [0u8; 8];
                        be.copy_from_slice(&self.buffer[2..10]);
                        (u64::from_be_bytes(be) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if header > 0 && self.buffer.len() >= header + length {
                    let frame = Frame {
                        fin: self.buffer[0] & 0x80 != 0,
                        opcode: self.buffer[0] & 0x0F,
                        payload: self.buffer[header..header + length].to_vec(),
                    };
                    self.buffer.drain(..header + length);
                    return Some(frame);
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Reads frames until a close frame; its code (`Some(None)` for a close without one), or `None` if the
    /// connection ended without a close frame.
    fn read_close(&mut self) -> Option<Option<u16>> {
        loop {
            let frame = self.read()?;
            if frame.opcode == 8 {
                return Some(frame.close_code());
            }
        }
    }

    /// Whether the server closed the TCP connection (within the read timeout).
    fn ended(&mut self) -> bool {
        self.stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) => {
                    return e.kind() != std::io::ErrorKind::WouldBlock && e.kind() != std::io::ErrorKind::TimedOut
                }
            }
        }
    }
}

/// A REST client that carries the token the tests that set one use (a host without a token ignores it).
fn rest(port: u16) -> Client {
    let mut client = Client::connect(port);
    client.extra.push("Authorization: Bearer sesame".to_owned());
    client
}

fn received(port: u16) -> serde_json::Value {
    let reply = rest(port).get("/probe/received");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Polls `/probe/received` until `done` holds (10 s at most).
fn wait_received(port: u16, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = received(port);
        if done(&state) || Instant::now() > deadline {
            return state;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn broadcast(port: u16, query: &str, body: &str) -> serde_json::Value {
    let reply = rest(port).post(&format!("/probe/broadcast{query}"), body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[test]
fn the_handshake_messages_both_ways_and_a_broadcast_to_every_client() {
    let (host, port) = probe_host("ws-basics", "", &[]);
    let mut clients: Vec<Ws> = (0..3).map(|_| Ws::connect(port, "/probe/ws")).collect();
    wait_received(port, |state| state["opens"] == 3);

    // A client's message reaches the app, which answers that client only.
    clients[0].text("echo:hello");
    assert_eq!(clients[0].read(), Some(Frame { fin: true, opcode: 1, payload: b"hello".to_vec() }));

    // A fragmented message with a ping between its fragments: the pong comes at once, the message whole.
    assert!(clients[1].send(0x01, b"echo:fr"));
    assert!(clients[1].send(0x89, b"are you there"));
    assert!(clients[1].send(0x00, b"agm"));
    assert!(clients[1].send(0x80, "ent€".as_bytes()));
    assert_eq!(clients[1].read(), Some(Frame { fin: true, opcode: 0xA, payload: b"are you there".to_vec() }));
    assert_eq!(clients[1].read(), Some(Frame { fin: true, opcode: 1, payload: "fragment€".as_bytes().to_vec() }));
    assert!(clients[2].send(0x82, &[0, 1, 2, 255]));

    // A broadcast reaches every client, in order.
    assert_eq!(broadcast(port, "?count=2", "news")["queued"], serde_json::json!([3, 3]));
    for client in &mut clients {
        for _ in 0..2 {
            assert_eq!(client.read(), Some(Frame { fin: true, opcode: 1, payload: b"news".to_vec() }));
        }
    }
    // Large messages take the 16- and 64-bit lengths.
    for size in [300, 70_000] {
        assert_eq!(broadcast(port, &format!("?size={size}"), "big")["queued"], serde_json::json!([3]));
        for client in &mut clients {
            let frame = client.read().expect("the large message");
            assert_eq!((frame.opcode, frame.payload.len()), (1, size));
        }
    }
    // A push-only path takes no events, and another app's path or a missing one is refused.
    let mut pushed = Ws::connect(port, "/probe/push");
    pushed.text("ignored");
    assert_eq!(broadcast(port, "?path=/probe/push", "pushed")["queued"], serde_json::json!([1]));
    assert_eq!(pushed.read().map(|frame| frame.payload), Some(b"pushed".to_vec()));
    let refused = rest(port).post("/probe/broadcast?path=/nope", "x");
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("serves no WebSocket path `/nope`"), "{}", refused.text());

    let state = received(port);
    assert_eq!(
        state["messages"],
        serde_json::json!(["echo:hello", "echo:fragment€", "binary:4"]),
        "what the app received (nothing from the push-only path)"
    );
    drop(host);
}

#[test]
fn the_close_handshake_either_way() {
    let (host, port) = probe_host("ws-close", "", &[]);
    // The client closes: the server answers with the same code and then closes the connection.
    let mut client = Ws::connect(port, "/probe/ws");
    assert!(client.send(0x88, &[0x03, 0xE8, b'b', b'y', b'e']));
    assert_eq!(client.read_close(), Some(Some(1000)));
    assert!(client.ended(), "the server closes the TCP connection after the close handshake");

    // A close without a code is answered without one.
    let mut client = Ws::connect(port, "/probe/ws");
    assert!(client.send(0x88, &[]));
    assert_eq!(client.read_close(), Some(None));

    // The app closes a client with its own code; the client answers; the connection ends.
    let mut client = Ws::connect(port, "/probe/ws");
    client.text("close:4001");
    assert_eq!(client.read_close(), Some(Some(4001)));
    assert!(client.send(0x88, &[0x0F, 0xA1]));
    assert!(client.ended());
    let state = wait_received(port, |state| state["closes"] == 3);
    assert_eq!((state["opens"].as_u64(), state["closes"].as_u64()), (Some(3), Some(3)), "{state}");

    // A client that vanishes without a close frame is a close for the app too.
    drop(Ws::connect(port, "/probe/ws"));
    let state = wait_received(port, |state| state["closes"] == 4);
    assert_eq!(state["closes"], 4, "{state}");
    drop(host);
}

#[test]
fn broken_input_gets_the_close_code_the_rfc_names() {
    let (host, port) = probe_host("ws-violations", "", &[]);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("an unmasked frame", Ws::frame(0x81, b"hello", false), 1002),
        ("reserved bit RSV1", Ws::frame(0xC1, b"hello", true), 1002),
        ("opcode 3", Ws::frame(0x83, b"", true), 1002),
        ("a fragmented ping", Ws::frame(0x09, b"", true), 1002),
        ("a continuation without a message", Ws::frame(0x80, b"x", true), 1002),
        ("a close code of 1005", Ws::frame(0x88, &1005u16.to_be_bytes(), true), 1002),
        ("invalid UTF-8", Ws::frame(0x81, &[b'a', 0xC0, 0xAF], true), 1007),
        ("a close reason that is not UTF-8", Ws::frame(0x88, &[0x03, 0xE8, 0xFF], true), 1007),
    ];
    for (what, bytes, code) in cases {
        let mut client = Ws::connect(port, "/probe/ws");
        assert!(client.raw(&bytes), "{what}");
        assert_eq!(client.read_close(), Some(Some(code)), "{what}");
        assert!(client.ended(), "{what}: the connection ends");
    }

    // A frame over the limit, announced by its header (the payload never needs to come).
    let mut client = Ws::connect(port, "/probe/ws");
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 32).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    assert!(client.raw(&header));
    assert_eq!(client.read_close(), Some(Some(1009)), "an oversized frame");

    // A message over the limit in fragments each within it.
    let mut client = Ws::connect(port, "/probe/ws");
    assert!(client.send(0x02, &[0; 40_000]));
    assert!(client.send(0x80, &[0; 40_000]));
    assert_eq!(client.read_close(), Some(Some(1009)), "an oversized message");

    // A message fragmented forever, with empty fragments: their headers count.
    let mut client = Ws::connect(port, "/probe/ws");
    assert!(client.send(0x01, b"endless"));
    let fragment = Ws::frame(0x00, b"", true);
    let endless: Vec<u8> = fragment.iter().copied().cycle().take(fragment.len() * 20_000).collect();
    let _ = client.raw(&endless);
    assert_eq!(client.read_close(), Some(Some(1009)), "endless fragmentation");

    // None of it reached the app, and the server goes on.
    assert_eq!(received(port)["messages"], serde_json::json!([]));
    let mut fine = Ws::connect(port, "/probe/ws");
    fine.text("echo:still here");
    assert_eq!(fine.read().map(|frame| frame.payload), Some(b"still here".to_vec()));
    drop(host);
}

#[test]
fn handshakes_that_are_not_right_are_refused() {
    let (host, port) = probe_host("ws-refusals", "", &["--wsapi-token", "sesame"]);
    let token = "Authorization: Bearer sesame\r\n";
    let refusal = |request: String| Ws::handshake(port, &request).err();

    let (status, head) = refusal(upgrade_request(port, "/probe/ws", "")).expect("no token");
    assert_eq!(status, 401, "{head}");
    assert!(head.contains("WWW-Authenticate: Bearer"), "{head}");
    let wrong = refusal(upgrade_request(port, "/probe/ws", "Authorization: Bearer open\r\n")).expect("wrong token");
    assert_eq!(wrong.0, 401);
    Ws::handshake(port, &upgrade_request(port, "/probe/ws", token)).expect("the token opens it");

    let version = upgrade_request(port, "/probe/ws", token).replace("Version: 13", "Version: 8");
    let (status, head) = refusal(version).expect("version 8");
    assert_eq!(status, 426, "{head}");
    assert!(head.contains("Sec-WebSocket-Version: 13"), "{head}");
    let key = upgrade_request(port, "/probe/ws", token).replace(KEY, "c2hvcnQ=");
    assert_eq!(refusal(key).map(|(status, _)| status), Some(400), "a key of 5 bytes");
    let origin = upgrade_request(port, "/probe/ws", &format!("{token}Origin: http://elsewhere.example\r\n"));
    assert_eq!(refusal(origin).map(|(status, _)| status), Some(403), "another site's page");
    let same_origin = upgrade_request(port, "/probe/ws", &format!("{token}Origin: http://127.0.0.1:{port}\r\n"));
    Ws::handshake(port, &same_origin).expect("a page of this host");

    // A WebSocket path asked for without the upgrade, and an upgrade to a path that is not one.
    let plain = format!("GET /probe/ws HTTP/1.1\r\nHost: x\r\n{token}\r\n");
    let (status, _) = refusal(plain).expect("no upgrade");
    assert_eq!(status, 426);
    let not_websocket = refusal(upgrade_request(port, "/nothing/here", token)).expect("no such path");
    assert_eq!(not_websocket.0, 404);
    drop(host);
}

#[test]
fn a_browser_brings_the_token_in_the_url_for_pages_and_websockets_but_not_for_changes() {
    let (host, port) = probe_host("ws-url-token", "", &["--wsapi-token", "se same"]);
    let upgrade =
        |target: &str| Ws::handshake(port, &upgrade_request(port, target, "")).map(|_| 101).unwrap_or_else(|e| e.0);
    assert_eq!(upgrade("/probe/ws?access_token=se%20same"), 101, "RFC 6750's query parameter opens the WebSocket");
    assert_eq!(upgrade("/probe/ws?access_token=se+same&x=1"), 101, "among other parameters, form-encoded");
    assert_eq!(upgrade("/probe/ws?access_token=wrong"), 401);
    assert_eq!(upgrade("/probe/ws?token=se%20same"), 401, "only that parameter");
    // A refusal closes the connection: a client each.
    let get = |target: &str| Client::connect(port).get(target).status;
    assert_eq!(get("/probe/received?access_token=se%20same"), 200, "a GET: what a browser opens");
    assert_eq!(get("/probe/received"), 401);
    let post = Client::connect(port).post("/probe/broadcast?access_token=se%20same", "x");
    assert_eq!(post.status, 401, "a change needs the header: {}", post.text());
    // With the header, the header decides (a stale token left in a URL does not matter).
    let mut with_header = Client::connect(port);
    with_header.extra.push("Authorization: Bearer se same".to_owned());
    let pushed = with_header.post("/probe/broadcast?access_token=x&path=/probe/ws", "hello");
    assert_eq!(pushed.status, 200, "{}", pushed.text());
    assert!(!host.logged(&["access_token"]), "the token never reaches the log");
    drop(host);
}

#[test]
fn idle_clients_are_pinged_and_the_silent_ones_dropped() {
    let (host, port) = probe_host("ws-ping", "[tatsu]\nwsapi_websocket_ping_interval = 0.5\n", &[]);
    let mut alive = Ws::connect(port, "/probe/ws");
    let mut silent = Ws::connect(port, "/probe/ws");
    let started = Instant::now();
    for _ in 0..3 {
        let ping = alive.read().expect("a ping");
        assert_eq!(ping.opcode, 9, "{ping:?}");
        assert!(alive.send(0x8A, &ping.payload));
    }
    assert_eq!(silent.read().map(|frame| frame.opcode), Some(9), "the silent one is pinged too");
    // ... and, answering nothing, dropped (without a close frame: it is presumed dead).
    assert_eq!(silent.read(), None, "dropped");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    alive.text("echo:alive");
    let frame = loop {
        let frame = alive.read().expect("a frame");
        if frame.opcode != 9 {
            break frame;
        }
    };
    assert_eq!(frame.payload, b"alive");
    drop(host);
}

#[test]
fn a_client_that_never_reads_is_dropped_while_the_others_and_the_rest_api_go_on() {
    let (host, port) = probe_host("ws-slow", "", &[]);
    let mut reader = Ws::connect(port, "/probe/ws");
    let stalled = Ws::connect(port, "/probe/ws");
    wait_received(port, |state| state["opens"] == 2);
    // 256 KiB messages, 512 KiB a push (within the 1 MiB queue), each read by the reading client before the next
    // push, until the stalled client's socket buffers and then its queue are full.
    let mut pushes = 0;
    loop {
        pushes += 1;
        assert!(pushes <= 200, "the stalled client was never dropped");
        let queued = broadcast(port, "?count=2&size=262144", "bulk");
        for _ in 0..2 {
            let frame = reader.read().expect("the reading client gets everything");
            assert_eq!(frame.payload.len(), 262_144);
        }
        if queued["queued"].as_array().is_some_and(|counts| counts.iter().any(|count| count == 1)) {
            break;
        }
    }
    host.wait_for(&["does not take its messages", "disconnecting it (1008)"]);
    // It is gone for the app within the cut (2 s) and a little.
    let state = wait_received(port, |state| state["closes"] == 1);
    assert_eq!(state["closes"], 1, "{state}");
    assert_eq!(broadcast(port, "", "after")["queued"], serde_json::json!([1]));
    assert_eq!(reader.read().map(|frame| frame.payload), Some(b"after".to_vec()));
    reader.text("echo:unhindered");
    assert_eq!(reader.read().map(|frame| frame.payload), Some(b"unhindered".to_vec()));
    let lines = host.log().into_iter().filter(|line| line.contains("does not take its messages")).count();
    assert_eq!(lines, 1, "logged once");
    drop(stalled);
    drop(host);
}

#[test]
fn an_independent_client_python_websocket_client() {
    python_websocket_client();
    let (host, port) = probe_host("ws-python", "", &["--wsapi-token", "sesame"]);
    let script = r#"
import sys, websocket
port = sys.argv[1]
try:
    websocket.create_connection("ws://127.0.0.1:%s/probe/ws" % port)
    print("no token: connected")
except websocket.WebSocketBadStatusException as e:
    print("no token: refused", e.status_code)
ws = websocket.create_connection("ws://127.0.0.1:%s/probe/ws" % port, header=["Authorization: Bearer sesame"],
                                 timeout=10)
ws.send("echo:from python")
print("echo:", ws.recv())
ws.send_binary(b"\x00\x01\x02")
ws.ping("knock")
opcode, data = ws.recv_data(control_frame=True)
print("pong:", opcode, data.decode())
ws.send("echo:" + "x" * 60000)
print("long echo:", len(ws.recv()))
ws.close(status=1000)
print("closed:", ws.connected)
ws = websocket.create_connection("ws://127.0.0.1:%s/probe/ws" % port, header=["Authorization: Bearer sesame"],
                                 timeout=10)
ws.send("x" * 70000)
opcode, data = ws.recv_data(control_frame=True)
print("oversized:", opcode, int.from_bytes(data[:2], "big"))
"#;
    let output = Command::new(PYTHON).args(["-c", script, &port.to_string()]).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "no token: refused 401",
            "echo: from python",
            "pong: 10 knock",
            "long echo: 60000",
            "closed: False",
            "oversized: 8 1009"
        ],
        "{stdout}"
    );
    let messages = received(port)["messages"].clone();
    assert_eq!(messages[0], "echo:from python");
    assert_eq!(messages[1], "binary:3");
    drop(host);
}

#[test]
fn clients_are_told_the_server_is_going_away_when_the_app_stops() {
    let (host, port) = probe_host("ws-going-away", "", &[]);
    let mut clients: Vec<Ws> = (0..2).map(|_| Ws::connect(port, "/probe/ws")).collect();
    clients[0].text("echo:before");
    assert_eq!(clients[0].read().map(|frame| frame.payload), Some(b"before".to_vec()));
    let log = host.stop();
    for client in &mut clients {
        assert_eq!(client.read_close(), Some(Some(1001)), "{}", log.join("\n"));
    }
}

/// Chromium is driven through the DevTools protocol (`scripts/cdp.py`) and the page's log read until the socket has
/// closed, in real time: `--dump-dom` with a virtual time budget dumps the page as soon as it is idle, which on a
/// loaded machine came before the handshake's answer.
#[test]
fn an_independent_client_headless_chromium() {
    chromium();
    python_websocket_client();
    let (host, port) = probe_host("ws-chromium", "", &[]);
    let script = r#"
import sys
sys.path.insert(0, sys.argv[1])
import cdp
browser = cdp.Browser()
try:
    browser.navigate("http://127.0.0.1:%s/probe/page" % sys.argv[2])
    log, waited = browser.wait_for("document.getElementById('log').textContent.includes('closed:') && "
                                   "document.getElementById('log').textContent", timeout=30)
    print(log or browser.evaluate("document.getElementById('log').textContent"))
finally:
    browser.close()
"#;
    let scripts = workspace().join("scripts");
    let output =
        Command::new(PYTHON).args(["-c", script]).arg(&scripts).arg(port.to_string()).output().expect("python3 runs");
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(log.trim_end(), "starting\nopen\nheard:from the browser\nclosed:1000:clean");
    let state = wait_received(port, |state| state["closes"] == 1);
    assert_eq!(state["messages"], serde_json::json!(["echo:from the browser"]), "{state}");
    assert_eq!((state["opens"].as_u64(), state["closes"].as_u64()), (Some(1), Some(1)), "{state}");
    drop(host);
}

/// A figure, not a check (run with `--ignored --nocapture`, best with `--release`): how many messages a second one
/// app's broadcasts deliver to 1,000 clients, each read by a thread of this test.
#[test]
#[ignore]
fn bench_fan_out_to_a_thousand_clients() {
    const CLIENTS: usize = 1000;
    const MESSAGES: usize = 2000;
    let (host, port) = probe_host("ws-fan-out", "", &[]);
    let ready = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS + 1));
    let readers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut client = Ws::connect(port, "/probe/push");
            let ready = std::sync::Arc::clone(&ready);
            std::thread::spawn(move || {
                ready.wait();
                for _ in 0..MESSAGES {
                    assert_eq!(client.read().map(|frame| frame.payload.len()), Some(100));
                }
                Instant::now()
            })
        })
        .collect();
    ready.wait();
    let started = Instant::now();
    let queued = broadcast(port, &format!("?path=/probe/push&count={MESSAGES}&size=100"), "fan-out");
    let pushed = started.elapsed();
    assert!(queued["queued"].as_array().is_some_and(|counts| counts.iter().all(|count| count == CLIENTS)));
    let last = readers.into_iter().map(|reader| reader.join().expect("a reader")).max().expect("readers");
    let elapsed = last.duration_since(started);
    let delivered = (CLIENTS * MESSAGES) as f64;
    println!(
        "websocket.fan_out: {CLIENTS} clients x {MESSAGES} messages of 100 bytes: pushed in {pushed:?} ({:.0} pushes/s, \
         {:.0} client messages/s queued), all delivered in {elapsed:?}: {:.0} messages/s",
        MESSAGES as f64 / pushed.as_secs_f64(),
        delivered / pushed.as_secs_f64(),
        delivered / elapsed.as_secs_f64()
    );
    drop(host);
}
