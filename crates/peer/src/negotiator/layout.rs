//! Which sections share a transport (RFC 9429 §5.2.1, §5.2.2, §5.3.1; RFC 8843): in our
//! offers, and in our answer to the pending remote offer.

use super::Negotiator;
use crate::answer::{self, AnswerContext};
use crate::configuration::RTCBundlePolicy;
use crate::description::RTCSdpType;
use crate::error::{Error, InvalidStateReason};

impl Negotiator {
    /// The answer of the last completed exchange (ours or the remote's): what it negotiated,
    /// its BUNDLE groups and transports. `None` before one completed.
    pub(crate) fn current_answer(&self) -> Option<&antiphon_sdp::SessionDescription> {
        let (local, remote) = (
            self.current_local.as_deref()?,
            self.current_remote.as_deref()?,
        );
        Some(if local.sdp_type == RTCSdpType::Offer {
            &remote.parsed
        } else {
            &local.parsed
        })
    }

    /// Which sections of an offer of `sections` share a transport (see
    /// [`create_offer_with`](Self::create_offer_with)): section index sets, rejected sections
    /// in none.
    pub(super) fn offer_transports(
        &self,
        sections: &[crate::offer::OfferSection],
    ) -> Vec<Vec<usize>> {
        use crate::offer::OfferSection;
        let live: Vec<usize> = (0..sections.len())
            .filter(|&i| !matches!(sections[i], OfferSection::Rejected { .. }))
            .collect();
        let Some(answer) = self.current_answer() else {
            return if self.options.bundle_policy == RTCBundlePolicy::MaxCompat {
                live.into_iter().map(|i| vec![i]).collect()
            } else if live.is_empty() {
                Vec::new()
            } else {
                vec![live]
            };
        };
        // The negotiated transports, as sections of this offer (a subsequent offer keeps the
        // negotiated sections in place, so their indices are the same).
        let mut sets: Vec<Vec<usize>> = crate::transport::layout(answer)
            .into_iter()
            .map(|set| set.into_iter().filter(|i| live.contains(i)).collect())
            .filter(|set: &Vec<usize>| !set.is_empty())
            .collect();
        let bundle = answer.bundle_groups().next().and_then(|group| {
            let tag = group.mids.iter().find_map(|mid| {
                answer
                    .media
                    .iter()
                    .position(|m| m.mid() == Some(mid.as_str()) && m.port != 0)
            })?;
            sets.iter().position(|set| set.contains(&tag))
        });
        for &index in &live {
            if sets.iter().any(|set| set.contains(&index)) {
                continue;
            }
            match bundle {
                Some(group) => sets[group].push(index),
                None => sets.push(vec![index]),
            }
        }
        sets
    }

    /// Every decision of the answer `createAnswer` would make now.
    pub(super) fn answer_plan(&self) -> Result<answer::AnswerPlan, Error> {
        self.ensure_open()?;
        let offer = match self.pending_remote.as_ref() {
            Some(offer) if self.signaling_state.can_create_answer() => offer,
            _ => {
                return Err(Error::InvalidState(InvalidStateReason::NoRemoteOffer {
                    state: self.signaling_state,
                }));
            }
        };
        let local_sections: Vec<_> = offer
            .parsed
            .media
            .iter()
            .map(|section| {
                self.transceiver_for(section)
                    .map(|t| t.local_section(&self.cname))
                    .unwrap_or_default()
            })
            .collect();
        let context = AnswerContext {
            offer: &offer.parsed,
            local_sections: &local_sections,
            capabilities: &self.capabilities,
            options: &self.options,
        };
        Ok(answer::plan_answer(&context))
    }

    /// The transports the answer to the pending remote offer needs: for each, the sections it
    /// carries (the owning one first). What the connection binds sockets for on a remote offer.
    pub(crate) fn answer_layout(&self) -> Result<Vec<Vec<usize>>, Error> {
        let plan = self.answer_plan()?;
        let bundle = plan.bundle();
        Ok(bundle
            .transports
            .iter()
            .enumerate()
            .map(|(k, &owner)| {
                let mut sections = vec![owner];
                sections.extend(
                    (0..bundle.sections.len())
                        .filter(|&i| i != owner && bundle.sections[i].transport() == Some(k)),
                );
                sections
            })
            .collect())
    }
}
