//! The connection's states, descriptions and transceivers, as the W3C attributes read them.

use antiphon_codec::{Direction, MediaKind};
use antiphon_dtls::Certificate;
use antiphon_ice::{IceConnectionState, IceGatheringState};

use std::sync::Arc;

use super::RTCPeerConnection;
use super::network::Network;
use super::task::PeerTask;
use super::transports::TransportPath;
use crate::description::RTCSessionDescriptionInit;
use crate::driver::DtlsInfo;
use crate::error::Error;
use crate::events::{PeerConnectionEvents, RTCPeerConnectionState};
use crate::negotiator::{AppliedDescription, Negotiator};
use crate::sctp::SctpTransport;
use crate::signaling::RTCSignalingState;
use crate::stats::{self, DtlsSnapshot, RTCStatsReport, StatsInput, TransportInput};
use crate::transceiver::{
    MediaStreamTrack, RTCRtpTransceiver, RTCRtpTransceiverInit, TransceiverId,
};

impl RTCPeerConnection {
    /// Subscribes to the connection's events: every event from now on, in order, none dropped
    /// (see [`PeerConnectionEvents`]).
    pub fn subscribe(&self) -> PeerConnectionEvents {
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
        self.call(|task, _| task.negotiator.signaling_state())
            .await
            .unwrap_or(RTCSignalingState::Closed)
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
    pub(super) async fn description(
        &self,
        pick: fn(&Negotiator) -> Option<&AppliedDescription>,
    ) -> Option<RTCSessionDescriptionInit> {
        self.call(move |task, _| pick(&task.negotiator).map(AppliedDescription::to_init))
            .await
            .flatten()
    }

    /// `iceGatheringState`: `new` until the first description binds the sockets, `complete`
    /// once host candidates and the configured STUN servers' answers (or their timeouts) are in.
    pub async fn ice_gathering_state(&self) -> IceGatheringState {
        self.call(|task, _| task.gathering_state)
            .await
            .unwrap_or(IceGatheringState::Complete)
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
            if events.recv().await.is_none() {
                return;
            }
        }
    }

    /// `iceConnectionState`.
    pub async fn ice_connection_state(&self) -> IceConnectionState {
        self.call(|task, _| task.ice_state())
            .await
            .unwrap_or(IceConnectionState::Closed)
    }

    /// `RTCRtpTransceiver.setCodecPreferences(codecs)` for the transceiver `id`: its codecs in
    /// this order, in the next offer or answer.
    pub async fn set_codec_preferences(
        &self,
        id: TransceiverId,
        codecs: Vec<antiphon_codec::Codec>,
    ) -> Result<(), Error> {
        self.try_call(move |task, _| task.negotiator.set_codec_preferences(id, codecs))
            .await
    }

    /// `getTransceivers()`: a snapshot of every transceiver, in creation order.
    pub async fn get_transceivers(&self) -> Vec<RTCRtpTransceiver> {
        self.call(|task, _| task.negotiator.transceivers().to_vec())
            .await
            .unwrap_or_default()
    }

    /// `RTCRtpTransceiver.direction = direction` for the transceiver `id`; a change that the
    /// current description does not carry fires `negotiationneeded`.
    pub async fn set_direction(
        &self,
        id: TransceiverId,
        direction: Direction,
    ) -> Result<(), Error> {
        self.try_call(move |task, _| {
            task.negotiator.set_direction(id, direction)?;
            task.update_negotiation_needed();
            Ok(())
        })
        .await
    }

    /// `RTCRtpTransceiver.stop()` for the transceiver `id`: its section is rejected (port 0) in
    /// the next offer or answer, which `negotiationneeded` asks for.
    pub async fn stop_transceiver(&self, id: TransceiverId) -> Result<(), Error> {
        self.try_call(move |task, _| {
            task.negotiator.stop_transceiver(id)?;
            task.update_negotiation_needed();
            Ok(())
        })
        .await
    }

    /// The certificate whose fingerprint our descriptions carry.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The DTLS association once its handshake is done: our role, the peer's certificate
    /// (W3C `getRemoteCertificates()`), the SRTP profile and keys; `None` before and after.
    pub fn dtls_info(&self) -> Option<Arc<DtlsInfo>> {
        self.dtls.borrow().clone()
    }

    /// `addTrack(track, ...streams)`.
    pub async fn add_track(
        &self,
        track: MediaStreamTrack,
        stream_ids: Vec<String>,
    ) -> Result<TransceiverId, Error> {
        self.try_call(move |task, _| {
            let id = task.negotiator.add_track(track, stream_ids)?;
            task.update_negotiation_needed();
            Ok(id)
        })
        .await
    }

    /// `addTransceiver(kind, init)`.
    pub async fn add_transceiver(
        &self,
        kind: MediaKind,
        init: RTCRtpTransceiverInit,
    ) -> Result<TransceiverId, Error> {
        self.try_call(move |task, _| {
            let id = task.negotiator.add_transceiver(kind, init)?;
            task.update_negotiation_needed();
            Ok(id)
        })
        .await
    }

    /// `getStats()`: the W3C reports of the connection, its transport, candidate pairs,
    /// candidates, certificates and data channels (see [`RTCStatsReport`]).
    pub async fn get_stats(&self) -> RTCStatsReport {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let state = self.connection_state();
        let sctp = self.sctp.borrow().clone();
        let certificate = self.certificate.clone();
        let report = self
            .call(move |task, now| task.stats(now, timestamp, state, sctp.as_deref(), &certificate))
            .await;
        report.unwrap_or_else(|| {
            stats::report(&StatsInput {
                timestamp,
                transports: vec![TransportInput {
                    ice: None,
                    traffic: &[],
                    dtls: DtlsSnapshot {
                        state: "closed",
                        established: None,
                    },
                }],
                certificate: &self.certificate,
                channels: &[],
                channels_opened: 0,
                rtp: Vec::new(),
            })
        })
    }
}

impl<N: Network> PeerTask<N> {
    /// The getStats report now: a `transport` report per transport (one `closed` one after
    /// `close()`, one `new` one before the first description).
    fn stats(
        &self,
        now: std::time::Instant,
        timestamp: f64,
        state: RTCPeerConnectionState,
        sctp: Option<&SctpTransport>,
        certificate: &Certificate,
    ) -> RTCStatsReport {
        let dtls_state = |path: Option<&TransportPath<N::Sockets>>| match (path, state) {
            (_, RTCPeerConnectionState::Closed) => "closed",
            (Some(path), _) if path.dtls.is_some() => "connected",
            (_, RTCPeerConnectionState::Failed) => "failed",
            (Some(path), _) if path.core.is_started() => "connecting",
            _ => "new",
        };
        let (channels, channels_opened) = sctp.map(SctpTransport::channels).unwrap_or_default();
        let ice: Vec<_> = self.paths.iter().map(|p| p.core.agent().stats()).collect();
        let mut transports: Vec<TransportInput<'_>> = self
            .paths
            .iter()
            .zip(&ice)
            .map(|(path, ice)| TransportInput {
                ice: Some(ice),
                traffic: path.core.traffic(),
                dtls: DtlsSnapshot {
                    state: dtls_state(Some(path)),
                    established: path
                        .dtls
                        .as_ref()
                        .map(|s| (s.role, s.peer_certificate.clone())),
                },
            })
            .collect();
        if transports.is_empty() {
            transports.push(TransportInput {
                ice: None,
                traffic: &[],
                dtls: DtlsSnapshot {
                    state: dtls_state(None),
                    established: None,
                },
            });
        }
        stats::report(&StatsInput {
            timestamp,
            transports,
            certificate,
            channels: &channels,
            channels_opened,
            rtp: self.rtp_stats(now, timestamp),
        })
    }
}
