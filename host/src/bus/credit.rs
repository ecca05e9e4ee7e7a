//! Credit: how many of the switches' messages apps hold but have not handled yet, per connection and in all.
//!
//! A switch reader whose socket always has data would otherwise never give the scheduler back, and many busy
//! switches would push more into an app's queue than it holds, so that the queue's overflow policy (drops), not
//! the switches' turns, would decide who gets through. So every message handed to an app is counted, with a
//! [`CreditToken`] per run of messages of one read, on its connection's [`Credit`] and on the host's one
//! [`CreditPool`]:
//!
//! - **Fair shares.** The pool's budget (three quarters of an app queue's capacity: the rest is left for app
//!   events, requests and HTTP, and for what readers on other scheduler threads add meanwhile) bounds what all
//!   switches have in apps' queues together. It is split evenly among the *busy* connections (those whose last
//!   read took all it asked for, or that wait for credit) and 12 more (see [`CreditPool::share`]): a
//!   connection's share, at most [`Credit::LIMIT`] and at least one message. The shares stay below the budget,
//!   so readers mostly wait for their own credit and not for the pool; with more busy connections than the budget
//!   has messages for, the pool's line takes over.
//! - **Back-pressure, not drops.** A reader frames no more messages than its share minus what apps still hold of
//!   it, and only when the pool has room for all of them; what it read beyond that stays in its buffer, and what
//!   the switch sends beyond that stays in the switch's TCP window. What [`Credit::wait`] grants is *reserved* in
//!   the pool until the reader hands it on (its tokens take it over) or gives it back
//!   ([`Credit::give_back`], before it waits for its switch): a reader may yield between its grant and its
//!   delivery (it steps out for the selector, or its read finds nothing yet), and without the reservation the
//!   readers that ran meanwhile were granted the same room, so that with hundreds of busy switches the queue
//!   overflowed after all. Its own credit is back once apps hold no more than half its share; the pool's once room
//!   for a whole share comes back (readers waiting for the pool are woken first come, first served). So under
//!   plain overload from switches an app's queue never fills: each busy switch gets the same number of messages
//!   through per turn of the queue, and nothing is dropped.
//! - **A stuck app never stalls a switch for good.** A reader waits for its own credit in rounds of
//!   [`Credit::MAX_WAIT`], and in the pool's line (which moves whenever apps hand anything back, and wakes the
//!   reader for its turn) in rounds of [`Credit::MAX_STALL`]. After a round in which no app handed back any message
//!   of any switch, or after [`Credit::MAX_STALL`] waiting for its own credit, it reads on with a small allowance
//!   ([`Credit::STUCK_ALLOWANCE`]): the stuck app's queue then fills, and its overflow policy applies (see
//!   [`super::queue`]).
//!
//! Cost on the hot path: a token is one `fetch_add` on the connection and one on the pool per run and subscriber,
//! and one `fetch_sub` of the reservation; its drop the matching `fetch_sub`s and one more `fetch_add` (what was
//! handed back, the sign of progress). A grant is one `fetch_add` on the pool per read. The busy count changes only
//! when a reader starts or ends a busy spell.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use may::coroutine::Coroutine;

/// What all connections of a host share: the budget of messages apps may hold, split among busy connections.
pub struct CreditPool {
    /// Events apps may hold from all switches together.
    budget: usize,
    /// Events apps hold from all switches.
    held: AtomicUsize,
    /// Events granted to readers that they have not handed on yet (see [`Credit::wait`]).
    reserved: AtomicUsize,
    /// Connections in a busy spell (see [`Credit::set_busy`]).
    busy: AtomicUsize,
    /// Events handed back so far, ever: a waiting reader's sign that apps make progress.
    returned: AtomicUsize,
    /// Readers waiting for room in the pool, first come first served.
    blocked: Mutex<VecDeque<Arc<Credit>>>,
    /// How many entries `blocked` has, so that a token's drop looks at the list only when someone waits.
    blocked_len: AtomicUsize,
}

impl CreditPool {
    /// The pool of a host whose apps' queues hold `queue_capacity` events each.
    pub fn new(queue_capacity: usize) -> Arc<CreditPool> {
        Arc::new(CreditPool {
            budget: (queue_capacity / 4 * 3).max(1),
            held: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            returned: AtomicUsize::new(0),
            blocked: Mutex::new(VecDeque::new()),
            blocked_len: AtomicUsize::new(0),
        })
    }

    /// Events apps may hold from all switches together.
    #[cfg(test)]
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Events apps hold now from all switches.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Connections in a busy spell now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }

    /// A busy connection's share of the budget now: the budget split evenly among the busy connections and as many
    /// more as the budget holds at the whole [`Credit::LIMIT`] (48 of 49,152), at most [`Credit::LIMIT`], at least
    /// one. The shares of all busy connections then stay below the budget (by a lot when few are busy, so that
    /// readers mostly wait for their own credit and not for the pool); the line is for the times the busy count
    /// grows, and for more busy connections than the budget has messages for.
    pub fn share(&self) -> usize {
        (self.budget / (self.busy() + self.budget / Credit::LIMIT).max(1)).clamp(1, Credit::LIMIT)
    }

    /// What is left of the budget: neither held by apps nor granted to a reader that has not handed it on yet.
    fn room(&self) -> usize {
        self.budget.saturating_sub(self.held() + self.reserved.load(Ordering::Acquire))
    }

    fn lock_blocked(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Credit>>> {
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `credit`'s reader in line for room, at the back (or, for a reader whose turn came but found the room
    /// taken, at the front), unless it is in line already.
    fn block(&self, credit: &Arc<Credit>, front: bool) {
        if !credit.queued.swap(true, Ordering::AcqRel) {
            let mut blocked = self.lock_blocked();
            if front {
                blocked.push_front(Arc::clone(credit));
            } else {
                blocked.push_back(Arc::clone(credit));
            }
            self.blocked_len.fetch_add(1, Ordering::Release);
        }
    }

    /// Whether readers wait in line for room.
    fn line(&self) -> bool {
        self.blocked_len.load(Ordering::Acquire) > 0
    }

    /// Gives the readers waiting longest their turn and wakes them, as many as the room there is now can serve a
    /// whole share each (a reader goes on only with room for all it may take, see [`Credit::wait`]).
    fn wake_blocked(&self) {
        let mut wake = self.room() / self.share();
        if wake == 0 {
            return;
        }
        let mut blocked = self.lock_blocked();
        while wake > 0 {
            let Some(credit) = blocked.pop_front() else { break };
            self.blocked_len.fetch_sub(1, Ordering::Release);
            credit.queued.store(false, Ordering::Release);
            // Its turn, even if it is not parked right now (it woke for its own timer, and checks again at once).
            credit.turn.store(true, Ordering::Release);
            credit.wake_reader();
            wake -= 1;
        }
    }

    /// Takes `credit` off the waiting list (its connection ends).
    fn unblock(&self, credit: &Arc<Credit>) {
        if credit.queued.swap(false, Ordering::AcqRel) {
            let mut blocked = self.lock_blocked();
            if let Some(at) = blocked.iter().position(|other| Arc::ptr_eq(other, credit)) {
                blocked.remove(at);
                self.blocked_len.fetch_sub(1, Ordering::Release);
            }
        }
    }
}

/// The credit of one switch connection.
pub struct Credit {
    pool: Arc<CreditPool>,
    /// Events apps hold from this connection.
    in_flight: AtomicUsize,
    /// Events the reader's last grant reserved in the pool and it has not handed on yet (reader only).
    reserved: AtomicUsize,
    /// The reader is parked waiting for credit.
    reader_waiting: AtomicBool,
    /// Its own credit is back (the reader is woken) once `in_flight` is at most this.
    wake_at: AtomicUsize,
    /// The reader is on the pool's waiting list.
    queued: AtomicBool,
    /// The reader was taken off the list to go on: it may pass the readers still in line.
    turn: AtomicBool,
    /// The connection is in a busy spell (written by the reader only).
    busy: AtomicBool,
    /// Events per message in the last delivery (written by the reader only): messages to several apps take
    /// credit for each.
    fan_out: AtomicUsize,
    reader: Mutex<Option<Coroutine>>,
}

impl Credit {
    /// Most events apps may hold from one connection.
    pub const LIMIT: usize = 1024;
    /// Longest a reader waits for its own credit in one round before it looks whether apps make progress at all.
    /// Longer than an app takes to work through the whole budget under load (49,152 messages at 500 k a second with
    /// thousands of busy switches: 100 ms), so that a round that times out means a stuck app, not a long queue.
    pub const MAX_WAIT: Duration = Duration::from_millis(250);
    /// Longest a reader waits for credit in all, even while apps make progress.
    pub const MAX_STALL: Duration = Duration::from_secs(1);
    /// Events a reader may hand on after a wait that gave up.
    pub const STUCK_ALLOWANCE: usize = 16;

    /// The credit of a new connection, counted in `pool`.
    pub fn new(pool: &Arc<CreditPool>) -> Arc<Credit> {
        Arc::new(Credit {
            pool: Arc::clone(pool),
            in_flight: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
            reader_waiting: AtomicBool::new(false),
            wake_at: AtomicUsize::new(Self::LIMIT / 2),
            queued: AtomicBool::new(false),
            turn: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            fan_out: AtomicUsize::new(1),
            reader: Mutex::new(None),
        })
    }

    /// Records the calling coroutine as the connection's reader (the one to wake when credit returns).
    pub fn set_reader(&self) {
        *self.reader.lock().unwrap_or_else(PoisonError::into_inner) = Some(may::coroutine::current());
    }

    /// Events apps hold from this connection now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// A token for `count` messages handed to one app together; dropping it returns their credit. The messages of
    /// one read share one token, held by their last event, so the credit comes back when the app has handled them
    /// all.
    pub fn tokens(self: &Arc<Self>, count: usize) -> CreditToken {
        self.in_flight.fetch_add(count, Ordering::AcqRel);
        self.pool.held.fetch_add(count, Ordering::AcqRel);
        // What the grant reserved for these is held now.
        let reserved = self.reserved.load(Ordering::Relaxed);
        let used = count.min(reserved);
        if used > 0 {
            self.reserved.store(reserved - used, Ordering::Relaxed);
            self.pool.reserved.fetch_sub(used, Ordering::AcqRel);
        }
        CreditToken { credit: Arc::clone(self), count }
    }

    /// Reserves `events` of the pool's room for the reader until it hands them on (or gives them back), and
    /// returns how many messages that is.
    fn grant(&self, events: usize) -> usize {
        // Only the reader writes its reservation, and `wait` gave the last one back first.
        self.reserved.store(self.reserved.load(Ordering::Relaxed) + events, Ordering::Relaxed);
        self.pool.reserved.fetch_add(events, Ordering::AcqRel);
        self.messages(events)
    }

    /// Gives back the part of the reader's last grant it has not handed on: called before it waits for its switch
    /// (which may be idle for good) and when it asks for credit again, so that a grant holds room only while the
    /// reader acts on it.
    pub fn give_back(&self) {
        let left = self.reserved.load(Ordering::Relaxed);
        if left > 0 {
            self.reserved.store(0, Ordering::Relaxed);
            self.pool.reserved.fetch_sub(left, Ordering::AcqRel);
            if self.pool.line() {
                self.pool.wake_blocked();
            }
        }
    }

    /// Records that the last delivery of `messages` messages put `events` messages in apps' queues (one per
    /// subscribed app).
    pub fn delivered(&self, messages: usize, events: usize) {
        if messages > 0 {
            self.fan_out.store(events.div_ceil(messages).max(1), Ordering::Relaxed);
        }
    }

    /// Starts (`true`) or ends a busy spell: a connection is busy while its reads take all they ask for or it
    /// waits for credit; the budget is split among busy connections. Called by the reader only.
    pub fn set_busy(&self, busy: bool) {
        if self.busy.load(Ordering::Relaxed) != busy {
            self.busy.store(busy, Ordering::Relaxed);
            if busy {
                self.pool.busy.fetch_add(1, Ordering::Relaxed);
            } else {
                self.pool.busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Ends the connection's part in the pool: its busy spell and its place on the waiting list. Called by the
    /// reader when it ends.
    pub fn leave(self: &Arc<Self>) {
        self.give_back();
        self.set_busy(false);
        self.pool.unblock(self);
    }

    /// Messages the reader may hand on for `events` events of room.
    fn messages(&self, events: usize) -> usize {
        (events / self.fan_out.load(Ordering::Relaxed).max(1)).max(1)
    }

    /// Gives back what the last grant left unused, waits until the reader may hand apps more messages, and returns
    /// how many (at least 1), reserved in the pool until they are handed on. It may go on when apps hold at most
    /// half its share, the pool has room for the rest of its share and no reader waits in line for the pool before
    /// it; it then may hand on its share less what apps hold. A wait that gives up (see the module doc) allows
    /// [`Credit::STUCK_ALLOWANCE`].
    pub fn wait(self: &Arc<Self>) -> usize {
        self.give_back();
        let mut yielded = false;
        let mut began: Option<Instant> = None;
        loop {
            let share = self.pool.share();
            let own = self.in_flight();
            let want = share.saturating_sub(own);
            let room = self.pool.room();
            let turn = self.turn.swap(false, Ordering::AcqRel);
            if own <= share / 2 && room >= want && (turn || !self.pool.line()) {
                return self.grant(want);
            }
            // Most often the app that holds the messages is in the run queue already (the reader's push woke it):
            // step behind it before waiting on a timer, whose registration costs the timer thread a wake-up. Only
            // once: a reader that kept yielding would keep the run queue from ever emptying, and may polls its I/O
            // selector only then (readers waiting for data would starve; seen with 8 yields and 16 busy switches).
            if !yielded {
                yielded = true;
                may::coroutine::yield_now();
                continue;
            }
            // A reader waiting for credit is busy: it counts in the split from now on.
            self.set_busy(true);
            // Its own credit is back: it waits for the pool, in line, first come first served. The line moves as
            // apps hand messages back, so only a line that stands still for a whole `MAX_STALL` is given up on;
            // a wait for its own credit is given up after `MAX_STALL` in all (an app holding this switch's
            // messages may be stuck while others go on).
            let for_pool = own <= share / 2;
            let now = Instant::now();
            if !for_pool && now.duration_since(*began.get_or_insert(now)) >= Self::MAX_STALL {
                return self.grant(want.min(room).max(Self::STUCK_ALLOWANCE));
            }
            let returned = self.pool.returned.load(Ordering::Acquire);
            self.wake_at.store(share / 2, Ordering::Relaxed);
            self.reader_waiting.store(true, Ordering::Release);
            if for_pool {
                self.pool.block(self, turn);
            }
            // Checked again after announcing the wait, so a token dropped in between still wakes us.
            let own = self.in_flight();
            let room = self.pool.room();
            if for_pool && room >= share {
                // Room came back with no token dropped since: the line moves on now (perhaps with this reader).
                self.pool.wake_blocked();
            }
            // In line, the reader is woken for its turn; a timer that fired every round would cost a wake-up per
            // reader in line per round, and with thousands of busy switches most of them are in line.
            let round = if for_pool { Self::MAX_STALL } else { Self::MAX_WAIT };
            if own > share / 2 || room < share.saturating_sub(own) || for_pool {
                crate::green::park(Some(round));
            }
            self.reader_waiting.store(false, Ordering::Release);
            let progress = self.pool.returned.load(Ordering::Acquire) != returned;
            if !progress && Instant::now().duration_since(now) >= round {
                // No app handed anything back for a whole round: read on, whatever the queues do with it.
                let room = self.pool.share().saturating_sub(self.in_flight()).min(self.pool.room());
                return self.grant(room.max(Self::STUCK_ALLOWANCE));
            }
        }
    }

    /// Wakes the reader if it waits; whether it did.
    fn wake_reader(&self) -> bool {
        if self.reader_waiting.swap(false, Ordering::AcqRel) {
            if let Some(reader) = &*self.reader.lock().unwrap_or_else(PoisonError::into_inner) {
                reader.unpark();
            }
            true
        } else {
            false
        }
    }
}

/// Some events' share of their connection's credit.
pub struct CreditToken {
    credit: Arc<Credit>,
    count: usize,
}

impl Drop for CreditToken {
    fn drop(&mut self) {
        let credit = &self.credit;
        let pool = &credit.pool;
        let left = credit.in_flight.fetch_sub(self.count, Ordering::AcqRel).saturating_sub(self.count);
        pool.held.fetch_sub(self.count, Ordering::AcqRel);
        pool.returned.fetch_add(self.count, Ordering::AcqRel);
        if left <= credit.wake_at.load(Ordering::Relaxed) {
            credit.wake_reader();
        }
        if pool.blocked_len.load(Ordering::Acquire) > 0 {
            pool.wake_blocked();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_split_among_busy_connections() {
        let pool = CreditPool::new(crate::bus::queue::DEFAULT_CAPACITY);
        assert_eq!(pool.budget(), 49_152, "three quarters of the queue");
        // As many more as the budget holds whole shares: 48.
        let more = 49_152 / Credit::LIMIT;
        let credits: Vec<_> = (0..300).map(|_| Credit::new(&pool)).collect();
        assert_eq!(pool.share(), Credit::LIMIT, "no busy connection: the whole limit");
        for credit in &credits {
            credit.set_busy(true);
            credit.set_busy(true);
        }
        assert_eq!(pool.busy(), 300);
        assert_eq!(pool.share(), 49_152 / (300 + more));
        for credit in &credits[..200] {
            credit.leave();
        }
        assert_eq!(pool.busy(), 100);
        assert_eq!(pool.share(), 49_152 / (100 + more));
    }

    #[test]
    fn a_budget_smaller_than_the_limit_still_gives_shares() {
        let pool = CreditPool::new(2);
        assert_eq!(pool.share(), 1, "no busy connection");
        let credit = Credit::new(&pool);
        credit.set_busy(true);
        assert_eq!(pool.share(), 1);
    }

    #[test]
    fn tokens_count_on_the_connection_and_the_pool() {
        let pool = CreditPool::new(64);
        let (a, b) = (Credit::new(&pool), Credit::new(&pool));
        let first = a.tokens(10);
        let second = b.tokens(5);
        assert_eq!((a.in_flight(), b.in_flight(), pool.held()), (10, 5, 15));
        drop(first);
        assert_eq!((a.in_flight(), pool.held()), (0, 5));
        drop(second);
        assert_eq!(pool.held(), 0);
    }

    #[test]
    fn a_grant_holds_its_room_until_handed_on_or_given_back() {
        // A budget of 12 (a queue of 16); no busy connection: a share is the whole budget.
        let pool = CreditPool::new(16);
        let (a, b) = (Credit::new(&pool), Credit::new(&pool));
        assert_eq!(a.wait(), 12, "the whole share, the pool being empty");
        assert_eq!(pool.room(), 0, "granted is reserved, though no app holds anything yet");
        // Part of it is handed on: the tokens take that part over from the reservation.
        let token = a.tokens(5);
        assert_eq!((pool.held(), pool.reserved.load(Ordering::Relaxed), pool.room()), (5, 7, 0));
        // The rest is given back (the reader waits for its switch): the room is what apps do not hold.
        a.give_back();
        assert_eq!((pool.reserved.load(Ordering::Relaxed), pool.room()), (0, 7));
        // Another reader goes on once the room for its whole share is back.
        drop(token);
        assert_eq!(b.wait(), 12);
        assert_eq!(pool.room(), 0);
        b.leave();
        assert_eq!(pool.room(), 12, "a reader that ends gives its grant back");
    }

    #[test]
    fn messages_to_several_apps_take_credit_for_each() {
        let pool = CreditPool::new(4096);
        let credit = Credit::new(&pool);
        credit.delivered(10, 30);
        assert_eq!(credit.messages(90), 30);
        assert_eq!(credit.messages(2), 1, "at least one message");
    }
}
