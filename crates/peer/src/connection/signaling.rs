//! The signaling operations as they run on the connection task: create and apply
//! descriptions, take trickled candidates, and keep the negotiation-needed flag.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_ice::{Candidate, IceCredentials, IceRole};

use super::ice::local_transport;
use super::task::PeerTask;
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::error::{
    Error, InvalidAccessReason, InvalidStateReason, OperationReason, TypeErrorReason,
};
use crate::events::{PeerConnectionEvent, RTCIceCandidateInit};
use crate::negotiator::Applied;
use crate::setup::{RemoteTransport, StartPlan, plan_start};
use crate::signaling::{RTCSignalingState, Side};
use crate::transport::{is_bundled, transport_section, transport_ufrag};

impl PeerTask {
    /// `createOffer()` (also the implicit `setLocalDescription`'s).
    pub(crate) fn create_offer(
        &mut self,
        now: Instant,
        stun_servers: &[SocketAddr],
    ) -> Result<RTCSessionDescriptionInit, Error> {
        self.negotiator.signaling_state_allows_offer()?;
        self.ensure_ice(now, IceRole::Controlling, stun_servers)?;
        if self.negotiator.current_remote_description().is_none() {
            // Nothing to restart yet: the first offer has fresh credentials anyway.
            self.restart_ice = false;
        } else if self.restart_ice && self.restart_credentials.is_none() {
            // RFC 8445 §9: the offer carries new credentials; the live agent keeps its own until
            // the offer is applied, so an offer that never is changes nothing.
            self.restart_credentials = Some(IceCredentials::generate());
        }
        let Some(path) = self.ice.as_ref() else {
            return Err(Error::Operation(OperationReason::IceFailed));
        };
        let credentials = self
            .restart_credentials
            .clone()
            .unwrap_or_else(|| path.core.agent().local_credentials().clone());
        let transport = local_transport(&self.certificate, &self.gathering, &credentials, 0);
        self.negotiator.create_offer(transport)
    }

    /// `createAnswer()` (also the implicit `setLocalDescription`'s).
    pub(crate) fn create_answer(&mut self) -> Result<RTCSessionDescriptionInit, Error> {
        let Some(path) = self.ice.as_ref() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteOffer {
                state: self.negotiator.signaling_state(),
            }));
        };
        let credentials = path.core.agent().local_credentials().clone();
        let PeerTask {
            negotiator,
            gathering,
            certificate,
            ..
        } = self;
        negotiator.create_answer(|k| local_transport(certificate, gathering, &credentials, k))
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
        stun_servers: &[SocketAddr],
    ) -> Result<(), Error> {
        let description = match description {
            Some(description) => description,
            None if self.negotiator.signaling_state().can_create_answer() => {
                self.create_answer()?
            }
            None => self.create_offer(now, stun_servers)?,
        };
        let checkpoint = self.negotiator.checkpoint();
        let applied = self.negotiator.set_local_description(&description)?;
        let plan = match plan_start(
            &self.negotiator,
            self.is_started(),
            applied.negotiation_complete,
        ) {
            Ok(plan) => plan,
            Err(error) => {
                self.negotiator.restore(checkpoint);
                return Err(error);
            }
        };
        if description.sdp_type == RTCSdpType::Offer {
            self.take_restart_credentials(now);
        }
        self.gathering
            .surface(&mut self.negotiator, &self.outputs.events);
        self.finish_applying(now, &applied, plan);
        Ok(())
    }

    /// `setRemoteDescription(description)`.
    pub(crate) fn set_remote_description(
        &mut self,
        now: Instant,
        description: RTCSessionDescriptionInit,
        stun_servers: &[SocketAddr],
    ) -> Result<(), Error> {
        if description.sdp_type == RTCSdpType::Offer && self.ice.is_none() {
            // Check before binding sockets: a refused offer leaves nothing behind.
            let state = self.negotiator.signaling_state();
            state.apply(Side::Remote, RTCSdpType::Offer)?;
        }
        let previous_ufrag = self
            .negotiator
            .current_remote_description()
            .and_then(|d| transport_ufrag(&d.parsed));
        let checkpoint = self.negotiator.checkpoint();
        let had_ice = self.ice.is_some();
        let applied = self.negotiator.set_remote_description(&description)?;
        if description.sdp_type == RTCSdpType::Rollback {
            self.finish_applying(now, &applied, None);
            return Ok(());
        }
        let restart = description.sdp_type == RTCSdpType::Offer && previous_ufrag.is_some();
        let (remote, plan) = match self.take_remote(now, stun_servers, applied.negotiation_complete)
        {
            Ok(taken) => taken,
            Err(error) => {
                self.negotiator.restore(checkpoint);
                if !had_ice {
                    self.ice = None;
                    self.gathering.reset(&self.outputs.events);
                }
                return Err(error);
            }
        };
        if let Some(path) = self.ice.as_mut() {
            let core = &mut path.core;
            if restart
                && remote
                    .credentials
                    .as_ref()
                    .is_some_and(|c| Some(c.ufrag()) != previous_ufrag.as_deref())
            {
                // The remote restarts ICE (RFC 8445 §9): our answer carries new credentials
                // too, and the agent starts over with the offer's credentials and candidates.
                tracing::info!("the remote offer restarts ICE");
                core.restart_ice(now, IceCredentials::generate());
            }
            core.take_remote(now, remote);
        }
        self.finish_applying(now, &applied, plan);
        Ok(())
    }

    /// What the applied remote description gives the transport, checked before anything
    /// changes: the ICE agent (bound for a first offer), the remote credentials and
    /// candidates, and once negotiation is complete what `start` needs.
    fn take_remote(
        &mut self,
        now: Instant,
        stun_servers: &[SocketAddr],
        complete: bool,
    ) -> Result<(RemoteTransport, Option<StartPlan>), Error> {
        self.ensure_ice(now, IceRole::Controlled, stun_servers)?;
        let remote = self
            .negotiator
            .remote_description()
            .ok_or(Error::InvalidState(InvalidStateReason::NoRemoteDescription))?;
        let transport = RemoteTransport::read(&remote.parsed)?;
        Ok((
            transport,
            plan_start(&self.negotiator, self.is_started(), complete)?,
        ))
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
            (None, None) => transport_section(&remote.parsed),
        };
        let Some(index) = index else {
            return Err(Error::Operation(OperationReason::UnknownSection));
        };
        let connected =
            transport_section(&remote.parsed) == Some(index) || is_bundled(&remote.parsed, index);
        let Some(path) = self.ice.as_mut() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteDescription));
        };
        if !connected {
            // A candidate for a transport we do not connect.
            return Ok(());
        }
        if candidate.candidate.is_empty() {
            path.core.end_of_remote_candidates(now);
        } else {
            let parsed = Candidate::parse(&candidate.candidate)
                .map_err(|_| Error::InvalidAccess(InvalidAccessReason::InvalidCandidate))?;
            // Candidates the agent cannot use are ignored, as browsers do (RFC 8839 §5.1).
            let _ = path.core.add_remote_candidate(now, &parsed);
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
    /// and the transports started (the first complete exchange) or SCTP added (a later one).
    fn finish_applying(&mut self, now: Instant, applied: &Applied, plan: Option<StartPlan>) {
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
        if let Some(plan) = plan {
            self.start(now, plan);
        } else if applied.negotiation_complete {
            self.start_sctp_if_added(now);
        }
    }
}
