//! What the agent counts for `getStats` (W3C webrtc-stats `RTCIceCandidatePairStats` and the
//! candidate reports): per candidate pair, STUN requests and responses both ways, consent
//! requests, and round-trip times, measured on checks and consent requests answered without a
//! retransmission (Karn's rule: the response to a retransmitted request could answer either).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::{IceAgent, IceConnectionState, IceGatheringState, IceRole, PairState};
use crate::candidate::{Candidate, CandidateType};

/// Counters of one candidate pair (local base, remote address); they outlive an ICE restart,
/// as the W3C stats objects do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PairCounters {
    /// Connectivity checks sent, without retransmissions (`requestsSent`).
    pub requests_sent: u64,
    /// Responses received to checks and consent requests (`responsesReceived`).
    pub responses_received: u64,
    /// Checks received (`requestsReceived`).
    pub requests_received: u64,
    /// Responses sent (`responsesSent`).
    pub responses_sent: u64,
    /// Consent freshness requests sent, without retransmissions (`consentRequestsSent`).
    pub consent_requests_sent: u64,
    /// Sum of the round-trip times measured (`totalRoundTripTime`).
    pub total_round_trip_time: Duration,
    /// How many round-trip times were measured.
    pub round_trip_time_measurements: u64,
    /// The latest round-trip time measured (`currentRoundTripTime`).
    pub current_round_trip_time: Option<Duration>,
}

/// One candidate pair as `getStats` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PairStats {
    /// The local base address.
    pub local: SocketAddr,
    /// The remote candidate address.
    pub remote: SocketAddr,
    /// Its state in the checklist (`failed` for a pair no longer in it, after a restart).
    pub state: PairState,
    /// Nominated (by either side).
    pub nominated: bool,
    /// The selected pair.
    pub selected: bool,
    /// Its counters.
    pub counters: PairCounters,
}

/// A snapshot of the agent for `getStats`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IceStats {
    /// Our role.
    pub role: IceRole,
    /// The connection state.
    pub state: IceConnectionState,
    /// The gathering state.
    pub gathering: IceGatheringState,
    /// Our ufrag.
    pub local_ufrag: String,
    /// Our candidates.
    pub local_candidates: Vec<Candidate>,
    /// The peer's candidates, peer-reflexive ones included.
    pub remote_candidates: Vec<Candidate>,
    /// Every pair that has counters or is in the checklist.
    pub pairs: Vec<PairStats>,
    /// How each relay candidate (by its address) reaches its TURN server.
    pub relay_protocols: Vec<(SocketAddr, crate::turn::TurnTransport)>,
}

/// The counters of every pair, by (local base, remote address).
pub(super) type Counters = HashMap<(SocketAddr, SocketAddr), PairCounters>;

impl PairCounters {
    /// A response arrived to a request first sent `rtt` ago; `measured` unless it was
    /// retransmitted.
    pub(super) fn response(&mut self, rtt: Option<Duration>) {
        self.responses_received += 1;
        if let Some(rtt) = rtt {
            self.total_round_trip_time += rtt;
            self.round_trip_time_measurements += 1;
            self.current_round_trip_time = Some(rtt);
        }
    }
}

impl IceAgent {
    /// What `getStats` reports of ICE, now.
    pub fn stats(&self) -> IceStats {
        let selected = self.selected_addrs;
        let mut pairs: Vec<PairStats> = self
            .checklist
            .iter()
            .map(|p| PairStats {
                local: p.local,
                remote: p.remote,
                state: p.state,
                nominated: p.remote_nominated || Some((p.local, p.remote)) == selected,
                selected: Some((p.local, p.remote)) == selected,
                counters: self
                    .counters
                    .get(&(p.local, p.remote))
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        for (&(local, remote), counters) in &self.counters {
            if !pairs.iter().any(|p| p.local == local && p.remote == remote) {
                pairs.push(PairStats {
                    local,
                    remote,
                    state: PairState::Failed,
                    nominated: false,
                    selected: Some((local, remote)) == selected,
                    counters: counters.clone(),
                });
            }
        }
        IceStats {
            role: self.role,
            state: self.state,
            gathering: self.gathering,
            local_ufrag: self.local_credentials.ufrag().to_owned(),
            local_candidates: self.local_candidates(),
            remote_candidates: self
                .remotes
                .iter()
                .map(|r| {
                    let kind = if r.peer_reflexive {
                        CandidateType::PeerReflexive
                    } else {
                        r.kind.clone()
                    };
                    Candidate::new_udp(r.foundation.clone(), r.priority, r.addr, kind)
                })
                .collect(),
            pairs,
            relay_protocols: self
                .locals
                .iter()
                .filter_map(|l| Some((l.base, self.relay_protocol(l.base)?)))
                .collect(),
        }
    }

    /// The counters of the pair (`local`, `remote`), created on first use.
    pub(super) fn pair_counters(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> &mut PairCounters {
        self.counters.entry((local, remote)).or_default()
    }
}
