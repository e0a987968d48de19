//! Offer-to-open latency over loopback UDP: from the moment the answerer receives an offer to a
//! data channel open on both peers, Antiphon (two `antiphon_peer::RTCPeerConnection`s) against
//! webrtc-rs 0.17 (two `webrtc::RTCPeerConnection`s), as a distribution over many runs.
//!
//! A plain binary (`harness = false`), not criterion: each run is one connection setup and the
//! interesting figures are percentiles, not a mean. `cargo bench --bench latency` runs 200
//! connections per library (`-- --runs N` to change); without `--bench` (as `cargo test
//! --benches` runs it) it does 3 runs per library as a smoke check.
//!
//! Timed region, both libraries, signaling in-process (no network delay added):
//! answerer `setRemoteDescription(offer)`, `createAnswer`, `setLocalDescription(answer)`
//! (webrtc-rs: and waiting for its ICE gathering to complete, since the answer must carry its
//! candidates: no trickle on either side), offerer `setRemoteDescription(answer)`, then ICE,
//! DTLS, SCTP and DCEP until both peers report the channel open (Antiphon: the offerer's
//! `open_data_channel` returned and the answerer's `accept_data_channel` yielded it;
//! webrtc-rs: `on_open` fired on both). Not timed: creating both peer connections (certificate
//! generation), and the offerer creating and applying its offer (for webrtc-rs, including its
//! gathering). Every run uses fresh peer connections, closed after the run. The time to the
//! offerer's connection state `connected` (ICE and DTLS done) is reported alongside, to show
//! where the time goes.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection, RTCPeerConnectionState,
};
use tokio::sync::mpsc;
use webrtc::api::API;
use webrtc::api::APIBuilder;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::peer_connection::RTCPeerConnection as WebrtcRsPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration as WebrtcRsConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState as WebrtcRsState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// Bounds a hang; a loopback setup takes milliseconds.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

fn antiphon_peer() -> RTCPeerConnection {
    let options = PeerOptions {
        bind: vec![IpAddr::from([127, 0, 0, 1])],
        ..PeerOptions::default()
    };
    match RTCPeerConnection::with_options(RTCConfiguration::default(), options) {
        Ok(pc) => pc,
        Err(e) => panic!("Antiphon peer connection: {e}"),
    }
}

/// `result`'s value, or a panic naming the step.
fn ok<T>(what: &str, result: Result<T, antiphon_peer::Error>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// One run: offer received to the offerer's connection state `connected` (ICE and DTLS up),
/// and to the data channel open on both peers.
#[derive(Debug, Clone, Copy)]
struct Sample {
    connected: Duration,
    open: Duration,
}

/// One Antiphon run.
async fn antiphon_run() -> Sample {
    let offerer = antiphon_peer();
    let answerer = antiphon_peer();
    ok(
        "data channel section",
        offerer.create_data_channel_section().await,
    );
    let offer = ok("create_offer", offerer.create_offer().await);
    ok(
        "offerer set_local_description",
        offerer.set_local_description(Some(offer.clone())).await,
    );

    let start = Instant::now();
    ok(
        "answerer set_remote_description",
        answerer.set_remote_description(offer).await,
    );
    let answer = ok("create_answer", answerer.create_answer().await);
    ok(
        "answerer set_local_description",
        answerer.set_local_description(Some(answer.clone())).await,
    );
    ok(
        "offerer set_remote_description",
        offerer.set_remote_description(answer).await,
    );
    let connected = |s| {
        matches!(
            s,
            RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
        )
    };
    let (connected_at, opened, accepted) = within("Antiphon data channel open", async {
        tokio::join!(
            async {
                offerer.wait_for_state(connected).await;
                start.elapsed()
            },
            offerer.open_data_channel("bench", RTCDataChannelInit::default()),
            answerer.accept_data_channel()
        )
    })
    .await;
    let elapsed = start.elapsed();
    let _channel = ok("open_data_channel", opened);
    assert!(accepted.is_some(), "the answerer sees the channel");
    assert_eq!(
        offerer.connection_state(),
        RTCPeerConnectionState::Connected
    );
    offerer.close().await;
    answerer.close().await;
    Sample {
        connected: connected_at,
        open: elapsed,
    }
}

/// webrtc-rs: default codecs, no interceptors (no media flows), IPv4 UDP loopback host
/// candidates only, no mDNS: the same network as the Antiphon peers get.
fn webrtc_api() -> API {
    let mut media = MediaEngine::default();
    if let Err(e) = media.register_default_codecs() {
        panic!("webrtc-rs default codecs: {e}");
    }
    let mut settings = SettingEngine::default();
    settings.set_network_types(vec![NetworkType::Udp4]);
    settings.set_include_loopback_candidate(true);
    settings.set_ip_filter(Box::new(|ip: IpAddr| ip.is_loopback()));
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    APIBuilder::new()
        .with_media_engine(media)
        .with_setting_engine(settings)
        .build()
}

async fn webrtc_peer(api: &API) -> Arc<WebrtcRsPeerConnection> {
    match api
        .new_peer_connection(WebrtcRsConfiguration::default())
        .await
    {
        Ok(pc) => Arc::new(pc),
        Err(e) => panic!("webrtc-rs peer connection: {e}"),
    }
}

/// Applies a local description and waits for ICE gathering to complete (non-trickle).
async fn set_local_and_gather(
    pc: &WebrtcRsPeerConnection,
    description: RTCSessionDescription,
) -> RTCSessionDescription {
    let mut gathered = pc.gathering_complete_promise().await;
    if let Err(e) = pc.set_local_description(description).await {
        panic!("webrtc-rs set_local_description: {e}");
    }
    within("webrtc-rs gathering", gathered.recv()).await;
    match pc.local_description().await {
        Some(description) => description,
        None => panic!("webrtc-rs has no local description"),
    }
}

/// One webrtc-rs run.
async fn webrtc_run(api: &API) -> Sample {
    let offerer = webrtc_peer(api).await;
    let answerer = webrtc_peer(api).await;
    let (state_tx, mut states) = tokio::sync::watch::channel(WebrtcRsState::New);
    offerer.on_peer_connection_state_change(Box::new(move |state| {
        let _ = state_tx.send(state);
        Box::pin(async {})
    }));
    let (open_tx, mut opened) = mpsc::unbounded_channel::<&'static str>();
    let channel = match offerer.create_data_channel("bench", None).await {
        Ok(channel) => channel,
        Err(e) => panic!("webrtc-rs create_data_channel: {e}"),
    };
    let tx = open_tx.clone();
    channel.on_open(Box::new(move || {
        let _ = tx.send("offerer");
        Box::pin(async {})
    }));
    let tx = open_tx;
    answerer.on_data_channel(Box::new(move |channel| {
        let tx = tx.clone();
        channel.on_open(Box::new(move || {
            let _ = tx.send("answerer");
            Box::pin(async {})
        }));
        Box::pin(async {})
    }));
    let offer = match offerer.create_offer(None).await {
        Ok(offer) => offer,
        Err(e) => panic!("webrtc-rs create_offer: {e}"),
    };
    let offer = set_local_and_gather(&offerer, offer).await;

    let start = Instant::now();
    if let Err(e) = answerer.set_remote_description(offer).await {
        panic!("webrtc-rs answerer set_remote_description: {e}");
    }
    let answer = match answerer.create_answer(None).await {
        Ok(answer) => answer,
        Err(e) => panic!("webrtc-rs create_answer: {e}"),
    };
    let answer = set_local_and_gather(&answerer, answer).await;
    if let Err(e) = offerer.set_remote_description(answer).await {
        panic!("webrtc-rs offerer set_remote_description: {e}");
    }
    let (connected_at, ()) = within("webrtc-rs both channels open", async {
        tokio::join!(
            async {
                let _ = states
                    .wait_for(|s| matches!(s, WebrtcRsState::Connected | WebrtcRsState::Failed))
                    .await;
                start.elapsed()
            },
            async {
                for _ in 0..2 {
                    opened.recv().await;
                }
            }
        )
    })
    .await;
    let elapsed = start.elapsed();
    let _ = offerer.close().await;
    let _ = answerer.close().await;
    Sample {
        connected: connected_at,
        open: elapsed,
    }
}

/// `p`-th percentile (nearest rank) of sorted `values`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: ceil(p/100 * n), 1-based; the float is small and positive.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(name: &str, samples: &[Sample]) {
    for (what, pick) in [
        (
            "offer-to-open",
            (|s: &Sample| s.open) as fn(&Sample) -> Duration,
        ),
        ("offer-to-connected", |s: &Sample| s.connected),
    ] {
        let mut values: Vec<Duration> = samples.iter().map(pick).collect();
        values.sort_unstable();
        let count = u32::try_from(values.len().max(1)).unwrap_or(u32::MAX);
        let mean = values.iter().sum::<Duration>() / count;
        println!(
            "latency/{what}/{name}: runs {} p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms max {:.2} ms min {:.2} ms mean {:.2} ms",
            values.len(),
            ms(percentile(&values, 50.0)),
            ms(percentile(&values, 90.0)),
            ms(percentile(&values, 99.0)),
            ms(values.last().copied().unwrap_or_default()),
            ms(values.first().copied().unwrap_or_default()),
            ms(mean),
        );
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 200 } else { 3 });
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    println!("load average before: {}", load_average());
    runtime.block_on(async {
        if only.as_deref().is_none_or(|o| o == "antiphon") {
            // One warm-up connection (page faults, lazy statics), not recorded.
            antiphon_run().await;
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                samples.push(antiphon_run().await);
            }
            report("antiphon", &samples);
        }
        if only.as_deref().is_none_or(|o| o == "webrtc-rs") {
            let api = webrtc_api();
            webrtc_run(&api).await;
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                samples.push(webrtc_run(&api).await);
            }
            report("webrtc-rs", &samples);
        }
    });
    println!("load average after: {}", load_average());
}
