//! What a switch's connections share: the settings, where their messages and events go, the log limits, and the
//! tables of connections and of datapaths (by id). `Switches` and every connection hold it; it knows
//! connections only through [`Keyed`], so it depends on neither.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use super::settings::{LogLimits, SwitchSettings};
use crate::bus::Bus;
use crate::cluster::Mastership;

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
    settings: OnceLock<SwitchSettings>,
    /// Rate limits of this side's log lines.
    pub log_limits: LogLimits,
    connections: Mutex<HashMap<u64, Arc<C>>>,
    datapaths: RwLock<HashMap<u64, Arc<C>>>,
    next_connection_id: AtomicU64,
    /// Mastership of the datapaths, in a cluster (`--cluster-etcd`).
    mastership: OnceLock<Arc<Mastership>>,
}

impl<C: Keyed> Shared<C> {
    /// No connections yet; their messages will go to `bus`.
    pub fn new(bus: Arc<Bus>) -> Self {
        Shared {
            bus,
            settings: OnceLock::new(),
            log_limits: LogLimits::default(),
            connections: Mutex::new(HashMap::new()),
            datapaths: RwLock::new(HashMap::new()),
            next_connection_id: AtomicU64::new(0),
            mastership: OnceLock::new(),
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
