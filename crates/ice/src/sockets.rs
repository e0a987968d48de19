//! [`UdpSockets`]: the host sockets of one ICE agent, for a task that runs the agent (and
//! whatever shares its ports) itself: bound with a generous receive buffer, read round-robin
//! from one task, written from the address a [`Transmit`] names.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

use crate::agent::Transmit;

/// The receive buffer asked for on every socket. The kernel's default (`rmem_default`, 208 KiB
/// on Linux, of which each loopback datagram costs ~2 KiB of accounting) overflowed when a peer
/// sent a 256 KiB data channel message as one SCTP burst while the reading task was busy, and
/// SCTP then waited a whole retransmission timeout (1 s, doubling) for the lost tail. The kernel
/// caps the request at `rmem_max`; it is a bound, not an allocation.
const RECEIVE_BUFFER: usize = 2 * 1024 * 1024;

/// A non-blocking UDP socket bound to `address`, with [`RECEIVE_BUFFER`] asked for.
pub(crate) fn bind_udp(address: SocketAddr) -> std::io::Result<UdpSocket> {
    bind_udp_buffered(address, RECEIVE_BUFFER)
}

/// A non-blocking UDP socket bound to `address`, with a receive buffer of `buffer` bytes asked
/// for (the kernel caps it at `rmem_max`).
pub(crate) fn bind_udp_buffered(address: SocketAddr, buffer: usize) -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // A smaller buffer than asked for (or none) is not an error: the default still works.
    let _ = socket.set_recv_buffer_size(buffer);
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    UdpSocket::from_std(socket.into())
}

/// One UDP socket per local address (port chosen by the system), read by one task.
///
/// [`poll_recv`](Self::poll_recv) tries every socket, starting after the one read last, so a
/// busy socket cannot starve the others; no reader task or queue per socket.
#[derive(Debug)]
pub struct UdpSockets {
    /// In address order (the order host candidates are gathered in).
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    by_address: HashMap<SocketAddr, usize>,
    /// Where the next read starts (atomic so that reads take `&self`, alongside sends).
    next: AtomicUsize,
}

impl UdpSockets {
    /// Binds one socket on each of `ips` (inside a tokio runtime).
    pub fn bind(ips: &[IpAddr]) -> std::io::Result<Self> {
        let mut sockets = Vec::with_capacity(ips.len());
        for ip in ips {
            let socket = bind_udp(SocketAddr::new(*ip, 0))?;
            sockets.push((socket.local_addr()?, Arc::new(socket)));
        }
        sockets.sort_by_key(|(address, _)| *address);
        let by_address = sockets
            .iter()
            .enumerate()
            .map(|(index, (address, _))| (*address, index))
            .collect();
        Ok(Self {
            sockets,
            by_address,
            next: AtomicUsize::new(0),
        })
    }

    /// The sockets by address, for a sender on another task ([`crate::IceConn`]).
    pub(crate) fn handles(&self) -> HashMap<SocketAddr, Arc<UdpSocket>> {
        self.sockets
            .iter()
            .map(|(address, socket)| (*address, Arc::clone(socket)))
            .collect()
    }

    /// The bound addresses, in order: the agent's host candidate bases.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.sockets.iter().map(|(address, _)| *address).collect()
    }

    /// Reads the next datagram from any socket into `buffer`: `(local, source, length)`.
    ///
    /// ICMP errors that some systems report on a later receive (port unreachable) are consumed
    /// and the task woken to read on.
    pub fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<(SocketAddr, SocketAddr, usize)> {
        let next = self.next.load(Ordering::Relaxed);
        for step in 0..self.sockets.len() {
            let index = (next + step) % self.sockets.len();
            let (local, socket) = &self.sockets[index];
            let mut read = ReadBuf::new(buffer);
            match socket.poll_recv_from(cx, &mut read) {
                Poll::Ready(Ok(source)) => {
                    self.next
                        .store((index + 1) % self.sockets.len(), Ordering::Relaxed);
                    return Poll::Ready((*local, source, read.filled().len()));
                }
                Poll::Ready(Err(_)) => cx.waker().wake_by_ref(),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    /// Sends `transmit` from the socket bound to its source without waiting. A transmit from
    /// an address we do not hold is dropped (`Ok`); a full socket buffer is `WouldBlock`, to be
    /// retried after [`writable`](Self::writable).
    pub fn try_send(&self, transmit: &Transmit) -> std::io::Result<()> {
        let Some(index) = self.by_address.get(&transmit.source) else {
            return Ok(());
        };
        self.sockets[*index]
            .1
            .try_send_to(&transmit.contents, transmit.destination)
            .map(drop)
    }

    /// Waits until the socket bound to `source` can take a datagram (at once for an address we
    /// do not hold).
    pub async fn writable(&self, source: SocketAddr) {
        if let Some(index) = self.by_address.get(&source) {
            let _ = self.sockets[*index].1.writable().await;
        }
    }
}
