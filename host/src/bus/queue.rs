//! Each app's event queue: bounded, FIFO, one consumer (the app's event loop), many producers that never block.
//!
//! Overflow policy: when the queue holds `capacity` events, a new event is refused: the producer goes on at once,
//! and the refusal is counted against the consuming app and logged (the first time, then at most once a second
//! with the running count). A refused request fails at once for its requester, instead of timing out. Datapath
//! lifecycle events, which apps cannot do without, are admitted past the capacity ([`Admission::Always`]); there
//! are few of them (a handful per switch connection). Switch messages are kept below the capacity by the credit
//! ([`super::credit`]: three quarters of it, shared among busy switches), so the policy drops them only for an app
//! that stopped handling its events.

use std::collections::VecDeque;

/// Events an app's queue holds by default (`--queue-capacity`): room for 16 busy switches' full credit shares
/// (three quarters of it is the switches' budget, see `bus::credit`), grown into only when apps fall behind.
pub const DEFAULT_CAPACITY: usize = 16_384;
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
    /// Events the consumer took with the last swap of buffers and has not begun to handle: they count as queued.
    in_hand: usize,
    consumer_waiting: bool,
    closed: bool,
}

impl Inner {
    /// Events not yet handed to the consumer: waiting here, or taken by it and not yet begun.
    fn len(&self) -> usize {
        self.events.len() + self.in_hand
    }
}

/// A bounded FIFO of events for one app.
pub struct EventQueue {
    app: String,
    capacity: usize,
    inner: Mutex<Inner>,
    consumer: OnceLock<Arc<GreenSlot>>,
    /// Where drops and the queue's depth are recorded.
    counters: Arc<AppCounters>,
    last_drop_log: Mutex<Option<Instant>>,
}

impl EventQueue {
    /// An empty queue for `app` holding at most `capacity` bounded events, counting into `counters`.
    pub fn new(app: &str, capacity: usize, counters: Arc<AppCounters>) -> Self {
        EventQueue {
            app: app.to_owned(),
            capacity,
            inner: Mutex::new(Inner { events: VecDeque::new(), in_hand: 0, consumer_waiting: false, closed: false }),
            consumer: OnceLock::new(),
            counters,
            last_drop_log: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
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
            if admission == Admission::Bounded && inner.len() >= self.capacity {
                drop(inner);
                self.count_drop(&event);
                return Err(QueueFull);
            }
            inner.events.push_back(event);
            self.counters.set_queued(inner.len());
            std::mem::take(&mut inner.consumer_waiting)
        };
        if wake {
            if let Some(consumer) = self.consumer.get() {
                consumer.unpark();
            }
        }
        Ok(())
    }

    /// Queues bounded `events` in order, as many as there is room for, under one lock and with one wake-up of
    /// the consumer; the rest are refused and counted as [`EventQueue::push`] counts them. `last` is given the
    /// last admitted event and how many were admitted (to hand it what they share). Returns how many were admitted.
    /// Never blocks.
    pub fn push_bounded(&self, mut events: impl Iterator<Item = Event>, last: impl FnOnce(&mut Event, usize)) -> usize {
        let (admitted, wake) = {
            let mut inner = self.lock();
            if inner.closed {
                return 0;
            }
            let room = self.capacity.saturating_sub(inner.len());
            let before = inner.events.len();
            inner.events.extend(events.by_ref().take(room));
            let admitted = inner.events.len() - before;
            self.counters.set_queued(inner.len());
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
        for refused in events {
            self.count_drop(&refused);
        }
        admitted
    }

    fn count_drop(&self, event: &Event) {
        let total = self.counters.dropped_one();
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
    pub fn is_empty(&self) -> bool {
        self.lock().len() == 0
    }

    /// Closes the queue: producers are refused, and the consumer's next [`EventQueue::pop_batch`] returns
    /// `None`. Returns how many queued events are discarded.
    pub fn close(&self) -> usize {
        let discarded = {
            let mut inner = self.lock();
            inner.closed = true;
            let discarded = inner.len();
            inner.events.clear();
            inner.in_hand = 0;
            self.counters.set_queued(0);
            discarded
        };
        if let Some(consumer) = self.consumer.get() {
            consumer.unpark();
        }
        discarded
    }

    /// Readies the next batch of at most `max` events at the front of `out`, the consumer's own buffer, and
    /// returns its length; the consumer handles them, then removes them (`out.drain(..n)`) before it asks again.
    /// Parks the calling green thread while there is nothing to handle. Returns `None` when the queue is closed or
    /// the consumer must stop (what `out` still holds is then dropped unhandled).
    ///
    /// Events are not moved out one by one: when `out` is empty, it and the queue's buffer are swapped, and the
    /// producers go on filling the buffer the consumer emptied. The events taken that way still count as queued
    /// (against the capacity, in [`EventQueue::is_empty`] and in the queue's depth) until their batch begins.
    pub fn pop_batch(&self, out: &mut VecDeque<Event>, max: usize) -> Option<usize> {
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
                    inner.in_hand = out.len();
                }
                if !out.is_empty() {
                    let n = out.len().min(max);
                    inner.in_hand = inner.in_hand.saturating_sub(n);
                    self.counters.set_queued(inner.len());
                    return Some(n);
                }
                inner.consumer_waiting = true;
            }
            if green::park(None) == WaitStatus::Stopping {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(2));
        assert_eq!(counters.queued(), 3, "taken but not begun still counts as queued");
        // Pushed while the consumer holds the first buffer: handled after everything it holds.
        queue.push(event(5), Admission::Bounded).expect("room");
        let mut handled = payloads(taken.drain(..2));
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(2));
        handled.extend(payloads(taken.drain(..2)));
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(1));
        handled.extend(payloads(taken.drain(..1)));
        assert!(!queue.is_empty(), "the event pushed meanwhile waits");
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(1));
        handled.extend(payloads(taken.drain(..1)));
        assert_eq!(handled, ["0", "1", "2", "3", "4", "5"]);
        assert!(queue.is_empty());
        assert_eq!(counters.queued(), 0);
    }

    #[test]
    fn events_taken_and_not_begun_count_against_the_capacity() {
        let (queue, counters) = filled(4, 4);
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 1), Some(1));
        // Three taken and not begun plus one: full again.
        queue.push(event(4), Admission::Bounded).expect("room for one");
        assert!(queue.push(event(5), Admission::Bounded).is_err());
        assert_eq!(counters.dropped(), 1);
        queue.push(event(6), Admission::Always).expect("lifecycle events are always admitted");
        let admitted = queue.push_bounded((7..9).map(event), |_, _| {});
        assert_eq!(admitted, 0);
        assert_eq!(counters.dropped(), 3);
    }

    #[test]
    fn closing_discards_what_waits_and_what_the_consumer_has_not_begun() {
        let (queue, _) = filled(10, 6);
        let mut taken = VecDeque::new();
        assert_eq!(queue.pop_batch(&mut taken, 2), Some(2));
        queue.push(event(6), Admission::Bounded).expect("room");
        // The batch begun (2) is the consumer's; the 4 taken after it and the 1 waiting are discarded.
        assert_eq!(queue.close(), 5);
        assert!(queue.is_drained());
        assert_eq!(queue.pop_batch(&mut taken, 2), None);
        assert!(taken.is_empty(), "what the consumer held is dropped unhandled");
        assert!(queue.push(event(7), Admission::Always).is_err());
    }
}
