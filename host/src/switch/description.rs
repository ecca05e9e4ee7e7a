//! Typed descriptions of a datapath: its ports ([`PortInfo`]), the summary apps get in `enter` and `leave` events
//! and from `datapaths` ([`DatapathSummary`]), and the `state` event ([`StateChange`]).
//!
//! Apps receive these as JSON, serialized here with the field names and values the host has always sent: objects
//! with their keys in alphabetical order (what `serde_json` prints for a `Value`), `hw_addr` as "aa:bb:cc:dd:ee:ff",
//! a 1.0 port without `curr_speed` and `max_speed`. A hot-restart handover carries ports in that same form.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use tatsu_ofproto::{v1_0, v1_3, MacAddr};
use tatsu_abi::DatapathStates;

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
    /// Current bit rate in kbit/s (1.3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curr_speed: Option<u32>,
    /// Maximum bit rate in kbit/s (1.3 only).
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

fn mac_to_text<S: Serializer>(mac: &[u8; 6], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&MacAddr(*mac))
}

fn mac_from_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 6], D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_mac(&text).ok_or_else(|| serde::de::Error::custom(format!("not a hardware address: {text:?}")))
}

/// "aa:bb:cc:dd:ee:ff" (either case) as six bytes.
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next().filter(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit()))?;
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Where a datapath is in its life; lower case in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatapathState {
    /// Connected, negotiating the version.
    Handshake,
    /// Version agreed, features and ports being read.
    Config,
    /// Ready: apps may use it.
    Main,
    /// Disconnected.
    Dead,
}

impl From<DatapathStates> for DatapathState {
    fn from(state: DatapathStates) -> Self {
        match state {
            DatapathStates::HANDSHAKE => DatapathState::Handshake,
            DatapathStates::CONFIG => DatapathState::Config,
            DatapathStates::MAIN => DatapathState::Main,
            _ => DatapathState::Dead,
        }
    }
}

/// A datapath: identity, connection, features and ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatapathSummary {
    /// Datapath id (0 before the switch said it).
    pub dpid: u64,
    /// The switch's address.
    pub address: SocketAddr,
    /// The host's number for the connection.
    pub connection: u64,
    /// Negotiated OpenFlow version (0 before negotiation).
    pub version: u8,
    /// Where the datapath is in its life.
    pub state: DatapathState,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// `OFPC_*` bits.
    pub capabilities: u32,
    /// Ports by number.
    pub ports: Vec<PortInfo>,
}

/// A [`DatapathSummary`] as apps get it: with `dpid_hex`, and a reason (`leave`) or the `resumed` mark (an `enter`
/// after a hot restart).
#[derive(Serialize)]
struct SummaryJson<'a> {
    #[serde(flatten)]
    summary: &'a DatapathSummary,
    dpid_hex: Hex16,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    resumed: bool,
}

/// A datapath id as 16 hex digits.
struct Hex16(u64);

impl Serialize for Hex16 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Hex16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// `value` as a JSON value with sorted keys. Serializing the host's own description types cannot fail (their keys
/// are strings, their parts plain numbers and text), so a failure would be a bug: it gives `null`.
fn json_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

impl DatapathSummary {
    fn json(&self, reason: Option<&str>, resumed: bool) -> Value {
        json_value(&SummaryJson { summary: self, dpid_hex: Hex16(self.dpid), reason, resumed })
    }

    /// The JSON object apps get from `datapaths`.
    pub fn to_json(&self) -> Value {
        self.json(None, false)
    }

    /// The JSON text of an `enter` event (`resumed`: the connection was taken over in a hot restart).
    pub fn enter_event(&self, resumed: bool) -> String {
        self.json(None, resumed).to_string()
    }

    /// The JSON text of a `leave` event.
    pub fn leave_event(&self, reason: &str) -> String {
        self.json(Some(reason), false).to_string()
    }
}

/// A `state` event: the datapath entered `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange<'a> {
    /// Datapath id (0 before the switch said it).
    pub dpid: u64,
    /// The switch's address.
    pub address: SocketAddr,
    /// The host's number for the connection.
    pub connection: u64,
    /// Negotiated OpenFlow version (0 before negotiation).
    pub version: u8,
    /// The state entered.
    pub state: DatapathState,
    /// Why, when the datapath died.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl StateChange<'_> {
    /// The event's JSON text.
    pub fn to_json_text(&self) -> String {
        json_value(self).to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        assert_eq!(json_value(&port_1_3()), port_1_3_json());
        let port: PortInfo = serde_json::from_value(port_1_3_json()).expect("a 1.3 port as older hosts wrote it");
        assert_eq!(port, port_1_3());

        let old_1_0 = json!({
            "port_no": 65534, "hw_addr": "00:00:00:00:00:01", "name": "br0", "config": 0, "state": 0, "curr": 0,
            "advertised": 0, "supported": 0, "peer": 0,
        });
        let port: PortInfo = serde_json::from_value(old_1_0.clone()).expect("a 1.0 port as older hosts wrote it");
        assert_eq!((port.port_no, port.hw_addr, port.curr_speed), (65534, [0, 0, 0, 0, 0, 1], None));
        assert_eq!(json_value(&port), old_1_0, "a 1.0 port has no speeds");

        let mut bad = port_1_3_json();
        bad["hw_addr"] = json!("aa:bb:cc:0d:0e");
        assert!(serde_json::from_value::<PortInfo>(bad).is_err());
    }

    #[test]
    fn hardware_addresses_parse_strictly() {
        assert_eq!(parse_mac("AA:bb:01:02:03:04"), Some([0xaa, 0xbb, 1, 2, 3, 4]));
        for bad in
            ["", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:gg", "+a:bb:cc:dd:ee:ff"]
        {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn events_carry_the_fields_and_text_apps_always_got() {
        let summary = DatapathSummary {
            dpid: 0xab,
            address: "127.0.0.1:6653".parse().expect("an address"),
            connection: 3,
            version: 4,
            state: DatapathState::Main,
            n_buffers: 256,
            n_tables: 254,
            capabilities: 0x4f,
            ports: vec![port_1_3()],
        };
        // The text `json!` printed before the description was typed.
        let before = json!({
            "dpid": 0xab,
            "dpid_hex": "00000000000000ab",
            "address": "127.0.0.1:6653",
            "connection": 3,
            "version": 4,
            "state": "main",
            "n_buffers": 256,
            "n_tables": 254,
            "capabilities": 0x4f,
            "ports": [port_1_3_json()],
        });
        assert_eq!(summary.to_json(), before);
        assert_eq!(summary.enter_event(false), before.to_string());
        let mut resumed = before.clone();
        resumed["resumed"] = json!(true);
        assert_eq!(summary.enter_event(true), resumed.to_string());
        let mut left = before;
        left["reason"] = json!("gone");
        assert_eq!(summary.leave_event("gone"), left.to_string());

        let change = StateChange {
            dpid: 0,
            address: "[::1]:5000".parse().expect("an address"),
            connection: 9,
            version: 0,
            state: DatapathState::Dead,
            reason: Some("bye"),
        };
        let before = json!({
            "dpid": 0, "address": "[::1]:5000", "connection": 9, "version": 0, "state": "dead", "reason": "bye",
        });
        assert_eq!(change.to_json_text(), before.to_string());
        assert!(!StateChange { reason: None, ..change }.to_json_text().contains("reason"));
    }
}
