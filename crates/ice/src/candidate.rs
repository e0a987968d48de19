//! ICE candidates (RFC 8839 section 5.1): the model, the parser and the canonical writer. The
//! grammar's fields and separators are [`antiphon_types::candidate`]'s, shared with the SDP
//! parser; what each field means (ranges, addresses, known extensions) is checked here.
//!
//! The parser accepts the `RTCIceCandidate.candidate` form (`candidate:1 1 udp ...`), the bare
//! attribute value without the `candidate:` prefix, and a whole SDP line (`a=candidate:...`).
//! [`Candidate`]'s `Display` writes the canonical form: `candidate:` prefix, transport in lower
//! case, `raddr`/`rport` right after the type, then `tcptype`, `generation`, `ufrag`,
//! `network-id`, `network-cost` and unknown extensions in their original order.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use antiphon_types::candidate::{
    CandidateField, CandidateSyntaxError, CandidateSyntaxErrorKind as SyntaxKind, CandidateTokens,
    FOUNDATION_MAX_LEN, is_ice_char, is_token_char,
};

use crate::error::{CandidateError, CandidateErrorKind as Kind, CandidateField as Field};

/// Longest candidate value accepted, not counting an `a=` or `candidate:` prefix (bounded memory
/// on hostile input).
pub const MAX_CANDIDATE_LEN: usize = 4096;

/// The transport of a candidate (case-insensitive on input, lower case on output).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (RFC 6544).
    Tcp,
    /// Any other transport token (e.g. Google's `ssltcp`), kept as written.
    Other(String),
}

/// The candidate type (`typ`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// A host candidate.
    Host,
    /// A server-reflexive candidate.
    ServerReflexive,
    /// A peer-reflexive candidate.
    PeerReflexive,
    /// A relayed candidate.
    Relay,
    /// An unknown type token (RFC 8839: to be ignored, not a parse error), kept as written.
    Other(String),
}

impl CandidateType {
    /// The type token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            CandidateType::Host => "host",
            CandidateType::ServerReflexive => "srflx",
            CandidateType::PeerReflexive => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(s) => s,
        }
    }

    /// RFC 8445 section 5.1.2.2 recommended type preference.
    pub fn type_preference(&self) -> u32 {
        match self {
            CandidateType::Host => 126,
            CandidateType::PeerReflexive => 110,
            CandidateType::ServerReflexive => 100,
            CandidateType::Relay | CandidateType::Other(_) => 0,
        }
    }
}

/// The RFC 6544 `tcptype` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// `active`.
    Active,
    /// `passive`.
    Passive,
    /// `so` (simultaneous open).
    So,
}

impl TcpType {
    fn as_str(self) -> &'static str {
        match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::So => "so",
        }
    }
}

/// A connection address: an IP address or a host name (e.g. an mDNS `<uuid>.local` name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateAddress {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A syntactically valid FQDN, kept as written (not resolved here).
    Hostname(String),
}

impl CandidateAddress {
    /// The IP address, if this is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            CandidateAddress::Ip(ip) => Some(*ip),
            CandidateAddress::Hostname(_) => None,
        }
    }

    /// True for an mDNS name (ends in `.local`, case-insensitive).
    pub fn is_mdns(&self) -> bool {
        match self {
            CandidateAddress::Hostname(h) => h.to_ascii_lowercase().ends_with(".local"),
            CandidateAddress::Ip(_) => false,
        }
    }
}

impl fmt::Display for CandidateAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CandidateAddress::Ip(ip) => write!(f, "{ip}"),
            CandidateAddress::Hostname(h) => f.write_str(h),
        }
    }
}

/// One ICE candidate, as carried in `a=candidate` and `RTCIceCandidate.candidate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1 to 32 ice-chars.
    pub foundation: String,
    /// Component id, 1..=256.
    pub component: u16,
    /// Transport.
    pub transport: Transport,
    /// Priority, 1..=2^31-1.
    pub priority: u32,
    /// Connection address.
    pub address: CandidateAddress,
    /// Port.
    pub port: u16,
    /// Candidate type.
    pub kind: CandidateType,
    /// `raddr`.
    pub related_address: Option<CandidateAddress>,
    /// `rport`.
    pub related_port: Option<u16>,
    /// `tcptype` (RFC 6544).
    pub tcp_type: Option<TcpType>,
    /// `generation` (libwebrtc).
    pub generation: Option<u32>,
    /// `ufrag` (trickle / libwebrtc).
    pub ufrag: Option<String>,
    /// `network-id` (libwebrtc).
    pub network_id: Option<u32>,
    /// `network-cost` (libwebrtc).
    pub network_cost: Option<u32>,
    /// Unknown extensions, name and value, in their original order.
    pub extensions: Vec<(String, String)>,
}

impl Candidate {
    /// A UDP candidate of component 1 with no extensions.
    pub fn new_udp(
        foundation: impl Into<String>,
        priority: u32,
        addr: SocketAddr,
        kind: CandidateType,
    ) -> Self {
        Candidate {
            foundation: foundation.into(),
            component: 1,
            transport: Transport::Udp,
            priority,
            address: CandidateAddress::Ip(addr.ip()),
            port: addr.port(),
            kind,
            related_address: None,
            related_port: None,
            tcp_type: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: Vec::new(),
        }
    }

    /// The socket address, when the connection address is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.address.ip().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Parses a candidate; see the module docs for the accepted forms.
    pub fn parse(input: &str) -> Result<Self, CandidateError> {
        parse_candidate(input)
    }
}

impl FromStr for Candidate {
    type Err = CandidateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_candidate(s)
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Other(t) => t.as_str(),
        };
        write!(
            f,
            "candidate:{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            transport,
            self.priority,
            self.address,
            self.port,
            self.kind.as_str()
        )?;
        if let Some(a) = &self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        if let Some(t) = self.tcp_type {
            write!(f, " tcptype {}", t.as_str())?;
        }
        if let Some(g) = self.generation {
            write!(f, " generation {g}")?;
        }
        if let Some(u) = &self.ufrag {
            write!(f, " ufrag {u}")?;
        }
        if let Some(n) = self.network_id {
            write!(f, " network-id {n}")?;
        }
        if let Some(c) = self.network_cost {
            write!(f, " network-cost {c}")?;
        }
        for (name, value) in &self.extensions {
            write!(f, " {name} {value}")?;
        }
        Ok(())
    }
}

fn err(field: Field, column: usize, kind: Kind) -> CandidateError {
    CandidateError {
        field,
        column,
        kind,
    }
}

/// An error of the shared grammar ([`antiphon_types::candidate`]) as this crate reports it:
/// on `field`, at a 1-based column (`offset` bytes precede the value).
fn syntax_error(error: CandidateSyntaxError, field: Field, offset: usize) -> CandidateError {
    let kind = match error.kind {
        SyntaxKind::Missing => Kind::Missing,
        SyntaxKind::Empty => Kind::EmptyToken,
        SyntaxKind::TooLong => Kind::TooLong,
        SyntaxKind::InvalidNumber => Kind::OutOfRange,
        SyntaxKind::ExpectedTyp => Kind::ExpectedKeyword("typ"),
        // A tab where one space separates fields, or a character outside the field's set.
        _ => Kind::InvalidCharacter,
    };
    err(field, offset + error.offset + 1, kind)
}

/// This crate's name for a fixed field of the shared grammar.
fn fixed_field(field: CandidateField) -> Field {
    match field {
        CandidateField::Foundation => Field::Foundation,
        CandidateField::Component => Field::Component,
        CandidateField::Transport => Field::Transport,
        CandidateField::Priority => Field::Priority,
        CandidateField::Address => Field::Address,
        CandidateField::Port => Field::Port,
        CandidateField::Typ => Field::TypKeyword,
        CandidateField::Type => Field::CandidateType,
        _ => Field::Extension,
    }
}

fn parse_number<T: FromStr>(
    token: &str,
    max_digits: usize,
    field: Field,
    column: usize,
) -> Result<T, CandidateError> {
    if token.len() > max_digits || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(field, column, Kind::OutOfRange));
    }
    token
        .parse()
        .map_err(|_| err(field, column, Kind::OutOfRange))
}

fn parse_port(token: &str, field: Field, column: usize) -> Result<u16, CandidateError> {
    parse_number::<u16>(token, 5, field, column)
}

/// An IP address or an FQDN (RFC 1123 labels; the last label must not be all digits, so
/// `372.16.356` or `192.168.0.274` are neither).
fn parse_address(
    token: &str,
    field: Field,
    column: usize,
) -> Result<CandidateAddress, CandidateError> {
    if let Ok(ip) = token.parse::<IpAddr>() {
        return Ok(CandidateAddress::Ip(ip));
    }
    let bad = || err(field, column, Kind::InvalidAddress);
    let name = token.strip_suffix('.').unwrap_or(token);
    if name.is_empty() || name.len() > 253 {
        return Err(bad());
    }
    let mut last_all_digits = false;
    for label in name.split('.') {
        let bytes = label.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-');
        if !valid {
            return Err(bad());
        }
        last_all_digits = bytes.iter().all(u8::is_ascii_digit);
    }
    if last_all_digits {
        return Err(bad());
    }
    Ok(CandidateAddress::Hostname(token.to_owned()))
}

fn parse_candidate(input: &str) -> Result<Candidate, CandidateError> {
    // Bound the work before looking at anything; the exact limit is checked on the value below.
    if input.len() > MAX_CANDIDATE_LEN + "a=candidate:".len() {
        return Err(err(Field::Prefix, 1, Kind::LineTooLong));
    }
    let mut offset = 0;
    let mut body = input;
    if let Some(rest) = body.strip_prefix("a=") {
        body = rest;
        offset += 2;
        if !body.starts_with("candidate:") {
            return Err(err(Field::Prefix, 3, Kind::ExpectedKeyword("candidate:")));
        }
    }
    if let Some(rest) = body.strip_prefix("candidate:") {
        body = rest;
        offset += "candidate:".len();
    }
    // The limit is on the value after any prefix, so a candidate accepted without `candidate:`
    // still parses once written back with it.
    if body.len() > MAX_CANDIDATE_LEN {
        return Err(err(Field::Prefix, 1, Kind::LineTooLong));
    }
    // The fields as the shared grammar splits them (one space between each), with their
    // 1-based columns; what each field means is checked here.
    let mut tokens = CandidateTokens::new(body, false);
    let mut fixed = [("", 0usize); 8];
    for slot in &mut fixed {
        match tokens.next() {
            Some(Ok(token)) => *slot = (token.text, offset + token.offset + 1),
            Some(Err(error)) => return Err(syntax_error(error, fixed_field(error.field), offset)),
            None => return Err(err(Field::Prefix, 1, Kind::Missing)),
        }
    }
    let [
        (foundation, foundation_col),
        (component, component_col),
        (transport, transport_col),
        (priority, priority_col),
        (address, address_col),
        (port, port_col),
        (typ, typ_col),
        (kind, kind_col),
    ] = fixed;
    let col = foundation_col;
    if foundation.len() > FOUNDATION_MAX_LEN {
        return Err(err(Field::Foundation, col, Kind::TooLong));
    }
    if !foundation.bytes().all(is_ice_char) {
        // A foreign prefix such as `xandidate:` lands here.
        return Err(err(Field::Foundation, col, Kind::InvalidCharacter));
    }

    let col = component_col;
    let component: u16 = parse_number(component, 3, Field::Component, col)?;
    if !(1..=256).contains(&component) {
        return Err(err(Field::Component, col, Kind::OutOfRange));
    }

    if !transport.bytes().all(is_token_char) {
        return Err(err(Field::Transport, transport_col, Kind::InvalidCharacter));
    }
    let transport = if transport.eq_ignore_ascii_case("udp") {
        Transport::Udp
    } else if transport.eq_ignore_ascii_case("tcp") {
        Transport::Tcp
    } else {
        Transport::Other(transport.to_owned())
    };

    let col = priority_col;
    let priority: u32 = parse_number(priority, 10, Field::Priority, col)?;
    if priority == 0 || priority > 0x7fff_ffff {
        return Err(err(Field::Priority, col, Kind::OutOfRange));
    }

    let address = parse_address(address, Field::Address, address_col)?;
    let port = parse_port(port, Field::Port, port_col)?;

    if typ != "typ" {
        return Err(err(
            Field::TypKeyword,
            typ_col,
            Kind::ExpectedKeyword("typ"),
        ));
    }
    if !kind.bytes().all(is_token_char) {
        return Err(err(Field::CandidateType, kind_col, Kind::InvalidCharacter));
    }
    let kind = match kind {
        "host" => CandidateType::Host,
        "srflx" => CandidateType::ServerReflexive,
        "prflx" => CandidateType::PeerReflexive,
        "relay" => CandidateType::Relay,
        other => CandidateType::Other(other.to_owned()),
    };

    let mut candidate = Candidate {
        foundation: foundation.to_owned(),
        component,
        transport,
        priority,
        address,
        port,
        kind,
        related_address: None,
        related_port: None,
        tcp_type: None,
        generation: None,
        ufrag: None,
        network_id: None,
        network_cost: None,
        extensions: Vec::new(),
    };
    parse_extensions(&mut tokens, offset, &mut candidate)?;
    Ok(candidate)
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    field: Field,
    column: usize,
) -> Result<(), CandidateError> {
    if slot.is_some() {
        return Err(err(field, column, Kind::Duplicate));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_extensions(
    tokens: &mut CandidateTokens<'_>,
    offset: usize,
    c: &mut Candidate,
) -> Result<(), CandidateError> {
    while let Some(name) = tokens.next() {
        let name = name.map_err(|error| syntax_error(error, Field::Extension, offset))?;
        let (name, name_col) = (name.text, offset + name.offset + 1);
        let field = match name {
            "raddr" => Field::RelatedAddress,
            "rport" => Field::RelatedPort,
            "tcptype" => Field::TcpType,
            "generation" => Field::Generation,
            "ufrag" => Field::Ufrag,
            "network-id" => Field::NetworkId,
            "network-cost" => Field::NetworkCost,
            _ => Field::Extension,
        };
        if !name.bytes().all(is_token_char) {
            return Err(err(Field::Extension, name_col, Kind::InvalidCharacter));
        }
        let (value, col) = match tokens.next() {
            Some(Ok(value)) => (value.text, offset + value.offset + 1),
            Some(Err(error)) if error.kind == SyntaxKind::Missing => {
                return Err(err(field, name_col, Kind::MissingValue));
            }
            Some(Err(error)) => return Err(syntax_error(error, field, offset)),
            None => return Err(err(field, name_col, Kind::MissingValue)),
        };
        if !value.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80) {
            return Err(err(field, col, Kind::InvalidCharacter));
        }
        match field {
            Field::RelatedAddress => {
                let a = parse_address(value, field, col)?;
                set_once(&mut c.related_address, a, field, name_col)?;
            }
            Field::RelatedPort => {
                let p = parse_port(value, field, col)?;
                set_once(&mut c.related_port, p, field, name_col)?;
            }
            Field::TcpType => {
                let t = match value {
                    "active" => TcpType::Active,
                    "passive" => TcpType::Passive,
                    "so" => TcpType::So,
                    _ => return Err(err(field, col, Kind::UnknownTcpType)),
                };
                set_once(&mut c.tcp_type, t, field, name_col)?;
            }
            Field::Generation => {
                let g = parse_number(value, 10, field, col)?;
                set_once(&mut c.generation, g, field, name_col)?;
            }
            Field::Ufrag => {
                // libwebrtc writes any token here (`ufrag user_rtp`), so only the length is checked.
                if value.len() > 256 {
                    return Err(err(field, col, Kind::TooLong));
                }
                set_once(&mut c.ufrag, value.to_owned(), field, name_col)?;
            }
            Field::NetworkId => {
                let n = parse_number(value, 10, field, col)?;
                set_once(&mut c.network_id, n, field, name_col)?;
            }
            Field::NetworkCost => {
                let n = parse_number(value, 10, field, col)?;
                set_once(&mut c.network_cost, n, field, name_col)?;
            }
            _ => c.extensions.push((name.to_owned(), value.to_owned())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_point_at_the_field() {
        let cases: &[(&str, Field, usize, Kind)] = &[
            (
                "candidate:0 1 UDP foo 1.2.3.4 5 typ host",
                Field::Priority,
                19,
                Kind::OutOfRange,
            ),
            (
                "0 1 UDP 1 1.2.3.4 70000 typ host",
                Field::Port,
                19,
                Kind::OutOfRange,
            ),
            (
                "candidate:0 1 UDP 1 1.2.3.4 5 typ",
                Field::CandidateType,
                34,
                Kind::Missing,
            ),
            (
                "candidate:0 1 UDP 1 1.2.3.4 5 type host",
                Field::TypKeyword,
                31,
                Kind::ExpectedKeyword("typ"),
            ),
            (
                "candidate:0 1 UDP 1 1.2.3.4 5 typ host x",
                Field::Extension,
                40,
                Kind::MissingValue,
            ),
            (
                "candidate:0 1  UDP 1 1.2.3.4 5 typ host",
                Field::Transport,
                15,
                Kind::EmptyToken,
            ),
            (
                "candidate:0 1 UDP 1 1.2.3.4 5 typ host ",
                Field::Extension,
                40,
                Kind::EmptyToken,
            ),
            (
                "candidate:0 1 UDP 0 1.2.3.4 5 typ host",
                Field::Priority,
                19,
                Kind::OutOfRange,
            ),
            (
                "candidate:0 257 UDP 1 1.2.3.4 5 typ host",
                Field::Component,
                13,
                Kind::OutOfRange,
            ),
            (
                "a=xandidate:0 1 UDP 1 1.2.3.4 5 typ host",
                Field::Prefix,
                3,
                Kind::ExpectedKeyword("candidate:"),
            ),
            (
                "candidate:0 1 UDP 1 1.2.3.4 5 typ host generation 1 generation 2",
                Field::Generation,
                53,
                Kind::Duplicate,
            ),
        ];
        for (line, field, column, kind) in cases {
            let e = Candidate::parse(line).expect_err(line);
            assert_eq!(
                (e.field, e.column, &e.kind),
                (*field, *column, kind),
                "{line}"
            );
        }
    }

    #[test]
    fn prefix_forms_are_equivalent() {
        let bare = "1 1 UDP 2130706431 203.0.113.141 8998 typ host";
        let a = Candidate::parse(bare).expect("bare");
        let b = Candidate::parse(&format!("candidate:{bare}")).expect("prefixed");
        let c = Candidate::parse(&format!("a=candidate:{bare}")).expect("sdp line");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(
            a.to_string(),
            "candidate:1 1 udp 2130706431 203.0.113.141 8998 typ host"
        );
    }

    #[test]
    fn hostnames() {
        for ok in [
            "a.test",
            "x.local",
            "61b445d2-6503-41ac-96ce-ee3edac00e9f.local",
            "localhost",
        ] {
            assert!(
                matches!(
                    parse_address(ok, Field::Address, 1),
                    Ok(CandidateAddress::Hostname(_))
                ),
                "{ok}"
            );
        }
        for bad in [
            "372.16.356",
            "192.168.0.274",
            "-a.b",
            "a..b",
            "1%92.168.1",
            "a_b.c",
            "",
        ] {
            assert!(parse_address(bad, Field::Address, 1).is_err(), "{bad}");
        }
        assert!(CandidateAddress::Hostname("X.LOCAL".into()).is_mdns());
    }
}
