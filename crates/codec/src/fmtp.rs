//! Format parameters (the value of an SDP `a=fmtp:<pt> <value>` line, or W3C `sdpFmtpLine`) as an
//! ordered list, parsed from and written back to `name=value;name=value` text.

use std::fmt;
use std::str::FromStr;

use crate::CodecError;

/// Longest fmtp text [`Fmtp::parse`] accepts, in bytes. Real-world values are well under 1 KiB.
pub const MAX_FMTP_LEN: usize = 4096;

/// Most parameters [`Fmtp::parse`] accepts in one fmtp text.
pub const MAX_FMTP_PARAMS: usize = 64;

/// One fmtp parameter: `name=value`, or a bare token such as red's `111/111` or
/// telephone-event's `0-15` (then `value` is `None` and `name` holds the token).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FmtpParam {
    /// Parameter name (or the whole bare token).
    pub name: String,
    /// Parameter value; `None` for a bare token.
    pub value: Option<String>,
}

impl fmt::Display for FmtpParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={}", self.name, value),
            None => f.write_str(&self.name),
        }
    }
}

/// Ordered format parameters. Order and unknown parameters survive parse and write, so a value
/// written back is the value read (modulo whitespace around `;` and `=`).
///
/// Names are matched ASCII-case-insensitively, as RFC 6184 and friends require.
///
/// ```
/// use antiphon_codec::Fmtp;
/// let fmtp: Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".parse()?;
/// assert_eq!(fmtp.get("Profile-Level-Id"), Some("42e01f"));
/// assert_eq!(fmtp.to_string(), "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
/// # Ok::<(), antiphon_codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fmtp {
    params: Vec<FmtpParam>,
}

impl Fmtp {
    /// No parameters.
    pub const fn new() -> Self {
        Self { params: Vec::new() }
    }

    /// Parses `name=value;name=value` text. Whitespace around separators is ignored, a trailing
    /// `;` is tolerated, a value may contain `=` (base64 in `sprop-parameter-sets`).
    ///
    /// # Errors
    /// [`CodecError::FmtpTooLong`], [`CodecError::TooManyFmtpParameters`],
    /// [`CodecError::EmptyFmtpParameter`] or [`CodecError::InvalidFmtpCharacter`] (with the byte
    /// offset) when the text does not follow that grammar.
    pub fn parse(text: &str) -> Result<Self, CodecError> {
        if text.len() > MAX_FMTP_LEN {
            return Err(CodecError::FmtpTooLong { len: text.len() });
        }
        if text.trim().is_empty() {
            return Ok(Self { params: Vec::new() });
        }
        let segment_count = text.bytes().filter(|&b| b == b';').count() + 1;
        let mut params = Vec::with_capacity(segment_count.min(MAX_FMTP_PARAMS));
        let mut offset = 0;
        for (index, segment) in text.split(';').enumerate() {
            let segment_offset = offset;
            offset += segment.len() + 1;
            let is_last = index + 1 == segment_count;
            if segment.trim().is_empty() {
                if is_last {
                    break;
                }
                return Err(CodecError::EmptyFmtpParameter {
                    offset: segment_offset,
                });
            }
            if params.len() == MAX_FMTP_PARAMS {
                return Err(CodecError::TooManyFmtpParameters);
            }
            params.push(parse_param(segment, segment_offset)?);
        }
        Ok(Self { params })
    }

    /// The parameters in order.
    pub fn params(&self) -> &[FmtpParam] {
        &self.params
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The value of the first `name=value` parameter called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.value.is_some() && p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.value.as_deref())
    }

    /// The bare tokens (parameters without `=`), in order, e.g. red's `111/111`.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.params
            .iter()
            .filter(|p| p.value.is_none())
            .map(|p| p.name.as_str())
    }

    /// Sets `name=value`: replaces the first parameter of that name in place, or appends.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = Some(value.into());
        match self
            .params
            .iter_mut()
            .find(|p| p.value.is_some() && p.name.eq_ignore_ascii_case(name))
        {
            Some(param) => param.value = value,
            None => self.params.push(FmtpParam {
                name: name.to_owned(),
                value,
            }),
        }
    }

    /// Appends a parameter as given (no de-duplication).
    pub fn push(&mut self, param: FmtpParam) {
        self.params.push(param);
    }

    /// Removes every `name=value` parameter called `name`; returns whether any was removed.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.params.len();
        self.params
            .retain(|p| !(p.value.is_some() && p.name.eq_ignore_ascii_case(name)));
        before != self.params.len()
    }

    /// Builder form of [`Fmtp::set`].
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }
}

fn parse_param(segment: &str, segment_offset: usize) -> Result<FmtpParam, CodecError> {
    let leading = segment.len() - segment.trim_start().len();
    let (name, value) = match segment.find('=') {
        Some(eq) => (
            &segment[..eq],
            Some((&segment[eq + 1..], segment_offset + eq + 1)),
        ),
        None => (segment, None),
    };
    let name_offset = segment_offset + leading;
    let name = name.trim();
    if name.is_empty() {
        return Err(CodecError::EmptyFmtpParameter {
            offset: name_offset,
        });
    }
    // A bare token is an opaque format-specific value and may contain spaces (ALAC's
    // `352 0 16 40 ...`); a parameter name may not.
    check_token(name, name_offset, false, value.is_none())?;
    let value = match value {
        Some((raw, raw_offset)) => {
            let value = raw.trim();
            let value_offset = raw_offset + (raw.len() - raw.trim_start().len());
            check_token(value, value_offset, true, false)?;
            Some(value.to_owned())
        }
        None => None,
    };
    Ok(FmtpParam {
        name: name.to_owned(),
        value,
    })
}

fn check_token(
    token: &str,
    offset: usize,
    allow_equals: bool,
    allow_spaces: bool,
) -> Result<(), CodecError> {
    let is_allowed_space = |c: char| allow_spaces && (c == ' ' || c == '\t');
    if token.is_ascii() {
        // The same rule on bytes: ASCII whitespace is also `char::is_whitespace` (tab, LF, VT,
        // FF, CR, space), ASCII control is below 0x20 and DEL.
        let bad = token.bytes().position(|b| {
            !is_allowed_space(char::from(b))
                && (matches!(b, b'\t'..=b'\r' | b' ' | 0..0x20 | 0x7f)
                    || (b == b'=' && !allow_equals))
        });
        return match bad {
            Some(at) => Err(CodecError::InvalidFmtpCharacter {
                offset: offset + at,
            }),
            None => Ok(()),
        };
    }
    match token.char_indices().find(|&(_, c)| {
        !is_allowed_space(c) && (c.is_whitespace() || c.is_control() || (c == '=' && !allow_equals))
    }) {
        Some((at, _)) => Err(CodecError::InvalidFmtpCharacter {
            offset: offset + at,
        }),
        None => Ok(()),
    }
}

impl FromStr for Fmtp {
    type Err = CodecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Fmtp {
    /// The length of the text [`Fmtp::write_to`] writes.
    pub fn text_len(&self) -> usize {
        let separators = self.params.len().saturating_sub(1);
        separators
            + self
                .params
                .iter()
                .map(|p| p.name.len() + p.value.as_ref().map_or(0, |v| v.len() + 1))
                .sum::<usize>()
    }

    /// Appends the `name=value;...` text (what `to_string()` returns) to `out`, with
    /// `push_str` rather than `core::fmt`: the answer writes one per negotiated codec.
    pub fn write_to(&self, out: &mut String) {
        for (index, param) in self.params.iter().enumerate() {
            if index > 0 {
                out.push(';');
            }
            out.push_str(&param.name);
            if let Some(value) = &param.value {
                out.push('=');
                out.push_str(value);
            }
        }
    }

    /// The `name=value;...` text in an exactly sized `String` (same as `to_string()`).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text_len());
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, param) in self.params.iter().enumerate() {
            if index > 0 {
                f.write_str(";")?;
            }
            f.write_str(&param.name)?;
            if let Some(value) = &param.value {
                f.write_str("=")?;
                f.write_str(value)?;
            }
        }
        Ok(())
    }
}

impl FromIterator<FmtpParam> for Fmtp {
    fn from_iter<I: IntoIterator<Item = FmtpParam>>(iter: I) -> Self {
        Self {
            params: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        let cases = [
            ("minptime=10;useinbandfec=1", "minptime=10;useinbandfec=1"),
            ("111/111", "111/111"),
            ("0-15", "0-15"),
            ("apt=96", "apt=96"),
            ("a=1; b=2 ;", "a=1;b=2"),
            (
                "sprop-parameter-sets=Z0IACpZTBYmI,aMljiA==",
                "sprop-parameter-sets=Z0IACpZTBYmI,aMljiA==",
            ),
            ("", ""),
            ("  ", ""),
            ("x-google-flag=", "x-google-flag="),
            (
                "352 0 16 40 10 14 2 255 0 0 44100",
                "352 0 16 40 10 14 2 255 0 0 44100",
            ),
            (
                "width=1280; interlace; depth=10;",
                "width=1280;interlace;depth=10",
            ),
        ];
        for (input, written) in cases {
            let fmtp = Fmtp::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(fmtp.to_string(), written, "{input:?}");
            assert_eq!(fmtp.to_text(), written, "{input:?}");
            assert_eq!(fmtp.text_len(), written.len(), "{input:?}");
            assert_eq!(
                Fmtp::parse(written).as_ref(),
                Ok(&fmtp),
                "{input:?} round trip"
            );
        }
    }

    #[test]
    fn rejects_malformed_text_with_offsets() {
        let cases = [
            ("a=1;;b=2", CodecError::EmptyFmtpParameter { offset: 4 }),
            (";a=1", CodecError::EmptyFmtpParameter { offset: 0 }),
            ("=5", CodecError::EmptyFmtpParameter { offset: 0 }),
            ("a=1; =5", CodecError::EmptyFmtpParameter { offset: 5 }),
            ("a b=1", CodecError::InvalidFmtpCharacter { offset: 1 }),
            ("a\u{7}b", CodecError::InvalidFmtpCharacter { offset: 1 }),
            ("a=1 2", CodecError::InvalidFmtpCharacter { offset: 3 }),
            ("a=\u{1}", CodecError::InvalidFmtpCharacter { offset: 2 }),
        ];
        for (input, expected) in cases {
            assert_eq!(Fmtp::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn bounds_hostile_input() {
        let long = "a".repeat(MAX_FMTP_LEN + 1);
        assert_eq!(
            Fmtp::parse(&long),
            Err(CodecError::FmtpTooLong {
                len: MAX_FMTP_LEN + 1
            })
        );
        let many = vec!["a=1"; MAX_FMTP_PARAMS + 1].join(";");
        assert_eq!(Fmtp::parse(&many), Err(CodecError::TooManyFmtpParameters));
        let exactly = vec!["a=1"; MAX_FMTP_PARAMS].join(";");
        assert_eq!(
            Fmtp::parse(&exactly).map(|f| f.params().len()),
            Ok(MAX_FMTP_PARAMS)
        );
    }

    #[test]
    fn get_set_remove_are_case_insensitive_and_keep_order() {
        let mut fmtp =
            Fmtp::parse("Profile-Level-Id=42e01f;x-unknown=7;packetization-mode=1").unwrap();
        assert_eq!(fmtp.get("profile-level-id"), Some("42e01f"));
        fmtp.set("PROFILE-LEVEL-ID", "42e034");
        fmtp.set("level-asymmetry-allowed", "1");
        assert_eq!(
            fmtp.to_string(),
            "Profile-Level-Id=42e034;x-unknown=7;packetization-mode=1;level-asymmetry-allowed=1"
        );
        assert!(fmtp.remove("x-UNKNOWN"));
        assert!(!fmtp.remove("x-unknown"));
        assert_eq!(fmtp.tokens().count(), 0);
        assert_eq!(
            Fmtp::parse("111/111").unwrap().tokens().collect::<Vec<_>>(),
            ["111/111"]
        );
    }

    #[test]
    fn ascii_token_check_is_the_char_rule() {
        // The char-by-char rule the ASCII fast path of `check_token` must agree with.
        fn reference(token: &str, allow_equals: bool, allow_spaces: bool) -> Option<usize> {
            let allowed_space = |c: char| allow_spaces && (c == ' ' || c == '\t');
            token
                .char_indices()
                .find(|&(_, c)| {
                    !allowed_space(c)
                        && (c.is_whitespace() || c.is_control() || (c == '=' && !allow_equals))
                })
                .map(|(at, _)| at)
        }
        for byte in 0..=0x7fu8 {
            let token = format!("ab{}c", char::from(byte));
            for (allow_equals, allow_spaces) in
                [(false, false), (false, true), (true, false), (true, true)]
            {
                let got = match check_token(&token, 10, allow_equals, allow_spaces) {
                    Ok(()) => None,
                    Err(CodecError::InvalidFmtpCharacter { offset }) => Some(offset - 10),
                    Err(other) => panic!("{other:?}"),
                };
                assert_eq!(
                    got,
                    reference(&token, allow_equals, allow_spaces),
                    "byte {byte:#x} equals {allow_equals} spaces {allow_spaces}"
                );
            }
        }
    }
}
