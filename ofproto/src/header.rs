//! The 8-byte OpenFlow header and stream framing.

use crate::error::{DecodeError, EncodeError};
use crate::wire::Put;

/// Length of the OpenFlow header.
pub const HEADER_LEN: usize = 8;
/// The longest OpenFlow message: what the header's 16-bit length holds.
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;

/// The common OpenFlow header (`ofp_header`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// Wire protocol version (0x01 = 1.0, 0x03 = 1.2, 0x04 = 1.3, 0x05 = 1.4, 0x06 = 1.5).
    pub version: u8,
    /// Message type (`OFPT_*`).
    pub msg_type: u8,
    /// Total message length including the header.
    pub length: u16,
    /// Transaction id.
    pub xid: u32,
}

impl Header {
    /// Parses the first 8 bytes of `buf`; checks only that 8 bytes exist and length >= 8.
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<Header, DecodeError> {
        let h = buf.get(..HEADER_LEN).ok_or_else(|| {
            DecodeError::new("OFP_HEADER", buf.len(), format!("need 8 header bytes, have {}", buf.len()))
        })?;
        let length = u16::from_be_bytes([h[2], h[3]]);
        if (length as usize) < HEADER_LEN {
            return Err(DecodeError::new(
                "OFP_HEADER",
                2,
                format!("length {} is shorter than the 8-byte header", length),
            ));
        }
        Ok(Header { version: h[0], msg_type: h[1], length, xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]) })
    }

    /// The message at the front of `buf` if it is one of `version` and `msg_type` (`what`, for errors: "an
    /// OpenFlow 1.0 packet-in"), cut to its header's length: what a typed view checks first, with
    /// [`Header::parse`]'s checks. The errors are built out of line, so that the common case keeps the header's
    /// bytes in registers: a `Header` returned through a `Result` with a `DecodeError` went through the stack in
    /// pieces that cost a store-forwarding stall per message.
    #[inline]
    pub fn message_of<'a>(
        buf: &'a [u8],
        version: u8,
        msg_type: u8,
        name: &'static str,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        if let [v, t, high, low, _, _, _, _, ..] = *buf {
            let length = usize::from(u16::from_be_bytes([high, low]));
            if v == version && t == msg_type && length >= HEADER_LEN {
                if let Some(message) = buf.get(..length) {
                    return Ok(message);
                }
            }
        }
        Err(Self::not_a_message_of(buf, version, msg_type, name, what))
    }

    #[cold]
    fn not_a_message_of(buf: &[u8], version: u8, msg_type: u8, name: &'static str, what: &str) -> DecodeError {
        let h = match Header::parse(buf) {
            Ok(h) => h,
            Err(e) => return e,
        };
        if h.version != version || h.msg_type != msg_type {
            return DecodeError::new(name, 0, format!("not {what} (version {}, type {})", h.version, h.msg_type));
        }
        DecodeError::new(
            name,
            buf.len(),
            format!("truncated: header length is {} but only {} bytes present", h.length, buf.len()),
        )
    }

    /// Appends the header to `out`.
    #[inline]
    pub fn emit(&self, out: &mut Vec<u8>) {
        let [high, low] = self.length.to_be_bytes();
        let [a, b, c, d] = self.xid.to_be_bytes();
        out.extend_from_slice(&[self.version, self.msg_type, high, low, a, b, c, d]);
    }
}

/// A zero-copy view of a header at the start of a buffer.
#[derive(Clone, Copy, Debug)]
pub struct HeaderView<'a>(&'a [u8]);

impl<'a> HeaderView<'a> {
    /// Checks that `buf` holds at least 8 bytes.
    pub fn new(buf: &'a [u8]) -> Option<Self> {
        (buf.len() >= HEADER_LEN).then_some(HeaderView(buf))
    }
    /// Version byte.
    pub fn version(&self) -> u8 {
        self.0[0]
    }
    /// Type byte.
    pub fn msg_type(&self) -> u8 {
        self.0[1]
    }
    /// Length field.
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.0[2], self.0[3]])
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        u32::from_be_bytes([self.0[4], self.0[5], self.0[6], self.0[7]])
    }
}

/// Stream framing: the length of the first message in `buf`.
///
/// Returns `None` when fewer than 8 bytes are buffered, `Some(Err)` when the
/// header's length is below 8 (the stream cannot be resynchronised), and
/// `Some(Ok(n))` otherwise; the caller must wait until `buf.len() >= n`.
pub fn frame_len(buf: &[u8]) -> Option<Result<usize, DecodeError>> {
    let h = HeaderView::new(buf)?;
    let n = h.length() as usize;
    if n < HEADER_LEN {
        return Some(Err(DecodeError::new("OFP_HEADER", 2, format!("length {} is shorter than the 8-byte header", n))));
    }
    Some(Ok(n))
}

/// A message and the bytes after it.
pub type Split<'a> = (&'a [u8], &'a [u8]);

/// Splits the first complete message off `buf`: `Ok(Some((message, rest)))`,
/// `Ok(None)` if more bytes are needed.
pub fn split_frame(buf: &[u8]) -> Result<Option<Split<'_>>, DecodeError> {
    match frame_len(buf) {
        None => Ok(None),
        Some(Err(e)) => Err(e),
        Some(Ok(n)) if buf.len() >= n => Ok(Some(buf.split_at(n))),
        Some(Ok(_)) => Ok(None),
    }
}

/// Appends a whole message: the header (`version`, `msg_type`, `xid`), then the body written by `body`, then
/// fills in the length. `name` names the message type in errors.
///
/// On error `out` is left as it was: a message is written whole or not at all. The header's own length is
/// checked last, so a message that is too long as a whole is reported as [`EncodeError::MessageTooLong`] with
/// its full length unless a field inside it overflowed first.
pub(crate) fn encode_message(
    out: &mut Vec<u8>,
    (version, msg_type, xid): (u8, u8, u32),
    name: &'static str,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    Header { version, msg_type, length: 0, xid }.emit(out);
    let written = body(out).and_then(|()| {
        let length = out.len() - start;
        let field = u16::try_from(length).map_err(|_| EncodeError::MessageTooLong { msg_type: name, length })?;
        out.set_u16(start + 2, field);
        Ok(())
    });
    if written.is_err() {
        out.truncate(start);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_of_cuts_the_message_and_says_why_not() {
        fn of(buf: &[u8]) -> Result<&[u8], DecodeError> {
            Header::message_of(buf, 1, 10, "OFPT_PACKET_IN", "an OpenFlow 1.0 packet-in")
        }
        let two = [1, 10, 0, 9, 0, 0, 0, 1, 0xaa, 1, 10, 0, 8, 0, 0, 0, 2];
        assert_eq!(of(&two).expect("a packet-in"), &two[..9], "cut to its own length");
        let error = |buf: &[u8]| of(buf).expect_err("not a whole packet-in").to_string();
        assert!(error(&[4, 10, 0, 8, 0, 0, 0, 1]).contains("not an OpenFlow 1.0 packet-in (version 4, type 10)"));
        assert!(error(&[1, 13, 0, 8, 0, 0, 0, 1]).contains("(version 1, type 13)"));
        assert!(error(&[1, 10, 0, 12, 0, 0, 0, 1]).contains("truncated: header length is 12 but only 8"));
        assert!(error(&[1, 10, 0, 4, 0, 0, 0, 1]).contains("shorter than the 8-byte header"));
        assert!(error(&[1, 10, 0]).contains("need 8 header bytes"));
    }
}
