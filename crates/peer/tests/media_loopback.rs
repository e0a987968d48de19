//! Media between two Antiphon connections on loopback: A sends video on its transceiver with
//! `write_rtp`; B's `media_receiver` gets every packet routed to the transceiver of that m=
//! section, unchanged but for the SSRC A's descriptions announce; getStats on both sides shows
//! the stream (`outbound-rtp`, `inbound-rtp`), and B's receiver reports reach A
//! (`remote-inbound-rtp` with a round trip). A transceiver that does not send refuses to.

mod common;

use std::time::Duration;

use antiphon_codec::{Direction, MediaKind};
use antiphon_peer::media::rtp::RtpHeader;
use antiphon_peer::{
    Error, InvalidStateReason, MediaStreamTrack, RTCRtpTransceiverInit, RTCStats, ReceivedMedia,
};
use bytes::Bytes;
use common::loopback::{connect, loopback_peer as peer, within};

fn vp8(seq: u16) -> Bytes {
    let mut packet = vec![0x80, 96];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    // Any SSRC: the connection sends with the transceiver's own.
    packet.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    packet.extend_from_slice(&[0x10, 0, 0x9d, 0x01, 0x2a]);
    packet.resize(900, seq as u8);
    Bytes::from(packet)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_written_on_one_side_is_received_routed_and_counted_on_the_other() {
    let (a, b) = (peer(), peer());
    let track = MediaStreamTrack {
        id: "camera".to_owned(),
        kind: MediaKind::Video,
    };
    let sender = a
        .add_track(track, vec!["s".to_owned()])
        .await
        .expect("track");
    // B receives only.
    let mut receiver = b.media_receiver().expect("the receiver, once");
    assert!(b.media_receiver().is_none());
    connect(&a, &b).await;
    let (ssrc, _) = a.sender_ssrc(sender).await.expect("A's SSRC");
    let on_b = b.get_transceivers().await;
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].current_direction, Some(Direction::RecvOnly));

    // B cannot send on a receive-only transceiver.
    assert!(matches!(
        b.write_rtp(on_b[0].id, vp8(0)).await,
        Err(Error::InvalidState(
            InvalidStateReason::TransceiverNotSending
        ))
    ));

    let count = 200u16;
    let sending = async {
        for seq in 0..count {
            a.write_rtp(sender, vp8(seq)).await.expect("write");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let receiving = async {
        let mut got = Vec::new();
        while got.len() < usize::from(count) {
            match receiver.recv().await.expect("media") {
                ReceivedMedia::Rtp(rtp) => got.push(rtp),
                ReceivedMedia::Rtcp { .. } => {}
                _ => {}
            }
        }
        got
    };
    let ((), got) = within("200 packets", async { tokio::join!(sending, receiving) }).await;
    for (seq, rtp) in got.iter().enumerate() {
        assert_eq!(rtp.transceiver, on_b[0].id);
        assert_eq!(rtp.mid, on_b[0].mid.clone().expect("mid"));
        assert!(!rtp.repair);
        assert_eq!(rtp.ssrc, ssrc, "the transceiver's SSRC");
        let header = RtpHeader::parse(&rtp.packet).expect("RTP");
        assert_eq!(header.sequence_number, seq as u16, "in order on loopback");
        assert_eq!(
            &rtp.packet[header.header_len..],
            &vp8(seq as u16)[12..],
            "payload unchanged"
        );
        // Numbered transport-wide (both negotiated TWCC, with Chromium's extension id 3).
        let twcc = header.extension(3).expect("transport-wide sequence number");
        assert_eq!(twcc, (seq as u16).to_be_bytes());
        // Each carries its section's mid (RFC 8843 §9.1; Chromium's id 4), which the
        // application did not write.
        assert_eq!(header.text_extension(4), Some(rtp.mid.as_str()));
    }

    // Receiver reports go every second: wait for one to reach A.
    let remote = within("a receiver report", async {
        loop {
            let report = a.get_stats().await;
            let remote = report.iter().find_map(|s| match s {
                RTCStats::RemoteInboundRtp(r) => Some(r.clone()),
                _ => None,
            });
            if let Some(remote) = remote.filter(|r| r.round_trip_time.is_some()) {
                return (report, remote);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let (report_a, remote) = remote;
    assert_eq!(
        (remote.ssrc, remote.kind, remote.packets_lost),
        (ssrc, "video", 0)
    );
    assert!(
        remote.round_trip_time.is_some_and(|rtt| rtt < 0.5),
        "{remote:?}"
    );
    let outbound = report_a
        .iter()
        .find_map(|s| match s {
            RTCStats::OutboundRtp(o) => Some(o.clone()),
            _ => None,
        })
        .expect("outbound-rtp on A");
    assert_eq!(
        (outbound.ssrc, outbound.packets_sent),
        (ssrc, u64::from(count))
    );
    assert_eq!(outbound.bytes_sent, u64::from(count) * (900 - 12));
    assert_eq!(outbound.remote_id.as_deref(), Some(remote.id.as_str()));
    assert_eq!(outbound.mid, on_b[0].mid);

    let report_b = b.get_stats().await;
    let inbound = report_b
        .iter()
        .find_map(|s| match s {
            RTCStats::InboundRtp(i) => Some(i.clone()),
            _ => None,
        })
        .expect("inbound-rtp on B");
    assert_eq!((inbound.ssrc, inbound.kind), (ssrc, "video"));
    assert_eq!(
        (inbound.packets_received, inbound.packets_lost),
        (u64::from(count), 0)
    );
    assert_eq!(inbound.mid, on_b[0].mid);
    // Each stream names its codec; the codec report says what the section maps.
    for (report, codec_id, pt) in [
        (&report_b, inbound.codec_id.as_deref(), vp8(0)[1] & 0x7f),
        (&report_a, outbound.codec_id.as_deref(), vp8(0)[1] & 0x7f),
    ] {
        let codec_id = codec_id.expect("a codec report");
        let codec = report
            .iter()
            .find_map(|s| match s {
                RTCStats::Codec(c) if c.id == codec_id => Some(c.clone()),
                _ => None,
            })
            .expect("the codec report named");
        assert_eq!(
            (
                codec.mime_type.as_str(),
                codec.clock_rate,
                codec.payload_type
            ),
            ("video/VP8", 90_000, pt)
        );
        assert_eq!(codec.transport_id, "T01");
    }
    let json = serde_json::to_string(&report_b).expect("json");
    assert!(json.contains("\"type\":\"inbound-rtp\""), "{json}");
    assert!(json.contains("\"type\":\"codec\""), "{json}");
    let stats = b.media_stats().await;
    assert_eq!((stats.unrouted, stats.dropped), (0, 0));
    // B reported every arrival back (TWCC), on loopback none missing.
    let stats = a.media_stats().await;
    assert!(stats.transport_feedback > 0, "{stats:?}");
    assert_eq!(stats.reported_lost, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_before_connecting_or_on_a_transceiver_without_a_section() {
    let a = peer();
    let id = a
        .add_transceiver(MediaKind::Audio, RTCRtpTransceiverInit::default())
        .await
        .expect("transceiver");
    assert!(matches!(
        a.write_rtp(id, vp8(1)).await,
        Err(Error::InvalidState(
            InvalidStateReason::TransceiverNotSending
        ))
    ));
    a.close().await;
    assert!(matches!(
        a.write_rtp(id, vp8(1)).await,
        Err(Error::InvalidState(InvalidStateReason::Closed))
    ));
}

/// Frames rather than packets: A packetizes VP8 frames for the codec its transceiver
/// negotiated ([`RTCPeerConnection::sender_codec`]); B receives the packets with that codec's
/// MIME type and reassembles every frame from them (start bit, marker bit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packetized_frames_arrive_whole_with_their_codec() {
    use antiphon_peer::media::packetize::{Packetizer, PayloadFormat};

    let (a, b) = (peer(), peer());
    let track = MediaStreamTrack {
        id: "screen".to_owned(),
        kind: MediaKind::Video,
    };
    let sender = a.add_track(track, vec![]).await.expect("track");
    let mut receiver = b.media_receiver().expect("receiver");
    connect(&a, &b).await;
    let codec = a.sender_codec(sender).await.expect("a negotiated codec");
    assert_eq!(
        (codec.mime_type.as_str(), codec.clock_rate),
        ("video/VP8", 90_000)
    );
    assert_eq!(codec.format, Some(PayloadFormat::Vp8));
    let mut packetizer = Packetizer::new(PayloadFormat::Vp8, codec.payload_type, 4321, 1200);
    let frames: Vec<Vec<u8>> = (0..20u32)
        .map(|k| {
            (0..(500 + 700 * (k as usize % 5)))
                .map(|i| (i as u32 * 7 + k) as u8)
                .collect()
        })
        .collect();
    let sending = async {
        for (k, frame) in frames.iter().enumerate() {
            let timestamp = 3000 * k as u32;
            for packet in packetizer.packetize(frame, timestamp).expect("packetize") {
                a.write_rtp(sender, Bytes::from(packet))
                    .await
                    .expect("write");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let receiving = async {
        let mut rebuilt: Vec<Vec<u8>> = Vec::new();
        let mut current = Vec::new();
        while rebuilt.len() < frames.len() {
            let Some(ReceivedMedia::Rtp(rtp)) = receiver.recv().await else {
                continue;
            };
            assert_eq!(rtp.mime_type.as_deref(), Some("video/VP8"));
            assert_eq!(rtp.clock_rate, Some(90_000));
            let header = RtpHeader::parse(&rtp.packet).expect("RTP");
            let descriptor = rtp.packet[header.header_len];
            if descriptor & 0x10 != 0 {
                current.clear();
            }
            current.extend_from_slice(&rtp.packet[header.header_len + 1..]);
            if header.marker {
                rebuilt.push(std::mem::take(&mut current));
            }
        }
        rebuilt
    };
    let ((), rebuilt) = within("20 frames", async { tokio::join!(sending, receiving) }).await;
    assert_eq!(rebuilt, frames);
}

/// `replaceTrack(null)` stops what a transceiver sends, a track of its kind brings it back, a
/// track of another kind is a TypeError; `request_keyframe` sends the peer a PLI about the
/// stream it receives, which the peer's application reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_track_and_key_frame_requests() {
    use antiphon_peer::TypeErrorReason;
    use antiphon_peer::media::rtcp::keyframe_requests;

    let (a, b) = (peer(), peer());
    let camera = MediaStreamTrack {
        id: "camera".to_owned(),
        kind: MediaKind::Video,
    };
    let sender = a.add_track(camera.clone(), vec![]).await.expect("track");
    let mut on_a = a.media_receiver().expect("A's receiver");
    let mut on_b = b.media_receiver().expect("B's receiver");
    connect(&a, &b).await;
    let (ssrc, _) = a.sender_ssrc(sender).await.expect("SSRC");
    a.write_rtp(sender, vp8(1)).await.expect("sends");

    a.replace_track(sender, None)
        .await
        .expect("replace with nothing");
    assert!(matches!(
        a.write_rtp(sender, vp8(2)).await,
        Err(Error::InvalidState(
            InvalidStateReason::TransceiverNotSending
        ))
    ));
    let microphone = MediaStreamTrack {
        id: "mic".to_owned(),
        kind: MediaKind::Audio,
    };
    assert!(matches!(
        a.replace_track(sender, Some(microphone)).await,
        Err(Error::Type(TypeErrorReason::TrackKindMismatch))
    ));
    a.replace_track(sender, Some(camera))
        .await
        .expect("a camera again");
    a.write_rtp(sender, vp8(3)).await.expect("sends again");

    // B got packets 1 and 3, then asks A for a key frame of that stream.
    let mut seqs = Vec::new();
    within("two packets", async {
        while seqs.len() < 2 {
            if let Some(ReceivedMedia::Rtp(rtp)) = on_b.recv().await {
                seqs.push(RtpHeader::parse(&rtp.packet).expect("RTP").sequence_number);
            }
        }
    })
    .await;
    assert_eq!(seqs, vec![1, 3]);
    let receiving = b.get_transceivers().await[0].id;
    assert_eq!(b.request_keyframe(receiving).await.expect("asked"), 1);
    let asked = within("the PLI", async {
        loop {
            if let Some(ReceivedMedia::Rtcp { packet, .. }) = on_a.recv().await {
                let asked = keyframe_requests(&packet);
                if !asked.is_empty() {
                    return asked;
                }
            }
        }
    })
    .await;
    assert_eq!(asked, vec![ssrc]);
}

/// Media that arrives before the answer describing it (a renegotiation: the answerer sends at
/// once, the offerer has not applied the answer yet) is held, and delivered once the answer
/// is applied, routed to the new transceiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_before_its_answer_is_held_until_the_answer_routes_it() {
    use antiphon_peer::RTCDataChannelInit;

    let (a, b) = (peer(), peer());
    a.create_data_channel("first", RTCDataChannelInit::default())
        .await
        .expect("channel");
    let mut on_a = a.media_receiver().expect("receiver");
    connect(&a, &b).await;

    let receiving = a
        .add_transceiver(
            MediaKind::Video,
            RTCRtpTransceiverInit::default().with_direction(Direction::RecvOnly),
        )
        .await
        .expect("transceiver");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(Some(offer.clone()))
        .await
        .expect("local offer");
    b.set_remote_description(offer).await.expect("remote offer");
    let camera = MediaStreamTrack {
        id: "late".to_owned(),
        kind: MediaKind::Video,
    };
    let sender = b.add_track(camera, vec![]).await.expect("track");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(Some(answer.clone()))
        .await
        .expect("local answer");
    for seq in 0..5 {
        b.write_rtp(sender, vp8(seq))
            .await
            .expect("B sends at once");
    }
    // The packets reach A before it knows the section they belong to.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.set_remote_description(answer).await.expect("the answer");
    let got = within("the held packets", async {
        let mut got = Vec::new();
        while got.len() < 5 {
            if let Some(ReceivedMedia::Rtp(rtp)) = on_a.recv().await {
                got.push(rtp);
            }
        }
        got
    })
    .await;
    assert!(got.iter().all(|rtp| rtp.transceiver == receiving));
    assert_eq!(a.media_stats().await.unrouted, 0);
}

/// Two tracks, each read from a receiver of its own: audio and video never mix, the
/// connection's receiver gets neither (only RTCP); dropping a track's receiver gives its
/// packets back to the connection's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_track_has_a_receiver_of_its_own() {
    let (a, b) = (peer(), peer());
    let audio = a
        .add_track(
            MediaStreamTrack {
                id: "mic".to_owned(),
                kind: MediaKind::Audio,
            },
            vec![],
        )
        .await
        .expect("audio");
    let video = a
        .add_track(
            MediaStreamTrack {
                id: "cam".to_owned(),
                kind: MediaKind::Video,
            },
            vec![],
        )
        .await
        .expect("video");
    let mut all = b.media_receiver().expect("receiver");
    connect(&a, &b).await;
    let on_b = b.get_transceivers().await;
    let (b_audio, b_video) = (on_b[0].id, on_b[1].id);
    let mut audio_track = b.track_receiver(b_audio).await.expect("audio track");
    let mut video_track = b.track_receiver(b_video).await.expect("video track");
    assert_eq!(audio_track.transceiver(), b_audio);

    let opus = |seq: u16| {
        let mut packet = vp8(seq).to_vec();
        packet[1] = 111;
        packet.truncate(100);
        Bytes::from(packet)
    };
    for seq in 0..10 {
        a.write_rtp(audio, opus(seq)).await.expect("audio");
        a.write_rtp(video, vp8(seq)).await.expect("video");
    }
    within("both tracks", async {
        for _ in 0..10 {
            let got = audio_track.recv().await.expect("audio packet");
            assert_eq!((got.transceiver, got.payload_type), (b_audio, 111));
            let got = video_track.recv().await.expect("video packet");
            assert_eq!((got.transceiver, got.payload_type), (b_video, 96));
        }
    })
    .await;
    drop(video_track);
    a.write_rtp(video, vp8(10)).await.expect("video");
    let back = within("the video packet on the connection's receiver", async {
        loop {
            if let Some(ReceivedMedia::Rtp(rtp)) = all.recv().await {
                return rtp;
            }
        }
    })
    .await;
    assert_eq!((back.transceiver, back.payload_type), (b_video, 96));
    assert_eq!(
        RtpHeader::parse(&back.packet).expect("RTP").sequence_number,
        10
    );
}
