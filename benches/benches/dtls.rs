//! DTLS: certificate generation, `a=fingerprint` parsing, and a full DTLS-SRTP handshake
//! (both sides, fingerprint checks and key export included) between two sans-IO
//! `DtlsConnection`s in memory.
//!
//! RSA-2048 generation is not benched: ring cannot generate RSA keys, so antiphon-dtls
//! offers ECDSA P-256 only.

use std::hint::black_box;

use antiphon_dtls::{Certificate, CertificateOptions, Fingerprint, HashAlgorithm};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/pipe.rs"]
mod pipe;

fn certificate() -> Certificate {
    Certificate::generate(&CertificateOptions::default()).expect("certificate")
}

fn bench_certificate(c: &mut Criterion) {
    let options = CertificateOptions::default();
    c.bench_function("dtls/certificate_generate_p256", |b| {
        b.iter(|| Certificate::generate(black_box(&options)).expect("certificate"))
    });
    let text = certificate().to_pem();
    c.bench_function("dtls/certificate_from_pem", |b| {
        b.iter(|| Certificate::from_pem(black_box(&text)).expect("reload"))
    });
}

fn bench_fingerprint(c: &mut Criterion) {
    let value = certificate().fingerprint(HashAlgorithm::Sha256).to_string();
    c.bench_function("dtls/fingerprint_parse_sha256", |b| {
        b.iter(|| Fingerprint::parse(black_box(&value)).expect("parse"))
    });
}

/// The sans-IO handshake: two `DtlsConnection`s handing each other their datagrams in memory,
/// no runtime, no tasks (what the connection's transport task runs).
fn bench_handshake_sansio(c: &mut Criterion) {
    let (client, server) = (pipe::Endpoint::generate(), pipe::Endpoint::generate());
    let mut group = c.benchmark_group("dtls");
    group.sample_size(30);
    group.bench_function("handshake_sansio_p256", |b| {
        b.iter(|| {
            let now = std::time::Instant::now();
            let connect = |endpoint: &pipe::Endpoint, role, remote: &pipe::Endpoint| {
                antiphon_dtls::DtlsConnection::new(
                    now,
                    &antiphon_dtls::DtlsConfig::new(endpoint.certificate.clone()),
                    antiphon_dtls::DtlsParameters {
                        role,
                        remote_fingerprints: vec![remote.fingerprint],
                    },
                )
                .expect("connection")
            };
            let mut c = connect(&client, antiphon_dtls::DtlsRole::Client, &server);
            let mut s = connect(&server, antiphon_dtls::DtlsRole::Server, &client);
            let mut connected = 0;
            while connected < 2 {
                let mut moved = false;
                while let Some(datagram) = c.poll_transmit() {
                    moved = true;
                    let _ = s.handle_receive(now, &datagram);
                }
                while let Some(datagram) = s.poll_transmit() {
                    moved = true;
                    let _ = c.handle_receive(now, &datagram);
                }
                for side in [&mut c, &mut s] {
                    while let Some(event) = side.poll_event() {
                        if let antiphon_dtls::DtlsEvent::Connected(_) = event {
                            connected += 1;
                        }
                    }
                }
                assert!(moved || connected == 2, "handshake stalled");
            }
            black_box((c, s))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_certificate,
    bench_fingerprint,
    bench_handshake_sansio
);
criterion_main!(benches);
