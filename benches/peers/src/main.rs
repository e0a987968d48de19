//! `count OP LIBRARY OFFER ITERATIONS`: runs one library's parse or answer of one offer, once
//! to warm up and then `ITERATIONS` times through the `timed_*` functions, and prints the heap
//! allocations and bytes per operation inside them. Run under
//! `valgrind --tool=callgrind --toggle-collect='*timed_*'`, the instructions callgrind
//! collects are those of the `ITERATIONS` measured operations alone (setup, warm-up and
//! teardown fall outside). `cargo xtask bench --peers` runs it for every offer and library.
//!
//! OP is `answer`, `parse` (Antiphon: typed model) or `view` (Antiphon: borrowed view; the
//! others parse as for `parse`). `count check` prints which library refuses which offer.

use std::alloc::System;
use std::process::ExitCode;

use antiphon_peer_benches::{Answerers, Library, OFFER_NAMES, offer, parse, timed_parse};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["check"] => check(),
        [op, library, name, iterations] => count(op, library, name, iterations),
        _ => Err("usage: count check | count answer|parse|view LIBRARY OFFER ITERATIONS".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("count: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every library on every offer, once: which refuse which (an offer is compared only where all
/// accept it).
fn check() -> Result<(), String> {
    let answerers = Answerers::new();
    for name in OFFER_NAMES {
        let text = offer(name);
        for library in Library::ALL {
            let parsed = parse(library, true, &text);
            let mut answerer = answerers.fresh(library);
            let answered = answerers.answer(&mut answerer, &text);
            answerers.finish(answerer);
            let verdict = match (parsed, answered) {
                (Ok(_), Ok(_)) => "ok".to_owned(),
                (Err(e), _) => format!("parse refused: {e}"),
                (_, Err(e)) => format!("answer refused: {e}"),
            };
            println!("{name}\t{}\t{verdict}", library.name());
        }
    }
    Ok(())
}

fn count(op: &str, library: &str, name: &str, iterations: &str) -> Result<(), String> {
    let library = Library::from_name(library).ok_or(format!("no library {library:?}"))?;
    let iterations: u64 = iterations.parse().map_err(|_| "ITERATIONS is a number")?;
    let text = offer(name);
    let mut allocations = 0;
    let mut bytes = 0;
    match op {
        "parse" | "view" => {
            let typed = op == "parse";
            parse(library, typed, &text)?;
            for _ in 0..iterations {
                let region = Region::new(GLOBAL);
                timed_parse(library, typed, &text)?;
                let stats = region.change();
                allocations += stats.allocations + stats.reallocations;
                bytes += stats.bytes_allocated;
            }
        }
        "answer" => {
            let answerers = Answerers::new();
            let mut warm = answerers.fresh(library);
            answerers.answer(&mut warm, &text)?;
            answerers.finish(warm);
            for _ in 0..iterations {
                let mut answerer = answerers.fresh(library);
                let region = Region::new(GLOBAL);
                let answer = answerers.timed_answer(&mut answerer, &text);
                let stats = region.change();
                drop(answer?);
                answerers.finish(answerer);
                allocations += stats.allocations + stats.reallocations;
                bytes += stats.bytes_allocated;
            }
        }
        other => return Err(format!("no operation {other:?}")),
    }
    let per = iterations.max(1) as usize;
    println!(
        "{op}\t{}\t{name}\tallocations {}\tbytes {}",
        library.name(),
        allocations / per,
        bytes / per
    );
    Ok(())
}
