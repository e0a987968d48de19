//! Hostile DTLS records found by the `dtls_records` fuzz target, kept as regressions. They
//! crashed the async `dtls` 0.17 the crate used before (an index out of bounds in its reader
//! task); the sans-IO `DtlsConnection` must refuse them with an error and go on.

use std::time::{Duration, Instant};

use antiphon_dtls::{
    Certificate, CertificateFingerprint, CertificateOptions, DtlsConfig, DtlsConnection, DtlsEvent,
    DtlsParameters, DtlsRole, DtlsTransportState, Fingerprint, HashAlgorithm,
};

/// A fuzz input (role byte 0, then u16-length-prefixed datagrams): a ClientHello whose
/// extension list ends in a 1-byte extension header (`dtls` 0.17.2 indexed past it).
const CRASH: &[u8] = include_bytes!("data/fuzz-crash-client-hello-short-extension");

/// A fuzz input in the client role (role byte 1): the server's flight carries a
/// ServerKeyExchange with an empty body (`dtls` 0.17.2 read `data[0]`).
const CRASH_SKE: &[u8] = include_bytes!("data/fuzz-crash-empty-server-key-exchange");

/// Every datagram of a fuzz input.
fn datagrams(input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = &input[1..];
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        out.push(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    out
}

/// A connection in the input's role, pinned to the digest of no certificate at all, so no
/// input can complete the handshake.
fn connection(input: &[u8], now: Instant) -> DtlsConnection {
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let role = if input[0].is_multiple_of(2) {
        DtlsRole::Server
    } else {
        DtlsRole::Client
    };
    let nobody = Fingerprint::of_der(HashAlgorithm::Sha256, b"no certificate");
    DtlsConnection::new(
        now,
        &DtlsConfig::new(certificate),
        DtlsParameters {
            role,
            remote_fingerprints: vec![nobody],
        },
    )
    .expect("connection")
}

/// Feeds every datagram of `input`, then runs the timers to the handshake limit: no panic,
/// never connected, and the handshake ends.
fn survives(input: &[u8]) {
    let start = Instant::now();
    let mut connection = connection(input, start);
    for datagram in datagrams(input) {
        // Refused or taken: either is fine, a panic is not.
        let _ = connection.handle_receive(start, datagram);
        while connection.poll_transmit().is_some() {}
    }
    let mut now = start;
    while let Some(at) = connection.poll_timeout() {
        now = now.max(at);
        connection.handle_timeout(now);
        while connection.poll_transmit().is_some() {}
        assert!(
            now - start <= Duration::from_secs(31),
            "timers run past the limit"
        );
    }
    let mut connected = false;
    while let Some(event) = connection.poll_event() {
        connected |= matches!(event, DtlsEvent::Connected(_));
    }
    assert!(!connected);
    assert_eq!(connection.state(), DtlsTransportState::Failed);
}

#[test]
fn a_hello_with_a_short_extension_header_is_refused_without_a_panic() {
    survives(CRASH);
}

#[test]
fn an_empty_server_key_exchange_is_refused_without_a_panic() {
    survives(CRASH_SKE);
}

#[test]
fn truncations_of_the_crash_inputs_are_refused_without_a_panic() {
    for input in [CRASH, CRASH_SKE] {
        for datagram in datagrams(input) {
            for len in 0..datagram.len() {
                let start = Instant::now();
                let mut connection = connection(input, start);
                let _ = connection.handle_receive(start, &datagram[..len]);
            }
        }
    }
}
