//! The crate's error type and its typed leaves.

use std::fmt;

/// Every error antiphon-ice reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A candidate line did not parse.
    Candidate(CandidateError),
    /// Remote ICE credentials are malformed.
    Credentials(CredentialsError),
    /// A remote candidate was refused by the agent.
    RemoteCandidate(RemoteCandidateError),
    /// The agent is closed and accepts no more input.
    Closed,
    /// A socket operation in the tokio driver failed.
    Io(std::io::Error),
    /// The tokio driver reaches TURN servers over UDP only; one over TCP or TLS needs
    /// [`crate::TurnStreams`] and a task that runs the agent itself.
    RelayTransport(crate::turn::TurnTransport),
    /// A [`crate::UdpMux`] binds specific addresses, which become host candidates; not this
    /// unspecified one.
    MuxWildcardAddress(std::net::SocketAddr),
    /// Another endpoint of the [`crate::UdpMux`] already has this local ufrag.
    MuxUfragInUse(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Candidate(e) => write!(f, "invalid candidate: {e}"),
            Error::Credentials(e) => write!(f, "invalid ICE credentials: {e}"),
            Error::RemoteCandidate(e) => write!(f, "remote candidate refused: {e}"),
            Error::Closed => f.write_str("the ICE agent is closed"),
            Error::Io(e) => write!(f, "socket error: {e}"),
            Error::RelayTransport(t) => write!(
                f,
                "the ICE driver reaches TURN servers over UDP only, not {}",
                t.as_str()
            ),
            Error::MuxWildcardAddress(address) => write!(
                f,
                "a UDP mux binds addresses peers can reach, not the unspecified {address}"
            ),
            Error::MuxUfragInUse(ufrag) => {
                write!(
                    f,
                    "the UDP mux already routes ufrag {ufrag:?} to another agent"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Candidate(e) => Some(e),
            Error::Credentials(e) => Some(e),
            Error::RemoteCandidate(e) => Some(e),
            Error::Io(e) => Some(e),
            Error::Closed
            | Error::RelayTransport(_)
            | Error::MuxWildcardAddress(_)
            | Error::MuxUfragInUse(_) => None,
        }
    }
}

impl From<CandidateError> for Error {
    fn from(e: CandidateError) -> Self {
        Error::Candidate(e)
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}

impl From<RemoteCandidateError> for Error {
    fn from(e: RemoteCandidateError) -> Self {
        Error::RemoteCandidate(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// The field of a candidate line an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CandidateField {
    /// The `candidate:` prefix.
    Prefix,
    /// The foundation.
    Foundation,
    /// The component id.
    Component,
    /// The transport token.
    Transport,
    /// The priority.
    Priority,
    /// The connection address.
    Address,
    /// The port.
    Port,
    /// The `typ` keyword.
    TypKeyword,
    /// The candidate type.
    CandidateType,
    /// The `raddr` value.
    RelatedAddress,
    /// The `rport` value.
    RelatedPort,
    /// The `tcptype` value.
    TcpType,
    /// The `generation` value.
    Generation,
    /// The `ufrag` value.
    Ufrag,
    /// The `network-id` value.
    NetworkId,
    /// The `network-cost` value.
    NetworkCost,
    /// An extension name/value pair.
    Extension,
}

/// What was wrong with a candidate field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CandidateErrorKind {
    /// The line ended before this field.
    Missing,
    /// Two spaces in a row, or a trailing space.
    EmptyToken,
    /// A character outside the field's alphabet.
    InvalidCharacter,
    /// The field is longer than the grammar allows.
    TooLong,
    /// A number did not parse or is out of the allowed range.
    OutOfRange,
    /// Neither an IP address nor a well-formed host name.
    InvalidAddress,
    /// An expected keyword (`typ`, `candidate:`) is absent.
    ExpectedKeyword(&'static str),
    /// An extension name without a value.
    MissingValue,
    /// The same known extension appears twice.
    Duplicate,
    /// `tcptype` is not `active`, `passive` or `so`.
    UnknownTcpType,
    /// The line is longer than [`crate::candidate::MAX_CANDIDATE_LEN`].
    LineTooLong,
}

/// A candidate line parse error: which field, at which column (1-based, in bytes), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateError {
    /// The field at fault.
    pub field: CandidateField,
    /// 1-based byte column in the input where the field starts (or where it was expected).
    pub column: usize,
    /// What was wrong.
    pub kind: CandidateErrorKind,
}

impl fmt::Display for CandidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column {}: {:?}: {:?}",
            self.column, self.field, self.kind
        )
    }
}

impl std::error::Error for CandidateError {}

/// Why ICE credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The ufrag is shorter than 4 characters.
    UfragTooShort,
    /// The ufrag is longer than 256 characters.
    UfragTooLong,
    /// The password is shorter than 22 characters.
    PwdTooShort,
    /// The password is longer than 256 characters.
    PwdTooLong,
    /// A character outside ice-char (ALPHA / DIGIT / "+" / "/") in the ufrag, at this byte index.
    InvalidUfragCharacter(usize),
    /// A character outside ice-char in the password, at this 0-based byte index.
    InvalidPwdCharacter(usize),
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::UfragTooShort => f.write_str("ice-ufrag shorter than 4 characters"),
            CredentialsError::UfragTooLong => f.write_str("ice-ufrag longer than 256 characters"),
            CredentialsError::PwdTooShort => f.write_str("ice-pwd shorter than 22 characters"),
            CredentialsError::PwdTooLong => f.write_str("ice-pwd longer than 256 characters"),
            CredentialsError::InvalidUfragCharacter(i) => {
                write!(f, "ice-ufrag has a non ice-char at byte {i}")
            }
            CredentialsError::InvalidPwdCharacter(i) => {
                write!(f, "ice-pwd has a non ice-char at byte {i}")
            }
        }
    }
}

impl std::error::Error for CredentialsError {}

/// Why the agent refused a remote candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteCandidateError {
    /// Only UDP candidates are used (TCP, ssltcp and unknown transports are ignored).
    UnsupportedTransport,
    /// Only component 1 is used (rtcp-mux and BUNDLE are assumed).
    UnsupportedComponent(u16),
    /// The candidate type is not host, srflx, prflx or relay.
    UnsupportedType,
    /// The agent already holds the maximum number of remote candidates.
    TooManyCandidates,
    /// The candidate's `ufrag` extension names another ICE generation.
    WrongUfrag,
    /// The remote said end-of-candidates already.
    AfterEndOfCandidates,
}

impl fmt::Display for RemoteCandidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteCandidateError::UnsupportedTransport => f.write_str("transport is not UDP"),
            RemoteCandidateError::UnsupportedComponent(c) => write!(f, "component {c} is not 1"),
            RemoteCandidateError::UnsupportedType => f.write_str("unknown candidate type"),
            RemoteCandidateError::TooManyCandidates => {
                f.write_str("remote candidate limit reached")
            }
            RemoteCandidateError::WrongUfrag => f.write_str("ufrag of another ICE generation"),
            RemoteCandidateError::AfterEndOfCandidates => {
                f.write_str("candidate after end-of-candidates")
            }
        }
    }
}

impl std::error::Error for RemoteCandidateError {}
