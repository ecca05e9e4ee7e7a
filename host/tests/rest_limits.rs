//! The REST server's per-client limits against a real host, with small limits so that each test takes seconds:
//! the connection cap, the header and body deadlines (slowloris), the budget of body bytes held at once, and a hot
//! restart whose successor dies before it takes the REST listener over.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::http::Client;
use common::{install, lib_path, listening_descriptors, temp_dir, Host, LOOPBACK_PORTS};

/// Starts a host serving the `http-probe` fixture's routes on an ephemeral REST port; returns it and the port.
fn probe_host(name: &str, extra: &[&str], env: &[(&str, &str)]) -> (Host, u16) {
    let dir = temp_dir(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(&plugins, &[(&lib_path("tatsu_fixture_http_probe"), "libhttp_probe.so")]);
    let (plugins, socket) = (plugins.display().to_string(), dir.join("control.sock").display().to_string());
    let mut args = vec!["run", "--plugins-dir", &plugins, "--control-socket", &socket];
    args.extend_from_slice(&LOOPBACK_PORTS);
    args.extend_from_slice(extra);
    let host = Host::start(&args, env);
    let port = host.rest_port();
    host.wait_for(&["running 1 app(s)"]);
    (host, port)
}

/// One GET on a new connection (`Connection: close`); its status, or `None` if the connection was reset first.
fn get_once(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).split(' ').nth(1)?.parse().ok()
}

/// Writes `bytes` one at a time, `every` apart, until they run out, `stop` is set or a write fails; returns how
/// many were written.
fn trickle(mut stream: TcpStream, bytes: Vec<u8>, every: Duration, stop: Arc<AtomicBool>) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut sent = 0;
        for byte in bytes {
            if stop.load(Ordering::Acquire) || stream.write_all(&[byte]).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(every);
        }
        sent
    })
}

/// Asserts that `elapsed` is about `deadline`: not before it, and not much after.
fn assert_cut_at(elapsed: Duration, deadline: Duration, what: &str) {
    assert!(elapsed >= deadline - Duration::from_millis(100), "{what} after {elapsed:?}, before {deadline:?}");
    assert!(elapsed < deadline + Duration::from_secs(2), "{what} after {elapsed:?}, long past {deadline:?}");
}

/// The lines logged so far that contain every one of `parts`.
fn lines_with(host: &Host, parts: &[&str]) -> Vec<String> {
    host.log().into_iter().filter(|line| parts.iter().all(|part| line.contains(part))).collect()
}

#[test]
fn connections_past_the_cap_get_a_503_while_open_ones_are_served_and_the_log_says_so_once_a_second() {
    let (host, port) = probe_host("limits-cap", &["--wsapi-max-connections", "4"], &[]);
    let mut open: Vec<Client> = (0..4).map(|_| Client::connect(port)).collect();
    for client in &mut open {
        assert_eq!(client.get("/probe/count").status, 200);
    }
    let started = Instant::now();
    for _ in 0..20 {
        let mut refused = Client::connect(port);
        let reply = refused.read_reply().expect("a 503 past the cap, before anything is sent");
        assert_eq!(reply.status, 503, "{}", reply.text());
        assert_eq!(reply.header("connection"), Some("close"));
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(reply.text().contains("at most 4"), "{}", reply.text());
        assert!(refused.closed(), "a refused connection is closed");
    }
    let batch = started.elapsed();
    for client in &mut open {
        assert_eq!(client.get("/probe/count").status, 200, "the open connections are still served");
    }
    // One line for the 20 refusals of this second (the first of them)...
    host.wait_for(&["refused 1 HTTP connection(s) since the last report", "wsapi_max_connections"]);
    assert!(batch < Duration::from_millis(900), "20 refusals took {batch:?}: the test needs them within a second");
    let refusals = lines_with(&host, &["HTTP connection(s) since the last report", "refused"]);
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    // ... and the next line, a second later, counts the 19 held back with its own.
    std::thread::sleep(Duration::from_millis(1100).saturating_sub(started.elapsed()));
    assert_ne!(get_once(port, "/probe/count"), Some(200), "still at the cap");
    host.wait_for(&["refused 20 HTTP connection(s) since the last report"]);
    assert_eq!(lines_with(&host, &["HTTP connection(s) since the last report", "refused"]).len(), 2);

    // A connection that closes gives its place back.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    while get_once(port, "/probe/count") != Some(200) {
        assert!(Instant::now() < deadline, "the closed connection's place never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
    host.stop();
}

#[test]
fn a_head_trickled_in_is_cut_off_at_the_header_deadline_while_others_are_served() {
    let header_timeout = Duration::from_secs(1);
    let idle_timeout = Duration::from_millis(2500);
    let (host, port) =
        probe_host("limits-slowloris", &["--wsapi-header-timeout", "1", "--wsapi-idle-timeout", "2.5"], &[]);
    let head = format!("GET /probe/count HTTP/1.1\r\nX-Slow: {}\r\n\r\n", "a".repeat(200)).into_bytes();
    let mut healthy = Client::connect(port);
    assert_eq!(healthy.get("/probe/count").status, 200);

    // A new connection trickling its head, a byte every 100 ms: 408 at the deadline all the same.
    let mut slow = Client::connect(port);
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = trickle(slow.stream_clone(), head.clone(), Duration::from_millis(100), Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    assert_eq!(healthy.get("/probe/count").status, 200);
    assert!(asked.elapsed() < Duration::from_millis(500), "the healthy client waited {:?}", asked.elapsed());
    let reply = slow.read_reply().expect("a 408");
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert_eq!(reply.header("connection"), Some("close"));
    assert_cut_at(started.elapsed(), header_timeout, "the trickled head was cut off");
    assert!(slow.closed(), "and the connection closed");
    stop.store(true, Ordering::Release);
    let sent = sender.join().expect("trickling thread");
    assert!(sent >= 8, "the client kept sending until the deadline ({sent} bytes)");
    host.wait_for(&["whose request head did not arrive whole within 1s", "wsapi_header_timeout"]);

    // A kept-alive connection may idle past the header timeout (not the idle timeout) ...
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(healthy.get("/probe/count").status, 200, "idling between requests is not a slow head");
    // ... but its next head, once begun, has the header timeout too.
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = trickle(healthy.stream_clone(), head, Duration::from_millis(100), Arc::clone(&stop));
    let reply = healthy.read_reply().expect("a 408");
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert_cut_at(started.elapsed(), header_timeout, "the trickled keep-alive head was cut off");
    stop.store(true, Ordering::Release);
    sender.join().expect("trickling thread");

    // A new connection that sends nothing is closed at the header deadline, without a response, and an idle
    // keep-alive one at the idle timeout.
    let silent = std::thread::spawn(move || {
        let mut silent = Client::connect(port);
        let started = Instant::now();
        (silent.read_reply().is_none(), started.elapsed())
    });
    let mut idle = Client::connect(port);
    assert_eq!(idle.get("/probe/count").status, 200);
    let started = Instant::now();
    assert!(idle.read_reply().is_none(), "an idle connection is closed without a response");
    assert_cut_at(started.elapsed(), idle_timeout, "the idle connection was closed");
    let (closed, after) = silent.join().expect("silent client");
    assert!(closed, "a silent connection is closed without a response");
    assert_cut_at(after, header_timeout, "the silent connection was closed");
    host.stop();
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the host's /proc status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in kB")
}

#[test]
fn bodies_past_the_budget_get_a_503_at_once_without_memory_and_the_budget_comes_back() {
    const BODY: usize = 1_000_000;
    let (host, port) = probe_host("limits-budget", &["--wsapi-body-budget-bytes", "2000000"], &[]);
    let head = |length: usize| format!("POST /probe/echo/held HTTP/1.1\r\nContent-Length: {length}\r\n\r\n");
    // Two bodies begun and held: the budget is spent, so that even a 1-byte body is refused.
    let mut held: Vec<Client> = (0..2)
        .map(|_| {
            let mut client = Client::connect(port);
            client.send_raw(head(BODY).as_bytes());
            client.send_raw(&[b'a'; 1000]);
            client
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = Client::connect(port).post("/probe/echo/small", "1");
        if reply.status == 503 {
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(Instant::now() < deadline, "the held bodies never filled the budget");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Twenty more, each sending its head and the start of its body: 503 at once, and nothing allocated for them.
    let rss_before = rss_kib(host.pid());
    let mut refused = Vec::new();
    for _ in 0..20 {
        let mut client = Client::connect(port);
        let asked = Instant::now();
        client.send_raw(head(BODY).as_bytes());
        client.send_raw(&[b'a'; 64 << 10]);
        let reply = client.read_reply().expect("a 503");
        assert_eq!(reply.status, 503, "{}", reply.text());
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(reply.header("connection"), Some("close"));
        assert!(asked.elapsed() < Duration::from_secs(1), "refused after {:?}", asked.elapsed());
        refused.push(client);
    }
    let grown = rss_kib(host.pid()).saturating_sub(rss_before);
    assert!(grown < 8 << 10, "20 refused 1 MB bodies grew the host by {grown} KiB");
    host.wait_for(&["their bodies did not fit in the 2000000 bytes", "wsapi_body_budget_bytes"]);
    drop(refused);

    // The held ones end: one sends the rest of its body and is answered, the other closes midway.
    let mut finished = held.remove(0);
    finished.send_raw(&vec![b'a'; BODY - 1000]);
    let reply = finished.read_reply().expect("the held request's answer");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["body"].as_str().map(str::len), Some(BODY));
    drop(held);
    // Both shares come back: a body larger than either alone fits again. `Expect: 100-continue` shows whether it
    // fits before it is sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut probe = Client::connect(port);
        let length = BODY + 1;
        probe.send_raw(
            format!("POST /probe/echo/back HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: {length}\r\n\r\n")
                .as_bytes(),
        );
        let reply = probe.read_reply().expect("100 or 503");
        if reply.status == 100 {
            probe.send_raw(&vec![b'b'; length]);
            let reply = probe.read_reply().expect("the answer");
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(reply.json()["body"].as_str().map(str::len), Some(length));
            break;
        }
        assert_eq!(reply.status, 503, "{}", reply.text());
        assert!(Instant::now() < deadline, "the budget never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
    host.stop();
}

#[test]
fn a_body_trickled_in_is_cut_off_at_the_body_deadline() {
    let (host, port) = probe_host("limits-body-deadline", &["--wsapi-body-timeout", "1"], &[]);
    let mut slow = Client::connect(port);
    slow.send_raw(b"POST /probe/echo/slow HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = trickle(slow.stream_clone(), vec![b'x'; 100], Duration::from_millis(100), Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(300));
    let mut healthy = Client::connect(port);
    assert_eq!(healthy.post("/probe/echo/quick", "{}").json()["body"], "{}", "others are served meanwhile");
    let reply = slow.read_reply().expect("a 408");
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert_eq!(reply.header("connection"), Some("close"));
    assert_cut_at(started.elapsed(), Duration::from_secs(1), "the trickled body was cut off");
    stop.store(true, Ordering::Release);
    let sent = sender.join().expect("trickling thread");
    assert!(sent >= 8, "the client kept sending until the deadline ({sent} bytes)");
    host.wait_for(&["whose request body did not arrive whole within 1s", "wsapi_body_timeout"]);
    assert_eq!(healthy.get("/probe/count").status, 200);
    host.stop();
}

/// A successor host (not this test's child): killed when the test ends, also when it fails.
struct Successor(nix::unistd::Pid);

impl Drop for Successor {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGKILL);
    }
}

#[test]
fn a_successor_that_dies_before_it_takes_over_leaves_the_rest_listener_here_once_and_a_later_restart_takes_it() {
    let dir = temp_dir("limits-take-back-state");
    let (failpoint, pid_file) = (dir.join("failpoint"), dir.join("tatsu.pid"));
    std::fs::write(&failpoint, "after-descriptors").expect("failpoint file");
    let (failpoint_env, pid_arg) = (failpoint.display().to_string(), pid_file.display().to_string());
    let (mut host, port) =
        probe_host("limits-take-back", &["--pid-file", &pid_arg], &[("TATSU_HANDOVER_FAILPOINT", &failpoint_env)]);
    assert_eq!(get_once(port, "/probe/count"), Some(200));
    assert_eq!(listening_descriptors(host.pid(), port), 1);
    for attempt in 1..=2 {
        host.signal(nix::sys::signal::Signal::SIGHUP);
        let deadline = Instant::now() + Duration::from_secs(20);
        // The listener is taken back inside the failed restart, just before the failure is logged: wait for both.
        while lines_with(&host, &["the REST API is served by this host again"]).len() < attempt
            || lines_with(&host, &["restart failed, this host carries on"]).len() < attempt
        {
            assert!(Instant::now() < deadline, "the REST listener was not taken back; log:\n{}", host.log().join("\n"));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(lines_with(&host, &["restart failed, this host carries on"]).len(), attempt);
        assert_eq!(get_once(port, "/probe/count"), Some(200), "this host serves REST again (attempt {attempt})");
        assert_eq!(listening_descriptors(host.pid(), port), 1, "the successor's duplicate is closed");
    }

    // Then a restart that succeeds: the successor serves every request, from the one listening socket.
    std::fs::write(&failpoint, "").expect("clear the failpoint");
    host.signal(nix::sys::signal::Signal::SIGHUP);
    assert!(host.wait_exit().success(), "the old host exits after the handover");
    let successor: u32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|pid| pid.trim().parse().ok())
        .expect("the successor's pid in the pid file");
    assert_ne!(successor, host.pid());
    let successor = Successor(nix::unistd::Pid::from_raw(i32::try_from(successor).expect("pid fits")));
    for _ in 0..20 {
        assert_eq!(get_once(port, "/probe/count"), Some(200), "the successor answers every request");
    }
    assert_eq!(listening_descriptors(successor.0.as_raw().unsigned_abs(), port), 1);
    nix::sys::signal::kill(successor.0, nix::sys::signal::Signal::SIGTERM).expect("stop the successor");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&pid_file).is_ok() {
        assert!(Instant::now() < deadline, "the successor did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}
