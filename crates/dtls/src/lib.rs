//! antiphon-dtls (under construction).
