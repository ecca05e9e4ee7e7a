//! Runners: the coroutines that green threads run on.
//!
//! A runner runs one green thread's body, then waits in an idle list for the next one. Spawning on a scheduler
//! thread is then a hand-off: the new body goes to an idle runner, which is unparked onto that scheduler thread's
//! own run queue. A new may coroutine costs more: `Builder::spawn` always queues it on a global queue and writes to
//! a worker's eventfd, which alone was a quarter of the time of a spawn and join; and its first run is on whichever
//! worker takes it, so a spawn and join with several workers bounced between threads.
//!
//! Only [`MAX_IDLE`] runners wait; a runner finishing a body when that many are idle ends.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use may::coroutine::Coroutine;

use super::{GreenSlot, HostCoroutine};

/// How many runners may wait for work: enough for a burst of a thousand green threads to reuse them all. A waiting
/// runner holds the stack pages near its top that its last jobs used (deeper ones are given back, see
/// [`super::stack`]): one or two pages for most apps.
const MAX_IDLE: usize = 1024;

/// The runners of app green threads: those waiting for a body, and the stack size new ones get. One per host,
/// shared by every [`super::ThreadGroup`].
pub struct Runners {
    /// Runners waiting for a body, the most recently idle last (its stack is the likeliest to be in cache).
    idle: Mutex<Vec<Arc<Runner>>>,
    /// The stack size of new runners, in bytes.
    stack_bytes: usize,
}

impl Runners {
    /// A pool whose runners have stacks of `stack_bytes` (0: may's configured size).
    pub fn new(stack_bytes: usize) -> Arc<Runners> {
        let stack_bytes = if stack_bytes == 0 { super::default_stack_bytes() } else { stack_bytes };
        Arc::new(Runners { idle: Mutex::new(Vec::new()), stack_bytes })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Runner>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One green thread's body, to run on a runner.
pub(super) struct Job {
    pub slot: Arc<GreenSlot>,
    pub body: Box<dyn FnOnce() + Send>,
}

/// An idle runner's mailbox.
struct Runner {
    coroutine: Coroutine,
    next: Mutex<Option<Job>>,
}

/// Runs `job` on an idle runner of `runners` if there is one, else on a new coroutine.
pub(super) fn start(runners: &Arc<Runners>, job: Job) -> io::Result<()> {
    let idle = runners.idle().pop();
    if let Some(runner) = idle {
        job.slot.bind(&runner.coroutine);
        *runner.next.lock().unwrap_or_else(PoisonError::into_inner) = Some(job);
        runner.coroutine.unpark();
        return Ok(());
    }
    let slot = Arc::clone(&job.slot);
    // SAFETY: runners keep no thread-local state across yields (only may's coroutine-local storage), and they are
    // never cancelled.
    let builder = may::coroutine::Builder::new().stack_size(runners.stack_bytes / std::mem::size_of::<usize>());
    let pool = Arc::clone(runners);
    let spawned = panic::catch_unwind(AssertUnwindSafe(|| unsafe { builder.spawn(move || run(&pool, job)) }));
    // generator panics when it cannot map a stack (out of memory, or of `vm.max_map_count` mappings).
    let handle =
        spawned.map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "no memory for a green thread's stack"))??;
    slot.bind(handle.coroutine());
    Ok(())
}

/// A runner's life: its first job, then the next ones handed to it while it waits among the idle runners.
fn run(runners: &Runners, first: Job) {
    let host = HostCoroutine::enter(runners.stack_bytes);
    let me = Arc::new(Runner { coroutine: may::coroutine::current(), next: Mutex::new(None) });
    let mut job = first;
    loop {
        run_job(&host, &me.coroutine, job);
        match wait_for_job(runners, &host, &me) {
            Some(next) => job = next,
            None => break,
        }
    }
}

fn run_job(host: &HostCoroutine, coroutine: &Coroutine, Job { slot, body }: Job) {
    slot.bind(coroutine);
    *host.local().slot.borrow_mut() = Some(Arc::clone(&slot));
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(body)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        log::error!(target: "tatsu", "{} #{} of `{}` panicked: {message}", slot.label, slot.id, slot.group.app);
    }
    host.local().slot.borrow_mut().take();
    slot.finish();
}

/// Waits among the idle runners for the next job; `None` if enough runners wait already.
fn wait_for_job(runners: &Runners, host: &HostCoroutine, me: &Arc<Runner>) -> Option<Job> {
    // Waiting for work can take long: give back the stack pages the last jobs used first (at most once a second, and
    // before going on the idle list, so that no spawner waits for it).
    host.local().stack.release_unused();
    {
        let mut idle = runners.idle();
        if idle.len() >= MAX_IDLE {
            return None;
        }
        idle.push(Arc::clone(me));
    }
    loop {
        if let Some(job) = me.next.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Some(job);
        }
        // A wake-up meant for a green thread that ran here before may arrive now; the loop absorbs it.
        may::coroutine::park();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::super::ThreadGroup;
    use super::*;

    const PATIENCE: Duration = Duration::from_secs(10);

    fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !condition() {
            assert!(Instant::now() < deadline, "gave up waiting until {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// An address in the frame of the green thread's body: equal for two bodies that ran on the same stack.
    #[inline(never)]
    fn frame_address() -> usize {
        let marker = 0u8;
        std::hint::black_box(&marker) as *const u8 as usize
    }

    // One test, so that no other test takes the idle runner in between.
    #[test]
    fn a_finished_runner_runs_the_next_thread_even_after_a_panic() {
        let runners = Runners::new(0);
        let group = ThreadGroup::new("runner-test", &runners);
        let (addresses, received) = mpsc::channel();

        let sender = addresses.clone();
        let first = group.spawn("first", move || sender.send(frame_address()).expect("send")).expect("spawn");
        let first_frame = received.recv_timeout(PATIENCE).expect("the first thread ran");
        wait_until("the first runner is idle", || first.is_finished() && !runners.idle().is_empty());

        let sender = addresses.clone();
        let second = group.spawn("second", move || sender.send(frame_address()).expect("send")).expect("spawn");
        assert_eq!(received.recv_timeout(PATIENCE), Ok(first_frame), "the idle runner's stack ran the second thread");
        wait_until("the second thread is finished", || second.is_finished());

        // A body that panics (host code; app code catches its own panics) is logged; its thread still finishes,
        // leaves its group, and the runner goes on to the next body.
        let panicking = group.spawn("panicking", || panic!("on purpose")).expect("spawn");
        wait_until("the panicking thread is finished", || panicking.is_finished());
        let sender = addresses;
        group.spawn("after the panic", move || sender.send(frame_address()).expect("send")).expect("spawn");
        assert!(received.recv_timeout(PATIENCE).is_ok(), "a thread spawned after the panic ran");
        wait_until("the group is empty", || group.threads().is_empty());
    }
}
