//! Parsers for the values of the RFC 8866 line types other than `a=`. They return the
//! borrowed line types of [`view`](crate::view); the owned parser converts them into the
//! model, so each line grammar exists once.

use nom::Parser;
use nom::character::complete::char;
use nom::combinator::not;
use nom::multi::many0_count;
use nom::sequence::{preceded, separated_pair};

use crate::checks::check_address;
use crate::error::{ParseErrorKind, WarningKind};
use crate::fields::{Fail, Res, check_chars, fail, is_token_char, number};
use crate::grammar::{
    PResult, at_start, bytes_while, done, end, end_of, first, fold_fields, next, numeric, relabel,
    run, split_once_byte, typed,
};
use crate::model::{Repeat, TimeUnit, Timing, TypedTime, is_registered_media_type};
use crate::proto;
use crate::view::{BandwidthView, ConnectionView, OriginView};

/// A value with an optional tolerated deviation and the suffix it points at.
pub(crate) type WithWarning<'a, T> = (T, Option<(&'a str, WarningKind)>);

pub(crate) fn version(value: &str) -> Res<'_, u32> {
    number(value, "protocol version")
}

pub(crate) fn origin(value: &str, lenient: bool) -> Res<'_, WithWarning<'_, OriginView<'_>>> {
    let grammar = (
        first(lenient, "username"),
        numeric(next(lenient, "session id"), "session id"),
        numeric(next(lenient, "session version"), "session version"),
        next(lenient, "network type"),
        next(lenient, "address type"),
        next(lenient, "unicast address"),
        end(lenient),
    );
    let (username, session_id, session_version, net_type, addr_type, address, ()) =
        run(value, grammar)?;
    let warning =
        check_address(net_type, addr_type, address, false, lenient)?.map(|w| (address, w));
    let origin = OriginView {
        username,
        session_id,
        session_version,
        net_type,
        addr_type,
        address,
    };
    Ok((origin, warning))
}

pub(crate) fn connection(
    value: &str,
    lenient: bool,
) -> Res<'_, WithWarning<'_, ConnectionView<'_>>> {
    let grammar = (
        first(lenient, "network type"),
        next(lenient, "address type"),
        next(lenient, "connection address"),
        end(lenient),
    );
    let (net_type, addr_type, address, ()) = run(value, grammar)?;
    let warning = check_address(net_type, addr_type, address, true, lenient)?.map(|w| (address, w));
    let connection = ConnectionView {
        net_type,
        addr_type,
        address,
    };
    Ok((connection, warning))
}

/// `b=<bwtype>:<bandwidth>`
pub(crate) fn bandwidth(value: &str) -> Res<'_, BandwidthView<'_>> {
    let missing = ParseErrorKind::MissingField { field: "bandwidth" };
    let halves = separated_pair(bytes_while(|b| b != b':'), char(':'), |text| {
        Ok((end_of(text), text))
    });
    let (bwtype, amount) = run(value, at_start(relabel(halves, missing)))?;
    check_chars(
        bwtype,
        is_token_char,
        ParseErrorKind::InvalidField {
            field: "bandwidth type",
        },
    )?;
    let bandwidth = number(amount, "bandwidth")?;
    Ok(BandwidthView { bwtype, bandwidth })
}

pub(crate) fn timing(value: &str, lenient: bool) -> Res<'_, Timing> {
    let grammar = (
        numeric(first(lenient, "start time"), "start time"),
        numeric(next(lenient, "stop time"), "stop time"),
        end(lenient),
    );
    let (start, stop, ()) = run(value, grammar)?;
    Ok(Timing {
        start,
        stop,
        repeats: Vec::new(),
    })
}

/// `<digits>[d|h|m|s]`; an error names `field` and points at the start.
fn typed_time<'a>(text: &'a str, field: &'static str) -> Res<'a, TypedTime> {
    let unit = match text.as_bytes().last() {
        Some(b'd') => Some(TimeUnit::Days),
        Some(b'h') => Some(TimeUnit::Hours),
        Some(b'm') => Some(TimeUnit::Minutes),
        Some(b's') => Some(TimeUnit::Seconds),
        _ => None,
    };
    // The unit letter is ASCII, so dropping one byte stays on a character boundary.
    let digits = if unit.is_some() {
        text.get(..text.len() - 1).unwrap_or("")
    } else {
        text
    };
    let value = number(digits, field).map_err(|e| Fail { at: text, ..e })?;
    Ok(TypedTime { value, unit })
}

/// A field read as a typed time.
fn time<'a>(
    parser: impl Parser<&'a str, Output = &'a str, Error = Fail<'a>>,
    field: &'static str,
) -> impl FnMut(&'a str) -> PResult<'a, TypedTime> {
    typed(parser, move |text| typed_time(text, field))
}

/// A field read as a time-zone offset: `[-]<typed time>`.
fn zone_offset<'a>(
    parser: impl Parser<&'a str, Output = &'a str, Error = Fail<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, TypedTime> {
    typed(parser, |text: &'a str| {
        typed_time(text.strip_prefix('-').unwrap_or(text), "offset")
    })
}

pub(crate) fn repeat(value: &str, lenient: bool) -> Res<'_, Repeat> {
    let grammar = (
        time(first(lenient, "repeat interval"), "repeat interval"),
        time(next(lenient, "active duration"), "active duration"),
        time(next(lenient, "offset"), "offset"),
        fold_fields(lenient, Vec::new, |mut offsets, text| {
            offsets.push(typed_time(text, "offset")?);
            Ok(offsets)
        }),
    );
    let (interval, duration, offset, mut offsets) = run(value, grammar)?;
    offsets.insert(0, offset);
    Ok(Repeat {
        interval,
        duration,
        offsets,
    })
}

/// `z=`: pairs of `<adjustment time> [-]<typed time>`, checked and kept as text.
pub(crate) fn time_zones(value: &str, lenient: bool) -> Res<'_, &str> {
    let grammar = (
        numeric::<u64>(first(lenient, "adjustment time"), "adjustment time"),
        zone_offset(next(lenient, "offset")),
        many0_count(preceded(
            not(done(lenient)),
            (
                numeric::<u64>(next(lenient, "adjustment time"), "adjustment time"),
                zone_offset(next(lenient, "offset")),
            ),
        )),
    );
    run(value, grammar)?;
    Ok(value)
}

fn is_proto_char(c: char) -> bool {
    is_token_char(c) || c == '/'
}

/// An `m=` line; the section's other lines come after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MediaLine<'a> {
    pub(crate) line: usize,
    pub(crate) kind: &'a str,
    pub(crate) port: u16,
    pub(crate) port_count: Option<u16>,
    pub(crate) proto: &'a str,
    /// The formats as written, without the separators around them.
    pub(crate) formats: &'a str,
    /// Whether the protocol carries RTP.
    pub(crate) rtp: bool,
}

/// The formats in the `formats` text of an `m=` line, in order.
pub(crate) fn formats(text: &str) -> impl Iterator<Item = &str> {
    // Strict mode allows single spaces only; lenient mode runs of spaces and tabs.
    text.split([' ', '\t']).filter(|format| !format.is_empty())
}

pub(crate) fn media(
    value: &str,
    line: usize,
    lenient: bool,
) -> Res<'_, WithWarning<'_, MediaLine<'_>>> {
    let (input, kind) = first(lenient, "media type")(value)?;
    check_chars(
        kind,
        is_token_char,
        ParseErrorKind::InvalidField {
            field: "media type",
        },
    )?;
    let mut warning = None;
    if !is_registered_media_type(kind) {
        if !lenient {
            return fail(kind, ParseErrorKind::UnknownMediaType);
        }
        warning = Some((kind, WarningKind::UnknownMediaType(kind.to_owned())));
    }
    let (input, (port, port_count)) = typed(next(lenient, "port"), port_and_count)(input)?;
    let (input, proto) = next(lenient, "protocol")(input)?;
    check_chars(
        proto,
        is_proto_char,
        ParseErrorKind::InvalidField { field: "protocol" },
    )?;
    let rtp = proto::is_rtp(proto);
    let formats = input.trim_matches([' ', '\t']);
    let count_format = |count: usize, format| {
        if rtp && !matches!(number::<u8>(format, "format"), Ok(pt) if pt <= 127) {
            return fail(
                format,
                ParseErrorKind::InvalidField {
                    field: "payload type",
                },
            );
        }
        Ok(count + 1)
    };
    let (_, count) = fold_fields(lenient, || 0, count_format)(input)?;
    if count == 0 {
        let missing = end_of(value);
        if !lenient {
            return fail(missing, ParseErrorKind::MissingField { field: "format" });
        }
        warning = warning.or(Some((missing, WarningKind::MediaWithoutFormats)));
    }
    let media = MediaLine {
        line,
        kind,
        port,
        port_count,
        proto,
        formats,
        rtp,
    };
    Ok((media, warning))
}

/// `<port>[/<number of ports>]`; the count is checked first.
fn port_and_count(text: &str) -> Res<'_, (u16, Option<u16>)> {
    let (port, count) = split_once_byte(text, b'/');
    let count = count.map(|count| number(count, "port count")).transpose()?;
    let port = number(port, "port").map_err(|e| Fail { at: text, ..e })?;
    Ok((port, count))
}
