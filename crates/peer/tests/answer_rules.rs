//! One test per rule of `JSEP-ANSWER-CHECKLIST.md` that the pure answer function owns, named
//! `rule_NN_...`; every answer is also run through [`antiphon_peer::checklist`].

mod common;

use antiphon_codec::{Codec, Direction, MediaKind};
use antiphon_peer::RTCBundlePolicy;
use antiphon_peer::answer::{
    AnswerOptions, LocalSection, LocalSender, RejectReason, SectionOutcome,
};
use antiphon_peer::checklist::check_answer;
use antiphon_sdp::{Attribute, SessionDescription, Setup};
use common::*;

fn assert_clean(offer: &SessionDescription, answer: &SessionDescription) {
    let violations = check_answer(offer, answer);
    assert!(violations.is_empty(), "{violations:#?}\n{answer}");
}

fn has(section: &antiphon_sdp::MediaDescription, f: impl Fn(&Attribute) -> bool) -> bool {
    section.attributes.iter().any(f)
}

fn sender() -> LocalSender {
    LocalSender {
        stream_ids: vec!["stream".into()],
        track_id: "track".into(),
        cname: "cname".into(),
        ssrc: 1111,
        rtx_ssrc: Some(2222),
        rids: None,
    }
}

fn sending(direction: Direction) -> LocalSection {
    LocalSection {
        direction,
        sender: Some(sender()),
        ..LocalSection::default()
    }
}

#[test]
fn rule_11_12_13_session_lines() {
    let (offer, answer) = answer_text(&chromium_offer());
    let text = answer.to_string();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "v=0");
    assert!(
        lines[1].starts_with("o=- 42 1 IN IP4 0.0.0.0"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "s=-");
    assert_eq!(lines[3], "t=0 0");
    for forbidden in ["i=", "u=", "e=", "p=", "r=", "z=", "k="] {
        assert!(
            !lines.iter().any(|l| l.starts_with(forbidden)),
            "{forbidden}"
        );
    }
    assert_clean(&offer, &answer);
}

#[test]
fn rule_14_ice_options_only_when_offered() {
    let with = offer(&[&audio("0", "")]).replace("a=mid:0", "a=mid:0\r\na=ice-options:trickle");
    let (_, answer) = answer_text(&with);
    assert!(answer.to_string().contains("a=ice-options:trickle\r\n"));
    let (offer, answer) = answer_text(&offer(&[&audio("0", "")]));
    assert!(!answer.to_string().contains("ice-options"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_16_no_ice_lite_in_answer_to_ice_lite_offer() {
    let lite = offer(&[&audio("0", "")]).replace("t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n");
    let (offer, answer) = answer_text(&lite);
    assert!(!answer.to_string().contains("ice-lite"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_19_20_same_sections_media_and_proto() {
    let (offer, answer) = answer_text(&corpus_sdp("jsep-rfc9429-offer-a1.sdp"));
    assert_eq!(offer.media.len(), answer.media.len());
    for (o, a) in offer.media.iter().zip(&answer.media) {
        assert_eq!((&o.kind, &o.proto), (&a.kind, &a.proto));
    }
    assert_clean(&offer, &answer);
}

#[test]
fn rule_21_25_offerer_rejected_section_stays_rejected_with_a_format() {
    let rejected = video("1", "").replacen("m=video 9", "m=video 0", 1);
    let (offer, answer) = answer_text(&offer(&[&audio("0", ""), &rejected]));
    assert_eq!(answer.media[1].port, 0);
    assert!(!answer.media[1].formats.is_empty());
    assert_clean(&offer, &answer);
}

#[test]
fn rule_22_rejections() {
    struct Case {
        name: &'static str,
        sections: Vec<String>,
        local: Vec<LocalSection>,
        policy: RTCBundlePolicy,
        expected: Vec<Option<RejectReason>>,
    }
    let stopped = LocalSection {
        stopped: true,
        ..LocalSection::default()
    };
    let g711_only = "m=audio 9 UDP/TLS/RTP/SAVPF 18\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:18 G729/8000\r\n".replace("a=mid:0", &format!("{TRANSPORT}a=mid:0"));
    let cases = vec![
        Case {
            name: "stopped transceiver",
            sections: vec![audio("0", "")],
            local: vec![stopped],
            policy: RTCBundlePolicy::Balanced,
            expected: vec![Some(RejectReason::TransceiverStopped)],
        },
        Case {
            name: "no supported format",
            sections: vec![g711_only],
            local: vec![],
            policy: RTCBundlePolicy::Balanced,
            expected: vec![Some(RejectReason::NoCommonCodec)],
        },
        Case {
            name: "max-bundle without BUNDLE keeps only the first",
            sections: vec![audio("0", ""), video("1", ""), data("2")],
            local: vec![],
            policy: RTCBundlePolicy::MaxBundle,
            expected: vec![
                None,
                Some(RejectReason::BundlePolicy(RTCBundlePolicy::MaxBundle)),
                Some(RejectReason::BundlePolicy(RTCBundlePolicy::MaxBundle)),
            ],
        },
        Case {
            name: "balanced without BUNDLE keeps the first of each kind",
            sections: vec![audio("0", ""), audio("1", ""), video("2", "")],
            local: vec![],
            policy: RTCBundlePolicy::Balanced,
            expected: vec![
                None,
                Some(RejectReason::BundlePolicy(RTCBundlePolicy::Balanced)),
                None,
            ],
        },
        Case {
            name: "max-compat keeps everything",
            sections: vec![audio("0", ""), audio("1", ""), video("2", "")],
            local: vec![],
            policy: RTCBundlePolicy::MaxCompat,
            expected: vec![None, None, None],
        },
    ];
    for case in cases {
        let refs: Vec<&str> = case.sections.iter().map(String::as_str).collect();
        let options = AnswerOptions::default().with_bundle_policy(case.policy);
        let offer = parse(&offer(&refs));
        let answer = answer_with(&offer, &case.local, &options);
        let outcomes: Vec<Option<RejectReason>> = answer
            .explanation
            .sections
            .iter()
            .map(|s| match &s.outcome {
                SectionOutcome::Rejected(reason) => Some(reason.clone()),
                SectionOutcome::Accepted { .. } => None,
            })
            .collect();
        assert_eq!(outcomes, case.expected, "{}", case.name);
        for (index, expected) in case.expected.iter().enumerate() {
            assert_eq!(
                answer.description.media[index].port == 0,
                expected.is_some(),
                "{}",
                case.name
            );
        }
        assert_clean(&offer, &answer.description);
    }
}

#[test]
fn rule_23_missing_ice_credentials_or_fingerprint_rejects_the_section_only() {
    let no_ice = audio("1", "")
        .replace("a=ice-ufrag:ufrA\r\n", "")
        .replace("a=ice-pwd:0123456789012345678901\r\n", "");
    let no_fp = video("2", "").replace(
        "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n",
        "",
    );
    let options = AnswerOptions::default().with_bundle_policy(RTCBundlePolicy::MaxCompat);
    let offer = parse(&offer(&[&audio("0", ""), &no_ice, &no_fp]));
    let answer = answer_with(&offer, &[], &options);
    let reasons: Vec<_> = answer
        .explanation
        .sections
        .iter()
        .map(|s| s.outcome.clone())
        .collect();
    assert!(matches!(reasons[0], SectionOutcome::Accepted { .. }));
    assert_eq!(
        reasons[1],
        SectionOutcome::Rejected(RejectReason::MissingIceCredentials)
    );
    assert_eq!(
        reasons[2],
        SectionOutcome::Rejected(RejectReason::MissingFingerprint)
    );
}

#[test]
fn rule_26_initial_answer_port_9_and_null_connection() {
    let (offer, answer) = answer_text(&offer(&[&audio("0", "")]));
    let text = answer.to_string();
    assert!(
        text.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"),
        "{text}"
    );
    assert_clean(&offer, &answer);
}

#[test]
fn rule_28_codec_preferences_order_and_exclude() {
    let pcmu = Codec::new(MediaKind::Audio, "PCMU", 8000);
    let local = [LocalSection {
        codec_preferences: vec![pcmu],
        ..LocalSection::default()
    }];
    let (offer, answer) = answer_sections(
        &offer(&[&audio("0", "")]),
        &local,
        &AnswerOptions::default(),
    );
    assert_eq!(answer.media[0].formats, ["0"]);
    assert_clean(&offer, &answer);
}

#[test]
fn rule_29_31_offer_order_and_payload_types_kept() {
    let (offer, answer) = answer_text(&chromium_offer());
    let video = &answer.media[1];
    let offered: Vec<_> = offer.media[1]
        .formats
        .iter()
        .filter(|f| video.formats.contains(f))
        .collect();
    assert_eq!(
        video.formats.iter().collect::<Vec<_>>(),
        offered,
        "answer keeps the offer's order"
    );
    assert!(
        video.formats.len() > 10,
        "Chromium's video codecs are mostly accepted"
    );
    assert_eq!(answer.media[0].formats.first().map(|f| &**f), Some("111"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_34_35_rtx_follows_its_primary() {
    // H264 profile 0x58 (extended) is not supported: its rtx (98) goes with it.
    let section = "m=video 9 UDP/TLS/RTP/SAVPF 96 97 100 98\r\nc=IN IP4 0.0.0.0\r\n".to_owned()
        + TRANSPORT
        + "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=rtpmap:100 H264/90000\r\na=fmtp:100 profile-level-id=58001f;packetization-mode=1\r\na=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=100\r\n";
    let (offer, answer) = answer_text(&offer(&[&section]));
    assert_eq!(answer.media[0].formats, ["96", "97"]);
    assert_eq!(
        answer.media[0].fmtp(97).map(|f| f.params.as_str()),
        Some("apt=96")
    );
    assert_clean(&offer, &answer);
}

#[test]
fn rule_39_mid_copied() {
    let (offer, answer) = answer_text(&offer(&[&audio("audio-main", "")]));
    assert_eq!(answer.media[0].mid(), Some("audio-main"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_40_41_direction_table() {
    use Direction::*;
    let table = [
        // (offered, transceiver, answer)
        (SendRecv, SendRecv, SendRecv),
        (SendRecv, RecvOnly, RecvOnly),
        (SendRecv, SendOnly, SendOnly),
        (SendRecv, Inactive, Inactive),
        (SendOnly, SendRecv, RecvOnly),
        (SendOnly, SendOnly, Inactive),
        (RecvOnly, SendRecv, SendOnly),
        (RecvOnly, RecvOnly, Inactive),
        (Inactive, SendRecv, Inactive),
    ];
    for (offered, transceiver, expected) in table {
        let section = audio("0", &format!("a={offered}\r\n"));
        let local = [sending(transceiver)];
        let (offer, answer) =
            answer_sections(&offer(&[&section]), &local, &AnswerOptions::default());
        let got = answer.media[0].direction().map(|d| d.as_str().to_owned());
        assert_eq!(
            got.as_deref(),
            Some(expected.as_str()),
            "offer {offered}, transceiver {transceiver}"
        );
        assert_clean(&offer, &answer);
    }
    // Rule 41: a transceiver created by the offer is recvonly.
    let (_, answer) = answer_text(&offer(&[&audio("0", "a=sendrecv\r\n")]));
    assert_eq!(
        answer.media[0]
            .direction()
            .map(|d| d.as_str().to_owned())
            .as_deref(),
        Some("recvonly")
    );
}

#[test]
fn rule_42_msid_only_when_sending() {
    let local = [sending(Direction::SendRecv)];
    let (_, answer) = answer_sections(
        &offer(&[&audio("0", "a=sendrecv\r\n")]),
        &local,
        &AnswerOptions::default(),
    );
    assert!(answer.to_string().contains("a=msid:stream track\r\n"));
    let (offer, answer) = answer_sections(
        &offer(&[&audio("0", "a=sendonly\r\n")]),
        &local,
        &AnswerOptions::default(),
    );
    assert!(!answer.to_string().contains("a=msid"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_43_44_45_46_only_offered_extensions_feedback_rsize_and_mux() {
    let (offer, answer) = answer_text(&chromium_offer());
    let audio = &answer.media[0];
    assert!(
        audio
            .extmaps()
            .any(|e| e.id == 1 && e.uri.ends_with("ssrc-audio-level"))
    );
    assert!(audio.rtcp_fbs().all(|fb| fb.feedback == "transport-cc"));
    assert!(audio.has_rtcp_mux());
    assert!(has(audio, |a| matches!(a, Attribute::RtcpRsize)));
    assert_clean(&offer, &answer);

    let plain = audio_without_extras();
    let (offer, answer) = answer_text(&plain);
    let a = &answer.media[0];
    assert!(a.extmaps().next().is_none());
    assert!(a.rtcp_fbs().next().is_none());
    assert!(!has(a, |a| matches!(a, Attribute::RtcpRsize)));
    assert_clean(&offer, &answer);
}

fn audio_without_extras() -> String {
    offer(&[&audio("0", "")])
}

#[test]
fn rule_46_no_mux_offered_uses_a_rtcp_under_negotiate_policy() {
    let no_mux = audio("0", "").replace("a=rtcp-mux\r\n", "");
    let options =
        AnswerOptions::default().with_rtcp_mux_policy(antiphon_peer::RTCRtcpMuxPolicy::Negotiate);
    let (offer, answer) = answer_sections(&offer(&[&no_mux]), &[], &options);
    assert!(answer.to_string().contains("a=rtcp:9 IN IP4 0.0.0.0\r\n"));
    assert!(!answer.media[0].has_rtcp_mux());
    assert_clean(&offer, &answer);
    let (_, answer) = answer_sections(&offer_text_of(&offer), &[], &AnswerOptions::default());
    assert_eq!(
        answer.media[0].port, 0,
        "policy require rejects a section without mux"
    );
}

fn offer_text_of(offer: &SessionDescription) -> String {
    offer.to_string()
}

/// Rule 48 as revised (docs/jsep-answer-rules.md): bundled sections repeat the tag's ICE and
/// DTLS attributes, as Chromium and Firefox answer; only the tag carries candidates.
#[test]
fn rule_47_48_49_bundle_only_and_transport_attributes_in_every_bundled_section() {
    let bundle_only = video("1", "a=bundle-only\r\n").replacen("m=video 9", "m=video 0", 1);
    let text = offer(&[&audio("0", ""), &bundle_only, &data("2")])
        .replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 0 1 2\r\n");
    let (offer, answer) = answer_text(&text);
    let body = answer.to_string();
    assert!(!body.contains("bundle-only"));
    assert!(body.contains("a=group:BUNDLE 0 1 2\r\n"));
    let tag = &answer.media[0];
    assert_eq!(tag.ice_ufrag(), Some("uf00"));
    for bundled in &answer.media[1..] {
        assert_ne!(bundled.port, 0, "rule 60: bundled sections are not port 0");
        assert_eq!(bundled.ice_ufrag(), tag.ice_ufrag());
        assert_eq!(bundled.ice_pwd(), tag.ice_pwd());
        assert_eq!(
            bundled.fingerprints().collect::<Vec<_>>(),
            tag.fingerprints().collect::<Vec<_>>()
        );
        assert_eq!(bundled.setup(), tag.setup());
        assert!(bundled.setup().is_some());
    }
    assert_clean(&offer, &answer);

    // Candidates and end-of-candidates only in the tagged section.
    let mut gathered = transport(0);
    gathered.candidates = vec!["1 1 udp 2130706431 127.0.0.1 50000 typ host".into()];
    gathered.gathering_complete = true;
    let answer = answer_with_transports(&offer, &[gathered]);
    assert_eq!(answer.media[0].candidates().count(), 1);
    for bundled in &answer.media[1..] {
        assert_eq!(bundled.candidates().count(), 0);
        assert!(!bundled.has_end_of_candidates());
    }
    assert_clean(&offer, &answer);
}

/// The checker itself holds rule 48 as revised: a bundled section with other credentials than
/// its tag's, or with candidates, is a violation.
#[test]
fn rule_48_55_checker_refuses_differing_or_candidate_carrying_bundled_sections() {
    let text = offer(&[&audio("0", ""), &video("1", "")])
        .replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 0 1\r\n");
    let (offer, answer) = answer_text(&text);
    let mut other = answer.clone();
    for attribute in &mut other.media[1].attributes {
        if let Attribute::IceUfrag(ufrag) = attribute {
            *ufrag = "other".into();
        }
    }
    let rules: Vec<u16> = check_answer(&offer, &other)
        .iter()
        .map(|v| v.rule)
        .collect();
    assert_eq!(rules, [48]);
    let mut candidates = answer.clone();
    candidates.media[1].attributes.push(Attribute::Candidate(
        "1 1 udp 2130706431 127.0.0.1 50000 typ host".into(),
    ));
    let rules: Vec<u16> = check_answer(&offer, &candidates)
        .iter()
        .map(|v| v.rule)
        .collect();
    assert_eq!(rules, [55]);
}

#[test]
fn rule_49_unbundled_sections_get_distinct_credentials() {
    let options = AnswerOptions::default().with_bundle_policy(RTCBundlePolicy::MaxCompat);
    let (offer, answer) =
        answer_sections(&offer(&[&audio("0", ""), &video("1", "")]), &[], &options);
    assert_eq!(answer.media[0].ice_ufrag(), Some("uf00"));
    assert_eq!(answer.media[1].ice_ufrag(), Some("uf01"));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_52_53_setup_role_table() {
    let table = [
        ("actpass", false, Setup::Active),
        ("actpass", true, Setup::Passive),
        ("active", false, Setup::Passive),
        ("passive", false, Setup::Active),
    ];
    for (offered, prefer_passive, expected) in table {
        let section = audio("0", "").replace("a=setup:actpass", &format!("a=setup:{offered}"));
        let options = AnswerOptions::default().with_prefer_passive(prefer_passive);
        let (offer, answer) = answer_sections(&offer(&[&section]), &[], &options);
        assert_eq!(answer.media[0].setup(), Some(expected), "offer {offered}");
        assert_clean(&offer, &answer);
    }
    let holdconn = audio("0", "").replace("a=setup:actpass", "a=setup:holdconn");
    let (_, answer) = answer_text(&offer(&[&holdconn]));
    assert_eq!(answer.media[0].port, 0);
}

#[test]
fn rule_55_candidates_and_end_of_candidates() {
    let offer = parse(&offer(&[&audio("0", "")]));
    let capabilities = antiphon_codec::Capabilities::browser_default();
    let options = AnswerOptions::default();
    let context = antiphon_peer::answer::AnswerContext {
        offer: &offer,
        local_sections: &[],
        capabilities: &capabilities,
        options: &options,
    };
    let mut gathered = transport(0);
    gathered.candidates = vec!["1 1 udp 2130706431 127.0.0.1 50000 typ host".into()];
    gathered.gathering_complete = true;
    gathered.default_address = Some("127.0.0.1:50000".parse().unwrap());
    let origin = antiphon_peer::answer::SessionOrigin {
        session_id: 1,
        session_version: 1,
    };
    let answer = antiphon_peer::answer::create_answer(&context, &[gathered], origin).unwrap();
    let text = answer.description.to_string();
    assert!(text.contains("m=audio 50000 "), "{text}");
    assert!(text.contains("c=IN IP4 127.0.0.1\r\n"));
    assert!(text.contains(
        "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n"
    ));
    let (_, initial) = answer_text(&offer.to_string());
    assert!(!initial.to_string().contains("a=candidate"));
    assert!(!initial.to_string().contains("end-of-candidates"));
}

/// Rule 59 as revised (docs/jsep-answer-rules.md, RFC 8843 §7.3.1): when we reject the
/// offerer-tagged section for reasons of its own, the next section we accept becomes the tag,
/// instead of the whole group being rejected.
#[test]
fn rule_56_58_59_bundle_groups() {
    let unsupported_codec = "m=audio 9 UDP/TLS/RTP/SAVPF 18\r\nc=IN IP4 0.0.0.0\r\n".to_owned()
        + TRANSPORT
        + "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:18 G729/8000\r\n";
    let unsupported_media = "m=text 9 UDP/TLS/RTP/SAVPF 98\r\nc=IN IP4 0.0.0.0\r\n".to_owned()
        + TRANSPORT
        + "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:98 t140/1000\r\n";
    for first in [unsupported_codec, unsupported_media] {
        let text = offer(&[&first, &video("1", ""), &data("2")])
            .replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 0 1 2\r\n");
        let offer = parse(&text);
        let mut gathered = transport(0);
        gathered.candidates = vec!["1 1 udp 2130706431 127.0.0.1 50000 typ host".into()];
        let answer = answer_with_transports(&offer, &[gathered]);
        assert_eq!(answer.media[0].port, 0, "{answer}");
        assert_ne!(answer.media[1].port, 0, "{answer}");
        assert_ne!(answer.media[2].port, 0, "{answer}");
        let group = answer.bundle_groups().next().expect("a group");
        assert_eq!(group.mids, ["1", "2"]);
        assert_eq!(answer.media[1].ice_ufrag(), Some("uf00"));
        assert_eq!(answer.media[1].candidates().count(), 1, "the new tag");
        assert_eq!(answer.media[2].candidates().count(), 0);
        assert_clean(&offer, &answer);
        let plan = plan(&offer);
        assert_eq!(plan.bundle().groups[0].sections, [1, 2]);
        assert_eq!(plan.bundle().groups[0].offerer_tag, Some(0));
    }

    // The offerer rejected the first mid: the next one is tagged.
    let rejected = audio("0", "").replacen("m=audio 9", "m=audio 0", 1);
    let text = super_offer(
        &[&rejected, &video("1", ""), &data("2")],
        "a=group:BUNDLE 0 1 2\r\n",
    );
    let (offer, answer) = answer_text(&text);
    let group = answer.bundle_groups().next().expect("a group");
    assert_eq!(group.mids, ["1", "2"]);
    assert_eq!(answer.media[1].ice_ufrag(), Some("uf00"));
    assert_eq!(answer.media[2].ice_ufrag(), Some("uf00"));
    assert_eq!(answer.media[2].candidates().count(), 0);
    assert_clean(&offer, &answer);
}

fn super_offer(sections: &[&str], session: &str) -> String {
    offer(sections).replace("t=0 0\r\n", &format!("t=0 0\r\n{session}"))
}

#[test]
fn rule_57_no_group_when_none_offered() {
    let options = AnswerOptions::default().with_bundle_policy(RTCBundlePolicy::MaxCompat);
    let (offer, answer) =
        answer_sections(&offer(&[&audio("0", ""), &video("1", "")]), &[], &options);
    assert!(answer.bundle_groups().next().is_none());
    assert_clean(&offer, &answer);
}

#[test]
fn rule_62_63_data_channel_section() {
    let (offer, answer) = answer_text(&offer(&[&data("d")]));
    let section = &answer.media[0];
    assert_eq!(section.formats, ["webrtc-datachannel"]);
    assert_eq!(section.sctp_port(), Some(5000));
    assert_eq!(section.max_message_size(), Some(262_144));
    assert_clean(&offer, &answer);

    // Legacy DTLS/SCTP 5000 + a=sctpmap.
    let legacy = format!(
        "m=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\n{TRANSPORT}a=mid:d\r\na=sctpmap:5000 webrtc-datachannel 1024\r\n"
    );
    let (offer, answer) = answer_text(&offer_of(&legacy));
    assert_eq!(answer.media[0].formats, ["5000"]);
    assert!(
        answer
            .to_string()
            .contains("a=sctpmap:5000 webrtc-datachannel 1024\r\n")
    );
    assert_clean(&offer, &answer);
}

/// Rule 62 as revised: in the legacy form each side names its own SCTP port in the m= line and
/// its a=sctpmap. An offer on port 5001 is answered on our port, 5000, consistently.
#[test]
fn rule_62a_legacy_sctpmap_answered_with_our_port_in_both_places() {
    let legacy = format!(
        "m=application 9 DTLS/SCTP 5001\r\nc=IN IP4 0.0.0.0\r\n{TRANSPORT}a=mid:d\r\na=sctpmap:5001 webrtc-datachannel 1024\r\n"
    );
    let (offer, answer) = answer_text(&offer_of(&legacy));
    let text = answer.to_string();
    assert!(
        text.contains("m=application 9 DTLS/SCTP 5000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("a=sctpmap:5000 webrtc-datachannel 1024\r\n"),
        "{text}"
    );
    assert_clean(&offer, &answer);
    // The checker refuses the old, inconsistent answer (fmt 5001, sctpmap 5000).
    let mut inconsistent = answer.clone();
    inconsistent.media[0].formats = vec!["5001".into()];
    let rules: Vec<u16> = check_answer(&offer, &inconsistent)
        .iter()
        .map(|v| v.rule)
        .collect();
    assert_eq!(rules, [62]);
}

fn offer_of(section: &str) -> String {
    offer(&[section])
}

#[test]
fn rule_65_66_68_simulcast_receive_offer_answered_with_send() {
    let section = video(
        "0",
        "a=sendrecv\r\na=rid:foo recv\r\na=rid:bar recv\r\na=rid:baz recv\r\na=simulcast:recv foo,x;bar;~baz;bar\r\n",
    );
    let local = [sending(Direction::SendRecv)];
    let (offer, answer) = answer_sections(&offer(&[&section]), &local, &AnswerOptions::default());
    let text = answer.to_string();
    assert!(
        text.contains(
            "a=rid:foo send\r\na=rid:bar send\r\na=rid:baz send\r\na=simulcast:send foo;bar;baz\r\n"
        ),
        "{text}"
    );
    assert_clean(&offer, &answer);
}

#[test]
fn rule_67_simulcast_send_offer_answered_with_recv_or_not_at_all() {
    let section = video(
        "0",
        "a=sendonly\r\na=rid:h send\r\na=rid:m send\r\na=rid:l send\r\na=simulcast:send h;m;l\r\n",
    );
    let (offer, answer) = answer_text(&offer(&[&section]));
    let text = answer.to_string();
    assert!(
        text.contains("a=rid:h recv\r\na=rid:m recv\r\na=rid:l recv\r\na=simulcast:recv h;m;l\r\n"),
        "{text}"
    );
    assert_clean(&offer, &answer);
    let options = AnswerOptions::default().with_accept_simulcast_receive(false);
    let (_, answer) = answer_sections(&offer.to_string(), &[], &options);
    assert!(!answer.to_string().contains("simulcast"));
}

#[test]
fn rule_37_38_audio_maxptime_and_telephone_event_per_clock_rate() {
    let (offer, answer) = answer_text(&corpus_sdp("jsep-rfc9429-offer-a1.sdp"));
    let audio = &answer.media[0];
    assert!(has(audio, |a| matches!(a, Attribute::Maxptime(_))));
    // opus/48000 and PCMU/8000 are accepted, so both telephone-events stay.
    assert!(audio.formats.contains(&"97".into()) && audio.formats.contains(&"98".into()));
    assert_clean(&offer, &answer);
}

#[test]
fn rule_32_every_dynamic_payload_type_has_rtpmap() {
    let (offer, answer) = answer_text(&chromium_offer());
    for section in &answer.media {
        if section.port == 0 || !section.proto.contains("RTP") {
            continue;
        }
        for format in &section.formats {
            let pt: u8 = format.parse().unwrap();
            assert!(
                section.rtpmaps().any(|m| m.payload_type == pt) || pt < 35,
                "{pt}"
            );
        }
    }
    assert_clean(&offer, &answer);
}

#[test]
fn explanation_names_every_section_and_codec() {
    let offer = parse(&chromium_offer());
    let answer = answer_with(&offer, &[], &AnswerOptions::default());
    assert_eq!(answer.explanation.sections.len(), offer.media.len());
    let video = answer.explanation.sections[1]
        .codecs
        .as_ref()
        .expect("codec verdicts");
    assert_eq!(video.codecs.len(), offer.media[1].formats.len());
    let text = answer.explanation.to_string();
    assert!(
        text.contains("m=video #1 mid=1: accepted recvonly, bundled into mid 0"),
        "{text}"
    );
}

/// RFC 9429 §5.1.3 (docs/jsep-answer-rules.md, rule 20a): every RTP profile an answerer MUST
/// accept is accepted when the section has a fingerprint, and answered with the offered
/// profile exactly; `TCP/DTLS/SCTP` and the pre-RFC `DTLS/SCTP` likewise for data.
#[test]
fn rule_20a_legacy_profiles_accepted_and_repeated() {
    for profile in [
        "UDP/TLS/RTP/SAVPF",
        "UDP/TLS/RTP/SAVP",
        "TCP/DTLS/RTP/SAVPF",
        "TCP/DTLS/RTP/SAVP",
        "RTP/SAVPF",
        "RTP/SAVP",
        "RTP/AVPF",
        "RTP/AVP",
    ] {
        let section = audio("0", "").replacen("UDP/TLS/RTP/SAVPF", profile, 1);
        let (offered, answer) = answer_text(&offer(&[&section]));
        assert_ne!(answer.media[0].port, 0, "{profile} is accepted:\n{answer}");
        assert_eq!(answer.media[0].proto, profile);
        assert_clean(&offered, &answer);
        // Without a fingerprint there is no DTLS-SRTP: rejected, whatever the profile says.
        let plain = section.replace(
            "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n",
            "",
        );
        let (_, answer) = answer_text(&offer(&[&plain]));
        assert_eq!(answer.media[0].port, 0, "{profile} without a fingerprint");
    }
    for profile in ["UDP/DTLS/SCTP", "TCP/DTLS/SCTP"] {
        let section = data("0").replacen("UDP/DTLS/SCTP", profile, 1);
        let (offered, answer) = answer_text(&offer(&[&section]));
        assert_ne!(answer.media[0].port, 0, "{profile}");
        assert_eq!(answer.media[0].proto, profile);
        assert_clean(&offered, &answer);
    }
    let (_, answer) = answer_text(&offer(&[&audio("0", "").replacen(
        "UDP/TLS/RTP/SAVPF",
        "RTP/FOO",
        1,
    )]));
    assert_eq!(answer.media[0].port, 0, "an unknown profile is rejected");
}

/// RFC 8843 §9.2 (rule 43a): one id names one extension across a BUNDLE group. Id 5 names
/// audio level in audio and video orientation in video: the video section's answer drops its
/// id 5, and the explanation says why; the same id for the same URI stays.
#[test]
fn rule_43a_extension_ids_unique_across_a_bundle_group() {
    let text = offer(&[
        &audio(
            "0",
            "a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        ),
        &video(
            "1",
            "a=extmap:5 urn:3gpp:video-orientation\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        ),
    ])
    .replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 0 1\r\n");
    let offer = parse(&text);
    let answer = answer_with(&offer, &[], &AnswerOptions::default());
    let extmaps = |index: usize| -> Vec<(u16, String)> {
        answer.description.media[index]
            .attributes
            .iter()
            .filter_map(|a| match a {
                Attribute::Extmap(e) => Some((e.id, e.uri.to_string())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        extmaps(0),
        [
            (5, "urn:ietf:params:rtp-hdrext:ssrc-audio-level".to_owned()),
            (4, "urn:ietf:params:rtp-hdrext:sdes:mid".to_owned())
        ]
    );
    assert_eq!(
        extmaps(1),
        [(4, "urn:ietf:params:rtp-hdrext:sdes:mid".to_owned())]
    );
    let video = answer.explanation.sections[1].codecs.as_ref().unwrap();
    assert_eq!(
        video.header_extension("urn:3gpp:video-orientation"),
        Some(&antiphon_codec::Verdict::Rejected(
            antiphon_codec::ExtensionRejection::IdBoundToOtherUri
        ))
    );
    assert!(
        answer
            .explanation
            .to_string()
            .contains("extmap 5 urn:3gpp:video-orientation: rejected, another section of the BUNDLE group uses this id"),
        "{}",
        answer.explanation
    );
    // Without BUNDLE, each section is its own RTP session: both keep id 5.
    let unbundled = parse(&text.replace("a=group:BUNDLE 0 1\r\n", ""));
    let options = AnswerOptions::default().with_bundle_policy(RTCBundlePolicy::MaxCompat);
    let answer = answer_with(&unbundled, &[], &options);
    assert!(answer.description.media[1].attributes.iter().any(
        |a| matches!(a, Attribute::Extmap(e) if e.id == 5 && e.uri == "urn:3gpp:video-orientation")
    ));
}

/// RFC 8285 §4.3, §6 (rule 43b): ids 15 and up need the two-byte header, which needs
/// a=extmap-allow-mixed; without it they are dropped and the explanation says why.
#[test]
fn rule_43b_two_byte_extension_ids_need_extmap_allow_mixed() {
    let extra = "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=extmap:15 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:16 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n";
    let ids = |answer: &SessionDescription| -> Vec<u16> {
        answer.media[0]
            .attributes
            .iter()
            .filter_map(|a| match a {
                Attribute::Extmap(e) => Some(e.id),
                _ => None,
            })
            .collect()
    };
    let (_, answer) = answer_text(&offer(&[&audio("0", extra)]));
    assert_eq!(ids(&answer), [14]);
    let offer_text = offer(&[&audio("0", extra)]);
    let explained = answer_with(&parse(&offer_text), &[], &AnswerOptions::default())
        .explanation
        .to_string();
    assert!(
        explained.contains("extmap 15 urn:ietf:params:rtp-hdrext:sdes:mid: rejected, ids above 14 need the two-byte header"),
        "{explained}"
    );
    for mixed in [
        offer_text.replace("t=0 0\r\n", "t=0 0\r\na=extmap-allow-mixed\r\n"),
        offer(&[&audio("0", &format!("a=extmap-allow-mixed\r\n{extra}"))]),
    ] {
        let (offer, answer) = answer_text(&mixed);
        assert_eq!(ids(&answer), [14, 15, 16], "{answer}");
        assert!(answer.to_string().contains("a=extmap-allow-mixed\r\n"));
        assert_clean(&offer, &answer);
    }
}
