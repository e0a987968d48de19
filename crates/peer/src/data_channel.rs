//! `RTCDataChannel` over webrtc-data (DCEP, RFC 8832) and webrtc-sctp (RFC 8831).

use std::sync::Arc;

use bytes::Bytes;
use webrtc_data::data_channel::{Config as ChannelConfig, DataChannel};
use webrtc_data::message::message_channel_open::ChannelType;

use crate::error::{Error, OperationReason, TypeErrorReason};

/// `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RTCDataChannelInit {
    /// Deliver messages in order.
    pub ordered: bool,
    /// Partial reliability: give up on a message after this many milliseconds.
    pub max_packet_life_time: Option<u16>,
    /// Partial reliability: give up on a message after this many retransmissions.
    pub max_retransmits: Option<u16>,
    /// The sub-protocol name.
    pub protocol: String,
    /// Negotiated out of band (no DCEP): both sides create it with the same `id`.
    pub negotiated: bool,
    /// The SCTP stream id; required when `negotiated`.
    pub id: Option<u16>,
}

impl Default for RTCDataChannelInit {
    fn default() -> Self {
        Self {
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
            protocol: String::new(),
            negotiated: false,
            id: None,
        }
    }
}

impl RTCDataChannelInit {
    /// The DCEP channel type and reliability parameter (RFC 8832 §5.1).
    pub(crate) fn channel_type(&self) -> Result<(ChannelType, u32), Error> {
        let kind = match (
            self.ordered,
            self.max_retransmits,
            self.max_packet_life_time,
        ) {
            (_, Some(_), Some(_)) => return Err(Error::Type(TypeErrorReason::InvalidReliability)),
            (true, None, None) => (ChannelType::Reliable, 0),
            (false, None, None) => (ChannelType::ReliableUnordered, 0),
            (true, Some(n), None) => (ChannelType::PartialReliableRexmit, u32::from(n)),
            (false, Some(n), None) => (ChannelType::PartialReliableRexmitUnordered, u32::from(n)),
            (true, None, Some(ms)) => (ChannelType::PartialReliableTimed, u32::from(ms)),
            (false, None, Some(ms)) => (ChannelType::PartialReliableTimedUnordered, u32::from(ms)),
        };
        Ok(kind)
    }

    /// The inverse of [`RTCDataChannelInit::channel_type`], for channels the remote opened.
    pub(crate) fn from_channel_type(config: &ChannelConfig, id: u16) -> Self {
        let (ordered, retransmits, lifetime) = match config.channel_type {
            ChannelType::Reliable => (true, None, None),
            ChannelType::ReliableUnordered => (false, None, None),
            ChannelType::PartialReliableRexmit => (true, Some(config.reliability_parameter), None),
            ChannelType::PartialReliableRexmitUnordered => {
                (false, Some(config.reliability_parameter), None)
            }
            ChannelType::PartialReliableTimed => (true, None, Some(config.reliability_parameter)),
            ChannelType::PartialReliableTimedUnordered => {
                (false, None, Some(config.reliability_parameter))
            }
        };
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Self {
            ordered,
            max_retransmits: retransmits.map(clamp),
            max_packet_life_time: lifetime.map(clamp),
            protocol: config.protocol.clone(),
            negotiated: config.negotiated,
            id: Some(id),
        }
    }
}

/// A message received on a data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelMessage {
    /// Sent as a string (`send(DOMString)`) rather than binary.
    pub is_string: bool,
    /// The payload.
    pub data: Bytes,
}

/// An open data channel. Clones are handles to the same channel.
#[derive(Clone)]
pub struct RTCDataChannel {
    // One pointer: a channel is cloned into events (the `datachannel` event sits in every
    // connection's event ring, whose slots are sized by the largest event).
    shared: Arc<Shared>,
}

/// `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RTCDataChannelState {
    /// Open: messages flow (channels are handed out open).
    Open,
    /// `close()` was called; the stream is being reset.
    Closing,
    /// Closed: by `close()`, by the remote, or with the association.
    Closed,
}

impl RTCDataChannelState {
    /// The W3C name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

const OPEN: u8 = 0;
const CLOSING: u8 = 1;
const CLOSED: u8 = 2;

struct Shared {
    channel: DataChannel,
    /// [`RTCDataChannelState`] as [`OPEN`], [`CLOSING`] or [`CLOSED`].
    state: std::sync::atomic::AtomicU8,
    /// Woken (all waiters) when webrtc-sctp reports the buffered amount at or below the
    /// threshold: the `bufferedamountlow` event.
    low: Arc<tokio::sync::Notify>,
    label: String,
    init: RTCDataChannelInit,
    /// The largest message the remote accepts (`a=max-message-size`; 0 = no limit).
    remote_max_message_size: u64,
    /// Where `recv` reassembles: empty until the first `recv`, then [`read_buffer_size`] bytes
    /// for the channel's life (webrtc-sctp drops a message that does not fit the buffer it is
    /// read into, so the buffer must hold the largest message we accept). Each message is
    /// copied out at its own size.
    read_buffer: tokio::sync::Mutex<Vec<u8>>,
    /// The largest message we accept: our `a=max-message-size`, within what webrtc-sctp can
    /// reassemble.
    read_buffer_size: usize,
}

/// A data channel held without keeping it alive.
#[derive(Clone)]
pub(crate) struct WeakDataChannel(std::sync::Weak<Shared>);

impl WeakDataChannel {
    /// The channel, if a handle to it is still held somewhere.
    pub(crate) fn upgrade(&self) -> Option<RTCDataChannel> {
        self.0.upgrade().map(|shared| RTCDataChannel { shared })
    }
}

impl std::fmt::Debug for RTCDataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RTCDataChannel")
            .field("label", &self.shared.label)
            .field("id", &self.id())
            .field("init", &self.shared.init)
            .finish_non_exhaustive()
    }
}

/// webrtc-sctp's receive buffer (`INITIAL_RECV_BUF_SIZE`; we leave
/// `max_receive_buffer_size` at its default): no larger message can be reassembled.
const SCTP_RECEIVE_BUFFER: usize = 1024 * 1024;

/// The buffer `recv` needs to accept every message up to our `a=max-message-size`
/// (`local_max_message_size`; 0 = no limit, so as large as webrtc-sctp can reassemble).
fn read_buffer_size(local_max_message_size: u64) -> usize {
    match usize::try_from(local_max_message_size) {
        Ok(size) if size != 0 => size.min(SCTP_RECEIVE_BUFFER),
        _ => SCTP_RECEIVE_BUFFER,
    }
}

impl RTCDataChannel {
    pub(crate) fn new(
        channel: DataChannel,
        label: String,
        init: RTCDataChannelInit,
        local_max_message_size: u64,
        remote_max_message_size: u64,
    ) -> Self {
        let low = Arc::new(tokio::sync::Notify::new());
        let waker = Arc::clone(&low);
        channel.on_buffered_amount_low(Box::new(move || {
            waker.notify_waiters();
            Box::pin(async {})
        }));
        Self {
            shared: Arc::new(Shared {
                channel,
                state: std::sync::atomic::AtomicU8::new(OPEN),
                low,
                label,
                init,
                remote_max_message_size,
                read_buffer: tokio::sync::Mutex::new(Vec::new()),
                read_buffer_size: read_buffer_size(local_max_message_size),
            }),
        }
    }

    /// `readyState`.
    pub fn ready_state(&self) -> RTCDataChannelState {
        match self.shared.state.load(std::sync::atomic::Ordering::Acquire) {
            OPEN => RTCDataChannelState::Open,
            CLOSING => RTCDataChannelState::Closing,
            _ => RTCDataChannelState::Closed,
        }
    }

    /// Moves `readyState` forward to `state` ([`CLOSING`] or [`CLOSED`]); never back.
    fn advance_to(&self, state: u8) {
        self.shared
            .state
            .fetch_max(state, std::sync::atomic::Ordering::AcqRel);
        // A sender waiting for `bufferedamountlow` on a closing channel waits no more.
        self.shared.low.notify_waiters();
    }

    /// A handle that does not keep the channel alive (the association's list for getStats).
    pub(crate) fn downgrade(&self) -> WeakDataChannel {
        WeakDataChannel(Arc::downgrade(&self.shared))
    }

    /// `bufferedAmount`: bytes queued for sending and not yet handed to the network.
    pub fn buffered_amount(&self) -> usize {
        self.shared.channel.buffered_amount()
    }

    /// `bufferedAmountLowThreshold`.
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.shared.channel.buffered_amount_low_threshold()
    }

    /// Sets `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&self, threshold: usize) {
        self.shared
            .channel
            .set_buffered_amount_low_threshold(threshold);
    }

    /// Waits for the `bufferedamountlow` event: until `bufferedAmount` falls to
    /// `bufferedAmountLowThreshold` or below (at once if it is). For a sender pacing itself
    /// instead of queueing without bound.
    pub async fn buffered_amount_low(&self) {
        loop {
            // Registered before the check, so a wake-up between the two is not lost.
            let notified = self.shared.low.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.buffered_amount() <= self.buffered_amount_low_threshold()
                || self.ready_state() != RTCDataChannelState::Open
            {
                return;
            }
            notified.await;
        }
    }

    /// `RTCDataChannelStats` now.
    pub(crate) fn stats(&self, timestamp: f64) -> crate::stats::RTCDataChannelStats {
        let channel = &self.shared.channel;
        crate::stats::RTCDataChannelStats {
            id: format!("D{}", self.id()),
            timestamp,
            label: self.shared.label.clone(),
            protocol: self.shared.init.protocol.clone(),
            data_channel_identifier: self.id(),
            state: self.ready_state().as_str(),
            messages_sent: channel.messages_sent() as u64,
            bytes_sent: channel.bytes_sent() as u64,
            messages_received: channel.messages_received() as u64,
            bytes_received: channel.bytes_received() as u64,
        }
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.shared.label
    }

    /// The SCTP stream id.
    pub fn id(&self) -> u16 {
        self.shared.channel.stream_identifier()
    }

    /// How the channel delivers: ordered, partial reliability, protocol, negotiated.
    pub fn init(&self) -> &RTCDataChannelInit {
        &self.shared.init
    }

    /// `send(ArrayBuffer)`.
    pub async fn send(&self, data: Bytes) -> Result<(), Error> {
        self.write(data, false).await
    }

    /// `send(DOMString)`.
    pub async fn send_text(&self, text: &str) -> Result<(), Error> {
        self.write(Bytes::copy_from_slice(text.as_bytes()), true)
            .await
    }

    async fn write(&self, data: Bytes, is_string: bool) -> Result<(), Error> {
        let limit = self.shared.remote_max_message_size;
        if limit != 0 && data.len() as u64 > limit {
            return Err(Error::Type(TypeErrorReason::MessageTooLarge {
                size: data.len(),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            }));
        }
        self.shared
            .channel
            .write_data_channel(&data, is_string)
            .await
            .map(|_| ())
            .map_err(|e| Error::Operation(OperationReason::DataChannel(e)))
    }

    /// The next message, or `None` once the channel is closed.
    ///
    /// A message larger than our `a=max-message-size` (a remote that ignored it) closes the
    /// channel: webrtc-data resets the stream when a message does not fit the read buffer.
    /// Concurrent calls on clones of one channel take turns; each message goes to one of them.
    pub async fn recv(&self) -> Option<DataChannelMessage> {
        let mut buffer = self.shared.read_buffer.lock().await;
        if buffer.is_empty() {
            // A zeroed allocation (calloc): the allocator can hand out fresh pages without
            // writing them, so pages no message reaches need not become resident. A waiting
            // `recv` held a buffer of this size before too; now it is one per channel.
            *buffer = vec![0u8; self.shared.read_buffer_size];
        }
        let channel = &self.shared.channel;
        let received_before = channel.messages_received();
        match channel.read_data_channel(&mut buffer).await {
            // webrtc-data reports a reset or shut-down stream as an empty binary read; an
            // empty binary message is counted as received, the end of the stream is not.
            Ok((0, false)) if channel.messages_received() == received_before => {
                self.advance_to(CLOSED);
                None
            }
            Ok((n, is_string)) => Some(DataChannelMessage {
                is_string,
                data: Bytes::copy_from_slice(buffer.get(..n)?),
            }),
            Err(webrtc_data::Error::Sctp(webrtc_sctp::Error::ErrShortBuffer { size })) => {
                tracing::warn!(
                    channel = %self.shared.label,
                    limit = size,
                    "channel closed: the remote sent a message larger than our max-message-size"
                );
                self.advance_to(CLOSED);
                None
            }
            Err(_) => {
                self.advance_to(CLOSED);
                None
            }
        }
    }

    /// `close()`: resets the stream (RFC 8831 §6.7).
    pub async fn close(&self) -> Result<(), Error> {
        self.advance_to(CLOSING);
        let closed = self
            .shared
            .channel
            .close()
            .await
            .map_err(|e| Error::Operation(OperationReason::DataChannel(e)));
        self.advance_to(CLOSED);
        closed
    }
}
