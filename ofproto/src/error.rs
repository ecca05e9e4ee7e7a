//! Decoding errors.

use std::borrow::Cow;

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

/// Errors raised while encoding (values that do not fit their wire fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {what}")]
pub struct EncodeError {
    /// What did not fit.
    pub what: Cow<'static, str>,
}
