//! Interop with aiortc (Python, PyPI) as the offerer: a Python script
//! (`tests/aiortc/offer_data_channel.py`) offers a data channel, alone or with an audio and a
//! video track, to `antiphon serve` over its WebSocket signaling, applies Antiphon's answer
//! (aiortc refused multi-section answers whose bundled sections had no ICE and DTLS
//! attributes), connects (ICE, DTLS, SCTP), and sends a text and a binary message; Antiphon
//! echoes both back.
//!
//! aiortc gathers no 127.0.0.1 candidate on its own; the script makes it gather on loopback,
//! as the tests run in a loopback-only network namespace (`cargo xtask test`).
//!
//! aiortc is a WHIP client too (`tests/aiortc/whip_publish.py`, RFC 9725): it publishes audio,
//! video and a data channel with `POST /whip`, checks the echo and ends with `DELETE`.
//!
//! Needs `python3` with aiortc (`.ci/run` installs the pinned version): fails, never skips,
//! without it.

mod common;

use std::process::{Command, Stdio};

use common::{Server, serve, serve_with};
use std::time::{Duration, Instant};

/// The aiortc version `.ci/run` installs.
const AIORTC: &str = "1.16.0";

/// Runs `script` (in `tests/aiortc/`) with the server's host and port and `args`: its exit
/// status, standard output, the server's lines, and all of it as a report for messages.
fn run_script(
    script: &str,
    server: &Server,
    args: &[&str],
) -> (std::process::ExitStatus, String, Vec<String>, String) {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let check = Command::new(&python)
        .args(["-c", "import aiortc; print(aiortc.__version__)"])
        .output();
    let version = match check {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        _ => panic!(
            "aiortc is required for this test: {python} -m pip install aiortc=={AIORTC} \
             (.ci/run does this)"
        ),
    };
    let (host, port) = server
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|addr| addr.rsplit_once(':'))
        .expect("an http://host:port/ URL");
    let script = format!("{}/tests/aiortc/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(&python)
        .args([script.as_str(), host, port])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the aiortc script");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("aiortc script status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("aiortc script status");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("aiortc script output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let server_lines: Vec<String> = server.lines.try_iter().collect();
    let report = format!(
        "aiortc {version}, exit {status}\nstdout:\n{stdout}\nstderr:\n{stderr}\nantiphon serve:\n{}",
        server_lines.join("\n")
    );
    (status, stdout, server_lines, report)
}

/// Runs the aiortc offerer script against a fresh `antiphon serve` with `args`; checks that
/// it connected and got both echoes, and returns its standard output and the server's lines.
fn aiortc_offers(args: &[&str]) -> (String, Vec<String>) {
    let server = serve();
    let (status, stdout, server_lines, report) = run_script("offer_data_channel.py", &server, args);
    assert!(status.success(), "{report}");
    assert!(
        stdout.contains("received text echo: hello from aiortc"),
        "{report}"
    );
    assert!(stdout.contains("received binary 1,2,3"), "{report}");
    assert!(stdout.contains("state connected"), "{report}");
    assert!(
        server_lines.iter().any(|l| l == "connection Connected"),
        "{report}"
    );
    assert!(
        server_lines
            .iter()
            .any(|l| l == "data channel \"chat\" open"),
        "{report}"
    );
    (stdout, server_lines)
}

#[test]
fn aiortc_offers_a_data_channel_and_antiphon_answers_and_echoes() {
    aiortc_offers(&[]);
}

/// Audio + video + data: Antiphon returns both tracks, so it answers both media sections
/// sendrecv with opus and VP8, aiortc's first codecs, and aiortc decodes what comes back.
#[test]
fn aiortc_offers_audio_video_and_data_and_antiphon_answers() {
    let (stdout, _) = aiortc_offers(&["--media"]);
    assert!(
        stdout.contains("transceiver audio sendrecv audio/opus"),
        "{stdout}"
    );
    assert!(
        stdout.contains("transceiver video sendrecv video/VP8"),
        "{stdout}"
    );
    for kind in ["audio", "video"] {
        let frames = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("returned {kind} frames ")))
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0);
        assert!(
            frames >= 10,
            "aiortc decoded the returned {kind}:\n{stdout}"
        );
    }
}

/// Issue 15 (9): the offer Antiphon sees allows messages of 1000 bytes at most; aiortc sends
/// 2000, whose echo Antiphon must refuse (a `TypeError`, as browsers throw), and the echo loop
/// must go on: the text sent next still comes back.
#[test]
fn a_refused_echo_does_not_stop_the_channel() {
    let (stdout, server_lines) = aiortc_offers(&["--small-limit"]);
    assert!(
        stdout.contains("received text echo: after the refused echo"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("received binary of 2000 bytes"),
        "{stdout}"
    );
    assert!(
        server_lines
            .iter()
            .any(|l| l.starts_with("echo on \"chat\" failed: TypeError")),
        "{server_lines:#?}"
    );
}

/// aiortc publishes with WHIP (`POST /whip`, bearer token), gets the echo, and `DELETE`s.
#[test]
fn aiortc_publishes_with_whip() {
    let server = serve_with(&["--whip-token", "t0ken"]);
    let (status, stdout, server_lines, report) = run_script("whip_publish.py", &server, &["t0ken"]);
    assert!(status.success(), "{report}");
    assert!(stdout.contains("created /whip/"), "{report}");
    assert!(
        stdout.contains("received echo: hello from aiortc"),
        "{report}"
    );
    assert!(stdout.contains("deleted 200"), "{report}");
    for expected in [
        ": connection Connected",
        ": data channel \"whip\" open",
        " deleted",
    ] {
        assert!(
            server_lines
                .iter()
                .any(|l| l.starts_with("whip session ") && l.ends_with(expected)),
            "{expected}: {report}"
        );
    }
}
