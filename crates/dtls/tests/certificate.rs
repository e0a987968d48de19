//! Certificate generation, expiry, fingerprints and PEM persistence.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use antiphon_dtls::{
    Certificate, CertificateFingerprint, CertificateOptions, DEFAULT_VALIDITY, DtlsError,
    Fingerprint, HashAlgorithm, MAX_PEM_LEN, PemError,
};

/// A throwaway RSA-2048 key and self-signed certificate made with
/// `openssl req -x509 -newkey rsa:2048 -nodes` (PKCS#8 key).
const RSA_2048_PEM: &str = include_str!("data/rsa2048.pem");

fn generate_at(validity: Duration, now: SystemTime) -> Certificate {
    let options = CertificateOptions::default().with_validity(validity);
    match Certificate::generate_at(&options, now) {
        Ok(certificate) => certificate,
        Err(error) => panic!("generation failed: {error}"),
    }
}

fn unix(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn pem_block(tag: &str, contents: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, contents.to_vec()))
}

fn key_block(certificate: &Certificate) -> String {
    let bundle = pem::parse_many(certificate.to_pem()).expect("own PEM parses");
    let key = bundle
        .into_iter()
        .find(|block| block.tag() == "PRIVATE KEY")
        .expect("key block");
    pem::encode(&key)
}

#[test]
fn default_certificate_is_p256_for_30_days() {
    let now = SystemTime::now();
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("generate");
    assert_eq!(DEFAULT_VALIDITY, Duration::from_secs(30 * 86_400));
    let lifetime = certificate
        .expires()
        .duration_since(now)
        .expect("expires in the future");
    assert!(
        lifetime <= DEFAULT_VALIDITY && lifetime + Duration::from_secs(2) >= DEFAULT_VALIDITY,
        "{lifetime:?}"
    );
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.der()).expect("x509");
    // id-ecPublicKey with the prime256v1 curve.
    assert_eq!(
        parsed.public_key().algorithm.algorithm.to_id_string(),
        "1.2.840.10045.2.1"
    );
    let curve = parsed
        .public_key()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    assert_eq!(curve.as_deref(), Some("1.2.840.10045.3.1.7"));
    let not_after = parsed.validity().not_after.timestamp();
    let expires = certificate
        .expires()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch");
    assert_eq!(u64::try_from(not_after).ok(), Some(expires.as_secs()));
}

#[test]
fn fingerprints_cover_four_hashes_of_the_der() {
    let certificate = generate_at(DEFAULT_VALIDITY, SystemTime::now());
    let fingerprints = certificate.get_fingerprints();
    let algorithms: Vec<HashAlgorithm> = fingerprints.iter().map(|f| f.algorithm()).collect();
    assert_eq!(algorithms, HashAlgorithm::ALL.to_vec());
    for fingerprint in fingerprints {
        let algorithm = fingerprint.algorithm();
        assert_eq!(fingerprint.digest().len(), algorithm.digest_len());
        assert_eq!(
            *fingerprint,
            Fingerprint::of_der(algorithm, certificate.der())
        );
        assert_eq!(*fingerprint, certificate.fingerprint(algorithm));
        assert!(fingerprint.matches_der(certificate.der()));
    }
    let other = generate_at(DEFAULT_VALIDITY, SystemTime::now());
    assert_ne!(
        certificate.fingerprint(HashAlgorithm::Sha256),
        other.fingerprint(HashAlgorithm::Sha256)
    );
}

#[test]
fn expiry_is_honoured() {
    let now = unix(1_700_000_000) + Duration::from_millis(750);
    let certificate = generate_at(Duration::from_secs(3600), now);
    // X.509 dates have whole seconds: the expiry is truncated.
    assert_eq!(certificate.expires(), unix(1_700_003_600));
    assert!(!certificate.is_expired(now));
    assert!(!certificate.is_expired(unix(1_700_003_599)));
    assert!(certificate.is_expired(unix(1_700_003_600)));
    assert!(certificate.is_expired(unix(1_800_000_000)));

    let expired_already = generate_at(Duration::ZERO, unix(1_700_000_000));
    assert!(expired_already.is_expired(unix(1_700_000_000)));
}

#[test]
fn validity_out_of_range_is_refused() {
    let options = CertificateOptions::default().with_validity(Duration::MAX);
    assert_eq!(
        Certificate::generate_at(&options, SystemTime::now()).err(),
        Some(DtlsError::InvalidValidity {
            validity: Duration::MAX
        })
    );
}

#[test]
fn pem_round_trip_keeps_fingerprints_and_expiry() {
    let certificate = generate_at(Duration::from_secs(86_400 * 365), SystemTime::now());
    let text = certificate.to_pem();
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
    assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{text}");
    let reloaded = Certificate::from_pem(&text).expect("reload");
    assert_eq!(reloaded.der(), certificate.der());
    assert_eq!(reloaded.get_fingerprints(), certificate.get_fingerprints());
    assert_eq!(reloaded.expires(), certificate.expires());
    assert_eq!(reloaded.to_pem(), text);

    // Block order does not matter.
    let swapped = format!(
        "{}{}",
        key_block(&certificate),
        pem_block("CERTIFICATE", certificate.der())
    );
    let reloaded = Certificate::from_pem(&swapped).expect("reload swapped");
    assert_eq!(reloaded.get_fingerprints(), certificate.get_fingerprints());
}

#[test]
fn bad_pem_is_refused_with_a_typed_error() {
    let certificate = generate_at(DEFAULT_VALIDITY, SystemTime::now());
    let other = generate_at(DEFAULT_VALIDITY, SystemTime::now());
    let certificate_block = pem_block("CERTIFICATE", certificate.der());
    let key = key_block(&certificate);
    let other_key = key_block(&other);
    let table: Vec<(&str, String, DtlsError)> = vec![
        (
            "empty",
            String::new(),
            DtlsError::Pem(PemError::MissingCertificate),
        ),
        (
            "not pem",
            "hello world".to_owned(),
            DtlsError::Pem(PemError::MissingCertificate),
        ),
        (
            "broken armour",
            "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n".to_owned(),
            DtlsError::Pem(PemError::Unparsable),
        ),
        (
            "certificate only",
            certificate_block.clone(),
            DtlsError::Pem(PemError::MissingPrivateKey),
        ),
        (
            "key only",
            key.clone(),
            DtlsError::Pem(PemError::MissingCertificate),
        ),
        (
            "two certificates",
            format!("{certificate_block}{certificate_block}{key}"),
            DtlsError::Pem(PemError::DuplicateBlock),
        ),
        (
            "sec1 key",
            format!(
                "{certificate_block}{}",
                pem_block("EC PRIVATE KEY", b"\x30\x00")
            ),
            DtlsError::Pem(PemError::UnexpectedBlock),
        ),
        (
            "garbage key",
            format!(
                "{certificate_block}{}",
                pem_block("PRIVATE KEY", b"\x30\x03\x02\x01\x00")
            ),
            DtlsError::Pem(PemError::UnreadablePrivateKey),
        ),
        (
            "garbage certificate",
            format!("{}{key}", pem_block("CERTIFICATE", b"\x30\x03\x02\x01\x00")),
            DtlsError::CertificateParse,
        ),
        (
            "someone else's key",
            format!("{certificate_block}{other_key}"),
            DtlsError::KeyCertificateMismatch,
        ),
        (
            "too large",
            "A".repeat(MAX_PEM_LEN + 1),
            DtlsError::Pem(PemError::TooLarge),
        ),
        (
            "rsa-2048",
            RSA_2048_PEM.to_owned(),
            DtlsError::UnsupportedKeyAlgorithm,
        ),
    ];
    for (name, text, expected) in table {
        assert_eq!(Certificate::from_pem(&text).err(), Some(expected), "{name}");
    }
}

/// Why RSA-2048 is not generated: rcgen on ring cannot make an RSA key.
#[test]
fn ring_cannot_generate_rsa_keys() {
    let blocks = pem::parse_many(RSA_2048_PEM).expect("fixture parses");
    let key = blocks
        .into_iter()
        .find(|block| block.tag() == "PRIVATE KEY")
        .expect("key")
        .into_contents();
    let key_pair = rcgen::KeyPair::try_from(key.as_slice()).expect("ring loads RSA");
    assert!(key_pair.is_compatible(&rcgen::PKCS_RSA_SHA256));
    assert_eq!(
        rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).err(),
        Some(rcgen::Error::KeyGenerationUnavailable)
    );
}
