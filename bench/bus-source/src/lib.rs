//! Benchmark app `bus-source`: pushes app events through the host's event bus to `bus-sink-*` apps and logs how
//! many per second arrive.
//!
//! At start it spawns a driver green thread that waits until `sinks` sinks answered `bench.hello`, then runs a
//! warm-up round and `rounds` measured rounds. In each round it publishes `events` `bench.event`s (payload: the
//! sequence number) as fast as `publish` returns, yielding every `yield_every` events so that the sinks' event
//! loops run; then it publishes a `bench.end` marker and waits for a `bench.done` count from every sink. A round
//! lasts from the first publish to the last `bench.done` handled here; the events dropped are those sent to a sink
//! and not counted by it (a full queue drops them, by the host's policy).
//!
//! Results go to the log as `BENCH <key> <value>` lines, ending with `BENCH done` (or `BENCH error <why>`);
//! `scripts/bench` reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::green;
use tatsu_plugin_api::{export_app, App, AppEvent, BoxError, Context, Handlers};

/// The `[app.bus-source]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How many sinks must answer before the benchmark starts.
    pub sinks: usize,
    /// Events per measured round.
    pub events: u64,
    /// Events in the warm-up round (not reported).
    pub warmup_events: u64,
    /// Measured rounds; the median is reported.
    pub rounds: u32,
    /// Publish this many events, then yield once.
    pub yield_every: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { sinks: 1, events: 1_000_000, warmup_events: 100_000, rounds: 3, yield_every: 1024 }
    }
}

/// One sink's answer for a round.
#[derive(Debug, Serialize, Deserialize)]
struct Done {
    sink: String,
    round: u32,
    received: u64,
}

impl AppEvent for Done {
    const NAME: &'static str = "bench.done";
}

/// One benchmark event: its sequence number.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct BenchEvent(u64);

impl AppEvent for BenchEvent {
    const NAME: &'static str = "bench.event";
}

/// The marker that ends a round.
#[derive(Serialize, Deserialize)]
struct End {
    round: u32,
}

impl AppEvent for End {
    const NAME: &'static str = "bench.end";
}

/// Asks the sinks to say they are running (payload `null`).
#[derive(Serialize, Deserialize)]
struct Hello;

impl AppEvent for Hello {
    const NAME: &'static str = "bench.hello";
}

/// A sink's answer to [`Hello`]: its name.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Ready(String);

impl AppEvent for Ready {
    const NAME: &'static str = "bench.ready";
}

/// A `Done` and when it was handled here.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    received: u64,
    at: Instant,
}

/// What the event handlers record for the driver thread.
#[derive(Debug, Default)]
struct Shared {
    ready: BTreeSet<String>,
    done: BTreeMap<u32, BTreeMap<String, Arrival>>,
}

type SharedRef = Arc<Mutex<Shared>>;

fn lock(shared: &SharedRef) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The source app.
pub struct BusSource {
    config: Config,
    shared: SharedRef,
}

impl App for BusSource {
    const NAME: &'static str = "bus-source";
    const DESCRIPTION: &'static str = "benchmark: app events through the bus, events/s to N sinks";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        if config.sinks == 0 || config.events == 0 || config.rounds == 0 || config.yield_every == 0 {
            return Err("sinks, events, rounds and yield_every must be at least 1".into());
        }
        Ok(BusSource { config, shared: SharedRef::default() })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_event(Self::on_ready).on_event(Self::on_done);
    }

    fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        let (ctx, config, shared) = (*ctx, self.config.clone(), Arc::clone(&self.shared));
        green::spawn_n(move || match drive(ctx, &config, &shared) {
            Ok(()) => log::info!("BENCH done"),
            Err(why) => log::error!("BENCH error {why}"),
        });
        Ok(())
    }
}

impl BusSource {
    fn on_ready(&mut self, _ctx: &Context, Ready(sink): Ready) {
        lock(&self.shared).ready.insert(sink);
    }

    fn on_done(&mut self, _ctx: &Context, done: Done) {
        let at = Instant::now();
        // A resent marker makes a sink answer twice; the first answer of a round is the one that counts.
        lock(&self.shared)
            .done
            .entry(done.round)
            .or_default()
            .entry(done.sink)
            .or_insert(Arrival { received: done.received, at });
    }
}

/// One round's figures.
#[derive(Debug, Clone, Copy)]
struct RoundResult {
    /// Events per second through the bus to every sink.
    events_per_s: f64,
    /// Events handled by sinks per second, summed over the sinks.
    deliveries_per_s: f64,
    /// Events sent to a sink but not counted by it.
    dropped: u64,
    /// The slowest sink's rate (its events / time until its `bench.done`).
    slowest_sink_per_s: f64,
}

fn drive(ctx: Context, config: &Config, shared: &SharedRef) -> Result<(), String> {
    wait_for_sinks(ctx, config, shared)?;
    log::info!(
        "{} sink(s) ready: {} events per round, {} rounds, yield every {} events",
        config.sinks,
        config.events,
        config.rounds,
        config.yield_every
    );
    run_round(ctx, config, shared, 0, config.warmup_events)?;
    let mut results = Vec::new();
    for round in 1..=config.rounds {
        let result = run_round(ctx, config, shared, round, config.events)?;
        log::info!(
            "round {round}: {:.0} events/s to all {} sink(s), {:.0} deliveries/s, slowest sink {:.0}/s, {} dropped",
            result.events_per_s,
            config.sinks,
            result.deliveries_per_s,
            result.slowest_sink_per_s,
            result.dropped
        );
        results.push(result);
    }
    let median = |key: fn(&RoundResult) -> f64| {
        let mut values: Vec<f64> = results.iter().map(key).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let deliveries = median(|r| r.deliveries_per_s);
    log::info!("BENCH bus.sinks {}", config.sinks);
    log::info!("BENCH bus.events_per_s {:.0}", median(|r| r.events_per_s));
    log::info!("BENCH bus.deliveries_per_s {deliveries:.0}");
    log::info!("BENCH bus.ns_per_delivery {:.1}", 1e9 / deliveries);
    log::info!("BENCH bus.slowest_sink_per_s {:.0}", median(|r| r.slowest_sink_per_s));
    log::info!("BENCH bus.dropped {}", results.iter().map(|r| r.dropped).sum::<u64>());
    Ok(())
}

/// Says hello until `config.sinks` sinks have answered.
fn wait_for_sinks(ctx: Context, config: &Config, shared: &SharedRef) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        ctx.publish(&Hello).map_err(|e| e.to_string())?;
        green::sleep(Duration::from_millis(10));
        let ready = lock(shared).ready.len();
        if ready >= config.sinks {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("only {ready} of {} sinks answered within 10 s", config.sinks));
        }
    }
}

fn run_round(
    ctx: Context,
    config: &Config,
    shared: &SharedRef,
    round: u32,
    events: u64,
) -> Result<RoundResult, String> {
    let started = Instant::now();
    for seq in 0..events {
        ctx.publish(&BenchEvent(seq)).map_err(|e| e.to_string())?;
        if (seq + 1) % config.yield_every == 0 {
            green::yield_now();
        }
    }
    // Events from one producer reach each sink in order, so the marker comes after this round's events. A full
    // queue may drop the marker too: resend it until every sink has answered.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next_marker = Instant::now();
    let arrivals = loop {
        if Instant::now() >= next_marker {
            ctx.publish(&End { round }).map_err(|e| e.to_string())?;
            next_marker = Instant::now() + Duration::from_millis(10);
        }
        green::yield_now();
        if let Some(arrivals) = lock(shared).done.get(&round).filter(|done| done.len() >= config.sinks) {
            break arrivals.clone();
        }
        if Instant::now() >= deadline {
            return Err(format!("round {round}: not every sink answered the end marker within 60 s"));
        }
        green::sleep(Duration::from_micros(200));
    };
    let last = arrivals.values().map(|a| a.at).max().unwrap_or(started);
    let seconds = last.duration_since(started).as_secs_f64();
    let received: u64 = arrivals.values().map(|a| a.received).sum();
    let slowest = arrivals
        .values()
        .map(|a| a.received as f64 / a.at.duration_since(started).as_secs_f64())
        .fold(f64::INFINITY, f64::min);
    Ok(RoundResult {
        events_per_s: events as f64 / seconds,
        deliveries_per_s: received as f64 / seconds,
        dropped: (events * config.sinks as u64).saturating_sub(received),
        slowest_sink_per_s: slowest,
    })
}

export_app!(BusSource);
