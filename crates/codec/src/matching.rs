//! Codec-specific fmtp matching: does an offered codec agree with one we support, and what fmtp
//! goes in our answer.

use std::cell::OnceCell;

use crate::{Av1Fmtp, Codec, CodecError, Fmtp, H264Fmtp, H265Fmtp, RejectionReason, Vp9Fmtp};

/// Why an fmtp did not match, plus how many deciding parameters matched before the mismatch, so
/// that the closest of several local candidates can be reported.
#[derive(Debug)]
pub(crate) struct FmtpMismatch {
    pub(crate) reason: RejectionReason,
    pub(crate) depth: u8,
}

fn mismatch(parameter: &'static str, offered: &Fmtp, depth: u8) -> FmtpMismatch {
    FmtpMismatch {
        reason: RejectionReason::FmtpMismatch {
            parameter,
            offered: offered.get(parameter).map(str::to_owned),
        },
        depth,
    }
}

fn invalid(error: CodecError) -> FmtpMismatch {
    FmtpMismatch {
        reason: RejectionReason::InvalidFmtp(error),
        depth: u8::MAX,
    }
}

/// Checks the parameters that decide compatibility between our `local` codec and an `offered`
/// codec of the same format, and returns the fmtp for our answer: our own parameters (unknown
/// ones included) with the levels computed per codec.
pub(crate) fn answer_fmtp(local: &Codec, offered: &Codec) -> Result<Fmtp, FmtpMismatch> {
    answer_fmtp_cached(local, &H264Reading::new(), offered, &H264Reading::new())
}

/// The H.264 reading of one codec's fmtp, parsed on first use: negotiation matches an offered
/// H.264 codec against every local H.264 capability, and each side is read once instead of
/// once per pair.
pub(crate) type H264Reading = OnceCell<Result<H264Fmtp, CodecError>>;

/// [`answer_fmtp`] with the H.264 readings of both sides kept in `local_h264` and
/// `offered_h264` (which must belong to `local` and `offered`).
pub(crate) fn answer_fmtp_cached(
    local: &Codec,
    local_h264: &H264Reading,
    offered: &Codec,
    offered_h264: &H264Reading,
) -> Result<Fmtp, FmtpMismatch> {
    let name: &str = &offered.name;
    let (ours, theirs) = (&local.fmtp, &offered.fmtp);
    if name.eq_ignore_ascii_case("H264") {
        let remote = offered_h264
            .get_or_init(|| H264Fmtp::from_fmtp(theirs))
            .clone()
            .map_err(invalid)?;
        let mine = local_h264
            .get_or_init(|| H264Fmtp::from_fmtp(ours))
            .clone()
            .map_err(invalid)?;
        if mine.profile_level_id.profile() != remote.profile_level_id.profile() {
            return Err(mismatch("profile-level-id", theirs, 0));
        }
        if mine.packetization_mode != remote.packetization_mode {
            return Err(mismatch("packetization-mode", theirs, 1));
        }
        let level = H264Fmtp::answer_level(&mine, &remote);
        let mut answer = ours.clone();
        answer.set(
            "profile-level-id",
            remote.profile_level_id.with_level(level).to_string(),
        );
        Ok(answer)
    } else if name.eq_ignore_ascii_case("VP9") {
        let remote = Vp9Fmtp::from_fmtp(theirs).map_err(invalid)?;
        let mine = Vp9Fmtp::from_fmtp(ours).map_err(invalid)?;
        if mine.profile_id != remote.profile_id {
            return Err(mismatch("profile-id", theirs, 0));
        }
        Ok(ours.clone())
    } else if name.eq_ignore_ascii_case("AV1") {
        let remote = Av1Fmtp::from_fmtp(theirs).map_err(invalid)?;
        let mine = Av1Fmtp::from_fmtp(ours).map_err(invalid)?;
        if mine.profile != remote.profile {
            return Err(mismatch("profile", theirs, 0));
        }
        Ok(ours.clone())
    } else if name.eq_ignore_ascii_case("H265") {
        let remote = H265Fmtp::from_fmtp(theirs).map_err(invalid)?;
        let mine = H265Fmtp::from_fmtp(ours).map_err(invalid)?;
        if mine.profile_id != remote.profile_id {
            return Err(mismatch("profile-id", theirs, 0));
        }
        if mine.tier_flag != remote.tier_flag {
            return Err(mismatch("tier-flag", theirs, 1));
        }
        if mine.tx_mode != remote.tx_mode {
            return Err(mismatch("tx-mode", theirs, 2));
        }
        let mut answer = ours.clone();
        answer.set("level-id", mine.level_id.min(remote.level_id).to_string());
        Ok(answer)
    } else {
        Ok(ours.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MediaKind;

    fn video(name: &'static str, fmtp: &str) -> Codec {
        Codec::new(MediaKind::Video, name, 90_000).with_fmtp(Fmtp::parse(fmtp).unwrap())
    }

    #[test]
    fn table() {
        // (local, offered, Ok(answer fmtp) or Err(mismatching parameter))
        let cases: &[(Codec, Codec, Result<&str, &str>)] = &[
            (
                video(
                    "H264",
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                ),
                video(
                    "H264",
                    "profile-level-id=42E01F;packetization-mode=1;level-asymmetry-allowed=1",
                ),
                Ok("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            ),
            (
                video(
                    "H264",
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                ),
                video("H264", "packetization-mode=1;profile-level-id=42c02a"),
                Ok("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f"),
            ),
            (
                video(
                    "H264",
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                ),
                video("H264", "profile-level-id=42e01f"),
                Err("packetization-mode"),
            ),
            (
                video("H264", "packetization-mode=1;profile-level-id=42e01f"),
                video("H264", "packetization-mode=1;profile-level-id=64001f"),
                Err("profile-level-id"),
            ),
            (
                video("H264", ""),
                video("H264", ""),
                Ok("profile-level-id=42000a"),
            ),
            (
                video("VP9", "profile-id=0"),
                video("VP9", ""),
                Ok("profile-id=0"),
            ),
            (
                video("VP9", "profile-id=0"),
                video("VP9", "profile-id=2"),
                Err("profile-id"),
            ),
            (
                video("AV1", "level-idx=5;profile=0;tier=0"),
                video("AV1", "level-idx=8"),
                Ok("level-idx=5;profile=0;tier=0"),
            ),
            (video("AV1", ""), video("AV1", "profile=1"), Err("profile")),
            (
                video("H265", "level-id=180;profile-id=1;tier-flag=0;tx-mode=SRST"),
                video("H265", "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
                Ok("level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
            ),
            (
                video("H265", "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
                video("H265", "level-id=180;profile-id=1;tier-flag=0;tx-mode=SRST"),
                Ok("level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
            ),
            (
                video("H265", "profile-id=1"),
                video("H265", "profile-id=2"),
                Err("profile-id"),
            ),
            (
                video("H265", ""),
                video("H265", "tier-flag=1"),
                Err("tier-flag"),
            ),
            (
                video("H265", ""),
                video("H265", "tx-mode=MRST"),
                Err("tx-mode"),
            ),
            (
                video("VP8", "x-google-start-bitrate=800"),
                video("VP8", "max-fr=60"),
                Ok("x-google-start-bitrate=800"),
            ),
        ];
        for (local, offered, expected) in cases {
            let got = answer_fmtp(local, offered);
            match (expected, got) {
                (Ok(answer), Ok(fmtp)) => assert_eq!(fmtp.to_string(), *answer, "{offered}"),
                (
                    Err(parameter),
                    Err(FmtpMismatch {
                        reason: RejectionReason::FmtpMismatch { parameter: p, .. },
                        ..
                    }),
                ) => {
                    assert_eq!(p, *parameter, "{offered}");
                }
                (expected, got) => panic!("{offered}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn malformed_offered_values_are_invalid_not_mismatched() {
        let local = video("H264", "packetization-mode=1;profile-level-id=42e01f");
        let got = answer_fmtp(
            &local,
            &video("H264", "packetization-mode=1;profile-level-id=xyz"),
        );
        assert!(matches!(
            got,
            Err(FmtpMismatch {
                reason: RejectionReason::InvalidFmtp(_),
                ..
            })
        ));
    }
}
