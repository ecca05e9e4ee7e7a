//! The switch side as mastership ([`crate::cluster`]) sees it: [`Switchboard`] on [`Switches`], to send a datapath
//! its ROLE_REQUEST and read the reply, drop an OpenFlow 1.0 switch this host is not master of, and tell apps
//! their host's role (role events, [`Switches::role_of`]).

use std::sync::Arc;
use std::time::Duration;

use tatsu_abi::{DatapathRole, RoleEventRef};

use super::connection::Connection;
use super::shared::Keyed;
use super::Switches;
use crate::cluster::role::Role;
use crate::cluster::{Mastership, Switchboard};

/// A role as apps see it.
pub fn role_event(dpid: u64, role: Option<Role>, generation: u64) -> RoleEventRef {
    match role {
        None => RoleEventRef { dpid, role: DatapathRole::Equal, generation },
        Some(Role::Master { generation }) => RoleEventRef { dpid, role: DatapathRole::Master, generation },
        Some(Role::Slave) => RoleEventRef { dpid, role: DatapathRole::Slave, generation },
    }
}

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

    /// This host's role for datapath `dpid`, if it is connected (in MAIN): a single host is master of everything,
    /// with generation 0; in a cluster, `Equal` until the election decided.
    pub fn role_of(&self, dpid: u64) -> Option<RoleEventRef> {
        self.shared.datapath(dpid).filter(|connection| connection.is_main())?;
        Some(match self.shared.mastership() {
            None => RoleEventRef { dpid, role: DatapathRole::Master, generation: 0 },
            Some(mastership) => match mastership.role_for(dpid) {
                Some(Role::Master { generation }) => RoleEventRef { dpid, role: DatapathRole::Master, generation },
                other => role_event(dpid, other, 0),
            },
        })
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

    fn role_changed(&self, dpid: u64, connection: u64, role: Role, generation: u64) {
        if self.connection_of(dpid, connection).is_some() {
            self.shared.bus.deliver_role(role_event(dpid, Some(role), generation));
        }
    }
}
