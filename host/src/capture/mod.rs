//! OpenFlow captures: each switch connection's session written as a classic pcap file that Wireshark's OpenFlow
//! dissector reads (`tatsu run --capture DIR`, or turned on for one datapath while running).
//!
//! - **Files.** One per connection, `DPID_PEERIP_PEERPORT_STARTTIME.pcap` in the capture directory (`unknown`
//!   for a connection that never said its datapath id), raw-IP records (`LINKTYPE_RAW`) of real IPv4 (or IPv6)
//!   and TCP headers: the connection's own addresses and ports, sequence and acknowledgment numbers that advance
//!   with the bytes of each direction, and the time each read or write happened. A connection captured from its
//!   start begins with a SYN, SYN-ACK, ACK; one turned on later starts mid-stream. The format is
//!   [`tatsu_packet::pcap`]'s; nothing here knows it beyond [`writer`].
//! - **The hot path.** Each connection has a [`Tap`]; its reader and writer call it after every read and write.
//!   When the tap is off that is one relaxed load and a branch. When on, the bytes are copied into a record
//!   (sequence numbers are given here, so a dropped record is a gap Wireshark shows, not a lie) and handed to the
//!   one writer thread (`tatsu-capture`) through a queue bounded in bytes: when it is full the record is dropped,
//!   counted and logged (a line a second at most). No file is touched on a scheduler thread.
//! - **Until the datapath id is known**, a connection's records wait in its tap (bounded), so that its file can be
//!   named by the id, and a datapath turned on by id is captured from its next connection's first byte.
//! - **Failures.** A write that fails (a full disk, `ENOSPC`) or a capture directory that disappears (checked
//!   once a second) stops every capture with one log line; the switches are served as before, and `tatsu capture
//!   on` starts capturing again.
//! - **Hot restart.** A captured connection's file is closed (its last records written) before the connection
//!   is handed over, and the successor appends to the same file, continuing both sequence numbers ([`Continued`]
//!   in the handover record); a file the successor cannot append to is replaced by a new one that continues them.
//!   A datapath turned off at run time stays off.
//! - **Switches while running**: [`Captures::set`] and [`Captures::status`], behind `tatsu capture` on the
//!   control socket and `/tatsu/capture` on the REST server.

mod writer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::logging::LogLimit;
use writer::{Job, Queue};

/// Where captures go, and whether every connection is captured from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSettings {
    /// The directory files are written in.
    pub dir: PathBuf,
    /// Capture every connection (`--capture`); else only datapaths turned on while running (`--capture-dir`).
    pub all: bool,
}

/// Bytes of records waiting for the writer thread, at most; past it records are dropped (and counted).
const QUEUE_BYTES: usize = 32 << 20;

/// Bytes a connection's tap holds while its datapath id is not known yet; past it records are dropped.
const PENDING_BYTES: usize = 256 << 10;

/// How long a hot restart waits for a connection's capture file to be written out and closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The capture service of a host: its settings, the taps of live connections, the writer thread's queue.
pub struct Captures {
    inner: Arc<Inner>,
}

/// What taps and the writer thread share.
struct Inner {
    dir: Option<PathBuf>,
    control: Mutex<Control>,
    queue: Queue,
    writer: OnceLock<Result<(), String>>,
    next_file: AtomicU64,
    dropped_records: AtomicU64,
    dropped_bytes: AtomicU64,
    written_bytes: AtomicU64,
    drop_log: LogLimit,
}

/// What decides which connections are captured.
#[derive(Default)]
struct Control {
    /// Capture every connection not turned off by id.
    all: bool,
    /// Datapaths turned on or off by id, over `all`.
    by_dpid: HashMap<u64, bool>,
    /// Why capturing stopped (a write failed, the directory went away), until it is turned on again.
    stopped: Option<String>,
    /// Every live connection's tap, by connection number.
    taps: HashMap<u64, Weak<Tap>>,
}

impl Control {
    /// Whether a connection of `dpid` (`None`: not known yet) is to be captured.
    fn wants(&self, dpid: Option<u64>) -> bool {
        self.stopped.is_none() && dpid.and_then(|dpid| self.by_dpid.get(&dpid).copied()).unwrap_or(self.all)
    }

    /// Whether a connection whose datapath id is not known yet might be: its records must be held until it is.
    fn might_want(&self) -> bool {
        self.stopped.is_none() && (self.all || self.by_dpid.values().any(|on| *on))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// What a hot-restart successor needs to continue a connection's capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continued {
    /// The file to append to (`None`: the predecessor could not close it in time; start a new one).
    pub file: Option<PathBuf>,
    /// The next sequence number of the switch's bytes.
    pub seq_from_switch: u32,
    /// The next sequence number of the controller's bytes.
    pub seq_to_switch: u32,
}

impl Captures {
    /// The capture service; `settings` `None`: nothing is captured (until a successor inherits a capture).
    pub fn new(settings: Option<CaptureSettings>) -> Arc<Captures> {
        let all = settings.as_ref().is_some_and(|s| s.all);
        let inner = Inner {
            dir: settings.map(|s| s.dir),
            control: Mutex::new(Control { all, ..Control::default() }),
            queue: Queue::new(QUEUE_BYTES),
            writer: OnceLock::new(),
            next_file: AtomicU64::new(1),
            dropped_records: AtomicU64::new(0),
            dropped_bytes: AtomicU64::new(0),
            written_bytes: AtomicU64::new(0),
            drop_log: LogLimit::new(1),
        };
        Arc::new(Captures { inner: Arc::new(inner) })
    }

    /// The capture directory, if one is set.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// Makes the capture directory if it is missing (at start, on the main thread).
    pub fn prepare(&self) -> Result<(), String> {
        match &self.inner.dir {
            Some(dir) => std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the capture directory {}: {e}", dir.display())),
            None => Ok(()),
        }
    }

    /// A tap for a new connection (number `id`) between `peer` (the switch) and `local`; `switch_opened`: the
    /// switch connected to the host (else the host dialled it). Captured from its first byte if the settings
    /// say so.
    pub fn tap(&self, id: u64, peer: SocketAddr, local: SocketAddr, switch_opened: bool) -> Arc<Tap> {
        let hold = lock(&self.inner.control).might_want();
        let started = now();
        let tap = Tap::new(&self.inner, id, Ends { peer, local, switch_opened }, started);
        if hold {
            let mut state = lock(&tap.state);
            let first = Some(state.seq);
            state.mode = Mode::Pending { records: Vec::new(), bytes: 0, first };
            tap.active.store(true, Ordering::Relaxed);
        }
        self.register(tap)
    }

    /// The tap of a connection adopted in a hot restart (its datapath id known): its predecessor's capture
    /// continues if it had one (`continued`); `off`: the predecessor had the datapath turned off by id.
    pub fn adopted_tap(
        &self,
        id: u64,
        dpid: u64,
        ends: (SocketAddr, SocketAddr),
        continued: Option<&Continued>,
        off: bool,
    ) -> Arc<Tap> {
        let wants = {
            let mut control = lock(&self.inner.control);
            if off {
                control.by_dpid.insert(dpid, false);
            }
            control.wants(Some(dpid))
        };
        let stopped = lock(&self.inner.control).stopped.is_some();
        let ends = Ends { peer: ends.0, local: ends.1, switch_opened: true };
        let tap = self.register(Tap::new(&self.inner, id, ends, now()));
        {
            let mut state = lock(&tap.state);
            state.dpid = Some(dpid);
            match continued {
                Some(continued) if !stopped => {
                    state.seq = [continued.seq_from_switch, continued.seq_to_switch];
                    tap.record_into(&mut state, continued.file.clone());
                }
                _ if wants => tap.record_into(&mut state, None),
                _ => {}
            }
        }
        tap
    }

    fn register(&self, tap: Tap) -> Arc<Tap> {
        let tap = Arc::new(tap);
        lock(&self.inner.control).taps.insert(tap.id, Arc::downgrade(&tap));
        tap
    }

    /// Turns capturing on or off for datapath `dpid`, or (`None`) for every connection (which also forgets what
    /// was set per datapath). Turning on also starts again after a failure. Returns what was done, for the user.
    pub fn set(&self, dpid: Option<u64>, on: bool) -> Result<String, String> {
        let Some(dir) = &self.inner.dir else {
            return Err("no capture directory: start the host with --capture DIR or --capture-dir DIR".to_owned());
        };
        let taps: Vec<Arc<Tap>> = {
            let mut control = lock(&self.inner.control);
            if on {
                control.stopped = None;
            }
            match dpid {
                Some(dpid) => {
                    control.by_dpid.insert(dpid, on);
                }
                None => {
                    control.all = on;
                    control.by_dpid.clear();
                }
            }
            control.taps.values().filter_map(Weak::upgrade).collect()
        };
        let mut changed = 0;
        for tap in &taps {
            let mut state = lock(&tap.state);
            if dpid.is_some() && state.dpid != dpid {
                continue;
            }
            if tap.switch(&mut state, on) {
                changed += 1;
            }
        }
        let verb = if on { "capturing" } else { "not capturing" };
        Ok(match dpid {
            Some(dpid) if changed == 0 && !taps.iter().any(|tap| lock(&tap.state).dpid == Some(dpid)) => {
                format!("datapath {dpid:016x} is not connected; {verb} its next connection (in {})", dir.display())
            }
            Some(dpid) => format!("{verb} datapath {dpid:016x} (in {})", dir.display()),
            None => format!("{verb} every connection ({changed} changed now; in {})", dir.display()),
        })
    }

    /// What is captured, as JSON: the directory, the settings, why capturing stopped, every file being written,
    /// and the counts of bytes written and records dropped.
    pub fn status(&self) -> serde_json::Value {
        let (all, by_dpid, stopped, taps) = {
            let control = lock(&self.inner.control);
            let by_dpid: serde_json::Map<String, serde_json::Value> =
                control.by_dpid.iter().map(|(dpid, on)| (format!("{dpid:016x}"), json!(on))).collect();
            let taps: Vec<Arc<Tap>> = control.taps.values().filter_map(Weak::upgrade).collect();
            (control.all, by_dpid, control.stopped.clone(), taps)
        };
        let mut files: Vec<serde_json::Value> = taps
            .iter()
            .filter_map(|tap| {
                let state = lock(&tap.state);
                let file = match &state.mode {
                    Mode::Recording { path, .. } => json!(path.display().to_string()),
                    Mode::Pending { .. } => json!(null),
                    Mode::Off => return None,
                };
                Some(json!({
                    "connection": tap.id,
                    "dpid": state.dpid.map(|dpid| format!("{dpid:016x}")),
                    "peer": tatsu_packet::pcap::unmapped(state.ends.peer).to_string(),
                    "file": file,
                }))
            })
            .collect();
        files.sort_by_key(|file| file["connection"].as_u64());
        json!({
            "directory": self.inner.dir.as_ref().map(|dir| dir.display().to_string()),
            "all": all,
            "datapaths": by_dpid,
            "stopped": stopped,
            "captures": files,
            "written_bytes": self.inner.written_bytes.load(Ordering::Relaxed),
            "dropped_records": self.inner.dropped_records.load(Ordering::Relaxed),
            "dropped_bytes": self.inner.dropped_bytes.load(Ordering::Relaxed),
        })
    }

    /// Waits (at most `within`) until everything queued is written (when the host stops).
    pub fn flush(&self, within: Duration) {
        if self.inner.writer.get().is_none() {
            return;
        }
        let (done, wait) = mpsc::sync_channel(1);
        self.inner.queue.push_always(Job::Flush { done });
        let _ = wait.recv_timeout(within);
    }
}

/// Runs a `capture ...` line of the control socket (`on [DPID]`, `off [DPID]`, `status`); the reply for the user.
pub fn command(captures: &Captures, arguments: &str) -> Result<String, String> {
    let mut words = arguments.split_whitespace();
    let (action, dpid, extra) = (words.next(), words.next(), words.next());
    if let Some(extra) = extra {
        return Err(format!("capture: unexpected `{extra}` (capture on|off|status [DPID])"));
    }
    let dpid = dpid.map(parse_dpid).transpose()?;
    match (action, dpid) {
        (Some("on"), dpid) => captures.set(dpid, true),
        (Some("off"), dpid) => captures.set(dpid, false),
        (Some("status"), None) => Ok(captures.status().to_string()),
        _ => Err("usage: capture on|off [DPID], capture status".to_owned()),
    }
}

/// Parses a datapath id as the user gives it: 16 hex digits (as tatsu prints them), `0x` and hex, or decimal.
pub fn parse_dpid(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let parsed = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
    } else if text.len() == 16 {
        u64::from_str_radix(text, 16)
    } else {
        text.parse()
    };
    parsed.map_err(|_| format!("`{text}` is not a datapath id (16 hex digits, 0x and hex, or decimal)"))
}

/// The two ends of a connection.
#[derive(Clone, Copy)]
struct Ends {
    /// The switch.
    peer: SocketAddr,
    /// The host.
    local: SocketAddr,
    /// The switch opened the connection.
    switch_opened: bool,
}

/// Where a tap is.
enum Mode {
    /// Nothing is captured.
    Off,
    /// Records are held until the datapath id is known; `first`: the sequence numbers the connection started
    /// with, if it is captured from its start.
    Pending { records: Vec<Held>, bytes: usize, first: Option<[u32; 2]> },
    /// Records go to the writer, for file `file` at `path`.
    Recording { file: u64, path: PathBuf },
}

/// A record held until the datapath id is known.
struct Held {
    time: Duration,
    from_switch: bool,
    seq: u32,
    ack: u32,
    bytes: Vec<u8>,
}

/// One connection's capture: called by its reader after each read and its writer after each write.
pub struct Tap {
    /// Not [`Mode::Off`]: the one thing the hot path reads.
    active: AtomicBool,
    id: u64,
    inner: Arc<Inner>,
    state: Mutex<TapState>,
}

struct TapState {
    ends: Ends,
    started: Duration,
    dpid: Option<u64>,
    /// The next sequence number of each direction: from the switch, to the switch.
    seq: [u32; 2],
    mode: Mode,
}

impl Tap {
    fn new(inner: &Arc<Inner>, id: u64, ends: Ends, started: Duration) -> Tap {
        // Initial sequence numbers: any will do, different per connection and direction.
        let isn = (started.subsec_nanos() ^ (id as u32).rotate_left(16)).wrapping_mul(0x9e37_79b9);
        let mode = Mode::Off;
        Tap {
            active: AtomicBool::new(false),
            id,
            inner: Arc::clone(inner),
            state: Mutex::new(TapState {
                ends,
                started,
                dpid: None,
                seq: [isn, isn.rotate_left(13) ^ 0x5bd1_e995],
                mode,
            }),
        }
    }

    /// The last `read` bytes of `buffer` were received from the switch (one read): the reader's form, which
    /// slices nothing unless the tap is on.
    #[inline]
    pub fn received_last(&self, buffer: &[u8], read: usize) {
        if read > 0 && self.active.load(Ordering::Relaxed) {
            self.record(true, buffer.get(buffer.len().saturating_sub(read)..).unwrap_or_default());
        }
    }

    /// Bytes sent to the switch (one write).
    #[inline]
    pub fn sent(&self, bytes: &[u8]) {
        if self.active.load(Ordering::Relaxed) {
            self.record(false, bytes);
        }
    }

    #[cold]
    fn record(&self, from_switch: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let time = now();
        let mut state = lock(&self.state);
        let direction = usize::from(!from_switch);
        let (seq, ack) = (state.seq[direction], state.seq[1 - direction]);
        state.seq[direction] = seq.wrapping_add(bytes.len() as u32);
        match &mut state.mode {
            Mode::Off => {}
            Mode::Pending { records, bytes: held, .. } => {
                if *held + bytes.len() <= PENDING_BYTES {
                    *held += bytes.len();
                    records.push(Held { time, from_switch, seq, ack, bytes: bytes.to_vec() });
                } else {
                    self.inner.dropped(bytes.len());
                }
            }
            Mode::Recording { file, .. } => {
                let job =
                    Job::Segment { file: *file, time, from_switch, seq, ack, flags: PSH_ACK, payload: bytes.to_vec() };
                if !self.inner.queue.push_bounded(job, bytes.len()) {
                    self.inner.dropped(bytes.len());
                }
            }
        }
    }

    /// The switch said its datapath id: held records go to a file named by it, or are dropped if the datapath
    /// is not to be captured.
    pub fn datapath_known(&self, dpid: u64) {
        let wants = lock(&self.inner.control).wants(Some(dpid));
        let mut state = lock(&self.state);
        state.dpid = Some(dpid);
        if matches!(state.mode, Mode::Pending { .. }) {
            if wants {
                self.record_into(&mut state, None);
            } else {
                state.mode = Mode::Off;
                self.active.store(false, Ordering::Relaxed);
            }
        }
    }

    /// Turns this connection's capture on or off; whether anything changed.
    fn switch(&self, state: &mut TapState, on: bool) -> bool {
        match (&state.mode, on) {
            (Mode::Off, true) => {
                if state.dpid.is_some() {
                    self.record_into(state, None);
                } else {
                    state.mode = Mode::Pending { records: Vec::new(), bytes: 0, first: None };
                    self.active.store(true, Ordering::Relaxed);
                }
                true
            }
            (Mode::Pending { .. }, false) => {
                state.mode = Mode::Off;
                self.active.store(false, Ordering::Relaxed);
                true
            }
            (Mode::Recording { .. }, false) => {
                self.close(state, None);
                true
            }
            _ => false,
        }
    }

    /// Starts recording into `append_to` (continued from a predecessor), else a new file in the capture
    /// directory; held records go first.
    fn record_into(&self, state: &mut TapState, append_to: Option<PathBuf>) {
        let (append, path) = match (append_to, &self.inner.dir) {
            (Some(path), _) => (true, path),
            (None, Some(dir)) => (false, dir.join(file_name(state.dpid, state.ends.peer, state.started))),
            (None, None) => return,
        };
        let file = self.inner.next_file.fetch_add(1, Ordering::Relaxed);
        let ends = [state.ends.peer, state.ends.local];
        self.inner.start_writer();
        self.inner.queue.push_always(Job::Open { file, path: path.clone(), append, ends });
        let held = std::mem::replace(&mut state.mode, Mode::Recording { file, path });
        if let Mode::Pending { records, first, .. } = held {
            if let Some(first) = first {
                self.push_handshake(state, file, first);
            }
            for Held { time, from_switch, seq, ack, bytes } in records {
                let job = Job::Segment { file, time, from_switch, seq, ack, flags: PSH_ACK, payload: bytes };
                self.inner.queue.push_always(job);
            }
        }
        self.active.store(true, Ordering::Relaxed);
    }

    /// The SYN, SYN-ACK and ACK that opened a connection whose first data bytes are numbered `seq`.
    fn push_handshake(&self, state: &TapState, file: u64, seq: [u32; 2]) {
        let (switch_isn, host_isn) = (seq[0].wrapping_sub(1), seq[1].wrapping_sub(1));
        // (from the switch, seq, ack, flags), in the order the opener and the other end send them.
        let opened_by_switch =
            [(true, switch_isn, 0, SYN), (false, host_isn, seq[0], SYN | ACK), (true, seq[0], seq[1], ACK)];
        let opened_by_host =
            [(false, host_isn, 0, SYN), (true, switch_isn, seq[1], SYN | ACK), (false, seq[1], seq[0], ACK)];
        let segments = if state.ends.switch_opened { opened_by_switch } else { opened_by_host };
        for (from_switch, seq, ack, flags) in segments {
            let time = state.started;
            self.inner.queue.push_always(Job::Segment {
                file,
                time,
                from_switch,
                seq,
                ack,
                flags,
                payload: Vec::new(),
            });
        }
    }

    /// Stops recording: the writer writes what is queued for the file and closes it. With `done`, it says so
    /// (with the file's path) when it has.
    fn close(&self, state: &mut TapState, done: Option<mpsc::SyncSender<Option<PathBuf>>>) {
        if let Mode::Recording { file, .. } = std::mem::replace(&mut state.mode, Mode::Off) {
            self.inner.queue.push_always(Job::Close { file, done });
        }
        self.active.store(false, Ordering::Relaxed);
    }

    /// Hot restart: ends this connection's capture here, waiting (a second at most) until its file is written
    /// and closed, and says how the successor continues it (`None`: not captured). Called on a plain OS thread.
    pub fn hand_over(&self) -> Option<Continued> {
        let (done, closed) = mpsc::sync_channel(1);
        let seq = {
            let mut state = lock(&self.state);
            if !matches!(state.mode, Mode::Recording { .. }) {
                state.mode = Mode::Off;
                self.active.store(false, Ordering::Relaxed);
                return None;
            }
            self.close(&mut state, Some(done));
            state.seq
        };
        let file = closed.recv_timeout(CLOSE_TIMEOUT).ok().flatten();
        Some(Continued { file, seq_from_switch: seq[0], seq_to_switch: seq[1] })
    }

    /// Whether datapath `dpid` is turned off by id (for the hot-restart successor).
    pub fn turned_off(&self, dpid: u64) -> bool {
        lock(&self.inner.control).by_dpid.get(&dpid) == Some(&false)
    }
}

impl Drop for Tap {
    /// The connection is gone: its file is closed; records held for a connection that never said its datapath
    /// id go to an `unknown_...` file if every connection is captured.
    fn drop(&mut self) {
        let wants = {
            let mut control = lock(&self.inner.control);
            control.taps.remove(&self.id);
            control.wants(None)
        };
        let mut state = lock(&self.state);
        if wants && matches!(state.mode, Mode::Pending { .. }) {
            self.record_into(&mut state, None);
        }
        self.close(&mut state, None);
    }
}

impl Inner {
    /// Counts a dropped record and logs it (a line a second at most).
    #[cold]
    fn dropped(&self, bytes: usize) {
        let records = self.dropped_records.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = self.dropped_bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if self.drop_log.check().is_some() {
            log::warn!(
                target: "tatsu::capture",
                "capture records dropped: the writer does not keep up ({records} records, {bytes} bytes dropped so far)"
            );
        }
    }

    /// Starts the writer thread (once).
    fn start_writer(self: &Arc<Self>) {
        let inner = Arc::clone(self);
        let started = self.writer.get_or_init(move || writer::start(inner));
        if let Err(e) = started {
            log::error!(target: "tatsu::capture", "{e}");
        }
    }

    /// Stops every capture after a failure: one log line; taps go off; the writer discards what is queued.
    fn stop(&self, reason: String) {
        let taps: Vec<Arc<Tap>> = {
            let mut control = lock(&self.control);
            if control.stopped.is_some() {
                return;
            }
            log::error!(
                target: "tatsu::capture",
                "capture stopped: {reason}; the switches are served as before (`tatsu capture on` starts capturing again)"
            );
            control.stopped = Some(reason);
            control.taps.values().filter_map(Weak::upgrade).collect()
        };
        for tap in taps {
            let mut state = lock(&tap.state);
            state.mode = Mode::Off;
            tap.active.store(false, Ordering::Relaxed);
        }
    }
}

const SYN: u8 = tatsu_packet::build::tcp_flags::SYN;
const ACK: u8 = tatsu_packet::build::tcp_flags::ACK;
const PSH_ACK: u8 = tatsu_packet::build::tcp_flags::PSH | ACK;

/// `0000000000000001_127.0.0.1_40000_20261201T175255.123456Z.pcap` (`unknown` before the datapath id is known; an
/// IPv6 address with `-` for `:`).
fn file_name(dpid: Option<u64>, peer: SocketAddr, started: Duration) -> String {
    let peer = tatsu_packet::pcap::unmapped(peer);
    let dpid = dpid.map_or_else(|| "unknown".to_owned(), |dpid| format!("{dpid:016x}"));
    let ip = peer.ip().to_string().replace(':', "-");
    format!("{dpid}_{ip}_{}_{}.pcap", peer.port(), utc(started).replace(['-', ':'], ""))
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` for a time since the Unix epoch.
pub fn utc(time: Duration) -> String {
    let seconds = time.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        time.subsec_micros()
    )
}

#[cfg(test)]
mod tests;
