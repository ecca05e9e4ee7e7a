//! Packets to and from the controller: `OFPT_PACKET_IN` (with the zero-copy [`PacketInView`]) and
//! `OFPT_PACKET_OUT`.

use super::action::Action;
use super::{msg_type, port, NO_BUFFER, VERSION};
use crate::error::{DecodeError, EncodeError};
use crate::header::Header;
use crate::nx::ActionList;
use crate::wire::{Put, Reader};

/// `OFPT_PACKET_IN` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketIn {
    /// Buffer id.
    pub buffer_id: u32,
    /// Frame length.
    pub total_len: u16,
    /// Input port.
    pub in_port: u16,
    /// `OFPR_*`.
    pub reason: u8,
    /// Frame.
    pub data: Vec<u8>,
}

impl PacketIn {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketIn, DecodeError> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let in_port = r.u16()?;
        let reason = r.u8()?;
        r.skip(1)?;
        Ok(PacketIn { buffer_id, total_len, in_port, reason, data: r.rest().to_vec() })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.buffer_id);
        out.put_u16(self.total_len);
        out.put_u16(self.in_port);
        out.put_u8(self.reason);
        out.put_u8(0);
        out.extend_from_slice(&self.data);
    }
}

/// `OFPT_PACKET_OUT` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PacketOut {
    /// Buffer id or `NO_BUFFER`.
    pub buffer_id: u32,
    /// Input port.
    pub in_port: u16,
    /// Actions.
    pub actions: Vec<Action>,
    /// Frame.
    pub data: Vec<u8>,
}

impl PacketOut {
    /// Sends `data` with `actions` (unbuffered, in_port = `OFPP_NONE`).
    pub fn new(data: impl Into<Vec<u8>>, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut {
            buffer_id: NO_BUFFER,
            in_port: port::NONE,
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }
    /// Releases a buffered packet.
    pub fn buffered(buffer_id: u32, in_port: u16, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut { buffer_id, in_port, actions: actions.into_iter().collect(), data: Vec::new() }
    }
    /// Sets the input port.
    pub fn in_port(mut self, p: u16) -> Self {
        self.in_port = p;
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketOut, DecodeError> {
        let buffer_id = r.u32()?;
        let in_port = r.u16()?;
        let at = r.offset();
        let alen = r.u16()? as usize;
        let mut ar = r.sub(alen).map_err(|_| r.err_at(at, format!("actions_len {} exceeds the message", alen)))?;
        let actions = Action::parse_list(&mut ar)?;
        Ok(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
    }
    /// Appends the body; fails if the actions are longer than their length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.buffer_id);
        out.put_u16(self.in_port);
        let at = out.len();
        out.put_u16(0);
        Action::emit_list(&self.actions, out)?;
        out.set_len16(at, at + 2, "the actions of a packet-out")?;
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// Zero-copy view of an OpenFlow 1.0 `OFPT_PACKET_IN`.
#[derive(Clone, Copy, Debug)]
pub struct PacketInView<'a>(&'a [u8]);

impl<'a> PacketInView<'a> {
    /// Validates header and fixed fields.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let b = Header::message_of(buf, VERSION, msg_type::PACKET_IN, "OFPT_PACKET_IN", "an OpenFlow 1.0 packet-in")?;
        if b.len() < 18 {
            return Err(DecodeError::new("OFPT_PACKET_IN", b.len(), "packet-in shorter than 18 bytes"));
        }
        Ok(PacketInView(b))
    }
    /// Buffer id.
    #[inline]
    pub fn buffer_id(&self) -> u32 {
        u32::from_be_bytes([self.0[8], self.0[9], self.0[10], self.0[11]])
    }
    /// Total length.
    #[inline]
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.0[12], self.0[13]])
    }
    /// Input port.
    #[inline]
    pub fn in_port(&self) -> u16 {
        u16::from_be_bytes([self.0[14], self.0[15]])
    }
    /// Reason.
    #[inline]
    pub fn reason(&self) -> u8 {
        self.0[16]
    }
    /// Frame.
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        &self.0[18..]
    }
}

/// JSON of the packet messages (`OFPPacketIn`, `OFPPacketOut`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{PacketIn, PacketOut};
    use crate::json::{base64, cls, Obj, R};
    use crate::v1_0::action::json::{action10_from_json, actions10};
    use serde_json::{json, Value};

    impl PacketIn {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            cls(
                "OFPPacketIn",
                json!({"buffer_id": p.buffer_id, "total_len": p.total_len, "in_port": p.in_port, "reason": p.reason, "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketIn> {
            Ok(PacketIn {
                buffer_id: o.u32("buffer_id")?,
                total_len: o.u16("total_len")?,
                in_port: o.u16("in_port")?,
                reason: o.u8("reason")?,
                data: o.bytes("data")?,
            })
        }
    }

    impl PacketOut {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            cls(
                "OFPPacketOut",
                json!({"buffer_id": p.buffer_id, "in_port": p.in_port, "actions": actions10(&p.actions), "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketOut> {
            Ok(PacketOut {
                buffer_id: o.u32("buffer_id")?,
                in_port: o.u16("in_port")?,
                actions: o.list("actions", action10_from_json)?,
                data: o.bytes("data")?,
            })
        }
    }
}
