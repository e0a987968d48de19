//! antiphon-ice: ICE for WebRTC.
//!
//! * [`candidate`]: the RFC 8839 candidate grammar, parse and canonical write.
//! * [`credentials`]: `ice-ufrag` / `ice-pwd` generation (CSPRNG) and validation.
//! * [`agent`]: a sans-IO RFC 8445 agent on stun-rs with RFC 7675 consent freshness; it never
//!   reads the clock.
//! * [`driver`]: a thin tokio driver on UDP sockets, RFC 7983 demultiplexing, and [`IceConn`],
//!   the `webrtc_util::Conn` the DTLS handshake runs on.
//! * [`turn`]: a sans-IO TURN client (RFC 8656) for relay candidates, over UDP, TCP or TLS.
//! * [`turn_streams`]: the TCP and TLS connections to TURN servers, for a task that runs agents.
//! * [`sockets`]: [`UdpSockets`], the host sockets for a task that runs the agent itself
//!   (antiphon-peer's connection task).

pub mod agent;
pub mod candidate;
mod conn;
pub mod credentials;
pub mod driver;
mod error;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sockets;
mod traffic;
pub mod turn;
pub mod turn_streams;
pub mod udp_mux;

pub use agent::{
    AgentConfig, Datagram, DropCounters, DropReason, IceAgent, IceConnectionState, IceEvent,
    IceGatheringState, IceRole, IceStats, PairCounters, PairState, PairStats, RelayedData,
    Transmit,
};
pub use candidate::{Candidate, CandidateAddress, CandidateType, TcpType, Transport};
pub use conn::IceConn;
pub use credentials::IceCredentials;
pub use error::{
    CandidateError, CandidateErrorKind, CandidateField, CredentialsError, Error,
    RemoteCandidateError,
};
pub use sockets::UdpSockets;
pub use traffic::{PairTraffic, TrafficCounters};
pub use turn_streams::{StreamInput, TurnStreams, TurnTls, TurnTlsError};
pub use udp_mux::{MuxEndpoint, UdpMux};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
