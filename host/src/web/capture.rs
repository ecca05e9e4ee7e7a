//! The host's own REST routes for OpenFlow captures (served before apps' routes; apps do not use `/tatsu/`):
//!
//! - `GET /tatsu/capture`: what is captured ([`Captures::status`]).
//! - `PUT /tatsu/capture/{dpid}` with `{"enabled": true}` or `false`: one datapath (16 hex digits, `0x` and hex,
//!   or decimal); `PUT /tatsu/capture` the same for every connection. The answer is `{"result": "..."}`, or a 409
//!   when the host has no capture directory.

use crate::capture::{parse_dpid, Captures};

use super::Response;

/// The prefix of these routes.
pub(super) const PREFIX: &str = "/tatsu/capture";

/// Answers a request under [`PREFIX`]; `None` for any other path.
pub(super) fn answer(captures: &Captures, method: &str, path: &str, body: &[u8]) -> Option<Response> {
    let rest = path.strip_prefix(PREFIX)?;
    let dpid = match rest.strip_prefix('/') {
        None if rest.is_empty() => None,
        Some(dpid) if !dpid.is_empty() && !dpid.contains('/') => Some(dpid),
        _ => return None,
    };
    Some(match method {
        "GET" if dpid.is_none() => Response::json(200, &captures.status()),
        "PUT" => switch(captures, dpid, body),
        _ => {
            let allowed = if dpid.is_none() { "GET, PUT" } else { "PUT" };
            Response::error(405, &format!("{method} is not allowed on {path} (allowed: {allowed})"))
                .with_header("Allow", allowed.to_owned())
        }
    })
}

fn switch(captures: &Captures, dpid: Option<&str>, body: &[u8]) -> Response {
    let dpid = match dpid.map(parse_dpid).transpose() {
        Ok(dpid) => dpid,
        Err(e) => return Response::error(400, &e),
    };
    let enabled = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| v.get("enabled")?.as_bool());
    let Some(enabled) = enabled else {
        return Response::error(400, "the body must be {\"enabled\": true} or {\"enabled\": false}");
    };
    match captures.set(dpid, enabled) {
        Ok(result) => Response::json(200, &serde_json::json!({ "result": result })),
        Err(e) => Response::error(409, &e),
    }
}
