//! The sans-IO `DtlsConnection`: two of them exchange datagrams in memory on a virtual clock.
//! No sockets, no tasks, no real time: losses are chosen datagram by datagram, and time only
//! moves when the test moves it.

use std::time::{Duration, Instant};

use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsConnected, DtlsConnection, DtlsError,
    DtlsEvent, DtlsParameters, DtlsRole, DtlsTransportState, Fingerprint, HashAlgorithm,
    SrtpProfile,
};

fn certificate() -> Certificate {
    Certificate::generate(&CertificateOptions::default()).expect("certificate")
}

fn fingerprint(certificate: &Certificate) -> Fingerprint {
    certificate.fingerprint(HashAlgorithm::Sha256)
}

/// A client and a server, each pinned to the other's certificate unless `pin` says otherwise.
fn pair(
    now: Instant,
    client_pins: Fingerprint,
    server_pins: Fingerprint,
    client_cert: &Certificate,
    server_cert: &Certificate,
) -> (DtlsConnection, DtlsConnection) {
    let client = DtlsConnection::new(
        now,
        &DtlsConfig::new(client_cert.clone()),
        DtlsParameters {
            role: DtlsRole::Client,
            remote_fingerprints: vec![client_pins],
        },
    )
    .expect("client");
    let server = DtlsConnection::new(
        now,
        &DtlsConfig::new(server_cert.clone()),
        DtlsParameters {
            role: DtlsRole::Server,
            remote_fingerprints: vec![server_pins],
        },
    )
    .expect("server");
    (client, server)
}

/// A client and a server with new certificates, each pinned to the other's.
fn matched_pair(now: Instant) -> (Certificate, Certificate, DtlsConnection, DtlsConnection) {
    let (client_cert, server_cert) = (certificate(), certificate());
    let (client, server) = pair(
        now,
        fingerprint(&server_cert),
        fingerprint(&client_cert),
        &client_cert,
        &server_cert,
    );
    (client_cert, server_cert, client, server)
}

/// Everything that happened to one side.
#[derive(Default)]
struct Seen {
    connected: Option<DtlsConnected>,
    data: Vec<Vec<u8>>,
    failed: Option<DtlsError>,
    peer_closed: bool,
}

impl Seen {
    fn drain(&mut self, connection: &mut DtlsConnection) {
        while let Some(event) = connection.poll_event() {
            match event {
                DtlsEvent::Connected(connected) => self.connected = Some(connected),
                DtlsEvent::Data(data) => self.data.push(data.to_vec()),
                DtlsEvent::Failed(error) => self.failed = Some(error),
                DtlsEvent::PeerClosed => self.peer_closed = true,
                _ => {}
            }
        }
    }
}

/// Runs both sides until nothing is in flight and no timer is due before `until`, dropping
/// the datagrams `drop` picks (by their index among all datagrams sent, both ways).
struct Link {
    now: Instant,
    sent: usize,
    drop: Box<dyn FnMut(usize) -> bool>,
}

impl Link {
    /// Delivers what `from` has to send to `to`; whether anything was sent.
    fn carry(&mut self, from: &mut DtlsConnection, to: &mut DtlsConnection) -> bool {
        let mut moved = false;
        while let Some(datagram) = from.poll_transmit() {
            moved = true;
            self.sent += 1;
            if (self.drop)(self.sent) {
                continue;
            }
            // Rejected datagrams are the receiver's business; the test looks at events.
            let _ = to.handle_receive(self.now, &datagram);
        }
        moved
    }

    fn new(now: Instant) -> Self {
        Self {
            now,
            sent: 0,
            drop: Box::new(|_| false),
        }
    }

    fn run(
        &mut self,
        a: &mut DtlsConnection,
        b: &mut DtlsConnection,
        seen: &mut (Seen, Seen),
        until: Instant,
    ) {
        loop {
            let mut moved = false;
            moved |= self.carry(a, b);
            moved |= self.carry(b, a);
            seen.0.drain(a);
            seen.1.drain(b);
            if moved {
                continue;
            }
            let next = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    a.handle_timeout(self.now);
                    b.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }
}

#[test]
fn handshake_exchanges_keys_and_data_both_ways() {
    let start = Instant::now();
    let (client_cert, server_cert, mut client, mut server) = matched_pair(start);
    assert_eq!(client.state(), DtlsTransportState::Connecting);
    let mut seen = (Seen::default(), Seen::default());
    let mut link = Link::new(start);
    link.run(&mut client, &mut server, &mut seen, start);

    let (c, s) = (
        seen.0.connected.as_ref().expect("client connected"),
        seen.1.connected.as_ref().expect("server connected"),
    );
    assert_eq!(c.keying_material, s.keying_material);
    assert_eq!(c.profile, SrtpProfile::AeadAes128Gcm);
    assert_eq!(c.peer_certificate, server_cert.der());
    assert_eq!(s.peer_certificate, client_cert.der());
    assert_eq!(client.state(), DtlsTransportState::Connected);
    assert_eq!(server.state(), DtlsTransportState::Connected);
    // No timer is left once connected: nothing happened on the clock.
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(link.now, start);

    client.send(start, b"to the server").expect("send");
    server.send(start, b"to the client").expect("send");
    link.run(&mut client, &mut server, &mut seen, start);
    assert_eq!(seen.1.data, vec![b"to the server".to_vec()]);
    assert_eq!(seen.0.data, vec![b"to the client".to_vec()]);

    client.close(start);
    assert_eq!(client.state(), DtlsTransportState::Closed);
    link.run(&mut client, &mut server, &mut seen, start);
    assert!(seen.1.peer_closed, "server saw close_notify");
    assert_eq!(server.state(), DtlsTransportState::Closed);
}

#[test]
fn lost_flights_are_sent_again_on_the_virtual_clock() {
    let start = Instant::now();
    let (_, _, mut client, mut server) = matched_pair(start);
    let mut seen = (Seen::default(), Seen::default());
    let mut link = Link::new(start);
    // Lose the first three datagrams, whichever way they go.
    link.drop = Box::new(|index| index <= 3);
    link.run(
        &mut client,
        &mut server,
        &mut seen,
        start + Duration::from_secs(20),
    );
    assert!(seen.0.connected.is_some() && seen.1.connected.is_some());
    // Retransmission waited on the virtual clock (first interval 1 s, then backing off).
    assert!(
        link.now >= start + Duration::from_secs(1),
        "{:?}",
        link.now - start
    );
    assert!(link.now < start + Duration::from_secs(20));
}

#[test]
fn a_handshake_that_never_completes_fails_at_its_limit() {
    let start = Instant::now();
    let (_, _, mut client, mut server) = matched_pair(start);
    let mut seen = (Seen::default(), Seen::default());
    let mut link = Link::new(start);
    link.drop = Box::new(|_| true);
    link.run(
        &mut client,
        &mut server,
        &mut seen,
        start + Duration::from_secs(120),
    );
    assert!(
        matches!(seen.0.failed, Some(DtlsError::HandshakeTimeout { .. })),
        "{:?}",
        seen.0.failed
    );
    assert_eq!(client.state(), DtlsTransportState::Failed);
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn a_certificate_that_is_not_the_announced_one_fails_the_handshake() {
    let start = Instant::now();
    let (client_cert, server_cert, stranger) = (certificate(), certificate(), certificate());
    // The client expects the stranger's certificate, not the server's.
    let (mut client, mut server) = pair(
        start,
        fingerprint(&stranger),
        fingerprint(&client_cert),
        &client_cert,
        &server_cert,
    );
    let mut seen = (Seen::default(), Seen::default());
    Link::new(start).run(
        &mut client,
        &mut server,
        &mut seen,
        start + Duration::from_secs(60),
    );
    match &seen.0.failed {
        Some(DtlsError::FingerprintMismatch(mismatch)) => {
            assert_eq!(mismatch.expected, fingerprint(&stranger));
            assert_eq!(mismatch.actual, fingerprint(&server_cert));
        }
        other => panic!("client: {other:?}"),
    }
    assert!(seen.0.connected.is_none() && seen.1.connected.is_none());
    assert_eq!(client.state(), DtlsTransportState::Failed);
    assert!(seen.1.failed.is_some(), "the server's handshake ended too");
    assert!(client.send(start, b"x").is_err());
}

#[test]
fn the_server_checks_the_client_certificate_too() {
    let start = Instant::now();
    let (client_cert, server_cert, stranger) = (certificate(), certificate(), certificate());
    let (mut client, mut server) = pair(
        start,
        fingerprint(&server_cert),
        fingerprint(&stranger),
        &client_cert,
        &server_cert,
    );
    let mut seen = (Seen::default(), Seen::default());
    Link::new(start).run(
        &mut client,
        &mut server,
        &mut seen,
        start + Duration::from_secs(60),
    );
    assert!(
        matches!(seen.1.failed, Some(DtlsError::FingerprintMismatch(_))),
        "{:?}",
        seen.1.failed
    );
    assert!(seen.1.connected.is_none());
    assert_eq!(server.state(), DtlsTransportState::Failed);
}

#[test]
fn garbage_and_calls_in_the_wrong_state_are_refused_without_changing_anything() {
    let start = Instant::now();
    let (_, _, mut client, mut server) = matched_pair(start);
    assert!(matches!(
        client.send(start, b"too early"),
        Err(DtlsError::InvalidState {
            state: DtlsTransportState::Connecting
        })
    ));
    for garbage in [
        &[][..],
        &[0x16][..],
        &[0x17; 40][..],
        &[0x16, 0xfe, 0xfd, 0, 0][..],
    ] {
        let _ = server.handle_receive(start, garbage);
        let _ = client.handle_receive(start, garbage);
    }
    assert_eq!(server.state(), DtlsTransportState::Connecting);
    assert_eq!(client.state(), DtlsTransportState::Connecting);
    // The handshake still completes afterwards.
    let mut seen = (Seen::default(), Seen::default());
    Link::new(start).run(
        &mut client,
        &mut server,
        &mut seen,
        start + Duration::from_secs(10),
    );
    assert!(seen.0.connected.is_some() && seen.1.connected.is_some());
}

#[test]
fn bad_arguments_are_refused_before_anything_is_sent() {
    let start = Instant::now();
    let cert = certificate();
    let none = DtlsConnection::new(
        start,
        &DtlsConfig::new(cert.clone()),
        DtlsParameters {
            role: DtlsRole::Client,
            remote_fingerprints: vec![],
        },
    );
    assert!(matches!(none, Err(DtlsError::NoRemoteFingerprints)));
    let mut config = DtlsConfig::new(cert.clone());
    config.srtp_profiles.clear();
    let no_profiles = DtlsConnection::new(
        start,
        &config,
        DtlsParameters {
            role: DtlsRole::Server,
            remote_fingerprints: vec![fingerprint(&cert)],
        },
    );
    assert!(matches!(no_profiles, Err(DtlsError::NoSrtpProfiles)));
}

/// A small deterministic generator for loss decisions (xorshift64*).
fn lossy(seed: u64, loss_percent: u64) -> Box<dyn FnMut(usize) -> bool> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Box::new(move |_| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100 < loss_percent
    })
}

#[test]
fn handshakes_complete_under_random_loss() {
    let (client_cert, server_cert) = (certificate(), certificate());
    for seed in 0..200 {
        let start = Instant::now();
        let (mut client, mut server) = pair(
            start,
            fingerprint(&server_cert),
            fingerprint(&client_cert),
            &client_cert,
            &server_cert,
        );
        let mut seen = (Seen::default(), Seen::default());
        let mut link = Link::new(start);
        link.drop = lossy(seed, 30);
        link.run(
            &mut client,
            &mut server,
            &mut seen,
            start + Duration::from_secs(60),
        );
        assert!(
            seen.0.connected.is_some() && seen.1.connected.is_some(),
            "seed {seed}: client {:?} {:?}, server {:?} {:?}, {} datagrams, {:?}",
            client.state(),
            seen.0.failed,
            server.state(),
            seen.1.failed,
            link.sent,
            link.now - start
        );
    }
}

/// A pair built from two configurations and what each pins, handshaken on a lossless link.
fn handshake(
    client: DtlsConfig,
    client_pins: Vec<Fingerprint>,
    server: DtlsConfig,
    server_pins: Vec<Fingerprint>,
) -> (Seen, Seen) {
    let start = Instant::now();
    let mut c = DtlsConnection::new(
        start,
        &client,
        DtlsParameters {
            role: DtlsRole::Client,
            remote_fingerprints: client_pins,
        },
    )
    .expect("client");
    let mut s = DtlsConnection::new(
        start,
        &server,
        DtlsParameters {
            role: DtlsRole::Server,
            remote_fingerprints: server_pins,
        },
    )
    .expect("server");
    let mut seen = (Seen::default(), Seen::default());
    Link::new(start).run(&mut c, &mut s, &mut seen, start + Duration::from_secs(60));
    seen
}

#[test]
fn each_srtp_profile_is_selected_when_one_side_allows_only_it() {
    let (client_cert, server_cert) = (certificate(), certificate());
    for profile in SrtpProfile::DEFAULT {
        for constrain_client in [false, true] {
            let mut client = DtlsConfig::new(client_cert.clone());
            let mut server = DtlsConfig::new(server_cert.clone());
            let constrained = if constrain_client {
                &mut client
            } else {
                &mut server
            };
            constrained.srtp_profiles = vec![profile];
            let (c, s) = handshake(
                client,
                vec![fingerprint(&server_cert)],
                server,
                vec![fingerprint(&client_cert)],
            );
            let (c, s) = (c.connected.expect("client"), s.connected.expect("server"));
            assert_eq!(c.profile, profile, "client constrained: {constrain_client}");
            assert_eq!(s.profile, profile);
            assert_eq!(c.keying_material, s.keying_material);
            let keys = &c.keying_material;
            assert_eq!(keys.profile(), profile);
            assert_eq!(keys.client_write().key().len(), profile.key_len());
            assert_eq!(keys.server_write().salt().len(), profile.salt_len());
        }
    }
}

#[test]
fn no_common_srtp_profile_fails_both_sides() {
    let (client_cert, server_cert) = (certificate(), certificate());
    let mut client = DtlsConfig::new(client_cert.clone());
    client.srtp_profiles = vec![SrtpProfile::AeadAes256Gcm];
    let mut server = DtlsConfig::new(server_cert.clone());
    server.srtp_profiles = vec![SrtpProfile::Aes128CmHmacSha1_80];
    let (c, s) = handshake(
        client,
        vec![fingerprint(&server_cert)],
        server,
        vec![fingerprint(&client_cert)],
    );
    assert!(c.connected.is_none() && s.connected.is_none());
    // The server refuses with a fatal alert; the client takes it as the end (and does not
    // answer it, or the two would trade alerts for ever).
    assert!(
        matches!(s.failed, Some(DtlsError::Protocol(_))),
        "server: {:?}",
        s.failed
    );
    assert_eq!(c.failed, Some(DtlsError::PeerAborted));
}

#[test]
fn every_remote_fingerprint_is_checked() {
    let (client_cert, server_cert) = (certificate(), certificate());
    let all_right: Vec<Fingerprint> = server_cert.get_fingerprints().to_vec();
    // sha-256 right but sha-512 of another certificate: must fail.
    let mut one_wrong = all_right.clone();
    if let Some(last) = one_wrong.last_mut() {
        *last = certificate().fingerprint(HashAlgorithm::Sha512);
    }
    let (c, _) = handshake(
        DtlsConfig::new(client_cert.clone()),
        one_wrong,
        DtlsConfig::new(server_cert.clone()),
        vec![fingerprint(&client_cert)],
    );
    assert!(
        matches!(&c.failed, Some(DtlsError::FingerprintMismatch(m)) if m.actual.algorithm() == HashAlgorithm::Sha512),
        "{:?}",
        c.failed
    );
    let (c, s) = handshake(
        DtlsConfig::new(client_cert.clone()),
        all_right,
        DtlsConfig::new(server_cert),
        vec![fingerprint(&client_cert)],
    );
    assert!(c.connected.is_some() && s.connected.is_some());
}

#[test]
fn a_certificate_reloaded_from_pem_still_matches_its_fingerprint() {
    let (client_cert, server_cert) = (certificate(), certificate());
    let reloaded = Certificate::from_pem(&server_cert.to_pem()).expect("reload");
    let (c, s) = handshake(
        DtlsConfig::new(client_cert.clone()),
        vec![fingerprint(&server_cert)],
        DtlsConfig::new(reloaded),
        vec![fingerprint(&client_cert)],
    );
    assert!(c.connected.is_some() && s.connected.is_some());
}

/// Everything `connection` has to send now.
fn outgoing(connection: &mut DtlsConnection) -> Vec<bytes::Bytes> {
    std::iter::from_fn(|| connection.poll_transmit()).collect()
}

#[test]
fn a_completed_handshake_is_forgotten_once_the_peer_sends_data() {
    let start = Instant::now();
    let (_, _, mut client, mut server) = matched_pair(start);
    let mut seen = (Seen::default(), Seen::default());
    // Everything up to the server's last flight, which is lost: the server is connected, the
    // client is not.
    let mut now = start;
    loop {
        let to_server = outgoing(&mut client);
        for datagram in &to_server {
            let _ = server.handle_receive(now, datagram);
        }
        seen.1.drain(&mut server);
        let to_client = outgoing(&mut server);
        if seen.1.connected.is_some() {
            break;
        }
        for datagram in &to_client {
            let _ = client.handle_receive(now, datagram);
        }
        assert!(!to_server.is_empty() || !to_client.is_empty(), "stalled");
    }
    assert_eq!(client.state(), DtlsTransportState::Connecting);
    // The client sends its last flight again, twice (new record numbers each time); both
    // copies are held back.
    let mut repeats = Vec::new();
    while repeats.len() < 2 {
        now = client.poll_timeout().expect("client retransmission timer");
        client.handle_timeout(now);
        repeats.push(outgoing(&mut client));
    }
    // The first copy reaches the server, which answers with its last flight again (RFC 6347
    // §4.2.4): the handshake's state is still there.
    for datagram in &repeats[0] {
        let _ = server.handle_receive(now, datagram);
    }
    let answer = outgoing(&mut server);
    assert!(!answer.is_empty(), "the server repeats its last flight");
    for datagram in &answer {
        let _ = client.handle_receive(now, datagram);
    }
    seen.0.drain(&mut client);
    assert!(seen.0.connected.is_some(), "the client connected");
    // The client's data proves its handshake complete: the server frees the handshake's
    // state, and the second copy of the client's flight is not answered any more.
    client.send(now, b"past the handshake").expect("send");
    for datagram in outgoing(&mut client) {
        server.handle_receive(now, &datagram).expect("data");
    }
    seen.1.drain(&mut server);
    assert_eq!(seen.1.data, vec![b"past the handshake".to_vec()]);
    for datagram in &repeats[1] {
        let _ = server.handle_receive(now, datagram);
    }
    assert!(
        outgoing(&mut server).is_empty(),
        "a freed handshake answers nothing"
    );
    assert_eq!(server.state(), DtlsTransportState::Connected);
    // And the association goes on.
    server.send(now, b"still here").expect("send");
    for datagram in outgoing(&mut server) {
        client.handle_receive(now, &datagram).expect("data");
    }
    seen.0.drain(&mut client);
    assert_eq!(seen.0.data, vec![b"still here".to_vec()]);
}
