//! `a=fingerprint` parsing and writing: tables of good and bad values, and round-trip
//! properties.

use antiphon_dtls::{CertificateFingerprint, Fingerprint, FingerprintError, HashAlgorithm};
use proptest::prelude::*;

/// `len` bytes counting up from `start`, as upper-case colon hex.
fn hex(len: usize, start: u8) -> String {
    (0..len)
        .map(|i| {
            format!(
                "{:02X}",
                start.wrapping_add(u8::try_from(i % 256).unwrap_or(0))
            )
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn digest(len: usize, start: u8) -> Vec<u8> {
    (0..len)
        .map(|i| start.wrapping_add(u8::try_from(i % 256).unwrap_or(0)))
        .collect()
}

#[test]
fn valid_values() {
    let table = [
        (format!("sha-1 {}", hex(20, 0)), HashAlgorithm::Sha1, 0),
        (
            format!("sha-256 {}", hex(32, 0xA0)),
            HashAlgorithm::Sha256,
            0xA0,
        ),
        (format!("sha-384 {}", hex(48, 7)), HashAlgorithm::Sha384, 7),
        (
            format!("sha-512 {}", hex(64, 0xF0)),
            HashAlgorithm::Sha512,
            0xF0,
        ),
        // Token case-insensitive, lower-case hex accepted, tabs and trailing CRLF tolerated.
        (format!("SHA-256 {}", hex(32, 1)), HashAlgorithm::Sha256, 1),
        (
            format!("Sha-256 {}", hex(32, 0xAB).to_lowercase()),
            HashAlgorithm::Sha256,
            0xAB,
        ),
        (
            format!("sha-256\t {}\r\n", hex(32, 2)),
            HashAlgorithm::Sha256,
            2,
        ),
    ];
    for (text, algorithm, start) in table {
        let parsed = Fingerprint::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(parsed.algorithm(), algorithm, "{text:?}");
        assert_eq!(
            parsed.digest(),
            digest(algorithm.digest_len(), start),
            "{text:?}"
        );
    }
}

#[test]
fn invalid_values() {
    let good = hex(32, 0);
    let table: Vec<(String, FingerprintError)> = vec![
        (
            format!("md5 {}", hex(16, 0)),
            FingerprintError::RefusedHashAlgorithm {
                token: "md5".into(),
            },
        ),
        (
            format!("MD2 {}", hex(16, 0)),
            FingerprintError::RefusedHashAlgorithm {
                token: "MD2".into(),
            },
        ),
        (
            "md5".into(),
            FingerprintError::RefusedHashAlgorithm {
                token: "md5".into(),
            },
        ),
        (
            format!("sha-224 {}", hex(28, 0)),
            FingerprintError::UnknownHashAlgorithm {
                token: "sha-224".into(),
            },
        ),
        (
            format!("sha256 {good}"),
            FingerprintError::UnknownHashAlgorithm {
                token: "sha256".into(),
            },
        ),
        (
            format!(" {good}"),
            FingerprintError::UnknownHashAlgorithm {
                token: String::new(),
            },
        ),
        (
            format!("{} {good}", "x".repeat(500)),
            FingerprintError::UnknownHashAlgorithm {
                token: "x".repeat(32),
            },
        ),
        (String::new(), FingerprintError::MissingValue { offset: 0 }),
        (
            "sha-256".into(),
            FingerprintError::MissingValue { offset: 7 },
        ),
        (
            "sha-256   ".into(),
            FingerprintError::MissingValue { offset: 7 },
        ),
        (
            format!("sha-256 ZZ:{}", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 8 },
        ),
        (
            format!("sha-256 {}:G0", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 8 + 31 * 3 },
        ),
        (
            format!("sha-256 A:{}", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 8 },
        ),
        (
            format!("sha-256 ABC:{}", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 8 },
        ),
        (
            format!("sha-256 AB::{}", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 11 },
        ),
        (
            format!("sha-256 {good}:"),
            FingerprintError::MalformedHex {
                offset: 8 + good.len() + 1,
            },
        ),
        (
            format!("sha-256 {}", hex(32, 0).replace(':', "")),
            FingerprintError::MalformedHex { offset: 8 },
        ),
        (
            format!("sha-256 {good} trailing"),
            FingerprintError::MalformedHex { offset: 8 + 31 * 3 },
        ),
        (
            format!("sha-256 ÄB:{}", hex(31, 0)),
            FingerprintError::MalformedHex { offset: 8 },
        ),
        (
            format!("sha-256 {}", hex(31, 0)),
            FingerprintError::WrongLength {
                algorithm: HashAlgorithm::Sha256,
                expected: 32,
                found: 31,
            },
        ),
        (
            format!("sha-256 {}", hex(33, 0)),
            FingerprintError::WrongLength {
                algorithm: HashAlgorithm::Sha256,
                expected: 32,
                found: 33,
            },
        ),
        (
            format!("sha-1 {good}"),
            FingerprintError::WrongLength {
                algorithm: HashAlgorithm::Sha1,
                expected: 20,
                found: 32,
            },
        ),
        (
            format!("sha-512 {good}"),
            FingerprintError::WrongLength {
                algorithm: HashAlgorithm::Sha512,
                expected: 64,
                found: 32,
            },
        ),
    ];
    for (text, expected) in table {
        assert_eq!(Fingerprint::parse(&text).err(), Some(expected), "{text:?}");
    }
}

#[test]
fn writes_upper_case_colon_hex() {
    let fingerprint =
        Fingerprint::parse(&format!("SHA-256 {}", hex(32, 0xAA).to_lowercase())).expect("parses");
    assert_eq!(
        fingerprint.to_string(),
        format!("sha-256 {}", hex(32, 0xAA))
    );
    assert_eq!(fingerprint.hex(), hex(32, 0xAA));
}

#[test]
fn from_digest_checks_length() {
    assert_eq!(
        Fingerprint::from_digest(HashAlgorithm::Sha384, &[0; 47]).err(),
        Some(FingerprintError::WrongLength {
            algorithm: HashAlgorithm::Sha384,
            expected: 48,
            found: 47,
        })
    );
    let fingerprint = Fingerprint::from_digest(HashAlgorithm::Sha384, &[9; 48]).expect("48");
    assert_eq!(fingerprint.digest(), &[9; 48][..]);
}

#[test]
fn equality_needs_same_algorithm_and_every_byte() {
    let base = digest(32, 0);
    let a = Fingerprint::from_digest(HashAlgorithm::Sha256, &base).expect("a");
    for position in [0, 15, 31] {
        let mut changed = base.clone();
        if let Some(byte) = changed.get_mut(position) {
            *byte ^= 0x01;
        }
        let b = Fingerprint::from_digest(HashAlgorithm::Sha256, &changed).expect("b");
        assert_ne!(a, b, "differs at {position}");
    }
    let sha1 = Fingerprint::of_der(HashAlgorithm::Sha1, b"certificate");
    let sha256 = Fingerprint::of_der(HashAlgorithm::Sha256, b"certificate");
    assert_ne!(sha1, sha256);
    assert!(sha256.matches_der(b"certificate"));
    assert!(!sha256.matches_der(b"certificatf"));
}

#[test]
fn known_digest_of_empty_input() {
    // FIPS 180 test vector: SHA-256 of the empty string.
    let empty = Fingerprint::of_der(HashAlgorithm::Sha256, b"");
    assert_eq!(
        empty.hex().replace(':', ""),
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    );
}

fn algorithm() -> impl Strategy<Value = HashAlgorithm> {
    prop::sample::select(HashAlgorithm::ALL.to_vec())
}

proptest! {
    #[test]
    fn parse_write_round_trip(algorithm in algorithm(), bytes in prop::collection::vec(any::<u8>(), 64)) {
        let digest = bytes.get(..algorithm.digest_len()).unwrap_or_default();
        let fingerprint = Fingerprint::from_digest(algorithm, digest).expect("exact length");
        let written = fingerprint.to_string();
        prop_assert_eq!(Fingerprint::parse(&written).ok(), Some(fingerprint));
        prop_assert_eq!(Fingerprint::parse(&written.to_lowercase()).ok(), Some(fingerprint));
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = Fingerprint::parse(&text);
    }

    #[test]
    fn arbitrary_hex_like_text_never_panics(text in "(sha-(1|256|384|512) )?[0-9A-Fa-fG:]{0,250}") {
        if let Ok(parsed) = Fingerprint::parse(&text) {
            prop_assert_eq!(parsed.digest().len(), parsed.algorithm().digest_len());
        }
    }
}
