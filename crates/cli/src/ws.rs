//! A minimal RFC 6455 WebSocket server side for `antiphon serve`'s signaling: the opening
//! handshake's `Sec-WebSocket-Accept`, and a frame codec for what a browser sends (masked text
//! frames, continuation, close, ping, pong) with a size cap. Server frames go out unmasked and
//! unfragmented. Pure functions: the async loop lives in `serve.rs`.

/// The GUID RFC 6455 §1.3 appends to the client's key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub(crate) fn accept_key(key: &str) -> String {
    let mut input = key.trim().as_bytes().to_vec();
    input.extend_from_slice(GUID.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64(digest.as_ref())
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// One decoded frame, payload unmasked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) fin: bool,
    pub(crate) opcode: Opcode,
    pub(crate) payload: Vec<u8>,
}

/// Why a client frame is refused; the connection is then closed with [`FrameError::close_code`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The payload length is over the cap.
    TooLarge(u64),
    /// A client frame without the mask bit (RFC 6455 §5.1).
    Unmasked,
    /// RSV bits set without a negotiated extension.
    Reserved,
    /// An opcode RFC 6455 does not define.
    UnknownOpcode(u8),
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControl,
}

impl FrameError {
    /// The close status code to send: 1009 (message too big) or 1002 (protocol error).
    pub(crate) fn close_code(&self) -> u16 {
        match self {
            Self::TooLarge(_) => 1009,
            _ => 1002,
        }
    }
}

/// Decodes one client frame from the start of `buf`: `Ok(None)` when more bytes are needed,
/// otherwise the frame and how many bytes it used. A length over `max` is refused from the
/// header alone, before any payload is buffered.
pub(crate) fn decode(buf: &[u8], max: usize) -> Result<Option<(Frame, usize)>, FrameError> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::UnknownOpcode(b0 & 0x0F))?;
    let fin = b0 & 0x80 != 0;
    if b1 & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let (length, mut at) = match b1 & 0x7F {
        126 => {
            let Some(bytes) = buf.get(2..4) else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4)
        }
        127 => {
            let Some(bytes) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut be = [0u8; 8];
            be.copy_from_slice(bytes);
            (u64::from_be_bytes(be), 10)
        }
        n => (u64::from(n), 2),
    };
    if opcode.is_control() && (!fin || length > 125) {
        return Err(FrameError::BadControl);
    }
    if length > max as u64 {
        return Err(FrameError::TooLarge(length));
    }
    let length = length as usize;
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    let mask = [mask[0], mask[1], mask[2], mask[3]];
    at += 4;
    let Some(payload) = buf.get(at..at + length) else {
        return Ok(None);
    };
    let payload = payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    Ok(Some((
        Frame {
            fin,
            opcode,
            payload,
        },
        at + length,
    )))
}

/// Encodes one unfragmented, unmasked server frame.
pub(crate) fn encode(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode.bits());
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A close frame with a status code.
pub(crate) fn close(code: u16) -> Vec<u8> {
    encode(Opcode::Close, &code.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as a browser sends it: masked.
    fn client_frame(b0: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = vec![b0];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn decodes_masked_text_frames_of_every_length_form() {
        for size in [0usize, 5, 125, 126, 300, 70_000] {
            let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
            let bytes = client_frame(0x81, &payload, [0x37, 0xfa, 0x21, 0x3d]);
            let (frame, used) = decode(&bytes, 1 << 20).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert!(frame.fin);
            assert_eq!(frame.opcode, Opcode::Text);
            assert_eq!(frame.payload, payload);
            // Every strict prefix asks for more bytes.
            for cut in [0, 1, 2, bytes.len() / 2, bytes.len() - 1] {
                if cut < bytes.len() {
                    assert_eq!(decode(&bytes[..cut], 1 << 20), Ok(None), "{size} {cut}");
                }
            }
        }
    }

    #[test]
    fn rfc_6455_masked_hello() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let bytes = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (frame, used) = decode(&bytes, 125).unwrap().unwrap();
        assert_eq!((frame.payload.as_slice(), used), (&b"Hello"[..], 11));
    }

    #[test]
    fn refuses_unmasked_client_frames() {
        // RFC 6455 §5.7's unmasked "Hello" is a server frame: a client must mask.
        let bytes = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        assert_eq!(decode(&bytes, 1024), Err(FrameError::Unmasked));
    }

    #[test]
    fn refuses_oversized_lengths_from_the_header_alone() {
        // A 64-bit length of 2^63 with no payload behind it: refused at once, nothing buffered.
        let mut bytes = vec![0x82, 0x80 | 127];
        bytes.extend_from_slice(&(1u64 << 63).to_be_bytes());
        assert_eq!(decode(&bytes, 1024), Err(FrameError::TooLarge(1 << 63)));
        assert_eq!(FrameError::TooLarge(0).close_code(), 1009);
        let bytes = client_frame(0x81, &[b'x'; 2000], [1, 2, 3, 4]);
        assert_eq!(decode(&bytes, 1999), Err(FrameError::TooLarge(2000)));
    }

    #[test]
    fn refuses_bad_control_frames_reserved_bits_and_unknown_opcodes() {
        let long_ping = client_frame(0x89, &[0; 126], [0; 4]);
        assert_eq!(decode(&long_ping, 1024), Err(FrameError::BadControl));
        let fragmented_close = client_frame(0x08, &[3, 232], [0; 4]);
        assert_eq!(decode(&fragmented_close, 1024), Err(FrameError::BadControl));
        let rsv = client_frame(0xC1, b"x", [0; 4]);
        assert_eq!(decode(&rsv, 1024), Err(FrameError::Reserved));
        let unknown = client_frame(0x83, b"x", [0; 4]);
        assert_eq!(decode(&unknown, 1024), Err(FrameError::UnknownOpcode(3)));
        assert_eq!(FrameError::Unmasked.close_code(), 1002);
    }

    #[test]
    fn decodes_ping_close_and_fragments() {
        let ping = client_frame(0x89, b"hi", [9, 8, 7, 6]);
        let (frame, _) = decode(&ping, 1024).unwrap().unwrap();
        assert_eq!(
            (frame.opcode, frame.payload),
            (Opcode::Ping, b"hi".to_vec())
        );
        let first = client_frame(0x01, b"hel", [1, 1, 1, 1]);
        let (frame, _) = decode(&first, 1024).unwrap().unwrap();
        assert_eq!((frame.fin, frame.opcode), (false, Opcode::Text));
        let last = client_frame(0x80, b"lo", [1, 1, 1, 1]);
        let (frame, _) = decode(&last, 1024).unwrap().unwrap();
        assert_eq!((frame.fin, frame.opcode), (true, Opcode::Continuation));
    }

    #[test]
    fn encodes_server_frames_unmasked() {
        assert_eq!(
            encode(Opcode::Text, b"Hello"),
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        let long = encode(Opcode::Text, &[0; 256]);
        assert_eq!(&long[..4], &[0x81, 126, 1, 0]);
        let huge = encode(Opcode::Binary, &[0; 65536]);
        assert_eq!(&huge[..10], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(close(1000), [0x88, 0x02, 0x03, 0xe8]);
        assert_eq!(encode(Opcode::Pong, b""), [0x8A, 0x00]);
    }
}
