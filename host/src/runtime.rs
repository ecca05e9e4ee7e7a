//! Process-wide host state reached from the ABI callbacks.

use std::sync::OnceLock;

use crate::bus::Bus;
use crate::switch::Switches;

/// What every service call may need.
#[derive(Default)]
pub struct Runtime {
    /// The event bus.
    pub bus: Bus,
    /// The connected switches.
    pub switches: Switches,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, created on first use.
pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(Runtime::default)
}
