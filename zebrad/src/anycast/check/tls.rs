//! TLS for the `https` health check: the rustls client configuration of one
//! check (RFC 8446 / RFC 5246 through rustls with the ring provider; no
//! OpenSSL).
//!
//! Owns: which certificates a check trusts (the system's roots, or the CA
//! certificates of a PEM file) or, only when the operator says `insecure`,
//! none at all (the handshake's signatures are still checked, the
//! certificate chain and name are not), and the server name a check sends
//! as SNI and verifies the certificate against (RFC 6066 §3).
//!
//! Never: reads a file after the configuration is loaded (a bad CA file is
//! a config error, not a failing check) or logs certificate contents.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

/// The TLS side of one `https` check, built once when the config loads.
/// Two are equal when they were configured alike (same CA file, same
/// `insecure`), so a reload that changes neither keeps the check.
#[derive(Clone)]
pub struct TlsClient {
    ca_file: Option<PathBuf>,
    insecure: bool,
    config: Arc<ClientConfig>,
}

impl TlsClient {
    /// Trusts the certificates in `ca_file` (PEM), or the system's roots
    /// when there is none; `insecure` trusts any certificate instead.
    pub fn new(ca_file: Option<&Path>, insecure: bool) -> Result<Self, String> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let config = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let roots = match ca_file {
                Some(f) => Arc::new(ca_roots(f)?),
                None => system_roots()?,
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(TlsClient {
            ca_file: ca_file.map(Path::to_path_buf),
            insecure,
            config: Arc::new(config),
        })
    }

    pub fn connector(&self) -> TlsConnector {
        TlsConnector::from(self.config.clone())
    }
}

impl PartialEq for TlsClient {
    fn eq(&self, o: &Self) -> bool {
        self.ca_file == o.ca_file && self.insecure == o.insecure
    }
}

impl Eq for TlsClient {}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClient")
            .field("ca_file", &self.ca_file)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The name to send as SNI and verify the certificate against, from the
/// Host header's text (`svc.example`, `svc.example:8443`, `192.0.2.1`,
/// `[2001:db8::1]:443`): the host without its port, a DNS name or an IP
/// address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = if let Some(h) = host.strip_prefix('[') {
        h.split_once(']').map(|x| x.0).unwrap_or(h)
    } else if host.matches(':').count() == 1 {
        host.split_once(':').map(|x| x.0).unwrap_or(host)
    } else {
        host
    };
    ServerName::try_from(bare.to_string())
        .map_err(|_| format!("`{host}` is neither a DNS name nor an IP address"))
}

/// The CA certificates of a PEM file; at least one.
fn ca_roots(file: &Path) -> Result<RootCertStore, String> {
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut roots = RootCertStore::empty();
    for c in certs {
        let c = c.map_err(|e| format!("{}: {e}", file.display()))?;
        roots
            .add(c)
            .map_err(|e| format!("{}: bad CA certificate: {e}", file.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no certificate in it", file.display()));
    }
    Ok(roots)
}

/// The system's trusted roots, loaded once per process.
fn system_roots() -> Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no system CA certificates found{why}; set `ca_file` or install ca-certificates"
                ));
            }
            Ok(Arc::new(roots))
        })
        .clone()
}

/// `insecure = true`: any certificate, for any name, is accepted; the
/// handshake signatures are still verified with the provider's algorithms,
/// so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        let dns = |h: &str| match server_name(h).unwrap() {
            ServerName::DnsName(d) => d.as_ref().to_string(),
            o => panic!("{h}: {o:?}"),
        };
        assert_eq!(dns("svc.example"), "svc.example");
        assert_eq!(dns("svc.example:8443"), "svc.example");
        assert!(matches!(
            server_name("192.0.2.1:443").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("[2001:db8::1]:443").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("2001:db8::1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(server_name("bad name").is_err());
        assert!(server_name("").is_err());
    }

    #[test]
    fn ca_files() {
        let dir = std::env::temp_dir().join(format!("zebrad-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(TlsClient::new(Some(&empty), false)
            .unwrap_err()
            .contains("no certificate"));
        let missing = dir.join("missing.pem");
        assert!(TlsClient::new(Some(&missing), false)
            .unwrap_err()
            .contains("cannot read"));
        let good = dir.join("ca.pem");
        let ck = rcgen::generate_simple_self_signed(vec!["svc.example".into()]).unwrap();
        std::fs::write(&good, ck.cert.pem()).unwrap();
        let a = TlsClient::new(Some(&good), false).unwrap();
        assert_eq!(a, TlsClient::new(Some(&good), false).unwrap());
        assert_ne!(a, TlsClient::new(None, true).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
