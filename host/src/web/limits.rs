//! What bounds the REST server's use of the host: open connections and request body bytes held at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A count of things held against a limit (open connections, body bytes); [`Counter::take`] hands out a guard
/// that gives its share back when dropped.
#[derive(Debug)]
pub struct Counter {
    limit: usize,
    held: AtomicUsize,
}

/// A share of a [`Counter`], given back when dropped (also on errors and early closes).
#[derive(Debug)]
pub struct Held {
    counter: Arc<Counter>,
    amount: usize,
}

impl Counter {
    /// A counter allowing `limit` in all.
    pub fn new(limit: usize) -> Counter {
        Counter { limit, held: AtomicUsize::new(0) }
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes `amount` if that stays within the limit; `None` (and nothing taken) otherwise.
    pub fn take(self: &Arc<Self>, amount: usize) -> Option<Held> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(amount).filter(|total| *total <= self.limit)
            })
            .ok()?;
        Some(Held { counter: Arc::clone(self), amount })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counter.held.fetch_sub(self.amount, Ordering::AcqRel);
    }
}

/// The connection cap applied: `configured`, but at most half the process's open-file limit (when known), so that
/// switches and everything else still get descriptors while the REST server is at its cap.
pub fn connection_cap(configured: usize, open_file_limit: Option<u64>) -> usize {
    let room = open_file_limit.map_or(usize::MAX, |limit| usize::try_from(limit / 2).unwrap_or(usize::MAX));
    configured.min(room).max(1)
}

/// The process's soft limit on open files (`RLIMIT_NOFILE`), if it can be read.
pub fn open_file_limit() -> Option<u64> {
    let mut limit = nix::libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `rlimit` to the pointer it is given, which points to a live local.
    let status = unsafe { nix::libc::getrlimit(nix::libc::RLIMIT_NOFILE, &mut limit) };
    (status == 0).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_refuses_past_its_limit_and_gets_shares_back_when_dropped() {
        let budget = Arc::new(Counter::new(100));
        let first = budget.take(60).expect("60 of 100");
        assert!(budget.take(41).is_none(), "60 + 41 > 100");
        assert!(budget.take(usize::MAX).is_none(), "no overflow");
        let second = budget.take(40).expect("the refused takes held nothing: 60 + 40 = 100");
        assert!(budget.take(1).is_none());
        drop(first);
        let third = budget.take(60).expect("the first share came back");
        drop((second, third));
        assert!(budget.take(100).is_some(), "every share came back");
        assert!(budget.take(0).is_some());
    }

    #[test]
    fn the_connection_cap_leaves_half_the_descriptors_to_the_rest_of_the_host() {
        assert_eq!(connection_cap(1024, Some(1024)), 512);
        assert_eq!(connection_cap(1024, Some(65536)), 1024);
        assert_eq!(connection_cap(1024, None), 1024);
        assert_eq!(connection_cap(1024, Some(u64::MAX)), 1024, "RLIM_INFINITY");
        assert_eq!(connection_cap(10, Some(1)), 1);
        assert!(open_file_limit().is_some_and(|limit| limit > 0));
    }
}
