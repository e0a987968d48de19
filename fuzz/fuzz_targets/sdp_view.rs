//! The zero-copy view against the owned parser on arbitrary bytes, in both modes. It never
//! panics, and:
//! * if `parse_with` accepts, the view accepts and `to_parsed()` equals it;
//! * if only `parse_with` rejects, its error is in an attribute value, and that attribute's
//!   `parse()` gives the same error;
//! * if the view rejects, `parse_with` rejects with the same error, unless it found a
//!   malformed attribute value first (an earlier `a=` line, or before the end-of-input `c=`
//!   coverage check, which points back at an `m=` line).
#![no_main]

use antiphon_sdp::{LineType, ParseErrorKind, ParseOptions, parse_view, parse_with};
use libfuzzer_sys::fuzz_target;

fn is_attribute_line(data: &[u8], line: Option<usize>) -> bool {
    line.and_then(|line| line.checked_sub(1))
        .and_then(|index| data.split(|&b| b == b'\n').nth(index))
        .is_some_and(|text| text.starts_with(b"a="))
}

fuzz_target!(|data: &[u8]| {
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        let owned = parse_with(data, &options);
        match (parse_view(data, &options), owned) {
            (Ok(view), owned) => {
                let typed = view.to_parsed();
                assert_eq!(typed, owned, "to_parsed() differs from parse_with");
                if let Err(error) = owned {
                    let d = &view.description;
                    let attribute = d
                        .attributes
                        .iter()
                        .chain(d.media.iter().flat_map(|m| &m.attributes))
                        .find(|a| Some(a.line()) == error.line())
                        .unwrap_or_else(|| panic!("parse_with fails ({error}) on no a= line"));
                    assert_eq!(attribute.parse().err(), Some(error), "AttributeView::parse");
                }
            }
            (Err(view_error), Err(owned_error)) => {
                if view_error != owned_error {
                    let at_end = view_error.parse_error_kind()
                        == Some(&ParseErrorKind::MissingLine(LineType::Connection));
                    let earlier = at_end || owned_error.line() < view_error.line();
                    assert!(
                        earlier && is_attribute_line(data, owned_error.line()),
                        "view error {view_error:?} but parse_with error {owned_error:?}"
                    );
                }
            }
            (Err(e), Ok(_)) => panic!("the view rejects what parse_with accepts: {e}"),
        }
    }
});
