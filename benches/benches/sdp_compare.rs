//! SDP parse and write throughput, Antiphon side by side with peer Rust SDP libraries:
//! Mozilla's `webrtc-sdp`, webrtc-rs's `sdp` 0.17 and `sdp-types`.
//!
//! Every parser gets the same offer text (already in memory) and returns its owned model (or, for
//! `parse/antiphon-view`, the zero-copy view: structure checked, attribute values kept as text,
//! which is what `sdp` and `sdp-types` do too); every writer gets the model its own parser built
//! from that offer and returns a `String` (or fills a `Vec<u8>`). A peer that refuses an offer is
//! reported on stderr and left out of that group.

// A refusing peer is worth a line on stderr: the comparison table must say why a cell is empty.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::io::Cursor;

use antiphon_sdp::{ParseOptions, parse_view, parse_with};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn offers() -> Vec<(&'static str, String)> {
    vec![
        (
            "chromium156-audio-video-data",
            antiphon_benches::chromium_offer(),
        ),
        ("firefox-video", antiphon_benches::firefox_offer()),
        ("chromium-data-only", antiphon_benches::data_only_offer()),
    ]
}

fn antiphon(group: &mut Group<'_>, name: &str, sdp: &str) {
    let lenient = ParseOptions::lenient();
    let strict = ParseOptions::strict();
    group.bench_function("parse/antiphon-lenient", |b| {
        b.iter(|| parse_with(black_box(sdp.as_bytes()), &lenient))
    });
    match parse_view(sdp, &lenient) {
        Ok(_) => group.bench_function("parse/antiphon-view", |b| {
            b.iter(|| parse_view(black_box(sdp), &lenient))
        }),
        Err(e) => panic!("{name}: antiphon-sdp's view refuses the offer: {e}"),
    };
    match parse_with(sdp.as_bytes(), &strict) {
        Ok(parsed) => {
            group.bench_function("parse/antiphon-strict", |b| {
                b.iter(|| parse_with(black_box(sdp.as_bytes()), &strict))
            });
            let description = parsed.description;
            group.bench_function("write/antiphon", |b| {
                b.iter(|| black_box(&description).to_string())
            });
        }
        Err(e) => panic!("{name}: antiphon-sdp refuses the offer strictly: {e}"),
    }
}

fn webrtc_sdp(group: &mut Group<'_>, name: &str, sdp: &str) {
    match webrtc_sdp::parse_sdp(sdp, false) {
        Ok(session) => {
            group.bench_function("parse/webrtc-sdp", |b| {
                b.iter(|| webrtc_sdp::parse_sdp(black_box(sdp), false))
            });
            group.bench_function("write/webrtc-sdp", |b| {
                b.iter(|| black_box(&session).to_string())
            });
        }
        Err(e) => eprintln!("{name}: webrtc-sdp refuses the offer: {e}"),
    }
}

fn webrtc_rs_sdp(group: &mut Group<'_>, name: &str, sdp: &str) {
    let parse = |text: &str| sdp::SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()));
    match parse(sdp) {
        Ok(session) => {
            group.bench_function("parse/sdp", |b| b.iter(|| parse(black_box(sdp))));
            group.bench_function("write/sdp", |b| b.iter(|| black_box(&session).marshal()));
        }
        Err(e) => eprintln!("{name}: sdp (webrtc-rs) refuses the offer: {e}"),
    }
}

fn sdp_types(group: &mut Group<'_>, name: &str, sdp: &str) {
    match sdp_types::Session::parse(sdp.as_bytes()) {
        Ok(session) => {
            group.bench_function("parse/sdp-types", |b| {
                b.iter(|| sdp_types::Session::parse(black_box(sdp.as_bytes())))
            });
            group.bench_function("write/sdp-types", |b| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(sdp.len());
                    black_box(&session)
                        .write(&mut out)
                        .map(|()| out)
                        .unwrap_or_default()
                })
            });
        }
        Err(e) => eprintln!("{name}: sdp-types refuses the offer: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    for (name, sdp) in offers() {
        let mut group = c.benchmark_group(format!("sdp_compare/{name}"));
        group.throughput(Throughput::Bytes(sdp.len() as u64));
        antiphon(&mut group, name, &sdp);
        webrtc_sdp(&mut group, name, &sdp);
        webrtc_rs_sdp(&mut group, name, &sdp);
        sdp_types(&mut group, name, &sdp);
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
