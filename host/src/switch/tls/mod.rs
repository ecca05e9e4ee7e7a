//! TLS on the OpenFlow channel, with mutual authentication against a CA (Ryu's `--ctl-privkey`, `--ctl-cert`,
//! `--ca-certs`).
//!
//! rustls (ring provider, TLS 1.3 only) runs the handshake, sans-IO, over the host's green socket: a handshake waits
//! only by parking its own coroutine (may's socket reads and writes), within the handshake timeout, so a slow or
//! hostile peer stalls no other switch. rustls is fed one whole record at a time, so that when the handshake ends
//! no byte after it is inside rustls. Then the host takes the record keys out of rustls
//! (`dangerous_extract_secrets`) and runs the record layer itself ([`record`]) for the life of the connection. That
//! is what lets a hot restart keep a TLS switch connected on a kernel without kernel TLS: the predecessor hands the
//! keys, IVs, sequence numbers and partial record to its successor with the descriptor, and both run this same code.
//!
//! What that costs: the record keys of every TLS switch cross the hand-over socket (a unix socket pair between the
//! host and the successor it spawned, same user, never on disk) as part of the JSON hand-over record; whoever can
//! read that process's memory can read them anyway. Post-handshake KeyUpdate cannot be followed (the extracted
//! secrets are keys, not traffic secrets): a switch that asks for one is disconnected cleanly and reconnects.
//! NewSessionTickets are dropped: the host neither issues nor uses session tickets.

pub mod certificate;
pub mod record;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, ClientConfig, ConnectionTrafficSecrets, DigitallySignedStruct, RootCertStore};
use rustls::{ServerConfig, SignatureScheme};

use record::{Opener, Sealer, Secrets, Suite};

/// The stack of a coroutine that runs a TLS handshake: rustls's certificate checks want far more than a switch
/// reader's 64 KiB (they overflowed it in a debug build). The coroutine ends with the handshake; its untouched
/// pages never cost memory.
pub const HANDSHAKE_STACK_BYTES: usize = 512 * 1024;

/// The TLS settings of the switch side, with the certificates read and checked.
pub struct TlsSettings {
    /// The port TLS switches connect to (Ryu's `--ofp-ssl-listen-port`).
    pub listen_port: u16,
    /// The controller's private key file.
    pub private_key: PathBuf,
    /// The controller's certificate file.
    pub certificate: PathBuf,
    /// The CA certificates switches' certificates must be signed by.
    pub ca_certificates: PathBuf,
    /// The subject of the controller's certificate.
    pub subject: String,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("listen_port", &self.listen_port)
            .field("private_key", &self.private_key)
            .field("certificate", &self.certificate)
            .field("ca_certificates", &self.ca_certificates)
            .finish_non_exhaustive()
    }
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("cannot read {what} {}: {}", path.display(), pem_error(&e)))?;
    if certificates.is_empty() {
        return Err(format!("{what} {} holds no PEM certificate", path.display()));
    }
    Ok(certificates)
}

fn pem_error(error: &rustls::pki_types::pem::Error) -> String {
    match error {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

impl TlsSettings {
    /// Reads and checks the key, the certificate and the CA certificates; every error names the file.
    pub fn load(
        listen_port: u16,
        private_key: &Path,
        certificate: &Path,
        ca_certificates: &Path,
    ) -> Result<TlsSettings, String> {
        let key = PrivateKeyDer::from_pem_file(private_key).map_err(|e| {
            format!("cannot read the controller's private key {}: {}", private_key.display(), pem_error(&e))
        })?;
        let chain = read_certificates(certificate, "the controller's certificate")?;
        let facts = certificate::read(&chain[0]).ok_or_else(|| {
            format!("the controller's certificate {} is not an X.509 certificate", certificate.display())
        })?;
        let now = UnixTime::now().as_secs();
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        if now > facts.not_after {
            return Err(format!(
                "the controller's certificate {} expired on {}",
                certificate.display(),
                certificate::format_time(facts.not_after)
            ));
        }
        if now < facts.not_before {
            return Err(format!(
                "the controller's certificate {} is not valid before {}",
                certificate.display(),
                certificate::format_time(facts.not_before)
            ));
        }
        let mut roots = RootCertStore::empty();
        for ca in read_certificates(ca_certificates, "the CA certificates")? {
            roots
                .add(ca)
                .map_err(|e| format!("a CA certificate in {} is not usable: {e}", ca_certificates.display()))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let bad_pair = |e: rustls::Error| {
            format!(
                "the controller's private key {} and certificate {} do not go together: {e}",
                private_key.display(),
                certificate.display()
            )
        };
        let client_verifier = WebPkiClientVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
            .build()
            .map_err(|e| format!("the CA certificates {}: {e}", ca_certificates.display()))?;
        let mut server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(bad_pair)?;
        server.enable_secret_extraction = true;
        server.send_tls13_tickets = 0;
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        let server_verifier = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|e| format!("the CA certificates {}: {e}", ca_certificates.display()))?;
        let mut client = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SignedByCa { inner: server_verifier, provider }))
            .with_client_auth_cert(chain, key)
            .map_err(bad_pair)?;
        client.enable_secret_extraction = true;
        client.resumption = rustls::client::Resumption::disabled();
        Ok(TlsSettings {
            listen_port,
            private_key: private_key.to_owned(),
            certificate: certificate.to_owned(),
            ca_certificates: ca_certificates.to_owned(),
            subject: facts.subject,
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }
}

/// Checks a switch's certificate the way the passive side does (signed by the CA, valid now, a TLS server's), and
/// not its name: switches are dialled by address, and their certificates (ovs-pki's) name no address. This is what
/// Open vSwitch and Ryu check too.
#[derive(Debug)]
struct SignedByCa {
    inner: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for SignedByCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain and validity first, and the name last.
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// An established TLS session, its record layer run by the host: one lock per direction (the reader opens, the
/// writer seals; a hand-over reads both once they have stopped).
pub struct TlsLink {
    /// The subject of the switch's certificate.
    pub subject: String,
    /// The sending direction.
    pub sealer: Mutex<Sealer>,
    /// The receiving direction.
    pub opener: Mutex<Opener>,
}

/// A finished handshake: the link and any application data that came with it.
pub struct Established {
    /// The record layer from here on.
    pub link: TlsLink,
    /// OpenFlow bytes rustls decrypted before handing over (usually none).
    pub plaintext: Vec<u8>,
}

/// Which side of the handshake the host is.
pub enum Side<'a> {
    /// A switch connected to a TLS listening port.
    Accepted,
    /// The host dialled a switch (`--ofp-switch-address-list`).
    Dialled(&'a SocketAddr),
}

/// Runs a TLS handshake on `stream` within `timeout`; the error says what went wrong, naming the file where the
/// host's own certificates are at fault.
pub fn handshake(
    settings: &TlsSettings,
    stream: &mut may::net::TcpStream,
    side: &Side<'_>,
    timeout: Duration,
) -> Result<Established, String> {
    let connection: rustls::Connection = match side {
        Side::Accepted => rustls::ServerConnection::new(Arc::clone(&settings.server)).map(Into::into),
        Side::Dialled(peer) => {
            rustls::ClientConnection::new(Arc::clone(&settings.client), ServerName::IpAddress(peer.ip().into()))
                .map(Into::into)
        }
    }
    .map_err(|e| format!("cannot start a TLS session: {e}"))?;
    let deadline = Instant::now() + timeout;
    let result = run_handshake(settings, connection, stream, deadline);
    let _ = stream.set_read_timeout(None);
    let _ = stream.set_write_timeout(None);
    result
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("the TLS handshake took longer than the handshake timeout".to_owned())
    } else {
        Ok(left)
    }
}

/// The length of the whole record at the start of `bytes`, if it is all there.
fn whole_record(bytes: &[u8]) -> Result<Option<usize>, String> {
    if bytes.len() < 5 {
        return Ok(None);
    }
    // change_cipher_spec, alert, handshake, application_data.
    if !(20..=23).contains(&bytes[0]) || bytes[1] != 3 {
        let excerpt: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(format!("it does not speak TLS (it sent {}: plain OpenFlow?)", excerpt.join(" ")));
    }
    let length = 5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
    Ok((bytes.len() >= length).then_some(length))
}

fn run_handshake(
    settings: &TlsSettings,
    mut connection: rustls::Connection,
    stream: &mut may::net::TcpStream,
    deadline: Instant,
) -> Result<Established, String> {
    let mut received: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut outgoing = Vec::new();
    loop {
        while connection.wants_write() {
            outgoing.clear();
            let _ = connection.write_tls(&mut outgoing);
            stream.set_write_timeout(Some(remaining(deadline)?)).map_err(|e| e.to_string())?;
            stream.write_all(&outgoing).map_err(|e| format!("sending the TLS handshake failed: {e}"))?;
        }
        if !connection.is_handshaking() {
            break;
        }
        // One whole record at a time: rustls must hold nothing past the handshake's last record.
        if let Some(length) = whole_record(&received)? {
            let mut record = &received[..length];
            connection.read_tls(&mut record).map_err(|e| format!("TLS: {e}"))?;
            received.drain(..length);
            if let Err(e) = connection.process_new_packets() {
                // Tell the peer why (the alert rustls queued), then give up.
                outgoing.clear();
                let _ = connection.write_tls(&mut outgoing);
                let _ = stream.write_all(&outgoing);
                return Err(explain(settings, &e));
            }
            continue;
        }
        stream.set_read_timeout(Some(remaining(deadline)?)).map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err("the switch closed the connection during the TLS handshake".to_owned()),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                return Err("the TLS handshake took longer than the handshake timeout".to_owned())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the TLS handshake failed: {e}")),
        }
    }
    let mut plaintext = Vec::new();
    let _ = connection.reader().read_to_end(&mut plaintext);
    let subject = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| certificate::read(der))
        .map_or_else(|| "(unreadable)".to_owned(), |facts| facts.subject);
    let secrets = match connection {
        rustls::Connection::Server(server) => server.dangerous_extract_secrets(),
        rustls::Connection::Client(client) => client.dangerous_extract_secrets(),
    }
    .map_err(|e| format!("cannot take over the TLS record layer: {e}"))?;
    let (tx_seq, tx) = secrets.tx;
    let (rx_seq, rx) = secrets.rx;
    let sealer = Sealer::new(secrets_of(tx, tx_seq)?)?;
    let mut opener = Opener::new(secrets_of(rx, rx_seq)?, received, Vec::new())?;
    // Records that came right behind the handshake's last one (a switch's HELLO, say) are opened now: the reader
    // opens received bytes only when more arrive.
    opener.open_received(&mut plaintext).map_err(|e| e.to_string())?;
    Ok(Established { link: TlsLink { subject, sealer: Mutex::new(sealer), opener: Mutex::new(opener) }, plaintext })
}

fn secrets_of(secrets: ConnectionTrafficSecrets, seq: u64) -> Result<Secrets, String> {
    let (suite, key, iv) = match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (Suite::Aes128Gcm, key, iv),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (Suite::Aes256Gcm, key, iv),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => (Suite::Chacha20Poly1305, key, iv),
        _ => return Err("the negotiated cipher suite is not one the host runs".to_owned()),
    };
    let iv: [u8; 12] = iv.as_ref().try_into().map_err(|_| "the record IV is not 12 bytes".to_owned())?;
    Ok(Secrets { suite, key: key.as_ref().to_vec(), iv, seq })
}

/// One line on why a handshake failed, naming the file when the host's own certificates are at fault.
fn explain(settings: &TlsSettings, error: &rustls::Error) -> String {
    use rustls::AlertDescription as Alert;
    let ca = settings.ca_certificates.display();
    let own = settings.certificate.display();
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                format!("its certificate is not signed by the CA in {ca} ({certificate:?})")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("its certificate has expired ({certificate:?})")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("its certificate is not valid yet ({certificate:?})")
            }
            other => format!("its certificate is refused: {other:?}"),
        },
        rustls::Error::NoCertificatesPresented => "it presented no certificate (mutual TLS is required)".to_owned(),
        rustls::Error::AlertReceived(
            alert @ (Alert::UnknownCA | Alert::BadCertificate | Alert::CertificateExpired | Alert::CertificateUnknown),
        ) => {
            format!(
                "it refused the controller's certificate {own} (alert {alert:?}): does it trust the CA that signed it?"
            )
        }
        rustls::Error::AlertReceived(alert) => format!("it ended the handshake with alert {alert:?}"),
        other => format!("TLS handshake failed: {other}"),
    }
}
