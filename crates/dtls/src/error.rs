//! The crate's one error type.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::fingerprint::{Fingerprint, FingerprintError};
use crate::state::DtlsTransportState;

/// Everything that can go wrong in this crate: bad `a=fingerprint` / `a=setup` text,
/// certificate generation and PEM loading, and the DTLS handshake.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum DtlsError {
    /// An `a=fingerprint` value was refused: an unknown or forbidden hash function, no digest,
    /// bad hex, or the wrong length.
    Fingerprint(FingerprintError),
    /// The `a=setup` value is none of active, passive, actpass, holdconn.
    InvalidSetup {
        /// The value as written (trimmed, at most 32 bytes of it).
        value: String,
    },
    /// `a=setup:holdconn`: DTLS-SRTP needs a connection, so it is refused.
    SetupHoldConn,
    /// The answer said `a=setup:actpass`, which only an offer may (RFC 5763 §5).
    ActPassInAnswer,
    /// The key could not be generated or the certificate not self-signed (the step that failed;
    /// the underlying error is logged, no dependency's type is part of this API).
    CertificateGeneration(GenerationStep),
    /// The requested validity does not fit in an X.509 date.
    InvalidValidity {
        /// The validity asked for.
        validity: Duration,
    },
    /// The PEM text is not what [`Certificate::from_pem`](crate::Certificate::from_pem) expects.
    Pem(PemError),
    /// The certificate DER is not a parsable X.509 certificate.
    CertificateParse,
    /// The private key is not ECDSA P-256, the only local key dtls 0.17 accepts for a handshake
    /// (RSA keys are refused by its config validation; see the crate docs).
    UnsupportedKeyAlgorithm,
    /// The private key does not belong to the certificate's public key.
    KeyCertificateMismatch,
    /// The local certificate has expired (W3C: expired certificates may not be used).
    CertificateExpired {
        /// When it expired.
        expires: SystemTime,
    },
    /// The remote description gave no fingerprint, so the peer cannot be authenticated.
    NoRemoteFingerprints,
    /// No SRTP protection profile was configured.
    NoSrtpProfiles,
    /// The peer's certificate does not hash to a fingerprint of the remote description.
    /// The handshake was aborted with a `bad_certificate` alert.
    FingerprintMismatch(Box<FingerprintMismatch>),
    /// The peer presented no certificate.
    MissingPeerCertificate,
    /// The peer aborted the handshake with a fatal alert (e.g. `bad_certificate` after its own
    /// fingerprint check failed) or a close_notify.
    PeerAborted,
    /// The handshake did not finish in time: the configured limit passed, or (sans-IO
    /// [`DtlsConnection`](crate::DtlsConnection)) the peer answered none of a flight's
    /// retransmissions.
    HandshakeTimeout {
        /// The time that elapsed.
        timeout: Duration,
    },
    /// The handshake finished without an SRTP protection profile (no `use_srtp` agreement).
    NoSrtpProfileSelected,
    /// The transport is not in the state this operation needs (e.g. started twice).
    InvalidState {
        /// The state it was in.
        state: DtlsTransportState,
    },
    /// The sans-IO DTLS stack under [`DtlsConnection`](crate::DtlsConnection) refused a record
    /// or failed the handshake (its own error, described).
    Protocol(ProtocolError),
}

/// An error of the sans-IO DTLS stack (webrtc-rs `rtc-dtls`), kept as its description so no
/// type of that crate appears in this crate's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    description: String,
}

impl ProtocolError {
    #[cfg(feature = "crypto")]
    pub(crate) fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
        }
    }

    #[cfg(feature = "crypto")]
    pub(crate) fn from_stack(error: rtc_shared::error::Error) -> Self {
        Self::new(error.to_string())
    }

    /// What the stack said.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::error::Error for ProtocolError {}

impl From<ProtocolError> for DtlsError {
    fn from(error: ProtocolError) -> Self {
        Self::Protocol(error)
    }
}

/// Which step of [`Certificate::generate`](crate::Certificate::generate) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenerationStep {
    /// Generating the key pair.
    KeyPair,
    /// Self-signing the certificate.
    SelfSign,
}

impl fmt::Display for GenerationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::KeyPair => "the key pair could not be generated",
            Self::SelfSign => "the certificate could not be self-signed",
        })
    }
}

/// The detail of [`DtlsError::FingerprintMismatch`] (boxed: two digests are large).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FingerprintMismatch {
    /// The fingerprint the remote description announced.
    pub expected: Fingerprint,
    /// What the certificate the peer presented hashes to.
    pub actual: Fingerprint,
}

/// What is wrong with a PEM bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// The text is longer than [`MAX_PEM_LEN`](crate::MAX_PEM_LEN).
    TooLarge,
    /// The text is not PEM.
    Unparsable,
    /// No `CERTIFICATE` block.
    MissingCertificate,
    /// No `PRIVATE KEY` block.
    MissingPrivateKey,
    /// More than one `CERTIFICATE` or `PRIVATE KEY` block.
    DuplicateBlock,
    /// A block other than `CERTIFICATE` or `PRIVATE KEY` (PKCS#8).
    UnexpectedBlock,
    /// The `PRIVATE KEY` block is not a PKCS#8 key ring can load.
    UnreadablePrivateKey,
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "text is longer than a certificate bundle can be",
            Self::Unparsable => "text is not PEM",
            Self::MissingCertificate => "no CERTIFICATE block",
            Self::MissingPrivateKey => "no PRIVATE KEY block",
            Self::DuplicateBlock => "more than one CERTIFICATE or PRIVATE KEY block",
            Self::UnexpectedBlock => "a block other than CERTIFICATE or PRIVATE KEY",
            Self::UnreadablePrivateKey => "PRIVATE KEY block is not a loadable PKCS#8 key",
        })
    }
}

impl From<FingerprintError> for DtlsError {
    fn from(error: FingerprintError) -> Self {
        Self::Fingerprint(error)
    }
}

impl fmt::Display for DtlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fingerprint(error) => error.fmt(f),
            Self::InvalidSetup { value } => write!(f, "invalid a=setup value {value:?}"),
            Self::SetupHoldConn => write!(f, "a=setup:holdconn cannot carry DTLS-SRTP"),
            Self::ActPassInAnswer => write!(f, "an answer may not say a=setup:actpass"),
            Self::CertificateGeneration(step) => {
                write!(f, "certificate generation failed: {step}")
            }
            Self::InvalidValidity { validity } => {
                write!(f, "certificate validity {validity:?} is out of range")
            }
            Self::Pem(e) => write!(f, "invalid PEM certificate bundle: {e}"),
            Self::CertificateParse => write!(f, "certificate is not parsable X.509 DER"),
            Self::UnsupportedKeyAlgorithm => {
                write!(
                    f,
                    "private key is not ECDSA P-256 (the only kind dtls 0.17 can use)"
                )
            }
            Self::KeyCertificateMismatch => {
                write!(f, "private key does not match the certificate")
            }
            Self::CertificateExpired { expires } => {
                write!(f, "local certificate expired at {expires:?}")
            }
            Self::NoRemoteFingerprints => write!(f, "remote description has no fingerprint"),
            Self::NoSrtpProfiles => write!(f, "no SRTP protection profile configured"),
            Self::FingerprintMismatch(mismatch) => write!(
                f,
                "peer certificate fingerprint {} does not match the remote description's {}",
                mismatch.actual, mismatch.expected
            ),
            Self::MissingPeerCertificate => write!(f, "peer presented no certificate"),
            Self::PeerAborted => write!(f, "peer aborted the DTLS handshake with an alert"),
            Self::HandshakeTimeout { timeout } => {
                write!(f, "DTLS handshake did not finish within {timeout:?}")
            }
            Self::NoSrtpProfileSelected => write!(f, "DTLS handshake selected no SRTP profile"),
            Self::InvalidState { state } => write!(f, "DTLS transport is {state}"),
            Self::Protocol(e) => write!(f, "DTLS: {e}"),
        }
    }
}

impl std::error::Error for DtlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            _ => None,
        }
    }
}
