//! Property tests: encode → decode is the identity on generated messages,
//! whatever encodes says its own length in its header, messages over 65,535
//! bytes are refused, and decoding arbitrary bytes never panics.

use proptest::collection::vec;
use proptest::prelude::*;
use tatsu_ofproto::common::{ErrorMsg, Hello, HelloElement};
use tatsu_ofproto::nx::{Ct, Learn, LearnDst, LearnSpec, LearnSrc, NxAction};
use tatsu_ofproto::v1_3::multipart::{
    FlowStats, FlowStatsRequest, MultipartReplyBody, MultipartRequestBody, PortStats,
};
use tatsu_ofproto::v1_3::oxm::{Oxm, OxmField, ALL_FIELDS};
use tatsu_ofproto::v1_3::{self, Action, Instruction, Match};
use tatsu_ofproto::{decode, from_json, to_json, v1_0, EncodeError, FixedStr, MacAddr, Message, MAX_MESSAGE_LEN};

fn oxm() -> impl Strategy<Value = Oxm> {
    (0..ALL_FIELDS.len(), any::<bool>(), vec(any::<u8>(), 32)).prop_map(|(i, masked, bytes)| {
        let f: OxmField = ALL_FIELDS[i];
        let n = f.info().len as usize;
        if masked && f.info().maskable {
            Oxm::masked(f, &bytes[..n], &bytes[16..16 + n])
        } else {
            Oxm::new(f, &bytes[..n])
        }
    })
}

fn match13() -> impl Strategy<Value = Match> {
    vec(oxm(), 0..6).prop_map(|fields| Match { fields })
}

fn leaf_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (any::<u32>(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }),
        Just(Action::CopyTtlOut),
        Just(Action::CopyTtlIn),
        any::<u8>().prop_map(Action::SetMplsTtl),
        Just(Action::DecMplsTtl),
        any::<u16>().prop_map(Action::PushVlan),
        Just(Action::PopVlan),
        any::<u16>().prop_map(Action::PushMpls),
        any::<u16>().prop_map(Action::PopMpls),
        any::<u32>().prop_map(Action::SetQueue),
        any::<u32>().prop_map(Action::Group),
        any::<u8>().prop_map(Action::SetNwTtl),
        Just(Action::DecNwTtl),
        oxm().prop_map(Action::SetField),
        any::<u16>().prop_map(Action::PushPbb),
        Just(Action::PopPbb),
        (any::<u32>().prop_filter("not NX", |e| *e != 0x2320), 0..3usize, any::<u8>())
            .prop_map(|(experimenter, n, b)| Action::Experimenter { experimenter, data: vec![b; n * 8] }),
        (any::<u16>(), any::<u32>(), any::<u64>()).prop_map(|(ofs_nbits, dst, value)| Action::Nx(NxAction::RegLoad {
            ofs_nbits,
            dst,
            value
        })),
        (any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()).prop_map(
            |(n_bits, src_ofs, dst_ofs, src, dst)| Action::Nx(NxAction::RegMove { n_bits, src_ofs, dst_ofs, src, dst })
        ),
        (any::<u16>(), any::<u8>())
            .prop_map(|(in_port, table_id)| Action::Nx(NxAction::ResubmitTable { in_port, table_id })),
        (any::<u8>(), any::<u8>(), any::<u32>())
            .prop_map(|(clause, n_clauses, id)| Action::Nx(NxAction::Conjunction { clause, n_clauses, id })),
        Just(Action::Nx(NxAction::CtClear)),
        vec(any::<u8>(), 6).prop_map(|n| Action::Nx(NxAction::Note(n))),
        (any::<u16>(), any::<u8>(), 1u16..64).prop_map(|(priority, table_id, n_bits)| Action::Nx(NxAction::Learn(
            Learn {
                priority,
                table_id,
                hard_timeout: 300,
                specs: vec![
                    LearnSpec {
                        n_bits,
                        src: LearnSrc::Field { field: 0x8000_0c02, ofs: 0 },
                        dst: LearnDst::Match { field: 0x8000_0c02, ofs: 0 }
                    },
                    LearnSpec {
                        n_bits,
                        src: LearnSrc::Immediate(vec![0xab; (n_bits as usize).div_ceil(16) * 2]),
                        dst: LearnDst::Load { field: 0x0001_0004, ofs: 0 }
                    },
                    LearnSpec {
                        n_bits: 32,
                        src: LearnSrc::Field { field: 0x8000_0004, ofs: 0 },
                        dst: LearnDst::Output
                    },
                ],
                ..Default::default()
            }
        ))),
    ]
}

fn action13() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => leaf_action(),
        1 => (any::<u16>(), any::<u8>(), vec(leaf_action(), 0..3)).prop_map(|(flags, recirc_table, actions)| {
            Action::Nx(NxAction::Ct(Ct { flags, zone_src: 0x0001_0004, zone_ofs_nbits: 283, recirc_table, alg: 0, actions }))
        }),
    ]
}

fn instruction() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        any::<u8>().prop_map(Instruction::GotoTable),
        (any::<u64>(), any::<u64>()).prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
        vec(action13(), 0..4).prop_map(Instruction::WriteActions),
        vec(action13(), 0..4).prop_map(Instruction::ApplyActions),
        Just(Instruction::ClearActions),
        any::<u32>().prop_map(Instruction::Meter),
        (any::<u32>(), 0..3usize)
            .prop_map(|(experimenter, n)| Instruction::Experimenter { experimenter, data: vec![7; n * 8] }),
    ]
}

fn flow_mod() -> impl Strategy<Value = v1_3::FlowMod> {
    (any::<(u64, u64, u8, u8, u16, u16)>(), any::<(u16, u32, u32, u32, u16)>(), match13(), vec(instruction(), 0..4))
        .prop_map(|(t, u, match_, instructions)| v1_3::FlowMod {
            cookie: t.0,
            cookie_mask: t.1,
            table_id: t.2,
            command: t.3,
            idle_timeout: t.4,
            hard_timeout: t.5,
            priority: u.0,
            buffer_id: u.1,
            out_port: u.2,
            out_group: u.3,
            flags: u.4,
            match_,
            instructions,
        })
}

fn port() -> impl Strategy<Value = v1_3::Port> {
    (any::<(u32, [u8; 6], u32, u32, u32, u32)>(), any::<(u32, u32, u32, u32)>(), "[a-zA-Z0-9 _-]{0,15}").prop_map(
        |(a, b, name)| v1_3::Port {
            port_no: a.0,
            hw_addr: MacAddr(a.1),
            name: FixedStr::from(name.as_str()),
            config: a.2,
            state: a.3,
            curr: a.4,
            advertised: a.5,
            supported: b.0,
            peer: b.1,
            curr_speed: b.2,
            max_speed: b.3,
        },
    )
}

fn message13() -> impl Strategy<Value = v1_3::Message> {
    use v1_3::Message as M;
    prop_oneof![
        vec(vec(any::<u32>(), 1..3), 0..2)
            .prop_map(|w| M::Hello(Hello { elements: w.into_iter().map(HelloElement::VersionBitmap).collect() })),
        (any::<u16>(), any::<u16>(), any::<u32>(), vec(any::<u8>(), 0..40)).prop_map(|(t, code, e, data)| {
            M::Error(ErrorMsg { err_type: t, code, experimenter: (t == 0xffff).then_some(e), data })
        }),
        vec(any::<u8>(), 0..64).prop_map(M::EchoRequest),
        vec(any::<u8>(), 0..64).prop_map(M::EchoReply),
        Just(M::FeaturesRequest),
        any::<(u64, u32, u8, u8, u32, u32)>().prop_map(|t| M::FeaturesReply(v1_3::SwitchFeatures {
            datapath_id: t.0,
            n_buffers: t.1,
            n_tables: t.2,
            auxiliary_id: t.3,
            capabilities: t.4,
            reserved: 0
        })),
        any::<(u16, u16)>()
            .prop_map(|(flags, miss_send_len)| M::SetConfig(v1_3::SwitchConfig { flags, miss_send_len })),
        (any::<(u32, u16, u8, u8, u64)>(), match13(), vec(any::<u8>(), 0..200)).prop_map(|(t, match_, data)| {
            M::PacketIn(v1_3::PacketIn {
                buffer_id: t.0,
                total_len: t.1,
                reason: t.2,
                table_id: t.3,
                cookie: t.4,
                match_,
                data,
            })
        }),
        (any::<u8>(), port()).prop_map(|(reason, desc)| M::PortStatus(v1_3::PortStatus { reason, desc })),
        (any::<u32>(), any::<u32>(), vec(action13(), 0..4), vec(any::<u8>(), 0..100)).prop_map(
            |(buffer_id, in_port, actions, data)| M::PacketOut(v1_3::PacketOut { buffer_id, in_port, actions, data })
        ),
        flow_mod().prop_map(M::FlowMod),
        (any::<u16>(), any::<u8>(), any::<u32>(), vec((any::<u16>(), any::<u32>(), vec(action13(), 0..3)), 0..3))
            .prop_map(|(c, t, g, b)| {
                M::GroupMod(v1_3::GroupMod {
                    command: c,
                    group_type: t,
                    group_id: g,
                    buckets: b
                        .into_iter()
                        .map(|(weight, watch_port, actions)| v1_3::Bucket {
                            weight,
                            watch_port,
                            watch_group: 1,
                            actions,
                        })
                        .collect(),
                })
            }),
        (any::<u16>(), any::<u16>(), any::<u32>(), vec((any::<u32>(), any::<u32>(), any::<u8>()), 0..3)).prop_map(
            |(command, flags, meter_id, b)| {
                M::MeterMod(v1_3::MeterMod {
                    command,
                    flags,
                    meter_id,
                    bands: b
                        .into_iter()
                        .map(|(rate, burst_size, p)| {
                            if p % 2 == 0 {
                                v1_3::MeterBand::Drop { rate, burst_size }
                            } else {
                                v1_3::MeterBand::DscpRemark { rate, burst_size, prec_level: p }
                            }
                        })
                        .collect(),
                })
            }
        ),
        (any::<u32>(), any::<u64>())
            .prop_map(|(role, generation_id)| M::RoleRequest(v1_3::Role { role, generation_id })),
        any::<[u32; 6]>().prop_map(|a| M::SetAsync(v1_3::AsyncConfig {
            packet_in_mask: [a[0], a[1]],
            port_status_mask: [a[2], a[3]],
            flow_removed_mask: [a[4], a[5]]
        })),
        (any::<u16>(), match13()).prop_map(|(flags, match_)| M::MultipartRequest(v1_3::MultipartRequest {
            flags,
            body: MultipartRequestBody::Flow(FlowStatsRequest { match_, ..Default::default() })
        })),
        vec(port(), 0..4)
            .prop_map(|p| M::MultipartReply(v1_3::MultipartReply { flags: 0, body: MultipartReplyBody::PortDesc(p) })),
        vec(any::<(u32, u64, u64)>(), 0..3).prop_map(|v| M::MultipartReply(v1_3::MultipartReply {
            flags: 1,
            body: MultipartReplyBody::PortStats(
                v.into_iter()
                    .map(|(p, a, b)| PortStats { port_no: p, rx_packets: a, tx_bytes: b, ..Default::default() })
                    .collect()
            )
        })),
        vec((match13(), vec(instruction(), 0..3), any::<u64>()), 0..4).prop_map(|v| M::MultipartReply(
            v1_3::MultipartReply {
                flags: 0,
                body: MultipartReplyBody::Flow(
                    v.into_iter()
                        .map(|(match_, instructions, cookie)| FlowStats {
                            match_,
                            instructions,
                            cookie,
                            ..Default::default()
                        })
                        .collect()
                )
            }
        )),
        Just(M::BarrierRequest),
        Just(M::BarrierReply),
    ]
}

fn match10() -> impl Strategy<Value = v1_0::Match> {
    (any::<(u32, u16, [u8; 6], [u8; 6], u16, u8)>(), any::<(u16, u8, u8, [u8; 4], [u8; 4], u16)>()).prop_map(
        |(t, u)| v1_0::Match {
            wildcards: t.0,
            in_port: t.1,
            dl_src: MacAddr(t.2),
            dl_dst: MacAddr(t.3),
            dl_vlan: t.4,
            dl_vlan_pcp: t.5,
            dl_type: u.0,
            nw_tos: u.1,
            nw_proto: u.2,
            nw_src: u.3.into(),
            nw_dst: u.4.into(),
            tp_src: u.5,
            tp_dst: 0,
        },
    )
}

fn action10() -> impl Strategy<Value = v1_0::Action> {
    use v1_0::Action as A;
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(port, max_len)| A::Output { port, max_len }),
        any::<u16>().prop_map(A::SetVlanVid),
        any::<u8>().prop_map(A::SetVlanPcp),
        Just(A::StripVlan),
        any::<[u8; 6]>().prop_map(|m| A::SetDlSrc(MacAddr(m))),
        any::<[u8; 6]>().prop_map(|m| A::SetDlDst(MacAddr(m))),
        any::<[u8; 4]>().prop_map(|a| A::SetNwSrc(a.into())),
        any::<[u8; 4]>().prop_map(|a| A::SetNwDst(a.into())),
        any::<u8>().prop_map(A::SetNwTos),
        any::<u16>().prop_map(A::SetTpSrc),
        any::<u16>().prop_map(A::SetTpDst),
        (any::<u16>(), any::<u32>()).prop_map(|(port, queue_id)| A::Enqueue { port, queue_id }),
        any::<u16>().prop_map(|e| A::Nx(NxAction::PushMpls(e))),
        Just(A::Nx(NxAction::DecTtl)),
        (any::<u32>().prop_filter("not NX", |v| *v != 0x2320), 0..3usize)
            .prop_map(|(vendor, n)| A::Vendor { vendor, data: vec![9; n * 8] }),
    ]
}

fn message10() -> impl Strategy<Value = v1_0::Message> {
    use v1_0::Message as M;
    prop_oneof![
        (match10(), any::<(u64, u16, u16, u16, u16, u32, u16, u16)>(), vec(action10(), 0..4)).prop_map(
            |(match_, t, actions)| {
                M::FlowMod(v1_0::FlowMod {
                    match_,
                    cookie: t.0,
                    command: t.1,
                    idle_timeout: t.2,
                    hard_timeout: t.3,
                    priority: t.4,
                    buffer_id: t.5,
                    out_port: t.6,
                    flags: t.7,
                    actions,
                })
            }
        ),
        (any::<(u32, u16, u16, u8)>(), vec(any::<u8>(), 0..100)).prop_map(|(t, data)| M::PacketIn(v1_0::PacketIn {
            buffer_id: t.0,
            total_len: t.1,
            in_port: t.2,
            reason: t.3,
            data
        })),
        (any::<u32>(), any::<u16>(), vec(action10(), 0..4), vec(any::<u8>(), 0..64)).prop_map(
            |(buffer_id, in_port, actions, data)| M::PacketOut(v1_0::PacketOut { buffer_id, in_port, actions, data })
        ),
        (any::<u32>(), vec(any::<u8>(), 0..32)).prop_map(|(vendor, data)| M::Vendor { vendor, data }),
        Just(M::FeaturesRequest),
        Just(M::BarrierReply),
        (match10(), any::<(u64, u16, u8, u32, u32, u16, u64, u64)>()).prop_map(|(match_, t)| M::FlowRemoved(
            v1_0::FlowRemoved {
                match_,
                cookie: t.0,
                priority: t.1,
                reason: t.2,
                duration_sec: t.3,
                duration_nsec: t.4,
                idle_timeout: t.5,
                packet_count: t.6,
                byte_count: t.7,
            }
        )),
        (any::<(u8, u16, [u8; 6], u32, u32)>(), "[a-z0-9]{0,15}").prop_map(|(t, name)| M::PortStatus(
            v1_0::PortStatus {
                reason: t.0,
                desc: v1_0::PhyPort {
                    port_no: t.1,
                    hw_addr: MacAddr(t.2),
                    name: FixedStr::from(name.as_str()),
                    config: t.3,
                    state: t.4,
                    ..Default::default()
                },
            }
        )),
        (any::<u16>(), vec((any::<u32>(), vec(any::<u16>(), 0..3)), 0..3)).prop_map(|(port, q)| {
            M::QueueGetConfigReply {
                port,
                queues: q
                    .into_iter()
                    .map(|(queue_id, rates)| v1_0::PacketQueue {
                        queue_id,
                        properties: rates
                            .into_iter()
                            .map(|r| {
                                let mut d = r.to_be_bytes().to_vec();
                                d.resize(8, 0);
                                (1, d)
                            })
                            .collect(),
                    })
                    .collect(),
            }
        }),
        (match10(), any::<u8>(), any::<u16>()).prop_map(|(match_, table_id, out_port)| M::StatsRequest(
            v1_0::StatsRequest {
                flags: 0,
                body: v1_0::StatsRequestBody::Flow(v1_0::FlowStatsRequest { match_, table_id, out_port }),
            }
        )),
        vec((match10(), vec(action10(), 0..3), any::<u64>()), 0..3).prop_map(|v| M::StatsReply(v1_0::StatsReply {
            flags: 0,
            body: v1_0::StatsReplyBody::Flow(
                v.into_iter()
                    .map(|(match_, actions, cookie)| v1_0::FlowStats { match_, actions, cookie, ..Default::default() })
                    .collect()
            ),
        })),
        vec(any::<(u16, [u64; 12])>(), 0..3).prop_map(|v| M::StatsReply(v1_0::StatsReply {
            flags: 1,
            body: v1_0::StatsReplyBody::Port(
                v.into_iter().map(|(port_no, counters)| v1_0::PortStats { port_no, counters }).collect()
            ),
        })),
        (any::<u32>(), vec(any::<u8>(), 0..16)).prop_map(|(vendor, data)| M::StatsReply(v1_0::StatsReply {
            flags: 0,
            body: v1_0::StatsReplyBody::Vendor { vendor, data }
        })),
    ]
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Messages on both sides of the 65,535-byte limit, each with the length it must encode to (worked out here from
/// the OpenFlow structure sizes, not by the codec).
fn sized_message() -> impl Strategy<Value = (Message, usize)> {
    prop_oneof![
        // The attacker's shape: a 1.3 flow-mod (56 bytes with an empty match) with one apply-actions instruction
        // of many 16-byte outputs and an experimenter action of chosen bytes.
        (4080usize..4100, 0usize..120, any::<u8>()).prop_map(|(n, d, b)| {
            let mut actions = vec![Action::output(1); n];
            actions.push(Action::Experimenter { experimenter: 0x00ab_cdef, data: vec![b; d] });
            let fm = v1_3::FlowMod::add(Match::new()).apply_actions(actions);
            (Message::V1_3(fm.into()), 56 + 8 + 16 * n + pad8(8 + d))
        }),
        // A 1.0 flow-mod (72 bytes) with many 8-byte outputs and a vendor action.
        (8170usize..8190, 0usize..60).prop_map(|(n, d)| {
            let mut actions = vec![v1_0::Action::output(1); n];
            actions.push(v1_0::Action::Vendor { vendor: 0x00ab_cdef, data: vec![5; d] });
            let fm = v1_0::FlowMod::add(v1_0::Match::new()).actions(actions);
            (Message::V1_0(fm.into()), 72 + 8 * n + pad8(8 + d))
        }),
        // Packet-outs with big frames (1.3: 24 + a 16-byte output; 1.0: 16 + an 8-byte output).
        (65_450usize..65_550).prop_map(|d| {
            let po = v1_3::PacketOut::new(vec![0xee; d], [Action::output(2)]);
            (Message::V1_3(po.into()), 24 + 16 + d)
        }),
        (65_480usize..65_560).prop_map(|d| {
            let po = v1_0::PacketOut::new(vec![0xee; d], [v1_0::Action::output(2)]);
            (Message::V1_0(po.into()), 16 + 8 + d)
        }),
        // A big experimenter payload (16-byte header) and a big echo (8).
        (65_500usize..65_560).prop_map(|d| {
            let e = v1_3::Experimenter { experimenter: 1, exp_type: 2, data: vec![1; d] };
            (Message::V1_3(v1_3::Message::Experimenter(e)), 16 + d)
        }),
        (65_500usize..65_560).prop_map(|d| (Message::V1_3(v1_3::Message::EchoRequest(vec![2; d])), 8 + d)),
        // Many flow stats: 16 bytes of multipart header, then 48 + 16 (in_port match) + 24 (one output) each.
        (730usize..760).prop_map(|n| {
            let entry = FlowStats {
                match_: Match::new().in_port(1),
                instructions: vec![Instruction::ApplyActions(vec![Action::output(2)])],
                ..Default::default()
            };
            let body = MultipartReplyBody::Flow(vec![entry; n]);
            (Message::V1_3(v1_3::Message::MultipartReply(v1_3::MultipartReply { flags: 0, body })), 16 + 88 * n)
        }),
    ]
}

/// Encodes `m` after some bytes already in the buffer; checks that a success says its own length and that a
/// failure leaves the buffer as it was. Returns the message bytes or the error.
fn encode_checked(m: &Message, xid: u32) -> Result<Result<Vec<u8>, EncodeError>, TestCaseError> {
    let prefix = [0xa5u8; 3];
    let mut out = prefix.to_vec();
    match m.encode(xid, &mut out) {
        Ok(()) => {
            let bytes = out.split_off(prefix.len());
            prop_assert_eq!(&out[..], &prefix[..]);
            prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
            prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), bytes.len());
            prop_assert_eq!(m.to_vec(xid), Ok(bytes.clone()));
            Ok(Ok(bytes))
        }
        Err(e) => {
            prop_assert_eq!(&out[..], &prefix[..], "a failed encode appends nothing");
            prop_assert_eq!(m.to_vec(xid), Err(e.clone()));
            Ok(Err(e))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn messages_over_the_limit_are_refused_and_the_rest_say_their_length((m, want) in sized_message(), xid in any::<u32>()) {
        match encode_checked(&m, xid)? {
            Ok(bytes) => {
                prop_assert!(want <= MAX_MESSAGE_LEN, "{} bytes encoded", want);
                prop_assert_eq!(bytes.len(), want);
                // The bytes are one whole message: it decodes and re-encodes to the same bytes.
                let (h, d) = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(usize::from(h.length), want);
                prop_assert_eq!(d.to_vec(xid).map_err(|e| TestCaseError::fail(e.to_string()))?, bytes);
            }
            Err(e) => {
                prop_assert!(want > MAX_MESSAGE_LEN, "{} bytes refused: {}", want, e);
                prop_assert_eq!(e.limit(), MAX_MESSAGE_LEN);
                prop_assert!(e.length() > MAX_MESSAGE_LEN && e.length() <= want, "{}", e);
                if let EncodeError::MessageTooLong { length, .. } = e {
                    prop_assert_eq!(length, want);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_messages_encode_and_say_their_length(m13 in message13(), m10 in message10(), xid in any::<u32>()) {
        for m in [Message::V1_3(m13), Message::V1_0(m10)] {
            prop_assert!(encode_checked(&m, xid)?.is_ok());
        }
    }

    #[test]
    fn v1_3_encode_decode_identity(m in message13(), xid in any::<u32>()) {
        let bytes = m.to_vec(xid).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (h, d) = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(h.xid, xid);
        prop_assert_eq!(h.length as usize, bytes.len());
        prop_assert_eq!(d, Message::V1_3(m));
    }

    #[test]
    fn v1_0_encode_decode_identity(m in message10(), xid in any::<u32>()) {
        let bytes = m.to_vec(xid).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (h, d) = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(h.length as usize, bytes.len());
        prop_assert_eq!(d, Message::V1_0(m));
    }

    #[test]
    fn v1_3_json_roundtrip(m in message13()) {
        let m = Message::V1_3(m);
        let j = to_json(&m);
        let back = from_json(4, &j).map_err(|e| TestCaseError::fail(format!("{}: {}", e, j)))?;
        prop_assert_eq!(back, m);
    }

    #[test]
    fn v1_0_json_roundtrip(m in message10()) {
        let m = Message::V1_0(m);
        let j = to_json(&m);
        let back = from_json(1, &j).map_err(|e| TestCaseError::fail(format!("{}: {}", e, j)))?;
        prop_assert_eq!(back, m);
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics(version in prop_oneof![Just(1u8), Just(3u8), Just(4u8), Just(5u8), Just(6u8)], t in 0u8..36, body in vec(any::<u8>(), 0..300)) {
        let mut b = vec![version, t, 0, 0, 0, 0, 0, 1];
        b.extend_from_slice(&body);
        let n = b.len() as u16;
        b[2..4].copy_from_slice(&n.to_be_bytes());
        if let Ok((_, m)) = decode(&b) {
            // Whatever decodes must re-encode and decode to the same value.
            let again = m.to_vec(1).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (_, m2) = decode(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let _ = tatsu_ofproto::to_json(&m2);
            prop_assert_eq!(m, m2);
        }
    }
}

/// The captures of the corpus of `versions` (`ofNN` directories), as seeds for mutation.
fn corpus_captures(versions: &[&str]) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus");
    let mut out = Vec::new();
    for v in versions {
        for e in std::fs::read_dir(dir.join(v)).expect("corpus directory") {
            let p = e.expect("dir entry").path();
            if p.extension().is_some_and(|x| x == "packet") {
                out.push(std::fs::read(&p).expect("read capture"));
            }
        }
    }
    out.sort();
    out
}

/// Decodes `b`; whatever decodes must re-encode to the same value and render as JSON whose reading does not
/// panic.
fn check_decodes_consistently(b: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((h, m)) = decode(b) {
        let again = m.to_vec(h.xid).map_err(|e| TestCaseError::fail(format!("re-encoding: {}", e)))?;
        let (_, m2) = decode(&again).map_err(|e| TestCaseError::fail(format!("decoding the re-encoding: {}", e)))?;
        prop_assert_eq!(&m, &m2);
        let j = tatsu_ofproto::to_json(&m2);
        if let Ok(m3) = from_json(h.version, &j) {
            let _ = m3.to_vec(h.xid);
        }
    }
    Ok(())
}

proptest! {
    // `PROPTEST_CASES` raises the count for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    /// OpenFlow 1.2, 1.4 and 1.5 captures with bytes overwritten, cut or extended (the header length kept
    /// consistent or not): never a panic, and whatever decodes survives encode → decode.
    #[test]
    fn mutated_1_2_1_4_1_5_captures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        extra in vec(any::<u8>(), 0..16),
        fix_length in any::<bool>(),
    ) {
        let captures = corpus_captures(&["of12", "of14", "of15"]);
        let mut b = captures[pick.index(captures.len())].clone();
        for (at, v) in &edits {
            let i = at.index(b.len());
            // Keep the version byte, so that the mutation exercises that version's decoder.
            if i != 0 {
                b[i] = *v;
            }
        }
        b.truncate(8 + cut.index(b.len() - 7));
        b.extend_from_slice(&extra);
        if fix_length {
            if let Ok(n) = u16::try_from(b.len()) {
                b[2..4].copy_from_slice(&n.to_be_bytes());
            }
        }
        check_decodes_consistently(&b)?;
    }
}
