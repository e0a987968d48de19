//! Certificate fingerprints as `a=fingerprint` states them (RFC 8122 §5, RFC 4572): a hash
//! function and a digest. The attribute value is `hash-func SP fingerprint`, e.g.
//! `sha-256 AB:CD:...`; the hash token is matched case-insensitively, the hex pairs are
//! accepted in either case and always written in upper case. Hashing a certificate is the DTLS
//! layer's (`antiphon-dtls`); this is the value both sides of that check speak of.

use std::fmt;
use std::str::FromStr;

/// Longest digest any supported hash produces (SHA-512).
const MAX_DIGEST_LEN: usize = 64;

/// Longest unknown hash token kept in an error, so hostile input stays bounded.
const MAX_ERROR_TOKEN_LEN: usize = 32;

/// A hash function usable for certificate fingerprints.
///
/// These are the four the W3C `RTCCertificate.getFingerprints()` reports. `md5` and `md2` are
/// refused (RFC 8122 §5), `sha-224` and anything else are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// `sha-1` (20 bytes).
    Sha1,
    /// `sha-256` (32 bytes), what browsers put in their offers.
    Sha256,
    /// `sha-384` (48 bytes).
    Sha384,
    /// `sha-512` (64 bytes).
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm, weakest first.
    pub const ALL: [HashAlgorithm; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// The token as written in `a=fingerprint` (lower case, e.g. `sha-256`).
    pub const fn token(self) -> &'static str {
        match self {
            Self::Sha1 => "sha-1",
            Self::Sha256 => "sha-256",
            Self::Sha384 => "sha-384",
            Self::Sha512 => "sha-512",
        }
    }

    /// Length of the digest in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The digest length of any hash function RFC 8122's registry names (`md2`, `md5`,
    /// `sha-1`, `sha-224`, `sha-256`, `sha-384`, `sha-512`, case-insensitively), refused ones
    /// included: what an SDP parser checks an `a=fingerprint` value against. `None` for
    /// others.
    pub fn registered_digest_len(token: &str) -> Option<usize> {
        const REGISTRY: [(&str, usize); 7] = [
            ("md2", 16),
            ("md5", 16),
            ("sha-1", 20),
            ("sha-224", 28),
            ("sha-256", 32),
            ("sha-384", 48),
            ("sha-512", 64),
        ];
        REGISTRY
            .iter()
            .find(|(name, _)| token.eq_ignore_ascii_case(name))
            .map(|(_, len)| *len)
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

impl FromStr for HashAlgorithm {
    type Err = FingerprintError;

    /// Parses a hash token case-insensitively; `md5`/`md2` are refused, others unknown.
    fn from_str(token: &str) -> Result<Self, FingerprintError> {
        for algorithm in Self::ALL {
            if token.eq_ignore_ascii_case(algorithm.token()) {
                return Ok(algorithm);
            }
        }
        if token.eq_ignore_ascii_case("md5") || token.eq_ignore_ascii_case("md2") {
            return Err(FingerprintError::RefusedHashAlgorithm {
                token: bounded_token(token),
            });
        }
        Err(FingerprintError::UnknownHashAlgorithm {
            token: bounded_token(token),
        })
    }
}

fn bounded_token(token: &str) -> String {
    token
        .char_indices()
        .take_while(|(i, c)| i + c.len_utf8() <= MAX_ERROR_TOKEN_LEN)
        .map(|(_, c)| c)
        .collect()
}

/// Why a fingerprint was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The hash function is not one of [`HashAlgorithm::ALL`] (the token, at most 32 bytes).
    UnknownHashAlgorithm {
        /// The token as given.
        token: String,
    },
    /// `md5` or `md2`, which RFC 8122 §5 forbids.
    RefusedHashAlgorithm {
        /// The token as given.
        token: String,
    },
    /// No digest after the hash function.
    MissingValue {
        /// Byte offset where the digest should start.
        offset: usize,
    },
    /// A byte of the digest is not two hex digits.
    MalformedHex {
        /// Byte offset of the bad pair.
        offset: usize,
    },
    /// The digest has the wrong number of bytes for its hash function.
    WrongLength {
        /// The hash function.
        algorithm: HashAlgorithm,
        /// Bytes it produces.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
}

impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownHashAlgorithm { token } => {
                write!(f, "unknown fingerprint hash function {token:?}")
            }
            Self::RefusedHashAlgorithm { token } => {
                write!(
                    f,
                    "fingerprint hash function {token:?} is refused (RFC 8122)"
                )
            }
            Self::MissingValue { offset } => {
                write!(f, "fingerprint has no digest (at byte {offset})")
            }
            Self::MalformedHex { offset } => {
                write!(f, "fingerprint digest is not hex pairs (at byte {offset})")
            }
            Self::WrongLength {
                algorithm,
                expected,
                found,
            } => write!(
                f,
                "{algorithm} fingerprint has {found} bytes, expected {expected}"
            ),
        }
    }
}

impl std::error::Error for FingerprintError {}

/// A certificate fingerprint: a hash algorithm and the digest of the DER certificate.
///
/// Equality (`==`) runs in constant time over the digest bytes.
#[derive(Clone, Copy)]
pub struct Fingerprint {
    algorithm: HashAlgorithm,
    digest: [u8; MAX_DIGEST_LEN],
}

impl Fingerprint {
    /// Builds a fingerprint from raw digest bytes, which must be exactly
    /// [`HashAlgorithm::digest_len`] long.
    pub fn from_digest(algorithm: HashAlgorithm, bytes: &[u8]) -> Result<Self, FingerprintError> {
        let expected = algorithm.digest_len();
        if bytes.len() != expected {
            return Err(FingerprintError::WrongLength {
                algorithm,
                expected,
                found: bytes.len(),
            });
        }
        let mut digest = [0u8; MAX_DIGEST_LEN];
        digest[..expected].copy_from_slice(bytes);
        Ok(Self { algorithm, digest })
    }

    /// Parses an `a=fingerprint` attribute value, e.g. `sha-256 AB:CD:...`.
    ///
    /// Error offsets are byte offsets into `value`.
    pub fn parse(value: &str) -> Result<Self, FingerprintError> {
        let value = value.trim_end_matches([' ', '\t', '\r', '\n']);
        let Some((token, rest)) = value.split_once([' ', '\t']) else {
            if value.is_empty() {
                return Err(FingerprintError::MissingValue { offset: 0 });
            }
            // Report the algorithm first: `md5` alone is refused, not "missing value".
            value.parse::<HashAlgorithm>()?;
            return Err(FingerprintError::MissingValue {
                offset: value.len(),
            });
        };
        let algorithm: HashAlgorithm = token.parse()?;
        let hex = rest.trim_start_matches([' ', '\t']);
        Self::from_hex(algorithm, hex, value.len() - hex.len())
    }

    /// Parses the hex digest of `algorithm` (`AB:CD:...`, either case), as `a=fingerprint`
    /// writes it after the hash function; `offset` is where `hex` starts in the text it came
    /// from (error offsets count from there).
    pub fn from_hex(
        algorithm: HashAlgorithm,
        hex: &str,
        offset: usize,
    ) -> Result<Self, FingerprintError> {
        if hex.is_empty() {
            return Err(FingerprintError::MissingValue { offset });
        }
        let mut digest = [0u8; MAX_DIGEST_LEN];
        let expected = algorithm.digest_len();
        let mut count = 0usize;
        let mut at = offset;
        for pair in hex.split(':') {
            let byte = match pair.as_bytes() {
                [high, low] => match (hex_value(*high), hex_value(*low)) {
                    (Some(h), Some(l)) => (h << 4) | l,
                    _ => return Err(FingerprintError::MalformedHex { offset: at }),
                },
                _ => return Err(FingerprintError::MalformedHex { offset: at }),
            };
            if let Some(slot) = digest.get_mut(count).filter(|_| count < expected) {
                *slot = byte;
            }
            count += 1;
            at += pair.len() + 1;
        }
        if count != expected {
            return Err(FingerprintError::WrongLength {
                algorithm,
                expected,
                found: count,
            });
        }
        Ok(Self { algorithm, digest })
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The digest bytes ([`HashAlgorithm::digest_len`] of them).
    pub fn digest(&self) -> &[u8] {
        &self.digest[..self.algorithm.digest_len()]
    }

    /// The upper-case colon-separated hex, without the algorithm (`AB:CD:...`).
    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let digest = self.digest();
        let mut out = String::with_capacity(digest.len() * 3);
        for (i, byte) in digest.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Compares two byte slices in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && constant_time_eq(self.digest(), other.digest())
    }
}

impl Eq for Fingerprint {}

impl fmt::Display for Fingerprint {
    /// Writes the `a=fingerprint` attribute value: `sha-256 AB:CD:...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm, self.hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(value: &str) -> Result<Self, FingerprintError> {
        Self::parse(value)
    }
}
