//! `RTCConfiguration` and its policies.

use antiphon_dtls::Certificate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, NotSupportedReason, SyntaxReason};

/// `RTCIceServer`: a STUN or TURN server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RTCIceServer {
    /// `stun:host:port` / `turn:host:port` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `RTCIceTransportPolicy`: which candidates ICE may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RTCIceTransportPolicy {
    /// Only relay candidates.
    Relay,
    /// Every candidate.
    #[default]
    All,
}

/// `RTCBundlePolicy` (RFC 9429 §4.1.1): how media is bundled when the remote end is not
/// BUNDLE-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RTCBundlePolicy {
    /// One transport per media type unless the remote bundles.
    #[default]
    Balanced,
    /// One transport per m= section unless the remote bundles.
    MaxCompat,
    /// One transport for everything; sections that cannot be bundled are rejected.
    MaxBundle,
}

/// `RTCRtcpMuxPolicy` (RFC 9429 §4.1.1): whether RTCP must share the RTP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RTCRtcpMuxPolicy {
    /// RTCP must be multiplexed with RTP; descriptions without `a=rtcp-mux` are refused.
    #[default]
    Require,
    /// Non-muxed RTCP is negotiated when the remote end does not offer mux (an Antiphon
    /// extension of the old `negotiate` value, kept for gateways talking to legacy SIP endpoints).
    Negotiate,
}

/// `RTCConfiguration`.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RTCConfiguration {
    /// STUN/TURN servers used for gathering.
    pub ice_servers: Vec<RTCIceServer>,
    /// Which candidates may be used.
    pub ice_transport_policy: RTCIceTransportPolicy,
    /// The bundle policy.
    pub bundle_policy: RTCBundlePolicy,
    /// The RTCP mux policy.
    pub rtcp_mux_policy: RTCRtcpMuxPolicy,
    /// The DTLS certificates (`RTCCertificate`s); the first is used. Empty: one is generated.
    pub certificates: Vec<Certificate>,
}

/// Builders: `RTCConfiguration::default().with_...(..)` (the struct is `#[non_exhaustive]`, so other
/// crates build it this way or by assigning fields of a default).
impl RTCConfiguration {
    /// The same, with [`ice_servers`](Self::ice_servers) set.
    #[must_use]
    pub fn with_ice_servers(mut self, ice_servers: Vec<RTCIceServer>) -> Self {
        self.ice_servers = ice_servers;
        self
    }

    /// The same, with [`ice_transport_policy`](Self::ice_transport_policy) set.
    #[must_use]
    pub fn with_ice_transport_policy(
        mut self,
        ice_transport_policy: RTCIceTransportPolicy,
    ) -> Self {
        self.ice_transport_policy = ice_transport_policy;
        self
    }

    /// The same, with [`bundle_policy`](Self::bundle_policy) set.
    #[must_use]
    pub fn with_bundle_policy(mut self, bundle_policy: RTCBundlePolicy) -> Self {
        self.bundle_policy = bundle_policy;
        self
    }

    /// The same, with [`rtcp_mux_policy`](Self::rtcp_mux_policy) set.
    #[must_use]
    pub fn with_rtcp_mux_policy(mut self, rtcp_mux_policy: RTCRtcpMuxPolicy) -> Self {
        self.rtcp_mux_policy = rtcp_mux_policy;
        self
    }

    /// The same, with [`certificates`](Self::certificates) set.
    #[must_use]
    pub fn with_certificates(mut self, certificates: Vec<Certificate>) -> Self {
        self.certificates = certificates;
        self
    }
}

impl std::fmt::Debug for RTCConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RTCConfiguration")
            .field("ice_servers", &self.ice_servers)
            .field("ice_transport_policy", &self.ice_transport_policy)
            .field("bundle_policy", &self.bundle_policy)
            .field("rtcp_mux_policy", &self.rtcp_mux_policy)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

/// A STUN server from an `RTCIceServer` URL: `stun:host[:port]` (RFC 7064), port 3478 by
/// default; IPv6 literals in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StunServer {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl RTCConfiguration {
    /// The STUN servers of `ice_servers`, checked as the W3C constructor does: a URL that does
    /// not parse is a `SyntaxError`; `turn:`, `turns:` and `stuns:` (not implemented) and the
    /// relay policy are `NotSupportedError`, never silently ignored.
    pub(crate) fn stun_servers(&self) -> Result<Vec<StunServer>, Error> {
        if self.ice_transport_policy == RTCIceTransportPolicy::Relay {
            return Err(Error::NotSupported(NotSupportedReason::RelayPolicy));
        }
        let mut servers = Vec::new();
        for url in self.ice_servers.iter().flat_map(|server| &server.urls) {
            servers.push(parse_stun_url(url)?);
        }
        Ok(servers)
    }
}

fn parse_stun_url(url: &str) -> Result<StunServer, Error> {
    let syntax = || Error::Syntax(SyntaxReason::InvalidIceServerUrl(url.to_owned()));
    let (scheme, rest) = url.split_once(':').ok_or_else(syntax)?;
    match scheme.to_ascii_lowercase().as_str() {
        "stun" => {}
        "stuns" | "turn" | "turns" => {
            return Err(Error::NotSupported(NotSupportedReason::IceServerScheme(
                scheme.to_owned(),
            )));
        }
        _ => return Err(syntax()),
    }
    // RFC 7064: no path, query or user info on a stun: URI.
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(syntax());
    }
    let (host, port) = if let Some(literal) = rest.strip_prefix('[') {
        let (host, after) = literal.split_once(']').ok_or_else(syntax)?;
        host.parse::<std::net::Ipv6Addr>().map_err(|_| syntax())?;
        match after {
            "" => (host, None),
            port => (host, Some(port.strip_prefix(':').ok_or_else(syntax)?)),
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(syntax());
    }
    let port = match port {
        None => 3478,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(syntax()),
        },
    };
    Ok(StunServer {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(urls: &[&str]) -> RTCConfiguration {
        RTCConfiguration {
            ice_servers: vec![RTCIceServer {
                urls: urls.iter().map(|u| (*u).to_owned()).collect(),
                ..RTCIceServer::default()
            }],
            ..RTCConfiguration::default()
        }
    }

    #[test]
    fn stun_urls_parse_with_default_and_explicit_ports() {
        let servers = config(&[
            "stun:stun.example.org",
            "stun:192.0.2.1:19302",
            "stun:[2001:db8::1]:5000",
            "STUN:[::1]",
        ])
        .stun_servers()
        .expect("valid URLs");
        let got: Vec<(&str, u16)> = servers.iter().map(|s| (s.host.as_str(), s.port)).collect();
        assert_eq!(
            got,
            [
                ("stun.example.org", 3478),
                ("192.0.2.1", 19302),
                ("2001:db8::1", 5000),
                ("::1", 3478)
            ]
        );
    }

    #[test]
    fn bad_urls_are_syntax_errors() {
        for url in [
            "stun:",
            "stun:host:0",
            "stun:host:99999",
            "stun:host:x",
            "stun:[::1",
            "stun:[nothost]:1",
            "stun://host",
            "host:3478",
            "stun:user@host",
            "stun:host/path",
        ] {
            let error = config(&[url]).stun_servers().expect_err(url);
            assert_eq!(error.name(), "SyntaxError", "{url}");
        }
    }

    #[test]
    fn turn_stuns_and_relay_are_not_supported() {
        for url in [
            "turn:turn.example.org?transport=udp",
            "turns:turn.example.org",
            "stuns:stun.example.org",
        ] {
            let error = config(&[url]).stun_servers().expect_err(url);
            assert_eq!(error.name(), "NotSupportedError", "{url}");
        }
        let relay = RTCConfiguration {
            ice_transport_policy: RTCIceTransportPolicy::Relay,
            ..RTCConfiguration::default()
        };
        assert!(matches!(
            relay.stun_servers(),
            Err(Error::NotSupported(NotSupportedReason::RelayPolicy))
        ));
    }
}
