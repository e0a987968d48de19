//! Hostile and unauthenticated STUN: dropped with a typed reason, counted, and never a state
//! change; caps on remote candidates, peer-reflexive candidates and pairs; no panics on garbage.

use std::net::SocketAddr;
use std::time::Instant;

use antiphon_ice::{
    AgentConfig, Candidate, CandidateType, Datagram, DropReason, Error, IceAgent,
    IceConnectionState, IceCredentials, IceRole, PairState, RemoteCandidateError,
};
use proptest::prelude::*;
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

fn from_a(contents: &[u8]) -> Datagram<'_> {
    Datagram {
        source: addr(A_ADDR),
        destination: addr(B_ADDR),
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
    let d = Datagram {
        source: addr(B_ADDR),
        destination: addr(A_ADDR),
        contents: &forged,
    };
    assert_eq!(a.handle_receive(now, d), Err(DropReason::BadIntegrity));
    let genuine = response(&check.contents, b_creds().pwd(), addr(A_ADDR));
    let elsewhere = genuine.clone();
    let d = Datagram {
        source: addr("10.0.0.66:6000"),
        destination: addr(A_ADDR),
        contents: &elsewhere,
    };
    assert_eq!(a.handle_receive(now, d), Err(DropReason::NonSymmetric));
    let mut unknown = genuine.clone();
    unknown[10] ^= 1;
    let d = Datagram {
        source: addr(B_ADDR),
        destination: addr(A_ADDR),
        contents: &unknown,
    };
    assert_eq!(
        a.handle_receive(now, d),
        Err(DropReason::UnknownTransaction)
    );
    assert_eq!(
        a.pair_state(addr(A_ADDR), addr(B_ADDR)),
        Some(PairState::InProgress)
    );
    // The genuine response validates the pair.
    let d = Datagram {
        source: addr(B_ADDR),
        destination: addr(A_ADDR),
        contents: &genuine,
    };
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
