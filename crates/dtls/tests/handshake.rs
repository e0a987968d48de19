//! Handshakes between two `DtlsTransport`s over in-memory pipes and loopback UDP.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use antiphon_dtls::{
    ActPassAnswer, Certificate, CertificateOptions, Conn, DtlsConfig, DtlsError, DtlsParameters,
    DtlsRole, DtlsSession, DtlsTransport, DtlsTransportState, Fingerprint, FingerprintMismatch,
    HashAlgorithm, OFFER_SETUP, SrtpProfile, answerer_role, offerer_role,
};

type SharedConn = Arc<dyn Conn + Send + Sync>;
type Outcome = Result<DtlsSession, DtlsError>;

fn certificate() -> Certificate {
    match Certificate::generate(&CertificateOptions::default()) {
        Ok(certificate) => certificate,
        Err(error) => panic!("certificate generation failed: {error}"),
    }
}

fn pipe() -> (SharedConn, SharedConn) {
    let (a, b) = webrtc_util::conn::conn_pipe::pipe();
    (Arc::new(a), Arc::new(b))
}

async fn udp_pair() -> (SharedConn, SharedConn) {
    let a = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind a");
    let b = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind b");
    a.connect(b.local_addr().expect("addr b"))
        .await
        .expect("connect a");
    b.connect(a.local_addr().expect("addr a"))
        .await
        .expect("connect b");
    (Arc::new(a), Arc::new(b))
}

/// One endpoint: its transport and the fingerprints its description would announce.
struct Side {
    transport: DtlsTransport,
    fingerprint: Fingerprint,
    certificate: Certificate,
}

fn side_with(certificate: Certificate, configure: impl FnOnce(&mut DtlsConfig)) -> Side {
    let fingerprint = certificate.fingerprint(HashAlgorithm::Sha256);
    let mut config = DtlsConfig::new(certificate.clone());
    config.handshake_timeout = Duration::from_secs(10);
    configure(&mut config);
    Side {
        transport: DtlsTransport::new(config),
        fingerprint,
        certificate,
    }
}

fn side(configure: impl FnOnce(&mut DtlsConfig)) -> Side {
    side_with(certificate(), configure)
}

fn params(role: DtlsRole, fingerprints: &[Fingerprint]) -> DtlsParameters {
    DtlsParameters {
        role,
        remote_fingerprints: fingerprints.to_vec(),
    }
}

/// Runs `first` and `second` concurrently with the given roles and expected fingerprints.
async fn run(
    (first, first_params): (&Side, DtlsParameters),
    (second, second_params): (&Side, DtlsParameters),
    (first_conn, second_conn): (SharedConn, SharedConn),
) -> (Outcome, Outcome) {
    tokio::join!(
        first.transport.start(first_conn, first_params),
        second.transport.start(second_conn, second_params),
    )
}

/// A handshake where both sides expect the right fingerprints; panics on failure.
async fn connect(
    client: &Side,
    server: &Side,
    conns: (SharedConn, SharedConn),
) -> (DtlsSession, DtlsSession) {
    let (c, s) = run(
        (client, params(DtlsRole::Client, &[server.fingerprint])),
        (server, params(DtlsRole::Server, &[client.fingerprint])),
        conns,
    )
    .await;
    match (c, s) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => panic!("handshake failed: client {c:?}, server {s:?}"),
    }
}

fn assert_established(client: &Side, server: &Side, c: &DtlsSession, s: &DtlsSession) {
    assert_eq!(c.role(), DtlsRole::Client);
    assert_eq!(s.role(), DtlsRole::Server);
    assert_eq!(c.srtp_profile(), s.srtp_profile());
    assert_eq!(
        c.keying_material(),
        s.keying_material(),
        "keying material differs"
    );
    let keys = c.keying_material();
    assert_ne!(
        keys.client_write(),
        keys.server_write(),
        "directions share keys"
    );
    assert_eq!(
        keys.local(DtlsRole::Client),
        s.keying_material().remote(DtlsRole::Server)
    );
    assert_eq!(
        c.peer_fingerprint(HashAlgorithm::Sha256),
        server.fingerprint
    );
    assert_eq!(
        s.peer_fingerprint(HashAlgorithm::Sha256),
        client.fingerprint
    );
    assert_eq!(c.peer_certificate(), server.certificate.der());
    assert_eq!(s.peer_certificate(), client.certificate.der());
    for side in [client, server] {
        assert_eq!(side.transport.state(), DtlsTransportState::Connected);
    }
}

/// Application data crosses the session's `Conn` both ways (what SCTP will do).
async fn exchange_data(c: &DtlsSession, s: &DtlsSession) {
    let (c, s) = (c.conn(), s.conn());
    let mut buf = [0u8; 64];
    assert_eq!(c.send(b"from client").await.expect("client send"), 11);
    let n = s.recv(&mut buf).await.expect("server recv");
    assert_eq!(buf.get(..n), Some(&b"from client"[..]));
    assert_eq!(s.send(b"from server").await.expect("server send"), 11);
    let n = c.recv(&mut buf).await.expect("client recv");
    assert_eq!(buf.get(..n), Some(&b"from server"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answerer_active_over_pipe() {
    // The offer says actpass, the answerer takes active (client): the offerer is the server.
    let answerer_role = answerer_role(OFFER_SETUP, ActPassAnswer::Active).expect("role");
    let offerer_role = offerer_role(answerer_role.setup()).expect("role");
    assert_eq!(
        (answerer_role, offerer_role),
        (DtlsRole::Client, DtlsRole::Server)
    );
    let answerer = side(|_| {});
    let offerer = side(|_| {});
    let (c, s) = connect(&answerer, &offerer, pipe()).await;
    assert_established(&answerer, &offerer, &c, &s);
    assert_eq!(
        c.srtp_profile(),
        SrtpProfile::AeadAes128Gcm,
        "first default preference"
    );
    exchange_data(&c, &s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answerer_passive_over_pipe() {
    let answerer_role = answerer_role(OFFER_SETUP, ActPassAnswer::Passive).expect("role");
    let offerer_role = offerer_role(answerer_role.setup()).expect("role");
    assert_eq!(
        (answerer_role, offerer_role),
        (DtlsRole::Server, DtlsRole::Client)
    );
    let answerer = side(|_| {});
    let offerer = side(|_| {});
    let (c, s) = connect(&offerer, &answerer, pipe()).await;
    assert_established(&offerer, &answerer, &c, &s);
    exchange_data(&c, &s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_roles_over_loopback_udp() {
    for swap in [false, true] {
        let a = side(|_| {});
        let b = side(|_| {});
        let (client, server) = if swap { (&b, &a) } else { (&a, &b) };
        let (c, s) = connect(client, server, udp_pair().await).await;
        assert_established(client, server, &c, &s);
        exchange_data(&c, &s).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_srtp_profile_is_selected_when_one_side_allows_only_it() {
    for profile in SrtpProfile::DEFAULT {
        for constrain_client in [false, true] {
            let only = |config: &mut DtlsConfig| config.srtp_profiles = vec![profile];
            let (client, server) = if constrain_client {
                (side(only), side(|_| {}))
            } else {
                (side(|_| {}), side(only))
            };
            let (c, s) = connect(&client, &server, pipe()).await;
            assert_established(&client, &server, &c, &s);
            assert_eq!(
                c.srtp_profile(),
                profile,
                "client constrained: {constrain_client}"
            );
            let keys = c.keying_material();
            assert_eq!(keys.profile(), profile);
            assert_eq!(keys.client_write().key().len(), profile.key_len());
            assert_eq!(keys.server_write().salt().len(), profile.salt_len());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_common_srtp_profile_fails_both_sides() {
    let client = side(|c| c.srtp_profiles = vec![SrtpProfile::AeadAes256Gcm]);
    let server = side(|c| c.srtp_profiles = vec![SrtpProfile::Aes128CmHmacSha1_80]);
    let (c, s) = run(
        (&client, params(DtlsRole::Client, &[server.fingerprint])),
        (&server, params(DtlsRole::Server, &[client.fingerprint])),
        pipe(),
    )
    .await;
    assert!(c.is_err() && s.is_err(), "client {c:?}, server {s:?}");
    assert_eq!(
        s.err(),
        Some(DtlsError::Dtls(dtls::Error::ErrServerNoMatchingSrtpProfile))
    );
    for side in [&client, &server] {
        assert_eq!(side.transport.state(), DtlsTransportState::Failed);
    }
}

/// The verifying side reports `FingerprintMismatch`, the other sees the alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_fingerprint_fails_both_sides() {
    for wrong_at_client in [true, false] {
        for udp in [false, true] {
            let client = side(|_| {});
            let server = side(|_| {});
            let stranger = certificate().fingerprint(HashAlgorithm::Sha256);
            let (client_expects, server_expects) = if wrong_at_client {
                (stranger, client.fingerprint)
            } else {
                (server.fingerprint, stranger)
            };
            let conns = if udp { udp_pair().await } else { pipe() };
            let (c, s) = run(
                (&client, params(DtlsRole::Client, &[client_expects])),
                (&server, params(DtlsRole::Server, &[server_expects])),
                conns,
            )
            .await;
            let (verifier, peer, presented) = if wrong_at_client {
                (c, s, &server)
            } else {
                (s, c, &client)
            };
            assert_eq!(
                verifier.err(),
                Some(DtlsError::FingerprintMismatch(Box::new(
                    FingerprintMismatch {
                        expected: stranger,
                        actual: presented.fingerprint,
                    }
                ))),
                "wrong at client: {wrong_at_client}, udp: {udp}"
            );
            assert_eq!(peer.err(), Some(DtlsError::PeerAborted));
            for side in [&client, &server] {
                assert_eq!(side.transport.state(), DtlsTransportState::Failed);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_remote_fingerprint_is_checked() {
    let client = side(|_| {});
    let server = side(|_| {});
    let all_right: Vec<Fingerprint> = server.certificate.get_fingerprints().to_vec();
    // sha-256 right but sha-512 of another certificate: must fail.
    let mut one_wrong = all_right.clone();
    if let Some(last) = one_wrong.last_mut() {
        *last = certificate().fingerprint(HashAlgorithm::Sha512);
    }
    let (c, s) = run(
        (&client, params(DtlsRole::Client, &one_wrong)),
        (&server, params(DtlsRole::Server, &[client.fingerprint])),
        pipe(),
    )
    .await;
    assert!(
        matches!(&c, Err(DtlsError::FingerprintMismatch(m)) if m.actual.algorithm() == HashAlgorithm::Sha512),
        "{c:?}"
    );
    assert_eq!(s.err(), Some(DtlsError::PeerAborted));

    let client = side(|_| {});
    let server = side_with(server.certificate, |_| {});
    let (c, s) = run(
        (&client, params(DtlsRole::Client, &all_right)),
        (&server, params(DtlsRole::Server, &[client.fingerprint])),
        pipe(),
    )
    .await;
    assert!(c.is_ok() && s.is_ok(), "client {c:?}, server {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_times_out() {
    let client = side(|c| {
        c.handshake_timeout = Duration::from_millis(300);
        c.retransmit_interval = Duration::from_millis(50);
    });
    let (conn, _silent_end) = pipe();
    let fingerprint = certificate().fingerprint(HashAlgorithm::Sha256);
    let mut states = client.transport.subscribe();
    let outcome = client
        .transport
        .start(conn, params(DtlsRole::Client, &[fingerprint]))
        .await;
    assert_eq!(
        outcome.err(),
        Some(DtlsError::HandshakeTimeout {
            timeout: Duration::from_millis(300)
        })
    );
    assert_eq!(*states.borrow_and_update(), DtlsTransportState::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_handshake_ends_failed() {
    let client = side(|_| {});
    let (conn, _silent_end) = pipe();
    let fingerprint = certificate().fingerprint(HashAlgorithm::Sha256);
    let mut states = client.transport.subscribe();
    let start = client
        .transport
        .start(conn, params(DtlsRole::Client, &[fingerprint]));
    let abandoned = tokio::time::timeout(Duration::from_millis(100), start).await;
    assert!(
        abandoned.is_err(),
        "a silent peer cannot complete a handshake"
    );
    assert_eq!(*states.borrow_and_update(), DtlsTransportState::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_move_new_connecting_connected_closed() {
    let client = side(|_| {});
    let server = side(|_| {});
    let mut states = client.transport.subscribe();
    assert_eq!(*states.borrow_and_update(), DtlsTransportState::New);
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while states.changed().await.is_ok() {
            let state = *states.borrow_and_update();
            seen.push(state);
            if state.is_terminal() {
                break;
            }
        }
        seen
    });
    let (c, s) = connect(&client, &server, pipe()).await;
    assert_eq!(c.state(), DtlsTransportState::Connected);
    c.close().await.expect("close");
    assert_eq!(client.transport.state(), DtlsTransportState::Closed);
    assert_eq!(server.transport.state(), DtlsTransportState::Connected);
    drop(s);
    let seen = watcher.await.expect("watcher");
    // A watch may coalesce, but the terminal state is always seen last.
    assert_eq!(seen.last(), Some(&DtlsTransportState::Closed), "{seen:?}");
    assert!(!seen.contains(&DtlsTransportState::Failed), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_runs_one_handshake() {
    let client = side(|_| {});
    let server = side(|_| {});
    let (_c, _s) = connect(&client, &server, pipe()).await;
    let again = client
        .transport
        .start(pipe().0, params(DtlsRole::Client, &[server.fingerprint]))
        .await;
    assert_eq!(
        again.err(),
        Some(DtlsError::InvalidState {
            state: DtlsTransportState::Connected
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_refused_before_connecting() {
    let now = SystemTime::now();
    let options = CertificateOptions {
        validity: Duration::from_secs(60),
        ..CertificateOptions::default()
    };
    let old = Certificate::generate_at(&options, now - Duration::from_secs(3600)).expect("cert");
    let expired = side_with(old.clone(), |_| {});
    let fingerprint = certificate().fingerprint(HashAlgorithm::Sha256);
    let outcome = expired
        .transport
        .start(pipe().0, params(DtlsRole::Client, &[fingerprint]))
        .await;
    assert_eq!(
        outcome.err(),
        Some(DtlsError::CertificateExpired {
            expires: old.expires()
        })
    );

    let fresh = side(|_| {});
    let outcome = fresh
        .transport
        .start(pipe().0, params(DtlsRole::Server, &[]))
        .await;
    assert_eq!(outcome.err(), Some(DtlsError::NoRemoteFingerprints));

    let no_profiles = side(|c| c.srtp_profiles.clear());
    let outcome = no_profiles
        .transport
        .start(pipe().0, params(DtlsRole::Server, &[fingerprint]))
        .await;
    assert_eq!(outcome.err(), Some(DtlsError::NoSrtpProfiles));

    for side in [&expired, &fresh, &no_profiles] {
        assert_eq!(side.transport.state(), DtlsTransportState::New);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_reloaded_from_pem_still_matches_its_fingerprint() {
    let original = certificate();
    let announced = original.fingerprint(HashAlgorithm::Sha256);
    let reloaded = Certificate::from_pem(&original.to_pem()).expect("reload");
    let server = side_with(reloaded, |_| {});
    let client = side(|_| {});
    let (c, s) = run(
        (&client, params(DtlsRole::Client, &[announced])),
        (&server, params(DtlsRole::Server, &[client.fingerprint])),
        pipe(),
    )
    .await;
    assert!(c.is_ok() && s.is_ok(), "client {c:?}, server {s:?}");
}
