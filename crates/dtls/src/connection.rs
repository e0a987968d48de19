//! The DTLS-SRTP association as a sans-IO state machine: datagrams and time in, datagrams,
//! events and the next deadline out. No sockets, no clock, no tasks.
//!
//! It runs webrtc-rs's sans-IO DTLS (`rtc-dtls`, the lineage of webrtc-rs's `dtls` crate) with
//! these rules: use_srtp with our profiles, extended master secret required, a certificate
//! demanded from both sides, and the peer's certificate checked against every remote
//! fingerprint inside the handshake, so a mismatch aborts it with `bad_certificate` before any
//! application data flows.
//!
//! One `DtlsConnection` is one association with one peer. Which network path carries its
//! datagrams is the ICE layer's business: the connection never sees an address.
//!
//! Randomness: the handshake's random values and keys come from ring's system generator, as
//! keys must; everything else (when a flight is sent, what times out) follows the `now` the
//! caller passes.

use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use antiphon_types::queue::ShrinkWhenDrained;
use bytes::{Bytes, BytesMut};
use rtc_dtls::config::{ClientAuthType, ConfigBuilder, ExtendedMasterSecretType, HandshakeConfig};
use rtc_dtls::crypto::Certificate as StackCertificate;
use rtc_dtls::crypto_provider::{RTCCryptoProvider, SignatureScheme};
use rtc_dtls::endpoint::{Endpoint, EndpointEvent};
use rtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use rustls_pki_types::CertificateDer;

use crate::certificate::Certificate;
use crate::config::{DtlsConfig, DtlsParameters, verify_fingerprints};
use crate::error::{DtlsError, ProtocolError};
use crate::fingerprint::{CertificateFingerprint, Fingerprint, HashAlgorithm};
use crate::role::DtlsRole;
use crate::srtp::{SRTP_EXPORTER_LABEL, SrtpKeyingMaterial, SrtpProfile};
use crate::state::DtlsTransportState;

/// The largest DTLS record payload we write: the default SCTP packet (1200 bytes) plus record
/// overhead stays under the common 1280-byte IPv6 minimum MTU once UDP and IP are added.
pub const DEFAULT_DTLS_MTU: usize = 1200;

/// The placeholder addresses of the one association (the stack keys associations by
/// address; the path is the ICE layer's).
const LOCAL: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1));
const REMOTE: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2));

/// What a [`DtlsConnection`] reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// The handshake finished and the peer's certificate matched its fingerprints.
    Connected(DtlsConnected),
    /// Application data (SCTP packets, in WebRTC) arrived.
    Data(Bytes),
    /// The peer sent close_notify; the association is over.
    PeerClosed,
    /// The handshake failed; the state is now `failed` and nothing more happens.
    Failed(DtlsError),
}

/// The outcome of a successful handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct DtlsConnected {
    /// The SRTP protection profile the handshake selected.
    pub profile: SrtpProfile,
    /// The `EXTRACTOR-dtls_srtp` keying material, split into keys and salts.
    pub keying_material: SrtpKeyingMaterial,
    /// The peer's DER certificate (W3C `getRemoteCertificates()[0]`).
    pub peer_certificate: Vec<u8>,
}

impl fmt::Debug for DtlsConnected {
    /// The profile and the peer's fingerprint; never the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsConnected")
            .field("profile", &self.profile)
            .field(
                "peer",
                &Fingerprint::of_der(HashAlgorithm::Sha256, &self.peer_certificate),
            )
            .finish_non_exhaustive()
    }
}

/// One DTLS-SRTP association with one peer, driven by the caller: datagrams and time in,
/// datagrams, events and the next deadline out; no socket, clock or task. The peer's certificate
/// is checked against every remote fingerprint inside the handshake, so a mismatch aborts it
/// with `bad_certificate` before any application data flows.
pub struct DtlsConnection {
    role: DtlsRole,
    endpoint: Endpoint,
    state: DtlsTransportState,
    remote_fingerprints: Vec<Fingerprint>,
    /// What the in-handshake fingerprint check found wrong (the stack only sees an error).
    mismatch: Arc<Mutex<Option<DtlsError>>>,
    handshake_timeout: Duration,
    started: Instant,
    handshake_deadline: Instant,
    events: VecDeque<DtlsEvent>,
    transmits: VecDeque<Bytes>,
}

impl DtlsConnection {
    /// Starts an association as `remote.role` says, at `now`. A client's first flight is ready
    /// at once in [`poll_transmit`](Self::poll_transmit); a server waits for the client.
    ///
    /// Bad arguments (no remote fingerprint, no SRTP profile, expired certificate) are refused
    /// here, before anything is sent.
    pub fn new(
        now: Instant,
        config: &DtlsConfig,
        remote: DtlsParameters,
    ) -> Result<Self, DtlsError> {
        if remote.remote_fingerprints.is_empty() {
            return Err(DtlsError::NoRemoteFingerprints);
        }
        if config.srtp_profiles.is_empty() {
            return Err(DtlsError::NoSrtpProfiles);
        }
        if config.certificate.is_expired(SystemTime::now()) {
            return Err(DtlsError::CertificateExpired {
                expires: config.certificate.expires(),
            });
        }
        let mismatch = Arc::new(Mutex::new(None));
        let is_client = remote.role == DtlsRole::Client;
        let handshake = Arc::new(handshake_config(
            config,
            &remote.remote_fingerprints,
            Arc::clone(&mismatch),
            is_client,
        )?);
        let server_config = (!is_client).then(|| Arc::clone(&handshake));
        let mut endpoint = Endpoint::new(LOCAL, rtc_shared::TransportProtocol::UDP, server_config);
        if is_client {
            endpoint
                .connect(now, REMOTE, handshake, None)
                .map_err(ProtocolError::from_stack)?;
        }
        let mut connection = Self {
            role: remote.role,
            endpoint,
            state: DtlsTransportState::Connecting,
            remote_fingerprints: remote.remote_fingerprints,
            mismatch,
            handshake_timeout: config.handshake_timeout,
            started: now,
            handshake_deadline: now + config.handshake_timeout,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
        };
        connection.collect_transmits();
        Ok(connection)
    }

    /// Our side of the handshake.
    pub fn role(&self) -> DtlsRole {
        self.role
    }

    /// The W3C `RTCDtlsTransportState`.
    pub fn state(&self) -> DtlsTransportState {
        self.state
    }

    /// Takes in one DTLS datagram from the peer.
    ///
    /// A datagram the stack cannot use (garbage, a replay, a record it refuses) is an error
    /// returned to the caller and changes nothing. A datagram that ends the handshake (a
    /// certificate that fails the fingerprint check, a fatal alert) is not an error of the
    /// datagram: the state becomes `failed` and [`DtlsEvent::Failed`] says why.
    pub fn handle_receive(&mut self, now: Instant, datagram: &[u8]) -> Result<(), DtlsError> {
        if matches!(
            self.state,
            DtlsTransportState::Closed | DtlsTransportState::Failed
        ) {
            return Err(DtlsError::InvalidState { state: self.state });
        }
        let sent_before = self.transmits.len();
        let read = self
            .endpoint
            .read(now, REMOTE, None, BytesMut::from(datagram));
        self.collect_transmits();
        let events = match read {
            Ok(events) => events,
            Err(error) => return self.refused(error, sent_before),
        };
        for event in events {
            match event {
                EndpointEvent::HandshakeComplete => self.complete(now),
                EndpointEvent::ApplicationData(data) => {
                    self.events.push_back(DtlsEvent::Data(data.freeze()));
                }
                EndpointEvent::PeerClosed => {
                    let was_connecting = self.state == DtlsTransportState::Connecting;
                    self.state = DtlsTransportState::Closed;
                    if was_connecting {
                        self.fail(DtlsError::PeerAborted);
                    } else {
                        self.events.push_back(DtlsEvent::PeerClosed);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// What a datagram the stack refused means: the end of the handshake (our fingerprint
    /// check failed, the peer sent a fatal alert, or the stack answered with one), or just a
    /// bad datagram (an error for the caller, nothing changed).
    fn refused(
        &mut self,
        error: rtc_shared::error::Error,
        sent_before: usize,
    ) -> Result<(), DtlsError> {
        if let Some(recorded) = self.take_mismatch() {
            self.fail(recorded);
            return Ok(());
        }
        if matches!(error, rtc_shared::error::Error::ErrAlertFatalOrClose) {
            // The peer's fatal alert (not answered: third_party/rtc-dtls/ANTIPHON.md).
            self.fail(DtlsError::PeerAborted);
            return Ok(());
        }
        let error = ProtocolError::from_stack(error);
        let answered_fatally = self
            .transmits
            .iter()
            .skip(sent_before)
            .any(|datagram| is_plaintext_fatal_alert(datagram));
        if self.state == DtlsTransportState::Connecting
            && (answered_fatally || self.endpoint.get_connection_state(REMOTE).is_none())
        {
            // The stack ended the handshake (its fatal alert is on its way to the peer), or
            // dropped the association.
            self.fail(DtlsError::Protocol(error));
            return Ok(());
        }
        Err(DtlsError::Protocol(error))
    }

    /// Runs the timers due at `now`: flight retransmissions and the handshake limit.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != DtlsTransportState::Connecting {
            return;
        }
        if now >= self.handshake_deadline {
            self.fail(DtlsError::HandshakeTimeout {
                timeout: self.handshake_timeout,
            });
            return;
        }
        // A server's association appears with the client's first hello.
        if self.endpoint.get_connection_state(REMOTE).is_none() {
            return;
        }
        let result = self.endpoint.handle_timeout(REMOTE, now);
        self.collect_transmits();
        if let Err(error) = result {
            // The stack gives up on a flight after its retransmissions: the peer never answered.
            tracing::debug!(%error, "DTLS flight retransmissions exhausted");
            self.fail(DtlsError::HandshakeTimeout {
                timeout: now.saturating_duration_since(self.started),
            });
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != DtlsTransportState::Connecting {
            return None;
        }
        let retransmit = self.endpoint.poll_timeout(&REMOTE);
        Some(retransmit.map_or(self.handshake_deadline, |at| {
            at.min(self.handshake_deadline)
        }))
    }

    /// The next datagram to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        let next = self.transmits.pop_front();
        self.transmits.shrink_when_drained();
        next
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        let next = self.events.pop_front();
        self.events.shrink_when_drained();
        next
    }

    /// Encrypts `data` as one application-data record (one SCTP packet, in WebRTC).
    pub fn send(&mut self, now: Instant, data: &[u8]) -> Result<(), DtlsError> {
        if self.state != DtlsTransportState::Connected {
            return Err(DtlsError::InvalidState { state: self.state });
        }
        let result = self.endpoint.write(now, REMOTE, data);
        self.collect_transmits();
        result.map_err(|error| DtlsError::Protocol(ProtocolError::from_stack(error)))
    }

    /// Sends close_notify (when connected) and ends the association: state `closed`.
    pub fn close(&mut self, now: Instant) {
        if matches!(
            self.state,
            DtlsTransportState::Closed | DtlsTransportState::Failed
        ) {
            return;
        }
        // Best effort: the association may already be gone on the stack's side.
        let _ = self.endpoint.close(now);
        self.collect_transmits();
        self.state = DtlsTransportState::Closed;
    }

    fn complete(&mut self, now: Instant) {
        match self.finish() {
            Ok(connected) => {
                self.state = DtlsTransportState::Connected;
                tracing::info!(role = ?self.role, profile = ?connected.profile, "DTLS connected");
                self.events.push_back(DtlsEvent::Connected(connected));
            }
            Err(error) => {
                let _ = self.endpoint.close(now);
                self.collect_transmits();
                self.fail(error);
            }
        }
    }

    /// Post-handshake checks and key export.
    fn finish(&self) -> Result<DtlsConnected, DtlsError> {
        let state = self
            .endpoint
            .get_connection_state(REMOTE)
            .ok_or(DtlsError::InvalidState { state: self.state })?;
        let peer_certificate = state
            .peer_certificates
            .first()
            .cloned()
            .ok_or(DtlsError::MissingPeerCertificate)?;
        // The handshake already checked; re-check what was kept.
        verify_fingerprints(&self.remote_fingerprints, &peer_certificate)?;
        let profile = SrtpProfile::from_stack(state.srtp_protection_profile())
            .ok_or(DtlsError::NoSrtpProfileSelected)?;
        let material = state
            .export_keying_material(SRTP_EXPORTER_LABEL, &[], profile.keying_material_len())
            .map_err(ProtocolError::from_stack)?;
        let keying_material = SrtpKeyingMaterial::split(profile, material.as_ref()).ok_or(
            DtlsError::Protocol(ProtocolError::new("short keying material")),
        )?;
        Ok(DtlsConnected {
            profile,
            keying_material,
            peer_certificate,
        })
    }

    fn fail(&mut self, error: DtlsError) {
        if self.state == DtlsTransportState::Failed {
            return;
        }
        tracing::warn!(%error, "DTLS handshake failed");
        self.state = DtlsTransportState::Failed;
        self.events.push_back(DtlsEvent::Failed(error));
    }

    fn take_mismatch(&self) -> Option<DtlsError> {
        self.mismatch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn collect_transmits(&mut self) {
        while let Some(transmit) = self.endpoint.poll_transmit() {
            self.transmits.push_back(transmit.message.freeze());
        }
    }
}

/// Whether `datagram` holds an unencrypted (epoch 0) fatal alert record: content type 21,
/// then version, epoch, sequence and length (13 bytes in all), then level 2 (fatal).
fn is_plaintext_fatal_alert(datagram: &[u8]) -> bool {
    let mut rest = datagram;
    while rest.len() >= 13 {
        let length = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        if rest[0] == 21 && epoch == 0 && rest.get(13) == Some(&2) {
            return true;
        }
        rest = rest.get(13 + length..).unwrap_or_default();
    }
    false
}

impl fmt::Debug for DtlsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsConnection")
            .field("role", &self.role)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The stack's handshake configuration for our rules (see the [module](self) documentation).
fn handshake_config(
    config: &DtlsConfig,
    remote_fingerprints: &[Fingerprint],
    mismatch: Arc<Mutex<Option<DtlsError>>>,
    is_client: bool,
) -> Result<HandshakeConfig, DtlsError> {
    let provider = rtc_dtls::crypto_provider::default_provider()
        .map_err(|error| ProtocolError::new(error.to_string()))?;
    let certificate = stack_certificate(&config.certificate, provider.as_ref())?;
    let expected = remote_fingerprints.to_vec();
    ConfigBuilder::default()
        .with_crypto_provider(provider)
        .with_certificates(vec![certificate])
        .with_srtp_protection_profiles(
            config
                .srtp_profiles
                .iter()
                .map(|profile| profile.to_stack())
                .collect(),
        )
        // Both sides present certificates: the server demands one from the client.
        .with_client_auth(ClientAuthType::RequireAnyClientCert)
        .with_extended_master_secret(ExtendedMasterSecretType::Require)
        // DTLS-SRTP certificates are self-signed: no CA chain, the fingerprint pins them.
        .with_insecure_skip_verify(true)
        .with_verify_peer_certificate(Some(Arc::new(move |certificates, _chains| {
            let Some(leaf) = certificates.first() else {
                return Err(rtc_shared::error::Error::ErrInvalidCertificate);
            };
            verify_fingerprints(&expected, leaf).map_err(|error| {
                *mismatch.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                // The stack answers any error here with a fatal bad_certificate alert.
                rtc_shared::error::Error::ErrInvalidCertificate
            })
        })))
        .with_flight_interval(config.retransmit_interval)
        .with_mtu(DEFAULT_DTLS_MTU)
        .build(is_client, None)
        .map_err(|error| DtlsError::Protocol(ProtocolError::from_stack(error)))
}

/// Our certificate in the stack's form: the DER certificate and its PKCS#8 key imported into
/// the crypto provider.
fn stack_certificate(
    certificate: &Certificate,
    provider: &dyn RTCCryptoProvider,
) -> Result<StackCertificate, DtlsError> {
    let key = provider
        .crypto()
        .import_signing_key(
            SignatureScheme::EcdsaP256Sha256,
            certificate.private_key_der(),
        )
        .map_err(|_| DtlsError::UnsupportedKeyAlgorithm)?;
    Ok(StackCertificate::from_signing_key(
        vec![CertificateDer::from(certificate.der().to_vec())],
        key,
    ))
}

impl SrtpProfile {
    pub(crate) fn to_stack(self) -> SrtpProtectionProfile {
        match self {
            Self::AeadAes128Gcm => SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm,
            Self::AeadAes256Gcm => SrtpProtectionProfile::Srtp_Aead_Aes_256_Gcm,
            Self::Aes128CmHmacSha1_80 => SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80,
        }
    }

    pub(crate) fn from_stack(profile: SrtpProtectionProfile) -> Option<Self> {
        match profile {
            SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm => Some(Self::AeadAes128Gcm),
            SrtpProtectionProfile::Srtp_Aead_Aes_256_Gcm => Some(Self::AeadAes256Gcm),
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80 => Some(Self::Aes128CmHmacSha1_80),
            _ => None,
        }
    }
}
