//! What the connection's transports send through: each transport's sockets, bound when the
//! transport is made, and the streams to TURN servers reached over TCP or TLS. The connection
//! task binds real UDP sockets and opens real streams ([`Udp`]); the simulator tests bind
//! addresses on a simulated network (their TURN server is reached over UDP). Everything else
//! the connection does, every operation, the transports, DTLS, SCTP and the channels, is the
//! same code on either, and reads no clock: the time comes with each call.

use std::io;
use std::net::{IpAddr, SocketAddr};

use antiphon_ice::{Transmit, TurnStreams, TurnTls, UdpSockets};

/// One transport's sockets.
pub(crate) trait PathSockets: Sized {
    /// The addresses bound (the host candidates' addresses).
    fn local_addresses(&self) -> Vec<SocketAddr>;

    /// Sends one datagram from its `source`, without waiting: `WouldBlock` when the socket
    /// cannot take it now (the caller keeps it and tries again).
    fn try_send(&self, transmit: &Transmit) -> io::Result<()>;
}

/// Where a new transport's sockets come from.
pub(crate) trait Network {
    /// The sockets of one transport.
    type Sockets: PathSockets;

    /// Binds a new transport's sockets on `ips`.
    fn bind(&mut self, ips: &[IpAddr]) -> io::Result<Self::Sockets>;

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

/// The real network: UDP sockets, one per address, and the TURN streams of the connection.
#[derive(Debug, Default)]
pub(crate) struct Udp {
    /// Opened with the first TURN server reached over TCP or TLS.
    pub(crate) streams: Option<TurnStreams>,
    /// What verifies `turns:` servers (made with the connection when it has any).
    pub(crate) tls: Option<TurnTls>,
}

impl Network for Udp {
    type Sockets = UdpSockets;

    fn bind(&mut self, ips: &[IpAddr]) -> io::Result<UdpSockets> {
        UdpSockets::bind(ips)
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

impl PathSockets for UdpSockets {
    fn local_addresses(&self) -> Vec<SocketAddr> {
        UdpSockets::local_addresses(self)
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        UdpSockets::try_send(self, transmit)
    }
}
