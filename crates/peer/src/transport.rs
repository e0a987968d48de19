//! Which section of a description describes its transport, and what it says: the ICE
//! credentials, the DTLS role and fingerprints. Each description names its own transport
//! section (RFC 8843 §7: the first accepted mid of the first BUNDLE group, else the first
//! accepted section).

use antiphon_dtls::{DtlsRole, Fingerprint, Setup};
use antiphon_sdp::{MediaDescription, SessionDescription};

use crate::error::{Error, InvalidAccessReason};

/// The `a=ice-ufrag` of the transport section (or the session's).
pub(crate) fn transport_ufrag(description: &SessionDescription) -> Option<String> {
    let index = transport_section(description)?;
    description.media[index]
        .ice_ufrag()
        .or_else(|| description.ice_ufrag())
        .map(str::to_owned)
}

/// The section whose transport is used: the first mid of the first BUNDLE group, or the first
/// accepted section.
pub(crate) fn transport_section(description: &SessionDescription) -> Option<usize> {
    let tagged = description.bundle_groups().find_map(|group| {
        group.mids.iter().find_map(|mid| {
            description
                .media
                .iter()
                .position(|m| m.mid() == Some(mid.as_str()) && m.port != 0)
        })
    });
    tagged.or_else(|| description.media.iter().position(|m| m.port != 0))
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
    let parsed: Vec<Fingerprint> = listed
        .into_iter()
        .filter_map(|f| Fingerprint::parse(&format!("{} {}", f.algorithm, f.value)).ok())
        .collect();
    if parsed.is_empty() {
        return Err(Error::InvalidAccess(
            InvalidAccessReason::MissingFingerprint { index },
        ));
    }
    Ok(parsed)
}
