//! HTTPS and WSS for `antiphon serve`: rustls on ring with a certificate and key read from PEM
//! files (`--tls-cert`, `--tls-key`), or a self-signed certificate made at start
//! (`--tls-self-signed`) whose fingerprints are printed so that a user can check what their
//! browser shows, or tell Chromium to trust it (`--ignore-certificate-errors-spki-list`).
//!
//! A browser on another machine needs a secure context (HTTPS) before it lets the page use a
//! camera or microphone; on `https:` the page opens its WebSocket as `wss:`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use antiphon_dtls::{CertificateFingerprint as _, Fingerprint, HashAlgorithm};
use base64::Engine as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// How long a self-signed certificate is valid from start.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

/// The server's TLS: the acceptor and what identifies its certificate.
#[derive(Clone)]
pub(crate) struct ServerTls {
    /// Takes a TCP connection through the TLS handshake.
    pub(crate) acceptor: TlsAcceptor,
    /// SHA-256 of the certificate, `AB:CD:...` (what a browser's certificate viewer shows).
    pub(crate) fingerprint: String,
    /// SHA-256 of the certificate's public key (SubjectPublicKeyInfo), base64: what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes. Known for a self-signed certificate.
    pub(crate) spki_sha256: Option<String>,
}

impl ServerTls {
    /// A certificate chain and its private key from PEM files.
    pub(crate) fn from_files(cert: &Path, key: &Path) -> Result<Self, String> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
        let Some(leaf) = chain.first() else {
            return Err(format!(
                "--tls-cert {}: no CERTIFICATE in it",
                cert.display()
            ));
        };
        let fingerprint = sha256_hex(leaf);
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
        Ok(Self {
            acceptor: acceptor(chain, key)?,
            fingerprint,
            spki_sha256: None,
        })
    }

    /// A new self-signed ECDSA P-256 certificate for `localhost`, 127.0.0.1, ::1 and the
    /// address served (when it is not the unspecified address), valid for 30 days.
    pub(crate) fn self_signed(addr: SocketAddr) -> Result<Self, String> {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
            names.push(addr.ip().to_string());
        }
        let failed = |e: rcgen::Error| format!("--tls-self-signed: {e}");
        let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "antiphon serve (self-signed)");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + SELF_SIGNED_VALIDITY;
        let key_pair =
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let certificate = params.self_signed(&key_pair).map_err(failed)?;
        let spki = ring::digest::digest(&ring::digest::SHA256, &key_pair.public_key_der());
        let key = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
        let der = certificate.der().clone();
        Ok(Self {
            fingerprint: sha256_hex(&der),
            acceptor: acceptor(vec![der], key)?,
            spki_sha256: Some(base64::engine::general_purpose::STANDARD.encode(spki.as_ref())),
        })
    }
}

/// rustls on ring, HTTP/1.1 by ALPN (the WebSocket upgrade needs it).
fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the TLS certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// SHA-256 of the certificate `der` as colon-separated uppercase hex, as `a=fingerprint` and a
/// browser's certificate viewer write it (antiphon-dtls's certificate fingerprint).
fn sha256_hex(der: &[u8]) -> String {
    Fingerprint::of_der(HashAlgorithm::Sha256, der).hex()
}
