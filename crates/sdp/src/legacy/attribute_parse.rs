//! Parsing `a=` values into [`Attribute`]s.

use super::attribute_values::{parse_extmap, parse_rid, parse_rtpmap, parse_simulcast};
use super::checks::{check_address, check_candidate, check_fingerprint};
use super::fields::{Fail, Fields, Res, check_chars, fail, is_token_byte, is_token_char, number};
use crate::attribute::{
    Attribute, ConnectionMode, Crypto, Decimal, Direction, Fingerprint, Group, ImageAttr, Msid,
    MsidSemantic, Rtcp, RtcpFb, Sctpmap, Setup, Ssrc, SsrcGroup,
};
use crate::attribute_name::AttributeName;
use crate::error::{Level, ParseErrorKind, WarningKind};
use crate::fmtp::Fmtp;
use crate::model::Connection;

/// What the attribute parser needs to know about where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Splits the text after `a=` into the name (token characters) and the value after `:`, if
/// any. Both parsers do this in their structural pass.
pub(crate) fn split_attribute(text: &str) -> Res<'_, (&str, Option<&str>)> {
    // Token characters are ASCII, so the name ends at the first byte that is not one.
    let name_len = text
        .bytes()
        .position(|b| !is_token_byte(b))
        .unwrap_or(text.len());
    if name_len == 0 {
        return fail(text, ParseErrorKind::InvalidAttributeName);
    }
    let (name, after) = text.split_at(name_len);
    match after.strip_prefix(':') {
        Some(value) => Ok((name, Some(value))),
        None if after.is_empty() => Ok((name, None)),
        None => fail(after, ParseErrorKind::InvalidAttributeName),
    }
}

/// Types an attribute that [`split_attribute`] split: `text` is everything after `a=`,
/// `name` and `value` its parts.
pub(crate) fn parse_attribute<'a>(
    text: &'a str,
    name: &'a str,
    value: Option<&'a str>,
    ctx: AttributeContext,
) -> Res<'a, ParsedAttribute<'a>> {
    let after = text.get(name.len()..).unwrap_or("");
    let known = AttributeName::lookup(name);
    let parsed = match known {
        Some(known) => Some(parse_known(known, value, after, ctx)?),
        None => None,
    };
    let (attribute, warning) = match parsed {
        Some((attribute, warning)) if !attribute.is_unknown() => (attribute, warning),
        _ => {
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
    if let Some(known) = known
        && !attribute.placement().allows(ctx.level)
    {
        let kind = ParseErrorKind::AttributeLevel {
            attribute: known.as_str(),
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

/// Parses the value of a known attribute. `Attribute::Unknown` comes back for an `a=fmtp`
/// whose format is not a payload type in a non-RTP section (`a=fmtp:5000 protocol=...`).
fn parse_known<'a>(
    known: AttributeName,
    value: Option<&'a str>,
    end: &'a str,
    ctx: AttributeContext,
) -> Res<'a, ParsedAttribute<'a>> {
    use AttributeName as N;
    let attribute = known.as_str();
    let lenient = ctx.lenient;
    let mut warning = None;
    let flag = matches!(
        known,
        N::SendRecv
            | N::SendOnly
            | N::RecvOnly
            | N::Inactive
            | N::IceLite
            | N::IceMismatch
            | N::EndOfCandidates
            | N::RtcpMux
            | N::RtcpMuxOnly
            | N::RtcpRsize
            | N::ExtmapAllowMixed
            | N::BundleOnly
    );
    if let (true, Some(value)) = (flag, value) {
        // A flag with a value (webrtc-rs writes `a=ice-lite:ice-lite`): lenient mode keeps the
        // flag and drops the value, with a warning; strict mode refuses it.
        let kind = ParseErrorKind::UnexpectedAttributeValue { attribute };
        if !lenient {
            return fail(value, kind);
        }
        warning = Some((value, WarningKind::Tolerated(kind)));
    }
    let attr = match (known, value) {
        (N::SendRecv, _) => Attribute::Direction(Direction::SendRecv),
        (N::SendOnly, _) => Attribute::Direction(Direction::SendOnly),
        (N::RecvOnly, _) => Attribute::Direction(Direction::RecvOnly),
        (N::Inactive, _) => Attribute::Direction(Direction::Inactive),
        (N::IceLite, _) => Attribute::IceLite,
        (N::IceMismatch, _) => Attribute::IceMismatch,
        (N::EndOfCandidates, _) => Attribute::EndOfCandidates,
        (N::RtcpMux, _) => Attribute::RtcpMux,
        (N::RtcpMuxOnly, _) => Attribute::RtcpMuxOnly,
        (N::RtcpRsize, _) => Attribute::RtcpRsize,
        (N::ExtmapAllowMixed, _) => Attribute::ExtmapAllowMixed,
        (N::BundleOnly, _) => Attribute::BundleOnly,
        (_, None) => return fail(end, ParseErrorKind::MissingAttributeValue { attribute }),
        (N::Group, Some(value)) => {
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
        (N::Mid, Some(value)) => {
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
        (N::Msid, Some(value)) => {
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
        (N::MsidSemantic, Some(value)) => {
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
        (N::IceUfrag | N::IcePwd | N::TlsId, Some(value)) => {
            let mut f = Fields::new(value, lenient);
            let (text, _) = f.next("value").map_err(relabel(attribute, "value"))?;
            f.finish()?;
            match known {
                N::IceUfrag => Attribute::IceUfrag(text.to_owned()),
                N::IcePwd => Attribute::IcePwd(text.to_owned()),
                _ => Attribute::TlsId(text.to_owned()),
            }
        }
        (N::IceOptions, Some(value)) => {
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
        (N::IcePacing, Some(value)) => {
            Attribute::IcePacing(number(value, "pacing").map_err(relabel(attribute, "pacing"))?)
        }
        (N::Candidate, Some(value)) => {
            check_candidate(value, lenient)?;
            Attribute::Candidate(value.to_owned())
        }
        (N::RemoteCandidates | N::Identity | N::Content | N::Label, Some(value)) => {
            if value.is_empty() {
                return fail(value, ParseErrorKind::MissingAttributeValue { attribute });
            }
            let value = value.to_owned();
            match known {
                N::RemoteCandidates => Attribute::RemoteCandidates(value),
                N::Identity => Attribute::Identity(value),
                N::Content => Attribute::Content(value),
                _ => Attribute::Label(value),
            }
        }
        (N::Fingerprint, Some(value)) => {
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
        (N::Setup, Some(value)) => match Setup::from_token(value.trim_end_matches(' ')) {
            Some(setup) => Attribute::Setup(setup),
            None => return fail(value, invalid(attribute, "role")),
        },
        (N::ConnectionMode, Some(value)) => match ConnectionMode::from_token(value) {
            Some(mode) => Attribute::ConnectionMode(mode),
            None => return fail(value, invalid(attribute, "mode")),
        },
        (N::Crypto, Some(value)) => {
            let mut f = Fields::new(value, lenient);
            let (tag, at) = f.next("tag").map_err(relabel(attribute, "tag"))?;
            let tag = match number::<u32>(tag, "tag") {
                Ok(number) if tag.len() <= 9 => number,
                _ => return fail(at, invalid(attribute, "tag")),
            };
            let (suite, _) = f.next("suite").map_err(relabel(attribute, "suite"))?;
            check_chars(
                suite,
                |c| c.is_ascii_alphanumeric() || c == '_',
                invalid(attribute, "suite"),
            )?;
            let (key_params, _) = f
                .next("key params")
                .map_err(relabel(attribute, "key params"))?;
            Attribute::Crypto(Crypto {
                tag,
                suite: suite.to_owned(),
                key_params: key_params.to_owned(),
                session_params: f.rest()?.map(str::to_owned),
            })
        }
        (N::Rtpmap, Some(value)) => {
            let (rtpmap, tolerated) = parse_rtpmap(value, ctx)?;
            warning = tolerated;
            Attribute::Rtpmap(rtpmap)
        }
        (N::Fmtp, Some(value)) => {
            let mut f = Fields::new(value, lenient);
            let (format, at) = f.next("format").map_err(relabel(attribute, "format"))?;
            let pt = match payload_type(attribute, format) {
                Ok(pt) => pt,
                // Non-RTP sections carry format-specific parameters (`a=fmtp:5000 protocol=...`).
                Err(_) if !ctx.media_is_rtp => {
                    let unknown = Attribute::Unknown {
                        name: attribute.to_owned(),
                        value: Some(value.to_owned()),
                    };
                    return Ok((unknown, None));
                }
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
        (N::RtcpFb, Some(value)) => {
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
        (N::Rtcp, Some(value)) => {
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
        (N::Extmap, Some(value)) => Attribute::Extmap(parse_extmap(value, lenient)?),
        (N::Ssrc, Some(value)) => {
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
        (N::SsrcGroup, Some(value)) => {
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
        (N::Rid, Some(value)) => Attribute::Rid(parse_rid(value, lenient)?),
        (N::Simulcast, Some(value)) => {
            let (simulcast, legacy) = parse_simulcast(value)?;
            if legacy {
                warning = Some((value, WarningKind::LegacySyntax("a=simulcast")));
            }
            Attribute::Simulcast(simulcast)
        }
        (N::SctpPort, Some(value)) => {
            Attribute::SctpPort(number(value, "port").map_err(relabel(attribute, "port"))?)
        }
        (N::MaxMessageSize, Some(value)) => {
            Attribute::MaxMessageSize(number(value, "size").map_err(relabel(attribute, "size"))?)
        }
        (N::Sctpmap, Some(value)) => {
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
        (N::Ptime | N::Framerate, Some(value)) => {
            let Some(decimal) = Decimal::new(value) else {
                return fail(value, invalid(attribute, "number"));
            };
            if known == N::Ptime {
                Attribute::Ptime(decimal)
            } else {
                Attribute::Framerate(decimal)
            }
        }
        (N::Maxptime, Some(value)) => {
            Attribute::Maxptime(number(value, "maxptime").map_err(relabel(attribute, "number"))?)
        }
        (N::ImageAttr, Some(value)) => {
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
    };
    Ok((attr, warning))
}

/// The empty suffix at the end of `value` (points a "missing" error at the line end).
pub(crate) fn f_end(value: &str) -> &str {
    value.get(value.len()..).unwrap_or("")
}
