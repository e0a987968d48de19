//! `RTCConfiguration` and its policies.

use antiphon_dtls::Certificate;
use serde::{Deserialize, Serialize};

pub(crate) use crate::policy::{RTCBundlePolicy, RTCRtcpMuxPolicy};

use crate::error::{Error, NotSupportedReason, SyntaxReason};

/// `RTCIceServer`: a STUN or TURN server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RTCIceServer {
    /// `stun:`, `turn:` and `turns:` URLs (in JSON a string or a list, as browsers take it).
    #[serde(deserialize_with = "string_or_list")]
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `urls`: one URL as a string, or a list of them (WebIDL `(DOMString or sequence<DOMString>)`).
fn string_or_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Urls {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Urls::deserialize(deserializer)? {
        Urls::One(url) => vec![url],
        Urls::Many(urls) => urls,
    })
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

/// One `RTCIceServer` URL, parsed (RFC 7064 `stun:`, RFC 7065 `turn:`/`turns:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IceServerUrl {
    /// The URL as configured.
    pub(crate) url: String,
    /// The host: a name, or an IP address (IPv6 without its brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `None` for a STUN server; a TURN server's transport and credentials.
    pub(crate) turn: Option<TurnUrl>,
}

/// A TURN server's part of its URL and `RTCIceServer`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TurnUrl {
    pub(crate) transport: antiphon_ice::turn::TurnTransport,
    pub(crate) username: String,
    pub(crate) credential: String,
}

impl std::fmt::Debug for TurnUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnUrl")
            .field("transport", &self.transport)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl RTCConfiguration {
    /// The URLs of `ice_servers`, checked as the W3C constructor does: a URL that does not
    /// parse is a `SyntaxError`, a `turn:`/`turns:` server without `username` and
    /// `credential` an `InvalidAccessError`; `stuns:` and `turns:...?transport=udp` (DTLS to
    /// the server) are `NotSupportedError`, never silently ignored.
    pub(crate) fn ice_server_urls(&self) -> Result<Vec<IceServerUrl>, Error> {
        let mut servers = Vec::new();
        for server in &self.ice_servers {
            for url in &server.urls {
                servers.push(parse_ice_server_url(url, server)?);
            }
        }
        Ok(servers)
    }
}

fn parse_ice_server_url(url: &str, server: &RTCIceServer) -> Result<IceServerUrl, Error> {
    use antiphon_ice::turn::TurnTransport;
    let syntax = || Error::Syntax(SyntaxReason::InvalidIceServerUrl(url.to_owned()));
    let (scheme, rest) = url.split_once(':').ok_or_else(syntax)?;
    let scheme = scheme.to_ascii_lowercase();
    let (secure, turn) = match scheme.as_str() {
        "stun" => (false, false),
        "stuns" => (true, false),
        "turn" => (false, true),
        "turns" => (true, true),
        _ => return Err(syntax()),
    };
    // RFC 7065: only `?transport=udp|tcp` on a turn(s): URI; RFC 7064: nothing on stun(s):.
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) if turn => (rest, Some(query)),
        Some(_) => return Err(syntax()),
        None => (rest, None),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(syntax());
    }
    let transport = match query.map(str::to_ascii_lowercase).as_deref() {
        None if secure => TurnTransport::Tls,
        None | Some("transport=udp") if !secure => TurnTransport::Udp,
        Some("transport=tcp") if secure => TurnTransport::Tls,
        Some("transport=tcp") => TurnTransport::Tcp,
        Some("transport=udp") => {
            return Err(Error::NotSupported(NotSupportedReason::IceServerScheme(
                "turns:?transport=udp (DTLS to the TURN server)".to_owned(),
            )));
        }
        _ => return Err(syntax()),
    };
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
        None if secure => 5349,
        None => 3478,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(syntax()),
        },
    };
    if !turn {
        if secure {
            // A STUN binding over TLS maps a TCP connection: no UDP candidate can use its port.
            return Err(Error::NotSupported(NotSupportedReason::IceServerScheme(
                scheme,
            )));
        }
        return Ok(IceServerUrl {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            turn: None,
        });
    }
    let (Some(username), Some(credential)) = (&server.username, &server.credential) else {
        return Err(Error::InvalidAccess(
            crate::error::InvalidAccessReason::TurnCredentialsMissing(url.to_owned()),
        ));
    };
    Ok(IceServerUrl {
        url: url.to_owned(),
        host: host.to_owned(),
        port,
        turn: Some(TurnUrl {
            transport,
            username: username.clone(),
            credential: credential.clone(),
        }),
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

    fn turn_config(urls: &[&str]) -> RTCConfiguration {
        let mut c = config(urls);
        c.ice_servers[0].username = Some("alice".into());
        c.ice_servers[0].credential = Some("secret".into());
        c
    }

    #[test]
    fn urls_parse_with_default_and_explicit_ports_and_transports() {
        use antiphon_ice::turn::TurnTransport as T;
        let servers = turn_config(&[
            "stun:stun.example.org",
            "stun:192.0.2.1:19302",
            "stun:[2001:db8::1]:5000",
            "STUN:[::1]",
            "turn:turn.example.org",
            "turn:192.0.2.1:3479?transport=udp",
            "turn:[::1]?transport=tcp",
            "turns:turn.example.org",
            "turns:192.0.2.1:443?transport=tcp",
        ])
        .ice_server_urls()
        .expect("valid URLs");
        let got: Vec<(&str, u16, Option<T>)> = servers
            .iter()
            .map(|s| {
                (
                    s.host.as_str(),
                    s.port,
                    s.turn.as_ref().map(|t| t.transport),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("stun.example.org", 3478, None),
                ("192.0.2.1", 19302, None),
                ("2001:db8::1", 5000, None),
                ("::1", 3478, None),
                ("turn.example.org", 3478, Some(T::Udp)),
                ("192.0.2.1", 3479, Some(T::Udp)),
                ("::1", 3478, Some(T::Tcp)),
                ("turn.example.org", 5349, Some(T::Tls)),
                ("192.0.2.1", 443, Some(T::Tls)),
            ]
        );
        assert_eq!(
            servers[4].turn.as_ref().map(|t| t.username.as_str()),
            Some("alice")
        );
    }

    #[test]
    fn ice_servers_read_from_browser_json() {
        let one: RTCIceServer = serde_json::from_str(
            r#"{"urls":"turn:turn.example.org?transport=tcp","username":"u","credential":"c"}"#,
        )
        .expect("a string");
        assert_eq!(one.urls, ["turn:turn.example.org?transport=tcp"]);
        assert_eq!(one.credential.as_deref(), Some("c"));
        let many: RTCIceServer =
            serde_json::from_str(r#"{"urls":["stun:a.example","stun:b.example"]}"#)
                .expect("a list");
        assert_eq!(many.urls.len(), 2);
        assert!(many.username.is_none());
        assert!(serde_json::from_str::<RTCIceServer>(r#"{"urls":7}"#).is_err());
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
            "stun:host?transport=udp",
            "turn:host?transport=sctp",
            "turn:host?foo=bar",
            "turn:",
            "turn://host",
        ] {
            let error = turn_config(&[url]).ice_server_urls().expect_err(url);
            assert_eq!(error.name(), "SyntaxError", "{url}");
        }
    }

    #[test]
    fn turn_needs_credentials_and_some_schemes_are_not_supported() {
        for url in ["turn:turn.example.org", "turns:turn.example.org"] {
            let error = config(&[url]).ice_server_urls().expect_err(url);
            assert_eq!(error.name(), "InvalidAccessError", "{url}");
        }
        for url in [
            "stuns:stun.example.org",
            "turns:turn.example.org?transport=udp",
        ] {
            let error = turn_config(&[url]).ice_server_urls().expect_err(url);
            assert_eq!(error.name(), "NotSupportedError", "{url}");
        }
        let relay = RTCConfiguration {
            ice_transport_policy: RTCIceTransportPolicy::Relay,
            ..RTCConfiguration::default()
        };
        assert!(
            relay
                .ice_server_urls()
                .expect("relay policy is fine")
                .is_empty()
        );
    }
}
