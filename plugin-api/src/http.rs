//! HTTP routes served by apps (Ryu's `WSGIApplication` controllers): an app registers `METHOD /path/{param}` with
//! [`crate::Handlers::on_http`], the host's web server matches requests to routes and hands each one to the app as
//! an [`HttpRequest`]; the handler's [`HttpResponse`] goes back to the client.
//!
//! ```no_run
//! use tatsu_plugin_api::http::{HttpRequest, HttpResponse};
//! use tatsu_plugin_api::{Context, Handlers};
//! # struct Counter { hits: u64 }
//! # impl tatsu_plugin_api::App for Counter {
//! #     const NAME: &'static str = "counter";
//! #     type Config = ();
//! #     fn new(_: &Context, _: ()) -> Result<Self, tatsu_plugin_api::BoxError> { Ok(Counter { hits: 0 }) }
//! fn register(&self, handlers: &mut Handlers<Self>) {
//!     handlers.on_http("GET", "/counter/{name}", |app: &mut Counter, _ctx: &Context, request: &HttpRequest| {
//!         app.hits += 1;
//!         HttpResponse::json(200, &serde_json::json!({"name": request.param("name"), "hits": app.hits}))
//!     });
//! }
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use abi_stable::std_types::{RSlice, RStr};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::abi::{HttpRequestRef, Subscription};
use crate::app::{App, Handlers};
use crate::context::Context;
use crate::panic::{self, Caught};

/// `application/json`.
pub const JSON: &str = "application/json";
/// `text/plain; charset=utf-8`.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// What the host tells the app about a request, besides its body.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-encoded as received, without the query.
    pub path: String,
    /// The query string (after `?`), raw; empty if none.
    pub query: String,
    /// The route's parameters, percent-decoded.
    pub params: BTreeMap<String, String>,
    /// The request's `Content-Type`, if any.
    pub content_type: Option<String>,
}

/// An HTTP request to one of the app's routes, borrowed for the handler call.
#[derive(Debug, Clone)]
pub struct HttpRequest<'a> {
    pub(crate) route: &'a str,
    pub(crate) meta: RequestMeta,
    pub(crate) body: &'a [u8],
}

impl<'a> HttpRequest<'a> {
    /// A request built by hand (for unit tests of handlers).
    pub fn new(route: &'a str, meta: RequestMeta, body: &'a [u8]) -> Self {
        HttpRequest { route, meta, body }
    }

    /// The route as registered, e.g. `GET /stats/flow/{dpid}`.
    pub fn route(&self) -> &str {
        self.route
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.meta.method
    }

    /// The path (percent-encoded, without the query).
    pub fn path(&self) -> &str {
        &self.meta.path
    }

    /// A route parameter (`{name}` in the pattern), percent-decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.meta.params.get(name).map(String::as_str)
    }

    /// Every route parameter.
    pub fn params(&self) -> &BTreeMap<String, String> {
        &self.meta.params
    }

    /// The raw query string (empty if none).
    pub fn query(&self) -> &str {
        &self.meta.query
    }

    /// The first value of query parameter `name`, percent-decoded (`+` is a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.meta.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key, true) == name).then(|| percent_decode(value, true))
        })
    }

    /// The request's `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.meta.content_type.as_deref()
    }

    /// The body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The body as text (an error if it is not UTF-8).
    pub fn body_str(&self) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.body)
    }

    /// The body deserialized from JSON; the error says where and what (serde's message, e.g. "unknown field
    /// `prio`, expected one of ...").
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.body)
    }
}

/// A response: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with any body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse { status, content_type: content_type.to_owned(), body: body.into() }
    }

    /// `value` as JSON (a 500 if it cannot be serialized).
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => HttpResponse { status, content_type: JSON.to_owned(), body },
            Err(e) => HttpResponse::error(500, &format!("the response is not serializable: {e}")),
        }
    }

    /// Plain text.
    pub fn text(status: u16, text: &str) -> Self {
        HttpResponse::new(status, TEXT, text)
    }

    /// An error: `{"error": message}` as JSON.
    pub fn error(status: u16, message: &str) -> Self {
        HttpResponse::json(status, &serde_json::json!({ "error": message }))
    }

    /// The body as text, for tests and logs.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl From<Result<HttpResponse, HttpResponse>> for HttpResponse {
    fn from(result: Result<HttpResponse, HttpResponse>) -> Self {
        result.unwrap_or_else(|error| error)
    }
}

impl fmt::Display for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, String::from_utf8_lossy(&self.body))
    }
}

type InLoopHandler<A> = Box<dyn FnMut(&mut A, &Context, &HttpRequest<'_>) -> HttpResponse + Send>;
type SpawnedHandler = Arc<dyn Fn(&Context, &HttpRequest<'_>) -> HttpResponse + Send + Sync>;

/// How a route's handler runs.
pub(crate) enum HttpHandler<A> {
    /// On the app's event loop, in order with its other events, with `&mut A`.
    InLoop(InLoopHandler<A>),
    /// On a green thread of its own per request.
    Spawned(SpawnedHandler),
}

fn route_key(method: &str, pattern: &str) -> String {
    format!("{} {}", method.trim().to_ascii_uppercase(), pattern.trim())
}

impl<A: App> Handlers<A> {
    /// Serves `method pattern` (e.g. `"GET"`, `"/stats/flow/{dpid}"`; `{name}` matches one path segment, read with
    /// [`HttpRequest::param`]) with `handler`, on the app's event loop: requests are handled one at a time, in
    /// order with the app's other events. A handler that panics answers 500 with the panic message; the app goes
    /// on. Registering the same route twice keeps the last handler; a route another app serves makes this app fail
    /// to start.
    pub fn on_http<R, F>(&mut self, method: &str, pattern: &str, mut handler: F) -> &mut Self
    where
        R: Into<HttpResponse>,
        F: FnMut(&mut A, &Context, &HttpRequest<'_>) -> R + Send + 'static,
    {
        let boxed =
            Box::new(move |app: &mut A, ctx: &Context, request: &HttpRequest<'_>| handler(app, ctx, request).into());
        self.http.insert(route_key(method, pattern), HttpHandler::InLoop(boxed));
        self
    }

    /// Like [`Handlers::on_http`], but each request runs on a green thread of its own (Ryu's one greenthread per
    /// WSGI request), without access to the app's state: for handlers that wait (on switches, other apps), so
    /// that one slow request does not hold up the others or the app's events.
    pub fn on_http_spawn<R, F>(&mut self, method: &str, pattern: &str, handler: F) -> &mut Self
    where
        R: Into<HttpResponse>,
        F: Fn(&Context, &HttpRequest<'_>) -> R + Send + Sync + 'static,
    {
        let shared = Arc::new(move |ctx: &Context, request: &HttpRequest<'_>| handler(ctx, request).into());
        self.http.insert(route_key(method, pattern), HttpHandler::Spawned(shared));
        self
    }
}

/// The subscriptions for the app's routes.
pub(crate) fn subscriptions<A>(handlers: &Handlers<A>) -> impl Iterator<Item = Subscription> + '_ {
    handlers.http.keys().map(|route| {
        let (method, pattern) = route.split_once(' ').unwrap_or((route.as_str(), ""));
        Subscription::Http { method: method.into(), pattern: pattern.into() }
    })
}

fn reply(ctx: &Context, request_id: u64, response: &HttpResponse) {
    let host = ctx.host();
    host.services.http_reply()(
        host.app,
        request_id,
        response.status,
        RStr::from(response.content_type.as_str()),
        RSlice::from_slice(&response.body),
    );
}

fn panicked(ctx: &Context, event: &str, message: &str) -> HttpResponse {
    crate::adapter::report_fault(ctx, event, &format!("panicked: {message}"));
    HttpResponse::error(500, &format!("the handler panicked: {message}"))
}

/// Answers a request with 503 if it is dropped unanswered (its green thread could not start or was stopped).
struct ReplyGuard {
    ctx: Context,
    id: u64,
    answered: bool,
}

impl ReplyGuard {
    fn answer(&mut self, response: &HttpResponse) {
        reply(&self.ctx, self.id, response);
        self.answered = true;
    }
}

impl Drop for ReplyGuard {
    fn drop(&mut self) {
        if !self.answered {
            reply(&self.ctx, self.id, &HttpResponse::error(503, "the app is stopping"));
        }
    }
}

/// Runs the handler of an HTTP request and answers it; `false` if the app is stopping.
pub(crate) fn dispatch<A: App>(
    app: &mut A,
    handlers: &mut Handlers<A>,
    ctx: &Context,
    request: &HttpRequestRef<'_>,
) -> bool {
    let route = request.route.as_str();
    let meta = RequestMeta {
        method: request.method.to_string(),
        path: request.path.to_string(),
        query: request.query.to_string(),
        params: request.params.iter().map(|p| (p.name.to_string(), p.value.to_string())).collect(),
        content_type: request.content_type.map(|t| t.to_string()).into_option(),
    };
    let Some(handler) = handlers.http.get_mut(route) else {
        reply(ctx, request.id, &HttpResponse::error(404, &format!("app `{}` has no route `{route}`", A::NAME)));
        return true;
    };
    match handler {
        HttpHandler::InLoop(handler) => {
            let http = HttpRequest { route, meta, body: &request.body };
            let (response, carry_on) = match panic::catch(|| handler(app, ctx, &http)) {
                Ok(response) => (response, true),
                Err(Caught::Panic(message)) => (panicked(ctx, &format!("HTTP request `{route}`"), &message), true),
                Err(Caught::Exit) => (HttpResponse::error(503, "the app is stopping"), false),
            };
            reply(ctx, request.id, &response);
            carry_on
        }
        HttpHandler::Spawned(handler) => {
            let handler = Arc::clone(handler);
            let route = route.to_owned();
            let body = request.body.to_vec();
            let guard = ReplyGuard { ctx: *ctx, id: request.id, answered: false };
            let ctx = *ctx;
            crate::green::spawn_on(*ctx.host(), move || {
                let mut guard = guard;
                let http = HttpRequest { route: &route, meta, body: &body };
                let response = match panic::catch(|| handler(&ctx, &http)) {
                    Ok(response) => response,
                    Err(Caught::Panic(message)) => panicked(&ctx, &format!("HTTP request `{route}`"), &message),
                    // The guard answers 503.
                    Err(Caught::Exit) => return,
                };
                guard.answer(&response);
            });
            true
        }
    }
}

pub use crate::abi::percent_decode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_and_query_parameters() {
        assert_eq!(percent_decode("a%20b%2Fc", false), "a b/c");
        assert_eq!(percent_decode("a+b%", true), "a b%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        let meta = RequestMeta { query: "x=1&name=a%20b&flag".to_owned(), ..RequestMeta::default() };
        let request = HttpRequest::new("GET /", meta, b"");
        assert_eq!(request.query_param("name").as_deref(), Some("a b"));
        assert_eq!(request.query_param("flag").as_deref(), Some(""));
        assert_eq!(request.query_param("nope"), None);
    }

    #[test]
    fn responses() {
        let response = HttpResponse::error(404, "no such datapath");
        assert_eq!(response.content_type, JSON);
        assert_eq!(response.body_text(), r#"{"error":"no such datapath"}"#);
        let either: HttpResponse = Err::<HttpResponse, _>(HttpResponse::text(400, "bad")).into();
        assert_eq!(either.status, 400);
    }
}
