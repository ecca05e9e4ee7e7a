//! Idle readers: a switch that has sent nothing but keepalives for a while has no reader coroutine, and so no
//! stack. Its reader, instead of waiting on the socket, parks the connection here and ends; one thread of its own
//! (`tatsu-idle-readers`) watches every parked socket with an epoll set of its own, and starts a reader again for
//! the first that has something to read (or closes). A reader is also started again for whatever it must see while
//! parked: a pause or a handover for a hot restart, a resume, a close (`Connection::rouse_reader`).
//!
//! At 10,000 idle switches this is most of what a connection costs: a reader's stack keeps at least the page its
//! frames are on (4 KiB, see [`crate::green::release_unused_stack`]), and its coroutine a few hundred bytes more.
//!
//! A connection's reader slot (its lock) decides who starts the next reader: the parked reader's slot says
//! `parked`, and the first of the watcher or a rouse to take the lock and find it so starts one; the other finds
//! it running. The epoll registration is level-triggered and one-shot, so a byte that came before the connection
//! was parked still wakes it, and it fires once per parking.

use std::collections::HashMap;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// What the idle readers need of a connection.
pub trait Parkable: Send + Sync + 'static {
    /// The host-wide connection number.
    fn id(&self) -> u64;
    /// Its socket, open for as long as the connection lives.
    fn socket(&self) -> RawFd;
    /// Its socket became readable (or failed) while parked, or the watcher stopped: start its reader again.
    fn resume_parked_reader(&self);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The parked connections and the epoll set that watches their sockets.
pub struct IdleReaders<C> {
    epoll: Epoll,
    /// By connection id, the epoll events' data.
    parked: Mutex<HashMap<u64, Arc<C>>>,
    /// The watcher stopped (its epoll failed): nothing is parked any more.
    failed: AtomicBool,
}

impl<C: Parkable> IdleReaders<C> {
    /// Makes the epoll set and starts the thread that watches it.
    pub fn start() -> Result<Arc<IdleReaders<C>>, String> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|e| format!("epoll_create1: {e}"))?;
        let readers =
            Arc::new(IdleReaders { epoll, parked: Mutex::new(HashMap::new()), failed: AtomicBool::new(false) });
        let watcher = Arc::clone(&readers);
        std::thread::Builder::new()
            .name("tatsu-idle-readers".to_owned())
            .spawn(move || watcher.watch())
            .map_err(|e| format!("cannot start the idle readers' thread: {e}"))?;
        Ok(readers)
    }

    /// Watches `connection`'s socket until it is readable (or [`IdleReaders::forget`] is called).
    pub fn park(&self, connection: &Arc<C>) -> Result<(), Errno> {
        if self.failed.load(Ordering::Acquire) {
            return Err(Errno::EBADF);
        }
        // SAFETY: the connection (held in `parked` while registered) owns the socket, open for as long as it lives.
        let fd = unsafe { BorrowedFd::borrow_raw(connection.socket()) };
        let id = connection.id();
        let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLONESHOT;
        lock(&self.parked).insert(id, Arc::clone(connection));
        // A socket parked before stays in the set, disabled once its one shot fired: re-arm it.
        let registered = match self.epoll.modify(fd, &mut EpollEvent::new(flags, id)) {
            Err(Errno::ENOENT) => self.epoll.add(fd, EpollEvent::new(flags, id)),
            other => other,
        };
        if registered.is_err() {
            lock(&self.parked).remove(&id);
        }
        registered
    }

    /// Stops watching `connection` (its reader is started again by someone else).
    pub fn forget(&self, connection: &C) {
        if lock(&self.parked).remove(&connection.id()).is_some() {
            // SAFETY: as in `park`.
            let fd = unsafe { BorrowedFd::borrow_raw(connection.socket()) };
            let _ = self.epoll.delete(fd);
        }
    }

    /// The watcher's body: starts a reader for each parked connection whose socket becomes readable.
    fn watch(&self) {
        let mut events = vec![EpollEvent::empty(); 256];
        loop {
            let ready = match self.epoll.wait(&mut events, EpollTimeout::NONE) {
                Ok(ready) => ready,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    // Nothing wakes parked readers any more: start them all, and park no more.
                    self.failed.store(true, Ordering::Release);
                    log::error!(target: "tatsu::switch", "the idle readers' epoll failed ({e}): idle switches keep their readers from now on");
                    let parked: Vec<_> = lock(&self.parked).drain().map(|(_, connection)| connection).collect();
                    for connection in parked {
                        connection.resume_parked_reader();
                    }
                    return;
                }
            };
            for event in &events[..ready] {
                let connection = lock(&self.parked).remove(&event.data());
                if let Some(connection) = connection {
                    connection.resume_parked_reader();
                }
            }
        }
    }
}
