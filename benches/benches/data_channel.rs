//! Data channel messages: one message sent on one end and received on the other, over SCTP
//! and DTLS over two connected UDP sockets on loopback (the association and channel are set up
//! once, untimed). What `RTCDataChannel::send` and `recv` cost per message, SCTP, DTLS, the
//! kernel's loopback and the transport tasks included.

use std::sync::Arc;

use antiphon_dtls::{DtlsConfig, DtlsParameters, DtlsRole};
use antiphon_peer::{RTCDataChannel, RTCDataChannelInit, SctpParameters, SctpTransport};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/pipe.rs"]
mod pipe;

const PARAMETERS: SctpParameters = SctpParameters {
    local_port: 5000,
    remote_port: 5000,
    local_max_message_size: 262_144,
    remote_max_message_size: 262_144,
};

/// An open channel: the sending end, the receiving end, and the transports that carry them
/// (each a transport task running the sans-IO DTLS and SCTP over a UDP socket).
async fn open_channel() -> (RTCDataChannel, RTCDataChannel, [Arc<SctpTransport>; 2]) {
    let (client, server) = (pipe::Endpoint::generate(), pipe::Endpoint::generate());
    let a = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let z = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    a.connect(z.local_addr().expect("address"))
        .await
        .expect("connect");
    z.connect(a.local_addr().expect("address"))
        .await
        .expect("connect");
    let (a, b) = tokio::join!(
        SctpTransport::connect(
            a,
            DtlsConfig::new(client.certificate.clone()),
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![server.fingerprint],
            },
            PARAMETERS,
        ),
        SctpTransport::connect(
            z,
            DtlsConfig::new(server.certificate.clone()),
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![client.fingerprint],
            },
            PARAMETERS,
        ),
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
