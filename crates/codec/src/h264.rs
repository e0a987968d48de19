//! H.264 format parameters (RFC 6184): `profile-level-id` parsed into profile and level, and the
//! answer-level rule of RFC 6184 section 8.2.2 / RFC 7742.

use std::fmt;

use crate::{CodecError, Fmtp};

/// The `profile-level-id` used when the parameter is absent: Baseline, level 1 (RFC 6184 8.1).
pub const DEFAULT_PROFILE_LEVEL_ID: &str = "42000a";

/// An H.264 profile, as identified by `profile_idc` plus the constraint flags in `profile-iop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum H264Profile {
    /// Constrained Baseline (`42e0..`, `42c0..`, `4d80..`/`4dc0..`, `58c0..`).
    ConstrainedBaseline,
    /// Baseline (`4200..`, `5880..`).
    Baseline,
    /// Main (`4d00..`, `4d40..`).
    Main,
    /// Constrained High (`640c..`).
    ConstrainedHigh,
    /// High (`6400..`).
    High,
    /// Predictive High 4:4:4 (`f400..`).
    PredictiveHigh444,
}

/// An H.264 level. Variants are ordered by capability, so `Ord` compares them; level 1b sits
/// between 1 and 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // The variant names are the level numbers.
pub enum H264Level {
    L1,
    L1b,
    L1_1,
    L1_2,
    L1_3,
    L2,
    L2_1,
    L2_2,
    L3,
    L3_1,
    L3_2,
    L4,
    L4_1,
    L4_2,
    L5,
    L5_1,
    L5_2,
    L6,
    L6_1,
    L6_2,
}

impl H264Level {
    /// The `level_idc` byte for this level; level 1b is written as 11 plus constraint_set3 for
    /// Baseline/Main-family profiles, or 9 otherwise (see [`ProfileLevelId::with_level`]).
    fn level_idc(self) -> u8 {
        match self {
            Self::L1 => 10,
            Self::L1b | Self::L1_1 => 11,
            Self::L1_2 => 12,
            Self::L1_3 => 13,
            Self::L2 => 20,
            Self::L2_1 => 21,
            Self::L2_2 => 22,
            Self::L3 => 30,
            Self::L3_1 => 31,
            Self::L3_2 => 32,
            Self::L4 => 40,
            Self::L4_1 => 41,
            Self::L4_2 => 42,
            Self::L5 => 50,
            Self::L5_1 => 51,
            Self::L5_2 => 52,
            Self::L6 => 60,
            Self::L6_1 => 61,
            Self::L6_2 => 62,
        }
    }

    fn from_level_idc(level_idc: u8) -> Option<Self> {
        [
            Self::L1,
            Self::L1_1,
            Self::L1_2,
            Self::L1_3,
            Self::L2,
            Self::L2_1,
            Self::L2_2,
            Self::L3,
            Self::L3_1,
            Self::L3_2,
            Self::L4,
            Self::L4_1,
            Self::L4_2,
            Self::L5,
            Self::L5_1,
            Self::L5_2,
            Self::L6,
            Self::L6_1,
            Self::L6_2,
        ]
        .into_iter()
        .find(|level| level.level_idc() == level_idc)
    }
}

/// Constraint flag `constraint_set3`, which together with `level_idc` 11 means level 1b for the
/// Baseline/Main family.
const CONSTRAINT_SET3: u8 = 0x10;

/// Profile idcs whose level 1b is signalled with `constraint_set3` (RFC 6184 8.1).
fn signals_1b_with_flag(profile_idc: u8) -> bool {
    matches!(profile_idc, 0x42 | 0x4d | 0x58)
}

/// A parsed `profile-level-id`: three bytes `profile_idc`, `profile-iop`, `level_idc`.
///
/// ```
/// use antiphon_codec::{H264Level, H264Profile, ProfileLevelId};
/// let safari_high = ProfileLevelId::parse("640c1f")?;
/// assert_eq!(safari_high.profile(), H264Profile::ConstrainedHigh);
/// assert_eq!(safari_high.level(), H264Level::L3_1);
/// assert_eq!(ProfileLevelId::parse("42f00b")?.level(), H264Level::L1b);
/// # Ok::<(), antiphon_codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileLevelId {
    profile_idc: u8,
    profile_iop: u8,
    level_idc: u8,
    profile: H264Profile,
    level: H264Level,
}

impl ProfileLevelId {
    /// Parses six hex digits (either case).
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] when the text is not six hex digits, or the profile
    /// bytes or level byte name no known H.264 profile or level.
    pub fn parse(text: &str) -> Result<Self, CodecError> {
        let invalid = |expected| CodecError::InvalidParameterValue {
            parameter: "profile-level-id",
            value: text.to_owned(),
            expected,
        };
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("6 hex digits"));
        }
        let byte = |at: usize| {
            text.get(at..at + 2)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| invalid("6 hex digits"))
        };
        let (profile_idc, profile_iop, level_idc) = (byte(0)?, byte(2)?, byte(4)?);
        let profile = classify_profile(profile_idc, profile_iop)
            .ok_or_else(|| invalid("a known H.264 profile_idc and constraint flags"))?;
        let is_1b = (level_idc == 11
            && signals_1b_with_flag(profile_idc)
            && profile_iop & CONSTRAINT_SET3 != 0)
            || level_idc == 9;
        let level = if is_1b {
            H264Level::L1b
        } else {
            H264Level::from_level_idc(level_idc)
                .ok_or_else(|| invalid("a known H.264 level_idc"))?
        };
        Ok(Self {
            profile_idc,
            profile_iop,
            level_idc,
            profile,
            level,
        })
    }

    /// The profile the `profile_idc` and constraint flags identify.
    pub fn profile(&self) -> H264Profile {
        self.profile
    }

    /// The level.
    pub fn level(&self) -> H264Level {
        self.level
    }

    /// The same profile bytes at another level, written the way RFC 6184 asks (level 1b as
    /// `constraint_set3` + 11 for Baseline/Main, as 9 for the High family).
    #[must_use]
    pub fn with_level(&self, level: H264Level) -> Self {
        let mut profile_iop = self.profile_iop;
        let level_idc = match level {
            H264Level::L1b if signals_1b_with_flag(self.profile_idc) => {
                profile_iop |= CONSTRAINT_SET3;
                11
            }
            H264Level::L1b => 9,
            other => {
                if signals_1b_with_flag(self.profile_idc) && other.level_idc() == 11 {
                    profile_iop &= !CONSTRAINT_SET3;
                }
                other.level_idc()
            }
        };
        Self {
            profile_iop,
            level_idc,
            level,
            ..*self
        }
    }
}

fn classify_profile(profile_idc: u8, profile_iop: u8) -> Option<H264Profile> {
    // Bits 0..3 of profile-iop are reserved and must be zero for every profile below.
    if profile_iop & 0x0f != 0 && profile_idc != 0x64 {
        return None;
    }
    let set0 = profile_iop & 0x80 != 0;
    let set1 = profile_iop & 0x40 != 0;
    let set2 = profile_iop & 0x20 != 0;
    match profile_idc {
        0x42 if set1 => Some(H264Profile::ConstrainedBaseline),
        0x42 => Some(H264Profile::Baseline),
        0x4d if set0 => Some(H264Profile::ConstrainedBaseline),
        0x4d if !set2 => Some(H264Profile::Main),
        0x58 if set0 && set1 => Some(H264Profile::ConstrainedBaseline),
        0x58 if set0 => Some(H264Profile::Baseline),
        0x64 if profile_iop == 0x00 => Some(H264Profile::High),
        0x64 if profile_iop == 0x0c => Some(H264Profile::ConstrainedHigh),
        0xf4 if profile_iop == 0x00 => Some(H264Profile::PredictiveHigh444),
        _ => None,
    }
}

impl fmt::Display for ProfileLevelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}{:02x}{:02x}",
            self.profile_idc, self.profile_iop, self.level_idc
        )
    }
}

/// The H.264 parameters that decide compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct H264Fmtp {
    /// `profile-level-id`, [`DEFAULT_PROFILE_LEVEL_ID`] when absent.
    pub profile_level_id: ProfileLevelId,
    /// `packetization-mode` (0, 1 or 2), 0 when absent.
    pub packetization_mode: u8,
    /// `level-asymmetry-allowed=1`.
    pub level_asymmetry_allowed: bool,
}

impl H264Fmtp {
    /// Reads the typed parameters out of `fmtp`, applying RFC 6184 defaults for absent ones.
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] for a malformed value.
    pub fn from_fmtp(fmtp: &Fmtp) -> Result<Self, CodecError> {
        let profile_level_id = ProfileLevelId::parse(
            fmtp.get("profile-level-id")
                .unwrap_or(DEFAULT_PROFILE_LEVEL_ID),
        )?;
        let packetization_mode = match fmtp.get("packetization-mode") {
            None => 0,
            Some(text) => match text.parse::<u8>() {
                Ok(mode @ 0..=2) => mode,
                _ => {
                    return Err(CodecError::InvalidParameterValue {
                        parameter: "packetization-mode",
                        value: text.to_owned(),
                        expected: "0, 1 or 2",
                    });
                }
            },
        };
        let level_asymmetry_allowed = parse_flag(fmtp, "level-asymmetry-allowed")?;
        Ok(Self {
            profile_level_id,
            packetization_mode,
            level_asymmetry_allowed,
        })
    }

    /// The level the answerer puts in its answer (RFC 6184 8.2.2, libwebrtc's rule): its own level
    /// when both sides allow level asymmetry, otherwise the lower of the two.
    pub fn answer_level(local: &Self, offered: &Self) -> H264Level {
        let local_level = local.profile_level_id.level();
        if local.level_asymmetry_allowed && offered.level_asymmetry_allowed {
            local_level
        } else {
            local_level.min(offered.profile_level_id.level())
        }
    }
}

/// Reads a `0`/`1` flag parameter (absent = false).
pub(crate) fn parse_flag(fmtp: &Fmtp, parameter: &'static str) -> Result<bool, CodecError> {
    match fmtp.get(parameter) {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(CodecError::InvalidParameterValue {
            parameter,
            value: other.to_owned(),
            expected: "0 or 1",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use H264Level::*;
    use H264Profile::*;

    #[test]
    fn classifies_profiles_and_levels() {
        let cases = [
            ("42e01f", ConstrainedBaseline, L3_1),
            ("42E01F", ConstrainedBaseline, L3_1),
            ("42c01f", ConstrainedBaseline, L3_1),
            ("42001f", Baseline, L3_1),
            ("42000a", Baseline, L1),
            ("4d001f", Main, L3_1),
            ("4d4028", Main, L4),
            ("4d8028", ConstrainedBaseline, L4),
            ("58c01e", ConstrainedBaseline, L3),
            ("58801e", Baseline, L3),
            ("640c1f", ConstrainedHigh, L3_1),
            ("640c34", ConstrainedHigh, L5_2),
            ("64001f", High, L3_1),
            ("640032", High, L5),
            ("f4001f", PredictiveHigh444, L3_1),
            ("42f00b", ConstrainedBaseline, L1b),
            ("42100b", Baseline, L1b),
            ("42e00b", ConstrainedBaseline, L1_1),
            ("4d100b", Main, L1b),
            ("640009", High, L1b),
            ("42e03c", ConstrainedBaseline, L6),
        ];
        for (text, profile, level) in cases {
            let parsed = ProfileLevelId::parse(text).unwrap();
            assert_eq!(
                (parsed.profile(), parsed.level()),
                (profile, level),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_unknown_or_malformed_ids() {
        for text in [
            "", "42e01", "42e01f0", "zze01f", "4+e01f", "42e0ff", "640101", "4d2028", "00001f",
            "é2e01f",
        ] {
            assert!(
                matches!(
                    ProfileLevelId::parse(text),
                    Err(CodecError::InvalidParameterValue {
                        parameter: "profile-level-id",
                        ..
                    })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn writes_levels_back_including_1b() {
        let cases = [
            ("42e01f", L1b, "42f00b"),
            ("42f00b", L1_1, "42e00b"),
            ("42f00b", L3_1, "42f01f"),
            ("640c1f", L1b, "640c09"),
            ("4d001f", L5_1, "4d0033"),
            ("42e01f", L3_1, "42e01f"),
        ];
        for (from, level, expected) in cases {
            let written = ProfileLevelId::parse(from).unwrap().with_level(level);
            assert_eq!(written.to_string(), expected, "{from} at {level:?}");
            assert_eq!(ProfileLevelId::parse(expected).unwrap().level(), level);
        }
    }

    #[test]
    fn answer_level_follows_level_asymmetry() {
        let fmtp = |text: &str| H264Fmtp::from_fmtp(&Fmtp::parse(text).unwrap()).unwrap();
        let local_high =
            fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034");
        let remote_low =
            fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
        let remote_low_strict = fmtp("packetization-mode=1;profile-level-id=42e01f");
        let local_low =
            fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00b");
        assert_eq!(H264Fmtp::answer_level(&local_high, &remote_low), L5_2);
        assert_eq!(
            H264Fmtp::answer_level(&local_high, &remote_low_strict),
            L3_1
        );
        assert_eq!(H264Fmtp::answer_level(&local_low, &remote_low), L1_1);
        assert_eq!(H264Fmtp::answer_level(&local_low, &remote_low_strict), L1_1);
    }

    #[test]
    fn defaults_and_invalid_values() {
        let absent = H264Fmtp::from_fmtp(&Fmtp::new()).unwrap();
        assert_eq!(absent.packetization_mode, 0);
        assert_eq!(absent.profile_level_id.profile(), Baseline);
        assert_eq!(absent.profile_level_id.level(), L1);
        assert!(!absent.level_asymmetry_allowed);
        for bad in [
            "packetization-mode=3",
            "packetization-mode=x",
            "level-asymmetry-allowed=yes",
        ] {
            assert!(
                H264Fmtp::from_fmtp(&Fmtp::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
