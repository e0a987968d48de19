//! A DTLS handshake over an in-memory pipe, shared by the `dtls` and `data_channel` benches.

use std::sync::Arc;

use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsParameters, DtlsRole, DtlsSession,
    DtlsTransport, Fingerprint, HashAlgorithm,
};

/// One side of a DTLS pair: its certificate and that certificate's SHA-256 fingerprint.
pub(crate) struct Endpoint {
    pub(crate) certificate: Certificate,
    pub(crate) fingerprint: Fingerprint,
}

impl Endpoint {
    /// A fresh ECDSA P-256 certificate and its fingerprint.
    pub(crate) fn generate() -> Self {
        let certificate =
            Certificate::generate(&CertificateOptions::default()).expect("certificate");
        let fingerprint = certificate.fingerprint(HashAlgorithm::Sha256);
        Self {
            certificate,
            fingerprint,
        }
    }
}

/// Both ends of a DTLS handshake between `client` and `server` over a fresh in-memory pipe,
/// each end checking the other's fingerprint.
#[allow(
    dead_code,
    reason = "the dtls bench uses it, the data_channel bench does not"
)]
pub(crate) async fn dtls_over_pipe(
    client: &Endpoint,
    server: &Endpoint,
) -> (DtlsSession, DtlsSession) {
    let (a, z) = webrtc_util::conn::conn_pipe::pipe();
    let client_transport = DtlsTransport::new(DtlsConfig::new(client.certificate.clone()));
    let server_transport = DtlsTransport::new(DtlsConfig::new(server.certificate.clone()));
    let (c, s) = tokio::join!(
        client_transport.start(
            Arc::new(a),
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![server.fingerprint],
            },
        ),
        server_transport.start(
            Arc::new(z),
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![client.fingerprint],
            },
        ),
    );
    (c.expect("dtls client"), s.expect("dtls server"))
}
