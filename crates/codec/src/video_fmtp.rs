//! Typed format parameters for VP9 (draft-ietf-payload-vp9 / RFC 9628), AV1 (AV1 RTP payload
//! specification) and H.265 (RFC 7798).

use crate::{CodecError, Fmtp};

/// Reads an integer parameter in `range`, or `default` when absent.
pub(crate) fn parse_int(
    fmtp: &Fmtp,
    parameter: &'static str,
    default: u8,
    range: std::ops::RangeInclusive<u8>,
    expected: &'static str,
) -> Result<u8, CodecError> {
    let Some(text) = fmtp.get(parameter) else {
        return Ok(default);
    };
    match text.parse::<u8>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(CodecError::InvalidParameterValue {
            parameter,
            value: text.to_owned(),
            expected,
        }),
    }
}

/// VP9 parameters: `profile-id` (0 when absent). Profiles must be equal to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vp9Fmtp {
    /// `profile-id`, 0..=3.
    pub profile_id: u8,
}

impl Vp9Fmtp {
    /// Reads the typed parameters out of `fmtp`.
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] for a malformed value.
    pub fn from_fmtp(fmtp: &Fmtp) -> Result<Self, CodecError> {
        Ok(Self {
            profile_id: parse_int(fmtp, "profile-id", 0, 0..=3, "0..=3")?,
        })
    }
}

/// AV1 parameters: `profile` (0 when absent) must be equal to match; `level-idx` (5 when absent)
/// and `tier` (0 when absent) declare what the receiver can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Av1Fmtp {
    /// `profile`, 0..=2 (Main, High, Professional).
    pub profile: u8,
    /// `level-idx`, 0..=31.
    pub level_idx: u8,
    /// `tier`, 0 (Main) or 1 (High).
    pub tier: u8,
}

impl Av1Fmtp {
    /// Reads the typed parameters out of `fmtp`.
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] for a malformed value.
    pub fn from_fmtp(fmtp: &Fmtp) -> Result<Self, CodecError> {
        Ok(Self {
            profile: parse_int(fmtp, "profile", 0, 0..=2, "0..=2")?,
            level_idx: parse_int(fmtp, "level-idx", 5, 0..=31, "0..=31")?,
            tier: parse_int(fmtp, "tier", 0, 0..=1, "0 or 1")?,
        })
    }
}

/// H.265 `tx-mode` (RFC 7798 7.1): single or multiple RTP streams / transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H265TxMode {
    /// `SRST`, the default: single RTP stream on a single transport.
    SingleStream,
    /// `MRST`: multiple RTP streams on a single transport.
    MultiStreamSingleTransport,
    /// `MRMT`: multiple RTP streams on multiple transports.
    MultiStreamMultiTransport,
}

/// H.265 parameters: `profile-id` (1 when absent), `tier-flag` (0) and `tx-mode` (SRST) must be
/// equal to match; `level-id` (93, level 3.1, when absent) is `30 * level`, and the answer carries
/// the lower of the two levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct H265Fmtp {
    /// `profile-id`, 0..=31 (1 Main, 2 Main 10...).
    pub profile_id: u8,
    /// `tier-flag`, 0 (Main) or 1 (High).
    pub tier_flag: u8,
    /// `level-id`, e.g. 93 (3.1), 120 (4), 150 (5), 180 (6).
    pub level_id: u8,
    /// `tx-mode`.
    pub tx_mode: H265TxMode,
}

impl H265Fmtp {
    /// Reads the typed parameters out of `fmtp`.
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] for a malformed value.
    pub fn from_fmtp(fmtp: &Fmtp) -> Result<Self, CodecError> {
        let tx_mode = match fmtp.get("tx-mode") {
            None => H265TxMode::SingleStream,
            Some(m) if m.eq_ignore_ascii_case("SRST") => H265TxMode::SingleStream,
            Some(m) if m.eq_ignore_ascii_case("MRST") => H265TxMode::MultiStreamSingleTransport,
            Some(m) if m.eq_ignore_ascii_case("MRMT") => H265TxMode::MultiStreamMultiTransport,
            Some(other) => {
                return Err(CodecError::InvalidParameterValue {
                    parameter: "tx-mode",
                    value: other.to_owned(),
                    expected: "SRST, MRST or MRMT",
                });
            }
        };
        Ok(Self {
            profile_id: parse_int(fmtp, "profile-id", 1, 0..=31, "0..=31")?,
            tier_flag: parse_int(fmtp, "tier-flag", 0, 0..=1, "0 or 1")?,
            level_id: parse_int(fmtp, "level-id", 93, 0..=255, "0..=255")?,
            tx_mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmtp(text: &str) -> Fmtp {
        Fmtp::parse(text).unwrap()
    }

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(
            Vp9Fmtp::from_fmtp(&Fmtp::new()),
            Ok(Vp9Fmtp { profile_id: 0 })
        );
        assert_eq!(
            Av1Fmtp::from_fmtp(&Fmtp::new()),
            Ok(Av1Fmtp {
                profile: 0,
                level_idx: 5,
                tier: 0
            })
        );
        assert_eq!(
            H265Fmtp::from_fmtp(&Fmtp::new()),
            Ok(H265Fmtp {
                profile_id: 1,
                tier_flag: 0,
                level_id: 93,
                tx_mode: H265TxMode::SingleStream
            })
        );
    }

    #[test]
    fn reads_browser_values() {
        assert_eq!(
            Vp9Fmtp::from_fmtp(&fmtp("profile-id=2")),
            Ok(Vp9Fmtp { profile_id: 2 })
        );
        assert_eq!(
            Av1Fmtp::from_fmtp(&fmtp("level-idx=5;profile=0;tier=0")),
            Ok(Av1Fmtp {
                profile: 0,
                level_idx: 5,
                tier: 0
            })
        );
        assert_eq!(
            H265Fmtp::from_fmtp(&fmtp("level-id=180;profile-id=2;tier-flag=0;tx-mode=SRST")),
            Ok(H265Fmtp {
                profile_id: 2,
                tier_flag: 0,
                level_id: 180,
                tx_mode: H265TxMode::SingleStream
            })
        );
    }

    type Reader = fn(&Fmtp) -> Result<(), CodecError>;

    #[test]
    fn rejects_out_of_range_values() {
        let cases: [(&str, Reader); 6] = [
            ("profile-id=4", |f| Vp9Fmtp::from_fmtp(f).map(drop)),
            ("profile-id=-1", |f| Vp9Fmtp::from_fmtp(f).map(drop)),
            ("profile=3", |f| Av1Fmtp::from_fmtp(f).map(drop)),
            ("tier=2", |f| Av1Fmtp::from_fmtp(f).map(drop)),
            ("level-id=256", |f| H265Fmtp::from_fmtp(f).map(drop)),
            ("tx-mode=XYZ", |f| H265Fmtp::from_fmtp(f).map(drop)),
        ];
        for (text, read) in cases {
            assert!(
                matches!(
                    read(&fmtp(text)),
                    Err(CodecError::InvalidParameterValue { .. })
                ),
                "{text}"
            );
        }
    }
}
