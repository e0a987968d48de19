//! Shared by the interop tests that drive `antiphon serve`: start it on a free loopback port
//! and read its standard output line by line; [`browser`] launches real browsers.

#![allow(dead_code)]

pub(crate) mod browser;
/// coturn for the relayed browser tests: the helper antiphon-peer's tests use.
#[path = "../../../peer/tests/common/coturn.rs"]
pub(crate) mod coturn;

use std::io::{BufRead, BufReader, Write};
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_antiphon"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
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
        .expect("listening line")
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
