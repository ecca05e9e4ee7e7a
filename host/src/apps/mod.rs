//! Apps: loading libraries from the plugins directory, choosing and ordering apps, starting and stopping them
//! (Ryu's AppManager).

mod deferred;
pub mod loader;
mod runner;
pub mod services;
mod state;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::bus::queue::Admission;
use crate::bus::Event;
use loader::Library;
use runner::RunningApp;
pub use state::{AppSettings, AppState, HostParts};

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
    settings: AppSettings,
    host: HostParts,
    running: Vec<RunningApp>,
    /// Every library file loaded into this process (never unloaded).
    loaded_files: Vec<PathBuf>,
}

impl AppManager {
    /// Loads the plugins directory and starts the chosen apps in dependency order. Problems with single files or
    /// apps are logged and skipped (returned, for `--strict`); only an unreadable plugins directory is an error.
    pub fn start(settings: AppSettings, host: HostParts) -> Result<(AppManager, Problems), String> {
        let mut problems = Problems::default();
        let dir = &settings.plugins_dir;
        let files =
            loader::discover(dir).map_err(|e| format!("cannot read the plugins directory {}: {e}", dir.display()))?;
        let mut libraries: BTreeMap<String, Library> = BTreeMap::new();
        let mut loaded_files = Vec::new();
        for file in files {
            let loaded = loader::load(&file);
            if loaded.is_ok() {
                loaded_files.push(file.canonicalize().unwrap_or_else(|_| file.clone()));
            }
            match loaded {
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
        let order = start_order(&libraries, &settings.selected, &mut problems, dir);
        let mut manager = AppManager { settings: settings.clone(), host, running: Vec::new(), loaded_files };
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
            match manager.launch(&name, library) {
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

    /// Creates and starts app `name` from `library`.
    fn launch(&self, name: &str, library: &Library) -> Result<RunningApp, String> {
        let state = AppState::new(name, self.settings.queue_capacity, &self.host);
        let config = self.settings.config.get(name).map(|value| value.to_string()).unwrap_or_default();
        runner::launch(state, library.module, config, &self.settings)
    }

    /// Stops every app, last started first, each within the stop timeout.
    pub fn stop_all(&mut self) {
        while let Some(app) = self.running.pop() {
            app.stop(Instant::now() + self.settings.stop_timeout, false);
        }
    }

    /// Stops every app like [`AppManager::stop_all`], first collecting the state each saves for its successor.
    pub fn stop_all_saving(&mut self) -> Vec<(String, serde_json::Value)> {
        let mut saved = Vec::new();
        while let Some(app) = self.running.pop() {
            let name = app.state.name.to_string();
            let state = app.stop(Instant::now() + self.settings.stop_timeout, true);
            if let Some(state) = state {
                match serde_json::from_str(&state) {
                    Ok(value) => saved.push((name, value)),
                    Err(e) => log::warn!(target: "tatsu::apps", "app `{name}` saved a state that is not JSON: {e}"),
                }
            }
        }
        saved
    }

    /// Waits (at most `within`) until every app has handled the events queued for it.
    pub fn wait_drained(&self, within: std::time::Duration) -> bool {
        let deadline = Instant::now() + within;
        while !self.running.iter().all(RunningApp::is_drained) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        true
    }

    /// Hands each app the state its predecessor saved.
    pub fn restore(&self, states: Vec<(String, serde_json::Value)>) {
        for (name, state) in states {
            match self.running.iter().find(|app| *app.state.name == *name) {
                Some(app) => {
                    let event = Event::Restore { state: Arc::from(state.to_string()) };
                    let _ = app.state.mailbox.queue.push(event, Admission::Always);
                }
                None => log::info!(target: "tatsu::apps", "saved state of app `{name}` dropped: it is not running"),
            }
        }
    }

    /// Loads and starts an app never loaded before into the running host (`tatsu load`). A file already loaded
    /// and an app already running are refused: libraries are never unloaded, so a changed app needs a restart.
    pub fn load(&mut self, path: &Path) -> Result<String, String> {
        let canonical = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
        if self.loaded_files.contains(&canonical) {
            return Err(format!(
                "{} is already loaded; a changed or removed app takes effect with `tatsu restart` \
                 (libraries are never unloaded)",
                path.display()
            ));
        }
        let library = loader::load(&canonical).map_err(|reason| format!("{}: {reason}", path.display()))?;
        self.loaded_files.push(canonical);
        let name = library.descriptor.name.to_string();
        if self.names().contains(&name.as_str()) {
            return Err(format!(
                "app `{name}` is already running; loading a changed build of it needs `tatsu restart` \
                 (libraries are never unloaded)"
            ));
        }
        if let Some(missing) = library.descriptor.requires.iter().find(|r| !self.names().contains(&r.as_str())) {
            return Err(format!("app `{name}` requires `{missing}`, which is not running"));
        }
        let app = self
            .launch(&name, &library)
            .map_err(|reason| format!("{}: app `{name}` failed to start: {reason}", path.display()))?;
        log::info!(target: "tatsu::apps", "loaded and started app `{name}` from {}", path.display());
        self.running.push(app);
        Ok(name)
    }
}

/// Chooses the apps to start (the requested ones and what they require, or every app that starts by default) and
/// orders them so that every app
/// starts after the apps it requires.
fn start_order(
    libraries: &BTreeMap<String, Library>,
    requested: &[String],
    problems: &mut Problems,
    dir: &std::path::Path,
) -> Vec<String> {
    let roots: Vec<String> = if requested.is_empty() {
        for (name, _) in libraries.iter().filter(|(_, library)| !library.descriptor.autostart) {
            log::info!(target: "tatsu::apps", "app `{name}` not started: it starts only when named (`--app {name}`)");
        }
        libraries.iter().filter(|(_, library)| library.descriptor.autostart).map(|(name, _)| name.clone()).collect()
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
