//! Payload counters per candidate pair: what `getStats` reports as a pair's and a transport's
//! `packetsSent`, `bytesSent`, `packetsReceived` and `bytesReceived` (DTLS records and media,
//! not ICE checks, which the agent counts itself). Kept by whoever moves the payload: the
//! driver and [`crate::IceConn`], or a task that runs the agent itself (antiphon-peer's).

use std::net::SocketAddr;

/// The payload one candidate pair carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PairTraffic {
    /// The local base address.
    pub local: SocketAddr,
    /// The remote address.
    pub remote: SocketAddr,
    /// Datagrams sent (`packetsSent`).
    pub packets_sent: u64,
    /// Bytes sent (`bytesSent`).
    pub bytes_sent: u64,
    /// Datagrams received (`packetsReceived`).
    pub packets_received: u64,
    /// Bytes received (`bytesReceived`).
    pub bytes_received: u64,
}

/// The counters of every pair that carried payload (a handful at most).
#[derive(Debug, Default, Clone)]
pub struct TrafficCounters {
    pairs: Vec<PairTraffic>,
}

impl TrafficCounters {
    fn pair(&mut self, local: SocketAddr, remote: SocketAddr) -> &mut PairTraffic {
        let index = match self
            .pairs
            .iter()
            .position(|p| p.local == local && p.remote == remote)
        {
            Some(index) => index,
            None => {
                self.pairs.push(PairTraffic {
                    local,
                    remote,
                    packets_sent: 0,
                    bytes_sent: 0,
                    packets_received: 0,
                    bytes_received: 0,
                });
                self.pairs.len() - 1
            }
        };
        &mut self.pairs[index]
    }

    /// A datagram of `bytes` sent from `local` to `remote`.
    pub fn sent(&mut self, local: SocketAddr, remote: SocketAddr, bytes: usize) {
        let pair = self.pair(local, remote);
        pair.packets_sent += 1;
        pair.bytes_sent += bytes as u64;
    }

    /// A datagram of `bytes` received on `local` from `remote`.
    pub fn received(&mut self, local: SocketAddr, remote: SocketAddr, bytes: usize) {
        let pair = self.pair(local, remote);
        pair.packets_received += 1;
        pair.bytes_received += bytes as u64;
    }

    /// Every pair's counters.
    pub fn pairs(&self) -> &[PairTraffic] {
        &self.pairs
    }
}
