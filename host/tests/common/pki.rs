//! Certificates for the TLS tests, made with Open vSwitch's `ovs-pki` (Debian `openvswitch-pki`) the way an operator
//! makes them: a controller CA and a switch CA, a controller and a switch certificate, and for the failure cases a
//! switch certificate from another PKI and an expired controller certificate (`openssl ca` with past dates).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The files of a test PKI.
pub struct Pki {
    /// The controller's key and certificate (signed by the controller CA).
    pub ctl_key: PathBuf,
    pub ctl_cert: PathBuf,
    /// The controller's key and an expired certificate.
    pub expired_key: PathBuf,
    pub expired_cert: PathBuf,
    /// The switch's key and certificate (signed by the switch CA).
    pub switch_key: PathBuf,
    pub switch_cert: PathBuf,
    /// A switch key and certificate from another PKI.
    pub stranger_key: PathBuf,
    pub stranger_cert: PathBuf,
    /// The CA certificate switches check the controller's against.
    pub controller_ca: PathBuf,
    /// The CA certificate the controller checks switches' against.
    pub switch_ca: PathBuf,
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn ovs_pki(dir: &Path, args: &[&str]) {
    run(Command::new("ovs-pki")
        .arg(format!("--dir={}", dir.display()))
        .args(args)
        .current_dir(dir.parent().expect("a parent")));
}

impl Pki {
    /// Makes every file in `dir` (with `ovs-pki`, installed when missing, and `openssl`).
    pub fn make(dir: &Path) -> Pki {
        if Command::new("ovs-pki").arg("--version").output().is_err() {
            run(Command::new("apt-get")
                .args(["install", "-y", "-q", "openvswitch-pki"])
                .env("DEBIAN_FRONTEND", "noninteractive"));
        }
        std::fs::create_dir_all(dir).expect("pki dir");
        let (pki, other) = (dir.join("pki"), dir.join("other-pki"));
        ovs_pki(&pki, &["init", "--force"]);
        ovs_pki(&other, &["init", "--force"]);
        // `req+sign NAME TYPE` writes NAME-privkey.pem and NAME-cert.pem in the current directory (`dir`).
        ovs_pki(&pki, &["req+sign", "ctl", "controller", "--force"]);
        ovs_pki(&pki, &["req+sign", "sw", "switch", "--force"]);
        ovs_pki(&other, &["req+sign", "stranger", "switch", "--force"]);
        let at = |name: &str| dir.join(name);
        run(Command::new("openssl")
            .args([
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/C=US/O=Open vSwitch/CN=expired",
                "-keyout",
            ])
            .arg(at("expired-privkey.pem"))
            .arg("-out")
            .arg(at("expired-req.pem")));
        run(Command::new("openssl")
            .args(["ca", "-config", "ca.cnf", "-batch", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z"])
            .arg("-in")
            .arg(at("expired-req.pem"))
            .arg("-out")
            .arg(at("expired-cert.pem"))
            .current_dir(pki.join("controllerca")));
        Pki {
            ctl_key: at("ctl-privkey.pem"),
            ctl_cert: at("ctl-cert.pem"),
            expired_key: at("expired-privkey.pem"),
            expired_cert: at("expired-cert.pem"),
            switch_key: at("sw-privkey.pem"),
            switch_cert: at("sw-cert.pem"),
            stranger_key: at("stranger-privkey.pem"),
            stranger_cert: at("stranger-cert.pem"),
            controller_ca: pki.join("controllerca/cacert.pem"),
            switch_ca: pki.join("switchca/cacert.pem"),
        }
    }

    /// The host's TLS flags with this PKI's controller files.
    pub fn host_flags(&self) -> Vec<String> {
        ["--ctl-privkey", &self.ctl_key.display().to_string(), "--ctl-cert", &self.ctl_cert.display().to_string()]
            .into_iter()
            .map(str::to_owned)
            .chain(["--ca-certs".to_owned(), self.switch_ca.display().to_string()])
            .collect()
    }

    /// A switch's TLS client configuration with `key` and `cert`, checking the controller's certificate against
    /// the controller CA (not its name, as Open vSwitch does).
    pub fn switch_config(&self, key: &Path, cert: &Path) -> Arc<rustls::ClientConfig> {
        let chain =
            CertificateDer::pem_file_iter(cert).expect("cert file").collect::<Result<Vec<_>, _>>().expect("certs");
        let key = PrivateKeyDer::from_pem_file(key).expect("key file");
        Arc::new(self.client_builder().with_client_auth_cert(chain, key).expect("a client certificate"))
    }

    /// A switch's TLS client configuration without a certificate of its own.
    pub fn anonymous_config(&self) -> Arc<rustls::ClientConfig> {
        Arc::new(self.client_builder().with_no_client_auth())
    }

    fn client_builder(&self) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(&self.controller_ca).expect("CA file") {
            roots.add(ca.expect("a CA certificate")).expect("a usable CA");
        }
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .expect("a verifier");
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SignedByCa { inner, provider }))
    }
}

/// The controller CA's signature, whatever name the certificate carries.
#[derive(Debug)]
struct SignedByCa {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    provider: Arc<rustls::crypto::CryptoProvider>,
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
