//! antiphon-ice: ICE for WebRTC.
//!
//! * [`candidate`]: the RFC 8839 candidate grammar, parse and canonical write.
//! * [`credentials`]: `ice-ufrag` / `ice-pwd` generation (CSPRNG) and validation.

pub mod candidate;
pub mod credentials;
mod error;

pub use candidate::{Candidate, CandidateAddress, CandidateType, TcpType, Transport};
pub use credentials::IceCredentials;
pub use error::{
    CandidateError, CandidateErrorKind, CandidateField, CredentialsError, Error,
    RemoteCandidateError,
};
