//! Value checks shared by several lines: addresses, candidates, fingerprints.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{ParseErrorKind, WarningKind};
use crate::fields::{Fail, Fields, Res, check_chars, fail, number};

/// Checks `<nettype> <addrtype>` and the address (with an optional multicast `/ttl/count`
/// suffix when `multicast_suffix`). Returns a warning for a lenient type mismatch.
pub(crate) fn check_address<'a>(
    net_type: (&'a str, &'a str),
    addr_type: (&'a str, &'a str),
    address: (&'a str, &'a str),
    multicast_suffix: bool,
    lenient: bool,
) -> Res<'a, Option<WarningKind>> {
    if net_type.0 != "IN" {
        return fail(net_type.1, ParseErrorKind::UnsupportedNetType);
    }
    let (text, at) = address;
    let (base, suffix) = match text.split_once('/') {
        Some((base, suffix)) if multicast_suffix => (base, Some(suffix)),
        _ => (text, None),
    };
    if let Some(suffix) = suffix {
        let suffix_at = at.get(base.len() + 1..).unwrap_or("");
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
    let (matches, other): (bool, &dyn Fn() -> bool) = match addr_type.0 {
        "IP4" => (v4(), &v6),
        "IP6" => (v6(), &v4),
        _ => return fail(addr_type.1, ParseErrorKind::UnsupportedAddrType),
    };
    if matches || is_host_name(base) {
        Ok(None)
    } else if lenient && other() {
        Ok(Some(WarningKind::AddressTypeMismatch))
    } else {
        fail(at, ParseErrorKind::InvalidAddress)
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

const CANDIDATE: &str = "candidate";

fn candidate_error<'a>(at: &'a str, field: &'static str) -> Fail<'a> {
    Fail {
        at,
        kind: ParseErrorKind::InvalidAttributeValue {
            attribute: CANDIDATE,
            field,
        },
    }
}

/// Checks the RFC 8839 `candidate-attribute` grammar (the text after `a=candidate:`).
fn relabel<'a>(field: &'static str) -> impl Fn(Fail<'a>) -> Fail<'a> {
    move |e| candidate_error(e.at, field)
}

pub(crate) fn check_candidate(value: &str, lenient: bool) -> Res<'_, ()> {
    let mut fields = Fields::new(value, lenient);
    let (foundation, at) = fields.next("foundation").map_err(relabel("foundation"))?;
    if foundation.len() > 32 {
        return Err(candidate_error(at, "foundation"));
    }
    check_chars(
        foundation,
        |c| c.is_ascii_alphanumeric() || c == '+' || c == '/',
        ParseErrorKind::InvalidField {
            field: "foundation",
        },
    )
    .map_err(|e| candidate_error(e.at, "foundation"))?;
    let (component, at) = fields
        .next("component id")
        .map_err(relabel("component id"))?;
    number::<u16>(component, "component id").map_err(|_| candidate_error(at, "component id"))?;
    let (transport, at) = fields.next("transport").map_err(relabel("transport"))?;
    check_chars(
        transport,
        crate::fields::is_token_char,
        ParseErrorKind::TrailingData,
    )
    .map_err(|_| candidate_error(at, "transport"))?;
    let (priority, at) = fields.next("priority").map_err(relabel("priority"))?;
    number::<u32>(priority, "priority").map_err(|_| candidate_error(at, "priority"))?;
    fields
        .next("connection address")
        .map_err(relabel("connection address"))?;
    let (port, at) = fields.next("port").map_err(relabel("port"))?;
    number::<u16>(port, "port").map_err(|_| candidate_error(at, "port"))?;
    let (typ, at) = fields.next("typ").map_err(relabel("typ"))?;
    if typ != "typ" {
        return Err(candidate_error(at, "typ"));
    }
    fields
        .next("candidate type")
        .map_err(relabel("candidate type"))?;
    while let Some((name, _)) = fields.next_opt().map_err(relabel("extension"))? {
        let (value, at) = fields
            .next("extension value")
            .map_err(relabel("extension value"))?;
        if name == "rport" {
            number::<u16>(value, "rport").map_err(|_| candidate_error(at, "rport"))?;
        }
    }
    Ok(())
}

const FINGERPRINT: &str = "fingerprint";

/// Checks `<hash-func> <hex>:<hex>...` and, for known hash functions, the byte count.
pub(crate) fn check_fingerprint<'a>(algorithm: &'a str, value: (&'a str, &'a str)) -> Res<'a, ()> {
    let (text, at) = value;
    // Byte-level: `hh:hh:...:hh`. Each pair starts at `3 * index`; a failure points at the
    // pair that is not two hex digits.
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut offset = 0;
    loop {
        let pair_end = bytes
            .get(offset..)
            .and_then(|rest| rest.iter().position(|&b| b == b':'))
            .map_or(bytes.len(), |i| offset + i);
        let pair = bytes.get(offset..pair_end).unwrap_or_default();
        if pair.len() != 2 || !pair.iter().all(u8::is_ascii_hexdigit) {
            return fail(
                at.get(offset..).unwrap_or(""),
                ParseErrorKind::InvalidAttributeValue {
                    attribute: FINGERPRINT,
                    field: "hex byte",
                },
            );
        }
        count += 1;
        if pair_end == bytes.len() {
            break;
        }
        offset = pair_end + 1;
    }
    match crate::attribute::Fingerprint::digest_len(algorithm) {
        Some(expected) if expected != count => fail(
            at,
            ParseErrorKind::FingerprintLength {
                expected,
                found: count,
            },
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    attribute: CANDIDATE,
                    field
                }),
                "{bad}"
            );
        }
    }
}
