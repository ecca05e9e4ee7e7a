//! `scripts/new-app` makes a crate outside the workspace that builds against plugin-api and loads unchanged.

mod common;

use std::process::Command;

use common::{temp_dir, workspace, Host};

#[test]
fn a_scaffolded_app_outside_the_workspace_builds_and_runs_in_the_host() {
    let parent = temp_dir("new-app");
    let status = Command::new(workspace().join("scripts/new-app"))
        .args(["my-first-app"])
        .arg(&parent)
        .status()
        .expect("scripts/new-app runs");
    assert!(status.success());
    let crate_dir = parent.join("my-first-app");
    assert!(crate_dir.join("src/lib.rs").is_file());

    // Share one target dir across runs so the dependencies build once.
    let target = workspace().join("target").join("new-app");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&crate_dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the scaffolded app must build as generated");

    let plugins = parent.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(target.join("debug/libmy_first_app.so"), plugins.join("libmy_first_app.so")).expect("copy app");
    let host = Host::start(&["run", "--strict", "--plugins-dir", &plugins.display().to_string()], &[]);
    host.wait_for(&["my-first-app]", "my-first-app started"]);
    host.wait_for(&["running 1 app(s): my-first-app"]);
    let log = host.stop().join("\n");
    assert!(log.contains("stopping after 0 events"), "{log}");
}
