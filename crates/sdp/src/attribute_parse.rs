//! Parsing `a=` values into [`Attribute`]s.

use nom::Parser;
use nom::bytes::complete::take_while1;

use crate::attribute::{
    Attribute, Decimal, Direction, Extmap, Fingerprint, Fmtp, Group, ImageAttr, Msid, MsidSemantic,
    Rid, RidDirection, RidRestriction, Rtcp, RtcpFb, Rtpmap, Sctpmap, Setup, Simulcast,
    SimulcastStream, Ssrc, SsrcGroup,
};
use crate::checks::{check_address, check_candidate, check_fingerprint};
use crate::error::{Level, Limit, ParseErrorKind, WarningKind};
use crate::fields::{Fail, Fields, Res, check_chars, fail, is_token_char, number};
use crate::model::Connection;

/// What the attribute parser needs to know about where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttributeContext {
    pub(crate) lenient: bool,
    pub(crate) level: Level,
    pub(crate) media_is_rtp: bool,
    pub(crate) max_channels: u16,
}

/// A parsed attribute and what was tolerated, with the suffix it points at.
pub(crate) type ParsedAttribute<'a> = (Attribute, Option<(&'a str, WarningKind)>);

fn invalid(attribute: &'static str, field: &'static str) -> ParseErrorKind {
    ParseErrorKind::InvalidAttributeValue { attribute, field }
}

/// Re-labels a field failure as a failure of `attribute`'s `field`, keeping its position.
fn relabel<'a>(attribute: &'static str, field: &'static str) -> impl Fn(Fail<'a>) -> Fail<'a> {
    move |e| Fail {
        at: e.at,
        kind: invalid(attribute, field),
    }
}

fn payload_type<'a>(attribute: &'static str, text: &'a str) -> Res<'a, u8> {
    match number::<u8>(text, "payload type") {
        Ok(pt) if pt <= 127 => Ok(pt),
        _ => fail(text, invalid(attribute, "payload type")),
    }
}

/// Parses the text after `a=`.
pub(crate) fn parse_attribute<'a>(
    text: &'a str,
    ctx: AttributeContext,
) -> Res<'a, ParsedAttribute<'a>> {
    let (after, name) =
        match take_while1::<_, &str, nom::error::Error<&str>>(is_token_char).parse(text) {
            Ok(ok) => ok,
            Err(_) => return fail(text, ParseErrorKind::InvalidAttributeName),
        };
    let value = match after.strip_prefix(':') {
        Some(value) => Some(value),
        None if after.is_empty() => None,
        None => return fail(after, ParseErrorKind::InvalidAttributeName),
    };
    let parsed = parse_known(name, value, after, ctx)?;
    let (attribute, warning) = match parsed {
        Some(parsed) => parsed,
        None => {
            let unknown = Attribute::Unknown {
                name: name.to_owned(),
                value: value.map(str::to_owned),
            };
            (
                unknown,
                Some((text, WarningKind::UnknownAttribute(name.to_owned()))),
            )
        }
    };
    if !attribute.placement().allows(ctx.level) && !attribute.is_unknown() {
        let kind = ParseErrorKind::AttributeLevel {
            attribute: static_name(name),
            level: ctx.level,
        };
        if !ctx.lenient {
            return fail(text, kind);
        }
        return Ok((
            attribute,
            warning.or(Some((text, WarningKind::Tolerated(kind)))),
        ));
    }
    Ok((attribute, warning))
}

const KNOWN: &[&str] = &[
    "group",
    "mid",
    "msid",
    "msid-semantic",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "ice-mismatch",
    "ice-pacing",
    "candidate",
    "remote-candidates",
    "end-of-candidates",
    "fingerprint",
    "setup",
    "tls-id",
    "rtpmap",
    "fmtp",
    "rtcp-fb",
    "rtcp",
    "rtcp-mux",
    "rtcp-mux-only",
    "rtcp-rsize",
    "extmap",
    "extmap-allow-mixed",
    "ssrc",
    "ssrc-group",
    "rid",
    "simulcast",
    "sctp-port",
    "sctpmap",
    "max-message-size",
    "sendrecv",
    "sendonly",
    "recvonly",
    "inactive",
    "bundle-only",
    "identity",
    "ptime",
    "maxptime",
    "framerate",
    "content",
    "label",
    "imageattr",
];

fn static_name(name: &str) -> &'static str {
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("attribute")
}

fn flag<'a>(
    attribute: &'static str,
    value: Option<&'a str>,
    attr: Attribute,
) -> Res<'a, Option<ParsedAttribute<'a>>> {
    match value {
        None => Ok(Some((attr, None))),
        Some(value) => fail(
            value,
            ParseErrorKind::UnexpectedAttributeValue { attribute },
        ),
    }
}

/// `Ok(None)` for attributes this crate does not model.
fn parse_known<'a>(
    name: &'a str,
    value: Option<&'a str>,
    end: &'a str,
    ctx: AttributeContext,
) -> Res<'a, Option<ParsedAttribute<'a>>> {
    let attribute = static_name(name);
    if let Some(direction) = Direction::from_token(name) {
        return flag(attribute, value, Attribute::Direction(direction));
    }
    let flag_attribute = match name {
        "ice-lite" => Some(Attribute::IceLite),
        "ice-mismatch" => Some(Attribute::IceMismatch),
        "end-of-candidates" => Some(Attribute::EndOfCandidates),
        "rtcp-mux" => Some(Attribute::RtcpMux),
        "rtcp-mux-only" => Some(Attribute::RtcpMuxOnly),
        "rtcp-rsize" => Some(Attribute::RtcpRsize),
        "extmap-allow-mixed" => Some(Attribute::ExtmapAllowMixed),
        "bundle-only" => Some(Attribute::BundleOnly),
        _ => None,
    };
    if let Some(attr) = flag_attribute {
        return flag(attribute, value, attr);
    }
    if attribute == "attribute" {
        return Ok(None);
    }
    let Some(value) = value else {
        return fail(end, ParseErrorKind::MissingAttributeValue { attribute });
    };
    let lenient = ctx.lenient;
    let mut warning = None;
    let attr = match name {
        "group" => {
            let mut f = Fields::new(value, lenient);
            let (semantics, at) = f
                .next("semantics")
                .map_err(relabel(attribute, "semantics"))?;
            check_chars(semantics, is_token_char, invalid(attribute, "semantics"))
                .map_err(|e| Fail { at, ..e })?;
            let mut mids = Vec::new();
            while let Some((mid, at)) = f.next_opt()? {
                check_chars(mid, is_token_char, invalid(attribute, "identification tag"))
                    .map_err(|e| Fail { at: e.at, ..e })?;
                let _ = at;
                mids.push(mid.to_owned());
            }
            Attribute::Group(Group {
                semantics: semantics.to_owned(),
                mids,
            })
        }
        "mid" => {
            // RFC 5888 makes the tag a token; lenient mode also takes other visible characters.
            if let Err(e) = check_chars(
                value,
                is_token_char,
                invalid(attribute, "identification tag"),
            ) {
                if !lenient
                    || value.is_empty()
                    || value.contains(|c: char| c.is_whitespace() || c.is_control())
                {
                    return Err(e);
                }
                warning = Some((e.at, WarningKind::Tolerated(e.kind)));
            }
            Attribute::Mid(value.to_owned())
        }
        "msid" => {
            let mut f = Fields::new(value, lenient);
            let (stream, _) = f
                .next("stream id")
                .map_err(relabel(attribute, "stream id"))?;
            let track = f.next_opt()?.map(|(t, _)| t.to_owned());
            f.finish()?;
            Attribute::Msid(Msid {
                stream_id: stream.to_owned(),
                track_id: track,
            })
        }
        "msid-semantic" => {
            // Browsers write `a=msid-semantic: WMS id` (note the space) and may end with a space.
            let mut words = value.split_ascii_whitespace();
            let Some(semantic) = words.next() else {
                return fail(value, invalid(attribute, "semantic"));
            };
            let identifiers = words.map(str::to_owned).collect();
            Attribute::MsidSemantic(MsidSemantic {
                semantic: semantic.to_owned(),
                identifiers,
            })
        }
        "ice-ufrag" | "ice-pwd" | "tls-id" => {
            let mut f = Fields::new(value, lenient);
            let (text, _) = f.next("value").map_err(relabel(attribute, "value"))?;
            f.finish()?;
            match name {
                "ice-ufrag" => Attribute::IceUfrag(text.to_owned()),
                "ice-pwd" => Attribute::IcePwd(text.to_owned()),
                _ => Attribute::TlsId(text.to_owned()),
            }
        }
        "ice-options" => {
            let mut f = Fields::new(value, lenient);
            let mut options = vec![
                f.next("option")
                    .map_err(relabel(attribute, "option"))?
                    .0
                    .to_owned(),
            ];
            while let Some((option, _)) = f.next_opt()? {
                options.push(option.to_owned());
            }
            Attribute::IceOptions(options)
        }
        "ice-pacing" => {
            Attribute::IcePacing(number(value, "pacing").map_err(relabel(attribute, "pacing"))?)
        }
        "candidate" => {
            check_candidate(value, lenient)?;
            Attribute::Candidate(value.to_owned())
        }
        "remote-candidates" | "identity" | "content" | "label" => {
            if value.is_empty() {
                return fail(value, ParseErrorKind::MissingAttributeValue { attribute });
            }
            let value = value.to_owned();
            match name {
                "remote-candidates" => Attribute::RemoteCandidates(value),
                "identity" => Attribute::Identity(value),
                "content" => Attribute::Content(value),
                _ => Attribute::Label(value),
            }
        }
        "fingerprint" => {
            let mut f = Fields::new(value, lenient);
            let (algorithm, at) = f
                .next("hash function")
                .map_err(relabel(attribute, "hash function"))?;
            check_chars(
                algorithm,
                is_token_char,
                invalid(attribute, "hash function"),
            )
            .map_err(|e| Fail { at, ..e })?;
            let digest = f
                .next("fingerprint")
                .map_err(relabel(attribute, "fingerprint"))?;
            f.finish()?;
            check_fingerprint(algorithm, digest)?;
            Attribute::Fingerprint(Fingerprint {
                algorithm: algorithm.to_owned(),
                value: digest.0.to_owned(),
            })
        }
        "setup" => match Setup::from_token(value.trim_end_matches(' ')) {
            Some(setup) => Attribute::Setup(setup),
            None => return fail(value, invalid(attribute, "role")),
        },
        "rtpmap" => {
            let (rtpmap, tolerated) = parse_rtpmap(value, ctx)?;
            warning = tolerated;
            Attribute::Rtpmap(rtpmap)
        }
        "fmtp" => {
            let mut f = Fields::new(value, lenient);
            let (format, at) = f.next("format").map_err(relabel(attribute, "format"))?;
            let pt = match payload_type(attribute, format) {
                Ok(pt) => pt,
                // Non-RTP sections carry format-specific parameters (`a=fmtp:5000 protocol=...`).
                Err(_) if !ctx.media_is_rtp => return Ok(None),
                Err(_) => return fail(at, invalid(attribute, "payload type")),
            };
            let params = match f.rest()? {
                Some(params) => params.to_owned(),
                None if lenient => String::new(),
                None => {
                    return fail(
                        f_end(value),
                        ParseErrorKind::MissingField {
                            field: "format parameters",
                        },
                    );
                }
            };
            Attribute::Fmtp(Fmtp {
                payload_type: pt,
                params,
            })
        }
        "rtcp-fb" => {
            let mut f = Fields::new(value, lenient);
            let (format, at) = f
                .next("payload type")
                .map_err(relabel(attribute, "payload type"))?;
            let payload_type = if format == "*" {
                None
            } else {
                Some(payload_type(attribute, format).map_err(|e| Fail { at, ..e })?)
            };
            let (feedback, _) = f
                .next("feedback type")
                .map_err(relabel(attribute, "feedback type"))?;
            let param = f.rest()?.map(str::to_owned);
            Attribute::RtcpFb(RtcpFb {
                payload_type,
                feedback: feedback.to_owned(),
                param,
            })
        }
        "rtcp" => {
            let mut f = Fields::new(value, lenient);
            let (port, at) = f.next("port").map_err(relabel(attribute, "port"))?;
            let port = number(port, "port").map_err(|_| Fail {
                at,
                kind: invalid(attribute, "port"),
            })?;
            let connection = match f.next_opt()? {
                None => None,
                Some(net_type) => {
                    let addr_type = f.next("address type")?;
                    let address = f.next("address")?;
                    f.finish()?;
                    if let Some(w) = check_address(net_type, addr_type, address, true, lenient)? {
                        warning = Some((address.1, w));
                    }
                    Some(Connection {
                        net_type: net_type.0.to_owned(),
                        addr_type: addr_type.0.to_owned(),
                        address: address.0.to_owned(),
                    })
                }
            };
            Attribute::Rtcp(Rtcp { port, connection })
        }
        "extmap" => Attribute::Extmap(parse_extmap(value, lenient)?),
        "ssrc" => {
            let mut f = Fields::new(value, lenient);
            let (id, at) = f.next("ssrc").map_err(relabel(attribute, "ssrc"))?;
            let id = number(id, "ssrc").map_err(|_| Fail {
                at,
                kind: invalid(attribute, "ssrc"),
            })?;
            // Firefox writes bare `a=ssrc:<id>`; the attribute name is then empty.
            let (attr_name, attr_value) = match f.rest()? {
                None => ("", None),
                Some(source) => {
                    let (n, v) = match source.split_once(':') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => (source, None),
                    };
                    check_chars(n, is_token_char, invalid(attribute, "source attribute"))?;
                    (n, v)
                }
            };
            Attribute::Ssrc(Ssrc {
                id,
                attribute: attr_name.to_owned(),
                value: attr_value,
            })
        }
        "ssrc-group" => {
            let mut f = Fields::new(value, lenient);
            let (semantics, at) = f
                .next("semantics")
                .map_err(relabel(attribute, "semantics"))?;
            check_chars(semantics, is_token_char, invalid(attribute, "semantics"))
                .map_err(|e| Fail { at, ..e })?;
            let mut ssrcs = Vec::new();
            while let Some((ssrc, at)) = f.next_opt()? {
                ssrcs.push(number(ssrc, "ssrc").map_err(|_| Fail {
                    at,
                    kind: invalid(attribute, "ssrc"),
                })?);
            }
            Attribute::SsrcGroup(SsrcGroup {
                semantics: semantics.to_owned(),
                ssrcs,
            })
        }
        "rid" => Attribute::Rid(parse_rid(value, lenient)?),
        "simulcast" => {
            let (simulcast, legacy) = parse_simulcast(value)?;
            if legacy {
                warning = Some((value, WarningKind::LegacySyntax("a=simulcast")));
            }
            Attribute::Simulcast(simulcast)
        }
        "sctp-port" => {
            Attribute::SctpPort(number(value, "port").map_err(relabel(attribute, "port"))?)
        }
        "max-message-size" => {
            Attribute::MaxMessageSize(number(value, "size").map_err(relabel(attribute, "size"))?)
        }
        "sctpmap" => {
            let mut f = Fields::new(value, lenient);
            let (port, at) = f.next("port").map_err(relabel(attribute, "port"))?;
            let port = number(port, "port").map_err(|_| Fail {
                at,
                kind: invalid(attribute, "port"),
            })?;
            let (protocol, _) = f.next("protocol").map_err(relabel(attribute, "protocol"))?;
            let streams = match f.next_opt()? {
                Some((streams, at)) => Some(number(streams, "streams").map_err(|_| Fail {
                    at,
                    kind: invalid(attribute, "streams"),
                })?),
                None => None,
            };
            f.finish()?;
            Attribute::Sctpmap(Sctpmap {
                port,
                protocol: protocol.to_owned(),
                streams,
            })
        }
        "ptime" | "framerate" => {
            let Some(decimal) = Decimal::new(value) else {
                return fail(value, invalid(attribute, "number"));
            };
            if name == "ptime" {
                Attribute::Ptime(decimal)
            } else {
                Attribute::Framerate(decimal)
            }
        }
        "maxptime" => {
            Attribute::Maxptime(number(value, "maxptime").map_err(relabel(attribute, "number"))?)
        }
        "imageattr" => {
            let mut f = Fields::new(value, lenient);
            let (format, at) = f
                .next("payload type")
                .map_err(relabel(attribute, "payload type"))?;
            let payload_type = if format == "*" {
                None
            } else {
                Some(payload_type(attribute, format).map_err(|e| Fail { at, ..e })?)
            };
            let Some(params) = f.rest()? else {
                return fail(
                    f_end(value),
                    ParseErrorKind::MissingField {
                        field: "image attributes",
                    },
                );
            };
            Attribute::ImageAttr(ImageAttr {
                payload_type,
                params: params.to_owned(),
            })
        }
        _ => return Ok(None),
    };
    Ok(Some((attr, warning)))
}

/// The empty suffix at the end of `value` (points a "missing" error at the line end).
fn f_end(value: &str) -> &str {
    value.get(value.len()..).unwrap_or("")
}

fn parse_rtpmap<'a>(
    value: &'a str,
    ctx: AttributeContext,
) -> Res<'a, (Rtpmap, Option<(&'a str, WarningKind)>)> {
    const A: &str = "rtpmap";
    let mut f = Fields::new(value, ctx.lenient);
    let (pt, at) = f.next("payload type").map_err(relabel(A, "payload type"))?;
    let payload_type = payload_type(A, pt).map_err(|e| Fail { at, ..e })?;
    let (encoding_text, at) = f.next("encoding").map_err(relabel(A, "encoding"))?;
    f.finish()?;
    let mut parts = encoding_text.split('/');
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

fn parse_extmap(value: &str, lenient: bool) -> Res<'_, Extmap> {
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

fn parse_rid(value: &str, lenient: bool) -> Res<'_, Rid> {
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
fn parse_simulcast(value: &str) -> Res<'_, (Simulcast, bool)> {
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
