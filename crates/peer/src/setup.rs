//! Bringing a connection's transports up once negotiation completes: what is needed is
//! computed first ([`StartPlan`], [`RemoteTransport`], so that an unusable description is
//! refused with nothing changed), then the connection task starts DTLS and SCTP in the core,
//! which run over ICE's selected pair, and publishes what comes up.

use antiphon_dtls::{DtlsRole, Fingerprint};
use antiphon_ice::{Candidate, IceCredentials};

use crate::error::{Error, InvalidAccessReason};
use crate::negotiator::Negotiator;
use crate::sctp::SctpParameters;
use crate::transport::{describing_section, dtls_role, layout, remote_fingerprints, section_ufrag};

/// What starting one transport needs, computed before anything is started: a description
/// whose transport cannot be used (no usable fingerprint, conflicting `a=setup`) is refused
/// with nothing changed.
pub(crate) struct StartPlan {
    pub(crate) role: DtlsRole,
    pub(crate) remote_fingerprints: Vec<Fingerprint>,
    pub(crate) sctp: Option<SctpParameters>,
}

/// One transport the completed negotiation uses: the sections it carries and how to start it.
pub(crate) struct TransportPlan {
    /// Section indices, the one describing the transport in the answer first.
    pub(crate) sections: Vec<usize>,
    pub(crate) start: StartPlan,
}

/// Every transport the current descriptions negotiated (the answer's layout: one per BUNDLE
/// group it kept, one per other section it accepted), with its DTLS role and the remote
/// fingerprints; SCTP for the one carrying the data section. Empty unless both current
/// descriptions exist.
pub(crate) fn plan_transports(negotiator: &Negotiator) -> Result<Vec<TransportPlan>, Error> {
    let (Some(local), Some(remote), Some(answer)) = (
        negotiator.current_local_description(),
        negotiator.current_remote_description(),
        negotiator.current_answer(),
    ) else {
        return Ok(Vec::new());
    };
    let (local, remote) = (&local.parsed, &remote.parsed);
    let sctp = SctpParameters::negotiated(local, remote);
    let data = SctpParameters::data_section(remote);
    let mut plans = Vec::new();
    for sections in layout(answer) {
        // Each description describes its side of the transport in its own section. They
        // differ when the answerer rejected the offerer's tag: the answer's tag is then the
        // first section it accepted (RFC 8843 §7.3.1), while the offer's still carries the
        // offerer's transport attributes.
        let (Some(local_index), Some(remote_index)) = (
            describing_section(local, sections[0]),
            describing_section(remote, sections[0]),
        ) else {
            continue;
        };
        let start = StartPlan {
            role: dtls_role(local, local_index, remote, remote_index)?,
            remote_fingerprints: remote_fingerprints(remote, remote_index)?,
            sctp: sctp.filter(|_| data.is_some_and(|d| sections.contains(&d))),
        };
        plans.push(TransportPlan { sections, start });
    }
    Ok(plans)
}

/// The remote side of one transport, read from its description.
pub(crate) struct RemoteTransport {
    pub(crate) credentials: Option<IceCredentials>,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) end_of_candidates: bool,
}

impl RemoteTransport {
    /// Reads the section describing the transport that carries section `index` in `remote`;
    /// invalid credentials refuse the description. Empty when `remote` does not use it.
    pub(crate) fn read(
        remote: &antiphon_sdp::SessionDescription,
        index: usize,
    ) -> Result<Self, Error> {
        let Some(index) = describing_section(remote, index) else {
            return Ok(Self {
                credentials: None,
                candidates: Vec::new(),
                end_of_candidates: false,
            });
        };
        let section = &remote.media[index];
        let ufrag = section_ufrag(remote, index);
        let pwd = section.ice_pwd().or_else(|| remote.ice_pwd());
        let credentials = match (ufrag, pwd) {
            (Some(ufrag), Some(pwd)) => Some(IceCredentials::new(ufrag, pwd).map_err(|_| {
                Error::InvalidAccess(InvalidAccessReason::MissingIceCredentials { index })
            })?),
            _ => None,
        };
        Ok(Self {
            credentials,
            // Unusable candidates (TCP, mDNS names) are skipped: prflx discovery covers them.
            candidates: section
                .candidates()
                .filter_map(|value| Candidate::parse(value).ok())
                .collect(),
            end_of_candidates: section.has_end_of_candidates(),
        })
    }
}
