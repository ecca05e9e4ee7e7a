//! A scripted OpenFlow switch on a real TCP connection, for protocol tests against a real host.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tatsu_ofproto::{
    v1_0, v1_2, v1_3, v1_4, v1_5, Message, OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_3, OFP_VERSION_1_4,
    OFP_VERSION_1_5,
};

/// One message read from the host: version, type, xid and the whole wire bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    pub version: u8,
    pub msg_type: u8,
    pub xid: u32,
    pub bytes: Vec<u8>,
}

/// What a test switch speaks over: plain TCP, or TLS (rustls, blocking).
pub enum Transport {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP.
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Transport {
    fn socket(&self) -> &TcpStream {
        match self {
            Transport::Tcp(stream) => stream,
            Transport::Tls(tls) => &tls.sock,
        }
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.socket().set_read_timeout(timeout)
    }

    fn try_clone(&self) -> std::io::Result<Transport> {
        match self {
            Transport::Tcp(stream) => stream.try_clone().map(Transport::Tcp),
            Transport::Tls(_) => Err(std::io::Error::other("a TLS session cannot be shared between handles")),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Transport::Tcp(stream) => stream.read(buf),
            Transport::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Transport::Tcp(stream) => stream.write(buf),
            Transport::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Transport::Tcp(stream) => stream.flush(),
            Transport::Tls(tls) => tls.flush(),
        }
    }
}

/// A test switch.
pub struct FakeSwitch {
    stream: Transport,
    /// The version agreed in [`FakeSwitch::handshake`].
    pub version: u8,
}

impl FakeSwitch {
    /// Connects to the host on `port`.
    pub fn connect(port: u16) -> FakeSwitch {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to tatsu");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        FakeSwitch { stream: Transport::Tcp(stream), version: 0 }
    }

    /// Connects to the host's TLS port and runs the TLS handshake with `config`; the error is rustls's.
    pub fn connect_tls(port: u16, config: std::sync::Arc<rustls::ClientConfig>) -> Result<FakeSwitch, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to tatsu");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        let name = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let mut connection = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        while connection.is_handshaking() {
            connection.complete_io(&mut stream).map_err(|e| e.to_string())?;
        }
        // In TLS 1.3 the host judges the switch's certificate after the switch's side of the handshake is done: a
        // refusal shows on the first read.
        Ok(FakeSwitch { stream: Transport::Tls(Box::new(rustls::StreamOwned::new(connection, stream))), version: 0 })
    }

    /// A second handle on the same connection (for reading on another thread).
    pub fn try_clone(&self) -> FakeSwitch {
        FakeSwitch { stream: self.stream.try_clone().expect("clone the connection"), version: self.version }
    }

    /// The switch's end of the connection.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.stream.socket().local_addr().expect("a connected socket")
    }

    /// The plain TCP stream under the switch (for tests that drive many switches from one loop); `None` on TLS.
    pub fn into_tcp(self) -> Option<TcpStream> {
        match self.stream {
            Transport::Tcp(stream) => Some(stream),
            Transport::Tls(_) => None,
        }
    }

    /// How long [`FakeSwitch::read`] waits (10 s unless set).
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.stream.set_read_timeout(Some(timeout)).expect("read timeout");
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to tatsu");
    }

    /// Sends raw bytes; `false` if the host closed the connection.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Sends a message under `xid`.
    pub fn send(&mut self, message: impl Into<Message>, xid: u32) {
        let bytes = message.into().to_vec(xid).expect("the test's message encodes");
        self.send_raw(&bytes);
    }

    /// Reads the next message; `None` if the host closed the connection.
    pub fn read(&mut self) -> Option<Frame> {
        let mut header = [0u8; 8];
        if self.stream.read_exact(&mut header).is_err() {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let mut bytes = header.to_vec();
        bytes.resize(length.max(8), 0);
        self.stream.read_exact(&mut bytes[8..]).ok()?;
        Some(Frame {
            version: header[0],
            msg_type: header[1],
            xid: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            bytes,
        })
    }

    /// Reads until a message of `msg_type` arrives, answering echo requests on the way.
    pub fn expect(&mut self, msg_type: u8) -> Frame {
        loop {
            let frame = self.read().unwrap_or_else(|| panic!("connection closed while waiting for type {msg_type}"));
            if frame.msg_type == msg_type {
                return frame;
            }
            if frame.msg_type == 2 {
                self.echo_reply(&frame);
            }
        }
    }

    /// Answers an echo request.
    pub fn echo_reply(&mut self, request: &Frame) {
        let mut reply = request.bytes.clone();
        reply[1] = 3;
        self.send_raw(&reply);
    }

    /// Whether the host closes the connection within `within` (messages before that are discarded).
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        self.stream.set_read_timeout(Some(Duration::from_millis(50))).expect("read timeout");
        let mut buffer = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.read(&mut buffer) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// Sends HELLO (header `version`, with a bitmap of `versions` if given) and reads the host's HELLO.
    pub fn hello(&mut self, version: u8, versions: Option<&[u8]>) -> Frame {
        let mut bytes = Vec::new();
        match versions {
            Some(versions) => tatsu_ofproto::encode_hello(version, versions, 1, &mut bytes).expect("a HELLO encodes"),
            None => bytes.extend_from_slice(&[version, 0, 0, 8, 0, 0, 0, 1]),
        }
        self.send_raw(&bytes);
        self.expect(0)
    }

    /// Runs a whole handshake as datapath `dpid` in `version` with `ports` ports (1.0 and 1.2: in the features
    /// reply; 1.3 to 1.5: port-desc in one part).
    pub fn handshake(&mut self, version: u8, dpid: u64, ports: u32) {
        self.hello(version, Some(&[version]));
        let request = self.expect(5);
        assert_eq!(request.version, version, "FEATURES_REQUEST in the agreed version");
        self.version = version;
        if version == OFP_VERSION_1_0 {
            let features = v1_0::SwitchFeatures {
                datapath_id: dpid,
                n_buffers: 256,
                n_tables: 1,
                capabilities: 0,
                actions: 0xfff,
                ports: (1..=ports)
                    .map(|n| v1_0::PhyPort {
                        port_no: u16::try_from(n).expect("port fits"),
                        name: format!("p{n}").as_str().into(),
                        ..Default::default()
                    })
                    .collect(),
            };
            self.send(v1_0::Message::FeaturesReply(features), request.xid);
            self.expect(9);
        } else if version == OFP_VERSION_1_2 {
            let features = v1_2::SwitchFeatures {
                datapath_id: dpid,
                n_buffers: 256,
                n_tables: 255,
                capabilities: 0x4f,
                reserved: 0,
                ports: (1..=ports).map(port_1_3).collect(),
            };
            self.send(v1_2::Message::FeaturesReply(features), request.xid);
            self.expect(9);
        } else {
            let features = v1_3::SwitchFeatures {
                datapath_id: dpid,
                n_buffers: 256,
                n_tables: 254,
                auxiliary_id: 0,
                capabilities: 0x4f,
                reserved: 0,
            };
            let features = match version {
                OFP_VERSION_1_4 => Message::V1_4(v1_4::Message::FeaturesReply(features)),
                OFP_VERSION_1_5 => Message::V1_5(v1_5::Message::FeaturesReply(features)),
                _ => Message::V1_3(v1_3::Message::FeaturesReply(features)),
            };
            self.send(features, request.xid);
            self.expect(9);
            let port_desc = self.expect(18);
            assert_eq!(port_desc.version, version, "PORT_DESC request in the agreed version");
            self.send(port_desc_reply_in(version, 1..=ports, false), port_desc.xid);
        }
    }
}

/// Port `n` as 1.2 and 1.3 describe it, named `p{n}`.
fn port_1_3(n: u32) -> v1_3::Port {
    v1_3::Port { port_no: n, name: format!("p{n}").as_str().into(), curr_speed: 1_000_000, ..Default::default() }
}

/// A 1.3 PORT_DESC reply part with ports `numbers`; `more` sets OFPMPF_REPLY_MORE.
pub fn port_desc_reply(numbers: std::ops::RangeInclusive<u32>, more: bool) -> v1_3::Message {
    v1_3::Message::MultipartReply(v1_3::MultipartReply {
        flags: u16::from(more),
        body: v1_3::multipart::MultipartReplyBody::PortDesc(numbers.map(port_1_3).collect()),
    })
}

/// Port `n` as 1.4 and 1.5 describe it (its features in an Ethernet property), named `p{n}`.
pub fn port_1_4(n: u32) -> v1_4::Port {
    let ethernet = v1_4::PortEthernet { curr: 0x820, curr_speed: 1_000_000, ..Default::default() };
    let [.., low] = n.to_be_bytes();
    v1_4::Port::ethernet(n, tatsu_ofproto::MacAddr([2, 0, 0, 0, 0, low]), &format!("p{n}"), ethernet)
}

/// A PORT_DESC reply part in `version` (1.3, 1.4 or 1.5) with ports `numbers`; `more` sets OFPMPF_REPLY_MORE.
pub fn port_desc_reply_in(version: u8, numbers: std::ops::RangeInclusive<u32>, more: bool) -> Message {
    let flags = u16::from(more);
    match version {
        OFP_VERSION_1_4 => {
            let body = v1_4::MultipartReplyBody::PortDesc(numbers.map(port_1_4).collect());
            Message::V1_4(v1_4::Message::MultipartReply(v1_4::MultipartReply { flags, body }))
        }
        OFP_VERSION_1_5 => {
            let body = v1_5::MultipartReplyBody::PortDesc(numbers.map(port_1_4).collect());
            Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply { flags, body }))
        }
        _ => port_desc_reply(numbers, more).into(),
    }
}

/// The version constants, re-exported for tests.
pub const V1_0: u8 = OFP_VERSION_1_0;
/// See [`V1_0`].
pub const V1_2: u8 = OFP_VERSION_1_2;
/// See [`V1_0`].
pub const V1_3: u8 = OFP_VERSION_1_3;
/// See [`V1_0`].
pub const V1_4: u8 = OFP_VERSION_1_4;
/// See [`V1_0`].
pub const V1_5: u8 = OFP_VERSION_1_5;
