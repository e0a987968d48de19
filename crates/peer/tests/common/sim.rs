//! Peers for the simulated network: a gathering ICE agent with seeded credentials, the
//! certificate and the `LocalTransport` its descriptions carry, the data-channel offer and
//! answer two negotiators exchange, and one step of cores on the network.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_dtls::{Certificate, CertificateOptions, DtlsConfig};
use antiphon_ice::sim::SimNetwork;
use antiphon_ice::{AgentConfig, Datagram, IceAgent, IceCredentials, IceRole};
use antiphon_peer::Negotiator;
use antiphon_peer::answer::LocalTransport;
use antiphon_peer::core::ConnectionCore;

/// An agent gathering on `addr` (credentials distinct per `name` and `seed`, its randomness
/// seeded), a fresh certificate, and the transport attributes describing both.
pub fn endpoint(
    start: Instant,
    seed: u64,
    name: &str,
    addr: SocketAddr,
    role: IceRole,
) -> (IceAgent, Certificate, LocalTransport) {
    // ICE passwords: 22+ characters of the ICE alphabet.
    let credentials = IceCredentials::new(
        format!("{name}{seed:04}"),
        format!("{name}pwd{seed:020}{name}"),
    )
    .expect("credentials");
    let mut config = AgentConfig::default();
    config.seed = Some(seed);
    let mut agent = IceAgent::new(start, config, role, credentials.clone());
    agent.gather(&[addr]);
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let mut transport = LocalTransport::new(credentials.ufrag(), credentials.pwd(), &certificate);
    // The text after `a=candidate:`.
    transport.candidates = agent
        .local_candidates()
        .iter()
        .map(|c| {
            let text = c.to_string();
            text.strip_prefix("candidate:").unwrap_or(&text).to_owned()
        })
        .collect();
    transport.gathering_complete = true;
    transport.default_address = Some(addr);
    (agent, certificate, transport)
}

/// `a` offers a data channel section with `a_transport`, `b` answers with `b_transport`;
/// both end stable.
pub fn exchange_data_offer(
    a: &mut Negotiator,
    a_transport: &LocalTransport,
    b: &mut Negotiator,
    b_transport: &LocalTransport,
) {
    a.request_data_channel().expect("data channel");
    let offer = a.create_offer(a_transport.clone()).expect("offer");
    a.set_local_description(&offer).expect("local offer");
    b.set_remote_description(&offer).expect("remote offer");
    let answer = b.create_answer(|_| b_transport.clone()).expect("answer");
    b.set_local_description(&answer).expect("local answer");
    a.set_remote_description(&answer).expect("remote answer");
}

/// A core around `agent` with our `certificate`, started from `negotiator`'s descriptions.
pub fn start_core(
    now: Instant,
    agent: IceAgent,
    certificate: &Certificate,
    negotiator: &Negotiator,
) -> ConnectionCore {
    let mut core = ConnectionCore::new(now, agent, DtlsConfig::new(certificate.clone()));
    assert!(core.start(now, negotiator).expect("start"));
    core
}

/// One step at `now`: every datagram due is handed to the core at its destination (others are
/// dropped), then every core whose timer is due runs it.
pub fn deliver_and_tick(
    net: &mut SimNetwork,
    now: Instant,
    cores: &mut [(SocketAddr, &mut ConnectionCore)],
) {
    while let Some(t) = net.pop_due(now) {
        let datagram = Datagram {
            source: t.source,
            destination: t.destination,
            contents: &t.contents,
        };
        if let Some((_, core)) = cores.iter_mut().find(|(addr, _)| *addr == t.destination) {
            core.handle_receive(now, datagram);
        }
    }
    for (_, core) in cores.iter_mut() {
        if core.poll_timeout().is_some_and(|due| due <= now) {
            core.handle_timeout(now);
        }
    }
}
