//! Parsers for the structured media attribute values: rtpmap, extmap, rid, simulcast.

use super::attribute_parse::{AttributeContext, f_end, invalid, payload_type, relabel};
use super::fields::{Fail, Fields, Res, check_chars, fail, is_token_char, number};
use crate::attribute::{
    Direction, Extmap, Rid, RidDirection, RidRestriction, Rtpmap, Simulcast, SimulcastStream,
};
use crate::error::{Limit, ParseErrorKind, WarningKind};

/// `text` split at every `sep` (an ASCII byte), like `str::split` with a `char` pattern but
/// without decoding characters: an ASCII separator always falls on a character boundary.
fn split_ascii(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = current.get(i + 1..);
                current.get(..i)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

pub(crate) fn parse_rtpmap<'a>(
    value: &'a str,
    ctx: AttributeContext,
) -> Res<'a, (Rtpmap, Option<(&'a str, WarningKind)>)> {
    const A: &str = "rtpmap";
    let mut f = Fields::new(value, ctx.lenient);
    let (pt, at) = f.next("payload type").map_err(relabel(A, "payload type"))?;
    let payload_type = payload_type(A, pt).map_err(|e| Fail { at, ..e })?;
    let (encoding_text, at) = f.next("encoding").map_err(relabel(A, "encoding"))?;
    f.finish()?;
    let mut parts = split_ascii(encoding_text, b'/');
    let encoding = parts.next().unwrap_or("");
    if encoding.is_empty() {
        return fail(at, invalid(A, "encoding name"));
    }
    let mut offset = encoding.len() + 1;
    let mut warning = None;
    let clock_rate = match parts.next() {
        Some(clock) => {
            let clock_at = at.get(offset..).unwrap_or("");
            offset += clock.len() + 1;
            number(clock, "clock rate").map_err(|_| Fail {
                at: clock_at,
                kind: invalid(A, "clock rate"),
            })?
        }
        None if ctx.lenient => {
            warning = Some((at, WarningKind::RtpmapWithoutClockRate));
            0
        }
        None => return fail(f_end(value), invalid(A, "clock rate")),
    };
    let channels = match parts.next() {
        Some(channels) => {
            let channels_at = at.get(offset..).unwrap_or("");
            let count: u16 = number(channels, "channels").map_err(|_| Fail {
                at: channels_at,
                kind: invalid(A, "channels"),
            })?;
            if count > ctx.max_channels {
                return fail(
                    channels_at,
                    ParseErrorKind::LimitExceeded(Limit::Channels(ctx.max_channels)),
                );
            }
            Some(count)
        }
        None => None,
    };
    if parts.next().is_some() {
        return fail(at, invalid(A, "encoding parameters"));
    }
    Ok((
        Rtpmap {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        },
        warning,
    ))
}

pub(crate) fn parse_extmap(value: &str, lenient: bool) -> Res<'_, Extmap> {
    const A: &str = "extmap";
    let mut f = Fields::new(value, lenient);
    let (id_text, at) = f.next("id").map_err(relabel(A, "id"))?;
    let (id_part, direction) = match id_text.split_once('/') {
        Some((id, direction)) => match Direction::from_token(direction) {
            Some(direction) => (id, Some(direction)),
            None => {
                return fail(
                    at.get(id.len() + 1..).unwrap_or(at),
                    invalid(A, "direction"),
                );
            }
        },
        None => (id_text, None),
    };
    let id = number(id_part, "id").map_err(|_| Fail {
        at,
        kind: invalid(A, "id"),
    })?;
    let (mut uri, _) = f.next("uri").map_err(relabel(A, "uri"))?;
    let encrypt = uri == Extmap::ENCRYPT_URI;
    if encrypt {
        uri = f.next("uri").map_err(relabel(A, "uri"))?.0;
    }
    let extension_attributes = f.rest()?.map(str::to_owned);
    Ok(Extmap {
        id,
        direction,
        encrypt,
        uri: uri.to_owned(),
        extension_attributes,
    })
}

fn is_rid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

pub(crate) fn parse_rid(value: &str, lenient: bool) -> Res<'_, Rid> {
    const A: &str = "rid";
    let mut f = Fields::new(value, lenient);
    let (id, _) = f.next("rid-id").map_err(relabel(A, "rid-id"))?;
    check_chars(id, is_rid_char, invalid(A, "rid-id"))?;
    let (direction, at) = f.next("direction").map_err(relabel(A, "direction"))?;
    let direction = match direction {
        "send" => RidDirection::Send,
        "recv" => RidDirection::Recv,
        _ => return fail(at, invalid(A, "direction")),
    };
    let mut formats = Vec::new();
    let mut restrictions = Vec::new();
    if let Some(text) = f.rest()? {
        let mut offset = 0;
        for part in text.split(';') {
            let part_at = text.get(offset..).unwrap_or("");
            offset += part.len() + 1;
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (part, None),
            };
            check_chars(name, is_token_char, invalid(A, "restriction")).map_err(|_| Fail {
                at: part_at,
                kind: invalid(A, "restriction"),
            })?;
            match (name, value) {
                ("pt", Some(list)) => {
                    for pt in list.split(',') {
                        formats.push(payload_type(A, pt).map_err(|_| Fail {
                            at: part_at,
                            kind: invalid(A, "pt"),
                        })?);
                    }
                }
                ("pt", None) => return fail(part_at, invalid(A, "pt")),
                _ => restrictions.push(RidRestriction {
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
        restrictions,
    })
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
            return fail(f_end(value), invalid(A, "stream list"));
        };
        let list = if legacy {
            list.strip_prefix("rid=").unwrap_or(list)
        } else {
            list
        };
        let mut streams = Vec::new();
        for alternatives in list.split(';') {
            let mut group = Vec::new();
            for rid in alternatives.split(',') {
                let (paused, id) = match rid.strip_prefix('~') {
                    Some(id) => (true, id),
                    None => (false, rid),
                };
                check_chars(id, is_rid_char, invalid(A, "rid-id")).map_err(|_| Fail {
                    at: list_at,
                    kind: invalid(A, "rid-id"),
                })?;
                group.push(SimulcastStream {
                    rid: id.to_owned(),
                    paused,
                });
            }
            streams.push(group);
        }
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
