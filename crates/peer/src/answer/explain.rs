//! Why the answer says what it says: one [`SectionExplanation`] per offered m= section.

use std::fmt;

use antiphon_codec as codec;

use crate::answer::rtp::IgnoredFormat;
use crate::policy::RTCBundlePolicy;

/// Why an offered m= section is rejected (port 0) in the answer (RFC 9429 §5.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The offerer rejected it (port 0 without `a=bundle-only`).
    RejectedByOfferer,
    /// Its transceiver is stopped.
    TransceiverStopped,
    /// The media type is not audio, video or an SCTP data channel section.
    UnsupportedMedia(String),
    /// The transport protocol is not one WebRTC uses (DTLS-SRTP or DTLS/SCTP).
    UnsupportedProto(String),
    /// No offered codec can be used in the answer's direction.
    NoCommonCodec,
    /// No `a=ice-ufrag`/`a=ice-pwd` at media or session level.
    MissingIceCredentials,
    /// No usable `a=fingerprint` at media or session level.
    MissingFingerprint,
    /// `a=setup:holdconn` or another role we cannot answer.
    UnsupportedSetup,
    /// No `a=rtcp-mux` while the RTCP mux policy is `require`.
    RtcpMuxRequired,
    /// A data channel section with neither `a=sctp-port` nor `a=sctpmap`.
    MissingSctpPort,
    /// A second data channel section: one SCTP association carries every data channel.
    DuplicateDataSection,
    /// The bundle policy allows no transport for this section.
    BundlePolicy(RTCBundlePolicy),
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RejectedByOfferer => f.write_str("rejected by the offerer (port 0)"),
            Self::TransceiverStopped => f.write_str("the transceiver is stopped"),
            Self::UnsupportedMedia(kind) => write!(f, "media type {kind:?} is not supported"),
            Self::UnsupportedProto(proto) => write!(f, "transport {proto:?} is not supported"),
            Self::NoCommonCodec => f.write_str("no offered codec is supported"),
            Self::MissingIceCredentials => f.write_str("the offer has no ICE ufrag/pwd"),
            Self::MissingFingerprint => f.write_str("the offer has no usable DTLS fingerprint"),
            Self::UnsupportedSetup => f.write_str("the offered a=setup role cannot be answered"),
            Self::RtcpMuxRequired => f.write_str("no a=rtcp-mux and the policy is require"),
            Self::MissingSctpPort => f.write_str("data section without a=sctp-port"),
            Self::DuplicateDataSection => f.write_str("only one data channel section is used"),
            Self::BundlePolicy(policy) => write!(f, "bundle policy {policy:?} allows no transport"),
        }
    }
}

/// The outcome for one offered m= section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionOutcome {
    /// Accepted with this direction (from our side).
    Accepted {
        /// The answer's direction attribute.
        direction: codec::Direction,
        /// The mid of the section whose transport it uses, when bundled into another.
        bundled_into: Option<String>,
    },
    /// Rejected.
    Rejected(RejectReason),
}

/// What the answer decided for one offered m= section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionExplanation {
    /// Position in the offer.
    pub index: usize,
    /// The offered mid.
    pub mid: Option<String>,
    /// The offered media type.
    pub kind: String,
    /// Accepted or rejected, and how.
    pub outcome: SectionOutcome,
    /// For RTP sections: every offered codec and header extension, accepted or why not.
    pub codecs: Option<codec::Explanation>,
    /// Offered formats dropped before codec negotiation.
    pub ignored_formats: Vec<IgnoredFormat>,
}

/// The explanation of a whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerExplanation {
    /// One entry per offered m= section, in offer order.
    pub sections: Vec<SectionExplanation>,
}

impl fmt::Display for AnswerExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for section in &self.sections {
            write!(
                f,
                "m={} #{} mid={}: ",
                section.kind,
                section.index,
                section.mid.as_deref().unwrap_or("-")
            )?;
            match &section.outcome {
                SectionOutcome::Accepted {
                    direction,
                    bundled_into,
                } => {
                    write!(f, "accepted {direction}")?;
                    if let Some(tag) = bundled_into {
                        write!(f, ", bundled into mid {tag}")?;
                    }
                    writeln!(f)?;
                }
                SectionOutcome::Rejected(reason) => writeln!(f, "rejected: {reason}")?,
            }
            for ignored in &section.ignored_formats {
                writeln!(f, "  format ignored: {ignored}")?;
            }
            if let Some(codecs) = &section.codecs {
                for verdict in &codecs.codecs {
                    match verdict.verdict.rejection() {
                        None => writeln!(
                            f,
                            "  codec {} {}: accepted",
                            verdict.payload_type, verdict.codec
                        )?,
                        Some(why) => writeln!(
                            f,
                            "  codec {} {}: rejected, {why}",
                            verdict.payload_type, verdict.codec
                        )?,
                    }
                }
                for verdict in &codecs.header_extensions {
                    match verdict.verdict.rejection() {
                        None => writeln!(f, "  extmap {} {}: accepted", verdict.id, verdict.uri)?,
                        Some(why) => writeln!(
                            f,
                            "  extmap {} {}: rejected, {why}",
                            verdict.id, verdict.uri
                        )?,
                    }
                }
            }
        }
        Ok(())
    }
}
