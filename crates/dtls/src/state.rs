//! `RTCDtlsTransportState` and how changes are reported.
//!
//! States are published on a [`tokio::sync::watch`] channel rather than an event stream:
//! observers mostly want "what is the state now" (the W3C `state` attribute) plus a wake-up on
//! change (`statechange`), a late subscriber sees the current state at once, the sender never
//! blocks or buffers, and memory stays bounded however slow an observer is. The price is that a
//! slow observer may skip an intermediate state (e.g. see `New` then `Connected`); the terminal
//! states `Closed` and `Failed` are never lost because nothing follows them.

use std::fmt;

use tokio::sync::watch;

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

/// The sending half: owned by the transport and the established session.
#[derive(Debug, Clone)]
pub(crate) struct StatePublisher {
    sender: watch::Sender<DtlsTransportState>,
}

impl StatePublisher {
    pub(crate) fn new() -> Self {
        Self {
            sender: watch::Sender::new(DtlsTransportState::New),
        }
    }

    pub(crate) fn get(&self) -> DtlsTransportState {
        *self.sender.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<DtlsTransportState> {
        self.sender.subscribe()
    }

    /// Moves to `next` unless the state is already terminal; returns whether it moved.
    pub(crate) fn set(&self, next: DtlsTransportState) -> bool {
        self.sender.send_if_modified(|state| {
            if state.is_terminal() || *state == next {
                return false;
            }
            *state = next;
            true
        })
    }

    /// Moves to `Failed` if still `Connecting` (a handshake abandoned half-way).
    pub(crate) fn fail_if_connecting(&self) {
        self.sender.send_if_modified(|state| {
            let connecting = *state == DtlsTransportState::Connecting;
            if connecting {
                *state = DtlsTransportState::Failed;
            }
            connecting
        });
    }

    /// Moves from `New` to `Connecting`; returns the state it found otherwise.
    pub(crate) fn begin(&self) -> Result<(), DtlsTransportState> {
        let mut found = DtlsTransportState::New;
        self.sender.send_if_modified(|state| {
            found = *state;
            if *state == DtlsTransportState::New {
                *state = DtlsTransportState::Connecting;
                true
            } else {
                false
            }
        });
        if found == DtlsTransportState::New {
            Ok(())
        } else {
            Err(found)
        }
    }
}

/// Marks the handshake failed if its future is dropped before it finishes.
pub(crate) struct ConnectingGuard<'a> {
    publisher: &'a StatePublisher,
}

impl<'a> ConnectingGuard<'a> {
    pub(crate) fn new(publisher: &'a StatePublisher) -> Self {
        Self { publisher }
    }
}

impl Drop for ConnectingGuard<'_> {
    fn drop(&mut self) {
        self.publisher.fail_if_connecting();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_stick() {
        let publisher = StatePublisher::new();
        let mut receiver = publisher.subscribe();
        assert_eq!(publisher.begin(), Ok(()));
        assert!(receiver.has_changed().unwrap_or(false));
        assert_eq!(
            *receiver.borrow_and_update(),
            DtlsTransportState::Connecting
        );
        assert_eq!(publisher.begin(), Err(DtlsTransportState::Connecting));
        assert!(publisher.set(DtlsTransportState::Failed));
        assert!(!publisher.set(DtlsTransportState::Connected));
        assert!(!publisher.set(DtlsTransportState::Closed));
        assert_eq!(publisher.get(), DtlsTransportState::Failed);
        assert_eq!(*receiver.borrow_and_update(), DtlsTransportState::Failed);
    }

    #[test]
    fn w3c_strings() {
        let table = [
            (DtlsTransportState::New, "new"),
            (DtlsTransportState::Connecting, "connecting"),
            (DtlsTransportState::Connected, "connected"),
            (DtlsTransportState::Closed, "closed"),
            (DtlsTransportState::Failed, "failed"),
        ];
        for (state, text) in table {
            assert_eq!(state.to_string(), text);
        }
    }
}
