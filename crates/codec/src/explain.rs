//! Why each offered codec and header extension was accepted or rejected.

use std::borrow::Cow;
use std::fmt;

use crate::{CodecError, Direction, MediaKind};

/// Why an offered codec is not in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionReason {
    /// The payload type is above 127.
    PayloadTypeOutOfRange,
    /// The payload type is in 72..=76, which collides with RTCP under rtcp-mux (RFC 5761).
    PayloadTypeConflictsWithRtcp,
    /// An earlier codec in the list already uses this payload type.
    DuplicatePayloadType,
    /// The codec's kind differs from the media section's.
    WrongMediaKind {
        /// The media section's kind.
        section: MediaKind,
    },
    /// We support no codec with this encoding name for this kind.
    UnsupportedMimeType,
    /// We support the encoding name, but not at this clock rate.
    ClockRateMismatch,
    /// We support the encoding name and clock rate, but not this channel count.
    ChannelsMismatch,
    /// A format parameter we need to read is malformed.
    InvalidFmtp(CodecError),
    /// A format parameter that decides compatibility differs from everything we support.
    FmtpMismatch {
        /// The deciding parameter, e.g. `profile-level-id` or `packetization-mode`.
        parameter: &'static str,
        /// Its offered value, `None` when absent (and so defaulted).
        offered: Option<String>,
    },
    /// We support the codec, but not in the direction this section needs.
    DirectionNotSupported {
        /// The direction the section needs.
        needed: Direction,
    },
    /// Codec preferences are set and do not include this codec.
    ExcludedByPreferences,
    /// An rtx codec without `apt`.
    RtxMissingApt,
    /// An rtx codec whose `apt` is not a payload type (or points at another rtx).
    RtxInvalidApt {
        /// The `apt` value as written.
        value: String,
    },
    /// An rtx codec whose `apt` names a payload type not in the offer.
    RtxAptNotOffered {
        /// The associated payload type.
        apt: u8,
    },
    /// An rtx codec whose associated codec was rejected.
    RtxPrimaryRejected {
        /// The associated payload type.
        apt: u8,
    },
    /// An rtx codec whose clock rate differs from its associated codec's.
    RtxClockRateMismatch {
        /// The associated payload type.
        apt: u8,
    },
    /// A red codec whose fmtp names a payload type that is not accepted.
    RedPrimaryRejected {
        /// The referenced payload type.
        payload_type: u8,
    },
    /// A red or FEC codec with no accepted media codec to protect.
    NoPrimaryCodec,
    /// A CN or telephone-event codec with no accepted audio codec of its clock rate.
    NoCodecAtClockRate {
        /// The clock rate.
        clock_rate: u32,
    },
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PayloadTypeOutOfRange => f.write_str("payload type out of range 0..=127"),
            Self::PayloadTypeConflictsWithRtcp => f.write_str("payload type collides with RTCP"),
            Self::DuplicatePayloadType => f.write_str("duplicate payload type"),
            Self::WrongMediaKind { section } => write!(f, "not a codec of the {section} section"),
            Self::UnsupportedMimeType => f.write_str("unsupported codec"),
            Self::ClockRateMismatch => f.write_str("unsupported clock rate"),
            Self::ChannelsMismatch => f.write_str("unsupported channel count"),
            Self::InvalidFmtp(error) => write!(f, "malformed fmtp: {error}"),
            Self::FmtpMismatch {
                parameter,
                offered: Some(value),
            } => {
                write!(f, "unsupported {parameter}={value}")
            }
            Self::FmtpMismatch {
                parameter,
                offered: None,
            } => {
                write!(f, "unsupported default {parameter}")
            }
            Self::DirectionNotSupported { needed } => write!(f, "not supported for {needed}"),
            Self::ExcludedByPreferences => f.write_str("excluded by codec preferences"),
            Self::RtxMissingApt => f.write_str("rtx without apt"),
            Self::RtxInvalidApt { value } => write!(f, "rtx with invalid apt={value}"),
            Self::RtxAptNotOffered { apt } => write!(f, "rtx apt={apt} is not offered"),
            Self::RtxPrimaryRejected { apt } => write!(f, "rtx apt={apt} was rejected"),
            Self::RtxClockRateMismatch { apt } => {
                write!(f, "rtx clock rate differs from apt={apt}")
            }
            Self::RedPrimaryRejected { payload_type } => {
                write!(
                    f,
                    "red refers to payload type {payload_type}, which is not accepted"
                )
            }
            Self::NoPrimaryCodec => f.write_str("no accepted media codec to protect"),
            Self::NoCodecAtClockRate { clock_rate } => {
                write!(f, "no accepted audio codec at {clock_rate} Hz")
            }
        }
    }
}

/// Accepted, or rejected and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<R> {
    /// In the answer.
    Accepted,
    /// Not in the answer.
    Rejected(R),
}

impl<R> Verdict<R> {
    /// True for [`Verdict::Accepted`].
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted)
    }

    /// The rejection reason, if rejected.
    pub fn rejection(&self) -> Option<&R> {
        match self {
            Self::Accepted => None,
            Self::Rejected(reason) => Some(reason),
        }
    }
}

/// The verdict on one offered codec, in offer order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecVerdict {
    /// The offered payload type.
    pub payload_type: u8,
    /// The offered codec's `kind/name/clock[/channels] fmtp`, for logs.
    pub codec: String,
    /// Accepted or why not.
    pub verdict: Verdict<RejectionReason>,
}

/// Why an offered header extension is not in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionRejection {
    /// The id is 0 or above 255 (RFC 8285 §5).
    InvalidId,
    /// The id is 15..=255, which needs the two-byte header, and two-byte ids are not allowed
    /// (the offer has no `a=extmap-allow-mixed`).
    NeedsTwoByteHeader,
    /// Another section of the same RTP session (BUNDLE group) already uses this id for another
    /// URI (RFC 8843 §9.2).
    IdBoundToOtherUri,
    /// An earlier extension already uses this id.
    DuplicateId,
    /// An earlier extension already has this URI.
    DuplicateUri,
    /// We do not support the URI for this kind.
    Unsupported,
    /// The offered direction and ours leave nothing to do.
    DirectionNotSupported,
}

impl fmt::Display for ExtensionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidId => "invalid extension id (valid ids are 1 to 255)",
            Self::NeedsTwoByteHeader => {
                "ids above 14 need the two-byte header, and the offer has no a=extmap-allow-mixed"
            }
            Self::IdBoundToOtherUri => {
                "another section of the BUNDLE group uses this id for another extension"
            }
            Self::DuplicateId => "duplicate extension id",
            Self::DuplicateUri => "duplicate extension URI",
            Self::Unsupported => "unsupported extension",
            Self::DirectionNotSupported => "no usable direction",
        })
    }
}

/// The verdict on one offered header extension, in offer order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderExtensionVerdict {
    /// The offered id.
    pub id: u16,
    /// The offered URI.
    pub uri: Cow<'static, str>,
    /// Accepted or why not.
    pub verdict: Verdict<ExtensionRejection>,
}

/// For every offered codec and header extension, accepted or why not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// One verdict per offered codec, in offer order.
    pub codecs: Vec<CodecVerdict>,
    /// One verdict per offered header extension, in offer order.
    pub header_extensions: Vec<HeaderExtensionVerdict>,
}

impl Explanation {
    /// The verdict on the first offered codec with `payload_type`.
    pub fn codec(&self, payload_type: u8) -> Option<&Verdict<RejectionReason>> {
        self.codecs
            .iter()
            .find(|v| v.payload_type == payload_type)
            .map(|v| &v.verdict)
    }

    /// The verdict on the first offered header extension with `uri`.
    pub fn header_extension(&self, uri: &str) -> Option<&Verdict<ExtensionRejection>> {
        self.header_extensions
            .iter()
            .find(|v| v.uri == uri)
            .map(|v| &v.verdict)
    }
}
