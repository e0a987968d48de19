//! The connection as one sans-IO state machine: the ICE agent, the DTLS association and the
//! SCTP data channels of one transport, driven by the caller.
//!
//! ```text
//!  datagram in --demux (RFC 7983)--+-- STUN -------> IceAgent -----> checks, consent
//!                                  +-- DTLS -------> DtlsConnection -> SRTP keys, records
//!                                  |                     |
//!                                  |    SCTP packets <-> SctpChannels (DCEP, streams)
//!                                  +-- SRTP/SRTCP -> SrtpSession (keyed by DTLS) -> MediaPacket
//!  poll_transmit <- ICE datagrams, then DTLS records, then SRTP on the selected pair
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
mod congestion;
mod dcep;
mod secure;
mod srtp;
mod streams;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use antiphon_dtls::{DtlsConfig, DtlsConnected, DtlsError, DtlsParameters};
use antiphon_ice::{
    Candidate, Datagram, IceAgent, IceCredentials, IceEvent, PairState, PairTraffic,
    TrafficCounters, Transmit,
};
use antiphon_types::queue::ShrinkWhenDrained;

pub use channels::{ChannelError, ChannelEvent, SctpChannels};
pub use congestion::{
    CongestionReport, FEEDBACK_INTERVAL, PENDING_ARRIVALS, PacketResult, SENT_KEPT_FOR,
    SENT_REMEMBERED,
};
pub use dcep::DcepError;
pub use secure::SecureTransport;
pub use srtp::{MediaCounters, MediaError, MediaPacket, REPLAY_WINDOW, SrtpSession};
pub use streams::{MAX_INBOUND, MAX_OUTBOUND, NACK_INTERVAL, REPORT_INTERVAL, RtpParameters};

use crate::media::receive::ReceiveSnapshot;
use crate::media::rtp::RtpHeader;
use crate::media::send::SendSnapshot;

/// The SSRC our receiver reports come from while we send no stream of our own (libwebrtc's
/// choice for receive-only streams too).
const RECEIVER_SSRC: u32 = 1;

/// Protected media datagrams queued for the network at most; past it a send is refused with
/// [`MediaError::QueueFull`] (media is better dropped than late).
pub const MEDIA_QUEUE: usize = 1024;

use crate::error::Error;
use crate::negotiator::Negotiator;
use crate::sctp::SctpParameters;
use crate::setup::{RemoteTransport, StartPlan, plan_transports};

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
    /// A received RTP packet or RTCP compound, unprotected.
    Media(MediaPacket),
    /// Congestion control feedback in a received compound (transport-wide feedback resolved
    /// against the packets we sent, or REMB), for the application's bandwidth estimation.
    Congestion(CongestionReport),
}

/// One transport of a peer connection (see the [`core`](crate::core) module).
#[derive(Debug)]
pub struct ConnectionCore {
    agent: IceAgent,
    dtls_config: DtlsConfig,
    /// DTLS and SCTP, once the descriptions are applied ([`start`](Self::start)).
    secure: Option<SecureTransport>,
    selected: Option<(SocketAddr, SocketAddr)>,
    events: VecDeque<CoreEvent>,
    traffic: TrafficCounters,
    /// SRTP keys, once DTLS is connected; the contexts are made on first use.
    srtp: Option<srtp::LazySrtp>,
    /// Protected media waiting for [`poll_transmit`](Self::poll_transmit).
    media_out: VecDeque<Vec<u8>>,
    media_counters: MediaCounters,
    /// Receive and send statistics, reports, NACKs and retransmissions.
    rtp: streams::RtpSession,
    closed: bool,
}

impl ConnectionCore {
    /// A core around an ICE agent (already gathering) and our DTLS settings; what the agent
    /// did before (its host candidates, the first gathering requests) is taken in at `now`.
    pub fn new(now: Instant, agent: IceAgent, dtls_config: DtlsConfig) -> Self {
        let mut core = Self {
            agent,
            dtls_config,
            secure: None,
            selected: None,
            events: VecDeque::new(),
            traffic: TrafficCounters::default(),
            srtp: None,
            media_out: VecDeque::new(),
            media_counters: MediaCounters::default(),
            rtp: streams::RtpSession::new(RECEIVER_SSRC),
            closed: false,
        };
        core.drive(now);
        core
    }

    /// The ICE agent (candidates, credentials, state).
    pub fn agent(&self) -> &IceAgent {
        &self.agent
    }

    /// The ICE agent, to add remote candidates as they trickle in.
    pub fn agent_mut(&mut self) -> &mut IceAgent {
        &mut self.agent
    }

    /// Gives the agent a remote candidate (from the description or trickled); refused if the
    /// agent cannot use it (another family, a duplicate, over the limit).
    pub fn add_remote_candidate(
        &mut self,
        now: Instant,
        candidate: &Candidate,
    ) -> Result<(), antiphon_ice::Error> {
        let added = self.agent.add_remote_candidate(candidate);
        self.drive(now);
        added
    }

    /// The peer has no more candidates.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.agent.end_of_remote_candidates();
        self.drive(now);
    }

    /// ICE restart (RFC 8445 §9) with our new `credentials`; DTLS and SCTP carry on over the
    /// pair the restarted checks select.
    pub fn restart_ice(&mut self, now: Instant, credentials: IceCredentials) {
        self.agent.restart(credentials);
        self.drive(now);
    }

    /// Starts the transport from the negotiated descriptions: remote ICE credentials and
    /// candidates go to the agent, and DTLS (then SCTP, when a data section was negotiated on
    /// it) starts with the role and fingerprints the descriptions give. A core is one
    /// transport: when the descriptions negotiated several (no BUNDLE), it is the first.
    /// Returns `false` when the negotiator has no current local and remote description yet.
    ///
    /// Refused with nothing changed when the descriptions cannot be used (no fingerprint,
    /// conflicting `a=setup`, bad credentials), or when already started.
    pub fn start(&mut self, now: Instant, negotiator: &Negotiator) -> Result<bool, Error> {
        if self.closed {
            return Err(Error::InvalidState(
                crate::error::InvalidStateReason::Closed,
            ));
        }
        if self.secure.is_some() {
            return Ok(false);
        }
        let Some(plan) = plan_transports(negotiator)?.into_iter().next() else {
            return Ok(false);
        };
        let remote = negotiator
            .current_remote_description()
            .map(|description| RemoteTransport::read(&description.parsed, plan.sections[0]))
            .transpose()?;
        self.start_secure(now, plan.start)?;
        if let Some(remote) = remote {
            self.take_remote(now, remote);
        }
        Ok(true)
    }

    /// The remote side of the transport from its description: credentials, candidates (one the
    /// agent cannot use, of another family or a duplicate, is skipped, as browsers do) and
    /// end-of-candidates.
    pub(crate) fn take_remote(&mut self, now: Instant, remote: RemoteTransport) {
        if let Some(credentials) = remote.credentials {
            self.agent.set_remote_credentials(credentials);
        }
        for candidate in &remote.candidates {
            let _ = self.agent.add_remote_candidate(candidate);
        }
        if remote.end_of_candidates {
            self.agent.end_of_remote_candidates();
        }
        self.drive(now);
    }

    /// Starts DTLS (and SCTP if `plan` has it) as `plan` says; the remote ICE side is the
    /// caller's to give the agent. Refused when closed; nothing happens when already started.
    pub(crate) fn start_secure(&mut self, now: Instant, plan: StartPlan) -> Result<(), Error> {
        if self.closed {
            return Err(Error::InvalidState(
                crate::error::InvalidStateReason::Closed,
            ));
        }
        if self.secure.is_some() {
            return Ok(());
        }
        let parameters = DtlsParameters {
            role: plan.role,
            remote_fingerprints: plan.remote_fingerprints,
        };
        let secure = SecureTransport::new(now, self.dtls_config.clone(), parameters, plan.sctp)
            .map_err(|error| Error::Operation(crate::error::OperationReason::Dtls(error)))?;
        self.secure = Some(secure);
        self.drive(now);
        Ok(())
    }

    /// Whether DTLS was started.
    pub fn is_started(&self) -> bool {
        self.secure.is_some()
    }

    /// The SCTP association's parameters, once it was started.
    pub fn sctp_parameters(&self) -> Option<SctpParameters> {
        self.secure.as_ref()?.sctp_parameters()
    }

    /// A data section negotiated after DTLS started: SCTP starts on it (once).
    pub fn add_sctp(&mut self, now: Instant, parameters: SctpParameters) {
        if let Some(secure) = self.secure.as_mut() {
            secure.add_sctp(now, parameters);
        }
        self.drive(now);
    }

    /// The payload each candidate pair carried (getStats).
    pub fn traffic(&self) -> &[PairTraffic] {
        self.traffic.pairs()
    }

    /// Takes in one datagram received on `datagram.destination` from `datagram.source`.
    pub fn handle_receive(&mut self, now: Instant, datagram: Datagram<'_>) {
        if self.closed {
            return;
        }
        match datagram.contents.first() {
            // STUN (RFC 7983: 0..=3), and TURN ChannelData (64..=79) from our TURN servers.
            Some(0..=3 | 64..=79) => {
                // Refused datagrams are counted by the agent (`drops()`).
                let _ = self.agent.handle_receive(now, datagram);
                // What came relayed through a TURN server and is not STUN: DTLS.
                while let Some(relayed) = self.agent.poll_relayed() {
                    let inner = Datagram {
                        source: relayed.source,
                        destination: relayed.relayed,
                        contents: &relayed.contents,
                    };
                    self.receive_secured(now, inner);
                }
            }
            Some(20..=63 | 128..=191) => self.receive_secured(now, datagram),
            _ => tracing::trace!(len = datagram.contents.len(), "datagram not demultiplexed"),
        }
        self.drive(now);
    }

    /// DTLS (20..=63) or SRTP/SRTCP (128..=191), taken only from a remote address ICE has
    /// validated.
    fn receive_secured(&mut self, now: Instant, datagram: Datagram<'_>) {
        let first = datagram.contents.first().copied();
        if !self.validated(datagram.destination, datagram.source) {
            if matches!(first, Some(128..=191)) {
                self.media_counters.dropped_unkeyed += 1;
            }
            tracing::trace!(
                len = datagram.contents.len(),
                "datagram from an unvalidated path"
            );
            return;
        }
        match first {
            Some(20..=63) => self.receive_dtls(now, datagram),
            Some(128..=191) => self.receive_media(now, datagram),
            _ => tracing::trace!(len = datagram.contents.len(), "datagram not demultiplexed"),
        }
    }

    /// SRTP or SRTCP: unprotected with the keys DTLS gave, taken into the RTP session (RTX
    /// turned back into the packet it repairs, NACKs answered) and delivered as
    /// [`CoreEvent::Media`].
    fn receive_media(&mut self, now: Instant, datagram: Datagram<'_>) {
        let Some(srtp) = self.srtp.as_mut().and_then(srtp::LazySrtp::session) else {
            self.media_counters.dropped_unkeyed += 1;
            return;
        };
        self.traffic.received(
            datagram.destination,
            datagram.source,
            datagram.contents.len(),
        );
        let packet = match srtp.unprotect(datagram.contents, &mut self.media_counters) {
            Some(MediaPacket::Rtp(rtp)) => {
                let Ok(header) = RtpHeader::parse(&rtp) else {
                    self.media_counters.unprotect_failed += 1;
                    return;
                };
                self.rtp.arrived(&header, now);
                let rtp = match self.rtp.unwrap_repair(&header, &rtp) {
                    Ok(None) => {
                        self.rtp.received_rtp(&header, now);
                        rtp
                    }
                    Ok(Some(original)) => {
                        // Delivered only where it fills a hole: the original may have come
                        // late, and RTX has its own sequence numbers, so SRTP's replay check
                        // does not see the duplicate.
                        let repaired = RtpHeader::parse(&original)
                            .ok()
                            .filter(|header| self.rtp.fills_a_hole(header));
                        let Some(repaired) = repaired else {
                            self.media_counters.repair_dropped += 1;
                            return;
                        };
                        self.rtp.received_rtp(&repaired, now);
                        self.media_counters.repaired += 1;
                        original
                    }
                    // RTX padding (bandwidth probing): nothing to deliver.
                    Err(()) => {
                        self.media_counters.repair_dropped += 1;
                        return;
                    }
                };
                MediaPacket::Rtp(rtp)
            }
            Some(MediaPacket::Rtcp(rtcp)) => {
                let outcome = self.rtp.received_rtcp(&rtcp, now);
                for resend in outcome.resend {
                    self.queue_media(now, &MediaPacket::Rtp(resend));
                }
                self.events
                    .extend(outcome.congestion.into_iter().map(CoreEvent::Congestion));
                MediaPacket::Rtcp(rtcp)
            }
            None => return,
        };
        self.events.push_back(CoreEvent::Media(packet));
    }

    /// Protects and queues what the RTP session sends on its own (reports, NACKs,
    /// retransmissions); dropped when the queue is full, as media is.
    fn queue_media(&mut self, now: Instant, packet: &MediaPacket) {
        let Some(srtp) = self.srtp.as_mut().and_then(srtp::LazySrtp::session) else {
            return;
        };
        if self.media_out.len() >= MEDIA_QUEUE {
            return;
        }
        let stamped;
        let packet = match packet {
            MediaPacket::Rtp(rtp) => {
                stamped = MediaPacket::Rtp(self.rtp.stamp(rtp, now));
                &stamped
            }
            MediaPacket::Rtcp(_) => packet,
        };
        if let Ok(protected) = srtp.protect(packet, &mut self.media_counters) {
            self.media_out.push_back(protected);
        }
    }

    /// DTLS records to the association.
    fn receive_dtls(&mut self, now: Instant, datagram: Datagram<'_>) {
        if let Some(secure) = self.secure.as_mut() {
            self.traffic.received(
                datagram.destination,
                datagram.source,
                datagram.contents.len(),
            );
            secure.handle_datagram(now, datagram.contents);
        }
    }

    /// The stream to a TURN server the agent allocates through (from `local`) failed.
    pub fn relay_connection_failed(&mut self, now: Instant, local: SocketAddr, reason: &str) {
        self.agent.relay_connection_failed(now, local, reason);
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
        if self.srtp.is_some() && self.rtp.poll_timeout().is_some_and(|due| due <= now) {
            let output = self.rtp.handle_timeout(now);
            for rtcp in output.rtcp {
                self.queue_media(now, &MediaPacket::Rtcp(rtcp));
            }
            for rtp in output.rtp {
                self.queue_media(now, &MediaPacket::Rtp(rtp));
            }
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
            self.srtp.as_ref().and(self.rtp.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send: ICE's first, then DTLS records on the selected pair (on a
    /// relayed pair, wrapped for the TURN server by the agent).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        loop {
            if let Some(transmit) = self.agent.poll_transmit() {
                return Some(transmit);
            }
            let (source, destination) = self.selected?;
            let contents = match self
                .secure
                .as_mut()
                .and_then(SecureTransport::poll_transmit)
            {
                Some(record) => record.to_vec(),
                None => self.media_out.pop_front()?,
            };
            self.traffic.sent(source, destination, contents.len());
            let transmit = Transmit {
                source,
                destination,
                contents,
            };
            if let Some(direct) = self.agent.route(transmit) {
                return Some(direct);
            }
        }
    }

    /// The next event (also those that channel calls through [`secure`](Self::secure)
    /// produced since).
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        let next = self.events.pop_front();
        self.events.shrink_when_drained();
        next.or_else(|| self.secure.as_mut()?.poll_event())
    }

    /// Protects an RTP packet or RTCP compound and queues it for the selected pair.
    ///
    /// Refused when closed, before DTLS is connected and a pair selected (no keys, no path),
    /// when [`MEDIA_QUEUE`] datagrams wait already, or when the bytes are not RTP/RTCP.
    ///
    /// RTP goes into the session's statistics and retransmission history (answered from there
    /// when the peer NACKs it).
    pub fn send_media(&mut self, now: Instant, packet: &MediaPacket) -> Result<(), MediaError> {
        if self.closed {
            return Err(MediaError::Closed);
        }
        let Some(srtp) = self
            .srtp
            .as_mut()
            .filter(|_| self.selected.is_some())
            .and_then(srtp::LazySrtp::session)
        else {
            return Err(MediaError::NotKeyed);
        };
        if self.media_out.len() >= MEDIA_QUEUE {
            return Err(MediaError::QueueFull);
        }
        let MediaPacket::Rtp(rtp) = packet else {
            let protected = srtp.protect(packet, &mut self.media_counters)?;
            self.media_out.push_back(protected);
            return Ok(());
        };
        // Numbered transport-wide (TWCC) when negotiated; what is not RTP takes no number.
        let stamped = self.rtp.stamp(rtp, now);
        let header = RtpHeader::parse(&stamped).map_err(|_| MediaError::Malformed)?;
        let protected =
            srtp.protect(&MediaPacket::Rtp(stamped.clone()), &mut self.media_counters)?;
        self.media_out.push_back(protected);
        self.rtp.sent_rtp(&header, &stamped, now);
        Ok(())
    }

    /// Sends RTCP feedback (a PLI, a NACK) from our stream `sender`: alone when reduced-size
    /// RTCP was negotiated, else after an empty receiver report (RFC 3550 §6.1).
    pub fn send_feedback(
        &mut self,
        now: Instant,
        sender: u32,
        feedback: &[u8],
    ) -> Result<(), MediaError> {
        let packet = MediaPacket::Rtcp(self.rtp.feedback(sender, feedback));
        self.send_media(now, &packet)
    }

    /// What the descriptions say about this transport's RTP: clock rates, RTX both ways.
    pub fn set_rtp_parameters(&mut self, parameters: RtpParameters) {
        self.rtp.set_parameters(parameters);
    }

    /// The wall clock at `now` (time since the Unix epoch), for the NTP times of sender
    /// reports; without it they count from the first report (round trips still measure).
    pub fn set_wall_clock(&mut self, now: Instant, since_unix: std::time::Duration) {
        self.rtp.set_wall_clock(now, since_unix);
    }

    /// Every incoming RTP stream's figures, by SSRC.
    pub fn inbound_rtp(&self) -> Vec<(u32, ReceiveSnapshot)> {
        self.rtp.inbound()
    }

    /// Every outgoing RTP stream's figures, by SSRC.
    pub fn outbound_rtp(&self) -> Vec<(u32, SendSnapshot)> {
        self.rtp.outbound()
    }

    /// What the media side counted: packets and bytes each way, replays, failures.
    pub fn media_counters(&self) -> MediaCounters {
        self.media_counters
    }

    /// The SRTP profile in use, once DTLS is connected.
    pub fn srtp_profile(&self) -> Option<antiphon_dtls::SrtpProfile> {
        self.srtp.as_ref().map(srtp::LazySrtp::profile)
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
        self.srtp = None;
        self.media_out.clear();
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
            let role = secure.role();
            while let Some(event) = secure.poll_event() {
                if let CoreEvent::DtlsConnected(connected) = &event {
                    let keys = connected.keying_material.clone();
                    self.srtp = Some(srtp::LazySrtp::new(role, keys));
                }
                self.events.push_back(event);
            }
        }
    }
}
