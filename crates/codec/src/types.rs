//! The W3C-shaped capability types: codecs, rtcp-fb, header extensions, directions.

use std::borrow::Cow;
use std::fmt;

use crate::Fmtp;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
}

impl MediaKind {
    /// `"audio"` or `"video"`, the first half of a MIME type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use antiphon_types::Direction;

/// What a codec is for, decided by its name: a media codec or one of the helpers that only make
/// sense next to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecRole {
    /// A codec that carries media (opus, VP8, H264...).
    Media,
    /// `rtx` retransmission (RFC 4588), tied to a codec by `apt`.
    Retransmission,
    /// `red` redundancy (RFC 2198).
    Redundancy,
    /// `ulpfec` or `flexfec-03` forward error correction.
    ForwardErrorCorrection,
    /// `CN` comfort noise (RFC 3389), tied to codecs of its clock rate.
    ComfortNoise,
    /// `telephone-event` DTMF (RFC 4733), tied to codecs of its clock rate.
    TelephoneEvent,
}

/// A codec: RTCRtpCodec's mimeType (kind + encoding name), clockRate, channels and sdpFmtpLine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codec {
    /// Audio or video, the first half of the MIME type.
    pub kind: MediaKind,
    /// The encoding name as in `a=rtpmap` (`opus`, `VP8`, `H264`, `rtx`...), compared
    /// case-insensitively. Borrowed when it is a `&'static str` (the built-in capabilities,
    /// or a name the SDP parser knows), so copying a codec allocates nothing for it.
    pub name: Cow<'static, str>,
    /// RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channel count; `None` means 1 for audio and is the only sensible value for video.
    pub channels: Option<u16>,
    /// Format parameters.
    pub fmtp: Fmtp,
}

impl Codec {
    /// A codec without channels or format parameters.
    pub fn new(kind: MediaKind, name: impl Into<Cow<'static, str>>, clock_rate: u32) -> Self {
        Self {
            kind,
            name: name.into(),
            clock_rate,
            channels: None,
            fmtp: Fmtp::new(),
        }
    }

    /// Builder: sets the channel count.
    #[must_use]
    pub fn with_channels(mut self, channels: u16) -> Self {
        self.channels = Some(channels);
        self
    }

    /// Builder: sets the format parameters.
    #[must_use]
    pub fn with_fmtp(mut self, fmtp: Fmtp) -> Self {
        self.fmtp = fmtp;
        self
    }

    /// The W3C mimeType, e.g. `video/VP8`.
    pub fn mime_type(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// What this codec is for, by name.
    pub fn role(&self) -> CodecRole {
        let name: &str = &self.name;
        if name.eq_ignore_ascii_case("rtx") {
            CodecRole::Retransmission
        } else if name.eq_ignore_ascii_case("red") {
            CodecRole::Redundancy
        } else if ["ulpfec", "flexfec-03", "flexfec"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        {
            CodecRole::ForwardErrorCorrection
        } else if name.eq_ignore_ascii_case("CN") {
            CodecRole::ComfortNoise
        } else if name.eq_ignore_ascii_case("telephone-event") {
            CodecRole::TelephoneEvent
        } else {
            CodecRole::Media
        }
    }

    /// Channel count with the RFC default applied (1 when absent).
    pub fn channel_count(&self) -> u16 {
        self.channels.unwrap_or(1)
    }

    /// Same kind, encoding name (case-insensitive), clock rate and channel count; fmtp ignored.
    pub fn is_same_format(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.name.eq_ignore_ascii_case(&other.name)
            && self.clock_rate == other.clock_rate
            && self.channel_count() == other.channel_count()
    }

    /// Same format and format parameters that agree by the codec's rules (H.264 profile and
    /// packetization-mode, VP9/AV1 profile, H.265 profile/tier/tx-mode; levels never decide).
    pub fn is_compatible_with(&self, other: &Self) -> bool {
        self.is_same_format(other) && crate::matching::answer_fmtp(self, other).is_ok()
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Codec {
    /// The `Display` text (`video/H264/90000 packetization-mode=1;...`), built with `push_str`
    /// into one exactly sized `String`: negotiation describes every offered codec for the
    /// explanation, and going through `core::fmt` for each piece was a visible cost.
    pub(crate) fn describe(&self) -> String {
        let params = self.fmtp.as_str();
        let kind = self.kind.as_str();
        let mut out = String::with_capacity(kind.len() + self.name.len() + 20 + params.len());
        out.push_str(kind);
        out.push('/');
        out.push_str(&self.name);
        out.push('/');
        push_decimal(&mut out, u64::from(self.clock_rate));
        if let Some(channels) = self.channels {
            out.push('/');
            push_decimal(&mut out, u64::from(channels));
        }
        if !self.fmtp.is_empty() {
            out.push(' ');
            out.push_str(params);
        }
        out
    }
}

/// Appends `value` in decimal.
fn push_decimal(out: &mut String, value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = value;
    loop {
        start -= 1;
        // `rest % 10` is a single digit.
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// One RTCP feedback mechanism (RTCRtcpFeedback): `a=rtcp-fb:<pt> <type> [<parameter>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtcpFeedback {
    /// The feedback type: `nack`, `ccm`, `goog-remb`, `transport-cc`...
    pub feedback_type: Cow<'static, str>,
    /// The parameter, e.g. `pli` for `nack pli`, `fir` for `ccm fir`.
    pub parameter: Option<Cow<'static, str>>,
}

impl RtcpFeedback {
    /// A feedback entry with an optional parameter (copied; the built-in ones below borrow).
    pub fn new(feedback_type: impl Into<Cow<'static, str>>, parameter: Option<&str>) -> Self {
        Self {
            feedback_type: feedback_type.into(),
            parameter: parameter.map(|parameter| Cow::Owned(parameter.to_owned())),
        }
    }

    /// A feedback entry of `&'static str`s.
    const fn fixed(feedback_type: &'static str, parameter: Option<&'static str>) -> Self {
        let parameter = match parameter {
            Some(parameter) => Some(Cow::Borrowed(parameter)),
            None => None,
        };
        Self {
            feedback_type: Cow::Borrowed(feedback_type),
            parameter,
        }
    }

    /// `nack` (RFC 4585 generic NACK).
    pub fn nack() -> Self {
        Self::fixed("nack", None)
    }

    /// `nack pli` (picture loss indication).
    pub fn nack_pli() -> Self {
        Self::fixed("nack", Some("pli"))
    }

    /// `ccm fir` (full intra request, RFC 5104).
    pub fn ccm_fir() -> Self {
        Self::fixed("ccm", Some("fir"))
    }

    /// `goog-remb` (receiver estimated maximum bitrate).
    pub fn goog_remb() -> Self {
        Self::fixed("goog-remb", None)
    }

    /// `transport-cc` (transport-wide congestion control feedback).
    pub fn transport_cc() -> Self {
        Self::fixed("transport-cc", None)
    }

    /// Same type and parameter, compared case-insensitively.
    pub fn same_as(&self, other: &Self) -> bool {
        self.feedback_type
            .eq_ignore_ascii_case(&other.feedback_type)
            && match (&self.parameter, &other.parameter) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl fmt::Display for RtcpFeedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.feedback_type)?;
        if let Some(parameter) = &self.parameter {
            write!(f, " {parameter}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Capabilities;

    /// The reference form of [`Codec::describe`]: the `Display` text as `core::fmt` writes it.
    fn reference(codec: &Codec) -> String {
        let mut out = format!("{}/{}/{}", codec.kind, codec.name, codec.clock_rate);
        if let Some(channels) = codec.channels {
            out.push_str(&format!("/{channels}"));
        }
        if !codec.fmtp.is_empty() {
            out.push_str(&format!(" {}", codec.fmtp));
        }
        out
    }

    #[test]
    fn describe_is_the_display_text() {
        let defaults = Capabilities::browser_default();
        let mut codecs: Vec<Codec> = [&defaults.audio, &defaults.video]
            .into_iter()
            .flat_map(|media| media.codecs.iter().map(|c| c.codec.clone()))
            .collect();
        let mut odd = Codec::new(MediaKind::Audio, "x-bare", 0);
        odd.channels = Some(u16::MAX);
        odd.fmtp = "flag;a=1;b=".parse().unwrap_or_default();
        codecs.push(odd);
        codecs.push(Codec::new(MediaKind::Video, "VP8", u32::MAX));
        assert!(codecs.len() > 5);
        for codec in &codecs {
            assert_eq!(codec.describe(), reference(codec));
            assert_eq!(codec.to_string(), reference(codec));
        }
    }
}
