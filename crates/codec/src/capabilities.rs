//! What an endpoint can send and receive (RTCRtpSender/RTCRtpReceiver.getCapabilities).

use std::borrow::Cow;

use crate::{Codec, Direction, MediaKind, RtcpFeedback};

/// One codec we support, with the feedback we support for it and whether we can send it,
/// receive it, or both (getCapabilities('sender') versus getCapabilities('receiver')).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecCapability {
    /// The codec, its fmtp describing what we accept (for H.264, our profile and highest level).
    pub codec: Codec,
    /// The RTCP feedback we support with this codec.
    pub rtcp_feedback: Vec<RtcpFeedback>,
    /// Whether we can encode (send), decode (receive), or both.
    pub direction: Direction,
    /// The payload type we would put in our own offer (ORTC's preferredPayloadType); answers
    /// always keep the offerer's payload types.
    pub preferred_payload_type: Option<u8>,
}

impl CodecCapability {
    /// A send-and-receive capability without feedback or preferred payload type.
    pub fn new(codec: Codec) -> Self {
        Self {
            codec,
            rtcp_feedback: Vec::new(),
            direction: Direction::SendRecv,
            preferred_payload_type: None,
        }
    }

    /// Builder: sets the supported feedback.
    #[must_use]
    pub fn with_feedback(mut self, rtcp_feedback: Vec<RtcpFeedback>) -> Self {
        self.rtcp_feedback = rtcp_feedback;
        self
    }

    /// Builder: sets the direction.
    #[must_use]
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Builder: sets the preferred payload type.
    #[must_use]
    pub fn with_preferred_payload_type(mut self, payload_type: u8) -> Self {
        self.preferred_payload_type = Some(payload_type);
        self
    }
}

/// One RTP header extension we support (RTCRtpHeaderExtensionCapability plus the direction of
/// RTCRtpTransceiver.getHeaderExtensionsToNegotiate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderExtensionCapability {
    /// The extension URI.
    pub uri: Cow<'static, str>,
    /// Whether we can write it (send), read it (receive), or both; `Inactive` never negotiates.
    pub direction: Direction,
    /// The id we would put in our own offer; answers keep the offerer's ids.
    pub preferred_id: Option<u8>,
}

impl HeaderExtensionCapability {
    /// A send-and-receive extension.
    pub fn new(uri: impl Into<Cow<'static, str>>, preferred_id: Option<u8>) -> Self {
        Self {
            uri: uri.into(),
            direction: Direction::SendRecv,
            preferred_id,
        }
    }
}

/// The codecs and header extensions of one kind, in preference order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaCapabilities {
    /// Codecs, most preferred first.
    pub codecs: Vec<CodecCapability>,
    /// Header extensions.
    pub header_extensions: Vec<HeaderExtensionCapability>,
}

impl MediaCapabilities {
    /// Only what we can do in `direction` (e.g. `SendOnly` gives getCapabilities('sender')).
    pub fn restricted_to(&self, direction: Direction) -> Self {
        Self {
            codecs: self
                .codecs
                .iter()
                .filter(|c| c.direction.covers(direction))
                .cloned()
                .collect(),
            header_extensions: self
                .header_extensions
                .iter()
                .filter(|e| e.direction.covers(direction))
                .cloned()
                .collect(),
        }
    }
}

/// Everything we can send and receive: audio and video capabilities.
///
/// Start from [`Capabilities::browser_default`] (what Chrome supports) or build your own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Audio codecs and header extensions.
    pub audio: MediaCapabilities,
    /// Video codecs and header extensions.
    pub video: MediaCapabilities,
}

impl Capabilities {
    /// The capabilities of one kind.
    pub fn of_kind(&self, kind: MediaKind) -> &MediaCapabilities {
        match kind {
            MediaKind::Audio => &self.audio,
            MediaKind::Video => &self.video,
        }
    }

    /// Mutable capabilities of one kind.
    pub fn of_kind_mut(&mut self, kind: MediaKind) -> &mut MediaCapabilities {
        match kind {
            MediaKind::Audio => &mut self.audio,
            MediaKind::Video => &mut self.video,
        }
    }

    /// What we can send of `kind`: W3C RTCRtpSender.getCapabilities(kind).
    pub fn sender(&self, kind: MediaKind) -> MediaCapabilities {
        self.of_kind(kind).restricted_to(Direction::SendOnly)
    }

    /// What we can receive of `kind`: W3C RTCRtpReceiver.getCapabilities(kind).
    pub fn receiver(&self, kind: MediaKind) -> MediaCapabilities {
        self.of_kind(kind).restricted_to(Direction::RecvOnly)
    }
}
