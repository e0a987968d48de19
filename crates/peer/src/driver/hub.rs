//! [`ChannelHub`]: the data channels' side of a task that runs a
//! [`SecureTransport`](crate::core::SecureTransport): the handles' commands go in, the core's
//! channel events come out as handles, states and inbound messages. Both tasks use it: the
//! peer connection's ([`crate::connection`]) and the one behind
//! [`SctpTransport::connect`](crate::SctpTransport::connect).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Notify, mpsc, watch};

use super::{Command, OpenReply, OpenRequest};
use crate::core::{ChannelEvent, SecureTransport};
use crate::data_channel::{
    InboundSender, RTCDataChannel, RTCDataChannelInit, RTCDataChannelState, WeakDataChannel,
};
use crate::error::{Error, InvalidStateReason};
use crate::events::{EventSender, PeerConnectionEvent};
use crate::sctp::{SctpParameters, SctpTransport, channel_error};

/// Who waits for a channel we open: a caller of `SctpTransport::open` (the handle is made
/// when it opens), or a handle made by `createDataChannel` (opened in place).
enum Waiting {
    Reply(OpenReply),
    Handle(RTCDataChannel, InboundSender),
}

impl Waiting {
    /// The channel will not open.
    fn refuse(self) {
        match self {
            Self::Reply(reply) => {
                let _ = reply.send(Err(Error::InvalidState(InvalidStateReason::Closed)));
            }
            Self::Handle(channel, _) => channel.shared.advance_to(RTCDataChannelState::Closed),
        }
    }
}

/// One channel as the task sees it.
struct Slot {
    channel: WeakDataChannel,
    inbound: InboundSender,
    /// SCTP said messages wait; they are pulled while the inbound queue has room.
    readable: bool,
}

/// The data channels of one association (see the [module](self) documentation).
pub(crate) struct ChannelHub {
    /// What channel handles send commands through (the task's queue).
    commands: mpsc::Sender<Command>,
    /// Woken by a reader that made room in an inbound queue.
    progress: Arc<Notify>,
    /// Where the association is published once up.
    sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
    sctp: Option<Arc<SctpTransport>>,
    remote_channels: Option<mpsc::UnboundedSender<RTCDataChannel>>,
    /// The peer connection's events (`datachannel`), when the hub serves one.
    events: Option<EventSender>,
    slots: HashMap<u16, Slot>,
    /// Opens waiting for SCTP to come up, or for DCEP, by stream id.
    waiting_opens: Vec<(u16, Waiting)>,
}

impl ChannelHub {
    /// A hub whose handles command through `commands`, publishing the association in
    /// `sctp_slot` and remote channels as `events` (if given).
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
        events: Option<EventSender>,
    ) -> Self {
        Self {
            commands,
            progress: Arc::new(Notify::new()),
            sctp_slot,
            sctp: None,
            remote_channels: None,
            events,
            slots: HashMap::new(),
            waiting_opens: Vec::new(),
        }
    }

    /// What a task waits on, while [`blocked`](Self::blocked), for a reader to make room.
    pub(crate) fn progress(&self) -> Arc<Notify> {
        Arc::clone(&self.progress)
    }

    /// What channel handles made by the task's owner send commands through.
    pub(crate) fn commands(&self) -> mpsc::Sender<Command> {
        self.commands.clone()
    }

    /// Opens `channel` (made in `connecting` state, with the sender of its inbound queue) on
    /// the association: it gets its stream id now and opens when SCTP and DCEP say so; it is
    /// closed if it cannot open (no free stream, an id in use).
    pub(crate) fn attach(
        &mut self,
        now: Instant,
        secure: &mut SecureTransport,
        channel: RTCDataChannel,
        inbound: InboundSender,
    ) {
        if channel.ready_state() != RTCDataChannelState::Connecting {
            // Closed by its owner while it waited for the association.
            return;
        }
        let remote_limit = secure
            .sctp_parameters()
            .map_or(0, |parameters| parameters.remote_max_message_size);
        match secure.open_channel(now, channel.label(), channel.init().clone()) {
            Ok(id) => {
                channel.shared.assign(id, remote_limit);
                self.waiting_opens
                    .push((id, Waiting::Handle(channel, inbound)));
            }
            Err(error) => {
                tracing::warn!(label = channel.label(), %error, "data channel not opened");
                channel.shared.advance_to(RTCDataChannelState::Closed);
            }
        }
    }

    /// Messages wait in SCTP for room in an inbound queue.
    pub(crate) fn blocked(&self) -> bool {
        self.slots.values().any(|slot| slot.readable)
    }

    /// A channel command; `secure` is `None` once the transport is gone.
    pub(crate) fn command(
        &mut self,
        now: Instant,
        secure: Option<&mut SecureTransport>,
        command: Command,
    ) {
        let Some(secure) = secure else {
            if let Command::Open(open) = command {
                let _ = open
                    .reply
                    .send(Err(Error::InvalidState(InvalidStateReason::Closed)));
            }
            return;
        };
        match command {
            Command::Open(open) => {
                let OpenRequest { label, init, reply } = *open;
                match secure.open_channel(now, &label, init) {
                    // Reported open once SCTP is up (at once if it is).
                    Ok(id) => self.waiting_opens.push((id, Waiting::Reply(reply))),
                    Err(error) => {
                        let _ = reply.send(Err(channel_error(error)));
                    }
                }
            }
            Command::Send { id, message } => {
                let Some(slot) = self.slots.get(&id) else {
                    return;
                };
                let channel = slot.channel.upgrade();
                if let Some(channel) = &channel {
                    channel.shared.dequeued(message.data.len());
                }
                match secure.send(now, id, &message) {
                    Ok(()) => {
                        if let Some(channel) = channel {
                            channel.shared.count_sent(message.data.len());
                        }
                    }
                    Err(error) => tracing::debug!(id, %error, "data channel message not sent"),
                }
            }
            Command::CloseChannel { id } => {
                if let Err(error) = secure.close_channel(now, id) {
                    tracing::debug!(id, %error, "data channel close");
                }
            }
            // The task's own business.
            Command::Close { .. } => {}
        }
    }

    /// A channel event of the core, whose association has `sctp` (if started).
    pub(crate) fn on_event(&mut self, sctp: Option<SctpParameters>, event: ChannelEvent) {
        match event {
            ChannelEvent::Connected => {
                let Some(parameters) = sctp else {
                    return;
                };
                // A peer connection's remote channels come as its `datachannel` event alone;
                // a standalone association's through `SctpTransport::accept`.
                let (remote_tx, remote_rx) = mpsc::unbounded_channel();
                let transport = Arc::new(SctpTransport::new(
                    self.commands.clone(),
                    parameters,
                    remote_rx,
                ));
                self.remote_channels = self.events.is_none().then_some(remote_tx);
                self.sctp = Some(Arc::clone(&transport));
                self.sctp_slot.send_replace(Some(transport));
                tracing::debug!("SCTP association up");
            }
            ChannelEvent::Opened {
                id,
                label,
                init,
                remote,
            } => self.opened(sctp, id, label, init, remote),
            ChannelEvent::Readable { id } => {
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.readable = true;
                }
            }
            ChannelEvent::Closed { id } => {
                if let Some(slot) = self.slots.remove(&id)
                    && let Some(channel) = slot.channel.upgrade()
                {
                    channel.shared.advance_to(RTCDataChannelState::Closed);
                }
                // Dropping the slot drops the inbound sender: `recv` ends after the queue.
            }
            ChannelEvent::AssociationClosed => self.refuse_waiting_opens(),
            ChannelEvent::BufferedAmountLow { .. } => {}
        }
    }

    /// Channel `id` opened: a handle for it (or the one made for it), given to whoever waits.
    fn opened(
        &mut self,
        sctp: Option<SctpParameters>,
        id: u16,
        label: String,
        init: RTCDataChannelInit,
        remote: bool,
    ) {
        let remote_limit = sctp.map_or(0, |parameters| parameters.remote_max_message_size);
        let waiting = if remote {
            None
        } else {
            self.waiting_opens
                .iter()
                .position(|(open, _)| *open == id)
                .map(|index| self.waiting_opens.swap_remove(index).1)
        };
        let (channel, inbound) = match waiting {
            Some(Waiting::Handle(channel, inbound)) => {
                channel.shared.advance_to(RTCDataChannelState::Open);
                (channel, inbound)
            }
            waiting => {
                let (channel, inbound) = RTCDataChannel::new(
                    id,
                    label,
                    init,
                    self.commands.clone(),
                    Arc::clone(&self.progress),
                    remote_limit,
                );
                if let Some(Waiting::Reply(reply)) = waiting {
                    let _ = reply.send(Ok(channel.clone()));
                }
                (channel, inbound)
            }
        };
        if let Some(sctp) = self.sctp.as_ref() {
            sctp.register(&channel);
        }
        if remote {
            tracing::debug!(label = channel.label(), "remote data channel");
            if let Some(events) = self.events.as_ref() {
                events.send(PeerConnectionEvent::DataChannel(channel.clone()));
            }
            if let Some(remote_channels) = self.remote_channels.as_ref() {
                let _ = remote_channels.send(channel.clone());
            }
        }
        self.slots.insert(
            id,
            Slot {
                channel: channel.downgrade(),
                inbound,
                readable: false,
            },
        );
    }

    /// After each turn of the task: waiting messages pulled into inbound queues while they have
    /// room, and every channel's `bufferedAmount` refreshed.
    pub(crate) fn after(&mut self, now: Instant, secure: &mut SecureTransport) {
        self.deliver(now, secure);
        for (id, slot) in &self.slots {
            if let Some(channel) = slot.channel.upgrade() {
                let buffered = secure.buffered_amount(*id);
                channel
                    .shared
                    .sctp_buffered
                    .store(buffered, std::sync::atomic::Ordering::Release);
                channel.shared.buffered_changed();
            }
        }
    }

    /// Pulls waiting messages into inbound queues while they have room.
    fn deliver(&mut self, now: Instant, secure: &mut SecureTransport) {
        for (id, slot) in &mut self.slots {
            while slot.readable {
                let permit = match slot.inbound.try_reserve() {
                    Ok(permit) => permit,
                    // Full: the rest waits in SCTP until the reader makes room.
                    Err(mpsc::error::TrySendError::Full(())) => break,
                    // Nobody reads any more: take and drop, so the window stays open.
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        while secure.receive(now, *id).is_some() {}
                        slot.readable = false;
                        break;
                    }
                };
                match secure.receive(now, *id) {
                    Some(message) => {
                        if let Some(channel) = slot.channel.upgrade() {
                            channel.shared.count_received(message.data.len());
                        }
                        permit.send(Box::new(message));
                    }
                    None => slot.readable = false,
                }
            }
        }
    }

    /// The association is gone: channels waiting to open never will.
    fn refuse_waiting_opens(&mut self) {
        for (_, waiting) in self.waiting_opens.drain(..) {
            waiting.refuse();
        }
    }

    /// The transport ended: every channel and waiting open learns it, and the association is
    /// withdrawn.
    pub(crate) fn finish(&mut self) {
        for (_, slot) in self.slots.drain() {
            if let Some(channel) = slot.channel.upgrade() {
                channel.shared.advance_to(RTCDataChannelState::Closed);
            }
        }
        self.refuse_waiting_opens();
        self.remote_channels = None;
        self.sctp = None;
        self.sctp_slot.send_replace(None);
    }
}
