//! DTLS for WebRTC: certificates, `a=fingerprint`, `a=setup` roles and the DTLS-SRTP
//! association that pins the peer to the fingerprint its description gave, as a sans-IO state
//! machine.
//!
//! This crate knows no SDP or ICE: fingerprints and setup values are parsed from attribute
//! value text, and the association takes and gives datagrams, whatever path carries them.
//!
//! - [`Certificate`]: ECDSA P-256 self-signed certificate with an expiry and the four
//!   fingerprints (W3C `RTCCertificate`), persisted with [`Certificate::to_pem`] /
//!   [`Certificate::from_pem`].
//! - [`Fingerprint`] (the shared `antiphon-types` value): `a=fingerprint` values, parsed
//!   strictly, written upper-case, compared in constant time; [`CertificateFingerprint`] hashes
//!   a certificate into one.
//! - [`Setup`] (the shared `antiphon-types` vocabulary), [`parse_setup`], [`answerer_role`],
//!   [`offerer_role`]: who is DTLS client (RFC 5763 §5, JSEP).
//! - [`DtlsConnection`]: the association on webrtc-rs's sans-IO `rtc-dtls` (use_srtp with
//!   AEAD-AES-128/256-GCM and AES128-CM-HMAC-SHA1-80, extended master secret required, the
//!   fingerprint checked in the handshake so a mismatch aborts it with `bad_certificate`):
//!   `handle_receive(now, datagram)`, `handle_timeout(now)`, `poll_transmit()`,
//!   `poll_event()`, `poll_timeout()`; [`DtlsEvent::Connected`] carries the SRTP profile,
//!   keying material and the peer's certificate.
//!
//! Our own certificate is ECDSA: neither ring nor rcgen-on-ring can generate RSA keys. A peer's
//! RSA certificate is verified like any other.
//!
//! # Example
//!
//! ```
//! use std::time::Instant;
//! use antiphon_dtls::{
//!     ActPassAnswer, Certificate, CertificateOptions, DtlsConfig, DtlsConnection, DtlsEvent,
//!     DtlsParameters, Fingerprint, HashAlgorithm, answerer_role, offerer_role, parse_setup,
//! };
//!
//! # fn main() -> Result<(), antiphon_dtls::DtlsError> {
//! let offerer_cert = Certificate::generate(&CertificateOptions::default())?;
//! let answerer_cert = Certificate::generate(&CertificateOptions::default())?;
//!
//! // What each description carries, as attribute value text.
//! let offer_fingerprint = offerer_cert.fingerprint(HashAlgorithm::Sha256).to_string();
//! let answer_fingerprint = answerer_cert.fingerprint(HashAlgorithm::Sha256).to_string();
//!
//! // The answerer reads the offer's a=setup:actpass and a=fingerprint.
//! let answerer_role = answerer_role(parse_setup("actpass")?, ActPassAnswer::default())?;
//! // The offerer reads the answer's a=setup (active) back.
//! let offerer_role = offerer_role(answerer_role.setup())?;
//!
//! let now = Instant::now();
//! let mut offerer = DtlsConnection::new(now, &DtlsConfig::new(offerer_cert), DtlsParameters {
//!     role: offerer_role,
//!     remote_fingerprints: vec![Fingerprint::parse(&answer_fingerprint)?],
//! })?;
//! let mut answerer = DtlsConnection::new(now, &DtlsConfig::new(answerer_cert), DtlsParameters {
//!     role: answerer_role,
//!     remote_fingerprints: vec![Fingerprint::parse(&offer_fingerprint)?],
//! })?;
//! // Carry the datagrams both ways (here in memory; in WebRTC over ICE's selected pair).
//! let mut keys = Vec::new();
//! while keys.len() < 2 {
//!     while let Some(datagram) = answerer.poll_transmit() {
//!         offerer.handle_receive(now, &datagram)?;
//!     }
//!     while let Some(datagram) = offerer.poll_transmit() {
//!         answerer.handle_receive(now, &datagram)?;
//!     }
//!     for side in [&mut offerer, &mut answerer] {
//!         while let Some(event) = side.poll_event() {
//!             if let DtlsEvent::Connected(connected) = event {
//!                 keys.push(connected.keying_material);
//!             }
//!         }
//!     }
//! }
//! assert_eq!(keys[0], keys[1]);
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "crypto")]
mod certificate;
#[cfg(feature = "crypto")]
mod config;
#[cfg(feature = "crypto")]
mod connection;
mod error;
mod fingerprint;
mod role;
#[cfg(feature = "crypto")]
mod srtp;
mod state;

#[cfg(feature = "crypto")]
pub use certificate::{
    Certificate, CertificateOptions, DEFAULT_VALIDITY, KeyAlgorithm, MAX_PEM_LEN,
};
#[cfg(feature = "crypto")]
pub use config::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_RETRANSMIT_INTERVAL, DtlsConfig, DtlsParameters,
    verify_fingerprints,
};
#[cfg(feature = "crypto")]
pub use connection::{DEFAULT_DTLS_MTU, DtlsConnected, DtlsConnection, DtlsEvent};
pub use error::{DtlsError, FingerprintMismatch, GenerationStep, PemError, ProtocolError};
#[cfg(feature = "crypto")]
pub use fingerprint::CertificateFingerprint;
pub use fingerprint::{Fingerprint, FingerprintError, HashAlgorithm};
pub use role::{
    ActPassAnswer, DtlsRole, OFFER_SETUP, Setup, answerer_role, offerer_role, parse_setup,
};
#[cfg(feature = "crypto")]
pub use srtp::{SRTP_EXPORTER_LABEL, SrtpKeyingMaterial, SrtpKeys, SrtpProfile};
pub use state::DtlsTransportState;

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
