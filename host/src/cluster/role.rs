//! OpenFlow roles on the wire (1.3 and later): the ROLE_REQUEST this host sends and what the switch answers.
//! OpenFlow 1.0 has no roles; a 1.0 switch is kept by its master only (see [`super::election`]).

/// A role of this host for one datapath.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The one controller that may change the switch; `generation` is the election's generation id.
    Master {
        /// The generation id: the create revision of this host's election key, monotonic per datapath.
        generation: u64,
    },
    /// Reads only; the switch refuses changes and sends no packet-ins.
    Slave,
}

/// OFPT_ROLE_REQUEST.
const ROLE_REQUEST: u8 = 24;
/// OFPT_ROLE_REPLY.
const ROLE_REPLY: u8 = 25;
/// OFPT_ERROR.
const ERROR: u8 = 1;
/// OFPET_ROLE_REQUEST_FAILED.
const ROLE_REQUEST_FAILED: u16 = 11;
/// OFPRRFC_STALE.
const STALE: u16 = 0;
/// OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE.
const MASTER: u32 = 2;
const SLAVE: u32 = 3;

/// The ROLE_REQUEST for `role` in `version` (xid 0: the connection fills one in). A slave request carries the
/// generation id it last knew, which the switch checks like a master's.
pub fn request(version: u8, role: Role, generation: u64) -> Vec<u8> {
    let (code, generation) = match role {
        Role::Master { generation } => (MASTER, generation),
        Role::Slave => (SLAVE, generation),
    };
    let mut message = Vec::with_capacity(24);
    message.extend_from_slice(&[version, ROLE_REQUEST, 0, 24, 0, 0, 0, 0]);
    message.extend_from_slice(&code.to_be_bytes());
    message.extend_from_slice(&[0; 4]);
    message.extend_from_slice(&generation.to_be_bytes());
    message
}

/// What the switch said to a ROLE_REQUEST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// ROLE_REPLY with this role code and generation id.
    Accepted {
        /// The role the switch now gives this host (`OFPCR_ROLE_*`).
        role: u32,
        /// The generation id the switch holds.
        generation: u64,
    },
    /// OFPRRFC_STALE: a newer master exists; step down.
    Stale,
    /// Any other error, or no reply.
    Failed(String),
}

/// Reads the switch's reply to a ROLE_REQUEST.
pub fn answer(reply: &[u8]) -> Answer {
    let u16_at = |at: usize| reply.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match reply.get(1).copied() {
        Some(ROLE_REPLY) if reply.len() >= 24 => {
            let role = u32::from_be_bytes([reply[8], reply[9], reply[10], reply[11]]);
            let mut generation = [0; 8];
            generation.copy_from_slice(&reply[16..24]);
            Answer::Accepted { role, generation: u64::from_be_bytes(generation) }
        }
        Some(ERROR) => match (u16_at(8), u16_at(10)) {
            (Some(ROLE_REQUEST_FAILED), Some(STALE)) => Answer::Stale,
            (Some(kind), Some(code)) => Answer::Failed(format!("error type {kind} code {code}")),
            _ => Answer::Failed("a truncated error".to_owned()),
        },
        other => Answer::Failed(format!("unexpected reply type {other:?} ({} bytes)", reply.len())),
    }
}

/// Whether `message` (in `version`) changes the switch, so that a slave must not send it: packet-out, flow-mod,
/// port-mod (1.0); packet-out, flow-mod, group-mod, port-mod, table-mod, meter-mod (1.2 and later); bundle control
/// and bundle add (1.4 and later, and Open vSwitch's ONF bundle experimenter messages on 1.3): a bundle carries
/// changes and a slave may not open one.
pub fn changes_switch(version: u8, message: &[u8]) -> bool {
    let Some(&msg_type) = message.get(1) else { return false };
    match version {
        1 => matches!(msg_type, 13..=15),
        4 if msg_type == EXPERIMENTER => is_onf_bundle(message),
        _ => matches!(msg_type, 13..=17 | 29) || (version >= 5 && matches!(msg_type, 33 | 34)),
    }
}

/// OFPT_EXPERIMENTER.
const EXPERIMENTER: u8 = 4;

/// Whether a 1.3 experimenter message is one of Open vSwitch's ONF bundle messages (experimenter `ONF`, types
/// 2300 bundle control and 2301 bundle add).
fn is_onf_bundle(message: &[u8]) -> bool {
    const ONF: u32 = 0x4f4e_4600;
    let word = |at: usize| message.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    word(8) == Some(ONF) && matches!(word(12), Some(2300 | 2301))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_request_is_24_bytes_with_the_generation_last() {
        let message = request(4, Role::Master { generation: 0x0102 }, 0);
        assert_eq!(message.len(), 24);
        assert_eq!(&message[..4], &[4, 24, 0, 24]);
        assert_eq!(&message[8..12], &2u32.to_be_bytes());
        assert_eq!(&message[16..], &0x0102u64.to_be_bytes());
        assert_eq!(&request(4, Role::Slave, 7)[8..12], &3u32.to_be_bytes());
    }

    #[test]
    fn replies_and_errors_are_read() {
        let mut reply = request(4, Role::Master { generation: 9 }, 0);
        reply[1] = ROLE_REPLY;
        assert_eq!(answer(&reply), Answer::Accepted { role: MASTER, generation: 9 });
        let stale = [4, ERROR, 0, 12, 0, 0, 0, 1, 0, 11, 0, 0];
        assert_eq!(answer(&stale), Answer::Stale);
        assert!(matches!(answer(&[4, ERROR, 0, 12, 0, 0, 0, 1, 0, 1, 0, 0]), Answer::Failed(_)));
        assert!(matches!(answer(&[4, ERROR]), Answer::Failed(_)));
        assert!(matches!(answer(&[]), Answer::Failed(_)));
    }

    #[test]
    fn only_changes_are_refused_to_a_slave() {
        let of = |version: u8, msg_type: u8| [version, msg_type, 0, 8, 0, 0, 0, 0];
        let changes = |version: u8, msg_type: u8| changes_switch(version, &of(version, msg_type));
        assert!(changes(4, 14) && changes(4, 13) && changes(4, 29));
        assert!(!changes(4, 18) && !changes(4, 24) && !changes(4, 20));
        assert!(changes(1, 15) && !changes(1, 16));
        assert!(changes(5, 33) && changes(6, 34) && !changes(4, 33) && !changes(5, 32));
        let onf = |exp_type: u32| {
            let mut message = vec![4, EXPERIMENTER, 0, 16, 0, 0, 0, 0];
            message.extend_from_slice(&0x4f4e_4600u32.to_be_bytes());
            message.extend_from_slice(&exp_type.to_be_bytes());
            message
        };
        assert!(changes_switch(4, &onf(2300)) && changes_switch(4, &onf(2301)) && !changes_switch(4, &onf(2302)));
        assert!(!changes_switch(4, &onf(2300)[..12]));
    }
}
