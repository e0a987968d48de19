//! A filter in front of the `dtls` crate for records it cannot parse safely.
//!
//! `dtls` 0.17.2 panics (index out of bounds) when a ClientHello or ServerHello carries an
//! extension list whose last entry is shorter than the 4-byte extension header:
//! `handshake_message_client_hello.rs:181` and `handshake_message_server_hello.rs:137` read
//! `extension_buffer[offset + 2]` and `[offset + 3]` without a length check. The panic happens
//! in the task `DTLSConn` spawns to read the `Conn`, so one datagram from anyone who can reach
//! the handshake kills that task: the handshake then hangs until its timeout (or the process
//! aborts under `panic = "abort"`). Found by the `dtls_records` fuzz target.
//!
//! [`GuardedConn`] wraps the `Conn` the handshake runs over and drops every datagram holding an
//! unencrypted hello that `dtls` would mis-parse, or a fragmented one (hellos fit one record;
//! reassembled fragments would bypass the check). Everything else passes unchanged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use webrtc_util::Conn;

const RECORD_HEADER: usize = 13;
const HANDSHAKE_HEADER: usize = 12;
const CONTENT_HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const SERVER_KEY_EXCHANGE: u8 = 12;

/// False when `datagram` holds an epoch-0 ClientHello or ServerHello that is fragmented or
/// whose extension list `dtls` 0.17 would index out of bounds, or a ServerKeyExchange shorter
/// than 2 bytes. Records `dtls` rejects on
/// its own (short headers, lengths past the end) are left to it.
pub fn hellos_are_safe(datagram: &[u8]) -> bool {
    let mut rest = datagram;
    while rest.len() > RECORD_HEADER {
        let content_type = rest[0];
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let length = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let Some(body) = rest.get(RECORD_HEADER..RECORD_HEADER + length) else {
            return true;
        };
        if content_type == CONTENT_HANDSHAKE && epoch == 0 && !handshake_record_is_safe(body) {
            return false;
        }
        rest = &rest[RECORD_HEADER + length..];
    }
    true
}

/// The handshake messages of one record (a record may hold several).
fn handshake_record_is_safe(mut body: &[u8]) -> bool {
    while body.len() >= HANDSHAKE_HEADER {
        let msg_type = body[0];
        let length = u24(&body[1..4]);
        let fragment_offset = u24(&body[6..9]);
        let fragment_length = u24(&body[9..12]);
        let Some(fragment) = body.get(HANDSHAKE_HEADER..HANDSHAKE_HEADER + fragment_length) else {
            return true;
        };
        // dtls reads `data[0]` and `data[1]` of a ServerKeyExchange before any length check.
        // The declared length is in every fragment's header, so fragments are covered too.
        if msg_type == SERVER_KEY_EXCHANGE && length < 2 {
            return false;
        }
        if msg_type == CLIENT_HELLO || msg_type == SERVER_HELLO {
            if fragment_offset != 0 || fragment_length != length {
                return false;
            }
            let extensions = if msg_type == CLIENT_HELLO {
                client_hello_extensions(fragment)
            } else {
                server_hello_extensions(fragment)
            };
            if let Some(extensions) = extensions
                && !extension_list_is_safe(extensions)
            {
                return false;
            }
        }
        body = &body[HANDSHAKE_HEADER + fragment_length..];
    }
    true
}

fn u24(bytes: &[u8]) -> usize {
    (usize::from(bytes[0]) << 16) | (usize::from(bytes[1]) << 8) | usize::from(bytes[2])
}

/// A cursor reading the fields the way `dtls` does; `None` once short (dtls errors there).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
}

/// The extension block of a ClientHello as `dtls` 0.17 reads it (it reads the session id
/// length byte and no session id).
fn client_hello_extensions(message: &[u8]) -> Option<&[u8]> {
    let mut r = Reader(message);
    r.take(2 + 32)?; // version, random
    r.u8()?; // session id length (dtls skips no session id bytes)
    let cookie = r.u8()?;
    r.take(cookie)?;
    let suites = r.u16()? / 2;
    r.take(suites * 2)?;
    let compression = r.u8()?;
    r.take(compression)?;
    let extensions = r.u16()?;
    r.take(extensions)
}

/// The extension block of a ServerHello as `dtls` 0.17 reads it.
fn server_hello_extensions(message: &[u8]) -> Option<&[u8]> {
    let mut r = Reader(message);
    r.take(2 + 32)?; // version, random
    let session_id = r.u8()?;
    r.take(session_id)?;
    r.take(2 + 1)?; // cipher suite, compression method
    let extensions = r.u16()?;
    r.take(extensions)
}

/// Every extension in the list has its full 4-byte header (type, length) before the end.
fn extension_list_is_safe(list: &[u8]) -> bool {
    let mut offset = 0;
    while offset < list.len() {
        if list.len() - offset < 4 {
            return false;
        }
        let length = usize::from(u16::from_be_bytes([list[offset + 2], list[offset + 3]]));
        offset += 4 + length;
    }
    true
}

/// A `Conn` that drops incoming datagrams failing [`hellos_are_safe`] and counts them.
pub struct GuardedConn {
    inner: Arc<dyn Conn + Send + Sync>,
    dropped: AtomicU64,
}

impl GuardedConn {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Conn + Send + Sync>) -> Self {
        Self {
            inner,
            dropped: AtomicU64::new(0),
        }
    }

    /// Datagrams dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for GuardedConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedConn")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Conn for GuardedConn {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        loop {
            let n = self.inner.recv(buf).await?;
            if hellos_are_safe(buf.get(..n).unwrap_or(buf)) {
                return Ok(n);
            }
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            if hellos_are_safe(buf.get(..n).unwrap_or(buf)) {
                return Ok((n, from));
            }
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}
