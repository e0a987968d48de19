//! A TURN client (RFC 8656) for relayed candidates, sans-IO, on stun-rs.
//!
//! [`TurnClient`] is one allocation on one server. It speaks in messages: over UDP each is one
//! datagram; over TCP or TLS (RFC 8656 §3.1, `turn:...?transport=tcp` and `turns:`) the caller
//! writes them to its stream as they are and cuts what it reads with [`StreamFramer`]. The ICE
//! agent runs one per configured server ([`crate::AgentConfig::turn_servers`]) and makes relay
//! candidates of their allocations.
//!
//! [`ephemeral_credentials`] makes the time-limited credentials of the common shared-secret
//! scheme (coturn's `use-auth-secret`, the "TURN REST API").

mod client;
mod framing;
pub(crate) mod message;
#[cfg(feature = "sim")]
pub mod server;

use std::fmt;
use std::net::{IpAddr, SocketAddr};

pub use client::{TurnClient, TurnTransmit};
pub use framing::{FramingError, StreamFramer};

/// How the client reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TurnTransport {
    /// UDP (`turn:host` or `?transport=udp`).
    Udp,
    /// TCP (`turn:host?transport=tcp`): messages framed on the stream.
    Tcp,
    /// TLS over TCP (`turns:host`).
    Tls,
}

impl TurnTransport {
    /// The candidate's relay protocol as `getStats` names it (`relayProtocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            TurnTransport::Udp => "udp",
            TurnTransport::Tcp => "tcp",
            TurnTransport::Tls => "tls",
        }
    }
}

/// One TURN server and the long-term credentials for it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnServerConfig {
    /// The server's address.
    pub server: SocketAddr,
    /// How it is reached.
    pub transport: TurnTransport,
    /// The username.
    pub username: String,
    /// The password (`credential`).
    pub password: String,
}

impl TurnServerConfig {
    /// A server at `server`, reached over `transport`, with these credentials.
    pub fn new(
        server: SocketAddr,
        transport: TurnTransport,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            server,
            transport,
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for TurnServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnServerConfig")
            .field("server", &self.server)
            .field("transport", &self.transport)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Where an allocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TurnState {
    /// The Allocate request is out (or being authenticated).
    Allocating,
    /// The server relays for us.
    Allocated,
    /// The allocation could not be made, or was lost; see [`TurnEvent::Failed`].
    Failed,
    /// [`TurnClient::close`] asked the server to delete it.
    Closing,
    /// Deleted, or closed before it was made.
    Closed,
}

/// What a [`TurnClient`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnEvent {
    /// The allocation was made.
    Allocated {
        /// The relayed transport address (the relay candidate's address).
        relayed: SocketAddr,
        /// Our address as the server saw it (the candidate's `raddr`/`rport`).
        mapped: Option<SocketAddr>,
    },
    /// The allocation failed or was lost.
    Failed(TurnError),
    /// The server refused a permission: nothing is relayed to or from this address.
    PermissionFailed {
        /// The peer's address.
        peer: IpAddr,
        /// Why.
        error: TurnError,
    },
    /// The allocation was deleted after [`TurnClient::close`].
    Closed,
}

/// Why a TURN request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnError {
    /// No answer from the server in time.
    Timeout,
    /// 401 with our credentials: the username or password is wrong.
    Unauthorized,
    /// 438 Stale Nonce again after retrying with the new nonce.
    StaleNonce,
    /// 300 Try Alternate that could not be followed (a second redirect, a stream transport,
    /// no ALTERNATE-SERVER).
    TryAlternate(Option<SocketAddr>),
    /// 403 Forbidden (e.g. a peer address the server will not relay to).
    Forbidden,
    /// 437 Allocation Mismatch.
    AllocationMismatch,
    /// 441 Wrong Credentials (credentials differ from the allocation's).
    WrongCredentials,
    /// 442 Unsupported Transport Protocol.
    UnsupportedTransport,
    /// 486 Allocation Quota Reached.
    AllocationQuota,
    /// 508 Insufficient Capacity.
    InsufficientCapacity,
    /// A success response without XOR-RELAYED-ADDRESS.
    MissingRelayedAddress,
    /// Any other error response.
    Server {
        /// The error code.
        code: u16,
        /// The server's reason phrase.
        reason: String,
    },
    /// The connection to the server (TCP or TLS) failed or closed.
    Connection(String),
}

impl TurnError {
    /// The STUN error code behind it (W3C `icecandidateerror`'s `errorCode`); 701 when the
    /// server could not be reached at all.
    pub fn code(&self) -> u16 {
        match self {
            TurnError::Timeout | TurnError::Connection(_) | TurnError::MissingRelayedAddress => 701,
            TurnError::Unauthorized => 401,
            TurnError::StaleNonce => 438,
            TurnError::TryAlternate(_) => 300,
            TurnError::Forbidden => 403,
            TurnError::AllocationMismatch => 437,
            TurnError::WrongCredentials => 441,
            TurnError::UnsupportedTransport => 442,
            TurnError::AllocationQuota => 486,
            TurnError::InsufficientCapacity => 508,
            TurnError::Server { code, .. } => *code,
        }
    }

    pub(crate) fn from_code(code: u16, reason: String) -> Self {
        match code {
            401 => TurnError::Unauthorized,
            403 => TurnError::Forbidden,
            437 => TurnError::AllocationMismatch,
            438 => TurnError::StaleNonce,
            441 => TurnError::WrongCredentials,
            442 => TurnError::UnsupportedTransport,
            486 => TurnError::AllocationQuota,
            508 => TurnError::InsufficientCapacity,
            code => TurnError::Server { code, reason },
        }
    }
}

impl fmt::Display for TurnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TurnError::Timeout => f.write_str("the TURN server did not answer"),
            TurnError::Unauthorized => f.write_str(
                "the TURN server refused the credentials (401): wrong username or password",
            ),
            TurnError::StaleNonce => f.write_str("the TURN server kept rejecting the nonce (438)"),
            TurnError::TryAlternate(Some(to)) => {
                write!(
                    f,
                    "the TURN server redirected to {to} (300), which was not followed"
                )
            }
            TurnError::TryAlternate(None) => {
                f.write_str("the TURN server redirected (300) without an alternate server")
            }
            TurnError::Forbidden => f.write_str("the TURN server refused the request (403)"),
            TurnError::AllocationMismatch => f.write_str("allocation mismatch (437)"),
            TurnError::WrongCredentials => {
                f.write_str("wrong credentials for the allocation (441)")
            }
            TurnError::UnsupportedTransport => {
                f.write_str("the TURN server does not relay UDP (442)")
            }
            TurnError::AllocationQuota => f.write_str("allocation quota reached (486)"),
            TurnError::InsufficientCapacity => f.write_str("the TURN server has no capacity (508)"),
            TurnError::MissingRelayedAddress => {
                f.write_str("the TURN server's answer had no relayed address")
            }
            TurnError::Server { code, reason } => {
                write!(f, "the TURN server answered {code} {reason:?}")
            }
            TurnError::Connection(why) => {
                write!(f, "the connection to the TURN server failed: {why}")
            }
        }
    }
}

impl std::error::Error for TurnError {}

/// Time-limited credentials from a secret shared with the server (coturn's
/// `use-auth-secret`/`static-auth-secret`): the username is `<expiry>:<user>` (expiry in Unix
/// seconds), the password base64(HMAC-SHA1(secret, username)). Returns `(username, password)`.
pub fn ephemeral_credentials(secret: &str, user: &str, expires_unix: u64) -> (String, String) {
    use base64::Engine;
    let username = if user.is_empty() {
        expires_unix.to_string()
    } else {
        format!("{expires_unix}:{user}")
    };
    let mac = hmac_sha1::hmac_sha1(secret.as_bytes(), username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac);
    (username, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_credentials_match_the_turn_rest_scheme() {
        // Computed independently: printf '1700000000:alice' | openssl dgst -sha1 -hmac s3cret -binary | base64
        let (username, password) = ephemeral_credentials("s3cret", "alice", 1_700_000_000);
        assert_eq!(username, "1700000000:alice");
        assert_eq!(password, EXPECTED);
        assert_eq!(ephemeral_credentials("s3cret", "", 5).0, "5");
    }

    const EXPECTED: &str = "TtElzSjT0GdnTQ9xdcRNxx96yQs=";
}
