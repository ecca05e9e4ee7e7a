//! The bridge between an app's safe [`App`] implementation and the ABI: the root module functions and the
//! [`AppObject`] the host drives. Every call into app code is wrapped in [`panic::catch`].

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RResult, RSlice, RStr, RString, RVec},
};

use crate::abi::{
    AppDescriptor, AppModule, AppModuleRef, AppObject, AppObjectBox, AppObject_TO, DatapathStates, EventKind, EventRef,
    HostContext, Subscription,
};
use crate::app::{App, AppEvent, Handlers, Request};
use crate::context::Context;
use crate::openflow::{DatapathInfo, OfMessage};
use crate::panic::{self, Caught};
use crate::{logging, runtime};

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
        api_crate_version: env!("CARGO_PKG_VERSION").into(),
    }
}

extern "C" fn create<A: App>(host: HostContext, config_json: RStr<'_>) -> RResult<AppObjectBox, RString> {
    runtime::install(host, A::NAME);
    panic::install_hook();
    logging::install();
    let ctx = Context::new();
    let created = panic::catch(|| -> Result<Adapter<A>, String> {
        let config: A::Config = if config_json.trim().is_empty() {
            A::Config::default()
        } else {
            serde_json::from_str(config_json.as_str()).map_err(|e| format!("invalid configuration: {e}"))?
        };
        let app = A::new(&ctx, config).map_err(|e| format!("creating the app failed: {e}"))?;
        let mut handlers = Handlers::new();
        A::register(&mut handlers);
        Ok(Adapter { app, handlers, ctx })
    });
    match created {
        Ok(Ok(adapter)) => RResult::ROk(AppObject_TO::from_value(adapter, TD_Opaque)),
        Ok(Err(message)) => RResult::RErr(message.into()),
        Err(Caught::Panic(message)) => RResult::RErr(format!("creating the app panicked: {message}").into()),
        Err(Caught::Exit) => RResult::RErr("the host stopped the app while it was being created".into()),
    }
}

/// Reports a handler fault to the host, which logs it against this app and counts it.
pub(crate) fn report_fault(event: &str, message: &str) {
    let (host, app) = runtime::host();
    host.report_fault()(app, RStr::from(event), RStr::from(message));
}

struct Adapter<A: App> {
    app: A,
    handlers: Handlers<A>,
    ctx: Context,
}

impl<A: App> AppObject for Adapter<A> {
    fn subscriptions(&self) -> RVec<Subscription> {
        let named =
            |kind: EventKind, name: &str| Subscription { kind, name: name.into(), code: 0, states: DatapathStates(0) };
        let handlers = &self.handlers;
        let events = handlers.app_events.keys().map(|name| named(EventKind::APP_EVENT, name));
        let requests = handlers.requests.keys().map(|name| named(EventKind::REQUEST, name));
        let datapath = handlers.datapath.keys().map(|name| named(EventKind::DATAPATH, name));
        let openflow = handlers.openflow.iter().map(|(code, list)| Subscription {
            kind: EventKind::OPENFLOW,
            name: "".into(),
            code: *code,
            states: DatapathStates(list.iter().fold(0, |all, (states, _)| all | states.0)),
        });
        events.chain(requests).chain(datapath).chain(openflow).chain(crate::http::subscriptions(handlers)).collect()
    }

    fn start(&mut self) -> RResult<(), RString> {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.start(ctx)) {
            Ok(Ok(())) => RResult::ROk(()),
            Ok(Err(e)) => RResult::RErr(format!("start failed: {e}").into()),
            Err(Caught::Panic(message)) => RResult::RErr(format!("start panicked: {message}").into()),
            Err(Caught::Exit) => RResult::RErr("stopped while starting".into()),
        }
    }

    fn handle_batch(&mut self, events: RSlice<'_, EventRef<'_>>) {
        for event in events.iter() {
            let carry_on = match event.kind {
                EventKind::APP_EVENT => self.dispatch_app_event(event),
                EventKind::REQUEST => self.dispatch_request(event),
                EventKind::OPENFLOW => self.dispatch_openflow(event),
                EventKind::DATAPATH => self.dispatch_datapath(event),
                EventKind::RESTORE => self.restore(event),
                EventKind::HTTP => {
                    let Adapter { app, handlers, ctx } = self;
                    crate::http::dispatch(app, handlers, ctx, event)
                }
                _ => true,
            };
            if !carry_on {
                return;
            }
        }
    }

    fn save_state(&mut self) -> RString {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.save_state(ctx)) {
            Ok(Some(state)) => state.to_string().into(),
            Ok(None) | Err(Caught::Exit) => RString::new(),
            Err(Caught::Panic(message)) => {
                report_fault("save_state", &format!("panicked: {message}"));
                RString::new()
            }
        }
    }

    fn stop(&mut self) -> RResult<(), RString> {
        let Adapter { app, ctx, .. } = self;
        match panic::catch(|| app.stop(ctx)) {
            Ok(()) | Err(Caught::Exit) => RResult::ROk(()),
            Err(Caught::Panic(message)) => RResult::RErr(format!("stop panicked: {message}").into()),
        }
    }
}

impl<A: App> Adapter<A> {
    /// Runs every handler for an app event; `false` if the app is stopping.
    fn dispatch_app_event(&mut self, event: &EventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx } = self;
        let Some(list) = handlers.app_events.get_mut(event.name.as_str()) else {
            return true;
        };
        let app_event = AppEvent { name: event.name.as_str(), source: event.source.as_str(), payload: &event.data };
        for handler in list.iter_mut() {
            match panic::catch(|| handler(app, ctx, &app_event)) {
                Ok(Ok(())) => {}
                Ok(Err(message)) => report_fault(&describe_event(event), &format!("handler failed: {message}")),
                Err(Caught::Panic(message)) => report_fault(&describe_event(event), &format!("panicked: {message}")),
                Err(Caught::Exit) => return false,
            }
        }
        true
    }

    /// Runs the handlers for an OpenFlow message; `false` if the app is stopping.
    fn dispatch_openflow(&mut self, event: &EventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx } = self;
        let bytes: &[u8] = &event.data;
        if bytes.len() < 8 {
            return true;
        }
        let code = (u32::from(bytes[0]) << 8) | u32::from(bytes[1]);
        let Some(list) = handlers.openflow.get_mut(&code) else { return true };
        let message = OfMessage { dpid: event.id, state: event.state, bytes };
        for (states, handler) in list.iter_mut() {
            if states.0 & event.state.0 == 0 {
                continue;
            }
            match panic::catch(|| handler(app, ctx, &message)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => report_fault(&describe_event(event), &format!("handler failed: {e}")),
                Err(Caught::Panic(e)) => report_fault(&describe_event(event), &format!("panicked: {e}")),
                Err(Caught::Exit) => return false,
            }
        }
        true
    }

    /// Hands the app its predecessor's saved state; `false` if the app is stopping.
    fn restore(&mut self, event: &EventRef<'_>) -> bool {
        let Adapter { app, ctx, .. } = self;
        let state: serde_json::Value = match serde_json::from_slice(&event.data) {
            Ok(state) => state,
            Err(e) => {
                report_fault("restore_state", &format!("the saved state is not JSON: {e}"));
                return true;
            }
        };
        match panic::catch(|| app.restore_state(ctx, state)) {
            Ok(()) => true,
            Err(Caught::Panic(message)) => {
                report_fault("restore_state", &format!("panicked: {message}"));
                true
            }
            Err(Caught::Exit) => false,
        }
    }

    /// Runs the handlers for a datapath lifecycle event; `false` if the app is stopping.
    fn dispatch_datapath(&mut self, event: &EventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx } = self;
        let Some(list) = handlers.datapath.get_mut(event.name.as_str()) else { return true };
        let info: DatapathInfo = match serde_json::from_slice(&event.data) {
            Ok(info) => info,
            Err(e) => {
                report_fault(&describe_event(event), &format!("undecodable datapath description: {e}"));
                return true;
            }
        };
        for handler in list.iter_mut() {
            match panic::catch(|| handler(app, ctx, &info)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => report_fault(&describe_event(event), &format!("handler failed: {e}")),
                Err(Caught::Panic(e)) => report_fault(&describe_event(event), &format!("panicked: {e}")),
                Err(Caught::Exit) => return false,
            }
        }
        true
    }

    /// Runs the request's handler and sends its reply; `false` if the app is stopping.
    fn dispatch_request(&mut self, event: &EventRef<'_>) -> bool {
        let Adapter { app, handlers, ctx } = self;
        let (host, handle) = runtime::host();
        let request = Request { name: event.name.as_str(), source: event.source.as_str(), payload: &event.data };
        let (result, carry_on) = match handlers.requests.get_mut(event.name.as_str()) {
            None => (Err(format!("app `{}` has no handler for `{}`", A::NAME, event.name)), true),
            Some(handler) => match panic::catch(|| handler(app, ctx, &request)) {
                Ok(result) => (result, true),
                Err(Caught::Panic(message)) => {
                    report_fault(&describe_event(event), &format!("panicked: {message}"));
                    (Err(format!("the handler panicked: {message}")), true)
                }
                Err(Caught::Exit) => (Err(format!("app `{}` is stopping", A::NAME)), false),
            },
        };
        let reply = match &result {
            Ok(json) => RResult::ROk(RStr::from(json.as_str())),
            Err(message) => RResult::RErr(RStr::from(message.as_str())),
        };
        host.reply()(handle, event.id, reply);
        carry_on
    }
}

fn describe_event(event: &EventRef<'_>) -> String {
    match event.kind {
        EventKind::APP_EVENT => format!("app event `{}` from `{}`", event.name, event.source),
        EventKind::REQUEST => format!("request `{}` from `{}`", event.name, event.source),
        EventKind::OPENFLOW => format!(
            "OpenFlow message type {} from datapath {:016x}",
            event.data.get(1).copied().unwrap_or_default(),
            event.id
        ),
        EventKind::DATAPATH => format!("datapath `{}` event for {:016x}", event.name, event.id),
        EventKind::HTTP => format!("HTTP request `{}`", event.name),
        other => format!("event kind {}", other.0),
    }
}
