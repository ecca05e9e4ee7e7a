//! The capture writer: the queue taps hand records to (never blocking them: a short lock, and a full queue
//! drops), and the `tatsu-capture` thread that turns records into pcap records and writes files.
//!
//! Files are opened when their first records are written and stay open, at most [`MAX_OPEN_FILES`] at once
//! (past that the others are closed and opened again, to append, when written next), so that thousands of
//! captured switches do not take the descriptors the switches need. What one batch of records holds for a file
//! is written with one `write`. Once a second the directories of open files are checked: one that is gone (or
//! replaced) stops the capture, as does any failed open or write.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tatsu_packet::build::TcpSegment;
use tatsu_packet::pcap::{emit_record, FileHeader, Segment, MAX_SEGMENT_PAYLOAD};

use super::{lock, Inner};

/// Files kept open at once.
const MAX_OPEN_FILES: usize = 256;

/// How often the directories of open files are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long records may wait for the writer: it takes the queue this often, and is woken sooner only by a full
/// batch ([`WAKE_BYTES`]) or someone waiting for it (a close for a hot restart, a flush), so that taps do not pay a
/// wake-up (a system call) per record.
const BATCH_WAIT: Duration = Duration::from_millis(50);

/// Queued payload bytes that wake the writer before [`BATCH_WAIT`] is over.
const WAKE_BYTES: usize = 1 << 20;

/// What a tap asks the writer to do.
pub(super) enum Job {
    /// File `file` is at `path` (appended to if `append`, else created), between `ends` (switch, controller).
    Open { file: u64, path: PathBuf, append: bool, ends: [SocketAddr; 2] },
    /// A segment of file `file`'s connection (split in several if its payload is longer than a segment holds).
    Segment { file: u64, time: Duration, from_switch: bool, seq: u32, ack: u32, flags: u8, payload: Vec<u8> },
    /// Write what is queued for file `file` and close it; say so (with its path) on `done`.
    Close { file: u64, done: Option<mpsc::SyncSender<Option<PathBuf>>> },
    /// Write everything queued; say so.
    Flush { done: mpsc::SyncSender<()> },
}

/// The jobs waiting for the writer, bounded in bytes for segments.
pub(super) struct Queue {
    state: Mutex<Waiting>,
    ready: Condvar,
    limit: usize,
}

struct Waiting {
    jobs: VecDeque<Job>,
    bytes: usize,
    writer_waiting: bool,
    /// Something queued should not wait for [`BATCH_WAIT`] to end.
    urgent: bool,
}

impl Queue {
    pub(super) fn new(limit: usize) -> Queue {
        Queue {
            state: Mutex::new(Waiting { jobs: VecDeque::new(), bytes: 0, writer_waiting: false, urgent: false }),
            ready: Condvar::new(),
            limit,
        }
    }

    /// Queues a segment of `bytes` payload bytes unless the queue is full; `false`: dropped.
    pub(super) fn push_bounded(&self, job: Job, bytes: usize) -> bool {
        let mut state = lock(&self.state);
        if state.bytes + bytes > self.limit {
            return false;
        }
        state.bytes += bytes;
        let wake = state.bytes >= WAKE_BYTES;
        self.push_locked(state, job, wake);
        true
    }

    /// Queues a job past the bound (opens, closes, a connection's first records: few, or already counted).
    pub(super) fn push_always(&self, job: Job) {
        let mut state = lock(&self.state);
        if let Job::Segment { payload, .. } = &job {
            state.bytes += payload.len();
        }
        let awaited = matches!(job, Job::Close { done: Some(_), .. } | Job::Flush { .. });
        self.push_locked(state, job, awaited);
    }

    fn push_locked(&self, mut state: std::sync::MutexGuard<'_, Waiting>, job: Job, wake: bool) {
        state.jobs.push_back(job);
        state.urgent |= wake;
        if wake && std::mem::take(&mut state.writer_waiting) {
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Everything queued, after waiting up to `wait` (less if woken).
    pub(super) fn take(&self, wait: Duration) -> VecDeque<Job> {
        let mut state = lock(&self.state);
        if !wait.is_zero() && !state.urgent {
            state.writer_waiting = true;
            state = self.ready.wait_timeout(state, wait).map_or_else(|e| e.into_inner().0, |(state, _)| state);
            state.writer_waiting = false;
        }
        state.bytes = 0;
        state.urgent = false;
        std::mem::take(&mut state.jobs)
    }
}

/// Starts the writer thread.
pub(super) fn start(inner: Arc<Inner>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("tatsu-capture".to_owned())
        .spawn(move || Writer { inner, files: HashMap::new(), open: 0, dirs: HashMap::new() }.run())
        .map(|_| ())
        .map_err(|e| format!("cannot start the capture writer thread: {e}"))
}

/// A file being written.
struct Capture {
    path: PathBuf,
    append: bool,
    ends: [SocketAddr; 2],
    file: Option<File>,
    /// Encoded records not yet written.
    pending: Vec<u8>,
}

/// Why writing stopped.
type Failure = String;

struct Writer {
    inner: Arc<Inner>,
    files: HashMap<u64, Capture>,
    /// How many of `files` have an open descriptor.
    open: usize,
    /// The directories of open files, with the device and inode each had when a file in it was opened.
    dirs: HashMap<PathBuf, (u64, u64)>,
}

impl Writer {
    fn run(mut self) {
        let mut checked = Instant::now();
        loop {
            let jobs = self.inner.queue.take(BATCH_WAIT);
            let stopped = lock(&self.inner.control).stopped.is_some();
            let result = if stopped { self.discard(jobs) } else { self.handle(jobs) };
            if let Err(reason) = result.and_then(|()| {
                if checked.elapsed() < CHECK_EVERY {
                    return Ok(());
                }
                checked = Instant::now();
                self.check_dirs()
            }) {
                self.files.clear();
                self.dirs.clear();
                self.open = 0;
                self.inner.stop(reason);
            }
        }
    }

    /// After a failure: drops everything, answering whoever waits.
    fn discard(&mut self, jobs: VecDeque<Job>) -> Result<(), Failure> {
        self.files.clear();
        self.dirs.clear();
        self.open = 0;
        for job in jobs {
            match job {
                Job::Close { done: Some(done), .. } => {
                    let _ = done.send(None);
                }
                Job::Flush { done } => {
                    let _ = done.send(());
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn handle(&mut self, jobs: VecDeque<Job>) -> Result<(), Failure> {
        let mut packet = Vec::with_capacity(MAX_SEGMENT_PAYLOAD + 64);
        for job in jobs {
            match job {
                Job::Open { file, path, append, ends } => {
                    self.files.insert(file, Capture { path, append, ends, file: None, pending: Vec::new() });
                }
                Job::Segment { file, time, from_switch, seq, ack, flags, payload } => {
                    let Some(capture) = self.files.get_mut(&file) else { continue };
                    let (src, dst) = if from_switch {
                        (capture.ends[0], capture.ends[1])
                    } else {
                        (capture.ends[1], capture.ends[0])
                    };
                    let mut seq = seq;
                    let pieces: Vec<&[u8]> =
                        if payload.is_empty() { vec![&[]] } else { payload.chunks(MAX_SEGMENT_PAYLOAD).collect() };
                    for piece in pieces {
                        packet.clear();
                        let tcp = TcpSegment { seq, ack, flags, window: 65_535 };
                        if (Segment { src, dst, tcp, payload: piece }).emit(&mut packet).is_ok() {
                            emit_record(time, &packet, &mut capture.pending);
                        }
                        seq = seq.wrapping_add(piece.len() as u32);
                    }
                }
                Job::Close { file, done } => {
                    let written = self.write_out(file);
                    let capture = self.files.remove(&file);
                    if capture.as_ref().is_some_and(|c| c.file.is_some()) {
                        self.open -= 1;
                    }
                    written?;
                    if let Some(done) = done {
                        let _ = done.send(capture.map(|c| c.path));
                    }
                }
                Job::Flush { done } => {
                    self.write_all()?;
                    let _ = done.send(());
                }
            }
        }
        self.write_all()
    }

    fn write_all(&mut self) -> Result<(), Failure> {
        let ids: Vec<u64> = self.files.iter().filter(|(_, c)| !c.pending.is_empty()).map(|(id, _)| *id).collect();
        ids.into_iter().try_for_each(|id| self.write_out(id))
    }

    /// Writes file `id`'s pending records, opening it first if need be.
    fn write_out(&mut self, id: u64) -> Result<(), Failure> {
        if self.files.get(&id).is_none_or(|capture| capture.pending.is_empty()) {
            return Ok(());
        }
        if self.files.get(&id).is_some_and(|capture| capture.file.is_none()) {
            if self.open >= MAX_OPEN_FILES {
                self.files.values_mut().for_each(|capture| capture.file = None);
                self.open = 0;
            }
            let Some(capture) = self.files.get_mut(&id) else { return Ok(()) };
            let (file, path) = open(&capture.path, capture.append)
                .map_err(|e| format!("cannot open {}: {e}", capture.path.display()))?;
            // Opened again later, it is appended to.
            capture.append = true;
            capture.path = path;
            capture.file = Some(file);
            self.open += 1;
            if let Some(dir) = capture.path.parent() {
                if !self.dirs.contains_key(dir) {
                    let identity =
                        identity(dir).map_err(|e| format!("the capture directory {}: {e}", dir.display()))?;
                    self.dirs.insert(dir.to_owned(), identity);
                }
            }
        }
        let Some(capture) = self.files.get_mut(&id) else { return Ok(()) };
        let Some(file) = capture.file.as_mut() else { return Ok(()) };
        file.write_all(&capture.pending).map_err(|e| format!("cannot write {}: {e}", capture.path.display()))?;
        self.inner.written_bytes.fetch_add(capture.pending.len() as u64, Ordering::Relaxed);
        capture.pending.clear();
        if capture.pending.capacity() > 1 << 20 {
            capture.pending.shrink_to(64 << 10);
        }
        Ok(())
    }

    /// Fails if a directory a file was opened in is gone or is another directory now.
    fn check_dirs(&mut self) -> Result<(), Failure> {
        let open: std::collections::HashSet<&Path> =
            self.files.values().filter(|c| c.file.is_some()).filter_map(|c| c.path.parent()).collect();
        self.dirs.retain(|dir, _| open.contains(dir.as_path()));
        for (dir, was) in &self.dirs {
            match identity(dir) {
                Ok(now) if now == *was => {}
                Ok(_) => return Err(format!("the capture directory {} was replaced", dir.display())),
                Err(e) => return Err(format!("the capture directory {} is gone ({e})", dir.display())),
            }
        }
        Ok(())
    }
}

/// A directory's device and inode.
fn identity(dir: &Path) -> io::Result<(u64, u64)> {
    let metadata = std::fs::metadata(dir)?;
    if !metadata.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    Ok((metadata.dev(), metadata.ino()))
}

/// Opens a capture file: appended to (a header written if it is empty or new), or created new with a header (a
/// name taken is given a `-2`, `-3`... suffix). Returns the file and its path.
fn open(path: &Path, append: bool) -> io::Result<(File, PathBuf)> {
    let header = || {
        let mut bytes = Vec::with_capacity(24);
        FileHeader::raw_ip().emit(&mut bytes);
        bytes
    };
    if append {
        let mut file = OpenOptions::new().append(true).create(true).open(path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(&header())?;
        }
        return Ok((file, path.to_owned()));
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut candidate = path.to_owned();
    for n in 2.. {
        match OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                file.write_all(&header())?;
                return Ok((file, candidate));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => {
                candidate = path.with_file_name(format!("{stem}-{n}.pcap"));
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free file name"))
}
