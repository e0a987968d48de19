//! Time-driven work: paced checks and gathering requests (Ta), retransmissions and timeouts,
//! nomination by the controlling agent, consent freshness, failure, and the connection state.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_types::queue::ShrinkWhenDrained;
use rand::Rng;
use stun_rs::HMACKey;

use super::consent::ConsentStatus;
use super::pair::PairState;
use super::stun::{self, CheckRequest, RoleAttr};
use super::{
    GATHER_RETRANSMITS, IceAgent, IceConnectionState, IceEvent, IceRole, Transaction, Transmit,
    TxKind,
};

impl IceAgent {
    /// Handles the passage of time: call it at (or after) [`IceAgent::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        self.relay_timeouts(now);
        if self.closed {
            return;
        }
        self.expire_transactions(now);
        self.maybe_nominate(now);
        self.consent_tick(now);
        self.paced_send(now);
        self.check_failure(now);
        self.update_state();
    }

    pub(super) fn send(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        if !contents.is_empty() {
            self.transmits.push_back(Transmit {
                source,
                destination,
                contents,
            });
        }
    }

    fn expire_transactions(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.transactions.len() {
            let tx = &mut self.transactions[i];
            if now < tx.deadline {
                i += 1;
                continue;
            }
            if tx.retransmits_left > 0 {
                tx.retransmits_left -= 1;
                tx.rto = (tx.rto * 2).min(self.config.max_rto);
                tx.deadline = now + tx.rto;
                tx.retransmitted = true;
                let (local, remote, bytes) = (tx.local, tx.remote, tx.bytes.clone());
                self.send(local, remote, bytes);
                i += 1;
                continue;
            }
            let tx = self.transactions.swap_remove(i);
            self.transactions.shrink_when_drained();
            match tx.kind {
                TxKind::Check { pair, .. } => self.check_failed(pair),
                TxKind::Gather { .. } => self.maybe_gathering_complete(),
                TxKind::Consent => {}
            }
        }
    }

    /// RFC 8445 §7.3.1.4: a check arrived on a pair whose own check is in progress: that
    /// check is sent again at once and its timer restarts, instead of waiting out its
    /// retransmission timeout (its first copy was dropped by the peer's relay, which had no
    /// permission for us yet). Not a round-trip measurement any more (Karn).
    pub(super) fn retransmit_check_now(&mut self, now: Instant, pair: super::checklist::PairId) {
        let Some(tx) = self
            .transactions
            .iter_mut()
            .find(|t| matches!(t.kind, TxKind::Check { pair: p, .. } if p == pair))
        else {
            return;
        };
        tx.deadline = now + tx.rto;
        tx.retransmitted = true;
        let (local, remote, bytes) = (tx.local, tx.remote, tx.bytes.clone());
        self.send(local, remote, bytes);
    }

    fn new_transaction_id(&mut self) -> [u8; 12] {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        id
    }

    fn start_transaction(
        &mut self,
        now: Instant,
        kind: TxKind,
        (local, remote): (SocketAddr, SocketAddr),
        key: Option<HMACKey>,
        (id, bytes): ([u8; 12], Vec<u8>),
        retransmits: u32,
    ) {
        if bytes.is_empty() {
            return;
        }
        self.send(local, remote, bytes.clone());
        match kind {
            TxKind::Check { .. } => self.pair_counters(local, remote).requests_sent += 1,
            TxKind::Consent => self.pair_counters(local, remote).consent_requests_sent += 1,
            TxKind::Gather { .. } => {}
        }
        self.transactions.push(Transaction {
            id,
            kind,
            local,
            remote,
            key,
            bytes,
            deadline: now + self.config.initial_rto,
            rto: self.config.initial_rto,
            retransmits_left: retransmits,
            sent_at: now,
            retransmitted: false,
        });
    }

    fn paced_send(&mut self, now: Instant) {
        if self.last_paced.is_some_and(|t| now < t + self.config.ta) || !self.can_send_paced() {
            return;
        }
        if let Some((base, server, local_pref)) = self.gather_queue.pop_front() {
            let id = self.new_transaction_id();
            let bytes = stun::encode_server_request(id);
            self.start_transaction(
                now,
                TxKind::Gather { local_pref },
                (base, server),
                None,
                (id, bytes),
                GATHER_RETRANSMITS,
            );
            self.last_paced = Some(now);
            return;
        }
        let controlling = self.role == IceRole::Controlling;
        if let Some(id) = self
            .checklist
            .next_check(controlling, self.ordinary_checks())
        {
            self.send_check(now, id);
            self.last_paced = Some(now);
        }
    }

    fn check_request_bytes(
        &mut self,
        local_priority: u32,
        nominate: bool,
    ) -> Option<([u8; 12], Vec<u8>, HMACKey)> {
        let remote = self.remote_credentials.as_ref()?;
        let username = format!("{}:{}", remote.ufrag(), self.local_credentials.ufrag());
        let key = self.remote_key.clone()?;
        let id = self.new_transaction_id();
        // PRIORITY carries the priority a peer-reflexive candidate of ours would have.
        let priority = (110 << 24) | (local_priority & 0x00ff_ffff);
        let role = match self.role {
            IceRole::Controlling => RoleAttr::Controlling(self.tie_breaker),
            IceRole::Controlled => RoleAttr::Controlled(self.tie_breaker),
        };
        let bytes = stun::encode_check(&CheckRequest {
            transaction: id,
            username: &username,
            key: &key,
            priority,
            role,
            use_candidate: nominate,
        });
        Some((id, bytes, key))
    }

    pub(super) fn send_check(&mut self, now: Instant, id: usize) {
        let controlling = self.role == IceRole::Controlling;
        let Some(p) = self.checklist.get(id) else {
            return;
        };
        let (local, remote, local_priority) = (p.local, p.remote, p.local_priority);
        let nominating = controlling && p.nominating;
        let Some((tx, bytes, key)) = self.check_request_bytes(local_priority, nominating) else {
            return;
        };
        if let Some(p) = self.checklist.get_mut(id)
            && p.state != PairState::Succeeded
        {
            p.state = PairState::InProgress;
        }
        self.checking_since.get_or_insert(now);
        let kind = TxKind::Check {
            pair: id,
            nominating,
            role: self.role,
        };
        let retransmits = self.config.max_retransmits;
        self.start_transaction(
            now,
            kind,
            (local, remote),
            Some(key),
            (tx, bytes),
            retransmits,
        );
    }

    /// Regular nomination (RFC 8445 section 8.1.1): once the best valid pair cannot be beaten
    /// by a pending one, or after `nomination_delay`, check it again with USE-CANDIDATE.
    pub(super) fn maybe_nominate(&mut self, now: Instant) {
        if self.role != IceRole::Controlling || self.selected.is_some() || self.nominating.is_some()
        {
            return;
        }
        let Some(best) = self.checklist.best_valid(true) else {
            return;
        };
        let Some(priority) = self.checklist.get(best).map(|p| p.priority(true)) else {
            return;
        };
        let waited = self
            .first_valid_at
            .is_some_and(|t| now >= t + self.config.nomination_delay);
        if waited || !self.checklist.better_pending(priority, true) {
            if let Some(p) = self.checklist.get_mut(best) {
                p.nominating = true;
            }
            self.nominating = Some(best);
            let validated = self
                .checklist
                .get(best)
                .is_some_and(|p| p.state == PairState::Succeeded);
            if validated && self.can_send_now() {
                // The pair already answered a check: the USE-CANDIDATE check goes out now
                // rather than waiting up to Ta behind the previous paced check (which cost a
                // fixed 50 ms per connection setup). One extra datagram on a path that just
                // answered; later checks stay paced from here.
                self.send_check(now, best);
                self.last_paced = Some(now);
            } else {
                self.checklist.trigger_first(best);
            }
        }
    }

    /// Whether a new transaction fits (the cap on outstanding transactions).
    pub(super) fn can_send_now(&self) -> bool {
        !self.failed && self.transactions.len() < self.config.max_transactions
    }

    pub(super) fn select(&mut self, now: Instant, id: usize) {
        let Some(p) = self.checklist.get(id) else {
            return;
        };
        let addrs = (p.local, p.remote);
        self.selected = Some(id);
        self.nominating = None;
        self.failed = false;
        let interval = self.consent_interval();
        self.consent.start(now, interval);
        self.consent_stale = false;
        if self.selected_addrs != Some(addrs) {
            self.selected_addrs = Some(addrs);
            self.events.push_back(IceEvent::SelectedPairChanged {
                local: addrs.0,
                remote: addrs.1,
            });
        }
    }

    /// The consent interval randomized by 0.8..1.2 (RFC 7675 section 5.1).
    fn consent_interval(&mut self) -> std::time::Duration {
        self.config
            .consent_interval
            .mul_f64(self.rng.random_range(0.8..1.2))
    }

    pub(super) fn switch_role(&mut self, role: IceRole) {
        if self.role == role {
            return;
        }
        self.role = role;
        self.nominating = None;
        for p in &mut self.checklist.pairs {
            p.nominating = false;
        }
        self.events.push_back(IceEvent::RoleChanged(role));
    }

    fn consent_tick(&mut self, now: Instant) {
        let Some(id) = self.selected else {
            return;
        };
        match self.consent.status(
            now,
            self.config.disconnected_timeout,
            self.config.consent_timeout,
        ) {
            ConsentStatus::Lost => {
                // RFC 7675 section 5.1: consent lost, stop sending.
                self.failed = true;
                self.selected = None;
                self.consent.stop();
                self.transactions.clear();
                return;
            }
            ConsentStatus::Stale => self.consent_stale = true,
            ConsentStatus::Fresh => self.consent_stale = false,
        }
        let interval = self.consent_interval();
        if self.consent.take_due(now, interval) {
            let Some(p) = self.checklist.get(id) else {
                return;
            };
            let (local, remote, local_priority) = (p.local, p.remote, p.local_priority);
            if let Some((tx, bytes, key)) = self.check_request_bytes(local_priority, false) {
                let retransmits = self.config.max_retransmits;
                self.start_transaction(
                    now,
                    TxKind::Consent,
                    (local, remote),
                    Some(key),
                    (tx, bytes),
                    retransmits,
                );
            }
        }
    }

    fn check_failure(&mut self, now: Instant) {
        // During a restart the previous pair still carries data (`selected_addrs`), but the new
        // checklist must still succeed in time.
        if self.selected.is_some() || self.failed {
            return;
        }
        let exhausted = self.checklist.len() > 0
            && self.checklist.all_failed()
            && self.remote_end_of_candidates
            && !self.checklist.has_work(true);
        let timed_out = self
            .checking_since
            .is_some_and(|t| now >= t + self.config.checking_timeout);
        if exhausted || timed_out {
            self.failed = true;
            self.transactions
                .retain(|t| matches!(t.kind, TxKind::Gather { .. }));
        }
    }

    pub(super) fn update_state(&mut self) {
        let state = if self.closed {
            IceConnectionState::Closed
        } else if self.failed {
            IceConnectionState::Failed
        } else if self.selected_addrs.is_some() {
            if self.consent_stale {
                IceConnectionState::Disconnected
            } else if self.selected.is_some()
                && self.remote_end_of_candidates
                && self.gathering == super::IceGatheringState::Complete
                && !self.checklist.has_work(false)
                && !self
                    .transactions
                    .iter()
                    .any(|t| matches!(t.kind, TxKind::Check { .. }))
            {
                IceConnectionState::Completed
            } else {
                IceConnectionState::Connected
            }
        } else if self.checking_since.is_some() {
            IceConnectionState::Checking
        } else {
            IceConnectionState::New
        };
        if state != self.state {
            self.state = state;
            self.events
                .push_back(IceEvent::ConnectionStateChanged(state));
        }
    }
}
