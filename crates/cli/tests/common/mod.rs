//! Shared by the interop tests that drive `antiphon serve`: start it on a free loopback port
//! and read its standard output line by line; [`browser`] launches real browsers.

#![allow(dead_code)]

pub(crate) mod browser;
/// coturn for the relayed browser tests: the helper antiphon-peer's tests use.
#[path = "../../../peer/tests/common/coturn.rs"]
pub(crate) mod coturn;
pub(crate) mod lossy_relay;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `antiphon serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// Every line the server prints after its first (`listening on ...`).
    pub(crate) lines: mpsc::Receiver<String>,
    /// The page's URL, `http://127.0.0.1:PORT/`.
    pub(crate) url: String,
}

impl Server {
    /// `host:port` the server listens on (its URL without scheme and path).
    pub(crate) fn address(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned()
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the server exited, waiting at most `limit`; `None` if it still runs.
    pub(crate) fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `antiphon serve --addr 127.0.0.1:0` and waits for the address it prints.
pub(crate) fn serve() -> Server {
    serve_with(&[])
}

/// [`serve`] with more arguments.
pub(crate) fn serve_with(args: &[&str]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_antiphon"));
    command.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
    serve_command(command)
}

/// [`serve_with`] with at most `descriptors` open files (`ulimit -n`, set by a shell that then
/// becomes the server).
pub(crate) fn serve_with_descriptor_limit(descriptors: u32, args: &[&str]) -> Server {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {descriptors} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_antiphon"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args);
    serve_command(command)
}

/// Starts `command` (an `antiphon serve`) and waits for the address it prints.
fn serve_command(mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start antiphon serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("serve prints its address");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("listening line: {first}"))
        .to_owned();
    Server { child, lines, url }
}

/// Runs `antiphon answer ARGS -` with `input` on its standard input.
pub(crate) fn antiphon_answer(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_antiphon"))
        .arg("answer")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run antiphon");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write the offer");
    child.wait_with_output().expect("antiphon output")
}

/// A WebSocket to `/ws` of the server at `address` (the handshake's answer read).
pub(crate) fn websocket(address: &str) -> TcpStream {
    match try_websocket(address) {
        Ok(stream) => stream,
        Err(head) => panic!("no WebSocket: {head}"),
    }
}

/// [`websocket`], or the server's answer's head when it is not a 101.
pub(crate) fn try_websocket(address: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("handshake");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read_exact(&mut byte).is_err() {
            break;
        }
        head.push(byte[0]);
    }
    if head.starts_with(b"HTTP/1.1 101") {
        Ok(stream)
    } else {
        Err(String::from_utf8_lossy(&head).into_owned())
    }
}

/// Sends `text` as one masked text frame (the mask key is zero: the payload goes as is).
pub(crate) fn send_text(stream: &mut TcpStream, text: &str) {
    send_frame(stream, 0x1, text.as_bytes());
}

/// Sends one masked frame with FIN set (the mask key is zero: the payload goes as is).
pub(crate) fn send_frame(stream: &mut TcpStream, opcode: u8, payload: &[u8]) {
    let mut frame = vec![0x80 | opcode];
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | u8::try_from(len).expect("short"));
    } else if let Ok(len) = u16::try_from(len) {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&len.to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    // The server may close mid-frame (a frame over its limit): that is its answer.
    let _ = stream.write_all(&frame);
}

/// The next frame's opcode and payload.
pub(crate) fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    try_read_frame(stream).expect("a frame")
}

/// The next frame's opcode and payload; `None` when the connection ends first.
pub(crate) fn try_read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).ok()?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).ok()?;
            usize::from(u16::from_be_bytes(ext))
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).ok()?;
            usize::try_from(u64::from_be_bytes(ext)).ok()?
        }
        short => usize::from(short),
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).ok()?;
    Some((head[0] & 0x0f, payload))
}

/// A fresh session still gets answers: the server at `address` kept serving.
pub(crate) fn still_serves(address: &str) {
    let mut stream = websocket(address);
    send_text(&mut stream, r#"{"type":"getStats"}"#);
    let (opcode, payload) = try_read_frame(&mut stream).expect("a reply");
    assert_eq!(opcode, 0x1);
    let text = String::from_utf8_lossy(&payload);
    assert!(text.contains("getStats before the offer"), "{text}");
}
