//! Benchmark app `bus-sink`: counts the `bench.event` events the bus delivers to it, and on each `bench.end`
//! marker tells `bus-source` how many it received in that round (`bench.done`). It also answers `bench.hello` with
//! `bench.ready`, so the source knows which sinks are running before it starts.
//!
//! The host refuses two apps with one name and an app's name is a compile-time constant, so the benchmark builds
//! this crate once per sink with `TATSU_BENCH_SINK_NAME=bus-sink-N` (cargo rebuilds it when that variable changes)
//! and copies each library to its own file: N real, distinct app libraries of identical code.

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::{export_app, App, AppEvent, BoxError, Context, Handlers};

/// The marker that ends a round (published by `bus-source`).
#[derive(Debug, Deserialize)]
pub struct End {
    /// The round it ends.
    pub round: u32,
}

/// A sink's count for one round (sent to `bus-source`).
#[derive(Debug, Serialize)]
pub struct Done<'a> {
    /// This sink's app name.
    pub sink: &'a str,
    /// The round.
    pub round: u32,
    /// `bench.event`s received since the previous marker.
    pub received: u64,
}

/// The sink: a counter.
pub struct BusSink {
    received: u64,
}

impl App for BusSink {
    const NAME: &'static str = match option_env!("TATSU_BENCH_SINK_NAME") {
        Some(name) => name,
        None => "bus-sink",
    };
    const DESCRIPTION: &'static str = "benchmark: counts bench.event events for bus-source";
    type Config = ();

    fn new(_ctx: &Context, _config: ()) -> Result<Self, BoxError> {
        Ok(BusSink { received: 0 })
    }

    fn register(handlers: &mut Handlers<Self>) {
        handlers
            .on_app_event("bench.event", Self::on_event)
            .on_app_event("bench.end", Self::on_end)
            .on_app_event("bench.hello", Self::on_hello);
    }
}

impl BusSink {
    fn on_event(&mut self, _ctx: &Context, _event: &AppEvent<'_>) {
        self.received += 1;
    }

    fn on_end(&mut self, ctx: &Context, event: &AppEvent<'_>) -> Result<(), BoxError> {
        let end: End = event.payload()?;
        let done = Done { sink: Self::NAME, round: end.round, received: std::mem::take(&mut self.received) };
        ctx.publish("bench.done", &done)?;
        Ok(())
    }

    fn on_hello(&mut self, ctx: &Context, _event: &AppEvent<'_>) -> Result<(), BoxError> {
        ctx.publish("bench.ready", Self::NAME)?;
        Ok(())
    }
}

export_app!(BusSink);
