//! Payloads of the RTP and media-level attributes: rtpmap, rtcp-fb, rtcp, extmap, ssrc,
//! ssrc-group, rid, simulcast, sctpmap, imageattr, crypto, and decimal values.

use std::borrow::Cow;

use crate::attribute::Direction;
use crate::known;
use crate::model::Connection;

/// `a=rtpmap`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// RTP payload type (0..=127).
    pub payload_type: u8,
    /// Encoding name, such as `opus` (borrowed for the names browsers use, see
    /// [`Rtpmap::new`]).
    pub encoding: Cow<'static, str>,
    /// Clock rate in Hz; 0 when the line had none (lenient mode only).
    pub clock_rate: u32,
    /// Channel count, if given.
    pub channels: Option<u16>,
}

/// `a=rtcp-fb`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb {
    /// Payload type, `None` for `*`.
    pub payload_type: Option<u8>,
    /// Feedback type: `nack`, `ccm`, `goog-remb`, `transport-cc`, ...
    pub feedback: Cow<'static, str>,
    /// The rest of the line (`pli`, `fir`, ...), if any.
    pub param: Option<Cow<'static, str>>,
}

/// `a=rtcp`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// RTCP port.
    pub port: u16,
    /// Address, if given.
    pub connection: Option<Connection>,
}

impl Rtpmap {
    /// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`. A codec name browsers use is
    /// kept as a `&'static str`, any other copied.
    pub fn new(payload_type: u8, encoding: &str, clock_rate: u32, channels: Option<u16>) -> Self {
        Self {
            payload_type,
            encoding: known::token(encoding, known::encoding_name),
            clock_rate,
            channels,
        }
    }
}

impl RtcpFb {
    /// `a=rtcp-fb:<pt|*> <feedback> [<param>]`; `None` payload type writes `*`.
    pub fn new(payload_type: Option<u8>, feedback: &str, param: Option<&str>) -> Self {
        Self {
            payload_type,
            feedback: known::token(feedback, known::feedback),
            param: param.map(|param| known::token(param, known::feedback)),
        }
    }
}

impl Rtcp {
    /// `a=rtcp:9 IN IP4 0.0.0.0`, what JSEP endpoints write when RTCP is muxed.
    pub fn discard() -> Self {
        Self {
            port: 9,
            connection: Some(Connection {
                net_type: "IN".into(),
                addr_type: "IP4".into(),
                address: "0.0.0.0".into(),
            }),
        }
    }
}

/// `a=extmap`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extmap {
    /// Extension id (1..=14 one-byte, up to 255 two-byte; 4096.. reserved).
    pub id: u16,
    /// `/direction`, if given.
    pub direction: Option<Direction>,
    /// Whether the extension is encrypted (`urn:ietf:params:rtp-hdrext:encrypt` prefix, RFC 6904).
    pub encrypt: bool,
    /// The extension URI.
    pub uri: Cow<'static, str>,
    /// Extension attributes after the URI, verbatim.
    pub extension_attributes: Option<String>,
}

impl Extmap {
    /// `a=extmap:<id> <uri>`, without direction, encryption or extension attributes.
    pub fn new(id: u16, uri: &str) -> Self {
        Self {
            id,
            direction: None,
            encrypt: false,
            uri: known::token(uri, known::extension_uri),
            extension_attributes: None,
        }
    }

    /// The URI that marks an encrypted extension (RFC 6904).
    pub const ENCRYPT_URI: &'static str = "urn:ietf:params:rtp-hdrext:encrypt";
}

/// `a=ssrc`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssrc {
    /// The SSRC.
    pub id: u32,
    /// Source attribute name: `cname`, `msid`, `mslabel`, `label`, ...; empty for a bare
    /// `a=ssrc:<id>` (as Firefox writes).
    pub attribute: Cow<'static, str>,
    /// Source attribute value (text after the first `:`), if any.
    pub value: Option<String>,
}

/// `a=ssrc-group`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    /// `FID`, `FEC`, `FEC-FR`, `SIM`, ...
    pub semantics: String,
    /// The SSRCs, in order.
    pub ssrcs: Vec<u32>,
}

/// `a=rid` direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`
    Send,
    /// `recv`
    Recv,
}

impl RidDirection {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }
}

/// `a=rid`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rid {
    /// The rid-id.
    pub id: String,
    /// `send` or `recv`.
    pub direction: RidDirection,
    /// Payload types from `pt=` (empty when absent).
    pub formats: Vec<u8>,
    /// The other restrictions (`max-width=1280`, ...), in order.
    pub restrictions: Vec<RidRestriction>,
}

/// One `name[=value]` restriction of `a=rid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RidRestriction {
    /// Restriction name.
    pub name: String,
    /// Value, if given.
    pub value: Option<String>,
}

/// `a=simulcast`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulcast {
    /// `send` streams: each entry is a list of alternatives (`1,2` in `send 1,2;3`).
    pub send: Vec<Vec<SimulcastStream>>,
    /// `recv` streams, same shape.
    pub recv: Vec<Vec<SimulcastStream>>,
}

impl Simulcast {
    /// Every rid-id named, in either direction.
    pub fn rids(&self) -> impl Iterator<Item = &SimulcastStream> {
        self.send.iter().chain(&self.recv).flatten()
    }
}

/// One rid in `a=simulcast`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulcastStream {
    /// The rid-id.
    pub rid: String,
    /// `~` prefix: initially paused.
    pub paused: bool,
}

/// `a=sctpmap`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sctpmap {
    /// SCTP port (the m= format).
    pub port: u16,
    /// Protocol, `webrtc-datachannel`.
    pub protocol: String,
    /// Stream count, if given.
    pub streams: Option<u32>,
}

/// `a=imageattr`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAttr {
    /// Payload type, `None` for `*`.
    pub payload_type: Option<u8>,
    /// The send/recv sets, verbatim.
    pub params: String,
}

/// A non-negative decimal number kept as written (`20`, `0.125`, `29.97`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// `text` if it is `1*DIGIT ["." 1*DIGIT]`.
    pub fn new(text: &str) -> Option<Self> {
        let (int, frac) = match text.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(int) && frac.is_none_or(digits)).then(|| Self(text.to_owned()))
    }

    /// A whole number.
    pub fn from_integer(value: u32) -> Self {
        Self(value.to_string())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a float.
    pub fn as_f64(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }
}

/// `a=crypto` (RFC 4568): an SDES key line, kept at the text level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// Tag (1 to 9 digits) identifying this line in offer/answer.
    pub tag: u32,
    /// Crypto suite, such as `AES_CM_128_HMAC_SHA1_80`.
    pub suite: String,
    /// Key parameters (`inline:<key>[|<lifetime>][|<MKI>]`, `;`-separated), verbatim.
    pub key_params: String,
    /// Session parameters after the key parameters, verbatim.
    pub session_params: Option<String>,
}
