//! antiphon-ice: ICE for WebRTC.
//!
//! * [`candidate`]: the RFC 8839 candidate grammar, parse and canonical write.
//! * [`credentials`]: `ice-ufrag` / `ice-pwd` generation (CSPRNG) and validation.
//! * [`agent`]: a sans-IO RFC 8445 agent on stun-rs with RFC 7675 consent freshness; it never
//!   reads the clock.

pub mod agent;
pub mod candidate;
pub mod credentials;
mod error;
#[cfg(feature = "sim")]
pub mod sim;

pub use agent::{
    AgentConfig, Datagram, DropCounters, DropReason, IceAgent, IceConnectionState, IceEvent,
    IceGatheringState, IceRole, PairState, Transmit,
};
pub use candidate::{Candidate, CandidateAddress, CandidateType, TcpType, Transport};
pub use credentials::IceCredentials;
pub use error::{
    CandidateError, CandidateErrorKind, CandidateField, CredentialsError, Error,
    RemoteCandidateError,
};
