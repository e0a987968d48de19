//! Header extension intersection (RFC 8285): keep the offerer's ids, reverse its direction and
//! narrow it by ours.

use crate::negotiate::{NegotiationOptions, OfferedHeaderExtension};
use crate::{
    Direction, ExtensionRejection, HeaderExtensionCapability, HeaderExtensionVerdict, Verdict,
};

/// The accepted extensions (index in `offered` and our direction), in offer order, and a
/// verdict for every offered one.
pub(super) fn negotiate_extensions(
    offered: &[OfferedHeaderExtension],
    local: &[HeaderExtensionCapability],
    options: &NegotiationOptions,
) -> (Vec<(usize, Direction)>, Vec<HeaderExtensionVerdict>) {
    let mut accepted = Vec::with_capacity(offered.len());
    let mut verdicts = Vec::with_capacity(offered.len());
    // Valid ids are below 256 (checked before an id is marked).
    let mut seen_ids = [false; 256];
    let mut seen_uris: Vec<&str> = Vec::with_capacity(offered.len());
    for (index, extension) in offered.iter().enumerate() {
        let decision = if !is_valid_id(extension.id) {
            Err(ExtensionRejection::InvalidId)
        } else if extension.id > ONE_BYTE_MAX_ID && !options.two_byte_header_ids {
            Err(ExtensionRejection::NeedsTwoByteHeader)
        } else if options
            .bound_extension_ids
            .iter()
            .any(|(id, uri)| *id == extension.id && *uri != extension.uri)
        {
            Err(ExtensionRejection::IdBoundToOtherUri)
        } else if seen_ids
            .get_mut(usize::from(extension.id))
            .is_none_or(|seen| std::mem::replace(seen, true))
        {
            Err(ExtensionRejection::DuplicateId)
        } else if seen_uris.contains(&&*extension.uri) {
            Err(ExtensionRejection::DuplicateUri)
        } else {
            seen_uris.push(&extension.uri);
            decide(extension, local)
        };
        let verdict = match decision {
            Ok(direction) => {
                accepted.push((index, direction));
                Verdict::Accepted
            }
            Err(reason) => Verdict::Rejected(reason),
        };
        verdicts.push(HeaderExtensionVerdict {
            id: extension.id,
            uri: extension.uri.clone(),
            verdict,
        });
    }
    (accepted, verdicts)
}

/// The largest id the one-byte header can carry (15 is reserved there, RFC 8285 §4.2).
const ONE_BYTE_MAX_ID: u16 = 14;

/// Ids 1..=255: 1..=14 fit the one-byte header, 15..=255 need the two-byte header, where only
/// 0 is reserved (RFC 8285 §4.3, §5).
fn is_valid_id(id: u16) -> bool {
    matches!(id, 1..=255)
}

fn decide(
    extension: &OfferedHeaderExtension,
    local: &[HeaderExtensionCapability],
) -> Result<Direction, ExtensionRejection> {
    let ours = local
        .iter()
        .find(|capability| capability.uri == extension.uri)
        .ok_or(ExtensionRejection::Unsupported)?;
    if ours.direction == Direction::Inactive {
        return Err(ExtensionRejection::Unsupported);
    }
    let direction = extension.direction.reversed().intersect(ours.direction);
    if direction == Direction::Inactive && extension.direction != Direction::Inactive {
        return Err(ExtensionRejection::DirectionNotSupported);
    }
    Ok(direction)
}
