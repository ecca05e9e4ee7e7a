//! Classic pcap files (the libpcap format, not pcapng) and the TCP/IP around a captured byte stream.
//!
//! Pure code, no I/O: what goes into a file and what comes out of one.
//!
//! * [`FileHeader`]: the 24-byte header, written little-endian with microsecond timestamps; read in either byte
//!   order, microsecond or nanosecond.
//! * [`emit_record`] and [`Records`]: the 16-byte record header and its data, both ways.
//! * [`Segment`]: a TCP segment inside an IPv4 or IPv6 packet, as a raw-IP record holds it
//!   ([`LINKTYPE_RAW`]): [`Segment::emit`] writes real headers with correct checksums; [`Segment::parse`]
//!   reads one out of a record of any link type listed here (raw IP, Ethernet, Linux cooked, BSD loopback).
//! * [`conversations`]: every TCP connection in a file, each direction's bytes put back in order (duplicates and
//!   retransmissions dropped, reordering undone, what was never captured marked as a [`Piece::Gap`]).
//!
//! Bad files never panic: every read returns an [`Error`] naming the byte offset and what was wrong.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TcpHeader, TransportSlice};

use crate::build::{tcp_flags, TcpSegment, DEFAULT_TTL};

/// The magic of a pcap file with microsecond timestamps (as written by [`FileHeader::emit`]).
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The magic of a pcap file with nanosecond timestamps.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// The first four bytes of a pcapng file (read by [`FileHeader::parse`] only to say so).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// BSD loopback: a 4-byte address family in the host's byte order, then the IP packet.
pub const LINKTYPE_NULL: u32 = 0;
/// Ethernet II (and 802.1Q tags).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Raw IP: each record is an IPv4 or IPv6 packet (what [`Segment::emit`] writes).
pub const LINKTYPE_RAW: u32 = 101;
/// Linux "cooked" capture (`tcpdump -i any`).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Raw IPv4.
pub const LINKTYPE_IPV4: u32 = 228;
/// Raw IPv6.
pub const LINKTYPE_IPV6: u32 = 229;

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// The snapshot length written: a record holds a whole IP packet.
pub const SNAPLEN: u32 = 65_535;
/// Most payload bytes [`Segment::emit`] puts in one segment (an IPv4 packet of 65,535 bytes); longer runs of
/// bytes are several segments.
pub const MAX_SEGMENT_PAYLOAD: usize = 65_535 - 20 - 20;

/// What is wrong with a file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the file.
    pub offset: usize,
    /// What is wrong.
    pub what: String,
}

impl Error {
    fn at(offset: usize, what: impl Into<String>) -> Error {
        Error { offset, what: what.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for Error {}

/// The file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// The link type of every record (`LINKTYPE_*`).
    pub linktype: u32,
    /// The longest record data the capture kept.
    pub snaplen: u32,
    /// Timestamps are in nanoseconds (else microseconds).
    pub nanos: bool,
    /// The file is big-endian.
    pub big_endian: bool,
}

impl FileHeader {
    /// The header [`Segment::emit`]'s records go under: raw IP, microseconds, little-endian.
    pub const fn raw_ip() -> FileHeader {
        FileHeader { linktype: LINKTYPE_RAW, snaplen: SNAPLEN, nanos: false, big_endian: false }
    }

    /// Writes the header (little-endian, whatever `big_endian` says).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let magic = if self.nanos { MAGIC_NANOS } else { MAGIC_MICROS };
        out.extend_from_slice(&magic.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        out.extend_from_slice(&self.snaplen.to_le_bytes());
        out.extend_from_slice(&self.linktype.to_le_bytes());
    }

    /// Reads the header at the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<FileHeader, Error> {
        if bytes.starts_with(&PCAPNG_MAGIC) {
            return Err(Error::at(0, "a pcapng file, not a classic pcap (convert it: editcap -F pcap IN OUT)"));
        }
        let Some(header) = bytes.get(..FILE_HEADER_LEN) else {
            return Err(Error::at(0, format!("{} bytes: too short for a pcap file header", bytes.len())));
        };
        let magic = [header[0], header[1], header[2], header[3]];
        let (big_endian, nanos) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (MAGIC_MICROS, _) => (false, false),
            (MAGIC_NANOS, _) => (false, true),
            (_, MAGIC_MICROS) => (true, false),
            (_, MAGIC_NANOS) => (true, true),
            _ => return Err(Error::at(0, "not a pcap file (unknown magic number)")),
        };
        let word = |at: usize| read_u32(&header[at..at + 4], big_endian);
        let major = if big_endian {
            u16::from_be_bytes([header[4], header[5]])
        } else {
            u16::from_le_bytes([header[4], header[5]])
        };
        if major != 2 {
            return Err(Error::at(4, format!("pcap version {major} (only 2 is known)")));
        }
        Ok(FileHeader { linktype: word(20) & 0x0fff_ffff, snaplen: word(16), nanos, big_endian })
    }
}

/// Whether `bytes` start like a pcap (or pcapng) file.
pub fn looks_like_pcap(bytes: &[u8]) -> bool {
    let Some(magic) = bytes.first_chunk::<4>() else { return false };
    *magic == PCAPNG_MAGIC
        || [MAGIC_MICROS, MAGIC_NANOS].iter().any(|m| m.to_le_bytes() == *magic || m.to_be_bytes() == *magic)
}

fn read_u32(bytes: &[u8], big_endian: bool) -> u32 {
    let word = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if big_endian {
        u32::from_be_bytes(word)
    } else {
        u32::from_le_bytes(word)
    }
}

/// Appends a record of `data` taken at `time` (since the Unix epoch), for a file of [`FileHeader::raw_ip`]
/// (microseconds, little-endian).
pub fn emit_record(time: Duration, data: &[u8], out: &mut Vec<u8>) {
    let seconds = u32::try_from(time.as_secs()).unwrap_or(u32::MAX);
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&seconds.to_le_bytes());
    out.extend_from_slice(&time.subsec_micros().to_le_bytes());
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(data);
}

/// One record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// When it was captured, since the Unix epoch.
    pub time: Duration,
    /// The length of the packet on the wire (more than `data` holds if the capture cut it).
    pub original_len: u32,
    /// What the capture kept.
    pub data: &'a [u8],
    /// Where the record starts in the file.
    pub offset: usize,
}

/// The records of a file, in order. A bad record ends the iteration with its error.
pub struct Records<'a> {
    header: FileHeader,
    bytes: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Records<'a> {
    /// Reads the file header of `bytes` and iterates over the records after it.
    pub fn new(bytes: &'a [u8]) -> Result<Records<'a>, Error> {
        let header = FileHeader::parse(bytes)?;
        Ok(Records { header, bytes, offset: FILE_HEADER_LEN, failed: false })
    }

    /// The file header.
    pub fn header(&self) -> FileHeader {
        self.header
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let offset = self.offset;
        let Some(head) = self.bytes.get(offset..offset + RECORD_HEADER_LEN) else {
            self.failed = true;
            let left = self.bytes.len() - offset;
            return Some(Err(Error::at(offset, format!("truncated record header ({left} of 16 bytes)"))));
        };
        let big_endian = self.header.big_endian;
        let (seconds, fraction) = (read_u32(&head[0..4], big_endian), read_u32(&head[4..8], big_endian));
        let (included, original_len) = (read_u32(&head[8..12], big_endian), read_u32(&head[12..16], big_endian));
        let start = offset + RECORD_HEADER_LEN;
        let data = usize::try_from(included).ok().and_then(|n| self.bytes.get(start..start.checked_add(n)?));
        let Some(data) = data else {
            self.failed = true;
            return Some(Err(Error::at(offset, format!("truncated record: it says {included} bytes follow"))));
        };
        let fraction = if self.header.nanos { fraction } else { fraction.saturating_mul(1000) };
        let time = Duration::from_secs(u64::from(seconds)) + Duration::from_nanos(u64::from(fraction.min(999_999_999)));
        self.offset = start + data.len();
        Some(Ok(Record { time, original_len, data, offset }))
    }
}

/// A TCP segment between two endpoints, inside an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The sender.
    pub src: SocketAddr,
    /// The receiver.
    pub dst: SocketAddr,
    /// Sequence number, acknowledgment number, flags and window.
    pub tcp: TcpSegment,
    /// The bytes it carries.
    pub payload: &'a [u8],
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a socket bound to `::` reports for IPv4 peers) as IPv4.
pub fn unmapped(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), address.port()),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

impl Segment<'_> {
    /// Appends the IP packet (IPv4 or IPv6, by the addresses; IPv4-mapped addresses are written as IPv4) with
    /// correct checksums. Fails if one end is IPv4 and the other IPv6, or the payload is over
    /// [`MAX_SEGMENT_PAYLOAD`]; nothing is written then.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), crate::build::BuildError> {
        if self.payload.len() > MAX_SEGMENT_PAYLOAD {
            return Err(crate::build::BuildError::PayloadTooLarge { len: self.payload.len() });
        }
        let (src, dst) = (unmapped(self.src), unmapped(self.dst));
        let mut header = TcpHeader::new(src.port(), dst.port(), self.tcp.seq, self.tcp.window);
        let flags = self.tcp.flags;
        header.acknowledgment_number = self.tcp.ack;
        header.fin = flags & tcp_flags::FIN != 0;
        header.syn = flags & tcp_flags::SYN != 0;
        header.rst = flags & tcp_flags::RST != 0;
        header.psh = flags & tcp_flags::PSH != 0;
        header.ack = flags & tcp_flags::ACK != 0;
        let written = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                PacketBuilder::ipv4(s.octets(), d.octets(), DEFAULT_TTL).tcp_header(header).write(out, self.payload)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                PacketBuilder::ipv6(s.octets(), d.octets(), DEFAULT_TTL).tcp_header(header).write(out, self.payload)
            }
            _ => return Err(crate::build::BuildError::AddressFamilyMismatch),
        };
        written.map_err(|_| crate::build::BuildError::PayloadTooLarge { len: self.payload.len() })
    }
}

impl<'a> Segment<'a> {
    /// The TCP segment in a record's data of link type `linktype`; `None` if the record holds something else
    /// (not IP, not TCP, an IP fragment, a link type not listed here) or is malformed.
    pub fn parse(linktype: u32, data: &'a [u8]) -> Option<Segment<'a>> {
        let packet = match linktype {
            LINKTYPE_ETHERNET => SlicedPacket::from_ethernet(data),
            LINKTYPE_LINUX_SLL => SlicedPacket::from_linux_sll(data),
            LINKTYPE_NULL => SlicedPacket::from_ip(data.get(4..)?),
            LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => SlicedPacket::from_ip(data),
            _ => return None,
        }
        .ok()?;
        let (src_ip, dst_ip) = match packet.net? {
            NetSlice::Ipv4(ip) => (IpAddr::V4(ip.header().source_addr()), IpAddr::V4(ip.header().destination_addr())),
            NetSlice::Ipv6(ip) => (IpAddr::V6(ip.header().source_addr()), IpAddr::V6(ip.header().destination_addr())),
            NetSlice::Arp(_) => return None,
        };
        let TransportSlice::Tcp(tcp) = packet.transport? else { return None };
        let mut flags = 0;
        for (set, bit) in [
            (tcp.fin(), tcp_flags::FIN),
            (tcp.syn(), tcp_flags::SYN),
            (tcp.rst(), tcp_flags::RST),
            (tcp.psh(), tcp_flags::PSH),
            (tcp.ack(), tcp_flags::ACK),
        ] {
            if set {
                flags |= bit;
            }
        }
        Some(Segment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            tcp: TcpSegment {
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags,
                window: tcp.window_size(),
            },
            payload: tcp.payload(),
        })
    }
}

/// A run of one direction's bytes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Bytes, as the segment captured at `time` carried them (less what earlier segments already had).
    Data {
        /// When the segment was captured.
        time: Duration,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Bytes that were sent (the sequence numbers say so) but are not in the capture.
    Gap {
        /// When the segment after the gap was captured.
        time: Duration,
        /// How many bytes are missing.
        missing: u64,
    },
}

/// One direction of a connection: its bytes in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    /// The pieces, in sequence order.
    pub pieces: Vec<Piece>,
    /// The next sequence number expected, once a segment set it.
    next: Option<u32>,
    /// Segments that came before their turn, by sequence number.
    early: Vec<(u32, Duration, Vec<u8>)>,
}

/// Segments held waiting for the bytes before them, at most, before the bytes are given up as not captured.
const MAX_EARLY_SEGMENTS: usize = 64;

impl Flow {
    fn add(&mut self, time: Duration, segment: &Segment<'_>) {
        let syn = segment.tcp.flags & tcp_flags::SYN != 0;
        let seq = if syn { segment.tcp.seq.wrapping_add(1) } else { segment.tcp.seq };
        let next = *self.next.get_or_insert(seq);
        if syn && self.pieces.is_empty() {
            self.next = Some(seq);
        }
        if segment.payload.is_empty() {
            return;
        }
        let ahead = seq.wrapping_sub(next);
        if ahead == 0 || ahead > u32::MAX / 2 {
            self.take(time, seq, segment.payload);
            self.release_early();
        } else {
            self.early.push((seq, time, segment.payload.to_vec()));
            if self.early.len() > MAX_EARLY_SEGMENTS {
                self.skip_gap();
            }
        }
    }

    /// Appends the part of `payload` (starting at `seq`) not already taken.
    fn take(&mut self, time: Duration, seq: u32, payload: &[u8]) {
        let next = self.next.unwrap_or(seq);
        let behind = usize::try_from(next.wrapping_sub(seq)).unwrap_or(usize::MAX);
        if behind >= payload.len() {
            return; // a retransmission of what was taken
        }
        let fresh = &payload[behind..];
        self.next = Some(next.wrapping_add(u32::try_from(fresh.len()).unwrap_or(u32::MAX)));
        self.pieces.push(Piece::Data { time, bytes: fresh.to_vec() });
    }

    /// Takes every held segment whose turn has come.
    fn release_early(&mut self) {
        while let Some(next) = self.next {
            let Some(index) = self.early.iter().position(|(seq, _, payload)| {
                let ahead = seq.wrapping_sub(next);
                ahead == 0 || (ahead > u32::MAX / 2 && next.wrapping_sub(*seq) < payload.len() as u32)
            }) else {
                break;
            };
            let (seq, time, payload) = self.early.swap_remove(index);
            self.take(time, seq, &payload);
        }
        // Held segments wholly behind by now are retransmissions.
        if let Some(next) = self.next {
            self.early.retain(|(seq, _, _)| seq.wrapping_sub(next) <= u32::MAX / 2);
        }
    }

    /// Gives up the bytes before the nearest held segment: a gap, then that segment and what follows it.
    fn skip_gap(&mut self) {
        let Some(next) = self.next else { return };
        let Some(nearest) = self.early.iter().map(|(seq, time, _)| (seq.wrapping_sub(next), *time)).min() else {
            return;
        };
        self.pieces.push(Piece::Gap { time: nearest.1, missing: u64::from(nearest.0) });
        self.next = Some(next.wrapping_add(nearest.0));
        self.release_early();
    }

    fn finish(&mut self) {
        while !self.early.is_empty() {
            self.skip_gap();
        }
    }
}

/// One TCP connection of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// The endpoints: `flows[0]` goes from `ends[0]` to `ends[1]`, `flows[1]` back.
    pub ends: [SocketAddr; 2],
    /// Each direction's bytes.
    pub flows: [Flow; 2],
    /// The end that opened the connection, if the capture has its SYN.
    pub initiator: Option<SocketAddr>,
    /// When the first segment of the connection was captured.
    pub started: Duration,
}

impl Conversation {
    fn new(segment: &Segment<'_>, time: Duration) -> Conversation {
        Conversation {
            ends: [segment.src, segment.dst],
            flows: [Flow::default(), Flow::default()],
            initiator: None,
            started: time,
        }
    }

    fn has_data(&self) -> bool {
        self.flows.iter().any(|flow| !flow.pieces.is_empty() || !flow.early.is_empty())
    }
}

/// Every TCP connection in a pcap file, in the order each was first seen. A SYN on an address pair that already
/// carried data starts a new connection. Records that are not TCP are skipped; a bad record ends the file with
/// its error.
pub fn conversations(bytes: &[u8]) -> Result<Vec<Conversation>, Error> {
    let records = Records::new(bytes)?;
    let linktype = records.header().linktype;
    let mut done: Vec<(usize, Conversation)> = Vec::new();
    let mut open: HashMap<(SocketAddr, SocketAddr), (usize, Conversation)> = HashMap::new();
    let mut order = 0usize;
    for record in records {
        let record = record?;
        let Some(segment) = Segment::parse(linktype, record.data) else { continue };
        let key = if segment.src <= segment.dst { (segment.src, segment.dst) } else { (segment.dst, segment.src) };
        let opening = segment.tcp.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
        if opening && open.get(&key).is_some_and(|(_, conversation)| conversation.has_data()) {
            if let Some(finished) = open.remove(&key) {
                done.push(finished);
            }
        }
        let (_, conversation) = open.entry(key).or_insert_with(|| {
            order += 1;
            (order, Conversation::new(&segment, record.time))
        });
        if opening {
            conversation.initiator = Some(segment.src);
        }
        let direction = usize::from(segment.src != conversation.ends[0]);
        conversation.flows[direction].add(record.time, &segment);
    }
    done.extend(open.into_values());
    done.sort_by_key(|(order, _)| *order);
    Ok(done
        .into_iter()
        .map(|(_, mut conversation)| {
            conversation.flows.iter_mut().for_each(Flow::finish);
            conversation
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    fn file(segments: &[(u64, Segment<'_>)]) -> Vec<u8> {
        let mut out = Vec::new();
        FileHeader::raw_ip().emit(&mut out);
        for (micros, segment) in segments {
            let mut packet = Vec::new();
            segment.emit(&mut packet).expect("emits");
            emit_record(Duration::from_micros(*micros), &packet, &mut out);
        }
        out
    }

    fn data(src: &str, dst: &str, seq: u32, payload: &[u8]) -> Segment<'static> {
        let payload: &'static [u8] = Box::leak(payload.to_vec().into_boxed_slice());
        let tcp = TcpSegment { seq, ack: 0, flags: tcp_flags::ACK | tcp_flags::PSH, window: 65_535 };
        Segment { src: addr(src), dst: addr(dst), tcp, payload }
    }

    #[test]
    fn a_written_file_reads_back_with_its_header_records_and_segments() {
        let segment = data("[::ffff:127.0.0.1]:40000", "127.0.0.1:6653", 7, b"hello");
        let bytes = file(&[(1_500_000, segment)]);
        assert!(looks_like_pcap(&bytes));
        let mut records = Records::new(&bytes).expect("a header");
        assert_eq!(records.header(), FileHeader::raw_ip());
        let record = records.next().expect("one record").expect("readable");
        assert_eq!(record.time, Duration::from_micros(1_500_000));
        assert!(records.next().is_none());
        let parsed = Segment::parse(LINKTYPE_RAW, record.data).expect("a TCP segment");
        assert_eq!((parsed.src, parsed.dst), (addr("127.0.0.1:40000"), addr("127.0.0.1:6653")));
        assert_eq!((parsed.tcp.seq, parsed.payload), (7, &b"hello"[..]));
        // The IPv4 header checksum is right: summed with it, the header is all ones.
        let header = &record.data[..20];
        let sum = header.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum::<u32>();
        assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff);
    }

    #[test]
    fn segments_of_ethernet_linux_cooked_and_loopback_captures_read_too() {
        let (src, dst) = (addr("10.0.0.1:40000"), addr("10.0.0.2:6653"));
        let tcp = TcpSegment { seq: 5, ack: 9, flags: tcp_flags::ACK | tcp_flags::PSH, window: 512 };
        let eth = crate::build::EthHeader::new(crate::MacAddr([2, 0, 0, 0, 0, 1]), crate::MacAddr([2, 0, 0, 0, 0, 2]));
        let frame = crate::build::tcp(&eth, src, dst, &tcp, b"of").expect("a frame");
        let mut ip = Vec::new();
        Segment { src, dst, tcp, payload: b"of" }.emit(&mut ip).expect("emits");
        let mut cooked = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        cooked.extend_from_slice(&ip);
        let mut loopback = 2u32.to_le_bytes().to_vec();
        loopback.extend_from_slice(&ip);
        for (linktype, data) in [(LINKTYPE_ETHERNET, &frame), (LINKTYPE_LINUX_SLL, &cooked), (LINKTYPE_NULL, &loopback)]
        {
            let segment = Segment::parse(linktype, data).unwrap_or_else(|| panic!("link type {linktype}"));
            assert_eq!((segment.src, segment.dst, segment.tcp, segment.payload), (src, dst, tcp, &b"of"[..]));
        }
        assert_eq!(Segment::parse(LINKTYPE_RAW, &frame), None, "an Ethernet frame is not raw IP");
        assert_eq!(Segment::parse(999, &ip), None, "unknown link types are skipped");
    }

    #[test]
    fn ipv6_and_big_endian_nanosecond_files_read_too() {
        let segment = data("[2001:db8::1]:1", "[2001:db8::2]:2", 0, b"x");
        let mut packet = Vec::new();
        segment.emit(&mut packet).expect("emits");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&MAGIC_NANOS.to_be_bytes());
        bytes.extend_from_slice(&[0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 101]);
        for word in [3u32, 5, packet.len() as u32, packet.len() as u32] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend_from_slice(&packet);
        let record = Records::new(&bytes).expect("header").next().expect("record").expect("readable");
        assert_eq!(record.time, Duration::new(3, 5));
        assert_eq!(Segment::parse(LINKTYPE_RAW, record.data).map(|s| s.payload), Some(&b"x"[..]));
    }

    #[test]
    fn streams_are_put_back_in_order_without_duplicates_and_gaps_are_marked() {
        let (a, b) = ("10.0.0.1:5000", "10.0.0.2:6653");
        let syn = Segment {
            src: addr(a),
            dst: addr(b),
            tcp: TcpSegment { seq: u32::MAX, ack: 0, flags: tcp_flags::SYN, window: 1 },
            payload: &[],
        };
        let bytes = file(&[
            (1, syn),
            (2, data(a, b, 0, b"abc")),
            (3, data(a, b, 6, b"ghi")), // early
            (4, data(a, b, 3, b"def")),
            (5, data(a, b, 3, b"def")), // retransmitted
            (6, data(b, a, 100, b"reply")),
            (7, data(a, b, 20, b"after a gap")),
        ]);
        let conversations = conversations(&bytes).expect("readable");
        assert_eq!(conversations.len(), 1);
        let conversation = &conversations[0];
        assert_eq!(conversation.initiator, Some(addr(a)));
        let text = |flow: &Flow| {
            flow.pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Data { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                    Piece::Gap { missing, .. } => format!("[{missing}]"),
                })
                .collect::<String>()
        };
        assert_eq!(text(&conversation.flows[0]), "abcdefghi[11]after a gap");
        assert_eq!(text(&conversation.flows[1]), "reply");
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        assert!(FileHeader::parse(b"").is_err());
        assert!(FileHeader::parse(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]).is_err_and(|e| e.what.contains("pcapng")));
        assert!(FileHeader::parse(&[0u8; 24]).is_err_and(|e| e.what.contains("magic")));
        let mut bytes = file(&[(1, data("1.1.1.1:1", "2.2.2.2:2", 0, b"abc"))]);
        bytes.truncate(bytes.len() - 1);
        let error = conversations(&bytes).expect_err("truncated");
        assert_eq!(error.offset, FILE_HEADER_LEN);
        // Every prefix and a byte flipped anywhere: an answer, never a panic.
        let whole =
            file(&[(1, data("1.1.1.1:1", "2.2.2.2:2", 0, b"abc")), (2, data("2.2.2.2:2", "1.1.1.1:1", 9, b"d"))]);
        for end in 0..whole.len() {
            let _ = conversations(&whole[..end]);
            let mut flipped = whole.clone();
            flipped[end] ^= 0xff;
            let _ = conversations(&flipped);
        }
    }
}
