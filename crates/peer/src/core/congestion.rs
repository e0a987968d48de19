//! Transport-wide congestion control feedback (TWCC) of one transport, both ways, when the
//! descriptions negotiated the transport-wide sequence number extension:
//!
//! * **Sending**: every RTP packet we send (retransmissions too) carries the next
//!   transport-wide sequence number ([`TransportSequencer::stamp`]); we remember when each went
//!   and how large it was, so the peer's feedback resolves into [`PacketResult`]s, what a
//!   sender-side bandwidth estimator takes.
//! * **Receiving**: the arrival of every packet the peer numbered is recorded and reported
//!   back every [`FEEDBACK_INTERVAL`] ([`FeedbackRecorder`]), which is what lets a browser's
//!   estimator raise its bitrate.
//!
//! Driven by the RTP session with the core's time; reads no clock.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::media::feedback::{DELTA_TICK_MICROS, REFERENCE_TICKS, Remb, TransportFeedback};
use crate::media::rtp::{RtpHeader, with_extension};

/// How often received packets are reported (libwebrtc's default interval).
pub const FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);
/// How long a sent packet is remembered for the peer's feedback (which comes about 100 ms
/// plus a round trip later); older ones are no longer resolved.
pub const SENT_KEPT_FOR: Duration = Duration::from_secs(2);
/// Sent packets remembered at most, however fast they go.
pub const SENT_REMEMBERED: usize = 16_384;
/// Received packets waiting for a report at most (a peer numbering wildly cannot grow it).
pub const PENDING_ARRIVALS: usize = 8192;
/// Packets one feedback packet reports at most, so that it fits a datagram.
const STATUSES_PER_FEEDBACK: usize = 400;
/// A gap from the last reported packet larger than this is not reported as lost packets.
const LARGEST_REPORTED_GAP: i64 = 1000;

/// One packet of ours, as the peer's transport-wide feedback reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacketResult {
    /// Its transport-wide sequence number, counted from 0 on this transport.
    pub sequence: u64,
    /// When we sent it.
    pub sent_at: Instant,
    /// Its RTP size in bytes (before SRTP).
    pub size: usize,
    /// When it arrived, in microseconds on the receiver's clock (only differences between
    /// packets mean anything); `None` when the receiver reports it missing.
    pub arrival_micros: Option<i64>,
}

/// Congestion control feedback the peer sent, as the core reports it
/// ([`CoreEvent::Congestion`](super::CoreEvent::Congestion)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CongestionReport {
    /// Transport-wide feedback on packets we sent and still remember, in sequence order.
    Transport(Vec<PacketResult>),
    /// The receiver's estimate of the bitrate it can take (REMB).
    Remb(Remb),
}

/// The sending side: numbers our packets and remembers them.
#[derive(Debug)]
pub(crate) struct TransportSequencer {
    /// The negotiated extension id; nothing is stamped without one.
    extension: Option<u8>,
    next: u64,
    /// When and how large, for the sequences from `first_kept` on.
    sent: VecDeque<(Instant, u32)>,
    first_kept: u64,
}

impl TransportSequencer {
    pub(crate) fn new() -> Self {
        Self {
            extension: None,
            next: 0,
            sent: VecDeque::new(),
            first_kept: 0,
        }
    }

    pub(crate) fn set_extension(&mut self, extension: Option<u8>) {
        self.extension = extension;
    }

    /// `packet` with the next transport-wide sequence number, remembered as sent at `now`;
    /// unchanged when the extension is not negotiated or the packet cannot take it.
    pub(crate) fn stamp(&mut self, packet: &Bytes, now: Instant) -> Bytes {
        let Some(id) = self.extension else {
            return packet.clone();
        };
        let sequence = self.next;
        let Ok(stamped) = with_extension(packet, id, &(sequence as u16).to_be_bytes()) else {
            return packet.clone();
        };
        self.next += 1;
        if self.sent.is_empty() {
            self.first_kept = sequence;
        }
        self.sent.push_back((now, stamped.len() as u32));
        while self.sent.len() > SENT_REMEMBERED
            || self
                .sent
                .front()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) > SENT_KEPT_FOR)
        {
            self.sent.pop_front();
            self.first_kept += 1;
        }
        Bytes::from(stamped)
    }

    /// The packets a feedback packet reports that we still remember.
    pub(crate) fn resolve(&self, feedback: &TransportFeedback) -> Vec<PacketResult> {
        let Some(latest) = self.next.checked_sub(1) else {
            return Vec::new();
        };
        // The base as the latest sequence at or before ours that ends in those 16 bits.
        let behind = u64::from((latest as u16).wrapping_sub(feedback.base_sequence));
        let Some(base) = latest.checked_sub(behind) else {
            return Vec::new();
        };
        let reference = i64::from(feedback.reference_time) * REFERENCE_TICKS;
        feedback
            .arrivals
            .iter()
            .enumerate()
            .filter_map(|(k, arrival)| {
                let sequence = base + k as u64;
                let index = usize::try_from(sequence.checked_sub(self.first_kept)?).ok()?;
                let &(sent_at, size) = self.sent.get(index)?;
                Some(PacketResult {
                    sequence,
                    sent_at,
                    size: size as usize,
                    arrival_micros: arrival.map(|ticks| (reference + ticks) * DELTA_TICK_MICROS),
                })
            })
            .collect()
    }
}

/// The receiving side: records arrivals and reports them.
#[derive(Debug)]
pub(crate) struct FeedbackRecorder {
    extension: Option<u8>,
    /// Arrival times are counted from here (the first packet's arrival).
    epoch: Option<Instant>,
    /// Unreported arrivals by unwrapped sequence.
    pending: BTreeMap<i64, Instant>,
    /// The highest sequence seen, to unwrap the next one.
    highest: Option<i64>,
    /// The highest sequence reported.
    reported: Option<i64>,
    /// The SSRC of the last stream received, for the feedback's media SSRC field.
    media_ssrc: u32,
    count: u8,
    next_due: Option<Instant>,
}

impl FeedbackRecorder {
    pub(crate) fn new() -> Self {
        Self {
            extension: None,
            epoch: None,
            pending: BTreeMap::new(),
            highest: None,
            reported: None,
            media_ssrc: 0,
            count: 0,
            next_due: None,
        }
    }

    pub(crate) fn set_extension(&mut self, extension: Option<u8>) {
        self.extension = extension;
    }

    /// An RTP packet arrived at `now` (any packet: RTX and padding probes count).
    pub(crate) fn arrived(&mut self, header: &RtpHeader<'_>, now: Instant) {
        let Some(value) = self
            .extension
            .and_then(|id| header.extension(id))
            .and_then(|value| value.first_chunk::<2>())
        else {
            return;
        };
        let short = u16::from_be_bytes(*value);
        let sequence = match self.highest {
            Some(highest) => highest + i64::from(short.wrapping_sub(highest as u16) as i16),
            None => i64::from(short),
        };
        self.highest = Some(self.highest.map_or(sequence, |h| h.max(sequence)));
        if self.reported.is_some_and(|reported| sequence <= reported)
            || self.pending.len() >= PENDING_ARRIVALS
        {
            return;
        }
        self.pending.entry(sequence).or_insert(now);
        self.epoch.get_or_insert(now);
        self.media_ssrc = header.ssrc;
        self.next_due.get_or_insert(now + FEEDBACK_INTERVAL);
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next_due
    }

    /// The feedback packets due at `now` from `sender`: every arrival since the last, and the
    /// packets missing between them.
    pub(crate) fn handle_timeout(&mut self, now: Instant, sender: u32) -> Vec<Vec<u8>> {
        if self.next_due.is_none_or(|due| due > now) {
            return Vec::new();
        }
        self.next_due = None;
        let (Some(epoch), Some((&first, _)), Some((&last, _))) = (
            self.epoch,
            self.pending.first_key_value(),
            self.pending.last_key_value(),
        ) else {
            return Vec::new();
        };
        let start = match self.reported {
            Some(reported) if first - reported <= LARGEST_REPORTED_GAP => reported + 1,
            _ => first,
        };
        let ticks = |at: Instant| {
            (at.saturating_duration_since(epoch).as_micros() as i64) / DELTA_TICK_MICROS
        };
        let mut packets = Vec::new();
        let mut sequence = start;
        while sequence <= last {
            // A packet starts at a received one, its reference time the 64 ms before it.
            let first_arrival = self.pending.range(sequence..).next().map(|(_, at)| *at);
            let reference = first_arrival.map_or(0, |at| ticks(at) / REFERENCE_TICKS);
            let mut feedback = TransportFeedback {
                sender_ssrc: sender,
                media_ssrc: self.media_ssrc,
                base_sequence: sequence as u16,
                reference_time: ((reference << 40) >> 40) as i32,
                feedback_count: self.count,
                arrivals: Vec::new(),
            };
            let mut previous = reference * REFERENCE_TICKS;
            while sequence <= last && feedback.arrivals.len() < STATUSES_PER_FEEDBACK {
                let arrival = self.pending.get(&sequence).map(|at| ticks(*at));
                if let Some(time) = arrival {
                    if i16::try_from(time - previous).is_err() && !feedback.arrivals.is_empty() {
                        break;
                    }
                    previous = time;
                }
                feedback
                    .arrivals
                    .push(arrival.map(|time| time - reference * REFERENCE_TICKS));
                sequence += 1;
            }
            self.count = self.count.wrapping_add(1);
            if let Ok(packet) = feedback.write() {
                packets.push(packet);
            }
        }
        self.reported = Some(last);
        self.pending.clear();
        packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::feedback::{CongestionFeedback, congestion_feedback};

    const ID: u8 = 3;

    fn packet(transport_sequence: Option<u16>) -> Vec<u8> {
        let bare = vec![0x80, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9, 0xaa, 0xbb];
        match transport_sequence {
            Some(sequence) => with_extension(&bare, ID, &sequence.to_be_bytes()).unwrap(),
            None => bare,
        }
    }

    fn transport_feedback(packet: &[u8]) -> TransportFeedback {
        match &congestion_feedback(packet)[..] {
            [CongestionFeedback::Transport(feedback)] => feedback.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reports_arrivals_and_losses_once() {
        let start = Instant::now();
        let mut recorder = FeedbackRecorder::new();
        recorder.set_extension(Some(ID));
        // 65,534, 65,535, (0 lost), 1, then 2 arriving before 1's neighbour: wraps unwrapped.
        for (k, sequence) in [65_534u16, 65_535, 2, 1].into_iter().enumerate() {
            let packet = packet(Some(sequence));
            let header = RtpHeader::parse(&packet).unwrap();
            recorder.arrived(&header, start + Duration::from_millis(10 * k as u64));
        }
        assert_eq!(recorder.poll_timeout(), Some(start + FEEDBACK_INTERVAL));
        assert!(recorder.handle_timeout(start, 7).is_empty(), "not due");
        let due = start + FEEDBACK_INTERVAL;
        let sent = recorder.handle_timeout(due, 7);
        assert_eq!(sent.len(), 1);
        let feedback = transport_feedback(&sent[0]);
        assert_eq!(feedback.base_sequence, 65_534);
        assert_eq!(feedback.sender_ssrc, 7);
        assert_eq!(feedback.media_ssrc, 9);
        // 10 ms = 40 ticks apart; 0 missing; 1 arrived after 2.
        assert_eq!(
            feedback.arrivals,
            vec![Some(0), Some(40), None, Some(120), Some(80)]
        );
        assert_eq!(recorder.poll_timeout(), None);
        // A late arrival of an already reported packet is not reported again; the next
        // report starts right after the last.
        for (sequence, ms) in [(0u16, 150), (4, 160)] {
            let packet = packet(Some(sequence));
            let header = RtpHeader::parse(&packet).unwrap();
            recorder.arrived(&header, start + Duration::from_millis(ms));
        }
        let sent = recorder.handle_timeout(start + Duration::from_millis(300), 7);
        let feedback = transport_feedback(&sent[0]);
        assert_eq!(feedback.base_sequence, 3);
        assert_eq!(feedback.arrivals.len(), 2);
        assert_eq!(feedback.arrivals[0], None);
        assert_eq!(feedback.feedback_count, 1);
        // Packets without the extension are not recorded.
        let bare = packet(None);
        recorder.arrived(&RtpHeader::parse(&bare).unwrap(), start);
        assert_eq!(recorder.poll_timeout(), None);
    }

    #[test]
    fn long_runs_and_long_pauses_split_into_packets() {
        let start = Instant::now();
        let mut recorder = FeedbackRecorder::new();
        recorder.set_extension(Some(ID));
        for sequence in 0..1000u16 {
            let packet = packet(Some(sequence));
            let header = RtpHeader::parse(&packet).unwrap();
            // Packet 900 comes after a 10 s pause: beyond a two-byte delta.
            let ms = u64::from(sequence) + if sequence >= 900 { 10_000 } else { 0 };
            recorder.arrived(&header, start + Duration::from_millis(ms));
        }
        let sent = recorder.handle_timeout(start + Duration::from_secs(20), 1);
        let feedbacks: Vec<TransportFeedback> =
            sent.iter().map(|p| transport_feedback(p)).collect();
        let counts: Vec<usize> = feedbacks.iter().map(|f| f.arrivals.len()).collect();
        assert_eq!(counts, vec![400, 400, 100, 100]);
        assert!(sent.iter().all(|p| p.len() < 1200));
        let bases: Vec<u16> = feedbacks.iter().map(|f| f.base_sequence).collect();
        assert_eq!(bases, vec![0, 400, 800, 900]);
        // Each arrival is where it was: reference plus ticks, on the receiver's clock.
        let last = feedbacks.last().unwrap();
        let micros = (i64::from(last.reference_time) * 256 + last.arrivals[99].unwrap()) * 250;
        assert_eq!(micros, 10_999_000);
    }

    #[test]
    fn our_packets_are_numbered_and_resolved_from_feedback() {
        let start = Instant::now();
        let mut sequencer = TransportSequencer::new();
        let bare = Bytes::from(packet(None));
        assert_eq!(sequencer.stamp(&bare, start), bare, "not negotiated");
        sequencer.set_extension(Some(ID));
        let mut recorder = FeedbackRecorder::new();
        recorder.set_extension(Some(ID));
        for k in 0..70_000u32 {
            let at = start + Duration::from_micros(u64::from(k) * 100);
            let stamped = sequencer.stamp(&bare, at);
            // The receiver sees the last 20, but for the third of them.
            if k >= 69_980 && k != 69_982 {
                let header = RtpHeader::parse(&stamped).unwrap();
                recorder.arrived(&header, at + Duration::from_millis(30));
            }
        }
        let due = start + Duration::from_secs(60);
        let sent = recorder.handle_timeout(due, 1);
        let results = sequencer.resolve(&transport_feedback(&sent[0]));
        assert_eq!(results.len(), 20);
        assert_eq!(results[0].sequence, 69_980, "unwrapped past 65,535");
        assert_eq!(results[0].size, bare.len() + 8);
        assert_eq!(results[0].sent_at, start + Duration::from_micros(6_998_000));
        assert_eq!(results[2].arrival_micros, None);
        let arrived: Vec<i64> = results.iter().filter_map(|r| r.arrival_micros).collect();
        // 100 µs apart sent, 250 µs ticks received: differences only, rounded down.
        assert!(
            arrived
                .windows(2)
                .all(|w| (0..=250).contains(&(w[1] - w[0])))
        );
        // Feedback about packets we no longer remember (sent over 2 s before the last)
        // resolves to nothing; what is kept is bounded by time.
        let mut stale = transport_feedback(&sent[0]);
        stale.base_sequence = stale.base_sequence.wrapping_sub(30_000);
        assert!(sequencer.resolve(&stale).is_empty());
        assert_eq!(sequencer.sent.len(), SENT_REMEMBERED);
        assert_eq!(sequencer.first_kept, 70_000 - SENT_REMEMBERED as u64);
        // After a pause longer than SENT_KEPT_FOR only the new packet is kept.
        sequencer.stamp(&bare, due + Duration::from_secs(3));
        assert_eq!(sequencer.sent.len(), 1);
        assert_eq!(sequencer.first_kept, 70_000);
    }
}
