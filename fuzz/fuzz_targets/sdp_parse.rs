//! Arbitrary bytes into the SDP parser, in both modes: it returns a model or a typed error,
//! never panics, and errors point at a line of the input (or just past its end).
#![no_main]

use antiphon_sdp::{ParseOptions, parse_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        if let Err(error) = parse_with(data, &options) {
            if let Some(line) = error.line() {
                // A missing line is reported on the line after the last one.
                let lines = data.split(|b| *b == b'\n').count();
                assert!(line >= 1 && line <= lines + 1, "line {line} of {lines}");
            }
        }
    }
});
