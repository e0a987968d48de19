//! antiphon-ice: handling an authenticated STUN Binding request (decode, MESSAGE-INTEGRITY,
//! FINGERPRINT, role check, success response) and candidate parse/write.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use antiphon_ice::{
    AgentConfig, Candidate, CandidateType, Datagram, IceAgent, IceCredentials, IceRole,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CANDIDATES: &[&str] = &[
    "candidate:3684617590 1 udp 2122260223 10.217.229.219 50028 typ host generation 0 network-id 1 network-cost 900",
    "candidate:387183333 1 udp 1686052607 113.185.55.72 31267 typ srflx raddr 10.217.229.219 rport 50028 generation 0 network-id 1 network-cost 900",
    "candidate:3936339338 1 udp 2122265343 fd00:f8aa:3ff5:5914:90bf:3c5:3378:9d4b 59125 typ host generation 0 network-id 4 network-cost 50",
    "candidate:1114572465 1 udp 2113939711 61b445d2-6503-41ac-96ce-ee3edac00e9f.local 61163 typ host",
    "candidate:2 1 UDP 1694236671 24.6.134.204 62453 typ srflx raddr 10.0.0.36 rport 62453",
    "candidate:5 1 TCP 1684013055 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 tcptype passive generation 5",
];

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// A genuine connectivity check from a controlling agent A to a controlled agent B, and B.
fn check_and_answerer(now: Instant) -> (Vec<u8>, IceAgent) {
    let (a_creds, b_creds) = (IceCredentials::generate(), IceCredentials::generate());
    let (a_addr, b_addr) = (addr("10.0.0.1:5000"), addr("10.0.0.2:6000"));
    let mut a = IceAgent::new(
        now,
        AgentConfig::default(),
        IceRole::Controlling,
        a_creds.clone(),
    );
    a.set_remote_credentials(b_creds.clone());
    a.gather(&[a_addr]);
    let b_host = Candidate::new_udp("1", 2_130_706_431, b_addr, CandidateType::Host);
    a.add_remote_candidate(&b_host).expect("candidate");
    a.handle_timeout(now);
    let check = a.poll_transmit().expect("a check").contents;
    let mut b = IceAgent::new(now, AgentConfig::default(), IceRole::Controlled, b_creds);
    b.set_remote_credentials(a_creds);
    b.gather(&[b_addr]);
    (check, b)
}

fn binding_request(c: &mut Criterion) {
    let now = Instant::now();
    let (check, mut b) = check_and_answerer(now);
    let datagram = Datagram {
        source: addr("10.0.0.1:5000"),
        destination: addr("10.0.0.2:6000"),
        contents: &check,
    };
    let mut group = c.benchmark_group("ice/stun");
    group.throughput(Throughput::Elements(1));
    group.bench_function("authenticated binding request -> response", |bench| {
        bench.iter(|| {
            b.handle_receive(now, black_box(datagram))
                .expect("accepted");
            black_box(b.poll_transmit().expect("response"));
        })
    });
    let mut forged = check.clone();
    let last = forged.len() - 5;
    forged[last] ^= 1;
    let forged = Datagram {
        contents: &forged,
        ..datagram
    };
    group.bench_function("forged binding request dropped", |bench| {
        bench.iter(|| black_box(b.handle_receive(now, black_box(forged)).is_err()))
    });
    group.finish();
}

fn candidates(c: &mut Criterion) {
    let bytes: usize = CANDIDATES.iter().map(|l| l.len()).sum();
    let parsed: Vec<Candidate> = CANDIDATES
        .iter()
        .map(|l| Candidate::parse(l).expect("parses"))
        .collect();
    let mut group = c.benchmark_group("ice/candidate");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("parse 6 browser candidates", |bench| {
        bench.iter(|| {
            for line in CANDIDATES {
                black_box(Candidate::parse(black_box(line)).expect("parses"));
            }
        })
    });
    group.bench_function("write 6 candidates", |bench| {
        bench.iter(|| {
            for c in &parsed {
                black_box(c.to_string());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, binding_request, candidates);
criterion_main!(benches);
