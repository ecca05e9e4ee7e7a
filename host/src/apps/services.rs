//! The ABI services table handed to every app (`tatsu_abi::HostServices`): each function resolves the calling app
//! from its [`AppHandle`] and forwards to the bus, the switches, the logger or the app's thread group. None of them
//! can unwind.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::ROption;
use abi_stable::std_types::{RResult, RSlice, RSliceMut, RStr, RString, RVec};
use tatsu_abi::{
    Accepted, AppHandle, DatapathDesc, GreenTask, HostServices, HostServicesRef, IoFailure, IoFailureKind, KvChange,
    KvEntry, KvError, KvFailure, KvListing, KvWatchHandle, OfTransaction, RequestError, RequestFailure, RoleEventRef,
    SocketHandle, ThreadHandle, WaitStatus,
};

use super::deferred::{self, waiting};
use super::state::AppState;
use crate::cluster::kv::AppWatch;
use crate::green::{self, GreenSlot};
use crate::{logging, net};

/// The services table: built once, and kept for the life of the process, since every app library holds on to it
/// (a table of function pointers; apps are told which app they are by their handle).
pub fn table() -> HostServicesRef {
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
            tcp_connect,
            tcp_listen,
            tcp_accept,
            tcp_read,
            tcp_write,
            tcp_address,
            tcp_shutdown,
            tcp_clone,
            tcp_close,
            http_reply,
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
        .leak_into_prefix()
    })
}

/// The handle the host gives `state`'s app.
pub fn handle_of(state: &Arc<AppState>) -> AppHandle {
    AppHandle(Arc::as_ptr(state).cast::<c_void>())
}

fn app<'a>(handle: AppHandle) -> &'a AppState {
    // SAFETY: handles are made only by `handle_of`; the app's state outlives every call the app's code makes,
    // since it is dropped only after all the app's green threads have finished (see `runner`).
    unsafe { &*handle.0.cast::<AppState>() }
}

fn shared_app(handle: AppHandle) -> Arc<AppState> {
    let state = handle.0.cast::<AppState>();
    // SAFETY: as in `app`; the pointer came from `Arc::as_ptr` of a live `Arc`, whose count this adds one to.
    unsafe {
        Arc::increment_strong_count(state);
        Arc::from_raw(state)
    }
}

fn timeout_from_ns(ns: u64) -> Option<Duration> {
    (ns != u64::MAX).then(|| Duration::from_nanos(ns))
}

extern "C" fn log(handle: AppHandle, level: u8, module: RStr<'_>, message: RStr<'_>) {
    logging::forward(&app(handle).name, level, module.as_str(), message.as_str());
}

extern "C" fn log_max_level(handle: AppHandle) -> u8 {
    logging::max_level_for(&app(handle).name)
}

extern "C" fn report_fault(handle: AppHandle, event: RStr<'_>, message: RStr<'_>) {
    let state = app(handle);
    if let Some(suppressed) = state.count_fault() {
        let more = if suppressed > 0 {
            format!(" ({suppressed} more faults in the last second not shown)")
        } else {
            String::new()
        };
        log::error!(target: "tatsu::apps", "app `{}`: {}: {}{more}", state.name, event, message);
    }
}

extern "C" fn publish(handle: AppHandle, name: RStr<'_>, payload: RStr<'_>) {
    let state = app(handle);
    // What the app sent before it published goes out before anything a subscriber sends on hearing of it.
    deferred::hand_over();
    state.host.bus.publish(&state.mailbox, name.as_str(), payload.as_str());
}

extern "C" fn request(
    handle: AppHandle,
    name: RStr<'_>,
    payload: RStr<'_>,
    timeout_ns: u64,
) -> RResult<RString, RequestError> {
    let timeout = timeout_from_ns(timeout_ns).unwrap_or(Duration::MAX);
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    match state.host.bus.request(&state.mailbox, name.as_str(), payload.as_str(), timeout) {
        Ok(reply) => RResult::ROk(reply.into()),
        Err(failed) => RResult::RErr(failed),
    }
}

extern "C" fn reply(handle: AppHandle, request_id: u64, result: RResult<RStr<'_>, RStr<'_>>) {
    let result = match result {
        RResult::ROk(json) => Ok(json.as_str().to_owned()),
        RResult::RErr(message) => Err(message.as_str().to_owned()),
    };
    deferred::hand_over();
    app(handle).host.bus.reply(request_id, result);
}

/// A task from an app that is run or dropped exactly once.
struct OwnedTask(GreenTask);

impl OwnedTask {
    fn run(self) {
        let task = ManuallyDrop::new(self);
        // SAFETY: the app built `run` for `data`; ManuallyDrop keeps `drop` from also being called.
        unsafe { (task.0.run)(task.0.data) }
    }
}

impl Drop for OwnedTask {
    fn drop(&mut self) {
        // SAFETY: the task was never run; the app's `drop` frees its data.
        unsafe { (self.0.drop)(self.0.data) }
    }
}

fn into_handle(slot: Arc<GreenSlot>) -> ThreadHandle {
    ThreadHandle(Arc::into_raw(slot).cast::<c_void>())
}

fn with_slot<R>(thread: &ThreadHandle, default: R, f: impl FnOnce(&GreenSlot) -> R) -> R {
    if thread.0.is_null() {
        return default;
    }
    // SAFETY: non-null handles come from `into_handle` and hold a strong count until released.
    f(unsafe { &*thread.0.cast::<GreenSlot>() })
}

extern "C" fn spawn(handle: AppHandle, task: GreenTask) -> RResult<ThreadHandle, RString> {
    // The thread holds the app's state, so that it lives while any of the app's code can run.
    let state = shared_app(handle);
    let task = OwnedTask(task);
    let group = Arc::clone(&state.group);
    match group.spawn("green thread", move || state.watched.run(|| task.run())) {
        Ok(slot) => RResult::ROk(into_handle(slot)),
        Err(e) => RResult::RErr(e.to_string().into()),
    }
}

extern "C" fn current_thread(_handle: AppHandle) -> ThreadHandle {
    green::current().map_or(ThreadHandle(std::ptr::null()), into_handle)
}

extern "C" fn thread_clone(thread: &ThreadHandle) -> ThreadHandle {
    if !thread.0.is_null() {
        // SAFETY: the handle holds a strong count, so the Arc is alive.
        unsafe { Arc::increment_strong_count(thread.0.cast::<GreenSlot>()) };
    }
    ThreadHandle(thread.0)
}

extern "C" fn thread_release(thread: &mut ThreadHandle) {
    if !thread.0.is_null() {
        // SAFETY: releases the strong count this handle held; the handle is nulled so it cannot be released twice.
        unsafe { Arc::decrement_strong_count(thread.0.cast::<GreenSlot>()) };
        thread.0 = std::ptr::null();
    }
}

extern "C" fn thread_unpark(thread: &ThreadHandle) {
    with_slot(thread, (), GreenSlot::unpark);
}

extern "C" fn thread_stop(thread: &ThreadHandle) {
    with_slot(thread, (), GreenSlot::request_stop);
}

extern "C" fn thread_finished(thread: &ThreadHandle) -> bool {
    with_slot(thread, true, GreenSlot::is_finished)
}

extern "C" fn thread_interrupt(thread: &ThreadHandle) {
    with_slot(thread, (), GreenSlot::interrupt);
}

extern "C" fn park(handle: AppHandle, timeout_ns: u64) -> WaitStatus {
    let _blocking = waiting(&app(handle).watched);
    green::park(timeout_from_ns(timeout_ns))
}

extern "C" fn sleep(handle: AppHandle, duration_ns: u64) -> WaitStatus {
    let _blocking = waiting(&app(handle).watched);
    green::sleep(Duration::from_nanos(duration_ns))
}

extern "C" fn yield_now(handle: AppHandle) -> WaitStatus {
    let _blocking = waiting(&app(handle).watched);
    may::coroutine::yield_now();
    green::current().as_deref().and_then(green::interruption).unwrap_or(WaitStatus::Woken)
}

fn unknown_datapath(dpid: u64) -> RequestError {
    RequestError {
        failure: RequestFailure::UnknownDatapath,
        detail: format!("no datapath {dpid:016x} is connected").into(),
    }
}

extern "C" fn of_send(handle: AppHandle, dpid: u64, message: RSlice<'_, u8>) -> RResult<(), RequestError> {
    match deferred::send(&app(handle).host.switches, dpid, &message) {
        Some(sent) => sent.into(),
        None => RResult::RErr(unknown_datapath(dpid)),
    }
}

extern "C" fn of_request(
    handle: AppHandle,
    dpid: u64,
    message: RSlice<'_, u8>,
    timeout_ns: u64,
) -> RResult<RVec<u8>, RequestError> {
    let Some(connection) = app(handle).host.switches.datapath(dpid) else {
        return RResult::RErr(unknown_datapath(dpid));
    };
    let timeout = timeout_from_ns(timeout_ns).unwrap_or(Duration::MAX);
    let _blocking = waiting(&app(handle).watched);
    connection.request(&message, timeout).map(RVec::from).into()
}

extern "C" fn of_transaction(
    handle: AppHandle,
    dpid: u64,
    messages: RSlice<'_, u8>,
    also_gather: RSlice<'_, u32>,
    timeout_ns: u64,
) -> RResult<OfTransaction, RequestError> {
    let Some(connection) = app(handle).host.switches.datapath(dpid) else {
        return RResult::RErr(unknown_datapath(dpid));
    };
    let timeout = timeout_from_ns(timeout_ns).unwrap_or(Duration::MAX);
    let _blocking = waiting(&app(handle).watched);
    let done = connection.transaction(&messages, &also_gather, timeout);
    done.map(|(xids, replies)| OfTransaction { xids: xids.into(), replies: replies.into() }).into()
}

extern "C" fn datapaths(handle: AppHandle) -> RVec<DatapathDesc> {
    app(handle).host.switches.describe().into()
}

extern "C" fn datapath(handle: AppHandle, dpid: u64) -> ROption<DatapathDesc> {
    let connection = app(handle).host.switches.datapath(dpid).filter(|connection| connection.is_main());
    connection.map(|connection| connection.describe().to_desc(None, false)).into()
}

extern "C" fn http_reply(
    handle: AppHandle,
    request_id: u64,
    status: u16,
    content_type: RStr<'_>,
    body: RSlice<'_, u8>,
) {
    let reply = crate::bus::HttpReply { status, content_type: content_type.as_str().to_owned(), body: body.to_vec() };
    deferred::hand_over();
    app(handle).host.bus.http_reply(request_id, reply);
}

extern "C" fn websocket_broadcast(
    handle: AppHandle,
    path: RStr<'_>,
    message: RSlice<'_, u8>,
    binary: bool,
) -> RResult<u64, RString> {
    let state = app(handle);
    state.host.web.websockets().broadcast(&state.mailbox, path.as_str(), &message, binary).map_err(RString::from).into()
}

extern "C" fn websocket_send(
    handle: AppHandle,
    path: RStr<'_>,
    client: u64,
    message: RSlice<'_, u8>,
    binary: bool,
) -> RResult<(), RString> {
    let state = app(handle);
    let websockets = state.host.web.websockets();
    websockets.send(&state.mailbox, path.as_str(), client, &message, binary).map_err(RString::from).into()
}

extern "C" fn websocket_close(
    handle: AppHandle,
    path: RStr<'_>,
    client: u64,
    code: u16,
    reason: RStr<'_>,
) -> RResult<(), RString> {
    let state = app(handle);
    let websockets = state.host.web.websockets();
    websockets.close(&state.mailbox, path.as_str(), client, code, reason.as_str()).map_err(RString::from).into()
}

fn into_socket_handle(socket: net::Socket) -> SocketHandle {
    SocketHandle(Arc::into_raw(Arc::new(socket)).cast::<c_void>())
}

fn with_socket<R>(
    handle: &SocketHandle,
    f: impl FnOnce(&net::Socket) -> Result<R, IoFailure>,
) -> RResult<R, IoFailure> {
    if handle.0.is_null() {
        return RResult::RErr(net::failure(IoFailureKind::InvalidInput, "the socket is closed"));
    }
    // SAFETY: non-null handles come from `into_socket_handle` and hold a strong count until closed.
    f(unsafe { &*handle.0.cast::<net::Socket>() }).into()
}

extern "C" fn tcp_connect(handle: AppHandle, address: RStr<'_>, timeout_ns: u64) -> RResult<SocketHandle, IoFailure> {
    let _blocking = waiting(&app(handle).watched);
    net::connect(address.as_str(), timeout_from_ns(timeout_ns)).map(into_socket_handle).into()
}

extern "C" fn tcp_listen(_handle: AppHandle, address: RStr<'_>) -> RResult<SocketHandle, IoFailure> {
    net::listen(address.as_str()).map(into_socket_handle).into()
}

extern "C" fn tcp_accept(handle: AppHandle, listener: &SocketHandle, timeout_ns: u64) -> RResult<Accepted, IoFailure> {
    let _blocking = waiting(&app(handle).watched);
    with_socket(listener, |listener| {
        let (socket, peer) = listener.accept(timeout_from_ns(timeout_ns))?;
        Ok(Accepted { socket: into_socket_handle(socket), peer: peer.to_string().into() })
    })
}

extern "C" fn tcp_read(
    handle: AppHandle,
    socket: &SocketHandle,
    mut buffer: RSliceMut<'_, u8>,
    timeout_ns: u64,
) -> RResult<usize, IoFailure> {
    let _blocking = waiting(&app(handle).watched);
    with_socket(socket, |socket| socket.read(&mut buffer, timeout_from_ns(timeout_ns)))
}

extern "C" fn tcp_write(
    handle: AppHandle,
    socket: &SocketHandle,
    data: RSlice<'_, u8>,
    timeout_ns: u64,
) -> RResult<usize, IoFailure> {
    let _blocking = waiting(&app(handle).watched);
    with_socket(socket, |socket| socket.write(&data, timeout_from_ns(timeout_ns)))
}

extern "C" fn tcp_address(socket: &SocketHandle, peer: bool) -> RResult<RString, IoFailure> {
    with_socket(socket, |socket| socket.address(peer).map(|address| address.to_string().into()))
}

extern "C" fn tcp_shutdown(socket: &SocketHandle, how: u8) -> RResult<(), IoFailure> {
    with_socket(socket, |socket| socket.shutdown(how))
}

extern "C" fn tcp_clone(socket: &SocketHandle) -> SocketHandle {
    if !socket.0.is_null() {
        // SAFETY: the handle holds a strong count, so the Arc is alive.
        unsafe { Arc::increment_strong_count(socket.0.cast::<net::Socket>()) };
    }
    SocketHandle(socket.0)
}

extern "C" fn tcp_close(socket: &mut SocketHandle) {
    if !socket.0.is_null() {
        // SAFETY: releases the count this handle held; nulled so it cannot be released twice.
        unsafe { Arc::decrement_strong_count(socket.0.cast::<net::Socket>()) };
        socket.0 = std::ptr::null();
    }
}

extern "C" fn datapath_role(handle: AppHandle, dpid: u64) -> ROption<RoleEventRef> {
    app(handle).host.switches.role_of(dpid).into()
}

extern "C" fn cluster_node(handle: AppHandle) -> ROption<RString> {
    app(handle).host.node_id.as_deref().map(RString::from).into()
}

extern "C" fn kv_get(handle: AppHandle, key: RStr<'_>) -> RResult<ROption<KvEntry>, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    state.kv.get(key.as_str()).map(ROption::from).into()
}

extern "C" fn kv_list(handle: AppHandle, prefix: RStr<'_>) -> RResult<KvListing, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    state.kv.list(prefix.as_str()).into()
}

extern "C" fn kv_put(
    handle: AppHandle,
    key: RStr<'_>,
    value: RSlice<'_, u8>,
    ephemeral: bool,
) -> RResult<i64, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    state.kv.put(key.as_str(), &value, ephemeral).into()
}

extern "C" fn kv_delete(handle: AppHandle, key: RStr<'_>) -> RResult<bool, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    state.kv.delete(key.as_str()).into()
}

extern "C" fn kv_compare_and_swap(
    handle: AppHandle,
    key: RStr<'_>,
    expected: ROption<RSlice<'_, u8>>,
    new: RSlice<'_, u8>,
    ephemeral: bool,
) -> RResult<bool, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    let expected = expected.into_option();
    state.kv.compare_and_swap(key.as_str(), expected.as_deref(), &new, ephemeral).into()
}

extern "C" fn kv_watch(handle: AppHandle, prefix: RStr<'_>, after: i64) -> RResult<KvWatchHandle, KvError> {
    let state = app(handle);
    let _blocking = waiting(&state.watched);
    let watch = state.kv.watch(prefix.as_str(), after);
    watch.map(|watch| KvWatchHandle(Box::into_raw(Box::new(Mutex::new(watch))).cast::<c_void>().cast_const())).into()
}

extern "C" fn kv_watch_next(
    handle: AppHandle,
    watch: &KvWatchHandle,
    timeout_ns: u64,
) -> RResult<RVec<KvChange>, KvError> {
    if watch.0.is_null() {
        return RResult::RErr(KvError { failure: KvFailure::Other, detail: "the watch is closed".into() });
    }
    // SAFETY: a non-null handle points at the watch `kv_watch` boxed, which only `kv_watch_close` frees (and nulls).
    let watch = unsafe { &*watch.0.cast::<Mutex<AppWatch>>() };
    let _blocking = waiting(&app(handle).watched);
    let timeout = timeout_from_ns(timeout_ns).unwrap_or(Duration::MAX);
    let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
    watch.next(timeout).map(RVec::from).into()
}

extern "C" fn kv_watch_close(watch: &mut KvWatchHandle) {
    if !watch.0.is_null() {
        // SAFETY: the handle owns the box `kv_watch` made; nulled so it cannot be freed twice.
        drop(unsafe { Box::from_raw(watch.0.cast::<Mutex<AppWatch>>().cast_mut()) });
        watch.0 = std::ptr::null();
    }
}
