//! Checked byte reader and writer helpers shared by all codecs.

use crate::error::{DecodeError, EncodeError};

/// A bounds-checked cursor over a message (or part of one).
///
/// Every read either succeeds or returns a [`DecodeError`] naming the message
/// type and the absolute offset of the failing read.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    ctx: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, which starts at absolute offset `base` of message `ctx`.
    pub fn new(buf: &'a [u8], base: usize, ctx: &'static str) -> Self {
        Reader { buf, pos: 0, base, ctx }
    }

    /// Message type name used in errors.
    pub fn ctx(&self) -> &'static str {
        self.ctx
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error at the current offset.
    pub fn err(&self, what: impl Into<std::borrow::Cow<'static, str>>) -> DecodeError {
        DecodeError::new(self.ctx, self.offset(), what)
    }

    /// An error at an absolute offset.
    pub fn err_at(&self, offset: usize, what: impl Into<std::borrow::Cow<'static, str>>) -> DecodeError {
        DecodeError::new(self.ctx, offset, what)
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(s)
            }
            _ => Err(self.err(format!("need {} bytes, only {} left", n, self.remaining()))),
        }
    }

    /// Takes the next `n` bytes as a sub-reader.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let b = self.bytes(n)?;
        Ok(Reader { buf: b, pos: 0, base, ctx: self.ctx })
    }

    /// Takes everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// Peeks at a big-endian u16 `at` bytes ahead without consuming.
    pub fn peek_u16(&self, at: usize) -> Option<u16> {
        let s = self.buf.get(self.pos + at..self.pos + at + 2)?;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Skips `n` bytes (padding).
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    /// Reads a u8.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

/// Append helpers for building wire bytes in a `Vec<u8>`.
pub trait Put {
    /// Appends a u8.
    fn put_u8(&mut self, v: u8);
    /// Appends a big-endian u16.
    fn put_u16(&mut self, v: u16);
    /// Appends a big-endian u32.
    fn put_u32(&mut self, v: u32);
    /// Appends a big-endian u64.
    fn put_u64(&mut self, v: u64);
    /// Appends `n` zero bytes.
    fn put_zeros(&mut self, n: usize);
    /// Overwrites a big-endian u16 at `pos`.
    fn set_u16(&mut self, pos: usize, v: u16);
    /// Fills the 16-bit length field at `pos` with the number of bytes written since `start`;
    /// [`EncodeError::TooLong`] (naming `what`) if that does not fit in 16 bits.
    fn set_len16(&mut self, pos: usize, start: usize, what: &'static str) -> Result<(), EncodeError>;
    /// Pads with zeros so that the length since `start` is a multiple of 8.
    fn pad8_from(&mut self, start: usize);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    fn set_u16(&mut self, pos: usize, v: u16) {
        if let Some(s) = self.get_mut(pos..pos + 2) {
            s.copy_from_slice(&v.to_be_bytes());
        }
    }
    fn set_len16(&mut self, pos: usize, start: usize, what: &'static str) -> Result<(), EncodeError> {
        let len = len16(what, self.len().saturating_sub(start))?;
        self.set_u16(pos, len);
        Ok(())
    }
    fn pad8_from(&mut self, start: usize) {
        let len = self.len().saturating_sub(start);
        self.put_zeros(pad8(len) - len);
    }
}

/// Rounds `n` up to a multiple of 8.
pub const fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The most a 16-bit length field holds.
pub const MAX_LEN16: usize = u16::MAX as usize;

/// A 16-bit length field's value for `n` bytes of `what`; [`EncodeError::TooLong`] if `n` does not fit.
pub fn len16(what: &'static str, n: usize) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLong { what, length: n, limit: MAX_LEN16 })
}

/// Parses items with `f` until `r` is empty.
pub(crate) fn list<T>(
    r: &mut Reader<'_>,
    mut f: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(f(r)?);
    }
    Ok(v)
}
