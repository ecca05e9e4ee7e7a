//! `tatsu`: the OpenFlow controller host. It loads compiled apps from a plugins directory and runs them on a `may`
//! coroutine scheduler.

mod api;
mod apps;
mod bus;
mod config;
mod green;
mod logging;
mod runtime;
mod signals;
mod switch;
mod timer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::apps::AppManager;
use crate::config::{ConfigFile, Overrides, Settings};

/// The tatsu OpenFlow controller.
#[derive(Debug, Parser)]
#[command(name = "tatsu", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the controller with the apps in the plugins directory.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
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
    /// Events each app's queue holds before new ones are dropped (counted and logged) [default: 4096].
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
    /// Seconds of silence from a switch before it is sent an echo request [default: 5].
    #[arg(long, value_name = "SECONDS")]
    echo_request_interval: Option<f64>,
    /// Unanswered echo requests after which a switch is dropped [default: 3].
    #[arg(long, value_name = "N")]
    maximum_unreplied_echo_requests: Option<u32>,
    /// Seconds a switch has to finish the handshake [default: 10].
    #[arg(long, value_name = "SECONDS")]
    handshake_timeout: Option<f64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let result = match cli.command {
        Command::Run(args) => run(args),
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
        echo_request_interval: args.echo_request_interval,
        maximum_unreplied_echo_requests: args.maximum_unreplied_echo_requests,
        handshake_timeout: args.handshake_timeout,
    };
    let settings = Settings::resolve(file, flags)?;
    // may counts stack sizes in machine words.
    may::config()
        .set_workers(settings.workers)
        .set_stack_size(settings.stack_size_kib * 1024 / std::mem::size_of::<usize>());

    log::info!(target: "tatsu", "tatsu {} loading apps from {}", env!("CARGO_PKG_VERSION"), settings.plugins_dir.display());
    let (mut apps, problems) = AppManager::start(&settings)?;
    if settings.strict && !problems.is_empty() {
        apps.stop_all(&settings);
        return Err(format!("{} problem(s) loading apps, and --strict is set", problems.len()));
    }
    if let Err(e) = runtime::get().switches.start(settings.switches.clone()) {
        apps.stop_all(&settings);
        return Err(e);
    }
    let _pid_file = match &settings.pid_file {
        Some(path) => Some(PidFile::create(path)?),
        None => None,
    };
    log::info!(target: "tatsu", "running {} app(s): {}", apps.names().len(), apps.names().join(", "));

    let signal = signals::wait().map_err(|e| format!("waiting for signals failed: {e}"))?;
    log::info!(target: "tatsu", "{signal}: stopping");
    apps.stop_all(&settings);
    log::info!(target: "tatsu", "stopped");
    Ok(())
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
        let _ = std::fs::remove_file(&self.0);
    }
}
