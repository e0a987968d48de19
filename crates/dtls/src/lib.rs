//! DTLS for WebRTC on webrtc-rs `dtls` 0.17: certificates, `a=fingerprint`, `a=setup` roles
//! and the DTLS-SRTP handshake that pins the peer to the fingerprint its description gave.
//!
//! This crate knows no SDP or ICE: fingerprints and setup values are parsed from attribute
//! value text, and the handshake runs over any `Arc<dyn webrtc_util::Conn + Send + Sync>`.
//!
//! - [`Certificate`]: ECDSA P-256 self-signed certificate with an expiry and the four
//!   fingerprints (W3C `RTCCertificate`), persisted with [`Certificate::to_pem`] /
//!   [`Certificate::from_pem`].
//! - [`Fingerprint`]: `a=fingerprint` values, parsed strictly, written upper-case, compared in
//!   constant time.
//! - [`Setup`], [`answerer_role`], [`offerer_role`]: who is DTLS client (RFC 5763 §5, JSEP).
//! - [`DtlsTransport`]: the handshake (use_srtp with AEAD-AES-128/256-GCM and
//!   AES128-CM-HMAC-SHA1-80, extended master secret required, fingerprint checked in the
//!   handshake so a mismatch aborts it with `bad_certificate`), its
//!   [`DtlsTransportState`] on a `tokio::sync::watch`, and the resulting [`DtlsSession`]
//!   with the SRTP profile, keying material and a `Conn` for SCTP.
//!
//! RSA certificates are not supported: neither ring nor rcgen-on-ring can generate RSA keys,
//! and dtls 0.17 rejects RSA local keys (`ErrInvalidPrivateKey`) before any handshake.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use antiphon_dtls::{
//!     ActPassAnswer, Certificate, CertificateOptions, DtlsConfig, DtlsParameters, DtlsTransport,
//!     Fingerprint, HashAlgorithm, Setup, answerer_role, offerer_role,
//! };
//!
//! # async fn run() -> Result<(), antiphon_dtls::DtlsError> {
//! let offerer_cert = Certificate::generate(&CertificateOptions::default())?;
//! let answerer_cert = Certificate::generate(&CertificateOptions::default())?;
//!
//! // What each description carries, as attribute value text.
//! let offer_fingerprint = offerer_cert.fingerprint(HashAlgorithm::Sha256).to_string();
//! let answer_fingerprint = answerer_cert.fingerprint(HashAlgorithm::Sha256).to_string();
//!
//! // The answerer reads the offer's a=setup:actpass and a=fingerprint.
//! let answerer_role = answerer_role(Setup::parse("actpass")?, ActPassAnswer::default())?;
//! // The offerer reads the answer's a=setup (active) back.
//! let offerer_role = offerer_role(answerer_role.setup())?;
//!
//! let (a, b) = webrtc_util::conn::conn_pipe::pipe();
//! let offerer = DtlsTransport::new(DtlsConfig::new(offerer_cert));
//! let answerer = DtlsTransport::new(DtlsConfig::new(answerer_cert));
//! let offerer_params = DtlsParameters {
//!     role: offerer_role,
//!     remote_fingerprints: vec![Fingerprint::parse(&answer_fingerprint)?],
//! };
//! let answerer_params = DtlsParameters {
//!     role: answerer_role,
//!     remote_fingerprints: vec![Fingerprint::parse(&offer_fingerprint)?],
//! };
//! let (offered, answered) = tokio::join!(
//!     offerer.start(Arc::new(a), offerer_params),
//!     answerer.start(Arc::new(b), answerer_params),
//! );
//! let (offered, answered) = (offered?, answered?);
//! assert_eq!(offered.keying_material(), answered.keying_material());
//! assert_eq!(offered.srtp_profile(), answered.srtp_profile());
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

mod certificate;
mod connection;
mod error;
mod fingerprint;
pub mod guard;
mod handshake;
mod role;
mod srtp;
pub mod state;

pub use certificate::{
    Certificate, CertificateOptions, DEFAULT_VALIDITY, KeyAlgorithm, MAX_PEM_LEN,
};
pub use connection::{DEFAULT_DTLS_MTU, DtlsConnected, DtlsConnection, DtlsEvent};
pub use error::{DtlsError, FingerprintMismatch, PemError, ProtocolError};
pub use fingerprint::{Fingerprint, HashAlgorithm};
pub use handshake::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_RETRANSMIT_INTERVAL, DtlsConfig, DtlsParameters,
    DtlsSession, DtlsTransport, verify_fingerprints,
};
pub use role::{ActPassAnswer, DtlsRole, OFFER_SETUP, Setup, answerer_role, offerer_role};
pub use srtp::{SRTP_EXPORTER_LABEL, SrtpKeyingMaterial, SrtpKeys, SrtpProfile};
pub use state::DtlsTransportState;

/// The webrtc-util `Conn` trait the handshake runs over and the session exposes.
pub use webrtc_util::Conn;
