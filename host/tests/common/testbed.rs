//! The Open vSwitch test network (`scripts/ovs-testbed`) for end-to-end tests. Only one can exist on a machine:
//! the tests that use it each live in their own test binary, and cargo runs test binaries one after another.

use std::process::{Command, Output};

use super::workspace;

/// Runs `scripts/ovs-testbed ARGS`.
pub fn run(args: &[&str]) -> Output {
    Command::new(workspace().join("scripts/ovs-testbed")).args(args).output().expect("scripts/ovs-testbed runs")
}

/// Runs `scripts/ovs-testbed ARGS`, which must succeed; returns what it printed.
pub fn ok(args: &[&str]) -> String {
    let output = run(args);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "ovs-testbed {args:?} failed:\n{text}");
    text
}

/// Checks the tests can build a testbed here (root, for network namespaces) and installs what it needs.
pub fn prepare() {
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the Open vSwitch tests need root (network namespaces)"
    );
    ok(&["install"]);
}

/// Tears the testbed down when dropped, even when an assertion failed.
pub struct Testbed;

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = run(&["down"]);
    }
}
