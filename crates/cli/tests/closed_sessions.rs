//! `antiphon serve` keeps nothing of a closed signaling session: after a warm-up, 3,000
//! sessions one after another (a WebSocket, the bundled Chromium offer answered, the socket
//! closed, so the connection is closed) leave the server's resident memory within 1 KiB per
//! session. Driven by `sessions/closed_sessions.py` (python3, standard library only).
//!
//! Regression: each closed session kept about 18 KiB (a task waiting in `accept_data_channel`,
//! since replaced by the `datachannel` event, held its connection after `close()`).

mod common;

use std::process::Command;

/// Resident memory a closed session may leave behind, in bytes.
const KEPT_PER_SESSION: i64 = 1024;

#[test]
fn closed_sessions_keep_under_a_kibibyte_each() {
    let server = common::serve();
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let (host, port) = address.rsplit_once(':').expect("host:port");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sessions/closed_sessions.py"
    );
    let offer = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/offers/chromium-audio-video-data.json"
    );
    let pid = server.pid().to_string();
    let output = Command::new("python3")
        .args([script, host, port, &pid, offer, "300", "3000"])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kept: i64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("kept_per_session_bytes "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in:\n{stdout}"));
    assert!(
        kept <= KEPT_PER_SESSION,
        "each closed session kept {kept} bytes:\n{stdout}"
    );
}
