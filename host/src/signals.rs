//! Signals: SIGINT and SIGTERM (stop) and SIGHUP (hot restart) are blocked in every thread, so that may's workers
//! never take them, and waited for on the main thread.

use nix::sys::signal::{SigSet, Signal};

/// The signals the host handles.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

/// Blocks the handled signals in the calling thread and every thread it starts later. Call first thing.
pub fn block() -> nix::Result<()> {
    handled().thread_block()
}

/// Waits for SIGINT, SIGTERM or SIGHUP.
pub fn wait() -> nix::Result<Signal> {
    handled().wait()
}
