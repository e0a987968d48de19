//! Records the flights of a real handshake as seeds for the `dtls_records` fuzz target.
//!
//! `ANTIPHON_DTLS_SEEDS=$PWD/fuzz/seeds/dtls_records cargo test -p antiphon-dtls --test
//! record_fuzz_seeds` writes `server-flights` (role byte 0, then every datagram the
//! server received, each prefixed with its big-endian u16 length) and `client-flights` (role
//! byte 1, what the client received), plus each single datagram on its own. Without the
//! variable the test still runs the recorded handshake and checks the framing.

use std::time::Instant;

use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsConnection, DtlsEvent, DtlsParameters,
    DtlsRole, HashAlgorithm,
};

fn frame(role: u8, datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![role];
    for datagram in datagrams {
        let len = u16::try_from(datagram.len()).expect("datagram fits a u16 length");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(datagram);
    }
    out
}

#[test]
fn record_handshake_flights() {
    let now = Instant::now();
    let (client_cert, server_cert) = (
        Certificate::generate(&CertificateOptions::default()).expect("certificate"),
        Certificate::generate(&CertificateOptions::default()).expect("certificate"),
    );
    let connect = |certificate: &Certificate, role, remote: &Certificate| {
        DtlsConnection::new(
            now,
            &DtlsConfig::new(certificate.clone()),
            DtlsParameters {
                role,
                remote_fingerprints: vec![remote.fingerprint(HashAlgorithm::Sha256)],
            },
        )
        .expect("connection")
    };
    let mut client = connect(&client_cert, DtlsRole::Client, &server_cert);
    let mut server = connect(&server_cert, DtlsRole::Server, &client_cert);
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    let mut connected = 0;
    for _ in 0..16 {
        while let Some(datagram) = client.poll_transmit() {
            to_server.push(datagram.to_vec());
            server
                .handle_receive(now, &datagram)
                .expect("server takes it");
        }
        while let Some(datagram) = server.poll_transmit() {
            to_client.push(datagram.to_vec());
            client
                .handle_receive(now, &datagram)
                .expect("client takes it");
        }
        for side in [&mut client, &mut server] {
            while let Some(event) = side.poll_event() {
                connected += usize::from(matches!(event, DtlsEvent::Connected(_)));
            }
        }
    }
    assert_eq!(connected, 2, "both sides connected");
    // ClientHello, ClientHello with cookie, then the client's certificate flight.
    assert!(to_server.len() >= 3, "server received {}", to_server.len());
    // HelloVerifyRequest, then ServerHello..ServerHelloDone, then ChangeCipherSpec/Finished.
    assert!(to_client.len() >= 2, "client received {}", to_client.len());
    let server_seed = frame(0, &to_server);
    let client_seed = frame(1, &to_client);
    assert_eq!(server_seed.first(), Some(&0));
    let Some(dir) = std::env::var_os("ANTIPHON_DTLS_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("seed dir");
    std::fs::write(dir.join("server-flights"), &server_seed).expect("write");
    std::fs::write(dir.join("client-flights"), &client_seed).expect("write");
    for (i, datagram) in to_server.iter().enumerate() {
        std::fs::write(
            dir.join(format!("server-{i}")),
            frame(0, std::slice::from_ref(datagram)),
        )
        .expect("write");
    }
    for (i, datagram) in to_client.iter().enumerate() {
        std::fs::write(
            dir.join(format!("client-{i}")),
            frame(1, std::slice::from_ref(datagram)),
        )
        .expect("write");
    }
}
