//! `RTCSctpTransport`: the SCTP association over the DTLS connection (RFC 8831, RFC 8841) and
//! the data channels on it.

use std::sync::Arc;

use antiphon_dtls::DtlsRole;
use antiphon_sdp::{MediaDescription, SessionDescription};
use tokio::sync::Mutex;
use webrtc_data::data_channel::{Config as ChannelConfig, DataChannel};
use webrtc_sctp::association::{Association, Config as AssociationConfig};
use webrtc_sctp::chunk::chunk_payload_data::PayloadProtocolIdentifier;
use webrtc_util::Conn;

use crate::data_channel::{RTCDataChannel, RTCDataChannelInit, WeakDataChannel};
use crate::error::{Error, OperationReason, TypeErrorReason};

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
        let position = remote
            .media
            .iter()
            .position(|m| m.proto.contains("SCTP") && m.port != 0)?;
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

fn sctp_port(section: &MediaDescription) -> u16 {
    section
        .sctp_port()
        .or_else(|| section.sctpmap().map(|map| map.port))
        .or_else(|| section.formats.first().and_then(|f| f.parse().ok()))
        .unwrap_or(5000)
}

/// An established SCTP association and its data channels.
pub struct SctpTransport {
    association: Arc<Association>,
    role: DtlsRole,
    parameters: SctpParameters,
    next_stream: Mutex<u16>,
    /// Stream ids of the negotiated channels we opened: data on them is not a new channel.
    negotiated: Mutex<Vec<u16>>,
    /// Every channel opened on the association, held weakly, for getStats.
    channels: std::sync::Mutex<Vec<WeakDataChannel>>,
    /// How many channels opened (`dataChannelsOpened`).
    opened: std::sync::atomic::AtomicU32,
}

impl std::fmt::Debug for SctpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpTransport")
            .field("role", &self.role)
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl SctpTransport {
    /// Runs the SCTP handshake on `conn` (the DTLS connection). Both ends send INIT, as
    /// browsers do; SCTP resolves the collision.
    pub async fn start(
        conn: Arc<dyn Conn + Send + Sync>,
        role: DtlsRole,
        parameters: SctpParameters,
    ) -> Result<Self, Error> {
        let config = AssociationConfig {
            net_conn: conn,
            max_receive_buffer_size: 0,
            // webrtc-sctp's max_message_size bounds what we *send*: the remote's limit (0 there
            // means none). What we accept is bounded by each channel's read buffer.
            max_message_size: match parameters.remote_max_message_size {
                0 => u32::MAX,
                limit => u32::try_from(limit).unwrap_or(u32::MAX),
            },
            mtu: 0,
            name: "antiphon".to_owned(),
            remote_port: parameters.remote_port,
            local_port: parameters.local_port,
        };
        let association = Association::client(config)
            .await
            .map_err(|e| Error::Operation(OperationReason::Sctp(e)))?;
        // RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones.
        let first = match role {
            DtlsRole::Client => 0,
            DtlsRole::Server => 1,
        };
        Ok(Self {
            association: Arc::new(association),
            role,
            parameters,
            next_stream: Mutex::new(first),
            negotiated: Mutex::new(Vec::new()),
            channels: std::sync::Mutex::new(Vec::new()),
            opened: std::sync::atomic::AtomicU32::new(0),
        })
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
        let (channel_type, reliability_parameter) = init.channel_type()?;
        let id = match (init.negotiated, init.id) {
            (true, None) => return Err(Error::Type(TypeErrorReason::NegotiatedWithoutId)),
            (_, Some(id)) => id,
            (false, None) => {
                let mut next = self.next_stream.lock().await;
                let id = *next;
                *next = next.wrapping_add(2);
                id
            }
        };
        let config = ChannelConfig {
            channel_type,
            negotiated: init.negotiated,
            priority: 0,
            reliability_parameter,
            label: label.to_owned(),
            protocol: init.protocol.clone(),
            max_message_size: 0,
        };
        let channel = DataChannel::dial(&self.association, id, config)
            .await
            .map_err(|e| Error::Operation(OperationReason::DataChannel(e)))?;
        if init.negotiated {
            self.negotiated.lock().await.push(id);
        }
        let init = RTCDataChannelInit {
            id: Some(id),
            ..init
        };
        Ok(self.register(RTCDataChannel::new(
            channel,
            label.to_owned(),
            init,
            self.parameters.local_max_message_size,
            self.parameters.remote_max_message_size,
        )))
    }

    /// Records an open channel for getStats; forgets channels nobody holds any more.
    fn register(&self, channel: RTCDataChannel) -> RTCDataChannel {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels.retain(|c| c.upgrade().is_some());
        channels.push(channel.downgrade());
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        channel
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

    /// The next data channel the remote opens (`ondatachannel`), or `None` once the association
    /// is closed.
    ///
    /// This is `webrtc-data`'s `DataChannel::accept` in two steps: the wait for a stream, which
    /// lasts as long as the connection, is a small future; the DCEP open that follows is boxed.
    /// (`DataChannel::accept` as one future is ~1.3 KiB, held for the connection's life.)
    pub async fn accept(&self) -> Option<RTCDataChannel> {
        loop {
            let stream = self.association.accept_stream().await?;
            stream.set_default_payload_type(PayloadProtocolIdentifier::Binary);
            let id = stream.stream_identifier();
            if self.negotiated.lock().await.contains(&id) {
                // Data on a negotiated channel we already hold: not a new channel.
                continue;
            }
            match Box::pin(DataChannel::server(stream, ChannelConfig::default())).await {
                Ok(channel) => {
                    let init = RTCDataChannelInit::from_channel_type(&channel.config, id);
                    let label = channel.config.label.clone();
                    return Some(self.register(RTCDataChannel::new(
                        channel,
                        label,
                        init,
                        self.parameters.local_max_message_size,
                        self.parameters.remote_max_message_size,
                    )));
                }
                // A stream whose first message is not a DCEP open: skip it.
                Err(_) => continue,
            }
        }
    }

    /// Closes the association.
    pub async fn close(&self) -> Result<(), Error> {
        self.association
            .close()
            .await
            .map_err(|e| Error::Operation(OperationReason::Sctp(e)))
    }
}
