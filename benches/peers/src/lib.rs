//! Antiphon, str0m and webrtc-rs on the same offers: parse and createAnswer, each split into an
//! untimed setup and the measured operation, so the criterion bench (`benches/compare.rs`) and
//! the instruction and allocation counter (`src/main.rs`, run under callgrind) measure the same
//! code.
//!
//! The measured operation of each library, on offer text in:
//! * parse: `antiphon_sdp::parse` (typed, validated model) and `antiphon_sdp::view::parse_view`
//!   (borrowed); str0m `SdpOffer::from_sdp_string`.
//! * answer: Antiphon `Negotiator::set_remote_description` + `create_answer` down to the
//!   answer's text; str0m `sdp_api().accept_offer(SdpOffer::from_sdp_string(..))` +
//!   `to_sdp_string()` on an `Rtc` built beforehand with a premade certificate; webrtc-rs
//!   `set_remote_description` + `create_answer` on a fresh `RTCPeerConnection` (closed after).

pub mod str0m_net;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use antiphon_benches::{FixedEntropy, bench_transport, corpus_sdp};
use antiphon_codec::Capabilities;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Negotiator, RTCSessionDescriptionInit};
use antiphon_sdp::ParseOptions;
use str0m::Rtc;
use str0m::change::SdpOffer;
use str0m::config::DtlsCert;
use webrtc::api::API;
use webrtc::api::APIBuilder;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::certificate::RTCCertificate;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// Real Chromium and Firefox offers: the Chromium 156 offer bundled with the CLI, its data
/// channel alone, and browser offers of the shared corpus (audio, video, data, simulcast).
pub const OFFER_NAMES: &[&str] = &[
    "chromium156-audio-video-data",
    "chromium-data-only",
    "mozilla-test-chrome-audio-video-offer",
    "mozilla-test-firefox-video-offer",
    "mozilla-test-firefox-datachannel-offer",
    "mozilla-test-firefox52-audio-offer",
    "mozilla-test-firefox55-simulcast-offer",
    "libwebrtc-firefox-nightly-offer",
    "libwebrtc-fuzzcorpus-firefox46-1",
    "pion-chrome-datachannel-minimal-offer",
    "str0m-chrome-audio-offer",
    "str0m-firefox84-audio-offer",
    "aiortc-chrome-audio-offer",
    "aiortc-chrome-video-offer",
    "aiortc-firefox61-video-offer",
    "aiortc-firefox58-audio-offer",
    "libwebrtc-fuzzcorpus-chrome-simulcast-1",
];

/// The offer called `name` (one of [`OFFER_NAMES`]).
///
/// # Panics
///
/// If it cannot be read: a bench without its input must fail, not skip.
pub fn offer(name: &str) -> String {
    match name {
        "chromium156-audio-video-data" => antiphon_benches::chromium_offer(),
        "chromium-data-only" => antiphon_benches::data_only_offer(),
        other => corpus_sdp(&format!("{other}.sdp")),
    }
}

/// The libraries compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// This workspace's crates.
    Antiphon,
    /// str0m 0.25 with aws-lc-rs.
    Str0m,
    /// webrtc-rs (`webrtc` 0.17).
    WebrtcRs,
}

impl Library {
    /// Every library, in table order.
    pub const ALL: [Library; 3] = [Library::Antiphon, Library::Str0m, Library::WebrtcRs];

    /// Its name in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Library::Antiphon => "antiphon",
            Library::Str0m => "str0m",
            Library::WebrtcRs => "webrtc-rs",
        }
    }

    /// The library called `name`.
    pub fn from_name(name: &str) -> Option<Library> {
        Library::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// What a library needs, made once, to answer many times.
pub struct Answerers {
    transport: LocalTransport,
    str0m_cert: DtlsCert,
    webrtc_api: API,
    webrtc_cert: RTCCertificate,
    runtime: tokio::runtime::Runtime,
}

/// One answerer, built outside the measured region.
pub enum Answerer {
    /// A fresh negotiator.
    Antiphon(Negotiator),
    /// A fresh `Rtc` with the premade certificate.
    Str0m(Rtc),
    /// A fresh `RTCPeerConnection`.
    WebrtcRs(Arc<RTCPeerConnection>),
}

impl Answerers {
    /// Certificates, the webrtc-rs API (default codecs, mDNS off so nothing opens a socket) and a
    /// current-thread runtime for it.
    ///
    /// # Panics
    ///
    /// If a library cannot make its certificate or codecs.
    pub fn new() -> Answerers {
        let webrtc_cert = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(webrtc::Error::from)
            .and_then(RTCCertificate::from_key_pair)
            .unwrap_or_else(|e| panic!("webrtc-rs certificate: {e}"));
        let transport = bench_transport(
            webrtc_cert
                .get_fingerprints()
                .into_iter()
                .map(|f| antiphon_sdp::Fingerprint {
                    algorithm: f.algorithm,
                    value: f.value,
                })
                .collect(),
        );
        let provider = str0m::crypto::from_feature_flags();
        let str0m_cert = provider
            .dtls_provider
            .generate_certificate()
            .unwrap_or_else(|| panic!("str0m certificate"));
        let mut media = MediaEngine::default();
        media
            .register_default_codecs()
            .unwrap_or_else(|e| panic!("webrtc-rs codecs: {e}"));
        let mut settings = SettingEngine::default();
        settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
        let webrtc_api = APIBuilder::new()
            .with_media_engine(media)
            .with_setting_engine(settings)
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        Answerers {
            transport,
            str0m_cert,
            webrtc_api,
            webrtc_cert,
            runtime,
        }
    }

    /// A fresh answerer of `library` (the untimed setup).
    pub fn fresh(&self, library: Library) -> Answerer {
        match library {
            Library::Antiphon => Answerer::Antiphon(Negotiator::new(
                Capabilities::browser_default(),
                AnswerOptions::default(),
                Box::new(FixedEntropy(7)),
            )),
            Library::Str0m => Answerer::Str0m(
                Rtc::builder()
                    .set_dtls_cert(self.str0m_cert.clone())
                    .build(Instant::now()),
            ),
            Library::WebrtcRs => {
                let config = RTCConfiguration {
                    certificates: vec![self.webrtc_cert.clone()],
                    ..Default::default()
                };
                let pc = self
                    .runtime
                    .block_on(self.webrtc_api.new_peer_connection(config))
                    .unwrap_or_else(|e| panic!("webrtc-rs peer connection: {e}"));
                Answerer::WebrtcRs(Arc::new(pc))
            }
        }
    }

    /// The measured operation, [`answer`](Self::answer), in a function of its own that is never
    /// inlined: callgrind counts only inside it (`--toggle-collect=*timed_answer*`), so a
    /// warm-up through `answer` is not counted.
    #[inline(never)]
    pub fn timed_answer(&self, answerer: &mut Answerer, offer: &str) -> Result<String, String> {
        self.answer(answerer, offer)
    }

    /// `answerer` answers `offer`: the answer's text, or why the library refused the offer.
    pub fn answer(&self, answerer: &mut Answerer, offer: &str) -> Result<String, String> {
        let offer = black_box(offer);
        match answerer {
            Answerer::Antiphon(negotiator) => {
                let transport = &self.transport;
                negotiator
                    .set_remote_description(&RTCSessionDescriptionInit::offer(offer))
                    .and_then(|_| negotiator.create_answer(|_| transport.clone()))
                    .map(|answer| answer.sdp)
                    .map_err(|e| e.to_string())
            }
            Answerer::Str0m(rtc) => {
                let offer = SdpOffer::from_sdp_string(offer).map_err(|e| e.to_string())?;
                rtc.sdp_api()
                    .accept_offer(offer)
                    .map(|answer| answer.to_sdp_string())
                    .map_err(|e| e.to_string())
            }
            Answerer::WebrtcRs(pc) => self.runtime.block_on(async {
                let offer =
                    RTCSessionDescription::offer(offer.to_owned()).map_err(|e| e.to_string())?;
                pc.set_remote_description(offer)
                    .await
                    .map_err(|e| e.to_string())?;
                pc.create_answer(None)
                    .await
                    .map(|answer| answer.sdp)
                    .map_err(|e| e.to_string())
            }),
        }
    }

    /// Ends `answerer` (untimed): webrtc-rs connections are closed, so their tasks end.
    pub fn finish(&self, answerer: Answerer) {
        if let Answerer::WebrtcRs(pc) = answerer {
            let _ = self.runtime.block_on(pc.close());
        }
    }
}

impl Default for Answerers {
    fn default() -> Self {
        Answerers::new()
    }
}

/// [`parse`], never inlined, for callgrind's `--toggle-collect=*timed_parse*`.
#[inline(never)]
pub fn timed_parse(library: Library, typed: bool, offer: &str) -> Result<usize, String> {
    parse(library, typed, offer)
}

/// The parse of `library`: the number of media sections, or the error. Antiphon parses into
/// the typed model (`typed`) or the borrowed view.
pub fn parse(library: Library, typed: bool, offer: &str) -> Result<usize, String> {
    let offer = black_box(offer);
    match library {
        Library::Antiphon if typed => antiphon_sdp::parse_with(offer, &ParseOptions::lenient())
            .map(|parsed| parsed.description.media.len())
            .map_err(|e| e.to_string()),
        Library::Antiphon => antiphon_sdp::view::parse_view(offer, &ParseOptions::lenient())
            .map(|parsed| parsed.description.media.len())
            .map_err(|e| e.to_string()),
        // str0m's offer keeps its model private: handed to black_box, then dropped (as ours is).
        Library::Str0m => SdpOffer::from_sdp_string(offer)
            .map(|sdp| {
                black_box(sdp);
                1
            })
            .map_err(|e| e.to_string()),
        Library::WebrtcRs => {
            let mut reader = std::io::Cursor::new(offer.as_bytes());
            webrtc::sdp::SessionDescription::unmarshal(&mut reader)
                .map(|sdp| sdp.media_descriptions.len())
                .map_err(|e| e.to_string())
        }
    }
}
