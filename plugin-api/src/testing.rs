//! The test kit: run an app in a plain `cargo test`, without a host (enable the `test-kit` feature in the app's
//! dev-dependencies).
//!
//! A [`TestKit`] creates the app from its configuration and starts it, then feeds it what a host would (datapaths
//! joining and leaving, OpenFlow messages, app events, requests, HTTP requests) through the same dispatch code the
//! host drives, and records what the app does: messages sent to datapaths, events published, faults. Requests the
//! app sends to switches or to other apps are answered by closures the test gives.
//!
//! ```
//! # use tatsu_plugin_api::{App, BoxError, Context, Handlers, DatapathInfo, FlowMod, Match};
//! # struct Greeter;
//! # impl App for Greeter {
//! #     const NAME: &'static str = "greeter";
//! #     type Config = ();
//! #     fn new(_: &Context, _: ()) -> Result<Self, BoxError> { Ok(Greeter) }
//! #     fn register(&self, handlers: &mut Handlers<Self>) {
//! #         handlers.on_datapath_enter(|_: &mut Self, _: &Context, info: &DatapathInfo| {
//! #             info.datapath().send(FlowMod::add(Match::new()).priority(0))
//! #         });
//! #     }
//! # }
//! use tatsu_plugin_api::testing::TestKit;
//! let mut kit = TestKit::<Greeter>::new().unwrap();
//! kit.connect(1, tatsu_plugin_api::ofproto::OFP_VERSION_1_3, &[1, 2]);
//! let sent = kit.take_sent();
//! assert_eq!(sent.len(), 1);
//! assert!(sent[0].is(FlowMod::add(Match::new()).priority(0)));
//! assert!(kit.faults().is_empty());
//! ```
//!
//! Handlers run on the test's thread. Green threads an HTTP route spawns run at once, to completion; the rest of
//! the green kit (`green::spawn`, sockets, `green::Timer`) needs a real host. Timers registered with
//! [`crate::Handlers::on_timer`] never tick by themselves: [`TestKit::advance`] moves the kit's virtual clock and
//! fires each timer once per period that ends on the way, and [`TestKit::fire_timers`] fires each once at once.

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec};
use tatsu_ofproto::portable::{Encode, NO_BUFFER};
use tatsu_ofproto::{
    v1_0, v1_2, v1_3, v1_4, v1_5, Message, OFP_VERSION_1_0, OFP_VERSION_1_2, OFP_VERSION_1_4, OFP_VERSION_1_5,
};

use crate::abi::{
    Accepted, AppEventRef, AppHandle, DatapathChange, DatapathDesc, DatapathEventRef, DatapathRole, DatapathStates,
    EventRef, GreenTask, HostContext, HostServices, HostServicesRef, HttpParam, HttpRequestRef, IoFailure,
    IoFailureKind, KvChange, KvEntry, KvError, KvFailure, KvListing, KvWatchHandle, OpenFlowRef, PortDesc,
    RequestError, RequestFailure, RequestRef, RoleEventRef, SocketHandle, Subscription, ThreadHandle, WaitStatus,
};
use crate::adapter::Adapter;

mod bundles;
use crate::context::{AppEvent, AppRequest, Context};
use crate::http::HttpResponse;
use crate::App;
pub use bundles::{BundleFate, BundleRecord};

/// What [`TestKit::replay_capture`] did with one OpenFlow connection of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// The datapath it connected as (0 if the capture has no features reply).
    pub dpid: u64,
    /// Its version (that of its first message fed).
    pub version: u8,
    /// How many of the switch's messages were fed to the app.
    pub fed: usize,
    /// Every message the controller sent the switch in the capture (the host's and the apps'), in order.
    pub controller_sent: Vec<Vec<u8>>,
}

/// `OFPT_PORT_STATUS` (the same in every version).
const PORT_STATUS: u8 = 12;

/// Whether a replayed switch message goes to the app: what switches send on their own (error, experimenter,
/// packet-in, flow-removed, port status; 1.4's role, table and request-forward status, 1.5's controller status).
fn is_fed(version: u8, msg_type: u8) -> bool {
    matches!(msg_type, 1 | 4 | 10..=12) || (version >= OFP_VERSION_1_4 && matches!(msg_type, 30..=32 | 35))
}

/// What a handshake reply says: the datapath id and version (features reply), port numbers (in the features
/// reply of 1.0 and 1.2, in port descriptions from 1.3). Returns whether the handshake is done with it (the
/// features reply of 1.0 and 1.2, the last part of the port descriptions from 1.3).
fn handshake_facts(message: &Message, dpid: &mut Option<u64>, version: &mut u8, ports: &mut Vec<u32>) -> bool {
    use tatsu_ofproto::portable::port_from_1_0;
    const MORE: u16 = 1;
    match message {
        Message::V1_0(v1_0::Message::FeaturesReply(features)) => {
            (*dpid, *version) = (Some(features.datapath_id), OFP_VERSION_1_0);
            *ports = features.ports.iter().map(|port| port_from_1_0(port.port_no)).collect();
            return true;
        }
        Message::V1_2(v1_2::Message::FeaturesReply(features)) => {
            (*dpid, *version) = (Some(features.datapath_id), OFP_VERSION_1_2);
            *ports = features.ports.iter().map(|port| port.port_no).collect();
            return true;
        }
        Message::V1_3(v1_3::Message::FeaturesReply(features)) => {
            (*dpid, *version) = (Some(features.datapath_id), tatsu_ofproto::OFP_VERSION_1_3);
        }
        Message::V1_4(v1_4::Message::FeaturesReply(features)) => {
            (*dpid, *version) = (Some(features.datapath_id), OFP_VERSION_1_4);
        }
        Message::V1_5(v1_5::Message::FeaturesReply(features)) => {
            (*dpid, *version) = (Some(features.datapath_id), OFP_VERSION_1_5);
        }
        Message::V1_3(v1_3::Message::MultipartReply(v1_3::MultipartReply {
            flags,
            body: v1_3::multipart::MultipartReplyBody::PortDesc(described),
        })) => {
            ports.extend(described.iter().map(|port| port.port_no));
            return flags & MORE == 0;
        }
        Message::V1_4(v1_4::Message::MultipartReply(v1_4::MultipartReply {
            flags,
            body: v1_4::MultipartReplyBody::PortDesc(described),
        })) => {
            ports.extend(described.iter().map(|port| port.port_no));
            return flags & MORE == 0;
        }
        Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply {
            flags,
            body: v1_5::MultipartReplyBody::PortDesc(described),
        })) => {
            ports.extend(described.iter().map(|port| port.port_no));
            return flags & MORE == 0;
        }
        _ => {}
    }
    false
}

/// The `OFPPR_*` code of a port status reason.
fn port_reason_code(reason: tatsu_ofproto::portable::PortReason) -> u8 {
    use tatsu_ofproto::portable::PortReason;
    match reason {
        PortReason::Add => 0,
        PortReason::Delete => 1,
        PortReason::Modify => 2,
        PortReason::Other(code) => code,
    }
}

/// A message the app sent to a datapath.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The datapath.
    pub dpid: u64,
    /// The message's wire bytes (with the xid the kit gave it).
    pub bytes: Vec<u8>,
    /// The message, decoded (`None` if it does not decode: a bug in what the app built).
    pub message: Option<Message>,
}

impl Sent {
    /// Whether this is `expected`, encoded for the same version under the same xid, byte for byte.
    pub fn is(&self, expected: impl Encode) -> bool {
        let (Some(&version), Some(xid)) = (self.bytes.first(), self.bytes.get(4..8)) else { return false };
        let xid = u32::from_be_bytes([xid[0], xid[1], xid[2], xid[3]]);
        let mut bytes = Vec::new();
        expected.encode_for(version, xid, &mut bytes).is_ok() && bytes == self.bytes
    }

    /// The message type byte.
    pub fn msg_type(&self) -> u8 {
        self.bytes.get(1).copied().unwrap_or_default()
    }

    /// If this is a packet-out of any version: the ports its output actions name (1.3 numbering, 1.0's
    /// reserved ports widened) and its data. What a test needs to play the switch and the wire behind it.
    pub fn packet_out(&self) -> Option<(Vec<u32>, &[u8])> {
        let oxm_ports = |actions: &[v1_3::Action]| -> Vec<u32> {
            actions
                .iter()
                .filter_map(|action| match action {
                    v1_3::Action::Output { port, .. } => Some(*port),
                    _ => None,
                })
                .collect()
        };
        match self.message.as_ref()? {
            Message::V1_0(v1_0::Message::PacketOut(out)) => {
                let ports = out.actions.iter().filter_map(|action| match action {
                    v1_0::Action::Output { port, .. } => Some(tatsu_ofproto::portable::port_from_1_0(*port)),
                    _ => None,
                });
                Some((ports.collect(), &out.data))
            }
            Message::V1_2(v1_2::Message::PacketOut(out))
            | Message::V1_3(v1_3::Message::PacketOut(out))
            | Message::V1_4(v1_4::Message::PacketOut(out)) => Some((oxm_ports(&out.actions), &out.data)),
            Message::V1_5(v1_5::Message::PacketOut(out)) => Some((oxm_ports(&out.actions), &out.data)),
            _ => None,
        }
    }
}

type SwitchResponder = Box<dyn FnMut(u64, &Message) -> Vec<Message> + Send>;
type AppServer = Box<dyn FnMut(&str) -> Result<String, String> + Send>;

/// What the kit's host services record and answer with.
#[derive(Default)]
struct Recorded {
    datapaths: BTreeMap<u64, DatapathDesc>,
    sent: Vec<Sent>,
    published: Vec<(String, String)>,
    faults: Vec<String>,
    replies: HashMap<u64, Result<String, String>>,
    http_replies: HashMap<u64, HttpResponse>,
    switch_responder: Option<SwitchResponder>,
    servers: HashMap<String, AppServer>,
    next_xid: u32,
    next_connection: u64,
    /// What the app pushed to WebSocket clients, and the clients connected (by path and number).
    websocket: crate::websocket::KitRecord,
    /// The node id when the kit plays a host in a cluster ([`TestKit::in_cluster`]).
    node: Option<String>,
    /// This host's role for each connected datapath.
    roles: BTreeMap<u64, RoleEventRef>,
    /// The app's key-value store.
    kv: KitStore,
    /// The bundles the kit's switches hold and held.
    bundles: bundles::KitBundles,
}

/// The kit's key-value store: what the host's local store does, without waiting.
#[derive(Default)]
struct KitStore {
    revision: i64,
    keys: BTreeMap<String, (Vec<u8>, i64)>,
    /// Every change: revision, key, new value (`None`: deleted).
    history: Vec<(i64, String, Option<Vec<u8>>)>,
    /// Why calls fail now ([`TestKit::set_kv_unavailable`]).
    unavailable: Option<String>,
}

impl KitStore {
    fn change(&mut self, key: &str, value: Option<&[u8]>) -> i64 {
        self.revision += 1;
        match value {
            Some(value) => self.keys.insert(key.to_owned(), (value.to_vec(), self.revision)),
            None => self.keys.remove(key),
        };
        self.history.push((self.revision, key.to_owned(), value.map(<[u8]>::to_vec)));
        self.revision
    }

    fn check(&self, key: &str, allow_empty: bool) -> Result<(), KvError> {
        if let Some(why) = &self.unavailable {
            return Err(KvError { failure: KvFailure::Unavailable, detail: why.as_str().into() });
        }
        if (key.is_empty() && !allow_empty) || key.len() > 1024 || key.contains('\0') {
            return Err(KvError { failure: KvFailure::InvalidKey, detail: format!("invalid key {key:?}").into() });
        }
        Ok(())
    }
}

/// A watch of the kit's store: its prefix and the last revision it delivered.
struct KitWatch {
    prefix: String,
    after: i64,
}

/// The host side of a kit: what an [`AppHandle`] of the kit's services points at.
#[derive(Default)]
struct TestHost {
    recorded: Mutex<Recorded>,
}

impl TestHost {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh_xid(&self) -> u32 {
        let mut recorded = self.lock();
        recorded.next_xid = recorded.next_xid.wrapping_add(1).max(1);
        recorded.next_xid
    }
}

fn test_host<'a>(handle: AppHandle) -> &'a TestHost {
    // SAFETY: the kit's services are handed only handles made from its boxed `TestHost`, which outlives the app.
    unsafe { &*handle.0.cast::<TestHost>() }
}

/// An app run without a host.
pub struct TestKit<A: App> {
    adapter: Adapter<A>,
    ctx: Context,
    /// Boxed so that its address, the app's handle, never moves; dropped after the app.
    host: Box<TestHost>,
    next_request: u64,
    /// Virtual time since the kit started the app.
    now: Duration,
    /// Each timer's period and when it next fires, by index.
    timers: Vec<(Duration, Duration)>,
}

impl<A: App> TestKit<A> {
    /// Creates and starts the app with its default configuration.
    pub fn new() -> Result<Self, String> {
        Self::with_config(serde_json::Value::Null)
    }

    /// Creates and starts the app with `config` (as its `[app.NAME]` section would give it, in JSON).
    pub fn with_config(config: serde_json::Value) -> Result<Self, String> {
        Self::start(config, None)
    }

    /// Creates and starts the app with `config` as host `node` of a cluster: datapaths that [`TestKit::connect`]
    /// connects have no role ([`crate::Role::Equal`]) until [`TestKit::set_role`] gives them one, and
    /// [`Context::cluster_node`] says `node`. The key-value store is the kit's own, as if no other host wrote.
    pub fn in_cluster(node: &str, config: serde_json::Value) -> Result<Self, String> {
        Self::start(config, Some(node))
    }

    fn start(config: serde_json::Value, node: Option<&str>) -> Result<Self, String> {
        let host = Box::new(TestHost::default());
        host.lock().node = node.map(str::to_owned);
        let ctx = Context::new(
            HostContext { services: services(), app: AppHandle(std::ptr::from_ref(&*host).cast::<c_void>()) },
            A::NAME,
        );
        let config_json = if config.is_null() { String::new() } else { config.to_string() };
        let mut adapter = Adapter::<A>::create(ctx, &config_json)?;
        adapter.start()?;
        let timers = adapter.timer_periods().into_iter().map(|period| (period, period)).collect();
        Ok(TestKit { adapter, ctx, host, next_request: 0, now: Duration::ZERO, timers })
    }

    /// The app.
    pub fn app(&self) -> &A {
        &self.adapter.app
    }

    /// The app, to change.
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.adapter.app
    }

    /// The context handlers get (for handles such as [`Context::datapath_handle`]).
    pub fn context(&self) -> Context {
        self.ctx
    }

    fn deliver(&mut self, event: EventRef<'_>) {
        self.adapter.handle(&event);
    }

    /// A datapath speaking wire `version` with `ports` connects and enters MAIN (the app's enter handlers run).
    pub fn connect(&mut self, dpid: u64, version: u8, ports: &[u32]) {
        let desc = {
            let mut recorded = self.host.lock();
            recorded.next_connection += 1;
            let desc = DatapathDesc {
                dpid,
                address: format!("127.0.0.1:{}", 10_000 + recorded.next_connection).into(),
                connection: recorded.next_connection,
                version,
                state: DatapathStates::MAIN,
                n_buffers: 256,
                n_tables: if version == OFP_VERSION_1_0 { 1 } else { 254 },
                capabilities: 0,
                ports: ports.iter().map(|&port_no| port_desc(&port(dpid, port_no))).collect(),
                reason: ROption::RNone,
                resumed: false,
                tls_subject: ROption::RNone,
            };
            recorded.datapaths.insert(dpid, desc.clone());
            let role = if recorded.node.is_some() { DatapathRole::Equal } else { DatapathRole::Master };
            recorded.roles.insert(dpid, RoleEventRef { dpid, role, generation: 0 });
            desc
        };
        self.deliver(EventRef::Datapath(DatapathEventRef { change: DatapathChange::Enter, datapath: &desc }));
        // A host without a cluster is master of every datapath, and says so once, after the enter event.
        if self.host.lock().node.is_none() {
            let role = RoleEventRef { dpid, role: DatapathRole::Master, generation: 0 };
            self.deliver(EventRef::Role(role));
        }
    }

    /// This host's role for connected datapath `dpid` becomes `role` with `generation` (the app's role handlers
    /// run). As a slave, the app's sends that change the switch fail with [`crate::OfErrorKind::NotMaster`], as
    /// the host's do.
    ///
    /// # Panics
    /// If the datapath is not connected.
    pub fn set_role(&mut self, dpid: u64, role: crate::Role, generation: u64) {
        let role = match role {
            crate::Role::Equal => DatapathRole::Equal,
            crate::Role::Master => DatapathRole::Master,
            crate::Role::Slave => DatapathRole::Slave,
        };
        let event = RoleEventRef { dpid, role, generation };
        {
            let mut recorded = self.host.lock();
            assert!(recorded.datapaths.contains_key(&dpid), "datapath {dpid:016x} is not connected in this test kit");
            recorded.roles.insert(dpid, event);
        }
        self.deliver(EventRef::Role(event));
    }

    /// Makes every key-value call fail as when etcd is lost (`Some(why)`), or work again (`None`); watches keep
    /// their place and see what changed meanwhile once it works again.
    pub fn set_kv_unavailable(&mut self, why: Option<&str>) {
        self.host.lock().kv.unavailable = why.map(str::to_owned);
    }

    /// Datapath `dpid` disconnects for `reason` (the app's leave handlers run).
    pub fn disconnect(&mut self, dpid: u64, reason: &str) {
        let removed = {
            let mut recorded = self.host.lock();
            recorded.roles.remove(&dpid);
            recorded.datapaths.remove(&dpid)
        };
        let Some(mut desc) = removed else { return };
        desc.state = DatapathStates::DEAD;
        desc.reason = ROption::RSome(reason.into());
        self.deliver(EventRef::Datapath(DatapathEventRef { change: DatapathChange::Leave, datapath: &desc }));
    }

    /// Datapath `dpid` sends `message` (encoded for its version), in MAIN.
    ///
    /// # Panics
    /// If the datapath is not connected or the message cannot be encoded: a mistake in the test.
    pub fn receive(&mut self, dpid: u64, message: impl Encode) {
        let version = match self.host.lock().datapaths.get(&dpid) {
            Some(desc) => desc.version,
            None => panic!("datapath {dpid:016x} is not connected in this test kit"),
        };
        let mut bytes = Vec::new();
        let xid = self.host.fresh_xid();
        if let Err(e) = message.encode_for(version, xid, &mut bytes) {
            panic!("the message for datapath {dpid:016x} does not encode: {e}");
        }
        self.receive_bytes(dpid, &bytes);
    }

    /// Datapath `dpid` sends these wire bytes (one message, header included), in MAIN.
    pub fn receive_bytes(&mut self, dpid: u64, bytes: &[u8]) {
        let event = OpenFlowRef { dpid, state: DatapathStates::MAIN, message: RSlice::from_slice(bytes) };
        self.deliver(EventRef::OpenFlow(event));
    }

    /// Datapath `dpid` sends a packet-in of `frame`, unbuffered, received on `in_port` (no flow matched).
    pub fn packet_in(&mut self, dpid: u64, in_port: u32, frame: &[u8]) {
        let version = self.host.lock().datapaths.get(&dpid).map(|desc| desc.version);
        let total_len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        let match_ = v1_3::Match::new().in_port(in_port);
        let packet_in = v1_3::PacketIn {
            buffer_id: NO_BUFFER,
            total_len,
            reason: 0,
            table_id: 0,
            cookie: 0,
            match_: match_.clone(),
            data: frame.to_vec(),
        };
        let message = match version {
            Some(OFP_VERSION_1_0) => {
                let in_port = tatsu_ofproto::portable::port_to_1_0(in_port).unwrap_or(0);
                let packet_in =
                    v1_0::PacketIn { buffer_id: NO_BUFFER, total_len, in_port, reason: 0, data: frame.to_vec() };
                Message::V1_0(v1_0::Message::PacketIn(packet_in))
            }
            Some(OFP_VERSION_1_2) => {
                let data = frame.to_vec();
                let packet_in =
                    v1_2::PacketIn { buffer_id: NO_BUFFER, total_len, reason: 0, table_id: 0, match_, data };
                Message::V1_2(v1_2::Message::PacketIn(packet_in))
            }
            Some(OFP_VERSION_1_4) => Message::V1_4(v1_4::Message::PacketIn(packet_in)),
            Some(OFP_VERSION_1_5) => Message::V1_5(v1_5::Message::PacketIn(packet_in)),
            _ => Message::V1_3(v1_3::Message::PacketIn(packet_in)),
        };
        self.receive(dpid, message);
    }

    /// Datapath `dpid` reports that `port` was added, deleted or changed (`reason`, `OFPPR_*`: 0, 1, 2), in a
    /// port status message of its version; the kit's description of the datapath's ports follows, as the host's
    /// does. [`port`] describes a port as [`TestKit::connect`] makes it, to start from.
    ///
    /// # Panics
    /// If the datapath is not connected, or the port number does not fit its version.
    pub fn port_status(&mut self, dpid: u64, reason: u8, port: &crate::Port) {
        let version = self.note_port_status(dpid, reason, port);
        let message = if version == OFP_VERSION_1_0 {
            let port_no = tatsu_ofproto::portable::port_to_1_0(port.port_no)
                .unwrap_or_else(|e| panic!("port {} on a 1.0 datapath: {e}", port.port_no));
            let desc = v1_0::PhyPort {
                port_no,
                hw_addr: port.hw_addr,
                name: port.name.as_str().into(),
                config: port.config,
                state: port.state,
                curr: port.curr,
                advertised: port.advertised,
                supported: port.supported,
                peer: port.peer,
            };
            Message::V1_0(v1_0::Message::PortStatus(v1_0::PortStatus { reason, desc }))
        } else if version == OFP_VERSION_1_4 || version == OFP_VERSION_1_5 {
            let ethernet = v1_4::PortEthernet {
                curr: port.curr,
                advertised: port.advertised,
                supported: port.supported,
                peer: port.peer,
                curr_speed: port.curr_speed,
                max_speed: port.max_speed,
            };
            let mut desc = v1_4::Port::ethernet(port.port_no, port.hw_addr, &port.name, ethernet);
            desc.config = port.config;
            desc.state = port.state;
            let status = v1_4::PortStatus { reason, desc };
            if version == OFP_VERSION_1_4 {
                Message::V1_4(v1_4::Message::PortStatus(status))
            } else {
                Message::V1_5(v1_5::Message::PortStatus(status))
            }
        } else {
            let desc = v1_3::Port {
                port_no: port.port_no,
                hw_addr: port.hw_addr,
                name: port.name.as_str().into(),
                config: port.config,
                state: port.state,
                curr: port.curr,
                advertised: port.advertised,
                supported: port.supported,
                peer: port.peer,
                curr_speed: port.curr_speed,
                max_speed: port.max_speed,
            };
            let status = v1_3::PortStatus { reason, desc };
            if version == OFP_VERSION_1_2 {
                Message::V1_2(v1_2::Message::PortStatus(status))
            } else {
                Message::V1_3(v1_3::Message::PortStatus(status))
            }
        };
        self.receive(dpid, message);
    }

    /// Replays a pcap capture (what `tatsu run --capture` writes, or `tcpdump -w` of an OpenFlow port) into the
    /// app, so that what a switch did in the field becomes a unit test. For each OpenFlow connection in the file,
    /// in the order things were captured: the datapath connects as the capture's handshake describes it (its id
    /// from the features reply, its version, its port numbers from the features reply or the port descriptions)
    /// when its handshake is done, as the host's datapaths enter MAIN; then the switch's messages are fed to the
    /// app as that datapath's. What the switch sent before its handshake was done is not fed (the host gives it
    /// only to handlers of the handshake's states).
    ///
    /// Fed are the messages a switch sends on its own: packet-ins, port status (the kit's description of the
    /// datapath's ports follows them, as the host's does), flow-removed, errors, experimenter messages, and 1.4
    /// and 1.5's status messages. Not fed: HELLO, echoes, the handshake's replies, and replies to requests
    /// (the app's requests are answered by [`TestKit::answer_switch_requests`] here, not by the capture).
    ///
    /// Returns, per connection, the datapath, how many messages were fed and what the controller sent the switch
    /// in the capture, to compare with what the app sends now ([`TestKit::take_sent`]).
    pub fn replay_capture(&mut self, pcap: &[u8]) -> Result<Vec<Replayed>, String> {
        let sessions = tatsu_ofproto::capture::sessions(pcap).map_err(|e| format!("the capture: {e}"))?;
        if sessions.is_empty() {
            return Err("the capture holds no OpenFlow connection".to_owned());
        }
        let mut replayed: Vec<Replayed> = Vec::new();
        // What each connection's handshake said so far: datapath id, version, ports; and whether it connected.
        let mut handshakes: Vec<(Option<u64>, u8, Vec<u32>, bool)> = vec![(None, 0, Vec::new(), false); sessions.len()];
        let mut events: Vec<(std::time::Duration, usize, &tatsu_ofproto::capture::Captured)> = sessions
            .iter()
            .enumerate()
            .flat_map(|(index, session)| session.messages.iter().map(move |message| (message.time, index, message)))
            .collect();
        events.sort_by_key(|(time, _, _)| *time);
        for session in &sessions {
            let controller_sent = session.messages.iter().filter(|m| !m.from_switch).map(|m| m.bytes.clone()).collect();
            replayed.push(Replayed { dpid: 0, version: 0, fed: 0, controller_sent });
        }
        for (_, index, message) in events {
            if !message.from_switch {
                continue;
            }
            let (dpid, version, ports, connected) = &mut handshakes[index];
            let bytes = &message.bytes;
            let (message_version, msg_type) = (bytes[0], bytes[1]);
            if msg_type == 0 || msg_type == 2 || msg_type == 3 {
                continue; // hello, echoes
            }
            if !is_fed(message_version, msg_type) {
                let done = tatsu_ofproto::decode(bytes)
                    .is_ok_and(|(_, decoded)| handshake_facts(&decoded, dpid, version, ports));
                if let (true, false, Some(id)) = (done, *connected, *dpid) {
                    *connected = true;
                    self.connect(id, *version, ports);
                    (replayed[index].dpid, replayed[index].version) = (id, *version);
                }
                continue;
            }
            let (true, Some(id)) = (*connected, *dpid) else { continue };
            if msg_type == PORT_STATUS {
                if let Ok(status) = crate::PortStatus::parse(bytes) {
                    self.note_port_status(id, port_reason_code(status.reason), &status.port);
                }
            }
            self.receive_bytes(id, bytes);
            replayed[index].fed += 1;
        }
        // A connection that sent nothing after its handshake still connects.
        for ((dpid, version, ports, connected), replayed) in handshakes.iter().zip(&mut replayed) {
            if let (Some(id), false) = (dpid, connected) {
                self.connect(*id, *version, ports);
                (replayed.dpid, replayed.version) = (*id, *version);
            }
        }
        Ok(replayed)
    }

    /// Updates the kit's description of datapath `dpid`'s ports after a port status; returns its version.
    ///
    /// # Panics
    /// If the datapath is not connected.
    fn note_port_status(&mut self, dpid: u64, reason: u8, port: &crate::Port) -> u8 {
        let mut recorded = self.host.lock();
        let Some(desc) = recorded.datapaths.get_mut(&dpid) else {
            panic!("datapath {dpid:016x} is not connected in this test kit")
        };
        let mut ports: Vec<PortDesc> = desc.ports.iter().filter(|p| p.port_no != port.port_no).cloned().collect();
        if reason != v1_3::consts::port_reason::DELETE {
            ports.push(port_desc(port));
            ports.sort_by_key(|p| p.port_no);
        }
        desc.ports = ports.into();
        desc.version
    }

    /// Another app (`test`) publishes `event` (the app's handlers for it run).
    ///
    /// # Panics
    /// If the event does not serialize.
    pub fn publish<E: AppEvent>(&mut self, event: &E) {
        let json = serde_json::to_string(event).unwrap_or_else(|e| panic!("event `{}`: {e}", E::NAME));
        let event = AppEventRef {
            name: RStr::from(E::NAME),
            source: RStr::from("test"),
            payload_json: RStr::from(json.as_str()),
        };
        self.deliver(EventRef::App(event));
    }

    /// Another app sends `request`; returns the app's reply, or its error.
    pub fn request<Q: AppRequest>(&mut self, request: &Q) -> Result<Q::Reply, String> {
        let json = serde_json::to_string(request).map_err(|e| e.to_string())?;
        self.next_request += 1;
        let id = self.next_request;
        let event = RequestRef {
            id,
            name: RStr::from(Q::NAME),
            source: RStr::from("test"),
            payload_json: RStr::from(json.as_str()),
        };
        self.deliver(EventRef::Request(event));
        let reply = self.host.lock().replies.remove(&id);
        match reply {
            Some(Ok(json)) => serde_json::from_str(&json).map_err(|e| format!("reply to `{}`: {e}", Q::NAME)),
            Some(Err(message)) => Err(message),
            None => Err(format!("the app did not answer `{}`", Q::NAME)),
        }
    }

    /// An HTTP client sends `method path` (a query after `?`) with `body`; returns the app's response (404 if no
    /// route of the app matches, as the host's server would answer).
    pub fn http(&mut self, method: &str, path: &str, body: &[u8]) -> HttpResponse {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let routes: Vec<(String, String)> = self
            .adapter
            .subscriptions()
            .into_iter()
            .filter_map(|subscription| match subscription {
                Subscription::Http { method, pattern } => Some((method.into_string(), pattern.into_string())),
                _ => None,
            })
            .collect();
        let found = routes.iter().find_map(|(route_method, pattern)| {
            let params = match_route(pattern, path)?;
            route_method.eq_ignore_ascii_case(method).then(|| (format!("{route_method} {pattern}"), params))
        });
        let Some((route, params)) = found else {
            return HttpResponse::error(404, &format!("no route for {method} {path}"));
        };
        self.next_request += 1;
        let id = self.next_request;
        let params: Vec<HttpParam<'_>> = params
            .iter()
            .map(|(name, value)| HttpParam { name: RStr::from(name.as_str()), value: RStr::from(value.as_str()) })
            .collect();
        let request = HttpRequestRef {
            id,
            route: RStr::from(route.as_str()),
            method: RStr::from(method),
            path: RStr::from(path),
            query: RStr::from(query),
            params: RSlice::from_slice(&params),
            content_type: ROption::RSome(RStr::from(crate::http::JSON)),
            body: RSlice::from_slice(body),
        };
        self.deliver(EventRef::Http(request));
        let response = self.host.lock().http_replies.remove(&id);
        response.unwrap_or_else(|| HttpResponse::error(500, "the app did not answer"))
    }

    /// Lets `duration` of virtual time pass: each [`crate::Handlers::on_timer`] timer fires once for every period
    /// of it that ends by then (the first one period after the start), in time order; timers due at the same
    /// instant fire in registration order.
    pub fn advance(&mut self, duration: Duration) {
        let end = self.now + duration;
        while let Some((index, due)) = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, &(_, due))| due <= end)
            .min_by_key(|&(index, &(_, due))| (due, index))
            .map(|(index, &(_, due))| (index, due))
        {
            self.now = due;
            let (period, next) = &mut self.timers[index];
            *next += *period;
            self.adapter.fire_timer(index);
        }
        self.now = end;
    }

    /// Fires every timer once, in registration order, now (without moving the virtual clock): one round of a
    /// periodic job, whatever its period.
    pub fn fire_timers(&mut self) {
        for index in 0..self.timers.len() {
            self.adapter.fire_timer(index);
        }
    }

    /// A WebSocket client of `path` connects, sends or leaves (the app's [`crate::Handlers::on_websocket`] handler
    /// runs); `event`'s client number is the test's choice.
    pub fn websocket(&mut self, path: &str, event: crate::websocket::WebSocketEvent<'_>) {
        self.host.lock().websocket.track(path, &event);
        let (kind, data) = crate::websocket::kit_event_parts(&event);
        let event = crate::abi::WebSocketEventRef {
            path: RStr::from(path),
            client: event.client(),
            kind,
            data: RSlice::from_slice(data),
        };
        self.deliver(EventRef::WebSocket(event));
    }

    /// What the app pushed to WebSocket clients since the last call, in order.
    pub fn take_websocket_pushed(&mut self) -> Vec<crate::websocket::Pushed> {
        std::mem::take(&mut self.host.lock().websocket.pushed)
    }

    /// The messages the app sent to datapaths since the last call, in order.
    pub fn take_sent(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.host.lock().sent)
    }

    /// The events of type `E` the app published since the last call (other events stay).
    ///
    /// # Panics
    /// If a payload published under `E`'s name does not decode as `E`.
    pub fn take_published<E: AppEvent>(&mut self) -> Vec<E> {
        let mut recorded = self.host.lock();
        let (mine, others): (Vec<_>, Vec<_>) =
            std::mem::take(&mut recorded.published).into_iter().partition(|(name, _)| name == E::NAME);
        recorded.published = others;
        mine.iter()
            .map(|(_, json)| serde_json::from_str(json).unwrap_or_else(|e| panic!("event `{}`: {e}", E::NAME)))
            .collect()
    }

    /// Every event the app published since the last call, in order, as `(name, JSON payload)`: for tests of the
    /// order of events of different types.
    pub fn take_all_published(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.host.lock().published)
    }

    /// The faults the app reported (handler errors and panics), each as `event: message`.
    pub fn faults(&self) -> Vec<String> {
        self.host.lock().faults.clone()
    }

    /// Answers the app's requests to switches ([`crate::Datapath::request`]): `answer(dpid, request)` gives the
    /// reply's messages (an empty list times the request out).
    pub fn answer_switch_requests(&mut self, answer: impl FnMut(u64, &Message) -> Vec<Message> + Send + 'static) {
        self.host.lock().switch_responder = Some(Box::new(answer));
    }

    /// Makes the kit's switches fail a bundle's commit ([`crate::Bundle::commit`]) at the first of its messages
    /// `refuse(dpid, message)` gives an error for, as Open vSwitch does: that error under the message's xid, then
    /// `OFPBFC_MSG_FAILED` for the commit, and nothing of the bundle applied. Without it every commit succeeds.
    pub fn refuse_in_bundles(
        &mut self,
        refuse: impl FnMut(u64, &Message) -> Option<tatsu_ofproto::ErrorMsg> + Send + 'static,
    ) {
        self.host.lock().bundles.refusal = Some(Box::new(refuse));
    }

    /// The bundles the app committed, discarded or failed to commit since the last call, oldest first (their
    /// messages also appear in [`TestKit::take_sent`], as the bundle messages they went in).
    pub fn take_bundles(&mut self) -> Vec<BundleRecord> {
        std::mem::take(&mut self.host.lock().bundles.records)
    }

    /// Serves requests of type `Q` the app sends to other apps.
    pub fn serve<Q: AppRequest>(&mut self, mut serve: impl FnMut(Q) -> Result<Q::Reply, String> + Send + 'static) {
        let server: AppServer = Box::new(move |json| {
            let request: Q = serde_json::from_str(json).map_err(|e| format!("payload is not a `{}`: {e}", Q::NAME))?;
            let reply = serve(request)?;
            serde_json::to_string(&reply).map_err(|e| e.to_string())
        });
        self.host.lock().servers.insert(Q::NAME.to_owned(), server);
    }
}

impl<A: App> Drop for TestKit<A> {
    fn drop(&mut self) {
        let _ = self.adapter.stop();
    }
}

/// Port `port_no` of datapath `dpid` as [`TestKit::connect`] describes it: up, MAC address
/// `02:DD:DD:00:PP:PP` (the low bytes of the datapath id and port number), named `s{dpid}-eth{port_no}`.
pub fn port(dpid: u64, port_no: u32) -> crate::Port {
    let [.., a, b] = dpid.to_be_bytes();
    let [.., c, d] = port_no.to_be_bytes();
    crate::Port {
        port_no,
        hw_addr: crate::MacAddr([0x02, a, b, 0, c, d]),
        name: format!("s{dpid}-eth{port_no}"),
        ..crate::Port::default()
    }
}

fn port_desc(port: &crate::Port) -> PortDesc {
    PortDesc {
        port_no: port.port_no,
        hw_addr: port.hw_addr.0,
        name: port.name.as_str().into(),
        config: port.config,
        state: port.state,
        curr: port.curr,
        advertised: port.advertised,
        supported: port.supported,
        peer: port.peer,
        curr_speed: port.curr_speed,
        max_speed: port.max_speed,
    }
}

/// The parameters of `path` if it matches `pattern` (`{name}` matches one segment).
fn match_route(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let (pattern, path): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut params = Vec::new();
    for (want, got) in pattern.iter().zip(&path) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => params.push((name.to_owned(), crate::http::percent_decode(got, false))),
            None if want == got => {}
            None => return None,
        }
    }
    Some(params)
}

fn services() -> HostServicesRef {
    static SERVICES: OnceLock<HostServicesRef> = OnceLock::new();
    *SERVICES.get_or_init(|| {
        HostServices {
            log,
            log_max_level,
            report_fault,
            publish,
            request,
            reply,
            spawn,
            current_thread,
            thread_clone,
            thread_release,
            thread_unpark,
            thread_stop,
            thread_finished,
            thread_interrupt,
            park,
            sleep,
            yield_now,
            of_send,
            of_request,
            datapaths,
            datapath,
            http_reply,
            tcp_connect,
            tcp_listen,
            tcp_accept,
            tcp_read,
            tcp_write,
            tcp_address,
            tcp_shutdown,
            tcp_clone,
            tcp_close,
            websocket_broadcast,
            websocket_send,
            websocket_close,
            datapath_role,
            cluster_node,
            kv_get,
            kv_list,
            kv_put,
            kv_delete,
            kv_compare_and_swap,
            kv_watch,
            kv_watch_next,
            kv_watch_close,
            of_transaction: bundles::of_transaction,
        }
        .leak_into_prefix()
    })
}

extern "C" fn log(_app: AppHandle, level: u8, module: RStr<'_>, message: RStr<'_>) {
    eprintln!("[{level}] {module}: {message}");
}

extern "C" fn log_max_level(_app: AppHandle) -> u8 {
    log::LevelFilter::Info as u8
}

extern "C" fn report_fault(app: AppHandle, event: RStr<'_>, message: RStr<'_>) {
    test_host(app).lock().faults.push(format!("{event}: {message}"));
}

extern "C" fn publish(app: AppHandle, name: RStr<'_>, payload: RStr<'_>) {
    test_host(app).lock().published.push((name.to_string(), payload.to_string()));
}

fn request_error(failure: RequestFailure, detail: String) -> RequestError {
    RequestError { failure, detail: detail.into() }
}

extern "C" fn request(
    app: AppHandle,
    name: RStr<'_>,
    payload: RStr<'_>,
    _timeout_ns: u64,
) -> RResult<RString, RequestError> {
    let host = test_host(app);
    // Taken out while it runs, so that it may itself use the kit's services.
    let server = host.lock().servers.remove(name.as_str());
    let Some(mut server) = server else {
        return RResult::RErr(request_error(RequestFailure::NoServer, format!("no app serves request `{name}`")));
    };
    let result = server(payload.as_str());
    host.lock().servers.insert(name.to_string(), server);
    match result {
        Ok(json) => RResult::ROk(json.into()),
        Err(message) => RResult::RErr(request_error(RequestFailure::Failed, message)),
    }
}

extern "C" fn reply(app: AppHandle, request_id: u64, result: RResult<RStr<'_>, RStr<'_>>) {
    let result = match result {
        RResult::ROk(json) => Ok(json.to_string()),
        RResult::RErr(message) => Err(message.to_string()),
    };
    test_host(app).lock().replies.insert(request_id, result);
}

/// Runs the task at once, on the calling thread.
extern "C" fn spawn(_app: AppHandle, task: GreenTask) -> RResult<ThreadHandle, RString> {
    // SAFETY: the app built `run` for `data`, to be called once; it is, and `drop` is not.
    unsafe { (task.run)(task.data) };
    RResult::ROk(ThreadHandle(std::ptr::null()))
}

extern "C" fn current_thread(_app: AppHandle) -> ThreadHandle {
    ThreadHandle(std::ptr::null())
}

extern "C" fn thread_clone(_thread: &ThreadHandle) -> ThreadHandle {
    ThreadHandle(std::ptr::null())
}

extern "C" fn thread_release(_thread: &mut ThreadHandle) {}

extern "C" fn thread_unpark(_thread: &ThreadHandle) {}

extern "C" fn thread_stop(_thread: &ThreadHandle) {}

extern "C" fn thread_finished(_thread: &ThreadHandle) -> bool {
    true
}

extern "C" fn thread_interrupt(_thread: &ThreadHandle) {}

/// Nothing can wake a parked handler in the kit: it waits a little and times out.
extern "C" fn park(_app: AppHandle, timeout_ns: u64) -> WaitStatus {
    std::thread::sleep(Duration::from_nanos(timeout_ns.min(10_000_000)));
    WaitStatus::TimedOut
}

extern "C" fn sleep(_app: AppHandle, _duration_ns: u64) -> WaitStatus {
    WaitStatus::Woken
}

extern "C" fn yield_now(_app: AppHandle) -> WaitStatus {
    WaitStatus::Woken
}

fn with_fresh_xid(host: &TestHost, message: &[u8]) -> Vec<u8> {
    let mut bytes = message.to_vec();
    if let Some(field) = bytes.get_mut(4..8) {
        if field == [0, 0, 0, 0] {
            field.copy_from_slice(&host.fresh_xid().to_be_bytes());
        }
    }
    bytes
}

extern "C" fn of_send(app: AppHandle, dpid: u64, message: RSlice<'_, u8>) -> RResult<(), RequestError> {
    let host = test_host(app);
    if !host.lock().datapaths.contains_key(&dpid) {
        let detail = format!("no datapath {dpid:016x} is connected");
        return RResult::RErr(request_error(RequestFailure::UnknownDatapath, detail));
    }
    let slave = host.lock().roles.get(&dpid).is_some_and(|role| role.role == DatapathRole::Slave);
    if let (true, [version, msg_type, ..]) = (slave, &message[..]) {
        let changes = if *version == 1 { matches!(msg_type, 13..=15) } else { matches!(msg_type, 13..=17 | 29) };
        if changes {
            let detail = format!("datapath {dpid:016x}: this host is its slave, the master makes changes");
            return RResult::RErr(request_error(RequestFailure::NotMaster, detail));
        }
    }
    let bytes = with_fresh_xid(host, &message);
    let message = tatsu_ofproto::decode(&bytes).ok().map(|(_, message)| message);
    host.lock().sent.push(Sent { dpid, bytes, message });
    RResult::ROk(())
}

extern "C" fn of_request(
    app: AppHandle,
    dpid: u64,
    message: RSlice<'_, u8>,
    _timeout_ns: u64,
) -> RResult<RVec<u8>, RequestError> {
    let host = test_host(app);
    let xid = host.fresh_xid();
    let mut bytes = message.to_vec();
    if let Some(field) = bytes.get_mut(4..8) {
        field.copy_from_slice(&xid.to_be_bytes());
    }
    if let RResult::RErr(e) = of_send(app, dpid, RSlice::from_slice(&bytes)) {
        return RResult::RErr(e);
    }
    let responder = host.lock().switch_responder.take();
    let Some(mut responder) = responder else {
        let detail = "no switch answers requests in this test kit (see TestKit::answer_switch_requests)";
        return RResult::RErr(request_error(RequestFailure::TimedOut, detail.to_owned()));
    };
    let reply = match tatsu_ofproto::decode(&bytes) {
        Ok((_, request)) => responder(dpid, &request),
        Err(_) => Vec::new(),
    };
    host.lock().switch_responder = Some(responder);
    if reply.is_empty() {
        return RResult::RErr(request_error(RequestFailure::TimedOut, format!("no reply to xid {xid}")));
    }
    let mut out = Vec::new();
    for message in reply {
        if let Err(e) = message.encode(xid, &mut out) {
            return RResult::RErr(request_error(RequestFailure::Failed, format!("the reply does not encode: {e}")));
        }
    }
    RResult::ROk(out.into())
}

extern "C" fn datapaths(app: AppHandle) -> RVec<DatapathDesc> {
    test_host(app).lock().datapaths.values().cloned().collect()
}

extern "C" fn datapath(app: AppHandle, dpid: u64) -> ROption<DatapathDesc> {
    test_host(app).lock().datapaths.get(&dpid).cloned().into()
}

extern "C" fn http_reply(app: AppHandle, request_id: u64, status: u16, content_type: RStr<'_>, body: RSlice<'_, u8>) {
    let response = HttpResponse::new(status, content_type.as_str(), body.to_vec());
    test_host(app).lock().http_replies.insert(request_id, response);
}

extern "C" fn websocket_broadcast(
    app: AppHandle,
    path: RStr<'_>,
    message: RSlice<'_, u8>,
    binary: bool,
) -> RResult<u64, RString> {
    test_host(app).lock().websocket.broadcast(path.as_str(), &message, binary).map_err(RString::from).into()
}

extern "C" fn websocket_send(
    app: AppHandle,
    path: RStr<'_>,
    client: u64,
    message: RSlice<'_, u8>,
    binary: bool,
) -> RResult<(), RString> {
    test_host(app).lock().websocket.send(path.as_str(), client, &message, binary).map_err(RString::from).into()
}

extern "C" fn websocket_close(
    app: AppHandle,
    path: RStr<'_>,
    client: u64,
    code: u16,
    reason: RStr<'_>,
) -> RResult<(), RString> {
    test_host(app).lock().websocket.close(path.as_str(), client, code, reason.as_str()).map_err(RString::from).into()
}

extern "C" fn datapath_role(app: AppHandle, dpid: u64) -> ROption<RoleEventRef> {
    test_host(app).lock().roles.get(&dpid).copied().into()
}

extern "C" fn cluster_node(app: AppHandle) -> ROption<RString> {
    test_host(app).lock().node.as_deref().map(RString::from).into()
}

extern "C" fn kv_get(app: AppHandle, key: RStr<'_>) -> RResult<ROption<KvEntry>, KvError> {
    let recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(key.as_str(), false) {
        return RResult::RErr(e);
    }
    let found = recorded.kv.keys.get(key.as_str()).map(|(value, revision)| KvEntry {
        key: key.as_str().into(),
        value: value.clone().into(),
        revision: *revision,
    });
    RResult::ROk(found.into())
}

extern "C" fn kv_list(app: AppHandle, prefix: RStr<'_>) -> RResult<KvListing, KvError> {
    let recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(prefix.as_str(), true) {
        return RResult::RErr(e);
    }
    let entries = recorded
        .kv
        .keys
        .iter()
        .filter(|(key, _)| key.starts_with(prefix.as_str()))
        .map(|(key, (value, revision))| KvEntry {
            key: key.as_str().into(),
            value: value.clone().into(),
            revision: *revision,
        })
        .collect();
    RResult::ROk(KvListing { entries, revision: recorded.kv.revision })
}

extern "C" fn kv_put(app: AppHandle, key: RStr<'_>, value: RSlice<'_, u8>, _ephemeral: bool) -> RResult<i64, KvError> {
    let mut recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(key.as_str(), false) {
        return RResult::RErr(e);
    }
    RResult::ROk(recorded.kv.change(key.as_str(), Some(&value)))
}

extern "C" fn kv_delete(app: AppHandle, key: RStr<'_>) -> RResult<bool, KvError> {
    let mut recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(key.as_str(), false) {
        return RResult::RErr(e);
    }
    let existed = recorded.kv.keys.contains_key(key.as_str());
    if existed {
        recorded.kv.change(key.as_str(), None);
    }
    RResult::ROk(existed)
}

extern "C" fn kv_compare_and_swap(
    app: AppHandle,
    key: RStr<'_>,
    expected: ROption<RSlice<'_, u8>>,
    new: RSlice<'_, u8>,
    _ephemeral: bool,
) -> RResult<bool, KvError> {
    let mut recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(key.as_str(), false) {
        return RResult::RErr(e);
    }
    let now = recorded.kv.keys.get(key.as_str()).map(|(value, _)| value.as_slice());
    let holds = now == expected.into_option().as_deref();
    if holds {
        recorded.kv.change(key.as_str(), Some(&new));
    }
    RResult::ROk(holds)
}

extern "C" fn kv_watch(app: AppHandle, prefix: RStr<'_>, after: i64) -> RResult<KvWatchHandle, KvError> {
    let recorded = test_host(app).lock();
    if let Err(e) = recorded.kv.check(prefix.as_str(), true) {
        return RResult::RErr(e);
    }
    let after = if after > 0 { after } else { recorded.kv.revision };
    let watch = Box::new(KitWatch { prefix: prefix.to_string(), after });
    RResult::ROk(KvWatchHandle(Box::into_raw(watch).cast::<c_void>().cast_const()))
}

/// Never waits: what changed since the last call, or nothing.
extern "C" fn kv_watch_next(
    app: AppHandle,
    watch: &KvWatchHandle,
    _timeout_ns: u64,
) -> RResult<RVec<KvChange>, KvError> {
    if watch.0.is_null() {
        return RResult::RErr(KvError { failure: KvFailure::Other, detail: "the watch is closed".into() });
    }
    // SAFETY: a non-null handle points at the `KitWatch` `kv_watch` boxed, freed only by `kv_watch_close`.
    let watch = unsafe { &mut *watch.0.cast::<KitWatch>().cast_mut() };
    let recorded = test_host(app).lock();
    if recorded.kv.unavailable.is_some() {
        return RResult::ROk(RVec::new());
    }
    let changes: RVec<KvChange> = recorded
        .kv
        .history
        .iter()
        .filter(|(revision, key, _)| *revision > watch.after && key.starts_with(&watch.prefix))
        .map(|(revision, key, value)| KvChange {
            key: key.as_str().into(),
            value: value.clone().map(RVec::from).into(),
            revision: *revision,
        })
        .collect();
    watch.after = watch.after.max(recorded.kv.revision);
    RResult::ROk(changes)
}

extern "C" fn kv_watch_close(watch: &mut KvWatchHandle) {
    if !watch.0.is_null() {
        // SAFETY: the handle owns the box `kv_watch` made; nulled so it cannot be freed twice.
        drop(unsafe { Box::from_raw(watch.0.cast::<KitWatch>().cast_mut()) });
        watch.0 = std::ptr::null();
    }
}

fn no_network() -> IoFailure {
    IoFailure { kind: IoFailureKind::Other, message: "the test kit has no network".into() }
}

extern "C" fn tcp_connect(_app: AppHandle, _address: RStr<'_>, _timeout_ns: u64) -> RResult<SocketHandle, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_listen(_app: AppHandle, _address: RStr<'_>) -> RResult<SocketHandle, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_accept(_app: AppHandle, _listener: &SocketHandle, _timeout_ns: u64) -> RResult<Accepted, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_read(
    _app: AppHandle,
    _socket: &SocketHandle,
    _buffer: RSliceMut<'_, u8>,
    _timeout_ns: u64,
) -> RResult<usize, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_write(
    _app: AppHandle,
    _socket: &SocketHandle,
    _data: RSlice<'_, u8>,
    _timeout_ns: u64,
) -> RResult<usize, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_address(_socket: &SocketHandle, _peer: bool) -> RResult<RString, IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_shutdown(_socket: &SocketHandle, _how: u8) -> RResult<(), IoFailure> {
    RResult::RErr(no_network())
}

extern "C" fn tcp_clone(_socket: &SocketHandle) -> SocketHandle {
    SocketHandle(std::ptr::null())
}

extern "C" fn tcp_close(_socket: &mut SocketHandle) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BoxError, Handlers};

    /// Records which timer fired, and whether any handler ran while another did.
    #[derive(Default)]
    struct Ticker {
        fired: Vec<&'static str>,
    }

    impl App for Ticker {
        const NAME: &'static str = "ticker";
        type Config = ();

        fn new(_: &Context, _: ()) -> Result<Self, BoxError> {
            Ok(Ticker::default())
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers
                .on_timer(Duration::from_millis(300), |app: &mut Ticker, _: &Context| app.fired.push("slow"))
                .on_timer(Duration::from_millis(100), |app: &mut Ticker, _: &Context| -> Result<(), String> {
                    app.fired.push("fast");
                    Err("the fast timer fails".to_owned())
                });
        }
    }

    /// The private request a timer thread sends, as another app would try to send it.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct ForgedTick(usize);

    impl AppRequest for ForgedTick {
        const NAME: &'static str = "tatsu.timer/ticker";
        type Reply = ();
    }

    #[test]
    fn advance_fires_timers_once_per_period_in_time_order_and_fire_timers_once_each() {
        let mut kit = TestKit::<Ticker>::new().unwrap_or_else(|e| panic!("{e}"));
        kit.advance(Duration::from_millis(99));
        assert!(kit.app().fired.is_empty());
        kit.advance(Duration::from_millis(201));
        // At 300 ms both are due: the one registered first fires first.
        assert_eq!(kit.app().fired, ["fast", "fast", "slow", "fast"]);
        kit.app_mut().fired.clear();
        kit.fire_timers();
        assert_eq!(kit.app().fired, ["slow", "fast"]);
        // The fast timer's error is a fault, each time, and the timer goes on.
        assert_eq!(kit.faults().len(), 4, "{:?}", kit.faults());
        assert!(kit.faults()[0].starts_with("timer 1: handler failed: the fast timer fails"), "{:?}", kit.faults());
    }

    #[test]
    fn timers_subscribe_to_their_private_request_which_other_apps_cannot_send() {
        let mut kit = TestKit::<Ticker>::new().unwrap_or_else(|e| panic!("{e}"));
        let subscribed = kit.adapter.subscriptions().into_iter().any(
            |subscription| matches!(subscription, Subscription::Request(name) if name.as_str() == ForgedTick::NAME),
        );
        assert!(subscribed);
        let refused = kit.request(&ForgedTick(0)).err().unwrap_or_default();
        assert!(refused.contains("private to app `ticker`"), "{refused}");
        assert!(kit.app().fired.is_empty());
    }

    /// Sends one packet-out to two ports when a datapath joins.
    struct Prober;

    impl App for Prober {
        const NAME: &'static str = "prober";
        type Config = ();

        fn new(_: &Context, _: ()) -> Result<Self, BoxError> {
            Ok(Prober)
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers.on_datapath_enter(|_: &mut Prober, _: &Context, info: &crate::DatapathInfo| {
                let actions = [crate::Action::output(2), crate::Action::flood()];
                info.datapath().send(crate::PacketOut::new(&b"frame"[..], actions))
            });
        }
    }

    #[test]
    fn a_sent_packet_out_shows_its_output_ports_and_data_in_every_version() {
        for version in tatsu_ofproto::SUPPORTED_VERSIONS.iter().copied() {
            let mut kit = TestKit::<Prober>::new().unwrap_or_else(|e| panic!("{e}"));
            kit.connect(1, version, &[1, 2]);
            let sent = kit.take_sent();
            assert_eq!(sent.len(), 1, "{sent:?}");
            let flood = tatsu_ofproto::portable::port::FLOOD;
            assert_eq!(sent[0].packet_out(), Some((vec![2, flood], &b"frame"[..])), "version {version}");
        }
    }

    /// Records the port status messages it gets.
    #[derive(Default)]
    struct PortWatcher {
        seen: Vec<crate::PortStatus>,
    }

    impl App for PortWatcher {
        const NAME: &'static str = "port-watcher";
        type Config = ();

        fn new(_: &Context, _: ()) -> Result<Self, BoxError> {
            Ok(PortWatcher::default())
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers.on_message::<crate::PortStatus>(
                |app: &mut PortWatcher, _: &Context, _: &crate::Datapath, status: crate::PortStatus| {
                    app.seen.push(status);
                },
            );
        }
    }

    #[test]
    fn port_status_reaches_the_app_in_every_version_and_the_kit_keeps_the_port_list() {
        for version in tatsu_ofproto::SUPPORTED_VERSIONS.iter().copied() {
            let mut kit = TestKit::<PortWatcher>::new().unwrap_or_else(|e| panic!("{e}"));
            kit.connect(1, version, &[1, 2]);
            let mut down = port(1, 2);
            down.state = 1;
            kit.port_status(1, 2, &down);
            kit.port_status(1, 1, &port(1, 1));
            let seen = &kit.app().seen;
            assert_eq!(seen.len(), 2, "version {version}");
            assert_eq!((seen[0].reason, &seen[0].port), (tatsu_ofproto::portable::PortReason::Modify, &down));
            assert_eq!(seen[1].reason, tatsu_ofproto::portable::PortReason::Delete);
            let ports = kit.context().datapath(1).map(|info| info.ports).unwrap_or_default();
            assert_eq!(ports, [down], "version {version}");
        }
    }

    /// Records the role status messages (1.4 and 1.5) and 1.3-layout packet-ins (1.3 to 1.5) it gets.
    #[derive(Default)]
    struct StatusWatcher {
        roles: Vec<(u32, u32)>,
        packet_ins: usize,
    }

    impl App for StatusWatcher {
        const NAME: &'static str = "status-watcher";
        type Config = ();

        fn new(_: &Context, _: ()) -> Result<Self, BoxError> {
            Ok(StatusWatcher::default())
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers
                .on_message::<v1_4::RoleStatus>(
                    |app: &mut StatusWatcher,
                     _: &Context,
                     _: &crate::Datapath,
                     status: crate::openflow::Incoming<v1_4::RoleStatus>| {
                        app.roles.push((status.xid, status.message.role));
                    },
                )
                .on_message::<v1_3::PacketIn>(
                    |app: &mut StatusWatcher,
                     _: &Context,
                     _: &crate::Datapath,
                     _: crate::openflow::Incoming<v1_3::PacketIn>| {
                        app.packet_ins += 1;
                    },
                );
        }
    }

    #[test]
    fn a_version_specific_struct_reaches_its_handler_in_every_version_that_carries_it() {
        let mut kit = TestKit::<StatusWatcher>::new().unwrap_or_else(|e| panic!("{e}"));
        kit.connect(4, tatsu_ofproto::OFP_VERSION_1_4, &[1]);
        kit.connect(5, OFP_VERSION_1_5, &[1]);
        kit.connect(2, OFP_VERSION_1_2, &[1]);
        let status = v1_4::RoleStatus { role: 2, ..Default::default() };
        kit.receive_bytes(4, &Message::V1_4(v1_4::Message::RoleStatus(status.clone())).to_vec(7).unwrap_or_default());
        kit.receive_bytes(5, &Message::V1_5(v1_5::Message::RoleStatus(status)).to_vec(8).unwrap_or_default());
        assert_eq!(kit.app().roles, [(7, 2), (8, 2)]);
        for dpid in [4, 5, 2] {
            kit.packet_in(dpid, 1, b"frame");
        }
        assert_eq!(kit.app().packet_ins, 2, "1.2's packet-in is a struct of its own");
        assert!(kit.faults().is_empty(), "{:?}", kit.faults());
    }

    /// Records its roles, and on each role event tries a flow-mod and a statistics request.
    #[derive(Default)]
    struct RoleWatcher {
        roles: Vec<(u64, crate::Role, u64)>,
        sends: Vec<Result<(), crate::OfErrorKind>>,
    }

    impl App for RoleWatcher {
        const NAME: &'static str = "role-watcher";
        type Config = ();

        fn new(_: &Context, _: ()) -> Result<Self, BoxError> {
            Ok(RoleWatcher::default())
        }

        fn register(&self, handlers: &mut Handlers<Self>) {
            handlers.on_role(|app: &mut RoleWatcher, ctx: &Context, change: &crate::RoleChange| {
                app.roles.push((change.dpid, change.role, change.generation));
                let datapath = ctx.datapath_handle(change.dpid, tatsu_ofproto::OFP_VERSION_1_3);
                let sent = datapath.send(crate::FlowMod::add(crate::Match::new()).priority(0));
                app.sends.push(sent.map_err(|e| e.kind()));
            });
        }
    }

    #[test]
    fn a_single_host_is_master_once_and_a_cluster_slave_is_refused_changes() {
        let mut kit = TestKit::<RoleWatcher>::new().unwrap_or_else(|e| panic!("{e}"));
        kit.connect(1, tatsu_ofproto::OFP_VERSION_1_3, &[1]);
        assert_eq!(kit.app().roles, [(1, crate::Role::Master, 0)]);
        assert_eq!(kit.context().role(1).map(|r| r.role), Some(crate::Role::Master));
        assert_eq!(kit.context().cluster_node(), None);

        let mut kit =
            TestKit::<RoleWatcher>::in_cluster("h1", serde_json::Value::Null).unwrap_or_else(|e| panic!("{e}"));
        kit.connect(2, tatsu_ofproto::OFP_VERSION_1_3, &[1]);
        assert!(kit.app().roles.is_empty(), "no role before the election");
        assert_eq!(kit.context().role(2).map(|r| r.role), Some(crate::Role::Equal));
        kit.set_role(2, crate::Role::Slave, 7);
        kit.set_role(2, crate::Role::Master, 9);
        assert_eq!(kit.app().roles, [(2, crate::Role::Slave, 7), (2, crate::Role::Master, 9)]);
        assert_eq!(kit.app().sends, [Err(crate::OfErrorKind::NotMaster), Ok(())]);
        assert_eq!(kit.take_sent().len(), 1, "only the master's flow-mod went out");
        assert_eq!(kit.context().cluster_node().as_deref(), Some("h1"));
        // A slave's reads work.
        kit.set_role(2, crate::Role::Slave, 9);
        kit.answer_switch_requests(|_, _| vec![Message::V1_3(v1_3::Message::BarrierReply)]);
        let barrier = kit
            .context()
            .datapath_handle(2, tatsu_ofproto::OFP_VERSION_1_3)
            .request(crate::ofproto::portable::Barrier, Duration::from_secs(1));
        assert!(barrier.is_ok(), "{barrier:?}");
    }

    #[test]
    fn the_kit_store_gets_puts_swaps_and_watches_and_can_be_lost() {
        let kit = TestKit::<RoleWatcher>::new().unwrap_or_else(|e| panic!("{e}"));
        let kv = kit.context().kv();
        let listing = kv.list("").unwrap_or_else(|e| panic!("{e}"));
        let mut watch = kv.watch("a/", listing.revision).unwrap_or_else(|e| panic!("{e}"));
        assert!(kv.compare_and_swap("a/1", None, b"x").unwrap_or_default());
        assert!(!kv.compare_and_swap("a/1", None, b"y").unwrap_or(true));
        kv.put("b", b"elsewhere").unwrap_or_else(|e| panic!("{e}"));
        kv.put_json("a/2", &[1, 2], true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kv.get_json::<Vec<u8>>("a/2").ok().flatten(), Some(vec![1, 2]));
        let mut kit = kit;
        kit.set_kv_unavailable(Some("etcd lost"));
        assert_eq!(kv.delete("a/1").map_err(|e| e.kind()), Err(crate::KvErrorKind::Unavailable));
        assert_eq!(watch.next(Duration::ZERO).map(|c| c.len()), Ok(0));
        kit.set_kv_unavailable(None);
        assert!(kv.delete("a/1").unwrap_or_default());
        let keys: Vec<(String, bool)> =
            watch.next(Duration::ZERO).unwrap_or_default().into_iter().map(|c| (c.key, c.value.is_some())).collect();
        assert_eq!(keys, [("a/1".to_owned(), true), ("a/2".to_owned(), true), ("a/1".to_owned(), false)]);
        assert_eq!(kv.get("").map_err(|e| e.kind()), Err(crate::KvErrorKind::InvalidKey));
    }
}
