//! The bridge between an app's safe [`App`] implementation and the ABI: the root module functions and the
//! [`AppObject`] the host drives. Every call into app code is wrapped in [`panic::catch`].
//!
//! Timers ([`Handlers::on_timer`]) need no ABI of their own: for each one, [`AppObject::start`] spawns a green
//! thread that sleeps to the next tick and then sends the app a request to itself, named [`timer_request`] and
//! carrying the timer's index. The request reaches the event loop like any other, so the handler runs serialised
//! with the app's other handlers, and the thread waits for the reply before it schedules the next tick.

use std::time::{Duration, Instant};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};

use crate::abi::{
    AppDescriptor, AppEventRef, AppModule, AppModuleRef, AppObject, AppObjectBox, AppObject_TO, DatapathEventRef,
    EventRef, HostContext, OpenFlowRef, RequestRef, RoleEventRef, Subscription,
};
use crate::app::{App, Handlers};
use crate::cluster::RoleChange;
use crate::context::Context;
use crate::openflow::{Datapath, DatapathInfo, OfMessage};
use crate::panic::{self, Caught};
use crate::{link, logging};

/// Builds the root module for app type `A` (called through [`crate::export_app!`]).
pub fn root_module<A: App>() -> AppModuleRef {
    AppModule { describe: describe::<A>, create: create::<A> }.leak_into_prefix()
}

extern "C" fn describe<A: App>() -> AppDescriptor {
    AppDescriptor {
        name: A::NAME.into(),
        version: RString::new(),
        description: A::DESCRIPTION.into(),
        requires: A::REQUIRES.iter().map(|name| RString::from(*name)).collect(),
        autostart: A::AUTOSTART,
        api_crate_version: env!("CARGO_PKG_VERSION").into(),
    }
}

extern "C" fn create<A: App>(host: HostContext, config_json: RStr<'_>) -> RResult<AppObjectBox, RString> {
    link::install(host);
    panic::install_hook();
    logging::install();
    match Adapter::<A>::create(Context::new(host, A::NAME), config_json.as_str()) {
        Ok(adapter) => RResult::ROk(AppObject_TO::from_value(adapter, TD_Opaque)),
        Err(message) => RResult::RErr(message.into()),
    }
}

/// Reports a handler fault to the host, which logs it against this app and counts it.
pub(crate) fn report_fault(ctx: &Context, event: &str, message: &str) {
    let host = ctx.host();
    (host.services.report_fault())(host.app, RStr::from(event), RStr::from(message));
}

/// An app with its handlers and context: what the host drives through [`AppObject`], and the test kit directly.
pub(crate) struct Adapter<A: App> {
    pub(crate) app: A,
    handlers: Handlers<A>,
    ctx: Context,
    /// [`timer_request`] for `A`.
    timer_request: String,
}

/// The name of the requests an app's timer threads send it: private to the app, which refuses them from any
/// other source.
fn timer_request(app_name: &str) -> String {
    format!("tatsu.timer/{app_name}")
}

/// How long a tick waits for its handler before the timer thread gives up on it (the tick still runs when the event
/// loop reaches it); only a wedged event loop gets there.
const TICK_WAIT: Duration = Duration::from_secs(3600);

/// A timer thread's loop: tick `index` of the app every `period`, skipping the ticks that fall while one waits.
fn run_timer(ctx: Context, request: &str, index: usize, period: Duration) {
    let payload = index.to_string();
    let mut next = Instant::now() + period;
    loop {
        crate::green::sleep(next.saturating_duration_since(Instant::now()));
        if let Err(e) = ctx.request_json(request, &payload, TICK_WAIT) {
            // A full queue drops this tick; the next one comes at its time.
            log::debug!("timer {index} of `{}`: tick lost: {e}", ctx.app_name());
        }
        let now = Instant::now();
        while next <= now {
            next += period;
        }
    }
}

impl<A: App> Adapter<A> {
    /// Creates the app from its configuration (JSON; empty: the default) and collects its handlers.
    pub(crate) fn create(ctx: Context, config_json: &str) -> Result<Self, String> {
        let created = panic::catch(|| -> Result<Adapter<A>, String> {
            let config: A::Config = if config_json.trim().is_empty() {
                A::Config::default()
            } else {
                serde_json::from_str(config_json).map_err(|e| format!("invalid configuration: {e}"))?
            };
            let app = A::new(&ctx, config).map_err(|e| format!("creating the app failed: {e}"))?;
            let mut handlers = Handlers::new();
            app.register(&mut handlers);
            Ok(Adapter { app, handlers, ctx, timer_request: timer_request(A::NAME) })
        });
        match created {
            Ok(result) => result,
            Err(Caught::Panic(message)) => Err(format!("creating the app panicked: {message}")),
            Err(Caught::Exit) => Err("the host stopped the app while it was being created".to_owned()),
        }
    }

    /// Runs the handlers of one event; `false` if the app is stopping.
    pub(crate) fn handle(&mut self, event: &EventRef<'_>) -> bool {
        match event {
            EventRef::App(event) => self.dispatch_app_event(event),
            EventRef::Request(request) => self.dispatch_request(request),
            EventRef::OpenFlow(message) => self.dispatch_openflow(message),
            EventRef::Datapath(event) => self.dispatch_datapath(event),
            EventRef::Http(request) => {
                let Adapter { app, handlers, ctx, .. } = self;
                crate::http::dispatch(app, handlers, ctx, request)
            }
            EventRef::Restore(state) => self.restore(state.as_str()),
            EventRef::WebSocket(event) => {
                let Adapter { app, handlers, ctx, .. } = self;
                crate::websocket::dispatch(app, handlers, ctx, event)
            }
            EventRef::Role(event) => self.dispatch_role(event),
        }
    }

    fn dispatch_role(&mut self, event: &RoleEventRef) -> bool {
        let Adapter { app, handlers, ctx, .. } = self;
        let change = RoleChange::from_abi(event);
        let describe = || format!("role {:?} for datapath {:016x}", change.role, change.dpid);
        handlers.roles.iter_mut().all(|handler| Self::run(ctx, describe, || handler(app, ctx, &change)))
    }

    /// Runs `handler`, reporting its failure or panic against `event`; `false` if the app is stopping.
    fn run(ctx: &Context, event: impl FnOnce() -> String, handler: impl FnOnce() -> Result<(), String>) -> bool {
        match panic::catch(handler) {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                report_fault(ctx, &event(), &format!("handler failed: {e}"));
                true
            }
            Err(Caught::Panic(e)) => {
                report_fault(ctx, &event(), &format!("panicked: {e}"));
                true
            }
            Err(Caught::Exit) => false,
        }
    }

    fn dispatch_app_event(&mut self, event: &AppEventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx, .. } = self;
        let Some(list) = handlers.app_events.get_mut(event.name.as_str()) else { return true };
        let describe = || format!("app event `{}` from `{}`", event.name, event.source);
        let (source, payload) = (event.source.as_str(), event.payload_json.as_str());
        list.iter_mut().all(|handler| Self::run(ctx, describe, || handler(app, ctx, source, payload)))
    }

    fn dispatch_openflow(&mut self, event: &OpenFlowRef<'_>) -> bool {
        let Adapter { app, handlers, ctx, .. } = self;
        let bytes: &[u8] = &event.message;
        if bytes.len() < 8 {
            return true;
        }
        let list = handlers.openflow.get(bytes[0], bytes[1]);
        if list.is_empty() {
            return true;
        }
        let message = OfMessage { datapath: Datapath::new(*ctx, event.dpid, bytes[0]), state: event.state, bytes };
        let describe = || format!("OpenFlow message type {} from datapath {:016x}", bytes[1], event.dpid);
        let all = &mut handlers.openflow_handlers;
        list.iter().filter(|(states, _)| states.overlaps(event.state)).all(|&(_, index)| {
            let handler = &mut all[index];
            Self::run(ctx, describe, || handler(app, ctx, &message))
        })
    }

    fn dispatch_datapath(&mut self, event: &DatapathEventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx, .. } = self;
        let Some(list) = handlers.datapath.get_mut(&event.change) else { return true };
        let info = DatapathInfo::from_desc(*ctx, event.datapath);
        let describe = || format!("datapath {:?} event for {:016x}", event.change, info.dpid);
        list.iter_mut().all(|handler| Self::run(ctx, describe, || handler(app, ctx, &info)))
    }

    /// Runs the request's handler (or, for a tick, the timer's) and sends its reply.
    fn dispatch_request(&mut self, request: &RequestRef<'_>) -> bool {
        let name = request.name.as_str();
        let (result, carry_on) = if name == self.timer_request { self.tick(request) } else { self.serve(request) };
        let reply = match &result {
            Ok(json) => RResult::ROk(RStr::from(json.as_str())),
            Err(message) => RResult::RErr(RStr::from(message.as_str())),
        };
        let host = self.ctx.host();
        (host.services.reply())(host.app, request.id, reply);
        carry_on
    }

    /// A tick from one of the app's timer threads: runs the timer's handler and answers `null`.
    fn tick(&mut self, request: &RequestRef<'_>) -> (Result<String, String>, bool) {
        if request.source.as_str() != A::NAME {
            return (Err(format!("`{}` is private to app `{}`", request.name, A::NAME)), true);
        }
        let Ok(index) = request.payload_json.as_str().parse::<usize>() else {
            return (Err(format!("not a timer index: {}", request.payload_json)), true);
        };
        (Ok("null".to_owned()), self.fire_timer(index))
    }

    /// The periods of the app's timers, by index.
    #[cfg(feature = "test-kit")]
    pub(crate) fn timer_periods(&self) -> Vec<Duration> {
        self.handlers.timers.iter().map(|timer| timer.period).collect()
    }

    /// Runs timer `index`'s handler (nothing if there is none); `false` if the app is stopping.
    pub(crate) fn fire_timer(&mut self, index: usize) -> bool {
        let Adapter { app, handlers, ctx, .. } = self;
        let Some(timer) = handlers.timers.get_mut(index) else { return true };
        Self::run(ctx, || format!("timer {index}"), || (timer.handler)(app, ctx))
    }

    /// Runs the handler of a request from another app.
    fn serve(&mut self, request: &RequestRef<'_>) -> (Result<String, String>, bool) {
        let Adapter { app, handlers, ctx, .. } = self;
        let name = request.name.as_str();
        match handlers.requests.get_mut(name) {
            None => (Err(format!("app `{}` has no handler for `{name}`", A::NAME)), true),
            Some(handler) => match panic::catch(|| handler(app, ctx, request.payload_json.as_str())) {
                Ok(result) => (result, true),
                Err(Caught::Panic(message)) => {
                    let event = format!("request `{name}` from `{}`", request.source);
                    report_fault(ctx, &event, &format!("panicked: {message}"));
                    (Err(format!("the handler panicked: {message}")), true)
                }
                Err(Caught::Exit) => (Err(format!("app `{}` is stopping", A::NAME)), false),
            },
        }
    }

    /// Hands the app its predecessor's saved state.
    fn restore(&mut self, state_json: &str) -> bool {
        let Adapter { app, ctx, .. } = self;
        let state: serde_json::Value = match serde_json::from_str(state_json) {
            Ok(state) => state,
            Err(e) => {
                report_fault(ctx, "restore_state", &format!("the saved state is not JSON: {e}"));
                return true;
            }
        };
        Self::run(
            ctx,
            || "restore_state".to_owned(),
            || {
                app.restore_state(ctx, state);
                Ok(())
            },
        )
    }

    /// The events the app subscribes to.
    pub(crate) fn subscriptions(&self) -> Vec<Subscription> {
        let handlers = &self.handlers;
        let events = handlers.app_events.keys().map(|name| Subscription::AppEvent((*name).into()));
        let requests = handlers.requests.keys().map(|name| Subscription::Request((*name).into()));
        let datapath = handlers.datapath.keys().map(|change| Subscription::Datapath(*change));
        let openflow = handlers.openflow.iter().map(|((version, msg_type), list)| Subscription::OpenFlow {
            version,
            msg_type,
            states: crate::openflow::DatapathStates(list.iter().fold(0, |all, (states, _)| all | states.0)),
        });
        let timers = (!handlers.timers.is_empty()).then(|| Subscription::Request(self.timer_request.as_str().into()));
        let roles = (!handlers.roles.is_empty()).then_some(Subscription::Role);
        events
            .chain(requests)
            .chain(datapath)
            .chain(openflow)
            .chain(crate::http::subscriptions(handlers))
            .chain(crate::websocket::subscriptions(handlers))
            .chain(timers)
            .chain(roles)
            .collect()
    }

    /// Starts a green thread per timer (only under a host: the test kit fires timers itself).
    fn start_timers(&self) {
        for (index, timer) in self.handlers.timers.iter().enumerate() {
            let (ctx, request, period) = (self.ctx, self.timer_request.clone(), timer.period);
            if crate::green::spawn_on(*ctx.host(), move || run_timer(ctx, &request, index, period)).is_none() {
                log::warn!("timer {index} of `{}` did not start: the app is stopping", A::NAME);
            }
        }
    }

    pub(crate) fn start(&mut self) -> Result<(), String> {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.start(ctx)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("start failed: {e}")),
            Err(Caught::Panic(message)) => Err(format!("start panicked: {message}")),
            Err(Caught::Exit) => Err("stopped while starting".to_owned()),
        }
    }

    pub(crate) fn save_state(&mut self) -> Option<String> {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.save_state(ctx)) {
            Ok(state) => state.map(|state| state.to_string()),
            Err(Caught::Exit) => None,
            Err(Caught::Panic(message)) => {
                report_fault(ctx, "save_state", &format!("panicked: {message}"));
                None
            }
        }
    }

    pub(crate) fn stop(&mut self) -> Result<(), String> {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.stop(ctx)) {
            Ok(()) | Err(Caught::Exit) => Ok(()),
            Err(Caught::Panic(message)) => Err(format!("stop panicked: {message}")),
        }
    }
}

impl<A: App> AppObject for Adapter<A> {
    fn subscriptions(&self) -> RVec<Subscription> {
        Adapter::subscriptions(self).into()
    }

    fn start(&mut self) -> RResult<(), RString> {
        let started = Adapter::start(self);
        if started.is_ok() {
            self.start_timers();
        }
        started.map_err(RString::from).into()
    }

    fn handle_batch(&mut self, events: RSlice<'_, EventRef<'_>>) {
        for event in events.iter() {
            if !self.handle(event) {
                return;
            }
        }
    }

    fn save_state(&mut self) -> ROption<RString> {
        Adapter::save_state(self).map(RString::from).into()
    }

    fn stop(&mut self) -> RResult<(), RString> {
        Adapter::stop(self).map_err(RString::from).into()
    }
}
