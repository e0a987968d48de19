//! Real-browser interop: headless Chromium and Firefox ESR create offers (data channel only;
//! audio + video + data with fake devices; recvonly transceivers; three-layer simulcast),
//! `antiphon answer` answers each, and the browser must accept every answer with
//! `setRemoteDescription` (Firefox's content process crashed there on multi-section answers
//! whose bundled sections had no ICE and DTLS attributes).
//!
//! Needs Chromium and Firefox ESR (Debian's packages; `CHROMIUM` and `FIREFOX` override). It
//! fails, never skips, when one is missing: `.ci/run` and `cargo xtask ci` install them.

mod common;

use common::browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

const PAGE: &str = include_str!("browser/answer-acceptance.html");

/// Reads one HTTP/1.1 request: (method, path, body).
fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// `antiphon answer -` on `offer`: the answer JSON, or the error on standard error.
fn answer(offer: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let output = common::antiphon_answer(&[], offer);
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(output.stderr)
    }
}

fn accepts_antiphon_answers(browser: browser::Browser) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let (results_tx, results_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((method, path, body)) = read_request(&mut stream) else {
                continue;
            };
            match (method.as_str(), path.as_str()) {
                ("GET", "/") => respond(&mut stream, "200 OK", "text/html", PAGE.as_bytes()),
                ("POST", "/answer") => match answer(&body) {
                    Ok(json) => respond(&mut stream, "200 OK", "application/json", &json),
                    Err(error) => respond(
                        &mut stream,
                        "500 Internal Server Error",
                        "text/plain",
                        &error,
                    ),
                },
                ("POST", "/result") => {
                    respond(&mut stream, "200 OK", "text/plain", b"");
                    let _ = results_tx.send(String::from_utf8_lossy(&body).into_owned());
                }
                _ => respond(&mut stream, "404 Not Found", "text/plain", b""),
            }
        }
    });
    let running = browser.open(&format!("http://{address}/"));
    let results = results_rx.recv_timeout(Duration::from_secs(60));
    drop(running);
    let name = browser.name();
    let results = results.unwrap_or_else(|_| panic!("{name} reported no result within 60 s"));
    let lines: Vec<&str> = results.lines().collect();
    assert_eq!(lines.len(), 4, "{results}");
    for line in &lines {
        assert!(
            line.contains(": OK stable"),
            "{name} refused an answer: {results}"
        );
    }
    assert!(
        lines[1].contains("audio:sendonly,video:sendonly"),
        "{results}"
    );
    assert!(
        lines[2].contains("audio:inactive,video:inactive"),
        "{results}"
    );
}

#[test]
fn chromium_accepts_antiphon_answers() {
    accepts_antiphon_answers(browser::Browser::Chromium);
}

#[test]
fn firefox_accepts_antiphon_answers() {
    accepts_antiphon_answers(browser::Browser::Firefox);
}
