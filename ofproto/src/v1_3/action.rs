//! OpenFlow 1.3 actions (`ofp_action_*`).

use super::oxm::{Oxm, OxmField};
use crate::error::{DecodeError, EncodeError};
use crate::nx::{ActionList, NxAction, NX_VENDOR_ID};
use crate::wire::{pad8, Put, Reader};

/// Action type numbers (`OFPAT_*`).
#[allow(missing_docs)]
pub mod action_type {
    pub const OUTPUT: u16 = 0;
    pub const COPY_TTL_OUT: u16 = 11;
    pub const COPY_TTL_IN: u16 = 12;
    pub const SET_MPLS_TTL: u16 = 15;
    pub const DEC_MPLS_TTL: u16 = 16;
    pub const PUSH_VLAN: u16 = 17;
    pub const POP_VLAN: u16 = 18;
    pub const PUSH_MPLS: u16 = 19;
    pub const POP_MPLS: u16 = 20;
    pub const SET_QUEUE: u16 = 21;
    pub const GROUP: u16 = 22;
    pub const SET_NW_TTL: u16 = 23;
    pub const DEC_NW_TTL: u16 = 24;
    pub const SET_FIELD: u16 = 25;
    pub const PUSH_PBB: u16 = 26;
    pub const POP_PBB: u16 = 27;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Reserved port numbers (`OFPP_*`).
#[allow(missing_docs)]
pub mod port {
    pub const MAX: u32 = 0xffff_ff00;
    pub const IN_PORT: u32 = 0xffff_fff8;
    pub const TABLE: u32 = 0xffff_fff9;
    pub const NORMAL: u32 = 0xffff_fffa;
    pub const FLOOD: u32 = 0xffff_fffb;
    pub const ALL: u32 = 0xffff_fffc;
    pub const CONTROLLER: u32 = 0xffff_fffd;
    pub const LOCAL: u32 = 0xffff_fffe;
    pub const ANY: u32 = 0xffff_ffff;
}

/// `OFPCML_NO_BUFFER`: send the whole packet to the controller.
pub const OFPCML_NO_BUFFER: u16 = 0xffff;

/// An OpenFlow 1.3 action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Output to a port.
    Output {
        /// Output port.
        port: u32,
        /// Bytes to send to the controller.
        max_len: u16,
    },
    /// Copy TTL outwards.
    CopyTtlOut,
    /// Copy TTL inwards.
    CopyTtlIn,
    /// Set MPLS TTL.
    SetMplsTtl(u8),
    /// Decrement MPLS TTL.
    DecMplsTtl,
    /// Push a VLAN tag with this ethertype.
    PushVlan(u16),
    /// Pop the outer VLAN tag.
    PopVlan,
    /// Push an MPLS label with this ethertype.
    PushMpls(u16),
    /// Pop the outer MPLS label, setting this ethertype.
    PopMpls(u16),
    /// Set the queue.
    SetQueue(u32),
    /// Apply a group.
    Group(u32),
    /// Set IP TTL.
    SetNwTtl(u8),
    /// Decrement IP TTL.
    DecNwTtl,
    /// Set a header field.
    SetField(Oxm),
    /// Push a PBB service tag.
    PushPbb(u16),
    /// Pop the PBB service tag.
    PopPbb,
    /// A Nicira extension action.
    Nx(NxAction<Action>),
    /// Any other experimenter action; `data` follows the experimenter id. Encoded padded with zeros to a
    /// multiple of 8 bytes (`ofp_action_experimenter_header`: "Length is a multiple of 8"); a decoded action
    /// keeps that padding in `data`.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Body after the experimenter id.
        data: Vec<u8>,
    },
    /// An action type this codec does not know; body after type/len, padded with zeros to a multiple of 8
    /// bytes when encoded.
    Unknown {
        /// Action type.
        action_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl Action {
    /// `output:port` with `max_len` = `OFPCML_NO_BUFFER`.
    pub fn output(port: u32) -> Action {
        Action::Output { port, max_len: OFPCML_NO_BUFFER }
    }
    /// Output to the controller, sending `max_len` bytes.
    pub fn controller(max_len: u16) -> Action {
        Action::Output { port: port::CONTROLLER, max_len }
    }
    /// Set-field.
    pub fn set_field(oxm: Oxm) -> Action {
        Action::SetField(oxm)
    }
    /// Set-field `eth_dst`.
    pub fn set_eth_dst(mac: crate::MacAddr) -> Action {
        Action::SetField(Oxm::new(OxmField::EthDst, &mac.0))
    }
    /// Set-field `eth_src`.
    pub fn set_eth_src(mac: crate::MacAddr) -> Action {
        Action::SetField(Oxm::new(OxmField::EthSrc, &mac.0))
    }
    /// Set-field `vlan_vid` (pass the VLAN id; `OFPVID_PRESENT` is added).
    pub fn set_vlan_vid(vid: u16) -> Action {
        Action::SetField(Oxm::int(OxmField::VlanVid, (vid | 0x1000) as u64))
    }
    /// Set-field `ipv4_src`.
    pub fn set_ipv4_src(a: std::net::Ipv4Addr) -> Action {
        Action::SetField(Oxm::new(OxmField::Ipv4Src, &a.octets()))
    }
    /// Set-field `ipv4_dst`.
    pub fn set_ipv4_dst(a: std::net::Ipv4Addr) -> Action {
        Action::SetField(Oxm::new(OxmField::Ipv4Dst, &a.octets()))
    }
    /// Set-field of any integer-valued field.
    pub fn set_field_int(field: OxmField, v: u64) -> Action {
        Action::SetField(Oxm::int(field, v))
    }
    /// Push an 802.1Q tag (ethertype 0x8100).
    pub fn push_vlan() -> Action {
        Action::PushVlan(0x8100)
    }
    /// Nicira `resubmit(,table)`.
    pub fn resubmit(table_id: u8) -> Action {
        Action::Nx(NxAction::ResubmitTable { in_port: 0xfff8, table_id })
    }
    /// Nicira `load:value->field[ofs..ofs+n_bits]`.
    pub fn reg_load(field: OxmField, ofs: u16, n_bits: u16, value: u64) -> Action {
        Action::Nx(NxAction::RegLoad { ofs_nbits: ofs << 6 | (n_bits.max(1) - 1), dst: field.header(false), value })
    }
    /// Nicira `move:src[src_ofs..]->dst[dst_ofs..]` of `n_bits` bits.
    pub fn reg_move(src: OxmField, src_ofs: u16, dst: OxmField, dst_ofs: u16, n_bits: u16) -> Action {
        Action::Nx(NxAction::RegMove { n_bits, src_ofs, dst_ofs, src: src.header(false), dst: dst.header(false) })
    }
    /// Nicira `conjunction(id, clause/n_clauses)` (`clause` as on the wire).
    pub fn conjunction(id: u32, clause: u8, n_clauses: u8) -> Action {
        Action::Nx(NxAction::Conjunction { clause, n_clauses, id })
    }
    /// Nicira `ct(commit?, table=recirc_table, zone=zone, exec(actions))` with an immediate zone.
    pub fn ct(commit: bool, zone: u16, recirc_table: u8, actions: Vec<Action>) -> Action {
        Action::Nx(NxAction::Ct(crate::nx::Ct {
            flags: commit as u16,
            zone_src: 0,
            zone_ofs_nbits: zone,
            recirc_table,
            alg: 0,
            actions,
        }))
    }

    /// Wire type.
    pub fn action_type(&self) -> u16 {
        use action_type::*;
        match self {
            Action::Output { .. } => OUTPUT,
            Action::CopyTtlOut => COPY_TTL_OUT,
            Action::CopyTtlIn => COPY_TTL_IN,
            Action::SetMplsTtl(_) => SET_MPLS_TTL,
            Action::DecMplsTtl => DEC_MPLS_TTL,
            Action::PushVlan(_) => PUSH_VLAN,
            Action::PopVlan => POP_VLAN,
            Action::PushMpls(_) => PUSH_MPLS,
            Action::PopMpls(_) => POP_MPLS,
            Action::SetQueue(_) => SET_QUEUE,
            Action::Group(_) => GROUP,
            Action::SetNwTtl(_) => SET_NW_TTL,
            Action::DecNwTtl => DEC_NW_TTL,
            Action::SetField(_) => SET_FIELD,
            Action::PushPbb(_) => PUSH_PBB,
            Action::PopPbb => POP_PBB,
            Action::Nx(_) | Action::Experimenter { .. } => EXPERIMENTER,
            Action::Unknown { action_type, .. } => *action_type,
        }
    }

    /// Parses one action.
    pub fn parse(r: &mut Reader<'_>) -> Result<Action, DecodeError> {
        use action_type::*;
        let start = r.offset();
        let raw_all = r.clone().rest();
        let t = r.u16()?;
        let len = r.u16()? as usize;
        if len < 8 || !len.is_multiple_of(8) {
            return Err(r.err_at(start + 2, format!("action length {} is not a positive multiple of 8", len)));
        }
        if len > raw_all.len() {
            return Err(r.err_at(start + 2, format!("action length {} exceeds the {} bytes left", len, raw_all.len())));
        }
        let raw = &raw_all[..len];
        let mut b = r.sub(len - 4)?;
        let fixed = |want: usize, b: &Reader<'_>| -> Result<(), DecodeError> {
            if len != want {
                Err(b.err_at(start + 2, format!("action type {} length {} should be {}", t, len, want)))
            } else {
                Ok(())
            }
        };
        let a = match t {
            OUTPUT => {
                fixed(16, &b)?;
                Action::Output { port: b.u32()?, max_len: b.u16()? }
            }
            COPY_TTL_OUT | COPY_TTL_IN | DEC_MPLS_TTL | POP_VLAN | DEC_NW_TTL | POP_PBB => {
                fixed(8, &b)?;
                match t {
                    COPY_TTL_OUT => Action::CopyTtlOut,
                    COPY_TTL_IN => Action::CopyTtlIn,
                    DEC_MPLS_TTL => Action::DecMplsTtl,
                    POP_VLAN => Action::PopVlan,
                    DEC_NW_TTL => Action::DecNwTtl,
                    _ => Action::PopPbb,
                }
            }
            SET_MPLS_TTL | SET_NW_TTL => {
                fixed(8, &b)?;
                let v = b.u8()?;
                if t == SET_MPLS_TTL {
                    Action::SetMplsTtl(v)
                } else {
                    Action::SetNwTtl(v)
                }
            }
            PUSH_VLAN | PUSH_MPLS | POP_MPLS | PUSH_PBB => {
                fixed(8, &b)?;
                let e = b.u16()?;
                match t {
                    PUSH_VLAN => Action::PushVlan(e),
                    PUSH_MPLS => Action::PushMpls(e),
                    POP_MPLS => Action::PopMpls(e),
                    _ => Action::PushPbb(e),
                }
            }
            SET_QUEUE | GROUP => {
                fixed(8, &b)?;
                let v = b.u32()?;
                if t == SET_QUEUE {
                    Action::SetQueue(v)
                } else {
                    Action::Group(v)
                }
            }
            SET_FIELD => {
                let oxm = Oxm::parse(&mut b)?;
                let want = pad8(4 + oxm.wire_len());
                if want != len {
                    return Err(b.err_at(start + 2, format!("set-field length {} should be {}", len, want)));
                }
                Action::SetField(oxm)
            }
            EXPERIMENTER => {
                let exp = b.u32()?;
                if exp == NX_VENDOR_ID && len >= 16 {
                    let st = b.u16()?;
                    Action::Nx(NxAction::parse(st, raw, &mut b))
                } else {
                    Action::Experimenter { experimenter: exp, data: b.rest().to_vec() }
                }
            }
            _ => Action::Unknown { action_type: t, data: b.rest().to_vec() },
        };
        Ok(a)
    }

    /// Encoded length (padding included), or why the action cannot be encoded (the error [`Action::emit`] gives).
    pub fn wire_len(&self) -> Result<usize, EncodeError> {
        match self {
            Action::Output { .. } => Ok(16),
            Action::SetField(_) | Action::Experimenter { .. } | Action::Unknown { .. } | Action::Nx(_) => {
                let mut v = Vec::new();
                self.emit(&mut v)?;
                Ok(v.len())
            }
            _ => Ok(8),
        }
    }

    /// Appends the action, padded to a multiple of 8 bytes; fails if it (or the OXM TLV of a set-field) is
    /// longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        if let Action::Nx(nx) = self {
            return nx.emit(out);
        }
        out.put_u16(self.action_type());
        out.put_u16(0);
        match self {
            Action::Output { port, max_len } => {
                out.put_u32(*port);
                out.put_u16(*max_len);
                out.put_zeros(6);
            }
            Action::SetMplsTtl(v) | Action::SetNwTtl(v) => {
                out.put_u8(*v);
                out.put_zeros(3);
            }
            Action::PushVlan(e) | Action::PushMpls(e) | Action::PopMpls(e) | Action::PushPbb(e) => {
                out.put_u16(*e);
                out.put_zeros(2);
            }
            Action::SetQueue(v) | Action::Group(v) => out.put_u32(*v),
            Action::SetField(o) => o.emit(out)?,
            Action::Experimenter { experimenter, data } => {
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
            }
            Action::Unknown { data, .. } => out.extend_from_slice(data),
            Action::Nx(_) => {}
            _ => out.put_zeros(4),
        }
        out.pad8_from(start);
        out.set_len16(start + 2, start, "an action")
    }
}

impl ActionList for Action {
    fn parse_list(r: &mut Reader<'_>) -> Result<Vec<Self>, DecodeError> {
        let mut v = Vec::new();
        while !r.is_empty() {
            v.push(Action::parse(r)?);
        }
        Ok(v)
    }
    fn emit_list(list: &[Self], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        list.iter().try_for_each(|a| a.emit(out))
    }
}

/// Parses actions until `r` is exhausted.
pub fn parse_actions(r: &mut Reader<'_>) -> Result<Vec<Action>, DecodeError> {
    Action::parse_list(r)
}

/// Appends a list of actions; fails if one is longer than its length field holds.
pub fn emit_actions(list: &[Action], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    Action::emit_list(list, out)
}

/// JSON of the 1.3 actions (`OFPAction*`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::Action;
    use crate::json::{bad, base64, class, cls, ext, JsonError};
    use crate::nx::json::{nx_from_json, nx_json};
    use crate::v1_3::oxm::json::{oxm_from_json, oxm_json};
    use serde_json::{json, Value};

    /// A 1.3 action.
    pub fn action13_json(a: &Action) -> Value {
        let len = a.wire_len().ok();
        let t = a.action_type();
        let base = json!({"len": len, "type": t});
        let (name, f) = match a {
            Action::Output { port, max_len } => ("OFPActionOutput", json!({"port": port, "max_len": max_len})),
            Action::CopyTtlOut => ("OFPActionCopyTtlOut", json!({})),
            Action::CopyTtlIn => ("OFPActionCopyTtlIn", json!({})),
            Action::SetMplsTtl(v) => ("OFPActionSetMplsTtl", json!({"mpls_ttl": v})),
            Action::DecMplsTtl => ("OFPActionDecMplsTtl", json!({})),
            Action::PushVlan(e) => ("OFPActionPushVlan", json!({"ethertype": e})),
            Action::PopVlan => ("OFPActionPopVlan", json!({})),
            Action::PushMpls(e) => ("OFPActionPushMpls", json!({"ethertype": e})),
            Action::PopMpls(e) => ("OFPActionPopMpls", json!({"ethertype": e})),
            Action::SetQueue(q) => ("OFPActionSetQueue", json!({"queue_id": q})),
            Action::Group(g) => ("OFPActionGroup", json!({"group_id": g})),
            Action::SetNwTtl(v) => ("OFPActionSetNwTtl", json!({"nw_ttl": v})),
            Action::DecNwTtl => ("OFPActionDecNwTtl", json!({})),
            Action::SetField(o) => ("OFPActionSetField", json!({"field": oxm_json(o)})),
            Action::PushPbb(e) => ("OFPActionPushPbb", json!({"ethertype": e})),
            Action::PopPbb => ("OFPActionPopPbb", json!({})),
            Action::Nx(nx) => return nx_json(nx, len, true, &actions13),
            Action::Experimenter { experimenter, data } => {
                ("OFPActionExperimenterUnknown", json!({"experimenter": experimenter, "data": base64(data)}))
            }
            Action::Unknown { data, .. } => match crate::v1_5::actions::json::action15_json(a) {
                Some(named) if crate::json::version() >= crate::OFP_VERSION_1_5 => named,
                _ => ("OFPActionUnknown", json!({"data": base64(data)})),
            },
        };
        cls(name, ext(base, f))
    }

    /// A list of 1.3 actions.
    pub(crate) fn actions13(v: &[Action]) -> Value {
        json!(v.iter().map(action13_json).collect::<Vec<_>>())
    }

    /// A 1.3 action from its JSON form.
    pub fn action13_from_json(v: &Value) -> Result<Action, JsonError> {
        let o = class(v)?;
        if o.name.starts_with("NXAction") {
            return Ok(Action::Nx(nx_from_json(&o, &action13_from_json)?));
        }
        Ok(match o.name {
            "OFPActionOutput" => Action::Output { port: o.u32("port")?, max_len: o.u16("max_len")? },
            "OFPActionCopyTtlOut" => Action::CopyTtlOut,
            "OFPActionCopyTtlIn" => Action::CopyTtlIn,
            "OFPActionSetMplsTtl" => Action::SetMplsTtl(o.u8("mpls_ttl")?),
            "OFPActionDecMplsTtl" => Action::DecMplsTtl,
            "OFPActionPushVlan" => Action::PushVlan(o.u16("ethertype")?),
            "OFPActionPopVlan" => Action::PopVlan,
            "OFPActionPushMpls" => Action::PushMpls(o.u16("ethertype")?),
            "OFPActionPopMpls" => Action::PopMpls(o.u16("ethertype")?),
            "OFPActionSetQueue" => Action::SetQueue(o.u32("queue_id")?),
            "OFPActionGroup" => Action::Group(o.u32("group_id")?),
            "OFPActionSetNwTtl" => Action::SetNwTtl(o.u8("nw_ttl")?),
            "OFPActionDecNwTtl" => Action::DecNwTtl,
            "OFPActionSetField" => Action::SetField(oxm_from_json(o.v("field")?)?),
            "OFPActionPushPbb" => Action::PushPbb(o.u16("ethertype")?),
            "OFPActionPopPbb" => Action::PopPbb,
            "OFPActionExperimenterUnknown" => {
                Action::Experimenter { experimenter: o.u32("experimenter")?, data: o.bytes("data")? }
            }
            "OFPActionUnknown" => Action::Unknown { action_type: o.u16("type")?, data: o.bytes("data")? },
            n => match crate::v1_5::actions::json::action15_from_json(&o)? {
                Some(a) if crate::json::version() >= crate::OFP_VERSION_1_5 => a,
                _ => return bad(format!("unknown action {}", n)),
            },
        })
    }
}
