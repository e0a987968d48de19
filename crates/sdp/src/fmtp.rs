//! `a=fmtp`: the payload type, the parameter text as written, and a typed view of its
//! `name=value` list.

use std::fmt;

/// `a=fmtp:<payload type> <parameters>`
///
/// The parameter text is kept verbatim in [`params`](Self::params), so writing back is
/// byte-faithful (spacing after `;` and odd separators survive). [`parameters`](Self::parameters)
/// reads it as the ordered `name=value` list, value-less tokens included (`0-15` of
/// telephone-event, `111/111` of RED).
///
/// ```
/// use antiphon_sdp::{Fmtp, FmtpParam};
///
/// let fmtp = Fmtp::new(111, "minptime=10; useinbandfec=1");
/// let params: Vec<_> = fmtp.parameters().collect();
/// assert_eq!(params, [FmtpParam::pair("minptime", "10"), FmtpParam::pair("useinbandfec", "1")]);
/// assert_eq!(fmtp.value("UseInbandFec"), Some("1"));
///
/// let built = Fmtp::from_params(96, [FmtpParam::pair("apt", "100")]);
/// assert_eq!(built.params, "apt=100");
/// assert_eq!(Fmtp::new(101, "0-15").parameters().next(), Some(FmtpParam::token("0-15")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// RTP payload type.
    pub payload_type: u8,
    /// The parameter text after the payload type, verbatim.
    pub params: String,
}

/// One parameter of `a=fmtp`, borrowed from [`Fmtp::params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FmtpParam<'a> {
    /// The name (left of `=`), or the whole token when there is no `=`.
    pub name: &'a str,
    /// The value (right of the first `=`), if any.
    pub value: Option<&'a str>,
}

impl<'a> FmtpParam<'a> {
    /// `name=value`
    pub fn pair(name: &'a str, value: &'a str) -> Self {
        Self {
            name,
            value: Some(value),
        }
    }

    /// A value-less token such as `0-15`.
    pub fn token(name: &'a str) -> Self {
        Self { name, value: None }
    }
}

impl fmt::Display for FmtpParam<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match self.value {
            Some(value) => write!(f, "={value}"),
            None => Ok(()),
        }
    }
}

impl Fmtp {
    /// An `a=fmtp` with this parameter text.
    pub fn new(payload_type: u8, params: impl Into<String>) -> Self {
        Self {
            payload_type,
            params: params.into(),
        }
    }

    /// An `a=fmtp` whose text is `params` joined with `;` (no spaces, as browsers write).
    pub fn from_params<'a>(
        payload_type: u8,
        params: impl IntoIterator<Item = FmtpParam<'a>>,
    ) -> Self {
        let mut text = String::new();
        for (i, param) in params.into_iter().enumerate() {
            if i > 0 {
                text.push(';');
            }
            text.push_str(param.name);
            if let Some(value) = param.value {
                text.push('=');
                text.push_str(value);
            }
        }
        Self::new(payload_type, text)
    }

    /// The parameters in order: split at `;`, surrounding spaces trimmed, empty ones skipped.
    pub fn parameters(&self) -> impl Iterator<Item = FmtpParam<'_>> {
        self.params
            .split(';')
            .map(|part| part.trim_matches([' ', '\t']))
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((name, value)) => FmtpParam::pair(name.trim_end(), value.trim_start()),
                None => FmtpParam::token(part),
            })
    }

    /// The first parameter named `name` (ASCII case-insensitive, as codec parameter names are).
    pub fn get(&self, name: &str) -> Option<FmtpParam<'_>> {
        self.parameters()
            .find(|param| param.name.eq_ignore_ascii_case(name))
    }

    /// The value of the first parameter named `name`, if it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|param| param.value)
    }
}

#[cfg(test)]
mod tests {
    use super::{Fmtp, FmtpParam};

    #[test]
    fn parameters_of_real_fmtp_lines() {
        let pair = FmtpParam::pair;
        let token = FmtpParam::token;
        let table: &[(&str, &[FmtpParam<'_>])] = &[
            (
                "minptime=10;useinbandfec=1",
                &[pair("minptime", "10"), pair("useinbandfec", "1")],
            ),
            (
                "minptime=10; useinbandfec=1",
                &[pair("minptime", "10"), pair("useinbandfec", "1")],
            ),
            (
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                &[
                    pair("level-asymmetry-allowed", "1"),
                    pair("packetization-mode", "1"),
                    pair("profile-level-id", "42e01f"),
                ],
            ),
            ("0-15", &[token("0-15")]),
            ("111/111", &[token("111/111")]),
            (
                "max-fs=12288;max-fr=60",
                &[pair("max-fs", "12288"), pair("max-fr", "60")],
            ),
            // Values may contain `=` (base64 sprop-parameter-sets).
            (
                "sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA==",
                &[pair("sprop-parameter-sets", "Z0IAH5WoFAFuQA==,aM48gA==")],
            ),
            ("a=1;;b", &[pair("a", "1"), token("b")]),
            ("", &[]),
        ];
        for (text, expected) in table {
            let fmtp = Fmtp::new(96, *text);
            let got: Vec<_> = fmtp.parameters().collect();
            assert_eq!(&got, expected, "{text}");
        }
    }

    #[test]
    fn from_params_round_trips_through_parameters() {
        let params = [
            FmtpParam::pair("x-google-start-bitrate", "800"),
            FmtpParam::token("flag"),
            FmtpParam::pair("apt", "96"),
        ];
        let fmtp = Fmtp::from_params(97, params);
        assert_eq!(fmtp.params, "x-google-start-bitrate=800;flag;apt=96");
        assert_eq!(fmtp.parameters().collect::<Vec<_>>(), params);
        assert_eq!(fmtp.value("APT"), Some("96"));
        assert_eq!(fmtp.value("flag"), None);
        assert_eq!(fmtp.get("flag"), Some(FmtpParam::token("flag")));
        assert_eq!(fmtp.get("missing"), None);
        assert_eq!(params[0].to_string(), "x-google-start-bitrate=800");
    }
}
