//! Codec intersection: media codecs first, then the helpers that depend on them (red and FEC,
//! then rtx, then CN and telephone-event).

use crate::matching::{FmtpMismatch, H264Reading, answer_fmtp, answer_fmtp_cached};
use crate::negotiate::{
    NegotiatedCodec, NegotiationOptions, OfferedCodec, OfferedMedia, check_payload_type,
};
use crate::{
    Codec, CodecCapability, CodecError, CodecRole, CodecVerdict, Fmtp, MediaCapabilities,
    MediaKind, RejectionReason, RtcpFeedback, Verdict,
};

/// An rtx `apt` parameter, read.
pub(super) enum Apt {
    /// No `apt`.
    Missing,
    /// An `apt` that is not a payload type; the text as written.
    Invalid(String),
    /// A payload type.
    PayloadType(u8),
}

pub(super) fn parse_apt(fmtp: &Fmtp) -> Apt {
    match fmtp.get("apt") {
        None => Apt::Missing,
        Some(text) => match text.parse::<u8>() {
            Ok(pt) if pt <= 127 => Apt::PayloadType(pt),
            _ => Apt::Invalid(text.to_owned()),
        },
    }
}

/// The payload types a red fmtp refers to (`111/111`), in order.
pub(super) fn red_references(fmtp: &Fmtp) -> Result<Vec<u8>, CodecError> {
    let mut references = Vec::new();
    for token in fmtp.tokens() {
        for part in token.split('/') {
            match part.parse::<u8>() {
                Ok(pt) if pt <= 127 => references.push(pt),
                _ => {
                    return Err(CodecError::InvalidParameterValue {
                        parameter: "red",
                        value: token.to_owned(),
                        expected: "payload types 0..=127 separated by /",
                    });
                }
            }
        }
    }
    Ok(references)
}

/// What we decided about one accepted offered codec.
struct Acceptance<'c> {
    capability: &'c CodecCapability,
    answer_fmtp: Fmtp,
    preference: usize,
}

struct Negotiation<'a, 'c> {
    offer: &'a OfferedMedia,
    local: &'c MediaCapabilities,
    options: &'a NegotiationOptions,
    /// Index of the first offered codec per payload type.
    first_with_pt: [Option<usize>; 128],
    verdicts: Vec<Option<Verdict<RejectionReason>>>,
    accepted: Vec<Option<Acceptance<'c>>>,
    /// The H.264 reading of each local capability's fmtp, parsed when first needed.
    local_h264: Vec<H264Reading>,
}

/// One accepted offered codec, in answer order, before it becomes a [`NegotiatedCodec`] (by
/// copying from the offer, or by moving out of it).
pub(super) struct Accepted<'c> {
    /// Its index in the offered codecs.
    pub(super) index: usize,
    capability: &'c CodecCapability,
    answer_fmtp: Fmtp,
}

impl Accepted<'_> {
    /// The answer's codec, copying what it keeps from `offered`.
    pub(super) fn copying_from(
        self,
        offered: &OfferedCodec,
        wildcard: &[RtcpFeedback],
    ) -> NegotiatedCodec {
        let mut rtcp_feedback = Vec::new();
        for feedback in offered.rtcp_feedback.iter().chain(wildcard) {
            if self.keeps(&rtcp_feedback, feedback) {
                rtcp_feedback.push(feedback.clone());
            }
        }
        NegotiatedCodec {
            payload_type: offered.payload_type,
            codec: Codec {
                kind: offered.codec.kind,
                name: offered.codec.name.clone(),
                clock_rate: offered.codec.clock_rate,
                channels: offered.codec.channels,
                fmtp: self.answer_fmtp,
            },
            remote_fmtp: offered.codec.fmtp.clone(),
            rtcp_feedback,
        }
    }

    /// The answer's codec, moving what it keeps out of `offered`.
    pub(super) fn moving_from(
        self,
        offered: OfferedCodec,
        wildcard: &[RtcpFeedback],
    ) -> NegotiatedCodec {
        let mut rtcp_feedback = Vec::new();
        for feedback in offered.rtcp_feedback {
            if self.keeps(&rtcp_feedback, &feedback) {
                rtcp_feedback.push(feedback);
            }
        }
        for feedback in wildcard {
            if self.keeps(&rtcp_feedback, feedback) {
                rtcp_feedback.push(feedback.clone());
            }
        }
        NegotiatedCodec {
            payload_type: offered.payload_type,
            codec: Codec {
                fmtp: self.answer_fmtp,
                ..offered.codec
            },
            remote_fmtp: offered.codec.fmtp,
            rtcp_feedback,
        }
    }

    /// Offered feedback goes in the answer when we support it with this codec and it is not
    /// already there (per payload type and `*` may repeat each other).
    fn keeps(&self, kept: &[RtcpFeedback], feedback: &RtcpFeedback) -> bool {
        self.capability
            .rtcp_feedback
            .iter()
            .any(|ours| ours.same_as(feedback))
            && !kept.iter().any(|k| k.same_as(feedback))
    }
}

pub(super) fn negotiate_codecs<'c>(
    offer: &OfferedMedia,
    local: &'c MediaCapabilities,
    options: &NegotiationOptions,
) -> (Vec<Accepted<'c>>, Vec<CodecVerdict>) {
    let count = offer.codecs.len();
    let mut state = Negotiation {
        offer,
        local,
        options,
        first_with_pt: [None; 128],
        verdicts: (0..count).map(|_| None).collect(),
        accepted: (0..count).map(|_| None).collect(),
        local_h264: local.codecs.iter().map(|_| H264Reading::new()).collect(),
    };
    state.check_payload_types();
    for role in [
        CodecRole::Media,
        CodecRole::Redundancy,
        CodecRole::ForwardErrorCorrection,
        CodecRole::Retransmission,
    ] {
        state.decide_role(|r| r == role);
    }
    state.decide_role(|r| matches!(r, CodecRole::ComfortNoise | CodecRole::TelephoneEvent));
    state.finish()
}

impl<'a, 'c> Negotiation<'a, 'c> {
    fn check_payload_types(&mut self) {
        for (index, offered) in self.offer.codecs.iter().enumerate() {
            let pt = offered.payload_type;
            let reason = match check_payload_type(pt) {
                Err(CodecError::PayloadTypeConflictsWithRtcp { .. }) => {
                    Some(RejectionReason::PayloadTypeConflictsWithRtcp)
                }
                Err(_) => Some(RejectionReason::PayloadTypeOutOfRange),
                Ok(()) => match self.first_with_pt.get_mut(usize::from(pt)) {
                    Some(Some(_)) => Some(RejectionReason::DuplicatePayloadType),
                    Some(slot) => {
                        *slot = Some(index);
                        None
                    }
                    None => Some(RejectionReason::PayloadTypeOutOfRange),
                },
            };
            let reason = reason.or_else(|| {
                (offered.codec.kind != self.offer.kind).then_some(RejectionReason::WrongMediaKind {
                    section: self.offer.kind,
                })
            });
            if let (Some(reason), Some(slot)) = (reason, self.verdicts.get_mut(index)) {
                *slot = Some(Verdict::Rejected(reason));
            }
        }
    }

    fn decide_role(&mut self, in_role: impl Fn(CodecRole) -> bool) {
        for index in 0..self.offer.codecs.len() {
            let Some(offered) = self.offer.codecs.get(index) else {
                continue;
            };
            let undecided = matches!(self.verdicts.get(index), Some(None));
            if !undecided || !in_role(offered.codec.role()) {
                continue;
            }
            let decision = self.decide(offered);
            let verdict = match decision {
                Ok(acceptance) => {
                    if let Some(slot) = self.accepted.get_mut(index) {
                        *slot = Some(acceptance);
                    }
                    Verdict::Accepted
                }
                Err(reason) => Verdict::Rejected(reason),
            };
            if let Some(slot) = self.verdicts.get_mut(index) {
                *slot = Some(verdict);
            }
        }
    }

    fn decide(&self, offered: &OfferedCodec) -> Result<Acceptance<'c>, RejectionReason> {
        let codec = &offered.codec;
        let role = codec.role();
        let (capability, media_fmtp) = self.find_capability(codec, role == CodecRole::Media)?;
        // Our own fmtp for the helpers, copied only when it goes in the answer.
        let local_fmtp = || capability.codec.fmtp.clone();
        let answer_fmtp = match role {
            CodecRole::Media => media_fmtp.unwrap_or_else(local_fmtp),
            CodecRole::Redundancy => self.check_red(codec)?,
            CodecRole::ForwardErrorCorrection => {
                if !self.any_accepted(|c| c.role() == CodecRole::Media) {
                    return Err(RejectionReason::NoPrimaryCodec);
                }
                local_fmtp()
            }
            CodecRole::Retransmission => self.check_rtx(codec, &capability.codec.fmtp)?,
            CodecRole::ComfortNoise | CodecRole::TelephoneEvent => {
                let clock_rate = codec.clock_rate;
                if !self.any_accepted(|c| {
                    c.role() == CodecRole::Media
                        && c.kind == MediaKind::Audio
                        && c.clock_rate == clock_rate
                }) {
                    return Err(RejectionReason::NoCodecAtClockRate { clock_rate });
                }
                local_fmtp()
            }
        };
        let preference = self.preference_index(codec)?;
        Ok(Acceptance {
            capability,
            answer_fmtp,
            preference,
        })
    }

    /// The first local capability that supports `offered` in the needed direction, and for a
    /// media codec the fmtp for our answer (the fmtp rules decide which capability matches);
    /// or the most specific reason none does.
    fn find_capability(
        &self,
        offered: &Codec,
        is_media: bool,
    ) -> Result<(&'c CodecCapability, Option<Fmtp>), RejectionReason> {
        let local: &'c MediaCapabilities = self.local;
        let needed = self.options.direction;
        // The most specific failure so far: 0 name, 1 clock rate, 2 channels, 3 fmtp, 4 direction.
        let mut failure = (0u8, RejectionReason::UnsupportedMimeType);
        let mut fmtp_depth: Option<u8> = None;
        let offered_h264 = H264Reading::new();
        for (capability, local_h264) in local.codecs.iter().zip(&self.local_h264) {
            let ours = &capability.codec;
            if ours.kind != offered.kind || !ours.name.eq_ignore_ascii_case(&offered.name) {
                continue;
            }
            let (stage, reason) = if ours.clock_rate != offered.clock_rate {
                (1, RejectionReason::ClockRateMismatch)
            } else if !ours.is_same_format(offered) {
                (2, RejectionReason::ChannelsMismatch)
            } else {
                let answer = if is_media {
                    answer_fmtp_cached(ours, local_h264, offered, &offered_h264).map(Some)
                } else {
                    Ok(None)
                };
                match answer {
                    Err(FmtpMismatch { reason, depth }) => {
                        if fmtp_depth.is_some_and(|best| best >= depth) {
                            continue;
                        }
                        fmtp_depth = Some(depth);
                        (3, reason)
                    }
                    Ok(_) if !capability.direction.covers(needed) => {
                        (4, RejectionReason::DirectionNotSupported { needed })
                    }
                    Ok(fmtp) => return Ok((capability, fmtp)),
                }
            };
            if stage >= failure.0 {
                failure = (stage, reason);
            }
        }
        Err(failure.1)
    }

    fn check_red(&self, red: &Codec) -> Result<Fmtp, RejectionReason> {
        let references = red_references(&red.fmtp).map_err(RejectionReason::InvalidFmtp)?;
        if references.is_empty() {
            if !self.any_accepted(|c| c.role() == CodecRole::Media) {
                return Err(RejectionReason::NoPrimaryCodec);
            }
        } else if let Some(&payload_type) = references.iter().find(|&&pt| {
            self.accepted_at_pt(pt)
                .is_none_or(|(codec, _)| codec.role() != CodecRole::Media)
        }) {
            return Err(RejectionReason::RedPrimaryRejected { payload_type });
        }
        Ok(red.fmtp.clone())
    }

    fn check_rtx(&self, rtx: &Codec, local_fmtp: &Fmtp) -> Result<Fmtp, RejectionReason> {
        let apt = match parse_apt(&rtx.fmtp) {
            Apt::Missing => return Err(RejectionReason::RtxMissingApt),
            Apt::Invalid(value) => return Err(RejectionReason::RtxInvalidApt { value }),
            Apt::PayloadType(apt) => apt,
        };
        let Some(&Some(primary_index)) = self.first_with_pt.get(usize::from(apt)) else {
            return Err(RejectionReason::RtxAptNotOffered { apt });
        };
        let primary = self.offer.codecs.get(primary_index).map(|c| &c.codec);
        if primary.is_some_and(|p| p.role() == CodecRole::Retransmission) {
            return Err(RejectionReason::RtxInvalidApt {
                value: apt.to_string(),
            });
        }
        let Some((primary, _)) = self.accepted_at_pt(apt) else {
            return Err(RejectionReason::RtxPrimaryRejected { apt });
        };
        if primary.clock_rate != rtx.clock_rate {
            return Err(RejectionReason::RtxClockRateMismatch { apt });
        }
        let mut answer = Fmtp::new();
        answer.append("apt", Some(&apt.to_string()));
        for param in local_fmtp.params() {
            if !param.name.eq_ignore_ascii_case("apt") {
                answer.append(param.name, param.value);
            }
        }
        Ok(answer)
    }

    fn preference_index(&self, offered: &Codec) -> Result<usize, RejectionReason> {
        let preferences = &self.options.codec_preferences;
        if preferences.is_empty() {
            return Ok(0);
        }
        preferences
            .iter()
            .position(|preferred| {
                preferred.is_same_format(offered)
                    && (offered.role() != CodecRole::Media
                        || answer_fmtp(preferred, offered).is_ok())
            })
            .ok_or(RejectionReason::ExcludedByPreferences)
    }

    /// The offered codec and its acceptance at `payload_type`, if accepted so far.
    fn accepted_at_pt(&self, payload_type: u8) -> Option<(&'a Codec, &Acceptance<'c>)> {
        let index = (*self.first_with_pt.get(usize::from(payload_type))?)?;
        let acceptance = self.accepted.get(index)?.as_ref()?;
        Some((&self.offer.codecs.get(index)?.codec, acceptance))
    }

    fn any_accepted(&self, predicate: impl Fn(&Codec) -> bool) -> bool {
        self.offer
            .codecs
            .iter()
            .zip(&self.accepted)
            .any(|(offered, acceptance)| acceptance.is_some() && predicate(&offered.codec))
    }

    /// The accepted codecs in answer order (offer order, or preference order when preferences
    /// are set; the sort is stable) and a verdict for every offered codec.
    fn finish(self) -> (Vec<Accepted<'c>>, Vec<CodecVerdict>) {
        let mut accepted: Vec<(usize, Accepted<'c>)> = Vec::with_capacity(self.offer.codecs.len());
        let mut verdicts = Vec::with_capacity(self.offer.codecs.len());
        for (index, ((offered, verdict), acceptance)) in self
            .offer
            .codecs
            .iter()
            .zip(self.verdicts)
            .zip(self.accepted)
            .enumerate()
        {
            // Every codec gets a verdict above; an undecided one can only be of a role no pass
            // covers, which `CodecRole` rules out. Treat it as unsupported rather than panic.
            let verdict =
                verdict.unwrap_or(Verdict::Rejected(RejectionReason::UnsupportedMimeType));
            if let (Verdict::Accepted, Some(acceptance)) = (&verdict, acceptance) {
                accepted.push((
                    acceptance.preference,
                    Accepted {
                        index,
                        capability: acceptance.capability,
                        answer_fmtp: acceptance.answer_fmtp,
                    },
                ));
            }
            verdicts.push(CodecVerdict {
                payload_type: offered.payload_type,
                codec: offered.codec.describe(),
                verdict,
            });
        }
        accepted.sort_by_key(|(preference, _)| *preference);
        (
            accepted.into_iter().map(|(_, accepted)| accepted).collect(),
            verdicts,
        )
    }
}
