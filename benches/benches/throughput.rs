//! Data-channel throughput and large-message round trips over loopback UDP, two Antiphon peer
//! connections beside two webrtc-rs 0.17 peer connections and two Chromium ones (headless, one
//! page: `benches/browser/throughput.html`), in the same run: one reliable ordered channel
//! each, ICE, DTLS and SCTP as a user gets them. (str0m's figures come from the comparison
//! workspace, `benches/peers`, `net throughput`.)
//!
//! * **stream**: 65,535-byte, 64 KiB and 256 KiB binary messages sent back to back for [`STREAM_BYTES`]
//!   (the sender keeps at most [`HIGH_WATER`] buffered, waiting for `bufferedamountlow` at
//!   [`LOW_WATER`], as a browser application paces itself); timed from the first `send` to the
//!   last byte read on the other end: MB/s.
//! * **echo**: one message of each size sent and the answerer's echo of it read back,
//!   [`ECHOES`] times one after the other: round-trip percentiles.
//!
//! webrtc-rs runs the 65,535-byte size only: it cannot receive a larger message
//! ([`WEBRTC_RS_MAX`]).
//!
//! A plain binary (`harness = false`): `cargo xtask netns cargo bench -p antiphon-benches
//! --bench throughput` (sockets: in the loopback-only namespace); `-- --only NAME` for one
//! library. Without `--bench` (as `cargo test --benches` runs it) it streams 1 MiB and echoes
//! 3 times per library, as a smoke check.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/chromium.rs"]
mod chromium;
#[path = "support/measure.rs"]
mod measure;
#[path = "support/peers.rs"]
mod peers;

use bytes::Bytes;
use measure::{load_average, ms, percentile};
use peers::within;
use tokio::sync::{Notify, mpsc};

/// Bytes each stream carries.
const STREAM_BYTES: usize = 64 << 20;
/// The sender waits when this much is buffered...
const HIGH_WATER: usize = 4 << 20;
/// ...until it falls to this.
const LOW_WATER: usize = 1 << 20;
/// Round trips per echo series.
const ECHOES: usize = 100;
/// The largest message webrtc-rs 0.17 can receive: its data channel reads each message into a
/// buffer of `u16::MAX` bytes (`DATA_CHANNEL_BUFFER_SIZE`), and a larger one fails the read
/// and closes the channel.
const WEBRTC_RS_MAX: usize = 65_535;
/// Message sizes Antiphon streams and echoes: webrtc-rs's largest, 64 KiB and 256 KiB.
const ANTIPHON_SIZES: &[usize] = &[WEBRTC_RS_MAX, 64 << 10, 256 << 10];

/// What one library's run measured.
struct Results {
    /// (message size, MB/s).
    streams: Vec<(usize, f64)>,
    /// (message size, round trips).
    echoes: Vec<(usize, Vec<Duration>)>,
}

/// One end of a channel as the bench drives it, for either library.
trait Channel {
    async fn send(&self, data: Bytes);
    async fn buffered(&self) -> usize;
    async fn wait_low(&self);
}

/// The receiving end: each message's payload arrives here.
type Inbox = mpsc::UnboundedReceiver<Bytes>;

/// Sends `total` bytes in `size` messages on `sender`, paced by its buffered amount; returns
/// when `inbox` has read them all.
async fn stream(sender: &impl Channel, inbox: &mut Inbox, size: usize, total: usize) -> f64 {
    let message = Bytes::from(vec![7u8; size]);
    let count = total / size;
    let start = Instant::now();
    let reader = async {
        let mut read = 0;
        while read < count * size {
            let Some(data) = inbox.recv().await else {
                panic!("the channel closed mid-stream");
            };
            read += data.len();
        }
    };
    let writer = async {
        for _ in 0..count {
            if sender.buffered().await > HIGH_WATER {
                sender.wait_low().await;
            }
            sender.send(message.clone()).await;
        }
    };
    within("stream", async { tokio::join!(reader, writer) }).await;
    let elapsed = start.elapsed();
    (count * size) as f64 / elapsed.as_secs_f64() / 1e6
}

/// `echoes` round trips of one `size` message (the other end echoes every message; `inbox`
/// gets them back here).
async fn echo(
    sender: &impl Channel,
    inbox: &mut Inbox,
    size: usize,
    echoes: usize,
) -> Vec<Duration> {
    let message = Bytes::from(vec![9u8; size]);
    let mut rtts = Vec::with_capacity(echoes);
    for _ in 0..echoes {
        let start = Instant::now();
        sender.send(message.clone()).await;
        let back = within("echo", inbox.recv()).await;
        assert_eq!(back.map(|b| b.len()), Some(size), "the echo");
        rtts.push(start.elapsed());
    }
    rtts
}

/// Streams then echoes every size of `sizes` over `end` (`echoing` switches the other end from
/// reading into `inbox` to echoing).
async fn run_sizes(
    end: &impl Channel,
    inbox: &mut Inbox,
    echoing: &std::sync::atomic::AtomicBool,
    sizes: &[usize],
    (stream_bytes, echoes): (usize, usize),
) -> Results {
    let mut streams = Vec::new();
    for &size in sizes {
        streams.push((size, stream(end, inbox, size, stream_bytes).await));
    }
    echoing.store(true, std::sync::atomic::Ordering::Release);
    let mut rtts = Vec::new();
    for &size in sizes {
        rtts.push((size, echo(end, inbox, size, echoes).await));
    }
    Results {
        streams,
        echoes: rtts,
    }
}

struct AntiphonEnd(antiphon_peer::RTCDataChannel);

impl Channel for AntiphonEnd {
    async fn send(&self, data: Bytes) {
        peers::ok("send", self.0.send(data).await);
    }
    async fn buffered(&self) -> usize {
        self.0.buffered_amount()
    }
    async fn wait_low(&self) {
        self.0.buffered_amount_low().await;
    }
}

/// Antiphon: two peer connections; the answerer's end forwards what it reads to an inbox, or
/// echoes it.
async fn antiphon(stream_bytes: usize, echoes: usize) -> Results {
    let (offerer, answerer) = peers::antiphon_peers();
    let (pair, _) = peers::antiphon_connect(offerer, answerer).await;
    let (ours, theirs) = pair.channels.clone();
    ours.set_buffered_amount_low_threshold(LOW_WATER);
    let (to_inbox, mut inbox) = mpsc::unbounded_channel();
    let echoing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The offerer's end reads the echoes into the inbox; the answerer's reads what is
    // streamed into it, or echoes it back.
    let forward = {
        let (ours, to_inbox) = (ours.clone(), to_inbox.clone());
        tokio::spawn(async move {
            while let Some(message) = ours.recv().await {
                let _ = to_inbox.send(message.data);
            }
        })
    };
    let answering = {
        let echoing = Arc::clone(&echoing);
        tokio::spawn(async move {
            while let Some(message) = theirs.recv().await {
                if echoing.load(std::sync::atomic::Ordering::Acquire) {
                    peers::ok("echo", theirs.send(message.data).await);
                } else {
                    let _ = to_inbox.send(message.data);
                }
            }
        })
    };
    let end = AntiphonEnd(ours);
    let results = run_sizes(
        &end,
        &mut inbox,
        &echoing,
        ANTIPHON_SIZES,
        (stream_bytes, echoes),
    )
    .await;
    pair.close().await;
    forward.abort();
    answering.abort();
    results
}

struct WebrtcRsEnd {
    channel: Arc<webrtc::data_channel::RTCDataChannel>,
    low: Arc<Notify>,
}

impl Channel for WebrtcRsEnd {
    async fn send(&self, data: Bytes) {
        if let Err(e) = self.channel.send(&data).await {
            panic!(
                "webrtc-rs send of {} bytes: {e} (state {}, buffered {})",
                data.len(),
                self.channel.ready_state(),
                self.channel.buffered_amount().await
            );
        }
    }
    async fn buffered(&self) -> usize {
        self.channel.buffered_amount().await
    }
    async fn wait_low(&self) {
        loop {
            let notified = self.low.notified();
            if self.channel.buffered_amount().await <= LOW_WATER {
                return;
            }
            // `bufferedamountlow` fires as the amount crosses the threshold; a timeout covers
            // a crossing between the check and the wait.
            let _ = tokio::time::timeout(Duration::from_millis(5), notified).await;
        }
    }
}

/// webrtc-rs: the same, with its callbacks.
async fn webrtc_rs(stream_bytes: usize, echoes: usize) -> Results {
    let api = peers::webrtc_api();
    let offerer = peers::webrtc_peer(&api).await;
    let answerer = peers::webrtc_peer(&api).await;
    let (pair, _) = peers::webrtc_connect(offerer, answerer).await;
    let (ours, theirs) = pair.channels.clone();
    let (to_inbox, mut inbox) = mpsc::unbounded_channel();
    let echoing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let to_inbox = to_inbox.clone();
        ours.on_message(Box::new(move |message| {
            let _ = to_inbox.send(message.data);
            Box::pin(async {})
        }));
    }
    {
        let echoing = Arc::clone(&echoing);
        let back = Arc::clone(&theirs);
        theirs.on_message(Box::new(move |message| {
            let (echoing, back, to_inbox) =
                (Arc::clone(&echoing), Arc::clone(&back), to_inbox.clone());
            Box::pin(async move {
                if echoing.load(std::sync::atomic::Ordering::Acquire) {
                    if let Err(e) = back.send(&message.data).await {
                        panic!("webrtc-rs echo: {e}");
                    }
                } else {
                    let _ = to_inbox.send(message.data);
                }
            })
        }));
    }
    let low = Arc::new(Notify::new());
    ours.set_buffered_amount_low_threshold(LOW_WATER).await;
    {
        let low = Arc::clone(&low);
        ours.on_buffered_amount_low(Box::new(move || {
            low.notify_waiters();
            Box::pin(async {})
        }))
        .await;
    }
    let end = WebrtcRsEnd { channel: ours, low };
    let sizes = [WEBRTC_RS_MAX];
    let results = run_sizes(&end, &mut inbox, &echoing, &sizes, (stream_bytes, echoes)).await;
    pair.close().await;
    results
}

fn report(name: &str, results: &Results) {
    for (size, rate) in &results.streams {
        println!("{name}: stream of {size}-byte messages: {rate:.1} MB/s");
    }
    for (size, rtts) in &results.echoes {
        let mut rtts = rtts.clone();
        rtts.sort();
        println!(
            "{name}: {size}-byte echo, {} round trips: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            rtts.len(),
            ms(percentile(&rtts, 50.0)),
            ms(percentile(&rtts, 90.0)),
            ms(percentile(&rtts, 99.0)),
            ms(rtts.last().copied().unwrap_or_default()),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let only = measure::only(&args);
    let (stream_bytes, echoes) = if full {
        (STREAM_BYTES, ECHOES)
    } else {
        (1 << 20, 3)
    };
    let runtime = measure::runtime();
    println!(
        "data-channel throughput: {} MiB per stream, {echoes} echoes; load average {}",
        stream_bytes >> 20,
        load_average()
    );
    let wanted = |name: &str| only.as_deref().is_none_or(|only| only == name);
    if wanted("antiphon") {
        report(
            "antiphon",
            &runtime.block_on(antiphon(stream_bytes, echoes)),
        );
    }
    if wanted("webrtc-rs") {
        report(
            "webrtc-rs",
            &runtime.block_on(webrtc_rs(stream_bytes, echoes)),
        );
    }
    if wanted("chromium") {
        let page = chromium::run((stream_bytes >> 20).max(1), echoes);
        println!("chromium: {}", page.user_agent);
        report(
            "chromium",
            &Results {
                streams: page.streams,
                echoes: page.echoes,
            },
        );
    }
}
