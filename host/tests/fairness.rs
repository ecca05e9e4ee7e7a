//! Many busy switches against one app, on real TCP over loopback: under plain overload from switches nothing is
//! dropped (the credit holds switches back in their TCP windows), and every switch is served evenly.
//!
//! 300 switches (more than a 65,536-event queue holds at the old 256 messages of credit each) push OpenFlow 1.0 packet-ins as
//! fast as their sockets take them, each with up to [`WINDOW`] unanswered, to simple-switch, which floods each
//! with one packet-out. Every packet-in of every switch is answered and the app's queue drops nothing; and while
//! the host answers [`MEASURED_PER_SWITCH`] per switch on average, every switch gets answers, the least served at
//! least half the median. (may polls its I/O selector only when no coroutine is ready: before `green::turns`, a
//! switch whose reader or writer waited on the selector sat out for seconds under this load.)
//!
//! The host shares the cores with [`SPINNERS`] busy threads while the switches push, as on a loaded CI machine:
//! there, before apps stepped out for the selector too, the app's event loop kept its scheduler thread's run queue
//! from ever emptying, and whole runs of switches got nothing for a second.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_switch::{FakeSwitch, V1_0};
use common::http::Client;
use common::{apps, Host, LOOPBACK_PORTS};
use tatsu_ofproto::{v1_0, Message};

/// Busy switches.
const SWITCHES: usize = 300;
/// Packet-ins a switch keeps unanswered at most (far more than its credit: the rest waits in TCP buffers).
const WINDOW: u64 = 1000;
/// Answers per switch, on average, after which the spread is measured (the first turns, while the host learns
/// how many switches are busy, are left out).
const WARM_UP_PER_SWITCH: u64 = 100;
/// Answers per switch, on average, over which the spread is measured.
const MEASURED_PER_SWITCH: u64 = 300;
/// Threads that spin on the host's cores while the switches push.
const SPINNERS: usize = 3;
/// OpenFlow 1.0 PACKET_OUT and ECHO_REQUEST.
const PACKET_OUT: u8 = 13;
const ECHO_REQUEST: u8 = 2;

/// One emulated switch: its socket, the bytes it still has to write, what it read but not framed yet, its counts.
struct Busy {
    stream: TcpStream,
    packet_in: Vec<u8>,
    unsent: Vec<u8>,
    received: Vec<u8>,
    sent: u64,
    answered: u64,
}

impl Busy {
    /// Writes what the socket takes: first what is pending, then more packet-ins while `sending` and the window
    /// has room. Returns whether anything was written.
    fn write(&mut self, sending: bool) -> bool {
        if self.unsent.is_empty() && sending {
            let room = (WINDOW - (self.sent - self.answered)).min(32);
            for _ in 0..room {
                self.unsent.extend_from_slice(&self.packet_in);
            }
            self.sent += room;
        }
        if self.unsent.is_empty() {
            return false;
        }
        match self.stream.write(&self.unsent) {
            Ok(n) => {
                self.unsent.drain(..n);
                n > 0
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("writing to tatsu failed: {e}"),
        }
    }

    /// Reads what the socket has, counts packet-outs and answers echo requests. Returns whether anything was read.
    fn read(&mut self, chunk: &mut [u8]) -> bool {
        let n = match self.stream.read(chunk) {
            Ok(0) => panic!("tatsu closed a busy switch's connection"),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) => panic!("reading from tatsu failed: {e}"),
        };
        self.received.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while self.received.len() - at >= 8 {
            let length = usize::from(u16::from_be_bytes([self.received[at + 2], self.received[at + 3]]));
            assert!(length >= 8, "a message from tatsu claims length {length}");
            if self.received.len() - at < length {
                break;
            }
            match self.received[at + 1] {
                PACKET_OUT => self.answered += 1,
                ECHO_REQUEST => {
                    let mut reply = self.received[at..at + length].to_vec();
                    reply[1] = ECHO_REQUEST + 1;
                    self.unsent.extend_from_slice(&reply);
                }
                _ => {}
            }
            at += length;
        }
        self.received.drain(..at);
        true
    }
}

/// Threads spinning on the cores until stopped (or dropped, should the test fail first).
struct Spinners {
    spinning: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Spinners {
    fn start(count: usize) -> Spinners {
        let spinning = Arc::new(AtomicBool::new(true));
        let threads = (0..count)
            .map(|_| {
                let spinning = Arc::clone(&spinning);
                std::thread::spawn(move || {
                    while spinning.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Spinners { spinning, threads }
    }

    fn stop(&mut self) {
        self.spinning.store(false, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A broadcast frame from a MAC address of switch `n`'s own (simple-switch floods it: one packet-out).
fn packet_in(n: usize) -> Vec<u8> {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&[0x02, 0, 0, 0]);
    frame.extend_from_slice(&u16::try_from(n).expect("switch number fits").to_be_bytes());
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.resize(60, 0);
    let message = v1_0::PacketIn { buffer_id: 0xffff_ffff, total_len: 60, in_port: 1, reason: 0, data: frame };
    Message::V1_0(v1_0::Message::PacketIn(message)).to_vec(0).expect("the packet-in encodes")
}

/// The app's dropped events, from `GET /metrics`.
fn dropped_events(rest_port: u16, app: &str) -> u64 {
    let metrics = Client::connect(rest_port).get("/metrics").text();
    metrics
        .lines()
        .find(|line| line.starts_with("tatsu_app_events_dropped_total") && line.contains(&format!("\"{app}\"")))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no dropped-events count for `{app}` in:\n{metrics}"))
}

#[test]
fn busy_switches_lose_nothing_and_every_switch_is_answered() {
    let plugins = apps().display().to_string();
    let mut args = vec![
        "run",
        "--plugins-dir",
        &plugins,
        "--app",
        "simple-switch",
        "--echo-request-interval",
        "600",
        "--wsapi-metrics",
    ];
    args.extend_from_slice(&LOOPBACK_PORTS);
    let host = Host::start(&args, &[]);
    host.wait_for(&["running 1 app(s)"]);
    let (port, rest_port) = (host.switch_port(), host.rest_port());

    // Every switch is connected and in MAIN before any pushes, so that none has a head start.
    let mut switches: Vec<Busy> = (0..SWITCHES)
        .map(|n| {
            let mut switch = FakeSwitch::connect(port);
            switch.handshake(V1_0, 0x1000 + n as u64, 2);
            let stream = switch.into_tcp().expect("a plain TCP switch");
            stream.set_nonblocking(true).expect("non-blocking socket");
            Busy { stream, packet_in: packet_in(n), unsent: Vec::new(), received: Vec::new(), sent: 0, answered: 0 }
        })
        .collect();

    let mut spinners = Spinners::start(SPINNERS);

    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(120);
    let warm_up = WARM_UP_PER_SWITCH * SWITCHES as u64;
    let target = warm_up + MEASURED_PER_SWITCH * SWITCHES as u64;
    let mut sending = true;
    let mut baseline: Option<Vec<u64>> = None;
    let mut spread = None;
    // When the last answer came: once the switches stop sending, the host must keep answering until it is done.
    let (mut last_answered, mut last_answer_at) = (0, Instant::now());
    loop {
        let mut progress = false;
        for switch in &mut switches {
            progress |= switch.write(sending);
            progress |= switch.read(&mut chunk);
        }
        let answered: u64 = switches.iter().map(|switch| switch.answered).sum();
        if baseline.is_none() && answered >= warm_up {
            baseline = Some(switches.iter().map(|switch| switch.answered).collect());
        }
        if let Some(baseline) = baseline.as_ref().filter(|_| sending && answered >= target) {
            // Measured while every switch still pushes: then stop, and let the host answer what is in flight.
            let mut counts: Vec<u64> =
                switches.iter().zip(baseline).map(|(switch, before)| switch.answered - before).collect();
            counts.sort_unstable();
            spread = Some(counts);
            sending = false;
            spinners.stop();
        }
        if !sending && switches.iter().all(|switch| switch.answered == switch.sent && switch.unsent.is_empty()) {
            break;
        }
        if answered != last_answered {
            (last_answered, last_answer_at) = (answered, Instant::now());
        }
        let missing: u64 = switches.iter().map(|switch| switch.sent - switch.answered).sum();
        assert!(
            Instant::now() < deadline && (sending || last_answer_at.elapsed() < Duration::from_secs(15)),
            "{answered} packet-ins answered, {missing} never (dropped), sending {sending}"
        );
        if !progress {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    let counts = spread.expect("the spread was measured");
    let (min, median, max) = (counts[0], counts[counts.len() / 2], counts[counts.len() - 1]);
    eprintln!("answers per switch from {warm_up} to {target} in all: min {min}, median {median}, max {max}");
    for (n, switch) in switches.iter().enumerate() {
        assert!(
            switch.answered > 0 && switch.answered == switch.sent,
            "switch {n}: {} of {} answered",
            switch.answered,
            switch.sent
        );
    }
    // No switch sits out while the others are served: readers and writers waiting on may's selector get their
    // turn under load (`green::turns`), and the credit splits evenly among the busy.
    assert!(min > 0, "a switch got no answer while the host answered {MEASURED_PER_SWITCH} per switch: {counts:?}");
    assert!(min * 2 >= median, "the least served switch got less than half the median: {counts:?}");
    let sent: u64 = switches.iter().map(|switch| switch.sent).sum();
    assert_eq!(dropped_events(rest_port, "simple-switch"), 0, "the app's queue dropped events ({sent} packet-ins)");
    assert!(!host.logged(&["is not keeping up"]), "the host logged a full queue");
    host.stop();
}
