//! The counters themselves: a datapath's OpenFlow traffic ([`SwitchCounters`]) and an app's events
//! ([`AppCounters`], with a [`Histogram`] of handler time). They are relaxed atomics that the code they count bumps
//! (a connection's reader and writer, an app's event loop and queue) and a scrape only reads; each has a plain
//! serde form for a hot restart, which the successor adds to its own.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Message types with a counter of their own: every type up to OpenFlow 1.5's last (35), then one for any other.
pub const TYPE_SLOTS: usize = 37;

/// The slot counting `msg_type` (a type past 1.5's last shares the final slot).
#[inline]
fn slot(msg_type: u8) -> usize {
    usize::from(msg_type).min(TYPE_SLOTS - 1)
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
        self.messages[slot].fetch_add(1, Ordering::Relaxed);
        self.bytes[slot].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// `(type slot, messages, bytes)` of every type seen.
    pub fn seen(&self) -> impl Iterator<Item = (u8, u64, u64)> + '_ {
        (0..TYPE_SLOTS).filter_map(|slot| {
            let messages = self.messages[slot].load(Ordering::Relaxed);
            let bytes = self.bytes[slot].load(Ordering::Relaxed);
            (messages > 0).then_some((slot as u8, messages, bytes))
        })
    }

    fn add(&self, seen: impl Iterator<Item = (u8, u64, u64)>) {
        for (msg_type, messages, bytes) in seen {
            let slot = slot(msg_type);
            self.messages[slot].fetch_add(messages, Ordering::Relaxed);
            self.bytes[slot].fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Messages of type `msg_type`.
    pub fn messages(&self, msg_type: u8) -> u64 {
        self.messages[slot(msg_type)].load(Ordering::Relaxed)
    }
}

/// One datapath's OpenFlow traffic and connection history. A connection counts into its own block until the
/// switch says its datapath id, then into the datapath's, which outlives connections (so a datapath's counters
/// only grow, across reconnects and hot restarts).
#[derive(Default)]
pub struct SwitchCounters {
    /// The last negotiated version (0: none yet), which names the message types.
    version: AtomicU8,
    /// Messages and bytes read from the switch.
    pub received: Traffic,
    /// Messages and bytes queued for the switch (its writer then writes them, unless the connection closes first).
    pub sent: Traffic,
    decode_errors: AtomicU64,
    connects: AtomicU64,
    disconnects: AtomicU64,
}

impl SwitchCounters {
    /// Counts a message read from the switch.
    #[inline]
    pub fn received(&self, msg_type: u8, bytes: usize) {
        self.received.count(msg_type, bytes);
    }

    /// Counts a message queued for the switch.
    #[inline]
    pub fn sent(&self, msg_type: u8, bytes: usize) {
        self.sent.count(msg_type, bytes);
    }

    /// Counts a message that could not be framed or decoded.
    pub fn decode_error(&self) {
        self.decode_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection that reached the datapath id, speaking `version`.
    pub fn connected(&self, version: u8) {
        self.set_version(version);
        self.connects.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the version a connection of this datapath speaks.
    pub fn set_version(&self, version: u8) {
        self.version.store(version, Ordering::Relaxed);
    }

    /// Counts a connection of the datapath that closed.
    pub fn disconnected(&self) {
        self.disconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// The version that names this datapath's message types (0: none negotiated).
    pub fn version(&self) -> u8 {
        self.version.load(Ordering::Relaxed)
    }

    /// Messages that could not be framed or decoded.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors.load(Ordering::Relaxed)
    }

    /// Connections that reached the datapath id.
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// Connections that closed.
    pub fn disconnects(&self) -> u64 {
        self.disconnects.load(Ordering::Relaxed)
    }

    /// Adds what `other` counted (a connection's counts from before its datapath id was known).
    pub fn absorb(&self, other: &SwitchCounters) {
        self.received.add(other.received.seen());
        self.sent.add(other.sent.seen());
        self.decode_errors.fetch_add(other.decode_errors(), Ordering::Relaxed);
    }

    /// The counts as a successor host takes them.
    pub fn state(&self) -> SwitchState {
        SwitchState {
            version: self.version(),
            received: self.received.seen().collect(),
            sent: self.sent.seen().collect(),
            decode_errors: self.decode_errors(),
            connects: self.connects(),
            disconnects: self.disconnects(),
        }
    }

    /// Adds a predecessor's counts.
    pub fn restore(&self, state: &SwitchState) {
        if self.version() == 0 {
            self.set_version(state.version);
        }
        self.received.add(state.received.iter().copied());
        self.sent.add(state.sent.iter().copied());
        self.decode_errors.fetch_add(state.decode_errors, Ordering::Relaxed);
        self.connects.fetch_add(state.connects, Ordering::Relaxed);
        self.disconnects.fetch_add(state.disconnects, Ordering::Relaxed);
    }
}

/// [`SwitchCounters`] as handed to a successor: `(type, messages, bytes)` of the types seen.
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

    /// Counts an event refused because the queue was full; returns the count so far.
    pub fn dropped_one(&self) -> u64 {
        self.dropped.fetch_add(1, Ordering::Relaxed) + 1
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
    fn types_past_the_last_share_one_slot_and_states_add_up() {
        let counters = SwitchCounters::default();
        counters.received(10, 100);
        counters.received(10, 60);
        counters.received(200, 8);
        counters.sent(14, 80);
        assert_eq!(counters.received.seen().collect::<Vec<_>>(), vec![(10, 2, 160), (36, 1, 8)]);
        let successor = SwitchCounters::default();
        successor.received(10, 40);
        successor.restore(&serde_json::from_value(serde_json::to_value(counters.state()).unwrap()).unwrap());
        assert_eq!(successor.received.seen().collect::<Vec<_>>(), vec![(10, 3, 200), (36, 1, 8)]);
        assert_eq!(successor.sent.messages(14), 1);
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
