//! # antiphon-codec
//!
//! What media an endpoint can send and receive, and the rules that intersect a remote offer's
//! codecs, RTCP feedback and RTP header extensions with ours. Independent of SDP text: the
//! `antiphon-peer` crate maps `a=rtpmap` / `a=fmtp` / `a=rtcp-fb` / `a=extmap` to and from these
//! types, and a server can use this crate alone.
//!
//! * Capabilities in the W3C shape ([`Capabilities`], [`CodecCapability`], [`Codec`],
//!   [`RtcpFeedback`], [`HeaderExtensionCapability`]), with [`Capabilities::browser_default`]
//!   matching a current Chrome.
//! * Format parameters ([`Fmtp`]) parsed from `a=b;c=d` text, and typed views of the ones that
//!   decide compatibility: [`H264Fmtp`] / [`ProfileLevelId`], [`Vp9Fmtp`], [`Av1Fmtp`],
//!   [`H265Fmtp`], plus [`OpusFmtp`].
//! * [`negotiate`]: a pure function from an [`OfferedMedia`] section, our [`Capabilities`] and
//!   [`NegotiationOptions`] to a [`Negotiated`] answer with an [`Explanation`] for every offered
//!   codec and extension. [`negotiate_owned`] does the same consuming the offer, moving what
//!   the answer keeps instead of copying it.
//!
//! ```
//! use antiphon_codec::{
//!     negotiate, Capabilities, Codec, Fmtp, MediaKind, NegotiationOptions, OfferedCodec,
//!     OfferedMedia, RejectionReason, RtcpFeedback,
//! };
//!
//! // Safari offers Constrained High first, then Constrained Baseline, each with an rtx.
//! let h264 = |fmtp: &str| -> Result<Codec, antiphon_codec::CodecError> {
//!     Ok(Codec::new(MediaKind::Video, "H264", 90_000).with_fmtp(Fmtp::parse(fmtp)?))
//! };
//! let rtx = |apt: &str| Codec::new(MediaKind::Video, "rtx", 90_000).with_fmtp(Fmtp::new().with("apt", apt));
//! let mut offer = OfferedMedia::new(MediaKind::Video);
//! offer.codecs = vec![
//!     OfferedCodec::new(96, h264("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f")?)
//!         .with_feedback(vec![RtcpFeedback::nack(), RtcpFeedback::nack_pli(), RtcpFeedback::new("x-unknown", None)]),
//!     OfferedCodec::new(97, rtx("96")),
//!     OfferedCodec::new(98, h264("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")?),
//!     OfferedCodec::new(99, rtx("98")),
//! ];
//!
//! // We only do Constrained Baseline.
//! let mut ours = Capabilities::browser_default();
//! ours.video.codecs.retain(|c| c.codec.fmtp.get("profile-level-id").is_none_or(|id| id == "42e01f"));
//!
//! let answer = negotiate(&offer, &ours, &NegotiationOptions::send_recv());
//! let accepted: Vec<u8> = answer.codecs.iter().map(|c| c.payload_type).collect();
//! assert_eq!(accepted, [98, 99]);
//! assert!(matches!(
//!     answer.explanation.codec(96).and_then(|v| v.rejection()),
//!     Some(RejectionReason::FmtpMismatch { parameter: "profile-level-id", .. })
//! ));
//! assert_eq!(
//!     answer.explanation.codec(97).and_then(|v| v.rejection()),
//!     Some(&RejectionReason::RtxPrimaryRejected { apt: 96 })
//! );
//! # Ok::<(), antiphon_codec::CodecError>(())
//! ```

mod capabilities;
mod defaults;
mod error;
mod explain;
mod fmtp;
mod h264;
mod matching;
mod negotiate;
mod opus;
mod types;
mod video_fmtp;

pub use capabilities::{
    Capabilities, CodecCapability, HeaderExtensionCapability, MediaCapabilities,
};
pub use defaults::uri;
pub use error::CodecError;
pub use explain::{
    CodecVerdict, Explanation, ExtensionRejection, HeaderExtensionVerdict, RejectionReason, Verdict,
};
pub use fmtp::{Fmtp, FmtpParam, FmtpParamRef, MAX_FMTP_LEN, MAX_FMTP_PARAMS};
pub use h264::{DEFAULT_PROFILE_LEVEL_ID, H264Fmtp, H264Level, H264Profile, ProfileLevelId};
pub use negotiate::{
    Negotiated, NegotiatedCodec, NegotiatedHeaderExtension, NegotiationOptions, OfferedCodec,
    OfferedHeaderExtension, OfferedMedia, negotiate, negotiate_owned,
};
pub use opus::OpusFmtp;
pub use types::{Codec, CodecRole, Direction, MediaKind, RtcpFeedback};
pub use video_fmtp::{Av1Fmtp, H265Fmtp, H265TxMode, Vp9Fmtp};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
