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
    consumer_waiting: bool,
    closed: bool,
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
            inner: Mutex::new(Inner { events: VecDeque::new(), consumer_waiting: false, closed: false }),
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
            if admission == Admission::Bounded && inner.events.len() >= self.capacity {
                drop(inner);
                self.count_drop(&event);
                return Err(QueueFull);
            }
            inner.events.push_back(event);
            self.counters.set_queued(inner.events.len());
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
            let room = self.capacity.saturating_sub(inner.events.len());
            let before = inner.events.len();
            inner.events.extend(events.by_ref().take(room));
            let admitted = inner.events.len() - before;
            self.counters.set_queued(inner.events.len());
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
        inner.closed || (inner.events.is_empty() && inner.consumer_waiting)
    }

    /// Whether no event waits in the queue.
    pub fn is_empty(&self) -> bool {
        self.lock().events.is_empty()
    }

    /// Closes the queue: producers are refused, and the consumer's next [`EventQueue::pop_batch`] returns
    /// `None`. Returns how many queued events are discarded.
    pub fn close(&self) -> usize {
        let discarded = {
            let mut inner = self.lock();
            inner.closed = true;
            let discarded = inner.events.len();
            inner.events.clear();
            self.counters.set_queued(0);
            discarded
        };
        if let Some(consumer) = self.consumer.get() {
            consumer.unpark();
        }
        discarded
    }

    /// Moves up to `max` events into `out`, parking the calling green thread while the queue is empty.
    /// Returns `false` when the queue is closed or the consumer must stop.
    pub fn pop_batch(&self, out: &mut Vec<Event>, max: usize) -> bool {
        loop {
            {
                let mut inner = self.lock();
                if inner.closed {
                    return false;
                }
                if !inner.events.is_empty() {
                    let n = inner.events.len().min(max);
                    out.extend(inner.events.drain(..n));
                    self.counters.set_queued(inner.events.len());
                    return true;
                }
                inner.consumer_waiting = true;
            }
            if green::park(None) == WaitStatus::Stopping {
                return false;
            }
        }
    }
}
