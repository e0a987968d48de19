//! Arbitrary bytes into everything the media path reads of a peer's packets once SRTP has
//! authenticated them (a peer holding the keys can send any plaintext): RTCP compounds (reports,
//! NACKs, key frame requests); RTP headers with their extensions; the router of RFC 8843 §9.2;
//! an incoming stream's statistics, report blocks and NACK lists; an outgoing stream's history
//! and RTX retransmissions; congestion control feedback (TWCC, REMB) read, and written back
//! as read; a header extension set on any packet. The input is split at 0xff bytes into packets. Never a panic; a
//! NACK we build reads back as the sequence numbers it was built from.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use antiphon_peer::media::feedback::{CongestionFeedback, congestion_feedback};
use antiphon_peer::media::receive::ReceiveStatistics;
use antiphon_peer::media::route::MediaRouter;
use antiphon_peer::media::rtcp::{keyframe_requests, nack, nacks, reports};
use antiphon_peer::media::rtp::{RtpHeader, with_extension};
use antiphon_peer::media::send::SendStream;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

static REMOTE: LazyLock<antiphon_sdp::SessionDescription> = LazyLock::new(|| {
    let offer = concat!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtpmap:111 opus/48000/2\r\n",
        "a=ssrc:1 cname:x\r\n",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtpmap:96 VP8/90000\r\n",
        "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID 2 3\r\n",
    );
    antiphon_sdp::parse(offer)
        .expect("the fixed offer parses")
        .description
});

fuzz_target!(|data: &[u8]| {
    let _ = keyframe_requests(data);
    let _ = reports(data);
    let lost = nacks(data);
    if let Some(&(media, _)) = lost.first() {
        let asked: Vec<u16> = lost
            .iter()
            .filter(|(m, _)| *m == media)
            .map(|(_, s)| *s)
            .collect();
        let built = nack(9, media, &asked);
        let mut again: Vec<u16> = nacks(&built).into_iter().map(|(_, s)| s).collect();
        let mut expected = asked.clone();
        again.sort_unstable();
        again.dedup();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(again, expected, "a NACK we build reads back as built");
    }

    for feedback in congestion_feedback(data) {
        if let CongestionFeedback::Transport(feedback) = feedback
            && let Ok(written) = feedback.write()
        {
            assert_eq!(
                congestion_feedback(&written),
                vec![CongestionFeedback::Transport(feedback)],
                "transport feedback written back reads as read"
            );
        }
    }

    let mut router = MediaRouter::new(&REMOTE, None);
    let mut receive: Option<ReceiveStatistics> = None;
    let mut send = SendStream::default();
    let start = Instant::now();
    for (k, packet) in data.split(|&b| b == 0xff).enumerate() {
        let now = start + Duration::from_millis(10 * k as u64);
        let Ok(header) = RtpHeader::parse(packet) else {
            continue;
        };
        assert!(header.header_len + header.payload_len <= packet.len());
        if let Ok(stamped) = with_extension(packet, 3, &[1, 2]) {
            let again = RtpHeader::parse(&stamped).expect("still RTP");
            assert_eq!(again.extension(3), Some(&[1, 2][..]));
            assert_eq!(again.payload_len, header.payload_len);
            assert_eq!(again.sequence_number, header.sequence_number);
        }
        for id in 0..=255u8 {
            let _ = header.extension(id);
            let _ = header.text_extension(id);
        }
        let _ = router.route(&header);
        match receive.as_mut() {
            Some(stats) => stats.receive(&header, now),
            None => {
                let mut stats = ReceiveStatistics::new(&header, now);
                stats.set_clock_rate(90_000);
                receive = Some(stats);
            }
        }
        if let Some(stats) = receive.as_mut() {
            let _ = stats.report_block(1, now);
            let _ = stats.nack_list(now, Duration::from_millis(5));
            let _ = stats.is_missing(header.sequence_number);
            let _ = stats.snapshot();
        }
        send.sent(&header, &Bytes::copy_from_slice(packet), now);
        if let Some(resent) = send.retransmission(header.sequence_number) {
            RtpHeader::parse(&resent).expect("a retransmission is RTP");
        }
    }
});
