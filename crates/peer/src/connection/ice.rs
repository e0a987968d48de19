//! The connection's ICE side: STUN servers resolved once (by the handle, outside the task), and
//! ICE restarts of our own (the transports themselves are in [`super::transports`]).

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_sdp::SessionDescription;

use super::network::Network;
use super::task::PeerTask;
use super::{RTCPeerConnection, STUN_LOOKUP_LIMIT};
use crate::transport::section_ufrag;

impl RTCPeerConnection {
    /// The configured STUN servers' addresses, looked up once (a name that does not resolve
    /// within [`STUN_LOOKUP_LIMIT`] gives none). Awaited by the calls that may bind sockets,
    /// before their operation is queued, so the task never waits on DNS.
    pub(super) async fn stun_addresses(&self) -> &[SocketAddr] {
        self.stun_addresses
            .get_or_init(|| async {
                let mut addresses = Vec::new();
                for server in &self.stun_servers {
                    let lookup = tokio::net::lookup_host((server.host.as_str(), server.port));
                    if let Ok(Ok(found)) = tokio::time::timeout(STUN_LOOKUP_LIMIT, lookup).await {
                        addresses.extend(found);
                    }
                }
                addresses
            })
            .await
    }
}

impl<N: Network> PeerTask<N> {
    /// Our restart offer was applied: each transport whose section in it carries the
    /// credentials made for the restart takes them (RFC 8445 §9).
    pub(crate) fn take_restart_credentials(&mut self, now: Instant) {
        let Some(offer) = self.negotiator.local_description() else {
            return;
        };
        let offered: Vec<Option<String>> = self
            .paths
            .iter()
            .map(|path| local_ufrag(&offer.parsed, &path.sections))
            .collect();
        for (path, offered) in self.paths.iter_mut().zip(offered) {
            let Some(credentials) = path
                .restart
                .take_if(|c| offered.as_deref() == Some(c.ufrag()))
            else {
                continue;
            };
            tracing::info!(
                ufrag = credentials.ufrag(),
                "ICE restart with new local credentials"
            );
            path.core.restart_ice(now, credentials);
            self.restart_ice = false;
        }
    }
}

/// The `a=ice-ufrag` our `description` gives the transport carrying `sections` (in the first
/// of them in use there, else at session level).
pub(crate) fn local_ufrag(description: &SessionDescription, sections: &[usize]) -> Option<String> {
    let index = sections
        .iter()
        .copied()
        .find(|&i| description.media.get(i).is_some_and(|m| m.port != 0))?;
    section_ufrag(description, index).map(str::to_owned)
}
