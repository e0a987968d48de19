//! A thin tokio driver: binds UDP sockets, runs an [`IceAgent`] on them, demultiplexes incoming
//! datagrams per RFC 7983 (first byte 0..=3 STUN and 64..=79 TURN ChannelData to the agent,
//! 20..=63 DTLS to [`IceConn`], 128..=191 RTP/RTCP, which has no consumer yet and is counted and
//! dropped) and reports events. TURN servers reached over UDP
//! ([`AgentConfig::turn_servers`](crate::AgentConfig::turn_servers)) give relay candidates (as
//! [`IceEvent::NewLocalCandidate`] events once allocated); DTLS on a relayed pair goes through
//! the allocation both ways. Servers over TCP or TLS need [`crate::TurnStreams`] and a task
//! that runs the agent itself, as antiphon-peer's does.
//!
//! ```no_run
//! # async fn demo(offer_ufrag: &str, offer_pwd: &str, offer_candidates: &[&str]) -> Result<(), antiphon_ice::Error> {
//! use antiphon_ice::driver::{DriverConfig, IceDriver};
//! use antiphon_ice::{Candidate, IceCredentials, IceRole};
//!
//! let mut config = DriverConfig::new(IceRole::Controlled, IceCredentials::generate());
//! config.bind = vec!["127.0.0.1".parse().expect("ip")];
//! let mut ice = IceDriver::bind(config).await?;
//! ice.set_remote_credentials(IceCredentials::new(offer_ufrag, offer_pwd)?);
//! for line in offer_candidates {
//!     ice.add_remote_candidate(Candidate::parse(line)?).await?;
//! }
//! let answer_candidates = ice.local_candidates(); // put these in the answer
//! let conn = ice.dtls_conn().expect("taken once"); // hand to the DTLS handshake
//! # let _ = (answer_candidates, conn);
//! # Ok(()) }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant as TokioInstant;

use crate::agent::{
    AgentConfig, Datagram, IceAgent, IceConnectionState, IceEvent, IceRole, IceStats, PairState,
    Transmit,
};
use crate::candidate::Candidate;
use crate::conn::{DtlsDatagram, IceConn, RelayedSend, Selected, Traffic};
use crate::credentials::IceCredentials;
use crate::error::Error;
use crate::sockets::UdpSockets;
use crate::traffic::PairTraffic;

/// Largest datagram read from a socket.
const MAX_DATAGRAM: usize = 2048;
/// DTLS datagrams queued for the DTLS layer before new ones are dropped.
const DTLS_QUEUE: usize = 256;

/// How to start a driver.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DriverConfig {
    /// Agent settings.
    pub agent: AgentConfig,
    /// Our role (an answerer is controlled).
    pub role: IceRole,
    /// Our credentials.
    pub credentials: IceCredentials,
    /// Local IP addresses to bind one UDP socket each (port chosen by the system); each becomes
    /// a host candidate. Default: `127.0.0.1`. See [`interface_addresses`].
    pub bind: Vec<IpAddr>,
}

impl DriverConfig {
    /// Defaults with this role and these credentials.
    pub fn new(role: IceRole, credentials: IceCredentials) -> Self {
        DriverConfig {
            agent: AgentConfig::default(),
            role,
            credentials,
            bind: vec![IpAddr::from([127, 0, 0, 1])],
        }
    }
}

/// The addresses of the machine's interfaces that are up (through webrtc-util's `ifaces`):
/// IPv4 and global IPv6, without loopback, link-local or unspecified addresses.
pub fn interface_addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = webrtc_util::ifaces::ifaces() else {
        return Vec::new();
    };
    let mut ips: Vec<IpAddr> = interfaces
        .iter()
        .filter_map(|i| i.addr.map(|a| a.ip()))
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

// Payloads are boxed: the command channel allocates its slots (32 per block) at the size of
// the largest variant for the whole life of the driver, and candidates and credentials are large.
enum Command {
    SetRemoteCredentials(Box<IceCredentials>),
    AddRemoteCandidate(Box<Candidate>, oneshot::Sender<Result<(), Error>>),
    EndOfRemoteCandidates,
    Restart(Box<IceCredentials>),
    Stats(oneshot::Sender<Box<IceStats>>),
    Close,
}

/// Datagrams the driver did not hand to the agent or to DTLS.
#[derive(Debug, Default)]
struct Counters {
    rtp_dropped: AtomicU64,
    dtls_dropped: AtomicU64,
    unknown_dropped: AtomicU64,
}

/// A running ICE agent on UDP sockets. Dropping it stops the agent.
#[derive(Debug)]
pub struct IceDriver {
    commands: mpsc::UnboundedSender<Command>,
    // Events are boxed in the channel: it allocates 32 slots per block at the element size, and
    // an `IceEvent` carrying a candidate is large (the block was ~7 KiB per driver).
    events: mpsc::UnboundedReceiver<Box<IceEvent>>,
    state: watch::Receiver<IceConnectionState>,
    selected: watch::Receiver<Selected>,
    credentials: IceCredentials,
    local_candidates: Vec<Candidate>,
    conn: Option<Arc<IceConn>>,
    counters: Arc<Counters>,
    traffic: Arc<Traffic>,
    tasks: Vec<JoinHandle<()>>,
}

/// What [`IceDriver::stats`] reports: the agent's snapshot and the payload each pair carried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverStats {
    /// The agent: role, states, candidates, pairs and their check counters.
    pub agent: IceStats,
    /// Payload (DTLS) datagrams and bytes per pair.
    pub traffic: Vec<PairTraffic>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl IceDriver {
    /// Binds the sockets, gathers host candidates and starts the agent on the current tokio
    /// runtime. Refused ([`Error::RelayTransport`]) when a TURN server is to be reached over
    /// TCP or TLS.
    pub async fn bind(config: DriverConfig) -> Result<IceDriver, Error> {
        if let Some(server) = config
            .agent
            .turn_servers
            .iter()
            .find(|s| s.transport != crate::turn::TurnTransport::Udp)
        {
            return Err(Error::RelayTransport(server.transport));
        }
        let sockets = UdpSockets::bind(&config.bind)?;
        let now = TokioInstant::now().into_std();
        let credentials = config.credentials.clone();
        let mut agent = IceAgent::new(now, config.agent, config.role, config.credentials);
        agent.gather(&sockets.local_addresses());
        let local_candidates = agent.local_candidates();

        let (command_tx, command_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(agent.state());
        let (selected_tx, selected_rx) = watch::channel(None);
        let (dtls_tx, dtls_rx) = mpsc::channel(DTLS_QUEUE);
        let (relayed_tx, relayed_rx) = mpsc::channel(DTLS_QUEUE);
        let counters = Arc::new(Counters::default());
        let traffic = Arc::new(Traffic::default());

        let conn = Arc::new(IceConn::new(
            sockets.handles(),
            selected_rx.clone(),
            dtls_rx,
            relayed_tx,
            Arc::clone(&traffic),
        ));
        let run = Run {
            agent,
            sockets,
            commands: command_rx,
            events: event_tx,
            state: state_tx,
            selected: selected_tx,
            dtls: dtls_tx,
            relayed: relayed_rx,
            counters: counters.clone(),
            traffic: Arc::clone(&traffic),
        };
        let tasks = vec![tokio::spawn(run.run())];
        Ok(IceDriver {
            commands: command_tx,
            events: event_rx,
            state: state_rx,
            selected: selected_rx,
            credentials,
            local_candidates,
            conn: Some(conn),
            counters,
            traffic,
            tasks,
        })
    }

    /// Our credentials (for the answer's `a=ice-ufrag` / `a=ice-pwd`).
    pub fn local_credentials(&self) -> &IceCredentials {
        &self.credentials
    }

    /// Our host candidates (server-reflexive ones arrive as [`IceEvent::NewLocalCandidate`]).
    pub fn local_candidates(&self) -> Vec<Candidate> {
        self.local_candidates.clone()
    }

    /// Sets the peer's credentials.
    pub fn set_remote_credentials(&self, credentials: IceCredentials) {
        let _ = self
            .commands
            .send(Command::SetRemoteCredentials(Box::new(credentials)));
    }

    /// Adds a remote candidate (from the offer or trickled).
    pub async fn add_remote_candidate(&self, candidate: Candidate) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::AddRemoteCandidate(Box::new(candidate), tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The peer signalled end-of-candidates.
    pub fn end_of_remote_candidates(&self) {
        let _ = self.commands.send(Command::EndOfRemoteCandidates);
    }

    /// ICE restart with our new credentials; then set the peer's new credentials and candidates.
    pub fn restart(&mut self, credentials: IceCredentials) {
        self.credentials = credentials.clone();
        let _ = self.commands.send(Command::Restart(Box::new(credentials)));
    }

    /// `getStats` of ICE: the agent's snapshot and the payload per pair; [`Error::Closed`]
    /// once the driver stopped.
    pub async fn stats(&self) -> Result<DriverStats, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Stats(tx))
            .map_err(|_| Error::Closed)?;
        let agent = rx.await.map_err(|_| Error::Closed)?;
        Ok(DriverStats {
            agent: *agent,
            traffic: self.traffic.snapshot(),
        })
    }

    /// The next agent event; `None` once the driver stopped (or [`stop_events`] was called).
    ///
    /// [`stop_events`]: IceDriver::stop_events
    pub async fn next_event(&mut self) -> Option<IceEvent> {
        self.events.recv().await.map(|event| *event)
    }

    /// Takes the event stream out of the driver, for a task that reads the events without
    /// holding the driver (the peer connection's gathering task, which trickles candidates
    /// while the connection keeps the driver). Afterwards [`next_event`] returns `None`.
    /// Dropping the stream stops the events, as [`stop_events`] does.
    ///
    /// [`next_event`]: IceDriver::next_event
    /// [`stop_events`]: IceDriver::stop_events
    pub fn take_events(&mut self) -> IceEventStream {
        let (_, closed) = mpsc::unbounded_channel();
        IceEventStream {
            events: std::mem::replace(&mut self.events, closed),
        }
    }

    /// Stops the event stream, for a user that no longer reads it and follows the state and
    /// the selected pair through [`state_receiver`](IceDriver::state_receiver) and
    /// [`selected_pair`](IceDriver::selected_pair): events queued and later ones are dropped
    /// instead of kept until read (the stream is unbounded).
    pub fn stop_events(&mut self) {
        self.events.close();
        while self.events.try_recv().is_ok() {}
    }

    /// The connection state now.
    pub fn state(&self) -> IceConnectionState {
        *self.state.borrow()
    }

    /// Waits until the state is connected or completed; returns the final state otherwise.
    pub async fn connected(&mut self) -> IceConnectionState {
        let result = self
            .state
            .wait_for(|s| {
                matches!(
                    s,
                    IceConnectionState::Connected
                        | IceConnectionState::Completed
                        | IceConnectionState::Failed
                        | IceConnectionState::Closed
                )
            })
            .await
            .map(|s| *s);
        result.unwrap_or(IceConnectionState::Closed)
    }

    /// A receiver of the connection state, for tasks that follow it without holding the
    /// driver (the peer connection's DTLS/SCTP task).
    pub fn state_receiver(&self) -> watch::Receiver<IceConnectionState> {
        self.state.clone()
    }

    /// The selected pair `(local, remote)`.
    pub fn selected_pair(&self) -> Selected {
        *self.selected.borrow()
    }

    /// The `webrtc_util::Conn` for the DTLS handshake (taken once).
    pub fn dtls_conn(&mut self) -> Option<Arc<IceConn>> {
        self.conn.take()
    }

    /// RTP/RTCP datagrams dropped for want of a consumer, DTLS datagrams dropped (queue full or
    /// not from a validated pair), and datagrams of no known protocol.
    pub fn dropped(&self) -> (u64, u64, u64) {
        (
            self.counters.rtp_dropped.load(Ordering::Relaxed),
            self.counters.dtls_dropped.load(Ordering::Relaxed),
            self.counters.unknown_dropped.load(Ordering::Relaxed),
        )
    }

    /// Closes the agent and stops the sockets.
    pub fn close(&mut self) {
        let _ = self.commands.send(Command::Close);
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

/// The driver's events, taken out with [`IceDriver::take_events`].
#[derive(Debug)]
pub struct IceEventStream {
    events: mpsc::UnboundedReceiver<Box<IceEvent>>,
}

impl IceEventStream {
    /// The next agent event; `None` once the driver stopped.
    pub async fn next(&mut self) -> Option<IceEvent> {
        self.events.recv().await.map(|event| *event)
    }
}

impl Drop for IceDriver {
    fn drop(&mut self) {
        self.close();
    }
}

/// The driver task's state.
struct Run {
    agent: IceAgent,
    sockets: UdpSockets,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Box<IceEvent>>,
    state: watch::Sender<IceConnectionState>,
    selected: watch::Sender<Selected>,
    dtls: mpsc::Sender<DtlsDatagram>,
    /// DTLS datagrams `IceConn` sends on a relayed pair.
    relayed: mpsc::Receiver<RelayedSend>,
    counters: Arc<Counters>,
    traffic: Arc<Traffic>,
}

impl Run {
    /// The driver task. An `async` block rather than an `async fn`: the `async fn` future kept
    /// its argument and the local it is moved into both (the agent twice: 3.2 KiB, now 2.0 KiB).
    #[expect(
        clippy::manual_async_fn,
        reason = "the async fn future holds `self` twice"
    )]
    fn run(mut self) -> impl std::future::Future<Output = ()> {
        async move {
            // What `gather` produced before the task started (host candidates, and with no STUN
            // servers `GatheringComplete`) goes out now, not with the first packet or timeout.
            self.publish().await;
            loop {
                let mut deadline = self.agent.poll_timeout().map(TokioInstant::from_std);
                let now = TokioInstant::now();
                if deadline.is_some_and(|d| d <= now) {
                    // Due now (e.g. the first check right after remote candidates arrive): handle
                    // it here. A past deadline given to `sleep_until` waits for the timer wheel's
                    // next millisecond tick, which added up to 1 ms per step of connection setup.
                    // Anything still due afterwards goes through the timer as before (no busy loop).
                    self.agent.handle_timeout(now.into_std());
                    self.publish().await;
                    deadline = self.agent.poll_timeout().map(TokioInstant::from_std);
                }
                tokio::select! {
                    command = self.commands.recv() => match command {
                        Some(Command::Close) | None => {
                            self.agent.close();
                            self.publish().await;
                            return;
                        }
                        Some(command) => self.command(command),
                    },
                    (local, source, bytes) = std::future::poll_fn(|cx| {
                        // On the stack for the duration of one poll only, not in the task's future.
                        let mut buffer = [0u8; MAX_DATAGRAM];
                        self.sockets
                            .poll_recv(cx, &mut buffer)
                            .map(|(local, source, n)| (local, source, buffer[..n].to_vec()))
                    }) => {
                        self.demux(local, source, bytes);
                    }
                    Some(send) = self.relayed.recv() => {
                        let (source, destination, contents) = *send;
                        // From a relayed address the agent always takes it (`None`).
                        let _ = self.agent.route(Transmit { source, destination, contents });
                    }
                    _ = sleep_until(deadline) => self.agent.handle_timeout(TokioInstant::now().into_std()),
                }
                self.publish().await;
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::SetRemoteCredentials(c) => {
                tracing::debug!(ufrag = c.ufrag(), "ICE remote credentials");
                self.agent.set_remote_credentials(*c);
            }
            Command::AddRemoteCandidate(c, reply) => {
                let _ = reply.send(self.agent.add_remote_candidate(&c));
            }
            Command::EndOfRemoteCandidates => self.agent.end_of_remote_candidates(),
            Command::Restart(c) => {
                tracing::info!(ufrag = c.ufrag(), "ICE restart with new local credentials");
                self.agent.restart(*c);
            }
            Command::Stats(reply) => {
                let _ = reply.send(Box::new(self.agent.stats()));
            }
            Command::Close => self.agent.close(),
        }
    }

    /// RFC 7983 demultiplexing by the first byte.
    fn demux(&mut self, local: SocketAddr, source: SocketAddr, bytes: Vec<u8>) {
        let now = TokioInstant::now().into_std();
        match bytes.first() {
            // STUN, and ChannelData from a TURN server of ours.
            Some(0..=3 | 64..=79) => {
                let _ = self.agent.handle_receive(
                    now,
                    Datagram {
                        source,
                        destination: local,
                        contents: &bytes,
                    },
                );
                while let Some(relayed) = self.agent.poll_relayed() {
                    self.dtls_in(relayed.relayed, relayed.source, relayed.contents);
                }
            }
            Some(20..=63) => self.dtls_in(local, source, bytes),
            Some(128..=191) => {
                self.counters.rtp_dropped.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                self.counters
                    .unknown_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// DTLS from the selected pair, or from a validated pair (the peer may select before we
    /// learn of its nomination).
    fn dtls_in(&mut self, local: SocketAddr, source: SocketAddr, bytes: Vec<u8>) {
        let selected = self.agent.selected_pair() == Some((local, source));
        let valid = self.agent.pair_state(local, source) == Some(PairState::Succeeded);
        let dtls = matches!(bytes.first(), Some(20..=63));
        let length = bytes.len();
        if !(dtls && (selected || valid)) || self.dtls.try_send(Box::new((source, bytes))).is_err()
        {
            self.counters.dtls_dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            self.traffic.received(local, source, length);
        }
    }

    async fn publish(&mut self) {
        while let Some(t) = self.agent.poll_transmit() {
            // A failed send is a lost datagram; the agent retransmits.
            if let Err(error) = self.sockets.try_send(&t)
                && error.kind() == std::io::ErrorKind::WouldBlock
            {
                self.sockets.writable(t.source).await;
                let _ = self.sockets.try_send(&t);
            }
        }
        while let Some(event) = self.agent.poll_event() {
            let _ = self.events.send(Box::new(event));
        }
        // The selected pair first: whoever sees `connected` must also see the pair.
        let selected = self.agent.selected_pair();
        let selected_changed = self.selected.send_if_modified(|s| {
            let changed = *s != selected;
            *s = selected;
            changed
        });
        if selected_changed {
            match selected {
                Some((local, remote)) => {
                    tracing::info!(%local, %remote, "ICE selected pair");
                }
                None => tracing::debug!("ICE has no selected pair"),
            }
        }
        let state = self.agent.state();
        if self.state.send_if_modified(|s| {
            let changed = *s != state;
            *s = state;
            changed
        }) {
            tracing::info!(?state, "ICE connection state");
        }
    }
}

async fn sleep_until(deadline: Option<TokioInstant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
