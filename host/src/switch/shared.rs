//! What a switch's connections share: the settings, where their messages and events go, the log limits, and the
//! tables of connections and of datapaths (by id). `Switches` and every connection hold it; it knows
//! connections only through [`Keyed`] (and [`Parkable`] for the idle readers), so it depends on neither.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use super::idle::{IdleReaders, Parkable};
use super::settings::{LogLimits, SwitchSettings};
use crate::bus::Bus;
use crate::capture::Captures;
use crate::cluster::Mastership;
use crate::green::turns::Turns;
use crate::metrics::Metrics;

/// What the tables need to know of a connection.
pub trait Keyed {
    /// The host-wide connection number.
    fn id(&self) -> u64;
    /// The datapath id, once the switch said it.
    fn dpid(&self) -> Option<u64>;
}

/// The shared state of the switch side.
pub struct Shared<C> {
    /// Where switches' messages and datapath events go.
    pub bus: Arc<Bus>,
    /// Where datapaths' counters live (they outlive connections).
    pub metrics: Arc<Metrics>,
    settings: OnceLock<SwitchSettings>,
    /// Rate limits of this side's log lines.
    pub log_limits: LogLimits,
    connections: Mutex<HashMap<u64, Arc<C>>>,
    /// Looked up on every message an app sends: hashed by [`IdHasher`], not SipHash.
    datapaths: RwLock<HashMap<u64, Arc<C>, IdHashing>>,
    next_connection_id: AtomicU64,
    /// Mastership of the datapaths, in a cluster (`--cluster-etcd`).
    mastership: OnceLock<Arc<Mastership>>,
    /// OpenFlow captures: each connection's tap comes from here.
    pub captures: Arc<Captures>,
    /// Whether the scheduler polls its selector: busy readers step out when it has not lately.
    pub turns: Arc<Turns>,
    /// Where idle connections' readers park (started on first use; `None` if it could not start).
    idle_readers: OnceLock<Option<Arc<IdleReaders<C>>>>,
}

impl<C: Parkable> Shared<C> {
    /// Where idle connections' readers park; `None` (said once in the log) where its thread cannot start: idle
    /// readers then wait on their sockets.
    pub fn idle_readers(&self) -> Option<&Arc<IdleReaders<C>>> {
        let started = self.idle_readers.get_or_init(|| {
            IdleReaders::start()
                .inspect_err(|e| log::warn!(target: "tatsu::switch", "idle switches keep their readers: {e}"))
                .ok()
        });
        started.as_ref()
    }
}

impl<C: Keyed> Shared<C> {
    /// No connections yet; their messages will go to `bus`, their captures to `captures`, their counts to
    /// `metrics`; busy readers step out by `turns`.
    pub fn new(bus: Arc<Bus>, captures: Arc<Captures>, metrics: Arc<Metrics>, turns: Arc<Turns>) -> Self {
        Shared {
            bus,
            metrics,
            settings: OnceLock::new(),
            log_limits: LogLimits::default(),
            connections: Mutex::new(HashMap::new()),
            datapaths: RwLock::new(HashMap::with_hasher(IdHashing::new())),
            next_connection_id: AtomicU64::new(0),
            mastership: OnceLock::new(),
            captures,
            turns,
            idle_readers: OnceLock::new(),
        }
    }

    /// The settings (defaults until [`Shared::set_settings`]).
    pub fn settings(&self) -> &SwitchSettings {
        self.settings.get_or_init(SwitchSettings::default)
    }

    /// Sets the settings, once; later calls keep the first.
    pub fn set_settings(&self, settings: SwitchSettings) {
        let _ = self.settings.set(settings);
    }

    /// Sets mastership, once (in a cluster).
    pub fn set_mastership(&self, mastership: Arc<Mastership>) {
        let _ = self.mastership.set(mastership);
    }

    /// Mastership, in a cluster.
    pub fn mastership(&self) -> Option<&Arc<Mastership>> {
        self.mastership.get()
    }

    /// A fresh connection number.
    pub fn next_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn connections(&self) -> MutexGuard<'_, HashMap<u64, Arc<C>>> {
        self.connections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new connection under its number.
    pub fn insert(&self, id: u64, connection: &Arc<C>) {
        self.connections().insert(id, Arc::clone(connection));
    }

    /// How many connections there are, in any state.
    pub fn len(&self) -> usize {
        self.connections().len()
    }

    /// Every connection, in any state.
    pub fn all(&self) -> Vec<Arc<C>> {
        self.connections().values().cloned().collect()
    }

    /// The connection of datapath `dpid`.
    pub fn datapath(&self, dpid: u64) -> Option<Arc<C>> {
        self.datapaths.read().unwrap_or_else(PoisonError::into_inner).get(&dpid).cloned()
    }

    /// Runs `f` on datapath `dpid`'s connection, if there is one, under the table's read lock (no reference
    /// count taken: this is on every message an app sends). `f` must not touch the datapath table.
    pub fn with_datapath<R>(&self, dpid: u64, f: impl FnOnce(&Arc<C>) -> R) -> Option<R> {
        self.datapaths.read().unwrap_or_else(PoisonError::into_inner).get(&dpid).map(f)
    }

    /// Every connection that said its datapath id.
    pub fn datapaths(&self) -> Vec<Arc<C>> {
        self.datapaths.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect()
    }

    /// Makes `connection` datapath `dpid`'s; returns the connection it replaces, if another one had it.
    pub fn register_datapath(&self, dpid: u64, connection: &Arc<C>) -> Option<Arc<C>> {
        let mut datapaths = self.datapaths.write().unwrap_or_else(PoisonError::into_inner);
        datapaths.insert(dpid, Arc::clone(connection)).filter(|old| old.id() != connection.id())
    }

    /// Forgets a closed connection (and its datapath, unless a newer connection has it).
    pub fn forget(&self, connection: &C) {
        self.connections().remove(&connection.id());
        if let Some(dpid) = connection.dpid() {
            let mut datapaths = self.datapaths.write().unwrap_or_else(PoisonError::into_inner);
            if datapaths.get(&dpid).is_some_and(|current| current.id() == connection.id()) {
                datapaths.remove(&dpid);
            }
        }
    }
}

/// Hashes a datapath id (a `u64` the switch chose) with a seed drawn once per table: a bijective mix (murmur3's
/// finaliser) of id and seed, a few cycles instead of SipHash's tens, and ids a switch picks cannot be aimed at
/// one bucket without knowing the seed.
#[derive(Clone)]
pub struct IdHashing {
    seed: u64,
}

impl IdHashing {
    fn new() -> Self {
        IdHashing { seed: RandomState::new().hash_one(0x7a75_u64) }
    }
}

impl BuildHasher for IdHashing {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.seed)
    }
}

/// See [`IdHashing`].
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 ^= id;
    }
}
