//! Congestion control feedback on the wire: transport-wide feedback (TWCC,
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: RTPFB format 15), which reports
//! when each packet of the transport-wide sequence arrived, and REMB
//! (draft-alvestrand-rmcat-remb-03: PSFB format 15), the receiver's estimate of the bitrate it
//! can take. Both read from any compound and written as we send them.

use std::fmt;

use super::rtcp::{self, PSFB, RTPFB, be_u32};

/// RTPFB format of transport-wide feedback.
const FMT_TRANSPORT_FEEDBACK: u8 = 15;
/// PSFB format of application-layer feedback (REMB is one).
const FMT_APPLICATION: u8 = 15;
/// A receive delta's unit: 250 µs.
pub const DELTA_TICK_MICROS: i64 = 250;
/// The reference time's unit: 64 ms, in delta ticks.
pub const REFERENCE_TICKS: i64 = 256;

/// Why a transport feedback packet was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedbackError {
    /// Two received packets are further apart than a two-byte delta holds (±8.19 s), or the
    /// first is before the reference time.
    DeltaOutOfRange,
    /// No packet, or more than the 16-bit status count holds.
    StatusCount,
}

impl fmt::Display for FeedbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DeltaOutOfRange => f.write_str("receive delta out of range"),
            Self::StatusCount => f.write_str("packet status count out of range"),
        }
    }
}

impl std::error::Error for FeedbackError {}

/// One transport-wide feedback packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFeedback {
    /// The SSRC it is sent from.
    pub sender_ssrc: u32,
    /// The media SSRC field (a stream of the transport; receivers do not rely on it).
    pub media_ssrc: u32,
    /// The transport-wide sequence number of the first packet reported.
    pub base_sequence: u16,
    /// The reference time, in 64 ms units (24 bits, signed, on the receiver's clock).
    pub reference_time: i32,
    /// Counts the feedback packets sent, wrapping.
    pub feedback_count: u8,
    /// Each packet from `base_sequence` on: when it arrived, in 250 µs ticks after the
    /// reference time; `None` when it has not arrived.
    pub arrivals: Vec<Option<i64>>,
}

/// What a receive status says of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    NotReceived = 0,
    SmallDelta = 1,
    LargeDelta = 2,
}

impl TransportFeedback {
    /// Reads the body of an RTPFB packet of format 15 (after the common header); `None` when
    /// it is truncated or says something impossible.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let fixed = body.get(..16)?;
        let base_sequence = u16::from_be_bytes([fixed[8], fixed[9]]);
        let count = usize::from(u16::from_be_bytes([fixed[10], fixed[11]]));
        // 24 bits, signed.
        let reference_time = i32::from_be_bytes([fixed[12], fixed[13], fixed[14], 0]) >> 8;
        let mut rest = &body[16..];
        let mut statuses = Vec::with_capacity(count.min(rest.len() * 14));
        while statuses.len() < count {
            let (chunk, after) = rest.split_first_chunk::<2>()?;
            rest = after;
            let chunk = u16::from_be_bytes(*chunk);
            if chunk & 0x8000 == 0 {
                // Run length: two status bits, thirteen of length.
                let status = status((chunk >> 13) & 3)?;
                let run = usize::from(chunk & 0x1fff).min(count - statuses.len());
                statuses.extend(std::iter::repeat_n(status, run));
            } else if chunk & 0x4000 == 0 {
                // Fourteen one-bit symbols.
                for k in (0..14).rev() {
                    statuses.push(status((chunk >> k) & 1)?);
                }
            } else {
                // Seven two-bit symbols.
                for k in (0..7).rev() {
                    statuses.push(status((chunk >> (2 * k)) & 3)?);
                }
            }
        }
        statuses.truncate(count);
        // Ticks after the reference time.
        let mut time = 0i64;
        let mut arrivals = Vec::with_capacity(count);
        for status in statuses {
            let delta = match status {
                Status::NotReceived => {
                    arrivals.push(None);
                    continue;
                }
                Status::SmallDelta => {
                    let (&delta, after) = rest.split_first()?;
                    rest = after;
                    i64::from(delta)
                }
                Status::LargeDelta => {
                    let (delta, after) = rest.split_first_chunk::<2>()?;
                    rest = after;
                    i64::from(i16::from_be_bytes(*delta))
                }
            };
            time += delta;
            arrivals.push(Some(time));
        }
        Some(Self {
            sender_ssrc: be_u32(&fixed[..4]),
            media_ssrc: be_u32(&fixed[4..8]),
            base_sequence,
            reference_time,
            feedback_count: fixed[15],
            arrivals,
        })
    }

    /// The packet, common header included, padded to 32 bits.
    pub fn write(&self) -> Result<Vec<u8>, FeedbackError> {
        let count = u16::try_from(self.arrivals.len()).map_err(|_| FeedbackError::StatusCount)?;
        if count == 0 {
            return Err(FeedbackError::StatusCount);
        }
        let mut statuses = Vec::with_capacity(self.arrivals.len());
        let mut deltas = Vec::new();
        let mut previous = 0i64;
        for arrival in &self.arrivals {
            let Some(time) = *arrival else {
                statuses.push(Status::NotReceived);
                continue;
            };
            let delta = time - previous;
            previous = time;
            if let Ok(small) = u8::try_from(delta) {
                statuses.push(Status::SmallDelta);
                deltas.push(small);
            } else {
                let large = i16::try_from(delta).map_err(|_| FeedbackError::DeltaOutOfRange)?;
                statuses.push(Status::LargeDelta);
                deltas.extend_from_slice(&large.to_be_bytes());
            }
        }
        let mut out = vec![0x80 | FMT_TRANSPORT_FEEDBACK, RTPFB, 0, 0];
        out.extend_from_slice(&self.sender_ssrc.to_be_bytes());
        out.extend_from_slice(&self.media_ssrc.to_be_bytes());
        out.extend_from_slice(&self.base_sequence.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&self.reference_time.to_be_bytes()[1..]);
        out.push(self.feedback_count);
        write_chunks(&statuses, &mut out);
        out.extend_from_slice(&deltas);
        // Padded with zeros to 32 bits, the last byte counting them (RFC 3550 §6.4.1).
        let padding = out.len().next_multiple_of(4) - out.len();
        if padding > 0 {
            out[0] |= 0x20;
            out.resize(out.len() + padding - 1, 0);
            out.push(padding as u8);
        }
        let words = (out.len() / 4 - 1) as u16;
        out[2..4].copy_from_slice(&words.to_be_bytes());
        Ok(out)
    }
}

fn status(bits: u16) -> Option<Status> {
    match bits {
        0 => Some(Status::NotReceived),
        1 => Some(Status::SmallDelta),
        2 => Some(Status::LargeDelta),
        _ => None,
    }
}

/// Status chunks: a run length where seven or more statuses repeat, else a vector of
/// fourteen one-bit symbols when the next fourteen have no large delta, else of seven
/// two-bit symbols. The last vector may reach past the count (receivers ignore the rest).
fn write_chunks(statuses: &[Status], out: &mut Vec<u8>) {
    let mut rest = statuses;
    while let Some(&first) = rest.first() {
        let run = rest
            .iter()
            .take(0x1fff)
            .take_while(|status| **status == first)
            .count();
        let chunk = if run >= 7 {
            rest = &rest[run..];
            ((first as u16) << 13) | run as u16
        } else if rest.iter().take(14).all(|s| *s != Status::LargeDelta) {
            let (symbols, after) = rest.split_at(rest.len().min(14));
            rest = after;
            let mut chunk = 0x8000u16;
            for (k, status) in symbols.iter().enumerate() {
                chunk |= (*status as u16) << (13 - k);
            }
            chunk
        } else {
            let (symbols, after) = rest.split_at(rest.len().min(7));
            rest = after;
            let mut chunk = 0xc000u16;
            for (k, status) in symbols.iter().enumerate() {
                chunk |= (*status as u16) << (2 * (6 - k));
            }
            chunk
        };
        out.extend_from_slice(&chunk.to_be_bytes());
    }
}

/// A receiver's estimated maximum bitrate (REMB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remb {
    /// The SSRC it is sent from.
    pub sender_ssrc: u32,
    /// The estimate, bits per second, for the streams below together.
    pub bitrate: u64,
    /// The SSRCs of the streams it covers.
    pub ssrcs: Vec<u32>,
}

impl Remb {
    /// Reads the body of a PSFB packet of format 15; `None` when it is not a REMB or is
    /// truncated.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let fixed = body.get(..16)?;
        if &fixed[8..12] != b"REMB" {
            return None;
        }
        let count = usize::from(fixed[12]);
        let exponent = u32::from(fixed[13] >> 2);
        let mantissa = u64::from(u32::from_be_bytes([0, fixed[13] & 3, fixed[14], fixed[15]]));
        let ssrcs = body
            .get(16..16 + 4 * count)?
            .chunks_exact(4)
            .map(be_u32)
            .collect();
        Some(Self {
            sender_ssrc: be_u32(&fixed[..4]),
            bitrate: mantissa.saturating_mul(1 << exponent),
            ssrcs,
        })
    }

    /// The packet, common header included (the bitrate rounded down to 18 bits of mantissa).
    pub fn write(&self) -> Vec<u8> {
        let mut exponent = 0u32;
        while self.bitrate >> exponent >= 1 << 18 {
            exponent += 1;
        }
        let mantissa = (self.bitrate >> exponent) as u32;
        let count = self.ssrcs.len().min(255);
        let mut out = vec![0x80 | FMT_APPLICATION, PSFB];
        out.extend_from_slice(&(4 + count as u16).to_be_bytes());
        out.extend_from_slice(&self.sender_ssrc.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(b"REMB");
        out.push(count as u8);
        out.push(((exponent as u8) << 2) | ((mantissa >> 16) as u8 & 3));
        out.extend_from_slice(&(mantissa as u16).to_be_bytes());
        for ssrc in &self.ssrcs[..count] {
            out.extend_from_slice(&ssrc.to_be_bytes());
        }
        out
    }
}

/// Congestion control feedback found in an RTCP compound.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CongestionFeedback {
    /// Transport-wide feedback.
    Transport(TransportFeedback),
    /// A receiver's estimate.
    Remb(Remb),
}

/// Every transport-wide feedback and REMB packet of a compound, in order; malformed ones are
/// skipped.
pub fn congestion_feedback(compound: &[u8]) -> Vec<CongestionFeedback> {
    rtcp::packets(compound)
        .filter_map(|packet| match (packet.packet_type, packet.count) {
            (RTPFB, FMT_TRANSPORT_FEEDBACK) => {
                TransportFeedback::parse(packet.body).map(CongestionFeedback::Transport)
            }
            (PSFB, FMT_APPLICATION) => Remb::parse(packet.body).map(CongestionFeedback::Remb),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feedback(arrivals: Vec<Option<i64>>) -> TransportFeedback {
        TransportFeedback {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence: 65_530,
            reference_time: -3,
            feedback_count: 9,
            arrivals,
        }
    }

    #[test]
    fn reads_a_packet_laid_out_as_the_draft_says() {
        // Base 1, 3 packets: received +1 ms, lost, received +2 ms later; a vector chunk of
        // two-bit symbols; reference time 0x0a (640 ms), count 7.
        let packet = [
            0x8f, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 3, 0, 0, 0x0a, 7, 0xd1, 0x00, 4, 8,
        ];
        let parsed = congestion_feedback(&packet);
        let [CongestionFeedback::Transport(feedback)] = &parsed[..] else {
            panic!("{parsed:?}");
        };
        assert_eq!(feedback.base_sequence, 1);
        assert_eq!(feedback.reference_time, 10);
        assert_eq!(feedback.feedback_count, 7);
        assert_eq!(feedback.arrivals, vec![Some(4), None, Some(12)]);
    }

    #[test]
    fn writes_runs_and_vectors_and_reads_them_back() {
        let mut arrivals: Vec<Option<i64>> = (0..20).map(|k| Some(k * 4)).collect();
        arrivals.extend([None, None, Some(-100), Some(30_000), None]);
        arrivals.extend(std::iter::repeat_n(None, 9000));
        arrivals.push(Some(30_004));
        let original = feedback(arrivals);
        let packet = original.write().unwrap();
        assert_eq!(packet.len() % 4, 0);
        let words = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
        assert_eq!(packet.len(), 4 * (words + 1));
        let parsed = congestion_feedback(&packet);
        assert_eq!(parsed, vec![CongestionFeedback::Transport(original)]);
        // The first twenty small deltas went as a run.
        assert_eq!(u16::from_be_bytes([packet[20], packet[21]]), (1 << 13) | 20);
    }

    #[test]
    fn refuses_what_cannot_be_written() {
        assert_eq!(
            feedback(vec![Some(0), Some(40_000)]).write(),
            Err(FeedbackError::DeltaOutOfRange)
        );
        assert_eq!(feedback(vec![]).write(), Err(FeedbackError::StatusCount));
        assert_eq!(
            feedback(vec![None; 70_000]).write(),
            Err(FeedbackError::StatusCount)
        );
    }

    #[test]
    fn truncated_or_reserved_is_skipped() {
        let packet = feedback(vec![Some(1), Some(300), None, Some(2)])
            .write()
            .unwrap();
        for len in 0..packet.len() - 1 {
            let mut cut = packet[..len].to_vec();
            if cut.len() >= 4 {
                // Keep the header honest so the compound parser hands the body over.
                let words = (cut.len() / 4).saturating_sub(1) as u16;
                cut.truncate(4 * (usize::from(words) + 1));
                cut[2..4].copy_from_slice(&words.to_be_bytes());
                cut[0] &= !0x20;
            }
            let parsed = congestion_feedback(&cut);
            assert!(parsed.is_empty(), "{len}: {parsed:?}");
        }
        // The reserved status 3 in a run.
        let mut reserved = packet.clone();
        reserved[20] = 0x60;
        reserved[21] = 1;
        assert!(congestion_feedback(&reserved).is_empty());
    }

    #[test]
    fn remb_round_trips() {
        // One SSRC, exponent 3, mantissa 125,000 (0x1e848): 1,000,000 bps.
        let bytes = [
            0x8f, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, b'R', b'E', b'M', b'B', 1, 0x0d, 0xe8, 0x48,
            0x12, 0x34, 0x56, 0x78,
        ];
        let parsed = congestion_feedback(&bytes);
        let [CongestionFeedback::Remb(remb)] = &parsed[..] else {
            panic!("{parsed:?}");
        };
        assert_eq!(remb.bitrate, 0x1e848 << 3);
        assert_eq!(remb.ssrcs, vec![0x1234_5678]);
        // Written back with the smallest exponent: 250,000 x 2^2.
        let written = remb.write();
        assert_eq!(written[17..20], [0x0b, 0xd0, 0x90]);
        assert_eq!(Remb::parse(&written[4..]).as_ref(), Some(remb));
        let big = Remb {
            sender_ssrc: 5,
            bitrate: 2_500_000,
            ssrcs: vec![1, 2],
        };
        let back = Remb::parse(&big.write()[4..]).unwrap();
        assert!(back.bitrate <= 2_500_000 && back.bitrate > 2_499_000);
        assert_eq!(back.ssrcs, vec![1, 2]);
        assert_eq!(Remb::parse(&bytes[4..15]), None);
    }

    proptest! {
        #[test]
        fn any_feedback_round_trips(
            gaps in proptest::collection::vec((any::<bool>(), -600i64..3000), 1..400),
            reference in -(1i32 << 23)..(1 << 23),
        ) {
            let mut time = 0i64;
            let arrivals: Vec<Option<i64>> = gaps
                .iter()
                .map(|(received, delta)| {
                    received.then(|| {
                        time += delta;
                        time
                    })
                })
                .collect();
            let mut original = feedback(arrivals);
            original.reference_time = reference;
            let packet = original.write().unwrap();
            prop_assert_eq!(
                congestion_feedback(&packet),
                vec![CongestionFeedback::Transport(original)]
            );
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TransportFeedback::parse(&bytes);
            let _ = Remb::parse(&bytes);
        }
    }
}
