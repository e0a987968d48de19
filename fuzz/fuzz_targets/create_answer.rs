//! Arbitrary offers into setRemoteDescription + createAnswer: a typed error or an answer that
//! parses (leniently: a rejected section keeps an offered media type the strict grammar does not
//! know) and has one m= section per offered one.
#![no_main]

use antiphon_codec::Capabilities;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Entropy, Negotiator, RTCSessionDescriptionInit};
use libfuzzer_sys::fuzz_target;

struct Fixed(u64);

impl Entropy for Fixed {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        self.0 as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

fn transport(k: usize) -> LocalTransport {
    LocalTransport {
        ice_ufrag: format!("uf{k:02}"),
        ice_pwd: "0123456789012345678901".to_owned(),
        ..LocalTransport::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut negotiator = Negotiator::new(
        Capabilities::browser_default(),
        AnswerOptions::default(),
        Box::new(Fixed(1)),
    );
    if negotiator
        .set_remote_description(&RTCSessionDescriptionInit::offer(text))
        .is_err()
    {
        return;
    }
    let answer = negotiator
        .create_answer(transport)
        .expect("answer in have-remote-offer");
    let offered = negotiator
        .remote_description()
        .map(|d| d.parsed.media.len());
    let parsed = antiphon_sdp::parse_with(
        answer.sdp.as_bytes(),
        &antiphon_sdp::ParseOptions::lenient(),
    )
    .unwrap_or_else(|e| panic!("answer does not parse: {e}\n{}", answer.sdp));
    assert_eq!(Some(parsed.description.media.len()), offered);
});
