//! Antiphon, str0m and webrtc-rs connected over loopback UDP, in one process:
//!
//! * `net open RUNS`: offer-to-open, one pair at a time (a warm-up pair first), timed from the
//!   offer reaching the answerer to the data channel open on both peers; p50, p90 and p99 for
//!   each library in the same run.
//! * `net idle LIBRARY PAIRS`: PAIRS pairs connected at once, each with a channel open, left
//!   idle for a second; the resident memory they added per peer connection (`VmRSS` after
//!   minus before, divided by 2 x PAIRS). One library per process, so one does not hide
//!   another's growth.
//! * `net throughput`: str0m's data-channel throughput, as `benches/benches/throughput.rs`
//!   measures Antiphon's and webrtc-rs's: 64 MiB streamed in 65,535-byte, 64 KiB and 256 KiB
//!   messages on one reliable ordered channel (paced by str0m's own limit on buffered data:
//!   its default 128 KiB, or twice the message where that is more), then 100 echoes of each
//!   size.
//!
//! Each str0m peer is one `Rtc`, one UDP socket and one task (`str0m_net`), as each Antiphon
//! and webrtc-rs peer connection has its own sockets and tasks. Sockets open, so run it inside
//! a loopback-only network namespace (`cargo xtask netns`); `cargo xtask bench --peers` does.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use antiphon_peer_benches::str0m_net::{self, Step, Str0mPeer};
use str0m::Event;
use str0m::channel::ChannelId;

#[path = "../../../benches/support/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../../../benches/support/peers.rs"]
mod peers;

use measure::{load_average, ms, percentile};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let runtime = measure::runtime();
    let result = runtime.block_on(async {
        match args.as_slice() {
            ["open", runs] => open(runs.parse().map_err(|_| "RUNS is a number")?).await,
            ["idle", library, pairs] => {
                idle(library, pairs.parse().map_err(|_| "PAIRS is a number")?).await
            }
            ["throughput"] => throughput().await,
            _ => Err("usage: net open RUNS | net idle LIBRARY PAIRS | net throughput".into()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("net: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One str0m pair connected: both channels open. Returns the peers and the time from the
/// offer reaching the answerer.
async fn str0m_connect(
    buffered: usize,
) -> Result<(Str0mPeer, Str0mPeer, ChannelId, Duration), String> {
    let (mut offerer, mut answerer, channel, start) = str0m_net::negotiated_pair(buffered)?;
    let (a, b) = tokio::join!(
        str0m_net::until_open(&mut offerer),
        str0m_net::until_open(&mut answerer)
    );
    a?;
    b?;
    Ok((offerer, answerer, channel, start.elapsed()))
}

async fn open(runs: usize) -> Result<(), String> {
    println!("load average before: {}", load_average());
    let report = |name: &str, mut samples: Vec<Duration>| {
        samples.sort_unstable();
        println!(
            "net/open/{name}: {} runs, offer-to-open p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms",
            samples.len(),
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 90.0)),
            ms(percentile(&samples, 99.0)),
        );
    };
    peers::antiphon_run().await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        samples.push(peers::antiphon_run().await.open);
    }
    report("antiphon", samples);

    str0m_connect(str0m_net::DEFAULT_BUFFERED).await?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        samples.push(str0m_connect(str0m_net::DEFAULT_BUFFERED).await?.3);
    }
    report("str0m", samples);

    let api = peers::webrtc_api();
    peers::webrtc_run(&api).await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        samples.push(peers::webrtc_run(&api).await.open);
    }
    report("webrtc-rs", samples);
    println!("load average after: {}", load_average());
    Ok(())
}

/// `VmRSS` of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

async fn idle(library: &str, pairs: usize) -> Result<(), String> {
    // Warm-up pair: lazy statics, the runtime's threads, first page faults.
    match library {
        "antiphon" => drop(peers::antiphon_run().await),
        "str0m" => drop(str0m_connect(str0m_net::DEFAULT_BUFFERED).await?),
        "webrtc-rs" => drop(peers::webrtc_run(&peers::webrtc_api()).await),
        other => {
            return Err(format!(
                "no library {other:?}: antiphon, str0m or webrtc-rs"
            ));
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();
    let start = Instant::now();
    let held: Vec<Box<dyn std::any::Any + Send>> = match library {
        "antiphon" => {
            let tasks = peers::spawn_antiphon(pairs, peers::antiphon_connect);
            peers::held_open(tasks).await.1
        }
        "str0m" => {
            // Each peer keeps running (timers, keepalives) in its own task until the end.
            let mut held: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
            let mut opened = Vec::new();
            for _ in 0..pairs {
                let (offerer, answerer, _, _) =
                    str0m_net::negotiated_pair(str0m_net::DEFAULT_BUFFERED)?;
                let (offerer, offerer_open) = keep_running(offerer);
                let (answerer, answerer_open) = keep_running(answerer);
                held.push(Box::new(offerer));
                held.push(Box::new(answerer));
                opened.push((offerer_open, answerer_open));
            }
            for (a, b) in opened {
                let open = async { a.await.is_ok() && b.await.is_ok() };
                if !tokio::time::timeout(Duration::from_secs(60), open)
                    .await
                    .unwrap_or(false)
                {
                    return Err("a str0m pair did not open its channel".into());
                }
            }
            held
        }
        _ => {
            peers::held_open(peers::spawn_webrtc_pairs(pairs).await)
                .await
                .1
        }
    };
    let all_open = start.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib();
    let connections = 2 * pairs;
    let per = after.saturating_sub(before) as f64 / connections as f64;
    println!(
        "net/idle/{library}/{pairs}: {connections} peer connections, all open in {:.1} ms; \
         idle RSS {before} KiB -> {after} KiB ({per:.1} KiB per peer connection)",
        ms(all_open)
    );
    drop(held);
    Ok(())
}

/// Runs `peer` in a task of its own for as long as the task lives; the receiver hears when
/// its channel opens.
fn keep_running(
    mut peer: Str0mPeer,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let (open_tx, open) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut open_tx = Some(open_tx);
        let _ = peer
            .run(|_, event| {
                if let Some(Event::ChannelOpen(..)) = event
                    && let Some(tx) = open_tx.take()
                {
                    let _ = tx.send(());
                }
                Step::Continue
            })
            .await;
    });
    (task, open)
}

/// Bytes streamed per message size.
const STREAM_BYTES: usize = 64 << 20;
/// Round trips per message size.
const ECHOES: usize = 100;
/// The sizes Antiphon's throughput bench streams.
const SIZES: &[usize] = &[65_535, 64 << 10, 256 << 10];

async fn throughput() -> Result<(), String> {
    println!("load average before: {}", load_average());
    for &size in SIZES {
        // str0m's default send buffer where two messages fit in it, else room for two: a
        // larger buffer measured slower (sctp-proto scans its in-flight queue per SACK).
        let buffered = str0m_net::DEFAULT_BUFFERED.max(2 * size);
        let (sender, receiver, channel, _) = str0m_connect(buffered).await?;
        let bounded = |what: &'static str| {
            move |_| format!("str0m {what} of {size}-byte messages: no end within 120 s")
        };
        let limit = Duration::from_secs(120);
        let streamed = tokio::time::timeout(limit, stream(sender, receiver, channel, size));
        let (s, r, rate) = streamed.await.map_err(bounded("stream"))??;
        let echoed = tokio::time::timeout(limit, echoes(s, r, channel, size));
        let (_, _, mut rtts) = echoed.await.map_err(bounded("echo"))??;
        rtts.sort_unstable();
        println!(
            "net/throughput/str0m/{size}: {:.1} MB/s (send buffer {} KiB); echo p50 {:.2} ms \
             p99 {:.2} ms",
            rate / 1e6,
            buffered >> 10,
            ms(percentile(&rtts, 50.0)),
            ms(percentile(&rtts, 99.0)),
        );
    }
    println!("load average after: {}", load_average());
    Ok(())
}

/// Streams [`STREAM_BYTES`] from `sender` to `receiver` in `size`-byte messages; bytes per
/// second, from the first write to the last byte received.
async fn stream(
    mut sender: Str0mPeer,
    mut receiver: Str0mPeer,
    channel: ChannelId,
    size: usize,
) -> Result<(Str0mPeer, Str0mPeer, f64), String> {
    let message = vec![0x5a; size];
    let messages = STREAM_BYTES / size;
    // Set by the receiver when the last byte is in; the sender stops at its next turn.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let received_all = std::sync::Arc::clone(&done);
    let start = Instant::now();
    let receiving = tokio::spawn(async move {
        let mut received = 0usize;
        let result = receiver
            .run(|_, event| {
                if let Some(Event::ChannelData(data)) = event {
                    received += data.data.len();
                    if received >= messages * size {
                        received_all.store(true, std::sync::atomic::Ordering::Release);
                        return Step::Done;
                    }
                }
                Step::Continue
            })
            .await;
        result.map(|()| (receiver, start.elapsed()))
    });
    let sending = tokio::spawn(async move {
        let mut sent = 0usize;
        let result = sender
            .run(|rtc, event| {
                if event.is_some() {
                    return Step::Continue;
                }
                if done.load(std::sync::atomic::Ordering::Acquire) {
                    return Step::Done;
                }
                let Some(mut ch) = rtc.channel(channel) else {
                    return Step::Continue;
                };
                let mut wrote = false;
                while sent < messages && ch.write(true, &message).unwrap_or(false) {
                    sent += 1;
                    wrote = true;
                }
                if wrote { Step::Wrote } else { Step::Continue }
            })
            .await;
        result.map(|()| sender)
    });
    let (receiver, elapsed) = receiving.await.map_err(|e| e.to_string())??;
    let sender = sending.await.map_err(|e| e.to_string())??;
    let rate = (messages * size) as f64 / elapsed.as_secs_f64();
    Ok((sender, receiver, rate))
}

/// [`ECHOES`] round trips of one `size`-byte message, `sender` to `receiver` and back.
async fn echoes(
    mut sender: Str0mPeer,
    mut receiver: Str0mPeer,
    channel: ChannelId,
    size: usize,
) -> Result<(Str0mPeer, Str0mPeer, Vec<Duration>), String> {
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let echoing = tokio::spawn(async move {
        let mut pending: Option<Vec<u8>> = None;
        let run = receiver.run(|rtc, event| match event {
            Some(Event::ChannelData(data)) => {
                pending = Some(data.data);
                Step::Continue
            }
            Some(_) => Step::Continue,
            None => {
                if stop_rx.try_recv().is_ok() {
                    return Step::Done;
                }
                match (pending.take(), rtc.channel(channel)) {
                    (Some(data), Some(mut ch)) => {
                        if ch.write(true, &data).unwrap_or(false) {
                            Step::Wrote
                        } else {
                            pending = Some(data);
                            Step::Continue
                        }
                    }
                    (data, _) => {
                        pending = data;
                        Step::Continue
                    }
                }
            }
        });
        // The echoer stops when told, at its next turn (a timer, at the latest).
        run.await.map(|()| receiver)
    });
    let message = vec![0xa5; size];
    let mut rtts = Vec::with_capacity(ECHOES);
    let mut sent_at: Option<Instant> = None;
    sender
        .run(|rtc, event| match event {
            Some(Event::ChannelData(data)) if data.data.len() == size => {
                if let Some(at) = sent_at.take() {
                    rtts.push(at.elapsed());
                }
                if rtts.len() == ECHOES {
                    Step::Done
                } else {
                    Step::Continue
                }
            }
            Some(_) => Step::Continue,
            None if sent_at.is_none() => {
                let written = rtc
                    .channel(channel)
                    .is_some_and(|mut ch| ch.write(true, &message).unwrap_or(false));
                if written {
                    sent_at = Some(Instant::now());
                    Step::Wrote
                } else {
                    Step::Continue
                }
            }
            None => Step::Continue,
        })
        .await?;
    let _ = stop_tx.send(());
    let receiver = echoing.await.map_err(|e| e.to_string())??;
    Ok((sender, receiver, rtts))
}
