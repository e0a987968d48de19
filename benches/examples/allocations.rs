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
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Entropy, Negotiator, RTCSessionDescriptionInit};
use antiphon_sdp::{ParseOptions, parse_with};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn offer(name: &str) -> String {
    match name {
        "chromium" => antiphon_benches::chromium_offer(),
        "firefox" => antiphon_benches::firefox_offer(),
        "data-only" => antiphon_benches::data_only_offer(),
        "64" => antiphon_benches::many_sections_offer(32, 32),
        other => panic!("unknown offer {other}"),
    }
}

/// A fixed-seed entropy source, as in `count.rs`.
struct Counter(u64);

impl Entropy for Counter {
    fn next_u32(&mut self) -> u32 {
        self.0 += 1;
        (self.0 as u32).wrapping_mul(2_654_435_761)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// The transport of `count.rs` (one sha-256 fingerprint) without generating a certificate: the
/// allocations do not depend on the digest.
fn transport() -> LocalTransport {
    LocalTransport {
        ice_ufrag: "BnQx".to_owned(),
        ice_pwd: "u9jKc2Lx0TqZ4mWv8RyE1sNa".to_owned(),
        candidates: Vec::new(),
        gathering_complete: false,
        default_address: None,
        fingerprints: vec![antiphon_sdp::Fingerprint {
            algorithm: "sha-256".to_owned(),
            value: "AB:".repeat(31) + "AB",
        }],
        tls_id: None,
        established_setup: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, op, offer_name] = args.as_slice() else {
        panic!("usage: allocations answer|parse OFFER");
    };
    let sdp = offer(offer_name);
    let transport = transport();
    let stats = match op.as_str() {
        "answer" => {
            let mut negotiator = Negotiator::new(
                Capabilities::browser_default(),
                AnswerOptions::default(),
                Box::new(Counter(7)),
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
