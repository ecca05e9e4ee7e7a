//! Panics stay on the app's side: every entry into app code runs under [`catch`], and a stop request travels as a
//! [`TaskExit`] unwind that starts and ends inside this library.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

/// The unwind payload that stops a green thread cooperatively (Ryu's `TaskExit`). Not a fault.
pub(crate) struct TaskExit;

/// The unwind payload of a green thread interrupted by [`crate::abi::HostServices::thread_interrupt`]; whoever
/// interrupted it (a `Timeout`) catches it. Where nobody does, it ends the thread like [`TaskExit`].
pub(crate) struct Interrupted;

/// How a caught call ended early.
pub(crate) enum Caught {
    /// The thread was asked to stop.
    Exit,
    /// A panic, with its message and location.
    Panic(String),
}

thread_local! {
    /// Message and location of the last panic on this OS thread, recorded by the hook and taken by [`catch`].
    /// A panic is caught on the coroutine (and so the OS thread) it happened on, with no yield in between.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs this library's panic hook: it records the message and location for [`catch`] instead of printing.
pub(crate) fn install_hook() {
    panic::set_hook(Box::new(|info| {
        let message = payload_message(info.payload());
        let text = match info.location() {
            Some(location) => format!("{message} (at {}:{})", location.file(), location.line()),
            None => message,
        };
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(text));
    }));
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Takes the message the hook recorded for the panic being handled on this OS thread, to carry it across a yield
/// (after which the coroutine may run on another OS thread); put it back with [`restore_recorded`]. Never inlined,
/// so that the thread-local's address is looked up at each call, not cached across the caller's yield.
#[inline(never)]
pub(crate) fn take_recorded() -> Option<String> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

/// Records `message` as the panic being handled on this OS thread (see [`take_recorded`]). Never inlined either.
#[inline(never)]
pub(crate) fn restore_recorded(message: Option<String>) {
    LAST_PANIC.with(|last| *last.borrow_mut() = message);
}

/// Runs `f`, turning a panic or a [`TaskExit`] into [`Caught`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) if payload.is::<TaskExit>() || payload.is::<Interrupted>() => Err(Caught::Exit),
        Err(payload) => {
            let recorded = LAST_PANIC.with(|last| last.borrow_mut().take());
            Err(Caught::Panic(recorded.unwrap_or_else(|| payload_message(payload.as_ref()))))
        }
    }
}
