//! The incoming side of [`SctpChannels`]: the association's events, DCEP messages, messages
//! pulled by the owner, streams reset by the peer, and the end of the association.

use std::time::Instant;

use bytes::Bytes;
use rtc_sctp::{AssociationError, Event, PayloadProtocolIdentifier as Ppi, StreamEvent};

use super::super::dcep::{Message, Open};
use super::{Channel, ChannelEvent, SctpChannels, apply_reliability, opens};
use crate::data_channel::DataChannelMessage;

impl SctpChannels {
    pub(super) fn on_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Connected => {
                self.connected = true;
                self.events.push_back(ChannelEvent::Connected);
                let waiting: Vec<u16> = self.channels.keys().copied().collect();
                for id in waiting {
                    if let Err(error) = self.start_channel(now, id) {
                        tracing::warn!(id, %error, "data channel could not start");
                    }
                }
                for id in std::mem::take(&mut self.unread) {
                    self.on_readable(now, id);
                }
            }
            // Data can arrive before our side of the handshake ends (the peer's COOKIE-ACK was
            // lost and it is already sending): read it once connected, or the DCEP OPEN it
            // carries would be answered on an association that cannot send yet.
            Event::Stream(StreamEvent::Readable { id }) if !self.connected => {
                self.unread.insert(id);
            }
            Event::Stream(StreamEvent::Readable { id }) => self.on_readable(now, id),
            Event::Stream(StreamEvent::BufferedAmountLow { id })
                if self.channels.contains_key(&id) =>
            {
                self.events
                    .push_back(ChannelEvent::BufferedAmountLow { id });
            }
            Event::AssociationLost { reason, id } => {
                if reason == AssociationError::Reset {
                    self.remote_reset(now, id);
                } else {
                    self.end();
                }
            }
            Event::HandshakeFailed { .. } => self.end(),
            _ => {}
        }
    }

    /// The remote reset stream `id`: the channel is closed; reset ours too if we had not.
    fn remote_reset(&mut self, now: Instant, id: u16) {
        let Some(channel) = self.channels.remove(&id) else {
            return;
        };
        if !channel.closing
            && let Some((_, association)) = self.association.as_mut()
            && let Ok(mut stream) = association.stream(id)
        {
            let _ = stream.close(now);
        }
        self.events.push_back(ChannelEvent::Closed { id });
    }

    /// Stream `id` has messages. On a channel, the owner pulls them with
    /// [`receive`](Self::receive) when it has room (what it leaves unread stays in SCTP's
    /// receive window, slowing the sender). A stream without a channel yet is read here: its
    /// first message should be the DCEP OPEN that makes one.
    fn on_readable(&mut self, now: Instant, id: u16) {
        while !self.channels.contains_key(&id) {
            match self.read_chunk(now, id) {
                Some((Ppi::Dcep, payload)) => self.on_dcep(now, id, &payload),
                Some(_) => tracing::debug!(id, "message on a stream without a channel dropped"),
                None => return,
            }
        }
        self.events.push_back(ChannelEvent::Readable { id });
    }

    /// The next message on channel `id`, if one has arrived. DCEP messages on the stream are
    /// handled on the way.
    pub fn receive(&mut self, now: Instant, id: u16) -> Option<DataChannelMessage> {
        let message = loop {
            match self.read_chunk(now, id) {
                Some((Ppi::Dcep, payload)) => self.on_dcep(now, id, &payload),
                Some((ppi, payload)) => {
                    if let Some(message) = self.on_message(id, ppi, payload) {
                        break Some(message);
                    }
                }
                None => break None,
            }
        };
        // Reading opened the receive window: the SACK that says so may go out.
        self.flush(now);
        message
    }

    /// One whole message from stream `id` with its PPI. Unknown PPIs are dropped; a message
    /// larger than our `a=max-message-size` (a peer that ignored it) closes the channel, as
    /// RFC 8831 §6.6 has a receiver do.
    fn read_chunk(&mut self, now: Instant, id: u16) -> Option<(Ppi, Bytes)> {
        let limit = usize::try_from(self.parameters.local_max_message_size).unwrap_or(usize::MAX);
        loop {
            let (_, association) = self.association.as_mut()?;
            let mut stream = association.stream(id).ok()?;
            let chunks = match stream.read_sctp() {
                Ok(Some(chunks)) => chunks,
                Ok(None) => return None,
                Err(error) => {
                    tracing::debug!(id, %error, "SCTP stream read failed");
                    return None;
                }
            };
            let Ok(payload) = chunks.to_payload(limit.max(1)) else {
                tracing::warn!(
                    id,
                    limit,
                    "channel closed: the remote sent a message larger than our max-message-size"
                );
                if let Err(error) = self.close_channel(now, id) {
                    tracing::debug!(id, %error, "closing after an oversized message");
                }
                return None;
            };
            match chunks.ppi {
                Ppi::Dcep | Ppi::String | Ppi::Binary | Ppi::StringEmpty | Ppi::BinaryEmpty => {
                    return Some((chunks.ppi, payload.freeze()));
                }
                other => tracing::debug!(id, ppi = %other, "message with unknown PPI dropped"),
            }
        }
    }

    fn on_message(&mut self, id: u16, ppi: Ppi, payload: Bytes) -> Option<DataChannelMessage> {
        let Some(channel) = self.channels.get_mut(&id) else {
            tracing::debug!(id, "message on a stream without a channel dropped");
            return None;
        };
        // Any message on a channel we opened means the remote saw our OPEN (RFC 8832 §6).
        channel.awaiting_ack = false;
        let is_string = matches!(ppi, Ppi::String | Ppi::StringEmpty);
        let data = match ppi {
            Ppi::StringEmpty | Ppi::BinaryEmpty => Bytes::new(),
            _ => payload,
        };
        Some(DataChannelMessage { is_string, data })
    }

    fn on_dcep(&mut self, now: Instant, id: u16, payload: &[u8]) {
        match Message::parse(payload) {
            Ok(Message::Ack) => {
                let init = match self.channels.get_mut(&id) {
                    Some(channel) if channel.awaiting_ack => {
                        channel.awaiting_ack = false;
                        channel.init.clone()
                    }
                    _ => return,
                };
                if let Some((_, association)) = self.association.as_mut()
                    && let Ok(mut stream) = association.stream(id)
                    && let Err(error) = apply_reliability(&mut stream, &init)
                {
                    tracing::debug!(id, %error, "reliability not applied");
                }
            }
            Ok(Message::Open(open)) => self.on_open(now, id, open),
            Err(error) => tracing::debug!(id, %error, "DCEP message refused"),
        }
    }

    /// The remote opened channel `id`: accept it, ACK, report it.
    fn on_open(&mut self, now: Instant, id: u16, open: Open) {
        if opens(self.role, id) || self.channels.contains_key(&id) {
            tracing::debug!(
                id,
                "DCEP OPEN on a stream id that is not the remote's to open"
            );
            return;
        }
        let init = open.to_init(id);
        let Some((_, association)) = self.association.as_mut() else {
            return;
        };
        let result = association.stream(id).and_then(|mut stream| {
            stream.write_sctp(now, &Bytes::from(Message::Ack.to_bytes()), Ppi::Dcep)?;
            Ok(stream)
        });
        match result {
            Ok(mut stream) => {
                if let Err(error) = apply_reliability(&mut stream, &init) {
                    tracing::debug!(id, %error, "reliability not applied");
                }
            }
            Err(error) => {
                tracing::debug!(id, %error, "DCEP ACK not sent");
                return;
            }
        }
        self.channels.insert(
            id,
            Channel {
                label: open.label.clone(),
                init: init.clone(),
                awaiting_ack: false,
                announced: true,
                closing: false,
            },
        );
        self.events.push_back(ChannelEvent::Opened {
            id,
            label: open.label,
            init,
            remote: true,
        });
    }

    /// The association is over: every channel closes.
    pub(super) fn end(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.connected = false;
        for id in std::mem::take(&mut self.channels).into_keys() {
            self.events.push_back(ChannelEvent::Closed { id });
        }
        self.events.push_back(ChannelEvent::AssociationClosed);
    }
}
