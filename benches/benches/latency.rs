//! Offer-to-open latency over loopback UDP: from the moment the answerer receives an offer to a
//! data channel open on both peers, Antiphon (two `antiphon_peer::RTCPeerConnection`s) against
//! webrtc-rs 0.17 (two `webrtc::RTCPeerConnection`s), as a distribution over many runs.
//!
//! A plain binary (`harness = false`), not criterion: each run is one connection setup and the
//! interesting figures are percentiles, not a mean. `cargo bench --bench latency` runs 200
//! connections per library (`-- --runs N` to change; `-- --only NAME` for one series); without `--bench` (as `cargo test
//! --benches` runs it) it does 3 runs per library as a smoke check.
//!
//! Timed region, both libraries, signaling in-process (no network delay added):
//! answerer `setRemoteDescription(offer)`, `createAnswer`, `setLocalDescription(answer)`
//! (webrtc-rs: and waiting for its ICE gathering to complete, since the answer must carry its
//! candidates: no trickle on either side), offerer `setRemoteDescription(answer)`, then ICE,
//! DTLS, SCTP and DCEP until both peers report the channel open (Antiphon: the offerer's
//! channel from `create_data_channel`, made before the offer, opened and the answerer's
//! `datachannel` event delivered it; webrtc-rs: `on_open` fired on both). Not timed: creating both peer connections (certificate
//! generation), and the offerer creating and applying its offer (for webrtc-rs, including its
//! gathering). Every run uses fresh peer connections, closed after the run. The time to the
//! offerer's connection state `connected` (ICE and DTLS done) is reported alongside, to show
//! where the time goes.
//!
//! The `antiphon-relayed-{udp,tcp,tls}` series run the same setup with both peers relay-only
//! through coturn on 127.0.0.1 (started by the bench; `turnserver` must be installed), each
//! side sending its description once it has gathered (its allocation made): the answerer's
//! allocation is in the timed region.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

/// coturn for the relayed series (the tests' helper, shared by path).
#[path = "../../crates/peer/tests/common/coturn.rs"]
mod coturn;
#[path = "support/measure.rs"]
mod measure;
#[path = "support/peers.rs"]
mod peers;

use measure::{load_average, ms, percentile};

use antiphon_peer::{RTCConfiguration, RTCIceServer, RTCIceTransportPolicy};
use peers::{
    Sample, antiphon_connect, antiphon_connect_gathered, antiphon_peer, antiphon_peer_with,
    antiphon_run, webrtc_api, webrtc_run,
};

/// Both peers relay-only through `url` (coturn, user alice): every datagram crosses the
/// server twice. Roots: the server's CA, for `turns:`.
async fn relayed_series(url: &str, roots: &str, runs: usize) -> Vec<Sample> {
    let configuration = RTCConfiguration::default()
        .with_ice_servers(vec![RTCIceServer {
            urls: vec![url.to_owned()],
            username: Some("alice".to_owned()),
            credential: Some("secret".to_owned()),
        }])
        .with_ice_transport_policy(RTCIceTransportPolicy::Relay);
    let peer = || {
        let options = antiphon_peer::PeerOptions::default()
            .with_bind(vec![std::net::IpAddr::from([127, 0, 0, 1])])
            .with_turn_roots_pem(Some(roots.as_bytes().to_vec()));
        antiphon_peer::RTCPeerConnection::with_options(configuration.clone(), options)
            .expect("a relay-only peer")
    };
    // One warm-up connection, not recorded.
    let (pair, _) = antiphon_connect_gathered(peer(), peer()).await;
    pair.close().await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (pair, sample) = antiphon_connect_gathered(peer(), peer()).await;
        pair.close().await;
        samples.push(sample);
    }
    samples
}

fn report(name: &str, samples: &[Sample]) {
    for (what, pick) in [
        (
            "offer-to-open",
            (|s: &Sample| s.open) as fn(&Sample) -> Duration,
        ),
        ("offer-to-connected", |s: &Sample| s.connected),
        ("offer-to-answer", |s: &Sample| s.answered),
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 200 } else { 3 });
    let only = measure::only(&args);
    let runtime = measure::runtime();
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
        if only.as_deref().is_none_or(|o| o == "antiphon-silent-stun") {
            // Bound for the whole series and never read: requests to it go unanswered.
            let silent = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("a silent STUN server");
            let server = silent.local_addr().expect("its address");
            let configuration = RTCConfiguration::default().with_ice_servers(vec![RTCIceServer {
                urls: vec![format!("stun:{server}")],
                ..RTCIceServer::default()
            }]);
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                let answerer = antiphon_peer_with(configuration.clone());
                let (pair, sample) = antiphon_connect(antiphon_peer(), answerer).await;
                pair.close().await;
                samples.push(sample);
            }
            report("antiphon-silent-stun", &samples);
        }
        if only
            .as_deref()
            .is_none_or(|o| o.starts_with("antiphon-relayed"))
        {
            // The same run as the direct series: relayed through coturn on loopback.
            let server = coturn::Coturn::start(coturn::Auth::User {
                username: "alice".to_owned(),
                password: "secret".to_owned(),
            });
            for (name, url) in [
                (
                    "antiphon-relayed-udp",
                    format!("turn:127.0.0.1:{}", server.port),
                ),
                (
                    "antiphon-relayed-tcp",
                    format!("turn:127.0.0.1:{}?transport=tcp", server.port),
                ),
                (
                    "antiphon-relayed-tls",
                    format!("turns:127.0.0.1:{}", server.tls_port),
                ),
            ] {
                if only
                    .as_deref()
                    .is_none_or(|o| o == "antiphon-relayed" || o == name)
                {
                    let samples = relayed_series(&url, &server.certificate_pem, runs).await;
                    report(name, &samples);
                }
            }
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
