//! The `a=candidate` grammar (RFC 8839 §5.1), once: the fields of a candidate value in order
//! (foundation, component id, transport, priority, connection address, port, `typ`, candidate
//! type, then extension name/value pairs), split by [`CandidateTokens`], and the syntax of
//! each ([`check_candidate_syntax`]). The SDP parser checks `a=candidate` lines with it; the
//! ICE crate walks the same tokens to build its typed candidate, with the checks of meaning
//! (ranges, addresses, known extensions) its own.

use std::fmt;

/// Most characters of a foundation (RFC 8839 `foundation = 1*32ice-char`).
pub const FOUNDATION_MAX_LEN: usize = 32;

/// RFC 8839 `ice-char`: ALPHA / DIGIT / `+` / `/`.
pub const fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// RFC 3261 `token` character, what the transport, the candidate type and extension names are
/// made of: ALPHA / DIGIT / `-.!%*_+` and `` ` `` `'` `~`.
pub const fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// A field of a candidate value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CandidateField {
    /// `foundation`.
    Foundation,
    /// `component-id`.
    Component,
    /// `transport`.
    Transport,
    /// `priority`.
    Priority,
    /// `connection-address`.
    Address,
    /// `port`.
    Port,
    /// The `typ` keyword.
    Typ,
    /// `cand-type`.
    Type,
    /// An extension's name (`raddr`, `rport`, `generation`, ...).
    ExtensionName,
    /// An extension's value.
    ExtensionValue,
}

impl CandidateField {
    /// The field's name, as errors say it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Foundation => "foundation",
            Self::Component => "component id",
            Self::Transport => "transport",
            Self::Priority => "priority",
            Self::Address => "connection address",
            Self::Port => "port",
            Self::Typ => "typ",
            Self::Type => "candidate type",
            Self::ExtensionName => "extension",
            Self::ExtensionValue => "extension value",
        }
    }

    /// The field at position `index` (0-based) of a candidate value.
    const fn at(index: usize) -> Self {
        match index {
            0 => Self::Foundation,
            1 => Self::Component,
            2 => Self::Transport,
            3 => Self::Priority,
            4 => Self::Address,
            5 => Self::Port,
            6 => Self::Typ,
            7 => Self::Type,
            i if i % 2 == 0 => Self::ExtensionName,
            _ => Self::ExtensionValue,
        }
    }
}

impl fmt::Display for CandidateField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a candidate value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CandidateSyntaxErrorKind {
    /// The value ended before this field (a fixed field, or an extension's value: then the
    /// error is at the extension's name).
    Missing,
    /// An empty field: two separators in a row, or one at an edge (strict separators).
    Empty,
    /// A tab, where strict separators allow one space only.
    BadSeparator,
    /// A foundation of more than [`FOUNDATION_MAX_LEN`] characters.
    TooLong,
    /// A character the field does not allow (the error is at that character).
    InvalidCharacter,
    /// Not a decimal number of the field's size (u16 for component and ports, u32 for the
    /// priority).
    InvalidNumber,
    /// The seventh field is not `typ`.
    ExpectedTyp,
}

/// Where and why a candidate value breaks the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateSyntaxError {
    /// The field at fault (or expected).
    pub field: CandidateField,
    /// Byte offset in the value where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub kind: CandidateSyntaxErrorKind,
}

impl fmt::Display for CandidateSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CandidateSyntaxErrorKind::Missing => "missing",
            CandidateSyntaxErrorKind::Empty => "empty",
            CandidateSyntaxErrorKind::BadSeparator => "after a tab",
            CandidateSyntaxErrorKind::TooLong => "too long",
            CandidateSyntaxErrorKind::InvalidCharacter => "has an invalid character",
            CandidateSyntaxErrorKind::InvalidNumber => "not a number in range",
            CandidateSyntaxErrorKind::ExpectedTyp => "not `typ`",
        };
        write!(f, "candidate {} {what} at byte {}", self.field, self.offset)
    }
}

impl std::error::Error for CandidateSyntaxError {}

/// One field of a candidate value: which, its text, and its byte offset in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateToken<'a> {
    /// Which field it is.
    pub field: CandidateField,
    /// The text.
    pub text: &'a str,
    /// Byte offset in the value.
    pub offset: usize,
}

/// The fields of a candidate value (the text after `candidate:`) in order, each labelled, or
/// the first error in how they are separated or how many there are: strict separators are one
/// space each (RFC 8839), lenient ones runs of spaces and tabs (what browsers tolerate). The
/// fields' own syntax is [`check_candidate_syntax`]'s.
#[derive(Debug, Clone)]
pub struct CandidateTokens<'a> {
    value: &'a str,
    position: usize,
    index: usize,
    lenient: bool,
    done: bool,
    /// The last extension name and its offset, for a missing value.
    name_offset: usize,
}

impl<'a> CandidateTokens<'a> {
    /// The tokens of `value`.
    pub fn new(value: &'a str, lenient: bool) -> Self {
        Self {
            value,
            position: 0,
            index: 0,
            lenient,
            done: false,
            name_offset: 0,
        }
    }

    fn error(
        &mut self,
        field: CandidateField,
        offset: usize,
        kind: CandidateSyntaxErrorKind,
    ) -> Option<Result<CandidateToken<'a>, CandidateSyntaxError>> {
        self.done = true;
        Some(Err(CandidateSyntaxError {
            field,
            offset,
            kind,
        }))
    }

    /// The end of the value: an error if a fixed field or an extension's value is missing.
    fn end(&mut self) -> Option<Result<CandidateToken<'a>, CandidateSyntaxError>> {
        let field = CandidateField::at(self.index);
        if self.index < 8 {
            return self.error(field, self.value.len(), CandidateSyntaxErrorKind::Missing);
        }
        if field == CandidateField::ExtensionValue {
            return self.error(field, self.name_offset, CandidateSyntaxErrorKind::Missing);
        }
        self.done = true;
        None
    }
}

const fn is_separator(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a> Iterator for CandidateTokens<'a> {
    type Item = Result<CandidateToken<'a>, CandidateSyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bytes = self.value.as_bytes();
        let field = CandidateField::at(self.index);
        if self.lenient {
            while self.position < bytes.len() && is_separator(bytes[self.position]) {
                self.position += 1;
            }
            if self.position == bytes.len() {
                return self.end();
            }
        } else {
            if self.index > 0 {
                match bytes.get(self.position) {
                    None => return self.end(),
                    Some(b' ') => self.position += 1,
                    Some(_) => {
                        let offset = self.position;
                        return self.error(field, offset, CandidateSyntaxErrorKind::BadSeparator);
                    }
                }
            } else if bytes.is_empty() {
                return self.end();
            }
            match bytes.get(self.position) {
                Some(b' ') | None => {
                    let offset = self.position;
                    return self.error(field, offset, CandidateSyntaxErrorKind::Empty);
                }
                Some(b'\t') => {
                    let offset = self.position;
                    return self.error(field, offset, CandidateSyntaxErrorKind::BadSeparator);
                }
                Some(_) => {}
            }
        }
        let start = self.position;
        let end = bytes[start..]
            .iter()
            .position(|&b| is_separator(b))
            .map_or(bytes.len(), |n| start + n);
        self.position = end;
        self.index += 1;
        if field == CandidateField::ExtensionName {
            self.name_offset = start;
        }
        Some(Ok(CandidateToken {
            field,
            text: self.value.get(start..end).unwrap_or(""),
            offset: start,
        }))
    }
}

/// Checks a candidate value (the text after `candidate:`) against RFC 8839's grammar: the
/// fields and their separators ([`CandidateTokens`]), a foundation of 1 to 32 `ice-char`s,
/// component id, port and `rport` as u16, priority as u32, transport, candidate type and
/// extension names as tokens, the `typ` keyword. The first error, with where it is.
pub fn check_candidate_syntax(value: &str, lenient: bool) -> Result<(), CandidateSyntaxError> {
    if is_valid_candidate(value.as_bytes(), lenient) {
        return Ok(());
    }
    first_error(value, lenient)
}

/// Whether `value` is a valid candidate value, in one pass over its bytes: `true` exactly when
/// [`first_error`] finds none (the tests hold them to that over mutated and random values).
/// A candidate line is checked with each description that carries it, so the common, valid
/// case takes this path, and only a value with an error walks the labelled tokens to say where.
fn is_valid_candidate(value: &[u8], lenient: bool) -> bool {
    let n = value.len();
    let mut i = 0;
    let mut index = 0usize;
    let mut rport = false;
    loop {
        if lenient {
            i = skip(value, i, SEPARATOR);
            if i == n {
                break;
            }
        } else {
            if index > 0 {
                if i == n {
                    break;
                }
                // A token ends at a separator: strict takes one space, not a tab.
                if value[i] != b' ' {
                    return false;
                }
                i += 1;
            }
            if i == n || is_separator(value[i]) {
                return false;
            }
        }
        let start = i;
        let valid = match CandidateField::at(index) {
            CandidateField::Foundation => {
                i = skip(value, i, ICE_CHAR);
                i - start <= FOUNDATION_MAX_LEN
            }
            CandidateField::Component | CandidateField::Port => {
                number_end(value, &mut i, u64::from(u16::MAX))
            }
            CandidateField::Priority => number_end(value, &mut i, u64::from(u32::MAX)),
            CandidateField::Transport | CandidateField::Type => {
                i = skip(value, i, TOKEN_CHAR);
                true
            }
            CandidateField::ExtensionName => {
                i = skip(value, i, TOKEN_CHAR);
                rport = &value[start..i] == b"rport";
                true
            }
            CandidateField::ExtensionValue if rport => {
                number_end(value, &mut i, u64::from(u16::MAX))
            }
            CandidateField::Typ => {
                i = token_end(value, i);
                &value[start..i] == b"typ"
            }
            CandidateField::Address | CandidateField::ExtensionValue => {
                i = token_end(value, i);
                true
            }
        };
        // The field's characters stopped before a separator or the end: one it does not allow.
        if !valid || (i < n && !is_separator(value[i])) {
            return false;
        }
        index += 1;
    }
    index >= 8 && (index - 8).is_multiple_of(2)
}

/// Byte classes for [`is_valid_candidate`], one table lookup a byte.
const SEPARATOR: u8 = 1;
const ICE_CHAR: u8 = 2;
const TOKEN_CHAR: u8 = 4;
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        // In range: b < 256.
        #[expect(clippy::cast_possible_truncation, reason = "b < 256")]
        let byte = b as u8;
        if is_separator(byte) {
            table[b] |= SEPARATOR;
        }
        if is_ice_char(byte) {
            table[b] |= ICE_CHAR;
        }
        if is_token_char(byte) {
            table[b] |= TOKEN_CHAR;
        }
        b += 1;
    }
    table
};

/// The index of the first byte from `i` that is not in `class` (or the end).
#[inline]
fn skip(value: &[u8], i: usize, class: u8) -> usize {
    value.get(i..).map_or(i, |rest| {
        i + rest
            .iter()
            .position(|&b| CLASSES[usize::from(b)] & class == 0)
            .unwrap_or(rest.len())
    })
}

/// The index of the first separator from `i` (or the end).
#[inline]
fn token_end(value: &[u8], i: usize) -> usize {
    value.get(i..).map_or(i, |rest| {
        i + rest
            .iter()
            .position(|&b| CLASSES[usize::from(b)] & SEPARATOR != 0)
            .unwrap_or(rest.len())
    })
}

/// Moves `i` past the digits there; whether there was at least one and their value is at
/// most `max`.
fn number_end(value: &[u8], i: &mut usize, max: u64) -> bool {
    let start = *i;
    let mut number = 0u64;
    while let Some(&b) = value.get(*i).filter(|b| b.is_ascii_digit()) {
        number = number * 10 + u64::from(b - b'0');
        if number > max {
            return false;
        }
        *i += 1;
    }
    *i > start
}

/// The first error of a value [`is_valid_candidate`] refused, walking its labelled tokens.
fn first_error(value: &str, lenient: bool) -> Result<(), CandidateSyntaxError> {
    use CandidateSyntaxErrorKind as Kind;
    let mut extension_name = "";
    for token in CandidateTokens::new(value, lenient) {
        let CandidateToken {
            field,
            text,
            offset,
        } = token?;
        let bytes = text.as_bytes();
        let fail = |at: usize, kind| {
            Err(CandidateSyntaxError {
                field,
                offset: at,
                kind,
            })
        };
        if field == CandidateField::ExtensionName {
            extension_name = text;
        }
        match field {
            CandidateField::Foundation => {
                if bytes.len() > FOUNDATION_MAX_LEN {
                    return fail(offset, Kind::TooLong);
                }
                if let Some(bad) = bytes.iter().position(|&b| !is_ice_char(b)) {
                    return fail(offset + bad, Kind::InvalidCharacter);
                }
            }
            CandidateField::Component | CandidateField::Port => {
                if !fits(bytes, u64::from(u16::MAX)) {
                    return fail(offset, Kind::InvalidNumber);
                }
            }
            CandidateField::Priority => {
                if !fits(bytes, u64::from(u32::MAX)) {
                    return fail(offset, Kind::InvalidNumber);
                }
            }
            CandidateField::Transport | CandidateField::Type | CandidateField::ExtensionName => {
                if !bytes.iter().all(|&b| is_token_char(b)) {
                    return fail(offset, Kind::InvalidCharacter);
                }
            }
            CandidateField::Typ => {
                if text != "typ" {
                    return fail(offset, Kind::ExpectedTyp);
                }
            }
            CandidateField::ExtensionValue => {
                if extension_name == "rport" && !fits(bytes, u64::from(u16::MAX)) {
                    return fail(offset, Kind::InvalidNumber);
                }
            }
            CandidateField::Address => {}
        }
    }
    Ok(())
}

/// One or more ASCII digits whose value is at most `max`.
fn fits(digits: &[u8], max: u64) -> bool {
    !digits.is_empty()
        && digits
            .iter()
            .try_fold(0u64, |value, &b| {
                if !b.is_ascii_digit() {
                    return None;
                }
                value
                    .checked_mul(10)?
                    .checked_add(u64::from(b - b'0'))
                    .filter(|v| *v <= max)
            })
            .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use CandidateSyntaxErrorKind as Kind;

    fn error(value: &str, lenient: bool) -> Option<(CandidateField, usize, Kind)> {
        check_candidate_syntax(value, lenient)
            .err()
            .map(|e| (e.field, e.offset, e.kind))
    }

    #[test]
    fn what_browsers_send_is_valid() {
        for value in [
            "3960413356 1 udp 2122194687 192.0.2.2 54577 typ host generation 0 network-id 1",
            "2462121524 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0",
            "1 1 UDP 2130706431 fd00::2 57599 typ host",
            "842163049 1 udp 1677729535 203.0.113.7 47807 typ srflx raddr 0.0.0.0 rport 0",
            "a0+B/3 2 udp 2130706432 1f2e.local 2347 typ host",
        ] {
            assert_eq!(error(value, false), None, "{value}");
            assert_eq!(error(value, true), None, "{value}");
        }
        assert_eq!(error(" 1  1 udp\t1 192.0.2.1 9 typ host ", true), None);
    }

    #[test]
    fn each_error_names_its_field_and_where_it_is() {
        let cases: &[(&str, CandidateField, usize, Kind)] = &[
            ("", CandidateField::Foundation, 0, Kind::Missing),
            (
                "1 1 udp 1 192.0.2.1 9 typ",
                CandidateField::Type,
                25,
                Kind::Missing,
            ),
            (
                "1 1 udp 1 192.0.2.1 9 typ host x",
                CandidateField::ExtensionValue,
                31,
                Kind::Missing,
            ),
            (
                "1  1 udp 1 192.0.2.1 9 typ host",
                CandidateField::Component,
                2,
                Kind::Empty,
            ),
            (
                "1 1 udp 1 192.0.2.1 9 typ host ",
                CandidateField::ExtensionName,
                31,
                Kind::Empty,
            ),
            (
                " 1 1 udp 1 192.0.2.1 9 typ host",
                CandidateField::Foundation,
                0,
                Kind::Empty,
            ),
            (
                "1\t1 udp 1 192.0.2.1 9 typ host",
                CandidateField::Component,
                1,
                Kind::BadSeparator,
            ),
            (
                "1é 1 udp 1 192.0.2.1 9 typ host",
                CandidateField::Foundation,
                1,
                Kind::InvalidCharacter,
            ),
            (
                "abcdefghijklmnopqrstuvwxyz0123456 1 udp 1 192.0.2.1 9 typ host",
                CandidateField::Foundation,
                0,
                Kind::TooLong,
            ),
            (
                "1 65536 udp 1 192.0.2.1 9 typ host",
                CandidateField::Component,
                2,
                Kind::InvalidNumber,
            ),
            (
                "1 1 u,p 1 192.0.2.1 9 typ host",
                CandidateField::Transport,
                4,
                Kind::InvalidCharacter,
            ),
            (
                "1 1 udp 4294967296 192.0.2.1 9 typ host",
                CandidateField::Priority,
                8,
                Kind::InvalidNumber,
            ),
            (
                "1 1 udp 1 192.0.2.1 x typ host",
                CandidateField::Port,
                20,
                Kind::InvalidNumber,
            ),
            (
                "1 1 udp 1 192.0.2.1 9 Typ host",
                CandidateField::Typ,
                22,
                Kind::ExpectedTyp,
            ),
            (
                "1 1 udp 1 192.0.2.1 9 typ srflx rport 70000",
                CandidateField::ExtensionValue,
                38,
                Kind::InvalidNumber,
            ),
        ];
        for (value, field, offset, kind) in cases {
            assert_eq!(
                error(value, false),
                Some((*field, *offset, *kind)),
                "{value:?}"
            );
        }
    }

    /// The one-pass check and the labelled tokens agree on every value: the valid ones above,
    /// each mutated at random (a byte replaced, inserted or removed, from the characters the
    /// grammar cares about), and random values of those characters.
    #[test]
    fn the_one_pass_check_agrees_with_the_tokens() {
        const BYTES: &[u8] = b"  \t09+/a-.,typhostrpo\xc3\xa9:0123456789";
        let bases = [
            "3960413356 1 udp 2122194687 192.0.2.2 54577 typ host generation 0 network-id 1",
            "2462121524 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0",
            "842163049 1 udp 1677729535 203.0.113.7 47807 typ srflx raddr 0.0.0.0 rport 0",
            "a0+B/3 2 udp 2130706432 1f2e.local 2347 typ host",
            "1 1 UDP 4294967295 fd00::2 65535 typ host rport 65535",
            " 1  1 udp\t1 192.0.2.1 9 typ host ",
            "abcdefghijklmnopqrstuvwxyz012345 65535 udp 1 192.0.2.1 9 typ host",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % bound as u64).expect("below bound")
        };
        let mut checked = 0;
        for round in 0..60_000 {
            let mut value: Vec<u8> = if round % 10 == 0 {
                (0..next(40)).map(|_| BYTES[next(BYTES.len())]).collect()
            } else {
                bases[next(bases.len())].as_bytes().to_vec()
            };
            for _ in 0..next(4) {
                let at = next(value.len() + 1);
                let byte = BYTES[next(BYTES.len())];
                match next(3) {
                    0 if at < value.len() => value[at] = byte,
                    1 if at < value.len() => {
                        value.remove(at);
                    }
                    _ => value.insert(at, byte),
                }
            }
            let Ok(value) = std::str::from_utf8(&value) else {
                continue;
            };
            for lenient in [false, true] {
                assert_eq!(
                    is_valid_candidate(value.as_bytes(), lenient),
                    first_error(value, lenient).is_ok(),
                    "{value:?}, lenient: {lenient}"
                );
            }
            checked += 1;
        }
        assert!(checked > 40_000, "{checked} values checked");
    }

    #[test]
    fn tokens_are_labelled_in_order() {
        let tokens: Vec<_> = CandidateTokens::new("1 1 udp 1 h.local 9 typ host ufrag x", false)
            .map(|t| t.map(|t| (t.field, t.text, t.offset)))
            .collect::<Result<_, _>>()
            .expect("valid");
        assert_eq!(tokens[4], (CandidateField::Address, "h.local", 10));
        assert_eq!(tokens[8], (CandidateField::ExtensionName, "ufrag", 29));
        assert_eq!(tokens[9], (CandidateField::ExtensionValue, "x", 35));
        assert_eq!(tokens.len(), 10);
    }
}
