//! antiphon-sdp (under construction).
