//! An etcd v3 client over etcd's own HTTP/JSON gateway (`/v3/kv/...`, `/v3/lease/...`, `/v3/watch`), spoken with
//! [`http`](super::http) on the host's green sockets: no second async runtime in the host, no gRPC stack, and
//! every wait parks only the calling coroutine. Keys and values are base64 on the wire, 64-bit numbers are JSON
//! strings, and fields at their default value are left out (proto3 JSON): a missing number is 0, a missing
//! `succeeded` false.
//!
//! Several endpoints: each call starts with the one that answered last and moves on to the next when one cannot be
//! reached, times out, or says it has no quorum (gRPC codes UNAVAILABLE and DEADLINE_EXCEEDED). Any other answer
//! from etcd is final. Calls must run on a coroutine (see [`super::on_coroutine`]).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http;
use crate::base64;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtcdError {
    /// No endpoint gave an answer: unreachable, too slow, or without a quorum. Each endpoint's reason is listed.
    Unavailable(String),
    /// etcd refused the call (a gRPC status code and its message): a lease not found is code 5.
    Refused {
        /// The gRPC status code.
        code: i64,
        /// etcd's message.
        message: String,
    },
    /// etcd's answer could not be understood.
    Protocol(String),
}

impl EtcdError {
    /// gRPC NOT_FOUND (a lease that expired or was revoked, say).
    pub fn is_not_found(&self) -> bool {
        matches!(self, EtcdError::Refused { code: 5, .. })
    }
}

impl fmt::Display for EtcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtcdError::Unavailable(why) => write!(f, "etcd unavailable ({why})"),
            EtcdError::Refused { code, message } => write!(f, "etcd refused: {message} (code {code})"),
            EtcdError::Protocol(why) => write!(f, "unexpected answer from etcd: {why}"),
        }
    }
}

/// A key and its value as etcd holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// The revision that created the key (since it last did not exist).
    pub create_revision: i64,
    /// The revision of its last change.
    pub mod_revision: i64,
    /// The lease it is attached to (0: none).
    pub lease: i64,
}

/// A condition of a transaction.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The key's create revision equals this (0: the key does not exist).
    CreateRevision(Vec<u8>, i64),
    /// The key's value equals this.
    Value(Vec<u8>, Vec<u8>),
    /// The key is attached to this lease.
    Lease(Vec<u8>, i64),
}

/// An operation of a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Puts a value, attached to a lease if not 0.
    Put { key: Vec<u8>, value: Vec<u8>, lease: i64 },
    /// Reads one key.
    Get(Vec<u8>),
    /// Deletes one key.
    Delete(Vec<u8>),
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnResult {
    /// Whether every compare held (the success branch ran).
    pub succeeded: bool,
    /// The store's revision after the transaction.
    pub revision: i64,
    /// The keys each `Get` of the branch that ran found, in order (empty for other operations).
    pub got: Vec<Vec<KeyValue>>,
}

/// A lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Its id.
    pub id: i64,
    /// Its TTL in seconds, as etcd granted it.
    pub ttl: i64,
}

/// A change seen by a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The key was created or changed.
    Put(KeyValue),
    /// The key was deleted (or its lease went); only `key` and `mod_revision` are set.
    Delete(KeyValue),
}

/// The client: endpoints and a per-call timeout. Cheap to share (`&Etcd` from any coroutine).
#[derive(Debug)]
pub struct Etcd {
    endpoints: Vec<String>,
    preferred: AtomicUsize,
    timeout: Duration,
}

/// Turns `http://host:port` (or `host:port`) into `host:port`.
fn endpoint_address(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.starts_with("https://") {
        return Err(format!("{url}: TLS is not supported; use an http:// endpoint"));
    }
    let address = url.strip_prefix("http://").unwrap_or(url).trim_end_matches('/');
    if address.is_empty() || address.contains('/') || !address.contains(':') {
        return Err(format!("{url:?} is not an etcd endpoint (http://HOST:PORT)"));
    }
    Ok(address.to_owned())
}

/// A 64-bit number field: etcd writes them as strings; absent means 0.
fn number(value: &Value, field: &str) -> i64 {
    match &value[field] {
        Value::String(text) => text.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn bytes_field(value: &Value, field: &str) -> Result<Vec<u8>, EtcdError> {
    match &value[field] {
        Value::Null => Ok(Vec::new()),
        Value::String(text) => {
            base64::decode(text).ok_or_else(|| EtcdError::Protocol(format!("{field} is not base64: {text:?}")))
        }
        other => Err(EtcdError::Protocol(format!("{field} is not a string: {other}"))),
    }
}

fn key_value(value: &Value) -> Result<KeyValue, EtcdError> {
    Ok(KeyValue {
        key: bytes_field(value, "key")?,
        value: bytes_field(value, "value")?,
        create_revision: number(value, "create_revision"),
        mod_revision: number(value, "mod_revision"),
        lease: number(value, "lease"),
    })
}

fn key_values(value: &Value) -> Result<Vec<KeyValue>, EtcdError> {
    value["kvs"].as_array().map_or(Ok(Vec::new()), |kvs| kvs.iter().map(key_value).collect())
}

/// The request body of a compare.
pub fn compare_json(compare: &Compare) -> Value {
    match compare {
        Compare::CreateRevision(key, revision) => json!({
            "key": base64::encode(key), "target": "CREATE", "result": "EQUAL",
            "create_revision": revision.to_string(),
        }),
        Compare::Value(key, value) => json!({
            "key": base64::encode(key), "target": "VALUE", "result": "EQUAL", "value": base64::encode(value),
        }),
        Compare::Lease(key, lease) => json!({
            "key": base64::encode(key), "target": "LEASE", "result": "EQUAL", "lease": lease.to_string(),
        }),
    }
}

/// The request body of an operation.
pub fn op_json(op: &Op) -> Value {
    match op {
        Op::Put { key, value, lease } => {
            let mut put = json!({ "key": base64::encode(key), "value": base64::encode(value) });
            if *lease != 0 {
                put["lease"] = json!(lease.to_string());
            }
            json!({ "request_put": put })
        }
        Op::Get(key) => json!({ "request_range": { "key": base64::encode(key) } }),
        Op::Delete(key) => json!({ "request_delete_range": { "key": base64::encode(key) } }),
    }
}

/// The key just past every key with `prefix` (etcd's `range_end` for a prefix).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// An answer that says "try another member".
fn is_unavailable(code: i64) -> bool {
    code == 14 || code == 4
}

impl Etcd {
    /// A client of the cluster at `urls` (`http://host:port`), each call at most `timeout` per endpoint.
    pub fn new(urls: &[String], timeout: Duration) -> Result<Etcd, String> {
        let endpoints = urls.iter().map(|url| endpoint_address(url)).collect::<Result<Vec<_>, _>>()?;
        if endpoints.is_empty() {
            return Err("no etcd endpoint given".to_owned());
        }
        Ok(Etcd { endpoints, preferred: AtomicUsize::new(0), timeout })
    }

    /// Opens `path` with `body` on the first endpoint that takes it, starting with the preferred one; returns the
    /// response with a 200 status, its head read.
    fn open(&self, path: &str, body: &Value, timeout: Duration) -> Result<http::Response, EtcdError> {
        let body = body.to_string().into_bytes();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut failures = Vec::new();
        for i in 0..self.endpoints.len() {
            let index = (first + i) % self.endpoints.len();
            let endpoint = &self.endpoints[index];
            let deadline = Instant::now() + timeout;
            let failed = match http::post(endpoint, path, &body, deadline) {
                Ok(response) if response.status == 200 => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status;
                    let text = response.read_to_end(deadline).map_err(|e| format!("HTTP {status}: {e}"));
                    match text.map(|text| serde_json::from_slice::<Value>(&text)) {
                        Ok(Ok(error)) if !is_unavailable(number(&error, "code")) => {
                            return Err(EtcdError::Refused {
                                code: number(&error, "code"),
                                message: error["message"].as_str().unwrap_or("(no message)").to_owned(),
                            });
                        }
                        Ok(Ok(error)) => error["message"].as_str().unwrap_or("unavailable").to_owned(),
                        Ok(Err(_)) => format!("HTTP {status}"),
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            failures.push(format!("{endpoint}: {failed}"));
        }
        Err(EtcdError::Unavailable(failures.join("; ")))
    }

    /// One call: `path` with `body`, the whole JSON answer back. An error in a 200 answer (a stream's) counts too.
    fn call(&self, path: &str, body: &Value) -> Result<Value, EtcdError> {
        let response = self.open(path, body, self.timeout)?;
        let text = response
            .read_to_end(Instant::now() + self.timeout)
            .map_err(|e| EtcdError::Unavailable(format!("reading the answer to {path}: {e}")))?;
        let answer: Value = serde_json::from_slice(&text)
            .map_err(|e| EtcdError::Protocol(format!("{path}: {e}: {}", String::from_utf8_lossy(&text))))?;
        let answer = if answer["result"].is_object() { answer["result"].clone() } else { answer };
        if let Some(error) = answer.get("error") {
            let code = number(error, "grpc_code").max(number(&answer, "code"));
            let message = error["message"].as_str().or(error.as_str()).unwrap_or("error").to_owned();
            return Err(if is_unavailable(code) {
                EtcdError::Unavailable(message)
            } else {
                EtcdError::Refused { code, message }
            });
        }
        Ok(answer)
    }

    /// The key, if it exists.
    pub fn get(&self, key: &[u8]) -> Result<Option<KeyValue>, EtcdError> {
        let answer = self.call("/v3/kv/range", &json!({ "key": base64::encode(key) }))?;
        Ok(key_values(&answer)?.into_iter().next())
    }

    /// Every key that starts with `prefix`, in key order, and the store's revision when they were read (nothing but
    /// the revision if `count_only`).
    pub fn list_prefix(&self, prefix: &[u8], count_only: bool) -> Result<(Vec<KeyValue>, i64), EtcdError> {
        let mut body = json!({ "key": base64::encode(prefix), "range_end": base64::encode(&prefix_end(prefix)) });
        if count_only {
            body["count_only"] = json!(true);
        }
        let answer = self.call("/v3/kv/range", &body)?;
        Ok((key_values(&answer)?, number(&answer["header"], "revision")))
    }

    /// Puts `value` under `key`, attached to `lease` if not 0; returns the new revision.
    pub fn put(&self, key: &[u8], value: &[u8], lease: i64) -> Result<i64, EtcdError> {
        let body = op_json(&Op::Put { key: key.to_vec(), value: value.to_vec(), lease })["request_put"].clone();
        Ok(number(&self.call("/v3/kv/put", &body)?["header"], "revision"))
    }

    /// Deletes `key`; returns how many keys went (0 or 1).
    pub fn delete(&self, key: &[u8]) -> Result<i64, EtcdError> {
        Ok(number(&self.call("/v3/kv/deleterange", &json!({ "key": base64::encode(key) }))?, "deleted"))
    }

    /// Runs `success` if every compare holds, else `failure`, atomically.
    pub fn txn(&self, compare: &[Compare], success: &[Op], failure: &[Op]) -> Result<TxnResult, EtcdError> {
        let body = json!({
            "compare": compare.iter().map(compare_json).collect::<Vec<_>>(),
            "success": success.iter().map(op_json).collect::<Vec<_>>(),
            "failure": failure.iter().map(op_json).collect::<Vec<_>>(),
        });
        let answer = self.call("/v3/kv/txn", &body)?;
        let got = answer["responses"]
            .as_array()
            .map_or(Ok(Vec::new()), |responses| responses.iter().map(|r| key_values(&r["response_range"])).collect())?;
        Ok(TxnResult {
            succeeded: answer["succeeded"].as_bool().unwrap_or(false),
            revision: number(&answer["header"], "revision"),
            got,
        })
    }

    /// Grants a lease of `ttl` seconds.
    pub fn grant(&self, ttl: i64) -> Result<Lease, EtcdError> {
        let answer = self.call("/v3/lease/grant", &json!({ "TTL": ttl.to_string() }))?;
        let lease = Lease { id: number(&answer, "ID"), ttl: number(&answer, "TTL") };
        if lease.id == 0 {
            return Err(EtcdError::Protocol(format!("lease grant without an id: {answer}")));
        }
        Ok(lease)
    }

    /// Keeps `lease` alive once; returns its renewed TTL in seconds, or a NOT_FOUND error if it is gone.
    pub fn keep_alive(&self, lease: i64) -> Result<i64, EtcdError> {
        let answer = self.call("/v3/lease/keepalive", &json!({ "ID": lease.to_string() }))?;
        match number(&answer, "TTL") {
            ttl if ttl > 0 => Ok(ttl),
            _ => Err(EtcdError::Refused { code: 5, message: format!("lease {lease:x} not found") }),
        }
    }

    /// The seconds `lease` has left, or a NOT_FOUND error if it is gone.
    pub fn time_to_live(&self, lease: i64) -> Result<i64, EtcdError> {
        let answer = self.call("/v3/lease/timetolive", &json!({ "ID": lease.to_string() }))?;
        match number(&answer, "TTL") {
            ttl if ttl > 0 => Ok(ttl),
            _ => Err(EtcdError::Refused { code: 5, message: format!("lease {lease:x} not found") }),
        }
    }

    /// Revokes `lease`: every key attached to it goes at once.
    pub fn revoke(&self, lease: i64) -> Result<(), EtcdError> {
        self.call("/v3/lease/revoke", &json!({ "ID": lease.to_string() })).map(drop)
    }

    /// Watches every key that starts with `prefix`, from revision `start` on (0: from now): one stream for any
    /// number of keys.
    pub fn watch_prefix(&self, prefix: &[u8], start: i64) -> Result<Watch, EtcdError> {
        let mut request = json!({ "key": base64::encode(prefix), "range_end": base64::encode(&prefix_end(prefix)) });
        if start > 0 {
            request["start_revision"] = json!(start.to_string());
        }
        let response = self.open("/v3/watch", &json!({ "create_request": request }), self.timeout)?;
        Ok(Watch { response })
    }
}

/// A running watch: a streamed response, one JSON message per line.
pub struct Watch {
    response: http::Response,
}

impl Watch {
    /// The next changes; `Ok(None)` if none came before `deadline` (the watch goes on). An error ends the watch:
    /// etcd went away, or cancelled it (a compacted start revision, say).
    pub fn next(&mut self, deadline: Instant) -> Result<Option<Vec<WatchEvent>>, EtcdError> {
        loop {
            let line = match self.response.next_line(deadline) {
                Ok(Some(line)) => line,
                Ok(None) => return Err(EtcdError::Unavailable("the watch stream ended".to_owned())),
                Err(_) if Instant::now() >= deadline => return Ok(None),
                Err(e) => return Err(EtcdError::Unavailable(format!("watch: {e}"))),
            };
            let message: Value = serde_json::from_slice(&line)
                .map_err(|e| EtcdError::Protocol(format!("watch: {e}: {}", String::from_utf8_lossy(&line))))?;
            let result = &message["result"];
            if let Some(error) = message.get("error") {
                return Err(EtcdError::Unavailable(format!("watch: {error}")));
            }
            if result["canceled"].as_bool().unwrap_or(false) {
                let reason = result["cancel_reason"].as_str().unwrap_or("no reason given");
                return Err(EtcdError::Refused { code: 11, message: format!("watch cancelled: {reason}") });
            }
            let Some(events) = result["events"].as_array() else { continue };
            let events = events
                .iter()
                .map(|event| {
                    let kv = key_value(&event["kv"])?;
                    Ok(if event["type"].as_str() == Some("DELETE") {
                        WatchEvent::Delete(kv)
                    } else {
                        WatchEvent::Put(kv)
                    })
                })
                .collect::<Result<Vec<_>, EtcdError>>()?;
            if !events.is_empty() {
                return Ok(Some(events));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_encoded_as_the_gateway_expects() {
        let put = op_json(&Op::Put { key: b"/c/k".to_vec(), value: b"v".to_vec(), lease: 42 });
        assert_eq!(put, json!({ "request_put": { "key": "L2Mvaw==", "value": "dg==", "lease": "42" } }));
        let no_lease = op_json(&Op::Put { key: b"k".to_vec(), value: Vec::new(), lease: 0 });
        assert_eq!(no_lease, json!({ "request_put": { "key": "aw==", "value": "" } }));
        let compare = compare_json(&Compare::CreateRevision(b"k".to_vec(), 0));
        assert_eq!(compare, json!({ "key": "aw==", "target": "CREATE", "result": "EQUAL", "create_revision": "0" }));
        assert_eq!(op_json(&Op::Delete(b"k".to_vec()))["request_delete_range"]["key"], "aw==");
    }

    #[test]
    fn answers_are_decoded_with_their_defaults() {
        let answer: Value = serde_json::from_str(
            r#"{"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"3","version":"1","value":"Yg==",
                "lease":"7"}],"count":"1"}"#,
        )
        .expect("json");
        let kv = KeyValue { key: b"a".to_vec(), value: b"b".to_vec(), create_revision: 2, mod_revision: 3, lease: 7 };
        assert_eq!(key_values(&answer), Ok(vec![kv]));
        assert_eq!(key_values(&json!({})), Ok(Vec::new()));
        assert_eq!(number(&json!({}), "revision"), 0);
        assert!(key_values(&json!({ "kvs": [{ "key": "!!" }] })).is_err());
    }

    #[test]
    fn endpoints_and_prefixes() {
        assert_eq!(endpoint_address("http://127.0.0.1:2379/"), Ok("127.0.0.1:2379".to_owned()));
        assert_eq!(endpoint_address("localhost:2379"), Ok("localhost:2379".to_owned()));
        assert!(endpoint_address("https://x:1").is_err());
        assert!(endpoint_address("x").is_err());
        assert_eq!(prefix_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(&[b'a', 0xff]), b"b".to_vec());
    }
}
