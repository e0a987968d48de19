//! Parsing `a=` values into [`Attribute`]s.

use nom::Parser;
use nom::bytes::complete::take_while1;

use crate::attribute::{
    Attribute, Decimal, Direction, Fingerprint, Fmtp, Group, ImageAttr, Msid, MsidSemantic, Rtcp,
    RtcpFb, Sctpmap, Setup, Ssrc, SsrcGroup,
};
use crate::attribute_values::{parse_extmap, parse_rid, parse_rtpmap, parse_simulcast};
use crate::checks::{check_address, check_candidate, check_fingerprint};
use crate::error::{Level, ParseErrorKind, WarningKind};
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

pub(crate) fn invalid(attribute: &'static str, field: &'static str) -> ParseErrorKind {
    ParseErrorKind::InvalidAttributeValue { attribute, field }
}

/// Re-labels a field failure as a failure of `attribute`'s `field`, keeping its position.
pub(crate) fn relabel<'a>(
    attribute: &'static str,
    field: &'static str,
) -> impl Fn(Fail<'a>) -> Fail<'a> {
    move |e| Fail {
        at: e.at,
        kind: invalid(attribute, field),
    }
}

pub(crate) fn payload_type<'a>(attribute: &'static str, text: &'a str) -> Res<'a, u8> {
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
pub(crate) fn f_end(value: &str) -> &str {
    value.get(value.len()..).unwrap_or("")
}
