//! What the browser tests need from Debian: Chromium, Firefox, and Python's websocket-client (for clients written
//! in Python, and for `scripts/cdp.py` and `scripts/bidi.py`, which drive the browsers). Installed with apt when
//! missing and this runs as root.

use std::process::Command;

/// Debian's Python, which Debian's `python3-websocket` is installed for (a `python3` earlier in `PATH` may be
/// another).
pub const PYTHON: &str = "/usr/bin/python3";

fn apt_install(package: &str) -> bool {
    let status = Command::new("apt-get")
        .args(["install", "-y", "-q", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    status.is_ok_and(|s| s.success())
}

/// Makes sure Debian's websocket-client is there.
pub fn python_websocket_client() {
    let importable = || Command::new(PYTHON).args(["-c", "import websocket"]).status().is_ok_and(|s| s.success());
    if !importable() {
        assert!(
            apt_install("python3-websocket") && importable(),
            "needs python3-websocket (apt-get install python3-websocket)"
        );
    }
}

/// Debian's Chromium (`apt-get install chromium`); its command.
pub fn chromium() -> &'static str {
    let present = || Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    if !present() {
        assert!(apt_install("chromium") && present(), "needs chromium (apt-get install chromium)");
    }
    "chromium"
}

/// Debian's Firefox (`apt-get install firefox-esr`); its command.
pub fn firefox() -> &'static str {
    let present = || Command::new("firefox-esr").arg("--version").output().is_ok_and(|o| o.status.success());
    if !present() {
        assert!(apt_install("firefox-esr") && present(), "needs firefox-esr (apt-get install firefox-esr)");
    }
    "firefox-esr"
}
