//! Prometheus metrics, served at `GET /metrics` on the REST port (the web server calls [`Metrics::render`]).
//!
//! [`Metrics`] is the registry: the host's facts (build, start, hot restarts), every datapath's
//! [`DatapathCounters`] (which sum its connections' [`SwitchCounters`] and keep what closed ones counted) and every
//! app's [`AppCounters`] by name (so that they outlive connections and app instances, and only grow), the thread
//! groups to count green threads in, and a [`SwitchesView`] for what only live connections know (state, send queue,
//! echo round trip). The code being counted owns the atomics and bumps them with relaxed operations (a
//! connection's traffic with plain loads and stores: each counter has one writer), no lock and no allocation per
//! message; a scrape copies the list of datapaths under a short lock, sums each under its own lock for a moment,
//! then writes the body holding none ([`text`]), so it never stalls a switch.
//!
//! Labels follow Faucet: `dp_id` as Faucet writes it (`0x` and lower-case hex, Python's `hex()`), `app`, and
//! `type`, an OpenFlow message type by its `OFPT_*` name in the datapath's version.
//!
//! Hot restart: [`Metrics::state`] goes to the successor with the connections, and [`Metrics::restore`] adds it to
//! what the successor counted meanwhile (its apps start before it takes over), so every counter stays monotonic.

pub mod counters;
pub mod text;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::green::ThreadGroup;
pub use counters::{AppCounters, DatapathCounters, SwitchCounters};
use counters::{AppState, DatapathSnapshot, SwitchState, HANDLER_BUCKETS, TYPE_SLOTS};
use text::{Exposition, Kind};

/// What live switch connections report at a scrape (the switch side implements it).
pub trait SwitchesView: Send + Sync {
    /// Every connection, as it is now.
    fn live(&self) -> Vec<LiveSwitch>;
}

/// One connection at a scrape.
pub struct LiveSwitch {
    /// The datapath id, once known.
    pub dpid: Option<u64>,
    /// `handshake`, `config`, `main` or `dead`.
    pub state: &'static str,
    /// Bytes queued for the switch and not yet written.
    pub send_queue_bytes: u64,
    /// The round trip of the last echo request the switch answered.
    pub echo_rtt: Option<Duration>,
    /// Whether a reader runs for it (an idle switch's is parked: `switch::idle`).
    pub reader_running: bool,
    /// Whether a writer runs for it (an idle switch has none).
    pub writer_running: bool,
}

/// An app's name and counters, as a scrape copies them.
type AppEntry = (String, Arc<AppCounters>);

/// A family of one sample per datapath: name, help, value.
type DatapathFamily = (&'static str, &'static str, fn(&DatapathSnapshot) -> u64);

/// A family of one sample per app: name, kind, help, value.
type AppFamily = (&'static str, Kind, &'static str, fn(&AppCounters) -> u64);

/// The registry of the host's metrics.
pub struct Metrics {
    /// When the first host of this chain of hot restarts started, in milliseconds since the epoch.
    started_unix_ms: AtomicU64,
    restarts: AtomicU64,
    datapaths: Mutex<HashMap<u64, Arc<DatapathCounters>>>,
    apps: Mutex<BTreeMap<String, Arc<AppCounters>>>,
    groups: Mutex<Vec<Weak<ThreadGroup>>>,
    switches: OnceLock<Weak<dyn SwitchesView>>,
}

/// The registry as handed to a successor host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetricsState {
    started_unix_ms: u64,
    restarts: u64,
    datapaths: Vec<(u64, SwitchState)>,
    apps: BTreeMap<String, AppState>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started_unix_ms: AtomicU64::new(unix_ms(SystemTime::now())),
            restarts: AtomicU64::new(0),
            datapaths: Mutex::default(),
            apps: Mutex::default(),
            groups: Mutex::default(),
            switches: OnceLock::new(),
        }
    }
}

impl Metrics {
    /// Datapath `dpid`'s counters (made on first use; kept for the life of the process).
    pub fn datapath(&self, dpid: u64) -> Arc<DatapathCounters> {
        Arc::clone(lock(&self.datapaths).entry(dpid).or_default())
    }

    /// App `name`'s counters (made on first use; kept for the life of the process).
    pub fn app(&self, name: &str) -> Arc<AppCounters> {
        let mut apps = lock(&self.apps);
        if let Some(counters) = apps.get(name) {
            return Arc::clone(counters);
        }
        Arc::clone(apps.entry(name.to_owned()).or_default())
    }

    /// Counts the green threads of `group` while it lives.
    pub fn watch_group(&self, group: &Arc<ThreadGroup>) {
        let mut groups = lock(&self.groups);
        groups.retain(|group| group.strong_count() > 0);
        groups.push(Arc::downgrade(group));
    }

    /// Sets what live connections are asked at each scrape (once).
    pub fn set_switches(&self, switches: Weak<dyn SwitchesView>) {
        let _ = self.switches.set(switches);
    }

    /// Everything counted, for a successor host.
    pub fn state(&self) -> MetricsState {
        let (datapaths, apps) = self.snapshot();
        MetricsState {
            started_unix_ms: self.started_unix_ms.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            datapaths: datapaths.iter().map(|(dpid, counters)| (*dpid, counters.state())).collect(),
            apps: apps.iter().map(|(name, counters)| (name.clone(), counters.state())).collect(),
        }
    }

    /// Adds a predecessor's counts to this host's (this host is one more hot restart of the same chain).
    pub fn restore(&self, state: &MetricsState) {
        self.started_unix_ms.fetch_min(state.started_unix_ms, Ordering::Relaxed);
        self.restarts.fetch_add(state.restarts + 1, Ordering::Relaxed);
        for (dpid, counters) in &state.datapaths {
            self.datapath(*dpid).restore(counters);
        }
        for (name, counters) in &state.apps {
            self.app(name).restore(counters);
        }
    }

    /// The body of `GET /metrics`.
    pub fn render(&self) -> String {
        let (datapaths, apps) = self.snapshot();
        // Each datapath's lock is taken for a moment, one after the other; none is held while the body is written.
        let datapaths: Vec<(u64, DatapathSnapshot)> = datapaths
            .iter()
            .enumerate()
            .map(|(i, (dpid, counters))| {
                pace(i);
                (*dpid, counters.snapshot())
            })
            .collect();
        let live = self.switches.get().and_then(Weak::upgrade).map(|switches| switches.live()).unwrap_or_default();
        let mut out = Exposition::with_capacity(4096 + datapaths.len() * 1536);
        self.render_host(&mut out);
        render_traffic(&mut out, &datapaths);
        render_live(&mut out, &datapaths, &live);
        render_apps(&mut out, &apps);
        let switch_threads: usize =
            live.iter().map(|switch| usize::from(switch.reader_running) + usize::from(switch.writer_running)).sum();
        self.render_threads(&mut out, switch_threads);
        out.finish()
    }

    /// Every datapath's counters (by id) and every app's (by name), copied under the registry's locks, which are
    /// not held while the counters are read.
    fn snapshot(&self) -> (Vec<(u64, Arc<DatapathCounters>)>, Vec<AppEntry>) {
        let mut datapaths: Vec<(u64, Arc<DatapathCounters>)> =
            lock(&self.datapaths).iter().map(|(dpid, counters)| (*dpid, Arc::clone(counters))).collect();
        datapaths.sort_unstable_by_key(|(dpid, _)| *dpid);
        let apps = lock(&self.apps).iter().map(|(name, counters)| (name.clone(), Arc::clone(counters))).collect();
        (datapaths, apps)
    }

    fn render_host(&self, out: &mut Exposition) {
        out.family("tatsu_build_info", Kind::Gauge, "The host's version and the app interface version it speaks.");
        let labels = [("version", env!("CARGO_PKG_VERSION")), ("interface_version", tatsu_abi::INTERFACE_VERSION)];
        out.sample("tatsu_build_info", &labels, 1u64);
        let started_ms = self.started_unix_ms.load(Ordering::Relaxed);
        out.family(
            "tatsu_start_time_seconds",
            Kind::Gauge,
            "When the first host of this chain of hot restarts started, in seconds since the epoch.",
        );
        out.sample("tatsu_start_time_seconds", &[], started_ms as f64 / 1000.0);
        out.family(
            "tatsu_uptime_seconds",
            Kind::Gauge,
            "Time since the first host of this chain of hot restarts started.",
        );
        let uptime_ms = unix_ms(SystemTime::now()).saturating_sub(started_ms);
        out.sample("tatsu_uptime_seconds", &[], uptime_ms as f64 / 1000.0);
        out.family("tatsu_restarts_total", Kind::Counter, "Hot restarts since the first host of this chain started.");
        out.sample("tatsu_restarts_total", &[], self.restarts.load(Ordering::Relaxed));
    }

    /// `switch_threads`: the switches' running readers and writers (an idle switch has neither).
    fn render_threads(&self, out: &mut Exposition, switch_threads: usize) {
        let groups: Vec<Arc<ThreadGroup>> = lock(&self.groups).iter().filter_map(Weak::upgrade).collect();
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for group in &groups {
            *counts.entry(group.name()).or_default() += group.running() as u64;
        }
        out.family(
            "tatsu_green_threads",
            Kind::Gauge,
            "Green threads running, by group: each app's, the REST server's, and the switch readers and writers.",
        );
        out.sample("tatsu_green_threads", &[("group", "switches")], switch_threads as u64);
        for (group, count) in counts {
            out.sample("tatsu_green_threads", &[("group", group)], count);
        }
    }
}

/// Datapaths handled between two yields of a scrape: rendering 10,000 of them takes tens of milliseconds of CPU,
/// which the scrape's green thread shares with the switches' readers on its scheduler thread.
const PACE: usize = 256;

/// Lets other green threads run after every [`PACE`] datapaths (`i` counts them).
fn pace(i: usize) {
    if i % PACE == PACE - 1 {
        may::coroutine::yield_now();
    }
}

/// The `dp_id` label as Faucet writes it.
fn dp_label(dpid: u64) -> String {
    format!("{dpid:#x}")
}

/// The `type` label of message type slot `slot` in `version`.
fn type_label(version: u8, slot: u8) -> Cow<'static, str> {
    use tatsu_ofproto::{v1_0, v1_2, v1_3, v1_4};
    if usize::from(slot) == TYPE_SLOTS - 1 {
        return Cow::Borrowed("OFPT_OTHER");
    }
    let name = match version {
        0x01 => v1_0::type_name(slot),
        0x03 => v1_2::type_name(slot),
        0x05 | 0x06 => v1_4::type_name(slot),
        _ => v1_3::type_name(slot),
    };
    // Types this version leaves unnamed stay apart from each other.
    if name == "OFPT_UNKNOWN" {
        Cow::Owned(format!("OFPT_UNKNOWN_{slot}"))
    } else {
        Cow::Borrowed(name)
    }
}

fn render_traffic(out: &mut Exposition, datapaths: &[(u64, DatapathSnapshot)]) {
    let labels: Vec<String> = datapaths.iter().map(|(dpid, _)| dp_label(*dpid)).collect();
    // (name, help, received or sent, bytes or messages)
    let families = [
        ("tatsu_of_messages_received_total", "OpenFlow messages received from the datapath, by type.", true, false),
        ("tatsu_of_bytes_received_total", "OpenFlow bytes received from the datapath, by message type.", true, true),
        ("tatsu_of_messages_sent_total", "OpenFlow messages queued for the datapath, by type.", false, false),
        ("tatsu_of_bytes_sent_total", "OpenFlow bytes queued for the datapath, by message type.", false, true),
    ];
    for (name, help, received, bytes) in families {
        out.family(name, Kind::Counter, help);
        for (i, ((_, counters), dp_id)) in datapaths.iter().zip(&labels).enumerate() {
            pace(i);
            let seen = if received { &counters.received } else { &counters.sent };
            for &(slot, messages, byte_count) in seen {
                let msg_type = type_label(counters.version, slot);
                out.sample(name, &[("dp_id", dp_id), ("type", &msg_type)], if bytes { byte_count } else { messages });
            }
        }
    }
    let per_datapath: [DatapathFamily; 4] = [
        ("tatsu_of_errors_received_total", "OFPT_ERROR messages received from the datapath.", |c| {
            c.received_messages(tatsu_ofproto::v1_3::msg_type::ERROR)
        }),
        ("tatsu_of_decode_errors_total", "Messages from the datapath that could not be framed or decoded.", |c| {
            c.decode_errors
        }),
        ("tatsu_of_dp_connections_total", "Connections of the datapath that reached its datapath id.", |c| c.connects),
        ("tatsu_of_dp_disconnections_total", "Connections of the datapath that closed.", |c| c.disconnects),
    ];
    for (name, help, value) in per_datapath {
        out.family(name, Kind::Counter, help);
        for (i, ((_, counters), dp_id)) in datapaths.iter().zip(&labels).enumerate() {
            pace(i);
            out.sample(name, &[("dp_id", dp_id)], value(counters));
        }
    }
}

fn render_live(out: &mut Exposition, datapaths: &[(u64, DatapathSnapshot)], live: &[LiveSwitch]) {
    // The newest connection of each datapath speaks for it (a replaced one may linger for a moment).
    let mut current: HashMap<u64, &LiveSwitch> = HashMap::with_capacity(live.len());
    for switch in live {
        if let Some(dpid) = switch.dpid {
            let entry = current.entry(dpid).or_insert(switch);
            if entry.state == "dead" {
                *entry = switch;
            }
        }
    }
    out.family("tatsu_dp_status", Kind::Gauge, "1 while the datapath is connected and in MAIN, else 0.");
    for (i, (dpid, _)) in datapaths.iter().enumerate() {
        pace(i);
        let up = current.get(dpid).is_some_and(|switch| switch.state == "main");
        out.sample("tatsu_dp_status", &[("dp_id", &dp_label(*dpid))], u64::from(up));
    }
    out.family("tatsu_of_send_queue_bytes", Kind::Gauge, "Bytes queued for the datapath and not yet written.");
    let mut connected: Vec<(&u64, &&LiveSwitch)> = current.iter().collect();
    connected.sort_unstable_by_key(|(dpid, _)| **dpid);
    for (dpid, switch) in &connected {
        out.sample("tatsu_of_send_queue_bytes", &[("dp_id", &dp_label(**dpid))], switch.send_queue_bytes);
    }
    out.family(
        "tatsu_of_echo_rtt_seconds",
        Kind::Gauge,
        "Round trip of the last echo request the datapath answered (sent after echo_interval of silence).",
    );
    for (dpid, switch) in &connected {
        if let Some(rtt) = switch.echo_rtt {
            out.sample("tatsu_of_echo_rtt_seconds", &[("dp_id", &dp_label(**dpid))], rtt.as_secs_f64());
        }
    }
    out.family(
        "tatsu_switch_connections",
        Kind::Gauge,
        "Switch connections, by state (before and after the handshake).",
    );
    for state in ["handshake", "config", "main"] {
        let count = live.iter().filter(|switch| switch.state == state).count();
        out.sample("tatsu_switch_connections", &[("state", state)], count as u64);
    }
}

fn render_apps(out: &mut Exposition, apps: &[AppEntry]) {
    let simple: [AppFamily; 4] = [
        ("tatsu_app_events_handled_total", Kind::Counter, "Events the app handled.", |c| c.handled()),
        ("tatsu_app_queue_events", Kind::Gauge, "Events waiting in the app's queue.", |c| c.queued()),
        ("tatsu_app_events_dropped_total", Kind::Counter, "Events refused because the app's queue was full.", |c| {
            c.dropped()
        }),
        ("tatsu_app_faults_total", Kind::Counter, "Panics and failures of the app's handlers.", |c| c.faults()),
    ];
    for (name, kind, help, value) in simple {
        out.family(name, kind, help);
        for (app, counters) in apps {
            out.sample(name, &[("app", app)], value(counters));
        }
    }
    let name = "tatsu_app_handler_seconds";
    out.family(name, Kind::Histogram, "Time the app took per batch of events (one crossing of the app interface).");
    let bounds: Vec<String> =
        HANDLER_BUCKETS.iter().map(|bound| bound.to_string()).chain(["+Inf".to_owned()]).collect();
    for (app, counters) in apps {
        let (buckets, sum, count) = counters.handler_time.snapshot();
        for (le, cumulative) in bounds.iter().zip(buckets) {
            out.sample("tatsu_app_handler_seconds_bucket", &[("app", app), ("le", le)], cumulative);
        }
        out.sample("tatsu_app_handler_seconds_sum", &[("app", app)], sum);
        out.sample("tatsu_app_handler_seconds_count", &[("app", app)], count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_adds_its_predecessors_counts_and_one_restart() {
        let old = Metrics::default();
        let connection = Arc::new(SwitchCounters::default());
        connection.received(10, 100);
        old.datapath(1).attach(&connection, 4, true);
        old.app("ping").batch_handled(3, Duration::from_micros(20));
        let new = Metrics::default();
        new.app("ping").batch_handled(1, Duration::from_micros(20));
        let state: MetricsState = serde_json::from_str(&serde_json::to_string(&old.state()).unwrap()).unwrap();
        new.restore(&state);
        assert_eq!(new.app("ping").handled(), 4);
        assert_eq!(new.datapath(1).snapshot().received_messages(10), 1);
        assert_eq!(new.restarts.load(Ordering::Relaxed), 1);
        let body = new.render();
        assert!(body.contains("tatsu_of_messages_received_total{dp_id=\"0x1\",type=\"OFPT_PACKET_IN\"} 1\n"), "{body}");
        assert!(body.contains("tatsu_app_handler_seconds_bucket{app=\"ping\",le=\"+Inf\"} 2\n"), "{body}");
        assert!(body.contains("tatsu_restarts_total 1\n"), "{body}");
    }

    #[test]
    fn unnamed_types_get_distinct_labels() {
        assert_eq!(type_label(0x05, 22), "OFPT_UNKNOWN_22");
        assert_eq!(type_label(0x01, 10), "OFPT_PACKET_IN");
        assert_eq!(type_label(0x04, 36), "OFPT_OTHER");
    }
}
