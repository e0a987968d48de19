//! Media on the wire: the pure parts the connection's media path stands on.
//!
//! * [`rtp`]: a borrowed RTP header view (RFC 3550) with header extensions (RFC 8285), and the
//!   SSRC rewrite a forwarder needs.
//! * [`rtcp`]: the packets of an RTCP compound, key frame requests (PLI, FIR) and a PLI.
//! * [`route`]: which m= section an incoming packet belongs to (RFC 8843 §9.2).
//!
//! SRTP itself (keyed from DTLS) lives in the sans-IO core
//! ([`ConnectionCore::send_media`](crate::core::ConnectionCore::send_media),
//! [`CoreEvent::Media`](crate::core::CoreEvent::Media)), with the `runtime` feature.

pub mod route;
pub mod rtcp;
pub mod rtp;
