//! `antiphon serve`: a small signaling server and demo page, on axum (HTTP/1.1 by hyper, the
//! WebSocket by tokio-tungstenite). The page offers a data channel (and camera/microphone
//! tracks with `?media=1`), sends its offer as browser JSON over a WebSocket (`/ws`), and
//! applies Antiphon's answer; Antiphon connects, reports its states over the same WebSocket,
//! and echoes every data channel message ([`crate::session`]). Later offers on the same
//! WebSocket (an ICE restart) renegotiate the same connection.
//!
//! With `--tls-cert`/`--tls-key` or `--tls-self-signed` it serves HTTPS, and the page opens
//! its WebSocket as `wss:` ([`tls`]).
//!
//! What a hostile page could make a user's browser send is refused here: a `Host` that is not
//! this machine (DNS rebinding) and a WebSocket from another origin (cross-site WebSocket
//! hijacking) get 403. Connections are capped with a header and idle timeout ([`listen`]),
//! sessions are capped (`--max-sessions`, 503 beyond), each message and frame is capped, offers
//! are rate-limited per session, and a page that does not read what it is sent is dropped.

mod listen;
mod sdpfrag;
mod tls;
mod whip;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use antiphon_peer::{PeerOptions, RTCConfiguration, RTCIceServer, RTCPeerConnection};
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use clap::Args;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

const PAGE: &str = include_str!("../../web/index.html");
const WHIP_PAGE: &str = include_str!("../../web/whip.html");

/// Largest WebSocket message accepted, over all its frames (a browser's offer is a few KiB; one
/// with a hundred transceivers about 60 KiB). Sessions times this bounds what partial messages
/// can hold.
const MAX_MESSAGE: usize = 128 * 1024;
/// A session's initial WebSocket read buffer.
const READ_BUFFER: usize = 4 * 1024;

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
    /// The most signaling sessions open at once; a WebSocket beyond it is answered 503.
    #[arg(long = "max-sessions", value_name = "N", default_value_t = 256)]
    max_sessions: usize,
    /// The most HTTP connections open at once (a WebSocket counts as a session once upgraded);
    /// a connection beyond it is answered 503 and closed.
    #[arg(long = "max-connections", value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Require `Authorization: Bearer TOKEN` on WHIP requests (`/whip`); with a token, WHIP
    /// clients on any origin may use it (CORS).
    #[arg(long = "whip-token", value_name = "TOKEN")]
    whip_token: Option<String>,
    /// Seconds a signaling WebSocket may stay silent (no message, no pong to the server's
    /// pings, sent every third of it) before the server closes it (1008).
    #[arg(long = "ws-idle-timeout", value_name = "SECONDS", default_value_t = 60)]
    ws_idle_timeout: u64,
    /// Seconds a client has for its request head (and its TLS handshake); a kept-alive
    /// connection idle that long is closed too.
    #[arg(long = "header-timeout", value_name = "SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// Serve HTTPS (and WSS) with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `--tls-cert`.
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Serve HTTPS with a certificate made at start for localhost and the served address;
    /// its SHA-256 fingerprints are printed (browsers warn until the user accepts it).
    #[arg(long = "tls-self-signed", conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// Every connection on this one UDP port (a UDP mux: one socket per local address, the
    /// addresses connections gather on, routed by ICE ufrag and then by the peer's address),
    /// instead of sockets of their own on ports the system picks. TURN over UDP is not used
    /// from the shared port (TURN over TCP or TLS is).
    #[arg(long = "udp-port", value_name = "PORT")]
    udp_port: Option<u16>,
}

/// What every session's connection is made with.
pub(crate) struct SessionConfig {
    configuration: RTCConfiguration,
    pub(crate) options: PeerOptions,
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
    pub(crate) fn configuration(&self) -> RTCConfiguration {
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut config = SessionConfig::new(args)?;
    if let Some(port) = args.udp_port {
        let addresses: Vec<SocketAddr> = config
            .options
            .bind
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        // The mux's readers are tasks of this runtime.
        let _runtime = runtime.enter();
        let mux = antiphon_ice::UdpMux::bind(&addresses)
            .map_err(|e| format!("--udp-port {port}: {e}"))?;
        config.options = config.options.clone().with_udp_mux(Some(mux));
    }
    let config = Arc::new(config);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::ServerTls::from_files(cert, key)?),
        _ if args.tls_self_signed => Some(tls::ServerTls::self_signed(args.addr)?),
        _ => None,
    };
    let limits = listen::Limits {
        max_connections: args.max_connections.max(1),
        header_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
    };
    let plan = Plan {
        addr: args.addr,
        allowed_origins: Arc::new(args.allow_origins.clone()),
        config,
        max_sessions: args.max_sessions,
        idle_limit: std::time::Duration::from_secs(args.ws_idle_timeout.max(1)),
        whip_token: args.whip_token.clone(),
        tls,
        limits,
    };
    runtime.block_on(serve(plan))?;
    Ok(ExitCode::SUCCESS)
}

/// What `antiphon serve` serves, read from its arguments.
struct Plan {
    addr: SocketAddr,
    allowed_origins: Arc<Vec<String>>,
    config: Arc<SessionConfig>,
    max_sessions: usize,
    /// `--ws-idle-timeout`.
    idle_limit: std::time::Duration,
    /// `--whip-token`.
    whip_token: Option<String>,
    tls: Option<tls::ServerTls>,
    limits: listen::Limits,
}

pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// How long a shutdown waits for the sessions to close their connections.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What every request handler shares.
#[derive(Clone)]
struct Shared {
    config: Arc<SessionConfig>,
    allowed_origins: Arc<Vec<String>>,
    /// Flips to `true` when the server shuts down: every session closes (1001).
    shutting_down: watch::Receiver<bool>,
    /// One permit per live session (`--max-sessions`).
    sessions: Arc<Semaphore>,
    /// Held by every session; the shutdown waits until all are dropped.
    live: mpsc::Sender<()>,
    /// A session whose page sends nothing (pongs included) this long is closed.
    idle_limit: std::time::Duration,
    /// The WHIP sessions (RFC 9725).
    whip: Arc<whip::Whip>,
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully: no new connection is accepted,
/// open HTTP connections finish the request under way, every signaling session ends (a
/// WebSocket close 1001, going away) and closes its connection (SCTP shutdown and DTLS
/// close_notify to the peer), and the server returns (exit 0).
async fn serve(plan: Plan) -> Result<(), String> {
    let Plan {
        addr,
        allowed_origins,
        config,
        max_sessions,
        idle_limit,
        whip_token,
        tls,
        limits,
    } = plan;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    say(&format!("listening on {scheme}://{local}/"));
    if let Some(mux) = &config.options.udp_mux {
        let addresses: Vec<String> = mux
            .local_addresses()
            .iter()
            .map(ToString::to_string)
            .collect();
        say(&format!("media on udp {}", addresses.join(" ")));
    }
    if let Some(tls) = &tls {
        say(&format!("certificate sha-256 {}", tls.fingerprint));
        if let Some(spki) = &tls.spki_sha256 {
            say(&format!("public key sha-256 (base64) {spki}"));
        }
    }
    let (shutdown, shutting_down) = watch::channel(false);
    let (live, mut all_closed) = mpsc::channel(1);
    let shared = Shared {
        config,
        allowed_origins,
        shutting_down,
        sessions: Arc::new(Semaphore::new(max_sessions)),
        live,
        idle_limit,
        whip: Arc::new(whip::Whip::new(whip_token)),
    };
    let whip_routes = Router::new()
        .route(
            "/whip",
            post(whip::create).options(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/whip/{id}",
            patch(whip::patch)
                .delete(whip::delete)
                .options(|| async { StatusCode::NO_CONTENT }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            whip::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_MESSAGE));
    let app = Router::new()
        .route("/", get(page))
        .route("/config", get(page_config))
        .route("/ws", get(websocket))
        .route("/whip.html", get(whip_page))
        .merge(whip_routes)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::from_fn(host_allowed))
        .with_state(shared.clone());
    let accepting = tokio::spawn(listen::accept_loop(
        listener,
        app,
        tls,
        limits,
        shared.shutting_down.clone(),
    ));
    if let Err(error) = shutdown_signal().await {
        say(&format!("shutting down: {error}"));
    }
    let open = max_sessions - shared.sessions.available_permits();
    say(&format!("shutting down: {open} sessions open"));
    // Stops accepting, finishes the HTTP connections and closes every session (1001).
    let _ = shutdown.send(true);
    let _ = accepting.await;
    drop(shared);
    let drained = tokio::time::timeout(SHUTDOWN_LIMIT, all_closed.recv()).await;
    match drained {
        Ok(_) => say("shut down: every session closed"),
        Err(_) => say(&format!(
            "shut down: sessions did not close within {SHUTDOWN_LIMIT:?}"
        )),
    }
    Ok(())
}

/// Until the server shuts down: `shutting_down` turns `true` (or its sender is gone). The accept
/// loop, its connections, the WebSocket sessions and the WHIP sessions all wait on this.
pub(crate) async fn until_shutdown(shutting_down: &mut watch::Receiver<bool>) {
    let _ = shutting_down.wait_for(|down| *down).await;
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

async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

/// `/whip.html`: a WHIP client page (camera, microphone and a data channel, published to
/// `/whip`).
async fn whip_page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        WHIP_PAGE,
    )
}

/// `/config`: the ICE servers for the page's `RTCPeerConnection`.
async fn page_config(State(shared): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        shared.config.page_json(),
    )
}

/// `/ws`: a signaling session, if the page's origin may open one and there is room.
async fn websocket(
    State(shared): State<Shared>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(why) = origin_allowed(&headers, &shared.allowed_origins) {
        say(&format!("request refused: {why}"));
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let Ok(permit) = Arc::clone(&shared.sessions).try_acquire_owned() else {
        say("request refused: too many sessions (--max-sessions)");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many sessions").into_response();
    };
    tracing::debug!("WebSocket session");
    upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        // tungstenite starts every session with a 128 KiB read buffer (200 idle sessions held
        // 28 MB); a signaling message is a few KiB, and the buffer grows for a larger one.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let _live = shared.live.clone();
            crate::session::run(
                socket,
                shared.shutting_down.clone(),
                shared.config,
                shared.idle_limit,
            )
            .await;
            drop(permit);
        })
}

/// Every request: `Host` must name this machine by address or as `localhost` (a page of another
/// name that resolves here, DNS rebinding, is refused with 403).
async fn host_allowed(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let refusal = match host {
        None => Some("no Host header".to_owned()),
        Some(host) if !host_is_local_name(host) => Some(format!(
            "Host {host:?} is not this server's address or localhost"
        )),
        Some(_) => None,
    };
    match refusal {
        Some(why) => {
            say(&format!("request refused: {why}"));
            (StatusCode::FORBIDDEN, why).into_response()
        }
        None => next.run(request).await,
    }
}

/// A WebSocket to `/ws` from a browser page must come from the page's own origin
/// (`http(s)://<Host>`) or one of `allowed_origins`, so that no other site a user visits can
/// drive their server (cross-site WebSocket hijacking). A client that sends no `Origin` is not
/// a browser page and may connect.
fn origin_allowed(headers: &HeaderMap, allowed_origins: &[String]) -> Result<(), String> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
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
