//! antiphon-ice (under construction).
