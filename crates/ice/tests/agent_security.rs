//! Hostile and unauthenticated STUN: dropped with a typed reason, counted, and never a state
//! change; caps on remote candidates, peer-reflexive candidates and pairs; no panics on garbage.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_ice::{
    AgentConfig, Candidate, CandidateType, Datagram, DropReason, Error, IceAgent,
    IceConnectionState, IceCredentials, IceRole, PairState, RemoteCandidateError,
};
use proptest::prelude::*;

mod support;
use stun_rs::attributes::ice::{IceControlling, Priority};
use stun_rs::attributes::stun::{Fingerprint, MessageIntegrity, UserName, XorMappedAddress};
use stun_rs::methods::BINDING;
use stun_rs::{HMACKey, MessageClass, MessageEncoderBuilder, StunMessageBuilder, TransactionId};

const B_ADDR: &str = "10.0.0.2:6000";
const A_ADDR: &str = "10.0.0.1:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn a_creds() -> IceCredentials {
    IceCredentials::new("aaaa", "aaaaaaaaaaaaaaaaaaaaaaaa").expect("creds")
}

fn b_creds() -> IceCredentials {
    IceCredentials::new("bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb").expect("creds")
}

/// B: a controlled answerer at B_ADDR that knows A's credentials.
fn answerer(now: Instant) -> IceAgent {
    let mut config = AgentConfig::default();
    config.seed = Some(5);
    let mut b = IceAgent::new(now, config, IceRole::Controlled, b_creds());
    b.set_remote_credentials(a_creds());
    b.gather(&[addr(B_ADDR)]);
    while b.poll_event().is_some() {}
    b
}

struct Request<'a> {
    username: &'a str,
    key: Option<&'a str>,
    fingerprint: bool,
    priority: bool,
}

const GOOD: Request<'static> = Request {
    username: "bbbb:aaaa",
    key: Some("bbbbbbbbbbbbbbbbbbbbbbbb"),
    fingerprint: true,
    priority: true,
};

fn encode(msg: &stun_rs::StunMessage) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = MessageEncoderBuilder::default()
        .build()
        .encode(&mut buf, msg)
        .expect("encodes");
    buf[..n].to_vec()
}

fn request(r: &Request<'_>, tx: u8) -> Vec<u8> {
    let mut b = StunMessageBuilder::new(BINDING, MessageClass::Request)
        .with_transaction_id(TransactionId::from([tx; 12]))
        .with_attribute(UserName::new(r.username).expect("username"))
        .with_attribute(IceControlling::new(1));
    if r.priority {
        b = b.with_attribute(Priority::new(1_845_501_695));
    }
    if let Some(key) = r.key {
        b = b.with_attribute(MessageIntegrity::new(
            HMACKey::new_short_term(key).expect("key"),
        ));
    }
    if r.fingerprint {
        b = b.with_attribute(Fingerprint::default());
    }
    encode(&b.build())
}

/// `contents` from A's address to B's.
fn from_a(contents: &[u8]) -> Datagram<'_> {
    Datagram {
        source: addr(A_ADDR),
        destination: addr(B_ADDR),
        contents,
    }
}

/// `contents` from B's address to A's.
fn from_b(contents: &[u8]) -> Datagram<'_> {
    Datagram {
        source: addr(B_ADDR),
        destination: addr(A_ADDR),
        contents,
    }
}

#[test]
fn unauthenticated_requests_are_dropped_without_state_change() {
    let now = Instant::now();
    let wrong_key = Request {
        key: Some("cccccccccccccccccccccccc"),
        ..GOOD
    };
    let no_integrity = Request { key: None, ..GOOD };
    let no_fingerprint = Request {
        fingerprint: false,
        ..GOOD
    };
    let wrong_user = Request {
        username: "bbbb:zzzz",
        ..GOOD
    };
    let other_agent = Request {
        username: "cccc:aaaa",
        ..GOOD
    };
    let no_priority = Request {
        priority: false,
        ..GOOD
    };
    let mut bad_fingerprint = request(&GOOD, 9);
    let last = bad_fingerprint.len() - 1;
    bad_fingerprint[last] ^= 0x55;
    let mut truncated = request(&GOOD, 10);
    truncated.truncate(40);
    let cases: Vec<(&str, Vec<u8>, DropReason)> = vec![
        (
            "wrong key",
            request(&wrong_key, 1),
            DropReason::BadIntegrity,
        ),
        (
            "no MESSAGE-INTEGRITY",
            request(&no_integrity, 2),
            DropReason::MissingIntegrity,
        ),
        (
            "no FINGERPRINT",
            request(&no_fingerprint, 3),
            DropReason::MissingFingerprint,
        ),
        (
            "bad FINGERPRINT",
            bad_fingerprint,
            DropReason::BadFingerprint,
        ),
        (
            "remote ufrag mismatch",
            request(&wrong_user, 4),
            DropReason::WrongUsername,
        ),
        (
            "not our ufrag",
            request(&other_agent, 5),
            DropReason::WrongUsername,
        ),
        (
            "no PRIORITY",
            request(&no_priority, 6),
            DropReason::MissingAttribute,
        ),
        ("truncated", truncated, DropReason::NotStun),
        (
            "RTP",
            vec![0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
            DropReason::NotStun,
        ),
    ];
    let mut b = answerer(now);
    for (name, bytes, reason) in &cases {
        assert_eq!(b.handle_receive(now, from_a(bytes)), Err(*reason), "{name}");
        assert_eq!(b.poll_transmit(), None, "{name}: answered");
        assert_eq!(
            (b.pair_count(), b.remote_candidate_count()),
            (0, 0),
            "{name}: state changed"
        );
        assert_eq!(b.state(), IceConnectionState::New, "{name}");
    }
    assert_eq!(b.drops().total(), cases.len() as u64);
    assert_eq!(b.drops().get(DropReason::WrongUsername), 2);
    // Arriving on an address that is not ours.
    let stray = Datagram {
        destination: addr("10.0.0.3:1"),
        ..from_a(&cases[0].1)
    };
    assert_eq!(
        b.handle_receive(now, stray),
        Err(DropReason::UnknownDestination)
    );

    // The control: the same request, authenticated, is answered and teaches B a prflx candidate.
    let good = request(&GOOD, 11);
    assert_eq!(b.handle_receive(now, from_a(&good)), Ok(()));
    let response = b.poll_transmit().expect("a response");
    assert_eq!(
        (response.source, response.destination),
        (addr(B_ADDR), addr(A_ADDR))
    );
    assert_eq!(b.remote_candidate_count(), 1);
    assert_eq!(b.state(), IceConnectionState::Checking);
}

/// A's outgoing check to B, and A.
fn controlling_with_check(now: Instant) -> (IceAgent, antiphon_ice::Transmit) {
    let mut config = AgentConfig::default();
    config.seed = Some(6);
    let mut a = IceAgent::new(now, config, IceRole::Controlling, a_creds());
    a.set_remote_credentials(b_creds());
    a.gather(&[addr(A_ADDR)]);
    let b_host = Candidate::new_udp("1", 2_130_706_431, addr(B_ADDR), CandidateType::Host);
    a.add_remote_candidate(&b_host).expect("candidate");
    a.handle_timeout(now);
    let check = a.poll_transmit().expect("a check");
    (a, check)
}

fn response(tx: &[u8], key: &str, mapped: SocketAddr) -> Vec<u8> {
    let mut id = [0u8; 12];
    id.copy_from_slice(&tx[8..20]);
    encode(
        &StunMessageBuilder::new(BINDING, MessageClass::SuccessResponse)
            .with_transaction_id(TransactionId::from(id))
            .with_attribute(XorMappedAddress::from(mapped))
            .with_attribute(MessageIntegrity::new(
                HMACKey::new_short_term(key).expect("key"),
            ))
            .with_attribute(Fingerprint::default())
            .build(),
    )
}

#[test]
fn forged_responses_do_not_validate_pairs() {
    let now = Instant::now();
    let (mut a, check) = controlling_with_check(now);
    assert_eq!(
        a.pair_state(addr(A_ADDR), addr(B_ADDR)),
        Some(PairState::InProgress)
    );
    let forged = response(&check.contents, "cccccccccccccccccccccccc", addr(A_ADDR));
    let d = from_b(&forged);
    assert_eq!(a.handle_receive(now, d), Err(DropReason::BadIntegrity));
    let genuine = response(&check.contents, b_creds().pwd(), addr(A_ADDR));
    let elsewhere = genuine.clone();
    let d = Datagram {
        source: addr("10.0.0.66:6000"),
        ..from_b(&elsewhere)
    };
    assert_eq!(a.handle_receive(now, d), Err(DropReason::NonSymmetric));
    let mut unknown = genuine.clone();
    unknown[10] ^= 1;
    let d = from_b(&unknown);
    assert_eq!(
        a.handle_receive(now, d),
        Err(DropReason::UnknownTransaction)
    );
    assert_eq!(
        a.pair_state(addr(A_ADDR), addr(B_ADDR)),
        Some(PairState::InProgress)
    );
    // The genuine response validates the pair.
    let d = from_b(&genuine);
    assert_eq!(a.handle_receive(now, d), Ok(()));
    assert_eq!(
        a.pair_state(addr(A_ADDR), addr(B_ADDR)),
        Some(PairState::Succeeded)
    );
    // A replay of it matches no transaction any more.
    assert_eq!(
        a.handle_receive(now, d),
        Err(DropReason::UnknownTransaction)
    );
}

#[test]
fn peer_reflexive_and_remote_candidate_caps_hold() {
    let now = Instant::now();
    let mut b = answerer(now);
    let good = request(&GOOD, 1);
    for i in 0..1000u32 {
        let source = SocketAddr::from(([10, 1, (i / 250) as u8, (i % 250) as u8], 7000));
        let _ = b.handle_receive(
            now,
            Datagram {
                source,
                destination: addr(B_ADDR),
                contents: &good,
            },
        );
    }
    assert_eq!(b.remote_candidate_count(), AgentConfig::default().max_prflx);
    assert_eq!(
        b.drops().get(DropReason::PrflxLimit),
        1000 - AgentConfig::default().max_prflx as u64
    );

    let (mut a, _) = controlling_with_check(now);
    let mut refused = 0;
    for i in 0..150u32 {
        let c = Candidate::new_udp(
            i.to_string(),
            1000 + i,
            SocketAddr::from(([10, 2, 0, i as u8], 9)),
            CandidateType::Host,
        );
        if let Err(Error::RemoteCandidate(RemoteCandidateError::TooManyCandidates)) =
            a.add_remote_candidate(&c)
        {
            refused += 1;
        }
    }
    assert_eq!(a.remote_candidate_count(), 100);
    assert_eq!(refused, 51, "the first candidate plus 99 more fit");
    assert!(a.pair_count() <= 100);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn garbage_never_panics_nor_changes_state(bytes in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..120) {
        let now = Instant::now();
        let mut b = answerer(now);
        // Random bytes, and a valid message with random bytes spliced into it.
        let mut spliced = request(&GOOD, 3);
        let at = cut.min(spliced.len());
        spliced.splice(at..(at + bytes.len().min(8)).min(spliced.len()), bytes.iter().copied().take(8));
        for contents in [&bytes, &spliced] {
            let result = b.handle_receive(now, from_a(contents));
            if result.is_err() {
                prop_assert_eq!(b.remote_candidate_count(), 0);
                prop_assert_eq!(b.poll_transmit(), None);
            }
        }
    }
}

/// A success response to `tx` from B, with MESSAGE-INTEGRITY under `key` (none if `None`) and
/// a FINGERPRINT if `fingerprint`.
fn response_with(tx: &[u8], key: Option<&str>, fingerprint: bool) -> Vec<u8> {
    let mut id = [0u8; 12];
    id.copy_from_slice(&tx[8..20]);
    let mut b = StunMessageBuilder::new(BINDING, MessageClass::SuccessResponse)
        .with_transaction_id(TransactionId::from(id))
        .with_attribute(XorMappedAddress::from(addr(A_ADDR)));
    if let Some(key) = key {
        b = b.with_attribute(MessageIntegrity::new(
            HMACKey::new_short_term(key).expect("key"),
        ));
    }
    if fingerprint {
        b = b.with_attribute(Fingerprint::default());
    }
    encode(&b.build())
}

#[test]
fn responses_without_integrity_or_fingerprint_do_not_validate_pairs() {
    let now = Instant::now();
    let (mut a, check) = controlling_with_check(now);
    let mut bad_fingerprint = response_with(&check.contents, Some(b_creds().pwd()), true);
    let last = bad_fingerprint.len() - 1;
    bad_fingerprint[last] ^= 0x55;
    let cases = [
        (
            "no MESSAGE-INTEGRITY",
            response_with(&check.contents, None, true),
            DropReason::MissingIntegrity,
        ),
        (
            "wrong key",
            response_with(&check.contents, Some(a_creds().pwd()), true),
            DropReason::BadIntegrity,
        ),
        (
            "no FINGERPRINT",
            response_with(&check.contents, Some(b_creds().pwd()), false),
            DropReason::MissingFingerprint,
        ),
        (
            "bad FINGERPRINT",
            bad_fingerprint,
            DropReason::BadFingerprint,
        ),
    ];
    for (name, bytes, reason) in &cases {
        let d = from_b(bytes);
        assert_eq!(a.handle_receive(now, d), Err(*reason), "{name}");
        assert_eq!(
            a.pair_state(addr(A_ADDR), addr(B_ADDR)),
            Some(PairState::InProgress),
            "{name}"
        );
        assert_eq!(a.selected_pair(), None, "{name}");
        assert_eq!(a.state(), IceConnectionState::Checking, "{name}");
    }
    // The genuine response, with both attributes, still matches the transaction: the forged
    // ones consumed nothing.
    let genuine = response_with(&check.contents, Some(b_creds().pwd()), true);
    let d = from_b(&genuine);
    assert_eq!(a.handle_receive(now, d), Ok(()));
    assert_eq!(
        a.pair_state(addr(A_ADDR), addr(B_ADDR)),
        Some(PairState::Succeeded)
    );
}

/// RFC 7675: consent is refreshed only by authenticated responses. B stops answering; an
/// attacker on B's address answers every consent check of A with a forged response (wrong key,
/// no MESSAGE-INTEGRITY, no FINGERPRINT, in turn). A still goes disconnected then failed at
/// the consent timeout, deselects the pair, and sends nothing more to B.
#[test]
fn forged_consent_responses_do_not_keep_consent_and_a_failed_agent_stops_sending() {
    use std::time::Duration;
    use support::World;

    let mut w = World::controlling_a(500);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    let b_pwd = w.b.agent.local_credentials().pwd().to_owned();
    let wrong = "zzzzzzzzzzzzzzzzzzzzzzzz";
    // From here on A alone, driven by hand: every datagram it sends is answered by the forger.
    let silent_since = w.now;
    let mut now = w.now;
    let mut states = Vec::new();
    let mut forged = 0u32;
    let mut sent_after_failure = 0u32;
    while now < silent_since + Duration::from_secs(60) {
        let Some(next) = w.a.agent.poll_timeout() else {
            break;
        };
        now = now.max(next);
        w.a.agent.handle_timeout(now);
        while let Some(t) = w.a.agent.poll_transmit() {
            if w.a.agent.state() == IceConnectionState::Failed {
                sent_after_failure += 1;
            }
            if t.contents.first().is_some_and(|b| *b < 2) && t.contents.len() >= 20 {
                let reply = match forged % 3 {
                    0 => response_with(&t.contents, Some(wrong), true),
                    1 => response_with(&t.contents, None, true),
                    _ => response_with(&t.contents, Some(&b_pwd), false),
                };
                forged += 1;
                let d = Datagram {
                    source: t.destination,
                    destination: t.source,
                    contents: &reply,
                };
                assert!(
                    w.a.agent.handle_receive(now, d).is_err(),
                    "a forged response was accepted"
                );
            }
        }
        while let Some(e) = w.a.agent.poll_event() {
            if let antiphon_ice::IceEvent::ConnectionStateChanged(s) = e {
                states.push((now - silent_since, s));
            }
        }
    }
    assert!(forged >= 3, "A sent only {forged} consent checks");
    let seen: Vec<IceConnectionState> = states.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        seen,
        [IceConnectionState::Disconnected, IceConnectionState::Failed],
        "{states:?}"
    );
    assert!(states[1].0 <= Duration::from_secs(31), "{states:?}");
    assert_eq!(w.a.agent.selected_pair(), None);
    assert_eq!(sent_after_failure, 0, "a failed agent kept sending");
    let drops = w.a.agent.drops();
    assert!(drops.get(DropReason::BadIntegrity) > 0, "{drops:?}");
    assert!(drops.get(DropReason::MissingIntegrity) > 0, "{drops:?}");
    assert!(drops.get(DropReason::MissingFingerprint) > 0, "{drops:?}");
}
