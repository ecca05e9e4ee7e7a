//! The host with real app libraries: events, requests, faults, bad files, selection, shutdown.

mod common;

use common::{install, lib_path, temp_dir, Host};
use nix::sys::signal::Signal;

fn dir_arg(dir: &std::path::Path) -> String {
    dir.display().to_string()
}

#[test]
fn apps_exchange_events_and_requests_and_survive_a_panicking_handler() {
    let dir = temp_dir("exchange");
    install(
        &dir,
        &[
            (&lib_path("hello"), "libhello.so"),
            (&lib_path("tatsu_fixture_ping"), "libping.so"),
            (&lib_path("tatsu_fixture_pong"), "libpong.so"),
        ],
    );
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir)], &[]);
    // `ping` requires `pong`, so `pong` starts first whatever the file order.
    let pong_started = host.wait_for(&["started app `pong`"]);
    let ping_started = host.wait_for(&["started app `ping`"]);
    let log = host.log();
    let position = |line: &str| log.iter().position(|l| l == line);
    assert!(position(&pong_started) < position(&ping_started), "pong must start before ping");

    // Events published by one app reach the subscriber in another, in order, and its replies come back.
    for n in 1..=3 {
        host.wait_for(&["pong]", &format!("got ping {n} from ping")]);
    }
    host.wait_for(&["ping]", "ack {\"n\":3}"]);
    // A panicking handler is logged with app and event, and the app goes on with the next event.
    host.wait_for(&["ERROR", "app `pong`", "app event `boom` from `ping`", "boom handler exploded"]);
    host.wait_for(&["got ping 4 from ping"]);
    // Request/reply: answered, timed out, no server, handler error.
    host.wait_for(&["echo reply {\"n\":7}"]);
    host.wait_for(&["slow request timed out", "within 200ms"]);
    host.wait_for(&["no server: no app serves request `nobody.home`"]);
    host.wait_for(&["failed request: pong refuses"]);
    // Green threads: join, a repeating timer, and 100 threads parked for shutdown to stop.
    host.wait_for(&["joined Ok(42)"]);
    host.wait_for(&["timer ticked 3 times"]);
    host.wait_for(&["parked 100 green threads"]);
    // hello saw its own greeting (subscribers include the publisher).
    host.wait_for(&["hello]", "greeting from `hello`"]);

    let log = host.stop();
    let joined = log.join("\n");
    assert!(joined.contains("ping stop hook ran"), "{joined}");
    assert!(joined.contains("stopped app `ping`"), "{joined}");
    assert!(joined.contains("stopped app `pong`") && joined.contains("1 faults"), "{joined}");
    assert!(!joined.contains("did not stop in time"), "every green thread must stop:\n{joined}");
}

#[test]
fn bad_files_are_reported_one_line_each_and_the_rest_runs() {
    let dir = temp_dir("bad-files");
    install(
        &dir,
        &[
            (&lib_path("hello"), "libhello.so"),
            (&lib_path("hello"), "libhello-copy.so"),
            (&lib_path("tatsu_fixture_not_a_plugin"), "libnot_a_plugin.so"),
            (&lib_path("tatsu_fixture_faulty"), "libfaulty.so"),
            (common::foreign_interface_app(), "libforeign.so"),
        ],
    );
    std::fs::write(dir.join("garbage.so"), b"this is not an ELF file").expect("write garbage");
    std::fs::write(dir.join("README.txt"), b"not a library, not even a .so").expect("write readme");
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[app.faulty]\nmode = \"fail-start\"\n").expect("write config");

    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--config", &config.display().to_string()], &[]);
    host.wait_for(&["garbage.so", "not a loadable library"]);
    host.wait_for(&["libnot_a_plugin.so", "not a tatsu app"]);
    host.wait_for(&["libforeign.so", "interface version 6.0.0", "this host speaks 5.0.0"]);
    host.wait_for(&["libhello-copy.so", "app `hello` is already loaded from", "libhello.so"]);
    host.wait_for(&["libfaulty.so", "app `faulty` failed to start", "faulty refuses to start"]);
    host.wait_for(&["running 1 app(s): hello"]);
    let log = host.stop();
    assert!(!log.iter().any(|line| line.contains("README.txt")), "non-.so files are skipped quietly");
}

#[test]
fn strict_mode_makes_any_problem_fatal() {
    let dir = temp_dir("strict");
    install(&dir, &[(&lib_path("hello"), "libhello.so"), (&lib_path("tatsu_fixture_not_a_plugin"), "libnope.so")]);
    let mut host = Host::start(&["run", "--strict", "--plugins-dir", &dir_arg(&dir)], &[]);
    let status = host.wait_exit();
    assert!(!status.success(), "--strict must exit non-zero");
    assert!(host.logged(&["libnope.so", "not a tatsu app"]));
    assert!(host.logged(&["1 problem(s) loading apps, and --strict is set"]));
    assert!(host.logged(&["stopped app `hello`"]), "apps already started are stopped cleanly");
}

#[test]
fn start_panics_and_creation_panics_are_contained() {
    for (mode, expected) in
        [("panic-start", "start panicked: faulty panics in start"), ("panic-new", "faulty panics in new")]
    {
        let dir = temp_dir(mode);
        install(&dir, &[(&lib_path("hello"), "libhello.so"), (&lib_path("tatsu_fixture_faulty"), "libfaulty.so")]);
        let config = dir.join("tatsu.toml");
        std::fs::write(&config, format!("[app.faulty]\nmode = \"{mode}\"\n")).expect("write config");
        let host =
            Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--config", &config.display().to_string()], &[]);
        host.wait_for(&["app `faulty` failed to start", expected]);
        host.wait_for(&["running 1 app(s): hello"]);
        let log = host.stop().join("\n");
        assert!(!log.contains("did not stop in time"), "the sleeper faulty spawned must be stopped:\n{log}");
    }
}

#[test]
fn app_selection_pulls_in_required_apps_and_names_missing_ones() {
    let dir = temp_dir("select");
    install(
        &dir,
        &[
            (&lib_path("hello"), "libhello.so"),
            (&lib_path("tatsu_fixture_ping"), "libping.so"),
            (&lib_path("tatsu_fixture_pong"), "libpong.so"),
        ],
    );
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--app", "ping", "--app", "nosuch"], &[]);
    host.wait_for(&["app `nosuch` was asked for, but no library in"]);
    host.wait_for(&["running 2 app(s): pong, ping"]);
    let log = host.stop().join("\n");
    assert!(!log.contains("started app `hello`"), "hello was not selected:\n{log}");
}

#[test]
fn an_app_that_does_not_autostart_runs_only_when_named() {
    let dir = temp_dir("autostart");
    install(&dir, &[(&lib_path("hello"), "libhello.so"), (&lib_path("simple_switch"), "libsimple_switch.so")]);
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir)], &[]);
    host.wait_for(&["app `simple-switch` not started: it starts only when named"]);
    host.wait_for(&["running 1 app(s): hello"]);
    drop(host.stop());

    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--app", "simple-switch"], &[]);
    host.wait_for(&["running 1 app(s): simple-switch"]);
    drop(host.stop());
}

#[test]
fn log_levels_filter_per_app() {
    let dir = temp_dir("levels");
    install(&dir, &[(&lib_path("hello"), "libhello.so"), (&lib_path("tatsu_fixture_pong"), "libpong.so")]);
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir)], &[("RUST_LOG", "info,hello=warn")]);
    host.wait_for(&["running 2 app(s)"]);
    let log = host.stop().join("\n");
    assert!(!log.contains(" hello]"), "hello's info lines must be filtered out:\n{log}");
    assert!(log.contains("stopped app `hello`"), "{log}");
}

#[test]
fn sigint_stops_as_cleanly_as_sigterm_and_the_pid_file_comes_and_goes() {
    let dir = temp_dir("sigint");
    install(&dir, &[(&lib_path("hello"), "libhello.so")]);
    let pid_file = dir.join("tatsu.pid");
    let mut host =
        Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--pid-file", &pid_file.display().to_string()], &[]);
    host.wait_for(&["running 1 app(s): hello"]);
    let pid = std::fs::read_to_string(&pid_file).expect("pid file exists while running");
    assert!(pid.trim().parse::<u32>().is_ok(), "pid file holds a pid: {pid:?}");
    host.signal(Signal::SIGINT);
    assert!(host.wait_exit().success());
    assert!(host.logged(&["SIGINT: stopping"]));
    assert!(!pid_file.exists(), "the pid file is removed at exit");
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = temp_dir("bad-config");
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[tatsu]\nplugin_dir = \"/nowhere\"\n").expect("write config");
    let mut host = Host::start(&["run", "--config", &config.display().to_string()], &[]);
    assert!(!host.wait_exit().success());
    assert!(
        host.logged(&["tatsu.toml", "plugin_dir"]),
        "the error names the file and the key:\n{}",
        host.log().join("\n")
    );
}

#[test]
fn the_watchdog_names_an_app_that_blocks_its_scheduler_thread() {
    let dir = temp_dir("watchdog");
    install(&dir, &[(&lib_path("tatsu_fixture_faulty"), "libfaulty.so")]);
    let config = dir.join("tatsu.toml");
    std::fs::write(&config, "[app.faulty]\nmode = \"block\"\n").expect("write config");
    let host = Host::start(
        &["run", "--plugins-dir", &dir_arg(&dir), "--config", &config.display().to_string(), "--watchdog-ms", "150"],
        &[],
    );
    host.wait_for(&["WARN", "tatsu::watchdog", "app `faulty` has run for", "without yielding"]);
    host.stop();
}
