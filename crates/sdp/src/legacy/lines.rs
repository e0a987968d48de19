//! Parsers for the values of the RFC 8866 line types other than `a=`. They return the
//! borrowed line types of [`view`](crate::view); the owned parser converts them into the
//! model, so each line grammar exists once.

use super::checks::check_address;
use super::fields::{Fail, Fields, Res, check_chars, fail, is_token_char, number};
use crate::error::{ParseErrorKind, WarningKind};
use crate::model::{Repeat, TimeUnit, Timing, TypedTime, is_registered_media_type};
use crate::proto;
use crate::view::{BandwidthView, ConnectionView, OriginView};

/// A value with an optional tolerated deviation and the suffix it points at.
pub(crate) type WithWarning<'a, T> = (T, Option<(&'a str, WarningKind)>);

pub(crate) fn version(value: &str) -> Res<'_, u32> {
    number(value, "protocol version")
}

pub(crate) fn origin(value: &str, lenient: bool) -> Res<'_, WithWarning<'_, OriginView<'_>>> {
    let mut f = Fields::new(value, lenient);
    let (username, _) = f.next("username")?;
    let (id, at) = f.next("session id")?;
    let session_id = number(id, "session id").map_err(|e| Fail { at, ..e })?;
    let (version, at) = f.next("session version")?;
    let session_version = number(version, "session version").map_err(|e| Fail { at, ..e })?;
    let net_type = f.next("network type")?;
    let addr_type = f.next("address type")?;
    let address = f.next("unicast address")?;
    f.finish()?;
    let warning =
        check_address(net_type, addr_type, address, false, lenient)?.map(|w| (address.1, w));
    let origin = OriginView {
        username,
        session_id,
        session_version,
        net_type: net_type.0,
        addr_type: addr_type.0,
        address: address.0,
    };
    Ok((origin, warning))
}

pub(crate) fn connection(
    value: &str,
    lenient: bool,
) -> Res<'_, WithWarning<'_, ConnectionView<'_>>> {
    let mut f = Fields::new(value, lenient);
    let net_type = f.next("network type")?;
    let addr_type = f.next("address type")?;
    let address = f.next("connection address")?;
    f.finish()?;
    let warning =
        check_address(net_type, addr_type, address, true, lenient)?.map(|w| (address.1, w));
    let connection = ConnectionView {
        net_type: net_type.0,
        addr_type: addr_type.0,
        address: address.0,
    };
    Ok((connection, warning))
}

pub(crate) fn bandwidth(value: &str) -> Res<'_, BandwidthView<'_>> {
    let Some((bwtype, amount)) = value.split_once(':') else {
        return fail(value, ParseErrorKind::MissingField { field: "bandwidth" });
    };
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
    let mut f = Fields::new(value, lenient);
    let (start, at) = f.next("start time")?;
    let start = number(start, "start time").map_err(|e| Fail { at, ..e })?;
    let (stop, at) = f.next("stop time")?;
    let stop = number(stop, "stop time").map_err(|e| Fail { at, ..e })?;
    f.finish()?;
    Ok(Timing {
        start,
        stop,
        repeats: Vec::new(),
    })
}

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

pub(crate) fn repeat(value: &str, lenient: bool) -> Res<'_, Repeat> {
    let mut f = Fields::new(value, lenient);
    let (interval, _) = f.next("repeat interval")?;
    let interval = typed_time(interval, "repeat interval")?;
    let (duration, _) = f.next("active duration")?;
    let duration = typed_time(duration, "active duration")?;
    let mut offsets = vec![typed_time(f.next("offset")?.0, "offset")?];
    while let Some((offset, _)) = f.next_opt()? {
        offsets.push(typed_time(offset, "offset")?);
    }
    Ok(Repeat {
        interval,
        duration,
        offsets,
    })
}

/// `z=`: pairs of `<adjustment time> [-]<typed time>`, checked and kept as text.
pub(crate) fn time_zones(value: &str, lenient: bool) -> Res<'_, &str> {
    let mut f = Fields::new(value, lenient);
    let (time, at) = f.next("adjustment time")?;
    number::<u64>(time, "adjustment time").map_err(|e| Fail { at, ..e })?;
    let (offset, _) = f.next("offset")?;
    typed_time(offset.strip_prefix('-').unwrap_or(offset), "offset")?;
    while let Some((time, at)) = f.next_opt()? {
        number::<u64>(time, "adjustment time").map_err(|e| Fail { at, ..e })?;
        let (offset, _) = f.next("offset")?;
        typed_time(offset.strip_prefix('-').unwrap_or(offset), "offset")?;
    }
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
    let mut f = Fields::new(value, lenient);
    let (kind_text, kind_at) = f.next("media type")?;
    check_chars(
        kind_text,
        is_token_char,
        ParseErrorKind::InvalidField {
            field: "media type",
        },
    )?;
    let mut warning = None;
    if !is_registered_media_type(kind_text) {
        if lenient {
            warning = Some((kind_at, WarningKind::UnknownMediaType(kind_text.to_owned())));
        } else {
            return fail(kind_at, ParseErrorKind::UnknownMediaType);
        }
    }
    let (port_text, at) = f.next("port")?;
    let (port, port_count) = match port_text.split_once('/') {
        Some((port, count)) => {
            let count_at = at.get(port.len() + 1..).unwrap_or(at);
            let count = number(count, "port count").map_err(|e| Fail { at: count_at, ..e })?;
            (
                number(port, "port").map_err(|e| Fail { at, ..e })?,
                Some(count),
            )
        }
        None => (
            number(port_text, "port").map_err(|e| Fail { at, ..e })?,
            None,
        ),
    };
    let (proto, _) = f.next("protocol")?;
    check_chars(
        proto,
        is_proto_char,
        ParseErrorKind::InvalidField { field: "protocol" },
    )?;
    let rtp = proto::is_rtp(proto);
    let formats = f.remaining().trim_matches([' ', '\t']);
    let mut has_formats = false;
    while let Some((format, at)) = f.next_opt()? {
        if rtp {
            match number::<u8>(format, "format") {
                Ok(pt) if pt <= 127 => {}
                _ => {
                    return fail(
                        at,
                        ParseErrorKind::InvalidField {
                            field: "payload type",
                        },
                    );
                }
            }
        }
        has_formats = true;
    }
    if !has_formats {
        if lenient {
            warning = warning.or(Some((f_end(value), WarningKind::MediaWithoutFormats)));
        } else {
            return fail(
                f_end(value),
                ParseErrorKind::MissingField { field: "format" },
            );
        }
    }
    let media = MediaLine {
        line,
        kind: kind_text,
        port,
        port_count,
        proto,
        formats,
        rtp,
    };
    Ok((media, warning))
}

fn f_end(value: &str) -> &str {
    value.get(value.len()..).unwrap_or("")
}
