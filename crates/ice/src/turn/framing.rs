//! ChannelData messages (RFC 8656 §12.4) and the framing of STUN and ChannelData messages over
//! a stream to the server (TCP and TLS, RFC 8656 §12.5 / RFC 6062's framing).

/// The channel numbers a client may bind (RFC 8656 §12).
pub(crate) const CHANNELS: std::ops::RangeInclusive<u16> = 0x4000..=0x4fff;

/// A ChannelData message; `padded` rounds it up to a multiple of four bytes, as a stream
/// needs (optional over UDP, where it is left out).
pub(crate) fn encode_channel_data(channel: u16, data: &[u8], padded: bool) -> Option<Vec<u8>> {
    let length = u16::try_from(data.len()).ok()?;
    let mut out = Vec::with_capacity(4 + data.len() + 3);
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(data);
    if padded {
        out.resize(out.len().next_multiple_of(4), 0);
    }
    Some(out)
}

/// A ChannelData message's channel and payload; `None` if it is not one or is cut short.
pub(crate) fn decode_channel_data(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let head = bytes.get(..4)?;
    let channel = u16::from_be_bytes([head[0], head[1]]);
    if !CHANNELS.contains(&channel) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let data = bytes.get(4..4 + length)?;
    // Beyond the payload only padding may follow.
    (bytes.len() <= (4 + length).next_multiple_of(4)).then_some((channel, data))
}

/// The most a framer holds while waiting for the rest of a message: one message of the
/// largest length a header can announce, and the start of the next.
const MAX_BUFFERED: usize = 4 + 65_535 + 3 + 20;

/// Why a stream to the server can no longer be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// The next bytes are neither a STUN message nor ChannelData: the stream is out of step.
    NotAMessage,
}

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FramingError::NotAMessage => {
                f.write_str("the TURN server stream carried neither STUN nor ChannelData")
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Cuts a byte stream from a TURN server into whole messages (STUN messages and padded
/// ChannelData), for a client that reaches its server over TCP or TLS.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buffer: Vec<u8>,
}

impl StreamFramer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message (without ChannelData's stream padding); `Ok(None)` until one has
    /// arrived. An error means the stream is unusable (the caller closes it).
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        let Some(head) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let (total, message) = match head[0] >> 6 {
            // STUN: a 20-byte header, then `length` bytes (a multiple of four).
            0b00 if length % 4 == 0 => (20 + length, 20 + length),
            // ChannelData, padded to four bytes on a stream.
            0b01 => ((4 + length).next_multiple_of(4), 4 + length),
            _ => return Err(FramingError::NotAMessage),
        };
        if self.buffer.len() < total {
            if self.buffer.len() > MAX_BUFFERED {
                return Err(FramingError::NotAMessage);
            }
            return Ok(None);
        }
        let rest = self.buffer.split_off(total);
        let mut message_bytes = std::mem::replace(&mut self.buffer, rest);
        message_bytes.truncate(message);
        Ok(Some(message_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_data_round_trips_padded_and_not() {
        for padded in [false, true] {
            let bytes = encode_channel_data(0x4001, b"hello", padded).expect("fits");
            assert_eq!(bytes.len(), if padded { 12 } else { 9 });
            assert_eq!(decode_channel_data(&bytes), Some((0x4001, &b"hello"[..])));
        }
        assert_eq!(
            decode_channel_data(&[0x40, 0x01, 0, 9, 1]),
            None,
            "cut short"
        );
        assert_eq!(
            decode_channel_data(&[0x30, 0x01, 0, 0]),
            None,
            "not a channel"
        );
        assert_eq!(
            decode_channel_data(&[0x40, 0x01, 0, 1, 7, 0, 0, 0, 0]),
            None,
            "more than padding follows"
        );
        assert!(encode_channel_data(0x4000, &vec![0; 70_000], false).is_none());
    }

    #[test]
    fn framer_cuts_a_stream_at_any_split() {
        let stun = super::super::message::encode_send(
            [3; 12],
            "127.0.0.1:9".parse().expect("addr"),
            b"abc",
        );
        let channel = encode_channel_data(0x4002, b"xyz12", true).expect("fits");
        let stream: Vec<u8> = [stun.clone(), channel.clone(), stun.clone()].concat();
        for split in 0..stream.len() {
            let mut framer = StreamFramer::new();
            let mut out = Vec::new();
            for part in [&stream[..split], &stream[split..]] {
                framer.push(part);
                while let Some(message) = framer.next_message().expect("in step") {
                    out.push(message);
                }
            }
            assert_eq!(
                out,
                vec![stun.clone(), channel[..9].to_vec(), stun.clone()],
                "{split}"
            );
        }
        let mut broken = StreamFramer::new();
        broken.push(&[0xc0, 0, 0, 0]);
        assert_eq!(broken.next_message(), Err(FramingError::NotAMessage));
    }
}
