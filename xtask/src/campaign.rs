//! `cargo xtask fuzz --campaign`: every fuzz target (or the ones named) until it has run
//! [`CAMPAIGN_RUNS`] inputs or [`CAMPAIGN_SECONDS`] have passed, whichever comes first, then a
//! table of what each did (executions, time, coverage, corpus, findings) for docs/fuzzing.md.
//!
//! libFuzzer stops at the first of `-runs` and `-max_total_time`; its last status line
//! (`#N DONE cov: .. ft: .. corp: ..`) and its `Done N runs in S second(s)` give the figures.
//! A target that finds a crash does not stop the campaign: its artifact is named in the table,
//! and the campaign fails at the end.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Executions per target.
pub(crate) const CAMPAIGN_RUNS: u64 = 10_000_000;
/// The time limit per target, for the slow ones.
pub(crate) const CAMPAIGN_SECONDS: u64 = 30 * 60;

/// What one target's run came to.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    /// Inputs executed.
    pub(crate) runs: u64,
    /// Seconds it ran, as libFuzzer counts them.
    pub(crate) seconds: u64,
    /// Coverage points (libFuzzer's `cov:`).
    pub(crate) coverage: u64,
    /// Features (`ft:`).
    pub(crate) features: u64,
    /// Corpus entries at the end (`corp: N/size`).
    pub(crate) corpus: u64,
    /// The file a crashing input was written to, if any.
    pub(crate) crash: Option<String>,
    /// libFuzzer's slowest input, when it wrote one out (`slow-unit-*`, over 10 s): not a
    /// failure; a machine that paused the process makes one too, so it is to replay.
    pub(crate) slow_unit: Option<(String, u64)>,
    /// The seconds of the last `Slowest unit: N s:` line, for the file written after it.
    slowest: u64,
}

impl Outcome {
    /// Takes in one line of libFuzzer's output.
    pub(crate) fn read_line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("Done ") {
            // "Done 10000000 runs in 1234 second(s)"
            let mut words = rest.split_whitespace();
            self.runs = words
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(self.runs);
            self.seconds = words
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(self.seconds);
        } else if line.starts_with('#') {
            // "#524288\tpulse  cov: 1234 ft: 5678 corp: 345/12Kb lim: 4096 exec/s: 17476 rss: 400Mb"
            if let Some(runs) = line
                .get(1..)
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
            {
                self.runs = runs;
            }
            self.coverage = field(line, "cov:").unwrap_or(self.coverage);
            self.features = field(line, "ft:").unwrap_or(self.features);
            self.corpus = field(line, "corp:").unwrap_or(self.corpus);
        } else if let Some(rest) = line.strip_prefix("Slowest unit: ") {
            self.slowest = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(at) = line.find("Test unit written to ") {
            let path = line[at + "Test unit written to ".len()..].trim().to_owned();
            let file = path.rsplit('/').next().unwrap_or(&path);
            if file.starts_with("slow-unit-") {
                self.slow_unit = Some((path, self.slowest));
            } else {
                self.crash = Some(path);
            }
        }
    }

    /// One row of the results table.
    pub(crate) fn row(&self, target: &str) -> String {
        let finding = match (&self.crash, &self.slow_unit) {
            (Some(path), _) => format!("**crash**: `{path}`"),
            (None, Some((path, seconds))) => {
                format!("none; slowest input {seconds} s, written to `{path}` (replay it)")
            }
            (None, None) => "none".to_owned(),
        };
        // A crash ends libFuzzer before its `Done` line: no time, so no rate.
        let (time, per_second) = match self.runs.checked_div(self.seconds) {
            Some(rate) => (format!("{} s", thousands(self.seconds)), thousands(rate)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        format!(
            "| `{target}` | {} | {time} | {per_second} | {} | {} | {} | {finding} |",
            thousands(self.runs),
            thousands(self.coverage),
            thousands(self.features),
            thousands(self.corpus),
        )
    }
}

/// The table's header.
pub(crate) const TABLE_HEADER: &str = "| target | executions | time | exec/s | coverage | features | corpus | findings |\n|---|---|---|---|---|---|---|---|";

/// The number after `name` in a status line (`corp: 345/12Kb` gives 345).
fn field(line: &str, name: &str) -> Option<u64> {
    let rest = &line[line.find(name)? + name.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs `command` (a `cargo fuzz run`), passing its output through to stderr and reading the
/// figures off it. A non-zero exit without a written crash input is an error of the run
/// itself (the build failed, say).
pub(crate) fn run_target(command: &mut Command) -> Result<Outcome, String> {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("$ {command:?}");
    }
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    let mut outcome = Outcome::default();
    if let Some(stderr) = child.stderr.take() {
        let mut echo = std::io::stderr().lock();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(echo, "{line}");
            outcome.read_line(&line);
        }
    }
    let status = child.wait().map_err(|error| error.to_string())?;
    if !status.success() && outcome.crash.is_none() {
        return Err(format!("{command:?} failed with {status}"));
    }
    Ok(outcome)
}

/// Appends `row` to the results file (made with its header if new).
pub(crate) fn record(file: &Path, row: &str) -> Result<(), String> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let new = !file.exists();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let header = if new {
        format!("{TABLE_HEADER}\n")
    } else {
        String::new()
    };
    writeln!(out, "{header}{row}").map_err(|e| format!("{}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let mut outcome = Outcome::default();
        for line in [
            "#2\tINITED cov: 12 ft: 13 corp: 1/1b exec/s: 0 rss: 30Mb",
            "#524288\tpulse  cov: 1234 ft: 5678 corp: 345/12Kb lim: 4096 exec/s: 17476 rss: 400Mb",
            "#10000000\tDONE   cov: 1300 ft: 6000 corp: 400/20Kb lim: 4096 exec/s: 8000 rss: 410Mb",
            "Done 10000000 runs in 1250 second(s)",
        ] {
            outcome.read_line(line);
        }
        assert_eq!(
            outcome,
            Outcome {
                runs: 10_000_000,
                seconds: 1250,
                coverage: 1300,
                features: 6000,
                corpus: 400,
                ..Outcome::default()
            }
        );
        assert_eq!(
            outcome.row("sdp_parse"),
            "| `sdp_parse` | 10,000,000 | 1,250 s | 8,000 | 1,300 | 6,000 | 400 | none |"
        );
        outcome.read_line("artifact_prefix='x/'; Test unit written to x/crash-abc");
        assert_eq!(outcome.crash.as_deref(), Some("x/crash-abc"));
        let mut slow = Outcome::default();
        slow.read_line("Slowest unit: 990 s:");
        slow.read_line("artifact_prefix='x/'; Test unit written to x/slow-unit-9f");
        assert_eq!(slow.crash, None);
        assert_eq!(slow.slow_unit, Some(("x/slow-unit-9f".to_owned(), 990)));
        assert!(slow.row("t").contains("| - | - |"), "{}", slow.row("t"));
    }
}
