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

/// Lets at most a few log lines a second through for one cause (malformed messages from switches, refused
/// connections...), so that a flood of bad input cannot fill the disk or keep a scheduler thread formatting. The
/// lines held back are counted and reported with the next line let through.
pub struct LogLimit {
    per_second: u32,
    window: std::sync::Mutex<LogWindow>,
}

struct LogWindow {
    started: Option<std::time::Instant>,
    passed: u32,
    held_back: u64,
}

impl LogLimit {
    /// A limit of `per_second` lines a second.
    pub const fn new(per_second: u32) -> LogLimit {
        LogLimit { per_second, window: std::sync::Mutex::new(LogWindow { started: None, passed: 0, held_back: 0 }) }
    }

    /// `Some(n)` if a line may be logged now, `n` being how many were held back since the last one that was.
    pub fn check(&self) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut window = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.started.is_none_or(|started| now.duration_since(started) >= std::time::Duration::from_secs(1)) {
            window.started = Some(now);
            window.passed = 0;
        }
        if window.passed >= self.per_second {
            window.held_back += 1;
            return None;
        }
        window.passed += 1;
        Some(std::mem::take(&mut window.held_back))
    }
}

/// " (N similar lines held back)" when `held_back` is not zero, to end a rate-limited line with.
pub fn held_back_note(held_back: u64) -> String {
    if held_back == 0 {
        String::new()
    } else {
        format!(" ({held_back} similar lines held back)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_lets_a_few_lines_a_second_through_and_counts_the_rest() {
        let limit = LogLimit::new(3);
        assert_eq!((0..3).map(|_| limit.check()).collect::<Vec<_>>(), vec![Some(0); 3]);
        assert!((0..1000).all(|_| limit.check().is_none()));
        std::thread::sleep(std::time::Duration::from_millis(1010));
        assert_eq!(limit.check(), Some(1000), "the next line reports what was held back");
        assert_eq!(limit.check(), Some(0));
        assert_eq!(held_back_note(0), "");
        assert_eq!(held_back_note(7), " (7 similar lines held back)");
    }
}
