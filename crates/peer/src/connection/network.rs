//! What the connection's transports send through: each transport's sockets, bound when the
//! transport is made. The connection task binds real UDP sockets ([`Udp`]); the simulator
//! tests bind addresses on a simulated network. Everything else the connection does, every
//! operation, the transports, DTLS, SCTP and the channels, is the same code on either, and
//! reads no clock: the time comes with each call.

use std::io;
use std::net::{IpAddr, SocketAddr};

use antiphon_ice::{Transmit, UdpSockets};

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
}

/// The real network: UDP sockets, one per address.
#[derive(Debug, Default)]
pub(crate) struct Udp;

impl Network for Udp {
    type Sockets = UdpSockets;

    fn bind(&mut self, ips: &[IpAddr]) -> io::Result<UdpSockets> {
        UdpSockets::bind(ips)
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
