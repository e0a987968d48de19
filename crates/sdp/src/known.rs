//! Well-known SDP tokens as `&'static str`: payload types, codec names, feedback types,
//! header-extension URIs, source attributes. The parser keeps a token it finds here as a
//! borrowed `Cow` instead of allocating a `String` for it (about 170 of the 280 strings of a
//! Chromium offer), and so does whatever clones it (an answer built from the offer). Exact
//! matches only: a token spelled differently (`OPUS`) is kept as written, in a `String`.

use std::borrow::Cow;

/// `text` as a `Cow`: the `&'static str` `known` finds for it, else an owned copy.
pub(crate) fn token(text: &str, known: fn(&str) -> Option<&'static str>) -> Cow<'static, str> {
    match known(text) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(text.to_owned()),
    }
}

/// A lookup function over a fixed list of words (a `match`, which compiles to a comparison
/// of lengths and then of bytes).
macro_rules! words {
    ($(#[$doc:meta])* $name:ident: $($word:literal),* $(,)?) => {
        $(#[$doc])*
        pub(crate) fn $name(text: &str) -> Option<&'static str> {
            match text {
                $($word => Some($word),)*
                _ => None,
            }
        }
    };
}

words!(
    /// The words of `o=` and `c=` lines that browsers write the same: no user name, the
    /// network and address types, the addresses that say "none here".
    session_word: "-", "IN", "IP4", "IP6", "0.0.0.0", "127.0.0.1", "::",
);

/// A word of an `o=` or `c=` line (or `a=rtcp`'s address), borrowed if it is a
/// [`session_word`].
pub(crate) fn session_token(text: &str) -> Cow<'static, str> {
    token(text, session_word)
}

words!(
    /// Codec names (`a=rtpmap`) as browsers, gateways and Antiphon write them.
    encoding_name: "opus", "red", "ulpfec", "rtx", "flexfec-03", "VP8", "VP9", "H264", "H265",
    "AV1", "G722", "PCMU", "PCMA", "CN", "telephone-event", "ISAC", "ILBC", "iLBC", "G729",
    "L16", "multiopus",
);

words!(
    /// `a=rtcp-fb` feedback types and parameters.
    feedback: "nack", "pli", "fir", "ccm", "goog-remb", "transport-cc", "rrtr", "sli", "rpsi",
    "tmmbr", "tstr", "vbcm", "ack", "app", "trr-int",
);

words!(
    /// `a=extmap` URIs of the extensions browsers offer.
    extension_uri:
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:ietf:params:rtp-hdrext:csrc-audio-level",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:3gpp:video-orientation",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
    "http://www.webrtc.org/experiments/rtp-hdrext/color-space",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
);

words!(
    /// `a=ssrc` source attribute names.
    source_attribute: "cname", "msid", "mslabel", "label",
);

/// Payload types as written in `m=` lines, `"0"` to `"127"`.
const PAYLOAD_TYPES: [&str; 128] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64",
    "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80",
    "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96",
    "97", "98", "99", "100", "101", "102", "103", "104", "105", "106", "107", "108", "109", "110",
    "111", "112", "113", "114", "115", "116", "117", "118", "119", "120", "121", "122", "123",
    "124", "125", "126", "127",
];

/// The `m=` line format of payload type `pt`, borrowed for 0 to 127 (the RTP range).
pub fn payload_type_format(pt: u8) -> Cow<'static, str> {
    match PAYLOAD_TYPES.get(usize::from(pt)) {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(pt.to_string()),
    }
}

/// An `m=` line format: a payload type written without leading zeros, or the SCTP format.
pub(crate) fn format(text: &str) -> Option<&'static str> {
    if text == "webrtc-datachannel" {
        return Some("webrtc-datachannel");
    }
    let known = PAYLOAD_TYPES.get(usize::from(text.parse::<u8>().ok()?))?;
    (*known == text).then_some(*known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_payload_types_as_written() {
        for pt in 0..=127u8 {
            let text = pt.to_string();
            assert_eq!(PAYLOAD_TYPES[usize::from(pt)], text);
            assert_eq!(format(&text), Some(PAYLOAD_TYPES[usize::from(pt)]));
        }
        for other in ["007", "128", "+1", "", "x", "255"] {
            assert_eq!(format(other), None, "{other}");
        }
        assert_eq!(format("webrtc-datachannel"), Some("webrtc-datachannel"));
    }

    #[test]
    fn tokens_borrow_what_is_known_and_own_the_rest() {
        assert!(matches!(
            token("opus", encoding_name),
            Cow::Borrowed("opus")
        ));
        assert!(matches!(token("OPUS", encoding_name), Cow::Owned(ref s) if s == "OPUS"));
        assert!(matches!(token("nack", feedback), Cow::Borrowed(_)));
        assert!(matches!(token("cname", source_attribute), Cow::Borrowed(_)));
        assert!(matches!(
            token("urn:ietf:params:rtp-hdrext:sdes:mid", extension_uri),
            Cow::Borrowed(_)
        ));
    }
}
