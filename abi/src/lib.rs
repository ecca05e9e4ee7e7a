//! # tatsu-abi
//!
//! The stable interface between the `tatsu` host and app libraries: the only types that cross between them.
//!
//! Everything here is `#[repr(C)]` and derives [`StableAbi`], so that abi_stable can check, when the host loads a
//! library, that both sides agree on every type's layout. The host depends on this crate (and the codec), never on
//! the app SDK; app authors never use it directly: `tatsu-plugin-api` wraps it in a safe layer.
//!
//! Two tables cross the boundary:
//! - [`AppModule`], the library's root module, exported by plugin-api's `export_app!`: describes the app and
//!   creates it.
//! - [`HostServices`], the host's callbacks (logging, the event bus, green threads), handed to the app at creation.
//!
//! Both are prefix types, so later interface versions can append fields without breaking older libraries.
//! Events cross as [`EventRef`]s, one variant per kind of event, borrowed for one call; datapaths as typed
//! [`DatapathDesc`]s. App payloads (app events, requests, saved state) are JSON text: their types belong to apps.

// abi_stable's `sabi_trait` expansion implements a foreign trait inside a const block.
#![allow(non_local_definitions)]

use std::ffi::c_void;

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec},
    StableAbi,
};

/// The interface version: a library loads only into a host that speaks a compatible version
/// (same major version; abi_stable's rules). Bump the major version on any change that is not an appended field.
#[cfg(not(feature = "simulate-foreign-interface-version"))]
pub const INTERFACE_VERSION: &str = "5.0.0";
/// A deliberately different interface version (the previous one), used only by the host's tests to build a
/// library that the host must refuse.
#[cfg(feature = "simulate-foreign-interface-version")]
pub const INTERFACE_VERSION: &str = "4.0.0";

/// The root module every app library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = AppModuleRef)))]
#[sabi(missing_field(panic))]
pub struct AppModule {
    /// Describes the app: name, version, the apps it requires.
    pub describe: extern "C" fn() -> AppDescriptor,
    /// Creates the app object from its configuration section (JSON text). Never unwinds.
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(host: HostContext, config_json: RStr<'_>) -> RResult<AppObjectBox, RString>,
}

impl RootModule for AppModuleRef {
    declare_root_module_statics! {AppModuleRef}
    const BASE_NAME: &'static str = "tatsu_app";
    const NAME: &'static str = "tatsu_app";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(INTERFACE_VERSION);
}

/// The static description of an app.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AppDescriptor {
    /// Unique app name; also the log target of everything the app logs.
    pub name: RString,
    /// The app crate's own version.
    pub version: RString,
    /// One line saying what the app does.
    pub description: RString,
    /// Apps that must be loaded and started before this one (Ryu's `require_app`).
    pub requires: RVec<RString>,
    /// Started when no `--app` names the apps to start; `false`: only when named (or required by one that is).
    pub autostart: bool,
    /// The version of the `tatsu-plugin-api` crate the library was built with (informative).
    pub api_crate_version: RString,
}

/// What the host hands an app at creation: its services table and the app's own handle.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct HostContext {
    /// The host's callbacks.
    pub services: HostServicesRef,
    /// The host's handle for this app; passed back on every callback.
    pub app: AppHandle,
}

/// An opaque host-owned handle for one loaded app, valid for the life of the process.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct AppHandle(pub *const c_void);

// SAFETY: the handle is an opaque token the host resolves; it points at host data that lives (and is synchronised)
// for the whole process.
unsafe impl Send for AppHandle {}
// SAFETY: as above.
unsafe impl Sync for AppHandle {}

/// An opaque, reference-counted host-owned handle for one green thread.
/// Cloned with [`HostServices::thread_clone`], released with [`HostServices::thread_release`].
#[repr(transparent)]
#[derive(StableAbi, Debug)]
pub struct ThreadHandle(pub *const c_void);

// SAFETY: the host's thread slot is reference counted and internally synchronised.
unsafe impl Send for ThreadHandle {}
// SAFETY: as above.
unsafe impl Sync for ThreadHandle {}

/// How a blocking host call ended.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// Woken (by an unpark, or the operation completed).
    Woken = 0,
    /// The timeout elapsed.
    TimedOut = 1,
    /// The calling green thread must stop: its app is stopping, or the thread was asked to stop.
    Stopping = 2,
    /// The thread was interrupted once with [`HostServices::thread_interrupt`] (a `Timeout` expired).
    Interrupted = 3,
}

/// A unit of work handed to the host to run on a new green thread.
///
/// `run` consumes `data`; if the host can never run the task it calls `drop` instead. Exactly one of the two is
/// called, once. Both are defined on the app side and never unwind.
#[repr(C)]
#[derive(StableAbi)]
pub struct GreenTask {
    /// The closure's state, owned by the task.
    pub data: *mut c_void,
    /// Runs the closure (and frees `data`).
    pub run: unsafe extern "C" fn(data: *mut c_void),
    /// Frees `data` without running it.
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

// SAFETY: tasks are built only from `Send` closures (see plugin-api's `green::spawn`).
unsafe impl Send for GreenTask {}

/// Why a request to another app failed.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    /// No app serves this request name.
    NoServer = 0,
    /// The serving app's queue was full.
    QueueFull = 1,
    /// No reply came before the timeout.
    TimedOut = 2,
    /// The serving app's handler returned an error (the message is in `detail`).
    Failed = 3,
    /// The requesting green thread must stop.
    Stopping = 4,
    /// The requesting green thread was interrupted (a `Timeout` expired).
    Interrupted = 5,
    /// No datapath with this id is connected.
    UnknownDatapath = 6,
    /// The datapath's send queue is full.
    SendQueueFull = 7,
    /// The datapath disconnected before it answered.
    Disconnected = 8,
    /// This host is the datapath's slave (in a cluster): only its master may send what changes the switch.
    NotMaster = 9,
}

/// A failed request: the kind of failure and a human-readable detail.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct RequestError {
    /// What went wrong.
    pub failure: RequestFailure,
    /// Detail for the log or the caller.
    pub detail: RString,
}

/// The host's services, called by apps. Every function takes the calling app's [`AppHandle`] first.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostServicesRef)))]
#[sabi(missing_field(panic))]
pub struct HostServices {
    /// Logs a record (`level` as `log::Level as u8`, `module` is the Rust module path inside the app).
    pub log: extern "C" fn(app: AppHandle, level: u8, module: RStr<'_>, message: RStr<'_>),
    /// The most verbose level the host's filter lets through for this app (`log::LevelFilter as u8`).
    pub log_max_level: extern "C" fn(app: AppHandle) -> u8,
    /// Reports that an app handler panicked or failed, for the host to log and count.
    pub report_fault: extern "C" fn(app: AppHandle, event: RStr<'_>, message: RStr<'_>),
    /// Publishes an app event to every app subscribed to `name`. Never blocks.
    pub publish: extern "C" fn(app: AppHandle, name: RStr<'_>, payload_json: RStr<'_>),
    /// Sends a request to the app that serves `name` and parks until its reply, the timeout or a stop.
    pub request: extern "C" fn(
        app: AppHandle,
        name: RStr<'_>,
        payload_json: RStr<'_>,
        timeout_ns: u64,
    ) -> RResult<RString, RequestError>,
    /// Answers request `request_id` (an [`EventRef::Request`]); `Err` carries the handler's error message.
    pub reply: extern "C" fn(app: AppHandle, request_id: u64, result: RResult<RStr<'_>, RStr<'_>>),
    /// Runs `task` on a new green thread in the app's thread group; returns the thread's handle.
    pub spawn: extern "C" fn(app: AppHandle, task: GreenTask) -> RResult<ThreadHandle, RString>,
    /// The calling green thread's handle.
    pub current_thread: extern "C" fn(app: AppHandle) -> ThreadHandle,
    /// Adds a reference to a thread handle.
    pub thread_clone: extern "C" fn(thread: &ThreadHandle) -> ThreadHandle,
    /// Releases a reference to a thread handle.
    pub thread_release: extern "C" fn(thread: &mut ThreadHandle),
    /// Wakes the thread if it is parked (or makes its next park return at once).
    pub thread_unpark: extern "C" fn(thread: &ThreadHandle),
    /// Asks the thread to stop: its current or next blocking call returns [`WaitStatus::Stopping`].
    pub thread_stop: extern "C" fn(thread: &ThreadHandle),
    /// Whether the thread has finished.
    pub thread_finished: extern "C" fn(thread: &ThreadHandle) -> bool,
    /// Interrupts the thread once: its current or next blocking call returns [`WaitStatus::Interrupted`].
    pub thread_interrupt: extern "C" fn(thread: &ThreadHandle),
    /// Parks the calling green thread until unparked, the timeout (`u64::MAX`: none) or a stop.
    pub park: extern "C" fn(app: AppHandle, timeout_ns: u64) -> WaitStatus,
    /// Sleeps the calling green thread; returns early only with [`WaitStatus::Stopping`].
    pub sleep: extern "C" fn(app: AppHandle, duration_ns: u64) -> WaitStatus,
    /// Lets other green threads run.
    pub yield_now: extern "C" fn(app: AppHandle) -> WaitStatus,
    /// Queues an OpenFlow message (wire bytes, header included) for a datapath; an xid of 0 is replaced by a
    /// fresh one. Never blocks.
    pub of_send: extern "C" fn(app: AppHandle, dpid: u64, message: RSlice<'_, u8>) -> RResult<(), RequestError>,
    /// Sends an OpenFlow request under a fresh xid and parks until its reply (every part of a multipart reply,
    /// back to back; or the switch's error message), the timeout or a stop.
    pub of_request: extern "C" fn(
        app: AppHandle,
        dpid: u64,
        message: RSlice<'_, u8>,
        timeout_ns: u64,
    ) -> RResult<RVec<u8>, RequestError>,
    /// The datapaths in state MAIN.
    pub datapaths: extern "C" fn(app: AppHandle) -> RVec<DatapathDesc>,
    /// Datapath `dpid`, if it is in state MAIN.
    pub datapath: extern "C" fn(app: AppHandle, dpid: u64) -> ROption<DatapathDesc>,
    /// Answers HTTP request `request_id` (an [`EventRef::Http`] event) with a status, a content type and a body.
    pub http_reply:
        extern "C" fn(app: AppHandle, request_id: u64, status: u16, content_type: RStr<'_>, body: RSlice<'_, u8>),
    /// Connects to `address` (`host:port`), parking until connected, the timeout or a stop.
    pub tcp_connect:
        extern "C" fn(app: AppHandle, address: RStr<'_>, timeout_ns: u64) -> RResult<SocketHandle, IoFailure>,
    /// Listens on `address` (`host:port`; port 0 picks one).
    pub tcp_listen: extern "C" fn(app: AppHandle, address: RStr<'_>) -> RResult<SocketHandle, IoFailure>,
    /// Accepts a connection, parking until one comes, the timeout or a stop.
    pub tcp_accept:
        extern "C" fn(app: AppHandle, listener: &SocketHandle, timeout_ns: u64) -> RResult<Accepted, IoFailure>,
    /// Reads into `buffer`, parking until some bytes (0: the peer closed), the timeout or a stop.
    pub tcp_read: extern "C" fn(
        app: AppHandle,
        socket: &SocketHandle,
        buffer: RSliceMut<'_, u8>,
        timeout_ns: u64,
    ) -> RResult<usize, IoFailure>,
    /// Writes some of `data`, parking until the socket takes some, the timeout or a stop.
    pub tcp_write: extern "C" fn(
        app: AppHandle,
        socket: &SocketHandle,
        data: RSlice<'_, u8>,
        timeout_ns: u64,
    ) -> RResult<usize, IoFailure>,
    /// The socket's own (`peer` false) or its peer's address.
    pub tcp_address: extern "C" fn(socket: &SocketHandle, peer: bool) -> RResult<RString, IoFailure>,
    /// Shuts down reading (0), writing (1) or both (2).
    pub tcp_shutdown: extern "C" fn(socket: &SocketHandle, how: u8) -> RResult<(), IoFailure>,
    /// Another handle on the same socket (to read and write from different green threads).
    pub tcp_clone: extern "C" fn(socket: &SocketHandle) -> SocketHandle,
    /// Releases a handle; the socket closes with its last handle.
    #[sabi(last_prefix_field)]
    pub tcp_close: extern "C" fn(socket: &mut SocketHandle),
    /// Queues a message (text if not `binary`) for every client connected to WebSocket `path`, which the app
    /// serves; returns how many clients it was queued for. Never blocks: a client whose send queue is full is
    /// disconnected instead.
    pub websocket_broadcast:
        extern "C" fn(app: AppHandle, path: RStr<'_>, message: RSlice<'_, u8>, binary: bool) -> RResult<u64, RString>,
    /// Queues a message for one client of WebSocket `path` (its number from a [`WebSocketEventRef`]). Never blocks.
    pub websocket_send: extern "C" fn(
        app: AppHandle,
        path: RStr<'_>,
        client: u64,
        message: RSlice<'_, u8>,
        binary: bool,
    ) -> RResult<(), RString>,
    /// Starts the close handshake with one client of WebSocket `path`, with a close code (1000, or 3000-4999) and
    /// a reason (at most 123 bytes). Never blocks.
    pub websocket_close:
        extern "C" fn(app: AppHandle, path: RStr<'_>, client: u64, code: u16, reason: RStr<'_>) -> RResult<(), RString>,
    /// This host's role for datapath `dpid`, if it is in state MAIN (a single host is master of every datapath).
    pub datapath_role: extern "C" fn(app: AppHandle, dpid: u64) -> ROption<RoleEventRef>,
    /// This host's node id in a cluster; none for a single host.
    pub cluster_node: extern "C" fn(app: AppHandle) -> ROption<RString>,
    /// The value of `key` in the app's key-value store (under the app's own prefix). Parks the calling green thread
    /// (etcd) until the answer, the call's timeout or a stop.
    pub kv_get: extern "C" fn(app: AppHandle, key: RStr<'_>) -> RResult<ROption<KvEntry>, KvError>,
    /// Every key of the app's store that starts with `prefix`, in key order, and the store's revision. Parks.
    pub kv_list: extern "C" fn(app: AppHandle, prefix: RStr<'_>) -> RResult<KvListing, KvError>,
    /// Sets `key`; `ephemeral` keys go when this host leaves or dies (its cluster lease). Returns the revision of
    /// the change. Parks.
    pub kv_put:
        extern "C" fn(app: AppHandle, key: RStr<'_>, value: RSlice<'_, u8>, ephemeral: bool) -> RResult<i64, KvError>,
    /// Deletes `key`; `true` if it existed. Parks.
    pub kv_delete: extern "C" fn(app: AppHandle, key: RStr<'_>) -> RResult<bool, KvError>,
    /// Sets `key` to `new` only if it holds `expected` now (none: only if it does not exist); `true` if it did.
    /// Parks.
    pub kv_compare_and_swap: extern "C" fn(
        app: AppHandle,
        key: RStr<'_>,
        expected: ROption<RSlice<'_, u8>>,
        new: RSlice<'_, u8>,
        ephemeral: bool,
    ) -> RResult<bool, KvError>,
    /// Watches the keys of the app's store that start with `prefix`, for changes after revision `after` (0: from
    /// now). Parks while it connects.
    pub kv_watch: extern "C" fn(app: AppHandle, prefix: RStr<'_>, after: i64) -> RResult<KvWatchHandle, KvError>,
    /// The watch's next changes, parking until some come, the timeout (an empty list) or a stop. While etcd is
    /// lost the watch waits, and resumes where it was when etcd returns.
    pub kv_watch_next:
        extern "C" fn(app: AppHandle, watch: &KvWatchHandle, timeout_ns: u64) -> RResult<RVec<KvChange>, KvError>,
    /// Ends a watch and releases its handle.
    pub kv_watch_close: extern "C" fn(watch: &mut KvWatchHandle),
    /// Sends `messages` (whole OpenFlow messages, back to back) to datapath `dpid` in order and together, each under
    /// a fresh xid (a bundle add's carried message under its add's), and parks until the last one is answered (its
    /// whole reply, or the switch's error), the timeout or a stop. Until then it gathers every message the switch
    /// sends under any of their xids, or under `also_gather` (xids an earlier transaction on this datapath
    /// returned, which no other request waits under: a bundle commit's errors name the added messages). Nothing is
    /// sent if any message is malformed or the send queue cannot take them all.
    pub of_transaction: extern "C" fn(
        app: AppHandle,
        dpid: u64,
        messages: RSlice<'_, u8>,
        also_gather: RSlice<'_, u32>,
        timeout_ns: u64,
    ) -> RResult<OfTransaction, RequestError>,
}

/// What [`HostServices::of_transaction`] gathered.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default)]
pub struct OfTransaction {
    /// The xid each message was sent under, in message order.
    pub xids: RVec<u32>,
    /// Every message the switch sent under those xids (or `also_gather`), back to back, in arrival order.
    pub replies: RVec<u8>,
}

/// This host's role for one datapath: in role events and [`HostServices::datapath_role`].
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleEventRef {
    /// The datapath.
    pub dpid: u64,
    /// The role.
    pub role: DatapathRole,
    /// The master's generation id (the election's; 0 for a single host).
    pub generation: u64,
}

/// A controller's role for a datapath (OpenFlow's roles).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatapathRole {
    /// Not decided yet (the switch treats this host as an equal: everything goes).
    Equal = 0,
    /// This host is master: it makes the changes.
    Master = 1,
    /// Another host is master: sends that change the switch fail with [`RequestFailure::NotMaster`].
    Slave = 2,
}

/// One key of an app's key-value store.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// The key, without the app's prefix.
    pub key: RString,
    /// The value.
    pub value: RVec<u8>,
    /// The revision of its last change.
    pub revision: i64,
}

/// The keys under a prefix and the store's revision when they were read (to watch from).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct KvListing {
    /// The keys, in key order.
    pub entries: RVec<KvEntry>,
    /// The store's revision.
    pub revision: i64,
}

/// A change a watch saw.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct KvChange {
    /// The key, without the app's prefix.
    pub key: RString,
    /// The new value; none: the key was deleted (or its host's lease went).
    pub value: ROption<RVec<u8>>,
    /// The revision of the change.
    pub revision: i64,
}

/// The kinds of key-value failure.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvFailure {
    /// etcd cannot be reached or has no quorum (or this host has no lease for an ephemeral key).
    Unavailable = 0,
    /// The key is empty or not a valid key.
    InvalidKey = 1,
    /// The calling green thread must stop.
    Stopping = 2,
    /// The calling green thread was interrupted (a `Timeout` expired).
    Interrupted = 3,
    /// The watch's start revision is gone (compacted): list again and watch from there.
    Compacted = 4,
    /// Anything else (etcd refused the call).
    Other = 5,
}

/// A failed key-value call.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct KvError {
    /// What kind of failure.
    pub failure: KvFailure,
    /// The message.
    pub detail: RString,
}

/// An opaque host-owned watch, released with [`HostServices::kv_watch_close`].
#[repr(transparent)]
#[derive(StableAbi, Debug)]
pub struct KvWatchHandle(pub *const c_void);

// SAFETY: the host's watch object is internally synchronised and may be used from any green thread.
unsafe impl Send for KvWatchHandle {}
// SAFETY: as above.
unsafe impl Sync for KvWatchHandle {}

/// An opaque, reference-counted host-owned TCP socket (stream or listener).
#[repr(transparent)]
#[derive(StableAbi, Debug)]
pub struct SocketHandle(pub *const c_void);

// SAFETY: the host's socket object is reference counted and safe to use from any green thread.
unsafe impl Send for SocketHandle {}
// SAFETY: as above.
unsafe impl Sync for SocketHandle {}

/// A connection accepted by [`HostServices::tcp_accept`].
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct Accepted {
    /// The connected socket.
    pub socket: SocketHandle,
    /// The peer's address.
    pub peer: RString,
}

/// The kinds of I/O failure (a subset of `std::io::ErrorKind`, plus stop and interrupt).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoFailureKind {
    /// Anything else.
    Other = 0,
    /// The timeout elapsed.
    TimedOut = 1,
    /// The green thread must stop.
    Stopping = 2,
    /// The green thread was interrupted (a `Timeout` expired).
    Interrupted = 3,
    /// Connection refused.
    ConnectionRefused = 4,
    /// Connection reset by the peer.
    ConnectionReset = 5,
    /// Connection aborted.
    ConnectionAborted = 6,
    /// Broken pipe.
    BrokenPipe = 7,
    /// Address in use.
    AddrInUse = 8,
    /// Address not available.
    AddrNotAvailable = 9,
    /// Invalid input (e.g. an address that does not parse).
    InvalidInput = 10,
    /// Not connected.
    NotConnected = 11,
}

/// A failed I/O operation.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct IoFailure {
    /// What kind of failure.
    pub kind: IoFailureKind,
    /// The message.
    pub message: RString,
}

/// Datapath states, as bits so that subscriptions can name several (Ryu's dispatchers).
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatapathStates(pub u32);

impl DatapathStates {
    /// Connected, exchanging HELLO.
    pub const HANDSHAKE: DatapathStates = DatapathStates(1);
    /// Version agreed; features and configuration being exchanged.
    pub const CONFIG: DatapathStates = DatapathStates(2);
    /// Ready: the normal state.
    pub const MAIN: DatapathStates = DatapathStates(4);
    /// Disconnected.
    pub const DEAD: DatapathStates = DatapathStates(8);
    /// Every state.
    pub const ANY: DatapathStates = DatapathStates(15);

    /// The state's name: `handshake`, `config`, `main` or `dead` (for one state bit; `several` otherwise).
    pub const fn name(self) -> &'static str {
        match self {
            DatapathStates::HANDSHAKE => "handshake",
            DatapathStates::CONFIG => "config",
            DatapathStates::MAIN => "main",
            DatapathStates::DEAD => "dead",
            _ => "several",
        }
    }

    /// Whether the two sets share a state.
    pub const fn overlaps(self, other: DatapathStates) -> bool {
        self.0 & other.0 != 0
    }
}

/// What happened to a datapath, in a datapath event.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatapathChange {
    /// It became ready (entered MAIN), newly connected or inherited in a hot restart.
    Enter = 0,
    /// It left MAIN: disconnected, or replaced by a new connection of the same datapath.
    Leave = 1,
    /// Its connection changed state (HANDSHAKE, CONFIG, MAIN, DEAD).
    State = 2,
}

/// One switch port, as the switch last described it.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PortDesc {
    /// Port number (OpenFlow 1.0's 16-bit numbers widened).
    pub port_no: u32,
    /// Ethernet address.
    pub hw_addr: [u8; 6],
    /// Name.
    pub name: RString,
    /// `OFPPC_*` bits.
    pub config: u32,
    /// `OFPPS_*` bits.
    pub state: u32,
    /// Current features (`OFPPF_*`).
    pub curr: u32,
    /// Features advertised.
    pub advertised: u32,
    /// Features supported.
    pub supported: u32,
    /// Features advertised by the peer.
    pub peer: u32,
    /// Current speed in kb/s (1.3; 0 for 1.0).
    pub curr_speed: u32,
    /// Maximum speed in kb/s (1.3; 0 for 1.0).
    pub max_speed: u32,
}

/// A switch connection as the host knows it: in datapath events and [`HostServices::datapaths`].
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct DatapathDesc {
    /// Datapath id (0 until the switch said it).
    pub dpid: u64,
    /// The switch's address (`ip:port`).
    pub address: RString,
    /// The host's number for this connection (a reconnecting switch gets a new one).
    pub connection: u64,
    /// Negotiated wire version (0 before negotiation).
    pub version: u8,
    /// The connection's state (one [`DatapathStates`] bit).
    pub state: DatapathStates,
    /// Packets the switch can buffer.
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// `OFPC_*` capabilities.
    pub capabilities: u32,
    /// Ports, by port number (empty in state events).
    pub ports: RVec<PortDesc>,
    /// Why the datapath left or died, in leave and DEAD state events.
    pub reason: ROption<RString>,
    /// In an enter event: the datapath was inherited from the previous host in a hot restart (its connection,
    /// flows and state carried on), rather than newly connected.
    pub resumed: bool,
    /// On a TLS connection, the subject of the switch's certificate (verified against the host's CA), as
    /// "C=US, O=Open vSwitch, CN=..."; `RNone` on plain TCP.
    pub tls_subject: ROption<RString>,
}

/// An app event: published by `source` under `name`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct AppEventRef<'a> {
    /// The event's name.
    pub name: RStr<'a>,
    /// The publishing app.
    pub source: RStr<'a>,
    /// The payload, JSON.
    pub payload_json: RStr<'a>,
}

/// A request from another app, to answer with [`HostServices::reply`] under `id`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct RequestRef<'a> {
    /// What to pass back to [`HostServices::reply`].
    pub id: u64,
    /// The request's name.
    pub name: RStr<'a>,
    /// The requesting app.
    pub source: RStr<'a>,
    /// The payload, JSON.
    pub payload_json: RStr<'a>,
}

/// An OpenFlow message a datapath sent.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct OpenFlowRef<'a> {
    /// The datapath (0 before the switch said its id, in HANDSHAKE).
    pub dpid: u64,
    /// The datapath's state when the message arrived (one [`DatapathStates`] bit).
    pub state: DatapathStates,
    /// The message's wire bytes, header included.
    pub message: RSlice<'a, u8>,
}

/// A datapath lifecycle event.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct DatapathEventRef<'a> {
    /// What happened.
    pub change: DatapathChange,
    /// The datapath, as it is now.
    pub datapath: &'a DatapathDesc,
}

/// One parameter of an HTTP route (`{name}` in the pattern), percent-decoded.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct HttpParam<'a> {
    /// The parameter's name.
    pub name: RStr<'a>,
    /// Its value.
    pub value: RStr<'a>,
}

/// An HTTP request to a route the app serves, to answer with [`HostServices::http_reply`] under `id`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct HttpRequestRef<'a> {
    /// What to pass back to [`HostServices::http_reply`].
    pub id: u64,
    /// The route as the app registered it, `METHOD /path/{param}`.
    pub route: RStr<'a>,
    /// `GET`, `POST`, ...
    pub method: RStr<'a>,
    /// The path, percent-encoded as received, without the query.
    pub path: RStr<'a>,
    /// The raw query string (after `?`; empty if none).
    pub query: RStr<'a>,
    /// The route's parameters.
    pub params: RSlice<'a, HttpParam<'a>>,
    /// The request's `Content-Type`.
    pub content_type: ROption<RStr<'a>>,
    /// The body.
    pub body: RSlice<'a, u8>,
}

/// What happened on a WebSocket connection, in a WebSocket event.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebSocketKind {
    /// A client connected (the handshake is done).
    Open = 0,
    /// A whole text message (`data` is UTF-8, checked by the host).
    Text = 1,
    /// A whole binary message.
    Binary = 2,
    /// The client disconnected, or was disconnected; it gets no more messages.
    Close = 3,
}

/// A WebSocket client connected, sent a message, or left.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct WebSocketEventRef<'a> {
    /// The path as the app registered it.
    pub path: RStr<'a>,
    /// The host's number for this client connection, to pass to [`HostServices::websocket_send`].
    pub client: u64,
    /// What happened.
    pub kind: WebSocketKind,
    /// The message (empty for `Open` and `Close`).
    pub data: RSlice<'a, u8>,
}

/// One event, borrowed for the duration of an [`AppObject::handle_batch`] call.
///
/// The host delivers only the kinds of events an app subscribed to. A new kind changes this type's layout, which
/// abi_stable checks at load: it takes a major interface version.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub enum EventRef<'a> {
    /// An app event.
    App(AppEventRef<'a>),
    /// A request from another app.
    Request(RequestRef<'a>),
    /// An OpenFlow message from a datapath.
    OpenFlow(OpenFlowRef<'a>),
    /// A datapath lifecycle event.
    Datapath(DatapathEventRef<'a>),
    /// An HTTP request.
    Http(HttpRequestRef<'a>),
    /// The state the app's predecessor saved before a hot restart, JSON.
    Restore(RStr<'a>),
    /// A WebSocket client connected, sent a message, or left.
    WebSocket(WebSocketEventRef<'a>),
    /// This host's role for a datapath was decided or changed.
    Role(RoleEventRef),
}

/// What an app wants delivered to it.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// App events named so.
    AppEvent(RString),
    /// Requests named so; one app serves a name.
    Request(RString),
    /// OpenFlow messages of one wire version and type, received while the datapath is in one of `states`.
    OpenFlow {
        /// Wire version.
        version: u8,
        /// Message type.
        msg_type: u8,
        /// The datapath states in which the app wants them.
        states: DatapathStates,
    },
    /// Datapath lifecycle events of one kind.
    Datapath(DatapathChange),
    /// HTTP requests to a route.
    Http {
        /// `GET`, `POST`, ...
        method: RString,
        /// `/path/{param}`: `{name}` matches one segment.
        pattern: RString,
    },
    /// A WebSocket path (literal, no parameters) the app serves; one app serves a path.
    WebSocket {
        /// The path, e.g. `/v1.0/topology/ws`.
        path: RString,
        /// Whether the app wants [`EventRef::WebSocket`] events (clients' messages, opens and closes); without,
        /// it only pushes.
        events: bool,
    },
    /// Role events ([`EventRef::Role`]): this host's role for each datapath, when it is decided and when it
    /// changes (a single host: master, once per datapath entering MAIN).
    Role,
}

/// The app object the host drives: start, batches of events, stop.
///
/// Implemented only by plugin-api's adapter around an app's `App`; every method catches panics on the app
/// side and reports them instead of unwinding.
#[sabi_trait]
pub trait AppObject: Send {
    /// The events this app subscribes to.
    fn subscriptions(&self) -> RVec<Subscription>;
    /// Runs the app's start hook.
    fn start(&mut self) -> RResult<(), RString>;
    /// Runs the matching handlers for each event, in order.
    fn handle_batch(&mut self, events: RSlice<'_, EventRef<'_>>);
    /// Runs the app's `save_state` hook before a hot restart: JSON, or nothing.
    fn save_state(&mut self) -> ROption<RString>;
    /// Runs the app's stop hook.
    #[sabi(last_prefix_field)]
    fn stop(&mut self) -> RResult<(), RString>;
}

/// The boxed, type-erased app object.
pub type AppObjectBox = AppObject_TO<'static, RBox<()>>;

/// Decodes `%XX` escapes (and `+` as a space if `plus_is_space`); invalid escapes are kept as they are. The host
/// decodes HTTP route parameters ([`HttpParam`]) with it, and apps their query parameters, so both sides agree.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
