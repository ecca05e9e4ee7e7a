//! The little HTTP/1.1 etcd's JSON gateway needs: one POST per connection (`Connection: close`), a response with
//! `Content-Length`, or chunked and possibly endless (a watch, a keep-alive stream), read line by line. Everything
//! runs on the host's green sockets ([`crate::net`]): a wait parks only the calling coroutine, and every read and
//! write has a deadline.

use std::time::Instant;

use crate::net::{self, Socket};

/// Response heads longer than this are refused.
const MAX_HEAD: usize = 16 << 10;
/// A response body, or one line of a stream, longer than this is refused.
const MAX_BODY: usize = 16 << 20;

/// A response being read.
pub struct Response {
    socket: Socket,
    /// The HTTP status.
    pub status: u16,
    framing: Framing,
    /// Bytes read from the socket and not decoded yet.
    raw: Vec<u8>,
    /// Body bytes decoded and not taken yet.
    body: Vec<u8>,
    /// The whole body has been decoded (or the peer closed).
    done: bool,
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

fn remaining(deadline: Instant) -> Result<std::time::Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("timed out".to_owned())
    } else {
        Ok(left)
    }
}

/// Sends `POST path` with a JSON `body` to `address` (`host:port`) and reads the response head, all before
/// `deadline`.
pub fn post(address: &str, path: &str, body: &[u8], deadline: Instant) -> Result<Response, String> {
    let socket = net::connect(address, Some(remaining(deadline)?)).map_err(|e| format!("connect: {}", e.message))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let mut written = 0;
    while written < request.len() {
        let n = socket
            .write(&request[written..], Some(remaining(deadline)?))
            .map_err(|e| format!("send: {}", e.message))?;
        if n == 0 {
            return Err("send: connection closed".to_owned());
        }
        written += n;
    }
    let mut raw = Vec::with_capacity(4096);
    loop {
        if read_some(&socket, &mut raw, deadline)? == 0 {
            return Err("connection closed before a response".to_owned());
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut head = httparse::Response::new(&mut headers);
        match head.parse(&raw) {
            Ok(httparse::Status::Complete(length)) => {
                let status = head.code.unwrap_or(0);
                let header = |name: &str| {
                    head.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                };
                let framing = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
                    Framing::Chunked
                } else if let Some(length) = header("content-length") {
                    Framing::Length(length.trim().parse().map_err(|_| format!("bad Content-Length {length:?}"))?)
                } else {
                    Framing::UntilClose
                };
                raw.drain(..length);
                return Ok(Response { socket, status, framing, raw, body: Vec::new(), done: false });
            }
            Ok(httparse::Status::Partial) if raw.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err("response head too long".to_owned()),
            Err(e) => return Err(format!("bad response head: {e}")),
        }
    }
}

/// Reads what the socket has into `raw`, waiting until `deadline` for some (a deadline already past still takes
/// what is there: a watch polled without waiting); 0 when the peer closed.
fn read_some(socket: &Socket, raw: &mut Vec<u8>, deadline: Instant) -> Result<usize, String> {
    let start = raw.len();
    raw.resize(start + 8192, 0);
    let read = socket.read(&mut raw[start..], Some(deadline.saturating_duration_since(Instant::now())));
    let n = *read.as_ref().unwrap_or(&0);
    raw.truncate(start + n);
    read.map_err(|e| format!("receive: {}", e.message))
}

/// Moves every complete chunk of `raw` into `body`; `Ok(true)` once the last (empty) chunk is in.
pub fn decode_chunks(raw: &mut Vec<u8>, body: &mut Vec<u8>) -> Result<bool, String> {
    loop {
        let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else { return Ok(false) };
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        if size > MAX_BODY {
            return Err(format!("chunk of {size} bytes is too long"));
        }
        let start = line_end + 2;
        if size == 0 {
            raw.clear();
            return Ok(true);
        }
        if raw.len() < start + size + 2 {
            return Ok(false);
        }
        body.extend_from_slice(&raw[start..start + size]);
        raw.drain(..start + size + 2);
    }
}

impl Response {
    /// Decodes what has been read; reads more only if nothing new could be decoded.
    fn fill(&mut self, deadline: Instant) -> Result<(), String> {
        let before = self.body.len();
        self.decode()?;
        if self.body.len() > before || self.done {
            return Ok(());
        }
        if read_some(&self.socket, &mut self.raw, deadline)? == 0 {
            self.done = true;
            if let Framing::Length(_) | Framing::Chunked = self.framing {
                if !self.raw.is_empty() || self.body.is_empty() {
                    return Err("connection closed in the middle of the response".to_owned());
                }
            }
            self.body.append(&mut self.raw);
        }
        self.decode()
    }

    fn decode(&mut self) -> Result<(), String> {
        match &mut self.framing {
            Framing::Chunked => self.done |= decode_chunks(&mut self.raw, &mut self.body)?,
            Framing::Length(left) => {
                let n = (*left).min(self.raw.len());
                self.body.extend(self.raw.drain(..n));
                *left -= n;
                self.done |= *left == 0;
            }
            Framing::UntilClose => self.body.append(&mut self.raw),
        }
        if self.body.len() > MAX_BODY {
            return Err("response too long".to_owned());
        }
        Ok(())
    }

    /// The whole body.
    pub fn read_to_end(mut self, deadline: Instant) -> Result<Vec<u8>, String> {
        while !self.done {
            self.fill(deadline)?;
        }
        Ok(self.body)
    }

    /// The next newline-terminated line of a streamed body (without the newline); `Ok(None)` when the stream has
    /// ended. An error after `deadline` has passed is that timeout, and the stream stays usable.
    pub fn next_line(&mut self, deadline: Instant) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(end) = self.body.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.body.drain(..=end).take(end).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.done {
                let rest = std::mem::take(&mut self.body);
                return Ok((!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest));
            }
            self.fill(deadline)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_decoded_as_they_complete() {
        let mut raw = b"5\r\nhello\r\n6;ext=1\r\n world\r\n3\r\n".to_vec();
        let mut body = Vec::new();
        assert_eq!(decode_chunks(&mut raw, &mut body), Ok(false));
        assert_eq!(body, b"hello world");
        assert_eq!(raw, b"3\r\n");
        raw.extend_from_slice(b"abc\r\n0\r\n\r\n");
        assert_eq!(decode_chunks(&mut raw, &mut body), Ok(true));
        assert_eq!(body, b"hello worldabc");
    }

    #[test]
    fn a_bad_chunk_size_is_an_error() {
        let mut body = Vec::new();
        assert!(decode_chunks(&mut b"zz\r\n".to_vec(), &mut body).is_err());
    }
}
