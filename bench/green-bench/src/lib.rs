//! Benchmark app `green-bench`: what a host service call, a green thread and a parked green thread cost, measured
//! from inside a real app library running in the real host.
//!
//! - **Host service crossing**: `GreenThread::is_finished()` on a live handle is one call app → host → app through
//!   the services table (a prefix-type accessor, an `extern "C"` call, an atomic load). Compared with a plain
//!   indirect `extern "C"` call inside the library, and with `green::current()` (two crossings, reference counted)
//!   and `green::yield_now()` (a crossing plus a trip through the scheduler).
//! - **spawn+join**: `green::spawn(|| ()).join()` in a loop; and `spawn_batch` spawns then joins in batches.
//! - **Parked threads**: spawns `parked` threads that each sleep an hour, and reads the process's resident memory
//!   (`VmRSS` in `/proc/self/status`) before and after; shutdown then has them all to stop.
//!
//! Results go to the log as `BENCH <key> <value>` lines, ending with `BENCH done` (or `BENCH error <why>`).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tatsu_plugin_api::green;
use tatsu_plugin_api::{export_app, App, BoxError, Context, Handlers};

/// The `[app.green-bench]` section; a count of 0 skips that measurement.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Calls per host-service measurement.
    pub calls: u64,
    /// Sequential spawn+join pairs.
    pub spawn_join: u64,
    /// Threads spawned then joined, in batches of `batch`.
    pub spawn_batch: u64,
    /// Batch size for `spawn_batch`.
    pub batch: u64,
    /// Green threads to leave parked in `green::sleep` for the memory measurement.
    pub parked: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { calls: 10_000_000, spawn_join: 300_000, spawn_batch: 300_000, batch: 1_000, parked: 0 }
    }
}

/// The app: it only runs its driver thread.
pub struct GreenBench {
    config: Config,
}

impl App for GreenBench {
    const NAME: &'static str = "green-bench";
    const DESCRIPTION: &'static str = "benchmark: host call cost, spawn+join rate, memory per parked green thread";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(GreenBench { config })
    }

    fn register(&self, _handlers: &mut Handlers<Self>) {}

    fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        let config = self.config.clone();
        green::spawn_n(move || match drive(&config) {
            Ok(()) => log::info!("BENCH done"),
            Err(why) => log::error!("BENCH error {why}"),
        });
        Ok(())
    }
}

fn drive(config: &Config) -> Result<(), String> {
    if config.calls > 0 {
        host_calls(config.calls);
    }
    if config.spawn_join > 0 {
        spawn_join(config.spawn_join)?;
    }
    if config.spawn_batch > 0 && config.batch > 0 {
        spawn_batch(config.spawn_batch, config.batch)?;
    }
    if config.parked > 0 {
        parked(config.parked)?;
    }
    Ok(())
}

fn per_call_ns(started: Instant, n: u64) -> f64 {
    started.elapsed().as_nanos() as f64 / n as f64
}

extern "C" fn local_call(x: u64) -> u64 {
    x.wrapping_add(1)
}

fn host_calls(n: u64) {
    // Baseline: an indirect `extern "C"` call that stays inside this library (same loop shape as below).
    let f: extern "C" fn(u64) -> u64 = black_box(local_call);
    let started = Instant::now();
    let mut acc = 0u64;
    for i in 0..n {
        acc += f(black_box(i)) & 1;
    }
    black_box(acc);
    log::info!("BENCH abi.local_extern_call_ns {:.2}", per_call_ns(started, n));

    let me = green::current();
    let started = Instant::now();
    let mut finished = 0u64;
    for _ in 0..n {
        finished += u64::from(black_box(&me).is_finished());
    }
    black_box(finished);
    log::info!("BENCH abi.host_call_ns {:.2}", per_call_ns(started, n));

    let started = Instant::now();
    for _ in 0..n / 10 {
        drop(black_box(green::current()));
    }
    log::info!("BENCH abi.current_thread_ns {:.2}", per_call_ns(started, n / 10));

    let started = Instant::now();
    for _ in 0..n / 10 {
        green::yield_now();
    }
    log::info!("BENCH green.yield_ns {:.1}", per_call_ns(started, n / 10));
}

fn spawn_join(n: u64) -> Result<(), String> {
    let started = Instant::now();
    for i in 0..n {
        let got = green::spawn(move || i).join().map_err(|e| format!("spawn+join: {e}"))?;
        black_box(got);
    }
    let seconds = started.elapsed().as_secs_f64();
    log::info!("BENCH green.spawn_join_per_s {:.0}", n as f64 / seconds);
    Ok(())
}

fn spawn_batch(n: u64, batch: u64) -> Result<(), String> {
    let started = Instant::now();
    let mut done = 0;
    let mut handles = Vec::with_capacity(batch as usize);
    while done < n {
        let size = batch.min(n - done);
        handles.extend((0..size).map(|i| green::spawn(move || i)));
        for handle in handles.drain(..) {
            black_box(handle.join().map_err(|e| format!("spawn batch: {e}"))?);
        }
        done += size;
    }
    let seconds = started.elapsed().as_secs_f64();
    log::info!("BENCH green.spawn_batch_per_s {:.0}", n as f64 / seconds);
    Ok(())
}

/// Resident memory of this process in KiB, from `/proc/self/status` (a blocking read, once: fine in a benchmark).
fn resident_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS line in /proc/self/status".to_owned())
}

fn parked(n: u64) -> Result<(), String> {
    // Let the host settle (start-up allocations, the other measurements' threads finishing).
    green::sleep(Duration::from_millis(200));
    let before = resident_kib()?;
    let asleep = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    for _ in 0..n {
        let asleep = Arc::clone(&asleep);
        green::spawn_n(move || {
            asleep.fetch_add(1, Ordering::Relaxed);
            green::sleep(Duration::from_secs(3600));
        });
    }
    let spawned = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    while asleep.load(Ordering::Relaxed) < n {
        if Instant::now() >= deadline {
            return Err(format!("only {} of {n} threads went to sleep within 60 s", asleep.load(Ordering::Relaxed)));
        }
        green::sleep(Duration::from_millis(5));
    }
    let all_asleep = started.elapsed();
    green::sleep(Duration::from_millis(200));
    let after = resident_kib()?;
    log::info!("BENCH green.parked {n}");
    log::info!("BENCH green.parked_spawn_ms {:.1}", spawned.as_secs_f64() * 1e3);
    log::info!("BENCH green.parked_all_asleep_ms {:.1}", all_asleep.as_secs_f64() * 1e3);
    log::info!("BENCH green.rss_before_kib {before}");
    log::info!("BENCH green.rss_after_kib {after}");
    log::info!("BENCH green.kib_per_parked {:.2}", after.saturating_sub(before) as f64 / n as f64);
    Ok(())
}

export_app!(GreenBench);
