//! Deciding and writing one answered m= section (RFC 9429 §5.3.1).

use std::borrow::Cow;

use antiphon_codec::{self as codec, Capabilities, CodecRole, Negotiated, NegotiationOptions};
use antiphon_dtls::{ActPassAnswer, DtlsRole, answerer_role};
use antiphon_sdp::{self as sdp, Attribute, MediaDescription, MediaKind, SessionDescription};

use super::bundle::SectionTransport;
use super::explain::{RejectReason, SectionExplanation, SectionOutcome};
use super::rtp::{self, IgnoredFormat};
use super::simulcast::{self, SimulcastAnswer};
use super::{AnswerOptions, LocalSection, LocalSender, LocalTransport};
use crate::policy::RTCRtcpMuxPolicy;

/// Where a section stands in the offer's BUNDLE groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership {
    /// In no BUNDLE group: it must bring its own transport attributes.
    Ungrouped,
    /// The offerer-tagged section of a group: its transport attributes serve the group.
    Tag,
    /// Another member of a group: its transport attributes, if any, are not used.
    Member,
}

/// What was decided for one section before BUNDLE is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub(crate) verdict: Verdict,
    pub(crate) ignored: Vec<IgnoredFormat>,
    pub(crate) codecs: Option<codec::Explanation>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Rejected(RejectReason),
    Rtp {
        negotiated: Box<Negotiated>,
        direction: codec::Direction,
        simulcast: Option<SimulcastAnswer>,
        /// What we send, when the answer's direction sends and the transceiver has a track.
        sender: Option<LocalSender>,
    },
    Data {
        /// The offer used the pre-RFC 8841 `DTLS/SCTP <port>` + `a=sctpmap` form.
        legacy: bool,
    },
}

/// The BUNDLE membership of every offered section.
pub(crate) fn bundle_membership(offer: &SessionDescription) -> Vec<Membership> {
    let mut membership = vec![Membership::Ungrouped; offer.media.len()];
    let mids = super::bundle::section_mids(offer);
    for group in offer.bundle_groups() {
        let mut tagged = false;
        for mid in &group.mids {
            let Some(index) = super::bundle::section_with_mid(&mids, mid) else {
                continue;
            };
            if membership[index] != Membership::Ungrouped {
                continue;
            }
            let rejected_by_offerer =
                offer.media[index].port == 0 && !offer.media[index].is_bundle_only();
            if !tagged && !rejected_by_offerer {
                membership[index] = Membership::Tag;
                tagged = true;
            } else {
                membership[index] = Membership::Member;
            }
        }
    }
    membership
}

/// Decides one offered section on its own merits. `bound_extension_ids`, for a section in a
/// BUNDLE group, holds the header extension ids the group's sections accepted so far (RFC 8843
/// §9.2): an id bound to another URI is refused, and an accepted section adds its own.
#[allow(clippy::too_many_arguments)]
pub(crate) fn examine(
    offer: &SessionDescription,
    offered: &MediaDescription,
    local: &LocalSection,
    capabilities: &Capabilities,
    options: &AnswerOptions,
    membership: Membership,
    mut bound_extension_ids: Option<&mut Vec<(u16, Cow<'static, str>)>>,
) -> Decision {
    let rejected = |reason| Decision {
        verdict: Verdict::Rejected(reason),
        ignored: Vec::new(),
        codecs: None,
    };
    if offered.port == 0 && !offered.is_bundle_only() {
        return rejected(RejectReason::RejectedByOfferer);
    }
    let kind = match &offered.kind {
        MediaKind::Audio => Some(codec::MediaKind::Audio),
        MediaKind::Video => Some(codec::MediaKind::Video),
        MediaKind::Application => None,
        other => return rejected(RejectReason::UnsupportedMedia(other.to_string())),
    };
    if let Some(reason) = unsupported_proto(kind.is_some(), &offered.proto) {
        return rejected(reason);
    }
    if membership != Membership::Member
        && let Some(reason) = missing_transport(offer, offered)
    {
        return rejected(reason);
    }
    let Some(kind) = kind else {
        if offered.sctp_port().is_none() && offered.sctpmap().is_none() {
            return rejected(RejectReason::MissingSctpPort);
        }
        return Decision {
            verdict: Verdict::Data {
                legacy: !offered.proto.contains("UDP/DTLS") && !offered.proto.contains("TCP/DTLS"),
            },
            ignored: Vec::new(),
            codecs: None,
        };
    };
    if local.stopped {
        return rejected(RejectReason::TransceiverStopped);
    }
    if !offered.has_rtcp_mux() && options.rtcp_mux_policy == RTCRtcpMuxPolicy::Require {
        return rejected(RejectReason::RtcpMuxRequired);
    }
    let offered_direction = offered
        .direction()
        .or_else(|| session_direction(offer))
        .unwrap_or(codec::Direction::SendRecv);
    let direction = offered_direction.reversed().intersect(local.direction);
    let (offered_media, ignored) = rtp::offered_media(offered, kind, &offer.attributes);
    // Ids above 14 need the two-byte header, which WebRTC senders use only with
    // a=extmap-allow-mixed (RFC 8285 §6); the answer repeats it where it was offered.
    let allow_mixed = [&offer.attributes, &offered.attributes]
        .into_iter()
        .flatten()
        .any(|a| matches!(a, Attribute::ExtmapAllowMixed));
    let mut negotiation = NegotiationOptions::send_recv()
        .with_direction(direction)
        .with_codec_preferences(local.codec_preferences.clone())
        .with_two_byte_header_ids(allow_mixed)
        .with_bound_extension_ids(
            bound_extension_ids
                .as_deref_mut()
                .map(std::mem::take)
                .unwrap_or_default(),
        );
    let mut negotiated = codec::negotiate_owned(offered_media, capabilities, &negotiation);
    // The group's ids come back out of the options (moved, not copied, per section).
    let mut bound = std::mem::take(&mut negotiation.bound_extension_ids);
    // The explanation moves into the decision; nothing reads it from `negotiated` again.
    let explanation = std::mem::take(&mut negotiated.explanation);
    let accepted = negotiated.has_media_codec();
    if accepted {
        for extension in &negotiated.header_extensions {
            if !bound.iter().any(|(id, _)| *id == extension.id) {
                bound.push((extension.id, extension.uri.clone()));
            }
        }
    }
    if let Some(group) = bound_extension_ids {
        *group = bound;
    }
    if !accepted {
        return Decision {
            verdict: Verdict::Rejected(RejectReason::NoCommonCodec),
            ignored,
            codecs: Some(explanation),
        };
    }
    let simulcast = simulcast::answer(offered, direction, local, options);
    let sender = local.sender.clone().filter(|_| direction.sends());
    Decision {
        verdict: Verdict::Rtp {
            negotiated: Box::new(negotiated),
            direction,
            simulcast,
            sender,
        },
        ignored,
        codecs: Some(explanation),
    }
}

/// The RTP profiles an answerer MUST accept (RFC 9429 §5.1.3): the answer repeats the offered
/// one exactly. DTLS-SRTP is used whatever the profile says (a section without `a=fingerprint`
/// is rejected by [`missing_transport`]); AVP or AVPF only says which RTCP timing rules apply.
const RTP_PROFILES: &[&str] = &[
    "UDP/TLS/RTP/SAVPF",
    "UDP/TLS/RTP/SAVP",
    "TCP/DTLS/RTP/SAVPF",
    "TCP/DTLS/RTP/SAVP",
    "RTP/SAVPF",
    "RTP/SAVP",
    "RTP/AVPF",
    "RTP/AVP",
    // Not in RFC 9429's list; accepted (and repeated) as before that list was followed.
    "TCP/TLS/RTP/SAVPF",
];

/// The data channel profiles (RFC 8841 and the pre-RFC `DTLS/SCTP` form).
const SCTP_PROFILES: &[&str] = &["UDP/DTLS/SCTP", "TCP/DTLS/SCTP", "DTLS/SCTP"];

fn unsupported_proto(rtp: bool, proto: &str) -> Option<RejectReason> {
    let supported = if rtp { RTP_PROFILES } else { SCTP_PROFILES };
    (!supported.iter().any(|p| p.eq_ignore_ascii_case(proto)))
        .then(|| RejectReason::UnsupportedProto(proto.to_owned()))
}

fn missing_transport(
    offer: &SessionDescription,
    offered: &MediaDescription,
) -> Option<RejectReason> {
    let ufrag = offered.ice_ufrag().or_else(|| offer.ice_ufrag());
    let pwd = offered.ice_pwd().or_else(|| offer.ice_pwd());
    if ufrag.is_none() || pwd.is_none() {
        return Some(RejectReason::MissingIceCredentials);
    }
    let usable = |fp: &sdp::Fingerprint| {
        !fp.algorithm.eq_ignore_ascii_case("md5") && !fp.algorithm.eq_ignore_ascii_case("md2")
    };
    let has_fingerprint = offered.fingerprints().any(usable) || offer.fingerprints().any(usable);
    if !has_fingerprint {
        return Some(RejectReason::MissingFingerprint);
    }
    if offered_setup(offer, offered) == Some(sdp::Setup::HoldConn) {
        return Some(RejectReason::UnsupportedSetup);
    }
    None
}

fn offered_setup(offer: &SessionDescription, offered: &MediaDescription) -> Option<sdp::Setup> {
    offered.setup().or_else(|| offer.setup())
}

fn session_direction(offer: &SessionDescription) -> Option<sdp::Direction> {
    offer.attributes.iter().find_map(|a| match a {
        Attribute::Direction(direction) => Some(*direction),
        _ => None,
    })
}

/// The answer's role for an offered `a=setup` (RFC 5763 §5, RFC 9429 §5.3.1), as
/// [`antiphon_dtls::answerer_role`] decides it: actpass -> active (or passive when preferred),
/// active -> passive, passive -> active; absent means the offerer is active (RFC 4145 §4).
/// (`holdconn` sections are rejected before.)
fn answer_setup(offered: Option<sdp::Setup>, prefer_passive: bool) -> sdp::Setup {
    let preference = if prefer_passive {
        ActPassAnswer::Passive
    } else {
        ActPassAnswer::Active
    };
    answerer_role(offered.unwrap_or(sdp::Setup::Active), preference)
        .map_or(sdp::Setup::Passive, DtlsRole::setup)
}

/// Session-level attributes of the answer besides BUNDLE groups.
pub(crate) fn session_attributes(offer: &SessionDescription) -> Vec<Attribute> {
    let mut attributes = Vec::new();
    let offered_options: Vec<&str> = std::iter::once(&offer.attributes)
        .chain(offer.media.iter().map(|m| &m.attributes))
        .flat_map(|attrs| attrs.iter())
        .filter_map(|a| match a {
            Attribute::IceOptions(options) => Some(options.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    let answered: Vec<String> = ["trickle", "ice2"]
        .into_iter()
        .filter(|option| offered_options.contains(option))
        .map(str::to_owned)
        .collect();
    if !answered.is_empty() {
        attributes.push(Attribute::IceOptions(answered));
    }
    if offer
        .attributes
        .iter()
        .any(|a| matches!(a, Attribute::ExtmapAllowMixed))
    {
        attributes.push(Attribute::ExtmapAllowMixed);
    }
    attributes
}

/// Writes one answered section; the negotiated codecs and extensions move into its attributes.
pub(crate) fn write(
    offered: &MediaDescription,
    offer: &SessionDescription,
    decision: Decision,
    transport: &SectionTransport,
    transports: &[LocalTransport],
    options: &AnswerOptions,
) -> MediaDescription {
    // The offered section whose transport this one uses: itself, or its BUNDLE tag.
    let (transport_index, owner) = match transport {
        SectionTransport::Own { transport } => (*transport, None),
        SectionTransport::Bundled { transport, tag } => (*transport, offer.media.get(*tag)),
        SectionTransport::Rejected(_) => return rejected_section(offered),
    };
    let (Some(local), false) = (
        transports.get(transport_index),
        matches!(decision.verdict, Verdict::Rejected(_)),
    ) else {
        return rejected_section(offered);
    };
    let (port, address) = match local.default_address {
        Some(address) => (address.port(), address.ip()),
        None => (9, std::net::IpAddr::from([0, 0, 0, 0])),
    };
    let formats: Vec<Cow<'static, str>> = match &decision.verdict {
        Verdict::Rtp { negotiated, .. } => negotiated
            .codecs
            .iter()
            .map(|c| sdp::payload_type_format(c.payload_type))
            .collect(),
        // The pre-RFC 8841 form names each side's own SCTP port in its m= line, and the
        // a=sctpmap below repeats it: one port, ours, which the association uses too.
        Verdict::Data { legacy: true } => vec![Cow::Owned(options.sctp_port.to_string())],
        _ => offered.formats.clone(),
    };
    let mut section =
        MediaDescription::new(offered.kind.clone(), port, offered.proto.clone(), formats);
    section.connections.push(sdp::Connection::from_ip(address));
    let attributes = &mut section.attributes;
    let rtp = matches!(decision.verdict, Verdict::Rtp { .. });
    if rtp && !offered.has_rtcp_mux() {
        attributes.push(Attribute::Rtcp(sdp::Rtcp::discard()));
    }
    // Every accepted section carries the ICE and DTLS attributes of its transport, bundled or
    // not, as Chromium and Firefox answer (Firefox's content process crashes on, and aiortc
    // refuses, a bundled section without them); only the section that owns the transport
    // lists candidates.
    write_transport(
        offer,
        owner.unwrap_or(offered),
        local,
        options,
        owner.is_none(),
        attributes,
    );
    if let Some(mid) = offered.mid() {
        attributes.push(Attribute::Mid(mid.to_owned()));
    }
    match decision.verdict {
        Verdict::Rtp {
            negotiated,
            direction,
            simulcast,
            sender,
        } => {
            let Negotiated {
                codecs,
                header_extensions,
                ..
            } = *negotiated;
            // About 8 lines per codec (rtpmap, rtcp-fb, fmtp) and one per extension.
            attributes.reserve(codecs.len() * 8 + header_extensions.len() + 8);
            if offered
                .attributes
                .iter()
                .any(|a| matches!(a, Attribute::ExtmapAllowMixed))
            {
                attributes.push(Attribute::ExtmapAllowMixed);
            }
            rtp::write_extmaps(header_extensions, attributes);
            attributes.push(Attribute::Direction(direction));
            if let Some(sender) = &sender {
                write_msid(sender, attributes);
            }
            if offered.has_rtcp_mux() {
                attributes.push(Attribute::RtcpMux);
            }
            if offered
                .attributes
                .iter()
                .any(|a| matches!(a, Attribute::RtcpRsize))
            {
                attributes.push(Attribute::RtcpRsize);
            }
            let rtx = codecs
                .iter()
                .any(|c| c.codec.role() == CodecRole::Retransmission);
            rtp::write_codecs(codecs, attributes);
            if offered.kind == MediaKind::Audio {
                attributes.push(Attribute::Maxptime(120));
            }
            if let Some(sender) = &sender {
                write_ssrcs(sender, rtx, simulcast.is_some(), attributes);
            }
            if let Some(simulcast) = simulcast {
                simulcast.write(attributes);
            }
        }
        Verdict::Data { legacy } => {
            if legacy {
                attributes.push(Attribute::Sctpmap(sdp::Sctpmap {
                    port: options.sctp_port,
                    protocol: "webrtc-datachannel".to_owned(),
                    streams: Some(1024),
                }));
            } else {
                attributes.push(Attribute::SctpPort(options.sctp_port));
            }
            attributes.push(Attribute::MaxMessageSize(options.max_message_size));
        }
        Verdict::Rejected(_) => {}
    }
    section
}

/// A rejected section: port 0, the offered media and proto, one format (RFC 3264 §6), and the
/// mid so the offerer can match it.
fn rejected_section(offered: &MediaDescription) -> MediaDescription {
    let formats = offered.formats.first().cloned();
    let mut section =
        MediaDescription::new(offered.kind.clone(), 0, offered.proto.clone(), formats);
    section
        .connections
        .push(sdp::Connection::from_ip(std::net::IpAddr::from([
            0, 0, 0, 0,
        ])));
    if let Some(mid) = offered.mid() {
        section.attributes.push(Attribute::Mid(mid.to_owned()));
    }
    section
}

/// ICE and DTLS attributes of a section's transport; the candidates only when the section
/// owns the transport (`with_candidates`).
fn write_transport(
    offer: &SessionDescription,
    offered: &MediaDescription,
    local: &LocalTransport,
    options: &AnswerOptions,
    with_candidates: bool,
    attributes: &mut Vec<Attribute>,
) {
    attributes.push(Attribute::IceUfrag(local.ice_ufrag.clone()));
    attributes.push(Attribute::IcePwd(local.ice_pwd.clone()));
    for fingerprint in &local.fingerprints {
        attributes.push(Attribute::Fingerprint(fingerprint.clone()));
    }
    let setup = local
        .established_setup
        .unwrap_or_else(|| answer_setup(offered_setup(offer, offered), options.prefer_passive));
    attributes.push(Attribute::Setup(setup));
    if let Some(tls_id) = &local.tls_id {
        attributes.push(Attribute::TlsId(tls_id.clone()));
    }
    if !with_candidates {
        return;
    }
    for candidate in &local.candidates {
        attributes.push(Attribute::Candidate(candidate.clone()));
    }
    if local.gathering_complete {
        attributes.push(Attribute::EndOfCandidates);
    }
}

/// `a=msid` for every stream of the sender (`-` when it has none), without appdata beyond the
/// track id (RFC 8830).
fn write_msid(sender: &LocalSender, attributes: &mut Vec<Attribute>) {
    let streams: Vec<&str> = if sender.stream_ids.is_empty() {
        vec!["-"]
    } else {
        sender.stream_ids.iter().map(String::as_str).collect()
    };
    for stream in streams {
        attributes.push(Attribute::Msid(sdp::Msid {
            stream_id: stream.to_owned(),
            track_id: Some(sender.track_id.clone()),
        }));
    }
}

/// `a=ssrc` (cname) for the media SSRC, and for the rtx SSRC with `a=ssrc-group:FID` when rtx
/// is negotiated; none with simulcast, where rids identify the streams.
fn write_ssrcs(sender: &LocalSender, rtx: bool, simulcast: bool, attributes: &mut Vec<Attribute>) {
    if simulcast {
        return;
    }
    let rtx_ssrc = sender.rtx_ssrc.filter(|_| rtx);
    if let Some(rtx_ssrc) = rtx_ssrc {
        attributes.push(Attribute::SsrcGroup(sdp::SsrcGroup {
            semantics: "FID".to_owned(),
            ssrcs: vec![sender.ssrc, rtx_ssrc],
        }));
    }
    for ssrc in std::iter::once(sender.ssrc).chain(rtx_ssrc) {
        attributes.push(Attribute::Ssrc(sdp::Ssrc {
            id: ssrc,
            attribute: "cname".into(),
            value: Some(sender.cname.clone()),
        }));
    }
}

/// The explanation of one section's decision. The codec verdicts and ignored formats move out
/// of `decision` (only the explanation reads them).
pub(crate) fn explain(
    offer: &SessionDescription,
    index: usize,
    decision: &mut Decision,
    transport: &SectionTransport,
) -> SectionExplanation {
    let offered = &offer.media[index];
    let outcome = match (&decision.verdict, transport) {
        (Verdict::Rejected(reason), _) | (_, SectionTransport::Rejected(reason)) => {
            SectionOutcome::Rejected(reason.clone())
        }
        (verdict, transport) => {
            let direction = match verdict {
                Verdict::Rtp { direction, .. } => *direction,
                _ => codec::Direction::SendRecv,
            };
            let bundled_into = match transport {
                SectionTransport::Bundled { tag, .. } => offer
                    .media
                    .get(*tag)
                    .and_then(|m| m.mid())
                    .map(str::to_owned),
                _ => None,
            };
            SectionOutcome::Accepted {
                direction,
                bundled_into,
            }
        }
    };
    SectionExplanation {
        index,
        mid: offered.mid().map(str::to_owned),
        kind: offered.kind.to_string(),
        outcome,
        codecs: decision.codecs.take(),
        ignored_formats: std::mem::take(&mut decision.ignored),
    }
}
