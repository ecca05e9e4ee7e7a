//! The reader: reads the socket, frames messages, checks their version and type, runs the handshake (doing what
//! [`Handshake`] says) and hands every message on (to a request waiting for it, or to apps).

use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use bytes::{Bytes, BytesMut};
use may::io::WaitIo;
use tatsu_abi::DatapathStates;

use super::{lock, socket, Connection, ReaderSlot, Wake};
use crate::bus::credit::Credit;
use crate::bus::MessageRun;
use crate::green;
use crate::switch::handshake::{Action, Handshake};
use crate::switch::idle::Parkable;
use crate::switch::wire::{self, xid_of, Features};

/// Most bytes read from the socket at a time (more when a message is larger).
const READ_CHUNK: usize = 64 * 1024;

/// Fewest bytes a read asks for, however little credit is left.
const MIN_READ: usize = 2 * 1024;

/// The read buffer of a quiet switch (a handshake's messages, echoes, a packet-in at a time); it doubles up to
/// [`READ_CHUNK`] while reads fill the room it has, so a busy switch reads 64 KiB at a time after seven reads (unless
/// the credit holds its reads to less).
const FIRST_CHUNK: usize = 512;

/// Reads what the socket has into `buffer`'s spare capacity (without zeroing it first), without blocking;
/// returns how many bytes were added.
fn read_into_spare(stream: &may::net::TcpStream, buffer: &mut BytesMut, most: usize) -> std::io::Result<usize> {
    let spare = buffer.spare_capacity_mut();
    let len = most.min(spare.len());
    let spare = &mut spare[..len];
    // The socket is non-blocking (may's streams are).
    let n = socket::receive(stream.as_raw_fd(), spare)?;
    // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
    unsafe { buffer.set_len(buffer.len() + n) };
    Ok(n)
}

/// Gives back the memory of an idle reader's buffers (see [`Connection::trim_idle_reader`]) if they hold nothing (a
/// partial message stays where it is): the next read allocates a [`FIRST_CHUNK`] again.
#[cold]
fn release_idle_buffers(buffer: &mut BytesMut, batch: &mut Vec<MessageRun>, chunk: &mut usize) {
    if buffer.is_empty() {
        *buffer = BytesMut::new();
        *chunk = FIRST_CHUNK;
    }
    if batch.is_empty() {
        *batch = Vec::new();
    }
}

/// Moves the run of `count` framed messages, `run` bytes at the front of `buffer`, to `batch` (if there is one),
/// and starts a new run.
#[inline]
fn end_run(buffer: &mut BytesMut, run: &mut usize, count: &mut usize, batch: &mut Vec<MessageRun>) {
    if *count > 0 {
        batch.push(MessageRun::framed(buffer.split_to(*run).freeze(), *count));
    }
    (*run, *count) = (0, 0);
}

/// Why [`Connection::read_until_idle`] returned.
enum Stop {
    /// The connection closed or was handed over.
    Ended,
    /// The switch is idle: park the connection.
    Idle,
}

/// Takes the reader's connection out of the credit pool (its busy spell, its place in line) when the reader ends.
struct LeavesPool<'a>(&'a Arc<Credit>);

impl Drop for LeavesPool<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

impl Parkable for Connection {
    fn id(&self) -> u64 {
        self.id
    }

    fn socket(&self) -> std::os::fd::RawFd {
        self.stream.as_raw_fd()
    }

    fn resume_parked_reader(&self) {
        let slot = lock(&self.reader);
        if slot.parked {
            self.restart_parked(slot);
        }
    }
}

impl Connection {
    /// Reads at most `most` bytes the socket has, without blocking, and adds what they carry to `buffer`: the bytes
    /// themselves, or on TLS the plaintext of the whole records they complete. Returns how many bytes came from the
    /// socket (0: it was closed).
    #[inline]
    fn read_some(&self, buffer: &mut BytesMut, most: usize) -> std::io::Result<usize> {
        let Some(link) = &self.tls else { return read_into_spare(&self.stream, buffer, most) };
        let mut opener = lock(&link.opener);
        let received = opener.receive_buffer();
        received.reserve(most);
        let spare = &mut received.spare_capacity_mut()[..most];
        let n = socket::receive(self.stream.as_raw_fd(), spare)?;
        // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
        unsafe { received.set_len(received.len() + n) };
        opener
            .open_received(buffer)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(n)
    }

    /// The reader's body: handles the `unparsed` bytes, then what the switch sends, with the handshake at
    /// `handshake`, until the connection closes, is handed over, or is parked with the idle readers (`resumed`: this
    /// reader was started for a parked connection).
    pub(super) fn read_loop(self: Arc<Self>, unparsed: Vec<u8>, handshake: Handshake, resumed: bool) {
        let (mut unparsed, mut handshake, mut resumed) = (unparsed, handshake, resumed);
        loop {
            match self.read_until_idle(unparsed, handshake, resumed) {
                Stop::Ended => return,
                Stop::Idle if self.park_reader() => return,
                // Not parked after all (a pause came meanwhile, or parking failed): read on here.
                Stop::Idle => (unparsed, handshake, resumed) = (Vec::new(), Handshake::finished(), false),
            }
        }
    }

    /// Parks this connection with the idle readers unless something needs its reader now; whether it did (the
    /// calling reader then ends, touching the connection no more).
    fn park_reader(self: &Arc<Self>) -> bool {
        let Some(idle_readers) = self.shared.idle_readers() else { return false };
        let mut slot = lock(&self.reader);
        {
            let pause = lock(&self.pause);
            if pause.requested || pause.handed_over {
                return false;
            }
        }
        if self.held.load(Ordering::Acquire) || self.is_closed() || idle_readers.park(self).is_err() {
            return false;
        }
        slot.parked = true;
        slot.running = None;
        true
    }

    /// Wakes the reader where it waits (`how`), or starts it again if it is parked: for something it must see (a
    /// pause, a release, a handover, a close).
    pub(super) fn rouse_reader(&self, how: Wake) {
        let slot = lock(&self.reader);
        if slot.parked {
            self.restart_parked(slot);
        } else if let Some((reader, waker)) = &slot.running {
            match how {
                Wake::Unpark => reader.unpark(),
                Wake::Socket => waker.wakeup(),
            }
        }
    }

    /// Starts the reader of a parked connection again, `slot` being its locked reader slot; closes the connection
    /// (after letting go of the lock) if no reader can start.
    fn restart_parked(&self, mut slot: MutexGuard<'_, ReaderSlot>) {
        slot.parked = false;
        if let Some(idle_readers) = self.shared.idle_readers() {
            idle_readers.forget(self);
        }
        let Some(this) = self.this.upgrade() else { return };
        match green::spawn_host("switch-reader", move || this.read_loop(Vec::new(), Handshake::finished(), true)) {
            Ok(reader) => slot.running = Some((reader, self.stream.waker())),
            Err(e) => {
                drop(slot);
                self.close(&e);
            }
        }
    }

    /// Reads until the connection ends ([`Stop::Ended`]), or until it is idle with nothing half read: the
    /// keepalive found it silent for [`super::IDLE_TRIM_AFTER`], or it was `resumed` from parked and has only had
    /// keepalives since ([`Stop::Idle`]).
    fn read_until_idle(self: &Arc<Self>, unparsed: Vec<u8>, mut handshake: Handshake, resumed: bool) -> Stop {
        let stream = &self.stream;
        self.wait_until_released();
        self.credit.set_reader();
        let _leaves_pool = LeavesPool(&self.credit);
        let mut drained = false;
        // The messages of one read that go to apps, handed to the bus together.
        let mut batch: Vec<MessageRun> = Vec::new();
        let mut buffer = BytesMut::with_capacity(FIRST_CHUNK.max(unparsed.len()));
        let mut chunk = FIRST_CHUNK;
        buffer.extend_from_slice(&unparsed);
        // The average size of the messages of the last read, to size reads by the credit.
        let mut message_bytes = 64usize;
        // Messages the reader may still frame before it asks the credit again (no limit during the handshake),
        // and whether whole messages wait in the buffer for credit.
        let mut allowance = usize::MAX;
        let mut held_back = false;
        // Only echoes (either way) since a parked reader was started again: the switch is still idle.
        let mut keepalives_only = true;
        let reason = 'connection: loop {
            // Frame and handle every whole message in the buffer, as many as the credit allows. Messages that
            // only go on to apps, of one version and type in a row, stay in the buffer as a run (`run` bytes of
            // `run_count` messages at its front) and leave it together: one buffer shared by the run, not one per
            // message.
            let (mut framed, mut framed_bytes) = (0usize, 0usize);
            let (mut run, mut run_count, mut run_code) = (0usize, 0usize, [0u8; 2]);
            while buffer.len() - run >= 8 {
                if allowance == 0 {
                    held_back = true;
                    break;
                }
                let header = &buffer[run..run + 8];
                let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
                if length < 8 {
                    self.malformed.fetch_add(1, Ordering::Relaxed);
                    self.counters().decode_error();
                    log::error!(
                        target: "tatsu::switch",
                        "{}: message header claims length {length}, the stream cannot be framed: {}",
                        self.describe_short(),
                        wire::hex_excerpt(&buffer[run..], 32)
                    );
                    end_run(&mut buffer, &mut run, &mut run_count, &mut batch);
                    self.deliver(&mut batch);
                    break 'connection format!("unframeable message (length {length})");
                }
                if buffer.len() - run < length {
                    // The run leaves first, so that making room for the rest of this message copies only its
                    // start.
                    end_run(&mut buffer, &mut run, &mut run_count, &mut batch);
                    buffer.reserve(length - buffer.len());
                    break;
                }
                framed += 1;
                allowance -= 1;
                framed_bytes += length;
                let code = [header[0], header[1]];
                self.counters().received(code[1], length);
                keepalives_only &= matches!(code[1], wire::ECHO_REQUEST | wire::ECHO_REPLY);
                if self.only_for_apps(code, &handshake) {
                    if run_count > 0 && code != run_code {
                        end_run(&mut buffer, &mut run, &mut run_count, &mut batch);
                    }
                    (run, run_count, run_code) = (run + length, run_count + 1, code);
                    continue;
                }
                end_run(&mut buffer, &mut run, &mut run_count, &mut batch);
                let message = buffer.split_to(length).freeze();
                if let Err(reason) = self.handle(message, &mut handshake, &mut batch) {
                    self.deliver(&mut batch);
                    break 'connection reason;
                }
                // The handshake just ended: what follows it in the buffer waits for credit like any message.
                if allowance == usize::MAX && handshake.is_done() {
                    allowance = 0;
                }
            }
            end_run(&mut buffer, &mut run, &mut run_count, &mut batch);
            self.deliver(&mut batch);
            if let Some(size) = framed_bytes.checked_div(framed) {
                message_bytes = size;
            }
            if !self.pause_point(&buffer) || self.is_closed() {
                return Stop::Ended;
            }
            // Messages the credit held back are framed before anything more is read: what the switch sends
            // meanwhile waits in its TCP window.
            if held_back {
                held_back = false;
                self.credit.set_busy(true);
                allowance = self.credit.wait();
                continue;
            }
            // A read that did not fill the buffer took all the socket had: wait for more (or a pause request) at
            // once rather than spend a system call to hear EAGAIN. Any byte that comes after that read raises an
            // edge in may's selector, which `wait_io` sees even if it came before the wait began. Once woken, go
            // back to the message boundary (a pause may have been asked for) before reading.
            if drained {
                drained = false;
                self.credit.set_busy(false);
                if self.quiet(&mut buffer, &mut batch, &mut chunk, &handshake, resumed && keepalives_only) {
                    return Stop::Idle;
                }
                // What the credit granted and the read did not bring is given back while the switch is silent.
                self.credit.give_back();
                green::release_unused_stack();
                stream.wait_io();
                continue;
            }
            // Read what the socket has without blocking; wait for more (or a pause request) when it has none.
            // Room for at least half a chunk: the tail of a buffer whose messages went to apps may be small, and
            // reads into it would be many and short.
            if buffer.capacity() - buffer.len() < chunk / 2 {
                buffer.reserve(chunk);
            }
            // Let apps catch up with what this switch sent (see `bus::credit`), and read about as many messages as
            // the credit has room for (by the size of the messages lately); the framing above stops at the credit,
            // so that busy switches share each app's queue instead of overrunning it.
            if handshake.is_done() {
                allowance = self.credit.wait();
            }
            let room = buffer.capacity() - buffer.len();
            let want = allowance.saturating_mul(message_bytes).max(MIN_READ).min(room);
            let before = buffer.len();
            match self.read_some(&mut buffer, want) {
                Ok(0) => break "the switch closed the connection".to_owned(),
                Ok(n) => {
                    // What the switch sent in OpenFlow terms: on TLS, the plaintext the read's records opened to.
                    self.capture.received_last(&buffer, buffer.len() - before);
                    // A read that takes all it asked for means the switch is busy; one held to the buffer's room
                    // (not to the credit) would have taken more: read more at a time.
                    let full = n == want;
                    if full && want == room {
                        chunk = (chunk * 2).min(READ_CHUNK);
                    }
                    // A switch that keeps the reader's reads full is busy: it counts in the credit's split.
                    self.credit.set_busy(full);
                    self.touch();
                    // Step out of the run queue for a moment when the scheduler has not polled its I/O selector
                    // lately: it does only when the run queue is empty, so readers that always have data would
                    // otherwise starve every reader waiting for some (see `green::turns`). A reader whose read
                    // drained the socket waits on the selector next anyway.
                    if !full {
                        drained = true;
                    } else if self.shared.turns.starved() {
                        self.shared.turns.step_out();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.credit.set_busy(false);
                    if self.quiet(&mut buffer, &mut batch, &mut chunk, &handshake, resumed && keepalives_only) {
                        return Stop::Idle;
                    }
                    self.credit.give_back();
                    green::release_unused_stack();
                    stream.wait_io();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // The TLS record layer's verdict (close_notify, an alert, a bad record) says it all.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => break e.to_string(),
                Err(e) => break format!("reading from the switch failed: {e}"),
            }
        };
        if !self.handed_over() {
            self.close(&reason);
        }
        Stop::Ended
    }

    /// At a wait for the socket: gives the buffers back if the keepalive asked (the switch is quiet), and says
    /// whether the reader should park instead of waiting: the switch is quiet (or `still_idle`, see
    /// [`Connection::read_until_idle`]), past its handshake, with nothing half read.
    fn quiet(
        &self,
        buffer: &mut BytesMut,
        batch: &mut Vec<MessageRun>,
        chunk: &mut usize,
        handshake: &Handshake,
        still_idle: bool,
    ) -> bool {
        let trim = self.trim_requested();
        if trim {
            release_idle_buffers(buffer, batch, chunk);
        }
        (trim || still_idle) && buffer.is_empty() && handshake.is_done()
    }

    /// Counts a malformed message and logs it (at most a few lines a second host-wide; see
    /// [`super::LogLimits`]). `what` is built only for the lines that are logged.
    #[cold]
    pub(super) fn malformed(&self, message: &[u8], what: impl FnOnce() -> String) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
        self.counters().decode_error();
        if let Some(suppressed) = self.shared.log_limits.malformed.check() {
            log::warn!(
                target: "tatsu::switch",
                "{}: {}: {}{}",
                self.describe_short(),
                what(),
                wire::hex_excerpt(message, 32),
                crate::logging::held_back_note(suppressed)
            );
        }
    }

    /// Whether a message with `code` (version and type) goes on to apps and nothing else: past the handshake, in
    /// the negotiated version, of a known asynchronous type that the host itself does nothing with. Such messages
    /// travel in runs; [`Connection::handle`] takes every other one.
    #[inline]
    fn only_for_apps(&self, [version, msg_type]: [u8; 2], handshake: &Handshake) -> bool {
        handshake.is_done()
            && version == self.version()
            && msg_type <= wire::max_type(version)
            && wire::is_asynchronous(msg_type)
            && !matches!(msg_type, wire::ECHO_REQUEST | wire::PORT_STATUS | wire::HELLO)
    }

    /// Handles one framed message; what goes on to apps is added to `batch` (or, for a message the handshake
    /// or a request needs, delivered at once after what `batch` holds). `Err` closes the connection with that
    /// reason.
    #[inline]
    fn handle(
        self: &Arc<Self>,
        message: Bytes,
        handshake: &mut Handshake,
        batch: &mut Vec<MessageRun>,
    ) -> Result<(), String> {
        if handshake.awaits_hello() {
            self.deliver(batch);
            return self.run_handshake(&message, handshake);
        }
        let (version, msg_type, xid) = (message[0], message[1], xid_of(&message));
        let negotiated = self.version();
        if version != negotiated {
            self.malformed(&message, || format!("message in version 0x{version:02x}, negotiated 0x{negotiated:02x}"));
            self.enqueue(&wire::error(negotiated, wire::BAD_REQUEST, wire::BAD_VERSION, &message, xid));
            return Ok(());
        }
        if msg_type > wire::max_type(version) {
            self.malformed(&message, || format!("unknown message type {msg_type}"));
            self.enqueue(&wire::error(negotiated, wire::BAD_REQUEST, wire::BAD_TYPE, &message, xid));
            return Ok(());
        }
        if msg_type == wire::ECHO_REQUEST {
            self.enqueue(&wire::echo_reply(&message));
        }
        // The handshake changes the datapath's id and state, and a reply wakes its requester: apps get what came
        // before first, and this message with the state it leaves.
        let at_once = !handshake.is_done() || !wire::is_asynchronous(msg_type);
        if at_once {
            self.deliver(batch);
            if msg_type == wire::ECHO_REPLY {
                self.echo_replied(xid);
            }
        }
        if !handshake.is_done() {
            self.run_handshake(&message, handshake)?;
        }
        if !wire::is_asynchronous(msg_type) && self.complete_pending(xid, &message, version) {
            return Ok(());
        }
        if msg_type == wire::PORT_STATUS {
            match wire::port_status(&message) {
                Ok((reason, port)) => self.update_port(reason, port),
                Err(e) => self.malformed(&message, || format!("malformed PORT_STATUS ({e})")),
            }
        }
        batch.push(MessageRun::one(message));
        if at_once {
            self.deliver(batch);
        }
        Ok(())
    }

    /// Hands `batch` to the bus (emptying it), with the datapath's id and state as they are now.
    fn deliver(&self, batch: &mut Vec<MessageRun>) {
        if !batch.is_empty() {
            self.shared.bus.deliver_openflow(self.dpid_or_zero(), DatapathStates(self.state()), batch, &self.credit);
        }
    }

    /// Feeds a message to the handshake and does what it says; `Err` closes the connection with that reason.
    #[cold]
    fn run_handshake(self: &Arc<Self>, message: &[u8], handshake: &mut Handshake) -> Result<(), String> {
        for action in handshake.on_message(message, &mut || self.fresh_xid()) {
            match action {
                Action::Send(bytes) => self.enqueue(&bytes),
                Action::Negotiated(version) => {
                    self.version.store(version, Ordering::Release);
                    self.set_state(DatapathStates::CONFIG);
                }
                Action::Features(features) => self.record_features(features),
                Action::Ports(ports) => self.add_ports(ports),
                Action::Malformed(what) => self.malformed(message, || what),
                Action::EnterMain => self.enter_main(),
                Action::Close(reason) => return Err(reason),
            }
        }
        Ok(())
    }

    /// Records the switch's features: its datapath id is known from now on, and replaces any older connection of
    /// the same datapath.
    fn record_features(self: &Arc<Self>, features: Features) {
        let dpid = features.datapath_id;
        let _ = self.dpid.set(dpid);
        self.capture.datapath_known(dpid);
        self.count_as_datapath(dpid, true);
        lock(&self.info).features = Some(features);
        if let Some(old) = self.shared.register_datapath(dpid, self) {
            old.close(&format!("replaced by a new connection from {}", self.peer));
        }
        log::info!(target: "tatsu::switch", "{} speaks OpenFlow 0x{:02x}", self.describe_short(), self.version());
    }
}
