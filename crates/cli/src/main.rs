//! The `antiphon` command: answer WebRTC offers, check and format SDP.

mod input;
mod sdp;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Antiphon: a WebRTC negotiation stack.
#[derive(Debug, Parser)]
#[command(name = "antiphon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// SDP tools.
    #[command(subcommand)]
    Sdp(sdp::SdpCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Sdp(command) => sdp::run(&command),
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("antiphon: {message}");
            }
            ExitCode::FAILURE
        }
    }
}
