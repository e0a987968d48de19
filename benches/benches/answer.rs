//! `createAnswer` end to end, offer text in and answer text out: Antiphon's [`Negotiator`] side by
//! side with webrtc-rs (`webrtc` 0.17, `RTCPeerConnection`).
//!
//! Each iteration gets a fresh answerer built outside the timed region (a webrtc-rs
//! `RTCPeerConnection` refuses a second remote offer while it has one, so a new connection per
//! iteration is the only way to repeat `setRemoteDescription(offer)`). The timed region is, for
//! both: `setRemoteDescription(offer text)` then `createAnswer()` down to the answer's SDP
//! `String`. Closing the webrtc-rs connection happens after the timed region.
//!
//! str0m is benched in the separate comparison workspace `benches/peers/` (`cargo xtask bench
//! --peers`): its only crypto backend that resolves is aws-lc, which no Antiphon crate links.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use antiphon_benches::{FixedEntropy, bench_transport};
use antiphon_codec::Capabilities;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Negotiator, RTCSessionDescriptionInit};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use webrtc::api::API;
use webrtc::api::APIBuilder;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::peer_connection::certificate::RTCCertificate;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

fn offers() -> Vec<(&'static str, String)> {
    vec![
        ("chromium-data-only", antiphon_benches::data_only_offer()),
        (
            "chromium156-audio-video-data",
            antiphon_benches::chromium_offer(),
        ),
        (
            "chromium-32audio-32video",
            antiphon_benches::many_sections_offer(32, 32),
        ),
    ]
}

/// The ICE credentials and DTLS fingerprint both answerers write (webrtc-rs draws its own ICE
/// credentials; both use the same certificate).
fn local_transport(certificate: &RTCCertificate) -> LocalTransport {
    bench_transport(
        certificate
            .get_fingerprints()
            .into_iter()
            .map(|f| antiphon_sdp::Fingerprint {
                algorithm: f.algorithm,
                value: f.value,
            })
            .collect(),
    )
}

/// Antiphon: `set_remote_description(offer)` + `create_answer` on a fresh [`Negotiator`].
fn antiphon_answer(offer: &str, transport: &LocalTransport) -> String {
    let mut negotiator = Negotiator::new(
        Capabilities::browser_default(),
        AnswerOptions::default(),
        Box::new(FixedEntropy(7)),
    );
    let mut elapsed = Duration::ZERO;
    antiphon_timed(&mut negotiator, offer, transport, &mut elapsed)
}

fn antiphon_timed(
    negotiator: &mut Negotiator,
    offer: &str,
    transport: &LocalTransport,
    elapsed: &mut Duration,
) -> String {
    let start = Instant::now();
    let applied =
        negotiator.set_remote_description(&RTCSessionDescriptionInit::offer(black_box(offer)));
    let answer = applied.and_then(|_| negotiator.create_answer(|_| transport.clone()));
    *elapsed += start.elapsed();
    match answer {
        Ok(answer) => answer.sdp,
        Err(e) => panic!("antiphon refuses the offer: {e}"),
    }
}

/// The webrtc-rs API: default codecs (no interceptors: they only act on RTP), mDNS off so no
/// socket is opened while answering.
fn webrtc_api() -> API {
    let mut media = MediaEngine::default();
    if let Err(e) = media.register_default_codecs() {
        panic!("webrtc-rs default codecs: {e}");
    }
    let mut settings = SettingEngine::default();
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    APIBuilder::new()
        .with_media_engine(media)
        .with_setting_engine(settings)
        .build()
}

/// webrtc-rs: a fresh `RTCPeerConnection` (untimed), then `set_remote_description(offer)` +
/// `create_answer(None)` timed into `elapsed`, then `close()` (untimed).
async fn webrtc_answer(
    api: &API,
    certificate: &RTCCertificate,
    offer: &str,
    elapsed: &mut Duration,
) -> String {
    let config = RTCConfiguration {
        certificates: vec![certificate.clone()],
        ..Default::default()
    };
    let pc = match api.new_peer_connection(config).await {
        Ok(pc) => pc,
        Err(e) => panic!("webrtc-rs peer connection: {e}"),
    };
    let start = Instant::now();
    let answer = async {
        let offer = RTCSessionDescription::offer(black_box(offer).to_owned())?;
        pc.set_remote_description(offer).await?;
        pc.create_answer(None).await
    }
    .await;
    *elapsed += start.elapsed();
    let closed = pc.close().await;
    match (answer, closed) {
        (Ok(answer), Ok(())) => answer.sdp,
        (Err(e), _) | (_, Err(e)) => panic!("webrtc-rs refuses the offer: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let certificate = match rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(webrtc::Error::from)
        .and_then(RTCCertificate::from_key_pair)
    {
        Ok(certificate) => certificate,
        Err(e) => panic!("certificate: {e}"),
    };
    let transport = local_transport(&certificate);
    let api = Arc::new(webrtc_api());
    for (name, offer) in offers() {
        check_answers(&runtime, &api, &certificate, &transport, name, &offer);
        let mut group = c.benchmark_group(format!("answer/{name}"));
        group.bench_function("antiphon", |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let mut negotiator = Negotiator::new(
                        Capabilities::browser_default(),
                        AnswerOptions::default(),
                        Box::new(FixedEntropy(7)),
                    );
                    black_box(antiphon_timed(
                        &mut negotiator,
                        &offer,
                        &transport,
                        &mut elapsed,
                    ));
                }
                elapsed
            })
        });
        group.bench_function("webrtc-rs", |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    black_box(runtime.block_on(webrtc_answer(
                        &api,
                        &certificate,
                        &offer,
                        &mut elapsed,
                    )));
                }
                elapsed
            })
        });
        group.finish();
    }
}

/// Both answerers accept the offer and answer every m= section: a bench of a refusal would
/// measure nothing.
fn check_answers(
    runtime: &Runtime,
    api: &API,
    certificate: &RTCCertificate,
    transport: &LocalTransport,
    name: &str,
    offer: &str,
) {
    let sections = offer.matches("\nm=").count();
    let ours = antiphon_answer(offer, transport);
    let mut elapsed = Duration::ZERO;
    let theirs = runtime.block_on(webrtc_answer(api, certificate, offer, &mut elapsed));
    for (who, answer) in [("antiphon", &ours), ("webrtc-rs", &theirs)] {
        let answered = answer.matches("\nm=").count();
        assert_eq!(
            answered, sections,
            "{name}: {who} answers {answered} of {sections} sections:\n{answer}"
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
