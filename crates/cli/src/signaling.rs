//! The messages of `antiphon serve`'s signaling WebSocket, both ways, each a JSON text frame
//! with a `type`: one serde enum for what the page sends ([`PageMessage`]) and one for what
//! Antiphon sends ([`ServerMessage`]). The README lists them.

use antiphon_peer::{MediaStats, RTCIceCandidateInit, RTCStatsReport};
use serde::{Deserialize, Serialize};

/// What the page sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum PageMessage {
    /// An offer (browser JSON): the first creates the connection, later ones (ICE restart,
    /// renegotiation) go to the same one.
    Offer { sdp: String },
    /// The page's answer to an offer of Antiphon's.
    Answer { sdp: String },
    /// A trickled candidate; `null` (or an empty candidate) is end-of-candidates.
    Candidate {
        #[serde(default)]
        candidate: Option<RTCIceCandidateInit>,
    },
    /// Asks for Antiphon's `getStats()`.
    GetStats,
    /// Antiphon adds a `recvonly` transceiver of this kind and offers itself.
    AddTransceiver { kind: TransceiverKind },
    /// A line the server prints as `browser: ...`.
    Log {
        #[serde(default)]
        text: String,
    },
}

/// The kind in `addTransceiver`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TransceiverKind {
    Audio,
    Video,
}

/// What Antiphon sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum ServerMessage<'a> {
    /// The answer to the page's last offer.
    Answer { sdp: &'a str },
    /// Antiphon's own offer (on `negotiationneeded`).
    Offer { sdp: &'a str },
    /// One of Antiphon's candidates, after the description it belongs to; `null` is
    /// end-of-candidates.
    Candidate {
        candidate: Option<&'a RTCIceCandidateInit>,
    },
    /// Antiphon's W3C stats, and its media figures beyond them (the browser's congestion
    /// feedback, unrouted RTP, SRTP counters).
    Stats {
        report: &'a RTCStatsReport,
        media: MediaStats,
    },
    /// Antiphon's `RTCPeerConnectionState` or ICE connection state changed.
    State {
        #[serde(skip_serializing_if = "Option::is_none")]
        connection: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ice: Option<String>,
    },
    /// A message was refused; the WebSocket stays open.
    Error(Refusal),
}

impl ServerMessage<'_> {
    /// The JSON text frame.
    pub(crate) fn to_json(&self) -> String {
        // Serializing these types cannot fail (string keys, no maps of other keys).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a message was refused: what it was about, the W3C error name when a call refused it,
/// the reason, and for SDP that does not parse, its line and column.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refusal {
    /// `offer`, `answer`, `candidate`, `getStats`, `addTransceiver` or `message` (one that is
    /// not JSON, or not one of the page's messages).
    pub(crate) about: &'static str,
    /// `InvalidStateError`, `RTCError`, ... (W3C), when the connection refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'static str>,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) column: Option<usize>,
}

impl Refusal {
    /// Refused by the server itself (no W3C name).
    pub(crate) fn new(about: &'static str, message: impl Into<String>) -> Self {
        Self {
            about,
            name: None,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// With a W3C error name (`QuotaExceededError` for a limit of the server's).
    pub(crate) fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// Refused by the connection: its W3C name and, for SDP that does not parse, the place.
    pub(crate) fn from_error(about: &'static str, error: &antiphon_peer::Error) -> Self {
        let (line, column) = match error {
            antiphon_peer::Error::SdpSyntax(sdp) => (sdp.line(), sdp.column()),
            _ => (None, None),
        };
        Self {
            about,
            name: Some(error.name()),
            message: error.to_string(),
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_messages_read_as_browsers_send_them() {
        let offer: PageMessage =
            serde_json::from_str(r#"{"type":"offer","sdp":"v=0\r\n"}"#).expect("an offer");
        assert!(matches!(offer, PageMessage::Offer { sdp } if sdp == "v=0\r\n"));
        let end: PageMessage =
            serde_json::from_str(r#"{"type":"candidate","candidate":null}"#).expect("end");
        assert!(matches!(end, PageMessage::Candidate { candidate: None }));
        let kind: PageMessage =
            serde_json::from_str(r#"{"type":"addTransceiver","kind":"video"}"#).expect("kind");
        assert!(matches!(
            kind,
            PageMessage::AddTransceiver {
                kind: TransceiverKind::Video
            }
        ));
        assert!(matches!(
            serde_json::from_str::<PageMessage>(r#"{"type":"getStats"}"#),
            Ok(PageMessage::GetStats)
        ));
        let unknown = serde_json::from_str::<PageMessage>(r#"{"type":"nonsense"}"#)
            .expect_err("unknown")
            .to_string();
        assert!(unknown.contains("nonsense"), "{unknown}");
        assert!(serde_json::from_str::<PageMessage>(r#"{"type":"offer"}"#).is_err());
    }

    #[test]
    fn server_messages_write_the_documented_json() {
        assert_eq!(
            ServerMessage::Answer { sdp: "v=0" }.to_json(),
            r#"{"type":"answer","sdp":"v=0"}"#
        );
        assert_eq!(
            ServerMessage::State {
                connection: Some("connected".into()),
                ice: None
            }
            .to_json(),
            r#"{"type":"state","connection":"connected"}"#
        );
        assert_eq!(
            ServerMessage::Candidate { candidate: None }.to_json(),
            r#"{"type":"candidate","candidate":null}"#
        );
        let refused = ServerMessage::Error(Refusal::new("message", "not JSON")).to_json();
        assert_eq!(
            refused,
            r#"{"type":"error","about":"message","message":"not JSON"}"#
        );
    }
}
