//! `RTCPeerConnection`: a handle to the connection task ([`task`]), which owns the
//! [`Negotiator`] and the sans-IO [`ConnectionCore`](crate::core::ConnectionCore) (ICE agent,
//! DTLS with the remote fingerprints enforced, SCTP and data channels) with its UDP sockets.
//! Every call is an operation run on that task in call order.
//!
//! One ICE/DTLS transport carries everything (the BUNDLE transport, or the first transport of a
//! non-bundled answer); sections on further transports are negotiated but not connected.
//!
//! Here: the handle, construction and the signaling calls. `signaling.rs` holds what those
//! calls do on the task (create, set and trickle descriptions), `attributes.rs` the reads,
//! `ice.rs` the ICE agent's start and our side of each transport, `data.rs` the data channels
//! and the start of DTLS and SCTP (whose plan is in `crate::setup`).

mod attributes;
mod data;
mod ice;
mod media;
mod network;
mod signaling;
#[cfg(test)]
mod simulated;
mod task;
mod transports;

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use std::time::Instant;

use antiphon_codec::Capabilities;
use antiphon_dtls::{Certificate, CertificateOptions};
use tokio::sync::{OnceCell, mpsc, oneshot, watch};

use crate::answer::AnswerOptions;
use crate::configuration::{IceServerUrl, RTCConfiguration, RTCIceTransportPolicy};
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::driver::{COMMAND_QUEUE, DtlsInfo};
use crate::error::{Error, InvalidAccessReason, InvalidStateReason, OperationReason};
use crate::events::{EventSender, RTCIceCandidateInit, RTCPeerConnectionState};
use crate::negotiator::{Negotiator, OsEntropy};
use crate::sctp::SctpTransport;
use task::{OP_QUEUE, Op, Outputs, PeerTask};

pub use media::{
    MEDIA_RECEIVE_QUEUE, MediaReceiver, MediaStats, ReceivedMedia, ReceivedRtp, SenderCodec,
    TrackReceiver, UNROUTED_HOLD, UNROUTED_HOLD_FOR,
};

/// Settings beyond `RTCConfiguration`.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// The most ICE + DTLS transports one connection opens (each binds its own sockets): a
    /// remote offer that needs more (sections outside BUNDLE) is refused with
    /// [`OperationReason::TooManyTransports`], as is our `max-compat` offer with more
    /// sections. Default: 16.
    pub max_transports: usize,
    /// Root certificates (PEM) that verify `turns:` servers besides the platform's (which are
    /// read as `rustls-native-certs` reads them: `SSL_CERT_FILE` and `SSL_CERT_DIR` honoured).
    /// Default: none.
    pub turn_roots_pem: Option<Vec<u8>>,
    /// One UDP port shared with other connections (a server's many peers on one port; see
    /// [`UdpMux`](antiphon_ice::UdpMux)): every transport's host candidates are the mux's
    /// addresses instead of sockets of its own on [`bind`](Self::bind). TURN over UDP is not
    /// used from a mux (TURN over TCP or TLS is). Default: none.
    pub udp_mux: Option<antiphon_ice::UdpMux>,
}

/// Builders: `PeerOptions::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl PeerOptions {
    /// The same, with [`bind`](Self::bind) set.
    #[must_use]
    pub fn with_bind(mut self, bind: Vec<IpAddr>) -> Self {
        self.bind = bind;
        self
    }

    /// The same, with [`capabilities`](Self::capabilities) set.
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Arc<Capabilities>) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The same, with [`prefer_passive`](Self::prefer_passive) set.
    #[must_use]
    pub fn with_prefer_passive(mut self, prefer_passive: bool) -> Self {
        self.prefer_passive = prefer_passive;
        self
    }

    /// The same, with [`max_transports`](Self::max_transports) set.
    #[must_use]
    pub fn with_max_transports(mut self, max_transports: usize) -> Self {
        self.max_transports = max_transports;
        self
    }

    /// The same, with [`udp_mux`](Self::udp_mux) set.
    #[must_use]
    pub fn with_udp_mux(mut self, udp_mux: Option<antiphon_ice::UdpMux>) -> Self {
        self.udp_mux = udp_mux;
        self
    }

    /// The same, with [`turn_roots_pem`](Self::turn_roots_pem) set.
    #[must_use]
    pub fn with_turn_roots_pem(mut self, turn_roots_pem: Option<Vec<u8>>) -> Self {
        self.turn_roots_pem = turn_roots_pem;
        self
    }
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
            max_transports: 16,
            turn_roots_pem: None,
            udp_mux: None,
        }
    }
}

/// The longest a STUN server's name may take to resolve; an unresolved name gives no
/// server-reflexive candidate, as in browsers.
const STUN_LOOKUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// `RTCPeerConnection`.
pub struct RTCPeerConnection {
    /// The task's operation queue.
    ops: mpsc::Sender<Op>,
    /// The task until the first call spawns it (a connection may be made outside a runtime).
    /// Boxed: the task is most of a connection's state, and the box moves into the spawned
    /// future as it is, instead of leaving an empty slot of its size in this handle.
    task: std::sync::Mutex<Option<Box<PeerTask>>>,
    certificate: Certificate,
    /// STUN and TURN servers from the configuration, resolved once, before the sockets are
    /// bound and outside the task.
    ice_urls: Vec<IceServerUrl>,
    gather_servers: OnceCell<Arc<ice::GatherServers>>,
    events: EventSender,
    state: watch::Sender<RTCPeerConnectionState>,
    sctp: watch::Sender<Option<Arc<SctpTransport>>>,
    /// The DTLS association once its handshake is done (getStats, SRTP keys).
    dtls: watch::Sender<Option<Arc<DtlsInfo>>>,
    /// The received media's queue ([`media_receiver`](Self::media_receiver)).
    media: media::MediaQueue,
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
        let ice_urls = configuration.ice_server_urls()?;
        let tls = if ice_urls.iter().any(|u| {
            u.turn
                .as_ref()
                .is_some_and(|t| t.transport == antiphon_ice::turn::TurnTransport::Tls)
        }) {
            let roots = options.turn_roots_pem.as_deref();
            Some(
                antiphon_ice::TurnTls::new(roots)
                    .map_err(|e| Error::Operation(OperationReason::TurnTls(e)))?,
            )
        } else {
            None
        };
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
        let events = EventSender::default();
        let state = watch::channel(RTCPeerConnectionState::New).0;
        let sctp = watch::channel(None).0;
        let dtls = watch::channel(None).0;
        let (ops_tx, ops) = mpsc::channel(OP_QUEUE);
        let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
        let outputs = Outputs {
            events: events.clone(),
            state: state.clone(),
            dtls: dtls.clone(),
        };
        let network = network::Udp {
            streams: None,
            tls,
            mux: options.udp_mux,
        };
        let mut task = PeerTask::new(
            network,
            negotiator,
            certificate.clone(),
            options.bind,
            outputs,
            sctp.clone(),
            ops,
            commands,
            commands_tx,
        );
        task.max_transports = options.max_transports;
        task.relay_only = configuration.ice_transport_policy == RTCIceTransportPolicy::Relay;
        let media = task.media.queue();
        Ok(Self {
            ops: ops_tx,
            task: std::sync::Mutex::new(Some(Box::new(task))),
            certificate,
            ice_urls,
            gather_servers: OnceCell::new(),
            events,
            state,
            sctp,
            dtls,
            media,
        })
    }

    /// Runs `op` on the connection task (spawned by the first call) after every call made
    /// before it; `None` once the task is gone.
    async fn call<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut PeerTask, Instant) -> R + Send + 'static,
    ) -> Option<R> {
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            tokio::spawn(task.run());
        }
        let (reply, result) = oneshot::channel();
        let op: Op = Box::new(move |task, now| {
            let _ = reply.send(op(task, now));
        });
        self.ops.send(op).await.ok()?;
        result.await.ok()
    }

    /// [`call`](Self::call) of a fallible operation; a gone task is a closed connection.
    async fn try_call<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut PeerTask, Instant) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.call(op)
            .await
            .unwrap_or(Err(Error::InvalidState(InvalidStateReason::Closed)))
    }

    /// `createOffer()`.
    pub async fn create_offer(&self) -> Result<RTCSessionDescriptionInit, Error> {
        let servers = self.gather_servers().await;
        self.try_call(move |task, now| task.create_offer(now, &servers))
            .await
    }

    /// `restartIce()`: the next [`create_offer`](Self::create_offer) restarts ICE with new
    /// credentials (the connection keeps its DTLS and SCTP state across the restart).
    pub async fn restart_ice(&self) {
        self.call(|task, _| task.restart_ice()).await;
    }

    /// `createAnswer()`.
    pub async fn create_answer(&self) -> Result<RTCSessionDescriptionInit, Error> {
        let servers = self.gather_servers().await;
        self.try_call(move |task, now| task.create_answer(now, &servers))
            .await
    }

    /// `setLocalDescription(description)`; `None` is the implicit form (an answer in
    /// `have-remote-offer`, an offer otherwise), created and applied in one step so that no
    /// other call comes between. A refused description changes nothing.
    pub async fn set_local_description(
        &self,
        description: Option<RTCSessionDescriptionInit>,
    ) -> Result<(), Error> {
        let servers = match description {
            None => self.gather_servers().await,
            Some(_) => Arc::default(),
        };
        self.try_call(move |task, now| task.set_local_description(now, description, &servers))
            .await
    }

    /// `setRemoteDescription(description)`. A refused description changes nothing: what the
    /// negotiator applied is put back, and sockets bound for it are closed.
    pub async fn set_remote_description(
        &self,
        description: RTCSessionDescriptionInit,
    ) -> Result<(), Error> {
        let servers = if description.sdp_type == RTCSdpType::Rollback {
            Arc::default()
        } else {
            self.gather_servers().await
        };
        self.try_call(move |task, now| task.set_remote_description(now, description, &servers))
            .await
    }

    /// `addIceCandidate(candidate)`; an empty candidate is end-of-candidates.
    pub async fn add_ice_candidate(&self, candidate: RTCIceCandidateInit) -> Result<(), Error> {
        self.try_call(move |task, now| task.add_ice_candidate(now, candidate))
            .await
    }

    /// `close()`: the transports close (SCTP SHUTDOWN and DTLS close_notify are sent) and
    /// their sockets and memory are freed; the descriptions stay readable.
    pub async fn close(&self) {
        if self.call(|task, now| task.close(now)).await.is_none() {
            // No task (gone, or never started): nothing to close but the state.
            crate::events::publish_state(&self.state, &self.events, RTCPeerConnectionState::Closed);
        }
    }
}
