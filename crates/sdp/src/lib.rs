//! antiphon-sdp: SDP (RFC 8866) with the attributes WebRTC uses, as a typed model with a
//! parser and a writer, and a zero-copy view for when attribute values can stay text.
//!
//! * [`parse`] / [`parse_with`] read text into a [`SessionDescription`] plus [`Warning`]s.
//!   Errors carry the 1-based line and column and a typed [`ParseErrorKind`].
//! * [`Mode::Strict`] follows the RFC grammar; [`Mode::Lenient`] accepts what browsers
//!   accept and reports each deviation as a warning.
//! * [`Limits`] bound input size, line length, `m=` sections and attributes per section.
//! * `to_string()` (the [`Display`](std::fmt::Display) impl) writes CRLF SDP back;
//!   parse → write → parse yields an equal model. [`SessionDescription::write_to`] appends
//!   the same text to a `String` without going through `core::fmt` (the fast path).
//! * [`SessionDescription::validate`] checks rules about one description (duplicate mids,
//!   BUNDLE naming unknown mids, simulcast naming unknown rids, ...).
//! * [`parse_view`] (module [`view`]) is the zero-copy layer for code that routes on a few
//!   attributes (SFUs, gateways): the same structural checks as [`parse_with`] (limits, UTF-8,
//!   line syntax and order, mandatory lines, `c=` coverage, strict or lenient, the same errors
//!   and positions), the session and media lines typed but borrowed from the input, and each
//!   `a=` line split into name and value and typed only on demand
//!   ([`view::AttributeView::parse`], exactly what `parse_with` gives for that line).
//!   [`ParsedView::to_parsed`] types everything and equals `parse_with`. A view accepts a
//!   malformed attribute value that `parse_with` rejects; that attribute's `parse()` reports
//!   it.
//!
//! ```
//! use antiphon_sdp::{Attribute, MediaKind, ParseOptions, parse, parse_view};
//!
//! let sdp = "v=0\r\n\
//!            o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
//!            s=-\r\n\
//!            t=0 0\r\n\
//!            a=group:BUNDLE 0\r\n\
//!            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
//!            c=IN IP4 0.0.0.0\r\n\
//!            a=mid:0\r\n\
//!            a=rtpmap:111 opus/48000/2\r\n\
//!            a=x-custom:kept\r\n";
//! let parsed = parse(sdp)?;
//! let audio = &parsed.description.media[0];
//! assert_eq!(audio.kind, MediaKind::Audio);
//! assert_eq!(audio.mid(), Some("0"));
//! assert_eq!(audio.rtpmaps().next().map(|r| r.clock_rate), Some(48000));
//! // Unknown attributes are data: kept, written back, and reported.
//! assert!(matches!(&audio.attributes[2], Attribute::Unknown { name, .. } if name == "x-custom"));
//! assert_eq!(parsed.warnings.len(), 1);
//! assert_eq!(parsed.description.to_string(), sdp);
//!
//! let err = parse("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 x\r\n").unwrap_err();
//! assert_eq!((err.line(), err.column()), (Some(4), Some(5)));
//! assert_eq!(err.to_string(), "line 4, column 5: stop time is not a valid number");
//!
//! // The view: nothing copied, attributes typed on demand.
//! let view = parse_view(sdp, &ParseOptions::strict())?;
//! let audio = &view.description.media[0];
//! assert_eq!((audio.kind, audio.port, audio.mid()), ("audio", 9, Some("0")));
//! let custom = audio.attribute("x-custom").expect("kept");
//! assert_eq!((custom.value(), custom.line()), (Some("kept"), 10));
//! assert_eq!(view.to_parsed()?, parsed);
//! # Ok::<(), antiphon_sdp::SdpError>(())
//! ```

mod attribute;
mod attribute_name;
mod attribute_parse;
mod attribute_types;
mod attribute_values;
mod checks;
mod error;
mod fields;
mod fmtp;
mod grammar;
mod known;
mod line_order;
mod lines;
mod model;
mod options;
mod parser;
mod proto;
mod scan;
mod validate;
pub mod view;
mod writer;

pub use attribute::{
    Attribute, ConnectionMode, Crypto, Decimal, Direction, Extmap, Fingerprint, Group, ImageAttr,
    Msid, MsidSemantic, Rid, RidDirection, RidRestriction, Rtcp, RtcpFb, Rtpmap, Sctpmap, Setup,
    Simulcast, SimulcastStream, Ssrc, SsrcGroup,
};
pub use error::{
    Level, Limit, LineType, ParseError, ParseErrorKind, SdpError, Warning, WarningKind,
};
pub use fmtp::{Fmtp, FmtpParam};
pub use known::payload_type_format;
pub use model::{
    Bandwidth, Connection, MediaDescription, MediaKind, Origin, Repeat, SessionDescription,
    TimeUnit, Timing, TypedTime,
};
pub use options::{Limits, Mode, ParseOptions};
pub use parser::{Parsed, parse, parse_with};
pub use proto::Proto;
pub use validate::ValidationError;
pub use view::{ParsedView, parse_view};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
