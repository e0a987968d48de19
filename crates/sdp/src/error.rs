//! Errors and warnings: every one carries the 1-based line and column it points at.

use std::fmt;

use crate::validate::ValidationError;

/// The type letter of an SDP line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineType {
    /// `v=`
    Version,
    /// `o=`
    Origin,
    /// `s=`
    SessionName,
    /// `i=`
    Information,
    /// `u=`
    Uri,
    /// `e=`
    Email,
    /// `p=`
    Phone,
    /// `c=`
    Connection,
    /// `b=`
    Bandwidth,
    /// `t=`
    Timing,
    /// `r=`
    Repeat,
    /// `z=`
    TimeZone,
    /// `k=`
    EncryptionKey,
    /// `a=`
    Attribute,
    /// `m=`
    Media,
}

impl LineType {
    /// The line type for a type letter, if RFC 8866 defines it.
    pub fn from_letter(letter: u8) -> Option<Self> {
        Some(match letter {
            b'v' => Self::Version,
            b'o' => Self::Origin,
            b's' => Self::SessionName,
            b'i' => Self::Information,
            b'u' => Self::Uri,
            b'e' => Self::Email,
            b'p' => Self::Phone,
            b'c' => Self::Connection,
            b'b' => Self::Bandwidth,
            b't' => Self::Timing,
            b'r' => Self::Repeat,
            b'z' => Self::TimeZone,
            b'k' => Self::EncryptionKey,
            b'a' => Self::Attribute,
            b'm' => Self::Media,
            _ => return None,
        })
    }

    /// The type letter.
    pub fn letter(self) -> char {
        match self {
            Self::Version => 'v',
            Self::Origin => 'o',
            Self::SessionName => 's',
            Self::Information => 'i',
            Self::Uri => 'u',
            Self::Email => 'e',
            Self::Phone => 'p',
            Self::Connection => 'c',
            Self::Bandwidth => 'b',
            Self::Timing => 't',
            Self::Repeat => 'r',
            Self::TimeZone => 'z',
            Self::EncryptionKey => 'k',
            Self::Attribute => 'a',
            Self::Media => 'm',
        }
    }
}

impl fmt::Display for LineType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", self.letter())
    }
}

/// Where an attribute may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Before the first `m=` line.
    Session,
    /// Inside an `m=` section.
    Media,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Session => "session level",
            Self::Media => "media level",
        })
    }
}

/// A bound from [`Limits`](crate::Limits) that the input exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The whole input is larger than this many bytes.
    InputBytes(usize),
    /// A line is longer than this many bytes.
    LineBytes(usize),
    /// More than this many `m=` sections.
    MediaSections(usize),
    /// More than this many `a=` lines in one section.
    AttributesPerSection(usize),
    /// An `a=rtpmap` channel count above this.
    Channels(u16),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputBytes(max) => write!(f, "input larger than {max} bytes"),
            Self::LineBytes(max) => write!(f, "line longer than {max} bytes"),
            Self::MediaSections(max) => write!(f, "more than {max} m= sections"),
            Self::AttributesPerSection(max) => {
                write!(f, "more than {max} attributes in one section")
            }
            Self::Channels(max) => write!(f, "more than {max} channels"),
        }
    }
}

/// What is wrong at the position a [`ParseError`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The line is not `<letter>=<value>`.
    NotTypeValue,
    /// The type letter is not one RFC 8866 defines (type letters are lowercase).
    UnknownLineType(char),
    /// A blank line (strict mode).
    EmptyLine,
    /// The description must continue with `expected` here.
    UnexpectedLine {
        /// The line type required at this position.
        expected: LineType,
        /// The line type found.
        found: LineType,
    },
    /// A line appears after a line it must precede (strict mode), or a session-only line
    /// appears inside an `m=` section.
    OutOfOrder {
        /// The misplaced line.
        found: LineType,
        /// The line it must not follow.
        after: LineType,
    },
    /// A line that may appear once appears again.
    DuplicateLine(LineType),
    /// A mandatory line is missing.
    MissingLine(LineType),
    /// A mandatory field of the line is missing.
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// A field that must be a (bounded, non-negative) integer is not.
    InvalidNumber {
        /// The field's name.
        field: &'static str,
    },
    /// A field has characters its grammar does not allow.
    InvalidField {
        /// The field's name.
        field: &'static str,
    },
    /// An address is not valid for its address type.
    InvalidAddress,
    /// Network type other than `IN`.
    UnsupportedNetType,
    /// Address type other than `IP4` or `IP6`.
    UnsupportedAddrType,
    /// An `m=` media type outside the IANA registry (strict mode).
    UnknownMediaType,
    /// Text after the last field of the line.
    TrailingData,
    /// `a=` with an empty or malformed attribute name.
    InvalidAttributeName,
    /// A known attribute whose value does not follow its grammar.
    InvalidAttributeValue {
        /// The attribute name.
        attribute: &'static str,
        /// The part of the value at fault.
        field: &'static str,
    },
    /// A known attribute that needs a value has none.
    MissingAttributeValue {
        /// The attribute name.
        attribute: &'static str,
    },
    /// A known flag attribute carries a value.
    UnexpectedAttributeValue {
        /// The attribute name.
        attribute: &'static str,
    },
    /// An attribute at a level where it is not allowed.
    AttributeLevel {
        /// The attribute name.
        attribute: &'static str,
        /// The level it appeared at.
        level: Level,
    },
    /// A fingerprint whose byte count does not match its hash function.
    FingerprintLength {
        /// Bytes the hash function produces.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// A bound from [`Limits`](crate::Limits) was exceeded.
    LimitExceeded(Limit),
    /// The line is not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTypeValue => f.write_str("line is not <type>=<value>"),
            Self::UnknownLineType(c) => write!(f, "unknown line type {c:?}"),
            Self::EmptyLine => f.write_str("empty line"),
            Self::UnexpectedLine { expected, found } => {
                write!(f, "expected {expected} line, found {found}")
            }
            Self::OutOfOrder { found, after } => {
                write!(f, "{found} line may not follow {after} line")
            }
            Self::DuplicateLine(t) => write!(f, "{t} line appears more than once"),
            Self::MissingLine(t) => write!(f, "missing {t} line"),
            Self::MissingField { field } => write!(f, "missing {field}"),
            Self::InvalidNumber { field } => write!(f, "{field} is not a valid number"),
            Self::InvalidField { field } => write!(f, "invalid {field}"),
            Self::InvalidAddress => f.write_str("invalid address for the address type"),
            Self::UnsupportedNetType => f.write_str("network type is not IN"),
            Self::UnsupportedAddrType => f.write_str("address type is neither IP4 nor IP6"),
            Self::UnknownMediaType => f.write_str("unknown media type"),
            Self::TrailingData => f.write_str("unexpected trailing data"),
            Self::InvalidAttributeName => f.write_str("invalid attribute name"),
            Self::InvalidAttributeValue { attribute, field } => {
                write!(f, "invalid a={attribute} value: bad {field}")
            }
            Self::MissingAttributeValue { attribute } => write!(f, "a={attribute} needs a value"),
            Self::UnexpectedAttributeValue { attribute } => {
                write!(f, "a={attribute} takes no value")
            }
            Self::AttributeLevel { attribute, level } => {
                write!(f, "a={attribute} is not allowed at {level}")
            }
            Self::FingerprintLength { expected, found } => {
                write!(
                    f,
                    "fingerprint has {found} bytes, its hash function produces {expected}"
                )
            }
            Self::LimitExceeded(limit) => write!(f, "limit exceeded: {limit}"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
        }
    }
}

/// A parse failure at a position of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) of the offending character or field.
    pub column: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}

/// The error type of this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The text is not a valid session description.
    Parse(ParseError),
    /// The description parses but breaks a rule about a single description (see
    /// [`SessionDescription::validate`](crate::SessionDescription::validate)).
    Validation(ValidationError),
}

impl SdpError {
    /// The 1-based line the error points at (parse errors only).
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Parse(e) => Some(e.line),
            Self::Validation(_) => None,
        }
    }

    /// The 1-based column the error points at (parse errors only).
    pub fn column(&self) -> Option<usize> {
        match self {
            Self::Parse(e) => Some(e.column),
            Self::Validation(_) => None,
        }
    }

    /// The kind of parse error, if this is one.
    pub fn parse_error_kind(&self) -> Option<&ParseErrorKind> {
        match self {
            Self::Parse(e) => Some(&e.kind),
            Self::Validation(_) => None,
        }
    }
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => e.fmt(f),
            Self::Validation(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SdpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            Self::Validation(e) => Some(e),
        }
    }
}

impl From<ParseError> for SdpError {
    fn from(error: ParseError) -> Self {
        Self::Parse(error)
    }
}

impl From<ValidationError> for SdpError {
    fn from(error: ValidationError) -> Self {
        Self::Validation(error)
    }
}

/// Something the parser accepted but that deserves attention.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// An attribute this crate does not model; kept verbatim as [`Attribute::Unknown`](crate::Attribute::Unknown).
    UnknownAttribute(String),
    /// A blank line was skipped (lenient mode).
    BlankLine,
    /// A line out of RFC 8866 order (lenient mode).
    OutOfOrder {
        /// The misplaced line.
        found: LineType,
        /// The line it should not follow.
        after: LineType,
    },
    /// A single-valued line appeared again; the last one wins (lenient mode).
    DuplicateLine(LineType),
    /// No `t=` line (lenient mode).
    MissingTiming,
    /// An `m=` section without `c=` while the session has none (lenient mode).
    MissingConnection,
    /// Empty `s=` (lenient mode).
    EmptySessionName,
    /// `a=rtpmap` without clock rate; stored as 0 (lenient mode).
    RtpmapWithoutClockRate,
    /// `m=` line without formats (lenient mode).
    MediaWithoutFormats,
    /// An address that does not match its address type, such as IPv6 text under `IP4`
    /// (lenient mode).
    AddressTypeMismatch,
    /// An attribute in a pre-standard syntax, normalized on writing (for example the
    /// draft `a=simulcast: send rid=1;2` form).
    LegacySyntax(&'static str),
    /// An `m=` media type outside the IANA registry (lenient mode).
    UnknownMediaType(String),
    /// A violation strict mode rejects with this error kind, tolerated because browsers
    /// accept it (lenient mode): an attribute at the wrong level, a non-token `a=mid`.
    Tolerated(ParseErrorKind),
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAttribute(name) => write!(f, "unknown attribute a={name} kept verbatim"),
            Self::BlankLine => f.write_str("blank line skipped"),
            Self::OutOfOrder { found, after } => write!(f, "{found} line after {after} line"),
            Self::DuplicateLine(t) => write!(f, "{t} line repeated; the last one is kept"),
            Self::MissingTiming => f.write_str("no t= line"),
            Self::MissingConnection => f.write_str("m= section without c= and no session c="),
            Self::EmptySessionName => f.write_str("empty s= line"),
            Self::RtpmapWithoutClockRate => f.write_str("a=rtpmap without clock rate"),
            Self::MediaWithoutFormats => f.write_str("m= line without formats"),
            Self::AddressTypeMismatch => f.write_str("address does not match its address type"),
            Self::LegacySyntax(what) => write!(f, "pre-standard syntax of {what}"),
            Self::UnknownMediaType(kind) => write!(f, "unregistered media type {kind:?}"),
            Self::Tolerated(kind) => write!(f, "tolerated: {kind}"),
        }
    }
}

/// A tolerated deviation, at the position it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was tolerated.
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}
