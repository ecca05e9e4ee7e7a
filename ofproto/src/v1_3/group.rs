//! Groups: buckets and `OFPT_GROUP_MOD`.

use super::action::{self, port, Action};
use super::{consts, OFPG_ANY};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Put, Reader};

/// A group bucket.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Bucket {
    /// Weight (select groups).
    pub weight: u16,
    /// Watched port (fast-failover).
    pub watch_port: u32,
    /// Watched group (fast-failover).
    pub watch_group: u32,
    /// Actions.
    pub actions: Vec<Action>,
}

impl Bucket {
    /// A bucket with the given actions (weight 0, no watch port/group).
    pub fn new(actions: impl IntoIterator<Item = Action>) -> Bucket {
        Bucket { weight: 0, watch_port: port::ANY, watch_group: OFPG_ANY, actions: actions.into_iter().collect() }
    }
    /// Sets the weight (select groups).
    pub fn weight(mut self, w: u16) -> Self {
        self.weight = w;
        self
    }
    /// Sets the watched port (fast-failover groups).
    pub fn watch_port(mut self, p: u32) -> Self {
        self.watch_port = p;
        self
    }
    /// Sets the watched group (fast-failover groups).
    pub fn watch_group(mut self, g: u32) -> Self {
        self.watch_group = g;
        self
    }
    /// Parses one bucket.
    pub fn parse(r: &mut Reader<'_>) -> Result<Bucket, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start, format!("bucket length {} is shorter than 16", len)));
        }
        let mut b =
            r.sub(len - 2).map_err(|_| r.err_at(start, format!("bucket length {} exceeds the message", len)))?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        Ok(Bucket { weight, watch_port, watch_group, actions: action::parse_actions(&mut b)? })
    }
    /// Appends the bucket; fails if it (or an action in it) is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(self.weight);
        out.put_u32(self.watch_port);
        out.put_u32(self.watch_group);
        out.put_zeros(4);
        action::emit_actions(&self.actions, out)?;
        out.set_len16(start, start, "a bucket")
    }
}

/// `OFPT_GROUP_MOD` body.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupMod {
    /// `OFPGC_*`.
    pub command: u16,
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

impl GroupMod {
    /// An `OFPGC_ADD` of `group_type` (`consts::group::TYPE_*`) for `group_id`.
    pub fn add(group_type: u8, group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::ADD, group_type, group_id, buckets: Vec::new() }
    }
    /// An `OFPGC_MODIFY`.
    pub fn modify(group_type: u8, group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::MODIFY, group_type, group_id, buckets: Vec::new() }
    }
    /// An `OFPGC_DELETE` (use `consts::group::ALL` to delete all groups).
    pub fn delete(group_id: u32) -> GroupMod {
        GroupMod { command: consts::group::DELETE, group_type: 0, group_id, buckets: Vec::new() }
    }
    /// Adds a bucket.
    pub fn bucket(mut self, b: Bucket) -> Self {
        self.buckets.push(b);
        self
    }
    /// Parses the body (after the header).
    pub fn parse(r: &mut Reader<'_>) -> Result<GroupMod, DecodeError> {
        let command = r.u16()?;
        let group_type = r.u8()?;
        r.skip(1)?;
        let group_id = r.u32()?;
        let mut buckets = Vec::new();
        while !r.is_empty() {
            buckets.push(Bucket::parse(r)?);
        }
        Ok(GroupMod { command, group_type, group_id, buckets })
    }
    /// Appends the body; fails if a bucket is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.command);
        out.put_u8(self.group_type);
        out.put_u8(0);
        out.put_u32(self.group_id);
        for b in &self.buckets {
            b.emit(out)?;
        }
        Ok(())
    }
}

/// JSON of the groups (`OFPBucket`, `OFPGroupMod`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Bucket, GroupMod};
    use crate::json::{class, cls, part_len, Obj, R};
    use crate::v1_3::action::json::{action13_from_json, actions13};
    use serde_json::{json, Value};

    /// `{"OFPBucket": ...}`.
    pub(crate) fn bucket_json(b: &Bucket) -> Value {
        cls(
            "OFPBucket",
            json!({"len": part_len(|v| b.emit(v)), "weight": b.weight, "watch_port": b.watch_port, "watch_group": b.watch_group, "actions": actions13(&b.actions)}),
        )
    }

    /// A bucket from `{"OFPBucket": ...}`.
    pub(crate) fn bucket_from_json(v: &Value) -> R<Bucket> {
        let o = class(v)?;
        Ok(Bucket {
            weight: o.u16("weight")?,
            watch_port: o.u32("watch_port")?,
            watch_group: o.u32("watch_group")?,
            actions: o.list("actions", action13_from_json)?,
        })
    }

    impl GroupMod {
        pub(crate) fn to_json(&self) -> Value {
            cls(
                "OFPGroupMod",
                json!({"command": self.command, "type": self.group_type, "group_id": self.group_id, "buckets": self.buckets.iter().map(bucket_json).collect::<Vec<_>>()}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<GroupMod> {
            Ok(GroupMod {
                command: o.u16("command")?,
                group_type: o.u8("type")?,
                group_id: o.u32("group_id")?,
                buckets: o.list("buckets", bucket_from_json)?,
            })
        }
    }
}
