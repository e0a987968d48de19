//! # antiphon-types
//!
//! The vocabulary Antiphon's layers share, one type each, so that the SDP model
//! (`antiphon-sdp`), codec negotiation (`antiphon-codec`) and DTLS (`antiphon-dtls`) speak of
//! the same thing with the same type and nothing converts between copies:
//!
//! * [`Direction`]: a media direction (`a=sendrecv` ... `a=inactive`, RTCRtpTransceiverDirection
//!   without `stopped`).
//! * [`Setup`]: an `a=setup` role (RFC 4145, RFC 5763), which decides the DTLS client.
//! * [`Fingerprint`] and its [`HashAlgorithm`]: a certificate fingerprint as `a=fingerprint`
//!   states it (RFC 8122), what the SDP attribute reads into and the DTLS handshake checks.
//! * [`candidate`]: the `a=candidate` grammar (RFC 8839 §5.1), which the SDP parser checks
//!   lines with and the ICE crate builds its candidates from.
//! * [`queue`]: queues that give back a burst's room once drained, so that an idle connection
//!   in any layer holds only what it needs.
//!
//! Each crate re-exports them where its users look (`antiphon_sdp::Direction`,
//! `antiphon_codec::Direction`, `antiphon_dtls::Setup`...). No dependencies.
//!
//! ```
//! use antiphon_types::{Direction, Setup};
//!
//! assert_eq!(Direction::from_token("sendonly"), Some(Direction::SendOnly));
//! assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
//! assert_eq!(Setup::from_token("actpass").map(Setup::as_str), Some("actpass"));
//! ```

use std::fmt;

pub mod candidate;
mod fingerprint;
pub mod queue;

pub use fingerprint::{Fingerprint, FingerprintError, HashAlgorithm};

/// A media direction, from the point of view of whoever states it (an offer's `sendonly` is
/// the answerer's `recvonly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`: send and receive.
    SendRecv,
    /// `sendonly`: send only.
    SendOnly,
    /// `recvonly`: receive only.
    RecvOnly,
    /// `inactive`: neither.
    Inactive,
}

impl Direction {
    /// The direction from its two halves.
    pub const fn from_send_recv(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// Includes sending.
    pub const fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Includes receiving.
    pub const fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same direction seen from the other end (`sendonly` <-> `recvonly`).
    pub const fn reversed(self) -> Self {
        Self::from_send_recv(self.receives(), self.sends())
    }

    /// What both directions allow.
    pub const fn intersect(self, other: Self) -> Self {
        Self::from_send_recv(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// True when every half of `needed` is in `self`.
    pub const fn covers(self, needed: Self) -> bool {
        (self.sends() || !needed.sends()) && (self.receives() || !needed.receives())
    }

    /// The SDP attribute name: `sendrecv`, `sendonly`, `recvonly`, `inactive`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an SDP attribute name states (exact, as SDP writes it).
    pub fn from_token(token: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|direction| direction.as_str() == token)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `a=setup` value: who opens the connection (for DTLS-SRTP, who sends the ClientHello).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this endpoint opens the connection (DTLS client).
    Active,
    /// `passive`: this endpoint accepts the connection (DTLS server).
    Passive,
    /// `actpass`: either; what an offer carries (RFC 5763 §5).
    ActPass,
    /// `holdconn`: no connection for now; not usable for DTLS-SRTP.
    HoldConn,
}

impl Setup {
    /// Every value, in the order RFC 4145 lists them.
    pub const ALL: [Self; 4] = [Self::Active, Self::Passive, Self::ActPass, Self::HoldConn];

    /// The attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }

    /// The role an attribute value states (exact, as SDP writes it).
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setup| setup.as_str() == token)
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn registered_hash_functions_give_their_digest_length_case_insensitively() {
        use crate::HashAlgorithm;
        for algorithm in HashAlgorithm::ALL {
            assert_eq!(
                HashAlgorithm::registered_digest_len(&algorithm.token().to_uppercase()),
                Some(algorithm.digest_len())
            );
        }
        assert_eq!(HashAlgorithm::registered_digest_len("MD5"), Some(16));
        assert_eq!(HashAlgorithm::registered_digest_len("sha-224"), Some(28));
        assert_eq!(HashAlgorithm::registered_digest_len("sha-3"), None);
    }

    use super::*;

    #[test]
    fn tokens_round_trip() {
        for direction in [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ] {
            assert_eq!(Direction::from_token(direction.as_str()), Some(direction));
            assert_eq!(direction.reversed().reversed(), direction);
        }
        for setup in Setup::ALL {
            assert_eq!(Setup::from_token(setup.as_str()), Some(setup));
        }
        assert_eq!(Direction::from_token("SendRecv"), None);
        assert_eq!(Setup::from_token("ACTIVE"), None);
    }

    #[test]
    fn directions_combine_by_halves() {
        assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
        assert_eq!(
            Direction::SendRecv.intersect(Direction::RecvOnly),
            Direction::RecvOnly
        );
        assert!(Direction::SendRecv.covers(Direction::SendOnly));
        assert!(!Direction::RecvOnly.covers(Direction::SendOnly));
    }
}

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
