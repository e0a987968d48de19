//! DTLS roles from `a=setup` (RFC 4145 §4, RFC 5763 §5, JSEP RFC 9429 §5.2.1 / §5.3.1).
//!
//! Pure functions: the offer/answer exchange decides who sends the ClientHello.

use crate::error::DtlsError;

/// Longest unknown `a=setup` value kept in an error.
const MAX_ERROR_VALUE_LEN: usize = 32;

pub use antiphon_types::Setup;

/// Parses an `a=setup` value as a peer may write it: the ABNF literals are ASCII
/// case-insensitive, and surrounding whitespace is ignored.
pub fn parse_setup(value: &str) -> Result<Setup, DtlsError> {
    let trimmed = value.trim_matches([' ', '\t', '\r', '\n']);
    Setup::ALL
        .into_iter()
        .find(|setup| trimmed.eq_ignore_ascii_case(setup.as_str()))
        .ok_or_else(|| DtlsError::InvalidSetup {
            value: trimmed
                .char_indices()
                .take_while(|(i, c)| i + c.len_utf8() <= MAX_ERROR_VALUE_LEN)
                .map(|(_, c)| c)
                .collect(),
        })
}

/// Which side of the DTLS handshake this endpoint plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsRole {
    /// Sends the ClientHello (`a=setup:active` side).
    Client,
    /// Waits for the ClientHello (`a=setup:passive` side).
    Server,
}

impl DtlsRole {
    /// The `a=setup` value that announces this role in an answer.
    pub fn setup(self) -> Setup {
        match self {
            Self::Client => Setup::Active,
            Self::Server => Setup::Passive,
        }
    }
}

/// What an answerer picks when the offer says `actpass`.
///
/// JSEP (RFC 9429 §5.3.1) says the answerer SHOULD take `active`, the default; `passive` is
/// allowed by RFC 5763 §5 for peers that want to wait for the ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ActPassAnswer {
    /// Answer `active`, become the DTLS client (what browsers do).
    #[default]
    Active,
    /// Answer `passive`, become the DTLS server.
    Passive,
}

/// The `a=setup` value an offer carries: always `actpass` (RFC 5763 §5, JSEP §5.2.1).
pub const OFFER_SETUP: Setup = Setup::ActPass;

/// Answerer side: given the offer's `a=setup`, returns our DTLS role; the answer's `a=setup`
/// is [`DtlsRole::setup`] of it.
///
/// `actpass` gives `preference`, `active` gives server, `passive` gives client; `holdconn` is
/// refused because DTLS-SRTP needs a connection.
pub fn answerer_role(
    remote_offer: Setup,
    preference: ActPassAnswer,
) -> Result<DtlsRole, DtlsError> {
    match remote_offer {
        Setup::ActPass => Ok(match preference {
            ActPassAnswer::Active => DtlsRole::Client,
            ActPassAnswer::Passive => DtlsRole::Server,
        }),
        Setup::Active => Ok(DtlsRole::Server),
        Setup::Passive => Ok(DtlsRole::Client),
        Setup::HoldConn => Err(DtlsError::SetupHoldConn),
    }
}

/// Offerer side (we offered `actpass`): given the answer's `a=setup`, returns our DTLS role.
///
/// `active` in the answer makes us the server, `passive` the client. An answer may not say
/// `actpass` (RFC 5763 §5) and `holdconn` is refused.
pub fn offerer_role(remote_answer: Setup) -> Result<DtlsRole, DtlsError> {
    match remote_answer {
        Setup::Active => Ok(DtlsRole::Server),
        Setup::Passive => Ok(DtlsRole::Client),
        Setup::ActPass => Err(DtlsError::ActPassInAnswer),
        Setup::HoldConn => Err(DtlsError::SetupHoldConn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answerer_table() {
        use ActPassAnswer as P;
        use DtlsRole::{Client, Server};
        let table = [
            (Setup::ActPass, P::Active, Ok(Client)),
            (Setup::ActPass, P::Passive, Ok(Server)),
            (Setup::Active, P::Active, Ok(Server)),
            (Setup::Active, P::Passive, Ok(Server)),
            (Setup::Passive, P::Active, Ok(Client)),
            (Setup::Passive, P::Passive, Ok(Client)),
            (Setup::HoldConn, P::Active, Err(DtlsError::SetupHoldConn)),
            (Setup::HoldConn, P::Passive, Err(DtlsError::SetupHoldConn)),
        ];
        for (offer, preference, expected) in table {
            assert_eq!(
                answerer_role(offer, preference),
                expected,
                "offer {offer}, preference {preference:?}"
            );
        }
    }

    #[test]
    fn answer_setup_is_the_complement_of_the_offer() {
        for (offer, answer) in [
            (Setup::Active, Setup::Passive),
            (Setup::Passive, Setup::Active),
            (Setup::ActPass, Setup::Active),
        ] {
            let role = answerer_role(offer, ActPassAnswer::default()).map(DtlsRole::setup);
            assert_eq!(role, Ok(answer), "offer {offer}");
        }
    }

    #[test]
    fn offerer_table() {
        let table = [
            (Setup::Active, Ok(DtlsRole::Server)),
            (Setup::Passive, Ok(DtlsRole::Client)),
            (Setup::ActPass, Err(DtlsError::ActPassInAnswer)),
            (Setup::HoldConn, Err(DtlsError::SetupHoldConn)),
        ];
        for (answer, expected) in table {
            assert_eq!(offerer_role(answer), expected, "answer {answer}");
        }
    }

    #[test]
    fn both_sides_agree_on_opposite_roles() {
        for (preference, answerer, offerer) in [
            (ActPassAnswer::Active, DtlsRole::Client, DtlsRole::Server),
            (ActPassAnswer::Passive, DtlsRole::Server, DtlsRole::Client),
        ] {
            assert_eq!(answerer_role(OFFER_SETUP, preference), Ok(answerer));
            assert_eq!(
                offerer_role(answerer.setup()),
                Ok(offerer),
                "{preference:?}"
            );
        }
    }

    #[test]
    fn parse_table() {
        let table = [
            ("active", Ok(Setup::Active)),
            ("passive", Ok(Setup::Passive)),
            ("actpass", Ok(Setup::ActPass)),
            ("holdconn", Ok(Setup::HoldConn)),
            ("ACTPASS", Ok(Setup::ActPass)),
            (" active\r\n", Ok(Setup::Active)),
            ("", Err(String::new())),
            ("act pass", Err("act pass".to_owned())),
            ("bogus", Err("bogus".to_owned())),
        ];
        for (text, expected) in table {
            let expected = expected.map_err(|value| DtlsError::InvalidSetup { value });
            assert_eq!(parse_setup(text), expected, "{text:?}");
        }
        let long = "x".repeat(1000);
        assert_eq!(
            parse_setup(&long),
            Err(DtlsError::InvalidSetup {
                value: "x".repeat(MAX_ERROR_VALUE_LEN)
            })
        );
    }

    #[test]
    fn write_parse_round_trip() {
        for setup in [
            Setup::Active,
            Setup::Passive,
            Setup::ActPass,
            Setup::HoldConn,
        ] {
            assert_eq!(parse_setup(&setup.to_string()), Ok(setup));
        }
    }
}
