//! `tatsu-bench-grid`: how fast a controller learns a network's topology.
//!
//! ROWS × COLS emulated switches (OpenFlow 1.0 or 1.3, four ports each: 1 north, 2 east, 3 south, 4 west) connect
//! to a controller and answer its handshake. Neighbours in the grid are wired: a PACKET_OUT carrying an LLDP
//! frame out of a wired port comes back from the neighbour as a PACKET_IN on the facing port, the way a real
//! cable and a table-miss (or LLDP) flow would deliver it. The benchmark polls the controller's REST topology
//! (`GET /v1.0/topology/links`, Ryu's `rest_topology` API, which tatsu's `topology` app serves too) until it lists
//! every link of the grid, in each direction, and prints:
//!
//! - the time from the last handshake to the full topology, and the LLDP probes the controller sent meanwhile;
//! - the controller's resident memory before the switches connect and once the topology is complete
//!   (`--controller-pid`).
//!
//! It measures a controller's discovery, not its forwarding: other packet-outs and flow-mods are counted and
//! dropped. Run it against tatsu and against Ryu/os-ken's `switches.py` in the same session (`scripts/bench-topology`).
//!
//! With `--hold`, the switches stay connected after the result line, and cables can be cut and mended from standard
//! input, one command a line: `down DPID PORT` or `up DPID PORT` (the cable at that port: both of its ends report a
//! port status with the link down or up, and no probe crosses it while it is down). Each command is answered by a
//! line `ok ...` once its port statuses are queued, or `error ...`. End of input ends the run
//! (`scripts/bench-topology-view` uses this).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use tatsu_ofproto::types::FixedStr;
use tatsu_ofproto::{v1_0, v1_3, MacAddr, Message};

#[derive(Parser, Debug)]
#[command(name = "tatsu-bench-grid", version, about)]
struct Cli {
    /// The controller's OpenFlow address.
    #[arg(long, default_value = "127.0.0.1:6653")]
    controller: SocketAddr,
    /// The controller's REST API (`/v1.0/topology/links` is polled there).
    #[arg(long, default_value = "127.0.0.1:8080")]
    rest: SocketAddr,
    /// Rows of the grid.
    #[arg(long, default_value_t = 10)]
    rows: u32,
    /// Columns of the grid.
    #[arg(long, default_value_t = 10)]
    cols: u32,
    /// OpenFlow version the switches speak: 1.0 or 1.3.
    #[arg(long = "of", id = "of", default_value = "1.3", value_parser = parse_version)]
    version: u8,
    /// Seconds to wait for the full topology.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// The controller's pid, to read its resident memory.
    #[arg(long)]
    controller_pid: Option<u32>,
    /// A name for the run, printed in the result line.
    #[arg(long, default_value = "run")]
    label: String,
    /// Stay connected after the result, taking `down DPID PORT` / `up DPID PORT` commands on standard input.
    #[arg(long)]
    hold: bool,
}

fn parse_version(text: &str) -> Result<u8, String> {
    match text {
        "1.0" | "10" => Ok(1),
        "1.3" | "13" => Ok(4),
        other => Err(format!("unsupported OpenFlow version {other:?}: use 1.0 or 1.3")),
    }
}

const PORTS: u32 = 4;
const LLDP: u16 = 0x88cc;

/// Where a wired port leads: the neighbour's switch index and port, or nothing at the grid's edge.
fn neighbour(grid: (u32, u32), switch: u32, port: u32) -> Option<(u32, u32)> {
    let (rows, cols) = grid;
    let (row, col) = (switch / cols, switch % cols);
    match port {
        1 if row > 0 => Some((switch - cols, 3)),
        2 if col + 1 < cols => Some((switch + 1, 4)),
        3 if row + 1 < rows => Some((switch + cols, 1)),
        4 if col > 0 => Some((switch - 1, 2)),
        _ => None,
    }
}

/// The links of the grid, counted one per direction (as Ryu and tatsu list them).
fn expected_links(rows: u32, cols: u32) -> usize {
    let cables = rows * cols.saturating_sub(1) + cols * rows.saturating_sub(1);
    2 * cables as usize
}

/// Shared by the switch threads: every switch's outbox, and what happened.
struct Fabric {
    grid: (u32, u32),
    version: u8,
    /// Each switch's writer thread drains its channel into the socket, so a reader never blocks on a write (a
    /// reader blocked writing into a neighbour whose controller is not reading could close a cycle of waits).
    senders: Vec<Mutex<mpsc::Sender<Vec<u8>>>>,
    /// Per switch: its handshake is done, so it may send packet-ins (one that has not even sent its HELLO must not).
    joined: Vec<AtomicBool>,
    /// Per switch, per port (index `port - 1`): the cable there is cut (`--hold`'s `down`).
    cut: Vec<[AtomicBool; PORTS as usize]>,
    ready: AtomicU64,
    probes: AtomicU64,
    delivered: AtomicU64,
    other: AtomicU64,
    last_ready: Mutex<Option<Instant>>,
}

impl Fabric {
    fn send(&self, switch: u32, bytes: &[u8]) {
        if let Some(sender) = self.senders.get(switch as usize) {
            let _ = sender.lock().unwrap_or_else(|e| e.into_inner()).send(bytes.to_vec());
        }
    }
}

impl Fabric {
    fn is_cut(&self, switch: u32, port: u32) -> bool {
        let index = port.wrapping_sub(1) as usize;
        self.cut.get(switch as usize).and_then(|ports| ports.get(index)).is_some_and(|cut| cut.load(Ordering::Acquire))
    }

    /// Cuts (`down`) or mends the cable at `switch`'s `port`: both ends send a port status saying so.
    fn set_cable(&self, switch: u32, port: u32, down: bool) -> Result<(u32, u32), String> {
        let (peer, peer_port) =
            neighbour(self.grid, switch, port).ok_or_else(|| format!("no cable at switch {switch} port {port}"))?;
        for (end, end_port) in [(switch, port), (peer, peer_port)] {
            self.cut[end as usize][end_port as usize - 1].store(down, Ordering::Release);
            let mut out = Vec::new();
            // OFPPR_MODIFY; state OFPPS_LINK_DOWN (1) or live (0).
            let state = u32::from(down);
            let message = if self.version == 1 {
                let mut desc = ports_1_0(end).swap_remove(end_port as usize - 1);
                desc.state = state;
                Message::V1_0(v1_0::Message::PortStatus(v1_0::PortStatus { reason: 2, desc }))
            } else {
                let mut desc = ports_1_3(end).swap_remove(end_port as usize - 1);
                desc.state = state;
                Message::V1_3(v1_3::Message::PortStatus(v1_3::PortStatus { reason: 2, desc }))
            };
            message.encode(0, &mut out).map_err(|e| e.to_string())?;
            self.send(end, &out);
        }
        Ok((peer, peer_port))
    }
}

/// `--hold`: takes `down DPID PORT` / `up DPID PORT` lines until the end of standard input.
fn hold(fabric: &Fabric) {
    for line in io::stdin().lines() {
        let Ok(line) = line else { return };
        let words: Vec<&str> = line.split_whitespace().collect();
        let parsed = match words.as_slice() {
            [command @ ("down" | "up"), dpid, port] => dpid
                .parse::<u64>()
                .ok()
                .and_then(|dpid| u32::try_from(dpid.checked_sub(1)?).ok())
                .zip(port.parse::<u32>().ok())
                .map(|(switch, port)| (*command == "down", switch, port)),
            [] => continue,
            _ => None,
        };
        let answer = match parsed {
            Some((down, switch, port)) => match fabric.set_cable(switch, port, down) {
                Ok((peer, peer_port)) => format!("ok {line} (and {} {peer_port})", dpid(peer)),
                Err(e) => format!("error {e}"),
            },
            None => format!("error {line:?}: expected `down DPID PORT` or `up DPID PORT`"),
        };
        println!("{answer}");
    }
}

fn dpid(switch: u32) -> u64 {
    u64::from(switch) + 1
}

fn port_mac(switch: u32, port: u32) -> MacAddr {
    let d = switch.to_be_bytes();
    MacAddr([0x0a, d[1], d[2], d[3], 0, port as u8])
}

fn ports_1_3(switch: u32) -> Vec<v1_3::Port> {
    (1..=PORTS)
        .map(|port_no| v1_3::Port {
            port_no,
            hw_addr: port_mac(switch, port_no),
            name: FixedStr::from(format!("s{}-eth{port_no}", dpid(switch)).as_str()),
            config: 0,
            state: 0,
            curr: 0x820,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 1_000_000,
            max_speed: 1_000_000,
        })
        .collect()
}

fn ports_1_0(switch: u32) -> Vec<v1_0::PhyPort> {
    ports_1_3(switch)
        .into_iter()
        .map(|p| v1_0::PhyPort {
            port_no: p.port_no as u16,
            hw_addr: p.hw_addr,
            name: p.name,
            config: 0,
            state: 0,
            curr: 0xc0,
            advertised: 0,
            supported: 0,
            peer: 0,
        })
        .collect()
}

/// One emulated switch's reader: answers the handshake and turns LLDP packet-outs into the neighbour's packet-ins.
fn run_switch(fabric: &Fabric, switch: u32, mut stream: TcpStream) -> io::Result<()> {
    let version = fabric.version;
    let mut out = Vec::new();
    tatsu_ofproto::encode_hello(version, &[version], 1, &mut out).map_err(io::Error::other)?;
    fabric.send(switch, &out);
    let mut buffer = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    let mut handshake_left = if version == 1 { 1 } else { 2 }; // features (and 1.3's port descriptions)
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        let mut consumed = 0;
        while let Ok(Some((frame, _))) = tatsu_ofproto::split_frame(&buffer[consumed..]) {
            let len = frame.len();
            let frame = buffer[consumed..consumed + len].to_vec();
            consumed += len;
            out.clear();
            let answered = answer(fabric, switch, &frame, &mut out)?;
            if !out.is_empty() {
                fabric.send(switch, &out);
            }
            if answered {
                handshake_left -= 1;
                if handshake_left == 0 {
                    fabric.joined[switch as usize].store(true, Ordering::Release);
                    fabric.ready.fetch_add(1, Ordering::Relaxed);
                    *fabric.last_ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                }
            }
        }
        buffer.drain(..consumed);
    }
}

/// Writes the answer to one controller message into `out`; true if it was a handshake step (features reply, or
/// 1.3's port descriptions).
fn answer(fabric: &Fabric, switch: u32, frame: &[u8], out: &mut Vec<u8>) -> io::Result<bool> {
    let (version, msg_type, xid) = (frame[0], frame[1], u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]));
    let mirror = |reply_type: u8, out: &mut Vec<u8>| {
        out.extend_from_slice(frame);
        out[1] = reply_type;
    };
    let encode = |message: Message, out: &mut Vec<u8>| message.encode(xid, out).map_err(io::Error::other);
    match (version, msg_type) {
        (_, 2) => mirror(3, out),                       // echo
        (1, 18) | (4, 20) => mirror(msg_type + 1, out), // barrier
        (4, 24) => mirror(25, out),                     // role
        (1, 5) => {
            let features = v1_0::SwitchFeatures {
                datapath_id: dpid(switch),
                n_buffers: 0,
                n_tables: 1,
                capabilities: 0x47,
                actions: 0xfff,
                ports: ports_1_0(switch),
            };
            encode(Message::V1_0(v1_0::Message::FeaturesReply(features)), out)?;
            return Ok(true);
        }
        (4, 5) => {
            let features = v1_3::SwitchFeatures {
                datapath_id: dpid(switch),
                n_buffers: 0,
                n_tables: 254,
                auxiliary_id: 0,
                capabilities: 0x47,
                reserved: 0,
            };
            encode(Message::V1_3(v1_3::Message::FeaturesReply(features)), out)?;
            return Ok(true);
        }
        (_, 7) => {
            let message = if version == 1 {
                Message::V1_0(v1_0::Message::GetConfigReply(v1_0::SwitchConfig { flags: 0, miss_send_len: 128 }))
            } else {
                Message::V1_3(v1_3::Message::GetConfigReply(v1_3::SwitchConfig { flags: 0, miss_send_len: 128 }))
            };
            encode(message, out)?;
        }
        (4, 18) => {
            let port_desc = frame.get(8..10) == Some(&[0, 13]);
            let body = if port_desc {
                v1_3::multipart::MultipartReplyBody::PortDesc(ports_1_3(switch))
            } else {
                v1_3::multipart::MultipartReplyBody::Desc(Box::default())
            };
            let reply = v1_3::multipart::MultipartReply { flags: 0, body };
            encode(Message::V1_3(v1_3::Message::MultipartReply(reply)), out)?;
            return Ok(port_desc);
        }
        (1, 16) => {
            let reply = v1_0::StatsReply { flags: 0, body: v1_0::StatsReplyBody::Desc(Box::default()) };
            encode(Message::V1_0(v1_0::Message::StatsReply(reply)), out)?;
        }
        (_, 13) => packet_out(fabric, switch, frame)?,
        _ => {
            fabric.other.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(false)
}

/// An LLDP packet-out out of a wired port: deliver it to the neighbour as a packet-in.
fn packet_out(fabric: &Fabric, switch: u32, frame: &[u8]) -> io::Result<()> {
    let (ports, data) = match tatsu_ofproto::decode(frame) {
        Ok((_, Message::V1_0(v1_0::Message::PacketOut(p)))) => {
            let ports: Vec<u32> = p
                .actions
                .iter()
                .filter_map(|a| match a {
                    v1_0::Action::Output { port, .. } => Some(u32::from(*port)),
                    _ => None,
                })
                .collect();
            (ports, p.data)
        }
        Ok((_, Message::V1_3(v1_3::Message::PacketOut(p)))) => {
            let ports: Vec<u32> = p
                .actions
                .iter()
                .filter_map(|a| match a {
                    v1_3::Action::Output { port, .. } => Some(*port),
                    _ => None,
                })
                .collect();
            (ports, p.data)
        }
        _ => return Ok(()),
    };
    let ethertype = data.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
    if ethertype != Some(LLDP) {
        fabric.other.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    fabric.probes.fetch_add(1, Ordering::Relaxed);
    for port in ports {
        let Some((peer, peer_port)) = neighbour(fabric.grid, switch, port) else { continue };
        if fabric.is_cut(switch, port) {
            continue;
        }
        // A cable to a switch that is not connected yet: the probe is lost, as it would be.
        if !fabric.joined[peer as usize].load(Ordering::Acquire) {
            continue;
        }
        let mut out = Vec::with_capacity(data.len() + 64);
        let total_len = data.len() as u16;
        let message = if fabric.version == 1 {
            Message::V1_0(v1_0::Message::PacketIn(v1_0::PacketIn {
                buffer_id: u32::MAX,
                total_len,
                in_port: peer_port as u16,
                reason: 1,
                data: data.clone(),
            }))
        } else {
            Message::V1_3(v1_3::Message::PacketIn(v1_3::PacketIn {
                buffer_id: u32::MAX,
                total_len,
                reason: 1,
                table_id: 0,
                cookie: 0,
                match_: v1_3::Match::new().in_port(peer_port),
                data: data.clone(),
            }))
        };
        message.encode(0, &mut out).map_err(io::Error::other)?;
        fabric.send(peer, &out);
        fabric.delivered.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// `GET path` over HTTP/1.1; the body.
fn http_get(address: SocketAddr, path: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or("");
    Ok(body.to_owned())
}

/// Links in a REST topology answer: each is one `"src"` object.
fn count_links(body: &str) -> usize {
    body.matches("\"src\"").count()
}

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(cli: &Cli) -> Result<(), String> {
    let total = cli.rows * cli.cols;
    if total == 0 {
        return Err("the grid needs at least one switch".into());
    }
    let want = expected_links(cli.rows, cli.cols);
    let rss_before = cli.controller_pid.and_then(resident_kib);
    let mut streams = Vec::new();
    let mut senders = Vec::new();
    for switch in 0..total {
        let stream = TcpStream::connect(cli.controller).map_err(|e| format!("switch {switch}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
        let (sender, outbox) = mpsc::channel::<Vec<u8>>();
        thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                while let Ok(bytes) = outbox.recv() {
                    if writer.write_all(&bytes).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        senders.push(Mutex::new(sender));
        streams.push(stream);
    }
    let fabric = Arc::new(Fabric {
        grid: (cli.rows, cli.cols),
        version: cli.version,
        senders,
        joined: (0..total).map(|_| AtomicBool::new(false)).collect(),
        cut: (0..total).map(|_| std::array::from_fn(|_| AtomicBool::new(false))).collect(),
        ready: AtomicU64::new(0),
        probes: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        other: AtomicU64::new(0),
        last_ready: Mutex::new(None),
    });
    let connected_at = Instant::now();
    for (switch, stream) in streams.into_iter().enumerate() {
        let fabric = Arc::clone(&fabric);
        thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let _ = run_switch(&fabric, switch as u32, stream);
            })
            .map_err(|e| e.to_string())?;
    }
    let deadline = connected_at + Duration::from_secs_f64(cli.timeout);
    while fabric.ready.load(Ordering::Relaxed) < u64::from(total) {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {total} switches finished the handshake",
                fabric.ready.load(Ordering::Relaxed)
            ));
        }
        thread::sleep(Duration::from_millis(10));
    }
    let handshakes_done = fabric.last_ready.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(connected_at);
    let probes_at_ready = fabric.probes.load(Ordering::Relaxed);
    let mut seen = 0;
    let mut polls: HashMap<&str, u64> = HashMap::new();
    let complete_at = loop {
        match http_get(cli.rest, "/v1.0/topology/links") {
            Ok(body) => {
                seen = count_links(&body);
                *polls.entry("ok").or_default() += 1;
                if seen >= want {
                    break Instant::now();
                }
            }
            Err(_) => *polls.entry("failed").or_default() += 1,
        }
        if Instant::now() > deadline {
            return Err(format!("topology incomplete after {:.0} s: {seen} of {want} links", cli.timeout));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let rss_after = cli.controller_pid.and_then(resident_kib);
    let memory = match (rss_before, rss_after) {
        (Some(before), Some(after)) => format!(
            " rss_before_kib={before} rss_after_kib={after} kib_per_switch={:.1}",
            after.saturating_sub(before) as f64 / f64::from(total)
        ),
        _ => String::new(),
    };
    println!(
        "grid label={} of={} switches={total} links={want} handshakes_s={:.3} discovery_s={:.3} probes={} \
         delivered={} other_messages={}{memory}",
        cli.label,
        if cli.version == 1 { "1.0" } else { "1.3" },
        (handshakes_done - connected_at).as_secs_f64(),
        (complete_at - handshakes_done).as_secs_f64(),
        fabric.probes.load(Ordering::Relaxed) - probes_at_ready,
        fabric.delivered.load(Ordering::Relaxed),
        fabric.other.load(Ordering::Relaxed),
    );
    if cli.hold {
        hold(&fabric);
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tatsu-bench-grid: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wired_port_leads_back_to_itself_and_the_edges_lead_nowhere() {
        let grid = (3, 4);
        let mut wired = 0;
        for switch in 0..12 {
            for port in 1..=PORTS {
                if let Some((peer, peer_port)) = neighbour(grid, switch, port) {
                    wired += 1;
                    assert_eq!(neighbour(grid, peer, peer_port), Some((switch, port)));
                }
            }
        }
        assert_eq!(wired, expected_links(3, 4));
        assert_eq!(expected_links(3, 4), 2 * (3 * 3 + 4 * 2));
        assert_eq!(neighbour(grid, 0, 1), None);
        assert_eq!(neighbour(grid, 0, 4), None);
        assert_eq!(neighbour(grid, 11, 2), None);
    }

    #[test]
    fn links_are_counted_from_a_rest_answer() {
        let body = r#"[{"src": {"dpid": "1"}, "dst": {}}, {"src": {}, "dst": {}}]"#;
        assert_eq!(count_links(body), 2);
        assert_eq!(count_links("[]"), 0);
    }
}
