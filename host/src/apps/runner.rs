//! One app's life: created and started on its own green thread, which then runs its event loop (Ryu's
//! `_event_loop`) until the app stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use abi_stable::std_types::{RResult, RSlice, RStr};
use tatsu_abi::{AppModuleRef, DatapathStates, EventKind, EventRef, HostContext};

use super::AppState;
use crate::api;
use crate::bus::Event;
use crate::config::Settings;
use crate::{runtime, watchdog};

/// Most events handed to an app in one crossing of the ABI.
const MAX_BATCH: usize = 256;

/// A started app.
pub struct RunningApp {
    pub(super) state: &'static AppState,
    finished: mpsc::Receiver<()>,
    save: Arc<AtomicBool>,
    saved: mpsc::Receiver<String>,
}

/// Creates and starts the app on its event-loop green thread, waiting (this is the main thread) until it is
/// running or has failed.
pub fn launch(
    state: &'static AppState,
    module: AppModuleRef,
    config_json: String,
    settings: &Settings,
) -> Result<RunningApp, String> {
    let (started_tx, started_rx) = mpsc::channel::<Result<(), String>>();
    let (finished_tx, finished_rx) = mpsc::channel::<()>();
    let (saved_tx, saved_rx) = mpsc::channel::<String>();
    let save = Arc::new(AtomicBool::new(false));
    let save_requested = Arc::clone(&save);
    let spawned = state.group.spawn("event loop", move || {
        if let Some(me) = crate::green::current() {
            state.queue.set_consumer(me);
        }
        let host = HostContext { services: api::services(), app: api::handle_of(state) };
        let created = watchdog::run_app(state, || module.create()(host, RStr::from(config_json.as_str())));
        let mut app = match created {
            RResult::ROk(app) => app,
            RResult::RErr(reason) => {
                let _ = started_tx.send(Err(reason.into_string()));
                return;
            }
        };
        let bus = &runtime::get().bus;
        for subscription in app.subscriptions() {
            let registered = match subscription.kind {
                EventKind::APP_EVENT => {
                    bus.subscribe(state, &subscription.name);
                    Ok(())
                }
                EventKind::REQUEST => bus.serve(state, &subscription.name),
                EventKind::OPENFLOW => {
                    bus.subscribe_openflow(state, subscription.code, subscription.states);
                    Ok(())
                }
                EventKind::DATAPATH => {
                    bus.subscribe_datapath(state, &subscription.name);
                    Ok(())
                }
                EventKind::HTTP => bus.http_routes.add(state, &subscription.name),
                other => Err(format!("subscribes to event kind {} that this host does not know", other.0)),
            };
            if let Err(reason) = registered {
                bus.remove(state);
                let _ = started_tx.send(Err(reason));
                return;
            }
        }
        if let RResult::RErr(reason) = watchdog::run_app(state, || app.start()) {
            bus.remove(state);
            let _ = started_tx.send(Err(reason.into_string()));
            return;
        }
        let _ = started_tx.send(Ok(()));

        let mut batch: Vec<Event> = Vec::with_capacity(MAX_BATCH);
        while state.queue.pop_batch(&mut batch, MAX_BATCH) {
            let refs: Vec<EventRef<'_>> = batch.iter().map(event_ref).collect();
            watchdog::run_app(state, || app.handle_batch(RSlice::from_slice(&refs)));
            state.count_handled(refs.len());
            drop(refs);
            batch.clear();
        }
        if save_requested.load(Ordering::Acquire) {
            let _ = saved_tx.send(watchdog::run_app(state, || app.save_state()).into_string());
        }
        if let RResult::RErr(reason) = watchdog::run_app(state, || app.stop()) {
            state.count_fault();
            log::error!(target: "tatsu::apps", "app `{}`: {reason}", state.name);
        }
        let _ = finished_tx.send(());
    });
    if let Err(e) = spawned {
        return Err(format!("cannot start its green thread: {e}"));
    }
    let outcome = match started_rx.recv_timeout(settings.start_timeout) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("did not start within {:?}", settings.start_timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("its green thread ended while starting".to_owned()),
    };
    let running = RunningApp { state, finished: finished_rx, save, saved: saved_rx };
    match outcome {
        Ok(()) => Ok(running),
        Err(reason) => {
            running.stop_threads(Instant::now() + settings.stop_timeout);
            Err(reason)
        }
    }
}

fn event_ref(event: &Event) -> EventRef<'_> {
    let no_state = DatapathStates(0);
    match event {
        Event::App { name, source, payload } => EventRef {
            kind: EventKind::APP_EVENT,
            id: 0,
            name: RStr::from(&**name),
            source: RStr::from(&**source),
            data: RSlice::from_slice(payload.as_bytes()),
            state: no_state,
        },
        Event::Request { id, name, source, payload } => EventRef {
            kind: EventKind::REQUEST,
            id: *id,
            name: RStr::from(&**name),
            source: RStr::from(&**source),
            data: RSlice::from_slice(payload.as_bytes()),
            state: no_state,
        },
        Event::OpenFlow { dpid, state, message, .. } => EventRef {
            kind: EventKind::OPENFLOW,
            id: *dpid,
            name: RStr::from(""),
            source: RStr::from(""),
            data: RSlice::from_slice(message),
            state: *state,
        },
        Event::Datapath { name, dpid, info } => EventRef {
            kind: EventKind::DATAPATH,
            id: *dpid,
            name: RStr::from(*name),
            source: RStr::from(""),
            data: RSlice::from_slice(info.as_bytes()),
            state: no_state,
        },
        Event::Restore { state } => EventRef {
            kind: EventKind::RESTORE,
            id: 0,
            name: RStr::from(""),
            source: RStr::from(""),
            data: RSlice::from_slice(state.as_bytes()),
            state: no_state,
        },
        Event::Http { id, route, meta, body } => EventRef {
            kind: EventKind::HTTP,
            id: *id,
            name: RStr::from(&**route),
            source: RStr::from(meta.as_str()),
            data: RSlice::from_slice(body),
            state: no_state,
        },
    }
}

impl RunningApp {
    /// Whether the app has handled every event queued for it.
    pub fn is_drained(&self) -> bool {
        self.state.queue.is_drained()
    }

    /// Stops the app: no new events, its stop hook, then every green thread it has, all before `deadline`.
    /// With `save`, the app's `save_state` hook runs first and its result is returned (empty: nothing saved).
    pub fn stop(self, deadline: Instant, save: bool) -> String {
        let state = self.state;
        self.save.store(save, Ordering::Release);
        runtime::get().bus.remove(state);
        let discarded = state.queue.close();
        if discarded > 0 {
            log::warn!(target: "tatsu::apps", "app `{}`: {discarded} queued events discarded at stop", state.name);
        }
        // Give the event loop half the time to finish its batch and run the stop hook before the group is stopped.
        let now = Instant::now();
        let grace = deadline.saturating_duration_since(now) / 2;
        let _ = self.finished.recv_timeout(grace);
        let saved = if save { self.saved.try_recv().unwrap_or_default() } else { String::new() };
        self.stop_threads(deadline);
        log::info!(
            target: "tatsu::apps",
            "stopped app `{}`: {} events handled, {} dropped (queue full), {} faults",
            state.name,
            state.handled.load(std::sync::atomic::Ordering::Relaxed),
            state.queue.dropped(),
            state.faults.load(std::sync::atomic::Ordering::Relaxed)
        );
        saved
    }

    fn stop_threads(&self, deadline: Instant) {
        let stragglers = self.state.group.stop(deadline);
        if !stragglers.is_empty() {
            log::error!(
                target: "tatsu::apps",
                "app `{}`: {} green thread(s) did not stop in time (they never yielded): {}",
                self.state.name,
                stragglers.len(),
                stragglers.join(", ")
            );
        }
    }
}
