//! The session description model: RFC 8866 lines as plain structs.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use crate::attribute::{
    Attribute, Direction, Extmap, Fingerprint, Group, Rid, RtcpFb, Rtpmap, Sctpmap, Setup,
    Simulcast,
};
use crate::fmtp::Fmtp;
use crate::proto::Proto;

/// A parsed (or built) session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=` (always 0 today).
    pub version: u32,
    /// `o=`
    pub origin: Origin,
    /// `s=` (may be empty only in lenient mode).
    pub session_name: String,
    /// `i=`
    pub session_info: Option<String>,
    /// `u=`
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines, each with its `r=` lines.
    pub times: Vec<Timing>,
    /// `z=` value, kept as text (`<adjustment time> <offset>` pairs).
    pub time_zones: Option<String>,
    /// Session-level `k=` value.
    pub encryption_key: Option<String>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// `m=` sections, in order.
    pub media: Vec<MediaDescription>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// The text fields are `Cow`s: the words every browser writes (`-`, `IN`, `IP4`, `127.0.0.1`,
/// ...) are kept as `&'static str`, the rest as given.
pub struct Origin {
    /// User name, `-` when there is none.
    pub username: Cow<'static, str>,
    /// Session id.
    pub session_id: u64,
    /// Session version.
    pub session_version: u64,
    /// Network type (`IN`).
    pub net_type: Cow<'static, str>,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: Cow<'static, str>,
    /// Unicast address or host name.
    pub address: Cow<'static, str>,
}

/// `c=<nettype> <addrtype> <connection-address>`
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Kept as [`Origin`]'s text is: well-known words (`IN`, `IP4`, `0.0.0.0`) borrowed.
pub struct Connection {
    /// Network type (`IN`).
    pub net_type: Cow<'static, str>,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: Cow<'static, str>,
    /// The address, with any multicast `/ttl` and `/count` suffix kept as text.
    pub address: Cow<'static, str>,
}

/// `b=<bwtype>:<bandwidth>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Bandwidth type (`AS`, `CT`, `TIAS`, ...).
    pub bwtype: String,
    /// The value (kbit/s for `AS`/`CT`, bit/s for `TIAS`).
    pub bandwidth: u64,
}

/// `t=<start-time> <stop-time>` with its `r=` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// NTP start time, 0 for unbounded.
    pub start: u64,
    /// NTP stop time, 0 for unbounded.
    pub stop: u64,
    /// `r=` lines following this `t=`.
    pub repeats: Vec<Repeat>,
}

/// `r=<repeat interval> <active duration> <offsets from start-time>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// Repeat interval.
    pub interval: TypedTime,
    /// Active duration.
    pub duration: TypedTime,
    /// Offsets from the start time (at least one).
    pub offsets: Vec<TypedTime>,
}

/// A time in seconds with an optional unit letter (`d`, `h`, `m`, `s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedTime {
    /// The number as written.
    pub value: u64,
    /// The unit letter, if any.
    pub unit: Option<TimeUnit>,
}

impl TypedTime {
    /// The time in seconds (saturating).
    pub fn seconds(&self) -> u64 {
        let factor = match self.unit {
            None | Some(TimeUnit::Seconds) => 1,
            Some(TimeUnit::Minutes) => 60,
            Some(TimeUnit::Hours) => 3600,
            Some(TimeUnit::Days) => 86_400,
        };
        self.value.saturating_mul(factor)
    }
}

/// Unit letters of RFC 8866 typed times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `d`
    Days,
    /// `h`
    Hours,
    /// `m`
    Minutes,
    /// `s`
    Seconds,
}

impl TimeUnit {
    pub(crate) fn letter(self) -> char {
        match self {
            Self::Days => 'd',
            Self::Hours => 'h',
            Self::Minutes => 'm',
            Self::Seconds => 's',
        }
    }
}

/// An `m=` section with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type.
    pub kind: MediaKind,
    /// Transport port; 0 rejects the section (unless bundle-only).
    pub port: u16,
    /// `/<number of ports>`, if given.
    pub port_count: Option<u16>,
    /// Transport protocol, such as `UDP/TLS/RTP/SAVPF`.
    pub proto: Proto,
    /// Formats: RTP payload types, or protocol-specific tokens (borrowed when they are
    /// payload types or `webrtc-datachannel`, as parsed or built by [`MediaDescription::new`]).
    pub formats: Vec<Cow<'static, str>>,
    /// `i=`
    pub title: Option<String>,
    /// `c=` lines.
    pub connections: Vec<Connection>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=` value.
    pub encryption_key: Option<String>,
    /// `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

/// The media type of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `application`
    Application,
    /// `text`
    Text,
    /// `message`
    Message,
    /// Anything else (`image`, or unregistered types in lenient mode).
    Other(String),
}

impl MediaKind {
    /// The media type as written in `m=`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Text => "text",
            Self::Message => "message",
            Self::Other(other) => other,
        }
    }

    /// The kind for a media type token.
    pub fn from_token(token: &str) -> Self {
        match token {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "application" => Self::Application,
            "text" => Self::Text,
            "message" => Self::Message,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether IANA registers this media type for SDP (RFC 8866 section 8.2.2).
    pub fn is_registered(&self) -> bool {
        match self {
            Self::Other(other) => other == "image",
            _ => true,
        }
    }
}

/// Whether IANA registers the media type token `token` for SDP (RFC 8866 section 8.2.2):
/// the same answer as `MediaKind::from_token(token).is_registered()`, without allocating.
pub(crate) fn is_registered_media_type(token: &str) -> bool {
    matches!(
        token,
        "audio" | "video" | "application" | "text" | "message" | "image"
    )
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Origin {
    /// An origin line.
    pub fn new(
        username: impl Into<Cow<'static, str>>,
        session_id: u64,
        session_version: u64,
        net_type: impl Into<Cow<'static, str>>,
        addr_type: impl Into<Cow<'static, str>>,
        address: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            username: username.into(),
            session_id,
            session_version,
            net_type: net_type.into(),
            addr_type: addr_type.into(),
            address: address.into(),
        }
    }
}

impl Default for Origin {
    /// `o=- 0 0 IN IP4 127.0.0.1`
    fn default() -> Self {
        Self::new("-", 0, 0, "IN", "IP4", "127.0.0.1")
    }
}

impl Connection {
    /// `IN IP4 <address>` or `IN IP6 <address>`.
    pub fn from_ip(address: IpAddr) -> Self {
        let (addr_type, address) = match address {
            IpAddr::V4(v4) if v4.is_unspecified() => ("IP4", Cow::Borrowed("0.0.0.0")),
            IpAddr::V4(v4) => ("IP4", Cow::Owned(ipv4_text(v4))),
            IpAddr::V6(v6) => ("IP6", Cow::Owned(v6.to_string())),
        };
        Self {
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed(addr_type),
            address,
        }
    }
}

/// Dotted-quad text of `address`, as its `Display` writes it, without `core::fmt` (answers
/// write a `c=` line per section).
fn ipv4_text(address: std::net::Ipv4Addr) -> String {
    let mut text = String::with_capacity(15);
    for (index, octet) in address.octets().into_iter().enumerate() {
        if index > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

impl Timing {
    /// `t=0 0`: an unbounded session.
    pub fn unbounded() -> Self {
        Self {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }
    }
}

impl Default for SessionDescription {
    /// `v=0`, the default origin, `s=-`, `t=0 0`, nothing else.
    fn default() -> Self {
        Self::new(Origin::default(), "-")
    }
}

impl SessionDescription {
    /// A description with `v=0`, this origin and name, `t=0 0` and nothing else.
    pub fn new(origin: Origin, session_name: impl Into<String>) -> Self {
        Self {
            times: vec![Timing::unbounded()],
            ..Self::without_timing(origin, session_name.into())
        }
    }

    /// `v=0`, this origin and name, and nothing else, not even a `t=` line (what the parser
    /// fills in from the text).
    pub(crate) fn without_timing(origin: Origin, session_name: String) -> Self {
        Self {
            version: 0,
            origin,
            session_name,
            session_info: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: Vec::new(),
            time_zones: None,
            encryption_key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Drops the spare capacity of every list of lines (the parser grows them as lines come),
    /// for a description kept for long, such as a peer connection's current descriptions.
    pub fn shrink_to_fit(&mut self) {
        self.emails.shrink_to_fit();
        self.phones.shrink_to_fit();
        self.bandwidths.shrink_to_fit();
        for timing in &mut self.times {
            for repeat in &mut timing.repeats {
                repeat.offsets.shrink_to_fit();
            }
            timing.repeats.shrink_to_fit();
        }
        self.times.shrink_to_fit();
        self.attributes.shrink_to_fit();
        for media in &mut self.media {
            media.formats.shrink_to_fit();
            media.connections.shrink_to_fit();
            media.bandwidths.shrink_to_fit();
            media.attributes.shrink_to_fit();
        }
        self.media.shrink_to_fit();
    }

    /// All `a=group` lines.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Group(g) => Some(g),
            _ => None,
        })
    }

    /// The `a=group:BUNDLE` lines.
    pub fn bundle_groups(&self) -> impl Iterator<Item = &Group> {
        self.groups().filter(|g| g.is_bundle())
    }

    /// Session-level `a=ice-ufrag`.
    pub fn ice_ufrag(&self) -> Option<&str> {
        attributes::ice_ufrag(&self.attributes)
    }

    /// Session-level `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        attributes::ice_pwd(&self.attributes)
    }

    /// Session-level `a=ice-options` tokens (all lines).
    pub fn ice_options(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .flat_map(|a| match a {
                Attribute::IceOptions(options) => options.as_slice(),
                _ => &[],
            })
            .map(String::as_str)
    }

    /// Whether `a=ice-lite` is present.
    pub fn ice_lite(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::IceLite))
    }

    /// Session-level `a=fingerprint` lines.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint> {
        attributes::fingerprints(&self.attributes)
    }

    /// Session-level `a=setup`.
    pub fn setup(&self) -> Option<Setup> {
        attributes::setup(&self.attributes)
    }

    /// Session-level direction attribute.
    pub fn direction(&self) -> Option<Direction> {
        attributes::direction(&self.attributes)
    }

    /// Whether session-level `a=extmap-allow-mixed` is present.
    pub fn extmap_allow_mixed(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::ExtmapAllowMixed))
    }

    /// `a=ice-ufrag` of media section `index`, falling back to the session level.
    pub fn media_ice_ufrag(&self, index: usize) -> Option<&str> {
        self.media
            .get(index)
            .and_then(MediaDescription::ice_ufrag)
            .or_else(|| self.ice_ufrag())
    }

    /// `a=ice-pwd` of media section `index`, falling back to the session level.
    pub fn media_ice_pwd(&self, index: usize) -> Option<&str> {
        self.media
            .get(index)
            .and_then(MediaDescription::ice_pwd)
            .or_else(|| self.ice_pwd())
    }

    /// `a=setup` of media section `index`, falling back to the session level.
    pub fn media_setup(&self, index: usize) -> Option<Setup> {
        self.media
            .get(index)
            .and_then(MediaDescription::setup)
            .or_else(|| self.setup())
    }

    /// Fingerprints of media section `index`, or the session-level ones if it has none.
    pub fn media_fingerprints(&self, index: usize) -> Vec<&Fingerprint> {
        let media: Vec<&Fingerprint> = self
            .media
            .get(index)
            .map(|m| m.fingerprints().collect())
            .unwrap_or_default();
        if media.is_empty() {
            self.fingerprints().collect()
        } else {
            media
        }
    }

    /// Direction of media section `index`, falling back to the session level.
    pub fn media_direction(&self, index: usize) -> Option<Direction> {
        self.media
            .get(index)
            .and_then(MediaDescription::direction)
            .or_else(|| self.direction())
    }

    /// The media section whose `a=mid` is `mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }
}

impl MediaDescription {
    /// An `m=` section with no other lines. Formats that are payload types (or
    /// `webrtc-datachannel`) are kept as `&'static str`, others as given.
    pub fn new<F: AsRef<str> + Into<Cow<'static, str>>>(
        kind: MediaKind,
        port: u16,
        proto: impl Into<Proto>,
        formats: impl IntoIterator<Item = F>,
    ) -> Self {
        let formats = formats
            .into_iter()
            .map(|format| match crate::known::format(format.as_ref()) {
                Some(known) => Cow::Borrowed(known),
                None => format.into(),
            })
            .collect();
        Self::with_formats(kind, port, proto.into(), formats)
    }

    /// An `m=` section with these formats as they are (the parser's, already borrowed where
    /// known) and no other lines.
    pub(crate) fn with_formats(
        kind: MediaKind,
        port: u16,
        proto: Proto,
        formats: Vec<Cow<'static, str>>,
    ) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            proto,
            formats,
            title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            encryption_key: None,
            attributes: Vec::new(),
        }
    }

    /// `a=mid`
    pub fn mid(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Mid(mid) => Some(mid.as_str()),
            _ => None,
        })
    }

    /// The direction attribute (`a=sendrecv` ...), if any.
    pub fn direction(&self) -> Option<Direction> {
        attributes::direction(&self.attributes)
    }

    /// `a=rtpmap` lines.
    pub fn rtpmaps(&self) -> impl Iterator<Item = &Rtpmap> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Rtpmap(r) => Some(r),
            _ => None,
        })
    }

    /// The `a=rtpmap` of a payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&Rtpmap> {
        self.rtpmaps().find(|r| r.payload_type == payload_type)
    }

    /// The `a=fmtp` of a payload type.
    pub fn fmtp(&self, payload_type: u8) -> Option<&Fmtp> {
        self.fmtps().find(|f| f.payload_type == payload_type)
    }

    /// `a=fmtp` lines.
    pub fn fmtps(&self) -> impl Iterator<Item = &Fmtp> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Fmtp(f) => Some(f),
            _ => None,
        })
    }

    /// `a=rtcp-fb` lines.
    pub fn rtcp_fbs(&self) -> impl Iterator<Item = &RtcpFb> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::RtcpFb(r) => Some(r),
            _ => None,
        })
    }

    /// `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = &Extmap> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
    }

    /// `a=ice-ufrag` of this section.
    pub fn ice_ufrag(&self) -> Option<&str> {
        attributes::ice_ufrag(&self.attributes)
    }

    /// `a=ice-pwd` of this section.
    pub fn ice_pwd(&self) -> Option<&str> {
        attributes::ice_pwd(&self.attributes)
    }

    /// `a=fingerprint` lines of this section.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint> {
        attributes::fingerprints(&self.attributes)
    }

    /// `a=setup` of this section.
    pub fn setup(&self) -> Option<Setup> {
        attributes::setup(&self.attributes)
    }

    /// `a=candidate` values (the text after `a=candidate:`).
    pub fn candidates(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Candidate(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// Whether `a=end-of-candidates` is present.
    pub fn has_end_of_candidates(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::EndOfCandidates))
    }

    /// Whether `a=rtcp-mux` is present.
    pub fn has_rtcp_mux(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::RtcpMux))
    }

    /// Whether `a=rtcp-mux-only` is present.
    pub fn has_rtcp_mux_only(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::RtcpMuxOnly))
    }

    /// Whether `a=rtcp-rsize` is present.
    pub fn has_rtcp_rsize(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::RtcpRsize))
    }

    /// Whether `a=bundle-only` is present.
    pub fn is_bundle_only(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::BundleOnly))
    }

    /// Port 0 without `a=bundle-only`: the section is rejected or disabled.
    pub fn is_rejected(&self) -> bool {
        self.port == 0 && !self.is_bundle_only()
    }

    /// `a=sctp-port`
    pub fn sctp_port(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::SctpPort(port) => Some(*port),
            _ => None,
        })
    }

    /// The legacy (pre-RFC 8841) `a=sctpmap`, if any.
    pub fn sctpmap(&self) -> Option<&Sctpmap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Sctpmap(map) => Some(map),
            _ => None,
        })
    }

    /// `a=max-message-size`
    pub fn max_message_size(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxMessageSize(size) => Some(*size),
            _ => None,
        })
    }

    /// `a=rid` lines.
    pub fn rids(&self) -> impl Iterator<Item = &Rid> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Rid(r) => Some(r),
            _ => None,
        })
    }

    /// `a=simulcast` (the first, if several).
    pub fn simulcast(&self) -> Option<&Simulcast> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// Whether the section carries RTP (see [`Proto::is_rtp`]).
    pub fn is_rtp(&self) -> bool {
        self.proto.is_rtp()
    }

    /// Whether this is a data channel section (SCTP over DTLS, see [`Proto::is_dtls_sctp`]).
    pub fn is_data_channel(&self) -> bool {
        self.proto.is_dtls_sctp()
    }
}

/// Lookups shared by both levels.
mod attributes {
    use crate::attribute::{Attribute, Direction, Fingerprint, Setup};

    pub(super) fn ice_ufrag(attributes: &[Attribute]) -> Option<&str> {
        attributes.iter().find_map(|a| match a {
            Attribute::IceUfrag(u) => Some(u.as_str()),
            _ => None,
        })
    }

    pub(super) fn ice_pwd(attributes: &[Attribute]) -> Option<&str> {
        attributes.iter().find_map(|a| match a {
            Attribute::IcePwd(p) => Some(p.as_str()),
            _ => None,
        })
    }

    pub(super) fn fingerprints(attributes: &[Attribute]) -> impl Iterator<Item = &Fingerprint> {
        attributes.iter().filter_map(|a| match a {
            Attribute::Fingerprint(f) => Some(f),
            _ => None,
        })
    }

    pub(super) fn setup(attributes: &[Attribute]) -> Option<Setup> {
        attributes.iter().find_map(|a| match a {
            Attribute::Setup(s) => Some(*s),
            _ => None,
        })
    }

    pub(super) fn direction(attributes: &[Attribute]) -> Option<Direction> {
        attributes.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }
}
