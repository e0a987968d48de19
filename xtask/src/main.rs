//! Project automation, in the rust-analyzer style: `cargo xtask <task>`.
//!
//! * `ci`: everything CI checks: formatting, clippy with warnings denied, the documentation
//!   (rustdoc warnings denied) and each crate's package contents, the full test suite,
//!   the benches in test mode, and a short run of every fuzz target.
//! * `fuzz [--smoke | --campaign [TARGET...] | TARGET [--time SECONDS]]`: cargo-fuzz targets,
//!   seeded from the shared corpus; a campaign runs each for 10 million executions or 30
//!   minutes and tabulates the results (see [`campaign`]).
//! * `bench [--smoke]`: every bench of `antiphon-benches`: the criterion benches and the `latency`
//!   and `scale` binaries (`--smoke` runs each once / with a few small runs, as a test).
//! * `bench --peers`: Antiphon against str0m and webrtc-rs in the comparison workspace
//!   `benches/peers/` (instructions under callgrind, allocations, wall time; see [`peers`]).
//! * `test [ARGS...]`: `cargo test ARGS...` inside a loopback-only network namespace.
//! * `netns COMMAND [ARGS...]`: any command inside a loopback-only network namespace.
//!
//! Everything that opens sockets (tests, benches, demo runs) runs inside a network namespace of
//! its own that holds only `lo` (see [`in_loopback_namespace`]): no packet can reach any address
//! but 127.0.0.0/8 and ::1, whatever a library default binds.
//!
//! The tasks are plain `std::process::Command` calls, so `xtask` builds in seconds and needs no
//! dependencies.

mod campaign;
mod peers;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The fuzz targets, and which corpus directories seed each.
const FUZZ_TARGETS: &[(&str, &[&str])] = &[
    ("sdp_parse", &["sdp/valid", "sdp/invalid"]),
    ("sdp_roundtrip", &["sdp/valid"]),
    ("sdp_view", &["sdp/valid", "sdp/invalid"]),
    ("create_answer", &["sdp/valid"]),
    ("create_answer_structured", &[]),
    ("candidate_parse", &[]),
    ("stun_agent", &[]),
    ("turn_client", &[]),
    // Seeded from fuzz/seeds/dtls_records: flights recorded from a real handshake.
    ("dtls_records", &[]),
    ("rtp_media", &[]),
    ("sctp_channels", &[]),
];

/// Seconds each target runs in `fuzz --smoke`.
const SMOKE_SECONDS: u32 = 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("fuzz") => fuzz(&rest),
        Some("bench") => bench(&rest),
        Some("examples") => examples(),
        Some("test") => {
            let mut args = vec!["test"];
            args.extend(&rest);
            run(&mut in_loopback_namespace(&cargo_bin(), &args))
        }
        Some("netns") => match rest.split_first() {
            Some((program, args)) => run(&mut in_loopback_namespace(program, args)),
            None => Err("usage: cargo xtask netns COMMAND [ARGS...]".to_owned()),
        },
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("xtask: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci                                 fmt, clippy (-D warnings), tests, bench and fuzz smoke runs\n  \
         fuzz --smoke                       every fuzz target for {SMOKE_SECONDS} s\n  \
         fuzz --campaign [TARGET...]        every (or each named) target for 10M runs or 30 min\n  \
         fuzz TARGET [--time SECONDS]       one fuzz target (default 600 s)\n  \
         bench [--smoke]                    benches: criterion, latency, scale (--smoke: quick pass)\n  \
         bench --peers                      against str0m and webrtc-rs (benches/peers: callgrind, criterion)\n  \
         test [ARGS...]                     cargo test ARGS... in a loopback-only network namespace\n  \
         examples                           run every example (in a loopback-only network namespace)\n  \
         netns COMMAND [ARGS...]            COMMAND in a loopback-only network namespace"
    );
}

fn root_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Formatting, lints, every test, the benches as tests, and the fuzz smoke run.
fn ci() -> Result<(), String> {
    ensure_browsers()?;
    ensure_aiortc()?;
    ensure_cargo_fuzz()?;
    cargo(&["fmt", "--all", "--check"])?;
    // The fuzz targets are their own workspace, which `--all` does not reach.
    cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"])?;
    cargo(&[
        "fmt",
        "--manifest-path",
        "benches/peers/Cargo.toml",
        "--check",
    ])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    docs_and_packages()?;
    pure_negotiation()?;
    // Everything below runs offline inside a loopback-only network namespace: fetch (and
    // build) first, outside it.
    cargo(&["fetch", "--manifest-path", "fuzz/Cargo.toml"])?;
    cargo(&["test", "--workspace", "--no-run"])?;
    run(&mut in_loopback_namespace(
        &cargo_bin(),
        &["test", "--workspace", "--offline"],
    ))?;
    examples()?;
    bench(&["--smoke"])?;
    bench(&["--peers", "--smoke"])?;
    fuzz(&["--smoke"])?;
    Ok(())
}

/// Every example, run as a user would run it (`cargo run --example`), inside a loopback-only
/// network namespace: each must exit 0. The echo server and its client run together.
fn examples() -> Result<(), String> {
    for (package, example) in [
        ("antiphon-ice", "udp_agent"),
        ("antiphon-peer", "answer_offer"),
        ("antiphon-peer", "two_peers"),
    ] {
        run(&mut in_loopback_namespace(
            &cargo_bin(),
            &[
                "run",
                "--offline",
                "-q",
                "-p",
                package,
                "--example",
                example,
            ],
        ))?;
    }
    let cargo = cargo_bin();
    let pair = format!(
        "set -e\n\
         '{cargo}' run --offline -q -p antiphon-peer --example echo_server -- 127.0.0.1:7000 --sessions 1 &\n\
         server=$!\n\
         '{cargo}' run --offline -q -p antiphon-peer --example echo_client -- 127.0.0.1:7000\n\
         wait $server\n"
    );
    run(&mut in_loopback_namespace("sh", &["-c", &pair]))
}

/// Crates a build of the pure negotiation must not pull: an async runtime, the webrtc-rs stacks,
/// a crypto backend.
const NOT_IN_PURE_NEGOTIATION: &[&str] = &[
    "tokio", "ring", "rtc-", "webrtc", "rustls", "aws-lc", "openssl", "rcgen", "stun-rs",
];

/// `antiphon-peer` without its `runtime` feature (and `antiphon-dtls` without `crypto`) builds
/// without a warning, and its dependency tree holds none of [`NOT_IN_PURE_NEGOTIATION`].
fn pure_negotiation() -> Result<(), String> {
    cargo(&[
        "clippy",
        "-p",
        "antiphon-peer",
        "-p",
        "antiphon-dtls",
        "--no-default-features",
        "--lib",
        "--examples",
        "--",
        "-D",
        "warnings",
    ])?;
    let output = Command::new(cargo_bin())
        .current_dir(root_dir())
        .args([
            "tree",
            "-p",
            "antiphon-peer",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .map_err(|e| format!("cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let pulled: Vec<&str> = tree
        .lines()
        .filter(|line| {
            NOT_IN_PURE_NEGOTIATION
                .iter()
                .any(|name| line.starts_with(name))
        })
        .collect();
    if pulled.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "antiphon-peer without its runtime pulls {pulled:?}: the pure negotiation must not"
        ))
    }
}

/// The libraries' documentation builds without a warning (broken or private links, bad
/// markdown), and each crate packages from what is inside it (`cargo package --list`: its
/// sources, fixtures, README and licence files; nothing it needs lives elsewhere).
fn docs_and_packages() -> Result<(), String> {
    run(Command::new(cargo_bin())
        .current_dir(root_dir())
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--no-deps", "--workspace"]))?;
    for package in [
        "antiphon-types",
        "antiphon-sdp",
        "antiphon-codec",
        "antiphon-ice",
        "antiphon-dtls",
        "antiphon-peer",
        "antiphon",
    ] {
        // The list itself is not needed, only that cargo can make it.
        run(Command::new(cargo_bin())
            .current_dir(root_dir())
            .stdout(std::process::Stdio::null())
            .args([
                "package",
                "--list",
                "--allow-dirty",
                "--quiet",
                "-p",
                package,
            ]))?;
    }
    Ok(())
}

/// `program args...` inside a new network namespace that holds only the loopback interface,
/// brought up, with a default route (IPv4 and IPv6) through it: Firefox gathers no candidates
/// without a default route, and with one every destination still ends at `lo`, the only
/// interface there is.
///
/// As root (CI) this is `unshare --net`; otherwise a user namespace maps us to root inside it
/// (`unshare --user --map-root-user --net`), which unprivileged users may create on most
/// distributions.
fn in_loopback_namespace(program: &str, args: &[&str]) -> Command {
    // With `src`, a socket "connected" to any address gets a loopback source address: Firefox
    // finds its host addresses that way, and gathers nothing when it reads 0.0.0.0.
    const SETUP: &str = "ip link set lo up && ip route add default dev lo src 127.0.0.1 && \
        ip -6 route add default dev lo src ::1 && exec \"$@\"";
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    command
        .current_dir(root_dir())
        .args(["--net", "--", "sh", "-c", SETUP, "sh", program])
        .args(args);
    command
}

/// The browser interop tests need Chromium and Firefox ESR (and certutil), the TURN tests
/// coturn; install
/// Debian's packages when one is missing (the tests fail rather than skip without them).
fn ensure_browsers() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let firefox = std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".to_owned());
    // coturn's turnserver: the TURN tests start it themselves. NSS's certutil (libnss3-tools)
    // puts the HTTPS test's throwaway CA into a Firefox profile.
    let turnserver = Path::new("/usr/bin/turnserver");
    let certutil = Path::new("/usr/bin/certutil");
    if Path::new(&chromium).exists()
        && Path::new(&firefox).exists()
        && turnserver.exists()
        && certutil.exists()
    {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([
            "install",
            "-y",
            "-qq",
            "chromium",
            "firefox-esr",
            "coturn",
            "libnss3-tools",
        ]))
}

/// The aiortc version the interop test (`crates/cli/tests/aiortc_interop.rs`) is run against.
const AIORTC: &str = "aiortc==1.16.0";

/// The aiortc interop test needs aiortc from PyPI; install the pinned version when it is missing
/// (the test fails rather than skips without it).
fn ensure_aiortc() -> Result<(), String> {
    let present = Command::new("python3")
        .args(["-c", "import aiortc"])
        .status()
        .is_ok_and(|status| status.success());
    if present {
        return Ok(());
    }
    run(Command::new("python3").args(["-m", "pip", "install", "--quiet", AIORTC]))
}

/// The fuzz smoke run needs cargo-fuzz.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = Command::new(cargo_bin())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if present {
        return Ok(());
    }
    cargo(&["install", "cargo-fuzz", "--locked"])
}

fn bench(args: &[&str]) -> Result<(), String> {
    match args {
        ["--smoke"] => run(&mut in_loopback_namespace(
            &cargo_bin(),
            &[
                "test",
                "--offline",
                "--package",
                "antiphon-benches",
                "--benches",
            ],
        )),
        [] => run(&mut in_loopback_namespace(
            &cargo_bin(),
            &["bench", "--package", "antiphon-benches"],
        )),
        ["--peers"] => peers::run(&root_dir(), false, &cargo_bin(), in_loopback_namespace, run),
        ["--peers", "--smoke"] => {
            peers::run(&root_dir(), true, &cargo_bin(), in_loopback_namespace, run)
        }
        _ => Err("usage: cargo xtask bench [--smoke | --peers [--smoke]]".to_owned()),
    }
}

fn fuzz(args: &[&str]) -> Result<(), String> {
    if let ["--campaign", targets @ ..] = args {
        return fuzz_campaign(targets);
    }
    let runs: Vec<(&str, u32)> = match args {
        ["--smoke"] => FUZZ_TARGETS
            .iter()
            .map(|(name, _)| (*name, SMOKE_SECONDS))
            .collect(),
        [target] => vec![(*target, 600)],
        [target, "--time", seconds] => vec![(
            *target,
            seconds
                .parse()
                .map_err(|_| format!("--time takes seconds, not {seconds:?}"))?,
        )],
        _ => {
            return Err(
                "usage: cargo xtask fuzz --smoke | --campaign [TARGET...] | TARGET [--time SECONDS]"
                    .to_owned(),
            );
        }
    };
    for (target, seconds) in runs {
        let max_time = format!("-max_total_time={seconds}");
        run(&mut fuzz_command(target, &[&max_time])?)?;
    }
    Ok(())
}

/// `cargo fuzz run` of `target` on its seeded corpus, with libFuzzer's `flags`.
fn fuzz_command(target: &str, flags: &[&str]) -> Result<Command, String> {
    let Some((_, seeds)) = FUZZ_TARGETS.iter().find(|(name, _)| *name == target) else {
        return Err(format!("unknown fuzz target {target:?}"));
    };
    let fuzz_dir = root_dir().join("fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    seed(&corpus, seeds)?;
    seed_own(&corpus, &fuzz_dir.join("seeds").join(target))?;
    let mut command = Command::new(cargo_bin());
    command
        .current_dir(&fuzz_dir)
        // cargo-fuzz passes nightly-only flags (sanitizers); the stable toolchain accepts
        // them in bootstrap mode, so CI needs no second toolchain.
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "-O", target])
        .arg(&corpus)
        .arg("--")
        .args(flags)
        .arg("-max_len=65536");
    Ok(command)
}

/// Every target (or `targets`) for [`campaign::CAMPAIGN_RUNS`] executions or
/// [`campaign::CAMPAIGN_SECONDS`], one after the other; each result is appended to
/// `target/fuzz-campaign.md` as it comes, and printed at the end.
fn fuzz_campaign(targets: &[&str]) -> Result<(), String> {
    let targets: Vec<&str> = if targets.is_empty() {
        FUZZ_TARGETS.iter().map(|(name, _)| *name).collect()
    } else {
        targets.to_vec()
    };
    let results = root_dir().join("target/fuzz-campaign.md");
    let runs = format!("-runs={}", campaign::CAMPAIGN_RUNS);
    let max_time = format!("-max_total_time={}", campaign::CAMPAIGN_SECONDS);
    let mut rows = Vec::new();
    for target in targets {
        let outcome = campaign::run_target(&mut fuzz_command(target, &[&runs, &max_time])?)?;
        let row = outcome.row(target);
        campaign::record(&results, &row)?;
        rows.push((row, outcome.crash.is_some()));
    }
    #[allow(clippy::print_stdout)]
    {
        println!("{}", campaign::TABLE_HEADER);
        for (row, _) in &rows {
            println!("{row}");
        }
        println!("(appended to {})", results.display());
    }
    match rows.iter().filter(|(_, crashed)| *crashed).count() {
        0 => Ok(()),
        n => Err(format!("{n} target(s) found a crash; see the table")),
    }
}

/// Copies the seed files of the shared corpus into a fuzz target's working corpus.
fn seed(corpus: &Path, seeds: &[&str]) -> Result<(), String> {
    std::fs::create_dir_all(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let shared = root_dir().join("../shared/corpus");
    for dir in seeds {
        let dir = shared.join(dir);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sdp") {
                let target = corpus.join(entry.file_name());
                std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Copies every file of `fuzz/seeds/<target>/` (seeds kept in this repository), if any.
fn seed_own(corpus: &Path, seeds: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(seeds) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() {
            let target = corpus.join(entry.file_name());
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `cargo` with `args` in the workspace root, failing if it fails.
fn cargo(args: &[&str]) -> Result<(), String> {
    run(Command::new(cargo_bin()).current_dir(root_dir()).args(args))
}

fn run(command: &mut Command) -> Result<(), String> {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("$ {command:?}");
    }
    let status = command
        .status()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}"))
    }
}
