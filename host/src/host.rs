//! The host: one owned value holding the event bus, the switches, the REST server, the watchdog and the apps.
//! `main` builds it, serves with it, and drops it; hot restart (`restart`) works on it. Nothing in the host reaches
//! these through a global: each part gets the handles it needs when it is made.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::apps::{AppManager, HostParts, Problems};
use crate::bus::Bus;
use crate::capture::Captures;
use crate::cluster::kv::KvService;
use crate::cluster::{Cluster, JoinError};
use crate::config::Settings;
use crate::green::turns::Turns;
use crate::green::Runners;
use crate::metrics::Metrics;
use crate::switch::Switches;
use crate::watchdog::Watchdog;
use crate::web::Web;

/// The running host.
pub struct Host {
    /// The resolved settings.
    pub settings: Settings,
    /// The bus, the switches, the REST server and the watchdog, as apps' service calls reach them.
    pub parts: HostParts,
    apps: Mutex<AppManager>,
    /// The executable a hot restart starts (the path this one was started from: a new build installed there is
    /// picked up).
    pub executable: PathBuf,
    /// This host's arguments (without the program name), for its successor.
    pub arguments: Vec<OsString>,
    /// The control socket's descriptor, handed to a successor.
    pub control_fd: OnceLock<RawFd>,
    /// A restart is under way.
    pub(crate) restarting: AtomicBool,
    /// This host has handed everything over to a successor and is exiting.
    restarted: AtomicBool,
    /// This host's part in a cluster, if it runs as one of several (`--cluster-etcd`) and etcd answered.
    pub cluster: Option<Cluster>,
}

impl Host {
    /// Builds the host's parts and starts the apps (switches and the REST server start later, fresh or taken over
    /// from a predecessor). Problems with single apps are returned, each logged; an unreadable plugins directory is
    /// an error.
    pub fn start(settings: Settings) -> Result<(Arc<Host>, Problems), String> {
        let bus = Arc::new(Bus::new(settings.apps.queue_capacity));
        let runners = Runners::new(settings.stack_size_kib * 1024);
        let metrics = Arc::new(Metrics::default());
        let cluster = join_cluster(&settings, &runners)?;
        let kv = cluster.as_ref().map_or_else(KvService::local, KvService::cluster);
        let node_id = cluster.as_ref().map(|cluster| Arc::from(cluster.node_id()));
        let captures = Captures::new(settings.capture.clone());
        if let Err(e) = captures.prepare() {
            if settings.strict {
                return Err(e);
            }
            log::error!(target: "tatsu::capture", "{e}");
        }
        let turns = Turns::new(may::config().get_workers());
        let parts = HostParts {
            switches: Switches::new(Arc::clone(&bus), Arc::clone(&captures), &metrics, Arc::clone(&turns)),
            web: Arc::new(Web::new(Arc::clone(&bus), Arc::clone(&runners), captures, Arc::clone(&metrics))),
            watchdog: Watchdog::start(settings.watchdog),
            bus,
            runners,
            kv,
            node_id,
            metrics,
            turns,
        };
        if let Some(cluster) = &cluster {
            parts.switches.set_mastership(&cluster.mastership);
        }
        let (apps, problems) = AppManager::start(settings.apps.clone(), parts.clone())?;
        let mut arguments = std::env::args_os();
        let program = arguments.next().map(PathBuf::from);
        let executable = std::env::current_exe().ok().or(program).unwrap_or_else(|| PathBuf::from("tatsu"));
        let host = Host {
            settings,
            parts,
            apps: Mutex::new(apps),
            executable,
            arguments: arguments.collect(),
            control_fd: OnceLock::new(),
            restarting: AtomicBool::new(false),
            restarted: AtomicBool::new(false),
            cluster,
        };
        Ok((Arc::new(host), problems))
    }

    /// The switches.
    pub fn switches(&self) -> &Arc<Switches> {
        &self.parts.switches
    }

    /// The REST server.
    pub fn web(&self) -> &Web {
        &self.parts.web
    }

    /// The running apps.
    pub fn apps(&self) -> MutexGuard<'_, AppManager> {
        self.apps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that this host handed over to a successor (its apps are stopped): it only has to exit now.
    pub fn mark_restarted(&self) {
        self.restarted.store(true, Ordering::Release);
    }

    /// Whether this host handed over to a successor.
    pub fn has_restarted(&self) -> bool {
        self.restarted.load(Ordering::Acquire)
    }

    /// On a planned stop (not after a hot restart): leaves the cluster at once, so that other hosts take over this
    /// host's switches without waiting for its lease to expire.
    pub fn leave_cluster(&self) {
        if let (Some(cluster), false) = (&self.cluster, self.has_restarted()) {
            cluster.leave();
        }
    }
}

/// Joins the cluster the settings name, if any. etcd unreachable: an error with `--strict`, else logged and the host
/// runs as a single controller. A node id another running host holds is always an error.
fn join_cluster(settings: &Settings, runners: &Arc<Runners>) -> Result<Option<Cluster>, String> {
    let Some(cluster) = &settings.cluster else { return Ok(None) };
    match Cluster::start(cluster, runners) {
        Ok(joined) => Ok(Some(joined)),
        Err(JoinError::DuplicateNode(why)) => Err(why),
        Err(JoinError::Etcd(e)) if settings.strict => {
            Err(format!("cannot join cluster `{}` through etcd {}: {e}", cluster.name, cluster.etcd.join(",")))
        }
        Err(JoinError::Etcd(e)) => {
            log::error!(
                target: "tatsu::cluster",
                "cannot join cluster `{}` through etcd {}: {e}; running as a single controller (--strict makes this \
                 fatal)",
                cluster.name,
                cluster.etcd.join(",")
            );
            Ok(None)
        }
    }
}
