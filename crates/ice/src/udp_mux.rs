//! [`UdpMux`]: one UDP socket per address family shared by many ICE agents (a server's many
//! peer connections on one port), as pion's `UDPMux` and str0m's one-socket model do.
//!
//! Each agent takes a [`MuxEndpoint`] under its local ufrag. A reader task per socket routes
//! every datagram it reads:
//!
//! 1. a STUN response whose transaction an endpoint sent goes to that endpoint (STUN servers
//!    answer many agents from one address);
//! 2. a datagram from a source an endpoint has exchanged with goes to that endpoint (the
//!    5-tuple: DTLS, SCTP, RTP and later checks);
//! 3. a STUN Binding request goes to the endpoint whose ufrag is the first half of its
//!    `USERNAME` (`<our ufrag>:<theirs>`, RFC 8445 §7.2.2), and its source is learned for 2.;
//! 4. anything else is dropped.
//!
//! Sources are learned from Binding requests (step 3) and from the destinations an endpoint
//! sends to (a peer that never checks us, ICE lite, still reaches us), first come first
//! served, at most [`MAX_SOURCES`] per endpoint. Nothing is trusted by being routed: the
//! agent still checks MESSAGE-INTEGRITY, DTLS the fingerprint. Each endpoint's queue holds
//! [`QUEUE`] datagrams; beyond that its datagrams are dropped, as a full socket buffer would,
//! so one slow connection cannot stall the others. Dropping an endpoint forgets its routes.
//!
//! The mux reads each datagram into a fresh buffer and hands it over; an endpoint sends on the
//! shared socket directly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::agent::Transmit;
use crate::error::Error;

/// Datagrams queued per endpoint before its datagrams are dropped.
pub const QUEUE: usize = 256;
/// Sources learned per endpoint; a peer with more candidates still reaches the endpoint by
/// its ufrag and its STUN transactions.
pub const MAX_SOURCES: usize = 64;
/// STUN transactions remembered across all endpoints (the oldest are forgotten first).
const MAX_TRANSACTIONS: usize = 65_536;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_536;
/// The receive buffer asked for on a mux socket: it takes what many agents' sockets would
/// (the kernel caps it at `rmem_max`; 4 MiB on the machine of docs/benchmarks.md).
const RECEIVE_BUFFER: usize = 16 * 1024 * 1024;

/// A datagram for an endpoint: `(local, source, contents)`. Boxed: an endpoint's queue
/// allocates its first 32 slots when it is made, 88 bytes each unboxed (2.8 KiB for every
/// connection on the mux, most of them idle), 8 boxed.
type Delivery = Box<(SocketAddr, SocketAddr, Vec<u8>)>;

/// One UDP port shared by many ICE agents (see the [module](self) documentation). Cheap to
/// clone: clones share the sockets. The reader tasks end when the last clone and the last
/// endpoint are gone.
#[derive(Debug, Clone)]
pub struct UdpMux {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    routes: Arc<Mutex<Routes>>,
    readers: Vec<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

#[derive(Debug, Default)]
struct Routes {
    next_id: u64,
    endpoints: HashMap<u64, Route>,
    by_ufrag: HashMap<String, u64>,
    by_source: HashMap<SocketAddr, u64>,
    transactions: HashMap<[u8; 12], u64>,
    transaction_order: VecDeque<[u8; 12]>,
}

#[derive(Debug)]
struct Route {
    queue: mpsc::Sender<Delivery>,
    ufrags: Vec<String>,
    sources: Vec<SocketAddr>,
}

impl Routes {
    fn learn_source(&mut self, id: u64, source: SocketAddr) {
        let Some(route) = self.endpoints.get_mut(&id) else {
            return;
        };
        if route.sources.len() >= MAX_SOURCES || self.by_source.contains_key(&source) {
            return;
        }
        route.sources.push(source);
        self.by_source.insert(source, id);
    }

    fn learn_transaction(&mut self, id: u64, transaction: [u8; 12]) {
        if self.transactions.insert(transaction, id).is_none() {
            self.transaction_order.push_back(transaction);
        }
        while self.transaction_order.len() > MAX_TRANSACTIONS {
            if let Some(old) = self.transaction_order.pop_front() {
                self.transactions.remove(&old);
            }
        }
    }

    /// The endpoint `contents` from `source` goes to, learning what step 3 teaches.
    fn route(&mut self, source: SocketAddr, contents: &[u8]) -> Option<u64> {
        if let Some(stun) = Stun::read(contents) {
            if stun.is_response()
                && let Some(id) = self.transactions.remove(&stun.transaction)
            {
                return Some(id);
            }
            if let Some(&id) = self.by_source.get(&source) {
                return Some(id);
            }
            let ufrag = stun.binding_request_ufrag(contents)?;
            let id = *self.by_ufrag.get(ufrag)?;
            self.learn_source(id, source);
            return Some(id);
        }
        self.by_source.get(&source).copied()
    }

    fn remove(&mut self, id: u64) {
        if let Some(route) = self.endpoints.remove(&id) {
            for ufrag in route.ufrags {
                self.by_ufrag.remove(&ufrag);
            }
            for source in route.sources {
                self.by_source.remove(&source);
            }
        }
        // Its unanswered transactions age out with the others.
    }
}

fn lock(routes: &Mutex<Routes>) -> MutexGuard<'_, Routes> {
    // The routes stay consistent across a panic elsewhere (every change is one call).
    routes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl UdpMux {
    /// Binds one socket on each of `addresses` (inside a tokio runtime) and starts its reader.
    /// Give one address per family, with the port to share (0 lets the system choose).
    ///
    /// # Errors
    ///
    /// [`Error::MuxWildcardAddress`] for an unspecified address (`0.0.0.0`, `::`): the mux's
    /// addresses are its endpoints' host candidates, which must be addresses a peer can reach;
    /// [`Error::Io`] if a socket cannot be bound.
    pub fn bind(addresses: &[SocketAddr]) -> Result<UdpMux, Error> {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let mut sockets = Vec::with_capacity(addresses.len());
        for address in addresses {
            if address.ip().is_unspecified() {
                return Err(Error::MuxWildcardAddress(*address));
            }
            let socket = Arc::new(crate::sockets::bind_udp_buffered(*address, RECEIVE_BUFFER)?);
            sockets.push((socket.local_addr()?, socket));
        }
        let readers = sockets
            .iter()
            .map(|(local, socket)| {
                let reader = read(*local, Arc::clone(socket), Arc::clone(&routes));
                tokio::spawn(reader).abort_handle()
            })
            .collect();
        Ok(UdpMux {
            inner: Arc::new(Inner {
                sockets,
                routes,
                readers,
            }),
        })
    }

    /// The bound addresses: every endpoint's host candidate addresses.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.inner
            .sockets
            .iter()
            .map(|(address, _)| *address)
            .collect()
    }

    /// How many endpoints are registered.
    pub fn endpoints(&self) -> usize {
        lock(&self.inner.routes).endpoints.len()
    }

    /// An endpoint for the agent whose local ufrag is `ufrag`.
    ///
    /// # Errors
    ///
    /// [`Error::MuxUfragInUse`] if another endpoint has it.
    pub fn endpoint(&self, ufrag: &str) -> Result<MuxEndpoint, Error> {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let mut routes = lock(&self.inner.routes);
        if routes.by_ufrag.contains_key(ufrag) {
            return Err(Error::MuxUfragInUse(ufrag.to_owned()));
        }
        let id = routes.next_id;
        routes.next_id += 1;
        routes.by_ufrag.insert(ufrag.to_owned(), id);
        routes.endpoints.insert(
            id,
            Route {
                queue,
                ufrags: vec![ufrag.to_owned()],
                sources: Vec::new(),
            },
        );
        Ok(MuxEndpoint {
            id,
            mux: self.clone(),
            receiver: Mutex::new(receiver),
            sent_to: Mutex::new(HashSet::new()),
        })
    }
}

/// Reads `socket` until the mux is gone, handing each datagram to its endpoint.
async fn read(local: SocketAddr, socket: Arc<UdpSocket>, routes: Arc<Mutex<Routes>>) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        // ICMP errors reported on a later receive (port unreachable) are skipped; the yield
        // keeps an error that repeats from spinning this worker.
        let Ok((n, source)) = socket.recv_from(&mut buffer).await else {
            tokio::task::yield_now().await;
            continue;
        };
        let contents = &buffer[..n];
        let queue = {
            let mut routes = lock(&routes);
            routes
                .route(source, contents)
                .and_then(|id| routes.endpoints.get(&id))
                .map(|route| route.queue.clone())
        };
        if let Some(queue) = queue {
            // A full queue drops, as a full socket buffer would.
            let _ = queue.try_send(Box::new((local, source, contents.to_vec())));
        }
    }
}

/// One agent's share of a [`UdpMux`]: what [`crate::UdpSockets`] is for an agent with sockets
/// of its own (the same four operations). Dropping it forgets its routes.
#[derive(Debug)]
pub struct MuxEndpoint {
    id: u64,
    mux: UdpMux,
    /// Read by the one task that runs the agent; a lock so that reads take `&self`.
    receiver: Mutex<mpsc::Receiver<Delivery>>,
    /// Destinations already learned as sources, so sending takes the mux's lock only for a new
    /// one (or a STUN request).
    sent_to: Mutex<HashSet<SocketAddr>>,
}

impl MuxEndpoint {
    /// The mux's addresses: this agent's host candidate bases.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.mux.local_addresses()
    }

    /// Also routes Binding requests for `ufrag` here (an ICE restart's new local ufrag; the old
    /// one stays until the endpoint is dropped).
    ///
    /// # Errors
    ///
    /// [`Error::MuxUfragInUse`] if another endpoint has it.
    pub fn add_ufrag(&self, ufrag: &str) -> Result<(), Error> {
        let mut routes = lock(&self.mux.inner.routes);
        match routes.by_ufrag.get(ufrag) {
            Some(&id) if id == self.id => return Ok(()),
            Some(_) => return Err(Error::MuxUfragInUse(ufrag.to_owned())),
            None => {}
        }
        routes.by_ufrag.insert(ufrag.to_owned(), self.id);
        if let Some(route) = routes.endpoints.get_mut(&self.id) {
            route.ufrags.push(ufrag.to_owned());
        }
        Ok(())
    }

    /// Reads the next datagram routed here into `buffer`: `(local, source, length)` (a datagram
    /// longer than `buffer` is cut, as a socket read would).
    pub fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<(SocketAddr, SocketAddr, usize)> {
        self.poll_recv_owned(cx).map(|(local, source, contents)| {
            let n = contents.len().min(buffer.len());
            buffer[..n].copy_from_slice(&contents[..n]);
            (local, source, n)
        })
    }

    /// The next datagram routed here, as the mux read it: `(local, source, contents)`, with
    /// no copy and no buffer of the caller's.
    pub fn poll_recv_owned(&self, cx: &mut Context<'_>) -> Poll<(SocketAddr, SocketAddr, Vec<u8>)> {
        let mut receiver = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match receiver.poll_recv(cx) {
            Poll::Ready(Some(datagram)) => Poll::Ready(*datagram),
            // The mux is gone (it outlives its endpoints unless it was dropped while they live).
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    /// Sends `transmit` from the mux socket its source names, without waiting (as
    /// [`crate::UdpSockets::try_send`]); learns its destination as a source of this endpoint,
    /// and a STUN request's transaction.
    pub fn try_send(&self, transmit: &Transmit) -> std::io::Result<()> {
        let Some(socket) = self.socket(transmit.source) else {
            return Ok(());
        };
        let request = Stun::read(&transmit.contents).filter(Stun::is_request);
        let new_destination = {
            let mut sent_to = self
                .sent_to
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Past MAX_SOURCES the mux learns no more for this endpoint anyway.
            sent_to.len() < MAX_SOURCES && sent_to.insert(transmit.destination)
        };
        if new_destination || request.is_some() {
            let mut routes = lock(&self.mux.inner.routes);
            if new_destination {
                routes.learn_source(self.id, transmit.destination);
            }
            if let Some(request) = request {
                routes.learn_transaction(self.id, request.transaction);
            }
        }
        socket
            .try_send_to(&transmit.contents, transmit.destination)
            .map(drop)
    }

    /// Waits until the mux socket bound to `source` can take a datagram.
    pub async fn writable(&self, source: SocketAddr) {
        if let Some(socket) = self.socket(source) {
            let _ = socket.writable().await;
        }
    }

    /// The mux socket bound to `address`, if it is one of the mux's.
    fn socket(&self, address: SocketAddr) -> Option<&UdpSocket> {
        self.mux
            .inner
            .sockets
            .iter()
            .find(|(bound, _)| *bound == address)
            .map(|(_, socket)| socket.as_ref())
    }
}

impl Drop for MuxEndpoint {
    fn drop(&mut self) {
        lock(&self.mux.inner.routes).remove(self.id);
    }
}

/// What the mux reads of a STUN message: its class and transaction (RFC 8489 §5).
struct Stun {
    message_type: u16,
    transaction: [u8; 12],
}

impl Stun {
    const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
    const BINDING_REQUEST: u16 = 0x0001;
    const USERNAME: u16 = 0x0006;

    /// The header of `contents` if it is a STUN message (first two bits zero, the magic
    /// cookie, a length that fits).
    fn read(contents: &[u8]) -> Option<Stun> {
        let header = contents.get(..20)?;
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if header[0] & 0xc0 != 0
            || header[4..8] != Self::MAGIC_COOKIE
            || 20 + length > contents.len()
        {
            return None;
        }
        Some(Stun {
            message_type: u16::from_be_bytes([header[0], header[1]]),
            transaction: header[8..20].try_into().ok()?,
        })
    }

    /// Class bits C1 C0 (0x0100, 0x0010): 00 request.
    fn is_request(&self) -> bool {
        self.message_type & 0x0110 == 0
    }

    /// 10 success, 11 error.
    fn is_response(&self) -> bool {
        self.message_type & 0x0100 != 0
    }

    /// For a Binding request: the ufrag before the `:` of its USERNAME.
    fn binding_request_ufrag<'a>(&self, contents: &'a [u8]) -> Option<&'a str> {
        if self.message_type != Self::BINDING_REQUEST {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([contents[2], contents[3]]));
        let mut attributes = contents.get(20..20 + length)?;
        while attributes.len() >= 4 {
            let kind = u16::from_be_bytes([attributes[0], attributes[1]]);
            let size = usize::from(u16::from_be_bytes([attributes[2], attributes[3]]));
            let value = attributes.get(4..4 + size)?;
            if kind == Self::USERNAME {
                let username = std::str::from_utf8(value).ok()?;
                return username.split_once(':').map(|(ours, _)| ours);
            }
            attributes = attributes.get(4 + size.next_multiple_of(4)..)?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(message_type: u16, transaction: u8, username: Option<&str>) -> Vec<u8> {
        let mut attributes = Vec::new();
        if let Some(username) = username {
            attributes.extend_from_slice(&Stun::USERNAME.to_be_bytes());
            attributes.extend_from_slice(&(username.len() as u16).to_be_bytes());
            attributes.extend_from_slice(username.as_bytes());
            attributes.resize(attributes.len().next_multiple_of(4), 0);
        }
        let mut message = Vec::new();
        message.extend_from_slice(&message_type.to_be_bytes());
        message.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        message.extend_from_slice(&Stun::MAGIC_COOKIE);
        message.extend_from_slice(&[transaction; 12]);
        message.extend_from_slice(&attributes);
        message
    }

    fn address(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn reads_the_ufrag_of_binding_requests_only() {
        let request = stun(0x0001, 1, Some("ours:theirs"));
        let header = Stun::read(&request).expect("stun");
        assert!(header.is_request() && !header.is_response());
        assert_eq!(header.binding_request_ufrag(&request), Some("ours"));
        let response = stun(0x0101, 1, Some("ours:theirs"));
        let header = Stun::read(&response).expect("stun");
        assert!(header.is_response());
        assert_eq!(header.binding_request_ufrag(&response), None);
        // Not STUN: DTLS, RTP, a short or lying header.
        assert!(
            Stun::read(&[
                22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ])
            .is_none()
        );
        assert!(Stun::read(&[0x80; 40]).is_none());
        let mut truncated = request.clone();
        truncated.truncate(24);
        assert!(Stun::read(&truncated).is_none());
        // A USERNAME claiming more than there is.
        let mut lying = stun(0x0001, 1, None);
        lying.extend_from_slice(&[0, 6, 0, 200]);
        lying[3] = 4;
        let header = Stun::read(&lying).expect("header fits");
        assert_eq!(header.binding_request_ufrag(&lying), None);
    }

    fn routes_with(ufrags: &[&str]) -> (Routes, Vec<mpsc::Receiver<Delivery>>) {
        let mut routes = Routes::default();
        let mut receivers = Vec::new();
        for (id, ufrag) in ufrags.iter().enumerate() {
            let (queue, receiver) = mpsc::channel(QUEUE);
            routes.by_ufrag.insert((*ufrag).to_owned(), id as u64);
            routes.endpoints.insert(
                id as u64,
                Route {
                    queue,
                    ufrags: vec![(*ufrag).to_owned()],
                    sources: Vec::new(),
                },
            );
            receivers.push(receiver);
        }
        (routes, receivers)
    }

    #[test]
    fn routes_by_ufrag_then_by_source_then_by_transaction() {
        let (mut routes, _receivers) = routes_with(&["aaaa", "bbbb"]);
        let dtls = [22u8; 40];
        // Unknown source, not STUN: dropped.
        assert_eq!(routes.route(address(1), &dtls), None);
        // A check for bbbb from port 1: routed, and port 1 learned.
        assert_eq!(
            routes.route(address(1), &stun(0x0001, 1, Some("bbbb:x"))),
            Some(1)
        );
        assert_eq!(routes.route(address(1), &dtls), Some(1));
        // A check for an unknown ufrag from a new source: dropped, nothing learned.
        assert_eq!(
            routes.route(address(2), &stun(0x0001, 2, Some("zzzz:x"))),
            None
        );
        assert_eq!(routes.route(address(2), &dtls), None);
        // A STUN server at port 3 answers both endpoints: by transaction, whoever owns port 3.
        routes.learn_source(0, address(3));
        routes.learn_transaction(0, [7; 12]);
        routes.learn_transaction(1, [8; 12]);
        assert_eq!(routes.route(address(3), &stun(0x0101, 8, None)), Some(1));
        assert_eq!(routes.route(address(3), &stun(0x0101, 7, None)), Some(0));
        // Each transaction routes once; after that the source decides.
        assert_eq!(routes.route(address(3), &stun(0x0101, 8, None)), Some(0));
        // Removing an endpoint forgets its ufrags and sources.
        routes.remove(1);
        assert_eq!(routes.route(address(1), &dtls), None);
        assert_eq!(
            routes.route(address(4), &stun(0x0001, 3, Some("bbbb:x"))),
            None
        );
        assert_eq!(routes.route(address(3), &dtls), Some(0));
    }

    #[test]
    fn sources_and_transactions_are_bounded() {
        let (mut routes, _receivers) = routes_with(&["aaaa"]);
        for port in 0..(MAX_SOURCES as u16 + 10) {
            routes.learn_source(0, address(1000 + port));
        }
        assert_eq!(routes.endpoints[&0].sources.len(), MAX_SOURCES);
        assert_eq!(routes.by_source.len(), MAX_SOURCES);
        for n in 0..(MAX_TRANSACTIONS + 10) {
            let mut transaction = [0u8; 12];
            transaction[..8].copy_from_slice(&(n as u64).to_be_bytes());
            routes.learn_transaction(0, transaction);
        }
        assert_eq!(routes.transactions.len(), MAX_TRANSACTIONS);
    }

    proptest::proptest! {
        /// Whatever arrives (STUN-looking or not, lying lengths, any USERNAME), routing never
        /// panics and never routes to an endpoint that does not exist.
        #[test]
        fn routing_any_datagram_is_safe(
            contents in proptest::collection::vec(proptest::num::u8::ANY, 0..96),
            stun_like in proptest::bool::ANY,
            port in 1u16..8,
        ) {
            let (mut routes, _receivers) = routes_with(&["aaaa", "bbbb"]);
            let mut contents = contents;
            if stun_like && contents.len() >= 20 {
                contents[0] &= 0x3f;
                contents[4..8].copy_from_slice(&Stun::MAGIC_COOKIE);
            }
            if let Some(id) = routes.route(address(port), &contents) {
                proptest::prop_assert!(routes.endpoints.contains_key(&id));
            }
        }
    }

    #[tokio::test]
    async fn endpoints_share_one_port() {
        let mux = UdpMux::bind(&[address(0)]).expect("bind");
        let [local] = mux.local_addresses()[..] else {
            panic!("one address");
        };
        let a = mux.endpoint("aaaa").expect("endpoint");
        let b = mux.endpoint("bbbb").expect("endpoint");
        assert!(matches!(mux.endpoint("aaaa"), Err(Error::MuxUfragInUse(_))));
        assert!(matches!(
            UdpMux::bind(&[SocketAddr::from(([0, 0, 0, 0], 0))]),
            Err(Error::MuxWildcardAddress(_))
        ));
        let peer = UdpSocket::bind(address(0)).await.expect("peer");
        let check = stun(0x0001, 9, Some("bbbb:peer"));
        peer.send_to(&check, local).await.expect("send");
        let (_, source, contents) =
            tokio::time::timeout(std::time::Duration::from_secs(5), async {
                let mut buffer = vec![0u8; 2048];
                let (l, s, n) = std::future::poll_fn(|cx| b.poll_recv(cx, &mut buffer)).await;
                (l, s, buffer[..n].to_vec())
            })
            .await
            .expect("b receives");
        assert_eq!(source, peer.local_addr().expect("address"));
        assert_eq!(contents, check);
        // b answers through the shared socket; the peer sees the mux's port.
        b.try_send(&Transmit {
            source: local,
            destination: source,
            contents: b"reply".to_vec(),
        })
        .expect("send");
        let mut buffer = [0u8; 16];
        let (n, from) = peer.recv_from(&mut buffer).await.expect("reply");
        assert_eq!((&buffer[..n], from), (&b"reply"[..], local));
        assert_eq!(mux.endpoints(), 2);
        drop(a);
        drop(b);
        assert_eq!(mux.endpoints(), 0);
    }
}
