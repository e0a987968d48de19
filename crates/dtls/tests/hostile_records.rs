//! Hostile DTLS records found by the `dtls_records` fuzz target, kept as regressions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use antiphon_dtls::guard::hellos_are_safe;
use antiphon_dtls::{
    Certificate, CertificateOptions, Conn, DtlsConfig, DtlsError, DtlsParameters, DtlsRole,
    DtlsTransport, DtlsTransportState, Fingerprint, HashAlgorithm,
};

/// A fuzz input (role byte 0, then u16-length-prefixed datagrams): a ClientHello whose
/// extension list ends in a 1-byte extension header. `dtls` 0.17.2 indexes past it
/// (`handshake_message_client_hello.rs:181`) and panics in its reader task.
const CRASH: &[u8] = include_bytes!("data/fuzz-crash-client-hello-short-extension");

/// A fuzz input in the client role (role byte 1): the server's flight carries a
/// ServerKeyExchange with an empty body; `dtls` 0.17.2 reads `data[0]`
/// (`handshake_message_server_key_exchange.rs:65`) and panics in its reader task.
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

/// The first datagram of a fuzz input.
fn first_datagram(input: &[u8]) -> &[u8] {
    let len = usize::from(u16::from_be_bytes([input[1], input[2]]));
    &input[3..3 + len]
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics anywhere in this test binary, spawned tokio tasks included (tokio catches
/// those, so without the hook the test could not see them).
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

#[test]
fn the_crash_hello_is_recognised_and_real_hellos_pass() {
    assert!(!hellos_are_safe(first_datagram(CRASH)));
    // Flights of a real handshake (recorded by tests/record_fuzz_seeds.rs) pass unchanged.
    for seed in [
        &include_bytes!("../../../fuzz/seeds/dtls_records/server-0")[..],
        &include_bytes!("../../../fuzz/seeds/dtls_records/server-1")[..],
        &include_bytes!("../../../fuzz/seeds/dtls_records/server-2")[..],
        &include_bytes!("../../../fuzz/seeds/dtls_records/client-0")[..],
        &include_bytes!("../../../fuzz/seeds/dtls_records/client-1")[..],
        &include_bytes!("../../../fuzz/seeds/dtls_records/client-2")[..],
    ] {
        assert!(hellos_are_safe(first_datagram(seed)));
    }
    // Short or truncated input is left to dtls, which rejects it without panicking.
    assert!(hellos_are_safe(&[]));
    assert!(hellos_are_safe(&[22, 0xfe, 0xfd]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_with_a_short_extension_header_fails_the_handshake_without_a_panic() {
    count_panics();
    let (ours, theirs) = webrtc_util::conn::conn_pipe::pipe();
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let mut config = DtlsConfig::new(certificate);
    config.handshake_timeout = Duration::from_millis(800);
    let transport = DtlsTransport::new(config);
    theirs
        .send(first_datagram(CRASH))
        .await
        .expect("send the hostile hello");
    let outcome = transport
        .start(
            Arc::new(ours),
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![Fingerprint::of_der(HashAlgorithm::Sha256, b"nobody")],
            },
        )
        .await;
    assert!(
        matches!(outcome, Err(DtlsError::HandshakeTimeout { .. })),
        "{outcome:?}"
    );
    assert_eq!(transport.state(), DtlsTransportState::Failed);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "dtls panicked on the hostile hello"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_server_key_exchange_fails_the_handshake_without_a_panic() {
    count_panics();
    let flights = datagrams(CRASH_SKE);
    assert!(
        flights.iter().any(|d| !hellos_are_safe(d)),
        "the guard does not recognise the crash input"
    );
    let (ours, theirs) = webrtc_util::conn::conn_pipe::pipe();
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let mut config = DtlsConfig::new(certificate);
    config.handshake_timeout = Duration::from_millis(800);
    let transport = DtlsTransport::new(config);
    let feed = async {
        for datagram in flights {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let _ = theirs.send(datagram).await;
        }
    };
    let (outcome, ()) = tokio::join!(
        transport.start(
            Arc::new(ours),
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![Fingerprint::of_der(HashAlgorithm::Sha256, b"nobody")],
            },
        ),
        feed,
    );
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(transport.state(), DtlsTransportState::Failed);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "dtls panicked on the hostile flight"
    );
}
