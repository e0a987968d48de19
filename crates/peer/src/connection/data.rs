//! Data channels on the connection's SCTP association, and the start of DTLS and SCTP in the
//! core once negotiation completes.

use std::sync::Arc;
use std::time::Instant;

use super::RTCPeerConnection;
use super::task::PeerTask;
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit};
use crate::error::{Error, InvalidStateReason};
use crate::events::RTCPeerConnectionState;
use crate::sctp::{SctpParameters, SctpTransport};
use crate::setup::{PendingDataChannel, StartPlan, wait_for_published};
use crate::signaling::RTCSignalingState;

impl RTCPeerConnection {
    /// Asks for a data channel section in the next offer (`createDataChannel` before
    /// negotiation); the channel itself is opened with [`RTCPeerConnection::open_data_channel`].
    pub async fn create_data_channel_section(&self) -> Result<(), Error> {
        self.try_call(|task, _| {
            task.negotiator.request_data_channel()?;
            task.update_negotiation_needed();
            Ok(())
        })
        .await
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
        // Ends when the connection closes or fails: the task then withdraws the association,
        // and with it the queue of remote channels.
        let sctp = self.sctp_transport().await.ok()?;
        sctp.accept().await
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
        init.check()?;
        let negotiated = self.sctp.borrow().is_some();
        self.try_call(move |task, _| {
            if task.negotiator.signaling_state() == RTCSignalingState::Closed {
                return Err(Error::InvalidState(InvalidStateReason::Closed));
            }
            if !negotiated {
                task.negotiator.request_data_channel()?;
                task.update_negotiation_needed();
            }
            Ok(())
        })
        .await?;
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
}

impl PeerTask {
    /// After the first complete offer/answer: DTLS starts in the core (its client once ICE
    /// has a path), then SCTP.
    pub(crate) fn start(&mut self, now: Instant, plan: StartPlan) {
        let Some(path) = self.ice.as_mut() else {
            return;
        };
        let sctp = plan.sctp.is_some();
        if let Err(error) = path.core.start_secure(now, plan) {
            tracing::warn!(%error, "transport not started");
            self.outputs.set_state(RTCPeerConnectionState::Failed);
            return;
        }
        self.sctp_started = sctp;
        self.outputs.set_state(RTCPeerConnectionState::Connecting);
    }

    /// A data channel section negotiated after the transports started (a renegotiation added
    /// it, or the first exchange was glare-resolved without it): SCTP starts on the DTLS
    /// session, with the DTLS role as negotiated.
    pub(crate) fn start_sctp_if_added(&mut self, now: Instant) {
        if !self.is_started() || self.sctp_started {
            return;
        }
        let (Some(local), Some(remote)) = (
            self.negotiator.current_local_description(),
            self.negotiator.current_remote_description(),
        ) else {
            return;
        };
        let Some(parameters) = SctpParameters::negotiated(&local.parsed, &remote.parsed) else {
            return;
        };
        self.sctp_started = true;
        if let Some(path) = self.ice.as_mut() {
            path.core.add_sctp(now, parameters);
        }
    }
}
