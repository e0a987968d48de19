//! The connection's ICE side: STUN and TURN servers resolved once (by the handle, outside the
//! task), and ICE restarts of our own (the transports themselves are in [`super::transports`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use antiphon_ice::turn::TurnServerConfig;

use antiphon_sdp::SessionDescription;

use super::network::{Network, PathSockets};
use super::task::PeerTask;
use super::{RTCPeerConnection, STUN_LOOKUP_LIMIT};
use crate::transport::section_ufrag;

/// The ICE servers a new transport gathers from, resolved.
#[derive(Debug, Default)]
pub(crate) struct GatherServers {
    /// STUN servers (server-reflexive candidates).
    pub(crate) stun: Vec<SocketAddr>,
    /// TURN servers (relay candidates).
    pub(crate) turn: Vec<TurnTarget>,
}

/// A resolved TURN server.
#[derive(Debug, Clone)]
pub(crate) struct TurnTarget {
    pub(crate) config: TurnServerConfig,
    /// The URL as configured (`icecandidateerror` names it).
    pub(crate) url: String,
    /// For `turns:`, the URL's host: the name (or address) its certificate must be for.
    pub(crate) tls_host: Option<String>,
}

impl RTCPeerConnection {
    /// The configured ICE servers' addresses, looked up once (a name that does not resolve
    /// within [`STUN_LOOKUP_LIMIT`] gives none: no candidate from it, as in browsers). Awaited
    /// by the calls that may bind sockets, before their operation is queued, so the task
    /// never waits on DNS.
    pub(super) async fn gather_servers(&self) -> Arc<GatherServers> {
        let servers = self
            .gather_servers
            .get_or_init(|| async {
                let mut servers = GatherServers::default();
                for url in &self.ice_urls {
                    let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
                    let Ok(Ok(mut found)) = tokio::time::timeout(STUN_LOOKUP_LIMIT, lookup).await
                    else {
                        tracing::warn!(host = %url.host, "ICE server name did not resolve");
                        continue;
                    };
                    let Some(turn) = &url.turn else {
                        servers.stun.extend(found);
                        continue;
                    };
                    // One allocation per TURN URL, on its first address.
                    if let Some(address) = found.next() {
                        let tls = turn.transport == antiphon_ice::turn::TurnTransport::Tls;
                        servers.turn.push(TurnTarget {
                            config: TurnServerConfig::new(
                                address,
                                turn.transport,
                                turn.username.clone(),
                                turn.credential.clone(),
                            ),
                            url: url.url.clone(),
                            tls_host: tls.then(|| url.host.clone()),
                        });
                    }
                }
                Arc::new(servers)
            })
            .await;
        Arc::clone(servers)
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
            path.sockets.add_ufrag(credentials.ufrag());
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
