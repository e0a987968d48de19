//! What makes a remote description impossible to apply: syntax (with the line), RFC 8839
//! credentials, a changed fingerprint without ICE restart, sections removed, moved or retyped,
//! an answer that does not match the offer. Checked before anything is applied.

use antiphon_sdp::{self as sdp, MediaDescription, ParseOptions, SessionDescription};

use super::Negotiator;
use crate::description::RTCSdpType;
use crate::error::{Error, InvalidAccessReason, TypeErrorReason};

impl Negotiator {
    /// Refuses descriptions that cannot be applied (RFC 9429 §5.8.3, §5.10, §5.11).
    pub(super) fn check_remote(
        &self,
        sdp_type: RTCSdpType,
        parsed: &SessionDescription,
    ) -> Result<(), Error> {
        parsed
            .validate()
            .map_err(|e| Error::InvalidAccess(InvalidAccessReason::Invalid(e)))?;
        if self.options.rtcp_mux_policy == crate::RTCRtcpMuxPolicy::Require {
            for (index, section) in parsed.media.iter().enumerate() {
                let rtp = section.proto.contains("RTP");
                if rtp && !section.is_rejected() && !section.has_rtcp_mux() {
                    return Err(Error::InvalidAccess(InvalidAccessReason::RtcpMuxRequired {
                        index,
                    }));
                }
            }
        }
        check_ice_credentials(parsed)?;
        if let Some(previous) = self.current_remote.as_ref() {
            check_fingerprint_change(&previous.parsed, parsed)?;
        }
        if sdp_type == RTCSdpType::Offer
            && let (Some(local), Some(remote)) = (&self.current_local, &self.current_remote)
        {
            check_sections_kept(&local.parsed, &remote.parsed, parsed)?;
        }
        if matches!(sdp_type, RTCSdpType::Answer | RTCSdpType::Pranswer)
            && let Some(offer) = self.pending_local.as_ref()
        {
            if offer.parsed.media.len() != parsed.media.len() {
                return Err(Error::InvalidAccess(
                    InvalidAccessReason::SectionCountMismatch {
                        offer: offer.parsed.media.len(),
                        answer: parsed.media.len(),
                    },
                ));
            }
            for (index, (o, a)) in offer.parsed.media.iter().zip(&parsed.media).enumerate() {
                if o.kind != a.kind || o.proto != a.proto {
                    return Err(Error::InvalidAccess(
                        InvalidAccessReason::SectionKindMismatch { index },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses a description leniently (browsers' output deviates from RFC 8866 in small ways), as
/// `RTCError` `sdp-syntax-error` with the line number on failure. Applied descriptions are kept
/// for the connection's life: without the parser's spare capacity.
///
/// Lenient, but not about `t=`: browsers refuse a description without one (Chromium: "Expects
/// line: t="), and so do we, as the parse error strict mode gives.
pub(super) fn parse_remote(text: &str) -> Result<SessionDescription, Error> {
    if text.is_empty() {
        return Err(Error::Type(TypeErrorReason::MissingSdp));
    }
    let parsed = sdp::parse_with(text.as_bytes(), &ParseOptions::lenient())?;
    if let Some(missing) = parsed
        .warnings
        .iter()
        .find(|w| w.kind == sdp::WarningKind::MissingTiming)
    {
        return Err(Error::SdpSyntax(sdp::SdpError::Parse(sdp::ParseError {
            line: missing.line,
            column: missing.column,
            kind: sdp::ParseErrorKind::MissingLine(sdp::LineType::Timing),
        })));
    }
    let mut parsed = parsed.description;
    parsed.shrink_to_fit();
    Ok(parsed)
}

/// RFC 9429 §5.11 / checklist 77: a changed remote fingerprint needs an ICE restart.
fn check_fingerprint_change(
    previous: &SessionDescription,
    next: &SessionDescription,
) -> Result<(), Error> {
    let fingerprints = |d: &SessionDescription, index: usize| -> Vec<sdp::Fingerprint> {
        let media: Vec<_> = d
            .media
            .get(index)
            .map(|m| m.fingerprints().cloned().collect())
            .unwrap_or_default();
        if media.is_empty() {
            d.fingerprints().cloned().collect()
        } else {
            media
        }
    };
    let ufrag = |d: &SessionDescription, index: usize| -> Option<String> {
        d.media
            .get(index)
            .and_then(|m| m.ice_ufrag())
            .or_else(|| d.ice_ufrag())
            .map(str::to_owned)
    };
    for index in 0..previous.media.len().min(next.media.len()) {
        if next.media[index].is_rejected() || previous.media[index].is_rejected() {
            continue;
        }
        let (before, after) = (fingerprints(previous, index), fingerprints(next, index));
        if !before.is_empty() && !after.is_empty() && before != after {
            let restarted = ufrag(previous, index) != ufrag(next, index);
            return Err(Error::InvalidAccess(if restarted {
                InvalidAccessReason::NewDtlsAssociationUnsupported
            } else {
                InvalidAccessReason::FingerprintChangedWithoutIceRestart
            }));
        }
    }
    Ok(())
}

/// RFC 8839 §5.4: the ICE ufrag and pwd of every section in use (or of the session) have 4 to
/// 256 and 22 to 256 ice-chars, as [`antiphon_ice::IceCredentials::new`] checks; Chromium
/// refuses anything else. (A section missing one of them is rejected in the answer instead.)
fn check_ice_credentials(description: &SessionDescription) -> Result<(), Error> {
    for (index, section) in description.media.iter().enumerate() {
        if section.is_rejected() {
            continue;
        }
        let ufrag = section.ice_ufrag().or_else(|| description.ice_ufrag());
        let pwd = section.ice_pwd().or_else(|| description.ice_pwd());
        if let (Some(ufrag), Some(pwd)) = (ufrag, pwd) {
            antiphon_ice::IceCredentials::validate(ufrag, pwd).map_err(|error| {
                Error::InvalidAccess(InvalidAccessReason::InvalidIceCredentials { index, error })
            })?;
        }
    }
    Ok(())
}

/// RFC 9429 §5.2.2, §5.8.3: a subsequent offer keeps every m= section of the current
/// negotiation (`local` and `remote`, the applied offer and answer) in its place, with its media
/// type and mid, and removes none. A section that either side rejected may be recycled for new
/// media under a new mid.
fn check_sections_kept(
    local: &SessionDescription,
    remote: &SessionDescription,
    offer: &SessionDescription,
) -> Result<(), Error> {
    let current = local.media.len().max(remote.media.len());
    if offer.media.len() < current {
        return Err(Error::InvalidAccess(InvalidAccessReason::SectionRemoved {
            offered: offer.media.len(),
            current,
        }));
    }
    for (index, (before, after)) in local.media.iter().zip(&offer.media).enumerate() {
        let rejected = before.is_rejected()
            || remote
                .media
                .get(index)
                .is_some_and(MediaDescription::is_rejected);
        if rejected && before.mid() != after.mid() {
            continue;
        }
        if before.kind != after.kind {
            return Err(Error::InvalidAccess(
                InvalidAccessReason::SectionKindChanged { index },
            ));
        }
        if before.mid() != after.mid() {
            return Err(Error::InvalidAccess(
                InvalidAccessReason::SectionMidChanged { index },
            ));
        }
    }
    Ok(())
}
