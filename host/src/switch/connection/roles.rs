//! Where mastership (`--cluster-etcd`, [`crate::cluster`]) meets a connection: it is told when the datapath joins
//! (MAIN, or adopted in a hot restart) and leaves, and a slave's sends that would change the switch are refused
//! with [`RequestFailure::NotMaster`]. Without a cluster the host is master of every datapath: apps get one role
//! event (master, generation 0) after each datapath's enter event, and nothing is refused.

use tatsu_abi::{DatapathRole, RequestError, RequestFailure, RoleEventRef};

use super::Connection;

impl Connection {
    /// The datapath is in MAIN (or was adopted): its campaign starts (without a cluster: it is this host's).
    pub(super) fn mastership_joined(&self) {
        let Some(dpid) = self.dpid() else { return };
        match self.shared.mastership() {
            Some(mastership) => mastership.datapath_joined(dpid, self.id),
            None => self.shared.bus.deliver_role(RoleEventRef { dpid, role: DatapathRole::Master, generation: 0 }),
        }
    }

    /// The datapath left MAIN: its campaign ends (and this host resigns if it was master).
    pub(super) fn mastership_left(&self) {
        if let (Some(mastership), Some(dpid)) = (self.shared.mastership(), self.dpid()) {
            mastership.datapath_left(dpid, self.id);
        }
    }

    /// Refuses `message` if this host is the datapath's slave and the message would change the switch.
    pub(super) fn check_role(&self, message: &[u8]) -> Result<(), RequestError> {
        let (Some(mastership), Some(dpid)) = (self.shared.mastership(), self.dpid()) else { return Ok(()) };
        match mastership.refusal(dpid, self.version(), message) {
            None => Ok(()),
            Some(detail) => Err(RequestError { failure: RequestFailure::NotMaster, detail: detail.into() }),
        }
    }
}
