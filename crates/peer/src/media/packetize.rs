//! Encoded frames into RTP packets, for an application that has frames rather than packets:
//! Opus (RFC 7587: a frame a packet), VP8 (RFC 7741), VP9 (RFC 9628, non-flexible mode without
//! picture ids), H.264 (RFC 6184: single NAL unit packets, FU-A fragments of larger units; an
//! Annex B byte stream is split at its start codes), AV1 (the AOM RTP payload format: a
//! temporal unit's OBUs as OBU elements, fragmented where they do not fit). Packets fit an MTU, the last of a frame
//! carries the marker bit (video), sequence numbers follow on from frame to frame.
//!
//! The packets carry SSRC 0: [`RTCPeerConnection::write_rtp`] sends them with the
//! transceiver's own.
//!
//! [`RTCPeerConnection::write_rtp`]: crate::RTCPeerConnection::write_rtp

use std::fmt;

mod av1;

/// The payload formats [`Packetizer`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadFormat {
    /// `audio/opus`.
    Opus,
    /// `video/VP8`.
    Vp8,
    /// `video/VP9`.
    Vp9,
    /// `video/H264`, packetization-mode 1.
    H264,
    /// `video/AV1`: a frame is a temporal unit in the low-overhead bitstream format.
    Av1,
}

impl PayloadFormat {
    /// The format of an `a=rtpmap` encoding name (`opus`, `VP8`, `VP9`, `H264`, `AV1`; any
    /// case).
    pub fn from_encoding(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "opus" => Some(Self::Opus),
            "vp8" => Some(Self::Vp8),
            "vp9" => Some(Self::Vp9),
            "h264" => Some(Self::H264),
            "av1" => Some(Self::Av1),
            _ => None,
        }
    }
}

/// Why a frame was not packetized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketizeError {
    /// The frame is empty (or, for H.264, holds no NAL unit).
    EmptyFrame,
    /// The MTU leaves no room for payload after the headers.
    MtuTooSmall,
    /// The frame is not what its format says (AV1: an OBU header or size runs past the end,
    /// or its forbidden bit is set).
    MalformedFrame,
}

impl fmt::Display for PacketizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyFrame => f.write_str("the frame is empty"),
            Self::MtuTooSmall => f.write_str("the MTU leaves no room for payload"),
            Self::MalformedFrame => f.write_str("the frame is malformed for its format"),
        }
    }
}

impl std::error::Error for PacketizeError {}

/// The RTP header's length as we write it (no CSRC, no extension).
const HEADER: usize = 12;

/// Frames of one stream into RTP packets (see the [module](self) documentation).
#[derive(Debug, Clone)]
pub struct Packetizer {
    format: PayloadFormat,
    payload_type: u8,
    sequence: u16,
    mtu: usize,
}

impl Packetizer {
    /// A packetizer for `format` with `payload_type`, its first sequence number `first_sequence`
    /// (RFC 3550 asks for a random one), packets at most `mtu` bytes (1,200 keeps clear of
    /// every path's MTU once SRTP, TURN and IP are added).
    pub fn new(format: PayloadFormat, payload_type: u8, first_sequence: u16, mtu: usize) -> Self {
        Self {
            format,
            payload_type: payload_type & 0x7f,
            sequence: first_sequence,
            mtu,
        }
    }

    /// The packets of one frame with RTP timestamp `timestamp`.
    pub fn packetize(
        &mut self,
        frame: &[u8],
        timestamp: u32,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        if frame.is_empty() {
            return Err(PacketizeError::EmptyFrame);
        }
        let payloads = match self.format {
            PayloadFormat::Opus => {
                if frame.len() + HEADER > self.mtu {
                    return Err(PacketizeError::MtuTooSmall);
                }
                vec![frame.to_vec()]
            }
            PayloadFormat::Vp8 => {
                self.described(frame, |first, _| vec![if first { 0x10 } else { 0 }])?
            }
            PayloadFormat::Vp9 => self.described(frame, |first, last| {
                vec![(if first { 0x08 } else { 0 }) | (if last { 0x04 } else { 0 })]
            })?,
            PayloadFormat::H264 => self.h264(frame)?,
            PayloadFormat::Av1 => av1::payloads(
                frame,
                self.mtu
                    .checked_sub(HEADER)
                    .ok_or(PacketizeError::MtuTooSmall)?,
            )?,
        };
        let video = self.format != PayloadFormat::Opus;
        let count = payloads.len();
        Ok(payloads
            .into_iter()
            .enumerate()
            .map(|(k, payload)| {
                let mut packet = Vec::with_capacity(HEADER + payload.len());
                packet.push(0x80);
                let marker = video && k + 1 == count;
                packet.push(if marker { 0x80 } else { 0 } | self.payload_type);
                packet.extend_from_slice(&self.sequence.to_be_bytes());
                packet.extend_from_slice(&timestamp.to_be_bytes());
                packet.extend_from_slice(&[0; 4]);
                packet.extend_from_slice(&payload);
                self.sequence = self.sequence.wrapping_add(1);
                packet
            })
            .collect())
    }

    /// `frame` in pieces that fit, each after the payload descriptor `descriptor(first, last)`.
    fn described(
        &self,
        frame: &[u8],
        descriptor: impl Fn(bool, bool) -> Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let room = self
            .mtu
            .checked_sub(HEADER + descriptor(true, true).len())
            .filter(|room| *room > 0)
            .ok_or(PacketizeError::MtuTooSmall)?;
        let count = frame.len().div_ceil(room);
        Ok(frame
            .chunks(room)
            .enumerate()
            .map(|(k, chunk)| {
                let mut payload = descriptor(k == 0, k + 1 == count);
                payload.extend_from_slice(chunk);
                payload
            })
            .collect())
    }

    /// An Annex B access unit: each NAL unit whole when it fits, else as FU-A fragments.
    fn h264(&self, frame: &[u8]) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let room = self
            .mtu
            .checked_sub(HEADER + 2)
            .filter(|room| *room > 0)
            .ok_or(PacketizeError::MtuTooSmall)?;
        let mut payloads = Vec::new();
        for nal in nal_units(frame) {
            if nal.len() + HEADER <= self.mtu {
                payloads.push(nal.to_vec());
                continue;
            }
            // FU-A (RFC 6184 §5.8): the indicator keeps F and NRI, type 28; the header the
            // start and end bits and the unit's type; the unit's own header is not repeated.
            let (header, body) = (nal[0], &nal[1..]);
            let indicator = (header & 0xe0) | 28;
            let count = body.len().div_ceil(room);
            for (k, chunk) in body.chunks(room).enumerate() {
                let start = if k == 0 { 0x80 } else { 0 };
                let end = if k + 1 == count { 0x40 } else { 0 };
                let mut payload = vec![indicator, start | end | (header & 0x1f)];
                payload.extend_from_slice(chunk);
                payloads.push(payload);
            }
        }
        if payloads.is_empty() {
            return Err(PacketizeError::EmptyFrame);
        }
        Ok(payloads)
    }
}

/// The NAL units of an Annex B byte stream (split at `00 00 01` and `00 00 00 01`); bytes
/// without a start code are one unit.
pub fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    if starts.is_empty() {
        return if stream.is_empty() {
            Vec::new()
        } else {
            vec![stream]
        };
    }
    let mut units = Vec::new();
    for (k, &(_, begin)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&(at, _)| at);
        // A four-byte start code's leading zero belongs to no unit.
        if starts.get(k + 1).is_some() && end > begin && stream[end - 1] == 0 {
            end -= 1;
        }
        if end > begin {
            units.push(&stream[begin..end]);
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpHeader;

    fn frame(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// The payloads of `packets` after the descriptor of `descriptor_len`, joined.
    fn reassemble(packets: &[Vec<u8>], descriptor_len: usize) -> Vec<u8> {
        packets
            .iter()
            .flat_map(|p| {
                let header = RtpHeader::parse(p).unwrap();
                p[header.header_len + descriptor_len..].to_vec()
            })
            .collect()
    }

    #[test]
    fn vp8_fragments_with_start_bit_and_marker() {
        let mut packetizer = Packetizer::new(PayloadFormat::Vp8, 96, 65_534, 1200);
        let data = frame(3000);
        let packets = packetizer.packetize(&data, 9000).unwrap();
        assert_eq!(packets.len(), 3);
        assert!(packets.iter().all(|p| p.len() <= 1200));
        let headers: Vec<RtpHeader<'_>> = packets
            .iter()
            .map(|p| RtpHeader::parse(p).unwrap())
            .collect();
        let seqs: Vec<u16> = headers.iter().map(|h| h.sequence_number).collect();
        assert_eq!(seqs, vec![65_534, 65_535, 0]);
        assert_eq!(
            headers.iter().map(|h| h.marker).collect::<Vec<_>>(),
            vec![false, false, true]
        );
        assert!(
            headers
                .iter()
                .all(|h| h.timestamp == 9000 && h.payload_type == 96)
        );
        assert_eq!((packets[0][12], packets[1][12]), (0x10, 0));
        assert_eq!(reassemble(&packets, 1), data);
        // The next frame goes on from there.
        let next = packetizer.packetize(&frame(10), 12_000).unwrap();
        assert_eq!(RtpHeader::parse(&next[0]).unwrap().sequence_number, 1);
    }

    #[test]
    fn vp9_marks_beginning_and_end() {
        let mut packetizer = Packetizer::new(PayloadFormat::Vp9, 98, 0, 500);
        let data = frame(1200);
        let packets = packetizer.packetize(&data, 1).unwrap();
        let descriptors: Vec<u8> = packets.iter().map(|p| p[12]).collect();
        assert_eq!(descriptors, vec![0x08, 0, 0x04]);
        assert_eq!(reassemble(&packets, 1), data);
        let single = packetizer.packetize(&frame(10), 2).unwrap();
        assert_eq!(single[0][12], 0x0c);
    }

    #[test]
    fn opus_is_one_packet_without_marker() {
        let mut packetizer = Packetizer::new(PayloadFormat::Opus, 111, 7, 1200);
        let packets = packetizer.packetize(&frame(160), 960).unwrap();
        assert_eq!(packets.len(), 1);
        let header = RtpHeader::parse(&packets[0]).unwrap();
        assert!(!header.marker);
        assert_eq!(&packets[0][12..], &frame(160)[..]);
        assert_eq!(
            packetizer.packetize(&frame(1300), 0),
            Err(PacketizeError::MtuTooSmall)
        );
    }

    #[test]
    fn h264_sends_small_units_whole_and_fragments_large_ones() {
        let sps = [0x67, 1, 2, 3];
        let pps = [0x68, 4, 5];
        let mut idr = vec![0x65];
        idr.extend(frame(2500));
        let mut stream = vec![0, 0, 0, 1];
        stream.extend_from_slice(&sps);
        stream.extend_from_slice(&[0, 0, 1]);
        stream.extend_from_slice(&pps);
        stream.extend_from_slice(&[0, 0, 0, 1]);
        stream.extend_from_slice(&idr);
        assert_eq!(nal_units(&stream), vec![&sps[..], &pps[..], &idr[..]]);

        let mut packetizer = Packetizer::new(PayloadFormat::H264, 102, 0, 1200);
        let packets = packetizer.packetize(&stream, 0).unwrap();
        assert_eq!(&packets[0][12..], &sps);
        assert_eq!(&packets[1][12..], &pps);
        let fragments = &packets[2..];
        assert_eq!(fragments.len(), 3);
        assert!(packets.iter().all(|p| p.len() <= 1200));
        // FU indicator: NRI of the IDR (3), type 28; FU headers: S, then none, then E.
        assert!(fragments.iter().all(|p| p[12] == 0x60 | 28));
        let fu: Vec<u8> = fragments.iter().map(|p| p[13]).collect();
        assert_eq!(fu, vec![0x85, 0x05, 0x45]);
        let mut rebuilt = vec![(fragments[0][12] & 0xe0) | (fragments[0][13] & 0x1f)];
        rebuilt.extend(reassemble(fragments, 2));
        assert_eq!(rebuilt, idr);
        let markers: Vec<bool> = packets
            .iter()
            .map(|p| RtpHeader::parse(p).unwrap().marker)
            .collect();
        assert_eq!(markers, vec![false, false, false, false, true]);
        assert_eq!(
            packetizer.packetize(&[0, 0, 1], 0),
            Err(PacketizeError::EmptyFrame)
        );
    }

    #[test]
    fn av1_packets_carry_the_marker_on_the_last() {
        let mut packetizer = Packetizer::new(PayloadFormat::Av1, 45, 10, 1200);
        // A sequence header and a 3,000-byte frame OBU, each with its size field.
        let mut unit = vec![0x0a, 2, 0, 0];
        unit.extend([0x32, 0xb8, 0x17]);
        unit.extend(frame(3000));
        let packets = packetizer.packetize(&unit, 3000).unwrap();
        assert_eq!(packets.len(), 3);
        assert!(packets.iter().all(|p| p.len() <= 1200));
        let markers: Vec<bool> = packets
            .iter()
            .map(|p| RtpHeader::parse(p).unwrap().marker)
            .collect();
        assert_eq!(markers, vec![false, false, true]);
        // N on the first packet only; Y then Z+Y then Z.
        let headers: Vec<u8> = packets.iter().map(|p| p[12] & 0xc8).collect();
        assert_eq!(headers, vec![0x48, 0xc0, 0x80]);
        assert_eq!(
            packetizer.packetize(&[0xff], 0),
            Err(PacketizeError::MalformedFrame)
        );
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        let mut packetizer = Packetizer::new(PayloadFormat::Vp8, 96, 0, 13);
        assert_eq!(
            packetizer.packetize(&frame(5), 0),
            Err(PacketizeError::MtuTooSmall)
        );
        assert_eq!(
            packetizer.packetize(&[], 0),
            Err(PacketizeError::EmptyFrame)
        );
        assert_eq!(
            PayloadFormat::from_encoding("h264"),
            Some(PayloadFormat::H264)
        );
        assert_eq!(
            PayloadFormat::from_encoding("AV1"),
            Some(PayloadFormat::Av1)
        );
        assert_eq!(PayloadFormat::from_encoding("red"), None);
    }
}
