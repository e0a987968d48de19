//! The JSEP core of a peer connection without any I/O: descriptions, signaling state,
//! transceivers, and answer creation. [`crate::RTCPeerConnection`] wraps it with ICE, DTLS
//! and SCTP; tests drive it directly.

mod layout;
mod remote_checks;
mod transceivers;

use std::sync::Arc;

use antiphon_codec::{Capabilities, Direction, MediaKind as CodecKind};
use antiphon_sdp::{self as sdp, MediaKind, SessionDescription};

use crate::answer::{self, AnswerExplanation, AnswerOptions, LocalTransport};
use crate::description::{RTCSdpType, RTCSessionDescriptionInit};
use crate::error::{Error, InvalidModificationReason, InvalidStateReason};
use crate::signaling::{RTCSignalingState, Side};
use crate::transceiver::{
    MediaStreamTrack, RTCRtpTransceiver, RTCRtpTransceiverInit, TransceiverId,
};

/// A description that has been applied: its type, its text and its parsed form.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedDescription {
    /// Offer, pranswer or answer.
    pub sdp_type: RTCSdpType,
    /// The SDP text as given; shared with the negotiator's last created offer or answer when
    /// it is that one.
    pub sdp: Arc<str>,
    /// The parsed description.
    pub parsed: SessionDescription,
}

impl AppliedDescription {
    /// The `RTCSessionDescriptionInit` form.
    pub fn to_init(&self) -> RTCSessionDescriptionInit {
        RTCSessionDescriptionInit {
            sdp_type: self.sdp_type,
            sdp: self.sdp.to_string(),
        }
    }
}

/// What applying a description changed, for the layer that runs the transports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// The signaling state changed.
    pub signaling_state_changed: bool,
    /// The offer/answer exchange completed (now `stable` with both descriptions current).
    pub negotiation_complete: bool,
}

/// Sources of values the negotiator must not invent itself: SSRCs and the session id.
pub trait Entropy: Send {
    /// A random 32-bit value.
    fn next_u32(&mut self) -> u32;
    /// A random 64-bit value.
    fn next_u64(&mut self) -> u64;
}

/// [`Entropy`] from the operating system's CSPRNG (through `rand`'s thread-local generator).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut rand::rng())
    }

    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut rand::rng())
    }
}

/// The data channel section this side offers (`createDataChannel` before the first offer).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DataSection {
    mid: Option<String>,
}

/// The JSEP state of one connection.
pub struct Negotiator {
    capabilities: Arc<Capabilities>,
    options: AnswerOptions,
    entropy: Box<dyn Entropy>,
    signaling_state: RTCSignalingState,
    transceivers: Vec<RTCRtpTransceiver>,
    // Boxed: a description is ~0.5 KiB inline, and a connection usually has two of the four.
    pending_local: Option<Box<AppliedDescription>>,
    current_local: Option<Box<AppliedDescription>>,
    pending_remote: Option<Box<AppliedDescription>>,
    current_remote: Option<Box<AppliedDescription>>,
    // The last created offer or answer is also `last_local_sdp`: one shared text.
    last_created_answer: Option<Arc<str>>,
    last_created_offer: Option<Arc<str>>,
    data_channel: Option<DataSection>,
    last_explanation: Option<AnswerExplanation>,
    session_id: u64,
    session_version: u64,
    last_local_sdp: Option<Arc<str>>,
    cname: String,
}

/// What applying a description may change, to put back with [`Negotiator::restore`] when a
/// later step of `setLocalDescription`/`setRemoteDescription` fails (W3C: a rejected operation
/// leaves the connection as it was).
#[derive(Debug, Clone)]
pub(crate) struct Checkpoint {
    signaling_state: RTCSignalingState,
    transceivers: Vec<RTCRtpTransceiver>,
    pending_local: Option<Box<AppliedDescription>>,
    current_local: Option<Box<AppliedDescription>>,
    pending_remote: Option<Box<AppliedDescription>>,
    current_remote: Option<Box<AppliedDescription>>,
    data_channel: Option<DataSection>,
}

impl std::fmt::Debug for Negotiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiator")
            .field("signaling_state", &self.signaling_state)
            .field("transceivers", &self.transceivers)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl Negotiator {
    /// A negotiator answering with `capabilities` and `options`.
    ///
    /// `capabilities` is an owned [`Capabilities`] or an `Arc` of one: negotiators that hold
    /// clones of one `Arc` share a single copy (as [`crate::PeerOptions::default`] does).
    pub fn new(
        capabilities: impl Into<Arc<Capabilities>>,
        options: AnswerOptions,
        mut entropy: Box<dyn Entropy>,
    ) -> Self {
        let session_id = entropy.next_u64() >> 2; // below 2^62, well under the 2^63-1 limit
        let cname = format!("{:08x}{:08x}", entropy.next_u32(), entropy.next_u32());
        Self {
            capabilities: capabilities.into(),
            options,
            entropy,
            signaling_state: RTCSignalingState::Stable,
            transceivers: Vec::new(),
            pending_local: None,
            current_local: None,
            pending_remote: None,
            current_remote: None,
            last_created_answer: None,
            last_created_offer: None,
            data_channel: None,
            last_explanation: None,
            session_id,
            session_version: 1,
            last_local_sdp: None,
            cname,
        }
    }

    /// The state that applying a description may change.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            signaling_state: self.signaling_state,
            transceivers: self.transceivers.clone(),
            pending_local: self.pending_local.clone(),
            current_local: self.current_local.clone(),
            pending_remote: self.pending_remote.clone(),
            current_remote: self.current_remote.clone(),
            data_channel: self.data_channel.clone(),
        }
    }

    /// Puts back the state taken by [`checkpoint`](Self::checkpoint).
    pub(crate) fn restore(&mut self, checkpoint: Checkpoint) {
        self.signaling_state = checkpoint.signaling_state;
        self.transceivers = checkpoint.transceivers;
        self.pending_local = checkpoint.pending_local;
        self.current_local = checkpoint.current_local;
        self.pending_remote = checkpoint.pending_remote;
        self.current_remote = checkpoint.current_remote;
        self.data_channel = checkpoint.data_channel;
    }

    /// The signaling state.
    pub fn signaling_state(&self) -> RTCSignalingState {
        self.signaling_state
    }

    /// The transceivers, in creation order.
    pub fn transceivers(&self) -> &[RTCRtpTransceiver] {
        &self.transceivers
    }

    /// `pendingLocalDescription ?? currentLocalDescription`.
    pub fn local_description(&self) -> Option<&AppliedDescription> {
        self.pending_local
            .as_deref()
            .or(self.current_local.as_deref())
    }

    /// `pendingRemoteDescription ?? currentRemoteDescription`.
    pub fn remote_description(&self) -> Option<&AppliedDescription> {
        self.pending_remote
            .as_deref()
            .or(self.current_remote.as_deref())
    }

    /// The pending and current local descriptions, for the candidates trickled into them.
    pub(crate) fn local_descriptions_mut(
        &mut self,
    ) -> impl Iterator<Item = &mut AppliedDescription> {
        self.pending_local
            .as_deref_mut()
            .into_iter()
            .chain(self.current_local.as_deref_mut())
    }

    /// `currentLocalDescription`.
    pub fn current_local_description(&self) -> Option<&AppliedDescription> {
        self.current_local.as_deref()
    }

    /// `pendingLocalDescription`.
    pub fn pending_local_description(&self) -> Option<&AppliedDescription> {
        self.pending_local.as_deref()
    }

    /// `currentRemoteDescription`.
    pub fn current_remote_description(&self) -> Option<&AppliedDescription> {
        self.current_remote.as_deref()
    }

    /// `pendingRemoteDescription`.
    pub fn pending_remote_description(&self) -> Option<&AppliedDescription> {
        self.pending_remote.as_deref()
    }

    /// The explanation of the last created answer.
    pub fn last_explanation(&self) -> Option<&AnswerExplanation> {
        self.last_explanation.as_ref()
    }

    /// The answer options in force.
    pub fn options(&self) -> &AnswerOptions {
        &self.options
    }

    /// `addTransceiver(kind, init)`.
    pub fn add_transceiver(
        &mut self,
        kind: CodecKind,
        init: RTCRtpTransceiverInit,
    ) -> Result<TransceiverId, Error> {
        self.ensure_open()?;
        let id = TransceiverId(self.transceivers.len());
        let ssrc = self.entropy.next_u32();
        let rtx_ssrc = self.entropy.next_u32();
        self.transceivers.push(RTCRtpTransceiver {
            id,
            mid: None,
            kind,
            direction: init.direction,
            current_direction: None,
            stopped: false,
            codec_preferences: Vec::new(),
            track: None,
            stream_ids: init.stream_ids,
            send_rids: init.send_rids,
            ssrc,
            rtx_ssrc,
            created_by_remote: false,
            replaced_by_nothing: false,
        });
        Ok(id)
    }

    /// `addTrack(track, ...streams)`: reuses a transceiver of the same kind that has never
    /// sent and was created by the remote offer, as webrtc-pc does, otherwise adds one.
    pub fn add_track(
        &mut self,
        track: MediaStreamTrack,
        stream_ids: Vec<String>,
    ) -> Result<TransceiverId, Error> {
        self.ensure_open()?;
        let reusable = self.transceivers.iter_mut().find(|t| {
            t.kind == track.kind && t.track.is_none() && !t.stopped && t.created_by_remote
        });
        if let Some(transceiver) = reusable {
            transceiver.direction =
                Direction::from_send_recv(true, transceiver.direction.receives());
            transceiver.stream_ids = stream_ids;
            transceiver.track = Some(track);
            return Ok(transceiver.id);
        }
        let kind = track.kind;
        let id = self.add_transceiver(
            kind,
            RTCRtpTransceiverInit {
                direction: Direction::SendRecv,
                stream_ids,
                send_rids: Vec::new(),
            },
        )?;
        if let Some(transceiver) = self.transceivers.get_mut(id.0) {
            transceiver.track = Some(track);
        }
        Ok(id)
    }

    /// Asks for a data channel section in the next offer (the first `createDataChannel`).
    pub fn request_data_channel(&mut self) -> Result<(), Error> {
        self.ensure_open()?;
        if self.data_channel.is_none() {
            self.data_channel = Some(DataSection { mid: None });
        }
        Ok(())
    }

    /// `createOffer()`: every transceiver and the data channel section, bundled on `transport`.
    ///
    /// Changes no state but the mids given to new transceivers and the remembered last offer.
    pub fn create_offer(
        &mut self,
        transport: LocalTransport,
    ) -> Result<RTCSessionDescriptionInit, Error> {
        self.create_offer_with(|_| transport.clone())
    }

    /// `createOffer()`: every transceiver and the data channel section; `transports(sections)`
    /// supplies the local transport that carries `sections` (section indices of the offer).
    ///
    /// Which sections share a transport (RFC 9429 §5.2.1, §5.2.2): in a first offer, all of
    /// them, or with the `max-compat` bundle policy one each; in a later one, the sections
    /// keep the transports negotiated, and a new section joins the negotiated BUNDLE group, or
    /// has its own when none was negotiated.
    ///
    /// Changes no state but the mids given to new transceivers and the remembered last offer.
    pub fn create_offer_with(
        &mut self,
        mut transports: impl FnMut(&[usize]) -> LocalTransport,
    ) -> Result<RTCSessionDescriptionInit, Error> {
        let sections = self.offer_sections()?;
        let origin = answer::SessionOrigin {
            session_id: self.session_id,
            session_version: self.session_version,
        };
        let sets = self.offer_transports(&sections);
        let locals: Vec<LocalTransport> = sets.iter().map(|set| transports(set)).collect();
        // A rejected section describes no transport and writes none.
        let none = LocalTransport::default();
        let section_transports: Vec<&LocalTransport> = (0..sections.len())
            .map(|index| {
                sets.iter()
                    .position(|set| set.contains(&index))
                    .map_or(&none, |set| &locals[set])
            })
            .collect();
        let mut offer =
            crate::offer::create_offer(&sections, &self.capabilities, &section_transports, origin);
        let capacity_hint = self.last_local_sdp.as_deref().map_or(2048, str::len);
        let mut text = sdp_text(&offer, capacity_hint);
        if self
            .last_local_sdp
            .as_deref()
            .is_some_and(|last| last != text)
        {
            self.session_version += 1;
            offer.origin.session_version = self.session_version;
            text = sdp_text(&offer, text.len());
        }
        // One shared copy of the text serves both checks.
        let shared: Arc<str> = Arc::from(text.as_str());
        self.last_local_sdp = Some(Arc::clone(&shared));
        self.last_created_offer = Some(shared);
        Ok(RTCSessionDescriptionInit::offer(text))
    }

    /// The sections an offer now has, in order (giving new sections their mids); refused
    /// when closed or when the signaling state allows no offer.
    fn offer_sections(&mut self) -> Result<Vec<crate::offer::OfferSection>, Error> {
        self.ensure_open()?;
        if !self.signaling_state.can_create_offer() {
            return Err(Error::InvalidState(InvalidStateReason::CannotOffer {
                state: self.signaling_state,
            }));
        }
        let mut used: Vec<String> = self
            .transceivers
            .iter()
            .filter_map(|t| t.mid.clone())
            .collect();
        if let Some(mid) = self.data_channel.as_ref().and_then(|d| d.mid.clone()) {
            used.push(mid);
        }
        // A mid once negotiated names that section for good, rejected or not (RFC 9429 5.2.2:
        // a recycled section gets a new mid).
        used.extend(self.current_local.iter().flat_map(|d| {
            d.parsed
                .media
                .iter()
                .filter_map(|m| m.mid().map(str::to_owned))
        }));
        let mut next_mid = || {
            let mid = (0..)
                .map(|n: u32| n.to_string())
                .find(|m| !used.contains(m))
                .unwrap_or_default();
            used.push(mid.clone());
            mid
        };
        let mut sections = Vec::new();
        for index in 0..self.transceivers.len() {
            if self.transceivers[index].stopped {
                continue;
            }
            let mid = match self.transceivers[index].mid.clone() {
                Some(mid) => mid,
                None => {
                    let mid = next_mid();
                    self.transceivers[index].mid = Some(mid.clone());
                    mid
                }
            };
            let transceiver = &self.transceivers[index];
            sections.push(crate::offer::OfferSection::Media {
                mid,
                kind: transceiver.kind,
                local: transceiver.local_section(&self.cname),
            });
        }
        if self.data_channel.is_some() {
            let mid = match self.data_channel.as_ref().and_then(|d| d.mid.clone()) {
                Some(mid) => mid,
                None => next_mid(),
            };
            if let Some(data) = self.data_channel.as_mut() {
                data.mid = Some(mid.clone());
            }
            sections.push(crate::offer::OfferSection::Data {
                mid,
                sctp_port: self.options.sctp_port,
                max_message_size: self.options.max_message_size,
            });
        }
        if let Some(current) = self.current_local.as_deref() {
            // JSEP 5.2.2: every negotiated m= section stays; one that nothing uses any more (a
            // stopped transceiver's, or one already rejected) is offered rejected in place.
            for media in &current.parsed.media {
                let Some(mid) = media.mid() else { continue };
                if sections.iter().any(|s| s.mid() == mid) {
                    continue;
                }
                sections.push(crate::offer::OfferSection::Rejected {
                    mid: mid.to_owned(),
                    kind: media.kind.clone(),
                    proto: media.proto.to_string(),
                    formats: media.formats.iter().map(ToString::to_string).collect(),
                });
            }
            // A subsequent offer keeps the m= sections in the order negotiated (the remote may
            // have offered data first); new sections go last.
            let position = |mid: &str| {
                current
                    .parsed
                    .media
                    .iter()
                    .position(|m| m.mid() == Some(mid))
                    .unwrap_or(usize::MAX)
            };
            sections.sort_by_key(|section| position(section.mid()));
        }
        Ok(sections)
    }

    /// The transports an offer now needs: the section index sets that share one (see
    /// [`create_offer_with`](Self::create_offer_with)), which that call then asks for. Gives
    /// new sections their mids, as `createOffer` does.
    pub(crate) fn offer_layout(&mut self) -> Result<Vec<Vec<usize>>, Error> {
        let sections = self.offer_sections()?;
        Ok(self.offer_transports(&sections))
    }

    /// 32 bytes from the injected [`Entropy`], to seed what else the connection draws at
    /// random (ICE credentials, the agents' tie-breakers and transaction ids): the whole
    /// connection takes its randomness from one source its creator chose (DTLS keys excepted,
    /// which come from the crypto library's own generator, as keys must).
    pub(crate) fn entropy_seed(&mut self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.entropy.next_u64().to_le_bytes());
        }
        seed
    }

    /// `createOffer`'s state check, before any socket is bound.
    pub(crate) fn signaling_state_allows_offer(&self) -> Result<(), Error> {
        let state = self.signaling_state();
        if state == RTCSignalingState::Closed {
            return Err(Error::InvalidState(InvalidStateReason::Closed));
        }
        if !state.can_create_offer() {
            return Err(Error::InvalidState(InvalidStateReason::CannotOffer {
                state,
            }));
        }
        Ok(())
    }

    /// `transceiver.direction = direction`.
    pub fn set_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<(), Error> {
        let transceiver = self.transceiver_mut(id)?;
        transceiver.direction = direction;
        Ok(())
    }

    /// `sender.replaceTrack(track)`: the transceiver sends `track` (or nothing, with `None`)
    /// without a new negotiation. The descriptions keep announcing the first track's id
    /// (`a=msid`), as browsers keep theirs. Refused with `TypeError` for a track of another
    /// kind, `InvalidStateError` when the transceiver is stopped or the connection closed.
    pub fn replace_track(
        &mut self,
        id: TransceiverId,
        track: Option<MediaStreamTrack>,
    ) -> Result<(), Error> {
        let transceiver = self.transceiver_mut(id)?;
        let Some(track) = track else {
            transceiver.replaced_by_nothing = true;
            return Ok(());
        };
        if track.kind != transceiver.kind {
            return Err(Error::Type(
                crate::error::TypeErrorReason::TrackKindMismatch,
            ));
        }
        transceiver.replaced_by_nothing = false;
        if transceiver.track.is_none() {
            transceiver.track = Some(track);
        }
        Ok(())
    }

    /// `transceiver.setCodecPreferences(codecs)`.
    pub fn set_codec_preferences(
        &mut self,
        id: TransceiverId,
        codecs: Vec<antiphon_codec::Codec>,
    ) -> Result<(), Error> {
        let transceiver = self.transceiver_mut(id)?;
        transceiver.codec_preferences = codecs;
        Ok(())
    }

    /// `transceiver.stop()`.
    pub fn stop_transceiver(&mut self, id: TransceiverId) -> Result<(), Error> {
        self.ensure_open()?;
        let transceiver = self
            .transceivers
            .get_mut(id.0)
            .ok_or(Error::InvalidState(InvalidStateReason::TransceiverStopped))?;
        transceiver.stopped = true;
        transceiver.direction = Direction::Inactive;
        Ok(())
    }

    fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut RTCRtpTransceiver, Error> {
        self.ensure_open()?;
        match self.transceivers.get_mut(id.0) {
            Some(t) if !t.stopped => Ok(t),
            _ => Err(Error::InvalidState(InvalidStateReason::TransceiverStopped)),
        }
    }

    fn ensure_open(&self) -> Result<(), Error> {
        if self.signaling_state == RTCSignalingState::Closed {
            Err(Error::InvalidState(InvalidStateReason::Closed))
        } else {
            Ok(())
        }
    }

    /// Marks the negotiator closed; every later call fails with `InvalidStateError`.
    pub fn close(&mut self) {
        self.signaling_state = RTCSignalingState::Closed;
        for transceiver in &mut self.transceivers {
            transceiver.stopped = true;
            transceiver.current_direction = None;
        }
    }

    /// `setRemoteDescription(description)`.
    ///
    /// Checks everything before changing anything: a refused description leaves the state as
    /// it was.
    pub fn set_remote_description(
        &mut self,
        description: &RTCSessionDescriptionInit,
    ) -> Result<Applied, Error> {
        let transition = self
            .signaling_state
            .apply(Side::Remote, description.sdp_type)?;
        if description.sdp_type == RTCSdpType::Rollback {
            return Ok(self.rollback(transition.state));
        }
        let parsed = remote_checks::parse_remote(&description.sdp)?;
        self.check_remote(description.sdp_type, &parsed)?;
        if transition.implicit_rollback {
            self.rollback(RTCSignalingState::Stable);
        } else if description.sdp_type == RTCSdpType::Offer {
            // Mids of an offer we created and never applied are not ours to keep.
            self.clear_provisional_mids();
        }
        let applied = Box::new(AppliedDescription {
            sdp_type: description.sdp_type,
            sdp: Arc::from(description.sdp.as_str()),
            parsed,
        });
        let before = self.signaling_state;
        match description.sdp_type {
            RTCSdpType::Offer => {
                self.associate_transceivers(&applied.parsed);
                self.pending_remote = Some(applied);
            }
            RTCSdpType::Pranswer => self.pending_remote = Some(applied),
            RTCSdpType::Answer => {
                self.record_remote_answer_directions(&applied.parsed);
                self.current_remote = Some(applied);
                self.pending_remote = None;
                self.current_local = self.pending_local.take().or(self.current_local.take());
            }
            RTCSdpType::Rollback => {}
        }
        self.signaling_state = transition.state;
        tracing::debug!(
            sdp_type = ?description.sdp_type,
            state = ?transition.state,
            "remote description applied"
        );
        Ok(Applied {
            signaling_state_changed: before != transition.state,
            negotiation_complete: description.sdp_type == RTCSdpType::Answer,
        })
    }

    /// `createAnswer()`: `transports(section)` supplies each local transport the answer needs,
    /// named by the index of the section that owns it (the BUNDLE tag, or a section with a
    /// transport of its own), in section order.
    ///
    /// Changes no state but the remembered last answer (RFC 9429 §4.1.9).
    pub fn create_answer(
        &mut self,
        mut transports: impl FnMut(usize) -> LocalTransport,
    ) -> Result<RTCSessionDescriptionInit, Error> {
        let plan = self.answer_plan()?;
        let Some(offer) = self.pending_remote.as_ref() else {
            return Err(Error::InvalidState(InvalidStateReason::NoRemoteOffer {
                state: self.signaling_state,
            }));
        };
        let local: Vec<LocalTransport> = plan
            .bundle()
            .transports
            .iter()
            .map(|&section| transports(section))
            .collect();
        let origin = answer::SessionOrigin {
            session_id: self.session_id,
            session_version: self.session_version,
        };
        let mut written = plan
            .into_answer(&offer.parsed, &local, origin, &self.options)
            .map_err(|e| Error::Operation(crate::error::OperationReason::Answer(e)))?;
        let mut text = sdp_text(&written.description, offer.sdp.len());
        if self
            .last_local_sdp
            .as_deref()
            .is_some_and(|last| last != text)
        {
            // The SDP changed versus the previous one: a new session version (RFC 9429 §5.3.2).
            self.session_version += 1;
            written.description.origin.session_version = self.session_version;
            text = sdp_text(&written.description, text.len());
        }
        // One shared copy of the text serves both checks.
        let shared: Arc<str> = Arc::from(text.as_str());
        self.last_local_sdp = Some(Arc::clone(&shared));
        self.last_created_answer = Some(shared);
        for section in &written.explanation.sections {
            tracing::debug!(
                index = section.index,
                mid = section.mid.as_deref().unwrap_or(""),
                kind = %section.kind,
                outcome = ?section.outcome,
                "answer section"
            );
        }
        tracing::trace!(explanation = %written.explanation, "answer created");
        self.last_explanation = Some(written.explanation);
        Ok(RTCSessionDescriptionInit::answer(text))
    }

    /// `setLocalDescription(description)`; an answer must be the last created one (no munging).
    pub fn set_local_description(
        &mut self,
        description: &RTCSessionDescriptionInit,
    ) -> Result<Applied, Error> {
        let transition = self
            .signaling_state
            .apply(Side::Local, description.sdp_type)?;
        if description.sdp_type == RTCSdpType::Rollback {
            return Ok(self.rollback(transition.state));
        }
        // An offer or (provisional) answer must be the last one created; the applied
        // description keeps that text, not a copy.
        let (created, refused) = match description.sdp_type {
            RTCSdpType::Offer => (
                &self.last_created_offer,
                InvalidModificationReason::NotLastCreatedOffer,
            ),
            _ => (
                &self.last_created_answer,
                InvalidModificationReason::NotLastCreatedAnswer,
            ),
        };
        let Some(sdp) = created
            .as_ref()
            .filter(|created| ***created == *description.sdp)
            .map(Arc::clone)
        else {
            return Err(Error::InvalidModification(refused));
        };
        let parsed = remote_checks::parse_remote(&description.sdp)?;
        let before = self.signaling_state;
        let applied = Box::new(AppliedDescription {
            sdp_type: description.sdp_type,
            sdp,
            parsed,
        });
        let complete = description.sdp_type == RTCSdpType::Answer;
        if description.sdp_type == RTCSdpType::Offer {
            self.pending_local = Some(applied);
        } else if complete {
            self.record_current_directions(&applied.parsed);
            self.current_local = Some(applied);
            self.pending_local = None;
            self.current_remote = self.pending_remote.take().or(self.current_remote.take());
        } else {
            self.pending_local = Some(applied);
        }
        self.signaling_state = transition.state;
        Ok(Applied {
            signaling_state_changed: before != transition.state,
            negotiation_complete: complete,
        })
    }

    fn rollback(&mut self, state: RTCSignalingState) -> Applied {
        let before = self.signaling_state;
        if self.pending_remote.take().is_some() {
            // Transceivers created by the rolled-back offer go away; associations made by it
            // are undone.
            let current_mids = transceivers::mids([self.current_remote.as_deref()]);
            self.transceivers.retain(|t| {
                !t.created_by_remote
                    || t.mid.as_ref().is_some_and(|m| current_mids.contains(m))
                    || t.track.is_some()
            });
            for transceiver in &mut self.transceivers {
                if transceiver
                    .mid
                    .as_ref()
                    .is_some_and(|m| !current_mids.contains(m))
                {
                    transceiver.mid = None;
                }
            }
        }
        self.pending_local = None;
        self.clear_provisional_mids();
        self.signaling_state = state;
        Applied {
            signaling_state_changed: before != state,
            negotiation_complete: false,
        }
    }
}

/// `description` as SDP text, written into a buffer of `capacity_hint` bytes (the size of a
/// comparable description), so the writer does not regrow its `String` line after line.
fn sdp_text(description: &SessionDescription, capacity_hint: usize) -> String {
    let mut text = String::with_capacity(capacity_hint);
    description.write_to(&mut text);
    text
}
