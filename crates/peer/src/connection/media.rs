//! RTP and RTCP on the connection: what the transports' SRTP delivers, routed to the
//! transceiver of its m= section ([`MediaRouter`], RFC 8843 §9.2) and handed to the application
//! through one [`MediaReceiver`]; what the application writes on a transceiver, sent with that
//! transceiver's SSRC on the transport carrying its section.
//!
//! The receiver is a bounded queue: media that the application does not read in time is
//! dropped and counted ([`MediaStats::dropped`]), never buffered without bound, and never held
//! against the connection's other work. A packet no m= section claims yet (media can come
//! before the answer that describes it) is held briefly for the next description, then
//! dropped and counted ([`MediaStats::unrouted`]).

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::RTCPeerConnection;
use super::network::Network;
use super::task::PeerTask;
use crate::core::{CongestionReport, MediaCounters, MediaPacket, RtpParameters};
use crate::error::{Error, InvalidStateReason, OperationReason};
use crate::media::route::MediaRouter;
use crate::media::rtp::{RtpHeader, set_ssrc, with_extension};
use crate::media::send::RtxConfig;
use crate::stats::{
    RTCCodecStats, RTCInboundRtpStreamStats, RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats, RTCStats,
};
use crate::transceiver::TransceiverId;

/// Received packets waiting for the application at most; past it new ones are dropped.
pub const MEDIA_RECEIVE_QUEUE: usize = 1024;
/// Packets no m= section claims yet, held for a description that may (media can arrive
/// before the answer that describes it: DTLS finishes first); the oldest go past it.
pub const UNROUTED_HOLD: usize = 128;
/// How long an unrouted packet is held before it is dropped and counted.
pub const UNROUTED_HOLD_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// A received, unprotected media packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceivedMedia {
    /// An RTP packet routed to a transceiver.
    Rtp(ReceivedRtp),
    /// An RTCP compound (its SSRCs say which streams it is about).
    Rtcp {
        /// The transport it came on (index in creation order; 0 with BUNDLE).
        transport: usize,
        /// The unprotected compound.
        packet: Bytes,
    },
    /// Congestion control feedback from the peer, for the application's bandwidth
    /// estimation: transport-wide feedback resolved against the packets the transport sent
    /// (when TWCC was negotiated: every RTP packet we send is numbered), or the peer's REMB.
    /// It comes before the compound that carried it.
    Congestion {
        /// The transport it came on.
        transport: usize,
        /// What it says.
        report: CongestionReport,
    },
}

/// An RTP packet and where it belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedRtp {
    /// The transceiver of its m= section.
    pub transceiver: TransceiverId,
    /// The section's mid.
    pub mid: String,
    /// A retransmission (RTX) the connection could not turn back into its stream's packet.
    pub repair: bool,
    /// The simulcast layer's rid, when the stream named one (RFC 8852).
    pub rid: Option<String>,
    /// The payload type's MIME type as negotiated (`video/VP8`), when the section maps it.
    pub mime_type: Option<String>,
    /// Its clock rate.
    pub clock_rate: Option<u32>,
    /// The SSRC the sender used.
    pub ssrc: u32,
    /// The payload type.
    pub payload_type: u8,
    /// The whole unprotected packet: header, payload, padding.
    pub packet: Bytes,
}

/// The receiving end of the connection's media ([`RTCPeerConnection::media_receiver`]).
#[derive(Debug)]
pub struct MediaReceiver {
    rx: mpsc::Receiver<ReceivedMedia>,
}

impl MediaReceiver {
    /// The next packet; `None` once the connection is closed and everything was read.
    pub async fn recv(&mut self) -> Option<ReceivedMedia> {
        self.rx.recv().await
    }
}

/// The RTP packets of one transceiver (W3C's remote track, as packets):
/// [`RTCPeerConnection::track_receiver`].
#[derive(Debug)]
pub struct TrackReceiver {
    transceiver: TransceiverId,
    rx: mpsc::Receiver<ReceivedRtp>,
}

impl TrackReceiver {
    /// The transceiver whose packets these are.
    pub fn transceiver(&self) -> TransceiverId {
        self.transceiver
    }

    /// The next packet; `None` once the connection is closed and everything was read.
    pub async fn recv(&mut self) -> Option<ReceivedRtp> {
        self.rx.recv().await
    }
}

/// The media side's counters over every transport ([`RTCPeerConnection::media_stats`]);
/// serialized in camelCase, as stats are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MediaStats {
    /// SRTP/SRTCP counters, summed over the transports.
    pub transport: MediaCounters,
    /// RTP packets no m= section claimed within [`UNROUTED_HOLD_FOR`] (or past
    /// [`UNROUTED_HOLD`] held): dropped.
    pub unrouted: u64,
    /// Packets dropped because the application did not read them in time.
    pub dropped: u64,
    /// Transport-wide feedback packets received from the peer.
    pub transport_feedback: u64,
    /// Of the packets they reported, those the peer had not received.
    pub reported_lost: u64,
    /// The peer's latest REMB estimate, bits per second.
    pub remote_estimate: Option<u64>,
}

/// The connection's media queue, shared by the task and the [`RTCPeerConnection`] handle:
/// made when the first packet arrives or the application asks for its receiver, whichever
/// comes first, so that a connection that never carries media (most data-channel ones)
/// never allocates it (a tokio queue allocates its first 32 slots, 4.6 KiB here, up front).
#[derive(Debug, Default, Clone)]
pub(crate) struct MediaQueue(std::sync::Arc<std::sync::Mutex<MediaQueueSlot>>);

#[derive(Debug, Default)]
struct MediaQueueSlot {
    /// The sending side until the task takes it.
    tx: Option<mpsc::Sender<ReceivedMedia>>,
    /// The receiving side until the application takes it.
    rx: Option<MediaReceiver>,
    /// The queue was made (the receiver is the application's once `rx` is gone).
    made: bool,
}

impl MediaQueueSlot {
    fn make(&mut self) {
        if !self.made {
            let (tx, rx) = mpsc::channel(MEDIA_RECEIVE_QUEUE);
            self.tx = Some(tx);
            self.rx = Some(MediaReceiver { rx });
            self.made = true;
        }
    }
}

impl MediaQueue {
    fn slot(&self) -> std::sync::MutexGuard<'_, MediaQueueSlot> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The receiver, the first time it is asked for.
    pub(crate) fn receiver(&self) -> Option<MediaReceiver> {
        let mut slot = self.slot();
        slot.make();
        slot.rx.take()
    }

    /// The sending side, for the task (once: the task keeps it, so that the receiver sees
    /// the end of the queue when the task ends).
    fn take_sender(&self) -> Option<mpsc::Sender<ReceivedMedia>> {
        let mut slot = self.slot();
        slot.make();
        slot.tx.take()
    }
}

/// The task's side: the queue to the application and one routing table per transport.
pub(crate) struct MediaDelivery {
    /// The queue, until the first packet takes its sender.
    queue: MediaQueue,
    tx: Option<mpsc::Sender<ReceivedMedia>>,
    routers: Vec<MediaRouter>,
    dropped: u64,
    /// Unrouted packets held for the next description: transport, packet, arrival.
    held: std::collections::VecDeque<(usize, Bytes, Instant)>,
    /// Held packets given up.
    unrouted: u64,
    /// The transceivers whose packets go to a receiver of their own ([`TrackReceiver`]).
    tracks: std::collections::HashMap<TransceiverId, mpsc::Sender<ReceivedRtp>>,
    /// Transport-wide feedback packets received, and packets they reported lost.
    transport_feedback: (u64, u64),
    /// The MID header extension's id in each negotiated section, by mid: what we send
    /// carries its section's mid (RFC 8843 §9.1), so that a receiver that does not know our
    /// SSRCs yet (our RTX stream, say) can route it.
    mid_extensions: std::collections::HashMap<String, u8>,
    /// The peer's latest REMB estimate.
    remote_estimate: Option<u64>,
}

impl MediaDelivery {
    pub(crate) fn new(queue: MediaQueue) -> Self {
        Self {
            queue,
            tx: None,
            routers: Vec::new(),
            dropped: 0,
            held: std::collections::VecDeque::new(),
            unrouted: 0,
            tracks: std::collections::HashMap::new(),
            transport_feedback: (0, 0),
            remote_estimate: None,
            mid_extensions: std::collections::HashMap::new(),
        }
    }

    /// The queue, for the connection's handle.
    pub(crate) fn queue(&self) -> MediaQueue {
        self.queue.clone()
    }

    /// Holds an unrouted packet; what waited longer than [`UNROUTED_HOLD_FOR`], or the
    /// oldest when [`UNROUTED_HOLD`] wait, is dropped and counted.
    fn hold(&mut self, transport: usize, packet: Bytes, now: Instant) {
        self.expire(now);
        if self.held.len() == UNROUTED_HOLD {
            self.held.pop_front();
            self.unrouted += 1;
        }
        self.held.push_back((transport, packet, now));
    }

    fn expire(&mut self, now: Instant) {
        while self
            .held
            .front()
            .is_some_and(|(_, _, at)| now.saturating_duration_since(*at) > UNROUTED_HOLD_FOR)
        {
            self.held.pop_front();
            self.unrouted += 1;
        }
    }

    /// An RTP packet to its transceiver's [`TrackReceiver`] if it has one (a receiver dropped
    /// by the application gives its packets back to the connection's), else to the
    /// connection's receiver.
    fn deliver_rtp(&mut self, rtp: ReceivedRtp) {
        let rtp = match self.tracks.get(&rtp.transceiver) {
            Some(track) => match track.try_send(rtp) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped += 1;
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(rtp)) => {
                    self.tracks.remove(&rtp.transceiver);
                    rtp
                }
            },
            None => rtp,
        };
        self.deliver(ReceivedMedia::Rtp(rtp));
    }

    fn deliver(&mut self, media: ReceivedMedia) {
        if self.tx.is_none() {
            self.tx = self.queue.take_sender();
        }
        if self
            .tx
            .as_ref()
            .is_none_or(|tx| tx.try_send(media).is_err())
        {
            self.dropped += 1;
        }
    }
}

impl RTCPeerConnection {
    /// Every RTP packet and RTCP compound the connection receives, unprotected, RTP routed to
    /// its transceiver. Given once: `None` on later calls. Nothing is delivered to a receiver
    /// that is not read: after [`MEDIA_RECEIVE_QUEUE`] packets waiting, new ones are dropped
    /// and counted.
    pub fn media_receiver(&self) -> Option<MediaReceiver> {
        self.media.receiver()
    }

    /// From now on, the RTP packets routed to `transceiver` go to the receiver returned (at
    /// most [`MEDIA_RECEIVE_QUEUE`] waiting; more are dropped and counted), not to
    /// [`media_receiver`](Self::media_receiver); RTCP still goes there. Asking again replaces
    /// the previous one; dropping it gives the packets back to the connection's receiver.
    /// `InvalidStateError` for a transceiver that does not exist or is stopped.
    pub async fn track_receiver(&self, transceiver: TransceiverId) -> Result<TrackReceiver, Error> {
        self.try_call(move |task, _| {
            let exists = task
                .negotiator
                .transceivers()
                .get(transceiver.index())
                .is_some_and(|t| !t.stopped);
            if !exists {
                return Err(Error::InvalidState(InvalidStateReason::TransceiverStopped));
            }
            let (tx, rx) = mpsc::channel(MEDIA_RECEIVE_QUEUE);
            task.media.tracks.insert(transceiver, tx);
            Ok(TrackReceiver { transceiver, rx })
        })
        .await
    }

    /// Sends an RTP packet on `transceiver`: its SSRC is replaced by the transceiver's sender
    /// SSRC (the one its `a=ssrc` lines announce), the section's mid is set in the MID header
    /// extension when negotiated (RFC 8843 §9.1: the peer routes our streams, RTX included, by
    /// it before it knows their SSRCs), the transport-wide sequence number when TWCC is, and
    /// the rest goes as given, protected with SRTP on the transport carrying the
    /// transceiver's section.
    ///
    /// Refused with `InvalidStateError` when the connection is closed, the transceiver is
    /// stopped or its negotiated direction does not send; with `OperationError` when DTLS is
    /// not connected yet, the send queue is full, or the bytes are not RTP.
    pub async fn write_rtp(&self, transceiver: TransceiverId, packet: Bytes) -> Result<(), Error> {
        self.try_call(move |task, now| task.write_rtp(now, transceiver, packet))
            .await
    }

    /// Sends an RTCP compound on the transport carrying `transceiver`'s section, as given (the
    /// caller names the SSRCs, e.g. with [`sender_ssrc`](Self::sender_ssrc)).
    pub async fn write_rtcp(&self, transceiver: TransceiverId, packet: Bytes) -> Result<(), Error> {
        self.try_call(move |task, now| task.write_rtcp(now, transceiver, packet))
            .await
    }

    /// The SSRC `transceiver` sends with (and its RTX SSRC), as the descriptions announce.
    pub async fn sender_ssrc(&self, transceiver: TransceiverId) -> Option<(u32, u32)> {
        self.call(move |task, _| {
            let t = task.negotiator.transceivers().get(transceiver.index())?;
            Some((t.ssrc, t.rtx_ssrc))
        })
        .await
        .flatten()
    }

    /// The codec `transceiver` sends with once negotiated: its section's first payload type in
    /// the current local description (what both sides use, JSEP 5.3.1), for
    /// [`Packetizer`](crate::media::packetize::Packetizer) and the RTP timestamps.
    pub async fn sender_codec(&self, transceiver: TransceiverId) -> Option<SenderCodec> {
        self.call(move |task, _| {
            let t = task.negotiator.transceivers().get(transceiver.index())?;
            let mid = t.mid.as_deref()?;
            let kind = kind_name(t.kind);
            let local = task.negotiator.current_local_description()?;
            let section = local.parsed.media_by_mid(mid)?;
            let payload_type: u8 = section.formats.first()?.parse().ok()?;
            let map = section.rtpmap(payload_type)?;
            Some(SenderCodec {
                payload_type,
                mime_type: format!("{kind}/{}", map.encoding),
                clock_rate: map.clock_rate,
                format: crate::media::packetize::PayloadFormat::from_encoding(&map.encoding),
            })
        })
        .await
        .flatten()
    }

    /// `sender.replaceTrack(track)` on `transceiver`: what it sends changes without a new
    /// negotiation; with `None` it sends nothing ([`write_rtp`](Self::write_rtp) refuses) until
    /// a track replaces it again. `TypeError` for a track of another kind.
    pub async fn replace_track(
        &self,
        transceiver: TransceiverId,
        track: Option<crate::MediaStreamTrack>,
    ) -> Result<(), Error> {
        self.try_call(move |task, _| task.negotiator.replace_track(transceiver, track))
            .await
    }

    /// Asks the peer for a key frame of every stream it sends on `transceiver` (a PLI for each,
    /// RFC 4585 §6.3.1); the number asked. Refused before DTLS is connected.
    pub async fn request_keyframe(&self, transceiver: TransceiverId) -> Result<usize, Error> {
        self.try_call(move |task, now| task.request_keyframe(now, transceiver))
            .await
    }

    /// The media counters: SRTP each way, replays, unrouted and undelivered packets.
    pub async fn media_stats(&self) -> MediaStats {
        self.call(|task, _| task.media_stats())
            .await
            .unwrap_or_default()
    }
}

impl<N: Network> PeerTask<N> {
    /// The routing tables and each transport's RTP parameters, rebuilt from the current
    /// descriptions (after every completed exchange): one per transport, for the sections it
    /// carries.
    pub(crate) fn refresh_media_routes(&mut self, now: Instant) {
        self.refresh_rtp_parameters(now);
        let Some(remote) = self.negotiator.current_remote_description() else {
            self.media.routers.clear();
            return;
        };
        let remote = &remote.parsed;
        self.media.routers = self
            .paths
            .iter()
            .map(|path| {
                let mids: Vec<String> = path
                    .sections
                    .iter()
                    .filter_map(|&i| remote.media.get(i)?.mid().map(str::to_owned))
                    .collect();
                MediaRouter::new(remote, Some(&mids))
            })
            .collect();
        self.route_held(now);
    }

    /// Clock rates and RTX both ways for each transport, from the current descriptions: the
    /// remote's RTX payload types and FID groups for what we receive, our transceivers' RTX
    /// SSRCs and the local description's RTX payload types for what we send.
    fn refresh_rtp_parameters(&mut self, now: Instant) {
        let (Some(local), Some(remote)) = (
            self.negotiator.current_local_description(),
            self.negotiator.current_remote_description(),
        ) else {
            return;
        };
        let since_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let transceivers = self.negotiator.transceivers();
        self.media.mid_extensions = mid_extensions(&local.parsed, &remote.parsed);
        for path in &mut self.paths {
            let mut parameters = RtpParameters {
                reduced_size: true,
                ..RtpParameters::default()
            };
            for &index in &path.sections {
                let (Some(ours), Some(theirs)) = (
                    local.parsed.media.get(index),
                    remote.parsed.media.get(index),
                ) else {
                    continue;
                };
                parameters.reduced_size &= ours.has_rtcp_rsize() && theirs.has_rtcp_rsize();
                parameters.transport_cc_extension =
                    parameters.transport_cc_extension.or_else(|| {
                        // In the one-byte range the stamp is written in.
                        negotiated_extension(ours, theirs, antiphon_codec::uri::TRANSPORT_WIDE_CC)
                            .filter(|id| (1..=14).contains(id))
                    });
                for map in theirs.rtpmaps() {
                    parameters
                        .clock_rates
                        .insert(map.payload_type, map.clock_rate);
                }
                parameters
                    .repair_payload_types
                    .extend(repair_payload_types(theirs));
                for attribute in &theirs.attributes {
                    if let antiphon_sdp::Attribute::SsrcGroup(group) = attribute
                        && group.semantics == "FID"
                        && let [media, repair, ..] = group.ssrcs[..]
                    {
                        parameters.repair_ssrcs.insert(repair, media);
                    }
                }
                let rtx_types: std::collections::HashMap<u8, u8> = repair_payload_types(ours)
                    .map(|(rtx, media)| (media, rtx))
                    .collect();
                let sender = transceivers
                    .iter()
                    .find(|t| t.mid.is_some() && t.mid.as_deref() == ours.mid());
                if let Some(sender) = sender.filter(|_| !rtx_types.is_empty()) {
                    parameters.senders.insert(
                        sender.ssrc,
                        RtxConfig {
                            ssrc: sender.rtx_ssrc,
                            payload_types: rtx_types,
                        },
                    );
                }
            }
            path.core.set_wall_clock(now, since_unix);
            path.core.set_rtp_parameters(parameters);
        }
    }

    /// The `inbound-rtp`, `outbound-rtp` and `remote-inbound-rtp` reports of every transport.
    pub(crate) fn rtp_stats(&self, now: Instant, timestamp: f64) -> Vec<RTCStats> {
        let transceivers = self.negotiator.transceivers();
        let kind_of = |mid: Option<&str>| {
            let transceiver = transceivers
                .iter()
                .find(|t| t.mid.is_some() && t.mid.as_deref() == mid);
            kind_name(transceiver.map_or(antiphon_codec::MediaKind::Video, |t| t.kind))
        };
        let mut reports = Vec::new();
        let mut codecs = Vec::new();
        let remote = self.negotiator.current_remote_description();
        // The `codec` report of payload type `pt` in the section of `mid`, made once.
        let mut codec_id = |direction: char, transport_id: &str, mid: Option<&str>, pt: u8| {
            let section = remote?.parsed.media_by_mid(mid?)?;
            let map = section.rtpmaps().find(|m| m.payload_type == pt)?;
            let id = format!("C{direction}{transport_id}_{pt}");
            if !codecs.iter().any(|c: &RTCCodecStats| c.id == id) {
                codecs.push(RTCCodecStats {
                    id: id.clone(),
                    timestamp,
                    payload_type: pt,
                    transport_id: transport_id.to_owned(),
                    mime_type: format!("{}/{}", section.kind.as_str(), map.encoding),
                    clock_rate: map.clock_rate,
                    channels: map.channels,
                    sdp_fmtp_line: section.fmtp(pt).map(|f| f.params.clone()),
                });
            }
            Some(id)
        };
        for (index, path) in self.paths.iter().enumerate() {
            let transport_id = format!("T{:02}", index + 1);
            let router = self.media.routers.get(index);
            for (ssrc, stream) in path.core.inbound_rtp() {
                let mid = router.and_then(|r| r.mid_of(ssrc)).map(str::to_owned);
                let rid = router.and_then(|r| r.rid_of(ssrc)).map(str::to_owned);
                let kind = kind_of(mid.as_deref());
                let age = now.saturating_duration_since(stream.last_arrival);
                let codec_id = codec_id('I', &transport_id, mid.as_deref(), stream.payload_type);
                reports.push(RTCStats::InboundRtp(RTCInboundRtpStreamStats {
                    id: format!("I{transport_id}{}{ssrc}", letter(kind)),
                    timestamp,
                    ssrc,
                    kind,
                    transport_id: transport_id.clone(),
                    mid,
                    rid,
                    packets_received: stream.packets_received,
                    packets_lost: stream.packets_lost,
                    jitter: stream.jitter,
                    bytes_received: stream.bytes_received,
                    header_bytes_received: stream.header_bytes_received,
                    last_packet_received_timestamp: timestamp - age.as_secs_f64() * 1000.0,
                    codec_id,
                }));
            }
            for (ssrc, stream) in path.core.outbound_rtp() {
                let mid = transceivers
                    .iter()
                    .find(|t| t.ssrc == ssrc)
                    .and_then(|t| t.mid.clone());
                let kind = kind_of(mid.as_deref());
                let codec_id = codec_id('O', &transport_id, mid.as_deref(), stream.payload_type);
                let id = format!("O{transport_id}{}{ssrc}", letter(kind));
                let remote_id = stream
                    .remote
                    .map(|_| format!("RI{transport_id}{}{ssrc}", letter(kind)));
                if let (Some(remote), Some(remote_id)) = (stream.remote, remote_id.clone()) {
                    let rate = f64::from(stream.clock_rate.unwrap_or(90_000));
                    reports.push(RTCStats::RemoteInboundRtp(RTCRemoteInboundRtpStreamStats {
                        id: remote_id,
                        timestamp,
                        ssrc,
                        kind,
                        transport_id: transport_id.clone(),
                        local_id: id.clone(),
                        packets_lost: i64::from(remote.cumulative_lost),
                        jitter: f64::from(remote.jitter) / rate,
                        fraction_lost: f64::from(remote.fraction_lost) / 256.0,
                        round_trip_time: stream.round_trip_time.map(|d| d.as_secs_f64()),
                        total_round_trip_time: stream.total_round_trip_time.as_secs_f64(),
                        round_trip_time_measurements: stream.round_trip_time_measurements,
                    }));
                }
                reports.push(RTCStats::OutboundRtp(RTCOutboundRtpStreamStats {
                    id,
                    timestamp,
                    ssrc,
                    kind,
                    transport_id: transport_id.clone(),
                    mid,
                    packets_sent: stream.packets_sent,
                    bytes_sent: stream.bytes_sent,
                    header_bytes_sent: stream.header_bytes_sent,
                    retransmitted_packets_sent: stream.retransmitted_packets_sent,
                    retransmitted_bytes_sent: stream.retransmitted_bytes_sent,
                    nack_count: stream.nack_count,
                    remote_id,
                    codec_id,
                }));
            }
        }
        reports.extend(codecs.into_iter().map(RTCStats::Codec));
        reports
    }

    /// The held packets, routed again with the new tables (those still unclaimed are held
    /// on, until they expire).
    fn route_held(&mut self, now: Instant) {
        self.media.expire(now);
        for (index, packet, at) in std::mem::take(&mut self.media.held) {
            if !self.route_rtp(index, &packet) {
                self.media.held.push_back((index, packet, at));
            }
        }
    }

    /// The peer's congestion control feedback: counted, the latest REMB kept, handed over.
    pub(crate) fn on_congestion(&mut self, index: usize, report: CongestionReport) {
        match &report {
            CongestionReport::Transport(results) => {
                self.media.transport_feedback.0 += 1;
                self.media.transport_feedback.1 += results
                    .iter()
                    .filter(|r| r.arrival_micros.is_none())
                    .count() as u64;
            }
            CongestionReport::Remb(remb) => self.media.remote_estimate = Some(remb.bitrate),
        }
        self.media.deliver(ReceivedMedia::Congestion {
            transport: index,
            report,
        });
    }

    /// A packet SRTP delivered on transport `index`.
    pub(crate) fn on_media(&mut self, now: Instant, index: usize, packet: MediaPacket) {
        let rtp = match packet {
            MediaPacket::Rtcp(packet) => {
                self.media.deliver(ReceivedMedia::Rtcp {
                    transport: index,
                    packet,
                });
                return;
            }
            MediaPacket::Rtp(rtp) => rtp,
        };
        if !self.route_rtp(index, &rtp) {
            self.media.hold(index, rtp, now);
        }
    }

    /// Routes one RTP packet and delivers it; `false` when no section claims it (yet).
    fn route_rtp(&mut self, index: usize, rtp: &Bytes) -> bool {
        let Ok(header) = RtpHeader::parse(rtp) else {
            // SRTP authenticated it, so it is the peer's; not RTP we can read: nothing to hold.
            return true;
        };
        let Some(route) = self
            .media
            .routers
            .get_mut(index)
            .and_then(|router| router.route(&header))
        else {
            return false;
        };
        let Some(transceiver) = self
            .negotiator
            .transceivers()
            .iter()
            .find(|t| t.mid.as_deref() == Some(route.mid))
        else {
            return false;
        };
        let received = ReceivedRtp {
            transceiver: transceiver.id,
            mid: route.mid.to_owned(),
            repair: route.repair,
            rid: route.rid.map(str::to_owned),
            mime_type: route
                .codec
                .map(|(name, _)| format!("{}/{name}", kind_name(transceiver.kind))),
            clock_rate: route.codec.map(|(_, rate)| rate),
            ssrc: header.ssrc,
            payload_type: header.payload_type,
            packet: rtp.clone(),
        };
        self.media.deliver_rtp(received);
        true
    }

    fn request_keyframe(&mut self, now: Instant, id: TransceiverId) -> Result<usize, Error> {
        let transceiver = self
            .negotiator
            .transceivers()
            .get(id.index())
            .ok_or(Error::InvalidState(InvalidStateReason::TransceiverStopped))?;
        let sender = transceiver.ssrc;
        let Some(mid) = transceiver.mid.clone() else {
            return Ok(0);
        };
        let Some(index) = self.path_of_mid(&mid) else {
            return Ok(0);
        };
        let streams: Vec<u32> = self
            .media
            .routers
            .get(index)
            .map(|router| router.ssrcs_of(&mid))
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, repair)| !repair)
            .map(|(ssrc, _)| ssrc)
            .collect();
        for &media in &streams {
            let pli = crate::media::rtcp::picture_loss_indication(sender, media);
            let path = self
                .paths
                .get_mut(index)
                .ok_or(media_error(crate::core::MediaError::NotKeyed))?;
            path.core
                .send_feedback(now, sender, &pli)
                .map_err(media_error)?;
        }
        if !streams.is_empty() {
            self.after(now);
        }
        Ok(streams.len())
    }

    fn write_rtp(&mut self, now: Instant, id: TransceiverId, packet: Bytes) -> Result<(), Error> {
        let (index, ssrc) = self.sending_path(id)?;
        let malformed = || media_error(crate::core::MediaError::Malformed);
        let mid = self
            .negotiator
            .transceivers()
            .get(id.index())
            .and_then(|t| t.mid.as_deref());
        let mid_extension = mid.and_then(|mid| Some((mid, *self.media.mid_extensions.get(mid)?)));
        // One copy either way: the extension set (written into a new packet), or the SSRC.
        let packet = match mid_extension {
            Some((mid, extension)) => {
                let mut packet =
                    with_extension(&packet, extension, mid.as_bytes()).map_err(|_| malformed())?;
                set_ssrc(&mut packet, ssrc);
                Bytes::from(packet)
            }
            None => {
                let mut packet = BytesMut::from(packet);
                if RtpHeader::parse(&packet).is_err() || !set_ssrc(&mut packet, ssrc) {
                    return Err(malformed());
                }
                packet.freeze()
            }
        };
        self.send_media(now, index, &MediaPacket::Rtp(packet))
    }

    fn write_rtcp(&mut self, now: Instant, id: TransceiverId, packet: Bytes) -> Result<(), Error> {
        let (index, _) = self.sending_path(id)?;
        if !crate::media::rtp::is_rtcp(&packet) {
            return Err(media_error(crate::core::MediaError::Malformed));
        }
        self.send_media(now, index, &MediaPacket::Rtcp(packet))
    }

    fn send_media(
        &mut self,
        now: Instant,
        index: usize,
        packet: &MediaPacket,
    ) -> Result<(), Error> {
        let path = self
            .paths
            .get_mut(index)
            .ok_or(media_error(crate::core::MediaError::NotKeyed))?;
        path.core.send_media(now, packet).map_err(media_error)?;
        self.after(now);
        Ok(())
    }

    /// The transport carrying a sending transceiver's section, and its SSRC.
    /// The transport carrying the section `mid` of the current remote description.
    fn path_of_mid(&self, mid: &str) -> Option<usize> {
        let remote = self.negotiator.current_remote_description()?;
        let section = remote
            .parsed
            .media
            .iter()
            .position(|m| m.mid() == Some(mid))?;
        self.path_of(section)
    }

    fn sending_path(&self, id: TransceiverId) -> Result<(usize, u32), Error> {
        if self.negotiator.signaling_state() == crate::signaling::RTCSignalingState::Closed {
            return Err(Error::InvalidState(InvalidStateReason::Closed));
        }
        let transceiver =
            self.negotiator
                .transceivers()
                .get(id.index())
                .ok_or(Error::InvalidState(
                    InvalidStateReason::TransceiverNotSending,
                ))?;
        if transceiver.stopped {
            return Err(Error::InvalidState(InvalidStateReason::TransceiverStopped));
        }
        let sends = transceiver.current_direction.is_some_and(|d| d.sends())
            && transceiver.direction.sends()
            && transceiver.track.is_some()
            && !transceiver.replaced_by_nothing;
        match transceiver
            .mid
            .as_deref()
            .and_then(|mid| self.path_of_mid(mid))
        {
            Some(index) if sends => Ok((index, transceiver.ssrc)),
            _ => Err(Error::InvalidState(
                InvalidStateReason::TransceiverNotSending,
            )),
        }
    }

    fn media_stats(&self) -> MediaStats {
        let mut stats = MediaStats {
            unrouted: self.media.unrouted,
            dropped: self.media.dropped,
            transport_feedback: self.media.transport_feedback.0,
            reported_lost: self.media.transport_feedback.1,
            remote_estimate: self.media.remote_estimate,
            ..MediaStats::default()
        };
        for path in &self.paths {
            let c = path.core.media_counters();
            let t = &mut stats.transport;
            t.rtp_received += c.rtp_received;
            t.rtcp_received += c.rtcp_received;
            t.rtp_bytes_received += c.rtp_bytes_received;
            t.rtp_sent += c.rtp_sent;
            t.rtcp_sent += c.rtcp_sent;
            t.rtp_bytes_sent += c.rtp_bytes_sent;
            t.unprotect_failed += c.unprotect_failed;
            t.replayed += c.replayed;
            t.dropped_unkeyed += c.dropped_unkeyed;
            t.repaired += c.repaired;
            t.repair_dropped += c.repair_dropped;
        }
        stats
    }
}

/// The MID extension's id of every section both descriptions give it, by mid.
fn mid_extensions(
    local: &antiphon_sdp::SessionDescription,
    remote: &antiphon_sdp::SessionDescription,
) -> std::collections::HashMap<String, u8> {
    local
        .media
        .iter()
        .zip(&remote.media)
        .filter_map(|(ours, theirs)| {
            let id = negotiated_extension(ours, theirs, antiphon_codec::uri::SDES_MID)?;
            Some((ours.mid()?.to_owned(), id))
        })
        .collect()
}

/// The id of header extension `uri` when both sections have it (ours: the answer keeps the
/// offer's ids).
fn negotiated_extension(
    ours: &antiphon_sdp::MediaDescription,
    theirs: &antiphon_sdp::MediaDescription,
    uri: &str,
) -> Option<u8> {
    theirs.extmaps().find(|map| map.uri == uri)?;
    u8::try_from(ours.extmaps().find(|map| map.uri == uri)?.id).ok()
}

/// `(rtx, media)` for every RTX payload type of `section` with its `apt`.
fn repair_payload_types(
    section: &antiphon_sdp::MediaDescription,
) -> impl Iterator<Item = (u8, u8)> + '_ {
    section
        .rtpmaps()
        .filter(|map| map.encoding.eq_ignore_ascii_case("rtx"))
        .filter_map(|map| {
            let apt = section.fmtp(map.payload_type)?.value("apt")?.parse().ok()?;
            Some((map.payload_type, apt))
        })
}

/// `audio` or `video`, as a MIME type's first half.
fn kind_name(kind: antiphon_codec::MediaKind) -> &'static str {
    match kind {
        antiphon_codec::MediaKind::Audio => "audio",
        _ => "video",
    }
}

/// What a transceiver sends with: its section's first payload type in the current local
/// description ([`RTCPeerConnection::sender_codec`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SenderCodec {
    /// The payload type.
    pub payload_type: u8,
    /// The MIME type, `video/VP8`.
    pub mime_type: String,
    /// The clock rate.
    pub clock_rate: u32,
    /// The packetizer's format for it, when [`Packetizer`](crate::media::packetize::Packetizer)
    /// knows it.
    pub format: Option<crate::media::packetize::PayloadFormat>,
}

/// Chromium's letter for a kind in report ids.
fn letter(kind: &str) -> char {
    if kind == "audio" { 'A' } else { 'V' }
}

fn media_error(error: crate::core::MediaError) -> Error {
    Error::Operation(OperationReason::Media(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtcp(n: u8) -> ReceivedMedia {
        ReceivedMedia::Rtcp {
            transport: 0,
            packet: Bytes::from(vec![n]),
        }
    }

    #[test]
    fn the_queue_is_made_by_the_first_packet_or_the_first_ask() {
        // Packets before the application asks wait for it.
        let queue = MediaQueue::default();
        let mut delivery = MediaDelivery::new(queue.clone());
        assert!(
            !queue.slot().made,
            "nothing allocated before media or an ask"
        );
        delivery.deliver(rtcp(1));
        let mut receiver = queue.receiver().expect("the receiver");
        assert_eq!(receiver.rx.try_recv().ok(), Some(rtcp(1)));
        assert!(queue.receiver().is_none(), "given once");
        delivery.deliver(rtcp(2));
        assert_eq!(receiver.rx.try_recv().ok(), Some(rtcp(2)));
        // The task's end is the queue's end.
        drop(delivery);
        assert!(receiver.rx.try_recv().is_err());
        assert!(receiver.rx.is_closed());

        // Asked before any packet: the packets that come later reach it.
        let queue = MediaQueue::default();
        let mut delivery = MediaDelivery::new(queue.clone());
        let mut receiver = queue.receiver().expect("the receiver");
        delivery.deliver(rtcp(3));
        assert_eq!(receiver.rx.try_recv().ok(), Some(rtcp(3)));
        assert_eq!(delivery.dropped, 0);
    }
}
