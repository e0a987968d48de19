//! The structural pass both parsers share: splits lines, enforces the input limits, checks
//! UTF-8, `x=` syntax, line types and line order ([`LineOrder`]), and parses every line
//! value except attribute values with the parsers in [`lines`](crate::lines). Each line it
//! accepts goes to a [`Sink`]: the owned parser ([`parse_with`](crate::parse_with)) types
//! attributes as they come and builds the model, the view ([`parse_view`](crate::view::parse_view))
//! keeps them as they are.

use nom::Parser;
use nom::character::complete::{anychar, char};

use crate::attribute_parse::AttributeContext;
use crate::error::{
    Level, Limit, LineType, ParseError, ParseErrorKind, SdpError, Warning, WarningKind,
};
use crate::fields::{Fail, Res};
use crate::line_order::LineOrder;
use crate::lines::{self, MediaLine};
use crate::model::{Repeat, Timing};
use crate::options::ParseOptions;
use crate::view::{AttributeView, BandwidthView, ConnectionView, OriginView};

/// One accepted line, its value typed as far as the structural pass types it.
pub(crate) enum Value<'a> {
    Version(u32),
    Origin(OriginView<'a>),
    SessionName(&'a str),
    Information(&'a str),
    Uri(&'a str),
    Email(&'a str),
    Phone(&'a str),
    Connection(ConnectionView<'a>),
    Bandwidth(BandwidthView<'a>),
    Timing(Timing),
    Repeat(Repeat),
    TimeZone(&'a str),
    EncryptionKey(&'a str),
    /// An `a=` line, and its name and value (parts of the view).
    Attribute(AttributeView<'a>, &'a str, Option<&'a str>),
    /// The `m=` line; the section's lines follow.
    Media(MediaLine<'a>),
}

/// Where the structural pass sends each line it accepts, in line order.
pub(crate) trait Sink<'a> {
    /// Takes one line. It may type the value further and fail (the parse's error), or report
    /// a warning about it; both point at a slice of the line's value.
    fn take(&mut self, value: Value<'a>) -> Res<'a, Option<(&'a str, WarningKind)>>;
}

/// Runs the structural pass over `input`, sending every accepted line to `sink`. Returns the
/// warnings (the pass's and the sink's), sorted by line, or the first error in line order.
pub(crate) fn scan<'a>(
    input: &'a [u8],
    options: &ParseOptions,
    sink: &mut impl Sink<'a>,
) -> Result<Vec<Warning>, SdpError> {
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
    let mut pass = Pass::new(options);
    let mut line_no = 0;
    for raw in lines_of(text) {
        line_no += 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.len() > limits.max_line_bytes {
            return Err(line_too_long(line_no, limits.max_line_bytes));
        }
        pass.line(line_no, line, sink)?;
    }
    if let Some(line_start) = bad_utf8 {
        return Err(invalid_utf8(
            input.get(line_start..).unwrap_or_default(),
            line_no + 1,
            limits.max_line_bytes,
        ));
    }
    let mut warnings = pass.warnings;
    pass.order.finish(line_no + 1, &mut warnings)?;
    Ok(warnings)
}

/// The lines of `text` without their `\n` (as `str::split_terminator('\n')`).
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, after) = match find_newline(rest.as_bytes()) {
            // `\n` is ASCII, so both sides stay on character boundaries.
            Some(end) => (rest.get(..end)?, rest.get(end + 1..)?),
            None => (rest, ""),
        };
        rest = after;
        Some(line)
    })
}

/// Offset of the first `\n` in `bytes`, eight bytes at a time: SDP lines are short (25 to
/// 30 bytes in browser offers), where this beats a general `memchr` and its setup (and
/// sixteen at a time, as `u128`, costs more on lines this short).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH_BITS: u64 = u64::from_le_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_le_bytes([b'\n'; 8]);
    let (chunks, tail) = bytes.as_chunks::<8>();
    let mut offset = 0;
    for chunk in chunks {
        let x = u64::from_le_bytes(*chunk) ^ NEWLINES;
        // A zero byte of `x` (a newline) sets its high bit here; bytes above the first zero
        // may be set too, so only the lowest set bit counts.
        let zeros = x.wrapping_sub(ONES) & !x & HIGH_BITS;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let in_tail = tail.iter().position(|&b| b == b'\n');
    in_tail.map(|i| offset + i)
}

/// The error for the line at the start of `rest` (number `line_no`), which holds invalid UTF-8.
fn invalid_utf8(rest: &[u8], line_no: usize, max_line_bytes: usize) -> SdpError {
    let line = match rest.iter().position(|&b| b == b'\n') {
        Some(end) => rest.get(..end).unwrap_or_default(),
        None => rest,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > max_line_bytes {
        return line_too_long(line_no, max_line_bytes);
    }
    let valid_len = std::str::from_utf8(line)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let valid = std::str::from_utf8(line.get(..valid_len).unwrap_or_default()).unwrap_or("");
    error(
        line_no,
        valid.chars().count() + 1,
        ParseErrorKind::InvalidUtf8,
    )
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
pub(crate) fn column(line: &str, at: &str) -> usize {
    let start = line.as_ptr() as usize;
    let offset = (at.as_ptr() as usize)
        .checked_sub(start)
        .filter(|&offset| offset <= line.len())
        .unwrap_or(line.len());
    line.get(..offset)
        .map_or(offset, |prefix| prefix.chars().count())
        + 1
}

/// The state of the pass between lines.
struct Pass<'o> {
    options: &'o ParseOptions,
    order: LineOrder,
    warnings: Vec<Warning>,
    media_sections: usize,
    /// `a=` lines in the current section (the session level counts as one).
    attributes: usize,
    /// Whether the current `m=` section carries RTP (decides how `a=fmtp` formats parse).
    media_is_rtp: bool,
}

impl<'o> Pass<'o> {
    fn new(options: &'o ParseOptions) -> Self {
        Self {
            options,
            order: LineOrder::new(options.is_lenient()),
            warnings: Vec::new(),
            media_sections: 0,
            attributes: 0,
            media_is_rtp: false,
        }
    }

    #[inline]
    fn line<'a>(
        &mut self,
        line_no: usize,
        text: &'a str,
        sink: &mut impl Sink<'a>,
    ) -> Result<(), SdpError> {
        if text.is_empty() {
            if self.options.is_lenient() {
                self.warn(line_no, 1, WarningKind::BlankLine);
                return Ok(());
            }
            return Err(error(line_no, 1, ParseErrorKind::EmptyLine));
        }
        // `<type>=<value>`, the type one character.
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
        self.order.check(line_no, line_type, &mut self.warnings)?;
        // A line has at most one warning of its own: either from the pass (non-`a=` lines)
        // or from the sink (an attribute it typed).
        let warning = self
            .value(line_no, line_type, value, sink)
            .map_err(|fail| error(line_no, column(text, fail.at), fail.kind))?;
        if let Some((at, kind)) = warning {
            self.warn(line_no, column(text, at), kind);
        }
        Ok(())
    }

    fn warn(&mut self, line: usize, column: usize, kind: WarningKind) {
        self.warnings.push(Warning { line, column, kind });
    }

    /// Parses the value of a line that passed the order checks and hands it to `sink`.
    #[inline]
    fn value<'a>(
        &mut self,
        line_no: usize,
        t: LineType,
        value: &'a str,
        sink: &mut impl Sink<'a>,
    ) -> Res<'a, Option<(&'a str, WarningKind)>> {
        let lenient = self.options.is_lenient();
        let limits = &self.options.limits;
        let (typed, warning) = match t {
            LineType::Version => (Value::Version(lines::version(value)?), None),
            LineType::Origin => {
                let (origin, warning) = lines::origin(value, lenient)?;
                (Value::Origin(origin), warning)
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
                    let warning = Some((value, WarningKind::EmptySessionName));
                    (Value::SessionName(value), warning)
                } else {
                    (Value::SessionName(value), None)
                }
            }
            LineType::Information => (Value::Information(value), None),
            LineType::Uri => (Value::Uri(value), None),
            LineType::Email => (Value::Email(value), None),
            LineType::Phone => (Value::Phone(value), None),
            LineType::Connection => {
                let (connection, warning) = lines::connection(value, lenient)?;
                (Value::Connection(connection), warning)
            }
            LineType::Bandwidth => (Value::Bandwidth(lines::bandwidth(value)?), None),
            LineType::Timing => (Value::Timing(lines::timing(value, lenient)?), None),
            LineType::Repeat => (Value::Repeat(lines::repeat(value, lenient)?), None),
            LineType::TimeZone => (Value::TimeZone(lines::time_zones(value, lenient)?), None),
            LineType::EncryptionKey => (Value::EncryptionKey(value), None),
            LineType::Attribute => {
                self.attributes += 1;
                let max = limits.max_attributes_per_section;
                if self.attributes > max {
                    return Err(Fail {
                        at: value,
                        kind: ParseErrorKind::LimitExceeded(Limit::AttributesPerSection(max)),
                    });
                }
                let context = AttributeContext {
                    lenient,
                    level: if self.order.in_media() {
                        Level::Media
                    } else {
                        Level::Session
                    },
                    media_is_rtp: self.media_is_rtp,
                    max_channels: limits.max_channels,
                };
                let (attribute, name, value) = AttributeView::split(value, line_no, context)?;
                (Value::Attribute(attribute, name, value), None)
            }
            LineType::Media => {
                let max = limits.max_media_sections;
                if self.media_sections >= max {
                    return Err(Fail {
                        at: value,
                        kind: ParseErrorKind::LimitExceeded(Limit::MediaSections(max)),
                    });
                }
                let (media, warning) = lines::media(value, line_no, lenient)?;
                self.media_sections += 1;
                self.attributes = 0;
                self.media_is_rtp = media.rtp;
                self.order.start_media(line_no, &mut self.warnings);
                (Value::Media(media), warning)
            }
        };
        let sink_warning = sink.take(typed)?;
        Ok(warning.or(sink_warning))
    }
}

#[cfg(test)]
mod tests {
    use super::{find_newline, lines_of};

    #[test]
    fn newline_search_agrees_with_a_byte_scan() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "\n\n",
            "0123456\n",
            "01234567\n",
            "012345678\nx",
            "0123456789abcdef0123\n",
            "é\né",
            "\u{80a}\n",
            "x\r\ny\r\n",
            "no newline at all here",
        ];
        for text in texts {
            let bytes = text.as_bytes();
            for start in 0..=bytes.len() {
                let slice = &bytes[start..];
                let expected = slice.iter().position(|&b| b == b'\n');
                assert_eq!(find_newline(slice), expected, "{text:?} from {start}");
            }
            let expected: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(lines_of(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }
}
