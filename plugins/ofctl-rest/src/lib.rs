//! `ofctl-rest`: Ryu's `ofctl_rest` on tatsu's REST server — switch statistics and the flow, group and meter tables
//! of OpenFlow 1.0, 1.2, 1.3, 1.4 and 1.5 switches, with Ryu's paths, request bodies and response JSON (see
//! README.md). Each version follows Ryu's module for it (`ofctl_v1_0` ... `ofctl_v1_5`): 1.0 here and in
//! `stats.rs`, 1.2 and 1.3 alike (`stats.rs`, `actions.rs`, `match_json.rs`), 1.4 and 1.5 alike (`of14.rs`, over
//! the codec's JSON); an endpoint Ryu's module for a version lacks is a 501.
//!
//! Every route runs on a green thread of its own per request, so one slow switch holds up only its own requests.
//! Statistics are a request to the switch (all parts of a multipart reply). Modifications are sent under an xid of
//! this app's own, followed by a barrier: when the barrier's reply is back, the switch has processed the message,
//! and an error it sent for it (recorded by this app's error handler, which runs on the app's event loop before the
//! request this handler then makes to it) is reported to the client with its type and code.
//!
//! As accepting as Ryu where Ryu is: body keys Ryu's ofctl functions do not read (a `command` in a flow entry,
//! `len` in a meter band, a match field it does not know) are ignored and logged at debug (match fields at warn).
//! Stricter where Ryu fails late or silently: malformed JSON and wrong values (an unknown action type, a number
//! out of range, a bad address) are a 400 naming the field and nothing is sent, a switch that does not answer is
//! 504, an error from the switch is reported (Ryu answers 200 without waiting).

pub mod actions;
pub mod match_json;
pub mod of14;
pub mod stats;
pub mod util;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tatsu_plugin_api::http::{HttpRequest, HttpResponse};
use tatsu_plugin_api::ofproto::error::Thousands;
use tatsu_plugin_api::ofproto::portable::{Barrier, Encode};
use tatsu_plugin_api::ofproto::v1_3::multipart::{
    FlowStatsRequest, MultipartReplyBody as R13, MultipartRequestBody as Q13,
};
use tatsu_plugin_api::ofproto::v1_3::{self, Bucket, MeterBand, MultipartRequest};
use tatsu_plugin_api::ofproto::{
    v1_0, v1_2, v1_4, v1_5, EncodeError, ErrorMsg, MacAddr, Message, MAX_MESSAGE_LEN, OFP_VERSION_1_0, OFP_VERSION_1_2,
    OFP_VERSION_1_3, OFP_VERSION_1_4, OFP_VERSION_1_5,
};
use tatsu_plugin_api::openflow::{OfError, OfErrorKind};
use tatsu_plugin_api::{export_app, green, App, AppRequest, BoxError, Context, Datapath, Handlers, Incoming};

use util::{
    array, bad, get_int, get_str, ignore_unknown_fields, object, parse_int_text, ApiResult, GROUPS, METERS, PORTS_10,
    PORTS_13, QUEUES, ROLES, TABLES,
};

/// `[app.ofctl-rest]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How long a switch has to answer a statistics request or a barrier (504 beyond), in milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { request_timeout_ms: 5_000 }
    }
}

/// What the app and its request handlers (each on a green thread of its own) share.
struct Shared {
    timeout: Duration,
    next_xid: AtomicU32,
    /// Errors switches sent for this app's messages, by (dpid, xid), with when they came.
    errors: Mutex<HashMap<(u64, u32), (Instant, SwitchError)>>,
    /// Whether [`Shared::pause`] yields: the test kit, which has no scheduler, turns it off.
    yields: AtomicBool,
}

impl Shared {
    fn new(config: &Config) -> Self {
        Shared {
            timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
            next_xid: AtomicU32::new(1),
            errors: Mutex::new(HashMap::new()),
            yields: AtomicBool::new(true),
        }
    }

    fn errors(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, u32), (Instant, SwitchError)>> {
        self.errors.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets the other green threads (and the host's switch connections, on the same scheduler) run between the
    /// parts of a long rendering.
    fn pause(&self) {
        if self.yields.load(Ordering::Relaxed) {
            green::yield_now();
        }
    }

    /// Takes out the error datapath `dpid` sent for this app's message `xid`, if one came.
    fn take_error(&self, dpid: u64, xid: u32) -> Option<SwitchError> {
        self.errors().remove(&(dpid, xid)).map(|(_, error)| error)
    }
}

/// What a request handler works with: the host and what the app shares.
struct Api<'a> {
    ctx: &'a Context,
    shared: &'a Shared,
}

/// A request handler.
type Route = fn(&Api<'_>, &HttpRequest<'_>) -> ApiResult<HttpResponse>;

/// A connected datapath of a version this app speaks, with the app's settings.
struct Switch<'a> {
    dp: Datapath,
    shared: &'a Shared,
}

impl Switch<'_> {
    fn dpid(&self) -> u64 {
        self.dp.dpid()
    }

    fn version(&self) -> u8 {
        self.dp.version()
    }

    /// Which of Ryu's ofctl modules this datapath's version follows.
    fn family(&self) -> Family {
        match self.version() {
            OFP_VERSION_1_0 => Family::Of10,
            OFP_VERSION_1_2 | OFP_VERSION_1_3 => Family::Of13,
            _ => Family::Of14,
        }
    }

    /// The 501 for an endpoint Ryu's ofctl module for this version does not have.
    fn not_here(&self, what: &str) -> HttpResponse {
        let name = match self.version() {
            OFP_VERSION_1_0 => "1.0",
            OFP_VERSION_1_2 => "1.2",
            OFP_VERSION_1_3 => "1.3",
            OFP_VERSION_1_4 => "1.4",
            _ => "1.5",
        };
        HttpResponse::error(501, &format!("{what}: not served on OpenFlow {name}, as in Ryu's ofctl_rest"))
    }
}

/// How a version is served: 1.2 and 1.3 alike (Ryu's `ofctl_v1_2`/`ofctl_v1_3` build their JSON by hand, the
/// same way), 1.4 and 1.5 alike (Ryu's `ofctl_v1_4`/`ofctl_v1_5` answer with each part's `to_jsondict()`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Of10,
    Of13,
    Of14,
}

/// The xids this app gives its modifications: the top bit set, unlike the host's counter.
const XID_MARK: u32 = 0x8000_0000;

/// An error message a switch sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SwitchError {
    /// `OFPET_*`.
    #[serde(rename = "type")]
    pub err_type: u16,
    /// The code within the type.
    pub code: u16,
    /// The data (usually the start of the offending message), hex.
    pub data: String,
}

impl SwitchError {
    fn from_msg(e: &ErrorMsg) -> Self {
        SwitchError { err_type: e.err_type, code: e.code, data: e.data.iter().map(|b| format!("{b:02x}")).collect() }
    }

    /// The answer for this error, which the switch sent for the `what` (`flow entry`...), with the type's name
    /// as the switch's `version` names it.
    fn response(&self, status: u16, what: &str, version: u8) -> HttpResponse {
        let type_name =
            if version == OFP_VERSION_1_0 { error_type_name_10(self.err_type) } else { error_type_name(self.err_type) };
        HttpResponse::json(
            status,
            &json!({
                "error": format!("the switch rejected the {what}: {type_name} (type {}), code {}", self.err_type, self.code),
                "type": self.err_type,
                "type_name": type_name,
                "code": self.code,
                "data": self.data,
            }),
        )
    }
}

/// `OFPET_*` names (1.3; the 1.0 ones are the first six).
fn error_type_name(t: u16) -> &'static str {
    const NAMES: [&str; 14] = [
        "HELLO_FAILED",
        "BAD_REQUEST",
        "BAD_ACTION",
        "BAD_INSTRUCTION",
        "BAD_MATCH",
        "FLOW_MOD_FAILED",
        "GROUP_MOD_FAILED",
        "PORT_MOD_FAILED",
        "TABLE_MOD_FAILED",
        "QUEUE_OP_FAILED",
        "SWITCH_CONFIG_FAILED",
        "ROLE_REQUEST_FAILED",
        "METER_MOD_FAILED",
        "TABLE_FEATURES_FAILED",
    ];
    if t == 0xffff {
        return "EXPERIMENTER";
    }
    NAMES.get(usize::from(t)).copied().unwrap_or("UNKNOWN")
}

/// The 1.0 names differ after BAD_ACTION.
fn error_type_name_10(t: u16) -> &'static str {
    const NAMES: [&str; 6] =
        ["HELLO_FAILED", "BAD_REQUEST", "BAD_ACTION", "FLOW_MOD_FAILED", "PORT_MOD_FAILED", "QUEUE_OP_FAILED"];
    NAMES.get(usize::from(t)).copied().unwrap_or("UNKNOWN")
}

/// The app.
pub struct OfctlRest {
    shared: Arc<Shared>,
}

/// The app's request to itself: the error a switch sent for one of its xids, if one came (taken out).
#[derive(Serialize, Deserialize)]
struct ErrorQuery {
    dpid: u64,
    xid: u32,
}

impl AppRequest for ErrorQuery {
    const NAME: &'static str = "ofctl-rest.switch-error";
    type Reply = Option<SwitchError>;
}

impl App for OfctlRest {
    const NAME: &'static str = "ofctl-rest";
    const DESCRIPTION: &'static str = "Ryu's ofctl_rest: switch statistics and flow, group and meter tables over REST";
    type Config = Config;

    fn new(_ctx: &Context, config: Config) -> Result<Self, BoxError> {
        Ok(OfctlRest { shared: Arc::new(Shared::new(&config)) })
    }

    fn register(&self, handlers: &mut Handlers<Self>) {
        handlers.on_message::<ErrorMsg>(Self::on_error);
        handlers.on_request(|app: &mut Self, _: &Context, query: ErrorQuery| {
            Ok::<_, String>(app.shared.take_error(query.dpid, query.xid))
        });
        let route = |handlers: &mut Handlers<Self>, method: &str, path: &str, f: Route| {
            let shared = Arc::clone(&self.shared);
            handlers.on_http_spawn(method, path, move |ctx: &Context, request: &HttpRequest<'_>| {
                f(&Api { ctx, shared: &shared }, request)
            });
        };
        let get = |handlers: &mut Handlers<Self>, path: &str, f: Route| route(handlers, "GET", path, f);
        let post = |handlers: &mut Handlers<Self>, path: &str, f: Route| route(handlers, "POST", path, f);
        get(handlers, "/stats/switches", switches);
        get(handlers, "/stats/desc/{dpid}", desc);
        get(handlers, "/stats/flow/{dpid}", flow);
        post(handlers, "/stats/flow/{dpid}", flow);
        get(handlers, "/stats/flowdesc/{dpid}", flow_desc);
        post(handlers, "/stats/flowdesc/{dpid}", flow_desc);
        get(handlers, "/stats/aggregateflow/{dpid}", aggregate);
        post(handlers, "/stats/aggregateflow/{dpid}", aggregate);
        get(handlers, "/stats/table/{dpid}", table);
        get(handlers, "/stats/tablefeatures/{dpid}", table_features);
        get(handlers, "/stats/port/{dpid}", port_stats);
        get(handlers, "/stats/port/{dpid}/{port}", port_stats);
        get(handlers, "/stats/portdesc/{dpid}", port_desc);
        get(handlers, "/stats/portdesc/{dpid}/{port}", port_desc);
        get(handlers, "/stats/queue/{dpid}", queue);
        get(handlers, "/stats/queue/{dpid}/{port}", queue);
        get(handlers, "/stats/queue/{dpid}/{port}/{queue_id}", queue);
        get(handlers, "/stats/queueconfig/{dpid}", queue_config);
        get(handlers, "/stats/queueconfig/{dpid}/{port}", queue_config);
        get(handlers, "/stats/queuedesc/{dpid}", queue_desc);
        get(handlers, "/stats/queuedesc/{dpid}/{port}", queue_desc);
        get(handlers, "/stats/queuedesc/{dpid}/{port}/{queue}", queue_desc);
        get(handlers, "/stats/group/{dpid}", group);
        get(handlers, "/stats/group/{dpid}/{group_id}", group);
        get(handlers, "/stats/groupdesc/{dpid}", group_desc);
        get(handlers, "/stats/groupdesc/{dpid}/{group_id}", group_desc);
        get(handlers, "/stats/groupfeatures/{dpid}", group_features);
        get(handlers, "/stats/meter/{dpid}", meter);
        get(handlers, "/stats/meter/{dpid}/{meter_id}", meter);
        get(handlers, "/stats/meterconfig/{dpid}", meter_config);
        get(handlers, "/stats/meterconfig/{dpid}/{meter_id}", meter_config);
        get(handlers, "/stats/meterdesc/{dpid}", meter_desc);
        get(handlers, "/stats/meterdesc/{dpid}/{meter_id}", meter_desc);
        get(handlers, "/stats/meterfeatures/{dpid}", meter_features);
        get(handlers, "/stats/role/{dpid}", get_role);
        post(handlers, "/stats/flowentry/{cmd}", flow_entry);
        route(handlers, "DELETE", "/stats/flowentry/clear/{dpid}", clear_flows);
        post(handlers, "/stats/groupentry/{cmd}", group_entry);
        post(handlers, "/stats/meterentry/{cmd}", meter_entry);
        post(handlers, "/stats/portdesc/{cmd}", port_mod);
        post(handlers, "/stats/experimenter/{dpid}", experimenter);
        post(handlers, "/stats/role", set_role);
    }
}

impl OfctlRest {
    /// Records errors for this app's own xids.
    fn on_error(&mut self, _ctx: &Context, dp: &Datapath, error: Incoming<ErrorMsg>) {
        if error.xid & XID_MARK == 0 {
            return;
        }
        let mut errors = self.shared.errors();
        let now = Instant::now();
        errors.retain(|_, (when, _)| now.duration_since(*when) < Duration::from_secs(60));
        errors.insert((dp.dpid(), error.xid), (now, SwitchError::from_msg(&error.message)));
    }
}

export_app!(OfctlRest);

// ---------------------------------------------------------------------------------------------------------------
// Request helpers

/// Parses a datapath id like Ryu (`int(str(dpid), 0)`: decimal or `0x` hex).
fn parse_dpid(value: &Value, path: &str) -> ApiResult<u64> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_int_text(s),
        _ => None,
    };
    parsed.ok_or_else(|| bad(format!("`{path}`: invalid datapath id {value}")))
}

/// The connected datapath `dpid` (404 if it is not connected).
fn datapath<'a>(api: &Api<'a>, dpid: u64) -> ApiResult<Switch<'a>> {
    let info = api
        .ctx
        .datapath(dpid)
        .ok_or_else(|| HttpResponse::error(404, &format!("no datapath {dpid} (0x{dpid:016x}) is connected")))?;
    match info.version {
        OFP_VERSION_1_0 | OFP_VERSION_1_2 | OFP_VERSION_1_3 | OFP_VERSION_1_4 | OFP_VERSION_1_5 => {
            Ok(Switch { dp: *info.datapath(), shared: api.shared })
        }
        other => Err(HttpResponse::error(501, &format!("datapath {dpid} speaks OpenFlow version {other:#04x}"))),
    }
}

fn param_dpid<'a>(api: &Api<'a>, request: &HttpRequest<'_>) -> ApiResult<(u64, Switch<'a>)> {
    let text = request.param("dpid").unwrap_or("");
    let dpid = parse_dpid(&Value::from(text), "dpid")?;
    Ok((dpid, datapath(api, dpid)?))
}

/// The request body as a JSON object (empty body: `{}`).
fn body(request: &HttpRequest<'_>) -> ApiResult<Map<String, Value>> {
    if request.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value =
        serde_json::from_slice(request.body()).map_err(|e| bad(format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(bad(format!("the body must be a JSON object, not {other}"))),
    }
}

fn of_failure(e: &OfError, dpid: u64) -> HttpResponse {
    let status = match e.kind() {
        OfErrorKind::UnknownDatapath => 404,
        OfErrorKind::TimedOut => 504,
        OfErrorKind::SendQueueFull => 503,
        OfErrorKind::Encode => 400,
        OfErrorKind::Disconnected | OfErrorKind::Decode => 502,
        OfErrorKind::NotMaster => 409,
        OfErrorKind::Other => 500,
    };
    HttpResponse::error(status, &format!("datapath {dpid}: {e}"))
}

/// The error message in `message`, of any version.
fn error_in(message: &Message) -> Option<&ErrorMsg> {
    match message {
        Message::V1_0(v1_0::Message::Error(e))
        | Message::V1_2(v1_2::Message::Error(e))
        | Message::V1_3(v1_3::Message::Error(e))
        | Message::V1_4(v1_4::Message::Error(e))
        | Message::V1_5(v1_5::Message::Error(e)) => Some(e),
        _ => None,
    }
}

/// Sends a request and returns every reply message; an error reply is a 502 with its type and code.
fn ask(dp: &Switch<'_>, message: impl Encode) -> ApiResult<Vec<Message>> {
    let replies = dp.dp.request(message, dp.shared.timeout).map_err(|e| of_failure(&e, dp.dpid()))?;
    if let Some(e) = replies.iter().find_map(error_in) {
        return Err(SwitchError::from_msg(e).response(502, "request", dp.version()));
    }
    Ok(replies)
}

/// A statistics (multipart) request of 1.2 to 1.5 for 1.3's request `body`: 1.2's statistics request, 1.4's
/// multipart request with the body as in 1.3, and on 1.5 the bodies 1.5 renamed or extended (flow statistics,
/// group, meter and port descriptions, table features) as 1.5 has them, for every group, meter or port.
fn multipart(version: u8, body: Q13) -> Message {
    match version {
        OFP_VERSION_1_2 => v1_2::Message::StatsRequest(v1_2::StatsRequest::new(body)).into(),
        OFP_VERSION_1_4 => {
            v1_4::Message::MultipartRequest(v1_4::MultipartRequest::new(v1_4::MultipartRequestBody::Common(body)))
                .into()
        }
        OFP_VERSION_1_5 => {
            use v1_5::MultipartRequestBody as B15;
            let body = match body {
                Q13::Flow(filter) => B15::FlowStats(filter),
                Q13::GroupDesc => B15::GroupDesc { group_id: 0xffff_fffc },
                Q13::PortDesc => B15::PortDesc { port_no: 0xffff_ffff },
                Q13::MeterConfig { meter_id } => B15::MeterDesc { meter_id },
                Q13::TableFeatures(_) => B15::TableFeatures(Vec::new()),
                other => B15::Common(other),
            };
            v1_5::Message::MultipartRequest(v1_5::MultipartRequest::new(body)).into()
        }
        _ => v1_3::Message::MultipartRequest(MultipartRequest::new(body)).into(),
    }
}

/// The multipart bodies of a 1.2 or 1.3 reply, 1.2's as 1.3's (its port, queue and group statistics without
/// durations: they are 0); 1.2's table statistics are left out (see [`table`]).
fn bodies_13(replies: Vec<Message>) -> impl Iterator<Item = R13> {
    replies.into_iter().filter_map(|m| match m {
        Message::V1_3(v1_3::Message::MultipartReply(reply)) => Some(reply.body),
        Message::V1_2(v1_2::Message::StatsReply(reply)) => match reply.body {
            v1_2::StatsReplyBody::Common(body) => Some(body),
            v1_2::StatsReplyBody::PortStats(list) => Some(R13::PortStats(list)),
            v1_2::StatsReplyBody::Queue(list) => Some(R13::Queue(list)),
            v1_2::StatsReplyBody::Group(list) => Some(R13::Group(list)),
            v1_2::StatsReplyBody::Table(_) => None,
        },
        _ => None,
    })
}

/// The stats bodies of a 1.0 reply.
fn bodies_10(replies: Vec<Message>) -> impl Iterator<Item = v1_0::StatsReplyBody> {
    replies.into_iter().filter_map(|m| match m {
        Message::V1_0(v1_0::Message::StatsReply(reply)) => Some(reply.body),
        _ => None,
    })
}

/// A 1.2 or 1.3 statistics request.
fn stats_13(dp: &Switch<'_>, body: Q13) -> ApiResult<Vec<R13>> {
    Ok(bodies_13(ask(dp, multipart(dp.version(), body))?).collect())
}

/// A 1.4 or 1.5 statistics request `message`: every part of the reply, in the codec's (Ryu's) JSON.
/// Each reply message is rendered in turn, letting the other green threads (and the host's switch connections, on
/// the same scheduler) run in between: a table features reply is hundreds of messages.
fn stats_json(dp: &Switch<'_>, message: Message) -> ApiResult<Vec<Map<String, Value>>> {
    let started = Instant::now();
    let replies = ask(dp, message)?;
    let asked = started.elapsed();
    let mut parts = Vec::new();
    for reply in &replies {
        parts.extend(of14::reply_parts(std::slice::from_ref(reply)));
        dp.shared.pause();
    }
    log::debug!("{} reply messages in {asked:?}, their JSON in {:?}", replies.len(), started.elapsed() - asked);
    Ok(parts)
}

/// A 1.4 or 1.5 statistics request for 1.3's request `body` (see [`multipart`]).
fn stats_14(dp: &Switch<'_>, body: Q13) -> ApiResult<Vec<Map<String, Value>>> {
    stats_json(dp, multipart(dp.version(), body))
}

fn stats_10(dp: &Switch<'_>, body: v1_0::StatsRequestBody) -> ApiResult<Vec<v1_0::StatsReplyBody>> {
    let request = v1_0::StatsRequest { flags: 0, body };
    Ok(bodies_10(ask(dp, v1_0::Message::StatsRequest(request))?).collect())
}

/// `{"<dpid>": value}` as Ryu answers.
fn by_dpid(dpid: u64, value: Value) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::json(200, &json!({ dpid.to_string(): value })))
}

/// The 400 for a `what` (`flow entry`...) whose OpenFlow encoding does not fit its length fields, naming the
/// limit; nothing was sent.
fn too_long(what: &str, e: &EncodeError) -> HttpResponse {
    let most = Thousands(MAX_MESSAGE_LEN);
    bad(match e {
        EncodeError::MessageTooLong { length, .. } => {
            format!("the {what} encodes to {} bytes; an OpenFlow message holds at most {most}", Thousands(*length))
        }
        // A 16-bit length inside the message counts bytes of it: the message is longer still.
        _ if e.limit() == MAX_MESSAGE_LEN => {
            format!("the {what} encodes to more than {most} bytes; an OpenFlow message holds at most {most} ({e})")
        }
        _ => format!("the {what} cannot be encoded: {e}"),
    })
}

/// Sends a modification under this app's own xid, then a barrier; reports an error the switch sent for it. A
/// modification too long to encode is a 400 and nothing is sent.
fn modify(api: &Api<'_>, dp: &Switch<'_>, message: Message, what: &str) -> ApiResult<HttpResponse> {
    let xid = XID_MARK | (api.shared.next_xid.fetch_add(1, Ordering::Relaxed) & !XID_MARK);
    let bytes = message.to_vec(xid).map_err(|e| too_long(what, &e))?;
    dp.dp.send_bytes(&bytes).map_err(|e| of_failure(&e, dp.dpid()))?;
    ask(dp, Barrier)?;
    // The switch's error (if any) came before the barrier reply, so it is in this app's queue ahead of this
    // request, and the error handler has recorded it by the time this request is answered.
    let query = ErrorQuery { dpid: dp.dpid(), xid };
    let recorded = api
        .ctx
        .request(&query, api.shared.timeout)
        .map_err(|e| HttpResponse::error(500, &format!("checking for a switch error: {e}")))?;
    match recorded {
        Some(error) => Err(error.response(400, what, dp.version())),
        None => Ok(HttpResponse::new(200, "text/plain; charset=utf-8", Vec::new())),
    }
}

/// The datapath of a command: `dpid` in the body (Ryu's `command_method`).
fn command_datapath<'a>(api: &Api<'a>, map: &Map<String, Value>) -> ApiResult<Switch<'a>> {
    let value = map.get("dpid").ok_or_else(|| bad("`dpid` is required"))?;
    datapath(api, parse_dpid(value, "dpid")?)
}

/// An optional `ALL`-or-number path parameter.
fn optional_param<T: TryFrom<u64>>(
    request: &HttpRequest<'_>,
    name: &str,
    reserved: &util::Reserved,
) -> ApiResult<Option<T>> {
    match request.param(name) {
        None => Ok(None),
        Some(text) if text.eq_ignore_ascii_case("ALL") => Ok(None),
        Some(text) => reserved.from_user(&Value::from(text), name).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

fn switches(api: &Api<'_>, _request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let dpids: Vec<u64> = api.ctx.datapaths().iter().map(|info| info.dpid).collect();
    Ok(HttpResponse::json(200, &dpids))
}

fn desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let found = match dp.family() {
        Family::Of10 => stats_10(&dp, v1_0::StatsRequestBody::Desc)?.into_iter().find_map(|b| match b {
            v1_0::StatsReplyBody::Desc(d) => Some(stats::desc(&d)),
            _ => None,
        }),
        Family::Of13 => stats_13(&dp, Q13::Desc)?.into_iter().find_map(|b| match b {
            R13::Desc(d) => Some(stats::desc(&d)),
            _ => None,
        }),
        // Ryu keeps the last part.
        Family::Of14 => stats_14(&dp, Q13::Desc)?.pop().map(Value::Object),
    };
    by_dpid(dpid, found.unwrap_or_else(|| json!({})))
}

const FLOW_FILTER_FIELDS: &[&str] =
    &["dpid", "table_id", "flags", "out_port", "out_group", "cookie", "cookie_mask", "match", "priority"];

fn flow_request_13(map: &Map<String, Value>) -> ApiResult<FlowStatsRequest> {
    ignore_unknown_fields(map, FLOW_FILTER_FIELDS, "");
    Ok(FlowStatsRequest {
        table_id: TABLES.get(map, "table_id", "", 0xff)?,
        out_port: PORTS_13.get(map, "out_port", "", 0xffff_ffff)?,
        out_group: GROUPS.get(map, "out_group", "", 0xffff_ffff)?,
        cookie: get_int(map, "cookie", "", 0)?,
        cookie_mask: get_int(map, "cookie_mask", "", 0)?,
        match_: match_json::to_match_13(map.get("match").unwrap_or(&json!({})), "match")?,
    })
}

fn flow_request_10(map: &Map<String, Value>) -> ApiResult<v1_0::FlowStatsRequest> {
    ignore_unknown_fields(map, FLOW_FILTER_FIELDS, "");
    Ok(v1_0::FlowStatsRequest {
        match_: match_json::to_match_10(map.get("match").unwrap_or(&json!({})), "match")?,
        table_id: TABLES.get(map, "table_id", "", 0xff)?,
        out_port: PORTS_10.get(map, "out_port", "", 0xffff)?,
    })
}

/// `/stats/flowdesc`: on 1.5, flow descriptions (`OFPMP_FLOW_DESC`: instructions, timeouts and cookie with the
/// OXS statistics, as Ryu's `ofctl_v1_5.get_flow_desc_stats` renders them); before 1.5 there are none, and this
/// is `/stats/flow`, where Ryu 4.34 routes this path on every version.
fn flow_desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    if dp.version() != OFP_VERSION_1_5 {
        return flow(api, request);
    }
    let filter = body(request)?;
    let priority: Option<u16> = filter.get("priority").map(|v| util::int_as(v, "priority")).transpose()?;
    let body = v1_5::MultipartRequestBody::FlowDesc(flow_request_13(&filter)?);
    let parts = stats_json(&dp, v1_5::Message::MultipartRequest(v1_5::MultipartRequest::new(body)).into())?;
    by_dpid(dpid, Value::Array(of14::flows(parts, dp.version(), priority)))
}

/// `/stats/flow`: flow statistics (on 1.5 `OFPMP_FLOW_STATS`, the match and OXS statistics; Open vSwitch 3.1
/// answers that with `OFPBRC_BAD_MULTIPART`, which is reported, while Ryu waits a second and shows no flows).
fn flow(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let filter = body(request)?;
    let priority: Option<u16> = match filter.get("priority") {
        None => None,
        Some(v) => Some(util::int_as(v, "priority")?),
    };
    let keep = |p: u16| priority.is_none_or(|wanted| wanted == p);
    let flows: Vec<Value> = match dp.family() {
        Family::Of10 => {
            let body = v1_0::StatsRequestBody::Flow(flow_request_10(&filter)?);
            let mut entries = Vec::new();
            for part in stats_10(&dp, body)? {
                if let v1_0::StatsReplyBody::Flow(list) = part {
                    entries.extend(list.into_iter().filter(|f| keep(f.priority)));
                }
            }
            stats::flows_10(&entries)
        }
        Family::Of13 => {
            let mut entries = Vec::new();
            for part in stats_13(&dp, Q13::Flow(flow_request_13(&filter)?))? {
                if let R13::Flow(list) = part {
                    entries.extend(list.into_iter().filter(|f| keep(f.priority)));
                }
            }
            let mut flows = stats::flows_13(&entries);
            if dp.version() == OFP_VERSION_1_2 {
                // 1.2 flow entries have no flags.
                flows.iter_mut().filter_map(Value::as_object_mut).for_each(|f| drop(f.remove("flags")));
            }
            flows
        }
        Family::Of14 => {
            let parts = stats_14(&dp, Q13::Flow(flow_request_13(&filter)?))?;
            of14::flows(parts, dp.version(), priority)
        }
    };
    by_dpid(dpid, Value::Array(flows))
}

fn aggregate(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let filter = body(request)?;
    let mut out = Vec::new();
    match dp.family() {
        Family::Of10 => {
            for part in stats_10(&dp, v1_0::StatsRequestBody::Aggregate(flow_request_10(&filter)?))? {
                if let v1_0::StatsReplyBody::Aggregate { packet_count, byte_count, flow_count } = part {
                    out.push(stats::aggregate(packet_count, byte_count, flow_count));
                }
            }
        }
        Family::Of13 => {
            for part in stats_13(&dp, Q13::Aggregate(flow_request_13(&filter)?))? {
                if let R13::Aggregate(a) = part {
                    out.push(stats::aggregate(a.packet_count, a.byte_count, a.flow_count));
                }
            }
        }
        Family::Of14 => out = of14::aggregates(stats_14(&dp, Q13::Aggregate(flow_request_13(&filter)?))?),
    }
    by_dpid(dpid, Value::Array(out))
}

fn table(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let mut out = Vec::new();
    match (dp.family(), dp.version()) {
        (Family::Of10, _) => {
            for part in stats_10(&dp, v1_0::StatsRequestBody::Table)? {
                if let v1_0::StatsReplyBody::Table(list) = part {
                    out.extend(stats::tables_10(&list));
                }
            }
        }
        (Family::Of13, OFP_VERSION_1_2) => {
            for reply in ask(&dp, multipart(OFP_VERSION_1_2, Q13::Table))? {
                if let Message::V1_2(v1_2::Message::StatsReply(v1_2::StatsReply {
                    body: v1_2::StatsReplyBody::Table(list),
                    ..
                })) = reply
                {
                    out.extend(stats::tables_12(&list));
                }
            }
        }
        (Family::Of13, _) => {
            for part in stats_13(&dp, Q13::Table)? {
                if let R13::Table(list) = part {
                    out.extend(stats::tables_13(&list));
                }
            }
        }
        (Family::Of14, _) => out = of14::tables(stats_14(&dp, Q13::Table)?),
    }
    by_dpid(dpid, Value::Array(out))
}

fn table_features(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let out = match dp.version() {
        OFP_VERSION_1_3 => {
            let mut out = Vec::new();
            for part in stats_13(&dp, Q13::TableFeatures(Vec::new()))? {
                if let R13::TableFeatures(list) = part {
                    out.extend(stats::table_features_13(&list));
                    dp.shared.pause();
                }
            }
            out
        }
        OFP_VERSION_1_4 | OFP_VERSION_1_5 => {
            let mut out = Vec::new();
            for part in stats_14(&dp, Q13::TableFeatures(Vec::new()))? {
                out.extend(of14::table_features(vec![part], dp.version()));
                dp.shared.pause();
            }
            out
        }
        _ => return Err(dp.not_here("table features")),
    };
    by_dpid(dpid, Value::Array(out))
}

/// 1.2's port, queue and group statistics are 1.3's without the durations.
fn without_durations(mut entries: Vec<Value>, version: u8) -> Vec<Value> {
    if version == OFP_VERSION_1_2 {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            entry.remove("duration_sec");
            entry.remove("duration_nsec");
        }
    }
    entries
}

fn port_stats(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let mut out = Vec::new();
    match dp.family() {
        Family::Of10 => {
            let port_no = optional_param::<u16>(request, "port", &PORTS_10)?.unwrap_or(0xffff);
            for part in stats_10(&dp, v1_0::StatsRequestBody::Port { port_no })? {
                if let v1_0::StatsReplyBody::Port(list) = part {
                    out.extend(stats::ports_10(&list));
                }
            }
        }
        Family::Of13 => {
            let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
            for part in stats_13(&dp, Q13::PortStats { port_no })? {
                if let R13::PortStats(list) = part {
                    out.extend(stats::ports_13(&list));
                }
            }
            out = without_durations(out, dp.version());
        }
        Family::Of14 => {
            let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
            out = of14::port_stats(stats_14(&dp, Q13::PortStats { port_no })?);
        }
    }
    by_dpid(dpid, Value::Array(out))
}

fn port_desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    // Like Ryu before OpenFlow 1.5, a port number in the path is accepted and every port is shown; 1.5 asks for
    // the one port.
    let (dpid, dp) = param_dpid(api, request)?;
    let mut out = Vec::new();
    match dp.version() {
        OFP_VERSION_1_0 => {
            for reply in ask(&dp, v1_0::Message::FeaturesRequest)? {
                if let Message::V1_0(v1_0::Message::FeaturesReply(features)) = reply {
                    out.extend(stats::port_desc_10(&features.ports));
                }
            }
        }
        OFP_VERSION_1_2 => {
            // 1.2 has no port description request: the ports come with the features reply.
            for reply in ask(&dp, v1_2::Message::FeaturesRequest)? {
                if let Message::V1_2(v1_2::Message::FeaturesReply(features)) = reply {
                    out.extend(stats::port_desc_13(&features.ports));
                }
            }
        }
        OFP_VERSION_1_3 => {
            for part in stats_13(&dp, Q13::PortDesc)? {
                if let R13::PortDesc(list) = part {
                    out.extend(stats::port_desc_13(&list));
                }
            }
        }
        OFP_VERSION_1_4 => out = of14::port_desc(stats_14(&dp, Q13::PortDesc)?, dp.version()),
        _ => {
            let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
            let body = v1_5::MultipartRequestBody::PortDesc { port_no };
            let parts = stats_json(&dp, v1_5::Message::MultipartRequest(v1_5::MultipartRequest::new(body)).into())?;
            out = of14::port_desc(parts, dp.version());
        }
    }
    by_dpid(dpid, Value::Array(out))
}

fn queue(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let queue_id = optional_param::<u32>(request, "queue_id", &QUEUES)?.unwrap_or(0xffff_ffff);
    let mut out = Vec::new();
    match dp.family() {
        Family::Of10 => {
            let port_no = optional_param::<u16>(request, "port", &PORTS_10)?.unwrap_or(0xfffc);
            for part in stats_10(&dp, v1_0::StatsRequestBody::Queue { port_no, queue_id })? {
                if let v1_0::StatsReplyBody::Queue(list) = part {
                    out.extend(stats::queues_10(&list));
                }
            }
        }
        Family::Of13 => {
            let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
            for part in stats_13(&dp, Q13::Queue { port_no, queue_id })? {
                if let R13::Queue(list) = part {
                    out.extend(stats::queues_13(&list));
                }
            }
            out = without_durations(out, dp.version());
        }
        Family::Of14 => {
            let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
            out = of14::queue_stats(stats_14(&dp, Q13::Queue { port_no, queue_id })?);
        }
    }
    by_dpid(dpid, Value::Array(out))
}

fn queue_config(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let port = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
    let message: Message = match dp.version() {
        OFP_VERSION_1_2 => v1_2::Message::QueueGetConfigRequest { port }.into(),
        OFP_VERSION_1_3 => v1_3::Message::QueueGetConfigRequest { port }.into(),
        _ => return Err(dp.not_here("queue configuration")),
    };
    let mut out = Vec::new();
    for reply in ask(&dp, message)? {
        if let Message::V1_3(v1_3::Message::QueueGetConfigReply(config))
        | Message::V1_2(v1_2::Message::QueueGetConfigReply(config)) = reply
        {
            out.push(stats::queue_config_13(config.port, &config.queues));
        }
    }
    by_dpid(dpid, Value::Array(out))
}

fn queue_desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let port_no = optional_param::<u32>(request, "port", &PORTS_13)?.unwrap_or(0xffff_ffff);
    let queue_id = optional_param::<u32>(request, "queue", &QUEUES)?.unwrap_or(0xffff_ffff);
    let message: Message = match dp.version() {
        OFP_VERSION_1_4 => {
            v1_4::Message::MultipartRequest(v1_4::MultipartRequest::new(v1_4::MultipartRequestBody::QueueDesc {
                port_no,
                queue_id,
            }))
            .into()
        }
        OFP_VERSION_1_5 => {
            v1_5::Message::MultipartRequest(v1_5::MultipartRequest::new(v1_5::MultipartRequestBody::QueueDesc {
                port_no,
                queue_id,
            }))
            .into()
        }
        _ => return Err(dp.not_here("queue descriptions")),
    };
    by_dpid(dpid, Value::Array(of14::queue_desc(stats_json(&dp, message)?)))
}

fn group(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let group_id = optional_param::<u32>(request, "group_id", &GROUPS)?.unwrap_or(0xffff_fffc);
    let out = match dp.family() {
        Family::Of10 => return Err(dp.not_here("groups")),
        Family::Of13 => {
            let mut out = Vec::new();
            for part in stats_13(&dp, Q13::Group { group_id })? {
                if let R13::Group(list) = part {
                    out.extend(stats::groups_13(&list, dp.version()));
                }
            }
            without_durations(out, dp.version())
        }
        Family::Of14 => of14::group_stats(stats_14(&dp, Q13::Group { group_id })?),
    };
    by_dpid(dpid, Value::Array(out))
}

fn group_desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    // Before OpenFlow 1.5 Ryu ignores a group id in the path and describes every group; so does this.
    let (dpid, dp) = param_dpid(api, request)?;
    let out = match dp.version() {
        OFP_VERSION_1_0 => return Err(dp.not_here("groups")),
        OFP_VERSION_1_2 | OFP_VERSION_1_3 => {
            let mut out = Vec::new();
            for part in stats_13(&dp, Q13::GroupDesc)? {
                if let R13::GroupDesc(list) = part {
                    out.extend(stats::group_desc_13(&list));
                }
            }
            out
        }
        OFP_VERSION_1_4 => of14::group_desc(stats_14(&dp, Q13::GroupDesc)?, dp.version()),
        _ => {
            let group_id = optional_param::<u32>(request, "group_id", &GROUPS)?.unwrap_or(0xffff_fffc);
            let body = v1_5::MultipartRequestBody::GroupDesc { group_id };
            let parts = stats_json(&dp, v1_5::Message::MultipartRequest(v1_5::MultipartRequest::new(body)).into())?;
            of14::group_desc(parts, dp.version())
        }
    };
    by_dpid(dpid, Value::Array(out))
}

fn group_features(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    if dp.family() == Family::Of10 {
        return Err(dp.not_here("groups"));
    }
    let mut out = Vec::new();
    for reply in ask(&dp, multipart(dp.version(), Q13::GroupFeatures))? {
        let features = match reply {
            Message::V1_2(v1_2::Message::StatsReply(v1_2::StatsReply {
                body: v1_2::StatsReplyBody::Common(R13::GroupFeatures(f)),
                ..
            }))
            | Message::V1_3(v1_3::Message::MultipartReply(v1_3::MultipartReply {
                body: R13::GroupFeatures(f), ..
            }))
            | Message::V1_4(v1_4::Message::MultipartReply(v1_4::MultipartReply {
                body: v1_4::MultipartReplyBody::Common(R13::GroupFeatures(f)),
                ..
            }))
            | Message::V1_5(v1_5::Message::MultipartReply(v1_5::MultipartReply {
                body: v1_5::MultipartReplyBody::Common(R13::GroupFeatures(f)),
                ..
            })) => f,
            _ => continue,
        };
        out.push(stats::group_features_13(&features, dp.version()));
    }
    by_dpid(dpid, Value::Array(out))
}

fn meter_id(request: &HttpRequest<'_>) -> ApiResult<u32> {
    Ok(optional_param::<u32>(request, "meter_id", &METERS)?.unwrap_or(0xffff_ffff))
}

/// Meters exist from 1.3 on.
fn meter_datapath<'a>(api: &Api<'a>, request: &HttpRequest<'_>) -> ApiResult<(u64, Switch<'a>)> {
    let (dpid, dp) = param_dpid(api, request)?;
    match dp.version() {
        OFP_VERSION_1_0 | OFP_VERSION_1_2 => Err(dp.not_here("meters")),
        _ => Ok((dpid, dp)),
    }
}

fn meter(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = meter_datapath(api, request)?;
    let body = Q13::Meter { meter_id: meter_id(request)? };
    let out = if dp.family() == Family::Of14 {
        of14::meter_stats(stats_14(&dp, body)?)
    } else {
        stats_13(&dp, body)?
            .into_iter()
            .flat_map(|part| match part {
                R13::Meter(list) => stats::meters_13(&list),
                _ => Vec::new(),
            })
            .collect()
    };
    by_dpid(dpid, Value::Array(out))
}

/// `/stats/meterconfig` (1.3 and 1.4; Ryu's 1.5 module has only `meterdesc`).
fn meter_config(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = meter_datapath(api, request)?;
    let body = Q13::MeterConfig { meter_id: meter_id(request)? };
    let out = match dp.version() {
        OFP_VERSION_1_3 => stats_13(&dp, body)?
            .into_iter()
            .flat_map(|part| match part {
                R13::MeterConfig(list) => stats::meter_config_13(&list),
                _ => Vec::new(),
            })
            .collect(),
        OFP_VERSION_1_4 => of14::meter_config(stats_14(&dp, body)?),
        _ => return Err(dp.not_here("meter configuration (use /stats/meterdesc)")),
    };
    by_dpid(dpid, Value::Array(out))
}

/// `/stats/meterdesc` (1.5).
fn meter_desc(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = meter_datapath(api, request)?;
    if dp.version() != OFP_VERSION_1_5 {
        return Err(dp.not_here("meter descriptions (use /stats/meterconfig)"));
    }
    let out = of14::meter_config(stats_14(&dp, Q13::MeterConfig { meter_id: meter_id(request)? })?);
    by_dpid(dpid, Value::Array(out))
}

fn meter_features(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = meter_datapath(api, request)?;
    let out = if dp.family() == Family::Of14 {
        of14::meter_features(stats_14(&dp, Q13::MeterFeatures)?)
    } else {
        stats_13(&dp, Q13::MeterFeatures)?
            .into_iter()
            .filter_map(|part| match part {
                R13::MeterFeatures(features) => Some(stats::meter_features_13(&features)),
                _ => None,
            })
            .collect()
    };
    by_dpid(dpid, Value::Array(out))
}

/// A role request of the datapath's version (1.2 on).
fn role_request(dp: &Switch<'_>, role: u32) -> ApiResult<Message> {
    let request = v1_3::Role { role, generation_id: 0 };
    Ok(match dp.version() {
        OFP_VERSION_1_2 => v1_2::Message::RoleRequest(request).into(),
        OFP_VERSION_1_3 => v1_3::Message::RoleRequest(request).into(),
        OFP_VERSION_1_4 => v1_4::Message::RoleRequest(request).into(),
        OFP_VERSION_1_5 => v1_5::Message::RoleRequest(v1_5::Role { role, short_id: 0, generation_id: 0 }).into(),
        _ => return Err(dp.not_here("roles")),
    })
}

fn get_role(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (dpid, dp) = param_dpid(api, request)?;
    let mut out = Vec::new();
    for reply in ask(&dp, role_request(&dp, 0)?)? {
        if let Message::V1_2(v1_2::Message::RoleReply(_))
        | Message::V1_3(v1_3::Message::RoleReply(_))
        | Message::V1_4(v1_4::Message::RoleReply(_))
        | Message::V1_5(v1_5::Message::RoleReply(_)) = reply
        {
            // Ryu: the reply's `to_jsondict()` with the role as a name (1.5's has the short id too).
            let mut role = of14::unwrap(&tatsu_plugin_api::ofproto::json::to_json(&reply));
            if let Some(n) = role.get("role").and_then(Value::as_u64) {
                role.insert("role".to_owned(), ROLES.to_user(n));
            }
            out.push(Value::Object(role));
        }
    }
    by_dpid(dpid, Value::Array(out))
}

// ---------------------------------------------------------------------------------------------------------------
// Modifications

const FLOW_ENTRY_FIELDS: &[&str] = &[
    "dpid",
    "cookie",
    "cookie_mask",
    "table_id",
    "idle_timeout",
    "hard_timeout",
    "priority",
    "buffer_id",
    "out_port",
    "out_group",
    "flags",
    "match",
    "actions",
];

/// The fields of 1.4's and 1.5's flow entries: `importance`, and `instructions` instead of `actions`.
const FLOW_ENTRY_FIELDS_14: &[&str] = &[
    "dpid",
    "cookie",
    "cookie_mask",
    "table_id",
    "idle_timeout",
    "hard_timeout",
    "priority",
    "buffer_id",
    "out_port",
    "out_group",
    "flags",
    "importance",
    "match",
    "instructions",
];

/// The flow mod for Ryu's flow entry body and `command` (`OFPFC_*`), with `instructions` (1.2 and 1.3: from
/// the body's `actions`).
fn flow_mod_with(
    map: &Map<String, Value>,
    command: u8,
    instructions: Vec<v1_3::Instruction>,
) -> ApiResult<v1_3::FlowMod> {
    Ok(v1_3::FlowMod {
        cookie: get_int(map, "cookie", "", 0)?,
        cookie_mask: get_int(map, "cookie_mask", "", 0)?,
        table_id: TABLES.get(map, "table_id", "", 0)?,
        command,
        idle_timeout: get_int(map, "idle_timeout", "", 0)?,
        hard_timeout: get_int(map, "hard_timeout", "", 0)?,
        priority: get_int(map, "priority", "", 0)?,
        buffer_id: get_int(map, "buffer_id", "", 0xffff_ffff)?,
        out_port: PORTS_13.get(map, "out_port", "", 0xffff_ffff)?,
        out_group: GROUPS.get(map, "out_group", "", 0xffff_ffff)?,
        flags: get_int(map, "flags", "", 0)?,
        match_: match_json::to_match_13(map.get("match").unwrap_or(&json!({})), "match")?,
        instructions,
    })
}

/// The 1.2/1.3 flow mod for Ryu's flow entry body and `command` (`OFPFC_*`).
pub fn flow_mod_13(map: &Map<String, Value>, command: u8) -> ApiResult<v1_3::FlowMod> {
    ignore_unknown_fields(map, FLOW_ENTRY_FIELDS, "");
    let instructions = actions::to_instructions_13(map.get("actions").unwrap_or(&json!([])), "actions")?;
    flow_mod_with(map, command, instructions)
}

/// The 1.4/1.5 flow mod for Ryu's flow entry body (`instructions`, `importance`; Ryu reads no `actions` there).
pub fn flow_mod_14(map: &Map<String, Value>, command: u8, version: u8) -> ApiResult<v1_4::FlowMod> {
    if map.contains_key("actions") && !map.contains_key("instructions") {
        log::warn!("a flow entry for OpenFlow 1.4/1.5 has `actions` and no `instructions`: like Ryu, it gets none");
    }
    ignore_unknown_fields(map, FLOW_ENTRY_FIELDS_14, "");
    let instructions = of14::to_instructions(map.get("instructions").unwrap_or(&json!([])), "instructions", version)?;
    Ok(v1_4::FlowMod {
        flow: flow_mod_with(map, command, instructions)?,
        importance: get_int(map, "importance", "", 0)?,
    })
}

/// The 1.0 flow mod for Ryu's flow entry body (`table_id`, `cookie_mask` and `out_group` have no 1.0 meaning and
/// are ignored, as Ryu does).
pub fn flow_mod_10(map: &Map<String, Value>, command: u16) -> ApiResult<v1_0::FlowMod> {
    ignore_unknown_fields(map, FLOW_ENTRY_FIELDS, "");
    Ok(v1_0::FlowMod {
        match_: match_json::to_match_10(map.get("match").unwrap_or(&json!({})), "match")?,
        cookie: get_int(map, "cookie", "", 0)?,
        command,
        idle_timeout: get_int(map, "idle_timeout", "", 0)?,
        hard_timeout: get_int(map, "hard_timeout", "", 0)?,
        priority: get_int(map, "priority", "", 0)?,
        buffer_id: get_int(map, "buffer_id", "", 0xffff_ffff)?,
        out_port: PORTS_10.get(map, "out_port", "", 0xffff)?,
        flags: get_int(map, "flags", "", 0)?,
        actions: actions::to_actions_10(map.get("actions").unwrap_or(&json!([])), "actions")?,
    })
}

fn command_404(cmd: &str, known: &str) -> HttpResponse {
    HttpResponse::error(404, &format!("unknown command {cmd:?} (one of {known})"))
}

/// A 1.2 to 1.5 flow mod as a message of the datapath's version.
fn flow_mod_message(version: u8, flow: v1_3::FlowMod, importance: u16) -> Message {
    match version {
        OFP_VERSION_1_2 => v1_2::Message::FlowMod(flow).into(),
        OFP_VERSION_1_4 => v1_4::Message::FlowMod(v1_4::FlowMod { flow, importance }).into(),
        OFP_VERSION_1_5 => v1_5::Message::FlowMod(v1_4::FlowMod { flow, importance }).into(),
        _ => v1_3::Message::FlowMod(flow).into(),
    }
}

fn flow_entry(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let cmd = request.param("cmd").unwrap_or("");
    let command: u8 = match cmd {
        "add" => 0,
        "modify" => 1,
        "modify_strict" => 2,
        "delete" => 3,
        "delete_strict" => 4,
        _ => return Err(command_404(cmd, "add, modify, modify_strict, delete, delete_strict")),
    };
    let map = body(request)?;
    let dp = command_datapath(api, &map)?;
    let message: Message = match dp.family() {
        Family::Of10 => v1_0::Message::FlowMod(flow_mod_10(&map, u16::from(command))?).into(),
        Family::Of13 => flow_mod_message(dp.version(), flow_mod_13(&map, command)?, 0),
        Family::Of14 => {
            let fm = flow_mod_14(&map, command, dp.version())?;
            flow_mod_message(dp.version(), fm.flow, fm.importance)
        }
    };
    modify(api, &dp, message, "flow entry")
}

fn clear_flows(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (_, dp) = param_dpid(api, request)?;
    let message: Message = match dp.family() {
        Family::Of10 => v1_0::Message::FlowMod(v1_0::FlowMod::delete(v1_0::Match::new())).into(),
        // Every table (Ryu: `OFPTT_ALL`).
        _ => flow_mod_message(dp.version(), v1_3::FlowMod::delete(v1_3::Match::new()), 0),
    };
    modify(api, &dp, message, "flow table clear")
}

/// The command (add, modify, delete), body and datapath (1.2 on) of a group or meter entry request.
fn group_or_meter_command<'a>(
    api: &Api<'a>,
    request: &HttpRequest<'_>,
    what: &str,
) -> ApiResult<(u16, Map<String, Value>, Switch<'a>)> {
    let cmd = request.param("cmd").unwrap_or("");
    let command: u16 = match cmd {
        "add" => 0,
        "modify" => 1,
        "delete" => 2,
        _ => return Err(command_404(cmd, "add, modify, delete")),
    };
    let map = body(request)?;
    let dp = command_datapath(api, &map)?;
    if dp.family() == Family::Of10 || (what == "meters" && dp.version() == OFP_VERSION_1_2) {
        return Err(dp.not_here(what));
    }
    Ok((command, map, dp))
}

fn group_entry(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (command, map, dp) = group_or_meter_command(api, request, "groups")?;
    let message: Message = match dp.version() {
        OFP_VERSION_1_2 => v1_2::Message::GroupMod(group_mod_13(&map, command)?).into(),
        OFP_VERSION_1_4 => v1_4::Message::GroupMod(group_mod_13(&map, command)?).into(),
        OFP_VERSION_1_5 => v1_5::Message::GroupMod(of14::group_mod_15(&map, command, group_type(&map)?)?).into(),
        _ => v1_3::Message::GroupMod(group_mod_13(&map, command)?).into(),
    };
    modify(api, &dp, message, "group entry")
}

/// The group type of a group entry body (`ALL` if absent).
fn group_type(map: &Map<String, Value>) -> ApiResult<u8> {
    Ok(match get_str(map, "type", "")?.unwrap_or("ALL") {
        "ALL" => 0,
        "SELECT" => 1,
        "INDIRECT" => 2,
        "FF" => 3,
        other => return Err(bad(format!("`type`: unknown group type {other:?} (ALL, SELECT, INDIRECT, FF)"))),
    })
}

/// The group mod (1.2 to 1.4) for Ryu's group entry body.
pub fn group_mod_13(map: &Map<String, Value>, command: u16) -> ApiResult<v1_3::GroupMod> {
    ignore_unknown_fields(map, &["dpid", "type", "group_id", "buckets"], "");
    let group_type = group_type(map)?;
    let mut buckets = Vec::new();
    if let Some(list) = map.get("buckets") {
        for (i, item) in array(list, "buckets")?.iter().enumerate() {
            let path = format!("buckets[{i}]");
            let bucket = object(item, &path)?;
            ignore_unknown_fields(bucket, &["weight", "watch_port", "watch_group", "actions"], &path);
            buckets.push(Bucket {
                weight: get_int(bucket, "weight", &path, 0)?,
                watch_port: PORTS_13.get(bucket, "watch_port", &path, 0xffff_ffff)?,
                watch_group: GROUPS.get(bucket, "watch_group", &path, 0xffff_ffff)?,
                actions: actions::to_actions_13(
                    bucket.get("actions").unwrap_or(&json!([])),
                    &format!("{path}.actions"),
                )?,
            });
        }
    }
    Ok(v1_3::GroupMod { command, group_type, group_id: GROUPS.get(map, "group_id", "", 0)?, buckets })
}

fn meter_entry(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (command, map, dp) = group_or_meter_command(api, request, "meters")?;
    let meter = meter_mod_13(&map, command)?;
    let message: Message = match dp.version() {
        OFP_VERSION_1_4 => v1_4::Message::MeterMod(meter).into(),
        OFP_VERSION_1_5 => v1_5::Message::MeterMod(meter).into(),
        _ => v1_3::Message::MeterMod(meter).into(),
    };
    modify(api, &dp, message, "meter entry")
}

/// The meter mod for Ryu's meter entry body.
pub fn meter_mod_13(map: &Map<String, Value>, command: u16) -> ApiResult<v1_3::MeterMod> {
    ignore_unknown_fields(map, &["dpid", "flags", "meter_id", "bands"], "");
    let mut flags = 0u16;
    let names: Vec<Value> = match map.get("flags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(one) => vec![one.clone()],
    };
    for name in &names {
        flags |= match name.as_str() {
            Some("KBPS") => 1,
            Some("PKTPS") => 2,
            Some("BURST") => 4,
            Some("STATS") => 8,
            _ => return Err(bad(format!("`flags`: unknown meter flag {name} (KBPS, PKTPS, BURST, STATS)"))),
        };
    }
    let mut bands = Vec::new();
    if let Some(list) = map.get("bands") {
        for (i, item) in array(list, "bands")?.iter().enumerate() {
            let path = format!("bands[{i}]");
            let band = object(item, &path)?;
            let rate: u32 = get_int(band, "rate", &path, 0)?;
            let burst_size: u32 = get_int(band, "burst_size", &path, 0)?;
            bands.push(match get_str(band, "type", &path)?.unwrap_or("") {
                "DROP" => {
                    ignore_unknown_fields(band, &["type", "rate", "burst_size"], &path);
                    MeterBand::Drop { rate, burst_size }
                }
                "DSCP_REMARK" => {
                    ignore_unknown_fields(band, &["type", "rate", "burst_size", "prec_level"], &path);
                    MeterBand::DscpRemark { rate, burst_size, prec_level: get_int(band, "prec_level", &path, 0)? }
                }
                "EXPERIMENTER" => {
                    ignore_unknown_fields(band, &["type", "rate", "burst_size", "experimenter"], &path);
                    MeterBand::Experimenter {
                        rate,
                        burst_size,
                        experimenter: get_int(band, "experimenter", &path, 0)?,
                        data: Vec::new(),
                    }
                }
                other => {
                    return Err(bad(format!(
                        "`{path}.type`: unknown band type {other:?} (DROP, DSCP_REMARK, EXPERIMENTER)"
                    )))
                }
            });
        }
    }
    Ok(v1_3::MeterMod { command, flags, meter_id: METERS.get(map, "meter_id", "", 0)?, bands })
}

fn port_mod(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let cmd = request.param("cmd").unwrap_or("");
    if cmd != "modify" {
        return Err(command_404(cmd, "modify"));
    }
    let map = body(request)?;
    let dpid = parse_dpid(map.get("dpid").ok_or_else(|| bad("`dpid` is required"))?, "dpid")?;
    let info =
        api.ctx.datapath(dpid).ok_or_else(|| HttpResponse::error(404, &format!("no datapath {dpid} is connected")))?;
    let dp = datapath(api, dpid)?;
    let known: &[&str] = if dp.family() == Family::Of14 {
        &["dpid", "port_no", "config", "mask", "hw_addr", "properties"]
    } else {
        &["dpid", "port_no", "config", "mask", "hw_addr", "advertise"]
    };
    ignore_unknown_fields(&map, known, "");
    let port_value = map.get("port_no").ok_or_else(|| bad("`port_no` is required"))?;
    let port_no: u32 = if dp.family() == Family::Of10 {
        u32::from(PORTS_10.from_user::<u16>(port_value, "port_no")?)
    } else {
        PORTS_13.from_user(port_value, "port_no")?
    };
    let port = info
        .ports
        .iter()
        .find(|p| p.port_no == port_no)
        .ok_or_else(|| HttpResponse::error(404, &format!("datapath {dpid} has no port {port_no}")))?;
    let hw_addr: MacAddr = match get_str(&map, "hw_addr", "")? {
        Some(text) => text.parse().map_err(|_| bad(format!("`hw_addr`: {text:?} is not a MAC address")))?,
        None => port.hw_addr,
    };
    let config: u32 = get_int(&map, "config", "", 0)?;
    let mask: u32 = get_int(&map, "mask", "", 0)?;
    let message: Message = match dp.version() {
        OFP_VERSION_1_0 => {
            let port_no = u16::try_from(port_no).map_err(|_| bad("`port_no` is out of range"))?;
            let advertise = get_int(&map, "advertise", "", port.advertised)?;
            v1_0::Message::PortMod(v1_0::PortMod { port_no, hw_addr, config, mask, advertise }).into()
        }
        OFP_VERSION_1_2 | OFP_VERSION_1_3 => {
            // Like Ryu, the port's advertised features unless the body says.
            let advertise = get_int(&map, "advertise", "", port.advertised)?;
            let port_mod = v1_3::PortMod { port_no, hw_addr, config, mask, advertise };
            if dp.version() == OFP_VERSION_1_2 {
                v1_2::Message::PortMod(port_mod).into()
            } else {
                v1_3::Message::PortMod(port_mod).into()
            }
        }
        version => {
            let properties = of14::port_mod_properties(map.get("properties"))?;
            let port_mod = v1_4::PortMod { port_no, hw_addr, config, mask, properties };
            if version == OFP_VERSION_1_4 {
                v1_4::Message::PortMod(port_mod).into()
            } else {
                v1_5::Message::PortMod(port_mod).into()
            }
        }
    };
    modify(api, &dp, message, "port modification")
}

fn experimenter(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let (_, dp) = param_dpid(api, request)?;
    let map = body(request)?;
    ignore_unknown_fields(&map, &["dpid", "experimenter", "exp_type", "data_type", "data"], "");
    let data_type = get_str(&map, "data_type", "")?.unwrap_or("ascii");
    let data = get_str(&map, "data", "")?.unwrap_or("");
    let data = match data_type {
        "ascii" => data.as_bytes().to_vec(),
        "base64" => util::base64_decode(data).ok_or_else(|| bad("`data` is not base64"))?,
        other => return Err(bad(format!("`data_type` must be \"ascii\" or \"base64\", not {other:?}"))),
    };
    let message = v1_3::Experimenter {
        experimenter: get_int(&map, "experimenter", "", 0)?,
        exp_type: get_int(&map, "exp_type", "", 0)?,
        data,
    };
    let message: Message = match dp.version() {
        OFP_VERSION_1_2 => v1_2::Message::Experimenter(message).into(),
        OFP_VERSION_1_3 => v1_3::Message::Experimenter(message).into(),
        OFP_VERSION_1_4 => v1_4::Message::Experimenter(message).into(),
        OFP_VERSION_1_5 => v1_5::Message::Experimenter(message).into(),
        _ => return Err(dp.not_here("experimenter messages over ofctl_rest")),
    };
    modify(api, &dp, message, "experimenter message")
}

fn set_role(api: &Api<'_>, request: &HttpRequest<'_>) -> ApiResult<HttpResponse> {
    let map = body(request)?;
    ignore_unknown_fields(&map, &["dpid", "role"], "");
    let dp = command_datapath(api, &map)?;
    let role: u32 = ROLES.get(&map, "role", "", 1)?;
    ask(&dp, role_request(&dp, role)?)?;
    Ok(HttpResponse::new(200, "text/plain; charset=utf-8", Vec::new()))
}

#[cfg(test)]
mod kit_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("object"),
        }
    }

    #[test]
    fn flow_entries_translate_with_ryu_defaults() {
        let body = map(json!({"dpid": 1, "priority": "10", "cookie": "0x5", "match": {"in_port": 1},
                              "actions": [{"type": "OUTPUT", "port": 2}]}));
        let fm = flow_mod_13(&body, 0).expect("valid");
        assert_eq!((fm.priority, fm.cookie, fm.table_id, fm.buffer_id), (10, 5, 0, 0xffff_ffff));
        assert_eq!(
            fm.instructions,
            vec![v1_3::Instruction::ApplyActions(vec![v1_3::Action::Output { port: 2, max_len: 0xffe5 }])]
        );
        // Keys Ryu does not read are ignored (Ryu's own `command`, a typo), values are checked.
        let ignored = flow_mod_13(&map(json!({"dpid": 1, "priorty": 1, "command": "add"})), 0).expect("ignored");
        assert_eq!(ignored.priority, 0);
        let e = flow_mod_13(&map(json!({"dpid": 1, "priority": 70000})), 0).expect_err("range");
        assert!(e.body_text().contains("`priority` is out of range"), "{}", e.body_text());
        let fm10 = flow_mod_10(&body, 0).expect("valid 1.0");
        assert_eq!(fm10.actions, vec![v1_0::Action::Output { port: 2, max_len: 0xffe5 }]);
    }

    #[test]
    fn groups_and_meters_translate() {
        let group = group_mod_13(
            &map(json!({"dpid": 1, "type": "SELECT", "group_id": 2,
            "buckets": [{"weight": 10, "actions": [{"type": "OUTPUT", "port": 1}]}]})),
            0,
        )
        .expect("valid");
        assert_eq!((group.group_type, group.group_id, group.buckets.len()), (1, 2, 1));
        assert_eq!(group.buckets[0].watch_port, 0xffff_ffff);
        let e = group_mod_13(&map(json!({"type": "MANY"})), 0).expect_err("type");
        assert!(e.body_text().contains("MANY"), "{}", e.body_text());
        let meter = meter_mod_13(
            &map(json!({"dpid": 1, "flags": ["PKTPS", "BURST", "STATS"], "meter_id": 2,
            "bands": [{"type": "DROP", "rate": 100, "burst_size": 10}]})),
            0,
        )
        .expect("valid");
        assert_eq!((meter.flags, meter.meter_id), (14, 2));
        assert_eq!(meter.bands, vec![MeterBand::Drop { rate: 100, burst_size: 10 }]);
        let single = meter_mod_13(&map(json!({"flags": "KBPS", "meter_id": 1})), 0).expect("valid");
        assert_eq!(single.flags, 1);
        let with_len = meter_mod_13(&map(json!({"bands": [{"type": "DROP", "rate": 5, "len": 16}]})), 0).expect("len");
        assert_eq!(with_len.bands, vec![MeterBand::Drop { rate: 5, burst_size: 0 }]);
        let e = meter_mod_13(&map(json!({"bands": [{"type": "DROP", "rate": -1}]})), 0).expect_err("value");
        assert!(e.body_text().contains("bands[0].rate"), "{}", e.body_text());
    }

    #[test]
    fn entries_too_long_to_encode_are_400_naming_the_limit() {
        // The attacker's shape: 4,090 outputs and an experimenter action that fills the message past 65,535.
        let mut actions: Vec<Value> = vec![json!({"type": "OUTPUT", "port": 2}); 4090];
        actions.push(json!({"type": "EXPERIMENTER", "experimenter": 1, "data_type": "base64",
                            "data": util::base64_encode(&[0; 72])}));
        let fm = flow_mod_13(&map(json!({"dpid": 1, "actions": actions})), 0).expect("a valid entry");
        let e = v1_3::Message::FlowMod(fm).to_vec(1).expect_err("too long");
        let reply = too_long("flow entry", &e);
        assert_eq!(reply.status, 400);
        assert_eq!(
            serde_json::from_slice::<Value>(&reply.body).expect("json")["error"],
            "the flow entry encodes to 65,584 bytes; an OpenFlow message holds at most 65,535"
        );
        // Longer still: an instruction overflows first, and the answer still names the message limit.
        let e = EncodeError::TooLong { what: "an instruction", length: 80_024, limit: 65_535 };
        let text = too_long("flow entry", &e).body_text();
        assert!(text.contains("encodes to more than 65,535 bytes; an OpenFlow message holds at most 65,535"), "{text}");
        assert!(text.contains("an instruction encodes to 80,024 bytes"), "{text}");
        let e = EncodeError::TooLong { what: "an OXM TLV body", length: 300, limit: 255 };
        let text = too_long("flow entry", &e).body_text();
        assert!(text.contains("the flow entry cannot be encoded: an OXM TLV body encodes to 300 bytes"), "{text}");
    }

    #[test]
    fn dpids_parse_like_ryu() {
        assert_eq!(parse_dpid(&json!("1"), "dpid").ok(), Some(1));
        assert_eq!(parse_dpid(&json!("0x10"), "dpid").ok(), Some(16));
        assert_eq!(parse_dpid(&json!(7), "dpid").ok(), Some(7));
        assert!(parse_dpid(&json!("abc"), "dpid").is_err());
    }
}
