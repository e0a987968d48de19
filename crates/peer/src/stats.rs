//! `getStats()`: the W3C webrtc-stats reports of a connection (`peer-connection`, `transport`,
//! `candidate-pair`, `local-candidate`, `remote-candidate`, `certificate`, `data-channel`),
//! with the names and JSON shape browsers use (`serde_json::to_string` of a report gives
//! what `JSON.stringify([...report.values()])` gives in a browser, for these fields).
//!
//! The report is assembled from snapshots the connection hands in ([`StatsInput`]), so it is a
//! pure function of them, testable without sockets.

use std::net::SocketAddr;

use antiphon_dtls::{Certificate, CertificateFingerprint, DtlsRole, Fingerprint, HashAlgorithm};
use antiphon_ice::{Candidate, IceConnectionState, IceRole, PairState};
use base64::Engine as _;

use crate::data_channel::{RTCDataChannel, RTCDataChannelState};

/// The result of `getStats()`: every report, by id.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct RTCStatsReport {
    stats: Vec<RTCStats>,
}

impl RTCStatsReport {
    /// Every report, in a stable order (peer connection, transport, pairs, candidates,
    /// certificates, data channels).
    pub fn iter(&self) -> impl Iterator<Item = &RTCStats> {
        self.stats.iter()
    }

    /// The report with this id.
    pub fn get(&self, id: &str) -> Option<&RTCStats> {
        self.stats.iter().find(|s| s.id() == id)
    }

    /// The first `transport` report (the only one when everything is bundled).
    pub fn transport(&self) -> Option<&RTCTransportStats> {
        self.transports().next()
    }

    /// Every `transport` report: one per ICE + DTLS transport (one per BUNDLE group, one per
    /// section outside every group), `T01`, `T02`, ... in section order.
    pub fn transports(&self) -> impl Iterator<Item = &RTCTransportStats> {
        self.stats.iter().filter_map(|s| match s {
            RTCStats::Transport(t) => Some(t),
            _ => None,
        })
    }

    /// The selected candidate pair's report, if ICE has selected one.
    pub fn selected_candidate_pair(&self) -> Option<&RTCIceCandidatePairStats> {
        let id = self.transport()?.selected_candidate_pair_id.as_deref()?;
        match self.get(id)? {
            RTCStats::CandidatePair(pair) => Some(pair),
            _ => None,
        }
    }
}

/// One report; serialized with its W3C `type` (`"candidate-pair"`, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RTCStats {
    /// `RTCPeerConnectionStats`.
    PeerConnection(RTCPeerConnectionStats),
    /// `RTCTransportStats`.
    Transport(RTCTransportStats),
    /// `RTCIceCandidatePairStats`.
    CandidatePair(RTCIceCandidatePairStats),
    /// `RTCIceCandidateStats` of one of our candidates.
    LocalCandidate(RTCIceCandidateStats),
    /// `RTCIceCandidateStats` of one of the peer's.
    RemoteCandidate(RTCIceCandidateStats),
    /// `RTCCertificateStats`.
    Certificate(RTCCertificateStats),
    /// `RTCDataChannelStats`.
    DataChannel(RTCDataChannelStats),
    /// `RTCInboundRtpStreamStats`: an RTP stream we receive.
    InboundRtp(RTCInboundRtpStreamStats),
    /// `RTCOutboundRtpStreamStats`: an RTP stream we send.
    OutboundRtp(RTCOutboundRtpStreamStats),
    /// `RTCRemoteInboundRtpStreamStats`: how the peer receives one of ours (its reports).
    RemoteInboundRtp(RTCRemoteInboundRtpStreamStats),
    /// `RTCCodecStats`: a codec an RTP stream uses.
    Codec(RTCCodecStats),
}

impl RTCStats {
    /// The report's id.
    pub fn id(&self) -> &str {
        match self {
            Self::PeerConnection(s) => &s.id,
            Self::Transport(s) => &s.id,
            Self::CandidatePair(s) => &s.id,
            Self::LocalCandidate(s) | Self::RemoteCandidate(s) => &s.id,
            Self::Certificate(s) => &s.id,
            Self::DataChannel(s) => &s.id,
            Self::InboundRtp(s) => &s.id,
            Self::OutboundRtp(s) => &s.id,
            Self::RemoteInboundRtp(s) => &s.id,
            Self::Codec(s) => &s.id,
        }
    }
}

/// `RTCPeerConnectionStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCPeerConnectionStats {
    /// `"P"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// Data channels that reached `open`.
    pub data_channels_opened: u32,
    /// Data channels that left `open`.
    pub data_channels_closed: u32,
}

/// `RTCTransportStats`: the ICE + DTLS transport.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCTransportStats {
    /// `"T01"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// Payload datagrams sent.
    pub packets_sent: u64,
    /// Payload datagrams received.
    pub packets_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// `"controlling"` or `"controlled"`.
    pub ice_role: &'static str,
    /// Our ICE ufrag.
    pub ice_local_username_fragment: String,
    /// `RTCIceTransportState`.
    pub ice_state: &'static str,
    /// `RTCDtlsTransportState`: `new`, `connecting`, `connected`, `closed`, `failed`.
    pub dtls_state: &'static str,
    /// `"client"` or `"server"` once the handshake is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtls_role: Option<&'static str>,
    /// The selected pair's report id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_candidate_pair_id: Option<String>,
    /// Our certificate's report id.
    pub local_certificate_id: String,
    /// The peer's certificate's report id, once the handshake is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_certificate_id: Option<String>,
}

/// `RTCIceCandidatePairStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCIceCandidatePairStats {
    /// `"CP<local>_<remote>"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The transport's report id.
    pub transport_id: String,
    /// Our candidate's report id.
    pub local_candidate_id: String,
    /// The peer's candidate's report id.
    pub remote_candidate_id: String,
    /// `frozen`, `waiting`, `in-progress`, `succeeded`, `failed`.
    pub state: &'static str,
    /// Nominated by either side.
    pub nominated: bool,
    /// Payload datagrams sent on the pair.
    pub packets_sent: u64,
    /// Payload datagrams received on the pair.
    pub packets_received: u64,
    /// Payload bytes sent on the pair.
    pub bytes_sent: u64,
    /// Payload bytes received on the pair.
    pub bytes_received: u64,
    /// Seconds, summed over the round trips measured.
    pub total_round_trip_time: f64,
    /// Seconds, the latest round trip measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_round_trip_time: Option<f64>,
    /// Checks received.
    pub requests_received: u64,
    /// Checks sent.
    pub requests_sent: u64,
    /// Responses received.
    pub responses_received: u64,
    /// Responses sent.
    pub responses_sent: u64,
    /// Consent freshness requests sent.
    pub consent_requests_sent: u64,
}

/// `RTCIceCandidateStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCIceCandidateStats {
    /// `"IL<address>"` for ours, `"IR<address>"` for the peer's.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The transport's report id.
    pub transport_id: String,
    /// The IP address (or host name).
    pub address: String,
    /// The port.
    pub port: u16,
    /// `"udp"`.
    pub protocol: &'static str,
    /// `host`, `srflx`, `prflx`, `relay`.
    pub candidate_type: String,
    /// The priority.
    pub priority: u32,
    /// The foundation.
    pub foundation: String,
    /// `raddr`, for server-reflexive and relayed candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_address: Option<String>,
    /// `rport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_port: Option<u16>,
    /// `relayProtocol` of our relay candidates: how we reach the TURN server (`udp`, `tcp`,
    /// `tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_protocol: Option<&'static str>,
}

/// `RTCCertificateStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCCertificateStats {
    /// `"CF<fingerprint>"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The SHA-256 fingerprint, colon-separated upper-case hex.
    pub fingerprint: String,
    /// `"sha-256"`.
    pub fingerprint_algorithm: &'static str,
    /// The DER certificate in base64.
    pub base64_certificate: String,
}

/// `RTCDataChannelStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCDataChannelStats {
    /// `"D<stream id>"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The label.
    pub label: String,
    /// The subprotocol.
    pub protocol: String,
    /// The SCTP stream id.
    pub data_channel_identifier: u16,
    /// `RTCDataChannelState`.
    pub state: &'static str,
    /// Messages sent.
    pub messages_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// `RTCInboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCInboundRtpStreamStats {
    /// `"IT<transport><A|V><ssrc>"`, as Chromium names them.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// `"audio"` or `"video"`.
    pub kind: &'static str,
    /// The `transport` report of the transport it comes on.
    pub transport_id: String,
    /// The mid of its m= section, once routed.
    pub mid: Option<String>,
    /// The simulcast layer's rid, when the stream named one.
    pub rid: Option<String>,
    /// Packets received.
    pub packets_received: u64,
    /// Packets lost (expected minus received; negative with duplicates).
    pub packets_lost: i64,
    /// Interarrival jitter in seconds.
    pub jitter: f64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Header bytes received.
    pub header_bytes_received: u64,
    /// When the last packet came, in milliseconds since the Unix epoch.
    pub last_packet_received_timestamp: f64,
    /// The `codec` report of its last packet's payload type, when the section maps it.
    pub codec_id: Option<String>,
}

/// `RTCOutboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCOutboundRtpStreamStats {
    /// `"OT<transport><A|V><ssrc>"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// `"audio"` or `"video"`.
    pub kind: &'static str,
    /// The `transport` report of the transport it goes on.
    pub transport_id: String,
    /// The mid of its m= section.
    pub mid: Option<String>,
    /// Packets sent (retransmissions not included).
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Header bytes sent.
    pub header_bytes_sent: u64,
    /// Packets sent again for the peer's NACKs.
    pub retransmitted_packets_sent: u64,
    /// Their payload bytes.
    pub retransmitted_bytes_sent: u64,
    /// NACKs received.
    pub nack_count: u64,
    /// The `remote-inbound-rtp` report about this stream, once the peer reported.
    pub remote_id: Option<String>,
    /// The `codec` report of its last packet's payload type, when the section maps it.
    pub codec_id: Option<String>,
}

/// `RTCCodecStats`: a payload type an RTP stream uses, as its m= section maps it (made only
/// for payload types a stream uses, as browsers do).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCCodecStats {
    /// `"CIT01_111"` for a payload type we receive on transport `T01`, `"COT01_111"` for one
    /// we send.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The payload type.
    pub payload_type: u8,
    /// The `transport` report of the transport it is used on.
    pub transport_id: String,
    /// `"audio/opus"`, `"video/VP8"`.
    pub mime_type: String,
    /// The clock rate.
    pub clock_rate: u32,
    /// Audio channels, when the rtpmap gives them.
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters, when there are any.
    pub sdp_fmtp_line: Option<String>,
}

/// `RTCRemoteInboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RTCRemoteInboundRtpStreamStats {
    /// `"RI<transport><A|V><ssrc>"`.
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// `"audio"` or `"video"`.
    pub kind: &'static str,
    /// The `transport` report of its transport.
    pub transport_id: String,
    /// The `outbound-rtp` report of the stream.
    pub local_id: String,
    /// Packets the peer lost, as it reported.
    pub packets_lost: i64,
    /// The peer's interarrival jitter, in seconds.
    pub jitter: f64,
    /// The fraction lost in the peer's last reporting interval (0..=1).
    pub fraction_lost: f64,
    /// The latest round trip measured from a report block, in seconds.
    pub round_trip_time: Option<f64>,
    /// The sum of the round trips measured, in seconds.
    pub total_round_trip_time: f64,
    /// Round trips measured.
    pub round_trip_time_measurements: u64,
}

/// The DTLS side of the transport, as the connection knows it.
#[derive(Debug, Clone)]
pub(crate) struct DtlsSnapshot {
    /// `RTCDtlsTransportState`.
    pub(crate) state: &'static str,
    /// Our role and the peer's certificate, once the handshake is done.
    pub(crate) established: Option<(DtlsRole, Vec<u8>)>,
}

/// One ICE + DTLS transport, as a report sees it.
pub(crate) struct TransportInput<'a> {
    pub(crate) ice: Option<&'a antiphon_ice::IceStats>,
    /// The payload each pair carried.
    pub(crate) traffic: &'a [antiphon_ice::PairTraffic],
    pub(crate) dtls: DtlsSnapshot,
}

/// What a report is made from.
pub(crate) struct StatsInput<'a> {
    pub(crate) timestamp: f64,
    /// Every transport (one `transport` report each: `T01`, `T02`, ...).
    pub(crate) transports: Vec<TransportInput<'a>>,
    pub(crate) certificate: &'a Certificate,
    pub(crate) channels: &'a [RTCDataChannel],
    pub(crate) channels_opened: u32,
    /// The RTP streams' reports (`inbound-rtp`, `outbound-rtp`, `remote-inbound-rtp`).
    pub(crate) rtp: Vec<RTCStats>,
}

/// The report for `input`.
pub(crate) fn report(input: &StatsInput<'_>) -> RTCStatsReport {
    let timestamp = input.timestamp;
    let mut stats = Vec::new();
    // Channels no longer held count as closed, as those that reached `closed`.
    let open = input
        .channels
        .iter()
        .filter(|c| c.ready_state() != RTCDataChannelState::Closed)
        .count();
    let channels_closed = input
        .channels_opened
        .saturating_sub(u32::try_from(open).unwrap_or(u32::MAX));
    stats.push(RTCStats::PeerConnection(RTCPeerConnectionStats {
        id: "P".to_owned(),
        timestamp,
        data_channels_opened: input.channels_opened,
        data_channels_closed: channels_closed,
    }));
    let local_certificate = certificate_stats(timestamp, input.certificate.der());
    let mut transports = Vec::new();
    let mut ice_reports = Vec::new();
    let mut remote_certificates: Vec<RTCCertificateStats> = Vec::new();
    for (k, transport) in input.transports.iter().enumerate() {
        let remote = transport_stats(
            timestamp,
            &format!("T{:02}", k + 1),
            transport,
            &local_certificate.id,
            &mut transports,
            &mut ice_reports,
        );
        if let Some(remote) = remote.filter(|r| !remote_certificates.iter().any(|c| c.id == r.id)) {
            remote_certificates.push(remote);
        }
    }
    stats.extend(transports);
    stats.extend(ice_reports);
    stats.push(RTCStats::Certificate(local_certificate));
    stats.extend(remote_certificates.into_iter().map(RTCStats::Certificate));
    for channel in input.channels {
        stats.push(RTCStats::DataChannel(channel.stats(timestamp)));
    }
    stats.extend(input.rtp.iter().cloned());
    RTCStatsReport { stats }
}

/// The `transport` report of `transport` (id `transport_id`) into `transports`, its pairs' and
/// candidates' into `ice_reports`; the peer's certificate once the handshake is done.
fn transport_stats(
    timestamp: f64,
    transport_id: &str,
    transport: &TransportInput<'_>,
    local_certificate_id: &str,
    transports: &mut Vec<RTCStats>,
    ice_reports: &mut Vec<RTCStats>,
) -> Option<RTCCertificateStats> {
    let remote_certificate = transport
        .dtls
        .established
        .as_ref()
        .map(|(_, der)| certificate_stats(timestamp, der));
    let mut report = RTCTransportStats {
        id: transport_id.to_owned(),
        timestamp,
        packets_sent: 0,
        packets_received: 0,
        bytes_sent: 0,
        bytes_received: 0,
        ice_role: "controlled",
        ice_local_username_fragment: String::new(),
        ice_state: "new",
        dtls_state: transport.dtls.state,
        dtls_role: transport
            .dtls
            .established
            .as_ref()
            .map(|(role, _)| match role {
                DtlsRole::Client => "client",
                DtlsRole::Server => "server",
            }),
        selected_candidate_pair_id: None,
        local_certificate_id: local_certificate_id.to_owned(),
        remote_certificate_id: remote_certificate.as_ref().map(|c| c.id.clone()),
    };
    if let Some(agent) = transport.ice {
        report.ice_role = match agent.role {
            IceRole::Controlling => "controlling",
            IceRole::Controlled => "controlled",
        };
        report.ice_local_username_fragment = agent.local_ufrag.clone();
        report.ice_state = ice_state(agent.state);
        for traffic in transport.traffic {
            report.packets_sent += traffic.packets_sent;
            report.packets_received += traffic.packets_received;
            report.bytes_sent += traffic.bytes_sent;
            report.bytes_received += traffic.bytes_received;
        }
        for pair in &agent.pairs {
            let id = format!("CP{}_{}", pair.local, pair.remote);
            if pair.selected {
                report.selected_candidate_pair_id = Some(id.clone());
            }
            let traffic = transport
                .traffic
                .iter()
                .find(|t| t.local == pair.local && t.remote == pair.remote);
            let c = &pair.counters;
            ice_reports.push(RTCStats::CandidatePair(RTCIceCandidatePairStats {
                id,
                timestamp,
                transport_id: transport_id.to_owned(),
                local_candidate_id: candidate_id("IL", pair.local),
                remote_candidate_id: candidate_id("IR", pair.remote),
                state: pair_state(pair.state),
                nominated: pair.nominated,
                packets_sent: traffic.map_or(0, |t| t.packets_sent),
                packets_received: traffic.map_or(0, |t| t.packets_received),
                bytes_sent: traffic.map_or(0, |t| t.bytes_sent),
                bytes_received: traffic.map_or(0, |t| t.bytes_received),
                total_round_trip_time: c.total_round_trip_time.as_secs_f64(),
                current_round_trip_time: c.current_round_trip_time.map(|d| d.as_secs_f64()),
                requests_received: c.requests_received,
                requests_sent: c.requests_sent,
                responses_received: c.responses_received,
                responses_sent: c.responses_sent,
                consent_requests_sent: c.consent_requests_sent,
            }));
        }
        for candidate in &agent.local_candidates {
            if let Some(mut s) = candidate_stats(timestamp, transport_id, "IL", candidate) {
                s.relay_protocol = agent
                    .relay_protocols
                    .iter()
                    .find(|(address, _)| candidate.socket_addr() == Some(*address))
                    .map(|(_, transport)| transport.as_str());
                ice_reports.push(RTCStats::LocalCandidate(s));
            }
        }
        for candidate in &agent.remote_candidates {
            if let Some(s) = candidate_stats(timestamp, transport_id, "IR", candidate) {
                ice_reports.push(RTCStats::RemoteCandidate(s));
            }
        }
    }
    transports.push(RTCStats::Transport(report));
    remote_certificate
}

fn candidate_id(prefix: &str, address: SocketAddr) -> String {
    format!("{prefix}{address}")
}

fn candidate_stats(
    timestamp: f64,
    transport_id: &str,
    prefix: &str,
    candidate: &Candidate,
) -> Option<RTCIceCandidateStats> {
    let address = candidate.socket_addr()?;
    Some(RTCIceCandidateStats {
        id: candidate_id(prefix, address),
        timestamp,
        transport_id: transport_id.to_owned(),
        address: address.ip().to_string(),
        port: address.port(),
        protocol: "udp",
        candidate_type: candidate.kind.as_str().to_owned(),
        priority: candidate.priority,
        foundation: candidate.foundation.clone(),
        related_address: candidate.related_address.as_ref().map(ToString::to_string),
        related_port: candidate.related_port,
        relay_protocol: None,
    })
}

fn certificate_stats(timestamp: f64, der: &[u8]) -> RTCCertificateStats {
    let fingerprint = Fingerprint::of_der(HashAlgorithm::Sha256, der).hex();
    RTCCertificateStats {
        id: format!("CF{fingerprint}"),
        timestamp,
        fingerprint,
        fingerprint_algorithm: "sha-256",
        base64_certificate: base64::engine::general_purpose::STANDARD.encode(der),
    }
}

fn ice_state(state: IceConnectionState) -> &'static str {
    match state {
        IceConnectionState::New => "new",
        IceConnectionState::Checking => "checking",
        IceConnectionState::Connected => "connected",
        IceConnectionState::Completed => "completed",
        IceConnectionState::Disconnected => "disconnected",
        IceConnectionState::Failed => "failed",
        IceConnectionState::Closed => "closed",
    }
}

fn pair_state(state: PairState) -> &'static str {
    match state {
        PairState::Frozen => "frozen",
        PairState::Waiting => "waiting",
        PairState::InProgress => "in-progress",
        PairState::Succeeded => "succeeded",
        PairState::Failed => "failed",
    }
}
