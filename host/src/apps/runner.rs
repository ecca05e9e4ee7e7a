//! One app's life: created and started on its own green thread, which then runs its event loop (Ryu's
//! `_event_loop`) until the app stops.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use abi_stable::std_types::{ROption, RResult, RSlice, RStr};
use tatsu_abi::{
    AppEventRef, AppModuleRef, DatapathEventRef, EventRef, HostContext, HttpParam, HttpRequestRef, OpenFlowRef,
    RequestRef, Subscription, WebSocketEventRef,
};

use super::state::{AppSettings, AppState};
use super::{deferred, services};
use crate::bus::Event;

/// Most events (messages, for runs of them) handed to an app in one crossing of the ABI.
const MAX_BATCH: usize = 1024;

/// A started app.
pub struct RunningApp {
    pub(super) state: Arc<AppState>,
    finished: mpsc::Receiver<()>,
    save: Arc<AtomicBool>,
    saved: mpsc::Receiver<Option<String>>,
}

/// Creates and starts the app on its event-loop green thread, waiting (this is the main thread) until it is
/// running or has failed.
pub fn launch(
    state: Arc<AppState>,
    module: AppModuleRef,
    config_json: String,
    settings: &AppSettings,
) -> Result<RunningApp, String> {
    let (started_tx, started_rx) = mpsc::channel::<Result<(), String>>();
    let (finished_tx, finished_rx) = mpsc::channel::<()>();
    let (saved_tx, saved_rx) = mpsc::channel::<Option<String>>();
    let save = Arc::new(AtomicBool::new(false));
    let save_requested = Arc::clone(&save);
    let app_state = Arc::clone(&state);
    let spawned = state.group.spawn("event loop", move || {
        let state = app_state;
        if let Some(me) = crate::green::current() {
            state.mailbox.queue.set_consumer(me);
        }
        let host = HostContext { services: services::table(), app: services::handle_of(&state) };
        let watched = &state.watched;
        let created = watched.run(|| module.create()(host, RStr::from(config_json.as_str())));
        let mut app = match created {
            RResult::ROk(app) => app,
            RResult::RErr(reason) => {
                let _ = started_tx.send(Err(reason.into_string()));
                return;
            }
        };
        for subscription in app.subscriptions() {
            if let Err(reason) = subscribe(&state, &subscription) {
                state.unsubscribe();
                let _ = started_tx.send(Err(reason));
                return;
            }
        }
        if let RResult::RErr(reason) = watched.run(|| app.start()) {
            state.unsubscribe();
            let _ = started_tx.send(Err(reason.into_string()));
            return;
        }
        let _ = started_tx.send(Ok(()));

        // The events taken from the queue, the batch being handled at their front.
        let mut taken: VecDeque<Event> = VecDeque::new();
        // The borrowed views of a batch, in a buffer kept from one batch to the next (empty between batches).
        let mut spare_refs: Vec<EventRef<'static>> = Vec::new();
        while let Some(batch) = state.mailbox.queue.pop_batch(&mut taken, MAX_BATCH) {
            let n = batch.events;
            // HTTP parameters are the one part of an event the interface takes as a slice of its own structs; most
            // batches have no HTTP request and allocate nothing for them.
            let has_http = taken.range(..n).any(|event| matches!(event, Event::Http { .. }));
            let params: Vec<Vec<HttpParam<'_>>> =
                if has_http { taken.range(..n).map(http_params).collect() } else { Vec::new() };
            let mut refs = relabel(std::mem::take(&mut spare_refs));
            refs.reserve(batch.weight);
            for (i, event) in taken.range(..n).enumerate() {
                push_ref(&mut refs, event, params.get(i).map_or(&[], Vec::as_slice));
            }
            let began = Instant::now();
            // Sends the batch makes are written when it ends (or before it waits), one write per switch.
            deferred::batch(&state.mailbox.queue, || watched.run(|| app.handle_batch(RSlice::from_slice(&refs))));
            state.counters.batch_handled(refs.len(), began.elapsed());
            refs.clear();
            spare_refs = relabel(refs);
            drop(params);
            // Dropping the events returns their credit to the connections they came from.
            taken.drain(..n);
            // An app that always has events queued would keep its scheduler thread's run queue from emptying, and
            // may polls that thread's I/O selector only then: step out for it (see `green::turns`).
            if !state.mailbox.queue.is_empty() && state.host.turns.long_starved() {
                state.host.turns.step_out();
            }
        }
        if save_requested.load(Ordering::Acquire) {
            let _ = saved_tx.send(watched.run(|| app.save_state()).map(|state| state.into_string()).into_option());
        }
        if let RResult::RErr(reason) = watched.run(|| app.stop()) {
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

/// Registers one of the app's subscriptions with the bus or the REST server.
fn subscribe(state: &AppState, subscription: &Subscription) -> Result<(), String> {
    let (bus, mailbox) = (&state.host.bus, &state.mailbox);
    match subscription {
        Subscription::AppEvent(name) => {
            bus.subscribe(mailbox, name);
            Ok(())
        }
        Subscription::Request(name) => bus.serve(mailbox, name),
        Subscription::OpenFlow { version, msg_type, states } => {
            bus.subscribe_openflow(mailbox, (u32::from(*version) << 8) | u32::from(*msg_type), *states);
            Ok(())
        }
        Subscription::Datapath(change) => {
            bus.subscribe_datapath(mailbox, *change);
            Ok(())
        }
        Subscription::Http { method, pattern } => state.host.web.routes().add(mailbox, &format!("{method} {pattern}")),
        Subscription::WebSocket { path, events } => state.host.web.websockets().add(mailbox, path, *events),
        Subscription::Role => {
            bus.subscribe_roles(mailbox);
            Ok(())
        }
    }
}

/// An empty vector of views with another lifetime, in the same allocation (collecting a mapped `IntoIter` into a
/// vector of a type of the same size reuses its buffer; the map never runs, there being nothing in it).
fn relabel<'a, 'b>(refs: Vec<EventRef<'a>>) -> Vec<EventRef<'b>> {
    debug_assert!(refs.is_empty());
    refs.into_iter().map(|_| unreachable!("relabel is given empty vectors only")).collect()
}

fn http_params(event: &Event) -> Vec<HttpParam<'_>> {
    match event {
        Event::Http { request, .. } => request
            .params
            .iter()
            .map(|(name, value)| HttpParam { name: RStr::from(name.as_str()), value: RStr::from(value.as_str()) })
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds the views of `event` to `refs`: one per message of a run of OpenFlow messages, one for any other event.
/// Nearly every event is OpenFlow, and its views are written in place: returned by a function, each would be copied
/// whole, at the size of the largest view (an HTTP request's).
#[inline]
fn push_ref<'a>(refs: &mut Vec<EventRef<'a>>, event: &'a Event, params: &'a [HttpParam<'a>]) {
    let view = match event {
        Event::OpenFlow { dpid, state, messages, .. } => {
            for message in messages.iter() {
                let (dpid, state, message) = (*dpid, *state, RSlice::from_slice(message));
                refs.push(EventRef::OpenFlow(OpenFlowRef { dpid, state, message }));
            }
            return;
        }
        Event::App { name, source, payload } => EventRef::App(AppEventRef {
            name: RStr::from(&**name),
            source: RStr::from(&**source),
            payload_json: RStr::from(&**payload),
        }),
        Event::Request { id, name, source, payload } => EventRef::Request(RequestRef {
            id: *id,
            name: RStr::from(&**name),
            source: RStr::from(&**source),
            payload_json: RStr::from(&**payload),
        }),
        Event::Datapath { change, datapath } => EventRef::Datapath(DatapathEventRef { change: *change, datapath }),
        Event::Restore { state } => EventRef::Restore(RStr::from(&**state)),
        Event::Http { id, route, request } => EventRef::Http(HttpRequestRef {
            id: *id,
            route: RStr::from(&**route),
            method: RStr::from(request.method.as_str()),
            path: RStr::from(request.path.as_str()),
            query: RStr::from(request.query.as_str()),
            params: RSlice::from_slice(params),
            content_type: request.content_type.as_deref().map(RStr::from).map_or(ROption::RNone, ROption::RSome),
            body: RSlice::from_slice(&request.body),
        }),
        Event::WebSocket { path, client, kind, data } => EventRef::WebSocket(WebSocketEventRef {
            path: RStr::from(&**path),
            client: *client,
            kind: *kind,
            data: RSlice::from_slice(data),
        }),
        Event::Role(role) => EventRef::Role(*role),
    };
    refs.push(view);
}

impl RunningApp {
    /// Whether the app has handled every event queued for it.
    pub fn is_drained(&self) -> bool {
        self.state.mailbox.queue.is_drained()
    }

    /// Stops the app: no new events, its stop hook, then every green thread it has, all before `deadline`.
    /// With `save`, the app's `save_state` hook runs first and its result is returned.
    pub fn stop(self, deadline: Instant, save: bool) -> Option<String> {
        let state = Arc::clone(&self.state);
        self.save.store(save, Ordering::Release);
        state.unsubscribe();
        let discarded = state.mailbox.queue.close();
        if discarded > 0 {
            log::warn!(target: "tatsu::apps", "app `{}`: {discarded} queued events discarded at stop", state.name);
        }
        // Give the event loop half the time to finish its batch and run the stop hook before the group is stopped.
        let now = Instant::now();
        let grace = deadline.saturating_duration_since(now) / 2;
        let _ = self.finished.recv_timeout(grace);
        let saved = if save { self.saved.try_recv().ok().flatten() } else { None };
        self.stop_threads(deadline);
        log::info!(
            target: "tatsu::apps",
            "stopped app `{}`: {} events handled, {} dropped (queue full), {} faults (in this host and its predecessors)",
            state.name,
            state.counters.handled(),
            state.counters.dropped(),
            state.counters.faults()
        );
        saved
    }

    /// Stops the app's green threads. Threads that never yield cannot be stopped; each holds the app's state, so
    /// that their calls into the host stay valid.
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
