//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in this crate: malformed fmtp text, parameter values outside their
/// grammar, and offered codec lists that break the payload-type rules.
///
/// Negotiation itself never fails: a bad offered codec is rejected with a
/// [`RejectionReason`](crate::RejectionReason) that may wrap one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The fmtp text is longer than [`MAX_FMTP_LEN`](crate::MAX_FMTP_LEN) bytes.
    FmtpTooLong {
        /// Length of the text in bytes.
        len: usize,
    },
    /// The fmtp text has more than [`MAX_FMTP_PARAMS`](crate::MAX_FMTP_PARAMS) parameters.
    TooManyFmtpParameters,
    /// An fmtp parameter is empty (`a=1;;b=2`) or has an empty name (`=5`).
    EmptyFmtpParameter {
        /// Byte offset of the empty parameter in the fmtp text.
        offset: usize,
    },
    /// An fmtp parameter name or value contains a character outside the token grammar
    /// (whitespace, control characters, `=` in a value...).
    InvalidFmtpCharacter {
        /// Byte offset of the offending character in the fmtp text.
        offset: usize,
    },
    /// A parameter this crate understands has a value outside its grammar.
    InvalidParameterValue {
        /// The parameter name, e.g. `profile-level-id`.
        parameter: &'static str,
        /// The value as written.
        value: String,
        /// What was expected, e.g. `"6 hex digits"`.
        expected: &'static str,
    },
    /// A payload type above 127.
    PayloadTypeOutOfRange {
        /// The offending payload type.
        payload_type: u16,
    },
    /// A payload type in 72..=76, which collides with RTCP packet types under rtcp-mux (RFC 5761).
    PayloadTypeConflictsWithRtcp {
        /// The offending payload type.
        payload_type: u8,
    },
    /// The same payload type appears twice in one codec list.
    DuplicatePayloadType {
        /// The repeated payload type.
        payload_type: u8,
    },
    /// An rtx codec without an `apt` parameter.
    RtxMissingApt {
        /// The rtx payload type.
        payload_type: u8,
    },
    /// An rtx codec whose `apt` refers to a payload type not in the same list.
    RtxAptNotOffered {
        /// The rtx payload type.
        payload_type: u8,
        /// The associated payload type it names.
        apt: u8,
    },
    /// A red codec whose fmtp names a payload type not in the same list.
    RedPayloadTypeNotOffered {
        /// The red payload type.
        payload_type: u8,
        /// The referenced payload type.
        referenced: u8,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FmtpTooLong { len } => write!(f, "fmtp text is {len} bytes, longer than allowed"),
            Self::TooManyFmtpParameters => write!(f, "fmtp text has too many parameters"),
            Self::EmptyFmtpParameter { offset } => {
                write!(f, "empty fmtp parameter at byte {offset}")
            }
            Self::InvalidFmtpCharacter { offset } => {
                write!(f, "invalid character in fmtp at byte {offset}")
            }
            Self::InvalidParameterValue {
                parameter,
                value,
                expected,
            } => {
                write!(
                    f,
                    "invalid {parameter} value {value:?}: expected {expected}"
                )
            }
            Self::PayloadTypeOutOfRange { payload_type } => {
                write!(f, "payload type {payload_type} is out of range 0..=127")
            }
            Self::PayloadTypeConflictsWithRtcp { payload_type } => {
                write!(
                    f,
                    "payload type {payload_type} collides with RTCP packet types"
                )
            }
            Self::DuplicatePayloadType { payload_type } => {
                write!(f, "payload type {payload_type} appears more than once")
            }
            Self::RtxMissingApt { payload_type } => {
                write!(f, "rtx payload type {payload_type} has no apt parameter")
            }
            Self::RtxAptNotOffered { payload_type, apt } => {
                write!(
                    f,
                    "rtx payload type {payload_type} points at apt={apt}, which is not offered"
                )
            }
            Self::RedPayloadTypeNotOffered {
                payload_type,
                referenced,
            } => write!(
                f,
                "red payload type {payload_type} refers to payload type {referenced}, which is not offered"
            ),
        }
    }
}

impl std::error::Error for CodecError {}
