//! Arbitrary datagrams fed as DTLS records into an antiphon-dtls `DtlsConnection`, as client
//! or server: never a panic, never `Connected` (no input can present a certificate matching
//! the expected fingerprint: it is the digest of no certificate at all), the handshake ends
//! `failed` once its timers run out, and what it sends is bounded.
//!
//! Input: one role byte (even: we are the server, odd: the client), then datagrams, each a
//! big-endian u16 length and that many bytes (a short tail is one last datagram). The
//! datagrams are delivered one per virtual millisecond; then the timers run to the end on the
//! virtual clock. The connection is sans-IO: no runtime, no task, no wall time.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use antiphon_dtls::{
    Certificate, CertificateFingerprint, CertificateOptions, DtlsConfig, DtlsConnection, DtlsEvent,
    DtlsParameters, DtlsRole, DtlsTransportState, Fingerprint, HashAlgorithm,
};
use libfuzzer_sys::fuzz_target;

/// At most this many datagrams per input.
const MAX_DATAGRAMS: usize = 64;

/// Generated once: certificate generation costs far more than a handshake attempt.
static CERTIFICATE: LazyLock<Certificate> =
    LazyLock::new(|| Certificate::generate(&CertificateOptions::default()).expect("certificate"));

/// The remote fingerprint we pin: the SHA-256 of bytes that are no certificate.
static EXPECTED: LazyLock<Fingerprint> =
    LazyLock::new(|| Fingerprint::of_der(HashAlgorithm::Sha256, b"no certificate hashes to this"));

/// Splits the input after the role byte into length-prefixed datagrams.
fn datagrams(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() && out.len() < MAX_DATAGRAMS {
        if data.len() < 2 {
            out.push(data);
            break;
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let len = len.min(rest.len());
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&role, rest)) = data.split_first() else {
        return;
    };
    let role = if role.is_multiple_of(2) {
        DtlsRole::Server
    } else {
        DtlsRole::Client
    };
    let mut config = DtlsConfig::new(CERTIFICATE.clone());
    config.handshake_timeout = Duration::from_secs(2);
    config.retransmit_interval = Duration::from_millis(100);
    let start = Instant::now();
    let mut connection = DtlsConnection::new(
        start,
        &config,
        DtlsParameters {
            role,
            remote_fingerprints: vec![*EXPECTED],
        },
    )
    .expect("valid arguments");
    let mut now = start;
    let mut sent = 0usize;
    let mut connected = false;
    let drain = |connection: &mut DtlsConnection, sent: &mut usize, connected: &mut bool| {
        while connection.poll_transmit().is_some() {
            *sent += 1;
        }
        while let Some(event) = connection.poll_event() {
            *connected |= matches!(event, DtlsEvent::Connected(_));
        }
    };
    for datagram in datagrams(rest) {
        now += Duration::from_millis(1);
        connection.handle_timeout(now);
        let _ = connection.handle_receive(now, datagram);
        drain(&mut connection, &mut sent, &mut connected);
    }
    while let Some(at) = connection.poll_timeout() {
        now = now.max(at);
        connection.handle_timeout(now);
        drain(&mut connection, &mut sent, &mut connected);
        assert!(
            now - start <= Duration::from_secs(3),
            "timers past the handshake limit"
        );
    }
    assert!(!connected, "handshake connected on fuzz input");
    assert_eq!(connection.state(), DtlsTransportState::Failed);
    // 2 s of 100 ms retransmissions plus a few replies per datagram, at most.
    assert!(sent < 10_000, "unbounded sends");
});
