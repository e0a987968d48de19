//! The two ends of a DTLS association, shared by the `dtls` and `data_channel` benches.

use antiphon_dtls::{Certificate, CertificateOptions, Fingerprint, HashAlgorithm};

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
