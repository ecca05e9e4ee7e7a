//! The library's link to the host: set once when the host creates the app, read by every service call.

use std::sync::OnceLock;

use crate::abi::{AppHandle, HostContext, HostServicesRef};

static HOST: OnceLock<HostContext> = OnceLock::new();
static APP_NAME: OnceLock<String> = OnceLock::new();

/// Records the host context and app name; later calls (a second `create`) keep the first.
pub(crate) fn install(host: HostContext, app_name: &str) {
    let _ = HOST.set(host);
    let _ = APP_NAME.set(app_name.to_owned());
}

/// The host's services and this app's handle.
///
/// # Panics
/// If called before the host created the app — that is, outside a running host (for example in a plain unit test).
pub(crate) fn host() -> (HostServicesRef, AppHandle) {
    match HOST.get() {
        Some(ctx) => (ctx.services, ctx.app),
        None => panic!("tatsu host services used outside a running tatsu host"),
    }
}

/// This app's name, or "" before creation.
pub(crate) fn app_name() -> &'static str {
    APP_NAME.get().map(String::as_str).unwrap_or("")
}
