//! [`IceConn`]: the `webrtc_util::Conn` the DTLS layer runs on. It carries only DTLS datagrams
//! (RFC 7983 first byte 20..=63) and sends on the selected pair: from the selected local socket
//! to the selected remote address, or, when the local side is a relay candidate, through the
//! driver's TURN allocation.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use webrtc_util::Conn;

use crate::traffic::{PairTraffic, TrafficCounters};

/// The selected pair, as the driver publishes it.
pub(crate) type Selected = Option<(SocketAddr, SocketAddr)>;

/// A DTLS datagram and where it came from. Boxed: the queue allocates its slots (32 per block)
/// at the element size for the connection's life.
pub(crate) type DtlsDatagram = Box<(SocketAddr, Vec<u8>)>;

/// A datagram from a relayed local address, for the driver to hand to its TURN allocation:
/// `(relayed local, remote, bytes)`.
pub(crate) type RelayedSend = Box<(SocketAddr, SocketAddr, Vec<u8>)>;

/// Payload counters per pair, shared by the driver (what it receives) and [`IceConn`] (what
/// it sends). A handful of pairs at most carry payload; one uncontended lock per datagram.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pairs: Mutex<TrafficCounters>,
}

impl Traffic {
    fn counters(&self) -> std::sync::MutexGuard<'_, TrafficCounters> {
        self.pairs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn sent(&self, local: SocketAddr, remote: SocketAddr, bytes: usize) {
        self.counters().sent(local, remote, bytes);
    }

    pub(crate) fn received(&self, local: SocketAddr, remote: SocketAddr, bytes: usize) {
        self.counters().received(local, remote, bytes);
    }

    pub(crate) fn snapshot(&self) -> Vec<PairTraffic> {
        self.counters().pairs().to_vec()
    }
}

/// The DTLS transport over ICE. Obtain it from [`crate::driver::IceDriver::dtls_conn`].
#[derive(Debug)]
pub struct IceConn {
    sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
    selected: watch::Receiver<Selected>,
    incoming: tokio::sync::Mutex<mpsc::Receiver<DtlsDatagram>>,
    /// Sends on a relayed pair go through the driver's TURN allocation.
    relayed: mpsc::Sender<RelayedSend>,
    closed: AtomicBool,
    traffic: Arc<Traffic>,
}

fn not_connected() -> webrtc_util::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "no selected ICE candidate pair",
    )
    .into()
}

impl IceConn {
    pub(crate) fn new(
        sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
        selected: watch::Receiver<Selected>,
        incoming: mpsc::Receiver<DtlsDatagram>,
        relayed: mpsc::Sender<RelayedSend>,
        traffic: Arc<Traffic>,
    ) -> Self {
        IceConn {
            sockets,
            selected,
            incoming: tokio::sync::Mutex::new(incoming),
            relayed,
            closed: AtomicBool::new(false),
            traffic,
        }
    }

    /// The selected pair `(local, remote)`, if ICE has one and consent is fresh.
    pub fn selected_pair(&self) -> Selected {
        *self.selected.borrow()
    }

    async fn receive(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        if self.closed.load(Ordering::Acquire) {
            return Err(webrtc_util::Error::ErrAlreadyClosed);
        }
        let mut incoming = self.incoming.lock().await;
        let (source, datagram) = *incoming
            .recv()
            .await
            .ok_or(webrtc_util::Error::ErrAlreadyClosed)?;
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok((n, source))
    }
}

#[async_trait]
impl Conn for IceConn {
    /// ICE chooses the path; connecting elsewhere is refused.
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(webrtc_util::Error::Other(
            "the ICE agent chooses the remote address".into(),
        ))
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.receive(buf).await.map(|(n, _)| n)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        self.receive(buf).await
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        if self.closed.load(Ordering::Acquire) {
            return Err(webrtc_util::Error::ErrAlreadyClosed);
        }
        let (local, remote) = self.selected_pair().ok_or_else(not_connected)?;
        let Some(socket) = self.sockets.get(&local) else {
            // A relay candidate: the driver wraps it for the TURN server.
            self.relayed
                .send(Box::new((local, remote, buf.to_vec())))
                .await
                .map_err(|_| webrtc_util::Error::ErrAlreadyClosed)?;
            self.traffic.sent(local, remote, buf.len());
            return Ok(buf.len());
        };
        let sent = socket.send_to(buf, remote).await?;
        self.traffic.sent(local, remote, sent);
        Ok(sent)
    }

    /// Sends on the selected pair whatever `target` says: ICE, not DTLS, picks the path.
    async fn send_to(&self, buf: &[u8], _target: SocketAddr) -> webrtc_util::Result<usize> {
        self.send(buf).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.selected_pair()
            .map(|(local, _)| local)
            .or_else(|| self.sockets.keys().next().copied())
            .ok_or_else(not_connected)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.selected_pair().map(|(_, remote)| remote)
    }

    /// Closes this DTLS view; the ICE agent keeps running until the driver is closed.
    async fn close(&self) -> webrtc_util::Result<()> {
        self.closed.store(true, Ordering::Release);
        self.incoming.lock().await.close();
        Ok(())
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}
