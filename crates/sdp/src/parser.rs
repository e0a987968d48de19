//! The line-by-line parser: splits lines, enforces limits and RFC 8866 line order, and
//! hands each value to the nom parsers in [`lines`](crate::lines) and
//! [`attribute_parse`](crate::attribute_parse).

use nom::Parser;
use nom::character::complete::{anychar, char};

use crate::attribute_parse::{AttributeContext, parse_attribute};
use crate::error::{
    Level, Limit, LineType, ParseError, ParseErrorKind, SdpError, Warning, WarningKind,
};
use crate::fields::Fail;
use crate::lines;
use crate::model::{MediaDescription, SessionDescription};
use crate::options::ParseOptions;

/// A parsed description and the deviations the parser tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The description.
    pub description: SessionDescription,
    /// Unknown attributes and (lenient mode) tolerated deviations, in line order.
    pub warnings: Vec<Warning>,
}

/// Parses `input` in strict mode with default limits.
pub fn parse(input: &str) -> Result<Parsed, SdpError> {
    parse_with(input.as_bytes(), &ParseOptions::strict())
}

impl std::str::FromStr for SessionDescription {
    type Err = SdpError;

    /// Parses in lenient mode with default limits and drops the warnings; use
    /// [`parse_with`] to see them.
    fn from_str(text: &str) -> Result<Self, SdpError> {
        parse_with(text, &ParseOptions::lenient()).map(|parsed| parsed.description)
    }
}

/// Parses `input` with `options`.
///
/// `input` is bytes (`&[u8]`, `&str`, `Vec<u8>`, ...) so that invalid UTF-8 is reported as
/// [`ParseErrorKind::InvalidUtf8`] at its line and column rather than failing earlier.
pub fn parse_with(input: impl AsRef<[u8]>, options: &ParseOptions) -> Result<Parsed, SdpError> {
    parse_bytes(input.as_ref(), options)
}

fn parse_bytes(input: &[u8], options: &ParseOptions) -> Result<Parsed, SdpError> {
    let limits = options.limits;
    if input.len() > limits.max_input_bytes {
        return Err(error(
            1,
            1,
            ParseErrorKind::LimitExceeded(Limit::InputBytes(limits.max_input_bytes)),
        ));
    }
    // Validate once, then split on the `str` (which searches for `\n` with memchr). Lines
    // before an invalid byte are still parsed first, so their errors win, as a line-by-line
    // reader would report them.
    let (text, bad_utf8) = match std::str::from_utf8(input) {
        Ok(text) => (text, None),
        Err(e) => {
            let valid = input.get(..e.valid_up_to()).unwrap_or_default();
            let line_start = valid
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |newline| newline + 1);
            let prefix = valid.get(..line_start).unwrap_or_default();
            (
                std::str::from_utf8(prefix).unwrap_or_default(),
                Some(line_start),
            )
        }
    };
    let mut state = State::new(options);
    let mut line_no = 0;
    for raw in text.split_terminator('\n') {
        line_no += 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.len() > limits.max_line_bytes {
            return Err(line_too_long(line_no, limits.max_line_bytes));
        }
        state.line(line_no, line)?;
    }
    if let Some(line_start) = bad_utf8 {
        let rest = input.get(line_start..).unwrap_or_default();
        let line = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => rest.get(..end).unwrap_or_default(),
            None => rest,
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line_no += 1;
        if line.len() > limits.max_line_bytes {
            return Err(line_too_long(line_no, limits.max_line_bytes));
        }
        let valid_len = std::str::from_utf8(line)
            .err()
            .map_or(0, |e| e.valid_up_to());
        let valid = std::str::from_utf8(line.get(..valid_len).unwrap_or_default()).unwrap_or("");
        return Err(error(
            line_no,
            valid.chars().count() + 1,
            ParseErrorKind::InvalidUtf8,
        ));
    }
    state.finish(line_no + 1)
}

fn line_too_long(line: usize, max: usize) -> SdpError {
    error(
        line,
        1,
        ParseErrorKind::LimitExceeded(Limit::LineBytes(max)),
    )
}

fn error(line: usize, column: usize, kind: ParseErrorKind) -> SdpError {
    SdpError::Parse(ParseError { line, column, kind })
}

/// 1-based column (in characters) where `at` starts. `at` is a slice of `line` (any field
/// or suffix of it); its offset comes from the addresses, so no re-scan is needed. Anything
/// outside `line` points past its end.
fn column(line: &str, at: &str) -> usize {
    let start = line.as_ptr() as usize;
    let offset = (at.as_ptr() as usize)
        .checked_sub(start)
        .filter(|&offset| offset <= line.len())
        .unwrap_or(line.len());
    line.get(..offset)
        .map_or(offset, |prefix| prefix.chars().count())
        + 1
}

/// Position in the RFC 8866 session-level order.
fn session_rank(t: LineType) -> u8 {
    match t {
        LineType::Version => 0,
        LineType::Origin => 1,
        LineType::SessionName => 2,
        LineType::Information => 3,
        LineType::Uri => 4,
        LineType::Email => 5,
        LineType::Phone => 6,
        LineType::Connection => 7,
        LineType::Bandwidth => 8,
        LineType::Timing | LineType::Repeat => 9,
        LineType::TimeZone => 10,
        LineType::EncryptionKey => 11,
        LineType::Attribute => 12,
        LineType::Media => 13,
    }
}

/// Position in the media-level order; `None` for lines not allowed in an `m=` section.
fn media_rank(t: LineType) -> Option<u8> {
    match t {
        LineType::Information => Some(0),
        LineType::Connection => Some(1),
        LineType::Bandwidth => Some(2),
        LineType::EncryptionKey => Some(3),
        LineType::Attribute => Some(4),
        LineType::Media => Some(5),
        _ => None,
    }
}

struct State<'o> {
    options: &'o ParseOptions,
    description: SessionDescription,
    warnings: Vec<Warning>,
    seen: [bool; 15],
    last: Option<LineType>,
    media: Option<MediaDescription>,
    media_seen: [bool; 15],
    media_last: Option<LineType>,
    media_lines: Vec<usize>,
    attribute_count: usize,
    timing_warned: bool,
    /// Whether the current `m=` section carries RTP (decides how `a=fmtp` formats parse).
    media_is_rtp: bool,
}

fn index(t: LineType) -> usize {
    t as usize
}

impl<'o> State<'o> {
    fn new(options: &'o ParseOptions) -> Self {
        let mut description = SessionDescription::default();
        description.session_name.clear();
        description.times.clear();
        Self {
            options,
            description,
            warnings: Vec::new(),
            seen: [false; 15],
            last: None,
            media: None,
            media_seen: [false; 15],
            media_last: None,
            media_lines: Vec::new(),
            attribute_count: 0,
            timing_warned: false,
            media_is_rtp: false,
        }
    }

    fn lenient(&self) -> bool {
        self.options.is_lenient()
    }

    fn warn(&mut self, line: usize, column: usize, kind: WarningKind) {
        self.warnings.push(Warning { line, column, kind });
    }

    fn line(&mut self, line_no: usize, text: &str) -> Result<(), SdpError> {
        if text.is_empty() {
            if self.lenient() {
                self.warn(line_no, 1, WarningKind::BlankLine);
                return Ok(());
            }
            return Err(error(line_no, 1, ParseErrorKind::EmptyLine));
        }
        let (value, letter) =
            match (anychar::<&str, nom::error::Error<&str>>, char('=')).parse(text) {
                Ok((value, (letter, _))) => (value, letter),
                Err(_) => {
                    let col = if text.starts_with('=') { 1 } else { 2 };
                    return Err(error(line_no, col, ParseErrorKind::NotTypeValue));
                }
            };
        let line_type = u8::try_from(letter)
            .ok()
            .and_then(LineType::from_letter)
            .ok_or_else(|| error(line_no, 1, ParseErrorKind::UnknownLineType(letter)))?;
        self.order(line_no, line_type)?;
        let warning = self
            .value(line_type, value)
            .map_err(|fail| error(line_no, column(text, fail.at), fail.kind))?;
        if let Some((at, kind)) = warning {
            self.warn(line_no, column(text, at), kind);
        }
        if line_type == LineType::Media {
            self.media_lines.push(line_no);
        }
        Ok(())
    }

    /// Line order and cardinality rules, before the value is parsed.
    fn order(&mut self, line_no: usize, t: LineType) -> Result<(), SdpError> {
        let lenient = self.lenient();
        if !self.seen[index(LineType::Version)] && t != LineType::Version {
            return Err(error(
                line_no,
                1,
                ParseErrorKind::UnexpectedLine {
                    expected: LineType::Version,
                    found: t,
                },
            ));
        }
        if !lenient {
            for expected in [LineType::Origin, LineType::SessionName] {
                let required = self.seen[index(LineType::Version)] && !self.seen[index(expected)];
                let before_ok = expected == LineType::Origin || self.seen[index(LineType::Origin)];
                if required && before_ok && t != expected {
                    return Err(error(
                        line_no,
                        1,
                        ParseErrorKind::UnexpectedLine { expected, found: t },
                    ));
                }
            }
        }
        if self.media.is_some() {
            return self.media_order(line_no, t);
        }
        if t == LineType::Repeat && self.description.times.is_empty() {
            let after = self.last.unwrap_or(LineType::Version);
            return Err(error(
                line_no,
                1,
                ParseErrorKind::OutOfOrder { found: t, after },
            ));
        }
        if session_rank(t) > session_rank(LineType::Timing) && !self.seen[index(LineType::Timing)] {
            if !lenient {
                return Err(error(
                    line_no,
                    1,
                    ParseErrorKind::MissingLine(LineType::Timing),
                ));
            }
            if !self.timing_warned {
                self.timing_warned = true;
                self.warn(line_no, 1, WarningKind::MissingTiming);
            }
        }
        if let Some(last) = self.last
            && session_rank(t) < session_rank(last)
        {
            let kind = ParseErrorKind::OutOfOrder {
                found: t,
                after: last,
            };
            if !lenient {
                return Err(error(line_no, 1, kind));
            }
            self.warn(
                line_no,
                1,
                WarningKind::OutOfOrder {
                    found: t,
                    after: last,
                },
            );
        }
        let single = !matches!(
            t,
            LineType::Email
                | LineType::Phone
                | LineType::Bandwidth
                | LineType::Timing
                | LineType::Repeat
                | LineType::Attribute
                | LineType::Media
        );
        if single && self.seen[index(t)] {
            if !lenient || t == LineType::Version {
                return Err(error(line_no, 1, ParseErrorKind::DuplicateLine(t)));
            }
            self.warn(line_no, 1, WarningKind::DuplicateLine(t));
        }
        self.seen[index(t)] = true;
        if self
            .last
            .is_none_or(|last| session_rank(t) >= session_rank(last))
        {
            self.last = Some(t);
        }
        Ok(())
    }

    fn media_order(&mut self, line_no: usize, t: LineType) -> Result<(), SdpError> {
        let Some(rank) = media_rank(t) else {
            return Err(error(
                line_no,
                1,
                ParseErrorKind::OutOfOrder {
                    found: t,
                    after: LineType::Media,
                },
            ));
        };
        if let Some(last) = self.media_last
            && media_rank(last).is_some_and(|last_rank| rank < last_rank)
        {
            if !self.lenient() {
                return Err(error(
                    line_no,
                    1,
                    ParseErrorKind::OutOfOrder {
                        found: t,
                        after: last,
                    },
                ));
            }
            self.warn(
                line_no,
                1,
                WarningKind::OutOfOrder {
                    found: t,
                    after: last,
                },
            );
        }
        if matches!(t, LineType::Information | LineType::EncryptionKey) && self.media_seen[index(t)]
        {
            if !self.lenient() {
                return Err(error(line_no, 1, ParseErrorKind::DuplicateLine(t)));
            }
            self.warn(line_no, 1, WarningKind::DuplicateLine(t));
        }
        self.media_seen[index(t)] = true;
        if self
            .media_last
            .and_then(media_rank)
            .is_none_or(|last_rank| rank >= last_rank)
        {
            self.media_last = Some(t);
        }
        Ok(())
    }

    fn value<'a>(
        &mut self,
        t: LineType,
        value: &'a str,
    ) -> Result<Option<(&'a str, WarningKind)>, Fail<'a>> {
        let lenient = self.lenient();
        let text = || value.to_owned();
        let mut warning = None;
        match t {
            LineType::Version => self.description.version = lines::version(value)?,
            LineType::Origin => {
                let (origin, w) = lines::origin(value, lenient)?;
                self.description.origin = origin;
                warning = w;
            }
            LineType::SessionName => {
                if value.is_empty() {
                    if !lenient {
                        return Err(Fail {
                            at: value,
                            kind: ParseErrorKind::MissingField {
                                field: "session name",
                            },
                        });
                    }
                    warning = Some((value, WarningKind::EmptySessionName));
                }
                self.description.session_name = text();
            }
            LineType::Information => match &mut self.media {
                Some(media) => media.title = Some(text()),
                None => self.description.session_info = Some(text()),
            },
            LineType::Uri => self.description.uri = Some(text()),
            LineType::Email => self.description.emails.push(text()),
            LineType::Phone => self.description.phones.push(text()),
            LineType::Connection => {
                let (connection, w) = lines::connection(value, lenient)?;
                warning = w;
                match &mut self.media {
                    Some(media) => media.connections.push(connection),
                    None => self.description.connection = Some(connection),
                }
            }
            LineType::Bandwidth => {
                let bandwidth = lines::bandwidth(value)?;
                match &mut self.media {
                    Some(media) => media.bandwidths.push(bandwidth),
                    None => self.description.bandwidths.push(bandwidth),
                }
            }
            LineType::Timing => self.description.times.push(lines::timing(value, lenient)?),
            LineType::Repeat => {
                let repeat = lines::repeat(value, lenient)?;
                if let Some(timing) = self.description.times.last_mut() {
                    timing.repeats.push(repeat);
                }
            }
            LineType::TimeZone => {
                self.description.time_zones = Some(lines::time_zones(value, lenient)?)
            }
            LineType::EncryptionKey => match &mut self.media {
                Some(media) => media.encryption_key = Some(text()),
                None => self.description.encryption_key = Some(text()),
            },
            LineType::Attribute => {
                self.attribute_count += 1;
                let max = self.options.limits.max_attributes_per_section;
                if self.attribute_count > max {
                    return Err(Fail {
                        at: value,
                        kind: ParseErrorKind::LimitExceeded(Limit::AttributesPerSection(max)),
                    });
                }
                let ctx = AttributeContext {
                    lenient,
                    level: if self.media.is_some() {
                        Level::Media
                    } else {
                        Level::Session
                    },
                    media_is_rtp: self.media_is_rtp,
                    max_channels: self.options.limits.max_channels,
                };
                let (attribute, w) = parse_attribute(value, ctx)?;
                warning = w;
                match &mut self.media {
                    Some(media) => media.attributes.push(attribute),
                    None => self.description.attributes.push(attribute),
                }
            }
            LineType::Media => {
                let max = self.options.limits.max_media_sections;
                if self.description.media.len() + usize::from(self.media.is_some()) >= max {
                    return Err(Fail {
                        at: value,
                        kind: ParseErrorKind::LimitExceeded(Limit::MediaSections(max)),
                    });
                }
                let (media, w) = lines::media(value, lenient)?;
                warning = w;
                self.media_is_rtp = media.is_rtp();
                if let Some(done) = self.media.replace(media) {
                    self.description.media.push(done);
                }
                self.media_seen = [false; 15];
                self.media_last = None;
                self.attribute_count = 0;
            }
        }
        Ok(warning)
    }

    /// End of input: mandatory lines and `c=` coverage.
    fn finish(mut self, eof_line: usize) -> Result<Parsed, SdpError> {
        if let Some(media) = self.media.take() {
            self.description.media.push(media);
        }
        for t in [LineType::Version, LineType::Origin, LineType::SessionName] {
            if !self.seen[index(t)] {
                return Err(error(eof_line, 1, ParseErrorKind::MissingLine(t)));
            }
        }
        let lenient = self.lenient();
        if !self.seen[index(LineType::Timing)] {
            if !lenient {
                return Err(error(
                    eof_line,
                    1,
                    ParseErrorKind::MissingLine(LineType::Timing),
                ));
            }
            if !self.timing_warned {
                self.warn(eof_line, 1, WarningKind::MissingTiming);
            }
        }
        if self.description.connection.is_none() {
            let missing: Vec<usize> = self
                .description
                .media
                .iter()
                .zip(&self.media_lines)
                .filter(|(media, _)| media.connections.is_empty())
                .map(|(_, line)| *line)
                .collect();
            for line in missing {
                if !lenient {
                    return Err(error(
                        line,
                        1,
                        ParseErrorKind::MissingLine(LineType::Connection),
                    ));
                }
                self.warn(line, 1, WarningKind::MissingConnection);
            }
        }
        self.warnings.sort_by_key(|w| w.line);
        Ok(Parsed {
            description: self.description,
            warnings: self.warnings,
        })
    }
}
