//! Header extension intersection (RFC 8285): keep the offerer's ids, reverse its direction and
//! narrow it by ours.

use crate::negotiate::OfferedHeaderExtension;
use crate::{
    Direction, ExtensionRejection, HeaderExtensionCapability, HeaderExtensionVerdict, Verdict,
};

/// The accepted extensions (index in `offered` and our direction), in offer order, and a
/// verdict for every offered one.
pub(super) fn negotiate_extensions(
    offered: &[OfferedHeaderExtension],
    local: &[HeaderExtensionCapability],
) -> (Vec<(usize, Direction)>, Vec<HeaderExtensionVerdict>) {
    let mut accepted = Vec::with_capacity(offered.len());
    let mut verdicts = Vec::with_capacity(offered.len());
    // Valid ids are below 256 (checked before an id is marked).
    let mut seen_ids = [false; 256];
    let mut seen_uris: Vec<&str> = Vec::with_capacity(offered.len());
    for (index, extension) in offered.iter().enumerate() {
        let decision = if !is_valid_id(extension.id) {
            Err(ExtensionRejection::InvalidId)
        } else if seen_ids
            .get_mut(usize::from(extension.id))
            .is_none_or(|seen| std::mem::replace(seen, true))
        {
            Err(ExtensionRejection::DuplicateId)
        } else if seen_uris.contains(&extension.uri.as_str()) {
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

/// Ids 1..=14 (one-byte header) and 16..=255 (two-byte header); 15 is reserved.
fn is_valid_id(id: u16) -> bool {
    matches!(id, 1..=14 | 16..=255)
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
