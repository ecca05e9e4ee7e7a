//! RFC 6455 framing (section 5): the headers of frames clients send, checked as they arrive, messages put together
//! from fragments ([`Assembler`]), and the unmasked, unfragmented frames the server sends ([`encode`]).
//!
//! Nothing here touches a socket; every violation is a [`Violation`] carrying the close code the RFC names.

use std::borrow::Cow;

/// A continuation of a fragmented message.
pub const CONTINUATION: u8 = 0x0;
/// A text message (or its first fragment).
pub const TEXT: u8 = 0x1;
/// A binary message (or its first fragment).
pub const BINARY: u8 = 0x2;
/// Close.
pub const CLOSE: u8 = 0x8;
/// Ping.
pub const PING: u8 = 0x9;
/// Pong.
pub const PONG: u8 = 0xA;

/// Close code: the connection did its job.
pub const NORMAL: u16 = 1000;
/// Close code: the server is going away (stopping, or the app serving the path stopped).
pub const GOING_AWAY: u16 = 1001;
/// Close code: the peer broke the protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// Close code: a text message (or a close reason) is not UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// Close code: the peer broke a policy (here: it did not take its messages fast enough).
pub const POLICY_VIOLATION: u16 = 1008;
/// Close code: a frame or message is larger than the server takes.
pub const TOO_BIG: u16 = 1009;

/// Control frames carry at most this many payload bytes (and close reasons 2 fewer).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Why the connection must be failed: the close code to send and a reason for the log (and the close frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The close code.
    pub code: u16,
    /// What was wrong.
    pub reason: Cow<'static, str>,
}

impl Violation {
    fn protocol(reason: &'static str) -> Violation {
        Violation { code: PROTOCOL_ERROR, reason: Cow::Borrowed(reason) }
    }
}

/// A frame header as parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The final fragment of its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The masking key (clients must mask every frame).
    pub mask: [u8; 4],
    /// Payload bytes after the header.
    pub payload_len: usize,
    /// Header bytes (2 to 14).
    pub header_len: usize,
}

impl Header {
    /// The frame's length on the wire.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }

    fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// Parses the header of a client's frame at the start of `bytes`: `Ok(None)` while it is incomplete. Checks what can
/// be checked before the payload arrives: reserved bits (no extension is ever agreed), opcodes, control frames'
/// lengths and fragmentation, masking, and `max_payload` (1009 beyond, before a byte of the payload is held).
pub fn parse_header(bytes: &[u8], max_payload: usize) -> Result<Option<Header>, Violation> {
    let [first, second, ..] = *bytes else { return Ok(None) };
    if first & 0x70 != 0 {
        return Err(Violation::protocol("reserved bits set, and no extension was agreed"));
    }
    let fin = first & 0x80 != 0;
    let opcode = first & 0x0F;
    if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
        return Err(Violation::protocol("unknown opcode"));
    }
    if second & 0x80 == 0 {
        return Err(Violation::protocol("client frames must be masked"));
    }
    let (length, length_bytes) = match second & 0x7F {
        126 => {
            let Some(extended) = bytes.get(2..4) else { return Ok(None) };
            (u64::from(u16::from_be_bytes([extended[0], extended[1]])), 2)
        }
        127 => {
            let Some(extended) = bytes.get(2..10) else { return Ok(None) };
            let mut be = [0u8; 8];
            be.copy_from_slice(extended);
            let length = u64::from_be_bytes(be);
            if length >> 63 != 0 {
                return Err(Violation::protocol("the payload length's most significant bit is set"));
            }
            (length, 8)
        }
        short => (u64::from(short), 0),
    };
    let header = Header { fin, opcode, mask: [0; 4], payload_len: 0, header_len: 2 + length_bytes + 4 };
    if header.is_control() {
        if !fin {
            return Err(Violation::protocol("control frames must not be fragmented"));
        }
        if length > MAX_CONTROL_PAYLOAD as u64 {
            return Err(Violation::protocol("control frame payloads are at most 125 bytes"));
        }
    }
    let payload_len = match usize::try_from(length) {
        Ok(length) if length <= max_payload => length,
        _ => {
            let reason = format!("a frame of {length} payload bytes, more than the limit of {max_payload}");
            return Err(Violation { code: TOO_BIG, reason: Cow::Owned(reason) });
        }
    };
    let Some(mask) = bytes.get(2 + length_bytes..header.header_len) else { return Ok(None) };
    Ok(Some(Header { mask: [mask[0], mask[1], mask[2], mask[3]], payload_len, ..header }))
}

/// Unmasks (or masks: it is its own inverse) `payload` in place with `mask`.
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = payload.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let value = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

/// A whole frame as the server sends it: final, unmasked, `opcode` with `payload`.
pub fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        short @ 0..=125 => out.push(short as u8),
        medium @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(medium as u16).to_be_bytes());
        }
        long => {
            out.push(127);
            out.extend_from_slice(&(long as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A close frame with `code` and `reason` (cut to fit a control frame, at a character boundary).
pub fn encode_close(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    encode(CLOSE, &payload)
}

/// Whether a peer may send close code `code` (section 7.4: the defined codes that may appear on the wire, and the
/// ranges for libraries and applications).
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The code and reason of a close frame's (unmasked) payload; `None` if it has none.
pub fn parse_close(payload: &[u8]) -> Result<Option<(u16, &str)>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(Violation::protocol("a close payload of one byte")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            if !valid_close_code(code) {
                return Err(Violation::protocol("an invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| Violation {
                code: INVALID_DATA,
                reason: Cow::Borrowed("a close reason that is not UTF-8"),
            })?;
            Ok(Some((code, reason)))
        }
    }
}

/// What a client's frame amounts to.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// A fragment; the message is not whole yet.
    Partial,
    /// A whole message: its opcode ([`TEXT`], its UTF-8 checked, or [`BINARY`]) and its payload.
    Message(u8, Vec<u8>),
    /// A control frame (ping, pong or close), its payload unmasked.
    Control(u8, Vec<u8>),
}

/// Puts messages together from a client's data frames, within the message limit, checking text as it comes.
#[derive(Debug)]
pub struct Assembler {
    max_message: usize,
    /// The opcode of the message being put together, if one is.
    opcode: Option<u8>,
    data: Vec<u8>,
    /// Wire bytes of the message so far, headers included, so that empty fragments count too.
    wire: usize,
    /// Bytes of `data` known to be valid UTF-8 (up to a character that may still be incomplete).
    checked: usize,
}

impl Assembler {
    /// An assembler taking messages of at most `max_message` bytes (frames and their headers).
    pub fn new(max_message: usize) -> Assembler {
        Assembler { max_message, opcode: None, data: Vec::new(), wire: 0, checked: 0 }
    }

    /// Takes one frame (its payload still masked, as received); what it completes, if anything.
    pub fn frame(&mut self, header: &Header, mut payload: Vec<u8>) -> Result<Received, Violation> {
        unmask(&mut payload, header.mask);
        if header.is_control() {
            return Ok(Received::Control(header.opcode, payload));
        }
        match (header.opcode, self.opcode) {
            (CONTINUATION, None) => return Err(Violation::protocol("a continuation frame without a message")),
            (TEXT | BINARY, Some(_)) => {
                return Err(Violation::protocol("a new message before the fragmented one ended"))
            }
            (TEXT | BINARY, None) => {
                self.opcode = Some(header.opcode);
                self.wire = 0;
                self.checked = 0;
            }
            _ => {}
        }
        self.wire = self.wire.saturating_add(header.frame_len());
        if self.wire > self.max_message {
            let reason = format!("a message over the limit of {} bytes", self.max_message);
            return Err(Violation { code: TOO_BIG, reason: Cow::Owned(reason) });
        }
        if self.data.is_empty() && header.fin {
            self.data = payload;
        } else {
            self.data.extend_from_slice(&payload);
        }
        if self.opcode == Some(TEXT) {
            self.check_text(header.fin)?;
        }
        if !header.fin {
            return Ok(Received::Partial);
        }
        let opcode = self.opcode.take().unwrap_or(BINARY);
        Ok(Received::Message(opcode, std::mem::take(&mut self.data)))
    }

    /// Checks the text received since the last check (failing fast, section 8.1); at the message's end, an
    /// incomplete character is invalid too.
    fn check_text(&mut self, last: bool) -> Result<(), Violation> {
        let invalid = || Violation { code: INVALID_DATA, reason: Cow::Borrowed("a text message that is not UTF-8") };
        match std::str::from_utf8(&self.data[self.checked..]) {
            Ok(_) => self.checked = self.data.len(),
            Err(e) if e.error_len().is_none() && !last => self.checked += e.valid_up_to(),
            Err(_) => return Err(invalid()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks a frame the way a client would (the header's mask bit set, `key` inserted).
    fn masked(unmasked: &[u8], key: [u8; 4]) -> Vec<u8> {
        let length_bytes = match unmasked[1] & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_end = 2 + length_bytes;
        let mut out = unmasked[..header_end].to_vec();
        out[1] |= 0x80;
        out.extend_from_slice(&key);
        let mut payload = unmasked[header_end..].to_vec();
        unmask(&mut payload, key);
        out.extend_from_slice(&payload);
        out
    }

    /// Parses one whole frame and feeds it to `assembler`.
    fn feed(assembler: &mut Assembler, frame: &[u8]) -> Result<Received, Violation> {
        let header = parse_header(frame, 1 << 20)?.expect("a whole header");
        assert_eq!(header.frame_len(), frame.len());
        assembler.frame(&header, frame[header.header_len..].to_vec())
    }

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    #[test]
    fn the_examples_of_section_5_7() {
        // A single-frame unmasked text message: what the server sends.
        let hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        assert_eq!(encode(TEXT, b"Hello"), hello);
        // ... and, from a client, a protocol error: client frames must be masked.
        assert_eq!(parse_header(&hello, 1 << 20).map_err(|v| v.code), Err(PROTOCOL_ERROR));

        // A single-frame masked text message.
        let masked_hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(masked(&hello, KEY), masked_hello);
        let mut assembler = Assembler::new(1 << 20);
        assert_eq!(feed(&mut assembler, &masked_hello), Ok(Received::Message(TEXT, b"Hello".to_vec())));

        // A fragmented unmasked text message (masked here, as a client sends it).
        let first = masked(&[0x01, 0x03, 0x48, 0x65, 0x6c], KEY);
        let second = masked(&[0x80, 0x02, 0x6c, 0x6f], [1, 2, 3, 4]);
        assert_eq!(feed(&mut assembler, &first), Ok(Received::Partial));
        assert_eq!(feed(&mut assembler, &second), Ok(Received::Message(TEXT, b"Hello".to_vec())));

        // Unmasked ping, masked pong, both with "Hello".
        assert_eq!(encode(PING, b"Hello"), [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(feed(&mut assembler, &pong), Ok(Received::Control(PONG, b"Hello".to_vec())));

        // 256 bytes and 64 KiB binary messages in a single unmasked frame.
        let medium = encode(BINARY, &[7; 256]);
        assert_eq!(medium[..4], [0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(medium.len(), 4 + 256);
        let large = encode(BINARY, &[9; 65536]);
        assert_eq!(large[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(feed(&mut assembler, &masked(&medium, KEY)), Ok(Received::Message(BINARY, vec![7; 256])));
        assert_eq!(feed(&mut assembler, &masked(&large, KEY)), Ok(Received::Message(BINARY, vec![9; 65536])));
    }

    #[test]
    fn headers_arrive_in_pieces() {
        let frame = masked(&encode(BINARY, &[1; 300]), KEY);
        for cut in 0..8 {
            assert_eq!(parse_header(&frame[..cut], 1 << 20), Ok(None), "{cut} bytes");
        }
        let header = parse_header(&frame[..8], 1 << 20).expect("valid").expect("whole");
        assert_eq!((header.header_len, header.payload_len, header.fin, header.opcode), (8, 300, true, BINARY));
    }

    #[test]
    fn broken_frames_get_the_codes_the_rfc_names() {
        let code = |bytes: &[u8]| parse_header(bytes, 1000).map_err(|v| v.code);
        assert_eq!(code(&[0xC1, 0x80, 0, 0, 0, 0]), Err(PROTOCOL_ERROR), "RSV1 without an extension");
        assert_eq!(code(&[0x83, 0x80, 0, 0, 0, 0]), Err(PROTOCOL_ERROR), "opcode 3");
        assert_eq!(code(&[0x8B, 0x80, 0, 0, 0, 0]), Err(PROTOCOL_ERROR), "opcode 0xB");
        assert_eq!(code(&[0x09, 0x80, 0, 0, 0, 0]), Err(PROTOCOL_ERROR), "a fragmented ping");
        assert_eq!(code(&[0x89, 0xFE, 0, 126]), Err(PROTOCOL_ERROR), "a 126-byte ping");
        assert_eq!(
            code(&[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(PROTOCOL_ERROR),
            "a 64-bit length with its top bit"
        );
        assert_eq!(code(&[0x82, 0xFE, 0x03, 0xE9]), Err(TOO_BIG), "1001 bytes, over the limit");
        assert_eq!(code(&[0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0]), Err(TOO_BIG), "4 GiB");
        assert!(matches!(code(&[0x82, 0xFE, 0x03, 0xE8, 0, 0, 0, 0]), Ok(Some(_))), "1000 bytes, at the limit");

        let mut assembler = Assembler::new(1 << 20);
        let continuation = masked(&[0x80, 0x01, b'a'], KEY);
        assert_eq!(feed(&mut assembler, &continuation).map_err(|v| v.code), Err(PROTOCOL_ERROR));
        let mut assembler = Assembler::new(1 << 20);
        assert_eq!(feed(&mut assembler, &masked(&[0x01, 0x01, b'a'], KEY)), Ok(Received::Partial));
        let interloper = masked(&[0x81, 0x01, b'b'], KEY);
        assert_eq!(feed(&mut assembler, &interloper).map_err(|v| v.code), Err(PROTOCOL_ERROR));
    }

    #[test]
    fn text_is_checked_as_it_comes_and_characters_may_span_fragments() {
        let euro = "€".as_bytes(); // three bytes
        let mut assembler = Assembler::new(1 << 20);
        let first = masked(&[&[0x01, 0x02][..], &euro[..2]].concat(), KEY);
        let second = masked(&[&[0x80, 0x01][..], &euro[2..]].concat(), KEY);
        assert_eq!(feed(&mut assembler, &first), Ok(Received::Partial));
        assert_eq!(feed(&mut assembler, &second), Ok(Received::Message(TEXT, euro.to_vec())));

        // An invalid byte fails at once, without waiting for the message's end.
        let mut assembler = Assembler::new(1 << 20);
        let bad = masked(&[0x01, 0x02, b'a', 0xFF], KEY);
        assert_eq!(feed(&mut assembler, &bad).map_err(|v| v.code), Err(INVALID_DATA));
        // A character cut off by the message's end is invalid.
        let mut assembler = Assembler::new(1 << 20);
        let cut = masked(&[&[0x81, 0x02][..], &euro[..2]].concat(), KEY);
        assert_eq!(feed(&mut assembler, &cut).map_err(|v| v.code), Err(INVALID_DATA));
        // Binary messages are not text.
        let mut assembler = Assembler::new(1 << 20);
        assert_eq!(feed(&mut assembler, &masked(&[0x82, 0x01, 0xFF], KEY)), Ok(Received::Message(BINARY, vec![0xFF])));
    }

    #[test]
    fn endless_fragments_reach_the_message_limit_even_when_empty() {
        let mut assembler = Assembler::new(100);
        let start = masked(&[0x01, 0x00], KEY);
        let empty = masked(&[0x00, 0x00], KEY);
        let mut result = feed(&mut assembler, &start);
        let mut frames = 1;
        while result == Ok(Received::Partial) {
            result = feed(&mut assembler, &empty);
            frames += 1;
        }
        assert_eq!(result.map_err(|v| v.code), Err(TOO_BIG));
        assert_eq!(frames, 100 / 6 + 1, "six wire bytes a frame");
    }

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert_eq!(parse_close(&[0x03]).map_err(|v| v.code), Err(PROTOCOL_ERROR));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), Ok(Some((1000, "ok"))));
        for invalid in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            let payload = invalid.to_be_bytes();
            assert_eq!(parse_close(&payload).map_err(|v| v.code), Err(PROTOCOL_ERROR), "{invalid}");
        }
        assert_eq!(parse_close(&[0x03, 0xE8, 0xFF]).map_err(|v| v.code), Err(INVALID_DATA));
        let long = "é".repeat(100);
        let frame = encode_close(4000, &long);
        assert!(frame.len() <= 2 + MAX_CONTROL_PAYLOAD);
        assert!(matches!(parse_close(&frame[2..]), Ok(Some((4000, reason))) if reason.len() == 122));
    }

    #[test]
    fn unmasking_is_its_own_inverse_at_every_length() {
        for length in 0..20 {
            let original: Vec<u8> = (0..length as u8).collect();
            let mut data = original.clone();
            unmask(&mut data, KEY);
            let by_byte: Vec<u8> = original.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]).collect();
            assert_eq!(data, by_byte);
            unmask(&mut data, KEY);
            assert_eq!(data, original);
        }
    }
}
