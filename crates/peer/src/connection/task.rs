//! The connection task: one tokio task per connection owns everything that changes (the
//! [`Negotiator`], the [`ConnectionCore`] with its ICE agent, DTLS and SCTP, the UDP sockets,
//! the data channels) and is the only place that reads the clock for them.
//!
//! ```text
//!  RTCPeerConnection --ops (bounded, in call order)--+
//!  RTCDataChannel / SctpTransport --commands---------+--> PeerTask --> ConnectionCore
//!  UdpSockets --datagrams----------------------------+        |
//!  timer (core.poll_timeout) ------------------------+        +--> events, states (watch),
//!                                                                  datagrams to UdpSockets
//! ```
//!
//! An API call is an [`Op`]: a closure run on the task's state, its result sent back. Ops run
//! one at a time in the order called (the W3C operations chain), each to completion, so no
//! call sees another half done and there is no lock. The task ends when the last
//! `RTCPeerConnection` handle is gone (closing the connection first if `close()` was not
//! called); `close()` itself frees the transports at once and keeps the descriptions.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use antiphon_dtls::Certificate;
use antiphon_ice::{
    Datagram, IceConnectionState, IceCredentials, IceEvent, IceGatheringState, Transmit, UdpSockets,
};
use tokio::sync::{mpsc, watch};

use crate::core::{ConnectionCore, CoreEvent};
use crate::data_channel::{DataChannelMessage, RTCDataChannel, RTCDataChannelState};
use crate::driver::hub::ChannelHub;
use crate::driver::{Command, DtlsInfo, sleep_until};
use crate::events::{EventSender, PeerConnectionEvent, RTCPeerConnectionState, publish_state};
use crate::gathering::Gathering;
use crate::negotiator::Negotiator;
use crate::sctp::SctpTransport;

/// An API call, run on the task.
pub(crate) type Op = Box<dyn FnOnce(&mut PeerTask, Instant) + Send>;

/// API calls queued before the caller waits.
pub(crate) const OP_QUEUE: usize = 16;

/// The largest datagram read (DTLS records and STUN messages stay under a path MTU).
const MAX_DATAGRAM: usize = 2048;

/// Where the task reports; the handle holds the receiving side.
pub(crate) struct Outputs {
    pub(crate) events: EventSender,
    pub(crate) state: watch::Sender<RTCPeerConnectionState>,
    pub(crate) dtls: watch::Sender<Option<Arc<DtlsInfo>>>,
}

impl Outputs {
    /// Moves `connectionState` (and emits `connectionstatechange`).
    pub(crate) fn set_state(&self, state: RTCPeerConnectionState) {
        publish_state(&self.state, &self.events, state);
    }
}

/// The transport once the first description bound the sockets: the core and its sockets.
pub(crate) struct IcePath {
    pub(crate) core: ConnectionCore,
    pub(crate) sockets: UdpSockets,
}

/// The task's state (see the [module](self) documentation).
pub(crate) struct PeerTask {
    pub(crate) negotiator: Negotiator,
    /// Our candidates, and what of them the local description and the events carry.
    pub(crate) gathering: Gathering,
    /// `restartIce()` was called: the next offer carries new ICE credentials.
    pub(crate) restart_ice: bool,
    /// The credentials our restart offer carries; the agent takes them when that offer is
    /// applied (`setLocalDescription`), not when it is created.
    pub(crate) restart_credentials: Option<IceCredentials>,
    /// W3C's negotiation-needed flag: `negotiationneeded` was fired and no exchange has
    /// completed since.
    pub(crate) negotiation_needed: bool,
    /// The SCTP association was started (or is starting); a data section negotiated later
    /// starts it then.
    pub(crate) sctp_started: bool,
    pub(crate) certificate: Certificate,
    /// The addresses to gather on.
    pub(crate) bind: Vec<IpAddr>,
    /// The core and sockets, from the first description to `close()`.
    pub(crate) ice: Option<IcePath>,
    pub(crate) hub: ChannelHub,
    /// Channels made by `createDataChannel` before SCTP started, opened when it does.
    pub(crate) pending_channels: Vec<(RTCDataChannel, mpsc::Sender<DataChannelMessage>)>,
    pub(crate) outputs: Outputs,
    ops: mpsc::Receiver<Op>,
    commands: mpsc::Receiver<Command>,
    /// Datagrams the sockets could not take yet.
    outgoing: VecDeque<Transmit>,
}

impl PeerTask {
    /// A task for a new connection, with the receiving ends of its queues.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of a new connection, once"
    )]
    pub(crate) fn new(
        negotiator: Negotiator,
        certificate: Certificate,
        bind: Vec<IpAddr>,
        outputs: Outputs,
        sctp_slot: watch::Sender<Option<Arc<SctpTransport>>>,
        ops: mpsc::Receiver<Op>,
        commands: mpsc::Receiver<Command>,
        commands_tx: mpsc::Sender<Command>,
    ) -> Self {
        let hub = ChannelHub::new(commands_tx, sctp_slot, Some(outputs.events.clone()));
        Self {
            negotiator,
            gathering: Gathering::new(),
            restart_ice: false,
            restart_credentials: None,
            negotiation_needed: false,
            sctp_started: false,
            certificate,
            bind,
            ice: None,
            hub,
            pending_channels: Vec::new(),
            outputs,
            ops,
            commands,
            outgoing: VecDeque::new(),
        }
    }

    /// Runs until the last handle is gone.
    pub(crate) async fn run(mut self) {
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        let progress = self.hub.progress();
        loop {
            let now = Instant::now();
            if let Some(path) = self.ice.as_mut()
                && path.core.poll_timeout().is_some_and(|due| due <= now)
            {
                // Due now (the first check right after remote candidates arrive, a record to
                // retransmit): handled here, since a past deadline given to the timer waits for
                // its next millisecond tick, up to 1 ms per step of connection setup. What is
                // still due afterwards goes through the timer (no busy loop).
                path.core.handle_timeout(now);
                self.after(now);
            }
            let deadline = self.ice.as_ref().and_then(|path| path.core.poll_timeout());
            let blocked = self.hub.blocked();
            let front = self.outgoing.front().map(|t| t.source);
            let sockets = self.ice.as_ref().map(|path| &path.sockets);
            tokio::select! {
                biased;
                () = async {
                    if let (Some(sockets), Some(source)) = (sockets, front) {
                        sockets.writable(source).await;
                    }
                }, if front.is_some() => {}
                op = self.ops.recv() => match op {
                    Some(op) => op(&mut self, Instant::now()),
                    // The last handle is gone.
                    None => break,
                },
                command = self.commands.recv() => {
                    if let Some(command) = command {
                        self.command(Instant::now(), command);
                    }
                }
                (local, source, n) = std::future::poll_fn(|cx| match sockets {
                    Some(sockets) => sockets.poll_recv(cx, &mut buffer),
                    None => std::task::Poll::Pending,
                }), if sockets.is_some() => {
                    if let Some(path) = self.ice.as_mut() {
                        let datagram = Datagram { source, destination: local, contents: &buffer[..n] };
                        path.core.handle_receive(Instant::now(), datagram);
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    if let Some(path) = self.ice.as_mut() {
                        path.core.handle_timeout(Instant::now());
                    }
                }
                () = progress.notified(), if blocked => {}
            }
            self.after(Instant::now());
        }
        self.close(Instant::now());
    }

    fn command(&mut self, now: Instant, command: Command) {
        let secure = self.ice.as_mut().and_then(|path| path.core.secure().ok());
        match command {
            // `SctpTransport::close`: the association and DTLS end; the connection stays.
            Command::Close { done } => {
                if let Some(secure) = secure {
                    secure.close(now);
                }
                self.hub.finish();
                self.after(now);
                let _ = done.send(());
            }
            command => self.hub.command(now, secure, command),
        }
    }

    /// After every input: the core's events handled, its datagrams sent.
    pub(crate) fn after(&mut self, now: Instant) {
        while let Some(event) = self.ice.as_mut().and_then(|path| path.core.poll_event()) {
            self.on_event(event);
        }
        let Some(path) = self.ice.as_mut() else {
            return;
        };
        if let Ok(secure) = path.core.secure() {
            self.hub.after(now, secure);
        }
        while let Some(transmit) = path.core.poll_transmit() {
            self.outgoing.push_back(transmit);
        }
        while let Some(transmit) = self.outgoing.front() {
            match path.sockets.try_send(transmit) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                sent => {
                    if let Err(error) = sent {
                        // A lost datagram: ICE, DTLS and SCTP retransmit.
                        tracing::debug!(%error, "datagram not sent");
                    }
                    self.outgoing.pop_front();
                }
            }
        }
    }

    fn on_event(&mut self, event: CoreEvent) {
        match event {
            CoreEvent::Ice(IceEvent::ConnectionStateChanged(state)) => self.on_ice_state(state),
            CoreEvent::Ice(IceEvent::NewLocalCandidate(candidate)) => {
                if self.gathering.add(candidate) {
                    self.gathering
                        .surface(&mut self.negotiator, &self.outputs.events);
                }
            }
            CoreEvent::Ice(IceEvent::GatheringComplete) => {
                self.gathering
                    .set_state(IceGatheringState::Complete, &self.outputs.events);
                self.gathering
                    .surface(&mut self.negotiator, &self.outputs.events);
            }
            CoreEvent::Ice(IceEvent::SelectedPairChanged { local, remote }) => {
                tracing::info!(%local, %remote, "ICE selected pair");
            }
            CoreEvent::Ice(_) => {}
            CoreEvent::DtlsConnected(connected) => {
                let secure = self.ice.as_mut().and_then(|path| path.core.secure().ok());
                if let Some(secure) = secure {
                    let info = DtlsInfo::new(secure.role(), connected);
                    self.outputs.dtls.send_replace(Some(Arc::new(info)));
                }
                self.outputs.set_state(RTCPeerConnectionState::Connected);
            }
            CoreEvent::DtlsFailed(error) => {
                tracing::warn!(%error, "DTLS failed");
                self.outputs.set_state(RTCPeerConnectionState::Failed);
                self.close_channels();
            }
            CoreEvent::DtlsClosed => {
                tracing::info!("the peer closed DTLS");
                self.hub.finish();
            }
            CoreEvent::Channel(event) => {
                let sctp = self
                    .ice
                    .as_mut()
                    .and_then(|path| path.core.secure().ok())
                    .and_then(|secure| secure.sctp_parameters());
                self.hub.on_event(sctp, event);
            }
        }
    }

    /// ICE's state: before DTLS is up a failed ICE fails the connection, after it ICE's state
    /// is the connection's.
    fn on_ice_state(&mut self, state: IceConnectionState) {
        tracing::info!(?state, "ICE connection state");
        self.outputs
            .events
            .send(PeerConnectionEvent::IceConnectionState(state));
        // DTLS is up while its association is published.
        let dtls_up = self.outputs.dtls.borrow().is_some();
        let mapped = match state {
            IceConnectionState::Connected | IceConnectionState::Completed => {
                dtls_up.then_some(RTCPeerConnectionState::Connected)
            }
            IceConnectionState::Disconnected => {
                dtls_up.then_some(RTCPeerConnectionState::Disconnected)
            }
            IceConnectionState::Failed => {
                // No path: no channel opens or carries anything any more.
                self.close_channels();
                Some(RTCPeerConnectionState::Failed)
            }
            IceConnectionState::Closed => Some(RTCPeerConnectionState::Closed),
            IceConnectionState::New | IceConnectionState::Checking => None,
        };
        if let Some(mapped) = mapped {
            self.outputs.set_state(mapped);
        }
    }

    /// Every channel closes, open or waiting to (the transport failed or closed).
    pub(crate) fn close_channels(&mut self) {
        self.hub.finish();
        for (channel, _) in self.pending_channels.drain(..) {
            channel.shared.advance_to(RTCDataChannelState::Closed);
        }
    }

    /// `iceConnectionState`.
    pub(crate) fn ice_state(&self) -> IceConnectionState {
        match self.ice.as_ref() {
            Some(path) => path.core.agent().state(),
            None if self
                .outputs
                .state
                .borrow()
                .eq(&RTCPeerConnectionState::Closed) =>
            {
                IceConnectionState::Closed
            }
            None => IceConnectionState::New,
        }
    }

    /// `close()`: the negotiator is closed (its descriptions stay readable), the state is
    /// `closed`, the data channels close, the core sends SCTP SHUTDOWN and DTLS close_notify,
    /// and the core and sockets go.
    pub(crate) fn close(&mut self, now: Instant) {
        self.negotiator.close();
        self.outputs.set_state(RTCPeerConnectionState::Closed);
        self.close_channels();
        self.outputs.dtls.send_replace(None);
        if let Some(path) = self.ice.as_mut() {
            path.core.close(now);
        }
        self.after(now);
        // Whatever the sockets did not take now is dropped with them.
        self.ice = None;
        self.outgoing.clear();
    }
}
