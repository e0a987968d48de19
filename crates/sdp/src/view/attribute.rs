//! One `a=` line, split into name and value, typed on demand.

use crate::attribute::Attribute;
use crate::attribute_parse::{AttributeContext, ParsedAttribute, parse_attribute, split_attribute};
use crate::error::{Level, ParseError, SdpError, Warning};
use crate::fields::Res;
use crate::scan::column;

/// An `a=` line borrowed from the text: its name, its value and where it is. The structural
/// pass checked the name (token characters, then `:` or the end of the line); the value is
/// typed only by [`parse`](Self::parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeView<'a> {
    /// Everything after `a=`.
    text: &'a str,
    name_len: usize,
    line: usize,
    /// What typing the value needs: the mode, the level, whether the section is RTP, limits.
    context: AttributeContext,
}

/// Columns in `text` are two characters (`a=`) right of the line's.
const PREFIX_COLUMNS: usize = 2;

impl<'a> AttributeView<'a> {
    /// Splits `text` (after `a=`) at line `line`; a bad name fails as the owned parser does.
    /// Also returns the name and value, so that a caller typing it at once does not split
    /// again.
    #[inline]
    pub(crate) fn split(
        text: &'a str,
        line: usize,
        context: AttributeContext,
    ) -> Res<'a, (Self, &'a str, Option<&'a str>)> {
        let (name, value) = split_attribute(text)?;
        let view = Self {
            text,
            name_len: name.len(),
            line,
            context,
        };
        Ok((view, name, value))
    }

    /// The attribute name (`rtpmap`, `mid`, `x-custom`, ...).
    pub fn name(&self) -> &'a str {
        self.text.get(..self.name_len).unwrap_or(self.text)
    }

    /// The text after `name:`, or `None` for a flag attribute (`a=rtcp-mux`).
    pub fn value(&self) -> Option<&'a str> {
        self.text.get(self.name_len + 1..)
    }

    /// Everything after `a=`, as written.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Line number (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Session or media level.
    pub fn level(&self) -> Level {
        self.context.level
    }

    /// Types the value: exactly what [`parse_with`](crate::parse_with) gives for this line
    /// with the same options, the [`Attribute`] and any warning about it (an unknown
    /// attribute, a tolerated deviation in lenient mode), or its error with line and column.
    pub fn parse(&self) -> Result<(Attribute, Option<Warning>), SdpError> {
        match self.parse_in_line() {
            Ok((attribute, warning)) => {
                let warning = warning.map(|(at, kind)| Warning {
                    line: self.line,
                    column: self.column(at),
                    kind,
                });
                Ok((attribute, warning))
            }
            Err(fail) => Err(SdpError::Parse(ParseError {
                line: self.line,
                column: self.column(fail.at),
                kind: fail.kind,
            })),
        }
    }

    /// [`parse`](Self::parse) with positions still as slices of the line.
    pub(crate) fn parse_in_line(&self) -> Res<'a, ParsedAttribute<'a>> {
        self.parse_split(self.name(), self.value())
    }

    /// Types the value of this attribute, whose `name` and `value` [`split`](Self::split)
    /// returned.
    #[inline]
    pub(crate) fn parse_split(
        &self,
        name: &'a str,
        value: Option<&'a str>,
    ) -> Res<'a, ParsedAttribute<'a>> {
        parse_attribute(self.text, name, value, self.context)
    }

    fn column(&self, at: &str) -> usize {
        column(self.text, at) + PREFIX_COLUMNS
    }
}
