//! `RTCPeerConnection`: the [`Negotiator`] plus the transports it negotiates: an ICE driver
//! (antiphon-ice), the DTLS handshake with the remote fingerprints enforced (antiphon-dtls), and
//! the SCTP association with its data channels.
//!
//! One ICE/DTLS transport carries everything (the BUNDLE transport, or the first transport of a
//! non-bundled answer); sections on further transports are negotiated but not connected.
//!
//! Here: construction and the signaling operations (create, set and trickle descriptions,
//! close). `attributes.rs` reads states and descriptions, `ice.rs` runs the ICE driver and the
//! trickle of our candidates, `data.rs` the data channels and the start of the transports
//! (whose steps are in `crate::setup`).

mod attributes;
mod data;
mod ice;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

use antiphon_codec::Capabilities;
use antiphon_dtls::{Certificate, CertificateOptions};
use antiphon_ice::driver::IceDriver;
use antiphon_ice::{Candidate, IceCredentials, IceRole};
use tokio::sync::{Mutex, OnceCell, broadcast, mpsc, watch};

use crate::answer::AnswerOptions;
use crate::configuration::{RTCConfiguration, StunServer};
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::driver::{Command, DtlsInfo};
use crate::error::{
    Error, InvalidAccessReason, InvalidStateReason, OperationReason, TypeErrorReason,
};
use crate::events::{
    PeerConnectionEvent, RTCIceCandidateInit, RTCPeerConnectionState, publish_state,
};
use crate::gathering::Gathering;
use crate::negotiator::{Applied, Negotiator, OsEntropy};
use crate::sctp::SctpTransport;
use crate::setup::{RemoteTransport, StartPlan, plan_start};
use crate::signaling::RTCSignalingState;
use crate::transport::{is_bundled, transport_section, transport_ufrag};

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
    /// W3C's negotiation-needed flag: `negotiationneeded` was fired and no exchange has
    /// completed since.
    negotiation_needed: bool,
    /// The SCTP association was started (or is starting); a data section negotiated later
    /// starts it then.
    sctp_started: bool,
    /// The transport task's command queue, once it runs.
    commands: Option<mpsc::Sender<Command>>,
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
    /// The DTLS association once its handshake is done (getStats, SRTP keys).
    dtls: watch::Sender<Option<Arc<DtlsInfo>>>,
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
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                negotiator,
                ice: None,
                gathering: Gathering::new(),
                started: false,
                restart_ice: false,
                restart_credentials: None,
                negotiation_needed: false,
                sctp_started: false,
                commands: None,
            })),
            certificate,
            bind: options.bind,
            stun_servers,
            stun_addresses: OnceCell::new(),
            events,
            state: watch::channel(RTCPeerConnectionState::New).0,
            sctp: watch::channel(None).0,
            dtls: watch::channel(None).0,
        })
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
        let mut inner = self.inner.lock().await;
        inner.restart_ice = true;
        self.update_negotiation_needed(&mut inner);
    }

    /// W3C "update the negotiation-needed flag": in `stable`, `negotiationneeded` fires once
    /// when a new offer/answer exchange is needed (something added, the data channel asked for,
    /// an ICE restart asked for), and the flag drops once it no longer is. Called after those
    /// calls and whenever signaling returns to `stable`.
    fn update_negotiation_needed(&self, inner: &mut Inner) {
        if inner.negotiator.signaling_state() != RTCSignalingState::Stable {
            return;
        }
        let needed = inner.negotiator.negotiation_needed()
            || (inner.restart_ice && inner.negotiator.current_remote_description().is_some());
        if needed && !inner.negotiation_needed {
            let _ = self.events.send(PeerConnectionEvent::NegotiationNeeded);
        }
        inner.negotiation_needed = needed;
    }

    /// Once a description is applied: `signalingstatechange`, the negotiation-needed flag,
    /// and the transports started (the first complete exchange) or SCTP added (a later one).
    fn finish_applying(&self, inner: &mut Inner, applied: &Applied, plan: Option<StartPlan>) {
        if applied.signaling_state_changed {
            let state = inner.negotiator.signaling_state();
            let _ = self.events.send(PeerConnectionEvent::SignalingState(state));
        }
        if inner.negotiator.signaling_state() == RTCSignalingState::Stable {
            // Back in `stable`: the flag is worked out afresh.
            inner.negotiation_needed = false;
            self.update_negotiation_needed(inner);
        }
        if let Some(plan) = plan {
            self.start(inner, plan);
        } else if applied.negotiation_complete {
            self.start_sctp_if_added(inner);
        }
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
        let plan = match plan_start(
            &inner.negotiator,
            inner.started,
            applied.negotiation_complete,
        ) {
            Ok(plan) => plan,
            Err(error) => {
                inner.negotiator.restore(checkpoint);
                return Err(error);
            }
        };
        if description.sdp_type == RTCSdpType::Offer {
            ice::take_restart_credentials(&mut inner);
        }
        let Inner {
            negotiator,
            gathering,
            ..
        } = &mut *inner;
        gathering.surface(negotiator, &self.events);
        self.finish_applying(&mut inner, &applied, plan);
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
            self.finish_applying(&mut inner, &applied, None);
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
        self.finish_applying(&mut inner, &applied, plan);
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
        Ok((
            transport,
            plan_start(&inner.negotiator, inner.started, complete)?,
        ))
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

    /// `close()`.
    pub async fn close(&self) {
        let mut inner = self.inner.lock().await;
        inner.negotiator.close();
        self.set_state(RTCPeerConnectionState::Closed);
        // Top down, so the SCTP SHUTDOWN and DTLS close_notify still have a path to the peer:
        // the transport task sends them and ends, then ICE closes.
        if let Some(commands) = inner.commands.take() {
            let (done, closed) = tokio::sync::oneshot::channel();
            if commands.send(Command::Close { done }).await.is_ok() {
                let _ = closed.await;
            }
        }
        self.sctp.send_replace(None);
        self.dtls.send_replace(None);
        if let Some(ice) = inner.ice.as_mut() {
            ice.close();
        }
    }

    fn set_state(&self, state: RTCPeerConnectionState) {
        publish_state(&self.state, &self.events, state);
    }
}
