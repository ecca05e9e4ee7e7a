//! Green TCP for apps: sockets whose blocking operations park only the calling green thread, honour timeouts, and
//! end at once with `Stopping` or `Interrupted` when the thread is stopped or its `Timeout` expires.
//!
//! Every operation first tries the non-blocking system call; on `WouldBlock` it waits for readiness with
//! [`green::wait_io`], which a stop, an interrupt or the deadline can cut short.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::time::{Duration, Instant};

use tatsu_abi::{IoFailure, IoFailureKind, WaitStatus};

use crate::green;

/// A socket an app holds.
pub enum Socket {
    /// A connected stream.
    Stream(may::net::TcpStream),
    /// A listening socket.
    Listener(may::net::TcpListener),
}

/// An I/O failure for the ABI.
pub fn failure(kind: IoFailureKind, message: impl Into<String>) -> IoFailure {
    IoFailure { kind, message: message.into().into() }
}

fn from_io(error: &io::Error) -> IoFailure {
    let kind = match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => IoFailureKind::TimedOut,
        io::ErrorKind::ConnectionRefused => IoFailureKind::ConnectionRefused,
        io::ErrorKind::ConnectionReset => IoFailureKind::ConnectionReset,
        io::ErrorKind::ConnectionAborted => IoFailureKind::ConnectionAborted,
        io::ErrorKind::BrokenPipe => IoFailureKind::BrokenPipe,
        io::ErrorKind::AddrInUse => IoFailureKind::AddrInUse,
        io::ErrorKind::AddrNotAvailable => IoFailureKind::AddrNotAvailable,
        io::ErrorKind::InvalidInput => IoFailureKind::InvalidInput,
        io::ErrorKind::NotConnected => IoFailureKind::NotConnected,
        _ => IoFailureKind::Other,
    };
    failure(kind, error.to_string())
}

fn resolve(address: &str) -> Result<SocketAddr, IoFailure> {
    address
        .to_socket_addrs()
        .map_err(|e| failure(IoFailureKind::InvalidInput, format!("{address}: {e}")))?
        .next()
        .ok_or_else(|| failure(IoFailureKind::InvalidInput, format!("{address} resolves to no address")))
}

/// Runs a non-blocking operation until it completes, waiting for readiness in between.
fn retry<T, I: may::io::WaitIo>(
    io: &I,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> io::Result<T>,
) -> Result<T, IoFailure> {
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(from_io(&e)),
        }
        match green::wait_io(io, deadline) {
            WaitStatus::Woken => {}
            WaitStatus::TimedOut => return Err(failure(IoFailureKind::TimedOut, "timed out")),
            WaitStatus::Stopping => return Err(failure(IoFailureKind::Stopping, "stopping")),
            WaitStatus::Interrupted => return Err(failure(IoFailureKind::Interrupted, "interrupted")),
        }
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|timeout| Instant::now().checked_add(timeout))
}

/// Connects to `address`, at most `timeout` (30 s when none is given: a connect cannot be stopped midway).
pub fn connect(address: &str, timeout: Option<Duration>) -> Result<Socket, IoFailure> {
    let target = resolve(address)?;
    let timeout = timeout.unwrap_or(Duration::from_secs(30));
    may::net::TcpStream::connect_timeout(&target, timeout).map(Socket::Stream).map_err(|e| from_io(&e))
}

/// Listens on `address`.
pub fn listen(address: &str) -> Result<Socket, IoFailure> {
    let target = resolve(address)?;
    may::net::TcpListener::bind(target).map(Socket::Listener).map_err(|e| from_io(&e))
}

impl Socket {
    fn stream(&self) -> Result<&may::net::TcpStream, IoFailure> {
        match self {
            Socket::Stream(stream) => Ok(stream),
            Socket::Listener(_) => Err(failure(IoFailureKind::InvalidInput, "a listening socket cannot do that")),
        }
    }

    /// Accepts a connection.
    pub fn accept(&self, timeout: Option<Duration>) -> Result<(Socket, SocketAddr), IoFailure> {
        let Socket::Listener(listener) = self else {
            return Err(failure(IoFailureKind::InvalidInput, "only a listening socket accepts"));
        };
        let (stream, peer) = retry(listener, deadline(timeout), || listener.inner().accept())?;
        // SAFETY: a freshly accepted socket, owned by nothing else.
        let adopted = std::panic::catch_unwind(|| unsafe { may::net::TcpStream::from_raw_fd(stream.into_raw_fd()) });
        let stream = adopted.map_err(|_| failure(IoFailureKind::Other, "cannot register the accepted connection"))?;
        Ok((Socket::Stream(stream), peer))
    }

    /// Reads some bytes (0: the peer closed).
    pub fn read(&self, buffer: &mut [u8], timeout: Option<Duration>) -> Result<usize, IoFailure> {
        let stream = self.stream()?;
        retry(stream, deadline(timeout), || stream.inner().read(buffer))
    }

    /// Writes some bytes.
    pub fn write(&self, data: &[u8], timeout: Option<Duration>) -> Result<usize, IoFailure> {
        let stream = self.stream()?;
        retry(stream, deadline(timeout), || stream.inner().write(data))
    }

    /// The local or the peer's address.
    pub fn address(&self, peer: bool) -> Result<SocketAddr, IoFailure> {
        let address = match (self, peer) {
            (Socket::Stream(stream), true) => stream.peer_addr(),
            (Socket::Stream(stream), false) => stream.local_addr(),
            (Socket::Listener(listener), false) => listener.local_addr(),
            (Socket::Listener(_), true) => return Err(failure(IoFailureKind::NotConnected, "a listener has no peer")),
        };
        address.map_err(|e| from_io(&e))
    }

    /// Shuts down reading (0), writing (1) or both.
    pub fn shutdown(&self, how: u8) -> Result<(), IoFailure> {
        let how = match how {
            0 => Shutdown::Read,
            1 => Shutdown::Write,
            _ => Shutdown::Both,
        };
        self.stream()?.shutdown(how).map_err(|e| from_io(&e))
    }
}
