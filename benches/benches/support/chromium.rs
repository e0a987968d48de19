//! The Chromium-to-Chromium series of the throughput bench: headless Chromium opens
//! `benches/browser/throughput.html` (two peer connections in one page on loopback) and the
//! bench reads the page's results off Chromium's log. Chromium must be installed (Debian's
//! `chromium`, or `CHROMIUM`); a missing browser fails the bench, it never skips.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A full run streams 3 x 64 MiB through Chromium's SCTP; this bounds a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// What the page reported: (size, MB/s) per stream, (size, round trips) per echo series, and
/// the browser's user agent.
pub(crate) struct ChromiumResults {
    pub(crate) streams: Vec<(usize, f64)>,
    pub(crate) echoes: Vec<(usize, Vec<Duration>)>,
    pub(crate) user_agent: String,
}

/// Runs the page with `mib` MiB per stream and `echoes` round trips per size.
///
/// # Panics
/// When Chromium cannot start, the page reports an error, or no result comes within
/// [`RUN_TIMEOUT`].
pub(crate) fn run(mib: usize, echoes: usize) -> ChromiumResults {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/browser/throughput.html");
    let profile = std::env::temp_dir().join(format!("antiphon-throughput-{}", std::process::id()));
    let executable = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let mut child = Command::new(&executable)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The page asks for (fake) media so that Chromium gathers every interface.
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            // The namespace has only loopback: gather on it, write addresses, not mDNS names.
            "--allow-loopback-in-peer-connection",
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            // Console messages go to stderr, where the results are read.
            "--enable-logging=stderr",
            "--log-level=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{page}?mib={mib}&echoes={echoes}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{executable} (Chromium; CHROMIUM names another): {e}"));
    let Some(stderr) = child.stderr.take() else {
        panic!("Chromium's stderr is piped")
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // `[pid:tid:time:INFO:CONSOLE:n] "RESULT ...", source: ...`
            if let Some(start) = line.find("\"RESULT ") {
                let rest = &line[start + 8..];
                let end = rest.find('"').unwrap_or(rest.len());
                if tx.send(rest[..end].to_owned()).is_err() {
                    return;
                }
            }
        }
    });
    let mut results = ChromiumResults {
        streams: Vec::new(),
        echoes: Vec::new(),
        user_agent: String::new(),
    };
    let outcome = loop {
        let line = match rx.recv_timeout(RUN_TIMEOUT) {
            Ok(line) => line,
            Err(_) => break Err("no result from the page within 600 s".to_owned()),
        };
        match read(&line, &mut results) {
            Ok(false) => {}
            Ok(true) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&profile);
    if let Err(e) = outcome {
        panic!("Chromium throughput page: {e}");
    }
    results
}

/// Reads one `RESULT` line into `results`; `true` at `done`.
fn read(line: &str, results: &mut ChromiumResults) -> Result<bool, String> {
    let mut words = line.splitn(3, ' ');
    let (kind, first, rest) = (words.next(), words.next(), words.next());
    let size = || -> Result<usize, String> {
        first
            .and_then(|s| s.parse().ok())
            .ok_or(format!("no size in {line:?}"))
    };
    match kind {
        Some("stream") => {
            let rate = rest
                .and_then(|r| r.parse().ok())
                .ok_or(format!("no rate in {line:?}"))?;
            results.streams.push((size()?, rate));
            Ok(false)
        }
        Some("echo") => {
            let rtts = rest
                .unwrap_or("")
                .split(',')
                .map(|ms| {
                    ms.parse::<f64>()
                        .map(|ms| Duration::from_secs_f64(ms / 1e3))
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{line:?}: {e}"))?;
            results.echoes.push((size()?, rtts));
            Ok(false)
        }
        Some("done") => {
            results.user_agent = line.trim_start_matches("done ").to_owned();
            Ok(true)
        }
        _ => Err(format!("the page says {line:?}")),
    }
}
