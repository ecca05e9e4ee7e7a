//! Queues: `OFPT_QUEUE_GET_CONFIG_REPLY` and its queue descriptions and properties.

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// Queue property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueProp {
    /// `OFPQT_MIN_RATE` in 1/10 %.
    MinRate(u16),
    /// `OFPQT_MAX_RATE` in 1/10 %.
    MaxRate(u16),
    /// `OFPQT_EXPERIMENTER`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Other property types, body after the 8-byte property header.
    Unknown {
        /// Property type.
        prop_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl QueueProp {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<QueueProp, DecodeError> {
        let start = r.offset();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 8 {
            return Err(r.err_at(start + 2, format!("queue property length {} is shorter than 8", len)));
        }
        let mut b = r.sub(len - 4)?;
        b.skip(4)?;
        Ok(match t {
            1 | 2 => {
                let v = b.u16()?;
                b.skip(6)?;
                if t == 1 {
                    QueueProp::MinRate(v)
                } else {
                    QueueProp::MaxRate(v)
                }
            }
            0xffff => {
                let e = b.u32()?;
                b.skip(4)?;
                QueueProp::Experimenter { experimenter: e, data: b.rest().to_vec() }
            }
            _ => QueueProp::Unknown { prop_type: t, data: b.rest().to_vec() },
        })
    }
    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let t = match self {
            QueueProp::MinRate(_) => 1,
            QueueProp::MaxRate(_) => 2,
            QueueProp::Experimenter { .. } => 0xffff,
            QueueProp::Unknown { prop_type, .. } => *prop_type,
        };
        out.put_u16(t);
        out.put_u16(0);
        out.put_zeros(4);
        match self {
            QueueProp::MinRate(v) | QueueProp::MaxRate(v) => {
                out.put_u16(*v);
                out.put_zeros(6);
            }
            QueueProp::Experimenter { experimenter, data } => {
                out.put_u32(*experimenter);
                out.put_zeros(4);
                out.extend_from_slice(data);
            }
            QueueProp::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out.set_len16(start + 2, start, "a queue property")
    }
}

/// A queue description (`ofp_packet_queue`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PacketQueue {
    /// Queue id.
    pub queue_id: u32,
    /// Port.
    pub port: u32,
    /// Properties.
    pub properties: Vec<QueueProp>,
}

/// `OFPT_QUEUE_GET_CONFIG_REPLY` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueGetConfigReply {
    /// Port.
    pub port: u32,
    /// Queues.
    pub queues: Vec<PacketQueue>,
}

impl QueueGetConfigReply {
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<QueueGetConfigReply, DecodeError> {
        let port = r.u32()?;
        r.skip(4)?;
        let mut queues = Vec::new();
        while !r.is_empty() {
            let start = r.offset();
            let queue_id = r.u32()?;
            let qport = r.u32()?;
            let len = r.u16()? as usize;
            if len < 16 {
                return Err(r.err_at(start + 8, format!("queue length {} is shorter than 16", len)));
            }
            r.skip(6)?;
            let mut q = r.sub(len - 16)?;
            let mut properties = Vec::new();
            while !q.is_empty() {
                properties.push(QueueProp::parse(&mut q)?);
            }
            queues.push(PacketQueue { queue_id, port: qport, properties });
        }
        Ok(QueueGetConfigReply { port, queues })
    }
    /// Appends the body; fails if a queue or property is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u32(self.port);
        out.put_zeros(4);
        for pq in &self.queues {
            let s = out.len();
            out.put_u32(pq.queue_id);
            out.put_u32(pq.port);
            out.put_u16(0);
            out.put_zeros(6);
            for p in &pq.properties {
                p.emit(out)?;
            }
            out.set_len16(s + 8, s, "a queue description")?;
        }
        Ok(())
    }
}

/// JSON of the queue configuration (`OFPQueueGetConfigReply`, `OFPPacketQueue`, `OFPQueueProp*`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{PacketQueue, QueueGetConfigReply, QueueProp};
    use crate::json::{base64, class, cls, part_len, parts_len, Obj, R};
    use serde_json::{json, Value};

    impl QueueGetConfigReply {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPQueueGetConfigReply",
                json!({"port": self.port, "queues": self.queues.iter().map(|pq| {
                    let props: Vec<Value> = pq.properties.iter().map(|p| {
                        let len = part_len(|b| p.emit(b));
                        match p {
                            QueueProp::MinRate(r) => cls("OFPQueuePropMinRate", json!({"property": 1, "len": len, "rate": r})),
                            QueueProp::MaxRate(r) => cls("OFPQueuePropMaxRate", json!({"property": 2, "len": len, "rate": r})),
                            QueueProp::Experimenter { experimenter, data } => cls("OFPQueuePropExperimenter", json!({"property": 0xffff, "len": len, "experimenter": experimenter, "data": base64(data)})),
                            QueueProp::Unknown { prop_type, data } => cls("OFPQueuePropUnknown", json!({"property": prop_type, "len": len, "data": base64(data)})),
                        }
                    }).collect();
                    let len = parts_len(16, &pq.properties, QueueProp::emit);
                    cls("OFPPacketQueue", json!({"queue_id": pq.queue_id, "port": pq.port, "len": len, "properties": props}))
                }).collect::<Vec<_>>()}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<QueueGetConfigReply> {
            Ok(QueueGetConfigReply {
                port: o.u32("port")?,
                queues: o.list("queues", |v| {
                    let q = class(v)?;
                    Ok(PacketQueue {
                        queue_id: q.u32("queue_id")?,
                        port: q.u32("port")?,
                        properties: q.list("properties", |v| {
                            let p = class(v)?;
                            Ok(match p.name {
                                "OFPQueuePropMinRate" => QueueProp::MinRate(p.u16("rate")?),
                                "OFPQueuePropMaxRate" => QueueProp::MaxRate(p.u16("rate")?),
                                "OFPQueuePropExperimenter" => QueueProp::Experimenter {
                                    experimenter: p.u32("experimenter")?,
                                    data: p.bytes("data")?,
                                },
                                _ => QueueProp::Unknown { prop_type: p.u16("property")?, data: p.bytes("data")? },
                            })
                        })?,
                    })
                })?,
            })
        }
    }
}
