//! [`parse_view`]: the structural pass with a sink that keeps lines as they are, and the way
//! back to the owned model.

use super::{AttributeView, MediaView, ParsedView, SdpView};
use crate::attribute::Attribute;
use crate::error::{SdpError, Warning, WarningKind};
use crate::fields::Res;
use crate::model::SessionDescription;
use crate::options::ParseOptions;
use crate::parser::{Parsed, media_line};
use crate::scan::{Sink, Value, scan};

/// Parses `input` with `options` into a view that borrows from it.
///
/// Structure is checked exactly as [`parse_with`](crate::parse_with) checks it, with the same
/// errors (line, column, kind) and warnings; attribute values are not typed (see the
/// [module docs](crate::view)). `input` is bytes or text (`&str`, `&[u8]`, `&String`, ...), so
/// invalid UTF-8 is reported at its line and column.
pub fn parse_view<'a, I>(input: &'a I, options: &ParseOptions) -> Result<ParsedView<'a>, SdpError>
where
    I: AsRef<[u8]> + ?Sized,
{
    let input = input.as_ref();
    let mut builder = ViewBuilder::new(input);
    let warnings = scan(input, options, &mut builder)?;
    Ok(ParsedView {
        description: builder.finish(),
        warnings,
    })
}

/// Sizes the attribute buffer: a little below the average line length of browser offers.
const BYTES_PER_LINE_ESTIMATE: usize = 20;

/// Collects the lines the structural pass accepts.
struct ViewBuilder<'a> {
    description: SdpView<'a>,
    /// The section being read; pushed to `description.media` when the next one starts.
    media: Option<MediaView<'a>>,
    /// The `a=` lines of the current section, copied (at their exact size) into it when it
    /// ends: one buffer sized once instead of each section's vector growing line by line.
    attributes: Vec<AttributeView<'a>>,
}

impl<'a> ViewBuilder<'a> {
    fn new(input: &[u8]) -> Self {
        // Browser SDP lines average 25 to 30 bytes; counting the lines instead would cost a
        // fifth of the parse. A longer section just grows the buffer.
        let lines = input.len() / BYTES_PER_LINE_ESTIMATE + 4;
        Self {
            description: SdpView {
                version: 0,
                origin: Default::default(),
                session_name: "",
                session_info: None,
                uri: None,
                emails: Vec::new(),
                phones: Vec::new(),
                connection: None,
                bandwidths: Vec::new(),
                times: Vec::new(),
                time_zones: None,
                encryption_key: None,
                attributes: Vec::new(),
                media: Vec::new(),
            },
            media: None,
            attributes: Vec::with_capacity(lines),
        }
    }

    /// Ends the current section (or the session level), handing it its attributes.
    fn end_section(&mut self) {
        let attributes = self.attributes.as_slice().to_vec();
        self.attributes.clear();
        match self.media.take() {
            Some(mut media) => {
                media.attributes = attributes;
                self.description.media.push(media);
            }
            None => self.description.attributes = attributes,
        }
    }

    fn finish(mut self) -> SdpView<'a> {
        self.end_section();
        self.description
    }
}

impl<'a> Sink<'a> for ViewBuilder<'a> {
    #[inline]
    fn take(&mut self, value: Value<'a>) -> Res<'a, Option<(&'a str, WarningKind)>> {
        let description = &mut self.description;
        match value {
            Value::Version(version) => description.version = version,
            Value::Origin(origin) => description.origin = origin,
            Value::SessionName(name) => description.session_name = name,
            Value::Information(text) => match &mut self.media {
                Some(media) => media.title = Some(text),
                None => description.session_info = Some(text),
            },
            Value::Uri(uri) => description.uri = Some(uri),
            Value::Email(email) => description.emails.push(email),
            Value::Phone(phone) => description.phones.push(phone),
            Value::Connection(connection) => match &mut self.media {
                Some(media) => media.connections.push(connection),
                None => description.connection = Some(connection),
            },
            Value::Bandwidth(bandwidth) => match &mut self.media {
                Some(media) => media.bandwidths.push(bandwidth),
                None => description.bandwidths.push(bandwidth),
            },
            Value::Timing(timing) => description.times.push(timing),
            Value::Repeat(repeat) => {
                if let Some(timing) = description.times.last_mut() {
                    timing.repeats.push(repeat);
                }
            }
            Value::TimeZone(zones) => description.time_zones = Some(zones),
            Value::EncryptionKey(key) => match &mut self.media {
                Some(media) => media.encryption_key = Some(key),
                None => description.encryption_key = Some(key),
            },
            Value::Attribute(attribute, _, _) => self.attributes.push(attribute),
            Value::Media(media) => {
                self.end_section();
                self.media = Some(MediaView::new(media));
            }
        }
        Ok(None)
    }
}

/// Types `attributes` in order, adding their warnings to `warnings`.
fn typed(
    attributes: &[AttributeView<'_>],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Attribute>, SdpError> {
    let mut typed = Vec::with_capacity(attributes.len());
    for attribute in attributes {
        let (attribute, warning) = attribute.parse()?;
        typed.push(attribute);
        warnings.extend(warning);
    }
    Ok(typed)
}

impl ParsedView<'_> {
    /// Types every attribute and copies the rest: the owned [`Parsed`] that
    /// [`parse_with`](crate::parse_with) returns for the same input and options, or its error
    /// (the first malformed attribute value, since the structure was already checked).
    pub fn to_parsed(&self) -> Result<Parsed, SdpError> {
        let view = &self.description;
        let mut warnings = self.warnings.clone();
        let owned = |text: &str| text.to_owned();
        let session_attributes = typed(&view.attributes, &mut warnings)?;
        let mut media = Vec::with_capacity(view.media.len());
        for section in &view.media {
            let mut owned_section = media_line(section.media_line());
            owned_section.title = section.title.map(owned);
            owned_section.connections = section.connections.iter().map(|&c| c.into()).collect();
            owned_section.bandwidths = section.bandwidths.iter().map(|&b| b.into()).collect();
            owned_section.encryption_key = section.encryption_key.map(owned);
            owned_section.attributes = typed(&section.attributes, &mut warnings)?;
            media.push(owned_section);
        }
        // Within a line the structural warnings come first, as the owned parser reports them.
        warnings.sort_by_key(|w| w.line);
        Ok(Parsed {
            description: SessionDescription {
                version: view.version,
                origin: view.origin.into(),
                session_name: owned(view.session_name),
                session_info: view.session_info.map(owned),
                uri: view.uri.map(owned),
                emails: view.emails.iter().copied().map(owned).collect(),
                phones: view.phones.iter().copied().map(owned).collect(),
                connection: view.connection.map(Into::into),
                bandwidths: view.bandwidths.iter().map(|&b| b.into()).collect(),
                times: view.times.clone(),
                time_zones: view.time_zones.map(owned),
                encryption_key: view.encryption_key.map(owned),
                attributes: session_attributes,
                media,
            },
            warnings,
        })
    }
}

impl TryFrom<&ParsedView<'_>> for Parsed {
    type Error = SdpError;

    /// [`ParsedView::to_parsed`].
    fn try_from(view: &ParsedView<'_>) -> Result<Self, SdpError> {
        view.to_parsed()
    }
}
