//! `RTCSctpTransport`: the SCTP association over the DTLS connection (RFC 8831, RFC 8841) and
//! the data channels on it, as a handle to the task that runs them ([`crate::driver`]).

use std::sync::Arc;

use antiphon_dtls::{DtlsConfig, DtlsParameters};
use antiphon_sdp::{MediaDescription, SessionDescription};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use crate::data_channel::{RTCDataChannel, RTCDataChannelInit, WeakDataChannel};
use crate::driver::link::LinkTask;
use crate::driver::{Command, OpenRequest};
use crate::error::{Error, InvalidStateReason, OperationReason};

/// The SCTP side of a connection, as the descriptions negotiated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SctpParameters {
    /// Our `a=sctp-port`.
    pub local_port: u16,
    /// The remote `a=sctp-port`.
    pub remote_port: u16,
    /// Our `a=max-message-size` (what we accept).
    pub local_max_message_size: u64,
    /// The remote `a=max-message-size` (what we may send; 0 = no limit, absent = 64 KiB per
    /// RFC 8841 §6).
    pub remote_max_message_size: u64,
}

impl SctpParameters {
    /// The parameters our applied `local` and `remote` descriptions negotiated, if both kept a
    /// data section. Ports come from `a=sctp-port` (RFC 8841), else the legacy `a=sctpmap`,
    /// else the legacy `DTLS/SCTP <port>` fmt, else 5000; an absent `a=max-message-size` is
    /// 64 KiB (RFC 8841 §6).
    pub fn negotiated(local: &SessionDescription, remote: &SessionDescription) -> Option<Self> {
        let position = Self::data_section(remote)?;
        let (ours, theirs) = (local.media.get(position)?, remote.media.get(position)?);
        if ours.port == 0 && !crate::transport::is_bundled(local, position) {
            return None;
        }
        Some(Self {
            local_port: sctp_port(ours),
            remote_port: sctp_port(theirs),
            local_max_message_size: ours.max_message_size().unwrap_or(65_536),
            remote_max_message_size: theirs.max_message_size().unwrap_or(65_536),
        })
    }
}

impl SctpParameters {
    /// The index of the data (SCTP) section `remote` keeps, if any.
    pub(crate) fn data_section(remote: &SessionDescription) -> Option<usize> {
        remote
            .media
            .iter()
            .position(|m| m.proto.contains("SCTP") && m.port != 0)
    }
}

fn sctp_port(section: &MediaDescription) -> u16 {
    section
        .sctp_port()
        .or_else(|| section.sctpmap().map(|map| map.port))
        .or_else(|| section.formats.first().and_then(|f| f.parse().ok()))
        .unwrap_or(5000)
}

/// An established SCTP association and its data channels.
pub struct SctpTransport {
    commands: mpsc::Sender<Command>,
    parameters: SctpParameters,
    /// Channels the remote opened, not yet taken by [`accept`](Self::accept).
    remote_channels: Mutex<mpsc::UnboundedReceiver<RTCDataChannel>>,
    /// Every channel opened on the association, held weakly, for getStats.
    channels: std::sync::Mutex<Vec<WeakDataChannel>>,
    /// How many channels opened (`dataChannelsOpened`).
    opened: std::sync::atomic::AtomicU32,
}

impl std::fmt::Debug for SctpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpTransport")
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl SctpTransport {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        parameters: SctpParameters,
        remote_channels: mpsc::UnboundedReceiver<RTCDataChannel>,
    ) -> Self {
        Self {
            commands,
            parameters,
            remote_channels: Mutex::new(remote_channels),
            channels: std::sync::Mutex::new(Vec::new()),
            opened: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Runs DTLS (as `dtls.role`, the peer pinned to `dtls.remote_fingerprints`) and then SCTP
    /// over `socket`, a UDP socket connected to the peer, on a task of its own; the transport
    /// once SCTP is up. For data channels without ICE or signaling (a fixed path between two
    /// known addresses); [`crate::RTCPeerConnection`] runs the same core under ICE.
    pub async fn connect(
        socket: tokio::net::UdpSocket,
        config: DtlsConfig,
        dtls: DtlsParameters,
        parameters: SctpParameters,
    ) -> Result<Arc<Self>, Error> {
        let (sctp_slot, mut sctp) = watch::channel(None);
        let (failed_tx, failed) = oneshot::channel();
        let task = LinkTask::new(socket, config, dtls, parameters, sctp_slot, failed_tx)?;
        tokio::spawn(Box::new(task).run());
        let mut failed = std::pin::pin!(failed);
        loop {
            if let Some(transport) = sctp.borrow_and_update().clone() {
                return Ok(transport);
            }
            tokio::select! {
                changed = sctp.changed() => if changed.is_err() {
                    return Err(Error::InvalidState(InvalidStateReason::Closed));
                },
                error = &mut failed => return Err(error.unwrap_or(Error::InvalidState(InvalidStateReason::Closed))),
            }
        }
    }

    /// The negotiated parameters.
    pub fn parameters(&self) -> SctpParameters {
        self.parameters
    }

    /// `createDataChannel(label, init)` on the open association: DCEP unless negotiated.
    pub async fn open(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> Result<RTCDataChannel, Error> {
        init.check()?;
        let (reply, opened) = oneshot::channel();
        let command = Command::Open(Box::new(OpenRequest {
            label: label.to_owned(),
            init,
            reply,
        }));
        let closed = || Error::InvalidState(InvalidStateReason::Closed);
        self.commands.send(command).await.map_err(|_| closed())?;
        opened.await.map_err(|_| closed())?
    }

    /// Records an open channel for getStats (the task running it does, for every channel);
    /// forgets channels nobody holds any more.
    pub(crate) fn register(&self, channel: &RTCDataChannel) {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels.retain(|c| c.upgrade().is_some());
        channels.push(channel.downgrade());
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The channels still held somewhere, and how many were ever opened.
    pub(crate) fn channels(&self) -> (Vec<RTCDataChannel>, u32) {
        let channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (
            channels
                .iter()
                .filter_map(WeakDataChannel::upgrade)
                .collect(),
            self.opened.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// The next data channel the remote opens on an association made by
    /// [`connect`](Self::connect), or `None` once it is closed. A peer connection's association
    /// delivers its remote channels only as the connection's `datachannel` event
    /// ([`PeerConnectionEvents::next_data_channel`](crate::PeerConnectionEvents::next_data_channel)),
    /// and this returns `None` for it.
    pub async fn accept(&self) -> Option<RTCDataChannel> {
        self.remote_channels.lock().await.recv().await
    }

    /// Closes the association (SCTP SHUTDOWN, then DTLS close_notify) and ends the task.
    pub async fn close(&self) -> Result<(), Error> {
        let (done, closed) = oneshot::channel();
        if self.commands.send(Command::Close { done }).await.is_ok() {
            let _ = closed.await;
        }
        Ok(())
    }
}

/// Maps a channel-layer refusal to the W3C error.
pub(crate) fn channel_error(error: crate::core::ChannelError) -> Error {
    use crate::core::ChannelError;
    match error {
        ChannelError::InvalidReliability => {
            Error::Type(crate::error::TypeErrorReason::InvalidReliability)
        }
        ChannelError::Closed | ChannelError::UnknownChannel(_) => {
            Error::InvalidState(InvalidStateReason::Closed)
        }
        other => Error::Operation(OperationReason::DataChannel(other)),
    }
}
