//! The fixed inputs the answer benches give `Negotiator`, so that every bench and instruction
//! count answers the same way.

use antiphon_peer::Entropy;
use antiphon_peer::answer::LocalTransport;
use antiphon_sdp::Fingerprint;

/// A fixed-seed entropy source: every negotiation draws the same ICE credentials and session id,
/// so every iteration writes the same answer.
pub struct FixedEntropy(pub u64);

impl Entropy for FixedEntropy {
    fn next_u32(&mut self) -> u32 {
        self.0 += 1;
        // Truncation is intended: a cheap deterministic 32-bit mix.
        (self.0 as u32).wrapping_mul(2_654_435_761)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// The local transport the answer benches answer with: fixed ICE credentials, no candidates yet,
/// and `fingerprints` (a real certificate's, or any well-formed digest where the cost does not
/// depend on it).
pub fn bench_transport(fingerprints: Vec<Fingerprint>) -> LocalTransport {
    LocalTransport {
        ice_ufrag: "BnQx".to_owned(),
        ice_pwd: "u9jKc2Lx0TqZ4mWv8RyE1sNa".to_owned(),
        fingerprints,
        ..LocalTransport::default()
    }
}

/// A well-formed SHA-256 fingerprint that belongs to no certificate, for benches that never
/// connect.
pub fn placeholder_fingerprint() -> Fingerprint {
    Fingerprint {
        algorithm: "sha-256".to_owned(),
        value: (0..32)
            .map(|i| format!("{:02X}", i * 7 % 256))
            .collect::<Vec<_>>()
            .join(":"),
    }
}
