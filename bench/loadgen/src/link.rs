//! A switch's connection to the controller: plain TCP, or TLS (rustls, the client side of mutual TLS) over a
//! non-blocking socket. The TLS handshake is done blocking, in [`Link::connect`]; after it, reads and writes never
//! block, as on plain TCP.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The switch side's TLS files: its key and certificate, and the CA the controller's certificate must be signed by.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The switch's private key (PEM).
    pub key: PathBuf,
    /// The switch's certificate (PEM).
    pub cert: PathBuf,
    /// The CA certificate the controller's must be signed by (PEM).
    pub ca: PathBuf,
}

/// Builds the client configuration every switch of a run shares.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, String> {
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, String> {
        CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("{}: {e}", files.key.display()))?;
    let mut roots = RootCertStore::empty();
    for ca in read_certs(&files.ca)? {
        roots.add(ca).map_err(|e| format!("{}: {e}", files.ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .map_err(|e| e.to_string())?;
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SignedByCa { inner, provider }))
        .with_client_auth_cert(read_certs(&files.cert)?, key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// Accepts a controller certificate signed by the CA whatever name it carries (ovs-pki certificates name no
/// address), as Open vSwitch does.
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
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
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

/// A connection to the controller.
pub enum Link {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<ClientConnection>, TcpStream),
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl Link {
    /// Connects (and with `tls`, runs the handshake), then writes `first` (the HELLO) and makes the socket
    /// non-blocking.
    pub fn connect(controller: SocketAddr, tls: Option<&Arc<ClientConfig>>, first: &[u8]) -> io::Result<Link> {
        let mut stream = TcpStream::connect(controller)?;
        stream.set_nodelay(true)?;
        let mut link = match tls {
            None => {
                stream.write_all(first)?;
                Link::Plain(stream)
            }
            Some(config) => {
                let name = ServerName::IpAddress(controller.ip().into());
                let mut connection = ClientConnection::new(Arc::clone(config), name).map_err(tls_error)?;
                while connection.is_handshaking() {
                    connection.complete_io(&mut stream)?;
                }
                connection.writer().write_all(first)?;
                while connection.wants_write() {
                    connection.write_tls(&mut stream)?;
                }
                Link::Tls(Box::new(connection), stream)
            }
        };
        link.socket().set_nonblocking(true)?;
        Ok(link)
    }

    fn socket(&mut self) -> &mut TcpStream {
        match self {
            Link::Plain(stream) | Link::Tls(_, stream) => stream,
        }
    }

    /// The socket, for epoll.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Link::Plain(stream) | Link::Tls(_, stream) => stream.as_fd(),
        }
    }

    /// Reads what has come (plaintext); `WouldBlock` when nothing has, 0 when the controller closed.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Plain(stream) => stream.read(buf),
            Link::Tls(connection, stream) => loop {
                match connection.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if connection.read_tls(stream)? == 0 {
                    return Ok(0);
                }
                connection.process_new_packets().map_err(tls_error)?;
            },
        }
    }

    /// Writes some of `data`; `WouldBlock` when the socket takes nothing now.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Link::Plain(stream) => stream.write(data),
            Link::Tls(connection, stream) => {
                // Take more only once the records already made are out, so the socket's backpressure holds.
                while connection.wants_write() {
                    connection.write_tls(stream)?;
                }
                let n = connection.writer().write(&data[..data.len().min(64 * 1024)])?;
                while connection.wants_write() {
                    match connection.write_tls(stream) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok(n)
            }
        }
    }

    /// Whether TLS records are made but not yet written.
    pub fn has_pending(&self) -> bool {
        match self {
            Link::Plain(_) => false,
            Link::Tls(connection, _) => connection.wants_write(),
        }
    }

    /// Writes the TLS records made but not yet written; `Ok(true)` when none are left.
    pub fn flush_pending(&mut self) -> io::Result<bool> {
        if let Link::Tls(connection, stream) = self {
            while connection.wants_write() {
                match connection.write_tls(stream) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(true)
    }
}
