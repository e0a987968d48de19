//! `a=` lines: one typed variant per attribute WebRTC uses, unknown ones kept verbatim.

pub use antiphon_types::{Direction, Setup};

pub use crate::attribute_types::{
    Crypto, Decimal, Extmap, ImageAttr, Rid, RidDirection, RidRestriction, Rtcp, RtcpFb, Rtpmap,
    Sctpmap, Simulcast, SimulcastStream, Ssrc, SsrcGroup,
};
use crate::error::Level;
use crate::fmtp::Fmtp;

/// One `a=` line.
///
/// Known attributes are typed; anything else is [`Attribute::Unknown`] and is written back
/// exactly as read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute {
    /// `a=group:<semantics> <mid>*` (RFC 5888; BUNDLE per RFC 9143).
    Group(Group),
    /// `a=mid:<id>` (RFC 5888).
    Mid(String),
    /// `a=msid:<stream id> [<track id>]` (RFC 8830).
    Msid(Msid),
    /// `a=msid-semantic:<semantic> <id>*` (pre-standard, still sent by browsers).
    MsidSemantic(MsidSemantic),
    /// `a=ice-ufrag` (RFC 8839).
    IceUfrag(String),
    /// `a=ice-pwd` (RFC 8839).
    IcePwd(String),
    /// `a=ice-options:<option>+` (RFC 8839).
    IceOptions(Vec<String>),
    /// `a=ice-lite` (session level).
    IceLite,
    /// `a=ice-mismatch` (media level).
    IceMismatch,
    /// `a=ice-pacing:<ms>` (session level).
    IcePacing(u32),
    /// `a=candidate:<value>`: the text after `a=candidate:`, e.g.
    /// `1 1 udp 2130706431 192.0.2.1 9 typ host`. The parser checks the RFC 8839 grammar
    /// but the ICE crate owns its model.
    Candidate(String),
    /// `a=remote-candidates:<value>` kept as text.
    RemoteCandidates(String),
    /// `a=end-of-candidates` (RFC 8840).
    EndOfCandidates,
    /// `a=fingerprint:<hash-func> <hex:bytes>` (RFC 8122).
    Fingerprint(Fingerprint),
    /// `a=setup` (RFC 4145).
    Setup(Setup),
    /// `a=connection:new|existing` (RFC 4145).
    ConnectionMode(ConnectionMode),
    /// `a=tls-id` (RFC 8842).
    TlsId(String),
    /// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
    Rtpmap(Rtpmap),
    /// `a=fmtp:<pt> <parameters>`.
    Fmtp(Fmtp),
    /// `a=rtcp-fb:<pt|*> <type> [<param>]` (RFC 4585).
    RtcpFb(RtcpFb),
    /// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
    Rtcp(Rtcp),
    /// `a=rtcp-mux` (RFC 5761).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506).
    RtcpRsize,
    /// `a=extmap:<id>[/<direction>] [encrypt-uri] <uri> [<attributes>]` (RFC 8285, RFC 6904).
    Extmap(Extmap),
    /// `a=extmap-allow-mixed` (RFC 8285).
    ExtmapAllowMixed,
    /// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576).
    Ssrc(Ssrc),
    /// `a=ssrc-group:<semantics> <ssrc>*` (RFC 5576).
    SsrcGroup(SsrcGroup),
    /// `a=rid:<id> <send|recv> [<restrictions>]` (RFC 8851).
    Rid(Rid),
    /// `a=simulcast` (RFC 8853).
    Simulcast(Simulcast),
    /// `a=sctp-port` (RFC 8841).
    SctpPort(u16),
    /// `a=sctpmap:<port> <protocol> [<streams>]` (pre-standard data channels).
    Sctpmap(Sctpmap),
    /// `a=max-message-size` (RFC 8841).
    MaxMessageSize(u64),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// `a=bundle-only` (RFC 9143).
    BundleOnly,
    /// `a=identity` (RFC 8827) kept as text.
    Identity(String),
    /// `a=ptime:<ms>` (fractions allowed).
    Ptime(Decimal),
    /// `a=maxptime:<ms>`.
    Maxptime(u32),
    /// `a=framerate:<frames per second>`.
    Framerate(Decimal),
    /// `a=content` (RFC 4796) kept as text.
    Content(String),
    /// `a=label` (RFC 4574).
    Label(String),
    /// `a=imageattr:<pt|*> <parameters>` (RFC 6236); the parameters are kept as text.
    ImageAttr(ImageAttr),
    /// `a=crypto:<tag> <suite> <key params> [<session params>]` (RFC 4568 SDES, sent by old
    /// Chrome and SIP gateways; WebRTC itself uses DTLS-SRTP).
    Crypto(Crypto),
    /// Any other attribute, kept verbatim: `a=<name>` or `a=<name>:<value>`.
    Unknown {
        /// The attribute name.
        name: String,
        /// The text after the first `:`, if any.
        value: Option<String>,
    },
}

/// `a=group`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: String,
    /// Identification tags (`a=mid` values).
    pub mids: Vec<String>,
}

impl Group {
    /// `a=group:BUNDLE <mids>`
    pub fn bundle<S: Into<String>>(mids: impl IntoIterator<Item = S>) -> Self {
        Self {
            semantics: "BUNDLE".to_owned(),
            mids: mids.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether this is a BUNDLE group.
    pub fn is_bundle(&self) -> bool {
        self.semantics == "BUNDLE"
    }
}

/// `a=msid`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msid {
    /// MediaStream id (`-` for none).
    pub stream_id: String,
    /// Track id ("appdata"), if present.
    pub track_id: Option<String>,
}

/// `a=msid-semantic`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsidSemantic {
    /// Semantic token, `WMS` in practice.
    pub semantic: String,
    /// Stream ids (or `*`).
    pub identifiers: Vec<String>,
}

/// `a=fingerprint` as written: the hash function's name and the hex digest, in the case the
/// description used (so a description is written back as it was read). [`typed`](Self::typed)
/// gives the [`antiphon_types::Fingerprint`] a DTLS handshake checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash function, such as `sha-256`.
    pub algorithm: String,
    /// Upper- or lowercase hex bytes separated by `:`, as written.
    pub value: String,
}

impl Fingerprint {
    /// A fingerprint line: hash function name and `hex:hex:...` value.
    pub fn new(algorithm: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            algorithm: algorithm.into(),
            value: value.into(),
        }
    }

    /// The fingerprint as a value: refused when its hash function is not one a certificate
    /// fingerprint may use (`md5`, `sha-224`, unknown names) or its digest does not fit it.
    pub fn typed(&self) -> Result<antiphon_types::Fingerprint, antiphon_types::FingerprintError> {
        let algorithm = self.algorithm.parse()?;
        antiphon_types::Fingerprint::from_hex(algorithm, &self.value, self.algorithm.len() + 1)
    }
}

impl From<&antiphon_types::Fingerprint> for Fingerprint {
    /// `sha-256 AB:CD:...`: the lower-case hash name and upper-case hex browsers write.
    fn from(fingerprint: &antiphon_types::Fingerprint) -> Self {
        Self::new(fingerprint.algorithm().token(), fingerprint.hex())
    }
}

/// `a=connection` values (RFC 4145).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionMode {
    /// `new`: open a new connection.
    New,
    /// `existing`: keep the existing connection.
    Existing,
}

impl ConnectionMode {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Existing => "existing",
        }
    }

    /// The mode for an attribute value.
    pub fn from_token(token: &str) -> Option<Self> {
        match token {
            "new" => Some(Self::New),
            "existing" => Some(Self::Existing),
            _ => None,
        }
    }
}

/// Where an attribute may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    SessionOnly,
    MediaOnly,
    Either,
}

impl Placement {
    pub(crate) fn allows(self, level: Level) -> bool {
        !matches!(
            (self, level),
            (Self::SessionOnly, Level::Media) | (Self::MediaOnly, Level::Session)
        )
    }
}

impl Attribute {
    /// The attribute name as written after `a=`.
    pub fn name(&self) -> &str {
        match self {
            Self::Group(_) => "group",
            Self::Mid(_) => "mid",
            Self::Msid(_) => "msid",
            Self::MsidSemantic(_) => "msid-semantic",
            Self::IceUfrag(_) => "ice-ufrag",
            Self::IcePwd(_) => "ice-pwd",
            Self::IceOptions(_) => "ice-options",
            Self::IceLite => "ice-lite",
            Self::IceMismatch => "ice-mismatch",
            Self::IcePacing(_) => "ice-pacing",
            Self::Candidate(_) => "candidate",
            Self::RemoteCandidates(_) => "remote-candidates",
            Self::EndOfCandidates => "end-of-candidates",
            Self::Fingerprint(_) => "fingerprint",
            Self::Setup(_) => "setup",
            Self::ConnectionMode(_) => "connection",
            Self::TlsId(_) => "tls-id",
            Self::Rtpmap(_) => "rtpmap",
            Self::Fmtp(_) => "fmtp",
            Self::RtcpFb(_) => "rtcp-fb",
            Self::Rtcp(_) => "rtcp",
            Self::RtcpMux => "rtcp-mux",
            Self::RtcpMuxOnly => "rtcp-mux-only",
            Self::RtcpRsize => "rtcp-rsize",
            Self::Extmap(_) => "extmap",
            Self::ExtmapAllowMixed => "extmap-allow-mixed",
            Self::Ssrc(_) => "ssrc",
            Self::SsrcGroup(_) => "ssrc-group",
            Self::Rid(_) => "rid",
            Self::Simulcast(_) => "simulcast",
            Self::SctpPort(_) => "sctp-port",
            Self::Sctpmap(_) => "sctpmap",
            Self::MaxMessageSize(_) => "max-message-size",
            Self::Direction(d) => d.as_str(),
            Self::BundleOnly => "bundle-only",
            Self::Identity(_) => "identity",
            Self::Ptime(_) => "ptime",
            Self::Maxptime(_) => "maxptime",
            Self::Framerate(_) => "framerate",
            Self::Content(_) => "content",
            Self::Label(_) => "label",
            Self::ImageAttr(_) => "imageattr",
            Self::Crypto(_) => "crypto",
            Self::Unknown { name, .. } => name,
        }
    }

    /// Whether this is [`Attribute::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown { .. })
    }

    pub(crate) fn placement(&self) -> Placement {
        match self {
            Self::Group(_) | Self::MsidSemantic(_) | Self::IceLite | Self::IcePacing(_) => {
                Placement::SessionOnly
            }
            Self::Mid(_)
            | Self::Msid(_)
            | Self::IceMismatch
            | Self::Candidate(_)
            | Self::RemoteCandidates(_)
            | Self::Rtpmap(_)
            | Self::Fmtp(_)
            | Self::RtcpFb(_)
            | Self::Rtcp(_)
            | Self::RtcpMux
            | Self::RtcpMuxOnly
            | Self::RtcpRsize
            | Self::Ssrc(_)
            | Self::SsrcGroup(_)
            | Self::Rid(_)
            | Self::Simulcast(_)
            | Self::SctpPort(_)
            | Self::Sctpmap(_)
            | Self::MaxMessageSize(_)
            | Self::BundleOnly
            | Self::Ptime(_)
            | Self::Maxptime(_)
            | Self::Framerate(_)
            | Self::Content(_)
            | Self::Label(_)
            | Self::ImageAttr(_)
            | Self::Crypto(_) => Placement::MediaOnly,
            _ => Placement::Either,
        }
    }
}
