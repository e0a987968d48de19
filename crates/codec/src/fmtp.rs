//! Format parameters (the value of an SDP `a=fmtp:<pt> <value>` line, or W3C `sdpFmtpLine`) as an
//! ordered list, parsed from and written back to `name=value;name=value` text.

use std::fmt;
use std::str::FromStr;

use crate::CodecError;

/// Longest fmtp text [`Fmtp::parse`] accepts, in bytes. Real-world values are well under 1 KiB.
pub const MAX_FMTP_LEN: usize = 4096;

/// Most parameters [`Fmtp::parse`] accepts in one fmtp text.
pub const MAX_FMTP_PARAMS: usize = 64;

/// One fmtp parameter, owned: `name=value`, or a bare token such as red's `111/111` or
/// telephone-event's `0-15` (then `value` is `None` and `name` holds the token). What
/// [`Fmtp::push`] and `collect()` take.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FmtpParam {
    /// Parameter name (or the whole bare token).
    pub name: String,
    /// Parameter value; `None` for a bare token.
    pub value: Option<String>,
}

impl fmt::Display for FmtpParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.value {
            Some(value) => write!(f, "={value}"),
            None => Ok(()),
        }
    }
}

/// One parameter of an [`Fmtp`], borrowed from it (what [`Fmtp::params`] yields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FmtpParamRef<'a> {
    /// Parameter name (or the whole bare token).
    pub name: &'a str,
    /// Parameter value; `None` for a bare token.
    pub value: Option<&'a str>,
}

impl FmtpParamRef<'_> {
    /// The owned form.
    pub fn to_param(self) -> FmtpParam {
        FmtpParam {
            name: self.name.to_owned(),
            value: self.value.map(str::to_owned),
        }
    }
}

/// Where one parameter's name and value are in [`Fmtp`]'s text (byte ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Span {
    name: (usize, usize),
    value: Option<(usize, usize)>,
}

/// Ordered format parameters. Order and unknown parameters survive parse and write, so a value
/// written back is the value read (modulo whitespace around `;` and `=`).
///
/// Names are matched ASCII-case-insensitively, as RFC 6184 and friends require.
///
/// The parameters are kept as their written text (`name=value;name=value`) plus the position
/// of each name and value in it: parsing, copying and writing an fmtp cost one or two
/// allocations, not two per parameter.
///
/// ```
/// use antiphon_codec::Fmtp;
/// let fmtp: Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".parse()?;
/// assert_eq!(fmtp.get("Profile-Level-Id"), Some("42e01f"));
/// assert_eq!(fmtp.to_string(), "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
/// # Ok::<(), antiphon_codec::CodecError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Fmtp {
    /// The parameters joined with `;`, each `name=value` or a bare token: the `Display` text.
    text: String,
    /// One entry per parameter, in order. Two fmtps with equal parameter lists have equal
    /// text and spans, and the other way round, so the derived equality is parameter-wise.
    spans: Vec<Span>,
}

impl fmt::Debug for Fmtp {
    /// As a list of parameters: `Fmtp { params: [FmtpParam { .. }, ..] }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<FmtpParam> = self.params().map(FmtpParamRef::to_param).collect();
        f.debug_struct("Fmtp").field("params", &params).finish()
    }
}

impl Fmtp {
    /// No parameters.
    pub const fn new() -> Self {
        Self {
            text: String::new(),
            spans: Vec::new(),
        }
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
            return Ok(Self::new());
        }
        let segment_count = text.bytes().filter(|&b| b == b';').count() + 1;
        let mut fmtp = Self {
            text: String::with_capacity(text.len()),
            spans: Vec::with_capacity(segment_count.min(MAX_FMTP_PARAMS)),
        };
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
            if fmtp.spans.len() == MAX_FMTP_PARAMS {
                return Err(CodecError::TooManyFmtpParameters);
            }
            let (name, value) = parse_param(segment, segment_offset)?;
            fmtp.append(name, value);
        }
        Ok(fmtp)
    }

    /// The parameters in order.
    pub fn params(&self) -> impl ExactSizeIterator<Item = FmtpParamRef<'_>> + '_ {
        self.spans.iter().map(|span| FmtpParamRef {
            name: self.slice(span.name),
            value: span.value.map(|range| self.slice(range)),
        })
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The value of the first `name=value` parameter called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        let text = self.text.as_bytes();
        self.spans.iter().find_map(|span| {
            let value = span.value?;
            let (start, end) = span.name;
            text.get(start..end)?
                .eq_ignore_ascii_case(name.as_bytes())
                .then(|| self.slice(value))
        })
    }

    /// The bare tokens (parameters without `=`), in order, e.g. red's `111/111`.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.params().filter(|p| p.value.is_none()).map(|p| p.name)
    }

    /// Sets `name=value`: replaces the first parameter of that name in place, or appends.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        let found = self.spans.iter().position(|span| {
            span.value.is_some() && self.slice(span.name).eq_ignore_ascii_case(name)
        });
        let Some(index) = found else {
            self.append(name, Some(&value));
            return;
        };
        let Some(Some((start, end))) = self.spans.get(index).map(|span| span.value) else {
            return;
        };
        self.text.replace_range(start..end, &value);
        let new_end = start + value.len();
        if let Some(span) = self.spans.get_mut(index) {
            span.value = Some((start, new_end));
        }
        // Shift everything after the replaced value by the change in length.
        let shift = |(a, b): (usize, usize)| (a - end + new_end, b - end + new_end);
        for span in self.spans.iter_mut().skip(index + 1) {
            span.name = shift(span.name);
            span.value = span.value.map(shift);
        }
    }

    /// Appends a parameter as given (no de-duplication).
    pub fn push(&mut self, param: FmtpParam) {
        self.append(&param.name, param.value.as_deref());
    }

    /// Removes every `name=value` parameter called `name`; returns whether any was removed.
    pub fn remove(&mut self, name: &str) -> bool {
        let kept: Self = self
            .params()
            .filter(|p| !(p.value.is_some() && p.name.eq_ignore_ascii_case(name)))
            .map(FmtpParamRef::to_param)
            .collect();
        let removed = kept.spans.len() != self.spans.len();
        *self = kept;
        removed
    }

    /// Builder form of [`Fmtp::set`].
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// The `name=value;...` text (what `to_string()` returns), without copying.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The length of the text [`Fmtp::write_to`] writes.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Appends the `name=value;...` text (what `to_string()` returns) to `out`.
    pub fn write_to(&self, out: &mut String) {
        out.push_str(&self.text);
    }

    /// The `name=value;...` text in an exactly sized `String` (same as `to_string()`).
    pub fn to_text(&self) -> String {
        self.text.clone()
    }

    /// The `name=value;...` text (what `to_string()` returns), consuming the fmtp.
    pub fn into_text(self) -> String {
        self.text
    }

    /// Appends `name` or `name=value` to the text and records where they are.
    pub(crate) fn append(&mut self, name: &str, value: Option<&str>) {
        if !self.spans.is_empty() {
            self.text.push(';');
        }
        let name_start = self.text.len();
        self.text.push_str(name);
        let name_range = (name_start, self.text.len());
        let value_range = value.map(|value| {
            self.text.push('=');
            let start = self.text.len();
            self.text.push_str(value);
            (start, self.text.len())
        });
        self.spans.push(Span {
            name: name_range,
            value: value_range,
        });
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }
}

/// One `;`-separated segment: its trimmed name (or bare token) and value, checked.
fn parse_param(segment: &str, segment_offset: usize) -> Result<(&str, Option<&str>), CodecError> {
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
            Some(value)
        }
        None => None,
    };
    Ok((name, value))
}

fn check_token(
    token: &str,
    offset: usize,
    allow_equals: bool,
    allow_spaces: bool,
) -> Result<(), CodecError> {
    let is_allowed_space = |c: char| allow_spaces && (c == ' ' || c == '\t');
    if token.is_ascii() {
        // The same rule on bytes: ASCII whitespace (tab, LF, VT, FF, CR, space) and control
        // characters (below 0x20, DEL) are exactly the bytes up to 0x20 and 0x7f.
        let bad = token.bytes().position(|b| {
            (b <= b' ' || b == 0x7f || (b == b'=' && !allow_equals))
                && !(allow_spaces && (b == b' ' || b == b'\t'))
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

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromIterator<FmtpParam> for Fmtp {
    fn from_iter<I: IntoIterator<Item = FmtpParam>>(iter: I) -> Self {
        let mut fmtp = Self::new();
        for param in iter {
            fmtp.push(param);
        }
        fmtp
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
            assert_eq!(fmtp.clone().into_text(), written, "{input:?}");
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

    #[test]
    fn set_push_and_remove_keep_every_parameter_readable() {
        let mut fmtp = Fmtp::parse("a=1; b=22 ;token;c=3").unwrap();
        fmtp.set("B", "4444");
        assert_eq!(fmtp.to_string(), "a=1;b=4444;token;c=3");
        assert_eq!(fmtp.get("c"), Some("3"));
        assert_eq!(fmtp.tokens().collect::<Vec<_>>(), ["token"]);
        fmtp.set("a", "");
        assert_eq!((fmtp.get("a"), fmtp.get("b")), (Some(""), Some("4444")));
        fmtp.push(FmtpParam {
            name: "d".into(),
            value: Some("x=y".into()),
        });
        assert_eq!(fmtp.as_str(), "a=;b=4444;token;c=3;d=x=y");
        assert_eq!(fmtp, "a=;b=4444;token;c=3;d=x=y".parse().unwrap());
        let rebuilt: Fmtp = fmtp.params().map(FmtpParamRef::to_param).collect();
        assert_eq!(rebuilt, fmtp);
        assert!(fmtp.remove("b"));
        assert_eq!(fmtp.as_str(), "a=;token;c=3;d=x=y");
        assert_eq!(fmtp.get("d"), Some("x=y"));
        assert_eq!(
            format!("{:?}", Fmtp::parse("x=1;t").unwrap()),
            "Fmtp { params: [FmtpParam { name: \"x\", value: Some(\"1\") }, \
             FmtpParam { name: \"t\", value: None }] }"
        );
    }
}
