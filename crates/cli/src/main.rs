//! The `antiphon` command: answer WebRTC offers, check and format SDP.

mod answer;
mod input;
mod sdp;
mod serve;
mod ws;

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
    /// Answer a remote offer (raw SDP or browser JSON); with no input, a bundled real Chromium
    /// offer with audio, video and a data channel.
    Answer(answer::AnswerArgs),
    /// Serve the browser demo: a page that offers a data channel (and camera/microphone with
    /// `?media=1`); Antiphon answers, connects and echoes every message.
    Serve(serve::ServeArgs),
    /// SDP tools.
    #[command(subcommand)]
    Sdp(sdp::SdpCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Answer(args) => answer::run(&args),
        Command::Serve(args) => serve::run(&args),
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
