//! Data channels on the connection's SCTP association (`createDataChannel`, the remote's
//! channels), and the start of DTLS and SCTP in the core once negotiation completes.

use std::sync::Arc;
use std::time::Instant;

use super::RTCPeerConnection;
use super::task::PeerTask;
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit, RTCDataChannelState};
use crate::error::{Error, InvalidStateReason};
use crate::events::RTCPeerConnectionState;
use crate::sctp::{SctpParameters, SctpTransport};
use crate::setup::{StartPlan, wait_for_published};
use crate::signaling::RTCSignalingState;

impl RTCPeerConnection {
    /// `createDataChannel(label, init)`: the channel at once, in `connecting` state. The
    /// arguments are checked now (TypeError for exclusive reliability settings or a negotiated
    /// channel without id); if no data channel section is negotiated yet, the next offer
    /// carries one (`negotiationneeded` fires). The channel gets its stream id once the DTLS
    /// role is known and opens when SCTP is up and DCEP has run;
    /// [`RTCDataChannel::opened`] waits for that (the W3C `open` event).
    pub async fn create_data_channel(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<RTCDataChannel, Error> {
        init.check()?;
        let label = label.to_owned();
        self.try_call(move |task, now| task.create_data_channel(now, label, init))
            .await
    }

    /// The next data channel the remote opened (the `datachannel` event, also reported as
    /// [`PeerConnectionEvent::DataChannel`](crate::PeerConnectionEvent::DataChannel)); `None`
    /// once the connection is closed or failed.
    pub async fn accept_data_channel(&self) -> Option<RTCDataChannel> {
        // Ends when the connection closes or fails: the task then withdraws the association,
        // and with it the queue of remote channels.
        let sctp = self.sctp_transport().await.ok()?;
        sctp.accept().await
    }

    pub(super) async fn sctp_transport(&self) -> Result<Arc<SctpTransport>, Error> {
        wait_for_published(self.sctp.subscribe(), self.state.subscribe()).await
    }
}

impl PeerTask {
    /// `createDataChannel`: a `connecting` channel, opened on the association if SCTP runs,
    /// else kept (and a data section asked for) until it does.
    pub(crate) fn create_data_channel(
        &mut self,
        now: Instant,
        label: String,
        init: RTCDataChannelInit,
    ) -> Result<RTCDataChannel, Error> {
        if self.negotiator.signaling_state() == RTCSignalingState::Closed {
            return Err(Error::InvalidState(InvalidStateReason::Closed));
        }
        let (channel, inbound) =
            RTCDataChannel::connecting(label, init, self.hub.commands(), self.hub.progress());
        if self.sctp_started {
            if let Some(secure) = self.ice.as_mut().and_then(|path| path.core.secure().ok()) {
                self.hub.attach(now, secure, channel.clone(), inbound);
            } else {
                channel.shared.advance_to(RTCDataChannelState::Closed);
            }
        } else {
            self.negotiator.request_data_channel()?;
            self.update_negotiation_needed();
            self.pending_channels.push((channel.clone(), inbound));
        }
        Ok(channel)
    }

    /// SCTP started: the channels created before open on it.
    fn attach_pending_channels(&mut self, now: Instant) {
        let Some(secure) = self.ice.as_mut().and_then(|path| path.core.secure().ok()) else {
            return;
        };
        for (channel, inbound) in self.pending_channels.drain(..) {
            self.hub.attach(now, secure, channel, inbound);
        }
    }

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
        if sctp {
            self.attach_pending_channels(now);
        }
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
        self.attach_pending_channels(now);
    }
}
