//! Data channels on the connection's SCTP association, and the task that brings the transports
//! up (ICE, then DTLS, then SCTP) once negotiation completes.

use std::sync::Arc;

use antiphon_dtls::{DtlsConfig, DtlsParameters, DtlsTransport};

use super::{Inner, RTCPeerConnection};
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit};
use crate::error::{Error, InvalidStateReason, TypeErrorReason};
use crate::events::{PeerConnectionEvent, RTCPeerConnectionState};
use crate::sctp::{SctpParameters, SctpTransport};
use crate::setup::{
    IceEvents, PendingDataChannel, Setup, StartPlan, start_sctp, wait_for_published,
};
use crate::signaling::RTCSignalingState;
use tokio::sync::{broadcast, mpsc, watch};

impl RTCPeerConnection {
    /// Asks for a data channel section in the next offer (`createDataChannel` before
    /// negotiation); the channel itself is opened with [`RTCPeerConnection::open_data_channel`].
    pub async fn create_data_channel_section(&self) -> Result<(), Error> {
        let mut inner = self.inner.lock().await;
        inner.negotiator.request_data_channel()?;
        self.update_negotiation_needed(&mut inner);
        Ok(())
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
                self.update_negotiation_needed(&mut inner);
            }
        }
        let sctp = self.sctp.subscribe();
        let state = self.state.subscribe();
        let label = label.to_owned();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let opened = match wait_for_published(sctp, state).await {
                Ok(sctp) => sctp.open(&label, init).await,
                Err(error) => Err(error),
            };
            let _ = tx.send(opened);
        });
        Ok(PendingDataChannel { opened: rx })
    }

    pub(super) async fn sctp_transport(&self) -> Result<Arc<SctpTransport>, Error> {
        wait_for_published(self.sctp.subscribe(), self.state.subscribe()).await
    }

    /// After the first complete offer/answer: connect ICE, then DTLS, then SCTP.
    pub(super) fn start(&self, inner: &mut Inner, plan: StartPlan) {
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
        inner.sctp_started = sctp.is_some();
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
            accept_channels(association, state, events, channels).await;
        });
    }

    /// A data channel section negotiated after the transports started (a renegotiation added
    /// it, or the first exchange was glare-resolved without it): the SCTP association starts
    /// on the DTLS session once that is up, with the DTLS role as negotiated.
    pub(super) fn start_sctp_if_added(&self, inner: &mut Inner) {
        if !inner.started || inner.sctp_started {
            return;
        }
        let (Some(local), Some(remote)) = (
            inner.negotiator.current_local_description(),
            inner.negotiator.current_remote_description(),
        ) else {
            return;
        };
        let Some(parameters) = SctpParameters::negotiated(&local.parsed, &remote.parsed) else {
            return;
        };
        inner.sctp_started = true;
        let dtls = self.dtls.subscribe();
        let connection = self.state.subscribe();
        let state = self.state.clone();
        let events = self.events.clone();
        let channels = self.remote_channels_tx.clone();
        let sctp_slot = self.sctp.clone();
        tokio::spawn(async move {
            let Ok(session) = wait_for_published(dtls, connection).await else {
                return;
            };
            let started = start_sctp(&session, session.role(), parameters, &sctp_slot, &state);
            match Box::pin(started).await {
                Ok(Some(association)) => {
                    accept_channels(association, state, events, channels).await;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "SCTP association failed"),
            }
        });
    }
}

/// Reports each channel the remote opens on `association` (`datachannel`) until the
/// connection closes. `accept` does not return after the association is closed (webrtc-sctp
/// keeps its accept queue open while the association lives, and this task holds it), so the
/// loop also ends when the connection closes; dropping the association then lets its tasks and
/// the DTLS connection under it go.
async fn accept_channels(
    association: Arc<SctpTransport>,
    state: watch::Sender<RTCPeerConnectionState>,
    events: broadcast::Sender<PeerConnectionEvent>,
    channels: mpsc::UnboundedSender<RTCDataChannel>,
) {
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
}
