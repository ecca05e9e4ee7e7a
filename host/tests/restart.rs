//! Hot restart on loopback: switches keep sending through handovers and nothing is lost or duplicated; failed
//! successors leave the running host serving; `tatsu load` adds apps to a running host.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_switch::{FakeSwitch, V1_3};
use common::{install, lib_path, temp_dir, Host};

struct Running {
    host: Host,
    port: u16,
    socket: PathBuf,
    pid_file: PathBuf,
    dir: PathBuf,
}

fn start(name: &str, libraries: &[(&Path, &str)], config: &str, extra: &[&str]) -> Running {
    let dir = temp_dir(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    install(&plugins, libraries);
    std::fs::write(dir.join("tatsu.toml"), config).expect("config");
    let socket = dir.join("control.sock");
    let pid_file = dir.join("tatsu.pid");
    let (plugins_arg, config_arg) = (plugins.display().to_string(), dir.join("tatsu.toml").display().to_string());
    let (socket_arg, pid_arg) = (socket.display().to_string(), pid_file.display().to_string());
    let mut args = vec![
        "run",
        "--plugins-dir",
        &plugins_arg,
        "--config",
        &config_arg,
        "--control-socket",
        &socket_arg,
        "--pid-file",
        &pid_arg,
        "--ofp-tcp-listen-port",
        "0",
        "--ofp-listen-host",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    let host = Host::start(&args, &[]);
    let port = host.switch_port();
    host.wait_for(&["running"]);
    Running { host, port, socket, pid_file, dir }
}

/// Runs `tatsu <command> --control-socket ...`; returns success and everything it printed.
fn control(socket: &Path, command: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tatsu"))
        .args(command)
        .arg("--control-socket")
        .arg(socket)
        .env("RUST_LOG", "error")
        .output()
        .expect("tatsu client runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

impl Running {
    /// Stops whichever host holds the pid file now (after restarts, not our child) and waits for it to exit.
    fn stop(mut self) -> Vec<String> {
        let pid: i32 = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .expect("pid file holds the running host's pid");
        if u32::try_from(pid).ok() == Some(self.host.pid()) {
            // Never restarted: our own child.
            self.host.signal(nix::sys::signal::Signal::SIGTERM);
            assert!(self.host.wait_exit().success());
            let _ = std::fs::remove_dir_all(&self.dir);
            return self.host.log();
        }
        let pid = nix::unistd::Pid::from_raw(pid);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal the host");
        let deadline = Instant::now() + Duration::from_secs(20);
        while nix::sys::signal::kill(pid, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(nix::sys::signal::kill(pid, None).is_err(), "the host exits");
        std::thread::sleep(Duration::from_millis(100));
        let _ = std::fs::remove_dir_all(&self.dir);
        self.host.log()
    }
}

#[test]
fn switches_sending_through_two_handovers_lose_and_duplicate_nothing() {
    let running = start("handover", &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")], "", &[]);
    const MESSAGES: u32 = 600;
    let mut workers = Vec::new();
    let closed = Arc::new(Mutex::new(Vec::new()));
    for dpid in 1..=3u64 {
        let mut switch = FakeSwitch::connect(running.port);
        switch.handshake(V1_3, dpid, 2);
        running.host.wait_for(&[&format!("enter {dpid:016x} version 4 ports 2")]);
        let mut reader = switch.try_clone();
        let closed = Arc::clone(&closed);
        let replies = std::thread::spawn(move || {
            let mut xids = Vec::new();
            while xids.len() < MESSAGES as usize {
                match reader.read() {
                    Some(frame) if frame.msg_type == 3 => xids.push(frame.xid),
                    Some(_) => {}
                    None => {
                        closed.lock().expect("lock").push(dpid);
                        break;
                    }
                }
            }
            xids
        });
        let sender = std::thread::spawn(move || {
            for xid in 1..=MESSAGES {
                switch.send_raw(&[
                    V1_3,
                    2,
                    0,
                    12,
                    (xid >> 24) as u8,
                    (xid >> 16) as u8,
                    (xid >> 8) as u8,
                    xid as u8,
                    1,
                    2,
                    3,
                    4,
                ]);
                std::thread::sleep(Duration::from_millis(3));
            }
            switch
        });
        workers.push((dpid, sender, replies));
    }
    // Two restarts while all three switches send.
    std::thread::sleep(Duration::from_millis(300));
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(ok, "first restart: {text}");
    assert!(text.contains("restarted: the successor host is pid"), "{text}");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(ok, "second restart: {text}");

    let mut switches = Vec::new();
    for (dpid, sender, replies) in workers {
        switches.push(sender.join().expect("sender"));
        let xids = replies.join().expect("reader");
        let expected: Vec<u32> = (1..=MESSAGES).collect();
        assert_eq!(xids, expected, "datapath {dpid}: every echo answered exactly once, in order");
    }
    assert!(closed.lock().expect("lock").is_empty(), "no switch saw its connection close");
    running.host.wait_for(&["took over 3 datapath(s) from the previous host"]);
    running.host.wait_for(&["enter 0000000000000001 version 4 ports 2 resumed"]);
    running.host.wait_for(&["restored: 0 packet-ins so far, generation 3"]);
    let log = running.host.log().join("\n");
    assert!(!log.contains("disconnected"), "no connection was dropped:\n{log}");
    running.stop();
    drop(switches);
}

#[test]
fn a_successor_that_cannot_start_leaves_the_running_host_serving() {
    let config = "[app.faulty]\nmode = \"\"\n";
    let running =
        start("failing-successor", &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")], config, &["--strict"]);
    let mut switch = FakeSwitch::connect(running.port);
    switch.handshake(V1_3, 4, 1);
    running.host.wait_for(&["enter 0000000000000004"]);
    let config_path = running.dir.join("tatsu.toml");
    let plugins = running.dir.join("plugins");

    // A bad config file.
    std::fs::write(&config_path, "[tatsu]\nworkers = \"many\"\n").expect("break the config");
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(!ok, "restart must fail: {text}");
    assert!(text.contains("the successor failed to start") && text.contains("tatsu.toml"), "{text}");
    std::fs::write(&config_path, config).expect("mend the config");

    // An app that fails to start, under --strict.
    install(&plugins, &[(&lib_path("tatsu_fixture_faulty"), "libfaulty.so")]);
    std::fs::write(&config_path, "[app.faulty]\nmode = \"fail-start\"\n").expect("config");
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(!ok, "restart must fail: {text}");
    assert!(text.contains("--strict"), "{text}");

    // An app that kills its process while starting.
    std::fs::write(&config_path, "[app.faulty]\nmode = \"abort-start\"\n").expect("config");
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(!ok, "restart must fail: {text}");
    assert!(text.contains("exited or timed out before it was ready"), "{text}");

    // Through all that, the first host kept the switch: an echo request is answered on the same connection.
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 42]);
    assert_eq!(switch.expect(3).xid, 42);

    // Mended, a restart goes through.
    std::fs::write(&config_path, config).expect("config");
    let (ok, text) = control(&running.socket, &["restart"]);
    assert!(ok, "{text}");
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 43]);
    assert_eq!(switch.expect(3).xid, 43);
    running.stop();
}

/// One plain HTTP/1.0 GET; returns the whole response.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the REST server");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes()).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn sighup_restarts_too_and_the_rest_server_carries_on() {
    let running = start(
        "sighup",
        &[
            (&lib_path("tatsu_fixture_of_probe"), "libof_probe.so"),
            (&lib_path("tatsu_fixture_http_probe"), "libhttp_probe.so"),
        ],
        "",
        &["--wsapi-port", "0"],
    );
    let http_port = running.host.rest_port();
    assert!(http_get(http_port, "/probe/echo/before").starts_with("HTTP/1.1 200"));
    let mut switch = FakeSwitch::connect(running.port);
    switch.handshake(V1_3, 8, 1);
    running.host.wait_for(&["enter 0000000000000008"]);
    running.host.signal(nix::sys::signal::Signal::SIGHUP);
    running.host.wait_for(&["took over 1 datapath(s) from the previous host"]);
    switch.send_raw(&[V1_3, 2, 0, 8, 0, 0, 0, 9]);
    assert_eq!(switch.expect(3).xid, 9);
    // The successor serves HTTP on the same port, from the inherited listening socket.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http_get(http_port, "/probe/echo/after");
        if response.starts_with("HTTP/1.1 200")
            && running.host.logged(&["REST API listening", &format!(":{http_port}")])
        {
            break;
        }
        assert!(Instant::now() < deadline, "the successor serves HTTP: {response}");
        std::thread::sleep(Duration::from_millis(50));
    }
    running.stop();
}

#[test]
fn load_adds_new_apps_and_refuses_changed_ones() {
    let running = start("load", &[(&lib_path("tatsu_fixture_of_probe"), "libof_probe.so")], "", &[]);
    let hello = running.dir.join("libhello.so");
    std::fs::copy(lib_path("hello"), &hello).expect("copy hello");
    let (ok, text) = control(&running.socket, &["load", &hello.display().to_string()]);
    assert!(ok, "{text}");
    assert!(text.contains("loaded app `hello`"), "{text}");
    running.host.wait_for(&["loaded and started app `hello`"]);
    let (ok, text) = control(&running.socket, &["status"]);
    assert!(ok && text.contains("apps=of-probe,hello"), "{text}");

    let (ok, text) = control(&running.socket, &["load", &hello.display().to_string()]);
    assert!(!ok && text.contains("already loaded") && text.contains("tatsu restart"), "{text}");
    let changed = running.dir.join("libhello-v2.so");
    std::fs::copy(lib_path("hello"), &changed).expect("copy hello again");
    let (ok, text) = control(&running.socket, &["load", &changed.display().to_string()]);
    assert!(!ok && text.contains("`hello` is already running") && text.contains("never unloaded"), "{text}");
    let garbage = running.dir.join("garbage.so");
    std::fs::write(&garbage, b"nope").expect("garbage");
    let (ok, text) = control(&running.socket, &["load", &garbage.display().to_string()]);
    assert!(!ok && text.contains("not a loadable library"), "{text}");
    running.stop();
}
