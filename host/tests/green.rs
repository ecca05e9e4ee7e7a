//! The green-thread kit inside a real host: each primitive's semantics (fixture `green-kit`), shutdown reaching
//! threads parked in every kind of blocking call, and the `worker-pool` example.

mod common;

use common::{install, lib_path, temp_dir, Host};

/// The scenarios `green-kit` runs, in order; each logs `green-kit: <name> ok` or `... FAILED: <details>`.
const SCENARIOS: &[&str] = &[
    "event",
    "queue fifo",
    "queue bounded",
    "queue getters fifo",
    "queue many producers and consumers",
    "semaphore",
    "semaphore fifo",
    "semaphore bound",
    "pool spawn waits while full",
    "pool resize",
    "pool panic frees the slot",
    "pool bound",
    "pool imap in order",
    "pile in order",
    "timeout fires",
    "timeout finishes first",
    "timeout cannot interrupt work that never blocks",
    "timeout nested outer fires",
    "timeout nested inner fires",
    "timeout nested both fire",
    "timeout nested both fired before blocking",
    "timeout around blocking primitives",
    "timeout lets a panic through",
    "timer repeats",
    "spawn_after",
];

/// Where `green-kit` parks threads before the host is stopped.
const PARKED: &[&str] = &[
    "sleep",
    "queue get",
    "queue put",
    "event wait",
    "semaphore acquire",
    "a pool worker's sleep",
    "pool spawn",
    "pool waitall",
    "join",
    "a timeout's queue get",
];

fn dir_arg(dir: &std::path::Path) -> String {
    dir.display().to_string()
}

fn position(log: &[String], parts: &[&str]) -> Option<usize> {
    log.iter().position(|line| parts.iter().all(|part| line.contains(part)))
}

fn green_kit_with_workers(workers: &str) {
    let dir = temp_dir(&format!("green-kit-{workers}"));
    install(&dir, &[(&lib_path("tatsu_fixture_green_kit"), "libgreen_kit.so")]);
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--workers", workers], &[]);
    for scenario in SCENARIOS {
        let line = host.wait_for(&["green-kit: ", scenario]);
        assert!(line.ends_with(&format!("green-kit: {scenario} ok")), "scenario `{scenario}`: {line}");
    }
    if workers == "1" {
        // On one scheduler thread both nested timeouts have fired when the inner one catches the unwind: it must
        // let it pass to the outer one (see the scenario).
        host.wait_for(&["green-kit: nesting: the inner timeout let the outer one's unwind pass"]);
    }
    host.wait_for(&["green-kit: scenarios done, 0 failed"]);
    host.wait_for(&["green-kit: parked 10 threads"]);

    let log = host.stop();
    let joined = log.join("\n");
    assert!(!joined.contains("FAILED"), "{joined}");
    assert!(!joined.contains("did not stop in time"), "every green thread must stop:\n{joined}");
    // The two deliberate panics (in a pool thread, inside a Timeout) are the app's only faults.
    let stopped = position(&log, &["stopped app `green-kit`", "2 faults"])
        .unwrap_or_else(|| panic!("no `stopped app` line with 2 faults:\n{joined}"));
    let hook = position(&log, &["green-kit: stop hook ran"]).unwrap_or_else(|| panic!("no stop hook:\n{joined}"));
    for what in PARKED {
        let unwound = position(&log, &[&format!("green-kit: stopped while parked in {what}")])
            .unwrap_or_else(|| panic!("the thread parked in {what} was not unwound by the stop:\n{joined}"));
        assert!(hook < unwound && unwound < stopped, "the thread parked in {what} stopped out of turn:\n{joined}");
    }
}

#[test]
fn green_kit_on_one_scheduler_thread() {
    green_kit_with_workers("1");
}

/// Several scheduler threads exercise the races: a Timeout's helper firing while the work runs on another thread,
/// wake-ups crossing threads, coroutines finishing in a fast wake-up (see `host::timer::release_later`).
#[test]
fn green_kit_on_four_scheduler_threads() {
    green_kit_with_workers("4");
}

/// Takes the number right before `word` in `line` (e.g. `3` in "... 3 panicked ...").
fn number_before(line: &str, word: &str) -> u64 {
    let before = line.split(word).next().unwrap_or("");
    let digits: String = before.trim_end().chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().unwrap_or_else(|_| panic!("no number before `{word}` in {line}"))
}

#[test]
fn worker_pool_processes_jobs_survives_panics_and_drains_at_stop() {
    let dir = temp_dir("worker-pool");
    install(&dir, &[(&lib_path("worker_pool"), "libworker_pool.so")]);
    let config = dir.join("tatsu.toml");
    std::fs::write(
        &config,
        "[app.worker-pool]\nworkers = 8\njobs_per_second = 0\njob_ms = 2\npanic_every = 10\nreport_every = 100\n",
    )
    .expect("write config");
    let host = Host::start(&["run", "--plugins-dir", &dir_arg(&dir), "--config", &config.display().to_string()], &[]);
    host.wait_for(&["worker-pool]", "8 workers"]);
    // A panicking job is logged against the app...
    host.wait_for(&["ERROR", "app `worker-pool`", "job #10 fails on purpose"]);
    // ...and the pool goes on: by 300 jobs done, some 30 workers have panicked, far more than the pool's 8 slots,
    // so each one was replaced.
    host.wait_for(&["worker-pool]", "processed 300 jobs"]);

    let log = host.stop();
    let joined = log.join("\n");
    assert!(!joined.contains("did not stop in time"), "{joined}");
    let summary = log
        .iter()
        .find(|line| line.contains("worker-pool drained in"))
        .unwrap_or_else(|| panic!("the stop hook did not drain cleanly:\n{joined}"));
    let stopped = log
        .iter()
        .find(|line| line.contains("stopped app `worker-pool`"))
        .unwrap_or_else(|| panic!("no `stopped app` line:\n{joined}"));
    let panicked = number_before(summary, "panicked");
    assert!(panicked >= 30, "{summary}");
    assert_eq!(panicked, number_before(stopped, "faults"), "every panic was counted as a fault:\n{joined}");
    assert!(number_before(summary, "done") >= 300, "{summary}");
    let busiest = number_before(summary, "workers busy");
    assert!((1..=8).contains(&busiest), "at most 8 workers at once: {summary}");
}
