//! Incoming STUN: requests (responses, role conflicts, peer-reflexive candidates, triggered
//! checks, USE-CANDIDATE) and responses (pair success or failure, nomination, consent,
//! server-reflexive candidates). Nothing changes state before MESSAGE-INTEGRITY and FINGERPRINT
//! have verified.

use std::time::Instant;

use antiphon_types::queue::ShrinkWhenDrained;
use stun_rs::MessageClass;

use super::checklist::Added;
use super::pair::{CandidatePair, PairState};
use super::stun::{self, Header, RoleAttr};
use super::{
    Datagram, DropReason, IceAgent, IceEvent, IceRole, LocalCandidate, RemoteCandidate, TxKind,
    candidate_priority, local_foundation,
};
use crate::candidate::{Candidate, CandidateAddress, CandidateType};

impl IceAgent {
    /// Handles a received datagram. STUN messages for this agent change its state; anything
    /// else is dropped, counted in [`IceAgent::drops`] and reported as the `Err` reason.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        datagram: Datagram<'_>,
    ) -> Result<(), DropReason> {
        self.last_now = self.last_now.max(now);
        if self.receive_from_relay(now, datagram) {
            if !self.closed && !self.failed {
                self.maybe_nominate(now);
            }
            self.update_state();
            return Ok(());
        }
        let result = if self.closed {
            Err(DropReason::Closed)
        } else if self.failed {
            Err(DropReason::Failed)
        } else {
            self.receive(now, datagram)
        };
        match result {
            Ok(()) => self.maybe_nominate(now),
            Err(reason) => self.drops.count(reason),
        }
        self.update_state();
        result
    }

    pub(super) fn receive(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), DropReason> {
        let header = stun::peek_header(d.contents).ok_or(DropReason::NotStun)?;
        if header.method != stun::BINDING_METHOD {
            return Err(DropReason::UnexpectedMethod);
        }
        match header.class {
            MessageClass::Request => self.receive_request(now, d, header),
            MessageClass::Indication => Err(DropReason::Indication),
            MessageClass::SuccessResponse | MessageClass::ErrorResponse => {
                self.receive_response(now, d, header)
            }
        }
    }

    fn receive_request(
        &mut self,
        now: Instant,
        d: Datagram<'_>,
        header: Header,
    ) -> Result<(), DropReason> {
        let local = self
            .locals
            .iter()
            .find(|l| {
                l.base == d.destination
                    && matches!(l.candidate.kind, CandidateType::Host | CandidateType::Relay)
            })
            .cloned()
            .ok_or(DropReason::UnknownDestination)?;
        let key = self.local_key.clone().ok_or(DropReason::BadIntegrity)?;
        let msg = stun::decode_verified(d.contents, Some(&key), false)?;
        self.pair_counters(d.destination, d.source)
            .requests_received += 1;
        let attrs = stun::check_attributes(&msg).ok_or(DropReason::WrongUsername)?;
        let (ours, theirs) = attrs
            .username
            .split_once(':')
            .ok_or(DropReason::WrongUsername)?;
        if ours != self.local_credentials.ufrag()
            || self
                .remote_credentials
                .as_ref()
                .is_some_and(|c| c.ufrag() != theirs)
        {
            return Err(DropReason::WrongUsername);
        }
        let (Some(priority), Some(role)) = (attrs.priority, attrs.role) else {
            return Err(DropReason::MissingAttribute);
        };

        // Role conflict (RFC 8445 section 7.3.1.1).
        match (self.role, role) {
            (IceRole::Controlling, RoleAttr::Controlling(theirs)) => {
                if self.tie_breaker >= theirs {
                    let bytes = stun::encode_role_conflict(header.transaction, &key);
                    self.send(d.destination, d.source, bytes);
                    return Ok(());
                }
                self.switch_role(IceRole::Controlled);
            }
            (IceRole::Controlled, RoleAttr::Controlled(theirs)) => {
                if self.tie_breaker >= theirs {
                    self.switch_role(IceRole::Controlling);
                } else {
                    let bytes = stun::encode_role_conflict(header.transaction, &key);
                    self.send(d.destination, d.source, bytes);
                    return Ok(());
                }
            }
            _ => {}
        }

        // The remote candidate, or a new peer-reflexive one (RFC 8445 section 7.3.1.3).
        let known = self.remotes.iter().find(|r| r.addr == d.source).cloned();
        let remote = match known {
            Some(r) => r,
            None => {
                if self.prflx_count >= self.config.max_prflx
                    || self.remotes.len() >= self.config.max_remote_candidates
                {
                    return Err(DropReason::PrflxLimit);
                }
                RemoteCandidate {
                    addr: d.source,
                    priority,
                    foundation: self.rng_foundation(),
                    kind: CandidateType::PeerReflexive,
                    peer_reflexive: true,
                }
            }
        };
        let pair = CandidatePair {
            local: local.base,
            remote: d.source,
            local_priority: local.candidate.priority,
            remote_priority: remote.priority,
            foundation: format!("{}:{}", local.candidate.foundation, remote.foundation),
            state: PairState::Frozen,
            remote_nominated: false,
            nominating: false,
        };
        let remote_is_relay = remote.kind == CandidateType::Relay;
        let id = match self.checklist.add(pair, self.role == IceRole::Controlling) {
            Added::New(id) | Added::Existing(id) => id,
            Added::Refused => return Err(DropReason::PairLimit),
        };
        if remote.peer_reflexive && !self.remotes.iter().any(|r| r.addr == d.source) {
            self.remotes.push(remote);
            self.prflx_count += 1;
        }

        let bytes = stun::encode_success(header.transaction, d.source, &key);
        self.send(d.destination, d.source, bytes);
        self.pair_counters(d.destination, d.source).responses_sent += 1;
        self.checking_since.get_or_insert(now);

        // Triggered check and nomination (RFC 8445 sections 7.3.1.4 and 7.3.1.5).
        let controlled = self.role == IceRole::Controlled;
        let Some(p) = self.checklist.get_mut(id) else {
            return Ok(());
        };
        if attrs.use_candidate && controlled {
            p.remote_nominated = true;
        }
        match p.state {
            PairState::Succeeded => {
                if attrs.use_candidate && controlled {
                    self.select(now, id);
                }
            }
            // A peer's relay drops what reaches it before the peer made a permission for us,
            // which it does as it checks us: our check in progress goes again now rather than
            // after its timeout (RFC 8445 §7.3.1.4). Other paths lose nothing that way, and a
            // duplicate there would only cost a datagram and a round-trip sample.
            PairState::InProgress if remote_is_relay => {
                self.retransmit_check_now(now, id);
            }
            PairState::InProgress => {}
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                if self.remote_credentials.is_some() && self.can_send_now() {
                    // The peer just reached us on this pair: check it back at once, as libwebrtc
                    // does, instead of up to Ta behind our last paced request (a gathering
                    // request to a STUN server that took the slot cost 50 ms per connection).
                    // The peer's own pacing bounds how often this happens.
                    self.send_check(now, id);
                } else {
                    self.checklist.trigger(id);
                }
            }
        }
        Ok(())
    }

    fn receive_response(
        &mut self,
        now: Instant,
        d: Datagram<'_>,
        header: Header,
    ) -> Result<(), DropReason> {
        let index = self
            .transactions
            .iter()
            .position(|t| t.id == header.transaction)
            .ok_or(DropReason::UnknownTransaction)?;
        let tx = &self.transactions[index];
        if tx.remote != d.source || tx.local != d.destination {
            return Err(DropReason::NonSymmetric);
        }
        let is_gather = matches!(tx.kind, TxKind::Gather { .. });
        let msg = stun::decode_verified(d.contents, tx.key.as_ref(), is_gather)?;
        let tx = self.transactions.swap_remove(index);
        self.transactions.shrink_when_drained();
        let success = header.class == MessageClass::SuccessResponse;
        if matches!(tx.kind, TxKind::Check { .. } | TxKind::Consent) {
            let rtt = (!tx.retransmitted).then(|| now.saturating_duration_since(tx.sent_at));
            self.pair_counters(tx.local, tx.remote).response(rtt);
        }
        match tx.kind {
            TxKind::Gather { local_pref } => {
                if let (true, Some(mapped)) = (success, stun::mapped_address(&msg)) {
                    self.add_server_reflexive(tx.local, mapped, local_pref);
                }
                self.maybe_gathering_complete();
            }
            TxKind::Consent => {
                if success {
                    self.consent.refreshed(now);
                }
            }
            TxKind::Check {
                pair,
                nominating,
                role,
            } => {
                if success {
                    self.check_succeeded(now, pair, nominating);
                } else if stun::error_code(&msg) == Some(487) {
                    // RFC 8445 section 7.2.5.1: switch role (if not already) and retry.
                    if role == self.role {
                        let other = match role {
                            IceRole::Controlling => IceRole::Controlled,
                            IceRole::Controlled => IceRole::Controlling,
                        };
                        self.switch_role(other);
                    }
                    if let Some(p) = self.checklist.get_mut(pair) {
                        p.state = PairState::Waiting;
                    }
                    self.checklist.trigger(pair);
                } else {
                    self.check_failed(pair);
                }
            }
        }
        Ok(())
    }

    fn check_succeeded(&mut self, now: Instant, id: usize, nominating: bool) {
        let controlling = self.role == IceRole::Controlling;
        let Some(p) = self.checklist.get_mut(id) else {
            return;
        };
        p.state = PairState::Succeeded;
        let (foundation, remote_nominated, wants_nomination) =
            (p.foundation.clone(), p.remote_nominated, p.nominating);
        self.checklist.unfreeze_foundation(&foundation);
        self.first_valid_at.get_or_insert(now);
        if Some(id) == self.selected {
            self.consent.refreshed(now);
        }
        if controlling && nominating {
            self.select(now, id);
        } else if controlling && wants_nomination {
            // An ordinary check finished first: send the nomination now.
            self.checklist.trigger_first(id);
        } else if !controlling && remote_nominated {
            self.select(now, id);
        }
    }

    pub(super) fn check_failed(&mut self, id: usize) {
        if let Some(p) = self.checklist.get_mut(id) {
            p.state = PairState::Failed;
            p.nominating = false;
        }
        if self.nominating == Some(id) {
            self.nominating = None;
        }
    }

    fn add_server_reflexive(
        &mut self,
        base: std::net::SocketAddr,
        mapped: std::net::SocketAddr,
        local_pref: u32,
    ) {
        if mapped == base
            || self
                .locals
                .iter()
                .any(|l| l.candidate.socket_addr() == Some(mapped))
        {
            return;
        }
        let kind = CandidateType::ServerReflexive;
        let mut candidate = Candidate::new_udp(
            local_foundation(&kind, base),
            candidate_priority(&kind, local_pref),
            mapped,
            kind,
        );
        candidate.related_address = Some(CandidateAddress::Ip(base.ip()));
        candidate.related_port = Some(base.port());
        self.locals.push(LocalCandidate {
            candidate: candidate.clone(),
            base,
        });
        self.events
            .push_back(IceEvent::NewLocalCandidate(candidate));
    }

    fn rng_foundation(&mut self) -> String {
        use rand::Rng;
        format!("prflx{}", self.rng.random::<u32>())
    }
}
