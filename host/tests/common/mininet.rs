//! Mininet networks for end-to-end tests (`scripts/mininet-prepare`, `scripts/mininet-check`,
//! `scripts/topology-view-check`): they need root, and only one runs on a machine at a time.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{temp_dir, workspace};

/// Installs Mininet and starts the system Open vSwitch if needed (`scripts/mininet-prepare`, as root).
pub fn prepare() {
    let status = Command::new(workspace().join("scripts/mininet-prepare")).status().expect("mininet-prepare runs");
    assert!(status.success(), "scripts/mininet-prepare failed (the Mininet tests need root)");
}

/// Runs `command` with its output in a file; whether it succeeded, or `None` if it had to be terminated after
/// `limit`, and what it printed.
pub fn run_with_limit(mut command: Command, limit: Duration) -> (Option<bool>, String) {
    let out = temp_dir("mininet-output").join("out");
    let file = std::fs::File::create(&out).expect("output file");
    let errors = file.try_clone().expect("output file");
    let mut child = command.stdout(file).stderr(errors).stdin(Stdio::null()).spawn().expect("the check runs");
    let deadline = Instant::now() + limit;
    let finished = loop {
        if let Some(status) = child.try_wait().expect("wait for the check") {
            break Some(status.success());
        }
        if Instant::now() >= deadline {
            // SIGTERM lets the script stop its network; then make sure it is gone.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    (finished, std::fs::read_to_string(&out).unwrap_or_default())
}
