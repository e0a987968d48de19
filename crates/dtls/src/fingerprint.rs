//! Certificate fingerprints: the [`Fingerprint`] value of `antiphon-types` (what
//! `a=fingerprint` states), and hashing a DER certificate into one with ring
//! ([`CertificateFingerprint`]), which is what the handshake checks.

#[cfg(feature = "crypto")]
use ring::digest;

pub use antiphon_types::{Fingerprint, FingerprintError, HashAlgorithm};

#[cfg(feature = "crypto")]
/// Hashing a certificate into a [`Fingerprint`]: what a certificate's fingerprint is, and the
/// check the DTLS handshake makes against the remote description's.
pub trait CertificateFingerprint: Sized {
    /// Hashes a DER-encoded certificate with `algorithm`.
    fn of_der(algorithm: HashAlgorithm, certificate_der: &[u8]) -> Self;

    /// Whether `certificate_der` hashes to this fingerprint (constant-time comparison).
    fn matches_der(&self, certificate_der: &[u8]) -> bool;
}

#[cfg(feature = "crypto")]
impl CertificateFingerprint for Fingerprint {
    fn of_der(algorithm: HashAlgorithm, certificate_der: &[u8]) -> Self {
        let hashed = digest::digest(ring_algorithm(algorithm), certificate_der);
        match Fingerprint::from_digest(algorithm, hashed.as_ref()) {
            Ok(fingerprint) => fingerprint,
            // ring's digest for `algorithm` is `algorithm.digest_len()` bytes, always.
            Err(error) => unreachable!("{error}"),
        }
    }

    fn matches_der(&self, certificate_der: &[u8]) -> bool {
        *self == Self::of_der(self.algorithm(), certificate_der)
    }
}

#[cfg(feature = "crypto")]
fn ring_algorithm(algorithm: HashAlgorithm) -> &'static digest::Algorithm {
    match algorithm {
        HashAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlgorithm::Sha256 => &digest::SHA256,
        HashAlgorithm::Sha384 => &digest::SHA384,
        HashAlgorithm::Sha512 => &digest::SHA512,
    }
}
