//! DTLS and the data channels over it, as one sans-IO state machine: DTLS datagrams and time
//! in; DTLS datagrams, events and the next deadline out. Which path carries the datagrams is
//! the caller's business: [`ConnectionCore`](super::ConnectionCore) puts an ICE agent under it
//! (in the simulator and in the connection task), `SctpTransport::connect`'s task a connected
//! UDP socket.

use std::collections::VecDeque;
use std::time::Instant;

use antiphon_dtls::{DtlsConfig, DtlsConnection, DtlsEvent, DtlsParameters, DtlsRole};
use antiphon_types::queue::ShrinkWhenDrained;
use bytes::Bytes;

use super::CoreEvent;
use super::channels::{ChannelError, SctpChannels};
use crate::data_channel::{DataChannelMessage, RTCDataChannelInit};
use crate::sctp::SctpParameters;

/// DTLS plus (when a data section was negotiated) SCTP, under whatever path ICE selected (see
/// the [core](crate::core)).
#[derive(Debug)]
pub struct SecureTransport {
    config: DtlsConfig,
    parameters: DtlsParameters,
    dtls: Option<DtlsConnection>,
    channels: Option<SctpChannels>,
    events: VecDeque<CoreEvent>,
    transmits: VecDeque<Bytes>,
    closed: bool,
}

impl SecureTransport {
    /// A transport in which we are `parameters.role`, carrying data channels when `sctp` is
    /// given. A DTLS server is ready for the client's hello at once; a client starts its
    /// handshake at [`path_ready`](Self::path_ready).
    pub fn new(
        now: Instant,
        config: DtlsConfig,
        parameters: DtlsParameters,
        sctp: Option<SctpParameters>,
    ) -> Result<Self, antiphon_dtls::DtlsError> {
        let dtls = match parameters.role {
            DtlsRole::Server => Some(DtlsConnection::new(now, &config, parameters.clone())?),
            DtlsRole::Client => None,
        };
        let channels = sctp.map(|sctp| SctpChannels::new(parameters.role, sctp));
        let mut transport = Self {
            config,
            parameters,
            dtls,
            channels,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            closed: false,
        };
        transport.drive(now);
        Ok(transport)
    }

    /// Our side of the DTLS handshake.
    pub fn role(&self) -> DtlsRole {
        self.parameters.role
    }

    /// The SCTP parameters, when data channels run (or will, once DTLS is up).
    pub fn sctp_parameters(&self) -> Option<SctpParameters> {
        self.channels.as_ref().map(SctpChannels::parameters)
    }

    /// A path to the peer exists (ICE selected a pair): a DTLS client sends its hello.
    pub fn path_ready(&mut self, now: Instant) {
        if self.dtls.is_some() || self.closed {
            return;
        }
        match DtlsConnection::new(now, &self.config, self.parameters.clone()) {
            Ok(dtls) => self.dtls = Some(dtls),
            // Checked by `new`; only a certificate that expired meanwhile gets here.
            Err(error) => self.events.push_back(CoreEvent::DtlsFailed(error)),
        }
        self.drive(now);
    }

    /// A data section negotiated after the transport started: SCTP runs too, starting now if
    /// DTLS is already up. Nothing happens when SCTP already runs.
    pub fn add_sctp(&mut self, now: Instant, sctp: SctpParameters) {
        if self.channels.is_some() || self.closed {
            return;
        }
        let mut channels = SctpChannels::new(self.parameters.role, sctp);
        if self
            .dtls
            .as_ref()
            .is_some_and(|dtls| dtls.state() == antiphon_dtls::DtlsTransportState::Connected)
            && let Err(error) = channels.start(now)
        {
            tracing::warn!(%error, "SCTP could not start");
        }
        self.channels = Some(channels);
        self.drive(now);
    }

    /// Takes in one DTLS datagram.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        if let Some(dtls) = self.dtls.as_mut()
            && let Err(error) = dtls.handle_receive(now, datagram)
        {
            tracing::debug!(%error, "DTLS datagram refused");
        }
        self.drive(now);
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(dtls) = self.dtls.as_mut() {
            dtls.handle_timeout(now);
        }
        if let Some(channels) = self.channels.as_mut() {
            channels.handle_timeout(now);
        }
        self.drive(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.dtls.as_ref().and_then(DtlsConnection::poll_timeout),
            self.channels.as_ref().and_then(SctpChannels::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next DTLS datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        let next = self.transmits.pop_front();
        self.transmits.shrink_when_drained();
        next
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        let next = self.events.pop_front();
        self.events.shrink_when_drained();
        next
    }

    /// Opens a data channel (see [`SctpChannels::open`]).
    pub fn open_channel(
        &mut self,
        now: Instant,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<u16, ChannelError> {
        let id = self.channels()?.open(now, label, init)?;
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
        self.channels()?.send(now, id, message)?;
        self.drive(now);
        Ok(())
    }

    /// The next message waiting on channel `id` (after [`ChannelEvent::Readable`](super::ChannelEvent::Readable)).
    pub fn receive(&mut self, now: Instant, id: u16) -> Option<DataChannelMessage> {
        let message = self.channels.as_mut()?.receive(now, id);
        self.drive(now);
        message
    }

    /// Closes channel `id`.
    pub fn close_channel(&mut self, now: Instant, id: u16) -> Result<(), ChannelError> {
        self.channels()?.close_channel(now, id)?;
        self.drive(now);
        Ok(())
    }

    /// `bufferedAmount` of channel `id`.
    pub fn buffered_amount(&mut self, id: u16) -> usize {
        self.channels
            .as_mut()
            .map_or(0, |channels| channels.buffered_amount(id))
    }

    /// Sets `bufferedAmountLowThreshold` of channel `id`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: u16,
        threshold: usize,
    ) -> Result<(), ChannelError> {
        self.channels()?
            .set_buffered_amount_low_threshold(id, threshold)
    }

    /// SCTP shutdown and DTLS close_notify, queued for [`poll_transmit`](Self::poll_transmit).
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
        self.closed = true;
    }

    fn channels(&mut self) -> Result<&mut SctpChannels, ChannelError> {
        self.channels.as_mut().ok_or(ChannelError::Closed)
    }

    /// Moves what each layer produced to the other until nothing moves.
    fn drive(&mut self, now: Instant) {
        while self.collect_dtls(now) | self.collect_channels(now) {}
    }

    fn collect_dtls(&mut self, now: Instant) -> bool {
        let Some(dtls) = self.dtls.as_mut() else {
            return false;
        };
        let mut moved = false;
        while let Some(record) = dtls.poll_transmit() {
            moved = true;
            self.transmits.push_back(record);
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
