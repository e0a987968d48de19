//! Opus format parameters (RFC 7587 section 6.1). None of them decide compatibility: they state
//! receiver preferences, so negotiation carries them through rather than matching on them.

use crate::h264::parse_flag;
use crate::{CodecError, Fmtp};

/// The Opus parameters, each `None` (or `false`) when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OpusFmtp {
    /// `minptime`, milliseconds.
    pub min_ptime: Option<u32>,
    /// `maxplaybackrate`, Hz.
    pub max_playback_rate: Option<u32>,
    /// `sprop-maxcapturerate`, Hz.
    pub sprop_max_capture_rate: Option<u32>,
    /// `maxaveragebitrate`, bits per second.
    pub max_average_bitrate: Option<u32>,
    /// `stereo=1`: the receiver prefers stereo.
    pub stereo: bool,
    /// `sprop-stereo=1`: the sender is likely to send stereo.
    pub sprop_stereo: bool,
    /// `cbr=1`: the receiver prefers constant bitrate.
    pub cbr: bool,
    /// `useinbandfec=1`: the receiver can use Opus in-band FEC.
    pub use_inband_fec: bool,
    /// `usedtx=1`: the receiver prefers discontinuous transmission.
    pub use_dtx: bool,
}

impl OpusFmtp {
    /// Reads the typed parameters out of `fmtp`; unknown parameters are ignored here and stay in
    /// the [`Fmtp`].
    ///
    /// # Errors
    /// [`CodecError::InvalidParameterValue`] for a malformed value.
    pub fn from_fmtp(fmtp: &Fmtp) -> Result<Self, CodecError> {
        let number = |parameter: &'static str| -> Result<Option<u32>, CodecError> {
            fmtp.get(parameter)
                .map(|text| {
                    text.parse::<u32>()
                        .map_err(|_| CodecError::InvalidParameterValue {
                            parameter,
                            value: text.to_owned(),
                            expected: "a decimal integer",
                        })
                })
                .transpose()
        };
        Ok(Self {
            min_ptime: number("minptime")?,
            max_playback_rate: number("maxplaybackrate")?,
            sprop_max_capture_rate: number("sprop-maxcapturerate")?,
            max_average_bitrate: number("maxaveragebitrate")?,
            stereo: parse_flag(fmtp, "stereo")?,
            sprop_stereo: parse_flag(fmtp, "sprop-stereo")?,
            cbr: parse_flag(fmtp, "cbr")?,
            use_inband_fec: parse_flag(fmtp, "useinbandfec")?,
            use_dtx: parse_flag(fmtp, "usedtx")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_browser_and_custom_values() {
        let chrome =
            OpusFmtp::from_fmtp(&Fmtp::parse("minptime=10;useinbandfec=1").unwrap()).unwrap();
        assert_eq!(
            chrome,
            OpusFmtp {
                min_ptime: Some(10),
                use_inband_fec: true,
                ..OpusFmtp::default()
            }
        );
        let firefox = OpusFmtp::from_fmtp(
            &Fmtp::parse("maxplaybackrate=48000;stereo=1;useinbandfec=1;x-custom=3").unwrap(),
        )
        .unwrap();
        assert_eq!(firefox.max_playback_rate, Some(48000));
        assert!(firefox.stereo && firefox.use_inband_fec && !firefox.use_dtx);
        assert!(OpusFmtp::from_fmtp(&Fmtp::parse("minptime=ten").unwrap()).is_err());
        assert!(OpusFmtp::from_fmtp(&Fmtp::parse("stereo=2").unwrap()).is_err());
    }
}
