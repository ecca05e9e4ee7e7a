//! Settings: command-line flags over the config file (TOML) over defaults.
//!
//! ```toml
//! [tatsu]
//! plugins_dir = "/usr/lib/tatsu/plugins"
//! apps = ["simple-switch"]      # empty or absent: every app in the plugins directory
//! strict = false
//! queue_capacity = 65536        # events per app queue
//!
//! ofp_tcp_listen_ports = [6653, 6633]   # plain TCP; with TLS on, only the ports named here (none by default)
//! ctl_privkey = "/etc/tatsu/ctl-privkey.pem"   # TLS to switches: all three, or none
//! ctl_cert = "/etc/tatsu/ctl-cert.pem"
//! ca_certs = "/etc/tatsu/switchca/cacert.pem"  # switches' certificates must be signed by this CA
//! ofp_ssl_listen_port = 6653    # the TLS port (6653 by default when TLS is on)
//! echo_request_interval = 5.0   # seconds of silence before an echo request
//! max_switch_connections = 100000  # capped by what the process can hold (open files, vm.max_map_count)
//! max_reply_bytes = 67108864    # the reply to one request (all its parts); a longer one fails the request
//! send_queue_bytes = 4194304    # unsent bytes per switch
//!
//! wsapi_host = "127.0.0.1"      # the REST API (started when an app serves routes)
//! wsapi_port = 8080
//! wsapi_token = "secret"        # requests need `Authorization: Bearer secret`
//! wsapi_metrics = false         # start it for `GET /metrics` even when no app serves routes
//! wsapi_max_body_bytes = 1048576
//! wsapi_request_timeout = 30.0  # seconds an app has to answer (504 beyond)
//! wsapi_max_connections = 1024  # open at once (503 beyond); at most half the open-file limit
//! wsapi_header_timeout = 10.0   # seconds a request head may take to arrive whole (408 beyond)
//! wsapi_body_timeout = 30.0     # seconds a body may take to arrive, and a response to be taken (408 beyond)
//! wsapi_idle_timeout = 60.0     # seconds a keep-alive connection may idle between requests
//! wsapi_body_budget_bytes = 67108864   # body bytes all requests may hold at once (503 beyond)
//! wsapi_websocket_max_frame_bytes = 65536     # a WebSocket client's frame payload (close 1009 beyond)
//! wsapi_websocket_max_message_bytes = 65536   # a WebSocket client's message, frame headers included (1009 beyond)
//! wsapi_websocket_queue_bytes = 1048576       # queued for one WebSocket client (disconnected, 1008, beyond)
//! wsapi_websocket_ping_interval = 30.0        # seconds of silence before a ping; as long again: dropped
//!
//! control_socket = "/run/tatsu/control.sock"   # for `tatsu restart` and `tatsu load`
//! restart_timeout = 60.0        # seconds a successor host may take to start
//! watchdog_ms = 1000            # report app code that runs this long without yielding (0: off)
//!
//! cluster_etcd = ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]   # run as one host of a cluster
//! cluster_name = "tatsu"        # the prefix of the cluster's keys in etcd
//! node_id = "c1"                # unique in the cluster
//! cluster_lease_ttl = 5         # seconds a vanished host stays master of its switches
//!
//! capture = "/var/log/tatsu/capture"       # a pcap file per switch connection (or capture_dir: only those
//!                                          # turned on while running, with `tatsu capture on DPID`)
//!
//! [app.simple-switch]           # handed to the app `simple-switch` as its configuration
//! idle_timeout = 30
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::apps::AppSettings;
use crate::capture::CaptureSettings;
use crate::cluster::ClusterSettings;
use crate::switch::tls::TlsSettings;
use crate::switch::SwitchSettings;
use crate::web::websocket::WebSocketSettings;
use crate::web::WebSettings;

/// The host's settings, resolved: each subsystem's own, assembled here from flags, the file and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The apps: where they are loaded from, which, their queues and configuration.
    pub apps: AppSettings,
    /// Any problem with a library or an app is fatal.
    pub strict: bool,
    /// Where to write the process id.
    pub pid_file: Option<PathBuf>,
    /// Scheduler worker threads.
    pub workers: usize,
    /// Green thread stack size, in KiB.
    pub stack_size_kib: usize,
    /// The switch side: listening, dialling, keepalive, send queues.
    pub switches: SwitchSettings,
    /// The REST server.
    pub web: WebSettings,
    /// The control socket `tatsu restart` and `tatsu load` talk to.
    pub control_socket: PathBuf,
    /// How long a successor host may take to start before a restart is abandoned.
    pub restart_timeout: Duration,
    /// App code running longer than this without yielding is reported (zero: never).
    pub watchdog: Duration,
    /// Several hosts as one controller (with `cluster_etcd`): etcd, names, the lease.
    pub cluster: Option<ClusterSettings>,
    /// OpenFlow captures (with `capture` or `capture_dir`).
    pub capture: Option<CaptureSettings>,
}

/// The `[tatsu]` section of the config file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    plugins_dir: Option<PathBuf>,
    apps: Option<Vec<String>>,
    strict: Option<bool>,
    pid_file: Option<PathBuf>,
    workers: Option<usize>,
    stack_size_kib: Option<usize>,
    queue_capacity: Option<usize>,
    start_timeout_ms: Option<u64>,
    stop_timeout_ms: Option<u64>,
    ofp_listen_host: Option<String>,
    ofp_tcp_listen_ports: Option<Vec<u16>>,
    ofp_switch_address_list: Option<Vec<String>>,
    ctl_privkey: Option<PathBuf>,
    ctl_cert: Option<PathBuf>,
    ca_certs: Option<PathBuf>,
    ofp_ssl_listen_port: Option<u16>,
    echo_request_interval: Option<f64>,
    maximum_unreplied_echo_requests: Option<u32>,
    handshake_timeout: Option<f64>,
    send_queue_bytes: Option<usize>,
    miss_send_len: Option<u16>,
    max_switch_connections: Option<usize>,
    max_reply_bytes: Option<usize>,
    wsapi_host: Option<String>,
    wsapi_port: Option<u16>,
    wsapi_token: Option<String>,
    wsapi_metrics: Option<bool>,
    wsapi_max_body_bytes: Option<usize>,
    wsapi_request_timeout: Option<f64>,
    wsapi_max_connections: Option<usize>,
    wsapi_header_timeout: Option<f64>,
    wsapi_body_timeout: Option<f64>,
    wsapi_idle_timeout: Option<f64>,
    wsapi_body_budget_bytes: Option<usize>,
    wsapi_websocket_max_frame_bytes: Option<usize>,
    wsapi_websocket_max_message_bytes: Option<usize>,
    wsapi_websocket_queue_bytes: Option<usize>,
    wsapi_websocket_ping_interval: Option<f64>,
    control_socket: Option<PathBuf>,
    restart_timeout: Option<f64>,
    watchdog_ms: Option<u64>,
    cluster_etcd: Option<Vec<String>>,
    cluster_name: Option<String>,
    node_id: Option<String>,
    cluster_lease_ttl: Option<u64>,
    capture: Option<PathBuf>,
    capture_dir: Option<PathBuf>,
}

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    tatsu: HostSection,
    #[serde(default)]
    app: BTreeMap<String, toml::Value>,
}

impl ConfigFile {
    /// Reads and parses `path`; the error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<ConfigFile, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            let place = e.span().map_or(String::new(), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(", line {line} column {column}")
            });
            format!("config file {}{place}: {}", path.display(), e.message().trim())
        })
    }
}

/// Flags given on the command line (each overrides the file).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--plugins-dir`.
    pub plugins_dir: Option<PathBuf>,
    /// `--app` (repeatable).
    pub apps: Vec<String>,
    /// `--strict`.
    pub strict: bool,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--workers`.
    pub workers: Option<usize>,
    /// `--stack-size-kib`.
    pub stack_size_kib: Option<usize>,
    /// `--queue-capacity`.
    pub queue_capacity: Option<usize>,
    /// `--ofp-listen-host`.
    pub ofp_listen_host: Option<String>,
    /// `--ofp-tcp-listen-port` (repeatable).
    pub ofp_tcp_listen_ports: Vec<u16>,
    /// `--ofp-switch-address-list`.
    pub ofp_switch_address_list: Vec<String>,
    /// `--ctl-privkey`.
    pub ctl_privkey: Option<PathBuf>,
    /// `--ctl-cert`.
    pub ctl_cert: Option<PathBuf>,
    /// `--ca-certs`.
    pub ca_certs: Option<PathBuf>,
    /// `--ofp-ssl-listen-port`.
    pub ofp_ssl_listen_port: Option<u16>,
    /// `--echo-request-interval` (seconds).
    pub echo_request_interval: Option<f64>,
    /// `--maximum-unreplied-echo-requests`.
    pub maximum_unreplied_echo_requests: Option<u32>,
    /// `--handshake-timeout` (seconds).
    pub handshake_timeout: Option<f64>,
    /// `--max-switch-connections`.
    pub max_switch_connections: Option<usize>,
    /// `--wsapi-host`.
    pub wsapi_host: Option<String>,
    /// `--wsapi-port`.
    pub wsapi_port: Option<u16>,
    /// `--wsapi-token`.
    pub wsapi_token: Option<String>,
    /// `--wsapi-metrics`.
    pub wsapi_metrics: bool,
    /// `--wsapi-max-connections`.
    pub wsapi_max_connections: Option<usize>,
    /// `--wsapi-header-timeout` (seconds).
    pub wsapi_header_timeout: Option<f64>,
    /// `--wsapi-body-timeout` (seconds).
    pub wsapi_body_timeout: Option<f64>,
    /// `--wsapi-idle-timeout` (seconds).
    pub wsapi_idle_timeout: Option<f64>,
    /// `--wsapi-body-budget-bytes`.
    pub wsapi_body_budget_bytes: Option<usize>,
    /// `--control-socket`.
    pub control_socket: Option<PathBuf>,
    /// `--watchdog-ms`.
    pub watchdog_ms: Option<u64>,
    /// `--cluster-etcd` (comma-separated URLs).
    pub cluster_etcd: Vec<String>,
    /// `--cluster-name`.
    pub cluster_name: Option<String>,
    /// `--node-id`.
    pub node_id: Option<String>,
    /// `--cluster-lease-ttl` (seconds).
    pub cluster_lease_ttl: Option<u64>,
    /// `--capture DIR`.
    pub capture: Option<PathBuf>,
    /// `--capture-dir DIR`.
    pub capture_dir: Option<PathBuf>,
}

/// The default cap on switch connections; the process's own budget (see [`crate::limits`]) usually decides first.
pub const DEFAULT_MAX_SWITCH_CONNECTIONS: usize = 100_000;

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{name} must be a positive number of seconds, not {value}"))
}

/// The default plugins directory: `$TATSU_PLUGINS_DIR`, else `plugins/` beside the `tatsu` executable.
pub fn default_plugins_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TATSU_PLUGINS_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("plugins")))
        .unwrap_or_else(|| PathBuf::from("plugins"))
}

/// The TLS settings, if the key, certificate and CA certificates are all given; each file read and checked.
fn tls_settings(
    private_key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    ca_certificates: Option<PathBuf>,
    port: Option<u16>,
) -> Result<Option<Arc<TlsSettings>>, String> {
    match (private_key, certificate, ca_certificates) {
        (None, None, None) if port.is_some() => {
            Err("ofp_ssl_listen_port needs TLS: --ctl-privkey, --ctl-cert and --ca-certs".to_owned())
        }
        (None, None, None) => Ok(None),
        (Some(key), Some(certificate), Some(ca)) => {
            TlsSettings::load(port.unwrap_or(6653), &key, &certificate, &ca).map(|tls| Some(Arc::new(tls)))
        }
        (key, certificate, ca) => {
            let missing: Vec<&str> =
                [(key.is_none(), "--ctl-privkey"), (certificate.is_none(), "--ctl-cert"), (ca.is_none(), "--ca-certs")]
                    .into_iter()
                    .filter_map(|(missing, flag)| missing.then_some(flag))
                    .collect();
            Err(format!("TLS needs --ctl-privkey, --ctl-cert and --ca-certs together (or ctl_privkey, ctl_cert, ca_certs); missing: {}", missing.join(", ")))
        }
    }
}

impl Settings {
    /// Resolves the settings from the file (if any) and the flags; rejects values that cannot work.
    pub fn resolve(file: ConfigFile, flags: Overrides) -> Result<Settings, String> {
        let host = file.tatsu;
        let app_config = file
            .app
            .into_iter()
            .map(|(name, value)| {
                serde_json::to_value(value).map(|json| (name.clone(), json)).map_err(|e| format!("[app.{name}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let cluster_etcd = if flags.cluster_etcd.is_empty() { host.cluster_etcd } else { Some(flags.cluster_etcd) };
        let cluster = match cluster_etcd.filter(|urls| !urls.is_empty()) {
            None => None,
            Some(etcd) => Some(ClusterSettings {
                etcd,
                name: flags.cluster_name.or(host.cluster_name).unwrap_or_else(|| "tatsu".to_owned()),
                node_id: flags
                    .node_id
                    .or(host.node_id)
                    .ok_or("a cluster host needs a node id (--node-id or node_id), unique in the cluster")?,
                lease_ttl: flags.cluster_lease_ttl.or(host.cluster_lease_ttl).unwrap_or(5),
                etcd_timeout: Duration::from_secs(2),
            }),
        };
        if let Some(cluster) = &cluster {
            cluster.check()?;
        }
        let tls = tls_settings(
            flags.ctl_privkey.or(host.ctl_privkey),
            flags.ctl_cert.or(host.ctl_cert),
            flags.ca_certs.or(host.ca_certs),
            flags.ofp_ssl_listen_port.or(host.ofp_ssl_listen_port),
        )?;
        // With TLS on, plain TCP is served only on ports named (Ryu listens on its TLS port only).
        let listen_ports = if flags.ofp_tcp_listen_ports.is_empty() {
            host.ofp_tcp_listen_ports.unwrap_or_else(|| if tls.is_some() { Vec::new() } else { vec![6653, 6633] })
        } else {
            flags.ofp_tcp_listen_ports
        };
        if let Some(tls) = &tls {
            if listen_ports.contains(&tls.listen_port) {
                return Err(format!(
                    "port {} cannot be both the TLS port (ofp_ssl_listen_port) and a plain one (ofp_tcp_listen_port)",
                    tls.listen_port
                ));
            }
        }
        let capture = match (flags.capture, flags.capture_dir) {
            (Some(dir), _) => Some(CaptureSettings { dir, all: true }),
            (None, Some(dir)) => Some(CaptureSettings { dir, all: false }),
            (None, None) => match (host.capture, host.capture_dir) {
                (Some(_), Some(_)) => return Err("give capture or capture_dir, not both".to_owned()),
                (Some(dir), None) => Some(CaptureSettings { dir, all: true }),
                (None, Some(dir)) => Some(CaptureSettings { dir, all: false }),
                (None, None) => None,
            },
        };
        let settings = Settings {
            capture,
            cluster,
            apps: AppSettings {
                plugins_dir: flags.plugins_dir.or(host.plugins_dir).unwrap_or_else(default_plugins_dir),
                selected: if flags.apps.is_empty() { host.apps.unwrap_or_default() } else { flags.apps },
                queue_capacity: flags
                    .queue_capacity
                    .or(host.queue_capacity)
                    .unwrap_or(crate::bus::queue::DEFAULT_CAPACITY),
                start_timeout: Duration::from_millis(host.start_timeout_ms.unwrap_or(30_000)),
                stop_timeout: Duration::from_millis(host.stop_timeout_ms.unwrap_or(5_000)),
                config: app_config,
            },
            strict: flags.strict || host.strict.unwrap_or(false),
            pid_file: flags.pid_file.or(host.pid_file),
            workers: flags.workers.or(host.workers).unwrap_or(1),
            stack_size_kib: flags.stack_size_kib.or(host.stack_size_kib).unwrap_or(128),
            switches: SwitchSettings {
                listen_host: flags.ofp_listen_host.or(host.ofp_listen_host).unwrap_or_else(|| "::".to_owned()),
                listen_ports,
                switch_addresses: if flags.ofp_switch_address_list.is_empty() {
                    host.ofp_switch_address_list.unwrap_or_default()
                } else {
                    flags.ofp_switch_address_list
                },
                connect_retry: Duration::from_secs(1),
                echo_interval: seconds(
                    "echo_request_interval",
                    flags.echo_request_interval.or(host.echo_request_interval).unwrap_or(5.0),
                )?,
                echo_max_misses: flags
                    .maximum_unreplied_echo_requests
                    .or(host.maximum_unreplied_echo_requests)
                    .unwrap_or(3),
                handshake_timeout: seconds(
                    "handshake_timeout",
                    flags.handshake_timeout.or(host.handshake_timeout).unwrap_or(10.0),
                )?,
                send_queue_bytes: host.send_queue_bytes.unwrap_or(4 << 20),
                miss_send_len: host.miss_send_len.unwrap_or(128),
                max_connections: flags
                    .max_switch_connections
                    .or(host.max_switch_connections)
                    .unwrap_or(DEFAULT_MAX_SWITCH_CONNECTIONS),
                max_reply_bytes: host.max_reply_bytes.unwrap_or(64 << 20),
                tls,
            },
            control_socket: flags.control_socket.or(host.control_socket).unwrap_or_else(crate::control::default_path),
            restart_timeout: seconds("restart_timeout", host.restart_timeout.unwrap_or(60.0))?,
            watchdog: Duration::from_millis(flags.watchdog_ms.or(host.watchdog_ms).unwrap_or(1000)),
            web: WebSettings {
                host: flags.wsapi_host.or(host.wsapi_host).unwrap_or_else(|| "127.0.0.1".to_owned()),
                port: flags.wsapi_port.or(host.wsapi_port).unwrap_or(8080),
                token: flags
                    .wsapi_token
                    .or(host.wsapi_token)
                    .or_else(|| std::env::var("TATSU_WSAPI_TOKEN").ok())
                    .filter(|token| !token.is_empty()),
                metrics_without_routes: flags.wsapi_metrics || host.wsapi_metrics.unwrap_or(false),
                max_body_bytes: host.wsapi_max_body_bytes.unwrap_or(1 << 20),
                request_timeout: seconds("wsapi_request_timeout", host.wsapi_request_timeout.unwrap_or(30.0))?,
                max_connections: flags.wsapi_max_connections.or(host.wsapi_max_connections).unwrap_or(1024),
                header_timeout: seconds(
                    "wsapi_header_timeout",
                    flags.wsapi_header_timeout.or(host.wsapi_header_timeout).unwrap_or(10.0),
                )?,
                body_timeout: seconds(
                    "wsapi_body_timeout",
                    flags.wsapi_body_timeout.or(host.wsapi_body_timeout).unwrap_or(30.0),
                )?,
                idle_timeout: seconds(
                    "wsapi_idle_timeout",
                    flags.wsapi_idle_timeout.or(host.wsapi_idle_timeout).unwrap_or(60.0),
                )?,
                body_budget_bytes: flags.wsapi_body_budget_bytes.or(host.wsapi_body_budget_bytes).unwrap_or(64 << 20),
                websocket: WebSocketSettings {
                    max_frame_bytes: host.wsapi_websocket_max_frame_bytes.unwrap_or(64 << 10),
                    max_message_bytes: host.wsapi_websocket_max_message_bytes.unwrap_or(64 << 10),
                    queue_bytes: host.wsapi_websocket_queue_bytes.unwrap_or(1 << 20),
                    ping_interval: seconds(
                        "wsapi_websocket_ping_interval",
                        host.wsapi_websocket_ping_interval.unwrap_or(30.0),
                    )?,
                },
                ..WebSettings::default()
            },
        };
        if settings.workers == 0 {
            return Err("workers must be at least 1".to_owned());
        }
        if settings.stack_size_kib < 16 {
            return Err(format!("stack_size_kib {} is too small (at least 16)", settings.stack_size_kib));
        }
        if settings.apps.queue_capacity == 0 {
            return Err("queue_capacity must be at least 1".to_owned());
        }
        settings.web.check()?;
        if settings.switches.max_connections == 0 {
            return Err("max_switch_connections must be at least 1".to_owned());
        }
        if settings.switches.max_reply_bytes < 64 << 10 {
            return Err(format!("max_reply_bytes {} is too small (at least 65536)", settings.switches.max_reply_bytes));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_app_sections_become_json() {
        let file: ConfigFile = toml::from_str(
            "[tatsu]\nplugins_dir = \"/from/file\"\nworkers = 2\n[app.hello]\ngreeting = \"hi\"\ncount = 3\n",
        )
        .expect("valid config");
        let flags = Overrides { plugins_dir: Some(PathBuf::from("/from/flag")), ..Overrides::default() };
        let settings = Settings::resolve(file, flags).expect("valid settings");
        assert_eq!(settings.apps.plugins_dir, PathBuf::from("/from/flag"));
        assert_eq!(settings.workers, 2);
        assert_eq!(settings.apps.config["hello"], serde_json::json!({"greeting": "hi", "count": 3}));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let unknown = toml::from_str::<ConfigFile>("[tatsu]\nplugin_dir = \"x\"\n").expect_err("typo must fail");
        assert!(unknown.to_string().contains("plugin_dir"), "{unknown}");
        let file: ConfigFile = toml::from_str("[tatsu]\nworkers = 0\n").expect("parses");
        let error = Settings::resolve(file, Overrides::default()).expect_err("0 workers must fail");
        assert!(error.contains("workers"), "{error}");
    }

    #[test]
    fn tls_needs_all_three_files_and_its_port_needs_tls() {
        let resolve = |flags: Overrides| Settings::resolve(ConfigFile::default(), flags);
        let plain = resolve(Overrides::default()).expect("valid");
        assert!(plain.switches.tls.is_none());
        assert_eq!(plain.switches.listen_ports, [6653, 6633]);
        let only_cert = Overrides { ctl_cert: Some(PathBuf::from("/x/cert.pem")), ..Overrides::default() };
        let error = resolve(only_cert).expect_err("a certificate alone is not TLS");
        assert!(error.contains("missing: --ctl-privkey, --ca-certs"), "{error}");
        let port_only = Overrides { ofp_ssl_listen_port: Some(6653), ..Overrides::default() };
        let error = resolve(port_only).expect_err("a TLS port without TLS");
        assert!(error.contains("ofp_ssl_listen_port needs TLS"), "{error}");
        let file: ConfigFile = toml::from_str(
            "[tatsu]\nctl_privkey = \"/nonexistent/k.pem\"\nctl_cert = \"/nonexistent/c.pem\"\nca_certs = \"/x\"\n",
        )
        .expect("TLS keys parse");
        let error = Settings::resolve(file, Overrides::default()).expect_err("the key file is missing");
        assert!(error.contains("/nonexistent/k.pem"), "{error}");
    }

    #[test]
    fn a_cluster_needs_a_node_id_and_valid_names() {
        let cluster = |flags: Overrides| Settings::resolve(ConfigFile::default(), flags);
        let etcd = vec!["http://127.0.0.1:2379".to_owned()];
        let plain = cluster(Overrides::default()).expect("valid");
        assert!(plain.cluster.is_none());
        let error = cluster(Overrides { cluster_etcd: etcd.clone(), ..Overrides::default() }).expect_err("no id");
        assert!(error.contains("node id"), "{error}");
        let flags = Overrides { cluster_etcd: etcd.clone(), node_id: Some("c1".to_owned()), ..Overrides::default() };
        let resolved = cluster(flags).expect("valid").cluster.expect("a cluster");
        assert_eq!((resolved.name.as_str(), resolved.node_id.as_str(), resolved.lease_ttl), ("tatsu", "c1", 5));
        let bad = Overrides { cluster_etcd: etcd, node_id: Some("a/b".to_owned()), ..Overrides::default() };
        assert!(cluster(bad).is_err());
    }
}
