//! Groups of OpenFlow 1.5: buckets with ids and properties, `OFPT_GROUP_MOD` with a bucket command, and the
//! group description of `OFPMP_GROUP_DESC` replies.

use crate::error::{DecodeError, EncodeError};
use crate::props::{emit_list, GroupProp, Prop, PropKind};
use crate::v1_3::action::{self, Action};
use crate::wire::{Put, Reader};

/// A bucket property (`OFPGBPT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketProp {
    /// `OFPGBPT_WEIGHT` (0): the bucket's share in a select group.
    Weight(u16),
    /// `OFPGBPT_WATCH_PORT` (1): the port whose liveness the bucket follows.
    WatchPort(u32),
    /// `OFPGBPT_WATCH_GROUP` (2): the group whose liveness the bucket follows.
    WatchGroup(u32),
}

impl PropKind for BucketProp {
    const CLASS: &'static str = "OFPGroupBucketProp";
    const WHAT: &'static str = "a bucket property";
    fn prop_type(&self) -> u16 {
        match self {
            BucketProp::Weight(_) => 0,
            BucketProp::WatchPort(_) => 1,
            BucketProp::WatchGroup(_) => 2,
        }
    }
    fn parse(t: u16, r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        Ok(Some(match t {
            0 => {
                let w = r.u16()?;
                r.skip(2)?;
                BucketProp::Weight(w)
            }
            1 => BucketProp::WatchPort(r.u32()?),
            2 => BucketProp::WatchGroup(r.u32()?),
            _ => return Ok(None),
        }))
    }
    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            BucketProp::Weight(w) => {
                out.put_u16(*w);
                out.put_zeros(2);
            }
            BucketProp::WatchPort(v) | BucketProp::WatchGroup(v) => out.put_u32(*v),
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
impl crate::props::json::PropJson for BucketProp {
    fn to_json(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            BucketProp::Weight(w) => ("OFPGroupBucketPropWeight", json!({ "weight": w })),
            BucketProp::WatchPort(v) | BucketProp::WatchGroup(v) => ("OFPGroupBucketPropWatch", json!({ "watch": v })),
        }
    }
    fn from_json(o: &crate::json::Obj<'_>) -> crate::json::R<Option<Self>> {
        Ok(match o.name {
            "OFPGroupBucketPropWeight" => Some(BucketProp::Weight(o.u16("weight")?)),
            "OFPGroupBucketPropWatch" if o.u16("type")? == 2 => Some(BucketProp::WatchGroup(o.u32("watch")?)),
            "OFPGroupBucketPropWatch" => Some(BucketProp::WatchPort(o.u32("watch")?)),
            _ => None,
        })
    }
}

/// `ofp_bucket` of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Bucket {
    /// Bucket id.
    pub bucket_id: u32,
    /// Actions.
    pub actions: Vec<Action>,
    /// Properties (weight, watch port or group, experimenter).
    pub properties: Vec<Prop<BucketProp>>,
}

impl Bucket {
    /// Bucket `bucket_id` with `actions`.
    pub fn new(bucket_id: u32, actions: impl IntoIterator<Item = Action>) -> Bucket {
        Bucket { bucket_id, actions: actions.into_iter().collect(), properties: Vec::new() }
    }
    /// Adds a property.
    pub fn property(mut self, p: BucketProp) -> Self {
        self.properties.push(Prop::Known(p));
        self
    }
    /// Parses one bucket.
    pub fn parse(r: &mut Reader<'_>) -> Result<Bucket, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        let alen = r.u16()? as usize;
        if len < 8 + alen {
            return Err(r.err_at(start, format!("bucket length {} is shorter than 8 + its {} action bytes", len, alen)));
        }
        let mut b = r.sub(len - 4).map_err(|_| r.err_at(start, format!("bucket length {} exceeds its list", len)))?;
        let bucket_id = b.u32()?;
        let actions = action::parse_actions(&mut b.sub(alen)?)?;
        Ok(Bucket { bucket_id, actions, properties: Prop::parse_list(&mut b)? })
    }
    /// Appends the bucket.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(0);
        out.put_u32(self.bucket_id);
        let a = out.len();
        action::emit_actions(&self.actions, out)?;
        out.set_len16(start + 2, a, "the actions of a bucket")?;
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a bucket")
    }
}

/// Parses `len` bytes of buckets.
fn parse_buckets(r: &mut Reader<'_>, len: usize) -> Result<Vec<Bucket>, DecodeError> {
    let at = r.offset();
    let mut b = r.sub(len).map_err(|_| r.err_at(at, format!("bucket_array_len {} exceeds the message", len)))?;
    crate::wire::list(&mut b, Bucket::parse)
}

/// Appends `buckets` and fills the bucket array length at `at`.
fn emit_buckets(buckets: &[Bucket], at: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let s = out.len();
    buckets.iter().try_for_each(|b| b.emit(out))?;
    out.set_len16(at, s, "the buckets of a group")
}

/// `OFPGC_*` group commands of OpenFlow 1.5.
#[allow(missing_docs)]
pub mod group_command {
    pub const ADD: u16 = 0;
    pub const MODIFY: u16 = 1;
    pub const DELETE: u16 = 2;
    pub const INSERT_BUCKET: u16 = 3;
    pub const REMOVE_BUCKET: u16 = 5;
}

/// `OFPG_BUCKET_*`: where a bucket command acts.
#[allow(missing_docs)]
pub mod bucket_id {
    pub const MAX: u32 = 0xffff_ff00;
    pub const FIRST: u32 = 0xffff_fffd;
    pub const LAST: u32 = 0xffff_fffe;
    pub const ALL: u32 = 0xffff_ffff;
}

/// `OFPT_GROUP_MOD` body of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupMod {
    /// `OFPGC_*`.
    pub command: u16,
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// The bucket an insert or remove command is relative to (`OFPG_BUCKET_*`).
    pub command_bucket_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
    /// Properties (experimenter).
    pub properties: Vec<Prop<GroupProp>>,
}

impl GroupMod {
    /// An `OFPGC_ADD` of group `group_id` of `group_type`.
    pub fn add(group_type: u8, group_id: u32) -> GroupMod {
        GroupMod { group_type, group_id, command_bucket_id: bucket_id::ALL, ..Default::default() }
    }
    /// An `OFPGC_DELETE` of group `group_id`.
    pub fn delete(group_id: u32) -> GroupMod {
        GroupMod { command: group_command::DELETE, group_id, command_bucket_id: bucket_id::ALL, ..Default::default() }
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
        let blen = r.u16()? as usize;
        r.skip(2)?;
        let command_bucket_id = r.u32()?;
        let buckets = parse_buckets(r, blen)?;
        Ok(GroupMod { command, group_type, group_id, command_bucket_id, buckets, properties: Prop::parse_list(r)? })
    }
    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u16(self.command);
        out.put_u8(self.group_type);
        out.put_u8(0);
        out.put_u32(self.group_id);
        let at = out.len();
        out.put_u16(0);
        out.put_zeros(2);
        out.put_u32(self.command_bucket_id);
        emit_buckets(&self.buckets, at, out)?;
        emit_list(&self.properties, out)
    }
}

/// `ofp_group_desc` of OpenFlow 1.5.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupDesc {
    /// `OFPGT_*`.
    pub group_type: u8,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
    /// Properties (experimenter).
    pub properties: Vec<Prop<GroupProp>>,
}

impl GroupDesc {
    /// Parses one description.
    pub fn parse(r: &mut Reader<'_>) -> Result<GroupDesc, DecodeError> {
        let start = r.offset();
        let len = r.u16()? as usize;
        if len < 16 {
            return Err(r.err_at(start, format!("group description length {} is shorter than 16", len)));
        }
        let mut b = r.sub(len - 2)?;
        let group_type = b.u8()?;
        b.skip(1)?;
        let group_id = b.u32()?;
        let blen = b.u16()? as usize;
        b.skip(6)?;
        let buckets = parse_buckets(&mut b, blen)?;
        Ok(GroupDesc { group_type, group_id, buckets, properties: Prop::parse_list(&mut b)? })
    }
    /// Appends the description.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.group_type);
        out.put_u8(0);
        out.put_u32(self.group_id);
        let at = out.len();
        out.put_u16(0);
        out.put_zeros(6);
        emit_buckets(&self.buckets, at, out)?;
        emit_list(&self.properties, out)?;
        out.set_len16(start, start, "a group description")
    }
}

/// JSON of `OFPBucket`, `OFPGroupMod` and `OFPGroupDescStats` (1.5 forms).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{Bucket, GroupDesc, GroupMod};
    use crate::json::{class, cls, part_len, parts_len, Obj, R};
    use crate::props::json::{props_from_json, props_json};
    use crate::v1_3::action::json::{action13_from_json, actions13};
    use crate::v1_3::Action;
    use serde_json::{json, Value};

    pub(crate) fn bucket_json(b: &Bucket) -> Value {
        cls(
            "OFPBucket",
            json!({"len": part_len(|v| b.emit(v)), "action_array_len": parts_len(0, &b.actions, Action::emit),
                   "bucket_id": b.bucket_id, "actions": actions13(&b.actions), "properties": props_json(&b.properties)}),
        )
    }

    pub(crate) fn bucket_from_json(v: &Value) -> R<Bucket> {
        let o = class(v)?;
        Ok(Bucket {
            bucket_id: o.u32("bucket_id")?,
            actions: o.list("actions", action13_from_json)?,
            properties: props_from_json(&o, "properties")?,
        })
    }

    fn buckets_json(b: &[Bucket]) -> (Option<usize>, Value) {
        (parts_len(0, b, Bucket::emit), Value::Array(b.iter().map(bucket_json).collect()))
    }

    impl GroupMod {
        pub(crate) fn to_json(&self) -> Value {
            let (blen, buckets) = buckets_json(&self.buckets);
            cls(
                "OFPGroupMod",
                json!({"command": self.command, "type": self.group_type, "group_id": self.group_id,
                       "bucket_array_len": blen, "command_bucket_id": self.command_bucket_id, "buckets": buckets,
                       "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<GroupMod> {
            Ok(GroupMod {
                command: o.u16("command")?,
                group_type: o.u8("type")?,
                group_id: o.u32("group_id")?,
                command_bucket_id: o.u32("command_bucket_id")?,
                buckets: o.list("buckets", bucket_from_json)?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }

    impl GroupDesc {
        pub(crate) fn to_json(&self) -> Value {
            let (blen, buckets) = buckets_json(&self.buckets);
            cls(
                "OFPGroupDescStats",
                json!({"length": part_len(|v| self.emit(v)), "type": self.group_type, "group_id": self.group_id,
                       "bucket_array_len": blen, "buckets": buckets, "properties": props_json(&self.properties)}),
            )
        }
        pub(crate) fn from_json(o: &Obj<'_>) -> R<GroupDesc> {
            Ok(GroupDesc {
                group_type: o.u8("type")?,
                group_id: o.u32("group_id")?,
                buckets: o.list("buckets", bucket_from_json)?,
                properties: props_from_json(o, "properties")?,
            })
        }
    }
}
