//! Shutdown signals: SIGINT and SIGTERM are blocked in every thread (so may's workers never take them) and waited
//! for on the main thread.

use nix::sys::signal::{SigSet, Signal};

/// The signals the host handles.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set
}

/// Blocks the handled signals in the calling thread and every thread it starts later. Call first thing.
pub fn block() -> nix::Result<()> {
    handled().thread_block()
}

/// Waits for SIGINT or SIGTERM.
pub fn wait() -> nix::Result<Signal> {
    handled().wait()
}
