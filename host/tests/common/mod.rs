//! Helpers for the host's integration tests: build the fixture apps, start a real `tatsu` process, read its log.

#![allow(dead_code)] // each test binary uses a different subset

pub mod browser;
pub mod etcd;
pub mod fake_switch;
pub mod http;
pub mod mininet;
pub mod pki;
pub mod testbed;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_owned()
}

/// The directory cargo puts this profile's artifacts in (where the `tatsu` binary is).
pub fn artifact_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_tatsu")).parent().expect("binary has a directory").to_owned()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace());
    command
}

/// Builds the example and fixture apps of the workspace (once per test binary) and returns where they are.
pub fn apps() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut command = cargo();
        command.args(["build", "--quiet"]);
        if artifact_dir().ends_with("release") {
            command.arg("--release");
        }
        for package in [
            "hello",
            "simple-switch",
            "chat",
            "crawler",
            "worker-pool",
            "tatsu-fixture-ping",
            "tatsu-fixture-pong",
            "tatsu-fixture-faulty",
            "tatsu-fixture-not-a-plugin",
            "tatsu-fixture-green-kit",
            "tatsu-fixture-of-probe",
            "tatsu-fixture-flow-marker",
            "tatsu-fixture-http-probe",
            "tatsu-fixture-ws-probe",
            "tatsu-fixture-cluster-probe",
            "tatsu-fixture-bundler",
            "ofctl-rest",
            "topology",
            "forwarding",
            "topology-view",
        ] {
            command.args(["-p", package]);
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "building the fixture apps failed");
        artifact_dir()
    })
}

/// Builds the fixture app whose plugin-api speaks another interface version (its own workspace and target dir).
pub fn foreign_interface_app() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = workspace().join("target").join("foreign-interface");
        let status = cargo()
            .args(["build", "--quiet", "--manifest-path", "host/tests/foreign-interface/Cargo.toml", "--target-dir"])
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the foreign-interface fixture failed");
        target.join("debug").join("libtatsu_fixture_foreign_interface.so")
    })
}

/// The library file of an app built by [`apps`], e.g. `lib_path("tatsu_fixture_ping")`.
pub fn lib_path(crate_name: &str) -> PathBuf {
    apps().join(format!("lib{crate_name}.so"))
}

/// `tatsu run` flags for a host on loopback that takes any free port for switches and for the REST API (read them
/// back with [`Host::switch_port`] and [`Host::rest_port`]).
pub const LOOPBACK_PORTS: [&str; 6] =
    ["--ofp-tcp-listen-port", "0", "--ofp-listen-host", "127.0.0.1", "--wsapi-port", "0"];

/// A fresh, empty directory for one test. The first call in a test binary also removes the directories that
/// earlier test processes left behind (they hold copies of app libraries, up to 100 MB each in debug builds).
pub fn temp_dir(name: &str) -> PathBuf {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(remove_dead_processes_dirs);
    let dir = std::env::temp_dir().join(format!("tatsu-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Removes `tatsu-test-PID-*` directories whose process is gone.
fn remove_dead_processes_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("tatsu-test-").and_then(|rest| rest.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Copies libraries into `dir`, each under the given file name.
pub fn install(dir: &Path, libraries: &[(&Path, &str)]) {
    for (source, name) in libraries {
        std::fs::copy(source, dir.join(name)).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
    }
}

/// A running `tatsu` process whose log (stderr) is collected line by line.
pub struct Host {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Host {
    /// Starts `tatsu` with `args` and extra environment.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Host {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tatsu"));
        command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        command.env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("tatsu starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        Host { child, lines }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything logged so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().expect("log lock").clone()
    }

    /// Waits (at most 20 s) for a log line containing every one of `parts`; returns it.
    pub fn wait_for(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self.log().into_iter().find(|line| parts.iter().all(|part| line.contains(part))) {
                return line;
            }
            assert!(Instant::now() < deadline, "no log line with {parts:?}; log so far:\n{}", self.log().join("\n"));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port the host listens for switches on (from its "listening for switches on ADDRESS:PORT" line).
    pub fn switch_port(&self) -> u16 {
        self.port_in(&["listening for switches on"])
    }

    /// The port of the host's REST API (from its "REST API listening on http://127.0.0.1:PORT" line).
    pub fn rest_port(&self) -> u16 {
        self.port_in(&["REST API listening on http://127.0.0.1:"])
    }

    fn port_in(&self, parts: &[&str]) -> u16 {
        let line = self.wait_for(parts);
        line.rsplit(':').next().and_then(|port| port.trim().parse().ok()).unwrap_or_else(|| panic!("no port in {line}"))
    }

    /// Whether a line containing every one of `parts` was logged.
    pub fn logged(&self, parts: &[&str]) -> bool {
        self.log().iter().any(|line| parts.iter().all(|part| line.contains(part)))
    }

    /// Sends a signal to the host.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"));
        nix::sys::signal::kill(pid, signal).expect("signal delivered");
    }

    /// Waits (at most 20 s) for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader thread drain the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(Instant::now() < deadline, "tatsu did not exit; log:\n{}", self.log().join("\n"));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the whole log.
    pub fn stop(mut self) -> Vec<String> {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let status = self.wait_exit();
        let log = self.log();
        assert!(status.success(), "tatsu exited with {status}; log:\n{}", log.join("\n"));
        log
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many descriptors of process `pid` are the socket listening on TCP `port`.
pub fn listening_descriptors(pid: u32, port: u16) -> usize {
    let mut inodes = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for fields in text.lines().skip(1).map(|line| line.split_whitespace().collect::<Vec<_>>()) {
            let local_port =
                fields.get(1).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && fields.get(3) == Some(&"0A") {
                inodes.extend(fields.get(9).map(|inode| format!("socket:[{inode}]")));
            }
        }
    }
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the host's descriptors")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| inodes.iter().any(|inode| target.as_os_str() == inode.as_str()))
        .count()
}
