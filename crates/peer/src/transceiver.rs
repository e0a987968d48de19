//! `RTCRtpTransceiver`: the local media description of one m= section.

use antiphon_codec::{Codec, Direction, MediaKind};

#[cfg(feature = "runtime")]
use crate::answer::{LocalSection, LocalSender};

/// Identifies a transceiver of one [`crate::RTCPeerConnection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransceiverId(pub(crate) usize);

impl TransceiverId {
    /// The position of the transceiver in [`crate::Negotiator::transceivers`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// A local track to send (`MediaStreamTrack` as the negotiation sees it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaStreamTrack {
    /// The track id (`a=msid` appdata).
    pub id: String,
    /// Audio or video.
    pub kind: MediaKind,
}

/// `RTCRtpTransceiverInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RTCRtpTransceiverInit {
    /// The initial direction.
    pub direction: Direction,
    /// The MediaStream ids the sender's track belongs to.
    pub stream_ids: Vec<String>,
    /// The rids of the send encodings, for simulcast; empty = one encoding.
    pub send_rids: Vec<String>,
}

/// Builders: `RTCRtpTransceiverInit::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl RTCRtpTransceiverInit {
    /// The same, with [`direction`](Self::direction) set.
    #[must_use]
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// The same, with [`stream_ids`](Self::stream_ids) set.
    #[must_use]
    pub fn with_stream_ids(mut self, stream_ids: Vec<String>) -> Self {
        self.stream_ids = stream_ids;
        self
    }

    /// The same, with [`send_rids`](Self::send_rids) set.
    #[must_use]
    pub fn with_send_rids(mut self, send_rids: Vec<String>) -> Self {
        self.send_rids = send_rids;
        self
    }
}

impl Default for RTCRtpTransceiverInit {
    fn default() -> Self {
        Self {
            direction: Direction::SendRecv,
            stream_ids: Vec::new(),
            send_rids: Vec::new(),
        }
    }
}

/// A snapshot of a transceiver's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RTCRtpTransceiver {
    /// Its id in the connection.
    pub id: TransceiverId,
    /// The mid of its m= section, once negotiated.
    pub mid: Option<String>,
    /// Audio or video.
    pub kind: MediaKind,
    /// The direction the application asked for.
    pub direction: Direction,
    /// The negotiated direction, after an answer was applied.
    pub current_direction: Option<Direction>,
    /// Stopped: its section is rejected in later negotiations.
    pub stopped: bool,
    /// `setCodecPreferences`.
    pub codec_preferences: Vec<Codec>,
    /// The track it sends, if any.
    pub track: Option<MediaStreamTrack>,
    /// The MediaStream ids of the sender.
    pub stream_ids: Vec<String>,
    /// The send encodings' rids.
    pub send_rids: Vec<String>,
    /// The media SSRC of the sender.
    pub(crate) ssrc: u32,
    /// The retransmission SSRC of the sender.
    pub(crate) rtx_ssrc: u32,
    /// Created by `setRemoteDescription` rather than by the application.
    pub(crate) created_by_remote: bool,
    /// `replaceTrack(null)`: the sender sends nothing until a track replaces it again (its
    /// track stays, for the `a=msid` the descriptions announce).
    pub(crate) replaced_by_nothing: bool,
}

impl RTCRtpTransceiver {
    /// The answer's view of this transceiver.
    #[cfg(feature = "runtime")]
    pub(crate) fn local_section(&self, cname: &str) -> LocalSection {
        LocalSection {
            direction: self.direction,
            stopped: self.stopped,
            codec_preferences: self.codec_preferences.clone(),
            sender: self.track.as_ref().map(|track| LocalSender {
                stream_ids: self.stream_ids.clone(),
                track_id: track.id.clone(),
                cname: cname.to_owned(),
                ssrc: self.ssrc,
                rtx_ssrc: Some(self.rtx_ssrc),
                rids: (!self.send_rids.is_empty()).then(|| self.send_rids.clone()),
            }),
        }
    }
}
