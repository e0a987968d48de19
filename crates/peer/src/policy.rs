//! The bundle and RTCP mux policies of `RTCConfiguration`, which the answer function takes too
//! (so they live outside the runtime's configuration).

use serde::{Deserialize, Serialize};

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
