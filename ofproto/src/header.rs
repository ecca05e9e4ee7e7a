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

    /// Appends the header to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.version);
        out.put_u8(self.msg_type);
        out.put_u16(self.length);
        out.put_u32(self.xid);
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
