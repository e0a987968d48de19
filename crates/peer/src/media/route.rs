//! Which m= section an incoming RTP packet belongs to (RFC 8843 §9.2), as a pure table built
//! from the remote description: by the MID header extension when the packet carries one, by
//! the SSRC once it is known (signaled with `a=ssrc` or learned from an earlier packet), and
//! for the first packets of an unsignaled stream by a payload type that only one section uses.
//! A simulcast layer's rid (RFC 8852) is learned the same way: from the RID extension of the
//! first packets (senders stop sending it once they see our reports), then by SSRC.

use std::collections::HashMap;

use antiphon_sdp::Attribute;
use antiphon_sdp::SessionDescription;

use super::rtp::RtpHeader;

/// The MID header extension (RFC 8843 §15.2).
pub const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// The RID header extension (RFC 8852 §3.3).
pub const RID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// The repaired RID header extension (RFC 8852 §3.4), on retransmissions.
pub const REPAIRED_RID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";

/// The most SSRCs learned from packets; past it, unsignaled streams are not routed (a peer
/// inventing SSRCs cannot grow the table without bound).
pub const MAX_LEARNED_SSRCS: usize = 256;

/// Where a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// The mid of its m= section.
    pub mid: &'a str,
    /// A retransmission (RTX payload type, or the repair SSRC of an `a=ssrc-group:FID`).
    pub repair: bool,
    /// The simulcast layer's rid, when the stream named one.
    pub rid: Option<&'a str>,
    /// The payload type's encoding name and clock rate (`a=rtpmap`), when the section maps it.
    pub codec: Option<(&'a str, u32)>,
}

#[derive(Debug, Clone, Default)]
struct Section {
    mid: String,
    payload_types: Vec<u8>,
    repair_payload_types: Vec<u8>,
    /// Payload type -> encoding name and clock rate.
    codecs: HashMap<u8, (String, u32)>,
}

/// The routing table of one transport's RTP sections (see the [module](self) documentation).
#[derive(Debug, Clone, Default)]
pub struct MediaRouter {
    sections: Vec<Section>,
    /// The MID extension's ids (one in a BUNDLE group, RFC 8843 §9.1; any section may map it).
    mid_extensions: Vec<u8>,
    /// The RID extension's ids.
    rid_extensions: Vec<u8>,
    /// SSRC -> rid, as the RID extension named it.
    rids: HashMap<u32, String>,
    /// SSRC -> (section, repair).
    ssrcs: HashMap<u32, (usize, bool)>,
    learned: usize,
    unrouted: u64,
}

impl MediaRouter {
    /// The table for the RTP sections of `remote` whose mids are in `mids` (one transport's),
    /// or of every section when `mids` is `None`; rejected sections and those without a mid
    /// are left out.
    pub fn new(remote: &SessionDescription, mids: Option<&[String]>) -> Self {
        let mut router = Self::default();
        for media in &remote.media {
            let Some(mid) = media.mid() else { continue };
            if media.is_rejected()
                || !media.proto.is_rtp()
                || mids.is_some_and(|mids| !mids.iter().any(|m| m == mid))
            {
                continue;
            }
            let index = router.sections.len();
            let payload_types: Vec<u8> = media
                .formats
                .iter()
                .filter_map(|f| f.parse().ok())
                .collect();
            let repair_payload_types = media
                .rtpmaps()
                .filter(|map| map.encoding.eq_ignore_ascii_case("rtx"))
                .map(|map| map.payload_type)
                .collect();
            for map in media.extmaps() {
                let ids = match &*map.uri {
                    MID_URI => &mut router.mid_extensions,
                    RID_URI => &mut router.rid_extensions,
                    _ => continue,
                };
                if let Ok(id) = u8::try_from(map.id)
                    && !ids.contains(&id)
                {
                    ids.push(id);
                }
            }
            for attribute in &media.attributes {
                match attribute {
                    Attribute::Ssrc(ssrc) => {
                        router.ssrcs.entry(ssrc.id).or_insert((index, false));
                    }
                    Attribute::SsrcGroup(group) if group.semantics == "FID" => {
                        for repair in group.ssrcs.iter().skip(1) {
                            router.ssrcs.insert(*repair, (index, true));
                        }
                    }
                    _ => {}
                }
            }
            let codecs = media
                .rtpmaps()
                .map(|map| (map.payload_type, (map.encoding.to_string(), map.clock_rate)))
                .collect();
            router.sections.push(Section {
                codecs,
                mid: mid.to_owned(),
                payload_types,
                repair_payload_types,
            });
        }
        router
    }

    /// The section `header`'s packet belongs to, learning its SSRC when the MID extension or
    /// a payload type told; `None` (counted in [`unrouted`](Self::unrouted)) when nothing says.
    pub fn route(&mut self, header: &RtpHeader<'_>) -> Option<Route<'_>> {
        let by_mid = self
            .mid_extensions
            .iter()
            .find_map(|&id| header.text_extension(id))
            .and_then(|mid| self.sections.iter().position(|s| s.mid == mid));
        let known = self.ssrcs.get(&header.ssrc).copied();
        let index = match (by_mid, known) {
            (Some(index), Some((known, _))) if known == index => Some(index),
            (Some(index), _) => {
                self.learn(header.ssrc, index);
                Some(index)
            }
            (None, Some((index, _))) => Some(index),
            (None, None) => {
                let mut owners = self
                    .sections
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.payload_types.contains(&header.payload_type));
                match (owners.next(), owners.next()) {
                    (Some((index, _)), None) => {
                        self.learn(header.ssrc, index);
                        Some(index)
                    }
                    _ => None,
                }
            }
        };
        let Some(index) = index else {
            self.unrouted += 1;
            return None;
        };
        if let Some(rid) = self
            .rid_extensions
            .iter()
            .find_map(|&id| header.text_extension(id))
            && self.rids.get(&header.ssrc).is_none_or(|known| known != rid)
            && (self.rids.contains_key(&header.ssrc) || self.rids.len() < MAX_LEARNED_SSRCS)
        {
            self.rids.insert(header.ssrc, rid.to_owned());
        }
        let section = &self.sections[index];
        let repair = section.repair_payload_types.contains(&header.payload_type)
            || self
                .ssrcs
                .get(&header.ssrc)
                .is_some_and(|(_, repair)| *repair);
        Some(Route {
            mid: &section.mid,
            repair,
            rid: self.rids.get(&header.ssrc).map(String::as_str),
            codec: section
                .codecs
                .get(&header.payload_type)
                .map(|(name, rate)| (name.as_str(), *rate)),
        })
    }

    /// The rid the stream `ssrc` named, if any.
    pub fn rid_of(&self, ssrc: u32) -> Option<&str> {
        self.rids.get(&ssrc).map(String::as_str)
    }

    /// Packets no section could be found for.
    pub fn unrouted(&self) -> u64 {
        self.unrouted
    }

    /// The SSRCs routed to `mid` so far (signaled or learned), media before repair.
    pub fn ssrcs_of(&self, mid: &str) -> Vec<(u32, bool)> {
        let Some(index) = self.sections.iter().position(|s| s.mid == mid) else {
            return Vec::new();
        };
        let mut ssrcs: Vec<(u32, bool)> = self
            .ssrcs
            .iter()
            .filter(|(_, (i, _))| *i == index)
            .map(|(ssrc, (_, repair))| (*ssrc, *repair))
            .collect();
        ssrcs.sort_by_key(|(ssrc, repair)| (*repair, *ssrc));
        ssrcs
    }

    /// The mid of the section `ssrc` was routed to (signaled or learned).
    pub fn mid_of(&self, ssrc: u32) -> Option<&str> {
        let (index, _) = self.ssrcs.get(&ssrc)?;
        Some(&self.sections.get(*index)?.mid)
    }

    fn learn(&mut self, ssrc: u32, index: usize) {
        let repair = self.ssrcs.get(&ssrc).is_some_and(|(_, repair)| *repair);
        if self.ssrcs.contains_key(&ssrc) {
            self.ssrcs.insert(ssrc, (index, repair));
        } else if self.learned < MAX_LEARNED_SSRCS {
            self.learned += 1;
            self.ssrcs.insert(ssrc, (index, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = concat!(
        "v=0\r\n",
        "o=- 1 2 IN IP4 127.0.0.1\r\n",
        "s=-\r\n",
        "t=0 0\r\n",
        "a=group:BUNDLE 0 1 2\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=mid:0\r\n",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        "a=rtpmap:111 opus/48000/2\r\n",
        "a=ssrc:1001 cname:x\r\n",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=mid:1\r\n",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        "a=rtpmap:96 VP8/90000\r\n",
        "a=rtpmap:97 rtx/90000\r\n",
        "a=fmtp:97 apt=96\r\n",
        "a=rtpmap:98 H264/90000\r\n",
        "a=ssrc-group:FID 2001 2002\r\n",
        "a=ssrc:2001 cname:x\r\n",
        "a=ssrc:2002 cname:x\r\n",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=mid:2\r\n",
        "a=rtpmap:96 VP8/90000\r\n",
        "a=rtpmap:98 H264/90000\r\n",
        "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=mid:3\r\n",
    );

    /// An RTP packet with payload type `pt`, SSRC `ssrc` and, when given, the MID extension
    /// (id 4).
    fn packet(pt: u8, ssrc: u32, mid: Option<&str>) -> Vec<u8> {
        let extensions: Vec<(u8, &str)> = mid.map(|mid| (4, mid)).into_iter().collect();
        with_extensions(pt, ssrc, &extensions)
    }

    /// An RTP packet with one-byte text extensions `(id, value)`.
    fn with_extensions(pt: u8, ssrc: u32, extensions: &[(u8, &str)]) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 1, 0, 0, 0, 1];
        p.extend_from_slice(&ssrc.to_be_bytes());
        if !extensions.is_empty() {
            p[0] |= 0x10;
            let mut element = Vec::new();
            for (id, value) in extensions {
                let len = u8::try_from(value.len()).unwrap();
                element.push((id << 4) | (len - 1));
                element.extend_from_slice(value.as_bytes());
            }
            while element.len() % 4 != 0 {
                element.push(0);
            }
            p.extend_from_slice(&[0xbe, 0xde, 0, u8::try_from(element.len() / 4).unwrap()]);
            p.extend_from_slice(&element);
        }
        p.extend_from_slice(&[9, 9, 9]);
        p
    }

    /// One row of the table: what the packet is, the packet, where it goes.
    type Case = (&'static str, Vec<u8>, Option<(&'static str, bool)>);

    fn route(router: &mut MediaRouter, bytes: &[u8]) -> Option<(String, bool)> {
        let header = RtpHeader::parse(bytes).unwrap();
        router
            .route(&header)
            .map(|route| (route.mid.to_owned(), route.repair))
    }

    #[test]
    fn routes_as_rfc_8843_section_9_says() {
        let remote = antiphon_sdp::parse(OFFER).unwrap().description;
        let mut router = MediaRouter::new(&remote, None);
        let cases: &[Case] = &[
            ("signaled ssrc", packet(111, 1001, None), Some(("0", false))),
            (
                "signaled FID repair ssrc",
                packet(97, 2002, None),
                Some(("1", true)),
            ),
            (
                "mid extension wins over the table",
                packet(96, 1001, Some("2")),
                Some(("2", false)),
            ),
            ("and is learned", packet(96, 1001, None), Some(("2", false))),
            (
                "unsignaled, payload type of one section",
                packet(111, 5, None),
                Some(("0", false)),
            ),
            (
                "unsignaled, payload type of two sections",
                packet(96, 6, None),
                None,
            ),
            (
                "unsignaled with mid",
                packet(96, 7, Some("1")),
                Some(("1", false)),
            ),
            (
                "then by ssrc alone",
                packet(96, 7, None),
                Some(("1", false)),
            ),
            ("rtx payload type", packet(97, 7, None), Some(("1", true))),
            (
                "unknown mid, unknown ssrc, shared pt",
                packet(98, 8, Some("9")),
                None,
            ),
            (
                "data section is not routed",
                packet(100, 9, Some("3")),
                None,
            ),
        ];
        for (name, bytes, expected) in cases {
            let expected = expected.map(|(mid, repair)| (mid.to_owned(), repair));
            assert_eq!(route(&mut router, bytes), expected, "{name}");
        }
        assert_eq!(router.unrouted(), 3);
        assert_eq!(
            router.ssrcs_of("1"),
            vec![(7, false), (2001, false), (2002, true)]
        );
    }

    #[test]
    fn simulcast_layers_are_told_apart_by_rid() {
        let offer = OFFER.replace(
            "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 H264/90000\r\nm=application",
            "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n\
             a=rtpmap:96 VP8/90000\r\na=rtpmap:98 H264/90000\r\nm=application",
        );
        let remote = antiphon_sdp::parse(&offer).unwrap().description;
        let mut router = MediaRouter::new(&remote, None);
        for (ssrc, rid) in [(31, "h"), (32, "m"), (33, "l")] {
            let first = with_extensions(96, ssrc, &[(4, "2"), (5, rid)]);
            let header = RtpHeader::parse(&first).unwrap();
            let route = router.route(&header).expect("routed by its MID");
            assert_eq!((route.mid, route.rid), ("2", Some(rid)));
        }
        // Later packets carry no extension: the rid is remembered by SSRC.
        let later = packet(96, 32, None);
        let route = router.route(&RtpHeader::parse(&later).unwrap()).unwrap();
        assert_eq!((route.mid, route.rid), ("2", Some("m")));
        assert_eq!(router.rid_of(33), Some("l"));
    }

    #[test]
    fn one_transport_sees_its_own_sections_and_learning_is_bounded() {
        let remote = antiphon_sdp::parse(OFFER).unwrap().description;
        let mut router = MediaRouter::new(&remote, Some(&["2".to_owned()]));
        assert_eq!(route(&mut router, &packet(111, 1001, None)), None);
        for ssrc in 0..(MAX_LEARNED_SSRCS as u32 + 10) {
            route(&mut router, &packet(96, 10_000 + ssrc, None));
        }
        assert_eq!(router.ssrcs_of("2").len(), MAX_LEARNED_SSRCS);
    }
}
