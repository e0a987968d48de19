//! Heap allocations per operation: the same operations as `count.rs` (`createAnswer` end to
//! end, or a lenient parse) under a counting global allocator, counted only inside the
//! operation. Like callgrind's instruction counts, allocation counts do not depend on the
//! machine's load. (A separate binary so that the counting allocator does not add to `count`'s
//! instructions.)
//!
//! ```sh
//! cargo run --profile bench -p antiphon-benches --example allocations -- answer chromium
//! ```
//!
//! Operations: `answer` (`set_remote_description` + `create_answer`, offer text in, answer
//! text out), `parse`. Offers: `chromium`, `firefox`, `data-only`, `64`.

#![allow(clippy::print_stdout)]

use std::alloc::System;
use std::hint::black_box;

use antiphon_codec::Capabilities;
use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::{Negotiator, RTCSessionDescriptionInit};
use antiphon_sdp::{ParseOptions, parse_with};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, op, offer_name] = args.as_slice() else {
        panic!("usage: allocations answer|parse OFFER");
    };
    let sdp = antiphon_benches::offer_by_name(offer_name);
    let transport =
        antiphon_benches::bench_transport(vec![antiphon_benches::placeholder_fingerprint()]);
    let stats = match op.as_str() {
        "answer" => {
            let mut negotiator = Negotiator::new(
                Capabilities::browser_default(),
                AnswerOptions::default(),
                Box::new(antiphon_benches::FixedEntropy(7)),
            );
            let region = Region::new(GLOBAL);
            let applied = negotiator
                .set_remote_description(&RTCSessionDescriptionInit::offer(black_box(&sdp)));
            let answer = applied.and_then(|_| negotiator.create_answer(|_| transport.clone()));
            let stats = region.change();
            match answer {
                Ok(answer) => black_box(answer),
                Err(e) => panic!("antiphon refuses the offer: {e}"),
            };
            stats
        }
        "parse" => {
            let region = Region::new(GLOBAL);
            let parsed = parse_with(black_box(sdp.as_bytes()), &ParseOptions::lenient());
            let stats = region.change();
            if let Err(e) = black_box(parsed) {
                panic!("parse: {e}");
            }
            stats
        }
        other => panic!("unknown operation {other}"),
    };
    println!(
        "{op} {offer_name}: {} allocations, {} reallocations, {} frees, {} bytes allocated",
        stats.allocations, stats.reallocations, stats.deallocations, stats.bytes_allocated
    );
}
