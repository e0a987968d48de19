//! Arbitrary datagrams (hostile STUN) into an ICE agent that is checking: never a panic, never
//! a selected pair (nothing can pass MESSAGE-INTEGRITY without the password), and the agent's
//! outputs stay bounded.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_ice::{AgentConfig, Datagram, IceAgent, IceCredentials, IceRole};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<Vec<u8>>, u8)| {
    let (datagrams, role) = input;
    let start = Instant::now();
    let mut config = AgentConfig::default();
    config.seed = Some(7);
    let role = if role % 2 == 0 {
        IceRole::Controlled
    } else {
        IceRole::Controlling
    };
    let local = IceCredentials::new("ufLOCAL1", "localpassword0123456789abc").expect("valid");
    let mut agent = IceAgent::new(start, config, role, local);
    let base: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
    agent.gather(&[base]);
    agent.set_remote_credentials(
        IceCredentials::new("ufREMOTE", "remotepassword0123456789abc").expect("valid"),
    );
    for (i, contents) in datagrams.iter().take(64).enumerate() {
        let now = start + Duration::from_millis(i as u64 * 10);
        let source: SocketAddr = format!("10.0.0.{}:{}", i % 250 + 1, 40000 + i)
            .parse()
            .expect("addr");
        let _ = agent.handle_receive(
            now,
            Datagram {
                source,
                destination: base,
                contents,
            },
        );
        agent.handle_timeout(now);
        let mut transmits = 0;
        while agent.poll_transmit().is_some() {
            transmits += 1;
            assert!(transmits < 10_000, "unbounded transmits");
        }
        while agent.poll_event().is_some() {}
    }
    assert!(
        agent.selected_pair().is_none(),
        "an unauthenticated datagram selected a pair"
    );
});
