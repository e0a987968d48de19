//! A lossy UDP relay on loopback, between TURN clients and coturn (the kernel here has no netem):
//! every datagram is forwarded both ways, each client from a socket of its own, except that a
//! seeded fraction of the RTP carried through TURN (ChannelData, Send and Data indications) is
//! dropped. STUN, TURN control, DTLS
//! and RTCP pass, so the connection comes up as usual and the loss falls on the media, where
//! NACK and RTX have to repair it.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running relay; stopped when dropped.
pub(crate) struct LossyRelay {
    /// Where clients send (what their TURN server URL names).
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    forwarded: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Whether a datagram carries RTP (RFC 7983, not RTCP) through TURN: in ChannelData (RFC 8656
/// §12.4, what Chromium uses once it bound a channel) or in the DATA attribute of a Send or
/// Data indication (§11, what Firefox keeps using).
fn carries_rtp(datagram: &[u8]) -> bool {
    let inner = match datagram.first() {
        Some(0x40..=0x4f) => datagram.get(4..),
        Some(0x00 | 0x01) => indication_data(datagram),
        _ => None,
    };
    inner.is_some_and(|inner| {
        matches!(inner.first(), Some(128..=191)) && !matches!(inner.get(1), Some(192..=223))
    })
}

/// The DATA attribute (0x0013) of a STUN Send (0x0016) or Data (0x0017) indication.
fn indication_data(message: &[u8]) -> Option<&[u8]> {
    let kind = u16::from_be_bytes([*message.first()?, *message.get(1)?]);
    if kind != 0x0016 && kind != 0x0017 {
        return None;
    }
    let mut rest = message.get(20..)?;
    while rest.len() >= 4 {
        let attribute = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let value = rest.get(4..4 + len)?;
        if attribute == 0x0013 {
            return Some(value);
        }
        rest = rest.get(4 + len.div_ceil(4) * 4..)?;
    }
    None
}

/// xorshift64*: a seeded, reproducible drop decision.
struct Dice(u64);

impl Dice {
    fn roll(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl LossyRelay {
    /// Relays to `upstream` (coturn), dropping `loss` (0..1) of the RTP both ways.
    pub(crate) fn start(upstream: SocketAddr, loss: f64, seed: u64) -> Self {
        let listen = UdpSocket::bind("127.0.0.1:0").expect("relay socket");
        listen
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let port = listen.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let dice = Arc::new(Mutex::new(Dice(seed | 1)));
        let thread = {
            let (stop, dropped, forwarded) = (stop.clone(), dropped.clone(), forwarded.clone());
            std::thread::spawn(move || {
                let mut clients: HashMap<SocketAddr, UdpSocket> = HashMap::new();
                let mut buffer = vec![0u8; 65_536];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, client)) = listen.recv_from(&mut buffer) else {
                        continue;
                    };
                    let datagram = &buffer[..n];
                    let out = clients.entry(client).or_insert_with(|| {
                        let socket = UdpSocket::bind("127.0.0.1:0").expect("upstream socket");
                        socket.connect(upstream).expect("connect to coturn");
                        socket
                            .set_read_timeout(Some(Duration::from_millis(50)))
                            .expect("timeout");
                        let back = socket.try_clone().expect("clone");
                        let to_client = listen.try_clone().expect("clone");
                        let (stop, dropped, forwarded, dice) = (
                            stop.clone(),
                            dropped.clone(),
                            forwarded.clone(),
                            dice.clone(),
                        );
                        std::thread::spawn(move || {
                            let mut buffer = vec![0u8; 65_536];
                            while !stop.load(Ordering::Relaxed) {
                                let Ok(n) = back.recv(&mut buffer) else {
                                    continue;
                                };
                                let datagram = &buffer[..n];
                                if carries_rtp(datagram) && dice.lock().expect("dice").roll() < loss
                                {
                                    dropped.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                }
                                forwarded.fetch_add(1, Ordering::Relaxed);
                                let _ = to_client.send_to(datagram, client);
                            }
                        });
                        socket
                    });
                    if carries_rtp(datagram) && dice.lock().expect("dice").roll() < loss {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    forwarded.fetch_add(1, Ordering::Relaxed);
                    let _ = out.send(datagram);
                }
            })
        };
        Self {
            port,
            stop,
            dropped,
            forwarded,
            thread: Some(thread),
        }
    }

    /// RTP datagrams dropped so far, and datagrams forwarded.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.dropped.load(Ordering::Relaxed),
            self.forwarded.load(Ordering::Relaxed),
        )
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
