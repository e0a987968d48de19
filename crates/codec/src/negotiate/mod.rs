//! Offer/answer negotiation as pure functions: intersect one offered media section's codecs,
//! feedback and header extensions with our capabilities.

mod codecs;
mod extensions;

use std::borrow::Cow;

use crate::{
    Capabilities, Codec, CodecError, CodecRole, Direction, Explanation, Fmtp, MediaKind,
    RtcpFeedback,
};

/// One codec of an offered media section: `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` for one payload
/// type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedCodec {
    /// The payload type (values above 127 are rejected, not truncated).
    pub payload_type: u8,
    /// The codec with the offered fmtp.
    pub codec: Codec,
    /// `a=rtcp-fb:<pt> ...` entries for this payload type.
    pub rtcp_feedback: Vec<RtcpFeedback>,
}

impl OfferedCodec {
    /// An offered codec without feedback.
    pub fn new(payload_type: u8, codec: Codec) -> Self {
        Self {
            payload_type,
            codec,
            rtcp_feedback: Vec::new(),
        }
    }

    /// Builder: sets the feedback.
    #[must_use]
    pub fn with_feedback(mut self, rtcp_feedback: Vec<RtcpFeedback>) -> Self {
        self.rtcp_feedback = rtcp_feedback;
        self
    }
}

/// One offered `a=extmap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedHeaderExtension {
    /// The id (1..=14 one-byte, up to 255 two-byte).
    pub id: u16,
    /// The URI.
    pub uri: Cow<'static, str>,
    /// The direction as the offerer wrote it (`SendRecv` when absent).
    pub direction: Direction,
}

impl OfferedHeaderExtension {
    /// A send-and-receive extension.
    pub fn new(id: u16, uri: impl Into<Cow<'static, str>>) -> Self {
        Self {
            id,
            uri: uri.into(),
            direction: Direction::SendRecv,
        }
    }
}

/// The codec-related content of one offered media section (m-line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedMedia {
    /// The section's kind.
    pub kind: MediaKind,
    /// Codecs in m-line order.
    pub codecs: Vec<OfferedCodec>,
    /// `a=rtcp-fb:* ...` entries, which apply to every codec.
    pub rtcp_feedback_wildcard: Vec<RtcpFeedback>,
    /// Header extensions.
    pub header_extensions: Vec<OfferedHeaderExtension>,
}

impl OfferedMedia {
    /// An empty section of `kind`.
    pub fn new(kind: MediaKind) -> Self {
        Self {
            kind,
            codecs: Vec::new(),
            rtcp_feedback_wildcard: Vec::new(),
            header_extensions: Vec::new(),
        }
    }

    /// Checks the rules a well-formed codec list follows, for callers that want to refuse a bad
    /// offer outright rather than negotiate around it: payload types in range, not colliding
    /// with RTCP and unique; every rtx with an offered `apt`; every red reference offered.
    ///
    /// # Errors
    /// The first broken rule, as a [`CodecError`].
    pub fn validate(&self) -> Result<(), CodecError> {
        let mut seen = [false; 128];
        for offered in &self.codecs {
            let pt = offered.payload_type;
            check_payload_type(pt)?;
            let slot = seen
                .get_mut(usize::from(pt))
                .ok_or(CodecError::PayloadTypeOutOfRange {
                    payload_type: u16::from(pt),
                })?;
            if std::mem::replace(slot, true) {
                return Err(CodecError::DuplicatePayloadType { payload_type: pt });
            }
        }
        let is_offered = |pt: u8| self.codecs.iter().any(|c| c.payload_type == pt);
        for offered in &self.codecs {
            let pt = offered.payload_type;
            match offered.codec.role() {
                CodecRole::Retransmission => {
                    let apt = match codecs::parse_apt(&offered.codec.fmtp) {
                        codecs::Apt::Missing => {
                            return Err(CodecError::RtxMissingApt { payload_type: pt });
                        }
                        codecs::Apt::Invalid(value) => {
                            return Err(CodecError::InvalidParameterValue {
                                parameter: "apt",
                                value,
                                expected: "a payload type 0..=127",
                            });
                        }
                        codecs::Apt::PayloadType(apt) => apt,
                    };
                    if !is_offered(apt) {
                        return Err(CodecError::RtxAptNotOffered {
                            payload_type: pt,
                            apt,
                        });
                    }
                }
                CodecRole::Redundancy => {
                    for referenced in codecs::red_references(&offered.codec.fmtp)? {
                        if !is_offered(referenced) {
                            return Err(CodecError::RedPayloadTypeNotOffered {
                                payload_type: pt,
                                referenced,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

pub(crate) fn check_payload_type(payload_type: u8) -> Result<(), CodecError> {
    match payload_type {
        0..=71 | 77..=127 => Ok(()),
        72..=76 => Err(CodecError::PayloadTypeConflictsWithRtcp { payload_type }),
        _ => Err(CodecError::PayloadTypeOutOfRange {
            payload_type: u16::from(payload_type),
        }),
    }
}

/// How to negotiate: the direction of our answer and optional codec preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NegotiationOptions {
    /// The direction of our answer for this section, from our side. `SendRecv` needs codecs we
    /// can both send and receive; `SendOnly` codecs we can send; `RecvOnly` codecs we can
    /// receive; `Inactive` either.
    pub direction: Direction,
    /// RTCRtpTransceiver.setCodecPreferences: when not empty, only offered codecs compatible
    /// with one of these (rtx, red and FEC included) are accepted, in this order.
    pub codec_preferences: Vec<Codec>,
    /// Header extension ids 15..=255 need the two-byte header (RFC 8285 §4.3), which a WebRTC
    /// sender uses only when `a=extmap-allow-mixed` is negotiated; without it such ids are
    /// rejected with [`ExtensionRejection::NeedsTwoByteHeader`](crate::ExtensionRejection).
    /// Default: allowed.
    pub two_byte_header_ids: bool,
    /// Header extension ids already bound to a URI on the same RTP session (the other sections
    /// of a BUNDLE group, RFC 8843 §9.2): an offered extension that uses one of these ids for
    /// another URI is rejected with
    /// [`ExtensionRejection::IdBoundToOtherUri`](crate::ExtensionRejection).
    pub bound_extension_ids: Vec<(u16, Cow<'static, str>)>,
}

impl Default for NegotiationOptions {
    fn default() -> Self {
        Self {
            direction: Direction::SendRecv,
            codec_preferences: Vec::new(),
            two_byte_header_ids: true,
            bound_extension_ids: Vec::new(),
        }
    }
}

impl NegotiationOptions {
    /// Send-and-receive options without preferences.
    pub fn send_recv() -> Self {
        Self::default()
    }

    /// Builder: sets the direction.
    #[must_use]
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Builder: sets the codec preferences.
    #[must_use]
    pub fn with_codec_preferences(mut self, codec_preferences: Vec<Codec>) -> Self {
        self.codec_preferences = codec_preferences;
        self
    }

    /// Builder: whether header extension ids 15..=255 (two-byte header) may be used.
    #[must_use]
    pub fn with_two_byte_header_ids(mut self, allowed: bool) -> Self {
        self.two_byte_header_ids = allowed;
        self
    }

    /// Builder: header extension ids already bound to a URI on the same RTP session.
    #[must_use]
    pub fn with_bound_extension_ids(mut self, bound: Vec<(u16, Cow<'static, str>)>) -> Self {
        self.bound_extension_ids = bound;
        self
    }
}

/// One codec in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// The offerer's payload type, unchanged.
    pub payload_type: u8,
    /// The codec as it goes in our answer: offered name, clock rate and channels; our fmtp (H.264
    /// and H.265 levels computed, rtx `apt` and red references pointing at accepted payload
    /// types).
    pub codec: Codec,
    /// The offerer's fmtp, which describes what the offerer can receive, i.e. how to send.
    pub remote_fmtp: Fmtp,
    /// Feedback both sides support: offered (per payload type or `*`) and ours.
    pub rtcp_feedback: Vec<RtcpFeedback>,
}

/// One header extension in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedHeaderExtension {
    /// The offerer's id, unchanged.
    pub id: u16,
    /// The URI.
    pub uri: Cow<'static, str>,
    /// Our direction for it (the offered direction reversed, narrowed by ours).
    pub direction: Direction,
}

/// The result of negotiating one media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Accepted codecs, in offer order (or preference order when preferences are set).
    pub codecs: Vec<NegotiatedCodec>,
    /// Accepted header extensions, in offer order.
    pub header_extensions: Vec<NegotiatedHeaderExtension>,
    /// For every offered codec and extension, accepted or why not.
    pub explanation: Explanation,
}

impl Negotiated {
    /// True when at least one media codec (not rtx, red, FEC, CN or telephone-event) was accepted;
    /// otherwise the section must be rejected.
    pub fn has_media_codec(&self) -> bool {
        self.codecs
            .iter()
            .any(|c| c.codec.role() == CodecRole::Media)
    }
}

/// Negotiates one offered media section against our capabilities.
///
/// Keeps the offerer's payload types and ids, and the offer's order unless
/// `options.codec_preferences` is set. Never fails and never panics: every offered codec gets a
/// verdict in [`Negotiated::explanation`].
pub fn negotiate(
    offer: &OfferedMedia,
    local: &Capabilities,
    options: &NegotiationOptions,
) -> Negotiated {
    let (accepted, codec_verdicts) =
        codecs::negotiate_codecs(offer, local.of_kind(offer.kind), options);
    let codecs = accepted
        .into_iter()
        .filter_map(|accepted| {
            let offered = offer.codecs.get(accepted.index)?;
            Some(accepted.copying_from(offered, &offer.rtcp_feedback_wildcard))
        })
        .collect();
    let (accepted_extensions, extension_verdicts) = extensions::negotiate_extensions(
        &offer.header_extensions,
        &local.of_kind(offer.kind).header_extensions,
        options,
    );
    let header_extensions = accepted_extensions
        .into_iter()
        .filter_map(|(index, direction)| {
            let offered = offer.header_extensions.get(index)?;
            Some(NegotiatedHeaderExtension {
                id: offered.id,
                uri: offered.uri.clone(),
                direction,
            })
        })
        .collect();
    Negotiated {
        codecs,
        header_extensions,
        explanation: Explanation {
            codecs: codec_verdicts,
            header_extensions: extension_verdicts,
        },
    }
}

/// [`negotiate`], consuming the offer: what the answer keeps (codec names, the offered fmtp,
/// feedback, extension URIs) moves out of `offer` instead of being copied. The result is the
/// same.
pub fn negotiate_owned(
    offer: OfferedMedia,
    local: &Capabilities,
    options: &NegotiationOptions,
) -> Negotiated {
    let (accepted, codec_verdicts) =
        codecs::negotiate_codecs(&offer, local.of_kind(offer.kind), options);
    let (accepted_extensions, extension_verdicts) = extensions::negotiate_extensions(
        &offer.header_extensions,
        &local.of_kind(offer.kind).header_extensions,
        options,
    );
    let OfferedMedia {
        codecs: offered_codecs,
        rtcp_feedback_wildcard,
        header_extensions: offered_extensions,
        ..
    } = offer;
    // Each offered codec is accepted at most once, but in answer order, which preferences may
    // make differ from offer order: take them out of slots.
    let mut slots: Vec<Option<OfferedCodec>> = offered_codecs.into_iter().map(Some).collect();
    let codecs = accepted
        .into_iter()
        .filter_map(|accepted| {
            let offered = slots.get_mut(accepted.index)?.take()?;
            Some(accepted.moving_from(offered, &rtcp_feedback_wildcard))
        })
        .collect();
    // Extensions are accepted in offer order.
    let mut accepted_extensions = accepted_extensions.into_iter().peekable();
    let header_extensions = offered_extensions
        .into_iter()
        .enumerate()
        .filter_map(|(index, offered)| {
            let (_, direction) = accepted_extensions.next_if(|(i, _)| *i == index)?;
            Some(NegotiatedHeaderExtension {
                id: offered.id,
                uri: offered.uri,
                direction,
            })
        })
        .collect();
    Negotiated {
        codecs,
        header_extensions,
        explanation: Explanation {
            codecs: codec_verdicts,
            header_extensions: extension_verdicts,
        },
    }
}
