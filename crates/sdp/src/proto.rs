//! The transport protocol of an `m=` line.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// The `<proto>` field of an `m=` line (`UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, ...), kept as
/// written, with helpers that classify it.
///
/// It dereferences to `str`, so `proto.contains("RTP")` and `&proto` as `&str` work.
///
/// ```
/// use antiphon_sdp::Proto;
///
/// let rtp = Proto::from(Proto::UDP_TLS_RTP_SAVPF);
/// assert!(rtp.is_rtp() && rtp.is_dtls() && rtp.has_feedback() && !rtp.is_sctp());
/// let data = Proto::from("UDP/DTLS/SCTP");
/// assert!(data.is_dtls_sctp() && !data.is_rtp());
/// assert_eq!(data, "UDP/DTLS/SCTP");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Proto(String);

impl Proto {
    /// `UDP/TLS/RTP/SAVPF`: what browsers offer for audio and video (RFC 5764).
    pub const UDP_TLS_RTP_SAVPF: &'static str = "UDP/TLS/RTP/SAVPF";
    /// `UDP/DTLS/SCTP`: data channels over UDP (RFC 8841).
    pub const UDP_DTLS_SCTP: &'static str = "UDP/DTLS/SCTP";
    /// `TCP/DTLS/SCTP`: data channels over ICE-TCP (RFC 8841).
    pub const TCP_DTLS_SCTP: &'static str = "TCP/DTLS/SCTP";
    /// `DTLS/SCTP`: the pre-standard data channel protocol (with `a=sctpmap`).
    pub const DTLS_SCTP: &'static str = "DTLS/SCTP";
    /// `RTP/AVP`: plain RTP (RFC 3551).
    pub const RTP_AVP: &'static str = "RTP/AVP";

    /// The protocol as written.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The protocol as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated parts (`UDP`, `TLS`, `RTP`, `SAVPF`).
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    fn has_part(&self, part: &str) -> bool {
        has_part(&self.0, part)
    }

    /// Whether the section carries RTP (a part is `RTP`).
    pub fn is_rtp(&self) -> bool {
        is_rtp(&self.0)
    }

    /// Whether the RTP profile is secure (`SAVP` or `SAVPF`).
    pub fn is_secure_rtp(&self) -> bool {
        self.has_part("SAVP") || self.has_part("SAVPF")
    }

    /// Whether the RTP profile has early feedback (`AVPF` or `SAVPF`, RFC 4585).
    pub fn has_feedback(&self) -> bool {
        self.has_part("AVPF") || self.has_part("SAVPF")
    }

    /// Whether the transport runs over DTLS (a part is `TLS` or `DTLS`).
    pub fn is_dtls(&self) -> bool {
        self.has_part("TLS") || self.has_part("DTLS")
    }

    /// Whether the section carries SCTP (the last part is `SCTP`).
    pub fn is_sctp(&self) -> bool {
        self.parts()
            .last()
            .is_some_and(|p| p.eq_ignore_ascii_case("SCTP"))
    }

    /// Whether this is SCTP over DTLS: a WebRTC data channel section.
    pub fn is_dtls_sctp(&self) -> bool {
        self.is_sctp() && self.is_dtls()
    }

    /// The protocol as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Whether one of the `/`-separated parts of `text` is `part` (ASCII case-insensitive).
fn has_part(text: &str, part: &str) -> bool {
    text.as_bytes()
        .split(|&b| b == b'/')
        .any(|p| p.eq_ignore_ascii_case(part.as_bytes()))
}

/// Whether a `<proto>` field as written carries RTP (a part is `RTP`), without building a
/// [`Proto`].
pub(crate) fn is_rtp(text: &str) -> bool {
    has_part(text, "RTP")
}

impl Deref for Proto {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Proto {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Proto {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for Proto {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Proto {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl From<Proto> for String {
    fn from(proto: Proto) -> Self {
        proto.0
    }
}

impl PartialEq<str> for Proto {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Proto {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Proto {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Proto;

    #[test]
    fn classification() {
        // (proto, rtp, secure, feedback, dtls, sctp)
        let table = [
            ("UDP/TLS/RTP/SAVPF", true, true, true, true, false),
            ("UDP/TLS/RTP/SAVP", true, true, false, true, false),
            ("RTP/SAVPF", true, true, true, false, false),
            ("RTP/AVPF", true, false, true, false, false),
            ("RTP/AVP", true, false, false, false, false),
            ("TCP/DTLS/RTP/SAVPF", true, true, true, true, false),
            ("UDP/DTLS/SCTP", false, false, false, true, true),
            ("TCP/DTLS/SCTP", false, false, false, true, true),
            ("DTLS/SCTP", false, false, false, true, true),
            ("UDP/BFCP", false, false, false, false, false),
            ("udp", false, false, false, false, false),
        ];
        for (text, rtp, secure, feedback, dtls, sctp) in table {
            let proto = Proto::from(text);
            assert_eq!(
                (
                    proto.is_rtp(),
                    proto.is_secure_rtp(),
                    proto.has_feedback(),
                    proto.is_dtls(),
                    proto.is_sctp(),
                    proto.is_dtls_sctp()
                ),
                (rtp, secure, feedback, dtls, sctp, dtls && sctp),
                "{text}"
            );
            assert_eq!(proto.to_string(), text);
        }
    }
}
