//! `RTCDtlsTransportState`, as [`DtlsConnection::state`](crate::DtlsConnection::state)
//! reports it.

use std::fmt;

/// The W3C `RTCDtlsTransportState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsTransportState {
    /// Created, handshake not started.
    New,
    /// Handshake in progress.
    Connecting,
    /// Handshake done and the peer's certificate matched the remote fingerprints.
    Connected,
    /// Closed locally (close_notify sent).
    Closed,
    /// The handshake failed: fingerprint mismatch, alert, timeout or transport error.
    Failed,
}

impl DtlsTransportState {
    /// The W3C enum string (`"new"`, `"connecting"`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Closed => "closed",
            Self::Failed => "failed",
        }
    }

    /// Whether no further transition can happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Failed)
    }
}

impl fmt::Display for DtlsTransportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
