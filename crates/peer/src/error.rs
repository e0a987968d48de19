//! The peer connection's error type: the W3C `DOMException` names webrtc-pc rejects with, each
//! with a typed reason.

use std::fmt;

use crate::description::RTCSdpType;
use crate::signaling::{RTCSignalingState, Side};

/// Everything `RTCPeerConnection` can fail with, named as webrtc-pc names its rejections.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `InvalidStateError`: the call is not allowed in the connection's current state.
    InvalidState(InvalidStateReason),
    /// `InvalidAccessError`: the description is well formed but cannot be used (RFC 9429 §5.8.3,
    /// §5.10, §5.11).
    InvalidAccess(InvalidAccessReason),
    /// `InvalidModificationError`: a local description is not what `createOffer`/`createAnswer`
    /// produced (no munging, RFC 9429 §5.4).
    InvalidModification(InvalidModificationReason),
    /// `RTCError` with `errorDetail = "sdp-syntax-error"`: the SDP does not parse; carries the line
    /// number (`sdpLineNumber`) and column.
    SdpSyntax(antiphon_sdp::SdpError),
    /// `TypeError`: an argument has the wrong shape.
    Type(TypeErrorReason),
    /// `OperationError`: the operation failed for a reason outside the caller's input.
    Operation(OperationReason),
    /// `SyntaxError`: an ICE server URL does not parse.
    Syntax(SyntaxReason),
    /// `NotSupportedError`: the configuration asks for something Antiphon does not implement.
    NotSupported(NotSupportedReason),
}

impl Error {
    /// The W3C exception name (`"InvalidStateError"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidState(_) => "InvalidStateError",
            Self::InvalidAccess(_) => "InvalidAccessError",
            Self::InvalidModification(_) => "InvalidModificationError",
            Self::SdpSyntax(_) => "RTCError",
            Self::Type(_) => "TypeError",
            Self::Operation(_) => "OperationError",
            Self::Syntax(_) => "SyntaxError",
            Self::NotSupported(_) => "NotSupportedError",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.name())?;
        match self {
            Self::InvalidState(reason) => reason.fmt(f),
            Self::InvalidAccess(reason) => reason.fmt(f),
            Self::InvalidModification(reason) => reason.fmt(f),
            Self::SdpSyntax(error) => write!(f, "sdp-syntax-error: {error}"),
            Self::Type(reason) => reason.fmt(f),
            Self::Operation(reason) => reason.fmt(f),
            Self::Syntax(reason) => reason.fmt(f),
            Self::NotSupported(reason) => reason.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::SdpSyntax(error) => Some(error),
            _ => None,
        }
    }
}

impl From<antiphon_sdp::SdpError> for Error {
    fn from(error: antiphon_sdp::SdpError) -> Self {
        Self::SdpSyntax(error)
    }
}

/// Why a call was refused with `InvalidStateError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidStateReason {
    /// The connection is closed.
    Closed,
    /// A description of this type cannot be set by this side in this signaling state.
    WrongSignalingState {
        /// The state the connection was in.
        state: RTCSignalingState,
        /// Local or remote.
        side: Side,
        /// The description's type.
        sdp_type: RTCSdpType,
    },
    /// `createAnswer` needs a remote offer (`have-remote-offer` or `have-local-pranswer`).
    NoRemoteOffer {
        /// The state the connection was in.
        state: RTCSignalingState,
    },
    /// `createOffer` is only allowed in `stable` or `have-local-offer`.
    CannotOffer {
        /// The state the connection was in.
        state: RTCSignalingState,
    },
    /// `addIceCandidate` before any remote description.
    NoRemoteDescription,
    /// The transceiver is stopped.
    TransceiverStopped,
    /// The data channel is closing or closed (`send` on a channel that is not open).
    ChannelNotOpen,
    /// The transceiver does not send: its negotiated direction is `recvonly` or `inactive`,
    /// nothing was negotiated for it yet, or it has no track (`replaceTrack(null)`).
    TransceiverNotSending,
}

impl fmt::Display for InvalidStateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the peer connection is closed"),
            Self::WrongSignalingState {
                state,
                side,
                sdp_type,
            } => write!(
                f,
                "cannot set a {side} description of type {sdp_type} in signaling state {state}"
            ),
            Self::NoRemoteOffer { state } => write!(
                f,
                "createAnswer needs a remote offer, but the signaling state is {state}"
            ),
            Self::CannotOffer { state } => {
                write!(f, "createOffer is not allowed in signaling state {state}")
            }
            Self::NoRemoteDescription => f.write_str("there is no remote description yet"),
            Self::TransceiverStopped => f.write_str("the transceiver is stopped"),
            Self::ChannelNotOpen => f.write_str("the data channel is not open"),
            Self::TransceiverNotSending => {
                f.write_str("the transceiver's negotiated direction does not send")
            }
        }
    }
}

/// Why a description was refused with `InvalidAccessError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidAccessReason {
    /// The description breaks a rule that holds for any single description (duplicate mids,
    /// BUNDLE naming an unknown mid, simulcast naming an unknown rid, ...).
    Invalid(antiphon_sdp::ValidationError),
    /// An answer's m= section count differs from the offer's.
    SectionCountMismatch {
        /// Sections in the offer.
        offer: usize,
        /// Sections in the answer.
        answer: usize,
    },
    /// An answer's m= section has another media type or proto than the offered one.
    SectionKindMismatch {
        /// Index of the m= section.
        index: usize,
    },
    /// The RTCP mux policy is `require`, but an RTP section has no `a=rtcp-mux`.
    RtcpMuxRequired {
        /// Index of the m= section.
        index: usize,
    },
    /// A section that is not rejected lacks ICE credentials.
    MissingIceCredentials {
        /// Index of the m= section.
        index: usize,
    },
    /// A section that is not rejected lacks a usable DTLS fingerprint.
    MissingFingerprint {
        /// Index of the m= section.
        index: usize,
    },
    /// A section's ICE ufrag or pwd breaks RFC 8839 §5.4: the ufrag must be 4 to 256 and the
    /// pwd 22 to 256 ice-chars (Chromium refuses such descriptions too).
    #[cfg(feature = "runtime")]
    InvalidIceCredentials {
        /// Index of the m= section.
        index: usize,
        /// What is wrong with them.
        error: antiphon_ice::CredentialsError,
    },
    /// A subsequent offer has fewer m= sections than the current description: m= sections are
    /// never removed, only rejected with port 0 (RFC 9429 §5.2.2, §5.8.3).
    SectionRemoved {
        /// Sections in the offer.
        offered: usize,
        /// Sections in the current description.
        current: usize,
    },
    /// A subsequent offer changed the media type of an m= section that is in use (only a
    /// rejected section may be recycled for other media, with a new mid; RFC 9429 §5.2.2).
    SectionKindChanged {
        /// Index of the m= section.
        index: usize,
    },
    /// A subsequent offer changed the mid of an m= section that is in use (RFC 9429 §5.2.2).
    SectionMidChanged {
        /// Index of the m= section.
        index: usize,
    },
    /// The remote fingerprint changed without an ICE restart (RFC 9429 §5.11).
    FingerprintChangedWithoutIceRestart,
    /// The remote fingerprint changed with an ICE restart: that asks for a new DTLS association
    /// (RFC 8842 §5), which Antiphon does not set up; the offer is refused rather than the old
    /// association carried on with a fingerprint that is no longer offered.
    NewDtlsAssociationUnsupported,
    /// The remote ICE credentials changed in an answer to an offer that did not restart ICE.
    IceCredentialsChangedWithoutRestart,
    /// The `a=setup` value cannot be used by this side (for example `actpass` in an answer).
    InvalidSetupRole,
    /// The remote candidate could not be used.
    InvalidCandidate,
    /// A certificate in the configuration has expired.
    CertificateExpired,
    /// A `turn:`/`turns:` URL of an `RTCIceServer` without `username` and `credential`.
    TurnCredentialsMissing(String),
}

impl fmt::Display for InvalidAccessReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(error) => write!(f, "invalid description: {error}"),
            Self::SectionCountMismatch { offer, answer } => write!(
                f,
                "the answer has {answer} m= sections but the offer has {offer}"
            ),
            Self::SectionKindMismatch { index } => write!(
                f,
                "m= section {index} of the answer differs from the offer in media or proto"
            ),
            Self::RtcpMuxRequired { index } => write!(
                f,
                "m= section {index} has no a=rtcp-mux but the rtcp-mux policy is require"
            ),
            Self::MissingIceCredentials { index } => {
                write!(f, "m= section {index} has no ICE ufrag/pwd")
            }
            Self::MissingFingerprint { index } => {
                write!(f, "m= section {index} has no usable a=fingerprint")
            }
            #[cfg(feature = "runtime")]
            Self::InvalidIceCredentials { index, error } => write!(
                f,
                "m= section {index}: {error} (RFC 8839: ice-ufrag 4 to 256, ice-pwd 22 to 256 \
                 ice-chars)"
            ),
            Self::SectionRemoved { offered, current } => write!(
                f,
                "the offer has {offered} m= sections but the current description has {current}: \
                 m= sections are never removed, only rejected with port 0"
            ),
            Self::SectionKindChanged { index } => write!(
                f,
                "m= section {index} changed its media type; only a rejected section may be reused"
            ),
            Self::SectionMidChanged { index } => {
                write!(f, "m= section {index} changed its mid while in use")
            }
            Self::FingerprintChangedWithoutIceRestart => {
                f.write_str("the remote DTLS fingerprint changed without an ICE restart")
            }
            Self::NewDtlsAssociationUnsupported => f.write_str(
                "the remote DTLS fingerprint changed: a new DTLS association is not supported",
            ),
            Self::IceCredentialsChangedWithoutRestart => {
                f.write_str("the remote ICE credentials changed but the offer did not restart ICE")
            }
            Self::InvalidSetupRole => f.write_str("the a=setup role is not valid here"),
            Self::InvalidCandidate => f.write_str("the ICE candidate is not valid"),
            Self::CertificateExpired => f.write_str("the configured certificate has expired"),
            Self::TurnCredentialsMissing(url) => {
                write!(
                    f,
                    "the TURN server {url:?} needs a username and a credential"
                )
            }
        }
    }
}

/// Why a local description was refused with `InvalidModificationError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidModificationReason {
    /// The SDP differs from the last `createOffer` output.
    NotLastCreatedOffer,
    /// The SDP differs from the last `createAnswer` output.
    NotLastCreatedAnswer,
    /// The SDP of a description given to `setLocalDescription` was not created here at all.
    NoCreatedDescription,
    /// The certificates of a connection cannot be changed.
    CertificatesChanged,
}

impl fmt::Display for InvalidModificationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotLastCreatedOffer => "the SDP is not the last offer createOffer returned",
            Self::NotLastCreatedAnswer => "the SDP is not the last answer createAnswer returned",
            Self::NoCreatedDescription => {
                "no offer or answer was created for this setLocalDescription"
            }
            Self::CertificatesChanged => "the certificates of a connection cannot change",
        })
    }
}

/// Why an argument was refused with `TypeError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeErrorReason {
    /// The text is not a `{"type":...,"sdp":...}` object.
    InvalidJson,
    /// The `type` is not one of offer, pranswer, answer, rollback.
    UnknownSdpType,
    /// An offer, pranswer or answer has no SDP.
    MissingSdp,
    /// A candidate has neither `sdpMid` nor `sdpMLineIndex`.
    CandidateWithoutSection,
    /// A data channel with both `maxPacketLifeTime` and `maxRetransmits`.
    InvalidReliability,
    /// A negotiated data channel without an id.
    NegotiatedWithoutId,
    /// A data channel message larger than the remote's `a=max-message-size`.
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `replaceTrack` with a track of another kind than the transceiver's.
    TrackKindMismatch,
}

impl fmt::Display for TypeErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidJson => "not an RTCSessionDescriptionInit JSON object",
            Self::UnknownSdpType => "unknown description type",
            Self::MissingSdp => "the description has no SDP",
            Self::CandidateWithoutSection => "the candidate has neither sdpMid nor sdpMLineIndex",
            Self::InvalidReliability => "maxPacketLifeTime and maxRetransmits are exclusive",
            Self::NegotiatedWithoutId => "a negotiated data channel needs an id",
            Self::MessageTooLarge { .. } => "the message exceeds the remote max-message-size",
            Self::TrackKindMismatch => "the track's kind is not the transceiver's",
        })
    }
}

/// Why an operation failed with `OperationError`.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum OperationReason {
    /// The candidate names an m= section the remote description does not have.
    UnknownSection,
    /// The answer could not be written (fewer transports than sections need).
    Answer(crate::answer::AnswerError),
    /// The ICE transport failed.
    IceFailed,
    /// The DTLS transport failed (handshake error or fingerprint mismatch).
    Dtls(antiphon_dtls::DtlsError),
    /// The SCTP association or the data channel layer refused the operation.
    #[cfg(feature = "runtime")]
    DataChannel(crate::core::ChannelError),
    /// There is no data channel section to carry data channels.
    NoDataChannelTransport,
    /// A network socket could not be opened or used.
    Io(std::io::ErrorKind),
    /// The description needs more ICE + DTLS transports (sections outside BUNDLE) than
    /// [`PeerOptions::max_transports`](crate::PeerOptions::max_transports) allows.
    TooManyTransports {
        /// How many it needs.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// The TLS settings for `turns:` servers could not be made (no usable root certificate).
    #[cfg(feature = "runtime")]
    TurnTls(antiphon_ice::TurnTlsError),
    /// The media path refused the packet (no SRTP keys yet, queue full, not RTP).
    #[cfg(feature = "runtime")]
    Media(crate::core::MediaError),
}

impl fmt::Display for OperationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownSection => f.write_str("the candidate names an unknown m= section"),
            Self::Answer(error) => write!(f, "cannot write the answer: {error}"),
            Self::IceFailed => f.write_str("ICE failed"),
            Self::Dtls(error) => write!(f, "DTLS failed: {error}"),
            #[cfg(feature = "runtime")]
            Self::DataChannel(error) => write!(f, "data channel failed: {error}"),
            Self::NoDataChannelTransport => f.write_str("no data channel transport is negotiated"),
            Self::Io(kind) => write!(f, "I/O error: {kind}"),
            Self::TooManyTransports { needed, limit } => write!(
                f,
                "{needed} transports needed (sections outside BUNDLE), at most {limit} allowed"
            ),
            #[cfg(feature = "runtime")]
            Self::TurnTls(error) => write!(f, "{error}"),
            #[cfg(feature = "runtime")]
            Self::Media(error) => write!(f, "media not sent: {error}"),
        }
    }
}

/// Why an ICE server URL was refused with `SyntaxError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxReason {
    /// The URL (RFC 7064 / RFC 7065) does not parse: no scheme, no host, or a bad port.
    InvalidIceServerUrl(String),
}

impl fmt::Display for SyntaxReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidIceServerUrl(url) => write!(f, "not a valid ICE server URL: {url:?}"),
        }
    }
}

/// What a configuration asked for that Antiphon does not implement (`NotSupportedError`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSupportedReason {
    /// `stuns:` (a STUN binding over TLS maps a TCP connection, which no UDP candidate can
    /// use) or `turns:...?transport=udp` (DTLS to the TURN server).
    IceServerScheme(String),
}

impl fmt::Display for NotSupportedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IceServerScheme(scheme) => {
                write!(
                    f,
                    "ICE server scheme {scheme:?} is not supported (stun:, turn: over UDP or TCP, and turns: are)"
                )
            }
        }
    }
}
