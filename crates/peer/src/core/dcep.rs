//! The Data Channel Establishment Protocol (RFC 8832): the two messages that open a data
//! channel in-band (carried with SCTP payload protocol identifier 50).
//!
//! Pure encoding and decoding; [`super::channels`] decides when to send them.

use std::fmt;

use crate::data_channel::RTCDataChannelInit;

const OPEN: u8 = 0x03;
const ACK: u8 = 0x02;
/// Message type, channel type, priority, reliability parameter, label and protocol lengths.
const OPEN_HEADER_LEN: usize = 12;

/// The channel type byte: reliability kind, plus 0x80 for unordered (RFC 8832 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reliability {
    /// Every message is retransmitted until delivered.
    Reliable,
    /// A message is abandoned after this many retransmissions.
    Retransmits(u32),
    /// A message is abandoned after this many milliseconds.
    Lifetime(u32),
}

impl Reliability {
    /// What `init` asks for (the W3C options are exclusive; `maxRetransmits` is read first).
    pub(crate) fn of(init: &RTCDataChannelInit) -> Self {
        match (init.max_retransmits, init.max_packet_life_time) {
            (Some(n), _) => Self::Retransmits(u32::from(n)),
            (None, Some(ms)) => Self::Lifetime(u32::from(ms)),
            (None, None) => Self::Reliable,
        }
    }
}

/// A `DATA_CHANNEL_OPEN` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Open {
    /// In-order delivery.
    pub(crate) ordered: bool,
    /// Partial reliability, if any.
    pub(crate) reliability: Reliability,
    /// The priority field (RFC 8832 §5.1; 256 is "normal").
    pub(crate) priority: u16,
    /// The channel label.
    pub(crate) label: String,
    /// The sub-protocol.
    pub(crate) protocol: String,
}

/// A DCEP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    /// `DATA_CHANNEL_OPEN`.
    Open(Open),
    /// `DATA_CHANNEL_ACK`.
    Ack,
}

/// Why a DCEP message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcepError {
    /// The message is empty or shorter than its fixed part.
    Truncated,
    /// The label and protocol lengths do not add up to what follows the header.
    LengthMismatch,
    /// A message type other than OPEN (0x03) and ACK (0x02).
    UnknownMessageType(u8),
    /// A channel type RFC 8832 does not define.
    UnknownChannelType(u8),
    /// The label or protocol is not UTF-8.
    NotUtf8,
}

impl fmt::Display for DcepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("DCEP message is truncated"),
            Self::LengthMismatch => f.write_str("DCEP label and protocol lengths do not match"),
            Self::UnknownMessageType(kind) => write!(f, "unknown DCEP message type {kind:#04x}"),
            Self::UnknownChannelType(kind) => write!(f, "unknown DCEP channel type {kind:#04x}"),
            Self::NotUtf8 => f.write_str("DCEP label or protocol is not UTF-8"),
        }
    }
}

impl std::error::Error for DcepError {}

impl Message {
    /// Decodes one DCEP message (the whole SCTP message with PPI 50).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, DcepError> {
        match bytes.first() {
            None => Err(DcepError::Truncated),
            Some(&ACK) => Ok(Self::Ack),
            Some(&OPEN) => Open::parse(bytes).map(Self::Open),
            Some(&other) => Err(DcepError::UnknownMessageType(other)),
        }
    }

    /// Encodes the message.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Ack => vec![ACK],
            Self::Open(open) => open.to_bytes(),
        }
    }
}

impl Open {
    /// The OPEN message for a channel created with `init`.
    pub(crate) fn from_init(label: &str, init: &RTCDataChannelInit) -> Self {
        Self {
            ordered: init.ordered,
            reliability: Reliability::of(init),
            priority: 256,
            label: label.to_owned(),
            protocol: init.protocol.clone(),
        }
    }

    /// The `RTCDataChannelInit` the remote's OPEN describes, for stream `id`.
    pub(crate) fn to_init(&self, id: u16) -> RTCDataChannelInit {
        let clamp = |value: u32| u16::try_from(value).unwrap_or(u16::MAX);
        let (max_retransmits, max_packet_life_time) = match self.reliability {
            Reliability::Reliable => (None, None),
            Reliability::Retransmits(n) => (Some(clamp(n)), None),
            Reliability::Lifetime(ms) => (None, Some(clamp(ms))),
        };
        RTCDataChannelInit {
            ordered: self.ordered,
            max_packet_life_time,
            max_retransmits,
            protocol: self.protocol.clone(),
            negotiated: false,
            id: Some(id),
        }
    }

    fn channel_type(&self) -> (u8, u32) {
        let (kind, parameter) = match self.reliability {
            Reliability::Reliable => (0x00, 0),
            Reliability::Retransmits(n) => (0x01, n),
            Reliability::Lifetime(ms) => (0x02, ms),
        };
        let unordered = if self.ordered { 0 } else { 0x80 };
        (kind | unordered, parameter)
    }

    fn parse(bytes: &[u8]) -> Result<Self, DcepError> {
        let header = bytes.get(..OPEN_HEADER_LEN).ok_or(DcepError::Truncated)?;
        let u16_at = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
        let channel_type = header[1];
        let priority = u16_at(2);
        let parameter = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let (label_len, protocol_len) = (usize::from(u16_at(8)), usize::from(u16_at(10)));
        let rest = &bytes[OPEN_HEADER_LEN..];
        if rest.len() != label_len + protocol_len {
            return Err(DcepError::LengthMismatch);
        }
        let reliability = match channel_type & 0x7f {
            0x00 => Reliability::Reliable,
            0x01 => Reliability::Retransmits(parameter),
            0x02 => Reliability::Lifetime(parameter),
            _ => return Err(DcepError::UnknownChannelType(channel_type)),
        };
        let text = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| DcepError::NotUtf8)
        };
        Ok(Self {
            ordered: channel_type & 0x80 == 0,
            reliability,
            priority,
            label: text(&rest[..label_len])?,
            protocol: text(&rest[label_len..])?,
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let (channel_type, parameter) = self.channel_type();
        // Labels and protocols are bounded to 65,535 bytes where channels are created.
        let length = |text: &str| u16::try_from(text.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(OPEN_HEADER_LEN + self.label.len() + self.protocol.len());
        out.push(OPEN);
        out.push(channel_type);
        out.extend_from_slice(&self.priority.to_be_bytes());
        out.extend_from_slice(&parameter.to_be_bytes());
        out.extend_from_slice(&length(&self.label).to_be_bytes());
        out.extend_from_slice(&length(&self.protocol).to_be_bytes());
        out.extend_from_slice(self.label.as_bytes());
        out.extend_from_slice(self.protocol.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chromium's OPEN for `createDataChannel("chat")`: reliable, ordered, priority 256.
    const CHROMIUM_OPEN: [u8; 16] = [
        0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, b'c', b'h', b'a',
        b't',
    ];

    #[test]
    fn decodes_a_browser_open_and_writes_it_back_byte_for_byte() {
        let message = Message::parse(&CHROMIUM_OPEN).expect("open");
        let Message::Open(open) = &message else {
            panic!("{message:?}")
        };
        assert!(open.ordered);
        assert_eq!(open.reliability, Reliability::Reliable);
        assert_eq!((open.label.as_str(), open.protocol.as_str()), ("chat", ""));
        assert_eq!(message.to_bytes(), CHROMIUM_OPEN);
    }

    #[test]
    fn every_channel_type_round_trips() {
        let cases = [
            (true, Reliability::Reliable),
            (false, Reliability::Reliable),
            (true, Reliability::Retransmits(3)),
            (false, Reliability::Retransmits(0)),
            (true, Reliability::Lifetime(1500)),
            (false, Reliability::Lifetime(u32::MAX)),
        ];
        for (ordered, reliability) in cases {
            let open = Open {
                ordered,
                reliability,
                priority: 512,
                label: "étiquette".to_owned(),
                protocol: "proto/1".to_owned(),
            };
            let bytes = Message::Open(open.clone()).to_bytes();
            assert_eq!(Message::parse(&bytes), Ok(Message::Open(open)));
        }
        assert_eq!(Message::parse(&[ACK]), Ok(Message::Ack));
    }

    #[test]
    fn init_and_open_agree() {
        let init = RTCDataChannelInit {
            ordered: false,
            max_retransmits: Some(2),
            protocol: "p".to_owned(),
            ..RTCDataChannelInit::default()
        };
        let open = Open::from_init("l", &init);
        assert_eq!(
            open.to_init(7),
            RTCDataChannelInit {
                id: Some(7),
                ..init
            }
        );
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        assert_eq!(Message::parse(&[]), Err(DcepError::Truncated));
        assert_eq!(
            Message::parse(&[0x07]),
            Err(DcepError::UnknownMessageType(7))
        );
        assert_eq!(
            Message::parse(&CHROMIUM_OPEN[..11]),
            Err(DcepError::Truncated)
        );
        assert_eq!(
            Message::parse(&CHROMIUM_OPEN[..15]),
            Err(DcepError::LengthMismatch)
        );
        let mut bad_type = CHROMIUM_OPEN;
        bad_type[1] = 0x03;
        assert_eq!(
            Message::parse(&bad_type),
            Err(DcepError::UnknownChannelType(3))
        );
        let mut not_utf8 = CHROMIUM_OPEN;
        not_utf8[12] = 0xff;
        assert_eq!(Message::parse(&not_utf8), Err(DcepError::NotUtf8));
    }
}
