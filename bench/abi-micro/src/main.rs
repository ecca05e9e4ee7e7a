//! `tatsu-bench-abi-micro LIBRARY`: times `AppObject::handle_batch` crossings into a real app library.
//!
//! The `tatsu` binary has no hook to time its own `handle_batch` calls, so this program stands in for it: it loads
//! the library exactly as the host does (`lib_header_from_path` + `init_root_module`), creates the app with a stub
//! services table (logging off; every other service refuses), and calls `handle_batch` the way the host's event
//! loop does, with batches of 0, 1 and 256 `bench.event` events (the library should be a `bus-sink`, which counts
//! them) and 256 events nobody handles. Prints `BENCH <key> <value>` lines.
//!
//! The stub table must name every host service: when one is added to `HostServices`, add a stub below (the
//! compiler says which).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use abi_stable::library::lib_header_from_path;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec};
use tatsu_plugin_api::abi::{
    Accepted, AppEventRef, AppHandle, AppModuleRef, DatapathDesc, EventRef, GreenTask, HostContext, HostServices,
    IoFailure, IoFailureKind, KvChange, KvEntry, KvError, KvFailure, KvListing, KvWatchHandle, OfTransaction,
    RequestError, RequestFailure, RoleEventRef, SocketHandle, ThreadHandle, WaitStatus,
};

extern "C" fn log(_: AppHandle, _: u8, _: RStr<'_>, _: RStr<'_>) {}
extern "C" fn log_max_level(_: AppHandle) -> u8 {
    0
}
extern "C" fn report_fault(_: AppHandle, event: RStr<'_>, message: RStr<'_>) {
    eprintln!("app fault: {event}: {message}");
}
extern "C" fn publish(_: AppHandle, _: RStr<'_>, _: RStr<'_>) {}
extern "C" fn request(_: AppHandle, _: RStr<'_>, _: RStr<'_>, _: u64) -> RResult<RString, RequestError> {
    RResult::RErr(RequestError { failure: RequestFailure::NoServer, detail: "stub host".into() })
}
extern "C" fn reply(_: AppHandle, _: u64, _: RResult<RStr<'_>, RStr<'_>>) {}
extern "C" fn spawn(_: AppHandle, task: GreenTask) -> RResult<ThreadHandle, RString> {
    // SAFETY: the task is never run, so its own `drop` frees it, once.
    unsafe { (task.drop)(task.data) };
    RResult::RErr("stub host: no green threads".into())
}
extern "C" fn current_thread(_: AppHandle) -> ThreadHandle {
    ThreadHandle(std::ptr::null())
}
extern "C" fn thread_clone(_: &ThreadHandle) -> ThreadHandle {
    ThreadHandle(std::ptr::null())
}
extern "C" fn thread_op(_: &ThreadHandle) {}
extern "C" fn thread_release(_: &mut ThreadHandle) {}
extern "C" fn thread_finished(_: &ThreadHandle) -> bool {
    true
}
extern "C" fn park(_: AppHandle, _: u64) -> WaitStatus {
    WaitStatus::Stopping
}
extern "C" fn yield_now(_: AppHandle) -> WaitStatus {
    WaitStatus::Stopping
}
fn no_datapath() -> RequestError {
    RequestError { failure: RequestFailure::UnknownDatapath, detail: "stub host".into() }
}
extern "C" fn of_send(_: AppHandle, _: u64, _: RSlice<'_, u8>) -> RResult<(), RequestError> {
    RResult::RErr(no_datapath())
}
extern "C" fn of_request(_: AppHandle, _: u64, _: RSlice<'_, u8>, _: u64) -> RResult<RVec<u8>, RequestError> {
    RResult::RErr(no_datapath())
}
extern "C" fn of_transaction(
    _: AppHandle,
    _: u64,
    _: RSlice<'_, u8>,
    _: RSlice<'_, u32>,
    _: u64,
) -> RResult<OfTransaction, RequestError> {
    RResult::RErr(no_datapath())
}
extern "C" fn datapaths(_: AppHandle) -> RVec<DatapathDesc> {
    RVec::new()
}
extern "C" fn datapath(_: AppHandle, _: u64) -> ROption<DatapathDesc> {
    ROption::RNone
}
extern "C" fn http_reply(_: AppHandle, _: u64, _: u16, _: RStr<'_>, _: RSlice<'_, u8>) {}
fn no_socket() -> IoFailure {
    IoFailure { kind: IoFailureKind::Other, message: "the benchmark has no sockets".into() }
}
extern "C" fn tcp_connect(_: AppHandle, _: RStr<'_>, _: u64) -> RResult<SocketHandle, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_listen(_: AppHandle, _: RStr<'_>) -> RResult<SocketHandle, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_accept(_: AppHandle, _: &SocketHandle, _: u64) -> RResult<Accepted, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_read(_: AppHandle, _: &SocketHandle, _: RSliceMut<'_, u8>, _: u64) -> RResult<usize, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_write(_: AppHandle, _: &SocketHandle, _: RSlice<'_, u8>, _: u64) -> RResult<usize, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_address(_: &SocketHandle, _: bool) -> RResult<RString, IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_shutdown(_: &SocketHandle, _: u8) -> RResult<(), IoFailure> {
    RResult::RErr(no_socket())
}
extern "C" fn tcp_clone(socket: &SocketHandle) -> SocketHandle {
    SocketHandle(socket.0)
}
extern "C" fn tcp_close(_: &mut SocketHandle) {}
fn no_websocket() -> RString {
    "the benchmark serves no WebSocket".into()
}
extern "C" fn websocket_broadcast(_: AppHandle, _: RStr<'_>, _: RSlice<'_, u8>, _: bool) -> RResult<u64, RString> {
    RResult::RErr(no_websocket())
}
extern "C" fn websocket_send(_: AppHandle, _: RStr<'_>, _: u64, _: RSlice<'_, u8>, _: bool) -> RResult<(), RString> {
    RResult::RErr(no_websocket())
}
extern "C" fn websocket_close(_: AppHandle, _: RStr<'_>, _: u64, _: u16, _: RStr<'_>) -> RResult<(), RString> {
    RResult::RErr(no_websocket())
}

extern "C" fn datapath_role(_: AppHandle, _: u64) -> ROption<RoleEventRef> {
    ROption::RNone
}
extern "C" fn cluster_node(_: AppHandle) -> ROption<RString> {
    ROption::RNone
}
fn no_kv() -> KvError {
    KvError { failure: KvFailure::Other, detail: "no key-value store in this benchmark".into() }
}
extern "C" fn kv_get(_: AppHandle, _: RStr<'_>) -> RResult<ROption<KvEntry>, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_list(_: AppHandle, _: RStr<'_>) -> RResult<KvListing, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_put(_: AppHandle, _: RStr<'_>, _: RSlice<'_, u8>, _: bool) -> RResult<i64, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_delete(_: AppHandle, _: RStr<'_>) -> RResult<bool, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_compare_and_swap(
    _: AppHandle,
    _: RStr<'_>,
    _: ROption<RSlice<'_, u8>>,
    _: RSlice<'_, u8>,
    _: bool,
) -> RResult<bool, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_watch(_: AppHandle, _: RStr<'_>, _: i64) -> RResult<KvWatchHandle, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_watch_next(_: AppHandle, _: &KvWatchHandle, _: u64) -> RResult<RVec<KvChange>, KvError> {
    RResult::RErr(no_kv())
}
extern "C" fn kv_watch_close(_: &mut KvWatchHandle) {}

fn event(name: &str) -> EventRef<'_> {
    EventRef::App(AppEventRef {
        name: RStr::from(name),
        source: RStr::from("abi-micro"),
        payload_json: RStr::from("123456"),
    })
}

fn main() -> Result<(), String> {
    let path: PathBuf = std::env::args_os().nth(1).ok_or("usage: tatsu-bench-abi-micro LIBRARY")?.into();
    let module = lib_header_from_path(&path)
        .and_then(|header| header.init_root_module::<AppModuleRef>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let services = HostServices {
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
        thread_unpark: thread_op,
        thread_stop: thread_op,
        thread_finished,
        thread_interrupt: thread_op,
        park,
        sleep: park,
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
        of_transaction,
    }
    .leak_into_prefix();
    let host = HostContext { services, app: AppHandle(std::ptr::null()) };
    let mut app = match module.create()(host, RStr::from("")) {
        RResult::ROk(app) => app,
        RResult::RErr(e) => return Err(format!("creating the app failed: {e}")),
    };

    let handled = vec![event("bench.event"); 256];
    let unhandled = vec![event("bench.nobody"); 256];
    let cases: [(&str, &[EventRef<'_>], u64); 4] = [
        ("abi.handle_batch_empty_ns", &[], 20_000_000),
        ("abi.handle_batch_1_ns", &handled[..1], 20_000_000),
        ("abi.handle_batch_256_per_event_ns", &handled, 200_000),
        ("abi.handle_batch_256_unhandled_per_event_ns", &unhandled, 200_000),
    ];
    for (key, batch, calls) in cases {
        let started = Instant::now();
        for _ in 0..calls {
            app.handle_batch(black_box(RSlice::from_slice(batch)));
        }
        let per_call = started.elapsed().as_nanos() as f64 / calls as f64;
        println!("BENCH {key} {:.2}", per_call / batch.len().max(1) as f64);
    }
    Ok(())
}
