//! The names of the attributes this crate models, looked up in one step.

/// A known attribute name. [`lookup`](Self::lookup) switches on the length first, so finding
/// the parser for an `a=` line costs one or two comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeName {
    Group,
    Mid,
    Msid,
    MsidSemantic,
    IceUfrag,
    IcePwd,
    IceOptions,
    IceLite,
    IceMismatch,
    IcePacing,
    Candidate,
    RemoteCandidates,
    EndOfCandidates,
    Fingerprint,
    Setup,
    TlsId,
    Rtpmap,
    Fmtp,
    RtcpFb,
    Rtcp,
    RtcpMux,
    RtcpMuxOnly,
    RtcpRsize,
    Extmap,
    ExtmapAllowMixed,
    Ssrc,
    SsrcGroup,
    Rid,
    Simulcast,
    SctpPort,
    Sctpmap,
    MaxMessageSize,
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
    BundleOnly,
    Identity,
    Ptime,
    Maxptime,
    Framerate,
    Content,
    Label,
    ImageAttr,
    ConnectionMode,
    Crypto,
}

impl AttributeName {
    /// Every known name, for tests.
    #[cfg(test)]
    pub(crate) const ALL: [Self; 46] = [
        Self::Group,
        Self::Mid,
        Self::Msid,
        Self::MsidSemantic,
        Self::IceUfrag,
        Self::IcePwd,
        Self::IceOptions,
        Self::IceLite,
        Self::IceMismatch,
        Self::IcePacing,
        Self::Candidate,
        Self::RemoteCandidates,
        Self::EndOfCandidates,
        Self::Fingerprint,
        Self::Setup,
        Self::TlsId,
        Self::Rtpmap,
        Self::Fmtp,
        Self::RtcpFb,
        Self::Rtcp,
        Self::RtcpMux,
        Self::RtcpMuxOnly,
        Self::RtcpRsize,
        Self::Extmap,
        Self::ExtmapAllowMixed,
        Self::Ssrc,
        Self::SsrcGroup,
        Self::Rid,
        Self::Simulcast,
        Self::SctpPort,
        Self::Sctpmap,
        Self::MaxMessageSize,
        Self::SendRecv,
        Self::SendOnly,
        Self::RecvOnly,
        Self::Inactive,
        Self::BundleOnly,
        Self::Identity,
        Self::Ptime,
        Self::Maxptime,
        Self::Framerate,
        Self::Content,
        Self::Label,
        Self::ImageAttr,
        Self::ConnectionMode,
        Self::Crypto,
    ];

    /// The name as written after `a=`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Mid => "mid",
            Self::Msid => "msid",
            Self::MsidSemantic => "msid-semantic",
            Self::IceUfrag => "ice-ufrag",
            Self::IcePwd => "ice-pwd",
            Self::IceOptions => "ice-options",
            Self::IceLite => "ice-lite",
            Self::IceMismatch => "ice-mismatch",
            Self::IcePacing => "ice-pacing",
            Self::Candidate => "candidate",
            Self::RemoteCandidates => "remote-candidates",
            Self::EndOfCandidates => "end-of-candidates",
            Self::Fingerprint => "fingerprint",
            Self::Setup => "setup",
            Self::TlsId => "tls-id",
            Self::Rtpmap => "rtpmap",
            Self::Fmtp => "fmtp",
            Self::RtcpFb => "rtcp-fb",
            Self::Rtcp => "rtcp",
            Self::RtcpMux => "rtcp-mux",
            Self::RtcpMuxOnly => "rtcp-mux-only",
            Self::RtcpRsize => "rtcp-rsize",
            Self::Extmap => "extmap",
            Self::ExtmapAllowMixed => "extmap-allow-mixed",
            Self::Ssrc => "ssrc",
            Self::SsrcGroup => "ssrc-group",
            Self::Rid => "rid",
            Self::Simulcast => "simulcast",
            Self::SctpPort => "sctp-port",
            Self::Sctpmap => "sctpmap",
            Self::MaxMessageSize => "max-message-size",
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
            Self::BundleOnly => "bundle-only",
            Self::Identity => "identity",
            Self::Ptime => "ptime",
            Self::Maxptime => "maxptime",
            Self::Framerate => "framerate",
            Self::Content => "content",
            Self::Label => "label",
            Self::ImageAttr => "imageattr",
            Self::ConnectionMode => "connection",
            Self::Crypto => "crypto",
        }
    }

    /// The known attribute called `name` (case-sensitive, as browsers write them).
    pub(crate) fn lookup(name: &str) -> Option<Self> {
        let candidates: &[Self] = match name.len() {
            3 => &[Self::Mid, Self::Rid],
            4 => &[Self::Msid, Self::Fmtp, Self::Rtcp, Self::Ssrc],
            5 => &[Self::Group, Self::Setup, Self::Ptime, Self::Label],
            6 => &[Self::TlsId, Self::Rtpmap, Self::Extmap, Self::Crypto],
            7 => &[Self::IcePwd, Self::RtcpFb, Self::Sctpmap, Self::Content],
            8 => &[
                Self::IceLite,
                Self::RtcpMux,
                Self::SendRecv,
                Self::SendOnly,
                Self::RecvOnly,
                Self::Inactive,
                Self::Identity,
                Self::Maxptime,
            ],
            9 => &[
                Self::IceUfrag,
                Self::Candidate,
                Self::Simulcast,
                Self::SctpPort,
                Self::Framerate,
                Self::ImageAttr,
            ],
            10 => &[
                Self::IcePacing,
                Self::RtcpRsize,
                Self::SsrcGroup,
                Self::ConnectionMode,
            ],
            11 => &[Self::IceOptions, Self::Fingerprint, Self::BundleOnly],
            12 => &[Self::IceMismatch],
            13 => &[Self::MsidSemantic, Self::RtcpMuxOnly],
            16 => &[Self::MaxMessageSize],
            17 => &[Self::RemoteCandidates, Self::EndOfCandidates],
            18 => &[Self::ExtmapAllowMixed],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|known| known.as_str().as_bytes() == name.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::AttributeName;

    #[test]
    fn every_name_is_found_and_nothing_else() {
        for name in AttributeName::ALL {
            assert_eq!(AttributeName::lookup(name.as_str()), Some(name));
        }
        for other in [
            "",
            "x",
            "cryptos",
            "Mid",
            "mids",
            "rtcp-fb ",
            "extmap-allow-mixed2",
        ] {
            assert_eq!(AttributeName::lookup(other), None, "{other}");
        }
    }
}
