//! Apps: loading libraries from the plugins directory, choosing and ordering apps, starting and stopping them
//! (Ryu's AppManager).

pub mod loader;
mod runner;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::bus::queue::EventQueue;
use crate::config::Settings;
use crate::green::ThreadGroup;
use loader::Library;
use runner::RunningApp;

/// Everything the host keeps about one app while it runs; leaked, so its address is the app's ABI handle.
pub struct AppState {
    /// The app's name.
    pub name: Arc<str>,
    /// Its event queue.
    pub queue: EventQueue,
    /// Its green threads.
    pub group: Arc<ThreadGroup>,
    handled: AtomicU64,
    faults: AtomicU64,
}

impl AppState {
    fn new(name: &str, queue_capacity: usize) -> Self {
        AppState {
            name: Arc::from(name),
            queue: EventQueue::new(name, queue_capacity),
            group: ThreadGroup::new(name),
            handled: AtomicU64::new(0),
            faults: AtomicU64::new(0),
        }
    }

    /// Counts a handler panic or failure.
    pub fn count_fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    fn count_handled(&self, n: usize) {
        self.handled.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The problems found while loading and starting apps: each was logged when found.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    fn report(&mut self, problem: String) {
        log::error!(target: "tatsu::apps", "{problem}");
        self.0.push(problem);
    }

    /// How many problems there were.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there were none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The running apps, in start order.
pub struct AppManager {
    running: Vec<RunningApp>,
}

impl AppManager {
    /// Loads the plugins directory and starts the chosen apps in dependency order. Problems with single files or
    /// apps are logged and skipped (returned, for `--strict`); only an unreadable plugins directory is an error.
    pub fn start(settings: &Settings) -> Result<(AppManager, Problems), String> {
        let mut problems = Problems::default();
        let dir = &settings.plugins_dir;
        let files =
            loader::discover(dir).map_err(|e| format!("cannot read the plugins directory {}: {e}", dir.display()))?;
        let mut libraries: BTreeMap<String, Library> = BTreeMap::new();
        for file in files {
            match loader::load(&file) {
                Ok(library) => {
                    let name = library.descriptor.name.to_string();
                    if let Some(first) = libraries.get(&name) {
                        problems.report(format!(
                            "{}: app `{name}` is already loaded from {}; this copy is skipped",
                            file.display(),
                            first.path.display()
                        ));
                    } else {
                        libraries.insert(name, library);
                    }
                }
                Err(reason) => problems.report(format!("{}: {reason}", file.display())),
            }
        }
        let order = start_order(&libraries, &settings.apps, &mut problems, dir);
        let mut manager = AppManager { running: Vec::new() };
        let mut failed: Vec<String> = Vec::new();
        for name in order {
            let Some(library) = libraries.get(&name) else {
                continue;
            };
            if let Some(dependency) =
                library.descriptor.requires.iter().find(|r| failed.iter().any(|f| f == r.as_str()))
            {
                problems.report(format!("app `{name}` not started: it requires `{dependency}`, which failed"));
                failed.push(name);
                continue;
            }
            let state: &'static AppState = Box::leak(Box::new(AppState::new(&name, settings.queue_capacity)));
            let config = settings.app_config.get(&name).map(|value| value.to_string()).unwrap_or_default();
            match runner::launch(state, library.module, config, settings) {
                Ok(app) => {
                    log::info!(
                        target: "tatsu::apps",
                        "started app `{name}` from {}",
                        library.path.display()
                    );
                    manager.running.push(app);
                }
                Err(reason) => {
                    problems.report(format!("{}: app `{name}` failed to start: {reason}", library.path.display()));
                    failed.push(name);
                }
            }
        }
        Ok((manager, problems))
    }

    /// The names of the running apps, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.running.iter().map(|app| &*app.state.name).collect()
    }

    /// Stops every app, last started first, each within `settings.stop_timeout`.
    pub fn stop_all(&mut self, settings: &Settings) {
        while let Some(app) = self.running.pop() {
            app.stop(Instant::now() + settings.stop_timeout);
        }
    }
}

/// Chooses the apps to start (the requested ones and what they require, or all) and orders them so that every app
/// starts after the apps it requires.
fn start_order(
    libraries: &BTreeMap<String, Library>,
    requested: &[String],
    problems: &mut Problems,
    dir: &std::path::Path,
) -> Vec<String> {
    let roots: Vec<String> = if requested.is_empty() {
        libraries.keys().cloned().collect()
    } else {
        for name in requested.iter().filter(|name| !libraries.contains_key(*name)) {
            problems.report(format!("app `{name}` was asked for, but no library in {} provides it", dir.display()));
        }
        requested.iter().filter(|name| libraries.contains_key(*name)).cloned().collect()
    };
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
        Broken,
    }
    fn visit(
        name: &str,
        libraries: &BTreeMap<String, Library>,
        marks: &mut HashMap<String, Mark>,
        order: &mut Vec<String>,
        problems: &mut Problems,
    ) -> bool {
        match marks.get(name) {
            Some(Mark::Done) => return true,
            Some(Mark::Broken) => return false,
            Some(Mark::Visiting) => {
                problems.report(format!("app `{name}` is part of a `requires` cycle; not started"));
                marks.insert(name.to_owned(), Mark::Broken);
                return false;
            }
            None => {}
        }
        let Some(library) = libraries.get(name) else {
            return false;
        };
        marks.insert(name.to_owned(), Mark::Visiting);
        for dependency in library.descriptor.requires.iter() {
            if !libraries.contains_key(dependency.as_str()) {
                problems
                    .report(format!("app `{name}` requires `{dependency}`, which no library provides; not started"));
                marks.insert(name.to_owned(), Mark::Broken);
                return false;
            }
            if !visit(dependency, libraries, marks, order, problems) {
                if marks.get(name) != Some(&Mark::Broken) {
                    problems.report(format!("app `{name}` requires `{dependency}`, which cannot start; not started"));
                }
                marks.insert(name.to_owned(), Mark::Broken);
                return false;
            }
        }
        marks.insert(name.to_owned(), Mark::Done);
        order.push(name.to_owned());
        true
    }
    let mut marks = HashMap::new();
    let mut order = Vec::new();
    for root in roots {
        visit(&root, libraries, &mut marks, &mut order, problems);
    }
    order
}
