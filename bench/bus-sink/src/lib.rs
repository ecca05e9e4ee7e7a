//! Benchmark app `bus-sink`: counts the `bench.event` events the bus delivers to it, and on each `bench.end`
//! marker tells `bus-source` how many it received in that round (`bench.done`). It also answers `bench.hello` with
//! `bench.ready`, so the source knows which sinks are running before it starts.
//!
//! The host refuses two apps with one name and an app's name is a compile-time constant, so the benchmark builds
//! this crate once per sink with `TATSU_BENCH_SINK_NAME=bus-sink-N` (cargo rebuilds it when that variable changes)
//! and copies each library to its own file: N real, distinct app libraries of identical code.

use serde::{Deserialize, Serialize};
use tatsu_plugin_api::{export_app, App, AppEvent, BoxError, Context, Handlers};

/// One benchmark event (its payload is the sequence number, published by `bus-source`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BenchEvent(pub u64);

impl AppEvent for BenchEvent {
    const NAME: &'static str = "bench.event";
}

/// The marker that ends a round (published by `bus-source`).
#[derive(Debug, Serialize, Deserialize)]
pub struct End {
    /// The round it ends.
    pub round: u32,
}

impl AppEvent for End {
    const NAME: &'static str = "bench.end";
}

/// `bus-source` asks which sinks are running (payload `null`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Hello;

impl AppEvent for Hello {
    const NAME: &'static str = "bench.hello";
}

/// A sink's answer to [`Hello`]: its app name.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ready(pub String);

impl AppEvent for Ready {
    const NAME: &'static str = "bench.ready";
}

/// A sink's count for one round (sent to `bus-source`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Done {
    /// This sink's app name.
    pub sink: String,
    /// The round.
    pub round: u32,
    /// `bench.event`s received since the previous marker.
    pub received: u64,
}

impl AppEvent for Done {
    const NAME: &'static str = "bench.done";
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

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_event(Self::on_event).on_event(Self::on_end).on_event(Self::on_hello);
    }
}

impl BusSink {
    fn on_event(&mut self, _ctx: &Context, _event: BenchEvent) {
        self.received += 1;
    }

    fn on_end(&mut self, ctx: &Context, end: End) -> Result<(), BoxError> {
        let done = Done { sink: Self::NAME.to_owned(), round: end.round, received: std::mem::take(&mut self.received) };
        ctx.publish(&done)?;
        Ok(())
    }

    fn on_hello(&mut self, ctx: &Context, _hello: Hello) -> Result<(), BoxError> {
        ctx.publish(&Ready(Self::NAME.to_owned()))?;
        Ok(())
    }
}

export_app!(BusSink);
