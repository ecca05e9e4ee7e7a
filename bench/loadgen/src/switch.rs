//! Emulated switches: one epoll loop per thread drives many non-blocking connections through the handshake, then
//! sends packet-ins and counts the flow-mods and packet-outs that come back.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use crate::link::Link;
use crate::proto::{self, PacketIn, Response, BUFFER_SPAN, LEARN_BUFFER, V1_0, V1_3};

/// What the switches do once connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Keep the pipe full (as cbench: write packet-ins whenever the socket takes them, or up to `--window`).
    Throughput,
    /// One packet-in outstanding per switch; the next goes when the answer to this one arrives.
    Latency,
    /// Handshake, answer echoes, send nothing (memory per connected switch).
    Idle,
}

/// Settings shared by every switch.
#[derive(Clone, Debug)]
pub struct Settings {
    pub version: u8,
    pub macs: u32,
    pub mode: Mode,
    /// Packet-ins in flight per switch in throughput mode; 0: as many as the socket takes.
    pub window: u32,
    /// A 1.3 switch counts as ready this long after its FEATURES_REPLY even if no PORT_DESC request came.
    pub port_desc_grace: Duration,
    /// Latency mode: a request unanswered this long is counted as lost and the next one sent.
    pub timeout: Duration,
}

/// Counters of one switch.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub sent: u64,
    pub responses: u64,
    pub flow_mods: u64,
    pub packet_outs: u64,
    pub errors: u64,
    pub timeouts: u64,
}

/// Where a switch is.
#[derive(Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for FEATURES_REQUEST (and for 1.3, PORT_DESC) from the controller.
    Handshake,
    /// FEATURES_REPLY sent at this time (1.3: PORT_DESC may still come).
    Featured(Instant),
    /// Handshake done; waiting for every switch of the run to get here (as cbench, load starts together).
    Waiting,
    /// The destination-learning packet-in is out; waiting for its answer.
    Learning(Instant),
    /// Sending load (or idle, in idle mode).
    Running,
}

/// One emulated switch.
pub struct Switch {
    /// 0-based switch number; the datapath id is this plus one.
    pub index: u32,
    stream: Link,
    phase: Phase,
    partial: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    polling_out: bool,
    next_mac: u32,
    next_buffer: u32,
    next_xid: u32,
    in_flight: u32,
    last_response: Instant,
    outstanding: Option<(u32, Instant)>,
    dst: [u8; 6],
    /// Counted only while measuring.
    pub counts: Counts,
    /// Why the connection ended, if it did.
    pub dead: Option<String>,
}

/// Everything a thread's loop needs besides the switches.
pub struct Driver {
    epoll: Epoll,
    settings: Settings,
    data: PacketIn,
    learn: PacketIn,
    scratch: Vec<u8>,
    /// Counting responses and latencies.
    pub measuring: bool,
    /// Latency samples in nanoseconds (measuring only).
    pub latencies: Vec<u32>,
    gate: Option<Arc<Gate>>,
    released: bool,
}

/// The start line shared by every thread of a run: load starts when all switches finished their handshake, or
/// at the deadline.
pub struct Gate {
    ready: AtomicU32,
    total: u32,
    deadline: Instant,
}

impl Gate {
    /// A gate for `total` switches that opens at `deadline` at the latest.
    pub fn new(total: u32, deadline: Instant) -> Arc<Gate> {
        Arc::new(Gate { ready: AtomicU32::new(0), total, deadline })
    }

    fn open(&self, now: Instant) -> bool {
        self.ready.load(Ordering::Acquire) >= self.total || now >= self.deadline
    }
}

const OUT_TARGET: usize = 64 * 1024;

impl Switch {
    /// Connects switch `index` and sends its HELLO at once (blocking), then makes the socket non-blocking.
    /// (ovs-testcontroller times out a connection whose HELLO comes a few milliseconds late while it accepts others.)
    /// With `tls`, the TLS handshake comes first (blocking too).
    pub fn connect(
        index: u32,
        controller: SocketAddr,
        version: u8,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> io::Result<Switch> {
        let mut hello = Vec::new();
        proto::hello(version, &mut hello);
        let stream = Link::connect(controller, tls, &hello)?;
        let s = index.to_be_bytes();
        let switch = Switch {
            index,
            stream,
            phase: Phase::Handshake,
            partial: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            polling_out: false,
            next_mac: 0,
            next_buffer: 0,
            next_xid: 100,
            in_flight: 0,
            last_response: Instant::now(),
            outstanding: None,
            dst: [0x80, 0, s[0], s[1], s[2], s[3]],
            counts: Counts::default(),
            dead: None,
        };
        Ok(switch)
    }

    fn dpid(&self) -> u64 {
        u64::from(self.index) + 1
    }

    /// Whether the handshake and the destination learning are done.
    pub fn running(&self) -> bool {
        self.phase == Phase::Running && self.dead.is_none()
    }

    fn fail(&mut self, reason: String) {
        if self.dead.is_none() {
            self.dead = Some(reason);
        }
    }

    fn src(&mut self, macs: u32) -> [u8; 6] {
        let i = self.next_mac;
        self.next_mac = if i + 1 >= macs { 0 } else { i + 1 };
        let (s, m) = (self.index.to_be_bytes(), i.to_be_bytes());
        [0x02, s[2], s[3], m[1], m[2], m[3]]
    }

    fn xid(&mut self) -> u32 {
        self.next_xid = self.next_xid.wrapping_add(1).max(100);
        self.next_xid
    }

    fn send_packet_in(&mut self, template: &PacketIn, macs: u32, now: Instant) {
        let buffer = self.next_buffer;
        self.next_buffer = (buffer + 1) % BUFFER_SPAN;
        let (xid, src) = (self.xid(), self.src(macs));
        template.emit(&mut self.out, xid, buffer, &self.dst, &src);
        self.in_flight += 1;
        self.outstanding = Some((buffer, now));
    }

    /// Handles one framed message from the controller.
    fn handle(&mut self, msg: &[u8], driver: &mut DriverState<'_>, now: Instant) {
        let (Some(&version), Some(&msg_type)) = (msg.first(), msg.get(1)) else { return };
        let xid = proto::xid(msg);
        let v = driver.settings.version;
        if msg_type != proto::HELLO && version != v && msg_type != proto::ERROR {
            self.fail(format!("the controller sent message type {msg_type} in version 0x{version:02x}, not 0x{v:02x}"));
            return;
        }
        match msg_type {
            proto::HELLO => {}
            proto::ERROR => {
                if driver.measuring {
                    self.counts.errors += 1;
                }
            }
            proto::ECHO_REQUEST => proto::mirror_reply(msg, proto::ECHO_REPLY, &mut self.out),
            proto::FEATURES_REQUEST => {
                proto::features_reply(v, xid, self.dpid(), &mut self.out);
                if self.phase == Phase::Handshake {
                    self.phase = if v == V1_0 { self.handshake_done(driver, now) } else { Phase::Featured(now) };
                }
            }
            proto::GET_CONFIG_REQUEST => proto::get_config_reply(v, xid, &mut self.out),
            t if t == proto::stats_request(v) => {
                proto::stats_reply(v, msg, self.dpid(), &mut self.out);
                if matches!(self.phase, Phase::Featured(_)) && proto::be16(msg, 8) == Some(13) {
                    self.phase = self.handshake_done(driver, now);
                }
            }
            t if t == proto::barrier_request(v) => proto::mirror_reply(msg, t + 1, &mut self.out),
            proto::ROLE_REQUEST_1_3 if v == V1_3 => {
                proto::mirror_reply(msg, proto::ROLE_REQUEST_1_3 + 1, &mut self.out)
            }
            _ => match proto::response(msg) {
                Some(response) => self.on_response(response, driver, now),
                None if (msg_type == proto::PACKET_OUT || msg_type == proto::FLOW_MOD) && msg.len() < 40 => {
                    self.fail(format!("the controller sent a truncated message type {msg_type} ({} bytes)", msg.len()));
                }
                None => {}
            },
        }
    }

    fn handshake_done(&mut self, driver: &mut DriverState<'_>, now: Instant) -> Phase {
        if let Some(gate) = driver.gate {
            gate.ready.fetch_add(1, Ordering::AcqRel);
        }
        if driver.released {
            self.start_learning(driver, now)
        } else {
            Phase::Waiting
        }
    }

    fn start_learning(&mut self, driver: &mut DriverState<'_>, now: Instant) -> Phase {
        if driver.settings.mode == Mode::Idle {
            return Phase::Running;
        }
        let (xid, dst) = (self.xid(), self.dst);
        driver.learn.emit(&mut self.out, xid, LEARN_BUFFER, &[0xff; 6], &dst);
        Phase::Learning(now)
    }

    fn on_response(&mut self, response: Response, driver: &mut DriverState<'_>, now: Instant) {
        let buffer = match response {
            Response::FlowMod(b) | Response::PacketOut(b) => b,
        };
        if let Phase::Learning(_) = self.phase {
            if buffer == LEARN_BUFFER {
                self.phase = Phase::Running;
                self.last_response = now;
                self.refill(driver, now);
            }
            return;
        }
        if self.phase != Phase::Running {
            return;
        }
        if driver.measuring {
            self.counts.responses += 1;
            match response {
                Response::FlowMod(_) => self.counts.flow_mods += 1,
                Response::PacketOut(_) => self.counts.packet_outs += 1,
            }
        }
        self.last_response = now;
        self.in_flight = self.in_flight.saturating_sub(1);
        if driver.settings.mode == Mode::Latency {
            if let Some((want, sent_at)) = self.outstanding {
                if want == buffer {
                    if driver.measuring {
                        let nanos = now.saturating_duration_since(sent_at).as_nanos();
                        driver.latencies.push(u32::try_from(nanos).unwrap_or(u32::MAX));
                    }
                    self.outstanding = None;
                    self.refill(driver, now);
                }
            }
        }
    }

    /// Queues packet-ins: in latency mode one if none is outstanding, in throughput mode up to the window (or a
    /// socket-buffer's worth if unlimited).
    fn refill(&mut self, driver: &mut DriverState<'_>, now: Instant) {
        if self.phase != Phase::Running || self.dead.is_some() {
            return;
        }
        let settings = driver.settings;
        match settings.mode {
            Mode::Idle => {}
            Mode::Latency => {
                if self.outstanding.is_none() {
                    self.send_packet_in(driver.data, settings.macs, now);
                    if driver.measuring {
                        self.counts.sent += 1;
                    }
                }
            }
            Mode::Throughput => {
                while self.out.len() - self.out_pos < OUT_TARGET
                    && (settings.window == 0 || self.in_flight < settings.window)
                {
                    self.send_packet_in(driver.data, settings.macs, now);
                    if driver.measuring {
                        self.counts.sent += 1;
                    }
                }
            }
        }
    }

    /// Timers: 1.3 switches that got no PORT_DESC request, lost latency probes, stalled windows.
    fn tick(&mut self, driver: &mut DriverState<'_>, now: Instant) {
        match self.phase {
            Phase::Featured(at) if now.duration_since(at) >= driver.settings.port_desc_grace => {
                self.phase = self.handshake_done(driver, now);
            }
            Phase::Waiting if driver.released => self.phase = self.start_learning(driver, now),
            Phase::Learning(at) if now.duration_since(at) >= Duration::from_secs(1) => {
                // Resend: the controller may have dropped it (ovs-testcontroller drops when its queue is full).
                self.phase = self.start_learning(driver, now);
            }
            Phase::Running => match driver.settings.mode {
                Mode::Latency => {
                    if let Some((_, sent_at)) = self.outstanding {
                        if now.duration_since(sent_at) >= driver.settings.timeout {
                            if driver.measuring {
                                self.counts.timeouts += 1;
                            }
                            self.outstanding = None;
                            self.refill(driver, now);
                        }
                    }
                }
                Mode::Throughput
                    if driver.settings.window > 0
                        && now.duration_since(self.last_response) >= driver.settings.timeout =>
                {
                    // Answers lost: reopen the window rather than stall.
                    if driver.measuring {
                        self.counts.timeouts += 1;
                    }
                    self.in_flight = 0;
                    self.last_response = now;
                    self.refill(driver, now);
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Frames and handles `data` (appended to any partial message kept from the last read).
    fn consume(&mut self, data: &[u8], driver: &mut DriverState<'_>, now: Instant) {
        let mut partial = std::mem::take(&mut self.partial);
        let buf: &[u8] = if partial.is_empty() {
            data
        } else {
            partial.extend_from_slice(data);
            &partial
        };
        let mut at = 0;
        while let Some(rest) = buf.get(at..) {
            match tatsu_ofproto::split_frame(rest) {
                Ok(Some(split)) => {
                    let len = split.0.len();
                    self.handle(split.0, driver, now);
                    at += len;
                }
                Ok(None) => break,
                Err(e) => {
                    self.fail(format!("the controller's stream cannot be framed: {e}"));
                    return;
                }
            }
        }
        let keep = buf.get(at..).unwrap_or(&[]).to_vec();
        partial.clear();
        if keep.is_empty() {
            partial.shrink_to(4096);
        } else {
            partial.extend_from_slice(&keep);
        }
        self.partial = partial;
    }

    /// Writes what is queued; `Ok(true)` if everything went.
    fn flush(&mut self) -> io::Result<bool> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "the socket took nothing")),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        if self.out.capacity() > 4 * OUT_TARGET {
            self.out.shrink_to(OUT_TARGET);
        }
        self.stream.flush_pending()
    }
}

/// The per-thread state a switch borrows while handling messages.
struct DriverState<'a> {
    settings: &'a Settings,
    data: &'a PacketIn,
    learn: &'a PacketIn,
    measuring: bool,
    latencies: &'a mut Vec<u32>,
    gate: Option<&'a Gate>,
    released: bool,
}

impl Driver {
    /// A loop for switches of `settings.version`; with a `gate`, load waits for it to open.
    pub fn new(settings: Settings, gate: Option<Arc<Gate>>) -> io::Result<Driver> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let (data, learn) = (PacketIn::new(settings.version, 1), PacketIn::new(settings.version, 2));
        Ok(Driver {
            epoll,
            settings,
            data,
            learn,
            scratch: vec![0; 256 * 1024],
            measuring: false,
            latencies: Vec::new(),
            released: gate.is_none(),
            gate,
        })
    }

    /// Adds a connected switch; `slot` is its index in the caller's vector.
    pub fn register(&self, switch: &mut Switch, slot: usize) -> io::Result<()> {
        let event = EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLOUT, slot as u64);
        self.epoll.add(switch.stream.as_fd(), event)?;
        switch.polling_out = true;
        Ok(())
    }

    /// Runs the loop for `switches` until `until`; calls `on_tick` about every 10 ms (it may set `measuring`).
    pub fn run(
        &mut self,
        switches: &mut [Switch],
        until: Instant,
        mut on_tick: impl FnMut(&mut Driver, &[Switch], Instant) -> bool,
    ) {
        let mut events = vec![EpollEvent::empty(); 1024];
        let mut last_tick = Instant::now();
        loop {
            let now = Instant::now();
            if now >= until {
                return;
            }
            if now.duration_since(last_tick) >= Duration::from_millis(10) {
                last_tick = now;
                if !on_tick(self, switches, now) {
                    return;
                }
                if !self.released && self.gate.as_ref().is_some_and(|gate| gate.open(now)) {
                    self.released = true;
                }
                let mut state = DriverState {
                    settings: &self.settings,
                    data: &self.data,
                    learn: &self.learn,
                    measuring: self.measuring,
                    latencies: &mut self.latencies,
                    gate: self.gate.as_deref(),
                    released: self.released,
                };
                for (slot, switch) in switches.iter_mut().enumerate() {
                    if switch.dead.is_none() {
                        switch.tick(&mut state, now);
                        if switch.out.len() > switch.out_pos {
                            Self::write(&self.epoll, switch, slot, &mut state, now);
                        }
                    }
                }
            }
            let n = match self.epoll.wait(&mut events, EpollTimeout::from(10u8)) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => 0,
                Err(e) => {
                    eprintln!("tatsu-loadgen: epoll_wait failed: {e}");
                    return;
                }
            };
            let now = Instant::now();
            let mut state = DriverState {
                settings: &self.settings,
                data: &self.data,
                learn: &self.learn,
                measuring: self.measuring,
                latencies: &mut self.latencies,
                gate: self.gate.as_deref(),
                released: self.released,
            };
            for event in &events[..n] {
                let Ok(slot) = usize::try_from(event.data()) else { continue };
                let Some(switch) = switches.get_mut(slot) else { continue };
                if switch.dead.is_some() {
                    continue;
                }
                let flags = event.events();
                if flags.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR) {
                    Self::read(switch, &mut self.scratch, &mut state, now);
                }
                if switch.dead.is_none() {
                    Self::write(&self.epoll, switch, slot, &mut state, now);
                }
                if let Some(reason) = &switch.dead {
                    eprintln!("tatsu-loadgen: switch {} (dpid {}): {reason}", switch.index, switch.dpid());
                    let _ = self.epoll.delete(switch.stream.as_fd());
                }
            }
        }
    }

    fn read(switch: &mut Switch, scratch: &mut [u8], state: &mut DriverState<'_>, now: Instant) {
        // A few reads per wake-up, so one busy switch does not starve the others.
        for _ in 0..4 {
            match switch.stream.read(scratch) {
                Ok(0) => {
                    switch.fail("the controller closed the connection".to_owned());
                    return;
                }
                Ok(n) => {
                    switch.consume(&scratch[..n], state, now);
                    if n < scratch.len() || switch.dead.is_some() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    switch.fail(format!("reading failed: {e}"));
                    return;
                }
            }
        }
    }

    fn write(epoll: &Epoll, switch: &mut Switch, slot: usize, state: &mut DriverState<'_>, now: Instant) {
        let settings = state.settings;
        let streaming = |switch: &Switch| {
            settings.mode == Mode::Throughput
                && switch.running()
                && (settings.window == 0 || switch.in_flight < settings.window)
        };
        // A bounded number of rounds, then back to epoll: a controller that reads as fast as we write must not
        // keep this loop from reading its answers.
        for _ in 0..4 {
            switch.refill(state, now);
            match switch.flush() {
                Ok(true) if streaming(switch) => {}
                Ok(_) => break,
                Err(e) => {
                    switch.fail(format!("writing failed: {e}"));
                    return;
                }
            }
        }
        let want_out = switch.out.len() > switch.out_pos || switch.stream.has_pending() || streaming(switch);
        if want_out != switch.polling_out {
            let mut flags = EpollFlags::EPOLLIN;
            if want_out {
                flags |= EpollFlags::EPOLLOUT;
            }
            let mut event = EpollEvent::new(flags, slot as u64);
            if let Err(e) = epoll.modify(switch.stream.as_fd(), &mut event) {
                switch.fail(format!("epoll_ctl failed: {e}"));
                return;
            }
            switch.polling_out = want_out;
        }
    }
}
