//! Writing the model back to SDP text: CRLF lines in RFC 8866 order.

use std::fmt::{self, Display, Formatter, Write};

use crate::attribute::{Attribute, Decimal, Extmap, Rid, Simulcast, SimulcastStream};
use crate::model::{
    Bandwidth, Connection, MediaDescription, Origin, Repeat, SessionDescription, TypedTime,
};

/// Writes an unsigned integer straight to `f`, without the `core::fmt` machinery (numbers are
/// on the writer's hot path: ports, payload types, SSRCs, priorities).
fn uint(f: &mut Formatter<'_>, value: impl Into<u64>) -> fmt::Result {
    let mut value = value.into();
    let mut digits = [0u8; 20];
    let mut len = 0;
    for slot in digits.iter_mut().rev() {
        // `value % 10` is below 10, so the cast is exact.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
        len += 1;
        if value == 0 {
            break;
        }
    }
    let text = digits.get(digits.len() - len..).unwrap_or_default();
    f.write_str(std::str::from_utf8(text).unwrap_or_default())
}

/// Writes each piece in turn.
fn strs(f: &mut Formatter<'_>, pieces: &[&str]) -> fmt::Result {
    pieces.iter().try_for_each(|piece| f.write_str(piece))
}

impl Display for SessionDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("v=")?;
        uint(f, self.version)?;
        f.write_str("\r\n")?;
        self.origin.fmt(f)?;
        strs(f, &["s=", &self.session_name, "\r\n"])?;
        if let Some(info) = &self.session_info {
            strs(f, &["i=", info, "\r\n"])?;
        }
        if let Some(uri) = &self.uri {
            strs(f, &["u=", uri, "\r\n"])?;
        }
        for email in &self.emails {
            strs(f, &["e=", email, "\r\n"])?;
        }
        for phone in &self.phones {
            strs(f, &["p=", phone, "\r\n"])?;
        }
        if let Some(connection) = &self.connection {
            connection.fmt(f)?;
        }
        for bandwidth in &self.bandwidths {
            bandwidth.fmt(f)?;
        }
        for timing in &self.times {
            f.write_str("t=")?;
            uint(f, timing.start)?;
            f.write_char(' ')?;
            uint(f, timing.stop)?;
            f.write_str("\r\n")?;
            for repeat in &timing.repeats {
                repeat.fmt(f)?;
            }
        }
        if let Some(zones) = &self.time_zones {
            strs(f, &["z=", zones, "\r\n"])?;
        }
        if let Some(key) = &self.encryption_key {
            strs(f, &["k=", key, "\r\n"])?;
        }
        for attribute in &self.attributes {
            attribute.fmt(f)?;
        }
        for media in &self.media {
            media.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Origin {
    /// The `o=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        strs(f, &["o=", &self.username, " "])?;
        uint(f, self.session_id)?;
        f.write_char(' ')?;
        uint(f, self.session_version)?;
        strs(
            f,
            &[
                " ",
                &self.net_type,
                " ",
                &self.addr_type,
                " ",
                &self.address,
                "\r\n",
            ],
        )
    }
}

impl Display for Connection {
    /// The `c=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("c=")?;
        write_address(f, self)?;
        f.write_str("\r\n")
    }
}

/// `<nettype> <addrtype> <address>`
fn write_address(f: &mut Formatter<'_>, c: &Connection) -> fmt::Result {
    strs(f, &[&c.net_type, " ", &c.addr_type, " ", &c.address])
}

impl Display for Bandwidth {
    /// The `b=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        strs(f, &["b=", &self.bwtype, ":"])?;
        uint(f, self.bandwidth)?;
        f.write_str("\r\n")
    }
}

impl Display for TypedTime {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        uint(f, self.value)?;
        match self.unit {
            Some(unit) => f.write_char(unit.letter()),
            None => Ok(()),
        }
    }
}

impl Display for Repeat {
    /// The `r=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("r=")?;
        self.interval.fmt(f)?;
        f.write_char(' ')?;
        self.duration.fmt(f)?;
        for offset in &self.offsets {
            f.write_char(' ')?;
            offset.fmt(f)?;
        }
        f.write_str("\r\n")
    }
}

impl Display for MediaDescription {
    /// The `m=` section: its `m=` line and every line below it, CRLF-terminated.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        strs(f, &["m=", self.kind.as_str(), " "])?;
        uint(f, self.port)?;
        if let Some(count) = self.port_count {
            f.write_char('/')?;
            uint(f, count)?;
        }
        strs(f, &[" ", &self.proto])?;
        for format in &self.formats {
            strs(f, &[" ", format])?;
        }
        f.write_str("\r\n")?;
        if let Some(title) = &self.title {
            strs(f, &["i=", title, "\r\n"])?;
        }
        for connection in &self.connections {
            connection.fmt(f)?;
        }
        for bandwidth in &self.bandwidths {
            bandwidth.fmt(f)?;
        }
        if let Some(key) = &self.encryption_key {
            strs(f, &["k=", key, "\r\n"])?;
        }
        for attribute in &self.attributes {
            attribute.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Decimal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Attribute {
    /// The `a=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        strs(f, &["a=", self.name()])?;
        self.write_value(f)?;
        f.write_str("\r\n")
    }
}

/// `<pt>` or `*`.
fn write_format(f: &mut Formatter<'_>, payload_type: Option<u8>) -> fmt::Result {
    match payload_type {
        Some(pt) => uint(f, pt),
        None => f.write_char('*'),
    }
}

/// ` <text>` if present.
fn write_opt(f: &mut Formatter<'_>, text: Option<&String>) -> fmt::Result {
    match text {
        Some(text) => strs(f, &[" ", text]),
        None => Ok(()),
    }
}

impl Attribute {
    /// Writes `:<value>` (nothing for flag attributes).
    fn write_value(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Group(g) => {
                strs(f, &[":", &g.semantics])?;
                g.mids.iter().try_for_each(|mid| strs(f, &[" ", mid]))
            }
            Self::Mid(v)
            | Self::IceUfrag(v)
            | Self::IcePwd(v)
            | Self::Candidate(v)
            | Self::RemoteCandidates(v)
            | Self::TlsId(v)
            | Self::Identity(v)
            | Self::Content(v)
            | Self::Label(v) => strs(f, &[":", v]),
            Self::Msid(m) => {
                strs(f, &[":", &m.stream_id])?;
                write_opt(f, m.track_id.as_ref())
            }
            Self::MsidSemantic(m) => {
                strs(f, &[": ", &m.semantic])?;
                m.identifiers.iter().try_for_each(|id| strs(f, &[" ", id]))
            }
            Self::IceOptions(options) => {
                f.write_char(':')?;
                write_joined(f, options, " ")
            }
            Self::IcePacing(v) | Self::Maxptime(v) => {
                f.write_char(':')?;
                uint(f, *v)
            }
            Self::Fingerprint(fp) => strs(f, &[":", &fp.algorithm, " ", &fp.value]),
            Self::Setup(s) => strs(f, &[":", s.as_str()]),
            Self::ConnectionMode(mode) => strs(f, &[":", mode.as_str()]),
            Self::Crypto(c) => {
                f.write_char(':')?;
                uint(f, c.tag)?;
                strs(f, &[" ", &c.suite, " ", &c.key_params])?;
                write_opt(f, c.session_params.as_ref())
            }
            Self::Rtpmap(r) => {
                f.write_char(':')?;
                uint(f, r.payload_type)?;
                strs(f, &[" ", &r.encoding])?;
                if r.clock_rate != 0 || r.channels.is_some() {
                    f.write_char('/')?;
                    uint(f, r.clock_rate)?;
                }
                match r.channels {
                    Some(channels) => {
                        f.write_char('/')?;
                        uint(f, channels)
                    }
                    None => Ok(()),
                }
            }
            Self::Fmtp(fmtp) => {
                f.write_char(':')?;
                uint(f, fmtp.payload_type)?;
                strs(f, &[" ", &fmtp.params])
            }
            Self::RtcpFb(fb) => {
                f.write_char(':')?;
                write_format(f, fb.payload_type)?;
                strs(f, &[" ", &fb.feedback])?;
                write_opt(f, fb.param.as_ref())
            }
            Self::Rtcp(rtcp) => {
                f.write_char(':')?;
                uint(f, rtcp.port)?;
                match &rtcp.connection {
                    Some(c) => {
                        f.write_char(' ')?;
                        write_address(f, c)
                    }
                    None => Ok(()),
                }
            }
            Self::Extmap(e) => write_extmap(f, e),
            Self::Ssrc(s) => {
                f.write_char(':')?;
                uint(f, s.id)?;
                if !s.attribute.is_empty() {
                    strs(f, &[" ", &s.attribute])?;
                }
                match &s.value {
                    Some(value) => strs(f, &[":", value]),
                    None => Ok(()),
                }
            }
            Self::SsrcGroup(g) => {
                strs(f, &[":", &g.semantics])?;
                g.ssrcs.iter().try_for_each(|ssrc| {
                    f.write_char(' ')?;
                    uint(f, *ssrc)
                })
            }
            Self::Rid(rid) => write_rid(f, rid),
            Self::Simulcast(s) => write_simulcast(f, s),
            Self::SctpPort(port) => {
                f.write_char(':')?;
                uint(f, *port)
            }
            Self::Sctpmap(m) => {
                f.write_char(':')?;
                uint(f, m.port)?;
                strs(f, &[" ", &m.protocol])?;
                match m.streams {
                    Some(streams) => {
                        f.write_char(' ')?;
                        uint(f, streams)
                    }
                    None => Ok(()),
                }
            }
            Self::MaxMessageSize(size) => {
                f.write_char(':')?;
                uint(f, *size)
            }
            Self::Ptime(d) | Self::Framerate(d) => strs(f, &[":", d.as_str()]),
            Self::ImageAttr(i) => {
                f.write_char(':')?;
                write_format(f, i.payload_type)?;
                strs(f, &[" ", &i.params])
            }
            Self::Unknown { value, .. } => match value {
                Some(value) => strs(f, &[":", value]),
                None => Ok(()),
            },
            Self::IceLite
            | Self::IceMismatch
            | Self::EndOfCandidates
            | Self::RtcpMux
            | Self::RtcpMuxOnly
            | Self::RtcpRsize
            | Self::ExtmapAllowMixed
            | Self::Direction(_)
            | Self::BundleOnly => Ok(()),
        }
    }
}

fn write_joined<T: Display>(f: &mut Formatter<'_>, items: &[T], separator: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

fn write_extmap(f: &mut Formatter<'_>, e: &Extmap) -> fmt::Result {
    f.write_char(':')?;
    uint(f, e.id)?;
    if let Some(direction) = e.direction {
        strs(f, &["/", direction.as_str()])?;
    }
    if e.encrypt {
        strs(f, &[" ", Extmap::ENCRYPT_URI])?;
    }
    strs(f, &[" ", &e.uri])?;
    write_opt(f, e.extension_attributes.as_ref())
}

fn write_rid(f: &mut Formatter<'_>, rid: &Rid) -> fmt::Result {
    strs(f, &[":", &rid.id, " ", rid.direction.as_str()])?;
    let mut separator = ' ';
    if !rid.formats.is_empty() {
        f.write_str(" pt=")?;
        for (i, pt) in rid.formats.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            uint(f, *pt)?;
        }
        separator = ';';
    }
    for restriction in &rid.restrictions {
        f.write_char(separator)?;
        f.write_str(&restriction.name)?;
        if let Some(value) = &restriction.value {
            strs(f, &["=", value])?;
        }
        separator = ';';
    }
    Ok(())
}

fn write_simulcast(f: &mut Formatter<'_>, s: &Simulcast) -> fmt::Result {
    f.write_char(':')?;
    let mut first = true;
    for (label, streams) in [("send", &s.send), ("recv", &s.recv)] {
        if streams.is_empty() {
            continue;
        }
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        strs(f, &[label, " "])?;
        for (i, alternatives) in streams.iter().enumerate() {
            if i > 0 {
                f.write_char(';')?;
            }
            for (j, stream) in alternatives.iter().enumerate() {
                if j > 0 {
                    f.write_char(',')?;
                }
                write_stream(f, stream)?;
            }
        }
    }
    Ok(())
}

fn write_stream(f: &mut Formatter<'_>, stream: &SimulcastStream) -> fmt::Result {
    if stream.paused {
        f.write_char('~')?;
    }
    f.write_str(&stream.rid)
}
