//! The connection task: one tokio task per connection owns everything that changes (the
//! [`Negotiator`], a [`ConnectionCore`] with its ICE agent, DTLS and SCTP and its UDP sockets
//! per transport, the data channels) and is the only place that reads the clock for them.
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
    Datagram, IceConnectionState, IceEvent, IceGatheringState, StreamInput, Transmit,
};
use tokio::sync::{mpsc, watch};

use super::network::{HostSockets, Network, PathSockets, Udp};
use super::transports::TransportPath;
use crate::core::{CoreEvent, SecureTransport};
use crate::data_channel::{InboundSender, RTCDataChannel, RTCDataChannelState};
use crate::driver::hub::ChannelHub;
use crate::driver::{Command, DtlsInfo, sleep_until};
use crate::events::{
    EventSender, PeerConnectionEvent, RTCPeerConnectionIceErrorEvent, RTCPeerConnectionState,
    publish_state,
};
use crate::negotiator::Negotiator;
use crate::sctp::SctpTransport;

/// An API call, run on the task.
pub(crate) type Op = Box<dyn FnOnce(&mut PeerTask, Instant) + Send>;

/// API calls queued before the caller waits.
pub(crate) const OP_QUEUE: usize = 16;

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

/// The task's state (see the [module](self) documentation), over the real network ([`Udp`])
/// or, in the simulator tests, a simulated one.
pub(crate) struct PeerTask<N: Network = Udp> {
    pub(crate) negotiator: Negotiator,
    /// Where the transports' sockets come from.
    pub(crate) network: N,
    /// The transports, from the first description that needs one to `close()`.
    pub(crate) paths: Vec<TransportPath<N::Sockets>>,
    /// `iceGatheringState` over every transport.
    pub(crate) gathering_state: IceGatheringState,
    /// The `null` candidate (end of every transport's gathering) was reported.
    pub(crate) end_surfaced: bool,
    /// The `iceConnectionState` last reported.
    pub(crate) ice_state_reported: IceConnectionState,
    /// `restartIce()` was called: the next offer carries new ICE credentials.
    pub(crate) restart_ice: bool,
    /// The mids whose remote track a `track` event announced (W3C [[FiredDirection]]
    /// includes receiving).
    pub(crate) receiving: std::collections::HashSet<String>,
    /// W3C's negotiation-needed flag: `negotiationneeded` was fired and no exchange has
    /// completed since.
    pub(crate) negotiation_needed: bool,
    /// The SCTP association was started (or is starting); a data section negotiated later
    /// starts it then.
    pub(crate) sctp_started: bool,
    pub(crate) certificate: Certificate,
    /// The addresses to gather on.
    pub(crate) bind: Vec<IpAddr>,
    /// `iceTransportPolicy: "relay"`: transports gather and pair relay candidates only.
    pub(crate) relay_only: bool,
    /// The URL of each TURN server (by address and transport), for `icecandidateerror`.
    pub(crate) turn_urls: Vec<(
        (std::net::SocketAddr, antiphon_ice::turn::TurnTransport),
        String,
    )>,
    /// The most transports (socket sets) the connection opens.
    pub(crate) max_transports: usize,
    pub(crate) hub: ChannelHub,
    /// Channels made by `createDataChannel` before SCTP started, opened when it does.
    pub(crate) pending_channels: Vec<(RTCDataChannel, InboundSender)>,
    pub(crate) outputs: Outputs,
    ops: mpsc::Receiver<Op>,
    commands: mpsc::Receiver<Command>,
    /// Datagrams the sockets could not take yet, with the index of their transport.
    pub(crate) outgoing: VecDeque<(usize, Transmit)>,
    /// Received media on its way to the application, and the routing tables.
    pub(crate) media: super::media::MediaDelivery,
}

impl<N: Network> PeerTask<N> {
    /// A task for a new connection over `network`, with the receiving ends of its queues.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of a new connection, once"
    )]
    pub(crate) fn new(
        network: N,
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
            network,
            paths: Vec::new(),
            gathering_state: IceGatheringState::New,
            end_surfaced: false,
            ice_state_reported: IceConnectionState::New,
            restart_ice: false,
            receiving: std::collections::HashSet::new(),
            negotiation_needed: false,
            sctp_started: false,
            certificate,
            bind,
            relay_only: false,
            turn_urls: Vec::new(),
            max_transports: 16,
            hub,
            pending_channels: Vec::new(),
            outputs,
            ops,
            commands,
            outgoing: VecDeque::new(),
            media: super::media::MediaDelivery::new(super::media::MediaQueue::default()),
        }
    }
}

impl PeerTask<Udp> {
    /// Runs until the last handle is gone.
    ///
    /// The task comes boxed: an `async fn` keeps its by-value arguments apart from its locals
    /// (rust-lang/rust#62958), so a task taken by value took twice its size in the future.
    pub(crate) async fn run(mut self: Box<Self>) {
        let progress = self.hub.progress();
        let mut turns = 0usize;
        loop {
            turns = turns.wrapping_add(1);
            let turn = turns;
            let now = Instant::now();
            if self
                .paths
                .iter()
                .any(|p| p.core.poll_timeout().is_some_and(|due| due <= now))
            {
                // Due now (the first check right after remote candidates arrive, a record to
                // retransmit): handled here, since a past deadline given to the timer waits for
                // its next millisecond tick, up to 1 ms per step of connection setup. What is
                // still due afterwards goes through the timer (no busy loop).
                self.handle_timeouts(now);
                self.after(now);
            }
            let deadline = self
                .paths
                .iter()
                .filter_map(|p| p.core.poll_timeout())
                .min();
            let blocked = self.hub.blocked();
            let front = self
                .outgoing
                .front()
                .and_then(|(path, t)| Some((&self.paths.get(*path)?.sockets, t.source)));
            // Only the sockets are borrowed across the wait (the cores are not `Sync`); the
            // common single transport needs no allocation for that.
            let first = self.paths.first().map(|p| &p.sockets);
            let more: Vec<&HostSockets> = match self.paths.get(1..) {
                Some(rest) if !rest.is_empty() => rest.iter().map(|p| &p.sockets).collect(),
                _ => Vec::new(),
            };
            tokio::select! {
                biased;
                () = async {
                    // Boxed: a full socket is rare, and the wait would otherwise take its
                    // room in every connection's task while it waits on anything.
                    if let Some((sockets, source)) = front {
                        Box::pin(sockets.writable(source)).await;
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
                (path, local, source, received) = std::future::poll_fn(|cx| {
                    // Each turn starts at the next transport, so a busy one cannot keep the
                    // others' datagrams waiting.
                    let count = 1 + more.len();
                    for k in 0..count {
                        let index = (turn + k) % count;
                        let sockets = if index == 0 { first } else { more.get(index - 1).copied() };
                        let Some(sockets) = sockets else { continue };
                        if let std::task::Poll::Ready((local, source, received)) =
                            sockets.poll_recv(cx)
                        {
                            return std::task::Poll::Ready((index, local, source, received));
                        }
                    }
                    std::task::Poll::Pending
                }), if first.is_some() => {
                    if let Some(path) = self.paths.get_mut(path) {
                        received.with_contents(|contents| {
                            let datagram = Datagram { source, destination: local, contents };
                            path.core.handle_receive(Instant::now(), datagram);
                        });
                    }
                }
                input = std::future::poll_fn(|cx| match self.network.streams.as_mut() {
                    Some(streams) => streams.poll_recv(cx),
                    None => std::task::Poll::Pending,
                }), if self.network.streams.is_some() => {
                    self.stream_input(Instant::now(), input);
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.handle_timeouts(Instant::now());
                }
                () = progress.notified(), if blocked => {}
            }
            self.after(Instant::now());
        }
        self.close(Instant::now());
    }
}

impl PeerTask<Udp> {
    /// A message from a TURN server over its stream, or the stream's end: to the transport
    /// whose allocation uses it.
    fn stream_input(&mut self, now: Instant, input: StreamInput) {
        let local = match &input {
            StreamInput::Message { local, .. } | StreamInput::Closed { local, .. } => *local,
        };
        let Some(path) = self
            .paths
            .iter_mut()
            .find(|p| p.core.agent().has_relay_from(local))
        else {
            return;
        };
        match input {
            StreamInput::Message {
                local,
                server,
                contents,
            } => {
                let datagram = Datagram {
                    source: server,
                    destination: local,
                    contents: &contents,
                };
                path.core.handle_receive(now, datagram);
            }
            StreamInput::Closed { local, reason } => {
                path.core.relay_connection_failed(now, local, &reason);
            }
        }
    }
}

impl<N: Network> PeerTask<N> {
    /// Every transport's timers due at `now`.
    pub(crate) fn handle_timeouts(&mut self, now: Instant) {
        for path in &mut self.paths {
            if path.core.poll_timeout().is_some_and(|due| due <= now) {
                path.core.handle_timeout(now);
            }
        }
    }

    fn command(&mut self, now: Instant, command: Command) {
        let secure = sctp_secure(&mut self.paths);
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

    /// After every input: the cores' events handled, their datagrams sent.
    pub(crate) fn after(&mut self, now: Instant) {
        for index in 0..self.paths.len() {
            while let Some(event) = self.paths.get_mut(index).and_then(|p| p.core.poll_event()) {
                self.on_event(now, index, event);
            }
        }
        let PeerTask {
            paths,
            hub,
            outgoing,
            network,
            ..
        } = self;
        if let Some(secure) = sctp_secure(paths) {
            hub.after(now, secure);
        }
        for (index, path) in paths.iter_mut().enumerate() {
            while let Some(transmit) = path.core.poll_transmit() {
                outgoing.push_back((index, transmit));
            }
        }
        while let Some((index, transmit)) = outgoing.front() {
            let Some(path) = paths.get(*index) else {
                outgoing.pop_front();
                continue;
            };
            if network.send_on_stream(transmit) {
                outgoing.pop_front();
                continue;
            }
            match path.sockets.try_send(transmit) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                sent => {
                    if let Err(error) = sent {
                        // A lost datagram: ICE, DTLS and SCTP retransmit.
                        tracing::debug!(%error, "datagram not sent");
                    }
                    outgoing.pop_front();
                }
            }
        }
    }

    fn on_event(&mut self, now: Instant, index: usize, event: CoreEvent) {
        match event {
            CoreEvent::Ice(IceEvent::ConnectionStateChanged(_)) => self.update_ice_state(),
            CoreEvent::Ice(IceEvent::NewLocalCandidate(candidate)) => {
                if self.paths[index].gathering.add(candidate) {
                    self.surface_candidates();
                }
            }
            CoreEvent::Ice(IceEvent::GatheringComplete) => {
                self.paths[index].gathering.state = IceGatheringState::Complete;
                self.update_gathering_state();
                self.surface_candidates();
            }
            CoreEvent::Ice(IceEvent::SelectedPairChanged { local, remote }) => {
                tracing::info!(%local, %remote, transport = index, "ICE selected pair");
            }
            CoreEvent::Ice(IceEvent::RelayFailed {
                local,
                server,
                transport,
                error,
            }) => {
                tracing::warn!(%server, %error, transport = index, "no relay candidate");
                let url = self
                    .turn_urls
                    .iter()
                    .find(|(key, _)| *key == (server, transport))
                    .map_or_else(|| server.to_string(), |(_, url)| url.clone());
                self.outputs
                    .events
                    .send(PeerConnectionEvent::IceCandidateError(
                        RTCPeerConnectionIceErrorEvent {
                            address: Some(local.ip()),
                            port: Some(local.port()),
                            url,
                            error_code: error.code(),
                            error_text: error.to_string(),
                        },
                    ));
            }
            CoreEvent::Ice(_) => {}
            CoreEvent::DtlsConnected(connected) => {
                let path = &mut self.paths[index];
                let Ok(secure) = path.core.secure() else {
                    return;
                };
                path.dtls = Some(Arc::new(DtlsInfo::new(secure.role(), connected)));
                self.update_dtls();
            }
            CoreEvent::DtlsFailed(error) => {
                tracing::warn!(%error, transport = index, "DTLS failed");
                self.outputs.set_state(RTCPeerConnectionState::Failed);
                self.close_channels();
            }
            CoreEvent::DtlsClosed => {
                tracing::info!(transport = index, "the peer closed DTLS");
                if self.paths[index].core.sctp_parameters().is_some() {
                    self.hub.finish();
                }
            }
            CoreEvent::Channel(event) => {
                let sctp = self.paths[index].core.sctp_parameters();
                self.hub.on_event(sctp, event);
            }
            CoreEvent::Media(packet) => self.on_media(now, index, packet),
            CoreEvent::Congestion(report) => self.on_congestion(index, report),
        }
    }

    /// Once DTLS is up on every started transport: the first's session is published (SRTP
    /// keys, the peer's certificate) and the connection is `connected`.
    fn update_dtls(&mut self) {
        let started = self.paths.iter().filter(|p| p.core.is_started());
        if started.clone().all(|p| p.dtls.is_some())
            && let Some(info) = started.clone().find_map(|p| p.dtls.clone())
        {
            self.outputs.dtls.send_replace(Some(info));
            self.outputs.set_state(RTCPeerConnectionState::Connected);
        }
    }

    /// ICE's state: before DTLS is up a failed ICE fails the connection, after it ICE's state
    /// is the connection's.
    pub(crate) fn on_ice_state(&mut self, state: IceConnectionState) {
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

    /// `close()`: the negotiator is closed (its descriptions stay readable), the state is
    /// `closed`, the data channels close, the core sends SCTP SHUTDOWN and DTLS close_notify,
    /// and the core and sockets go.
    pub(crate) fn close(&mut self, now: Instant) {
        self.negotiator.close();
        self.outputs.set_state(RTCPeerConnectionState::Closed);
        self.close_channels();
        self.outputs.dtls.send_replace(None);
        for path in &mut self.paths {
            path.core.close(now);
        }
        self.after(now);
        // Whatever the sockets did not take now is dropped with them.
        self.paths.clear();
        self.outgoing.clear();
        // Nothing follows `closed`: every event stream ends (and a task waiting on one).
        self.outputs.events.end();
    }
}

/// The DTLS and SCTP part of the transport carrying the data channels: the one SCTP runs on,
/// else (before it starts) the first. A function of the transports alone, so that the task's
/// other fields (the channel hub) stay free to borrow beside it.
pub(crate) fn sctp_secure<S>(paths: &mut [TransportPath<S>]) -> Option<&mut SecureTransport> {
    let index = sctp_path(paths).unwrap_or(0);
    paths.get_mut(index)?.core.secure().ok()
}

/// The transport SCTP runs on, once it started.
pub(crate) fn sctp_path<S>(paths: &[TransportPath<S>]) -> Option<usize> {
    paths
        .iter()
        .position(|p| p.core.sctp_parameters().is_some())
}
