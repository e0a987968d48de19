//! The RTP session of one transport (RFC 3550 §6, RFC 4585): receive statistics per incoming
//! SSRC, send statistics and a retransmission history per outgoing one, and the RTCP the
//! transport owes on its own: receiver and sender reports every [`REPORT_INTERVAL`], NACKs
//! for packets missing from incoming streams, and retransmissions for the peer's NACKs.
//! Driven by [`ConnectionCore`](super::ConnectionCore) with its time; reads no clock.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::congestion::{CongestionReport, FeedbackRecorder, TransportSequencer};
use crate::media::feedback::{CongestionFeedback, congestion_feedback};
use crate::media::receive::{ReceiveSnapshot, ReceiveStatistics};
use crate::media::rtcp::{self, ReportBlock};
use crate::media::rtp::RtpHeader;
use crate::media::send::{RtxConfig, SendSnapshot, SendStream};

/// How often receiver and sender reports go (libwebrtc sends video reports about every second).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// How often a missing packet is NACKed again.
pub const NACK_INTERVAL: Duration = Duration::from_millis(50);
/// Incoming streams kept at most; a peer inventing SSRCs cannot grow the table without bound.
pub const MAX_INBOUND: usize = 256;
/// Outgoing streams kept at most.
pub const MAX_OUTBOUND: usize = 256;
/// Seconds from 1900 (NTP's epoch) to 1970 (Unix's).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// What the descriptions say about a transport's RTP, for its session: set by the owner after
/// each negotiation ([`ConnectionCore::set_rtp_parameters`](super::ConnectionCore::set_rtp_parameters)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RtpParameters {
    /// Payload type -> clock rate (jitter, sender report timestamps).
    pub clock_rates: HashMap<u8, u32>,
    /// RTX payload type -> the media payload type it repairs (`apt`), for what we receive.
    pub repair_payload_types: HashMap<u8, u8>,
    /// The peer's RTX SSRC -> the media SSRC it repairs (`a=ssrc-group:FID`).
    pub repair_ssrcs: HashMap<u32, u32>,
    /// RTX for each of our outgoing streams (by media SSRC).
    pub senders: HashMap<u32, RtxConfig>,
    /// Reduced-size RTCP (RFC 5506, `a=rtcp-rsize` in both descriptions): feedback may go
    /// alone. Without it every compound starts with a report (RFC 3550 §6.1), as peers that
    /// do not know RFC 5506 require.
    pub reduced_size: bool,
    /// The id of the transport-wide sequence number extension, when both descriptions have
    /// it: our packets are numbered, the peer's arrivals reported back (TWCC).
    pub transport_cc_extension: Option<u8>,
}

/// What the transport's RTP session decided to send.
#[derive(Debug, Default)]
pub(crate) struct RtpOutput {
    /// RTCP compounds (reports, NACKs), unprotected.
    pub(crate) rtcp: Vec<Bytes>,
    /// RTP retransmissions, unprotected.
    pub(crate) rtp: Vec<Bytes>,
}

/// What a received RTCP compound asks of us and tells us.
#[derive(Debug, Default)]
pub(crate) struct RtcpOutcome {
    /// Retransmissions the peer's NACKs ask for, unprotected.
    pub(crate) resend: Vec<Bytes>,
    /// The peer's congestion control feedback.
    pub(crate) congestion: Vec<CongestionReport>,
}

/// Receive and send state of one transport's RTP streams.
#[derive(Debug)]
pub(crate) struct RtpSession {
    /// By SSRC, in SSRC order (reports list their blocks in it).
    inbound: BTreeMap<u32, ReceiveStatistics>,
    outbound: BTreeMap<u32, SendStream>,
    parameters: RtpParameters,
    /// The SSRC our receiver reports go from when we send no stream.
    reporter: u32,
    next_report: Option<Instant>,
    next_nack: Option<Instant>,
    /// An instant and its NTP time (seconds since 1900, 32.32 fixed point).
    ntp_base: Option<(Instant, u64)>,
    /// Transport-wide numbering of what we send (TWCC).
    sequencer: TransportSequencer,
    /// Transport-wide feedback on what we receive (TWCC).
    recorder: FeedbackRecorder,
}

impl RtpSession {
    pub(crate) fn new(reporter: u32) -> Self {
        Self {
            inbound: BTreeMap::new(),
            outbound: BTreeMap::new(),
            parameters: RtpParameters::default(),
            reporter,
            next_report: None,
            next_nack: None,
            ntp_base: None,
            sequencer: TransportSequencer::new(),
            recorder: FeedbackRecorder::new(),
        }
    }

    /// What the descriptions now say (clock rates, RTX both ways).
    pub(crate) fn set_parameters(&mut self, parameters: RtpParameters) {
        for stream in self.inbound.values_mut() {
            if let Some(&rate) = parameters.clock_rates.get(&stream.snapshot().payload_type) {
                stream.set_clock_rate(rate);
            }
        }
        for (ssrc, stream) in &mut self.outbound {
            if let Some(&rate) = parameters.clock_rates.get(&stream.snapshot().payload_type) {
                stream.set_clock_rate(rate);
            }
            stream.set_rtx(parameters.senders.get(ssrc).cloned());
        }
        self.sequencer
            .set_extension(parameters.transport_cc_extension);
        self.recorder
            .set_extension(parameters.transport_cc_extension);
        self.parameters = parameters;
    }

    /// An RTX packet of the peer's (RFC 4588) as the packet it repairs: media SSRC, payload
    /// type and sequence number back, the original sequence number taken off the payload.
    /// `Ok(None)` for a packet that is not RTX; `Err(())` for RTX that repairs nothing (a
    /// padding-only probe), to be dropped.
    pub(crate) fn unwrap_repair(
        &self,
        header: &RtpHeader<'_>,
        packet: &[u8],
    ) -> Result<Option<Bytes>, ()> {
        let Some(&media_ssrc) = self.parameters.repair_ssrcs.get(&header.ssrc) else {
            return Ok(None);
        };
        let Some(&media_type) = self
            .parameters
            .repair_payload_types
            .get(&header.payload_type)
        else {
            return Ok(None);
        };
        if header.payload_len < 2 {
            return Err(());
        }
        let payload = &packet[header.header_len..header.header_len + header.payload_len];
        let mut original = Vec::with_capacity(header.header_len + header.payload_len - 2);
        original.extend_from_slice(&packet[..header.header_len]);
        original[0] &= !0x20;
        original[1] = (original[1] & 0x80) | media_type;
        original[2..4].copy_from_slice(&payload[..2]);
        original[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
        original.extend_from_slice(&payload[2..]);
        Ok(Some(Bytes::from(original)))
    }

    /// The wall clock at `now`, as time since the Unix epoch, for the NTP times of reports.
    pub(crate) fn set_wall_clock(&mut self, now: Instant, since_unix: Duration) {
        let seconds = since_unix.as_secs() + NTP_UNIX_OFFSET;
        let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        self.ntp_base = Some((now, (seconds << 32) | fraction));
    }

    fn ntp(&mut self, now: Instant) -> u64 {
        let (base, ntp) = *self.ntp_base.get_or_insert((now, 0));
        let elapsed = now.saturating_duration_since(base);
        let fraction = (u64::from(elapsed.subsec_nanos()) << 32) / 1_000_000_000;
        ntp.wrapping_add((elapsed.as_secs() << 32) | fraction)
    }

    /// Whether a retransmission of `header`'s packet fills a hole of its stream.
    pub(crate) fn fills_a_hole(&self, header: &RtpHeader<'_>) -> bool {
        self.inbound
            .get(&header.ssrc)
            .is_some_and(|stream| stream.is_missing(header.sequence_number))
    }

    /// An RTP packet arrived (unprotected; RTX and padding probes too): recorded for
    /// transport-wide feedback.
    pub(crate) fn arrived(&mut self, header: &RtpHeader<'_>, now: Instant) {
        self.recorder.arrived(header, now);
    }

    /// An RTP packet of ours, about to be protected: numbered transport-wide when TWCC is
    /// negotiated.
    pub(crate) fn stamp(&mut self, packet: &Bytes, now: Instant) -> Bytes {
        self.sequencer.stamp(packet, now)
    }

    /// An RTP packet received (unprotected).
    pub(crate) fn received_rtp(&mut self, header: &RtpHeader<'_>, now: Instant) {
        let room = self.inbound.len() < MAX_INBOUND;
        match self.inbound.get_mut(&header.ssrc) {
            Some(stream) => stream.receive(header, now),
            None if room => {
                let mut stream = ReceiveStatistics::new(header, now);
                if let Some(&rate) = self.parameters.clock_rates.get(&header.payload_type) {
                    stream.set_clock_rate(rate);
                }
                self.inbound.insert(header.ssrc, stream);
            }
            None => return,
        }
        self.next_report.get_or_insert(now + REPORT_INTERVAL / 2);
        self.next_nack.get_or_insert(now + NACK_INTERVAL);
    }

    /// An RTP packet we send (unprotected).
    pub(crate) fn sent_rtp(&mut self, header: &RtpHeader<'_>, packet: &Bytes, now: Instant) {
        if !self.outbound.contains_key(&header.ssrc) && self.outbound.len() >= MAX_OUTBOUND {
            return;
        }
        let stream = self.outbound.entry(header.ssrc).or_insert_with(|| {
            let mut stream = SendStream::default();
            stream.set_rtx(self.parameters.senders.get(&header.ssrc).cloned());
            stream
        });
        if let Some(&rate) = self.parameters.clock_rates.get(&header.payload_type) {
            stream.set_clock_rate(rate);
        }
        stream.sent(header, packet, now);
        self.next_report.get_or_insert(now + REPORT_INTERVAL / 2);
    }

    /// An RTCP compound received: SRs and report blocks taken in, NACKs answered, congestion
    /// feedback resolved against what we sent.
    pub(crate) fn received_rtcp(&mut self, compound: &[u8], now: Instant) -> RtcpOutcome {
        let reports = rtcp::reports(compound);
        for sender in &reports.senders {
            if let Some(stream) = self.inbound.get_mut(&sender.ssrc) {
                stream.sender_report(sender.ntp, now);
            }
        }
        if !reports.blocks.is_empty() {
            let middle = (self.ntp(now) >> 16) as u32;
            for (_, block) in reports.blocks {
                if let Some(stream) = self.outbound.get_mut(&block.ssrc) {
                    stream.report(block, middle);
                }
            }
        }
        let mut resend = Vec::new();
        for (ssrc, sequence) in rtcp::nacks(compound) {
            if let Some(packet) = self
                .outbound
                .get_mut(&ssrc)
                .and_then(|stream| stream.retransmission(sequence))
            {
                resend.push(packet);
            }
        }
        let congestion = congestion_feedback(compound)
            .into_iter()
            .map(|feedback| match feedback {
                CongestionFeedback::Transport(feedback) => {
                    CongestionReport::Transport(self.sequencer.resolve(&feedback))
                }
                CongestionFeedback::Remb(remb) => CongestionReport::Remb(remb),
            })
            .collect();
        RtcpOutcome { resend, congestion }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [
            self.next_report,
            self.next_nack,
            self.recorder.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Reports and NACKs due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> RtpOutput {
        let mut output = RtpOutput::default();
        let sender_ssrc = self
            .outbound
            .keys()
            .next()
            .copied()
            .unwrap_or(self.reporter);
        if self.next_nack.is_some_and(|due| due <= now) {
            let lost: Vec<(u32, Vec<u16>)> = self
                .inbound
                .iter_mut()
                .map(|(ssrc, stream)| (*ssrc, stream.nack_list(now, NACK_INTERVAL)))
                .filter(|(_, lost)| !lost.is_empty())
                .collect();
            for (ssrc, lost) in lost {
                let nack = rtcp::nack(sender_ssrc, ssrc, &lost);
                output.rtcp.push(self.feedback(sender_ssrc, &nack));
            }
            // Checked every interval once a stream comes in.
            self.next_nack = (!self.inbound.is_empty()).then_some(now + NACK_INTERVAL);
        }
        for feedback in self.recorder.handle_timeout(now, sender_ssrc) {
            output.rtcp.push(self.feedback(sender_ssrc, &feedback));
        }
        if self.next_report.is_some_and(|due| due <= now) {
            let blocks: Vec<ReportBlock> = self
                .inbound
                .iter_mut()
                .map(|(ssrc, stream)| stream.report_block(*ssrc, now))
                .collect();
            let ntp = self.ntp(now);
            let mut compound = Vec::new();
            let mut blocks_left = Some(blocks);
            for (ssrc, stream) in &self.outbound {
                let Some(info) = stream.sender_info(*ssrc, now, ntp) else {
                    continue;
                };
                let blocks = blocks_left.take().unwrap_or_default();
                compound.extend_from_slice(&rtcp::sender_report(&info, &blocks));
            }
            if let Some(blocks) = blocks_left.filter(|b| !b.is_empty()) {
                compound.extend_from_slice(&rtcp::receiver_report(sender_ssrc, &blocks));
            }
            if !compound.is_empty() {
                output.rtcp.push(Bytes::from(compound));
            }
            self.next_report = Some(now + REPORT_INTERVAL);
        }
        output
    }

    /// Feedback as it may go: alone with reduced-size RTCP, else after an empty receiver
    /// report from `reporter`.
    pub(crate) fn feedback(&self, reporter: u32, feedback: &[u8]) -> Bytes {
        if self.parameters.reduced_size {
            return Bytes::copy_from_slice(feedback);
        }
        let mut compound = rtcp::receiver_report(reporter, &[]);
        compound.extend_from_slice(feedback);
        Bytes::from(compound)
    }

    /// Every incoming stream's figures, by SSRC.
    pub(crate) fn inbound(&self) -> Vec<(u32, ReceiveSnapshot)> {
        self.inbound
            .iter()
            .map(|(s, r)| (*s, r.snapshot()))
            .collect()
    }

    /// Every outgoing stream's figures, by SSRC.
    pub(crate) fn outbound(&self) -> Vec<(u32, SendSnapshot)> {
        self.outbound
            .iter()
            .map(|(s, r)| (*s, r.snapshot()))
            .collect()
    }
}
