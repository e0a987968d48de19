//! Answer generation as a pure function (RFC 9429 §5.3.1, §5.3.2).
//!
//! `offer + local state -> answer + explanation`, with no sockets, no clock and no randomness:
//! everything random or stateful (ICE credentials, candidates, certificate fingerprints,
//! session id, SSRCs) comes in through [`AnswerContext`]. [`crate::RTCPeerConnection`] gathers
//! those and calls [`create_answer`]; tests, fuzzers and benchmarks call it directly.
//!
//! It works in two steps, so a caller can size its transports before writing:
//! [`plan_answer`] decides every section (accepted or why not, codecs, BUNDLE layout), and
//! [`AnswerPlan::write`] writes the SDP with one [`LocalTransport`] per planned transport.

mod bundle;
mod explain;
mod rtp;
mod section;
mod simulcast;

use std::net::SocketAddr;

use antiphon_codec::{self as codec, Capabilities, Codec};
use antiphon_sdp::{self as sdp, Attribute, SessionDescription};

pub use bundle::{AnsweredGroup, BundlePlan, SectionTransport};
pub use explain::{AnswerExplanation, RejectReason, SectionExplanation, SectionOutcome};
pub use rtp::IgnoredFormat;

use crate::policy::{RTCBundlePolicy, RTCRtcpMuxPolicy};

/// The local side of one offered m= section: the transceiver JSEP associated with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSection {
    /// The transceiver's direction (a transceiver created by the remote offer is `recvonly`).
    pub direction: codec::Direction,
    /// The transceiver is stopped: the section is rejected.
    pub stopped: bool,
    /// `setCodecPreferences`: when not empty, the answer's codecs in this order.
    pub codec_preferences: Vec<Codec>,
    /// What we send, when the transceiver has a track.
    pub sender: Option<LocalSender>,
}

impl Default for LocalSection {
    fn default() -> Self {
        Self {
            direction: codec::Direction::RecvOnly,
            stopped: false,
            codec_preferences: Vec::new(),
            sender: None,
        }
    }
}

/// The sending side of a transceiver, as the answer describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSender {
    /// MediaStream ids (`a=msid:<stream> <track>` for each; `-` when empty).
    pub stream_ids: Vec<String>,
    /// The track id.
    pub track_id: String,
    /// The RTCP CNAME.
    pub cname: String,
    /// The media SSRC.
    pub ssrc: u32,
    /// The retransmission SSRC, announced with `a=ssrc-group:FID` when rtx is negotiated.
    pub rtx_ssrc: Option<u32>,
    /// The rids of the send encodings; `None` = a single unnamed encoding.
    pub rids: Option<Vec<String>>,
}

/// The ICE and DTLS side of one local transport. The [`Default`] has no credentials, candidates
/// or fingerprints: a base to set fields on, or what a rejected section (which describes no
/// transport) is written with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalTransport {
    /// `a=ice-ufrag`.
    pub ice_ufrag: String,
    /// `a=ice-pwd`.
    pub ice_pwd: String,
    /// `a=candidate` values gathered so far (the text after `a=candidate:`).
    pub candidates: Vec<String>,
    /// Gathering is complete: `a=end-of-candidates` is written.
    pub gathering_complete: bool,
    /// The default candidate's address for the m= and c= lines; `None` before gathering
    /// (port 9, `IN IP4 0.0.0.0`).
    pub default_address: Option<SocketAddr>,
    /// `a=fingerprint` for every certificate in use.
    pub fingerprints: Vec<sdp::Fingerprint>,
    /// `a=tls-id`, when used.
    pub tls_id: Option<String>,
    /// The DTLS role of an existing association on this transport, kept in subsequent answers
    /// (RFC 9429 §5.3.2).
    pub established_setup: Option<sdp::Setup>,
}

#[cfg(feature = "runtime")]
impl LocalTransport {
    /// A transport before gathering: credentials and the sha-256 fingerprint of `certificate`
    /// (what browsers announce), no candidates yet.
    pub fn new(
        ice_ufrag: impl Into<String>,
        ice_pwd: impl Into<String>,
        certificate: &antiphon_dtls::Certificate,
    ) -> Self {
        Self {
            ice_ufrag: ice_ufrag.into(),
            ice_pwd: ice_pwd.into(),
            candidates: Vec::new(),
            gathering_complete: false,
            default_address: None,
            fingerprints: vec![sdp::Fingerprint::from(
                &certificate.fingerprint(antiphon_dtls::HashAlgorithm::Sha256),
            )],
            tls_id: None,
            established_setup: None,
        }
    }
}

/// Answer-wide options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnswerOptions {
    /// The bundle policy.
    pub bundle_policy: RTCBundlePolicy,
    /// The RTCP mux policy.
    pub rtcp_mux_policy: RTCRtcpMuxPolicy,
    /// Answer `a=setup:actpass` with `passive` instead of the recommended `active`.
    pub prefer_passive: bool,
    /// Our `a=sctp-port`.
    pub sctp_port: u16,
    /// Our `a=max-message-size`.
    pub max_message_size: u64,
    /// Accept simulcast the offerer sends (answer `a=simulcast:recv` with its rids); when false
    /// the offerer falls back to one encoding (RFC 9429 §3.7).
    pub accept_simulcast_receive: bool,
}

/// Builders: `AnswerOptions::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl AnswerOptions {
    /// The same, with [`bundle_policy`](Self::bundle_policy) set.
    #[must_use]
    pub fn with_bundle_policy(mut self, bundle_policy: RTCBundlePolicy) -> Self {
        self.bundle_policy = bundle_policy;
        self
    }

    /// The same, with [`rtcp_mux_policy`](Self::rtcp_mux_policy) set.
    #[must_use]
    pub fn with_rtcp_mux_policy(mut self, rtcp_mux_policy: RTCRtcpMuxPolicy) -> Self {
        self.rtcp_mux_policy = rtcp_mux_policy;
        self
    }

    /// The same, with [`prefer_passive`](Self::prefer_passive) set.
    #[must_use]
    pub fn with_prefer_passive(mut self, prefer_passive: bool) -> Self {
        self.prefer_passive = prefer_passive;
        self
    }

    /// The same, with [`sctp_port`](Self::sctp_port) set.
    #[must_use]
    pub fn with_sctp_port(mut self, sctp_port: u16) -> Self {
        self.sctp_port = sctp_port;
        self
    }

    /// The same, with [`max_message_size`](Self::max_message_size) set.
    #[must_use]
    pub fn with_max_message_size(mut self, max_message_size: u64) -> Self {
        self.max_message_size = max_message_size;
        self
    }

    /// The same, with [`accept_simulcast_receive`](Self::accept_simulcast_receive) set.
    #[must_use]
    pub fn with_accept_simulcast_receive(mut self, accept_simulcast_receive: bool) -> Self {
        self.accept_simulcast_receive = accept_simulcast_receive;
        self
    }
}

impl Default for AnswerOptions {
    fn default() -> Self {
        Self {
            bundle_policy: RTCBundlePolicy::default(),
            rtcp_mux_policy: RTCRtcpMuxPolicy::default(),
            prefer_passive: false,
            sctp_port: 5000,
            max_message_size: 262_144,
            accept_simulcast_receive: true,
        }
    }
}

/// The `o=` line identity of our descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOrigin {
    /// `<sess-id>`, below 2^63.
    pub session_id: u64,
    /// `<sess-version>`, increased whenever a new description differs.
    pub session_version: u64,
}

/// Everything an answer depends on.
#[derive(Debug, Clone, Copy)]
pub struct AnswerContext<'a> {
    /// The remote offer.
    pub offer: &'a SessionDescription,
    /// The local transceiver of each offered section, index-aligned; missing entries are a
    /// default [`LocalSection`] (a new `recvonly` transceiver).
    pub local_sections: &'a [LocalSection],
    /// What we can send and receive.
    pub capabilities: &'a Capabilities,
    /// Answer-wide options.
    pub options: &'a AnswerOptions,
}

/// The answer, its transport layout, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer SDP.
    pub description: SessionDescription,
    /// Which section uses which transport.
    pub bundle: BundlePlan,
    /// Why each section was answered as it was.
    pub explanation: AnswerExplanation,
}

/// Why no answer could be written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerError {
    /// Fewer local transports were given than the plan needs.
    NotEnoughTransports {
        /// Transports the plan needs.
        needed: usize,
        /// Transports given.
        given: usize,
    },
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotEnoughTransports { needed, given } => write!(
                f,
                "the answer needs {needed} transports but {given} were given"
            ),
        }
    }
}

impl std::error::Error for AnswerError {}

/// Every decision of an answer, before any transport is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerPlan {
    sections: Vec<section::Decision>,
    bundle: BundlePlan,
    explanation: AnswerExplanation,
    session_attributes: Vec<Attribute>,
}

impl AnswerPlan {
    /// How many local transports [`AnswerPlan::write`] needs.
    pub fn transports_needed(&self) -> usize {
        self.bundle.transports.len()
    }

    /// The transport layout.
    pub fn bundle(&self) -> &BundlePlan {
        &self.bundle
    }

    /// The explanation of every decision.
    pub fn explanation(&self) -> &AnswerExplanation {
        &self.explanation
    }

    /// Writes the answer with `transports[k]` as the k-th planned transport.
    pub fn write(
        &self,
        offer: &SessionDescription,
        transports: &[LocalTransport],
        origin: SessionOrigin,
        options: &AnswerOptions,
    ) -> Result<Answer, AnswerError> {
        self.clone().into_answer(offer, transports, origin, options)
    }

    /// [`AnswerPlan::write`], consuming the plan: the negotiated codecs and extensions move into
    /// the answer's attributes, and the BUNDLE layout and the explanation into the [`Answer`],
    /// instead of being copied.
    pub fn into_answer(
        self,
        offer: &SessionDescription,
        transports: &[LocalTransport],
        origin: SessionOrigin,
        options: &AnswerOptions,
    ) -> Result<Answer, AnswerError> {
        if transports.len() < self.transports_needed() {
            return Err(AnswerError::NotEnoughTransports {
                needed: self.transports_needed(),
                given: transports.len(),
            });
        }
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
        description
            .attributes
            .reserve(self.bundle.groups.len() + self.session_attributes.len());
        for group in &self.bundle.groups {
            let mids = group
                .sections
                .iter()
                .filter_map(|&index| offer.media.get(index).and_then(|m| m.mid()))
                .map(str::to_owned)
                .collect();
            description.attributes.push(Attribute::Group(sdp::Group {
                semantics: "BUNDLE".to_owned(),
                mids,
            }));
        }
        description.attributes.extend(self.session_attributes);
        description.media.reserve(self.sections.len());
        for ((decision, transport), offered) in self
            .sections
            .into_iter()
            .zip(&self.bundle.sections)
            .zip(&offer.media)
        {
            description.media.push(section::write(
                offered, offer, decision, transport, transports, options,
            ));
        }
        Ok(Answer {
            description,
            bundle: self.bundle,
            explanation: self.explanation,
        })
    }
}

/// Decides every section of the answer to `context.offer`.
pub fn plan_answer(context: &AnswerContext<'_>) -> AnswerPlan {
    let offer = context.offer;
    let default_local = LocalSection::default();
    let membership = section::bundle_membership(offer);
    let group_of = bundle::group_of_sections(offer);
    // Per offered BUNDLE group: the header extension ids its accepted sections use so far.
    let mut bound_ids: Vec<Vec<(u16, std::borrow::Cow<'static, str>)>> =
        vec![Vec::new(); offer.bundle_groups().count()];
    let mut decisions = Vec::with_capacity(offer.media.len());
    let mut data_section_taken = false;
    for (index, offered) in offer.media.iter().enumerate() {
        let local = context.local_sections.get(index).unwrap_or(&default_local);
        let mut decision = section::examine(
            offer,
            offered,
            local,
            context.capabilities,
            context.options,
            membership[index],
            group_of[index].and_then(|g| bound_ids.get_mut(g)),
        );
        if let section::Verdict::Data { .. } = decision.verdict {
            if data_section_taken {
                decision.verdict = section::Verdict::Rejected(RejectReason::DuplicateDataSection);
            }
            data_section_taken = true;
        }
        decisions.push(decision);
    }
    let pre_rejected: Vec<Option<RejectReason>> = decisions
        .iter()
        .map(|d| match &d.verdict {
            section::Verdict::Rejected(reason) => Some(reason.clone()),
            _ => None,
        })
        .collect();
    let bundle = bundle::plan(offer, &pre_rejected, context.options.bundle_policy);
    let explanation = AnswerExplanation {
        sections: decisions
            .iter_mut()
            .enumerate()
            .map(|(index, decision)| {
                section::explain(offer, index, decision, &bundle.sections[index])
            })
            .collect(),
    };
    AnswerPlan {
        sections: decisions,
        bundle,
        explanation,
        session_attributes: section::session_attributes(offer),
    }
}

/// Plans and writes an answer in one call.
pub fn create_answer(
    context: &AnswerContext<'_>,
    transports: &[LocalTransport],
    origin: SessionOrigin,
) -> Result<Answer, AnswerError> {
    plan_answer(context).into_answer(context.offer, transports, origin, context.options)
}
