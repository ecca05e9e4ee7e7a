//! Turns of the scheduler: whether may has polled its I/O selectors lately, and a way for busy coroutines to let
//! it.
//!
//! A may scheduler thread polls its selector only once its run queue is empty and the work other threads (timers)
//! handed it is done too. Under sustained load that need never happen: busy readers wake the app, the app's
//! returned credit wakes the readers, readers waiting on timers come back through the other queue, and so on. A
//! coroutine waiting on the selector (a reader for its switch's next bytes, a writer for room in its socket) then
//! waits for as long as the load lasts: seconds, with hundreds of busy switches. So busy coroutines ask
//! [`Turns::starved`] now and then, and when it says yes they [`Turns::step_out`]: they park until every selector
//! has been polled again. Once all of them have, the run queues empty and the selectors are polled. The busy are
//! switch readers whose reads come back full, and apps' event loops with events still queued after a batch: an
//! app that always has events keeps its thread's run queue from emptying as surely as a reader does (on a loaded
//! machine, where the app handles its queue slower, that alone starved whole runs of switches for a second). Apps
//! ask [`Turns::long_starved`], which waits longer before it says yes: an app that steps out holds up all its
//! switches.
//!
//! One [`Turns`] serves the host: built in [`crate::host::Host::start`], handed to the switches and to the apps.
//!
//! What tells is a canary per scheduler thread: a coroutine reading one end of a socket pair whose descriptor may
//! polls on that thread's selector (may picks the selector by descriptor number), which a plain thread of ours
//! writes a byte to every [`BEAT`]. A canary is woken only by its selector, so a canary that has not run for
//! [`STARVED_AFTER_MS`] means a selector that has not been polled for that long. The beating thread beats only
//! while coroutines ask: after [`IDLE_AFTER`] without a question it sleeps until the next one.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use may::coroutine::Coroutine;
use may::os::unix::net::UnixStream;

use crate::timer::coarse_now_ms;

/// How often the canaries are written to while coroutines ask.
const BEAT: Duration = Duration::from_millis(2);

/// A canary this late means its selector has not been polled in that time.
const STARVED_AFTER_MS: u64 = 10;

/// A canary this late although busy readers step out: apps' event loops step out too. Later than for readers,
/// because an app that steps out stops every switch's traffic through it (at 4,096 busy switches, app step-outs at
/// the readers' 10 ms cost two thirds of the throughput), and readers' step-outs alone mostly suffice.
const LONG_STARVED_AFTER_MS: u64 = 50;

/// The beating stops after this long without a question.
const IDLE_AFTER: Duration = Duration::from_millis(100);

/// The longest a coroutine steps out, should no canary run (a canary that could not start, say).
const MOST_STEP_OUT: Duration = Duration::from_millis(20);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The scheduler's turns, as the canaries see them.
pub struct Turns {
    /// When each canary last ran (coarse milliseconds), one per scheduler thread; empty if they could not start.
    canaries: Vec<AtomicU64>,
    /// When a coroutine last asked.
    last_asked_ms: AtomicU64,
    /// The beating thread runs (or is started); it sleeps on `asked` when nobody asks.
    awake: AtomicBool,
    /// The write ends of the canaries' sockets, until the beating thread is started with them.
    beating: Mutex<Option<Vec<StdUnixStream>>>,
    asked: Condvar,
    /// Coroutines that stepped out, woken once no canary is late.
    stepped_out: Mutex<Vec<Coroutine>>,
    /// The canaries' write ends again, for the first coroutine to step out: a byte at once, so that the first poll
    /// of each selector runs its canary (and the stepped out go on) without waiting for the next beat.
    pokes: Vec<StdUnixStream>,
    /// `stepped_out` is not empty.
    any_stepped_out: AtomicBool,
}

impl Turns {
    /// The canaries for `workers` scheduler threads, not started yet (they start at the first question). Without
    /// canaries (their sockets could not be made; said in the log) nobody is ever told to step out.
    pub fn new(workers: usize) -> Arc<Turns> {
        let (readers, writers) = match canary_sockets(workers.max(1)) {
            Ok(sockets) => sockets.into_iter().unzip(),
            Err(e) => {
                log::warn!(target: "tatsu::green", "no canaries for the scheduler ({e}): busy readers will not step out for the selector");
                (Vec::new(), Vec::new())
            }
        };
        let pokes = writers.iter().filter_map(|writer| writer.try_clone().ok()).collect();
        let now = coarse_now_ms();
        let turns = Arc::new(Turns {
            canaries: readers.iter().map(|_| AtomicU64::new(now)).collect(),
            last_asked_ms: AtomicU64::new(now),
            awake: AtomicBool::new(false),
            beating: Mutex::new((!writers.is_empty()).then_some(writers)),
            asked: Condvar::new(),
            stepped_out: Mutex::new(Vec::new()),
            pokes,
            any_stepped_out: AtomicBool::new(false),
        });
        for (index, reader) in readers.into_iter().enumerate() {
            let canary = Arc::clone(&turns);
            if let Err(e) = super::spawn_host("scheduler-canary", move || canary.canary(index, reader)) {
                log::warn!(target: "tatsu::green", "{e}: a scheduler thread's turns are not watched");
                // Never late: it does not hold back the others' step-outs.
                turns.canaries[index].store(u64::MAX, Ordering::Relaxed);
            }
        }
        turns
    }

    /// Whether a scheduler thread has not polled its selector for [`STARVED_AFTER_MS`]: if so, the calling busy
    /// reader should [`Turns::step_out`].
    #[inline]
    pub fn starved(self: &Arc<Self>) -> bool {
        let now = self.asked();
        self.late_by(now, STARVED_AFTER_MS)
    }

    /// Whether a scheduler thread has not polled its selector for [`LONG_STARVED_AFTER_MS`], although busy readers
    /// step out: if so, the calling busy app's event loop should [`Turns::step_out`] too.
    #[inline]
    pub fn long_starved(self: &Arc<Self>) -> bool {
        let now = self.asked();
        self.late_by(now, LONG_STARVED_AFTER_MS)
    }

    /// Notes a question (the beating goes on while they come) and returns the time.
    #[inline]
    fn asked(self: &Arc<Self>) -> u64 {
        let now = coarse_now_ms();
        if self.last_asked_ms.load(Ordering::Relaxed) != now {
            self.last_asked_ms.store(now, Ordering::Relaxed);
        }
        if !self.awake.load(Ordering::Acquire) {
            self.wake_beating();
        }
        now
    }

    /// Whether any canary is more than `ms` late at `now`.
    fn late_by(&self, now: u64, ms: u64) -> bool {
        self.canaries.iter().any(|beat| now.saturating_sub(beat.load(Ordering::Relaxed)) > ms)
    }

    /// Parks the calling coroutine until every selector has been polled again (at most [`MOST_STEP_OUT`]).
    pub fn step_out(&self) {
        {
            let mut stepped_out = lock(&self.stepped_out);
            if stepped_out.is_empty() {
                for mut poke in &self.pokes {
                    let _ = poke.write(&[1]);
                }
            }
            stepped_out.push(may::coroutine::current());
            self.any_stepped_out.store(true, Ordering::Release);
        }
        super::park(Some(MOST_STEP_OUT));
    }

    /// Starts the beating thread (at the first question), or wakes it.
    #[cold]
    fn wake_beating(self: &Arc<Self>) {
        let mut beating = lock(&self.beating);
        if self.awake.swap(true, Ordering::AcqRel) {
            return;
        }
        // The canaries were idle (or never started) while nobody asked: none is late.
        let now = coarse_now_ms();
        for canary in &self.canaries {
            let _ = canary.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| (at != u64::MAX).then_some(now));
        }
        let Some(writers) = beating.take() else {
            self.asked.notify_one();
            return;
        };
        drop(beating);
        let turns = Arc::clone(self);
        let started = std::thread::Builder::new().name("tatsu-turns".to_owned()).spawn(move || beat(&turns, writers));
        if let Err(e) = started {
            log::warn!(target: "tatsu::green", "cannot start the scheduler's canary thread ({e}): busy readers will not step out for the selector");
        }
    }

    /// A canary's body: each byte it reads means its selector was polled.
    fn canary(&self, index: usize, mut socket: UnixStream) {
        let mut bytes = [0u8; 64];
        loop {
            match socket.read(&mut bytes) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!(target: "tatsu::green", "a scheduler canary stopped: {e}");
                    self.canaries[index].store(u64::MAX, Ordering::Relaxed);
                    return;
                }
            }
            let now = coarse_now_ms();
            self.canaries[index].store(now, Ordering::Relaxed);
            if self.any_stepped_out.load(Ordering::Acquire) && !self.late_by(now, STARVED_AFTER_MS) {
                let woken = std::mem::take(&mut *lock(&self.stepped_out));
                self.any_stepped_out.store(false, Ordering::Release);
                for coroutine in woken {
                    coroutine.unpark();
                }
            }
        }
    }
}

/// One socket pair per scheduler thread: the end may polls on thread `i`'s selector (descriptor `i` modulo
/// `workers`), and the end the beating thread writes to.
fn canary_sockets(workers: usize) -> std::io::Result<Vec<(UnixStream, StdUnixStream)>> {
    let mut found: Vec<Option<(StdUnixStream, StdUnixStream)>> = (0..workers).map(|_| None).collect();
    let mut spare = Vec::new();
    for _ in 0..workers * 8 {
        if found.iter().all(Option::is_some) {
            break;
        }
        let (a, b) = StdUnixStream::pair()?;
        let (a_slot, b_slot) = (a.as_raw_fd() as usize % workers, b.as_raw_fd() as usize % workers);
        if found[a_slot].is_none() {
            found[a_slot] = Some((a, b));
        } else if found[b_slot].is_none() {
            found[b_slot] = Some((b, a));
        } else {
            // Kept open until the end, so that the next pair gets other numbers.
            spare.push((a, b));
        }
    }
    drop(spare);
    found
        .into_iter()
        .map(|pair| {
            let (polled, written) = pair.ok_or_else(|| std::io::Error::other("no descriptor for a selector"))?;
            polled.set_nonblocking(true)?;
            written.set_nonblocking(true)?;
            // SAFETY: the descriptor is a connected Unix stream socket this function owns and gives up here.
            let polled = unsafe { UnixStream::from_raw_fd(polled.into_raw_fd()) };
            Ok((polled, written))
        })
        .collect()
}

/// The beating thread's body: a byte to every canary each [`BEAT`] while coroutines ask.
fn beat(turns: &Turns, mut writers: Vec<StdUnixStream>) {
    loop {
        for writer in &mut writers {
            // A canary that has not read its bytes yet has enough of them: a full socket is fine.
            let _ = writer.write(&[1]);
        }
        std::thread::sleep(BEAT);
        let asked = turns.last_asked_ms.load(Ordering::Relaxed);
        if coarse_now_ms().saturating_sub(asked) > IDLE_AFTER.as_millis() as u64 {
            let mut beating = lock(&turns.beating);
            turns.awake.store(false, Ordering::Release);
            while !turns.awake.load(Ordering::Acquire) {
                beating = turns.asked.wait(beating).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}
