//! The nom building blocks the line and attribute grammars are written in.
//!
//! A line value is fields separated by spaces: strict mode wants exactly one space between
//! fields and none around them, lenient mode takes runs of spaces and tabs anywhere. The
//! grammars combine the parsers here with nom's own (`preceded`, `opt`, `alt`, `tag`,
//! `fold_many0`, ...). Every failure is a [`Fail`] whose `at` is the input where it happened,
//! which is what nom hands a parser anyway: the line parser turns it into a column. Grammar
//! errors are [`nom::Err::Failure`], so no combinator backtracks over them; the recoverable
//! [`nom::Err::Error`] only steers `alt`, `opt` and the repetitions.
//!
//! The primitives scan bytes, not `char`s: the characters that end a field (space, tab, `/`,
//! `:`, ...) are ASCII, so every split falls on a character boundary.

use nom::error::{ErrorKind, ParseError};
use nom::{Err as NomErr, IResult, Parser};

use crate::error::ParseErrorKind;
use crate::fields::{Fail, Res, number};

/// What a grammar returns: the rest of the input and its output, or a [`Fail`].
pub(crate) type PResult<'a, O> = IResult<&'a str, O, Fail<'a>>;

impl<'a> ParseError<&'a str> for Fail<'a> {
    /// nom's own parsers fail here; the grammars only use them where the error is steered
    /// (`alt`, `opt`, repetitions) or relabelled, so this kind is never the parse's error.
    fn from_error_kind(input: &'a str, _: ErrorKind) -> Self {
        Fail {
            at: input,
            kind: ParseErrorKind::TrailingData,
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> From<NomErr<Fail<'a>>> for Fail<'a> {
    /// Lets a grammar written step by step use `?` on nom parsers.
    fn from(error: NomErr<Fail<'a>>) -> Self {
        match error {
            NomErr::Error(fail) | NomErr::Failure(fail) => fail,
            // Complete-input parsers never ask for more; an empty slice points past the line.
            NomErr::Incomplete(_) => Fail {
                at: "",
                kind: ParseErrorKind::TrailingData,
            },
        }
    }
}

/// A failure no combinator backtracks over: the parse's error, at `at`.
pub(crate) fn failure<'a, O>(at: &'a str, kind: ParseErrorKind) -> PResult<'a, O> {
    Err(NomErr::Failure(Fail { at, kind }))
}

/// A recoverable miss, for `alt`, `opt` and the repetitions.
fn miss<O>(at: &str) -> PResult<'_, O> {
    Err(NomErr::Error(Fail {
        at,
        kind: ParseErrorKind::TrailingData,
    }))
}

/// Runs `grammar` on `value` and returns its output or its failure.
pub(crate) fn run<'a, O>(
    value: &'a str,
    mut grammar: impl Parser<&'a str, Output = O, Error = Fail<'a>>,
) -> Res<'a, O> {
    Ok(grammar.parse(value)?.1)
}

/// The empty slice at the end of `text` (where a "missing" error points).
pub(crate) fn end_of(text: &str) -> &str {
    text.get(text.len()..).unwrap_or("")
}

fn is_space_byte(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `input` split after its first `len` bytes (a position the caller found on an ASCII byte
/// or at the end).
fn split(input: &str, len: usize) -> (&str, &str) {
    match (input.get(len..), input.get(..len)) {
        (Some(rest), Some(taken)) => (rest, taken),
        _ => (end_of(input), input),
    }
}

/// The longest prefix of bytes that `pred` accepts (possibly empty). `pred` must reject
/// every byte of a non-ASCII character or accept them all, so the split is on a boundary.
pub(crate) fn bytes_while<'a>(
    pred: impl Fn(u8) -> bool,
) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |input: &'a str| {
        let len = input.bytes().position(|b| !pred(b)).unwrap_or(input.len());
        Ok(split(input, len))
    }
}

/// Spaces and tabs, possibly none.
fn spaces(input: &str) -> PResult<'_, &str> {
    bytes_while(is_space_byte)(input)
}

/// One field: a run of characters other than space and tab. At the end of the value it is
/// missing, at a space or tab it is invalid; both errors name it `name`.
pub(crate) fn field<'a>(name: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |input: &'a str| match bytes_while(|b| !is_space_byte(b))(input)? {
        (_, "") if input.is_empty() => failure(input, ParseErrorKind::MissingField { field: name }),
        (_, "") => failure(input, ParseErrorKind::InvalidField { field: name }),
        done => Ok(done),
    }
}

/// The separator before every field but the first. Strict: one space, or nothing at the end
/// of the value (the field after it is then missing); a tab is trailing data. Lenient: a run
/// of spaces and tabs, possibly empty.
pub(crate) fn separator<'a>(lenient: bool) -> impl Fn(&'a str) -> PResult<'a, ()> {
    move |input: &'a str| {
        if lenient {
            return spaces(input).map(|(rest, _)| (rest, ()));
        }
        match input.strip_prefix(' ') {
            Some(rest) => Ok((rest, ())),
            None if input.is_empty() => Ok((input, ())),
            None => failure(input, ParseErrorKind::TrailingData),
        }
    }
}

/// The first field of a value (lenient mode skips spaces before it).
pub(crate) fn first<'a>(
    lenient: bool,
    name: &'static str,
) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |input: &'a str| {
        let input = if lenient { spaces(input)?.0 } else { input };
        field(name)(input)
    }
}

/// A field after the first: [`separator`], then [`field`].
pub(crate) fn next<'a>(
    lenient: bool,
    name: &'static str,
) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |input: &'a str| {
        let (input, ()) = separator(lenient)(input)?;
        field(name)(input)
    }
}

/// Whether only (lenient: spaces and tabs) is left of the value.
pub(crate) fn is_done(input: &str, lenient: bool) -> bool {
    if lenient {
        input.bytes().all(is_space_byte)
    } else {
        input.is_empty()
    }
}

/// Succeeds (consuming nothing) where the fields of the value are done; a recoverable miss
/// elsewhere, so `alt` and the repetitions can stop on it.
pub(crate) fn done<'a>(lenient: bool) -> impl Fn(&'a str) -> PResult<'a, ()> {
    move |input: &'a str| {
        if is_done(input, lenient) {
            Ok((input, ()))
        } else {
            miss(input)
        }
    }
}

/// The end of the value: anything but (lenient: spaces and tabs) left is trailing data.
pub(crate) fn end<'a>(lenient: bool) -> impl Fn(&'a str) -> PResult<'a, ()> {
    move |input: &'a str| {
        if is_done(input, lenient) {
            Ok((end_of(input), ()))
        } else {
            failure(input, ParseErrorKind::TrailingData)
        }
    }
}

/// The next field if the value goes on, `None` at its end.
pub(crate) fn next_opt<'a>(lenient: bool) -> impl Fn(&'a str) -> PResult<'a, Option<&'a str>> {
    move |input: &'a str| {
        if is_done(input, lenient) {
            return Ok((input, None));
        }
        next(lenient, "field")(input).map(|(rest, text)| (rest, Some(text)))
    }
}

/// Every remaining field, each given to `each` (which may fail at it) and folded into `init`.
pub(crate) fn fold_fields<'a, R>(
    lenient: bool,
    init: impl Fn() -> R,
    mut each: impl FnMut(R, &'a str) -> Res<'a, R>,
) -> impl FnMut(&'a str) -> PResult<'a, R> {
    move |mut input: &'a str| {
        let mut acc = init();
        loop {
            match next_opt(lenient)(input)? {
                (rest, Some(text)) => {
                    acc = each(acc, text).map_err(NomErr::Failure)?;
                    input = rest;
                }
                (rest, None) => return Ok((rest, acc)),
            }
        }
    }
}

/// Everything after the next separator, verbatim (lenient: trailing spaces included);
/// `None` if the value is done.
pub(crate) fn rest<'a>(lenient: bool) -> impl Fn(&'a str) -> PResult<'a, Option<&'a str>> {
    move |input: &'a str| {
        if is_done(input, lenient) {
            return Ok((input, None));
        }
        let (text, ()) = separator(lenient)(input)?;
        Ok((end_of(text), (!text.is_empty()).then_some(text)))
    }
}

/// `parser`, with its output handed to `convert`, whose failure points into that output.
pub(crate) fn typed<'a, O, T>(
    mut parser: impl Parser<&'a str, Output = O, Error = Fail<'a>>,
    convert: impl Fn(O) -> Res<'a, T>,
) -> impl FnMut(&'a str) -> PResult<'a, T> {
    move |input: &'a str| {
        let (rest, output) = parser.parse(input)?;
        convert(output)
            .map(|value| (rest, value))
            .map_err(NomErr::Failure)
    }
}

/// A field read as a decimal number; an error points at the field and names `name`.
pub(crate) fn numeric<'a, T: TryFrom<u64>>(
    parser: impl Parser<&'a str, Output = &'a str, Error = Fail<'a>>,
    name: &'static str,
) -> impl FnMut(&'a str) -> PResult<'a, T> {
    typed(parser, move |text| number(text, name))
}

/// `parser` with every failure relabelled `kind`, at the same place.
pub(crate) fn relabel<'a, O>(
    mut parser: impl Parser<&'a str, Output = O, Error = Fail<'a>>,
    kind: ParseErrorKind,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |input: &'a str| {
        parser.parse(input).map_err(|e| {
            e.map(|fail| Fail {
                at: fail.at,
                kind: kind.clone(),
            })
        })
    }
}

/// `parser` with every failure moved to `at`, keeping its kind.
pub(crate) fn at_start<'a, O>(
    mut parser: impl Parser<&'a str, Output = O, Error = Fail<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |input: &'a str| {
        parser
            .parse(input)
            .map_err(|e| e.map(|fail| Fail { at: input, ..fail }))
    }
}

/// `text` cut at the first `separator` byte (ASCII): `(before, Some(after))`, or
/// `(text, None)` without one.
pub(crate) fn split_once_byte(text: &str, separator: u8) -> (&str, Option<&str>) {
    match text.bytes().position(|b| b == separator) {
        Some(i) => (
            text.get(..i).unwrap_or(text),
            Some(text.get(i + 1..).unwrap_or("")),
        ),
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_at<O: std::fmt::Debug>(result: PResult<'_, O>) -> Option<(String, ParseErrorKind)> {
        match result {
            Err(NomErr::Failure(fail)) => Some((fail.at.to_owned(), fail.kind)),
            _ => None,
        }
    }

    #[test]
    fn strict_fields_need_single_spaces() {
        let (rest, a) = first(false, "x")("a b  c").unwrap_or_default();
        assert_eq!(a, "a");
        let (rest, b) = next(false, "x")(rest).unwrap_or_default();
        assert_eq!(b, "b");
        assert_eq!(
            kind_at(next(false, "x")(rest)),
            Some((" c".to_owned(), ParseErrorKind::InvalidField { field: "x" }))
        );
        assert_eq!(
            kind_at(next(false, "x")("\tc")),
            Some(("\tc".to_owned(), ParseErrorKind::TrailingData))
        );
        assert_eq!(
            kind_at(next(false, "x")("")),
            Some((String::new(), ParseErrorKind::MissingField { field: "x" }))
        );
    }

    #[test]
    fn lenient_fields_skip_runs() {
        let (rest, a) = first(true, "x")(" a \t b  ").unwrap_or_default();
        assert_eq!(a, "a");
        let (rest, b) = next(true, "x")(rest).unwrap_or_default();
        assert_eq!(b, "b");
        assert!(end(true)(rest).is_ok());
        assert!(end(false)(rest).is_err());
    }

    #[test]
    fn optional_fields_and_the_rest() {
        assert_eq!(next_opt(false)("").ok(), Some(("", None)));
        assert_eq!(next_opt(true)(" \t").ok(), Some((" \t", None)));
        assert_eq!(next_opt(false)(" x y").ok(), Some((" y", Some("x"))));
        assert_eq!(rest(false)(" x y").ok().map(|(_, r)| r), Some(Some("x y")));
        assert_eq!(
            rest(true)("  x y ").ok().map(|(_, r)| r),
            Some(Some("x y "))
        );
        assert_eq!(rest(false)(" ").ok().map(|(_, r)| r), Some(None));
        let count = fold_fields(false, || 0, |n, _| Ok(n + 1))(" a b c");
        assert_eq!(count.ok(), Some(("", 3)));
    }

    #[test]
    fn numbers_relabels_and_splits() {
        let mut port = numeric::<u16>(first(false, "port"), "port");
        assert_eq!(port("9 x").ok(), Some((" x", 9)));
        assert_eq!(
            kind_at(port("x9")),
            Some((
                "x9".to_owned(),
                ParseErrorKind::InvalidNumber { field: "port" }
            ))
        );
        let kind = ParseErrorKind::InvalidField { field: "y" };
        let mut labelled = relabel(first(false, "x"), kind.clone());
        assert_eq!(kind_at(labelled("")), Some((String::new(), kind)));
        assert_eq!(split_once_byte("a/b/c", b'/'), ("a", Some("b/c")));
        assert_eq!(split_once_byte("abc", b'/'), ("abc", None));
    }
}
