//! antiphon-codec (under construction).
