//! Data channels on the connection's SCTP association, and the start of the transport task
//! that runs DTLS and SCTP over the ICE driver's path once negotiation completes.

use std::sync::Arc;

use antiphon_dtls::{DtlsConfig, DtlsParameters};

use super::{Inner, RTCPeerConnection};
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit};
use crate::driver::{Command, ConnectionOutputs, TransportTask};
use crate::error::{Error, InvalidStateReason};
use crate::events::RTCPeerConnectionState;
use crate::sctp::{SctpParameters, SctpTransport};
use crate::setup::{PendingDataChannel, StartPlan, wait_for_published};
use crate::signaling::RTCSignalingState;

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
        // Ends when the connection closes or fails: the transport task then drops the
        // association, and with it the queue of remote channels.
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

    /// After the first complete offer/answer: the transport task runs DTLS (once ICE has a
    /// path) and then SCTP.
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
        let outputs = ConnectionOutputs {
            state: self.state.clone(),
            events: self.events.clone(),
            dtls: self.dtls.clone(),
            ice: ice.state_receiver(),
        };
        let task = TransportTask::new(
            conn,
            DtlsConfig::new(self.certificate.clone()),
            DtlsParameters {
                role,
                remote_fingerprints,
            },
            sctp,
            self.sctp.clone(),
        );
        let task = match task {
            Ok(task) => task.with_connection(outputs),
            Err(error) => {
                tracing::warn!(%error, "transport not started");
                self.set_state(RTCPeerConnectionState::Failed);
                return;
            }
        };
        inner.started = true;
        inner.sctp_started = sctp.is_some();
        inner.commands = Some(task.commands());
        self.set_state(RTCPeerConnectionState::Connecting);
        tokio::spawn(task.run());
    }

    /// A data channel section negotiated after the transports started (a renegotiation added
    /// it, or the first exchange was glare-resolved without it): the transport task starts
    /// SCTP on its DTLS session, with the DTLS role as negotiated.
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
        if let Some(commands) = inner.commands.as_ref() {
            // Full or gone: the task is closing, and SCTP with it.
            let _ = commands.try_send(Command::AddSctp { parameters });
        }
    }
}
