//! `worker-pool`: a [`GreenPool`] of workers kept busy with jobs from a [`Queue`] — the pattern of Neutron's L3
//! agent (`_process_routers_loop`: a loop that spawns into a pool of 8, each worker taking one update off a queue).
//!
//! - A producer green thread feeds jobs into a bounded queue, `jobs_per_second` of them (0: as fast as the workers
//!   take them; the bounded queue holds the producer back).
//! - The dispatcher loop spawns a worker into the pool whenever a slot is free (`spawn_n` waits while the pool is
//!   full), so `workers` workers are always waiting for or running a job.
//! - A worker takes one job, runs it (a green sleep of `job_ms`) and ends. Every `panic_every`-th job panics on
//!   purpose: the host logs and counts the panic against the app, the worker's slot frees up, and the dispatcher
//!   spawns a replacement.
//! - At stop, the producer and the dispatcher are stopped, queued jobs are discarded, idle workers are told to
//!   quit, and the jobs in flight are waited for, at most `drain_timeout_ms`.
//!
//! ```toml
//! [app.worker-pool]
//! workers = 8
//! jobs_per_second = 20
//! job_ms = 50
//! panic_every = 0
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tatsu_plugin_api::green::{self, GreenPool, JoinHandle, Queue};
use tatsu_plugin_api::{export_app, App, BoxError, Context, Handlers};

/// The app's settings (its `[app.worker-pool]` section).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How many workers run at once (the pool's size).
    pub workers: usize,
    /// How many jobs the producer makes per second; 0: as many as the workers take.
    pub jobs_per_second: u32,
    /// How long one job takes, in milliseconds (a green sleep: it yields).
    pub job_ms: u64,
    /// Every job whose number is a multiple of this panics on purpose; 0: none does.
    pub panic_every: u64,
    /// How many jobs wait in the queue at most.
    pub queue_capacity: usize,
    /// Logs a progress line every this many finished jobs; 0: never.
    pub report_every: u64,
    /// At stop, how long to wait for the jobs in flight, in milliseconds. Keep it under half the host's
    /// `stop_timeout_ms`, the time the host gives an app's stop hook.
    pub drain_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 8,
            jobs_per_second: 20,
            job_ms: 50,
            panic_every: 0,
            queue_capacity: 64,
            report_every: 100,
            drain_timeout_ms: 2000,
        }
    }
}

/// A unit of work from the producer, or the signal for an idle worker to end at stop.
enum Job {
    Work(u64),
    Quit,
}

/// Counters shared by the producer, the workers and the stop hook.
#[derive(Default)]
struct Stats {
    produced: AtomicU64,
    done: AtomicU64,
    panicked: AtomicU64,
    busy: AtomicU64,
    max_busy: AtomicU64,
}

/// Counts a worker as busy while it lives (also when its job panics).
struct Busy<'a>(&'a Stats);

impl<'a> Busy<'a> {
    fn new(stats: &'a Stats) -> Self {
        let now = stats.busy.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_busy.fetch_max(now, Ordering::SeqCst);
        Busy(stats)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What runs while the app is started.
struct Running {
    jobs: Queue<Job>,
    pool: GreenPool,
    stats: Arc<Stats>,
    stopping: Arc<AtomicBool>,
    producer: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
}

/// The app: a pool of workers busy with jobs from a queue.
pub struct WorkerPool {
    config: Config,
    running: Option<Running>,
}

impl App for WorkerPool {
    const NAME: &'static str = "worker-pool";
    const DESCRIPTION: &'static str = "A GreenPool of workers kept busy with jobs from a queue";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        if config.workers == 0 || config.queue_capacity == 0 {
            return Err("`workers` and `queue_capacity` must be at least 1".into());
        }
        Ok(WorkerPool { config, running: None })
    }

    fn register(&self, _handlers: &mut Handlers<Self>) {}

    fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        let config = self.config.clone();
        let jobs = Queue::bounded(config.queue_capacity);
        let pool = GreenPool::new(config.workers);
        let stats = Arc::new(Stats::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let producer = {
            let (jobs, stats, rate) = (jobs.clone(), Arc::clone(&stats), config.jobs_per_second);
            green::spawn(move || produce(&jobs, &stats, rate))
        };
        let dispatcher = {
            let (jobs, pool, stats, stopping) = (jobs.clone(), pool.clone(), Arc::clone(&stats), Arc::clone(&stopping));
            green::spawn(move || dispatch(&config, &jobs, &pool, &stats, &stopping))
        };
        log::info!(
            "{} workers, {} jobs/s (0: unthrottled), every {}th job panics (0: none)",
            self.config.workers,
            self.config.jobs_per_second,
            self.config.panic_every
        );
        self.running = Some(Running { jobs, pool, stats, stopping, producer, dispatcher });
        Ok(())
    }

    fn stop(&mut self, _ctx: &Context) {
        let Some(running) = self.running.take() else { return };
        let started = Instant::now();
        let deadline = started + Duration::from_millis(self.config.drain_timeout_ms);
        let Running { jobs, pool, stats, stopping, producer, dispatcher } = running;

        // No new jobs, no new workers.
        stopping.store(true, Ordering::SeqCst);
        producer.stop();
        dispatcher.stop();
        let _ = producer.join_timeout(deadline.saturating_duration_since(Instant::now()));
        let _ = dispatcher.join_timeout(deadline.saturating_duration_since(Instant::now()));

        // Jobs not started yet are dropped.
        let mut discarded = 0u64;
        while let Some(job) = jobs.try_get() {
            if matches!(job, Job::Work(_)) {
                discarded += 1;
            }
        }

        // Idle workers (waiting for a job) are told to quit; busy ones finish their job. Workers the dispatcher
        // started just before it stopped may reach the queue late: keep telling until the pool is empty.
        let drained = loop {
            for _ in 0..jobs.getting() {
                let _ = jobs.try_put(Job::Quit);
            }
            if pool.waitall_timeout(Duration::from_millis(10)) {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
        };
        let s = &stats;
        let summary = format!(
            "{} jobs produced, {} done, {} panicked, {} discarded at stop, at most {} workers busy at once",
            s.produced.load(Ordering::SeqCst),
            s.done.load(Ordering::SeqCst),
            s.panicked.load(Ordering::SeqCst),
            discarded,
            s.max_busy.load(Ordering::SeqCst)
        );
        if drained {
            log::info!("worker-pool drained in {:?}: {summary}", started.elapsed());
        } else {
            log::warn!(
                "worker-pool: {} workers still busy after {:?}, the host stops them: {summary}",
                pool.running(),
                started.elapsed()
            );
        }
    }
}

/// The producer: puts numbered jobs into the queue, `rate` per second (0: as fast as there is room).
fn produce(jobs: &Queue<Job>, stats: &Stats, rate: u32) {
    let interval = (rate > 0).then(|| Duration::from_secs(1) / rate);
    let mut next = Instant::now();
    for id in 1u64.. {
        jobs.put(Job::Work(id));
        stats.produced.fetch_add(1, Ordering::Relaxed);
        match interval {
            Some(interval) => {
                next += interval;
                green::sleep(next.saturating_duration_since(Instant::now()));
            }
            // `put` does not yield while there is room: let the workers run.
            None => green::yield_now(),
        }
    }
}

/// The main loop: keeps the pool full of workers (`spawn_n` waits while it is full) until the app stops.
fn dispatch(config: &Config, jobs: &Queue<Job>, pool: &GreenPool, stats: &Arc<Stats>, stopping: &AtomicBool) {
    while !stopping.load(Ordering::SeqCst) {
        let (config, jobs, stats) = (config.clone(), jobs.clone(), Arc::clone(stats));
        pool.spawn_n(move || work(&config, &jobs, &stats));
    }
}

/// One worker: takes one job, runs it, ends. A panic here is logged by the host; the dispatcher replaces us.
fn work(config: &Config, jobs: &Queue<Job>, stats: &Stats) {
    let Job::Work(id) = jobs.get() else { return };
    let _busy = Busy::new(stats);
    if config.panic_every > 0 && id.is_multiple_of(config.panic_every) {
        stats.panicked.fetch_add(1, Ordering::SeqCst);
        panic!("job #{id} fails on purpose (panic_every = {})", config.panic_every);
    }
    green::sleep(Duration::from_millis(config.job_ms));
    let done = stats.done.fetch_add(1, Ordering::SeqCst) + 1;
    if config.report_every > 0 && done.is_multiple_of(config.report_every) {
        log::info!(
            "processed {done} jobs ({} panicked, {} busy)",
            stats.panicked.load(Ordering::SeqCst),
            stats.busy.load(Ordering::SeqCst)
        );
    }
}

export_app!(WorkerPool);
