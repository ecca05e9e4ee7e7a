//! Queues: the queue descriptions of `OFPT_QUEUE_GET_CONFIG_REPLY`.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{len16, list, Put, Reader};

/// A queue and its properties (1.0): min-rate is the only defined property.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketQueue {
    /// Queue id.
    pub queue_id: u32,
    /// Properties as (type, body after the 8-byte property header).
    pub properties: Vec<(u16, Vec<u8>)>,
}

impl PacketQueue {
    /// Parses one queue description.
    pub fn parse(r: &mut Reader<'_>) -> Result<PacketQueue, DecodeError> {
        let start = r.offset();
        let queue_id = r.u32()?;
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start + 4, format!("queue length {} is shorter than 8", len)));
        }
        r.skip(2)?;
        let mut b = r.sub(len - 8)?;
        let properties = list(&mut b, |b| {
            let s = b.offset();
            let t = b.u16()?;
            let l = b.u16()? as usize;
            if l < 8 {
                return Err(b.err_at(s + 2, format!("queue property length {} is shorter than 8", l)));
            }
            b.skip(4)?;
            Ok((t, b.bytes(l - 8)?.to_vec()))
        })?;
        Ok(PacketQueue { queue_id, properties })
    }
    /// Appends the queue description; fails if it or a property is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let s = out.len();
        out.put_u32(self.queue_id);
        out.put_u16(0);
        out.put_zeros(2);
        for (t, d) in &self.properties {
            out.put_u16(*t);
            out.put_u16(len16("a queue property", 8 + d.len())?);
            out.put_zeros(4);
            out.extend_from_slice(d);
        }
        out.set_len16(s + 4, s, "a queue description")
    }
}

/// JSON of the queue descriptions (`OFPPacketQueue`, `OFPQueueProp*`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::PacketQueue;
    use crate::json::{base64, class, cls, R};
    use serde_json::{json, Value};

    impl PacketQueue {
        pub(crate) fn to_json(&self) -> Value {
            let q = self;
            cls(
                "OFPPacketQueue",
                json!({
                    "queue_id": q.queue_id,
                    "len": 8 + q.properties.iter().map(|(_, d)| 8 + d.len()).sum::<usize>(),
                    "properties": q.properties.iter().map(|(t, d)| match (t, d.as_slice()) {
                        (0, []) => cls("OFPQueuePropNone", json!({"property": 0, "len": 8})),
                        (1, [a, b, 0, 0, 0, 0, 0, 0]) => cls("OFPQueuePropMinRate", json!({"property": 1, "len": 16, "rate": u16::from_be_bytes([*a, *b])})),
                        _ => cls("OFPQueuePropUnknown", json!({"property": t, "len": 8 + d.len(), "data": base64(d)})),
                    }).collect::<Vec<_>>()
                }),
            )
        }
        pub(crate) fn from_json(v: &Value) -> R<PacketQueue> {
            let q = class(v)?;
            Ok(PacketQueue {
                queue_id: q.u32("queue_id")?,
                properties: q.list("properties", |v| {
                    let p = class(v)?;
                    Ok(match p.name {
                        "OFPQueuePropNone" => (0, Vec::new()),
                        "OFPQueuePropMinRate" => {
                            let mut d = p.u16("rate")?.to_be_bytes().to_vec();
                            d.resize(8, 0);
                            (1, d)
                        }
                        _ => (p.u16("property")?, p.bytes("data")?),
                    })
                })?,
            })
        }
    }
}
