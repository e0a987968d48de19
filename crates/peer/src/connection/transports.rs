//! The connection's transports (RFC 8843, RFC 9429 §5): one ICE + DTLS transport per BUNDLE
//! group and one per section outside every group, each with its own sockets, ICE agent,
//! gathering and DTLS (and SCTP on the one carrying the data section) in its
//! [`ConnectionCore`]. A BUNDLE offer, the common case, has exactly one.
//!
//! A transport is named by the sections it carries (m-line indices, which never change once
//! negotiated). It is made when a description first needs it (our offer, a remote offer) and,
//! once an exchange completes, the answer's layout decides which stay: a `max-compat` offer's
//! spare transports go when the answer bundles, and every kept one starts DTLS.

use std::sync::Arc;
use std::time::Instant;

use antiphon_dtls::{Certificate, DtlsConfig};
use antiphon_ice::turn::TurnTransport;
use antiphon_ice::{
    AgentConfig, Candidate, IceAgent, IceConnectionState, IceCredentials, IceGatheringState,
    IceRole,
};

use super::ice::GatherServers;
use super::network::{HostSockets, Network, PathSockets};
use super::task::PeerTask;
use crate::answer::LocalTransport;
use crate::core::ConnectionCore;
use crate::driver::DtlsInfo;
use crate::error::{Error, OperationReason};
use crate::events::PeerConnectionEvent;
use crate::gathering::Gathering;
use crate::setup::TransportPlan;

/// One ICE + DTLS transport of the connection, with its sockets `S`.
pub(crate) struct TransportPath<S = HostSockets> {
    /// The sections it carries; in a description, the first of them in use there describes it.
    pub(crate) sections: Vec<usize>,
    pub(crate) core: ConnectionCore,
    pub(crate) sockets: S,
    pub(crate) gathering: Gathering,
    /// The credentials our pending restart offer carries for it; the agent takes them when
    /// that offer is applied, not when it is created.
    pub(crate) restart: Option<IceCredentials>,
    /// DTLS came up on it, the peer's certificate checked.
    pub(crate) dtls: Option<Arc<DtlsInfo>>,
}

impl<S> TransportPath<S> {
    /// Our side of this transport for a description: the agent's credentials (in an offer,
    /// `restarting`, the pending restart's if any), the candidates found so far, whether
    /// gathering is complete.
    pub(crate) fn local_transport(
        &self,
        certificate: &Certificate,
        restarting: bool,
    ) -> LocalTransport {
        let credentials = self
            .restart
            .as_ref()
            .filter(|_| restarting)
            .unwrap_or_else(|| self.core.agent().local_credentials());
        let mut transport =
            LocalTransport::new(credentials.ufrag(), credentials.pwd(), certificate);
        transport.default_address = self
            .gathering
            .candidates
            .iter()
            .filter_map(Candidate::socket_addr)
            .find(|a| !a.ip().is_loopback());
        transport.candidates = self.gathering.attribute_values();
        transport.gathering_complete = self.gathering.state == IceGatheringState::Complete;
        transport
    }
}

impl<N: Network> PeerTask<N> {
    /// The transport carrying section `index`.
    pub(crate) fn path_of(&self, index: usize) -> Option<usize> {
        self.paths.iter().position(|p| p.sections.contains(&index))
    }

    /// Makes sure one transport carries `sections`: the one carrying the first of them (else
    /// any of them) takes them all; if none does, a new one is bound and starts gathering at
    /// once (host candidates now, server-reflexive ones as the STUN servers answer, trickled
    /// as `icecandidate` events). Returns its index.
    fn ensure_path(
        &mut self,
        now: Instant,
        sections: &[usize],
        role: IceRole,
        servers: &GatherServers,
    ) -> Result<usize, Error> {
        if let Some(index) = self.rekey_path(sections) {
            return Ok(index);
        }
        let mut config = AgentConfig::default();
        // An ICE-lite offerer never checks or nominates: we take the controlling role even as
        // the answerer (RFC 8445 §6.1.1, RFC 8839 §5.3).
        config.remote_ice_lite = self
            .negotiator
            .remote_description()
            .is_some_and(|d| d.parsed.ice_lite());
        config.stun_servers.extend_from_slice(&servers.stun);
        config.relay_only = self.relay_only;
        // UDP servers the agent allocates on from a host socket; the others need a stream.
        let (udp, streamed): (Vec<_>, Vec<_>) = servers
            .turn
            .iter()
            .partition(|t| t.config.transport == TurnTransport::Udp);
        if self.network.shared() && !udp.is_empty() {
            tracing::warn!(
                servers = udp.len(),
                "TURN over UDP is not used from a UDP mux; TURN over TCP or TLS is"
            );
        } else {
            config.turn_servers = udp.into_iter().map(|t| t.config.clone()).collect();
        }
        for target in &servers.turn {
            let key = (target.config.server, target.config.transport);
            if !self.turn_urls.iter().any(|(k, _)| *k == key) {
                self.turn_urls.push((key, target.url.clone()));
            }
        }
        let mut rng = self.random();
        config.seed = Some(rand::Rng::random(&mut rng));
        let credentials = IceCredentials::generate_with(&mut rng);
        let sockets = self
            .network
            .bind(&self.bind, credentials.ufrag())
            .map_err(|_| Error::Operation(OperationReason::IceFailed))?;
        let mut agent = IceAgent::new(now, config, role, credentials);
        for target in streamed {
            let server = target.config.server;
            match self
                .network
                .connect_turn(server, target.tls_host.as_deref())
            {
                Ok(local) => agent.add_relay(now, local, target.config.clone()),
                // Like a server that does not answer: no relay candidate from it.
                Err(error) => tracing::warn!(%server, %error, "TURN stream not opened"),
            }
        }
        agent.gather(&sockets.local_addresses());
        let core = ConnectionCore::new(now, agent, DtlsConfig::new(self.certificate.clone()));
        self.paths.push(TransportPath {
            sections: sections.to_vec(),
            core,
            sockets,
            gathering: Gathering::new(),
            restart: None,
            dtls: None,
        });
        self.update_gathering_state();
        // The host candidates (and, with no STUN server, the end of gathering) now, before any
        // description is made; the first STUN requests leave.
        self.after(now);
        Ok(self.paths.len() - 1)
    }

    /// A generator seeded from the negotiator's injected entropy.
    pub(crate) fn random(&mut self) -> rand::rngs::StdRng {
        rand::SeedableRng::from_seed(self.negotiator.entropy_seed())
    }

    /// Fresh ICE credentials, from the injected entropy.
    pub(crate) fn fresh_credentials(&mut self) -> IceCredentials {
        IceCredentials::generate_with(&mut self.random())
    }

    /// The transport carrying the first of `sections` (else any of them) now carries them all.
    fn rekey_path(&mut self, sections: &[usize]) -> Option<usize> {
        let index = sections
            .first()
            .and_then(|&first| self.path_of(first))
            .or_else(|| sections.iter().find_map(|&s| self.path_of(s)))?;
        self.paths[index].sections = sections.to_vec();
        Some(index)
    }

    /// Once an exchange completed: the transports `plans` name carry their sections, and the
    /// others close.
    pub(crate) fn settle_paths(&mut self, now: Instant, plans: &[TransportPlan]) {
        let layout: Vec<Vec<usize>> = plans.iter().map(|plan| plan.sections.clone()).collect();
        for sections in &layout {
            self.rekey_path(sections);
        }
        self.keep_paths(now, &layout);
    }

    /// [`ensure_path`](Self::ensure_path) for each of `layout`'s section sets; a layout of
    /// more than [`PeerOptions::max_transports`](crate::PeerOptions) transports is refused
    /// before any is bound.
    pub(crate) fn ensure_paths(
        &mut self,
        now: Instant,
        layout: &[Vec<usize>],
        role: IceRole,
        servers: &GatherServers,
    ) -> Result<(), Error> {
        if layout.len() > self.max_transports {
            return Err(Error::Operation(OperationReason::TooManyTransports {
                needed: layout.len(),
                limit: self.max_transports,
            }));
        }
        for sections in layout {
            self.ensure_path(now, sections, role, servers)?;
        }
        Ok(())
    }

    /// Keeps the transports carrying `layout`'s section sets (one each), closing the others:
    /// the spare transports of a `max-compat` offer the answer bundled, or of sections the
    /// answer rejected.
    fn keep_paths(&mut self, now: Instant, layout: &[Vec<usize>]) {
        let before = self.paths.len();
        let mut kept = Vec::with_capacity(layout.len());
        let mut closed_streams = Vec::new();
        for mut path in std::mem::take(&mut self.paths) {
            let duplicate = kept
                .iter()
                .any(|k: &TransportPath<N::Sockets>| k.sections == path.sections);
            if layout.contains(&path.sections) && !duplicate {
                kept.push(path);
            } else {
                tracing::debug!(sections = ?path.sections, "transport not negotiated: closed");
                path.core.close(now);
                closed_streams.extend(path.core.agent().relay_locals());
            }
        }
        self.paths = kept;
        for local in closed_streams {
            self.network.close_stream(local);
        }
        if self.paths.len() != before {
            // Datagrams queued for a closed transport go with it (indices moved).
            self.outgoing.clear();
            self.update_gathering_state();
            self.update_ice_state();
        }
    }

    /// `iceGatheringState` over every transport (W3C): `gathering` while any gathers,
    /// `complete` once all have; reported when it changes. The `null` candidate follows the
    /// last end-of-candidates once a local description carries it.
    pub(crate) fn update_gathering_state(&mut self) {
        let state = if self.paths.is_empty() {
            IceGatheringState::New
        } else if self
            .paths
            .iter()
            .all(|p| p.gathering.state == IceGatheringState::Complete)
        {
            IceGatheringState::Complete
        } else {
            IceGatheringState::Gathering
        };
        if state != self.gathering_state {
            self.gathering_state = state;
            self.outputs
                .events
                .send(PeerConnectionEvent::IceGatheringState(state));
        }
    }

    /// Surfaces every transport's candidates the local descriptions lack (see
    /// [`Gathering::surface`]), and once all transports completed gathering, the `null`
    /// candidate event (once per gathering).
    pub(crate) fn surface_candidates(&mut self) {
        for path in &self.paths {
            path.gathering
                .surface(&mut self.negotiator, &path.sections, &self.outputs.events);
        }
        if self.gathering_state == IceGatheringState::Complete
            && self.negotiator.local_description().is_some()
            && self.negotiator.signaling_state() != crate::signaling::RTCSignalingState::Closed
            && !std::mem::replace(&mut self.end_surfaced, true)
        {
            self.outputs
                .events
                .send(PeerConnectionEvent::IceCandidate(None));
        }
    }

    /// `iceConnectionState`.
    pub(crate) fn ice_state(&self) -> IceConnectionState {
        if *self.outputs.state.borrow() == crate::events::RTCPeerConnectionState::Closed {
            return IceConnectionState::Closed;
        }
        aggregate_ice_state(self.paths.iter().map(|p| p.core.agent().state()))
    }

    /// Reports `iceConnectionState` when it changed, and moves `connectionState` with it: before
    /// DTLS is up a failed ICE fails the connection, after it ICE's state is the connection's.
    pub(crate) fn update_ice_state(&mut self) {
        let state = self.ice_state();
        if state == self.ice_state_reported {
            return;
        }
        self.ice_state_reported = state;
        tracing::info!(?state, "ICE connection state");
        self.outputs
            .events
            .send(PeerConnectionEvent::IceConnectionState(state));
        self.on_ice_state(state);
    }
}

/// W3C `RTCIceConnectionState` over the transports' states: `failed` if any failed, else
/// `disconnected` if any is, else `new` if all are new (or closed), else `checking` while any
/// checks, else `completed` if all completed, else `connected`.
pub(crate) fn aggregate_ice_state(
    states: impl Iterator<Item = IceConnectionState> + Clone,
) -> IceConnectionState {
    use IceConnectionState as S;
    let any = |wanted: S| states.clone().any(|s| s == wanted);
    let all = |ok: &dyn Fn(S) -> bool| states.clone().all(ok);
    if any(S::Failed) {
        S::Failed
    } else if any(S::Disconnected) {
        S::Disconnected
    } else if all(&|s| matches!(s, S::New | S::Closed)) {
        S::New
    } else if any(S::New) || any(S::Checking) {
        S::Checking
    } else if all(&|s| matches!(s, S::Completed | S::Closed)) {
        S::Completed
    } else {
        S::Connected
    }
}

#[cfg(test)]
mod tests {
    use super::aggregate_ice_state;
    use antiphon_ice::IceConnectionState as S;

    #[test]
    fn ice_connection_state_is_worked_out_over_every_transport() {
        let cases: &[(&[S], S)] = &[
            (&[], S::New),
            (&[S::New, S::New], S::New),
            (&[S::Connected, S::New], S::Checking),
            (&[S::Connected, S::Checking], S::Checking),
            (&[S::Connected, S::Completed], S::Connected),
            (&[S::Completed, S::Completed], S::Completed),
            (&[S::Completed, S::Disconnected], S::Disconnected),
            (&[S::Disconnected, S::Failed], S::Failed),
            (&[S::Connected, S::Closed], S::Connected),
        ];
        for (states, expected) in cases {
            assert_eq!(
                aggregate_ice_state(states.iter().copied()),
                *expected,
                "{states:?}"
            );
        }
    }
}
