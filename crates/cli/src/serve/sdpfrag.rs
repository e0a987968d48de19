//! SDP fragments (`application/trickle-ice-sdpfrag`, RFC 8840 §9, as WHIP uses them, RFC 9725
//! §4.3): the ICE credentials and candidates a WHIP client trickles or restarts with, and the
//! fragment the server answers an ICE restart with.

use std::fmt::Write as _;

/// What a fragment says: the ICE credentials it names (session or media level), and per media
/// description its `a=mid`, index, candidates and whether it ends them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Fragment {
    /// `a=ice-ufrag`.
    pub(crate) ufrag: Option<String>,
    /// `a=ice-pwd`.
    pub(crate) pwd: Option<String>,
    /// The media descriptions, in order.
    pub(crate) media: Vec<FragmentMedia>,
}

/// One `m=` of a fragment.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FragmentMedia {
    /// `a=mid`.
    pub(crate) mid: Option<String>,
    /// `a=candidate` lines, without the `a=`.
    pub(crate) candidates: Vec<String>,
    /// `a=end-of-candidates`.
    pub(crate) end_of_candidates: bool,
}

/// Why a fragment was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FragmentError {
    /// 1-based line.
    pub(crate) line: usize,
    pub(crate) reason: &'static str,
}

impl std::fmt::Display for FragmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The most lines a fragment may have (a trickle carries a few candidates).
const MAX_LINES: usize = 1024;

impl Fragment {
    /// Parses a fragment: `a=` lines (those it does not use are skipped, as RFC 8840 allows
    /// other attributes) and `m=` lines. Lines end in CRLF or LF; a blank last line is fine.
    pub(crate) fn parse(text: &str) -> Result<Self, FragmentError> {
        let mut fragment = Self::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let fail = |reason| FragmentError {
                line: line_number,
                reason,
            };
            if line_number > MAX_LINES {
                return Err(fail("more lines than a fragment may have"));
            }
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let Some((kind, value)) = line.split_once('=') else {
                return Err(fail("not a <type>=<value> line"));
            };
            match kind {
                "m" => fragment.media.push(FragmentMedia::default()),
                "a" => fragment.attribute(value).map_err(fail)?,
                // Other line types carry nothing ICE needs.
                _ if kind.len() == 1 => {}
                _ => return Err(fail("a line type is one character")),
            }
        }
        Ok(fragment)
    }

    fn attribute(&mut self, value: &str) -> Result<(), &'static str> {
        let (name, argument) = value.split_once(':').unwrap_or((value, ""));
        match name {
            "ice-ufrag" if argument.is_empty() => Err("a=ice-ufrag without a value"),
            "ice-pwd" if argument.is_empty() => Err("a=ice-pwd without a value"),
            "ice-ufrag" => {
                self.ufrag = Some(argument.to_owned());
                Ok(())
            }
            "ice-pwd" => {
                self.pwd = Some(argument.to_owned());
                Ok(())
            }
            "mid" => {
                self.current()?.mid = Some(argument.to_owned());
                Ok(())
            }
            "candidate" => {
                self.current()?.candidates.push(value.to_owned());
                Ok(())
            }
            "end-of-candidates" => {
                // Session level ends every media description's candidates.
                match self.media.last_mut() {
                    Some(media) => media.end_of_candidates = true,
                    None => self.media.push(FragmentMedia {
                        end_of_candidates: true,
                        ..FragmentMedia::default()
                    }),
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn current(&mut self) -> Result<&mut FragmentMedia, &'static str> {
        self.media
            .last_mut()
            .ok_or("a media-level attribute before any m= line")
    }
}

/// `description` with its ICE credentials replaced by `ufrag`/`pwd` and its candidates (and
/// end-of-candidates) removed: the offer a WHIP ICE restart stands for (RFC 9725 §4.3.2: what
/// is not ICE stays as negotiated).
pub(crate) fn with_new_credentials(description: &str, ufrag: &str, pwd: &str) -> String {
    let mut out = String::with_capacity(description.len());
    for line in description.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("a=candidate:") || line == "a=end-of-candidates" {
            continue;
        }
        if line.starts_with("a=ice-ufrag:") {
            let _ = write!(out, "a=ice-ufrag:{ufrag}\r\n");
        } else if line.starts_with("a=ice-pwd:") {
            let _ = write!(out, "a=ice-pwd:{pwd}\r\n");
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out
}

/// The fragment answering an ICE restart: from `answer` (our new local description), the
/// first media description's `m=` and `a=mid` with the ICE credentials, candidates and
/// end-of-candidates of that description (with BUNDLE, the one transport's).
pub(crate) fn answer_fragment(answer: &str) -> String {
    let mut out = String::new();
    let mut in_first = false;
    for line in answer.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("m=") {
            if in_first {
                break;
            }
            in_first = true;
            out.push_str(line);
            out.push_str("\r\n");
            continue;
        }
        let ice = line.starts_with("a=ice-ufrag:")
            || line.starts_with("a=ice-pwd:")
            || line.starts_with("a=candidate:")
            || line == "a=end-of-candidates";
        if ice || (in_first && line.starts_with("a=mid:")) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRICKLE: &str = "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n\
        m=audio 9 RTP/AVP 0\r\na=mid:0\r\n\
        a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n\
        a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host\r\n\
        a=end-of-candidates\r\n";

    #[test]
    fn parses_rfc_8840s_example() {
        let fragment = Fragment::parse(TRICKLE).expect("parses");
        assert_eq!(fragment.ufrag.as_deref(), Some("EsAw"));
        assert_eq!(fragment.pwd.as_deref(), Some("P2uYro0UCOQ4zxjKXaWCBui1"));
        assert_eq!(fragment.media.len(), 1);
        let media = &fragment.media[0];
        assert_eq!(media.mid.as_deref(), Some("0"));
        assert_eq!(media.candidates.len(), 2);
        assert!(media.candidates[0].starts_with("candidate:1387637174 1 udp"));
        assert!(media.end_of_candidates);
    }

    #[test]
    fn refusals_name_the_line() {
        for (text, line, reason) in [
            (
                "a=ice-ufrag:x\r\nnonsense\r\n",
                2,
                "not a <type>=<value> line",
            ),
            (
                "a=candidate:1 1 udp 1 1.2.3.4 5 typ host\r\n",
                1,
                "a media-level attribute before any m= line",
            ),
            ("a=ice-pwd:\r\n", 1, "a=ice-pwd without a value"),
            ("xy=1\r\n", 1, "a line type is one character"),
        ] {
            assert_eq!(
                Fragment::parse(text),
                Err(FragmentError { line, reason }),
                "{text:?}"
            );
        }
        let long = "a=x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(
            Fragment::parse(&long).map_err(|e| e.line),
            Err(MAX_LINES + 1)
        );
    }

    #[test]
    fn session_level_end_of_candidates_and_unknown_lines() {
        let fragment =
            Fragment::parse("a=ice-options:trickle\na=group:BUNDLE 0\na=end-of-candidates\n")
                .expect("parses");
        assert_eq!(fragment.media.len(), 1);
        assert!(fragment.media[0].end_of_candidates);
        assert_eq!(fragment.ufrag, None);
    }

    #[test]
    fn a_restart_replaces_credentials_and_drops_candidates() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:old\r\na=ice-pwd:oldpwd\r\n\
            a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\na=mid:0\r\n";
        let restarted = with_new_credentials(offer, "new", "newpwd");
        assert_eq!(
            restarted,
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:new\r\na=ice-pwd:newpwd\r\na=mid:0\r\n"
        );
    }

    #[test]
    fn the_answer_fragment_is_the_first_sections_ice() {
        let answer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=group:BUNDLE 0 1\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n\
            a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\na=rtpmap:111 opus/48000/2\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ice-ufrag:u\r\n";
        assert_eq!(
            answer_fragment(answer),
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n\
             a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"
        );
        let parsed = Fragment::parse(&answer_fragment(answer)).expect("parses");
        assert_eq!(parsed.ufrag.as_deref(), Some("u"));
    }
}
