//! The connection's ICE agent: STUN servers resolved once, the driver bound for the first
//! description, our side of each transport, and the task that trickles our candidates.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use antiphon_ice::driver::{DriverConfig, IceDriver, IceEventStream};
use antiphon_ice::{Candidate, IceCredentials, IceEvent, IceGatheringState, IceRole};
use tokio::sync::{Mutex, broadcast};

use super::{Inner, RTCPeerConnection, STUN_LOOKUP_LIMIT};
use crate::answer::LocalTransport;
use crate::error::{Error, OperationReason};
use crate::events::PeerConnectionEvent;
use crate::gathering::Gathering;
use crate::transport::transport_ufrag;

impl RTCPeerConnection {
    /// The configured STUN servers' addresses, looked up once (a name that does not resolve
    /// within [`STUN_LOOKUP_LIMIT`] gives none). Called before the lock is taken.
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

    /// Starts the ICE driver for `role` if it is not running yet: binds the sockets, records
    /// the host candidates and starts the task that trickles the rest. Returns at once:
    /// descriptions carry the candidates found so far, and the others follow as
    /// [`PeerConnectionEvent::IceCandidate`].
    pub(super) async fn ensure_ice(
        &self,
        inner: &mut Inner,
        role: IceRole,
        stun_servers: &[SocketAddr],
    ) -> Result<(), Error> {
        if inner.ice.is_some() {
            return Ok(());
        }
        let mut config = DriverConfig::new(role, IceCredentials::generate());
        config.bind = self.bind.clone();
        // An ICE-lite offerer never checks or nominates: we take the controlling role even as
        // the answerer (RFC 8445 §6.1.1, RFC 8839 §5.3).
        config.agent.remote_ice_lite = inner
            .negotiator
            .remote_description()
            .is_some_and(|d| d.parsed.ice_lite());
        config.agent.stun_servers.extend_from_slice(stun_servers);
        let mut driver = IceDriver::bind(config)
            .await
            .map_err(|_| Error::Operation(OperationReason::IceFailed))?;
        inner
            .gathering
            .set_state(IceGatheringState::Gathering, &self.events);
        for candidate in driver.local_candidates() {
            inner.gathering.add(candidate);
        }
        if stun_servers.is_empty() {
            // Host candidates are all there is: the first description is complete.
            inner
                .gathering
                .set_state(IceGatheringState::Complete, &self.events);
        }
        tokio::spawn(trickle(
            driver.take_events(),
            Arc::downgrade(&self.inner),
            inner.gathering.generation,
            self.events.clone(),
        ));
        inner.ice = Some(driver);
        Ok(())
    }

    /// Our side of transport `k`: the agent's `credentials` and the candidates found so far for
    /// the first (the one we connect); fresh credentials for any other.
    pub(super) fn local_transport(
        &self,
        credentials: &IceCredentials,
        gathering: &Gathering,
        k: usize,
    ) -> LocalTransport {
        let credentials = if k == 0 {
            credentials.clone()
        } else {
            IceCredentials::generate()
        };
        let mut transport =
            LocalTransport::new(credentials.ufrag(), credentials.pwd(), &self.certificate);
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
}

/// Our restart offer was applied: the agent takes the credentials it carries (RFC 8445 §9).
pub(super) fn take_restart_credentials(inner: &mut Inner) {
    let offered = inner
        .negotiator
        .local_description()
        .and_then(|d| transport_ufrag(&d.parsed));
    let Some(credentials) = inner
        .restart_credentials
        .take_if(|c| offered.as_deref() == Some(c.ufrag()))
    else {
        return;
    };
    if let Some(ice) = inner.ice.as_mut() {
        ice.restart(credentials);
        inner.restart_ice = false;
    }
}

/// The gathering task: records each candidate the agent finds and surfaces it (into the local
/// description, and as an `icecandidate` event), then end-of-candidates. It holds the
/// connection weakly and ends when gathering completes, the driver stops or the connection
/// goes; dropping the event stream then stops the driver's events.
async fn trickle(
    mut stream: IceEventStream,
    inner: Weak<Mutex<Inner>>,
    generation: u64,
    events: broadcast::Sender<PeerConnectionEvent>,
) {
    while let Some(event) = stream.next().await {
        let found = match event {
            IceEvent::NewLocalCandidate(candidate) => Some(candidate),
            IceEvent::GatheringComplete => None,
            _ => continue,
        };
        let Some(inner) = inner.upgrade() else { return };
        let mut inner = inner.lock().await;
        let Inner {
            negotiator,
            gathering,
            ..
        } = &mut *inner;
        if gathering.generation != generation {
            // The driver this task listens to was dropped (a refused first offer).
            return;
        }
        let complete = found.is_none();
        match found {
            Some(candidate) => {
                if !gathering.add(candidate) {
                    continue;
                }
            }
            None => gathering.set_state(IceGatheringState::Complete, &events),
        }
        gathering.surface(negotiator, &events);
        if complete {
            return;
        }
    }
}
