//! Peer connection setup shared by the `latency` and `scale` benches: two Antiphon peers, or
//! two webrtc-rs 0.17 peers, connected over loopback UDP with one data channel open.

// Each bench binary uses a different subset.
#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannel, RTCDataChannelInit, RTCPeerConnection,
    RTCPeerConnectionState,
};
use tokio::sync::mpsc;
use webrtc::api::API;
use webrtc::api::APIBuilder;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel as WebrtcRsDataChannel;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::peer_connection::RTCPeerConnection as WebrtcRsPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration as WebrtcRsConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState as WebrtcRsState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// Offerers not `connected` when their channel opened (they recovered; see `open_channel`).
pub(crate) static DISCONNECTED_AT_OPEN: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Bounds a hang; a loopback setup takes milliseconds.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

pub(crate) fn antiphon_peer() -> RTCPeerConnection {
    antiphon_peer_with(RTCConfiguration::default())
}

/// An Antiphon peer with `configuration`, gathering on 127.0.0.1 only.
pub(crate) fn antiphon_peer_with(configuration: RTCConfiguration) -> RTCPeerConnection {
    let options = PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])]);
    match RTCPeerConnection::with_options(configuration, options) {
        Ok(pc) => pc,
        Err(e) => panic!("Antiphon peer connection: {e}"),
    }
}

/// `result`'s value, or a panic naming the step.
pub(crate) fn ok<T>(what: &str, result: Result<T, antiphon_peer::Error>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// One run: offer received to the answer applied on the answerer (`createAnswer` and
/// `setLocalDescription` returned), to the offerer's connection state `connected` (ICE and
/// DTLS up), and to the data channel open on both peers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) answered: Duration,
    pub(crate) connected: Duration,
    pub(crate) open: Duration,
}

/// Two connected Antiphon peers and their open data channel, kept alive while held.
pub(crate) struct AntiphonPair {
    pub(crate) offerer: RTCPeerConnection,
    pub(crate) answerer: RTCPeerConnection,
    pub(crate) channels: (RTCDataChannel, RTCDataChannel),
}

impl AntiphonPair {
    pub(crate) async fn close(self) {
        self.offerer.close().await;
        self.answerer.close().await;
    }
}

/// Two fresh Antiphon peers (certificates generated), not yet negotiating.
pub(crate) fn antiphon_peers() -> (RTCPeerConnection, RTCPeerConnection) {
    (antiphon_peer(), antiphon_peer())
}

/// One Antiphon run: connect, then close.
pub(crate) async fn antiphon_run() -> Sample {
    let (offerer, answerer) = antiphon_peers();
    let (pair, sample) = antiphon_connect(offerer, answerer).await;
    pair.close().await;
    sample
}

/// Waits until `pc` has gathered every candidate (the `null` candidate event).
async fn gathered(events: &mut antiphon_peer::PeerConnectionEvents) {
    within("gathering completes", async {
        while let Some(event) = events.recv().await {
            if matches!(
                event,
                antiphon_peer::PeerConnectionEvent::IceCandidate(None)
            ) {
                return;
            }
        }
        panic!("events ended before gathering completed");
    })
    .await;
}

/// [`antiphon_connect`] for peers whose candidates come later than their descriptions (relay
/// candidates, as TURN allocations complete): non-trickle, each side sends its description once
/// it has gathered everything. The offerer gathers before the clock starts; the answerer's
/// gathering (its allocation) is in the timed region, as a real answerer's is.
pub(crate) async fn antiphon_connect_gathered(
    offerer: RTCPeerConnection,
    answerer: RTCPeerConnection,
) -> (AntiphonPair, Sample) {
    let (mut offerer_events, mut gathering) = (offerer.subscribe(), answerer.subscribe());
    let answerer_events = answerer.subscribe();
    let chat = ok(
        "create_data_channel",
        offerer
            .create_data_channel("bench", RTCDataChannelInit::default())
            .await,
    );
    ok(
        "offerer set_local_description",
        offerer.set_local_description(None).await,
    );
    gathered(&mut offerer_events).await;
    let offer = offerer.local_description().await.expect("the offer");

    let start = Instant::now();
    ok(
        "answerer set_remote_description",
        answerer.set_remote_description(offer).await,
    );
    ok(
        "answerer set_local_description",
        answerer.set_local_description(None).await,
    );
    gathered(&mut gathering).await;
    let answer = answerer.local_description().await.expect("the answer");
    let answered = start.elapsed();
    open_channel(
        offerer,
        answerer,
        answer,
        Opening {
            chat,
            answerer_events,
            start,
            answered,
        },
    )
    .await
}

/// Negotiates `offerer` with `answerer` and opens a data channel; the sample is timed from
/// the offer reaching the answerer.
pub(crate) async fn antiphon_connect(
    offerer: RTCPeerConnection,
    answerer: RTCPeerConnection,
) -> (AntiphonPair, Sample) {
    let answerer_events = answerer.subscribe();
    let chat = ok(
        "create_data_channel",
        offerer
            .create_data_channel("bench", RTCDataChannelInit::default())
            .await,
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
    let answered = start.elapsed();
    open_channel(
        offerer,
        answerer,
        answer,
        Opening {
            chat,
            answerer_events,
            start,
            answered,
        },
    )
    .await
}

/// A setup under way: the offerer's channel, the answerer's events, when the clock started and
/// how long the answer took.
struct Opening {
    chat: RTCDataChannel,
    answerer_events: antiphon_peer::PeerConnectionEvents,
    start: Instant,
    answered: Duration,
}

/// The offerer applies `answer`; then both wait for the channel open on both sides (the
/// offerer's `opened()`, the answerer's `datachannel` event) and the sample is taken.
async fn open_channel(
    offerer: RTCPeerConnection,
    answerer: RTCPeerConnection,
    answer: antiphon_peer::RTCSessionDescriptionInit,
    opening: Opening,
) -> (AntiphonPair, Sample) {
    let Opening {
        chat,
        mut answerer_events,
        start,
        answered,
    } = opening;
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
            async { chat.opened().await.map(|()| chat.clone()) },
            answerer_events.next_data_channel()
        )
    })
    .await;
    let open = start.elapsed();
    let channel = ok("the channel opens", opened);
    let Some(accepted) = accepted else {
        panic!("the answerer does not see the channel");
    };
    if offerer.connection_state() != RTCPeerConnectionState::Connected {
        // Under a burst of thousands of connections at once on 2 cores, a consent response can
        // come later than ICE's 8 s disconnected timeout: counted, and it must recover.
        DISCONNECTED_AT_OPEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let state = within(
            "connected again",
            offerer.wait_for_state(|s| {
                matches!(
                    s,
                    RTCPeerConnectionState::Connected
                        | RTCPeerConnectionState::Failed
                        | RTCPeerConnectionState::Closed
                )
            }),
        )
        .await;
        assert_eq!(state, RTCPeerConnectionState::Connected);
    }
    (
        AntiphonPair {
            offerer,
            answerer,
            channels: (channel, accepted),
        },
        Sample {
            answered,
            connected: connected_at,
            open,
        },
    )
}

/// webrtc-rs: default codecs, no interceptors (no media flows), IPv4 UDP loopback host
/// candidates only, no mDNS: the same network as the Antiphon peers get.
pub(crate) fn webrtc_api() -> API {
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

pub(crate) async fn webrtc_peer(api: &API) -> Arc<WebrtcRsPeerConnection> {
    match api
        .new_peer_connection(WebrtcRsConfiguration::default())
        .await
    {
        Ok(pc) => Arc::new(pc),
        Err(e) => panic!("webrtc-rs peer connection: {e}"),
    }
}

/// Applies a local description and waits for ICE gathering to complete (non-trickle).
pub(crate) async fn set_local_and_gather(
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

/// Two connected webrtc-rs peers and their open data channel (the offerer's end, the
/// answerer's).
pub(crate) struct WebrtcRsPair {
    pub(crate) offerer: Arc<WebrtcRsPeerConnection>,
    pub(crate) answerer: Arc<WebrtcRsPeerConnection>,
    pub(crate) channels: (Arc<WebrtcRsDataChannel>, Arc<WebrtcRsDataChannel>),
}

impl WebrtcRsPair {
    pub(crate) async fn close(self) {
        let _ = self.offerer.close().await;
        let _ = self.answerer.close().await;
    }
}

/// One webrtc-rs run: connect, then close.
pub(crate) async fn webrtc_run(api: &API) -> Sample {
    let offerer = webrtc_peer(api).await;
    let answerer = webrtc_peer(api).await;
    let (pair, sample) = webrtc_connect(offerer, answerer).await;
    pair.close().await;
    sample
}

/// Negotiates two webrtc-rs peers and opens a data channel; timed from the offer reaching the
/// answerer.
pub(crate) async fn webrtc_connect(
    offerer: Arc<WebrtcRsPeerConnection>,
    answerer: Arc<WebrtcRsPeerConnection>,
) -> (WebrtcRsPair, Sample) {
    let (state_tx, mut states) = tokio::sync::watch::channel(WebrtcRsState::New);
    offerer.on_peer_connection_state_change(Box::new(move |state| {
        let _ = state_tx.send(state);
        Box::pin(async {})
    }));
    // Each end reports itself open; the answerer's end comes with the report.
    let (open_tx, mut opened) = mpsc::unbounded_channel::<Option<Arc<WebrtcRsDataChannel>>>();
    let channel = match offerer.create_data_channel("bench", None).await {
        Ok(channel) => channel,
        Err(e) => panic!("webrtc-rs create_data_channel: {e}"),
    };
    let tx = open_tx.clone();
    channel.on_open(Box::new(move || {
        let _ = tx.send(None);
        Box::pin(async {})
    }));
    let tx = open_tx;
    answerer.on_data_channel(Box::new(move |channel| {
        let tx = tx.clone();
        let end = Arc::clone(&channel);
        channel.on_open(Box::new(move || {
            let _ = tx.send(Some(end));
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
    let answered = start.elapsed();
    if let Err(e) = offerer.set_remote_description(answer).await {
        panic!("webrtc-rs offerer set_remote_description: {e}");
    }
    let (connected_at, accepted) = within("webrtc-rs both channels open", async {
        tokio::join!(
            async {
                let _ = states
                    .wait_for(|s| matches!(s, WebrtcRsState::Connected | WebrtcRsState::Failed))
                    .await;
                start.elapsed()
            },
            async {
                let mut accepted = None;
                for _ in 0..2 {
                    if let Some(Some(end)) = opened.recv().await {
                        accepted = Some(end);
                    }
                }
                accepted
            }
        )
    })
    .await;
    let elapsed = start.elapsed();
    let Some(accepted) = accepted else {
        panic!("webrtc-rs: the answerer's channel did not open");
    };
    (
        WebrtcRsPair {
            offerer,
            answerer,
            channels: (channel, accepted),
        },
        Sample {
            answered,
            connected: connected_at,
            open: elapsed,
        },
    )
}

/// Waits for every connection task; gives each pair's offer-to-open time and the pairs
/// themselves, to be held open while memory is measured.
pub(crate) async fn held_open<P: Send + 'static>(
    tasks: Vec<tokio::task::JoinHandle<(P, Sample)>>,
) -> (Vec<Duration>, Vec<Box<dyn std::any::Any + Send>>) {
    let mut out = (Vec::new(), Vec::new());
    for task in tasks {
        let (pair, sample) = match task.await {
            Ok(done) => done,
            Err(e) => panic!("connection task: {e}"),
        };
        out.0.push(sample.open);
        out.1.push(Box::new(pair) as Box<dyn std::any::Any + Send>);
    }
    out
}

/// Spawns `connect` on `pairs` fresh pairs of Antiphon peers at once.
pub(crate) fn spawn_antiphon<F>(
    pairs: usize,
    connect: impl Fn(antiphon_peer::RTCPeerConnection, antiphon_peer::RTCPeerConnection) -> F,
) -> Vec<tokio::task::JoinHandle<(AntiphonPair, Sample)>>
where
    F: std::future::Future<Output = (AntiphonPair, Sample)> + Send + 'static,
{
    spawn_pairs(pairs, antiphon_peers, connect)
}

/// Spawns `connect` on `pairs` pairs that `make` makes, at once.
pub(crate) fn spawn_pairs<F>(
    pairs: usize,
    make: impl Fn() -> (
        antiphon_peer::RTCPeerConnection,
        antiphon_peer::RTCPeerConnection,
    ),
    connect: impl Fn(antiphon_peer::RTCPeerConnection, antiphon_peer::RTCPeerConnection) -> F,
) -> Vec<tokio::task::JoinHandle<(AntiphonPair, Sample)>>
where
    F: std::future::Future<Output = (AntiphonPair, Sample)> + Send + 'static,
{
    (0..pairs)
        .map(|_| {
            let (offerer, answerer) = make();
            tokio::spawn(connect(offerer, answerer))
        })
        .collect()
}

/// Spawns `pairs` webrtc-rs pairs connecting at once (the peers are made first, one by one).
pub(crate) async fn spawn_webrtc_pairs(
    pairs: usize,
) -> Vec<tokio::task::JoinHandle<(WebrtcRsPair, Sample)>> {
    let api = Arc::new(webrtc_api());
    let mut tasks = Vec::new();
    for _ in 0..pairs {
        let offerer = webrtc_peer(&api).await;
        let answerer = webrtc_peer(&api).await;
        tasks.push(tokio::spawn(webrtc_connect(offerer, answerer)));
    }
    tasks
}
