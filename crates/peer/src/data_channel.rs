//! `RTCDataChannel`: a handle to one channel of the task that runs its association (the
//! connection's task, or [`SctpTransport::connect`](crate::SctpTransport::connect)'s), which runs
//! the sans-IO SCTP association and DCEP (RFC 8831, RFC 8832) in [`crate::core`].
//!
//! Sends go to the task through the connection's bounded command queue (so a sender that
//! outruns the network waits, and `bufferedAmount` counts what is queued); received messages
//! wait in a small per-channel queue, and what does not fit stays in SCTP's receive window,
//! which slows the remote sender.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{Mutex, Notify, mpsc};

use crate::driver::Command;
use crate::error::{Error, InvalidStateReason, TypeErrorReason};

/// `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

/// Builders: `RTCDataChannelInit::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl RTCDataChannelInit {
    /// The same, with [`ordered`](Self::ordered) set.
    #[must_use]
    pub fn with_ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// The same, with [`max_packet_life_time`](Self::max_packet_life_time) set.
    #[must_use]
    pub fn with_max_packet_life_time(mut self, max_packet_life_time: Option<u16>) -> Self {
        self.max_packet_life_time = max_packet_life_time;
        self
    }

    /// The same, with [`max_retransmits`](Self::max_retransmits) set.
    #[must_use]
    pub fn with_max_retransmits(mut self, max_retransmits: Option<u16>) -> Self {
        self.max_retransmits = max_retransmits;
        self
    }

    /// The same, with [`protocol`](Self::protocol) set.
    #[must_use]
    pub fn with_protocol(mut self, protocol: String) -> Self {
        self.protocol = protocol;
        self
    }

    /// The same, with [`negotiated`](Self::negotiated) set.
    #[must_use]
    pub fn with_negotiated(mut self, negotiated: bool) -> Self {
        self.negotiated = negotiated;
        self
    }

    /// The same, with [`id`](Self::id) set.
    #[must_use]
    pub fn with_id(mut self, id: Option<u16>) -> Self {
        self.id = id;
        self
    }
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
    /// The W3C checks of `createDataChannel`: the two partial-reliability options are
    /// exclusive, and a negotiated channel needs an id.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.max_retransmits.is_some() && self.max_packet_life_time.is_some() {
            return Err(Error::Type(TypeErrorReason::InvalidReliability));
        }
        if self.negotiated && self.id.is_none() {
            return Err(Error::Type(TypeErrorReason::NegotiatedWithoutId));
        }
        Ok(())
    }
}

/// The task's end of a channel's inbound queue. Its messages are boxed: the queue allocates
/// its first 32 slots when the channel is made, 8 bytes each boxed, 40 unboxed.
pub(crate) type InboundSender = mpsc::Sender<Box<DataChannelMessage>>;

/// A message received on a data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelMessage {
    /// Sent as a string (`send(DOMString)`) rather than binary.
    pub is_string: bool,
    /// The payload.
    pub data: Bytes,
}

/// `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RTCDataChannelState {
    /// Created by `createDataChannel` and not open yet: the SCTP association is not up (the
    /// offer/answer exchange may not even have happened), or DCEP's OPEN is on its way.
    Connecting,
    /// Open: messages flow.
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
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

const CONNECTING: u8 = 0;
const OPEN: u8 = 1;
const CLOSING: u8 = 2;
const CLOSED: u8 = 3;

/// `id` before the channel has a stream (W3C: `null` until the DTLS role is known).
const NO_ID: u32 = u32::MAX;

/// How many received messages wait in a channel's queue before the task leaves the rest in
/// SCTP (whose receive window then slows the sender).
pub(crate) const INBOUND_QUEUE: usize = 16;

/// What a channel's handles and the task running it share.
pub(crate) struct Shared {
    /// The SCTP stream id, or [`NO_ID`] before it has one.
    id: AtomicU32,
    label: String,
    init: RTCDataChannelInit,
    /// [`RTCDataChannelState`] as [`CONNECTING`], [`OPEN`], [`CLOSING`] or [`CLOSED`].
    state: AtomicU8,
    /// Woken (all waiters) when `bufferedAmount` may have fallen or the state changed.
    low: Notify,
    /// Bytes handed to `send` that the task has not taken yet.
    queued: AtomicUsize,
    /// Bytes SCTP holds unacknowledged (set by the task).
    pub(crate) sctp_buffered: AtomicUsize,
    threshold: AtomicUsize,
    commands: mpsc::Sender<Command>,
    inbound: Mutex<mpsc::Receiver<Box<DataChannelMessage>>>,
    /// Tells the task a reader made room in an inbound queue.
    progress: Arc<Notify>,
    /// The largest message the remote accepts (`a=max-message-size`; 0 = no limit), known
    /// once the association is.
    remote_max_message_size: AtomicU64,
    messages_sent: AtomicU64,
    bytes_sent: AtomicU64,
    messages_received: AtomicU64,
    bytes_received: AtomicU64,
}

impl Shared {
    /// Moves `readyState` forward to `state`; never back.
    pub(crate) fn advance_to(&self, state: RTCDataChannelState) {
        let value = match state {
            RTCDataChannelState::Connecting => CONNECTING,
            RTCDataChannelState::Open => OPEN,
            RTCDataChannelState::Closing => CLOSING,
            RTCDataChannelState::Closed => CLOSED,
        };
        self.state.fetch_max(value, Ordering::AcqRel);
        self.low.notify_waiters();
    }

    /// The stream id, once it has one.
    pub(crate) fn id(&self) -> Option<u16> {
        u16::try_from(self.id.load(Ordering::Acquire)).ok()
    }

    /// The channel got stream `id` on an association whose remote accepts messages up to
    /// `remote_max_message_size` bytes (0: any).
    pub(crate) fn assign(&self, id: u16, remote_max_message_size: u64) {
        self.remote_max_message_size
            .store(remote_max_message_size, Ordering::Release);
        self.id.store(u32::from(id), Ordering::Release);
    }

    /// The task took a queued message of `len` bytes.
    pub(crate) fn dequeued(&self, len: usize) {
        // Saturating: the count is only for `bufferedAmount`.
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                Some(queued.saturating_sub(len))
            });
    }

    /// A message of `len` bytes went to SCTP (`messagesSent`, `bytesSent`).
    pub(crate) fn count_sent(&self, len: usize) {
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// A message of `len` bytes was received (`messagesReceived`, `bytesReceived`).
    pub(crate) fn count_received(&self, len: usize) {
        self.messages_received.fetch_add(1, Ordering::Relaxed);
        self.bytes_received.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// The task updated `sctp_buffered`: wake `bufferedamountlow` waiters if it is low.
    pub(crate) fn buffered_changed(&self) {
        let buffered =
            self.queued.load(Ordering::Acquire) + self.sctp_buffered.load(Ordering::Acquire);
        if buffered <= self.threshold.load(Ordering::Acquire) {
            self.low.notify_waiters();
        }
    }
}

/// An open data channel. Clones are handles to the same channel.
#[derive(Clone)]
pub struct RTCDataChannel {
    pub(crate) shared: Arc<Shared>,
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

impl RTCDataChannel {
    /// An open channel on stream `id` of the task behind `commands`, and the sender of its
    /// inbound queue.
    pub(crate) fn new(
        id: u16,
        label: String,
        init: RTCDataChannelInit,
        commands: mpsc::Sender<Command>,
        progress: Arc<Notify>,
        remote_max_message_size: u64,
    ) -> (Self, InboundSender) {
        let (channel, inbound) = Self::connecting(label, init, commands, progress);
        channel.shared.assign(id, remote_max_message_size);
        channel.shared.advance_to(RTCDataChannelState::Open);
        (channel, inbound)
    }

    /// A channel that is not open yet (`createDataChannel`): no stream id unless negotiated,
    /// state `connecting`; the task assigns it a stream and opens it.
    pub(crate) fn connecting(
        label: String,
        init: RTCDataChannelInit,
        commands: mpsc::Sender<Command>,
        progress: Arc<Notify>,
    ) -> (Self, InboundSender) {
        let (inbound_tx, inbound) = mpsc::channel(INBOUND_QUEUE);
        let channel = Self {
            shared: Arc::new(Shared {
                id: AtomicU32::new(init.id.map_or(NO_ID, u32::from)),
                label,
                init,
                state: AtomicU8::new(CONNECTING),
                low: Notify::new(),
                queued: AtomicUsize::new(0),
                sctp_buffered: AtomicUsize::new(0),
                threshold: AtomicUsize::new(0),
                commands,
                inbound: Mutex::new(inbound),
                progress,
                remote_max_message_size: AtomicU64::new(0),
                messages_sent: AtomicU64::new(0),
                bytes_sent: AtomicU64::new(0),
                messages_received: AtomicU64::new(0),
                bytes_received: AtomicU64::new(0),
            }),
        };
        (channel, inbound_tx)
    }

    /// `readyState`.
    pub fn ready_state(&self) -> RTCDataChannelState {
        match self.shared.state.load(Ordering::Acquire) {
            CONNECTING => RTCDataChannelState::Connecting,
            OPEN => RTCDataChannelState::Open,
            CLOSING => RTCDataChannelState::Closing,
            _ => RTCDataChannelState::Closed,
        }
    }

    /// A handle that does not keep the channel alive (the transport's list for getStats).
    pub(crate) fn downgrade(&self) -> WeakDataChannel {
        WeakDataChannel(Arc::downgrade(&self.shared))
    }

    /// `bufferedAmount`: bytes given to `send` and not yet acknowledged by the peer.
    pub fn buffered_amount(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
            + self.shared.sctp_buffered.load(Ordering::Acquire)
    }

    /// `bufferedAmountLowThreshold`.
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.shared.threshold.load(Ordering::Acquire)
    }

    /// Sets `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&self, threshold: usize) {
        self.shared.threshold.store(threshold, Ordering::Release);
        self.shared.buffered_changed();
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
        let shared = &self.shared;
        // Reported channels are registered when they open, with their stream.
        let id = self.id().unwrap_or_default();
        crate::stats::RTCDataChannelStats {
            id: format!("D{id}"),
            timestamp,
            label: shared.label.clone(),
            protocol: shared.init.protocol.clone(),
            data_channel_identifier: id,
            state: self.ready_state().as_str(),
            messages_sent: shared.messages_sent.load(Ordering::Relaxed),
            bytes_sent: shared.bytes_sent.load(Ordering::Relaxed),
            messages_received: shared.messages_received.load(Ordering::Relaxed),
            bytes_received: shared.bytes_received.load(Ordering::Relaxed),
        }
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.shared.label
    }

    /// The SCTP stream id; `None` (W3C `null`) until the channel has a stream, which a channel
    /// created before negotiation gets once the DTLS role is known.
    pub fn id(&self) -> Option<u16> {
        self.shared.id()
    }

    /// Waits for the `open` event: `Ok` once the channel is open (at once if it is), the
    /// reason if it closed first (the connection closed or failed, or `close()` was called).
    pub async fn opened(&self) -> Result<(), Error> {
        loop {
            let notified = self.shared.low.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match self.ready_state() {
                RTCDataChannelState::Open => return Ok(()),
                RTCDataChannelState::Closing | RTCDataChannelState::Closed => {
                    return Err(Error::InvalidState(InvalidStateReason::Closed));
                }
                RTCDataChannelState::Connecting => notified.await,
            }
        }
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
        if self.ready_state() != RTCDataChannelState::Open {
            return Err(Error::InvalidState(InvalidStateReason::ChannelNotOpen));
        }
        let limit = self.shared.remote_max_message_size.load(Ordering::Acquire);
        let Some(id) = self.shared.id() else {
            return Err(Error::InvalidState(InvalidStateReason::ChannelNotOpen));
        };
        if limit != 0 && data.len() as u64 > limit {
            return Err(Error::Type(TypeErrorReason::MessageTooLarge {
                size: data.len(),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            }));
        }
        let len = data.len();
        self.shared.queued.fetch_add(len, Ordering::AcqRel);
        let command = Command::Send {
            id,
            message: Box::new(DataChannelMessage { is_string, data }),
        };
        if self.shared.commands.send(command).await.is_err() {
            self.shared.dequeued(len);
            self.shared.advance_to(RTCDataChannelState::Closed);
            return Err(Error::InvalidState(InvalidStateReason::ChannelNotOpen));
        }
        Ok(())
    }

    /// The next message, or `None` once the channel is closed and every message that arrived
    /// before has been read. Concurrent calls on clones of one channel take turns; each
    /// message goes to one of them.
    pub async fn recv(&self) -> Option<DataChannelMessage> {
        let message = self.shared.inbound.lock().await.recv().await;
        match message {
            Some(message) => {
                // Room in the queue: the task may pull more from SCTP.
                self.shared.progress.notify_one();
                Some(*message)
            }
            None => {
                self.shared.advance_to(RTCDataChannelState::Closed);
                None
            }
        }
    }

    /// `close()`: resets the channel's stream (RFC 8831 §6.7). `readyState` is `closing` until
    /// the remote resets its side, then `closed`; [`closed`](Self::closed) waits for that.
    pub async fn close(&self) -> Result<(), Error> {
        let state = self.ready_state();
        if state == RTCDataChannelState::Closing || state == RTCDataChannelState::Closed {
            return Ok(());
        }
        let Some(id) = self.shared.id() else {
            // No stream yet: the task never opens it.
            self.shared.advance_to(RTCDataChannelState::Closed);
            return Ok(());
        };
        self.shared.advance_to(RTCDataChannelState::Closing);
        let command = Command::CloseChannel { id };
        if self.shared.commands.send(command).await.is_err() {
            self.shared.advance_to(RTCDataChannelState::Closed);
        }
        Ok(())
    }

    /// Waits until `readyState` is `closed`.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.low.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.ready_state() == RTCDataChannelState::Closed {
                return;
            }
            notified.await;
        }
    }
}
