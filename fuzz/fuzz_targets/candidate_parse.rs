//! Arbitrary text into the ICE candidate parser: a candidate or a typed error, never a panic;
//! a parsed candidate writes back to text that parses to the same candidate.
#![no_main]

use antiphon_ice::Candidate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(candidate) = Candidate::parse(text) else {
        return;
    };
    let written = candidate.to_string();
    let again = Candidate::parse(&written)
        .unwrap_or_else(|e| panic!("our own candidate does not parse: {e}: {written}"));
    assert_eq!(
        candidate, again,
        "round trip changed the candidate: {written}"
    );
});
