//! The contract between the view and the owned parser, checked on any input.

use antiphon_sdp::view::AttributeView;
use antiphon_sdp::{LineType, ParseErrorKind, ParseOptions, ParsedView, parse_view, parse_with};

/// Every attribute of a view, session level first, in line order.
pub(crate) fn attributes<'v, 'a>(
    view: &'v ParsedView<'a>,
) -> impl Iterator<Item = &'v AttributeView<'a>> {
    let description = &view.description;
    description
        .attributes
        .iter()
        .chain(description.media.iter().flat_map(|m| &m.attributes))
}

/// Whether line `line` (1-based) of `input` is an `a=` line.
fn is_attribute_line(input: &[u8], line: usize) -> bool {
    line.checked_sub(1)
        .and_then(|index| input.split(|&b| b == b'\n').nth(index))
        .is_some_and(|text| text.starts_with(b"a="))
}

/// How the view and `parse_with` relate on `input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agreement {
    /// Both accept it, and `to_parsed` equals `parse_with`.
    BothAccept,
    /// Both reject it with the same error (a structural one).
    SameError,
    /// The view accepts it; `parse_with` fails in an attribute value, and that attribute's
    /// `parse()` (and `to_parsed`) gives the same error.
    AttributeValueError,
    /// The view fails on a later line (or at the end of the input); `parse_with` fails first
    /// in an attribute value on an earlier `a=` line (the view defers value typing, the
    /// owned parser does not).
    EarlierAttributeValueError,
}

/// Checks the contract: if `parse_with` accepts, the view accepts and `to_parsed` equals it;
/// if the view rejects, `parse_with` rejects with the same error, unless it found a
/// malformed attribute value on an earlier line; if only `parse_with` rejects, the error is
/// in an attribute value and that attribute's `parse()` reports it.
pub(crate) fn check(input: &[u8], options: &ParseOptions) -> Result<Agreement, String> {
    let owned = parse_with(input, options);
    match (parse_view(input, options), owned) {
        (Ok(view), owned) => {
            let typed = view.to_parsed();
            if typed != owned {
                return Err(format!(
                    "to_parsed() {typed:?}\n differs from parse_with {owned:?}"
                ));
            }
            let Err(error) = owned else {
                return Ok(Agreement::BothAccept);
            };
            let attribute = attributes(&view)
                .find(|a| Some(a.line()) == error.line())
                .ok_or_else(|| format!("parse_with fails ({error}) on no attribute line"))?;
            match attribute.parse() {
                Err(e) if e == error => Ok(Agreement::AttributeValueError),
                other => Err(format!(
                    "a={}: parse() gives {other:?}, parse_with {error:?}",
                    attribute.text()
                )),
            }
        }
        (Err(view_error), Err(owned_error)) => {
            if view_error == owned_error {
                return Ok(Agreement::SameError);
            }
            // `c=` coverage is checked at the end of the input but points back at an `m=`
            // line; every other error is found at the line it points at.
            let at_end = view_error.parse_error_kind()
                == Some(&ParseErrorKind::MissingLine(LineType::Connection));
            let earlier = at_end || owned_error.line() < view_error.line();
            let on_attribute = owned_error
                .line()
                .is_some_and(|line| is_attribute_line(input, line));
            if earlier && on_attribute {
                Ok(Agreement::EarlierAttributeValueError)
            } else {
                Err(format!(
                    "view error {view_error:?}\n differs from parse_with error {owned_error:?}"
                ))
            }
        }
        (Err(e), Ok(_)) => Err(format!("the view rejects what parse_with accepts: {e}")),
    }
}
