//! SRTP and SRTCP of one transport (RFC 3711, RFC 7714), keyed from the DTLS-SRTP exporter
//! (RFC 5764 §4.2) for the profile the handshake selected, on webrtc-rs's sans-IO `rtc-srtp`
//! with the ring provider DTLS uses. Each direction has its own context; what we receive is
//! checked against a replay window per SSRC, and the rollover counter follows the sequence
//! numbers.

use std::fmt;

use antiphon_dtls::{DtlsRole, SrtpKeyingMaterial, SrtpProfile};
use bytes::Bytes;
use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

use crate::media::rtp::is_rtcp;

/// Packets of the replay window per SSRC (libsrtp's default is 128; reordering deeper than
/// this on a real path is loss anyway).
pub const REPLAY_WINDOW: usize = 512;

/// Why a media packet was not sent or not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaError {
    /// DTLS has not finished its handshake (or no path was selected yet): no SRTP keys.
    NotKeyed,
    /// The transport is closed.
    Closed,
    /// The bytes are not an RTP (or RTCP) packet the context can protect.
    Malformed,
    /// The SSRC's packet index ran out (2^48 packets; RFC 3711 §9.2): the session needs new keys.
    KeyExhausted,
    /// The SRTP stack refused to build a context for the keys DTLS gave (logged with its
    /// reason).
    Keying,
    /// Too many packets queued for the network; this one was dropped.
    QueueFull,
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotKeyed => f.write_str("no SRTP keys yet: DTLS is not connected"),
            Self::Closed => f.write_str("the transport is closed"),
            Self::Malformed => f.write_str("not an RTP or RTCP packet"),
            Self::KeyExhausted => f.write_str("SRTP packet index exhausted for this key"),
            Self::Keying => f.write_str("the SRTP stack refused the DTLS keys"),
            Self::QueueFull => f.write_str("media send queue full"),
        }
    }
}

impl std::error::Error for MediaError {}

/// What the media side of a transport counted (serialized in camelCase, as stats are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MediaCounters {
    /// RTP packets unprotected and delivered.
    pub rtp_received: u64,
    /// RTCP compounds unprotected and delivered.
    pub rtcp_received: u64,
    /// Payload bytes of the RTP packets delivered (after SRTP, headers included).
    pub rtp_bytes_received: u64,
    /// RTP packets protected and queued.
    pub rtp_sent: u64,
    /// RTCP compounds protected and queued.
    pub rtcp_sent: u64,
    /// Protected bytes of the RTP packets queued.
    pub rtp_bytes_sent: u64,
    /// Packets whose authentication failed or that did not parse.
    pub unprotect_failed: u64,
    /// Packets refused as replays (seen before, or older than the window).
    pub replayed: u64,
    /// Packets that came before the keys (DTLS not done) or from an unvalidated address.
    pub dropped_unkeyed: u64,
    /// RTX packets that filled a hole (delivered as the packet they repair).
    pub repaired: u64,
    /// RTX packets that repaired nothing missing (padding probes, duplicates): dropped.
    pub repair_dropped: u64,
}

/// A decrypted media packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaPacket {
    /// An RTP packet (header, payload, padding).
    Rtp(Bytes),
    /// An RTCP compound packet.
    Rtcp(Bytes),
}

/// The two SRTP contexts of one transport: what [`ConnectionCore`](super::ConnectionCore)
/// keys when DTLS connects, usable alone by a media path of the caller's own.
pub struct SrtpSession {
    profile: SrtpProfile,
    inbound: Context,
    outbound: Context,
}

/// SRTP keyed by DTLS, its contexts made on first use: the exported keys are kept (about
/// 100 bytes), and the AES contexts and replay windows (about 2.4 KiB) only once a packet is
/// protected or unprotected, so a connection that carries no media never makes them.
#[derive(Debug)]
pub(crate) struct LazySrtp {
    role: DtlsRole,
    material: SrtpKeyingMaterial,
    /// `Some` once made; `Err(())` if the SRTP stack refused the keys (not tried again).
    /// Boxed: every DTLS connection has keys, few carry media.
    session: Option<Result<Box<SrtpSession>, ()>>,
}

impl LazySrtp {
    /// Keys from DTLS for `role` (our DTLS role), no context made yet.
    pub(crate) fn new(role: DtlsRole, material: SrtpKeyingMaterial) -> Self {
        Self {
            role,
            material,
            session: None,
        }
    }

    /// The negotiated profile.
    pub(crate) fn profile(&self) -> SrtpProfile {
        self.material.profile()
    }

    /// The contexts, made now if this is the first use; `None` if the SRTP stack refuses the
    /// keys (logged once).
    pub(crate) fn session(&mut self) -> Option<&mut SrtpSession> {
        let (role, material) = (self.role, &self.material);
        let session = self.session.get_or_insert_with(|| {
            SrtpSession::new(role, material)
                .map(Box::new)
                .inspect_err(|error| tracing::warn!(%error, "no SRTP"))
                .map_err(|_| ())
        });
        session.as_deref_mut().ok()
    }
}

impl fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// Both contexts from the exported material; `role` is our DTLS role (the client writes
    /// with the client keys).
    ///
    /// # Errors
    /// [`MediaError::Keying`] when the SRTP stack refuses the keys (logged with its reason).
    pub fn new(role: DtlsRole, material: &SrtpKeyingMaterial) -> Result<Self, MediaError> {
        let profile = material.profile();
        let stack_profile = match profile {
            SrtpProfile::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
            SrtpProfile::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
            SrtpProfile::Aes128CmHmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        };
        let provider = rtc_srtp::crypto::default_provider().map_err(|error| {
            tracing::warn!(%error, "no SRTP crypto provider");
            MediaError::Keying
        })?;
        let context = |keys: &antiphon_dtls::SrtpKeys, replay: bool| {
            let (srtp, srtcp) = if replay {
                (
                    Some(srtp_replay_protection(REPLAY_WINDOW)),
                    Some(srtcp_replay_protection(REPLAY_WINDOW)),
                )
            } else {
                (None, None)
            };
            Context::new(
                keys.key(),
                keys.salt(),
                stack_profile,
                srtp,
                srtcp,
                provider.crypto(),
            )
            .map_err(|error| {
                tracing::warn!(%error, %profile, "SRTP context refused");
                MediaError::Keying
            })
        };
        Ok(Self {
            profile,
            inbound: context(material.remote(role), true)?,
            outbound: context(material.local(role), false)?,
        })
    }

    /// The profile the contexts use.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// Unprotects one received SRTP or SRTCP packet (RFC 5761 tells which), counting what
    /// happened.
    pub fn unprotect(
        &mut self,
        packet: &[u8],
        counters: &mut MediaCounters,
    ) -> Option<MediaPacket> {
        let rtcp = is_rtcp(packet);
        let result = if rtcp {
            self.inbound.decrypt_rtcp(packet)
        } else {
            self.inbound.decrypt_rtp(packet)
        };
        match result {
            Ok(plain) if rtcp => {
                counters.rtcp_received += 1;
                Some(MediaPacket::Rtcp(plain.freeze()))
            }
            Ok(plain) => {
                counters.rtp_received += 1;
                counters.rtp_bytes_received += plain.len() as u64;
                Some(MediaPacket::Rtp(plain.freeze()))
            }
            Err(
                rtc_shared::error::Error::SrtpSsrcDuplicated(..)
                | rtc_shared::error::Error::SrtcpSsrcDuplicated(..),
            ) => {
                counters.replayed += 1;
                None
            }
            Err(error) => {
                tracing::trace!(%error, rtcp, "media packet not unprotected");
                counters.unprotect_failed += 1;
                None
            }
        }
    }

    /// Protects one RTP packet or RTCP compound.
    ///
    /// # Errors
    /// [`MediaError::Malformed`] for bytes that are not RTP/RTCP, [`MediaError::KeyExhausted`]
    /// past 2^48 packets of one SSRC.
    pub fn protect(
        &mut self,
        packet: &MediaPacket,
        counters: &mut MediaCounters,
    ) -> Result<Vec<u8>, MediaError> {
        let result = match packet {
            MediaPacket::Rtp(rtp) => self.outbound.encrypt_rtp(rtp),
            MediaPacket::Rtcp(rtcp) => self.outbound.encrypt_rtcp(rtcp),
        };
        let protected = result.map_err(|error| match error {
            rtc_shared::error::Error::ErrExceededMaxPackets => MediaError::KeyExhausted,
            _ => MediaError::Malformed,
        })?;
        match packet {
            MediaPacket::Rtp(_) => {
                counters.rtp_sent += 1;
                counters.rtp_bytes_sent += protected.len() as u64;
            }
            MediaPacket::Rtcp(_) => counters.rtcp_sent += 1,
        }
        // The buffer rtc-srtp wrote is ours alone: it becomes the datagram without a new
        // allocation.
        Ok(Vec::from(protected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn material(profile: SrtpProfile) -> SrtpKeyingMaterial {
        let bytes: Vec<u8> = (0..profile.keying_material_len())
            .map(|i| u8::try_from(i * 7 % 251).unwrap_or(0))
            .collect();
        SrtpKeyingMaterial::split(profile, &bytes).unwrap()
    }

    fn rtp(seq: u16) -> Bytes {
        let mut packet = vec![0x80, 96];
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 42]);
        packet.extend_from_slice(&[seq as u8; 100]);
        Bytes::from(packet)
    }

    #[test]
    fn client_and_server_understand_each_other_in_every_profile() {
        for profile in SrtpProfile::DEFAULT {
            let keys = material(profile);
            let mut client = SrtpSession::new(DtlsRole::Client, &keys).unwrap();
            let mut server = SrtpSession::new(DtlsRole::Server, &keys).unwrap();
            let mut sent = MediaCounters::default();
            let mut got = MediaCounters::default();
            for seq in [1u16, 2, 3] {
                let protected = client
                    .protect(&MediaPacket::Rtp(rtp(seq)), &mut sent)
                    .unwrap();
                assert_ne!(
                    &protected[12..],
                    &rtp(seq)[12..],
                    "{profile}: payload encrypted"
                );
                assert_eq!(
                    server.unprotect(&protected, &mut got),
                    Some(MediaPacket::Rtp(rtp(seq))),
                    "{profile}"
                );
                // A replay is refused and counted.
                assert_eq!(server.unprotect(&protected, &mut got), None, "{profile}");
            }
            let pli = Bytes::copy_from_slice(&crate::media::rtcp::picture_loss_indication(1, 42));
            let protected = server
                .protect(&MediaPacket::Rtcp(pli.clone()), &mut sent)
                .unwrap();
            assert_eq!(
                client.unprotect(&protected, &mut got),
                Some(MediaPacket::Rtcp(pli))
            );
            assert_eq!(
                (got.rtp_received, got.replayed, got.rtcp_received),
                (3, 3, 1)
            );
            assert_eq!((sent.rtp_sent, sent.rtcp_sent), (3, 1));

            // A flipped bit fails authentication; so does our own traffic fed back to us.
            let mut tampered = client
                .protect(&MediaPacket::Rtp(rtp(9)), &mut sent)
                .unwrap();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            assert_eq!(server.unprotect(&tampered, &mut got), None);
            let own = client
                .protect(&MediaPacket::Rtp(rtp(10)), &mut sent)
                .unwrap();
            assert_eq!(client.unprotect(&own, &mut got), None);
            assert_eq!(got.unprotect_failed, 2, "{profile}");
            assert_eq!(server.unprotect(&[0x80, 96, 0], &mut got), None);
        }
    }

    #[test]
    fn refuses_to_protect_what_is_not_rtp() {
        let keys = material(SrtpProfile::AeadAes128Gcm);
        let mut client = SrtpSession::new(DtlsRole::Client, &keys).unwrap();
        let mut counters = MediaCounters::default();
        let short = MediaPacket::Rtp(Bytes::from_static(&[0x80, 96, 0, 1]));
        assert_eq!(
            client.protect(&short, &mut counters),
            Err(MediaError::Malformed)
        );
        assert_eq!(counters.rtp_sent, 0);
    }

    #[test]
    fn lazy_contexts_are_made_on_first_use_only() {
        let keys = material(SrtpProfile::AeadAes128Gcm);
        let mut lazy = LazySrtp::new(DtlsRole::Client, keys.clone());
        assert!(lazy.session.is_none(), "no context before a packet");
        assert_eq!(lazy.profile(), SrtpProfile::AeadAes128Gcm);
        // Made on first use, once, and interoperating with an eagerly made peer.
        let mut server = SrtpSession::new(DtlsRole::Server, &keys).unwrap();
        let mut counters = MediaCounters::default();
        let packet = lazy
            .session()
            .unwrap()
            .protect(&MediaPacket::Rtp(rtp(1)), &mut counters)
            .unwrap();
        assert!(matches!(lazy.session, Some(Ok(_))));
        assert_eq!(
            server.unprotect(&packet, &mut counters),
            Some(MediaPacket::Rtp(rtp(1)))
        );
    }
}
