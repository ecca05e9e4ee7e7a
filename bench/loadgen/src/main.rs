//! `tatsu-loadgen`: a switch benchmark in the manner of cbench.
//!
//! N emulated switches (OpenFlow 1.0 or 1.3) connect to a controller, do the handshake, teach it one destination
//! MAC each, then send packet-ins whose source MAC cycles through M addresses; every FLOW_MOD (add) and PACKET_OUT
//! that comes back counts as a response. `--mode throughput` keeps the pipe full, `--mode latency` keeps one
//! packet-in outstanding per switch and reports percentiles, `--mode idle` connects many switches and reports the
//! controller's resident memory per switch. `tatsu-loadgen respond` is a controller that only frames messages.
//! With `--tls-key`, `--tls-cert` and `--tls-ca` the switches speak TLS 1.3 (mutual, like Open vSwitch's `ssl:`);
//! idle mode then reports how many TLS switches a second the controller took on.

mod link;
mod proto;
mod respond;
mod switch;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use switch::{Counts, Driver, Gate, Mode, Settings, Switch};

#[derive(Parser, Debug)]
#[command(name = "tatsu-loadgen", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: Load,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the trivial responder: answers every packet-in with a packet-out, framing only.
    Respond {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:6653")]
        listen: SocketAddr,
    },
}

#[derive(clap::Args, Debug)]
struct Load {
    /// The controller to connect to.
    #[arg(long, default_value = "127.0.0.1:6653")]
    controller: SocketAddr,
    /// Number of emulated switches.
    #[arg(long, default_value_t = 16)]
    switches: u32,
    /// Distinct source MAC addresses per switch.
    #[arg(long, default_value_t = 1000)]
    macs: u32,
    /// Seconds measured (after the warm-up); in idle mode, seconds to settle before reading memory.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (handshakes happen here).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// OpenFlow version the switches speak: 1.0 or 1.3.
    #[arg(long = "of", default_value = "1.0", value_parser = parse_version)]
    version: u8,
    /// throughput, latency or idle.
    #[arg(long, value_enum, default_value = "throughput")]
    mode: Mode,
    /// Throughput mode: packet-ins in flight per switch (0: as many as the socket takes, as cbench).
    #[arg(long, default_value_t = 0)]
    window: u32,
    /// Threads driving the switches (each runs one epoll loop).
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// Idle mode: pid of the controller whose VmRSS is read before and after connecting.
    #[arg(long)]
    controller_pid: Option<u32>,
    /// Idle mode: switches connected per batch before waiting for their handshakes.
    #[arg(long, default_value_t = 250)]
    batch: u32,
    /// TLS: the switches' private key (PEM); with --tls-cert and --tls-ca.
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "tls_ca"])]
    tls_key: Option<std::path::PathBuf>,
    /// TLS: the switches' certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// TLS: the CA certificate the controller's must be signed by (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_ca: Option<std::path::PathBuf>,
    /// A name for the run, printed in the result line.
    #[arg(long, default_value = "run")]
    label: String,
}

fn parse_version(text: &str) -> Result<u8, String> {
    match text {
        "1.0" | "10" | "1" => Ok(proto::V1_0),
        "1.3" | "13" | "4" => Ok(proto::V1_3),
        other => Err(format!("unsupported OpenFlow version {other:?}: use 1.0 or 1.3")),
    }
}

fn version_name(version: u8) -> &'static str {
    if version == proto::V1_0 {
        "1.0"
    } else {
        "1.3"
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Respond { listen }) => respond::serve(listen).map_err(|e| format!("respond on {listen}: {e}")),
        None if cli.load.mode == Mode::Idle => idle(&cli.load),
        None => load(&cli.load),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tatsu-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn settings(load: &Load) -> Settings {
    Settings {
        version: load.version,
        macs: load.macs.max(1),
        mode: load.mode,
        window: load.window,
        port_desc_grace: Duration::from_millis(500),
        timeout: Duration::from_secs(1),
    }
}

/// The TLS configuration of a run, if it is a TLS run.
fn tls_config(load: &Load) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    match (&load.tls_key, &load.tls_cert, &load.tls_ca) {
        (Some(key), Some(cert), Some(ca)) => {
            let files = link::TlsFiles { key: key.clone(), cert: cert.clone(), ca: ca.clone() };
            link::client_config(&files).map(Some)
        }
        _ => Ok(None),
    }
}

fn connect(index: u32, load: &Load, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Switch, String> {
    Switch::connect(index, load.controller, load.version, tls).map_err(|e| {
        let hint = if e.raw_os_error() == Some(24) { " (raise the open-file limit: ulimit -n)" } else { "" };
        format!("switch {index}: connecting to {} failed: {e}{hint}", load.controller)
    })
}

/// What one thread measured.
struct ThreadResult {
    switches: Vec<Switch>,
    latencies: Vec<u32>,
    measured: Duration,
}

fn load(load: &Load) -> Result<(), String> {
    if load.switches == 0 || load.threads == 0 || load.duration <= 0.0 || load.warmup < 0.0 {
        return Err("--switches, --threads and --duration must be positive".to_owned());
    }
    let settings = settings(load);
    let tls = tls_config(load)?;
    let threads = load.threads.min(load.switches);
    let mut groups: Vec<Vec<Switch>> = (0..threads).map(|_| Vec::new()).collect();
    for index in 0..load.switches {
        groups[(index % threads) as usize].push(connect(index, load, tls.as_ref())?);
    }
    let start = Instant::now();
    let gate = Gate::new(load.switches, start + Duration::from_secs(5));
    let measure_from = start + Duration::from_secs_f64(load.warmup);
    let until = measure_from + Duration::from_secs_f64(load.duration);
    let handles: Vec<_> = groups
        .into_iter()
        .map(|mut switches| {
            let (settings, gate) = (settings.clone(), Arc::clone(&gate));
            thread::spawn(move || -> Result<ThreadResult, String> {
                let mut driver = Driver::new(settings, Some(gate)).map_err(|e| format!("epoll: {e}"))?;
                for (slot, switch) in switches.iter_mut().enumerate() {
                    driver.register(switch, slot).map_err(|e| format!("epoll_ctl: {e}"))?;
                }
                let mut began = None;
                driver.run(&mut switches, until, |driver, _, now| {
                    if began.is_none() && now >= measure_from {
                        began = Some(now);
                        driver.measuring = true;
                    }
                    true
                });
                let measured = began.map_or(Duration::ZERO, |began| Instant::now().duration_since(began));
                Ok(ThreadResult { switches, latencies: std::mem::take(&mut driver.latencies), measured })
            })
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.join().map_err(|_| "a load thread panicked".to_owned())??);
    }
    report(load, results);
    Ok(())
}

fn report(load: &Load, results: Vec<ThreadResult>) {
    let measured = results.iter().map(|r| r.measured.as_secs_f64()).fold(0.0, f64::max).max(1e-9);
    let mut total = Counts::default();
    // Responses per second of each switch, for the spread between them.
    let mut per_switch: Vec<f64> = Vec::new();
    let (mut dead, mut not_running) = (0, 0);
    let mut latencies = Vec::new();
    for result in results {
        latencies.extend(result.latencies);
        for switch in result.switches {
            let c = &switch.counts;
            total.sent += c.sent;
            total.responses += c.responses;
            total.flow_mods += c.flow_mods;
            total.packet_outs += c.packet_outs;
            total.errors += c.errors;
            total.timeouts += c.timeouts;
            per_switch.push(c.responses as f64 / measured);
            if switch.dead.is_some() {
                dead += 1;
            } else if !switch.running() {
                not_running += 1;
            }
        }
    }
    let rate = total.responses as f64 / measured;
    per_switch.sort_unstable_by(f64::total_cmp);
    let (min, median, max) = match (per_switch.first(), per_switch.last()) {
        (Some(&min), Some(&max)) => (min, per_switch[per_switch.len() / 2], max),
        _ => (0.0, 0.0, 0.0),
    };
    latencies.sort_unstable();
    let pct = |q: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len() - 1);
        f64::from(latencies[i]) / 1000.0
    };
    let mode = match load.mode {
        Mode::Throughput => "throughput",
        Mode::Latency => "latency",
        Mode::Idle => "idle",
    };
    println!(
        "{label}: {mode} OF{of} {n} switches x {macs} MACs, {measured:.1} s: {rate:.0} responses/s \
         (per switch min {min:.0} median {median:.0} max {max:.0}); {fm} flow-mods, {po} packet-outs, {sent} packet-ins sent; \
         {errors} errors, {timeouts} timeouts, {dead} disconnected, {not_running} never ready",
        label = load.label,
        of = version_name(load.version),
        n = load.switches,
        macs = load.macs,
        fm = total.flow_mods,
        po = total.packet_outs,
        sent = total.sent,
        errors = total.errors,
        timeouts = total.timeouts,
    );
    if !latencies.is_empty() {
        println!(
            "{label}: latency us: p50 {:.1} p90 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ({} samples)",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(0.999),
            pct(1.0),
            latencies.len(),
            label = load.label,
        );
    }
    println!(
        "RESULT label={} mode={mode} of={} switches={} macs={} seconds={measured:.2} rate={rate:.0} min={min:.0} \
         median={median:.0} max={max:.0} p50_us={:.1} p90_us={:.1} p99_us={:.1} p999_us={:.1} errors={} timeouts={} dead={dead} \
         not_ready={not_running}",
        load.label,
        version_name(load.version),
        load.switches,
        load.macs,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        total.errors,
        total.timeouts,
    );
}

/// Resident memory of process `pid` in KiB, from /proc/PID/status.
fn vm_rss_kib(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path} has no VmRSS line"))
}

/// Connects `--switches` idle switches in batches, lets them settle, and reports the controller's VmRSS growth.
fn idle(load: &Load) -> Result<(), String> {
    let before = load.controller_pid.map(vm_rss_kib).transpose()?;
    let tls = tls_config(load)?;
    let mut driver = Driver::new(settings(load), None).map_err(|e| format!("epoll: {e}"))?;
    let mut switches: Vec<Switch> = Vec::with_capacity(load.switches as usize);
    let started = Instant::now();
    let batch = load.batch.max(1);
    let mut index = 0;
    while index < load.switches {
        let end = (index + batch).min(load.switches);
        // `--threads` connections (and TLS handshakes) at a time.
        let lanes = load.threads.max(1);
        let connected: Vec<Result<Vec<Switch>, String>> = thread::scope(|scope| {
            let lanes: Vec<_> = (0..lanes)
                .map(|lane| {
                    let tls = tls.as_ref();
                    scope.spawn(move || {
                        (index + lane..end).step_by(lanes as usize).map(|i| connect(i, load, tls)).collect()
                    })
                })
                .collect();
            lanes
                .into_iter()
                .map(|lane| lane.join().unwrap_or_else(|_| Err("a connect thread panicked".to_owned())))
                .collect()
        });
        for lane in connected {
            for mut switch in lane? {
                driver.register(&mut switch, switches.len()).map_err(|e| format!("epoll_ctl: {e}"))?;
                switches.push(switch);
            }
        }
        index = end;
        let deadline = Instant::now() + Duration::from_secs(30);
        driver.run(&mut switches, deadline, |_, switches, _| switches.iter().any(|s| !s.running() && s.dead.is_none()));
    }
    let connected_in = started.elapsed();
    let ready_now = switches.iter().filter(|s| s.running()).count();
    println!(
        "{label}: {kind} OF{of}: {ready_now} switches through the handshake{tls_note} in {:.2} s: {:.0} switches/s",
        connected_in.as_secs_f64(),
        ready_now as f64 / connected_in.as_secs_f64().max(1e-9),
        label = load.label,
        kind = if tls.is_some() { "TLS" } else { "plain TCP" },
        tls_note = if tls.is_some() { " (TLS and OpenFlow)" } else { " (OpenFlow)" },
        of = version_name(load.version),
    );
    println!(
        "RESULT label={} mode=connect tls={} of={} switches={ready_now} seconds={:.3} switches_per_s={:.0}",
        load.label,
        tls.is_some(),
        version_name(load.version),
        connected_in.as_secs_f64(),
        ready_now as f64 / connected_in.as_secs_f64().max(1e-9),
    );
    let settle_until = Instant::now() + Duration::from_secs_f64(load.duration);
    driver.run(&mut switches, settle_until, |_, _, _| true);
    let ready = switches.iter().filter(|s| s.running()).count();
    let dead = switches.iter().filter(|s| s.dead.is_some()).count();
    let own = vm_rss_kib(std::process::id()).unwrap_or(0);
    println!(
        "{label}: idle OF{of}: {ready} of {n} switches ready ({dead} disconnected), connected in {:.1} s; \
         tatsu-loadgen itself: {own} KiB resident",
        connected_in.as_secs_f64(),
        label = load.label,
        of = version_name(load.version),
        n = load.switches,
    );
    if let (Some(pid), Some(before)) = (load.controller_pid, before) {
        let after = vm_rss_kib(pid)?;
        let per = (after.saturating_sub(before)) as f64 / ready.max(1) as f64;
        println!(
            "{label}: controller pid {pid}: VmRSS {before} KiB before, {after} KiB with {ready} switches: \
             {per:.1} KiB per switch",
            label = load.label,
        );
        println!(
            "RESULT label={} mode=idle of={} switches={} ready={ready} rss_before_kib={before} rss_after_kib={after} \
             kib_per_switch={per:.1}",
            load.label,
            version_name(load.version),
            load.switches,
        );
    }
    Ok(())
}
