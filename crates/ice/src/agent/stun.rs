//! STUN Binding messages for ICE on stun-rs: building checks and responses, and decoding with
//! MESSAGE-INTEGRITY (short-term credentials) and FINGERPRINT required and verified.

use std::net::SocketAddr;

use stun_rs::attributes::StunAttributeType;
use stun_rs::attributes::ice::{IceControlled, IceControlling, Priority, UseCandidate};
use stun_rs::attributes::stun::{
    ErrorCode, Fingerprint, MessageIntegrity, UserName, XorMappedAddress,
};
use stun_rs::error::{StunDecodeError, StunErrorLevel};
use stun_rs::methods::BINDING;
use stun_rs::{
    DecoderContextBuilder, ErrorCode as ErrorCodeValue, HMACKey, MessageClass,
    MessageDecoderBuilder, MessageEncoderBuilder, StunErrorType, StunMessage, StunMessageBuilder,
    TransactionId,
};

use super::DropReason;

/// Largest STUN message we build (a check is about 100 bytes).
const MAX_MESSAGE: usize = 548;
/// The STUN magic cookie (RFC 8489).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

/// The header fields needed to route a message before verifying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) class: MessageClass,
    pub(crate) method: u16,
    pub(crate) transaction: [u8; 12],
}

/// Reads the 20-byte header; `None` if this is not a STUN message.
pub(crate) fn peek_header(bytes: &[u8]) -> Option<Header> {
    let head = bytes.get(..20)?;
    let msg_type = u16::from_be_bytes([head[0], head[1]]);
    let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
    if msg_type & 0xc000 != 0 || head[4..8] != MAGIC_COOKIE || length % 4 != 0 {
        return None;
    }
    if bytes.len() != 20 + length {
        return None;
    }
    let class = match ((msg_type >> 7) & 0b10) | ((msg_type >> 4) & 0b01) {
        0 => MessageClass::Request,
        1 => MessageClass::Indication,
        2 => MessageClass::SuccessResponse,
        _ => MessageClass::ErrorResponse,
    };
    let method = (msg_type & 0x000f) | ((msg_type >> 1) & 0x0070) | ((msg_type >> 2) & 0x0f80);
    let mut transaction = [0u8; 12];
    transaction.copy_from_slice(&head[8..20]);
    Some(Header {
        class,
        method,
        transaction,
    })
}

fn map_decode_error(e: &StunDecodeError) -> DropReason {
    match &e.0 {
        StunErrorLevel::Attribute(a) if a.error.error_type == StunErrorType::ValidationFailed => {
            if a.attr_type == Some(Fingerprint::get_type()) {
                DropReason::BadFingerprint
            } else {
                DropReason::BadIntegrity
            }
        }
        _ => DropReason::Malformed,
    }
}

/// The short-term-credential HMAC key of a password (computed once per password: the
/// OpaqueString preparation is not free).
pub(crate) fn short_term_key(pwd: &str) -> Option<HMACKey> {
    HMACKey::new_short_term(pwd).ok()
}

/// Decodes a message with FINGERPRINT and, with `key`, a MESSAGE-INTEGRITY checked if present
/// (TURN's messages use it too).
pub(crate) fn decode(bytes: &[u8], key: Option<&HMACKey>) -> Result<StunMessage, StunDecodeError> {
    let mut ctx = DecoderContextBuilder::default().with_validation();
    if let Some(key) = key {
        ctx = ctx.with_key(key.clone());
    }
    let decoder = MessageDecoderBuilder::default()
        .with_context(ctx.build())
        .build();
    decoder.decode(bytes).map(|(msg, _)| msg)
}

/// Decodes and verifies a message. With `key`, MESSAGE-INTEGRITY must be present and verify
/// with it; FINGERPRINT must be present and verify unless `fingerprint_optional`.
pub(crate) fn decode_verified(
    bytes: &[u8],
    key: Option<&HMACKey>,
    fingerprint_optional: bool,
) -> Result<StunMessage, DropReason> {
    let msg = decode(bytes, key).map_err(|e| map_decode_error(&e))?;
    if key.is_some() && msg.get::<MessageIntegrity>().is_none() {
        return Err(DropReason::MissingIntegrity);
    }
    if !fingerprint_optional && msg.get::<Fingerprint>().is_none() {
        return Err(DropReason::MissingFingerprint);
    }
    Ok(msg)
}

/// The role attribute of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleAttr {
    Controlling(u64),
    Controlled(u64),
}

/// The ICE attributes of a decoded Binding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckAttributes {
    pub(crate) username: String,
    pub(crate) priority: Option<u32>,
    pub(crate) role: Option<RoleAttr>,
    pub(crate) use_candidate: bool,
}

pub(crate) fn check_attributes(msg: &StunMessage) -> Option<CheckAttributes> {
    let username = msg
        .get::<UserName>()?
        .as_user_name()
        .ok()?
        .as_str()
        .to_owned();
    let priority = msg
        .get::<Priority>()
        .and_then(|a| a.as_priority().ok())
        .map(|p| p.as_u32());
    let role = if let Some(a) = msg.get::<IceControlling>() {
        a.as_ice_controlling()
            .ok()
            .map(|v| RoleAttr::Controlling(v.as_u64()))
    } else if let Some(a) = msg.get::<IceControlled>() {
        a.as_ice_controlled()
            .ok()
            .map(|v| RoleAttr::Controlled(v.as_u64()))
    } else {
        None
    };
    Some(CheckAttributes {
        username,
        priority,
        role,
        use_candidate: msg.get::<UseCandidate>().is_some(),
    })
}

pub(crate) fn mapped_address(msg: &StunMessage) -> Option<SocketAddr> {
    msg.get::<XorMappedAddress>()
        .and_then(|a| a.as_xor_mapped_address().ok())
        .map(|x| *x.socket_address())
}

pub(crate) fn error_code(msg: &StunMessage) -> Option<u16> {
    msg.get::<ErrorCode>()
        .and_then(|a| a.as_error_code().ok())
        .map(|e| e.error_code().error_code())
}

fn encode(msg: &StunMessage) -> Vec<u8> {
    let mut buf = [0u8; MAX_MESSAGE];
    let encoder = MessageEncoderBuilder::default().build();
    // Our messages have a fixed, small attribute set, so encoding cannot overflow the buffer;
    // an encoder error would yield an empty datagram, which is never sent.
    match encoder.encode(&mut buf, msg) {
        Ok(n) => buf.get(..n).map(<[u8]>::to_vec).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// A connectivity check (RFC 8445 section 7.2.2).
pub(crate) struct CheckRequest<'a> {
    pub(crate) transaction: [u8; 12],
    /// `<remote ufrag>:<local ufrag>`.
    pub(crate) username: &'a str,
    /// The remote password's key (MESSAGE-INTEGRITY).
    pub(crate) key: &'a HMACKey,
    pub(crate) priority: u32,
    pub(crate) role: RoleAttr,
    pub(crate) use_candidate: bool,
}

pub(crate) fn encode_check(req: &CheckRequest<'_>) -> Vec<u8> {
    let Ok(username) = UserName::new(req.username) else {
        return Vec::new();
    };
    let mi = MessageIntegrity::new(req.key.clone());
    let mut b = StunMessageBuilder::new(BINDING, MessageClass::Request)
        .with_transaction_id(TransactionId::from(req.transaction))
        .with_attribute(username)
        .with_attribute(Priority::new(req.priority));
    b = match req.role {
        RoleAttr::Controlling(t) => b.with_attribute(IceControlling::new(t)),
        RoleAttr::Controlled(t) => b.with_attribute(IceControlled::new(t)),
    };
    if req.use_candidate {
        b = b.with_attribute(UseCandidate::default());
    }
    encode(
        &b.with_attribute(mi)
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

/// A success response carrying the request's source address (RFC 8445 section 7.3.1.3).
pub(crate) fn encode_success(transaction: [u8; 12], mapped: SocketAddr, key: &HMACKey) -> Vec<u8> {
    let mi = MessageIntegrity::new(key.clone());
    encode(
        &StunMessageBuilder::new(BINDING, MessageClass::SuccessResponse)
            .with_transaction_id(TransactionId::from(transaction))
            .with_attribute(XorMappedAddress::from(mapped))
            .with_attribute(mi)
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

/// A 487 (Role Conflict) error response (RFC 8445 section 7.3.1.1).
pub(crate) fn encode_role_conflict(transaction: [u8; 12], key: &HMACKey) -> Vec<u8> {
    let Ok(code) = ErrorCodeValue::new(487, "Role Conflict") else {
        return Vec::new();
    };
    let mi = MessageIntegrity::new(key.clone());
    encode(
        &StunMessageBuilder::new(BINDING, MessageClass::ErrorResponse)
            .with_transaction_id(TransactionId::from(transaction))
            .with_attribute(ErrorCode::from(code))
            .with_attribute(mi)
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

/// An unauthenticated Binding request to a STUN server (server-reflexive gathering).
pub(crate) fn encode_server_request(transaction: [u8; 12]) -> Vec<u8> {
    encode(
        &StunMessageBuilder::new(BINDING, MessageClass::Request)
            .with_transaction_id(TransactionId::from(transaction))
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

/// A success response from a STUN server without authentication (for tests and simulations).
#[cfg(feature = "sim")]
pub(crate) fn encode_server_success(transaction: [u8; 12], mapped: SocketAddr) -> Vec<u8> {
    encode(
        &StunMessageBuilder::new(BINDING, MessageClass::SuccessResponse)
            .with_transaction_id(TransactionId::from(transaction))
            .with_attribute(XorMappedAddress::from(mapped))
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

/// The method number of Binding.
pub(crate) const BINDING_METHOD: u16 = 0x0001;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_round_trip_and_tamper() {
        let bytes = encode_check(&CheckRequest {
            transaction: [7; 12],
            username: "abcd:efgh",
            key: &short_term_key("0123456789012345678901").expect("key"),
            priority: 1234,
            role: RoleAttr::Controlling(42),
            use_candidate: true,
        });
        let h = peek_header(&bytes).expect("header");
        assert_eq!(
            (h.class, h.method, h.transaction),
            (MessageClass::Request, 1, [7; 12])
        );
        let msg = decode_verified(
            &bytes,
            short_term_key("0123456789012345678901").as_ref(),
            false,
        )
        .expect("valid");
        let attrs = check_attributes(&msg).expect("attrs");
        assert_eq!(attrs.username, "abcd:efgh");
        assert_eq!(attrs.priority, Some(1234));
        assert_eq!(attrs.role, Some(RoleAttr::Controlling(42)));
        assert!(attrs.use_candidate);
        assert_eq!(
            decode_verified(
                &bytes,
                short_term_key("wrongwrongwrongwrongwr").as_ref(),
                false
            )
            .err(),
            Some(DropReason::BadIntegrity)
        );
        let mut tampered = bytes.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            decode_verified(
                &tampered,
                short_term_key("0123456789012345678901").as_ref(),
                false
            )
            .err(),
            Some(DropReason::BadFingerprint)
        );
        let plain = encode_server_request([1; 12]);
        assert_eq!(
            decode_verified(
                &plain,
                short_term_key("0123456789012345678901").as_ref(),
                false
            )
            .err(),
            Some(DropReason::MissingIntegrity)
        );
        assert!(peek_header(&bytes[..bytes.len() - 4]).is_none());
    }
}

/// RFC 5769 test vectors from the shared corpus, decoded and verified by our wrapper.
#[cfg(test)]
mod rfc5769 {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/stun");
    const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

    fn vector(name: &str) -> Vec<u8> {
        let path = format!("{DIR}/{name}.bin");
        std::fs::read(&path).unwrap_or_else(|e| panic!("corpus missing at {path}: {e}"))
    }

    fn expected() -> serde_json::Value {
        let path = format!("{DIR}/expected.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("corpus missing at {path}: {e}"));
        serde_json::from_str(&text).expect("expected.json parses")
    }

    fn transaction(v: &serde_json::Value) -> String {
        v["header"]["transaction_id"]
            .as_str()
            .expect("transaction id")
            .to_owned()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn request_vector_verifies_and_decodes() {
        let exp = &expected()["rfc5769-2.1-request"];
        let bytes = vector("rfc5769-2.1-request");
        let header = peek_header(&bytes).expect("header");
        assert_eq!(header.class, MessageClass::Request);
        assert_eq!(hex(&header.transaction), transaction(exp));
        let msg = decode_verified(&bytes, short_term_key(PASSWORD).as_ref(), false)
            .expect("integrity and fingerprint verify");
        let attrs = check_attributes(&msg).expect("ICE attributes");
        let by_name = |n: &str| {
            exp["attributes"]
                .as_array()
                .expect("attributes")
                .iter()
                .find(|a| a["name"] == n)
                .cloned()
                .expect("attribute")
        };
        assert_eq!(
            attrs.username,
            by_name("USERNAME")["value"].as_str().expect("str")
        );
        assert_eq!(
            attrs.priority.map(u64::from),
            by_name("PRIORITY")["value"].as_u64()
        );
        let tie = u64::from_str_radix(
            by_name("ICE-CONTROLLED")["value_hex"]
                .as_str()
                .expect("hex"),
            16,
        )
        .expect("u64");
        assert_eq!(attrs.role, Some(RoleAttr::Controlled(tie)));
        assert!(!attrs.use_candidate);
        assert_eq!(
            decode_verified(
                &bytes,
                short_term_key("VOkJxbRl1RmTxUk/WvJxBT").as_ref(),
                false
            )
            .err(),
            Some(DropReason::BadIntegrity)
        );
    }

    #[test]
    fn response_vectors_verify_and_decode() {
        let all = expected();
        for name in ["rfc5769-2.2-response-ipv4", "rfc5769-2.3-response-ipv6"] {
            let exp = &all[name];
            let bytes = vector(name);
            assert_eq!(bytes.len() as u64, exp["length"].as_u64().expect("length"));
            let header = peek_header(&bytes).expect("header");
            assert_eq!(header.class, MessageClass::SuccessResponse);
            assert_eq!(hex(&header.transaction), transaction(exp));
            let msg =
                decode_verified(&bytes, short_term_key(PASSWORD).as_ref(), false).expect(name);
            let xor = exp["attributes"]
                .as_array()
                .expect("attrs")
                .iter()
                .find(|a| a["name"] == "XOR-MAPPED-ADDRESS")
                .cloned()
                .expect("xma");
            let want = SocketAddr::new(
                xor["value"].as_str().expect("ip").parse().expect("ip"),
                u16::try_from(xor["port"].as_u64().expect("port")).expect("port"),
            );
            assert_eq!(mapped_address(&msg), Some(want), "{name}");
            // Any flipped bit after the header breaks integrity or fingerprint.
            for i in [24, bytes.len() - 30, bytes.len() - 1] {
                let mut t = bytes.clone();
                t[i] ^= 0x01;
                assert!(
                    decode_verified(&t, short_term_key(PASSWORD).as_ref(), false).is_err(),
                    "{name} byte {i}"
                );
            }
        }
    }

    #[test]
    fn long_term_vector_is_not_a_short_term_message() {
        let bytes = vector("rfc5769-2.4-request-long-term-auth");
        let exp = &expected()["rfc5769-2.4-request-long-term-auth"];
        assert_eq!(
            hex(&peek_header(&bytes).expect("header").transaction),
            transaction(exp)
        );
        // No FINGERPRINT: ICE refuses it; with the short-term key the integrity fails.
        assert_eq!(
            decode_verified(&bytes, short_term_key("TheMatrIX").as_ref(), true).err(),
            Some(DropReason::BadIntegrity)
        );
        assert_eq!(
            decode_verified(&bytes, None, true).err(),
            Some(DropReason::BadIntegrity)
        );
        let plain = MessageDecoderBuilder::default()
            .build()
            .decode(&bytes)
            .expect("decodes")
            .0;
        assert!(plain.get::<Fingerprint>().is_none());
        // With the long-term key of the README (MD5 of user:realm:SASLprep(password)) stun-rs verifies it.
        let key = HMACKey::new_long_term(
            UserName::new("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}").expect("user"),
            stun_rs::attributes::stun::Realm::new("example.org").expect("realm"),
            "TheMatrIX",
            stun_rs::Algorithm::from(stun_rs::AlgorithmId::MD5),
        )
        .expect("key");
        assert_eq!(
            hex(key.as_bytes()),
            exp["credentials"]["key_md5_hex"].as_str().expect("md5")
        );
        let ctx = DecoderContextBuilder::default()
            .with_key(key)
            .with_validation()
            .build();
        assert!(
            MessageDecoderBuilder::default()
                .with_context(ctx)
                .build()
                .decode(&bytes)
                .is_ok()
        );
    }
}
