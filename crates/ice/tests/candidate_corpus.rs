//! The RFC 8839 candidate grammar over /work/shared/corpus/ice/candidates.txt.
//!
//! * every `[valid]` line parses, writes back, and re-parses to the same value; the written text
//!   equals the input up to the transport's case and the canonical order of extensions;
//! * every `[invalid]` line is rejected with a typed error;
//! * `[questionable]` lines: decisions documented in `questionable_lines_follow_documented_decisions`.

use antiphon_ice::{
    Candidate, CandidateAddress, CandidateErrorKind, CandidateField, CandidateType, Transport,
};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/ice/candidates.txt"
);

fn section(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(CORPUS)
        .unwrap_or_else(|e| panic!("corpus missing at {CORPUS}: {e}"));
    let mut current = String::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            current = line.to_owned();
            continue;
        }
        if current == format!("[{name}]") {
            lines.push(line.to_owned());
        }
    }
    assert!(!lines.is_empty(), "section [{name}] is empty or missing");
    lines
}

fn normalized_tokens(line: &str) -> Vec<String> {
    let mut tokens: Vec<String> = line.split(' ').map(str::to_owned).collect();
    if let Some(t) = tokens.get_mut(2) {
        *t = t.to_ascii_lowercase();
    }
    tokens
}

#[test]
fn valid_lines_parse_and_round_trip() {
    let lines = section("valid");
    assert!(
        lines.len() >= 40,
        "expected the full corpus, got {} lines",
        lines.len()
    );
    let mut text_identical = 0;
    for line in &lines {
        let candidate = Candidate::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let written = candidate.to_string();
        assert_eq!(
            Candidate::parse(&written).as_ref(),
            Ok(&candidate),
            "{line} -> {written}"
        );
        let (mut a, mut b) = (normalized_tokens(line), normalized_tokens(&written));
        if a == b {
            text_identical += 1;
        } else {
            // Only the order of extension pairs may differ.
            assert_eq!(a[..8], b[..8], "{line} -> {written}");
            a.sort();
            b.sort();
            assert_eq!(a, b, "{line} -> {written}");
        }
        // The bare attribute value parses to the same candidate.
        let bare = line
            .strip_prefix("candidate:")
            .expect("corpus lines carry the prefix");
        assert_eq!(Candidate::parse(bare).as_ref(), Ok(&candidate), "{bare}");
    }
    assert!(
        text_identical + 1 >= lines.len(),
        "only {text_identical} of {} lines are text-identical",
        lines.len()
    );
}

#[test]
fn invalid_lines_are_rejected_with_typed_errors() {
    for line in section("invalid") {
        let e = Candidate::parse(&line).expect_err(&line);
        assert!(
            e.column >= 1 && e.column <= line.len() + 1,
            "{line}: column {}",
            e.column
        );
    }
}

#[test]
fn selected_fields_decode() {
    let c = Candidate::parse("candidate:3936339338 1 udp 2122265343 fd00:f8aa:3ff5:5914:90bf:3c5:3378:9d4b 59125 typ host generation 0 network-id 4 network-cost 50").expect("ipv6");
    assert!(matches!(c.address, CandidateAddress::Ip(ip) if ip.is_ipv6()));
    assert_eq!(
        (c.generation, c.network_id, c.network_cost),
        (Some(0), Some(4), Some(50))
    );
    let c = Candidate::parse("candidate:1114572465 1 udp 2113939711 61b445d2-6503-41ac-96ce-ee3edac00e9f.local 61163 typ host").expect("mdns");
    assert!(c.address.is_mdns());
    assert_eq!(c.socket_addr(), None);
    let c = Candidate::parse("candidate:0 1 TCP 2122252543 172.16.156.106 49760 typ host unsupported foo more_unsupported bar").expect("ext");
    assert_eq!(c.transport, Transport::Tcp);
    assert_eq!(
        c.extensions,
        vec![
            ("unsupported".into(), "foo".into()),
            ("more_unsupported".into(), "bar".into())
        ]
    );
    let c = Candidate::parse("candidate:5 1 TCP 1684013055 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 tcptype passive generation 5").expect("tcp");
    assert_eq!(c.kind, CandidateType::ServerReflexive);
    assert_eq!(c.related_port, Some(8998));
    assert_eq!(c.tcp_type, Some(antiphon_ice::TcpType::Passive));
}

/// Decisions for the corpus's `[questionable]` section:
/// * unknown transport tokens (`FOO`, `ssltcp`) and unknown type tokens (`fost`, `unknown`) are
///   grammatical (RFC 8839 `token`), so they PARSE, are kept as `Other(..)` and written back; the
///   agent refuses such candidates individually (`RemoteCandidateError`), never the description;
/// * `raddr 192.168.0.274` is neither an IPv4 address nor an FQDN (its last label is all digits),
///   so it is REJECTED with `RelatedAddress / InvalidAddress` (pion/webrtc-rs keep it opaque).
#[test]
fn questionable_lines_follow_documented_decisions() {
    let lines = section("questionable");
    assert_eq!(lines.len(), 5);
    let foo = Candidate::parse(&lines[0]).expect("unknown transport parses");
    assert_eq!(foo.transport, Transport::Other("FOO".into()));
    let fost = Candidate::parse(&lines[1]).expect("unknown type parses");
    assert_eq!(fost.kind, CandidateType::Other("fost".into()));
    let unknown = Candidate::parse(&lines[2]).expect("unknown type with raddr parses");
    assert_eq!(unknown.kind, CandidateType::Other("unknown".into()));
    let e = Candidate::parse(&lines[3]).expect_err("raddr 192.168.0.274");
    assert_eq!(
        (e.field, e.kind),
        (
            CandidateField::RelatedAddress,
            CandidateErrorKind::InvalidAddress
        )
    );
    let ssl = Candidate::parse(&lines[4]).expect("ssltcp parses");
    assert_eq!(ssl.transport, Transport::Other("ssltcp".into()));
    for c in [foo, fost, unknown, ssl] {
        assert_eq!(Candidate::parse(&c.to_string()), Ok(c));
    }
}

/// Fuzz finding (candidate_parse): a value of almost `MAX_CANDIDATE_LEN` bytes given without the
/// `candidate:` prefix was accepted, but its written form (which has the prefix) was then
/// rejected as too long. The limit now applies to the value, whatever prefix it came with.
#[test]
fn a_long_candidate_without_prefix_round_trips() {
    let head = "1 1 udp 2122260223 192.0.2.1 54321 typ host";
    let mut value = format!("{head} x ");
    value.push_str(&"y".repeat(antiphon_ice::candidate::MAX_CANDIDATE_LEN - value.len()));
    assert_eq!(value.len(), antiphon_ice::candidate::MAX_CANDIDATE_LEN);
    let candidate = Candidate::parse(&value).expect("a value at the limit parses");
    let written = candidate.to_string();
    assert!(written.starts_with("candidate:"));
    assert_eq!(
        Candidate::parse(&written).expect("written form parses"),
        candidate
    );
    let over = format!("{value}y");
    assert!(
        Candidate::parse(&over).is_err(),
        "one byte over the limit is refused"
    );
}
