//! parse -> write -> parse must give the same model, and writing it again the same text.
#![no_main]

use antiphon_sdp::{ParseOptions, parse_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = parse_with(data, &ParseOptions::lenient()) else {
        return;
    };
    let written = first.description.to_string();
    let second = parse_with(written.as_bytes(), &ParseOptions::lenient())
        .unwrap_or_else(|e| panic!("our own output does not parse: {e}\n{written}"));
    assert_eq!(
        first.description, second.description,
        "round trip changed the model"
    );
    assert_eq!(
        written,
        second.description.to_string(),
        "writing is not stable"
    );
});
