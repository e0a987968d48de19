//! The connection's ICE agent: STUN servers resolved once (by the handle, outside the task),
//! the agent and its sockets made for the first description, and our side of each transport.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_dtls::{Certificate, DtlsConfig};
use antiphon_ice::{
    AgentConfig, Candidate, IceAgent, IceCredentials, IceGatheringState, IceRole, UdpSockets,
};

use super::task::{IcePath, PeerTask};
use super::{RTCPeerConnection, STUN_LOOKUP_LIMIT};
use crate::answer::LocalTransport;
use crate::core::ConnectionCore;
use crate::error::{Error, OperationReason};
use crate::gathering::Gathering;
use crate::transport::transport_ufrag;

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

impl PeerTask {
    /// Makes the ICE agent for `role` if there is none yet: binds the sockets and gathers.
    /// Returns at once: host candidates are known now (descriptions carry them), and
    /// server-reflexive ones follow as the STUN servers answer, trickled as
    /// `icecandidate` events.
    pub(crate) fn ensure_ice(
        &mut self,
        now: Instant,
        role: IceRole,
        stun_servers: &[SocketAddr],
    ) -> Result<(), Error> {
        if self.ice.is_some() {
            return Ok(());
        }
        let mut config = AgentConfig::default();
        // An ICE-lite offerer never checks or nominates: we take the controlling role even as
        // the answerer (RFC 8445 §6.1.1, RFC 8839 §5.3).
        config.remote_ice_lite = self
            .negotiator
            .remote_description()
            .is_some_and(|d| d.parsed.ice_lite());
        config.stun_servers.extend_from_slice(stun_servers);
        let sockets = UdpSockets::bind(&self.bind)
            .map_err(|_| Error::Operation(OperationReason::IceFailed))?;
        let mut agent = IceAgent::new(now, config, role, IceCredentials::generate());
        agent.gather(&sockets.local_addresses());
        let core = ConnectionCore::new(now, agent, DtlsConfig::new(self.certificate.clone()));
        self.gathering
            .set_state(IceGatheringState::Gathering, &self.outputs.events);
        self.ice = Some(IcePath { core, sockets });
        // The host candidates (and, with no STUN server, the end of gathering) now, before any
        // description is made; the first STUN requests leave.
        self.after(now);
        Ok(())
    }

    /// Whether DTLS was started (the first complete exchange).
    pub(crate) fn is_started(&self) -> bool {
        self.ice.as_ref().is_some_and(|path| path.core.is_started())
    }

    /// Our restart offer was applied: the agent takes the credentials it carries (RFC 8445 §9).
    pub(crate) fn take_restart_credentials(&mut self, now: Instant) {
        let offered = self
            .negotiator
            .local_description()
            .and_then(|d| transport_ufrag(&d.parsed));
        let Some(credentials) = self
            .restart_credentials
            .take_if(|c| offered.as_deref() == Some(c.ufrag()))
        else {
            return;
        };
        if let Some(path) = self.ice.as_mut() {
            tracing::info!(
                ufrag = credentials.ufrag(),
                "ICE restart with new local credentials"
            );
            path.core.restart_ice(now, credentials);
            self.restart_ice = false;
        }
    }
}

/// Our side of transport `k`: the agent's `credentials` and the candidates found so far for
/// the first (the one we connect); fresh credentials for any other.
pub(crate) fn local_transport(
    certificate: &Certificate,
    gathering: &Gathering,
    credentials: &IceCredentials,
    k: usize,
) -> LocalTransport {
    let credentials = if k == 0 {
        credentials.clone()
    } else {
        IceCredentials::generate()
    };
    let mut transport = LocalTransport::new(credentials.ufrag(), credentials.pwd(), certificate);
    if k == 0 {
        transport.default_address = gathering
            .candidates
            .iter()
            .filter_map(Candidate::socket_addr)
            .find(|a| !a.ip().is_loopback());
        transport.candidates = gathering.attribute_values();
        transport.gathering_complete = gathering.state == IceGatheringState::Complete;
    }
    transport
}
