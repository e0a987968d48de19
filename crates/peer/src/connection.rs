//! `RTCPeerConnection`: the [`Negotiator`] plus the transports it negotiates: an ICE driver
//! (antiphon-ice), the DTLS handshake with the remote fingerprints enforced (antiphon-dtls), and
//! the SCTP association with its data channels.
//!
//! One ICE/DTLS transport carries everything (the BUNDLE transport, or the first transport of a
//! non-bundled answer); sections on further transports are negotiated but not connected.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Weak};

use antiphon_codec::{Capabilities, MediaKind};
use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsParameters, DtlsRole, DtlsSession,
    DtlsTransport, Fingerprint,
};
use antiphon_ice::driver::{DriverConfig, IceDriver, IceEventStream};
use antiphon_ice::{
    Candidate, IceConnectionState, IceCredentials, IceEvent, IceGatheringState, IceRole,
};
use tokio::sync::{Mutex, OnceCell, broadcast, mpsc, watch};

use crate::answer::{AnswerOptions, LocalTransport};
use crate::configuration::{RTCConfiguration, StunServer};
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit};
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::error::{
    Error, InvalidAccessReason, InvalidStateReason, OperationReason, TypeErrorReason,
};
use crate::gathering::Gathering;
use crate::negotiator::{AppliedDescription, Negotiator, OsEntropy};
use crate::sctp::{SctpParameters, SctpTransport};
use crate::signaling::RTCSignalingState;
use crate::transceiver::{MediaStreamTrack, RTCRtpTransceiverInit, TransceiverId};
use crate::transport::{
    dtls_role, is_bundled, remote_fingerprints, transport_section, transport_ufrag,
};

/// `RTCPeerConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RTCPeerConnectionState {
    /// Nothing started.
    New,
    /// ICE or DTLS in progress.
    Connecting,
    /// ICE and DTLS connected.
    Connected,
    /// ICE consent is stale.
    Disconnected,
    /// ICE or DTLS failed.
    Failed,
    /// Closed.
    Closed,
}

/// `RTCIceCandidateInit`: a trickled candidate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RTCIceCandidateInit {
    /// `candidate:...`; empty for end-of-candidates.
    pub candidate: String,
    /// The mid of the section it belongs to.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The index of the section it belongs to.
    #[serde(default)]
    pub sdp_m_line_index: Option<u16>,
}

/// What the connection reports (the W3C event handlers).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PeerConnectionEvent {
    /// `signalingstatechange`.
    SignalingState(RTCSignalingState),
    /// `iceconnectionstatechange`.
    IceConnectionState(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionState(RTCPeerConnectionState),
    /// `datachannel`: the remote opened a channel.
    DataChannel(RTCDataChannel),
    /// `icegatheringstatechange`.
    IceGatheringState(IceGatheringState),
    /// `icecandidate`: a local candidate to trickle to the peer (RFC 8838), already added to
    /// the local description; `None` is end-of-candidates (the event's `null` candidate).
    /// Candidates found before `setLocalDescription` are reported when it is applied, unless
    /// the description already carries them (a description carries every candidate found
    /// before it was created).
    IceCandidate(Option<RTCIceCandidateInit>),
}

/// Settings beyond `RTCConfiguration`.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// The local addresses to gather host candidates on. Default: loopback plus every
    /// interface address ([`antiphon_ice::driver::interface_addresses`]).
    pub bind: Vec<IpAddr>,
    /// What we can send and receive. Shared, not copied: every connection made with the
    /// default options holds the same process-wide [`Capabilities::browser_default`] (about
    /// 11 KiB that would otherwise be built per connection). For other capabilities, build them
    /// once and hand each connection a clone of the `Arc`.
    pub capabilities: Arc<Capabilities>,
    /// Answer `actpass` with passive instead of active.
    pub prefer_passive: bool,
}

/// [`Capabilities::browser_default`], built once per process for [`PeerOptions::default`].
static BROWSER_DEFAULT: LazyLock<Arc<Capabilities>> =
    LazyLock::new(|| Arc::new(Capabilities::browser_default()));

impl Default for PeerOptions {
    fn default() -> Self {
        let mut bind = vec![IpAddr::from([127, 0, 0, 1])];
        bind.extend(antiphon_ice::driver::interface_addresses());
        Self {
            bind,
            capabilities: Arc::clone(&BROWSER_DEFAULT),
            prefer_passive: false,
        }
    }
}

struct Inner {
    negotiator: Negotiator,
    ice: Option<IceDriver>,
    /// Our candidates, and what of them the local description and the events carry.
    gathering: Gathering,
    started: bool,
    /// `restartIce()` was called: the next offer carries new ICE credentials.
    restart_ice: bool,
    /// The credentials our restart offer carries; the agent takes them when that offer is
    /// applied (`setLocalDescription`), not when it is created.
    restart_credentials: Option<IceCredentials>,
}

/// The longest a STUN server's name may take to resolve; an unresolved name gives no
/// server-reflexive candidate, as in browsers.
const STUN_LOOKUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Slots of the event broadcast channel ([`RTCPeerConnection::subscribe`]).
const EVENT_CAPACITY: usize = 16;

/// `RTCPeerConnection`.
pub struct RTCPeerConnection {
    inner: Arc<Mutex<Inner>>,
    certificate: Certificate,
    /// The addresses to gather on (the rest of [`PeerOptions`] lives in the negotiator).
    bind: Vec<IpAddr>,
    /// STUN servers from the configuration, resolved once, before the sockets are bound and
    /// outside the lock.
    stun_servers: Vec<StunServer>,
    stun_addresses: OnceCell<Vec<SocketAddr>>,
    events: broadcast::Sender<PeerConnectionEvent>,
    state: watch::Sender<RTCPeerConnectionState>,
    sctp: watch::Sender<Option<Arc<SctpTransport>>>,
    /// The DTLS session once the handshake is done, so `close()` can end it (its reader and
    /// writer tasks hold the ICE connection, and so the sockets, until it is closed).
    dtls: watch::Sender<Option<Arc<DtlsSession>>>,
    remote_channels: Mutex<mpsc::UnboundedReceiver<RTCDataChannel>>,
    remote_channels_tx: mpsc::UnboundedSender<RTCDataChannel>,
}

impl std::fmt::Debug for RTCPeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RTCPeerConnection")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl RTCPeerConnection {
    /// `new RTCPeerConnection(configuration)` with default [`PeerOptions`].
    pub fn new(configuration: RTCConfiguration) -> Result<Self, Error> {
        Self::with_options(configuration, PeerOptions::default())
    }

    /// A connection with explicit [`PeerOptions`].
    pub fn with_options(
        configuration: RTCConfiguration,
        options: PeerOptions,
    ) -> Result<Self, Error> {
        let stun_servers = configuration.stun_servers()?;
        let certificate = match configuration.certificates.first() {
            Some(certificate) if certificate.is_expired(std::time::SystemTime::now()) => {
                return Err(Error::InvalidAccess(
                    InvalidAccessReason::CertificateExpired,
                ));
            }
            Some(certificate) => certificate.clone(),
            None => Certificate::generate(&CertificateOptions::default())
                .map_err(|e| Error::Operation(OperationReason::Dtls(e)))?,
        };
        let answer_options = AnswerOptions {
            bundle_policy: configuration.bundle_policy,
            rtcp_mux_policy: configuration.rtcp_mux_policy,
            prefer_passive: options.prefer_passive,
            ..AnswerOptions::default()
        };
        let negotiator = Negotiator::new(options.capabilities, answer_options, Box::new(OsEntropy));
        // A connection emits about ten events in its life; 16 slots keep a subscriber that
        // reads them as they come from lagging, without 64 preallocated slots per connection.
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (remote_channels_tx, remote_channels) = mpsc::unbounded_channel();
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                negotiator,
                ice: None,
                gathering: Gathering::new(),
                started: false,
                restart_ice: false,
                restart_credentials: None,
            })),
            certificate,
            bind: options.bind,
            stun_servers,
            stun_addresses: OnceCell::new(),
            events,
            state: watch::channel(RTCPeerConnectionState::New).0,
            sctp: watch::channel(None).0,
            dtls: watch::channel(None).0,
            remote_channels: Mutex::new(remote_channels),
            remote_channels_tx,
        })
    }

    /// Subscribes to the connection's events.
    pub fn subscribe(&self) -> broadcast::Receiver<PeerConnectionEvent> {
        self.events.subscribe()
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> RTCPeerConnectionState {
        *self.state.borrow()
    }

    /// Waits until the connection state satisfies `done` and returns it.
    pub async fn wait_for_state(
        &self,
        done: impl Fn(RTCPeerConnectionState) -> bool,
    ) -> RTCPeerConnectionState {
        let mut receiver = self.state.subscribe();
        let result = receiver.wait_for(|s| done(*s)).await.map(|s| *s);
        result.unwrap_or(RTCPeerConnectionState::Closed)
    }

    /// `signalingState`.
    pub async fn signaling_state(&self) -> RTCSignalingState {
        self.inner.lock().await.negotiator.signaling_state()
    }

    /// `localDescription`.
    pub async fn local_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::local_description).await
    }

    /// `remoteDescription`.
    pub async fn remote_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::remote_description).await
    }

    /// `currentLocalDescription`.
    pub async fn current_local_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::current_local_description)
            .await
    }

    /// `pendingLocalDescription`.
    pub async fn pending_local_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::pending_local_description)
            .await
    }

    /// `currentRemoteDescription`.
    pub async fn current_remote_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::current_remote_description)
            .await
    }

    /// `pendingRemoteDescription`.
    pub async fn pending_remote_description(&self) -> Option<RTCSessionDescriptionInit> {
        self.description(Negotiator::pending_remote_description)
            .await
    }

    /// One of the negotiator's descriptions, in browser JSON shape.
    async fn description(
        &self,
        pick: fn(&Negotiator) -> Option<&AppliedDescription>,
    ) -> Option<RTCSessionDescriptionInit> {
        pick(&self.inner.lock().await.negotiator).map(AppliedDescription::to_init)
    }

    /// `iceGatheringState`: `new` until the first description binds the sockets, `complete`
    /// once host candidates and the configured STUN servers' answers (or their timeouts) are in.
    pub async fn ice_gathering_state(&self) -> IceGatheringState {
        self.inner.lock().await.gathering.state
    }

    /// Waits until gathering is complete (at once if it is), for peers that do not trickle:
    /// then [`local_description`](Self::local_description) carries every candidate and
    /// `a=end-of-candidates`. Returns at once if gathering has not started (no description
    /// was created yet) or the connection is closed.
    pub async fn gathering_complete(&self) {
        let mut events = self.events.subscribe();
        loop {
            if self.ice_gathering_state().await != IceGatheringState::Gathering
                || self.connection_state() == RTCPeerConnectionState::Closed
            {
                return;
            }
            match events.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// `iceConnectionState`.
    pub async fn ice_connection_state(&self) -> IceConnectionState {
        let inner = self.inner.lock().await;
        inner
            .ice
            .as_ref()
            .map_or(IceConnectionState::New, IceDriver::state)
    }

    /// `RTCRtpTransceiver.setCodecPreferences(codecs)` for the transceiver `id`: its codecs in
    /// this order, in the next offer or answer.
    pub async fn set_codec_preferences(
        &self,
        id: TransceiverId,
        codecs: Vec<antiphon_codec::Codec>,
    ) -> Result<(), Error> {
        self.inner
            .lock()
            .await
            .negotiator
            .set_codec_preferences(id, codecs)
    }

    /// The certificate whose fingerprint our descriptions carry.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// `addTrack(track, ...streams)`.
    pub async fn add_track(
        &self,
        track: MediaStreamTrack,
        stream_ids: Vec<String>,
    ) -> Result<TransceiverId, Error> {
        self.inner
            .lock()
            .await
            .negotiator
            .add_track(track, stream_ids)
    }

    /// `addTransceiver(kind, init)`.
    pub async fn add_transceiver(
        &self,
        kind: MediaKind,
        init: RTCRtpTransceiverInit,
    ) -> Result<TransceiverId, Error> {
        self.inner
            .lock()
            .await
            .negotiator
            .add_transceiver(kind, init)
    }

    /// The configured STUN servers' addresses, looked up once (a name that does not resolve
    /// within [`STUN_LOOKUP_LIMIT`] gives none). Called before the lock is taken.
    async fn stun_addresses(&self) -> &[SocketAddr] {
        self.stun_addresses
            .get_or_init(|| async {
                let mut addresses = Vec::new();
                for server in &self.stun_servers {
                    let lookup = tokio::net::lookup_host((server.host.as_str(), server.port));
                    if let Ok(Ok(found)) = tokio::time::timeout(STUN_LOOKUP_LIMIT, lookup).await {
                        addresses.extend(found);
                    }
                }
                addresses
            })
            .await
    }

    /// Starts the ICE driver for `role` if it is not running yet: binds the sockets, records
    /// the host candidates and starts the task that trickles the rest. Returns at once:
    /// descriptions carry the candidates found so far, and the others follow as
    /// [`PeerConnectionEvent::IceCandidate`].
    async fn ensure_ice(
        &self,
        inner: &mut Inner,
        role: IceRole,
        stun_servers: &[SocketAddr],
    ) -> Result<(), Error> {
        if inner.ice.is_some() {
            return Ok(());
        }
        let mut config = DriverConfig::new(role, IceCredentials::generate());
        config.bind = self.bind.clone();
        // An ICE-lite offerer never checks or nominates: we take the controlling role even as
        // the answerer (RFC 8445 §6.1.1, RFC 8839 §5.3).
        config.agent.remote_ice_lite = inner
            .negotiator
            .remote_description()
            .is_some_and(|d| d.parsed.ice_lite());
        config.agent.stun_servers.extend_from_slice(stun_servers);
        let mut driver = IceDriver::bind(config)
            .await
            .map_err(|_| Error::Operation(OperationReason::IceFailed))?;
        inner
            .gathering
            .set_state(IceGatheringState::Gathering, &self.events);
        for candidate in driver.local_candidates() {
            inner.gathering.add(candidate);
        }
        if stun_servers.is_empty() {
            // Host candidates are all there is: the first description is complete.
            inner
                .gathering
                .set_state(IceGatheringState::Complete, &self.events);
        }
        tokio::spawn(trickle(
            driver.take_events(),
            Arc::downgrade(&self.inner),
            inner.gathering.generation,
            self.events.clone(),
        ));
        inner.ice = Some(driver);
        Ok(())
    }

    /// Our side of transport `k`: the agent's `credentials` and the candidates found so far for
    /// the first (the one we connect); fresh credentials for any other.
    fn local_transport(
        &self,
        credentials: &IceCredentials,
        gathering: &Gathering,
        k: usize,
    ) -> LocalTransport {
        let credentials = if k == 0 {
            credentials.clone()
        } else {
            IceCredentials::generate()
        };
        let mut transport =
            LocalTransport::new(credentials.ufrag(), credentials.pwd(), &self.certificate);
        if k == 0 {
            transport.default_address = gathering
                .candidates
                .iter()
                .filter_map(Candidate::socket_addr)
                .find(|a| !a.ip().is_loopback());
            transport.candidates = gathering.attribute_values();
            transport.gathering_complete = gathering.state == IceGatheringState::Complete;
        }
        transport
    }

    /// `createOffer()`.
    pub async fn create_offer(&self) -> Result<RTCSessionDescriptionInit, Error> {
        let stun_servers = self.stun_addresses().await;
        let mut inner = self.inner.lock().await;
        self.offer_locked(&mut inner, stun_servers).await
    }

    /// `createOffer()` under the lock (also the implicit `setLocalDescription`'s).
    async fn offer_locked(
        &self,
        inner: &mut Inner,
        stun_servers: &[SocketAddr],
    ) -> Result<RTCSessionDescriptionInit, Error> {
        inner.negotiator.signaling_state_allows_offer()?;
        self.ensure_ice(inner, IceRole::Controlling, stun_servers)
            .await?;
        if inner.negotiator.current_remote_description().is_none() {
            // Nothing to restart yet: the first offer has fresh credentials anyway.
            inner.restart_ice = false;
        } else if inner.restart_ice && inner.restart_credentials.is_none() {
            // RFC 8445 §9: the offer carries new credentials; the live agent keeps its own until
            // the offer is applied, so an offer that never is changes nothing.
            inner.restart_credentials = Some(IceCredentials::generate());
        }
        let Some(ice) = inner.ice.as_ref() else {
            return Err(Error::Operation(OperationReason::IceFailed));
        };
        let credentials = inner
            .restart_credentials
            .as_ref()
            .unwrap_or(ice.local_credentials());
        let transport = self.local_transport(credentials, &inner.gathering, 0);
        inner.negotiator.create_offer(transport)
    }

    /// `restartIce()`: the next [`create_offer`](Self::create_offer) restarts ICE with new
    /// credentials (the connection keeps its DTLS and SCTP state across the restart).
    pub async fn restart_ice(&self) {
        self.inner.lock().await.restart_ice = true;
    }

    /// `createAnswer()`.
    pub async fn create_answer(&self) -> Result<RTCSessionDescriptionInit, Error> {
        let mut inner = self.inner.lock().await;
        self.answer_locked(&mut inner)
    }

    /// `createAnswer()` under the lock (also the implicit `setLocalDescription`'s).
    fn answer_locked(&self, inner: &mut Inner) -> Result<RTCSessionDescriptionInit, Error> {
        let Inner {
            negotiator,
            ice,
            gathering,
            ..
        } = inner;
        let Some(ice) = ice.as_ref() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteOffer {
                state: negotiator.signaling_state(),
            }));
        };
        let credentials = ice.local_credentials();
        negotiator.create_answer(|k| self.local_transport(credentials, gathering, k))
    }

    /// `setLocalDescription(description)`; `None` is the implicit form (an answer in
    /// `have-remote-offer`, an offer otherwise), created and applied in one step so that no
    /// other call comes between. A refused description changes nothing.
    pub async fn set_local_description(
        &self,
        description: Option<RTCSessionDescriptionInit>,
    ) -> Result<(), Error> {
        let stun_servers = match description {
            None => self.stun_addresses().await,
            Some(_) => &[][..],
        };
        let mut inner = self.inner.lock().await;
        let description = match description {
            Some(description) => description,
            None if inner.negotiator.signaling_state().can_create_answer() => {
                self.answer_locked(&mut inner)?
            }
            None => self.offer_locked(&mut inner, stun_servers).await?,
        };
        let checkpoint = inner.negotiator.checkpoint();
        let applied = inner.negotiator.set_local_description(&description)?;
        let plan = match plan_start(&inner, applied.negotiation_complete) {
            Ok(plan) => plan,
            Err(error) => {
                inner.negotiator.restore(checkpoint);
                return Err(error);
            }
        };
        if description.sdp_type == RTCSdpType::Offer {
            take_restart_credentials(&mut inner);
        }
        let Inner {
            negotiator,
            gathering,
            ..
        } = &mut *inner;
        gathering.surface(negotiator, &self.events);
        let state = inner.negotiator.signaling_state();
        if applied.signaling_state_changed {
            let _ = self.events.send(PeerConnectionEvent::SignalingState(state));
        }
        if let Some(plan) = plan {
            self.start(&mut inner, plan);
        }
        Ok(())
    }

    /// `setRemoteDescription(description)`. A refused description changes nothing: what the
    /// negotiator applied is put back, and sockets bound for it are closed.
    pub async fn set_remote_description(
        &self,
        description: RTCSessionDescriptionInit,
    ) -> Result<(), Error> {
        let stun_servers = if description.sdp_type == RTCSdpType::Rollback {
            &[][..]
        } else {
            self.stun_addresses().await
        };
        let mut inner = self.inner.lock().await;
        if description.sdp_type == RTCSdpType::Offer && inner.ice.is_none() {
            // Check before binding sockets: a refused offer leaves nothing behind.
            let state = inner.negotiator.signaling_state();
            state.apply(crate::signaling::Side::Remote, RTCSdpType::Offer)?;
        }
        let previous_ufrag = inner
            .negotiator
            .current_remote_description()
            .and_then(|d| transport_ufrag(&d.parsed));
        let checkpoint = inner.negotiator.checkpoint();
        let had_ice = inner.ice.is_some();
        let applied = inner.negotiator.set_remote_description(&description)?;
        if description.sdp_type == RTCSdpType::Rollback {
            return Ok(());
        }
        let restart = description.sdp_type == RTCSdpType::Offer && previous_ufrag.is_some();
        let taken = self
            .take_remote(&mut inner, stun_servers, applied.negotiation_complete)
            .await;
        let (remote, plan) = match taken {
            Ok(taken) => taken,
            Err(error) => {
                inner.negotiator.restore(checkpoint);
                if !had_ice {
                    inner.ice = None;
                    inner.gathering.reset(&self.events);
                }
                return Err(error);
            }
        };
        if let Some(ice) = inner.ice.as_mut() {
            if restart
                && remote
                    .credentials
                    .as_ref()
                    .is_some_and(|c| Some(c.ufrag()) != previous_ufrag.as_deref())
            {
                // The remote restarts ICE (RFC 8445 §9): our answer carries new credentials
                // too, and the agent starts over with the offer's credentials and candidates.
                tracing::info!("the remote offer restarts ICE");
                ice.restart(IceCredentials::generate());
            }
            if let Some(credentials) = remote.credentials {
                ice.set_remote_credentials(credentials);
            }
            for candidate in remote.candidates {
                // Candidates the agent cannot use are ignored, as browsers do.
                let _ = ice.add_remote_candidate(candidate).await;
            }
            if remote.end_of_candidates {
                ice.end_of_remote_candidates();
            }
        }
        let state = inner.negotiator.signaling_state();
        if applied.signaling_state_changed {
            let _ = self.events.send(PeerConnectionEvent::SignalingState(state));
        }
        if let Some(plan) = plan {
            self.start(&mut inner, plan);
        }
        Ok(())
    }

    /// What the applied remote description gives the transport, checked before anything
    /// changes: the ICE driver (bound for a first offer), the remote credentials and
    /// candidates, and once negotiation is complete what `start` needs.
    async fn take_remote(
        &self,
        inner: &mut Inner,
        stun_servers: &[SocketAddr],
        complete: bool,
    ) -> Result<(RemoteTransport, Option<StartPlan>), Error> {
        self.ensure_ice(inner, IceRole::Controlled, stun_servers)
            .await?;
        let remote = inner
            .negotiator
            .remote_description()
            .ok_or(Error::InvalidState(InvalidStateReason::NoRemoteDescription))?;
        let transport = RemoteTransport::read(&remote.parsed)?;
        Ok((transport, plan_start(inner, complete)?))
    }

    /// `addIceCandidate(candidate)`; an empty candidate is end-of-candidates.
    pub async fn add_ice_candidate(&self, candidate: RTCIceCandidateInit) -> Result<(), Error> {
        let inner = self.inner.lock().await;
        let Some(remote) = inner.negotiator.remote_description() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteDescription));
        };
        if candidate.sdp_mid.is_none()
            && candidate.sdp_m_line_index.is_none()
            && !candidate.candidate.is_empty()
        {
            return Err(Error::Type(TypeErrorReason::CandidateWithoutSection));
        }
        let index = match (&candidate.sdp_mid, candidate.sdp_m_line_index) {
            (Some(mid), _) => remote
                .parsed
                .media
                .iter()
                .position(|m| m.mid() == Some(mid.as_str())),
            (None, Some(index)) => {
                Some(usize::from(index)).filter(|i| *i < remote.parsed.media.len())
            }
            (None, None) => transport_section(&remote.parsed),
        };
        let Some(index) = index else {
            return Err(Error::Operation(OperationReason::UnknownSection));
        };
        let Some(ice) = inner.ice.as_ref() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteDescription));
        };
        if transport_section(&remote.parsed) != Some(index) && !is_bundled(&remote.parsed, index) {
            // A candidate for a transport we do not connect.
            return Ok(());
        }
        if candidate.candidate.is_empty() {
            ice.end_of_remote_candidates();
            return Ok(());
        }
        let parsed = Candidate::parse(&candidate.candidate)
            .map_err(|_| Error::InvalidAccess(InvalidAccessReason::InvalidCandidate))?;
        // Candidates the agent cannot use are ignored, as browsers do (RFC 8839 §5.1).
        let _ = ice.add_remote_candidate(parsed).await;
        Ok(())
    }

    /// Asks for a data channel section in the next offer (`createDataChannel` before
    /// negotiation); the channel itself is opened with [`RTCPeerConnection::open_data_channel`].
    pub async fn create_data_channel_section(&self) -> Result<(), Error> {
        self.inner.lock().await.negotiator.request_data_channel()
    }

    /// `createDataChannel(label, init)` once the SCTP association is up: waits for it.
    pub async fn open_data_channel(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<RTCDataChannel, Error> {
        let sctp = self.sctp_transport().await?;
        sctp.open(label, init).await
    }

    /// The next data channel the remote opened (`ondatachannel`); `None` once closed.
    pub async fn accept_data_channel(&self) -> Option<RTCDataChannel> {
        // The connection holds the channel's sender for its whole life: the wait also ends
        // when the connection closes, or a waiting task would keep it (and itself) alive.
        let mut state = self.state.subscribe();
        let mut channels = self.remote_channels.lock().await;
        tokio::select! {
            channel = channels.recv() => channel,
            _ = state.wait_for(|s| *s == RTCPeerConnectionState::Closed) => None,
        }
    }

    /// `createDataChannel(label, init)` at any time: the arguments are checked now (TypeError
    /// for exclusive reliability settings or a negotiated channel without id), a data channel
    /// section is asked for if none is negotiated yet (so the next offer carries one), and the
    /// channel opens once the SCTP association is up, after signaling, which the caller drives.
    /// [`PendingDataChannel::opened`] gives the open channel, or why it never opened.
    pub async fn create_data_channel(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<PendingDataChannel, Error> {
        init.channel_type()?;
        if init.negotiated && init.id.is_none() {
            return Err(Error::Type(TypeErrorReason::NegotiatedWithoutId));
        }
        {
            let mut inner = self.inner.lock().await;
            if inner.negotiator.signaling_state() == RTCSignalingState::Closed {
                return Err(Error::InvalidState(InvalidStateReason::Closed));
            }
            let negotiated = self.sctp.borrow().is_some();
            if !negotiated {
                inner.negotiator.request_data_channel()?;
            }
        }
        let sctp = self.sctp.subscribe();
        let state = self.state.subscribe();
        let label = label.to_owned();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let opened = match wait_for_sctp(sctp, state).await {
                Ok(sctp) => sctp.open(&label, init).await,
                Err(error) => Err(error),
            };
            let _ = tx.send(opened);
        });
        Ok(PendingDataChannel { opened: rx })
    }

    async fn sctp_transport(&self) -> Result<Arc<SctpTransport>, Error> {
        wait_for_sctp(self.sctp.subscribe(), self.state.subscribe()).await
    }

    /// `close()`.
    pub async fn close(&self) {
        let mut inner = self.inner.lock().await;
        inner.negotiator.close();
        // Closed first: a connection task still in the DTLS or SCTP handshake sees it when it
        // publishes its session and closes that itself.
        self.set_state(RTCPeerConnectionState::Closed);
        // Top down, so close_notify and the SCTP ABORT still have a path to the peer. The watch
        // values are taken out before awaiting: `close()` must be a Send future.
        let sctp = self.sctp.send_replace(None);
        if let Some(sctp) = sctp {
            let _ = sctp.close().await;
        }
        let dtls = self.dtls.send_replace(None);
        if let Some(dtls) = dtls {
            let _ = dtls.close().await;
        }
        if let Some(ice) = inner.ice.as_mut() {
            ice.close();
        }
    }

    fn set_state(&self, state: RTCPeerConnectionState) {
        publish_state(&self.state, &self.events, state);
    }

    /// After the first complete offer/answer: connect ICE, then DTLS, then SCTP.
    fn start(&self, inner: &mut Inner, plan: StartPlan) {
        let StartPlan {
            role,
            remote_fingerprints,
            sctp,
        } = plan;
        let Some(ice) = inner.ice.as_mut() else {
            return;
        };
        let Some(conn) = ice.dtls_conn() else {
            return;
        };
        inner.started = true;
        self.set_state(RTCPeerConnectionState::Connecting);
        let state = self.state.clone();
        let events = self.events.clone();
        let channels = self.remote_channels_tx.clone();
        // The setup is boxed and built here, not inside the task: the task lives as long as the
        // connection, and keeping room in it for the setup state (the DTLS transport with its
        // certificate, the handshake and SCTP start futures) made its future 2,136 bytes; it is
        // 408 now, and the setup's memory goes when the setup is done.
        let setup = Box::pin(
            Setup {
                ice_events: IceEvents::new(ice),
                dtls: DtlsTransport::new(DtlsConfig::new(self.certificate.clone())),
                conn,
                parameters: DtlsParameters {
                    role,
                    remote_fingerprints,
                },
                sctp,
                state: state.clone(),
                events: events.clone(),
                sctp_slot: self.sctp.clone(),
                dtls_slot: self.dtls.clone(),
            }
            .run(),
        );
        tokio::spawn(async move {
            let Some(association) = setup.await else {
                return;
            };
            // `accept` does not return after the association is closed (webrtc-sctp keeps its
            // accept queue open while the association lives, and this task holds it), so the
            // loop also ends when the connection closes; dropping the association then lets
            // its tasks and the DTLS connection under it go.
            let mut closed = state.subscribe();
            loop {
                let channel = tokio::select! {
                    channel = association.accept() => channel,
                    _ = closed.wait_for(|s| *s == RTCPeerConnectionState::Closed) => None,
                };
                let Some(channel) = channel else { break };
                tracing::debug!(label = channel.label(), "remote data channel");
                let _ = events.send(PeerConnectionEvent::DataChannel(channel.clone()));
                let _ = channels.send(channel);
            }
        });
    }
}

/// What starting the transports needs, computed before anything is started: a description
/// whose transport cannot be used (no usable fingerprint, conflicting `a=setup`) is refused
/// with nothing changed.
struct StartPlan {
    role: DtlsRole,
    remote_fingerprints: Vec<Fingerprint>,
    sctp: Option<SctpParameters>,
}

/// The [`StartPlan`] once negotiation is `complete` for the first time; `None` before, after,
/// or when a description names no transport.
fn plan_start(inner: &Inner, complete: bool) -> Result<Option<StartPlan>, Error> {
    if !complete || inner.started {
        return Ok(None);
    }
    let (Some(local), Some(remote)) = (
        inner.negotiator.current_local_description(),
        inner.negotiator.current_remote_description(),
    ) else {
        return Ok(None);
    };
    // Each description describes its side of the transport in its own tagged section. They
    // differ when the answerer rejected the offerer's tag: the answer's tag is then the first
    // section it accepted (RFC 8843 §7.3.1), while the offer's still carries the offerer's
    // transport attributes.
    let (local, remote) = (&local.parsed, &remote.parsed);
    let (Some(local_index), Some(remote_index)) =
        (transport_section(local), transport_section(remote))
    else {
        return Ok(None);
    };
    Ok(Some(StartPlan {
        role: dtls_role(local, local_index, remote, remote_index)?,
        remote_fingerprints: remote_fingerprints(remote, remote_index)?,
        sctp: SctpParameters::negotiated(local, remote),
    }))
}

/// Our restart offer was applied: the agent takes the credentials it carries (RFC 8445 §9).
fn take_restart_credentials(inner: &mut Inner) {
    let offered = inner
        .negotiator
        .local_description()
        .and_then(|d| transport_ufrag(&d.parsed));
    let Some(credentials) = inner
        .restart_credentials
        .take_if(|c| offered.as_deref() == Some(c.ufrag()))
    else {
        return;
    };
    if let Some(ice) = inner.ice.as_mut() {
        ice.restart(credentials);
        inner.restart_ice = false;
    }
}

/// The remote side of the transport we connect, read from its description.
struct RemoteTransport {
    credentials: Option<IceCredentials>,
    candidates: Vec<Candidate>,
    end_of_candidates: bool,
}

impl RemoteTransport {
    /// Reads the transport section of `remote`; invalid credentials refuse the description.
    fn read(remote: &antiphon_sdp::SessionDescription) -> Result<Self, Error> {
        let Some(index) = transport_section(remote) else {
            return Ok(Self {
                credentials: None,
                candidates: Vec::new(),
                end_of_candidates: false,
            });
        };
        let section = &remote.media[index];
        let ufrag = section.ice_ufrag().or_else(|| remote.ice_ufrag());
        let pwd = section.ice_pwd().or_else(|| remote.ice_pwd());
        let credentials = match (ufrag, pwd) {
            (Some(ufrag), Some(pwd)) => Some(IceCredentials::new(ufrag, pwd).map_err(|_| {
                Error::InvalidAccess(InvalidAccessReason::MissingIceCredentials { index })
            })?),
            _ => None,
        };
        Ok(Self {
            credentials,
            // Unusable candidates (TCP, mDNS names) are skipped: prflx discovery covers them.
            candidates: section
                .candidates()
                .filter_map(|value| Candidate::parse(value).ok())
                .collect(),
            end_of_candidates: section.has_end_of_candidates(),
        })
    }
}

/// The gathering task: records each candidate the agent finds and surfaces it (into the local
/// description, and as an `icecandidate` event), then end-of-candidates. It holds the
/// connection weakly and ends when gathering completes, the driver stops or the connection
/// goes; dropping the event stream then stops the driver's events.
async fn trickle(
    mut stream: IceEventStream,
    inner: Weak<Mutex<Inner>>,
    generation: u64,
    events: broadcast::Sender<PeerConnectionEvent>,
) {
    while let Some(event) = stream.next().await {
        let found = match event {
            IceEvent::NewLocalCandidate(candidate) => Some(candidate),
            IceEvent::GatheringComplete => None,
            _ => continue,
        };
        let Some(inner) = inner.upgrade() else { return };
        let mut inner = inner.lock().await;
        let Inner {
            negotiator,
            gathering,
            ..
        } = &mut *inner;
        if gathering.generation != generation {
            // The driver this task listens to was dropped (a refused first offer).
            return;
        }
        let complete = found.is_none();
        match found {
            Some(candidate) => {
                if !gathering.add(candidate) {
                    continue;
                }
            }
            None => gathering.set_state(IceGatheringState::Complete, &events),
        }
        gathering.surface(negotiator, &events);
        if complete {
            return;
        }
    }
}

/// The connection task's setup: ICE connected, then the DTLS handshake, then SCTP.
struct Setup {
    ice_events: IceEvents,
    dtls: DtlsTransport,
    conn: Arc<antiphon_ice::IceConn>,
    parameters: DtlsParameters,
    sctp: Option<SctpParameters>,
    state: watch::Sender<RTCPeerConnectionState>,
    events: broadcast::Sender<PeerConnectionEvent>,
    sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
    dtls_slot: watch::Sender<Option<Arc<DtlsSession>>>,
}

impl Setup {
    /// Runs the setup and publishes what it brings up (the DTLS session, the SCTP transport,
    /// the connection states); the SCTP transport if it came up and the connection is open.
    ///
    /// Setup is transient, but every connection being set up holds this future: the handshake
    /// and SCTP start futures are boxed one after the other rather than both kept inline, and
    /// it is an `async` block because an `async fn` future keeps its argument twice.
    #[expect(
        clippy::manual_async_fn,
        reason = "the async fn future holds `self` twice"
    )]
    fn run(mut self) -> impl std::future::Future<Output = Option<Arc<SctpTransport>>> {
        async move {
            let report = |s| publish_state(&self.state, &self.events, s);
            let ice_state = self.ice_events.connected(&self.events).await;
            if !matches!(
                ice_state,
                IceConnectionState::Connected | IceConnectionState::Completed
            ) {
                report(RTCPeerConnectionState::Failed);
                return None;
            }
            let role = self.parameters.role;
            let handshake = self.dtls.start(self.conn, self.parameters);
            let session = match Box::pin(handshake).await {
                Ok(session) => Arc::new(session),
                Err(_) => {
                    report(RTCPeerConnectionState::Failed);
                    return None;
                }
            };
            self.dtls_slot.send_replace(Some(Arc::clone(&session)));
            if *self.state.borrow() == RTCPeerConnectionState::Closed {
                // close() ran during the handshake and found no session to close.
                self.dtls_slot.send_replace(None);
                let _ = session.close().await;
                return None;
            }
            report(RTCPeerConnectionState::Connected);
            tokio::spawn(
                self.ice_events
                    .forward(self.events.clone(), self.state.clone()),
            );
            let parameters = self.sctp?;
            let start = SctpTransport::start(session.conn(), role, parameters);
            let association = match Box::pin(start).await {
                Ok(association) => Arc::new(association),
                Err(error) => {
                    tracing::warn!(%error, "SCTP association failed");
                    report(RTCPeerConnectionState::Failed);
                    return None;
                }
            };
            tracing::debug!("SCTP association up");
            self.sctp_slot.send_replace(Some(Arc::clone(&association)));
            if *self.state.borrow() == RTCPeerConnectionState::Closed {
                self.sctp_slot.send_replace(None);
                let _ = association.close().await;
                return None;
            }
            Some(association)
        }
    }
}

impl Negotiator {
    /// `createOffer`'s state check, before any socket is bound.
    pub(crate) fn signaling_state_allows_offer(&self) -> Result<(), Error> {
        let state = self.signaling_state();
        if state == RTCSignalingState::Closed {
            return Err(Error::InvalidState(InvalidStateReason::Closed));
        }
        if !state.can_create_offer() {
            return Err(Error::InvalidState(InvalidStateReason::CannotOffer {
                state,
            }));
        }
        Ok(())
    }
}

/// The ICE driver's state changes, as a stream the connection task owns.
struct IceEvents {
    state: watch::Receiver<IceConnectionState>,
}

impl IceEvents {
    fn new(ice: &IceDriver) -> Self {
        Self {
            state: ice.state_receiver(),
        }
    }

    async fn connected(
        &mut self,
        events: &broadcast::Sender<PeerConnectionEvent>,
    ) -> IceConnectionState {
        loop {
            let state = *self.state.borrow_and_update();
            let _ = events.send(PeerConnectionEvent::IceConnectionState(state));
            if matches!(
                state,
                IceConnectionState::Connected
                    | IceConnectionState::Completed
                    | IceConnectionState::Failed
                    | IceConnectionState::Closed
            ) {
                return state;
            }
            if self.state.changed().await.is_err() {
                return IceConnectionState::Closed;
            }
        }
    }

    /// Keeps mapping ICE states to connection states after DTLS is up.
    async fn forward(
        mut self,
        events: broadcast::Sender<PeerConnectionEvent>,
        state: watch::Sender<RTCPeerConnectionState>,
    ) {
        while self.state.changed().await.is_ok() {
            let ice = *self.state.borrow_and_update();
            let _ = events.send(PeerConnectionEvent::IceConnectionState(ice));
            let mapped = match ice {
                IceConnectionState::Connected | IceConnectionState::Completed => {
                    RTCPeerConnectionState::Connected
                }
                IceConnectionState::Disconnected => RTCPeerConnectionState::Disconnected,
                IceConnectionState::Failed => RTCPeerConnectionState::Failed,
                IceConnectionState::Closed => RTCPeerConnectionState::Closed,
                IceConnectionState::New | IceConnectionState::Checking => continue,
            };
            publish_state(&state, &events, mapped);
        }
    }
}

/// Moves the connection state to `new` and emits `connectionstatechange` if it changed;
/// `closed` is final.
fn publish_state(
    state: &watch::Sender<RTCPeerConnectionState>,
    events: &broadcast::Sender<PeerConnectionEvent>,
    new: RTCPeerConnectionState,
) {
    let changed = state.send_if_modified(|current| {
        if *current == new || *current == RTCPeerConnectionState::Closed {
            false
        } else {
            *current = new;
            true
        }
    });
    if changed {
        tracing::info!(state = ?new, "connection state");
        let _ = events.send(PeerConnectionEvent::ConnectionState(new));
    }
}

/// Waits until the SCTP association is up; fails if the connection fails or closes first.
async fn wait_for_sctp(
    mut receiver: watch::Receiver<Option<Arc<SctpTransport>>>,
    mut state: watch::Receiver<RTCPeerConnectionState>,
) -> Result<Arc<SctpTransport>, Error> {
    loop {
        if let Some(sctp) = receiver.borrow_and_update().clone() {
            return Ok(sctp);
        }
        match *state.borrow_and_update() {
            RTCPeerConnectionState::Failed => {
                return Err(Error::Operation(OperationReason::IceFailed));
            }
            RTCPeerConnectionState::Closed => {
                return Err(Error::InvalidState(InvalidStateReason::Closed));
            }
            _ => {}
        }
        tokio::select! {
            changed = receiver.changed() => if changed.is_err() { return Err(Error::InvalidState(InvalidStateReason::Closed)) },
            changed = state.changed() => if changed.is_err() { return Err(Error::InvalidState(InvalidStateReason::Closed)) },
        }
    }
}

/// A data channel from [`RTCPeerConnection::create_data_channel`] that opens once the
/// connection's SCTP association is up.
#[derive(Debug)]
pub struct PendingDataChannel {
    opened: tokio::sync::oneshot::Receiver<Result<RTCDataChannel, Error>>,
}

impl PendingDataChannel {
    /// The open channel (the W3C `open` event), or why it could not open: the connection
    /// failed or closed first, or the DCEP open failed.
    pub async fn opened(self) -> Result<RTCDataChannel, Error> {
        self.opened
            .await
            .unwrap_or(Err(Error::InvalidState(InvalidStateReason::Closed)))
    }
}
