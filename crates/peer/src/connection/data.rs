//! Data channels on the connection's SCTP association (`createDataChannel`, the remote's
//! channels), and the start of DTLS and SCTP in the transports once negotiation completes.

use std::time::Instant;

use super::RTCPeerConnection;
use super::network::Network;
use super::task::PeerTask;
use crate::data_channel::{RTCDataChannel, RTCDataChannelInit, RTCDataChannelState};
use crate::error::{Error, InvalidStateReason};
use crate::events::RTCPeerConnectionState;
use crate::setup::TransportPlan;
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
}

impl<N: Network> PeerTask<N> {
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
            if let Some(secure) = super::task::sctp_secure(&mut self.paths) {
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
        let Some(index) = super::task::sctp_path(&self.paths) else {
            return;
        };
        let PeerTask {
            paths,
            hub,
            pending_channels,
            ..
        } = self;
        let Ok(secure) = paths[index].core.secure() else {
            return;
        };
        for (channel, inbound) in pending_channels.drain(..) {
            hub.attach(now, secure, channel, inbound);
        }
    }

    /// After a complete offer/answer: the negotiated transports stay (the others close), DTLS
    /// starts on each new one (its client once ICE has a path), and SCTP on the data section's
    /// once a data section is negotiated (the first exchange, or a later one that added it).
    pub(crate) fn start_transports(&mut self, now: Instant, plans: Vec<TransportPlan>) {
        self.settle_paths(now, &plans);
        let mut started = false;
        for plan in plans {
            let Some(index) = plan.sections.first().and_then(|&s| self.path_of(s)) else {
                continue;
            };
            let core = &mut self.paths[index].core;
            let sctp = plan.start.sctp;
            if core.is_started() {
                match sctp {
                    Some(parameters) if !self.sctp_started => {
                        core.add_sctp(now, parameters);
                        self.sctp_started = true;
                    }
                    _ => {}
                }
                continue;
            }
            if let Err(error) = core.start_secure(now, plan.start) {
                tracing::warn!(%error, "transport not started");
                self.outputs.set_state(RTCPeerConnectionState::Failed);
                return;
            }
            started = true;
            self.sctp_started |= sctp.is_some();
        }
        if started {
            self.outputs.set_state(RTCPeerConnectionState::Connecting);
        }
        if self.sctp_started {
            self.attach_pending_channels(now);
        }
    }
}
