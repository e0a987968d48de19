//! Answers every offer of the shared corpus (`sdp/valid`, role offer or unknown): each answer
//! must parse back strictly and pass the checklist, or the offer must be refused with a typed
//! error that says why.

mod common;

use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::checklist::check_answer;
use antiphon_peer::{Error, RTCSessionDescriptionInit};
use common::*;

#[test]
fn every_corpus_offer_is_answered_or_refused_with_a_typed_error() {
    let index = std::fs::read_to_string(corpus().join("sdp/INDEX.tsv")).expect("INDEX.tsv");
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    let mut failures = Vec::new();
    for row in index.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        let [kind, file, role, ..] = columns.as_slice() else {
            continue;
        };
        if *kind != "valid" || *role == "answer" {
            continue;
        }
        let text = corpus_sdp(file);
        let mut negotiator = negotiator(AnswerOptions::default());
        match negotiator.set_remote_description(&RTCSessionDescriptionInit::offer(text.clone())) {
            Err(error @ (Error::InvalidAccess(_) | Error::SdpSyntax(_))) => {
                refused.push(format!("{file}: {error}"));
                continue;
            }
            Err(other) => {
                failures.push(format!("{file}: unexpected error {other}"));
                continue;
            }
            Ok(_) => {}
        }
        let answer = match negotiator.create_answer(transport) {
            Ok(answer) => answer,
            Err(error) => {
                failures.push(format!("{file}: createAnswer failed: {error}"));
                continue;
            }
        };
        let reparsed = match antiphon_sdp::parse(&answer.sdp) {
            Ok(parsed) => parsed.description,
            Err(error) => {
                failures.push(format!(
                    "{file}: answer does not parse strictly: {error}\n{}",
                    answer.sdp
                ));
                continue;
            }
        };
        let violations = check_answer(&parse(&text), &reparsed);
        if !violations.is_empty() {
            failures.push(format!("{file}: {violations:?}\n{}", answer.sdp));
            continue;
        }
        if let Err(error) = negotiator.set_local_description(&answer) {
            failures.push(format!(
                "{file}: setLocalDescription(answer) failed: {error}"
            ));
            continue;
        }
        answered.push(file.to_string());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        answered.len() >= 40,
        "only {} offers answered; refused: {refused:#?}",
        answered.len()
    );
    assert!(
        answered.iter().any(|f| f.starts_with("jsep-rfc9429-offer")),
        "the RFC 9429 offers must be answered"
    );
}

#[test]
fn the_bundled_chromium_offer_is_answered_with_every_section_accepted() {
    let mut negotiator = negotiator(AnswerOptions::default());
    negotiator
        .set_remote_description(&RTCSessionDescriptionInit::offer(chromium_offer()))
        .expect("Chromium's offer applies");
    let answer = negotiator.create_answer(transport).expect("an answer");
    let parsed = antiphon_sdp::parse(&answer.sdp)
        .expect("strict parse")
        .description;
    assert!(parsed.media.iter().all(|m| m.port != 0), "{}", answer.sdp);
    let group = parsed.bundle_groups().next().expect("BUNDLE");
    assert_eq!(group.mids, ["0", "1", "2"]);
    assert!(check_answer(&parse(&chromium_offer()), &parsed).is_empty());
}
