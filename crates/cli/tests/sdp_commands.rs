//! `antiphon sdp check` / `sdp fmt` as a user runs them.

use std::process::Command;

fn corpus(path: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/sdp/");
    assert!(std::path::Path::new(dir).is_dir(), "shared corpus missing");
    format!("{dir}{path}")
}

fn antiphon(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_antiphon"))
        .args(args)
        .output()
        .expect("run antiphon");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_accepts_a_valid_offer() {
    let file = corpus("valid/aiortc-chrome-video-offer.sdp");
    let (code, stdout, _) = antiphon(&["sdp", "check", &file]);
    assert_eq!(code, 0);
    assert!(stdout.contains("ok, 1 m= sections"), "{stdout}");
}

#[test]
fn check_reports_file_line_column_and_exits_1() {
    let file = corpus("invalid/libwebrtc-attr-space-after-equals.sdp");
    let (code, _, stderr) = antiphon(&["sdp", "check", &file]);
    assert_eq!(code, 1);
    let prefix = format!("{file}:");
    let rest = stderr
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{stderr}"));
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts.next().unwrap().parse().expect("line number");
    let column: usize = parts.next().unwrap().parse().expect("column number");
    assert!(line > 1 && column >= 1, "{stderr}");
}

#[test]
fn lenient_mode_accepts_what_strict_refuses() {
    let file = corpus("valid/libwebrtc-rfc4317-2-offer-audio-video-lenient.sdp");
    let (strict, _, _) = antiphon(&["sdp", "check", &file]);
    let (lenient, _, stderr) = antiphon(&["sdp", "check", "--lenient", &file]);
    assert_eq!((strict, lenient), (1, 0), "{stderr}");
}

#[test]
fn check_reads_browser_json_and_reports_warnings() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/offers/chromium-audio-video-data.json"
    );
    let (code, stdout, stderr) = antiphon(&["sdp", "check", file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("3 m= sections"));
    assert!(
        stderr.contains("warning: unknown attribute a=rtcp-xr"),
        "{stderr}"
    );
}

#[test]
fn fmt_writes_crlf_sdp_that_checks_clean() {
    let file = corpus("valid/libwebrtc-unified-plan-full.sdp");
    let (code, stdout, _) = antiphon(&["sdp", "fmt", &file]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("v=0\r\n") && stdout.ends_with("\r\n"));
    assert!(antiphon_sdp::parse(&stdout).is_ok());
}
