//! The writer: the outbox messages wait in (bounded, with headroom for the host's own), and the green thread that
//! writes it to the socket in as few system calls as possible.

use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;
use tatsu_abi::RequestFailure;

use super::{lock, socket, Connection};
use crate::green;
use crate::switch::tls::record;
use crate::switch::wire::{self, xid_of};
use crate::timer::coarse_now_ms;
use tatsu_abi::RequestError;

/// Room the host's own messages (echo replies, errors, keepalive) have beyond the send queue limit apps are held
/// to, so that a full queue of app messages never stops the keepalive. A switch that lets even this fill up does
/// not read what it is sent, and is dropped.
const HOST_HEADROOM: usize = 64 * 1024;

/// How long a writer waits with nothing to write before the keepalive retires it
/// ([`Connection::retire_idle_writer`]): an idle switch then holds no writer and no writer stack, and the next
/// message starts one (or is written at once, see [`Connection::enqueue`]). A busy switch keeps its writer.
const WRITER_IDLE_MS: u64 = 1000;

/// Messages waiting to be written.
pub(super) struct Outbox {
    pub(super) bytes: Vec<u8>,
    pub(super) closed: bool,
    /// No writer holds a batch or will look at `bytes` unless woken: whoever queues bytes while this is set takes it
    /// and calls [`Connection::wake_writer`]. Also set while no writer runs (`writer` is `None`).
    pub(super) writer_waiting: bool,
    /// The running writer, if one runs: started on demand, retired when idle.
    pub(super) writer: Option<Coroutine>,
    /// Counts the writers started; a writer whose number is no longer this one's (or that finds `writer` empty)
    /// has been retired or replaced, and ends without touching anything.
    pub(super) writer_generation: u32,
    /// When the running writer last started to wait ([`coarse_now_ms`]).
    pub(super) writer_idle_since_ms: u64,
    /// The writer holds a batch taken from `bytes` and is writing it.
    pub(super) writer_busy: bool,
    /// TLS records already sealed (their sequence numbers spent) but not yet written: the tail of a batch a
    /// hand-over interrupted. They go out before anything in `bytes`.
    pub(super) sealed: Vec<u8>,
}

/// Messages an app's event loop sends a connection during one batch, gathered outside the outbox (no lock, no
/// wake-up per message) and handed over once when the batch ends ([`Connection::gather`],
/// [`Connection::flush_run`]).
pub struct Run {
    /// The messages, back to back, xids filled in.
    bytes: Vec<u8>,
    /// Bytes the send queue had room for when the batch first sent here; the run may not grow past it.
    room: usize,
    /// Fresh xids taken from the connection in a block ([`XID_BLOCK`]), one atomic add per block: the next one
    /// and how many are left.
    xids: (u32, u32),
}

/// Fresh xids a run takes from its connection at a time.
const XID_BLOCK: u32 = 64;

impl Run {
    /// A run for `connection`, whose send queue has room for what it lacks of its limit now; `Err` if it is
    /// closed.
    pub fn open(connection: &Connection, bytes: Vec<u8>) -> Result<Run, RequestError> {
        let outbox = lock(&connection.outbox);
        if outbox.closed {
            return Err(RequestError {
                failure: RequestFailure::Disconnected,
                detail: connection.describe_short().into(),
            });
        }
        let room = connection.shared.settings().send_queue_bytes.saturating_sub(outbox.bytes.len());
        Ok(Run { bytes, room, xids: (0, 0) })
    }

    /// The run's buffer, emptied (its capacity kept for the next batch).
    pub fn into_buffer(mut self) -> Vec<u8> {
        self.bytes.clear();
        self.bytes
    }
}

/// Why the writer stopped before writing a whole batch.
pub(super) enum WriteStopped {
    /// The connection was handed over after this many bytes of the batch.
    HandedOver(usize),
    /// The connection is broken, for this reason.
    Failed(String),
}

/// An app's message must be one whole OpenFlow message ([`wire::whole_message`]).
fn check_length(message: &[u8]) -> Result<(), RequestError> {
    wire::whole_message(message)
        .map_err(|detail| RequestError { failure: RequestFailure::Failed, detail: detail.into() })
}

impl Connection {
    /// Whether everything apps sent has been written to the socket.
    pub fn is_flushed(&self) -> bool {
        let outbox = lock(&self.outbox);
        outbox.bytes.is_empty() && outbox.sealed.is_empty() && (outbox.writer_waiting || outbox.closed)
    }

    /// Appends a host-made message (an echo reply, an error, a keepalive) to the outbox. These may use
    /// [`HOST_HEADROOM`] beyond the limit apps are held to; a switch that lets even that fill up does not read what
    /// it is sent, and is closed.
    pub(super) fn enqueue(&self, message: &[u8]) {
        let limit = self.shared.settings().send_queue_bytes + HOST_HEADROOM;
        let (wake, unsent) = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return;
            }
            if outbox.bytes.len() + message.len() > limit {
                (false, Some(outbox.bytes.len()))
            } else {
                outbox.bytes.extend_from_slice(message);
                self.counters().sent(message.get(1).map_or(u8::MAX, |t| *t), message.len());
                // An idle switch has no writer (see `WRITER_IDLE_MS`): write its echo or error here rather than
                // start one for it.
                if outbox.writer.is_none() && outbox.writer_waiting {
                    self.write_now(&mut outbox);
                }
                (!outbox.bytes.is_empty() && std::mem::take(&mut outbox.writer_waiting), None)
            }
        };
        if let Some(unsent) = unsent {
            self.close(&format!("the switch does not read what it is sent ({unsent} bytes unsent, limit {limit})"));
        } else if wake {
            self.wake_writer();
        }
    }

    /// Wakes the writer: there is something to write, or a close or handover to notice. With no writer running (it
    /// was retired while the switch was idle), starts one if there is something to write or a close to carry out.
    pub(super) fn wake_writer(&self) {
        let mut outbox = lock(&self.outbox);
        if let Some(writer) = &outbox.writer {
            writer.unpark();
            return;
        }
        let work = !outbox.bytes.is_empty() || !outbox.sealed.is_empty() || outbox.closed;
        if !work || self.handed_over() {
            outbox.writer_waiting = true;
            return;
        }
        if let Err(e) = self.start_writer(&mut outbox) {
            // No stack for a writer: the connection cannot be served.
            outbox.closed = true;
            outbox.writer_waiting = true;
            drop(outbox);
            let _ = self.stream.shutdown(Shutdown::Both);
            self.close(&e);
        }
    }

    /// Starts a writer (there is none running), registered in `outbox` before it runs.
    pub(super) fn start_writer(&self, outbox: &mut Outbox) -> Result<(), String> {
        // A connection being dropped has no one left to write for.
        let Some(connection) = self.this.upgrade() else { return Ok(()) };
        let generation = outbox.writer_generation.wrapping_add(1);
        let writer = green::spawn_host("switch-writer", move || connection.write_loop(generation))?;
        outbox.writer_generation = generation;
        outbox.writer = Some(writer);
        outbox.writer_waiting = false;
        Ok(())
    }

    /// Ends the writer if it has waited with nothing to write for [`WRITER_IDLE_MS`] (called by the keepalive).
    pub(in crate::switch) fn retire_idle_writer(&self, now_ms: u64) {
        let mut outbox = lock(&self.outbox);
        let idle = outbox.writer_waiting
            && !outbox.writer_busy
            && outbox.bytes.is_empty()
            && outbox.sealed.is_empty()
            && now_ms.saturating_sub(outbox.writer_idle_since_ms) >= WRITER_IDLE_MS;
        if idle {
            if let Some(writer) = outbox.writer.take() {
                // Its batch buffer goes with it; what the outbox kept for it goes too.
                outbox.bytes = Vec::new();
                writer.unpark();
            }
        }
    }

    /// Writes what the outbox holds with one non-blocking `write` from the calling green thread, when no writer is
    /// running (so nothing else writes meanwhile: the caller holds the outbox's lock). Not on TLS, where the writer
    /// seals, nor after a hand-over. Whatever is left (EAGAIN, an error) stays for a writer.
    fn write_now(&self, outbox: &mut Outbox) {
        if self.tls.is_some() || outbox.closed || !outbox.sealed.is_empty() || self.handed_over() {
            return;
        }
        let written = loop {
            match socket::send(self.stream.as_raw_fd(), &outbox.bytes) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // EAGAIN, or an error the writer meets again and closes the connection for.
                Err(_) => break 0,
            }
        };
        self.capture.sent(&outbox.bytes[..written]);
        if written == outbox.bytes.len() {
            // An idle switch's outbox keeps no capacity.
            outbox.bytes = Vec::new();
        } else {
            outbox.bytes.drain(..written);
        }
    }

    /// Queues a message an app sends; an xid of 0 is replaced by a fresh one. Fails at once if the switch is gone
    /// or its send queue is full.
    pub fn send(&self, message: &[u8]) -> Result<(), RequestError> {
        check_length(message)?;
        self.check_role(message)?;
        let limit = self.shared.settings().send_queue_bytes;
        let wake = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return Err(RequestError {
                    failure: RequestFailure::Disconnected,
                    detail: self.describe_short().into(),
                });
            }
            if outbox.bytes.len() + message.len() > limit {
                drop(outbox);
                return Err(self.refuse(limit));
            }
            let start = outbox.bytes.len();
            outbox.bytes.extend_from_slice(message);
            self.counters().sent(message[1], message.len());
            if xid_of(message) == 0 {
                let xid = self.fresh_xid().to_be_bytes();
                outbox.bytes[start + 4..start + 8].copy_from_slice(&xid);
            }
            std::mem::take(&mut outbox.writer_waiting)
        };
        if wake {
            self.wake_writer();
        }
        Ok(())
    }

    /// Adds a message an app's event loop sends within a batch to `run` (this connection's, see [`Run`]), checked
    /// as [`Connection::send`] checks it: nothing is locked or woken until [`Connection::flush_run`].
    #[inline]
    pub fn gather(&self, run: &mut Run, message: &[u8]) -> Result<(), RequestError> {
        check_length(message)?;
        self.check_role(message)?;
        if run.bytes.len() + message.len() > run.room {
            return Err(self.refuse(self.shared.settings().send_queue_bytes));
        }
        let start = run.bytes.len();
        run.bytes.extend_from_slice(message);
        if xid_of(message) == 0 {
            run.bytes[start + 4..start + 8].copy_from_slice(&self.fresh_xid_of(&mut run.xids).to_be_bytes());
        }
        Ok(())
    }

    /// A fresh xid from `block` (a run's), which takes [`XID_BLOCK`] more from the connection when it is spent.
    fn fresh_xid_of(&self, block: &mut (u32, u32)) -> u32 {
        loop {
            if block.1 == 0 {
                *block = (self.next_xid.fetch_add(XID_BLOCK, Ordering::Relaxed), XID_BLOCK);
            }
            let xid = block.0;
            *block = (xid.wrapping_add(1), block.1 - 1);
            if xid != 0 {
                return xid;
            }
        }
    }

    /// Counts and logs a message refused for a full send queue (the first, then at powers of two).
    #[cold]
    fn refuse(&self, limit: usize) -> RequestError {
        let refused = self.sends_refused.fetch_add(1, Ordering::Relaxed) + 1;
        if refused == 1 || refused.is_power_of_two() {
            log::warn!(
                target: "tatsu::switch",
                "{}: send queue full ({limit} bytes unsent); {refused} message(s) refused so far",
                self.describe_short()
            );
        }
        RequestError {
            failure: RequestFailure::SendQueueFull,
            detail: format!("{}: send queue full ({limit} bytes unsent)", self.describe_short()).into(),
        }
    }

    /// Hands over what a batch gathered in `run`: with `write_here`, if the writer waits with nothing queued,
    /// written straight to the socket from the calling green thread with one non-blocking `write` under the
    /// outbox's lock (so nothing is queued or taken meanwhile, and a handover sees the outbox before or after,
    /// never during the write); whatever that leaves, and everything otherwise, is queued for the writer, woken
    /// once. On a closed connection the run is dropped. Returns a buffer for the next run, emptied: the run's own, or,
    /// when the run's bytes became the outbox as they were (nothing was queued before them), the outbox's old one.
    pub fn flush_run(&self, mut run: Run, write_here: bool) -> Vec<u8> {
        if run.bytes.is_empty() {
            return run.into_buffer();
        }
        let wake = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return run.into_buffer();
            }
            // Counted here, under the lock, as every send is (each counter has one writer). `gather` checked that
            // each header's length is its message's.
            let mut at = 0;
            while let Some(header) = run.bytes.get(at..at + 4) {
                let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
                self.counters().sent(header[1], length);
                at += length;
            }
            let mut written = 0;
            // Only a waiting writer holds no batch: a running one writes what is queued after its batch, in order.
            // A closed connection's writer flushes and shuts down; a handed-over one is the successor's. On TLS the
            // writer seals the bytes first.
            if write_here
                && self.tls.is_none()
                && outbox.bytes.is_empty()
                && outbox.writer_waiting
                && !outbox.writer_busy
                && !self.handed_over()
            {
                written = loop {
                    match socket::send(self.stream.as_raw_fd(), &run.bytes) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        // EAGAIN, or an error the writer meets again and closes the connection for.
                        Err(_) => break 0,
                    }
                };
                self.capture.sent(&run.bytes[..written]);
            }
            if written == 0 && outbox.bytes.is_empty() {
                // Most runs of a busy switch: the writer takes the run's buffer, not a copy of it.
                std::mem::swap(&mut outbox.bytes, &mut run.bytes);
            } else {
                outbox.bytes.extend_from_slice(&run.bytes[written..]);
            }
            !outbox.bytes.is_empty() && std::mem::take(&mut outbox.writer_waiting)
        };
        if wake {
            self.wake_writer();
        }
        run.into_buffer()
    }

    /// Queues messages an app sends as one run (nothing else comes between them), all or none: each is checked
    /// first (the role), then they go in together if the send queue has room for all. Their xids are kept.
    pub fn send_all(&self, messages: &[Vec<u8>]) -> Result<(), RequestError> {
        for message in messages {
            self.check_role(message)?;
        }
        let total: usize = messages.iter().map(Vec::len).sum();
        let limit = self.shared.settings().send_queue_bytes;
        let wake = {
            let mut outbox = lock(&self.outbox);
            if outbox.closed {
                return Err(RequestError {
                    failure: RequestFailure::Disconnected,
                    detail: self.describe_short().into(),
                });
            }
            if outbox.bytes.len() + total > limit {
                drop(outbox);
                self.sends_refused.fetch_add(1, Ordering::Relaxed);
                let detail =
                    format!("{}: send queue full ({limit} bytes unsent; {total} to send)", self.describe_short());
                return Err(RequestError { failure: RequestFailure::SendQueueFull, detail: detail.into() });
            }
            for message in messages {
                outbox.bytes.extend_from_slice(message);
                if let Some(&msg_type) = message.get(1) {
                    self.counters().sent(msg_type, message.len());
                }
            }
            std::mem::take(&mut outbox.writer_waiting)
        };
        if wake {
            self.wake_writer();
        }
        Ok(())
    }

    /// Writes what apps queue, in as few system calls as possible. The socket is the reader's too, and may lets
    /// only one green thread wait for a socket's readiness, so a writer whose switch is not reading retries every
    /// millisecond (and gives up a second after the connection closed).
    ///
    /// `generation` is this writer's number in [`Outbox::writer_generation`]: a writer that was retired or replaced
    /// ends at its next wake-up.
    pub(super) fn write_loop(self: Arc<Self>, generation: u32) {
        self.wait_until_released();
        let mut batch = Vec::new();
        // TLS records sealed from `batch`.
        let mut records = Vec::new();
        loop {
            {
                let mut outbox = lock(&self.outbox);
                if outbox.writer.is_none() || outbox.writer_generation != generation {
                    return;
                }
                outbox.writer_busy = false;
                if self.handed_over() {
                    return;
                }
                if outbox.bytes.is_empty() && outbox.sealed.is_empty() {
                    if outbox.closed {
                        drop(outbox);
                        self.send_close_notify();
                        let _ = self.stream.shutdown(Shutdown::Both);
                        return;
                    }
                    outbox.writer_waiting = true;
                    outbox.writer_idle_since_ms = coarse_now_ms();
                    drop(outbox);
                    green::release_unused_stack();
                    may::coroutine::park();
                    continue;
                }
                std::mem::swap(&mut outbox.bytes, &mut batch);
                std::mem::swap(&mut outbox.sealed, &mut records);
                outbox.writer_busy = true;
            }
            let written = match &self.tls {
                None => self.write_all(&batch).map_err(|stopped| (stopped, false)),
                Some(link) => {
                    let sealed = lock(&link.sealer).seal(record::APPLICATION_DATA, &batch, &mut records);
                    // A capture holds the OpenFlow messages, not the records they are sealed in.
                    if sealed.is_ok() {
                        self.capture.sent(&batch);
                    }
                    batch.clear();
                    match sealed {
                        Ok(()) => self.write_all(&records).map_err(|stopped| (stopped, true)),
                        Err(e) => Err((WriteStopped::Failed(e.to_string()), true)),
                    }
                }
            };
            match written {
                Ok(()) => {
                    batch.clear();
                    records.clear();
                }
                Err((WriteStopped::HandedOver(written), false)) => {
                    // Put back what the switch has not been sent, ahead of anything queued since.
                    let mut outbox = lock(&self.outbox);
                    batch.drain(..written);
                    batch.append(&mut outbox.bytes);
                    outbox.bytes = std::mem::take(&mut batch);
                    outbox.writer_busy = false;
                    return;
                }
                Err((WriteStopped::HandedOver(written), true)) => {
                    // The records' sequence numbers are spent: what is left of them goes to the successor as it is.
                    let mut outbox = lock(&self.outbox);
                    records.drain(..written);
                    outbox.sealed = std::mem::take(&mut records);
                    outbox.writer_busy = false;
                    return;
                }
                Err((WriteStopped::Failed(reason), _)) => {
                    lock(&self.outbox).writer_busy = false;
                    self.close(&reason);
                    let _ = self.stream.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }

    /// Ends a TLS session the polite way (a close_notify alert) before the socket is shut; best effort.
    fn send_close_notify(&self) {
        let Some(link) = &self.tls else { return };
        let mut alert = Vec::new();
        if lock(&link.sealer).seal(record::ALERT, &[1, 0], &mut alert).is_ok() {
            let _ = socket::send(self.stream.as_raw_fd(), &alert);
        }
    }

    /// Writes `batch`, stopping early if the connection is handed over meanwhile.
    fn write_all(&self, batch: &[u8]) -> Result<(), WriteStopped> {
        let mut closed_at: Option<Instant> = None;
        let mut bytes = batch;
        while !bytes.is_empty() {
            if self.handed_over() {
                return Err(WriteStopped::HandedOver(batch.len() - bytes.len()));
            }
            match socket::send(self.stream.as_raw_fd(), bytes) {
                Ok(0) => return Err(WriteStopped::Failed("the switch stopped taking data".to_owned())),
                Ok(n) => {
                    if self.tls.is_none() {
                        self.capture.sent(&bytes[..n]);
                    }
                    bytes = &bytes[n..];
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if self.is_closed() && closed_at.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1)
                    {
                        let reason = "the switch did not take its last messages within a second";
                        return Err(WriteStopped::Failed(reason.to_owned()));
                    }
                    green::park(Some(Duration::from_millis(1)));
                }
                Err(e) => return Err(WriteStopped::Failed(format!("writing to the switch failed: {e}"))),
            }
        }
        Ok(())
    }
}
