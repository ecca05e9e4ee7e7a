//! Green threads on the host's scheduler, in the manner of eventlet.
//!
//! Every green thread an app starts belongs to the app's thread group: when the app stops, each of them is
//! stopped at its next blocking call ([`sleep`], [`yield_now`], a wait on a [`JoinHandle`], a request...), which
//! then unwinds the thread quietly, and the host waits for them. A thread that never blocks cannot be stopped:
//! green threads must not spin or call blocking `std` I/O.

mod event;
mod net;
mod pile;
mod pool;
mod queue;
mod semaphore;
mod thread;
mod timeout;
mod waiters;

pub use event::Event;
pub use net::{TcpListener, TcpStream};
pub use pile::GreenPile;
pub use pool::{GreenPool, Imap};
pub use queue::Queue;
pub use semaphore::{Semaphore, SemaphoreGuard};
pub(crate) use thread::spawn_on;
pub use thread::{current, spawn, spawn_after, spawn_n, GreenThread, JoinError, JoinHandle, Timer};
pub use timeout::{TimedOut, Timeout};

use std::time::Duration;

use crate::abi::WaitStatus;
use crate::link;
use crate::panic::{Interrupted, TaskExit};

/// Unwinds the calling green thread because it was asked to stop; caught where the thread (or handler) began.
pub(crate) fn exit_thread() -> ! {
    std::panic::resume_unwind(Box::new(TaskExit))
}

/// Unwinds the calling green thread because it was interrupted; caught by the interrupting `Timeout`.
pub(crate) fn interrupt_unwind() -> ! {
    std::panic::resume_unwind(Box::new(Interrupted))
}

/// Turns [`WaitStatus::Stopping`] into the stop unwind and [`WaitStatus::Interrupted`] into the interrupt unwind
/// (caught by whoever interrupted the thread); passes the others through.
pub(crate) fn check(status: WaitStatus) -> WaitStatus {
    match status {
        WaitStatus::Stopping => exit_thread(),
        WaitStatus::Interrupted => interrupt_unwind(),
        other => other,
    }
}

pub(crate) fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX - 1)
}

/// Suspends the calling green thread for `duration`; other green threads run meanwhile.
pub fn sleep(duration: Duration) {
    let (host, app) = link::host();
    check(host.sleep()(app, duration_ns(duration)));
}

/// Lets the other green threads run, then continues.
pub fn yield_now() {
    let (host, app) = link::host();
    check(host.yield_now()(app));
}

/// Parks the calling green thread until [`GreenThread::unpark`], the timeout, or a stop (which unwinds).
/// Returns `true` if the timeout elapsed. Wake-ups may be spurious: callers re-check their condition.
pub(crate) fn park(timeout: Option<Duration>) -> bool {
    let (host, app) = link::host();
    let ns = timeout.map_or(u64::MAX, duration_ns);
    check(host.park()(app, ns)) == WaitStatus::TimedOut
}
