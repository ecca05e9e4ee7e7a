//! Forwards the app's `log` records to the host, whose logger prints them with the app's name as target.

use abi_stable::std_types::RStr;
use log::{LevelFilter, Log, Metadata, Record};

use crate::link;

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

impl Log for HostLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let (host, app) = link::host();
        let message = record.args().to_string();
        let module = record.module_path().unwrap_or(record.target());
        host.log()(app, record.level() as u8, RStr::from(module), RStr::from(message.as_str()));
    }

    fn flush(&self) {}
}

/// Installs the forwarding logger in this library's copy of `log`, at the level the host allows for this app.
pub(crate) fn install() {
    let _ = log::set_logger(&LOGGER);
    let (host, app) = link::host();
    let level = match host.log_max_level()(app) {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    log::set_max_level(level);
}
