//! Bringing a connection's transports up once negotiation completes: what is needed is
//! computed first ([`StartPlan`], [`RemoteTransport`], so that an unusable description is
//! refused with nothing changed), then one task per connection runs ICE, the DTLS handshake
//! and SCTP in turn and publishes what comes up.

use std::sync::Arc;

use antiphon_dtls::{DtlsParameters, DtlsRole, DtlsSession, DtlsTransport, Fingerprint};
use antiphon_ice::driver::IceDriver;
use antiphon_ice::{Candidate, IceConnectionState, IceCredentials};
use tokio::sync::{broadcast, watch};

use crate::data_channel::RTCDataChannel;
use crate::error::{Error, InvalidAccessReason, InvalidStateReason, OperationReason};
use crate::events::{PeerConnectionEvent, RTCPeerConnectionState, publish_state};
use crate::negotiator::Negotiator;
use crate::sctp::{SctpParameters, SctpTransport};
use crate::transport::{dtls_role, remote_fingerprints, transport_section};

/// What starting the transports needs, computed before anything is started: a description
/// whose transport cannot be used (no usable fingerprint, conflicting `a=setup`) is refused
/// with nothing changed.
pub(crate) struct StartPlan {
    pub(crate) role: DtlsRole,
    pub(crate) remote_fingerprints: Vec<Fingerprint>,
    pub(crate) sctp: Option<SctpParameters>,
}

/// The [`StartPlan`] once negotiation is `complete` for the first time; `None` before, after,
/// or when a description names no transport.
pub(crate) fn plan_start(
    negotiator: &Negotiator,
    started: bool,
    complete: bool,
) -> Result<Option<StartPlan>, Error> {
    if !complete || started {
        return Ok(None);
    }
    let (Some(local), Some(remote)) = (
        negotiator.current_local_description(),
        negotiator.current_remote_description(),
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

/// The remote side of the transport we connect, read from its description.
pub(crate) struct RemoteTransport {
    pub(crate) credentials: Option<IceCredentials>,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) end_of_candidates: bool,
}

impl RemoteTransport {
    /// Reads the transport section of `remote`; invalid credentials refuse the description.
    pub(crate) fn read(remote: &antiphon_sdp::SessionDescription) -> Result<Self, Error> {
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

/// The connection task's setup: ICE connected, then the DTLS handshake, then SCTP.
pub(crate) struct Setup {
    pub(crate) ice_events: IceEvents,
    pub(crate) dtls: DtlsTransport,
    pub(crate) conn: Arc<antiphon_ice::IceConn>,
    pub(crate) parameters: DtlsParameters,
    pub(crate) sctp: Option<SctpParameters>,
    pub(crate) state: watch::Sender<RTCPeerConnectionState>,
    pub(crate) events: broadcast::Sender<PeerConnectionEvent>,
    pub(crate) sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
    pub(crate) dtls_slot: watch::Sender<Option<Arc<DtlsSession>>>,
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
    pub(crate) fn run(mut self) -> impl std::future::Future<Output = Option<Arc<SctpTransport>>> {
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
            let started = start_sctp(&session, role, parameters, &self.sctp_slot, &self.state);
            match Box::pin(started).await {
                Ok(association) => association,
                Err(error) => {
                    tracing::warn!(%error, "SCTP association failed");
                    report(RTCPeerConnectionState::Failed);
                    None
                }
            }
        }
    }
}

/// Starts the SCTP association on the DTLS `session` and publishes it in `slot`: the
/// association, `None` if the connection closed meanwhile (then it is closed again), or why the
/// SCTP handshake failed.
pub(crate) async fn start_sctp(
    session: &DtlsSession,
    role: DtlsRole,
    parameters: SctpParameters,
    slot: &watch::Sender<Option<Arc<SctpTransport>>>,
    state: &watch::Sender<RTCPeerConnectionState>,
) -> Result<Option<Arc<SctpTransport>>, Error> {
    let start = SctpTransport::start(session.conn(), role, parameters);
    let association = Arc::new(Box::pin(start).await?);
    tracing::debug!("SCTP association up");
    slot.send_replace(Some(Arc::clone(&association)));
    if *state.borrow() == RTCPeerConnectionState::Closed {
        slot.send_replace(None);
        let _ = association.close().await;
        return Ok(None);
    }
    Ok(Some(association))
}

/// The ICE driver's state changes, as a stream the connection task owns.
pub(crate) struct IceEvents {
    state: watch::Receiver<IceConnectionState>,
}

impl IceEvents {
    pub(crate) fn new(ice: &IceDriver) -> Self {
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

/// Waits until the connection publishes what `receiver` watches (the DTLS session, the SCTP
/// association); fails if the connection fails or closes first.
pub(crate) async fn wait_for_published<T>(
    mut receiver: watch::Receiver<Option<Arc<T>>>,
    mut state: watch::Receiver<RTCPeerConnectionState>,
) -> Result<Arc<T>, Error> {
    loop {
        if let Some(published) = receiver.borrow_and_update().clone() {
            return Ok(published);
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
    pub(crate) opened: tokio::sync::oneshot::Receiver<Result<RTCDataChannel, Error>>,
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
