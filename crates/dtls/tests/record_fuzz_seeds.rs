//! Records the flights of a real handshake as seeds for the `dtls_records` fuzz target.
//!
//! `ANTIPHON_DTLS_SEEDS=$PWD/fuzz/seeds/dtls_records cargo test -p antiphon-dtls --test
//! record_fuzz_seeds` writes `server-flights` (role byte 0, then every datagram the
//! server received, each prefixed with its big-endian u16 length) and `client-flights` (role
//! byte 1, what the client received), plus each single datagram on its own. Without the
//! variable the test still runs the recorded handshake and checks the framing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antiphon_dtls::{
    Certificate, CertificateOptions, Conn, DtlsConfig, DtlsParameters, DtlsRole, DtlsTransport,
    HashAlgorithm,
};

/// Passes everything through to `inner`, keeping a copy of each received datagram.
struct Recording {
    inner: Arc<dyn Conn + Send + Sync>,
    received: Mutex<Vec<Vec<u8>>>,
}

#[async_trait::async_trait]
impl Conn for Recording {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }
    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        let n = self.inner.recv(buf).await?;
        if let Some(datagram) = buf.get(..n) {
            self.received.lock().expect("lock").push(datagram.to_vec());
        }
        Ok(n)
    }
    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let (n, from) = self.inner.recv_from(buf).await?;
        if let Some(datagram) = buf.get(..n) {
            self.received.lock().expect("lock").push(datagram.to_vec());
        }
        Ok((n, from))
    }
    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.inner.send_to(buf, target).await
    }
    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }
    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }
    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }
    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

fn frame(role: u8, datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![role];
    for datagram in datagrams {
        let len = u16::try_from(datagram.len()).expect("datagram fits a u16 length");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(datagram);
    }
    out
}

fn transport() -> (DtlsTransport, antiphon_dtls::Fingerprint) {
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let fingerprint = certificate.fingerprint(HashAlgorithm::Sha256);
    let mut config = DtlsConfig::new(certificate);
    config.handshake_timeout = Duration::from_secs(10);
    (DtlsTransport::new(config), fingerprint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_handshake_flights() {
    let (a, b) = webrtc_util::conn::conn_pipe::pipe();
    let client_conn = Arc::new(Recording {
        inner: Arc::new(a),
        received: Mutex::new(Vec::new()),
    });
    let server_conn = Arc::new(Recording {
        inner: Arc::new(b),
        received: Mutex::new(Vec::new()),
    });
    let (client, client_fingerprint) = transport();
    let (server, server_fingerprint) = transport();
    let (c, s) = tokio::join!(
        client.start(
            Arc::clone(&client_conn) as Arc<dyn Conn + Send + Sync>,
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![server_fingerprint],
            },
        ),
        server.start(
            Arc::clone(&server_conn) as Arc<dyn Conn + Send + Sync>,
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![client_fingerprint],
            },
        ),
    );
    let (c, s) = (c.expect("client connects"), s.expect("server connects"));
    let to_server = server_conn.received.lock().expect("lock").clone();
    let to_client = client_conn.received.lock().expect("lock").clone();
    // ClientHello, ClientHello with cookie, then the client's certificate flight.
    assert!(to_server.len() >= 3, "server received {}", to_server.len());
    // HelloVerifyRequest, then ServerHello..ServerHelloDone, then ChangeCipherSpec/Finished.
    assert!(to_client.len() >= 2, "client received {}", to_client.len());
    let server_seed = frame(0, &to_server);
    let client_seed = frame(1, &to_client);
    assert_eq!(server_seed.first(), Some(&0));
    let _ = tokio::join!(c.close(), s.close());
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
