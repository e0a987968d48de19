//! The connection as one sans-IO state machine: the ICE agent, the DTLS association and the
//! SCTP data channels of one transport, driven by the caller.
//!
//! ```text
//!  datagram in --demux (RFC 7983)--+-- STUN -------> IceAgent -----> checks, consent
//!                                  +-- DTLS -------> DtlsConnection -> SRTP keys, records
//!                                                        |
//!                                       SCTP packets <-> SctpChannels (DCEP, streams)
//!  poll_transmit <- ICE datagrams, then DTLS records on the selected pair
//! ```
//!
//! Input: received datagrams with their addresses ([`ConnectionCore::handle_receive`]), the
//! time ([`ConnectionCore::handle_timeout`]) and commands (open, send, close). Output:
//! datagrams to send ([`ConnectionCore::poll_transmit`]), [`CoreEvent`]s and the next deadline
//! ([`ConnectionCore::poll_timeout`]). It owns no socket, reads no clock and spawns nothing,
//! so two of them connect over the seeded simulator on virtual time
//! (`tests/core_simulated.rs`).
//!
//! The JSEP state stays in [`Negotiator`]: [`ConnectionCore::start`] reads from it what the
//! transports need (remote ICE credentials and candidates, the DTLS role, the remote
//! fingerprints, the SCTP parameters), with the rules the async connection uses.

mod channels;
mod dcep;
mod secure;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use antiphon_dtls::{DtlsConfig, DtlsConnected, DtlsError, DtlsParameters};
use antiphon_ice::{Datagram, IceAgent, IceEvent, PairState, Transmit};

pub use channels::{ChannelError, ChannelEvent, SctpChannels};
pub use dcep::DcepError;
pub use secure::SecureTransport;

use crate::error::Error;
use crate::negotiator::Negotiator;
use crate::setup::{RemoteTransport, plan_start};

/// What a [`ConnectionCore`] reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum CoreEvent {
    /// From the ICE agent: state changes, local candidates, the selected pair.
    Ice(IceEvent),
    /// The DTLS handshake finished and the peer's certificate matched.
    DtlsConnected(DtlsConnected),
    /// The DTLS handshake failed (fingerprint mismatch, alert, timeout).
    DtlsFailed(DtlsError),
    /// The peer closed DTLS (close_notify).
    DtlsClosed,
    /// From the data channels.
    Channel(ChannelEvent),
}

/// One transport of a peer connection (see the [module](self) documentation).
#[derive(Debug)]
pub struct ConnectionCore {
    agent: IceAgent,
    dtls_config: DtlsConfig,
    /// DTLS and SCTP, once the descriptions are applied ([`start`](Self::start)).
    secure: Option<SecureTransport>,
    selected: Option<(SocketAddr, SocketAddr)>,
    events: VecDeque<CoreEvent>,
    closed: bool,
}

impl ConnectionCore {
    /// A core around an ICE agent (already gathering) and our DTLS settings.
    pub fn new(agent: IceAgent, dtls_config: DtlsConfig) -> Self {
        Self {
            agent,
            dtls_config,
            secure: None,
            selected: None,
            events: VecDeque::new(),
            closed: false,
        }
    }

    /// The ICE agent (candidates, credentials, state).
    pub fn agent(&self) -> &IceAgent {
        &self.agent
    }

    /// The ICE agent, to add remote candidates as they trickle in.
    pub fn agent_mut(&mut self) -> &mut IceAgent {
        &mut self.agent
    }

    /// Starts the transports from the negotiated descriptions: remote ICE credentials and
    /// candidates go to the agent, and DTLS (then SCTP, when a data section was negotiated)
    /// starts with the role and fingerprints the descriptions give. Returns `false` when the
    /// negotiator has no current local and remote description yet.
    ///
    /// Refused with nothing changed when the descriptions cannot be used (no fingerprint,
    /// conflicting `a=setup`, bad credentials), or when already started.
    pub fn start(&mut self, now: Instant, negotiator: &Negotiator) -> Result<bool, Error> {
        if self.closed {
            return Err(Error::InvalidState(
                crate::error::InvalidStateReason::Closed,
            ));
        }
        let Some(plan) = plan_start(negotiator, self.secure.is_some(), true)? else {
            return Ok(false);
        };
        let remote = negotiator
            .current_remote_description()
            .map(|description| RemoteTransport::read(&description.parsed))
            .transpose()?;
        let parameters = DtlsParameters {
            role: plan.role,
            remote_fingerprints: plan.remote_fingerprints,
        };
        let secure = SecureTransport::new(now, self.dtls_config.clone(), parameters, plan.sctp)
            .map_err(|error| Error::Operation(crate::error::OperationReason::Dtls(error)))?;
        if let Some(remote) = remote {
            if let Some(credentials) = remote.credentials {
                self.agent.set_remote_credentials(credentials);
            }
            for candidate in &remote.candidates {
                // A candidate the agent cannot use (another family, a duplicate) is skipped.
                let _ = self.agent.add_remote_candidate(candidate);
            }
            if remote.end_of_candidates {
                self.agent.end_of_remote_candidates();
            }
        }
        self.secure = Some(secure);
        self.drive(now);
        Ok(true)
    }

    /// Takes in one datagram received on `datagram.destination` from `datagram.source`.
    pub fn handle_receive(&mut self, now: Instant, datagram: Datagram<'_>) {
        if self.closed {
            return;
        }
        match datagram.contents.first() {
            // STUN (RFC 7983: 0..=3).
            Some(0..=3) => {
                // Refused datagrams are counted by the agent (`drops()`).
                let _ = self.agent.handle_receive(now, datagram);
            }
            // DTLS (20..=63), only from a remote address ICE has validated.
            Some(20..=63) if self.validated(datagram.destination, datagram.source) => {
                if let Some(secure) = self.secure.as_mut() {
                    secure.handle_datagram(now, datagram.contents);
                }
            }
            _ => tracing::trace!(len = datagram.contents.len(), "datagram not demultiplexed"),
        }
        self.drive(now);
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.agent.handle_timeout(now);
        if let Some(secure) = self.secure.as_mut() {
            secure.handle_timeout(now);
        }
        self.drive(now);
    }

    /// The earliest time [`handle_timeout`](Self::handle_timeout) is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.agent.poll_timeout(),
            self.secure.as_ref().and_then(SecureTransport::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send: ICE's first, then DTLS records on the selected pair.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(transmit) = self.agent.poll_transmit() {
            return Some(transmit);
        }
        let (source, destination) = self.selected?;
        let contents = self.secure.as_mut()?.poll_transmit()?;
        Some(Transmit {
            source,
            destination,
            contents: contents.to_vec(),
        })
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        self.events.pop_front()
    }

    /// The DTLS and SCTP part, for channel operations: open, send, receive, close.
    pub fn secure(&mut self) -> Result<&mut SecureTransport, ChannelError> {
        self.secure.as_mut().ok_or(ChannelError::Closed)
    }

    /// Closes everything: SCTP shutdown and DTLS close_notify are queued for one last
    /// [`poll_transmit`](Self::poll_transmit), then the agent stops.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(secure) = self.secure.as_mut() {
            secure.close(now);
        }
        self.agent.close();
        self.closed = true;
    }

    /// Whether ICE validated the path `local` <- `remote` (DTLS is taken from nowhere else).
    fn validated(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.selected == Some((local, remote))
            || self.agent.pair_state(local, remote) == Some(PairState::Succeeded)
    }

    /// Moves the agent's events out and starts a DTLS client on the first selected pair.
    fn drive(&mut self, now: Instant) {
        while let Some(event) = self.agent.poll_event() {
            if let IceEvent::SelectedPairChanged { local, remote } = event {
                self.selected = Some((local, remote));
                if let Some(secure) = self.secure.as_mut() {
                    secure.path_ready(now);
                }
            }
            self.events.push_back(CoreEvent::Ice(event));
        }
        if let Some(secure) = self.secure.as_mut() {
            if self.selected.is_some() {
                secure.path_ready(now);
            }
            while let Some(event) = secure.poll_event() {
                self.events.push_back(event);
            }
        }
    }
}
