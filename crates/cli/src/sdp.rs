//! `antiphon sdp check` and `antiphon sdp fmt`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use antiphon_sdp::{Mode, ParseOptions, Parsed};
use clap::{Args, Subcommand};

use crate::input;

/// SDP tools.
#[derive(Debug, Subcommand)]
pub(crate) enum SdpCommand {
    /// Parse a description and report warnings; on error print `FILE:LINE:COLUMN: message` and
    /// exit 1.
    Check(SdpArgs),
    /// Parse a description and write it back normalized (CRLF, canonical spacing).
    Fmt(SdpArgs),
}

/// Arguments shared by the SDP tools.
#[derive(Debug, Args)]
pub(crate) struct SdpArgs {
    /// The SDP file (raw SDP or browser JSON); `-` for standard input.
    file: PathBuf,
    /// Accept what browsers accept (blank lines, missing t=/c=, out-of-order lines) instead of
    /// the strict RFC 8866 grammar.
    #[arg(long)]
    lenient: bool,
}

pub(crate) fn run(command: &SdpCommand) -> Result<ExitCode, String> {
    match command {
        SdpCommand::Check(args) => {
            let Some(parsed) = parse_or_report(args)? else {
                return Ok(ExitCode::FAILURE);
            };
            let name = display_name(&args.file);
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{name}: ok, {} m= sections, {} warnings",
                parsed.description.media.len(),
                parsed.warnings.len()
            )
            .map_err(|error| error.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        SdpCommand::Fmt(args) => {
            let Some(parsed) = parse_or_report(args)? else {
                return Ok(ExitCode::FAILURE);
            };
            std::io::stdout()
                .lock()
                .write_all(parsed.description.to_string().as_bytes())
                .map_err(|error| error.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Parses `args.file`, printing warnings to standard error; `Ok(None)` when it does not parse
/// (the error has been printed as `FILE:LINE:COLUMN: message`).
fn parse_or_report(args: &SdpArgs) -> Result<Option<Parsed>, String> {
    let name = display_name(&args.file);
    let bytes = input::read(&args.file)?;
    let text;
    let sdp: &[u8] = if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let json =
            String::from_utf8(bytes.clone()).map_err(|_| format!("{name}: invalid UTF-8"))?;
        text = input::sdp_of(&json).map_err(|error| format!("{name}: {error}"))?;
        text.as_bytes()
    } else {
        &bytes
    };
    let options = ParseOptions::default().with_mode(if args.lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    });
    let mut err = std::io::stderr().lock();
    match antiphon_sdp::parse_with(sdp, &options) {
        Ok(parsed) => {
            for warning in &parsed.warnings {
                writeln!(
                    err,
                    "{name}:{}:{}: warning: {}",
                    warning.line, warning.column, warning.kind
                )
                .map_err(|error| error.to_string())?;
            }
            Ok(Some(parsed))
        }
        Err(error) => {
            match (error.line(), error.column(), error.parse_error_kind()) {
                (Some(line), Some(column), Some(kind)) => {
                    writeln!(err, "{name}:{line}:{column}: {kind}")
                }
                _ => writeln!(err, "{name}: {error}"),
            }
            .map_err(|e| e.to_string())?;
            Ok(None)
        }
    }
}

fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}
