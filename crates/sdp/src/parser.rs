//! The owned parser: the structural pass of [`scan`](crate::scan) with a sink that types
//! each attribute as its line comes (so the first error in line order wins) and builds the
//! owned [`SessionDescription`].

use crate::error::{SdpError, Warning, WarningKind};
use crate::fields::Res;
use crate::known;
use crate::lines::{self, MediaLine};
use crate::model::{MediaDescription, MediaKind, Origin, SessionDescription};
use crate::options::ParseOptions;
use crate::proto::Proto;
use crate::scan::{Sink, Value, scan};

/// A parsed description and the deviations the parser tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The description.
    pub description: SessionDescription,
    /// Unknown attributes and (lenient mode) tolerated deviations, in line order.
    pub warnings: Vec<Warning>,
}

/// Parses `input` in strict mode with default limits.
pub fn parse(input: &str) -> Result<Parsed, SdpError> {
    parse_with(input.as_bytes(), &ParseOptions::strict())
}

impl std::str::FromStr for SessionDescription {
    type Err = SdpError;

    /// Parses in lenient mode with default limits and drops the warnings; use
    /// [`parse_with`] to see them.
    fn from_str(text: &str) -> Result<Self, SdpError> {
        parse_with(text, &ParseOptions::lenient()).map(|parsed| parsed.description)
    }
}

/// Parses `input` with `options`.
///
/// `input` is bytes (`&[u8]`, `&str`, `Vec<u8>`, ...) so that invalid UTF-8 is reported as
/// [`ParseErrorKind::InvalidUtf8`](crate::ParseErrorKind::InvalidUtf8) at its line and column
/// rather than failing earlier.
pub fn parse_with(input: impl AsRef<[u8]>, options: &ParseOptions) -> Result<Parsed, SdpError> {
    let mut builder = Builder::new();
    let warnings = scan(input.as_ref(), options, &mut builder)?;
    Ok(Parsed {
        description: builder.finish(),
        warnings,
    })
}

/// Builds the owned model from the lines the structural pass accepts.
struct Builder {
    description: SessionDescription,
    /// The section being read; pushed to `description.media` when the next one starts.
    media: Option<MediaDescription>,
}

impl Builder {
    fn new() -> Self {
        // Every field is filled from the text: nothing allocated for a default to replace
        // (the origin's empty words are borrowed).
        let origin = Origin::new("", 0, 0, "", "", "");
        let description = SessionDescription::without_timing(origin, String::new());
        Self {
            description,
            media: None,
        }
    }

    fn finish(mut self) -> SessionDescription {
        if let Some(media) = self.media.take() {
            self.description.media.push(media);
        }
        self.description
    }
}

impl<'a> Sink<'a> for Builder {
    #[inline]
    fn take(&mut self, value: Value<'a>) -> Res<'a, Option<(&'a str, WarningKind)>> {
        let description = &mut self.description;
        match value {
            Value::Version(version) => description.version = version,
            Value::Origin(origin) => description.origin = origin.into(),
            Value::SessionName(name) => description.session_name = name.to_owned(),
            Value::Information(text) => match &mut self.media {
                Some(media) => media.title = Some(text.to_owned()),
                None => description.session_info = Some(text.to_owned()),
            },
            Value::Uri(uri) => description.uri = Some(uri.to_owned()),
            Value::Email(email) => description.emails.push(email.to_owned()),
            Value::Phone(phone) => description.phones.push(phone.to_owned()),
            Value::Connection(connection) => match &mut self.media {
                Some(media) => media.connections.push(connection.into()),
                None => description.connection = Some(connection.into()),
            },
            Value::Bandwidth(bandwidth) => match &mut self.media {
                Some(media) => media.bandwidths.push(bandwidth.into()),
                None => description.bandwidths.push(bandwidth.into()),
            },
            Value::Timing(timing) => description.times.push(timing),
            Value::Repeat(repeat) => {
                if let Some(timing) = description.times.last_mut() {
                    timing.repeats.push(repeat);
                }
            }
            Value::TimeZone(zones) => description.time_zones = Some(zones.to_owned()),
            Value::EncryptionKey(key) => match &mut self.media {
                Some(media) => media.encryption_key = Some(key.to_owned()),
                None => description.encryption_key = Some(key.to_owned()),
            },
            Value::Attribute(attribute, name, value) => {
                let (attribute, warning) = attribute.parse_split(name, value)?;
                match &mut self.media {
                    Some(media) => media.attributes.push(attribute),
                    None => description.attributes.push(attribute),
                }
                return Ok(warning);
            }
            Value::Media(media) => {
                if let Some(done) = self.media.replace(media_line(media)) {
                    description.media.push(done);
                }
            }
        }
        Ok(None)
    }
}

/// The owned section for an `m=` line (its other lines come later).
pub(crate) fn media_line(line: MediaLine<'_>) -> MediaDescription {
    let kind = MediaKind::from_token(line.kind);
    let formats = lines::formats(line.formats)
        .map(|format| known::token(format, known::format))
        .collect();
    let mut media =
        MediaDescription::with_formats(kind, line.port, Proto::from(line.proto), formats);
    media.port_count = line.port_count;
    media
}
