//! TLS on the OpenFlow channel against a real host, with certificates made by Open vSwitch's `ovs-pki`: bad settings
//! are fatal at start with one line naming the file; switches with a good certificate are served and their
//! certificate's subject reaches apps; bad peers (another CA, no certificate, plain OpenFlow) get one line naming
//! them while the good switch goes on; and a hot restart carries a TLS session on (the record layer's keys and
//! sequence numbers handed over), which the switch's own rustls would refuse if a single record were off.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::fake_switch::FakeSwitch;
use common::pki::Pki;
use common::{install, lib_path, temp_dir, Host};
use tatsu_ofproto::OFP_VERSION_1_3 as V1_3;

fn start(dir: &Path, pki: &Pki, extra: &[&str]) -> Host {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(&plugins, &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")]);
    let mut args: Vec<String> = [
        "run",
        "--plugins-dir",
        &plugins.display().to_string(),
        "--control-socket",
        &dir.join("control.sock").display().to_string(),
        "--pid-file",
        &dir.join("tatsu.pid").display().to_string(),
        "--ofp-listen-host",
        "127.0.0.1",
        "--ofp-ssl-listen-port",
        "0",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    args.extend(pki.host_flags());
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Host::start(&args, &[])
}

/// The TLS port, from the "listening for TLS switches on 127.0.0.1:PORT" line.
fn tls_port(host: &Host) -> u16 {
    let line = host.wait_for(&["listening for TLS switches on"]);
    line.rsplit(':').next().and_then(|port| port.trim().parse().ok()).expect("a port")
}

/// Runs `tatsu run ARGS` expecting it to refuse to start; returns its log.
fn refused(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .arg("run")
        .args(["--plugins-dir", "/nonexistent", "--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", "0"])
        .args(args)
        .output()
        .expect("tatsu runs");
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "tatsu must refuse {args:?}:\n{log}");
    log
}

#[test]
fn bad_tls_settings_are_fatal_with_one_line_naming_the_file() {
    let dir = temp_dir("tls-settings");
    let pki = Pki::make(&dir.join("certs"));
    let (key, cert, ca) =
        (pki.ctl_key.display().to_string(), pki.ctl_cert.display().to_string(), pki.switch_ca.display().to_string());
    let log = refused(&["--ctl-privkey", "/nonexistent/key.pem", "--ctl-cert", &cert, "--ca-certs", &ca]);
    assert!(log.contains("cannot read the controller's private key /nonexistent/key.pem"), "{log}");
    let log = refused(&["--ctl-privkey", &key, "--ctl-cert", &cert, "--ca-certs", "/nonexistent/ca.pem"]);
    assert!(log.contains("/nonexistent/ca.pem"), "{log}");
    let log = refused(&["--ctl-cert", &cert]);
    assert!(log.contains("missing: --ctl-privkey, --ca-certs"), "{log}");
    let log = refused(&[
        "--ctl-privkey",
        &pki.expired_key.display().to_string(),
        "--ctl-cert",
        &pki.expired_cert.display().to_string(),
        "--ca-certs",
        &ca,
    ]);
    assert!(log.contains(&format!("{} expired on 2021-01-01 00:00:00 UTC", pki.expired_cert.display())), "{log}");
    // A key that is not the certificate's.
    let log =
        refused(&["--ctl-privkey", &pki.switch_key.display().to_string(), "--ctl-cert", &cert, "--ca-certs", &ca]);
    assert!(log.contains("do not go together"), "{log}");
    // A file that holds no certificate.
    let log = refused(&["--ctl-privkey", &key, "--ctl-cert", &key, "--ca-certs", &ca]);
    assert!(log.contains("holds no PEM certificate"), "{log}");
    let log = refused(&[
        "--ctl-privkey",
        &key,
        "--ctl-cert",
        &cert,
        "--ca-certs",
        &ca,
        "--ofp-ssl-listen-port",
        "26999",
        "--ofp-tcp-listen-port",
        "26999",
    ]);
    assert!(log.contains("cannot be both the TLS port"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls_switches_are_served_bad_peers_dropped_and_a_hot_restart_keeps_the_session() {
    let dir = temp_dir("tls-serve");
    let pki = Pki::make(&dir.join("certs"));
    let host = start(&dir, &pki, &[]);
    let port = tls_port(&host);
    host.wait_for(&["running"]);

    let good = pki.switch_config(&pki.switch_key, &pki.switch_cert);
    let mut switch = FakeSwitch::connect_tls(port, good.clone()).expect("the TLS handshake succeeds");
    switch.handshake(V1_3, 1, 2);
    let enter = host.wait_for(&["enter 0000000000000001 version 4 ports 2", "tls subject"]);
    assert!(enter.contains("O=Open vSwitch") && enter.contains("CN=sw id:"), "apps see the subject: {enter}");

    // A switch whose certificate another CA signed: refused, one line naming it.
    let stranger = pki.switch_config(&pki.stranger_key, &pki.stranger_cert);
    if let Ok(mut refused) = FakeSwitch::connect_tls(port, stranger) {
        assert!(refused.read().is_none(), "a switch from another CA gets nothing");
    }
    let line = host.wait_for(&["refused: TLS handshake failed: its certificate is not signed by the CA in"]);
    assert!(line.contains("switch 127.0.0.1:") && line.contains(&pki.switch_ca.display().to_string()), "{line}");
    // Plain OpenFlow on the TLS port.
    let mut plain = FakeSwitch::connect(port);
    plain.send_raw(&[V1_3, 0, 0, 8, 0, 0, 0, 1]);
    assert!(plain.closed_within(Duration::from_secs(5)), "plain OpenFlow on the TLS port is dropped");
    host.wait_for(&["refused: TLS handshake failed: it does not speak TLS (it sent 04 00 00 08"]);
    // A switch with no certificate at all.
    if let Ok(mut refused) = FakeSwitch::connect_tls(port, pki.anonymous_config()) {
        assert!(refused.read().is_none(), "a switch without a certificate gets nothing");
    }
    host.wait_for(&["refused: TLS handshake failed: it presented no certificate"]);

    // The good switch was never disturbed: an echo goes round.
    switch.send_raw(&[V1_3, 2, 0, 12, 0, 0, 0, 77, 1, 2, 3, 4]);
    let reply = switch.expect(3);
    assert_eq!((reply.xid, &reply.bytes[8..]), (77, &[1u8, 2, 3, 4][..]));

    // Two hot restarts: the same TLS session goes on (rustls on the switch side checks every record's sequence
    // number and tag), in both directions.
    let socket = dir.join("control.sock");
    for round in 1..=2u32 {
        let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
            .args(["restart", "--control-socket"])
            .arg(&socket)
            .output()
            .expect("tatsu restart runs");
        assert!(output.status.success(), "restart {round}: {}", String::from_utf8_lossy(&output.stderr));
        for xid in 100 * round..100 * round + 50 {
            switch.send_raw(&[V1_3, 2, 0, 8, (xid >> 24) as u8, (xid >> 16) as u8, (xid >> 8) as u8, xid as u8]);
            let reply = switch.expect(3);
            assert_eq!(reply.xid, xid, "round {round}");
        }
    }
    let log = host.log().join("\n");
    assert_eq!(log.matches("took over 1 datapath(s) from the previous host").count(), 2, "{log}");
    let pid: i32 = std::fs::read_to_string(dir.join("tatsu.pid")).expect("pid file").trim().parse().expect("pid");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    // The successor's close ends the session with close_notify: a clean end of stream for the switch's rustls.
    assert!(switch.closed_within(Duration::from_secs(10)), "the host's stop closes the session");
    let _ = std::fs::remove_dir_all(&dir);
}
