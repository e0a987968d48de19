//! [`TurnStreams`]: the TCP and TLS connections to TURN servers (`turn:...?transport=tcp`,
//! `turns:`) of one task that runs ICE agents itself. Each stream gets its local address as soon
//! as it is made (before it connects), so an agent can name it
//! ([`crate::IceAgent::add_relay`]); a small task per stream connects, does the TLS handshake
//! (the server's certificate verified against [`TurnTls`]' roots and the URL's host), writes
//! the agent's messages and cuts what it reads into messages with [`StreamFramer`].

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;

use crate::agent::Transmit;
use crate::turn::StreamFramer;

/// How long connecting (and the TLS handshake) may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);
/// Messages waiting to be written per stream; more are dropped (ICE and TURN retry).
const OUTBOUND_QUEUE: usize = 256;
/// Messages read from every stream, waiting for the task.
const INBOUND_QUEUE: usize = 256;

/// Why the TLS settings could not be made.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum TurnTlsError {
    /// The extra root certificates are not PEM certificates.
    Roots(String),
    /// Neither the platform nor the configuration gave any root certificate.
    NoRoots,
    /// rustls refused the configuration.
    Config(rustls::Error),
}

impl std::fmt::Display for TurnTlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TurnTlsError::Roots(why) => write!(f, "the TURN CA certificates do not load: {why}"),
            TurnTlsError::NoRoots => f.write_str(
                "no root certificate to verify a TURN server with (none on the platform, none given)",
            ),
            TurnTlsError::Config(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TurnTlsError {}

/// What verifies a `turns:` server: the platform's roots (read as `rustls-native-certs` does,
/// so `SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured) plus any given roots.
#[derive(Debug, Clone)]
pub struct TurnTls {
    config: Arc<rustls::ClientConfig>,
}

impl TurnTls {
    /// The platform's roots, plus the certificates of `extra_roots_pem` (PEM) if given.
    pub fn new(extra_roots_pem: Option<&[u8]>) -> Result<Self, TurnTlsError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        if let Some(pem) = extra_roots_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| TurnTlsError::Roots(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| TurnTlsError::Roots(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(TurnTlsError::Roots("no certificate in the PEM text".into()));
            }
        }
        if roots.is_empty() {
            return Err(TurnTlsError::NoRoots);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TurnTlsError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

/// What a stream delivers to the task.
#[derive(Debug)]
pub enum StreamInput {
    /// One message from the server (STUN or ChannelData, without stream padding).
    Message {
        /// The stream's local address (the relay's `local`).
        local: SocketAddr,
        /// The server.
        server: SocketAddr,
        /// The message.
        contents: Vec<u8>,
    },
    /// The stream could not connect, failed the TLS handshake, or closed.
    Closed {
        /// The stream's local address.
        local: SocketAddr,
        /// Why, for the relay's error.
        reason: String,
    },
}

/// The streams of one task. Dropping it lets each stream write what it was given and close.
#[derive(Debug)]
pub struct TurnStreams {
    outbound: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inbound_tx: mpsc::Sender<StreamInput>,
    inbound: mpsc::Receiver<StreamInput>,
}

impl Default for TurnStreams {
    fn default() -> Self {
        let (inbound_tx, inbound) = mpsc::channel(INBOUND_QUEUE);
        Self {
            outbound: HashMap::new(),
            inbound_tx,
            inbound,
        }
    }
}

impl TurnStreams {
    /// No streams yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens a stream to `server` (inside a tokio runtime), over TLS when `tls` names the
    /// settings and the host the certificate must be for (a name, or an IP address). Returns
    /// the stream's local address at once; connecting goes on in the background, and a
    /// failure comes back as [`StreamInput::Closed`].
    pub fn connect(
        &mut self,
        server: SocketAddr,
        tls: Option<(&TurnTls, &str)>,
    ) -> io::Result<SocketAddr> {
        let socket = if server.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // Bound now, so the local address is known before the connection is made.
        let ip = if server.ip().is_loopback() {
            server.ip()
        } else if server.is_ipv4() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        socket.bind(SocketAddr::new(ip, 0))?;
        let local = socket.local_addr()?;
        let tls = match tls {
            Some((settings, host)) => {
                let name = ServerName::try_from(host.to_owned())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                Some((Arc::clone(&settings.config), name))
            }
            None => None,
        };
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        self.outbound.insert(local, tx);
        let inbound = self.inbound_tx.clone();
        tokio::spawn(async move {
            let result = run_stream(socket, server, local, tls, rx, inbound.clone()).await;
            let reason = match result {
                Ok(()) => "closed".to_owned(),
                Err(e) => e.to_string(),
            };
            let _ = inbound.send(StreamInput::Closed { local, reason }).await;
        });
        Ok(local)
    }

    /// Whether `local` is one of these streams.
    pub fn owns(&self, local: SocketAddr) -> bool {
        self.outbound.contains_key(&local)
    }

    /// Queues `transmit` on the stream its source names; `false` if that is none of ours. A
    /// full queue drops it (the sender retries, as over UDP).
    pub fn send(&self, transmit: &Transmit) -> bool {
        let Some(stream) = self.outbound.get(&transmit.source) else {
            return false;
        };
        if stream.try_send(transmit.contents.clone()).is_err() {
            tracing::debug!(local = %transmit.source, "TURN stream queue full or closed: dropped");
        }
        true
    }

    /// Closes the stream from `local` once it wrote what it was given.
    pub fn close(&mut self, local: SocketAddr) {
        self.outbound.remove(&local);
    }

    /// The next message or closure from any stream.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<StreamInput> {
        if self.outbound.is_empty() && self.inbound.is_empty() {
            return Poll::Pending;
        }
        match self.inbound.poll_recv(cx) {
            Poll::Ready(Some(input)) => Poll::Ready(input),
            // The sender half lives in `self`: never `None`.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

async fn run_stream(
    socket: TcpSocket,
    server: SocketAddr,
    local: SocketAddr,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    outbound: mpsc::Receiver<Vec<u8>>,
    inbound: mpsc::Sender<StreamInput>,
) -> io::Result<()> {
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "connecting timed out");
    let stream = tokio::time::timeout(CONNECT_LIMIT, socket.connect(server))
        .await
        .map_err(|_| timed_out())??;
    stream.set_nodelay(true)?;
    match tls {
        None => pump(stream, server, local, outbound, inbound).await,
        Some((config, name)) => {
            let connector = tokio_rustls::TlsConnector::from(config);
            let stream = tokio::time::timeout(CONNECT_LIMIT, connector.connect(name, stream))
                .await
                .map_err(|_| timed_out())??;
            pump(stream, server, local, outbound, inbound).await
        }
    }
}

async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    server: SocketAddr,
    local: SocketAddr,
    mut outbound: mpsc::Receiver<Vec<u8>>,
    inbound: mpsc::Sender<StreamInput>,
) -> io::Result<()> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut framer = StreamFramer::new();
    let mut buffer = vec![0u8; 4096];
    loop {
        tokio::select! {
            message = outbound.recv() => match message {
                Some(bytes) => writer.write_all(&bytes).await?,
                None => {
                    let _ = writer.shutdown().await;
                    return Ok(());
                }
            },
            read = reader.read(&mut buffer) => {
                let n = read?;
                if n == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the stream"));
                }
                framer.push(&buffer[..n]);
                while let Some(contents) = framer
                    .next_message()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                {
                    let input = StreamInput::Message { local, server, contents };
                    if inbound.send(input).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
