//! Parse options: strict or lenient grammar, and limits against hostile input.

/// How closely the parser follows the RFC 8866 grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// The RFC 8866 grammar: fixed line order, mandatory `t=` and `c=`, no blank lines.
    #[default]
    Strict,
    /// What browsers accept: blank lines, missing `t=`/`c=`, out-of-order lines, empty `s=`,
    /// `a=rtpmap` without clock rate, `m=` without formats, runs of spaces between fields.
    /// Each tolerated deviation is reported as a [`Warning`](crate::Warning).
    Lenient,
}

/// Bounds on the input, checked before any allocation grows with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_input_bytes: usize,
    /// Longest accepted line, in bytes, without its line terminator.
    pub max_line_bytes: usize,
    /// Most `m=` sections.
    pub max_media_sections: usize,
    /// Most `a=` lines in one section (the session level counts as one section).
    pub max_attributes_per_section: usize,
    /// Largest channel count in `a=rtpmap` (Opus multistream tops out at 255).
    pub max_channels: u16,
}

impl Limits {
    /// Generous defaults for real browser SDP: 1 MiB, 64 KiB per line, 1024 m-sections,
    /// 4096 attributes per section, 255 channels.
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 1024 * 1024,
        max_line_bytes: 64 * 1024,
        max_media_sections: 1024,
        max_attributes_per_section: 4096,
        max_channels: 255,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Options for [`parse_with`](crate::parse_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Strict RFC grammar or browser leniency.
    pub mode: Mode,
    /// Bounds against hostile input.
    pub limits: Limits,
}

/// Builders: `ParseOptions::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl ParseOptions {
    /// The same, with [`mode`](Self::mode) set.
    #[must_use]
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

impl ParseOptions {
    /// Strict mode with default limits (the [`Default`]).
    pub fn strict() -> Self {
        Self {
            mode: Mode::Strict,
            limits: Limits::DEFAULT,
        }
    }

    /// Lenient mode with default limits.
    pub fn lenient() -> Self {
        Self {
            mode: Mode::Lenient,
            limits: Limits::DEFAULT,
        }
    }

    /// The same options with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub(crate) fn is_lenient(&self) -> bool {
        self.mode == Mode::Lenient
    }
}
