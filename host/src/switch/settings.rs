//! The switch side's settings and log limits.

use std::sync::Arc;
use std::time::Duration;

use super::tls::TlsSettings;
use crate::logging::LogLimit;

/// Settings of the switch side.
#[derive(Debug, Clone)]
pub struct SwitchSettings {
    /// Address to listen on (`::` listens on every IPv6 and IPv4 address).
    pub listen_host: String,
    /// Ports to listen on; empty: do not listen.
    pub listen_ports: Vec<u16>,
    /// Switches to connect to actively (`host:port`), retried until they answer.
    pub switch_addresses: Vec<String>,
    /// How often to retry an active connection.
    pub connect_retry: Duration,
    /// Idle time after which the host sends an echo request.
    pub echo_interval: Duration,
    /// Unanswered echo requests after which the switch is dropped.
    pub echo_max_misses: u32,
    /// Time a switch has to reach MAIN.
    pub handshake_timeout: Duration,
    /// Bytes a switch's send queue holds.
    pub send_queue_bytes: usize,
    /// `miss_send_len` in the SET_CONFIG sent to every switch.
    pub miss_send_len: u16,
    /// Switch connections served at once, in any state; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Bytes the reply to one request (all parts of a multipart reply) may hold; a longer one fails the request.
    pub max_reply_bytes: usize,
    /// TLS: the port TLS switches connect to, the certificates, and TLS for dialled switches too.
    pub tls: Option<Arc<TlsSettings>>,
}

/// The rate limits of the switch side's log lines, one per cause.
pub struct LogLimits {
    /// Malformed messages, from any switch.
    pub malformed: LogLimit,
    /// Replies over `max_reply_bytes`.
    pub oversized_reply: LogLimit,
    /// Connections refused at `max_connections`, or because their green threads could not start.
    pub refused: LogLimit,
    /// TLS handshakes that failed (a bad certificate, a peer that does not speak TLS).
    pub tls_failed: LogLimit,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            malformed: LogLimit::new(10),
            oversized_reply: LogLimit::new(5),
            refused: LogLimit::new(1),
            tls_failed: LogLimit::new(10),
        }
    }
}

impl Default for SwitchSettings {
    fn default() -> Self {
        SwitchSettings {
            listen_host: "::".to_owned(),
            listen_ports: Vec::new(),
            switch_addresses: Vec::new(),
            connect_retry: Duration::from_secs(1),
            echo_interval: Duration::from_secs(5),
            echo_max_misses: 3,
            handshake_timeout: Duration::from_secs(10),
            send_queue_bytes: 4 << 20,
            miss_send_len: 128,
            max_connections: 10_000,
            max_reply_bytes: 64 << 20,
            tls: None,
        }
    }
}
