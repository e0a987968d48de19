//! BUNDLE in the answer (RFC 9429 §5.3.1; RFC 8843 §7.3 as revised by RFC 9143): which offered
//! sections share a transport, which section's transport attributes they use, and which
//! sections the bundle policy forces us to reject.
//!
//! [`plan`] is pure: it sees the offer, the per-section rejections decided before BUNDLE is
//! considered, and the policy, and returns a [`BundlePlan`] the answer writer follows.

use antiphon_sdp::{MediaDescription, SessionDescription};

use crate::answer::RejectReason;
use crate::policy::RTCBundlePolicy;

/// How one offered section is carried in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionTransport {
    /// The section has its own transport (ICE/DTLS attributes in its m= section).
    Own {
        /// Index of the transport in [`BundlePlan::transports`].
        transport: usize,
    },
    /// The section is bundled and uses the transport of another section (it carries no
    /// transport attributes).
    Bundled {
        /// Index of the transport in [`BundlePlan::transports`].
        transport: usize,
        /// Index of the section that carries the transport (the BUNDLE tag).
        tag: usize,
    },
    /// The section is rejected (port 0).
    Rejected(RejectReason),
}

impl SectionTransport {
    /// The transport index, unless rejected.
    pub fn transport(&self) -> Option<usize> {
        match self {
            Self::Own { transport } | Self::Bundled { transport, .. } => Some(*transport),
            Self::Rejected(_) => None,
        }
    }
}

/// One answered BUNDLE group: section indices, the answerer-tagged (transport) section first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredGroup {
    /// Section indices in the group, tag first, then the others in offer order.
    pub sections: Vec<usize>,
    /// The section the offerer tagged, when we rejected it and the first section we accept
    /// took its place as the tag; `None` when the answer keeps the offerer's tag.
    pub offerer_tag: Option<usize>,
}

/// The transport layout of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePlan {
    /// One entry per offered m= section.
    pub sections: Vec<SectionTransport>,
    /// The sections that own a transport, in offer order; transport `k` belongs to
    /// `transports[k]`.
    pub transports: Vec<usize>,
    /// The BUNDLE groups of the answer, one per offered BUNDLE group that kept a section.
    pub groups: Vec<AnsweredGroup>,
}

/// Plans the answer's transports.
///
/// `pre_rejected[i]` is the reason section `i` is rejected for reasons of its own (offered with
/// port 0, stopped transceiver, nothing in common, ...), `None` if it is acceptable on its own.
pub(crate) fn plan(
    offer: &SessionDescription,
    pre_rejected: &[Option<RejectReason>],
    policy: RTCBundlePolicy,
) -> BundlePlan {
    let count = offer.media.len();
    let mut decided: Vec<Option<SectionTransport>> = vec![None; count];
    for (index, reason) in pre_rejected.iter().enumerate().take(count) {
        if let Some(reason) = reason {
            decided[index] = Some(SectionTransport::Rejected(reason.clone()));
        }
    }

    // Offered BUNDLE groups, as section indices. A section named by an earlier group is not
    // taken again (a mid in two BUNDLE groups is invalid; the first group wins).
    let mut grouped = vec![false; count];
    let mut offered_groups: Vec<Vec<usize>> = Vec::new();
    let mids = section_mids(offer);
    for group in offer.bundle_groups() {
        let mut sections = Vec::new();
        for mid in &group.mids {
            if let Some(index) = section_with_mid(&mids, mid)
                && !grouped[index]
            {
                grouped[index] = true;
                sections.push(index);
            }
        }
        if !sections.is_empty() {
            offered_groups.push(sections);
        }
    }

    let mut groups = Vec::new();
    let mut tags_by_section: Vec<Option<usize>> = vec![None; count];
    for sections in offered_groups {
        // The offerer-tagged section is the first listed section the offerer did not reject.
        // When we reject it for reasons of its own (an unsupported media type, say), the next
        // section we accept takes its place (RFC 8843 §7.3.1: the answerer-tagged section is
        // the first accepted one; libwebrtc and Firefox answer so): rejecting the whole group,
        // as a literal reading of RFC 9429 §5.3.1 would, loses every section for one we cannot
        // use.
        let offerer_tag = sections.iter().copied().find(|&index| {
            !matches!(
                decided[index],
                Some(SectionTransport::Rejected(RejectReason::RejectedByOfferer))
            )
        });
        let Some(tag) = sections
            .iter()
            .copied()
            .find(|&index| decided[index].is_none())
        else {
            continue;
        };
        let mut members = vec![tag];
        members.extend(
            sections
                .iter()
                .copied()
                .filter(|&index| index != tag && decided[index].is_none()),
        );
        for &index in &members {
            tags_by_section[index] = Some(tag);
        }
        groups.push(AnsweredGroup {
            sections: members,
            offerer_tag: offerer_tag.filter(|&offered| offered != tag),
        });
    }

    // Sections outside every group: the policy may force rejection.
    let first_accepted = (0..count).find(|&i| decided[i].is_none());
    for index in 0..count {
        if decided[index].is_some() || tags_by_section[index].is_some() {
            continue;
        }
        let rejected = match policy {
            RTCBundlePolicy::MaxCompat => false,
            // Grouped sections were skipped above, so an ungrouped section other than the
            // first is neither the first nor bundled with it.
            RTCBundlePolicy::MaxBundle => first_accepted.is_some_and(|first| first != index),
            RTCBundlePolicy::Balanced => {
                let kind = &offer.media[index].kind;
                let first_of_kind =
                    (0..count).find(|&i| decided[i].is_none() && &offer.media[i].kind == kind);
                first_of_kind.is_some_and(|first| first != index)
            }
        };
        if rejected {
            decided[index] = Some(SectionTransport::Rejected(RejectReason::BundlePolicy(
                policy,
            )));
        }
    }

    // Number the transports in offer order of their owning sections.
    let mut transports = Vec::new();
    let mut transport_of_owner: Vec<Option<usize>> = vec![None; count];
    for index in 0..count {
        let owns = match tags_by_section[index] {
            Some(tag) => tag == index,
            None => decided[index].is_none(),
        };
        if owns {
            transport_of_owner[index] = Some(transports.len());
            transports.push(index);
        }
    }
    let sections = (0..count)
        .map(|index| {
            if let Some(decision) = decided[index].take() {
                return decision;
            }
            match tags_by_section[index] {
                Some(tag) if tag != index => SectionTransport::Bundled {
                    transport: transport_of_owner[tag].unwrap_or_default(),
                    tag,
                },
                _ => SectionTransport::Own {
                    transport: transport_of_owner[index].unwrap_or_default(),
                },
            }
        })
        .collect();
    BundlePlan {
        sections,
        transports,
        groups,
    }
}

/// For every offered section, the index of the offered BUNDLE group that names it (in
/// [`SessionDescription::bundle_groups`] order; a mid named twice belongs to its first group).
pub(crate) fn group_of_sections(offer: &SessionDescription) -> Vec<Option<usize>> {
    let mids = section_mids(offer);
    let mut group_of = vec![None; offer.media.len()];
    for (group, offered) in offer.bundle_groups().enumerate() {
        for mid in &offered.mids {
            if let Some(index) = section_with_mid(&mids, mid)
                && group_of[index].is_none()
            {
                group_of[index] = Some(group);
            }
        }
    }
    group_of
}

/// The `a=mid` of every section, read once (looking each BUNDLE mid up by scanning every
/// section's attributes was quadratic in the number of sections).
pub(crate) fn section_mids(offer: &SessionDescription) -> Vec<Option<&str>> {
    offer.media.iter().map(MediaDescription::mid).collect()
}

/// The first section whose mid is `mid`.
pub(crate) fn section_with_mid(mids: &[Option<&str>], mid: &str) -> Option<usize> {
    mids.iter().position(|m| *m == Some(mid))
}
