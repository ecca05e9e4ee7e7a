//! The two system calls the hot path makes on a switch's socket, per read and per write, made directly.
//!
//! glibc's `recv` and `send` are pthread cancellation points: each call is wrapped in two more that switch the
//! thread's cancellation state on and off (1.5–2 % of tatsu's CPU in cbench's latency mode, where every packet-in
//! costs one of each). tatsu never cancels a thread, so it calls the kernel through `syscall`, which is not one.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// Reads at most `buffer.len()` bytes from the non-blocking socket `fd` into `buffer`; returns how many the kernel
/// wrote there (0: the peer closed). `WouldBlock` when nothing is waiting.
pub(super) fn receive(fd: RawFd, buffer: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `recvfrom` writes at most `buffer.len()` bytes at `buffer`, which the caller lends exclusively; the
    // address arguments are null, so it writes nothing else.
    let n = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_recvfrom,
            fd,
            buffer.as_mut_ptr(),
            buffer.len(),
            0,
            std::ptr::null_mut::<nix::libc::sockaddr>(),
            std::ptr::null_mut::<nix::libc::socklen_t>(),
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Writes what it can of `bytes` to the non-blocking socket `fd` without raising `SIGPIPE` (as std's streams do);
/// returns how many bytes it took. `WouldBlock` when its send buffer is full.
pub(super) fn send(fd: RawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: `sendto` reads at most `bytes.len()` bytes at `bytes`; the address arguments are null and 0.
    let n = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_sendto,
            fd,
            bytes.as_ptr(),
            bytes.len(),
            nix::libc::MSG_NOSIGNAL,
            std::ptr::null::<nix::libc::sockaddr>(),
            0 as nix::libc::socklen_t,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    #[test]
    fn bytes_sent_through_one_socket_are_received_from_the_other_and_an_empty_one_would_block() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let mut buffer = [MaybeUninit::<u8>::uninit(); 16];

        let empty = receive(ours.as_raw_fd(), &mut buffer).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);

        peer.write_all(b"hello").unwrap();
        let mut got = Vec::new();
        while got.len() < 5 {
            match receive(ours.as_raw_fd(), &mut buffer) {
                // SAFETY: the kernel wrote the first `n` bytes.
                Ok(n) => got.extend(buffer[..n].iter().map(|b| unsafe { b.assume_init() })),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"hello");

        assert_eq!(send(ours.as_raw_fd(), b"world").unwrap(), 5);
        let mut answer = [0; 5];
        peer.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"world");

        drop(peer);
        let closed = loop {
            match receive(ours.as_raw_fd(), &mut buffer) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                other => break other.unwrap(),
            }
        };
        assert_eq!(closed, 0, "a closed peer reads as 0 bytes");
        // Writing to a peer that is gone fails (EPIPE or ECONNRESET once its reset has come back).
        let failed = (0..100).find_map(|_| send(ours.as_raw_fd(), &[0; 1024]).err());
        assert!(failed.is_some());
    }
}
