//! The transports a description lays out, which section describes each, and what it says:
//! the DTLS role and fingerprints. Each description names its own describing sections
//! (RFC 8843 §7: a BUNDLE group's first section in use with a port, else the section itself).

use antiphon_dtls::{DtlsRole, Fingerprint, Setup};
use antiphon_sdp::{MediaDescription, SessionDescription};

use crate::error::{Error, InvalidAccessReason};

/// The transports `description` lays out (RFC 8843): the sections of each BUNDLE group that
/// are in use (port set, or `a=bundle-only`) share one, listed as the group lists them, and
/// every other section in use has its own. In the order of their first sections.
pub(crate) fn layout(description: &SessionDescription) -> Vec<Vec<usize>> {
    let media = &description.media;
    let mut placed = vec![false; media.len()];
    let mut transports = Vec::new();
    for group in description.bundle_groups() {
        let mut sections = Vec::new();
        for mid in &group.mids {
            let found = media.iter().position(|m| m.mid() == Some(mid.as_str()));
            if let Some(index) = found.filter(|&i| !placed[i] && in_use(&media[i])) {
                placed[index] = true;
                sections.push(index);
            }
        }
        // A group whose sections are all bundle-only has no transport.
        if sections.iter().any(|&i| media[i].port != 0) {
            transports.push(sections);
        }
    }
    for (index, section) in media.iter().enumerate() {
        if !placed[index] && section.port != 0 {
            transports.push(vec![index]);
        }
    }
    transports.sort_by_key(|sections| sections.iter().min().copied());
    transports
}

/// The section whose attributes describe the transport carrying section `index` in
/// `description`: its BUNDLE group's tag (the first section in use the group lists with a
/// port) or, outside every group, the section itself. `None` when it carries nothing there.
pub(crate) fn describing_section(description: &SessionDescription, index: usize) -> Option<usize> {
    layout(description)
        .into_iter()
        .find(|sections| sections.contains(&index))?
        .into_iter()
        .find(|&i| description.media[i].port != 0)
}

/// The `a=ice-ufrag` of section `index` (or, when it has none, the session's).
pub(crate) fn section_ufrag(description: &SessionDescription, index: usize) -> Option<&str> {
    description
        .media
        .get(index)?
        .ice_ufrag()
        .or_else(|| description.ice_ufrag())
}

/// The section is in use: a port, or bundled with `a=bundle-only`.
fn in_use(section: &MediaDescription) -> bool {
    section.port != 0
        || section
            .attributes
            .iter()
            .any(|a| matches!(a, antiphon_sdp::Attribute::BundleOnly))
}

/// The section at `index` is named by a BUNDLE group of `description`.
pub(crate) fn is_bundled(description: &SessionDescription, index: usize) -> bool {
    let Some(mid) = description.media.get(index).and_then(MediaDescription::mid) else {
        return false;
    };
    description
        .bundle_groups()
        .any(|group| group.mids.iter().any(|m| m == mid))
}

/// Our DTLS role from the negotiated `a=setup` values: ours when it is `active` or `passive`
/// (we answered), else what the remote's answer to our `actpass` makes us
/// ([`antiphon_dtls::offerer_role`]).
pub(crate) fn dtls_role(
    local: &SessionDescription,
    local_index: usize,
    remote: &SessionDescription,
    remote_index: usize,
) -> Result<DtlsRole, Error> {
    let setup = |d: &SessionDescription, index: usize| -> Option<Setup> {
        d.media
            .get(index)
            .and_then(MediaDescription::setup)
            .or_else(|| d.setup())
    };
    let invalid = || Error::InvalidAccess(InvalidAccessReason::InvalidSetupRole);
    match setup(local, local_index) {
        Some(Setup::Active) => Ok(DtlsRole::Client),
        Some(Setup::Passive) => Ok(DtlsRole::Server),
        _ => {
            let remote = setup(remote, remote_index).ok_or_else(invalid)?;
            antiphon_dtls::offerer_role(remote).map_err(|_| invalid())
        }
    }
}

/// Every usable `a=fingerprint` of the remote transport section (or session level).
pub(crate) fn remote_fingerprints(
    remote: &SessionDescription,
    index: usize,
) -> Result<Vec<Fingerprint>, Error> {
    let media: Vec<_> = remote
        .media
        .get(index)
        .map(|m| m.fingerprints().collect())
        .unwrap_or_default();
    let listed = if media.is_empty() {
        remote.fingerprints().collect()
    } else {
        media
    };
    let parsed: Vec<Fingerprint> = listed.into_iter().filter_map(|f| f.typed().ok()).collect();
    if parsed.is_empty() {
        return Err(Error::InvalidAccess(
            InvalidAccessReason::MissingFingerprint { index },
        ));
    }
    Ok(parsed)
}
