//! The library's one link to the host, for the green kit and the logger: eventlet-style free functions
//! (`green::sleep`, `green::spawn`, ...) and the `log` crate's global logger take no [`crate::Context`], so they
//! reach the host through this per-library static, set once when the host creates the app. Everything that has a
//! `Context` (handlers, datapath handles) uses the context's own link instead, which is what lets the test kit
//! (`testing`) run an app without a host.

use std::sync::OnceLock;

use abi_stable::std_types::RStr;

use crate::abi::{AppHandle, HostContext, HostServicesRef};

static HOST: OnceLock<HostContext> = OnceLock::new();

/// Records the host context; a second `create` in the same library keeps the first.
pub(crate) fn install(host: HostContext) {
    let _ = HOST.set(host);
}

/// The host context: its services and this app's handle (see [`host`]).
pub(crate) fn context() -> HostContext {
    let (services, app) = host();
    HostContext { services, app }
}

/// The host's services and this app's handle.
///
/// # Panics
/// If called before the host created the app: the green kit used outside a running host (for example from a
/// handler run by the test kit, which has no scheduler).
pub(crate) fn host() -> (HostServicesRef, AppHandle) {
    match HOST.get() {
        Some(ctx) => (ctx.services, ctx.app),
        None => panic!("the green kit (tatsu_plugin_api::green) needs a running tatsu host"),
    }
}

/// Reports a fault (a green thread's panic) to the host, which logs it against this app and counts it.
pub(crate) fn report_fault(event: &str, message: &str) {
    let (services, app) = host();
    (services.report_fault())(app, RStr::from(event), RStr::from(message));
}
