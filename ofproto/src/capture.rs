//! OpenFlow sessions in a pcap capture (what `tatsu run --capture` writes, or `tcpdump -w` of an OpenFlow port):
//! each TCP connection's messages, framed by their headers, with the time each arrived whole and its direction.
//!
//! The file and the TCP streams are [`tatsu_packet::pcap`]'s. Which end is the switch is told by what it says
//! (features replies, packet-ins, port status and flow-removed messages come from switches), else by the port
//! (6653 and 6633 are controllers'), else by who opened the connection (switches usually do).
//!
//! Bytes the capture does not have (a gap in the sequence numbers: a capture that dropped records under load)
//! cut a message short: what was framed before the gap is kept, and framing starts again at the first captured
//! segment after it that begins with a plausible header; what is skipped meanwhile is counted.

use std::net::SocketAddr;
use std::time::Duration;

use tatsu_packet::pcap::{self, Conversation, Flow, Piece};

/// A message as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// When its last byte was captured, since the Unix epoch.
    pub time: Duration,
    /// Sent by the switch (else by the controller).
    pub from_switch: bool,
    /// The whole message, header included.
    pub bytes: Vec<u8>,
}

/// One OpenFlow connection of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The switch's end.
    pub switch: SocketAddr,
    /// The controller's end.
    pub controller: SocketAddr,
    /// Every whole message of both directions, in the order they were captured.
    pub messages: Vec<Captured>,
    /// Bytes the sequence numbers say were sent but the capture does not have.
    pub missing_bytes: u64,
    /// Captured bytes skipped because they could not be framed (after a gap, or a bad length).
    pub skipped_bytes: u64,
}

/// The OpenFlow sessions of a pcap file, in the order their connections were first seen. TCP connections whose
/// bytes do not frame as OpenFlow are left out.
pub fn sessions(file: &[u8]) -> Result<Vec<Session>, pcap::Error> {
    Ok(pcap::conversations(file)?.iter().filter_map(session).collect())
}

/// Messages of one direction, framed: (time, bytes), missing bytes, skipped bytes.
struct Framed {
    messages: Vec<(Duration, Vec<u8>)>,
    missing: u64,
    skipped: u64,
}

fn plausible_header(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && (1..=6).contains(&bytes[0]) && bytes[1] <= 40 && u16::from_be_bytes([bytes[2], bytes[3]]) >= 8
}

fn frame(flow: &Flow) -> Framed {
    let mut framed = Framed { messages: Vec::new(), missing: 0, skipped: 0 };
    let mut buffer: Vec<u8> = Vec::new();
    let mut lost = false;
    for piece in &flow.pieces {
        match piece {
            Piece::Gap { missing, .. } => {
                framed.missing += missing;
                framed.skipped += buffer.len() as u64;
                buffer.clear();
                lost = true;
            }
            Piece::Data { time, bytes } => {
                if lost && !plausible_header(bytes) {
                    framed.skipped += bytes.len() as u64;
                    continue;
                }
                lost = false;
                buffer.extend_from_slice(bytes);
                let mut start = 0;
                while let Some(header) = buffer.get(start..start + 8) {
                    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
                    if length < 8 {
                        framed.skipped += (buffer.len() - start) as u64;
                        start = buffer.len();
                        lost = true;
                        break;
                    }
                    let Some(message) = buffer.get(start..start + length) else { break };
                    framed.messages.push((*time, message.to_vec()));
                    start += length;
                }
                buffer.drain(..start);
            }
        }
    }
    framed.skipped += buffer.len() as u64;
    framed
}

/// How many messages of a direction only a switch sends: features replies, packet-ins, flow-removed and port
/// status (the same type numbers in every version).
fn switch_messages(framed: &Framed) -> usize {
    framed.messages.iter().filter(|(_, bytes)| matches!(bytes[1], 6 | 10 | 11 | 12)).count()
}

fn session(conversation: &Conversation) -> Option<Session> {
    let framed = [frame(&conversation.flows[0]), frame(&conversation.flows[1])];
    let openflow = framed.iter().all(|f| f.messages.first().is_none_or(|(_, bytes)| plausible_header(bytes)));
    if !openflow || framed.iter().all(|f| f.messages.is_empty()) {
        return None;
    }
    let ends = conversation.ends.map(pcap::unmapped);
    let controller_port = |end: &SocketAddr| matches!(end.port(), 6653 | 6633);
    let switch_is_first = match switch_messages(&framed[0]).cmp(&switch_messages(&framed[1])) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal if controller_port(&ends[0]) != controller_port(&ends[1]) => {
            controller_port(&ends[1])
        }
        std::cmp::Ordering::Equal => conversation.initiator.is_none_or(|initiator| initiator == conversation.ends[0]),
    };
    let [first, second] = framed;
    let (from_first, from_second) = (first.messages.len(), second.messages.len());
    let mut messages = Vec::with_capacity(from_first + from_second);
    messages.extend(first.messages.into_iter().map(|(time, bytes)| Captured {
        time,
        from_switch: switch_is_first,
        bytes,
    }));
    messages.extend(second.messages.into_iter().map(|(time, bytes)| Captured {
        time,
        from_switch: !switch_is_first,
        bytes,
    }));
    // Stable: within one direction, and at equal times, capture order is kept.
    messages.sort_by_key(|message| message.time);
    let (switch, controller) = if switch_is_first { (ends[0], ends[1]) } else { (ends[1], ends[0]) };
    Some(Session {
        switch,
        controller,
        messages,
        missing_bytes: first.missing + second.missing,
        skipped_bytes: first.skipped + second.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatsu_packet::build::{tcp_flags, TcpSegment};
    use tatsu_packet::pcap::{emit_record, FileHeader, Segment};

    fn capture(segments: &[(&str, &str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        FileHeader::raw_ip().emit(&mut out);
        for (i, (src, dst, seq, payload)) in segments.iter().enumerate() {
            let tcp = TcpSegment { seq: *seq, ack: 0, flags: tcp_flags::ACK, window: 100 };
            let segment =
                Segment { src: src.parse().expect("address"), dst: dst.parse().expect("address"), tcp, payload };
            let mut packet = Vec::new();
            segment.emit(&mut packet).expect("emits");
            emit_record(Duration::from_secs(i as u64 + 1), &packet, &mut out);
        }
        out
    }

    fn header(version: u8, msg_type: u8, length: u16, xid: u32) -> Vec<u8> {
        let mut bytes = vec![version, msg_type];
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(&xid.to_be_bytes());
        bytes.resize(usize::from(length), 0);
        bytes
    }

    #[test]
    fn messages_split_across_segments_are_framed_and_the_switch_is_told_by_what_it_sends() {
        let (switch, controller) = ("127.0.0.1:40000", "127.0.0.1:30000");
        let hello = header(4, 0, 8, 1);
        let features = header(4, 6, 32, 2);
        let packet_in = header(4, 10, 40, 0);
        let mut from_switch = hello.clone();
        from_switch.extend_from_slice(&features[..10]);
        let mut rest = features[10..].to_vec();
        rest.extend_from_slice(&packet_in);
        let file = capture(&[
            (controller, switch, 0, &hello),
            (switch, controller, 0, &from_switch),
            (switch, controller, from_switch.len() as u32, &rest),
        ]);
        let sessions = sessions(&file).expect("readable");
        assert_eq!(sessions.len(), 1);
        let session = &sessions[0];
        assert_eq!(session.switch.to_string(), switch);
        let seen: Vec<(bool, u8, u64)> =
            session.messages.iter().map(|m| (m.from_switch, m.bytes[1], m.time.as_secs())).collect();
        assert_eq!(seen, [(false, 0, 1), (true, 0, 2), (true, 6, 3), (true, 10, 3)]);
        assert_eq!((session.missing_bytes, session.skipped_bytes), (0, 0));
    }

    #[test]
    fn after_a_gap_framing_starts_again_at_a_plausible_header() {
        let (switch, controller) = ("10.0.0.1:1000", "10.0.0.2:6653");
        let packet_in = header(1, 10, 20, 0);
        let file = capture(&[
            (switch, controller, 0, &packet_in[..12]),
            // 8 bytes and then a whole segment are not captured; this one starts mid-message.
            (switch, controller, 40, &packet_in[5..]),
            (switch, controller, 55, &packet_in),
        ]);
        let session = &sessions(&file).expect("readable")[0];
        assert_eq!(session.controller.port(), 6653);
        assert_eq!(session.messages.len(), 1);
        assert_eq!(session.messages[0].time.as_secs(), 3);
        assert_eq!((session.missing_bytes, session.skipped_bytes), (28, 12 + 15));
    }

    #[test]
    fn tcp_that_is_not_openflow_is_left_out() {
        let file = capture(&[("10.0.0.1:1", "10.0.0.2:80", 0, b"GET / HTTP/1.1\r\n\r\n")]);
        assert!(sessions(&file).expect("readable").is_empty());
    }
}
