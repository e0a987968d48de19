//! antiphon-sdp: parse and write throughput (bytes/s) over real browser offers.

use std::hint::black_box;

use antiphon_sdp::{ParseOptions, parse_with};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The `"sdp"` string of a browser JSON description, unescaped (`\r`, `\n`, `\"`, `\\`, `\/`).
fn sdp_from_json(json: &str) -> String {
    let start = json
        .find("\"sdp\"")
        .and_then(|i| json[i + 5..].find('"').map(|j| i + 5 + j + 1));
    let Some(start) = start else {
        panic!("no \"sdp\" field")
    };
    let mut out = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('r') => out.push('\r'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

fn offers() -> Vec<(&'static str, String)> {
    let chromium = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/cli/offers/chromium-audio-video-data.json"
    );
    let json = std::fs::read_to_string(chromium).unwrap_or_else(|e| panic!("{chromium}: {e}"));
    let corpus = antiphon_benches::corpus_dir().join("sdp/valid");
    let read = |name: &str| {
        let path = corpus.join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    vec![
        ("chromium156-audio-video-data", sdp_from_json(&json)),
        ("chrome-video-offer", read("aiortc-chrome-video-offer.sdp")),
        (
            "firefox-video-offer",
            read("mozilla-test-firefox-video-offer.sdp"),
        ),
        (
            "safari-audio-video-data",
            read("aiortc-safari-audio-video-data.sdp"),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let options = ParseOptions::strict();
    for (name, sdp) in offers() {
        let parsed = parse_with(sdp.as_bytes(), &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let description = parsed.description;
        let mut group = c.benchmark_group(format!("sdp/{name}"));
        group.throughput(Throughput::Bytes(sdp.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| parse_with(black_box(sdp.as_bytes()), &options))
        });
        group.bench_function("write", |b| b.iter(|| black_box(&description).to_string()));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
