//! The transport task: one tokio task owns the connection's sans-IO
//! [`SecureTransport`](crate::core::SecureTransport) (DTLS, SCTP, data channels) and the
//! datagram link under it (the ICE driver's selected pair, or any `Conn`). It is the only
//! place that reads the clock for them: received datagrams, timers and commands go in, and it
//! sends what the core produced and hands events to the handles.
//!
//! Handles ([`SctpTransport`], [`RTCDataChannel`]) talk to it through one bounded command
//! queue, so a sender that outruns the network waits instead of queueing without bound.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use antiphon_dtls::{
    DtlsConfig, DtlsConnected, DtlsParameters, DtlsRole, SrtpKeyingMaterial, SrtpProfile,
};
use antiphon_ice::IceConnectionState;
use bytes::Bytes;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use webrtc_util::Conn;

use crate::core::{ChannelEvent, CoreEvent, SecureTransport};
use crate::data_channel::{
    DataChannelMessage, RTCDataChannel, RTCDataChannelInit, RTCDataChannelState,
};
use crate::error::{Error, OperationReason};
use crate::events::{PeerConnectionEvent, RTCPeerConnectionState, publish_state};
use crate::sctp::{SctpParameters, SctpTransport, channel_error};

/// Commands queued by one connection's handles before the sender waits.
const COMMAND_QUEUE: usize = 64;

/// The largest datagram read from the link (DTLS records are at most a path MTU).
const RECEIVE_BUFFER: usize = 8192;

/// What handles ask of the transport task.
pub(crate) enum Command {
    /// Open a data channel; the reply is the open channel or why not.
    Open {
        label: String,
        init: RTCDataChannelInit,
        reply: OpenReply,
    },
    /// Send a message on channel `id`.
    Send {
        id: u16,
        message: DataChannelMessage,
    },
    /// Close channel `id`.
    CloseChannel { id: u16 },
    /// A data section was negotiated after the transport started: run SCTP too.
    AddSctp { parameters: SctpParameters },
    /// Close everything and end the task, then say so.
    Close { done: oneshot::Sender<()> },
}

/// The DTLS association once its handshake finished.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DtlsInfo {
    /// Our side of the handshake.
    pub role: DtlsRole,
    /// The SRTP profile the handshake selected.
    pub profile: SrtpProfile,
    /// The SRTP keying material.
    pub keying_material: SrtpKeyingMaterial,
    /// The peer's DER certificate.
    pub peer_certificate: Vec<u8>,
}

impl DtlsInfo {
    fn new(role: DtlsRole, connected: DtlsConnected) -> Self {
        Self {
            role,
            profile: connected.profile,
            keying_material: connected.keying_material,
            peer_certificate: connected.peer_certificate,
        }
    }
}

/// Where the open channel (or why it did not open) goes.
type OpenReply = oneshot::Sender<Result<RTCDataChannel, Error>>;

/// Where a peer connection's task reports.
pub(crate) struct ConnectionOutputs {
    pub(crate) state: watch::Sender<RTCPeerConnectionState>,
    pub(crate) events: broadcast::Sender<PeerConnectionEvent>,
    pub(crate) dtls: watch::Sender<Option<Arc<DtlsInfo>>>,
    /// The ICE driver's state: the DTLS client starts when ICE connects, and after DTLS is up
    /// ICE's state is the connection's.
    pub(crate) ice: watch::Receiver<IceConnectionState>,
}

/// One channel as the task sees it.
struct Slot {
    channel: crate::data_channel::WeakDataChannel,
    inbound: mpsc::Sender<DataChannelMessage>,
    /// SCTP said messages wait; they are pulled while the inbound queue has room.
    readable: bool,
}

/// The task (see the [module](self) documentation).
pub(crate) struct TransportTask {
    link: Arc<dyn Conn + Send + Sync>,
    secure: SecureTransport,
    commands_tx: mpsc::Sender<Command>,
    commands: mpsc::Receiver<Command>,
    progress: Arc<Notify>,
    sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
    sctp: Option<Arc<SctpTransport>>,
    remote_channels: Option<mpsc::UnboundedSender<RTCDataChannel>>,
    slots: HashMap<u16, Slot>,
    /// Opens waiting for SCTP to come up.
    waiting_opens: Vec<(u16, OpenReply)>,
    path_ready: bool,
    dtls_up: bool,
    outputs: Option<ConnectionOutputs>,
    failure: Option<oneshot::Sender<Error>>,
    /// Who asked to close, told once the task ends.
    close_reply: Option<oneshot::Sender<()>>,
    done: bool,
}

impl TransportTask {
    /// A task for the transport over `link` in which we are `dtls.role`, carrying data
    /// channels when `sctp` is given; the SCTP transport is published in `sctp_slot` once up.
    pub(crate) fn new(
        link: Arc<dyn Conn + Send + Sync>,
        config: DtlsConfig,
        dtls: DtlsParameters,
        sctp: Option<SctpParameters>,
        sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
    ) -> Result<Self, Error> {
        let secure = SecureTransport::new(Instant::now(), config, dtls, sctp)
            .map_err(|error| Error::Operation(OperationReason::Dtls(error)))?;
        let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
        Ok(Self {
            link,
            secure,
            commands_tx,
            commands,
            progress: Arc::new(Notify::new()),
            sctp_slot,
            sctp: None,
            remote_channels: None,
            slots: HashMap::new(),
            waiting_opens: Vec::new(),
            path_ready: false,
            dtls_up: false,
            outputs: None,
            failure: None,
            close_reply: None,
            done: false,
        })
    }

    /// The link is a fixed path (a socket, a pipe): the DTLS client starts at once.
    pub(crate) fn path_ready(mut self) -> Self {
        self.path_ready = true;
        self.secure.path_ready(Instant::now());
        self
    }

    /// Where to say why the transport failed, if it does.
    pub(crate) fn on_failure(mut self, failure: oneshot::Sender<Error>) -> Self {
        self.failure = Some(failure);
        self
    }

    /// Report to a peer connection: its state, events and DTLS slot, following its ICE.
    pub(crate) fn with_connection(mut self, outputs: ConnectionOutputs) -> Self {
        self.outputs = Some(outputs);
        self
    }

    /// A sender of commands to this task (before it runs).
    pub(crate) fn commands(&self) -> mpsc::Sender<Command> {
        self.commands_tx.clone()
    }

    /// Runs until closed, the link ends, or the transport fails.
    pub(crate) async fn run(mut self) {
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        let mut ice = self.outputs.as_ref().map(|outputs| outputs.ice.clone());
        if let Some(ice) = ice.as_mut() {
            self.on_ice(*ice.borrow_and_update());
        }
        let link = Arc::clone(&self.link);
        let progress = Arc::clone(&self.progress);
        // Datagrams to send go out one per turn of the loop, as a branch of it: a link whose
        // send can wait (a full pipe) must not stop us reading, or two ends that both send
        // would wait on each other.
        let mut outgoing: VecDeque<Bytes> = VecDeque::new();
        self.after(Instant::now(), &mut outgoing);
        loop {
            if self.done && outgoing.is_empty() {
                break;
            }
            let deadline = self.secure.poll_timeout();
            let blocked = self.slots.values().any(|slot| slot.readable);
            let front = outgoing.front().cloned();
            tokio::select! {
                biased;
                sent = async { link.send(front.as_deref().unwrap_or_default()).await }, if front.is_some() => {
                    if let Err(error) = sent {
                        tracing::debug!(%error, "DTLS datagram not sent");
                    }
                    outgoing.pop_front();
                    continue;
                }
                command = self.commands.recv(), if !self.done => match command {
                    Some(command) => self.command(Instant::now(), command),
                    None => break,
                },
                received = link.recv(&mut buffer), if !self.done => match received {
                    Ok(n) => self.secure.handle_datagram(Instant::now(), &buffer[..n]),
                    Err(_) => break,
                },
                changed = async { ice.as_mut()?.changed().await.ok() }, if ice.is_some() && !self.done => {
                    match (changed, ice.as_mut()) {
                        (Some(()), Some(ice)) => {
                            let state = *ice.borrow_and_update();
                            self.on_ice(state);
                        }
                        _ => ice = None,
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() && !self.done => {
                    self.secure.handle_timeout(Instant::now());
                }
                () = progress.notified(), if blocked && !self.done => {}
            }
            self.after(Instant::now(), &mut outgoing);
        }
        self.finish();
    }

    /// ICE's state: the DTLS client starts on the first connected pair; before DTLS is up a
    /// failed ICE fails the connection, after it ICE's state is the connection's.
    fn on_ice(&mut self, state: IceConnectionState) {
        let Some(outputs) = self.outputs.as_ref() else {
            return;
        };
        let _ = outputs
            .events
            .send(PeerConnectionEvent::IceConnectionState(state));
        let mapped = match state {
            IceConnectionState::Connected | IceConnectionState::Completed => {
                if !self.path_ready {
                    self.path_ready = true;
                    self.secure.path_ready(Instant::now());
                }
                self.dtls_up.then_some(RTCPeerConnectionState::Connected)
            }
            IceConnectionState::Disconnected => {
                self.dtls_up.then_some(RTCPeerConnectionState::Disconnected)
            }
            IceConnectionState::Failed => Some(RTCPeerConnectionState::Failed),
            IceConnectionState::Closed => Some(RTCPeerConnectionState::Closed),
            IceConnectionState::New | IceConnectionState::Checking => None,
        };
        if let Some(mapped) = mapped {
            publish_state(&outputs.state, &outputs.events, mapped);
        }
    }

    fn command(&mut self, now: Instant, command: Command) {
        match command {
            Command::Open { label, init, reply } => self.open(now, label, init, reply),
            Command::Send { id, message } => {
                let Some(slot) = self.slots.get(&id) else {
                    return;
                };
                let channel = slot.channel.upgrade();
                if let Some(channel) = &channel {
                    channel.shared.dequeued(message.data.len());
                }
                match self.secure.send(now, id, &message) {
                    Ok(()) => {
                        if let Some(channel) = channel {
                            channel.shared.count_sent(message.data.len());
                        }
                    }
                    Err(error) => tracing::debug!(id, %error, "data channel message not sent"),
                }
            }
            Command::CloseChannel { id } => {
                if let Err(error) = self.secure.close_channel(now, id) {
                    tracing::debug!(id, %error, "data channel close");
                }
            }
            Command::AddSctp { parameters } => self.secure.add_sctp(now, parameters),
            Command::Close { done } => {
                self.secure.close(now);
                self.done = true;
                // `after` sends the close_notify and SHUTDOWN the close queued; the reply
                // waits for that.
                self.close_reply = Some(done);
            }
        }
    }

    fn open(&mut self, now: Instant, label: String, init: RTCDataChannelInit, reply: OpenReply) {
        match self.secure.open_channel(now, &label, init) {
            // Reported open once SCTP is up (at once if it is).
            Ok(id) => self.waiting_opens.push((id, reply)),
            Err(error) => {
                let _ = reply.send(Err(channel_error(error)));
            }
        }
    }

    /// Queues what the core produced for sending, handles its events, fills inbound queues.
    fn after(&mut self, now: Instant, outgoing: &mut VecDeque<Bytes>) {
        while let Some(event) = self.secure.poll_event() {
            self.on_event(now, event);
        }
        self.deliver(now);
        // Events and reads may have produced more (SACKs, DCEP replies): all of it goes.
        while let Some(datagram) = self.secure.poll_transmit() {
            outgoing.push_back(datagram);
        }
        for (id, slot) in &self.slots {
            if let Some(channel) = slot.channel.upgrade() {
                let buffered = self.secure.buffered_amount(*id);
                channel
                    .shared
                    .sctp_buffered
                    .store(buffered, std::sync::atomic::Ordering::Release);
                channel.shared.buffered_changed();
            }
        }
    }

    fn on_event(&mut self, now: Instant, event: CoreEvent) {
        match event {
            CoreEvent::DtlsConnected(connected) => {
                self.dtls_up = true;
                if let Some(outputs) = self.outputs.as_ref() {
                    outputs
                        .dtls
                        .send_replace(Some(Arc::new(DtlsInfo::new(self.secure.role(), connected))));
                    publish_state(
                        &outputs.state,
                        &outputs.events,
                        RTCPeerConnectionState::Connected,
                    );
                }
            }
            CoreEvent::DtlsFailed(error) => {
                tracing::warn!(%error, "DTLS failed");
                self.fail(Error::Operation(OperationReason::Dtls(error)));
            }
            CoreEvent::DtlsClosed => self.done = true,
            CoreEvent::Channel(event) => self.on_channel(now, event),
            _ => {}
        }
    }

    fn on_channel(&mut self, _now: Instant, event: ChannelEvent) {
        match event {
            ChannelEvent::Connected => {
                let Some(parameters) = self.secure.sctp_parameters() else {
                    return;
                };
                let (remote_tx, remote_rx) = mpsc::unbounded_channel();
                let transport = Arc::new(SctpTransport::new(
                    self.commands_tx.clone(),
                    parameters,
                    remote_rx,
                ));
                self.remote_channels = Some(remote_tx);
                self.sctp = Some(Arc::clone(&transport));
                self.sctp_slot.send_replace(Some(transport));
                tracing::debug!("SCTP association up");
            }
            ChannelEvent::Opened {
                id,
                label,
                init,
                remote,
            } => {
                let (channel, inbound) = self.channel(id, label.clone(), init);
                if remote {
                    tracing::debug!(label, "remote data channel");
                    if let Some(outputs) = self.outputs.as_ref() {
                        let _ = outputs
                            .events
                            .send(PeerConnectionEvent::DataChannel(channel.clone()));
                    }
                    if let Some(remote_channels) = self.remote_channels.as_ref() {
                        let _ = remote_channels.send(channel.clone());
                    }
                } else if let Some(index) =
                    self.waiting_opens.iter().position(|(open, _)| *open == id)
                {
                    let (_, reply) = self.waiting_opens.swap_remove(index);
                    let _ = reply.send(Ok(channel.clone()));
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
            ChannelEvent::Readable { id } => {
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.readable = true;
                }
            }
            ChannelEvent::BufferedAmountLow { .. } => {}
            ChannelEvent::Closed { id } => {
                if let Some(slot) = self.slots.remove(&id)
                    && let Some(channel) = slot.channel.upgrade()
                {
                    channel.shared.advance_to(RTCDataChannelState::Closed);
                }
                // Dropping the slot drops the inbound sender: `recv` ends after the queue.
            }
            ChannelEvent::AssociationClosed => self.refuse_waiting_opens(),
        }
    }

    /// A channel handle for stream `id`, registered for getStats.
    fn channel(
        &mut self,
        id: u16,
        label: String,
        init: RTCDataChannelInit,
    ) -> (RTCDataChannel, mpsc::Sender<DataChannelMessage>) {
        let remote_limit = self
            .secure
            .sctp_parameters()
            .map_or(0, |parameters| parameters.remote_max_message_size);
        let (channel, inbound) = RTCDataChannel::new(
            id,
            label,
            init,
            self.commands_tx.clone(),
            Arc::clone(&self.progress),
            remote_limit,
        );
        if let Some(sctp) = self.sctp.as_ref() {
            sctp.register(&channel);
        }
        (channel, inbound)
    }

    /// Pulls waiting messages into inbound queues while they have room.
    fn deliver(&mut self, now: Instant) {
        for (id, slot) in &mut self.slots {
            while slot.readable {
                let permit = match slot.inbound.try_reserve() {
                    Ok(permit) => permit,
                    // Full: the rest waits in SCTP until the reader makes room.
                    Err(mpsc::error::TrySendError::Full(())) => break,
                    // Nobody reads any more: take and drop, so the window stays open.
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        while self.secure.receive(now, *id).is_some() {}
                        slot.readable = false;
                        break;
                    }
                };
                match self.secure.receive(now, *id) {
                    Some(message) => {
                        if let Some(channel) = slot.channel.upgrade() {
                            channel.shared.count_received(message.data.len());
                        }
                        permit.send(message);
                    }
                    None => slot.readable = false,
                }
            }
        }
    }

    fn fail(&mut self, error: Error) {
        if let Some(outputs) = self.outputs.as_ref() {
            publish_state(
                &outputs.state,
                &outputs.events,
                RTCPeerConnectionState::Failed,
            );
        }
        if let Some(failure) = self.failure.take() {
            let _ = failure.send(error);
        }
        self.done = true;
    }

    /// The association is gone: channels waiting to open never will.
    fn refuse_waiting_opens(&mut self) {
        for (_, reply) in self.waiting_opens.drain(..) {
            let _ = reply.send(Err(Error::InvalidState(
                crate::error::InvalidStateReason::Closed,
            )));
        }
    }

    /// The task ends: every channel and waiting open learns it.
    fn finish(&mut self) {
        for (_, slot) in self.slots.drain() {
            if let Some(channel) = slot.channel.upgrade() {
                channel.shared.advance_to(RTCDataChannelState::Closed);
            }
        }
        self.refuse_waiting_opens();
        self.sctp_slot.send_replace(None);
        if let Some(reply) = self.close_reply.take() {
            let _ = reply.send(());
        }
    }
}

/// Sleeps until `deadline` (never, for `None`; the branch is disabled then).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
