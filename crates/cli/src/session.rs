//! One signaling session of `antiphon serve`: a WebSocket whose JSON messages drive one
//! `RTCPeerConnection` (the page's offers, the first then ICE restarts or renegotiation;
//! trickled candidates; getStats; Antiphon's own offers when it needs a negotiation), and
//! what goes back (answers, candidates, states, errors). The README lists every message.

use std::sync::Arc;
use std::time::Duration;

use antiphon_peer::{
    PeerConnectionEvent, RTCDataChannel, RTCIceCandidateInit, RTCPeerConnection,
    RTCRtpTransceiverInit, RTCSdpType, RTCSessionDescriptionInit, RTCSignalingState,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{Notify, mpsc, watch};

use crate::serve::{SessionConfig, say, until_shutdown};
use crate::signaling::{PageMessage, Refusal, ServerMessage, TransceiverKind};

/// Messages queued for a page that reads them too slowly; past this the session ends.
const OUTGOING_QUEUE: usize = 256;
/// How long one message may take to reach a page's socket before the session ends.
const SEND_LIMIT: Duration = Duration::from_secs(10);
/// Offers a session may send at once; one more is allowed every [`OFFER_REFILL`] (30 a minute).
const OFFER_BURST: u32 = 30;
/// How often a session earns one more offer.
const OFFER_REFILL: Duration = Duration::from_secs(2);

/// The offers a session may still send: a token bucket of [`OFFER_BURST`] that refills one
/// every [`OFFER_REFILL`]. Each offer makes the connection do real work (parse, negotiate, an
/// ICE restart gathers), so a page that sends them in a loop is refused.
struct OfferBudget {
    left: u32,
    since: tokio::time::Instant,
}

impl OfferBudget {
    fn new() -> Self {
        Self {
            left: OFFER_BURST,
            since: tokio::time::Instant::now(),
        }
    }

    /// Takes one offer from the budget, or says how long until there is one.
    fn take(&mut self) -> Result<(), Duration> {
        let now = tokio::time::Instant::now();
        let earned = now.duration_since(self.since).as_millis() / OFFER_REFILL.as_millis();
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(earned).min(OFFER_BURST);
            self.since += OFFER_REFILL * earned.min(OFFER_BURST);
            if self.left == OFFER_BURST {
                self.since = now;
            }
        }
        if self.left == 0 {
            return Err(OFFER_REFILL.saturating_sub(now.duration_since(self.since)));
        }
        self.left -= 1;
        Ok(())
    }
}

/// What goes to the page: a bounded queue the session's loop writes out. A page that does not
/// read its messages fills it, and the session ends (close 1008) rather than the server
/// holding them without bound.
#[derive(Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Message>,
    overflow: Arc<Notify>,
}

impl Outbox {
    /// Queues a message for the page.
    pub(crate) fn send(&self, message: &ServerMessage<'_>) {
        let text = message.to_json();
        if self.queue.try_send(Message::Text(text.into())).is_err() {
            self.overflow.notify_one();
        }
    }
}

/// Runs one session until the page closes it, it breaks a rule, or the server shuts down
/// (close 1001, going away); then closes its connection.
pub(crate) async fn run(
    mut socket: WebSocket,
    mut shutting_down: watch::Receiver<bool>,
    config: Arc<SessionConfig>,
    idle_limit: Duration,
) {
    let (queue, mut outgoing) = mpsc::channel(OUTGOING_QUEUE);
    let overflow = Arc::new(Notify::new());
    let out = Outbox {
        queue,
        overflow: Arc::clone(&overflow),
    };
    let mut pc: Option<Arc<RTCPeerConnection>> = None;
    // One signaling operation at a time: the page's messages and Antiphon's own offers
    // (`negotiationneeded`) are applied in turn.
    let signaling = Arc::new(tokio::sync::Mutex::new(()));
    // The page's last description was a colliding offer we ignored: its candidates are
    // expected to fail (webrtc-pc's perfect negotiation: `ignoreOffer`).
    let mut ignoring = false;
    let mut offers = OfferBudget::new();
    // Liveness: a ping every third of the idle limit; a page that sends nothing at all, not
    // even the pongs, for the idle limit is gone (or parks the session) and is closed.
    let mut pings = tokio::time::interval(idle_limit / 3);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pings.reset();
    let mut heard = tokio::time::Instant::now();
    let close = loop {
        tokio::select! {
            message = socket.recv() => {
                heard = tokio::time::Instant::now();
                match message {
                Some(Ok(Message::Text(text))) => {
                    on_message(text.as_bytes(), &mut pc, &out, &signaling, &mut ignoring, &mut offers, &config).await;
                }
                Some(Ok(Message::Binary(data))) => {
                    on_message(&data, &mut pc, &out, &signaling, &mut ignoring, &mut offers, &config).await;
                }
                // Pings are answered by the WebSocket layer.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break None,
                // A frame that breaks RFC 6455 (invalid UTF-8 in text, a bad opcode or mask, a
                // message over the size limit): the session ends with the code that names it.
                Some(Err(error)) => {
                    say(&format!("websocket closed: {error}"));
                    break close_code(error);
                }
            }},
            _ = pings.tick() => {
                // Queued behind what is already going out (the bounded outbox).
                if out.queue.try_send(Message::Ping(Default::default())).is_err() {
                    overflow.notify_one();
                }
            }
            () = tokio::time::sleep_until(heard + idle_limit) => {
                say("websocket closed: the page sent nothing, not even pongs, for the idle limit");
                break Some(1008);
            }
            Some(message) = outgoing.recv() => {
                match tokio::time::timeout(SEND_LIMIT, socket.send(message)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break None,
                    Err(_) => {
                        say("websocket closed: the page does not read its messages");
                        break Some(1008);
                    }
                }
            }
            () = overflow.notified() => {
                say("websocket closed: the page does not read its messages");
                break Some(1008);
            }
            // The server shuts down: going away (RFC 6455 §7.4.1).
            () = until_shutdown(&mut shutting_down) => break Some(1001),
        }
    };
    if let Some(code) = close {
        let frame = CloseFrame {
            code,
            reason: "".into(),
        };
        let _ = tokio::time::timeout(SEND_LIMIT, socket.send(Message::Close(Some(frame)))).await;
    }
    drop(socket);
    if let Some(pc) = pc {
        pc.close().await;
    }
}

/// The RFC 6455 close code for a frame the WebSocket layer refused (§7.4.1): 1007 for text
/// that is not UTF-8, 1009 for a message over the limit, 1002 for any other protocol error.
fn close_code(error: axum::Error) -> Option<u16> {
    use tungstenite::error::{Error, ProtocolError};
    let inner = error.into_inner();
    match inner.downcast_ref::<Error>()? {
        Error::Utf8(_) => Some(1007),
        Error::Capacity(_) => Some(1009),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        Error::Protocol(_) => Some(1002),
        _ => None,
    }
}

/// A message of the page's that was refused: why, to the page (`{"type":"error"}`) and on
/// standard output (`<about> refused: <why>`).
fn refuse(out: &Outbox, refusal: Refusal) {
    say(&format!("{} refused: {}", refusal.about, refusal.message));
    out.send(&ServerMessage::Error(refusal));
}

/// W3C state names are the lowercased variant names.
fn state_name(state: impl std::fmt::Debug) -> String {
    format!("{state:?}").to_ascii_lowercase()
}

/// One message from the page ([`PageMessage`]); what it asks is done, and what is refused is
/// answered with an `error` (the session goes on).
async fn on_message(
    data: &[u8],
    pc: &mut Option<Arc<RTCPeerConnection>>,
    out: &Outbox,
    signaling: &Arc<tokio::sync::Mutex<()>>,
    ignoring: &mut bool,
    offers: &mut OfferBudget,
    config: &SessionConfig,
) {
    let _turn = signaling.lock().await;
    let message = match serde_json::from_slice::<PageMessage>(data) {
        Ok(message) => message,
        Err(error) => {
            return refuse(
                out,
                Refusal::new("message", format!("not a signaling message: {error}")),
            );
        }
    };
    match message {
        PageMessage::Log { text } => say(&format!("browser: {text}")),
        PageMessage::GetStats => match pc.as_deref() {
            Some(pc) => {
                let report = pc.get_stats().await;
                let media = pc.media_stats().await;
                out.send(&ServerMessage::Stats {
                    report: &report,
                    media,
                });
            }
            None => refuse(out, Refusal::new("getStats", "getStats before the offer")),
        },
        PageMessage::Candidate { candidate } => {
            match add_candidate(candidate, pc.as_deref()).await {
                Ok(()) => {}
                Err(_) if *ignoring => {}
                Err(refusal) => refuse(out, refusal),
            }
        }
        PageMessage::AddTransceiver { kind } => {
            if let Err(refusal) = add_transceiver(kind, pc.as_deref()).await {
                refuse(out, refusal);
            }
        }
        PageMessage::Answer { sdp } => {
            *ignoring = false;
            let answer = RTCSessionDescriptionInit {
                sdp_type: RTCSdpType::Answer,
                sdp,
            };
            let applied = match pc.as_deref() {
                Some(pc) => pc
                    .set_remote_description(answer)
                    .await
                    .map_err(|e| Refusal::from_error("answer", &e)),
                None => Err(Refusal::new("answer", "an answer before any offer")),
            };
            match applied {
                Ok(()) => say("the page answered our offer"),
                Err(refusal) => refuse(out, refusal),
            }
        }
        PageMessage::Offer { sdp } => {
            if let Err(wait) = offers.take() {
                let refusal = Refusal::new(
                    "offer",
                    format!(
                        "too many offers: at most {OFFER_BURST} at once and one every {}s after (next in {} ms)",
                        OFFER_REFILL.as_secs(),
                        wait.as_millis()
                    ),
                )
                .named("QuotaExceededError");
                return refuse(out, refusal);
            }
            let colliding = match pc.as_deref() {
                Some(pc) => pc.signaling_state().await == RTCSignalingState::HaveLocalOffer,
                None => false,
            };
            *ignoring = colliding;
            if colliding {
                // Perfect negotiation: Antiphon is the impolite side; the page (polite) rolls
                // its offer back and answers ours.
                say("ignored a colliding offer");
                return;
            }
            let offer = RTCSessionDescriptionInit {
                sdp_type: RTCSdpType::Offer,
                sdp,
            };
            if let Err(error) = answer(offer, pc, out, signaling, config).await {
                refuse(out, Refusal::from_error("offer", &error));
            }
        }
    }
}

/// `addTransceiver(kind, {direction: "recvonly"})` for `{"type":"addTransceiver","kind":...}`:
/// Antiphon then needs a negotiation and offers itself (`negotiationneeded`).
async fn add_transceiver(
    kind: TransceiverKind,
    pc: Option<&RTCPeerConnection>,
) -> Result<(), Refusal> {
    let Some(pc) = pc else {
        return Err(Refusal::new(
            "addTransceiver",
            "addTransceiver before the offer",
        ));
    };
    let kind = match kind {
        TransceiverKind::Audio => antiphon_codec::MediaKind::Audio,
        TransceiverKind::Video => antiphon_codec::MediaKind::Video,
    };
    let init = RTCRtpTransceiverInit::default().with_direction(antiphon_codec::Direction::RecvOnly);
    pc.add_transceiver(kind, init)
        .await
        .map(|_| ())
        .map_err(|e| Refusal::from_error("addTransceiver", &e))
}

/// Our own offer, when signaling is `stable` (else someone else's exchange is under way and
/// `negotiationneeded` fires again when it ends): `createOffer()`, `setLocalDescription(offer)`.
async fn own_offer(
    pc: &RTCPeerConnection,
) -> Result<Option<RTCSessionDescriptionInit>, antiphon_peer::Error> {
    if pc.signaling_state().await != RTCSignalingState::Stable {
        return Ok(None);
    }
    let offer = pc.create_offer().await?;
    pc.set_local_description(Some(offer.clone())).await?;
    Ok(Some(offer))
}

/// `setRemoteDescription(offer)`, our tracks on the sections the page sends on (its media
/// comes back on them, [`crate::reflect`]), `createAnswer()`, `setLocalDescription(answer)`:
/// the answer.
pub(crate) async fn apply_offer(
    pc: &RTCPeerConnection,
    offer: RTCSessionDescriptionInit,
) -> Result<RTCSessionDescriptionInit, antiphon_peer::Error> {
    pc.set_remote_description(offer).await?;
    crate::reflect::add_tracks(pc).await?;
    let answer = pc.create_answer().await?;
    pc.set_local_description(Some(answer.clone())).await?;
    Ok(answer)
}

/// `addIceCandidate` with a candidate the page trickled (`null` or an empty candidate is
/// end-of-candidates).
async fn add_candidate(
    candidate: Option<RTCIceCandidateInit>,
    pc: Option<&RTCPeerConnection>,
) -> Result<(), Refusal> {
    let Some(pc) = pc else {
        return Err(Refusal::new("candidate", "a candidate before the offer"));
    };
    let candidate = candidate.unwrap_or(RTCIceCandidateInit {
        candidate: String::new(),
        sdp_mid: None,
        sdp_m_line_index: None,
    });
    pc.add_ice_candidate(candidate)
        .await
        .map_err(|e| Refusal::from_error("candidate", &e))
}

/// Echoes `channel`'s messages until it closes (`echo: ` before text). One refused send (a
/// message over the page's max-message-size, say) is reported and the echo goes on.
pub(crate) async fn echo(channel: RTCDataChannel) {
    while let Some(message) = channel.recv().await {
        let sent = if message.is_string {
            let text = String::from_utf8_lossy(&message.data);
            channel.send_text(&format!("echo: {text}")).await
        } else {
            channel.send(message.data).await
        };
        if let Err(error) = sent {
            say(&format!("echo on {:?} failed: {error}", channel.label()));
        }
    }
}

/// Answers a browser offer and sends the answer, then our candidates as they are found
/// (`{"type":"candidate","candidate":...}`, `null` at the end). The first offer creates the
/// connection, which echoes every data channel the browser opens ([`echo`]) (`echo: ` before text
/// messages; binary messages come back unchanged) and reports its states to the page; later
/// offers (an ICE restart, renegotiation) go to the same connection.
async fn answer(
    offer: RTCSessionDescriptionInit,
    slot: &mut Option<Arc<RTCPeerConnection>>,
    out: &Outbox,
    signaling: &Arc<tokio::sync::Mutex<()>>,
    config: &SessionConfig,
) -> Result<(), antiphon_peer::Error> {
    if let Some(pc) = slot.as_ref() {
        let answer = apply_offer(pc, offer).await?;
        say("answered a new offer");
        out.send(&ServerMessage::Answer { sdp: &answer.sdp });
        return Ok(());
    }
    let pc = RTCPeerConnection::with_options(config.configuration(), config.options.clone())?;
    let pc = Arc::new(pc);
    crate::reflect::spawn(&pc);
    let mut events = pc.subscribe();
    let answer = apply_offer(&pc, offer).await?;
    // The answer first: candidates reported while it was applied wait in `events` and go after
    // it, so the page never gets a candidate before the description it belongs to.
    out.send(&ServerMessage::Answer { sdp: &answer.sdp });
    let states = out.clone();
    // Weak: the task lives until the connection's event stream ends, which a strong handle
    // here would prevent (each closed session then kept its connection: 85 KiB).
    let offerer = Arc::downgrade(&pc);
    let signaling = Arc::clone(signaling);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Some(PeerConnectionEvent::NegotiationNeeded) => {
                    let Some(offerer) = offerer.upgrade() else {
                        break;
                    };
                    let _turn = signaling.lock().await;
                    match own_offer(&offerer).await {
                        Ok(Some(offer)) => {
                            say("offered (negotiationneeded)");
                            states.send(&ServerMessage::Offer { sdp: &offer.sdp });
                        }
                        Ok(None) => {}
                        Err(error) => say(&format!("offer failed: {error}")),
                    }
                }
                Some(PeerConnectionEvent::ConnectionState(state)) => {
                    say(&format!("connection {state:?}"));
                    states.send(&ServerMessage::State {
                        connection: Some(state_name(state)),
                        ice: None,
                    });
                }
                Some(PeerConnectionEvent::IceConnectionState(state)) => {
                    states.send(&ServerMessage::State {
                        connection: None,
                        ice: Some(state_name(state)),
                    });
                }
                Some(PeerConnectionEvent::IceCandidateError(error)) => {
                    say(&format!(
                        "icecandidateerror {} {}: {}",
                        error.url, error.error_code, error.error_text
                    ));
                }
                Some(PeerConnectionEvent::IceCandidate(candidate)) => {
                    states.send(&ServerMessage::Candidate {
                        candidate: candidate.as_ref(),
                    });
                }
                Some(PeerConnectionEvent::DataChannel(channel)) => {
                    say(&format!("data channel {:?} open", channel.label()));
                    tokio::spawn(echo(channel));
                }
                Some(_) => {}
                None => break,
            }
        }
    });
    *slot = Some(pc);
    Ok(())
}
