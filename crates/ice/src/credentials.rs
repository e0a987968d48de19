//! ICE credentials (RFC 8839 section 5.4): `ice-ufrag` and `ice-pwd`.
//!
//! `ice-char = ALPHA / DIGIT / "+" / "/"`; the ufrag has 4 to 256 characters and the password 22 to
//! 256. Generated credentials are 16 and 24 characters (like browsers) from a CSPRNG.

use rand::{CryptoRng, Rng};

use crate::error::CredentialsError;

const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Length of generated ufrags.
pub const GENERATED_UFRAG_LEN: usize = 16;
/// Length of generated passwords.
pub const GENERATED_PWD_LEN: usize = 24;

/// A validated `ice-ufrag` / `ice-pwd` pair.
#[derive(Clone, PartialEq, Eq)]
pub struct IceCredentials {
    ufrag: String,
    pwd: String,
}

impl std::fmt::Debug for IceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is a secret: never print it.
        f.debug_struct("IceCredentials")
            .field("ufrag", &self.ufrag)
            .finish_non_exhaustive()
    }
}

fn check(
    value: &str,
    min: usize,
    too_short: CredentialsError,
    too_long: CredentialsError,
    bad: fn(usize) -> CredentialsError,
) -> Result<(), CredentialsError> {
    if let Some(i) = value.bytes().position(|b| !ICE_CHARS.contains(&b)) {
        return Err(bad(i));
    }
    if value.len() < min {
        return Err(too_short);
    }
    if value.len() > 256 {
        return Err(too_long);
    }
    Ok(())
}

fn random_ice_string<R: Rng + CryptoRng + ?Sized>(rng: &mut R, len: usize) -> String {
    (0..len)
        .map(|_| char::from(ICE_CHARS[rng.random_range(0..ICE_CHARS.len())]))
        .collect()
}

impl IceCredentials {
    /// Validates remote (or configured) credentials.
    pub fn new(ufrag: impl Into<String>, pwd: impl Into<String>) -> Result<Self, CredentialsError> {
        let (ufrag, pwd) = (ufrag.into(), pwd.into());
        Self::validate(&ufrag, &pwd)?;
        Ok(IceCredentials { ufrag, pwd })
    }

    /// The checks of [`new`](Self::new), without keeping the credentials (for a description
    /// that is only being checked).
    pub fn validate(ufrag: &str, pwd: &str) -> Result<(), CredentialsError> {
        check(
            ufrag,
            4,
            CredentialsError::UfragTooShort,
            CredentialsError::UfragTooLong,
            CredentialsError::InvalidUfragCharacter,
        )?;
        check(
            pwd,
            22,
            CredentialsError::PwdTooShort,
            CredentialsError::PwdTooLong,
            CredentialsError::InvalidPwdCharacter,
        )
    }

    /// Fresh credentials from the thread-local CSPRNG (seeded from the OS via getrandom).
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rng())
    }

    /// Fresh credentials from the given cryptographically secure generator (seedable in tests).
    pub fn generate_with<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        IceCredentials {
            ufrag: random_ice_string(rng, GENERATED_UFRAG_LEN),
            pwd: random_ice_string(rng, GENERATED_PWD_LEN),
        }
    }

    /// The username fragment.
    pub fn ufrag(&self) -> &str {
        &self.ufrag
    }

    /// The password.
    pub fn pwd(&self) -> &str {
        &self.pwd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_credentials_validate_and_differ() {
        let a = IceCredentials::generate();
        let b = IceCredentials::generate();
        assert_ne!(a, b);
        assert_eq!(a.ufrag().len(), GENERATED_UFRAG_LEN);
        assert_eq!(a.pwd().len(), GENERATED_PWD_LEN);
        assert_eq!(IceCredentials::new(a.ufrag(), a.pwd()), Ok(a.clone()));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let c = IceCredentials::generate_with(&mut rng);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        assert_eq!(c, IceCredentials::generate_with(&mut rng));
        assert!(!format!("{c:?}").contains(c.pwd()));
    }

    #[test]
    fn remote_credentials_are_checked() {
        let pwd = "VOkJxbRl1RmTxUk/WvJxBt";
        let cases: &[(&str, &str, Result<(), CredentialsError>)] = &[
            ("evtj", pwd, Ok(())),
            ("a+/9", pwd, Ok(())),
            ("abc", pwd, Err(CredentialsError::UfragTooShort)),
            ("ab:c", pwd, Err(CredentialsError::InvalidUfragCharacter(2))),
            ("abcd", "short", Err(CredentialsError::PwdTooShort)),
            (
                "abcd",
                "VOkJxbRl1RmTxUk-WvJxBt",
                Err(CredentialsError::InvalidPwdCharacter(15)),
            ),
            ("abcd", &"a".repeat(257), Err(CredentialsError::PwdTooLong)),
            (&"a".repeat(257), pwd, Err(CredentialsError::UfragTooLong)),
            ("", pwd, Err(CredentialsError::UfragTooShort)),
        ];
        for (ufrag, pwd, expected) in cases {
            assert_eq!(
                IceCredentials::new(*ufrag, *pwd).map(|_| ()),
                *expected,
                "{ufrag} {pwd}"
            );
        }
    }
}
