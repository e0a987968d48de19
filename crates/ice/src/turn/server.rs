//! A small TURN server for the simulator (feature `sim`): long-term credentials with a nonce
//! that can go stale, allocations that expire unless refreshed, permissions, channels, Send and
//! Data indications and ChannelData, on [`Transmit`]s. Tests use it to run relayed ICE on a
//! virtual clock; the real server the integration tests use is coturn.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use stun_rs::attributes::stun::{
    ErrorCode, Fingerprint, MessageIntegrity, Nonce, Realm, UserName, XorMappedAddress,
};
use stun_rs::attributes::turn::{ChannelNumber, Data, LifeTime, XorPeerAddress, XorRelayedAddress};
use stun_rs::methods::DATA;
use stun_rs::{
    ErrorCode as ErrorCodeValue, HMACKey, MessageClass, MessageMethod, StunMessage,
    StunMessageBuilder, TransactionId,
};

use super::framing::{decode_channel_data, encode_channel_data};
use super::message::{self, encode, long_term_key};
use crate::agent::Transmit;
use crate::agent::stun::peek_header;

const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Allocation {
    /// The Allocate request that made it: a retransmission of it is answered again.
    transaction: TransactionId,
    relayed: SocketAddr,
    expires: Instant,
    key: HMACKey,
    permissions: HashMap<IpAddr, Instant>,
    channels: HashMap<u16, (SocketAddr, Instant)>,
}

/// The simulated TURN server. See the [module](self) documentation.
#[derive(Debug)]
pub struct SimTurnServer {
    address: SocketAddr,
    realm: String,
    nonce: u32,
    users: HashMap<String, String>,
    allocations: HashMap<SocketAddr, Allocation>,
    next_port: u16,
    lifetime: u32,
    answering: bool,
    refreshes: u64,
}

impl SimTurnServer {
    /// A server listening on `address` (its relayed addresses share its IP) for one user.
    pub fn new(address: SocketAddr, username: &str, password: &str) -> Self {
        Self {
            address,
            realm: "antiphon.test".to_owned(),
            nonce: 1,
            users: HashMap::from([(username.to_owned(), password.to_owned())]),
            allocations: HashMap::new(),
            next_port: 50_000,
            lifetime: 600,
            answering: true,
            refreshes: 0,
        }
    }

    /// The lifetime granted to allocations (default 600 s).
    pub fn set_lifetime(&mut self, seconds: u32) {
        self.lifetime = seconds;
    }

    /// A new nonce: requests with the old one are answered 438 Stale Nonce.
    pub fn rotate_nonce(&mut self) {
        self.nonce += 1;
    }

    /// Stops answering anything (a server that went away), or starts again.
    pub fn set_answering(&mut self, answering: bool) {
        self.answering = answering;
    }

    /// The listening address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Whether `addr` is one of its addresses (listening or relayed): datagrams to it go to
    /// [`handle`](Self::handle).
    pub fn owns(&self, addr: SocketAddr) -> bool {
        addr == self.address || self.allocations.values().any(|a| a.relayed == addr)
    }

    /// Live allocations at `now`.
    pub fn allocation_count(&self, now: Instant) -> usize {
        self.allocations
            .values()
            .filter(|a| a.expires > now)
            .count()
    }

    /// Refresh requests answered with success.
    pub fn refreshes(&self) -> u64 {
        self.refreshes
    }

    fn nonce_text(&self) -> String {
        format!("nonce-{}", self.nonce)
    }

    /// Handles one datagram sent to one of its addresses; returns what it sends.
    pub fn handle(&mut self, now: Instant, datagram: &Transmit) -> Vec<Transmit> {
        if !self.answering {
            return Vec::new();
        }
        self.allocations.retain(|_, a| a.expires > now);
        if datagram.destination == self.address {
            self.serve_client(now, datagram.source, &datagram.contents)
        } else {
            self.relay_to_client(now, datagram).into_iter().collect()
        }
    }

    fn relay_to_client(&mut self, now: Instant, datagram: &Transmit) -> Option<Transmit> {
        let (client, allocation) = self
            .allocations
            .iter()
            .find(|(_, a)| a.relayed == datagram.destination)?;
        let peer = datagram.source;
        if allocation
            .permissions
            .get(&peer.ip())
            .is_none_or(|t| *t <= now)
        {
            return None;
        }
        let bound = allocation
            .channels
            .iter()
            .find(|(_, (p, t))| *p == peer && *t > now)
            .map(|(n, _)| *n);
        let contents = match bound {
            Some(number) => encode_channel_data(number, &datagram.contents, false)?,
            None => encode(
                &StunMessageBuilder::new(DATA, MessageClass::Indication)
                    .with_transaction_id(TransactionId::default())
                    .with_attribute(XorPeerAddress::from(peer))
                    .with_attribute(Data::from(datagram.contents.as_slice()))
                    .build(),
            ),
        };
        Some(Transmit {
            source: self.address,
            destination: *client,
            contents,
        })
    }

    fn serve_client(&mut self, now: Instant, client: SocketAddr, bytes: &[u8]) -> Vec<Transmit> {
        let address = self.address;
        let reply = |contents: Vec<u8>| Transmit {
            source: address,
            destination: client,
            contents,
        };
        if let Some((number, data)) = decode_channel_data(bytes) {
            let Some(allocation) = self.allocations.get(&client) else {
                return Vec::new();
            };
            return match allocation.channels.get(&number) {
                Some((peer, expires)) if *expires > now => vec![Transmit {
                    source: allocation.relayed,
                    destination: *peer,
                    contents: data.to_vec(),
                }],
                _ => Vec::new(),
            };
        }
        let Some(header) = peek_header(bytes) else {
            return Vec::new();
        };
        let method = MessageMethod::try_from(header.method).ok();
        if header.class == MessageClass::Indication {
            // A Send indication: relayed if the peer has a permission.
            let Some(allocation) = self.allocations.get(&client) else {
                return Vec::new();
            };
            let Some((peer, data)) =
                message::decode(bytes, None).and_then(|m| message::read_data(&m))
            else {
                return Vec::new();
            };
            return match allocation.permissions.get(&peer.ip()) {
                Some(expires) if *expires > now => vec![Transmit {
                    source: allocation.relayed,
                    destination: peer,
                    contents: data,
                }],
                _ => Vec::new(),
            };
        }
        let (Some(method), MessageClass::Request) = (method, header.class) else {
            return Vec::new();
        };
        let transaction = TransactionId::from(header.transaction);
        let key = match self.authenticate(bytes) {
            Ok(key) => key,
            Err(code) => {
                let error = self.error(method, transaction, code, None);
                return vec![reply(error)];
            }
        };
        let Some(msg) = message::decode(bytes, Some(&key)) else {
            return Vec::new();
        };
        let answer = self.request(now, client, method, transaction, &msg, key);
        vec![reply(answer)]
    }

    /// The request's long-term key if its credentials and nonce are right, else 401 or 438.
    fn authenticate(&self, bytes: &[u8]) -> Result<HMACKey, u16> {
        let msg = message::decode_unverified(bytes).ok_or(400u16)?;
        let username = msg
            .get::<UserName>()
            .and_then(|a| a.as_user_name().ok())
            .map(|u| u.as_str().to_owned());
        let nonce = msg
            .get::<Nonce>()
            .and_then(|a| a.as_nonce().ok())
            .map(|n| n.as_str().to_owned());
        let (Some(username), Some(nonce)) = (username, nonce) else {
            return Err(401);
        };
        let password = self.users.get(&username).ok_or(401u16)?;
        let key = long_term_key(&username, &self.realm, password).ok_or(401u16)?;
        if message::decode(bytes, Some(&key)).is_none_or(|m| m.get::<MessageIntegrity>().is_none())
        {
            return Err(401);
        }
        if nonce != self.nonce_text() {
            return Err(438);
        }
        Ok(key)
    }

    fn request(
        &mut self,
        now: Instant,
        client: SocketAddr,
        method: MessageMethod,
        transaction: TransactionId,
        msg: &StunMessage,
        key: HMACKey,
    ) -> Vec<u8> {
        let peer = msg
            .get::<XorPeerAddress>()
            .and_then(|a| a.as_xor_peer_address().ok())
            .map(|a| *a.socket_address());
        let success = StunMessageBuilder::new(method, MessageClass::SuccessResponse)
            .with_transaction_id(transaction);
        let signed = |b: StunMessageBuilder, key: &HMACKey| {
            encode(
                &b.with_attribute(MessageIntegrity::new(key.clone()))
                    .with_attribute(Fingerprint::default())
                    .build(),
            )
        };
        match method.as_u16() {
            message::ALLOCATE_METHOD => {
                let relayed = match self.allocations.get(&client) {
                    Some(existing) if existing.transaction != transaction => {
                        return self.error(method, transaction, 437, Some(&key));
                    }
                    // A retransmitted Allocate (its answer was lost): the same answer.
                    Some(existing) => existing.relayed,
                    None => {
                        let relayed = SocketAddr::new(self.address.ip(), self.next_port);
                        self.next_port = self.next_port.wrapping_add(1);
                        self.allocations.insert(
                            client,
                            Allocation {
                                transaction,
                                relayed,
                                expires: now + Duration::from_secs(u64::from(self.lifetime)),
                                key: key.clone(),
                                permissions: HashMap::new(),
                                channels: HashMap::new(),
                            },
                        );
                        relayed
                    }
                };
                signed(
                    success
                        .with_attribute(XorRelayedAddress::from(relayed))
                        .with_attribute(XorMappedAddress::from(client))
                        .with_attribute(LifeTime::new(self.lifetime)),
                    &key,
                )
            }
            message::REFRESH_METHOD => {
                let lifetime = msg
                    .get::<LifeTime>()
                    .and_then(|a| a.as_life_time().ok())
                    .map_or(self.lifetime, LifeTime::as_u32)
                    .min(self.lifetime);
                let Some(allocation) = self.allocations.get_mut(&client) else {
                    return self.error(method, transaction, 437, Some(&key));
                };
                if lifetime == 0 {
                    self.allocations.remove(&client);
                } else {
                    allocation.expires = now + Duration::from_secs(u64::from(lifetime));
                    self.refreshes += 1;
                }
                signed(success.with_attribute(LifeTime::new(lifetime)), &key)
            }
            message::CREATE_PERMISSION_METHOD | message::CHANNEL_BIND_METHOD => {
                let channel = msg
                    .get::<ChannelNumber>()
                    .and_then(|a| a.as_channel_number().ok())
                    .map(ChannelNumber::number);
                let (Some(allocation), Some(peer)) = (self.allocations.get_mut(&client), peer)
                else {
                    return self.error(method, transaction, 437, Some(&key));
                };
                allocation
                    .permissions
                    .insert(peer.ip(), now + PERMISSION_LIFETIME);
                if let Some(number) = channel {
                    allocation
                        .channels
                        .insert(number, (peer, now + CHANNEL_LIFETIME));
                }
                let key = allocation.key.clone();
                signed(success, &key)
            }
            _ => self.error(method, transaction, 400, Some(&key)),
        }
    }

    fn error(
        &self,
        method: MessageMethod,
        transaction: TransactionId,
        code: u16,
        key: Option<&HMACKey>,
    ) -> Vec<u8> {
        let Ok(value) = ErrorCodeValue::new(code, "sim") else {
            return Vec::new();
        };
        let mut b = StunMessageBuilder::new(method, MessageClass::ErrorResponse)
            .with_transaction_id(transaction)
            .with_attribute(ErrorCode::from(value));
        if matches!(code, 401 | 438)
            && let (Ok(realm), Ok(nonce)) = (Realm::new(&self.realm), Nonce::new(self.nonce_text()))
        {
            b = b.with_attribute(realm).with_attribute(nonce);
        }
        if let Some(key) = key {
            b = b.with_attribute(MessageIntegrity::new(key.clone()));
        }
        encode(&b.with_attribute(Fingerprint::default()).build())
    }
}
