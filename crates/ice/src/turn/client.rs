//! [`TurnClient`]: one allocation on one TURN server (RFC 8656), sans-IO.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stun_rs::MessageClass;

use super::framing::{CHANNELS, decode_channel_data, encode_channel_data};
use super::message::{self, Auth, Request};
use super::{TurnError, TurnEvent, TurnServerConfig, TurnState, TurnTransport};
use crate::agent::stun::peek_header;

/// A permission lasts 300 s (RFC 8656 §9); it is refreshed a minute before.
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// A channel binding lasts 600 s (RFC 8656 §12); refreshed a minute before.
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// The allocation is refreshed this long before it would expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The lifetime a server grants when its answer names none (RFC 8656 §7.2).
const DEFAULT_LIFETIME: u32 = 600;
/// First retransmission timeout over UDP (RFC 8489 §6.2.1); it doubles up to [`MAX_RTO`].
const INITIAL_RTO: Duration = Duration::from_millis(500);
const MAX_RTO: Duration = Duration::from_millis(3200);
/// Retransmissions of a request over UDP before it times out (about 10 s in all).
const RETRANSMITS: u32 = 4;
/// How long a request over a stream waits for its answer (no retransmission there).
const STREAM_TIMEOUT: Duration = Duration::from_secs(10);
/// 437 answers taken before giving up: the first deletes the stale allocation when we are
/// authenticated (else waits 0.5 s), the next wait 1 and 2 s.
const MISMATCH_RETRIES: u32 = 3;
const MISMATCH_BACKOFF: Duration = Duration::from_millis(500);
/// Datagrams held while their permission (or the allocation) is being made.
const MAX_QUEUED: usize = 32;

/// A message for the server, from [`TurnClient::poll_transmit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnTransmit {
    /// The server's address (it changes only after a 300 Try Alternate over UDP).
    pub destination: SocketAddr,
    /// The bytes: one datagram over UDP, one framed message on a stream.
    pub contents: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Transaction {
    id: [u8; 12],
    request: Request,
    bytes: Vec<u8>,
    deadline: Instant,
    rto: Duration,
    retransmits_left: u32,
    /// A 438 Stale Nonce was answered by sending it again once.
    stale_retried: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Pending,
    Installed { refresh_at: Instant },
}

#[derive(Debug, Clone, Copy)]
struct Channel {
    number: u16,
    peer: SocketAddr,
    /// `None` while the first ChannelBind is outstanding.
    refresh_at: Option<Instant>,
}

/// One allocation on a TURN server: Allocate with long-term credentials (401 and 438 handled),
/// refreshes before expiry, a permission per peer address and a channel per peer (each
/// refreshed), ChannelData once a channel is bound and Send indications before, deallocation on
/// [`close`](Self::close), and one redirect (300 Try Alternate) over UDP.
///
/// Inputs: messages from the server ([`handle_receive`](Self::handle_receive)), timeouts
/// ([`handle_timeout`](Self::handle_timeout)) and datagrams to relay
/// ([`send_to`](Self::send_to)), each with the time. Outputs: messages for the server
/// ([`poll_transmit`](Self::poll_transmit)), events ([`poll_event`](Self::poll_event)) and the
/// next deadline ([`poll_timeout`](Self::poll_timeout)). It never reads the clock.
#[derive(Debug)]
pub struct TurnClient {
    config: TurnServerConfig,
    server: SocketAddr,
    rng: StdRng,
    state: TurnState,
    auth: Option<Auth>,
    relayed: Option<SocketAddr>,
    mapped: Option<SocketAddr>,
    refresh_at: Option<Instant>,
    redirected: bool,
    /// 437 Allocation Mismatch answers so far (the first deletes the stale allocation, the
    /// next wait and allocate again).
    mismatch_retries: u32,
    /// When the next Allocate goes after a 437.
    retry_at: Option<Instant>,
    transactions: Vec<Transaction>,
    transmits: VecDeque<TurnTransmit>,
    events: VecDeque<TurnEvent>,
    permissions: HashMap<IpAddr, Grant>,
    channels: Vec<Channel>,
    queued: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl TurnClient {
    /// A client that starts allocating at `now`; `seed` drives its transaction ids.
    pub fn new(now: Instant, config: TurnServerConfig, seed: u64) -> Self {
        let mut client = Self {
            server: config.server,
            config,
            rng: StdRng::seed_from_u64(seed),
            state: TurnState::Allocating,
            auth: None,
            relayed: None,
            mapped: None,
            refresh_at: None,
            redirected: false,
            mismatch_retries: 0,
            retry_at: None,
            transactions: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            permissions: HashMap::new(),
            channels: Vec::new(),
            queued: VecDeque::new(),
        };
        client.request(now, Request::Allocate, false);
        client
    }

    /// Where the allocation stands.
    pub fn state(&self) -> TurnState {
        self.state
    }

    /// The server the client talks to now (the configured one, or where a 300 Try Alternate
    /// sent it).
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The server as configured.
    pub fn config(&self) -> &TurnServerConfig {
        &self.config
    }

    /// The relayed transport address, once allocated.
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        self.relayed
    }

    /// Our address as the server saw it (XOR-MAPPED-ADDRESS), once allocated.
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        self.mapped
    }

    /// Whether `peer`'s address has a permission installed (data from it is relayed to us).
    pub fn has_permission(&self, peer: IpAddr) -> bool {
        matches!(self.permissions.get(&peer), Some(Grant::Installed { .. }))
    }

    /// The channel bound to `peer`, once the server confirmed it.
    pub fn channel(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|c| c.peer == peer && c.refresh_at.is_some())
            .map(|c| c.number)
    }

    /// Relays `data` to `peer`: as ChannelData once a channel is bound, else as a Send
    /// indication once the peer's permission is installed (binding a channel for the next
    /// ones); until then it waits (a few datagrams; more are dropped, as a lossy path would).
    pub fn send_to(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) {
        match self.state {
            TurnState::Allocating => return self.queue(peer, data),
            TurnState::Allocated => {}
            TurnState::Failed | TurnState::Closing | TurnState::Closed => return,
        }
        if let Some(number) = self.channel(peer) {
            let padded = self.config.transport != TurnTransport::Udp;
            if let Some(contents) = encode_channel_data(number, data, padded) {
                self.push(contents);
            }
            return;
        }
        match self.permissions.get(&peer.ip()) {
            Some(Grant::Installed { .. }) => {
                let id = self.rng.random();
                self.push(message::encode_send(id, peer, data));
                if !self.channels.iter().any(|c| c.peer == peer) {
                    self.bind_channel(now, peer);
                }
            }
            Some(Grant::Pending) => self.queue(peer, data),
            None => {
                self.permissions.insert(peer.ip(), Grant::Pending);
                self.request(now, Request::CreatePermission(peer), false);
                self.queue(peer, data);
            }
        }
    }

    fn queue(&mut self, peer: SocketAddr, data: &[u8]) {
        if self.queued.len() < MAX_QUEUED {
            self.queued.push_back((peer, data.to_vec()));
        }
    }

    fn bind_channel(&mut self, now: Instant, peer: SocketAddr) {
        let used = |n: u16| self.channels.iter().any(|c| c.number == n);
        let Some(number) = CHANNELS.clone().find(|&n| !used(n)) else {
            return;
        };
        self.channels.push(Channel {
            number,
            peer,
            refresh_at: None,
        });
        self.request(now, Request::ChannelBind(number, peer), false);
    }

    /// Takes in one message from the server (a datagram over UDP, a framed message from a
    /// stream). Returns relayed data, `(peer, payload)`, when it carried some from a peer with
    /// a permission; control messages change the client's state; anything else is ignored.
    pub fn handle_receive(&mut self, now: Instant, bytes: &[u8]) -> Option<(SocketAddr, Vec<u8>)> {
        if matches!(self.state, TurnState::Failed | TurnState::Closed) {
            return None;
        }
        if let Some((number, data)) = decode_channel_data(bytes) {
            let channel = self.channels.iter().find(|c| c.number == number)?;
            return Some((channel.peer, data.to_vec()));
        }
        let header = peek_header(bytes)?;
        if header.class == MessageClass::Indication {
            if header.method != message::DATA_METHOD {
                return None;
            }
            let (peer, data) = message::read_data(&message::decode(bytes, None)?)?;
            // The server relays only from addresses with a permission; anything else is not
            // from it.
            return self.has_permission(peer.ip()).then_some((peer, data));
        }
        let index = self
            .transactions
            .iter()
            .position(|t| t.id == header.transaction)?;
        let key = self.auth.as_ref().map(|a| a.key.clone());
        let msg = message::decode(bytes, key.as_ref())?;
        let reply = message::read_reply(&msg);
        // A success to an authenticated request must carry integrity that verified (decode
        // checked it): an unsigned one could come from anyone who saw the request.
        if header.class == MessageClass::SuccessResponse && key.is_some() && !reply.integrity {
            return None;
        }
        let transaction = self.transactions.remove(index);
        self.on_reply(now, transaction, header.class, reply);
        None
    }

    fn on_reply(
        &mut self,
        now: Instant,
        transaction: Transaction,
        class: MessageClass,
        reply: message::Reply,
    ) {
        let error = if class == MessageClass::SuccessResponse {
            None
        } else {
            Some(reply.error.clone().unwrap_or((0, String::new())))
        };
        match (error, transaction.request) {
            (Some((401, _)), Request::Allocate) if self.auth.is_none() => {
                let (Some(realm), Some(nonce)) = (reply.realm, reply.nonce) else {
                    return self.fail(TurnError::Unauthorized);
                };
                match message::long_term_key(&self.config.username, &realm, &self.config.password) {
                    Some(key) => {
                        self.auth = Some(Auth {
                            username: self.config.username.clone(),
                            realm,
                            nonce,
                            key,
                        });
                        self.request(now, Request::Allocate, false);
                    }
                    None => self.fail(TurnError::Unauthorized),
                }
            }
            (Some((438, _)), request) if !transaction.stale_retried => {
                match (reply.nonce, self.auth.as_mut()) {
                    (Some(nonce), Some(auth)) => {
                        auth.nonce = nonce;
                        if let Some(realm) = reply.realm {
                            auth.realm = realm;
                        }
                        self.request(now, request, true);
                    }
                    _ => self.request_failed(now, request, TurnError::StaleNonce),
                }
            }
            // 437: an allocation exists on our address already, left by an earlier user of the
            // same port (RFC 8656 §7.2 would have us move to another port, which a host socket
            // shared with ICE cannot). First we delete it, which works if it was made with our
            // credentials and is still live; a server that holds a deleted allocation's address
            // for a while (coturn: about 2 s) is then asked again, later each time.
            (Some((437, _)), Request::Allocate) => {
                self.mismatch_retries += 1;
                let tried = self.mismatch_retries;
                if tried == 1 && self.auth.is_some() {
                    self.request(now, Request::Refresh(0), false);
                } else if tried <= MISMATCH_RETRIES {
                    self.retry_at = Some(now + MISMATCH_BACKOFF * (1 << (tried - 1)));
                } else {
                    self.fail(TurnError::AllocationMismatch);
                }
            }
            (Some((300, _)), Request::Allocate) => match reply.alternate {
                Some(alternate)
                    if !self.redirected && self.config.transport == TurnTransport::Udp =>
                {
                    self.redirected = true;
                    self.server = alternate;
                    self.auth = None;
                    self.request(now, Request::Allocate, false);
                }
                alternate => self.fail(TurnError::TryAlternate(alternate)),
            },
            (Some((code, reason)), request) => {
                self.request_failed(now, request, TurnError::from_code(code, reason));
            }
            (None, request) => self.succeeded(now, request, &reply),
        }
    }

    fn succeeded(&mut self, now: Instant, request: Request, reply: &message::Reply) {
        match request {
            Request::Allocate => {
                let Some(relayed) = reply.relayed else {
                    return self.fail(TurnError::MissingRelayedAddress);
                };
                self.relayed = Some(relayed);
                self.mapped = reply.mapped;
                self.state = TurnState::Allocated;
                self.schedule_refresh(now, reply.lifetime.unwrap_or(DEFAULT_LIFETIME));
                self.events.push_back(TurnEvent::Allocated {
                    relayed,
                    mapped: reply.mapped,
                });
                for (peer, data) in std::mem::take(&mut self.queued) {
                    self.send_to(now, peer, &data);
                }
            }
            // The stale allocation on our address is deleted: allocate again.
            Request::Refresh(0) if self.state == TurnState::Allocating => {
                self.request(now, Request::Allocate, false);
            }
            Request::Refresh(0) => self.finish_close(),
            Request::Refresh(_) => {
                self.schedule_refresh(now, reply.lifetime.unwrap_or(DEFAULT_LIFETIME));
            }
            Request::CreatePermission(peer) => {
                self.permissions.insert(
                    peer.ip(),
                    Grant::Installed {
                        refresh_at: now + PERMISSION_REFRESH,
                    },
                );
                let (ready, waiting) = std::mem::take(&mut self.queued)
                    .into_iter()
                    .partition::<VecDeque<_>, _>(|(p, _)| p.ip() == peer.ip());
                self.queued = waiting;
                for (peer, data) in ready {
                    self.send_to(now, peer, &data);
                }
            }
            Request::ChannelBind(number, peer) => {
                if let Some(channel) = self.channels.iter_mut().find(|c| c.number == number) {
                    channel.refresh_at = Some(now + CHANNEL_REFRESH);
                }
                // A binding installs (or refreshes) the peer's permission too.
                self.permissions.insert(
                    peer.ip(),
                    Grant::Installed {
                        refresh_at: now + PERMISSION_REFRESH,
                    },
                );
            }
        }
    }

    fn schedule_refresh(&mut self, now: Instant, lifetime: u32) {
        let lifetime = Duration::from_secs(u64::from(lifetime));
        let early = if lifetime > 2 * REFRESH_MARGIN {
            lifetime - REFRESH_MARGIN
        } else {
            lifetime / 2
        };
        self.refresh_at = Some(now + early);
    }

    /// A request that failed: the allocation with it (Allocate, Refresh), or just the
    /// permission or channel.
    fn request_failed(&mut self, now: Instant, request: Request, error: TurnError) {
        match request {
            // The stale allocation could not be deleted: one more Allocate, which fails with
            // 437 again if it is still there.
            Request::Refresh(0) if self.state == TurnState::Allocating => {
                self.request(now, Request::Allocate, false);
            }
            Request::Allocate | Request::Refresh(_) if self.state == TurnState::Closing => {
                self.finish_close();
            }
            Request::Allocate | Request::Refresh(_) => self.fail(error),
            Request::CreatePermission(peer) => {
                self.permissions.remove(&peer.ip());
                self.queued.retain(|(p, _)| p.ip() != peer.ip());
                self.events.push_back(TurnEvent::PermissionFailed {
                    peer: peer.ip(),
                    error,
                });
            }
            Request::ChannelBind(number, _) => {
                // Send indications carry on without a channel.
                self.channels.retain(|c| c.number != number);
            }
        }
    }

    fn fail(&mut self, error: TurnError) {
        tracing::debug!(server = %self.server, %error, "TURN allocation failed");
        self.state = TurnState::Failed;
        self.transactions.clear();
        self.queued.clear();
        self.refresh_at = None;
        self.retry_at = None;
        self.events.push_back(TurnEvent::Failed(error));
    }

    fn finish_close(&mut self) {
        self.state = TurnState::Closed;
        self.transactions.clear();
        self.events.push_back(TurnEvent::Closed);
    }

    fn request(&mut self, now: Instant, request: Request, stale_retried: bool) {
        let id = self.rng.random();
        let bytes = message::encode_request(id, request, self.auth.as_ref());
        let stream = self.config.transport != TurnTransport::Udp;
        let (rto, retransmits_left) = if stream {
            (STREAM_TIMEOUT, 0)
        } else {
            (INITIAL_RTO, RETRANSMITS)
        };
        self.push(bytes.clone());
        self.transactions.push(Transaction {
            id,
            request,
            bytes,
            deadline: now + rto,
            rto,
            retransmits_left,
            stale_retried,
        });
    }

    fn push(&mut self, contents: Vec<u8>) {
        if !contents.is_empty() {
            self.transmits.push_back(TurnTransmit {
                destination: self.server,
                contents,
            });
        }
    }

    /// Runs what is due at `now`: retransmissions and timeouts, refreshes of the allocation,
    /// the permissions and the channels.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut expired = Vec::new();
        for t in &mut self.transactions {
            if t.deadline > now {
                continue;
            }
            if t.retransmits_left == 0 {
                expired.push(t.id);
                continue;
            }
            t.retransmits_left -= 1;
            t.rto = (t.rto * 2).min(MAX_RTO);
            t.deadline = now + t.rto;
            self.transmits.push_back(TurnTransmit {
                destination: self.server,
                contents: t.bytes.clone(),
            });
        }
        if self.retry_at.is_some_and(|at| at <= now) && self.state == TurnState::Allocating {
            self.retry_at = None;
            self.request(now, Request::Allocate, false);
        }
        for id in expired {
            if let Some(index) = self.transactions.iter().position(|t| t.id == id) {
                let t = self.transactions.remove(index);
                self.request_failed(now, t.request, TurnError::Timeout);
            }
        }
        if self.state != TurnState::Allocated {
            return;
        }
        if self.refresh_at.is_some_and(|at| at <= now) {
            self.refresh_at = None;
            self.request(now, Request::Refresh(DEFAULT_LIFETIME), false);
        }
        let due: Vec<IpAddr> = self
            .permissions
            .iter()
            .filter(|(_, g)| matches!(g, Grant::Installed { refresh_at } if *refresh_at <= now))
            .map(|(ip, _)| *ip)
            .collect();
        for ip in due {
            // Still installed while the refresh is out: the permission has a minute left.
            self.permissions.insert(
                ip,
                Grant::Installed {
                    refresh_at: now + REFRESH_MARGIN,
                },
            );
            self.request(
                now,
                Request::CreatePermission(SocketAddr::new(ip, 0)),
                false,
            );
        }
        let due: Vec<Channel> = self
            .channels
            .iter()
            .filter(|c| c.refresh_at.is_some_and(|at| at <= now))
            .copied()
            .collect();
        for channel in due {
            if let Some(c) = self
                .channels
                .iter_mut()
                .find(|c| c.number == channel.number)
            {
                // Still usable while the refresh is out: the binding has a minute left.
                c.refresh_at = Some(now + REFRESH_MARGIN);
            }
            self.request(
                now,
                Request::ChannelBind(channel.number, channel.peer),
                false,
            );
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let transactions = self.transactions.iter().map(|t| t.deadline);
        if self.state != TurnState::Allocated {
            return transactions.chain(self.retry_at).min();
        }
        let permissions = self.permissions.values().filter_map(|g| match g {
            Grant::Installed { refresh_at } => Some(*refresh_at),
            Grant::Pending => None,
        });
        let channels = self.channels.iter().filter_map(|c| c.refresh_at);
        transactions
            .chain(permissions)
            .chain(channels)
            .chain(self.refresh_at)
            .min()
    }

    /// The next message for the server.
    pub fn poll_transmit(&mut self) -> Option<TurnTransmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }

    /// Deletes the allocation (a Refresh with lifetime 0, sent once; RFC 8656 §7): nothing is
    /// relayed any more, and the client is closed when the server answers or the request
    /// times out.
    pub fn close(&mut self, now: Instant) {
        let allocated = self.state == TurnState::Allocated;
        self.transactions.clear();
        self.queued.clear();
        self.permissions.clear();
        self.channels.clear();
        self.refresh_at = None;
        if allocated {
            self.state = TurnState::Closing;
            self.request(now, Request::Refresh(0), false);
            if let Some(t) = self.transactions.last_mut() {
                t.retransmits_left = 0;
            }
        } else if self.state != TurnState::Closed {
            self.state = TurnState::Closed;
        }
    }
}
