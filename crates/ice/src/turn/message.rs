//! TURN messages (RFC 8656) on stun-rs: the requests a client sends (Allocate, Refresh,
//! CreatePermission, ChannelBind), Send indications, and reading what a server answers.

use std::net::SocketAddr;

use stun_rs::attributes::stun::{
    AlternateServer, ErrorCode, Fingerprint, MessageIntegrity, Nonce, Realm, UserName,
    XorMappedAddress,
};
use stun_rs::attributes::turn::{
    ChannelNumber, Data, LifeTime, RequestedTrasport, XorPeerAddress, XorRelayedAddress,
};
use stun_rs::methods::{ALLOCATE, CHANNEL_BIND, CREATE_PERMMISSION, REFRESH, SEND};
use stun_rs::{
    Algorithm, AlgorithmId, HMACKey, MessageClass, MessageEncoderBuilder, MessageMethod,
    StunMessage, StunMessageBuilder, TransactionId,
};

/// The largest message we build: a Send indication carrying a full datagram.
const MAX_MESSAGE: usize = 2048 + 128;

/// Which request a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    Allocate,
    /// A refresh with this lifetime in seconds (0 deletes the allocation).
    Refresh(u32),
    CreatePermission(SocketAddr),
    ChannelBind(u16, SocketAddr),
}

impl Request {
    fn method(self) -> MessageMethod {
        match self {
            Request::Allocate => ALLOCATE,
            Request::Refresh(_) => REFRESH,
            Request::CreatePermission(_) => CREATE_PERMMISSION,
            Request::ChannelBind(..) => CHANNEL_BIND,
        }
    }
}

/// The long-term credentials' part of a request, once the server named its realm and nonce.
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    pub(crate) username: String,
    pub(crate) realm: String,
    pub(crate) nonce: String,
    pub(crate) key: HMACKey,
}

/// The long-term key: MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
pub(crate) fn long_term_key(username: &str, realm: &str, password: &str) -> Option<HMACKey> {
    HMACKey::new_long_term(username, realm, password, Algorithm::from(AlgorithmId::MD5)).ok()
}

/// A message's bytes (empty when it does not fit: nothing is sent).
pub(crate) fn encode(msg: &StunMessage) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let encoder = MessageEncoderBuilder::default().build();
    match encoder.encode(&mut buf, msg) {
        Ok(n) => {
            buf.truncate(n);
            buf
        }
        // Only a datagram larger than any path carries would not fit: nothing is sent.
        Err(_) => Vec::new(),
    }
}

/// A request, with MESSAGE-INTEGRITY when `auth` is known (the first Allocate goes without,
/// to learn the realm and nonce).
pub(crate) fn encode_request(
    transaction: [u8; 12],
    request: Request,
    auth: Option<&Auth>,
) -> Vec<u8> {
    let mut b = StunMessageBuilder::new(request.method(), MessageClass::Request)
        .with_transaction_id(TransactionId::from(transaction));
    match request {
        Request::Allocate => {
            b = b.with_attribute(RequestedTrasport::new(stun_rs::protocols::UDP));
        }
        Request::Refresh(lifetime) => b = b.with_attribute(LifeTime::new(lifetime)),
        Request::CreatePermission(peer) => b = b.with_attribute(XorPeerAddress::from(peer)),
        Request::ChannelBind(channel, peer) => {
            b = b
                .with_attribute(ChannelNumber::new(channel))
                .with_attribute(XorPeerAddress::from(peer));
        }
    }
    if let Some(auth) = auth {
        let (Ok(username), Ok(realm), Ok(nonce)) = (
            UserName::new(&auth.username),
            Realm::new(&auth.realm),
            Nonce::new(&auth.nonce),
        ) else {
            return Vec::new();
        };
        b = b
            .with_attribute(username)
            .with_attribute(realm)
            .with_attribute(nonce)
            .with_attribute(MessageIntegrity::new(auth.key.clone()));
    }
    encode(&b.with_attribute(Fingerprint::default()).build())
}

/// A Send indication carrying `data` to `peer` (no integrity: indications are not
/// authenticated, RFC 8656 §11).
pub(crate) fn encode_send(transaction: [u8; 12], peer: SocketAddr, data: &[u8]) -> Vec<u8> {
    encode(
        &StunMessageBuilder::new(SEND, MessageClass::Indication)
            .with_transaction_id(TransactionId::from(transaction))
            .with_attribute(XorPeerAddress::from(peer))
            .with_attribute(Data::from(data))
            .build(),
    )
}

/// Decodes a message from the server; with `key`, a MESSAGE-INTEGRITY present must verify.
pub(crate) fn decode(bytes: &[u8], key: Option<&HMACKey>) -> Option<StunMessage> {
    crate::agent::stun::decode(bytes, key).ok()
}

/// Decodes a message without checking MESSAGE-INTEGRITY (to read who it claims to be from
/// before the key is known).
#[cfg(feature = "sim")]
pub(crate) fn decode_unverified(bytes: &[u8]) -> Option<StunMessage> {
    stun_rs::MessageDecoderBuilder::default()
        .build()
        .decode(bytes)
        .ok()
        .map(|(msg, _)| msg)
}

/// What a response says, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) error: Option<(u16, String)>,
    pub(crate) realm: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) relayed: Option<SocketAddr>,
    pub(crate) mapped: Option<SocketAddr>,
    pub(crate) lifetime: Option<u32>,
    pub(crate) alternate: Option<SocketAddr>,
    pub(crate) integrity: bool,
}

pub(crate) fn read_reply(msg: &StunMessage) -> Reply {
    Reply {
        error: msg
            .get::<ErrorCode>()
            .and_then(|a| a.as_error_code().ok())
            .map(|e| {
                (
                    e.error_code().error_code(),
                    e.error_code().reason().to_owned(),
                )
            }),
        realm: msg
            .get::<Realm>()
            .and_then(|a| a.as_realm().ok())
            .map(|r| r.as_str().to_owned()),
        nonce: msg
            .get::<Nonce>()
            .and_then(|a| a.as_nonce().ok())
            .map(|n| n.as_str().to_owned()),
        relayed: msg
            .get::<XorRelayedAddress>()
            .and_then(|a| a.as_xor_relayed_address().ok())
            .map(|a| *a.socket_address()),
        mapped: msg
            .get::<XorMappedAddress>()
            .and_then(|a| a.as_xor_mapped_address().ok())
            .map(|a| *a.socket_address()),
        lifetime: msg
            .get::<LifeTime>()
            .and_then(|a| a.as_life_time().ok())
            .map(LifeTime::as_u32),
        alternate: msg
            .get::<AlternateServer>()
            .and_then(|a| a.as_alternate_server().ok())
            .map(|a| *a.socket_address()),
        integrity: msg.get::<MessageIntegrity>().is_some(),
    }
}

/// A Data indication's peer and payload.
pub(crate) fn read_data(msg: &StunMessage) -> Option<(SocketAddr, Vec<u8>)> {
    let peer = msg
        .get::<XorPeerAddress>()?
        .as_xor_peer_address()
        .ok()
        .map(|a| *a.socket_address())?;
    let data = msg.get::<Data>()?.as_data().ok()?.as_bytes().to_vec();
    Some((peer, data))
}

/// The method number of Data indications (the client reads them).
pub(crate) const DATA_METHOD: u16 = 0x0007;
/// The requests' method numbers (the simulated server reads them).
#[cfg(feature = "sim")]
pub(crate) const ALLOCATE_METHOD: u16 = 0x0003;
#[cfg(feature = "sim")]
pub(crate) const REFRESH_METHOD: u16 = 0x0004;
#[cfg(feature = "sim")]
pub(crate) const CREATE_PERMISSION_METHOD: u16 = 0x0008;
#[cfg(feature = "sim")]
pub(crate) const CHANNEL_BIND_METHOD: u16 = 0x0009;

#[cfg(test)]
mod tests {
    use super::*;
    use stun_rs::MessageDecoderBuilder;

    #[test]
    fn requests_decode() {
        let bytes = encode_request([1; 12], Request::Allocate, None);
        assert!(!bytes.is_empty());
        let r = MessageDecoderBuilder::default().build().decode(&bytes);
        assert!(r.is_ok(), "{r:?}");
        assert!(decode(&bytes, None).is_some());
        let key = long_term_key("alice", "realm", "secret").expect("key");
        let auth = Auth {
            username: "alice".into(),
            realm: "realm".into(),
            nonce: "n".into(),
            key: key.clone(),
        };
        let signed = encode_request([2; 12], Request::Refresh(600), Some(&auth));
        assert!(decode(&signed, Some(&key)).is_some());
        let wrong = long_term_key("alice", "realm", "wrong").expect("key");
        assert!(decode(&signed, Some(&wrong)).is_none());
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;
    use stun_rs::MessageDecoderBuilder;

    #[test]
    fn send_indication_decodes() {
        let peer: SocketAddr = "10.0.0.9:50001".parse().expect("addr");
        let bytes = encode_send([3; 12], peer, b"abc");
        let r = MessageDecoderBuilder::default().build().decode(&bytes);
        assert!(r.is_ok(), "{r:?}");
        let msg = decode(&bytes, None);
        assert!(msg.is_some());
        assert_eq!(read_data(&msg.expect("msg")), Some((peer, b"abc".to_vec())));
    }
}
