//! Property tests of the candidate grammar: parse(write(x)) == x for generated candidates, and
//! no panic on arbitrary input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use antiphon_ice::{Candidate, CandidateAddress, CandidateType, TcpType, Transport};
use proptest::prelude::*;

fn ice_chars(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9+/]{{{min},{max}}}")).expect("regex")
}

fn address() -> impl Strategy<Value = CandidateAddress> {
    prop_oneof![
        any::<u32>().prop_map(|v| CandidateAddress::Ip(IpAddr::V4(Ipv4Addr::from(v)))),
        any::<u128>().prop_map(|v| CandidateAddress::Ip(IpAddr::V6(Ipv6Addr::from(v)))),
        "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\\.local"
            .prop_map(CandidateAddress::Hostname),
        "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.[a-z]{2,6}".prop_map(CandidateAddress::Hostname),
    ]
}

fn kind() -> impl Strategy<Value = CandidateType> {
    prop_oneof![
        Just(CandidateType::Host),
        Just(CandidateType::ServerReflexive),
        Just(CandidateType::PeerReflexive),
        Just(CandidateType::Relay),
        "[a-z]{3,8}"
            .prop_filter("not a known type", |t| !["host", "srflx", "prflx", "relay"]
                .contains(&t.as_str()))
            .prop_map(CandidateType::Other),
    ]
}

fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        Just(Transport::Udp),
        Just(Transport::Tcp),
        "[a-z]{4,8}"
            .prop_filter("not udp/tcp", |t| t != "udpx"
                && !t.eq_ignore_ascii_case("udp")
                && !t.eq_ignore_ascii_case("tcp"))
            .prop_map(Transport::Other),
    ]
}

prop_compose! {
    fn candidate()(
        foundation in ice_chars(1, 32),
        component in 1u16..=256,
        transport in transport(),
        priority in 1u32..=0x7fff_ffff,
        address in address(),
        port in any::<u16>(),
        kind in kind(),
        related in proptest::option::of((address(), any::<u16>())),
        tcp_type in proptest::option::of(prop_oneof![Just(TcpType::Active), Just(TcpType::Passive), Just(TcpType::So)]),
        generation in proptest::option::of(any::<u32>()),
        ufrag in proptest::option::of(ice_chars(4, 16)),
        network_id in proptest::option::of(any::<u32>()),
        network_cost in proptest::option::of(any::<u32>()),
        extensions in proptest::collection::vec(("x-[a-z]{1,8}", "[!-~]{1,12}"), 0..3),
    ) -> Candidate {
        Candidate {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            kind,
            related_address: related.as_ref().map(|r| r.0.clone()),
            related_port: related.map(|r| r.1),
            tcp_type,
            generation,
            ufrag,
            network_id,
            network_cost,
            extensions,
        }
    }
}

proptest! {
    #[test]
    fn write_then_parse_is_identity(c in candidate()) {
        let text = c.to_string();
        prop_assert_eq!(Candidate::parse(&text), Ok(c.clone()), "{}", text);
        // The bare value (no `candidate:` prefix) and the SDP line form parse the same.
        let bare = text.strip_prefix("candidate:").expect("prefix");
        prop_assert_eq!(Candidate::parse(bare), Ok(c.clone()));
        prop_assert_eq!(Candidate::parse(&format!("a={text}")), Ok(c));
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,200}") {
        if let Err(e) = Candidate::parse(&s) {
            prop_assert!(e.column >= 1 && e.column <= s.len() + 1);
        }
    }

    #[test]
    fn mangled_valid_lines_never_panic(c in candidate(), at in 0usize..200, byte in any::<u8>()) {
        let mut text = c.to_string().into_bytes();
        let at = at.min(text.len().saturating_sub(1));
        if let Some(b) = text.get_mut(at) {
            *b = byte;
        }
        if let Ok(s) = String::from_utf8(text) {
            let _ = Candidate::parse(&s);
        }
    }
}
