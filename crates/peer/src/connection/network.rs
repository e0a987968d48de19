//! What the connection's transports send through: each transport's sockets, bound when the
//! transport is made, and the streams to TURN servers reached over TCP or TLS. The connection
//! task binds real UDP sockets and opens real streams ([`Udp`]); the simulator tests bind
//! addresses on a simulated network (their TURN server is reached over UDP). Everything else
//! the connection does, every operation, the transports, DTLS, SCTP and the channels, is the
//! same code on either, and reads no clock: the time comes with each call.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};

use antiphon_ice::{MuxEndpoint, Transmit, TurnStreams, TurnTls, UdpMux, UdpSockets};

/// The largest datagram read from a connection's own sockets (DTLS records and STUN messages
/// stay under a path MTU).
pub(crate) const MAX_DATAGRAM: usize = 2048;

thread_local! {
    /// What own sockets read into: one buffer per thread, not one per connection. A datagram
    /// read into it is handled in the same poll of the same task ([`Received::with_contents`]
    /// right after [`HostSockets::poll_recv`], with no await between), so no other read can
    /// come in between on this thread.
    static RECEIVE_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One transport's sockets.
pub(crate) trait PathSockets: Sized {
    /// The addresses bound (the host candidates' addresses).
    fn local_addresses(&self) -> Vec<SocketAddr>;

    /// Sends one datagram from its `source`, without waiting: `WouldBlock` when the socket
    /// cannot take it now (the caller keeps it and tries again).
    fn try_send(&self, transmit: &Transmit) -> io::Result<()>;

    /// The transport's agent restarts ICE with the local `ufrag`: sockets shared with other
    /// transports ([`HostSockets::Muxed`]) route its checks here too.
    fn add_ufrag(&self, _ufrag: &str) {}
}

/// Where a new transport's sockets come from.
pub(crate) trait Network {
    /// The sockets of one transport.
    type Sockets: PathSockets;

    /// Binds a new transport's sockets on `ips`, for an agent whose local ufrag is `ufrag`.
    fn bind(&mut self, ips: &[IpAddr], ufrag: &str) -> io::Result<Self::Sockets>;

    /// Whether the transports share their sockets with other connections (a [`UdpMux`]):
    /// then no TURN allocation is made over UDP from them (a TURN server's datagrams to many
    /// connections come from one address, which the mux cannot tell apart).
    fn shared(&self) -> bool {
        false
    }

    /// Opens a stream to a TURN server, over TLS for the certificate of `tls_host` when
    /// given; returns its local address (known before it connects).
    fn connect_turn(
        &mut self,
        server: SocketAddr,
        tls_host: Option<&str>,
    ) -> io::Result<SocketAddr>;

    /// Sends `transmit` on the TURN stream its source names; `false` if that is no stream.
    fn send_on_stream(&self, transmit: &Transmit) -> bool;

    /// The stream from `local` is no longer used (its transport closed).
    fn close_stream(&mut self, local: SocketAddr);
}

/// The real network: UDP sockets, one per address (or a share of a [`UdpMux`]), and the TURN
/// streams of the connection.
#[derive(Debug, Default)]
pub(crate) struct Udp {
    /// Opened with the first TURN server reached over TCP or TLS.
    pub(crate) streams: Option<TurnStreams>,
    /// What verifies `turns:` servers (made with the connection when it has any).
    pub(crate) tls: Option<TurnTls>,
    /// The shared port every transport takes its endpoint of, instead of binding sockets.
    pub(crate) mux: Option<UdpMux>,
}

/// A transport's host sockets: its own, or its endpoint of a [`UdpMux`].
#[derive(Debug)]
pub(crate) enum HostSockets {
    Own(UdpSockets),
    Muxed(MuxEndpoint),
}

/// A datagram read by [`HostSockets::poll_recv`].
pub(crate) enum Received {
    /// Its first bytes in this thread's receive buffer (own sockets).
    InBuffer(usize),
    /// As the mux read it (no copy).
    Owned(Vec<u8>),
}

impl Received {
    /// Runs `f` on the datagram's bytes. Called in the poll that read it (see
    /// [`RECEIVE_BUFFER`]); `f` must not read sockets itself.
    pub(crate) fn with_contents<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Received::InBuffer(n) => RECEIVE_BUFFER.with_borrow(|buffer| f(&buffer[..*n])),
            Received::Owned(contents) => f(contents),
        }
    }
}

impl HostSockets {
    /// The next datagram: `(local, source, what was read)`. Own sockets read into this
    /// thread's buffer (sized to [`MAX_DATAGRAM`] by its first read), so that no connection
    /// holds one of its own; its bytes are taken with [`Received::with_contents`] before the
    /// task awaits anything.
    pub(crate) fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<(SocketAddr, SocketAddr, Received)> {
        match self {
            HostSockets::Own(sockets) => RECEIVE_BUFFER.with_borrow_mut(|buffer| {
                if buffer.len() < MAX_DATAGRAM {
                    buffer.resize(MAX_DATAGRAM, 0);
                }
                sockets
                    .poll_recv(cx, buffer)
                    .map(|(local, source, n)| (local, source, Received::InBuffer(n)))
            }),
            HostSockets::Muxed(endpoint) => endpoint
                .poll_recv_owned(cx)
                .map(|(local, source, contents)| (local, source, Received::Owned(contents))),
        }
    }

    /// Waits until the socket of `source` can take a datagram.
    pub(crate) async fn writable(&self, source: SocketAddr) {
        match self {
            HostSockets::Own(sockets) => sockets.writable(source).await,
            HostSockets::Muxed(endpoint) => endpoint.writable(source).await,
        }
    }
}

impl Network for Udp {
    type Sockets = HostSockets;

    fn bind(&mut self, ips: &[IpAddr], ufrag: &str) -> io::Result<HostSockets> {
        match &self.mux {
            Some(mux) => mux
                .endpoint(ufrag)
                .map(HostSockets::Muxed)
                .map_err(|e| io::Error::new(io::ErrorKind::AddrInUse, e.to_string())),
            None => UdpSockets::bind(ips).map(HostSockets::Own),
        }
    }

    fn shared(&self) -> bool {
        self.mux.is_some()
    }

    fn connect_turn(
        &mut self,
        server: SocketAddr,
        tls_host: Option<&str>,
    ) -> io::Result<SocketAddr> {
        let tls = match (tls_host, &self.tls) {
            (Some(host), Some(tls)) => Some((tls, host)),
            (Some(_), None) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no TLS settings for a turns: server",
                ));
            }
            (None, _) => None,
        };
        self.streams
            .get_or_insert_with(TurnStreams::new)
            .connect(server, tls)
    }

    fn send_on_stream(&self, transmit: &Transmit) -> bool {
        self.streams.as_ref().is_some_and(|s| s.send(transmit))
    }

    fn close_stream(&mut self, local: SocketAddr) {
        if let Some(streams) = self.streams.as_mut() {
            streams.close(local);
        }
    }
}

impl PathSockets for HostSockets {
    fn local_addresses(&self) -> Vec<SocketAddr> {
        match self {
            HostSockets::Own(sockets) => sockets.local_addresses(),
            HostSockets::Muxed(endpoint) => endpoint.local_addresses(),
        }
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        match self {
            HostSockets::Own(sockets) => sockets.try_send(transmit),
            HostSockets::Muxed(endpoint) => endpoint.try_send(transmit),
        }
    }

    fn add_ufrag(&self, ufrag: &str) {
        if let HostSockets::Muxed(endpoint) = self
            && let Err(error) = endpoint.add_ufrag(ufrag)
        {
            // Checks for the new ufrag from sources not yet seen will not arrive; those from
            // known sources still do.
            tracing::warn!(%error, "ICE restart ufrag not routed by the UDP mux");
        }
    }
}
