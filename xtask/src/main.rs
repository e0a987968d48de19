//! Project automation, in the rust-analyzer style: `cargo xtask <task>`.
//!
//! * `ci`: everything CI checks: formatting, clippy with warnings denied, and the full test suite.
//!
//! The tasks are plain `std::process::Command` calls, so `xtask` builds in seconds and needs no
//! dependencies.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
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
         ci     formatting, clippy (-D warnings) and the full test suite"
    );
}

/// Formatting, lints and every test of the workspace.
fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    cargo(&["test", "--workspace"])?;
    Ok(())
}

/// Runs `cargo` with `args` in the workspace root, failing if it fails.
fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(Command::new(cargo).args(args))
}

fn run(command: &mut Command) -> Result<(), String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    command.current_dir(root);
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
