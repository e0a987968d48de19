//! What the media layer reads and writes of RTCP (RFC 3550 §6, RFC 4585, RFC 5104): the
//! packets of a compound; sender and receiver reports with their report blocks; generic NACKs;
//! key frame requests (PLI, FIR).

/// RTCP sender report (RFC 3550 §6.4.1).
pub const SR: u8 = 200;
/// RTCP receiver report (RFC 3550 §6.4.2).
pub const RR: u8 = 201;
/// RTCP transport-layer feedback (RFC 4585 §6.2).
pub const RTPFB: u8 = 205;
/// RTPFB format: generic NACK.
const FMT_NACK: u8 = 1;
/// RTCP payload-specific feedback (RFC 4585 §6.3).
pub const PSFB: u8 = 206;
/// PSFB format: Picture Loss Indication.
const FMT_PLI: u8 = 1;
/// PSFB format: Full Intra Request (RFC 5104 §4.3.1).
const FMT_FIR: u8 = 4;

/// One RTCP packet of a compound: its type, count/format field and body (after the 4-byte
/// header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    /// The packet type (200 SR, 201 RR, 205 RTPFB, 206 PSFB, ...).
    pub packet_type: u8,
    /// The five-bit count or feedback format field.
    pub count: u8,
    /// The bytes after the common header, padding included.
    pub body: &'a [u8],
}

/// The packets of an unprotected RTCP compound, in order; stops at the first that is not
/// well formed (version other than 2, a length past the end).
pub fn packets(compound: &[u8]) -> impl Iterator<Item = RtcpPacket<'_>> {
    let mut rest = compound;
    std::iter::from_fn(move || {
        let header = rest.get(..4)?;
        if header[0] >> 6 != 2 {
            rest = &[];
            return None;
        }
        let len = 4 * (usize::from(u16::from_be_bytes([header[2], header[3]])) + 1);
        let Some(packet) = rest.get(..len) else {
            rest = &[];
            return None;
        };
        rest = &rest[len..];
        Some(RtcpPacket {
            packet_type: header[1],
            count: header[0] & 0x1f,
            body: &packet[4..],
        })
    })
}

/// The SSRCs a compound asks a key frame of: the media source of every PLI and each FIR
/// entry's SSRC.
pub fn keyframe_requests(compound: &[u8]) -> Vec<u32> {
    let mut ssrcs = Vec::new();
    for packet in packets(compound).filter(|p| p.packet_type == PSFB) {
        match packet.count {
            FMT_PLI => ssrcs.extend(packet.body.get(4..8).map(be_u32)),
            // FCI entries of 8 bytes after sender and (unused) media SSRC: SSRC, seq, reserved.
            FMT_FIR => ssrcs.extend(
                packet
                    .body
                    .get(8..)
                    .unwrap_or_default()
                    .chunks_exact(8)
                    .map(|entry| be_u32(&entry[..4])),
            ),
            _ => {}
        }
    }
    ssrcs
}

/// One report block of an SR or RR (RFC 3550 §6.4.1): how the reporter receives `ssrc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The stream reported on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP time of the last SR received from `ssrc` (0: none).
    pub last_sender_report: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sender_report: u32,
}

impl ReportBlock {
    fn read(bytes: &[u8]) -> Self {
        let lost = be_u32(&bytes[4..8]) & 0x00ff_ffff;
        // Sign-extend the 24-bit count.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Self {
            ssrc: be_u32(&bytes[0..4]),
            fraction_lost: bytes[4],
            cumulative_lost,
            extended_highest_sequence: be_u32(&bytes[8..12]),
            jitter: be_u32(&bytes[12..16]),
            last_sender_report: be_u32(&bytes[16..20]),
            delay_since_last_sender_report: be_u32(&bytes[20..24]),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        out.extend_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        out.extend_from_slice(&self.extended_highest_sequence.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sender_report.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sender_report.to_be_bytes());
    }
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Its NTP timestamp (64-bit fixed point, seconds since 1900).
    pub ntp: u64,
    /// The RTP timestamp that corresponds to `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent so far.
    pub packet_count: u32,
    /// Payload octets sent so far.
    pub octet_count: u32,
}

/// What a compound reports: each SR's sender information, and every report block of its SRs
/// and RRs with the SSRC of the reporter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    /// Sender reports' sender information.
    pub senders: Vec<SenderInfo>,
    /// `(reporter, block)` for every report block.
    pub blocks: Vec<(u32, ReportBlock)>,
}

/// The SRs' and RRs' contents of a compound.
pub fn reports(compound: &[u8]) -> Reports {
    let mut reports = Reports::default();
    for packet in packets(compound) {
        let (reporter, blocks) = match packet.packet_type {
            SR if packet.body.len() >= 24 => {
                let b = packet.body;
                let ntp = (u64::from(be_u32(&b[4..8])) << 32) | u64::from(be_u32(&b[8..12]));
                reports.senders.push(SenderInfo {
                    ssrc: be_u32(&b[0..4]),
                    ntp,
                    rtp_timestamp: be_u32(&b[12..16]),
                    packet_count: be_u32(&b[16..20]),
                    octet_count: be_u32(&b[20..24]),
                });
                (be_u32(&b[0..4]), &b[24..])
            }
            RR if packet.body.len() >= 4 => (be_u32(&packet.body[0..4]), &packet.body[4..]),
            _ => continue,
        };
        reports.blocks.extend(
            blocks
                .chunks_exact(24)
                .take(usize::from(packet.count))
                .map(|block| (reporter, ReportBlock::read(block))),
        );
    }
    reports
}

/// A receiver report from `reporter` with up to 31 `blocks` (the rest are left out).
pub fn receiver_report(reporter: u32, blocks: &[ReportBlock]) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(31)];
    let mut out = Vec::with_capacity(8 + 24 * blocks.len());
    out.push(0x80 | blocks.len() as u8);
    out.push(RR);
    out.extend_from_slice(&(1 + 6 * blocks.len() as u16).to_be_bytes());
    out.extend_from_slice(&reporter.to_be_bytes());
    for block in blocks {
        block.write(&mut out);
    }
    out
}

/// A sender report with `info` and up to 31 `blocks`.
pub fn sender_report(info: &SenderInfo, blocks: &[ReportBlock]) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(31)];
    let mut out = Vec::with_capacity(28 + 24 * blocks.len());
    out.push(0x80 | blocks.len() as u8);
    out.push(SR);
    out.extend_from_slice(&(6 + 6 * blocks.len() as u16).to_be_bytes());
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp.to_be_bytes());
    out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&info.packet_count.to_be_bytes());
    out.extend_from_slice(&info.octet_count.to_be_bytes());
    for block in blocks {
        block.write(&mut out);
    }
    out
}

/// The sequence numbers each generic NACK of a compound asks for, with the media SSRC it asks
/// about (RFC 4585 §6.2.1: a packet id and a bitmask of the 16 after it).
pub fn nacks(compound: &[u8]) -> Vec<(u32, u16)> {
    let mut lost = Vec::new();
    for packet in packets(compound).filter(|p| p.packet_type == RTPFB && p.count == FMT_NACK) {
        let Some(media) = packet.body.get(4..8).map(be_u32) else {
            continue;
        };
        for fci in packet.body.get(8..).unwrap_or_default().chunks_exact(4) {
            let first = u16::from_be_bytes([fci[0], fci[1]]);
            let mask = u16::from_be_bytes([fci[2], fci[3]]);
            lost.push((media, first));
            for bit in 0..16u16 {
                if mask & (1 << bit) != 0 {
                    lost.push((media, first.wrapping_add(bit + 1)));
                }
            }
        }
    }
    lost
}

/// A generic NACK from `sender` about `media` for `lost` (sorted or not; packed into as few
/// FCI entries as the bitmasks allow).
pub fn nack(sender: u32, media: u32, lost: &[u16]) -> Vec<u8> {
    let mut entries: Vec<(u16, u16)> = Vec::new();
    for &seq in lost {
        match entries.last_mut() {
            Some((first, mask)) if seq.wrapping_sub(*first).wrapping_sub(1) < 16 => {
                *mask |= 1 << seq.wrapping_sub(*first).wrapping_sub(1);
            }
            _ => entries.push((seq, 0)),
        }
    }
    let mut out = Vec::with_capacity(12 + 4 * entries.len());
    out.push(0x80 | FMT_NACK);
    out.push(RTPFB);
    out.extend_from_slice(&(2 + entries.len() as u16).to_be_bytes());
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&media.to_be_bytes());
    for (first, mask) in entries {
        out.extend_from_slice(&first.to_be_bytes());
        out.extend_from_slice(&mask.to_be_bytes());
    }
    out
}

/// A Picture Loss Indication from `sender` about the stream `media` (RFC 4585 §6.3.1).
pub fn picture_loss_indication(sender: u32, media: u32) -> [u8; 12] {
    let mut packet = [0u8; 12];
    packet[0] = 0x80 | FMT_PLI;
    packet[1] = PSFB;
    packet[3] = 2;
    packet[4..8].copy_from_slice(&sender.to_be_bytes());
    packet[8..12].copy_from_slice(&media.to_be_bytes());
    packet
}

/// The big-endian `u32` at the start of `bytes` (at least four long).
pub(crate) fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pli_and_fir_in_a_compound() {
        // RR with no report blocks, then a PLI for 7, then a FIR with entries for 8 and 9.
        let mut compound = vec![0x80, 201, 0, 1, 0, 0, 0, 1];
        compound.extend_from_slice(&picture_loss_indication(1, 7));
        compound.extend_from_slice(&[0x84, 206, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]);
        compound.extend_from_slice(&[0, 0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 9, 4, 0, 0, 0]);
        assert_eq!(packets(&compound).count(), 3);
        assert_eq!(keyframe_requests(&compound), vec![7, 8, 9]);
    }

    #[test]
    fn reports_and_nacks_round_trip() {
        let block = ReportBlock {
            ssrc: 7,
            fraction_lost: 12,
            cumulative_lost: -3,
            extended_highest_sequence: 0x0001_0005,
            jitter: 90,
            last_sender_report: 0x1234_5678,
            delay_since_last_sender_report: 65536,
        };
        let info = SenderInfo {
            ssrc: 9,
            ntp: 0x0102_0304_0506_0708,
            rtp_timestamp: 3000,
            packet_count: 10,
            octet_count: 12_000,
        };
        let mut compound = sender_report(&info, &[block]);
        compound.extend_from_slice(&receiver_report(11, &[block, block]));
        compound.extend_from_slice(&nack(11, 7, &[100, 101, 116, 117, 200]));
        let read = reports(&compound);
        assert_eq!(read.senders, vec![info]);
        assert_eq!(read.blocks, vec![(9, block), (11, block), (11, block)]);
        assert_eq!(
            nacks(&compound),
            vec![(7, 100), (7, 101), (7, 116), (7, 117), (7, 200)]
        );
        // 100 + 16 fits the first entry's mask; 117 and 200 need entries of their own.
        assert_eq!(nack(1, 2, &[100, 116, 117, 200]).len(), 12 + 3 * 4);
        assert_eq!(nack(1, 2, &[65535, 0, 1]).len(), 12 + 4, "wraps");
    }

    #[test]
    fn stops_at_a_broken_packet() {
        let mut compound = picture_loss_indication(1, 7).to_vec();
        compound.extend_from_slice(&[0x81, 206, 0, 9, 0, 0]);
        assert_eq!(keyframe_requests(&compound), vec![7]);
        assert_eq!(packets(&[0x40, 201, 0, 0]).count(), 0);
        assert!(keyframe_requests(&[0x81, 206, 0, 0]).is_empty());
    }
}
