//! The OpenFlow 1.0 actions.

use crate::error::{DecodeError, EncodeError};
use crate::nx::{ActionList, NxAction, NX_VENDOR_ID};
use crate::wire::{Put, Reader};
use crate::MacAddr;
use std::net::Ipv4Addr;

/// Action type numbers (`OFPAT_*`).
#[allow(missing_docs)]
pub mod action_type {
    pub const OUTPUT: u16 = 0;
    pub const SET_VLAN_VID: u16 = 1;
    pub const SET_VLAN_PCP: u16 = 2;
    pub const STRIP_VLAN: u16 = 3;
    pub const SET_DL_SRC: u16 = 4;
    pub const SET_DL_DST: u16 = 5;
    pub const SET_NW_SRC: u16 = 6;
    pub const SET_NW_DST: u16 = 7;
    pub const SET_NW_TOS: u16 = 8;
    pub const SET_TP_SRC: u16 = 9;
    pub const SET_TP_DST: u16 = 10;
    pub const ENQUEUE: u16 = 11;
    pub const VENDOR: u16 = 0xffff;
}

/// An OpenFlow 1.0 action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Output to a port.
    Output {
        /// Port.
        port: u16,
        /// Bytes to send to the controller.
        max_len: u16,
    },
    /// Set the VLAN id.
    SetVlanVid(u16),
    /// Set the VLAN priority.
    SetVlanPcp(u8),
    /// Strip the VLAN tag.
    StripVlan,
    /// Set Ethernet source.
    SetDlSrc(MacAddr),
    /// Set Ethernet destination.
    SetDlDst(MacAddr),
    /// Set IP source.
    SetNwSrc(Ipv4Addr),
    /// Set IP destination.
    SetNwDst(Ipv4Addr),
    /// Set IP ToS.
    SetNwTos(u8),
    /// Set L4 source port.
    SetTpSrc(u16),
    /// Set L4 destination port.
    SetTpDst(u16),
    /// Output to a queue.
    Enqueue {
        /// Port.
        port: u16,
        /// Queue.
        queue_id: u32,
    },
    /// Nicira extension action.
    Nx(NxAction<Action>),
    /// Other vendor action; `data` follows the vendor id. Encoded padded with zeros to a multiple of 8 bytes
    /// (`ofp_action_vendor_header`: "Length is a multiple of 8"); a decoded action keeps that padding in `data`.
    Vendor {
        /// Vendor id.
        vendor: u32,
        /// Body.
        data: Vec<u8>,
    },
    /// Unknown action type; body after type/len, padded with zeros to a multiple of 8 bytes when encoded.
    Unknown {
        /// Action type.
        action_type: u16,
        /// Body.
        data: Vec<u8>,
    },
}

impl Action {
    /// Output to `port` sending whole packets to the controller.
    pub fn output(port: u16) -> Action {
        Action::Output { port, max_len: 0xffff }
    }
    /// Wire type.
    pub fn action_type(&self) -> u16 {
        use action_type::*;
        match self {
            Action::Output { .. } => OUTPUT,
            Action::SetVlanVid(_) => SET_VLAN_VID,
            Action::SetVlanPcp(_) => SET_VLAN_PCP,
            Action::StripVlan => STRIP_VLAN,
            Action::SetDlSrc(_) => SET_DL_SRC,
            Action::SetDlDst(_) => SET_DL_DST,
            Action::SetNwSrc(_) => SET_NW_SRC,
            Action::SetNwDst(_) => SET_NW_DST,
            Action::SetNwTos(_) => SET_NW_TOS,
            Action::SetTpSrc(_) => SET_TP_SRC,
            Action::SetTpDst(_) => SET_TP_DST,
            Action::Enqueue { .. } => ENQUEUE,
            Action::Nx(_) | Action::Vendor { .. } => VENDOR,
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
        let want = match t {
            OUTPUT | SET_VLAN_VID | SET_VLAN_PCP | STRIP_VLAN | SET_NW_SRC | SET_NW_DST | SET_NW_TOS | SET_TP_SRC
            | SET_TP_DST => Some(8),
            SET_DL_SRC | SET_DL_DST | ENQUEUE => Some(16),
            _ => None,
        };
        if let Some(w) = want {
            if w != len {
                return Err(r.err_at(start + 2, format!("action type {} length {} should be {}", t, len, w)));
            }
        }
        Ok(match t {
            OUTPUT => Action::Output { port: b.u16()?, max_len: b.u16()? },
            SET_VLAN_VID => Action::SetVlanVid(b.u16()?),
            SET_VLAN_PCP => Action::SetVlanPcp(b.u8()?),
            STRIP_VLAN => Action::StripVlan,
            SET_DL_SRC => Action::SetDlSrc(MacAddr(b.array()?)),
            SET_DL_DST => Action::SetDlDst(MacAddr(b.array()?)),
            SET_NW_SRC => Action::SetNwSrc(Ipv4Addr::from(b.array::<4>()?)),
            SET_NW_DST => Action::SetNwDst(Ipv4Addr::from(b.array::<4>()?)),
            SET_NW_TOS => Action::SetNwTos(b.u8()?),
            SET_TP_SRC => Action::SetTpSrc(b.u16()?),
            SET_TP_DST => Action::SetTpDst(b.u16()?),
            ENQUEUE => {
                let port = b.u16()?;
                b.skip(6)?;
                Action::Enqueue { port, queue_id: b.u32()? }
            }
            VENDOR => {
                let vendor = b.u32()?;
                if vendor == NX_VENDOR_ID && len >= 16 {
                    let st = b.u16()?;
                    Action::Nx(NxAction::parse(st, raw, &mut b))
                } else {
                    Action::Vendor { vendor, data: b.rest().to_vec() }
                }
            }
            _ => Action::Unknown { action_type: t, data: b.rest().to_vec() },
        })
    }

    /// Appends the action, padded to a multiple of 8 bytes; fails if it is longer than its length field holds.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Action::Nx(nx) = self {
            return nx.emit(out);
        }
        let start = out.len();
        out.put_u16(self.action_type());
        out.put_u16(0);
        match self {
            Action::Output { port, max_len } => {
                out.put_u16(*port);
                out.put_u16(*max_len);
            }
            Action::SetVlanVid(v) | Action::SetTpSrc(v) | Action::SetTpDst(v) => {
                out.put_u16(*v);
                out.put_zeros(2);
            }
            Action::SetVlanPcp(v) | Action::SetNwTos(v) => {
                out.put_u8(*v);
                out.put_zeros(3);
            }
            Action::StripVlan => out.put_zeros(4),
            Action::SetDlSrc(m) | Action::SetDlDst(m) => {
                out.extend_from_slice(&m.0);
                out.put_zeros(6);
            }
            Action::SetNwSrc(a) | Action::SetNwDst(a) => out.extend_from_slice(&a.octets()),
            Action::Enqueue { port, queue_id } => {
                out.put_u16(*port);
                out.put_zeros(6);
                out.put_u32(*queue_id);
            }
            Action::Vendor { vendor, data } => {
                out.put_u32(*vendor);
                out.extend_from_slice(data);
            }
            Action::Unknown { data, .. } => out.extend_from_slice(data),
            Action::Nx(_) => {}
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

/// JSON of the 1.0 actions (`OFPAction*`).
#[cfg(feature = "json")]
pub(crate) mod json {
    use super::Action;
    use crate::json::{bad, base64, class, cls, part_len, JsonError};
    use crate::nx::json::{nx_from_json, nx_json};
    use crate::wire::pad8;
    use serde_json::{json, Value};

    /// A 1.0 action.
    pub fn action10_json(a: &Action) -> Value {
        use Action as A;
        let (n, f) = match a {
            A::Output { port, max_len } => ("OFPActionOutput", json!({"port": port, "max_len": max_len})),
            A::SetVlanVid(v) => ("OFPActionVlanVid", json!({"vlan_vid": v})),
            A::SetVlanPcp(v) => ("OFPActionVlanPcp", json!({"vlan_pcp": v})),
            A::StripVlan => ("OFPActionStripVlan", json!({})),
            A::SetDlSrc(m) => ("OFPActionSetDlSrc", json!({"dl_addr": m.to_string()})),
            A::SetDlDst(m) => ("OFPActionSetDlDst", json!({"dl_addr": m.to_string()})),
            A::SetNwSrc(x) => ("OFPActionSetNwSrc", json!({"nw_addr": x.to_string()})),
            A::SetNwDst(x) => ("OFPActionSetNwDst", json!({"nw_addr": x.to_string()})),
            A::SetNwTos(v) => ("OFPActionSetNwTos", json!({"tos": v})),
            A::SetTpSrc(v) => ("OFPActionSetTpSrc", json!({"tp": v})),
            A::SetTpDst(v) => ("OFPActionSetTpDst", json!({"tp": v})),
            A::Enqueue { port, queue_id } => ("OFPActionEnqueue", json!({"port": port, "queue_id": queue_id})),
            A::Nx(nx) => {
                return nx_json(nx, part_len(|b| a.emit(b)), false, &actions10);
            }
            A::Vendor { vendor, data } => (
                "OFPActionVendorUnknown",
                json!({"vendor": vendor, "data": base64(data), "type": 0xffff, "len": pad8(8 + data.len())}),
            ),
            A::Unknown { action_type, data } => {
                ("OFPActionUnknown", json!({"type": action_type, "data": base64(data)}))
            }
        };
        cls(n, f)
    }

    /// A list of 1.0 actions.
    pub(crate) fn actions10(v: &[Action]) -> Value {
        json!(v.iter().map(action10_json).collect::<Vec<_>>())
    }

    /// A 1.0 action from its JSON form.
    pub fn action10_from_json(v: &Value) -> Result<Action, JsonError> {
        use Action as A;
        let o = class(v)?;
        if o.name.starts_with("NXAction") {
            return Ok(A::Nx(nx_from_json(&o, &action10_from_json)?));
        }
        Ok(match o.name {
            "OFPActionOutput" => A::Output { port: o.u16("port")?, max_len: o.u16("max_len")? },
            "OFPActionVlanVid" => A::SetVlanVid(o.u16("vlan_vid")?),
            "OFPActionVlanPcp" => A::SetVlanPcp(o.u8("vlan_pcp")?),
            "OFPActionStripVlan" => A::StripVlan,
            "OFPActionSetDlSrc" => A::SetDlSrc(o.mac("dl_addr")?),
            "OFPActionSetDlDst" => A::SetDlDst(o.mac("dl_addr")?),
            "OFPActionSetNwSrc" => A::SetNwSrc(o.ipv4("nw_addr")?),
            "OFPActionSetNwDst" => A::SetNwDst(o.ipv4("nw_addr")?),
            "OFPActionSetNwTos" => A::SetNwTos(o.u8("tos")?),
            "OFPActionSetTpSrc" => A::SetTpSrc(o.u16("tp")?),
            "OFPActionSetTpDst" => A::SetTpDst(o.u16("tp")?),
            "OFPActionEnqueue" => A::Enqueue { port: o.u16("port")?, queue_id: o.u32("queue_id")? },
            "OFPActionVendorUnknown" | "OFPActionVendor" => {
                A::Vendor { vendor: o.u32("vendor")?, data: o.bytes("data")? }
            }
            "OFPActionUnknown" => A::Unknown { action_type: o.u16("type")?, data: o.bytes("data")? },
            n => return bad(format!("unknown 1.0 action {}", n)),
        })
    }
}
