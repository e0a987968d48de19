//! Header extension intersection (RFC 8285): keep the offerer's ids, reverse its direction and
//! narrow it by ours.

use std::collections::HashSet;

use crate::negotiate::{NegotiatedHeaderExtension, OfferedHeaderExtension};
use crate::{
    Direction, ExtensionRejection, HeaderExtensionCapability, HeaderExtensionVerdict, Verdict,
};

pub(super) fn negotiate_extensions(
    offered: &[OfferedHeaderExtension],
    local: &[HeaderExtensionCapability],
) -> (Vec<NegotiatedHeaderExtension>, Vec<HeaderExtensionVerdict>) {
    let mut accepted: Vec<NegotiatedHeaderExtension> = Vec::new();
    let mut verdicts = Vec::with_capacity(offered.len());
    let mut seen_ids: HashSet<u16> = HashSet::new();
    let mut seen_uris: HashSet<&str> = HashSet::new();
    for extension in offered {
        let decision = if !is_valid_id(extension.id) {
            Err(ExtensionRejection::InvalidId)
        } else if !seen_ids.insert(extension.id) {
            Err(ExtensionRejection::DuplicateId)
        } else if !seen_uris.insert(&extension.uri) {
            Err(ExtensionRejection::DuplicateUri)
        } else {
            decide(extension, local)
        };
        let verdict = match decision {
            Ok(direction) => {
                accepted.push(NegotiatedHeaderExtension {
                    id: extension.id,
                    uri: extension.uri.clone(),
                    direction,
                });
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
