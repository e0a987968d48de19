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

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use antiphon_dtls::{
    DtlsConfig, DtlsConnected, DtlsConnection, DtlsError, DtlsEvent, DtlsParameters,
};
use antiphon_ice::{Datagram, IceAgent, IceEvent, PairState, Transmit};

pub use channels::{ChannelError, ChannelEvent, SctpChannels};
pub use dcep::DcepError;

use crate::data_channel::{DataChannelMessage, RTCDataChannelInit};
use crate::error::Error;
use crate::negotiator::Negotiator;
use crate::sctp::SctpParameters;
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
    /// Known once the descriptions are applied ([`start`](Self::start)).
    dtls_remote: Option<DtlsParameters>,
    dtls: Option<DtlsConnection>,
    channels: Option<SctpChannels>,
    selected: Option<(SocketAddr, SocketAddr)>,
    /// DTLS records waiting for a selected pair.
    outgoing: VecDeque<bytes::Bytes>,
    events: VecDeque<CoreEvent>,
    closed: bool,
}

impl ConnectionCore {
    /// A core around an ICE agent (already gathering) and our DTLS settings.
    pub fn new(agent: IceAgent, dtls_config: DtlsConfig) -> Self {
        Self {
            agent,
            dtls_config,
            dtls_remote: None,
            dtls: None,
            channels: None,
            selected: None,
            outgoing: VecDeque::new(),
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
        let Some(plan) = plan_start(negotiator, self.dtls_remote.is_some(), true)? else {
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
        // The server's association waits for the client; a client starts on a selected pair.
        let dtls = match plan.role {
            antiphon_dtls::DtlsRole::Server => Some(
                DtlsConnection::new(now, &self.dtls_config, parameters.clone()).map_err(
                    |error| Error::Operation(crate::error::OperationReason::Dtls(error)),
                )?,
            ),
            antiphon_dtls::DtlsRole::Client => None,
        };
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
        self.dtls = dtls;
        self.channels = plan
            .sctp
            .map(|sctp: SctpParameters| SctpChannels::new(parameters.role, sctp));
        self.dtls_remote = Some(parameters);
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
                if let Some(dtls) = self.dtls.as_mut()
                    && let Err(error) = dtls.handle_receive(now, datagram.contents)
                {
                    tracing::debug!(%error, "DTLS datagram refused");
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
        if let Some(dtls) = self.dtls.as_mut() {
            dtls.handle_timeout(now);
        }
        if let Some(channels) = self.channels.as_mut() {
            channels.handle_timeout(now);
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
            self.dtls.as_ref().and_then(DtlsConnection::poll_timeout),
            self.channels.as_ref().and_then(SctpChannels::poll_timeout),
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
        let contents = self.outgoing.pop_front()?;
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

    /// Opens a data channel (see [`SctpChannels::open`]); reported open once SCTP is up.
    pub fn open_channel(
        &mut self,
        now: Instant,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<u16, ChannelError> {
        let channels = self.channels.as_mut().ok_or(ChannelError::Closed)?;
        let id = channels.open(now, label, init)?;
        self.drive(now);
        Ok(id)
    }

    /// Sends a message on channel `id`.
    pub fn send(
        &mut self,
        now: Instant,
        id: u16,
        message: &DataChannelMessage,
    ) -> Result<(), ChannelError> {
        let channels = self.channels.as_mut().ok_or(ChannelError::Closed)?;
        channels.send(now, id, message)?;
        self.drive(now);
        Ok(())
    }

    /// Closes channel `id`.
    pub fn close_channel(&mut self, now: Instant, id: u16) -> Result<(), ChannelError> {
        let channels = self.channels.as_mut().ok_or(ChannelError::Closed)?;
        channels.close_channel(now, id)?;
        self.drive(now);
        Ok(())
    }

    /// `bufferedAmount` of channel `id`.
    pub fn buffered_amount(&mut self, id: u16) -> usize {
        self.channels
            .as_mut()
            .map_or(0, |channels| channels.buffered_amount(id))
    }

    /// Closes everything: SCTP shutdown and DTLS close_notify are queued for one last
    /// [`poll_transmit`](Self::poll_transmit), then the agent stops.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(channels) = self.channels.as_mut() {
            channels.close(now);
        }
        self.drive(now);
        if let Some(dtls) = self.dtls.as_mut() {
            dtls.close(now);
        }
        self.collect_dtls(now);
        self.agent.close();
        self.closed = true;
    }

    /// Whether ICE validated the path `local` <- `remote` (DTLS is taken from nowhere else).
    fn validated(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.selected == Some((local, remote))
            || self.agent.pair_state(local, remote) == Some(PairState::Succeeded)
    }

    /// Moves what each layer produced to the next until nothing moves.
    fn drive(&mut self, now: Instant) {
        loop {
            let mut moved = self.collect_ice(now);
            moved |= self.collect_dtls(now);
            moved |= self.collect_channels(now);
            if !moved {
                return;
            }
        }
    }

    fn collect_ice(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(event) = self.agent.poll_event() {
            moved = true;
            if let IceEvent::SelectedPairChanged { local, remote } = event {
                self.selected = Some((local, remote));
            }
            self.events.push_back(CoreEvent::Ice(event));
        }
        // The DTLS client starts once ICE has a path.
        if self.dtls.is_none()
            && self.selected.is_some()
            && let Some(parameters) = self.dtls_remote.clone()
        {
            moved = true;
            match DtlsConnection::new(now, &self.dtls_config, parameters) {
                Ok(dtls) => self.dtls = Some(dtls),
                Err(error) => {
                    // Checked by `start`; only an expired certificate can get here.
                    self.dtls_remote = None;
                    self.events.push_back(CoreEvent::DtlsFailed(error));
                }
            }
        }
        moved
    }

    fn collect_dtls(&mut self, now: Instant) -> bool {
        let Some(dtls) = self.dtls.as_mut() else {
            return false;
        };
        let mut moved = false;
        while let Some(record) = dtls.poll_transmit() {
            moved = true;
            self.outgoing.push_back(record);
        }
        while let Some(event) = dtls.poll_event() {
            moved = true;
            match event {
                DtlsEvent::Connected(connected) => {
                    if let Some(channels) = self.channels.as_mut()
                        && let Err(error) = channels.start(now)
                    {
                        tracing::warn!(%error, "SCTP could not start");
                    }
                    self.events.push_back(CoreEvent::DtlsConnected(connected));
                }
                DtlsEvent::Data(packet) => {
                    if let Some(channels) = self.channels.as_mut() {
                        channels.handle_receive(now, packet);
                    }
                }
                DtlsEvent::PeerClosed => {
                    if let Some(channels) = self.channels.as_mut() {
                        channels.close(now);
                    }
                    self.events.push_back(CoreEvent::DtlsClosed);
                }
                DtlsEvent::Failed(error) => self.events.push_back(CoreEvent::DtlsFailed(error)),
                _ => {}
            }
        }
        moved
    }

    fn collect_channels(&mut self, now: Instant) -> bool {
        let Some(channels) = self.channels.as_mut() else {
            return false;
        };
        let mut moved = false;
        while let Some(packet) = channels.poll_transmit() {
            moved = true;
            match self.dtls.as_mut() {
                Some(dtls) => {
                    if let Err(error) = dtls.send(now, &packet) {
                        tracing::debug!(%error, "SCTP packet not sent");
                    }
                }
                None => tracing::debug!("SCTP packet before DTLS dropped"),
            }
        }
        while let Some(event) = channels.poll_event() {
            moved = true;
            self.events.push_back(CoreEvent::Channel(event));
        }
        moved
    }
}
