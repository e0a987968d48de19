//! SRTP protect and unprotect, per packet, for the profiles WebRTC negotiates: Antiphon's
//! `SrtpSession` (what the connection core runs: rtc-srtp plus a copy into the datagram),
//! webrtc-rs's sans-IO `rtc-srtp` bare (ring), and webrtc-rs's async-line `webrtc-srtp` 0.17
//! (RustCrypto). Audio-sized (160-byte payload) and video-sized (1,200-byte) packets.
//!
//! Unprotect runs over a window of distinct protected packets, so the replay check sees new
//! sequence numbers every time (a context refuses a packet it has seen).

use std::hint::black_box;

use antiphon_benches::rtp_packet as rtp;
use antiphon_dtls::{DtlsRole, SrtpKeyingMaterial, SrtpProfile};
use antiphon_peer::core::{MediaCounters, MediaPacket, SrtpSession};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Distinct packets per unprotect round (sequence numbers 0..WINDOW, then new contexts).
const WINDOW: u16 = 4096;

fn material(profile: SrtpProfile) -> SrtpKeyingMaterial {
    let bytes: Vec<u8> = (0..profile.keying_material_len())
        .map(|i| (i * 13 % 256) as u8)
        .collect();
    SrtpKeyingMaterial::split(profile, &bytes).expect("material")
}

fn rtc_profile(profile: SrtpProfile) -> rtc_srtp::protection_profile::ProtectionProfile {
    use rtc_srtp::protection_profile::ProtectionProfile as P;
    match profile {
        SrtpProfile::AeadAes128Gcm => P::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm => P::AeadAes256Gcm,
        _ => P::Aes128CmHmacSha1_80,
    }
}

fn webrtc_profile(profile: SrtpProfile) -> webrtc_srtp::protection_profile::ProtectionProfile {
    use webrtc_srtp::protection_profile::ProtectionProfile as P;
    match profile {
        SrtpProfile::AeadAes128Gcm => P::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm => P::AeadAes256Gcm,
        _ => P::Aes128CmHmacSha1_80,
    }
}

fn rtc_context(profile: SrtpProfile, replay: bool) -> rtc_srtp::context::Context {
    let keys = material(profile);
    let keys = keys.client_write();
    let provider = rtc_srtp::crypto::default_provider().expect("ring");
    let option = replay.then(|| rtc_srtp::option::srtp_replay_protection(512));
    rtc_srtp::context::Context::new(
        keys.key(),
        keys.salt(),
        rtc_profile(profile),
        option,
        None,
        provider.crypto(),
    )
    .expect("context")
}

fn webrtc_context(profile: SrtpProfile, replay: bool) -> webrtc_srtp::context::Context {
    let keys = material(profile);
    let keys = keys.client_write();
    let option = replay.then(|| webrtc_srtp::option::srtp_replay_protection(512));
    webrtc_srtp::context::Context::new(
        keys.key(),
        keys.salt(),
        webrtc_profile(profile),
        option,
        None,
    )
    .expect("context")
}

const PROFILES: [SrtpProfile; 2] = [SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmHmacSha1_80];
const PAYLOADS: [usize; 2] = [160, 1200];

fn bench_protect(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp/protect");
    for profile in PROFILES {
        for payload in PAYLOADS {
            group.throughput(Throughput::Elements(1));
            let name = format!("{}/{payload}", profile.name());
            let packet = Bytes::from(rtp(1, payload));
            let mut session = SrtpSession::new(DtlsRole::Client, &material(profile)).expect("keys");
            let mut counters = MediaCounters::default();
            let media = MediaPacket::Rtp(packet.clone());
            group.bench_function(BenchmarkId::new("antiphon", &name), |b| {
                b.iter(|| {
                    session
                        .protect(black_box(&media), &mut counters)
                        .expect("protect")
                })
            });
            let mut rtc = rtc_context(profile, false);
            group.bench_function(BenchmarkId::new("rtc-srtp", &name), |b| {
                b.iter(|| rtc.encrypt_rtp(black_box(&packet)).expect("protect"))
            });
            let mut webrtc = webrtc_context(profile, false);
            group.bench_function(BenchmarkId::new("webrtc-srtp", &name), |b| {
                b.iter(|| webrtc.encrypt_rtp(black_box(&packet)).expect("protect"))
            });
        }
    }
    group.finish();
}

/// `WINDOW` packets protected once; each iteration unprotects the next one, and a fresh
/// receiving context takes over when the window is used up (outside the timed part is not
/// possible per iteration, so the rebuild is amortised over `WINDOW` packets).
fn bench_unprotect(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp/unprotect");
    for profile in PROFILES {
        for payload in PAYLOADS {
            group.throughput(Throughput::Elements(1));
            let name = format!("{}/{payload}", profile.name());
            let keys = material(profile);
            let mut sender = SrtpSession::new(DtlsRole::Client, &keys).expect("keys");
            let mut counters = MediaCounters::default();
            let protected: Vec<Vec<u8>> = (0..WINDOW)
                .map(|seq| {
                    let media = MediaPacket::Rtp(Bytes::from(rtp(seq, payload)));
                    sender.protect(&media, &mut counters).expect("protect")
                })
                .collect();

            let mut receiver = SrtpSession::new(DtlsRole::Server, &keys).expect("keys");
            let mut next = 0usize;
            group.bench_function(BenchmarkId::new("antiphon", &name), |b| {
                b.iter(|| {
                    if next == protected.len() {
                        receiver = SrtpSession::new(DtlsRole::Server, &keys).expect("keys");
                        next = 0;
                    }
                    next += 1;
                    receiver
                        .unprotect(black_box(&protected[next - 1]), &mut counters)
                        .expect("unprotect")
                })
            });
            let mut rtc = rtc_context(profile, true);
            let mut next = 0usize;
            group.bench_function(BenchmarkId::new("rtc-srtp", &name), |b| {
                b.iter(|| {
                    if next == protected.len() {
                        rtc = rtc_context(profile, true);
                        next = 0;
                    }
                    next += 1;
                    rtc.decrypt_rtp(black_box(&protected[next - 1]))
                        .expect("unprotect")
                })
            });
            let mut webrtc = webrtc_context(profile, true);
            let mut next = 0usize;
            group.bench_function(BenchmarkId::new("webrtc-srtp", &name), |b| {
                b.iter(|| {
                    if next == protected.len() {
                        webrtc = webrtc_context(profile, true);
                        next = 0;
                    }
                    next += 1;
                    webrtc
                        .decrypt_rtp(black_box(&protected[next - 1]))
                        .expect("unprotect")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_protect, bench_unprotect);
criterion_main!(benches);
