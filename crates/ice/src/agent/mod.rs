//! The sans-IO ICE agent (RFC 8445, RFC 7675) for one data stream with one component (WebRTC
//! with BUNDLE and rtcp-mux).
//!
//! Inputs are received datagrams ([`IceAgent::handle_receive`]) and timeouts
//! ([`IceAgent::handle_timeout`]), each with the current time; outputs are datagrams to send
//! ([`IceAgent::poll_transmit`]), the next wake-up ([`IceAgent::poll_timeout`]) and events
//! ([`IceAgent::poll_event`]). The agent never reads the clock; its randomness comes from a
//! seedable generator ([`AgentConfig::seed`]).

mod checklist;
mod consent;
mod pair;
mod receive;
mod relay;
pub(crate) mod stun;
mod timers;
mod types;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_types::queue::ShrinkWhenDrained;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stun_rs::HMACKey;

use crate::candidate::{Candidate, CandidateAddress, CandidateType, Transport};
use crate::credentials::IceCredentials;
use crate::error::{Error, RemoteCandidateError};
use checklist::{CheckList, PairId};
mod stats;
use consent::Consent;
use pair::CandidatePair;

pub use pair::{PairState, pair_priority};
pub use relay::RelayedData;
pub use stats::{IceStats, PairCounters, PairStats};
pub use types::{
    AgentConfig, Datagram, DropCounters, DropReason, IceConnectionState, IceEvent,
    IceGatheringState, IceRole, Transmit,
};

/// Most local host addresses the agent accepts.
const MAX_LOCAL_CANDIDATES: usize = 32;
/// Retransmissions of a server-reflexive gathering request.
const GATHER_RETRANSMITS: u32 = 2;

/// A local candidate and the base it is sent from.
#[derive(Debug, Clone)]
struct LocalCandidate {
    candidate: Candidate,
    base: SocketAddr,
}

/// A remote candidate with a usable address.
#[derive(Debug, Clone)]
struct RemoteCandidate {
    addr: SocketAddr,
    priority: u32,
    foundation: String,
    /// Its type as signalled (reported by `getStats`).
    kind: CandidateType,
    peer_reflexive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Check {
        pair: PairId,
        nominating: bool,
        role: IceRole,
    },
    Consent,
    Gather {
        local_pref: u32,
    },
}

/// An outstanding STUN transaction.
#[derive(Debug, Clone)]
struct Transaction {
    id: [u8; 12],
    kind: TxKind,
    local: SocketAddr,
    remote: SocketAddr,
    /// The key of the response's MESSAGE-INTEGRITY (none for STUN servers).
    key: Option<HMACKey>,
    bytes: Vec<u8>,
    deadline: Instant,
    rto: Duration,
    retransmits_left: u32,
    /// When it was first sent, and whether it was sent again: a round-trip time is measured
    /// only on a response to a request sent once.
    sent_at: Instant,
    retransmitted: bool,
}

/// The ICE agent. See the module documentation.
#[derive(Debug)]
pub struct IceAgent {
    config: AgentConfig,
    rng: StdRng,
    role: IceRole,
    tie_breaker: u64,
    local_credentials: IceCredentials,
    remote_credentials: Option<IceCredentials>,
    /// HMAC keys of our password and of the peer's.
    local_key: Option<HMACKey>,
    remote_key: Option<HMACKey>,
    locals: Vec<LocalCandidate>,
    remotes: Vec<RemoteCandidate>,
    prflx_count: usize,
    checklist: CheckList,
    transactions: Vec<Transaction>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
    state: IceConnectionState,
    gathering: IceGatheringState,
    gather_queue: VecDeque<(SocketAddr, SocketAddr, u32)>,
    last_paced: Option<Instant>,
    selected: Option<PairId>,
    selected_addrs: Option<(SocketAddr, SocketAddr)>,
    nominating: Option<PairId>,
    first_valid_at: Option<Instant>,
    checking_since: Option<Instant>,
    remote_end_of_candidates: bool,
    failed: bool,
    consent: Consent,
    consent_stale: bool,
    drops: DropCounters,
    /// Per-pair counters for `getStats`.
    counters: stats::Counters,
    closed: bool,
    /// TURN allocations (relay candidates).
    relays: Vec<relay::Relay>,
    /// Relayed non-STUN datagrams for [`IceAgent::poll_relayed`].
    relayed_data: VecDeque<RelayedData>,
    /// The latest time handed to us.
    last_now: Instant,
}

/// A stable foundation for local candidates of one type and base (RFC 8445 section 5.1.1.3).
fn local_foundation(kind: &CandidateType, base: SocketAddr) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in kind
        .as_str()
        .bytes()
        .chain(base.ip().to_string().into_bytes())
    {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    hash.to_string()
}

/// RFC 8445 section 5.1.2.1 priority for component 1.
fn candidate_priority(kind: &CandidateType, local_pref: u32) -> u32 {
    (kind.type_preference() << 24) | ((local_pref & 0xffff) << 8) | 255
}

fn same_scope(a: SocketAddr, b: SocketAddr) -> bool {
    a.is_ipv4() == b.is_ipv4() && a.ip().is_loopback() == b.ip().is_loopback()
}

impl IceAgent {
    /// A new agent with our credentials. An answerer is [`IceRole::Controlled`]; an agent facing
    /// an ICE-lite peer ([`AgentConfig::remote_ice_lite`]) is always controlling.
    ///
    /// `now` is the creation time; the agent never reads the clock itself.
    pub fn new(
        now: Instant,
        config: AgentConfig,
        role: IceRole,
        local_credentials: IceCredentials,
    ) -> Self {
        let mut rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let role = if config.remote_ice_lite {
            IceRole::Controlling
        } else {
            role
        };
        let tie_breaker = rng.random();
        IceAgent {
            checklist: CheckList::new(config.max_pairs),
            config,
            rng,
            role,
            tie_breaker,
            local_key: stun::short_term_key(local_credentials.pwd()),
            local_credentials,
            remote_credentials: None,
            remote_key: None,
            locals: Vec::new(),
            remotes: Vec::new(),
            prflx_count: 0,
            transactions: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            state: IceConnectionState::New,
            gathering: IceGatheringState::New,
            gather_queue: VecDeque::new(),
            last_paced: None,
            selected: None,
            selected_addrs: None,
            nominating: None,
            first_valid_at: None,
            checking_since: None,
            remote_end_of_candidates: false,
            failed: false,
            consent: Consent::default(),
            consent_stale: false,
            drops: DropCounters::default(),
            counters: stats::Counters::new(),
            closed: false,
            relays: Vec::new(),
            relayed_data: VecDeque::new(),
            last_now: now,
        }
    }

    /// Our role.
    pub fn role(&self) -> IceRole {
        self.role
    }

    /// Our ICE-CONTROLLING / ICE-CONTROLLED tie-breaker.
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    /// Our credentials (for `a=ice-ufrag` / `a=ice-pwd`).
    pub fn local_credentials(&self) -> &IceCredentials {
        &self.local_credentials
    }

    /// The peer's credentials, once known.
    pub fn remote_credentials(&self) -> Option<&IceCredentials> {
        self.remote_credentials.as_ref()
    }

    /// The connection state.
    pub fn state(&self) -> IceConnectionState {
        self.state
    }

    /// The gathering state.
    pub fn gathering_state(&self) -> IceGatheringState {
        self.gathering
    }

    /// The pair to send data on, `(local base, remote)`; `None` before a pair is selected, and
    /// after consent is lost or the agent is closed (RFC 7675: stop sending).
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        if self.failed || self.closed {
            return None;
        }
        self.selected_addrs
    }

    /// Our candidates so far (host, server-reflexive and relay), in the order they were found.
    pub fn local_candidates(&self) -> Vec<Candidate> {
        self.locals.iter().map(|l| l.candidate.clone()).collect()
    }

    /// Counters of dropped datagrams.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// Number of candidate pairs in the checklist.
    pub fn pair_count(&self) -> usize {
        self.checklist.len()
    }

    /// Number of remote candidates with a usable address (signalled or peer-reflexive).
    pub fn remote_candidate_count(&self) -> usize {
        self.remotes.len()
    }

    /// The state of the pair `local -> remote`, if it is in the checklist.
    pub fn pair_state(&self, local: SocketAddr, remote: SocketAddr) -> Option<PairState> {
        self.checklist
            .find(local, remote)
            .and_then(|id| self.checklist.get(id))
            .map(|p| p.state)
    }

    /// Sets the peer's credentials. New credentials after earlier ones mean the peer restarted
    /// ICE: its candidates and the checklist are discarded (RFC 8445 section 9).
    pub fn set_remote_credentials(&mut self, credentials: IceCredentials) {
        if self
            .remote_credentials
            .as_ref()
            .is_some_and(|c| *c != credentials)
        {
            self.reset_checks();
        }
        self.remote_key = stun::short_term_key(credentials.pwd());
        self.remote_credentials = Some(credentials);
    }

    /// Adds host candidates for these local socket addresses (the sockets the driver bound),
    /// starts server-reflexive gathering from [`AgentConfig::stun_servers`] and an allocation on
    /// every UDP server of [`AgentConfig::turn_servers`] (from the first host address of the
    /// server's family and scope). With [`AgentConfig::relay_only`] only the allocations are
    /// made, and only relay candidates are offered and paired.
    pub fn gather(&mut self, hosts: &[SocketAddr]) {
        if self.closed {
            return;
        }
        let now = self.last_now;
        for server in self.config.turn_servers.clone() {
            if server.transport != crate::turn::TurnTransport::Udp {
                continue;
            }
            if let Some(&base) = hosts.iter().find(|h| same_scope(**h, server.server)) {
                self.add_relay(now, base, server);
            }
        }
        if !self.config.relay_only {
            self.add_hosts(hosts);
        }
        self.gathering = IceGatheringState::Gathering;
        self.maybe_gathering_complete();
    }

    /// Host candidates for `hosts`, each paired with the remote candidates, and the
    /// server-reflexive gathering from each.
    fn add_hosts(&mut self, hosts: &[SocketAddr]) {
        // One host candidate per socket: room for exactly these (the default growth kept room
        // for four ~0.25 KiB candidates per agent).
        self.locals.reserve_exact(hosts.len());
        for &base in hosts {
            if self.locals.len() >= MAX_LOCAL_CANDIDATES
                || self.locals.iter().any(|l| l.base == base)
            {
                continue;
            }
            let local_pref = 65535 - self.locals.len() as u32;
            let kind = CandidateType::Host;
            let candidate = Candidate::new_udp(
                local_foundation(&kind, base),
                candidate_priority(&kind, local_pref),
                base,
                kind,
            );
            self.locals.push(LocalCandidate {
                candidate: candidate.clone(),
                base,
            });
            self.events
                .push_back(IceEvent::NewLocalCandidate(candidate));
            for server in self.config.stun_servers.clone() {
                if server.is_ipv4() == base.is_ipv4() {
                    self.gather_queue.push_back((base, server, local_pref));
                }
            }
            for r in 0..self.remotes.len() {
                self.pair_remote(r);
            }
        }
    }

    fn maybe_gathering_complete(&mut self) {
        let pending = self
            .transactions
            .iter()
            .any(|t| matches!(t.kind, TxKind::Gather { .. }));
        if self.gathering == IceGatheringState::Gathering
            && self.gather_queue.is_empty()
            && !pending
            && !self.relays_pending()
        {
            self.gathering = IceGatheringState::Complete;
            self.events.push_back(IceEvent::GatheringComplete);
        }
    }

    /// Adds a remote candidate (from the offer/answer or trickled). Candidates whose address is
    /// a host name (e.g. an mDNS `.local` name) are accepted but not paired: such a peer is
    /// reached through the peer-reflexive candidate learned from its checks.
    pub fn add_remote_candidate(&mut self, candidate: &Candidate) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        if self.remote_end_of_candidates {
            return Err(RemoteCandidateError::AfterEndOfCandidates.into());
        }
        if candidate.transport != Transport::Udp {
            return Err(RemoteCandidateError::UnsupportedTransport.into());
        }
        if candidate.component != 1 {
            return Err(RemoteCandidateError::UnsupportedComponent(candidate.component).into());
        }
        if matches!(candidate.kind, CandidateType::Other(_)) {
            return Err(RemoteCandidateError::UnsupportedType.into());
        }
        if let (Some(ufrag), Some(creds)) = (&candidate.ufrag, &self.remote_credentials)
            && ufrag != creds.ufrag()
        {
            return Err(RemoteCandidateError::WrongUfrag.into());
        }
        let CandidateAddress::Ip(ip) = candidate.address else {
            return Ok(());
        };
        let addr = SocketAddr::new(ip, candidate.port);
        if let Some(i) = self.remotes.iter().position(|r| r.addr == addr) {
            // A signalled candidate replaces a peer-reflexive one learned earlier.
            let r = &mut self.remotes[i];
            if r.peer_reflexive {
                r.peer_reflexive = false;
                r.priority = candidate.priority;
                r.foundation = candidate.foundation.clone();
                self.prflx_count = self.prflx_count.saturating_sub(1);
                for p in &mut self.checklist.pairs {
                    if p.remote == addr {
                        p.remote_priority = candidate.priority;
                    }
                }
            }
            return Ok(());
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            return Err(RemoteCandidateError::TooManyCandidates.into());
        }
        self.remotes.push(RemoteCandidate {
            addr,
            priority: candidate.priority,
            foundation: candidate.foundation.clone(),
            kind: candidate.kind.clone(),
            peer_reflexive: false,
        });
        self.pair_remote(self.remotes.len() - 1);
        Ok(())
    }

    /// The peer signalled end-of-candidates: once every pair failed, the agent fails.
    pub fn end_of_remote_candidates(&mut self) {
        self.remote_end_of_candidates = true;
    }

    /// Pairs remote candidate `r` with every local base of the same family and scope.
    fn pair_remote(&mut self, r: usize) -> Option<PairId> {
        let remote = self.remotes.get(r)?.clone();
        let mut last = None;
        let controlling = self.role == IceRole::Controlling;
        for local in self
            .locals
            .iter()
            .filter(|l| matches!(l.candidate.kind, CandidateType::Host | CandidateType::Relay))
        {
            if !same_scope(local.base, remote.addr) {
                continue;
            }
            let pair = CandidatePair {
                local: local.base,
                remote: remote.addr,
                local_priority: local.candidate.priority,
                remote_priority: remote.priority,
                foundation: format!("{}:{}", local.candidate.foundation, remote.foundation),
                state: pair::PairState::Frozen,
                remote_nominated: false,
                nominating: false,
            };
            match self.checklist.add(pair, controlling) {
                checklist::Added::New(id) | checklist::Added::Existing(id) => last = Some(id),
                checklist::Added::Refused => self.drops.count(DropReason::PairLimit),
            }
        }
        last
    }

    /// ICE restart (RFC 8445 section 9) with our new credentials: remote credentials,
    /// candidates and the checklist are discarded. Data keeps flowing on the previously selected
    /// pair until a new pair is selected.
    pub fn restart(&mut self, local_credentials: IceCredentials) {
        self.local_key = stun::short_term_key(local_credentials.pwd());
        self.local_credentials = local_credentials;
        self.remote_credentials = None;
        self.remote_key = None;
        self.reset_checks();
        self.reallocate_failed_relays(self.last_now);
    }

    fn reset_checks(&mut self) {
        self.remotes.clear();
        self.prflx_count = 0;
        self.checklist.clear();
        self.transactions
            .retain(|t| matches!(t.kind, TxKind::Gather { .. }));
        self.selected = None;
        self.nominating = None;
        self.first_valid_at = None;
        self.checking_since = None;
        self.remote_end_of_candidates = false;
        self.failed = false;
        self.consent.stop();
        self.consent_stale = false;
    }

    /// Closes the agent: nothing more is sent or accepted.
    /// TURN allocations are deleted (their last messages still come out of
    /// [`poll_transmit`](Self::poll_transmit)).
    pub fn close(&mut self) {
        self.closed = true;
        self.close_relays(self.last_now);
        self.relayed_data.clear();
        self.transactions.clear();
        self.transmits.clear();
        self.checklist.clear();
        self.consent.stop();
        self.update_state();
    }

    /// The next datagram to send. Checks and responses on a relay candidate come out as the
    /// TURN messages that carry them to the server.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        loop {
            if let Some(transmit) = self.poll_relay_transmit() {
                return Some(transmit);
            }
            let Some(transmit) = self.transmits.pop_front() else {
                // Checks go out in bursts (a connection's start, a restart); consent
                // freshness needs one at a time.
                self.transmits.shrink_when_drained();
                return None;
            };
            if let Some(direct) = self.route(transmit) {
                return Some(direct);
            }
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        let event = self.events.pop_front();
        if self.events.is_empty() {
            // Events come in small bursts, a few in a connection's life, and an event is
            // ~0.2 KiB: an agent with none pending keeps no room for them.
            self.events.shrink_to_fit();
        }
        event
    }

    fn ordinary_checks(&self) -> bool {
        self.selected.is_none()
    }

    fn can_send_paced(&self) -> bool {
        if self.failed {
            return false;
        }
        let room = self.transactions.len() < self.config.max_transactions;
        room && (!self.gather_queue.is_empty()
            || (self.remote_credentials.is_some()
                && self.checklist.has_work(self.ordinary_checks())))
    }

    /// When [`IceAgent::handle_timeout`] should be called next (an instant in the past means
    /// "now").
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            // Only the allocations' deletions are left.
            return self.relay_timeout();
        }
        let mut next: Vec<Instant> = self.transactions.iter().map(|t| t.deadline).collect();
        if self.can_send_paced() {
            next.push(
                self.last_paced
                    .map_or(self.last_now, |t| t + self.config.ta),
            );
        }
        if self.role == IceRole::Controlling
            && self.selected.is_none()
            && self.nominating.is_none()
            && let Some(t) = self.first_valid_at
        {
            next.push(t + self.config.nomination_delay);
        }
        let (stale, lost) = (
            self.config.disconnected_timeout,
            self.config.consent_timeout,
        );
        if let Some(t) = self.consent.next_deadline(self.last_now, stale, lost) {
            next.push(t);
        }
        if self.selected.is_none()
            && !self.failed
            && let Some(t) = self.checking_since
        {
            next.push(t + self.config.checking_timeout);
        }
        next.extend(self.relay_timeout());
        next.into_iter().min()
    }
}
