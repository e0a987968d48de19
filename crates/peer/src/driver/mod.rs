//! The tasks that run the sans-IO core on real sockets, and what their handles share.
//!
//! * The peer connection's task ([`crate::connection`]) owns the whole
//!   [`ConnectionCore`](crate::core::ConnectionCore) (ICE agent, DTLS, SCTP) and its UDP
//!   sockets.
//! * [`link::LinkTask`] runs DTLS and SCTP alone over one connected UDP socket, for
//!   [`SctpTransport::connect`](crate::SctpTransport::connect).
//!
//! Both take channel commands from one bounded queue ([`Command`]), so a sender that outruns
//! the network waits instead of queueing without bound, and both hand the data channels to a
//! [`hub::ChannelHub`]. They are the only places that read the clock for the core: received
//! datagrams, timers and commands go in, and they send what the core produced.

pub(crate) mod hub;
pub(crate) mod link;

use std::time::Instant;

use antiphon_dtls::{DtlsConnected, DtlsRole, SrtpKeyingMaterial, SrtpProfile};
use tokio::sync::oneshot;

use crate::data_channel::{DataChannelMessage, RTCDataChannel, RTCDataChannelInit};
use crate::error::Error;

/// Commands queued by one connection's handles before the sender waits.
pub(crate) const COMMAND_QUEUE: usize = 64;

/// What channel handles ask of the task that runs their association.
pub(crate) enum Command {
    /// Open a data channel; the reply is the open channel or why not. Boxed: the queue's
    /// slots are as large as its largest command, and an open is rare.
    Open(Box<OpenRequest>),
    /// Send a message on channel `id`. Boxed, as the open is: the queue's slots are 16 bytes,
    /// not 48 (its first 32 slots are allocated when the connection is made).
    Send {
        id: u16,
        message: Box<DataChannelMessage>,
    },
    /// Close channel `id`.
    CloseChannel { id: u16 },
    /// Close everything and end the task, then say so.
    Close { done: oneshot::Sender<()> },
}

/// What [`Command::Open`] asks for.
pub(crate) struct OpenRequest {
    pub(crate) label: String,
    pub(crate) init: RTCDataChannelInit,
    pub(crate) reply: OpenReply,
}

/// The DTLS association once its handshake finished.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DtlsInfo {
    /// Our side of the handshake.
    pub role: DtlsRole,
    /// The SRTP profile the handshake selected.
    pub profile: SrtpProfile,
    /// The SRTP keying material.
    pub keying_material: SrtpKeyingMaterial,
    /// The peer's DER certificate.
    pub peer_certificate: Vec<u8>,
}

impl DtlsInfo {
    pub(crate) fn new(role: DtlsRole, connected: DtlsConnected) -> Self {
        Self {
            role,
            profile: connected.profile,
            keying_material: connected.keying_material,
            peer_certificate: connected.peer_certificate,
        }
    }
}

/// Where the open channel (or why it did not open) goes.
pub(crate) type OpenReply = oneshot::Sender<Result<RTCDataChannel, Error>>;

/// Sleeps until `deadline` (never, for `None`; the branch is disabled then).
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
