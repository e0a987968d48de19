//! Writing the model back to SDP text: CRLF lines in RFC 8866 order.

use std::fmt::{self, Display, Formatter, Write};

use crate::attribute::{Attribute, Decimal, Extmap, Rid, Simulcast, SimulcastStream};
use crate::model::{
    Bandwidth, Connection, MediaDescription, Origin, Repeat, SessionDescription, TypedTime,
};

impl Display for SessionDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v={}\r\n{}s={}\r\n",
            self.version, self.origin, self.session_name
        )?;
        if let Some(info) = &self.session_info {
            write!(f, "i={info}\r\n")?;
        }
        if let Some(uri) = &self.uri {
            write!(f, "u={uri}\r\n")?;
        }
        for email in &self.emails {
            write!(f, "e={email}\r\n")?;
        }
        for phone in &self.phones {
            write!(f, "p={phone}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            connection.fmt(f)?;
        }
        for bandwidth in &self.bandwidths {
            bandwidth.fmt(f)?;
        }
        for timing in &self.times {
            write!(f, "t={} {}\r\n", timing.start, timing.stop)?;
            for repeat in &timing.repeats {
                repeat.fmt(f)?;
            }
        }
        if let Some(zones) = &self.time_zones {
            write!(f, "z={zones}\r\n")?;
        }
        if let Some(key) = &self.encryption_key {
            write!(f, "k={key}\r\n")?;
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
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

impl Display for Connection {
    /// The `c=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "c={} {} {}\r\n",
            self.net_type, self.addr_type, self.address
        )
    }
}

impl Display for Bandwidth {
    /// The `b=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "b={}:{}\r\n", self.bwtype, self.bandwidth)
    }
}

impl Display for TypedTime {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        match self.unit {
            Some(unit) => f.write_char(unit.letter()),
            None => Ok(()),
        }
    }
}

impl Display for Repeat {
    /// The `r=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "r={} {}", self.interval, self.duration)?;
        for offset in &self.offsets {
            write!(f, " {offset}")?;
        }
        f.write_str("\r\n")
    }
}

impl Display for MediaDescription {
    /// The `m=` section: its `m=` line and every line below it, CRLF-terminated.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        if let Some(title) = &self.title {
            write!(f, "i={title}\r\n")?;
        }
        for connection in &self.connections {
            connection.fmt(f)?;
        }
        for bandwidth in &self.bandwidths {
            bandwidth.fmt(f)?;
        }
        if let Some(key) = &self.encryption_key {
            write!(f, "k={key}\r\n")?;
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
        write!(f, "a={}", self.name())?;
        self.write_value(f)?;
        f.write_str("\r\n")
    }
}

impl Attribute {
    /// Writes `:<value>` (nothing for flag attributes).
    fn write_value(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Group(g) => {
                write!(f, ":{}", g.semantics)?;
                for mid in &g.mids {
                    write!(f, " {mid}")?;
                }
                Ok(())
            }
            Self::Mid(v)
            | Self::IceUfrag(v)
            | Self::IcePwd(v)
            | Self::Candidate(v)
            | Self::RemoteCandidates(v)
            | Self::TlsId(v)
            | Self::Identity(v)
            | Self::Content(v)
            | Self::Label(v) => write!(f, ":{v}"),
            Self::Msid(m) => {
                write!(f, ":{}", m.stream_id)?;
                match &m.track_id {
                    Some(track) => write!(f, " {track}"),
                    None => Ok(()),
                }
            }
            Self::MsidSemantic(m) => {
                write!(f, ": {}", m.semantic)?;
                for id in &m.identifiers {
                    write!(f, " {id}")?;
                }
                Ok(())
            }
            Self::IceOptions(options) => {
                f.write_char(':')?;
                write_joined(f, options, " ")
            }
            Self::IcePacing(v) | Self::Maxptime(v) => write!(f, ":{v}"),
            Self::Fingerprint(fp) => write!(f, ":{} {}", fp.algorithm, fp.value),
            Self::Setup(s) => write!(f, ":{}", s.as_str()),
            Self::Rtpmap(r) => {
                write!(f, ":{} {}", r.payload_type, r.encoding)?;
                if r.clock_rate != 0 || r.channels.is_some() {
                    write!(f, "/{}", r.clock_rate)?;
                }
                match r.channels {
                    Some(channels) => write!(f, "/{channels}"),
                    None => Ok(()),
                }
            }
            Self::Fmtp(fmtp) => write!(f, ":{} {}", fmtp.payload_type, fmtp.params),
            Self::RtcpFb(fb) => {
                match fb.payload_type {
                    Some(pt) => write!(f, ":{pt} {}", fb.feedback)?,
                    None => write!(f, ":* {}", fb.feedback)?,
                }
                match &fb.param {
                    Some(param) => write!(f, " {param}"),
                    None => Ok(()),
                }
            }
            Self::Rtcp(rtcp) => {
                write!(f, ":{}", rtcp.port)?;
                match &rtcp.connection {
                    Some(c) => write!(f, " {} {} {}", c.net_type, c.addr_type, c.address),
                    None => Ok(()),
                }
            }
            Self::Extmap(e) => write_extmap(f, e),
            Self::Ssrc(s) => {
                write!(f, ":{}", s.id)?;
                if !s.attribute.is_empty() {
                    write!(f, " {}", s.attribute)?;
                }
                match &s.value {
                    Some(value) => write!(f, ":{value}"),
                    None => Ok(()),
                }
            }
            Self::SsrcGroup(g) => {
                write!(f, ":{}", g.semantics)?;
                for ssrc in &g.ssrcs {
                    write!(f, " {ssrc}")?;
                }
                Ok(())
            }
            Self::Rid(rid) => write_rid(f, rid),
            Self::Simulcast(s) => write_simulcast(f, s),
            Self::SctpPort(port) => write!(f, ":{port}"),
            Self::Sctpmap(m) => {
                write!(f, ":{} {}", m.port, m.protocol)?;
                match m.streams {
                    Some(streams) => write!(f, " {streams}"),
                    None => Ok(()),
                }
            }
            Self::MaxMessageSize(size) => write!(f, ":{size}"),
            Self::Ptime(d) | Self::Framerate(d) => write!(f, ":{d}"),
            Self::ImageAttr(i) => match i.payload_type {
                Some(pt) => write!(f, ":{pt} {}", i.params),
                None => write!(f, ":* {}", i.params),
            },
            Self::Unknown { value, .. } => match value {
                Some(value) => write!(f, ":{value}"),
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
    write!(f, ":{}", e.id)?;
    if let Some(direction) = e.direction {
        write!(f, "/{}", direction.as_str())?;
    }
    if e.encrypt {
        write!(f, " {}", Extmap::ENCRYPT_URI)?;
    }
    write!(f, " {}", e.uri)?;
    match &e.extension_attributes {
        Some(attributes) => write!(f, " {attributes}"),
        None => Ok(()),
    }
}

fn write_rid(f: &mut Formatter<'_>, rid: &Rid) -> fmt::Result {
    write!(f, ":{} {}", rid.id, rid.direction.as_str())?;
    let mut separator = ' ';
    if !rid.formats.is_empty() {
        f.write_str(" pt=")?;
        write_joined(f, &rid.formats, ",")?;
        separator = ';';
    }
    for restriction in &rid.restrictions {
        write!(f, "{separator}{}", restriction.name)?;
        if let Some(value) = &restriction.value {
            write!(f, "={value}")?;
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
        write!(f, "{label} ")?;
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
