//! Trickle ICE of our own candidates (RFC 8838, W3C "surface the candidate"): descriptions are
//! created with the candidates found so far, and every candidate a transport finds later is
//! added to the section describing that transport in the local descriptions and reported as an
//! `icecandidate` event, then end-of-candidates once it has gathered everything.

use std::ops::Range;

use antiphon_ice::{Candidate, IceGatheringState};

use crate::events::{EventSender, PeerConnectionEvent, RTCIceCandidateInit};
use crate::negotiator::{AppliedDescription, Negotiator};
use crate::signaling::RTCSignalingState;

/// What one transport has gathered. The connection's `iceGatheringState` and the final
/// `null` candidate event are worked out over every transport (W3C) by the connection task.
#[derive(Debug)]
pub(crate) struct Gathering {
    /// This transport's gathering state.
    pub(crate) state: IceGatheringState,
    /// Every local candidate found (host, then server-reflexive as STUN servers answer).
    pub(crate) candidates: Vec<Candidate>,
}

impl Gathering {
    /// Gathering has started (the sockets are bound).
    pub(crate) fn new() -> Self {
        Self {
            state: IceGatheringState::Gathering,
            candidates: Vec::new(),
        }
    }

    /// The candidates as `a=candidate` values (without the `candidate:` prefix).
    pub(crate) fn attribute_values(&self) -> Vec<String> {
        self.candidates.iter().map(attribute_value).collect()
    }

    /// Records a candidate the agent found; `false` if it was known already.
    pub(crate) fn add(&mut self, candidate: Candidate) -> bool {
        if self.candidates.contains(&candidate) {
            return false;
        }
        self.candidates.push(candidate);
        true
    }

    /// Surfaces what the local descriptions lack for the transport carrying `sections`: each
    /// known candidate not in them is added to the section describing the transport there and
    /// reported (`icecandidate`), and once gathering is complete, `a=end-of-candidates`.
    /// Nothing happens before the first `setLocalDescription`: candidates found earlier are
    /// surfaced then, in the order found.
    pub(crate) fn surface(
        &self,
        negotiator: &mut Negotiator,
        sections: &[usize],
        events: &EventSender,
    ) {
        // No events after close(), and none before a local description exists.
        if negotiator.local_description().is_none()
            || negotiator.signaling_state() == RTCSignalingState::Closed
        {
            return;
        }
        for candidate in &self.candidates {
            let value = attribute_value(candidate);
            if let Some(init) = add_to_local_descriptions(negotiator, sections, Some(&value)) {
                events.send(PeerConnectionEvent::IceCandidate(Some(init)));
            }
        }
        if self.state == IceGatheringState::Complete {
            add_to_local_descriptions(negotiator, sections, None);
        }
    }
}

/// `candidate.to_string()` without its `candidate:` prefix: the `a=candidate` value.
fn attribute_value(candidate: &Candidate) -> String {
    let line = candidate.to_string();
    match line.strip_prefix("candidate:") {
        Some(value) => value.to_owned(),
        None => line,
    }
}

/// Adds `value` (`None`: end-of-candidates) to the pending and current local descriptions, in
/// the first of `sections` in use there (the one describing the transport); the trickle
/// message for it if a description lacked it.
fn add_to_local_descriptions(
    negotiator: &mut Negotiator,
    sections: &[usize],
    value: Option<&str>,
) -> Option<RTCIceCandidateInit> {
    let mut added = None;
    for description in negotiator.local_descriptions_mut() {
        let media = &description.parsed.media;
        let Some(index) = sections
            .iter()
            .copied()
            .find(|&i| media.get(i).is_some_and(|m| m.port != 0))
        else {
            continue;
        };
        if let Some(init) = add_candidate(description, index, value) {
            added = Some(init);
        }
    }
    added
}

/// Adds `a=candidate:<value>` (or `a=end-of-candidates` for `None`) to section `index` of
/// `description`, text and model alike: after its last candidate, else before its
/// end-of-candidates, else at the end of the section. The trickle message naming that section
/// if it was added; `None` if it was there already or there is no such section.
pub(crate) fn add_candidate(
    description: &mut AppliedDescription,
    index: usize,
    value: Option<&str>,
) -> Option<RTCIceCandidateInit> {
    use antiphon_sdp::Attribute;
    let section = description.parsed.media.get_mut(index)?;
    let present = match value {
        Some(value) => section.candidates().any(|c| c == value),
        None => section.has_end_of_candidates(),
    };
    if present {
        return None;
    }
    let range = section_range(&description.sdp, index)?;
    let text = &description.sdp[range.clone()];
    let (line, attribute) = match value {
        Some(value) => (
            format!("a=candidate:{value}\r\n"),
            Attribute::Candidate(value.to_owned()),
        ),
        None => (
            "a=end-of-candidates\r\n".to_owned(),
            Attribute::EndOfCandidates,
        ),
    };
    let offset = insertion_offset(text, value.is_some());
    let at = range.start + offset;
    let mut sdp = String::with_capacity(description.sdp.len() + line.len());
    sdp.push_str(&description.sdp[..at]);
    sdp.push_str(&line);
    sdp.push_str(&description.sdp[at..]);
    description.sdp = sdp.into();
    let attributes = &mut section.attributes;
    let position = match value {
        Some(_) => attributes
            .iter()
            .rposition(|a| matches!(a, Attribute::Candidate(_)))
            .map(|p| p + 1)
            .or_else(|| {
                attributes
                    .iter()
                    .position(|a| matches!(a, Attribute::EndOfCandidates))
            }),
        None => None,
    };
    attributes.insert(position.unwrap_or(attributes.len()), attribute);
    let mid = section.mid().map(str::to_owned);
    Some(RTCIceCandidateInit {
        candidate: value.map_or_else(String::new, |v| format!("candidate:{v}")),
        sdp_mid: mid,
        sdp_m_line_index: u16::try_from(index).ok(),
    })
}

/// The byte range of the `index`th `m=` section (its `m=` line to the next one or the end).
fn section_range(sdp: &str, index: usize) -> Option<Range<usize>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            starts.push(offset);
        }
        offset += line.len();
    }
    let start = *starts.get(index)?;
    Some(start..starts.get(index + 1).copied().unwrap_or(sdp.len()))
}

/// Where in a section's text a new line goes: a candidate after the last candidate line, else
/// before `a=end-of-candidates`; anything else (or with neither) at the end of the section.
fn insertion_offset(section: &str, candidate: bool) -> usize {
    // Sections we write end with CRLF: the end of the text is the start of a new line.
    if !candidate {
        return section.len();
    }
    let mut after_candidate = None;
    let mut before_end = None;
    let mut offset = 0;
    for line in section.split_inclusive('\n') {
        if line.starts_with("a=candidate:") {
            after_candidate = Some(offset + line.len());
        } else if line.trim_end() == "a=end-of-candidates" && before_end.is_none() {
            before_end = Some(offset);
        }
        offset += line.len();
    }
    after_candidate.or(before_end).unwrap_or(section.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::RTCSdpType;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0 1\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
        a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=rtpmap:111 opus/48000/2\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n";

    fn description() -> AppliedDescription {
        AppliedDescription {
            sdp_type: RTCSdpType::Offer,
            sdp: OFFER.into(),
            parsed: antiphon_sdp::parse(OFFER).expect("parses").description,
        }
    }

    #[test]
    fn a_trickled_candidate_follows_the_last_candidate_of_the_tag_section() {
        let mut d = description();
        let init = add_candidate(
            &mut d,
            0,
            Some("2 1 udp 1694498815 203.0.113.7 6000 typ srflx"),
        )
        .expect("added");
        assert_eq!(init.sdp_mid.as_deref(), Some("0"));
        assert_eq!(init.sdp_m_line_index, Some(0));
        assert!(init.candidate.starts_with("candidate:2 1 udp"));
        assert!(d.sdp.contains(
            "typ host\r\na=candidate:2 1 udp 1694498815 203.0.113.7 6000 typ srflx\r\na=rtpmap"
        ));
        assert_eq!(
            d.parsed,
            antiphon_sdp::parse(&d.sdp).expect("parses").description
        );
        assert!(
            add_candidate(
                &mut d,
                0,
                Some("2 1 udp 1694498815 203.0.113.7 6000 typ srflx")
            )
            .is_none(),
            "a candidate already there is not added twice"
        );
    }

    #[test]
    fn end_of_candidates_closes_the_tag_section_once() {
        let mut d = description();
        let init = add_candidate(&mut d, 0, None).expect("added");
        assert_eq!(init.candidate, "");
        assert!(
            d.sdp
                .contains("a=rtpmap:111 opus/48000/2\r\na=end-of-candidates\r\nm=application")
        );
        assert_eq!(
            d.parsed,
            antiphon_sdp::parse(&d.sdp).expect("parses").description
        );
        assert!(add_candidate(&mut d, 0, None).is_none());
        let init = add_candidate(&mut d, 0, Some("3 1 udp 1 127.0.0.1 7 typ host")).expect("added");
        assert_eq!(init.sdp_m_line_index, Some(0));
        assert!(
            d.sdp
                .contains("5000 typ host\r\na=candidate:3 1 udp 1 127.0.0.1 7 typ host\r\n")
        );
        assert_eq!(
            d.parsed,
            antiphon_sdp::parse(&d.sdp).expect("parses").description
        );
    }
}
