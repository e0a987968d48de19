//! One signaling session of `antiphon serve`: a WebSocket whose JSON messages drive one
//! `RTCPeerConnection` (the page's offers, the first then ICE restarts or renegotiation;
//! trickled candidates; getStats; Antiphon's own offers when it needs a negotiation), and
//! what goes back (answers, candidates, states, errors). The README lists every message.

use std::sync::Arc;
use std::time::Duration;

use antiphon_peer::{
    PeerConnectionEvent, RTCDataChannel, RTCIceCandidateInit, RTCPeerConnection,
    RTCRtpTransceiverInit, RTCSessionDescriptionInit, RTCSignalingState,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::json;
use tokio::sync::{Notify, mpsc, watch};

use crate::serve::{SessionConfig, say};

/// Messages queued for a page that reads them too slowly; past this the session ends.
const OUTGOING_QUEUE: usize = 256;
/// How long one message may take to reach a page's socket before the session ends.
const SEND_LIMIT: Duration = Duration::from_secs(10);

/// What goes to the page: a bounded queue the session's loop writes out. A page that does not
/// read its messages fills it, and the session ends (close 1008) rather than the server
/// holding them without bound.
#[derive(Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Message>,
    overflow: Arc<Notify>,
}

impl Outbox {
    /// Queues a text message.
    pub(crate) fn text(&self, text: String) {
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
    let close = loop {
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    on_message(text.as_bytes(), &mut pc, &out, &signaling, &mut ignoring, &config).await;
                }
                Some(Ok(Message::Binary(data))) => {
                    on_message(&data, &mut pc, &out, &signaling, &mut ignoring, &config).await;
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
            },
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
            () = shut_down(&mut shutting_down) => break Some(1001),
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

/// Until the server shuts down.
async fn shut_down(shutting_down: &mut watch::Receiver<bool>) {
    let _ = shutting_down.wait_for(|down| *down).await;
}

/// Sends one JSON text message to the page.
fn send_json(out: &Outbox, value: &serde_json::Value) {
    out.text(value.to_string());
}

/// A message of the page's that was refused: why, to the page (`{"type":"error"}`) and on
/// standard output (`<what> refused: <why>`).
fn refuse(out: &Outbox, what: &str, error: &str) {
    say(&format!("{what} refused: {error}"));
    send_json(out, &json!({"type": "error", "message": error}));
}

/// W3C state names are the lowercased variant names.
fn state_name(state: impl std::fmt::Debug) -> String {
    format!("{state:?}").to_ascii_lowercase()
}

/// A message from the page: `{"type":"offer","sdp":...}`, `{"type":"candidate","candidate":
/// RTCIceCandidateInit | null}` (trickled; `null` is end-of-candidates), `{"type":"getStats"}`
/// (answered with `{"type":"stats","report":[...]}`, Antiphon's W3C stats) or
/// `{"type":"log","text":...}`.
async fn on_message(
    data: &[u8],
    pc: &mut Option<Arc<RTCPeerConnection>>,
    out: &Outbox,
    signaling: &Arc<tokio::sync::Mutex<()>>,
    ignoring: &mut bool,
    config: &SessionConfig,
) {
    let _turn = signaling.lock().await;
    let Ok(text) = std::str::from_utf8(data) else {
        send_json(
            out,
            &json!({"type": "error", "message": "message is not UTF-8"}),
        );
        return;
    };
    let kind = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| Some((v.get("type")?.as_str()?.to_owned(), v)));
    match kind {
        Some((kind, value)) if kind == "log" => {
            let line = value.get("text").and_then(|t| t.as_str()).unwrap_or("");
            say(&format!("browser: {line}"));
        }
        Some((kind, _)) if kind == "getStats" => match pc.as_deref() {
            Some(pc) => {
                let report = pc.get_stats().await;
                send_json(out, &json!({"type": "stats", "report": report}));
            }
            None => send_json(
                out,
                &json!({"type": "error", "message": "getStats before the offer"}),
            ),
        },
        Some((kind, value)) if kind == "candidate" => {
            match add_candidate(value, pc.as_deref()).await {
                Ok(()) => {}
                Err(_) if *ignoring => {}
                Err(error) => refuse(out, "candidate", &error),
            }
        }
        Some((kind, value)) if kind == "addTransceiver" => {
            if let Err(error) = add_transceiver(&value, pc.as_deref()).await {
                send_json(out, &json!({"type": "error", "message": error}));
            }
        }
        Some((kind, _)) if kind == "answer" => {
            *ignoring = false;
            let applied = match (pc.as_deref(), RTCSessionDescriptionInit::from_json(text)) {
                (Some(pc), Ok(answer)) => pc
                    .set_remote_description(answer)
                    .await
                    .map_err(|e| e.to_string()),
                (None, _) => Err("an answer before any offer".to_owned()),
                (_, Err(error)) => Err(error.to_string()),
            };
            match applied {
                Ok(()) => say("the page answered our offer"),
                Err(error) => refuse(out, "answer", &error),
            }
        }
        Some((kind, _)) if kind == "offer" => {
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
            if let Err(error) = answer(text, pc, out, signaling, config).await {
                refuse(out, "offer", &error);
            }
        }
        _ => send_json(
            out,
            &json!({"type": "error", "message": "expected {\"type\":\"offer\"|\"answer\"|\"candidate\"|\"addTransceiver\"|\"getStats\"|\"log\", ...}"}),
        ),
    }
}

/// `addTransceiver(kind, {direction: "recvonly"})` for `{"type":"addTransceiver","kind":...}`:
/// Antiphon then needs a negotiation and offers itself (`negotiationneeded`).
async fn add_transceiver(
    message: &serde_json::Value,
    pc: Option<&RTCPeerConnection>,
) -> Result<(), String> {
    let Some(pc) = pc else {
        return Err("addTransceiver before the offer".to_owned());
    };
    let kind = match message.get("kind").and_then(|k| k.as_str()) {
        Some("audio") => antiphon_codec::MediaKind::Audio,
        Some("video") => antiphon_codec::MediaKind::Video,
        _ => return Err("addTransceiver needs \"kind\": \"audio\" or \"video\"".to_owned()),
    };
    let init = RTCRtpTransceiverInit::default().with_direction(antiphon_codec::Direction::RecvOnly);
    pc.add_transceiver(kind, init)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Our own offer, when signaling is `stable` (else someone else's exchange is under way and
/// `negotiationneeded` fires again when it ends): `createOffer()`, `setLocalDescription(offer)`.
async fn own_offer(pc: &RTCPeerConnection) -> Result<Option<String>, String> {
    if pc.signaling_state().await != RTCSignalingState::Stable {
        return Ok(None);
    }
    let offer = pc.create_offer().await.map_err(|e| e.to_string())?;
    pc.set_local_description(Some(offer.clone()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(offer.to_json()))
}

/// `setRemoteDescription(offer)`, `createAnswer()`, `setLocalDescription(answer)`: the answer.
async fn apply_offer(
    pc: &RTCPeerConnection,
    offer: RTCSessionDescriptionInit,
) -> Result<RTCSessionDescriptionInit, String> {
    pc.set_remote_description(offer)
        .await
        .map_err(|e| e.to_string())?;
    let answer = pc.create_answer().await.map_err(|e| e.to_string())?;
    pc.set_local_description(Some(answer.clone()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer)
}

/// `addIceCandidate` with a candidate the page trickled (`{"candidate": null}` or an empty
/// candidate is end-of-candidates).
async fn add_candidate(
    message: serde_json::Value,
    pc: Option<&RTCPeerConnection>,
) -> Result<(), String> {
    let Some(pc) = pc else {
        return Err("a candidate before the offer".to_owned());
    };
    let candidate = match message.get("candidate") {
        None | Some(serde_json::Value::Null) => RTCIceCandidateInit {
            candidate: String::new(),
            sdp_mid: None,
            sdp_m_line_index: None,
        },
        Some(value) => serde_json::from_value::<RTCIceCandidateInit>(value.clone())
            .map_err(|e| format!("candidate is not an RTCIceCandidateInit: {e}"))?,
    };
    pc.add_ice_candidate(candidate)
        .await
        .map_err(|e| e.to_string())
}

/// Echoes `channel`'s messages until it closes (`echo: ` before text). One refused send (a
/// message over the page's max-message-size, say) is reported and the echo goes on.
async fn echo(channel: RTCDataChannel) {
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
    text: &str,
    slot: &mut Option<Arc<RTCPeerConnection>>,
    out: &Outbox,
    signaling: &Arc<tokio::sync::Mutex<()>>,
    config: &SessionConfig,
) -> Result<(), String> {
    let offer = RTCSessionDescriptionInit::from_json(text).map_err(|e| e.to_string())?;
    if let Some(pc) = slot.as_ref() {
        let answer = apply_offer(pc, offer).await?;
        say("answered a new offer");
        out.text(answer.to_json());
        return Ok(());
    }
    let pc = RTCPeerConnection::with_options(config.configuration(), config.options.clone())
        .map_err(|e| e.to_string())?;
    let pc = Arc::new(pc);
    let mut events = pc.subscribe();
    let answer = apply_offer(&pc, offer).await?;
    // The answer first: candidates reported while it was applied wait in `events` and go after
    // it, so the page never gets a candidate before the description it belongs to.
    out.text(answer.to_json());
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
                        Ok(Some(json)) => {
                            say("offered (negotiationneeded)");
                            states.text(json);
                        }
                        Ok(None) => {}
                        Err(error) => say(&format!("offer failed: {error}")),
                    }
                }
                Some(PeerConnectionEvent::ConnectionState(state)) => {
                    say(&format!("connection {state:?}"));
                    send_json(
                        &states,
                        &json!({"type": "state", "connection": state_name(state)}),
                    );
                }
                Some(PeerConnectionEvent::IceConnectionState(state)) => {
                    send_json(&states, &json!({"type": "state", "ice": state_name(state)}));
                }
                Some(PeerConnectionEvent::IceCandidateError(error)) => {
                    say(&format!(
                        "icecandidateerror {} {}: {}",
                        error.url, error.error_code, error.error_text
                    ));
                }
                Some(PeerConnectionEvent::IceCandidate(candidate)) => {
                    send_json(
                        &states,
                        &json!({"type": "candidate", "candidate": candidate}),
                    );
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
