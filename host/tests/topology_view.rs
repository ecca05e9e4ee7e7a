//! The topology view in real browsers against a real network: headless Chromium (Debian's `chromium`, driven
//! through the DevTools protocol by `scripts/cdp.py`), then headless Firefox (Debian's `firefox-esr`, through
//! WebDriver BiDi by `scripts/bidi.py`), each opens the page of the `topology-view` app, run with the
//! default apps and a bearer token, while Mininet (Open vSwitch, userspace datapath) runs a torus. The drawn
//! `data-dpid`/`data-link`/`data-mac` elements must equal the REST topology; clicks show a switch's ports and flows
//! and a link's load; a link taken down in Mininet leaves the page without a reload and comes back
//! (`scripts/topology-view-check` does the network and browser side). Screenshots are written under
//! `target/debug/test-artefacts/topology-view/` and their paths printed. Needs root; `scripts/mininet-prepare`
//! installs Mininet and starts the system Open vSwitch.

mod common;

use std::process::Command;
use std::time::Duration;

use common::browser::{chromium, firefox, python_websocket_client, PYTHON};
use common::mininet::{prepare, run_with_limit};
use common::{artifact_dir, install, lib_path, temp_dir, workspace, Host};

const TOKEN: &str = "open sesame/+";

/// Starts tatsu with the default apps and the view on loopback, any free ports, and the token.
fn start_apps() -> Host {
    let plugins = temp_dir("topology-view");
    install(
        &plugins,
        &[
            (&lib_path("topology"), "libtopology.so"),
            (&lib_path("forwarding"), "libforwarding.so"),
            (&lib_path("ofctl_rest"), "libofctl_rest.so"),
            (&lib_path("topology_view"), "libtopology_view.so"),
        ],
    );
    let plugins = plugins.display().to_string();
    let host = Host::start(
        &[
            "run",
            "--strict",
            "--plugins-dir",
            &plugins,
            "--ofp-listen-host",
            "127.0.0.1",
            "--ofp-tcp-listen-port",
            "0",
            "--wsapi-port",
            "0",
            "--wsapi-token",
            TOKEN,
        ],
        &[],
    );
    host.wait_for(&["running 4 app(s)"]);
    host
}

#[test]
fn the_page_draws_the_mininet_network_and_follows_a_link_going_down_and_up_in_chromium_and_firefox() {
    prepare();
    chromium();
    firefox();
    python_websocket_client();
    check_in("chromium");
    check_in("firefox");
}

/// Runs `scripts/topology-view-check` with `browser` against a fresh tatsu; a run that hangs (Mininet very rarely
/// stalls starting a node's shell) is terminated and tried once more.
fn check_in(browser: &str) {
    let screenshots = artifact_dir().join("test-artefacts/topology-view");
    for attempt in 1..=2 {
        let host = start_apps();
        let rest = format!("http://127.0.0.1:{}", host.rest_port());
        let controller = format!("127.0.0.1:{}", host.switch_port());
        let mut command = Command::new(PYTHON);
        command.arg(workspace().join("scripts/topology-view-check"));
        command.args(["--topo", "torus,3,3", "--protocols", "OpenFlow13", "--controller", &controller]);
        command.args(["--rest", &rest, "--token", TOKEN, "--link-down", "s1x1,s1x2", "--timeout", "60"]);
        command.args(["--browser", browser]);
        command.arg("--screenshot").arg(&screenshots);
        let (finished, output) = run_with_limit(command, Duration::from_secs(240));
        let log = host.stop().join("\n");
        println!("{browser}, attempt {attempt}:\n{output}");
        let Some(success) = finished else {
            assert!(attempt < 2, "{browser}: the check hung twice:\n{output}\n--- tatsu log ---\n{log}");
            continue;
        };
        assert!(success, "{browser}:\n{output}\n--- tatsu log ---\n{log}");
        assert!(!log.contains("panicked"), "{browser}: a panic in the log:\n{log}");
        return;
    }
}
