//! Two agents on a virtual clock over the seeded simulated network.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_ice::sim::{LinkConfig, SimNetwork, stun_server_reply};
use antiphon_ice::turn::server::SimTurnServer;
use antiphon_ice::{
    AgentConfig, Candidate, Datagram, IceAgent, IceConnectionState, IceCredentials, IceEvent,
    IceRole,
};
use rand::SeedableRng;

pub struct Side {
    pub agent: IceAgent,
    pub addr: SocketAddr,
    pub events: Vec<IceEvent>,
    /// Every connection state the agent went through, with the time.
    pub states: Vec<(Instant, IceConnectionState)>,
    pub sent: u64,
}

/// How a STUN server maps a client address to its reflexive address.
pub type MapFn = fn(SocketAddr) -> SocketAddr;

pub struct World {
    pub start: Instant,
    pub now: Instant,
    pub net: SimNetwork,
    pub a: Side,
    pub b: Side,
    /// STUN server address and the reflexive address it reports for each client.
    pub stun_server: Option<(SocketAddr, MapFn)>,
    /// A TURN server both sides may allocate on.
    pub turn: Option<SimTurnServer>,
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

pub fn config(seed: u64) -> AgentConfig {
    let mut c = AgentConfig::default();
    c.seed = Some(seed);
    c
}

pub fn creds(seed: u64) -> IceCredentials {
    IceCredentials::generate_with(&mut rand::rngs::StdRng::seed_from_u64(seed))
}

impl World {
    /// Two agents, A at 10.0.0.1:5000 and B at 10.0.0.2:6000, credentials exchanged, host
    /// candidates gathered (not yet exchanged).
    pub fn new(seed: u64, link: LinkConfig, role_a: IceRole, role_b: IceRole) -> World {
        Self::with_configs(
            seed,
            link,
            (config(seed * 2 + 1), role_a),
            (config(seed * 2 + 2), role_b),
        )
    }

    /// [`World::new`] with A controlling and B controlled on a default link: the pair most
    /// scenarios start from.
    pub fn controlling_a(seed: u64) -> World {
        Self::new(
            seed,
            LinkConfig::default(),
            IceRole::Controlling,
            IceRole::Controlled,
        )
    }

    /// Runs `time` more and checks that A sent nothing in it (a failed agent is quiet).
    pub fn assert_a_sends_nothing_for(&mut self, time: Duration) {
        let sent = self.a.sent;
        self.run_until(time, |_| false);
        assert_eq!(self.a.sent, sent, "a failed agent kept sending");
    }

    pub fn with_configs(
        seed: u64,
        link: LinkConfig,
        a: (AgentConfig, IceRole),
        b: (AgentConfig, IceRole),
    ) -> World {
        let start = Instant::now();
        let (ca, cb) = (creds(seed * 7 + 1), creds(seed * 7 + 2));
        let mut agent_a = IceAgent::new(start, a.0, a.1, ca.clone());
        let mut agent_b = IceAgent::new(start, b.0, b.1, cb.clone());
        agent_a.set_remote_credentials(cb);
        agent_b.set_remote_credentials(ca);
        let (addr_a, addr_b) = (addr("10.0.0.1:5000"), addr("10.0.0.2:6000"));
        agent_a.gather(&[addr_a]);
        agent_b.gather(&[addr_b]);
        let side = |agent, addr| Side {
            agent,
            addr,
            events: Vec::new(),
            states: Vec::new(),
            sent: 0,
        };
        World {
            start,
            now: start,
            net: SimNetwork::new(seed, link),
            a: side(agent_a, addr_a),
            b: side(agent_b, addr_b),
            stun_server: None,
            turn: None,
        }
    }

    /// Signals every local candidate of each side to the other.
    pub fn exchange_candidates(&mut self) {
        for c in self.a.agent.local_candidates() {
            self.b
                .agent
                .add_remote_candidate(&c)
                .expect("B accepts A's candidate");
        }
        for c in self.b.agent.local_candidates() {
            self.a
                .agent
                .add_remote_candidate(&c)
                .expect("A accepts B's candidate");
        }
    }

    fn flush(&mut self) {
        for side in [&mut self.a, &mut self.b] {
            while let Some(t) = side.agent.poll_transmit() {
                side.sent += 1;
                self.net.send(self.now, t);
            }
            while let Some(e) = side.agent.poll_event() {
                if let IceEvent::ConnectionStateChanged(s) = e {
                    side.states.push((self.now, s));
                }
                side.events.push(e);
            }
        }
    }

    /// Advances to the next thing that happens. False when nothing will ever happen again.
    pub fn step(&mut self) -> bool {
        self.step_within(None)
    }

    /// Runs exactly `time` of virtual time: everything due in it happens, and the clock ends
    /// at its end (not at the next thing that happens after it).
    pub fn advance(&mut self, time: Duration) {
        let end = self.now + time;
        while self.step_within(Some(end)) {}
        self.now = self.now.max(end);
    }

    /// [`step`](Self::step), but nothing after `limit`: false once the next thing is later.
    fn step_within(&mut self, limit: Option<Instant>) -> bool {
        self.flush();
        let next = [
            self.a.agent.poll_timeout(),
            self.b.agent.poll_timeout(),
            self.net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            return false;
        };
        if limit.is_some_and(|limit| next > limit) {
            return false;
        }
        self.now = self.now.max(next);
        while let Some(t) = self.net.pop_due(self.now) {
            if let Some(turn) = self.turn.as_mut()
                && turn.owns(t.destination)
            {
                for reply in turn.handle(self.now, &t) {
                    self.net.send(self.now, reply);
                }
                continue;
            }
            if let Some((server, map)) = self.stun_server
                && t.destination == server
            {
                if let Some(reply) = stun_server_reply(&t, map(t.source)) {
                    self.net.send(self.now, reply);
                }
                continue;
            }
            let d = Datagram {
                source: t.source,
                destination: t.destination,
                contents: &t.contents,
            };
            for side in [&mut self.a, &mut self.b] {
                if side.addr == t.destination {
                    let _ = side.agent.handle_receive(self.now, d);
                }
            }
        }
        for side in [&mut self.a, &mut self.b] {
            if side.agent.poll_timeout().is_some_and(|t| t <= self.now) {
                side.agent.handle_timeout(self.now);
            }
        }
        self.flush();
        true
    }

    /// Runs until `done` holds or `limit` of virtual time passes; returns whether `done` held.
    pub fn run_until(&mut self, limit: Duration, done: impl Fn(&World) -> bool) -> bool {
        let deadline = self.now + limit;
        let mut steps = 0u32;
        while self.now < deadline && steps < 200_000 {
            if done(self) {
                return true;
            }
            if !self.step() {
                break;
            }
            steps += 1;
        }
        done(self)
    }

    pub fn both_connected(&self) -> bool {
        self.a.agent.state() == IceConnectionState::Connected
            && self.b.agent.state() == IceConnectionState::Connected
    }

    /// Both sides selected the same path.
    pub fn assert_consistent_selection(&self) {
        let (la, ra) = self.a.agent.selected_pair().expect("A selected a pair");
        let (lb, rb) = self.b.agent.selected_pair().expect("B selected a pair");
        assert_eq!((la, ra), (rb, lb), "A and B selected different paths");
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}

pub fn mdns_candidate(name: &str, port: u16) -> Candidate {
    Candidate::parse(&format!(
        "candidate:1 1 udp 2122260223 {name} {port} typ host generation 0"
    ))
    .expect("mDNS candidate parses")
}
