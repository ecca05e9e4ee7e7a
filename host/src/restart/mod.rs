//! Hot restart: a successor host takes over the listening sockets and every switch connection, so that no switch
//! notices (no reconnect, nothing lost or read twice).
//!
//! 1. `tatsu restart` (over the control socket) or SIGHUP starts the successor: the same executable path (a new
//!    build, if one was installed there), the same arguments, plus a unix socket for the handover
//!    (`TATSU_HANDOVER_FD`).
//! 2. The successor reads the config and the plugins directory afresh and starts its apps. Only then does it say
//!    `ready`; if it fails first (bad config, an app failing under `--strict`, a crash, a timeout), the running
//!    host just carries on and reports why.
//! 3. The running host stops accepting, pauses every switch reader at a message boundary, lets its apps drain the
//!    events already queued, flushes what they sent, and passes the listening sockets, the control socket and every
//!    connection (with its datapath id, version, features, ports, next xid, bytes read but not yet parsed and
//!    requests in flight) over SCM_RIGHTS. What switches send meanwhile waits in the kernel for the successor.
//!    Bytes queued for a switch but not yet written go along too: the writer stops at the exact byte.
//! 4. The successor takes every descriptor on without touching it, says `adopted`, and only then reads, writes and
//!    accepts (apps get an `enter` event marked `resumed`). The old host stops its apps, passes the state each saved
//!    (`App::save_state`) to its successor, and exits.
//!
//! `adopted` is the commit point, and the successor may die at any moment around it:
//! - before it says `adopted` (before it is ready, while it waits for the descriptors, while it takes them on), it
//!   has not read or written a byte of any connection: the old host kills it, takes back every descriptor it
//!   handed over (listeners, REST, connections with their state) exactly once, and carries on;
//! - once it has said `adopted`, it owns everything, and the old host stops its apps and exits. If the successor
//!   dies after that, that is the crash of a running host (a supervisor restarts it: after a restart systemd's
//!   MAINPID is the successor); nothing is taken back, because the successor may have read from the connections.
//!   Only if the old host gave up waiting for `adopted` (and killed the successor) and then finds it was sent after
//!   all does it take back the listening sockets (they hold no state), close the connections (their state here is
//!   stale; their switches reconnect) and carry on.
//!
//! For tests, `TATSU_HANDOVER_FAILPOINT=FILE` makes a successor kill itself (SIGKILL) at the phase `FILE` names:
//! `before-ready`, `after-ready`, `after-descriptors` or `after-adopted`.

mod fdpass;

use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::host::Host;
use crate::metrics::MetricsState;
use crate::switch::connection::Inherited;
use crate::switch::HandedListener;

/// The environment variable carrying the handover socket's descriptor to a successor.
const HANDOVER_FD: &str = "TATSU_HANDOVER_FD";
/// The environment variable naming a file that holds the phase of the takeover at which a successor kills itself
/// (for tests: a file, so that a test can change it between restarts of one host).
const HANDOVER_FAILPOINT: &str = "TATSU_HANDOVER_FAILPOINT";

/// Kills this process (SIGKILL: no clean-up at all, as a crash) if the file `TATSU_HANDOVER_FAILPOINT` names holds
/// `phase`.
fn failpoint(phase: &str) {
    let Some(path) = std::env::var_os(HANDOVER_FAILPOINT) else { return };
    if std::fs::read_to_string(path).is_ok_and(|wanted| wanted.trim() == phase) {
        log::warn!(target: "tatsu::restart", "{HANDOVER_FAILPOINT}={phase}: the successor kills itself here");
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    }
}

impl Host {
    /// Answers one line from the control socket (`restart`, `load PATH`, `status`): the reply line, and whether
    /// this host has handed over to a successor.
    pub fn control_command(&self, line: &str) -> (String, bool) {
        let mut words = line.splitn(2, ' ');
        match (words.next(), words.next()) {
            (Some("restart"), None) => match self.restart() {
                Ok(pid) => (format!("ok restarted: the successor host is pid {pid}"), true),
                Err(reason) => (format!("error restart failed, this host carries on: {reason}"), false),
            },
            (Some("load"), Some(path)) => match self.apps().load(std::path::Path::new(path.trim())) {
                Ok(name) => (format!("ok loaded app `{name}`"), false),
                Err(reason) => (format!("error {reason}"), false),
            },
            (Some("status"), None) => {
                let apps = self.apps().names().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                (format!("ok pid={} apps={apps}", std::process::id()), false)
            }
            (Some("capture"), arguments) => {
                match crate::capture::command(self.switches().captures(), arguments.unwrap_or("")) {
                    Ok(reply) => (format!("ok {reply}"), false),
                    Err(reason) => (format!("error {reason}"), false),
                }
            }
            _ => (
                format!("error unknown command {line:?} (commands: restart, load PATH, status, capture on|off|status [DPID])"),
                false,
            ),
        }
    }

    /// Starts a successor and hands everything over to it. `Ok(pid)` means the successor runs the switches now
    /// and this host's apps are stopped: the caller makes this process exit. On `Err`, this host carries on.
    pub fn restart(&self) -> Result<u32, String> {
        if self.restarting.swap(true, Ordering::AcqRel) {
            return Err("a restart is already in progress".to_owned());
        }
        let result = self.restart_once();
        if result.is_err() {
            self.restarting.store(false, Ordering::Release);
        }
        result
    }

    fn restart_once(&self) -> Result<u32, String> {
        let started = Instant::now();
        let (ours, theirs) = UnixStream::pair().map_err(|e| format!("cannot create the handover socket: {e}"))?;
        let mut child = self.start_successor(&theirs)?;
        drop(theirs);
        let pid = child.id();
        log::info!(target: "tatsu::restart", "started successor host (pid {pid}); waiting until it is ready");
        let _ = ours.set_read_timeout(Some(self.settings.restart_timeout));
        match fdpass::receive_json(&ours) {
            Ok(message) if message.get("ready").is_some() => {}
            Ok(message) => {
                let reason = message["failed"].as_str().unwrap_or("it sent something unexpected").to_owned();
                reap(&mut child);
                return Err(format!("the successor failed to start: {reason}"));
            }
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().map_or_else(|_| "unknown".to_owned(), |s| s.to_string());
                return Err(format!(
                    "the successor exited or timed out before it was ready ({e}; exit status {status})"
                ));
            }
        }
        let paused = Instant::now();
        let switches = self.switches();
        if let Err(reason) = switches.pause_all(Duration::from_secs(2)) {
            switches.resume_all();
            let _ = fdpass::send_json(&ours, &json!({ "abort": reason }));
            reap(&mut child);
            return Err(reason);
        }
        let readers_paused = paused.elapsed();
        let drained = self.apps().wait_drained(Duration::from_secs(1));
        let apps_drained = paused.elapsed();
        let flushed = switches.wait_flushed(Duration::from_secs(1));
        let writes_flushed = paused.elapsed();
        if !drained || !flushed {
            log::warn!(target: "tatsu::restart", "handing over with apps still busy (drained: {drained}, flushed: {flushed})");
        }
        let (listeners, connections) = switches.hand_over();
        let control: Vec<RawFd> = self.control_fd.get().copied().into_iter().collect();
        let web: Vec<RawFd> = self.web().hand_over().into_iter().collect();
        // From here until the successor says `adopted`, nothing here touches the handed-over descriptors: if it dies,
        // they are taken back as they are.
        let states: Vec<&Inherited> = connections.iter().map(|(_, state)| state).collect();
        let tls_listeners: Vec<bool> = listeners.iter().map(|listener| listener.tls).collect();
        let header = json!({
            "listeners": listeners.len(),
            "tls_listeners": tls_listeners,
            "control": control.len(),
            "web": web.len(),
            "connections": states
        });
        let mut fds: Vec<RawFd> = listeners.iter().map(|listener| listener.fd).collect();
        fds.extend(&control);
        fds.extend(&web);
        fds.extend(connections.iter().map(|(fd, _)| *fd));
        let sent = fdpass::send_json(&ours, &header).and_then(|()| fdpass::send_fds(&ours, &fds));
        let adopted = sent.and_then(|()| fdpass::receive_json(&ours));
        match adopted {
            Ok(message) if message.get("adopted").is_some() => {}
            other => {
                // The successor did not commit (it died, timed out, or said something else). Make sure it is dead,
                // then look once more: it may have said `adopted` just before it died.
                let _ = child.kill();
                reap(&mut child);
                let _ = ours.set_read_timeout(Some(Duration::from_millis(1)));
                let committed = fdpass::receive_json(&ours).is_ok_and(|message| message.get("adopted").is_some());
                self.web().take_back();
                self.reclaim_pid_file();
                if committed {
                    // It owned the connections, if only for a moment: their state here is stale. Close them (the
                    // switches reconnect to the listeners taken back below).
                    for (fd, _) in &connections {
                        // SAFETY: these duplicates were made for the handover and are owned by nothing else here.
                        drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(*fd) });
                    }
                    switches.adopt(listeners, Vec::new()).start();
                    log::error!(
                        target: "tatsu::restart",
                        "the successor (pid {pid}) died right after it took over; {} switch connection(s) are lost and \
                         will reconnect to this host",
                        connections.len()
                    );
                    return Err(format!("the successor died right after it took over ({other:?})"));
                }
                switches.adopt(listeners, connections).start();
                return Err(format!("the successor did not take over the switches ({other:?}); this host carries on"));
            }
        }
        self.web().finish_handover();
        let blackout = paused.elapsed();
        log::debug!(
            target: "tatsu::restart",
            "handover phases: readers paused {readers_paused:?}, apps drained {apps_drained:?}, writes flushed \
             {writes_flushed:?}, adopted {blackout:?}"
        );
        // The successor holds the sockets now; our duplicates can go.
        for fd in listeners.iter().map(|listener| &listener.fd).chain(connections.iter().map(|(fd, _)| fd)) {
            // SAFETY: these duplicates were made for the handover and are owned by nothing else here.
            drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(*fd) });
        }
        log::info!(
            target: "tatsu::restart",
            "handed {} datapath(s) and {} listening socket(s) to pid {pid}: readers paused for {:.1} ms",
            states.len(),
            listeners.len(),
            blackout.as_secs_f64() * 1000.0
        );
        let saved = self.apps().stop_all_saving();
        let saved: serde_json::Map<String, Value> = saved.into_iter().collect();
        // Without a cluster, the apps' key-value store lives in this process: it goes along. The counters, final now
        // that the apps have stopped, go with the saved states: after the switches' blackout, and before the successor
        // serves its first scrape (it starts its REST server once it has them), so that no scrape sees a counter go
        // down.
        let kv = self.parts.kv.dump().unwrap_or(Value::Null);
        let metrics = self.parts.metrics.state();
        if let Err(e) = fdpass::send_json(&ours, &json!({ "states": saved, "kv": kv, "metrics": metrics })) {
            log::warn!(target: "tatsu::restart", "could not pass the apps' saved state: {e}");
        }
        log::info!(target: "tatsu::restart", "restart done in {:.0} ms; exiting", started.elapsed().as_secs_f64() * 1000.0);
        Ok(pid)
    }

    /// Writes this process's id back into the pid file, which a successor that died may have written its own into.
    fn reclaim_pid_file(&self) {
        if let Some(path) = &self.settings.pid_file {
            if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
                log::error!(target: "tatsu::restart", "cannot write pid file {} back: {e}", path.display());
            }
        }
    }

    fn start_successor(&self, theirs: &UnixStream) -> Result<Child, String> {
        let fd = theirs.as_raw_fd();
        clear_cloexec(fd).map_err(|e| format!("cannot pass the handover socket: {e}"))?;
        Command::new(&self.executable)
            .args(&self.arguments)
            .env(HANDOVER_FD, fd.to_string())
            // The successor keeps this host's cluster lease: its mastership goes on without an election.
            .envs(self.cluster.as_ref().and_then(crate::cluster::Cluster::successor_env))
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.executable.display()))
    }
}

fn reap(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn clear_cloexec(fd: RawFd) -> nix::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    // SAFETY: `fd` is an open descriptor owned by the caller for the duration of this call.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::empty())).map(|_| ())
}

/// The successor's end of a handover, if this process was started as one.
pub struct Incoming {
    socket: UnixStream,
}

/// What the predecessor handed over.
pub struct Received {
    /// Listening sockets.
    pub listeners: Vec<HandedListener>,
    /// The control socket, if the predecessor had one.
    pub control: Option<RawFd>,
    /// The REST server's listening socket, if the predecessor served HTTP.
    pub web: Option<RawFd>,
    /// Switch connections with their state.
    pub connections: Vec<(RawFd, Inherited)>,
}

/// What the predecessor passes after its apps stopped.
#[derive(Default)]
pub struct Saved {
    /// Each app's saved state (app name → JSON).
    pub states: Vec<(String, Value)>,
    /// The predecessor's counters (absent from older hosts).
    pub metrics: Option<MetricsState>,
    /// The predecessor's local key-value store (`null` in a cluster, or from older hosts).
    pub kv: Value,
}

impl Incoming {
    /// The handover socket from the environment, if this host is a successor.
    pub fn from_env() -> Option<Incoming> {
        let fd: RawFd = std::env::var(HANDOVER_FD).ok()?.parse().ok()?;
        std::env::remove_var(HANDOVER_FD);
        // SAFETY: the predecessor passed this descriptor for this purpose; nothing else in this process owns it.
        let socket = unsafe { UnixStream::from_raw_fd(fd) };
        let _ = socket.set_read_timeout(Some(Duration::from_secs(60)));
        Some(Incoming { socket })
    }

    /// A way to tell the predecessor, later, that this host could not start (usable after `self` is consumed).
    pub fn failure_reporter(&self) -> impl FnOnce(&str) {
        let socket = self.socket.try_clone();
        move |reason: &str| {
            if let Ok(socket) = socket {
                let _ = fdpass::send_json(&socket, &json!({ "failed": reason }));
            }
        }
    }

    /// Says `ready` and receives the sockets and connection states.
    pub fn take_over(&self) -> Result<Received, String> {
        failpoint("before-ready");
        fdpass::send_json(&self.socket, &json!({ "ready": std::process::id() }))
            .map_err(|e| format!("handover: {e}"))?;
        failpoint("after-ready");
        let header = fdpass::receive_json(&self.socket).map_err(|e| format!("handover: {e}"))?;
        if let Some(reason) = header.get("abort") {
            return Err(format!("the predecessor abandoned the handover: {reason}"));
        }
        let listeners = header["listeners"].as_u64().unwrap_or(0) as usize;
        // Absent from hosts before TLS, whose listeners were all plain.
        let tls_listeners: Vec<bool> = serde_json::from_value(header["tls_listeners"].clone()).unwrap_or_default();
        let control = header["control"].as_u64().unwrap_or(0) as usize;
        let states: Vec<Inherited> =
            serde_json::from_value(header["connections"].clone()).map_err(|e| format!("handover state: {e}"))?;
        let web = header["web"].as_u64().unwrap_or(0) as usize;
        let fds = fdpass::receive_fds(&self.socket, listeners + control + web + states.len())
            .map_err(|e| format!("handover: {e}"))?;
        let (listener_fds, rest) = fds.split_at(listeners.min(fds.len()));
        let (control_fds, rest) = rest.split_at(control.min(rest.len()));
        let (web_fds, connection_fds) = rest.split_at(web.min(rest.len()));
        Ok(Received {
            listeners: listener_fds
                .iter()
                .enumerate()
                .map(|(i, &fd)| HandedListener { fd, tls: tls_listeners.get(i).copied().unwrap_or(false) })
                .collect(),
            control: control_fds.first().copied(),
            web: web_fds.first().copied(),
            connections: connection_fds.iter().copied().zip(states).collect(),
        })
    }

    /// Says `adopted`: from now on this host owns what it received, and may read, write and accept. Call it after
    /// taking everything on and before touching any of it. If the predecessor cannot be told, it has died (it would
    /// have killed this host before taking anything back), so nobody else holds the descriptors: carry on.
    pub fn confirm(&self) {
        failpoint("after-descriptors");
        if let Err(e) = fdpass::send_json(&self.socket, &json!({ "adopted": std::process::id() })) {
            log::warn!(target: "tatsu::restart", "could not confirm the takeover: {e}");
        }
        failpoint("after-adopted");
    }

    /// Waits for the predecessor's apps' saved state, its local key-value store and its counters.
    pub fn saved(self) -> Saved {
        let mut message = match fdpass::receive_json(&self.socket) {
            Ok(message) => message,
            Err(e) => {
                log::warn!(target: "tatsu::restart", "no saved app state or counters from the predecessor: {e}");
                return Saved::default();
            }
        };
        let states = match message.get_mut("states").map(Value::take) {
            Some(Value::Object(states)) => states.into_iter().collect(),
            _ => Vec::new(),
        };
        let metrics = match message.get_mut("metrics").map(|metrics| serde_json::from_value(metrics.take())) {
            Some(Ok(metrics)) => Some(metrics),
            Some(Err(e)) => {
                log::warn!(target: "tatsu::restart", "the predecessor's counters are unreadable, counting from zero: {e}");
                None
            }
            None => None,
        };
        let kv = message.get_mut("kv").map(Value::take).unwrap_or(Value::Null);
        Saved { states, metrics, kv }
    }
}
