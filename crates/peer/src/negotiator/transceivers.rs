//! Which transceiver each m= section belongs to (mids given by offers, forgotten on rollback),
//! the directions answers negotiated, and W3C's negotiation-needed check.

use super::*;

impl Negotiator {
    /// Forgets the mids that only an offer of ours never applied (or rolled back) gave: those
    /// transceivers, and the data section, are new again and may take the remote's mids
    /// (W3C: a mid belongs to a transceiver once a description carrying it is applied).
    pub(super) fn clear_provisional_mids(&mut self) {
        let negotiated = mids([self.pending_local.as_deref(), self.current_local.as_deref()]);
        let provisional =
            |mid: &Option<String>| mid.as_ref().is_some_and(|m| !negotiated.contains(m));
        for transceiver in &mut self.transceivers {
            if !transceiver.created_by_remote && provisional(&transceiver.mid) {
                transceiver.mid = None;
            }
        }
        if let Some(data) = self.data_channel.as_mut()
            && provisional(&data.mid)
        {
            data.mid = None;
        }
    }

    /// Whether a new offer/answer exchange is needed (W3C "check if negotiation is needed"):
    /// in `stable`, a transceiver or the data channel not negotiated yet, or a stopped
    /// transceiver whose section is still in use.
    pub fn negotiation_needed(&self) -> bool {
        if self.signaling_state != RTCSignalingState::Stable {
            return false;
        }
        let current: Vec<&str> = self
            .current_local
            .iter()
            .flat_map(|d| d.parsed.media.iter())
            .filter(|m| m.port != 0 || m.is_bundle_only())
            .filter_map(sdp::MediaDescription::mid)
            .collect();
        let negotiated =
            |mid: &Option<String>| mid.as_deref().is_some_and(|m| current.contains(&m));
        self.transceivers
            .iter()
            .any(|t| (!t.stopped && !negotiated(&t.mid)) || (t.stopped && negotiated(&t.mid)))
            || self
                .data_channel
                .as_ref()
                .is_some_and(|d| !negotiated(&d.mid))
            || self
                .transceivers
                .iter()
                .filter(|t| !t.stopped)
                .any(|t| self.direction_changed(t))
    }

    /// W3C "check if negotiation is needed", the direction steps: our current offer's section
    /// does not carry the transceiver's direction, or our current answer's section does not
    /// carry it intersected with what the offer allowed (JSEP §5.3.1).
    fn direction_changed(&self, transceiver: &RTCRtpTransceiver) -> bool {
        let Some(mid) = transceiver.mid.as_deref() else {
            return false;
        };
        let section_direction = |description: &AppliedDescription| {
            description
                .parsed
                .media
                .iter()
                .find(|m| m.mid() == Some(mid) && m.port != 0)
                .map(|m| m.direction().unwrap_or(Direction::SendRecv))
        };
        let Some(local) = self.current_local.as_deref() else {
            return false;
        };
        let Some(ours) = section_direction(local) else {
            return false;
        };
        let wanted = match local.sdp_type {
            RTCSdpType::Answer => {
                let offered = self
                    .current_remote
                    .as_deref()
                    .and_then(section_direction)
                    .unwrap_or(Direction::SendRecv);
                transceiver.direction.intersect(offered.reversed())
            }
            _ => transceiver.direction,
        };
        ours != wanted
    }

    /// JSEP §5.10: associate each offered RTP section with a transceiver, creating `recvonly`
    /// ones for sections nothing local matches.
    pub(super) fn associate_transceivers(&mut self, offer: &SessionDescription) {
        for section in &offer.media {
            let kind = match section.kind {
                MediaKind::Audio => CodecKind::Audio,
                MediaKind::Video => CodecKind::Video,
                _ => continue,
            };
            let Some(mid) = section.mid() else { continue };
            if self
                .transceivers
                .iter()
                .any(|t| t.mid.as_deref() == Some(mid))
            {
                continue;
            }
            if section.is_rejected() {
                continue;
            }
            let free = self
                .transceivers
                .iter_mut()
                .find(|t| t.kind == kind && t.mid.is_none() && !t.stopped && !t.created_by_remote);
            if let Some(transceiver) = free {
                transceiver.mid = Some(mid.to_owned());
                continue;
            }
            let id = TransceiverId(self.transceivers.len());
            let ssrc = self.entropy.next_u32();
            let rtx_ssrc = self.entropy.next_u32();
            self.transceivers.push(RTCRtpTransceiver {
                id,
                mid: Some(mid.to_owned()),
                kind,
                direction: Direction::RecvOnly,
                current_direction: None,
                stopped: false,
                codec_preferences: Vec::new(),
                track: None,
                stream_ids: Vec::new(),
                send_rids: Vec::new(),
                ssrc,
                rtx_ssrc,
                created_by_remote: true,
                replaced_by_nothing: false,
            });
        }
    }

    pub(super) fn transceiver_for(
        &self,
        section: &sdp::MediaDescription,
    ) -> Option<&RTCRtpTransceiver> {
        let mid = section.mid()?;
        self.transceivers
            .iter()
            .find(|t| t.mid.as_deref() == Some(mid))
    }

    /// After a remote answer: each transceiver's negotiated direction is the answer's reversed;
    /// rejected sections stop their transceivers.
    pub(super) fn record_remote_answer_directions(&mut self, answer: &SessionDescription) {
        for section in &answer.media {
            let Some(mid) = section.mid() else { continue };
            let Some(transceiver) = self
                .transceivers
                .iter_mut()
                .find(|t| t.mid.as_deref() == Some(mid))
            else {
                continue;
            };
            if section.port == 0 && !section.is_bundle_only() {
                transceiver.stopped = true;
                transceiver.current_direction = None;
                transceiver.mid = None;
            } else {
                let direction = section.direction().unwrap_or(Direction::SendRecv);
                transceiver.current_direction = Some(direction.reversed());
            }
        }
    }

    /// After a local answer: each transceiver's negotiated direction (webrtc-pc
    /// `currentDirection`), and rejected sections stop their transceivers (RFC 9429 §5.11).
    pub(super) fn record_current_directions(&mut self, answer: &SessionDescription) {
        for section in &answer.media {
            let Some(mid) = section.mid() else { continue };
            if section.kind == sdp::MediaKind::Application
                && section.port != 0
                && self.data_channel.is_none()
            {
                // The remote offered the data channel section and we accepted it: our own
                // offers keep it (JSEP 5.2.2).
                self.data_channel = Some(DataSection {
                    mid: Some(mid.to_owned()),
                });
            }
            let Some(transceiver) = self
                .transceivers
                .iter_mut()
                .find(|t| t.mid.as_deref() == Some(mid))
            else {
                continue;
            };
            if section.port == 0 {
                transceiver.stopped = true;
                transceiver.current_direction = None;
                transceiver.mid = None;
            } else {
                transceiver.current_direction = section.direction();
            }
        }
    }
}

/// Every mid the given descriptions carry.
pub(super) fn mids<'a>(
    descriptions: impl IntoIterator<Item = Option<&'a AppliedDescription>>,
) -> Vec<String> {
    descriptions
        .into_iter()
        .flatten()
        .flat_map(|d| {
            d.parsed
                .media
                .iter()
                .filter_map(|m| m.mid().map(str::to_owned))
        })
        .collect()
}
