//! What a connection reports: its states and the W3C events, and the trickled candidate form.

use antiphon_ice::{IceConnectionState, IceGatheringState};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

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
    /// `track`: a remote description says the peer sends media on a section (W3C "process the
    /// addition of a remote track"), once until a later one says it stopped.
    Track(RTCTrackEvent),
    /// `icecandidateerror`: a STUN or TURN server gave no candidate (a refused allocation, a
    /// server that does not answer, a TLS certificate that does not verify).
    IceCandidateError(RTCPeerConnectionIceErrorEvent),
}

/// What the `icecandidateerror` event says (W3C `RTCPeerConnectionIceErrorEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RTCPeerConnectionIceErrorEvent {
    /// The local address the server was asked from (the host socket, or the TCP/TLS stream's
    /// address).
    pub address: Option<std::net::IpAddr>,
    /// Its port.
    pub port: Option<u16>,
    /// The server's URL as configured.
    pub url: String,
    /// The STUN error code the server answered, or 701 when it could not be reached (no
    /// answer, the connection or its TLS handshake failed).
    pub error_code: u16,
    /// Why, in words.
    pub error_text: String,
}

/// What the `track` event says: which transceiver receives, and the remote track's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RTCTrackEvent {
    /// The transceiver that receives it.
    pub transceiver: Option<crate::TransceiverId>,
    /// The section's mid.
    pub mid: String,
    /// Audio or video.
    pub kind: antiphon_codec::MediaKind,
    /// The remote track's id (`a=msid` appdata), if the description names one.
    pub track_id: Option<String>,
    /// The remote MediaStream ids (`a=msid`; `-` means none).
    pub stream_ids: Vec<String>,
}

/// Moves the connection state to `new` and emits `connectionstatechange` if it changed;
/// `closed` is final.
pub(crate) fn publish_state(
    state: &watch::Sender<RTCPeerConnectionState>,
    events: &EventSender,
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
        events.send(PeerConnectionEvent::ConnectionState(new));
    }
}

/// The connection's events as one subscriber receives them ([`subscribe`]): every event
/// emitted after it subscribed, in order, none dropped. Each subscriber has a queue of its own;
/// what it has not read yet waits for it (a connection emits tens of events in its life: state
/// changes, candidates, channels). Ends with `None` once the connection is closed (after the
/// events `close()` emits) or gone.
///
/// [`subscribe`]: crate::RTCPeerConnection::subscribe
#[derive(Debug)]
pub struct PeerConnectionEvents {
    receiver: mpsc::UnboundedReceiver<QueuedEvent>,
}

/// An event in a subscriber's queue. Boxed: the queue allocates its first 32 slots when it is
/// made, and events are few and large (96 bytes), so that a subscription on an idle
/// connection holds 256 bytes of slots, not 3 KiB.
type QueuedEvent = Box<PeerConnectionEvent>;

impl PeerConnectionEvents {
    /// The next event; `None` once the connection is closed or gone and every event was read.
    pub async fn recv(&mut self) -> Option<PeerConnectionEvent> {
        self.receiver.recv().await.map(|event| *event)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<PeerConnectionEvent> {
        self.receiver.try_recv().ok().map(|event| *event)
    }

    /// The next `datachannel` event's channel (one the remote opened), skipping the other
    /// events; `None` once the connection is closed or gone. Subscribe before the remote can open one
    /// (before the offer/answer exchange), as a page sets `ondatachannel` first.
    pub async fn next_data_channel(&mut self) -> Option<RTCDataChannel> {
        loop {
            if let PeerConnectionEvent::DataChannel(channel) = self.recv().await? {
                return Some(channel);
            }
        }
    }
}

/// Where a connection's events go: every live subscriber's queue. Clones share the list.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventSender {
    subscribers: Arc<Mutex<Subscribers>>,
}

#[derive(Debug, Default)]
struct Subscribers {
    queues: Vec<mpsc::UnboundedSender<QueuedEvent>>,
    /// The connection closed: no event follows, every stream ends.
    ended: bool,
}

impl EventSender {
    /// Hands `event` to every subscriber; those gone are forgotten.
    pub(crate) fn send(&self, event: PeerConnectionEvent) {
        let mut subscribers = self.lock();
        subscribers
            .queues
            .retain(|subscriber| subscriber.send(Box::new(event.clone())).is_ok());
    }

    /// A new subscriber, from the next event on (a stream that ends at once after
    /// [`end`](Self::end)).
    pub(crate) fn subscribe(&self) -> PeerConnectionEvents {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut subscribers = self.lock();
        if !subscribers.ended {
            subscribers.queues.push(sender);
        }
        PeerConnectionEvents { receiver }
    }

    /// The connection closed (`close()`): every stream ends after the events it holds.
    pub(crate) fn end(&self) {
        let mut subscribers = self.lock();
        subscribers.ended = true;
        subscribers.queues.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Subscribers> {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_that_reads_late_misses_nothing_and_a_gone_one_is_forgotten() {
        let events = EventSender::default();
        let mut early = events.subscribe();
        let gone = events.subscribe();
        drop(gone);
        // Far more than the 16 slots the broadcast channel had: none is dropped.
        for _ in 0..1_000 {
            events.send(PeerConnectionEvent::NegotiationNeeded);
        }
        let mut late = events.subscribe();
        events.send(PeerConnectionEvent::ConnectionState(
            RTCPeerConnectionState::Closed,
        ));
        let mut count = 0;
        while let Some(event) = early.try_recv() {
            count += 1;
            if count <= 1_000 {
                assert!(matches!(event, PeerConnectionEvent::NegotiationNeeded));
            }
        }
        assert_eq!(count, 1_001);
        assert!(matches!(
            late.try_recv(),
            Some(PeerConnectionEvent::ConnectionState(
                RTCPeerConnectionState::Closed
            ))
        ));
        assert!(late.try_recv().is_none());
        assert_eq!(
            events.lock().queues.len(),
            2,
            "the dropped subscriber is gone"
        );
        drop(events);
        assert!(early.try_recv().is_none());
    }

    #[tokio::test]
    async fn every_stream_ends_once_the_connection_closed() {
        let events = EventSender::default();
        let mut before = events.subscribe();
        events.send(PeerConnectionEvent::NegotiationNeeded);
        events.end();
        events.send(PeerConnectionEvent::NegotiationNeeded);
        assert!(matches!(
            before.recv().await,
            Some(PeerConnectionEvent::NegotiationNeeded)
        ));
        assert!(before.recv().await.is_none(), "nothing after end()");
        let mut after = events.subscribe();
        assert!(after.recv().await.is_none());
    }
}
