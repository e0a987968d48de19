//! The `antiphon` command: answer WebRTC offers, check and format SDP.

mod answer;
mod input;
mod reflect;
mod sdp;
mod serve;
mod session;
mod signaling;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Antiphon: a WebRTC negotiation stack.
#[derive(Debug, Parser)]
#[command(name = "antiphon", version, about)]
struct Cli {
    /// More logs on stderr: -v info, -vv debug, -vvv trace (default: warnings only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Logs (`tracing` events from antiphon-ice, -dtls, -peer and the CLI) go to stderr, so
/// stdout stays the command's output.
fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer a remote offer (raw SDP or browser JSON); with no input, a bundled real Chromium
    /// offer with audio, video and a data channel.
    Answer(answer::AnswerArgs),
    /// Serve the browser demo: a page that offers a data channel (and camera/microphone with
    /// `?media=1`); Antiphon answers, connects and echoes every message.
    Serve(Box<serve::ServeArgs>),
    /// SDP tools.
    #[command(subcommand)]
    Sdp(sdp::SdpCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.verbose);
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
