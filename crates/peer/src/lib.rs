//! # antiphon-peer
//!
//! `RTCPeerConnection` for Rust, built on Antiphon's layers: SDP ([`antiphon_sdp`]), codecs
//! ([`antiphon_codec`]), ICE and DTLS.
//!
//! * [`answer`]: answer generation as a pure function: remote offer + local transceivers and
//!   capabilities + ICE credentials and candidates + certificate fingerprints -> answer SDP and
//!   an explanation of every decision.
//! * [`Negotiator`]: the JSEP state (descriptions, signaling state machine, transceivers)
//!   without any I/O.
//! * [`checklist`]: machine checks of an answer against its offer, numbered as the rules of
//!   `JSEP-ANSWER-CHECKLIST.md`.
//! * [`core`]: the connection as a sans-IO state machine:
//!   [`ConnectionCore`](crate::core::ConnectionCore) (ICE agent, DTLS, SCTP, data channels)
//!   takes datagrams, time and commands and gives datagrams, events and the next deadline; no
//!   socket, clock or task.
//! * [`media`]: RTP and RTCP views and the routing of incoming packets to m= sections; the
//!   core protects and unprotects them with SRTP keyed from DTLS, and the connection hands
//!   them to the application (`media_receiver`, `write_rtp`).
//! * [`RTCPeerConnection`]: the async connection: a handle to one task per connection that
//!   owns the negotiator and the transports (a core and its UDP sockets each: one per BUNDLE
//!   group or unbundled section), and runs every call in call order.
//!
//! ```
//! use antiphon_peer::answer::{self, AnswerContext, AnswerOptions, LocalTransport, SessionOrigin};
//! use antiphon_codec::Capabilities;
//!
//! let offer = antiphon_sdp::parse(concat!(
//!     "v=0\r\n",
//!     "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n",
//!     "s=-\r\n",
//!     "t=0 0\r\n",
//!     "a=group:BUNDLE 0\r\n",
//!     "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
//!     "c=IN IP4 0.0.0.0\r\n",
//!     "a=ice-ufrag:EsAw\r\n",
//!     "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n",
//!     "a=fingerprint:sha-256 D7:87:9F:43:7A:7B:BC:7E:8A:69:A4:34:A9:A5:E3:5B:A1:79:A8:8F:5E:87:AD:C4:6B:3C:6E:8D:1F:67:2C:2E\r\n",
//!     "a=setup:actpass\r\n",
//!     "a=mid:0\r\n",
//!     "a=sctp-port:5000\r\n",
//! ))?.description;
//! let transport = LocalTransport {
//!     ice_ufrag: "abcd".into(),
//!     ice_pwd: "0123456789abcdefghijklmn".into(),
//!     fingerprints: vec![],
//!     ..LocalTransport::default()
//! };
//! let context = AnswerContext {
//!     offer: &offer,
//!     local_sections: &[],
//!     capabilities: &Capabilities::browser_default(),
//!     options: &AnswerOptions::default(),
//! };
//! let origin = SessionOrigin { session_id: 1, session_version: 1 };
//! let answer = answer::create_answer(&context, &[transport], origin)?;
//! let sdp = answer.description.to_string();
//! assert!(sdp.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
//! assert!(sdp.contains("a=setup:active\r\n"));
//! assert!(sdp.contains("a=group:BUNDLE 0\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod answer;
pub mod checklist;
#[cfg(feature = "runtime")]
mod configuration;
#[cfg(feature = "runtime")]
mod connection;
#[cfg(feature = "runtime")]
pub mod core;
#[cfg(feature = "runtime")]
mod data_channel;
mod description;
#[cfg(feature = "runtime")]
mod driver;
mod error;
#[cfg(feature = "runtime")]
mod events;
#[cfg(feature = "runtime")]
mod gathering;
pub mod media;
#[cfg(feature = "runtime")]
mod negotiator;
pub mod offer;
mod policy;
#[cfg(feature = "runtime")]
mod sctp;
#[cfg(feature = "runtime")]
mod setup;
mod signaling;
#[cfg(feature = "runtime")]
mod stats;
mod transceiver;
#[cfg(feature = "runtime")]
mod transport;

#[cfg(feature = "runtime")]
pub use configuration::{RTCConfiguration, RTCIceServer, RTCIceTransportPolicy};
#[cfg(feature = "runtime")]
pub use connection::{
    MEDIA_RECEIVE_QUEUE, MediaReceiver, MediaStats, PeerOptions, RTCPeerConnection, ReceivedMedia,
    ReceivedRtp, SenderCodec, TrackReceiver, UNROUTED_HOLD, UNROUTED_HOLD_FOR,
};
#[cfg(feature = "runtime")]
pub use data_channel::{
    DataChannelMessage, RTCDataChannel, RTCDataChannelInit, RTCDataChannelState,
};
pub use description::{RTCSdpType, RTCSessionDescriptionInit};
#[cfg(feature = "runtime")]
pub use driver::DtlsInfo;
pub use error::{
    Error, InvalidAccessReason, InvalidModificationReason, InvalidStateReason, NotSupportedReason,
    OperationReason, SyntaxReason, TypeErrorReason,
};
#[cfg(feature = "runtime")]
pub use events::{
    PeerConnectionEvent, PeerConnectionEvents, RTCIceCandidateInit, RTCPeerConnectionIceErrorEvent,
    RTCPeerConnectionState, RTCTrackEvent,
};
#[cfg(feature = "runtime")]
pub use negotiator::{Applied, AppliedDescription, Entropy, Negotiator, OsEntropy};
pub use policy::{RTCBundlePolicy, RTCRtcpMuxPolicy};
#[cfg(feature = "runtime")]
pub use sctp::{SctpParameters, SctpTransport};
pub use signaling::{RTCSignalingState, Side, Transition};
#[cfg(feature = "runtime")]
pub use stats::{
    RTCCertificateStats, RTCDataChannelStats, RTCIceCandidatePairStats, RTCIceCandidateStats,
    RTCInboundRtpStreamStats, RTCOutboundRtpStreamStats, RTCPeerConnectionStats,
    RTCRemoteInboundRtpStreamStats, RTCStats, RTCStatsReport, RTCTransportStats,
};
pub use transceiver::{MediaStreamTrack, RTCRtpTransceiver, RTCRtpTransceiverInit, TransceiverId};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
