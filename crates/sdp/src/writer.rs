//! Writing the model back to SDP text: CRLF lines in RFC 8866 order.
//!
//! One writer serves two sinks: a `String` that it appends to directly
//! ([`SessionDescription::write_to`], what the answer path uses), and a `Formatter` for the
//! `Display` impls. Appending straight to a `String` skips `core::fmt`'s dynamic dispatch per
//! piece, which was most of the cost of writing an answer.

use std::fmt::{self, Display, Formatter};

use crate::attribute::{Attribute, Extmap, Rid, Simulcast, SimulcastStream};
use crate::model::{
    Bandwidth, Connection, MediaDescription, Origin, Repeat, SessionDescription, TypedTime,
};

/// Where the writer appends its text.
trait Sink {
    /// Appends `text`.
    fn put(&mut self, text: &str);

    /// Appends one ASCII character.
    fn put_char(&mut self, c: char);

    /// Appends an unsigned integer in decimal, without the `core::fmt` machinery (numbers are on
    /// the writer's hot path: ports, payload types, SSRCs, priorities).
    fn put_uint(&mut self, value: impl Into<u64>) {
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
        // Digit by digit: cheaper than validating the buffer as UTF-8 for one `put`.
        for &digit in digits.get(digits.len() - len..).unwrap_or_default() {
            self.put_char(char::from(digit));
        }
    }

    /// Appends each piece in turn.
    fn puts(&mut self, pieces: &[&str]) {
        for piece in pieces {
            self.put(piece);
        }
    }
}

impl Sink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }

    fn put_char(&mut self, c: char) {
        self.push(c);
    }
}

/// A `Formatter` as a sink: keeps the first error and writes nothing after it.
struct FormatterSink<'a, 'b> {
    f: &'a mut Formatter<'b>,
    result: fmt::Result,
}

impl Sink for FormatterSink<'_, '_> {
    fn put(&mut self, text: &str) {
        if self.result.is_ok() {
            self.result = self.f.write_str(text);
        }
    }

    fn put_char(&mut self, c: char) {
        if self.result.is_ok() {
            self.result = fmt::Write::write_char(self.f, c);
        }
    }
}

/// Runs `write` against `f`.
fn display(f: &mut Formatter<'_>, write: impl FnOnce(&mut FormatterSink<'_, '_>)) -> fmt::Result {
    let mut sink = FormatterSink { f, result: Ok(()) };
    write(&mut sink);
    sink.result
}

impl SessionDescription {
    /// Appends the description as SDP text (what `to_string()` returns) to `out`.
    ///
    /// Faster than going through [`Display`]: the text is appended with `push_str` instead of
    /// `core::fmt`. Reserve capacity in `out` first to avoid regrowing it line by line.
    pub fn write_to(&self, out: &mut String) {
        write_session(out, self);
    }
}

impl MediaDescription {
    /// Appends the `m=` section as SDP text (what `to_string()` returns) to `out`.
    pub fn write_to(&self, out: &mut String) {
        write_media(out, self);
    }
}

impl Attribute {
    /// Appends the `a=` line with CRLF (what `to_string()` returns) to `out`.
    pub fn write_to(&self, out: &mut String) {
        write_attribute(out, self);
    }
}

impl Display for SessionDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_session(out, self))
    }
}

impl Display for Origin {
    /// The `o=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_origin(out, self))
    }
}

impl Display for Connection {
    /// The `c=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_connection(out, self))
    }
}

impl Display for Bandwidth {
    /// The `b=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_bandwidth(out, self))
    }
}

impl Display for TypedTime {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_typed_time(out, self))
    }
}

impl Display for Repeat {
    /// The `r=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_repeat(out, self))
    }
}

impl Display for MediaDescription {
    /// The `m=` section: its `m=` line and every line below it, CRLF-terminated.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_media(out, self))
    }
}

impl Display for crate::attribute::Decimal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Attribute {
    /// The `a=` line with CRLF.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        display(f, |out| write_attribute(out, self))
    }
}

fn write_session(out: &mut impl Sink, d: &SessionDescription) {
    out.put("v=");
    out.put_uint(d.version);
    out.put("\r\n");
    write_origin(out, &d.origin);
    out.puts(&["s=", &d.session_name, "\r\n"]);
    if let Some(info) = &d.session_info {
        out.puts(&["i=", info, "\r\n"]);
    }
    if let Some(uri) = &d.uri {
        out.puts(&["u=", uri, "\r\n"]);
    }
    for email in &d.emails {
        out.puts(&["e=", email, "\r\n"]);
    }
    for phone in &d.phones {
        out.puts(&["p=", phone, "\r\n"]);
    }
    if let Some(connection) = &d.connection {
        write_connection(out, connection);
    }
    for bandwidth in &d.bandwidths {
        write_bandwidth(out, bandwidth);
    }
    for timing in &d.times {
        out.put("t=");
        out.put_uint(timing.start);
        out.put_char(' ');
        out.put_uint(timing.stop);
        out.put("\r\n");
        for repeat in &timing.repeats {
            write_repeat(out, repeat);
        }
    }
    if let Some(zones) = &d.time_zones {
        out.puts(&["z=", zones, "\r\n"]);
    }
    if let Some(key) = &d.encryption_key {
        out.puts(&["k=", key, "\r\n"]);
    }
    for attribute in &d.attributes {
        write_attribute(out, attribute);
    }
    for media in &d.media {
        write_media(out, media);
    }
}

/// The `o=` line with CRLF.
fn write_origin(out: &mut impl Sink, o: &Origin) {
    out.puts(&["o=", &o.username, " "]);
    out.put_uint(o.session_id);
    out.put_char(' ');
    out.put_uint(o.session_version);
    out.puts(&[" ", &o.net_type, " ", &o.addr_type, " ", &o.address, "\r\n"]);
}

/// The `c=` line with CRLF.
fn write_connection(out: &mut impl Sink, c: &Connection) {
    out.put("c=");
    write_address(out, c);
    out.put("\r\n");
}

/// `<nettype> <addrtype> <address>`
fn write_address(out: &mut impl Sink, c: &Connection) {
    out.puts(&[&c.net_type, " ", &c.addr_type, " ", &c.address]);
}

/// The `b=` line with CRLF.
fn write_bandwidth(out: &mut impl Sink, b: &Bandwidth) {
    out.puts(&["b=", &b.bwtype, ":"]);
    out.put_uint(b.bandwidth);
    out.put("\r\n");
}

fn write_typed_time(out: &mut impl Sink, t: &TypedTime) {
    out.put_uint(t.value);
    if let Some(unit) = t.unit {
        out.put_char(unit.letter());
    }
}

/// The `r=` line with CRLF.
fn write_repeat(out: &mut impl Sink, r: &Repeat) {
    out.put("r=");
    write_typed_time(out, &r.interval);
    out.put_char(' ');
    write_typed_time(out, &r.duration);
    for offset in &r.offsets {
        out.put_char(' ');
        write_typed_time(out, offset);
    }
    out.put("\r\n");
}

/// The `m=` section: its `m=` line and every line below it, CRLF-terminated.
fn write_media(out: &mut impl Sink, m: &MediaDescription) {
    out.puts(&["m=", m.kind.as_str(), " "]);
    out.put_uint(m.port);
    if let Some(count) = m.port_count {
        out.put_char('/');
        out.put_uint(count);
    }
    out.puts(&[" ", &m.proto]);
    for format in &m.formats {
        out.puts(&[" ", format]);
    }
    out.put("\r\n");
    if let Some(title) = &m.title {
        out.puts(&["i=", title, "\r\n"]);
    }
    for connection in &m.connections {
        write_connection(out, connection);
    }
    for bandwidth in &m.bandwidths {
        write_bandwidth(out, bandwidth);
    }
    if let Some(key) = &m.encryption_key {
        out.puts(&["k=", key, "\r\n"]);
    }
    for attribute in &m.attributes {
        write_attribute(out, attribute);
    }
}

/// The `a=` line with CRLF.
fn write_attribute(out: &mut impl Sink, a: &Attribute) {
    out.puts(&["a=", a.name()]);
    write_value(out, a);
    out.put("\r\n");
}

/// `<pt>` or `*`.
fn write_format(out: &mut impl Sink, payload_type: Option<u8>) {
    match payload_type {
        Some(pt) => out.put_uint(pt),
        None => out.put_char('*'),
    }
}

/// ` <text>` if present.
fn write_opt(out: &mut impl Sink, text: Option<&str>) {
    if let Some(text) = text {
        out.puts(&[" ", text]);
    }
}

/// Writes `:<value>` (nothing for flag attributes).
fn write_value(out: &mut impl Sink, a: &Attribute) {
    match a {
        Attribute::Group(g) => {
            out.puts(&[":", &g.semantics]);
            for mid in &g.mids {
                out.puts(&[" ", mid]);
            }
        }
        Attribute::Mid(v)
        | Attribute::IceUfrag(v)
        | Attribute::IcePwd(v)
        | Attribute::Candidate(v)
        | Attribute::RemoteCandidates(v)
        | Attribute::TlsId(v)
        | Attribute::Identity(v)
        | Attribute::Content(v)
        | Attribute::Label(v) => out.puts(&[":", v]),
        Attribute::Msid(m) => {
            out.puts(&[":", &m.stream_id]);
            write_opt(out, m.track_id.as_deref());
        }
        Attribute::MsidSemantic(m) => {
            out.puts(&[": ", &m.semantic]);
            for id in &m.identifiers {
                out.puts(&[" ", id]);
            }
        }
        Attribute::IceOptions(options) => {
            out.put_char(':');
            for (i, option) in options.iter().enumerate() {
                if i > 0 {
                    out.put_char(' ');
                }
                out.put(option);
            }
        }
        Attribute::IcePacing(v) | Attribute::Maxptime(v) => {
            out.put_char(':');
            out.put_uint(*v);
        }
        Attribute::Fingerprint(fp) => out.puts(&[":", &fp.algorithm, " ", &fp.value]),
        Attribute::Setup(s) => out.puts(&[":", s.as_str()]),
        Attribute::ConnectionMode(mode) => out.puts(&[":", mode.as_str()]),
        Attribute::Crypto(c) => {
            out.put_char(':');
            out.put_uint(c.tag);
            out.puts(&[" ", &c.suite, " ", &c.key_params]);
            write_opt(out, c.session_params.as_deref());
        }
        Attribute::Rtpmap(r) => {
            out.put_char(':');
            out.put_uint(r.payload_type);
            out.puts(&[" ", &r.encoding]);
            if r.clock_rate != 0 || r.channels.is_some() {
                out.put_char('/');
                out.put_uint(r.clock_rate);
            }
            if let Some(channels) = r.channels {
                out.put_char('/');
                out.put_uint(channels);
            }
        }
        Attribute::Fmtp(fmtp) => {
            out.put_char(':');
            out.put_uint(fmtp.payload_type);
            out.puts(&[" ", &fmtp.params]);
        }
        Attribute::RtcpFb(fb) => {
            out.put_char(':');
            write_format(out, fb.payload_type);
            out.puts(&[" ", &fb.feedback]);
            write_opt(out, fb.param.as_deref());
        }
        Attribute::Rtcp(rtcp) => {
            out.put_char(':');
            out.put_uint(rtcp.port);
            if let Some(c) = &rtcp.connection {
                out.put_char(' ');
                write_address(out, c);
            }
        }
        Attribute::Extmap(e) => write_extmap(out, e),
        Attribute::Ssrc(s) => {
            out.put_char(':');
            out.put_uint(s.id);
            if !s.attribute.is_empty() {
                out.puts(&[" ", &s.attribute]);
            }
            if let Some(value) = &s.value {
                out.puts(&[":", value]);
            }
        }
        Attribute::SsrcGroup(g) => {
            out.puts(&[":", &g.semantics]);
            for ssrc in &g.ssrcs {
                out.put_char(' ');
                out.put_uint(*ssrc);
            }
        }
        Attribute::Rid(rid) => write_rid(out, rid),
        Attribute::Simulcast(s) => write_simulcast(out, s),
        Attribute::SctpPort(port) => {
            out.put_char(':');
            out.put_uint(*port);
        }
        Attribute::Sctpmap(m) => {
            out.put_char(':');
            out.put_uint(m.port);
            out.puts(&[" ", &m.protocol]);
            if let Some(streams) = m.streams {
                out.put_char(' ');
                out.put_uint(streams);
            }
        }
        Attribute::MaxMessageSize(size) => {
            out.put_char(':');
            out.put_uint(*size);
        }
        Attribute::Ptime(d) | Attribute::Framerate(d) => out.puts(&[":", d.as_str()]),
        Attribute::ImageAttr(i) => {
            out.put_char(':');
            write_format(out, i.payload_type);
            out.puts(&[" ", &i.params]);
        }
        Attribute::Unknown { value, .. } => {
            if let Some(value) = value {
                out.puts(&[":", value]);
            }
        }
        Attribute::IceLite
        | Attribute::IceMismatch
        | Attribute::EndOfCandidates
        | Attribute::RtcpMux
        | Attribute::RtcpMuxOnly
        | Attribute::RtcpRsize
        | Attribute::ExtmapAllowMixed
        | Attribute::Direction(_)
        | Attribute::BundleOnly => {}
    }
}

fn write_extmap(out: &mut impl Sink, e: &Extmap) {
    out.put_char(':');
    out.put_uint(e.id);
    if let Some(direction) = e.direction {
        out.puts(&["/", direction.as_str()]);
    }
    if e.encrypt {
        out.puts(&[" ", Extmap::ENCRYPT_URI]);
    }
    out.puts(&[" ", &e.uri]);
    write_opt(out, e.extension_attributes.as_deref());
}

fn write_rid(out: &mut impl Sink, rid: &Rid) {
    out.puts(&[":", &rid.id, " ", rid.direction.as_str()]);
    let mut separator = ' ';
    if !rid.formats.is_empty() {
        out.put(" pt=");
        for (i, pt) in rid.formats.iter().enumerate() {
            if i > 0 {
                out.put_char(',');
            }
            out.put_uint(*pt);
        }
        separator = ';';
    }
    for restriction in &rid.restrictions {
        out.put_char(separator);
        out.put(&restriction.name);
        if let Some(value) = &restriction.value {
            out.puts(&["=", value]);
        }
        separator = ';';
    }
}

fn write_simulcast(out: &mut impl Sink, s: &Simulcast) {
    out.put_char(':');
    let mut first = true;
    for (label, streams) in [("send", &s.send), ("recv", &s.recv)] {
        if streams.is_empty() {
            continue;
        }
        if !first {
            out.put_char(' ');
        }
        first = false;
        out.puts(&[label, " "]);
        for (i, alternatives) in streams.iter().enumerate() {
            if i > 0 {
                out.put_char(';');
            }
            for (j, stream) in alternatives.iter().enumerate() {
                if j > 0 {
                    out.put_char(',');
                }
                write_stream(out, stream);
            }
        }
    }
}

fn write_stream(out: &mut impl Sink, stream: &SimulcastStream) {
    if stream.paused {
        out.put_char('~');
    }
    out.put(&stream.rid);
}
