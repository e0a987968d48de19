//! Offer generation as a pure function (RFC 9429 §5.2.1): one m= section per transceiver (and
//! one for data channels), every codec and header extension we support in the transceiver's
//! direction with our preferred payload types and ids, all sections in one BUNDLE group, each
//! describing the transport the caller gives it, `a=setup:actpass`.

use antiphon_codec::{Capabilities, CodecCapability, MediaKind as CodecKind};
use antiphon_sdp::{self as sdp, Attribute, MediaDescription, MediaKind, SessionDescription};

use crate::answer::{LocalSection, LocalTransport, SessionOrigin};

/// One m= section of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferSection {
    /// An RTP section for a transceiver.
    Media {
        /// Its mid.
        mid: String,
        /// Audio or video.
        kind: CodecKind,
        /// The transceiver (direction, codec preferences, sender).
        local: LocalSection,
    },
    /// The SCTP data channel section.
    Data {
        /// Its mid.
        mid: String,
        /// Our `a=sctp-port`.
        sctp_port: u16,
        /// Our `a=max-message-size`.
        max_message_size: u64,
    },
    /// A negotiated section nothing uses any more (a stopped transceiver): JSEP 5.2.2 keeps it
    /// in place, rejected (port 0, its mid, outside BUNDLE), until new media recycles it.
    Rejected {
        /// Its mid.
        mid: String,
        /// The media type, protocol and formats of the section as negotiated.
        kind: MediaKind,
        /// The protocol as negotiated.
        proto: String,
        /// The formats as negotiated.
        formats: Vec<String>,
    },
}

impl OfferSection {
    /// Its mid.
    pub fn mid(&self) -> &str {
        match self {
            Self::Media { mid, .. } | Self::Data { mid, .. } | Self::Rejected { mid, .. } => mid,
        }
    }
}

/// Writes an offer for `sections`, all in one BUNDLE group; section `i` describes
/// `transports[i]` (the same transport for sections sharing one, a transport of its own for a
/// section that has one, as the `max-compat` policy offers).
/// A section without an entry in `transports` is left out.
pub fn create_offer(
    sections: &[OfferSection],
    capabilities: &Capabilities,
    transports: &[&LocalTransport],
    origin: SessionOrigin,
) -> SessionDescription {
    let mut description = SessionDescription::new(
        sdp::Origin {
            username: "-".into(),
            session_id: origin.session_id,
            session_version: origin.session_version,
            net_type: "IN".into(),
            addr_type: "IP4".into(),
            address: "0.0.0.0".into(),
        },
        "-".to_owned(),
    );
    let mids: Vec<String> = sections
        .iter()
        .filter(|s| !matches!(s, OfferSection::Rejected { .. }))
        .map(|s| s.mid().to_owned())
        .collect();
    if !mids.is_empty() {
        description.attributes.push(Attribute::Group(sdp::Group {
            semantics: "BUNDLE".to_owned(),
            mids,
        }));
    }
    description
        .attributes
        .push(Attribute::IceOptions(vec!["trickle".to_owned()]));
    description.attributes.push(Attribute::ExtmapAllowMixed);
    for (section, transport) in sections.iter().zip(transports) {
        description
            .media
            .push(offer_section(section, capabilities, transport));
    }
    description
}

fn offer_section(
    section: &OfferSection,
    capabilities: &Capabilities,
    transport: &LocalTransport,
) -> MediaDescription {
    if let OfferSection::Rejected {
        mid,
        kind,
        proto,
        formats,
    } = section
    {
        let mut media = MediaDescription::new(kind.clone(), 0, proto.clone(), formats.clone());
        media
            .connections
            .push(sdp::Connection::from_ip(std::net::IpAddr::from([
                0, 0, 0, 0,
            ])));
        media.attributes.push(Attribute::Mid(mid.clone()));
        return media;
    }
    let (port, address) = match transport.default_address {
        Some(address) => (address.port(), address.ip()),
        None => (9, std::net::IpAddr::from([0, 0, 0, 0])),
    };
    let (kind, proto, formats) = match section {
        OfferSection::Media { kind, local, .. } => {
            let codecs = offered_codecs(capabilities, *kind, local);
            let formats = codecs
                .iter()
                .filter_map(|c| c.preferred_payload_type)
                .map(|pt| pt.to_string())
                .collect();
            let kind = match kind {
                CodecKind::Audio => MediaKind::Audio,
                CodecKind::Video => MediaKind::Video,
            };
            (kind, "UDP/TLS/RTP/SAVPF", formats)
        }
        OfferSection::Data { .. } | OfferSection::Rejected { .. } => (
            MediaKind::Application,
            "UDP/DTLS/SCTP",
            vec!["webrtc-datachannel".to_owned()],
        ),
    };
    let mut media = MediaDescription::new(kind, port, proto.to_owned(), formats);
    media.connections.push(sdp::Connection::from_ip(address));
    let attributes = &mut media.attributes;
    attributes.push(Attribute::IceUfrag(transport.ice_ufrag.clone()));
    attributes.push(Attribute::IcePwd(transport.ice_pwd.clone()));
    for fingerprint in &transport.fingerprints {
        attributes.push(Attribute::Fingerprint(fingerprint.clone()));
    }
    attributes.push(Attribute::Setup(sdp::Setup::ActPass));
    for candidate in &transport.candidates {
        attributes.push(Attribute::Candidate(candidate.clone()));
    }
    if transport.gathering_complete {
        attributes.push(Attribute::EndOfCandidates);
    }
    match section {
        OfferSection::Media { mid, kind, local } => {
            attributes.push(Attribute::Mid(mid.clone()));
            for extension in &capabilities.of_kind(*kind).header_extensions {
                if let Some(id) = extension.preferred_id {
                    attributes.push(Attribute::Extmap(sdp::Extmap {
                        id: u16::from(id),
                        direction: None,
                        encrypt: false,
                        uri: extension.uri.clone(),
                        extension_attributes: None,
                    }));
                }
            }
            attributes.push(Attribute::Direction(local.direction));
            if let Some(sender) = local.sender.as_ref().filter(|_| local.direction.sends()) {
                for stream in sender
                    .stream_ids
                    .iter()
                    .map(String::as_str)
                    .chain(sender.stream_ids.is_empty().then_some("-"))
                {
                    attributes.push(Attribute::Msid(sdp::Msid {
                        stream_id: stream.to_owned(),
                        track_id: Some(sender.track_id.clone()),
                    }));
                }
            }
            attributes.push(Attribute::RtcpMux);
            attributes.push(Attribute::RtcpRsize);
            for capability in offered_codecs(capabilities, *kind, local) {
                let Some(payload_type) = capability.preferred_payload_type else {
                    continue;
                };
                attributes.push(Attribute::Rtpmap(sdp::Rtpmap {
                    payload_type,
                    encoding: capability.codec.name.clone(),
                    clock_rate: capability.codec.clock_rate,
                    channels: capability.codec.channels,
                }));
                for feedback in &capability.rtcp_feedback {
                    attributes.push(Attribute::RtcpFb(sdp::RtcpFb {
                        payload_type: Some(payload_type),
                        feedback: feedback.feedback_type.clone(),
                        param: feedback.parameter.clone(),
                    }));
                }
                if !capability.codec.fmtp.is_empty() {
                    attributes.push(Attribute::Fmtp(sdp::Fmtp {
                        payload_type,
                        params: capability.codec.fmtp.to_string(),
                    }));
                }
            }
            if let Some(sender) = local.sender.as_ref().filter(|_| local.direction.sends()) {
                attributes.push(Attribute::Ssrc(sdp::Ssrc {
                    id: sender.ssrc,
                    attribute: "cname".into(),
                    value: Some(sender.cname.clone()),
                }));
            }
        }
        OfferSection::Data {
            mid,
            sctp_port,
            max_message_size,
        } => {
            attributes.push(Attribute::Mid(mid.clone()));
            attributes.push(Attribute::SctpPort(*sctp_port));
            attributes.push(Attribute::MaxMessageSize(*max_message_size));
        }
        OfferSection::Rejected { .. } => {}
    }
    media
}

/// Our codecs for a transceiver: the ones usable in its direction, in preference order when
/// codec preferences are set (their rtx, red and FEC included only when listed, as
/// setCodecPreferences does).
fn offered_codecs<'a>(
    capabilities: &'a Capabilities,
    kind: CodecKind,
    local: &LocalSection,
) -> Vec<&'a CodecCapability> {
    let all = &capabilities.of_kind(kind).codecs;
    let usable: Vec<&CodecCapability> = all
        .iter()
        .filter(|c| c.direction.covers(local.direction))
        .collect();
    if local.codec_preferences.is_empty() {
        return usable;
    }
    local
        .codec_preferences
        .iter()
        .filter_map(|preferred| {
            usable
                .iter()
                .copied()
                .find(|c| c.codec.is_compatible_with(preferred))
        })
        .collect()
}
