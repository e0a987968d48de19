//! Media on the wire: the pure parts the connection's media path stands on.
//!
//! * [`rtp`]: a borrowed RTP header view (RFC 3550) with header extensions (RFC 8285), and the
//!   SSRC rewrite a forwarder needs.
//! * [`rtcp`]: the packets of an RTCP compound, key frame requests (PLI, FIR) and a PLI.
//! * [`feedback`]: congestion control feedback, transport-wide (TWCC) and REMB, read and
//!   written.
//! * [`route`]: which m= section an incoming packet belongs to (RFC 8843 §9.2).
//! * [`packetize`]: encoded frames (Opus, VP8, VP9, H.264, AV1) into RTP packets.
//! * [`receive`]: an incoming stream's statistics (RFC 3550 A.1, A.3, A.8), its report
//!   blocks and the packets to NACK.
//! * `send` (feature `runtime`): an outgoing stream's statistics, retransmission history and
//!   RTX packets (RFC 4588), its round trip from report blocks.
//!
//! SRTP itself (keyed from DTLS) lives in the sans-IO core
//! ([`ConnectionCore::send_media`](crate::core::ConnectionCore::send_media),
//! [`CoreEvent::Media`](crate::core::CoreEvent::Media)), with the `runtime` feature.

pub mod feedback;
pub mod packetize;
pub mod receive;
pub mod route;
pub mod rtcp;
pub mod rtp;
#[cfg(feature = "runtime")]
pub mod send;
