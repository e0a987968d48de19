//! The DTLS-SRTP handshake over any `webrtc_util::Conn`, with the peer certificate pinned to
//! the remote description's fingerprints.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use dtls::config::{ClientAuthType, Config, ExtendedMasterSecretType};
use dtls::conn::DTLSConn;
use tokio::sync::watch;
use webrtc_util::{Conn, KeyingMaterialExporter};

use crate::certificate::Certificate;
use crate::error::{DtlsError, FingerprintMismatch};
use crate::fingerprint::{Fingerprint, HashAlgorithm};
use crate::guard::GuardedConn;
use crate::role::DtlsRole;
use crate::srtp::{SRTP_EXPORTER_LABEL, SrtpKeyingMaterial, SrtpProfile};
use crate::state::{ConnectingGuard, DtlsTransportState, StatePublisher};

/// Default limit on the whole handshake, retransmissions included.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default first retransmission interval of a flight (RFC 6347 §4.2.4.1 suggests 1 s).
pub const DEFAULT_RETRANSMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Local DTLS settings: our certificate, the SRTP profiles we accept, timers.
#[derive(Debug, Clone)]
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

/// An `RTCDtlsTransport`: runs one handshake and reports its state.
#[derive(Debug)]
pub struct DtlsTransport {
    config: DtlsConfig,
    state: StatePublisher,
}

impl DtlsTransport {
    /// A transport in state `new`.
    pub fn new(config: DtlsConfig) -> Self {
        Self {
            config,
            state: StatePublisher::new(),
        }
    }

    /// The local configuration.
    pub fn config(&self) -> &DtlsConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> DtlsTransportState {
        self.state.get()
    }

    /// A receiver of state changes (see [`crate::state`] for why a `watch`).
    pub fn subscribe(&self) -> watch::Receiver<DtlsTransportState> {
        self.state.subscribe()
    }

    /// Runs the handshake over `conn` as `remote.role` says: `connecting`, then `connected`
    /// with a [`DtlsSession`], or `failed` with the error.
    ///
    /// Bad arguments (no remote fingerprint, no SRTP profile, expired certificate) are refused
    /// before anything is sent and leave the state `new`. A transport runs one handshake:
    /// starting it again gives [`DtlsError::InvalidState`]. Dropping the returned future
    /// mid-handshake abandons it and leaves the state `failed`.
    pub async fn start(
        &self,
        conn: Arc<dyn Conn + Send + Sync>,
        remote: DtlsParameters,
    ) -> Result<DtlsSession, DtlsError> {
        if remote.remote_fingerprints.is_empty() {
            return Err(DtlsError::NoRemoteFingerprints);
        }
        if self.config.srtp_profiles.is_empty() {
            return Err(DtlsError::NoSrtpProfiles);
        }
        let certificate = &self.config.certificate;
        if certificate.is_expired(SystemTime::now()) {
            return Err(DtlsError::CertificateExpired {
                expires: certificate.expires(),
            });
        }
        self.state
            .begin()
            .map_err(|state| DtlsError::InvalidState { state })?;
        // If this future is dropped mid-handshake the state still ends `failed`.
        let _guard = ConnectingGuard::new(&self.state);
        tracing::debug!(role = ?remote.role, "DTLS handshake starts");
        let outcome = self.handshake(conn, &remote).await;
        match &outcome {
            Ok(session) => {
                tracing::info!(role = ?remote.role, profile = ?session.profile, "DTLS connected");
            }
            Err(error) => tracing::warn!(%error, "DTLS handshake failed"),
        }
        self.state.set(match outcome {
            Ok(_) => DtlsTransportState::Connected,
            Err(_) => DtlsTransportState::Failed,
        });
        outcome
    }

    async fn handshake(
        &self,
        conn: Arc<dyn Conn + Send + Sync>,
        remote: &DtlsParameters,
    ) -> Result<DtlsSession, DtlsError> {
        let mismatch = Arc::new(Mutex::new(None));
        let dtls_config = self.dtls_config(remote, Arc::clone(&mismatch));
        let is_client = remote.role == DtlsRole::Client;
        let timeout = self.config.handshake_timeout;
        // Drops hellos that would panic inside `dtls` 0.17 (see `crate::guard`).
        let conn: Arc<dyn Conn + Send + Sync> = Arc::new(GuardedConn::new(conn));
        let handshake = DTLSConn::new(conn, dtls_config, is_client, None);
        let dtls_conn = match tokio::time::timeout(timeout, handshake).await {
            Err(_elapsed) => return Err(DtlsError::HandshakeTimeout { timeout }),
            Ok(Err(error)) => {
                let recorded = mismatch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                return Err(recorded.unwrap_or_else(|| DtlsError::from(error)));
            }
            Ok(Ok(dtls_conn)) => Arc::new(dtls_conn),
        };
        match self.finish(&dtls_conn, remote).await {
            Ok((profile, keying_material, peer_certificate)) => Ok(DtlsSession {
                conn: dtls_conn,
                role: remote.role,
                profile,
                keying_material,
                peer_certificate,
                state: self.state.clone(),
            }),
            Err(error) => {
                // Best effort: the handshake already failed our checks.
                let _ = dtls_conn.close().await;
                Err(error)
            }
        }
    }

    /// Post-handshake checks and key export.
    async fn finish(
        &self,
        dtls_conn: &DTLSConn,
        remote: &DtlsParameters,
    ) -> Result<(SrtpProfile, SrtpKeyingMaterial, Vec<u8>), DtlsError> {
        let connection = dtls_conn.connection_state().await;
        let peer_certificate = connection
            .peer_certificates
            .first()
            .cloned()
            .ok_or(DtlsError::MissingPeerCertificate)?;
        // The callback already checked during the handshake; re-check what was kept.
        verify_fingerprints(&remote.remote_fingerprints, &peer_certificate)?;
        let profile = SrtpProfile::from_dtls(dtls_conn.selected_srtpprotection_profile())
            .ok_or(DtlsError::NoSrtpProfileSelected)?;
        let material = connection
            .export_keying_material(SRTP_EXPORTER_LABEL, &[], profile.keying_material_len())
            .await
            .map_err(|error| DtlsError::Dtls(dtls::Error::KeyingMaterial(error)))?;
        let keying_material = SrtpKeyingMaterial::split(profile, &material)
            .ok_or(DtlsError::Dtls(dtls::Error::ErrLengthMismatch))?;
        Ok((profile, keying_material, peer_certificate))
    }

    fn dtls_config(
        &self,
        remote: &DtlsParameters,
        mismatch: Arc<Mutex<Option<DtlsError>>>,
    ) -> Config {
        let expected = remote.remote_fingerprints.clone();
        Config {
            certificates: vec![self.config.certificate.dtls_certificate().clone()],
            srtp_protection_profiles: self
                .config
                .srtp_profiles
                .iter()
                .map(|profile| profile.to_dtls())
                .collect(),
            // Both sides present certificates: the server demands one from the client.
            client_auth: ClientAuthType::RequireAnyClientCert,
            extended_master_secret: ExtendedMasterSecretType::Require,
            // DTLS-SRTP certificates are self-signed: no CA chain, the fingerprint pins them.
            insecure_skip_verify: true,
            verify_peer_certificate: Some(Arc::new(move |certificates, _chains| {
                let Some(leaf) = certificates.first() else {
                    return Err(dtls::Error::ErrInvalidCertificate);
                };
                verify_fingerprints(&expected, leaf).map_err(|error| {
                    *mismatch.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                    // dtls answers any error here with a fatal bad_certificate alert.
                    dtls::Error::ErrInvalidCertificate
                })
            })),
            flight_interval: self.config.retransmit_interval,
            ..Config::default()
        }
    }
}

/// An established DTLS association: the SRTP keys, the peer's certificate, and the
/// connection to run SCTP over.
pub struct DtlsSession {
    conn: Arc<DTLSConn>,
    role: DtlsRole,
    profile: SrtpProfile,
    keying_material: SrtpKeyingMaterial,
    peer_certificate: Vec<u8>,
    state: StatePublisher,
}

impl DtlsSession {
    /// Our role in the handshake.
    pub fn role(&self) -> DtlsRole {
        self.role
    }

    /// The SRTP protection profile the handshake selected.
    pub fn srtp_profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The `EXTRACTOR-dtls_srtp` keying material split into keys and salts.
    pub fn keying_material(&self) -> &SrtpKeyingMaterial {
        &self.keying_material
    }

    /// The peer's DER certificate (W3C `getRemoteCertificates()[0]`).
    pub fn peer_certificate(&self) -> &[u8] {
        &self.peer_certificate
    }

    /// The peer certificate's fingerprint in `algorithm`.
    pub fn peer_fingerprint(&self, algorithm: HashAlgorithm) -> Fingerprint {
        Fingerprint::of_der(algorithm, &self.peer_certificate)
    }

    /// The DTLS connection as a `Conn` carrying application data (SCTP runs on it).
    pub fn conn(&self) -> Arc<dyn Conn + Send + Sync> {
        Arc::clone(&self.conn) as Arc<dyn Conn + Send + Sync>
    }

    /// The transport state (shared with the [`DtlsTransport`] that made this session).
    pub fn state(&self) -> DtlsTransportState {
        self.state.get()
    }

    /// Sends close_notify, closes the underlying `Conn`, and moves the state to `closed`.
    pub async fn close(&self) -> Result<(), DtlsError> {
        let result = self.conn.close().await;
        self.state.set(DtlsTransportState::Closed);
        result.map_err(DtlsError::Dtls)
    }
}

impl std::fmt::Debug for DtlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtlsSession")
            .field("role", &self.role)
            .field("profile", &self.profile)
            .field("peer", &self.peer_fingerprint(HashAlgorithm::Sha256))
            .field("state", &self.state.get())
            .finish_non_exhaustive()
    }
}
