//! The agent's public vocabulary: configuration, roles, states, events, datagrams, drop reasons.

use std::net::SocketAddr;
use std::time::Duration;

use crate::candidate::Candidate;

/// The agent's ICE role (RFC 8445 section 6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceRole {
    /// Nominates pairs (the offerer in JSEP, unless it is ICE-lite).
    Controlling,
    /// Honours the controlling agent's nominations (the answerer in JSEP).
    Controlled,
}

/// `RTCIceConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceConnectionState {
    /// Waiting for remote credentials or candidates.
    New,
    /// Checks are running and no pair is selected yet.
    Checking,
    /// A pair is selected and consent is fresh.
    Connected,
    /// A pair is selected, the remote said end-of-candidates, gathering is complete and no
    /// check is left to run.
    Completed,
    /// Every pair failed, or consent was lost (RFC 7675): nothing may be sent.
    Failed,
    /// Consent has not been refreshed for a while; it may come back.
    Disconnected,
    /// The agent is closed.
    Closed,
}

/// `RTCIceGatheringState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceGatheringState {
    /// Nothing gathered yet.
    New,
    /// Waiting for STUN servers.
    Gathering,
    /// Every local candidate is known.
    Complete,
}

/// Something the agent reports through [`crate::IceAgent::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// The connection state changed.
    ConnectionStateChanged(IceConnectionState),
    /// A local candidate to signal to the peer (`a=candidate` / `onicecandidate`).
    NewLocalCandidate(Candidate),
    /// Every local candidate has been reported (`end-of-candidates`).
    GatheringComplete,
    /// The pair used for data changed: send from `local` to `remote`.
    SelectedPairChanged {
        /// Local base address (the socket to send from).
        local: SocketAddr,
        /// Remote address.
        remote: SocketAddr,
    },
    /// The role changed after a role conflict (RFC 8445 section 7.3.1.1).
    RoleChanged(IceRole),
    /// A TURN allocation could not be made or was lost (W3C `icecandidateerror`).
    RelayFailed {
        /// The local address the allocation was asked from.
        local: SocketAddr,
        /// The server.
        server: SocketAddr,
        /// How it was reached.
        transport: crate::turn::TurnTransport,
        /// Why.
        error: crate::turn::TurnError,
    },
}

/// A received datagram handed to [`crate::IceAgent::handle_receive`].
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Where it came from.
    pub source: SocketAddr,
    /// The local socket address it arrived on.
    pub destination: SocketAddr,
    /// The bytes.
    pub contents: &'a [u8],
}

/// A datagram the agent wants sent, from [`crate::IceAgent::poll_transmit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local socket address to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// The bytes.
    pub contents: Vec<u8>,
}

/// Why an incoming datagram was dropped without changing any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// Not a STUN message (RFC 7983: first byte not 0..=3, bad header or length).
    NotStun,
    /// A STUN message whose attributes do not decode.
    Malformed,
    /// Not a Binding message.
    UnexpectedMethod,
    /// A STUN Binding indication (a keepalive): nothing to do.
    Indication,
    /// MESSAGE-INTEGRITY absent.
    MissingIntegrity,
    /// MESSAGE-INTEGRITY does not verify with the expected password.
    BadIntegrity,
    /// FINGERPRINT absent.
    MissingFingerprint,
    /// FINGERPRINT does not verify.
    BadFingerprint,
    /// A request without USERNAME, or not `<our ufrag>:<their ufrag>`.
    WrongUsername,
    /// A request without PRIORITY or role attribute.
    MissingAttribute,
    /// A response that matches no outstanding transaction.
    UnknownTransaction,
    /// A response from another address than the request went to (RFC 8445 section 7.2.5.2.1).
    NonSymmetric,
    /// The datagram arrived on an address that is not one of our bases.
    UnknownDestination,
    /// The peer-reflexive candidate limit is reached.
    PrflxLimit,
    /// The pair limit is reached and the new pair ranks too low.
    PairLimit,
    /// The agent is closed.
    Closed,
    /// The agent failed (consent lost or every pair failed); only an ICE restart revives it.
    Failed,
    /// Relayed data arrived while [`crate::IceAgent::poll_relayed`] already held its most.
    RelayQueueFull,
}

/// Agent settings. `Default` gives browser-like values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentConfig {
    /// Pacing interval Ta between checks (RFC 8445 section 14.2). Default 50 ms.
    pub ta: Duration,
    /// First retransmission timeout of a check; it doubles up to `max_rto`. Default 250 ms.
    pub initial_rto: Duration,
    /// Largest retransmission timeout. Default 1.6 s.
    pub max_rto: Duration,
    /// Retransmissions before a check fails. Default 6.
    pub max_retransmits: u32,
    /// STUN servers for server-reflexive candidates.
    pub stun_servers: Vec<SocketAddr>,
    /// How long the controlling agent waits for better pairs before nominating the best valid
    /// pair. Default 500 ms.
    pub nomination_delay: Duration,
    /// Base consent-check interval (RFC 7675), randomized by 0.8..1.2. Default 5 s.
    pub consent_interval: Duration,
    /// No consent response for this long: `disconnected`. Default 8 s.
    pub disconnected_timeout: Duration,
    /// No consent response for this long: consent lost, `failed` (RFC 7675). Default 30 s.
    pub consent_timeout: Duration,
    /// Checking without any valid pair for this long: `failed`. Default 30 s.
    pub checking_timeout: Duration,
    /// Most remote candidates kept (signalled and peer-reflexive). Default 100.
    pub max_remote_candidates: usize,
    /// Most peer-reflexive remote candidates learned from checks. Default 20.
    pub max_prflx: usize,
    /// Most candidate pairs. Default 100.
    pub max_pairs: usize,
    /// Most outstanding STUN transactions. Default 64.
    pub max_transactions: usize,
    /// The remote is an ICE-lite agent (RFC 8445 section 2.5): we must be controlling.
    pub remote_ice_lite: bool,
    /// TURN servers to allocate relay candidates on. The agent allocates on the UDP ones itself
    /// (from a host socket, in [`crate::IceAgent::gather`]); one reached over TCP or TLS needs a
    /// stream the caller opens, given with [`crate::IceAgent::add_relay`].
    pub turn_servers: Vec<crate::turn::TurnServerConfig>,
    /// `iceTransportPolicy: "relay"`: only relay candidates are gathered, offered and paired.
    pub relay_only: bool,
    /// Seed of the agent's random generator (tie-breaker, transaction ids, jitter, prflx
    /// foundations). `None`: seeded from the operating system.
    pub seed: Option<u64>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            ta: Duration::from_millis(50),
            initial_rto: Duration::from_millis(250),
            max_rto: Duration::from_millis(1600),
            max_retransmits: 6,
            stun_servers: Vec::new(),
            nomination_delay: Duration::from_millis(500),
            consent_interval: Duration::from_secs(5),
            disconnected_timeout: Duration::from_secs(8),
            consent_timeout: Duration::from_secs(30),
            checking_timeout: Duration::from_secs(30),
            max_remote_candidates: 100,
            max_prflx: 20,
            max_pairs: 100,
            max_transactions: 64,
            remote_ice_lite: false,
            turn_servers: Vec::new(),
            relay_only: false,
            seed: None,
        }
    }
}

/// Counters of dropped datagrams, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounters {
    counts: std::collections::BTreeMap<DropReason, u64>,
}

impl DropCounters {
    pub(crate) fn count(&mut self, reason: DropReason) {
        *self.counts.entry(reason).or_default() += 1;
    }

    /// How many datagrams were dropped for this reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts.get(&reason).copied().unwrap_or(0)
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}
