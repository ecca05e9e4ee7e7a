//! `tatsu`: the OpenFlow controller host. It loads compiled apps from a plugins directory and runs them on a `may`
//! coroutine scheduler.

mod apps;
mod base64;
mod bus;
mod capture;
mod cluster;
mod config;
mod control;
mod green;
mod host;
mod limits;
mod logging;
mod metrics;
mod net;
mod ofp_print;
mod restart;
mod signals;
mod switch;
mod timer;
mod watchdog;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{ConfigFile, Overrides, Settings};
use crate::host::Host;

/// The tatsu OpenFlow controller.
#[derive(Debug, Parser)]
#[command(name = "tatsu", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing the run arguments buys nothing
enum Command {
    /// Runs the controller with the apps in the plugins directory.
    Run(RunArgs),
    /// Hot-restarts the running host: a successor reads the config and plugins afresh and takes over every
    /// switch connection without the switches noticing. Exits non-zero, saying why, if the successor fails (the
    /// running host then carries on).
    Restart(ControlArgs),
    /// Loads an app library never loaded before into the running host (a changed app needs `tatsu restart`).
    Load {
        /// The app library (`.so`).
        path: PathBuf,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Shows the running host's pid and apps.
    Status(ControlArgs),
    /// Turns OpenFlow captures on or off in the running host, for one datapath or every connection, or shows
    /// what is captured (the host needs --capture DIR or --capture-dir DIR).
    Capture {
        /// `on`, `off` or `status`.
        #[arg(value_enum)]
        action: CaptureAction,
        /// The datapath (16 hex digits, 0x and hex, or decimal) [default: every connection].
        dpid: Option<String>,
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Decodes OpenFlow messages from a file (several back to back) or hex on stdin, and prints each one.
    OfpPrint {
        /// A file of raw messages (without it: hex on stdin).
        file: Option<PathBuf>,
        /// Read the file as hex text.
        #[arg(long)]
        hex: bool,
        /// Print the JSON form of Ryu's test corpus (`.packet.json`).
        #[arg(long)]
        json: bool,
        /// Exit non-zero unless every message re-encodes byte for byte.
        #[arg(long)]
        check: bool,
    },
}

/// What `tatsu capture` does.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CaptureAction {
    /// Capture (from now on, and the datapath's next connections).
    On,
    /// Stop capturing.
    Off,
    /// Show the directory, what is captured and the counts (JSON).
    Status,
}

#[derive(Debug, Args)]
struct ControlArgs {
    /// The running host's control socket [default: $TATSU_CONTROL_SOCKET, /run/tatsu/control.sock for root,
    /// else $XDG_RUNTIME_DIR/tatsu.sock].
    #[arg(long, value_name = "PATH")]
    control_socket: Option<PathBuf>,
    /// Seconds to wait for the host's answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    timeout: f64,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Report app code that runs this many ms without yielding, stalling a scheduler thread (0: off) [default: 1000].
    #[arg(long, value_name = "MS")]
    watchdog_ms: Option<u64>,
    /// The control socket for `tatsu restart` and `tatsu load` [default: see `tatsu restart --help`].
    #[arg(long, value_name = "PATH")]
    control_socket: Option<PathBuf>,
    /// Config file (TOML): a [tatsu] section for these settings, an [app.NAME] section per app.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of app libraries (*.so) [default: $TATSU_PLUGINS_DIR, else plugins/ beside the executable].
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
    /// Start only this app (and the apps it requires); repeatable [default: every app in the directory].
    #[arg(long = "app", value_name = "NAME")]
    apps: Vec<String>,
    /// Exit with an error if any library or app fails to load or start.
    #[arg(long)]
    strict: bool,
    /// Write the process id to this file.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Scheduler worker threads [default: 1].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Green thread stack size in KiB [default: 128].
    #[arg(long, value_name = "KIB")]
    stack_size_kib: Option<usize>,
    /// Events each app's queue holds before new ones are dropped (counted and logged) [default: 65536].
    #[arg(long, value_name = "N")]
    queue_capacity: Option<usize>,
    /// Address to listen on for switches [default: ::, every IPv6 and IPv4 address].
    #[arg(long, value_name = "HOST")]
    ofp_listen_host: Option<String>,
    /// Port to listen on for switches; repeatable [default: 6653 and 6633].
    #[arg(long = "ofp-tcp-listen-port", value_name = "PORT")]
    ofp_tcp_listen_ports: Vec<u16>,
    /// Switches to connect to, as HOST:PORT[,HOST:PORT...], retried until they answer.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    ofp_switch_address_list: Vec<String>,
    /// The controller's private key (PEM), for TLS to switches (Ryu's flag; with --ctl-cert and --ca-certs).
    #[arg(long, value_name = "FILE")]
    ctl_privkey: Option<PathBuf>,
    /// The controller's certificate (PEM), for TLS to switches.
    #[arg(long, value_name = "FILE")]
    ctl_cert: Option<PathBuf>,
    /// The CA certificates (PEM) switches' certificates must be signed by; TLS switches must present one.
    #[arg(long, value_name = "FILE")]
    ca_certs: Option<PathBuf>,
    /// Port to listen on for TLS switches [default: 6653 when TLS is on; plain ports are then only those named].
    #[arg(long, value_name = "PORT")]
    ofp_ssl_listen_port: Option<u16>,
    /// Seconds of silence from a switch before it is sent an echo request [default: 5].
    #[arg(long, value_name = "SECONDS")]
    echo_request_interval: Option<f64>,
    /// Unanswered echo requests after which a switch is dropped [default: 3].
    #[arg(long, value_name = "N")]
    maximum_unreplied_echo_requests: Option<u32>,
    /// Seconds a switch has to finish the handshake [default: 10].
    #[arg(long, value_name = "SECONDS")]
    handshake_timeout: Option<f64>,
    /// Switch connections served at once, in any state; more are closed as soon as they are accepted [default:
    /// what the process can hold: its open-file limit and `vm.max_map_count`, four mappings per switch].
    #[arg(long, value_name = "N")]
    max_switch_connections: Option<usize>,
    /// Address the REST API listens on [default: 127.0.0.1; 0.0.0.0 or :: opens it to the network].
    #[arg(long, value_name = "HOST")]
    wsapi_host: Option<String>,
    /// Port the REST API listens on [default: 8080; 0: any free port]. The server starts only if an app serves
    /// routes.
    #[arg(long, value_name = "PORT")]
    wsapi_port: Option<u16>,
    /// Bearer token every REST request must carry (`Authorization: Bearer TOKEN`) [default: $TATSU_WSAPI_TOKEN,
    /// else none].
    #[arg(long, value_name = "TOKEN")]
    wsapi_token: Option<String>,
    /// Start the REST server for `GET /metrics` (Prometheus) even when no app serves a route.
    #[arg(long)]
    wsapi_metrics: bool,
    /// REST connections open at once; past it a new one gets a 503 and is closed [default: 1024, and at most half
    /// the open-file limit, so that switches can still connect].
    #[arg(long, value_name = "N")]
    wsapi_max_connections: Option<usize>,
    /// Seconds a REST request line and headers may take to arrive whole, however slowly bytes trickle in (408
    /// beyond) [default: 10].
    #[arg(long, value_name = "SECONDS")]
    wsapi_header_timeout: Option<f64>,
    /// Seconds a REST request body may take to arrive, and a response to be taken by the client (408 beyond)
    /// [default: 30].
    #[arg(long, value_name = "SECONDS")]
    wsapi_body_timeout: Option<f64>,
    /// Seconds a keep-alive REST connection may idle between requests [default: 60].
    #[arg(long, value_name = "SECONDS")]
    wsapi_idle_timeout: Option<f64>,
    /// Request body bytes all REST requests may hold at once; a body that does not fit gets a 503 with
    /// Retry-After before it is read [default: 67108864, 64 MiB].
    #[arg(long, value_name = "BYTES")]
    wsapi_body_budget_bytes: Option<usize>,
    /// Capture every switch connection's OpenFlow session into DIR, one pcap file per connection (Wireshark reads
    /// them; so does `tatsu ofp-print`).
    #[arg(long, value_name = "DIR", conflicts_with = "capture_dir")]
    capture: Option<PathBuf>,
    /// Write captures into DIR, but only of datapaths turned on while running (`tatsu capture on DPID`, or PUT
    /// /tatsu/capture/DPID on the REST API).
    #[arg(long, value_name = "DIR")]
    capture_dir: Option<PathBuf>,
    /// Run as one host of a cluster coordinated by this etcd: URL[,URL...] of its members (http://HOST:PORT).
    /// Every switch connects to every host; per switch one host is master, the others slaves.
    #[arg(long, value_name = "URLS", value_delimiter = ',')]
    cluster_etcd: Vec<String>,
    /// The cluster's name: the prefix of its keys in etcd [default: tatsu].
    #[arg(long, value_name = "NAME")]
    cluster_name: Option<String>,
    /// This host's id in the cluster; a second host with the same id is refused (required with --cluster-etcd).
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
    /// Seconds a host that vanished (crash, pause, partition) stays master of its switches [default: 5].
    #[arg(long, value_name = "SECONDS")]
    cluster_lease_ttl: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Restart(control) => control_command(&control, "restart"),
        Command::Load { path, control } => {
            let path = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()));
            path.and_then(|path| control_command(&control, &format!("load {}", path.display())))
        }
        Command::Status(control) => control_command(&control, "status"),
        Command::Capture { action, dpid, control } => {
            let action = match action {
                CaptureAction::On => "on",
                CaptureAction::Off => "off",
                CaptureAction::Status => "status",
            };
            let line = dpid.map_or_else(|| format!("capture {action}"), |dpid| format!("capture {action} {dpid}"));
            control_command(&control, &line)
        }
        Command::OfpPrint { file, hex, json, check } => ofp_print::run(&ofp_print::Options { file, hex, json, check }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!(target: "tatsu", "{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    // A successor started by a hot restart tells its predecessor why it could not start.
    let incoming = restart::Incoming::from_env();
    let failed = incoming.as_ref().map(restart::Incoming::failure_reporter);
    let result = serve(args, incoming);
    if let (Err(reason), Some(report)) = (&result, failed) {
        report(reason);
    }
    result
}

fn serve(args: RunArgs, incoming: Option<restart::Incoming>) -> Result<(), String> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let flags = Overrides {
        plugins_dir: args.plugins_dir,
        apps: args.apps,
        strict: args.strict,
        pid_file: args.pid_file,
        workers: args.workers,
        stack_size_kib: args.stack_size_kib,
        queue_capacity: args.queue_capacity,
        ofp_listen_host: args.ofp_listen_host,
        ofp_tcp_listen_ports: args.ofp_tcp_listen_ports,
        ofp_switch_address_list: args.ofp_switch_address_list,
        ctl_privkey: args.ctl_privkey,
        ctl_cert: args.ctl_cert,
        ca_certs: args.ca_certs,
        ofp_ssl_listen_port: args.ofp_ssl_listen_port,
        echo_request_interval: args.echo_request_interval,
        maximum_unreplied_echo_requests: args.maximum_unreplied_echo_requests,
        handshake_timeout: args.handshake_timeout,
        max_switch_connections: args.max_switch_connections,
        wsapi_host: args.wsapi_host,
        wsapi_port: args.wsapi_port,
        wsapi_token: args.wsapi_token,
        wsapi_metrics: args.wsapi_metrics,
        wsapi_max_connections: args.wsapi_max_connections,
        wsapi_header_timeout: args.wsapi_header_timeout,
        wsapi_body_timeout: args.wsapi_body_timeout,
        wsapi_idle_timeout: args.wsapi_idle_timeout,
        wsapi_body_budget_bytes: args.wsapi_body_budget_bytes,
        control_socket: args.control_socket,
        watchdog_ms: args.watchdog_ms,
        cluster_etcd: args.cluster_etcd,
        cluster_name: args.cluster_name,
        node_id: args.node_id,
        cluster_lease_ttl: args.cluster_lease_ttl,
        capture: args.capture,
        capture_dir: args.capture_dir,
    };
    let mut settings = Settings::resolve(file, flags)?;
    fit_switch_connections(&mut settings);
    // may counts stack sizes in machine words. may's own size is the host's coroutines' (see `green`); apps' green
    // threads have the configured one.
    may::config().set_workers(settings.workers).set_stack_size(green::HOST_STACK_BYTES / std::mem::size_of::<usize>());
    // may pins its scheduler threads to cores by default. The controller shares its cores with everything else on
    // the machine (the switches' side of a benchmark, other services), and a pinned thread cannot move off a busy
    // core: unpinned measured better in both cbench modes, with 1 and 2 workers (bench/README.md, issue 13).
    may::config().set_worker_pin(false);

    let plugins_dir = settings.apps.plugins_dir.display();
    log::info!(target: "tatsu", "tatsu {} loading apps from {plugins_dir}", env!("CARGO_PKG_VERSION"));
    let (host, problems) = Host::start(settings.clone())?;
    if settings.strict && !problems.is_empty() {
        host.apps().stop_all();
        return Err(format!("{} problem(s) loading apps, and --strict is set", problems.len()));
    }
    let (control, _pid_file) = match take_over_or_start(&host, incoming) {
        Ok(started) => started,
        Err(e) => {
            host.apps().stop_all();
            return Err(e);
        }
    };
    if let Some(listener) = control {
        let _ = host.control_fd.set(std::os::fd::AsRawFd::as_raw_fd(&listener));
        let (answering, restarted) = (Arc::clone(&host), Arc::clone(&host));
        let answer = move |line: &str| answering.control_command(line);
        control::serve(listener, answer, move || exit_after_restart(&restarted));
    }
    notify_systemd();
    let names = host.apps().names().iter().map(|name| name.to_string()).collect::<Vec<_>>();
    log::info!(target: "tatsu", "running {} app(s): {}", names.len(), names.join(", "));

    loop {
        match signals::wait().map_err(|e| format!("waiting for signals failed: {e}"))? {
            nix::sys::signal::Signal::SIGHUP => {
                log::info!(target: "tatsu", "SIGHUP: hot restart");
                let host = Arc::clone(&host);
                std::thread::spawn(move || match host.restart() {
                    Ok(_) => exit_after_restart(&host),
                    Err(e) => log::error!(target: "tatsu::restart", "restart failed, this host carries on: {e}"),
                });
            }
            signal if host.has_restarted() => {
                log::info!(target: "tatsu", "{signal}: handed over to the successor; exiting");
                return Ok(());
            }
            signal => {
                log::info!(target: "tatsu", "{signal}: stopping");
                exit_if_stuck(settings.apps.stop_timeout * 2 + Duration::from_secs(5));
                break;
            }
        }
    }
    host.apps().stop_all();
    host.leave_cluster();
    host.switches().captures().flush(Duration::from_secs(1));
    log::info!(target: "tatsu", "stopped");
    Ok(())
}

/// Caps the switch connections at what this process can hold (open files, memory mappings), so that the host
/// refuses a connection at the limit instead of failing somewhere inside when the kernel says no.
fn fit_switch_connections(settings: &mut Settings) {
    let budget = limits::Budget::probe();
    // The REST server takes at most half the open-file limit (see `web`), however many connections it is allowed.
    let rest_fds = (settings.web.max_connections as u64).min(budget.fds / 2);
    let fits = usize::try_from(budget.switch_connections(rest_fds)).unwrap_or(usize::MAX);
    let wanted = settings.switches.max_connections;
    if wanted > fits && wanted != config::DEFAULT_MAX_SWITCH_CONNECTIONS {
        log::warn!(
            target: "tatsu",
            "max_switch_connections {wanted} is more than this process can hold; using {fits} (raise `ulimit -n`, now \
             {}, or vm.max_map_count, now {}, for more)",
            budget.fds,
            budget.max_mappings
        );
    }
    settings.switches.max_connections = wanted.min(fits);
    log::info!(
        target: "tatsu",
        "at most {} switch connections (open files {}, memory mappings {} of which {} in use)",
        settings.switches.max_connections,
        budget.fds,
        budget.max_mappings,
        budget.mappings_in_use
    );
}

/// Makes the process exit non-zero if it has not stopped within `deadline`: a host that cannot stop (its scheduler
/// stuck, say) must not look alive to a supervisor.
fn exit_if_stuck(deadline: Duration) {
    let spawned = std::thread::Builder::new().name("tatsu-stop-deadline".to_owned()).spawn(move || {
        std::thread::sleep(deadline);
        log::error!(target: "tatsu", "the host did not stop within {deadline:?}; exiting anyway");
        std::process::exit(70);
    });
    if let Err(e) = spawned {
        log::warn!(target: "tatsu", "cannot watch the stop deadline: {e}");
    }
}

/// After a successful restart: makes the main thread exit (its apps are already stopped).
fn exit_after_restart(host: &Host) {
    host.mark_restarted();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGTERM);
}

/// Starts the switch side and the REST server: fresh, or with what a predecessor hands over. Returns the control
/// socket to serve and the pid file, written (by a successor: before it confirms the takeover, so the file names
/// the running host as soon as `tatsu restart` returns).
fn take_over_or_start(
    host: &Host,
    incoming: Option<restart::Incoming>,
) -> Result<(Option<std::os::unix::net::UnixListener>, Option<PidFile>), String> {
    let settings = &host.settings;
    let switches = host.switches();
    let write_pid_file = || settings.pid_file.as_deref().map(PidFile::create).transpose();
    let Some(incoming) = incoming else {
        switches.start(settings.switches.clone())?;
        // The REST API is an app's extra: without `--strict`, a port already taken costs the API, not the controller.
        if let Err(e) = host.web().start(settings.web.clone(), None) {
            if settings.strict {
                return Err(e);
            }
            log::error!(target: "tatsu::web", "{e}; running without the REST API");
        }
        let control = match control::bind(&settings.control_socket) {
            Ok(listener) => Some(listener),
            Err(e) => {
                log::warn!(target: "tatsu::control", "{e}; `tatsu restart` and `tatsu load` will not reach this host (SIGHUP still restarts it)");
                None
            }
        };
        return Ok((control, write_pid_file()?));
    };
    let asked = std::time::Instant::now();
    let received = incoming.take_over()?;
    let received_at = asked.elapsed();
    let received_web = received.web;
    // Take everything on without touching it, commit, and only then serve it (see `restart`).
    let adopted = switches.adopt_inherited(settings.switches.clone(), received.listeners, received.connections);
    let resumed = adopted.connections();
    let control = received.control.map(control::inherit);
    let pid_file = write_pid_file()?;
    incoming.confirm();
    adopted.start();
    switches.start_after_takeover()?;
    log::debug!(
        target: "tatsu::restart",
        "takeover: state and descriptors received {received_at:?} after ready, {resumed} connections resumed after {:?}",
        asked.elapsed()
    );
    let saved = incoming.saved();
    log::info!(target: "tatsu::restart", "took over {resumed} datapath(s) from the previous host");
    if !saved.kv.is_null() {
        host.parts.kv.restore(&saved.kv);
    }
    host.apps().restore(saved.states);
    // Before the REST server starts: no scrape may see the counters before the predecessor's are added.
    if let Some(metrics) = &saved.metrics {
        host.parts.metrics.restore(metrics);
    }
    // The switches are this host's now: a REST server that cannot start must not take them down with it.
    if let Err(e) = host.web().start(settings.web.clone(), received_web) {
        log::error!(target: "tatsu::web", "{e}; running without the REST API");
    }
    Ok((control, pid_file))
}

/// Sends a command to the running host over its control socket and prints the reply.
fn control_command(control: &ControlArgs, command: &str) -> Result<(), String> {
    let path = control.control_socket.clone().unwrap_or_else(control::default_path);
    let timeout = Duration::try_from_secs_f64(control.timeout).map_err(|e| format!("--timeout: {e}"))?;
    let reply = control::request(&path, command, timeout)?;
    match reply.strip_prefix("ok ") {
        Some(message) => {
            println!("{message}");
            Ok(())
        }
        None => Err(reply.strip_prefix("error ").unwrap_or(&reply).to_owned()),
    }
}

/// Tells systemd (`Type=notify`, `NotifyAccess=all`) that this process is the service's main process and ready;
/// after a hot restart this moves systemd's MAINPID to the successor.
fn notify_systemd() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let socket = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(socket) => socket,
        Err(_) => return,
    };
    let message = format!("MAINPID={}\nREADY=1\n", std::process::id());
    let path = path.to_string_lossy().to_string();
    let sent = match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|address| socket.send_to_addr(message.as_bytes(), &address))
        }
        None => socket.send_to(message.as_bytes(), &path),
    };
    if let Err(e) = sent {
        log::warn!(target: "tatsu", "cannot notify systemd at {path}: {e}");
    }
}

/// The pid file, removed when the host exits.
struct PidFile(PathBuf);

impl PidFile {
    fn create(path: &std::path::Path) -> Result<PidFile, String> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pid file {}: {e}", path.display()))?;
        Ok(PidFile(path.to_owned()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // After a hot restart the file holds the successor's pid: leave it.
        let ours = std::fs::read_to_string(&self.0).is_ok_and(|pid| pid.trim() == std::process::id().to_string());
        if ours {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
