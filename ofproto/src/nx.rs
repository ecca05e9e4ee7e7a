//! Nicira (NX) extension actions, shared by OpenFlow 1.0 and 1.3.
//!
//! An NX action is a vendor/experimenter action (`type = 0xffff`) with vendor
//! id [`NX_VENDOR_ID`] and a 16-bit subtype. The decoded forms below cover the
//! actions used in practice (registers, resubmit, learn, conntrack, NAT,
//! conjunction, note, sample, controller...). Anything else, or anything whose
//! typed form would not re-encode to exactly the same bytes, is kept as
//! [`NxAction::Unknown`].

use crate::error::{DecodeError, EncodeError};
use crate::wire::{len16, pad8, Put, Reader};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Nicira vendor / experimenter id.
pub const NX_VENDOR_ID: u32 = 0x0000_2320;

/// Action lists that can be nested inside NX actions (e.g. `ct(exec(...))`).
pub trait ActionList: Sized + Clone + PartialEq + std::fmt::Debug {
    /// Parses actions until `r` is exhausted.
    fn parse_list(r: &mut Reader<'_>) -> Result<Vec<Self>, DecodeError>;
    /// Appends actions; fails if one of them is longer than its length field holds.
    fn emit_list(list: &[Self], out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

/// NX subtype numbers.
#[allow(missing_docs)]
pub mod subtype {
    pub const RESUBMIT: u16 = 1;
    pub const REG_MOVE: u16 = 6;
    pub const REG_LOAD: u16 = 7;
    pub const NOTE: u16 = 8;
    pub const RESUBMIT_TABLE: u16 = 14;
    pub const LEARN: u16 = 16;
    pub const DEC_TTL: u16 = 18;
    pub const FIN_TIMEOUT: u16 = 19;
    pub const CONTROLLER: u16 = 20;
    pub const DEC_TTL_CNT_IDS: u16 = 21;
    pub const PUSH_MPLS: u16 = 23;
    pub const POP_MPLS: u16 = 24;
    pub const SET_MPLS_TTL: u16 = 25;
    pub const DEC_MPLS_TTL: u16 = 26;
    pub const STACK_PUSH: u16 = 27;
    pub const STACK_POP: u16 = 28;
    pub const SAMPLE: u16 = 29;
    pub const SET_MPLS_LABEL: u16 = 30;
    pub const SET_MPLS_TC: u16 = 31;
    pub const CONJUNCTION: u16 = 34;
    pub const CT: u16 = 35;
    pub const NAT: u16 = 36;
    pub const CONTROLLER2: u16 = 37;
    pub const SAMPLE2: u16 = 38;
    pub const OUTPUT_TRUNC: u16 = 39;
    pub const CT_CLEAR: u16 = 43;
}

/// A Nicira extension action. `A` is the enclosing version's action type
/// (for actions nested in `ct`).
#[derive(Clone, Debug, PartialEq)]
pub enum NxAction<A> {
    /// `resubmit(in_port)`.
    Resubmit {
        /// Port to pretend the packet came in on.
        in_port: u16,
    },
    /// `resubmit(in_port, table)`.
    ResubmitTable {
        /// Port (0xfff8 = in_port).
        in_port: u16,
        /// Table (255 = current).
        table_id: u8,
    },
    /// `move:src[ofs..]->dst[ofs..]`.
    RegMove {
        /// Bits to copy.
        n_bits: u16,
        /// Source bit offset.
        src_ofs: u16,
        /// Destination bit offset.
        dst_ofs: u16,
        /// Source field NXM header.
        src: u32,
        /// Destination field NXM header.
        dst: u32,
    },
    /// `load:value->dst[ofs..]`.
    RegLoad {
        /// `(ofs << 6) | (n_bits - 1)`.
        ofs_nbits: u16,
        /// Destination field NXM header.
        dst: u32,
        /// Value.
        value: u64,
    },
    /// `note:...` (the bytes include any trailing padding as sent).
    Note(Vec<u8>),
    /// `learn(...)`.
    Learn(Learn),
    /// `dec_ttl`.
    DecTtl,
    /// `fin_timeout`.
    FinTimeout {
        /// Idle timeout after FIN/RST.
        fin_idle_timeout: u16,
        /// Hard timeout after FIN/RST.
        fin_hard_timeout: u16,
    },
    /// `controller(...)`.
    Controller {
        /// Bytes to send.
        max_len: u16,
        /// Controller id.
        controller_id: u16,
        /// Packet-in reason.
        reason: u8,
    },
    /// `dec_ttl(ids...)`.
    DecTtlCntIds(Vec<u16>),
    /// `push_mpls:ethertype`.
    PushMpls(u16),
    /// `pop_mpls:ethertype`.
    PopMpls(u16),
    /// `set_mpls_ttl`.
    SetMplsTtl(u8),
    /// `dec_mpls_ttl`.
    DecMplsTtl,
    /// `push:field[start..end]`.
    StackPush {
        /// Bit offset.
        start: u16,
        /// Field NXM header.
        field: u32,
        /// Number of bits (Ryu calls it `end`).
        end: u16,
    },
    /// `pop:field[start..end]`.
    StackPop {
        /// Bit offset.
        start: u16,
        /// Field NXM header.
        field: u32,
        /// Number of bits.
        end: u16,
    },
    /// `sample(...)`.
    Sample {
        /// Probability out of 65535.
        probability: u16,
        /// IPFIX collector set.
        collector_set_id: u32,
        /// Observation domain.
        obs_domain_id: u32,
        /// Observation point.
        obs_point_id: u32,
    },
    /// `sample(...)` with a sampling port.
    Sample2 {
        /// Probability out of 65535.
        probability: u16,
        /// IPFIX collector set.
        collector_set_id: u32,
        /// Observation domain.
        obs_domain_id: u32,
        /// Observation point.
        obs_point_id: u32,
        /// Sampling port.
        sampling_port: u16,
    },
    /// `set_mpls_label`.
    SetMplsLabel(u32),
    /// `set_mpls_tc`.
    SetMplsTc(u8),
    /// `conjunction(id, clause/n_clauses)`.
    Conjunction {
        /// Clause number (as on the wire).
        clause: u8,
        /// Number of clauses.
        n_clauses: u8,
        /// Conjunction id.
        id: u32,
    },
    /// `ct(...)` conntrack.
    Ct(Ct<A>),
    /// `nat(...)` (inside `ct`).
    Nat(Nat),
    /// `controller(...)` property form.
    Controller2(Controller2),
    /// `output(port, max_len)` truncating output.
    OutputTrunc {
        /// Output port.
        port: u16,
        /// Truncate to this many bytes.
        max_len: u32,
    },
    /// `ct_clear`.
    CtClear,
    /// Any other subtype, body (after the subtype) kept opaque.
    Unknown {
        /// Subtype.
        subtype: u16,
        /// Body after the subtype, padding included.
        data: Vec<u8>,
    },
}

/// `learn` action fields.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Learn {
    /// Idle timeout of learned flows.
    pub idle_timeout: u16,
    /// Hard timeout of learned flows.
    pub hard_timeout: u16,
    /// Priority of learned flows.
    pub priority: u16,
    /// Cookie of learned flows.
    pub cookie: u64,
    /// `NX_LEARN_F_*`.
    pub flags: u16,
    /// Table for learned flows.
    pub table_id: u8,
    /// FIN idle timeout.
    pub fin_idle_timeout: u16,
    /// FIN hard timeout.
    pub fin_hard_timeout: u16,
    /// Flow specs.
    pub specs: Vec<LearnSpec>,
}

/// One learn flow spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnSpec {
    /// Number of bits.
    pub n_bits: u16,
    /// Source.
    pub src: LearnSrc,
    /// Destination.
    pub dst: LearnDst,
}

/// Source of a learn spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LearnSrc {
    /// A field reference.
    Field {
        /// NXM header.
        field: u32,
        /// Bit offset.
        ofs: u16,
    },
    /// Immediate bytes (big-endian, `ceil(n_bits/16)*2` long).
    Immediate(Vec<u8>),
}

/// Destination of a learn spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LearnDst {
    /// Add a match on the field.
    Match {
        /// NXM header.
        field: u32,
        /// Bit offset.
        ofs: u16,
    },
    /// Add a load into the field.
    Load {
        /// NXM header.
        field: u32,
        /// Bit offset.
        ofs: u16,
    },
    /// Add an output to the port in the source.
    Output,
}

/// `ct` action fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Ct<A> {
    /// `NX_CT_F_*` (1 = commit).
    pub flags: u16,
    /// Zone source field NXM header (0 = immediate zone).
    pub zone_src: u32,
    /// Zone bits, or the immediate zone when `zone_src == 0`.
    pub zone_ofs_nbits: u16,
    /// Table to recirculate to (255 = none).
    pub recirc_table: u8,
    /// ALG (e.g. 21 = FTP).
    pub alg: u16,
    /// Nested actions.
    pub actions: Vec<A>,
}

/// `nat` action fields.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Nat {
    /// `NX_NAT_F_*`.
    pub flags: u16,
    /// Minimum IPv4 address.
    pub range_ipv4_min: Option<Ipv4Addr>,
    /// Maximum IPv4 address.
    pub range_ipv4_max: Option<Ipv4Addr>,
    /// Minimum IPv6 address.
    pub range_ipv6_min: Option<Ipv6Addr>,
    /// Maximum IPv6 address.
    pub range_ipv6_max: Option<Ipv6Addr>,
    /// Minimum L4 port.
    pub range_proto_min: Option<u16>,
    /// Maximum L4 port.
    pub range_proto_max: Option<u16>,
}

/// `controller` (property form) fields; absent properties are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Controller2 {
    /// Max bytes to send.
    pub max_len: Option<u16>,
    /// Controller id.
    pub controller_id: Option<u16>,
    /// Packet-in reason.
    pub reason: Option<u8>,
    /// Opaque user data.
    pub userdata: Option<Vec<u8>>,
    /// Pause the pipeline.
    pub pause: bool,
    /// Meter id.
    pub meter_id: Option<u32>,
}

impl<A: ActionList> NxAction<A> {
    /// Subtype number.
    pub fn subtype(&self) -> u16 {
        use subtype::*;
        match self {
            NxAction::Resubmit { .. } => RESUBMIT,
            NxAction::ResubmitTable { .. } => RESUBMIT_TABLE,
            NxAction::RegMove { .. } => REG_MOVE,
            NxAction::RegLoad { .. } => REG_LOAD,
            NxAction::Note(_) => NOTE,
            NxAction::Learn(_) => LEARN,
            NxAction::DecTtl => DEC_TTL,
            NxAction::FinTimeout { .. } => FIN_TIMEOUT,
            NxAction::Controller { .. } => CONTROLLER,
            NxAction::DecTtlCntIds(_) => DEC_TTL_CNT_IDS,
            NxAction::PushMpls(_) => PUSH_MPLS,
            NxAction::PopMpls(_) => POP_MPLS,
            NxAction::SetMplsTtl(_) => SET_MPLS_TTL,
            NxAction::DecMplsTtl => DEC_MPLS_TTL,
            NxAction::StackPush { .. } => STACK_PUSH,
            NxAction::StackPop { .. } => STACK_POP,
            NxAction::Sample { .. } => SAMPLE,
            NxAction::Sample2 { .. } => SAMPLE2,
            NxAction::SetMplsLabel(_) => SET_MPLS_LABEL,
            NxAction::SetMplsTc(_) => SET_MPLS_TC,
            NxAction::Conjunction { .. } => CONJUNCTION,
            NxAction::Ct(_) => CT,
            NxAction::Nat(_) => NAT,
            NxAction::Controller2(_) => CONTROLLER2,
            NxAction::OutputTrunc { .. } => OUTPUT_TRUNC,
            NxAction::CtClear => CT_CLEAR,
            NxAction::Unknown { subtype, .. } => *subtype,
        }
    }

    /// Parses an NX action given the whole action bytes (`raw`, header
    /// included); the reader `r` is positioned after the 10-byte
    /// type/len/vendor/subtype prefix and limited to the action.
    ///
    /// Never fails: content that does not decode to a typed form that
    /// re-encodes identically is kept as [`NxAction::Unknown`].
    pub fn parse(subtype: u16, raw: &[u8], r: &mut Reader<'_>) -> NxAction<A> {
        let data = r.clone().rest();
        if let Ok(a) = Self::parse_typed(subtype, r) {
            let mut check = Vec::with_capacity(raw.len());
            if a.emit(&mut check).is_ok() && check == raw {
                return a;
            }
        }
        NxAction::Unknown { subtype, data: data.to_vec() }
    }

    fn parse_typed(st: u16, r: &mut Reader<'_>) -> Result<NxAction<A>, DecodeError> {
        use subtype::*;
        Ok(match st {
            RESUBMIT => NxAction::Resubmit { in_port: r.u16()? },
            RESUBMIT_TABLE => NxAction::ResubmitTable { in_port: r.u16()?, table_id: r.u8()? },
            REG_MOVE => NxAction::RegMove {
                n_bits: r.u16()?,
                src_ofs: r.u16()?,
                dst_ofs: r.u16()?,
                src: r.u32()?,
                dst: r.u32()?,
            },
            REG_LOAD => NxAction::RegLoad { ofs_nbits: r.u16()?, dst: r.u32()?, value: r.u64()? },
            NOTE => NxAction::Note(r.rest().to_vec()),
            LEARN => {
                let mut l = Learn {
                    idle_timeout: r.u16()?,
                    hard_timeout: r.u16()?,
                    priority: r.u16()?,
                    cookie: r.u64()?,
                    flags: r.u16()?,
                    table_id: r.u8()?,
                    ..Default::default()
                };
                r.skip(1)?;
                l.fin_idle_timeout = r.u16()?;
                l.fin_hard_timeout = r.u16()?;
                while r.remaining() >= 2 {
                    let h = r.peek_u16(0).unwrap_or(0);
                    if h == 0 {
                        break;
                    }
                    r.skip(2)?;
                    let n_bits = h & 0x3ff;
                    let src = if h & 0x2000 != 0 {
                        LearnSrc::Immediate(r.bytes((n_bits as usize).div_ceil(16) * 2)?.to_vec())
                    } else {
                        LearnSrc::Field { field: r.u32()?, ofs: r.u16()? }
                    };
                    let dst = match (h >> 11) & 3 {
                        0 => LearnDst::Match { field: r.u32()?, ofs: r.u16()? },
                        1 => LearnDst::Load { field: r.u32()?, ofs: r.u16()? },
                        2 => LearnDst::Output,
                        _ => return Err(r.err("learn spec with reserved destination type 3")),
                    };
                    l.specs.push(LearnSpec { n_bits, src, dst });
                }
                NxAction::Learn(l)
            }
            DEC_TTL => NxAction::DecTtl,
            FIN_TIMEOUT => NxAction::FinTimeout { fin_idle_timeout: r.u16()?, fin_hard_timeout: r.u16()? },
            CONTROLLER => NxAction::Controller { max_len: r.u16()?, controller_id: r.u16()?, reason: r.u8()? },
            DEC_TTL_CNT_IDS => {
                let n = r.u16()?;
                r.skip(4)?;
                let mut ids = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    ids.push(r.u16()?);
                }
                NxAction::DecTtlCntIds(ids)
            }
            PUSH_MPLS => NxAction::PushMpls(r.u16()?),
            POP_MPLS => NxAction::PopMpls(r.u16()?),
            SET_MPLS_TTL => NxAction::SetMplsTtl(r.u8()?),
            DEC_MPLS_TTL => NxAction::DecMplsTtl,
            STACK_PUSH => NxAction::StackPush { start: r.u16()?, field: r.u32()?, end: r.u16()? },
            STACK_POP => NxAction::StackPop { start: r.u16()?, field: r.u32()?, end: r.u16()? },
            SAMPLE => NxAction::Sample {
                probability: r.u16()?,
                collector_set_id: r.u32()?,
                obs_domain_id: r.u32()?,
                obs_point_id: r.u32()?,
            },
            SAMPLE2 => NxAction::Sample2 {
                probability: r.u16()?,
                collector_set_id: r.u32()?,
                obs_domain_id: r.u32()?,
                obs_point_id: r.u32()?,
                sampling_port: r.u16()?,
            },
            SET_MPLS_LABEL => {
                r.skip(2)?;
                NxAction::SetMplsLabel(r.u32()?)
            }
            SET_MPLS_TC => NxAction::SetMplsTc(r.u8()?),
            CONJUNCTION => NxAction::Conjunction { clause: r.u8()?, n_clauses: r.u8()?, id: r.u32()? },
            CT => {
                let flags = r.u16()?;
                let zone_src = r.u32()?;
                let zone_ofs_nbits = r.u16()?;
                let recirc_table = r.u8()?;
                r.skip(3)?;
                let alg = r.u16()?;
                let actions = A::parse_list(r)?;
                NxAction::Ct(Ct { flags, zone_src, zone_ofs_nbits, recirc_table, alg, actions })
            }
            NAT => {
                r.skip(2)?;
                let flags = r.u16()?;
                let present = r.u16()?;
                let mut n = Nat { flags, ..Default::default() };
                if present & 1 != 0 {
                    n.range_ipv4_min = Some(Ipv4Addr::from(r.array::<4>()?));
                }
                if present & 2 != 0 {
                    n.range_ipv4_max = Some(Ipv4Addr::from(r.array::<4>()?));
                }
                if present & 4 != 0 {
                    n.range_ipv6_min = Some(Ipv6Addr::from(r.array::<16>()?));
                }
                if present & 8 != 0 {
                    n.range_ipv6_max = Some(Ipv6Addr::from(r.array::<16>()?));
                }
                if present & 16 != 0 {
                    n.range_proto_min = Some(r.u16()?);
                }
                if present & 32 != 0 {
                    n.range_proto_max = Some(r.u16()?);
                }
                NxAction::Nat(n)
            }
            CONTROLLER2 => {
                r.skip(6)?;
                let mut c = Controller2::default();
                while r.remaining() >= 4 {
                    let t = r.u16()?;
                    let len = r.u16()? as usize;
                    if len < 4 {
                        return Err(r.err("controller2 property shorter than 4"));
                    }
                    let mut p = r.sub(len - 4)?;
                    r.skip((pad8(len) - len).min(r.remaining()))?;
                    match t {
                        0 => c.max_len = Some(p.u16()?),
                        1 => c.controller_id = Some(p.u16()?),
                        2 => c.reason = Some(p.u8()?),
                        3 => c.userdata = Some(p.rest().to_vec()),
                        4 => c.pause = true,
                        5 => c.meter_id = Some(p.u32()?),
                        _ => return Err(p.err(format!("unknown controller2 property {}", t))),
                    }
                }
                NxAction::Controller2(c)
            }
            OUTPUT_TRUNC => NxAction::OutputTrunc { port: r.u16()?, max_len: r.u32()? },
            CT_CLEAR => NxAction::CtClear,
            _ => return Err(r.err("unknown subtype")),
        })
    }

    /// Appends the whole action (type 0xffff, length, vendor, subtype, body, padding to at least 16 bytes and
    /// a multiple of 8). Fails if the action, or a count or property inside it, is longer than its field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u16(0xffff);
        out.put_u16(0);
        out.put_u32(NX_VENDOR_ID);
        out.put_u16(self.subtype());
        match self {
            NxAction::Resubmit { in_port } => out.put_u16(*in_port),
            NxAction::ResubmitTable { in_port, table_id } => {
                out.put_u16(*in_port);
                out.put_u8(*table_id);
            }
            NxAction::RegMove { n_bits, src_ofs, dst_ofs, src, dst } => {
                out.put_u16(*n_bits);
                out.put_u16(*src_ofs);
                out.put_u16(*dst_ofs);
                out.put_u32(*src);
                out.put_u32(*dst);
            }
            NxAction::RegLoad { ofs_nbits, dst, value } => {
                out.put_u16(*ofs_nbits);
                out.put_u32(*dst);
                out.put_u64(*value);
            }
            NxAction::Note(n) => out.extend_from_slice(n),
            NxAction::Learn(l) => {
                out.put_u16(l.idle_timeout);
                out.put_u16(l.hard_timeout);
                out.put_u16(l.priority);
                out.put_u64(l.cookie);
                out.put_u16(l.flags);
                out.put_u8(l.table_id);
                out.put_u8(0);
                out.put_u16(l.fin_idle_timeout);
                out.put_u16(l.fin_hard_timeout);
                for s in &l.specs {
                    let mut h = s.n_bits & 0x3ff;
                    if let LearnSrc::Immediate(_) = s.src {
                        h |= 0x2000;
                    }
                    h |= match s.dst {
                        LearnDst::Match { .. } => 0,
                        LearnDst::Load { .. } => 0x0800,
                        LearnDst::Output => 0x1000,
                    };
                    out.put_u16(h);
                    match &s.src {
                        LearnSrc::Field { field, ofs } => {
                            out.put_u32(*field);
                            out.put_u16(*ofs);
                        }
                        LearnSrc::Immediate(b) => out.extend_from_slice(b),
                    }
                    match s.dst {
                        LearnDst::Match { field, ofs } | LearnDst::Load { field, ofs } => {
                            out.put_u32(field);
                            out.put_u16(ofs);
                        }
                        LearnDst::Output => {}
                    }
                }
            }
            NxAction::DecTtl | NxAction::DecMplsTtl | NxAction::CtClear => {}
            NxAction::FinTimeout { fin_idle_timeout, fin_hard_timeout } => {
                out.put_u16(*fin_idle_timeout);
                out.put_u16(*fin_hard_timeout);
            }
            NxAction::Controller { max_len, controller_id, reason } => {
                out.put_u16(*max_len);
                out.put_u16(*controller_id);
                out.put_u8(*reason);
            }
            NxAction::DecTtlCntIds(ids) => {
                out.put_u16(len16("the controller ids of an NX dec_ttl action", ids.len())?);
                out.put_zeros(4);
                for i in ids {
                    out.put_u16(*i);
                }
            }
            NxAction::PushMpls(e) | NxAction::PopMpls(e) => out.put_u16(*e),
            NxAction::SetMplsTtl(t) | NxAction::SetMplsTc(t) => out.put_u8(*t),
            NxAction::StackPush { start: s, field, end } | NxAction::StackPop { start: s, field, end } => {
                out.put_u16(*s);
                out.put_u32(*field);
                out.put_u16(*end);
            }
            NxAction::Sample { probability, collector_set_id, obs_domain_id, obs_point_id } => {
                out.put_u16(*probability);
                out.put_u32(*collector_set_id);
                out.put_u32(*obs_domain_id);
                out.put_u32(*obs_point_id);
            }
            NxAction::Sample2 { probability, collector_set_id, obs_domain_id, obs_point_id, sampling_port } => {
                out.put_u16(*probability);
                out.put_u32(*collector_set_id);
                out.put_u32(*obs_domain_id);
                out.put_u32(*obs_point_id);
                out.put_u16(*sampling_port);
            }
            NxAction::SetMplsLabel(l) => {
                out.put_u16(0);
                out.put_u32(*l);
            }
            NxAction::Conjunction { clause, n_clauses, id } => {
                out.put_u8(*clause);
                out.put_u8(*n_clauses);
                out.put_u32(*id);
            }
            NxAction::Ct(c) => {
                out.put_u16(c.flags);
                out.put_u32(c.zone_src);
                out.put_u16(c.zone_ofs_nbits);
                out.put_u8(c.recirc_table);
                out.put_zeros(3);
                out.put_u16(c.alg);
                A::emit_list(&c.actions, out)?;
            }
            NxAction::Nat(n) => {
                out.put_u16(0);
                out.put_u16(n.flags);
                let present = (n.range_ipv4_min.is_some() as u16)
                    | (n.range_ipv4_max.is_some() as u16) << 1
                    | (n.range_ipv6_min.is_some() as u16) << 2
                    | (n.range_ipv6_max.is_some() as u16) << 3
                    | (n.range_proto_min.is_some() as u16) << 4
                    | (n.range_proto_max.is_some() as u16) << 5;
                out.put_u16(present);
                for a in [n.range_ipv4_min, n.range_ipv4_max].into_iter().flatten() {
                    out.extend_from_slice(&a.octets());
                }
                for a in [n.range_ipv6_min, n.range_ipv6_max].into_iter().flatten() {
                    out.extend_from_slice(&a.octets());
                }
                for p in [n.range_proto_min, n.range_proto_max].into_iter().flatten() {
                    out.put_u16(p);
                }
            }
            NxAction::Controller2(c) => {
                out.put_zeros(6);
                // Properties: the length counts the header and body, not the padding to 8 bytes.
                let prop = |out: &mut Vec<u8>, t: u16, body: &[u8], len: usize| -> Result<(), EncodeError> {
                    let s = out.len();
                    out.put_u16(t);
                    out.put_u16(len16("an NX controller2 property", len)?);
                    out.extend_from_slice(body);
                    out.pad8_from(s);
                    Ok(())
                };
                if let Some(v) = c.max_len {
                    prop(out, 0, &v.to_be_bytes(), 8)?;
                }
                if let Some(v) = c.controller_id {
                    prop(out, 1, &v.to_be_bytes(), 8)?;
                }
                if let Some(v) = c.reason {
                    prop(out, 2, &[v], 5)?;
                }
                if let Some(v) = &c.userdata {
                    prop(out, 3, v, 4 + v.len())?;
                }
                if c.pause {
                    prop(out, 4, &[], 4)?;
                }
                if let Some(v) = c.meter_id {
                    prop(out, 5, &v.to_be_bytes(), 8)?;
                }
            }
            NxAction::OutputTrunc { port, max_len } => {
                out.put_u16(*port);
                out.put_u32(*max_len);
            }
            NxAction::Unknown { data, .. } => out.extend_from_slice(data),
        }
        // Every NX action is at least 16 bytes and a multiple of 8.
        let len = out.len() - start;
        if len < 16 {
            out.put_zeros(16 - len);
        }
        out.pad8_from(start);
        out.set_len16(start + 2, start, "an NX action")
    }
}

/// JSON of the NX actions (Ryu's `NXAction*` classes), generic over the action list of either version.
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::{ActionList, Controller2, Ct, Learn, LearnDst, LearnSpec, LearnSrc, Nat, NxAction, NX_VENDOR_ID};
    use crate::json::{bad, base64, class, cls, ext, hex_header, num, JsonError, Obj, R};
    use crate::v1_3::oxm::json::{be_value, kind_bytes};
    use crate::v1_3::oxm::{OxmField, ValueKind};
    use serde_json::{json, Value};
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// Name of an NXM/OXM header for Nicira action field references ("" for 0).
    fn field_name(h: u32) -> Value {
        if h == 0 {
            return json!("");
        }
        let class = (h >> 16) as u16;
        let field = ((h >> 9) & 0x7f) as u8;
        match OxmField::from_class_field(class, field) {
            // Only the canonical header (no mask bit, the field's own length) gets a name, so the JSON is lossless.
            Some(f) if f.header(false) == h => json!(f.name()),
            _ => json!(format!("field_0x{:08x}", h)),
        }
    }

    pub(crate) fn nx_json<A>(
        a: &NxAction<A>,
        raw_len: Option<usize>,
        v13: bool,
        nested: &dyn Fn(&[A]) -> Value,
    ) -> Value
    where
        A: ActionList,
    {
        let (name, fields) = match a {
            NxAction::Resubmit { in_port } => ("NXActionResubmit", json!({"in_port": in_port})),
            NxAction::ResubmitTable { in_port, table_id } => {
                ("NXActionResubmitTable", json!({"in_port": in_port, "table_id": table_id}))
            }
            NxAction::RegMove { n_bits, src_ofs, dst_ofs, src, dst } => (
                "NXActionRegMove",
                json!({"n_bits": n_bits, "src_ofs": src_ofs, "dst_ofs": dst_ofs, "src_field": field_name(*src), "dst_field": field_name(*dst)}),
            ),
            NxAction::RegLoad { ofs_nbits, dst, value } => {
                ("NXActionRegLoad", json!({"ofs_nbits": ofs_nbits, "dst": field_name(*dst), "value": value}))
            }
            NxAction::Note(n) => ("NXActionNote", json!({"note": n})),
            NxAction::Learn(l) => {
                let specs: Vec<Value> = l
                    .specs
                    .iter()
                    .map(|s| {
                        let src = match &s.src {
                            LearnSrc::Field { field, ofs } => json!([field_name(*field), ofs]),
                            LearnSrc::Immediate(b) => be_value(b),
                        };
                        let (n, dst) = match &s.dst {
                            LearnDst::Match { field, ofs } => ("NXFlowSpecMatch", json!([field_name(*field), ofs])),
                            LearnDst::Load { field, ofs } => ("NXFlowSpecLoad", json!([field_name(*field), ofs])),
                            LearnDst::Output => ("NXFlowSpecOutput", json!("")),
                        };
                        cls(n, json!({"src": src, "dst": dst, "n_bits": s.n_bits}))
                    })
                    .collect();
                (
                    "NXActionLearn",
                    json!({"cookie": l.cookie, "fin_hard_timeout": l.fin_hard_timeout, "fin_idle_timeout": l.fin_idle_timeout,
                       "flags": l.flags, "hard_timeout": l.hard_timeout, "idle_timeout": l.idle_timeout,
                       "priority": l.priority, "specs": specs, "table_id": l.table_id}),
                )
            }
            NxAction::DecTtl => ("NXActionDecTtl", json!({})),
            NxAction::FinTimeout { fin_idle_timeout, fin_hard_timeout } => (
                "NXActionFinTimeout",
                json!({"fin_idle_timeout": fin_idle_timeout, "fin_hard_timeout": fin_hard_timeout}),
            ),
            NxAction::Controller { max_len, controller_id, reason } => {
                ("NXActionController", json!({"max_len": max_len, "controller_id": controller_id, "reason": reason}))
            }
            NxAction::DecTtlCntIds(ids) => ("NXActionDecTtlCntIds", json!({"cnt_ids": ids})),
            NxAction::PushMpls(e) => ("NXActionPushMpls", json!({"ethertype": e})),
            NxAction::PopMpls(e) => ("NXActionPopMpls", json!({"ethertype": e})),
            NxAction::SetMplsTtl(t) => ("NXActionSetMplsTtl", json!({"ttl": t})),
            NxAction::DecMplsTtl => ("NXActionDecMplsTtl", json!({})),
            NxAction::StackPush { start, field, end } => {
                ("NXActionStackPush", json!({"start": start, "field": field_name(*field), "end": end}))
            }
            NxAction::StackPop { start, field, end } => {
                ("NXActionStackPop", json!({"start": start, "field": field_name(*field), "end": end}))
            }
            NxAction::Sample { probability, collector_set_id, obs_domain_id, obs_point_id } => (
                "NXActionSample",
                json!({"probability": probability, "collector_set_id": collector_set_id, "obs_domain_id": obs_domain_id, "obs_point_id": obs_point_id}),
            ),
            NxAction::Sample2 { probability, collector_set_id, obs_domain_id, obs_point_id, sampling_port } => (
                "NXActionSample2",
                json!({"probability": probability, "collector_set_id": collector_set_id, "obs_domain_id": obs_domain_id,
                   "obs_point_id": obs_point_id, "sampling_port": sampling_port}),
            ),
            NxAction::SetMplsLabel(l) => ("NXActionSetMplsLabel", json!({"label": l})),
            NxAction::SetMplsTc(t) => ("NXActionSetMplsTc", json!({"tc": t})),
            NxAction::Conjunction { clause, n_clauses, id } => {
                ("NXActionConjunction", json!({"clause": clause, "n_clauses": n_clauses, "id": id}))
            }
            NxAction::Ct(c) => (
                "NXActionCT",
                json!({"flags": c.flags, "zone_src": field_name(c.zone_src), "zone_ofs_nbits": c.zone_ofs_nbits,
                   "recirc_table": c.recirc_table, "alg": c.alg, "actions": nested(&c.actions)}),
            ),
            NxAction::Nat(n) => {
                let ip4 = |a: Option<std::net::Ipv4Addr>| a.map(|a| json!(a.to_string())).unwrap_or(json!(""));
                let ip6 = |a: Option<std::net::Ipv6Addr>| a.map(|a| json!(a.to_string())).unwrap_or(json!(""));
                (
                    "NXActionNAT",
                    json!({"flags": n.flags, "range_ipv4_min": ip4(n.range_ipv4_min), "range_ipv4_max": ip4(n.range_ipv4_max),
                       "range_ipv6_min": ip6(n.range_ipv6_min), "range_ipv6_max": ip6(n.range_ipv6_max),
                       "range_proto_min": n.range_proto_min, "range_proto_max": n.range_proto_max}),
                )
            }
            NxAction::Controller2(c) => (
                "NXActionController2",
                json!({"max_len": c.max_len, "controller_id": c.controller_id, "reason": c.reason,
                   "userdata": c.userdata, "pause": c.pause, "meter_id": c.meter_id}),
            ),
            NxAction::OutputTrunc { port, max_len } => {
                ("NXActionOutputTrunc", json!({"port": port, "max_len": max_len}))
            }
            NxAction::CtClear => ("NXActionCTClear", json!({})),
            NxAction::Unknown { data, .. } => ("NXActionUnknown", json!({"data": base64(data)})),
        };
        let mut fields = fields;
        if let (NxAction::Controller2(c), Some(o)) = (a, fields.as_object_mut()) {
            if c.meter_id.is_none() {
                o.remove("meter_id");
            }
        }
        let head = if v13 {
            json!({"experimenter": NX_VENDOR_ID, "len": raw_len, "subtype": a.subtype(), "type": 0xffff})
        } else {
            json!({"vendor": NX_VENDOR_ID, "subtype": a.subtype()})
        };
        cls(name, ext(head, fields))
    }

    fn field_ref(v: &Value) -> R<u32> {
        let s = v.as_str().ok_or_else(|| JsonError(format!("field reference {} is not a string", v)))?;
        if s.is_empty() {
            return Ok(0);
        }
        if let Some(h) = hex_header(s) {
            return Ok(h);
        }
        OxmField::from_name(s).map(|f| f.header(false)).ok_or_else(|| JsonError(format!("unknown field {}", s)))
    }

    fn learn_ref(v: &Value) -> R<(u32, u16)> {
        match v.as_array().map(|a| a.as_slice()) {
            Some([f, ofs]) => Ok((
                field_ref(f)?,
                num(ofs).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| JsonError("bad offset".into()))?,
            )),
            _ => bad(format!("bad learn field reference {}", v)),
        }
    }

    pub(crate) fn nx_from_json<A: ActionList>(o: &Obj<'_>, nested: &dyn Fn(&Value) -> R<A>) -> R<NxAction<A>> {
        let opt_ip4 = |k: &str| -> R<Option<Ipv4Addr>> {
            match o.opt(k).and_then(|v| v.as_str()) {
                None | Some("") => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| JsonError(format!("{}.{}: bad IPv4", o.name, k))),
            }
        };
        let opt_ip6 = |k: &str| -> R<Option<Ipv6Addr>> {
            match o.opt(k).and_then(|v| v.as_str()) {
                None | Some("") => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| JsonError(format!("{}.{}: bad IPv6", o.name, k))),
            }
        };
        let opt16 = |k: &str| -> R<Option<u16>> { o.opt(k).map(|_| o.u16(k)).transpose() };
        Ok(match o.name {
            "NXActionResubmit" => NxAction::Resubmit { in_port: o.u16("in_port")? },
            "NXActionResubmitTable" => {
                NxAction::ResubmitTable { in_port: o.u16("in_port")?, table_id: o.u8("table_id")? }
            }
            "NXActionRegMove" => NxAction::RegMove {
                n_bits: o.u16("n_bits")?,
                src_ofs: o.u16("src_ofs")?,
                dst_ofs: o.u16("dst_ofs")?,
                src: field_ref(o.v("src_field")?)?,
                dst: field_ref(o.v("dst_field")?)?,
            },
            "NXActionRegLoad" => NxAction::RegLoad {
                ofs_nbits: o.u16("ofs_nbits")?,
                dst: field_ref(o.v("dst")?)?,
                value: o.u64("value")?,
            },
            "NXActionNote" => NxAction::Note(o.bytes("note")?),
            "NXActionLearn" => NxAction::Learn(Learn {
                idle_timeout: o.u16("idle_timeout")?,
                hard_timeout: o.u16("hard_timeout")?,
                priority: o.u16("priority")?,
                cookie: o.u64("cookie")?,
                flags: o.u16("flags")?,
                table_id: o.u8("table_id")?,
                fin_idle_timeout: o.u16("fin_idle_timeout")?,
                fin_hard_timeout: o.u16("fin_hard_timeout")?,
                specs: o.list("specs", |v| {
                    let s = class(v)?;
                    let n_bits = s.u16("n_bits")?;
                    let srcv = s.v("src")?;
                    let src = if srcv.is_array() {
                        let (field, ofs) = learn_ref(srcv)?;
                        LearnSrc::Field { field, ofs }
                    } else {
                        let n = (n_bits as usize).div_ceil(16) * 2;
                        LearnSrc::Immediate(kind_bytes(ValueKind::Int, n, srcv)?)
                    };
                    let dst = match s.name {
                        "NXFlowSpecMatch" => {
                            let (field, ofs) = learn_ref(s.v("dst")?)?;
                            LearnDst::Match { field, ofs }
                        }
                        "NXFlowSpecLoad" => {
                            let (field, ofs) = learn_ref(s.v("dst")?)?;
                            LearnDst::Load { field, ofs }
                        }
                        "NXFlowSpecOutput" => LearnDst::Output,
                        n => return bad(format!("unknown learn spec {}", n)),
                    };
                    Ok(LearnSpec { n_bits, src, dst })
                })?,
            }),
            "NXActionDecTtl" => NxAction::DecTtl,
            "NXActionFinTimeout" => NxAction::FinTimeout {
                fin_idle_timeout: o.u16("fin_idle_timeout")?,
                fin_hard_timeout: o.u16("fin_hard_timeout")?,
            },
            "NXActionController" => NxAction::Controller {
                max_len: o.u16("max_len")?,
                controller_id: o.u16("controller_id")?,
                reason: o.u8("reason")?,
            },
            "NXActionDecTtlCntIds" => NxAction::DecTtlCntIds(o.list("cnt_ids", |v| {
                num(v).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| JsonError("bad cnt_id".into()))
            })?),
            "NXActionPushMpls" => NxAction::PushMpls(o.u16("ethertype")?),
            "NXActionPopMpls" => NxAction::PopMpls(o.u16("ethertype")?),
            "NXActionSetMplsTtl" => NxAction::SetMplsTtl(o.u8("ttl")?),
            "NXActionDecMplsTtl" => NxAction::DecMplsTtl,
            "NXActionStackPush" => {
                NxAction::StackPush { start: o.u16("start")?, field: field_ref(o.v("field")?)?, end: o.u16("end")? }
            }
            "NXActionStackPop" => {
                NxAction::StackPop { start: o.u16("start")?, field: field_ref(o.v("field")?)?, end: o.u16("end")? }
            }
            "NXActionSample" => NxAction::Sample {
                probability: o.u16("probability")?,
                collector_set_id: o.u32("collector_set_id")?,
                obs_domain_id: o.u32("obs_domain_id")?,
                obs_point_id: o.u32("obs_point_id")?,
            },
            "NXActionSample2" => NxAction::Sample2 {
                probability: o.u16("probability")?,
                collector_set_id: o.u32("collector_set_id")?,
                obs_domain_id: o.u32("obs_domain_id")?,
                obs_point_id: o.u32("obs_point_id")?,
                sampling_port: o.u16("sampling_port")?,
            },
            "NXActionSetMplsLabel" => NxAction::SetMplsLabel(o.u32("label")?),
            "NXActionSetMplsTc" => NxAction::SetMplsTc(o.u8("tc")?),
            "NXActionConjunction" => {
                NxAction::Conjunction { clause: o.u8("clause")?, n_clauses: o.u8("n_clauses")?, id: o.u32("id")? }
            }
            "NXActionCT" => NxAction::Ct(Ct {
                flags: o.u16("flags")?,
                zone_src: field_ref(o.v("zone_src")?)?,
                zone_ofs_nbits: o.u16("zone_ofs_nbits")?,
                recirc_table: o.u8("recirc_table")?,
                alg: o.u16("alg")?,
                actions: o.list("actions", nested)?,
            }),
            "NXActionNAT" => NxAction::Nat(Nat {
                flags: o.u16("flags")?,
                range_ipv4_min: opt_ip4("range_ipv4_min")?,
                range_ipv4_max: opt_ip4("range_ipv4_max")?,
                range_ipv6_min: opt_ip6("range_ipv6_min")?,
                range_ipv6_max: opt_ip6("range_ipv6_max")?,
                range_proto_min: opt16("range_proto_min")?,
                range_proto_max: opt16("range_proto_max")?,
            }),
            "NXActionController2" => NxAction::Controller2(Controller2 {
                max_len: opt16("max_len")?,
                controller_id: opt16("controller_id")?,
                reason: o.opt("reason").map(|_| o.u8("reason")).transpose()?,
                userdata: o.opt("userdata").map(|_| o.bytes("userdata")).transpose()?,
                pause: o.opt("pause").and_then(|v| v.as_bool()).unwrap_or(false),
                meter_id: o.opt("meter_id").map(|_| o.u32("meter_id")).transpose()?,
            }),
            "NXActionOutputTrunc" => NxAction::OutputTrunc { port: o.u16("port")?, max_len: o.u32("max_len")? },
            "NXActionCTClear" => NxAction::CtClear,
            "NXActionUnknown" => NxAction::Unknown { subtype: o.u16("subtype")?, data: o.bytes("data")? },
            n => return bad(format!("unknown Nicira action {}", n)),
        })
    }
}
