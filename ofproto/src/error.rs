//! Decoding and encoding errors.

use std::borrow::Cow;
use std::fmt;

/// Why a message could not be decoded.
///
/// Carries the OpenFlow message type name (e.g. `OFPT_FLOW_MOD`), the byte
/// offset from the start of the message where the problem was found, and a
/// human readable description of what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg_type} at offset {offset}: {what}")]
pub struct DecodeError {
    /// Message type name, such as `OFPT_FLOW_MOD` (or `OFP_HEADER` before the type is known).
    pub msg_type: &'static str,
    /// Byte offset from the start of the message (header included).
    pub offset: usize,
    /// What was wrong.
    pub what: Cow<'static, str>,
}

impl DecodeError {
    /// Builds an error.
    pub fn new(msg_type: &'static str, offset: usize, what: impl Into<Cow<'static, str>>) -> Self {
        DecodeError { msg_type, offset, what: what.into() }
    }
}

/// Why a message (or part of one) could not be encoded.
///
/// The codec never clamps a length: a message or an item whose length field
/// cannot hold its size is refused, and nothing is written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The whole message is longer than the header's 16-bit length holds
    /// ([`crate::MAX_MESSAGE_LEN`] bytes).
    MessageTooLong {
        /// Message type name, such as `OFPT_FLOW_MOD`.
        msg_type: &'static str,
        /// The length the message would have, header included.
        length: usize,
    },
    /// A length (or count) field inside the message cannot hold the size of what it describes.
    TooLong {
        /// What the field describes, such as `an instruction` or `an OXM TLV body`.
        what: &'static str,
        /// The value the field would have to hold.
        length: usize,
        /// The most the field holds.
        limit: usize,
    },
    /// The datapath's version cannot express the message, or part of it (a port number above OpenFlow 1.0's
    /// range, say); see [`crate::portable`].
    NotInVersion {
        /// What cannot be expressed, such as `port 70000`.
        what: String,
        /// The wire version.
        version: u8,
    },
}

impl EncodeError {
    /// The length that did not fit (0 for an error that is not about a length).
    pub fn length(&self) -> usize {
        match self {
            EncodeError::MessageTooLong { length, .. } | EncodeError::TooLong { length, .. } => *length,
            EncodeError::NotInVersion { .. } => 0,
        }
    }

    /// The most the field that overflowed holds (0 for an error that is not about a length).
    pub fn limit(&self) -> usize {
        match self {
            EncodeError::MessageTooLong { .. } => crate::MAX_MESSAGE_LEN,
            EncodeError::TooLong { limit, .. } => *limit,
            EncodeError::NotInVersion { .. } => 0,
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::MessageTooLong { msg_type, length } => write!(
                f,
                "the {msg_type} message encodes to {} bytes; an OpenFlow message holds at most {}",
                Thousands(*length),
                Thousands(crate::MAX_MESSAGE_LEN)
            ),
            EncodeError::TooLong { what, length, limit } => write!(
                f,
                "{what} encodes to {} bytes; its length field holds at most {}",
                Thousands(*length),
                Thousands(*limit)
            ),
            EncodeError::NotInVersion { what, version } => {
                write!(f, "{what} cannot be expressed in OpenFlow {}", crate::version_name(*version))
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Formats a count with `,` between groups of three digits (`70,123`).
#[derive(Clone, Copy, Debug)]
pub struct Thousands(pub usize);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        f.pad(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        let shown: Vec<String> = [0, 7, 999, 1000, 65_535, 70_123, 1_234_567].map(|n| Thousands(n).to_string()).into();
        assert_eq!(shown, ["0", "7", "999", "1,000", "65,535", "70,123", "1,234,567"]);
    }

    #[test]
    fn messages_name_the_limit() {
        let e = EncodeError::MessageTooLong { msg_type: "OFPT_FLOW_MOD", length: 70_123 };
        assert_eq!(
            e.to_string(),
            "the OFPT_FLOW_MOD message encodes to 70,123 bytes; an OpenFlow message holds at most 65,535"
        );
        assert_eq!((e.length(), e.limit()), (70_123, 65_535));
        let e = EncodeError::TooLong { what: "an OXM TLV body", length: 300, limit: 255 };
        assert_eq!(e.to_string(), "an OXM TLV body encodes to 300 bytes; its length field holds at most 255");
        assert_eq!((e.length(), e.limit()), (300, 255));
    }
}
