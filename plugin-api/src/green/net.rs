//! Green TCP: sockets whose blocking calls park only the calling green thread (never a scheduler thread), with
//! optional timeouts. They implement `std::io::Read` and `Write`, so `std::io::BufReader` gives line reading.
//! A stop or an interrupting [`super::Timeout`] reaches a thread blocked in any of these calls.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use abi_stable::std_types::{RResult, RSlice, RSliceMut, RStr};

use crate::abi::{IoFailure, IoFailureKind, SocketHandle};
use crate::link;

fn timeout_ns(timeout: Option<Duration>) -> u64 {
    timeout.map_or(u64::MAX, super::duration_ns)
}

/// Turns a host failure into an `io::Error`; a stop or an interrupt unwinds the green thread instead.
fn into_io(failure: IoFailure) -> io::Error {
    let kind = match failure.kind {
        IoFailureKind::Stopping => super::exit_thread(),
        IoFailureKind::Interrupted => super::interrupt_unwind(),
        IoFailureKind::TimedOut => io::ErrorKind::TimedOut,
        IoFailureKind::ConnectionRefused => io::ErrorKind::ConnectionRefused,
        IoFailureKind::ConnectionReset => io::ErrorKind::ConnectionReset,
        IoFailureKind::ConnectionAborted => io::ErrorKind::ConnectionAborted,
        IoFailureKind::BrokenPipe => io::ErrorKind::BrokenPipe,
        IoFailureKind::AddrInUse => io::ErrorKind::AddrInUse,
        IoFailureKind::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
        IoFailureKind::InvalidInput => io::ErrorKind::InvalidInput,
        IoFailureKind::NotConnected => io::ErrorKind::NotConnected,
        IoFailureKind::Other => io::ErrorKind::Other,
    };
    io::Error::new(kind, failure.message.into_string())
}

fn result<T>(value: RResult<T, IoFailure>) -> io::Result<T> {
    match value {
        RResult::ROk(value) => Ok(value),
        RResult::RErr(failure) => Err(into_io(failure)),
    }
}

fn parse_address(text: &str) -> io::Result<SocketAddr> {
    text.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("address {text}: {e}")))
}

/// One handle on a host socket; the socket closes when its last handle drops.
struct Handle(SocketHandle);

impl Handle {
    fn address(&self, peer: bool) -> io::Result<SocketAddr> {
        let (host, _) = link::host();
        let text = result(host.tcp_address()(&self.0, peer))?;
        parse_address(text.as_str())
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        let (host, _) = link::host();
        Handle(host.tcp_clone()(&self.0))
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let (host, _) = link::host();
        host.tcp_close()(&mut self.0);
    }
}

/// A TCP connection.
pub struct TcpStream {
    handle: Handle,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl TcpStream {
    /// Connects to `address` (`ip:port` or `host:port`), waiting at most `timeout` (30 s when `None`).
    pub fn connect(address: &str, timeout: Option<Duration>) -> io::Result<TcpStream> {
        let (host, app) = link::host();
        let handle = result(host.tcp_connect()(app, RStr::from(address), timeout_ns(timeout)))?;
        Ok(TcpStream::from_handle(handle))
    }

    fn from_handle(handle: SocketHandle) -> TcpStream {
        TcpStream { handle: Handle(handle), read_timeout: None, write_timeout: None }
    }

    /// Reads fail with `TimedOut` after `timeout` without data (`None`: wait forever).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Writes fail with `TimedOut` after `timeout` without progress (`None`: wait forever).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Another handle on the same connection, e.g. to write from one green thread while another reads.
    pub fn try_clone(&self) -> TcpStream {
        TcpStream { handle: self.handle.clone(), read_timeout: self.read_timeout, write_timeout: self.write_timeout }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.handle.address(true)
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.handle.address(false)
    }

    /// Shuts down the reading, writing or both halves.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        let how = match how {
            std::net::Shutdown::Read => 0,
            std::net::Shutdown::Write => 1,
            std::net::Shutdown::Both => 2,
        };
        let (host, _) = link::host();
        result(host.tcp_shutdown()(&self.handle.0, how))
    }
}

impl io::Read for TcpStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let (host, app) = link::host();
        result(host.tcp_read()(app, &self.handle.0, RSliceMut::from_mut_slice(buffer), timeout_ns(self.read_timeout)))
    }
}

impl io::Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (host, app) = link::host();
        result(host.tcp_write()(app, &self.handle.0, RSlice::from_slice(data), timeout_ns(self.write_timeout)))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening TCP socket.
pub struct TcpListener {
    handle: Handle,
}

impl TcpListener {
    /// Listens on `address` (`ip:port`; port 0 picks a free one).
    pub fn bind(address: &str) -> io::Result<TcpListener> {
        let (host, app) = link::host();
        let handle = result(host.tcp_listen()(app, RStr::from(address)))?;
        Ok(TcpListener { handle: Handle(handle) })
    }

    /// Waits for a connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_timeout(None)
    }

    /// Waits at most `timeout` for a connection.
    pub fn accept_timeout(&self, timeout: Option<Duration>) -> io::Result<(TcpStream, SocketAddr)> {
        let (host, app) = link::host();
        let accepted = result(host.tcp_accept()(app, &self.handle.0, timeout_ns(timeout)))?;
        let peer = parse_address(accepted.peer.as_str())?;
        Ok((TcpStream::from_handle(accepted.socket), peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.handle.address(false)
    }
}
