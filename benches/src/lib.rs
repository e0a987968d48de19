//! Shared helpers for the criterion benches: locating the shared corpus, building the offers
//! the comparison benches feed to Antiphon and to peer libraries, the fixed inputs the
//! answer benches give the negotiator, and the RTP packets of the media benches.

use std::path::PathBuf;

mod negotiation;

pub use negotiation::{FixedEntropy, bench_transport, placeholder_fingerprint};

/// An RTP packet of the media benches: version 2, payload type 96, sequence number `seq`
/// (timestamp `seq * 3000`), SSRC 0x12345678, then `payload` bytes of 0xab.
pub fn rtp_packet(seq: u16, payload: usize) -> Vec<u8> {
    let mut packet = vec![0x80, 96];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    packet.resize(12 + payload, 0xab);
    packet
}

/// The offers the instruction-count examples take by name: `chromium`, `firefox`, `data-only`,
/// `64` (32 audio + 32 video sections) and `candidates-N` (the data-only offer with `N` host
/// candidates, [`offer_with_candidates`]).
///
/// # Panics
///
/// On any other name.
pub fn offer_by_name(name: &str) -> String {
    match name {
        "chromium" => chromium_offer(),
        "firefox" => firefox_offer(),
        "data-only" => data_only_offer(),
        "64" => many_sections_offer(32, 32),
        other => match other
            .strip_prefix("candidates-")
            .and_then(|n| n.parse().ok())
        {
            Some(count) => offer_with_candidates(count),
            None => {
                panic!("unknown offer {other}: chromium, firefox, data-only, 64 or candidates-N")
            }
        },
    }
}

/// The directory holding the shared test corpus (`../shared/corpus` next to the workspace).
///
/// `ANTIPHON_CORPUS` overrides it.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ANTIPHON_CORPUS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// A valid corpus SDP file's text (`sdp/valid/<name>`).
///
/// # Panics
///
/// If the file cannot be read: a bench without its input must fail, not skip.
pub fn corpus_sdp(name: &str) -> String {
    let path = corpus_dir().join("sdp/valid").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The real Chromium 156 offer bundled with the CLI (audio, video and a data channel; BUNDLE
/// `0 1 2`, host candidates in every section), CRLF line ends.
///
/// # Panics
///
/// If the bundled browser JSON is missing or has no `"sdp"` string.
pub fn chromium_offer() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/cli/offers/chromium-audio-video-data.json"
    );
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
    match value.get("sdp").and_then(serde_json::Value::as_str) {
        Some(sdp) => sdp.to_owned(),
        None => panic!("{path}: no \"sdp\" string"),
    }
}

/// The Firefox video offer from the corpus (`mozilla-test-firefox-video-offer.sdp`).
pub fn firefox_offer() -> String {
    corpus_sdp("mozilla-test-firefox-video-offer.sdp")
}

/// An SDP split into its session part and its media sections (each starting at `m=`).
fn split_sections(sdp: &str) -> (String, Vec<String>) {
    let mut session = String::new();
    let mut sections: Vec<String> = Vec::new();
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            sections.push(String::new());
        }
        match sections.last_mut() {
            Some(section) => section.push_str(line),
            None => session.push_str(line),
        }
    }
    (session, sections)
}

/// The session part of `sdp` with its `a=group:BUNDLE` line naming `mids`.
fn session_with_bundle(session: &str, mids: &[String]) -> String {
    session
        .split_inclusive('\n')
        .map(|line| {
            if line.starts_with("a=group:BUNDLE") {
                format!("a=group:BUNDLE {}\r\n", mids.join(" "))
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The media section of `sections` whose `m=` line starts with `prefix` (`"m=audio"`, ...).
fn section<'a>(sections: &'a [String], prefix: &str) -> &'a str {
    match sections.iter().find(|s| s.starts_with(prefix)) {
        Some(section) => section,
        None => panic!("the Chromium offer has no {prefix} section"),
    }
}

/// A data-channel-only offer as Chromium writes it: the bundled Chromium offer's session lines
/// and its `m=application` section alone (`a=mid:2`, BUNDLE `2`).
pub fn data_only_offer() -> String {
    let (session, sections) = split_sections(&chromium_offer());
    let data = section(&sections, "m=application");
    let mut out = session_with_bundle(&session, &["2".to_owned()]);
    out.push_str(data);
    out
}

/// The data-only offer with its candidates replaced by `count` IPv4 UDP host candidates
/// (distinct foundations, addresses and ports), for measuring how answering grows with the
/// number of remote candidates.
pub fn offer_with_candidates(count: usize) -> String {
    let mut out = String::new();
    let mut written = false;
    for line in data_only_offer().split_inclusive('\n') {
        if !line.starts_with("a=candidate:") {
            out.push_str(line);
            continue;
        }
        if written {
            continue;
        }
        written = true;
        for i in 0..count {
            // Priorities decrease with `i`; addresses and ports stay distinct and valid.
            let priority = 2_122_194_687u32 - u32::try_from(i).unwrap_or(0);
            out.push_str(&format!(
                "a=candidate:{} 1 udp {priority} 10.{}.{}.{} {} typ host generation 0\r\n",
                1000 + i,
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                (i & 0xff).max(1),
                10_000 + i % 50_000,
            ));
        }
    }
    out
}

/// A large offer: `audio` audio sections then `video` video sections in one BUNDLE group, each a
/// copy of the Chromium offer's section of that kind (all its codecs, rtcp-fb, extmaps and
/// candidates) with its own `a=mid`, track id and SSRCs, as Chromium writes a session with many
/// tracks.
pub fn many_sections_offer(audio: usize, video: usize) -> String {
    let (session, sections) = split_sections(&chromium_offer());
    let templates = [
        (section(&sections, "m=audio"), audio),
        (section(&sections, "m=video"), video),
    ];
    let mut mids = Vec::new();
    let mut body = String::new();
    for (template, count) in templates {
        for _ in 0..count {
            let index = mids.len();
            let mid = index.to_string();
            body.push_str(&renumber_section(template, &mid, index));
            mids.push(mid);
        }
    }
    let mut out = session_with_bundle(&session, &mids);
    out.push_str(&body);
    out
}

/// `template` with `a=mid:` set to `mid`, and track ids and SSRCs made unique by `index`.
fn renumber_section(template: &str, mid: &str, index: usize) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    for line in template.split_inclusive('\n') {
        if line.starts_with("a=mid:") {
            out.push_str(&format!("a=mid:{mid}\r\n"));
        } else if let Some(rest) = line.strip_prefix("a=ssrc-group:FID ") {
            let ssrcs: Vec<String> = rest
                .split_whitespace()
                .map(|s| renumber_ssrc(s, index))
                .collect();
            out.push_str(&format!("a=ssrc-group:FID {}\r\n", ssrcs.join(" ")));
        } else if let Some(rest) = line.strip_prefix("a=ssrc:") {
            let (ssrc, value) = rest.split_once(' ').unwrap_or((rest, ""));
            let value = renumber_track(value.trim_end(), index);
            out.push_str(&format!(
                "a=ssrc:{} {value}\r\n",
                renumber_ssrc(ssrc, index)
            ));
        } else if let Some(rest) = line.strip_prefix("a=msid:") {
            out.push_str(&format!(
                "a=msid:{}\r\n",
                renumber_track(rest.trim_end(), index)
            ));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// An SSRC made distinct per section (still a 32-bit value).
fn renumber_ssrc(ssrc: &str, index: usize) -> String {
    let value: u32 = ssrc.trim().parse().unwrap_or(1);
    // Truncation is intended: distinct small offsets per section, wrapping in 32 bits.
    value.wrapping_add(index as u32 * 7919).to_string()
}

/// `msid` values `stream track` (or `msid:stream track`): the track id gets a per-section suffix.
fn renumber_track(value: &str, index: usize) -> String {
    match value.rsplit_once(' ') {
        Some((head, track)) => format!("{head} {track}-{index}"),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_only_offer_has_one_application_section() {
        let offer = data_only_offer();
        assert_eq!(offer.matches("\nm=").count(), 1);
        assert!(offer.contains("m=application "));
        assert!(offer.contains("a=group:BUNDLE 2\r\n"));
    }

    #[test]
    fn many_sections_offer_bundles_every_mid_with_distinct_ssrcs() {
        let offer = many_sections_offer(32, 32);
        assert_eq!(offer.matches("\nm=audio ").count(), 32);
        assert_eq!(offer.matches("\nm=video ").count(), 32);
        let bundle: String = (0..64).map(|i| format!(" {i}")).collect();
        assert!(offer.contains(&format!("a=group:BUNDLE{bundle}\r\n")));
        let mut ssrcs: Vec<&str> = offer
            .lines()
            .filter_map(|l| l.strip_prefix("a=ssrc:"))
            .filter(|l| l.contains(" cname:"))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let total = ssrcs.len();
        ssrcs.sort_unstable();
        ssrcs.dedup();
        assert_eq!(ssrcs.len(), total, "SSRCs repeat across sections");
        assert_eq!(total, 32 + 2 * 32);
    }

    #[test]
    fn offer_with_candidates_has_that_many() {
        for count in [0, 1, 300] {
            let offer = offer_with_candidates(count);
            assert_eq!(offer.matches("\na=candidate:").count(), count);
            antiphon_sdp::parse(&offer).unwrap_or_else(|e| panic!("{e}\n{offer}"));
        }
    }

    #[test]
    fn many_sections_offer_parses_strictly() {
        for offer in [many_sections_offer(2, 2), data_only_offer()] {
            let parsed = antiphon_sdp::parse(&offer)
                .unwrap_or_else(|e| panic!("{e}\n{offer}"))
                .description;
            parsed.validate().unwrap_or_else(|e| panic!("{e}\n{offer}"));
        }
    }
}
