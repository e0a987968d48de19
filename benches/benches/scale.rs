//! Scale: how Antiphon's costs grow.
//!
//! * `answer/sections/N`: `setRemoteDescription(offer)` + `createAnswer` on a fresh
//!   `Negotiator` for offers of N m-sections (1 to 256; copies of the Chromium audio and video
//!   sections in one BUNDLE group), median over repeated answers.
//! * `answer/candidates/N`: the same for the data-only offer carrying N remote candidates.
//! * `connections/LIB/N`: N peer-connection pairs (2N peer connections) negotiated and
//!   connected concurrently in one process over loopback UDP, each with a data channel open;
//!   the wall time until all are open, each pair's offer-to-open percentiles, then, after the
//!   connections have been idle for a second, the resident memory they added
//!   (`/proc/self/status` `VmRSS` after minus before, divided by 2N) and the peak (`VmHWM`).
//!   Each N runs in a fresh child process (this binary with `--child`), so memory freed by one
//!   size does not hide the next one's growth. LIB is `antiphon`, `antiphon-receiving` (the
//!   same, then one message each way and a `recv` loop waiting on both ends of every channel,
//!   as in a server that reads what its peers send), `antiphon-mux` (every answerer on one
//!   UDP port through a `UdpMux`, each offerer on its own socket, the answerer echoing; then
//!   an echo phase of 1,000 messages a second over all pairs; the full run goes to 10,000 pairs
//!   and draws `target/scale-mux.svg`) or `webrtc-rs` (0.17, whose data channels always have a
//!   read loop running).
//!
//! `cargo bench --bench scale` runs N up to 1,000 connection pairs; without `--bench` (as
//! `cargo test --benches` runs it) a small smoke pass.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use antiphon_codec::Capabilities;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Negotiator, RTCSessionDescriptionInit};

#[path = "support/measure.rs"]
mod measure;
#[path = "support/peers.rs"]
mod peers;

use measure::{load_average, ms, percentile};

fn transport() -> LocalTransport {
    antiphon_benches::bench_transport(vec![antiphon_benches::placeholder_fingerprint()])
}

/// Median time of `setRemoteDescription(offer)` + `createAnswer` over `iterations` fresh
/// negotiators (built outside the timed region).
fn answer_median(offer: &str, iterations: usize) -> Duration {
    let transport = transport();
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let mut negotiator = Negotiator::new(
            Capabilities::browser_default(),
            AnswerOptions::default(),
            Box::new(antiphon_benches::FixedEntropy(7)),
        );
        let start = Instant::now();
        let answer = negotiator
            .set_remote_description(&RTCSessionDescriptionInit::offer(black_box(offer)))
            .and_then(|_| negotiator.create_answer(|_| transport.clone()));
        times.push(start.elapsed());
        match answer {
            Ok(answer) => {
                black_box(answer);
            }
            Err(e) => panic!("antiphon refuses the offer: {e}"),
        }
    }
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn answer_scaling(full: bool) {
    let sections: &[usize] = if full {
        &[1, 2, 4, 8, 16, 32, 64, 128, 256]
    } else {
        &[1, 8]
    };
    for &n in sections {
        let offer = antiphon_benches::many_sections_offer(n.div_ceil(2), n / 2);
        let iterations = if full { (2000 / n).clamp(20, 500) } else { 3 };
        let median = answer_median(&offer, iterations);
        println!(
            "scale/answer/sections/{n}: offer {} bytes, median {:.1} us, {:.2} us per section",
            offer.len(),
            us(median),
            us(median) / n as f64
        );
    }
    let candidates: &[usize] = if full {
        &[1, 4, 16, 64, 256, 1024]
    } else {
        &[1, 16]
    };
    for &n in candidates {
        let offer = antiphon_benches::offer_with_candidates(n);
        let iterations = if full { (4000 / n).clamp(20, 500) } else { 3 };
        let median = answer_median(&offer, iterations);
        println!(
            "scale/answer/candidates/{n}: offer {} bytes, median {:.1} us, {:.3} us per candidate",
            offer.len(),
            us(median),
            us(median) / n as f64
        );
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB, and its thread count.
fn memory() -> (u64, u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// The soft open-files limit (`/proc/self/limits`), which bounds the sockets we can hold.
fn fd_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Antiphon with the application reading: connects, sends one message each way, then leaves
/// a `recv` loop waiting on both ends of the channel.
async fn antiphon_receiving(
    offerer: antiphon_peer::RTCPeerConnection,
    answerer: antiphon_peer::RTCPeerConnection,
) -> (peers::AntiphonPair, peers::Sample) {
    let (pair, sample) = peers::antiphon_connect(offerer, answerer).await;
    let (a, b) = pair.channels.clone();
    for (from, to) in [(&a, &b), (&b, &a)] {
        peers::ok("send", from.send_text("ping").await);
        if peers::within("first message", to.recv()).await.is_none() {
            panic!("the channel closed before its first message");
        }
    }
    for channel in [a, b] {
        tokio::spawn(async move { while channel.recv().await.is_some() {} });
    }
    (pair, sample)
}

/// One UDP mux on 127.0.0.1 (a port the system picks).
fn loopback_mux() -> antiphon_ice::UdpMux {
    match antiphon_ice::UdpMux::bind(&[std::net::SocketAddr::from(([127, 0, 0, 1], 0))]) {
        Ok(mux) => mux,
        Err(e) => panic!("UDP mux: {e}"),
    }
}

/// An Antiphon peer connection on `mux`.
fn muxed_peer(mux: &antiphon_ice::UdpMux) -> antiphon_peer::RTCPeerConnection {
    let options = antiphon_peer::PeerOptions::default().with_udp_mux(Some(mux.clone()));
    match antiphon_peer::RTCPeerConnection::with_options(
        antiphon_peer::RTCConfiguration::default(),
        options,
    ) {
        Ok(pc) => pc,
        Err(e) => panic!("muxed peer connection: {e}"),
    }
}

/// Connects, then leaves the answerer echoing every message on its channel (a server's loop).
async fn antiphon_echoing(
    offerer: antiphon_peer::RTCPeerConnection,
    answerer: antiphon_peer::RTCPeerConnection,
) -> (peers::AntiphonPair, peers::Sample) {
    let (pair, sample) = peers::antiphon_connect(offerer, answerer).await;
    let theirs = pair.channels.1.clone();
    tokio::spawn(async move {
        while let Some(message) = theirs.recv().await {
            if theirs.send(message.data).await.is_err() {
                break;
            }
        }
    });
    (pair, sample)
}

/// Messages per second, over all connections, in the echo phase of `antiphon-mux`.
const ECHO_RATE: u64 = 1_000;
/// How long the echo phase lasts.
const ECHO_PHASE: Duration = Duration::from_secs(5);

/// `ECHO_RATE` round trips a second for `ECHO_PHASE`, each on the next pair's channel in turn
/// (the answerer echoes); the round trips.
async fn echo_phase(pairs: &[&peers::AntiphonPair]) -> Vec<Duration> {
    let (done, mut rtts) = tokio::sync::mpsc::unbounded_channel();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / ECHO_RATE));
    let count = (ECHO_RATE * ECHO_PHASE.as_secs()) as usize;
    for k in 0..count {
        tick.tick().await;
        let channel = pairs[k % pairs.len()].channels.0.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            peers::ok("send", channel.send_text("echo").await);
            if peers::within("echo", channel.recv()).await.is_some() {
                let _ = done.send(start.elapsed());
            }
        });
    }
    drop(done);
    let mut out = Vec::with_capacity(count);
    while let Some(rtt) = peers::within("echoes", rtts.recv()).await {
        out.push(rtt);
    }
    assert_eq!(out.len(), count, "every echo came back");
    out.sort_unstable();
    out
}

/// Child mode: connect `pairs` pairs of `lib` at once, hold them idle, report.
fn child(lib: &str, pairs: usize) {
    let runtime = measure::runtime();
    runtime.block_on(async {
        // Warm up (lazy statics, first sockets), then the baseline.
        // The answerers' one port (a server's); each offerer (a client) has sockets of its
        // own, as clients on other hosts do: peers behind one shared address (two muxes
        // talking to each other) would all be one 5-tuple, which no mux can tell apart.
        let mux = (lib == "antiphon-mux").then(loopback_mux);
        match lib {
            "antiphon" | "antiphon-receiving" | "antiphon-mux" => drop(peers::antiphon_run().await),
            "webrtc-rs" => drop(peers::webrtc_run(&peers::webrtc_api()).await),
            other => panic!(
                "unknown library {other}: antiphon, antiphon-receiving, antiphon-mux or webrtc-rs"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (rss_before, _, threads_before) = memory();
        let fds_before = open_fds();
        let start = Instant::now();
        let (mut samples, held): (Vec<_>, Vec<Box<dyn std::any::Any + Send>>) = match lib {
            // Each mode spawns its own connect function as the task, so the plain mode's task
            // (alive, with its future, at the setup peak that RSS keeps) is only the connect.
            "antiphon" => peers::held_open(peers::spawn_antiphon(pairs, peers::antiphon_connect)).await,
            "antiphon-receiving" => peers::held_open(peers::spawn_antiphon(pairs, antiphon_receiving)).await,
            "antiphon-mux" => {
                let Some(mux) = &mux else {
                    unreachable!("made above for this mode")
                };
                let make = || (peers::antiphon_peer(), muxed_peer(mux));
                peers::held_open(peers::spawn_pairs(pairs, make, antiphon_echoing)).await
            }
            _ => peers::held_open(peers::spawn_webrtc_pairs(pairs).await).await,
        };
        let all_open = start.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (rss_idle, hwm, threads) = memory();
        let fds = open_fds();
        samples.sort_unstable();
        let connections = 2 * pairs;
        let per_connection = (rss_idle.saturating_sub(rss_before)) as f64 / connections as f64;
        println!(
            "scale/connections/{lib}/{pairs}: {connections} peer connections, all open in {:.1} ms, \
             per-pair offer-to-open p50 {:.2} ms p99 {:.2} ms max {:.2} ms; idle RSS {} KiB -> {} KiB \
             ({per_connection:.1} KiB per peer connection), VmHWM {hwm} KiB; fds {fds_before} -> {fds} \
             (limit {}); threads {threads_before} -> {threads}; disconnected at open (recovered) {}",
            ms(all_open),
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 99.0)),
            ms(samples.last().copied().unwrap_or_default()),
            rss_before,
            rss_idle,
            fd_limit(),
            peers::DISCONNECTED_AT_OPEN.load(std::sync::atomic::Ordering::Relaxed),
        );
        if std::env::var_os("SCALE_EXIT_IDLE").is_some() {
            // For a heap profiler: what is still allocated at exit is the idle connections.
            std::process::exit(0);
        }
        if lib == "antiphon-mux" {
            let pairs: Vec<&peers::AntiphonPair> = held
                .iter()
                .filter_map(|pair| pair.downcast_ref::<peers::AntiphonPair>())
                .collect();
            let rtts = echo_phase(&pairs).await;
            println!(
                "scale/echo/{lib}/{}: {} round trips at {ECHO_RATE}/s over all connections: \
                 p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
                pairs.len(),
                rtts.len(),
                ms(percentile(&rtts, 50.0)),
                ms(percentile(&rtts, 99.0)),
                ms(rtts.last().copied().unwrap_or_default()),
            );
        }
        drop(held);
    });
}

/// One connection count's figures, read off a child's report.
struct ChartPoint {
    connections: usize,
    /// Until every pair's channel was open.
    open_ms: f64,
    /// Idle resident memory per peer connection.
    kib: f64,
    /// The echo phase's p99, if it ran.
    echo_p99_ms: Option<f64>,
}

impl ChartPoint {
    fn read(pairs: usize, report: &str) -> Option<ChartPoint> {
        let number = |after: &str| -> Option<f64> {
            let rest = &report[report.find(after)? + after.len()..];
            let end = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
            rest[..end].parse().ok()
        };
        Some(ChartPoint {
            connections: 2 * pairs,
            open_ms: number("all open in ")?,
            kib: number("KiB (")?,
            echo_p99_ms: report.find("scale/echo/").and_then(|at| {
                let echo = &report[at..];
                let rest = &echo[echo.find(" p99 ")? + " p99 ".len()..];
                let end = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
                rest[..end].parse().ok()
            }),
        })
    }
}

/// A line chart (SVG) of connect time and memory per peer connection against the number of
/// peer connections, for docs/benchmarks.md.
fn chart_svg(points: &[ChartPoint]) -> String {
    let (width, height, left, right, top, bottom) = (640.0, 360.0, 70.0, 70.0, 40.0, 50.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max_open = points
        .iter()
        .map(|p| p.open_ms / 1000.0)
        .fold(1.0, f64::max)
        * 1.15;
    let max_kib = points.iter().map(|p| p.kib).fold(1.0, f64::max) * 1.15;
    let max_n = points.iter().map(|p| p.connections).max().unwrap_or(1) as f64;
    let x = |n: usize| left + plot_w * n as f64 / max_n;
    let line = |value: &dyn Fn(&ChartPoint) -> f64, max: f64| -> String {
        points
            .iter()
            .map(|p| {
                format!(
                    "{:.1},{:.1}",
                    x(p.connections),
                    top + plot_h * (1.0 - value(p) / max)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"20\" font-size=\"14\">antiphon serve model: answerers on one UDP port (UdpMux), 2 cores</text>\n\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    svg += &format!(
        "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n\
         <polyline fill=\"none\" stroke=\"#2471a3\" stroke-width=\"2\" points=\"{}\"/>\n",
        line(&|p| p.open_ms / 1000.0, max_open),
        line(&|p| p.kib, max_kib),
    );
    for p in points {
        let px = x(p.connections);
        let open_y = top + plot_h * (1.0 - p.open_ms / 1000.0 / max_open);
        let kib_y = top + plot_h * (1.0 - p.kib / max_kib);
        let echo = p
            .echo_p99_ms
            .map(|e| format!(", echo p99 {e:.1} ms"))
            .unwrap_or_default();
        svg += &format!(
            "<circle cx=\"{px:.1}\" cy=\"{open_y:.1}\" r=\"3\" fill=\"#c0392b\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#c0392b\">{:.1} s{echo}</text>\n\
             <circle cx=\"{px:.1}\" cy=\"{kib_y:.1}\" r=\"3\" fill=\"#2471a3\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#2471a3\">{:.1} KiB</text>\n\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            px - 60.0,
            open_y - 8.0,
            p.open_ms / 1000.0,
            px - 40.0,
            kib_y + 16.0,
            p.kib,
            top + plot_h + 18.0,
            p.connections,
        );
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">peer connections (half of them answerers on the mux)</text>\n\
         <text x=\"10\" y=\"{}\" fill=\"#c0392b\">all open (s)</text>\n\
         <text x=\"{}\" y=\"{}\" fill=\"#2471a3\">idle KiB per peer connection</text>\n</svg>\n",
        left + plot_w / 2.0,
        height - 10.0,
        top - 4.0,
        width - right - 120.0,
        top - 4.0,
    );
    svg
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let lib = args.get(i + 1).map_or("antiphon", String::as_str);
        let pairs = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(1);
        child(lib, pairs);
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let only = measure::only(&args);
    println!("load average before: {}", load_average());
    if only.as_deref().is_none_or(|o| o == "answer") {
        answer_scaling(full);
    }
    let counts: &[usize] = if full { &[1, 10, 100, 1000] } else { &[1, 10] };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => panic!("own executable: {e}"),
    };
    for lib in [
        "antiphon",
        "antiphon-receiving",
        "antiphon-mux",
        "webrtc-rs",
    ] {
        if only
            .as_deref()
            .is_some_and(|o| o != lib && o != "connections")
        {
            continue;
        }
        let counts: &[usize] = match (lib, full) {
            // Every answerer on one UDP port, each offerer on its own.
            ("antiphon-mux", true) => &[1_000, 2_000, 5_000, 10_000],
            _ => counts,
        };
        let mut chart = Vec::new();
        for &pairs in counts {
            let output = Command::new(&exe)
                .args(["--child", lib, &pairs.to_string()])
                .output();
            match output {
                Ok(output) if output.status.success() => {
                    let text = String::from_utf8_lossy(&output.stdout);
                    print!("{text}");
                    if let Some(point) = ChartPoint::read(pairs, &text) {
                        chart.push(point);
                    }
                }
                Ok(output) => panic!(
                    "{lib} with {pairs} pairs failed: {}\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ),
                Err(e) => panic!("running the {lib} child: {e}"),
            }
        }
        if lib == "antiphon-mux" && full {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scale-mux.svg");
            if let Some(dir) = std::path::Path::new(path).parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match std::fs::write(path, chart_svg(&chart)) {
                Ok(()) => println!("chart: {path}"),
                Err(e) => panic!("{path}: {e}"),
            }
        }
    }
    println!("load average after: {}", load_average());
}
