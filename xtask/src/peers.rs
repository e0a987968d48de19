//! `cargo xtask bench --peers`: Antiphon against str0m and webrtc-rs, in the comparison
//! workspace `benches/peers/` (its own lock file and target directory: str0m's crypto is
//! aws-lc, which no Antiphon crate links).
//!
//! `--smoke` (CI) stops after step 2, one callgrind run and three str0m connections.
//!
//! 1. Builds the workspace's `count` binary (release, with debug info for callgrind).
//! 2. `count check`: which library refuses which offer; offers any library refuses are left
//!    out of the comparison (and listed).
//! 3. For every other offer, library and operation, `count` under
//!    `valgrind --tool=callgrind --toggle-collect=*timed_*`: the instructions of 10 measured
//!    operations after a warm-up (callgrind counts the same for the same binary and input,
//!    whatever the machine's load), and the allocations `count` prints.
//! 4. The criterion bench `compare` (wall time, same operations).
//! 5. The workspace's `net` binary, in the namespace: offer-to-open of all three libraries
//!    (100 pairs each), idle memory per peer connection (1,000 pairs, one process per
//!    library) and str0m's data-channel throughput.
//! 6. The tables (instructions and allocations; criterion's means) and `net`'s lines go to
//!    `target/peers-bench.md`, for docs/benchmarks.md.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Measured operations per callgrind run (after one warm-up).
const ITERATIONS: u64 = 10;

/// One library's figures for one operation on one offer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Figures {
    /// Instructions per operation.
    pub(crate) instructions: u64,
    /// Heap allocations (and reallocations) per operation.
    pub(crate) allocations: u64,
}

/// Reads callgrind's `Collected : N` off its stderr and `count`'s `allocations N` off its stdout.
pub(crate) fn figures(stdout: &str, stderr: &str) -> Option<Figures> {
    let collected: u64 = stderr
        .lines()
        .find_map(|line| line.split_once("Collected :"))
        .and_then(|(_, n)| n.trim().parse().ok())?;
    let allocations: u64 = stdout
        .split('\t')
        .find_map(|field| field.strip_prefix("allocations "))
        .and_then(|n| n.trim().parse().ok())?;
    Some(Figures {
        instructions: collected / ITERATIONS,
        allocations,
    })
}

/// Runs the comparison; `in_namespace` wraps a command into the loopback-only namespace.
pub(crate) fn run(
    root: &Path,
    smoke: bool,
    cargo: &str,
    in_namespace: impl Fn(&str, &[&str]) -> Command,
    run: impl Fn(&mut Command) -> Result<(), String>,
) -> Result<(), String> {
    let manifest = root.join("benches/peers/Cargo.toml");
    let manifest = manifest.to_string_lossy();
    run(Command::new(cargo).args(["build", "--release", "--bins", "--manifest-path", &manifest]))?;
    // The workspace's target directory, unless CARGO_TARGET_DIR moves every build's.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || root.join("benches/peers/target"),
        std::path::PathBuf::from,
    );
    let count = target.join("release/count");
    let count = count.to_string_lossy();
    let net = target.join("release/net");
    let net = net.to_string_lossy();
    // `net`'s result lines (`net/...`), from one run of it in the namespace.
    let net_lines = |args: &[&str]| -> Result<String, String> {
        let (stdout, _) = output(&mut in_namespace(&net, args))?;
        Ok(stdout
            .lines()
            .filter(|line| line.starts_with("net/"))
            .map(|line| format!("- `{line}`\n"))
            .collect())
    };
    let check = output(&mut in_namespace(&count, &["check"]))?.0;
    let mut refused = Vec::new();
    let mut offers: Vec<&str> = Vec::new();
    for line in check.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(offer), Some(library), Some(verdict)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if verdict != "ok" {
            refused.push(format!("{offer}: {library} {verdict}"));
        } else if !offers.contains(&offer) {
            offers.push(offer);
        }
    }
    offers.retain(|offer| !refused.iter().any(|r| r.starts_with(&format!("{offer}:"))));
    if let Some(ours) = refused.iter().find(|r| r.contains(": antiphon ")) {
        return Err(format!("Antiphon refuses a real browser offer: {ours}"));
    }
    let iterations = ITERATIONS.to_string();
    let measure = |op: &str, library: &str, offer: &str| -> Result<Figures, String> {
        let args = [
            "--tool=callgrind",
            "--toggle-collect=*timed_*",
            "--callgrind-out-file=/dev/null",
            &count,
            op,
            library,
            offer,
            &iterations,
        ];
        let (stdout, stderr) = output(&mut in_namespace("valgrind", &args))?;
        figures(&stdout, &stderr)
            .ok_or(format!("no figures from {op} {library} {offer}:\n{stderr}"))
    };
    if smoke {
        // The workspace builds, every library answers, and callgrind counts: enough to keep the
        // comparison from rotting, without the minutes of a full run.
        let figures = measure("answer", "str0m", "chromium156-audio-video-data")?;
        let opened = net_lines(&["open", "3"])?;
        #[allow(clippy::print_stdout)]
        {
            println!("peers smoke: {} offers compared; {figures:?}", offers.len());
            println!("{opened}");
        }
        return Ok(());
    }
    let mut table = String::from(
        "| offer | answer: Antiphon | str0m | webrtc-rs | vs str0m | vs webrtc-rs | allocations: Antiphon / str0m / webrtc-rs | parse, typed: Antiphon | view: Antiphon | parse: str0m | parse: webrtc-rs |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for offer in &offers {
        let [ours, str0m, webrtc] =
            ["antiphon", "str0m", "webrtc-rs"].map(|library| measure("answer", library, offer));
        let (ours, str0m, webrtc) = (ours?, str0m?, webrtc?);
        let [typed, theirs, webrtc_parse] =
            ["antiphon", "str0m", "webrtc-rs"].map(|library| measure("parse", library, offer));
        let view = measure("view", "antiphon", offer)?;
        let ratio = |other: Figures| other.instructions as f64 / ours.instructions.max(1) as f64;
        let _ = writeln!(
            table,
            "| {offer} | {} | {} | {} | **{:.1}x** | **{:.1}x** | {} / {} / {} | {} | {} | {} | {} |",
            ours.instructions,
            str0m.instructions,
            webrtc.instructions,
            ratio(str0m),
            ratio(webrtc),
            ours.allocations,
            str0m.allocations,
            webrtc.allocations,
            typed?.instructions,
            view.instructions,
            theirs?.instructions,
            webrtc_parse?.instructions,
        );
    }
    if !refused.is_empty() {
        table.push_str("\nLeft out (a library refuses the offer):\n");
        for line in &refused {
            let _ = writeln!(table, "- {line}");
        }
    }
    run(&mut in_namespace(
        cargo,
        &[
            "bench",
            "--offline",
            "--manifest-path",
            &manifest,
            "--bench",
            "compare",
        ],
    ))?;
    let criterion = target.join("criterion");
    table.push_str(
        "\nWall time (criterion mean, µs):\n\n\
         | offer | answer: Antiphon | str0m | webrtc-rs | vs str0m | vs webrtc-rs | parse, typed: Antiphon | view: Antiphon | parse: str0m | parse: webrtc-rs |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for offer in &offers {
        let mean = |bench: &str| {
            mean_micros(&criterion.join(format!("peers_{offer}/{bench}/new/estimates.json")))
        };
        let [ours, str0m, webrtc] =
            ["answer_antiphon", "answer_str0m", "answer_webrtc-rs"].map(mean);
        let [typed, view, theirs, webrtc_parse] = [
            "parse_antiphon",
            "view_antiphon",
            "parse_str0m",
            "parse_webrtc-rs",
        ]
        .map(mean);
        let (ours, str0m, webrtc) = (ours?, str0m?, webrtc?);
        let _ = writeln!(
            table,
            "| {offer} | {ours:.2} | {str0m:.2} | {webrtc:.2} | **{:.1}x** | **{:.1}x** | {:.2} | {:.2} | {:.2} | {:.2} |",
            str0m / ours,
            webrtc / ours,
            typed?,
            view?,
            theirs?,
            webrtc_parse?,
        );
    }
    table.push_str("\nConnected over loopback (`net`; see its module documentation):\n\n");
    table.push_str(&net_lines(&["open", "100"])?);
    for library in ["antiphon", "str0m", "webrtc-rs"] {
        table.push_str(&net_lines(&["idle", library, "1000"])?);
    }
    table.push_str(&net_lines(&["throughput"])?);
    let out = root.join("target/peers-bench.md");
    std::fs::create_dir_all(root.join("target")).map_err(|e| format!("target: {e}"))?;
    std::fs::write(&out, &table).map_err(|e| format!("{}: {e}", out.display()))?;
    #[allow(clippy::print_stdout)]
    {
        println!("{table}\n(written to {})", out.display());
    }
    Ok(())
}

/// The mean of a criterion `estimates.json`, in microseconds.
fn mean_micros(path: &Path) -> Result<f64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    mean_nanos(&text)
        .map(|nanos| nanos / 1_000.0)
        .ok_or(format!("{}: no mean", path.display()))
}

/// `mean.point_estimate` of criterion's estimates (nanoseconds): the first `point_estimate`
/// after `"mean"`.
fn mean_nanos(estimates: &str) -> Option<f64> {
    let mean = &estimates[estimates.find("\"mean\"")?..];
    let key = "\"point_estimate\":";
    let rest = &mean[mean.find(key)? + key.len()..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

/// Runs `command`, returning its stdout and stderr; an error if it fails.
fn output(command: &mut Command) -> Result<(String, String), String> {
    let out = command
        .output()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok((stdout, stderr))
    } else {
        Err(format!("{command:?} failed with {}:\n{stderr}", out.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_callgrind_and_count_output() {
        let stdout = "answer\tstr0m\tchromium\tallocations 1300\tbytes 145321\n";
        let stderr = "==1== Events    : Ir\n==28541== Collected : 26862782\n==1==\n";
        assert_eq!(
            figures(stdout, stderr),
            Some(Figures {
                instructions: 2_686_278,
                allocations: 1300
            })
        );
        assert_eq!(figures(stdout, "no summary"), None);
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":55761.8,"upper_bound":56126.5},"point_estimate":55913.7,"standard_error":95.3},"median":{"point_estimate":1.0}}"#;
        assert_eq!(mean_nanos(estimates), Some(55913.7));
    }
}
