//! The JSEP signaling state machine (RFC 9429 §3.2, §4.1.10; webrtc-pc "set the session
//! description").
//!
//! [`RTCSignalingState::apply`] is a pure transition function: given the current state, who sets
//! the description and its type, it returns the next state or the W3C error the API must
//! reject with. [`crate::RTCPeerConnection`] calls it before it touches anything else, so a call
//! in the wrong state never changes any state.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::description::RTCSdpType;
use crate::error::{Error, InvalidStateReason};

/// `RTCSignalingState`: where the connection is in the offer/answer exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RTCSignalingState {
    /// No offer/answer exchange in progress.
    #[default]
    Stable,
    /// A local offer has been applied.
    HaveLocalOffer,
    /// A remote offer has been applied.
    HaveRemoteOffer,
    /// A remote offer and a local provisional answer have been applied.
    HaveLocalPranswer,
    /// A local offer and a remote provisional answer have been applied.
    HaveRemotePranswer,
    /// The connection is closed.
    Closed,
}

impl RTCSignalingState {
    /// The W3C string form (`"have-remote-offer"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::HaveLocalOffer => "have-local-offer",
            Self::HaveRemoteOffer => "have-remote-offer",
            Self::HaveLocalPranswer => "have-local-pranswer",
            Self::HaveRemotePranswer => "have-remote-pranswer",
            Self::Closed => "closed",
        }
    }

    /// Whether `createAnswer` is allowed in this state (webrtc-pc: `have-remote-offer` or
    /// `have-local-pranswer`).
    pub fn can_create_answer(self) -> bool {
        matches!(self, Self::HaveRemoteOffer | Self::HaveLocalPranswer)
    }

    /// Whether `createOffer` is allowed in this state (`stable` or `have-local-offer`).
    pub fn can_create_offer(self) -> bool {
        matches!(self, Self::Stable | Self::HaveLocalOffer)
    }

    /// The transition taken when a description of type `sdp_type` is set by `side`.
    ///
    /// Returns the resulting state and whether a remote offer arriving in `have-local-offer`
    /// first rolls the local offer back (webrtc-pc's implicit rollback, used by "perfect
    /// negotiation"). Errors are `InvalidStateError`, as webrtc-pc specifies.
    pub fn apply(self, side: Side, sdp_type: RTCSdpType) -> Result<Transition, Error> {
        use RTCSdpType::{Answer, Offer, Pranswer, Rollback};
        use RTCSignalingState::*;
        use Side::{Local, Remote};
        let next = |state| {
            Ok(Transition {
                state,
                implicit_rollback: false,
            })
        };
        match (self, side, sdp_type) {
            (Closed, _, _) => Err(Error::InvalidState(InvalidStateReason::Closed)),
            (HaveLocalOffer | HaveRemoteOffer, _, Rollback) => next(Stable),
            (Stable | HaveLocalOffer, Local, Offer) => next(HaveLocalOffer),
            (Stable | HaveRemoteOffer, Remote, Offer) => next(HaveRemoteOffer),
            (HaveLocalOffer, Remote, Offer) => Ok(Transition {
                state: HaveRemoteOffer,
                implicit_rollback: true,
            }),
            (HaveRemoteOffer | HaveLocalPranswer, Local, Answer) => next(Stable),
            (HaveRemoteOffer | HaveLocalPranswer, Local, Pranswer) => next(HaveLocalPranswer),
            (HaveLocalOffer | HaveRemotePranswer, Remote, Answer) => next(Stable),
            (HaveLocalOffer | HaveRemotePranswer, Remote, Pranswer) => next(HaveRemotePranswer),
            (state, side, sdp_type) => Err(Error::InvalidState(
                InvalidStateReason::WrongSignalingState {
                    state,
                    side,
                    sdp_type,
                },
            )),
        }
    }
}

impl fmt::Display for RTCSignalingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who applies a description: `setLocalDescription` or `setRemoteDescription`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// `setLocalDescription`.
    Local,
    /// `setRemoteDescription`.
    Remote,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::Remote => "remote",
        })
    }
}

/// The outcome of an allowed [`RTCSignalingState::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state after the description is applied.
    pub state: RTCSignalingState,
    /// The pending local offer is rolled back before the remote offer is applied.
    pub implicit_rollback: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use RTCSdpType::*;
    use RTCSignalingState::*;
    use Side::*;

    /// Every (state, side, type) combination and its outcome; `None` = InvalidStateError.
    #[test]
    fn transition_table() {
        let table: &[(
            RTCSignalingState,
            Side,
            RTCSdpType,
            Option<RTCSignalingState>,
        )] = &[
            (Stable, Local, Offer, Some(HaveLocalOffer)),
            (Stable, Remote, Offer, Some(HaveRemoteOffer)),
            (Stable, Local, Answer, None),
            (Stable, Remote, Answer, None),
            (Stable, Local, Pranswer, None),
            (Stable, Remote, Pranswer, None),
            (Stable, Local, Rollback, None),
            (Stable, Remote, Rollback, None),
            (HaveLocalOffer, Local, Offer, Some(HaveLocalOffer)),
            (HaveLocalOffer, Remote, Offer, Some(HaveRemoteOffer)),
            (HaveLocalOffer, Remote, Answer, Some(Stable)),
            (HaveLocalOffer, Remote, Pranswer, Some(HaveRemotePranswer)),
            (HaveLocalOffer, Local, Answer, None),
            (HaveLocalOffer, Local, Pranswer, None),
            (HaveLocalOffer, Local, Rollback, Some(Stable)),
            (HaveLocalOffer, Remote, Rollback, Some(Stable)),
            (HaveRemoteOffer, Remote, Offer, Some(HaveRemoteOffer)),
            (HaveRemoteOffer, Local, Offer, None),
            (HaveRemoteOffer, Local, Answer, Some(Stable)),
            (HaveRemoteOffer, Local, Pranswer, Some(HaveLocalPranswer)),
            (HaveRemoteOffer, Remote, Answer, None),
            (HaveRemoteOffer, Remote, Pranswer, None),
            (HaveRemoteOffer, Local, Rollback, Some(Stable)),
            (HaveLocalPranswer, Local, Pranswer, Some(HaveLocalPranswer)),
            (HaveLocalPranswer, Local, Answer, Some(Stable)),
            (HaveLocalPranswer, Local, Offer, None),
            (HaveLocalPranswer, Remote, Offer, None),
            (HaveLocalPranswer, Remote, Answer, None),
            (HaveLocalPranswer, Local, Rollback, None),
            (
                HaveRemotePranswer,
                Remote,
                Pranswer,
                Some(HaveRemotePranswer),
            ),
            (HaveRemotePranswer, Remote, Answer, Some(Stable)),
            (HaveRemotePranswer, Local, Offer, None),
            (HaveRemotePranswer, Remote, Offer, None),
            (HaveRemotePranswer, Local, Answer, None),
            (HaveRemotePranswer, Remote, Rollback, None),
            (Closed, Local, Offer, None),
            (Closed, Remote, Offer, None),
            (Closed, Local, Answer, None),
            (Closed, Remote, Rollback, None),
        ];
        for &(state, side, sdp_type, expected) in table {
            let got = state.apply(side, sdp_type);
            match expected {
                Some(next) => assert_eq!(
                    got.as_ref().map(|t| t.state).ok(),
                    Some(next),
                    "{state} + {side} {sdp_type:?}: {got:?}"
                ),
                None => assert!(
                    matches!(got, Err(Error::InvalidState(_))),
                    "{state} + {side} {sdp_type:?} must be InvalidStateError, got {got:?}"
                ),
            }
        }
    }

    #[test]
    fn remote_offer_over_local_offer_is_an_implicit_rollback() {
        let t = HaveLocalOffer.apply(Remote, Offer).unwrap();
        assert!(t.implicit_rollback);
        assert!(!Stable.apply(Remote, Offer).unwrap().implicit_rollback);
    }

    #[test]
    fn answer_creation_states() {
        let allowed: Vec<_> = [
            Stable,
            HaveLocalOffer,
            HaveRemoteOffer,
            HaveLocalPranswer,
            HaveRemotePranswer,
            Closed,
        ]
        .into_iter()
        .filter(|s| s.can_create_answer())
        .collect();
        assert_eq!(allowed, [HaveRemoteOffer, HaveLocalPranswer]);
    }

    #[test]
    fn serializes_to_w3c_names() {
        assert_eq!(
            serde_json::to_string(&HaveRemotePranswer).unwrap(),
            "\"have-remote-pranswer\""
        );
        assert_eq!(HaveLocalOffer.to_string(), "have-local-offer");
    }
}
