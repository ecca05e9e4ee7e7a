//! The counters themselves: a connection's OpenFlow traffic ([`SwitchCounters`], summed per datapath by
//! [`DatapathCounters`]) and an app's events ([`AppCounters`], with a [`Histogram`] of handler time). They are
//! relaxed atomics that the code they count bumps (a connection's reader and writer, an app's event loop and queue)
//! and a scrape only reads; each has a plain serde form for a hot restart, which the successor adds to its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Message types with a counter of their own: every type up to OpenFlow 1.5's last (35), then one for any other.
pub const TYPE_SLOTS: usize = 37;

/// The slot counting `msg_type` (a type past 1.5's last shares the final slot).
#[inline]
fn slot(msg_type: u8) -> usize {
    usize::from(msg_type).min(TYPE_SLOTS - 1)
}

/// Adds `by` to a counter that only one thread of control writes (a connection's reader, or whoever holds its
/// outbox lock): a plain load and store, no locked instruction; readers (a scrape) see whole values.
#[inline]
fn bump(cell: &AtomicU64, by: u64) {
    cell.store(cell.load(Ordering::Relaxed).wrapping_add(by), Ordering::Relaxed);
}

/// Messages and bytes of one direction, by message type.
pub struct Traffic {
    messages: [AtomicU64; TYPE_SLOTS],
    bytes: [AtomicU64; TYPE_SLOTS],
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            messages: std::array::from_fn(|_| AtomicU64::new(0)),
            bytes: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Traffic {
    #[inline]
    fn count(&self, msg_type: u8, bytes: usize) {
        let slot = slot(msg_type);
        bump(&self.messages[slot], 1);
        bump(&self.bytes[slot], bytes as u64);
    }
}

/// One connection's OpenFlow traffic. Each half has one writer: the connection's reader counts what it reads, and
/// what is queued for the switch is counted under the outbox lock. The connection's [`DatapathCounters`] holds it
/// while it lives and keeps its counts when it closes.
#[derive(Default)]
pub struct SwitchCounters {
    received: Traffic,
    sent: Traffic,
    decode_errors: AtomicU64,
}

impl SwitchCounters {
    /// Counts a message read from the switch (the reader only).
    #[inline]
    pub fn received(&self, msg_type: u8, bytes: usize) {
        self.received.count(msg_type, bytes);
    }

    /// Counts a message queued for the switch (under the outbox lock only).
    #[inline]
    pub fn sent(&self, msg_type: u8, bytes: usize) {
        self.sent.count(msg_type, bytes);
    }

    /// Counts a message that could not be framed or decoded.
    pub fn decode_error(&self) {
        self.decode_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts as plain numbers: a sum of connections' counters, or what a predecessor host handed over.
#[derive(Clone)]
pub struct Totals {
    received: [(u64, u64); TYPE_SLOTS],
    sent: [(u64, u64); TYPE_SLOTS],
    decode_errors: u64,
}

impl Default for Totals {
    fn default() -> Self {
        Totals { received: [(0, 0); TYPE_SLOTS], sent: [(0, 0); TYPE_SLOTS], decode_errors: 0 }
    }
}

fn seen(side: &[(u64, u64); TYPE_SLOTS]) -> impl Iterator<Item = (u8, u64, u64)> + '_ {
    side.iter().enumerate().filter(|(_, (messages, _))| *messages > 0).map(|(slot, (m, b))| (slot as u8, *m, *b))
}

impl Totals {
    fn add(&mut self, counters: &SwitchCounters) {
        for (side, traffic) in [(&mut self.received, &counters.received), (&mut self.sent, &counters.sent)] {
            for (slot, total) in side.iter_mut().enumerate() {
                total.0 += traffic.messages[slot].load(Ordering::Relaxed);
                total.1 += traffic.bytes[slot].load(Ordering::Relaxed);
            }
        }
        self.decode_errors += counters.decode_errors.load(Ordering::Relaxed);
    }

    fn add_totals(&mut self, other: &Totals) {
        for (mine, theirs) in [(&mut self.received, &other.received), (&mut self.sent, &other.sent)] {
            for (total, add) in mine.iter_mut().zip(theirs) {
                total.0 += add.0;
                total.1 += add.1;
            }
        }
        self.decode_errors += other.decode_errors;
    }

    fn add_seen(side: &mut [(u64, u64); TYPE_SLOTS], seen: &[(u8, u64, u64)]) {
        for (msg_type, messages, bytes) in seen {
            let total = &mut side[slot(*msg_type)];
            total.0 += messages;
            total.1 += bytes;
        }
    }

    /// `(type slot, messages, bytes)` of every type received.
    pub fn received(&self) -> impl Iterator<Item = (u8, u64, u64)> + '_ {
        seen(&self.received)
    }

    /// `(type slot, messages, bytes)` of every type sent.
    pub fn sent(&self) -> impl Iterator<Item = (u8, u64, u64)> + '_ {
        seen(&self.sent)
    }
}

/// One datapath's counters, which outlive its connections (so they only grow, across reconnects and hot restarts):
/// the live connections' [`SwitchCounters`], what closed connections and predecessor hosts counted, and how many
/// connections came and went. The lock is taken when a connection comes or goes and for a moment per scrape.
#[derive(Default)]
pub struct DatapathCounters {
    inner: Mutex<DatapathInner>,
}

#[derive(Default)]
struct DatapathInner {
    /// The last negotiated version (0: none yet), which names the message types.
    version: u8,
    live: Vec<Arc<SwitchCounters>>,
    /// What closed connections and predecessor hosts counted (none yet for most datapaths: 1 KiB saved each).
    retired: Option<Box<Totals>>,
    connects: u64,
    disconnects: u64,
}

/// What a scrape reads of one datapath.
pub struct DatapathSnapshot {
    /// The version that names its message types.
    pub version: u8,
    /// `(type slot, messages, bytes)` received, of every type seen, summed over its connections.
    pub received: Vec<(u8, u64, u64)>,
    /// The same, sent.
    pub sent: Vec<(u8, u64, u64)>,
    /// Messages that could not be framed or decoded.
    pub decode_errors: u64,
    /// Connections that reached the datapath id.
    pub connects: u64,
    /// Connections that closed.
    pub disconnects: u64,
}

impl DatapathSnapshot {
    /// Messages of type `msg_type` received.
    pub fn received_messages(&self, msg_type: u8) -> u64 {
        let slot = slot(msg_type) as u8;
        self.received.iter().find(|(seen, _, _)| *seen == slot).map_or(0, |(_, messages, _)| *messages)
    }
}

impl DatapathCounters {
    fn lock(&self) -> MutexGuard<'_, DatapathInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `connection`'s traffic as this datapath's from now on (all of it, from its first message), speaking
    /// `version`; `connected` counts a new connection (not one a predecessor host handed over).
    pub fn attach(&self, connection: &Arc<SwitchCounters>, version: u8, connected: bool) {
        let mut inner = self.lock();
        inner.version = version;
        inner.live.push(Arc::clone(connection));
        if connected {
            inner.connects += 1;
        }
    }

    /// Keeps what closed `connection` counted and counts a disconnection.
    pub fn detach(&self, connection: &Arc<SwitchCounters>) {
        let mut inner = self.lock();
        if let Some(at) = inner.live.iter().position(|live| Arc::ptr_eq(live, connection)) {
            let closed = inner.live.swap_remove(at);
            inner.retired.get_or_insert_default().add(&closed);
        }
        inner.disconnects += 1;
    }

    /// The counts now.
    pub fn snapshot(&self) -> DatapathSnapshot {
        let inner = self.lock();
        let mut totals = inner.retired.as_deref().cloned().unwrap_or_default();
        for live in &inner.live {
            totals.add(live);
        }
        DatapathSnapshot {
            version: inner.version,
            received: totals.received().collect(),
            sent: totals.sent().collect(),
            decode_errors: totals.decode_errors,
            connects: inner.connects,
            disconnects: inner.disconnects,
        }
    }

    /// The counts as a successor host takes them.
    pub fn state(&self) -> SwitchState {
        let DatapathSnapshot { version, received, sent, decode_errors, connects, disconnects } = self.snapshot();
        SwitchState { version, received, sent, decode_errors, connects, disconnects }
    }

    /// Adds a predecessor's counts.
    pub fn restore(&self, state: &SwitchState) {
        let mut inner = self.lock();
        if inner.version == 0 {
            inner.version = state.version;
        }
        let mut handed = Totals { decode_errors: state.decode_errors, ..Totals::default() };
        Totals::add_seen(&mut handed.received, &state.received);
        Totals::add_seen(&mut handed.sent, &state.sent);
        inner.retired.get_or_insert_default().add_totals(&handed);
        inner.connects += state.connects;
        inner.disconnects += state.disconnects;
    }
}

/// [`DatapathCounters`] as handed to a successor: `(type, messages, bytes)` of the types seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SwitchState {
    version: u8,
    received: Vec<(u8, u64, u64)>,
    sent: Vec<(u8, u64, u64)>,
    decode_errors: u64,
    connects: u64,
    disconnects: u64,
}

/// Upper bounds of the handler-time buckets, in seconds (`+Inf` follows).
pub const HANDLER_BUCKETS: [f64; 12] =
    [0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// A histogram of durations over [`HANDLER_BUCKETS`]: a count per bucket (not cumulative; the scrape sums them),
/// the sum in nanoseconds, and the count.
pub struct Histogram {
    bounds_ns: [u64; HANDLER_BUCKETS.len()],
    buckets: [AtomicU64; HANDLER_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            bounds_ns: HANDLER_BUCKETS.map(|seconds| (seconds * 1e9) as u64),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = self.bounds_ns.iter().position(|bound| ns <= *bound).unwrap_or(self.bounds_ns.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cumulative counts, one per bound of [`HANDLER_BUCKETS`] and one for `+Inf`; the sum in seconds; the count.
    /// Read bucket by bucket while observations go on, so `count` is read last and the `+Inf` bucket set to it,
    /// which keeps the buckets no greater than the count.
    pub fn snapshot(&self) -> (Vec<u64>, f64, u64) {
        let mut cumulative = Vec::with_capacity(self.buckets.len());
        let mut total = 0u64;
        for bucket in &self.buckets[..self.buckets.len() - 1] {
            total += bucket.load(Ordering::Relaxed);
            cumulative.push(total);
        }
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let count = self.count.load(Ordering::Relaxed).max(total);
        cumulative.push(count);
        (cumulative, sum, count)
    }

    fn state(&self) -> HistogramState {
        HistogramState {
            buckets: self.buckets.iter().map(|bucket| bucket.load(Ordering::Relaxed)).collect(),
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
            count: self.count.load(Ordering::Relaxed),
        }
    }

    fn restore(&self, state: &HistogramState) {
        if state.buckets.len() != self.buckets.len() {
            // Another host's buckets: keep what can be kept without making the buckets disagree with the count.
            let count = state.buckets.iter().sum::<u64>();
            self.buckets[self.buckets.len() - 1].fetch_add(count, Ordering::Relaxed);
            self.count.fetch_add(count, Ordering::Relaxed);
            self.sum_ns.fetch_add(state.sum_ns, Ordering::Relaxed);
            return;
        }
        for (bucket, add) in self.buckets.iter().zip(&state.buckets) {
            bucket.fetch_add(*add, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(state.sum_ns, Ordering::Relaxed);
        self.count.fetch_add(state.count, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct HistogramState {
    buckets: Vec<u64>,
    sum_ns: u64,
    count: u64,
}

/// One app's events (by app name: an app loaded again, or in a successor host, goes on counting).
#[derive(Default)]
pub struct AppCounters {
    handled: AtomicU64,
    dropped: AtomicU64,
    faults: AtomicU64,
    queued: AtomicU64,
    /// Time `handle_batch` took, per batch.
    pub handler_time: Histogram,
}

impl AppCounters {
    /// Counts a batch of `events` handled in `took`.
    pub fn batch_handled(&self, events: usize, took: Duration) {
        self.handled.fetch_add(events as u64, Ordering::Relaxed);
        self.handler_time.observe(took);
    }

    /// Counts `events` events (messages, for a run of them) refused because the queue was full; returns the count
    /// so far.
    pub fn count_dropped(&self, events: usize) -> u64 {
        let events = events as u64;
        self.dropped.fetch_add(events, Ordering::Relaxed) + events
    }

    /// Counts a fault (a handler's panic or failure).
    pub fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how many events wait in the queue.
    #[inline]
    pub fn set_queued(&self, events: usize) {
        self.queued.store(events as u64, Ordering::Relaxed);
    }

    /// Events handled.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Events refused because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Faults.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }

    /// Events waiting in the queue.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// The counts as a successor host takes them.
    pub fn state(&self) -> AppState {
        AppState {
            handled: self.handled(),
            dropped: self.dropped(),
            faults: self.faults(),
            handler_time: self.handler_time.state(),
        }
    }

    /// Adds a predecessor's counts.
    pub fn restore(&self, state: &AppState) {
        self.handled.fetch_add(state.handled, Ordering::Relaxed);
        self.dropped.fetch_add(state.dropped, Ordering::Relaxed);
        self.faults.fetch_add(state.faults, Ordering::Relaxed);
        self.handler_time.restore(&state.handler_time);
    }
}

/// [`AppCounters`] as handed to a successor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppState {
    handled: u64,
    dropped: u64,
    faults: u64,
    handler_time: HistogramState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datapath_keeps_what_closed_connections_and_predecessors_counted() {
        let datapath = DatapathCounters::default();
        let first = Arc::new(SwitchCounters::default());
        first.received(10, 100);
        first.received(10, 60);
        first.received(200, 8);
        datapath.attach(&first, 4, true);
        datapath.detach(&first);
        let second = Arc::new(SwitchCounters::default());
        second.sent(14, 80);
        datapath.attach(&second, 4, true);
        let snapshot = datapath.snapshot();
        assert_eq!(snapshot.received, vec![(10, 2, 160), (36, 1, 8)]);
        assert_eq!((snapshot.connects, snapshot.disconnects), (2, 1));
        let successor = DatapathCounters::default();
        let adopted = Arc::new(SwitchCounters::default());
        adopted.received(10, 40);
        successor.attach(&adopted, 4, false);
        successor.restore(&serde_json::from_value(serde_json::to_value(datapath.state()).unwrap()).unwrap());
        let snapshot = successor.snapshot();
        assert_eq!(snapshot.received, vec![(10, 3, 200), (36, 1, 8)]);
        assert_eq!(snapshot.sent, vec![(14, 1, 80)]);
        assert_eq!((snapshot.connects, snapshot.disconnects), (2, 1));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_the_count() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(5));
        histogram.observe(Duration::from_micros(700));
        histogram.observe(Duration::from_secs(10));
        let (buckets, sum, count) = histogram.snapshot();
        assert_eq!(buckets.len(), HANDLER_BUCKETS.len() + 1);
        assert_eq!((buckets[0], buckets[3], buckets[4], buckets[11], buckets[12]), (1, 1, 2, 2, 3));
        assert_eq!(count, 3);
        assert!((sum - 10.000_705).abs() < 1e-9);
    }
}
