//! WHIP (RFC 9725), the standard way to hand a server an offer over HTTP: `POST /whip` with an
//! `application/sdp` offer is answered `201 Created` with the SDP answer (every candidate
//! gathered: the server cannot trickle back), a `Location` (the session, `/whip/<id>`), an
//! `ETag` (its ICE session) and the ICE servers as `Link` headers; `PATCH` on the session with
//! `application/trickle-ice-sdpfrag` trickles the client's candidates (`204`), or with
//! `If-Match: *` and new credentials restarts ICE (`200` with our new credentials and
//! candidates, and a new `ETag`); `DELETE` ends it. With `--whip-token` every request must carry
//! `Authorization: Bearer <token>`. Browser clients on other origins get CORS (the page's own
//! origin and `--allow-origin`, or any origin when a token guards the endpoint).
//!
//! A session is one `RTCPeerConnection` that echoes its data channels, as a WebSocket
//! session's does; it counts against `--max-sessions`, and ends on DELETE, when its connection
//! fails or closes, when it has not connected within [`CONNECT_LIMIT`], or at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antiphon_peer::{
    PeerConnectionEvent, RTCIceCandidateInit, RTCPeerConnection, RTCPeerConnectionState,
    RTCSdpType, RTCSessionDescriptionInit,
};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::rand::SecureRandom as _;
use tokio::sync::OwnedSemaphorePermit;

use super::sdpfrag::{self, Fragment};
use super::{Shared, origin_allowed, say, until_shutdown};

/// How long a new session has to connect before it is ended.
const CONNECT_LIMIT: Duration = Duration::from_secs(30);
/// How long an answer waits for the STUN and TURN servers' candidates.
const GATHER_LIMIT: Duration = Duration::from_secs(5);
const SDP: &str = "application/sdp";
const SDPFRAG: &str = "application/trickle-ice-sdpfrag";

/// The WHIP sessions and the endpoint's token.
pub(crate) struct Whip {
    /// `--whip-token`.
    token: Option<String>,
    sessions: Mutex<HashMap<String, Arc<WhipSession>>>,
}

/// One WHIP session.
struct WhipSession {
    pc: Arc<RTCPeerConnection>,
    /// The ICE session's entity tag and the client's ufrag in it.
    ice: Mutex<IceSession>,
    /// One PATCH at a time (a restart renegotiates).
    turn: tokio::sync::Mutex<()>,
    _permit: OwnedSemaphorePermit,
}

struct IceSession {
    etag: String,
    remote_ufrag: Option<String>,
}

impl Whip {
    /// No sessions yet; `token` guards the endpoint when given.
    pub(crate) fn new(token: Option<String>) -> Self {
        Self {
            token,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, id: &str) -> Option<Arc<WhipSession>> {
        self.sessions.lock().ok()?.get(id).cloned()
    }

    fn remove(&self, id: &str) -> Option<Arc<WhipSession>> {
        self.sessions.lock().ok()?.remove(id)
    }
}

/// An error response with a plain-text reason, also printed.
fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    let why = why.into();
    say(&format!("whip refused ({}): {why}", status.as_u16()));
    (status, format!("{why}\n")).into_response()
}

/// Every WHIP request: the `Origin` policy and CORS (a preflight is answered here), then the
/// bearer token.
pub(crate) async fn guard(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let checked = match origin {
        Some(_) if shared.whip.token.is_none() => {
            origin_allowed(request.headers(), &shared.allowed_origins)
        }
        _ => Ok(()),
    };
    if let Err(why) = checked {
        return refuse(StatusCode::FORBIDDEN, why);
    }
    let mut response = if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, PATCH, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, If-Match"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        headers.insert(
            HeaderName::from_static("accept-post"),
            HeaderValue::from_static(SDP),
        );
        headers.insert(
            HeaderName::from_static("accept-patch"),
            HeaderValue::from_static(SDPFRAG),
        );
        response
    } else if !authorized(request.headers(), shared.whip.token.as_deref()) {
        let mut response = refuse(StatusCode::UNAUTHORIZED, "a bearer token is required");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Location, ETag, Link, Accept-Patch"),
        );
    }
    response
}

/// `Authorization: Bearer <token>` when a token is configured (compared in constant time).
fn authorized(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The request's media type (without parameters) is `expected`, or why not (a 415).
fn content_type_is(headers: &HeaderMap, expected: &str) -> Result<(), String> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if given.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(format!("the body must be {expected}, not {given:?}"))
    }
}

/// The body as UTF-8 text.
fn text(body: &Bytes) -> Option<&str> {
    std::str::from_utf8(body).ok()
}

/// 400 for a body that is not UTF-8.
fn not_text() -> Response {
    refuse(StatusCode::BAD_REQUEST, "the body is not UTF-8")
}

/// A random token of `bytes` bytes, hex.
fn random_hex(bytes: usize) -> Option<String> {
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new().fill(&mut buffer).ok()?;
    Some(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

/// A failed call of the connection's: 400 for SDP that does not parse (with its line and
/// column), 422 for an offer that parses but cannot be answered.
fn negotiation_failed(error: &antiphon_peer::Error) -> Response {
    let status = match error {
        antiphon_peer::Error::SdpSyntax(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    refuse(status, format!("{}: {error}", error.name()))
}

/// `POST /whip`: a new session from the client's offer.
pub(crate) async fn create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = content_type_is(&headers, SDP) {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
    }
    let Some(offer) = text(&body).map(str::to_owned) else {
        return not_text();
    };
    let Ok(permit) = Arc::clone(&shared.sessions).try_acquire_owned() else {
        let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, "too many sessions");
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        return response;
    };
    let (Some(id), Some(etag)) = (random_hex(16), random_hex(8)) else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let configuration = shared.config.configuration();
    let pc =
        match RTCPeerConnection::with_options(configuration.clone(), shared.config.options.clone())
        {
            Ok(pc) => Arc::new(pc),
            Err(error) => return negotiation_failed(&error),
        };
    crate::reflect::spawn(&pc);
    let events = pc.subscribe();
    let answer = match answer_offer(&pc, offer).await {
        Ok(answer) => answer,
        Err(error) => {
            pc.close().await;
            return negotiation_failed(&error);
        }
    };
    let remote_ufrag = remote_ufrag(&pc).await;
    let session = Arc::new(WhipSession {
        pc: Arc::clone(&pc),
        ice: Mutex::new(IceSession {
            etag: etag.clone(),
            remote_ufrag,
        }),
        turn: tokio::sync::Mutex::new(()),
        _permit: permit,
    });
    if let Ok(mut sessions) = shared.whip.sessions.lock() {
        sessions.insert(id.clone(), session);
    }
    say(&format!("whip session {id} created"));
    tokio::spawn(watch(id.clone(), pc, events, shared.clone()));

    let mut response = (StatusCode::CREATED, answer).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(SDP));
    if let Ok(location) = HeaderValue::from_str(&format!("/whip/{id}")) {
        out.insert(header::LOCATION, location);
    }
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        out.insert(header::ETAG, etag);
    }
    out.insert(
        HeaderName::from_static("accept-patch"),
        HeaderValue::from_static(SDPFRAG),
    );
    for link in ice_server_links(&configuration) {
        out.append(header::LINK, link);
    }
    response
}

/// `setRemoteDescription(offer)`, `createAnswer()`, `setLocalDescription(answer)`, then the
/// local description once gathering is complete (or [`GATHER_LIMIT`] passed): the answer with
/// every candidate.
async fn answer_offer(pc: &RTCPeerConnection, sdp: String) -> Result<String, antiphon_peer::Error> {
    let offer = RTCSessionDescriptionInit {
        sdp_type: RTCSdpType::Offer,
        sdp,
    };
    let answer = crate::session::apply_offer(pc, offer).await?;
    let _ = tokio::time::timeout(GATHER_LIMIT, pc.gathering_complete()).await;
    Ok(pc.local_description().await.unwrap_or(answer).sdp)
}

/// The client's ICE ufrag in the current remote description (every section of a bundled offer
/// has the same one).
async fn remote_ufrag(pc: &RTCPeerConnection) -> Option<String> {
    let remote = pc.remote_description().await?;
    remote
        .sdp
        .lines()
        .find_map(|line| line.trim_end().strip_prefix("a=ice-ufrag:"))
        .map(str::to_owned)
}

/// RFC 9725 §4.6: each configured ICE server as `Link: <url>; rel="ice-server"` with its
/// credentials.
fn ice_server_links(configuration: &antiphon_peer::RTCConfiguration) -> Vec<HeaderValue> {
    let mut links = Vec::new();
    for server in &configuration.ice_servers {
        for url in &server.urls {
            let mut link = format!("<{url}>; rel=\"ice-server\"");
            if let (Some(username), Some(credential)) = (&server.username, &server.credential) {
                if username.contains('"') || credential.contains('"') {
                    continue;
                }
                link.push_str(&format!(
                    "; username=\"{username}\"; credential=\"{credential}\"; credential-type=\"password\""
                ));
            }
            if let Ok(value) = HeaderValue::from_str(&link) {
                links.push(value);
            }
        }
    }
    links
}

/// A session's life: its data channels echoed, its states printed; it ends (and leaves the
/// table) when its connection fails or closes, or has not connected within [`CONNECT_LIMIT`].
async fn watch(
    id: String,
    pc: Arc<RTCPeerConnection>,
    mut events: antiphon_peer::PeerConnectionEvents,
    shared: Shared,
) {
    let _live = shared.live.clone();
    let mut shutting_down = shared.shutting_down.clone();
    let weak = Arc::downgrade(&pc);
    drop(pc);
    let connect_by = tokio::time::Instant::now() + CONNECT_LIMIT;
    let mut connected = false;
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            () = tokio::time::sleep_until(connect_by), if !connected => {
                say(&format!("whip session {id} ended: not connected within {CONNECT_LIMIT:?}"));
                break;
            }
            () = until_shutdown(&mut shutting_down) => break,
        };
        match event {
            Some(PeerConnectionEvent::ConnectionState(state)) => {
                say(&format!("whip session {id}: connection {state:?}"));
                match state {
                    RTCPeerConnectionState::Connected => connected = true,
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => break,
                    _ => {}
                }
            }
            Some(PeerConnectionEvent::DataChannel(channel)) => {
                say(&format!(
                    "whip session {id}: data channel {:?} open",
                    channel.label()
                ));
                tokio::spawn(crate::session::echo(channel));
            }
            Some(_) => {}
            None => break,
        }
    }
    if let Some(session) = shared.whip.remove(&id) {
        session.pc.close().await;
    } else if let Some(pc) = weak.upgrade() {
        pc.close().await;
    }
}

/// `PATCH /whip/<id>`: trickled candidates (`204`), or with `If-Match: *` an ICE restart
/// (`200`, our new credentials and candidates, a new `ETag`).
pub(crate) async fn patch(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(session) = shared.whip.get(&id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no WHIP session {id}"));
    };
    if let Err(why) = content_type_is(&headers, SDPFRAG) {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
    }
    let fragment = match text(&body).map(Fragment::parse) {
        Some(Ok(fragment)) => fragment,
        Some(Err(error)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the SDP fragment: {error}"),
            );
        }
        None => return not_text(),
    };
    let _turn = session.turn.lock().await;
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if if_match == Some("*") {
        return restart(&id, &session, fragment).await;
    }
    let (etag, remote_ufrag) = match session.ice.lock() {
        Ok(ice) => (ice.etag.clone(), ice.remote_ufrag.clone()),
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "session state poisoned"),
    };
    if let Some(given) = if_match
        && given.trim_matches('"') != etag
    {
        return refuse(
            StatusCode::PRECONDITION_FAILED,
            format!("If-Match {given} is not the ICE session's ETag"),
        );
    }
    if fragment.ufrag.is_some() && fragment.ufrag != remote_ufrag {
        return refuse(
            StatusCode::PRECONDITION_FAILED,
            "the fragment's ice-ufrag is not the ICE session's (an ICE restart needs If-Match: *)",
        );
    }
    match add_candidates(&session.pc, &fragment).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => negotiation_failed(&error),
    }
}

/// The fragment's candidates and ends of candidates, each with its `a=mid` and index.
async fn add_candidates(
    pc: &RTCPeerConnection,
    fragment: &Fragment,
) -> Result<(), antiphon_peer::Error> {
    for (index, media) in fragment.media.iter().enumerate() {
        let line = u16::try_from(index).ok();
        for candidate in &media.candidates {
            pc.add_ice_candidate(RTCIceCandidateInit {
                candidate: candidate.clone(),
                sdp_mid: media.mid.clone(),
                sdp_m_line_index: line,
            })
            .await?;
        }
        if media.end_of_candidates {
            pc.add_ice_candidate(RTCIceCandidateInit {
                candidate: String::new(),
                sdp_mid: media.mid.clone(),
                sdp_m_line_index: line,
            })
            .await?;
        }
    }
    Ok(())
}

/// An ICE restart (RFC 9725 §4.3.2): the negotiated offer again with the client's new
/// credentials, answered with ours (new ones), then the client's candidates.
async fn restart(id: &str, session: &WhipSession, fragment: Fragment) -> Response {
    let (Some(ufrag), Some(pwd)) = (fragment.ufrag.clone(), fragment.pwd.clone()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "an ICE restart needs the new ice-ufrag and ice-pwd",
        );
    };
    let Some(current) = session.pc.remote_description().await else {
        return refuse(StatusCode::CONFLICT, "the session has no description");
    };
    let offer = sdpfrag::with_new_credentials(&current.sdp, &ufrag, &pwd);
    let answer = match answer_offer(&session.pc, offer).await {
        Ok(answer) => answer,
        Err(error) => return negotiation_failed(&error),
    };
    if let Err(error) = add_candidates(&session.pc, &fragment).await {
        return negotiation_failed(&error);
    }
    let Some(etag) = random_hex(8) else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    if let Ok(mut ice) = session.ice.lock() {
        ice.etag = etag.clone();
        ice.remote_ufrag = Some(ufrag);
    }
    say(&format!("whip session {id}: ICE restarted"));
    let mut response = (StatusCode::OK, sdpfrag::answer_fragment(&answer)).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(SDPFRAG));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        out.insert(header::ETAG, etag);
    }
    response
}

/// `DELETE /whip/<id>`: the session ends and its connection closes.
pub(crate) async fn delete(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.whip.remove(&id) {
        Some(session) => {
            session.pc.close().await;
            say(&format!("whip session {id} deleted"));
            StatusCode::OK.into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, format!("no WHIP session {id}")),
    }
}
