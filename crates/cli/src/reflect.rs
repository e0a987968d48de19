//! `antiphon serve` returns every audio and video track a page sends: each section the offer
//! sends on gets a track of ours in the answer (so it is `sendrecv`, with our SSRC), and every
//! RTP packet the page sends on it goes back on it with our SSRC, unchanged otherwise (same
//! payload type, sequence numbers, timestamps). Key frames: the first packet of a new stream,
//! and every PLI or FIR the page's receiver sends about our stream, make us ask the page's
//! sender for one with a PLI. One stream is reflected per transceiver: the first the page sent
//! on it (of a simulcast sender, the first layer to arrive; the others are received and
//! counted, not returned), and nothing on a transceiver whose negotiated direction does not
//! send (a `sendonly` page). Loss is the connection's to repair: it NACKs what the page's
//! stream misses (the page's RTX comes back as the packet it repairs, and is reflected as a late
//! packet), and answers the page's NACKs about ours from what it sent (as our RTX).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Weak};

use antiphon_codec::MediaKind;
use antiphon_peer::media::rtcp::{keyframe_requests, picture_loss_indication};
use antiphon_peer::{MediaStreamTrack, RTCPeerConnection, ReceivedMedia, TransceiverId};
use bytes::Bytes;

use crate::serve::say;

/// Before `createAnswer`: a track of ours on every audio or video transceiver whose section
/// the remote description sends on and that has none yet (the answer says `sendrecv`).
pub(crate) async fn add_tracks(pc: &RTCPeerConnection) -> Result<(), antiphon_peer::Error> {
    let Some(remote) = pc.remote_description().await else {
        return Ok(());
    };
    // It was applied, so it parses; one that does not is left as it is.
    let Ok(parsed) = antiphon_sdp::parse(&remote.sdp) else {
        return Ok(());
    };
    let remote = parsed.description;
    let session_direction = remote
        .direction()
        .unwrap_or(antiphon_sdp::Direction::SendRecv);
    for transceiver in pc.get_transceivers().await {
        let sends = transceiver
            .mid
            .as_deref()
            .and_then(|mid| remote.media_by_mid(mid))
            .is_some_and(|section| section.direction().unwrap_or(session_direction).sends());
        let media = matches!(transceiver.kind, MediaKind::Audio | MediaKind::Video);
        if sends && media && transceiver.track.is_none() && !transceiver.stopped {
            let id = format!("antiphon-reflect-{}", transceiver.mid.unwrap_or_default());
            let track = MediaStreamTrack {
                id,
                kind: transceiver.kind,
            };
            pc.add_track(track, vec!["antiphon-reflect".to_owned()])
                .await?;
        }
    }
    Ok(())
}

/// Starts reflecting `pc`'s media; ends with the connection.
pub(crate) fn spawn(pc: &Arc<RTCPeerConnection>) {
    if let Some(receiver) = pc.media_receiver() {
        tokio::spawn(run(Arc::downgrade(pc), receiver));
    }
}

async fn run(pc: Weak<RTCPeerConnection>, mut receiver: antiphon_peer::MediaReceiver) {
    // The page's stream reflected on each transceiver (its media SSRC), and our SSRC there
    // (`None`: the transceiver does not send).
    let mut incoming: HashMap<TransceiverId, u32> = HashMap::new();
    let mut ours: HashMap<TransceiverId, Option<u32>> = HashMap::new();
    let mut refused = 0u64;
    while let Some(media) = receiver.recv().await {
        let Some(pc) = pc.upgrade() else { break };
        match media {
            ReceivedMedia::Rtp(rtp) if !rtp.repair => {
                let transceiver = rtp.transceiver;
                if let Entry::Vacant(slot) = ours.entry(transceiver) {
                    let sends = pc.get_transceivers().await.iter().any(|t| {
                        t.id == transceiver && t.current_direction.is_some_and(|d| d.sends())
                    });
                    let ssrc = pc.sender_ssrc(transceiver).await.map(|(ssrc, _)| ssrc);
                    slot.insert(ssrc.filter(|_| sends));
                }
                let Some(&Some(our_ssrc)) = ours.get(&transceiver) else {
                    continue;
                };
                match incoming.get(&transceiver) {
                    Some(&pinned) if pinned != rtp.ssrc => continue,
                    Some(_) => {}
                    None => {
                        incoming.insert(transceiver, rtp.ssrc);
                        say(&format!(
                            "reflecting the page's {} stream (ssrc {}{})",
                            rtp.mid,
                            rtp.ssrc,
                            rtp.rid
                                .as_deref()
                                .map(|rid| format!(", rid {rid}"))
                                .unwrap_or_default()
                        ));
                        request_keyframe(&pc, transceiver, our_ssrc, rtp.ssrc).await;
                    }
                }
                if let Err(error) = pc.write_rtp(transceiver, rtp.packet).await {
                    refused += 1;
                    if refused.is_power_of_two() {
                        say(&format!("reflecting failed ({refused} packets): {error}"));
                    }
                }
            }
            ReceivedMedia::Rtcp { packet, .. } => {
                for requested in keyframe_requests(&packet) {
                    let Some((&transceiver, _)) =
                        ours.iter().find(|(_, ssrc)| **ssrc == Some(requested))
                    else {
                        continue;
                    };
                    if let Some(&theirs) = incoming.get(&transceiver) {
                        request_keyframe(&pc, transceiver, requested, theirs).await;
                    }
                }
            }
            _ => {}
        }
    }
}

/// A PLI from our stream on `transceiver` to the page's stream `theirs`.
async fn request_keyframe(
    pc: &RTCPeerConnection,
    transceiver: TransceiverId,
    ours: u32,
    theirs: u32,
) {
    let pli = picture_loss_indication(ours, theirs);
    // Refused only while the transceiver cannot send yet; the next request goes.
    let _ = pc
        .write_rtcp(transceiver, Bytes::copy_from_slice(&pli))
        .await;
}
