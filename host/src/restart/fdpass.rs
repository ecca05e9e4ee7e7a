//! Passing file descriptors between the old host and its successor over a unix socket (SCM_RIGHTS), and the
//! length-prefixed JSON messages around them.

use std::io::{BufRead, BufReader, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags, UnixAddr};

/// Most descriptors in one message (the kernel's SCM_MAX_FD is 253).
const FDS_PER_MESSAGE: usize = 250;

/// Sends `fds` in batches; the peer must call [`receive_fds`] with the same count.
pub fn send_fds(socket: &UnixStream, fds: &[RawFd]) -> std::io::Result<()> {
    for batch in fds.chunks(FDS_PER_MESSAGE) {
        let rights = [ControlMessage::ScmRights(batch)];
        sendmsg::<UnixAddr>(socket.as_raw_fd(), &[IoSlice::new(b"F")], &rights, MsgFlags::empty(), None)
            .map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// Receives `count` descriptors sent with [`send_fds`] (close-on-exec set).
pub fn receive_fds(socket: &UnixStream, count: usize) -> std::io::Result<Vec<RawFd>> {
    let mut fds = Vec::with_capacity(count);
    while fds.len() < count {
        let mut byte = [0u8; 1];
        let mut iov = [IoSliceMut::new(&mut byte)];
        let mut space = nix::cmsg_space!([RawFd; FDS_PER_MESSAGE]);
        let message = recvmsg::<UnixAddr>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
            .map_err(std::io::Error::from)?;
        if message.bytes == 0 {
            return Err(std::io::Error::other("the other host closed the handover socket"));
        }
        for control in message.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(received) = control {
                fds.extend(received);
            }
        }
    }
    Ok(fds)
}

/// Writes one JSON value, preceded by its length on a line of its own.
pub fn send_json(socket: &UnixStream, value: &serde_json::Value) -> std::io::Result<()> {
    let body = value.to_string();
    let mut message = format!("{}\n", body.len()).into_bytes();
    message.extend_from_slice(body.as_bytes());
    (&*socket).write_all(&message)
}

/// Reads one JSON value written by [`send_json`]: the length line byte by byte, then exactly the value, so that
/// nothing after it (a descriptor message) is consumed.
pub fn receive_json(socket: &UnixStream) -> std::io::Result<serde_json::Value> {
    let mut line = Vec::new();
    BufReader::with_capacity(1, socket).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(std::io::Error::other("the other host closed the handover socket"));
    }
    let length: usize = std::str::from_utf8(&line)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("malformed handover message length"))?;
    let mut body = vec![0u8; length];
    (&*socket).read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}
