//! Packets to and from the controller: `OFPT_PACKET_IN` (with the zero-copy [`PacketInView`]) and
//! `OFPT_PACKET_OUT`.

use super::action::{self, port, Action};
use super::oxm::{self, Match, OxmField};
use super::{msg_type, OFP_NO_BUFFER, VERSION};
use crate::error::{DecodeError, EncodeError};
use crate::header::Header;
use crate::wire::{Put, Reader};

/// `OFPT_PACKET_IN` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketIn {
    /// Buffer id, or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Full length of the frame.
    pub total_len: u16,
    /// `OFPR_*` reason.
    pub reason: u8,
    /// Table that was looked up.
    pub table_id: u8,
    /// Cookie of the flow entry.
    pub cookie: u64,
    /// Pipeline fields (in_port etc.).
    pub match_: Match,
    /// The (possibly truncated) frame.
    pub data: Vec<u8>,
}

impl PacketIn {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketIn, DecodeError> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = r.u8()?;
        let table_id = r.u8()?;
        let cookie = r.u64()?;
        let match_ = Match::parse(r)?;
        r.skip(2)?;
        Ok(PacketIn { buffer_id, total_len, reason, table_id, cookie, match_, data: r.rest().to_vec() })
    }
    /// Appends the body; fails if the match is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.buffer_id);
        out.put_u16(self.total_len);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        out.put_u64(self.cookie);
        self.match_.emit(out)?;
        out.put_zeros(2);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// `OFPT_PACKET_OUT` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PacketOut {
    /// Buffer id or `OFP_NO_BUFFER`.
    pub buffer_id: u32,
    /// Ingress port (or `OFPP_CONTROLLER`).
    pub in_port: u32,
    /// Actions.
    pub actions: Vec<Action>,
    /// Frame data (when not buffered).
    pub data: Vec<u8>,
}

impl PacketOut {
    /// Sends `data` (unbuffered) with the given actions, `in_port` = `OFPP_CONTROLLER`.
    pub fn new(data: impl Into<Vec<u8>>, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut {
            buffer_id: OFP_NO_BUFFER,
            in_port: port::CONTROLLER,
            actions: actions.into_iter().collect(),
            data: data.into(),
        }
    }
    /// Releases a switch buffer with the given actions.
    pub fn buffered(buffer_id: u32, in_port: u32, actions: impl IntoIterator<Item = Action>) -> PacketOut {
        PacketOut { buffer_id, in_port, actions: actions.into_iter().collect(), data: Vec::new() }
    }
    /// Sets the ingress port.
    pub fn in_port(mut self, p: u32) -> Self {
        self.in_port = p;
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketOut, DecodeError> {
        let buffer_id = r.u32()?;
        let in_port = r.u32()?;
        let at = r.offset();
        let alen = r.u16()? as usize;
        r.skip(6)?;
        let mut ar = r.sub(alen).map_err(|_| r.err_at(at, format!("actions_len {} exceeds the message", alen)))?;
        let actions = action::parse_actions(&mut ar)?;
        Ok(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
    }
    /// Appends the body; fails if the actions are longer than their length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.buffer_id);
        out.put_u32(self.in_port);
        let at = out.len();
        out.put_u16(0);
        out.put_zeros(6);
        let s = out.len();
        action::emit_actions(&self.actions, out)?;
        out.set_len16(at, s, "the actions of a packet-out")?;
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// Zero-copy view of an OpenFlow 1.3 `OFPT_PACKET_IN` (the controller fast path).
///
/// Validates the framing once in [`PacketInView::new`]; accessors then
/// cannot fail. No allocation.
#[derive(Clone, Copy, Debug)]
pub struct PacketInView<'a> {
    buf: &'a [u8],
    match_len: usize,
    data_off: usize,
}

impl<'a> PacketInView<'a> {
    /// Checks header, match framing and OXM TLV framing of a packet-in message.
    pub fn new(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let name = "OFPT_PACKET_IN";
        let buf = Header::message_of(buf, VERSION, msg_type::PACKET_IN, name, "an OpenFlow 1.3 packet-in")?;
        let mut r = Reader::new(buf, 0, name);
        r.skip(24)?;
        let mstart = r.offset();
        let mtype = r.u16()?;
        if mtype != oxm::OFPMT_OXM {
            return Err(r.err_at(mstart, format!("match type {} is not OFPMT_OXM", mtype)));
        }
        let match_len = r.u16()? as usize;
        if match_len < 4 {
            return Err(r.err_at(mstart + 2, format!("match length {} is shorter than 4", match_len)));
        }
        let mut m = r.sub(match_len - 4)?;
        while !m.is_empty() {
            let h = m.u32()?;
            m.skip((h & 0xff) as usize)?;
        }
        r.skip(crate::wire::pad8(match_len) - match_len + 2)?;
        Ok(PacketInView { buf, match_len, data_off: r.offset() })
    }
    fn u16_at(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.buf[i], self.buf[i + 1]])
    }
    fn u32_at(&self, i: usize) -> u32 {
        u32::from_be_bytes([self.buf[i], self.buf[i + 1], self.buf[i + 2], self.buf[i + 3]])
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        self.u32_at(4)
    }
    /// Buffer id.
    pub fn buffer_id(&self) -> u32 {
        self.u32_at(8)
    }
    /// Frame total length.
    pub fn total_len(&self) -> u16 {
        self.u16_at(12)
    }
    /// Reason.
    pub fn reason(&self) -> u8 {
        self.buf[14]
    }
    /// Table id.
    pub fn table_id(&self) -> u8 {
        self.buf[15]
    }
    /// Cookie.
    pub fn cookie(&self) -> u64 {
        (self.u32_at(16) as u64) << 32 | self.u32_at(20) as u64
    }
    /// The raw OXM TLVs of the match.
    pub fn oxm_bytes(&self) -> &'a [u8] {
        &self.buf[28..24 + self.match_len]
    }
    /// Iterates `(header, value_and_mask)` over the match TLVs.
    pub fn oxms(&self) -> impl Iterator<Item = (u32, &'a [u8])> {
        let mut rest = self.oxm_bytes();
        std::iter::from_fn(move || {
            let h = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
            let n = (h & 0xff) as usize;
            let v = rest.get(4..4 + n)?;
            rest = &rest[4 + n..];
            Some((h, v))
        })
    }
    /// The value of a basic-class field in the match.
    pub fn field(&self, f: OxmField) -> Option<&'a [u8]> {
        let want = f.header(false) & 0xffff_fe00;
        self.oxms().find(|(h, _)| h & 0xffff_fe00 == want && h & 0x100 == 0).map(|(_, v)| v)
    }
    /// `in_port` from the match.
    pub fn in_port(&self) -> Option<u32> {
        self.field(OxmField::InPort).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes)
    }
    /// The frame.
    pub fn data(&self) -> &'a [u8] {
        &self.buf[self.data_off..]
    }
}

/// JSON of the packet messages (`OFPPacketIn`, `OFPPacketOut`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Action, PacketIn, PacketOut};
    use crate::json::{base64, cls, parts_len, Obj, R};
    use crate::v1_3::action::json::{action13_from_json, actions13};
    use crate::v1_3::oxm::json::{match13_from_json, match13_json};
    use serde_json::{json, Value};

    impl PacketIn {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            cls(
                "OFPPacketIn",
                json!({"buffer_id": p.buffer_id, "total_len": p.total_len, "reason": p.reason, "table_id": p.table_id,
                       "cookie": p.cookie, "match": match13_json(&p.match_), "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketIn> {
            Ok(PacketIn {
                buffer_id: o.u32("buffer_id")?,
                total_len: o.u16("total_len")?,
                reason: o.u8("reason")?,
                table_id: o.u8("table_id")?,
                cookie: o.u64("cookie")?,
                match_: match13_from_json(o.v("match")?)?,
                data: o.bytes("data")?,
            })
        }
    }

    impl PacketOut {
        pub(crate) fn to_json(&self) -> Value {
            let p = self;
            let alen = parts_len(0, &p.actions, Action::emit).filter(|n| u16::try_from(*n).is_ok());
            cls(
                "OFPPacketOut",
                json!({"buffer_id": p.buffer_id, "in_port": p.in_port, "actions_len": alen, "actions": actions13(&p.actions), "data": base64(&p.data)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<PacketOut> {
            Ok(PacketOut {
                buffer_id: o.u32("buffer_id")?,
                in_port: o.u32("in_port")?,
                actions: o.list("actions", action13_from_json)?,
                data: o.bytes("data")?,
            })
        }
    }
}
