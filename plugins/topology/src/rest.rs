//! Ryu's topology REST API (`ryu/app/rest_topology.py`), same paths and JSON:
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /v1.0/topology/switches[/{dpid}]` | `[{"dpid", "ports": [port...]}]` |
//! | `GET /v1.0/topology/links[/{dpid}]` | `[{"src": port, "dst": port}]`, links leaving the datapath |
//! | `GET /v1.0/topology/hosts[/{dpid}]` | `[{"mac", "ipv4": [...], "ipv6": [...], "port": port}]` |
//!
//! A port is `{"dpid": "%016x", "port_no": "%08x", "hw_addr": "aa:bb:cc:dd:ee:ff", "name"}`. A datapath that is
//! not connected gives `[]`, as in Ryu; a `{dpid}` that is not 1 to 16 hex digits is a 400 saying so (Ryu's route
//! would not match it and answer 404).

use serde::Serialize;
use tatsu_plugin_api::http::{HttpRequest, HttpResponse};
use tatsu_plugin_api::{Context, Handlers};
use tatsu_topology_api::{Host, Link, Port, PortRef};

use crate::Topology;

/// Ryu's `Port.to_dict()`.
#[derive(Debug, Serialize)]
struct RyuPort {
    dpid: String,
    port_no: String,
    hw_addr: String,
    name: String,
}

impl RyuPort {
    fn new(port: &Port) -> Self {
        RyuPort {
            dpid: format!("{:016x}", port.dpid),
            port_no: format!("{:08x}", port.port_no),
            hw_addr: port.hw_addr.to_string(),
            name: port.name.clone(),
        }
    }

    /// A port the switch table does not describe (never for a link or host the app keeps, whose ports it knows).
    fn bare(at: PortRef) -> Self {
        RyuPort {
            dpid: format!("{:016x}", at.dpid),
            port_no: format!("{:08x}", at.port_no),
            hw_addr: String::new(),
            name: String::new(),
        }
    }
}

/// Ryu's `Switch.to_dict()`.
#[derive(Debug, Serialize)]
struct RyuSwitch {
    dpid: String,
    ports: Vec<RyuPort>,
}

/// Ryu's `Link.to_dict()`.
#[derive(Debug, Serialize)]
struct RyuLink {
    src: RyuPort,
    dst: RyuPort,
}

/// Ryu's `Host.to_dict()`.
#[derive(Debug, Serialize)]
struct RyuHost {
    mac: String,
    ipv4: Vec<String>,
    ipv6: Vec<String>,
    port: RyuPort,
}

impl Topology {
    fn ryu_port(&self, at: PortRef) -> RyuPort {
        self.any_port(at).map_or_else(|| RyuPort::bare(at), RyuPort::new)
    }

    /// The switches (one, or all) as Ryu lists them.
    fn ryu_switches(&self, dpid: Option<u64>) -> Vec<RyuSwitch> {
        let switches = self.all_switches(dpid).into_iter();
        switches
            .map(|switch| RyuSwitch {
                dpid: format!("{:016x}", switch.dpid),
                ports: switch.ports.iter().map(RyuPort::new).collect(),
            })
            .collect()
    }

    /// The links (leaving one datapath, or all) as Ryu lists them.
    fn ryu_links(&self, dpid: Option<u64>) -> Vec<RyuLink> {
        let links = self.all_links(dpid).into_iter();
        links.map(|Link { src, dst }| RyuLink { src: self.ryu_port(src), dst: self.ryu_port(dst) }).collect()
    }

    /// The hosts (on one datapath, or all) as Ryu lists them.
    fn ryu_hosts(&self, dpid: Option<u64>) -> Vec<RyuHost> {
        let hosts = self.all_hosts(dpid).into_iter();
        hosts
            .map(|Host { mac, port, ipv4, ipv6 }| RyuHost {
                mac: mac.to_string(),
                ipv4: ipv4.iter().map(ToString::to_string).collect(),
                ipv6: ipv6.iter().map(ToString::to_string).collect(),
                port: self.ryu_port(port),
            })
            .collect()
    }
}

/// A datapath id as Ryu's routes take it: 1 to 16 hex digits.
fn parse_dpid(text: &str) -> Result<u64, HttpResponse> {
    let valid = (1..=16).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit());
    valid
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .ok_or_else(|| HttpResponse::error(400, &format!("invalid datapath id {text:?}: expected 1 to 16 hex digits")))
}

type Listing = fn(&Topology, Option<u64>) -> HttpResponse;

/// Registers the six routes.
pub fn register(handlers: &mut Handlers<Topology>) {
    let listings: [(&str, Listing); 3] = [
        ("switches", |app, dpid| HttpResponse::json(200, &app.ryu_switches(dpid))),
        ("links", |app, dpid| HttpResponse::json(200, &app.ryu_links(dpid))),
        ("hosts", |app, dpid| HttpResponse::json(200, &app.ryu_hosts(dpid))),
    ];
    for (what, listing) in listings {
        handlers.on_http(
            "GET",
            &format!("/v1.0/topology/{what}"),
            move |app: &mut Topology, _: &Context, _: &HttpRequest<'_>| listing(app, None),
        );
        handlers.on_http(
            "GET",
            &format!("/v1.0/topology/{what}/{{dpid}}"),
            move |app: &mut Topology, _: &Context, request: &HttpRequest<'_>| {
                parse_dpid(request.param("dpid").unwrap_or_default()).map(|dpid| listing(app, Some(dpid)))
            },
        );
    }
}
