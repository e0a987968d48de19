//! The sans-IO ICE agent on real UDP sockets: two agents, each on its own socket on loopback,
//! driven by one plain loop (no async runtime): what the agent wants sent is sent, what
//! arrives is handed to it (STUN by its first byte, RFC 7983; anything else is the
//! application's), and it is woken when it asks. Candidates go from one agent to the other
//! directly: that is the signaling. Once both are connected, each sends a greeting on the
//! selected pair.
//!
//! ```sh
//! cargo run -p antiphon-ice --example udp_agent
//! ```

#![allow(clippy::print_stdout)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use antiphon_ice::{
    AgentConfig, Datagram, IceAgent, IceConnectionState, IceCredentials, IceEvent, IceRole,
};

/// One endpoint: an agent and its socket.
struct Endpoint {
    name: &'static str,
    agent: IceAgent,
    socket: UdpSocket,
    local: SocketAddr,
    selected: Option<(SocketAddr, SocketAddr)>,
    state: IceConnectionState,
    greeting: Option<String>,
}

impl Endpoint {
    fn new(name: &'static str, role: IceRole, now: Instant) -> std::io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        let agent = IceAgent::new(
            now,
            AgentConfig::default(),
            role,
            IceCredentials::generate(),
        );
        Ok(Self {
            name,
            agent,
            socket,
            local,
            selected: None,
            state: IceConnectionState::New,
            greeting: None,
        })
    }

    /// Sends what the agent asks, reads what arrived, wakes the agent when it asked; returns
    /// the events for the other side (its signaling).
    fn drive(&mut self) -> std::io::Result<Vec<IceEvent>> {
        while let Some(transmit) = self.agent.poll_transmit() {
            self.socket
                .send_to(&transmit.contents, transmit.destination)?;
        }
        let mut buffer = [0u8; 2048];
        loop {
            let (len, source) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            let contents = &buffer[..len];
            if contents.first().is_some_and(|b| *b <= 3) {
                let datagram = Datagram {
                    source,
                    destination: self.local,
                    contents,
                };
                // A datagram the agent drops (a stray, a bad integrity check) changes nothing.
                let _ = self.agent.handle_receive(Instant::now(), datagram);
            } else {
                self.greeting = Some(String::from_utf8_lossy(contents).into_owned());
            }
        }
        let now = Instant::now();
        if self.agent.poll_timeout().is_some_and(|at| at <= now) {
            self.agent.handle_timeout(now);
        }
        let mut signaled = Vec::new();
        while let Some(event) = self.agent.poll_event() {
            match &event {
                IceEvent::ConnectionStateChanged(state) => {
                    println!("{}: {state:?}", self.name);
                    self.state = *state;
                }
                IceEvent::SelectedPairChanged { local, remote } => {
                    println!("{}: selected {local} -> {remote}", self.name);
                    self.selected = Some((*local, *remote));
                }
                _ => {}
            }
            signaled.push(event);
        }
        Ok(signaled)
    }

    /// The other side's candidates and end of candidates.
    fn signaled(&mut self, events: Vec<IceEvent>) -> Result<(), antiphon_ice::Error> {
        for event in events {
            match event {
                IceEvent::NewLocalCandidate(candidate) => {
                    self.agent.add_remote_candidate(&candidate)?;
                }
                IceEvent::GatheringComplete => self.agent.end_of_remote_candidates(),
                _ => {}
            }
        }
        Ok(())
    }

    fn connected(&self) -> bool {
        matches!(
            self.state,
            IceConnectionState::Connected | IceConnectionState::Completed
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Instant::now();
    let mut alice = Endpoint::new("alice", IceRole::Controlling, now)?;
    let mut bob = Endpoint::new("bob", IceRole::Controlled, now)?;
    // The credentials travel with the offer and the answer.
    alice
        .agent
        .set_remote_credentials(bob.agent.local_credentials().clone());
    bob.agent
        .set_remote_credentials(alice.agent.local_credentials().clone());
    alice.agent.gather(&[alice.local]);
    bob.agent.gather(&[bob.local]);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut greeted = false;
    while alice.greeting.is_none() || bob.greeting.is_none() {
        if Instant::now() > deadline {
            return Err("not connected within 10 s".into());
        }
        let from_alice = alice.drive()?;
        bob.signaled(from_alice)?;
        let from_bob = bob.drive()?;
        alice.signaled(from_bob)?;
        if !greeted
            && alice.connected()
            && bob.connected()
            && let (Some((_, to_bob)), Some((_, to_alice))) = (alice.selected, bob.selected)
        {
            alice.socket.send_to(b"hello bob, from alice", to_bob)?;
            bob.socket.send_to(b"hello alice, from bob", to_alice)?;
            greeted = true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("alice got {:?}", alice.greeting.unwrap_or_default());
    println!("bob got {:?}", bob.greeting.unwrap_or_default());
    Ok(())
}
