//! A minimal blocking HTTP/1.1 client for the REST tests: one connection, keep-alive, Content-Length bodies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// One client connection.
pub struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Extra header lines sent with every request (e.g. `Authorization: Bearer x`).
    pub extra: Vec<String>,
}

impl Client {
    /// Connects to `127.0.0.1:port`.
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the REST server");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
        Client { stream, buffer: Vec::new(), extra: Vec::new() }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    /// Sends a request and reads its response.
    pub fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for line in &self.extra {
            request.push_str(line);
            request.push_str("\r\n");
        }
        if let Some(body) = body {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or(""));
        self.send_raw(request.as_bytes());
        self.read_reply().unwrap_or_else(|| panic!("no response to {method} {path}"))
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&mut self, path: &str, body: &str) -> Reply {
        self.request("POST", path, Some(body))
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads one response; `None` if the server closed the connection first.
    pub fn read_reply(&mut self) -> Option<Reply> {
        let head_end = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            if !self.fill() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).into_owned();
        self.buffer.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?;
        let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let length: usize =
            headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        while self.buffer.len() < length {
            if !self.fill() {
                return None;
            }
        }
        let body = self.buffer.drain(..length).collect();
        Some(Reply { status, headers, body })
    }

    /// A second handle on the connection, e.g. to trickle bytes from another thread while this one reads.
    pub fn stream_clone(&self) -> TcpStream {
        self.stream.try_clone().expect("clone the client socket")
    }

    /// How long [`Client::read_reply`] waits for bytes before it gives up (20 s unless set).
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).expect("read timeout");
    }

    /// Whether the server has closed the connection (reads until EOF or 2 s).
    pub fn closed(&mut self) -> bool {
        self.stream.set_read_timeout(Some(Duration::from_secs(2))).expect("read timeout");
        let mut chunk = [0u8; 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}
