//! Codec negotiation: a browser's full video codec list against the default capabilities.

use std::hint::black_box;

use antiphon_codec::{
    Capabilities, Codec, MediaKind, NegotiationOptions, OfferedCodec, OfferedHeaderExtension,
    OfferedMedia, negotiate,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// Chrome's video offer: every default video codec (30 payload types: VP8, 8 H264, AV1, 2 VP9,
/// H265, red, their rtx, ulpfec, flexfec) at Chrome's payload types, with its feedback and header
/// extensions at Chrome's ids.
fn chrome_video_offer(capabilities: &Capabilities) -> OfferedMedia {
    let video = &capabilities.video;
    OfferedMedia {
        kind: MediaKind::Video,
        codecs: video
            .codecs
            .iter()
            .filter_map(|c| {
                let pt = c.preferred_payload_type?;
                Some(OfferedCodec::new(pt, c.codec.clone()).with_feedback(c.rtcp_feedback.clone()))
            })
            .collect(),
        rtcp_feedback_wildcard: Vec::new(),
        header_extensions: video
            .header_extensions
            .iter()
            .filter_map(|e| {
                Some(OfferedHeaderExtension::new(
                    u16::from(e.preferred_id?),
                    e.uri.clone(),
                ))
            })
            .collect(),
    }
}

fn bench_negotiate(c: &mut Criterion) {
    let local = Capabilities::browser_default();
    let offer = chrome_video_offer(&local);
    assert_eq!(offer.codecs.len(), 30);
    let options = NegotiationOptions::send_recv();
    assert_eq!(negotiate(&offer, &local, &options).codecs.len(), 30);
    c.bench_function("codec/negotiate_chrome_video_30pt", |b| {
        b.iter(|| negotiate(black_box(&offer), black_box(&local), black_box(&options)))
    });

    let preferences = NegotiationOptions::send_recv().with_codec_preferences(vec![
        Codec::new(MediaKind::Video, "AV1", 90_000),
        Codec::new(MediaKind::Video, "VP9", 90_000)
            .with_fmtp(antiphon_codec::Fmtp::new().with("profile-id", "0")),
        Codec::new(MediaKind::Video, "rtx", 90_000),
    ]);
    c.bench_function("codec/negotiate_chrome_video_30pt_with_preferences", |b| {
        b.iter(|| {
            negotiate(
                black_box(&offer),
                black_box(&local),
                black_box(&preferences),
            )
        })
    });

    let fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
    c.bench_function("codec/fmtp_parse_h264", |b| {
        b.iter(|| antiphon_codec::Fmtp::parse(black_box(fmtp)))
    });
}

criterion_group!(benches, bench_negotiate);
criterion_main!(benches);
