//! Value checks shared by several lines: addresses, candidates, fingerprints.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::character::complete::char;
use nom::multi::fold_many0;
use nom::sequence::preceded;

use crate::error::{ParseErrorKind, WarningKind};
use crate::fields::{Fail, Res, fail, number};
use crate::grammar::{PResult, bytes_while, failure, run};

/// Checks `<nettype> <addrtype>` and the address (with an optional multicast `/ttl/count`
/// suffix when `multicast_suffix`). Returns a warning for a lenient type mismatch.
pub(crate) fn check_address<'a>(
    net_type: &'a str,
    addr_type: &'a str,
    address: &'a str,
    multicast_suffix: bool,
    lenient: bool,
) -> Res<'a, Option<WarningKind>> {
    if net_type != "IN" {
        return fail(net_type, ParseErrorKind::UnsupportedNetType);
    }
    let (base, suffix) = match address.split_once('/') {
        Some((base, suffix)) if multicast_suffix => (base, Some(suffix)),
        _ => (address, None),
    };
    if let Some(suffix) = suffix {
        let suffix_at = address.get(base.len() + 1..).unwrap_or("");
        let mut parts = suffix.split('/');
        let ttl = parts.next().unwrap_or("");
        number::<u32>(ttl, "multicast ttl").map_err(|e| Fail { at: suffix_at, ..e })?;
        if let Some(count) = parts.next() {
            number::<u32>(count, "multicast address count")
                .map_err(|e| Fail { at: suffix_at, ..e })?;
        }
        if parts.next().is_some() {
            return fail(suffix_at, ParseErrorKind::InvalidAddress);
        }
    }
    let v4 = || base.parse::<Ipv4Addr>().is_ok();
    let v6 = || base.parse::<Ipv6Addr>().is_ok();
    // Whether the address is of the stated type, and (only asked if not) of the other.
    let (matches, other): (bool, &dyn Fn() -> bool) = match addr_type {
        "IP4" => (v4(), &v6),
        "IP6" => (v6(), &v4),
        _ => return fail(addr_type, ParseErrorKind::UnsupportedAddrType),
    };
    if matches || is_host_name(base) {
        Ok(None)
    } else if lenient && other() {
        Ok(Some(WarningKind::AddressTypeMismatch))
    } else {
        fail(address, ParseErrorKind::InvalidAddress)
    }
}

/// A DNS name: dot-separated labels of letters, digits, `-` and `_`, the last one not all
/// digits (so `0.a.b.0` is neither a name nor an IPv4 address).
fn is_host_name(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(label_ok)
        && text
            .rsplit('.')
            .next()
            .is_some_and(|last| !last.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks the RFC 8839 `candidate-attribute` grammar (the text after `a=candidate:`), as
/// [`antiphon_types::candidate`] states it once for Antiphon: an error names the candidate
/// field at fault and points where the problem is.
pub(crate) fn check_candidate(value: &str, lenient: bool) -> Res<'_, ()> {
    use antiphon_types::candidate::{
        CandidateField, CandidateSyntaxErrorKind, check_candidate_syntax,
    };
    let Err(error) = check_candidate_syntax(value, lenient) else {
        return Ok(());
    };
    let offset = match (error.field, error.kind) {
        // A name without a value: the value is missing at the end of the line.
        (CandidateField::ExtensionValue, CandidateSyntaxErrorKind::Missing) => value.len(),
        _ => error.offset,
    };
    let field = match (error.field, error.kind) {
        // Only `rport` values are numbers.
        (CandidateField::ExtensionValue, CandidateSyntaxErrorKind::InvalidNumber) => "rport",
        (field, _) => field.name(),
    };
    Err(Fail {
        at: value.get(offset..).unwrap_or(""),
        kind: ParseErrorKind::InvalidAttributeValue {
            attribute: "candidate",
            field,
        },
    })
}

const FINGERPRINT: &str = "fingerprint";

/// One `<hex><hex>` byte of a fingerprint, up to the next `:` or the end.
fn hex_byte(input: &str) -> PResult<'_, ()> {
    let (rest, pair) = bytes_while(|b| b != b':')(input)?;
    if pair.len() == 2 && pair.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok((rest, ()));
    }
    let kind = ParseErrorKind::InvalidAttributeValue {
        attribute: FINGERPRINT,
        field: "hex byte",
    };
    failure(input, kind)
}

/// Checks `<hex>:<hex>:...` (an error points at the byte that is not two hex digits) and,
/// for a registered hash function, the byte count.
pub(crate) fn check_fingerprint<'a>(algorithm: &'a str, digest: &'a str) -> Res<'a, ()> {
    let count = match hex_pair_count(digest.as_bytes()) {
        Some(count) => count,
        // Malformed: the grammar says where.
        None => digest_bytes(digest)?,
    };
    match antiphon_types::HashAlgorithm::registered_digest_len(algorithm) {
        Some(expected) if expected != count => fail(
            digest,
            ParseErrorKind::FingerprintLength {
                expected,
                found: count,
            },
        ),
        _ => Ok(()),
    }
}

/// The digest's grammar, `<hex><hex>` bytes separated by `:`: how many bytes, or where the
/// first one that is not two hex digits is.
fn digest_bytes(digest: &str) -> Res<'_, usize> {
    let bytes = preceded(
        hex_byte,
        fold_many0(preceded(char(':'), hex_byte), || 1, |n, ()| n + 1),
    );
    run(digest, bytes)
}

/// The number of bytes of a well-formed digest (`HH:HH:...:HH`, hex digits of either case), in
/// one pass; `None` for anything else, which the grammar then reports with its position. A
/// digest is checked with each description that carries it: the valid case takes this path.
fn hex_pair_count(digest: &[u8]) -> Option<usize> {
    if digest.len() % 3 != 2 {
        return None;
    }
    let mut pairs = digest.chunks(3);
    pairs
        .all(|pair| match pair {
            [high, low, rest @ ..] => {
                high.is_ascii_hexdigit() && low.is_ascii_hexdigit() && matches!(rest, [] | [b':'])
            }
            _ => false,
        })
        .then_some(digest.len().div_ceil(3))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The one-pass digest check counts what the grammar counts, and refuses what it
        /// refuses.
        #[test]
        fn hex_pairs_agree_with_the_grammar(digest in "[0-9a-fA-Fg:x ]{0,12}") {
            prop_assert_eq!(hex_pair_count(digest.as_bytes()), digest_bytes(&digest).ok());
        }
    }

    /// One field from a pool of valid and invalid pieces: limits and one past them, the
    /// fixed words, a foundation of 32 and of 33 characters, non-ASCII.
    fn field_piece() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("1"),
            Just("0"),
            Just("65535"),
            Just("65536"),
            Just("4294967295"),
            Just("4294967296"),
            Just("18446744073709551616"),
            Just("udp"),
            Just("UDP"),
            Just("typ"),
            Just("Typ"),
            Just("host"),
            Just("rport"),
            Just("raddr"),
            Just("generation"),
            Just("192.0.2.1"),
            Just("a0+B/3"),
            Just("abcdefghijklmnopqrstuvwxyz0123456"),
            Just("abcdefghijklmnopqrstuvwxyz012345"),
            Just("x,y"),
            Just("é"),
            Just("1é"),
        ]
    }

    /// Candidate-shaped values: pieces from `field_piece` joined by good and bad separators.
    fn candidate_like() -> impl Strategy<Value = String> {
        let separator = prop_oneof![
            4 => Just(" "),
            1 => Just("  "),
            1 => Just("\t"),
            1 => Just(" \t"),
        ];
        (
            prop::collection::vec((field_piece(), separator), 0..14),
            prop_oneof![Just(""), Just(" "), Just("\t")],
        )
            .prop_map(|(fields, edge)| {
                let mut value = edge.to_owned();
                for (i, (field, separator)) in fields.iter().enumerate() {
                    if i > 0 {
                        value.push_str(separator);
                    }
                    value.push_str(field);
                }
                value.push_str(edge);
                value
            })
    }

    /// A valid candidate, cut after 8 or more fields, with each field kept or (one time in
    /// four) swapped for a `field_piece`, and each separator a space or (one time in eight)
    /// a bad or lenient-only one.
    fn near_valid() -> impl Strategy<Value = String> {
        let base = [
            "1",
            "1",
            "udp",
            "2130706431",
            "192.0.2.1",
            "9",
            "typ",
            "host",
            "raddr",
            "10.0.0.1",
            "rport",
            "9",
        ];
        let fields: Vec<_> = base
            .iter()
            .map(|&f| prop_oneof![3 => Just(f), 1 => field_piece()])
            .collect();
        let separators = prop::collection::vec(
            prop_oneof![7 => Just(" "), 1 => prop_oneof![Just("  "), Just("\t")]],
            base.len(),
        );
        (fields, separators, 8..=base.len()).prop_map(|(fields, separators, len)| {
            let mut value = String::new();
            for (i, (field, separator)) in fields.iter().zip(&separators).take(len).enumerate() {
                if i > 0 {
                    value.push_str(separator);
                }
                value.push_str(field);
            }
            value
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn what_the_strict_check_takes_the_lenient_one_takes_and_errors_point_inside(
            value in prop_oneof![candidate_like(), near_valid(), "[ -~\t]{0,80}"],
        ) {
            let strict = check_candidate(&value, false);
            let lenient = check_candidate(&value, true);
            prop_assert!(strict.is_err() || lenient.is_ok(), "{:?}", value);
            for error in [strict.err(), lenient.err()].into_iter().flatten() {
                // `at` is a suffix of the value: the position it points to is inside it.
                prop_assert!(value.ends_with(error.at), "{:?}", value);
            }
        }
    }

    #[test]
    fn the_check_accepts_what_browsers_send() {
        for value in [
            "3960413356 1 udp 2122194687 192.0.2.2 54577 typ host generation 0 network-id 1",
            "2462121524 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0 network-id 1",
            "1 1 UDP 2130706431 fd00::2 57599 typ host",
            "842163049 1 udp 1677729535 203.0.113.7 47807 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag f8ll network-cost 999",
        ] {
            assert!(check_candidate(value, false).is_ok(), "{value}");
            assert!(check_candidate(value, true).is_ok(), "{value}");
        }
        assert!(check_candidate("1  1 udp 1 192.0.2.1 9 typ host", false).is_err());
        assert!(check_candidate(" 1  1 udp\t1 192.0.2.1 9 typ host ", true).is_ok());
    }

    #[test]
    fn host_names() {
        for ok in [
            "host.atlanta.example.com",
            "localhost",
            "abc-1.local",
            "x.y1",
        ] {
            assert!(is_host_name(ok), "{ok}");
        }
        for bad in ["0.a.b.0", "", "a..b", "1.2.3", "a b", "a/b"] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn candidates() {
        for ok in [
            "1 1 udp 2130706431 192.0.2.1 9 typ host",
            "a0+B/3 2 udp 2130706432 74.125.127.126 2347 typ srflx raddr 192.168.1.5 rport 2348 generation 2",
            "1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active",
        ] {
            assert!(check_candidate(ok, false).is_ok(), "{ok}");
        }
        for (bad, field) in [
            ("1 1 udp badvalue 192.0.2.1 9 typ host", "priority"),
            ("1 1 udp 1 192.0.2.1 12345678 typ host", "port"),
            (
                "1 1 udp 1 192.0.2.1 9 typ srflx raddr 1.2.3.4 rport x",
                "rport",
            ),
            ("1 1 udp 1 192.0.2.1 9 typx host", "typ"),
            (
                "1 1 udp 1 192.0.2.1 9 typ host generation",
                "extension value",
            ),
        ] {
            let kind = check_candidate(bad, false).err().map(|e| e.kind);
            assert_eq!(
                kind,
                Some(ParseErrorKind::InvalidAttributeValue {
                    attribute: "candidate",
                    field
                }),
                "{bad}"
            );
        }
    }
}
