//! The switch side as mastership ([`crate::cluster`]) sees it: [`Switchboard`] on [`Switches`], to send a datapath
//! its ROLE_REQUEST and read the reply, or drop an OpenFlow 1.0 switch this host is not master of.

use std::sync::Arc;
use std::time::Duration;

use super::connection::Connection;
use super::shared::Keyed;
use super::Switches;
use crate::cluster::{Mastership, Switchboard};

impl Switches {
    /// Runs this host's switches under `mastership` (set once, before switches connect).
    pub fn set_mastership(self: &Arc<Self>, mastership: &Arc<Mastership>) {
        self.shared.set_mastership(Arc::clone(mastership));
        let board: Arc<dyn Switchboard> = Arc::clone(self) as Arc<dyn Switchboard>;
        mastership.attach(Arc::downgrade(&board));
    }

    fn connection_of(&self, dpid: u64, connection: u64) -> Option<Arc<Connection>> {
        self.shared.datapath(dpid).filter(|current| current.id() == connection)
    }
}

impl Switchboard for Switches {
    fn version(&self, dpid: u64, connection: u64) -> Option<u8> {
        self.connection_of(dpid, connection).map(|current| current.version())
    }

    fn request(&self, dpid: u64, connection: u64, message: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
        let current = self.connection_of(dpid, connection).ok_or("the connection is gone")?;
        current.request(message, timeout).map_err(|e| e.detail.to_string())
    }

    fn drop_connection(&self, dpid: u64, connection: u64, reason: &str) {
        if let Some(current) = self.connection_of(dpid, connection) {
            current.close(reason);
        }
    }
}
