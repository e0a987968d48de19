//! A borrowed view of an RTP header (RFC 3550 §5.1) with its header extensions (RFC 8285),
//! enough to route a packet (SSRC, payload type, the MID and RID extensions) and to rewrite its
//! SSRC; the payload is never copied or interpreted.

use std::fmt;

/// The fixed RTP header's length.
pub const FIXED_HEADER_LEN: usize = 12;
/// The extension block profile of one-byte elements (RFC 8285 §4.2).
const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// The extension block profile of two-byte elements (RFC 8285 §4.3; the low four bits are
/// application bits).
const TWO_BYTE_PROFILE: u16 = 0x1000;

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the header it announces (fixed part, CSRCs, extension).
    Truncated,
    /// The version field is not 2.
    Version(u8),
    /// The padding length is zero or longer than the payload.
    Padding,
    /// A header extension element that no RFC 8285 form can carry (id 0, or over 255 bytes).
    Extension,
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("RTP packet shorter than its header"),
            Self::Version(version) => write!(f, "RTP version {version}, not 2"),
            Self::Padding => f.write_str("RTP padding longer than the payload"),
            Self::Extension => f.write_str("RTP header extension element too large"),
        }
    }
}

impl std::error::Error for RtpError {}

/// The header of one RTP packet, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// The marker bit.
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// The header's length: fixed part, CSRCs and extension; the payload starts here.
    pub header_len: usize,
    /// The payload's length, padding excluded.
    pub payload_len: usize,
    /// The extension block's profile (`0xBEDE` one-byte, `0x100x` two-byte) and elements.
    extension: Option<(u16, &'a [u8])>,
}

impl<'a> RtpHeader<'a> {
    /// Reads the header of `packet` (unprotected RTP).
    pub fn parse(packet: &'a [u8]) -> Result<Self, RtpError> {
        let fixed = packet.get(..FIXED_HEADER_LEN).ok_or(RtpError::Truncated)?;
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padded = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let csrc_count = usize::from(fixed[0] & 0x0f);
        let mut header_len = FIXED_HEADER_LEN + 4 * csrc_count;
        let mut extension = None;
        if has_extension {
            let head = packet
                .get(header_len..header_len + 4)
                .ok_or(RtpError::Truncated)?;
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let start = header_len + 4;
            let body = packet
                .get(start..start + 4 * words)
                .ok_or(RtpError::Truncated)?;
            extension = Some((profile, body));
            header_len = start + 4 * words;
        }
        if packet.len() < header_len {
            return Err(RtpError::Truncated);
        }
        let mut payload_len = packet.len() - header_len;
        if padded {
            let padding = usize::from(*packet.last().ok_or(RtpError::Truncated)?);
            if padding == 0 || padding > payload_len {
                return Err(RtpError::Padding);
            }
            payload_len -= padding;
        }
        Ok(Self {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7f,
            sequence_number: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            header_len,
            payload_len,
            extension,
        })
    }

    /// The value of header extension `id` (RFC 8285: one-byte or two-byte form), if present.
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions()
            .find(|(element, _)| *element == id)
            .map(|(_, value)| value)
    }

    /// Every header extension element, `(id, value)`, in order (RFC 8285: one-byte or
    /// two-byte form; none for another profile; stops at a malformed element).
    pub fn extensions(&self) -> impl Iterator<Item = (u8, &'a [u8])> + use<'a> {
        let (profile, mut body) = self.extension.unwrap_or((0, &[]));
        let one_byte = profile == ONE_BYTE_PROFILE;
        if !one_byte && profile & 0xfff0 != TWO_BYTE_PROFILE {
            body = &[];
        }
        std::iter::from_fn(move || {
            loop {
                let (&first, rest) = body.split_first()?;
                if first == 0 {
                    // Padding between elements.
                    body = rest;
                    continue;
                }
                let (id, len, rest) = if one_byte {
                    if first >> 4 == 15 {
                        // The reserved id 15 ends the block.
                        body = &[];
                        return None;
                    }
                    (first >> 4, usize::from(first & 0x0f) + 1, rest)
                } else {
                    let Some((&len, rest)) = rest.split_first() else {
                        body = &[];
                        return None;
                    };
                    (first, usize::from(len), rest)
                };
                let Some(value) = rest.get(..len) else {
                    body = &[];
                    return None;
                };
                body = &rest[len..];
                return Some((id, value));
            }
        })
    }

    /// A text extension's value (MID, RID), when it is UTF-8 and not empty.
    pub fn text_extension(&self, id: u8) -> Option<&'a str> {
        let value = self.extension(id)?;
        // Senders may pad the value with zero bytes.
        let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
        std::str::from_utf8(&value[..end])
            .ok()
            .filter(|s| !s.is_empty())
    }
}

/// Writes `ssrc` into the RTP packet's header; `false` (nothing written) when `packet` is
/// shorter than the fixed header.
pub fn set_ssrc(packet: &mut [u8], ssrc: u32) -> bool {
    match packet.get_mut(8..FIXED_HEADER_LEN) {
        Some(field) => {
            field.copy_from_slice(&ssrc.to_be_bytes());
            true
        }
        None => false,
    }
}

/// The packet with header extension `id` set to `value` (RFC 8285): written over the
/// element when it is there with the same length, else the extension block is written anew
/// with the other elements kept, in the one-byte form when every element fits it (ids 1 to
/// 14, 1 to 16 bytes), else the two-byte form (a block of another profile, whose elements
/// cannot be read, is replaced). CSRCs, payload and padding are kept.
pub fn with_extension(packet: &[u8], id: u8, value: &[u8]) -> Result<Vec<u8>, RtpError> {
    let header = RtpHeader::parse(packet)?;
    if id == 0 || value.len() > 255 {
        return Err(RtpError::Extension);
    }
    if let Some(old) = header.extension(id).filter(|old| old.len() == value.len()) {
        // Where the value sits in the packet: `old` borrows from it.
        let at = old.as_ptr() as usize - packet.as_ptr() as usize;
        let mut out = packet.to_vec();
        out[at..at + value.len()].copy_from_slice(value);
        return Ok(out);
    }
    let mut elements: Vec<(u8, &[u8])> = header.extensions().filter(|(e, _)| *e != id).collect();
    elements.push((id, value));
    let one_byte = elements
        .iter()
        .all(|(id, value)| (1..=14).contains(id) && (1..=16).contains(&value.len()));
    let mut block = Vec::new();
    for (id, value) in &elements {
        if one_byte {
            block.push((id << 4) | (value.len() as u8 - 1));
        } else {
            block.extend_from_slice(&[*id, value.len() as u8]);
        }
        block.extend_from_slice(value);
    }
    block.resize(block.len().next_multiple_of(4), 0);
    let words = u16::try_from(block.len() / 4).map_err(|_| RtpError::Extension)?;
    let fixed_and_csrcs = FIXED_HEADER_LEN + 4 * usize::from(packet[0] & 0x0f);
    let mut out = Vec::with_capacity(packet.len() + 4 + block.len());
    out.extend_from_slice(&packet[..fixed_and_csrcs]);
    out[0] |= 0x10;
    let profile = if one_byte {
        ONE_BYTE_PROFILE
    } else {
        TWO_BYTE_PROFILE
    };
    out.extend_from_slice(&profile.to_be_bytes());
    out.extend_from_slice(&words.to_be_bytes());
    out.extend_from_slice(&block);
    out.extend_from_slice(&packet[header.header_len..]);
    Ok(out)
}

/// Whether a datagram whose first byte says RTP or RTCP (RFC 7983: 128..=191) is RTCP: its
/// packet type is 192..=223 (RFC 5761 §4, the range RTP payload types never take with
/// RTCP multiplexing).
pub fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet.get(1), Some(192..=223))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packet with one CSRC and a one-byte extension block holding MID "1" (id 4) and a
    /// two-byte value for id 9, then 4 payload bytes and 2 of padding.
    fn sample() -> Vec<u8> {
        let mut p = vec![0xb1, 0xe0, 0x12, 0x34, 0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0, 0, 0, 1]); // CSRC
        p.extend_from_slice(&[0xbe, 0xde, 0, 2]);
        p.extend_from_slice(&[0x40, b'1', 0x91, 0xaa, 0xbb, 0, 0, 0]);
        p.extend_from_slice(&[1, 2, 3, 4, 0, 2]);
        p
    }

    #[test]
    fn reads_every_field() {
        let packet = sample();
        let header = RtpHeader::parse(&packet).unwrap();
        assert!(header.marker);
        assert_eq!(header.payload_type, 0x60);
        assert_eq!(header.sequence_number, 0x1234);
        assert_eq!(header.timestamp, 7);
        assert_eq!(header.ssrc, 0xdead_beef);
        assert_eq!(header.header_len, 12 + 4 + 4 + 8);
        assert_eq!(header.payload_len, 4);
        assert_eq!(header.text_extension(4), Some("1"));
        assert_eq!(header.extension(9), Some(&[0xaa, 0xbb][..]));
        assert_eq!(header.extension(5), None);
    }

    #[test]
    fn two_byte_extensions() {
        let mut p = vec![0x90, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
        p.extend_from_slice(&[0x10, 0x00, 0, 2, 3, 2, b'h', b'i', 0, 0, 0, 0]);
        let header = RtpHeader::parse(&p).unwrap();
        assert_eq!(header.text_extension(3), Some("hi"));
        assert_eq!(header.payload_len, 0);
    }

    #[test]
    fn refuses_what_is_not_rtp() {
        let packet = sample();
        for len in 0..28 {
            assert_eq!(
                RtpHeader::parse(&packet[..len]),
                Err(RtpError::Truncated),
                "{len}"
            );
        }
        let mut wrong = packet.clone();
        wrong[0] = 0x40;
        assert_eq!(RtpHeader::parse(&wrong), Err(RtpError::Version(1)));
        let mut padded = packet;
        *padded.last_mut().unwrap() = 9;
        assert_eq!(RtpHeader::parse(&padded), Err(RtpError::Padding));
    }

    #[test]
    fn sets_extensions_in_place_or_anew() {
        let packet = sample();
        // Same length: written over, nothing else moves.
        let over = with_extension(&packet, 9, &[1, 2]).unwrap();
        assert_eq!(over.len(), packet.len());
        let header = RtpHeader::parse(&over).unwrap();
        assert_eq!(header.extension(9), Some(&[1, 2][..]));
        assert_eq!(header.text_extension(4), Some("1"));
        // A new element: the block grows, the rest is kept.
        let added = with_extension(&packet, 3, &[7, 8]).unwrap();
        let header = RtpHeader::parse(&added).unwrap();
        assert_eq!(header.extension(3), Some(&[7, 8][..]));
        assert_eq!(header.extension(9), Some(&[0xaa, 0xbb][..]));
        assert_eq!(header.text_extension(4), Some("1"));
        assert_eq!(&added[added.len() - 6..], &[1, 2, 3, 4, 0, 2]);
        assert_eq!(header.payload_len, 4);
        assert_eq!(&added[12..16], &[0, 0, 0, 1], "CSRC kept");
        // A packet without extensions gets a one-byte block.
        let bare = [0x80, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xaa];
        let stamped = with_extension(&bare, 5, &[0x01, 0x02]).unwrap();
        assert_eq!(&stamped[12..20], &[0xbe, 0xde, 0, 1, 0x51, 1, 2, 0]);
        assert_eq!(stamped[0], 0x90);
        assert_eq!(stamped[20..], [0xaa]);
        // An element the one-byte form cannot carry moves the block to two bytes.
        let long = with_extension(&stamped, 20, &[9; 3]).unwrap();
        let header = RtpHeader::parse(&long).unwrap();
        assert_eq!(&long[12..14], &[0x10, 0x00]);
        assert_eq!(header.extension(5), Some(&[1, 2][..]));
        assert_eq!(header.extension(20), Some(&[9; 3][..]));
        assert_eq!(with_extension(&bare, 0, &[1]), Err(RtpError::Extension));
        assert_eq!(
            with_extension(&bare[..5], 1, &[1]),
            Err(RtpError::Truncated)
        );
    }

    #[test]
    fn rewrites_ssrc_and_tells_rtcp() {
        let mut packet = sample();
        assert!(set_ssrc(&mut packet, 42));
        assert_eq!(RtpHeader::parse(&packet).unwrap().ssrc, 42);
        assert!(!set_ssrc(&mut [0u8; 11], 1));
        assert!(is_rtcp(&[0x81, 201, 0, 1]));
        assert!(!is_rtcp(&[0x80, 111, 0, 1]));
        assert!(!is_rtcp(&[0x80, 0xe0]));
    }
}
