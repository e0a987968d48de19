//! Building blocks shared by the line and attribute parsers: fields, numbers, characters.
//!
//! Every failure carries `at`, a slice of the line that starts at the offending text, so the
//! line parser can turn it into a column without re-scanning.

use crate::error::ParseErrorKind;

/// A failure inside one line: a slice of the line starting at the offending text, and what
/// is wrong.
#[derive(Debug)]
pub(crate) struct Fail<'a> {
    pub(crate) at: &'a str,
    pub(crate) kind: ParseErrorKind,
}

pub(crate) type Res<'a, T> = Result<T, Fail<'a>>;

pub(crate) fn fail<T>(at: &str, kind: ParseErrorKind) -> Res<'_, T> {
    Err(Fail { at, kind })
}

/// RFC 8866 `token-char`.
pub(crate) fn is_token_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_token_byte)
}

/// RFC 8866 `token-char` as a byte (token characters are all ASCII): one table lookup.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[usize::from(b)]
}

const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'0'..=b'9' | b'A'..=b'Z' | b'^'..=b'~');
        b += 1;
    }
    table
};

fn is_space_byte(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits `input` at its first space or tab: `(field, rest)`. The split point is an ASCII
/// byte, so both halves stay on character boundaries.
fn split_field(input: &str) -> (&str, &str) {
    let end = input.bytes().position(is_space_byte).unwrap_or(input.len());
    (
        input.get(..end).unwrap_or(input),
        input.get(end..).unwrap_or(""),
    )
}

/// `input` without its leading spaces and tabs.
fn skip_spaces(input: &str) -> &str {
    let start = input
        .bytes()
        .position(|b| !is_space_byte(b))
        .unwrap_or(input.len());
    input.get(start..).unwrap_or("")
}

/// `text` as a decimal integer of type `T`: ASCII digits only (no sign, no spaces), in range.
pub(crate) fn number<'a, T: TryFrom<u64>>(text: &'a str, field: &'static str) -> Res<'a, T> {
    decimal(text.as_bytes())
        .and_then(|value| T::try_from(value).ok())
        .ok_or(Fail {
            at: text,
            kind: ParseErrorKind::InvalidNumber { field },
        })
}

/// At least one ASCII digit and nothing else, as a `u64`; `None` if not, or on overflow.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &byte| {
        if !byte.is_ascii_digit() {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
    })
}

/// The first character of `text` that `allowed` rejects, as a failure.
pub(crate) fn check_chars<'a>(
    text: &'a str,
    allowed: impl Fn(char) -> bool,
    kind: ParseErrorKind,
) -> Res<'a, ()> {
    if text.is_empty() {
        return fail(text, kind);
    }
    // ASCII fast path: most SDP fields are ASCII, so check bytes and decode nothing.
    if let Some(i) = text
        .bytes()
        .position(|b| !b.is_ascii() || !allowed(char::from(b)))
    {
        let rest = text.get(i..).unwrap_or(text);
        return match rest.char_indices().find(|&(_, c)| !allowed(c)) {
            Some((j, _)) => fail(rest.get(j..).unwrap_or(rest), kind),
            None => Ok(()),
        };
    }
    Ok(())
}

#[cfg(test)]
fn check_chars_by_char<'a>(
    text: &'a str,
    allowed: impl Fn(char) -> bool,
    kind: ParseErrorKind,
) -> Res<'a, ()> {
    if text.is_empty() {
        return fail(text, kind);
    }
    match text.char_indices().find(|&(_, c)| !allowed(c)) {
        Some((i, _)) => fail(text.get(i..).unwrap_or(text), kind),
        None => Ok(()),
    }
}

/// Space-separated fields of a line value.
///
/// Strict: exactly one space between fields, none before the first. Lenient: runs of spaces
/// and tabs anywhere.
pub(crate) struct Fields<'a> {
    rest: &'a str,
    lenient: bool,
    started: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a str, lenient: bool) -> Self {
        Self {
            rest: value,
            lenient,
            started: false,
        }
    }

    fn separator(&mut self) -> Res<'a, ()> {
        if self.lenient {
            self.rest = skip_spaces(self.rest);
        } else if self.started {
            match self.rest.strip_prefix(' ') {
                Some(rest) => self.rest = rest,
                None if self.rest.is_empty() => {}
                None => return fail(self.rest, ParseErrorKind::TrailingData),
            }
        }
        self.started = true;
        Ok(())
    }

    /// The next field and where it starts; a missing field is an error.
    pub(crate) fn next(&mut self, field: &'static str) -> Res<'a, (&'a str, &'a str)> {
        self.separator()?;
        let at = self.rest;
        match split_field(at) {
            ("", _) if at.is_empty() => fail(at, ParseErrorKind::MissingField { field }),
            ("", _) => fail(at, ParseErrorKind::InvalidField { field }),
            (text, rest) => {
                self.rest = rest;
                Ok((text, at))
            }
        }
    }

    /// The next field, or `None` at the end of the value.
    pub(crate) fn next_opt(&mut self) -> Res<'a, Option<(&'a str, &'a str)>> {
        if self.is_done() {
            return Ok(None);
        }
        self.next("field").map(Some)
    }

    /// What is left, verbatim (with any separator before the next field).
    pub(crate) fn remaining(&self) -> &'a str {
        self.rest
    }

    /// Whether only (lenient: whitespace) is left.
    pub(crate) fn is_done(&self) -> bool {
        if self.lenient {
            skip_spaces(self.rest).is_empty()
        } else {
            self.rest.is_empty()
        }
    }

    /// Everything after the next separator, verbatim; `None` if nothing is left.
    pub(crate) fn rest(&mut self) -> Res<'a, Option<&'a str>> {
        if self.is_done() {
            return Ok(None);
        }
        self.separator()?;
        let rest = self.rest;
        self.rest = "";
        Ok(if rest.is_empty() { None } else { Some(rest) })
    }

    /// Fails if anything but (lenient: whitespace) is left.
    pub(crate) fn finish(&self) -> Res<'a, ()> {
        if self.is_done() {
            Ok(())
        } else {
            fail(self.rest, ParseErrorKind::TrailingData)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_fields_need_single_spaces() {
        let mut f = Fields::new("a b  c", false);
        assert_eq!(f.next("x").map(|(t, _)| t).ok(), Some("a"));
        assert_eq!(f.next("x").map(|(t, _)| t).ok(), Some("b"));
        let err = f.next("x").err().map(|e| (e.at, e.kind));
        assert_eq!(
            err,
            Some((" c", ParseErrorKind::InvalidField { field: "x" }))
        );
    }

    #[test]
    fn lenient_fields_skip_runs() {
        let mut f = Fields::new(" a \t b  ", true);
        assert_eq!(f.next("x").map(|(t, _)| t).ok(), Some("a"));
        assert_eq!(f.next("x").map(|(t, _)| t).ok(), Some("b"));
        assert!(f.finish().is_ok());
    }

    #[test]
    fn check_chars_fast_path_agrees_with_char_scan() {
        let texts = [
            "", "abc", "a b", "é", "aé", "aéb c", "tok!en", "x\u{7f}", "ok",
        ];
        for text in texts {
            let kind = || ParseErrorKind::InvalidField { field: "x" };
            let fast = check_chars(text, is_token_char, kind()).map_err(|e| e.at);
            let slow = check_chars_by_char(text, is_token_char, kind()).map_err(|e| e.at);
            assert_eq!(fast, slow, "{text:?}");
            let alpha = |c: char| c.is_alphabetic();
            let fast = check_chars(text, alpha, kind()).map_err(|e| e.at);
            let slow = check_chars_by_char(text, alpha, kind()).map_err(|e| e.at);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn token_table_matches_the_grammar() {
        for c in (0..=0x2ffu32).filter_map(char::from_u32) {
            let grammar = matches!(c, '!' | '#'..='\'' | '*' | '+' | '-' | '.' | '0'..='9' | 'A'..='Z' | '^'..='~');
            assert_eq!(is_token_char(c), grammar, "{c:?}");
        }
    }

    #[test]
    fn numbers_are_digits_in_range() {
        assert_eq!(number::<u16>("65535", "port").ok(), Some(65535));
        assert!(number::<u16>("65536", "port").is_err());
        assert!(number::<u16>("-1", "port").is_err());
        assert!(number::<u16>("1a", "port").is_err());
        assert!(number::<u16>("", "port").is_err());
    }
}
