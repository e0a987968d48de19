//! `antiphon answer`: answer a remote offer with the default capabilities.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use antiphon_codec::Capabilities;
use antiphon_dtls::{Certificate, CertificateOptions};
use antiphon_ice::IceCredentials;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Negotiator, OsEntropy};
use clap::Args;

use crate::input;

/// The real Chromium 156 offer answered when no input is given.
const BUNDLED_OFFER: &str = include_str!("../offers/chromium-audio-video-data.json");

/// Arguments of `antiphon answer`.
#[derive(Debug, Args)]
pub(crate) struct AnswerArgs {
    /// The offer: raw SDP or browser JSON (`{"type":"offer","sdp":...}`); `-` for standard
    /// input; none for a bundled real Chromium offer with audio, video and a data channel.
    file: Option<PathBuf>,
    /// Print the answer as raw SDP instead of JSON.
    #[arg(long)]
    sdp: bool,
    /// Print why each m= section, codec and header extension was accepted or rejected (to
    /// standard error, so the answer on standard output stays machine-readable).
    #[arg(long)]
    explain: bool,
    /// Answer `a=setup:actpass` with passive instead of active.
    #[arg(long)]
    passive: bool,
    /// Load the DTLS certificate from this PEM file (certificate + private key) instead of
    /// generating one.
    #[arg(long, value_name = "PEM")]
    certificate: Option<PathBuf>,
}

pub(crate) fn run(args: &AnswerArgs) -> Result<ExitCode, String> {
    let offer_text = match &args.file {
        Some(path) => {
            let bytes = input::read(path)?;
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?
        }
        None => BUNDLED_OFFER.to_owned(),
    };
    let offer = input::description_of(&offer_text)?;
    let certificate = match &args.certificate {
        Some(path) => {
            let pem =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Certificate::generate(&CertificateOptions::default()).map_err(|e| e.to_string())?,
    };
    let options = AnswerOptions::default().with_prefer_passive(args.passive);
    let mut negotiator = Negotiator::new(
        Capabilities::browser_default(),
        options,
        Box::new(OsEntropy),
    );
    negotiator
        .set_remote_description(&offer)
        .map_err(|e| e.to_string())?;
    let answer = negotiator
        .create_answer(|_| {
            let credentials = IceCredentials::generate();
            LocalTransport::new(credentials.ufrag(), credentials.pwd(), &certificate)
        })
        .map_err(|e| e.to_string())?;
    if args.explain
        && let Some(explanation) = negotiator.last_explanation()
    {
        let mut err = std::io::stderr().lock();
        write!(err, "{explanation}").map_err(|e| e.to_string())?;
    }
    let mut out = std::io::stdout().lock();
    if args.sdp {
        out.write_all(answer.sdp.as_bytes())
    } else {
        writeln!(out, "{}", answer.to_json())
    }
    .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
