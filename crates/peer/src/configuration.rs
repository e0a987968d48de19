//! `RTCConfiguration` and its policies.

use serde::{Deserialize, Serialize};

/// `RTCIceServer`: a STUN or TURN server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RTCIceServer {
    /// `stun:host:port` / `turn:host:port` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `RTCIceTransportPolicy`: which candidates ICE may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RTCIceTransportPolicy {
    /// Only relay candidates.
    Relay,
    /// Every candidate.
    #[default]
    All,
}

/// `RTCBundlePolicy` (RFC 9429 §4.1.1): how media is bundled when the remote end is not
/// BUNDLE-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RTCBundlePolicy {
    /// One transport per media type unless the remote bundles.
    #[default]
    Balanced,
    /// One transport per m= section unless the remote bundles.
    MaxCompat,
    /// One transport for everything; sections that cannot be bundled are rejected.
    MaxBundle,
}

/// `RTCRtcpMuxPolicy` (RFC 9429 §4.1.1): whether RTCP must share the RTP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RTCRtcpMuxPolicy {
    /// RTCP must be multiplexed with RTP; descriptions without `a=rtcp-mux` are refused.
    #[default]
    Require,
    /// Non-muxed RTCP is negotiated when the remote end does not offer mux (an Antiphon
    /// extension of the old `negotiate` value, kept for gateways talking to legacy SIP endpoints).
    Negotiate,
}

/// `RTCConfiguration`.
#[derive(Debug, Clone, Default)]
pub struct RTCConfiguration {
    /// STUN/TURN servers used for gathering.
    pub ice_servers: Vec<RTCIceServer>,
    /// Which candidates may be used.
    pub ice_transport_policy: RTCIceTransportPolicy,
    /// The bundle policy.
    pub bundle_policy: RTCBundlePolicy,
    /// The RTCP mux policy.
    pub rtcp_mux_policy: RTCRtcpMuxPolicy,
}
