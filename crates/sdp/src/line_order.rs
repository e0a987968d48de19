//! RFC 8866 line order and cardinality, mandatory lines and `c=` coverage: the state machine
//! of the structural pass (see [`scan`](crate::scan)), fed one line type at a time.

use crate::error::{LineType, ParseError, ParseErrorKind, SdpError, Warning, WarningKind};

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

fn index(t: LineType) -> usize {
    t as usize
}

/// An error at column 1 of `line`: order errors point at the type letter.
fn at_line(line: usize, kind: ParseErrorKind) -> SdpError {
    SdpError::Parse(ParseError {
        line,
        column: 1,
        kind,
    })
}

fn warn(warnings: &mut Vec<Warning>, line: usize, kind: WarningKind) {
    warnings.push(Warning {
        line,
        column: 1,
        kind,
    });
}

/// A line of type `found` after one of type `after` that must not precede it: an error in strict
/// mode, a warning in lenient mode.
fn out_of_order(
    lenient: bool,
    warnings: &mut Vec<Warning>,
    line: usize,
    found: LineType,
    after: LineType,
) -> Result<(), SdpError> {
    if !lenient {
        return Err(at_line(line, ParseErrorKind::OutOfOrder { found, after }));
    }
    warn(warnings, line, WarningKind::OutOfOrder { found, after });
    Ok(())
}

/// Which line types came so far, and in which order.
pub(crate) struct LineOrder {
    lenient: bool,
    /// Session-level line types seen.
    seen: [bool; 15],
    /// The highest-ranked session-level line type so far.
    last: Option<LineType>,
    /// Line of the current `m=`, once inside a media section.
    media_line: Option<usize>,
    /// Line types seen in the current media section.
    media_seen: [bool; 15],
    /// The highest-ranked line type of the current media section.
    media_last: Option<LineType>,
    timing_warned: bool,
    /// The type of the last line checked.
    previous: Option<LineType>,
    /// Strict mode: the first `m=` line whose section (and the session) has no `c=`.
    uncovered: Option<usize>,
}

impl LineOrder {
    pub(crate) fn new(lenient: bool) -> Self {
        Self {
            lenient,
            seen: [false; 15],
            last: None,
            media_line: None,
            media_seen: [false; 15],
            media_last: None,
            timing_warned: false,
            previous: None,
            uncovered: None,
        }
    }

    /// Whether the lines so far opened an `m=` section.
    pub(crate) fn in_media(&self) -> bool {
        self.media_line.is_some()
    }

    /// Line order and cardinality rules for a line of type `t`, before its value is parsed.
    /// Tolerated deviations (lenient mode) go to `warnings`.
    // Called once per line by each parser: inlined into both (with `check_media`, most
    // lines' path), a parse costs ~2 % fewer instructions.
    #[inline(always)]
    pub(crate) fn check(
        &mut self,
        line: usize,
        t: LineType,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), SdpError> {
        // Most lines are `a=` lines after an `a=` line, at either level: that one passed,
        // and every rule gives the same answer for the next one and changes nothing.
        if t == LineType::Attribute && self.previous == Some(LineType::Attribute) {
            return Ok(());
        }
        self.previous = Some(t);
        let lenient = self.lenient;
        if !self.seen[index(LineType::Version)] && t != LineType::Version {
            return Err(at_line(
                line,
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
                    return Err(at_line(
                        line,
                        ParseErrorKind::UnexpectedLine { expected, found: t },
                    ));
                }
            }
        }
        if self.in_media() {
            return self.check_media(line, t, warnings);
        }
        if t == LineType::Repeat && !self.seen[index(LineType::Timing)] {
            let after = self.last.unwrap_or(LineType::Version);
            return Err(at_line(
                line,
                ParseErrorKind::OutOfOrder { found: t, after },
            ));
        }
        if session_rank(t) > session_rank(LineType::Timing) && !self.seen[index(LineType::Timing)] {
            if !lenient {
                return Err(at_line(line, ParseErrorKind::MissingLine(LineType::Timing)));
            }
            if !self.timing_warned {
                self.timing_warned = true;
                warn(warnings, line, WarningKind::MissingTiming);
            }
        }
        if let Some(last) = self.last
            && session_rank(t) < session_rank(last)
        {
            out_of_order(lenient, warnings, line, t, last)?;
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
                return Err(at_line(line, ParseErrorKind::DuplicateLine(t)));
            }
            warn(warnings, line, WarningKind::DuplicateLine(t));
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

    #[inline(always)]
    fn check_media(
        &mut self,
        line: usize,
        t: LineType,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), SdpError> {
        let Some(rank) = media_rank(t) else {
            return Err(at_line(
                line,
                ParseErrorKind::OutOfOrder {
                    found: t,
                    after: LineType::Media,
                },
            ));
        };
        if let Some(last) = self.media_last
            && media_rank(last).is_some_and(|last_rank| rank < last_rank)
        {
            out_of_order(self.lenient, warnings, line, t, last)?;
        }
        if matches!(t, LineType::Information | LineType::EncryptionKey) && self.media_seen[index(t)]
        {
            if !self.lenient {
                return Err(at_line(line, ParseErrorKind::DuplicateLine(t)));
            }
            warn(warnings, line, WarningKind::DuplicateLine(t));
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

    /// An `m=` line at `line` parsed: the previous section (if any) ends, a new one starts.
    pub(crate) fn start_media(&mut self, line: usize, warnings: &mut Vec<Warning>) {
        self.end_media(warnings);
        self.media_line = Some(line);
        self.media_seen = [false; 15];
        self.media_last = None;
    }

    /// `c=` coverage of the section that ends: it needs a `c=` unless the session has one.
    fn end_media(&mut self, warnings: &mut Vec<Warning>) {
        let Some(line) = self.media_line else { return };
        if self.seen[index(LineType::Connection)] || self.media_seen[index(LineType::Connection)] {
            return;
        }
        if self.lenient {
            warn(warnings, line, WarningKind::MissingConnection);
        } else if self.uncovered.is_none() {
            self.uncovered = Some(line);
        }
    }

    /// End of input (`eof_line` is the line after the last one): mandatory lines and `c=`
    /// coverage. Leaves `warnings` sorted by line.
    pub(crate) fn finish(
        mut self,
        eof_line: usize,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), SdpError> {
        self.end_media(warnings);
        for t in [LineType::Version, LineType::Origin, LineType::SessionName] {
            if !self.seen[index(t)] {
                return Err(at_line(eof_line, ParseErrorKind::MissingLine(t)));
            }
        }
        if !self.seen[index(LineType::Timing)] {
            if !self.lenient {
                return Err(at_line(
                    eof_line,
                    ParseErrorKind::MissingLine(LineType::Timing),
                ));
            }
            if !self.timing_warned {
                warn(warnings, eof_line, WarningKind::MissingTiming);
            }
        }
        if let Some(line) = self.uncovered {
            return Err(at_line(
                line,
                ParseErrorKind::MissingLine(LineType::Connection),
            ));
        }
        // Coverage warnings were added when their section ended, after later lines' warnings.
        if !warnings.is_sorted_by_key(|w| w.line) {
            warnings.sort_by_key(|w| w.line);
        }
        Ok(())
    }
}
