//! Instruction-count driver for `valgrind --tool=callgrind`: runs one operation `N` times on one
//! offer, and callgrind collects only inside the `measured_*` functions: the total divided by `N` is the instruction cost of one operation, unaffected by the
//! machine's load (wall-clock criterion numbers are noisy when other builds share the cores).
//!
//! ```sh
//! cargo build --profile bench -p antiphon-benches --example count
//! valgrind --tool=callgrind --toggle-collect='count::measured*' --toggle-collect='count::answer::measured*' \
//!     target/release/examples/count parse-antiphon chromium 200
//! ```
//!
//! Operations: `parse-antiphon`, `parse-antiphon-strict`, `parse-antiphon-view` (the zero-copy
//! view, lenient), `parse-webrtc-sdp`, `parse-sdp`,
//! `parse-sdp-types`, `answer-antiphon`, `answer-webrtc-rs`. Offers: `chromium`, `firefox`,
//! `data-only`, `64`, `candidates-N`.

#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::io::Cursor;

use antiphon_sdp::{ParseOptions, parse_view, parse_with};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, op, offer_name, n] = args.as_slice() else {
        panic!("usage: count OPERATION OFFER N");
    };
    let n: usize = n.parse().unwrap_or_else(|e| panic!("N: {e}"));
    let sdp = antiphon_benches::offer_by_name(offer_name);
    match op.as_str() {
        "parse-antiphon" => measured_parse_antiphon(&sdp, &ParseOptions::lenient(), n),
        "parse-antiphon-strict" => measured_parse_antiphon(&sdp, &ParseOptions::strict(), n),
        "parse-antiphon-view" => measured_parse_antiphon_view(&sdp, &ParseOptions::lenient(), n),
        "parse-webrtc-sdp" => measured_parse_webrtc_sdp(&sdp, n),
        "parse-sdp" => measured_parse_sdp(&sdp, n),
        "parse-sdp-types" => measured_parse_sdp_types(&sdp, n),
        "answer-antiphon" => answer::antiphon(&sdp, n),
        "answer-webrtc-rs" => answer::webrtc_rs(&sdp, n),
        other => panic!("unknown operation {other}"),
    }
    eprintln!("{op} {offer_name} x{n}: done");
}

#[inline(never)]
fn measured_parse_antiphon(sdp: &str, options: &ParseOptions, n: usize) {
    for _ in 0..n {
        drop(black_box(parse_with(black_box(sdp.as_bytes()), options)));
    }
}

#[inline(never)]
fn measured_parse_antiphon_view(sdp: &str, options: &ParseOptions, n: usize) {
    for _ in 0..n {
        drop(black_box(parse_view(black_box(sdp), options)));
    }
}

#[inline(never)]
fn measured_parse_webrtc_sdp(sdp: &str, n: usize) {
    for _ in 0..n {
        drop(black_box(webrtc_sdp::parse_sdp(black_box(sdp), false)));
    }
}

#[inline(never)]
fn measured_parse_sdp(sdp: &str, n: usize) {
    for _ in 0..n {
        drop(black_box(sdp::SessionDescription::unmarshal(
            &mut Cursor::new(black_box(sdp.as_bytes())),
        )));
    }
}

#[inline(never)]
fn measured_parse_sdp_types(sdp: &str, n: usize) {
    for _ in 0..n {
        drop(black_box(sdp_types::Session::parse(black_box(
            sdp.as_bytes(),
        ))));
    }
}

mod answer {
    use std::hint::black_box;

    use antiphon_codec::Capabilities;
    use antiphon_peer::answer::{AnswerOptions, LocalTransport};
    use antiphon_peer::{Negotiator, RTCSessionDescriptionInit};
    use webrtc::api::APIBuilder;
    use webrtc::api::media_engine::MediaEngine;
    use webrtc::api::setting_engine::SettingEngine;
    use webrtc::ice::mdns::MulticastDnsMode;
    use webrtc::peer_connection::RTCPeerConnection;
    use webrtc::peer_connection::certificate::RTCCertificate;
    use webrtc::peer_connection::configuration::RTCConfiguration;
    use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

    fn certificate() -> RTCCertificate {
        match rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(webrtc::Error::from)
            .and_then(RTCCertificate::from_key_pair)
        {
            Ok(certificate) => certificate,
            Err(e) => panic!("certificate: {e}"),
        }
    }

    /// Same transport as `benches/answer.rs`.
    fn transport(certificate: &RTCCertificate) -> LocalTransport {
        antiphon_benches::bench_transport(
            certificate
                .get_fingerprints()
                .into_iter()
                .map(|f| antiphon_sdp::Fingerprint {
                    algorithm: f.algorithm,
                    value: f.value,
                })
                .collect(),
        )
    }

    pub(crate) fn antiphon(sdp: &str, n: usize) {
        let transport = transport(&certificate());
        for _ in 0..n {
            let mut negotiator = Negotiator::new(
                Capabilities::browser_default(),
                AnswerOptions::default(),
                Box::new(antiphon_benches::FixedEntropy(7)),
            );
            black_box(measured_answer_antiphon(&mut negotiator, sdp, &transport));
        }
    }

    #[inline(never)]
    fn measured_answer_antiphon(
        negotiator: &mut Negotiator,
        offer: &str,
        transport: &LocalTransport,
    ) -> String {
        let applied =
            negotiator.set_remote_description(&RTCSessionDescriptionInit::offer(black_box(offer)));
        match applied.and_then(|_| negotiator.create_answer(|_| transport.clone())) {
            Ok(answer) => answer.sdp,
            Err(e) => panic!("antiphon refuses the offer: {e}"),
        }
    }

    pub(crate) fn webrtc_rs(sdp: &str, n: usize) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => panic!("tokio runtime: {e}"),
        };
        let certificate = certificate();
        let mut media = MediaEngine::default();
        if let Err(e) = media.register_default_codecs() {
            panic!("webrtc-rs default codecs: {e}");
        }
        let mut settings = SettingEngine::default();
        settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
        let api = APIBuilder::new()
            .with_media_engine(media)
            .with_setting_engine(settings)
            .build();
        for _ in 0..n {
            let config = RTCConfiguration {
                certificates: vec![certificate.clone()],
                ..Default::default()
            };
            let pc = match runtime.block_on(api.new_peer_connection(config)) {
                Ok(pc) => pc,
                Err(e) => panic!("webrtc-rs peer connection: {e}"),
            };
            black_box(measured_answer_webrtc_rs(&runtime, &pc, sdp));
            if let Err(e) = runtime.block_on(pc.close()) {
                panic!("webrtc-rs close: {e}");
            }
        }
    }

    #[inline(never)]
    fn measured_answer_webrtc_rs(
        runtime: &tokio::runtime::Runtime,
        pc: &RTCPeerConnection,
        offer: &str,
    ) -> String {
        let answer = runtime.block_on(async {
            let offer = RTCSessionDescription::offer(black_box(offer).to_owned())?;
            pc.set_remote_description(offer).await?;
            pc.create_answer(None).await
        });
        match answer {
            Ok(answer) => answer.sdp,
            Err(e) => panic!("webrtc-rs refuses the offer: {e}"),
        }
    }
}
