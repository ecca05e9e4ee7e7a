//! Where mastership (`--cluster-etcd`, [`crate::cluster`]) meets a connection: it is told when the datapath joins
//! (MAIN, or adopted in a hot restart) and leaves, and a slave's sends that would change the switch are refused.
//! Without a cluster, none of this does anything.

use tatsu_abi::{RequestError, RequestFailure};

use super::Connection;

impl Connection {
    /// The datapath is in MAIN (or was adopted): its campaign starts.
    pub(super) fn mastership_joined(&self) {
        if let (Some(mastership), Some(dpid)) = (self.shared.mastership(), self.dpid()) {
            mastership.datapath_joined(dpid, self.id);
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
            Some(detail) => Err(RequestError { failure: RequestFailure::Failed, detail: detail.into() }),
        }
    }
}
