//! Relay candidates (RFC 8445 §5.1.1.2, RFC 8656): the agent's TURN allocations. Each runs a
//! [`TurnClient`] from one local address (a host socket for UDP, a stream's local address for
//! TCP and TLS); once allocated, its relayed address is a local candidate of type `relay` whose
//! base is itself. Checks and data from a relayed base go through the client (Send indications,
//! then ChannelData); what the server relays back is taken in as if it had arrived on the
//! relayed address.

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    Datagram, DropReason, IceAgent, IceEvent, IceGatheringState, LocalCandidate, Transmit,
    candidate_priority, local_foundation,
};
use crate::candidate::{Candidate, CandidateAddress, CandidateType};
use crate::turn::{TurnClient, TurnError, TurnEvent, TurnServerConfig, TurnState, TurnTransport};

/// Relayed data that is not STUN (DTLS, SRTP) for the caller, from [`IceAgent::poll_relayed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayedData {
    /// Our relayed address it arrived on (the local side of the pair).
    pub relayed: SocketAddr,
    /// The peer that sent it.
    pub source: SocketAddr,
    /// The payload.
    pub contents: Vec<u8>,
}

/// Relayed datagrams held for [`IceAgent::poll_relayed`]; more are dropped.
const MAX_RELAYED: usize = 256;

/// One allocation of the agent.
#[derive(Debug)]
pub(super) struct Relay {
    /// The local address its messages leave from and arrive on.
    pub(super) local: SocketAddr,
    pub(super) client: TurnClient,
}

impl Relay {
    fn transport(&self) -> TurnTransport {
        self.client.config().transport
    }

    fn server(&self) -> SocketAddr {
        self.client.config().server
    }
}

/// The local preference of a relay candidate: UDP to the server first, then TCP, then TLS (as
/// browsers rank them), then the order the servers were configured in.
fn relay_local_pref(transport: TurnTransport, index: usize) -> u32 {
    let rank = match transport {
        TurnTransport::Udp => 2,
        TurnTransport::Tcp => 1,
        TurnTransport::Tls => 0,
    };
    (rank << 14) | (0x3fff - (index as u32 & 0x3fff))
}

impl IceAgent {
    /// Starts an allocation on `server` from `local`: a host socket's address for a UDP server
    /// (what [`gather`](Self::gather) does for every UDP server of
    /// [`AgentConfig::turn_servers`](super::AgentConfig::turn_servers)), or the local address
    /// of a TCP or TLS stream the caller opened to it (the stream carries the messages
    /// [`poll_transmit`](Self::poll_transmit) gives with that source, and what it reads, cut
    /// into messages, comes back through [`handle_receive`](Self::handle_receive) with that
    /// destination). Gathering is complete only once every allocation is made or failed.
    pub fn add_relay(&mut self, now: Instant, local: SocketAddr, server: TurnServerConfig) {
        if self.closed
            || self
                .relays
                .iter()
                .any(|r| r.local == local && r.server() == server.server)
        {
            return;
        }
        let seed = rand::Rng::random(&mut self.rng);
        self.relays.push(Relay {
            local,
            client: TurnClient::new(now, server, seed),
        });
        if self.gathering == IceGatheringState::Complete {
            self.gathering = IceGatheringState::Gathering;
        }
        self.pump_relays();
    }

    /// The stream to a TURN server (the allocation from `local`) failed or closed: its
    /// allocation is gone (reported as [`IceEvent::RelayFailed`]).
    pub fn relay_connection_failed(&mut self, now: Instant, local: SocketAddr, reason: &str) {
        let error = TurnError::Connection(reason.to_owned());
        for relay in self.relays.iter_mut().filter(|r| r.local == local) {
            if matches!(
                relay.client.state(),
                TurnState::Allocating | TurnState::Allocated
            ) {
                relay.client.close(now);
                self.events.push_back(IceEvent::RelayFailed {
                    local: relay.local,
                    server: relay.client.config().server,
                    transport: relay.client.config().transport,
                    error: error.clone(),
                });
            }
        }
        self.pump_relays();
        self.maybe_gathering_complete();
    }

    /// The next relayed datagram that is not STUN (for DTLS), in arrival order.
    pub fn poll_relayed(&mut self) -> Option<RelayedData> {
        self.relayed_data.pop_front()
    }

    /// Where a datagram from `source` to `destination` goes: straight out (`Some`), or, when
    /// `source` is one of our relayed addresses, into that allocation (`None`; the server's
    /// message then comes out of [`poll_transmit`](Self::poll_transmit)). Callers sending data
    /// on the selected pair pass it through here.
    pub fn route(&mut self, transmit: Transmit) -> Option<Transmit> {
        let now = self.last_now;
        match self
            .relays
            .iter_mut()
            .find(|r| r.client.relayed_address() == Some(transmit.source))
        {
            Some(relay) => {
                relay
                    .client
                    .send_to(now, transmit.destination, &transmit.contents);
                None
            }
            None => Some(transmit),
        }
    }

    /// The next message one of the allocations has for its server.
    pub(super) fn poll_relay_transmit(&mut self) -> Option<Transmit> {
        self.relays.iter_mut().find_map(|relay| {
            relay.client.poll_transmit().map(|t| Transmit {
                source: relay.local,
                destination: t.destination,
                contents: t.contents,
            })
        })
    }

    /// A message from a TURN server to one of our allocations: handled (and `true`), with
    /// relayed STUN taken in as received on the relayed address and other relayed data queued
    /// for [`poll_relayed`](Self::poll_relayed). `false`: not from any of our servers.
    pub(super) fn receive_from_relay(&mut self, now: Instant, d: Datagram<'_>) -> bool {
        let Some(index) = self
            .relays
            .iter()
            .position(|r| r.local == d.destination && r.client.server() == d.source)
        else {
            return false;
        };
        let relay = &mut self.relays[index];
        let relayed = relay.client.relayed_address();
        let inner = relay.client.handle_receive(now, d.contents);
        self.pump_relays();
        let (Some(relayed), Some((peer, contents))) = (relayed, inner) else {
            return true;
        };
        if self.closed || self.failed {
            return true;
        }
        if matches!(contents.first(), Some(0..=3)) {
            let inner = Datagram {
                source: peer,
                destination: relayed,
                contents: &contents,
            };
            if let Err(reason) = self.receive(now, inner) {
                self.drops.count(reason);
            }
        } else if self.relayed_data.len() < MAX_RELAYED {
            self.relayed_data.push_back(RelayedData {
                relayed,
                source: peer,
                contents,
            });
        } else {
            self.drops.count(DropReason::RelayQueueFull);
        }
        true
    }

    /// The allocations' timers.
    pub(super) fn relay_timeouts(&mut self, now: Instant) {
        for relay in &mut self.relays {
            if relay.client.poll_timeout().is_some_and(|due| due <= now) {
                relay.client.handle_timeout(now);
            }
        }
        self.pump_relays();
    }

    /// The earliest allocation timer.
    pub(super) fn relay_timeout(&self) -> Option<Instant> {
        self.relays
            .iter()
            .filter_map(|r| r.client.poll_timeout())
            .min()
    }

    /// Whether an allocation is still being made (gathering waits for it).
    pub(super) fn relays_pending(&self) -> bool {
        self.relays
            .iter()
            .any(|r| r.client.state() == TurnState::Allocating)
    }

    /// Deletes every allocation (close): one Refresh with lifetime 0 each.
    pub(super) fn close_relays(&mut self, now: Instant) {
        for relay in &mut self.relays {
            relay.client.close(now);
        }
    }

    /// After an ICE restart: an allocation that failed is made again, from the same local
    /// address (the ones that work are kept, with their candidates).
    pub(super) fn reallocate_failed_relays(&mut self, now: Instant) {
        let mut restarted = false;
        for relay in &mut self.relays {
            if matches!(relay.client.state(), TurnState::Failed | TurnState::Closed) {
                let seed = rand::Rng::random(&mut self.rng);
                relay.client = TurnClient::new(now, relay.client.config().clone(), seed);
                restarted = true;
            }
        }
        if restarted && self.gathering == IceGatheringState::Complete {
            self.gathering = IceGatheringState::Gathering;
        }
        self.pump_relays();
    }

    /// Takes the allocations' events: a new allocation becomes a relay candidate (paired with
    /// every remote candidate); a failed one is reported.
    pub(super) fn pump_relays(&mut self) {
        let mut allocated = Vec::new();
        for (index, relay) in self.relays.iter_mut().enumerate() {
            while let Some(event) = relay.client.poll_event() {
                match event {
                    TurnEvent::Allocated { relayed, mapped } => {
                        allocated.push((index, relay.transport(), relayed, mapped));
                    }
                    TurnEvent::Failed(error) => {
                        self.events.push_back(IceEvent::RelayFailed {
                            local: relay.local,
                            server: relay.client.config().server,
                            transport: relay.client.config().transport,
                            error,
                        });
                    }
                    TurnEvent::PermissionFailed { peer, error } => {
                        tracing::debug!(%peer, %error, "TURN permission refused");
                    }
                    TurnEvent::Closed => {}
                }
            }
        }
        for (index, transport, relayed, mapped) in allocated {
            self.add_relay_candidate(index, transport, relayed, mapped);
        }
        self.maybe_gathering_complete();
    }

    fn add_relay_candidate(
        &mut self,
        index: usize,
        transport: TurnTransport,
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
    ) {
        if self.locals.iter().any(|l| l.base == relayed) {
            return;
        }
        let kind = CandidateType::Relay;
        let mut candidate = Candidate::new_udp(
            local_foundation(&kind, relayed),
            candidate_priority(&kind, relay_local_pref(transport, index)),
            relayed,
            kind,
        );
        if let Some(mapped) = mapped {
            candidate.related_address = Some(CandidateAddress::Ip(mapped.ip()));
            candidate.related_port = Some(mapped.port());
        }
        self.locals.push(LocalCandidate {
            candidate: candidate.clone(),
            base: relayed,
        });
        self.events
            .push_back(IceEvent::NewLocalCandidate(candidate));
        for r in 0..self.remotes.len() {
            self.pair_remote(r);
        }
    }

    /// The local addresses the allocations use (host sockets, streams).
    pub fn relay_locals(&self) -> Vec<SocketAddr> {
        self.relays.iter().map(|r| r.local).collect()
    }

    /// Whether an allocation runs from `local` (a message from its server arriving there is
    /// this agent's).
    pub fn has_relay_from(&self, local: SocketAddr) -> bool {
        self.relays.iter().any(|r| r.local == local)
    }

    /// The transport to the server behind a relayed base, for getStats' `relayProtocol`.
    pub fn relay_protocol(&self, relayed: SocketAddr) -> Option<TurnTransport> {
        self.relays
            .iter()
            .find(|r| r.client.relayed_address() == Some(relayed))
            .map(Relay::transport)
    }
}
