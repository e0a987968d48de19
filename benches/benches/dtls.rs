//! DTLS: certificate generation, `a=fingerprint` parsing, and a full DTLS-SRTP handshake
//! (both sides, fingerprint checks and key export included) over an in-memory pipe.
//!
//! RSA-2048 generation is not benched: ring cannot generate RSA keys and dtls 0.17 refuses
//! RSA local keys, so antiphon-dtls offers ECDSA P-256 only.

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

fn bench_handshake(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (client, server) = (pipe::Endpoint::generate(), pipe::Endpoint::generate());
    let mut group = c.benchmark_group("dtls");
    group.sample_size(30);
    group.bench_function("handshake_pipe_p256", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (c, s) = pipe::dtls_over_pipe(&client, &server).await;
                assert_eq!(c.keying_material(), s.keying_material());
                black_box((c, s))
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_certificate,
    bench_fingerprint,
    bench_handshake
);
criterion_main!(benches);
