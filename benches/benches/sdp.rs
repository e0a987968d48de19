//! antiphon-sdp: parse and write throughput (bytes/s) over real browser offers: Chromium 156
//! (bundled with the CLI), Chrome via aiortc, libwebrtc's unified-plan reference, Firefox and
//! Safari from the shared corpus. Side-by-side numbers with other SDP crates live in
//! `sdp_compare.rs`.

use std::hint::black_box;

use antiphon_sdp::{ParseOptions, parse_with};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn offers() -> Vec<(&'static str, String)> {
    let corpus = antiphon_benches::corpus_sdp;
    vec![
        (
            "chromium156-audio-video-data",
            antiphon_benches::chromium_offer(),
        ),
        (
            "chrome-video-offer",
            corpus("aiortc-chrome-video-offer.sdp"),
        ),
        (
            "libwebrtc-unified-plan-full",
            corpus("libwebrtc-unified-plan-full.sdp"),
        ),
        (
            "firefox-video-offer",
            corpus("mozilla-test-firefox-video-offer.sdp"),
        ),
        (
            "safari-audio-video-data",
            corpus("aiortc-safari-audio-video-data.sdp"),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let strict = ParseOptions::strict();
    let lenient = ParseOptions::lenient();
    for (name, sdp) in offers() {
        let parsed = parse_with(&sdp, &strict).unwrap_or_else(|e| panic!("{name}: {e}"));
        let description = parsed.description;
        let mut group = c.benchmark_group(format!("sdp/{name}"));
        group.throughput(Throughput::Bytes(sdp.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| parse_with(black_box(sdp.as_bytes()), &strict))
        });
        group.bench_function("parse-lenient", |b| {
            b.iter(|| parse_with(black_box(sdp.as_bytes()), &lenient))
        });
        group.bench_function("write", |b| b.iter(|| black_box(&description).to_string()));
        group.bench_function("validate", |b| {
            b.iter(|| black_box(&description).validate())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
