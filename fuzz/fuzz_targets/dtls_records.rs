//! Arbitrary datagrams fed as DTLS records into an antiphon-dtls handshake, as client or
//! server: never a panic or a hang, never `Connected` (no input can present a certificate
//! matching the expected fingerprint: it is the digest of no certificate at all).
//!
//! Input: one role byte (even: we are the server, odd: the client), then datagrams, each a
//! big-endian u16 length and that many bytes (a short tail is one last datagram). The
//! datagrams are delivered one per virtual millisecond, then the connection reports closed once
//! and stays silent. No runtime task may outlive an input (dtls's reader and writer end).
//! The runtime's clock is paused, so retransmission timers and the handshake timeout cost no
//! wall time: a tokio current-thread runtime built once, reused by every input.
#![no_main]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsError, DtlsParameters, DtlsRole,
    DtlsTransport, DtlsTransportState, Fingerprint, HashAlgorithm,
};
use libfuzzer_sys::fuzz_target;
use webrtc_util::Conn;

/// At most this many datagrams per input.
const MAX_DATAGRAMS: usize = 64;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
});

/// Generated once: certificate generation costs far more than a handshake attempt.
static CERTIFICATE: LazyLock<Certificate> =
    LazyLock::new(|| Certificate::generate(&CertificateOptions::default()).expect("certificate"));

/// The remote fingerprint we pin: the SHA-256 of bytes that are no certificate.
static EXPECTED: LazyLock<Fingerprint> =
    LazyLock::new(|| Fingerprint::of_der(HashAlgorithm::Sha256, b"no certificate hashes to this"));

/// An in-memory `Conn`: `recv` hands out the queued datagrams, then reports the connection
/// closed once, then stays silent (dtls's reader retries a failing `recv` at once, so an error
/// on every call would spin it until the handshake timeout); `send` counts and discards.
struct FeedConn {
    incoming: Mutex<VecDeque<Vec<u8>>>,
    closed_reported: AtomicBool,
    sent: AtomicUsize,
}

fn closed() -> webrtc_util::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "feed closed").into()
}

#[async_trait::async_trait]
impl Conn for FeedConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(closed())
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        // One datagram per virtual millisecond, so the handshake answers each in turn.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let next = self.incoming.lock().expect("lock").pop_front();
        let Some(datagram) = next else {
            if self.closed_reported.swap(true, Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
            return Err(closed());
        };
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok(n)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let n = self.recv(buf).await?;
        Ok((n, remote()))
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(buf.len())
    }

    async fn send_to(&self, buf: &[u8], _target: SocketAddr) -> webrtc_util::Result<usize> {
        self.send(buf).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok("127.0.0.1:5000".parse().expect("addr"))
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        Some(remote())
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.incoming.lock().expect("lock").clear();
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

fn remote() -> SocketAddr {
    "127.0.0.1:6000".parse().expect("addr")
}

/// Splits the input after the role byte into length-prefixed datagrams.
fn datagrams(mut data: &[u8]) -> VecDeque<Vec<u8>> {
    let mut out = VecDeque::new();
    while !data.is_empty() && out.len() < MAX_DATAGRAMS {
        if data.len() < 2 {
            out.push_back(data.to_vec());
            break;
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let len = len.min(rest.len());
        out.push_back(rest[..len].to_vec());
        data = &rest[len..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&role, rest)) = data.split_first() else {
        return;
    };
    let role = if role % 2 == 0 {
        DtlsRole::Server
    } else {
        DtlsRole::Client
    };
    let conn = Arc::new(FeedConn {
        incoming: Mutex::new(datagrams(rest)),
        closed_reported: AtomicBool::new(false),
        sent: AtomicUsize::new(0),
    });
    let mut config = DtlsConfig::new(CERTIFICATE.clone());
    config.handshake_timeout = Duration::from_secs(2);
    config.retransmit_interval = Duration::from_millis(100);
    let transport = DtlsTransport::new(config);
    let parameters = DtlsParameters {
        role,
        remote_fingerprints: vec![*EXPECTED],
    };
    let outcome = RUNTIME.block_on(async {
        let outcome = transport
            .start(Arc::clone(&conn) as Arc<dyn Conn + Send + Sync>, parameters)
            .await;
        // Let the dtls crate's own tasks see the dropped connection and end.
        tokio::time::sleep(Duration::from_millis(10)).await;
        outcome
    });
    // Nothing of this input outlives it: the dtls reader and writer tasks have ended.
    assert_eq!(
        RUNTIME.metrics().num_alive_tasks(),
        0,
        "tasks left behind by a failed handshake"
    );
    match outcome {
        Ok(session) => panic!("handshake connected on fuzz input: {session:?}"),
        Err(DtlsError::InvalidState { .. }) => panic!("a fresh transport refused to start"),
        Err(_) => {}
    }
    assert_eq!(transport.state(), DtlsTransportState::Failed);
    // 2 s of 100 ms retransmissions (doubling) plus a few replies per datagram, at most.
    assert!(
        conn.sent.load(Ordering::Relaxed) < 10_000,
        "unbounded sends"
    );
});
