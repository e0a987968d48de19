//! `RTCSdpType` and `RTCSessionDescriptionInit`, in the JSON shape browsers exchange:
//! `{"type":"answer","sdp":"v=0\r\n..."}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, TypeErrorReason};

/// `RTCSdpType`: what a description is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RTCSdpType {
    /// An offer.
    Offer,
    /// A provisional answer.
    Pranswer,
    /// A final answer.
    Answer,
    /// Cancels the pending offer (or offer/pranswer) and returns to the last stable state.
    Rollback,
}

impl RTCSdpType {
    /// The W3C string form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Pranswer => "pranswer",
            Self::Answer => "answer",
            Self::Rollback => "rollback",
        }
    }
}

impl fmt::Display for RTCSdpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RTCSdpType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "offer" => Ok(Self::Offer),
            "pranswer" => Ok(Self::Pranswer),
            "answer" => Ok(Self::Answer),
            "rollback" => Ok(Self::Rollback),
            _ => Err(Error::Type(TypeErrorReason::UnknownSdpType)),
        }
    }
}

/// `RTCSessionDescriptionInit`: a description as exchanged over signaling.
///
/// Serializes to and from the JSON browsers use; `sdp` defaults to empty (as for `rollback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RTCSessionDescriptionInit {
    /// The description's type.
    #[serde(rename = "type")]
    pub sdp_type: RTCSdpType,
    /// The SDP text.
    #[serde(default)]
    pub sdp: String,
}

impl RTCSessionDescriptionInit {
    /// An offer carrying `sdp`.
    pub fn offer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: RTCSdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer carrying `sdp`.
    pub fn answer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: RTCSdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// A provisional answer carrying `sdp`.
    pub fn pranswer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: RTCSdpType::Pranswer,
            sdp: sdp.into(),
        }
    }

    /// A rollback (no SDP).
    pub fn rollback() -> Self {
        Self {
            sdp_type: RTCSdpType::Rollback,
            sdp: String::new(),
        }
    }

    /// Parses the browser JSON form `{"type":"offer","sdp":"..."}`.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|_| Error::Type(TypeErrorReason::InvalidJson))
    }

    /// The browser JSON form.
    pub fn to_json(&self) -> String {
        // Serializing a struct of a unit enum and a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_matches_browser_shape() {
        let init = RTCSessionDescriptionInit::answer("v=0\r\n");
        let json = init.to_json();
        assert_eq!(json, r#"{"type":"answer","sdp":"v=0\r\n"}"#);
        assert_eq!(RTCSessionDescriptionInit::from_json(&json).unwrap(), init);
    }

    #[test]
    fn rollback_needs_no_sdp() {
        let init = RTCSessionDescriptionInit::from_json(r#"{"type":"rollback"}"#).unwrap();
        assert_eq!(init, RTCSessionDescriptionInit::rollback());
    }

    #[test]
    fn bad_json_is_a_type_error() {
        for bad in [
            "",
            "{}",
            r#"{"type":"offerx","sdp":""}"#,
            r#"{"type":1}"#,
            "[",
        ] {
            assert!(
                matches!(
                    RTCSessionDescriptionInit::from_json(bad),
                    Err(Error::Type(TypeErrorReason::InvalidJson))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn sdp_type_strings() {
        for t in [
            RTCSdpType::Offer,
            RTCSdpType::Pranswer,
            RTCSdpType::Answer,
            RTCSdpType::Rollback,
        ] {
            assert_eq!(t.as_str().parse::<RTCSdpType>().unwrap(), t);
        }
        assert!("Offer".parse::<RTCSdpType>().is_err());
    }
}
