//! `antiphon serve`: a small signaling server and demo page. The page offers a data channel
//! (and camera/microphone tracks with `?media=1`), sends its offer as browser JSON over a
//! WebSocket (`/ws`), and applies Antiphon's answer; Antiphon connects, reports its states over
//! the same WebSocket, and echoes every data channel message. Later offers on the same
//! WebSocket (an ICE restart) renegotiate the same connection.
//!
//! Candidates trickle both ways (`{"type":"candidate"}`), Antiphon's stats are there for the
//! asking (`{"type":"getStats"}`), and Antiphon offers itself when it needs a negotiation, as
//! the impolite side of webrtc-pc's perfect negotiation. The README lists every message.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use antiphon_peer::{
    PeerConnectionEvent, PeerOptions, RTCConfiguration, RTCDataChannel, RTCIceCandidateInit,
    RTCIceServer, RTCPeerConnection, RTCRtpTransceiverInit, RTCSessionDescriptionInit,
    RTCSignalingState,
};
use clap::Args;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::ws;

const PAGE: &str = include_str!("../web/index.html");

/// Largest WebSocket message accepted, over all its frames (an offer is a few KiB).
const MAX_MESSAGE: usize = 256 * 1024;

/// Arguments of `antiphon serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Another origin whose pages may open the signaling WebSocket (`/ws`), e.g.
    /// `https://app.example`; repeatable. By default only the page's own origin may.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// A STUN or TURN server (`stun:`, `turn:[...?transport=tcp]` or `turns:` URL) for both
    /// Antiphon and the page, which fetches them from `/config`; repeatable.
    #[arg(long = "ice-server", value_name = "URL")]
    ice_servers: Vec<String>,
    /// The username for the TURN servers of `--ice-server`.
    #[arg(long = "ice-username", value_name = "USERNAME")]
    ice_username: Option<String>,
    /// The credential (password) for the TURN servers of `--ice-server`. The page receives it
    /// too: prefer `--ice-secret`.
    #[arg(
        long = "ice-credential",
        value_name = "CREDENTIAL",
        conflicts_with = "ice_secret"
    )]
    ice_credential: Option<String>,
    /// The secret shared with the TURN servers (coturn's `static-auth-secret`): every page and
    /// every session gets its own credentials from it, valid for an hour (`<expiry>:<username>`
    /// and HMAC-SHA1 of it), so no lasting password reaches a page.
    #[arg(long = "ice-secret", value_name = "SECRET")]
    ice_secret: Option<String>,
    /// Root certificates (PEM) that verify `turns:` servers on Antiphon's side, besides the
    /// platform's (a browser trusts its own).
    #[arg(long = "ice-ca", value_name = "FILE")]
    ice_ca: Option<std::path::PathBuf>,
}

/// What every session's connection is made with.
pub(crate) struct SessionConfig {
    configuration: RTCConfiguration,
    options: PeerOptions,
    /// `--ice-secret`: the TURN credentials are made anew for each page and session.
    secret: Option<String>,
}

/// How long credentials made from `--ice-secret` are valid.
const EPHEMERAL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

impl SessionConfig {
    /// From the arguments, checked as a connection's constructor checks them (a bad URL, a
    /// TURN server without credentials, unreadable roots fail at start).
    fn new(args: &ServeArgs) -> Result<Self, String> {
        let mut ice_servers = Vec::new();
        if !args.ice_servers.is_empty() {
            ice_servers.push(RTCIceServer {
                urls: args.ice_servers.clone(),
                username: args.ice_username.clone(),
                credential: args.ice_credential.clone(),
            });
        }
        let mut config = Self {
            configuration: RTCConfiguration::default().with_ice_servers(ice_servers),
            options: PeerOptions::default(),
            secret: args.ice_secret.clone(),
        };
        let configuration = config.configuration();
        let roots = match &args.ice_ca {
            Some(path) => {
                Some(std::fs::read(path).map_err(|e| format!("--ice-ca {}: {e}", path.display()))?)
            }
            None => None,
        };
        config.options = PeerOptions::default().with_turn_roots_pem(roots);
        RTCPeerConnection::with_options(configuration, config.options.clone())
            .map_err(|e| format!("--ice-server: {e}"))?;
        Ok(config)
    }

    /// The configuration for one connection (or page): with `--ice-secret`, credentials made
    /// now, valid for [`EPHEMERAL_LIFETIME`].
    fn configuration(&self) -> RTCConfiguration {
        let Some(secret) = &self.secret else {
            return self.configuration.clone();
        };
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |now| (now + EPHEMERAL_LIFETIME).as_secs());
        let mut configuration = self.configuration.clone();
        for server in &mut configuration.ice_servers {
            let user = server.username.as_deref().unwrap_or("antiphon");
            let (username, credential) =
                antiphon_ice::turn::ephemeral_credentials(secret, user, expires);
            server.username = Some(username);
            server.credential = Some(credential);
        }
        configuration
    }

    /// `/config`: the ICE servers for the page's `RTCPeerConnection`.
    fn page_json(&self) -> String {
        json!({ "iceServers": self.configuration().ice_servers }).to_string()
    }
}

pub(crate) fn run(args: &ServeArgs) -> Result<ExitCode, String> {
    let config = Arc::new(SessionConfig::new(args)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(serve(
        args.addr,
        Arc::new(args.allow_origins.clone()),
        config,
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// How long a shutdown waits for the sessions to close their connections.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully: no new request is accepted,
/// every signaling session ends (a WebSocket close 1001, going away) and closes its connection
/// (SCTP shutdown and DTLS close_notify to the peer), and the server returns (exit 0).
async fn serve(
    addr: SocketAddr,
    allowed_origins: Arc<Vec<String>>,
    config: Arc<SessionConfig>,
) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    say(&format!("listening on http://{local}/"));
    let (shutdown, shutting_down) = tokio::sync::watch::channel(false);
    let mut requests = tokio::task::JoinSet::new();
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(|e| e.to_string())?;
                let allowed_origins = Arc::clone(&allowed_origins);
                let shutting_down = shutting_down.clone();
                let config = Arc::clone(&config);
                requests.spawn(async move {
                    if let Err(error) = handle(stream, &allowed_origins, shutting_down, config).await {
                        say(&format!("request failed: {error}"));
                    }
                });
            }
            // Finished requests are reaped as they end, so the set holds the live ones.
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
            signal = &mut signal => {
                signal?;
                break;
            }
        }
    }
    drop(listener);
    let live = requests.len();
    say(&format!("shutting down: {live} requests or sessions open"));
    let _ = shutdown.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_LIMIT, async {
        while requests.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => say("shut down: every session closed"),
        Err(_) => say(&format!(
            "shut down: {} sessions did not close within {SHUTDOWN_LIMIT:?}",
            requests.len()
        )),
    }
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() -> Result<(), String> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("SIGTERM handler: {e}"))?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.map_err(|e| format!("Ctrl-C handler: {e}")),
        _ = terminate.recv() => Ok(()),
    }
}

struct Request {
    method: String,
    path: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 64;

/// Longest request or header line accepted.
const MAX_LINE: u64 = 8 * 1024;

/// Reads one CRLF-terminated line of at most [`MAX_LINE`] bytes.
async fn read_line(
    reader: &mut BufReader<&mut TcpStream>,
    line: &mut String,
) -> Result<(), String> {
    let read = reader
        .take(MAX_LINE)
        .read_line(line)
        .await
        .map_err(|e| e.to_string())?;
    if read > 0 && !line.ends_with('\n') {
        return Err("request line or header too long".to_owned());
    }
    Ok(())
}

async fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    read_line(&mut reader, &mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().ok_or("empty request")?.to_owned();
    let path = parts.next().ok_or("no path")?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        read_line(&mut reader, &mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err("too many headers".to_owned());
        }
        if let Some((name, value)) = header.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            headers.push((name, value.trim().to_owned()));
        }
    }
    // Only GET requests are served: a body, if any, is never read.
    Ok(Request {
        method,
        path,
        headers,
    })
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(body).await.map_err(|e| e.to_string())
}

async fn handle(
    mut stream: TcpStream,
    allowed_origins: &[String],
    shutting_down: tokio::sync::watch::Receiver<bool>,
    config: Arc<SessionConfig>,
) -> Result<(), String> {
    let request = read_request(&mut stream).await?;
    let path = request.path.split('?').next().unwrap_or("");
    if let Err(why) = request_allowed(&request, path, allowed_origins) {
        say(&format!("request refused: {why}"));
        return respond(&mut stream, "403 Forbidden", "text/plain", why.as_bytes()).await;
    }
    match (request.method.as_str(), path) {
        ("GET", "/") => {
            respond(
                &mut stream,
                "200 OK",
                "text/html; charset=utf-8",
                PAGE.as_bytes(),
            )
            .await
        }
        ("GET", "/config") => {
            let body = config.page_json();
            respond(&mut stream, "200 OK", "application/json", body.as_bytes()).await
        }
        ("GET", "/ws") => {
            let upgrade = request
                .header("upgrade")
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            match (upgrade, request.header("sec-websocket-key")) {
                (true, Some(key)) => {
                    let head = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                        ws::accept_key(key)
                    );
                    stream
                        .write_all(head.as_bytes())
                        .await
                        .map_err(|e| e.to_string())?;
                    websocket(stream, shutting_down, config).await
                }
                _ => {
                    respond(
                        &mut stream,
                        "400 Bad Request",
                        "text/plain",
                        b"expected a WebSocket upgrade",
                    )
                    .await
                }
            }
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found").await,
    }
}

/// Whether `request` may be served. `Host` must name this machine by address or as `localhost`
/// (a page of another name that resolves here, DNS rebinding, is refused); a WebSocket to
/// `/ws` from a browser page must come from the page's own origin (`http(s)://<Host>`) or one
/// of `allowed_origins`, so that no other site a user visits can drive their server
/// (cross-site WebSocket hijacking). A client that sends no `Origin` is not a browser page
/// and may connect.
fn request_allowed(
    request: &Request,
    path: &str,
    allowed_origins: &[String],
) -> Result<(), String> {
    let Some(host) = request.header("host") else {
        return Err("no Host header".to_owned());
    };
    if !host_is_local_name(host) {
        return Err(format!(
            "Host {host:?} is not this server's address or localhost"
        ));
    }
    if path != "/ws" {
        return Ok(());
    }
    let Some(origin) = request.header("origin") else {
        return Ok(());
    };
    let own = [format!("http://{host}"), format!("https://{host}")];
    let allowed = own
        .iter()
        .chain(allowed_origins)
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin));
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "a page of origin {origin:?} may not open /ws (--allow-origin adds origins)"
        ))
    }
}

/// `host[:port]` where host is an IP address (IPv6 in brackets) or `localhost`.
fn host_is_local_name(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Sends one JSON text message to the page.
fn send_json(out: &mpsc::UnboundedSender<Vec<u8>>, value: &serde_json::Value) {
    let _ = out.send(ws::encode(ws::Opcode::Text, value.to_string().as_bytes()));
}

/// A message of the page's that was refused: why, to the page (`{"type":"error"}`) and on
/// standard output (`<what> refused: <why>`).
fn refuse(out: &mpsc::UnboundedSender<Vec<u8>>, what: &str, error: &str) {
    say(&format!("{what} refused: {error}"));
    send_json(out, &json!({"type": "error", "message": error}));
}

/// W3C state names are the lowercased variant names.
fn state_name(state: impl std::fmt::Debug) -> String {
    format!("{state:?}").to_ascii_lowercase()
}

/// One signaling session: the page's offers (the first, then ICE restarts or renegotiation)
/// go to one `RTCPeerConnection`; answers, state updates and errors go back as JSON.
async fn websocket(
    stream: TcpStream,
    mut shutting_down: tokio::sync::watch::Receiver<bool>,
    config: Arc<SessionConfig>,
) -> Result<(), String> {
    tracing::debug!(peer = ?stream.peer_addr().ok(), "WebSocket session");
    let (mut reader, mut writer) = stream.into_split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer_task = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            let closing = frame.first() == Some(&0x88);
            if writer.write_all(&frame).await.is_err() || closing {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut pc: Option<Arc<RTCPeerConnection>> = None;
    // One signaling operation at a time: the page's messages and Antiphon's own offers
    // (`negotiationneeded`) are applied in turn.
    let signaling = Arc::new(tokio::sync::Mutex::new(()));
    // The page's last description was a colliding offer we ignored: its candidates are
    // expected to fail (webrtc-pc's perfect negotiation: `ignoreOffer`).
    let mut ignoring = false;
    let mut buffer = Vec::new();
    let mut message: Option<Vec<u8>> = None;
    let mut chunk = vec![0u8; 16 * 1024];
    'read: loop {
        loop {
            let frame = match ws::decode(&buffer, MAX_MESSAGE) {
                Ok(Some((frame, used))) => {
                    buffer.drain(..used);
                    frame
                }
                Ok(None) => break,
                Err(error) => {
                    say(&format!("websocket closed: {error:?}"));
                    let _ = out.send(ws::close(error.close_code()));
                    break 'read;
                }
            };
            match frame.opcode {
                ws::Opcode::Ping => {
                    let _ = out.send(ws::encode(ws::Opcode::Pong, &frame.payload));
                }
                ws::Opcode::Pong => {}
                ws::Opcode::Close => {
                    let _ = out.send(ws::close(1000));
                    break 'read;
                }
                ws::Opcode::Text | ws::Opcode::Binary | ws::Opcode::Continuation => {
                    let started = frame.opcode != ws::Opcode::Continuation;
                    let mut data = match (message.take(), started) {
                        (None, true) => frame.payload,
                        (Some(mut data), false) => {
                            data.extend_from_slice(&frame.payload);
                            data
                        }
                        _ => {
                            let _ = out.send(ws::close(1002));
                            break 'read;
                        }
                    };
                    if data.len() > MAX_MESSAGE {
                        let _ = out.send(ws::close(1009));
                        break 'read;
                    }
                    if !frame.fin {
                        message = Some(data);
                        continue;
                    }
                    let text = std::mem::take(&mut data);
                    on_message(&text, &mut pc, &out, &signaling, &mut ignoring, &config).await;
                }
            }
        }
        tokio::select! {
            read = reader.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            },
            // The server shuts down: going away (RFC 6455 §7.4.1).
            _ = shutting_down.wait_for(|down| *down) => {
                let _ = out.send(ws::close(1001));
                break;
            }
        }
    }
    drop(out);
    let _ = writer_task.await;
    if let Some(pc) = pc {
        pc.close().await;
    }
    Ok(())
}

/// A message from the page: `{"type":"offer","sdp":...}`, `{"type":"candidate","candidate":
/// RTCIceCandidateInit | null}` (trickled; `null` is end-of-candidates), `{"type":"getStats"}`
/// (answered with `{"type":"stats","report":[...]}`, Antiphon's W3C stats) or
/// `{"type":"log","text":...}`.
async fn on_message(
    data: &[u8],
    pc: &mut Option<Arc<RTCPeerConnection>>,
    out: &mpsc::UnboundedSender<Vec<u8>>,
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
    out: &mpsc::UnboundedSender<Vec<u8>>,
    signaling: &Arc<tokio::sync::Mutex<()>>,
    config: &SessionConfig,
) -> Result<(), String> {
    let offer = RTCSessionDescriptionInit::from_json(text).map_err(|e| e.to_string())?;
    if let Some(pc) = slot.as_ref() {
        let answer = apply_offer(pc, offer).await?;
        say("answered a new offer");
        let _ = out.send(ws::encode(ws::Opcode::Text, answer.to_json().as_bytes()));
        return Ok(());
    }
    let pc = RTCPeerConnection::with_options(config.configuration(), config.options.clone())
        .map_err(|e| e.to_string())?;
    let pc = Arc::new(pc);
    let mut events = pc.subscribe();
    let answer = apply_offer(&pc, offer).await?;
    // The answer first: candidates reported while it was applied wait in `events` and go after
    // it, so the page never gets a candidate before the description it belongs to.
    let _ = out.send(ws::encode(ws::Opcode::Text, answer.to_json().as_bytes()));
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
                            let _ = states.send(ws::encode(ws::Opcode::Text, json.as_bytes()));
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
