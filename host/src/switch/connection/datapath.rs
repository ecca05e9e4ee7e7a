//! What a connection knows of its datapath (features, ports, state), and how it describes it to apps.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use tatsu_abi::{DatapathChange, DatapathStates};

use super::{lock, Connection};
use crate::switch::description::{DatapathSummary, PortInfo};
use crate::switch::wire::Features;

/// Ports recorded per datapath (what apps are told in `enter` events): a switch announcing ever new port numbers
/// must not grow the table without bound. Open vSwitch bridges have far fewer.
const MAX_PORTS: usize = 4096;

/// The datapath's features and ports, as far as the switch has told them.
#[derive(Default)]
pub(super) struct Info {
    pub(super) features: Option<Features>,
    pub(super) ports: BTreeMap<u32, PortInfo>,
}

impl Connection {
    /// The datapath: id, address, version, state, features and ports.
    pub fn describe(&self) -> DatapathSummary {
        let info = lock(&self.info);
        let features = info.features.clone().unwrap_or_default();
        DatapathSummary {
            dpid: self.dpid_or_zero(),
            address: self.peer,
            connection: self.id,
            version: self.version(),
            state: DatapathStates(self.state()),
            n_buffers: features.n_buffers,
            n_tables: features.n_tables,
            capabilities: features.capabilities,
            ports: info.ports.values().cloned().collect(),
            tls_subject: self.tls_subject().map(str::to_owned),
        }
    }

    /// Tells apps the datapath entered `state` (a `state` event), and why if it died.
    pub(super) fn publish_state(&self, state: u32, reason: Option<&str>) {
        let change = DatapathSummary {
            dpid: self.dpid_or_zero(),
            address: self.peer,
            connection: self.id,
            version: self.version(),
            state: DatapathStates(state),
            n_buffers: 0,
            n_tables: 0,
            capabilities: 0,
            ports: Vec::new(),
            tls_subject: self.tls_subject().map(str::to_owned),
        };
        self.shared.bus.deliver_datapath(DatapathChange::State, change.to_desc(reason, false));
    }

    /// Enters `state`, and tells apps.
    pub(super) fn set_state(&self, state: DatapathStates) {
        self.state.store(state.0, Ordering::Release);
        self.publish_state(state.0, None);
    }

    /// Records ports added or changed.
    pub(super) fn add_ports(&self, ports: Vec<PortInfo>) {
        for port in ports {
            self.update_port(0, port);
        }
    }

    /// Records a port added or changed (`reason` 0 or 2) or deleted (1); at most [`MAX_PORTS`] are kept.
    pub(super) fn update_port(&self, reason: u8, port: PortInfo) {
        let number = port.port_no;
        let mut info = lock(&self.info);
        if reason == 1 {
            info.ports.remove(&number);
        } else if info.ports.len() < MAX_PORTS || info.ports.contains_key(&number) {
            info.ports.insert(number, port);
        } else {
            drop(info);
            self.malformed(&[], || format!("more than {MAX_PORTS} ports: port {number} is not recorded"));
        }
    }

    /// Enters MAIN and tells apps: an `enter` event describing the datapath.
    pub(super) fn enter_main(&self) {
        self.set_state(DatapathStates::MAIN);
        log::info!(target: "tatsu::switch", "{} is ready", self.describe_short());
        self.shared.bus.deliver_datapath(DatapathChange::Enter, self.describe().to_desc(None, false));
        self.mastership_joined();
    }
}
