//! What a sender keeps of one outgoing RTP stream: counters for sender reports and getStats,
//! the recent packets to answer NACKs from (RFC 4585), resent as RTX (RFC 4588) when RTX was
//! negotiated, and the round trip from the receiver's report blocks (RFC 3550 §6.4.1).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};

use super::rtcp::{ReportBlock, SenderInfo};
use super::rtp::RtpHeader;

/// Packets kept for retransmission per stream (about 3 s of 720p video at 300 packets/s).
pub const HISTORY: usize = 1024;

/// RTX for one stream: its SSRC and the RTX payload type of each media payload type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtxConfig {
    /// The RTX stream's SSRC.
    pub ssrc: u32,
    /// Media payload type -> RTX payload type (`a=fmtp:<rtx> apt=<media>`).
    pub payload_types: HashMap<u8, u8>,
}

/// One outgoing stream.
#[derive(Debug, Clone)]
pub struct SendStream {
    packets: u64,
    payload_bytes: u64,
    header_bytes: u64,
    history: VecDeque<(u16, Bytes)>,
    rtx: Option<RtxConfig>,
    rtx_sequence: u16,
    retransmitted_packets: u64,
    retransmitted_bytes: u64,
    nacks: u64,
    /// The last packet's RTP timestamp and when it went, to extrapolate SR timestamps.
    last: Option<(u32, Instant)>,
    clock_rate: Option<u32>,
    payload_type: u8,
    /// The receiver's latest report block about this stream, and the round trip it gave.
    remote: Option<ReportBlock>,
    round_trip: Option<Duration>,
    round_trips: u64,
    total_round_trip: Duration,
}

/// A snapshot for getStats (`outbound-rtp`, `remote-inbound-rtp`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SendSnapshot {
    /// Packets sent (retransmissions not included).
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Header bytes sent.
    pub header_bytes_sent: u64,
    /// Packets sent again because the receiver NACKed them.
    pub retransmitted_packets_sent: u64,
    /// Their payload bytes.
    pub retransmitted_bytes_sent: u64,
    /// NACK requests received.
    pub nack_count: u64,
    /// The last packet's payload type.
    pub payload_type: u8,
    /// The receiver's latest report about the stream.
    pub remote: Option<ReportBlock>,
    /// The latest round trip measured from a report block.
    pub round_trip_time: Option<Duration>,
    /// Round trips measured.
    pub round_trip_time_measurements: u64,
    /// Their sum.
    pub total_round_trip_time: Duration,
    /// The clock rate of the stream's payload type, when known.
    pub clock_rate: Option<u32>,
}

impl Default for SendStream {
    fn default() -> Self {
        Self {
            packets: 0,
            payload_bytes: 0,
            header_bytes: 0,
            history: VecDeque::with_capacity(64),
            rtx: None,
            rtx_sequence: 0,
            retransmitted_packets: 0,
            retransmitted_bytes: 0,
            nacks: 0,
            last: None,
            clock_rate: None,
            payload_type: 0,
            remote: None,
            round_trip: None,
            round_trips: 0,
            total_round_trip: Duration::ZERO,
        }
    }
}

impl SendStream {
    /// Resends as RTX with `config` (`None`: the original packet is resent as it was).
    pub fn set_rtx(&mut self, config: Option<RtxConfig>) {
        self.rtx = config;
    }

    /// The payload type's clock rate (for sender report timestamps).
    pub fn set_clock_rate(&mut self, clock_rate: u32) {
        if clock_rate > 0 {
            self.clock_rate = Some(clock_rate);
        }
    }

    /// The RTX SSRC, when RTX is configured.
    pub fn rtx_ssrc(&self) -> Option<u32> {
        self.rtx.as_ref().map(|rtx| rtx.ssrc)
    }

    /// One packet (unprotected) sent at `now`.
    pub fn sent(&mut self, header: &RtpHeader<'_>, packet: &Bytes, now: Instant) {
        self.packets += 1;
        self.payload_bytes += header.payload_len as u64;
        self.header_bytes += header.header_len as u64;
        self.payload_type = header.payload_type;
        self.last = Some((header.timestamp, now));
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history
            .push_back((header.sequence_number, packet.clone()));
    }

    /// The packet to send for a NACK of `sequence`: an RTX packet when RTX is configured for
    /// its payload type, else the original; `None` when it is no longer kept.
    pub fn retransmission(&mut self, sequence: u16) -> Option<Bytes> {
        self.nacks += 1;
        let original = self
            .history
            .iter()
            .rev()
            .find(|(seq, _)| *seq == sequence)
            .map(|(_, packet)| packet.clone())?;
        let header = RtpHeader::parse(&original).ok()?;
        let payload_len = header.payload_len;
        let resent = match self
            .rtx
            .as_ref()
            .and_then(|rtx| Some((rtx.ssrc, *rtx.payload_types.get(&header.payload_type)?)))
        {
            Some((ssrc, payload_type)) => {
                let mut rtx = BytesMut::with_capacity(original.len() + 2);
                rtx.put_slice(&original[..header.header_len]);
                // No padding in the RTX packet.
                rtx[0] &= !0x20;
                rtx[1] = (rtx[1] & 0x80) | payload_type;
                rtx[2..4].copy_from_slice(&self.rtx_sequence.to_be_bytes());
                rtx[8..12].copy_from_slice(&ssrc.to_be_bytes());
                self.rtx_sequence = self.rtx_sequence.wrapping_add(1);
                rtx.put_u16(sequence);
                rtx.put_slice(&original[header.header_len..header.header_len + payload_len]);
                rtx.freeze()
            }
            None => original,
        };
        self.retransmitted_packets += 1;
        self.retransmitted_bytes += payload_len as u64;
        Some(resent)
    }

    /// The sender information of an SR at `now`, whose NTP time is `ntp`: the RTP timestamp
    /// extrapolated from the last packet with the clock rate.
    pub fn sender_info(&self, ssrc: u32, now: Instant, ntp: u64) -> Option<SenderInfo> {
        let (timestamp, at) = self.last?;
        let elapsed = now.saturating_duration_since(at).as_secs_f64();
        let advance = self
            .clock_rate
            .map_or(0, |rate| (elapsed * f64::from(rate)) as u32);
        Some(SenderInfo {
            ssrc,
            ntp,
            rtp_timestamp: timestamp.wrapping_add(advance),
            packet_count: self.packets as u32,
            octet_count: self.payload_bytes as u32,
        })
    }

    /// The receiver reported on this stream; `now_middle` is the middle 32 bits of the NTP time
    /// now. With a last-SR time in it, the round trip is now - LSR - DLSR (RFC 3550 §6.4.1).
    pub fn report(&mut self, block: ReportBlock, now_middle: u32) {
        if block.last_sender_report != 0 {
            let units = now_middle
                .wrapping_sub(block.last_sender_report)
                .wrapping_sub(block.delay_since_last_sender_report);
            // A negative or absurd round trip (clocks, a stale LSR) is not taken.
            if units < 60 * 65536 {
                let rtt = Duration::from_secs_f64(f64::from(units) / 65536.0);
                self.round_trip = Some(rtt);
                self.round_trips += 1;
                self.total_round_trip += rtt;
            }
        }
        self.remote = Some(block);
    }

    /// The figures getStats shows.
    pub fn snapshot(&self) -> SendSnapshot {
        SendSnapshot {
            packets_sent: self.packets,
            bytes_sent: self.payload_bytes,
            header_bytes_sent: self.header_bytes,
            retransmitted_packets_sent: self.retransmitted_packets,
            retransmitted_bytes_sent: self.retransmitted_bytes,
            nack_count: self.nacks,
            payload_type: self.payload_type,
            remote: self.remote,
            round_trip_time: self.round_trip,
            round_trip_time_measurements: self.round_trips,
            total_round_trip_time: self.total_round_trip,
            clock_rate: self.clock_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, padded: bool) -> Bytes {
        let mut p = vec![0x90 | if padded { 0x20 } else { 0 }, 96];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 5]);
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
        p.extend_from_slice(&[1, 2, 3]);
        if padded {
            p.extend_from_slice(&[0, 0, 3]);
        }
        Bytes::from(p)
    }

    fn send(stream: &mut SendStream, seq: u16, padded: bool) {
        let p = packet(seq, padded);
        stream.sent(&RtpHeader::parse(&p).unwrap(), &p, Instant::now());
    }

    #[test]
    fn resends_the_original_without_rtx() {
        let mut stream = SendStream::default();
        for seq in 10..20 {
            send(&mut stream, seq, false);
        }
        assert_eq!(stream.retransmission(12), Some(packet(12, false)));
        assert_eq!(stream.retransmission(30), None, "never sent");
        let s = stream.snapshot();
        assert_eq!(
            (s.packets_sent, s.bytes_sent, s.header_bytes_sent),
            (10, 30, 200)
        );
        assert_eq!((s.retransmitted_packets_sent, s.nack_count), (1, 2));
    }

    #[test]
    fn resends_as_rtx_with_the_original_sequence_first() {
        let mut stream = SendStream::default();
        stream.set_rtx(Some(RtxConfig {
            ssrc: 77,
            payload_types: HashMap::from([(96, 97)]),
        }));
        send(&mut stream, 500, true);
        let rtx = stream.retransmission(500).unwrap();
        let header = RtpHeader::parse(&rtx).unwrap();
        assert_eq!(
            (header.ssrc, header.payload_type, header.sequence_number),
            (77, 97, 0)
        );
        assert_eq!(header.extension(1), Some(&[0xaa][..]), "extensions kept");
        assert_eq!(
            &rtx[header.header_len..],
            &[0x01, 0xf4, 1, 2, 3],
            "OSN, then the payload"
        );
        let again = stream.retransmission(500).unwrap();
        assert_eq!(RtpHeader::parse(&again).unwrap().sequence_number, 1);
    }

    #[test]
    fn keeps_the_newest_history() {
        let mut stream = SendStream::default();
        for seq in 0..(HISTORY as u16 + 10) {
            send(&mut stream, seq, false);
        }
        assert_eq!(stream.retransmission(5), None);
        assert!(stream.retransmission(HISTORY as u16 + 9).is_some());
    }

    #[test]
    fn round_trip_from_a_report_block() {
        let mut stream = SendStream::default();
        let block = ReportBlock {
            ssrc: 1,
            last_sender_report: 0x0001_0000,
            delay_since_last_sender_report: 0x0000_8000,
            ..ReportBlock::default()
        };
        // Now is LSR + 0.75 s; the receiver held it 0.5 s: 0.25 s round trip.
        stream.report(block, 0x0001_c000);
        let s = stream.snapshot();
        assert_eq!(s.round_trip_time, Some(Duration::from_millis(250)));
        assert_eq!(s.remote, Some(block));
        // No LSR: no round trip, the block is kept.
        stream.report(ReportBlock::default(), 5);
        assert_eq!(stream.snapshot().round_trip_time_measurements, 1);
    }

    #[test]
    fn sender_info_extrapolates_the_timestamp() {
        let mut stream = SendStream::default();
        stream.set_clock_rate(90_000);
        let start = Instant::now();
        let p = packet(1, false);
        stream.sent(&RtpHeader::parse(&p).unwrap(), &p, start);
        let info = stream
            .sender_info(3, start + Duration::from_millis(100), 42)
            .unwrap();
        assert_eq!(
            (info.rtp_timestamp, info.packet_count, info.octet_count),
            (9 + 9000, 1, 3)
        );
    }
}
