//! Data channel messages: one message sent on one end and received on the other, over SCTP
//! and DTLS on an in-memory pipe (the association and channel are set up once, untimed).
//! What `RTCDataChannel::send` and `recv` cost per message, SCTP and DTLS included.

use std::sync::Arc;

use antiphon_dtls::{
    Certificate, CertificateOptions, Conn, DtlsConfig, DtlsParameters, DtlsRole, DtlsTransport,
    HashAlgorithm,
};
use antiphon_peer::{RTCDataChannel, RTCDataChannelInit, SctpParameters, SctpTransport};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

type SharedConn = Arc<dyn Conn + Send + Sync>;

const PARAMETERS: SctpParameters = SctpParameters {
    local_port: 5000,
    remote_port: 5000,
    local_max_message_size: 262_144,
    remote_max_message_size: 262_144,
};

/// An open channel: the sending end, the receiving end, and the transports that carry them.
async fn open_channel() -> (RTCDataChannel, RTCDataChannel, [SctpTransport; 2]) {
    let (a, b) = webrtc_util::conn::conn_pipe::pipe();
    let (a, b): (SharedConn, SharedConn) = (Arc::new(a), Arc::new(b));
    let certificates = [
        Certificate::generate(&CertificateOptions::default()).expect("certificate"),
        Certificate::generate(&CertificateOptions::default()).expect("certificate"),
    ];
    let fingerprints = certificates
        .each_ref()
        .map(|c| c.fingerprint(HashAlgorithm::Sha256));
    let [cert_a, cert_b] = certificates;
    let [fp_a, fp_b] = fingerprints;
    let (dtls_a, dtls_b) = (
        DtlsTransport::new(DtlsConfig::new(cert_a)),
        DtlsTransport::new(DtlsConfig::new(cert_b)),
    );
    let (client, server) = tokio::join!(
        dtls_a.start(
            a,
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![fp_b],
            },
        ),
        dtls_b.start(
            b,
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![fp_a],
            },
        ),
    );
    let (client, server) = (client.expect("dtls client"), server.expect("dtls server"));
    let (a, b) = tokio::join!(
        SctpTransport::start(client.conn(), DtlsRole::Client, PARAMETERS),
        SctpTransport::start(server.conn(), DtlsRole::Server, PARAMETERS),
    );
    let (a, b) = (a.expect("sctp a"), b.expect("sctp b"));
    let sender = a
        .open("bench", RTCDataChannelInit::default())
        .await
        .expect("open");
    sender.send_text("hello").await.expect("first message");
    let receiver = b.accept().await.expect("ondatachannel");
    receiver.recv().await.expect("first message");
    (sender, receiver, [a, b])
}

fn bench_message(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sender, receiver, _transports) = runtime.block_on(open_channel());
    let mut group = c.benchmark_group("data_channel");
    for size in [16usize, 1024, 65_536] {
        let message = Bytes::from(vec![7u8; size]);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("send_recv_{size}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    sender.send(message.clone()).await.expect("send");
                    let received = receiver.recv().await.expect("recv");
                    assert_eq!(received.data.len(), size);
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_message);
criterion_main!(benches);
