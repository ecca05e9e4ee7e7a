//! `tatsu-bench-restart-blackout`: connects N emulated OpenFlow 1.3 switches to a running tatsu, has each send an
//! echo request every few milliseconds, hot-restarts tatsu a few times with `tatsu restart`, and reports the
//! blackout — the longest any switch waited for an echo reply — and the restart time.
//!
//! ```text
//! tatsu-bench-restart-blackout --controller 127.0.0.1:6653 --switches 100 --tatsu target/release/tatsu \
//!     --control-socket /tmp/tatsu.sock [--restarts 3] [--interval-ms 10]
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tatsu_ofproto::v1_3;

struct Options {
    controller: String,
    switches: usize,
    restarts: usize,
    interval: Duration,
    tatsu: String,
    control_socket: String,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        controller: "127.0.0.1:6653".to_owned(),
        switches: 100,
        restarts: 3,
        interval: Duration::from_millis(10),
        tatsu: "target/release/tatsu".to_owned(),
        control_socket: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--controller" => options.controller = value.clone(),
            "--switches" => options.switches = usize::try_from(number()?).map_err(|e| e.to_string())?,
            "--restarts" => options.restarts = usize::try_from(number()?).map_err(|e| e.to_string())?,
            "--interval-ms" => options.interval = Duration::from_millis(number()?),
            "--tatsu" => options.tatsu = value.clone(),
            "--control-socket" => options.control_socket = value.clone(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if options.control_socket.is_empty() {
        return Err("--control-socket is required".to_owned());
    }
    Ok(options)
}

fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 8];
    stream.read_exact(&mut header)?;
    let length = usize::from(u16::from_be_bytes([header[2], header[3]])).max(8);
    let mut message = header.to_vec();
    message.resize(length, 0);
    stream.read_exact(&mut message[8..])?;
    Ok(message)
}

/// Connects and runs the handshake as datapath `dpid`.
fn connect(controller: &str, dpid: u64) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(controller)?;
    stream.set_nodelay(true)?;
    let mut out = Vec::new();
    tatsu_ofproto::encode_hello(4, &[4], 1, &mut out).map_err(std::io::Error::other)?;
    stream.write_all(&out)?;
    loop {
        let message = read_message(&mut stream)?;
        let xid = u32::from_be_bytes([message[4], message[5], message[6], message[7]]);
        match message[1] {
            2 => {
                let mut reply = message.clone();
                reply[1] = 3;
                stream.write_all(&reply)?;
            }
            5 => {
                let features =
                    v1_3::SwitchFeatures { datapath_id: dpid, n_buffers: 0, n_tables: 1, ..Default::default() };
                let reply = tatsu_ofproto::Message::from(v1_3::Message::FeaturesReply(features));
                stream.write_all(&reply.to_vec(xid).map_err(std::io::Error::other)?)?;
            }
            18 => {
                let reply = v1_3::Message::MultipartReply(v1_3::MultipartReply {
                    flags: 0,
                    body: v1_3::multipart::MultipartReplyBody::PortDesc(Vec::new()),
                });
                stream.write_all(&tatsu_ofproto::Message::from(reply).to_vec(xid).map_err(std::io::Error::other)?)?;
                return Ok(stream);
            }
            _ => {}
        }
    }
}

/// What one switch saw.
#[derive(Default, Clone)]
struct Seen {
    replies: u64,
    worst: Duration,
    disconnected: bool,
}

fn run_switch(mut stream: TcpStream, interval: Duration, running: &AtomicBool, seen: &Mutex<Seen>) {
    let mut xid: u32 = 1;
    while running.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let echo = [4u8, 2, 0, 8, (xid >> 24) as u8, (xid >> 16) as u8, (xid >> 8) as u8, xid as u8];
        if stream.write_all(&echo).is_err() {
            break;
        }
        loop {
            match read_message(&mut stream) {
                Ok(message) if message[1] == 3 && message[4..8] == echo[4..8] => break,
                Ok(message) if message[1] == 2 => {
                    let mut reply = message.clone();
                    reply[1] = 3;
                    let _ = stream.write_all(&reply);
                }
                Ok(_) => {}
                Err(_) => {
                    seen.lock().map(|mut s| s.disconnected = true).ok();
                    return;
                }
            }
        }
        let rtt = sent.elapsed();
        if let Ok(mut s) = seen.lock() {
            s.replies += 1;
            s.worst = s.worst.max(rtt);
        }
        xid = xid.wrapping_add(1);
        std::thread::sleep(interval.saturating_sub(rtt));
    }
}

fn main() -> Result<(), String> {
    let options = options()?;
    let running = Arc::new(AtomicBool::new(true));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut switches = Vec::new();
    for index in 0..options.switches {
        let stream = connect(&options.controller, index as u64 + 1).map_err(|e| format!("switch {index}: {e}"))?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (running, ready, seen_by_thread) = (Arc::clone(&running), Arc::clone(&ready), Arc::clone(&seen));
        let interval = options.interval;
        let thread = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                ready.fetch_add(1, Ordering::Relaxed);
                run_switch(stream, interval, &running, &seen_by_thread);
            })
            .map_err(|e| e.to_string())?;
        switches.push((thread, seen));
    }
    std::thread::sleep(Duration::from_secs(2));
    // Baseline: the worst reply time before any restart.
    let baseline = switches.iter().filter_map(|(_, seen)| seen.lock().ok().map(|s| s.worst)).max().unwrap_or_default();
    for (_, seen) in &switches {
        if let Ok(mut s) = seen.lock() {
            s.worst = Duration::ZERO;
        }
    }
    let mut restart_times = Vec::new();
    for round in 1..=options.restarts {
        let started = Instant::now();
        let output = Command::new(&options.tatsu)
            .args(["restart", "--control-socket", &options.control_socket])
            .output()
            .map_err(|e| format!("tatsu restart: {e}"))?;
        if !output.status.success() {
            return Err(format!("restart {round} failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        restart_times.push(started.elapsed());
        std::thread::sleep(Duration::from_secs(1));
    }
    running.store(false, Ordering::Relaxed);
    let mut worst: Vec<Duration> = Vec::new();
    let mut disconnected = 0;
    let mut replies = 0;
    for (thread, seen) in switches {
        let _ = thread.join();
        let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
        worst.push(seen.worst);
        replies += seen.replies;
        disconnected += usize::from(seen.disconnected);
    }
    worst.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let restart_max = restart_times.iter().max().copied().unwrap_or_default();
    let restart_avg = restart_times.iter().sum::<Duration>() / u32::try_from(restart_times.len().max(1)).unwrap_or(1);
    println!(
        "switches={} restarts={} blackout_max_ms={:.1} blackout_p50_ms={:.1} baseline_worst_ms={:.1} \
         restart_avg_ms={:.0} restart_max_ms={:.0} echo_replies={} disconnected={}",
        options.switches,
        options.restarts,
        ms(worst.last().copied().unwrap_or_default()),
        ms(worst.get(worst.len() / 2).copied().unwrap_or_default()),
        ms(baseline),
        ms(restart_avg),
        ms(restart_max),
        replies,
        disconnected
    );
    if disconnected > 0 {
        return Err(format!("{disconnected} switch(es) lost their connection"));
    }
    Ok(())
}
