//! A zero-copy view of a session description: every line checked for structure, nothing
//! copied out of the input.
//!
//! [`parse_view`] runs the same structural pass as [`parse_with`](crate::parse_with) (input
//! limits, UTF-8, `x=` line syntax, unknown line types, RFC 8866 line order and cardinality,
//! mandatory lines, `c=` coverage, strict or lenient) with the same errors, lines, columns and
//! warnings, and types the session and media lines (`v=`, `o=`, `s=`, `c=`, `t=`/`r=`, `b=`,
//! `z=`, `m=`) with the same field parsers, borrowing their text. It does **not** type
//! attribute values: each `a=` line is split into a name and an optional value and kept as an
//! [`AttributeView`]; [`AttributeView::parse`] types one on demand and returns exactly what
//! the owned parser gives for that line (the [`Attribute`](crate::Attribute), its warning, or
//! its error with line and column). [`ParsedView::to_parsed`] types them all and equals
//! `parse_with` on the same input and options.
//!
//! So a view accepts a description whose structure is right but one of whose attribute values
//! is malformed (`a=rtpmap:x`); the owned parser rejects it at that line, and so do
//! `parse()` of that attribute and `to_parsed()`.
//!
//! ```
//! use antiphon_sdp::{Attribute, ParseOptions, parse_with, view::parse_view};
//!
//! let sdp = "v=0\r\n\
//!            o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
//!            s=-\r\n\
//!            t=0 0\r\n\
//!            a=group:BUNDLE 0\r\n\
//!            m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n\
//!            c=IN IP4 0.0.0.0\r\n\
//!            a=mid:0\r\n\
//!            a=rtpmap:111 opus/48000/2\r\n";
//! let options = ParseOptions::lenient();
//! let view = parse_view(sdp, &options)?;
//! let audio = &view.description.media[0];
//! assert_eq!((audio.kind, audio.port, audio.proto), ("audio", 9, "UDP/TLS/RTP/SAVPF"));
//! assert_eq!(audio.formats().collect::<Vec<_>>(), ["111", "0"]);
//! assert_eq!(audio.mid(), Some("0"));
//! // Typed on demand, with its line:
//! let rtpmap = audio.attribute("rtpmap").expect("an a=rtpmap line");
//! assert_eq!(rtpmap.line(), 9);
//! let (Attribute::Rtpmap(map), None) = rtpmap.parse()? else { panic!("not an rtpmap") };
//! assert_eq!(map.clock_rate, 48000);
//! // Typing everything gives what the owned parser gives.
//! assert_eq!(view.to_parsed()?, parse_with(sdp, &options)?);
//! # Ok::<(), antiphon_sdp::SdpError>(())
//! ```

mod attribute;
mod build;

pub use attribute::AttributeView;
pub use build::parse_view;

use crate::error::Warning;
use crate::known;
use crate::lines::{self, MediaLine};
use crate::model::{Bandwidth, Connection, MediaKind, Origin, Timing};
use crate::proto;

/// The result of [`parse_view`]: the view and the deviations its structural pass tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedView<'a> {
    /// The description.
    pub description: SdpView<'a>,
    /// Structural and line warnings (lenient mode), in line order. Warnings about attribute
    /// values (unknown attributes included) come from [`AttributeView::parse`]; with them
    /// these are the warnings of [`parse_with`](crate::parse_with).
    pub warnings: Vec<Warning>,
}

/// A session description borrowed from its text: the RFC 8866 lines typed, the attributes
/// split but not typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpView<'a> {
    /// `v=`
    pub version: u32,
    /// `o=`
    pub origin: OriginView<'a>,
    /// `s=` (may be empty only in lenient mode).
    pub session_name: &'a str,
    /// `i=`
    pub session_info: Option<&'a str>,
    /// `u=`
    pub uri: Option<&'a str>,
    /// `e=` lines.
    pub emails: Vec<&'a str>,
    /// `p=` lines.
    pub phones: Vec<&'a str>,
    /// Session-level `c=`.
    pub connection: Option<ConnectionView<'a>>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<BandwidthView<'a>>,
    /// `t=` lines, each with its `r=` lines.
    pub times: Vec<Timing>,
    /// `z=` value as written (checked).
    pub time_zones: Option<&'a str>,
    /// Session-level `k=` value.
    pub encryption_key: Option<&'a str>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<AttributeView<'a>>,
    /// `m=` sections, in order.
    pub media: Vec<MediaView<'a>>,
}

/// An `m=` section borrowed from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaView<'a> {
    /// Line number of the `m=` line (1-based).
    pub line: usize,
    /// Media type as written (`audio`, `video`, `application`, ...).
    pub kind: &'a str,
    /// Transport port.
    pub port: u16,
    /// `/<number of ports>`, if given.
    pub port_count: Option<u16>,
    /// Transport protocol as written, such as `UDP/TLS/RTP/SAVPF`.
    pub proto: &'a str,
    /// The formats as written (checked: payload types up to 127 for RTP); iterate them with
    /// [`formats`](Self::formats).
    pub formats: &'a str,
    /// `i=`
    pub title: Option<&'a str>,
    /// `c=` lines.
    pub connections: Vec<ConnectionView<'a>>,
    /// `b=` lines.
    pub bandwidths: Vec<BandwidthView<'a>>,
    /// `k=` value.
    pub encryption_key: Option<&'a str>,
    /// `a=` lines, in order.
    pub attributes: Vec<AttributeView<'a>>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OriginView<'a> {
    /// User name, `-` when there is none.
    pub username: &'a str,
    /// Session id.
    pub session_id: u64,
    /// Session version.
    pub session_version: u64,
    /// Network type (`IN`).
    pub net_type: &'a str,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: &'a str,
    /// Unicast address or host name.
    pub address: &'a str,
}

/// `c=<nettype> <addrtype> <connection-address>`, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionView<'a> {
    /// Network type (`IN`).
    pub net_type: &'a str,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: &'a str,
    /// The address, with any multicast `/ttl` and `/count` suffix.
    pub address: &'a str,
}

/// `b=<bwtype>:<bandwidth>`, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthView<'a> {
    /// Bandwidth type (`AS`, `CT`, `TIAS`, ...).
    pub bwtype: &'a str,
    /// The value.
    pub bandwidth: u64,
}

/// The first attribute called `name` in `attributes`.
fn first_named<'v, 'a>(
    attributes: &'v [AttributeView<'a>],
    name: &str,
) -> Option<&'v AttributeView<'a>> {
    attributes.iter().find(|a| a.name() == name)
}

/// Every attribute of `attributes` called `name`, in order.
fn all_named<'v, 'a>(
    attributes: &'v [AttributeView<'a>],
    name: &'v str,
) -> impl Iterator<Item = &'v AttributeView<'a>> {
    attributes.iter().filter(move |a| a.name() == name)
}

impl<'a> SdpView<'a> {
    /// The first session-level attribute called `name` (case-sensitive).
    pub fn attribute(&self, name: &str) -> Option<&AttributeView<'a>> {
        first_named(&self.attributes, name)
    }

    /// Every session-level attribute called `name`, in order.
    pub fn attributes_named<'v>(
        &'v self,
        name: &'v str,
    ) -> impl Iterator<Item = &'v AttributeView<'a>> {
        all_named(&self.attributes, name)
    }

    /// The first section whose `a=mid` value is `mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaView<'a>> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }
}

impl<'a> MediaView<'a> {
    /// The section of an `m=` line, before its other lines.
    pub(crate) fn new(line: MediaLine<'a>) -> Self {
        Self {
            line: line.line,
            kind: line.kind,
            port: line.port,
            port_count: line.port_count,
            proto: line.proto,
            formats: line.formats,
            title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            encryption_key: None,
            attributes: Vec::new(),
        }
    }

    /// The `m=` line alone.
    pub(crate) fn media_line(&self) -> MediaLine<'a> {
        MediaLine {
            line: self.line,
            kind: self.kind,
            port: self.port,
            port_count: self.port_count,
            proto: self.proto,
            formats: self.formats,
            rtp: self.is_rtp(),
        }
    }

    /// The formats (RTP payload types or protocol-specific tokens), in order.
    pub fn formats(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        lines::formats(self.formats)
    }

    /// The media type as a [`MediaKind`].
    pub fn media_kind(&self) -> MediaKind {
        MediaKind::from_token(self.kind)
    }

    /// Whether the section carries RTP (a part of the protocol is `RTP`).
    pub fn is_rtp(&self) -> bool {
        proto::is_rtp(self.proto)
    }

    /// The first attribute called `name` (case-sensitive).
    pub fn attribute(&self, name: &str) -> Option<&AttributeView<'a>> {
        first_named(&self.attributes, name)
    }

    /// Every attribute called `name`, in order.
    pub fn attributes_named<'v>(
        &'v self,
        name: &'v str,
    ) -> impl Iterator<Item = &'v AttributeView<'a>> {
        all_named(&self.attributes, name)
    }

    /// The value of the first `a=mid`, as written (not checked: see
    /// [`AttributeView::parse`]).
    pub fn mid(&self) -> Option<&'a str> {
        self.attribute("mid").and_then(AttributeView::value)
    }
}

impl From<OriginView<'_>> for Origin {
    fn from(view: OriginView<'_>) -> Self {
        Origin::new(
            known::session_token(view.username),
            view.session_id,
            view.session_version,
            known::session_token(view.net_type),
            known::session_token(view.addr_type),
            known::session_token(view.address),
        )
    }
}

impl From<ConnectionView<'_>> for Connection {
    fn from(view: ConnectionView<'_>) -> Self {
        Connection {
            net_type: known::session_token(view.net_type),
            addr_type: known::session_token(view.addr_type),
            address: known::session_token(view.address),
        }
    }
}

impl From<BandwidthView<'_>> for Bandwidth {
    fn from(view: BandwidthView<'_>) -> Self {
        Bandwidth {
            bwtype: view.bwtype.to_owned(),
            bandwidth: view.bandwidth,
        }
    }
}
