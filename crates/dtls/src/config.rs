//! What a DTLS-SRTP association needs: our settings ([`DtlsConfig`]), what the remote
//! description decided ([`DtlsParameters`]), and the check of the peer's certificate against
//! the remote fingerprints ([`verify_fingerprints`]).

use std::time::Duration;

use crate::certificate::Certificate;
use crate::error::{DtlsError, FingerprintMismatch};
use crate::fingerprint::{CertificateFingerprint, Fingerprint, HashAlgorithm};
use crate::role::DtlsRole;
use crate::srtp::SrtpProfile;

/// Default limit on the whole handshake, retransmissions included.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default first retransmission interval of a flight (RFC 6347 §4.2.4.1 suggests 1 s).
pub const DEFAULT_RETRANSMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Local DTLS settings: our certificate, the SRTP profiles we accept, timers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DtlsConfig {
    /// Our certificate; its fingerprint is what our description announces.
    pub certificate: Certificate,
    /// SRTP profiles in preference order; defaults to [`SrtpProfile::DEFAULT`].
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Limit on the whole handshake; on expiry the transport fails.
    pub handshake_timeout: Duration,
    /// First flight retransmission interval.
    pub retransmit_interval: Duration,
}

/// Builders: `DtlsConfig::new(certificate).with_...(..)` (the struct is `#[non_exhaustive]`, so
/// other crates build it this way or by assigning fields of one).
impl DtlsConfig {
    /// The same, with [`certificate`](Self::certificate) set.
    #[must_use]
    pub fn with_certificate(mut self, certificate: Certificate) -> Self {
        self.certificate = certificate;
        self
    }

    /// The same, with [`srtp_profiles`](Self::srtp_profiles) set.
    #[must_use]
    pub fn with_srtp_profiles(mut self, srtp_profiles: Vec<SrtpProfile>) -> Self {
        self.srtp_profiles = srtp_profiles;
        self
    }

    /// The same, with [`handshake_timeout`](Self::handshake_timeout) set.
    #[must_use]
    pub fn with_handshake_timeout(mut self, handshake_timeout: Duration) -> Self {
        self.handshake_timeout = handshake_timeout;
        self
    }

    /// The same, with [`retransmit_interval`](Self::retransmit_interval) set.
    #[must_use]
    pub fn with_retransmit_interval(mut self, retransmit_interval: Duration) -> Self {
        self.retransmit_interval = retransmit_interval;
        self
    }
}

impl DtlsConfig {
    /// Defaults around `certificate`.
    pub fn new(certificate: Certificate) -> Self {
        Self {
            certificate,
            srtp_profiles: SrtpProfile::DEFAULT.to_vec(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            retransmit_interval: DEFAULT_RETRANSMIT_INTERVAL,
        }
    }
}

/// What the remote description decided: our role and the peer's fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsParameters {
    /// Our side of the handshake, from [`answerer_role`](crate::answerer_role) or
    /// [`offerer_role`](crate::offerer_role).
    pub role: DtlsRole,
    /// Every `a=fingerprint` of the remote description (media or session level).
    pub remote_fingerprints: Vec<Fingerprint>,
}

/// Checks `certificate_der` against the remote fingerprints (RFC 8122 §5).
///
/// Every hash algorithm the description used must match: for each algorithm present, the
/// certificate must hash to one of that algorithm's fingerprints (several per algorithm
/// only arise when a peer may use one of several certificates). Returns the first failure.
pub fn verify_fingerprints(
    remote_fingerprints: &[Fingerprint],
    certificate_der: &[u8],
) -> Result<(), DtlsError> {
    if remote_fingerprints.is_empty() {
        return Err(DtlsError::NoRemoteFingerprints);
    }
    for algorithm in HashAlgorithm::ALL {
        let mut expected = remote_fingerprints
            .iter()
            .filter(|fingerprint| fingerprint.algorithm() == algorithm)
            .peekable();
        let Some(&&first) = expected.peek() else {
            continue;
        };
        let actual = Fingerprint::of_der(algorithm, certificate_der);
        // Fold rather than short-circuit so the work does not depend on which one matches.
        let matched = expected.fold(false, |found, candidate| (*candidate == actual) | found);
        if !matched {
            return Err(DtlsError::FingerprintMismatch(Box::new(
                FingerprintMismatch {
                    expected: first,
                    actual,
                },
            )));
        }
    }
    Ok(())
}
