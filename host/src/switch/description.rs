//! Typed descriptions of a datapath: its ports ([`PortInfo`]) and what apps are told about it
//! ([`DatapathSummary`], which becomes the interface's `DatapathDesc`).
//!
//! A hot-restart handover carries ports as JSON, in the form hosts have always written: `hw_addr` as
//! "aa:bb:cc:dd:ee:ff", a 1.0 port without `curr_speed` and `max_speed`, 1.0 port numbers as they are on the wire.

use std::net::SocketAddr;

use abi_stable::std_types::RString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tatsu_abi::{DatapathDesc, DatapathStates, PortDesc};
use tatsu_ofproto::portable::port_from_1_0;
use tatsu_ofproto::{v1_0, v1_3, v1_4, MacAddr, OFP_VERSION_1_0};

/// One port of a datapath, as the switch last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortInfo {
    /// Port number (a 1.0 port's 16 bits widened).
    pub port_no: u32,
    /// Hardware address; "aa:bb:cc:dd:ee:ff" in JSON.
    #[serde(serialize_with = "mac_to_text", deserialize_with = "mac_from_text")]
    pub hw_addr: [u8; 6],
    /// Name (the text before the first NUL).
    pub name: String,
    /// `OFPPC_*` bits.
    pub config: u32,
    /// `OFPPS_*` bits.
    pub state: u32,
    /// Current features (`OFPPF_*`).
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Features advertised by the peer.
    pub peer: u32,
    /// Current bit rate in kbit/s (not in 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curr_speed: Option<u32>,
    /// Maximum bit rate in kbit/s (not in 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_speed: Option<u32>,
}

impl From<&v1_0::PhyPort> for PortInfo {
    fn from(port: &v1_0::PhyPort) -> Self {
        PortInfo {
            port_no: u32::from(port.port_no),
            hw_addr: port.hw_addr.octets(),
            name: port.name.as_str().into_owned(),
            config: port.config,
            state: port.state,
            curr: port.curr,
            advertised: port.advertised,
            supported: port.supported,
            peer: port.peer,
            curr_speed: None,
            max_speed: None,
        }
    }
}

impl From<&v1_3::Port> for PortInfo {
    fn from(port: &v1_3::Port) -> Self {
        PortInfo {
            port_no: port.port_no,
            hw_addr: port.hw_addr.octets(),
            name: port.name.as_str().into_owned(),
            config: port.config,
            state: port.state,
            curr: port.curr,
            advertised: port.advertised,
            supported: port.supported,
            peer: port.peer,
            curr_speed: Some(port.curr_speed),
            max_speed: Some(port.max_speed),
        }
    }
}

/// A 1.4/1.5 port: the features and speeds come from its Ethernet property (all zero without one, as for an
/// optical port).
impl From<&v1_4::Port> for PortInfo {
    fn from(port: &v1_4::Port) -> Self {
        let ethernet = port.ethernet_features().copied().unwrap_or_default();
        PortInfo {
            port_no: port.port_no,
            hw_addr: port.hw_addr.octets(),
            name: port.name.as_str().into_owned(),
            config: port.config,
            state: port.state,
            curr: ethernet.curr,
            advertised: ethernet.advertised,
            supported: ethernet.supported,
            peer: ethernet.peer,
            curr_speed: Some(ethernet.curr_speed),
            max_speed: Some(ethernet.max_speed),
        }
    }
}

fn mac_to_text<S: Serializer>(mac: &[u8; 6], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&MacAddr(*mac))
}

fn mac_from_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 6], D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse::<MacAddr>()
        .map(MacAddr::octets)
        .map_err(|_| serde::de::Error::custom(format!("not a hardware address: {text:?}")))
}

impl PortInfo {
    /// The port as apps get it, numbered as OpenFlow 1.1 and later number ports (1.0's reserved ports mapped).
    pub fn to_desc(&self, version: u8) -> PortDesc {
        let port_no = match u16::try_from(self.port_no) {
            Ok(port) if version == OFP_VERSION_1_0 => port_from_1_0(port),
            _ => self.port_no,
        };
        PortDesc {
            port_no,
            hw_addr: self.hw_addr,
            name: self.name.as_str().into(),
            config: self.config,
            state: self.state,
            curr: self.curr,
            advertised: self.advertised,
            supported: self.supported,
            peer: self.peer,
            curr_speed: self.curr_speed.unwrap_or(0),
            max_speed: self.max_speed.unwrap_or(0),
        }
    }
}

/// A datapath as a connection knows it: what apps are told in datapath events and by `datapaths`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatapathSummary {
    /// Datapath id (0 before the features reply).
    pub dpid: u64,
    /// The switch's address.
    pub address: SocketAddr,
    /// The host's number for the connection.
    pub connection: u64,
    /// Negotiated wire version (0 before).
    pub version: u8,
    /// The connection's state.
    pub state: DatapathStates,
    /// Buffers.
    pub n_buffers: u32,
    /// Tables.
    pub n_tables: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Ports, by number.
    pub ports: Vec<PortInfo>,
    /// The subject of the switch's TLS certificate.
    pub tls_subject: Option<String>,
}

impl DatapathSummary {
    /// The description apps get, with why it left (`reason`) and whether a hot restart carried it over.
    pub fn to_desc(&self, reason: Option<&str>, resumed: bool) -> DatapathDesc {
        DatapathDesc {
            dpid: self.dpid,
            address: self.address.to_string().into(),
            connection: self.connection,
            version: self.version,
            state: self.state,
            n_buffers: self.n_buffers,
            n_tables: self.n_tables,
            capabilities: self.capabilities,
            ports: self.ports.iter().map(|port| port.to_desc(self.version)).collect(),
            reason: reason.map(RString::from).into(),
            resumed,
            tls_subject: self.tls_subject.as_deref().map(RString::from).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn port_1_3() -> PortInfo {
        PortInfo {
            port_no: 7,
            hw_addr: [0xaa, 0xbb, 0xcc, 0x0d, 0x0e, 0xff],
            name: "eth7".to_owned(),
            config: 1,
            state: 4,
            curr: 0x802,
            advertised: 2,
            supported: 3,
            peer: 0,
            curr_speed: Some(10_000_000),
            max_speed: Some(0),
        }
    }

    /// What the host sent (and handed over) when ports were kept as JSON values.
    fn port_1_3_json() -> Value {
        json!({
            "port_no": 7, "hw_addr": "aa:bb:cc:0d:0e:ff", "name": "eth7", "config": 1, "state": 4, "curr": 0x802,
            "advertised": 2, "supported": 3, "peer": 0, "curr_speed": 10_000_000, "max_speed": 0,
        })
    }

    #[test]
    fn ports_read_and_write_the_json_the_host_always_used() {
        assert_eq!(serde_json::to_value(port_1_3()).ok(), Some(port_1_3_json()));
        let port: PortInfo = serde_json::from_value(port_1_3_json()).expect("a 1.3 port as older hosts wrote it");
        assert_eq!(port, port_1_3());

        let old_1_0 = json!({
            "port_no": 65534, "hw_addr": "00:00:00:00:00:01", "name": "br0", "config": 0, "state": 0, "curr": 0,
            "advertised": 0, "supported": 0, "peer": 0,
        });
        let port: PortInfo = serde_json::from_value(old_1_0.clone()).expect("a 1.0 port as older hosts wrote it");
        assert_eq!((port.port_no, port.hw_addr, port.curr_speed), (65534, [0, 0, 0, 0, 0, 1], None));
        assert_eq!(serde_json::to_value(&port).ok(), Some(old_1_0), "a 1.0 port has no speeds");

        let mut bad = port_1_3_json();
        bad["hw_addr"] = json!("aa:bb:cc:0d:0e");
        assert!(serde_json::from_value::<PortInfo>(bad).is_err());
    }

    #[test]
    fn apps_get_1_0_reserved_ports_in_1_3_numbers_and_the_leave_reason() {
        let mut local = port_1_3();
        local.port_no = 0xfffe;
        let summary = DatapathSummary {
            dpid: 0xab,
            address: "127.0.0.1:6653".parse().expect("an address"),
            connection: 3,
            version: OFP_VERSION_1_0,
            state: DatapathStates::MAIN,
            n_buffers: 256,
            n_tables: 1,
            capabilities: 0xc7,
            ports: vec![port_1_3(), local],
            tls_subject: None,
        };
        let desc = summary.to_desc(Some("gone"), false);
        assert_eq!(desc.ports.iter().map(|p| p.port_no).collect::<Vec<_>>(), [7, 0xffff_fffe]);
        assert_eq!(desc.ports[0].hw_addr, [0xaa, 0xbb, 0xcc, 0x0d, 0x0e, 0xff]);
        assert_eq!(desc.reason.as_ref().map(|r| r.as_str()).into_option(), Some("gone"));
        assert_eq!((desc.address.as_str(), desc.connection, desc.state), ("127.0.0.1:6653", 3, DatapathStates::MAIN));
    }
}
