//! The signaling operations as they run on the connection task: create and apply
//! descriptions, take trickled candidates, and keep the negotiation-needed flag.

use std::time::Instant;

use antiphon_ice::{Candidate, IceCredentials, IceRole};

use antiphon_dtls::Certificate;
use antiphon_sdp::SessionDescription;

use super::ice::GatherServers;
use super::network::{Network, PathSockets};
use super::task::PeerTask;
use super::transports::TransportPath;
use crate::answer::LocalTransport;
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::error::{
    Error, InvalidAccessReason, InvalidStateReason, OperationReason, TypeErrorReason,
};
use crate::events::{PeerConnectionEvent, RTCIceCandidateInit, RTCTrackEvent};
use crate::negotiator::Applied;
use crate::setup::{RemoteTransport, TransportPlan, plan_transports};
use crate::signaling::{RTCSignalingState, Side};
use crate::transport::{describing_section, section_ufrag};

/// The remote side of the transport carrying these sections.
type RemoteSide = (Vec<usize>, RemoteTransport);

impl<N: Network> PeerTask<N> {
    /// `createOffer()` (also the implicit `setLocalDescription`'s): the transports the offer
    /// needs are bound first (one for all sections, or one each under `max-compat`).
    pub(crate) fn create_offer(
        &mut self,
        now: Instant,
        servers: &GatherServers,
    ) -> Result<RTCSessionDescriptionInit, Error> {
        self.negotiator.signaling_state_allows_offer()?;
        let sets = self.negotiator.offer_layout()?;
        self.ensure_paths(now, &sets, IceRole::Controlling, servers)?;
        if self.negotiator.current_remote_description().is_none() {
            // Nothing to restart yet: the first offer has fresh credentials anyway.
            self.restart_ice = false;
        } else if self.restart_ice {
            // RFC 8445 §9: the offer carries new credentials; the live agents keep their own
            // until the offer is applied, so an offer that never is changes nothing.
            for index in 0..self.paths.len() {
                if self.paths[index].restart.is_none() {
                    let credentials = self.fresh_credentials();
                    self.paths[index].restart = Some(credentials);
                }
            }
        }
        let fallback = self.fresh_credentials();
        let PeerTask {
            negotiator,
            paths,
            certificate,
            ..
        } = self;
        negotiator
            .create_offer_with(|set| local_transport(paths, certificate, set, true, &fallback))
    }

    /// `createAnswer()` (also the implicit `setLocalDescription`'s): each transport the answer
    /// describes is the one bound for its sections when the offer was applied (one is bound
    /// now if a transceiver change since then needs another).
    pub(crate) fn create_answer(
        &mut self,
        now: Instant,
        servers: &GatherServers,
    ) -> Result<RTCSessionDescriptionInit, Error> {
        let sets = self.negotiator.answer_layout()?;
        self.ensure_paths(now, &sets, IceRole::Controlled, servers)?;
        let fallback = self.fresh_credentials();
        let PeerTask {
            negotiator,
            paths,
            certificate,
            ..
        } = self;
        negotiator.create_answer(|section| {
            local_transport(paths, certificate, &[section], false, &fallback)
        })
    }

    /// `restartIce()`.
    pub(crate) fn restart_ice(&mut self) {
        self.restart_ice = true;
        self.update_negotiation_needed();
    }

    /// `setLocalDescription(description)`.
    pub(crate) fn set_local_description(
        &mut self,
        now: Instant,
        description: Option<RTCSessionDescriptionInit>,
        servers: &GatherServers,
    ) -> Result<(), Error> {
        let description = match description {
            Some(description) => description,
            None if self.negotiator.signaling_state().can_create_answer() => {
                self.create_answer(now, servers)?
            }
            None => self.create_offer(now, servers)?,
        };
        let checkpoint = self.negotiator.checkpoint();
        let applied = self.negotiator.set_local_description(&description)?;
        let plans = match self.plans(&applied) {
            Ok(plans) => plans,
            Err(error) => {
                self.negotiator.restore(checkpoint);
                return Err(error);
            }
        };
        if description.sdp_type == RTCSdpType::Offer {
            self.take_restart_credentials(now);
        }
        self.surface_candidates();
        self.finish_applying(now, &applied, plans);
        Ok(())
    }

    /// `setRemoteDescription(description)`.
    pub(crate) fn set_remote_description(
        &mut self,
        now: Instant,
        description: RTCSessionDescriptionInit,
        servers: &GatherServers,
    ) -> Result<(), Error> {
        if description.sdp_type == RTCSdpType::Offer && self.paths.is_empty() {
            // Check before binding sockets: a refused offer leaves nothing behind.
            let state = self.negotiator.signaling_state();
            state.apply(Side::Remote, RTCSdpType::Offer)?;
        }
        // The remote ufrag each transport has now, to see a remote ICE restart.
        let previous: Vec<(usize, String)> = self
            .negotiator
            .current_remote_description()
            .map(|d| {
                self.paths
                    .iter()
                    .filter_map(|p| {
                        let first = *p.sections.first()?;
                        Some((first, remote_ufrag(&d.parsed, first)?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let checkpoint = self.negotiator.checkpoint();
        let had_paths = !self.paths.is_empty();
        let applied = self.negotiator.set_remote_description(&description)?;
        if description.sdp_type == RTCSdpType::Rollback {
            self.finish_applying(now, &applied, Vec::new());
            return Ok(());
        }
        let (remotes, plans) = match self.take_remote(now, servers, &applied) {
            Ok(taken) => taken,
            Err(error) => {
                self.negotiator.restore(checkpoint);
                if !had_paths {
                    self.paths.clear();
                    self.outgoing.clear();
                    self.end_surfaced = false;
                    self.update_gathering_state();
                }
                return Err(error);
            }
        };
        for (sections, remote) in remotes {
            let Some(index) = sections.first().and_then(|&s| self.path_of(s)) else {
                continue;
            };
            let before = previous
                .iter()
                .find(|(first, _)| sections.contains(first))
                .map(|(_, ufrag)| ufrag.as_str());
            if description.sdp_type == RTCSdpType::Offer
                && let (Some(before), Some(now_offered)) = (before, remote.credentials.as_ref())
                && before != now_offered.ufrag()
            {
                // The remote restarts ICE (RFC 8445 §9): our answer carries new credentials
                // too, and the agent starts over with the offer's credentials and candidates.
                tracing::info!(transport = index, "the remote offer restarts ICE");
                let fresh = self.fresh_credentials();
                self.paths[index].sockets.add_ufrag(fresh.ufrag());
                self.paths[index].core.restart_ice(now, fresh);
            }
            self.paths[index].core.take_remote(now, remote);
        }
        self.process_remote_tracks();
        self.finish_applying(now, &applied, plans);
        Ok(())
    }

    /// W3C "process remote tracks": each audio or video section in which the remote
    /// description now sends (`sendrecv`, `sendonly`) and did not before fires `track`; one in
    /// which it stopped (or that it rejected) may fire again later.
    fn process_remote_tracks(&mut self) {
        let Some(remote) = self.negotiator.remote_description() else {
            return;
        };
        let mut added = Vec::new();
        for section in &remote.parsed.media {
            let Some(mid) = section.mid() else { continue };
            let kind = match section.kind {
                antiphon_sdp::MediaKind::Audio => antiphon_codec::MediaKind::Audio,
                antiphon_sdp::MediaKind::Video => antiphon_codec::MediaKind::Video,
                _ => continue,
            };
            let sends = section.port != 0
                && section
                    .direction()
                    .unwrap_or(antiphon_sdp::Direction::SendRecv)
                    .sends();
            if !sends {
                self.receiving.remove(mid);
                continue;
            }
            if !self.receiving.insert(mid.to_owned()) {
                continue;
            }
            let msids = section.attributes.iter().filter_map(|a| match a {
                antiphon_sdp::Attribute::Msid(msid) => Some(msid),
                _ => None,
            });
            added.push(RTCTrackEvent {
                transceiver: self
                    .negotiator
                    .transceivers()
                    .iter()
                    .find(|t| t.mid.as_deref() == Some(mid))
                    .map(|t| t.id),
                mid: mid.to_owned(),
                kind,
                track_id: msids.clone().find_map(|m| m.track_id.clone()),
                stream_ids: msids
                    .filter(|m| m.stream_id != "-")
                    .map(|m| m.stream_id.clone())
                    .collect(),
            });
        }
        for track in added {
            self.outputs.events.send(PeerConnectionEvent::Track(track));
        }
    }

    /// What the applied remote description gives the transports, checked before anything
    /// changes (an unusable description refuses with nothing changed): the remote side of
    /// each transport it lays out, bound now for an offer, and once negotiation is complete
    /// what starting them needs. An answer also settles which transports stay.
    fn take_remote(
        &mut self,
        now: Instant,
        servers: &GatherServers,
        applied: &Applied,
    ) -> Result<(Vec<RemoteSide>, Vec<TransportPlan>), Error> {
        let remote = self
            .negotiator
            .remote_description()
            .ok_or(Error::InvalidState(InvalidStateReason::NoRemoteDescription))?;
        let plans = self.plans(applied)?;
        let sets = if applied.negotiation_complete {
            plans.iter().map(|plan| plan.sections.clone()).collect()
        } else {
            // A remote offer: the transports our answer will use (sections it rejects, by
            // policy or for want of a codec, bind nothing).
            self.negotiator.answer_layout()?
        };
        let sets: Vec<Vec<usize>> = sets.into_iter().filter(|set| !set.is_empty()).collect();
        let remotes = sets
            .iter()
            .map(|set| Ok((set.clone(), RemoteTransport::read(&remote.parsed, set[0])?)))
            .collect::<Result<Vec<_>, Error>>()?;
        if applied.negotiation_complete {
            self.settle_paths(now, &plans);
        } else {
            self.ensure_paths(now, &sets, IceRole::Controlled, servers)?;
        }
        Ok((remotes, plans))
    }

    /// The transports to start once `applied` completed the exchange (none before).
    fn plans(&self, applied: &Applied) -> Result<Vec<TransportPlan>, Error> {
        if applied.negotiation_complete {
            plan_transports(&self.negotiator)
        } else {
            Ok(Vec::new())
        }
    }

    /// `addIceCandidate(candidate)`.
    pub(crate) fn add_ice_candidate(
        &mut self,
        now: Instant,
        candidate: RTCIceCandidateInit,
    ) -> Result<(), Error> {
        let Some(remote) = self.negotiator.remote_description() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteDescription));
        };
        if candidate.sdp_mid.is_none()
            && candidate.sdp_m_line_index.is_none()
            && !candidate.candidate.is_empty()
        {
            return Err(Error::Type(TypeErrorReason::CandidateWithoutSection));
        }
        let index = match (&candidate.sdp_mid, candidate.sdp_m_line_index) {
            (Some(mid), _) => remote
                .parsed
                .media
                .iter()
                .position(|m| m.mid() == Some(mid.as_str())),
            (None, Some(index)) => {
                Some(usize::from(index)).filter(|i| *i < remote.parsed.media.len())
            }
            (None, None) => {
                // End of the remote's candidates, on every transport.
                for path in &mut self.paths {
                    path.core.end_of_remote_candidates(now);
                }
                return Ok(());
            }
        };
        let Some(index) = index else {
            return Err(Error::Operation(OperationReason::UnknownSection));
        };
        let parsed = match candidate.candidate.as_str() {
            "" => None,
            line => Some(
                Candidate::parse(line)
                    .map_err(|_| Error::InvalidAccess(InvalidAccessReason::InvalidCandidate))?,
            ),
        };
        let Some(path) = self.path_of(index) else {
            // A section no transport of ours carries (rejected, or bundled away).
            return Ok(());
        };
        let core = &mut self.paths[path].core;
        match parsed {
            None => core.end_of_remote_candidates(now),
            Some(parsed) => {
                // Candidates the agent cannot use are ignored, as browsers do (RFC 8839 §5.1).
                let _ = core.add_remote_candidate(now, &parsed);
            }
        }
        Ok(())
    }

    /// W3C "update the negotiation-needed flag": in `stable`, `negotiationneeded` fires once
    /// when a new offer/answer exchange is needed (something added, the data channel asked for,
    /// an ICE restart asked for), and the flag drops once it no longer is. Called after those
    /// calls and whenever signaling returns to `stable`.
    pub(crate) fn update_negotiation_needed(&mut self) {
        if self.negotiator.signaling_state() != RTCSignalingState::Stable {
            return;
        }
        let needed = self.negotiator.negotiation_needed()
            || (self.restart_ice && self.negotiator.current_remote_description().is_some());
        if needed && !self.negotiation_needed {
            self.outputs
                .events
                .send(PeerConnectionEvent::NegotiationNeeded);
        }
        self.negotiation_needed = needed;
    }

    /// Once a description is applied: `signalingstatechange`, the negotiation-needed flag,
    /// and once an exchange completes, the negotiated transports started (DTLS on new ones,
    /// SCTP on the data section's when it is new).
    fn finish_applying(&mut self, now: Instant, applied: &Applied, plans: Vec<TransportPlan>) {
        if applied.signaling_state_changed {
            let state = self.negotiator.signaling_state();
            self.outputs
                .events
                .send(PeerConnectionEvent::SignalingState(state));
        }
        if self.negotiator.signaling_state() == RTCSignalingState::Stable {
            // Back in `stable`: the flag is worked out afresh.
            self.negotiation_needed = false;
            self.update_negotiation_needed();
        }
        if applied.negotiation_complete {
            self.start_transports(now, plans);
            self.refresh_media_routes(now);
        }
    }
}

/// Our side of the transport carrying `sections` (its first section names it) for a
/// description: with the pending restart credentials in an offer (`restarting`); `fallback`
/// credentials and no candidates if no transport carries it.
fn local_transport<S>(
    paths: &[TransportPath<S>],
    certificate: &Certificate,
    sections: &[usize],
    restarting: bool,
    fallback: &IceCredentials,
) -> LocalTransport {
    let path = sections
        .first()
        .and_then(|first| paths.iter().find(|p| p.sections.contains(first)));
    match path {
        Some(path) => path.local_transport(certificate, restarting),
        None => LocalTransport::new(fallback.ufrag(), fallback.pwd(), certificate),
    }
}

/// The remote `a=ice-ufrag` of the transport carrying section `index` in `remote`.
fn remote_ufrag(remote: &SessionDescription, index: usize) -> Option<String> {
    section_ufrag(remote, describing_section(remote, index)?).map(str::to_owned)
}
