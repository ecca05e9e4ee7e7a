//! The host's logger (env_logger, configured with `RUST_LOG`), and the bridge that prints app records with the
//! app's name as their target, so `RUST_LOG=simple_switch=debug` style filters work per app.

use log::{Level, LevelFilter, Metadata, Record};

/// Installs env_logger; `RUST_LOG` overrides the default `info` filter.
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .format_timestamp_millis()
        .init();
}

/// The most verbose level the filter lets through for target `app` (`LevelFilter as u8`).
pub fn max_level_for(app: &str) -> u8 {
    let logger = log::logger();
    let most_verbose_first = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error];
    most_verbose_first
        .into_iter()
        .find(|level| logger.enabled(&Metadata::builder().level(*level).target(app).build()))
        .map_or(LevelFilter::Off as u8, |level| level.to_level_filter() as u8)
}

/// Logs a record an app sent across the ABI, under the app's name.
pub fn forward(app: &str, level: u8, module: &str, message: &str) {
    let level = match level {
        1 => Level::Error,
        2 => Level::Warn,
        3 => Level::Info,
        4 => Level::Debug,
        _ => Level::Trace,
    };
    let logger = log::logger();
    let metadata = Metadata::builder().level(level).target(app).build();
    if logger.enabled(&metadata) {
        logger.log(
            &Record::builder().metadata(metadata).module_path(Some(module)).args(format_args!("{message}")).build(),
        );
    }
}
