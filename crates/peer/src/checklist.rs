//! Machine checks of an answer against its offer: the testable rules of
//! `JSEP-ANSWER-CHECKLIST.md` (RFC 9429 §5.3.1, §5.8.3; RFC 3264; RFC 8843; RFC 8853), each
//! reported with its rule number.
//!
//! Our own answers are checked with it in the tests; [`crate::RTCPeerConnection`] applies the
//! subset that makes a remote answer unusable (count, kind and proto of m= sections) when one
//! is set.

use std::fmt;

use antiphon_sdp::{Attribute, Direction, MediaDescription, SessionDescription, Setup};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule number in `JSEP-ANSWER-CHECKLIST.md`.
    pub rule: u16,
    /// The m= section, if the rule is about one.
    pub section: Option<usize>,
    /// What is wrong.
    pub detail: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}", self.rule)?;
        if let Some(section) = self.section {
            write!(f, " (m= section {section})")?;
        }
        write!(f, ": {}", self.detail)
    }
}

struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn require(&mut self, ok: bool, rule: u16, section: Option<usize>, detail: &'static str) {
        if !ok {
            self.violations.push(Violation {
                rule,
                section,
                detail,
            });
        }
    }
}

/// Checks `answer` against `offer`; an empty result means every checked rule holds.
pub fn check_answer(offer: &SessionDescription, answer: &SessionDescription) -> Vec<Violation> {
    let mut c = Checker {
        violations: Vec::new(),
    };
    check_session(offer, answer, &mut c);
    c.require(
        offer.media.len() == answer.media.len(),
        19,
        None,
        "the answer must have as many m= sections as the offer",
    );
    let bundled = bundled_non_tag_sections(answer);
    for (index, (offered, answered)) in offer.media.iter().zip(&answer.media).enumerate() {
        check_section(
            offer,
            offered,
            answer,
            answered,
            index,
            bundled[index].map(|tag| &answer.media[tag]),
            &mut c,
        );
    }
    check_bundle(offer, answer, &mut c);
    c.violations
}

fn check_session(offer: &SessionDescription, answer: &SessionDescription, c: &mut Checker) {
    c.require(answer.version == 0, 11, None, "v= must be 0");
    c.require(
        !answer.session_name.is_empty(),
        11,
        None,
        "s= must not be empty",
    );
    c.require(!answer.times.is_empty(), 11, None, "a t= line is required");
    c.require(
        answer.origin.username == "-" && answer.origin.session_id < (1 << 63) - 1,
        12,
        None,
        "o= username should be - and sess-id below 2^63-1",
    );
    c.require(
        answer.session_info.is_none()
            && answer.uri.is_none()
            && answer.emails.is_empty()
            && answer.phones.is_empty()
            && answer.encryption_key.is_none()
            && answer.media.iter().all(|m| m.encryption_key.is_none()),
        13,
        None,
        "no i=, u=, e=, p= or k= lines",
    );
    let offered_options = ice_options(offer);
    for option in ice_options(answer) {
        c.require(
            !(option == "trickle" || option == "ice2") || offered_options.contains(&option),
            14,
            None,
            "ice-options trickle/ice2 only when offered",
        );
    }
    let prohibited = all_attributes(answer).any(|a| match a {
        Attribute::IceLite => true,
        Attribute::Unknown { name, .. } => name == "crypto" || name == "key-mgmt",
        _ => false,
    });
    c.require(
        !prohibited,
        16,
        None,
        "no a=crypto, a=key-mgmt or a=ice-lite",
    );
}

fn check_section(
    offer: &SessionDescription,
    offered: &MediaDescription,
    answer: &SessionDescription,
    answered: &MediaDescription,
    index: usize,
    bundled_into: Option<&MediaDescription>,
    c: &mut Checker,
) {
    let at = Some(index);
    c.require(
        offered.kind == answered.kind && offered.proto == answered.proto,
        20,
        at,
        "media and proto must be copied from the offer",
    );
    if offered.port == 0 && !offered.is_bundle_only() {
        c.require(
            answered.port == 0,
            21,
            at,
            "a section the offerer rejected stays rejected",
        );
    }
    c.require(
        !answered.formats.is_empty(),
        25,
        at,
        "m= line needs at least one format",
    );
    if answered.port == 0 && bundled_into.is_none() {
        return;
    }
    c.require(
        !answered.connections.is_empty() || answer.connection.is_some(),
        26,
        at,
        "an accepted section needs a c= line",
    );
    c.require(
        answered.mid() == offered.mid(),
        39,
        at,
        "a=mid must be present iff offered, with the same value",
    );
    c.require(
        !answered.is_bundle_only(),
        47,
        at,
        "no a=bundle-only in an answer",
    );
    let rtp = offered.proto.contains("RTP");
    if rtp {
        check_rtp(offered, answered, index, c);
    } else if offered.proto.contains("SCTP") {
        match answered.sctpmap().map(|map| map.port) {
            // Pre-RFC 8841 `DTLS/SCTP <port>`: the fmt is the answerer's own SCTP port, the
            // one its a=sctpmap names (rule 62 as revised in docs/jsep-answer-rules.md).
            Some(port) => c.require(
                answered.formats == [port.to_string()],
                62,
                at,
                "a legacy data section's fmt is the port its a=sctpmap names",
            ),
            None => {
                c.require(
                    answered.formats == offered.formats,
                    62,
                    at,
                    "data section fmt copied from the offer",
                );
                c.require(
                    answered.sctp_port().is_some(),
                    62,
                    at,
                    "data section needs a=sctp-port",
                );
            }
        }
    }
    check_transport(offer, offered, answer, answered, index, bundled_into, c);
}

fn check_rtp(
    offered: &MediaDescription,
    answered: &MediaDescription,
    index: usize,
    c: &mut Checker,
) {
    let at = Some(index);
    c.require(
        answered.formats.iter().all(|f| offered.formats.contains(f)),
        31,
        at,
        "answered payload types must be offered ones",
    );
    for format in &answered.formats {
        let Ok(pt) = format.parse::<u8>() else {
            c.require(false, 32, at, "RTP formats are payload type numbers");
            continue;
        };
        let mapped = answered.rtpmaps().any(|m| m.payload_type == pt);
        c.require(
            mapped || pt < 35,
            32,
            at,
            "every dynamic payload type needs a=rtpmap",
        );
    }
    for map in answered.rtpmaps() {
        if !map.encoding.eq_ignore_ascii_case("rtx") {
            continue;
        }
        let apt = answered
            .fmtp(map.payload_type)
            .and_then(|f| {
                f.params
                    .split(';')
                    .find_map(|p| p.trim().strip_prefix("apt="))
            })
            .and_then(|apt| apt.parse::<u8>().ok());
        let ok = apt.is_some_and(|apt| answered.formats.iter().any(|f| f == &apt.to_string()));
        c.require(
            ok,
            34,
            at,
            "rtx apt must point to a payload type of the answer",
        );
    }
    let offered_direction = offered.direction().unwrap_or(Direction::SendRecv);
    let answered_direction = answered.direction().unwrap_or(Direction::SendRecv);
    let allowed = match offered_direction {
        Direction::SendRecv => true,
        Direction::SendOnly => matches!(
            answered_direction,
            Direction::RecvOnly | Direction::Inactive
        ),
        Direction::RecvOnly => matches!(
            answered_direction,
            Direction::SendOnly | Direction::Inactive
        ),
        Direction::Inactive => answered_direction == Direction::Inactive,
    };
    c.require(
        allowed,
        40,
        at,
        "direction must be the offered one reversed, or narrower",
    );
    let sends = matches!(
        answered_direction,
        Direction::SendRecv | Direction::SendOnly
    );
    let has_msid = answered
        .attributes
        .iter()
        .any(|a| matches!(a, Attribute::Msid(_)));
    c.require(
        !has_msid || sends,
        42,
        at,
        "a=msid only when the answer sends",
    );
    for extmap in answered.extmaps() {
        let offered_ext = offered
            .extmaps()
            .any(|o| o.id == extmap.id && o.uri == extmap.uri);
        c.require(
            offered_ext,
            43,
            at,
            "a=extmap only for offered extensions, with their ids",
        );
    }
    for fb in answered.rtcp_fbs() {
        let offered_fb = offered.rtcp_fbs().any(|o| {
            (o.payload_type == fb.payload_type || o.payload_type.is_none())
                && o.feedback.eq_ignore_ascii_case(&fb.feedback)
                && o.param == fb.param
        });
        c.require(offered_fb, 44, at, "a=rtcp-fb only for offered mechanisms");
    }
    let has =
        |section: &MediaDescription, f: fn(&Attribute) -> bool| section.attributes.iter().any(f);
    c.require(
        !has(answered, |a| matches!(a, Attribute::RtcpRsize))
            || has(offered, |a| matches!(a, Attribute::RtcpRsize)),
        45,
        at,
        "a=rtcp-rsize only if offered",
    );
    c.require(
        answered.has_rtcp_mux() == offered.has_rtcp_mux(),
        46,
        at,
        "a=rtcp-mux iff offered",
    );
    let simulcasts = answered
        .attributes
        .iter()
        .filter(|a| matches!(a, Attribute::Simulcast(_)))
        .count();
    c.require(simulcasts <= 1, 68, at, "at most one a=simulcast");
}

#[allow(clippy::too_many_arguments)]
fn check_transport(
    offer: &SessionDescription,
    offered: &MediaDescription,
    answer: &SessionDescription,
    answered: &MediaDescription,
    index: usize,
    bundled_into: Option<&MediaDescription>,
    c: &mut Checker,
) {
    let at = Some(index);
    if let Some(tag) = bundled_into {
        // Revised rule 48 (docs/jsep-answer-rules.md): a section bundled into another repeats
        // the tag's ICE and DTLS attributes, as Chromium and Firefox write them (Firefox and
        // aiortc refuse a bundled section without them), or carries none; never others, and
        // never candidates of its own.
        let transport = |m: &'_ MediaDescription| -> Vec<Attribute> {
            m.attributes
                .iter()
                .filter(|a| {
                    matches!(
                        a,
                        Attribute::IceUfrag(_)
                            | Attribute::IcePwd(_)
                            | Attribute::Fingerprint(_)
                            | Attribute::Setup(_)
                            | Attribute::TlsId(_)
                    )
                })
                .cloned()
                .collect()
        };
        let own = transport(answered);
        c.require(
            own.is_empty() || own == transport(tag),
            48,
            at,
            "a bundled section repeats the tag's transport attributes or carries none",
        );
        c.require(
            !answered
                .attributes
                .iter()
                .any(|a| matches!(a, Attribute::Candidate(_) | Attribute::EndOfCandidates)),
            55,
            at,
            "a section bundled into another carries no candidates",
        );
        return;
    }
    let ufrag = answered.ice_ufrag().or_else(|| answer.ice_ufrag());
    let pwd = answered.ice_pwd().or_else(|| answer.ice_pwd());
    c.require(
        ufrag.is_some() && pwd.is_some(),
        48,
        at,
        "ICE ufrag and pwd are required",
    );
    let ice_chars = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    c.require(
        ufrag.is_none_or(|u| (4..=256).contains(&u.len()) && ice_chars(u)),
        50,
        at,
        "ufrag must be 4..=256 ice-chars",
    );
    c.require(
        pwd.is_none_or(|p| (22..=256).contains(&p.len()) && ice_chars(p)),
        50,
        at,
        "pwd must be 22..=256 ice-chars",
    );
    let fingerprints: Vec<_> = answered
        .fingerprints()
        .chain(answer.fingerprints())
        .collect();
    c.require(
        !fingerprints.is_empty(),
        51,
        at,
        "at least one a=fingerprint",
    );
    c.require(
        fingerprints.iter().all(|f| {
            !f.algorithm.eq_ignore_ascii_case("md5") && !f.algorithm.eq_ignore_ascii_case("md2")
        }),
        51,
        at,
        "no md5/md2 fingerprints",
    );
    let setup = answered.setup().or_else(|| answer.setup());
    c.require(
        matches!(setup, Some(Setup::Active | Setup::Passive)),
        52,
        at,
        "a=setup must be active or passive",
    );
    let offered_setup = offered.setup().or_else(|| offer.setup());
    let consistent = match (offered_setup, setup) {
        (Some(Setup::Active), Some(answered)) => answered == Setup::Passive,
        (Some(Setup::Passive), Some(answered)) => answered == Setup::Active,
        _ => true,
    };
    c.require(
        consistent,
        53,
        at,
        "a=setup must complement the offered role",
    );
}

fn check_bundle(offer: &SessionDescription, answer: &SessionDescription, c: &mut Checker) {
    let offered_groups: Vec<_> = offer.bundle_groups().collect();
    for group in answer.bundle_groups() {
        let origin = offered_groups
            .iter()
            .find(|offered| group.mids.iter().all(|mid| offered.mids.contains(mid)));
        c.require(
            origin.is_some(),
            57,
            None,
            "an answer BUNDLE group must be a subset of an offered group",
        );
        let Some(origin) = origin else { continue };
        let accepted_mids: Vec<&String> = origin
            .mids
            .iter()
            .filter(|mid| {
                answer
                    .media
                    .iter()
                    .any(|m| m.mid() == Some(mid.as_str()) && m.port != 0)
            })
            .collect();
        c.require(
            accepted_mids.iter().all(|mid| group.mids.contains(mid)),
            56,
            None,
            "an answer BUNDLE group lists every accepted mid of its offered group",
        );
        for mid in &group.mids {
            let section = answer.media.iter().find(|m| m.mid() == Some(mid.as_str()));
            c.require(
                section.is_some_and(|s| s.port != 0),
                60,
                None,
                "sections in an answer BUNDLE group are not port 0",
            );
        }
    }
    if offered_groups.is_empty() {
        c.require(
            answer.bundle_groups().next().is_none(),
            57,
            None,
            "no BUNDLE group that was not offered",
        );
    }
}

/// For each answer section bundled into another section of an answer BUNDLE group (not the
/// group's first, tagged, mid): the index of the tagged section.
fn bundled_non_tag_sections(answer: &SessionDescription) -> Vec<Option<usize>> {
    let mut bundled = vec![None; answer.media.len()];
    for group in answer.bundle_groups() {
        let position = |mid: &str| answer.media.iter().position(|m| m.mid() == Some(mid));
        let Some(tag) = group.mids.first().and_then(|mid| position(mid)) else {
            continue;
        };
        for mid in group.mids.iter().skip(1) {
            if let Some(index) = answer
                .media
                .iter()
                .position(|m| m.mid() == Some(mid.as_str()))
            {
                bundled[index] = Some(tag);
            }
        }
    }
    bundled
}

fn all_attributes(description: &SessionDescription) -> impl Iterator<Item = &Attribute> {
    description
        .attributes
        .iter()
        .chain(description.media.iter().flat_map(|m| m.attributes.iter()))
}

fn ice_options(description: &SessionDescription) -> Vec<&str> {
    all_attributes(description)
        .filter_map(|a| match a {
            Attribute::IceOptions(options) => Some(options.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect()
}
