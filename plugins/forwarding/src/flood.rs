//! Duplicate suppression for what forwarding delivers to every edge port (broadcast, multicast, unknown
//! destinations).
//!
//! The controller itself sends such a frame out of every edge port of every switch, so it reaches each host once
//! and no switch ever floods. A port wrongly believed to be an edge port (its link not discovered yet) sends the
//! copy into another switch, which hands it back as a packet-in: [`Echoes`] remembers every frame delivered in
//! the last moments, so that copy is dropped (and not learned from) instead of being delivered again.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// The frames delivered to every edge port within the last `window`.
#[derive(Debug)]
pub struct Echoes {
    window: Duration,
    /// Keyed per app instance, so that no one can aim frames at a hash.
    hasher: RandomState,
    /// Frame hash → when it was delivered.
    seen: HashMap<u64, Instant>,
    /// The same, oldest first, for expiry.
    order: VecDeque<(Instant, u64)>,
}

impl Echoes {
    /// Remembers frames for `window`.
    pub fn new(window: Duration) -> Echoes {
        Echoes { window, hasher: RandomState::new(), seen: HashMap::new(), order: VecDeque::new() }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, hash)) = self.order.front() {
            if now.duration_since(at) < self.window {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&hash) == Some(&at) {
                self.seen.remove(&hash);
            }
        }
    }

    /// Whether `frame` (the same bytes, so the same source too) was delivered within the window.
    pub fn is_echo(&mut self, frame: &[u8], now: Instant) -> bool {
        self.expire(now);
        self.seen.contains_key(&self.hasher.hash_one(frame))
    }

    /// Records that `frame` is being delivered now.
    pub fn delivered(&mut self, frame: &[u8], now: Instant) {
        self.expire(now);
        let hash = self.hasher.hash_one(frame);
        self.seen.insert(hash, now);
        self.order.push_back((now, hash));
    }

    /// How many frames are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_an_echo_within_the_window_only() {
        let mut echoes = Echoes::new(Duration::from_millis(500));
        let start = Instant::now();
        assert!(!echoes.is_echo(b"frame one", start));
        echoes.delivered(b"frame one", start);
        assert!(echoes.is_echo(b"frame one", start + Duration::from_millis(499)));
        assert!(!echoes.is_echo(b"frame two", start + Duration::from_millis(499)));
        echoes.delivered(b"frame two", start + Duration::from_millis(400));
        assert!(!echoes.is_echo(b"frame one", start + Duration::from_millis(500)));
        assert_eq!(echoes.len(), 1);
        // Delivered again: the newer time counts.
        echoes.delivered(b"frame two", start + Duration::from_millis(800));
        assert!(echoes.is_echo(b"frame two", start + Duration::from_millis(1000)));
        assert!(!echoes.is_echo(b"frame two", start + Duration::from_millis(1300)));
        assert!(echoes.is_empty());
    }
}
