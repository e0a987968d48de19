//! What a connection reports: its states and the W3C events, and the trickled candidate form.

use antiphon_ice::{IceConnectionState, IceGatheringState};
use tokio::sync::{broadcast, watch};

use crate::data_channel::RTCDataChannel;
use crate::signaling::RTCSignalingState;

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
    /// `negotiationneeded`: something changed that needs an offer/answer exchange (fired in
    /// `stable`, once until an exchange completes).
    NegotiationNeeded,
}

/// Moves the connection state to `new` and emits `connectionstatechange` if it changed;
/// `closed` is final.
pub(crate) fn publish_state(
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
