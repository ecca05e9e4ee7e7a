//! What the host keeps about apps: their settings, the parts of the host their service calls reach, and each
//! running app's state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bus::{Bus, Mailbox};
use crate::cluster::kv::{AppStore, KvService};
use crate::green::turns::Turns;
use crate::green::{Runners, ThreadGroup};
use crate::metrics::{AppCounters, Metrics};
use crate::switch::Switches;
use crate::watchdog::{Watchdog, Watched};
use crate::web::Web;

/// How apps are found, configured, started and stopped (from the `[tatsu]` and `[app.NAME]` sections).
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Where app libraries are loaded from.
    pub plugins_dir: PathBuf,
    /// The apps to start (with what they require); empty: all.
    pub selected: Vec<String>,
    /// Events per app queue.
    pub queue_capacity: usize,
    /// How long an app may take to start.
    pub start_timeout: Duration,
    /// How long an app and its green threads may take to stop.
    pub stop_timeout: Duration,
    /// Each app's configuration section, by app name.
    pub config: BTreeMap<String, serde_json::Value>,
}

/// The parts of the host an app's service calls reach: a cloneable handle (tokio's `runtime::Handle` manner).
#[derive(Clone)]
pub struct HostParts {
    /// The event bus.
    pub bus: Arc<Bus>,
    /// The switches.
    pub switches: Arc<Switches>,
    /// The REST server (for apps' routes).
    pub web: Arc<Web>,
    /// The watchdog.
    pub watchdog: Arc<Watchdog>,
    /// The coroutines apps' green threads run on.
    pub runners: Arc<Runners>,
    /// The key-value service (etcd in a cluster, this process alone).
    pub kv: Arc<KvService>,
    /// This host's node id in a cluster.
    pub node_id: Option<Arc<str>>,
    /// The metrics registry (apps' counters, `GET /metrics`).
    pub metrics: Arc<Metrics>,
    /// Whether the scheduler polls its I/O selectors: an app's event loop steps out between batches when it has
    /// not lately, as busy switch readers do.
    pub turns: Arc<Turns>,
}

/// Everything the host keeps about one app while it runs. Its address is the app's ABI handle: it lives as long
/// as the app's green threads can call into the host.
pub struct AppState {
    /// The app's name.
    pub name: Arc<str>,
    /// Its mailbox on the bus.
    pub mailbox: Arc<Mailbox>,
    /// Its green threads.
    pub group: Arc<ThreadGroup>,
    /// Its watchdog entry.
    pub watched: Watched,
    /// What its service calls reach.
    pub host: HostParts,
    /// Its keys in the key-value service.
    pub kv: AppStore,
    /// Its events, drops, faults and handler time (by name: they outlive this instance).
    pub counters: Arc<AppCounters>,
    /// Fault log rate limit: when this second began, faults logged in it, faults not logged.
    fault_log: std::sync::Mutex<(Instant, u64, u64)>,
}

/// Faults of one app logged per second at most (all are counted).
const FAULT_LOGS_PER_SECOND: u64 = 10;

impl AppState {
    pub(super) fn new(name: &str, queue_capacity: usize, host: &HostParts) -> Arc<Self> {
        let name: Arc<str> = Arc::from(name);
        let counters = host.metrics.app(&name);
        let group = ThreadGroup::new(&name, &host.runners);
        host.metrics.watch_group(&group);
        Arc::new(AppState {
            mailbox: Mailbox::counted(&name, queue_capacity, Arc::clone(&counters)),
            group,
            watched: host.watchdog.watch(&name),
            host: host.clone(),
            kv: host.kv.store(&name),
            name,
            counters,
            fault_log: std::sync::Mutex::new((Instant::now(), 0, 0)),
        })
    }

    /// Counts a handler panic or failure; says whether to log it: at most [`FAULT_LOGS_PER_SECOND`] a second
    /// are, the first of each second also saying how many the previous second did not show.
    pub fn count_fault(&self) -> Option<u64> {
        self.counters.fault();
        let mut window = self.fault_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (started, logged, suppressed) = &mut *window;
        if started.elapsed() >= std::time::Duration::from_secs(1) {
            let previously_suppressed = *suppressed;
            *window = (Instant::now(), 1, 0);
            return Some(previously_suppressed);
        }
        if *logged < FAULT_LOGS_PER_SECOND {
            *logged += 1;
            Some(0)
        } else {
            *suppressed += 1;
            None
        }
    }

    /// Removes every subscription, request name and route of the app.
    pub(super) fn unsubscribe(&self) {
        self.host.bus.remove(&self.mailbox);
        self.host.web.routes().remove(&self.mailbox);
        self.host.web.websockets().remove(&self.mailbox);
    }
}
