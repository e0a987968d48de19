//! Wall time of parse and createAnswer, Antiphon beside str0m and webrtc-rs, on every offer of
//! `OFFER_NAMES` that all three accept. Setup (a fresh answerer) is outside the timed region;
//! see `src/lib.rs` for what each library's operation is.

use std::time::{Duration, Instant};

use antiphon_peer_benches::{Answerers, Library, OFFER_NAMES, offer, parse};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let answerers = Answerers::new();
    for name in OFFER_NAMES {
        let text = offer(name);
        let accepted = Library::ALL.iter().all(|&library| {
            let mut answerer = answerers.fresh(library);
            let ok = parse(library, true, &text).is_ok()
                && answerers.answer(&mut answerer, &text).is_ok();
            answerers.finish(answerer);
            ok
        });
        if !accepted {
            eprintln!("{name}: refused by a library (see `count check`), not compared");
            continue;
        }
        let mut group = c.benchmark_group(format!("peers/{name}"));
        for library in Library::ALL {
            group.bench_function(format!("parse/{}", library.name()), |b| {
                b.iter(|| parse(library, true, &text))
            });
        }
        group.bench_function("view/antiphon", |b| {
            b.iter(|| parse(Library::Antiphon, false, &text))
        });
        for library in Library::ALL {
            group.bench_function(format!("answer/{}", library.name()), |b| {
                b.iter_custom(|iterations| {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iterations {
                        let mut answerer = answerers.fresh(library);
                        let start = Instant::now();
                        let answer = answerers.answer(&mut answerer, &text);
                        elapsed += start.elapsed();
                        drop(answer);
                        answerers.finish(answerer);
                    }
                    elapsed
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
