//! Two negotiators through a whole offer/answer exchange, and the signaling errors around it.

mod common;

use antiphon_codec::{Direction, MediaKind};
use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::checklist::check_answer;
use antiphon_peer::{
    Error, InvalidModificationReason, InvalidStateReason, MediaStreamTrack, RTCSdpType,
    RTCSessionDescriptionInit, RTCSignalingState,
};
use common::*;

#[test]
fn antiphon_offers_antiphon_answers_and_both_end_stable() {
    let mut offerer = negotiator(AnswerOptions::default());
    let mut answerer = negotiator(AnswerOptions::default());
    offerer
        .add_track(
            MediaStreamTrack {
                id: "mic".into(),
                kind: MediaKind::Audio,
            },
            vec!["s".into()],
        )
        .unwrap();
    let video = offerer
        .add_transceiver(
            MediaKind::Video,
            antiphon_peer::RTCRtpTransceiverInit::default().with_direction(Direction::RecvOnly),
        )
        .unwrap();
    offerer.request_data_channel().unwrap();

    let offer = offerer.create_offer(transport(0)).unwrap();
    assert_eq!(offer.sdp_type, RTCSdpType::Offer);
    let parsed_offer = antiphon_sdp::parse(&offer.sdp)
        .expect("our offer parses strictly")
        .description;
    assert_eq!(parsed_offer.media.len(), 3);
    assert!(parsed_offer.validate().is_ok());
    assert_eq!(
        offerer.signaling_state(),
        RTCSignalingState::Stable,
        "createOffer changes no state"
    );

    offerer.set_local_description(&offer).unwrap();
    assert_eq!(offerer.signaling_state(), RTCSignalingState::HaveLocalOffer);
    answerer.set_remote_description(&offer).unwrap();
    answerer
        .add_track(
            MediaStreamTrack {
                id: "cam".into(),
                kind: MediaKind::Video,
            },
            vec![],
        )
        .unwrap();
    let answer = answerer.create_answer(transport).unwrap();
    let parsed_answer = antiphon_sdp::parse(&answer.sdp).unwrap().description;
    assert!(check_answer(&parsed_offer, &parsed_answer).is_empty());
    answerer.set_local_description(&answer).unwrap();
    offerer.set_remote_description(&answer).unwrap();

    assert_eq!(offerer.signaling_state(), RTCSignalingState::Stable);
    assert_eq!(answerer.signaling_state(), RTCSignalingState::Stable);
    assert!(
        offerer.current_local_description().is_some()
            && offerer.current_remote_description().is_some()
    );
    assert!(offerer.pending_local_description().is_none());
    let audio = &offerer.transceivers()[0];
    // The answerer has no audio track: it answers recvonly, so the offerer only sends.
    assert_eq!(audio.current_direction, Some(Direction::SendOnly));
    // The answerer's camera went into the transceiver the offer created for the video section.
    assert_eq!(
        offerer.transceivers()[video.index()].current_direction,
        Some(Direction::RecvOnly)
    );
    assert_eq!(
        parsed_answer.media[1].direction(),
        Some(antiphon_sdp::Direction::SendOnly)
    );
}

#[test]
fn rule_1_2_create_answer_in_wrong_state_or_after_close() {
    let mut n = negotiator(AnswerOptions::default());
    assert!(matches!(
        n.create_answer(transport),
        Err(Error::InvalidState(
            InvalidStateReason::NoRemoteOffer { .. }
        ))
    ));
    n.request_data_channel().unwrap();
    let offer = n.create_offer(transport(0)).unwrap();
    n.set_local_description(&offer).unwrap();
    assert!(matches!(
        n.create_answer(transport),
        Err(Error::InvalidState(
            InvalidStateReason::NoRemoteOffer { .. }
        ))
    ));
    n.close();
    assert!(matches!(
        n.create_answer(transport),
        Err(Error::InvalidState(InvalidStateReason::Closed))
    ));
    assert!(matches!(
        n.create_offer(transport(0)),
        Err(Error::InvalidState(InvalidStateReason::Closed))
    ));
    assert!(matches!(
        n.set_remote_description(&RTCSessionDescriptionInit::offer(chromium_offer())),
        Err(Error::InvalidState(InvalidStateReason::Closed))
    ));
}

#[test]
fn rule_5_7_create_answer_has_no_side_effects_and_munged_answers_are_refused() {
    let mut n = negotiator(AnswerOptions::default());
    n.set_remote_description(&RTCSessionDescriptionInit::offer(chromium_offer()))
        .unwrap();
    let transceivers = n.transceivers().to_vec();
    let answer = n.create_answer(transport).unwrap();
    assert_eq!(n.signaling_state(), RTCSignalingState::HaveRemoteOffer);
    assert_eq!(n.transceivers(), transceivers.as_slice());
    let munged =
        RTCSessionDescriptionInit::answer(answer.sdp.replace("a=setup:active", "a=setup:passive"));
    assert!(matches!(
        n.set_local_description(&munged),
        Err(Error::InvalidModification(
            InvalidModificationReason::NotLastCreatedAnswer
        ))
    ));
    assert_eq!(
        n.signaling_state(),
        RTCSignalingState::HaveRemoteOffer,
        "a refused call changes nothing"
    );
    n.set_local_description(&answer).unwrap();
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
}

#[test]
fn rule_8_local_answer_in_stable_is_invalid_state() {
    let mut n = negotiator(AnswerOptions::default());
    let result = n.set_local_description(&RTCSessionDescriptionInit::answer("v=0\r\n"));
    assert!(matches!(
        result,
        Err(Error::InvalidState(
            InvalidStateReason::WrongSignalingState { .. }
        ))
    ));
}

#[test]
fn rule_70_session_version_grows_only_when_the_answer_changes() {
    let mut n = negotiator(AnswerOptions::default());
    n.set_remote_description(&RTCSessionDescriptionInit::offer(chromium_offer()))
        .unwrap();
    let version = |sdp: &str| antiphon_sdp::parse(sdp).unwrap().description.origin;
    let first = n.create_answer(transport).unwrap();
    let again = n.create_answer(transport).unwrap();
    assert_eq!(version(&first.sdp), version(&again.sdp));
    let changed = n.create_answer(|k| {
        let mut t = transport(k);
        t.ice_ufrag = "changed".into();
        t
    });
    let changed = changed.unwrap();
    let (a, b) = (version(&first.sdp), version(&changed.sdp));
    assert_eq!(a.session_id, b.session_id);
    assert_eq!(b.session_version, a.session_version + 1);
}

#[test]
fn rule_76_offer_without_rtcp_mux_is_refused_under_require() {
    let text = offer(&[&audio("0", "").replace("a=rtcp-mux\r\n", "")]);
    let mut n = negotiator(AnswerOptions::default());
    let result = n.set_remote_description(&RTCSessionDescriptionInit::offer(text));
    assert!(matches!(
        result,
        Err(Error::InvalidAccess(
            antiphon_peer::InvalidAccessReason::RtcpMuxRequired { index: 0 }
        ))
    ));
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    assert!(n.remote_description().is_none());
}

#[test]
fn rule_77_changed_fingerprint_without_ice_restart_is_refused() {
    let mut n = negotiator(AnswerOptions::default());
    let first = offer(&[&audio("0", "")]);
    n.set_remote_description(&RTCSessionDescriptionInit::offer(first.clone()))
        .unwrap();
    let answer = n.create_answer(transport).unwrap();
    n.set_local_description(&answer).unwrap();
    let changed = first.replace("19:E2:1C", "29:E2:1C");
    let result = n.set_remote_description(&RTCSessionDescriptionInit::offer(changed.clone()));
    assert!(matches!(
        result,
        Err(Error::InvalidAccess(
            antiphon_peer::InvalidAccessReason::FingerprintChangedWithoutIceRestart
        ))
    ));
    // With an ICE restart (new ufrag) a new fingerprint asks for a new DTLS association
    // (RFC 8842 §5), which Antiphon does not set up: refused, not carried on silently.
    let restarted = changed.replace("a=ice-ufrag:ufrA", "a=ice-ufrag:ufrB");
    let result = n.set_remote_description(&RTCSessionDescriptionInit::offer(restarted));
    assert!(
        matches!(
            result,
            Err(Error::InvalidAccess(
                antiphon_peer::InvalidAccessReason::NewDtlsAssociationUnsupported
            ))
        ),
        "{result:?}"
    );
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    // An ICE restart that keeps the fingerprint is fine.
    let restart_only = first.replace("a=ice-ufrag:ufrA", "a=ice-ufrag:ufrB");
    n.set_remote_description(&RTCSessionDescriptionInit::offer(restart_only))
        .unwrap();
}

/// A negotiator that answered `first` and applied its answer: `stable`, both descriptions
/// current.
fn answered(first: &str) -> antiphon_peer::Negotiator {
    let mut n = negotiator(AnswerOptions::default());
    n.set_remote_description(&RTCSessionDescriptionInit::offer(first))
        .unwrap();
    let answer = n.create_answer(transport).unwrap();
    n.set_local_description(&answer).unwrap();
    n
}

/// Refuses `offer` with `reason`, changing nothing: still `stable` with the same descriptions,
/// and the previous offer applies again.
fn refuses(
    n: &mut antiphon_peer::Negotiator,
    offer: &str,
    reason: antiphon_peer::InvalidAccessReason,
) {
    let before = (
        n.current_local_description().cloned(),
        n.current_remote_description().cloned(),
        n.transceivers().to_vec(),
    );
    let result = n.set_remote_description(&RTCSessionDescriptionInit::offer(offer));
    match result {
        Err(Error::InvalidAccess(found)) => assert_eq!(found, reason),
        other => panic!("expected InvalidAccessError {reason:?}, got {other:?}"),
    }
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    let after = (
        n.current_local_description().cloned(),
        n.current_remote_description().cloned(),
        n.transceivers().to_vec(),
    );
    assert!(before == after, "a refused offer changed state");
}

/// RFC 9429 §5.2.2, §5.8.3 (rule 19a in docs/jsep-answer-rules.md): a subsequent offer keeps
/// every m= section in place with its kind and mid, and removes none.
#[test]
fn rule_19a_subsequent_offers_keep_sections_kinds_and_mids() {
    use antiphon_peer::InvalidAccessReason;
    let first = offer(&[&data("0")]);
    let mut n = answered(&first);
    // m-line 0 became audio: refused.
    refuses(
        &mut n,
        &offer(&[&audio("0", ""), &video("1", ""), &data("2")]),
        InvalidAccessReason::SectionKindChanged { index: 0 },
    );
    // The same kind under another mid: refused.
    refuses(
        &mut n,
        &offer(&[&data("9")]),
        InvalidAccessReason::SectionMidChanged { index: 0 },
    );
    // Adding sections after the existing ones is renegotiation as it should be.
    let grown = offer(&[&data("0"), &audio("1", ""), &video("2", "")]);
    n.set_remote_description(&RTCSessionDescriptionInit::offer(grown.clone()))
        .unwrap();
    let answer = n.create_answer(transport).unwrap();
    n.set_local_description(&answer).unwrap();
    // Removing them again: refused.
    refuses(
        &mut n,
        &offer(&[&data("0")]),
        InvalidAccessReason::SectionRemoved {
            offered: 1,
            current: 3,
        },
    );
    // Rejecting one with port 0 is how a section goes away; then it may be recycled for other
    // media under a new mid.
    let rejected = offer(&[
        &data("0"),
        &audio("1", "").replacen("m=audio 9", "m=audio 0", 1),
        &video("2", ""),
    ]);
    n.set_remote_description(&RTCSessionDescriptionInit::offer(rejected))
        .unwrap();
    let answer = n.create_answer(transport).unwrap();
    n.set_local_description(&answer).unwrap();
    let recycled = offer(&[&data("0"), &video("3", ""), &video("2", "")]);
    n.set_remote_description(&RTCSessionDescriptionInit::offer(recycled))
        .unwrap();
}

/// RFC 9429 §5.2.2 (rule 19b): the answerer's own later offer has every negotiated section, in
/// the negotiated order: the data section the remote offered first, then its audio and video.
#[test]
fn rule_19b_the_answerers_own_offer_keeps_every_section_in_order() {
    let first = offer(&[&data("0"), &audio("1", ""), &video("2", "")]);
    let mut n = answered(&first);
    let ours = n.create_offer(transport(0)).expect("an offer");
    let parsed = antiphon_sdp::parse(&ours.sdp)
        .expect("our offer parses strictly")
        .description;
    let sections: Vec<(String, Option<&str>)> = parsed
        .media
        .iter()
        .map(|m| (m.kind.as_str().to_owned(), m.mid()))
        .collect();
    assert_eq!(
        sections,
        [
            ("application".to_owned(), Some("0")),
            ("audio".to_owned(), Some("1")),
            ("video".to_owned(), Some("2")),
        ],
        "{}",
        ours.sdp
    );
}

#[test]
fn rollback_of_a_remote_offer_returns_to_stable_and_drops_its_transceivers() {
    let mut n = negotiator(AnswerOptions::default());
    n.set_remote_description(&RTCSessionDescriptionInit::offer(chromium_offer()))
        .unwrap();
    assert_eq!(n.transceivers().len(), 2);
    n.set_remote_description(&RTCSessionDescriptionInit::rollback())
        .unwrap();
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    assert!(n.transceivers().is_empty());
    assert!(n.remote_description().is_none());
}

#[test]
fn syntax_errors_carry_the_line() {
    let mut n = negotiator(AnswerOptions::default());
    let broken = chromium_offer().replace("a=mid:1", "a=mid:1\r\nm=video x");
    match n.set_remote_description(&RTCSessionDescriptionInit::offer(broken)) {
        Err(Error::SdpSyntax(error)) => assert!(error.line().is_some_and(|l| l > 1)),
        other => panic!("expected sdp-syntax-error, got {other:?}"),
    }
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
}

#[test]
fn rule_77_changed_fingerprint_in_a_re_answer_without_ice_restart_is_refused() {
    // The same rule for the other direction: we re-offer without an ICE restart and the
    // answer comes back with a different certificate fingerprint.
    let mut offerer = negotiator(AnswerOptions::default());
    let mut answerer = negotiator(AnswerOptions::default());
    offerer.request_data_channel().unwrap();
    let offer = offerer.create_offer(transport(0)).unwrap();
    offerer.set_local_description(&offer).unwrap();
    answerer.set_remote_description(&offer).unwrap();
    let answer = answerer.create_answer(|_| transport(1)).unwrap();
    answerer.set_local_description(&answer).unwrap();
    offerer.set_remote_description(&answer).unwrap();

    let re_offer = offerer.create_offer(transport(0)).unwrap();
    offerer.set_local_description(&re_offer).unwrap();
    answerer.set_remote_description(&re_offer).unwrap();
    let re_answer = answerer.create_answer(|_| transport(1)).unwrap();
    let fingerprint = "AB:".repeat(31) + "AB";
    assert!(re_answer.sdp.contains(&fingerprint));
    let mut changed = re_answer.clone();
    changed.sdp = re_answer
        .sdp
        .replace(&fingerprint, &("CD:".repeat(31) + "CD"));
    let result = offerer.set_remote_description(&changed);
    assert!(
        matches!(
            result,
            Err(Error::InvalidAccess(
                antiphon_peer::InvalidAccessReason::FingerprintChangedWithoutIceRestart
            ))
        ),
        "{result:?}"
    );
    // Refused without effect: still waiting for the answer, and the genuine one applies.
    assert_eq!(offerer.signaling_state(), RTCSignalingState::HaveLocalOffer);
    offerer.set_remote_description(&re_answer).unwrap();
    assert_eq!(offerer.signaling_state(), RTCSignalingState::Stable);
}

/// RFC 9429 §5.2.2 (rule 19c): a stopped transceiver's section stays in our later offers,
/// rejected in place (port 0, its mid, outside BUNDLE), the remote accepts it, and new media
/// after it takes a new mid rather than that one.
#[test]
fn rule_19c_a_stopped_transceivers_section_stays_rejected_in_later_offers() {
    let mut ours = negotiator(AnswerOptions::default());
    let mut theirs = negotiator(AnswerOptions::default());
    let audio = ours
        .add_transceiver(
            MediaKind::Audio,
            antiphon_peer::RTCRtpTransceiverInit::default(),
        )
        .unwrap();
    ours.add_transceiver(
        MediaKind::Video,
        antiphon_peer::RTCRtpTransceiverInit::default(),
    )
    .unwrap();
    let exchange = |ours: &mut antiphon_peer::Negotiator,
                    theirs: &mut antiphon_peer::Negotiator| {
        let offer = ours.create_offer(transport(0)).unwrap();
        ours.set_local_description(&offer).unwrap();
        theirs.set_remote_description(&offer).unwrap();
        let answer = theirs.create_answer(transport).unwrap();
        theirs.set_local_description(&answer).unwrap();
        ours.set_remote_description(&answer).unwrap();
        offer
    };
    exchange(&mut ours, &mut theirs);
    ours.stop_transceiver(audio).unwrap();
    let offer = exchange(&mut ours, &mut theirs);
    let parsed = antiphon_sdp::parse(&offer.sdp).expect("parses").description;
    assert_eq!(parsed.media.len(), 2, "{}", offer.sdp);
    assert_eq!(parsed.media[0].port, 0, "{}", offer.sdp);
    assert_eq!(parsed.media[0].mid(), Some("0"));
    assert!(
        parsed
            .bundle_groups()
            .all(|g| !g.mids.iter().any(|m| m == "0")),
        "a rejected section is in no BUNDLE group: {}",
        offer.sdp
    );
    // Still there, rejected, after it was negotiated away; new audio gets a new mid.
    ours.add_transceiver(
        MediaKind::Audio,
        antiphon_peer::RTCRtpTransceiverInit::default(),
    )
    .unwrap();
    let offer = exchange(&mut ours, &mut theirs);
    let parsed = antiphon_sdp::parse(&offer.sdp).expect("parses").description;
    let sections: Vec<(u16, Option<&str>)> =
        parsed.media.iter().map(|m| (m.port, m.mid())).collect();
    assert_eq!(sections[0], (0, Some("0")), "{}", offer.sdp);
    assert_eq!(sections.len(), 3, "{}", offer.sdp);
    assert!(
        sections[2].1.is_some_and(|m| m != "0" && m != "1"),
        "{sections:?}"
    );
}
