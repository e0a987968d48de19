//! Data channels as a sans-IO state machine: the SCTP association (webrtc-rs's sans-IO
//! `rtc-sctp`) carried in DTLS records, DCEP on top, one SCTP stream per channel.
//!
//! Input: SCTP packets from DTLS ([`SctpChannels::handle_receive`]), the time
//! ([`SctpChannels::handle_timeout`]) and commands (open, send, close). Output: SCTP packets to
//! encrypt ([`SctpChannels::poll_transmit`]), [`ChannelEvent`]s and the next deadline. The
//! DTLS client starts the association and takes the even stream ids, the server the odd ones
//! (RFC 8832 §6).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Instant;

use antiphon_dtls::DtlsRole;
use bytes::Bytes;
use rtc_sctp::{
    Association, AssociationHandle, ClientConfig, DatagramEvent, Endpoint, EndpointConfig, Payload,
    PayloadProtocolIdentifier as Ppi, ReliabilityType, ServerConfig, TimerConfig, TransportConfig,
};

mod incoming;

use super::dcep::{Message, Open, Reliability};
use crate::data_channel::{DataChannelMessage, RTCDataChannelInit};
use crate::sctp::SctpParameters;

/// The placeholder addresses of the one association (the stack keys associations by address;
/// the path is the ICE layer's).
const LOCAL: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1));
const REMOTE: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2));

/// The largest SCTP packet we send: one DTLS record (13-byte header, 8-byte explicit nonce and
/// 16-byte tag with AES-GCM) must fit the DTLS MTU, so a datagram never exceeds it.
const SCTP_MTU: u32 = antiphon_dtls::DEFAULT_DTLS_MTU as u32 - 37;

/// Retransmit INIT, COOKIE-ECHO, DATA and RE-CONFIG for as long as the association lives, as
/// Chromium's SCTP does for WebRTC: whether the peer is still there is ICE consent's call
/// (RFC 7675), not SCTP's. rtc-sctp's defaults give up after 5 DATA retransmissions and then
/// stop its T3-rtx timer without failing anything: the association stalled for good with data
/// queued (seen in `tests/core_simulated.rs` under 30% loss).
const RETRANSMIT_FOREVER: TimerConfig = TimerConfig {
    max_t1_init_retrans: usize::MAX,
    max_t1_cookie_retrans: usize::MAX,
    max_t2_shutdown_retrans: usize::MAX,
    max_t3_rtx_retrans: usize::MAX,
    max_reconfig_retrans: usize::MAX,
    max_ack_retrans: usize::MAX,
};

/// What [`SctpChannels`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelEvent {
    /// The SCTP association is up; channels opened before now are open too.
    Connected,
    /// A channel is open: one we opened (reported once the association is up) or one the
    /// remote opened with DCEP (the `datachannel` event).
    Opened {
        /// The SCTP stream id.
        id: u16,
        /// The label.
        label: String,
        /// Its options (for a remote channel, as its OPEN described them).
        init: RTCDataChannelInit,
        /// Whether the remote opened it.
        remote: bool,
    },
    /// Messages wait on channel `id`: take them with [`SctpChannels::receive`].
    Readable {
        /// The channel.
        id: u16,
    },
    /// What channel `id` still has to send fell to its low threshold.
    BufferedAmountLow {
        /// The channel.
        id: u16,
    },
    /// Channel `id` is closed (by either side, or with the association).
    Closed {
        /// The channel.
        id: u16,
    },
    /// The association ended (the peer aborted or shut it down, or it timed out).
    AssociationClosed,
}

/// Why a data channel command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelError {
    /// No channel has this id (never opened, or already closed).
    UnknownChannel(u16),
    /// A channel with this id exists already.
    IdInUse(u16),
    /// Every stream id of our parity is taken.
    NoFreeStreamId,
    /// The message is larger than the remote's `a=max-message-size`.
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The remote's limit.
        limit: u64,
    },
    /// The association is closed.
    Closed,
    /// The options are contradictory (both `maxRetransmits` and `maxPacketLifeTime`).
    InvalidReliability,
    /// The label or protocol is longer than 65,535 bytes.
    TooLong,
    /// The SCTP stack refused the operation (its own error, described).
    Sctp(String),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownChannel(id) => write!(f, "no open data channel has id {id}"),
            Self::IdInUse(id) => write!(f, "data channel id {id} is in use"),
            Self::NoFreeStreamId => f.write_str("no free SCTP stream id"),
            Self::MessageTooLarge { size, limit } => {
                write!(
                    f,
                    "a {size}-byte message exceeds the remote limit of {limit}"
                )
            }
            Self::Closed => f.write_str("the SCTP association is closed"),
            Self::InvalidReliability => {
                f.write_str("maxRetransmits and maxPacketLifeTime are exclusive")
            }
            Self::TooLong => f.write_str("label or protocol longer than 65,535 bytes"),
            Self::Sctp(description) => write!(f, "SCTP: {description}"),
        }
    }
}

impl std::error::Error for ChannelError {}

fn stack_error(error: impl fmt::Display) -> ChannelError {
    ChannelError::Sctp(error.to_string())
}

/// One channel's bookkeeping.
#[derive(Debug)]
struct Channel {
    label: String,
    init: RTCDataChannelInit,
    /// We opened it with DCEP and the ACK has not come: send ordered until it does
    /// (RFC 8832 §6).
    awaiting_ack: bool,
    /// `Opened` was reported.
    announced: bool,
    /// We reset our outgoing stream (`close()` was called).
    closing: bool,
}

/// The data channels of one connection (see the [`channels`](crate::core) part of the core).
pub struct SctpChannels {
    endpoint: Endpoint,
    association: Option<(AssociationHandle, Association)>,
    /// Server side: associations from INITs the client sent again while the first was still
    /// in its handshake.
    handshaking: Vec<(AssociationHandle, Association)>,
    transport: TransportConfig,
    role: DtlsRole,
    parameters: SctpParameters,
    started: bool,
    connected: bool,
    closed: bool,
    channels: BTreeMap<u16, Channel>,
    /// Streams that became readable before the association was up.
    unread: BTreeSet<u16>,
    events: VecDeque<ChannelEvent>,
    transmits: VecDeque<Bytes>,
}

impl SctpChannels {
    /// Data channels over a DTLS session in which we are `role`. Nothing is sent until
    /// [`start`](Self::start); channels may be opened before.
    pub fn new(role: DtlsRole, parameters: SctpParameters) -> Self {
        // rtc-sctp's `max_message_size` bounds what we send: the remote's limit (0 = none).
        // What we accept is checked as messages are read.
        let send_limit = match parameters.remote_max_message_size {
            0 => u32::MAX,
            limit => u32::try_from(limit).unwrap_or(u32::MAX),
        };
        let transport = TransportConfig::default()
            .with_sctp_port(parameters.local_port)
            .with_max_message_size(send_limit)
            .with_timer_config(RETRANSMIT_FOREVER);
        let server =
            (role == DtlsRole::Server).then(|| Arc::new(ServerConfig::new(transport.clone())));
        let mut endpoint_config = EndpointConfig::new();
        endpoint_config.max_payload_size(rtc_sctp::max_payload_size_for_mtu(SCTP_MTU));
        Self {
            endpoint: Endpoint::new(
                LOCAL,
                rtc_shared::TransportProtocol::UDP,
                Arc::new(endpoint_config),
                server,
            ),
            association: None,
            handshaking: Vec::new(),
            transport,
            role,
            parameters,
            started: false,
            connected: false,
            closed: false,
            channels: BTreeMap::new(),
            unread: BTreeSet::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
        }
    }

    /// Starts the association at `now`, once DTLS is connected: the client sends INIT, the
    /// server answers the client's.
    pub fn start(&mut self, now: Instant) -> Result<(), ChannelError> {
        if self.started || self.closed {
            return Ok(());
        }
        self.started = true;
        if self.role == DtlsRole::Client {
            let client = ClientConfig::new(self.transport.clone());
            self.association = Some(
                self.endpoint
                    .connect(now, client, REMOTE)
                    .map_err(stack_error)?,
            );
        }
        self.flush(now);
        Ok(())
    }

    /// The parameters the descriptions negotiated.
    pub fn parameters(&self) -> SctpParameters {
        self.parameters
    }

    /// Whether the association is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Takes in one SCTP packet (the payload of a DTLS application-data record).
    pub fn handle_receive(&mut self, now: Instant, packet: Bytes) {
        if self.closed || !self.started {
            return;
        }
        if let Some((handle, event)) = self.endpoint.handle(now, REMOTE, None, packet) {
            match event {
                DatagramEvent::NewAssociation(association) => match &self.association {
                    None => self.association = Some((handle, association)),
                    // The client sent INIT again (our INIT-ACK was lost): it may go on with
                    // either; whichever connects first is the one.
                    Some((_, current)) if current.is_handshaking() => {
                        self.handshaking.push((handle, association));
                    }
                    Some(_) => tracing::debug!("INIT after the association is up ignored"),
                },
                DatagramEvent::AssociationEvent(event) => self.route(handle, event),
                _ => {}
            }
        }
        self.flush(now);
    }

    /// Hands `event` to the association it is for; one of several still handshaking that
    /// connects becomes the association.
    fn route(&mut self, handle: AssociationHandle, event: rtc_sctp::AssociationEvent) {
        if let Some((current, association)) = self.association.as_mut()
            && *current == handle
        {
            association.handle_event(event);
            return;
        }
        let Some(index) = self.handshaking.iter().position(|(h, _)| *h == handle) else {
            return;
        };
        self.handshaking[index].1.handle_event(event);
        if !self.handshaking[index].1.is_handshaking() {
            let connected = self.handshaking.swap_remove(index);
            self.association = Some(connected);
            self.handshaking.clear();
        }
    }

    /// Runs the association's timers due at `now` (retransmissions, heartbeats).
    pub fn handle_timeout(&mut self, now: Instant) {
        for (_, association) in self.association.iter_mut().chain(&mut self.handshaking) {
            association.handle_timeout(now);
        }
        self.flush(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.association
            .iter()
            .chain(&self.handshaking)
            .filter_map(|(_, association)| association.poll_timeout())
            .min()
    }

    /// The next SCTP packet to send (as one DTLS record).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ChannelEvent> {
        self.events.pop_front()
    }

    /// Opens a channel: a free stream id of our parity (or `init.id` when negotiated out of
    /// band), and a DCEP OPEN unless `init.negotiated`. Returns the id. Channels opened before
    /// the association is up are reported open when it comes up.
    pub fn open(
        &mut self,
        now: Instant,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<u16, ChannelError> {
        if self.closed {
            return Err(ChannelError::Closed);
        }
        if init.max_retransmits.is_some() && init.max_packet_life_time.is_some() {
            return Err(ChannelError::InvalidReliability);
        }
        if label.len() > usize::from(u16::MAX) || init.protocol.len() > usize::from(u16::MAX) {
            return Err(ChannelError::TooLong);
        }
        let id = match init.id {
            Some(id) => id,
            None => self.free_id()?,
        };
        if self.channels.contains_key(&id) {
            return Err(ChannelError::IdInUse(id));
        }
        let channel = Channel {
            label: label.to_owned(),
            awaiting_ack: !init.negotiated,
            init: RTCDataChannelInit {
                id: Some(id),
                ..init
            },
            announced: false,
            closing: false,
        };
        self.channels.insert(id, channel);
        if self.connected {
            self.start_channel(now, id)?;
            self.flush(now);
        }
        Ok(id)
    }

    /// Sends one message on channel `id`.
    pub fn send(
        &mut self,
        now: Instant,
        id: u16,
        message: &DataChannelMessage,
    ) -> Result<(), ChannelError> {
        let limit = self.parameters.remote_max_message_size;
        if limit != 0 && message.data.len() as u64 > limit {
            return Err(ChannelError::MessageTooLarge {
                size: message.data.len(),
                limit,
            });
        }
        let channel = self
            .channels
            .get(&id)
            .filter(|channel| !channel.closing)
            .ok_or(ChannelError::UnknownChannel(id))?;
        if !self.connected || !channel.announced {
            return Err(ChannelError::Closed);
        }
        let (ppi, payload) = match (message.is_string, message.data.is_empty()) {
            (true, false) => (Ppi::String, message.data.clone()),
            (false, false) => (Ppi::Binary, message.data.clone()),
            // SCTP cannot carry an empty message: one zero byte with the "empty" PPI.
            (true, true) => (Ppi::StringEmpty, Bytes::from_static(&[0])),
            (false, true) => (Ppi::BinaryEmpty, Bytes::from_static(&[0])),
        };
        self.write(now, id, ppi, &payload)?;
        self.flush(now);
        Ok(())
    }

    /// Closes channel `id`: resets its outgoing stream (RFC 8831 §6.7). `Closed` follows when
    /// the remote resets its side.
    pub fn close_channel(&mut self, now: Instant, id: u16) -> Result<(), ChannelError> {
        let channel = self
            .channels
            .get_mut(&id)
            .ok_or(ChannelError::UnknownChannel(id))?;
        if channel.closing {
            return Ok(());
        }
        channel.closing = true;
        let started = channel.announced;
        if let Some((_, association)) = self.association.as_mut()
            && started
        {
            association
                .stream(id)
                .and_then(|mut stream| stream.close(now))
                .map_err(stack_error)?;
        } else {
            self.channels.remove(&id);
            self.events.push_back(ChannelEvent::Closed { id });
        }
        self.flush(now);
        Ok(())
    }

    /// Bytes queued on channel `id` and not yet acknowledged (`bufferedAmount`).
    pub fn buffered_amount(&mut self, id: u16) -> usize {
        self.association
            .as_mut()
            .and_then(|(_, association)| association.stream(id).ok())
            .and_then(|stream| stream.buffered_amount().ok())
            .unwrap_or(0)
    }

    /// Sets `bufferedAmountLowThreshold` of channel `id`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: u16,
        threshold: usize,
    ) -> Result<(), ChannelError> {
        let (_, association) = self.association.as_mut().ok_or(ChannelError::Closed)?;
        association
            .stream(id)
            .and_then(|mut stream| stream.set_buffered_amount_low_threshold(threshold))
            .map_err(|_| ChannelError::UnknownChannel(id))
    }

    /// Shuts the association down gracefully (SHUTDOWN); every channel closes.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some((_, association)) = self.association.as_mut() {
            // Best effort: an association still in its handshake has nothing to shut down.
            let _ = association.shutdown();
        }
        self.flush(now);
        self.end();
    }

    /// The lowest free stream id of our parity.
    fn free_id(&self) -> Result<u16, ChannelError> {
        (0..u16::MAX)
            .filter(|&id| opens(self.role, id))
            .find(|id| !self.channels.contains_key(id))
            .ok_or(ChannelError::NoFreeStreamId)
    }

    /// Opens channel `id`'s stream, sends its OPEN (unless negotiated), reports it open.
    fn start_channel(&mut self, now: Instant, id: u16) -> Result<(), ChannelError> {
        let Some(channel) = self.channels.get_mut(&id) else {
            return Ok(());
        };
        let (label, init, awaiting_ack) = (
            channel.label.clone(),
            channel.init.clone(),
            channel.awaiting_ack,
        );
        channel.announced = true;
        let (_, association) = self.association.as_mut().ok_or(ChannelError::Closed)?;
        let mut stream = association
            .open_stream(id, Ppi::Binary)
            .map_err(stack_error)?;
        if awaiting_ack {
            // Ordered and reliable until the ACK (RFC 8832 §6).
            stream
                .set_reliability_params(false, ReliabilityType::Reliable, 0)
                .map_err(stack_error)?;
            let open = Message::Open(Open::from_init(&label, &init)).to_bytes();
            stream
                .write_sctp(now, &Bytes::from(open), Ppi::Dcep)
                .map_err(stack_error)?;
        } else {
            apply_reliability(&mut stream, &init)?;
        }
        self.events.push_back(ChannelEvent::Opened {
            id,
            label,
            init,
            remote: false,
        });
        Ok(())
    }

    fn write(
        &mut self,
        now: Instant,
        id: u16,
        ppi: Ppi,
        payload: &Bytes,
    ) -> Result<(), ChannelError> {
        let (_, association) = self.association.as_mut().ok_or(ChannelError::Closed)?;
        association
            .stream(id)
            .and_then(|mut stream| stream.write_sctp(now, payload, ppi))
            .map(drop)
            .map_err(stack_error)
    }

    /// Moves everything the association produced into our queues, then sends.
    fn flush(&mut self, now: Instant) {
        while let Some(event) = self
            .association
            .as_mut()
            .and_then(|(_, association)| association.poll())
        {
            self.on_event(now, event);
        }
        if self
            .association
            .as_ref()
            .is_some_and(|(_, association)| !association.is_handshaking())
        {
            self.handshaking.clear();
        }
        for (handle, association) in self.association.iter_mut().chain(&mut self.handshaking) {
            while let Some(event) = association.poll_endpoint_event() {
                self.endpoint.handle_event(*handle, event);
            }
            while let Some(transmit) = association.poll_transmit(now) {
                if let Payload::RawEncode(packets) = transmit.message {
                    self.transmits.extend(packets);
                }
            }
        }
    }
}

impl fmt::Debug for SctpChannels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SctpChannels")
            .field("role", &self.role)
            .field("connected", &self.connected)
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

/// Whether `role` opens stream `id` with DCEP: the DTLS client the even ids, the server the
/// odd ones (RFC 8832 §6).
fn opens(role: DtlsRole, id: u16) -> bool {
    id.is_multiple_of(2) == (role == DtlsRole::Client)
}

fn apply_reliability(
    stream: &mut rtc_sctp::Stream<'_>,
    init: &RTCDataChannelInit,
) -> Result<(), ChannelError> {
    let (kind, value) = match Reliability::of(init) {
        Reliability::Reliable => (ReliabilityType::Reliable, 0),
        Reliability::Retransmits(n) => (ReliabilityType::Rexmit, n),
        Reliability::Lifetime(ms) => (ReliabilityType::Timed, ms),
    };
    stream
        .set_reliability_params(!init.ordered, kind, value)
        .map_err(stack_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client and a server with the same parameters, not started.
    fn pair() -> (SctpChannels, SctpChannels) {
        let parameters = SctpParameters {
            local_port: 5000,
            remote_port: 5000,
            local_max_message_size: 262_144,
            remote_max_message_size: 262_144,
        };
        (
            SctpChannels::new(DtlsRole::Client, parameters),
            SctpChannels::new(DtlsRole::Server, parameters),
        )
    }

    #[test]
    fn stream_ids_follow_the_dtls_role() {
        let now = Instant::now();
        let (mut client, mut server) = pair();
        let init = RTCDataChannelInit::default;
        assert_eq!(client.open(now, "a", init()), Ok(0));
        assert_eq!(client.open(now, "b", init()), Ok(2));
        assert_eq!(server.open(now, "c", init()), Ok(1));
        let negotiated = RTCDataChannelInit {
            negotiated: true,
            id: Some(2),
            ..init()
        };
        assert_eq!(
            client.open(now, "d", negotiated),
            Err(ChannelError::IdInUse(2))
        );
        let contradictory = RTCDataChannelInit {
            max_retransmits: Some(1),
            max_packet_life_time: Some(1),
            ..init()
        };
        assert_eq!(
            client.open(now, "e", contradictory),
            Err(ChannelError::InvalidReliability)
        );
        // Nothing before start; then the client's INIT is ready at once, the server waits.
        assert!(client.poll_transmit().is_none());
        client.start(now).expect("start");
        server.start(now).expect("start");
        assert!(client.poll_transmit().is_some());
        assert!(server.poll_transmit().is_none());
    }

    /// Moves every packet `from` has queued to `to`.
    fn deliver(now: Instant, from: &mut SctpChannels, to: &mut SctpChannels) -> bool {
        let mut moved = false;
        while let Some(packet) = from.poll_transmit() {
            to.handle_receive(now, packet);
            moved = true;
        }
        moved
    }

    fn events(channels: &mut SctpChannels) -> Vec<ChannelEvent> {
        std::iter::from_fn(|| channels.poll_event()).collect()
    }

    #[test]
    fn a_reset_is_not_held_up_by_data_on_a_stream_we_closed() {
        // The server opens a channel and closes it before the client's DCEP ACK arrives: the
        // ACK lands on a stream whose read half is stopped, and the client's reset of its side
        // must still close the channel (rtc-sctp deferred it for ever: third_party/rtc-sctp).
        let now = Instant::now();
        let (mut client, mut server) = pair();
        client.start(now).expect("start");
        server.start(now).expect("start");
        while deliver(now, &mut client, &mut server) | deliver(now, &mut server, &mut client) {}
        assert!(client.is_connected() && server.is_connected());
        events(&mut client);
        events(&mut server);

        let id = server
            .open(now, "chat", RTCDataChannelInit::default())
            .expect("open");
        // The OPEN reaches the client, which answers with the ACK; the ACK is held back.
        deliver(now, &mut server, &mut client);
        assert!(
            events(&mut client)
                .iter()
                .any(|e| matches!(e, ChannelEvent::Opened { remote: true, .. }))
        );
        let held: Vec<Bytes> = std::iter::from_fn(|| client.poll_transmit()).collect();
        assert!(!held.is_empty(), "the client answered the OPEN");
        server.close_channel(now, id).expect("close");
        for packet in held {
            server.handle_receive(now, packet);
        }
        while deliver(now, &mut server, &mut client) | deliver(now, &mut client, &mut server) {}
        let closed = |events: Vec<ChannelEvent>| {
            events
                .iter()
                .any(|e| matches!(e, ChannelEvent::Closed { id: closed } if *closed == id))
        };
        assert!(closed(events(&mut client)), "the client's channel closed");
        assert!(closed(events(&mut server)), "the server's channel closed");
    }

    /// CRC-32C (Castagnoli, reflected), as SCTP checksums a packet.
    fn crc32c(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn an_error_cause_longer_than_its_chunk_is_dropped_not_a_panic() {
        // Found by the sctp_channels fuzz campaign: rtc-sctp sliced an ERROR chunk's cause by
        // the length the cause claims, past the end of the packet (third_party/rtc-sctp).
        let now = Instant::now();
        let (mut client, mut server) = pair();
        client.start(now).expect("start");
        server.start(now).expect("start");
        let mut to_server = None;
        loop {
            let mut moved = false;
            while let Some(packet) = client.poll_transmit() {
                to_server = Some(packet.clone());
                server.handle_receive(now, packet);
                moved = true;
            }
            moved |= deliver(now, &mut server, &mut client);
            if !moved {
                break;
            }
        }
        assert!(client.is_connected() && server.is_connected());
        // The verification tag the server expects, from a packet the client sent it.
        let tag = to_server.expect("the client spoke").slice(4..8);
        let mut packet = vec![0x13, 0x88, 0x13, 0x88];
        packet.extend_from_slice(&tag);
        packet.extend_from_slice(&[0; 4]);
        // ERROR chunk of 8 bytes holding one cause that claims 0x7171 bytes.
        packet.extend_from_slice(&[9, 0, 0, 8, 0, 1, 0x71, 0x71]);
        let checksum = crc32c(&packet);
        packet[8..12].copy_from_slice(&checksum.to_le_bytes());
        server.handle_receive(now, Bytes::from(packet));

        // The association goes on: a channel the server opens reaches the client.
        server
            .open(now, "after", RTCDataChannelInit::default())
            .expect("open");
        events(&mut client);
        while deliver(now, &mut server, &mut client) | deliver(now, &mut client, &mut server) {}
        assert!(
            events(&mut client)
                .iter()
                .any(|e| matches!(e, ChannelEvent::Opened { remote: true, .. }))
        );
    }
}
