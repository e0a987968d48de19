//! A small deterministic network simulator (feature `sim`): seeded delay, jitter (and so
//! reordering), loss and duplication, plus blocking an address to model a peer that vanished.
//! It moves [`Transmit`]s on a virtual clock; tests here and in the peer crate drive agents with it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::agent::Transmit;

/// Link behaviour, applied to every datagram independently.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// Base one-way delay.
    pub delay: Duration,
    /// Extra uniformly random delay in `0..=jitter` (reorders datagrams).
    pub jitter: Duration,
    /// Probability a datagram is lost, 0.0..=1.0.
    pub loss: f64,
    /// Probability a datagram is delivered twice, 0.0..=1.0.
    pub duplicate: f64,
    /// Largest datagram the path carries; larger ones are dropped (and counted as lost), as
    /// a path that does not fragment drops them. `None`: no limit.
    pub mtu: Option<usize>,
}

/// Builders: `LinkConfig::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl LinkConfig {
    /// The same, with [`delay`](Self::delay) set.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The same, with [`jitter`](Self::jitter) set.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// The same, with [`loss`](Self::loss) set.
    #[must_use]
    pub fn with_loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// The same, with [`duplicate`](Self::duplicate) set.
    #[must_use]
    pub fn with_duplicate(mut self, duplicate: f64) -> Self {
        self.duplicate = duplicate;
        self
    }

    /// The same, with [`mtu`](Self::mtu) set.
    #[must_use]
    pub fn with_mtu(mut self, mtu: Option<usize>) -> Self {
        self.mtu = mtu;
        self
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(20),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            mtu: None,
        }
    }
}

/// The simulated network.
#[derive(Debug)]
pub struct SimNetwork {
    rng: StdRng,
    link: LinkConfig,
    in_flight: BTreeMap<(Instant, u64), Transmit>,
    seq: u64,
    blocked: Vec<SocketAddr>,
    sent: u64,
    lost: u64,
}

impl SimNetwork {
    /// A network with this seed and link behaviour.
    pub fn new(seed: u64, link: LinkConfig) -> Self {
        SimNetwork {
            rng: StdRng::seed_from_u64(seed),
            link,
            in_flight: BTreeMap::new(),
            seq: 0,
            blocked: Vec::new(),
            sent: 0,
            lost: 0,
        }
    }

    /// Changes the link behaviour for datagrams sent from now on.
    pub fn set_link(&mut self, link: LinkConfig) {
        self.link = link;
    }

    /// Drops every datagram from or to `addr` from now on (including those in flight).
    pub fn block(&mut self, addr: SocketAddr) {
        self.blocked.push(addr);
        self.in_flight
            .retain(|_, t| t.source != addr && t.destination != addr);
    }

    /// Undoes [`SimNetwork::block`].
    pub fn unblock(&mut self, addr: SocketAddr) {
        self.blocked.retain(|a| *a != addr);
    }

    /// Sends a datagram at `now`.
    pub fn send(&mut self, now: Instant, transmit: Transmit) {
        self.sent += 1;
        if self.blocked.contains(&transmit.source) || self.blocked.contains(&transmit.destination) {
            self.lost += 1;
            return;
        }
        if self
            .link
            .mtu
            .is_some_and(|mtu| transmit.contents.len() > mtu)
        {
            self.lost += 1;
            return;
        }
        if self.rng.random_bool(self.link.loss.clamp(0.0, 1.0)) {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.random_bool(self.link.duplicate.clamp(0.0, 1.0)) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self.link.jitter.mul_f64(self.rng.random_range(0.0..=1.0));
            self.seq += 1;
            self.in_flight
                .insert((now + self.link.delay + jitter, self.seq), transmit.clone());
        }
    }

    /// When the next datagram arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(t, _)| *t)
    }

    /// The next datagram due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<Transmit> {
        let key = *self.in_flight.keys().next()?;
        if key.0 > now {
            return None;
        }
        self.in_flight.remove(&key)
    }

    /// Datagrams sent and datagrams lost (including blocked ones).
    pub fn counters(&self) -> (u64, u64) {
        (self.sent, self.lost)
    }
}

/// What a STUN server at `request.destination` answers to a Binding request: a success response
/// reporting `mapped` as the client's server-reflexive address. `None` for anything else.
pub fn stun_server_reply(request: &Transmit, mapped: SocketAddr) -> Option<Transmit> {
    let header = crate::agent::stun::peek_header(&request.contents)?;
    if header.class != stun_rs::MessageClass::Request
        || header.method != crate::agent::stun::BINDING_METHOD
    {
        return None;
    }
    Some(Transmit {
        source: request.destination,
        destination: request.source,
        contents: crate::agent::stun::encode_server_success(header.transaction, mapped),
    })
}
