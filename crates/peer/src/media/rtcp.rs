//! What the media layer reads and writes of RTCP (RFC 3550 §6, RFC 4585, RFC 5104): the
//! packets of a compound, the key frame requests in it (PLI, FIR), and a PLI to send.

/// RTCP payload-specific feedback (RFC 4585 §6.3).
const PSFB: u8 = 206;
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

fn be_u32(bytes: &[u8]) -> u32 {
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
    fn stops_at_a_broken_packet() {
        let mut compound = picture_loss_indication(1, 7).to_vec();
        compound.extend_from_slice(&[0x81, 206, 0, 9, 0, 0]);
        assert_eq!(keyframe_requests(&compound), vec![7]);
        assert_eq!(packets(&[0x40, 201, 0, 0]).count(), 0);
        assert!(keyframe_requests(&[0x81, 206, 0, 0]).is_empty());
    }
}
