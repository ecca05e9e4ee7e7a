//! Each app's event queue: bounded, FIFO, one consumer (the app's event loop), many producers that never block.
//!
//! Overflow policy: when the queue holds `capacity` events (a run of switch messages counts as its messages, see
//! [`Event::weight`]), a new event that does not fit is refused: the producer goes on at once,
//! and the refusal is counted against the consuming app and logged (the first time, then at most once a second
//! with the running count). A refused request fails at once for its requester, instead of timing out. Datapath
//! lifecycle events, which apps cannot do without, are admitted past the capacity ([`Admission::Always`]); there
//! are few of them (a handful per switch connection). Switch messages are kept below the capacity by the credit
//! ([`super::credit`]: three quarters of it, shared among busy switches), so the policy drops them only for an app
//! that stopped handling its events.

use std::collections::VecDeque;

/// Events an app's queue holds by default (`--queue-capacity`): three quarters of it is the switches' budget (see
/// `bus::credit`), 49,152 messages, shares of 768 for 16 busy switches and of 11 for 4,096. Each share costs its
/// reader a wake-up, a read and a write: at 16,384, 4,096 busy switches got 2 messages a turn each and half the
/// answers. Grown into only when apps fall behind.
pub const DEFAULT_CAPACITY: usize = 65_536;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tatsu_abi::WaitStatus;

use super::event::Event;
use crate::green::{self, GreenSlot};
use crate::metrics::AppCounters;

/// Whether an event may be refused when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Refused (and counted) when the queue is full.
    Bounded,
    /// Always queued.
    Always,
}

/// The queue was full; the event was not queued.
#[derive(Debug)]
pub struct QueueFull;

struct Inner {
    events: VecDeque<Event>,
    /// The weight of `events` (see [`Event::weight`]): what the capacity counts, messages rather than runs.
    weight: usize,
    /// The weight of the events the consumer took with the last swap of buffers and has not begun to handle: they
    /// count as queued.
    in_hand: usize,
    consumer_waiting: bool,
    closed: bool,
}

impl Inner {
    /// What is not yet handed to the consumer: waiting here, or taken by it and not yet begun.
    fn len(&self) -> usize {
        self.weight + self.in_hand
    }
}

/// A bounded FIFO of events for one app.
pub struct EventQueue {
    app: String,
    capacity: usize,
    inner: Mutex<Inner>,
    /// `inner.len()` as of the last change, read without the lock (the consumer asks after every batch).
    pending: AtomicUsize,
    consumer: OnceLock<Arc<GreenSlot>>,
    /// Where drops and the queue's depth are recorded.
    counters: Arc<AppCounters>,
    last_drop_log: Mutex<Option<Instant>>,
}

impl EventQueue {
    /// An empty queue for `app` holding at most `capacity` bounded events (messages: a run of them weighs its
    /// count), counting into `counters`.
    pub fn new(app: &str, capacity: usize, counters: Arc<AppCounters>) -> Self {
        let inner = Inner { events: VecDeque::new(), weight: 0, in_hand: 0, consumer_waiting: false, closed: false };
        EventQueue {
            app: app.to_owned(),
            capacity,
            inner: Mutex::new(inner),
            pending: AtomicUsize::new(0),
            consumer: OnceLock::new(),
            counters,
            last_drop_log: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records what `inner` holds now, for [`EventQueue::is_empty`] and the queue's depth. Called under the lock.
    fn changed(&self, inner: &Inner) {
        let len = inner.len();
        self.pending.store(len, Ordering::Release);
        self.counters.set_queued(len);
    }

    /// Sets the green thread that consumes the queue (the app's event loop).
    pub fn set_consumer(&self, slot: Arc<GreenSlot>) {
        let _ = self.consumer.set(slot);
    }

    /// Queues `event`, waking the consumer; refuses it if the queue is full or closed. Never blocks.
    pub fn push(&self, event: Event, admission: Admission) -> Result<(), QueueFull> {
        let wake = {
            let mut inner = self.lock();
            if inner.closed {
                return Err(QueueFull);
            }
            let weight = event.weight();
            if admission == Admission::Bounded && inner.len() + weight > self.capacity {
                drop(inner);
                self.count_drop(&event);
                return Err(QueueFull);
            }
            inner.events.push_back(event);
            inner.weight += weight;
            self.changed(&inner);
            std::mem::take(&mut inner.consumer_waiting)
        };
        if wake {
            if let Some(consumer) = self.consumer.get() {
                consumer.unpark();
            }
        }
        Ok(())
    }

    /// Queues bounded `events` in order, as many as there is room for (up to the first that does not fit), under
    /// one lock and with one wake-up of the consumer; the rest are refused and counted as [`EventQueue::push`]
    /// counts them. `last` is given the last admitted event and the weight of all admitted (to hand it what they
    /// share). Returns the weight admitted. Never blocks.
    pub fn push_bounded(&self, mut events: impl Iterator<Item = Event>, last: impl FnOnce(&mut Event, usize)) -> usize {
        let mut refused = None;
        let (admitted, wake) = {
            let mut inner = self.lock();
            if inner.closed {
                return 0;
            }
            let mut room = self.capacity.saturating_sub(inner.len());
            let before = inner.weight;
            for event in events.by_ref() {
                let weight = event.weight();
                if weight > room {
                    refused = Some(event);
                    break;
                }
                room -= weight;
                inner.weight += weight;
                inner.events.push_back(event);
            }
            let admitted = inner.weight - before;
            self.changed(&inner);
            if let Some(event) = inner.events.back_mut().filter(|_| admitted > 0) {
                last(event, admitted);
            }
            (admitted, admitted > 0 && std::mem::take(&mut inner.consumer_waiting))
        };
        if wake {
            if let Some(consumer) = self.consumer.get() {
                consumer.unpark();
            }
        }
        for event in refused.into_iter().chain(events) {
            self.count_drop(&event);
        }
        admitted
    }

    fn count_drop(&self, event: &Event) {
        let total = self.counters.count_dropped(event.weight());
        let mut last = self.last_drop_log.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1)) {
            *last = Some(now);
            log::warn!(
                target: "tatsu::bus",
                "app `{}` is not keeping up: its queue is full ({} events); dropped {}; {} dropped so far",
                self.app,
                self.capacity,
                event.describe(),
                total
            );
        }
    }

    /// Whether the queue is empty and its consumer is waiting for more (it has finished everything it took).
    pub fn is_drained(&self) -> bool {
        let inner = self.lock();
        inner.closed || (inner.len() == 0 && inner.consumer_waiting)
    }

    /// Whether no event waits to be handled: none in the queue, none taken by the consumer and not yet begun.
    /// Takes no lock: the answer is as of the queue's last change.
    pub fn is_empty(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    /// Closes the queue: producers are refused, and the consumer's next [`EventQueue::pop_batch`] returns
    /// `None`. Returns the weight of the queued events discarded.
    pub fn close(&self) -> usize {
        let discarded = {
            let mut inner = self.lock();
            inner.closed = true;
            let discarded = inner.len();
            inner.events.clear();
            (inner.weight, inner.in_hand) = (0, 0);
            self.changed(&inner);
            discarded
        };
        if let Some(consumer) = self.consumer.get() {
            consumer.unpark();
        }
        discarded
    }

    /// Readies the next batch at the front of `out`, the consumer's own buffer: as many events as weigh at most
    /// `max` together (at least one), and returns how many events and their weight. The consumer handles them, then
    /// removes them (`out.drain(..events)`) before it asks again. Parks the calling green thread while there is
    /// nothing to handle. Returns `None` when the queue is closed or the consumer must stop (what `out` still holds
    /// is then dropped unhandled).
    ///
    /// Events are not moved out one by one: when `out` is empty, it and the queue's buffer are swapped, and the
    /// producers go on filling the buffer the consumer emptied. The events taken that way still count as queued
    /// (against the capacity, in [`EventQueue::is_empty`] and in the queue's depth) until their batch begins.
    pub fn pop_batch(&self, out: &mut VecDeque<Event>, max: usize) -> Option<Batch> {
        loop {
            {
                let mut inner = self.lock();
                if inner.closed {
                    drop(inner);
                    out.clear();
                    return None;
                }
                if out.is_empty() && !inner.events.is_empty() {
                    std::mem::swap(&mut inner.events, out);
                    inner.in_hand = std::mem::take(&mut inner.weight);
                }
                if let Some(first) = out.front() {
                    let mut batch = Batch { events: 1, weight: first.weight() };
                    for event in out.range(1..) {
                        let weight = event.weight();
                        if batch.weight + weight > max {
                            break;
                        }
                        batch.events += 1;
                        batch.weight += weight;
                    }
                    inner.in_hand = inner.in_hand.saturating_sub(batch.weight);
                    self.changed(&inner);
                    return Some(batch);
                }
                inner.consumer_waiting = true;
            }
            if green::park(None) == WaitStatus::Stopping {
                return None;
            }
        }
    }
}

/// What [`EventQueue::pop_batch`] readied at the front of the consumer's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// How many events.
    pub events: usize,
    /// Their weight (see [`Event::weight`]): their messages, mostly.
    pub weight: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::MessageRun;
    use bytes::Bytes;
    use tatsu_abi::DatapathStates;

    fn event(n: usize) -> Event {
        Event::App { name: Arc::from("n"), source: Arc::from("test"), payload: Arc::from(n.to_string()) }
    }

    fn payloads(events: impl IntoIterator<Item = Event>) -> Vec<String> {
        events
            .into_iter()
            .map(|event| match event {
                Event::App { payload, .. } => payload.to_string(),
                other => other.describe(),
            })
            .collect()
    }

    /// A batch of `events` events that weigh one each.
    fn plain(events: usize) -> Batch {
        Batch { events, weight: events }
    }

    /// A queue of `capacity` holding the events numbered `0..queued`.
    fn filled(capacity: usize, queued: usize) -> (EventQueue, Arc<AppCounters>) {
        let counters = Arc::new(AppCounters::default());
        let queue = EventQueue::new("test", capacity, Arc::clone(&counters));
        for n in 0..queued {
            queue.push(event(n), Admission::Bounded).expect("room");
        }
        (queue, counters)
    }

    #[test]
    fn batches_keep_the_order_across_swaps_of_the_buffers() {
        let (queue, counters) = filled(100, 5);
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(plain(2)));
        assert_eq!(counters.queued(), 3, "taken but not begun still counts as queued");
        // Pushed while the consumer holds the first buffer: handled after everything it holds.
        queue.push(event(5), Admission::Bounded).expect("room");
        let mut handled = payloads(taken.drain(..2));
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(plain(2)));
        handled.extend(payloads(taken.drain(..2)));
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(plain(1)));
        handled.extend(payloads(taken.drain(..1)));
        assert!(!queue.is_empty(), "the event pushed meanwhile waits");
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(plain(1)));
        handled.extend(payloads(taken.drain(..1)));
        assert_eq!(handled, ["0", "1", "2", "3", "4", "5"]);
        assert!(queue.is_empty());
        assert_eq!(counters.queued(), 0);
    }

    #[test]
    fn events_taken_and_not_begun_count_against_the_capacity() {
        let (queue, counters) = filled(4, 4);
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 1), Some(plain(1)));
        // Three taken and not begun plus one: full again.
        queue.push(event(4), Admission::Bounded).expect("room for one");
        assert!(queue.push(event(5), Admission::Bounded).is_err());
        assert_eq!(counters.dropped(), 1);
        queue.push(event(6), Admission::Always).expect("lifecycle events are always admitted");
        let admitted = queue.push_bounded((7..9).map(event), |_, _| {});
        assert_eq!(admitted, 0);
        assert_eq!(counters.dropped(), 3);
    }

    /// A run of `count` minimal packet-ins (headers only) from datapath 1.
    fn run(count: usize) -> Event {
        let bytes: Vec<u8> = (0..count).flat_map(|xid| [1, 10, 0, 8, 0, 0, 0, xid as u8]).collect();
        let messages = MessageRun::framed(Bytes::from(bytes), count);
        Event::OpenFlow { dpid: 1, state: DatapathStates::MAIN, messages, credit: None }
    }

    #[test]
    fn a_run_of_messages_weighs_as_many_events_as_it_holds() {
        let (queue, counters) = filled(10, 0);
        let mut told = 0;
        let admitted = queue.push_bounded([run(4), run(3), run(4), run(1)].into_iter(), |_, weight| told = weight);
        assert_eq!((admitted, told), (7, 7));
        // The third run does not fit whole: it and the run after it are refused, counted by their messages.
        assert_eq!(counters.dropped(), 5);
        assert_eq!(counters.queued(), 7);
        assert!(queue.push(run(4), Admission::Bounded).is_err(), "7 + 4 is past the capacity");
        queue.push(run(3), Admission::Bounded).expect("7 + 3 fits");
        // Batches are cut by weight, and a run heavier than the most goes alone.
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 3), Some(Batch { events: 1, weight: 4 }));
        assert_eq!(counters.queued(), 6);
        taken.drain(..1);
        assert_eq!(queue.pop_batch(&mut taken, 6), Some(Batch { events: 2, weight: 6 }));
        let handled: Vec<usize> = taken.drain(..2).map(|event| event.weight()).collect();
        assert_eq!(handled, [3, 3]);
        assert!(queue.is_empty());
    }

    #[test]
    fn closing_discards_what_waits_and_what_the_consumer_has_not_begun() {
        let (queue, _) = filled(10, 6);
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(plain(2)));
        queue.push(event(6), Admission::Bounded).expect("room");
        // The batch begun (2) is the consumer's; the 4 taken after it and the 1 waiting are discarded.
        assert_eq!(queue.close(), 5);
        assert!(queue.is_drained());
        assert_eq!(queue.pop_batch(&mut taken, 2), None);
        assert!(taken.is_empty(), "what the consumer held is dropped unhandled");
        assert!(queue.push(event(7), Admission::Always).is_err());
    }
}
