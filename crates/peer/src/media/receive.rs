//! What a receiver keeps of one incoming RTP stream (RFC 3550 A.1, A.3, A.8): the extended
//! sequence numbers, packets expected and lost, interarrival jitter, the last sender report;
//! from them the report block of our receiver reports and the sequence numbers to NACK.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::rtcp::ReportBlock;
use super::rtp::RtpHeader;

/// A jump ahead of at most this many sequence numbers is loss, not a restart (RFC 3550 A.1).
const MAX_DROPOUT: u32 = 3000;
/// A jump behind of at most this many is a late packet (RFC 3550 A.1).
const MAX_MISORDER: u32 = 100;
/// Missing packets remembered for NACKs at most (older ones are given up).
pub const NACK_HISTORY: u64 = 512;
/// How often one missing packet is NACKed at most (libwebrtc's limit too): retries come every
/// NACK interval whatever the round trip, so a long path needs several.
const NACK_TRIES: u8 = 10;

#[derive(Debug, Clone, Copy)]
struct Missing {
    tries: u8,
    last: Option<Instant>,
}

/// One incoming stream's receive statistics.
#[derive(Debug, Clone)]
pub struct ReceiveStatistics {
    clock_rate: Option<u32>,
    base: u64,
    max_seq: u16,
    cycles: u64,
    bad_seq: Option<u16>,
    received: u64,
    payload_bytes: u64,
    header_bytes: u64,
    expected_prior: u64,
    received_prior: u64,
    /// In timestamp units (RFC 3550 A.8).
    jitter: f64,
    last_transit: Option<f64>,
    epoch: Instant,
    last_arrival: Instant,
    /// The middle 32 bits of the last SR's NTP time, and when it came.
    last_sender_report: Option<(u32, Instant)>,
    missing: BTreeMap<u64, Missing>,
    payload_type: u8,
}

/// A snapshot for getStats (`inbound-rtp`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ReceiveSnapshot {
    /// Packets received (duplicates the replay check let through included).
    pub packets_received: u64,
    /// Packets expected and not received (negative with duplicates).
    pub packets_lost: i64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Header bytes received.
    pub header_bytes_received: u64,
    /// Interarrival jitter in seconds (0 until the clock rate is known).
    pub jitter: f64,
    /// The last packet's payload type.
    pub payload_type: u8,
    /// When the last packet came.
    pub last_arrival: Instant,
}

impl ReceiveStatistics {
    /// A stream whose first packet is `header`, arrived at `now`.
    pub fn new(header: &RtpHeader<'_>, now: Instant) -> Self {
        let mut stats = Self {
            clock_rate: None,
            base: u64::from(header.sequence_number),
            max_seq: header.sequence_number,
            cycles: 0,
            bad_seq: None,
            received: 0,
            payload_bytes: 0,
            header_bytes: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: 0.0,
            last_transit: None,
            epoch: now,
            last_arrival: now,
            last_sender_report: None,
            missing: BTreeMap::new(),
            payload_type: header.payload_type,
        };
        stats.count(header, now);
        stats
    }

    /// The payload type's clock rate, for jitter (set by the owner from the descriptions).
    pub fn set_clock_rate(&mut self, clock_rate: u32) {
        if clock_rate > 0 {
            self.clock_rate = Some(clock_rate);
        }
    }

    /// Takes in one packet of the stream, arrived at `now`.
    pub fn receive(&mut self, header: &RtpHeader<'_>, now: Instant) {
        let seq = header.sequence_number;
        let ahead = u32::from(seq.wrapping_sub(self.max_seq));
        if ahead == 0 {
            // A duplicate of the newest.
        } else if ahead < MAX_DROPOUT {
            let old_extended = self.extended_max();
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
            let new_extended = self.extended_max();
            for lost in (old_extended + 1)..new_extended {
                if new_extended - lost <= NACK_HISTORY {
                    self.missing.insert(
                        lost,
                        Missing {
                            tries: 0,
                            last: None,
                        },
                    );
                }
            }
        } else if ahead <= (1 << 16) - MAX_MISORDER {
            // A large jump: the sender restarted, if the next packet follows this one.
            if self.bad_seq == Some(seq) {
                self.restart(header);
            } else {
                self.bad_seq = Some(seq.wrapping_add(1));
                return;
            }
        } else {
            // Late: fills a hole, if it was one.
            let behind = u64::from(self.max_seq.wrapping_sub(seq));
            if let Some(extended) = self.extended_max().checked_sub(behind) {
                self.missing.remove(&extended);
            }
        }
        self.count(header, now);
        let floor = self.extended_max().saturating_sub(NACK_HISTORY);
        self.missing = self.missing.split_off(&floor);
    }

    fn restart(&mut self, header: &RtpHeader<'_>) {
        self.base = u64::from(header.sequence_number);
        self.max_seq = header.sequence_number;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
        self.missing.clear();
    }

    fn count(&mut self, header: &RtpHeader<'_>, now: Instant) {
        self.received += 1;
        self.payload_bytes += header.payload_len as u64;
        self.header_bytes += header.header_len as u64;
        self.payload_type = header.payload_type;
        self.last_arrival = now;
        if let Some(rate) = self.clock_rate {
            let arrival = now.duration_since(self.epoch).as_secs_f64() * f64::from(rate);
            let transit = arrival - f64::from(header.timestamp);
            if let Some(last) = self.last_transit {
                let d = (transit - last).abs();
                // RTP timestamps wrap: a difference of more than a minute is a wrap, not jitter.
                if d < 60.0 * f64::from(rate) {
                    self.jitter += (d - self.jitter) / 16.0;
                }
            }
            self.last_transit = Some(transit);
        }
    }

    /// Whether `sequence` is one of the packets missing (and still asked for): a
    /// retransmission of it fills a hole, anything else is a duplicate.
    pub fn is_missing(&self, sequence: u16) -> bool {
        let behind = u64::from(self.max_seq.wrapping_sub(sequence));
        self.extended_max()
            .checked_sub(behind)
            .is_some_and(|extended| self.missing.contains_key(&extended))
    }

    /// The extended highest sequence number received.
    pub fn extended_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected so far.
    fn expected(&self) -> u64 {
        self.extended_max() + 1 - self.base
    }

    /// A sender report from the stream's sender came at `now`, its NTP time `ntp`.
    pub fn sender_report(&mut self, ntp: u64, now: Instant) {
        self.last_sender_report = Some(((ntp >> 16) as u32, now));
    }

    /// The report block about this stream (`ssrc`) for a report sent at `now`; starts the next
    /// reporting interval.
    pub fn report_block(&mut self, ssrc: u32, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sender_report, delay) = match self.last_sender_report {
            Some((middle, at)) => (middle, fixed_16_16(now.duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: (expected as i64 - self.received as i64).clamp(-0x80_0000, 0x7f_ffff)
                as i32,
            extended_highest_sequence: self.extended_max() as u32,
            jitter: self.jitter as u32,
            last_sender_report,
            delay_since_last_sender_report: delay,
        }
    }

    /// The sequence numbers to NACK at `now`: missing, not NACKed within `interval`, and
    /// asked for fewer than ten times (then given up: a key frame request is the owner's
    /// next step).
    pub fn nack_list(&mut self, now: Instant, interval: Duration) -> Vec<u16> {
        let mut list = Vec::new();
        self.missing.retain(|&extended, missing| {
            if missing
                .last
                .is_some_and(|last| now.duration_since(last) < interval)
            {
                return true;
            }
            if missing.tries >= NACK_TRIES {
                return false;
            }
            missing.tries += 1;
            missing.last = Some(now);
            list.push(extended as u16);
            true
        });
        list
    }

    /// The figures getStats shows.
    pub fn snapshot(&self) -> ReceiveSnapshot {
        ReceiveSnapshot {
            packets_received: self.received,
            packets_lost: self.expected() as i64 - self.received as i64,
            bytes_received: self.payload_bytes,
            header_bytes_received: self.header_bytes,
            jitter: self
                .clock_rate
                .map_or(0.0, |rate| self.jitter / f64::from(rate)),
            payload_type: self.payload_type,
            last_arrival: self.last_arrival,
        }
    }
}

/// A duration in 1/65536 s (the DLSR field).
pub fn fixed_16_16(duration: Duration) -> u32 {
    let units = duration.as_secs_f64() * 65536.0;
    units.min(f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, timestamp: u32) -> Vec<u8> {
        let mut p = vec![0x80, 96];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&timestamp.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1]);
        p.extend_from_slice(&[0; 100]);
        p
    }

    /// Feeds `seqs` 20 ms apart (timestamps 20 ms apart at 90 kHz, so no jitter).
    fn feed(seqs: &[u16]) -> (ReceiveStatistics, Instant) {
        let start = Instant::now();
        let first = packet(seqs[0], u32::from(seqs[0]) * 1800);
        let mut stats = ReceiveStatistics::new(&RtpHeader::parse(&first).unwrap(), start);
        stats.set_clock_rate(90_000);
        let mut now = start;
        for &seq in &seqs[1..] {
            now += Duration::from_millis(20);
            let p = packet(seq, u32::from(seq) * 1800);
            stats.receive(&RtpHeader::parse(&p).unwrap(), now);
        }
        (stats, now)
    }

    #[test]
    fn counts_loss_reordering_and_wrap() {
        let cases: &[(&str, Vec<u16>, u64, i64, u64)] = &[
            ("in order", vec![1, 2, 3, 4], 4, 0, 4),
            ("one lost", vec![1, 2, 4, 5], 4, 1, 5),
            ("late packet fills the hole", vec![1, 3, 2, 4], 4, 0, 4),
            ("wraps", vec![65534, 65535, 0, 1], 4, 0, 65536 + 1),
            ("wraps with a loss", vec![65534, 0, 1], 3, 1, 65536 + 1),
        ];
        for (name, seqs, received, lost, highest) in cases {
            let (stats, _) = feed(seqs);
            let snapshot = stats.snapshot();
            assert_eq!(snapshot.packets_received, *received, "{name}");
            assert_eq!(snapshot.packets_lost, *lost, "{name}");
            assert_eq!(stats.extended_max(), *highest, "{name}");
            assert_eq!(snapshot.bytes_received, 100 * received, "{name}");
        }
    }

    #[test]
    fn a_restart_is_believed_after_two_packets() {
        let (stats, _) = feed(&[10, 11, 40_000]);
        assert_eq!(stats.extended_max(), 11, "one far packet is ignored");
        let (stats, _) = feed(&[10, 11, 40_000, 40_001]);
        assert_eq!(
            (stats.extended_max(), stats.snapshot().packets_lost),
            (40_001, 0)
        );
    }

    #[test]
    fn report_blocks_give_the_interval_fraction() {
        let (mut stats, now) = feed(&[1, 2, 3, 4]);
        assert_eq!(stats.report_block(5, now).fraction_lost, 0);
        // 4 expected in the next interval (5..=8), 2 received: half lost.
        for (k, seq) in [6u16, 8].into_iter().enumerate() {
            let p = packet(seq, u32::from(seq) * 1800);
            let at = now + Duration::from_millis(40 * (k as u64 + 1));
            stats.receive(&RtpHeader::parse(&p).unwrap(), at);
        }
        let block = stats.report_block(5, now);
        assert_eq!((block.fraction_lost, block.cumulative_lost), (128, 2));
        assert_eq!((block.extended_highest_sequence, block.jitter), (8, 0));
        stats.sender_report(0x0000_1234_5678_0000, now);
        let later = stats.report_block(5, now + Duration::from_millis(500));
        assert_eq!(later.last_sender_report, 0x1234_5678);
        assert_eq!(later.delay_since_last_sender_report, 32768);
    }

    #[test]
    fn nacks_each_missing_packet_a_few_times() {
        let (mut stats, now) = feed(&[1, 2, 5, 6]);
        let interval = Duration::from_millis(100);
        assert_eq!(stats.nack_list(now, interval), vec![3, 4]);
        assert!(
            stats.nack_list(now, interval).is_empty(),
            "not again at once"
        );
        let p = packet(3, 3 * 1800);
        stats.receive(&RtpHeader::parse(&p).unwrap(), now);
        let mut later = now;
        let mut asked = 0;
        for _ in 0..20 {
            later += interval;
            asked += stats.nack_list(later, interval).len();
        }
        assert_eq!(asked, 9, "4 asked 9 more times, then given up");
    }

    #[test]
    fn jitter_follows_arrival_variation() {
        let start = Instant::now();
        let first = packet(0, 0);
        let mut stats = ReceiveStatistics::new(&RtpHeader::parse(&first).unwrap(), start);
        stats.set_clock_rate(90_000);
        // Every other packet 10 ms late.
        for seq in 1..200u16 {
            let late = if seq % 2 == 0 { 10 } else { 0 };
            let at = start + Duration::from_millis(20 * u64::from(seq) + late);
            let p = packet(seq, u32::from(seq) * 1800);
            stats.receive(&RtpHeader::parse(&p).unwrap(), at);
        }
        let jitter = stats.snapshot().jitter;
        assert!((0.009..0.011).contains(&jitter), "{jitter}");
    }
}
