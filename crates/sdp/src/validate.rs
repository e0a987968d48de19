//! Rules about a single description that the line grammar cannot express.
//!
//! Rules that need the paired offer (answer kinds matching the offer, `a=setup:actpass` in
//! an answer, RTCP mux policy) belong to the JSEP layer, not here.

use std::collections::HashSet;
use std::fmt;

use crate::attribute::Attribute;
use crate::model::{MediaDescription, MediaKind, SessionDescription};
use crate::proto::Proto;

/// A rule violation found by [`SessionDescription::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationError {
    /// Two `m=` sections share an `a=mid` (RFC 5888).
    DuplicateMid {
        /// The repeated mid.
        mid: String,
        /// Index of the second section using it.
        media_index: usize,
    },
    /// An `a=group` names a mid no section has (RFC 5888, RFC 9143).
    GroupUnknownMid {
        /// The group semantics (`BUNDLE`, `LS`, ...).
        semantics: String,
        /// The unknown mid.
        mid: String,
    },
    /// `a=simulcast` names a rid without an `a=rid` line in its section (RFC 8853).
    SimulcastUnknownRid {
        /// Section index.
        media_index: usize,
        /// The unknown rid.
        rid: String,
    },
    /// More than one `a=simulcast` in a section (RFC 8853).
    DuplicateSimulcast {
        /// Section index.
        media_index: usize,
    },
    /// An audio or video section whose protocol does not carry RTP (such as SCTP).
    ProtoMismatch {
        /// Section index.
        media_index: usize,
        /// The media type.
        kind: MediaKind,
        /// The protocol.
        proto: Proto,
    },
    /// A fingerprint with a hash function RFC 8122 forbids (md2, md5).
    WeakFingerprint {
        /// Section index, `None` at session level.
        media_index: Option<usize>,
        /// The hash function.
        algorithm: String,
    },
    /// A payload type mapped by two `a=rtpmap` lines to different codecs.
    ConflictingRtpmap {
        /// Section index.
        media_index: usize,
        /// The payload type.
        payload_type: u8,
    },
    /// A DTLS-based section in use has no `a=fingerprint` at media or session level
    /// (RFC 8122, RFC 5763).
    MissingFingerprint {
        /// Section index.
        media_index: usize,
    },
    /// A section with `a=candidate` lines but no `a=ice-ufrag`/`a=ice-pwd` at either level
    /// (RFC 8839 section 5.4).
    MissingIceCredentials {
        /// Section index.
        media_index: usize,
    },
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateMid { mid, media_index } => {
                write!(f, "m-section {media_index} repeats mid {mid:?}")
            }
            Self::GroupUnknownMid { semantics, mid } => {
                write!(f, "a=group:{semantics} names unknown mid {mid:?}")
            }
            Self::SimulcastUnknownRid { media_index, rid } => {
                write!(
                    f,
                    "m-section {media_index}: a=simulcast names rid {rid:?} without a=rid"
                )
            }
            Self::DuplicateSimulcast { media_index } => {
                write!(f, "m-section {media_index} has more than one a=simulcast")
            }
            Self::ProtoMismatch {
                media_index,
                kind,
                proto,
            } => {
                write!(
                    f,
                    "m-section {media_index}: media type {kind} cannot use protocol {proto}"
                )
            }
            Self::WeakFingerprint {
                media_index: Some(i),
                algorithm,
            } => {
                write!(
                    f,
                    "m-section {i}: fingerprint hash {algorithm} is not allowed"
                )
            }
            Self::WeakFingerprint {
                media_index: None,
                algorithm,
            } => {
                write!(f, "session fingerprint hash {algorithm} is not allowed")
            }
            Self::ConflictingRtpmap {
                media_index,
                payload_type,
            } => {
                write!(
                    f,
                    "m-section {media_index}: payload type {payload_type} mapped to two codecs"
                )
            }
            Self::MissingFingerprint { media_index } => {
                write!(f, "m-section {media_index}: DTLS without a=fingerprint")
            }
            Self::MissingIceCredentials { media_index } => {
                write!(
                    f,
                    "m-section {media_index}: candidates without a=ice-ufrag/a=ice-pwd"
                )
            }
        }
    }
}

impl std::error::Error for ValidationError {}

fn weak(algorithm: &str) -> bool {
    algorithm.eq_ignore_ascii_case("md5") || algorithm.eq_ignore_ascii_case("md2")
}

impl SessionDescription {
    /// The first rule violation, if any; see [`validate_all`](Self::validate_all).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self.validate_all().into_iter().next() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Every violation of the single-description rules, in section order.
    pub fn validate_all(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        for fp in self.fingerprints().filter(|fp| weak(&fp.algorithm)) {
            errors.push(ValidationError::WeakFingerprint {
                media_index: None,
                algorithm: fp.algorithm.clone(),
            });
        }
        let mut mids = HashSet::new();
        for (index, media) in self.media.iter().enumerate() {
            if let Some(mid) = media.mid()
                && !mids.insert(mid)
            {
                errors.push(ValidationError::DuplicateMid {
                    mid: mid.to_owned(),
                    media_index: index,
                });
            }
            self.validate_media(index, media, &mut errors);
        }
        for group in self.groups() {
            for mid in group.mids.iter().filter(|mid| !mids.contains(mid.as_str())) {
                errors.push(ValidationError::GroupUnknownMid {
                    semantics: group.semantics.clone(),
                    mid: mid.clone(),
                });
            }
        }
        errors
    }

    /// A fingerprint at media or session level, or in a section sharing its BUNDLE group.
    fn has_fingerprint_for(&self, media: &MediaDescription) -> bool {
        if media.fingerprints().next().is_some() || self.fingerprints().next().is_some() {
            return true;
        }
        let Some(mid) = media.mid() else { return false };
        self.bundle_groups()
            .filter(|g| g.mids.iter().any(|m| m == mid))
            .any(|group| {
                group.mids.iter().any(|m| {
                    self.media_by_mid(m)
                        .is_some_and(|other| other.fingerprints().next().is_some())
                })
            })
    }

    fn validate_media(
        &self,
        index: usize,
        media: &MediaDescription,
        errors: &mut Vec<ValidationError>,
    ) {
        if matches!(media.kind, MediaKind::Audio | MediaKind::Video) && !media.is_rtp() {
            errors.push(ValidationError::ProtoMismatch {
                media_index: index,
                kind: media.kind.clone(),
                proto: media.proto.clone(),
            });
        }
        for fp in media.fingerprints().filter(|fp| weak(&fp.algorithm)) {
            errors.push(ValidationError::WeakFingerprint {
                media_index: Some(index),
                algorithm: fp.algorithm.clone(),
            });
        }
        let simulcasts: Vec<_> = media
            .attributes
            .iter()
            .filter(|a| matches!(a, Attribute::Simulcast(_)))
            .collect();
        if simulcasts.len() > 1 {
            errors.push(ValidationError::DuplicateSimulcast { media_index: index });
        }
        if let Some(simulcast) = media.simulcast() {
            for stream in simulcast.rids() {
                if !media.rids().any(|rid| rid.id == stream.rid) {
                    errors.push(ValidationError::SimulcastUnknownRid {
                        media_index: index,
                        rid: stream.rid.clone(),
                    });
                }
            }
        }
        let rtpmaps: Vec<_> = media.rtpmaps().collect();
        for (i, a) in rtpmaps.iter().enumerate() {
            let conflict = rtpmaps.iter().take(i).any(|b| {
                b.payload_type == a.payload_type
                    && (!b.encoding.eq_ignore_ascii_case(&a.encoding)
                        || b.clock_rate != a.clock_rate
                        || b.channels != a.channels)
            });
            if conflict {
                errors.push(ValidationError::ConflictingRtpmap {
                    media_index: index,
                    payload_type: a.payload_type,
                });
            }
        }
        if media.proto.is_dtls() && !media.is_rejected() && !self.has_fingerprint_for(media) {
            errors.push(ValidationError::MissingFingerprint { media_index: index });
        }
        let has_credentials = (media.ice_ufrag().is_some() || self.ice_ufrag().is_some())
            && (media.ice_pwd().is_some() || self.ice_pwd().is_some());
        if media.candidates().next().is_some() && !has_credentials {
            errors.push(ValidationError::MissingIceCredentials { media_index: index });
        }
    }
}
