//! Parsers for the structured media attribute values: rtpmap, extmap, rid, simulcast.

use crate::attribute::{
    Direction, Extmap, Rid, RidDirection, RidRestriction, Rtpmap, Simulcast, SimulcastStream,
};
use nom::character::complete::char;
use nom::combinator::{consumed, opt};
use nom::multi::separated_list1;
use nom::sequence::preceded;
use nom::{Err as NomErr, Parser};

use crate::attribute_parse::{AttributeContext, invalid, label, payload_type, relabel_fail};
use crate::error::{Limit, ParseErrorKind, WarningKind};
use crate::fields::{Fail, Res, check_chars, fail, is_token_char, number};
use crate::grammar::{PResult, bytes_while, end, end_of, first, next, rest, run, typed};
use crate::known;

/// Up to the next `/` (the parts of an rtpmap encoding).
fn encoding_part(input: &str) -> PResult<'_, &str> {
    bytes_while(|b| b != b'/')(input)
}

/// The parts of an rtpmap encoding: name, clock rate, channels, and anything after them.
type EncodingParts<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// `<encoding name>[/<clock rate>[/<channels>]]`, each part as text (the caller checks
/// them), and whatever follows a third `/`.
fn encoding_parts(input: &str) -> PResult<'_, EncodingParts<'_>> {
    let part = || preceded(char('/'), encoding_part);
    (
        encoding_part,
        opt(part()),
        opt(part()),
        opt(preceded(char('/'), rest_of)),
    )
        .parse(input)
}

/// All of the input.
fn rest_of(input: &str) -> PResult<'_, &str> {
    Ok((end_of(input), input))
}

pub(crate) fn parse_rtpmap<'a>(
    value: &'a str,
    ctx: AttributeContext,
) -> Res<'a, (Rtpmap, Option<(&'a str, WarningKind)>)> {
    const A: &str = "rtpmap";
    let lenient = ctx.lenient;
    let pt = typed(
        label(first(lenient, "payload type"), A, "payload type"),
        |pt| payload_type(A, pt),
    );
    let grammar = (
        pt,
        label(next(lenient, "encoding"), A, "encoding"),
        end(lenient),
    );
    let (payload_type, encoding_text, ()) = run(value, grammar)?;
    let (encoding, clock, channels, extra) = run(encoding_text, encoding_parts)?;
    if encoding.is_empty() {
        return fail(encoding_text, invalid(A, "encoding name"));
    }
    let mut warning = None;
    let clock_rate = match clock {
        Some(clock) => number(clock, "clock rate").map_err(relabel_fail(A, "clock rate"))?,
        None if lenient => {
            warning = Some((encoding_text, WarningKind::RtpmapWithoutClockRate));
            0
        }
        None => return fail(end_of(value), invalid(A, "clock rate")),
    };
    let channels = match channels {
        Some(channels) => {
            let count: u16 = number(channels, "channels").map_err(relabel_fail(A, "channels"))?;
            if count > ctx.max_channels {
                let limit = Limit::Channels(ctx.max_channels);
                return fail(channels, ParseErrorKind::LimitExceeded(limit));
            }
            Some(count)
        }
        None => None,
    };
    if extra.is_some() {
        return fail(encoding_text, invalid(A, "encoding parameters"));
    }
    Ok((
        Rtpmap {
            payload_type,
            encoding: known::token(encoding, known::encoding_name),
            clock_rate,
            channels,
        },
        warning,
    ))
}

pub(crate) fn parse_extmap(value: &str, lenient: bool) -> Res<'_, Extmap> {
    const A: &str = "extmap";
    fn direction(text: &str) -> Res<'_, Direction> {
        Direction::from_token(text).ok_or(Fail {
            at: text,
            kind: invalid(A, "direction"),
        })
    }
    let id = typed(label(first(lenient, "id"), A, "id"), |field| {
        let id_and_direction = (
            bytes_while(|b| b != b'/'),
            opt(preceded(char('/'), typed(rest_of, direction))),
        );
        let (id, direction) = run(field, id_and_direction)?;
        let id = number(id, "id").map_err(|_| Fail {
            at: field,
            kind: invalid(A, "id"),
        })?;
        Ok((id, direction))
    });
    let uri_field = || label(next(lenient, "uri"), A, "uri");
    let (input, ((id, direction), uri)) = (id, uri_field()).parse(value)?;
    // An encrypted extension (RFC 6904) names the encrypt URI first, then its own.
    let encrypt = uri == Extmap::ENCRYPT_URI;
    let (input, uri) = if encrypt {
        uri_field().parse(input)?
    } else {
        (input, uri)
    };
    let (_, extension_attributes) = rest(lenient)(input)?;
    Ok(Extmap {
        id,
        direction,
        encrypt,
        uri: known::token(uri, known::extension_uri),
        extension_attributes: extension_attributes.map(str::to_owned),
    })
}

fn is_rid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

pub(crate) fn parse_rid(value: &str, lenient: bool) -> Res<'_, Rid> {
    const A: &str = "rid";
    let id = typed(label(first(lenient, "rid-id"), A, "rid-id"), |id| {
        check_chars(id, is_rid_char, invalid(A, "rid-id")).map(|()| id)
    });
    let direction = typed(
        label(next(lenient, "direction"), A, "direction"),
        |word| match word {
            "send" => Ok(RidDirection::Send),
            "recv" => Ok(RidDirection::Recv),
            _ => fail(word, invalid(A, "direction")),
        },
    );
    let (id, direction, restrictions) = run(value, (id, direction, rest(lenient)))?;
    let mut formats = Vec::new();
    let mut restrictions_out = Vec::new();
    if let Some(text) = restrictions {
        // `<name>[=<value>]` parts separated by `;`, each with the text it was read from.
        let part = consumed((
            bytes_while(|b| b != b'=' && b != b';'),
            opt(preceded(char('='), bytes_while(|b| b != b';'))),
        ));
        for (part_at, (name, value)) in run(text, separated_list1(char(';'), part))? {
            let invalid_at = |field| {
                move |_| Fail {
                    at: part_at,
                    kind: invalid(A, field),
                }
            };
            check_chars(name, is_token_char, invalid(A, "restriction"))
                .map_err(invalid_at("restriction"))?;
            match (name, value) {
                ("pt", Some(list)) => {
                    for pt in list.split(',') {
                        formats.push(payload_type(A, pt).map_err(invalid_at("pt"))?);
                    }
                }
                ("pt", None) => return fail(part_at, invalid(A, "pt")),
                _ => restrictions_out.push(RidRestriction {
                    name: name.to_owned(),
                    value: value.map(str::to_owned),
                }),
            }
        }
    }
    Ok(Rid {
        id: id.to_owned(),
        direction,
        formats,
        restrictions: restrictions_out,
    })
}

/// A simulcast stream list, `[~]<rid>[,[~]<rid>]*[;...]`: alternatives separated by `,`,
/// streams by `;`; a bad rid fails at the start of the list.
fn stream_list(list: &str) -> Res<'_, Vec<Vec<SimulcastStream>>> {
    let rid = |input| {
        let (input, paused) = opt(char('~')).parse(input)?;
        let (input, id) = bytes_while(|b| b != b',' && b != b';')(input)?;
        check_chars(id, is_rid_char, invalid("simulcast", "rid-id")).map_err(|_| {
            NomErr::Failure(Fail {
                at: list,
                kind: invalid("simulcast", "rid-id"),
            })
        })?;
        let stream = SimulcastStream {
            rid: id.to_owned(),
            paused: paused.is_some(),
        };
        Ok((input, stream))
    };
    let alternatives = separated_list1(char(','), rid);
    run(list, separated_list1(char(';'), alternatives))
}

/// Parses RFC 8853 `a=simulcast`, or the draft form (`send rid=1,2;3 paused=2`); the flag
/// says which.
pub(crate) fn parse_simulcast(value: &str) -> Res<'_, (Simulcast, bool)> {
    const A: &str = "simulcast";
    let legacy = value.starts_with(' ') || value.contains("rid=");
    let mut simulcast = Simulcast {
        send: Vec::new(),
        recv: Vec::new(),
    };
    // (word, suffix of value where it starts); strict RFC form allows single spaces only.
    let mut words = Vec::new();
    let mut offset = 0;
    for word in value.split(' ') {
        if !word.is_empty() || !legacy {
            words.push((word, value.get(offset..).unwrap_or("")));
        }
        offset += word.len() + 1;
    }
    let mut words = words.into_iter();
    let mut last_list: Option<bool> = None;
    let mut paused: Vec<&str> = Vec::new();
    while let Some((word, word_at)) = words.next() {
        let send = match word {
            "send" => true,
            "recv" => false,
            _ if legacy && word.starts_with("paused=") && last_list.is_some() => {
                paused.extend(word.trim_start_matches("paused=").split(','));
                continue;
            }
            _ => return fail(word_at, invalid(A, "direction")),
        };
        let target = if send {
            &simulcast.send
        } else {
            &simulcast.recv
        };
        if !target.is_empty() {
            return fail(word_at, invalid(A, "direction"));
        }
        let Some((list, list_at)) = words.next() else {
            return fail(end_of(value), invalid(A, "stream list"));
        };
        let list = if legacy {
            list.strip_prefix("rid=").unwrap_or(list)
        } else {
            list
        };
        let streams = stream_list(list).map_err(|e| Fail { at: list_at, ..e })?;
        if send {
            simulcast.send = streams
        } else {
            simulcast.recv = streams
        }
        last_list = Some(send);
    }
    if last_list.is_none() {
        return fail(value, invalid(A, "direction"));
    }
    for stream in simulcast
        .send
        .iter_mut()
        .chain(simulcast.recv.iter_mut())
        .flatten()
    {
        if paused.contains(&stream.rid.as_str()) {
            stream.paused = true;
        }
    }
    Ok((simulcast, legacy))
}
