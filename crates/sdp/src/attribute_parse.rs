//! Parsing `a=` values into [`Attribute`]s.

use crate::attribute::{
    Attribute, ConnectionMode, Crypto, Decimal, Direction, Fingerprint, Group, ImageAttr, Msid,
    MsidSemantic, Rtcp, RtcpFb, Sctpmap, Setup, Ssrc, SsrcGroup,
};
use crate::attribute_name::AttributeName;
use crate::attribute_values::{parse_extmap, parse_rid, parse_rtpmap, parse_simulcast};
use crate::checks::{check_address, check_candidate, check_fingerprint};
use crate::error::{Level, ParseErrorKind, WarningKind};
use nom::Parser;

use crate::fields::{Fail, Res, check_chars, fail, is_token_byte, is_token_char, number};
use crate::fmtp::Fmtp;
use crate::grammar::{
    PResult, end, end_of, first, fold_fields, next, next_opt, numeric, relabel, rest, run,
    split_once_byte, typed,
};
use crate::known;
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
pub(crate) fn relabel_fail<'a>(
    attribute: &'static str,
    field: &'static str,
) -> impl Fn(Fail<'a>) -> Fail<'a> {
    move |e| Fail {
        at: e.at,
        kind: invalid(attribute, field),
    }
}

/// `parser`, its failures relabelled as `attribute`'s `field` (at the same place).
pub(crate) fn label<'a, O>(
    parser: impl Parser<&'a str, Output = O, Error = Fail<'a>>,
    attribute: &'static str,
    field: &'static str,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    relabel(parser, invalid(attribute, field))
}

/// A field of token characters; an error points at the field's start.
fn token_field<'a>(
    parser: impl Parser<&'a str, Output = &'a str, Error = Fail<'a>>,
    kind: ParseErrorKind,
) -> impl FnMut(&'a str) -> PResult<'a, &'a str> {
    typed(parser, move |text| {
        check_chars(text, is_token_char, kind.clone())
            .map(|()| text)
            .map_err(|e| Fail { at: text, ..e })
    })
}

/// The semantics token first in `a=group` and `a=ssrc-group`.
fn semantics<'a>(
    attribute: &'static str,
    lenient: bool,
) -> impl FnMut(&'a str) -> PResult<'a, &'a str> {
    token_field(
        label(first(lenient, "semantics"), attribute, "semantics"),
        invalid(attribute, "semantics"),
    )
}

/// `*` (`None`) or a payload type, first in `a=rtcp-fb` and `a=imageattr`.
fn wildcard_or_payload_type<'a>(
    attribute: &'static str,
    lenient: bool,
) -> impl FnMut(&'a str) -> PResult<'a, Option<u8>> {
    let field = label(first(lenient, "payload type"), attribute, "payload type");
    typed(field, move |format| {
        if format == "*" {
            Ok(None)
        } else {
            payload_type(attribute, format).map(Some)
        }
    })
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
    after_name: &'a str,
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
        (_, None) => {
            return fail(
                after_name,
                ParseErrorKind::MissingAttributeValue { attribute },
            );
        }
        (N::Group, Some(value)) => {
            let grammar = (
                semantics(attribute, lenient),
                fold_fields(lenient, Vec::new, |mut mids: Vec<String>, mid| {
                    check_chars(mid, is_token_char, invalid(attribute, "identification tag"))?;
                    mids.push(mid.to_owned());
                    Ok(mids)
                }),
            );
            let (semantics, mids) = run(value, grammar)?;
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
            let grammar = (
                label(first(lenient, "stream id"), attribute, "stream id"),
                next_opt(lenient),
                end(lenient),
            );
            let (stream, track, ()) = run(value, grammar)?;
            Attribute::Msid(Msid {
                stream_id: stream.to_owned(),
                track_id: track.map(str::to_owned),
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
            let grammar = (
                label(first(lenient, "value"), attribute, "value"),
                end(lenient),
            );
            let (text, ()) = run(value, grammar)?;
            let text = text.to_owned();
            match known {
                N::IceUfrag => Attribute::IceUfrag(text),
                N::IcePwd => Attribute::IcePwd(text),
                _ => Attribute::TlsId(text),
            }
        }
        (N::IceOptions, Some(value)) => {
            let grammar = (
                label(first(lenient, "option"), attribute, "option"),
                fold_fields(lenient, Vec::new, |mut options: Vec<String>, option| {
                    options.push(option.to_owned());
                    Ok(options)
                }),
            );
            let (option, mut options) = run(value, grammar)?;
            options.insert(0, option.to_owned());
            Attribute::IceOptions(options)
        }
        (N::IcePacing, Some(value)) => Attribute::IcePacing(
            number(value, "pacing").map_err(relabel_fail(attribute, "pacing"))?,
        ),
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
            let algorithm = token_field(
                label(first(lenient, "hash function"), attribute, "hash function"),
                invalid(attribute, "hash function"),
            );
            let grammar = (
                algorithm,
                label(next(lenient, "fingerprint"), attribute, "fingerprint"),
                end(lenient),
            );
            let (algorithm, digest, ()) = run(value, grammar)?;
            check_fingerprint(algorithm, digest)?;
            Attribute::Fingerprint(Fingerprint {
                algorithm: algorithm.to_owned(),
                value: digest.to_owned(),
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
            let tag = typed(
                label(first(lenient, "tag"), attribute, "tag"),
                |tag| match number::<u32>(tag, "tag") {
                    Ok(number) if tag.len() <= 9 => Ok(number),
                    _ => fail(tag, invalid(attribute, "tag")),
                },
            );
            let suite = typed(label(next(lenient, "suite"), attribute, "suite"), |suite| {
                let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
                check_chars(suite, allowed, invalid(attribute, "suite")).map(|()| suite)
            });
            let grammar = (
                tag,
                suite,
                label(next(lenient, "key params"), attribute, "key params"),
                rest(lenient),
            );
            let (tag, suite, key_params, session_params) = run(value, grammar)?;
            Attribute::Crypto(Crypto {
                tag,
                suite: suite.to_owned(),
                key_params: key_params.to_owned(),
                session_params: session_params.map(str::to_owned),
            })
        }
        (N::Rtpmap, Some(value)) => {
            let (rtpmap, tolerated) = parse_rtpmap(value, ctx)?;
            warning = tolerated;
            Attribute::Rtpmap(rtpmap)
        }
        (N::Fmtp, Some(value)) => {
            let (params, format) = label(first(lenient, "format"), attribute, "format")(value)?;
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
                Err(e) => return Err(e),
            };
            let params = match rest(lenient)(params)?.1 {
                Some(params) => params.to_owned(),
                None if lenient => String::new(),
                None => {
                    let field = "format parameters";
                    return fail(end_of(value), ParseErrorKind::MissingField { field });
                }
            };
            Attribute::Fmtp(Fmtp {
                payload_type: pt,
                params,
            })
        }
        (N::RtcpFb, Some(value)) => {
            let grammar = (
                wildcard_or_payload_type(attribute, lenient),
                label(next(lenient, "feedback type"), attribute, "feedback type"),
                rest(lenient),
            );
            let (payload_type, feedback, param) = run(value, grammar)?;
            Attribute::RtcpFb(RtcpFb {
                payload_type,
                feedback: known::token(feedback, known::feedback),
                param: param.map(|param| known::token(param, known::feedback)),
            })
        }
        (N::Rtcp, Some(value)) => {
            let address = (
                next(lenient, "address type"),
                next(lenient, "address"),
                end(lenient),
            );
            let mut grammar = (
                label(numeric(first(lenient, "port"), "port"), attribute, "port"),
                next_opt(lenient),
            );
            let (input, (port, net_type)) = grammar.parse(value)?;
            let connection = match net_type {
                None => None,
                Some(net_type) => {
                    let (addr_type, address, ()) = run(input, address)?;
                    if let Some(w) = check_address(net_type, addr_type, address, true, lenient)? {
                        warning = Some((address, w));
                    }
                    Some(Connection {
                        net_type: known::session_token(net_type),
                        addr_type: known::session_token(addr_type),
                        address: known::session_token(address),
                    })
                }
            };
            Attribute::Rtcp(Rtcp { port, connection })
        }
        (N::Extmap, Some(value)) => Attribute::Extmap(parse_extmap(value, lenient)?),
        (N::Ssrc, Some(value)) => {
            let grammar = (
                label(numeric(first(lenient, "ssrc"), "ssrc"), attribute, "ssrc"),
                rest(lenient),
            );
            let (id, source) = run(value, grammar)?;
            // Firefox writes bare `a=ssrc:<id>`; the attribute name is then empty.
            let (attr_name, attr_value) = match source {
                None => ("", None),
                Some(source) => {
                    let (name, value) = split_once_byte(source, b':');
                    check_chars(name, is_token_char, invalid(attribute, "source attribute"))?;
                    (name, value.map(str::to_owned))
                }
            };
            Attribute::Ssrc(Ssrc {
                id,
                attribute: known::token(attr_name, known::source_attribute),
                value: attr_value,
            })
        }
        (N::SsrcGroup, Some(value)) => {
            let grammar = (
                semantics(attribute, lenient),
                fold_fields(lenient, Vec::new, |mut ssrcs: Vec<u32>, ssrc| {
                    ssrcs.push(number(ssrc, "ssrc").map_err(relabel_fail(attribute, "ssrc"))?);
                    Ok(ssrcs)
                }),
            );
            let (semantics, ssrcs) = run(value, grammar)?;
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
            Attribute::SctpPort(number(value, "port").map_err(relabel_fail(attribute, "port"))?)
        }
        (N::MaxMessageSize, Some(value)) => Attribute::MaxMessageSize(
            number(value, "size").map_err(relabel_fail(attribute, "size"))?,
        ),
        (N::Sctpmap, Some(value)) => {
            let streams = typed(next_opt(lenient), |streams: Option<&'a str>| {
                let number =
                    |text| number(text, "streams").map_err(relabel_fail(attribute, "streams"));
                streams.map(number).transpose()
            });
            let grammar = (
                label(numeric(first(lenient, "port"), "port"), attribute, "port"),
                label(next(lenient, "protocol"), attribute, "protocol"),
                streams,
                end(lenient),
            );
            let (port, protocol, streams, ()) = run(value, grammar)?;
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
        (N::Maxptime, Some(value)) => Attribute::Maxptime(
            number(value, "maxptime").map_err(relabel_fail(attribute, "number"))?,
        ),
        (N::ImageAttr, Some(value)) => {
            let grammar = (wildcard_or_payload_type(attribute, lenient), rest(lenient));
            let (payload_type, params) = run(value, grammar)?;
            let Some(params) = params else {
                let field = "image attributes";
                return fail(end_of(value), ParseErrorKind::MissingField { field });
            };
            Attribute::ImageAttr(ImageAttr {
                payload_type,
                params: params.to_owned(),
            })
        }
    };
    Ok((attr, warning))
}
